// procs.mjs -- child processes for the integration tests and the demo.
//
// start() runs a program in its own process group, keeps its output,
// and resolves once a readiness line appears on stdout or stderr, or a
// TCP port accepts connections.  Every process started here is killed
// (with its whole group: lighttpd's FastCGI children too) when this
// process exits, fails, or gets SIGINT/SIGTERM.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository root, from this file's place in it (tests/lib/).
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RUN_ROOT = path.join(REPO, 'tests', '.run');

const live = new Set();

function killGroup(p, sig) {
	if (p.exitCode !== null || p.signalCode !== null)
		return;
	try {
		process.kill(-p.pid, sig);
	} catch {
		try { p.kill(sig); } catch { /* gone */ }
	}
}

function killAllSync() {
	for (const p of live)
		killGroup(p.child, 'SIGKILL');
	live.clear();
}

let hooked = false;
function hook() {
	if (hooked)
		return;
	hooked = true;
	process.on('exit', killAllSync);
	for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
		process.on(sig, () => {
			// Let a gentle stop run first where one is registered.
			if (process.listenerCount(sig) > 1)
				return;
			killAllSync();
			process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
		});
	}
	// An uncaught exception still ends in 'exit' (node's test runner
	// reports it first), so no handler of our own is needed for it.
}

export function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

// A free TCP port on host (the kernel picks it; it is closed again at
// once, so another process may in theory take it first).
// Wait up to 2 s for re to match what read() returns (a log written
// asynchronously); true when it did.
export async function logHas(read, re) {
	for (let i = 0; i < 40; i++) {
		if (re.test(read()))
			return true;
		await sleep(50);
	}
	return false;
}

export function freePort(host = '127.0.0.1') {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.unref();
		s.once('error', reject);
		s.listen(0, host, () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// True when port on host is free to listen on.
export function portFree(port, host = '127.0.0.1') {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.once('error', () => resolve(false));
		s.listen(port, host, () => s.close(() => resolve(true)));
	});
}

// One connection attempt: true when something accepts on host:port.
export function canConnect(port, host = '127.0.0.1', timeoutMs = 500) {
	return new Promise((resolve) => {
		const s = net.connect({ port, host });
		const done = (v) => { s.destroy(); resolve(v); };
		s.setTimeout(timeoutMs, () => done(false));
		s.once('connect', () => done(true));
		s.once('error', () => done(false));
	});
}

// Resolves when host:port accepts a connection; rejects after timeoutMs.
export async function waitPort(port, { host = '127.0.0.1', timeoutMs = 10000, proc } = {}) {
	const end = Date.now() + timeoutMs;
	while (Date.now() < end) {
		if (proc && !proc.alive())
			throw new Error(`${proc.name} exited (${proc.exitDescription()}) before port ${port} opened\n${proc.output()}`);
		if (await canConnect(port, host))
			return;
		await sleep(50);
	}
	throw new Error(`port ${host}:${port} did not open within ${timeoutMs} ms`);
}

// A fresh directory under tests/.run/ (kept after the run for
// post-mortems; tests/.run/ is git-ignored).
export function runDir(name = 'run') {
	fs.mkdirSync(RUN_ROOT, { recursive: true });
	const safe = name.replace(/[^A-Za-z0-9_.-]+/g, '-');
	return fs.mkdtempSync(path.join(RUN_ROOT, `${safe}-`));
}

/*
 * start(cmd, args, opts) -> Promise<Proc>
 *   opts.name      label for messages (default: basename of cmd)
 *   opts.env       environment (default: process.env), opts.cwd
 *   opts.ready     RegExp or function(line) -> truthy: wait for such a line
 *                  on stdout/stderr; the match is in proc.ready
 *   opts.port      wait until this TCP port on 127.0.0.1 accepts
 *   opts.timeoutMs readiness time limit (default 15000)
 *   opts.logFile   also append all output to this file
 *   opts.echo      copy output to our stderr (default: $TEST_VERBOSE)
 * Proc: { child, pid, name, ready, alive(), output(), stdout(), stderr(),
 *         exited (Promise of {code, signal}), stop(sig='SIGTERM', ms=3000) }
 */
