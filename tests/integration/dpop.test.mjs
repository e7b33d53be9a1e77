// DPoP (RFC 9449) end to end against the real provider (oidc-provider
// with features.dPoP, IDP_DPOP=nonce: every proof must carry a server
// nonce, so every first call is answered use_dpop_nonce):
//  - `authgate keygen`: a 0600 PEM that is never overwritten, the public
//    JWK and its thumbprint on stdout;
//  - `authgate check` fails, naming dpop.key, for a missing or a wrong
//    type of key;
//  - login with dpop = on: the code exchange is retried once with the
//    nonce, the access token is DPoP-bound (token_type DPoP, cnf.jkt =
//    the key's thumbprint), a forced refresh gives a new bound token;
//  - userinfo = on (and par = on, an RSA key): the pushed request
//    carries dpop_jkt, the callback's userinfo call uses the DPoP scheme
//    with a proof and gets past the provider's nonce challenge;
//  - `authgate fetch --session ID`: "Authorization: DPoP" with a proof
//    the test API (tests/lib/dpop-api.mjs) verifies (signature, typ, htm,
//    htu, ath, jti, iat, nonce, cnf.jkt), one retry on its nonce
//    challenge (that a second challenge is not retried again is
//    tests/unit/test-dpop.c's).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { login } from '../lib/client.mjs';
import { runDir } from '../lib/procs.mjs';
import { writeConf } from '../lib/lighttpd.mjs';
import { startStack } from '../lib/stack.mjs';
import { startDpopApi } from '../lib/dpop-api.mjs';
import { CLI, getAccessToken, startTokenStack } from '../lib/api.mjs';

