// `authgate ciba` (OpenID CIBA, poll mode; the SDK's
// getTokenByBackchannelAuth) against oidc-provider with CIBA on
// (IDP_CIBA=1, interval 1 s):
//  - the request carries Auth0's iss_sub login_hint and the binding
//    message; after a few authorization_pending polls the user approves
//    (POST /test/ciba/approve): exit 0, the token set as JSON with the
//    validated ID token's claims (sub alice, our issuer);
//  - the user denies: exit 1, "backchannel_authentication_error:
//    access_denied";
//  - nobody answers within --requested-expiry: exit 1, expired_token;
//  - slow_down: the next poll comes 5 s later than the interval;
//  - the provider's refusals (unknown user, binding message it rejects),
//    a provider without CIBA, and usage errors (exit 2);
//  - an ID token for another user than the login hint, or none at all
//    (CIBA Core 10.1.1 requires one for the openid scope): invalid_id_token;
//  - a backchannel endpoint nobody listens on: the message names the
//    cause intact.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { runCli, startGrantIdp, waitFor } from '../lib/grant.mjs';
import { writeConf } from '../lib/lighttpd.mjs';
import { runDir } from '../lib/procs.mjs';
import { baseConf } from '../lib/stack.mjs';

const MESSAGE = 'Approve transfer 42';

