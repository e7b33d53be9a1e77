// Limits of lib/ag_limits.h at the edges a unit test cannot reach (issue
// 5), each at the bound and one past it.  The table of every limit and
// where it is tested is at the top of tests/unit/test-limits.c.
//
// Most requests here drive authgate-fcgi as a plain CGI program (one
// request per process, the environment from the test, as
// tests/check-cgi-mode does): a Cookie header or a query string of any
// size reaches it (lighttpd refuses request headers past 16 KiB), each
// process fetches discovery and the JWKS afresh, and a process's test
// clock (AUTHGATE_TEST_CLOCK_OFFSET) is its own.  The provider is the
// scripted one (tests/idp/hostile.mjs), case "sized", which pads its
// discovery document and JWKS to the byte and serves N keys.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { decrypt } from '../node_modules/@auth0/nextjs-auth0/dist/server/cookies.js';
import { REPO, freePort, runDir } from '../lib/procs.mjs';
import { startApp, writeConf, authgateFcgiPath } from '../lib/lighttpd.mjs';
import { baseConf, CLIENT_ID, SECRET } from '../lib/stack.mjs';
import { parseSetCookie } from '../lib/client.mjs';
import { startHostile, signWith } from '../idp/hostile.mjs';

const BUILD = process.env.BUILD || 'build';
const CLI = path.join(REPO, BUILD, 'authgate');
const APP_URL = 'http://127.0.0.1:8080';

// ag_limits.h
const AG_MAX_COOKIE_HEADER = 64 * 1024;
const AG_MAX_COOKIE_VALUE = 8 * 1024;
const AG_MAX_QUERY = 16 * 1024;
const AG_TXN_MAX_AGE = 3600;
const AG_JWE_LEEWAY = 15;
const AG_MAX_IDP_RESPONSE = 1024 * 1024;
const AG_MAX_JWKS_KEYS = 64;
const AG_MAX_FETCH_RESPONSE = 8 * 1024 * 1024;
const AG_MAX_FETCH_BODY = 8 * 1024 * 1024;
const AG_MAX_FETCH_HEADERS = 32;
const AG_JWKS_REFETCH_MIN = 60;

let op, dir, confPath, state;

before(async () => {
	op = await startHostile({ clientId: CLIENT_ID });
	state = op.state('sized');
	dir = runDir('limits');
	confPath = path.join(dir, 'authgate.conf');
	writeConf(confPath, { ...baseConf(APP_URL, op.issuer('sized')), 'log.level': 'info' });
});

after(async () => {
	await op?.stop();
});

/* ------------------------------------------------------------ helpers */

/*
 * One request to authgate-fcgi run as a plain CGI program.
 * -> {status, headers: [[name, value]], setCookies, location, text, stderr}
 */
function cgi(uri, { method = 'GET', cookie, env = {}, body } = {}) {
	const q = uri.includes('?') ? uri.slice(uri.indexOf('?') + 1) : '';
	const e = {
		REQUEST_METHOD: method, REQUEST_URI: uri, QUERY_STRING: q,
		AUTHGATE_CONFIG: confPath, AUTHGATE_TEST_MODE: '1', ...env,
	};
	for (const k of ['PATH', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'])
		if (process.env[k] !== undefined)
			e[k] = process.env[k];
	if (cookie !== undefined)
		e.HTTP_COOKIE = cookie;
	if (body !== undefined) {
		e.CONTENT_LENGTH = String(Buffer.byteLength(body));
		e.CONTENT_TYPE = 'application/x-www-form-urlencoded';
	}
	return new Promise((resolve, reject) => {
		const p = spawn(authgateFcgiPath(), [], { env: e, stdio: ['pipe', 'pipe', 'pipe'] });
		const out = [];
		let stderr = '';
		p.stdout.on('data', (c) => out.push(c));
		p.stderr.on('data', (c) => { stderr += c; });
		p.on('error', reject);
		p.on('close', (code, signal) => {
			const t = Buffer.concat(out).toString('latin1');
			const end = t.indexOf('\r\n\r\n');
			const head = (end < 0 ? t : t.slice(0, end)).split('\r\n');
			const headers = head.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(),
			    l.slice(l.indexOf(':') + 1).trim()]);
			const get = (n) => headers.find(([k]) => k === n)?.[1];
			resolve({
				status: Number(/^(\d{3})/.exec(get('status') || '')?.[1] || 0),
				headers, code, signal, stderr,
				setCookies: headers.filter(([k]) => k === 'set-cookie').map(([, v]) => v),
				location: get('location'),
				text: end < 0 ? '' : t.slice(end + 4),
			});
		});
		// A program that answers without reading its input: no EPIPE.
		p.stdin.on('error', () => {});
		p.stdin.end(body ?? '');
	});
}

