// wrap.mjs -- the site that authgate-wrap's integration tests serve,
// and helpers to read what the example programs print.
//
// makeSite(dir) builds DIR/site/ (the document root) with a cgi-bin/
// holding copies of the example programs of www/cgi-bin/ (env.sh,
// env.pl, crlf.sh, redirect.sh, hello.cgi), env-c.cgi (www/cgi-bin/env.c
// compiled), and test-only programs:
//   marker.sh?m=NAME creates DIR/markers/NAME: proof that a program ran
//                    (any other query: DIR/markers/unnamed)
//   noexec.sh        the same (name "noexec"), but not executable
//   leak.sh          a symlink to DIR/outside/leak.sh, outside wrap.roots
//                    (name "leak"; prints LEAKED)
//   api/env.sh, api/marker.sh   under /cgi-bin/api/ (AUTHGATE_MODE=api)
// The copies (not the repository's www/ itself) let each run put
// test-only files next to the examples, and let Apache's user read
// them when the tests run as root (DIR is made world-readable).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { REPO } from './procs.mjs';
import { authgateWrapPath } from './lighttpd.mjs';

export const EXAMPLES = ['env.sh', 'env.pl', 'crlf.sh', 'redirect.sh', 'hello.cgi'];

// The wrapper, or an error that says what to do.
export function requireWrap() {
	const w = authgateWrapPath();
	if (!fs.existsSync(w))
		throw new Error(`${path.relative(REPO, w) || w} does not exist: run make first`);
	return w;
}

// $BUILD/www/env-c.cgi when make built it, else compiled into dir.
export function envCProgram(dir) {
	const build = process.env.BUILD || 'build';
	const built = path.resolve(REPO, build, 'www', 'env-c.cgi');
	if (fs.existsSync(built))
		return built;
	const out = path.join(dir, 'env-c.cgi');
	execFileSync('gcc', ['-std=c11', '-D_DEFAULT_SOURCE', '-D_POSIX_C_SOURCE=200809L',
	    '-Wall', '-Wextra', '-Werror', '-O2', '-o', out,
	    path.join(REPO, 'www', 'cgi-bin', 'env.c')], { stdio: 'pipe' });
	return out;
}

function markerScript(markers, fixed, extra = '') {
	const name = fixed ? `name=${fixed}` :
	    'q=${QUERY_STRING#m=}\n' +
	    'case $q in \'\'|*[!A-Za-z0-9-]*) name=unnamed ;; *) name=$q ;; esac';
	return '#!/bin/sh\n' +
	    '# test only: proves that the program ran, by creating a file\n' +
	    `${name}\n` +
	    `: > '${markers}/'"$name"\n` +
	    `printf 'Content-Type: text/plain\\n\\n${extra}MARKED %s\\n' "$name"\n`;
}

/*
 * makeSite(dir, {apacheUser}) -> Site
 *   apacheUser  {uid, gid} to own DIR/markers/ (Apache's CGI user)
 * Site: { docroot, cgiDir, markers, outside, marked(name), wrapDir }
 */
// Copy the site's marker.sh into cgi-bin/admin/ (the examples name
// AUTHGATE_RULE=admins there).
export function addAdminDir(site) {
	const admin = path.join(site.cgiDir, 'admin');
	fs.mkdirSync(admin, { recursive: true, mode: 0o755 });
	fs.copyFileSync(path.join(site.cgiDir, 'marker.sh'), path.join(admin, 'marker.sh'));
	fs.chmodSync(path.join(admin, 'marker.sh'), 0o755);
}

