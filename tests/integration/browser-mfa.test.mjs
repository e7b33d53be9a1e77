// www/authgate.js's MFA step-up helpers (authgate.mfa, MfaError) and
// connection tokens (getAccessToken({connection, loginHint})), in a
// real browser (Debian's Chromium via playwright-core) on the real demo
// page (www/index.html) served by lighttpd + authgate-fcgi, against the
// test provider with its fakes of Auth0's MFA API (IDP_AUTH0_MFA=1,
// tests/idp/auth0-mfa.mjs) and Token Vault (IDP_AUTH0_VAULT=1,
// tests/idp/auth0-vault.mjs):
//   1. log in as alice through the page and the provider's pages;
//   2. the demo's step-up through its UI: the button -> mfa_required ->
//      OTP challenge -> the form; a wrong code shows the error, the
//      right one shows the token, which is then kept in the session;
//   3. authgate.mfa.* from page script: getAuthenticators, challenge
//      (and one the requirements do not list), verify with the recovery
//      code, enroll refused -> MfaError with the provider's code, a
//      tampered mfa_token -> MfaError mfa_token_invalid, no options ->
//      a rejected promise, not a throw;
//   4. the demo for bob (nothing enrolled): it enrolls an OTP app (key,
//      otpauth link, recovery code shown), then verifies; requirements
//      it cannot meet are said so; mallory enrolls from page script;
//   5. getAccessToken({connection}) -> the Token Vault token (one grant
//      for two calls, the query the server gets), loginHint -> its own
//      token, a connection without a token and a bad name ->
//      AccessTokenError; after logout missing_session.
// A screenshot is written to tests/.run/ when a browser step fails.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startStack } from '../lib/stack.mjs';
import { REPO, RUN_ROOT, runDir } from '../lib/procs.mjs';
import { isLoopback } from '../lib/client.mjs';
import { logoutThroughPage } from '../lib/demo-page.mjs';
import { MFA_AUDIENCE, OTP_CODE, RECOVERY_CODES } from '../idp/auth0-mfa.mjs';
import { CONNECTIONS } from '../idp/auth0-vault.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking', '--disable-component-update',
	'--disable-sync'];
const GOOGLE = 'google-oauth2';

// In the page: window.__shape(e) -> the error's class and fields (errors
// do not cross evaluate() with their class).
const SHAPE = `window.__shape = function (e) {
	return {
		isAccessTokenError: e instanceof authgate.AccessTokenError,
		isMfaRequiredError: e instanceof authgate.MfaRequiredError,
		isMfaError: e instanceof authgate.MfaError,
		isError: e instanceof Error,
		name: e && e.name, code: e && e.code, message: e && e.message,
		error: e && e.error, error_description: e && e.error_description,
		status: e && e.status, mfa_token: e && e.mfa_token,
		mfa_requirements: e && e.mfa_requirements
	};
};`;

let s, browser, skipReason = null;
const pages = [];	// {name, page, log, tokenUrls} of the open contexts

before(async () => {
	if (!fs.existsSync(CHROMIUM)) {
		skipReason = `${CHROMIUM} not installed`;
		return;
	}
	// The site: the demo page and authgate.js as they are.
	const docroot = path.join(runDir('browser-mfa-site'), 'site');
	fs.mkdirSync(docroot, { recursive: true });
	for (const f of ['index.html', 'authgate.js'])
		fs.copyFileSync(path.join(REPO, 'www', f), path.join(docroot, f));
	s = await startStack({
		name: 'browser-mfa', docroot,
		idpEnv: { IDP_AUTH0_MFA: '1', IDP_AUTH0_VAULT: '1' },
	});
	browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60000 });
});

after(async () => {
	for (const p of pages)
		await p.page.context().close().catch(() => {});
	await browser?.close();
	await s?.stop();
});

