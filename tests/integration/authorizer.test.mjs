// authgate-fcgi as a FastCGI AUTHORIZER under lighttpd
// (www/examples/lighttpd-authorizer.conf): every path but /auth/ is
// protected -- a static file and CGI programs that lighttpd runs itself
// (no wrapper) -- and /auth/ is served by the same process pool.
//
// What lighttpd 1.4 does with an authorizer's answer, proven here:
//  - 200: "Variable-NAME: value" headers become the environment of the
//    CGI program, names UPPER-CASED (OIDC_CLAIM_sub -> OIDC_CLAIM_SUB);
//    every other header, Set-Cookie too, is dropped (the probe test, with
//    a stand-in authorizer, tests/data/authorizer/probe-authorizer.c).
//  - anything else is the browser's answer.
//  - request headers reach the program as HTTP_* and never shadow a
//    variable of ours.
//  - setenv.add-environment per path reaches the authorizer
//    (AUTHGATE_MODE=api under /cgi-bin/api/).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, freePort, portFree, runDir, sleep, start } from '../lib/procs.mjs';
import { startApp, fillTemplate } from '../lib/lighttpd.mjs';
import { startIdp, baseConf } from '../lib/stack.mjs';
import { Browser, login, parseSetCookie, completeProviderLogin } from '../lib/client.mjs';
import { makeSite, parseEnvOutput, markerName, httpRequest, NAVIGATION } from '../lib/wrap.mjs';

const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const SECRET_TEXT = 'only-for-signed-in-users\n';

// mallory's claims (tests/idp/provider.mjs), all kept in the session.
const KEEP = ['sub', 'name', 'nickname', 'given_name', 'family_name',
    'picture', 'email', 'email_verified', 'org_id', 'act', 'roles',
    'a.b', 'a-b', 'a_b'];
for (let i = 0; i < 500; i++)
	KEEP.push(`c${i}`);

let idp, app, site, dir, conf, appUrl, appPort;
let alice;

const url = (p) => `${appUrl}${p}`;
const nav = (b, p, opts = {}) => httpRequest(url(p), {
	...opts, jar: b.jar, headers: { ...NAVIGATION, ...(opts.headers || {}) },
});

function assertJson401(res, what) {
	assert.equal(res.status, 401, `${what}: ${res.status} ${res.text}`);
	assert.match(res.headers.get('content-type') || '', /^application\/json/, what);
	assert.deepEqual(JSON.parse(res.text), {
		error: 'not_authenticated',
		description: 'The user does not have an active session or is not authenticated',
	}, what);
}

function sessionCookies(res) {
	return res.setCookies.map(parseSetCookie)
	    .filter((c) => c && /^__session(__\d+)?$/.test(c.name));
}

async function launch(env = {}) {
	return startApp({
		conf, port: appPort, mode: 'authorizer', dir, docroot: site.docroot,
		env, maxProcs: 1,
	});
}

before(async () => {
	dir = runDir('authorizer');
	site = makeSite(dir);
	fs.writeFileSync(path.join(site.docroot, 'private.txt'), SECRET_TEXT, { mode: 0o644 });
	appPort = await freePort();
	appUrl = `http://127.0.0.1:${appPort}`;
	idp = await startIdp({
		redirectUris: [`${appUrl}/auth/callback`],
		postLogoutRedirectUris: [appUrl, `${appUrl}/`],
	});
	conf = { ...baseConf(appUrl, idp.issuer), 'claims.keep': KEEP.join(' ') };
	app = await launch();
	alice = (await login(appUrl, 'alice')).browser;
});

after(async () => {
	await app?.stop();
	await idp?.stop();
});

