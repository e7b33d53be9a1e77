// OpenID Connect Back-Channel Logout 1.0: POST /auth/backchannel-logout
// (fcgi/h-backchannel.c), end to end with oidc-provider sending the
// logout tokens itself (its /test/backchannel-logout helper), in both
// session stores: sqlite deletes the rows, cookie records the logout
// in session.db so that every later read of the cookie refuses it --
// /auth/profile answers 401 and a wrapped program (env.sh) is not run
// (307 to the login).
//
// The provider's backchannel_logout_uri points at a small relay in this
// process that keeps a copy of every logout token and forwards it to
// authgate unchanged, so a replay can be tried.  Hostile tokens are
// signed with the provider's own key (its /test/sign helper), so they
// pass the signature check and meet the claim rules.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { startWrapStack } from '../lib/stack.mjs';
import { freePort, runDir } from '../lib/procs.mjs';
import { login } from '../lib/client.mjs';
import { httpRequest, NAVIGATION } from '../lib/wrap.mjs';
import { cli } from '../lib/api.mjs';

const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const FORM = 'application/x-www-form-urlencoded';

// The relay: every POST body is kept, then forwarded to target().
async function startRelay(target) {
	const seen = [];
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			const body = Buffer.concat(chunks).toString('utf8');
			const token = new URLSearchParams(body).get('logout_token');
			try {
				const r = await fetch(target(), {
					method: 'POST', body,
					headers: { 'content-type': req.headers['content-type'] || '' },
				});
				seen.push({ token, status: r.status, text: await r.text() });
				res.writeHead(r.status);
			} catch (e) {
				seen.push({ token, status: 0, text: e.message });
				res.writeHead(502);
			}
			res.end();
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		seen, url: `http://127.0.0.1:${server.address().port}/bcl`,
		stop: () => new Promise((resolve) => server.close(resolve)),
	};
}

function b64(o) {
	return Buffer.from(JSON.stringify(o)).toString('base64url');
}