// A page in its own context (its own cookies) whose requests never leave
// loopback; .tokenUrls collects the /auth/access-token requests.
async function newPage(name) {
	const context = await browser.newContext();
	await context.route('**/*', (route) => {
		if (isLoopback(route.request().url()))
			return route.continue();
		return route.abort('blockedbyclient');
	});
	await context.addInitScript(SHAPE);
	const page = await context.newPage();
	page.setDefaultTimeout(15000);
	const p = { name, page, log: [], tokenUrls: [] };
	page.on('console', (m) => p.log.push(`console.${m.type()}: ${m.text()}`));
	page.on('pageerror', (e) => p.log.push(`pageerror: ${e.message}`));
	page.on('framenavigated', (f) => {
		if (f === page.mainFrame())
			p.log.push(`navigated: ${f.url()}`);
	});
	page.on('request', (r) => {
		const u = new URL(r.url());
		if (u.pathname === '/auth/access-token')
			p.tokenUrls.push(u.pathname + u.search);
	});
	page.on('response', (r) => {
		const u = new URL(r.url());
		if (u.origin === s.appUrl && u.pathname.startsWith('/auth/'))
			p.log.push(`${r.request().method()} ${u.pathname} -> ${r.status()}`);
	});
	pages.push(p);
	return p;
}

// Run fn(page) unless skipped; on failure add a screenshot, the URL and
// the page's log to the error.
async function step(t, p, name, fn) {
	if (skipReason)
		return t.skip(skipReason);
	if (!p)
		throw new Error('the page of an earlier step is missing (its login failed)');
	try {
		await fn(p.page);
	} catch (e) {
		fs.mkdirSync(RUN_ROOT, { recursive: true });
		const shot = path.join(RUN_ROOT, `browser-mfa-${name}-${Date.now()}.png`);
		await p.page.screenshot({ path: shot, fullPage: true }).catch(() => {});
		e.message += `\nscreenshot: ${shot}\nurl: ${p.page.url()}\n${p.log.slice(-40).join('\n')}`;
		throw e;
	}
}

// The demo page's Log in, the provider's login and consent pages, back
// on the demo page signed in as user.
async function loginThroughPage(page, user, displayName) {
	await page.goto(`${s.appUrl}/`);
	await page.getByRole('link', { name: 'Log in' }).click();
	await page.waitForURL((u) => u.href.startsWith(s.issuer));
	await page.locator('input[name="login"]').fill(user);
	await page.locator('input[name="password"]').fill('whatever');
	await page.getByRole('button', { name: /sign-?in/i }).click();
	await page.getByRole('button', { name: 'Continue' }).click();
	await page.waitForURL(`${s.appUrl}/`);
	await page.locator('#name').filter({ hasText: displayName }).waitFor();
}

// Fill the demo's one-time code form and submit it.
async function submitOtp(page, code) {
	await page.locator('#otp').fill(code);
	await page.locator('#otp-form').getByRole('button', { name: 'Verify' }).click();
}

async function mfaStats() {
	return (await fetch(`${s.idp.base}/test/mfa`)).json();
}

async function vaultStats() {
	return (await fetch(`${s.idp.base}/test/vault/stats`)).json();
}

// In the page: a fresh mfa_required for the MFA audience (refresh: true
// skips a token the session already holds) -> the error's shape.
function stepUpError(page) {
	return page.evaluate((aud) => authgate.getAccessToken({ audience: aud, refresh: true })
	    .then((tok) => ({ tok }), window.__shape), MFA_AUDIENCE);
}

let alice = null, bob = null;	// their pages, once logged in

// A test step on a new page of its own, logged in as user first; the
// page (null when the login failed).
async function loginStep(t, user, displayName, name, fn) {
	if (skipReason)
		return t.skip(skipReason);
	const p = await newPage(user);
	let ok = false;
	await step(t, p, name, async (page) => {
		await loginThroughPage(page, user, displayName);
		ok = true;
		await fn(page);
	});
	return ok ? p : null;
}

test('log in as alice through the demo page', async (t) => {
	alice = await loginStep(t, 'alice', 'Alice Example', 'login', async () => {});
});

