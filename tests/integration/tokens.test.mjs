// GET /auth/access-token end to end (reference 4.6 and 8), in both
// session modes: the token handed out is a JWT the test API accepts for
// the configured audience (sent to the provider as an RFC 8707
// resource); it is refreshed once it expires, on refresh=true, and for
// a second audience (tokens per audience kept in the session, one
// refresh token for all); a refresh token revoked at the provider gives
// 401 failed_to_refresh_token while the session stays readable; every
// answer has Cache-Control: no-store.
//
// The provider's access tokens live TTL seconds; the tests wait them out.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, CookieJar, login, parseSetCookie } from '../lib/client.mjs';
import {
	API_AUDIENCE, ANALYTICS_AUDIENCE, API_HEADERS, getAccessToken, peek,
	refreshCount, requireAccessTokenRoute, startTokenStack, waitExpiry,
} from '../lib/api.mjs';

const TTL = 5;

function noStore(r) {
	const cc = r.headers.get('cache-control') || '';
	assert.match(cc, /no-store/, `Cache-Control: no-store (got "${cc}")`);
}

function assertTokenBody(r, s) {
	assert.equal(r.status, 200, r.text);
	noStore(r);
	assert.match(r.headers.get('content-type') || '', /application\/json/);
	const b = r.body;
	assert.equal(typeof b.token, 'string', r.text);
	assert.equal(typeof b.expires_at, 'number', r.text);
	assert.equal(typeof b.expires_in, 'number', r.text);
	const now = Math.floor(Date.now() / 1000);
	assert.ok(b.expires_in >= 0 && b.expires_in <= s.ttl + 1, `expires_in ${b.expires_in}`);
	assert.ok(Math.abs(b.expires_at - (now + b.expires_in)) <= 2,
	    `expires_at ${b.expires_at} ~ now ${now} + expires_in ${b.expires_in}`);
	if (b.token_type !== undefined)
		assert.match(b.token_type, /^bearer$/i);
	if (b.scope !== undefined && b.scope !== null)
		assert.equal(typeof b.scope, 'string');
	return b;
}

// The session cookies a response set (name -> value), chunks included.
function sessionCookies(r) {
	const out = {};
	for (const h of r.setCookies || []) {
		const c = parseSetCookie(h);
		if (c && /^__session/.test(c.name))
			out[c.name] = c.value;
	}
	return out;
}

async function apiAccepts(s, token, audience = API_AUDIENCE) {
	const r = await s.api.call(token, { audience });
	assert.equal(r.status, 200, `the API refused the token: ${JSON.stringify(r.body)} ` +
	    `claims ${JSON.stringify(peek(token))}`);
	assert.equal(r.body.sub !== undefined, true);
	return r.body;
}

