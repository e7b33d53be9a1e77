// servers.mjs -- every supported web server layout of authgate-fcgi,
// started from its example configuration in www/examples/, for
// tests/integration/servers.test.mjs and the benchmark:
//
//   'lighttpd-bin-path'   lighttpd starts authgate-fcgi (mod_fastcgi
//                         "bin-path"): authorizer + responder, one pool
//                         (lighttpd-authorizer.conf)
//   'lighttpd-socket'     the same, authgate-fcgi under spawn-fcgi on a
//                         unix socket (lighttpd-authorizer-socket.conf)
//   'apache-authnz-fcgi'  Apache: mod_authnz_fcgi authorizer and
//                         mod_proxy_fcgi responder (ProxyPass), one pool
//                         on one TCP port (apache-authorizer.conf)
//   'apache-proxy-fcgi'   Apache: the responder on a unix socket through
//                         mod_proxy_fcgi (SetHandler proxy:unix:), the
//                         authorizer a second pool on TCP
//                         (apache-proxy-fcgi.conf)
//   'apache-fcgid'        Apache starts authgate-fcgi itself through
//                         mod_fcgid: responder (FcgidWrapper) and access
//                         checker (FcgidAccessChecker) (apache-fcgid.conf)
//
// Each serves a site made by tests/lib/wrap.mjs makeSite(): static
// files and /cgi-bin/ programs run by the server itself, behind the
// authorizer.

import fs from 'node:fs';
import path from 'node:path';
import { REPO, freePort, start, canConnect, sleep } from './procs.mjs';
import { startApp, writeConf, authgateFcgiPath } from './lighttpd.mjs';
import { apacheBinary, apacheUser, shareWithApache, startApache,
    startApacheAuthorizer } from './apache.mjs';

export const LAYOUTS = ['lighttpd-bin-path', 'lighttpd-socket',
    'apache-authnz-fcgi', 'apache-proxy-fcgi', 'apache-fcgid'];

const EXAMPLES = path.join(REPO, 'www', 'examples');

// Why a layout cannot run here, or false.
export function layoutMissing(layout) {
	if (layout.startsWith('apache-') && !apacheBinary())
		return 'apache2 is not installed';
	if (layout === 'apache-fcgid' &&
	    !fs.existsSync('/usr/lib/apache2/modules/mod_fcgid.so'))
		return 'libapache2-mod-fcgid is not installed';
	return false;
}

/*
 * spawnFcgi(opts) -> Promise<Proc>: authgate-fcgi under spawn-fcgi,
 * waited for until it listens.
 *   opts.dir      run directory (its log goes there)
 *   opts.confPath authgate.conf
 *   opts.socket   a unix socket (mode 0660, Apache's user may connect),
 *                 or opts.host + opts.port: TCP
 *   opts.env      extra environment (object)
 *   opts.name     label
 */
export async function spawnFcgi(opts) {
	const u = apacheUser();
	const args = ['-n'];
	if (opts.socket) {
		fs.rmSync(opts.socket, { force: true });
		args.push('-s', opts.socket, '-M', '0660');
		if (process.getuid() === 0)
			args.push('-U', String(u.uid), '-G', String(u.gid));
	} else {
		args.push('-a', opts.host, '-p', String(opts.port));
	}
	if (process.getuid() === 0)
		args.push('-u', String(u.uid), '-g', String(u.gid));
	const name = opts.name || 'authgate-fcgi';
	const proc = await start('spawn-fcgi', [...args, '--', authgateFcgiPath()], {
		name: `spawn-fcgi+${name}`,
		env: { ...process.env, AUTHGATE_TEST_MODE: '1', ...(opts.env || {}),
		    AUTHGATE_CONFIG: opts.confPath },
		logFile: path.join(opts.dir, `${name}.log`),
	});
	const listening = async () => opts.socket ? fs.existsSync(opts.socket) :
	    canConnect(opts.port, opts.host);
	const end = Date.now() + 10000;
	while (!(await listening())) {
		if (!proc.alive() || Date.now() > end) {
			await proc.stop('SIGKILL');
			throw new Error(`${name} does not listen\n${proc.output()}`);
		}
		await sleep(50);
	}
	return proc;
}

