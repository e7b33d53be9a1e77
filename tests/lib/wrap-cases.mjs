// wrap-cases.mjs -- authgate-wrap's integration tests, one set for
// every web server: tests/integration/wrap.test.mjs (lighttpd) and
// wrap-apache.test.mjs (Apache) call wrapTests(server).
//
// The stack (tests/lib/stack.mjs startWrapStack): oidc-provider,
// authgate-fcgi on /auth/, the server running the programs of a test
// site's /cgi-bin/ (tests/lib/wrap.mjs) through authgate-wrap.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWrapStack } from './stack.mjs';
import { Browser, login, parseSetCookie, completeProviderLogin } from './client.mjs';
import { parseEnvOutput, markerName, httpRequest, NAVIGATION } from './wrap.mjs';

// What page script sends (not a navigation).
const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

// The programs that print their environment (tests/lib/wrap.mjs copies them).
const ENV_PROGRAMS = ['env.sh', 'env.pl', 'env-c.cgi'];

// mallory's claims (tests/idp/provider.mjs), all kept in the session.
const MALLORY_KEEP = ['roles', 'act', 'a.b', 'a-b', 'a_b'];
for (let i = 0; i < 500; i++)
	MALLORY_KEEP.push(`c${i}`);
const DEFAULT_KEEP = ['sub', 'name', 'nickname', 'given_name', 'family_name',
    'picture', 'email', 'email_verified', 'org_id', 'act'];

// Names a request must never be able to plant in a program's environment.
const FORBIDDEN_NAME = /^(HTTP_OIDC|HTTP_REMOTE_USER$|HTTP_AUTH_TYPE$|HTTP_AUTHGATE|HTTP_X_REMOTE_USER$|AUTHGATE_|AUTH0_|APP_BASE_URL$)/i;

function sessionCookies(res) {
	return res.setCookies.map(parseSetCookie)
	    .filter((c) => c && /^__session(__\d+)?$/.test(c.name));
}

function assertJson401(res, what) {
	assert.equal(res.status, 401, `${what}: ${res.status} ${res.text}`);
	assert.match(res.headers.get('content-type') || '', /^application\/json/, what);
	const j = JSON.parse(res.text);
	assert.equal(j.error, 'not_authenticated', what);
	assert.equal(typeof j.description, 'string', what);
}

function assertWrapperError(res, what) {
	assert.equal(res.status, 500, `${what}: ${res.status} ${res.text}`);
	assert.match(res.headers.get('content-type') || '', /^text\/plain/, what);
	assert.match(res.text, /^authgate-wrap: /, what);
}

/*
 * wrapTests(server): registers the tests.  server: 'lighttpd' | 'apache'.
 */
