// api.mjs -- a resource server for the access-token tests, and helpers
// around GET /auth/access-token.
//
//   const api = await startApi({ issuer });
//   const r = await api.call(token);      // {status, body}
//   await api.stop();
//
// The API (node:http on 127.0.0.1, a free port) accepts a request only
// with "Authorization: Bearer <JWT>" whose signature verifies against
// the provider's JWKS (its discovery document's jwks_uri) and whose iss
// is the issuer, aud one of the accepted audiences (all of RESOURCES by
// default; ?aud=X narrows to X) and exp in the future: 200
// {sub, aud, scope, client_id, exp, jti}; anything else 401 {error}.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';
import { Browser, parseForms, isLoginPage, isConsentPage } from './client.mjs';
import { REPO, freePort, portFree, runDir, sleep } from './procs.mjs';
import { startApp, writeConf } from './lighttpd.mjs';
import { startIdp, baseConf } from './stack.mjs';

export const API_AUDIENCE = 'https://api.example.test/';
export const ANALYTICS_AUDIENCE = 'https://analytics.example.test/';
export const RESOURCES = [API_AUDIENCE, ANALYTICS_AUDIENCE];

// What an API client sends to /auth/access-token (fetch from a page).
export const API_HEADERS = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

/*
 * startApi({issuer, audiences}) -> Promise<Api>
 * Api: { url, port, verify(token, {audience}) -> payload (throws),
 *        call(token, {audience}) -> {status, body}, hits, stop() }
 */
export async function startApi(opts = {}) {
	const issuer = opts.issuer;
	const audiences = opts.audiences || RESOURCES;
	const disc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
	const jwks = createRemoteJWKSet(new URL(disc.jwks_uri));
	const api = { hits: 0, accepted: 0, rejected: 0 };

	api.verify = async (token, vopts = {}) => {
		const { payload } = await jwtVerify(token, jwks, {
			issuer,
			audience: vopts.audience ? [vopts.audience] : audiences,
			algorithms: ['RS256', 'PS256', 'ES256'],
		});
		return payload;
	};

	const server = http.createServer(async (req, res) => {
		api.hits++;
		const send = (status, body) => {
			res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
			res.end(JSON.stringify(body));
		};
		const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(req.headers.authorization || '');
		if (!m) {
			api.rejected++;
			send(401, { error: 'invalid_request', error_description: 'no bearer token' });
			return;
		}
		const u = new URL(req.url, 'http://x');
		try {
			const p = await api.verify(m[1], { audience: u.searchParams.get('aud') || undefined });
			api.accepted++;
			send(200, { sub: p.sub, aud: p.aud, scope: p.scope ?? null,
			    client_id: p.client_id ?? null, exp: p.exp, jti: p.jti ?? null });
		} catch (e) {
			api.rejected++;
			send(401, { error: 'invalid_token', error_description: `${e.code || ''} ${e.message}`.trim() });
		}
	});
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	api.port = server.address().port;
	api.url = `http://127.0.0.1:${api.port}`;
	api.call = async (token, copts = {}) => {
		const u = new URL('/resource', api.url);
		if (copts.audience)
			u.searchParams.set('aud', copts.audience);
		const r = await fetch(u, { headers: token ? { authorization: `Bearer ${token}` } : {} });
		return { status: r.status, body: await r.json() };
	};
	api.stop = () => new Promise((resolve) => {
		server.closeAllConnections?.();
		server.close(() => resolve());
	});
	return api;
}

// The claims of a JWT without verifying it (for messages).
export function peek(token) {
	try {
		return decodeJwt(token);
	} catch {
		return null;
	}
}

/*
 * GET /auth/access-token (query from params) as a page's fetch would,
 * with browser's cookies (or opts.cookie verbatim, the jar untouched).
 * -> {status, body (parsed JSON or null), text, headers, setCookies}
 */