function assertClean(r, what) {
	assert.ok(r.signal === null && r.code === 0, `${what}: exit ${r.code} ${r.signal}\n${r.stderr}`);
	assert.doesNotMatch(r.stderr, /AddressSanitizer|runtime error/, `${what}: ${r.stderr}`);
}

function txnCookie(r) {
	const c = r.setCookies.map(parseSetCookie).find((x) => x && x.name.startsWith('__txn_') && x.value);
	assert.ok(c, `a transaction cookie: ${r.setCookies} ${r.stderr}`);
	return c;
}

// The provider's answer to the authorize URL: the callback URI (path + query).
async function authorize(location) {
	const az = await fetch(location, { redirect: 'manual' });
	assert.equal(az.status, 302, await az.text());
	const cb = new URL(az.headers.get('location'));
	return `${cb.pathname}${cb.search}`;
}

// A whole login through CGI processes -> the callback's answer.
async function cgiLogin(what) {
	const l = await cgi('/auth/login?returnTo=/');
	assertClean(l, `${what}: login`);
	assert.equal(l.status, 307, `${what}: login: ${l.text} ${l.stderr}`);
	const c = txnCookie(l);
	const r = await cgi(await authorize(l.location), { cookie: `${c.name}=${c.value}` });
	assertClean(r, `${what}: callback`);
	return r;
}

function sessionOf(r) {
	return r.setCookies.map(parseSetCookie).find((c) => c && c.name === '__session' && c.value) || null;
}

function mint(user, extra = []) {
	return execFileSync(CLI, ['-c', confPath, 'cookie', '--user', JSON.stringify(user), ...extra],
	    { encoding: 'utf8', env: { ...process.env, AUTHGATE_TEST_MODE: '1' } }).trim();
}

/* ------------------------------------------------- browser-side limits */

test('AG_MAX_COOKIE_HEADER: a Cookie header of exactly the limit is read, one byte more is ignored', async () => {
	const sess = `__session=${mint({ sub: 'limits-user' })}`;
	const header = (n) => `${sess}; p=${'x'.repeat(n - sess.length - 4)}`;
	assert.equal(header(AG_MAX_COOKIE_HEADER).length, AG_MAX_COOKIE_HEADER);
	const at = await cgi('/auth/profile', { cookie: header(AG_MAX_COOKIE_HEADER) });
	assertClean(at, 'at');
	assert.equal(at.status, 200, `at the limit: ${at.text}`);
	assert.equal(JSON.parse(at.text).sub, 'limits-user');
	const past = await cgi('/auth/profile', { cookie: header(AG_MAX_COOKIE_HEADER + 1) });
	assertClean(past, 'past');
	assert.equal(past.status, 401, `one past: ${past.text}`);
});

test('AG_MAX_COOKIE_VALUE: a value of exactly the limit is kept (and, as the first __session, wins), one byte more is dropped', async () => {
	// Duplicates: the first kept cookie of a name wins (lib/cookie.c).
	const sess = `__session=${mint({ sub: 'limits-user' })}`;
	const at = await cgi('/auth/profile', { cookie: `__session=${'v'.repeat(AG_MAX_COOKIE_VALUE)}; ${sess}` });
	assertClean(at, 'at');
	assert.equal(at.status, 401, `a junk value of the limit is kept and read first: ${at.text}`);
	const past = await cgi('/auth/profile', { cookie: `__session=${'v'.repeat(AG_MAX_COOKIE_VALUE + 1)}; ${sess}` });
	assertClean(past, 'past');
	assert.equal(past.status, 200, `a junk value one past the limit is dropped: ${past.text}`);
});