test('demo step-up: the button, a wrong OTP shows the error, the right one the token', async (t) => {
	await step(t, alice, 'demo-step-up', async (page) => {
		const st0 = await mfaStats();
		const n0 = alice.tokenUrls.length;
		await page.getByRole('button', { name: 'Get a token that needs MFA' }).click();
		const form = page.locator('#otp-form');
		await form.waitFor();
		assert.equal(await page.locator('#mfa-error').isHidden(), true,
		    await page.locator('#mfa-error').textContent());
		assert.deepEqual(alice.tokenUrls.slice(n0),
		    [`/auth/access-token?audience=${encodeURIComponent(MFA_AUDIENCE)}`]);
		const st1 = await mfaStats();
		assert.equal(st1.mfa_required, st0.mfa_required + 1, 'the provider asked for MFA');
		assert.equal(st1.challenge, st0.challenge + 1, 'the page asked for an OTP challenge');
		assert.equal(await page.evaluate(() => document.activeElement.id), 'otp',
		    'the code field has the focus');

		// A wrong code: the provider's error, the form stays.
		await submitOtp(page, '000000');
		const err = page.locator('#mfa-error');
		await err.waitFor();
		assert.equal(await err.textContent(), 'invalid_grant: Invalid otp_code.');
		assert.equal(await page.locator('#mfa-result').isHidden(), true);
		assert.equal(await form.isVisible(), true, 'the form stays for another try');

		// The right code: the token, the error gone, the form hidden.
		await submitOtp(page, OTP_CODE);
		const res = page.locator('#mfa-result');
		await res.waitFor();
		assert.match(await res.textContent(),
		    /^Token for https:\/\/mfa\.example\.test\/ \(expires in \d+ s\)\.$/);
		assert.equal(await err.isHidden(), true, 'the old error is gone');
		assert.equal(await form.isHidden(), true);
		const st2 = await mfaStats();
		assert.equal(st2.grants.otp, st1.grants.otp + 2, 'two verify attempts');

		// Kept in the session: asked again, no new step-up.
		const tok = await page.evaluate((aud) => authgate.getAccessToken({ audience: aud }),
		    MFA_AUDIENCE);
		assert.match(tok, /^mfa-at-/, 'the token the MFA grant issued');
		assert.equal((await mfaStats()).mfa_required, st2.mfa_required);
		assert.ok(!(await page.content()).includes(tok), 'the token is not in the page');
	});
});

test('demo step-up again: a second click starts over without a stale error', async (t) => {
	await step(t, alice, 'demo-step-up-again', async (page) => {
		// The session's token is still valid: straight to the result.
		await page.locator('#mfa-result').evaluate((el) => { el.textContent = ''; });
		await page.getByRole('button', { name: 'Get a token that needs MFA' }).click();
		await page.locator('#mfa-result').filter({ hasText: /^Token for / }).waitFor();
		assert.equal(await page.locator('#otp-form').isHidden(), true);
		assert.equal(await page.locator('#mfa-error').isHidden(), true);
	});
});

