// Attack tests on every route (issue 5): the 28 negative-test classes of
// /work/shared/reference/peers.md section 3.4, replayed against a real
// stack (oidc-provider <- authgate-fcgi under lighttpd <- a hostile
// client).  Where each class is tested:
//
//  1 header/env spoofing      here: "spoofing: identity headers on every
//                             /auth route ...", "spoofing: with a session
//                             ...", "spoofing: the wrapper ..."; wrap-cases.mjs
//                             "request headers cannot pose as the identity";
//                             authorizer*.test.mjs "spoofing: request headers
//                             never become one of our variables"
//  2 CGI env precedence       wrap-cases.mjs "request headers cannot pose as
//                             the identity"; here "spoofing: the wrapper ...";
//                             tests/unit/test-cgienv.c
//  3 open redirect            here: "open redirect: every payload ... /auth/login",
//                             "... /auth/logout", "open redirect: raw query
//                             encodings ..."; tests/unit/test-url.c
//                             (tests/data/open-redirect.txt, 1071 payloads);
//                             login.test.mjs "returnTo=//evil.com ..."
//  4 allow-list suffix        here: "allow-list: logout.allowed_return_urls
//                             matches exactly ..."; tests/unit/test-url.c
//  5 chunk-count DoS          here: "session chunks: ..."; tests/unit/test-session.c
//  6 malformed Cookie         here: "cookies: malformed Cookie headers ...",
//                             "cookies: AG_MAX_COOKIES ..."; tests/unit/test-cookie.c;
//                             tests/fuzz/fuzz-cookie.c
//  7 POST edge cases          here: "backchannel: POST edge cases ..."; 
//                             backchannel.test.mjs "malformed requests: 400
//                             text/plain"; tokens.test.mjs "duplicated parameters"
//  8 no content after login   wrap-cases.mjs "no session, a navigation: 307 to the
//                             login, the program does not run"; authorizer*.test.mjs
//                             "a CGI program without a session never runs"; here
//                             "spoofing: the wrapper ..." (program never runs)
//  9 XSS                      here: "XSS: values echoed in error answers ..."
// 10 storage key injection    here: "storage ids: ..."; tests/unit/test-db.c
// 11 AEAD hygiene             here: "AEAD: every bit flip of a real session
//                             cookie ...", "AEAD: every bit flip of a transaction
//                             cookie ..."; tests/unit/test-crypto.c ("fresh IV
//                             each time"); sdk-cookie.test.mjs "a tampered SDK
//                             cookie is refused"
// 12 login CSRF / state       login.test.mjs "callback with a state that has no
//                             transaction cookie", "... another login's state",
//                             "replayed callback URL", "expired transaction";
//                             hostile-provider.test.mjs (nonce-wrong); here
//                             "login CSRF: duplicated state ..."
// 13 transaction-cookie cap   here: "transaction cookies: 60 logins ..."
// 14 session fixation         here: "session fixation (cookie store) ...";
//                             sqlite.test.mjs "a login rotates the session id"
// 15 3rd-party login params   here: "third-party login: scope and audience ...";
//                             tests/unit (h-login forwards scope/audience only
//                             when login.forward_* is on)
// 16 back-channel logout      backchannel.test.mjs "hostile tokens: 400 each",
//                             "a sub-only logout token ..."; tests/unit/test-bclogout.c
// 17 JWT validation           hostile-provider.test.mjs (alg-none, hs256-rsa-pubkey,
//                             kty-alg-mismatch, ...); tests/unit/test-jwt.c
// 18 JWKS DoS                 here: "JWKS flood: 1000 ID tokens with unknown kids
//                             ..."; hostile-provider.test.mjs "jwks flood"
// 19 refresh                  tokens-burst.test.mjs "parallel requests with the
//                             same expired session: all 200, one refresh";
//                             tests/unit/test-token.c
// 20 userinfo sub mismatch    hostile-provider.test.mjs (userinfo-sub case);
//                             tests/unit/test-oidc.c
// 21 route matching           here: "spoofing: identity headers on every /auth
//                             route ..." (X-Forwarded-Uri, X-Original-URL);
//                             wrap-cases.mjs "a query without \"=\" never picks
//                             the program to run"
// 22 health endpoint          here: "spoofing: identity headers on every /auth
//                             route ..." (health answers {"status":"ok"} only)
// 23 claim predicates         tests/unit/test-cgienv.c (mallory's claims);
//                             wrap-cases.mjs "mallory's hostile claims ..."
// 24 config mis-parse         tests/unit/test-conf.c; tests/check-conf-doc
// 25 secrets in logs          zz-secrets-in-logs.test.mjs (runs last: tests/run
//                             runs the files in name order)
// 26 decompression bomb       tests/unit/test-crypto.c (zip JWE headers refused)
// 27 2038/overflow            tests/unit/test-session.c, tests/unit/test-db.c
// 28 front-channel sid logout here: "logout without a session cookie revokes
//                             nothing at the provider"
//
// Limits of lib/ag_limits.h at the HTTP edge are tested here ("limits: ...");
// the ones behind lighttpd's own 16 KiB header cap (AG_MAX_COOKIE_HEADER,
// AG_MAX_QUERY) or in pure functions are unit tests (tests/unit/test-*.c).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { decrypt } from '../node_modules/@auth0/nextjs-auth0/dist/server/cookies.js';
import { generateSessionCookie } from '@auth0/nextjs-auth0/testing';
import { startStack, startWrapStack, baseConf } from '../lib/stack.mjs';
import { REPO, freePort, runDir } from '../lib/procs.mjs';
import { startApp } from '../lib/lighttpd.mjs';
import { Browser, login, parseSetCookie } from '../lib/client.mjs';
import { httpRequest, NAVIGATION, parseEnvOutput } from '../lib/wrap.mjs';
import { startHostile } from '../idp/hostile.mjs';

