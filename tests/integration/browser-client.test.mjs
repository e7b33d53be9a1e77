// www/authgate.js, the browser-side helpers (getUser, invalidate,
// getAccessToken, requireLogin, configure):
//   1. its logic in node, the file run in a vm with a scripted fetch and
//      location (no browser, no server);
//   2. in a real browser (Debian's Chromium via playwright-core) on the
//      real demo page (www/index.html) served by lighttpd + authgate-fcgi,
//      with a real login at the test provider: null before login and
//      requireLogin()'s redirect, alice and the cache after it, access
//      tokens from /auth/access-token (skipped while authgate-fcgi does
//      not have that route), the demo page's token and API buttons
//      against a tiny API (tests/lib/test-api.mjs), null after logout.
// A screenshot is written to tests/.run/ when a browser step fails.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { chromium } from 'playwright-core';
import { startStack } from '../lib/stack.mjs';
import { REPO, RUN_ROOT, runDir } from '../lib/procs.mjs';
import { isLoopback } from '../lib/client.mjs';
import { startTestApi } from '../lib/test-api.mjs';
import { logoutThroughPage } from '../lib/demo-page.mjs';

const SRC = fs.readFileSync(path.join(REPO, 'www', 'authgate.js'), 'utf8');
const UNEXPECTED = 'An unexpected error occurred while trying to fetch the access token.';

/* ------------------------------------------------------------ node (vm) */

// A sandbox running authgate.js with fetch answered by respond(url, init)
// -> {status, body} (body: object -> JSON, string as is) or a Promise.
function sandbox(respond, loc = {}) {
	const calls = [];
	const assigned = [];
	const ctx = {
		Promise, JSON, encodeURIComponent,
		location: {
			pathname: '/page', search: '?a=1', hash: '#top', ...loc,
			assign: (u) => assigned.push(u),
		},
		fetch: (url, init) => {
			calls.push({ url, init });
			return Promise.resolve(respond(url, init)).then((r) => {
				const text = typeof r.body === 'string' ? r.body :
				    r.body === undefined ? '' : JSON.stringify(r.body);
				return {
					status: r.status, ok: r.status >= 200 && r.status < 300,
					text: async () => text,
					json: async () => JSON.parse(text),
				};
			});
		},
	};
	ctx.window = ctx;
	vm.createContext(ctx);
	vm.runInContext(SRC, ctx, { filename: 'authgate.js' });
	return { ag: ctx.authgate, calls, assigned, ctx, Err: vm.runInContext('Error', ctx) };
}

function deferred() {
	let resolve;
	const p = new Promise((r) => { resolve = r; });
	return { p, resolve };
}

test('vm: getUser: null on 401 and 204, the user on 200, one request for many calls', async () => {
	for (const status of [401, 204]) {
		const { ag, calls } = sandbox(() => ({ status }));
		assert.equal(await ag.getUser(), null);
		assert.equal(calls.length, 1);
		assert.equal(calls[0].url, '/auth/profile');
		assert.equal(calls[0].init.credentials, 'same-origin');
		assert.equal(calls[0].init.headers.Accept, 'application/json');
	}
	const gate = deferred();
	const { ag, calls } = sandbox(() => gate.p.then(() => ({ status: 200, body: { sub: 'alice' } })));
	const all = Promise.all([ag.getUser(), ag.getUser(), ag.getUser()]);
	gate.resolve();
	const users = await all;
	assert.deepEqual(users.map((u) => u.sub), ['alice', 'alice', 'alice']);
	assert.equal((await ag.getUser()).sub, 'alice');
	assert.equal(calls.length, 1, 'concurrent and later calls share one request');
	ag.invalidate();
	assert.equal((await ag.getUser()).sub, 'alice');
	assert.equal(calls.length, 2, 'invalidate() -> a new request');
});

test('vm: getUser: other statuses reject, and a failure is not cached', async () => {
	let status = 500;
	const { ag, calls, Err } = sandbox(() => ({ status, body: status === 200 ? { sub: 'bob' } : 'oops' }));
	await assert.rejects(ag.getUser(), (e) => e instanceof Err && /500/.test(e.message));
	status = 200;
	assert.equal((await ag.getUser()).sub, 'bob');
	assert.equal(calls.length, 2);
});

