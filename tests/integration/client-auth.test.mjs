// Client authentication at the token endpoint (reference 5.5), one
// login (authorization code exchange) and one refresh grant with each
// method: client_secret_basic (the default client), client_secret_post
// (client authgate-post) and private_key_jwt with RS256, PS256 and
// ES256 keys (client authgate-pkjwt, keys in tests/data/keys/).  The
// provider counts the method each token request used (stats.client_auth;
// it takes client_secret_basic and client_secret_post alike, but a
// private_key_jwt client only with a key it registered).  And a login
// through pushed authorization requests (par = on, RFC 9126).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { login } from '../lib/client.mjs';
import { authgateFcgiPath, writeConf } from '../lib/lighttpd.mjs';
import { baseConf } from '../lib/stack.mjs';
import { CLI } from '../lib/api.mjs';
import { REPO, runDir } from '../lib/procs.mjs';
import {
	API_AUDIENCE, API_HEADERS, getAccessToken, peek, requireAccessTokenRoute,
	startTokenStack,
} from '../lib/api.mjs';

const KEYS = path.join(REPO, 'tests', 'data', 'keys');
const SECRET = 'authgate-test-secret-0123456789';

let s, keyDir;

// A private copy of a committed key (0600: a key file others can read
// may be refused).
function key(name) {
	const dst = path.join(keyDir, name);
	if (!fs.existsSync(dst)) {
		fs.copyFileSync(path.join(KEYS, name), dst);
		fs.chmodSync(dst, 0o600);
	}
	return dst;
}

const VARIANTS = [
	{ name: 'client_secret_basic', conf: { client_id: 'authgate-test', client_secret: SECRET } },
	{ name: 'client_secret_post', conf: { client_id: 'authgate-post', client_secret: SECRET, client_auth: 'client_secret_post' } },
	...['RS256', 'PS256', 'ES256'].map((alg) => ({
		name: `private_key_jwt ${alg}`,
		method: `private_key_jwt ${alg}`,
		conf: () => ({
			client_id: 'authgate-pkjwt', client_secret: null,
			client_auth: 'private_key_jwt',
			client_assertion_key: key(`${alg.toLowerCase()}.pem`),
			client_assertion_alg: alg,
		}),
	})),
];

function confOf(v) {
	const base = { client_secret: null, client_auth: null, client_assertion_key: null,
	    client_assertion_alg: null, par: null };
	return { ...base, ...(typeof v.conf === 'function' ? v.conf() : v.conf) };
}

before(async () => {
	keyDir = runDir('client-auth-keys');
	fs.chmodSync(keyDir, 0o700);
	s = await startTokenStack({
		store: 'cookie', ttl: 30, name: 'client-auth',
		idpEnv: { IDP_MORE_CLIENTS: '1' },
	});
});

after(async () => {
	await s?.stop();
});

for (const v of VARIANTS) {
	describe(v.name, () => {
		let browser;

		before(async () => {
			await s.restartApp({ conf: confOf(v) });
			await s.idp.resetStats();
		});

		test('login: the code exchange authenticates', async () => {
			const r = await login(s.appUrl, 'alice');
			assert.equal(r.callback?.status, 307,
			    `callback: ${r.callback?.status} ${r.callback?.text?.slice(0, 300)}\n${s.app.errorLogText().slice(-2000)}`);
			browser = r.browser;
			const p = await browser.request(`${s.appUrl}/auth/profile`, { headers: API_HEADERS });
			assert.equal(p.status, 200, p.text);
			assert.equal(p.json().sub, 'alice');
			const st = await s.idp.stats();
			assert.equal(st.token.authorization_code, 1, JSON.stringify(st.token));
			assert.equal(st.token.errors, 0, JSON.stringify(st.token));
			assert.deepEqual(st.client_auth, { [`token ${v.method || v.name}`]: 1 });
		});

		test('refresh: the refresh grant authenticates', async () => {
			assert.ok(browser, 'logged in');
			await requireAccessTokenRoute(s.appUrl);
			const r = await getAccessToken(browser, s.appUrl, { refresh: 'true' });
			assert.equal(r.status, 200, `${r.text}\n${s.app.errorLogText().slice(-2000)}`);
			const claims = peek(r.body.token);
			assert.equal(claims?.aud, API_AUDIENCE);
			assert.equal(claims?.client_id, confOf(v).client_id);
			const a = await s.api.call(r.body.token);
			assert.equal(a.status, 200, JSON.stringify(a.body));
			const st = await s.idp.stats();
			assert.equal(st.token.refresh_token, 1, JSON.stringify(st.token));
			assert.equal(st.token.errors, 0, JSON.stringify(st.token));
			assert.deepEqual(st.client_auth, { [`token ${v.method || v.name}`]: 2 });
		});
	});
}

