// MFA step-up end to end (reference section 10): a real login at the
// test provider, whose refreshes for https://mfa.example.test/ answer
// 403 mfa_required through the fake of Auth0's MFA API
// (tests/idp/auth0-mfa.mjs, IDP_AUTH0_MFA=1), then the
// /auth/mfa/{authenticators,challenge,verify,associate} routes:
// OTP (right and wrong code), recovery code, OOB with a binding code,
// enrollment (success, and the provider's refusal as 400), and the
// encrypted mfa_token refused when tampered, expired, raw, or used
// with another session; bad bodies (not JSON, malformed, too large).
// The verified token lands in the session (cookie rewritten or row
// updated) so the next /auth/access-token for that audience is 200.
// Every test runs with both session stores; the binding is checked
// across users and across two sessions of the same user (sid).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { login } from '../lib/client.mjs';
import { API_HEADERS, getAccessToken, requireAccessTokenRoute, startTokenStack } from '../lib/api.mjs';
import { SECRET } from '../lib/stack.mjs';
import { MFA_AUDIENCE, OTP_CODE, BINDING_CODE, RECOVERY_CODES } from '../idp/auth0-mfa.mjs';

const KEY = new Uint8Array(crypto.hkdfSync('sha256', SECRET, '', 'JWE CEK', 32));

function noStore(r) {
	assert.match(r.headers.get('cache-control') || '', /no-store/, 'Cache-Control: no-store');
}

// A call to an /auth/mfa route as a page's fetch would make it.
async function mfa(s, browser, route, opts = {}) {
	const headers = { ...API_HEADERS };
	if (opts.token !== undefined)
		headers.authorization = `Bearer ${opts.token}`;
	let body = opts.raw;
	if (opts.json !== undefined) {
		body = JSON.stringify(opts.json);
		headers['content-type'] = 'application/json';
	}
	if (opts.contentType)
		headers['content-type'] = opts.contentType;
	const r = await browser.request(new URL(`/auth/mfa/${route}`, s.appUrl).href, {
		method: opts.method || (body !== undefined ? 'POST' : 'GET'),
		headers, body, cookies: opts.cookies,
	});
	let json = null;
	try {
		json = JSON.parse(r.text);
	} catch { /* not JSON */ }
	return { ...r, body: json };
}

function assertError(r, status, code, description) {
	assert.equal(r.status, status, r.text);
	assert.equal(r.body?.error, code, r.text);
	assert.equal(typeof r.body.error_description, 'string', r.text);
	if (description !== undefined)
		assert.equal(r.body.error_description, description);
	noStore(r);
}

// Log user in, ask for the MFA audience: the 403 body.
async function stepUp(s, user) {
	const { browser } = await login(s.appUrl, user);
	const r = await getAccessToken(browser, s.appUrl, { audience: MFA_AUDIENCE });
	assert.equal(r.status, 403, r.text);
	noStore(r);
	assert.equal(r.body.error, 'mfa_required');
	assert.equal(typeof r.body.error_description, 'string');
	assert.match(r.body.mfa_token, /^eyJ[\w-]*\.\.[\w-]+\.[\w-]+\.[\w-]+$/, 'a compact JWE');
	return { browser, body: r.body, token: r.body.mfa_token };
}

async function verifyStores(s, browser, r) {
	assert.equal(r.status, 200, r.text);
	assert.equal(r.body.success, true);
	assert.ok(r.setCookies.some((c) => /^__session/.test(c)), 'the session is rewritten');
	const t = await getAccessToken(browser, s.appUrl, { audience: MFA_AUDIENCE });
	assert.equal(t.status, 200, t.text);
	assert.match(t.body.token, /^mfa-at-/, 'the token the MFA grant issued');
	return t.body.token;
}