test('authgate.mfa from page script: authenticators, challenge, recovery code, enroll refused', async (t) => {
	await step(t, alice, 'mfa-api', async (page) => {
		const e = await stepUpError(page);
		assert.equal(e.tok, undefined, JSON.stringify(e));
		assert.equal(e.isMfaRequiredError, true, JSON.stringify(e));
		assert.equal(e.isAccessTokenError, false);
		assert.equal(e.name, 'MfaRequiredError');
		assert.equal(e.code, 'mfa_required');
		assert.equal(e.error_description, 'Multifactor authentication required');
		assert.match(e.mfa_token, /^eyJ[\w-]*\.\.[\w-]+\.[\w-]+\.[\w-]+$/, 'the sealed token');
		assert.deepEqual(e.mfa_requirements.challenge.map((c) => c.type).sort(),
		    ['oob', 'otp', 'recovery-code']);
		const token = e.mfa_token;

		const list = await page.evaluate((t) => authgate.mfa.getAuthenticators({ mfaToken: t }), token);
		assert.deepEqual(list.map((a) => a.id).sort(),
		    ['recovery-code|dev_alice', 'sms|dev_alice', 'totp|dev_alice']);

		const ch = await page.evaluate((t) => authgate.mfa.challenge({ mfaToken: t,
		    challengeType: 'otp' }), token);
		assert.deepEqual(ch, { challenge_type: 'otp' });
		const oob = await page.evaluate((t) => authgate.mfa.challenge({ mfaToken: t,
		    challengeType: 'oob', authenticatorId: 'sms|dev_alice' }), token);
		assert.equal(oob.challenge_type, 'oob');
		assert.equal(oob.binding_method, 'prompt');
		assert.equal(typeof oob.oob_code, 'string');

		// A type the requirements do not list: our own check, 400.
		const push = await page.evaluate((t) => authgate.mfa.challenge({ mfaToken: t,
		    challengeType: 'push' }).then((r) => ({ r }), window.__shape), token);
		assert.equal(push.isMfaError, true, JSON.stringify(push));
		assert.equal(push.name, 'MfaError');
		assert.equal(push.code, 'mfa_no_available_factors');
		assert.equal(push.status, 400);

		// Enrolling while enrolled: the provider's refusal, as MfaError.
		const en = await page.evaluate((t) => authgate.mfa.enroll({ mfaToken: t,
		    factorType: 'otp' }).then((r) => ({ r }), window.__shape), token);
		assert.equal(en.isMfaError, true, JSON.stringify(en));
		assert.equal(en.isError, true);
		assert.equal(en.code, 'access_denied');
		assert.equal(en.error, 'access_denied');
		assert.equal(en.message, 'User is already enrolled.');
		assert.equal(en.error_description, 'User is already enrolled.');
		assert.equal(en.status, 400);

		// No options at all: a rejected promise (the server's 400), no throw.
		for (const f of ['getAuthenticators', 'challenge', 'verify', 'enroll']) {
			const r = await page.evaluate((f) => {
				try {
					return authgate.mfa[f]().then((r) => ({ r }), window.__shape);
				} catch (x) {
					return { threw: String(x) };
				}
			}, f);
			assert.equal(r.isMfaError, true, `${f}(): ${JSON.stringify(r)}`);
			assert.equal(r.code, 'invalid_request', f);
			assert.equal(r.status, 400, f);
		}

		// A tampered mfa_token: 401 mfa_token_invalid.
		const parts = token.split('.');
		parts[3] = (parts[3][0] === 'A' ? 'B' : 'A') + parts[3].slice(1);
		const bad = await page.evaluate((t) => authgate.mfa.getAuthenticators({ mfaToken: t })
		    .then((r) => ({ r }), window.__shape), parts.join('.'));
		assert.equal(bad.isMfaError, true, JSON.stringify(bad));
		assert.equal(bad.code, 'mfa_token_invalid');
		assert.equal(bad.status, 401);

		// The recovery code: success and the next recovery code.
		const st0 = await mfaStats();
		const v = await page.evaluate(({ t, c }) => authgate.mfa.verify({ mfaToken: t,
		    recoveryCode: c }), { t: token, c: RECOVERY_CODES.alice });
		assert.equal(v.success, true, JSON.stringify(v));
		assert.equal(typeof v.recovery_code, 'string');
		assert.notEqual(v.recovery_code, RECOVERY_CODES.alice);
		assert.equal((await mfaStats()).grants.recovery, st0.grants.recovery + 1);
		const tok = await page.evaluate((aud) => authgate.getAccessToken({ audience: aud }),
		    MFA_AUDIENCE);
		assert.match(tok, /^mfa-at-/);

		// The spent code again, on a fresh step-up: invalid_grant.
		const again = await stepUpError(page);
		const spent = await page.evaluate(({ t, c }) => authgate.mfa.verify({ mfaToken: t,
		    recoveryCode: c }).then((r) => ({ r }), window.__shape),
		    { t: again.mfa_token, c: RECOVERY_CODES.alice });
		assert.equal(spent.isMfaError, true, JSON.stringify(spent));
		assert.equal(spent.code, 'invalid_grant');
		assert.equal(spent.message, 'Invalid recovery_code.');
	});
});