test('AG_MAX_QUERY: a query string of exactly the limit is parsed, one byte more is a 400', async () => {
	const q = (n) => {
		const s = 'returnTo=/&pad=';
		return `${s}${'x'.repeat(n - s.length)}`;
	};
	const at = await cgi(`/auth/login?${q(AG_MAX_QUERY)}`);
	assertClean(at, 'at');
	assert.equal(at.status, 307, `at the limit: ${at.text} ${at.stderr}`);
	const past = await cgi(`/auth/login?${q(AG_MAX_QUERY + 1)}`);
	assertClean(past, 'past');
	assert.equal(past.status, 400, `one past: ${past.text}`);
});

test('AG_TXN_MAX_AGE: a transaction is good until its expiry plus AG_JWE_LEEWAY, not a second later (test clock)', async () => {
	const l = await cgi('/auth/login?returnTo=/');
	assert.equal(l.status, 307, l.text);
	const c = txnCookie(l);
	const { payload } = await decrypt(c.value.slice(c.value.indexOf(':') + 1), SECRET);
	const issued = Number(c.value.slice(0, c.value.indexOf(':'))) / 1000;
	assert.ok(Math.abs(payload.exp - AG_TXN_MAX_AGE - issued) <= 1, `exp ${payload.exp}, created ${issued}`);
	const st = new URL(l.location).searchParams.get('state');
	const uri = `/auth/callback?code=not-a-real-code&state=${st}&iss=${encodeURIComponent(op.issuer('sized'))}`;
	// The last second the transaction is good: now = exp + leeway - 1.
	// A try whose process may have straddled a second is inconclusive.
	const at = async (late) => {
		for (let i = 0; i < 5; i++) {
			const t0 = Math.floor(Date.now() / 1000);
			const off = payload.exp + AG_JWE_LEEWAY - 1 + late - t0;
			const r = await cgi(uri, { cookie: `${c.name}=${c.value}`, env: { AUTHGATE_TEST_CLOCK_OFFSET: String(off) } });
			if (Math.floor(Date.now() / 1000) === t0) {
				assertClean(r, `late ${late}`);
				return r;
			}
		}
		throw new Error('five tries straddled a second');
	};
	const good = await at(0);
	assert.doesNotMatch(good.text, /state parameter/i, `the last good second: ${good.status} ${good.text}`);
	assert.ok(good.status >= 400, `the made-up code still fails: ${good.status}`);
	const late = await at(1);
	assert.equal(late.status, 500, late.text);
	assert.match(late.text, /state parameter is invalid/i, 'one second later the transaction is gone');
});

/* ------------------------------------------------ provider-side limits */

test('AG_MAX_IDP_RESPONSE: a discovery document of exactly the limit is used, one byte more is refused', async () => {
	try {
		state.discoverySize = AG_MAX_IDP_RESPONSE;
		const at = await cgi('/auth/login?returnTo=/');
		assertClean(at, 'at');
		assert.equal(at.status, 307, `at the limit: ${at.text} ${at.stderr}`);
		assert.ok(at.location.startsWith(`${op.issuer('sized')}/authorize?`), at.location);
		state.discoverySize = AG_MAX_IDP_RESPONSE + 1;
		const past = await cgi('/auth/login?returnTo=/');
		assertClean(past, 'past');
		assert.equal(past.status, 500, `one past: ${past.text}`);
		assert.equal(past.location, undefined);
		assert.match(past.stderr, /larger than|limit|too large/i, past.stderr);
	} finally {
		delete state.discoverySize;
	}
});

