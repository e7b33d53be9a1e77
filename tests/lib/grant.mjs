// Helpers of the CLI grant tests (ciba.test.mjs, exchange.test.mjs):
// the test provider with CIBA and token exchange on, an authgate.conf
// for it, and the CLI run asynchronously (the provider's hooks must be
// callable while a command waits).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { writeConf } from './lighttpd.mjs';
import { runDir } from './procs.mjs';
import { baseConf, startIdp } from './stack.mjs';
import { CLI } from './api.mjs';

/*
 * startGrantIdp(opts) -> Promise<{idp, base, confPath, cli(args, opts),
 *   post(path), get(path), stop()}>
 *   opts.env: IDP_* variables (default: CIBA with a 1 s interval and
 *   token exchange), opts.name: the run directory's label.
 */
export async function startGrantIdp(opts = {}) {
	const idp = await startIdp({
		env: opts.env ?? {
			IDP_CIBA: '1', IDP_CIBA_INTERVAL: '1', IDP_TOKEN_EXCHANGE: '1',
		},
	});
	const dir = runDir(opts.name || 'grant');
	const confPath = writeConf(path.join(dir, 'authgate.conf'),
	    baseConf('http://127.0.0.1:9', idp.issuer));
	const base = idp.base;
	return {
		idp, base, confPath,
		cli: (args, copts) => runCli(confPath, args, copts),
		post: async (p) => (await fetch(`${base}${p}`, { method: 'POST' })).json(),
		get: async (p) => (await fetch(`${base}${p}`)).json(),
		stop: () => idp.stop(),
	};
}

/*
 * `authgate -c CONF ARGS...` -> Promise<{rc, stdout, stderr, ms}>;
 * opts.stdin: text written to its standard input.
 */
export function runCli(confPath, args, opts = {}) {
	const t0 = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(CLI, ['-c', confPath, ...args], {
			stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
		});
		let stdout = '', stderr = '';
		child.stdout.on('data', (d) => { stdout += d; });
		child.stderr.on('data', (d) => { stderr += d; });
		child.on('error', reject);
		child.on('close', (rc) => resolve({ rc, stdout, stderr, ms: Date.now() - t0 }));
		if (opts.stdin !== undefined) {
			// A command that exits before reading closes the pipe.
			child.stdin.on('error', () => {});
			child.stdin.end(opts.stdin);
		}
	});
}

// Poll fn() every 100 ms until it returns truthy (at most ms).
export async function waitFor(fn, ms = 15000, what = 'condition') {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}
