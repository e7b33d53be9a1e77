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
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startHostile } from '../idp/hostile.mjs';
import { CLIENT_ID } from '../lib/stack.mjs';
import { runDir, sleep } from '../lib/procs.mjs';
import { Browser } from '../lib/client.mjs';
import { makeSite, httpRequest, parseEnvOutput, NAVIGATION } from '../lib/wrap.mjs';
import { API, BOUND_MS, CLI, LOCK_BOUND_MS, ROOT, app, assertErrorPage,
    assertNoCrash, fullLogin, fillDisk, holdExclusive, livePids, logMatch, logText,
    refreshAfterProviderBack, sessionSet, sql, startLogin, timed, tryLogin } from '../lib/faults.mjs';

let op;

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
			const pids = await livePids(main);
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
			const pids = await livePids(a);
			const l = await timed(() => new Browser().request(`${a.url}/auth/login`, { headers: NAVIGATION }));
			assertErrorPage(l, 'login');
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	// A login against the 'token-elsewhere' case whose token endpoint is
	// endpoint: the callback fails in time, with re in the log.
	async function callbackFails(endpoint, name, re) {
		op.state('token-elsewhere').tokenEndpoint = endpoint;
		const a = await app(op.issuer('token-elsewhere'), {}, { name });
		try {
			const pids = await livePids(a);
			const b = new Browser();
			const c = await timed(async () => b.request(await startLogin(a, b)));
			assertErrorPage(c, 'callback');
			await logMatch(a, re);
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	}

	test('token endpoint host does not resolve: the callback answers a clear error in time', () =>
	    callbackFails('https://nonexistent.invalid/token', 'faults-dns-token', /callback: token endpoint/));

	test('TLS provider with an untrusted certificate: /auth/login refuses it', async () => {
		const a = await app(`${tlsUrl}/`, {}, { name: 'faults-tls' });
		try {
			const pids = await livePids(a);
			const l = await timed(() => new Browser().request(`${a.url}/auth/login`, { headers: NAVIGATION }));
			assertErrorPage(l, 'login');
			await logMatch(a, /certificate|SSL|TLS/i);
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	test('TLS token endpoint with an untrusted certificate: the callback refuses it', () =>
	    callbackFails(`${tlsUrl}/token`, 'faults-tls-token', /certificate|SSL|TLS/i));
});

/* ------------------------------------------------- session database faults */

describe('session database faults', () => {
	let hop;

	before(async () => {
		hop = await startHostile({ clientId: CLIENT_ID });
	});

	after(async () => {
		await hop?.stop();
	});

	// An app on a migrated database dir/sessions.db (store: 'sqlite' or
	// 'cookie', where the database still holds refresh results and logouts).
	async function dbApp(dir, store = 'sqlite', opts = {}) {
		const db = path.join(dir, 'sessions.db');
		const a = await app(hop.issuer('refreshable'),
		    { 'session.store': store, 'session.db': db }, { name: `faults-db-${store}`, ...opts });
		execFileSync(CLI, ['-c', a.confPath, 'migrate'], { stdio: 'ignore' });
		return { a, db };
	}

	async function profile(a, b) {
		return b.request(`${a.url}/auth/profile`, { headers: API });
	}

	test('provider down during a refresh, then back: the next refresh succeeds at once', async () => {
		const { a, db } = await dbApp(runDir('faults-notsent'));
		try {
			const b = await fullLogin(a);
			const pids = await livePids(a);
			hop = await refreshAfterProviderBack(a, db, b, hop);
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	test('locked by another writer: a bounded wait, 503, then success once released', async () => {
		const { a, db } = await dbApp(runDir('faults-locked'));
		const lock = { current: null };
		try {
			const alice = await fullLogin(a);
			const pids = await livePids(a);
			lock.current = await holdExclusive(db);
			const l = await tryLogin(a);
			assert.equal(l.res.status, 503, `${l.res.status} ${l.res.text}`);
			assert.match(l.res.headers.get('content-type') || '', /^text\/plain/);
			assert.ok(l.ms < LOCK_BOUND_MS, `answered in ${l.ms} ms`);
			assert.deepEqual(sessionSet(l.res), [], 'no session cookie');
			await logMatch(a, /database locked for more than/);
			// A read (WAL: readers are not blocked by a writer).
			const p = await profile(a, alice);
			assert.equal(p.status, 200, p.text);
			await lock.current.release();
			lock.current = null;
			const ok = await tryLogin(a);
			assert.equal(ok.res.status, 307, ok.res.text);
			assert.ok(sessionSet(ok.res).length > 0);
			await assertNoCrash(a, pids);
		} finally {
			lock.current?.kill();
			await a.stop();
		}
	});

	test('read-only database: 503, the session is not dropped, nothing written', async () => {
		const dir = runDir('faults-ro');
		const dbDir = path.join(dir, 'db');
		fs.mkdirSync(dbDir);
		let mounted = false;
		let a, db;
		try {
			if (ROOT) {
				// root ignores file modes: a read-only mount instead.
				execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dbDir]);
				mounted = true;
			}
			({ a, db } = await dbApp(dbDir));
			const alice = await fullLogin(a);
			// No file may be open for writing while the mount turns
			// read-only: stop the app, then start it again on the same
			// port (the browser's cookie stays valid).
			await a.stop();
			// Every row into the main file (the immutable read below
			// does not look at the WAL; a stop does not always
			// checkpoint it).
			sql(db, 'PRAGMA wal_checkpoint(TRUNCATE)');
			const before = sql(`file:${db}?immutable=1`, 'SELECT count(*) FROM sessions');
			assert.notEqual(before, '0', 'the login wrote its session');
			if (ROOT) {
				execFileSync('mount', ['-o', 'remount,ro', dbDir]);
			} else {
				for (const f of fs.readdirSync(dbDir))
					fs.chmodSync(path.join(dbDir, f), 0o444);
				fs.chmodSync(dbDir, 0o555);
			}
			a = await app(hop.issuer('refreshable'), { 'session.store': 'sqlite', 'session.db': db },
			    { name: 'faults-db-ro', port: a.port });
			const pids = await livePids(a);
			const l = await tryLogin(a);
			assert.equal(l.res.status, 503, `${l.res.status} ${l.res.text}\n${logText(a).slice(-800)}`);
			assert.deepEqual(sessionSet(l.res), [], 'no session cookie');
			// A WAL database cannot even be read without writing its
			// -shm file: reads answer 503 too (not 401: the browser
			// keeps its session cookie), and the log says why.
			const p = await profile(a, alice);
			assert.equal(p.status, 503, `${p.status} ${p.text}`);
			assert.match(p.text, /session store is unavailable/);
			assert.ok(!p.setCookies.some((c) => /^__session=;|Max-Age=0/i.test(c)), 'cookie kept');
			await logMatch(a, /read-only \(check the owner and mode/);
			assert.equal(sql(`file:${db}?immutable=1`, 'SELECT count(*) FROM sessions'), before,
			    'nothing written');
			await assertNoCrash(a, pids);
		} finally {
			await a?.stop();
			if (mounted)
				execFileSync('umount', ['-l', dbDir]);
			else
				fs.chmodSync(dbDir, 0o755);
		}
	});

	test('disk full: a clear error, no partial session, other sessions intact',
	    { skip: ROOT ? false : 'needs root to mount a small tmpfs' }, async () => {
		const dir = runDir('faults-full');
		execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=300k', 'tmpfs', dir]);
		let a;
		try {
			let db;
			({ a, db } = await dbApp(dir));
			const alice = await fullLogin(a);
			const pids = await livePids(a);
			const before = sql(db, 'SELECT count(*) FROM sessions');
			// Fill the file system.
			const fill = fillDisk(dir);
			const l = await tryLogin(a);
			assert.ok(l.res.status >= 500, `${l.res.status} ${l.res.text}`);
			assert.match(l.res.headers.get('content-type') || '', /^text\/plain/);
			assert.deepEqual(sessionSet(l.res), [], 'no session cookie');
			await logMatch(a, /sessions: .*(full|disk)/i);
			const p = await profile(a, alice);
			assert.equal(p.status, 200, p.text);
			fs.rmSync(fill);
			assert.equal(sql(db, 'SELECT count(*) FROM sessions'), before, 'no partial session');
			assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok');
			const ok = await tryLogin(a);
			assert.equal(ok.res.status, 307, ok.res.text);
			await assertNoCrash(a, pids);
		} finally {
			await a?.stop();
			execFileSync('umount', ['-l', dir]);
		}
	});

	test('SIGKILL of authgate-fcgi during writes: the database stays sound, other sessions intact', async () => {
		const { a, db } = await dbApp(runDir('faults-kill'), 'sqlite', { maxProcs: 2 });
		try {
			const keep = [];
			for (let i = 0; i < 3; i++)
				keep.push(await fullLogin(a));
			const end = Date.now() + 8000;
			let kills = 0, done = 0;
			const killer = (async () => {
				while (Date.now() < end) {
					await sleep(150 + Math.floor(Math.random() * 400));
					const pids = await livePids(a);
					if (pids.length === 0)
						continue;
					try {
						process.kill(pids[Math.floor(Math.random() * pids.length)], 'SIGKILL');
						kills++;
					} catch { /* already gone */ }
				}
			})();
			const worker = async () => {
				while (Date.now() < end) {
					try {
						const b = new Browser();
						const cb = await startLogin(a, b).catch(() => null);
						if (cb)
							await b.request(cb);
						await b.request(`${a.url}/auth/access-token?refresh=true`, { headers: API });
						done++;
					} catch { /* a killed request */ }
				}
			};
			await Promise.all([killer, worker(), worker()]);
			assert.ok(kills >= 5, `${kills} kills`);
			assert.ok(done > 0, 'some logins completed');
			assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok');
			for (const b of keep) {
				let p;
				// lighttpd restarts its FastCGI processes on demand.
				for (let i = 0; i < 20; i++) {
					p = await profile(a, b);
					if (p.status === 200)
						break;
					await sleep(250);
				}
				assert.equal(p.status, 200, p.text);
			}
		} finally {
			await a.stop();
		}
	});
});
