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
//   IDP_RESOURCES         "1": two resource servers (RFC 8707 resource
//                         indicators), RESOURCES below: JWT access tokens
//                         (RS256, lifetime IDP_TTL_ACCESS_TOKEN), scope
//                         "read"; the granted resource is used when a token
//                         request names none; and one refresh token mints
//                         tokens for every resource server, as Auth0's
//                         multi-resource refresh tokens do (MRRT)
//   IDP_MORE_CLIENTS      "1": besides the default client (client_secret_basic)
//                         authgate-post (client_secret_post, same secret) and
//                         authgate-pkjwt (private_key_jwt; keys of
//                         tests/data/keys/jwks.json: RS256, PS256, ES256),
//                         with the default client's redirect URIs
//   IDP_AUTH0_VAULT       "1": fakes of Auth0's Token Vault grant and My Account
//                         API (tests/idp/auth0-vault.mjs, /test/vault/*)
//   IDP_TOKEN_DELAY_MS    every token endpoint request waits this long first
//                         (so that parallel refreshes surely overlap)
//   IDP_AUTH0_MFA         "1": a fake of Auth0's MFA API (tests/idp/auth0-mfa.mjs):
//                         /mfa/*, the mfa-* grants, and refreshes for
//                         https://mfa.example.test/ answer 403 mfa_required
//   IDP_DPOP              "1": DPoP (RFC 9449) on (proofs ES256, RS256,
//                         PS256; nonces offered), every client's access
//                         tokens DPoP-bound (dpop_bound_access_tokens);
//                         "nonce": the same, and every DPoP proof must
//                         carry a server nonce (a first proof without one
//                         gets use_dpop_nonce).  stats.dpop_nonce_errors
//                         counts the use_dpop_nonce answers
//   IDP_CIBA              "1": OpenID CIBA in poll mode for the default client
//                         (backchannel_authentication_endpoint /backchannel):
//                         login_hint as Auth0 sends it ({"format":"iss_sub",
//                         "iss":ISSUER,"sub":SUB}, the iss must be ours),
//                         binding_message required, as Auth0 wants it (1-64
//                         letters, digits, spaces and +-_.,:#); requests wait
//                         for /test/ciba/approve or /deny
//   IDP_CIBA_INTERVAL     seconds: the interval the backchannel answer names
//                         (default: none, the client's 5 s)
//   IDP_TOKEN_EXCHANGE    "1": RFC 8693 token exchange for the default client:
//                         subject_token an access token this provider issued,
//                         typed urn:authgate-test:access-token (a custom type,
//                         as Auth0's Custom Token Exchange wants) or
//                         urn:ietf:params:oauth:token-type:access_token; an
//                         optional actor token of the same kind; audience one
//                         of EXCHANGE_AUDIENCES (else invalid_target); answers
//                         a new access token of the subject's user
//
// Refresh tokens: a rotated (consumed) refresh token presented again is
// reuse: the library answers invalid_grant and revokes the whole grant
// (every token of that login); counted in stats.token.reused and
// stats.grants_revoked.  Pushed authorization requests (RFC 9126) are
// on, at /request (stats.par counts them).
//
// Test endpoints (not part of OpenID Connect):
//   GET  /test/stats      JSON counters: requests per path, token endpoint
//                         calls per grant_type, userinfo, revocation,
//                         client authentication methods used, ...
//   POST /test/reset      zero the counters
//   POST /test/revoke?sub=S   revoke every grant of account S at once
//                         (refresh tokens, access tokens, the grant), as an
//                         administrator would: {"revoked": N}
//   POST /test/backchannel-logout?sub=S[&sid=SID][&client_id=C]
//                         send a back-channel logout token to the client(s)
//   POST /test/sign?payload=JSON[&header=JSON]
//                         a JWT signed with the provider's RS256 key (kid
//                         rsa1), as text: for crafting hostile logout tokens
//   GET  /test/issued     JSON array of every authorization code, access,
//                         refresh and ID token this process handed out; each
//                         is also appended, one a line, to IDP_ISSUED_FILE
//                         (default tests/.run/idp-issued.txt; "none": no
//                         file) for tests/integration/zz-secrets-in-logs
//   GET  /test/ciba/pending   JSON: the CIBA requests waiting for the user
//                         [{sub, binding_message, scope, login_hint}]
//   POST /test/ciba/approve?sub=S | /test/ciba/deny?sub=S
//                         the user S approves (a grant for the requested
//                         scope) or denies (access_denied) every pending
//                         request of theirs: {"answered": N}
//   POST /test/ciba/slow-down?n=N   the next N polls that would answer
//                         authorization_pending answer slow_down instead
//   stats.ciba: {requests, polls: [ms timestamps]}; stats.exchange: the
//                         last exchange {sub, audience, scope, actor}
//   POST /test/claims?sub=S&set=JSON   from now on account S's claims (ID
//                         token and userinfo) carry the members of JSON
//                         over its own (e.g. roles changed after a login)
//   POST /test/ciba/approve?sub=S&id_token_sub=T   approve as above, but
//                         the ID token of S's grant names sub T (a
//                         provider that mixes users up); the next CIBA
//                         token answer only
//   POST /test/ciba/no-id-token?n=N   the next N successful CIBA token
//                         answers leave out the id_token
//   stats.par_dpop_jkt: the dpop_jkt of the last pushed request (or null)

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const DEFAULT_CLIENT_ID = 'authgate-test';
const DEFAULT_CLIENT_SECRET = 'authgate-test-secret-0123456789';

