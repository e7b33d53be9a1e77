#!/usr/bin/env node
// A real OpenID Provider for authgate's tests and demo: oidc-provider
// (panva) with its own development login and consent pages.
//
//   node tests/idp/provider.mjs [PORT]
//
// Prints one JSON line on stdout once listening:
//   {"ready":true,"issuer":"http://127.0.0.1:PORT","port":PORT}
// Logs and errors go to stderr.  SIGTERM/SIGINT end it.
//
// Environment (all optional):
//   IDP_PORT              port (argv[2] wins); 0 = any free port (default)
//   IDP_HOST              listen address, default 127.0.0.1
//   IDP_ISSUER_PATH       e.g. "/tenant-a": issuer http://HOST:PORT/tenant-a
//   IDP_CLIENTS           JSON array of client metadata (replaces the default)
//   IDP_CLIENTS_FILE      the same, read from a file
//   IDP_REDIRECT_URIS     comma list: the default client's redirect_uris
//   IDP_POST_LOGOUT_REDIRECT_URIS  comma list: its post_logout_redirect_uris
//   IDP_BACKCHANNEL_LOGOUT_URI     its backchannel_logout_uri
//   IDP_TTL_<ARTIFACT>    seconds, e.g. IDP_TTL_ACCESS_TOKEN=5; artifacts:
//                         ACCESS_TOKEN ID_TOKEN REFRESH_TOKEN AUTHORIZATION_CODE
//                         SESSION GRANT INTERACTION
//   IDP_ROTATE_REFRESH_TOKEN  "1" always rotate, "0" never (default: library's)
//   IDP_CONFORM_ID_TOKEN_CLAIMS "1": ID tokens carry only sub & co, profile
//                         claims come from userinfo (default "0": in the ID token)
//   IDP_REQUIRE_PKCE      "1": PKCE required for every client
//   IDP_ALWAYS_SID        "0": sid in ID tokens only for back-channel clients
//   IDP_DEBUG             "1": log every request to stderr
//
// Test endpoints (not part of OpenID Connect):
//   GET  /test/stats      JSON counters: requests per path, token endpoint
//                         calls per grant_type, userinfo, revocation, ...
//   POST /test/reset      zero the counters
//   POST /test/backchannel-logout?sub=S[&sid=SID][&client_id=C]
//                         send a back-channel logout token to the client(s)

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const DEFAULT_CLIENT_ID = 'authgate-test';
const DEFAULT_CLIENT_SECRET = 'authgate-test-secret-0123456789';

const env = process.env;
const host = env.IDP_HOST || '127.0.0.1';
const wantPort = Number(process.argv[2] ?? env.IDP_PORT ?? 0);
let issuerPath = (env.IDP_ISSUER_PATH || '').replace(/\/+$/, '');
if (issuerPath && !issuerPath.startsWith('/'))
	issuerPath = '/' + issuerPath;

const log = (...a) => process.stderr.write(`[idp] ${a.join(' ')}\n`);

// Users.  Any other login name is accepted with sub = name = that name.
const USERS = {
	alice: {
		sub: 'alice', name: 'Alice Example', given_name: 'Alice',
		family_name: 'Example', nickname: 'alice',
		email: 'alice@example.com', email_verified: true,
		roles: ['admin', 'staff'],
	},
	bob: {
		sub: 'bob', name: 'Bob Example', given_name: 'Bob',
		family_name: 'Example', nickname: 'bob',
		email: 'bob@example.com', email_verified: false,
		roles: ['staff'],
	},
};

// mallory: claims an attacker controls at the provider, aimed at the
// programs behind authgate-wrap (header injection through a claim that
// ends up in a response, shellshock, NUL truncation, broken UTF-16
// that JSON carries as "\ud800", claim flooding, names that collide
// once normalised to [A-Za-z0-9_], a comma inside an array element).
// Her ID token carries only sub (see idTokenOnlySub): everything else
// arrives through userinfo, which keeps her session small enough for a
// cookie.  mallory-big's family_name (100 KiB) fits in no cookie
// session: with session.store = cookie her login must fail cleanly.
const MALLORY_EXTRA = {};
for (let i = 0; i < 500; i++)
	MALLORY_EXTRA[`c${i}`] = `v${i}`;
