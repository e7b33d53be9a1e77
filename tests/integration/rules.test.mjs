// Authorization rules (lib/rule.c, enforced in lib/protect.c) through
// authgate-wrap and the FastCGI authorizer under lighttpd:
//  - authorize.require applies to every protected request: carol (a
//    user of the test provider without an email) gets 403 everywhere;
//  - authorize.rule.admins applies where the server names it with
//    AUTHGATE_RULE (www/examples/lighttpd-cgi.conf and
//    lighttpd-authorizer.conf: /cgi-bin/admin/): alice (roles admin,
//    email verified) passes, bob (staff only) gets 403 -- a short page
//    for a navigation, JSON otherwise, never the program;
//  - a request header cannot name or unset the rule;
//  - a name the configuration lacks: 500, the program never runs;
//  - a rule that does not parse: `authgate check` fails naming the key
//    and the column, authgate-fcgi refuses to start, the wrapper
//    answers 500 and its log names the key.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, runDir, logHas } from '../lib/procs.mjs';
import { startApp, writeConf, authgateFcgiPath } from '../lib/lighttpd.mjs';
import { startIdp, startWrapStack, baseConf } from '../lib/stack.mjs';
import { login } from '../lib/client.mjs';
import { addAdminDir, makeSite, markerName, httpRequest, NAVIGATION } from '../lib/wrap.mjs';
import { CLI } from '../lib/api.mjs';

const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const KEEP = 'sub name nickname email email_verified roles';
const RULES = {
	'claims.keep': KEEP,
	'authorize.require': 'exists email',
	'authorize.rule.admins': 'roles contains "admin" and email_verified = true',
};
const FORBIDDEN = {
	error: 'forbidden',
	description: 'The user is not allowed to access this resource',
};


function assert403Html(res, what) {
	assert.equal(res.status, 403, `${what}: ${res.status} ${res.text}`);
	assert.match(res.headers.get('content-type') || '', /^text\/html/, what);
	assert.match(res.text, /<h1>Forbidden<\/h1>/, what);
	assert.equal(res.headers.get('cache-control'), 'no-store', what);
}

function assert403Json(res, what) {
	assert.equal(res.status, 403, `${what}: ${res.status} ${res.text}`);
	assert.match(res.headers.get('content-type') || '', /^application\/json/, what);
	assert.deepEqual(JSON.parse(res.text), FORBIDDEN, what);
	assert.equal(res.headers.get('cache-control'), 'no-store', what);
}

// What lighttpd and the programs it ran wrote: the error log, and its
// standard error, which CGI programs (the wrapper) inherit.
function serverLog(app) {
	const out = path.join(app.dir, 'lighttpd.out');
	return app.errorLogText() + (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '');
}