test('vm: invalidate() while a request is on its way: the next getUser asks again', async () => {
	const gates = [deferred(), deferred()];
	let n = 0;
	const { ag, calls } = sandbox(() => {
		const i = n++;
		return gates[i].p.then(() => ({ status: 200, body: { sub: `u${i}` } }));
	});
	const first = ag.getUser();
	ag.invalidate();
	const second = ag.getUser();
	gates[1].resolve();
	gates[0].resolve();
	assert.equal((await first).sub, 'u0');
	assert.equal((await second).sub, 'u1');
	assert.equal((await ag.getUser()).sub, 'u1', 'the newer answer stays cached');
	assert.equal(calls.length, 2);
});

test('vm: getAccessToken: query parameters only when given', async () => {
	const body = { token: 'at-123', scope: 'openid profile', expires_at: 2000000000,
	    expires_in: 3600, token_type: 'bearer', extra: 'x' };
	const { ag, calls } = sandbox(() => ({ status: 200, body }));
	assert.equal(await ag.getAccessToken(), 'at-123');
	assert.equal(await ag.getAccessToken({}), 'at-123');
	await ag.getAccessToken({ audience: 'https://api.example/x?y', scope: 'read:a write:b',
	    mergeScopes: false, refresh: true });
	await ag.getAccessToken({ mergeScopes: true, refresh: false });
	assert.deepEqual(calls.map((c) => c.url), [
		'/auth/access-token',
		'/auth/access-token',
		'/auth/access-token?audience=https%3A%2F%2Fapi.example%2Fx%3Fy&scope=read%3Aa%20write%3Ab&mergeScopes=false&refresh=true',
		'/auth/access-token',
	]);
	assert.equal(calls[0].init.credentials, 'same-origin');
	const full = await ag.getAccessToken({ includeFullResponse: true });
	assert.deepEqual({ ...full }, { token: 'at-123', scope: 'openid profile',
	    expires_at: 2000000000, expires_in: 3600, token_type: 'bearer' });
});

test('vm: getAccessToken: AccessTokenError, MfaRequiredError, non-JSON', async () => {
	let answer;
	const { ag, Err, calls } = sandbox((url) => url.startsWith('/auth/profile') ?
	    { status: 200, body: { sub: 'alice' } } : answer);

	answer = { status: 401, body: { error: { code: 'failed_to_refresh_token',
	    message: 'The access token has expired and there was an error while trying to refresh it.' } } };
	await assert.rejects(ag.getAccessToken(), (e) => {
		assert.ok(e instanceof ag.AccessTokenError);
		assert.ok(e instanceof Err, 'an Error too');
		assert.equal(e.name, 'AccessTokenError');
		assert.equal(e.code, 'failed_to_refresh_token');
		assert.match(e.message, /error while trying to refresh/);
		return true;
	});

	answer = { status: 403, body: { error: 'mfa_required', error_description: 'Multifactor authentication required',
	    mfa_token: 'eyJ.enc', mfa_requirements: { challenge: [{ type: 'otp' }] } } };
	await assert.rejects(ag.getAccessToken({ audience: 'https://api/' }), (e) => {
		assert.ok(e instanceof ag.MfaRequiredError);
		assert.ok(!(e instanceof ag.AccessTokenError));
		assert.equal(e.code, 'mfa_required');
		assert.equal(e.error_description, 'Multifactor authentication required');
		assert.equal(e.mfa_token, 'eyJ.enc');
		assert.deepEqual({ ...e.mfa_requirements.challenge[0] }, { type: 'otp' });
		return true;
	});

	// A flat OAuth-style body (the SDK's fallback: code = error).
	answer = { status: 400, body: { error: 'invalid_request', error_description: 'bad' } };
	await assert.rejects(ag.getAccessToken(), (e) => e instanceof ag.AccessTokenError &&
	    e.code === 'invalid_request' && e.message === 'bad');

	for (const a of [{ status: 502, body: '<html>Bad gateway</html>' },
	    { status: 200, body: 'not json' }, { status: 200, body: { no: 'token' } }]) {
		answer = a;
		await assert.rejects(ag.getAccessToken(), (e) => e.constructor === Err &&
		    e.message === UNEXPECTED);
	}

	// missing_session forgets the cached user.
	await ag.getUser();
	const before = calls.filter((c) => c.url === '/auth/profile').length;
	answer = { status: 401, body: { error: { code: 'missing_session',
	    message: 'The user does not have an active session.' } } };
	await assert.rejects(ag.getAccessToken(), { code: 'missing_session' });
	await ag.getUser();
	assert.equal(calls.filter((c) => c.url === '/auth/profile').length, before + 1);
});

