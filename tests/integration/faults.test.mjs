// Faults, with real processes: the provider down (connection refused),
// hanging (no answer within http.timeout_ms), trickling bytes, resetting
// connections, an issuer whose host does not resolve and a TLS provider
// nobody trusts; then the session database locked, read-only, full, and
// authgate-fcgi killed with SIGKILL in the middle of writes.
//
// What a user must see (authgate-fcgi(8) FAILURES): /auth/login and
// /auth/callback answer a clear error (500 text/plain, the SDK's) within
// the timeout; /auth/access-token answers JSON; sessions that exist keep
// working (/auth/profile and the CGI wrapper need no provider); the
// FastCGI process never dies.  The provider is tests/idp/hostile.mjs
// (no login pages: the authorize endpoint redirects straight back).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startHostile } from '../idp/hostile.mjs';
import { startApp } from '../lib/lighttpd.mjs';
import { baseConf, CLIENT_ID } from '../lib/stack.mjs';
import { REPO, freePort, runDir, sleep } from '../lib/procs.mjs';
import { Browser, parseSetCookie } from '../lib/client.mjs';
import { makeSite, httpRequest, parseEnvOutput, NAVIGATION } from '../lib/wrap.mjs';

const BUILD = process.env.BUILD || 'build';
const CLI = path.join(REPO, BUILD, 'authgate');
const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const TIMEOUT_MS = 1500;
// The bound on a failed request: the timeout plus the slack of a shared,
// loaded 2-core machine (and the sanitizer build).
const BOUND_MS = TIMEOUT_MS + 3000;

let op;

async function app(issuer, conf = {}, opts = {}) {
	const port = await freePort();
	const appUrl = `http://127.0.0.1:${port}`;
	return startApp({
		port, name: opts.name || 'faults', mode: opts.mode, dir: opts.dir,
		docroot: opts.docroot, env: opts.env,
		conf: { ...baseConf(appUrl, issuer), 'http.timeout_ms': TIMEOUT_MS, ...conf },
	});
}

// authgate-fcgi's stderr and lighttpd's error log.
function logText(a) {
	const out = path.join(a.dir, 'lighttpd.out');
	return (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '') + a.errorLogText();
}

// The reason in the log (authgate-fcgi's stderr reaches it a moment later).
async function logMatch(a, re) {
	for (let i = 0; i < 40 && !re.test(logText(a)); i++)
		await sleep(50);
	assert.match(logText(a), re, 'the reason in the log');
}

async function timed(fn) {
	const t0 = Date.now();
	const res = await fn();
	return { res, ms: Date.now() - t0 };
}

// /auth/login (-> 307 to the provider) and the provider's authorize
// (-> 302 back): the callback URL, not yet requested.
async function startLogin(a, b) {
	const lr = await b.request(`${a.url}/auth/login?returnTo=%2Findex.html`);
	assert.equal(lr.status, 307, `login: ${lr.status} ${lr.text}\n${logText(a).slice(-1500)}`);
	const az = await b.request(lr.location);
	assert.equal(az.status, 302, `authorize: ${az.status} ${az.text}`);
	return az.location;
}

async function fullLogin(a, b = new Browser()) {
	const cb = await b.request(await startLogin(a, b));
	assert.equal(cb.status, 307, `callback: ${cb.status} ${cb.text}\n${logText(a).slice(-1500)}`);
	return b;
}

function sessionSet(res) {
	return res.setCookies.map(parseSetCookie).filter((c) => c && /^__session/.test(c.name) &&
	    c.value !== '' && !(c.maxAge !== null && c.maxAge <= 0));
}

function assertErrorPage(r, what) {
	const why = `${what}: ${r.res.status} ${r.res.text.slice(0, 300)}`;
	assert.ok(r.res.status >= 500 && r.res.status <= 504, why);
	assert.match(r.res.headers.get('content-type') || '', /^text\/plain/, why);
	assert.ok(r.res.text.length > 10 && r.res.text.length < 300, `a short clear message: ${why}`);
	assert.ok(r.ms < BOUND_MS, `${what} answered in ${r.ms} ms (timeout ${TIMEOUT_MS} ms)`);
}

// The FastCGI processes of app a: the same ones before and after.
async function assertNoCrash(a, pids) {
	const now = a.fcgiPids().sort();
	assert.deepEqual(now, [...pids].sort(), 'authgate-fcgi still the same process (no crash)');
	const h = await fetch(`${a.url}/auth/health`);
	assert.equal(h.status, 200);
}

/* ---------------------------------------------------- provider faults */