// A login with state[field] = at succeeds, with at + 1 it fails.
async function loginAtAndPast(field, at, what) {
	try {
		state[field] = at;
		const r1 = await cgiLogin(`${what} at the limit`);
		assert.equal(r1.status, 307, `${what} at the limit: ${r1.text} ${r1.stderr}`);
		assert.ok(sessionOf(r1), `${what} at the limit: a session`);
		state[field] = at + 1;
		const r2 = await cgiLogin(`${what} one past`);
		assert.ok(r2.status >= 400 && !sessionOf(r2), `${what} one past: ${r2.status} ${r2.text}`);
	} finally {
		delete state[field];
	}
}

test('AG_MAX_IDP_RESPONSE: a JWKS of exactly the limit verifies the ID token, one byte more fails the login', async () => {
	await loginAtAndPast('jwksSize', AG_MAX_IDP_RESPONSE, 'JWKS size');
});

test('AG_MAX_JWKS_KEYS: the signing key as key 64 verifies, as key 65 it is never looked at', async () => {
	await loginAtAndPast('keys', AG_MAX_JWKS_KEYS, 'JWKS keys');
});

/* -------------------------------------------------- authgate fetch */

/*
 * An API that answers ?size=N with N bytes and otherwise echoes
 * {headers, length} of the request.
 */
async function startSizedApi() {
	const server = http.createServer((req, res) => {
		let length = 0;
		req.on('data', (c) => { length += c.length; });
		req.on('end', () => {
			const size = new URL(req.url, 'http://x').searchParams.get('size');
			if (size !== null) {
				res.writeHead(200, { 'content-type': 'application/octet-stream' });
				res.end(Buffer.alloc(Number(size), 0x61));
				return;
			}
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ headers: req.headers, length }));
		});
	});
	await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		stop: () => new Promise((ok) => {
			server.closeAllConnections?.();
			server.close(() => ok());
		}),
	};
}