const BUILD = process.env.BUILD || 'build';
const CLI = path.join(REPO, BUILD, 'authgate');
const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const ALLOWED_RETURN = 'https://example.com/app';

// ag_limits.h
const AG_MAX_COOKIES = 200;
const AG_MAX_PARAMS = 64;
const AG_MAX_RETURN_TO = 2048;
const AG_MAX_REQUEST_BODY = 64 * 1024;
const AG_TXN_TOTAL_MAX = 3500;

let s;

before(async () => {
	s = await startStack({
		name: 'attacks',
		conf: { 'logout.allowed_return_urls': ALLOWED_RETURN },
	});
});

after(async () => {
	await s?.stop();
});

/* ------------------------------------------------------------ helpers */

function setCookie(res, name) {
	return res.setCookies.map(parseSetCookie).find((c) => c && c.name === name) || null;
}

function txnCookie(res) {
	return res.setCookies.map(parseSetCookie)
	    .find((c) => c && c.name.startsWith('__txn_') && c.value) || null;
}

// Run f over items, n at a time.
async function pool(items, n, f) {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			await f(items[i], i);
		}
	};
	await Promise.all(Array.from({ length: n }, worker));
}

// tests/data/open-redirect.txt, with its two escapes undone.
function payloads() {
	const text = fs.readFileSync(path.join(REPO, 'tests', 'data', 'open-redirect.txt'), 'utf8');
	const out = [];
	for (const line of text.split('\n')) {
		if (line === '' || line.startsWith('#'))
			continue;
		out.push(line.replace(/\\(\\|x([0-9a-fA-F]{2}))/g,
		    (m, e, hex) => hex ? String.fromCharCode(parseInt(hex, 16)) : '\\'));
	}
	return out;
}

// A stored returnTo / redirect target that can only land on the app.
function sameOriginPath(p) {
	return typeof p === 'string' && p.startsWith('/') && !p.startsWith('//') &&
	    !/[\\\x00-\x20\x7f]/.test(p) && new URL(p, s.appUrl).origin === s.appUrl;
}

function sameOriginUrl(u) {
	return typeof u === 'string' && !/[\\\x00-\x20\x7f]/.test(u) &&
	    new URL(u).origin === s.appUrl;
}

// A transaction cookie's value is "<creation time, ms>:<JWE>".
function txnJwe(v) {
	return v.slice(v.indexOf(':') + 1);
}

async function txnPayload(res) {
	const c = txnCookie(res);
	assert.ok(c, `a transaction cookie: ${res.setCookies}`);
	const d = await decrypt(txnJwe(c.value), s.secret);
	assert.ok(d && d.payload, 'the transaction cookie decrypts');
	return d.payload;
}

// One request over a raw socket: bytes node:http would refuse to send.
function rawRequest(port, head) {
	return new Promise((resolve, reject) => {
		const sock = net.connect(port, '127.0.0.1');
		const chunks = [];
		sock.setTimeout(10000, () => sock.destroy(new Error('raw request timed out')));
		sock.on('connect', () => sock.end(Buffer.from(head, 'latin1')));
		sock.on('data', (c) => chunks.push(c));
		sock.on('end', () => {
			const t = Buffer.concat(chunks).toString('latin1');
			const m = /^HTTP\/1\.[01] (\d{3})/.exec(t);
			resolve({ status: m ? Number(m[1]) : 0, text: t });
		});
		sock.on('error', reject);
	});
}

async function assertAlive(pids) {
	const h = await fetch(`${s.appUrl}/auth/health`);
	assert.equal(h.status, 200);
	if (pids.length > 0)
		assert.deepEqual(s.app.fcgiPids(), pids, 'the same authgate-fcgi process');
}

async function profileWith(cookie) {
	return httpRequest(`${s.appUrl}/auth/profile`, { headers: { ...API, cookie } });
}

/* ----------------------------------------------------------- spoofing */

const MARK = 'spoofed-7f3a9c';
const SPOOF = {
	OIDC_CLAIM_sub: MARK, 'oidc-claim-email': `${MARK}@evil.com`,
	Oidc_Claim_Email: `${MARK}@evil.com`, 'Oidc-Claim-Sub': MARK,
	OIDC_access_token: MARK, 'Oidc-Access-Token': MARK,
	X_Forwarded_User: MARK, 'X-Forwarded-User': MARK, 'X-Forwarded-Email': `${MARK}@evil.com`,
	'X-Forwarded-Preferred-Username': MARK, REMOTE_USER: MARK, 'Remote-User': MARK,
	'X-Remote-User': MARK, HTTP_OIDC_CLAIM_SUB: MARK, 'X-Auth-Request-User': MARK,
	'X-Forwarded-Uri': '/auth/health', 'X-Original-URL': '/auth/health',
	'X-Rewrite-URL': '/auth/health', 'Variable-OIDC_CLAIM_sub': MARK,
	AUTHGATE_MODE: MARK,
};

// The SDK answers callback failures 500 (its default onCallback); any
// other 5xx, or a 500 that is not a plain-text message, is a failure.
function assertNoMark(res, what) {
	const plain = /^text\/plain/.test(res.headers.get('content-type') || '');
	assert.ok(res.status < 500 || (res.status === 500 && plain), `${what}: ${res.status} ${res.text.slice(0, 300)}`);
	assert.ok(!res.text.includes(MARK), `${what}: body echoes a spoofed value`);
	for (const [k, v] of res.headers)
		assert.ok(!v.includes(MARK), `${what}: header ${k} echoes a spoofed value`);
}