export async function start(cmd, args = [], opts = {}) {
	hook();
	const name = opts.name || path.basename(cmd);
	const child = spawn(cmd, args, {
		cwd: opts.cwd,
		env: opts.env || process.env,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	const out = { stdout: '', stderr: '' };
	const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : null;
	const echo = opts.echo ?? !!process.env.TEST_VERBOSE;
	let lineWaiter = null;
	const proc = {
		child, name, ready: null,
		get pid() { return child.pid; },
		alive: () => child.exitCode === null && child.signalCode === null,
		stdout: () => out.stdout,
		stderr: () => out.stderr,
		output: () => `--- ${name} stdout ---\n${out.stdout}--- ${name} stderr ---\n${out.stderr}`,
		exitDescription: () => child.signalCode ? `signal ${child.signalCode}` : `status ${child.exitCode}`,
	};
	proc.exited = new Promise((resolve) => {
		child.once('exit', (code, signal) => {
			live.delete(proc);
			resolve({ code, signal });
		});
	});
	child.once('error', (e) => {
		out.stderr += `spawn error: ${e.message}\n`;
	});
	for (const stream of ['stdout', 'stderr']) {
		let partial = '';
		child[stream].setEncoding('utf8');
		child[stream].on('data', (chunk) => {
			out[stream] += chunk;
			if (log)
				log.write(chunk);
			if (echo)
				process.stderr.write(`[${name}] ${chunk}`);
			partial += chunk;
			let i;
			while ((i = partial.indexOf('\n')) >= 0) {
				const line = partial.slice(0, i);
				partial = partial.slice(i + 1);
				if (lineWaiter)
					lineWaiter(line);
			}
		});
	}
	proc.stop = async (sig = 'SIGTERM', ms = 3000) => {
		if (!proc.alive()) {
			live.delete(proc);
			return proc.exited;
		}
		killGroup(child, sig);
		const t = setTimeout(() => killGroup(child, 'SIGKILL'), ms);
		const r = await proc.exited;
		clearTimeout(t);
		// Anything left in the group (e.g. FastCGI children) goes too.
		try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none */ }
		return r;
	};
	live.add(proc);

	const timeoutMs = opts.timeoutMs ?? 15000;
	if (opts.ready) {
		const test = typeof opts.ready === 'function' ? opts.ready :
		    (line) => line.match(opts.ready);
		const already = (out.stdout + out.stderr).split('\n').map(test).find(Boolean);
		if (already) {
			proc.ready = already;
		} else {
			proc.ready = await new Promise((resolve, reject) => {
				const t = setTimeout(() => {
					lineWaiter = null;
					reject(new Error(`${name}: no readiness line within ${timeoutMs} ms\n${proc.output()}`));
				}, timeoutMs);
				lineWaiter = (line) => {
					const m = test(line);
					if (m) {
						clearTimeout(t);
						lineWaiter = null;
						resolve(m);
					}
				};
				proc.exited.then(() => {
					clearTimeout(t);
					if (lineWaiter) {
						lineWaiter = null;
						reject(new Error(`${name} exited (${proc.exitDescription()}) before it was ready\n${proc.output()}`));
					}
				});
			}).catch(async (e) => {
				await proc.stop('SIGKILL');
				throw e;
			});
		}
	}
	if (opts.port) {
		try {
			await waitPort(opts.port, { timeoutMs, proc });
		} catch (e) {
			await proc.stop('SIGKILL');
			throw e;
		}
	}
	return proc;
}

// Stop every process started here (in reverse order of start).
export async function stopAll() {
	const ps = [...live].reverse();
	for (const p of ps)
		await p.stop();
}