test('vm: requireLogin: the user, or location.assign to the login with returnTo', async () => {
	let status = 200;
	const { ag, assigned } = sandbox(() => ({ status, body: status === 200 ? { sub: 'alice' } : '' }));
	assert.equal((await ag.requireLogin()).sub, 'alice');
	assert.deepEqual(assigned, []);

	status = 401;
	ag.invalidate();
	let settled = false;
	ag.requireLogin().then(() => { settled = true; }, () => { settled = true; });
	await new Promise((r) => setTimeout(r, 20));
	assert.deepEqual(assigned, ['/auth/login?returnTo=%2Fpage%3Fa%3D1%23top']);
	assert.equal(settled, false, 'never settles');

	ag.requireLogin({ returnTo: '/after?x=1&y=2' });
	await new Promise((r) => setTimeout(r, 20));
	assert.equal(assigned[1], '/auth/login?returnTo=%2Fafter%3Fx%3D1%26y%3D2');

	// A profile failure sends to the login too (like the SDK).
	status = 500;
	ag.invalidate();
	ag.requireLogin({ returnTo: '/x' });
	await new Promise((r) => setTimeout(r, 20));
	assert.equal(assigned[2], '/auth/login?returnTo=%2Fx');
});

test('vm: configure({prefix}) moves every route and forgets the cache', async () => {
	const { ag, calls, assigned } = sandbox(() => ({ status: 401, body: '' }));
	await ag.getUser();
	assert.deepEqual({ ...ag.configure({ prefix: '/app/' }) }, { prefix: '/app' });
	await ag.getUser();
	await assert.rejects(ag.getAccessToken({ scope: 's' }));
	ag.requireLogin();
	await new Promise((r) => setTimeout(r, 20));
	assert.deepEqual(calls.map((c) => c.url), ['/auth/profile', '/app/auth/profile',
	    '/app/auth/access-token?scope=s']);
	assert.equal(assigned[0], '/app/auth/login?returnTo=%2Fpage%3Fa%3D1%23top');
	assert.equal(ag.logoutUrl(), '/app/auth/logout');
	ag.configure({ prefix: '' });
	assert.equal(ag.loginUrl('/'), '/auth/login?returnTo=%2F');
});

