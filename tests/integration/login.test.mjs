// Login, profile, logout and the callback's error paths, end to end:
// oidc-provider <- authgate-fcgi under lighttpd <- a scripted browser.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { Browser, CookieJar, login, parseSetCookie, isLogoutConfirmPage } from '../lib/client.mjs';

let s;

before(async () => {
	s = await startStack({ name: 'login' });
});

after(async () => {
	await s?.stop();
});

// What a fetch() from page script sends (not a navigation).
const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

function setCookie(res, name) {
	return res.setCookies.map(parseSetCookie).find((c) => c && c.name === name) || null;
}

function deleted(c) {
	return c !== null && (c.maxAge !== null ? c.maxAge <= 0 :
	    c.expires !== null && c.expires < Date.now());
}

async function profile(browser, appUrl) {
	return browser.request(`${appUrl}/auth/profile`, { headers: API });
}

// Start a login without following it: the 307 and the state it carries.
async function startLogin(browser, appUrl, returnTo = '/') {
	const res = await browser.request(`${appUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
	assert.equal(res.status, 307, res.text);
	const state = new URL(res.location).searchParams.get('state');
	assert.ok(state, `state in ${res.location}`);
	return { res, state };
}

function assertTextError(res, status, pattern) {
	if (Array.isArray(status))
		assert.ok(status.includes(res.status), `status ${res.status}, want one of ${status}: ${res.text}`);
	else
		assert.equal(res.status, status, res.text);
	assert.match(res.headers.get('content-type') || '', /^text\/plain/);
	if (pattern)
		assert.match(res.text, pattern);
	assert.ok(!/<html|stack|\bat [\w.]+ \(/i.test(res.text), `no page or trace in: ${res.text}`);
}

test('health: 200 {"status":"ok"}', async () => {
	const res = await fetch(`${s.appUrl}/auth/health`);
	assert.equal(res.status, 200);
	assert.match(res.headers.get('content-type'), /^application\/json/);
	assert.deepEqual(await res.json(), { status: 'ok' });
});

test('login: 307 to the provider with a transaction cookie', async () => {
	const b = new Browser();
	const { res, state } = await startLogin(b, s.appUrl, '/after');
	const az = new URL(res.location);
	assert.equal(az.origin + az.pathname, `${s.issuer}/auth`);
	assert.equal(az.searchParams.get('client_id'), s.clientId);
	assert.equal(az.searchParams.get('response_type'), 'code');
	assert.equal(az.searchParams.get('redirect_uri'), `${s.appUrl}/auth/callback`);
	assert.equal(az.searchParams.get('code_challenge_method'), 'S256');
	assert.ok(az.searchParams.get('nonce'));
	assert.match(az.searchParams.get('scope'), /\bopenid\b/);
	const txn = setCookie(res, `__txn_${state}`);
	assert.ok(txn, `__txn_${state} set: ${res.setCookies}`);
	assert.ok(txn.httpOnly, 'HttpOnly');
	assert.equal(txn.sameSite, 'lax');
	assert.equal(txn.path, '/');
});

test('login as alice lands on returnTo; profile is alice', async () => {
	const r = await login(s.appUrl, 'alice', { returnTo: '/index.html?from=test' });
	const cb = r.callback;
	assert.ok(cb, 'the flow reached /auth/callback');
	assert.equal(cb.status, 307, cb.text);
	assert.equal(cb.location, `${s.appUrl}/index.html?from=test`);
	assert.match(cb.headers.get('cache-control') || '', /no-store/);
	const sess = setCookie(cb, '__session') || setCookie(cb, '__session__0');
	assert.ok(sess, `session cookie set: ${cb.setCookies}`);
	assert.ok(sess.httpOnly);
	assert.equal(sess.sameSite, 'lax');
	assert.equal(sess.path, '/');
	const state = new URL(cb.url).searchParams.get('state');
	assert.ok(deleted(setCookie(cb, `__txn_${state}`)), 'transaction cookie deleted');

	assert.equal(r.response.status, 200);
	assert.equal(r.response.url, `${s.appUrl}/index.html?from=test`);

	const p = await profile(r.browser, s.appUrl);
	assert.equal(p.status, 200, p.text);
	assert.match(p.headers.get('content-type'), /^application\/json/);
	const user = p.json();
	assert.equal(user.sub, 'alice');
	assert.equal(user.name, 'Alice Example');
	assert.equal(user.email, 'alice@example.com');
});

test('profile without a session: 401', async () => {
	const b = new Browser();
	const p = await profile(b, s.appUrl);
	assert.equal(p.status, 401);
	const nav = await b.request(`${s.appUrl}/auth/profile`);
	assert.equal(nav.status, 401, 'a navigation too');
});

test('profile with a garbage session cookie: 401', async () => {
	const b = new Browser();
	b.jar.set(s.appUrl, '__session', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC');
	assert.equal((await profile(b, s.appUrl)).status, 401);
});

test('logout: 307 to end_session, cookie deleted, then 401', async () => {
	const r = await login(s.appUrl, 'alice');
	const b = r.browser;
	assert.equal((await profile(b, s.appUrl)).status, 200);

	const lo = await b.request(`${s.appUrl}/auth/logout`);
	assert.equal(lo.status, 307, lo.text);
	const es = new URL(lo.location);
	assert.equal(es.origin + es.pathname, `${s.issuer}/session/end`);
	const hint = es.searchParams.get('id_token_hint');
	assert.ok(hint, 'id_token_hint');
	const claims = JSON.parse(Buffer.from(hint.split('.')[1], 'base64url').toString());
	assert.equal(claims.sub, 'alice');
	assert.equal(claims.aud, s.clientId);
	const plr = es.searchParams.get('post_logout_redirect_uri');
	assert.ok(plr === s.appUrl || plr === `${s.appUrl}/`, `post_logout_redirect_uri ${plr}`);
	assert.equal(es.searchParams.get('client_id') ?? s.clientId, s.clientId);
	const sess = setCookie(lo, '__session');
	assert.ok(deleted(sess), `__session deleted: ${lo.setCookies}`);
	assert.equal(b.jar.get(s.appUrl, '__session'), null);
	assert.equal((await profile(b, s.appUrl)).status, 401);

	// The provider confirms and sends the browser back to the app.
	let page = await b.get(lo.location);
	assert.ok(isLogoutConfirmPage(page), page.text.slice(0, 500));
	page = await b.submit(page, { button: { name: 'logout', value: 'yes' } });
	assert.equal(new URL(page.url).origin, s.appUrl);
	assert.equal(page.status, 200);
});

test('returnTo=//evil.com lands on the app\'s "/"', async () => {
	const r = await login(s.appUrl, 'alice', { returnTo: '//evil.com' });
	assert.ok(r.callback, 'reached the callback');
	assert.equal(r.callback.status, 307);
	assert.equal(r.callback.location, `${s.appUrl}/`);
	assert.ok(!r.response.blocked, 'no redirect off the app');
	assert.equal(r.response.url, `${s.appUrl}/`);
});

test('other open-redirect returnTo values stay on the app', async () => {
	for (const rt of ['https://evil.com/x', '/\\evil.com', 'javascript:alert(1)', '\t//evil.com']) {
		const b = new Browser();
		const res = await b.request(`${s.appUrl}/auth/login?returnTo=${encodeURIComponent(rt)}`);
		// Either refused now, or the login goes on and must end on the app.
		if (res.status !== 307)
			continue;
		const r = await login(s.appUrl, 'alice', { returnTo: rt });
		assert.ok(r.callback, `callback reached for ${JSON.stringify(rt)}`);
		assert.equal(new URL(r.callback.location).origin, s.appUrl, `returnTo ${JSON.stringify(rt)} -> ${r.callback.location}`);
	}
});

test('callback with a state that has no transaction cookie: rejected', async () => {
	const b = new Browser();
	const res = await b.request(`${s.appUrl}/auth/callback?code=abc&state=forged-state-value&iss=${encodeURIComponent(s.issuer)}`);
	assertTextError(res, [400, 500], /state/i);
	assert.equal(setCookie(res, '__session'), null);
});

test('callback without state: rejected', async () => {
	const b = new Browser();
	const res = await b.request(`${s.appUrl}/auth/callback?code=abc`);
	assertTextError(res, [400, 500], /state/i);
});

test('callback with another login\'s state: rejected', async () => {
	// A transaction cookie of login A, a callback naming login B's state.
	const b = new Browser();
	await startLogin(b, s.appUrl);
	const other = new Browser();
	const { state } = await startLogin(other, s.appUrl);
	const res = await b.request(`${s.appUrl}/auth/callback?code=abc&state=${state}`);
	assertTextError(res, [400, 500], /state/i);
});

test('replayed callback URL: rejected', async () => {
	const r = await login(s.appUrl, 'alice');
	assert.equal(r.callback.status, 307);
	const again = await r.browser.request(r.callback.url);
	assertTextError(again, [400, 500], /state/i);
	assert.equal(setCookie(again, '__session'), null, 'no new session');
	// A fresh browser (no cookies) replaying it gets nothing either.
	const fresh = await new Browser().request(r.callback.url);
	assert.notEqual(fresh.status, 307);
	assert.equal(setCookie(fresh, '__session'), null);
});

test('callback error=access_denied: error response naming it', async () => {
	const b = new Browser();
	const { state } = await startLogin(b, s.appUrl);
	const res = await b.request(`${s.appUrl}/auth/callback?error=access_denied&error_description=${encodeURIComponent('The user said no')}&state=${state}&iss=${encodeURIComponent(s.issuer)}`);
	assertTextError(res, [400, 401, 403, 500]);
	assert.match(res.text, /access_denied/);
	assert.equal(setCookie(res, '__session'), null);
	assert.ok(deleted(setCookie(res, `__txn_${state}`)), 'transaction cookie deleted');
});

test('callback error with callback.error_url: redirect carrying the error', async () => {
	const s2 = await startStack({ name: 'error-url', conf: { 'callback.error_url': '/login-error.html' } });
	try {
		const b = new Browser();
		const { state } = await startLogin(b, s2.appUrl);
		const res = await b.request(`${s2.appUrl}/auth/callback?error=access_denied&error_description=no&state=${state}&iss=${encodeURIComponent(s2.issuer)}`);
		assert.ok([302, 303, 307].includes(res.status), `${res.status} ${res.text}`);
		const u = new URL(res.location);
		assert.equal(u.origin, s2.appUrl);
		assert.equal(u.pathname, '/login-error.html');
		assert.equal(u.searchParams.get('error'), 'access_denied');
	} finally {
		await s2.stop();
	}
});

test('expired transaction: rejected', async (t) => {
	// The login starts now; the callback arrives 2 h later
	// (AUTHGATE_TEST_CLOCK_OFFSET on a fresh authgate-fcgi, test mode only).
	const s3 = await startStack({ name: 'txn-expiry' });
	try {
		const b = new Browser();
		const { state } = await startLogin(b, s3.appUrl);
		const q = `code=not-a-real-code&state=${state}&iss=${encodeURIComponent(s3.issuer)}`;
		await s3.restartApp({ env: { AUTHGATE_TEST_CLOCK_OFFSET: '7200' } });
		const late = await b.request(`${s3.appUrl}/auth/callback?${q}`);
		assertTextError(late, [400, 500], /state/i);
		// Control: the same transaction, in time, passes the state check
		// and fails later (at the code exchange), with another message.
		const b2 = new Browser();
		const { state: st2 } = await startLogin(b2, s3.appUrl);
		await s3.restartApp({ env: { AUTHGATE_TEST_CLOCK_OFFSET: '0' } });
		const inTime = await b2.request(`${s3.appUrl}/auth/callback?code=not-a-real-code&state=${st2}&iss=${encodeURIComponent(s3.issuer)}`);
		assert.notEqual(inTime.status, 307);
		assert.doesNotMatch(inTime.text, /state parameter/i, 'the in-time state was accepted');
	} finally {
		await s3.stop();
	}
});

test('provider down: login answers a clear error, authgate-fcgi survives', async () => {
	const s4 = await startStack({ name: 'idp-down' });
	try {
		await s4.stopIdp();
		// A fresh authgate-fcgi: no discovery document cached.
		const app = await s4.restartApp();
		const pids = app.fcgiPids();
		const b = new Browser();
		const res = await b.request(`${s4.appUrl}/auth/login?returnTo=/`);
		assertTextError(res, [500, 502, 503]);
		assert.ok(res.text.trim().length > 10, `a message: ${JSON.stringify(res.text)}`);
		const again = await b.request(`${s4.appUrl}/auth/login?returnTo=/`);
		assert.equal(again.status, res.status);
		const h = await fetch(`${s4.appUrl}/auth/health`);
		assert.equal(h.status, 200);
		if (pids.length > 0)
			assert.deepEqual(app.fcgiPids(), pids, 'the same authgate-fcgi process');
		assert.match(app.errorLogText(), /./, 'something was logged');
	} finally {
		await s4.stop();
	}
});

test('spawn-fcgi mode: a whole login through an external socket', async () => {
	const s5 = await startStack({ name: 'spawn-fcgi', mode: 'spawn-fcgi' });
	try {
		const r = await login(s5.appUrl, 'bob', { returnTo: '/' });
		assert.equal(r.callback?.status, 307);
		const p = await profile(r.browser, s5.appUrl);
		assert.equal(p.status, 200, p.text);
		assert.equal(p.json().sub, 'bob');
		assert.equal(p.json().name, 'Bob Example');
	} finally {
		await s5.stop();
	}
});

test('two users in two browsers keep separate sessions', async () => {
	const a = await login(s.appUrl, 'alice');
	const c = await login(s.appUrl, 'carol', { jar: new CookieJar() });
	assert.equal((await profile(a.browser, s.appUrl)).json().sub, 'alice');
	assert.equal((await profile(c.browser, s.appUrl)).json().sub, 'carol');
});
