// authgate-fcgi as Apache 2.4's FastCGI authorizer through
// mod_authnz_fcgi (www/examples/apache-authorizer.conf): every path but
// /auth/ is protected -- a static file and CGI programs that mod_cgi
// runs itself (no wrapper) -- and /auth/ goes to the same authgate-fcgi
// through mod_proxy_fcgi.
//
// What Apache (mod_authnz_fcgi, check_user_id mode, Authoritative On)
// does with an authorizer's answer, proven here:
//  - 200: "Variable-NAME: value" headers become the request's
//    environment, names kept as sent (OIDC_CLAIM_sub, not upper-cased);
//    two names differing only in case become one variable of the first
//    name, the values joined with ", "; the OTHER headers of the 200 (Set-Cookie, and
//    authgate's Cache-Control / X-Content-Type-Options) are added to
//    the client's answer.
//  - non-200: status, Location, Cache-Control and Set-Cookie reach the
//    client; the body of a 401 too (up to 8 KiB) but with Apache's
//    error-page Content-Type "text/html; charset=iso-8859-1"; the body
//    of a 3xx is replaced by Apache's own "moved" page.
//  - request headers reach a CGI program as HTTP_* only; names with
//    "_" are dropped.
//  - SetEnvIf (before the authentication phase) reaches the
//    authorizer: AUTHGATE_MODE=api per path.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, freePort, runDir, start, sleep, canConnect } from '../lib/procs.mjs';
import { apacheBinary, apacheUser, startApache, startApacheAuthorizer,
    APACHE_AUTHORIZER_TEMPLATE } from '../lib/apache.mjs';
import { startIdp, baseConf } from '../lib/stack.mjs';
import { Browser, login, parseSetCookie, completeProviderLogin } from '../lib/client.mjs';
import { makeSite, parseEnvOutput, markerName, httpRequest, NAVIGATION } from '../lib/wrap.mjs';

const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const SECRET_TEXT = 'only-for-signed-in-users\n';
const APACHE_ERROR_TYPE = 'text/html; charset=iso-8859-1';
const SKIP = apacheBinary() ? false : 'apache2 is not installed';

// mallory's claims (tests/idp/provider.mjs), all kept in the session.
const KEEP = ['sub', 'name', 'nickname', 'given_name', 'family_name',
    'picture', 'email', 'email_verified', 'org_id', 'act', 'roles',
    'a.b', 'a-b', 'a_b'];
for (let i = 0; i < 500; i++)
	KEEP.push(`c${i}`);

let idp, app, site, dir, appUrl, alice;

const url = (p) => `${appUrl}${p}`;
const nav = (b, p, opts = {}) => httpRequest(url(p), {
	...opts, jar: b.jar, headers: { ...NAVIGATION, ...(opts.headers || {}) },
});

// authgate's 401 as Apache sends it: our body, Apache's type.
function assert401(res, what) {
	assert.equal(res.status, 401, `${what}: ${res.status} ${res.text}`);
	assert.equal(res.headers.get('content-type'), APACHE_ERROR_TYPE, what);
	assert.equal(res.headers.get('cache-control'), 'no-store', what);
	assert.deepEqual(JSON.parse(res.text), {
		error: 'not_authenticated',
		description: 'The user does not have an active session or is not authenticated',
	}, what);
}

function sessionCookies(res) {
	return res.setCookies.map(parseSetCookie)
	    .filter((c) => c && /^__session(__\d+)?$/.test(c.name));
}

before(async () => {
	if (SKIP)
		return;
	dir = runDir('authorizer-apache');
	site = makeSite(dir, { apacheUser: apacheUser() });
	fs.writeFileSync(path.join(site.docroot, 'private.txt'), SECRET_TEXT, { mode: 0o644 });
	const port = await freePort();
	appUrl = `http://127.0.0.1:${port}`;
	idp = await startIdp({
		redirectUris: [`${appUrl}/auth/callback`],
		postLogoutRedirectUris: [appUrl, `${appUrl}/`],
	});
	app = await startApacheAuthorizer({
		dir, port, docroot: site.docroot,
		conf: { ...baseConf(appUrl, idp.issuer), 'claims.keep': KEEP.join(' ') },
	});
	alice = (await login(appUrl, 'alice')).browser;
});

after(async () => {
	await app?.stop();
	await idp?.stop();
});

