// SQLite sessions (session.store = sqlite), end to end: the cookie holds
// only a sealed id, the row holds the session, the CLI sees and revokes
// it, a login rotates the id, logout deletes the row, and parallel
// requests never see "database is locked" (several writer processes on
// one file are exercised by tests/unit/test-db.c).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { REPO } from '../lib/procs.mjs';
import { Browser, CookieJar, login, parseSetCookie } from '../lib/client.mjs';

const BUILD = process.env.BUILD || 'build';
const CLI = path.join(REPO, BUILD, 'authgate');
const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

let s, db;

function cli(...args) {
	return execFileSync(CLI, ['-c', s.app.confPath, ...args], {
		encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
	});
}

function sessionCookie(res) {
	return res.setCookies.map(parseSetCookie)
	    .find((c) => c && c.name === '__session' && c.value) || null;
}

before(async () => {
	const dir = fs.mkdtempSync(path.join(REPO, 'tests', '.run', 'sqlite-db-'));
	db = path.join(dir, 'sessions.db');
	s = await startStack({
		name: 'sqlite',
		conf: { 'session.store': 'sqlite', 'session.db': db },
	});
	cli('migrate');
});

after(async () => {
	await s?.stop();
});

test('migrate created the database with the current schema', () => {
	assert.ok(fs.existsSync(db));
	const again = cli('migrate');
	assert.match(again, /schema version \d+/);
});

test('login: the cookie carries only an id, the row holds the session', async () => {
	const r = await login(s.appUrl, 'alice');
	assert.equal(r.callback?.status, 307);
	const c = sessionCookie(r.callback);
	assert.ok(c, 'a __session cookie');
	assert.ok(c.value.length < 400, `small cookie (${c.value.length} bytes)`);
	const p = await r.browser.request(`${s.appUrl}/auth/profile`, { headers: API });
	assert.equal(p.status, 200, p.text);
	assert.equal(p.json().sub, 'alice');
	const list = JSON.parse(cli('sessions', 'list', '--json'));
	assert.ok(list.some((x) => x.sub === 'alice'), JSON.stringify(list));
});

test('no token is readable in the database file', async () => {
	const r = await login(s.appUrl, 'bob');
	assert.equal(r.callback?.status, 307);
	const raw = fs.readFileSync(db).toString('latin1') +
	    (fs.existsSync(`${db}-wal`) ? fs.readFileSync(`${db}-wal`).toString('latin1') : '');
	assert.ok(raw.includes('bob'), 'the plain sub column is there');
	assert.ok(!/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(raw), 'no JWT (access or ID token) in clear');
	assert.ok(!raw.includes('"refreshToken"'), 'no session JSON in clear');
});

test('revoke by sub through the CLI ends the session at the next request', async () => {
	const r = await login(s.appUrl, 'carol');
	const p1 = await r.browser.request(`${s.appUrl}/auth/profile`, { headers: API });
	assert.equal(p1.status, 200);
	const out = cli('sessions', 'revoke', '--sub', 'carol');
	assert.match(out, /1/);
	const p2 = await r.browser.request(`${s.appUrl}/auth/profile`, { headers: API });
	assert.equal(p2.status, 401);
});

test('a login rotates the session id (fixation)', async () => {
	const r1 = await login(s.appUrl, 'dave');
	const first = sessionCookie(r1.callback).value;
	const ids1 = JSON.parse(cli('sessions', 'list', '--json', '--sub', 'dave')).map((x) => x.id);
	assert.equal(ids1.length, 1);
	// The same browser logs in again, presenting its old cookie.
	const r2 = await login(s.appUrl, 'dave', { jar: r1.browser.jar });
	const second = sessionCookie(r2.callback).value;
	assert.notEqual(second, first);
	const ids2 = JSON.parse(cli('sessions', 'list', '--json', '--sub', 'dave')).map((x) => x.id);
	assert.equal(ids2.length, 1, 'the old row was deleted');
	assert.notEqual(ids2[0], ids1[0]);
	// The old cookie no longer names a session.
	const b = new Browser({ jar: new CookieJar() });
	b.jar.setCookie(s.appUrl, `__session=${first}; Path=/`);
	const p = await b.request(`${s.appUrl}/auth/profile`, { headers: API });
	assert.equal(p.status, 401);
});

test('logout deletes the row', async () => {
	const r = await login(s.appUrl, 'erin');
	assert.equal(JSON.parse(cli('sessions', 'list', '--json', '--sub', 'erin')).length, 1);
	const out = await r.browser.request(`${s.appUrl}/auth/logout`);
	assert.equal(out.status, 307);
	assert.equal(JSON.parse(cli('sessions', 'list', '--json', '--sub', 'erin')).length, 0);
});

test('40 parallel profile requests: no database error reaches a user', async () => {
	const r = await login(s.appUrl, 'frank');
	const all = await Promise.all(Array.from({ length: 40 }, () =>
	    r.browser.request(`${s.appUrl}/auth/profile`, { headers: API })));
	const statuses = all.map((x) => x.status);
	assert.deepEqual([...new Set(statuses)], [200], statuses.join(','));
	assert.doesNotMatch(s.app.errorLogText(), /database is locked/);
});