USERS.mallory = {
	sub: 'mallory',
	name: 'Mallory\r\nSet-Cookie: pwned=1',
	nickname: '() { :;}; echo vulnerable',
	given_name: 'a\u0000b',
	family_name: 'Evil\tTab\u001b[31mEsc\u007fDel\u0085Nel',
	picture: 'https://example.com/\ud800.png',
	email: 'mallory@example.com',
	email_verified: false,
	roles: ['admin,root', 'staff'],
	act: { sub: 'evil-actor', note: 'line1\nline2' },
	'a.b': 'dot', 'a-b': 'dash', 'a_b': 'underscore',
	...MALLORY_EXTRA,
};
USERS['mallory-big'] = {
	sub: 'mallory-big', name: 'Mallory Big', nickname: 'mallory-big',
	family_name: 'F'.repeat(100 * 1024),
	email: 'mallory-big@example.com', email_verified: true,
};
const idTokenOnlySub = new Set(['mallory', 'mallory-big']);

// use: "id_token" or "userinfo" (oidc-provider asks once for each).
function accountClaims(id, use) {
	if (idTokenOnlySub.has(id) && use === 'id_token')
		return { sub: id };
	return USERS[id] ? { ...USERS[id] } : { sub: id, name: id, nickname: id };
}

function list(s) {
	return (s || '').split(',').map((x) => x.trim()).filter(Boolean);
}

function clientsFromEnv(port) {
	let text = env.IDP_CLIENTS;
	if (!text && env.IDP_CLIENTS_FILE)
		text = fs.readFileSync(env.IDP_CLIENTS_FILE, 'utf8');
	if (text)
		return JSON.parse(text);
	const c = {
		client_id: DEFAULT_CLIENT_ID,
		client_secret: DEFAULT_CLIENT_SECRET,
		client_name: 'authgate test client',
		token_endpoint_auth_method: 'client_secret_basic',
		grant_types: ['authorization_code', 'refresh_token'],
		response_types: ['code'],
		id_token_signed_response_alg: 'RS256',
		redirect_uris: list(env.IDP_REDIRECT_URIS),
		post_logout_redirect_uris: list(env.IDP_POST_LOGOUT_REDIRECT_URIS),
	};
	if (c.redirect_uris.length === 0)
		c.redirect_uris = ['http://127.0.0.1:8080/auth/callback'];
	if (env.IDP_BACKCHANNEL_LOGOUT_URI) {
		c.backchannel_logout_uri = env.IDP_BACKCHANNEL_LOGOUT_URI;
		c.backchannel_logout_session_required = true;
	}
	return [c];
}

function ttl() {
	const names = {
		ACCESS_TOKEN: 'AccessToken', ID_TOKEN: 'IdToken',
		REFRESH_TOKEN: 'RefreshToken', AUTHORIZATION_CODE: 'AuthorizationCode',
		SESSION: 'Session', GRANT: 'Grant', INTERACTION: 'Interaction',
	};
	// Quiet, fixed defaults (the library nags when they are not set).
	const t = {
		AccessToken: 3600, IdToken: 3600, RefreshToken: 14 * 86400,
		AuthorizationCode: 60, Session: 14 * 86400, Grant: 14 * 86400,
		Interaction: 3600,
	};
	for (const [k, v] of Object.entries(names)) {
		const s = env[`IDP_TTL_${k}`];
		if (s !== undefined && s !== '')
			t[v] = Number(s);
	}
	return t;
}

// Page templates without external resources (the library's defaults
// import a web font, which a sandboxed browser cannot fetch).
const STYLE = 'body{font-family:sans-serif;margin:25px auto;max-width:22em}' +
    'button{display:block;width:100%;margin:.5em 0;padding:.5em}';
