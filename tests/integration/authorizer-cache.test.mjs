// The FastCGI authorizer's per-process cache of verified sessions
// (lib/scache.c, fcgi/h-authorize.c) under lighttpd, one authgate-fcgi
// process (max-procs 1), so the second request with a cookie is
// answered from the cache -- the debug log says "(cached)", checked
// before each refusal below, so each refusal is of a cached session:
//  - a back-channel logout recorded in session.db (by the provider's
//    logout token, POST /auth/backchannel-logout) refuses the cached
//    session at the very next request;
//  - a different AUTHGATE_RULE on the same cookie is evaluated
//    (lighttpd-authorizer.conf: /cgi-bin/admin/ names the rule admins):
//    bob, cached from a static file, gets 403 there and never runs the
//    program, and still passes the static file; a refusal is never
//    cached (carol, who fails authorize.require, stays refused);
//  - a cached session past createdAt + session.absolute_duration is
//    refused.  authgate's test clock (AUTHGATE_TEST_CLOCK_OFFSET) is
//    read once per process, and a restart would empty the cache, so
//    this uses a 6 s absolute duration and the wall clock; the bounds
//    of every time check on a hit are unit-tested against the pinned
//    clock (tests/unit/test-scache.c).

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, runDir, sleep } from '../lib/procs.mjs';
import { startApp } from '../lib/lighttpd.mjs';
import { startIdp, baseConf } from '../lib/stack.mjs';
import { login } from '../lib/client.mjs';
import { addAdminDir, makeSite, markerName, httpRequest, NAVIGATION } from '../lib/wrap.mjs';
import { cli } from '../lib/api.mjs';

const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const RULES = {
	'claims.keep': 'sub name nickname email email_verified roles sid',
	'authorize.require': 'exists email',
	'authorize.rule.admins': 'roles contains "admin" and email_verified = true',
};

let idp, site, dir, main, short, mainUrl, shortUrl;

// Copy the site's marker.sh into cgi-bin/admin/ (AUTHGATE_RULE=admins).

// authgate-fcgi's log: its stderr, which lighttpd (bin-path) leaves on
// its own, in lighttpd.out.
function serverLog(app) {
	const f = path.join(app.dir, 'lighttpd.out');
	return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
}

// How many requests for path and sub the log says were cache hits.
function hits(app, p, sub) {
	const re = new RegExp(`authorize: ${p.replace(/[.?*+()[\]\\/]/g, '\\$&')} for sub ${sub} \\(cached\\)`, 'g');
	return (serverLog(app).match(re) || []).length;
}

// Two requests for p: both 200, the second a cache hit.
async function cachedOk(app, b, p, sub) {
	const n = hits(app, p, sub);
	for (let i = 0; i < 2; i++) {
		const r = await b.request(`${app.url}${p}`, { headers: API });
		assert.equal(r.status, 200, `${p} #${i + 1}: ${r.status} ${r.text}\n${serverLog(app).slice(-3000)}`);
	}
	for (let i = 0; i < 20 && hits(app, p, sub) <= n; i++)
		await sleep(50);
	assert.ok(hits(app, p, sub) > n, `the second request for ${p} was a cache hit`);
}

before(async () => {
	dir = runDir('authorizer-cache');
	site = makeSite(dir);
	addAdminDir(site);
	fs.writeFileSync(path.join(site.docroot, 'private.txt'), 'secret\n', { mode: 0o644 });
	const mainPort = await freePort();
	const shortPort = await freePort();
	mainUrl = `http://127.0.0.1:${mainPort}`;
	shortUrl = `http://127.0.0.1:${shortPort}`;
	idp = await startIdp({
		redirectUris: [`${mainUrl}/auth/callback`, `${shortUrl}/auth/callback`],
		postLogoutRedirectUris: [mainUrl, `${mainUrl}/`, shortUrl, `${shortUrl}/`],
		env: { IDP_BACKCHANNEL_LOGOUT_URI: `${mainUrl}/auth/backchannel-logout` },
	});
	const mdir = path.join(dir, 'main');
	const sdir = path.join(dir, 'short');
	fs.mkdirSync(mdir);
	fs.mkdirSync(sdir);
	main = await startApp({
		conf: {
			...baseConf(mainUrl, idp.issuer), ...RULES,
			'session.db': path.join(mdir, 'sessions.db'),
		},
		port: mainPort, mode: 'authorizer', dir: mdir, docroot: site.docroot, maxProcs: 1,
	});
	cli(main.confPath, 'migrate');
	short = await startApp({
		conf: {
			...baseConf(shortUrl, idp.issuer), ...RULES,
			'session.absolute_duration': 6,
		},
		port: shortPort, mode: 'authorizer', dir: sdir, docroot: site.docroot, maxProcs: 1,
	});
});