export function wrapTests(server) {
	let s;
	let alice;	// a Browser with alice's session

	const url = (p) => `${s.appUrl}${p}`;
	const get = (b, p, opts = {}) => b.request(url(p), opts);
	// A real navigation (fetch() cannot send one): node:http, b's cookies.
	const nav = (b, p, opts = {}) => httpRequest(url(p), {
		...opts, jar: b.jar, headers: { ...NAVIGATION, ...(opts.headers || {}) },
	});

	before(async () => {
		s = await startWrapStack({
			server, name: `wrap-${server}`,
			conf: { 'claims.keep': [...DEFAULT_KEEP, ...MALLORY_KEEP].join(' ') },
		});
		alice = (await login(s.appUrl, 'alice')).browser;
	});

	after(async () => {
		await s?.stop();
	});

	async function envOf(b, prog, opts = {}) {
		const res = await get(b, `/cgi-bin/${prog}`, opts);
		assert.equal(res.status, 200, `${prog}: ${res.status} ${res.text}\n${s.app.errorLogText()}`);
		assert.match(res.headers.get('content-type') || '', /^text\/plain/);
		return { res, ...parseEnvOutput(res.text) };
	}

	for (const prog of ENV_PROGRAMS) {
		test(`${server}: ${prog} as alice sees her identity`, async () => {
			const { vars, names } = await envOf(alice, prog);
			assert.equal(vars.get('REMOTE_USER'), 'alice');
			assert.equal(vars.get('AUTH_TYPE'), 'openid-connect');
			assert.equal(vars.get('OIDC_CLAIM_sub'), 'alice');
			assert.equal(vars.get('OIDC_CLAIM_name'), 'Alice Example');
			assert.equal(vars.get('OIDC_CLAIM_given_name'), 'Alice');
			assert.equal(vars.get('OIDC_CLAIM_email'), 'alice@example.com');
			assert.equal(vars.get('OIDC_CLAIM_email_verified'), '1');
			assert.equal(vars.get('OIDC_CLAIM_roles'), 'admin,staff');
			assert.equal(vars.get('OIDC_CLAIM_roles_COUNT'), '2');
			assert.equal(vars.get('OIDC_CLAIM_roles_0'), 'admin');
			assert.equal(vars.get('OIDC_CLAIM_roles_1'), 'staff');
			const exp = vars.get('OIDC_session_expires');
			assert.match(exp || '', /^\d+$/, 'OIDC_session_expires');
			assert.ok(Number(exp) > Date.now() / 1000, `OIDC_session_expires ${exp} in the future`);
			const claims = JSON.parse(vars.get('OIDC_CLAIMS_JSON'));
			assert.equal(claims.sub, 'alice');
			assert.equal(claims.email, 'alice@example.com');
			assert.deepEqual(claims.roles, ['admin', 'staff']);
			// wrap.pass_access_token is off.
			for (const n of ['OIDC_access_token', 'OIDC_access_token_type',
			    'OIDC_access_token_expires', 'OIDC_scope'])
				assert.ok(!names.has(n), `${n} not passed`);
			const bad = [...names].filter((n) => FORBIDDEN_NAME.test(n));
			assert.deepEqual(bad, [], 'no AUTHGATE_*, AUTH0_*, APP_BASE_URL');
			assert.ok(names.has('REQUEST_METHOD') && names.has('QUERY_STRING'),
			    `CGI meta-variables kept: ${[...names].join(' ')}`);
		});

		test(`${server}: ${prog} POST: the body reaches the program untouched`, async () => {
			const body = `a=1&b=two+words&c=${'x'.repeat(20000)}&d=%00%0D%0A`;
			const { vars, stdin } = await envOf(alice, prog, {
				method: 'POST', body,
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
			});
			assert.equal(vars.get('REMOTE_USER'), 'alice');
			assert.equal(stdin, body);
		});
	}

	// Each variant in a request of its own (fetch merges header names
	// that differ only in case).
	const SPOOFS = [
		['OIDC_CLAIM_sub', 'mallory'],
		['Oidc-Claim-Sub', 'mallory'],
		['OIDC-CLAIM-SUB', 'mallory'],
		['oidc-claim-email', 'mallory@evil.example'],
		['Oidc-Claims-Json', '{"sub":"mallory"}'],
		['Oidc-Access-Token', 'mallory-token'],
		['Remote-User', 'mallory'],
		['Remote_User', 'mallory'],
		['X-Remote-User', 'mallory'],
		['Auth-Type', 'mallory'],
		['Authgate-Config', '/tmp/mallory.conf'],
		['Authgate-Mode', 'mallory'],
	];
	for (const prog of ENV_PROGRAMS) {
		test(`${server}: ${prog}: request headers cannot pose as the identity`, async () => {
			const problems = [];
			for (const [h, v] of SPOOFS) {
				const { res, vars, names, lines } = await envOf(alice, prog,
				    { headers: { [h]: v } });
				if (vars.get('REMOTE_USER') !== 'alice' ||
				    vars.get('OIDC_CLAIM_sub') !== 'alice' ||
				    vars.get('AUTH_TYPE') !== 'openid-connect')
					problems.push(`${h}: identity changed`);
				const leaked = lines.filter((l) => l.includes('mallory') ||
				    FORBIDDEN_NAME.test(l.split('=')[0]));
				const badNames = [...names].filter((n) => FORBIDDEN_NAME.test(n));
				if (leaked.length || badNames.length)
					problems.push(`${h}: ${[...leaked, ...badNames].join(' | ')}`);
				assert.ok(res.status === 200);
			}
			assert.deepEqual(problems, [], problems.join('\n'));
		});
	}

	test(`${server}: no session, a navigation: 307 to the login, the program does not run`, async () => {
		const b = new Browser();
		const m = markerName('nav');
		const res = await nav(b, `/cgi-bin/marker.sh?m=${m}`);
		assert.equal(res.status, 307, res.text);
		assert.match(res.rawLocation, new RegExp(
		    `^(${s.appUrl})?/auth/login\\?returnTo=%2Fcgi-bin%2Fmarker\\.sh%3Fm%3D${m}$`),
		    res.rawLocation);
		assert.equal(new URL(res.location).searchParams.get('returnTo'), `/cgi-bin/marker.sh?m=${m}`);
		assert.ok(!res.text.includes('MARKED'));
		assert.ok(!s.site.marked(m), 'marker.sh did not run');

		// Logging in from there comes back to the program, which runs.
		const r = await b.get(res.location);
		const done = await completeProviderLogin(b, r, 'bob');
		assert.equal(done.status, 200, done.text);
		assert.equal(done.url, url(`/cgi-bin/marker.sh?m=${m}`));
		assert.match(done.text, new RegExp(`MARKED ${m}`));
		assert.ok(s.site.marked(m), 'marker.sh ran after the login');
	});

	test(`${server}: no session, not a navigation: 401 JSON, the program does not run`, async () => {
		const b = new Browser();
		const cases = [
			['Accept: application/json', API],
			['X-Requested-With', { 'x-requested-with': 'XMLHttpRequest' }],
			['Sec-Fetch-Mode: cors', { 'sec-fetch-mode': 'cors' }],
			['Accept: application/json only', { accept: 'application/json', 'sec-fetch-mode': null }],
		];
		for (const [what, headers] of cases) {
			const m = markerName('api');
			// Everything else a navigation's, these headers on top.
			const res = await nav(b, `/cgi-bin/marker.sh?m=${m}`, { headers });
			assertJson401(res, what);
			assert.ok(!s.site.marked(m), `${what}: marker.sh did not run`);
			assertJson401(await get(b, `/cgi-bin/marker.sh?m=${m}`), `${what} (fetch)`);
			assert.ok(!s.site.marked(m), `${what}: marker.sh did not run`);
		}
	});

	test(`${server}: a garbage or foreign session cookie counts as none`, async () => {
		const b = new Browser();
		b.jar.set(s.appUrl, '__session', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC');
		const m = markerName('garbage');
		const res = await nav(b, `/cgi-bin/marker.sh?m=${m}`);
		assert.equal(res.status, 307, res.text);
		assert.ok(!s.site.marked(m));
		assertJson401(await get(b, `/cgi-bin/marker.sh?m=${m}`, { headers: API }), 'API');
		assert.ok(!s.site.marked(m));
	});

	test(`${server}: AUTHGATE_MODE=api (/cgi-bin/api/): 401 JSON even for a navigation`, async () => {
		const b = new Browser();
		const m = markerName('apimode');
		assertJson401(await nav(b, `/cgi-bin/api/marker.sh?m=${m}`), 'navigation');
		assert.ok(!s.site.marked(m), 'marker.sh did not run');
		// With a session the program runs as anywhere else.
		const ok = await get(alice, `/cgi-bin/api/marker.sh?m=${m}`, { headers: API });
		assert.equal(ok.status, 200, ok.text);
		assert.ok(s.site.marked(m));
		const { vars } = await envOf(alice, 'api/env.sh');
		assert.equal(vars.get('REMOTE_USER'), 'alice');
	});

	test(`${server}: crlf.sh: the program's status and headers arrive`, async () => {
		const res = await get(alice, '/cgi-bin/crlf.sh');
		assert.equal(res.status, 201, res.text);
		assert.equal(res.headers.get('x-legacy'), 'yes');
		assert.match(res.headers.get('content-type') || '', /^text\/plain/);
		assert.equal(res.text, 'created\r\n');
	});

	test(`${server}: redirect.sh: the program's own redirect arrives`, async () => {
		const res = await get(alice, '/cgi-bin/redirect.sh');
		assert.equal(res.status, 302, res.text);
		assert.equal(new URL(res.location).pathname, '/somewhere');
	});

	test(`${server}: hello.cgi`, async () => {
		const res = await get(alice, '/cgi-bin/hello.cgi');
		assert.equal(res.status, 200, res.text);
		assert.equal(res.text, 'hello\n');
	});

	test(`${server}: a program outside wrap.roots or not executable never runs`, async () => {
		// leak.sh: a symlink in cgi-bin/ to a script outside wrap.roots.
		// (Apache refuses symlinks itself here: no FollowSymLinks.)
		const leak = await get(alice, '/cgi-bin/leak.sh');
		assert.ok(!leak.text.includes('LEAKED'), leak.text);
		assert.ok(!s.site.marked('leak'), 'leak.sh did not run');
		if (server === 'apache' && leak.status === 403)
			assert.ok(true);
		else
			assertWrapperError(leak, 'leak.sh');
		// noexec.sh: mode 0644.
		const noexec = await get(alice, '/cgi-bin/noexec.sh');
		assertWrapperError(noexec, 'noexec.sh');
		assert.ok(!s.site.marked('noexec'), 'noexec.sh did not run');
		// A program that is not there.
		const missing = await get(alice, '/cgi-bin/missing.sh');
		assert.ok([404, 500].includes(missing.status), `missing.sh: ${missing.status}`);
	});

	// A query without '=' is an "indexed" query: Apache's mod_cgi
	// passes its words as argv[1..] (RFC 3875 4.4), so under Apache's
	// Action argv[1] is the client's, not the program's path.
	test(`${server}: a query without "=" never picks the program to run`, async () => {
		const target = encodeURIComponent(`${s.site.cgiDir}/marker.sh`);
		for (const q of [target, 'x', `${target}+x`]) {
			const res = await get(alice, `/cgi-bin/hello.cgi?${q}`);
			assert.equal(res.status, 200, `?${q}: ${res.status} ${res.text}`);
			assert.equal(res.text, 'hello\n', `?${q}`);
		}
		assert.ok(!s.site.marked('unnamed'), 'marker.sh did not run');
		const m = markerName('isindex');
		assertJson401(await get(new Browser(), `/cgi-bin/marker.sh?${m}`), 'no session, ?word');
		assert.ok(!s.site.marked(m));
	});

	test(`${server}: mallory's hostile claims reach the program neutralised`, async () => {
		const r = await login(s.appUrl, 'mallory');
		assert.ok(r.callback, 'the flow reached /auth/callback');
		assert.equal(r.callback.status, 307, `callback: ${r.callback.status} ${r.callback.text}`);
		const b = r.browser;
		for (const prog of ENV_PROGRAMS) {
			const raw = await nav(b, `/cgi-bin/${prog}`);
			const bytes = raw.body;
			assert.equal(raw.status, 200, `${prog}: ${raw.status} ${raw.text}`);
			// No header injection through the name claim.
			assert.ok(!raw.rawHeaders.some((h) => /pwned/i.test(h)),
			    `${prog}: headers ${raw.rawHeaders.join(' | ')}`);
			assert.ok(!raw.setCookies.some((c) => /pwned/.test(c)), prog);
			// Bytes: valid UTF-8, no NUL, no bare CR, no control bytes but LF.
			let text;
			assert.doesNotThrow(() => {
				text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
			}, `${prog}: output is valid UTF-8`);
			assert.ok(!/[\x00-\x09\x0b-\x1f\x7f]/.test(text),
			    `${prog}: no control bytes: ${JSON.stringify(text.match(/.*[\x00-\x09\x0b-\x1f\x7f].*/)?.[0])}`);
			const { lines, vars } = parseEnvOutput(text);
			// Every line is NAME=value: no value spilled onto a line of its own.
			for (const l of lines)
				assert.match(l, /^[A-Za-z_][A-Za-z0-9_]*=/, `${prog}: line ${JSON.stringify(l.slice(0, 80))}`);
			assert.ok(!lines.some((l) => /^[^=]*=\(\) \{/.test(l) || l.startsWith('() {')),
			    `${prog}: no value starts with "() {"`);
			assert.equal(vars.get('REMOTE_USER'), 'mallory');
			assert.ok(!vars.has('OIDC_CLAIM_nickname'), 'nickname "() { :;}; ..." dropped');
			assert.ok(!vars.has('OIDC_CLAIM_given_name'), 'given_name with NUL dropped');
			const name = vars.get('OIDC_CLAIM_name');
			if (name !== undefined)
				assert.ok(!/[\r\n]/.test(name), `name neutralised: ${JSON.stringify(name)}`);
			const fam = vars.get('OIDC_CLAIM_family_name');
			if (fam !== undefined)
				assert.match(fam, /^Evil Tab.\[31mEsc.Del/, 'control bytes became spaces');
			const pic = vars.get('OIDC_CLAIM_picture');
			if (pic !== undefined)
				assert.match(pic, /^https:\/\/example\.com\/.*\.png$/);
			// a-b, a.b, a_b all map to OIDC_CLAIM_a_b: the first in sorted order wins.
			assert.equal(lines.filter((l) => l.startsWith('OIDC_CLAIM_a_b=')).length, 1,
			    `${prog}: one OIDC_CLAIM_a_b`);
			assert.equal(vars.get('OIDC_CLAIM_a_b'), 'dash');
			assert.ok(!vars.has('OIDC_CLAIM_a.b') && !vars.has('OIDC_CLAIM_a-b'));
			// The flood: whatever is passed is right, and it is bounded.
			const cs = lines.filter((l) => /^OIDC_CLAIM_c\d+=/.test(l));
			assert.ok(cs.length > 0 && cs.length <= 500, `${cs.length} of c0..c499`);
			for (const l of cs) {
				const [, i, v] = l.match(/^OIDC_CLAIM_c(\d+)=(.*)$/);
				assert.equal(v, `v${i}`);
			}
			assert.ok(bytes.length < 160 * 1024, `${prog}: ${bytes.length} bytes of environment`);
			if (vars.has('OIDC_CLAIMS_JSON'))
				assert.equal(JSON.parse(vars.get('OIDC_CLAIMS_JSON')).sub, 'mallory');
		}
	});

	test(`${server}: mallory's claim flood does not push out her identity claims`, async () => {
		const r = await login(s.appUrl, 'mallory');
		const { vars } = await envOf(r.browser, 'env.sh');
		assert.equal(vars.get('REMOTE_USER'), 'mallory');
		assert.equal(vars.get('OIDC_CLAIM_sub'), 'mallory');
		assert.equal(vars.get('OIDC_CLAIM_email'), 'mallory@example.com');
		assert.equal(vars.get('OIDC_CLAIM_email_verified'), '0');
		// roles is not an identity claim: under a flood of 500 claims it
		// may be left out (AG_MAX_CLAIMS), but when present it is whole
		// and its elements joined with ',' where a ',' or '\\' inside one
		// is escaped (lib/cgienv.c); _0.._N-1 carry them as they are.
		if (vars.has('OIDC_CLAIM_roles')) {
			assert.equal(vars.get('OIDC_CLAIM_roles'), 'admin\\,root,staff');
			assert.equal(vars.get('OIDC_CLAIM_roles_COUNT'), '2');
			assert.equal(vars.get('OIDC_CLAIM_roles_0'), 'admin,root');
			assert.equal(vars.get('OIDC_CLAIM_roles_1'), 'staff');
		} else
			assert.ok(!vars.has('OIDC_CLAIM_roles_COUNT'), 'no partial array');
		assert.deepEqual(JSON.parse(vars.get('OIDC_CLAIM_act')),
		    { sub: 'evil-actor', note: 'line1\nline2' });
	});

	test(`${server}: a login too big for a cookie session never runs a program`, async () => {
		const b = new Browser();
		await login(s.appUrl, 'mallory-big', { browser: b });
		const m = markerName('big');
		const res = await nav(b, `/cgi-bin/marker.sh?m=${m}`);
		if (res.status === 200) {
			// The session was stored after all: then the 100 KiB
			// family_name must not be in the environment.
			const e = await envOf(b, 'env.sh');
			assert.equal(e.vars.get('REMOTE_USER'), 'mallory-big');
			assert.ok(!e.vars.has('OIDC_CLAIM_family_name'), 'family_name over the cap dropped');
		} else {
			assert.equal(res.status, 307, res.text);
			assert.ok(!s.site.marked(m));
		}
	});

	// Last: it restarts the server with the wrapper's clock 600 s ahead.
	test(`${server}: a rolling session: Set-Cookie and the program's headers in one block`, async () => {
		const b = (await login(s.appUrl, 'alice')).browser;
		const before = Number((await envOf(b, 'env.sh')).vars.get('OIDC_session_expires'));
		await s.restart({ wrapEnv: { AUTHGATE_TEST_CLOCK_OFFSET: '600' } });
		const res = await get(b, '/cgi-bin/crlf.sh');
		assert.equal(res.status, 201, res.text);
		assert.equal(res.headers.get('x-legacy'), 'yes');
		assert.equal(res.text, 'created\r\n');
		const sc = sessionCookies(res);
		assert.ok(sc.length > 0, `__session set: ${res.setCookies}`);
		for (const c of sc) {
			assert.ok(c.httpOnly, 'HttpOnly');
			assert.equal(c.path, '/');
		}
		const after = Number((await envOf(b, 'env.sh')).vars.get('OIDC_session_expires'));
		assert.ok(after >= before + 540, `expiry moved: ${before} -> ${after}`);
		// Rolled just now: the next response does not set it again.
		const again = await get(b, '/cgi-bin/crlf.sh');
		assert.equal(again.status, 201);
		assert.equal(sessionCookies(again).length, 0, `no Set-Cookie: ${again.setCookies}`);
	});
}
