// faults.mjs -- the helpers of the fault tests (tests/integration/
// faults*.test.mjs): an app on lighttpd with a short http.timeout_ms,
// its logs, the login flow against tests/idp/hostile.mjs, the "no
// crash" check, a sqlite3 shell holding the database's write lock and
// a back-channel logout token signed with the hostile provider's key.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { signWith, startHostile } from '../idp/hostile.mjs';
import { startApp } from './lighttpd.mjs';
import { baseConf, CLIENT_ID } from './stack.mjs';
import { REPO, freePort, sleep } from './procs.mjs';
import { Browser, parseSetCookie } from './client.mjs';

export const BUILD = process.env.BUILD || 'build';
export const CLI = path.join(REPO, BUILD, 'authgate');
export const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
export const TIMEOUT_MS = 1500;
// The bound on a failed request: the timeout plus the slack of a shared,
// loaded 2-core machine (and the sanitizer build).
export const BOUND_MS = TIMEOUT_MS + 3000;
// The bounded wait for a locked database (AG_DB_BUSY_TOTAL_MS in
// lib/ag_limits.h) plus slack.
export const LOCK_BOUND_MS = 3000 + 3000;
export const ROOT = process.getuid() === 0;

// An app on lighttpd for issuer (startApp's options in opts).
export async function app(issuer, conf = {}, opts = {}) {
	const port = opts.port || await freePort();
	const appUrl = `http://127.0.0.1:${port}`;
	return startApp({
		port, name: opts.name || 'faults', mode: opts.mode, dir: opts.dir,
		docroot: opts.docroot, env: opts.env, maxProcs: opts.maxProcs,
		conf: { ...baseConf(appUrl, issuer), 'http.timeout_ms': TIMEOUT_MS, ...conf },
	});
}

// authgate-fcgi's stderr and the server's error log.
export function logText(a) {
	let t = '';
	for (const f of ['lighttpd.out', 'authgate-fcgi.log']) {
		const p = path.join(a.dir, f);
		if (fs.existsSync(p))
			t += fs.readFileSync(p, 'utf8');
	}
	return t + a.errorLogText();
}

// The reason in the log (authgate-fcgi's stderr reaches it a moment later).
export async function logMatch(a, re) {
	for (let i = 0; i < 40 && !re.test(logText(a)); i++)
		await sleep(50);
	assert.match(logText(a), re, 'the reason in the log');
}

export async function timed(fn) {
	const t0 = Date.now();
	const res = await fn();
	return { res, ms: Date.now() - t0 };
}

// /auth/login (-> 307 to the provider) and the provider's authorize
// (-> 302 back): the callback URL, not yet requested.
export async function startLogin(a, b) {
	const lr = await b.request(`${a.url}/auth/login?returnTo=%2Findex.html`);
	assert.equal(lr.status, 307, `login: ${lr.status} ${lr.text}\n${logText(a).slice(-1500)}`);
	const az = await b.request(lr.location);
	assert.equal(az.status, 302, `authorize: ${az.status} ${az.text}`);
	return az.location;
}

export async function fullLogin(a, b = new Browser()) {
	const cb = await b.request(await startLogin(a, b));
	assert.equal(cb.status, 307, `callback: ${cb.status} ${cb.text}\n${logText(a).slice(-1500)}`);
	return b;
}

// A login whose callback is answered (any status): {res, ms}.
export async function tryLogin(a, b = new Browser()) {
	const cb = await startLogin(a, b);
	return timed(() => b.request(cb));
}

// The session cookies res sets (not the deletions).
export function sessionSet(res) {
	return res.setCookies.map(parseSetCookie).filter((c) => c && /^__session/.test(c.name) &&
	    c.value !== '' && !(c.maxAge !== null && c.maxAge <= 0));
}

// 1 when res deletes a session cookie.
export function sessionCleared(res) {
	return res.setCookies.some((c) => /^__session[^=]*=;|Max-Age=0/i.test(c));
}

export function assertErrorPage(r, what) {
	const why = `${what}: ${r.res.status} ${r.res.text.slice(0, 300)}`;
	assert.ok(r.res.status >= 500 && r.res.status <= 504, why);
	assert.match(r.res.headers.get('content-type') || '', /^text\/plain/, why);
	assert.ok(r.res.text.length > 10 && r.res.text.length < 300, `a short clear message: ${why}`);
	assert.ok(r.ms < BOUND_MS, `${what} answered in ${r.ms} ms (timeout ${TIMEOUT_MS} ms)`);
}

