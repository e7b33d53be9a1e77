// lighttpd.mjs -- lighttpd + authgate-fcgi for the integration tests.
//
// startApp() writes authgate.conf and a lighttpd config (from the
// example templates in www/examples/) into a fresh directory under
// tests/.run/, and starts `lighttpd -D -f` on a free port of 127.0.0.1.
// Three modes:
//   'bin-path'   lighttpd starts authgate-fcgi itself (www/examples/lighttpd-fastcgi.conf)
//   'spawn-fcgi' spawn-fcgi -n -s SOCK -- authgate-fcgi, lighttpd connects
//                to the socket (www/examples/lighttpd-spawn-fcgi.conf)
//   'cgi'        'bin-path' plus /cgi-bin/*.sh|.pl|.cgi run through
//                authgate-wrap (www/examples/lighttpd-cgi.conf); see
//                tests/lib/wrap.mjs for the site it serves
//   'authorizer' authgate-fcgi (bin-path) as the AUTHORIZER of every path
//                but /auth/, and the RESPONDER of /auth/, one process
//                pool; /cgi-bin/ programs run by lighttpd directly
//                (www/examples/lighttpd-authorizer.conf)
//   'authorizer-socket' the same two roles, authgate-fcgi under spawn-fcgi
//                on a unix socket (www/examples/lighttpd-authorizer-socket.conf)

import fs from 'node:fs';
import path from 'node:path';
import { REPO, freePort, runDir, start, canConnect, sleep } from './procs.mjs';

export const TEMPLATES = {
	'bin-path': path.join(REPO, 'www', 'examples', 'lighttpd-fastcgi.conf'),
	'spawn-fcgi': path.join(REPO, 'www', 'examples', 'lighttpd-spawn-fcgi.conf'),
	cgi: path.join(REPO, 'www', 'examples', 'lighttpd-cgi.conf'),
	authorizer: path.join(REPO, 'www', 'examples', 'lighttpd-authorizer.conf'),
	'authorizer-socket': path.join(REPO, 'www', 'examples', 'lighttpd-authorizer-socket.conf'),
};
// The modes whose authgate-fcgi runs under spawn-fcgi, not lighttpd.
const SPAWNED = new Set(['spawn-fcgi', 'authorizer-socket']);

// The program under test: $AUTHGATE_FCGI, else $BUILD/authgate-fcgi
// (BUILD as in the Makefile: build, build-san, ...).
export function authgateFcgiPath() {
	if (process.env.AUTHGATE_FCGI)
		return path.resolve(process.env.AUTHGATE_FCGI);
	const build = process.env.BUILD || 'build';
	return path.resolve(REPO, build, 'authgate-fcgi');
}

// The CGI wrapper under test: $AUTHGATE_WRAP, else $BUILD/authgate-wrap.
export function authgateWrapPath() {
	if (process.env.AUTHGATE_WRAP)
		return path.resolve(process.env.AUTHGATE_WRAP);
	const build = process.env.BUILD || 'build';
	return path.resolve(REPO, build, 'authgate-wrap');
}

// "key = value" lines; keys with null/undefined values are left out.
export function formatConf(conf) {
	let s = '# written by tests/lib/lighttpd.mjs\n';
	for (const [k, v] of Object.entries(conf)) {
		if (v === null || v === undefined)
			continue;
		s += `${k} = ${Array.isArray(v) ? v.join(' ') : v}\n`;
	}
	return s;
}

export function writeConf(file, conf) {
	fs.writeFileSync(file, formatConf(conf), { mode: 0o600 });
	return file;
}