// IDP_RESOURCES=1: the resource servers (identifier -> scope).
const RESOURCES = {
	'https://api.example.test/': 'read write',
	'https://analytics.example.test/': 'read',
};
const KEYS_DIR = new URL('../data/keys/', import.meta.url);

// IDP_CIBA=1 / IDP_TOKEN_EXCHANGE=1.
const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const EXCHANGE_TYPES = new Set(['urn:authgate-test:access-token',
    'urn:ietf:params:oauth:token-type:access_token']);
const EXCHANGE_AUDIENCES = new Set(['https://api.example.test/',
    'https://analytics.example.test/', 'urn:authgate-test:api']);

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
// POST /test/claims: members laid over an account's claims.
const claimOverrides = new Map();
// POST /test/ciba/approve?id_token_sub=T: S's CIBA ID token names T.
const cibaIdTokenSub = new Map();

// use: "id_token" or "userinfo" (oidc-provider asks once for each).
function accountClaims(id, use) {
	if (idTokenOnlySub.has(id) && use === 'id_token')
		return { sub: id };
	const c = USERS[id] ? { ...USERS[id] } : { sub: id, name: id, nickname: id };
	return { ...c, ...(claimOverrides.get(id) || {}) };
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
	if (env.IDP_CIBA === '1') {
		c.grant_types = [...c.grant_types, CIBA_GRANT];
		c.backchannel_token_delivery_mode = 'poll';
	}
	if (env.IDP_TOKEN_EXCHANGE === '1')
		c.grant_types = [...c.grant_types, EXCHANGE_GRANT];
	if (env.IDP_MORE_CLIENTS !== '1')
		return [c];
	const jwks = JSON.parse(fs.readFileSync(new URL('jwks.json', KEYS_DIR), 'utf8'));
	const common = {
		grant_types: c.grant_types, response_types: c.response_types,
		id_token_signed_response_alg: 'RS256',
		redirect_uris: c.redirect_uris,
		post_logout_redirect_uris: c.post_logout_redirect_uris,
	};
	return [c, {
		...common,
		client_id: 'authgate-post',
		client_secret: DEFAULT_CLIENT_SECRET,
		client_name: 'authgate test client (client_secret_post)',
		token_endpoint_auth_method: 'client_secret_post',
	}, {
		...common,
		client_id: 'authgate-pkjwt',
		client_name: 'authgate test client (private_key_jwt)',
		token_endpoint_auth_method: 'private_key_jwt',
		jwks,
	}];
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

// Every secret handed out, for /test/issued and IDP_ISSUED_FILE.
const issued = [];
const issuedFile = env.IDP_ISSUED_FILE === 'none' ? null : (env.IDP_ISSUED_FILE ||
    new URL('../.run/idp-issued.txt', import.meta.url).pathname);
function recordIssued(...values) {
	const v = values.filter((x) => typeof x === 'string' && x.length >= 8);
	if (v.length === 0)
		return;
	issued.push(...v);
	if (!issuedFile)
		return;
	try {
		fs.mkdirSync(issuedFile.slice(0, issuedFile.lastIndexOf('/')) || '/', { recursive: true });
		fs.appendFileSync(issuedFile, v.map((x) => `${x}\n`).join(''));
	} catch (e) {
		log(`cannot record issued secrets in ${issuedFile}: ${e.message}`);
	}
}

const stats = {};
function resetStats() {
	for (const k of Object.keys(stats))
		delete stats[k];
	Object.assign(stats, {
		requests: {}, token: { total: 0, errors: 0 }, userinfo: 0,
		revocation: 0, end_session: 0, backchannel: { sent: 0, errors: 0 },
		authorization: 0, discovery: 0, jwks: 0, par: 0, par_dpop_jkt: null,
		grants_revoked: 0, client_auth: {},
		ciba: { requests: 0, polls: [] }, exchange: null,
	});
	stats.token.reused = 0;
}
resetStats();

// stats.client_auth["<route> <method>[ <alg>]"]: how the client
// authenticated at the token and PAR endpoints (the library accepts
// client_secret_basic and client_secret_post alike for either
// registration, so the tests look here).
function countClientAuth(ctx, basic) {
	const p = ctx.oidc?.params || {};
	let m;
	if (basic)
		m = 'client_secret_basic';
	else if (p.client_secret)
		m = 'client_secret_post';
	else if (p.client_assertion) {
		let alg = '?';
		try {
			alg = JSON.parse(Buffer.from(p.client_assertion.split('.')[0], 'base64url')).alg;
		} catch { /* not a JWT */ }
		m = `private_key_jwt ${alg}`;
	} else
		m = 'none';
	const k = `${ctx.oidc.route === 'token' ? 'token' : 'par'} ${m}`;
	stats.client_auth[k] = (stats.client_auth[k] || 0) + 1;
}

// IDP_RESOURCES=1: resource indicators with RESOURCES, JWT access tokens.
function configureResources(config) {
	config.scopes = [...new Set([...config.scopes,
	    ...Object.values(RESOURCES).join(' ').split(' ')])];
	config.features.resourceIndicators = {
		enabled: true,
		// No resource in the authorization request: none (the userinfo
		// audience); several: refused unless one is chosen.
		async defaultResource(ctx, client, oneOf) {
			return oneOf || undefined;
		},
		// A token request without resource: the one granted.
		async useGrantedResource() {
			return true;
		},
		async getResourceServerInfo(ctx, resource) {
			if (!Object.hasOwn(RESOURCES, resource))
				throw new errors.InvalidTarget();
			return {
				scope: RESOURCES[resource],
				audience: resource,
				accessTokenTTL: config.ttl.AccessToken,
				accessTokenFormat: 'jwt',
				jwt: { sign: { alg: 'RS256' } },
			};
		},
	};
	// Every grant holds the scopes of every resource server (a refresh
	// token policy allowing all of them).
	config.loadExistingGrant = async (ctx) => {
		const id = ctx.oidc.result?.consent?.grantId ||
		    ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
		if (!id)
			return undefined;
		const grant = await ctx.oidc.provider.Grant.find(id);
		if (!grant)
			return undefined;
		let changed = false;
		for (const [r, scope] of Object.entries(RESOURCES)) {
			if (!grant.getResourceScope(r)) {
				grant.addResourceScope(r, scope);
				changed = true;
			}
		}
		if (changed)
			await grant.save();
		return grant;
	};
}

// IDP_DPOP: DPoP with nonces; bound access tokens for every client.
function configureDpop(config) {
	config.features.dPoP = {
		enabled: true,
		nonceSecret: crypto.randomBytes(32),
		requireNonce: () => env.IDP_DPOP === 'nonce',
	};
	config.enabledJWA = { dPoPSigningAlgValues: ['ES256', 'RS256', 'PS256'] };
	for (const c of config.clients)
		c.dpop_bound_access_tokens = true;
}

// IDP_CIBA=1: CIBA in poll mode; the "authentication device" is the
// test hooks below (pending requests by sub).
function configureCiba(config, ciba, issuer) {
	config.features.ciba = {
		enabled: true,
		deliveryModes: ['poll'],
		// Auth0's login_hint: {"format":"iss_sub","iss":...,"sub":...}.
		async processLoginHint(ctx, loginHint) {
			let h;
			try {
				h = JSON.parse(loginHint);
			} catch {
				throw new errors.InvalidRequest('login_hint is not JSON');
			}
			if (h?.format !== 'iss_sub' || h.iss !== issuer ||
			    typeof h.sub !== 'string')
				throw new errors.InvalidRequest('login_hint must be ' +
				    '{"format":"iss_sub","iss":<issuer>,"sub":<sub>}');
			return h.sub;
		},
		async validateBindingMessage(ctx, msg) {
			if (!msg || !/^[\p{L}\p{N} +\-_.,:#]{1,64}$/u.test(msg))
				throw new errors.InvalidBindingMessage('binding_message ' +
				    'is required: 1-64 letters, digits, spaces and +-_.,:#');
		},
		async validateRequestContext() {},
		async verifyUserCode() {},
		async triggerAuthenticationDevice(ctx, request, account) {
			stats.ciba.requests++;
			ciba.pending.set(request.jti, {
				sub: account.accountId,
				binding_message: request.params.binding_message,
				login_hint: request.params.login_hint,
				scope: request.scope,
			});
		},
	};
	config.ttl.BackchannelAuthenticationRequest = (ctx) =>
	    Math.min(600, Number(ctx?.oidc?.params?.requested_expiry) || 600);
}

// GET /test/ciba/pending, POST /test/ciba/{approve,deny,slow-down}.
async function cibaHook(provider, ciba, ctx) {
	const what = ctx.path.slice('/test/ciba/'.length);
	ctx.type = 'json';
	if (what === 'pending' && ctx.method === 'GET') {
		ctx.body = JSON.stringify([...ciba.pending.values()]);
		return;
	}
	if (ctx.method !== 'POST') {
		ctx.status = 405;
		return;
	}
	if (what === 'slow-down') {
		ciba.slowDown = Number(ctx.query.n || 1);
		ctx.body = JSON.stringify({ slowDown: ciba.slowDown });
		return;
	}
	if (what === 'no-id-token') {
		ciba.noIdToken = Number(ctx.query.n || 1);
		ctx.body = JSON.stringify({ noIdToken: ciba.noIdToken });
		return;
	}
	if (what === 'approve' && ctx.query.id_token_sub)
		cibaIdTokenSub.set(String(ctx.query.sub || ''), String(ctx.query.id_token_sub));
	if (what !== 'approve' && what !== 'deny') {
		ctx.status = 404;
		return;
	}
	let n = 0;
	for (const [id, p] of [...ciba.pending]) {
		if (p.sub !== String(ctx.query.sub || ''))
			continue;
		ciba.pending.delete(id);
		const request = await provider.BackchannelAuthenticationRequest.find(id);
		if (!request)
			continue;
		if (what === 'deny') {
			await provider.backchannelResult(request,
			    new errors.AccessDenied('the user denied the request'));
		} else {
			const grant = new provider.Grant({
				accountId: request.accountId, clientId: request.clientId,
			});
			grant.addOIDCScope(request.scope);
			await grant.save();
			await provider.backchannelResult(request, grant);
		}
		n++;
	}
	ctx.body = JSON.stringify({ answered: n });
}

// After the library: the interval in the backchannel answer, the polls
// counted, authorization_pending turned into slow_down when asked.
function cibaAfter(ciba, ctx) {
	if (ctx.oidc?.route === 'backchannel_authentication' && ctx.status === 200 &&
	    env.IDP_CIBA_INTERVAL && ctx.body && typeof ctx.body === 'object')
		ctx.body = { ...ctx.body, interval: Number(env.IDP_CIBA_INTERVAL) };
	if (ctx.oidc?.route !== 'token' || ctx.oidc.params?.grant_type !== CIBA_GRANT)
		return;
	stats.ciba.polls.push(Date.now());
	if (ciba.slowDown > 0 && ctx.status === 400 &&
	    ctx.body?.error === 'authorization_pending') {
		ciba.slowDown--;
		ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly' };
	}
	if (ctx.status === 200)		// id_token_sub answers one grant
		cibaIdTokenSub.clear();
	if (ciba.noIdToken > 0 && ctx.status === 200 && ctx.body?.id_token) {
		ciba.noIdToken--;
		const { id_token: _, ...rest } = ctx.body;
		ctx.body = rest;
	}
}

// IDP_TOKEN_EXCHANGE=1: RFC 8693 for access tokens of this provider.
function registerTokenExchange(provider, config) {
	const findToken = async (value, type, name) => {
		if (!EXCHANGE_TYPES.has(type))
			throw new errors.InvalidRequest(`unsupported ${name}_type`);
		const at = await provider.AccessToken.find(value);
		if (!at)
			throw new errors.InvalidGrant(`${name} invalid or expired`);
		return at;
	};
	provider.registerGrantType(EXCHANGE_GRANT, async (ctx) => {
		const p = ctx.oidc.params;
		if (!p.subject_token || !p.subject_token_type)
			throw new errors.InvalidRequest('subject_token and subject_token_type are required');
		const subject = await findToken(p.subject_token, p.subject_token_type, 'subject_token');
		let actor = null;
		if (p.actor_token)
			actor = await findToken(p.actor_token, p.actor_token_type, 'actor_token');
		if (p.audience && !EXCHANGE_AUDIENCES.has(p.audience))
			throw new errors.InvalidTarget('unknown audience');
		const scope = String(p.scope || '').split(' ')
		    .filter((x) => config.scopes.includes(x) && x !== 'offline_access').join(' ');
		const at = new provider.AccessToken({
			accountId: subject.accountId, client: ctx.oidc.client,
			grantId: subject.grantId, gty: 'token_exchange',
			scope: scope || undefined,
		});
		const value = await at.save();
		stats.exchange = {
			sub: subject.accountId, audience: p.audience || null,
			scope, actor: actor ? actor.accountId : null,
		};
		ctx.body = {
			access_token: value, token_type: 'Bearer',
			issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
			expires_in: at.expiration, scope: at.scope,
		};
	}, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type',
	    'audience', 'scope', 'requested_token_type']);
}

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
		// Every relying party of the tests listens on 127.0.0.1, which
		// the library's SSRF guard for outgoing requests refuses
		// ("fetch failed"): drop the guard, or no back-channel logout
		// token could ever be delivered.
		fetch: (url, options) => {
			delete options.dispatcher;
			return fetch(url, options);
		},
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
			pushedAuthorizationRequests: { enabled: true },
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
			// The ID token's sub is the account's id: a CIBA
			// token request finds another account when told.
			const as = ctx?.oidc?.params?.grant_type === CIBA_GRANT ?
			    cibaIdTokenSub.get(id) : undefined;
			return {
				accountId: as ?? id,
				async claims(use) { return accountClaims(as ?? id, use); },
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
	if (env.IDP_RESOURCES === '1')
		configureResources(config);
	if (env.IDP_DPOP === '1' || env.IDP_DPOP === 'nonce')
		configureDpop(config);
	const ciba = { pending: new Map(), slowDown: 0 };
	if (env.IDP_CIBA === '1')
		configureCiba(config, ciba, issuer);
	if (env.IDP_ROTATE_REFRESH_TOKEN === '1')
		config.rotateRefreshToken = true;
	else if (env.IDP_ROTATE_REFRESH_TOKEN === '0')
		config.rotateRefreshToken = false;

	const provider = new Provider(issuer, config);
	provider.proxy = false;
	if (env.IDP_AUTH0_VAULT === '1')	// Token Vault, My Account API
		(await import('./auth0-vault.mjs')).installAuth0Vault(provider, { issuer, errors, log });
	if (env.IDP_TOKEN_EXCHANGE === '1')
		registerTokenExchange(provider, config);
	// ID tokens always carry sid, as Auth0's do (the library adds it only
	// for clients registered for back-channel logout).
	if (env.IDP_ALWAYS_SID !== '0')
		provider.Client.prototype.includeSid = () => true;

	if (env.IDP_RESOURCES === '1') {
		// MRRT: whatever resource a refresh token was first issued for,
		// it may name any resource server (the grant holds their scopes,
		// see loadExistingGrant).
		const proto = provider.RefreshToken.prototype;
		const base = Object.getOwnPropertyDescriptor(
		    Object.getPrototypeOf(proto), 'resourceIndicators');
		Object.defineProperty(proto, 'resourceIndicators', {
			configurable: true,
			get() {
				const own = base ? base.get.call(this) : new Set();
				for (const r of Object.keys(RESOURCES))
					own.add(r);
				return own;
			},
		});
	}

	// Grants per account, for /test/revoke.
	const grantsOf = new Map();
	provider.on('grant.saved', (grant) => {
		if (!grant.accountId)
			return;
		if (!grantsOf.has(grant.accountId))
			grantsOf.set(grant.accountId, new Set());
		grantsOf.get(grant.accountId).add(grant.jti);
	});
	provider.on('grant.revoked', () => { stats.grants_revoked++; });

	provider.on('grant.success', (ctx) => {
		const gt = ctx.oidc?.params?.grant_type || 'unknown';
		stats.token[gt] = (stats.token[gt] || 0) + 1;
	});
	provider.on('grant.error', (ctx, err) => {
		stats.token.errors++;
		if (err.error === 'use_dpop_nonce')
			stats.dpop_nonce_errors = (stats.dpop_nonce_errors || 0) + 1;
		if (err.error_detail === 'refresh token already used')
			stats.token.reused++;
		log(`token error: ${err.message} ${err.error_description || ''} ${err.error_detail || ''}`);
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

	const tokenDelay = Number(env.IDP_TOKEN_DELAY_MS || 0);
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
		if (path === '/test/issued') {
			ctx.type = 'json';
			ctx.set('Cache-Control', 'no-store');
			ctx.body = JSON.stringify(issued);
			return;
		}
		if (path === '/test/reset' && ctx.method === 'POST') {
			resetStats();
			ctx.status = 204;
			return;
		}
		if (path === '/test/revoke' && ctx.method === 'POST') {
			const ids = grantsOf.get(String(ctx.query.sub || '')) || new Set();
			let n = 0;
			for (const id of ids) {
				await provider.RefreshToken.revokeByGrantId(id);
				await provider.AccessToken.revokeByGrantId(id);
				await provider.AuthorizationCode.revokeByGrantId(id);
				if (await provider.Grant.find(id))
					n++;
				await provider.Grant.adapter.destroy(id);
			}
			ids.clear();
			stats.grants_revoked += n;
			ctx.type = 'json';
			ctx.body = JSON.stringify({ revoked: n });
			return;
		}
		if (path === '/test/sign' && ctx.method === 'POST') {
			// A JWT signed with the provider's RS256 key (kid rsa1):
			// header and payload are JSON in the query; header
			// members override {alg: RS256, kid: rsa1}.
			const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
			const header = { alg: 'RS256', kid: 'rsa1', ...JSON.parse(ctx.query.header || '{}') };
			const input = `${enc(header)}.${enc(JSON.parse(ctx.query.payload || '{}'))}`;
			const sig = crypto.sign('sha256', Buffer.from(input), rsa.privateKey);
			ctx.type = 'text';
			ctx.body = `${input}.${sig.toString('base64url')}`;
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
		if (path === '/test/claims' && ctx.method === 'POST') {
			const id = String(ctx.query.sub || '');
			claimOverrides.set(id, { ...(claimOverrides.get(id) || {}),
			    ...JSON.parse(ctx.query.set || '{}') });
			ctx.type = 'json';
			ctx.body = JSON.stringify(claimOverrides.get(id));
			return;
		}
		if (path.startsWith('/test/ciba/')) {
			await cibaHook(provider, ciba, ctx);
			return;
		}
		const basic = /^basic /i.test(ctx.get('authorization'));
		if (tokenDelay > 0 && ctx.method === 'POST' && /\/token$/.test(path)) {
			// Slow token endpoint: parallel refreshes overlap for sure.
			await new Promise((r) => setTimeout(r, tokenDelay));
		}
		await next();
		if (ctx.oidc?.route === 'token' || ctx.oidc?.route === 'pushed_authorization_request')
			countClientAuth(ctx, basic);
		if (ctx.oidc?.route === 'token' && ctx.body && typeof ctx.body === 'object')
			recordIssued(ctx.body.access_token, ctx.body.refresh_token, ctx.body.id_token);
		const loc = ctx.response.get('location');
		if (loc && /[?&#]code=/.test(loc)) {
			try {
				const u = new URL(loc, 'http://x/');
				recordIssued(u.searchParams.get('code') ||
				    new URLSearchParams(u.hash.slice(1)).get('code'));
			} catch { /* not a URL */ }
		}
		if (env.IDP_CIBA === '1')
			cibaAfter(ciba, ctx);
		switch (ctx.oidc?.route) {
		case 'token': stats.token.total++; break;
		case 'userinfo': stats.userinfo++; break;
		case 'revocation': stats.revocation++; break;
		case 'end_session': stats.end_session++; break;
		case 'authorization': stats.authorization++; break;
		case 'discovery': stats.discovery++; break;
		case 'jwks': stats.jwks++; break;
		case 'pushed_authorization_request':
			stats.par++;
			stats.par_dpop_jkt = ctx.oidc.params?.dpop_jkt ?? null;
			break;
		}
		if (ctx.status >= 500)
			log(`${ctx.method} ${ctx.url} -> ${ctx.status}`);
	});

	// Optional fakes of Auth0-only APIs, one line each.
	if (env.IDP_AUTH0_MFA === '1')
		(await import('./auth0-mfa.mjs')).installAuth0Mfa(provider, { log });

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
