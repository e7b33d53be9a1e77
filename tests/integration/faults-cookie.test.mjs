// Faults of session.db with cookie sessions (session.store = cookie):
// the session lives in the browser, but session.db still holds the
// back-channel logouts every session read must honour and the results
// of refreshes shared between processes (lib/session.c check_logout,
// lib/token.c coord_db).  The database locked, read-only, full,
// removed, replaced and overwritten with garbage: what /auth/profile,
// the CGI wrapper, a forced /auth/access-token refresh and
// /auth/backchannel-logout answer, that nothing crashes, and that
// service -- recorded logouts included -- comes back when the fault
// ends (authgate-fcgi(8) DIAGNOSTICS).
//
// The documented choice: an existing session.db that cannot be used
// fails closed (503, the cookie kept), never a free pass past the
// logouts it records.  A locked database still serves reads (WAL).  No
// file at all means no logout can have been recorded: sessions work,
// refreshes are not coordinated, a back-channel logout answers 503
// (it cannot be recorded) until `authgate migrate` creates the file.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startHostile } from '../idp/hostile.mjs';
import { CLIENT_ID } from '../lib/stack.mjs';
import { runDir } from '../lib/procs.mjs';
import { makeSite, httpRequest, parseEnvOutput, NAVIGATION } from '../lib/wrap.mjs';
import { API, CLI, LOCK_BOUND_MS, ROOT, app, assertNoCrash, fullLogin,
    fillDisk, holdExclusive, livePids, logMatch, logText, logoutToken, postLogout,
    refreshAfterProviderBack, sessionCleared, sql, timed } from '../lib/faults.mjs';

const USER = 'hostile-user';
let hop;

before(async () => {
	hop = await startHostile({ clientId: CLIENT_ID });
});

after(async () => {
	await hop?.stop();
});

/*
 * A cgi-mode app (/auth/ and the wrapper) with cookie sessions and
 * session.db in DIR/db/, migrated unless opts.migrate === false.
 * opts.port, opts.dir: start it again on the same port and site.
 */
async function cookieApp(label, opts = {}) {
	const dir = opts.dir || runDir(`faults-cookie-${label}`);
	const site = opts.site || makeSite(dir);
	const dbDir = path.join(dir, 'db');
	fs.mkdirSync(dbDir, { recursive: true });
	const db = path.join(dbDir, 'sessions.db');
	const a = await app(hop.issuer('refreshable'), {
		'session.store': 'cookie', 'session.db': db, 'wrap.roots': site.cgiDir,
	}, { name: `faults-cookie-${label}`, mode: 'cgi', dir, docroot: site.docroot, port: opts.port });
	if (opts.migrate !== false)
		execFileSync(CLI, ['-c', a.confPath, 'migrate'], { stdio: 'ignore' });
	return { a, db, dbDir, dir, site };
}

const profile = (a, b) => timed(() => b.request(`${a.url}/auth/profile`, { headers: API }));
const wrapper = (a, b) => timed(() => httpRequest(`${a.url}/cgi-bin/env.sh`,
    { jar: b.jar, headers: NAVIGATION }));
const refresh = (a, b) => timed(() => b.request(`${a.url}/auth/access-token?refresh=true`,
    { headers: API }));
const logout = (a) => timed(() => postLogout(a.url, logoutToken(hop,
    hop.issuer('refreshable'), { sub: USER })));