function quote(s) {
	return String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

// Fill a template's @NAME@ placeholders; an unknown one is an error
// (in comments, where the placeholders are explained, it is left alone).
export function fillTemplate(text, vars) {
	return text.split('\n').map((line) => {
		const comment = /^\s*#/.test(line);
		return line.replace(/@([A-Z_]+)@/g, (m, k) => {
			if (comment)
				return m;
			if (!(k in vars))
				throw new Error(`template placeholder ${m} has no value`);
			return vars[k];
		});
	}).join('\n');
}

/*
 * startApp(opts) -> Promise<App>
 *   opts.conf      authgate.conf keys (object); written to DIR/authgate.conf
 *   opts.confText  or the file's text verbatim
 *   opts.mode      'bin-path' (default), 'spawn-fcgi', 'cgi', 'authorizer'
 *                  or 'authorizer-socket'
 *   opts.port      port (default: a free one); opts.host (127.0.0.1)
 *   opts.env       extra environment for authgate-fcgi (object)
 *   opts.docroot   default REPO/www
 *   opts.name      label of the run directory
 *   opts.maxProcs  ('bin-path', 'authorizer') authgate-fcgi processes
 *                  lighttpd starts (1)
 *   opts.dir       use this directory instead of a fresh one
 *   opts.wrap      ('cgi') the wrapper, default authgateWrapPath()
 *   opts.wrapEnv   ('cgi') extra environment for authgate-wrap (object;
 *                  default {AUTHGATE_TEST_MODE: '1'})
 * App: { url, port, dir, confPath, errorLog, accessLog, lighttpd, fcgi,
 *        errorLogText(), stop() }
 */
export async function startApp(opts = {}) {
	const mode = opts.mode || 'bin-path';
	const host = opts.host || '127.0.0.1';
	const port = opts.port || await freePort(host);
	const dir = opts.dir || runDir(opts.name || `app-${mode}`);
	const bin = authgateFcgiPath();
	if (!fs.existsSync(bin))
		throw new Error(`${bin} does not exist: run make first`);
	const wrap = opts.wrap || authgateWrapPath();
	if (mode === 'cgi' && !fs.existsSync(wrap))
		throw new Error(`${wrap} does not exist: run make first`);
	const wrapEnv = opts.wrapEnv || { AUTHGATE_TEST_MODE: '1' };

	const confPath = path.join(dir, 'authgate.conf');
	if (opts.confText !== undefined)
		fs.writeFileSync(confPath, opts.confText, { mode: 0o600 });
	else
		writeConf(confPath, opts.conf || {});

	const env = { AUTHGATE_TEST_MODE: '1', ...(opts.env || {}) };
	const sock = path.join(dir, 'authgate.sock');
	const errorLog = path.join(dir, 'lighttpd-error.log');
	const accessLog = path.join(dir, 'lighttpd-access.log');
	const vars = {
		BIND: host,
		PORT: String(port),
		DOCROOT: quote(opts.docroot || path.join(REPO, 'www')),
		ERRORLOG: quote(errorLog),
		ACCESSLOG: quote(accessLog),
		RUNDIR: quote(dir),
		AUTHGATE_FCGI: quote(bin),
		AUTHGATE_CONFIG: quote(confPath),
		SOCKET: quote(sock),
		BIN_ENV: Object.entries(env)
		    .filter(([k]) => k !== 'AUTHGATE_CONFIG')
		    .map(([k, v]) => `,\n\t\t\t"${quote(k)}" => "${quote(v)}"`).join(''),
		AUTHGATE_WRAP: quote(wrap),
		MAX_PROCS: String(opts.maxProcs ?? 1),
		WRAP_ENV: Object.entries(wrapEnv)
		    .filter(([k]) => k !== 'AUTHGATE_CONFIG')
		    .map(([k, v]) => `,\n\t"${quote(k)}" => "${quote(v)}"`).join(''),
	};
	const lconf = path.join(dir, 'lighttpd.conf');
	fs.writeFileSync(lconf, fillTemplate(fs.readFileSync(TEMPLATES[mode], 'utf8'), vars));
	fs.writeFileSync(errorLog, '');

	let fcgi = null;
	if (SPAWNED.has(mode)) {
		fcgi = await start('spawn-fcgi', ['-n', '-s', sock, '--', bin], {
			name: 'spawn-fcgi+authgate-fcgi',
			env: { ...process.env, ...env, AUTHGATE_CONFIG: confPath },
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
	} else if (!(mode in TEMPLATES)) {
		throw new Error(`unknown mode ${mode}`);
	}

	let lighttpd;
	try {
		lighttpd = await start('lighttpd', ['-D', '-f', lconf], {
			name: 'lighttpd',
			port,
			timeoutMs: opts.timeoutMs ?? 15000,
			logFile: path.join(dir, 'lighttpd.out'),
		});
	} catch (e) {
		if (fcgi)
			await fcgi.stop();
		const log = fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '';
		throw new Error(`${e.message}\n--- ${errorLog} ---\n${log}`);
	}

	const app = {
		url: `http://${host}:${port}`,
		host, port, dir, confPath, errorLog, accessLog, lighttpd, fcgi, mode,
		server: 'lighttpd',
		errorLogText: () => fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '',
		// The pids of authgate-fcgi processes under this lighttpd (bin-path)
		// or spawn-fcgi (whose -n exec's the program itself).
		fcgiPids: () => fcgiPids(bin, dir),
		async stop() {
			await lighttpd.stop();
			if (fcgi)
				await fcgi.stop();
		},
		alive: async () => lighttpd.alive() && await canConnect(port, host),
	};
	return app;
}

// Processes running bin whose environment names a file in dir.
function fcgiPids(bin, dir) {
	const pids = [];
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d))
			continue;
		try {
			const exe = fs.readlinkSync(`/proc/${d}/exe`);
			if (exe !== bin)
				continue;
			const environ = fs.readFileSync(`/proc/${d}/environ`, 'latin1');
			if (environ.includes(dir))
				pids.push(Number(d));
		} catch { /* gone or not ours */ }
	}
	return pids;
}
