// Token Vault (connection tokens) and Connected Accounts (My Account
// API) end to end, against the fake of tests/idp/auth0-vault.mjs
// (IDP_AUTH0_VAULT=1) installed into the real test provider:
//  - GET /auth/access-token?connection=NAME: the federated-connection
//    grant with the session's refresh token, cached in
//    connectionTokenSets (one grant for two requests), a login_hint
//    keeps its own entry, an expired entry is exchanged again, a failed
//    exchange answers failed_to_exchange_refresh_token and drops the
//    stale entry; cookie store: one sealed __FC_<n> cookie per entry,
//    bounded, readable by the SDK's own session store and the reverse;
//    SQLite store: no __FC cookie, the row holds the entries;
//  - `authgate token --connection` (HTTP_COOKIE and --session ID);
//  - GET /auth/connect -> the fake's connect_uri -> /auth/callback with
//    connect_code -> complete (checked field by field) -> returnTo; a
//    foreign returnTo is not followed; a connect_code without its
//    transaction is refused; `authgate accounts list|disconnect`.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decrypt, encrypt, RequestCookies, ResponseCookies } from '../node_modules/@auth0/nextjs-auth0/dist/server/cookies.js';
import { StatelessSessionStore } from '../node_modules/@auth0/nextjs-auth0/dist/server/session/stateless-session-store.js';
import { Browser, login } from '../lib/client.mjs';
import { REPO } from '../lib/procs.mjs';
import { startStack } from '../lib/stack.mjs';
import { CLI } from '../lib/api.mjs';

const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const GOOGLE = 'google-oauth2';

function now() {
	return Math.floor(Date.now() / 1000);
}

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

async function vault(s, what, query = '') {
	const u = `${s.idp.base}/test/vault/${what}${query ? `?${query}` : ''}`;
	const res = await fetch(u, { method: what === 'stats' ? 'GET' : 'POST' });
	return what === 'stats' ? res.json() : res.status;
}

async function connectionToken(s, browser, params) {
	const u = new URL(`${s.appUrl}/auth/access-token`);
	for (const [k, v] of Object.entries(params))
		u.searchParams.set(k, v);
	return browser.request(u.href, { headers: API });
}

function fcCookies(s, browser) {
	return browser.jar.all(s.appUrl).filter((c) => /^__FC_\d+$/.test(c.name))
	    .sort((a, b) => a.name.localeCompare(b.name));
}

// The CLI -> Promise<{rc, stdout, stderr}> (async: the stack must answer).
function cli(s, args, env = {}) {
	return new Promise((resolve) => {
		execFile(CLI, ['-c', s.app.confPath, ...args], {
			env: { ...process.env, ...env }, encoding: 'utf8',
		}, (err, stdout, stderr) => {
			resolve({ rc: err ? err.code : 0, stdout, stderr });
		});
	});
}