// An FcgidInitialEnv line per variable.
function fcgidEnv(env) {
	return Object.entries(env).map(([k, v]) =>
	    `FcgidInitialEnv ${k} "${String(v).replace(/["\\]/g, '\\$&')}"`).join('\n');
}

/*
 * startLayout(layout, opts) -> Promise<App>
 *   opts.dir      run directory (required); opts.docroot the site
 *   opts.port     the server's port; opts.host (127.0.0.1)
 *   opts.conf     authgate.conf keys (object)
 *   opts.env      extra environment for authgate-fcgi (object)
 * App: { url, port, server, errorLogText(), stop() }: stop() stops the
 * server and every authgate-fcgi it uses.
 */
export async function startLayout(layout, opts) {
	const host = opts.host || '127.0.0.1';
	const dir = opts.dir;
	const env = { AUTHGATE_TEST_MODE: '1', ...(opts.env || {}) };
	switch (layout) {
	case 'lighttpd-bin-path':
	case 'lighttpd-socket':
		return startApp({
			mode: layout === 'lighttpd-socket' ? 'authorizer-socket' : 'authorizer',
			conf: opts.conf, port: opts.port, host, dir, docroot: opts.docroot,
			env, maxProcs: 2,
		});
	case 'apache-authnz-fcgi':
		return startApacheAuthorizer({ ...opts, host, env });
	case 'apache-proxy-fcgi':
		return startApacheProxyFcgi({ ...opts, host, env });
	case 'apache-fcgid':
		return startApacheFcgid({ ...opts, host, env });
	default:
		throw new Error(`unknown layout ${layout}`);
	}
}

// apache-proxy-fcgi.conf: two spawn-fcgi pools, then Apache.
async function startApacheProxyFcgi(opts) {
	const { dir, host } = opts;
	const confPath = writeConf(path.join(dir, 'authgate.conf'), opts.conf || {});
	shareWithApache(confPath);
	const socket = path.join(dir, 'responder.sock');
	const fcgiPort = await freePort(host);
	const procs = [];
	const stopAll = async () => {
		for (const p of procs.reverse())
			await p.stop();
	};
	try {
		procs.push(await spawnFcgi({ dir, confPath, socket, env: opts.env,
		    name: 'responder' }));
		procs.push(await spawnFcgi({ dir, confPath, host, port: fcgiPort,
		    env: opts.env, name: 'authorizer' }));
		const a = await startApache({
			dir, host, port: opts.port, docroot: opts.docroot,
			template: path.join(EXAMPLES, 'apache-proxy-fcgi.conf'),
			vars: { SOCKET: socket, FCGI_HOST: host, FCGI_PORT: String(fcgiPort) },
		});
		return {
			...a, confPath,
			async stop() {
				await a.stop();
				await stopAll();
			},
		};
	} catch (e) {
		await stopAll();
		throw e;
	}
}

// apache-fcgid.conf: Apache alone; mod_fcgid runs authgate-fcgi.
async function startApacheFcgid(opts) {
	const { dir, host } = opts;
	const u = apacheUser();
	const confPath = writeConf(path.join(dir, 'authgate.conf'), opts.conf || {});
	shareWithApache(confPath, u);
	// Apache's user runs it: a copy it can reach, in the run directory.
	const binDir = path.join(dir, 'authgate-bin');
	fs.mkdirSync(binDir, { recursive: true, mode: 0o755 });
	const bin = path.join(binDir, 'authgate-fcgi');
	fs.rmSync(bin, { force: true });
	fs.copyFileSync(authgateFcgiPath(), bin);
	fs.chmodSync(bin, 0o755);
	const ipc = path.join(dir, 'fcgid');
	fs.mkdirSync(ipc, { recursive: true, mode: 0o700 });
	if (process.getuid() === 0)
		fs.chownSync(ipc, u.uid, u.gid);
	return startApache({
		dir, host, port: opts.port, docroot: opts.docroot,
		template: path.join(EXAMPLES, 'apache-fcgid.conf'),
		vars: {
			AUTHGATE_FCGI: bin,
			AUTHGATE_CONFIG: confPath,
			FCGID_ENV: fcgidEnv(opts.env || {}),
		},
	});
}