// The FastCGI processes of app a, once it has started them.
export async function livePids(a) {
	await fetch(`${a.url}/auth/health`);
	return a.fcgiPids();
}

// The FastCGI processes of app a: the same ones before and after.
export async function assertNoCrash(a, pids) {
	const now = a.fcgiPids().sort();
	assert.deepEqual(now, [...pids].sort(), 'authgate-fcgi still the same process (no crash)');
	const h = await fetch(`${a.url}/auth/health`);
	assert.equal(h.status, 200);
}

export function sql(db, query) {
	return execFileSync('sqlite3', [db, query], { encoding: 'utf8' }).trim();
}

// A process holding BEGIN EXCLUSIVE on db until release() is called.
export async function holdExclusive(db) {
	const p = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'pipe'] });
	let out = '';
	p.stdout.on('data', (d) => { out += d; });
	p.stderr.on('data', (d) => { out += d; });
	p.stdin.write("PRAGMA busy_timeout=5000;\nBEGIN EXCLUSIVE;\nSELECT 'held';\n");
	for (let i = 0; i < 100 && !/held/.test(out); i++)
		await sleep(50);
	assert.match(out, /held/, `the sqlite3 shell holds the lock: ${out}`);
	return {
		release: () => new Promise((ok) => {
			p.once('exit', ok);
			p.stdin.end('COMMIT;\n.quit\n');
		}),
		kill: () => p.kill('SIGKILL'),
	};
}

// Fill the file system of dir with dir/filler until ENOSPC: its path.
export function fillDisk(dir) {
	const fill = path.join(dir, 'filler');
	const fd = fs.openSync(fill, 'w');
	try {
		for (;;)
			fs.writeSync(fd, Buffer.alloc(4096, 1));
	} catch (e) {
		assert.equal(e.code, 'ENOSPC');
	} finally {
		fs.closeSync(fd);
	}
	return fill;
}

// A back-channel logout token from hostile provider op's issuer iss
// for claims (sub and/or sid), signed with its RS256 key.
export function logoutToken(op, iss, claims) {
	const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
	const now = Math.floor(Date.now() / 1000);
	const input = `${b64({ alg: 'RS256', typ: 'logout+jwt', kid: 'rs1' })}.${b64({
		iss, aud: CLIENT_ID, iat: now, exp: now + 120, jti: crypto.randomUUID(),
		events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, ...claims,
	})}`;
	return `${input}.${signWith('RS256', op.keys.rs.privateKey, input).toString('base64url')}`;
}

// POST a logout token to app url base: the Response.
export function postLogout(base, token) {
	return fetch(`${base}/auth/backchannel-logout`, {
		method: 'POST', body: `logout_token=${token}`,
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
	});
}

// With session.db (path db) and b's session on app a (issuer
// 'refreshable' of the hostile provider op): the provider stopped, a
// forced refresh fails (connection refused, so the refresh token never
// left) and leaves no failure in refresh_results; the provider started
// again on the same port, the next forced refresh succeeds at once
// (b must not have refreshed in the last 30 s: that outcome would serve)
// instead of answering the remembered failure for 30 s (lib/token.c,
// the script, 6d).  Returns the restarted provider.
export async function refreshAfterProviderBack(a, db, b, op) {
	const url = `${a.url}/auth/access-token?refresh=true`;
	const { port, keys } = op;
	await op.stop();
	let back;
	try {
		const down = await timed(() => b.request(url, { headers: API }));
		assert.ok(down.res.status >= 400, `provider down: ${down.res.status} ${down.res.text}`);
		assert.ok(down.ms < BOUND_MS, `provider down: answered in ${down.ms} ms`);
		assert.equal(down.res.json().error?.code, 'failed_to_refresh_token', down.res.text);
		assert.equal(sql(db, "SELECT count(*) FROM refresh_results WHERE state <> 'done'"),
		    '0', 'no failure or lock remembered for a request that never left');
	} finally {
		back = await startHostile({ clientId: CLIENT_ID, port, keys });
	}
	const t = await timed(() => b.request(url, { headers: API }));
	assert.equal(t.res.status, 200, `provider back: ${t.res.status} ${t.res.text}\n${logText(a).slice(-800)}`);
	assert.ok(t.ms < BOUND_MS, `provider back: answered in ${t.ms} ms`);
	assert.equal(typeof t.res.json().token, 'string', t.res.text);
	assert.equal(back.stats('refreshable').token, 1, 'provider back: one token request');
	return back;
}
