// Hostile providers: one misbehaviour per case (tests/idp/hostile.mjs,
// each case under its own issuer), a fresh authgate-fcgi per case, a
// login through /auth/login -> the provider's authorize endpoint (no
// page: straight back) -> /auth/callback, and the verdict.  Refused: an
// error answer (500 text/plain), no session cookie, /auth/profile 401,
// and the reason in the log.  Accepted: 307 and a working profile.
// peers.md section 3.4 items 12, 17, 18, 20.

import { test, before, after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { startHostile } from '../idp/hostile.mjs';
import { startApp } from '../lib/lighttpd.mjs';
import { baseConf, CLIENT_ID } from '../lib/stack.mjs';
import { freePort, sleep } from '../lib/procs.mjs';
import { Browser, parseSetCookie } from '../lib/client.mjs';

const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const TIMEOUT_MS = 1500;

// name, verdict ('accept' | 'refuse' at the callback | 'refuse-login'),
// the log line that says why (refusals).
const TABLE = [
	['bad-signature', 'refuse', /id_token: signature invalid/],
	['alg-none', 'refuse', /id_token: (algorithm not allowed|malformed JWS)/],
	['hs256-rsa-pubkey', 'refuse', /id_token: algorithm not allowed/],
	['crit-header', 'refuse', /id_token: signature invalid \(crit header\)/],
	['oct-key-hs256', 'refuse', /id_token: algorithm not allowed/],
	['kty-alg-mismatch', 'refuse', /id_token: signature invalid \(no key of the alg's type\)/],
	['unknown-kid', 'refuse', /id_token: signature invalid \(no key with kid/],
	['jwks-500', 'refuse', /jwks: HTTP 500/],
	['wrong-iss', 'refuse', /id_token: iss mismatch/],
	['wrong-aud', 'refuse', /id_token: aud mismatch/],
	['multi-aud-no-azp', 'refuse', /id_token: azp required with several audiences/],
	['wrong-azp', 'refuse', /id_token: azp mismatch/],
	['expired', 'refuse', /id_token: expired/],
	['iat-future', 'refuse', /id_token: iat in the future/],
	['iat-missing', 'refuse', /id_token: iat missing/],
	['sub-missing', 'refuse', /id_token: sub missing/],
	['nonce-missing', 'refuse', /id_token: nonce missing/],
	['nonce-wrong', 'refuse', /id_token: nonce mismatch/],
	['at-hash-wrong', 'refuse', /id_token: at_hash mismatch/],
	['exp-huge', 'refuse', /id_token: exp not an integer/],
	['exp-fraction', 'refuse', /id_token: exp not an integer/],
	['no-id-token', 'refuse', /no id_token in the response/],
	['id-token-jwe', 'refuse', /id_token: encrypted \(JWE\) tokens are not supported/],
	['discovery-issuer-mismatch', 'refuse-login', /discovery: issuer mismatch/],
	['iss-param-missing', 'refuse', /iss parameter missing/],
	['iss-param-wrong', 'refuse', /iss parameter does not match/],
	['userinfo-sub-mismatch', 'refuse', /userinfo: sub mismatch/],
	['token-type-mac', 'refuse', /token endpoint: unsupported token_type/],
	['token-500', 'refuse', /HTTP 500/],
	['token-malformed-json', 'refuse', /token endpoint: not a JSON object/],
	['token-5mb', 'refuse', /token endpoint: response larger than/, { fast: true }],
	['token-slow', 'refuse', /token endpoint: .*(timed out|Timeout)/i, { fast: true }],
	['rs256', 'accept'],
	['es256', 'accept'],
	['ps256', 'accept'],
	['eddsa', 'accept'],
	['rs256-no-kid', 'accept'],
];

let op;

async function app(name, conf = {}, env = undefined) {
	const port = await freePort();
	const appUrl = `http://127.0.0.1:${port}`;
	return startApp({
		port, name: `hostile-${name}`, env,
		conf: { ...baseConf(appUrl, op.issuer(name)), 'http.timeout_ms': TIMEOUT_MS, ...conf },
	});
}

// /auth/login -> authorize -> /auth/callback; the callback timed.
async function runLogin(a, b = new Browser()) {
	const lr = await b.request(`${a.url}/auth/login?returnTo=${encodeURIComponent('/index.html')}`);
	if (lr.status !== 307)
		return { b, stage: 'login', res: lr };
	const az = await b.request(lr.location);
	assert.equal(az.status, 302, `authorize: ${az.status} ${az.text}`);
	const t0 = Date.now();
	const res = await b.request(az.location);
	return { b, stage: 'callback', res, ms: Date.now() - t0 };
}

function sessionSet(res) {
	return res.setCookies.map(parseSetCookie).filter((c) => c && /^__session/.test(c.name) &&
	    c.value !== '' && !(c.maxAge !== null && c.maxAge <= 0));
}

// authgate-fcgi's stderr: lighttpd's output file (bin-path) or its error log.
function logText(a) {
	const out = path.join(a.dir, 'lighttpd.out');
	return (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '') + a.errorLogText();
}

async function logMatch(a, re) {
	for (let i = 0; i < 20; i++) {
		if (re.test(logText(a)))
			return;
		await sleep(50);
	}
	assert.match(logText(a), re, 'the reason in the log');
}

async function assertRefused(a, r, stage, re) {
	const { res } = r;
	const why = `${r.stage} ${res.status} ${res.text.slice(0, 200)}\n${logText(a).slice(-1500)}`;
	assert.equal(r.stage, stage, why);
	assert.equal(res.status, 500, why);
	assert.match(res.headers.get('content-type') || '', /^text\/plain/, why);
	assert.deepEqual(sessionSet(res), [], `no session cookie: ${res.setCookies}`);
	const p = await r.b.request(`${a.url}/auth/profile`, { headers: API });
	assert.equal(p.status, 401, 'no session afterwards');
	if (re)
		await logMatch(a, re);
}

async function assertAccepted(a, r) {
	const { res } = r;
	assert.equal(r.stage, 'callback', `${res.status} ${res.text}`);
	assert.equal(res.status, 307, `${res.status} ${res.text}\n${logText(a).slice(-1500)}`);
	assert.equal(res.location, `${a.url}/index.html`);
	assert.ok(sessionSet(res).length > 0, `session cookie: ${res.setCookies}`);
	const p = await r.b.request(`${a.url}/auth/profile`, { headers: API });
	assert.equal(p.status, 200, p.text);
	assert.equal(p.json().sub, 'hostile-user');
}

// The rotation case's app: its first JWKS fetch happens in before(); the
// throttled refetch is refused in a test below (the product's 60 s).
let rot = null;

before(async () => {
	op = await startHostile({ clientId: CLIENT_ID });
	rot = await app('rotation');
	const r = await runLogin(rot);
	await assertAccepted(rot, r);
	assert.equal(op.stats('rotation').jwks, 1);
});

after(async () => {
	await rot?.stop();
	await op?.stop();
});

for (const [name, verdict, re, opts = {}] of TABLE) {
	test(`${name}: ${verdict === 'accept' ? 'accepted' : 'refused'}`, async () => {
		const a = await app(name);
		try {
			const r = await runLogin(a);
			if (verdict === 'accept') {
				await assertAccepted(a, r);
			} else {
				await assertRefused(a, r, verdict === 'refuse-login' ? 'login' : 'callback', re);
				if (opts.fast)
					assert.ok(r.ms < 4000, `answered in ${r.ms} ms (http.timeout_ms ${TIMEOUT_MS})`);
			}
		} finally {
			await a.stop();
		}
	});
}

test('rotation: a new kid right after a JWKS fetch is refused (throttled refetch)', async () => {
	op.state('rotation').kid = 'rot1';
	const r = await runLogin(rot);
	await assertRefused(rot, r, 'callback', /no key with kid "?rot1/);
	assert.equal(op.stats('rotation').jwks, 1, 'no refetch within 60 s of the fetch');
});

test('jwks flood: 50 callbacks with random kids cause at most one extra JWKS fetch', async () => {
	const a = await app('random-kid');
	try {
		await assertAccepted(a, await runLogin(a));
		const before = op.stats('random-kid').jwks;
		assert.equal(before, 1);
		op.state('random-kid').random = true;
		for (let i = 0; i < 50; i++) {
			const r = await runLogin(a);
			assert.equal(r.res.status, 500, r.res.text);
		}
		assert.ok(op.stats('random-kid').jwks - before <= 1,
		    `JWKS fetches: ${op.stats('random-kid').jwks - before} extra`);
		const h = await fetch(`${a.url}/auth/health`);
		assert.equal(h.status, 200);
	} finally {
		await a.stop();
	}
});

// The successful refetch without waiting 60 s: a second app whose
// throttle is 2 s (AUTHGATE_TEST_JWKS_REFETCH_MIN, honoured only in test
// mode), on its own copy of the rotation case.
test('rotation: a new kid after the refetch interval is found by one refetch', async () => {
	const a = await app('rotation-fast', {}, { AUTHGATE_TEST_JWKS_REFETCH_MIN: '2' });
	try {
		await assertAccepted(a, await runLogin(a));
		assert.equal(op.stats('rotation-fast').jwks, 1);
		await sleep(2500);
		op.state('rotation-fast').kid = 'rot1';
		await assertAccepted(a, await runLogin(a));
		assert.equal(op.stats('rotation-fast').jwks, 2, 'exactly one refetch');
	} finally {
		await a.stop();
	}
});