for (const store of ['cookie', 'sqlite']) {
	describe(`MFA step-up, session.store = ${store}`, () => {
		let s;

		before(async () => {
			s = await startTokenStack({
				store, name: `mfa-${store}`, ttl: 300,
				idpEnv: { IDP_AUTH0_MFA: '1' },
			});
			await requireAccessTokenRoute(s.appUrl);
		});

		after(async () => {
			await s?.stop();
		});

		test('403 mfa_required -> authenticators -> challenge -> wrong OTP 400 -> right OTP: token stored', async () => {
			const { browser, body, token } = await stepUp(s, 'alice');
			assert.deepEqual(body.mfa_requirements.challenge.map((c) => c.type).sort(),
			    ['oob', 'otp', 'recovery-code']);
			// The sealed token carries the SDK's members and our binding.
			const { payload } = await jwtDecrypt(token, KEY);
			assert.equal(payload.audience, MFA_AUDIENCE);
			assert.equal(payload.sub, 'alice');
			assert.equal(typeof payload.mfaToken, 'string');
			// Auth0's mfa_token is a JWT: the sealed one is well over the
			// 1024 bytes of a short body field (AG_MAX_MFA_FIELD).
			assert.equal(payload.mfaToken.split('.').length, 3);
			assert.ok(payload.mfaToken.length >= 600 && token.length > 1024, `${token.length}`);
			assert.ok(payload.exp - Math.floor(Date.now() / 1000) <= 300);

			const a = await mfa(s, browser, 'authenticators', { token });
			assert.equal(a.status, 200, a.text);
			noStore(a);
			assert.deepEqual(a.body.map((x) => x.id).sort(),
			    ['recovery-code|dev_alice', 'sms|dev_alice', 'totp|dev_alice']);
			// An entry without a type is skipped (as the SDK skips it),
			// not a 502 for the whole list.
			await fetch(`${s.idp.base}/test/mfa/config?malformed=1`, { method: 'POST' });
			try {
				const m = await mfa(s, browser, 'authenticators', { token });
				assert.equal(m.status, 200, m.text);
				assert.deepEqual(m.body.map((x) => x.id).sort(),
				    ['recovery-code|dev_alice', 'sms|dev_alice', 'totp|dev_alice']);
			} finally {
				await fetch(`${s.idp.base}/test/mfa/config`, { method: 'POST' });
			}
			assert.equal(a.body.find((x) => x.id === 'sms|dev_alice').oob_channel, 'sms');

			const c = await mfa(s, browser, 'challenge', { json: { mfa_token: token, challenge_type: 'otp' } });
			assert.equal(c.status, 200, c.text);
			assert.deepEqual(c.body, { challenge_type: 'otp' });
			noStore(c);
			// As Auth0 documents it and the SDK sends it: JSON, the
			// client's id and secret in the body, no Basic header.
			const st = await (await fetch(`${s.idp.base}/test/mfa`)).json();
			assert.match(st.last_challenge.content_type, /^application\/json/);
			assert.equal(st.last_challenge.basic, false);
			assert.deepEqual(st.last_challenge.members,
			    ['challenge_type', 'client_id', 'client_secret', 'mfa_token']);

			const bad = await mfa(s, browser, 'verify', { token, json: { otp: '000000' } });
			assertError(bad, 400, 'invalid_grant', 'Invalid otp_code.');
			assert.equal(bad.setCookies.length, 0, 'no session write on failure');

			const ok = await mfa(s, browser, 'verify', { token, json: { otp: OTP_CODE } });
			noStore(ok);
			assert.equal(ok.body.recovery_code, undefined);
			const at = await verifyStores(s, browser, ok);
			// Served from the session: no second step-up.
			const again = await getAccessToken(browser, s.appUrl, { audience: MFA_AUDIENCE });
			assert.equal(again.body.token, at);
			// The default audience is untouched.
			const def = await getAccessToken(browser, s.appUrl);
			assert.equal(def.status, 200, def.text);
			assert.notEqual(def.body.token, at);
			// A consumed mfa_token is refused by the provider: 400.
			assertError(await mfa(s, browser, 'verify', { token, json: { otp: OTP_CODE } }),
			    400, 'invalid_grant');
		});

		test('a verified token without expires_in lives 3600 s, as at login: no step-up loop', async () => {
			const cfg = (v) => fetch(`${s.idp.base}/test/mfa/config?expires_in=${v}`, { method: 'POST' });
			await cfg(0);
			try {
				const { browser, token } = await stepUp(s, 'alice');
				const ok = await mfa(s, browser, 'verify', { token, json: { otp: OTP_CODE } });
				await verifyStores(s, browser, ok);
				const t = await getAccessToken(browser, s.appUrl, { audience: MFA_AUDIENCE });
				assert.ok(t.body.expires_in > 3500 && t.body.expires_in <= 3600, t.text);
			} finally {
				await cfg(1);
			}
		});

		test('recovery code: 200 with the new recovery_code', async () => {
			const { browser, token } = await stepUp(s, 'alice');
			const r = await mfa(s, browser, 'verify', { token, json: { recovery_code: RECOVERY_CODES.alice } });
			assert.equal(typeof r.body?.recovery_code, 'string', r.text);
			assert.notEqual(r.body.recovery_code, RECOVERY_CODES.alice);
			await verifyStores(s, browser, r);
			// The old code is spent.
			const next = await stepUp(s, 'alice');
			assertError(await mfa(s, next.browser, 'verify',
			    { token: next.token, json: { recovery_code: RECOVERY_CODES.alice } }),
			    400, 'invalid_grant', 'Invalid recovery_code.');
		});

		test('oob: challenge gives oob_code + binding_method; wrong binding code 400, right one 200', async () => {
			const { browser, token } = await stepUp(s, 'alice');
			const c = await mfa(s, browser, 'challenge', {
				json: { mfa_token: token, challenge_type: 'oob', authenticator_id: 'sms|dev_alice' },
			});
			assert.equal(c.status, 200, c.text);
			assert.equal(c.body.challenge_type, 'oob');
			assert.equal(c.body.binding_method, 'prompt');
			assert.equal(typeof c.body.oob_code, 'string');
			assertError(await mfa(s, browser, 'verify',
			    { token, json: { oob_code: c.body.oob_code, binding_code: '999999' } }),
			    400, 'invalid_grant', 'Invalid binding_code.');
			await verifyStores(s, browser, await mfa(s, browser, 'verify',
			    { token, json: { oob_code: c.body.oob_code, binding_code: BINDING_CODE } }));
		});

		test('challenge: a type the requirements do not list is 400 mfa_no_available_factors; provider refusal 400', async () => {
			const { browser, token } = await stepUp(s, 'alice');
			assertError(await mfa(s, browser, 'challenge', { json: { mfa_token: token, challenge_type: 'push' } }),
			    400, 'mfa_no_available_factors');
			assertError(await mfa(s, browser, 'challenge',
			    { json: { mfa_token: token, challenge_type: 'otp', authenticator_id: 'nope|x' } }),
			    400, 'unsupported_challenge_type');
			assertError(await mfa(s, browser, 'challenge', { json: { mfa_token: token } }),
			    400, 'invalid_request', 'Missing or invalid challenge_type');
		});

		test('enrollment: bob associates OTP (200), verifies; alice is refused (400, not 500)', async () => {
			const { browser, body, token } = await stepUp(s, 'bob');
			assert.deepEqual(body.mfa_requirements, { enroll: [{ type: 'otp' }, { type: 'oob' }] });
			const a = await mfa(s, browser, 'authenticators', { token });
			assert.equal(a.status, 200, a.text);
			assert.deepEqual(a.body, []);
			// Our own validation first.
			assertError(await mfa(s, browser, 'associate', { token, json: { authenticator_types: ['oob'] } }),
			    400, 'invalid_request', 'Missing or invalid oob_channels');
			assertError(await mfa(s, browser, 'associate',
			    { token, json: { authenticator_types: ['oob'], oob_channels: ['sms'] } }),
			    400, 'invalid_request');
			assertError(await mfa(s, browser, 'associate', { token, json: { authenticator_types: ['webauthn'] } }),
			    400, 'invalid_request');
			const e = await mfa(s, browser, 'associate', { token, json: { authenticator_types: ['otp'] } });
			assert.equal(e.status, 200, e.text);
			noStore(e);
			assert.equal(e.body.authenticator_type, 'otp');
			assert.equal(typeof e.body.secret, 'string');
			assert.match(e.body.barcode_uri, /^otpauth:\/\//);
			assert.equal(e.body.recovery_codes.length, 1);
			await verifyStores(s, browser, await mfa(s, browser, 'verify', { token: token, json: { otp: OTP_CODE } }));

			const al = await stepUp(s, 'alice');
			assertError(await mfa(s, al.browser, 'associate', { token: al.token, json: { authenticator_types: ['otp'] } }),
			    400, 'access_denied', 'User is already enrolled.');
		});

		test('the mfa_token: tampered, raw, foreign session, expired, no session: 401', async () => {
			const { browser, token } = await stepUp(s, 'alice');
			const other = await stepUp(s, 'bob');
			// The same user in a second session: the sid binding.
			const again = await stepUp(s, 'alice');
			const parts = token.split('.');
			parts[3] = (parts[3][0] === 'A' ? 'B' : 'A') + parts[3].slice(1);
			const cases = [
				['tampered', parts.join('.'), browser, 'mfa_token_invalid'],
				['raw provider token', 'abcdefghijklmnop', browser, 'mfa_token_invalid'],
				['another session\'s', other.token, browser, 'mfa_token_invalid'],
				['mine in another session', token, other.browser, 'mfa_token_invalid'],
				['mine in my own other session', token, again.browser, 'mfa_token_invalid'],
				['my other session\'s', again.token, browser, 'mfa_token_invalid'],
			];
			for (const [, t, b, code] of cases) {
				assertError(await mfa(s, b, 'authenticators', { token: t }), 401, code, undefined);
				assertError(await mfa(s, b, 'verify', { token: t, json: { otp: OTP_CODE } }), 401, code);
				assertError(await mfa(s, b, 'challenge', { json: { mfa_token: t, challenge_type: 'otp' } }),
				    401, code);
			}
			// Expired: sealed with our key, exp 60 s ago (past the 15 s leeway).
			const { payload } = await jwtDecrypt(token, KEY);
			const past = Math.floor(Date.now() / 1000) - 60;
			const expired = await new EncryptJWT({ ...payload, exp: undefined })
			    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setExpirationTime(past).encrypt(KEY);
			assertError(await mfa(s, browser, 'authenticators', { token: expired }), 401, 'mfa_token_expired',
			    'MFA token has expired. Please restart the MFA flow.');
			// Sealed with our key but for another sub.
			const forged = await new EncryptJWT({ ...payload, sub: 'bob', exp: undefined })
			    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setExpirationTime('2m').encrypt(KEY);
			assertError(await mfa(s, browser, 'authenticators', { token: forged }), 401, 'mfa_token_invalid');
			// No session at all.
			assertError(await mfa(s, browser, 'authenticators', { token, cookies: false }), 401, 'missing_session');
			// And the real one still works.
			assert.equal((await mfa(s, browser, 'authenticators', { token })).status, 200);
		});

		test('requests: Authorization, content type, JSON, size, method', async () => {
			const { browser, token } = await stepUp(s, 'alice');
			assertError(await mfa(s, browser, 'authenticators', {}), 400, 'invalid_request',
			    'Missing or invalid Authorization header.');
			assertError(await mfa(s, browser, 'verify', { token: 'a b', json: { otp: OTP_CODE } }), 400, 'invalid_request');
			assertError(await mfa(s, browser, 'verify',
			    { token, raw: `otp=${OTP_CODE}`, contentType: 'application/x-www-form-urlencoded' }),
			    415, 'invalid_request');
			assertError(await mfa(s, browser, 'challenge',
			    { raw: '{"mfa_token":', contentType: 'application/json' }),
			    400, 'invalid_request', 'Invalid JSON in request body');
			assertError(await mfa(s, browser, 'verify', { token, json: { otp: OTP_CODE, recovery_code: 'x' } }),
			    400, 'invalid_request');
			assertError(await mfa(s, browser, 'verify', { token, json: {} }), 400, 'invalid_request');
			assertError(await mfa(s, browser, 'verify', { token, json: { otp: 12345 } }), 400, 'invalid_request',
			    'Missing or invalid otp');
			const huge = await mfa(s, browser, 'challenge',
			    { json: { mfa_token: token, challenge_type: 'otp', pad: 'x'.repeat(100 * 1024) } });
			assert.equal(huge.status, 413, huge.text);
			noStore(huge);
			const get = await mfa(s, browser, 'verify', { token, method: 'GET' });
			assert.equal(get.status, 405);
			assert.equal(get.headers.get('allow'), 'POST');
			// After all that, the flow still completes.
			await verifyStores(s, browser, await mfa(s, browser, 'verify', { token, json: { otp: OTP_CODE } }));
		});
	});
}