// `authgate fetch ARGS` with the session of cookie -> {rc, out (Buffer), stderr}
function fetchCli(cookie, args) {
	return new Promise((resolve) => {
		const p = spawn(CLI, ['-c', confPath, 'fetch', ...args], {
			env: { ...process.env, AUTHGATE_TEST_MODE: '1', HTTP_COOKIE: cookie },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const out = [];
		let stderr = '';
		p.stdout.on('data', (c) => out.push(c));
		p.stderr.on('data', (c) => { stderr += c; });
		p.on('close', (rc, signal) => resolve({ rc, signal, out: Buffer.concat(out), stderr }));
	});
}

test('authgate fetch: AG_MAX_FETCH_HEADERS, AG_MAX_FETCH_BODY and AG_MAX_FETCH_RESPONSE at the limit and one past', async () => {
	const api = await startSizedApi();
	const cookie = `__session=${mint({ sub: 'limits-user' }, ['--access-token', 'limits-opaque-token'])}`;
	try {
		const hdrs = (n) => Array.from({ length: n }, (_, i) => ['--header', `X-H${i}: ${i}`]).flat();
		const h1 = await fetchCli(cookie, [...hdrs(AG_MAX_FETCH_HEADERS), `${api.url}/echo`]);
		assert.equal(h1.rc, 0, h1.stderr);
		const seen = JSON.parse(h1.out.toString()).headers;
		assert.equal(seen[`x-h${AG_MAX_FETCH_HEADERS - 1}`], String(AG_MAX_FETCH_HEADERS - 1), 'the last header sent');
		assert.equal(seen.authorization, 'Bearer limits-opaque-token');
		const h2 = await fetchCli(cookie, [...hdrs(AG_MAX_FETCH_HEADERS + 1), `${api.url}/echo`]);
		assert.equal(h2.rc, 2, h2.stderr);
		assert.match(h2.stderr, new RegExp(`at most ${AG_MAX_FETCH_HEADERS} --header`));

		const file = path.join(dir, 'body');
		fs.writeFileSync(file, Buffer.alloc(AG_MAX_FETCH_BODY, 0x62));
		const b1 = await fetchCli(cookie, ['--data-file', file, `${api.url}/echo`]);
		assert.equal(b1.rc, 0, b1.stderr);
		assert.equal(JSON.parse(b1.out.toString()).length, AG_MAX_FETCH_BODY, 'the whole body sent');
		fs.appendFileSync(file, 'b');
		const b2 = await fetchCli(cookie, ['--data-file', file, `${api.url}/echo`]);
		assert.equal(b2.rc, 1, b2.stderr);
		assert.match(b2.stderr, /larger than the limit/);
		assert.equal(b2.out.length, 0);
		fs.unlinkSync(file);

		const r1 = await fetchCli(cookie, [`${api.url}/big?size=${AG_MAX_FETCH_RESPONSE}`]);
		assert.equal(r1.rc, 0, r1.stderr);
		assert.equal(r1.out.length, AG_MAX_FETCH_RESPONSE, 'the whole response');
		const r2 = await fetchCli(cookie, [`${api.url}/big?size=${AG_MAX_FETCH_RESPONSE + 1}`]);
		assert.equal(r2.rc, 1, r2.stderr);
		assert.match(r2.stderr, new RegExp(`larger than ${AG_MAX_FETCH_RESPONSE} bytes`));
		assert.equal(r2.out.length, 0, 'nothing of it printed');
	} finally {
		await api.stop();
	}
});

/* ---------------------------------------- back-channel logout JWKS flood */

test('JWKS flood: 1000 logout tokens with unknown kids cause at most one JWKS refetch per AG_JWKS_REFETCH_MIN', async () => {
	const port = await freePort();
	const appUrl = `http://127.0.0.1:${port}`;
	const db = path.join(runDir('limits-bcl-db'), 'sessions.db');
	const a = await startApp({
		port, name: 'limits-bcl-flood',
		conf: { ...baseConf(appUrl, op.issuer('random-kid')), 'log.level': 'info',
		    'session.store': 'sqlite', 'session.db': db },
	});
	execFileSync(CLI, ['-c', a.confPath, 'migrate'], { stdio: 'ignore' });
	const iss = op.issuer('random-kid');
	const token = (kid) => {
		const now = Math.floor(Date.now() / 1000);
		const h = { alg: 'RS256', typ: 'logout+jwt', kid };
		const c = {
			iss, aud: CLIENT_ID, iat: now, exp: now + 120, jti: crypto.randomUUID(),
			sub: 'limits-user', sid: crypto.randomUUID(),
			events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
		};
		const input = `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
		return `${input}.${signWith('RS256', op.keys.rs.privateKey, input).toString('base64url')}`;
	};
	const post = (t) => fetch(`${appUrl}/auth/backchannel-logout`, {
		method: 'POST', body: `logout_token=${t}`,
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
	});
	try {
		// Control: the known key -> 204 (the first JWKS fetch happens here).
		const ok = await post(token('rs1'));
		assert.equal(ok.status, 204, await ok.text());
		const before = op.stats('random-kid').jwks;
		const statuses = new Map();
		let next = 0;
		const worker = async () => {
			while (next < 1000) {
				next++;
				const r = await post(token(crypto.randomUUID()));
				await r.arrayBuffer();
				statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
			}
		};
		const t0 = Date.now();
		await Promise.all(Array.from({ length: 4 }, worker));
		const minutes = Math.ceil((Date.now() - t0) / 1000 / AG_JWKS_REFETCH_MIN);
		assert.equal((statuses.get(204) || 0), 0, `no unknown kid accepted: ${[...statuses]}`);
		assert.ok([...statuses.keys()].every((s) => s === 400 || s === 503), `400 or 503 each: ${[...statuses]}`);
		const extra = op.stats('random-kid').jwks - before;
		assert.ok(extra <= minutes, `${extra} JWKS fetches for 1000 unknown kids in ${minutes} minute(s)`);
		// Still serving, and the known key still works.
		assert.equal((await post(token('rs1'))).status, 204);
		assert.equal((await fetch(`${appUrl}/auth/health`)).status, 200);
	} finally {
		await a.stop();
	}
});