describe('connection tokens, cookie store', () => {
	let s;
	before(async () => {
		s = await startStack({
			name: 'vault-cookie', idpEnv: { IDP_AUTH0_VAULT: '1' },
			conf: { connect_account_endpoint: 'on' },
		});
	});
	after(async () => {
		await s?.stop();
	});

	test('one grant serves two requests; the token lives in __FC_0', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		const r1 = await connectionToken(s, browser, { connection: GOOGLE });
		assert.equal(r1.status, 200, r1.text);
		const t1 = r1.json();
		assert.match(t1.token, /^fc\.google-oauth2\./);
		assert.equal(t1.scope, 'https://www.googleapis.com/auth/calendar.readonly');
		assert.ok(t1.expires_at > now() + 3000 && t1.expires_in > 3000);
		assert.equal(r1.headers.get('cache-control')?.includes('no-store') ||
		    r1.headers.get('cache-control')?.includes('no-cache'), true);
		const fc = fcCookies(s, browser);
		assert.deepEqual(fc.map((c) => c.name), ['__FC_0']);
		assert.ok(fc[0].value.length < 4000, `bounded: ${fc[0].value.length}`);
		// The entry, as the SDK's decrypt sees it; the session cookie
		// itself carries no connectionTokenSets.
		const { payload } = await decrypt(fc[0].value, s.secret);
		assert.equal(payload.accessToken, t1.token);
		assert.equal(payload.connection, GOOGLE);
		assert.equal(payload.expiresAt, t1.expires_at);
		assert.equal(payload.loginHint, undefined);
		const sess = browser.jar.get(s.appUrl, '__session');
		const { payload: sp } = await decrypt(sess.value, s.secret);
		assert.equal(sp.connectionTokenSets, undefined);

		const r2 = await connectionToken(s, browser, { connection: GOOGLE });
		assert.equal(r2.status, 200, r2.text);
		assert.equal(r2.json().token, t1.token, 'cached');
		const st = await vault(s, 'stats');
		assert.equal(st.fcat, 1, 'one grant for two requests');
		assert.equal(st.last_fcat.subject_token_type, 'urn:ietf:params:oauth:token-type:refresh_token');
		assert.equal(st.last_fcat.requested_token_type, 'http://auth0.com/oauth/token-type/federated-connection-access-token');
		assert.equal(st.last_fcat.connection, GOOGLE);

		// The CLI with the same cookies: the cached token, no grant.
		const c = await cli(s, ['token', '--connection', GOOGLE, '--json'],
		    { HTTP_COOKIE: browser.jar.header(`${s.appUrl}/`) });
		assert.equal(c.rc, 0, c.stderr);
		assert.equal(JSON.parse(c.stdout).token, t1.token);
		assert.equal((await vault(s, 'stats')).fcat, 1);

		// Logout deletes the __FC cookies with the session.
		const lo = await browser.request(`${s.appUrl}/auth/logout`);
		assert.ok(lo.setCookies.some((h) => /^__FC_0=;/.test(h) && /Max-Age=0/.test(h)),
		    `logout deletes __FC_0: ${lo.setCookies}`);
		assert.equal(fcCookies(s, browser).length, 0);
	});

	test('a login_hint keeps its own entry (__FC_1); expired entries are exchanged again', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		const a = (await connectionToken(s, browser, { connection: GOOGLE })).json();
		await vault(s, 'config', 'ttl=1');
		const r = await connectionToken(s, browser, { connection: GOOGLE, login_hint: 'work@example.com' });
		assert.equal(r.status, 200, r.text);
		const h1 = r.json();
		assert.notEqual(h1.token, a.token);
		assert.equal((await vault(s, 'stats')).last_fcat.login_hint, 'work@example.com');
		const fc = fcCookies(s, browser);
		assert.deepEqual(fc.map((c) => c.name), ['__FC_0', '__FC_1']);
		assert.equal((await decrypt(fc[1].value, s.secret)).payload.loginHint, 'work@example.com');
		await sleep(2100);
		const h2 = (await connectionToken(s, browser, { connection: GOOGLE, login_hint: 'work@example.com' })).json();
		assert.notEqual(h2.token, h1.token, 'expired: a new grant');
		const again = (await connectionToken(s, browser, { connection: GOOGLE })).json();
		assert.equal(again.token, a.token, 'the unhinted entry is untouched');
		assert.equal((await vault(s, 'stats')).fcat, 3);
	});

	test('a failed exchange answers the SDK\'s code and drops the stale entry', async () => {
		await vault(s, 'reset');
		await vault(s, 'config', 'ttl=1');
		const { browser } = await login(s.appUrl, 'alice');
		assert.equal((await connectionToken(s, browser, { connection: GOOGLE })).status, 200);
		assert.equal(fcCookies(s, browser).length, 1);
		await sleep(2100);
		await vault(s, 'fail', `connection=${GOOGLE}&error=invalid_grant`);
		const r = await connectionToken(s, browser, { connection: GOOGLE });
		assert.equal(r.status, 401, r.text);
		assert.deepEqual(r.json(), { error: {
			message: 'There was an error trying to exchange the refresh token for a connection access token.',
			code: 'failed_to_exchange_refresh_token',
		} });
		assert.ok(r.setCookies.some((h) => /^__FC_0=;/.test(h) && /Max-Age=0/.test(h)),
		    `the __FC_0 cookie is deleted: ${r.setCookies}`);
		assert.equal(fcCookies(s, browser).length, 0);
		// Still logged in.
		assert.equal((await browser.request(`${s.appUrl}/auth/profile`, { headers: API })).status, 200);
		await vault(s, 'config', 'ttl=3600');
	});

	test('no connected account, bad input, no session', async () => {
		const { browser } = await login(s.appUrl, 'bob');
		const r = await connectionToken(s, browser, { connection: 'github' });
		assert.equal(r.status, 401);
		assert.equal(r.json().error.code, 'failed_to_exchange_refresh_token');
		assert.equal(fcCookies(s, browser).length, 0);
		for (const bad of ['', 'a b', 'x'.repeat(200), 'évil'])
			assert.equal((await connectionToken(s, browser, { connection: bad })).status, 400, bad);
		assert.equal((await connectionToken(s, browser, { connection: GOOGLE, login_hint: 'a\nb' })).status, 400);
		assert.equal((await connectionToken(s, browser, { connection: GOOGLE, subject_token_type: 'urn:x' })).status, 400);
		const anon = new Browser();
		const n = await connectionToken(s, anon, { connection: GOOGLE });
		assert.equal(n.status, 401);
		assert.equal(n.json().error.code, 'missing_session');
		const c = await cli(s, ['token', '--connection', 'a b'], { HTTP_COOKIE: 'x=y' });
		assert.equal(c.rc, 2);
	});

	test('the access token as subject (subject_token_type)', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		const r = await connectionToken(s, browser, {
			connection: GOOGLE, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
		});
		assert.equal(r.status, 200, r.text);
		assert.equal((await vault(s, 'stats')).last_fcat.subject_token_type,
		    'urn:ietf:params:oauth:token-type:access_token');
	});

	test('connection tokens interoperate with the SDK\'s session store', async () => {
		await vault(s, 'reset');
		const store = new StatelessSessionStore({ secret: s.secret });
		const { browser } = await login(s.appUrl, 'alice');
		// The SDK reads what authgate wrote.
		const mine = (await connectionToken(s, browser, { connection: GOOGLE })).json();
		const read = await store.get(new RequestCookies(new Headers({ cookie: browser.jar.header(`${s.appUrl}/`) })));
		assert.equal(read.connectionTokenSets.length, 1);
		assert.equal(read.connectionTokenSets[0].accessToken, mine.token);
		assert.equal(read.connectionTokenSets[0].connection, GOOGLE);

		// The entries authgate writes are bound to the session (sub,
		// sid); the SDK ignores the extra members.
		const { payload: bound } = await decrypt(fcCookies(s, browser)[0].value, s.secret);
		assert.equal(bound.sub, 'alice');
		assert.equal(typeof bound.sid, 'string');

		// What the SDK wrote is not bound to a session: authgate does
		// not trust it (a planted cookie would hand out another user's
		// token) and exchanges again, then keeps its own bound entries.
		const session = {
			...read,
			connectionTokenSets: [
				{ accessToken: 'sdk-google', scope: 'x', expiresAt: now() + 600, connection: GOOGLE },
				{ accessToken: 'sdk-google-hinted', expiresAt: now() + 600, connection: GOOGLE, loginHint: 'h@x' },
			],
		};
		const resHeaders = new Headers();
		await store.set(new RequestCookies(new Headers()), new ResponseCookies(resHeaders), session);
		const b = new Browser();
		for (const h of resHeaders.getSetCookie())
			b.jar.setCookie(`${s.appUrl}/`, h);
		assert.deepEqual(fcCookies(s, b).map((c) => c.name), ['__FC_0', '__FC_1']);
		const g = await connectionToken(s, b, { connection: GOOGLE });
		assert.equal(g.status, 200, g.text);
		assert.match(g.json().token, /^fc\.google-oauth2\./);
		const h = await connectionToken(s, b, { connection: GOOGLE, login_hint: 'h@x' });
		assert.equal(h.status, 200, h.text);
		assert.match(h.json().token, /^fc\.google-oauth2\./);
		assert.equal((await vault(s, 'stats')).fcat, 3, 'the SDK\'s entries exchanged again');
		const again = await connectionToken(s, b, { connection: GOOGLE, login_hint: 'h@x' });
		assert.equal(again.json().token, h.json().token, 'then cached');
		assert.equal((await vault(s, 'stats')).fcat, 3);
		const read2 = await store.get(new RequestCookies(new Headers({ cookie: b.jar.header(`${s.appUrl}/`) })));
		assert.deepEqual(read2.connectionTokenSets.map((e) => e.accessToken).sort(),
		    [g.json().token, h.json().token].sort(), 'the SDK reads them');
	});

	test('an __FC cookie is bound to its session: not another user\'s, not another session\'s', async () => {
		await vault(s, 'reset');
		const a = (await login(s.appUrl, 'alice')).browser;
		const r = await connectionToken(s, a, { connection: GOOGLE });
		assert.equal(r.status, 200, r.text);
		const fc = fcCookies(s, a)[0];
		for (const who of ['bob', 'alice']) {
			const b = (await login(s.appUrl, who)).browser;
			b.jar.setCookie(`${s.appUrl}/`, `__FC_0=${fc.value}; Path=/`);
			const rb = await connectionToken(s, b, { connection: GOOGLE });
			assert.equal(rb.status, 200, rb.text);
			assert.notEqual(rb.json().token, r.json().token, `${who}: not the planted token`);
		}
		assert.equal((await vault(s, 'stats')).fcat, 3, 'each session exchanged its own');
		assert.equal((await connectionToken(s, a, { connection: GOOGLE })).json().token,
		    r.json().token, 'alice\'s own session still has it');
	});
});

