// Concurrent refreshes are coalesced (lib/token.h): with rotating
// refresh tokens and reuse detection at the provider, two requests that
// both spend the same refresh token get the whole grant revoked -- the
// SDK's known failure (reference 8.3, 18).  authgate makes one call to
// the token endpoint for any number of parallel requests carrying the
// same expired session, across several authgate-fcgi processes and
// across authgate-wrap processes, in both session modes.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, CookieJar, login } from '../lib/client.mjs';
import { startIdp, startWrapStack } from '../lib/stack.mjs';
import { httpRequest, parseEnvOutput, NAVIGATION } from '../lib/wrap.mjs';
import { runDir } from '../lib/procs.mjs';
import path from 'node:path';
import {
	API_AUDIENCE, getAccessToken, peek, providerLogin, refreshCount,
	requireAccessTokenRoute, startApi, startTokenStack, tokenConf,
	tokenEndpoint, tokenIdpEnv, tokenRequest, waitExpiry, cli,
} from '../lib/api.mjs';

const TTL = 5;
const BURST = 20;
const WRAP_BURST = 10;
const PROCS = 4;
// The provider's token endpoint answers this much later: every request
// of a burst arrives while the one refresh is still on its way.
const TOKEN_DELAY_MS = 400;

// The provider's refresh accounting after a burst: exactly one grant,
// no rotated token presented again, nothing revoked.
async function exactlyOneRefresh(idp) {
	const st = await idp.stats();
	assert.equal(st.token.refresh_token || 0, 1,
	    `exactly one refresh_token grant (stats: ${JSON.stringify(st.token)})`);
	assert.equal(st.token.reused, 0, 'no reuse of a rotated refresh token');
	assert.equal(st.grants_revoked, 0, 'no grant revoked');
}

describe('the provider (the danger the coalescing avoids)', () => {
	let idp, api;

	before(async () => {
		idp = await startIdp({
			env: tokenIdpEnv(TTL),
			redirectUris: ['http://127.0.0.1:9/callback'],
		});
		api = await startApi({ issuer: idp.issuer });
	});

	after(async () => {
		await api?.stop();
		await idp?.stop();
	});

	test('a rotated refresh token presented again revokes the whole grant', async () => {
		const client = {
			clientId: 'authgate-test', clientSecret: 'authgate-test-secret-0123456789',
			redirectUri: 'http://127.0.0.1:9/callback',
		};
		const t = await providerLogin(idp.issuer, {
			...client, resource: API_AUDIENCE, scope: 'openid offline_access read', user: 'victim',
		});
		assert.equal(t.status, 200, JSON.stringify(t.body));
		assert.equal((await api.call(t.body.access_token)).status, 200);
		const te = await tokenEndpoint(idp.issuer);
		const r1 = await tokenRequest(te, client, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token });
		assert.equal(r1.status, 200, JSON.stringify(r1.body));
		assert.notEqual(r1.body.refresh_token, t.body.refresh_token, 'rotated');
		// A second, "parallel" refresh with the same (now rotated) token.
		const r2 = await tokenRequest(te, client, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token });
		assert.equal(r2.status, 400);
		assert.equal(r2.body.error, 'invalid_grant');
		// ... and the winner's new refresh token is dead too.
		const r3 = await tokenRequest(te, client, { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token });
		assert.equal(r3.status, 400, 'the grant was revoked');
		const st = await idp.stats();
		assert.equal(st.token.reused, 1);
		assert.equal(st.grants_revoked, 1);
	});
});