for (const store of ['cookie', 'sqlite']) {
	describe(`back-channel logout, session.store = ${store}`, () => {
		let s, relay, db;
		const url = (p) => `${s.appUrl}${p}`;
		const bcl = (body, ctype = FORM) => fetch(url('/auth/backchannel-logout'), {
			method: 'POST', body,
			headers: ctype ? { 'content-type': ctype } : {},
		});

		before(async () => {
			const appPort = await freePort();
			relay = await startRelay(() => `http://127.0.0.1:${appPort}/auth/backchannel-logout`);
			db = path.join(runDir(`bcl-db-${store}`), 'sessions.db');
			s = await startWrapStack({
				name: `backchannel-${store}`, appPort,
				idpEnv: { IDP_BACKCHANNEL_LOGOUT_URI: relay.url },
				conf: {
					'session.store': store, 'session.db': db,
					'claims.keep': 'sub name email sid',
				},
			});
			cli(s.app.confPath, 'migrate');
		});

		after(async () => {
			await s?.stop();
			await relay?.stop();
		});

		// The provider sends a logout token; the relay's record of it.
		async function providerLogout(sub, sid) {
			const q = new URLSearchParams({ sub });
			if (sid)
				q.set('sid', sid);
			const n = relay.seen.length;
			const r = await fetch(`${s.idp.base}/test/backchannel-logout?${q}`, { method: 'POST' });
			const j = await r.json();
			assert.equal(relay.seen.length, n + 1, `one token sent: ${JSON.stringify(j)}\n${s.idp.proc.output?.() ?? ''}`);
			const sent = relay.seen[n];
			assert.equal(j['authgate-test'], 'ok', `${JSON.stringify(j)} ${sent.text}\n${s.app.errorLogText()}`);
			assert.equal(sent.status, 204);
			return sent;
		}

		async function signed(payload, header = {}) {
			const q = new URLSearchParams({ payload: JSON.stringify(payload), header: JSON.stringify(header) });
			const r = await fetch(`${s.idp.base}/test/sign?${q}`, { method: 'POST' });
			assert.equal(r.status, 200);
			return r.text();
		}

		function claims(extra = {}) {
			const now = Math.floor(Date.now() / 1000);
			return {
				iss: s.issuer, aud: 'authgate-test', iat: now, exp: now + 120,
				jti: `t-${Math.random().toString(36).slice(2)}`, sub: 'nobody',
				events: { [EVENT]: {} }, ...extra,
			};
		}

		async function profile(b) {
			return b.request(url('/auth/profile'), { headers: API });
		}

		async function wrapped(b) {
			return httpRequest(url('/cgi-bin/env.sh'), { jar: b.jar, headers: NAVIGATION });
		}

		test('the provider\'s logout token for alice\'s sid ends that session only', async () => {
			const a1 = (await login(s.appUrl, 'alice')).browser;
			const a2 = (await login(s.appUrl, 'alice')).browser;
			const p = await profile(a1);
			assert.equal(p.status, 200, p.text);
			const sid = p.json().sid;
			assert.equal(typeof sid, 'string', `alice's ID token carries a sid: ${p.text}`);
			assert.equal((await wrapped(a1)).status, 200);
			const sid2 = (await profile(a2)).json().sid;

			const sent = await providerLogout('alice', sid);
			const r = await profile(a1);
			assert.equal(r.status, 401, r.text);
			const w = await wrapped(a1);
			assert.equal(w.status, 307, `the wrapped program is not run: ${w.status} ${w.text}`);
			if (sid2 !== sid)
				assert.equal((await profile(a2)).status, 200, 'another session of alice lives on');

			// The very same token again: a replay.
			const again = await bcl(new URLSearchParams({ logout_token: sent.token }).toString());
			assert.equal(again.status, 400);
			assert.match(await again.text(), /replay/);
		});

		test('a sub-only logout token ends every session of that user', async () => {
			const b1 = (await login(s.appUrl, 'bob')).browser;
			const b2 = (await login(s.appUrl, 'bob')).browser;
			const c = (await login(s.appUrl, 'carol')).browser;
			assert.equal((await profile(b1)).status, 200);
			assert.equal((await profile(b2)).status, 200);
			await providerLogout('bob');
			assert.equal((await profile(b1)).status, 401);
			assert.equal((await profile(b2)).status, 401);
			assert.equal((await wrapped(b2)).status, 307);
			assert.equal((await profile(c)).status, 200, 'carol is not affected');
			// A login after the logout (a later second) is not affected.
			await new Promise((r) => setTimeout(r, 1100));
			const b3 = (await login(s.appUrl, 'bob')).browser;
			assert.equal((await profile(b3)).status, 200, 'a login after the logout');
		});

		test('a valid hand-signed token is accepted (204, no-store)', async () => {
			const r = await bcl(new URLSearchParams({
				logout_token: await signed(claims(), { typ: 'logout+jwt' }),
			}).toString());
			assert.equal(r.status, 204, await r.text());
			assert.equal(r.headers.get('cache-control'), 'no-store');
		});

		test('malformed requests: 400 text/plain', async () => {
			const good = await signed(claims());
			const cases = [
				['wrong content type', new URLSearchParams({ logout_token: good }).toString(), 'application/json'],
				['no content type', new URLSearchParams({ logout_token: good }).toString(), null],
				['empty body', '', FORM],
				['no logout_token', 'foo=bar', FORM],
				['empty logout_token', 'logout_token=', FORM],
				['duplicate logout_token', `logout_token=${good}&logout_token=${good}`, FORM],
				['garbage token', 'logout_token=not.a.jwt', FORM],
				['bad escape', 'logout_token=%zz', FORM],
			];
			for (const [what, body, ctype] of cases) {
				const r = await bcl(body, ctype);
				const text = await r.text();
				assert.equal(r.status, 400, `${what}: ${r.status} ${text}`);
				assert.match(r.headers.get('content-type') || '', /^text\/plain/, what);
				assert.ok(!text.includes(good.slice(0, 20)), `${what}: no token echoed`);
			}
			// Content-Type parameters are fine.
			const ok = await bcl(`logout_token=${await signed(claims())}`,
			    'application/x-www-form-urlencoded; charset=UTF-8');
			assert.equal(ok.status, 204);
			// GET is not the method.
			const g = await fetch(url('/auth/backchannel-logout'));
			assert.equal(g.status, 405);
			assert.equal(g.headers.get('allow'), 'POST');
		});

		test('a body over AG_MAX_REQUEST_BODY is refused', async () => {
			const r = await bcl(`logout_token=${'a'.repeat(70 * 1024)}`);
			assert.ok([400, 413].includes(r.status), String(r.status));
		});

		test('hostile tokens: 400 each', async () => {
			const none = `${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64(claims())}.`;
			const cases = [
				['alg none', none],
				['alg none, no dot', none.slice(0, -1)],
				['with nonce', await signed(claims({ nonce: 'n' }))],
				['without events', await signed(claims({ events: undefined }))],
				['events without the logout event', await signed(claims({ events: { x: {} } }))],
				['without jti', await signed(claims({ jti: undefined }))],
				['without iat', await signed(claims({ iat: undefined }))],
				['neither sid nor sub', await signed(claims({ sub: undefined }))],
				['expired', await signed(claims({ exp: Math.floor(Date.now() / 1000) - 600 }))],
				['issued long ago', await signed(claims({ iat: Math.floor(Date.now() / 1000) - 3600, exp: undefined }))],
				['wrong audience', await signed(claims({ aud: 'someone-else' }))],
				['wrong issuer', await signed(claims({ iss: 'https://evil.example' }))],
				['wrong typ', await signed(claims(), { typ: 'JWT' })],
				['HS256 with the client secret as key', (() => {
					const input = `${b64({ alg: 'HS256' })}.${b64(claims())}`;
					return input + '.' + Buffer.from('x').toString('base64url');
				})()],
			];
			for (const [what, token] of cases) {
				const r = await bcl(new URLSearchParams({ logout_token: token }).toString());
				const text = await r.text();
				assert.equal(r.status, 400, `${what}: ${r.status} ${text}`);
				assert.match(r.headers.get('content-type') || '', /^text\/plain/, what);
			}
		});

		test('no session database: 503', async () => {
			const saved = `${db}.away`;
			fs.renameSync(db, saved);
			for (const ext of ['-wal', '-shm'])
				fs.rmSync(`${db}${ext}`, { force: true });
			try {
				// A fresh authgate-fcgi has no connection open yet.
				await s.restart({});
				const r = await bcl(`logout_token=${await signed(claims())}`);
				assert.equal(r.status, 503, await r.text());
			} finally {
				fs.renameSync(saved, db);
			}
		});
	});
}