describe('provider faults', () => {
	let main;		// cgi mode: /auth/ and the wrapper, issuer 'refreshable'
	let site;
	let alice;		// a Browser with a session made while the provider was up
	let tlsServer, tlsUrl;

	before(async () => {
		op = await startHostile({ clientId: CLIENT_ID });
		const dir = runDir('faults-provider');
		site = makeSite(dir);
		main = await app(op.issuer('refreshable'), { 'wrap.roots': site.cgiDir },
		    { mode: 'cgi', dir, docroot: site.docroot });
		alice = await fullLogin(main);
		// A TLS server with a throwaway self-signed certificate.
		const key = path.join(dir, 'tls.key');
		const crt = path.join(dir, 'tls.crt');
		execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes',
		    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
		    '-days', '1', '-keyout', key, '-out', crt], { stdio: 'ignore' });
		tlsServer = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(crt) },
		    (req, res) => {
			    res.writeHead(200, { 'content-type': 'application/json' });
			    res.end('{}');
		    });
		await new Promise((ok) => tlsServer.listen(0, '127.0.0.1', ok));
		tlsUrl = `https://127.0.0.1:${tlsServer.address().port}`;
	});

	after(async () => {
		op?.setFault(null);
		await main?.stop();
		await op?.stop();
		tlsServer?.closeAllConnections?.();
		await new Promise((ok) => (tlsServer ? tlsServer.close(() => ok()) : ok()));
	});

	// The session made before the fault still works, without the provider.
	async function assertSessionWorks(b) {
		const p = await b.request(`${main.url}/auth/profile`, { headers: API });
		assert.equal(p.status, 200, p.text);
		assert.equal(p.json().sub, 'hostile-user');
		const w = await httpRequest(`${main.url}/cgi-bin/env.sh`, { jar: b.jar, headers: NAVIGATION });
		assert.equal(w.status, 200, w.text.slice(0, 300));
		assert.equal(parseEnvOutput(w.text).vars.get('REMOTE_USER'), 'hostile-user');
	}

	// Each fault: a fresh app's first /auth/login (discovery), the
	// callback and a forced refresh of the main app, the old session.
	const FAULTS = [
		['connection refused', 'down'],
		['no answer (hangs past http.timeout_ms)', 'hang'],
		['trickling bytes', 'trickle'],
		['connection reset', 'reset'],
	];
	for (const [label, fault] of FAULTS) {
		test(`provider ${label}: clear errors in time, sessions keep working, no crash`, async () => {
			const pids = main.fcgiPids();
			assert.ok(pids.length > 0, 'authgate-fcgi runs');
			const b = new Browser();
			const cbUrl = await startLogin(main, b);
			const fresh = await app(op.issuer('rs256'), {}, { name: `faults-${fault}` });
			const port = op.port;
			const keys = op.keys;
			try {
				if (fault === 'down')
					await op.stop();
				else
					op.setFault(fault);
				// A first login: discovery fails.
				const l = await timed(() => new Browser().request(`${fresh.url}/auth/login`,
				    { headers: NAVIGATION }));
				assertErrorPage(l, 'login');
				await logMatch(fresh, /login: .*discovery/i);
				// A callback: the code exchange fails.
				const c = await timed(() => b.request(cbUrl));
				assertErrorPage(c, 'callback');
				assert.deepEqual(sessionSet(c.res), [], 'no session cookie');
				// A forced refresh: JSON, and the session is kept.
				const t = await timed(() => alice.request(
				    `${main.url}/auth/access-token?refresh=true`, { headers: API }));
				assert.ok(t.ms < BOUND_MS, `access-token answered in ${t.ms} ms`);
				assert.ok(t.res.status >= 400, `${t.res.status} ${t.res.text}`);
				assert.match(t.res.headers.get('content-type') || '', /application\/json/);
				assert.equal(typeof t.res.json().error?.code, 'string', t.res.text);
				await assertSessionWorks(alice);
				await assertNoCrash(main, pids);
				assert.equal(fresh.fcgiPids().length, 1, 'the fresh app\'s authgate-fcgi still runs');
			} finally {
				op.setFault(null);
				if (fault === 'down')
					op = await startHostile({ clientId: CLIENT_ID, port, keys });
				await fresh.stop();
			}
			// Service is back: a refresh works again.
			const t = await alice.request(`${main.url}/auth/access-token?refresh=true`, { headers: API });
			assert.equal(t.status, 200, t.text);
		});
	}

	test('issuer host does not resolve: /auth/login answers a clear error in time', async () => {
		const a = await app('https://nonexistent.invalid/', {}, { name: 'faults-dns' });
		try {
			const pids = a.fcgiPids();
			const l = await timed(() => new Browser().request(`${a.url}/auth/login`, { headers: NAVIGATION }));
			assertErrorPage(l, 'login');
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	test('token endpoint host does not resolve: the callback answers a clear error in time', async () => {
		op.state('token-elsewhere').tokenEndpoint = 'https://nonexistent.invalid/token';
		const a = await app(op.issuer('token-elsewhere'), {}, { name: 'faults-dns-token' });
		try {
			const pids = a.fcgiPids();
			const b = new Browser();
			const c = await timed(async () => b.request(await startLogin(a, b)));
			assertErrorPage(c, 'callback');
			await logMatch(a, /callback: token endpoint/);
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	test('TLS provider with an untrusted certificate: /auth/login refuses it', async () => {
		const a = await app(`${tlsUrl}/`, {}, { name: 'faults-tls' });
		try {
			const pids = a.fcgiPids();
			const l = await timed(() => new Browser().request(`${a.url}/auth/login`, { headers: NAVIGATION }));
			assertErrorPage(l, 'login');
			await logMatch(a, /certificate|SSL|TLS/i);
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	test('TLS token endpoint with an untrusted certificate: the callback refuses it', async () => {
		op.state('token-elsewhere').tokenEndpoint = `${tlsUrl}/token`;
		const a = await app(op.issuer('token-elsewhere'), {}, { name: 'faults-tls-token' });
		try {
			const pids = a.fcgiPids();
			const b = new Browser();
			const c = await timed(async () => b.request(await startLogin(a, b)));
			assertErrorPage(c, 'callback');
			await logMatch(a, /certificate|SSL|TLS/i);
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});
});