test('a static file without a session: 307 to the login (navigation), 401 (API)', { skip: SKIP }, async () => {
	const b = new Browser();
	const res = await nav(b, '/private.txt?x=1&y=%2F');
	assert.equal(res.status, 307, res.text);
	assert.equal(res.rawLocation,
	    `${appUrl}/auth/login?returnTo=%2Fprivate.txt%3Fx%3D1%26y%3D%252F`);
	assert.equal(res.headers.get('cache-control'), 'no-store');
	// Apache's own "moved" page, never the file.
	assert.equal(res.headers.get('content-type'), APACHE_ERROR_TYPE);
	assert.match(res.text, /Temporary Redirect/);
	assert.ok(!res.text.includes('only-for'));
	for (const [what, headers] of [['Accept: application/json', API],
	    ['X-Requested-With', { 'x-requested-with': 'XMLHttpRequest' }]]) {
		const r = await nav(b, '/private.txt', { headers });
		assert401(r, what);
		assert.ok(!r.text.includes('only-for'));
	}
	assert401(await b.request(url('/private.txt')), 'fetch');
	for (const method of ['HEAD', 'POST', 'PUT', 'DELETE']) {
		const r = await httpRequest(url('/private.txt'), { method, headers: API, body: method === 'POST' ? 'a=1' : undefined });
		assert.equal(r.status, 401, `${method}: ${r.status}`);
	}
	// The index too (DirectoryIndex's subrequest is behind it as well).
	assert.equal((await nav(b, '/')).status, 307);
	// /auth/ is the only way round it; Apache normalises the path
	// before matching <Location>.
	for (const p of ['/auth/../private.txt', '/auth/%2e%2e/private.txt',
	    '/auth/./../private.txt', '/auth', '/auth/%2E%2E/private.txt']) {
		const r = await httpRequest(url(p), { headers: API });
		assert.ok(!r.text.includes('only-for'), `${p}: ${r.status}`);
		assert.notEqual(r.status, 200, p);
	}
});

test('a static file with a session: 200, the content; no Variable-* or session cookie sent', { skip: SKIP }, async () => {
	const res = await alice.request(url('/private.txt'));
	assert.equal(res.status, 200, res.text);
	assert.equal(res.text, SECRET_TEXT);
	assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
	assert.ok(![...res.headers.keys()].some((k) => /^variable-/i.test(k)));
	assert.equal(sessionCookies(res).length, 0);
	// The authorizer's other 200 headers reach the client (Apache).
	assert.equal(res.headers.get('cache-control'), 'no-store');
	assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
	// Apache logs the user of UserExpr (the log line follows the answer).
	const logged = / alice \[[^\]]*\] "GET \/private\.txt /;
	for (let i = 0; i < 100 && !logged.test(fs.readFileSync(app.accessLog, 'utf8')); i++)
		await sleep(50);
	assert.match(fs.readFileSync(app.accessLog, 'utf8'), logged);
});

test('/auth/ is served by the same authgate-fcgi; a login from a protected URL comes back to it', { skip: SKIP }, async () => {
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
});

test('a CGI program behind the authorizer sees the Variable-* values (names as sent)', { skip: SKIP }, async () => {
	const res = await alice.request(url('/cgi-bin/env.sh'));
	assert.equal(res.status, 200, `${res.status} ${res.text}\n${app.errorLogText()}`);
	const { vars, names } = parseEnvOutput(res.text);
	assert.equal(vars.get('REMOTE_USER'), 'alice');
	assert.equal(vars.get('AUTH_TYPE'), 'openid-connect');
	// Apache keeps the case: the mod_auth_openidc spelling.
	assert.equal(vars.get('OIDC_CLAIM_sub'), 'alice');
	assert.equal(vars.get('OIDC_CLAIM_name'), 'Alice Example');
	assert.equal(vars.get('OIDC_CLAIM_email'), 'alice@example.com');
	assert.equal(vars.get('OIDC_CLAIM_email_verified'), '1');
	assert.ok(!names.has('OIDC_CLAIM_SUB') && !names.has('OIDC_SESSION_EXPIRES'));
	const exp = vars.get('OIDC_session_expires');
	assert.match(exp || '', /^\d+$/);
	assert.ok(Number(exp) > Date.now() / 1000);
	assert.equal(JSON.parse(vars.get('OIDC_CLAIMS_JSON')).sub, 'alice');
	assert.ok(![...names].some((n) => /^OIDC_ACCESS_TOKEN|^OIDC_SCOPE$/i.test(n)), [...names].join(' '));
	// Run by mod_cgi itself; the authorizer's parameters did not leak.
	assert.ok(names.has('SCRIPT_FILENAME'));
	assert.ok(!names.has('FCGI_ROLE') && !names.has('FCGI_APACHE_ROLE'));
});