// Everything answers 503 in time; the browser keeps its cookie.
async function assertDown(a, b, what) {
	const p = await profile(a, b);
	assert.equal(p.res.status, 503, `${what}: profile ${p.res.status} ${p.res.text}\n${logText(a).slice(-800)}`);
	assert.match(p.res.text, /session store is unavailable/);
	assert.ok(!sessionCleared(p.res), `${what}: profile keeps the cookie`);
	const w = await wrapper(a, b);
	assert.equal(w.res.status, 503, `${what}: wrapper ${w.res.status} ${w.res.text.slice(0, 300)}`);
	assert.ok(!/REMOTE_USER/.test(w.res.text), `${what}: the program did not run`);
	assert.ok(!sessionCleared(w.res), `${what}: wrapper keeps the cookie`);
	const t = await refresh(a, b);
	assert.equal(t.res.status, 503, `${what}: refresh ${t.res.status} ${t.res.text}`);
	assert.match(t.res.headers.get('content-type') || '', /application\/json/);
	assert.equal(typeof t.res.json().error?.code, 'string', t.res.text);
	assert.ok(!sessionCleared(t.res), `${what}: refresh keeps the cookie`);
	const l = await logout(a);
	assert.equal(l.res.status, 503, `${what}: back-channel logout ${l.res.status}`);
	for (const r of [p, w, t, l])
		assert.ok(r.ms < LOCK_BOUND_MS, `${what}: answered in ${r.ms} ms`);
}

// The session works: the profile, the wrapper, a refresh (unless
// refresh is false: its outcome is kept in session.db for 30 s and
// would answer the next forced refresh without a write).
async function assertUp(a, b, what, refresh_ = true) {
	const p = await profile(a, b);
	assert.equal(p.res.status, 200, `${what}: profile ${p.res.status} ${p.res.text}\n${logText(a).slice(-800)}`);
	assert.equal(p.res.json().sub, USER);
	const w = await wrapper(a, b);
	assert.equal(w.res.status, 200, `${what}: wrapper ${w.res.status} ${w.res.text.slice(0, 300)}`);
	assert.equal(parseEnvOutput(w.res.text).vars.get('REMOTE_USER'), USER);
	if (!refresh_)
		return;
	const t = await refresh(a, b);
	assert.equal(t.res.status, 200, `${what}: refresh ${t.res.status} ${t.res.text}`);
	assert.match(t.res.json().token, /^at-/);
}

// Recovered: the session works, a back-channel logout is recorded and
// enforced, the same authgate-fcgi serves.
async function assertRecovered(a, b, pids, what) {
	await assertUp(a, b, what);
	await assertLogoutEnforced(a, b, what);
	await assertNoCrash(a, pids);
}

// A back-channel logout is recorded and ends b's session everywhere:
// the long-lived authgate-fcgi and a fresh wrapper process alike.
async function assertLogoutEnforced(a, b, what) {
	const l = await logout(a);
	assert.equal(l.res.status, 204, `${what}: back-channel logout ${l.res.status} ${await l.res.text()}`);
	const p = await profile(a, b);
	assert.equal(p.res.status, 401, `${what}: profile after the logout ${p.res.status} ${p.res.text}`);
	const w = await wrapper(a, b);
	assert.equal(w.res.status, 307, `${what}: wrapper after the logout ${w.res.status} ${w.res.text.slice(0, 300)}`);
	assert.match(w.res.headers.get('location') || '', /\/auth\/login\?returnTo=/);
}