/* `authgate ARGS` -> {rc, stdout, stderr} (asynchronous: the API is ours). */
function run(args) {
	return new Promise((resolve) => {
		const e = { ...process.env };
		delete e.HTTP_COOKIE;
		const p = spawn(CLI, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '', stderr = '';
		p.stdout.on('data', (c) => { stdout += c; });
		p.stderr.on('data', (c) => { stderr += c; });
		p.on('close', (rc) => resolve({ rc, stdout, stderr }));
	});
}

/* A new key in dir by `authgate keygen` -> {file, jwk, jkt}. */
function keygen(dir, alg = 'ES256') {
	const file = path.join(dir, `dpop-${alg}.pem`);
	const out = execFileSync(CLI, ['keygen', '--alg', alg, '--out', file], { encoding: 'utf8' });
	const [jwk, jkt] = out.trim().split('\n');
	return { file, jwk: JSON.parse(jwk), jkt };
}

describe('authgate keygen and check', () => {
	let dir;

	before(() => {
		dir = runDir('dpop-keygen');
	});

	test('keygen writes a 0600 key, prints the JWK and thumbprint, never overwrites', async () => {
		for (const alg of ['ES256', 'RS256']) {
			const k = keygen(dir, alg);
			assert.equal(fs.statSync(k.file).mode & 0o777, 0o600, alg);
			assert.match(fs.readFileSync(k.file, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
			assert.equal(k.jwk.alg, alg);
			assert.equal(k.jwk.kid, k.jkt);
			assert.ok(!('d' in k.jwk), 'no private part printed');
			assert.match(k.jkt, /^[A-Za-z0-9_-]{43}$/);
			const again = await run(['keygen', '--alg', alg, '--out', k.file]);
			assert.equal(again.rc, 1);
			assert.match(again.stderr, /refusing to overwrite/);
		}
		const bad = await run(['keygen', '--alg', 'HS256']);
		assert.equal(bad.rc, 2, bad.stderr);
	});

	test('check fails for a missing or a wrong kind of key', async () => {
		const base = {
			issuer: 'https://idp.example', client_id: 'x',
			client_secret: 'a-client-secret-of-some-length',
			secret: '4a7b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f',
			app_base_url: 'https://app.example', dpop: 'on',
		};
		const ed = path.join(dir, 'ed25519.pem');
		execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', ed]);
		const cases = [
			[path.join(dir, 'missing.pem'), /dpop\.key: cannot read the key file/],
			[ed, /dpop\.key: the key must be EC P-256 or RSA/],
		];
		for (const [key, want] of cases) {
			const conf = writeConf(path.join(dir, 'authgate.conf'), { ...base, 'dpop.key': key });
			fs.chmodSync(conf, 0o600);
			const r = await run(['-c', conf, 'check', '--offline']);
			assert.equal(r.rc, 1, r.stderr);
			assert.match(r.stderr, want);
		}
	});
});

describe('login, refresh and fetch with DPoP (provider requires nonces)', () => {
	let s, key, api;

	before(async () => {
		key = keygen(runDir('dpop-key'));
		s = await startTokenStack({
			store: 'sqlite', name: 'dpop', ttl: 60,
			idpEnv: { IDP_DPOP: 'nonce' },
			conf: { dpop: 'on', 'dpop.key': key.file },
		});
		api = await startDpopApi({ verify: (t) => s.api.verify(t), requireNonce: true });
	});

	after(async () => {
		await api?.stop();
		await s?.stop();
	});

	function sessionId(sub) {
		const rows = JSON.parse(s.cli('sessions', 'list', '--json', '--sub', sub));
		assert.equal(rows.length, 1, JSON.stringify(rows));
		return rows[0].id;
	}

	test('the tokens are DPoP-bound to the configured key', async () => {
		await s.idp.resetStats();
		const { browser } = await login(s.appUrl, 'alice');
		const st = await s.idp.stats();
		assert.equal(st.token.authorization_code, 1, JSON.stringify(st.token));
		assert.ok(st.dpop_nonce_errors >= 1, 'the provider asked for a nonce');
		const r = await getAccessToken(browser, s.appUrl);
		assert.equal(r.status, 200, r.text);
		assert.match(r.body.token_type, /^dpop$/i);
		const claims = decodeJwt(r.body.token);
		assert.equal(claims.cnf?.jkt, key.jkt, 'cnf.jkt is the key thumbprint');

		const f = await getAccessToken(browser, s.appUrl, { refresh: 'true' });
		assert.equal(f.status, 200, f.text);
		assert.notEqual(f.body.token, r.body.token, 'a new token');
		assert.match(f.body.token_type, /^dpop$/i);
		assert.equal(decodeJwt(f.body.token).cnf?.jkt, key.jkt);
		assert.equal((await s.idp.stats()).token.refresh_token, 1);
	});

	test('authgate fetch sends a DPoP proof and retries once on a nonce challenge', async () => {
		await login(s.appUrl, 'bob');
		const id = sessionId('bob');
		api.calls.length = 0;
		const r = await run(['-c', s.app.confPath, 'fetch', '--session', id,
		    '--method', 'POST', '--data', '{}', `${api.url}/things?x=1`]);
		assert.equal(r.rc, 0, `${r.stderr} ${JSON.stringify(api.calls)}`);
		const b = JSON.parse(r.stdout);
		assert.equal(b.sub, 'bob');
		assert.equal(b.jkt, key.jkt);
		assert.equal(b.method, 'POST');
		assert.equal(api.calls.length, 2, JSON.stringify(api.calls));
		assert.equal(api.calls[0].error, 'use_dpop_nonce');
		assert.equal(api.calls[0].nonce, undefined, 'the first proof had no nonce');
		assert.equal(api.calls[1].status, 200);
		assert.equal(typeof b.nonce, 'string');
	});
});

describe('userinfo with a DPoP-bound token (opaque tokens, userinfo = on, PAR)', () => {
	let s, key;

	before(async () => {
		key = keygen(runDir('dpop-key-ui'), 'RS256');
		s = await startStack({
			name: 'dpop-userinfo',
			idpEnv: { IDP_DPOP: 'nonce' },
			conf: { dpop: 'on', 'dpop.key': key.file, userinfo: 'on', par: 'on' },
		});
	});

	after(async () => {
		await s?.stop();
	});

	test('login succeeds: dpop_jkt pushed, userinfo answered the DPoP request', async () => {
		await s.idp.resetStats();
		const { browser } = await login(s.appUrl, 'alice');
		const st = await s.idp.stats();
		assert.equal(st.par, 1, 'the authorization request was pushed');
		assert.equal(st.par_dpop_jkt, key.jkt, 'the pushed request carried dpop_jkt');
		assert.ok(st.userinfo >= 1 && st.userinfo <= 2, JSON.stringify(st));
		const p = await browser.get(`${s.appUrl}/auth/profile`);
		assert.equal(p.status, 200, p.text);
		assert.equal(JSON.parse(p.text).sub, 'alice');
	});
});