export function makeSite(dir, opts = {}) {
	const docroot = path.join(dir, 'site');
	const cgiDir = path.join(docroot, 'cgi-bin');
	const apiDir = path.join(cgiDir, 'api');
	const markers = path.join(dir, 'markers');
	const outside = path.join(dir, 'outside');
	for (const d of [docroot, cgiDir, apiDir, markers, outside])
		fs.mkdirSync(d, { recursive: true, mode: 0o755 });
	fs.chmodSync(dir, 0o755);
	fs.chmodSync(markers, 0o777);
	if (opts.apacheUser && process.getuid() === 0)
		fs.chownSync(markers, opts.apacheUser.uid, opts.apacheUser.gid);

	fs.writeFileSync(path.join(docroot, 'index.html'),
	    '<!DOCTYPE html><title>authgate-wrap tests</title><p>index</p>\n', { mode: 0o644 });
	fs.writeFileSync(path.join(docroot, 'somewhere'), 'somewhere\n', { mode: 0o644 });
	for (const f of EXAMPLES)
		fs.copyFileSync(path.join(REPO, 'www', 'cgi-bin', f), path.join(cgiDir, f));
	for (const f of EXAMPLES)
		fs.chmodSync(path.join(cgiDir, f), 0o755);
	fs.copyFileSync(envCProgram(dir), path.join(cgiDir, 'env-c.cgi'));
	fs.chmodSync(path.join(cgiDir, 'env-c.cgi'), 0o755);
	fs.copyFileSync(path.join(cgiDir, 'env.sh'), path.join(apiDir, 'env.sh'));
	fs.chmodSync(path.join(apiDir, 'env.sh'), 0o755);

	fs.writeFileSync(path.join(cgiDir, 'marker.sh'), markerScript(markers), { mode: 0o755 });
	fs.writeFileSync(path.join(apiDir, 'marker.sh'), markerScript(markers), { mode: 0o755 });
	fs.writeFileSync(path.join(cgiDir, 'noexec.sh'), markerScript(markers, 'noexec'), { mode: 0o644 });
	fs.chmodSync(path.join(cgiDir, 'noexec.sh'), 0o644);
	fs.writeFileSync(path.join(outside, 'leak.sh'), markerScript(markers, 'leak', 'LEAKED '), { mode: 0o755 });
	fs.symlinkSync(path.join(outside, 'leak.sh'), path.join(cgiDir, 'leak.sh'));

	return {
		dir, docroot, cgiDir, markers, outside,
		// True when marker NAME was created (the program ran).
		marked: (name) => fs.existsSync(path.join(markers, name)),
	};
}

/*
 * What env.sh / env.pl / env-c.cgi printed:
 *   { lines: [...], vars: Map NAME -> value (first wins), names: Set of
 *     the VARIABLES= list, stdin: the STDIN= value or null }
 */
export function parseEnvOutput(text) {
	const lines = text.split('\n');
	if (lines.length && lines[lines.length - 1] === '')
		lines.pop();
	const vars = new Map();
	let names = new Set();
	let stdin = null;
	for (const l of lines) {
		const i = l.indexOf('=');
		if (i <= 0)
			continue;
		const k = l.slice(0, i);
		const v = l.slice(i + 1);
		if (k === 'VARIABLES')
			names = new Set(v.split(' ').filter(Boolean));
		else if (k === 'STDIN' && stdin === null)
			stdin = v;
		else if (!vars.has(k))
			vars.set(k, v);
	}
	return { lines, vars, names, stdin };
}

// A random marker name.
export function markerName(tag = 'm') {
	return `${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/*
 * One HTTP/1.1 request with exactly the headers given, by node:http.
 * (fetch() always sends "Sec-Fetch-Mode: cors", whatever the caller
 * sets, so no fetch() request is ever a navigation.)
 *   httpRequest(url, {method, headers, body, jar})
 * -> {status, headers (a fetch Headers), rawHeaders (node's flat list), location (absolute), rawLocation, setCookies, body
 *     (Buffer), text}
 * A navigation: headers {accept: 'text/html,...', 'sec-fetch-mode': 'navigate'}.
 */
export function httpRequest(url, opts = {}) {
	const u = new URL(url);
	const headers = { ...(opts.headers || {}) };
	for (const k of Object.keys(headers))
		if (headers[k] === null || headers[k] === undefined)
			delete headers[k];
	if (opts.jar) {
		const c = opts.jar.header(url);
		if (c)
			headers.cookie = c;
	}
	const body = opts.body === undefined ? null : Buffer.from(opts.body);
	if (body)
		headers['content-length'] = String(body.length);
	return new Promise((resolve, reject) => {
		const req = http.request({
			host: u.hostname, port: u.port, path: u.pathname + u.search,
			method: opts.method || (body ? 'POST' : 'GET'), headers,
			timeout: opts.timeoutMs ?? 15000,
		}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const b = Buffer.concat(chunks);
				const loc = res.headers.location ?? null;
				const setCookies = res.headers['set-cookie'] || [];
				if (opts.jar)
					for (const c of setCookies)
						opts.jar.setCookie(url, c);
				const h = new Headers();
				for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
					h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
				resolve({
					status: res.statusCode, headers: h,
					rawHeaders: res.rawHeaders, setCookies,
					location: loc ? new URL(loc, url).href : null,
					rawLocation: loc, body: b, text: b.toString('utf8'),
				});
			});
			res.on('error', reject);
		});
		req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
		req.on('error', reject);
		if (body)
			req.write(body);
		req.end();
	});
}

// What a browser sends for a navigation.
export const NAVIGATION = {
	accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
	'sec-fetch-mode': 'navigate',
	'user-agent': 'authgate-tests/1 (scripted)',
};
