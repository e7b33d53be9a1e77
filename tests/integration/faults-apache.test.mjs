// The provider down and the session database locked, through Apache
// 2.4: authgate-fcgi as mod_authnz_fcgi's authorizer
// (www/examples/apache-authorizer.conf) and authgate-wrap under
// mod_cgid's Action (www/examples/apache-cgi.conf), /auth/ through
// mod_proxy_fcgi in both.  What a user must see (authgate-fcgi(8)
// DIAGNOSTICS): a clear answer in bounded time, sessions that exist
// keep working while the provider is down (and, WAL, while another
// writer holds the database), Apache and authgate-fcgi keep serving,
// and service is back once the fault ends.  The provider is
// tests/idp/hostile.mjs (its authorize endpoint redirects straight back).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startHostile } from '../idp/hostile.mjs';
import { apacheBinary, apacheUser, startApacheAuthorizer } from '../lib/apache.mjs';
import { baseConf, startWrapStack, CLIENT_ID } from '../lib/stack.mjs';
import { freePort, runDir } from '../lib/procs.mjs';
import { Browser } from '../lib/client.mjs';
import { makeSite, httpRequest, parseEnvOutput, NAVIGATION } from '../lib/wrap.mjs';
import { API, BOUND_MS, CLI, LOCK_BOUND_MS, TIMEOUT_MS, assertErrorPage, fullLogin,
    holdExclusive, logText, sessionSet, startLogin, timed, tryLogin } from '../lib/faults.mjs';

const SKIP = apacheBinary() ? false : 'apache2 is not installed';
const SECRET_TEXT = 'only-for-signed-in-users\n';

let op;
const stacks = [];	// {label, a (Apache), db, alice, works(b)}

/*
 * A session database in a directory of its own that Apache's user (the
 * authorizer's and the wrapper's) may write: DIR/sessions.db, migrated
 * once the app's authgate.conf exists (migrate(confPath)).
 */
function dbDir(dir) {
	const u = apacheUser();
	const d = path.join(dir, 'db');
	fs.chmodSync(dir, 0o755);
	fs.mkdirSync(d, { mode: 0o770 });
	fs.chownSync(d, u.uid, u.gid);
	const db = path.join(d, 'sessions.db');
	return {
		db,
		migrate(confPath) {
			execFileSync(CLI, ['-c', confPath, 'migrate'], { stdio: 'ignore' });
			for (const f of fs.readdirSync(d))
				fs.chownSync(path.join(d, f), u.uid, u.gid);
		},
	};
}

const dbConf = (db) => ({ 'http.timeout_ms': TIMEOUT_MS, 'session.store': 'sqlite', 'session.db': db });

// Apache and authgate-fcgi still serve; no crash in the logs.
async function assertServing(s) {
	assert.ok(await s.a.alive(), `${s.label}: Apache runs`);
	assert.ok(s.a.fcgi.alive(), `${s.label}: authgate-fcgi runs`);
	const h = await fetch(`${s.a.url}/auth/health`);
	assert.equal(h.status, 200, `${s.label}: /auth/health`);
	assert.doesNotMatch(logText(s.a), /AddressSanitizer|runtime error:|Segmentation fault|exit signal/,
	    `${s.label}: no crash in the logs`);
}