test('vm: the file is ES5 syntax (no class, arrow, let/const, template)', () => {
	const code = SRC.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
	    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
	assert.doesNotMatch(code, /=>|`|\bclass\b|\blet\b|\bconst\b|\basync\b|\bawait\b|\.\.\./);
});

/* -------------------------------------------------------------- browser */

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking', '--disable-component-update',
	'--disable-sync'];

let s, api, docroot, browser, context, page, skipReason = null, noTokenRoute = null;
const log = [];
const profileRequests = [];

before(async () => {
	if (!fs.existsSync(CHROMIUM)) {
		skipReason = `${CHROMIUM} not installed`;
		return;
	}
	// The site: the demo page as it is (index.html), authgate.js, and
	// the demo page with data-api-url naming the test API (api.html).
	// (Not a page.route() fulfilling a changed page: Chromium puts such
	// a document in the public address space, and its Local Network
	// Access checks then refuse its fetch to the API on 127.0.0.1.)
	docroot = path.join(runDir('browser-client-site'), 'site');
	fs.mkdirSync(docroot, { recursive: true });
	for (const f of ['index.html', 'authgate.js'])
		fs.copyFileSync(path.join(REPO, 'www', f), path.join(docroot, f));
	s = await startStack({ name: 'browser-client', docroot });
	api = await startTestApi({ issuer: s.issuer, allowOrigin: s.appUrl });
	const html = fs.readFileSync(path.join(REPO, 'www', 'index.html'), 'utf8');
	assert.ok(html.includes('data-api-url=""'), 'www/index.html has data-api-url');
	fs.writeFileSync(path.join(docroot, 'api.html'),
	    html.replace('data-api-url=""', `data-api-url="${api.url}"`));
	// Is /auth/access-token there yet?  (404: this authgate-fcgi lacks it.)
	const probe = await fetch(`${s.appUrl}/auth/access-token`,
	    { headers: { Accept: 'application/json' } });
	if (probe.status === 404)
		noTokenRoute = 'authgate-fcgi has no /auth/access-token route yet (404)';
	await probe.arrayBuffer();
	browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60000 });
	// One context for the whole story: the tests below run in order.
	context = await browser.newContext();
	await context.route('**/*', (route) => {
		if (isLoopback(route.request().url()))
			return route.continue();
		return route.abort('blockedbyclient');
	});
	await context.addInitScript(SHAPE);
	page = await context.newPage();
	page.setDefaultTimeout(15000);
	page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
	page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
	page.on('framenavigated', (f) => {
		if (f === page.mainFrame())
			log.push(`navigated: ${f.url()}`);
	});
	page.on('request', (r) => {
		if (new URL(r.url()).pathname === '/auth/profile')
			profileRequests.push(r.url());
	});
});

after(async () => {
	await context?.close();
	await browser?.close();
	await api?.stop();
	await s?.stop();
});

// Run fn(page); on failure add a screenshot, the URL and the page's log.
async function step(t, name, fn, { needsTokenRoute = false } = {}) {
	if (skipReason)
		return t.skip(skipReason);
	if (needsTokenRoute && noTokenRoute)
		return t.skip(noTokenRoute);
	try {
		await fn(page);
	} catch (e) {
		fs.mkdirSync(RUN_ROOT, { recursive: true });
		const shot = path.join(RUN_ROOT, `browser-client-${name}-${Date.now()}.png`);
		await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
		e.message += `\nscreenshot: ${shot}\nurl: ${page.url()}\n${log.slice(-40).join('\n')}`;
		throw e;
	}
}

// In the page: window.__shape(e) -> {name, code, message, is...} (errors
// do not cross evaluate() with their class and fields).
const SHAPE = `window.__shape = function (e) {
	return {
		isAccessTokenError: e instanceof authgate.AccessTokenError,
		isMfaRequiredError: e instanceof authgate.MfaRequiredError,
		isError: e instanceof Error,
		name: e && e.name, code: e && e.code, message: e && e.message
	};
};`;

test('browser: signed out: the demo page, getUser() -> null, no API button', async (t) => {
	await step(t, 'signed-out', async (page) => {
		await page.goto(`${s.appUrl}/`);
		await page.getByRole('link', { name: 'Log in' }).waitFor();
		assert.equal(await page.locator('#signed-in').isHidden(), true);
		assert.equal(await page.locator('#api').isHidden(), true, 'no data-api-url: no API button');
		assert.equal(await page.evaluate(() => typeof window.authgate), 'object');
		assert.equal(await page.evaluate(() => authgate.getUser()), null);
		assert.equal(profileRequests.length, 1, 'the page and this call shared one request');
	});
});

test('browser: signed out: getAccessToken() -> AccessTokenError missing_session', async (t) => {
	await step(t, 'token-signed-out', async (page) => {
		const r = await page.evaluate(() => authgate.getAccessToken()
		    .then((tok) => ({ tok }), window.__shape));
		assert.equal(r.tok, undefined, 'no token without a session');
		assert.equal(r.isAccessTokenError, true, JSON.stringify(r));
		assert.equal(r.code, 'missing_session');
		assert.equal(r.message, 'The user does not have an active session.');
	}, { needsTokenRoute: true });
});

test('browser: requireLogin() goes to /auth/login?returnTo=<this page>, then a real login', async (t) => {
	await step(t, 'require-login', async (page) => {
		await page.goto(`${s.appUrl}/?from=require#frag`);
		await page.getByRole('link', { name: 'Log in' }).waitFor();
		const loginReq = page.waitForRequest((r) => new URL(r.url()).pathname === '/auth/login');
		// Not awaited: the promise never settles, the page navigates away.
		await page.evaluate(() => { authgate.requireLogin(); });
		const req = await loginReq;
		const u = new URL(req.url());
		assert.equal(u.searchParams.get('returnTo'), '/?from=require#frag');
		assert.equal([...u.searchParams.keys()].join(','), 'returnTo');

		// The provider's own login and consent pages.
		await page.waitForURL((x) => x.href.startsWith(s.issuer));
		await page.locator('input[name="login"]').fill('alice');
		await page.locator('input[name="password"]').fill('whatever');
		await page.getByRole('button', { name: /sign-?in/i }).click();
		await page.getByRole('button', { name: 'Continue' }).click();

		// Back where requireLogin() was called.
		await page.waitForURL((x) => x.href.startsWith(`${s.appUrl}/?from=require`));
		t.diagnostic(`back on ${page.url()}`);
		await page.locator('#name').filter({ hasText: 'Alice Example' }).waitFor();
	});
});