for (const store of ['cookie', 'sqlite']) {
	describe(`burst, session.store = ${store}, ${PROCS} authgate-fcgi processes`, () => {
		let s;

		before(async () => {
			s = await startTokenStack({
				store, ttl: TTL, maxProcs: PROCS, name: `burst-${store}`,
				idpEnv: { IDP_TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) },
			});
			await requireAccessTokenRoute(s.appUrl);
		});

		after(async () => {
			await s?.stop();
		});

		test(`${PROCS} authgate-fcgi processes serve the site`, async () => {
			// lighttpd starts them all (bin-path); give them a moment.
			let pids = [];
			for (let i = 0; i < 40 && pids.length < PROCS; i++) {
				pids = s.app.fcgiPids();
				if (pids.length < PROCS)
					await new Promise((r) => setTimeout(r, 100));
			}
			assert.ok(pids.length >= 2, `several processes (${pids.length}: ${pids})`);
		});

		test(`${BURST} parallel requests with the same expired session: all 200, one refresh`, async () => {
			const t0 = Date.now();
			const { browser } = await login(s.appUrl, 'alice');
			const old = await getAccessToken(browser, s.appUrl);
			assert.equal(old.status, 200, old.text);
			const cookie = browser.jar.header(s.appUrl);
			await waitExpiry(t0, TTL);
			await s.idp.resetStats();

			const all = await Promise.all(Array.from({ length: BURST }, () =>
			    getAccessToken(null, s.appUrl, {}, { cookie })));
			const bad = all.filter((r) => r.status !== 200);
			assert.equal(bad.length, 0, `every answer 200; others: ${bad.map((r) => `${r.status} ${r.text}`).join(' | ')}`);
			const tokens = all.map((r) => r.body.token);
			for (const t of tokens) {
				assert.notEqual(t, old.body.token, 'not the expired token');
				const v = await s.api.call(t, { audience: API_AUDIENCE });
				assert.equal(v.status, 200, `API: ${JSON.stringify(v.body)} claims ${JSON.stringify(peek(t))}`);
				assert.equal(v.body.sub, 'alice');
			}
			assert.equal(new Set(tokens).size, 1,
			    'the waiters got the one refreshed token');
			await exactlyOneRefresh(s.idp);

			// The grant is alive: with the newest cookie, one more refresh.
			const jar = new CookieJar();
			for (const part of cookie.split('; ')) {
				const i = part.indexOf('=');
				jar.set(s.appUrl, part.slice(0, i), part.slice(i + 1));
			}
			for (const r of all)
				for (const h of r.setCookies)
					jar.setCookie(s.appUrl, h);
			const b2 = new Browser({ jar });
			const again = await getAccessToken(b2, s.appUrl, { refresh: 'true' });
			assert.equal(again.status, 200, again.text);
			assert.notEqual(again.body.token, tokens[0]);
			assert.equal((await s.api.call(again.body.token)).status, 200);
			const st = await s.idp.stats();
			assert.equal(st.token.refresh_token, 2, JSON.stringify(st.token));
			assert.equal(st.token.reused, 0);
			assert.equal(st.grants_revoked, 0);
			assert.doesNotMatch(s.app.errorLogText(), /database is locked/);
		});

		test('the old cookie a while later (cookie mode: the stale refresh token) does not revoke the grant', async () => {
			// After the burst, a browser that missed every Set-Cookie
			// still presents the first cookie: in cookie mode it holds
			// the spent refresh token.  authgate reuses the coalesced
			// result (about 30 s) instead of spending it again.
			const t0 = Date.now();
			const { browser } = await login(s.appUrl, 'bob');
			const cookie = browser.jar.header(s.appUrl);
			await waitExpiry(t0, TTL);
			await s.idp.resetStats();
			const a = await getAccessToken(null, s.appUrl, {}, { cookie });
			assert.equal(a.status, 200, a.text);
			const b = await getAccessToken(null, s.appUrl, {}, { cookie });
			assert.equal(b.status, 200, b.text);
			assert.equal((await s.api.call(b.body.token)).status, 200);
			await exactlyOneRefresh(s.idp);
		});
	});
}

for (const store of ['cookie', 'sqlite']) {
	describe(`authgate-wrap with wrap.pass_access_token, session.store = ${store}`, () => {
		let s, api;

		before(async () => {
			const dir = runDir(`wrap-tokens-${store}-db`);
			s = await startWrapStack({
				name: `wrap-tokens-${store}`,
				idpEnv: tokenIdpEnv(TTL, { IDP_TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) }),
				conf: {
					...tokenConf(store, path.join(dir, 'sessions.db')),
					'wrap.pass_access_token': 'on',
				},
			});
			cli(s.app.confPath, 'migrate');
			api = await startApi({ issuer: s.issuer });
		});

		after(async () => {
			await api?.stop();
			await s?.stop();
		});

		async function envOf(cookie) {
			const r = await httpRequest(`${s.appUrl}/cgi-bin/env.sh`, {
				headers: { ...NAVIGATION, cookie },
			});
			return { r, env: parseEnvOutput(r.text).vars };
		}

		// The program's OIDC_access_token, or a short failure naming
		// the OIDC_* variables it got instead.
		function tokenOf({ r, env }) {
			assert.equal(r.status, 200, r.text.slice(0, 500));
			const tok = env.get('OIDC_access_token');
			if (!tok) {
				const names = [...env.keys()].filter((k) => k.startsWith('OIDC_'));
				assert.fail('the program got no OIDC_access_token (wrap.pass_access_token ' +
				    `not implemented in authgate-wrap?); its OIDC_ variables: ${names.join(' ')}`);
			}
			return tok;
		}

		test('the program gets a valid access token; no refresh while it lives', async () => {
			const { browser } = await login(s.appUrl, 'alice');
			await s.idp.resetStats();
			const got = await envOf(browser.jar.header(s.appUrl));
			const tok = tokenOf(got);
			const { env } = got;
			assert.match(env.get('OIDC_access_token_type') || '', /^bearer$/i);
			const exp = Number(env.get('OIDC_access_token_expires'));
			assert.ok(exp > Date.now() / 1000, `OIDC_access_token_expires ${exp} in the future`);
			assert.ok(env.has('OIDC_scope'), 'OIDC_scope set');
			const v = await api.call(tok, { audience: API_AUDIENCE });
			assert.equal(v.status, 200, JSON.stringify(v.body));
			assert.equal(v.body.sub, 'alice');
			assert.equal(await refreshCount(s.idp), 0);
		});

		test(`${WRAP_BURST} parallel programs after expiry: each gets a valid token, one refresh`, async () => {
			const t0 = Date.now();
			const { browser } = await login(s.appUrl, 'bob');
			const cookie = browser.jar.header(s.appUrl);
			const old = tokenOf(await envOf(cookie));
			await waitExpiry(t0, TTL);
			await s.idp.resetStats();
			const all = await Promise.all(Array.from({ length: WRAP_BURST }, () => envOf(cookie)));
			for (const got of all) {
				const tok = tokenOf(got);
				const { env } = got;
				assert.notEqual(tok, old, 'not the expired token');
				assert.ok(Number(env.get('OIDC_access_token_expires')) > Date.now() / 1000 - 1);
				const v = await api.call(tok, { audience: API_AUDIENCE });
				assert.equal(v.status, 200, `API: ${JSON.stringify(v.body)} claims ${JSON.stringify(peek(tok))}`);
				assert.equal(v.body.sub, 'bob');
			}
			await exactlyOneRefresh(s.idp);
		});
	});
}