for (const store of ['cookie', 'sqlite']) {
	describe(`session.store = ${store}`, () => {
		let s;

		before(async () => {
			s = await startTokenStack({ store, ttl: TTL, name: `tokens-${store}` });
			await requireAccessTokenRoute(s.appUrl);
		});

		after(async () => {
			await s?.stop();
		});

		test('no session: 401 missing_session, no-store', async () => {
			const r = await getAccessToken(new Browser(), s.appUrl);
			assert.equal(r.status, 401, r.text);
			assert.equal(r.body?.error?.code, 'missing_session', r.text);
			assert.equal(typeof r.body.error.message, 'string');
			noStore(r);
		});

		test('after login: the login\'s token for the audience, no refresh, accepted by the API', async () => {
			await s.idp.resetStats();
			const t0 = Date.now();
			const { browser, callback } = await login(s.appUrl, 'alice');
			assert.equal(callback?.status, 307, callback?.text);
			const r = await getAccessToken(browser, s.appUrl);
			const b = assertTokenBody(r, s);
			assert.ok(Date.now() - t0 < TTL * 1000, 'still within the token\'s lifetime');
			assert.equal(peek(b.token)?.aud, API_AUDIENCE);
			const who = await apiAccepts(s, b.token);
			assert.equal(who.sub, 'alice');
			assert.equal(await refreshCount(s.idp), 0, 'no refresh for a fresh token');
			// The same token again.
			const r2 = await getAccessToken(browser, s.appUrl);
			assert.equal(assertTokenBody(r2, s).token, b.token);
		});

		test('expired: refreshed exactly once, session cookie rewritten, new token then served from the session', async () => {
			const t0 = Date.now();
			const { browser } = await login(s.appUrl, 'bob');
			const first = assertTokenBody(await getAccessToken(browser, s.appUrl), s);
			await waitExpiry(t0, TTL);
			await s.idp.resetStats();
			const before = browser.jar.header(s.appUrl);
			const r = await getAccessToken(browser, s.appUrl);
			const b = assertTokenBody(r, s);
			assert.notEqual(b.token, first.token, 'a new access token');
			assert.ok(b.expires_at > first.expires_at);
			await apiAccepts(s, b.token);
			assert.equal(await refreshCount(s.idp), 1, 'one refresh_token grant');
			const set = sessionCookies(r);
			assert.ok(Object.keys(set).length > 0,
			    `the session cookie is rewritten (Set-Cookie: ${JSON.stringify(r.setCookies)})`);
			if (store === 'cookie')
				assert.notEqual(browser.jar.header(s.appUrl), before, 'a new cookie value');
			// Next request: from the session, no refresh.
			const r2 = await getAccessToken(browser, s.appUrl);
			assert.equal(assertTokenBody(r2, s).token, b.token);
			assert.equal(await refreshCount(s.idp), 1);
			// The profile still reads.
			const p = await browser.request(`${s.appUrl}/auth/profile`, { headers: API_HEADERS });
			assert.equal(p.status, 200, p.text);
			assert.equal(p.json().sub, 'bob');
		});

		test('refresh=true: a new token although the old one is valid', async () => {
			const { browser } = await login(s.appUrl, 'carol');
			const a = assertTokenBody(await getAccessToken(browser, s.appUrl), s);
			await s.idp.resetStats();
			const b = assertTokenBody(await getAccessToken(browser, s.appUrl, { refresh: 'true' }), s);
			assert.notEqual(b.token, a.token);
			await apiAccepts(s, b.token);
			assert.equal(await refreshCount(s.idp), 1);
			const c = assertTokenBody(await getAccessToken(browser, s.appUrl), s);
			assert.equal(c.token, b.token, 'the refreshed token is the one stored');
			assert.equal(await refreshCount(s.idp), 1);
		});

		test('a second audience: its own token (one refresh), the first audience still served from the session', async () => {
			const { browser } = await login(s.appUrl, 'dave');
			// A fresh default token, so that it cannot expire meanwhile.
			const a = assertTokenBody(await getAccessToken(browser, s.appUrl, { refresh: 'true' }), s);
			await s.idp.resetStats();
			const r = await getAccessToken(browser, s.appUrl, { audience: ANALYTICS_AUDIENCE });
			const x = assertTokenBody(r, s);
			assert.notEqual(x.token, a.token);
			assert.equal(peek(x.token)?.aud, ANALYTICS_AUDIENCE, JSON.stringify(peek(x.token)));
			await apiAccepts(s, x.token, ANALYTICS_AUDIENCE);
			// Audience-bound: the API refuses it for the other audience.
			assert.equal((await s.api.call(x.token, { audience: API_AUDIENCE })).status, 401);
			assert.equal(await refreshCount(s.idp), 1, 'one refresh for the new audience');
			assert.ok(Object.keys(sessionCookies(r)).length > 0, 'the session was written');
			// The default audience: the stored token, no refresh.
			const a2 = assertTokenBody(await getAccessToken(browser, s.appUrl), s);
			assert.equal(a2.token, a.token);
			assert.equal(peek(a2.token)?.aud, API_AUDIENCE);
			// The configured audience named explicitly: the same.
			const a3 = assertTokenBody(await getAccessToken(browser, s.appUrl, { audience: API_AUDIENCE }), s);
			assert.equal(a3.token, a.token);
			// The second audience again: stored too.
			const x2 = assertTokenBody(await getAccessToken(browser, s.appUrl, { audience: ANALYTICS_AUDIENCE }), s);
			assert.equal(x2.token, x.token);
			assert.equal(await refreshCount(s.idp), 1, 'no further refresh');
		});

		test('a second audience after expiry: both refreshed with the one (rotated) refresh token', async () => {
			const t0 = Date.now();
			const { browser } = await login(s.appUrl, 'erin');
			assertTokenBody(await getAccessToken(browser, s.appUrl, { audience: ANALYTICS_AUDIENCE }), s);
			await waitExpiry(t0, TTL + 1);
			await s.idp.resetStats();
			const a = assertTokenBody(await getAccessToken(browser, s.appUrl), s);
			const x = assertTokenBody(await getAccessToken(browser, s.appUrl, { audience: ANALYTICS_AUDIENCE }), s);
			await apiAccepts(s, a.token, API_AUDIENCE);
			await apiAccepts(s, x.token, ANALYTICS_AUDIENCE);
			const st = await s.idp.stats();
			assert.equal(st.token.refresh_token, 2, JSON.stringify(st.token));
			assert.equal(st.token.reused, 0, 'no rotated refresh token was presented again');
			assert.equal(st.grants_revoked, 0);
		});

		test('refresh token revoked at the provider: 401 failed_to_refresh_token, profile still 200', async () => {
			const { browser } = await login(s.appUrl, 'revokee');
			assertTokenBody(await getAccessToken(browser, s.appUrl), s);
			const rv = await (await fetch(`${s.idp.base}/test/revoke?sub=revokee`, { method: 'POST' })).json();
			assert.ok(rv.revoked >= 1, JSON.stringify(rv));
			const r = await getAccessToken(browser, s.appUrl, { refresh: 'true' });
			assert.equal(r.status, 401, r.text);
			assert.equal(r.body?.error?.code, 'failed_to_refresh_token', r.text);
			assert.equal(typeof r.body.error.message, 'string');
			assert.doesNotMatch(r.text, /eyJ[A-Za-z0-9_-]{10,}/, 'no token in the error');
			noStore(r);
			const p = await browser.request(`${s.appUrl}/auth/profile`, { headers: API_HEADERS });
			assert.equal(p.status, 200, p.text);
			assert.equal(p.json().sub, 'revokee');
		});

		test('an audience the provider does not know: 401 failed_to_refresh_token', async () => {
			const { browser } = await login(s.appUrl, 'frank');
			const r = await getAccessToken(browser, s.appUrl, { audience: 'https://unknown.example.test/' });
			assert.equal(r.status, 401, r.text);
			assert.equal(r.body?.error?.code, 'failed_to_refresh_token', r.text);
			noStore(r);
			const p = await browser.request(`${s.appUrl}/auth/profile`, { headers: API_HEADERS });
			assert.equal(p.status, 200, p.text);
		});

		test('a scope within the granted one: 200', async () => {
			const { browser } = await login(s.appUrl, 'grace');
			const b = assertTokenBody(await getAccessToken(browser, s.appUrl, { scope: 'read' }), s);
			await apiAccepts(s, b.token);
		});

		test('duplicated parameters: 400, no-store', async () => {
			const { browser } = await login(s.appUrl, 'heidi');
			await s.idp.resetStats();
			for (const q of [
				{ audience: [API_AUDIENCE, ANALYTICS_AUDIENCE] },
				{ audience: [API_AUDIENCE, API_AUDIENCE] },
				{ scope: ['read', 'write'] },
				{ refresh: ['true', 'false'] },
				{ mergeScopes: ['false', 'false'] },
			]) {
				const r = await getAccessToken(browser, s.appUrl, q);
				assert.equal(r.status, 400, `${JSON.stringify(q)}: ${r.status} ${r.text}`);
				noStore(r);
			}
			assert.equal(await refreshCount(s.idp), 0, 'nothing reached the provider');
		});

		test('a garbage session cookie: 401 missing_session', async () => {
			const b = new Browser({ jar: new CookieJar() });
			b.jar.setCookie(s.appUrl, '__session=garbage.garbage; Path=/');
			const r = await getAccessToken(b, s.appUrl);
			assert.equal(r.status, 401, r.text);
			assert.equal(r.body?.error?.code, 'missing_session', r.text);
			noStore(r);
		});
	});
}