test('browser: signed in: getUser() -> alice, cached; invalidate() fetches again', async (t) => {
	await step(t, 'signed-in', async (page) => {
		await page.goto(`${s.appUrl}/`);
		await page.locator('#name').filter({ hasText: 'Alice Example' }).waitFor();
		const n0 = profileRequests.length;
		const users = await page.evaluate(() => Promise.all([
			authgate.getUser(), authgate.getUser(), authgate.getUser(),
		]).then((a) => authgate.getUser().then((u) => a.concat([u]))));
		assert.deepEqual(users.map((u) => u.sub), ['alice', 'alice', 'alice', 'alice']);
		assert.equal(users[0].name, 'Alice Example');
		assert.equal(profileRequests.length, n0, 'served from the page load\'s request');
		assert.equal(await page.evaluate(() =>
		    authgate.requireLogin().then((u) => u.sub)), 'alice');

		await page.evaluate(() => authgate.invalidate());
		const again = await page.evaluate(() => Promise.all([authgate.getUser(),
		    authgate.getUser()]).then((a) => a.map((u) => u.sub)));
		assert.deepEqual(again, ['alice', 'alice']);
		assert.equal(profileRequests.length, n0 + 1, 'one new request after invalidate()');
	});
});

test('browser: signed in: getAccessToken() from the real /auth/access-token', async (t) => {
	await step(t, 'token', async (page) => {
		const tok = await page.evaluate(() => authgate.getAccessToken());
		assert.equal(typeof tok, 'string');
		assert.ok(tok.length > 10, tok);
		const full = await page.evaluate(() => authgate.getAccessToken({ includeFullResponse: true }));
		assert.equal(full.token, tok, 'the same (still valid) token');
		assert.equal(typeof full.expires_at, 'number');
		assert.equal(typeof full.expires_in, 'number');
		assert.ok(full.expires_in > 0 && full.expires_in <= 3600, JSON.stringify(full));
		assert.ok(Math.abs(full.expires_at - Date.now() / 1000 - full.expires_in) < 5);
		if (full.scope !== undefined)
			assert.equal(typeof full.scope, 'string');
		for (const k of Object.keys(full))
			assert.ok(['token', 'scope', 'expires_at', 'expires_in', 'token_type'].includes(k), k);
		// The token works at the provider (through the test API).
		const r = await fetch(api.url, { headers: { Authorization: `Bearer ${tok}` } });
		assert.equal(r.status, 200);
		assert.equal((await r.json()).sub, 'alice');
	}, { needsTokenRoute: true });
});

