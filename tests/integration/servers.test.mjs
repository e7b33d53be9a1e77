// Every server layout of www/examples/ that protects a whole site,
// started from its own example file (tests/lib/servers.mjs), run
// through the same scenario against the real test provider:
//
//   lighttpd   mod_fastcgi "bin-path" (lighttpd starts authgate-fcgi),
//              mod_fastcgi "socket" (spawn-fcgi): authorizer + responder
//   Apache     mod_authnz_fcgi + mod_proxy_fcgi (ProxyPass, one TCP
//              pool), mod_proxy_fcgi on a unix socket (SetHandler) with
//              a separate authorizer pool, mod_fcgid (Apache starts
//              authgate-fcgi: FcgidWrapper responder + FcgidAccessChecker)
//
// Each: a static file and a CGI program are refused without a session
// (and the program never runs); a full login through /auth/ lands on
// the protected file; the CGI program sees REMOTE_USER and the
// OIDC_CLAIM_* variables; a rolled session's Set-Cookie reaches the
// browser under Apache (FCGI_APACHE_ROLE) and is dropped by lighttpd;
// after /auth/logout the file is refused again.
//
// The CGI-wrapper layouts (lighttpd cgi.assign, Apache Action) are in
// wrap.test.mjs and wrap-apache.test.mjs.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, portFree, runDir, sleep } from '../lib/procs.mjs';
import { startIdp, baseConf } from '../lib/stack.mjs';
import { Browser, parseSetCookie, completeProviderLogin } from '../lib/client.mjs';
import { apacheUser } from '../lib/apache.mjs';
import { makeSite, parseEnvOutput, markerName, httpRequest, NAVIGATION } from '../lib/wrap.mjs';
import { LAYOUTS, layoutMissing, startLayout } from '../lib/servers.mjs';

const SECRET_TEXT = 'only-for-signed-in-users\n';
const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

function sessionCookies(res) {
	return res.setCookies.map(parseSetCookie)
	    .filter((c) => c && /^__session(__\d+)?$/.test(c.name));
}