test('a static file without a session: 307 to the login (navigation), 401 JSON (API)', async () => {
	const b = new Browser();
	const res = await nav(b, '/private.txt?x=1&y=%2F');
	assert.equal(res.status, 307, res.text);
	assert.equal(res.rawLocation,
	    `${appUrl}/auth/login?returnTo=%2Fprivate.txt%3Fx%3D1%26y%3D%252F`);
	assert.ok(!res.text.includes('only-for'), 'the file is not sent');
	assert.equal(res.headers.get('cache-control'), 'no-store');
	for (const [what, headers] of [['Accept: application/json', API],
	    ['X-Requested-With', { 'x-requested-with': 'XMLHttpRequest' }]]) {
		const r = await nav(b, '/private.txt', { headers });
		assertJson401(r, what);
		assert.ok(!r.text.includes('only-for'));
	}
	assertJson401(await b.request(url('/private.txt')), 'fetch');
	// Not even HEAD or another method passes.
	for (const method of ['HEAD', 'POST', 'PUT', 'DELETE']) {
		const r = await httpRequest(url('/private.txt'), { method, headers: API, body: method === 'POST' ? 'a=1' : undefined });
		assert.equal(r.status, 401, `${method}: ${r.status}`);
	}
	// The index too: everything but /auth/ is behind the authorizer.
	assert.equal((await nav(b, '/')).status, 307);
	// /auth/ is the only way round it, and dot segments do not lead
	// out of it (lighttpd normalises the path before matching).
	for (const p of ['/auth/../private.txt', '/auth/%2e%2e/private.txt',
	    '/auth/./../private.txt', '/auth']) {
		const r = await httpRequest(url(p), { headers: API });
		assert.ok(!r.text.includes('only-for'), `${p}: ${r.status}`);
		assert.notEqual(r.status, 200, p);
	}
});

test('a static file with a session: 200, the content', async () => {
	const res = await alice.request(url('/private.txt'));
	assert.equal(res.status, 200, res.text);
	assert.equal(res.text, SECRET_TEXT);
	// Variable-* headers are not sent to the browser.
	assert.ok(![...res.headers.keys()].some((k) => /^variable-/i.test(k)));
});

test('/auth/ is served by the same pool; a login from a protected URL comes back to it', async () => {
	assert.equal(app.fcgiPids().length, 1, `one authgate-fcgi process: ${app.fcgiPids()}`);
	const h = await new Browser().request(url('/auth/health'));
	assert.equal(h.status, 200, h.text);
	const b = new Browser();
	const res = await nav(b, '/private.txt');
	assert.equal(res.status, 307);
	const r = await b.get(res.location);
	const done = await completeProviderLogin(b, r, 'bob');
	assert.equal(done.status, 200, done.text);
	assert.equal(done.url, url('/private.txt'));
	assert.equal(done.text, SECRET_TEXT);
	const prof = await b.request(url('/auth/profile'));
	assert.equal(prof.status, 200);
	assert.equal(JSON.parse(prof.text).sub, 'bob');
	assert.equal(app.fcgiPids().length, 1, 'still one process');
});

test('a CGI program behind the authorizer sees the Variable-* values (upper-cased names)', async () => {
	const res = await alice.request(url('/cgi-bin/env.sh'));
	assert.equal(res.status, 200, `${res.status} ${res.text}\n${app.errorLogText()}`);
	const { vars, names } = parseEnvOutput(res.text);
	assert.equal(vars.get('REMOTE_USER'), 'alice');
	assert.equal(vars.get('AUTH_TYPE'), 'openid-connect');
	assert.equal(vars.get('OIDC_CLAIM_SUB'), 'alice');
	assert.equal(vars.get('OIDC_CLAIM_NAME'), 'Alice Example');
	assert.equal(vars.get('OIDC_CLAIM_EMAIL'), 'alice@example.com');
	assert.equal(vars.get('OIDC_CLAIM_EMAIL_VERIFIED'), '1');
	const exp = vars.get('OIDC_SESSION_EXPIRES');
	assert.match(exp || '', /^\d+$/);
	assert.ok(Number(exp) > Date.now() / 1000);
	assert.equal(JSON.parse(vars.get('OIDC_CLAIMS_JSON')).sub, 'alice');
	// lighttpd upper-cases: the mod_auth_openidc spelling is not there.
	assert.ok(!names.has('OIDC_CLAIM_sub') && !names.has('OIDC_session_expires'));
	// wrap.pass_access_token is off.
	assert.ok(![...names].some((n) => /^OIDC_ACCESS_TOKEN|^OIDC_SCOPE$/i.test(n)), [...names].join(' '));
	// The program ran without the wrapper: its name is ours, not authgate-wrap's.
	assert.ok(names.has('SCRIPT_FILENAME'));
});