test('demo step-up for bob (nothing enrolled): the page enrolls an OTP app, then verifies', async (t) => {
	let done = false;
	const p = await loginStep(t, 'bob', 'Bob Example', 'demo-enroll', async (page) => {
		const st0 = await mfaStats();
		await page.getByRole('button', { name: 'Get a token that needs MFA' }).click();
		await page.locator('#otp-form').waitFor();
		assert.equal(await page.locator('#mfa-error').isHidden(), true,
		    await page.locator('#mfa-error').textContent());
		const st1 = await mfaStats();
		assert.equal(st1.associate, st0.associate + 1, 'enrolled, not challenged');
		assert.equal(st1.challenge, st0.challenge);
		assert.equal(await page.locator('#enroll').isVisible(), true);
		assert.equal(await page.locator('#enroll-secret').textContent(), 'JBSWY3DPEHPK3PXP');
		assert.match(await page.locator('#enroll-uri').textContent(), /^otpauth:\/\/totp\//);
		assert.match(await page.locator('#enroll-recovery').textContent(), /^[A-Z0-9_-]{10,}$/i);

		await submitOtp(page, '999999');
		await page.locator('#mfa-error').waitFor();
		assert.equal(await page.locator('#mfa-error').textContent(),
		    'invalid_grant: Invalid otp_code.');
		await submitOtp(page, OTP_CODE);
		await page.locator('#mfa-result').waitFor();
		assert.match(await page.locator('#mfa-result').textContent(), /^Token for /);
		assert.equal(await page.locator('#enroll').isHidden(), true, 'the key is hidden again');
		assert.equal(await page.locator('#mfa-error').isHidden(), true);
		// Enrolled now: the next step-up is a challenge.
		const e = await stepUpError(page);
		assert.deepEqual(e.mfa_requirements?.challenge?.map((c) => c.type), ['otp'],
		    JSON.stringify(e));
		await page.getByRole('button', { name: 'Get a token that needs MFA' }).click();
		await page.locator('#mfa-result').filter({ hasText: /^Token for / }).waitFor();
		done = true;
	});
	bob = done ? p : null;
});

test('demo step-up: requirements the demo cannot meet are said so, not attempted', async (t) => {
	await step(t, bob, 'demo-unsupported', async (page) => {
		const n = (await mfaStats()).challenge;
		await page.route(`${s.appUrl}/auth/access-token*`, (route) => route.fulfill({
			status: 403, contentType: 'application/json',
			body: JSON.stringify({ error: 'mfa_required', error_description: 'x',
			    mfa_token: 'eyJ.x', mfa_requirements: { challenge: [{ type: 'push-notification' }] } }),
		}));
		try {
			await page.getByRole('button', { name: 'Get a token that needs MFA' }).click();
			await page.locator('#mfa-error').waitFor();
			assert.match(await page.locator('#mfa-error').textContent(),
			    /one-time codes \(otp\) only; the provider offers push-notification\.$/);
			assert.equal(await page.locator('#otp-form').isHidden(), true);
			assert.equal(await page.locator('#mfa-result').isHidden(), true);
			assert.equal((await mfaStats()).challenge, n, 'no challenge sent');
		} finally {
			await page.unroute(`${s.appUrl}/auth/access-token*`);
		}
	});
});

test('authgate.mfa: mallory (nothing enrolled) enrolls from page script and verifies', async (t) => {
	await loginStep(t, 'mallory', 'Mallory', 'enroll', async (page) => {
		const e = await stepUpError(page);
		assert.equal(e.isMfaRequiredError, true, JSON.stringify(e));
		assert.deepEqual(e.mfa_requirements, { enroll: [{ type: 'otp' }, { type: 'oob' }] });
		assert.deepEqual(await page.evaluate((t) =>
		    authgate.mfa.getAuthenticators({ mfaToken: t }), e.mfa_token), []);
		// SMS without a phone number: refused before the provider.
		const sms = await page.evaluate((t) => authgate.mfa.enroll({ mfaToken: t,
		    factorType: 'sms' }).then((r) => ({ r }), window.__shape), e.mfa_token);
		assert.equal(sms.isMfaError, true, JSON.stringify(sms));
		assert.equal(sms.code, 'invalid_request');
		const en = await page.evaluate((t) => authgate.mfa.enroll({ mfaToken: t,
		    factorType: 'otp' }), e.mfa_token);
		assert.equal(en.authenticator_type, 'otp');
		assert.match(en.barcode_uri, /^otpauth:\/\//);
		assert.equal(en.recovery_codes.length, 1);
		// associate is the same function.
		assert.equal(await page.evaluate(() => authgate.mfa.associate === authgate.mfa.enroll), true);
		const v = await page.evaluate(({ t, c }) => authgate.mfa.verify({ mfaToken: t, otp: c }),
		    { t: e.mfa_token, c: OTP_CODE });
		assert.equal(v.success, true, JSON.stringify(v));
		assert.match(await page.evaluate((aud) => authgate.getAccessToken({ audience: aud }),
		    MFA_AUDIENCE), /^mfa-at-/);
	});
});

test('getAccessToken({connection}): the Token Vault token, cached; loginHint has its own', async (t) => {
	await step(t, alice, 'connection', async (page) => {
		await fetch(`${s.idp.base}/test/vault/reset`, { method: 'POST' });
		const n0 = alice.tokenUrls.length;
		const tok = await page.evaluate((c) => authgate.getAccessToken({ connection: c }), GOOGLE);
		assert.match(tok, /^fc\.google-oauth2\./);
		const full = await page.evaluate((c) => authgate.getAccessToken({ connection: c,
		    includeFullResponse: true, audience: 'https://ignored.example/', refresh: true }), GOOGLE);
		assert.equal(full.token, tok, 'cached in the session');
		assert.equal(full.scope, CONNECTIONS[GOOGLE]);
		assert.equal(typeof full.expires_at, 'number');
		assert.ok(full.expires_in > 0, JSON.stringify(full));
		const st = await vaultStats();
		assert.equal(st.fcat, 1, 'one exchange for two calls');
		assert.equal(st.last_fcat.connection, GOOGLE);
		assert.equal(st.last_fcat.login_hint, undefined);
		assert.deepEqual(alice.tokenUrls.slice(n0), [
			'/auth/access-token?connection=google-oauth2',
			'/auth/access-token?connection=google-oauth2',
		], 'only the connection is sent');
		const fc = (await page.context().cookies(s.appUrl)).filter((c) => /^__FC_\d+$/.test(c.name));
		assert.deepEqual(fc.map((c) => c.name), ['__FC_0']);
		assert.equal(fc[0].httpOnly, true);

		const hinted = await page.evaluate((c) => authgate.getAccessToken({ connection: c,
		    loginHint: 'work@example.com' }), GOOGLE);
		assert.match(hinted, /^fc\.google-oauth2\./);
		assert.notEqual(hinted, tok);
		assert.equal(alice.tokenUrls.at(-1),
		    '/auth/access-token?connection=google-oauth2&login_hint=work%40example.com');
		assert.equal((await vaultStats()).last_fcat.login_hint, 'work@example.com');
		assert.equal(await page.evaluate((c) => authgate.getAccessToken({ connection: c,
		    login_hint: 'work@example.com' }), GOOGLE), hinted, 'login_hint: the same entry');
		assert.equal((await vaultStats()).fcat, 2);
		// The API token of the session is untouched.
		assert.doesNotMatch(await page.evaluate(() => authgate.getAccessToken()), /^fc\./);
	});
});

test('getAccessToken({connection}): failures are AccessTokenErrors with the server\'s code', async (t) => {
	await step(t, alice, 'connection-errors', async (page) => {
		// The user has no token at github (no connected account).
		const gh = await page.evaluate(() => authgate.getAccessToken({ connection: 'github' })
		    .then((tok) => ({ tok }), window.__shape));
		assert.equal(gh.tok, undefined, JSON.stringify(gh));
		assert.equal(gh.isAccessTokenError, true, JSON.stringify(gh));
		assert.equal(gh.code, 'failed_to_exchange_refresh_token');
		assert.equal(typeof gh.message, 'string');
		assert.ok(gh.message.length > 0);
		for (const c of ['', 'no such connection', 'x'.repeat(5000)]) {
			const r = await page.evaluate((c) => authgate.getAccessToken({ connection: c })
			    .then((tok) => ({ tok }), window.__shape), c);
			assert.equal(r.isAccessTokenError, true, `${c.slice(0, 20)}: ${JSON.stringify(r)}`);
			assert.equal(r.code, 'invalid_request', c.slice(0, 20));
		}
		const st = await page.evaluate(() => authgate.getAccessToken({ connection: 'google-oauth2',
		    subjectTokenType: 'urn:example:nope' }).then((tok) => ({ tok }), window.__shape));
		assert.equal(st.code, 'invalid_request', JSON.stringify(st));
		// Still signed in.
		assert.equal(await page.evaluate(() => { authgate.invalidate();
			return authgate.getUser().then((u) => u && u.sub); }), 'alice');
	});
});

test('after logout: getAccessToken({connection}) -> missing_session, the user forgotten', async (t) => {
	await step(t, alice, 'logout', async (page) => {
		await logoutThroughPage(page, s);
		const cookies = await page.context().cookies(s.appUrl);
		assert.ok(!cookies.some((c) => /^(__session|__FC_)/.test(c.name)),
		    `session and connection cookies gone: ${cookies.map((c) => c.name)}`);
		const r = await page.evaluate(() => authgate.getAccessToken({ connection: 'google-oauth2' })
		    .then((tok) => ({ tok }), window.__shape));
		assert.equal(r.isAccessTokenError, true, JSON.stringify(r));
		assert.equal(r.code, 'missing_session');
	});
});