function page(title, body) {
	return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title>` +
	    `<style>${STYLE}</style></head><body><h1>${title}</h1>${body}</body></html>`;
}
function esc(s) {
	return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const stats = {};
function resetStats() {
	for (const k of Object.keys(stats))
		delete stats[k];
	Object.assign(stats, {
		requests: {}, token: { total: 0, errors: 0 }, userinfo: 0,
		revocation: 0, end_session: 0, backchannel: { sent: 0, errors: 0 },
		authorization: 0, discovery: 0, jwks: 0,
	});
}
resetStats();

async function main() {
	// Listen first so that the issuer can name the chosen port.
	const server = http.createServer();
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(wantPort, host, resolve);
	});
	const port = server.address().port;
	const issuer = `http://${host}:${port}${issuerPath}`;

	const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
	const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
	const jwks = {
		keys: [
			{ ...rsa.privateKey.export({ format: 'jwk' }), kid: 'rsa1', use: 'sig', alg: 'RS256' },
			{ ...ec.privateKey.export({ format: 'jwk' }), kid: 'ec1', use: 'sig', alg: 'ES256' },
		],
	};

	const config = {
		clients: clientsFromEnv(port),
		jwks,
		cookies: {
			keys: ['authgate-test-idp-cookie-key-0', 'authgate-test-idp-cookie-key-1'],
		},
		claims: {
			openid: ['sub'],
			// picture, act and the rest: mallory's hostile claims.
			profile: ['name', 'given_name', 'family_name', 'nickname',
			    'roles', 'picture', 'act', 'a.b', 'a-b', 'a_b',
			    ...Object.keys(MALLORY_EXTRA)],
			email: ['email', 'email_verified'],
		},
		scopes: ['openid', 'profile', 'email', 'offline_access'],
		conformIdTokenClaims: env.IDP_CONFORM_ID_TOKEN_CLAIMS === '1',
		features: {
			devInteractions: { enabled: true },
			revocation: { enabled: true },
			introspection: { enabled: true },
			userinfo: { enabled: true },
			claimsParameter: { enabled: false },
			backchannelLogout: { enabled: true },
			rpInitiatedLogout: {
				enabled: true,
				async logoutSource(ctx, form) {
					ctx.body = page('Sign out',
					    `<p>Do you want to sign out from ${esc(ctx.host)}?</p>${form}` +
					    '<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>' +
					    '<button type="submit" form="op.logoutForm">No, stay signed in</button>');
				},
				async postLogoutSuccessSource(ctx) {
					ctx.body = page('Signed out', '<p>Your sign-out was successful.</p>');
				},
			},
		},
		async renderError(ctx, out) {
			ctx.type = 'html';
			ctx.body = page('Error', Object.entries(out)
			    .map(([k, v]) => `<p><b>${esc(k)}</b>: ${esc(v)}</p>`).join(''));
		},
		async findAccount(ctx, id) {
			return {
				accountId: id,
				async claims(use) { return accountClaims(id, use); },
			};
		},
		// A refresh token for every client allowed the grant, whether or
		// not offline_access survived (the library drops it without
		// prompt=consent).
		async issueRefreshToken(ctx, client) {
			return client.grantTypeAllowed('refresh_token');
		},
		ttl: ttl(),
		pkce: {
			required: () => env.IDP_REQUIRE_PKCE === '1',
		},
		// Quiet and predictable: no pairwise, plain ids.
		clientDefaults: {
			grant_types: ['authorization_code', 'refresh_token'],
			id_token_signed_response_alg: 'RS256',
			response_types: ['code'],
			token_endpoint_auth_method: 'client_secret_basic',
		},
	};
	if (env.IDP_ROTATE_REFRESH_TOKEN === '1')
		config.rotateRefreshToken = true;
	else if (env.IDP_ROTATE_REFRESH_TOKEN === '0')
		config.rotateRefreshToken = false;

	const provider = new Provider(issuer, config);
	provider.proxy = false;
	// ID tokens always carry sid, as Auth0's do (the library adds it only
	// for clients registered for back-channel logout).
	if (env.IDP_ALWAYS_SID !== '0')
		provider.Client.prototype.includeSid = () => true;

	provider.on('grant.success', (ctx) => {
		const gt = ctx.oidc?.params?.grant_type || 'unknown';
		stats.token[gt] = (stats.token[gt] || 0) + 1;
	});
	provider.on('grant.error', (ctx, err) => {
		stats.token.errors++;
		log(`token error: ${err.message} ${err.error_description || ''}`);
	});
	provider.on('backchannel.success', () => { stats.backchannel.sent++; });
	provider.on('backchannel.error', (ctx, err, client) => {
		stats.backchannel.errors++;
		log(`backchannel logout to ${client?.clientId} failed: ${err.message}`);
	});
	for (const ev of ['authorization.error', 'end_session.error',
	    'userinfo.error', 'revocation.error', 'introspection.error',
	    'server_error', 'check_session.error', 'discovery.error', 'jwks.error',
	    'interaction.error'])
		provider.on(ev, (ctx, err) => {
			log(`${ev}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
		});

	// Counters by route, and the test endpoints.
	provider.use(async (ctx, next) => {
		const path = ctx.path;
		stats.requests[path] = (stats.requests[path] || 0) + 1;
		if (env.IDP_DEBUG === '1')
			log(`${ctx.method} ${ctx.url}`);
		if (path === '/test/stats') {
			ctx.type = 'json';
			ctx.set('Cache-Control', 'no-store');
			ctx.body = JSON.stringify(stats);
			return;
		}
		if (path === '/test/reset' && ctx.method === 'POST') {
			resetStats();
			ctx.status = 204;
			return;
		}
		if (path === '/test/backchannel-logout' && ctx.method === 'POST') {
			const { sub, sid, client_id: cid } = ctx.query;
			const ids = cid ? [cid] : config.clients.map((c) => c.client_id);
			const results = {};
			for (const id of ids) {
				const client = await provider.Client.find(id);
				if (!client || !client.backchannelLogoutUri) {
					results[id] = 'no backchannel_logout_uri';
					continue;
				}
				try {
					await client.backchannelLogout(sub, sid);
					stats.backchannel.sent++;
					results[id] = 'ok';
				} catch (e) {
					stats.backchannel.errors++;
					results[id] = e.message;
				}
			}
			ctx.type = 'json';
			ctx.body = JSON.stringify(results);
			return;
		}
		await next();
		switch (ctx.oidc?.route) {
		case 'token': stats.token.total++; break;
		case 'userinfo': stats.userinfo++; break;
		case 'revocation': stats.revocation++; break;
		case 'end_session': stats.end_session++; break;
		case 'authorization': stats.authorization++; break;
		case 'discovery': stats.discovery++; break;
		case 'jwks': stats.jwks++; break;
		}
		if (ctx.status >= 500)
			log(`${ctx.method} ${ctx.url} -> ${ctx.status}`);
	});

	const callback = provider.callback();
	server.on('request', (req, res) => {
		if (issuerPath) {
			if (req.url === issuerPath || req.url.startsWith(issuerPath + '/') ||
			    req.url.startsWith(issuerPath + '?')) {
				req.originalUrl = req.url;
				req.url = req.url.slice(issuerPath.length) || '/';
			} else if (!req.url.startsWith('/test/')) {
				res.statusCode = 404;
				res.end('not found\n');
				return;
			}
		}
		callback(req, res);
	});

	const stop = (sig) => {
		log(`${sig}: exiting`);
		server.close();
		server.closeAllConnections?.();
		process.exit(0);
	};
	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));

	process.stdout.write(JSON.stringify({
		ready: true, issuer, port,
		clients: config.clients.map((c) => c.client_id),
	}) + '\n');
}

process.on('unhandledRejection', (e) => {
	log(`unhandled rejection: ${e?.stack || e}`);
});
main().catch((e) => {
	log(`fatal: ${e?.stack || e}`);
	process.exit(1);
});

export { errors, USERS, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET };
