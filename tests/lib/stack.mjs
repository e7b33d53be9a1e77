// stack.mjs -- the whole test stack in one call: the OpenID Provider
// (tests/idp/provider.mjs), authgate.conf, lighttpd + authgate-fcgi.
//
//   const s = await startStack();
//   ... s.appUrl, s.issuer ...
//   await s.stop();

import fs from 'node:fs';
import path from 'node:path';
import { REPO, freePort, portFree, runDir, sleep, start } from './procs.mjs';
import { startApp, writeConf, authgateFcgiPath } from './lighttpd.mjs';
import * as apacheLib from './apache.mjs';
import { requireWrap, makeSite } from './wrap.mjs';

export const CLIENT_ID = 'authgate-test';
export const CLIENT_SECRET = 'authgate-test-secret-0123456789';
// 64 characters, like `openssl rand -hex 32`; used as-is, as the SDK does.
export const SECRET = '4a7b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f';

const PROVIDER = path.join(REPO, 'tests', 'idp', 'provider.mjs');

/*
 * startIdp(opts) -> Promise<Idp>
 *   opts.port   (0: a free one), opts.env: extra IDP_* variables
 *   opts.redirectUris, opts.postLogoutRedirectUris: arrays
 *   opts.appUrl  shorthand for both: APP/auth/callback; APP and APP/
 * Idp: { issuer, port, proc, stats(), resetStats(), stop() }
 */
export async function startIdp(opts = {}) {
	if (opts.appUrl) {
		opts = {
			redirectUris: [`${opts.appUrl}/auth/callback`],
			postLogoutRedirectUris: [opts.appUrl, `${opts.appUrl}/`],
			...opts,
		};
	}
	const env = {
		...process.env,
		IDP_PORT: String(opts.port ?? 0),
		...(opts.redirectUris ? { IDP_REDIRECT_URIS: opts.redirectUris.join(',') } : {}),
		...(opts.postLogoutRedirectUris ?
		    { IDP_POST_LOGOUT_REDIRECT_URIS: opts.postLogoutRedirectUris.join(',') } : {}),
		...(opts.env || {}),
	};
	const launch = () => start(process.execPath, [PROVIDER], {
		name: 'idp', env, timeoutMs: opts.timeoutMs ?? 15000,
		ready: (line) => {
			try {
				const j = JSON.parse(line);
				return j.ready ? j : null;
			} catch {
				return null;
			}
		},
		logFile: opts.logFile,
		echo: opts.echo,
	});
	// oidc-provider normally starts in ~0.3 s; once in a few hundred
	// starts on this shared VM it has hung before listening.  That is the
	// test provider, not authgate: retry once, and say so.
	let proc;
	try {
		proc = await launch();
	} catch (e) {
		if (!/no readiness line/.test(e.message))
			throw e;
		process.stderr.write(`[stack] the test provider did not start; retrying once\n`);
		proc = await launch();
	}
	const { issuer, port } = proc.ready;
	const base = `http://127.0.0.1:${port}`;
	return {
		issuer, port, proc, base,
		async stats() {
			return (await fetch(`${base}/test/stats`)).json();
		},
		async resetStats() {
			await fetch(`${base}/test/reset`, { method: 'POST' });
		},
		stop: () => proc.stop(),
	};
}

// The authgate.conf keys for an app at appUrl using issuer.
export function baseConf(appUrl, issuer) {
	return {
		issuer,
		client_id: CLIENT_ID,
		client_secret: CLIENT_SECRET,
		secret: SECRET,
		app_base_url: appUrl,
		allow_insecure_requests: 'on',
		'session.store': 'cookie',
		'http.timeout_ms': 3000,
		'log.level': 'debug',
	};
}

/*
 * startStack(opts) -> Promise<Stack>
 *   opts.conf      authgate.conf keys merged over baseConf (null removes one)
 *   opts.idpEnv    extra IDP_* variables for the provider
 *   opts.appPort, opts.idpPort: fixed ports (default: free ones)
 *   opts.mode      'bin-path' | 'spawn-fcgi'
 *   opts.env       extra environment for authgate-fcgi
 *   opts.name      label for the run directory
 *   opts.docroot   the site lighttpd serves (default REPO/www)
 * Stack: { appUrl, issuer, idp, app, secret, clientId, clientSecret,
 *          conf, stop(), stopIdp(), restartApp(opts) }
 */
export async function startStack(opts = {}) {
	const appPort = opts.appPort || await freePort();
	const appUrl = `http://127.0.0.1:${appPort}`;
	const idp = await startIdp({
		port: opts.idpPort ?? 0,
		env: opts.idpEnv,
		redirectUris: [`${appUrl}/auth/callback`],
		postLogoutRedirectUris: [appUrl, `${appUrl}/`],
	});
	const conf = { ...baseConf(appUrl, idp.issuer), ...(opts.conf || {}) };
	let app;
	try {
		app = await startApp({
			conf, port: appPort, mode: opts.mode, env: opts.env,
			name: opts.name, docroot: opts.docroot,
		});
	} catch (e) {
		await idp.stop();
		throw e;
	}
	const stack = {
		appUrl, issuer: idp.issuer, idp, app, conf,
		secret: SECRET, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET,
		async stop() {
			await stack.app.stop();
			await idp.stop();
		},
		stopIdp: () => idp.stop(),
		// A fresh lighttpd + authgate-fcgi (nothing cached) on the same
		// port, same provider; opts as startApp's, conf merged.
		async restartApp(ropts = {}) {
			await stack.app.stop();
			// The old lighttpd must have let go of the port, or the
			// new one fails to bind while the old one still answers.
			for (let i = 0; i < 100 && !(await portFree(appPort)); i++)
				await sleep(50);
			stack.app = await startApp({
				port: appPort, mode: opts.mode, env: opts.env, name: opts.name,
				docroot: opts.docroot,
				...ropts,
				conf: { ...conf, ...(ropts.conf || {}) },
			});
			return stack.app;
		},
	};
	return stack;
}

