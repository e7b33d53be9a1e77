// `authgate token` and `authgate fetch` (access tokens for scripts, the
// SDK's getAccessToken and createFetcher) end to end, with the provider
// issuing JWT access tokens for RFC 8707 resources (IDP_RESOURCES=1):
//  - from inside a wrapped shell program (the request's session, found
//    through HTTP_COOKIE), in both session stores: the token is one the
//    test API accepts; fetch hands back the API's JSON (exit 0, "HTTP
//    200" on stderr), a 401 from the API gives exit 1 and "HTTP 401";
//    method, body, extra headers and a relative URL with --base-url
//    reach the API as asked;
//  - after expiry the token is refreshed once; in cookie mode it is not
//    kept unless --set-cookie, which prints the Set-Cookie lines;
//  - `--session ID` (SQLite store, ID from `sessions list --json`), and
//    after expiry the refreshed token is written to the row;
//  - usage errors exit 2, a missing session exits 1 with one line.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { login } from '../lib/client.mjs';
import { REPO } from '../lib/procs.mjs';
import { startWrapStack } from '../lib/stack.mjs';
import { httpRequest, NAVIGATION } from '../lib/wrap.mjs';
import {
	API_AUDIENCE, CLI, cli, getAccessToken, peek, refreshCount, startApi,
	tokenConf, tokenIdpEnv, waitExpiry,
} from '../lib/api.mjs';

const TTL = 5;

/*
 * A resource server that checks the bearer token as the test API does
 * and echoes the request: {sub, method, url, headers, body}.
 */
async function startEcho(api) {
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
			let sub = null;
			try {
				sub = m ? (await api.verify(m[1])).sub : null;
			} catch { /* refused below */ }
			res.writeHead(sub ? 200 : 401, { 'content-type': 'application/json' });
			res.end(JSON.stringify({
				sub, method: req.method, url: req.url, headers: req.headers,
				body: Buffer.concat(chunks).toString('utf8'),
			}));
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		stop: () => new Promise((resolve) => {
			server.closeAllConnections?.();
			server.close(() => resolve());
		}),
	};
}

/*
 * The wrapped program: runs `authgate -c CONF ARGS...` with the
 * arguments of IO/args (one a line), its stdout and stderr into
 * IO/out and IO/err, and answers the exit status.
 */
function runnerScript(confPath, io) {
	return `#!/bin/sh
set --
while IFS= read -r a; do set -- "$@" "$a"; done < '${io}/args'
${CLI} -c '${confPath}' "$@" > '${io}/out' 2> '${io}/err'
rc=$?
printf 'Content-Type: text/plain\\n\\n%s\\n' "$rc"
`;
}

async function stackFor(store) {
	const name = `token-cli-${store}`;
	// The session database (also in cookie mode: it coordinates
	// refreshes between processes).
	fs.mkdirSync(path.join(REPO, 'tests', '.run'), { recursive: true });
	const dbDir = fs.mkdtempSync(path.join(REPO, 'tests', '.run', `${name}-db-`));
	const s = await startWrapStack({
		name,
		idpEnv: tokenIdpEnv(TTL),
		conf: tokenConf(store, path.join(dbDir, 'sessions.db')),
	});
	s.confPath = s.app.confPath;
	cli(s.confPath, 'migrate');
	s.io = path.join(s.dir, 'token-io');
	fs.mkdirSync(s.io, { recursive: true, mode: 0o777 });
	fs.chmodSync(s.io, 0o777);
	fs.writeFileSync(path.join(s.site.cgiDir, 'run.sh'), runnerScript(s.confPath, s.io),
	    { mode: 0o755 });
	s.api = await startApi({ issuer: s.issuer });
	s.echo = await startEcho(s.api);
	return s;
}

/*
 * Run the CLI inside the wrapped program for the session of jar.
 * -> {rc, out (Buffer), stdout, stderr}
 */
async function wrapped(s, jar, ...args) {
	fs.writeFileSync(path.join(s.io, 'args'), args.map((a) => `${a}\n`).join(''));
	const url = `${s.appUrl}/cgi-bin/run.sh`;
	const r = await httpRequest(url, { headers: { ...NAVIGATION, cookie: jar.header(url) } });
	assert.equal(r.status, 200, `the wrapped program ran: ${r.status} ${r.text}`);
	const out = fs.readFileSync(path.join(s.io, 'out'));
	return {
		rc: Number(r.text.trim()), out, stdout: out.toString('utf8'),
		stderr: fs.readFileSync(path.join(s.io, 'err'), 'utf8'),
	};
}

/*
 * The CLI outside any wrapper -> Promise<{rc, stdout, stderr}>.  Not
 * spawnSync: the test API lives in this process and must answer.
 */