describe('cookie sessions: session.db faults', () => {
	test('provider down during a refresh, then back: the next refresh succeeds at once', async () => {
		const { a, db } = await cookieApp('notsent');
		try {
			const b = await fullLogin(a);
			const pids = await livePids(a);
			hop = await refreshAfterProviderBack(a, db, b, hop);
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	test('locked by another writer: reads served, writes 503 in bounded time, then recovery', async () => {
		const { a, db } = await cookieApp('locked');
		let lock = null;
		try {
			const alice = await fullLogin(a);
			await assertUp(a, alice, 'before', false);
			const pids = await livePids(a);
			lock = await holdExclusive(db);
			// WAL: the logout check (a SELECT) does not wait for a writer.
			const p = await profile(a, alice);
			assert.equal(p.res.status, 200, p.res.text);
			const w = await wrapper(a, alice);
			assert.equal(w.res.status, 200, w.res.text.slice(0, 300));
			// The refresh must take its lock in session.db: 503.
			const t = await refresh(a, alice);
			assert.equal(t.res.status, 503, `${t.res.status} ${t.res.text}`);
			assert.equal(t.res.json().error.code, 'store_unavailable');
			assert.ok(t.ms < LOCK_BOUND_MS, `refresh answered in ${t.ms} ms`);
			assert.ok(!sessionCleared(t.res), 'cookie kept');
			const l = await logout(a);
			assert.equal(l.res.status, 503, `back-channel logout ${l.res.status}`);
			assert.ok(l.ms < LOCK_BOUND_MS, `back-channel logout answered in ${l.ms} ms`);
			await logMatch(a, /database locked for more than/);
			await lock.release();
			lock = null;
			await assertRecovered(a, alice, pids, 'released');
		} finally {
			lock?.kill();
			await a.stop();
		}
	});

	test('read-only: 503 everywhere, the cookie kept, nothing written; writable again: recovery without a restart', async () => {
		const dir = runDir('faults-cookie-ro');
		const dbDir = path.join(dir, 'db');
		let mounted = false;
		let s;
		try {
			if (ROOT) {
				// root ignores file modes: a read-only mount instead.
				fs.mkdirSync(dbDir);
				execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dbDir]);
				mounted = true;
			}
			s = await cookieApp('ro', { dir });
			const alice = await fullLogin(s.a);
			await assertUp(s.a, alice, 'before');
			const before = sql(s.db, 'SELECT count(*) FROM refresh_results');
			// No file open for writing while the mount turns read-only.
			await s.a.stop();
			if (ROOT) {
				execFileSync('mount', ['-o', 'remount,ro', s.dbDir]);
			} else {
				for (const f of fs.readdirSync(s.dbDir))
					fs.chmodSync(path.join(s.dbDir, f), 0o444);
				fs.chmodSync(s.dbDir, 0o555);
			}
			s = { ...s, ...await cookieApp('ro', { dir, site: s.site, port: s.a.port, migrate: false }) };
			const pids = await livePids(s.a);
			await assertDown(s.a, alice, 'read-only');
			await logMatch(s.a, /sessions\/?.*db\/sessions\.db: read-only \(check the owner and mode/);
			assert.equal(sql(`file:${s.db}?immutable=1`, 'SELECT count(*) FROM refresh_results'),
			    before, 'nothing written');
			if (ROOT)
				execFileSync('mount', ['-o', 'remount,rw', s.dbDir]);
			else {
				fs.chmodSync(s.dbDir, 0o755);
				for (const f of fs.readdirSync(s.dbDir))
					fs.chmodSync(path.join(s.dbDir, f), 0o644);
			}
			await assertRecovered(s.a, alice, pids, 'writable again');
		} finally {
			await s?.a.stop();
			if (mounted)
				execFileSync('umount', ['-l', dbDir]);
			else if (fs.existsSync(dbDir))
				fs.chmodSync(dbDir, 0o755);
		}
	});

	test('disk full: sessions read, refresh and back-channel logout 503; space again: recovery',
	    { skip: ROOT ? false : 'needs root to mount a small tmpfs' }, async () => {
		const dir = runDir('faults-cookie-full');
		const dbDir = path.join(dir, 'db');
		fs.mkdirSync(dbDir);
		let s;
		let mounted = false;
		try {
			execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=300k', 'tmpfs', dbDir]);
			mounted = true;
			s = await cookieApp('full', { dir });
			const alice = await fullLogin(s.a);
			await assertUp(s.a, alice, 'before', false);
			const pids = await livePids(s.a);
			// Every write must now grow the WAL.
			sql(s.db, 'PRAGMA wal_checkpoint(TRUNCATE)');
			const fill = fillDisk(dbDir);
			const p = await profile(s.a, alice);
			assert.equal(p.res.status, 200, p.res.text);
			const w = await wrapper(s.a, alice);
			assert.equal(w.res.status, 200, w.res.text.slice(0, 300));
			const t = await refresh(s.a, alice);
			assert.equal(t.res.status, 503, `${t.res.status} ${t.res.text}`);
			assert.ok(!sessionCleared(t.res), 'cookie kept');
			const l = await logout(s.a);
			assert.equal(l.res.status, 503, `back-channel logout ${l.res.status}`);
			await logMatch(s.a, /sessions: .*sessions\.db: .*full/i);
			fs.rmSync(fill);
			assert.equal(sql(s.db, 'PRAGMA integrity_check'), 'ok');
			await assertRecovered(s.a, alice, pids, 'space again');
		} finally {
			await s?.a.stop();
			if (mounted)
				execFileSync('umount', ['-l', dbDir]);
		}
	});

	test('removed under a running process: no logout to honour, logouts 503; migrate: the new file is used everywhere', async () => {
		const { a, db } = await cookieApp('removed');
		try {
			const alice = await fullLogin(a);
			// authgate-fcgi now holds a connection to the file.
			await assertUp(a, alice, 'before');
			const pids = await livePids(a);
			for (const f of [db, `${db}-wal`, `${db}-shm`])
				fs.rmSync(f, { force: true });
			await assertUp(a, alice, 'removed');
			const l = await logout(a);
			assert.equal(l.res.status, 503, `back-channel logout ${l.res.status}`);
			await logMatch(a, /sessions: .*sessions\.db: cannot open/);
			assert.ok(!fs.existsSync(db), 'no file created behind the operator\'s back');
			execFileSync(CLI, ['-c', a.confPath, 'migrate'], { stdio: 'ignore' });
			await assertLogoutEnforced(a, alice, 'migrated');
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	test('replaced by another file: the running process opens the new one', async () => {
		const { a, db, dbDir } = await cookieApp('replaced');
		try {
			const alice = await fullLogin(a);
			await assertUp(a, alice, 'before');
			const pids = await livePids(a);
			// A new database, logging alice's user out, moved into place.
			const fresh = path.join(dbDir, 'new.db');
			execFileSync('sqlite3', [fresh, 'VACUUM']);
			fs.copyFileSync(db, fresh);
			const now = Math.floor(Date.now() / 1000);
			sql(fresh, `INSERT INTO logouts (sid, sub, at, expires_at) VALUES (NULL, '${USER}', ${now}, ${now + 3600})`);
			for (const f of [`${db}-wal`, `${db}-shm`])
				fs.rmSync(f, { force: true });
			fs.renameSync(fresh, db);
			const p = await profile(a, alice);
			assert.equal(p.res.status, 401, `${p.res.status} ${p.res.text}`);
			await logMatch(a, /sessions: .*sessions\.db was replaced/);
			await assertNoCrash(a, pids);
		} finally {
			await a.stop();
		}
	});

	test('garbage bytes: 503 everywhere with the file named in the log; a new file: recovery', async () => {
		let s = await cookieApp('garbage');
		try {
			const alice = await fullLogin(s.a);
			await assertUp(s.a, alice, 'before');
			// Overwritten in place, as a bad restore would, and the
			// server started again.  (A process that keeps its
			// connection may answer from SQLite's page cache until
			// it next writes; a new process reads the file.)
			await s.a.stop();
			for (const f of [`${s.db}-wal`, `${s.db}-shm`])
				fs.rmSync(f, { force: true });
			fs.writeFileSync(s.db, crypto.randomBytes(64 * 1024));
			s = { ...s, ...await cookieApp('garbage', { dir: s.dir, site: s.site, port: s.a.port, migrate: false }) };
			const pids = await livePids(s.a);
			await assertDown(s.a, alice, 'garbage');
			await logMatch(s.a, /sessions: .*sessions\.db: .*(not a database|malformed)/);
			fs.rmSync(s.db);
			execFileSync(CLI, ['-c', s.a.confPath, 'migrate'], { stdio: 'ignore' });
			await assertRecovered(s.a, alice, pids, 'new file');
		} finally {
			await s.a.stop();
		}
	});
});