export async function getAccessToken(browser, appUrl, params = {}, opts = {}) {
	const u = new URL('/auth/access-token', appUrl);
	for (const [k, v] of Object.entries(params))
		for (const x of Array.isArray(v) ? v : [v])
			u.searchParams.append(k, x);
	let r;
	if (opts.cookie !== undefined) {
		const res = await fetch(u, {
			headers: { ...API_HEADERS, 'user-agent': 'authgate-tests/1', cookie: opts.cookie },
			redirect: 'manual',
		});
		const text = await res.text();
		r = { status: res.status, headers: res.headers, text, setCookies: res.headers.getSetCookie() };
	} else {
		r = await browser.request(u.href, { headers: API_HEADERS });
	}
	let body = null;
	try {
		body = JSON.parse(r.text);
	} catch { /* not JSON */ }
	return { ...r, body };
}

/*
 * Fail fast, with one clear message, when authgate-fcgi has no
 * GET /auth/access-token route yet (anything but the route's own 401
 * JSON for a request without a session).
 */
export async function requireAccessTokenRoute(appUrl) {
	const r = await fetch(new URL('/auth/access-token', appUrl), { headers: API_HEADERS });
	const text = await r.text();
	let ok = false;
	try {
		ok = r.status === 401 && JSON.parse(text)?.error?.code === 'missing_session';
	} catch { /* no */ }
	if (!ok)
		throw new Error('GET /auth/access-token is not implemented by this authgate-fcgi ' +
		    `(no session: expected 401 {"error":{"code":"missing_session"}}, got ${r.status} ` +
		    `${text.slice(0, 200)}); build fcgi/h-access-token.c first`);
}

/*
 * A login straight against the provider (no authgate): authorization
 * code + PKCE for clientId/clientSecret (client_secret_basic) and
 * redirectUri (registered), stopping at the redirect to it, then the
 * code exchange.  -> the token response (access_token, refresh_token...)
 */
export async function providerLogin(issuer, opts) {
	const disc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
	const b = new Browser();
	const verifier = crypto.randomBytes(32).toString('base64url');
	const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
	const u = new URL(disc.authorization_endpoint);
	u.search = new URLSearchParams({
		client_id: opts.clientId, redirect_uri: opts.redirectUri,
		response_type: 'code', scope: opts.scope || 'openid offline_access',
		state: 'st', nonce: 'nn', code_challenge: challenge,
		code_challenge_method: 'S256', prompt: 'consent',
		...(opts.resource ? { resource: opts.resource } : {}),
	}).toString();
	let res = await b.request(u.href);
	for (let i = 0; i < 20; i++) {
		if (res.location && res.location.startsWith(opts.redirectUri))
			break;
		if (res.location) {
			res = await b.request(res.location);
			continue;
		}
		let fields;
		if (isLoginPage(res))
			fields = { login: opts.user || 'alice', password: 'x' };
		else if (isConsentPage(res))
			fields = {};
		else
			throw new Error(`provider login: unexpected page ${res.status} ${res.url}\n${res.text.slice(0, 500)}`);
		const form = parseForms(res.text, res.url).find((f) =>
		    f.fields.get('prompt') === (isLoginPage(res) ? 'login' : 'consent'));
		const fm = new Map(form.fields);
		for (const [k, v] of Object.entries(fields))
			fm.set(k, v);
		res = await b.request(form.action, { method: 'POST', form: fm });
	}
	const code = new URL(res.location).searchParams.get('code');
	if (!code)
		throw new Error(`provider login: no code in ${res.location}`);
	return tokenRequest(disc.token_endpoint, opts, {
		grant_type: 'authorization_code', code, redirect_uri: opts.redirectUri,
		code_verifier: verifier,
	});
}

/*
 * POST the token endpoint with client_secret_basic.
 * -> {status, body}
 */