function direct(s, args, env = {}) {
	const e = { ...process.env };
	delete e.HTTP_COOKIE;
	return new Promise((resolve) => {
		const p = spawn(CLI, ['-c', s.confPath, ...args], {
			env: { ...e, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '', stderr = '';
		p.stdout.on('data', (c) => { stdout += c; });
		p.stderr.on('data', (c) => { stderr += c; });
		p.on('close', (rc) => resolve({ rc, stdout, stderr }));
	});
}

function tokenJson(r) {
	assert.equal(r.rc, 0, `token --json: exit ${r.rc}: ${r.stderr}`);
	const b = JSON.parse(r.stdout);
	assert.equal(typeof b.token, 'string');
	assert.equal(typeof b.expires_at, 'number');
	assert.equal(typeof b.expires_in, 'number');
	assert.ok(b.expires_in >= 0 && b.expires_in <= TTL + 1, `expires_in ${b.expires_in}`);
	return b;
}

async function accepted(s, token) {
	const r = await s.api.call(token, { audience: API_AUDIENCE });
	assert.equal(r.status, 200, `the API refused the token: ${JSON.stringify(r.body)} ` +
	    `claims ${JSON.stringify(peek(token))}`);
	return r.body;
}

for (const store of ['cookie', 'sqlite']) {
	describe(`session.store = ${store}`, () => {
		let s;

		before(async () => {
			s = await stackFor(store);
		});

		after(async () => {
			await s?.echo?.stop();
			await s?.api?.stop();
			await s?.stop();
		});

		test('token --json and fetch from a wrapped program', async () => {
			const { jar } = await login(s.appUrl, 'alice');
			const b = tokenJson(await wrapped(s, jar, 'token', '--json'));
			assert.equal((await accepted(s, b.token)).sub, 'alice');
			const plain = await wrapped(s, jar, 'token');
			assert.equal(plain.rc, 0, plain.stderr);
			assert.equal(plain.stdout, `${b.token}\n`, 'the bare token and a newline');

			const f = await wrapped(s, jar, 'fetch', `${s.api.url}/resource`);
			assert.equal(f.rc, 0, f.stderr);
			assert.equal(f.stderr, 'HTTP 200\n');
			const got = JSON.parse(f.stdout);
			assert.equal(got.sub, 'alice');
			assert.equal(got.aud, API_AUDIENCE);

			// The API refuses a token for another audience: 401, exit 1.
			const no = await wrapped(s, jar, 'fetch',
			    `${s.api.url}/resource?aud=https://other.example.test/`);
			assert.equal(no.rc, 1);
			assert.match(no.stderr, /^HTTP 401$/m);
			assert.equal(JSON.parse(no.stdout).error, 'invalid_token', 'the body still printed');
		});

		test('fetch: method, body, headers and a relative URL reach the API', async () => {
			const { jar } = await login(s.appUrl, 'bob');
			const f = await wrapped(s, jar, 'fetch', '--method', 'PUT',
			    '--data', '{"a":1}', '--header', 'X-Test: yes',
			    '--base-url', `${s.echo.url}/v1/items/`, '../things?q=1');
			assert.equal(f.rc, 0, f.stdout + f.stderr);
			const e = JSON.parse(f.stdout);
			assert.equal(e.sub, 'bob');
			assert.equal(e.method, 'PUT');
			assert.equal(e.url, '/v1/things?q=1');
			assert.equal(e.headers['x-test'], 'yes');
			assert.equal(e.headers['content-type'], 'application/json');
			assert.equal(e.body, '{"a":1}');

			const d = await wrapped(s, jar, 'fetch', '--method', 'DELETE',
			    '--header', 'Accept: text/plain', `${s.echo.url}/x/1`);
			assert.equal(d.rc, 0, d.stderr);
			const de = JSON.parse(d.stdout);
			assert.equal(de.method, 'DELETE');
			assert.equal(de.headers.accept, 'text/plain');
			assert.equal(de.body, '');
		});

		test('after expiry: refreshed once; the cookie session kept only with --set-cookie', async () => {
			const t0 = Date.now();
			const { jar } = await login(s.appUrl, 'carol');
			const first = tokenJson(await wrapped(s, jar, 'token', '--json'));
			await waitExpiry(t0, TTL);
			await s.idp.resetStats();
			const r = await wrapped(s, jar, 'token', '--json');
			const b = tokenJson(r);
			assert.notEqual(b.token, first.token, 'a new token');
			await accepted(s, b.token);
			assert.equal(await refreshCount(s.idp), 1, 'one refresh_token grant');
			assert.doesNotMatch(r.stdout, /Set-Cookie/);

			// The same session again: the coordinated outcome, no new
			// refresh; --set-cookie prints the cookie lines first.
			const c = await wrapped(s, jar, 'token', '--set-cookie');
			assert.equal(c.rc, 0, c.stderr);
			const lines = c.stdout.split('\n').filter((l) => l !== '');
			assert.equal(lines.at(-1), b.token, 'the token is the last line');
			if (store === 'cookie')
				assert.ok(lines.slice(0, -1).some((l) => /^Set-Cookie: __session(__0)?=/.test(l)),
				    `Set-Cookie lines: ${c.stdout}`);
			else
				assert.equal(lines.length, 1, 'sqlite: the row was written, nothing to set');
			assert.ok(lines.slice(0, -1).every((l) => l.startsWith('Set-Cookie: ') && l.endsWith('\r')));
			assert.equal(await refreshCount(s.idp), 1, 'no second refresh');
		});

		test('usage errors exit 2; no session exits 1 with one line', async () => {
			for (const args of [
				['fetch'],
				['fetch', '/resource'],
				['fetch', '--header', 'no colon', `${s.api.url}/resource`],
				['fetch', '--header', 'Authorization: Bearer x', `${s.api.url}/resource`],
				['fetch', '--header', 'X-A: b\r\nX-C: d', `${s.api.url}/resource`],
				['fetch', '--method', 'TRACE', `${s.api.url}/resource`],
				['fetch', '--data', 'x', '--method', 'GET', `${s.api.url}/resource`],
				['fetch', 'a', 'b'],
				['token', 'extra'],
				['token', '--bogus'],
				['token', '--session', 'not-an-id'],
			]) {
				const r = await direct(s, args);
				assert.equal(r.rc, 2, `${args.join(' ')}: exit ${r.rc} ${r.stderr}`);
				assert.equal(r.stdout, '');
			}
			const r = await direct(s, ['token']);
			assert.equal(r.rc, 1, r.stderr);
			assert.match(r.stderr, /^authgate: token: missing_session: .+\n$/);
			const g = await direct(s, ['token'], { HTTP_COOKIE: '__session=garbage' });
			assert.equal(g.rc, 1, g.stderr);
			assert.match(g.stderr, /^authgate: token: missing_session: no valid session/);
			const hits = s.api.hits;
			const f = await direct(s, ['fetch', `${s.api.url}/resource`]);
			assert.equal(f.rc, 1);
			assert.match(f.stderr, /^authgate: fetch: missing_session: /);
			assert.equal(s.api.hits, hits, 'nothing sent');
		});
	});
}

describe('--session ID (SQLite store)', () => {
	let s;

	before(async () => {
		s = await stackFor('sqlite');
	});

	after(async () => {
		await s?.echo?.stop();
		await s?.api?.stop();
		await s?.stop();
	});

	function sessionId(sub) {
		const rows = JSON.parse(cli(s.confPath, 'sessions', 'list', '--json', '--sub', sub));
		assert.equal(rows.length, 1, JSON.stringify(rows));
		return rows[0].id;
	}

	test('token and fetch for a session named by id', async () => {
		await login(s.appUrl, 'dave');
		const id = sessionId('dave');
		const b = tokenJson(await direct(s, ['token', '--session', id, '--json']));
		assert.equal((await accepted(s, b.token)).sub, 'dave');
		const f = await direct(s, ['fetch', '--session', id, `${s.api.url}/resource`]);
		assert.equal(f.rc, 0, f.stderr);
		assert.equal(JSON.parse(f.stdout).sub, 'dave');
		const gone = await direct(s, ['token', '--session', '0'.repeat(32)]);
		assert.equal(gone.rc, 1);
		assert.match(gone.stderr, /^authgate: token: missing_session: /);
		assert.equal((await direct(s, ['token', '--session', id, '--set-cookie'])).rc, 2);
	});

	test('after expiry: one refresh, the row holds the new token', async () => {
		const t0 = Date.now();
		const { browser } = await login(s.appUrl, 'erin');
		const id = sessionId('erin');
		const first = tokenJson(await direct(s, ['token', '--session', id, '--json']));
		await waitExpiry(t0, TTL);
		await s.idp.resetStats();
		const b = tokenJson(await direct(s, ['token', '--session', id, '--json']));
		assert.notEqual(b.token, first.token);
		await accepted(s, b.token);
		assert.equal(await refreshCount(s.idp), 1, 'one refresh_token grant');
		const again = tokenJson(await direct(s, ['token', '--session', id, '--json']));
		assert.equal(again.token, b.token);
		assert.equal(await refreshCount(s.idp), 1, 'no second refresh');
		// The browser's session is that row: the route serves the new
		// token as stored, with nothing to write back.
		const r = await getAccessToken(browser, s.appUrl);
		assert.equal(r.status, 200, r.text);
		assert.equal(r.body.token, b.token);
		assert.ok(!r.setCookies.some((c) => c.startsWith('__session')),
		    `the session was already up to date: ${JSON.stringify(r.setCookies)}`);
		assert.equal(await refreshCount(s.idp), 1);
	});
});