test('spoofing: identity headers on every /auth route change nothing (no session)', async () => {
	const pids = s.app.fcgiPids();
	const u = (p) => `${s.appUrl}${p}`;
	const cases = [
		['GET', '/auth/health'], ['GET', '/auth/profile'], ['GET', '/auth/access-token'],
		['GET', '/auth/login'], ['GET', '/auth/callback?code=x&state=aaaaaaaaaaaaaaaaaaaa'],
		['GET', '/auth/logout'], ['POST', '/auth/backchannel-logout'],
		['GET', '/auth/nope'], ['GET', '/index.html'],
	];
	for (const [method, p] of cases) {
		for (const extra of [{}, API]) {
			const what = `${method} ${p} ${extra === API ? '(API)' : '(navigation)'}`;
			const res = await httpRequest(u(p), {
				method, headers: { ...NAVIGATION, ...extra, ...SPOOF },
				body: method === 'POST' ? 'logout_token=x' : undefined,
			});
			assertNoMark(res, what);
			if (p === '/auth/health') {
				assert.equal(res.status, 200);
				assert.deepEqual(JSON.parse(res.text), { status: 'ok' }, 'health names nobody');
			}
			if (p === '/auth/profile' || p === '/auth/access-token')
				assert.equal(res.status, 401, `${what}: no identity from headers`);
			if (p === '/auth/login') {
				assert.equal(res.status, 307);
				assert.ok(res.location.startsWith(`${s.issuer}/auth?`), res.location);
			}
			assert.equal(setCookie(res, '__session')?.value || '', '', `${what}: no session minted`);
		}
		// OPTIONS, the method least often gated.
		const o = await httpRequest(u(p), { method: 'OPTIONS', headers: { ...API, ...SPOOF } });
		assertNoMark(o, `OPTIONS ${p}`);
		if (p === '/auth/profile' || p === '/auth/access-token')
			assert.notEqual(o.status, 200, `OPTIONS ${p}: no identity`);
	}
	await assertAlive(pids);
});

test('spoofing: with a session, headers do not change who /auth/profile says you are', async () => {
	const r = await login(s.appUrl, 'alice');
	const cookie = r.jar.header(`${s.appUrl}/`);
	const res = await httpRequest(`${s.appUrl}/auth/profile`, { headers: { ...API, ...SPOOF, cookie } });
	assert.equal(res.status, 200, res.text);
	assert.equal(JSON.parse(res.text).sub, 'alice');
	assertNoMark(res, 'profile');
});