test('browser: getAccessToken with a bogus audience -> AccessTokenError with a code', async (t) => {
	await step(t, 'token-bogus-audience', async (page) => {
		const r = await page.evaluate(() => authgate.getAccessToken({
			audience: 'https://no-such-api.invalid/', scope: 'read:nothing',
		}).then((tok) => ({ tok }), window.__shape));
		t.diagnostic(`server answered: ${JSON.stringify(r)}`);
		assert.equal(r.tok, undefined, `a token for a bogus audience: ${JSON.stringify(r)}`);
		assert.equal(r.isError, true);
		assert.ok(r.isAccessTokenError || r.isMfaRequiredError, JSON.stringify(r));
		assert.equal(r.name, r.isMfaRequiredError ? 'MfaRequiredError' : 'AccessTokenError');
		assert.match(r.code, /^[a-z_]+$/);
		assert.equal(typeof r.message, 'string');
		assert.ok(r.message.length > 0);
		// The session survives a refused audience.
		assert.equal(await page.evaluate(() => { authgate.invalidate();
			return authgate.getUser().then((u) => u && u.sub); }), 'alice');
	}, { needsTokenRoute: true });
});

test('browser: the demo page\'s buttons: token summary and the test API', async (t) => {
	await step(t, 'demo-buttons', async (page) => {
		await page.goto(`${s.appUrl}/api.html`);
		await page.locator('#name').filter({ hasText: 'Alice Example' }).waitFor();
		assert.equal(await page.locator('#api').isVisible(), true, 'data-api-url: the API button');
		assert.equal(await page.locator('#api-url').textContent(), api.url);
		await page.getByRole('button', { name: 'Get an access token' }).click();
		const shown = page.locator('#token dd[data-field="token"]');
		await shown.waitFor();
		const text = await shown.textContent();
		assert.match(text, /^.{12}\u2026$/u, 'first 12 characters and an ellipsis');
		const tok = await page.evaluate(() => authgate.getAccessToken());
		assert.equal(text, tok.slice(0, 12) + '\u2026');
		assert.equal(await page.locator('#token dd[data-field="expires"]').count(), 1);
		assert.equal(await page.locator('#token-error').isHidden(), true);
		assert.ok(!(await page.content()).includes(tok), 'the whole token is not in the page');

		const n = api.calls.length;
		await page.getByRole('button', { name: 'Call the test API' }).click();
		await page.locator('#api-result:not([hidden]), #api-error:not([hidden])').waitFor();
		assert.equal(await page.locator('#api-error').isHidden(), true,
		    `${await page.locator('#api-error').textContent()} ${JSON.stringify(api.calls)}`);
		const res = JSON.parse(await page.locator('#api-result').textContent());
		assert.equal(res.ok, true);
		assert.equal(res.sub, 'alice');
		assert.ok(api.calls.slice(n).some((c) => c.method === 'GET' && c.authorization &&
		    c.status === 200), JSON.stringify(api.calls));
	}, { needsTokenRoute: true });
});

test('browser: the demo page shows a token error with its code', async (t) => {
	await step(t, 'demo-token-error', async (page) => {
		await page.route(`${s.appUrl}/auth/access-token*`, (route) => route.fulfill({
			status: 401, contentType: 'application/json',
			body: JSON.stringify({ error: { code: 'failed_to_refresh_token',
			    message: 'The access token has expired and there was an error while trying to refresh it.' } }),
		}));
		try {
			await page.goto(`${s.appUrl}/`);
			await page.locator('#name').filter({ hasText: 'Alice Example' }).waitFor();
			await page.getByRole('button', { name: 'Get an access token' }).click();
			await page.locator('#token-error').waitFor();
			assert.match(await page.locator('#token-error').textContent(),
			    /^failed_to_refresh_token: The access token has expired/);
			assert.equal(await page.locator('#token').isHidden(), true);
		} finally {
			await page.unroute(`${s.appUrl}/auth/access-token*`);
		}
	});
});

test('browser: after logout: getUser() -> null once invalidated', async (t) => {
	await step(t, 'logout', async (page) => {
		await logoutThroughPage(page, s);
		assert.equal(await page.evaluate(() => authgate.getUser()), null);
		const n0 = profileRequests.length;
		assert.equal(await page.evaluate(() => authgate.getUser()), null);
		assert.equal(profileRequests.length, n0, 'cached null');
		assert.equal(await page.evaluate(() => { authgate.invalidate();
			return authgate.getUser(); }), null);
		assert.equal(profileRequests.length, n0 + 1);
		const cookies = await context.cookies(s.appUrl);
		assert.ok(!cookies.some((c) => c.name.startsWith('__session')), 'session cookie gone');
	});
});
