// apache.mjs -- Debian's apache2, run in the foreground from the
// template www/examples/apache-cgi.conf, for authgate-wrap's tests, or
// from www/examples/apache-authorizer.conf (startApacheAuthorizer), for
// authgate-fcgi as mod_authnz_fcgi's authorizer.
//
// Nothing of the system's configuration is used or touched (no
// /etc/apache2, no a2enmod): the template loads its modules from
// /usr/lib/apache2/modules/ and keeps its pid file, locks and logs in
// the run directory (ServerRoot).
//
// Apache refuses to run its children as root.  When the tests run as
// root, the children and the CGI programs run as www-data (or
// $AUTHGATE_TEST_APACHE_USER); that user must read the run directory,
// the site, the wrapper and authgate.conf: the run directory is made
// 0755 and authgate.conf is given to that user's group, mode 0640 (see
// apacheUser() and shareWithApache()).  Not root: Apache runs as us.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, freePort, start, canConnect, sleep } from './procs.mjs';
import { fillTemplate, writeConf, authgateFcgiPath } from './lighttpd.mjs';

export const APACHE_TEMPLATE = path.join(REPO, 'www', 'examples', 'apache-cgi.conf');
export const APACHE_AUTHORIZER_TEMPLATE = path.join(REPO, 'www', 'examples', 'apache-authorizer.conf');

// The apache2 binary, or null when it is not installed.
export function apacheBinary() {
	for (const p of [process.env.APACHE2, '/usr/sbin/apache2', '/usr/sbin/httpd'])
		if (p && fs.existsSync(p))
			return p;
	return null;
}

/*
 * Who Apache's children run as: {user, group, uid, gid} (user/group as
 * written into the configuration).
 */
export function apacheUser() {
	if (process.getuid() !== 0) {
		return { user: `#${process.getuid()}`, group: `#${process.getgid()}`,
		    uid: process.getuid(), gid: process.getgid() };
	}
	const name = process.env.AUTHGATE_TEST_APACHE_USER || 'www-data';
	const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
	const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
	const group = execFileSync('id', ['-gn', name]).toString().trim();
	return { user: name, group, uid, gid };
}

// Let Apache's user read file (authgate.conf): group-readable by its group.
export function shareWithApache(file, u = apacheUser()) {
	if (process.getuid() !== 0)
		return;
	fs.chownSync(file, 0, u.gid);
	fs.chmodSync(file, 0o640);
}