describe('authgate-wrap under lighttpd', () => {
	let s, alice, bob, carol;
	const url = (p) => `${s.appUrl}${p}`;
	const nav = (b, p, headers = {}) => httpRequest(url(p), {
		jar: b.jar, headers: { ...NAVIGATION, ...headers },
	});

	before(async () => {
		s = await startWrapStack({ name: 'rules-wrap', conf: RULES });
		addAdminDir(s.site);
		alice = (await login(s.appUrl, 'alice')).browser;
		bob = (await login(s.appUrl, 'bob')).browser;
		carol = (await login(s.appUrl, 'carol')).browser;
	});

	after(async () => {
		await s?.stop();
	});

	test('alice meets both rules: the programs run', async () => {
		for (const p of ['/cgi-bin/marker.sh', '/cgi-bin/admin/marker.sh']) {
			const m = markerName('alice');
			const res = await nav(alice, `${p}?${m}`);
			assert.equal(res.status, 200, `${p}: ${res.status} ${res.text}\n${s.app.errorLogText()}`);
			assert.ok(s.site.marked(m), `${p} ran`);
		}
	});

	test('bob: the global rule holds, authorize.rule.admins does not: 403 under /cgi-bin/admin/', async () => {
		const m0 = markerName('bob');
		assert.equal((await nav(bob, `/cgi-bin/marker.sh?${m0}`)).status, 200);
		assert.ok(s.site.marked(m0));
		const m1 = markerName('bob');
		assert403Html(await nav(bob, `/cgi-bin/admin/marker.sh?${m1}`), 'navigation');
		const m2 = markerName('bob');
		assert403Json(await bob.request(url(`/cgi-bin/admin/marker.sh?${m2}`), { headers: API }), 'fetch');
		assert.ok(!s.site.marked(m1) && !s.site.marked(m2), 'the program never ran');
		assert.ok(await logHas(() => serverLog(s.app),
		    /wrap: .*admin\/marker\.sh denied for sub bob: authorize\.rule\.admins not met/),
		    `the log names the rule and the sub:\n${serverLog(s.app)}`);
	});

	test('carol has no email: authorize.require answers 403 everywhere', async () => {
		const m = markerName('carol');
		assert403Html(await nav(carol, `/cgi-bin/marker.sh?${m}`), 'navigation');
		assert403Json(await carol.request(url(`/cgi-bin/api/marker.sh?${m}`), { headers: API }), 'api');
		// AUTHGATE_MODE=api: JSON even for a navigation.
		assert403Json(await nav(carol, `/cgi-bin/api/marker.sh?${m}`), 'api navigation');
		assert.ok(!s.site.marked(m));
		assert.ok(await logHas(() => serverLog(s.app),
		    /denied for sub carol: authorize\.require not met/), serverLog(s.app));
	});

	test('a request header can neither pick nor drop the rule', async () => {
		const m = markerName('bob');
		for (const h of [{ 'authgate-rule': 'none' }, { authgate_rule: '' },
		    { 'authgate-rule': 'x'.repeat(4000) }]) {
			const res = await nav(bob, `/cgi-bin/admin/marker.sh?${m}`, h);
			assert.equal(res.status, 403, `${JSON.stringify(h).slice(0, 40)}: ${res.status}`);
		}
		assert.ok(!s.site.marked(m));
		// ... nor name one where the server names none.
		const m2 = markerName('alice');
		const res = await nav(alice, `/cgi-bin/marker.sh?${m2}`, { 'authgate-rule': 'nosuch' });
		assert.equal(res.status, 200, res.text);
		assert.ok(s.site.marked(m2));
	});

	test('a rule Apache renamed after two internal redirects (REDIRECT_REDIRECT_AUTHGATE_RULE) still applies', async () => {
		await s.restart({ conf: RULES, wrapEnv: { REDIRECT_REDIRECT_AUTHGATE_RULE: 'admins' } });
		const m = markerName('bob');
		assert403Html(await nav(bob, `/cgi-bin/marker.sh?${m}`), 'navigation');
		assert.ok(!s.site.marked(m), 'the program never ran');
		const m2 = markerName('alice');
		assert.equal((await nav(alice, `/cgi-bin/marker.sh?${m2}`)).status, 200);
		assert.ok(s.site.marked(m2));
		await s.restart({ conf: RULES });
	});

	test('REDIRECT_AUTHGATE_RULE and REDIRECT_REDIRECT_AUTHGATE_RULE naming different rules: both must hold', async () => {
		const conf = {
			...RULES,
			'authorize.rule.staff': 'roles contains "staff"',
			'authorize.rule.notalice': 'sub != "alice"',
		};
		// The nearer level holds for bob, the deeper one does not.
		await s.restart({
			conf,
			wrapEnv: {
				REDIRECT_AUTHGATE_RULE: 'staff',
				REDIRECT_REDIRECT_AUTHGATE_RULE: 'admins',
			},
		});
		const m = markerName('bob');
		assert403Html(await nav(bob, `/cgi-bin/marker.sh?${m}`), 'navigation');
		assert.ok(!s.site.marked(m), 'the deeper rule was checked too');
		const m2 = markerName('alice');
		assert.equal((await nav(alice, `/cgi-bin/marker.sh?${m2}`)).status, 200);
		assert.ok(s.site.marked(m2), 'alice meets both');
		// A third level refuses alice although the two nearer hold.
		await s.restart({
			conf,
			wrapEnv: {
				REDIRECT_AUTHGATE_RULE: 'staff',
				REDIRECT_REDIRECT_AUTHGATE_RULE: 'admins',
				REDIRECT_REDIRECT_REDIRECT_AUTHGATE_RULE: 'notalice',
			},
		});
		const m3 = markerName('alice');
		assert403Html(await nav(alice, `/cgi-bin/marker.sh?${m3}`), 'navigation');
		assert.ok(!s.site.marked(m3));
		await s.restart({ conf: RULES });
	});

	test('AUTHGATE_RULE naming no configured rule: 500, the program never runs', async () => {
		await s.restart({ conf: { 'authorize.rule.admins': null } });
		const m = markerName('alice');
		const res = await nav(alice, `/cgi-bin/admin/marker.sh?${m}`);
		assert.equal(res.status, 500, res.text);
		assert.ok(!s.site.marked(m));
		assert.ok(await logHas(() => serverLog(s.app),
		    /AUTHGATE_RULE names no rule of the configuration \(authorize\.rule\.admins\)/),
		    serverLog(s.app));
		// Elsewhere alice still passes.
		const m2 = markerName('alice');
		assert.equal((await nav(alice, `/cgi-bin/marker.sh?${m2}`)).status, 200);
		assert.ok(s.site.marked(m2));
	});

	test('a rule that does not parse: the wrapper answers 500 and logs the key', async () => {
		await s.restart({
			conf: RULES,
			wrapEnv: { AUTHGATE_AUTHORIZE_REQUIRE: 'roles contians "admin"' },
		});
		const m = markerName('alice');
		const res = await nav(alice, `/cgi-bin/marker.sh?${m}`);
		assert.equal(res.status, 500, res.text);
		assert.match(res.text, /^authgate-wrap: /);
		assert.ok(!res.text.includes('contians'), 'no rule text in the page');
		assert.ok(!s.site.marked(m));
		assert.ok(await logHas(() => serverLog(s.app),
		    /authorize\.require: column 7: expected/), serverLog(s.app));
	});
});