export async function tokenRequest(tokenEndpoint, client, form) {
	const r = await fetch(tokenEndpoint, {
		method: 'POST',
		headers: {
			'content-type': 'application/x-www-form-urlencoded',
			authorization: 'Basic ' + Buffer.from(
			    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64'),
		},
		body: new URLSearchParams(form).toString(),
	});
	return { status: r.status, body: await r.json() };
}

// The provider's token endpoint.
export async function tokenEndpoint(issuer) {
	return (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()).token_endpoint;
}

/* ------------------------------------------------------------ the stack */

const BUILD = process.env.BUILD || 'build';
export const CLI = path.join(REPO, BUILD, 'authgate');

// `authgate -c CONF ARGS...` -> stdout (throws with its stderr on failure).
export function cli(confPath, ...args) {
	try {
		return execFileSync(CLI, ['-c', confPath, ...args], {
			encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
		});
	} catch (e) {
		throw new Error(`authgate -c ${confPath} ${args.join(' ')}: ${e.message}\n${e.stderr || ''}`);
	}
}

// The provider environment for the access-token tests.
export function tokenIdpEnv(ttl, extra = {}) {
	return {
		IDP_RESOURCES: '1',
		IDP_ROTATE_REFRESH_TOKEN: '1',
		IDP_TTL_ACCESS_TOKEN: String(ttl),
		...extra,
	};
}

// The authgate.conf keys for the access-token tests (over baseConf).
export function tokenConf(store, db) {
	return {
		audience: API_AUDIENCE,
		'audience.param': 'resource',
		scope: 'openid profile email offline_access read',
		'session.store': store,
		'session.db': db,
	};
}

/*
 * startTokenStack(opts) -> Promise<TokenStack>: the provider with
 * resource servers and rotating refresh tokens (access tokens living
 * opts.ttl seconds, default 5), a migrated session database, lighttpd +
 * authgate-fcgi (opts.maxProcs processes) for audience API_AUDIENCE by
 * RFC 8707 resource, and the test API.
 *   opts.store ('cookie' | 'sqlite'), opts.conf (over the rest; null
 *   removes a key), opts.idpEnv, opts.env, opts.maxProcs, opts.name
 * TokenStack: { appUrl, issuer, idp, app, api, conf, db, ttl,
 *   cli(...args), restartApp({conf, env, maxProcs}), stop() }
 */
export async function startTokenStack(opts = {}) {
	const store = opts.store || 'cookie';
	const ttl = opts.ttl ?? 5;
	const name = opts.name || `tokens-${store}`;
	const appPort = await freePort();
	const appUrl = `http://127.0.0.1:${appPort}`;
	const idp = await startIdp({
		env: tokenIdpEnv(ttl, opts.idpEnv),
		redirectUris: [`${appUrl}/auth/callback`],
		postLogoutRedirectUris: [appUrl, `${appUrl}/`],
	});
	const dbDir = runDir(`${name}-db`);
	const db = path.join(dbDir, 'sessions.db');
	const conf = {
		...baseConf(appUrl, idp.issuer),
		...tokenConf(store, db),
		...(opts.conf || {}),
	};
	let api = null;
	async function launch(c, lopts = {}) {
		const dir = runDir(name);
		const confPath = writeConf(path.join(dir, 'authgate.conf'), c);
		cli(confPath, 'migrate');
		return startApp({
			conf: c, port: appPort, dir, name,
			env: lopts.env ?? opts.env,
			maxProcs: lopts.maxProcs ?? opts.maxProcs ?? 1,
		});
	}
	let app;
	try {
		app = await launch(conf);
		api = await startApi({ issuer: idp.issuer });
	} catch (e) {
		await app?.stop();
		await idp.stop();
		throw e;
	}
	const s = {
		appUrl, issuer: idp.issuer, idp, app, api, conf, db, ttl, store,
		cli: (...args) => cli(s.app.confPath, ...args),
		async restartApp(ropts = {}) {
			await s.app.stop();
			for (let i = 0; i < 100 && !(await portFree(appPort)); i++)
				await sleep(50);
			s.app = await launch({ ...conf, ...(ropts.conf || {}) }, ropts);
			return s.app;
		},
		async stop() {
			await s.app?.stop();
			await api?.stop();
			await idp.stop();
		},
	};
	return s;
}

// Sleep until an access token issued at issuedAtMs (ms) with ttl s has
// expired, plus a margin.
export async function waitExpiry(issuedAtMs, ttl, marginMs = 700) {
	const left = issuedAtMs + ttl * 1000 + marginMs - Date.now();
	if (left > 0)
		await sleep(left);
}

// The refresh_token grants counted by the provider so far.
export async function refreshCount(idp) {
	return (await idp.stats()).token.refresh_token || 0;
}