describe('connection tokens, SQLite store', () => {
	let s;
	before(async () => {
		fs.mkdirSync(path.join(REPO, 'tests', '.run'), { recursive: true });
		const dbDir = fs.mkdtempSync(path.join(REPO, 'tests', '.run', 'vault-db-'));
		s = await startStack({
			name: 'vault-sqlite', idpEnv: { IDP_AUTH0_VAULT: '1' },
			conf: { 'session.store': 'sqlite', 'session.db': path.join(dbDir, 'sessions.db') },
		});
		const m = await cli(s, ['migrate']);
		assert.equal(m.rc, 0, m.stderr);
	});
	after(async () => {
		await s?.stop();
	});

	test('cached in the row, no __FC cookie; the CLI with --session', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		const r1 = await connectionToken(s, browser, { connection: GOOGLE });
		assert.equal(r1.status, 200, r1.text);
		assert.equal(fcCookies(s, browser).length, 0);
		assert.ok(!r1.setCookies.some((h) => h.startsWith('__FC_')));
		const r2 = await connectionToken(s, browser, { connection: GOOGLE });
		assert.equal(r2.json().token, r1.json().token);
		assert.equal((await vault(s, 'stats')).fcat, 1);
		const list = await cli(s, ['sessions', 'list', '--json', '--sub', 'alice']);
		assert.equal(list.rc, 0, list.stderr);
		const rows = JSON.parse(list.stdout);
		const ids = (Array.isArray(rows) ? rows : rows.sessions).map((x) => x.id);
		let found = false;
		for (const id of ids) {
			const c = await cli(s, ['token', '--connection', GOOGLE, '--session', id]);
			if (c.rc === 0 && c.stdout.trim() === r1.json().token)
				found = true;
		}
		assert.ok(found, 'the CLI finds the cached token in the row');
		assert.equal((await vault(s, 'stats')).fcat, 1);
	});

	test('the connect route is off by default', async () => {
		const { browser } = await login(s.appUrl, 'alice');
		const r = await browser.request(`${s.appUrl}/auth/connect?connection=github`);
		assert.equal(r.status, 404);
	});
});