describe('the FastCGI authorizer under lighttpd', () => {
	let idp, app, site, dir, alice, bob, carol, appUrl;
	const url = (p) => `${appUrl}${p}`;
	const nav = (b, p) => httpRequest(url(p), { jar: b.jar, headers: NAVIGATION });

	before(async () => {
		dir = runDir('rules-authorizer');
		site = makeSite(dir);
		addAdminDir(site);
		fs.writeFileSync(path.join(site.docroot, 'private.txt'), 'secret\n', { mode: 0o644 });
		const port = await freePort();
		appUrl = `http://127.0.0.1:${port}`;
		idp = await startIdp({
			redirectUris: [`${appUrl}/auth/callback`],
			postLogoutRedirectUris: [appUrl, `${appUrl}/`],
		});
		app = await startApp({
			conf: { ...baseConf(appUrl, idp.issuer), ...RULES },
			port, mode: 'authorizer', dir, docroot: site.docroot, maxProcs: 1,
		});
		alice = (await login(appUrl, 'alice')).browser;
		bob = (await login(appUrl, 'bob')).browser;
		carol = (await login(appUrl, 'carol')).browser;
	});

	after(async () => {
		await app?.stop();
		await idp?.stop();
	});

	test('a static file: alice and bob pass, carol gets 403', async () => {
		for (const b of [alice, bob]) {
			const res = await b.request(url('/private.txt'));
			assert.equal(res.status, 200, res.text);
			assert.equal(res.text, 'secret\n');
		}
		const res = await nav(carol, '/private.txt');
		assert403Html(res, 'carol navigation');
		assert.ok(!res.text.includes('secret'));
		assert403Json(await carol.request(url('/private.txt'), { headers: API }), 'carol fetch');
	});

	test('per path (/cgi-bin/admin/, AUTHGATE_RULE=admins): alice runs it, bob gets 403', async () => {
		const m = markerName('alice');
		const res = await nav(alice, `/cgi-bin/admin/marker.sh?${m}`);
		assert.equal(res.status, 200, `${res.status} ${res.text}\n${app.errorLogText()}`);
		assert.ok(site.marked(m));
		const m2 = markerName('bob');
		assert403Html(await nav(bob, `/cgi-bin/admin/marker.sh?${m2}`), 'bob navigation');
		assert403Json(await bob.request(url(`/cgi-bin/admin/marker.sh?${m2}`), { headers: API }), 'bob fetch');
		assert.ok(!site.marked(m2), 'never ran for bob');
	});
});

describe('a rule that does not parse', () => {
	let dir, confPath;

	before(() => {
		dir = runDir('rules-bad');
		confPath = path.join(dir, 'authgate.conf');
		writeConf(confPath, {
			...baseConf('http://127.0.0.1:9', 'http://127.0.0.1:9/oidc'),
			'authorize.rule.admins': 'roles contains "admin" and (email_verified = true',
		});
	});

	test('authgate check fails naming the key, the column and the rule', () => {
		const r = spawnSync(CLI, ['-c', confPath, 'check', '--offline'], { encoding: 'utf8' });
		assert.equal(r.status, 1, r.stdout + r.stderr);
		assert.match(r.stderr, /^authorize\.rule\.admins: column 50: expected 'and', 'or' or '\)', found the end in 'roles contains "admin" and \(email_verifi\.\.\.'$/m);
	});

	test('authgate-fcgi refuses to start', () => {
		const r = spawnSync(authgateFcgiPath(), [], {
			encoding: 'utf8', input: '', timeout: 10000,
			env: { ...process.env, AUTHGATE_CONFIG: confPath, AUTHGATE_TEST_MODE: '1' },
		});
		assert.equal(r.status, 1, r.stdout + r.stderr);
		assert.match(r.stderr, /refusing to start/);
		assert.match(r.stderr, /authorize\.rule\.admins: column 50: expected/);
	});
});