function q(s) {
	return String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/*
 * startApache(opts) -> Promise<Apache>
 *   opts.dir        run directory (ServerRoot; required)
 *   opts.docroot    the site; its cgi-bin/ is protected
 *   opts.wrap       the wrapper binary; copied into DIR/authgate-bin/
 *   opts.confPath   authgate.conf (AUTHGATE_CONFIG of the wrapper)
 *   opts.socket     authgate-fcgi's socket (for /auth/)
 *   opts.wrapEnv    extra environment for the wrapper (object)
 *   opts.port, opts.host
 *   opts.template   another template (default APACHE_TEMPLATE); with
 *                   it opts.wrap and opts.confPath are optional
 *   opts.vars       extra @NAME@ values for it (object)
 *   opts.extra      configuration text appended to the template (its
 *                   @NAME@ filled too), e.g. a per-path block
 * Apache: { url, host, port, dir, errorLog, accessLog, confFile, proc,
 *           errorLogText(), alive(), stop(), server: 'apache' }
 */
export async function startApache(opts) {
	const bin = apacheBinary();
	if (!bin)
		throw new Error('apache2 is not installed');
	const host = opts.host || '127.0.0.1';
	const port = opts.port || await freePort(host);
	const dir = opts.dir;
	const u = apacheUser();
	const wrapDir = path.join(dir, 'authgate-bin');
	fs.mkdirSync(wrapDir, { recursive: true, mode: 0o755 });
	if (opts.wrap) {
		const wrapCopy = path.join(wrapDir, 'authgate-wrap');
		fs.rmSync(wrapCopy, { force: true });
		fs.copyFileSync(opts.wrap, wrapCopy);
		fs.chmodSync(wrapCopy, 0o755);
	}
	const errorLog = path.join(dir, 'apache-error.log');
	const accessLog = path.join(dir, 'apache-access.log');
	const wrapEnv = opts.wrapEnv || { AUTHGATE_TEST_MODE: '1' };
	const vars = {
		RUNDIR: dir,
		BIND: host,
		PORT: String(port),
		USER: u.user,
		GROUP: u.group,
		ERRORLOG: q(errorLog),
		ACCESSLOG: q(accessLog),
		DOCROOT: q(opts.docroot),
		WRAP_DIR: q(wrapDir),
		AUTHGATE_CONFIG: q(opts.confPath ?? ''),
		SOCKET: opts.socket ?? '',
		WRAP_ENV: Object.entries(wrapEnv)
		    .filter(([k]) => k !== 'AUTHGATE_CONFIG')
		    .map(([k, v]) => `\tSetEnv ${k} "${q(v)}"`).join('\n'),
		...(opts.vars || {}),
	};
	const confFile = path.join(dir, 'apache2.conf');
	const text = fs.readFileSync(opts.template || APACHE_TEMPLATE, 'utf8') +
	    (opts.extra ? `\n${opts.extra}\n` : '');
	fs.writeFileSync(confFile, fillTemplate(text, vars));
	// Appended to across restarts (kept for post-mortems).
	fs.appendFileSync(errorLog, '');
	fs.rmSync(path.join(dir, 'apache2.pid'), { force: true });

	let proc;
	try {
		proc = await start(bin, ['-DFOREGROUND', '-f', confFile], {
			name: 'apache2',
			env: { PATH: process.env.PATH, LANG: 'C' },
			port,
			timeoutMs: opts.timeoutMs ?? 15000,
			logFile: path.join(dir, 'apache2.out'),
		});
	} catch (e) {
		const log = fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '';
		throw new Error(`${e.message}\n--- ${errorLog} ---\n${log}`);
	}
	return {
		url: `http://${host}:${port}`,
		host, port, dir, errorLog, accessLog, confFile, proc, server: 'apache',
		user: u,
		errorLogText: () => fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '',
		alive: async () => proc.alive() && await canConnect(port, host),
		stop: () => proc.stop('SIGTERM', 5000),
	};
}

/*
 * startApacheAuthorizer(opts) -> Promise<Apache>
 * www/examples/apache-authorizer.conf: authgate-fcgi under spawn-fcgi
 * on a TCP port (mod_authnz_fcgi talks TCP only), the AUTHORIZER of
 * everything but /auth/, which mod_proxy_fcgi sends to the same port.
 *   opts.dir        run directory (required)
 *   opts.docroot    the site; its cgi-bin/ is run by mod_cgi
 *   opts.conf       authgate.conf keys (object), written to DIR/authgate.conf
 *   opts.env        extra environment for authgate-fcgi (object)
 *   opts.port, opts.host, opts.fcgiPort
 *   opts.extra      configuration appended to the template (startApache)
 * Apache as startApache(), plus { confPath, fcgi, fcgiPort }; stop()
 * stops both.
 */
export async function startApacheAuthorizer(opts) {
	const host = opts.host || '127.0.0.1';
	const dir = opts.dir;
	const bin = authgateFcgiPath();
	if (!fs.existsSync(bin))
		throw new Error(`${bin} does not exist: run make first`);
	const confPath = path.join(dir, 'authgate.conf');
	writeConf(confPath, opts.conf || {});
	const u = apacheUser();
	const fcgiPort = opts.fcgiPort || await freePort(host);
	const sargs = ['-n', '-a', host, '-p', String(fcgiPort)];
	if (process.getuid() === 0)
		sargs.push('-u', String(u.uid), '-g', String(u.gid));
	if (process.getuid() === 0)
		shareWithApache(confPath, u);
	const fcgi = await start('spawn-fcgi', [...sargs, '--', bin], {
		name: 'spawn-fcgi+authgate-fcgi',
		env: { ...process.env, AUTHGATE_TEST_MODE: '1', ...(opts.env || {}),
		    AUTHGATE_CONFIG: confPath },
		logFile: path.join(dir, 'authgate-fcgi.log'),
	});
	const end = Date.now() + 10000;
	while (!(await canConnect(fcgiPort, host))) {
		if (!fcgi.alive() || Date.now() > end) {
			await fcgi.stop('SIGKILL');
			throw new Error(`authgate-fcgi does not listen on ${host}:${fcgiPort}\n${fcgi.output()}`);
		}
		await sleep(50);
	}
	let a;
	try {
		a = await startApache({
			dir, host, port: opts.port, docroot: opts.docroot,
			template: APACHE_AUTHORIZER_TEMPLATE, extra: opts.extra,
			vars: { FCGI_HOST: host, FCGI_PORT: String(fcgiPort) },
		});
	} catch (e) {
		await fcgi.stop();
		throw e;
	}
	return {
		...a, confPath, fcgi, fcgiPort,
		async stop() {
			await a.stop();
			await fcgi.stop();
		},
	};
}