describe('connected accounts', () => {
	let s;
	before(async () => {
		s = await startStack({
			name: 'vault-connect', idpEnv: { IDP_AUTH0_VAULT: '1' },
			conf: { connect_account_endpoint: 'on' },
		});
	});
	after(async () => {
		await s?.stop();
	});

	async function connect(browser, query) {
		return browser.get(`${s.appUrl}/auth/connect?${query}`);
	}

	test('connect end to end: connect_uri, connect_code, complete, returnTo', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		const first = await browser.request(`${s.appUrl}/auth/connect?connection=github&returnTo=%2Fafter%3Fx%3D1&scopes=repo&scopes=read%3Auser&prompt=consent`);
		assert.equal(first.status, 307, first.text);
		const to = new URL(first.location);
		assert.equal(to.origin + to.pathname, `${s.issuer}/connect`);
		assert.ok(to.searchParams.get('ticket'));
		assert.ok(first.setCookies.some((h) => h.startsWith('__txn_')), 'a transaction cookie');
		let st = await vault(s, 'stats');
		assert.equal(st.me_token, 1);
		assert.equal(st.last_connect.connection, 'github');
		assert.equal(st.last_connect.redirect_uri, `${s.appUrl}/auth/callback`);
		assert.equal(st.last_connect.code_challenge_method, 'S256');
		assert.deepEqual(st.last_connect.scopes, ['repo', 'read:user']);
		assert.deepEqual(st.last_connect.authorization_params, { prompt: 'consent' });
		const end = await browser.follow(first, first.url);
		const cb = end.history.find((h) => h.url.startsWith(`${s.appUrl}/auth/callback`));
		assert.ok(cb, 'back at the callback');
		assert.ok(new URL(cb.url).searchParams.get('connect_code'));
		assert.equal(cb.status, 307, cb.text);
		assert.equal(cb.location, `${s.appUrl}/after?x=1`);
		assert.ok(cb.setCookies.some((h) => /^__txn_[^=]*=;/.test(h)), 'the transaction is deleted');
		st = await vault(s, 'stats');
		assert.equal(st.complete, 1);
		assert.equal(st.last_complete.redirect_uri, `${s.appUrl}/auth/callback`);
		assert.equal(st.last_complete.code_verifier, '(present)');
		assert.ok(st.last_complete.auth_session && st.last_complete.connect_code);
		assert.equal(st.accounts, 1);
		// Now the connection has a token.
		const t = await connectionToken(s, browser, { connection: 'github' });
		assert.equal(t.status, 200, t.text);
		assert.match(t.json().token, /^fc\.github\./);
	});

	test('a foreign returnTo is not followed; no connection 400; no session 401', async () => {
		const { browser } = await login(s.appUrl, 'alice');
		const end = await connect(browser, `connection=github&returnTo=${encodeURIComponent('https://evil.example/x')}`);
		const cb = end.history.find((h) => h.url.startsWith(`${s.appUrl}/auth/callback`));
		assert.equal(cb.status, 307);
		assert.equal(new URL(cb.location).origin, s.appUrl);
		assert.equal((await browser.request(`${s.appUrl}/auth/connect`)).status, 400);
		assert.equal((await browser.request(`${s.appUrl}/auth/connect?connection=`)).text.trim(), 'A connection is required.');
		const anon = new Browser();
		const r = await anon.request(`${s.appUrl}/auth/connect?connection=github`);
		assert.equal(r.status, 401);
		assert.equal(r.text.trim(), 'The user does not have an active session.');
	});

	test('a session storing token_type "Bearer" (as the SDK does) uses its cached My Account token', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		const first = await connect(browser, 'connection=github');
		assert.equal(first.status, 200, first.text);
		const sess = browser.jar.get(s.appUrl, '__session');
		const { payload } = await decrypt(sess.value, s.secret);
		const { exp, ...data } = payload;
		assert.ok(data.accessTokens?.length >= 1, 'the My Account token is cached');
		data.tokenSet.token_type = 'Bearer';
		for (const e of data.accessTokens)
			e.token_type = 'Bearer';
		browser.jar.setCookie(`${s.appUrl}/`, `__session=${await encrypt(data, s.secret, exp)}; Path=/`);
		const again = await browser.request(`${s.appUrl}/auth/connect?connection=github`);
		assert.equal(again.status, 307, again.text);
		assert.equal((await vault(s, 'stats')).me_token, 1, 'the cached token, no refresh');
	});

	test('a connect_uri and ticket at their limits (2048 bytes, the ticket all escaped): 307', async () => {
		await vault(s, 'reset');
		await vault(s, 'config', 'big=1');
		const { browser } = await login(s.appUrl, 'alice');
		const r = await browser.request(`${s.appUrl}/auth/connect?connection=github`);
		await vault(s, 'reset');
		assert.equal(r.status, 307, r.text);
		const to = new URL(r.location);
		assert.equal(to.searchParams.get('ticket'), '/'.repeat(2048));
		assert.equal(to.searchParams.get('pad').length + `${s.issuer}/connect?pad=`.length, 2048);
	});

	test('an unknown connection: the API\'s status', async () => {
		const { browser } = await login(s.appUrl, 'alice');
		const r = await browser.request(`${s.appUrl}/auth/connect?connection=nope`);
		assert.equal(r.status, 400);
		assert.equal(r.text.trim(), 'The request to initiate the connect account flow failed with status 400.');
	});

	test('a connect_code without its transaction is refused', async () => {
		const { browser } = await login(s.appUrl, 'alice');
		const before = (await vault(s, 'stats')).complete;
		const r = await browser.request(`${s.appUrl}/auth/callback?connect_code=abc&state=${'A'.repeat(43)}`);
		assert.equal(r.status, 500);
		assert.equal(r.text.trim(), 'The state parameter is invalid.');
		// A login transaction does not turn into a connect one either.
		const start = await browser.request(`${s.appUrl}/auth/login`);
		const state = new URL(start.location).searchParams.get('state');
		const r2 = await browser.request(`${s.appUrl}/auth/callback?connect_code=abc&state=${state}`);
		assert.equal(r2.status, 500);
		assert.equal((await vault(s, 'stats')).complete, before, 'complete never called');
	});

	// `authgate accounts ... --set-cookie` with the browser's cookies;
	// the Set-Cookie lines go back into its jar (the provider rotates
	// the refresh token at each My Account refresh), the rest is out.
	async function accounts(browser, args) {
		const env = { HTTP_COOKIE: browser.jar.header(`${s.appUrl}/`) };
		const r = await cli(s, ['accounts', args[0], '--set-cookie', ...args.slice(1)], env);
		const out = [];
		for (const line of r.stdout.split('\n')) {
			if (line.startsWith('Set-Cookie: '))
				browser.jar.setCookie(`${s.appUrl}/`, line.slice(12).trim());
			else
				out.push(line);
		}
		return { ...r, out: out.join('\n'), raw: r.stdout };
	}

	test('authgate accounts list and disconnect', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		for (const c of ['github', 'sign-in-with-slack', 'github'])
			await connect(browser, `connection=${c}`);
		assert.equal((await vault(s, 'stats')).accounts, 3);
		const l = await accounts(browser, ['list', '--json']);
		assert.equal(l.rc, 0, l.stderr);
		const all = JSON.parse(l.out);
		assert.equal(all.length, 3, 'all pages followed');
		assert.deepEqual(all.map((a) => a.connection).sort(), ['github', 'github', 'sign-in-with-slack']);
		const text = await accounts(browser, ['list']);
		assert.equal(text.out.trim().split('\n').length, 3);
		assert.match(text.out, /^cac_\S+\tgithub\toffline\t/m);

		// A cached slack token, then its only account goes: pruned.
		assert.equal((await connectionToken(s, browser, { connection: 'sign-in-with-slack' })).status, 200);
		const slack = all.find((a) => a.connection === 'sign-in-with-slack');
		const d = await accounts(browser, ['disconnect', slack.id]);
		assert.equal(d.rc, 0, d.stderr);
		assert.match(d.raw, /Set-Cookie: __FC_0=;/, 'the cached slack token is dropped');
		const l2 = JSON.parse((await accounts(browser, ['list', '--json'])).out);
		assert.equal(l2.length, 2);
		assert.ok(!l2.some((a) => a.id === slack.id));
		const again = await accounts(browser, ['disconnect', slack.id]);
		assert.equal(again.rc, 1);
		assert.match(again.stderr, /failed_to_delete/);
		assert.equal((await cli(s, ['accounts', 'disconnect', 'bad id'])).rc, 2);
		assert.equal((await cli(s, ['accounts', 'list'], { HTTP_COOKIE: '' })).rc, 1);
	});

	test('accounts list: page cursors that cycle (A -> B -> A) are refused at once', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		await vault(s, 'config', 'cycle=1');
		const l = await accounts(browser, ['list']);
		const st = await vault(s, 'stats');
		await vault(s, 'reset');
		assert.equal(l.rc, 1);
		assert.match(l.stderr, /failed_to_list: the API repeated a page cursor/);
		assert.equal(st.list, 3, 'pages "", 2, 0: then 2 again is refused');
	});

	test('a refresh token rotated by the My Account refresh is kept, whatever fails next', async () => {
		await vault(s, 'reset');
		const { browser } = await login(s.appUrl, 'alice');
		const rt = async () => (await decrypt(browser.jar.get(s.appUrl, '__session').value,
		    s.secret)).payload.tokenSet.refreshToken;
		const rt0 = await rt();
		// connect: the API refuses the connection after the refresh.
		const c = await connect(browser, 'connection=nope');
		assert.equal(c.status, 400, c.text);
		assert.equal((await vault(s, 'stats')).me_rotations, 1);
		const rt1 = await rt();
		assert.notEqual(rt1, rt0, 'the rotated refresh token is in the session');
		// The CLI: disconnect of an account that is not there fails
		// after the refresh (scope delete: a new My Account token).
		const d = await accounts(browser, ['disconnect', 'cac_none']);
		assert.equal(d.rc, 1);
		assert.match(d.stderr, /failed_to_delete/);
		assert.equal((await vault(s, 'stats')).me_rotations, 2);
		assert.match(d.raw, /Set-Cookie: __session=/, 'the session is printed although the command failed');
		assert.notEqual(await rt(), rt1);
		// The session still refreshes: the kept token is the live one.
		for (const c2 of ['github'])
			assert.equal((await connect(browser, `connection=${c2}`)).status, 200);
		const l = await accounts(browser, ['list', '--json']);
		assert.equal(l.rc, 0, l.stderr);
		assert.equal(JSON.parse(l.out).length, 1);
	});
});