describe('the wrong method or key is refused by the provider', () => {
	test('authgate-pkjwt with a key it did not register: login fails at the callback', async () => {
		const other = path.join(keyDir, 'other.pem');
		const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
		fs.writeFileSync(other, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
		await s.restartApp({ conf: confOf({ conf: {
			client_id: 'authgate-pkjwt', client_auth: 'private_key_jwt',
			client_assertion_key: other, client_assertion_alg: 'RS256',
		} }) });
		await s.idp.resetStats();
		const r = await login(s.appUrl, 'alice');
		assert.ok(r.callback, 'reached the callback');
		assert.notEqual(r.callback.status, 307, 'no session');
		const st = await s.idp.stats();
		assert.ok(st.token.errors >= 1, JSON.stringify(st.token));
	});
});

describe('par = on', () => {
	let steps, browser;

	before(async () => {
		await s.restartApp({ conf: confOf({ conf: { client_id: 'authgate-test', client_secret: SECRET, par: 'on' } }) });
		await s.idp.resetStats();
	});

	test('the parameters are pushed; the redirect carries only client_id and request_uri', async () => {
		const r = await login(s.appUrl, 'alice');
		steps = r.steps;
		browser = r.browser;
		const first = steps[0];
		assert.equal(first.status, 307, first.text);
		const u = new URL(first.location);
		assert.equal(u.origin, new URL(s.issuer).origin);
		assert.deepEqual([...u.searchParams.keys()].sort(), ['client_id', 'request_uri'],
		    `authorization redirect ${first.location}`);
		assert.equal(u.searchParams.get('client_id'), 'authgate-test');
		assert.match(u.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
		const st = await s.idp.stats();
		assert.equal(st.par, 1, `one pushed request (${JSON.stringify(st.requests)})`);
		assert.equal(st.client_auth['par client_secret_basic'], 1, JSON.stringify(st.client_auth));
		assert.equal(st.requests['/request'], 1);
		assert.equal(r.callback?.status, 307, r.callback?.text);
		const p = await browser.request(`${s.appUrl}/auth/profile`, { headers: API_HEADERS });
		assert.equal(p.status, 200, p.text);
		assert.equal(p.json().sub, 'alice');
	});

	test('the login\'s access token is for the audience (pushed as resource)', async () => {
		assert.ok(browser, 'logged in');
		await requireAccessTokenRoute(s.appUrl);
		const r = await getAccessToken(browser, s.appUrl);
		assert.equal(r.status, 200, r.text);
		assert.equal(peek(r.body.token)?.aud, API_AUDIENCE);
		assert.equal((await s.api.call(r.body.token)).status, 200);
	});
});

// The client assertion key is loaded by `authgate check` and at the
// start of authgate-fcgi, not first at a token request: a key that is
// missing or does not fit client_assertion_alg stops both, naming it;
// without client_assertion_alg the key's type picks the algorithm.
describe('the client assertion key is checked at start', () => {
	let dir;
	const check = (conf) => {
		const confPath = writeConf(path.join(dir, 'authgate.conf'), {
			...baseConf('http://127.0.0.1:9', 'http://127.0.0.1:9/oidc'),
			client_secret: null, client_id: 'authgate-pkjwt',
			client_auth: 'private_key_jwt', ...conf,
		});
		return {
			check: spawnSync(CLI, ['-c', confPath, 'check', '--offline'], { encoding: 'utf8' }),
			fcgi: spawnSync(authgateFcgiPath(), [], {
				encoding: 'utf8', input: '', timeout: 10000,
				env: { ...process.env, AUTHGATE_CONFIG: confPath, AUTHGATE_TEST_MODE: '1' },
			}),
		};
	};

	before(() => {
		dir = runDir('client-auth-keycheck');
	});

	test('an EC key without client_assertion_alg: ES256, check passes', () => {
		const r = check({ client_assertion_key: key('es256.pem') }).check;
		assert.equal(r.status, 0, r.stdout + r.stderr);
		assert.match(r.stdout, /^ok$/m);
	});

	test('an EC key with client_assertion_alg = RS256: check fails, authgate-fcgi refuses to start', () => {
		const r = check({ client_assertion_key: key('es256.pem'), client_assertion_alg: 'RS256' });
		assert.equal(r.check.status, 1, r.check.stdout + r.check.stderr);
		assert.match(r.check.stderr, /client_assertion_key: cannot load .*es256\.pem for RS256 \(the key type does not fit the algorithm\)/);
		assert.equal(r.fcgi.status, 1, r.fcgi.stdout + r.fcgi.stderr);
		assert.match(r.fcgi.stderr, /refusing to start: client_assertion_key/);
	});

	test('a key file that does not exist: check fails naming it', () => {
		const r = check({ client_assertion_key: path.join(dir, 'nope.pem') }).check;
		assert.equal(r.status, 1, r.stdout + r.stderr);
		assert.match(r.stderr, /client_assertion_key: cannot load .*nope\.pem/);
	});
});