for (const layout of LAYOUTS) {
	const skip = layoutMissing(layout);
	const apache = layout.startsWith('apache-');
	// mod_fcgid turns any refusal of its access checker into its own 401.
	const fcgid = layout === 'apache-fcgid';

	describe(layout, { skip }, () => {
		let idp, app, site, dir, appUrl, port, conf, alice;
		const url = (p) => `${appUrl}${p}`;
		const nav = (b, p) => httpRequest(url(p), { jar: b.jar, headers: NAVIGATION });
		const diag = () => app?.errorLogText().slice(-3000) ?? '';
		// The claim variable's name as the server spells it.
		const claim = (n) => apache ? `OIDC_CLAIM_${n}` : `OIDC_CLAIM_${n.toUpperCase()}`;
		const expiresVar = apache ? 'OIDC_session_expires' : 'OIDC_SESSION_EXPIRES';

		async function launch(env = {}) {
			for (let i = 0; i < 100 && !(await portFree(port)); i++)
				await sleep(50);
			app = await startLayout(layout, {
				dir, port, docroot: site.docroot, conf, env,
			});
		}

		before(async () => {
			dir = runDir(`servers-${layout}`);
			site = makeSite(dir, { apacheUser: apache ? apacheUser() : null });
			fs.writeFileSync(path.join(site.docroot, 'private.txt'), SECRET_TEXT, { mode: 0o644 });
			port = await freePort();
			appUrl = `http://127.0.0.1:${port}`;
			idp = await startIdp({
				redirectUris: [`${appUrl}/auth/callback`],
				postLogoutRedirectUris: [appUrl, `${appUrl}/`],
			});
			conf = baseConf(appUrl, idp.issuer);
			await launch();
		});

		after(async () => {
			await app?.stop();
			await idp?.stop();
		});

		test('without a session: the static file and the CGI program are refused', async () => {
			const b = new Browser();
			const res = await nav(b, '/private.txt?x=1');
			assert.ok(!res.text.includes('only-for'), `${res.status}`);
			if (fcgid) {
				assert.equal(res.status, 401, res.text);
			} else {
				assert.equal(res.status, 307, `${res.status} ${res.text}\n${diag()}`);
				assert.equal(res.rawLocation, `${appUrl}/auth/login?returnTo=%2Fprivate.txt%3Fx%3D1`);
			}
			const api = await httpRequest(url('/private.txt'), { headers: API });
			assert.equal(api.status, 401);
			assert.ok(!api.text.includes('only-for'));
			const m = markerName(layout);
			const cgi = await httpRequest(url(`/cgi-bin/marker.sh?m=${m}`), { headers: API });
			assert.equal(cgi.status, 401);
			assert.ok(!site.marked(m), 'marker.sh did not run');
			// The index too, and no way round through /auth/.
			assert.notEqual((await httpRequest(url('/'), { headers: API })).status, 200);
			for (const p of ['/auth/../private.txt', '/auth/%2e%2e/private.txt']) {
				const r = await httpRequest(url(p), { headers: API });
				assert.ok(!r.text.includes('only-for'), `${p}: ${r.status}`);
			}
		});

		test('a full login through /auth/ lands on the protected file', async () => {
			const h = await new Browser().request(url('/auth/health'));
			assert.equal(h.status, 200, `${h.status} ${h.text}\n${diag()}`);
			const b = new Browser();
			const first = await b.get(url('/auth/login?returnTo=%2Fprivate.txt'));
			const done = await completeProviderLogin(b, first, 'alice');
			assert.equal(done.callback?.status, 307, `callback: ${done.callback?.status} ${done.callback?.text}\n${diag()}`);
			assert.equal(done.url, url('/private.txt'));
			assert.equal(done.status, 200, done.text);
			assert.equal(done.text, SECRET_TEXT);
			const prof = await b.request(url('/auth/profile'));
			assert.equal(prof.status, 200, prof.text);
			assert.equal(JSON.parse(prof.text).sub, 'alice');
			alice = b;
		});

		test('a CGI program sees REMOTE_USER and the OIDC_CLAIM_* variables', async () => {
			assert.ok(alice, 'logged in');
			const res = await alice.request(url('/cgi-bin/env.sh'));
			assert.equal(res.status, 200, `${res.status} ${res.text}\n${diag()}`);
			const { vars } = parseEnvOutput(res.text);
			assert.equal(vars.get('REMOTE_USER'), 'alice');
			assert.equal(vars.get('AUTH_TYPE'), 'openid-connect');
			assert.equal(vars.get(claim('sub')), 'alice');
			assert.equal(vars.get(claim('email')), 'alice@example.com');
			assert.match(vars.get(expiresVar) || '', /^\d+$/);
			const m = markerName(layout);
			assert.equal((await alice.request(url(`/cgi-bin/marker.sh?m=${m}`))).status, 200);
			assert.ok(site.marked(m));
		});

		test(`a rolled session's Set-Cookie ${apache ? 'reaches the browser' : 'is dropped (lighttpd)'}`, async () => {
			assert.ok(alice, 'logged in');
			const env0 = parseEnvOutput((await alice.request(url('/cgi-bin/env.sh'))).text);
			const before = Number(env0.vars.get(expiresVar));
			// Fresh: not rolled.
			assert.equal(sessionCookies(await alice.request(url('/private.txt'))).length, 0);
			await app.stop();
			await launch({ AUTHGATE_TEST_CLOCK_OFFSET: '600' });
			const res = await alice.request(url('/private.txt'));
			assert.equal(res.status, 200, `${res.status}\n${diag()}`);
			assert.equal(res.text, SECRET_TEXT);
			const sc = sessionCookies(res);
			if (!apache) {
				assert.equal(sc.length, 0, res.setCookies.join(' | '));
				return;
			}
			assert.ok(sc.length > 0, `__session set: ${res.setCookies}`);
			for (const c of sc) {
				assert.ok(c.httpOnly, 'HttpOnly');
				assert.equal(c.path, '/');
			}
			assert.match(res.headers.get('cache-control') || '', /no-store/);
			const env1 = parseEnvOutput((await alice.request(url('/cgi-bin/env.sh'))).text);
			const after = Number(env1.vars.get(expiresVar));
			assert.ok(after >= before + 540, `expiry moved: ${before} -> ${after}`);
			// Rolled just now: not again.
			assert.equal(sessionCookies(await alice.request(url('/private.txt'))).length, 0);
		});

		test('after /auth/logout the file is refused again', async () => {
			assert.ok(alice, 'logged in');
			await alice.get(url('/auth/logout'));
			const r = await alice.request(url('/private.txt'));
			assert.equal(r.status, 401, `${r.status}`);
			assert.ok(!r.text.includes('only-for'));
		});
	});
}