after(async () => {
	await main?.stop();
	await short?.stop();
	await idp?.stop();
});

describe('the authorizer answers a cached session only after this request\'s checks', () => {
	test('a different AUTHGATE_RULE on the same cookie is evaluated', async () => {
		const bob = (await login(mainUrl, 'bob')).browser;
		await cachedOk(main, bob, '/private.txt', 'bob');
		const m = markerName('bob');
		const r = await httpRequest(`${mainUrl}/cgi-bin/admin/marker.sh?${m}`,
		    { jar: bob.jar, headers: NAVIGATION });
		assert.equal(r.status, 403, `${r.status} ${r.text}`);
		assert.ok(!site.marked(m), 'the program never ran for bob');
		const j = await bob.request(`${mainUrl}/cgi-bin/admin/marker.sh?${m}`, { headers: API });
		assert.equal(j.status, 403, 'again, as JSON');
		assert.ok(!site.marked(m));
		// The static file (no rule) still passes, from the cache.
		await cachedOk(main, bob, '/private.txt', 'bob');

		// alice, cached from the static file, meets the rule.
		const alice = (await login(mainUrl, 'alice')).browser;
		await cachedOk(main, alice, '/private.txt', 'alice');
		const ma = markerName('alice');
		const a = await httpRequest(`${mainUrl}/cgi-bin/admin/marker.sh?${ma}`,
		    { jar: alice.jar, headers: NAVIGATION });
		assert.equal(a.status, 200, `${a.status} ${a.text}`);
		assert.ok(site.marked(ma), 'the program ran for alice');
	});

	test('a refusal is never cached: carol fails authorize.require every time', async () => {
		const carol = (await login(mainUrl, 'carol')).browser;
		for (let i = 0; i < 3; i++) {
			const r = await carol.request(`${mainUrl}/private.txt`, { headers: API });
			assert.equal(r.status, 403, `#${i + 1}: ${r.status} ${r.text}`);
		}
		assert.equal(hits(main, '/private.txt', 'carol'), 0, 'no hit for carol');
	});

	test('a cached session is refused at the very next request after a back-channel logout', async () => {
		const a1 = (await login(mainUrl, 'alice')).browser;
		const a2 = (await login(mainUrl, 'alice')).browser;
		const p = await a1.request(`${mainUrl}/auth/profile`, { headers: API });
		assert.equal(p.status, 200, p.text);
		const sid = p.json().sid;
		assert.equal(typeof sid, 'string', `alice's session has a sid: ${p.text}`);
		const sid2 = (await a2.request(`${mainUrl}/auth/profile`, { headers: API })).json().sid;
		await cachedOk(main, a1, '/private.txt', 'alice');
		await cachedOk(main, a2, '/private.txt', 'alice');

		const q = new URLSearchParams({ sub: 'alice', sid });
		const lr = await fetch(`${idp.base}/test/backchannel-logout?${q}`, { method: 'POST' });
		const lj = await lr.json();
		assert.equal(lj['authgate-test'], 'ok', `${JSON.stringify(lj)}\n${serverLog(main).slice(-3000)}`);

		const r = await a1.request(`${mainUrl}/private.txt`, { headers: API });
		assert.equal(r.status, 401, `${r.status} ${r.text}`);
		const n = await httpRequest(`${mainUrl}/private.txt`, { jar: a1.jar, headers: NAVIGATION });
		assert.equal(n.status, 307, 'a navigation goes to the login');
		assert.ok(!n.text.includes('secret'));
		if (sid2 !== sid) {
			const o = await a2.request(`${mainUrl}/private.txt`, { headers: API });
			assert.equal(o.status, 200, 'another session of alice lives on');
		}
	});

	test('a cached session is refused once past its absolute duration', async () => {
		const t0 = Date.now();
		const b = (await login(shortUrl, 'alice')).browser;
		const t1 = Date.now();
		await cachedOk(short, b, '/private.txt', 'alice');
		assert.ok(Date.now() - t0 < 5000, 'the login and the cached requests took less than the 6 s');
		// The jar would drop the cookie at its Max-Age (6 s): send it as
		// a client that ignores Max-Age would.
		const cookie = b.jar.header(`${shortUrl}/private.txt`);
		assert.match(cookie, /__session/);
		// createdAt (whole seconds, set during the login) + 6 is past.
		await sleep(Math.max(0, t1 + 7000 - Date.now()));
		for (const what of ['refused', 'and stays refused']) {
			const r = await httpRequest(`${shortUrl}/private.txt`, { headers: { ...API, cookie } });
			assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
		}
	});
});