describe('authgate check: a rule on a claim claims.keep drops', () => {
	let dir;

	before(() => {
		dir = runDir('rules-keep');
	});

	function check(conf) {
		const confPath = path.join(dir, 'authgate.conf');
		writeConf(confPath, {
			...baseConf('http://127.0.0.1:9', 'http://127.0.0.1:9/oidc'),
			'authorize.require': 'email_verified = true',
			'authorize.rule.admins': 'roles contains "admin"',
			...conf,
		});
		return spawnSync(CLI, ['-c', confPath, 'check', '--offline'], { encoding: 'utf8' });
	}

	test('the default claims.keep lacks roles: a warning, not a failure', () => {
		const r = check({});
		assert.equal(r.status, 0, r.stdout + r.stderr);
		assert.equal(r.stdout, 'ok\n');
		assert.match(r.stderr, /^authorize\.rule\.admins: claim 'roles' is not in claims\.keep; the session does not store it, so the rule never sees it$/m);
		assert.ok(!/authorize\.require:/.test(r.stderr), r.stderr);
	});

	test('claims.keep keeps roles: no warning', () => {
		const r = check({ 'claims.keep': 'sub email_verified roles' });
		assert.equal(r.status, 0, r.stdout + r.stderr);
		assert.ok(!/claims\.keep/.test(r.stderr), r.stderr);
	});
});

// A refresh that returns an ID token replaces the session's claims: the
// rules are checked again on them (the refreshed session is still stored,
// so a rotated refresh token is not lost), before the program runs.
describe('authgate-wrap: the rules again after a refresh changed the claims', () => {
	let s;
	const conf = { ...RULES, 'wrap.pass_access_token': 'on' };
	const nav = (b, p) => httpRequest(`${s.appUrl}${p}`, { jar: b.jar, headers: NAVIGATION });
	const setClaims = (set) => fetch(`${s.idp.base}/test/claims?sub=erin&set=` +
	    encodeURIComponent(JSON.stringify(set)), { method: 'POST' });

	before(async () => {
		// Access tokens expire after 60 s; the wrapper's clock is moved.
		s = await startWrapStack({
			name: 'rules-refresh', conf, idpEnv: { IDP_TTL_ACCESS_TOKEN: '60' },
		});
		addAdminDir(s.site);
	});

	after(async () => {
		await s?.stop();
	});

	test('admin removed at the provider: 403 after the refresh, the refreshed session stored', async () => {
		await setClaims({ email: 'erin@example.com', email_verified: true, roles: ['admin'] });
		const erin = (await login(s.appUrl, 'erin')).browser;
		const m = markerName('erin');
		assert.equal((await nav(erin, `/cgi-bin/admin/marker.sh?${m}`)).status, 200);
		assert.ok(s.site.marked(m), 'an admin at login');

		await setClaims({ roles: ['staff'] });
		await s.restart({ conf, wrapEnv: { AUTHGATE_TEST_CLOCK_OFFSET: '120' } });
		await s.idp.resetStats();
		const m2 = markerName('erin');
		const res = await nav(erin, `/cgi-bin/admin/marker.sh?${m2}`);
		assert.equal(res.status, 403, res.text);
		assert.match(res.text, /<h1>Forbidden<\/h1>/);
		assert.ok(!s.site.marked(m2), 'the program never ran with the new claims');
		assert.equal((await s.idp.stats()).token.refresh_token, 1, 'the token was refreshed');
		assert.ok(res.setCookies.some((c) => /^__session/.test(c)),
		    `the refreshed session was sent: ${res.setCookies}`);

		// The stored session carries the new token and claims: no second
		// refresh, still refused; a page without the rule still runs.
		const m3 = markerName('erin');
		assert.equal((await nav(erin, `/cgi-bin/admin/marker.sh?${m3}`)).status, 403);
		assert.ok(!s.site.marked(m3));
		const m4 = markerName('erin');
		assert.equal((await nav(erin, `/cgi-bin/marker.sh?${m4}`)).status, 200);
		assert.ok(s.site.marked(m4));
		assert.equal((await s.idp.stats()).token.refresh_token, 1, 'refreshed once');
	});
});