test('a CGI program without a session never runs: 307 / 401 JSON', async () => {
	const b = new Browser();
	const m = markerName('az');
	const res = await nav(b, `/cgi-bin/marker.sh?m=${m}`);
	assert.equal(res.status, 307, res.text);
	assert.equal(new URL(res.location).searchParams.get('returnTo'), `/cgi-bin/marker.sh?m=${m}`);
	assertJson401(await b.request(url(`/cgi-bin/marker.sh?m=${m}`)), 'fetch');
	assert.ok(!site.marked(m), 'marker.sh did not run');
	// A garbage session cookie counts as none.
	b.jar.set(appUrl, '__session', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC');
	assert.equal((await nav(b, `/cgi-bin/marker.sh?m=${m}`)).status, 307);
	assert.ok(!site.marked(m));
	// With a session it runs.
	const ok = await alice.request(url(`/cgi-bin/marker.sh?m=${m}`));
	assert.equal(ok.status, 200, ok.text);
	assert.ok(site.marked(m));
});

test('AUTHGATE_MODE=api by setenv.add-environment: 401 JSON even for a navigation', async () => {
	const b = new Browser();
	const m = markerName('azapi');
	assertJson401(await nav(b, `/cgi-bin/api/marker.sh?m=${m}`), 'navigation');
	assert.ok(!site.marked(m));
	// A client header of that name changes nothing.
	const r = await nav(b, `/cgi-bin/marker.sh?m=${m}`, { headers: { 'Authgate-Mode': 'api' } });
	assert.equal(r.status, 307);
	const { vars } = parseEnvOutput((await alice.request(url('/cgi-bin/api/env.sh'))).text);
	assert.equal(vars.get('REMOTE_USER'), 'alice');
});

const SPOOFS = [
	['Oidc-Claim-Sub', 'mallory'],
	['OIDC_CLAIM_sub', 'mallory'],
	['OIDC-CLAIM-SUB', 'mallory'],
	['Oidc-Claims-Json', '{"sub":"mallory"}'],
	['Oidc-Session-Expires', '99999999999'],
	['Remote-User', 'mallory'],
	['Remote_User', 'mallory'],
	['Auth-Type', 'mallory'],
	['Variable-REMOTE_USER', 'mallory'],
	['Variable-Oidc-Claim-Sub', 'mallory'],
];

test('spoofing: request headers never become one of our variables', async () => {
	const problems = [];
	for (const [h, v] of SPOOFS) {
		// With a session: ours win; the header only ever appears as HTTP_*.
		const res = await alice.request(url('/cgi-bin/env.sh'), { headers: { [h]: v } });
		if (res.status === 400)
			continue;	/* lighttpd refused the header name itself */
		assert.equal(res.status, 200, `${h}: ${res.status}`);
		const { vars, lines } = parseEnvOutput(res.text);
		if (vars.get('REMOTE_USER') !== 'alice' || vars.get('OIDC_CLAIM_SUB') !== 'alice' ||
		    vars.get('AUTH_TYPE') !== 'openid-connect')
			problems.push(`${h}: identity changed`);
		const leaked = lines.filter((l) => l.includes('mallory') && !l.startsWith('HTTP_'));
		if (leaked.length)
			problems.push(`${h}: ${leaked.join(' | ')}`);
		if (JSON.parse(vars.get('OIDC_CLAIMS_JSON')).sub !== 'alice')
			problems.push(`${h}: OIDC_CLAIMS_JSON`);
		// Without a session: never a 200.
		const m = markerName('spoof');
		const anon = await httpRequest(url(`/cgi-bin/marker.sh?m=${m}`), { headers: { ...API, [h]: v } });
		if (anon.status === 200 || site.marked(m))
			problems.push(`${h}: ran without a session (${anon.status})`);
	}
	assert.deepEqual(problems, [], problems.join('\n'));
	// What lighttpd does: the client's header arrives, prefixed.
	const res = await alice.request(url('/cgi-bin/env.sh'), { headers: { 'Oidc-Claim-Sub': 'mallory' } });
	assert.equal(parseEnvOutput(res.text).vars.get('HTTP_OIDC_CLAIM_SUB'), 'mallory');
});

test("mallory's hostile claims arrive neutralised, one value per name", async () => {
	const r = await login(appUrl, 'mallory');
	assert.equal(r.callback?.status, 307, `callback: ${r.callback?.status} ${r.callback?.text}`);
	const raw = await nav(r.browser, '/cgi-bin/env.sh');
	assert.equal(raw.status, 200, `${raw.status} ${raw.text}\n${app.errorLogText().slice(-3000)}`);
	assert.ok(!raw.rawHeaders.some((h) => /pwned/i.test(h)), raw.rawHeaders.join(' | '));
	const text = new TextDecoder('utf-8', { fatal: true }).decode(raw.body);
	assert.ok(!/[\x00-\x09\x0b-\x1f\x7f]/.test(text), 'no control bytes');
	const { lines, vars } = parseEnvOutput(text);
	for (const l of lines)
		assert.match(l, /^[A-Za-z_][A-Za-z0-9_]*=/, `line ${JSON.stringify(l.slice(0, 80))}`);
	assert.equal(vars.get('REMOTE_USER'), 'mallory');
	assert.equal(vars.get('OIDC_CLAIM_SUB'), 'mallory');
	assert.ok(!vars.has('OIDC_CLAIM_NICKNAME'), 'nickname "() { ..." dropped');
	assert.ok(!vars.has('OIDC_CLAIM_GIVEN_NAME'), 'given_name with NUL dropped');
	// a.b, a-b, a_b: one variable, one value (lighttpd would join two with ", ").
	assert.equal(lines.filter((l) => l.startsWith('OIDC_CLAIM_A_B=')).length, 1);
	assert.equal(vars.get('OIDC_CLAIM_A_B'), 'dash');
	// The flood: bounded, and each value whole.
	const cs = lines.filter((l) => /^OIDC_CLAIM_C\d+=/.test(l));
	assert.ok(cs.length > 0 && cs.length <= 500, `${cs.length} of c0..c499`);
	for (const l of cs) {
		const [, i, v] = l.match(/^OIDC_CLAIM_C(\d+)=(.*)$/);
		assert.equal(v, `v${i}`);
	}
});

// Last but one: restarts authgate-fcgi with its clock 600 s ahead.
test('no rolling in the authorizer (its Set-Cookie would be dropped); /auth/profile rolls', async () => {
	const b = (await login(appUrl, 'alice')).browser;
	const before = Number(parseEnvOutput((await b.request(url('/cgi-bin/env.sh'))).text)
	    .vars.get('OIDC_SESSION_EXPIRES'));
	await app.stop();
	for (let i = 0; i < 100 && !(await portFree(appPort)); i++)
		await sleep(50);
	app = await launch({ AUTHGATE_TEST_CLOCK_OFFSET: '600' });
	const res = await b.request(url('/cgi-bin/env.sh'));
	assert.equal(res.status, 200, res.text);
	assert.equal(sessionCookies(res).length, 0, `no Set-Cookie: ${res.setCookies}`);
	assert.equal(Number(parseEnvOutput(res.text).vars.get('OIDC_SESSION_EXPIRES')), before,
	    'the expiry did not move');
	const prof = await b.request(url('/auth/profile'));
	assert.equal(prof.status, 200);
	assert.ok(sessionCookies(prof).length > 0, `/auth/profile rolled: ${prof.setCookies}`);
	const after = Number(parseEnvOutput((await b.request(url('/cgi-bin/env.sh'))).text)
	    .vars.get('OIDC_SESSION_EXPIRES'));
	assert.ok(after >= before + 540, `expiry moved: ${before} -> ${after}`);
});

// What lighttpd itself does with an authorizer's 200, independent of
// authgate: a stand-in authorizer answers with Set-Cookie, another
// header and Variable-* lines of names differing in case.
test('lighttpd: an authorizer 200 drops Set-Cookie, upper-cases and joins Variable- names', async () => {
	const pdir = runDir('authorizer-probe');
	const probe = path.join(pdir, 'probe-authorizer');
	try {
		execFileSync('gcc', ['-std=c11', '-Wall', '-Werror', '-o', probe,
		    path.join(REPO, 'tests', 'data', 'authorizer', 'probe-authorizer.c'), '-lfcgi'],
		{ stdio: 'pipe' });
	} catch (e) {
		assert.fail(`cannot build the probe: ${e.stderr}`);
	}
	const docroot = path.join(pdir, 'site');
	fs.mkdirSync(path.join(docroot, 'cgi-bin'), { recursive: true });
	fs.writeFileSync(path.join(docroot, 'file.txt'), 'static\n');
	fs.copyFileSync(path.join(REPO, 'www', 'cgi-bin', 'env.sh'), path.join(docroot, 'cgi-bin', 'env.sh'));
	fs.chmodSync(path.join(docroot, 'cgi-bin', 'env.sh'), 0o755);
	const port = await freePort();
	const text = fillTemplate(fs.readFileSync(path.join(REPO, 'www', 'examples',
	    'lighttpd-authorizer.conf'), 'utf8'), {
		BIND: '127.0.0.1', PORT: String(port), DOCROOT: docroot,
		ERRORLOG: path.join(pdir, 'error.log'), ACCESSLOG: path.join(pdir, 'access.log'),
		RUNDIR: pdir, AUTHGATE_FCGI: probe, AUTHGATE_CONFIG: '/nonexistent',
		BIN_ENV: '', MAX_PROCS: '1',
	});
	fs.writeFileSync(path.join(pdir, 'lighttpd.conf'), text);
	const l = await start('lighttpd', ['-D', '-f', path.join(pdir, 'lighttpd.conf')],
	    { name: 'lighttpd-probe', port, logFile: path.join(pdir, 'lighttpd.out') });
	try {
		const f = await httpRequest(`http://127.0.0.1:${port}/file.txt`);
		assert.equal(f.status, 200);
		assert.equal(f.text, 'static\n');
		assert.deepEqual(f.setCookies, [], 'Set-Cookie of a 200 dropped');
		assert.equal(f.headers.get('x-probe'), null, 'other headers of a 200 dropped');
		const e = await httpRequest(`http://127.0.0.1:${port}/cgi-bin/env.sh`);
		const { vars, names } = parseEnvOutput(e.text);
		assert.equal(vars.get('REMOTE_USER'), 'probe');
		assert.equal(vars.get('OIDC_CLAIM_SUB'), 'first, second', 'joined with ", "');
		assert.ok(!names.has('OIDC_CLAIM_sub'), 'upper-cased');
		// A non-200 answer goes to the browser whole, Set-Cookie included.
		const d = await httpRequest(`http://127.0.0.1:${port}/deny.txt`);
		assert.equal(d.status, 401);
		assert.deepEqual(d.setCookies, ['probe=deny']);
	} finally {
		await l.stop();
	}
});