test('spoofing: Host and X-Forwarded-* never steer a redirect (login, logout, callback)', async () => {
	const port = new URL(s.appUrl).port;
	const tricks = [
		{ host: 'evil.example' },
		{ host: `evil.example:${port}` },
		{ host: `127.0.0.1:${port}`, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https',
		    'x-forwarded-port': '443', forwarded: 'host=evil.example;proto=https', 'x-original-host': 'evil.example' },
		{ host: `127.0.0.1:${port}@evil.example` },
	];
	for (const h of tricks) {
		const what = JSON.stringify(h);
		const lr = await httpRequest(`${s.appUrl}/auth/login?returnTo=/x`, { headers: { ...NAVIGATION, ...h } });
		if (lr.status >= 400 && lr.status < 500)
			continue;	// lighttpd refused the Host: fine.
		assert.equal(lr.status, 307, `${what}: ${lr.text}`);
		const az = new URL(lr.location);
		assert.equal(az.searchParams.get('redirect_uri'), `${s.appUrl}/auth/callback`, what);
		assert.equal((await txnPayload(lr)).returnTo, '/x', what);
		const lo = await httpRequest(`${s.appUrl}/auth/logout?returnTo=/y`, { headers: { ...NAVIGATION, ...h } });
		assert.equal(lo.status, 307, `${what}: ${lo.text}`);
		const plr = new URL(lo.location).searchParams.get('post_logout_redirect_uri');
		assert.equal(plr, `${s.appUrl}/y`, what);
	}
	// A whole login whose every request carries X-Forwarded-*: the
	// callback still sends the browser to the configured origin.
	const b = new Browser({ headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
	const r = await login(s.appUrl, 'alice', { browser: b, returnTo: '/index.html' });
	assert.equal(r.callback?.status, 307);
	assert.equal(r.callback.location, `${s.appUrl}/index.html`);
});

test('spoofing: the wrapper ignores identity headers; without a session the program never runs', async () => {
	const w = await startWrapStack({ name: 'attacks-wrap' });
	try {
		const url = `${w.appUrl}/cgi-bin/env.sh`;
		const anon = await httpRequest(url, { headers: { ...NAVIGATION, ...SPOOF } });
		assert.equal(anon.status, 307, anon.text);
		assert.ok(anon.location.includes('/auth/login'), anon.location);
		assert.ok(!/^(VARIABLES|GATEWAY_INTERFACE|REMOTE_USER|OIDC_)/m.test(anon.text),
		    'no program output in the login redirect');
		const api = await httpRequest(url, { headers: { ...API, ...SPOOF } });
		assert.equal(api.status, 401);
		assert.ok(!/^(VARIABLES|GATEWAY_INTERFACE)=/m.test(api.text), 'no program output in the 401');

		const r = await login(w.appUrl, 'alice');
		const res = await httpRequest(url, { headers: { ...NAVIGATION, ...SPOOF }, jar: r.jar });
		assert.equal(res.status, 200, res.text);
		const env = parseEnvOutput(res.text);
		assert.equal(env.vars.get('OIDC_CLAIM_sub'), 'alice');
		assert.equal(env.vars.get('REMOTE_USER') ?? 'alice', 'alice');
		for (const [k, v] of env.vars)
			assert.ok(!(v.includes(MARK) && /^(OIDC_|REMOTE_USER|AUTHGATE_)/.test(k)),
			    `${k}=${v}: a spoofed header became a gateway variable`);
	} finally {
		await w.stop();
	}
});

/* ------------------------------------------------------ open redirect */

// GET route?returnTo=p: the 307 answer, or null when the query was
// refused (400 by authgate; 414/431 by lighttpd for the 20 KB ones).
async function withReturnTo(route, p) {
	const res = await httpRequest(`${s.appUrl}${route}?returnTo=${encodeURIComponent(p)}`, { headers: NAVIGATION });
	if ([400, 414, 431].includes(res.status))
		return null;
	assert.equal(res.status, 307, `${route} ${JSON.stringify(p).slice(0, 200)}: ${res.status} ${res.text.slice(0, 200)}`);
	return res;
}

test('open redirect: every payload of open-redirect.txt on /auth/login is refused or stays same-origin', async () => {
	const list = payloads();
	assert.ok(list.length >= 300, `${list.length} payloads`);
	let kept = 0;
	await pool(list, 6, async (p) => {
		const what = JSON.stringify(p);
		const res = await withReturnTo('/auth/login', p);
		if (res === null)
			return;
		assert.ok(res.location.startsWith(`${s.issuer}/auth?`), what);
		const rt = (await txnPayload(res)).returnTo;
		assert.ok(sameOriginPath(rt), `${what} stored as returnTo ${JSON.stringify(rt)}`);
		if (rt !== '/')
			kept++;
	});
	assert.ok(kept < list.length / 4, `${kept} payloads kept as a path (most must fall back to "/")`);
});

test('open redirect: every payload of open-redirect.txt on /auth/logout is refused or stays same-origin', async () => {
	const list = payloads();
	await pool(list, 6, async (p) => {
		const what = JSON.stringify(p);
		const res = await withReturnTo('/auth/logout', p);
		if (res === null)
			return;
		const es = new URL(res.location);
		assert.equal(es.origin + es.pathname, `${s.issuer}/session/end`, what);
		const plr = es.searchParams.get('post_logout_redirect_uri');
		assert.ok(sameOriginUrl(plr), `${what} -> post_logout_redirect_uri ${plr}`);
	});
});

test('open redirect: raw query encodings (NUL, CR/LF, double encoding) on login and logout', async () => {
	const raw = ['%00//evil.com', '/%00//evil.com', '%2F%00%2F%2Fevil.com', '/%0d%0aLocation:%20http://evil.com',
	    '%0d%0a//evil.com', '//evil.com%00.127.0.0.1', '/%252F%252Fevil.com', '%252F%252Fevil.com',
	    '%5C%5Cevil.com', '/%5C/evil.com', '%09//evil.com', '%E3%80%82evil.com', '%C0%AF%C0%AFevil.com',
	    'https%3A%2F%2Fevil.com', 'https:%2F%2Fevil.com', 'javascript%3Aalert(1)', '//evil.com&returnTo=/',
	    '/&returnTo=//evil.com', '%2F%2F%65vil.com', '/x%23//evil.com', '+//evil.com', '%20//evil.com'];
	for (const q of raw) {
		const lr = await httpRequest(`${s.appUrl}/auth/login?returnTo=${q}`, { headers: NAVIGATION });
		assert.ok([307, 400].includes(lr.status), `login ${q}: ${lr.status}`);
		if (lr.status === 307) {
			const rt = (await txnPayload(lr)).returnTo;
			assert.ok(sameOriginPath(rt), `login ${q} -> ${JSON.stringify(rt)}`);
		}
		const lo = await httpRequest(`${s.appUrl}/auth/logout?returnTo=${q}`, { headers: NAVIGATION });
		assert.ok([307, 400].includes(lo.status), `logout ${q}: ${lo.status}`);
		if (lo.status === 307) {
			const plr = new URL(lo.location).searchParams.get('post_logout_redirect_uri');
			assert.ok(sameOriginUrl(plr), `logout ${q} -> ${plr}`);
		}
	}
	// Duplicated returnTo: refused, not last-wins.
	const d = await httpRequest(`${s.appUrl}/auth/login?returnTo=/&returnTo=//evil.com`, { headers: NAVIGATION });
	assert.equal(d.status, 400);
	const dl = await httpRequest(`${s.appUrl}/auth/logout?returnTo=/&returnTo=//evil.com`, { headers: NAVIGATION });
	assert.equal(dl.status, 400);
});

test('allow-list: logout.allowed_return_urls matches exactly, no suffix or prefix tricks', async () => {
	const plrOf = async (rt) => {
		const res = await httpRequest(`${s.appUrl}/auth/logout?returnTo=${encodeURIComponent(rt)}`, { headers: NAVIGATION });
		assert.equal(res.status, 307, `${rt}: ${res.text}`);
		return new URL(res.location).searchParams.get('post_logout_redirect_uri');
	};
	assert.equal(await plrOf(ALLOWED_RETURN), ALLOWED_RETURN, 'the listed URL itself');
	for (const rt of ['https://example.com.evil.com/app', 'https://evil-example.com/app',
	    'https://evilexample.com/app', 'https://example.com/app/../../evil', 'https://example.com/app/x',
	    'https://example.com/app?x=1', 'https://example.com/ap', 'https://example.com/app#x',
	    'https://EXAMPLE.com/app', 'http://example.com/app', 'https://example.com:444/app',
	    'https://example.com@evil.com/app', 'https://evil.com/https://example.com/app',
	    'https://example.com/app\\@evil.com', ' https://example.com/app', 'https://example.com/app ',
	    '//example.com/app', 'https://example.com./app', 'https://xn--xample-2of.com/app']) {
		const plr = await plrOf(rt);
		assert.ok(plr === s.appUrl || plr === `${s.appUrl}/`, `${rt} -> ${plr}`);
	}
	// The logout allow-list is not a login allow-list.
	const lr = await httpRequest(`${s.appUrl}/auth/login?returnTo=${encodeURIComponent(ALLOWED_RETURN)}`, { headers: NAVIGATION });
	assert.equal((await txnPayload(lr)).returnTo, '/');
});

/* ------------------------------------------------------------ cookies */

test('cookies: malformed Cookie headers never crash and never authenticate', async () => {
	const pids = s.app.fcgiPids();
	const many = Array.from({ length: 1000 }, (_, i) => `c${i}=${i}`).join('; ');
	const headers = [
		'a', '=', ';;', ' ; ', ';', '__session', '__session=', '=__session', '==', '=;=;=',
		'a=b;;;c', '"__session"="x"', '__session="quoted"', '__session="', '__session=a"b',
		`${'n'.repeat(4000)}=v`, `__session=${'A'.repeat(9000)}`, 'é=ü; __session=ü',
		'__session=x; __session=y; __session=z', `__txn_${'a'.repeat(40)}`, '__txn_=x',
		`__session__0=${'A'.repeat(3500)}; __session__1=B`, '__session__=x', '__session__-1=x',
		'__session__99999999=x', '__session__0x1=x', '__session__ 1=x', '\t__session\t=\tx',
		many, `${many.slice(0, 3000)}; __session=garbage`,
	];
	for (const h of headers) {
		const res = await profileWith(h);
		assert.equal(res.status, 401, `${JSON.stringify(h.slice(0, 60))}: ${res.status} ${res.text.slice(0, 200)}`);
	}
	// Bytes node:http refuses: NUL, CR, DEL, 8-bit, by a raw socket.
	const port = new URL(s.appUrl).port;
	for (const c of ['__session=a\x00b', 'a\x00=b', '\x00', '__session=\x7f\xff', '__session=a\rb', '\xff\xfe=\x80']) {
		const r = await rawRequest(port, `GET /auth/profile HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nCookie: ${c}\r\nConnection: close\r\n\r\n`);
		assert.ok(r.status === 401 || r.status === 400, `${JSON.stringify(c)}: ${r.status}`);
	}
	await assertAlive(pids);
});

test('cookies: AG_MAX_COOKIES: the session found as cookie 200, dropped as cookie 201; duplicates: first wins', async () => {
	const r = await login(s.appUrl, 'bob');
	const sess = r.jar.get(s.appUrl, '__session')?.value;
	assert.ok(sess, 'a one-chunk session');
	const junk = (n) => Array.from({ length: n }, (_, i) => `j${i}=1`).join('; ');
	const at = await profileWith(`${junk(AG_MAX_COOKIES - 1)}; __session=${sess}`);
	assert.equal(at.status, 200, `cookie ${AG_MAX_COOKIES}: ${at.text}`);
	const past = await profileWith(`${junk(AG_MAX_COOKIES)}; __session=${sess}`);
	assert.equal(past.status, 401, `cookie ${AG_MAX_COOKIES + 1}: dropped`);
	assert.equal((await profileWith(`__session=${sess}; __session=garbage`)).status, 200);
	assert.equal((await profileWith(`__session=garbage; __session=${sess}`)).status, 401);
});

test('session chunks: absurd, negative, non-numeric, missing and extra chunks are refused quickly', async () => {
	const value = await generateSessionCookie({
		user: { sub: 'chunky', name: 'Chunky', bio: 'x'.repeat(6000) },
		tokenSet: { accessToken: 'at', expiresAt: Math.floor(Date.now() / 1000) + 3600 },
	}, { secret: s.secret });
	const chunks = [];
	for (let i = 0; i < value.length; i += 3500)
		chunks.push(value.slice(i, i + 3500));
	assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
	const hdr = (cs) => cs.map(([i, v]) => `__session__${i}=${v}`).join('; ');
	const all = chunks.map((v, i) => [i, v]);
	assert.equal((await profileWith(hdr(all))).status, 200, 'control: every chunk');
	const cases = {
		'missing chunk 1': all.filter(([i]) => i !== 1),
		'missing chunk 0': all.filter(([i]) => i !== 0),
		'chunks swapped': [[0, chunks[1]], [1, chunks[0]], ...all.slice(2)],
		'only chunk 99999999': [[99999999, chunks[0]]],
		'chunk -1': [[-1, chunks[0]], ...all.slice(1)],
		'chunk 1e3': [[0, chunks[0]], ['1e3', chunks[1]]],
		'a gap': [[0, chunks[0]], [5, chunks[1]], [9, chunks[2]]],
		'eleven chunks': Array.from({ length: 11 }, (_, i) => [i, 'A'.repeat(1000)]),
	};
	// A chunk past AG_MAX_SESSION_CHUNKS next to a complete session is
	// ignored (never looked for); everything else here is no session.
	const t1 = Date.now();
	assert.equal((await profileWith(hdr([...all, [99999999, 'x']]))).status, 200, 'chunk 99999999 ignored');
	assert.ok(Date.now() - t1 < 2000);
	for (const [what, cs] of Object.entries(cases)) {
		const t0 = Date.now();
		const res = await profileWith(hdr(cs));
		assert.equal(res.status, 401, `${what}: ${res.text.slice(0, 200)}`);
		assert.ok(Date.now() - t0 < 2000, `${what}: ${Date.now() - t0} ms`);
	}
});

/* --------------------------------------------------------------- XSS */

test('XSS: values echoed in error answers are never live HTML or script', async () => {
	const xss = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "';alert(1);//",
	    '</script><script>alert(1)</script>', '`${alert(1)}`', 'javascript:alert(1)'];
	for (const x of xss) {
		const e = encodeURIComponent(x);
		const b = new Browser();
		const lr = await b.request(`${s.appUrl}/auth/login?returnTo=/`);
		const state = new URL(lr.location).searchParams.get('state');
		const urls = [
			`/auth/callback?error=${e}&error_description=${e}&state=${state}&iss=${encodeURIComponent(s.issuer)}`,
			`/auth/callback?error=access_denied&error_description=${e}&state=${e}`,
			`/auth/callback?code=${e}&state=${e}`,
			`/auth/login?max_age=${e}`, `/auth/login?returnTo=${e}&returnTo=${e}`,
			`/auth/access-token?audience=${e}&scope=${e}`, `/auth/logout?returnTo=${e}&returnTo=1`,
			`/auth/${e}`, `/auth/profile?${e}=${e}`,
		];
		for (const u of urls) {
			for (const headers of [NAVIGATION, API]) {
				const res = await b.request(`${s.appUrl}${u}`, { headers });
				const ct = res.headers.get('content-type') || '';
				const what = `${u} (${ct}) ${res.status}`;
				assert.ok(res.status < 500 || /^text\/plain/.test(ct), what);
				if (/html|javascript|xml/i.test(ct))
					assert.ok(!res.text.includes(x) && !/<script/i.test(res.text), `${what}: unescaped in ${res.text.slice(0, 300)}`);
				assert.ok(!/[<>"]/.test(res.rawLocation || ''), `${what}: Location ${res.rawLocation}`);
				if (/json/.test(ct))
					JSON.parse(res.text);	// well-formed, so the value is quoted
				assert.equal(res.headers.get('x-content-type-options') ?? 'nosniff', 'nosniff', what);
			}
		}
	}
});

/* ------------------------------------------------------- AEAD hygiene */

// Every variant of a compact JWE with one bit flipped in one byte of one
// of its five segments, plus structural mutations.
function mutations(jwe) {
	const parts = jwe.split('.');
	assert.equal(parts.length, 5, 'a compact JWE');
	const out = [];
	parts.forEach((p, seg) => {
		const bytes = Buffer.from(p, 'base64url');
		for (let i = 0; i < bytes.length; i++) {
			const m = Buffer.from(bytes);
			m[i] ^= 1 << (i % 8);
			const q = [...parts];
			q[seg] = m.toString('base64url');
			out.push([`segment ${seg} byte ${i}`, q.join('.')]);
		}
	});
	const hdr = JSON.parse(Buffer.from(parts[0], 'base64url'));
	const withHdr = (h) => [Buffer.from(JSON.stringify(h)).toString('base64url'), ...parts.slice(1)].join('.');
	out.push(['alg A256KW', withHdr({ ...hdr, alg: 'A256KW' })]);
	out.push(['enc A128GCM', withHdr({ ...hdr, enc: 'A128GCM' })]);
	out.push(['kid added', withHdr({ ...hdr, kid: 'x' })]);
	out.push(['zip DEF', withHdr({ ...hdr, zip: 'DEF' })]);
	out.push(['tag truncated', [...parts.slice(0, 4), parts[4].slice(0, 10)].join('.')]);
	out.push(['tag empty', [...parts.slice(0, 4), ''].join('.')]);
	out.push(['iv empty', [parts[0], parts[1], '', parts[3], parts[4]].join('.')]);
	out.push(['encrypted key added', [parts[0], 'AAAA', ...parts.slice(2)].join('.')]);
	out.push(['sixth segment', `${jwe}.AAAA`]);
	out.push(['padding added', `${jwe}=`]);
	return out;
}

test('AEAD: every bit flip of a real session cookie is refused; two seals of one session differ', async () => {
	const r = await login(s.appUrl, 'alice');
	const sess = r.jar.get(s.appUrl, '__session')?.value;
	assert.ok(sess);
	assert.equal((await profileWith(`__session=${sess}`)).status, 200, 'control');
	const muts = mutations(sess);
	assert.ok(muts.length > 200, `${muts.length} mutations`);
	const accepted = [];
	await pool(muts, 6, async ([what, v]) => {
		const res = await profileWith(`__session=${v}`);
		if (res.status !== 401)
			accepted.push(`${what}: ${res.status}`);
	});
	assert.deepEqual(accepted, [], 'every mutation refused');
	// The same session sealed twice (a rolling profile call rewrites the
	// cookie): the ciphertexts and IVs differ.
	const a = await profileWith(`__session=${sess}`);
	const b = await profileWith(`__session=${sess}`);
	const va = setCookie(a, '__session')?.value, vb = setCookie(b, '__session')?.value;
	if (va && vb) {
		assert.notEqual(va, vb);
		assert.notEqual(va.split('.')[2], vb.split('.')[2], 'fresh IV');
	}
});

test('AEAD: every bit flip of a transaction cookie fails the callback at the state check', async () => {
	const b = new Browser();
	const lr = await b.request(`${s.appUrl}/auth/login?returnTo=/`);
	const state = new URL(lr.location).searchParams.get('state');
	const txn = txnCookie(lr);
	assert.equal(txn.name, `__txn_${state}`);
	const q = `/auth/callback?code=not-a-real-code&state=${state}&iss=${encodeURIComponent(s.issuer)}`;
	const cb = (v) => httpRequest(`${s.appUrl}${q}`, { headers: { ...NAVIGATION, cookie: `${txn.name}=${v}` } });
	const control = await cb(txn.value);
	assert.doesNotMatch(control.text, /state/i, `control passes the state check: ${control.text}`);
	const accepted = [];
	const stamp = txn.value.slice(0, txn.value.indexOf(':') + 1);
	await pool(mutations(txnJwe(txn.value)), 6, async ([what, v]) => {
		const res = await cb(stamp + v);
		if (![400, 500].includes(res.status) || !/state/i.test(res.text) || setCookie(res, '__session')?.value)
			accepted.push(`${what}: ${res.status} ${res.text.slice(0, 80)}`);
	});
	assert.deepEqual(accepted, [], 'every mutation refused at the state check');
});

/* ------------------------------------------- login CSRF and transactions */

test('login CSRF: duplicated state or code at the callback is refused', async () => {
	const b = new Browser();
	const lr = await b.request(`${s.appUrl}/auth/login?returnTo=/`);
	const state = new URL(lr.location).searchParams.get('state');
	for (const q of [`code=a&state=${state}&state=${state}`, `code=a&code=b&state=${state}`,
	    `code=a&state=${state}&iss=x&iss=y`]) {
		const res = await b.request(`${s.appUrl}/auth/callback?${q}`);
		assert.ok([400, 500].includes(res.status), `${q}: ${res.status} ${res.text}`);
		assert.match(res.headers.get('content-type') || '', /^text\/plain/);
		assert.equal(setCookie(res, '__session'), null);
	}
});

test('transaction cookies: 60 logins in one browser stay under AG_TXN_TOTAL_MAX; the last one completes', async () => {
	const b = new Browser();
	for (let i = 0; i < 60; i++) {
		const lr = await b.request(`${s.appUrl}/auth/login?returnTo=/n${i}`);
		assert.equal(lr.status, 307);
		const jarTotal = b.jar.header(`${s.appUrl}/`).split('; ').filter((c) => c.startsWith('__txn_'))
		    .reduce((n, c) => n + c.length, 0);
		assert.ok(jarTotal <= AG_TXN_TOTAL_MAX + 200, `after login ${i + 1}: ${jarTotal} bytes of __txn_ cookies`);
	}
	const r = await login(s.appUrl, 'alice', { browser: b, returnTo: '/last' });
	assert.equal(r.callback?.status, 307, r.callback?.text);
	assert.equal(r.callback.location, `${s.appUrl}/last`);
});

test('third-party login: scope and audience from a link are not forwarded by default', async () => {
	const lr = await httpRequest(`${s.appUrl}/auth/login?scope=${encodeURIComponent('openid admin offline_access')}&audience=https://evil.example/`, { headers: NAVIGATION });
	assert.equal(lr.status, 307);
	const az = new URL(lr.location);
	assert.ok(!/admin/.test(az.searchParams.get('scope')), az.searchParams.get('scope'));
	assert.notEqual(az.searchParams.get('audience'), 'https://evil.example/');
	assert.notEqual(az.searchParams.get('resource'), 'https://evil.example/');
});

test('session fixation (cookie store): a session cookie set before login is replaced', async () => {
	const m = await login(s.appUrl, 'mallory');
	const planted = m.jar.get(s.appUrl, '__session')?.value;
	assert.ok(planted);
	const b = new Browser();
	b.jar.set(s.appUrl, '__session', planted);
	b.jar.set(s.appUrl, '__session__3', 'planted-chunk');
	const r = await login(s.appUrl, 'alice', { browser: b });
	assert.equal(r.callback?.status, 307);
	const now = b.jar.get(s.appUrl, '__session')?.value;
	assert.ok(now && now !== planted, 'a new session cookie');
	const p = await b.request(`${s.appUrl}/auth/profile`, { headers: API });
	assert.equal(p.json().sub, 'alice');
});

test('logout without a session cookie revokes nothing at the provider', async () => {
	await s.idp.resetStats();
	const lo = await httpRequest(`${s.appUrl}/auth/logout?sid=abc&sub=alice`, { headers: NAVIGATION });
	assert.equal(lo.status, 307);
	assert.ok(!new URL(lo.location).searchParams.get('id_token_hint'), 'no id_token_hint');
	assert.equal((await s.idp.stats()).revocation, 0);
});

/* ------------------------------------------------------------- limits */

test('limits: returnTo of AG_MAX_RETURN_TO bytes kept, one more falls back to "/"', async () => {
	const at = `/${'a'.repeat(AG_MAX_RETURN_TO - 1)}`;
	const l1 = await httpRequest(`${s.appUrl}/auth/login?returnTo=${at}`, { headers: NAVIGATION });
	assert.equal((await txnPayload(l1)).returnTo, at);
	const l2 = await httpRequest(`${s.appUrl}/auth/login?returnTo=${at}a`, { headers: NAVIGATION });
	assert.equal((await txnPayload(l2)).returnTo, '/');
});

test('limits: AG_MAX_PARAMS query parameters accepted, one more refused (400)', async () => {
	const q = (n) => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
	const at = await httpRequest(`${s.appUrl}/auth/login?${q(AG_MAX_PARAMS)}`, { headers: NAVIGATION });
	assert.equal(at.status, 307, at.text);
	const past = await httpRequest(`${s.appUrl}/auth/login?${q(AG_MAX_PARAMS + 1)}`, { headers: NAVIGATION });
	assert.equal(past.status, 400, past.text);
});

test('limits: request line and headers past lighttpd\'s 16 KiB: refused before authgate, which survives', async () => {
	const pids = s.app.fcgiPids();
	const big = await httpRequest(`${s.appUrl}/auth/login?returnTo=/${'a'.repeat(17 * 1024)}`, { headers: NAVIGATION }).catch((e) => ({ status: 0, e }));
	assert.ok(big.status === 0 || (big.status >= 400 && big.status < 500), String(big.status));
	const cookie = await profileWith(`__session=${'A'.repeat(17 * 1024)}`).catch((e) => ({ status: 0, e }));
	assert.ok(cookie.status === 0 || (cookie.status >= 400 && cookie.status < 500), String(cookie.status));
	await assertAlive(pids);
});

/* ------------------------------------- SQLite store: ids and POST bodies */

test('storage ids and back-channel POST edge cases (session.store = sqlite)', async () => {
	const dir = runDir('attacks-sqlite-db');
	const db = path.join(dir, 'sessions.db');
	const q = await startStack({ name: 'attacks-sqlite', conf: { 'session.store': 'sqlite', 'session.db': db } });
	const cli = (...args) => {
		try {
			return { status: 0, out: execFileSync(CLI, ['-c', q.app.confPath, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
		} catch (e) {
			return { status: e.status, out: `${e.stdout}${e.stderr}` };
		}
	};
	try {
		assert.equal(cli('migrate').status, 0);
		const r = await login(q.appUrl, 'alice');
		const prof = (c) => httpRequest(`${q.appUrl}/auth/profile`, { headers: { ...API, cookie: c } });
		assert.equal((await prof(r.jar.header(`${q.appUrl}/`))).status, 200);
		const list = JSON.parse(cli('sessions', 'list', '--json').out || '[]');
		const ids = (Array.isArray(list) ? list : list.sessions || []).map((x) => x.id);
		assert.ok(ids.length >= 1 && ids.every((id) => /^[0-9a-f]{32}$/.test(id)), `ids ${ids}`);

		// Hostile ids on the command line: refused before any query.
		for (const id of ["' OR '1'='1", '%', '_', `${ids[0]}' --`, ids[0].toUpperCase(),
		    ids[0].slice(0, 31), `${ids[0]}0`, 'a'.repeat(5000), '*', `${ids[0].slice(0, 31)}%`]) {
			for (const cmd of ['show', 'revoke']) {
				const res = cli('sessions', cmd, id);
				assert.notEqual(res.status, 0, `sessions ${cmd} ${id.slice(0, 40)}`);
				assert.match(res.out, /malformed|no session/i, res.out);
			}
		}
		// Hostile ids in the cookie (unsealed or sealed garbage).
		for (const v of ["' OR '1'='1", '%', ids[0], `"${ids[0]}"`, 'a'.repeat(8000)])
			assert.equal((await prof(`__session=${encodeURIComponent(v)}`)).status, 401, v.slice(0, 40));
		// Nothing was revoked by any of it.
		assert.equal((await prof(r.jar.header(`${q.appUrl}/`))).status, 200, 'alice still signed in');

		// Back-channel logout: POST edge cases.
		const bcl = (body, ctype = 'application/x-www-form-urlencoded', method = 'POST') =>
		    httpRequest(`${q.appUrl}/auth/backchannel-logout`, { method, body, headers: ctype ? { 'content-type': ctype } : {} });
		const cases = [
			['no content type', 'logout_token=x', null, 400],
			['text/plain', 'logout_token=x', 'text/plain', 400],
			['multipart', 'logout_token=x', 'multipart/form-data; boundary=x', 400],
			['empty', '', undefined, 400],
			['duplicated', 'logout_token=a.b.c&logout_token=a.b.c', undefined, 400],
			['at AG_MAX_REQUEST_BODY', `logout_token=${'a'.repeat(AG_MAX_REQUEST_BODY - 13)}`, undefined, 400],
			['one past AG_MAX_REQUEST_BODY', `logout_token=${'a'.repeat(AG_MAX_REQUEST_BODY - 12)}`, undefined, 413],
			['1 MiB', `logout_token=${'a'.repeat(1 << 20)}`, undefined, 413],
			['form NUL', 'logout_token=%00', undefined, 400],
			['PUT', 'logout_token=x', undefined, 405, 'PUT'],
		];
		for (const [what, body, ctype, want, method] of cases) {
			const res = await bcl(body, ctype === undefined ? 'application/x-www-form-urlencoded' : ctype, method).catch((e) => ({ status: 0, text: e.message }));
			if (want === 413)
				assert.ok([413, 400].includes(res.status), `${what}: ${res.status} ${res.text}`);
			else
				assert.equal(res.status, want, `${what}: ${res.text}`);
			if (what === 'at AG_MAX_REQUEST_BODY')
				assert.doesNotMatch(res.text, /too large/i, `${what}: within the limit`);
		}
		assert.equal((await prof(r.jar.header(`${q.appUrl}/`))).status, 200, 'alice still signed in');
	} finally {
		await q.stop();
	}
});

/* --------------------------------------------------------- JWKS flood */

test('JWKS flood: 1000 ID tokens with unknown kids cause at most one JWKS refetch', async () => {
	const op = await startHostile();
	const port = await freePort();
	const appUrl = `http://127.0.0.1:${port}`;
	const a = await startApp({ port, name: 'attacks-jwks-flood', conf: { ...baseConf(appUrl, op.issuer('random-kid')), 'log.level': 'info' } });
	try {
		const runLogin = async () => {
			const b = new Browser();
			const lr = await b.request(`${appUrl}/auth/login?returnTo=/`);
			assert.equal(lr.status, 307);
			const az = await b.request(lr.location);
			assert.equal(az.status, 302, az.text);
			return b.request(az.location);
		};
		assert.equal((await runLogin()).status, 307, 'control: a good login');
		const before = op.stats('random-kid').jwks;
		op.state('random-kid').random = true;
		let refused = 0;
		await pool(Array.from({ length: 1000 }), 4, async () => {
			const res = await runLogin();
			if (res.status >= 400 && !setCookie(res, '__session')?.value)
				refused++;
		});
		assert.equal(refused, 1000, 'every unknown kid refused');
		const extra = op.stats('random-kid').jwks - before;
		assert.ok(extra <= 1, `${extra} JWKS fetches for 1000 unknown kids`);
		assert.equal((await fetch(`${appUrl}/auth/health`)).status, 200);
	} finally {
		await a.stop();
		await op.stop();
	}
});