/*
 * startWrapStack(opts) -> Promise<WrapStack>: the provider, authgate-fcgi
 * on /auth/ and a web server that runs the programs of a test site's
 * /cgi-bin/ through authgate-wrap (tests/lib/wrap.mjs builds the site).
 *   opts.server    'lighttpd' (default: www/examples/lighttpd-cgi.conf,
 *                  authgate-fcgi by bin-path) or 'apache'
 *                  (www/examples/apache-cgi.conf, authgate-fcgi under
 *                  spawn-fcgi, /auth/ through mod_proxy_fcgi)
 *   opts.conf      authgate.conf keys over baseConf + wrap.roots
 *   opts.wrapEnv   extra environment for authgate-wrap (object;
 *                  AUTHGATE_TEST_MODE=1 is always there)
 *   opts.env       extra environment for authgate-fcgi
 *   opts.apacheTemplate, opts.apacheExtra   for 'apache': another
 *                  template, configuration appended (tests/lib/apache.mjs)
 *   opts.idpEnv, opts.appPort, opts.name
 *   opts.issuer    another provider's issuer (idp is then null; the
 *                  caller runs that provider)
 * WrapStack: { appUrl, issuer, idp, app, site, dir, conf, server,
 *              stop(), restart({conf, wrapEnv}) }
 * Fails at once, naming the file, when $BUILD/authgate-wrap is missing.
 */
export async function startWrapStack(opts = {}) {
	const server = opts.server || 'lighttpd';
	const wrap = requireWrap();
	let apache = null;
	if (server === 'apache') {
		apache = apacheLib;
		if (!apache.apacheBinary())
			throw new Error('apache2 is not installed (apt-get install apache2)');
	} else if (server !== 'lighttpd') {
		throw new Error(`unknown server ${server}`);
	}
	const dir = runDir(opts.name || `wrap-${server}`);
	const site = makeSite(dir, { apacheUser: apache ? apache.apacheUser() : null });
	const appPort = opts.appPort || await freePort();
	const appUrl = `http://127.0.0.1:${appPort}`;
	const idp = opts.issuer ? null : await startIdp({
		env: opts.idpEnv,
		redirectUris: [`${appUrl}/auth/callback`],
		postLogoutRedirectUris: [appUrl, `${appUrl}/`],
	});
	const conf = {
		...baseConf(appUrl, opts.issuer || idp.issuer),
		'wrap.roots': site.cgiDir,
		...(opts.conf || {}),
	};
	const wrapEnvOf = (extra) => ({ AUTHGATE_TEST_MODE: '1', ...(extra || {}) });

	async function launch(c, wrapEnv) {
		if (server === 'lighttpd') {
			return startApp({
				conf: c, port: appPort, mode: 'cgi', dir, docroot: site.docroot,
				wrap, wrapEnv: wrapEnvOf(wrapEnv), env: opts.env,
			});
		}
		const confPath = path.join(dir, 'authgate.conf');
		writeConf(confPath, c);
		apache.shareWithApache(confPath);
		const bin = authgateFcgiPath();
		if (!fs.existsSync(bin))
			throw new Error(`${bin} does not exist: run make first`);
		const sock = path.join(dir, 'authgate.sock');
		fs.rmSync(sock, { force: true });
		const u = apache.apacheUser();
		const sargs = ['-n', '-s', sock, '-M', '0660'];
		if (process.getuid() === 0)
			sargs.push('-U', String(u.uid), '-G', String(u.gid));
		const fcgi = await start('spawn-fcgi', [...sargs, '--', bin], {
			name: 'spawn-fcgi+authgate-fcgi',
			env: { ...process.env, AUTHGATE_TEST_MODE: '1', ...(opts.env || {}),
			    AUTHGATE_CONFIG: confPath },
			logFile: path.join(dir, 'authgate-fcgi.log'),
		});
		const end = Date.now() + 10000;
		while (!fs.existsSync(sock)) {
			if (!fcgi.alive() || Date.now() > end) {
				await fcgi.stop('SIGKILL');
				throw new Error(`authgate-fcgi did not create ${sock}\n${fcgi.output()}`);
			}
			await sleep(50);
		}
		let a;
		try {
			a = await apache.startApache({
				dir, port: appPort, docroot: site.docroot, wrap, confPath,
				socket: sock, wrapEnv: wrapEnvOf(wrapEnv),
				template: opts.apacheTemplate, extra: opts.apacheExtra,
			});
		} catch (e) {
			await fcgi.stop();
			throw e;
		}
		return {
			...a, confPath, fcgi,
			async stop() {
				await a.stop();
				await fcgi.stop();
			},
		};
	}

	let app;
	try {
		app = await launch(conf, opts.wrapEnv);
	} catch (e) {
		await idp?.stop();
		throw e;
	}
	const stack = {
		appUrl, issuer: opts.issuer || idp.issuer, idp, app, site, dir, conf, server,
		secret: SECRET, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET,
		async stop() {
			await stack.app?.stop();
			await idp?.stop();
		},
		// Stop the server (and authgate-fcgi) and start it again on the
		// same port and site: conf merged over the first one's, wrapEnv
		// replacing the first one's.
		async restart(ropts = {}) {
			await stack.app.stop();
			stack.app = null;
			for (let i = 0; i < 100 && !(await portFree(appPort)); i++)
				await sleep(50);
			stack.app = await launch({ ...conf, ...(ropts.conf || {}) },
			    ropts.wrapEnv ?? opts.wrapEnv);
			return stack.app;
		},
	};
	return stack;
}