describe('Apache faults', { skip: SKIP }, () => {
	before(async () => {
		op = await startHostile({ clientId: CLIENT_ID });
		const issuer = op.issuer('refreshable');

		// The authorizer: a static file behind it.
		const dir = runDir('faults-apache-authz');
		const site = makeSite(dir, { apacheUser: apacheUser() });
		fs.writeFileSync(path.join(site.docroot, 'private.txt'), SECRET_TEXT, { mode: 0o644 });
		const d1 = dbDir(dir);
		const port = await freePort();
		const authz = await startApacheAuthorizer({
			dir, port, docroot: site.docroot,
			conf: { ...baseConf(`http://127.0.0.1:${port}`, issuer), ...dbConf(d1.db) },
		});
		stacks.push({ label: 'authorizer', a: authz, db: d1.db,
			async works(b) {
				const r = await httpRequest(`${authz.url}/private.txt`, { jar: b.jar, headers: NAVIGATION });
				assert.equal(r.status, 200, `authorizer: ${r.status} ${r.text.slice(0, 300)}`);
				assert.equal(r.text, SECRET_TEXT);
			} });
		d1.migrate(authz.confPath);

		// The wrapper: a CGI program behind it.
		const wdir = runDir('faults-apache-wrap-db');
		const d2 = dbDir(wdir);
		const ws = await startWrapStack({ server: 'apache', name: 'faults-apache-wrap', issuer,
			conf: dbConf(d2.db) });
		stacks.push({ label: 'wrapper', a: { ...ws.app, stop: () => ws.stop() }, db: d2.db,
			async works(b) {
				const r = await httpRequest(`${ws.appUrl}/cgi-bin/env.sh`, { jar: b.jar, headers: NAVIGATION });
				assert.equal(r.status, 200, `wrapper: ${r.status} ${r.text.slice(0, 300)}`);
				assert.equal(parseEnvOutput(r.text).vars.get('REMOTE_USER'), 'hostile-user');
			} });
		d2.migrate(ws.app.confPath);
		for (const s of stacks) {
			s.alice = await fullLogin(s.a);
			await s.works(s.alice);
		}
	});

	after(async () => {
		op?.setFault(null);
		for (const s of stacks)
			await s.a?.stop();
		await op?.stop();
	});

	test('provider down: clear errors in time, sessions keep working, Apache and authgate-fcgi keep serving', async () => {
		const port = op.port;
		const keys = op.keys;
		// Callback URLs got while the provider was up.
		const pending = [];
		for (const s of stacks) {
			const b = new Browser();
			pending.push({ b, cb: await startLogin(s.a, b) });
		}
		await op.stop();
		try {
			for (const [i, s] of stacks.entries()) {
				// The callback: the code exchange fails.
				const c = await timed(() => pending[i].b.request(pending[i].cb));
				assertErrorPage(c, `${s.label}: callback`);
				assert.deepEqual(sessionSet(c.res), [], 'no session cookie');
				// A forced refresh: JSON, the session kept.
				const t = await timed(() => s.alice.request(
				    `${s.a.url}/auth/access-token?refresh=true`, { headers: API }));
				assert.ok(t.ms < BOUND_MS, `${s.label}: access-token answered in ${t.ms} ms`);
				assert.ok(t.res.status >= 400, `${t.res.status} ${t.res.text}`);
				assert.equal(typeof t.res.json().error?.code, 'string', t.res.text);
				// The session made before still works, without the provider.
				await s.works(s.alice);
				const p = await s.alice.request(`${s.a.url}/auth/profile`, { headers: API });
				assert.equal(p.status, 200, p.text);
				assert.match(logText(s.a), /callback: token endpoint|callback: .*(connect|refused)/i);
				await assertServing(s);
			}
		} finally {
			op = await startHostile({ clientId: CLIENT_ID, port, keys });
		}
		// The provider is back: a login and its refresh work again.
		// (alice's refresh token failed during the outage: with
		// session.db that outcome is remembered for the refresh
		// result's 30 s, so that no process presents a token that
		// may be spent -- authgate-fcgi(8) /auth/access-token.)
		for (const s of stacks) {
			const b = await fullLogin(s.a);
			await s.works(b);
			const t = await b.request(`${s.a.url}/auth/access-token?refresh=true`, { headers: API });
			assert.equal(t.status, 200, `${s.label}: ${t.text}`);
		}
	});

	test('session database locked by another writer: 503 in bounded time, sessions readable, then success', async () => {
		for (const s of stacks) {
			let lock = null;
			try {
				lock = await holdExclusive(s.db);
				const l = await tryLogin(s.a);
				assert.equal(l.res.status, 503, `${s.label}: ${l.res.status} ${l.res.text}`);
				assert.match(l.res.headers.get('content-type') || '', /^text\/plain/);
				assert.match(l.res.text, /session store is unavailable/);
				assert.ok(l.ms < LOCK_BOUND_MS, `${s.label}: answered in ${l.ms} ms`);
				assert.deepEqual(sessionSet(l.res), [], 'no session cookie');
				// WAL: a reader does not wait for the writer.
				await s.works(s.alice);
				assert.match(logText(s.a), /database locked for more than/);
				await lock.release();
				lock = null;
				const ok = await tryLogin(s.a);
				assert.equal(ok.res.status, 307, `${s.label}: ${ok.res.text}`);
				assert.ok(sessionSet(ok.res).length > 0);
				await s.works(s.alice);
				await assertServing(s);
			} finally {
				lock?.kill();
			}
		}
	});
});