test('a CGI program without a session never runs: 307 / 401', { skip: SKIP }, async () => {
	const b = new Browser();
	const m = markerName('aaz');
	const res = await nav(b, `/cgi-bin/marker.sh?m=${m}`);
	assert.equal(res.status, 307, res.text);
	assert.equal(new URL(res.location).searchParams.get('returnTo'), `/cgi-bin/marker.sh?m=${m}`);
	assert401(await b.request(url(`/cgi-bin/marker.sh?m=${m}`)), 'fetch');
	assert.ok(!site.marked(m), 'marker.sh did not run');
	b.jar.set(appUrl, '__session', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC');
	assert.equal((await nav(b, `/cgi-bin/marker.sh?m=${m}`)).status, 307);
	assert.ok(!site.marked(m));
	const ok = await alice.request(url(`/cgi-bin/marker.sh?m=${m}`));
	assert.equal(ok.status, 200, ok.text);
	assert.ok(site.marked(m));
});

test('AUTHGATE_MODE=api by SetEnvIf: 401 even for a navigation', { skip: SKIP }, async () => {
	const b = new Browser();
	const m = markerName('aazapi');
	assert401(await nav(b, `/cgi-bin/api/marker.sh?m=${m}`), 'navigation');
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
	['OIDC_session_expires', '99999999999'],
	['Remote-User', 'mallory'],
	['Remote_User', 'mallory'],
	['Auth-Type', 'mallory'],
	['Variable-REMOTE_USER', 'mallory'],
	['Variable-Oidc-Claim-Sub', 'mallory'],
	['Variable-OIDC_CLAIM_sub', 'mallory'],
];

test('spoofing: request headers never become one of our variables', { skip: SKIP }, async () => {
	const problems = [];
	for (const [h, v] of SPOOFS) {
		const res = await alice.request(url('/cgi-bin/env.sh'), { headers: { [h]: v } });
		assert.equal(res.status, 200, `${h}: ${res.status}`);
		const { vars, lines } = parseEnvOutput(res.text);
		if (vars.get('REMOTE_USER') !== 'alice' || vars.get('OIDC_CLAIM_sub') !== 'alice' ||
		    vars.get('AUTH_TYPE') !== 'openid-connect')
			problems.push(`${h}: identity changed`);
		const leaked = lines.filter((l) => l.includes('mallory') && !l.startsWith('HTTP_'));
		if (leaked.length)
			problems.push(`${h}: ${leaked.join(' | ')}`);
		if (lines.some((l) => l.includes('99999999999') && !l.startsWith('HTTP_')))
			problems.push(`${h}: expiry`);
		if (JSON.parse(vars.get('OIDC_CLAIMS_JSON')).sub !== 'alice')
			problems.push(`${h}: OIDC_CLAIMS_JSON`);
		const m = markerName('aspoof');
		const anon = await httpRequest(url(`/cgi-bin/marker.sh?m=${m}`), { headers: { ...API, [h]: v } });
		if (anon.status === 200 || site.marked(m))
			problems.push(`${h}: ran without a session (${anon.status})`);
	}
	assert.deepEqual(problems, [], problems.join('\n'));
	// What Apache does: a client's header arrives prefixed; one with
	// "_" in its name is dropped.
	const res = await alice.request(url('/cgi-bin/env.sh'), {
		headers: { 'Oidc-Claim-Sub': 'mallory', Remote_User: 'mallory' },
	});
	const { vars, names } = parseEnvOutput(res.text);
	assert.equal(vars.get('HTTP_OIDC_CLAIM_SUB'), 'mallory');
	assert.ok(!names.has('HTTP_REMOTE_USER'));
});

test("mallory's hostile claims arrive neutralised, one value per name", { skip: SKIP }, async () => {
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
	assert.equal(vars.get('OIDC_CLAIM_sub'), 'mallory');
	assert.ok(!vars.has('OIDC_CLAIM_nickname'), 'nickname "() { ..." dropped');
	assert.ok(!vars.has('OIDC_CLAIM_given_name'), 'given_name with NUL dropped');
	// a.b, a-b, a_b: one variable, whatever its case.
	assert.equal(lines.filter((l) => /^OIDC_CLAIM_a_b=/i.test(l)).length, 1);
	const cs = lines.filter((l) => /^OIDC_CLAIM_c\d+=/.test(l));
	assert.ok(cs.length > 0 && cs.length <= 500, `${cs.length} of c0..c499`);
	for (const l of cs) {
		const [, i, v] = l.match(/^OIDC_CLAIM_c(\d+)=(.*)$/);
		assert.equal(v, `v${i}`);
	}
});

// What Apache itself does with an authorizer's answers, independent
// of authgate: the stand-in authorizer of the lighttpd test
// (tests/data/authorizer/probe-authorizer.c) behind the same template.
test('Apache: an authorizer 200 keeps Set-Cookie and other headers, keeps Variable- case', { skip: SKIP }, async () => {
	const pdir = runDir('authorizer-apache-probe');
	const probe = path.join(pdir, 'probe-authorizer');
	try {
		execFileSync('gcc', ['-std=c11', '-Wall', '-Werror', '-o', probe,
		    path.join(REPO, 'tests', 'data', 'authorizer', 'probe-authorizer.c'), '-lfcgi'],
		{ stdio: 'pipe' });
	} catch (e) {
		assert.fail(`cannot build the probe: ${e.stderr}`);
	}
	fs.chmodSync(pdir, 0o755);
	const docroot = path.join(pdir, 'site');
	fs.mkdirSync(path.join(docroot, 'cgi-bin'), { recursive: true, mode: 0o755 });
	fs.writeFileSync(path.join(docroot, 'file.txt'), 'static\n', { mode: 0o644 });
	fs.copyFileSync(path.join(REPO, 'www', 'cgi-bin', 'env.sh'), path.join(docroot, 'cgi-bin', 'env.sh'));
	fs.chmodSync(path.join(docroot, 'cgi-bin', 'env.sh'), 0o755);
	const fcgiPort = await freePort();
	const p = await start('spawn-fcgi', ['-n', '-a', '127.0.0.1', '-p', String(fcgiPort), '--', probe],
	    { name: 'spawn-fcgi+probe', logFile: path.join(pdir, 'probe.out') });
	let a;
	try {
		for (let i = 0; i < 200 && !(await canConnect(fcgiPort)); i++)
			await sleep(50);
		a = await startApache({
			dir: pdir, docroot, template: APACHE_AUTHORIZER_TEMPLATE,
			vars: { FCGI_HOST: '127.0.0.1', FCGI_PORT: String(fcgiPort) },
		});
		const f = await httpRequest(`${a.url}/file.txt`);
		assert.equal(f.status, 200);
		assert.equal(f.text, 'static\n');
		assert.deepEqual(f.setCookies, ['probe=ok'], 'Set-Cookie of a 200 reaches the client');
		assert.equal(f.headers.get('x-probe'), '1', 'other headers of a 200 reach the client');
		assert.ok(![...f.headers.keys()].some((k) => /^variable-/i.test(k)));
		const e = await httpRequest(`${a.url}/cgi-bin/env.sh`);
		const { vars, names } = parseEnvOutput(e.text);
		assert.equal(vars.get('REMOTE_USER'), 'probe');
		// Names differing in case: one variable, the first name, the
		// values joined with ", " (as lighttpd does; authgate sends one).
		assert.ok(names.has('OIDC_CLAIM_sub') && !names.has('OIDC_CLAIM_SUB'), [...names].join(' '));
		assert.equal(vars.get('OIDC_CLAIM_sub'), 'first, second');
		// A non-200: status, Set-Cookie and body to the client, Apache's type.
		const d = await httpRequest(`${a.url}/deny.txt`);
		assert.equal(d.status, 401);
		assert.deepEqual(d.setCookies, ['probe=deny']);
		assert.equal(d.text, 'denied\n');
		assert.equal(d.headers.get('content-type'), APACHE_ERROR_TYPE);
		// The responder side goes to the same port.
		const resp = await httpRequest(`${a.url}/auth/x`);
		assert.equal(resp.text, 'responder\n');
	} finally {
		await a?.stop();
		await p.stop();
	}
});
