// The test provider and the scripted client on their own (no authgate):
// a hand-made relying party drives an authorization-code login through
// the provider's real login and consent pages, then the token endpoint,
// userinfo, refresh and RP-initiated logout.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { startIdp, CLIENT_ID, CLIENT_SECRET } from '../lib/stack.mjs';
import { Browser, completeProviderLogin, isLogoutConfirmPage } from '../lib/client.mjs';
import { freePort } from '../lib/procs.mjs';

let idp, rp, rpUrl, disc;

before(async () => {
	const port = await freePort();
	rpUrl = `http://127.0.0.1:${port}`;
	// The relying party's pages just say where they were reached.
	rp = http.createServer((req, res) => {
		res.setHeader('content-type', 'text/plain');
		res.end(`rp ${req.url}\n`);
	});
	await new Promise((r) => rp.listen(port, '127.0.0.1', r));
	idp = await startIdp({
		redirectUris: [`${rpUrl}/cb`],
		postLogoutRedirectUris: [`${rpUrl}/bye`],
	});
	disc = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
});

after(async () => {
	await idp?.stop();
	rp?.close();
});

function b64json(part) {
	return JSON.parse(Buffer.from(part, 'base64url').toString());
}

async function tokenRequest(params) {
	const res = await fetch(disc.token_endpoint, {
		method: 'POST',
		headers: {
			authorization: 'Basic ' + Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64'),
			'content-type': 'application/x-www-form-urlencoded',
		},
		body: new URLSearchParams(params),
	});
	return { status: res.status, body: await res.json() };
}

async function authorize(browser, user, extra = {}) {
	const verifier = crypto.randomBytes(32).toString('base64url');
	const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
	const state = crypto.randomBytes(8).toString('hex');
	const nonce = crypto.randomBytes(8).toString('hex');
	const u = new URL(disc.authorization_endpoint);
	u.search = new URLSearchParams({
		client_id: CLIENT_ID, response_type: 'code', redirect_uri: `${rpUrl}/cb`,
		scope: 'openid profile email offline_access', state, nonce,
		code_challenge: challenge, code_challenge_method: 'S256', ...extra,
	}).toString();
	const res = await completeProviderLogin(browser, await browser.get(u.href), user);
	return { res, verifier, state, nonce };
}

test('discovery names the endpoints authgate needs', () => {
	assert.equal(disc.issuer, idp.issuer);
	for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint',
	    'jwks_uri', 'end_session_endpoint', 'revocation_endpoint'])
		assert.ok(disc[k], k);
	assert.equal(disc.backchannel_logout_supported, true);
});

test('scripted login as alice: code, tokens, claims, refresh, logout', async () => {
	const browser = new Browser();
	const { res, verifier, state, nonce } = await authorize(browser, 'alice');
	const cb = new URL(res.url);
	assert.equal(res.status, 200, res.text);
	assert.equal(cb.pathname, '/cb');
	assert.equal(cb.searchParams.get('state'), state);
	assert.equal(cb.searchParams.get('iss'), idp.issuer);
	const code = cb.searchParams.get('code');
	assert.ok(code);

	const t = await tokenRequest({
		grant_type: 'authorization_code', code, redirect_uri: `${rpUrl}/cb`,
		code_verifier: verifier,
	});
	assert.equal(t.status, 200, JSON.stringify(t.body));
	assert.ok(t.body.access_token);
	assert.ok(t.body.refresh_token, 'refresh token issued');
	const claims = b64json(t.body.id_token.split('.')[1]);
	assert.equal(claims.sub, 'alice');
	assert.equal(claims.name, 'Alice Example');
	assert.equal(claims.email, 'alice@example.com');
	assert.equal(claims.email_verified, true);
	assert.deepEqual(claims.roles, ['admin', 'staff']);
	assert.equal(claims.nonce, nonce);
	assert.ok(claims.sid);
	assert.equal(b64json(t.body.id_token.split('.')[0]).alg, 'RS256');

	const ui = await fetch(disc.userinfo_endpoint, {
		headers: { authorization: `Bearer ${t.body.access_token}` },
	});
	assert.equal(ui.status, 200);
	assert.equal((await ui.json()).name, 'Alice Example');

	const before = await idp.stats();
	const r = await tokenRequest({ grant_type: 'refresh_token', refresh_token: t.body.refresh_token });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.ok(r.body.access_token);
	const afterStats = await idp.stats();
	assert.equal((afterStats.token.refresh_token || 0) - (before.token.refresh_token || 0), 1);
	assert.ok(afterStats.token.authorization_code >= 1);

	// RP-initiated logout through the confirmation page.
	const lo = new URL(disc.end_session_endpoint);
	lo.search = new URLSearchParams({
		id_token_hint: t.body.id_token, post_logout_redirect_uri: `${rpUrl}/bye`,
		state: 'xyz',
	}).toString();
	let page = await browser.get(lo.href);
	assert.ok(isLogoutConfirmPage(page), page.text);
	page = await browser.submit(page, { button: { name: 'logout', value: 'yes' } });
	assert.equal(new URL(page.url).pathname, '/bye');
	assert.equal(new URL(page.url).searchParams.get('state'), 'xyz');
});

test('bob and an unknown user get their claims', async () => {
	for (const [user, name, email] of [['bob', 'Bob Example', 'bob@example.com'], ['carol', 'carol', undefined]]) {
		const browser = new Browser();
		const { res, verifier } = await authorize(browser, user);
		const code = new URL(res.url).searchParams.get('code');
		const t = await tokenRequest({
			grant_type: 'authorization_code', code, redirect_uri: `${rpUrl}/cb`,
			code_verifier: verifier,
		});
		const c = b64json(t.body.id_token.split('.')[1]);
		assert.equal(c.sub, user);
		assert.equal(c.name, name);
		assert.equal(c.email, email);
	}
});

test('an unregistered redirect_uri is refused at the provider', async () => {
	const browser = new Browser();
	const u = new URL(disc.authorization_endpoint);
	u.search = new URLSearchParams({
		client_id: CLIENT_ID, response_type: 'code', redirect_uri: 'http://127.0.0.1:1/evil',
		scope: 'openid', state: 's',
	}).toString();
	const res = await browser.get(u.href);
	assert.equal(res.status, 400);
	assert.match(res.text, /redirect_uri/);
});