describe('authgate ciba', () => {
	let s;
	before(async () => {
		s = await startGrantIdp({ name: 'ciba' });
	});
	after(async () => {
		await s?.stop();
	});

	// Start the command for alice and wait until n polls were made.
	// -> {run: the command's promise} (wrapped: an async function
	// returning a promise would wait for it).
	async function pendingAfterPolls(n, extra = []) {
		await s.idp.resetStats();
		const run = s.cli(['ciba', '--login-hint', 'alice', '--binding-message',
		    MESSAGE, ...extra]);
		await waitFor(async () => (await s.idp.stats()).ciba.polls.length >= n,
		    20000, `${n} polls`);
		return { run };
	}

	test('approved after a few polls: tokens and a valid ID token', async () => {
		const { run } = await pendingAfterPolls(2);
		const pending = await s.get('/test/ciba/pending');
		assert.equal(pending.length, 1);
		assert.equal(pending[0].binding_message, MESSAGE);
		assert.deepEqual(JSON.parse(pending[0].login_hint),
		    { format: 'iss_sub', iss: s.idp.issuer, sub: 'alice' });
		assert.match(pending[0].scope, /openid/);
		assert.deepEqual(await s.post('/test/ciba/approve?sub=alice'), { answered: 1 });
		const r = await run;
		assert.equal(r.rc, 0, r.stderr);
		const out = JSON.parse(r.stdout);
		assert.ok(out.accessToken);
		assert.equal(out.tokenType, 'bearer');
		assert.ok(out.idToken);
		assert.ok(out.refreshToken, 'offline_access gave a refresh token');
		assert.equal(out.idTokenClaims.sub, 'alice');
		assert.equal(out.idTokenClaims.iss, s.idp.issuer);
		assert.equal(out.idTokenClaims.aud, 'authgate-test');
		assert.ok(out.expiresAt > Date.now() / 1000);
		const st = await s.idp.stats();
		assert.ok(st.ciba.polls.length >= 3, 'pending polls before the tokens');
		assert.equal(st.token['urn:openid:params:grant-type:ciba'], 1);
		// The interval (1 s) was honoured between polls.
		for (let i = 1; i < st.ciba.polls.length; i++)
			assert.ok(st.ciba.polls[i] - st.ciba.polls[i - 1] >= 900,
			    `poll ${i} came ${st.ciba.polls[i] - st.ciba.polls[i - 1]} ms after the last`);
	});

	test('denied: exit 1 with access_denied', async () => {
		const { run } = await pendingAfterPolls(1);
		assert.deepEqual(await s.post('/test/ciba/deny?sub=alice'), { answered: 1 });
		const r = await run;
		assert.equal(r.rc, 1);
		assert.equal(r.stdout, '');
		assert.match(r.stderr, /^authgate: ciba: backchannel_authentication_error: access_denied: /);
		assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
	});

	test('nobody answers: expired_token after --requested-expiry', async () => {
		await s.idp.resetStats();
		const r = await s.cli(['ciba', '--login-hint', 'bob', '--binding-message',
		    MESSAGE, '--requested-expiry', '3']);
		assert.equal(r.rc, 1);
		assert.match(r.stderr, /backchannel_authentication_error: expired_token/);
		assert.ok(r.ms < 8000, `gave up at the deadline (${r.ms} ms)`);
		assert.ok(r.ms >= 2000, `waited for the user (${r.ms} ms)`);
		await s.post('/test/ciba/deny?sub=bob');
	});

	test('slow_down: the next poll comes 5 s later', async () => {
		await s.idp.resetStats();
		await s.post('/test/ciba/slow-down?n=1');
		const run = s.cli(['ciba', '--login-hint', 'alice', '--binding-message', MESSAGE]);
		await waitFor(async () => (await s.idp.stats()).ciba.polls.length >= 1,
		    10000, 'the first poll');
		await s.post('/test/ciba/approve?sub=alice');
		const r = await run;
		assert.equal(r.rc, 0, r.stderr);
		const polls = (await s.idp.stats()).ciba.polls;
		assert.equal(polls.length, 2);
		assert.ok(polls[1] - polls[0] >= 5800,
		    `after slow_down the interval became 1 + 5 s (${polls[1] - polls[0]} ms)`);
	});

	test('the provider refuses the request: exit 1 with its error', async () => {
		let r = await s.cli(['ciba', '--login-hint', 'alice', '--binding-message',
		    'no <html> here']);
		assert.equal(r.rc, 1);
		assert.match(r.stderr, /backchannel_authentication_error: invalid_binding_message/);
		r = await s.cli(['ciba', '--login-hint', 'alice', '--binding-message', MESSAGE,
		    '--scope', 'profile']);
		assert.equal(r.rc, 1, 'no openid scope');
		assert.match(r.stderr, /backchannel_authentication_error: invalid_request/);
	});

	test('an ID token for another user than the login hint: invalid_id_token', async () => {
		const { run } = await pendingAfterPolls(1);
		assert.deepEqual(await s.post('/test/ciba/approve?sub=alice&id_token_sub=bob'),
		    { answered: 1 });
		const r = await run;
		assert.equal(r.rc, 1, r.stdout);
		assert.equal(r.stdout, '', 'no tokens printed');
		assert.match(r.stderr,
		    /^authgate: ciba: backchannel_authentication_error: invalid_id_token: .*sub/);
		assert.equal((await s.idp.stats()).token['urn:openid:params:grant-type:ciba'], 1,
		    'the provider did answer with tokens');
	});

	test('a token answer without an ID token: invalid_id_token', async () => {
		await s.post('/test/ciba/no-id-token?n=1');
		const { run } = await pendingAfterPolls(1);
		await s.post('/test/ciba/approve?sub=alice');
		const r = await run;
		assert.equal(r.rc, 1, r.stdout);
		assert.equal(r.stdout, '');
		assert.match(r.stderr,
		    /^authgate: ciba: backchannel_authentication_error: invalid_id_token: .*no id_token/);
	});

	test('backchannel endpoint unreachable: the cause named intact', async () => {
		// The provider's discovery under another issuer, its
		// backchannel endpoint on a port nobody listens on.
		const doc = await s.get('/.well-known/openid-configuration');
		const srv = http.createServer((req, res) => {
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify(req.url === '/.well-known/openid-configuration' ?
			    { ...doc, issuer: `http://127.0.0.1:${srv.address().port}`,
			      backchannel_authentication_endpoint: 'http://127.0.0.1:9/backchannel' } :
			    {}));
		});
		await new Promise((r) => srv.listen(0, '127.0.0.1', r));
		try {
			const conf = writeConf(path.join(runDir('ciba-unreachable'), 'authgate.conf'),
			    baseConf('http://127.0.0.1:9', `http://127.0.0.1:${srv.address().port}`));
			const r = await runCli(conf, ['ciba', '--login-hint', 'alice',
			    '--binding-message', MESSAGE]);
			assert.equal(r.rc, 1);
			const line = r.stderr.trim().split('\n').pop();
			assert.match(line, /^authgate: ciba: backchannel_authentication_error: /);
			const why = line.slice(line.indexOf('backchannel authentication: '));
			assert.match(why,
			    /^backchannel authentication: client post: .*connect.*127\.0\.0\.1 port 9\b/,
			    line);
			assert.ok(!/backchannel authentication: .*backchannel authentication: /.test(line),
			    `the reason is not mixed into itself: ${line}`);
			assert.match(why, /^[\x20-\x7e]+$/, 'printable');
		} finally {
			srv.close();
		}
	});

	test('bad usage: exit 2, nothing sent', async () => {
		await s.idp.resetStats();
		for (const args of [
			['ciba', '--login-hint', 'alice'],
			['ciba', '--binding-message', MESSAGE],
			['ciba', '--login-hint', 'alice', '--binding-message', MESSAGE,
			    '--requested-expiry', 'soon'],
			['ciba', '--login-hint', 'alice', '--binding-message', MESSAGE,
			    '--requested-expiry', '0'],
			['ciba', '--login-hint', 'alice', '--binding-message', 'two\nlines'],
			['ciba', '--login-hint', 'alice', '--binding-message', 'm'.repeat(65)],
			['ciba', '--login-hint', 'alice', '--binding-message', MESSAGE, 'extra'],
		]) {
			const r = await s.cli(args);
			assert.equal(r.rc, 2, `${args.join(' ')}: ${r.stderr}`);
			assert.ok(r.stderr.length > 0);
		}
		assert.equal((await s.idp.stats()).requests['/backchannel'] ?? 0, 0);
		const h = await s.cli(['ciba', '--help']);
		assert.equal(h.rc, 0);
		assert.match(h.stdout, /--binding-message/);
	});
});

describe('authgate ciba, provider without CIBA', () => {
	let s;
	before(async () => {
		s = await startGrantIdp({ name: 'ciba-none', env: {} });
	});
	after(async () => {
		await s?.stop();
	});

	test('backchannel_authentication_not_supported_error', async () => {
		const r = await s.cli(['ciba', '--login-hint', 'alice', '--binding-message', MESSAGE]);
		assert.equal(r.rc, 1);
		assert.match(r.stderr, /^authgate: ciba: backchannel_authentication_not_supported_error: /);
	});
});
