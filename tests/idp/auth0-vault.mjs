// A fake of Auth0's Token Vault and My Account API (connected
// accounts), installed into the test provider (tests/idp/provider.mjs,
// oidc-provider 9.13.3) when IDP_AUTH0_VAULT=1.  Both are Auth0-only;
// this follows Auth0's public documentation:
//   - "Token Vault" / "Access token exchange with Token Vault"
//     (auth0.com/docs/secure/tokens/token-vault/...): token endpoint,
//     grant_type urn:auth0:params:oauth:grant-type:token-exchange:
//     federated-connection-access-token, subject_token (a refresh token,
//     subject_token_type urn:ietf:params:oauth:token-type:refresh_token,
//     or an access token, ...:access_token), requested_token_type
//     http://auth0.com/oauth/token-type/federated-connection-access-token,
//     connection, login_hint; answer {access_token, scope, expires_in,
//     issued_token_type, token_type: "Bearer"}; a user without a token
//     for that connection gets 401 {"error":
//     "federated_connection_refresh_token_not_found"}.
//   - "My Account API" (auth0.com/docs/api/myaccount, Connected
//     Accounts): audience https://TENANT/me/, scopes
//     create|read|delete:me:connected_accounts;
//     POST /me/v1/connected-accounts/connect {connection, redirect_uri,
//     state, code_challenge, code_challenge_method, scopes?,
//     authorization_params?} -> 201 {auth_session, connect_uri,
//     connect_params: {ticket}, expires_in};
//     POST /me/v1/connected-accounts/complete {auth_session,
//     connect_code, redirect_uri, code_verifier} -> 201 {id, connection,
//     access_type, scopes, created_at, expires_at?};
//     GET /me/v1/connected-accounts/accounts[?next=CURSOR] ->
//     {accounts: [...], next?}; DELETE .../accounts/{id} -> 204.
//     Errors are application/problem+json {type, status, title, detail}.
//
// Simplifications:
//   - The My Account token comes from the refresh_token grant with
//     audience (or resource) = ISSUER/me/, handled here before
//     oidc-provider sees the request (as Auth0's multi-resource refresh
//     tokens do): the refresh token is rotated (consumed, a new one in
//     the answer, as Auth0 does with refresh token rotation on; a
//     consumed one is refused with invalid_grant); the token is opaque ("me.<random>"), valid ME_TTL seconds, and grants
//     the requested scopes that are My Account scopes.  Client
//     authentication: client_secret_basic or client_secret_post only.
//   - Every client may use the federated-connection grant (Auth0: the
//     "Token Vault" grant enabled on the application).
//   - CONNECTIONS are the only connections; every user has a token for
//     "google-oauth2" (as if they had logged in with Google); others
//     need a connected account (the connect flow below).
//   - connect_uri is ISSUER/connect: it skips the third-party consent
//     and redirects at once to redirect_uri?connect_code=...&state=...
//   - Connection tokens are opaque ("fc.<connection>.<n>.<random>").
//
// Test endpoints:
//   GET  /test/vault/stats   {fcat, fcat_errors, me_token, me_rotations, connect,
//                            complete, list, delete, last_fcat (form
//                            without secrets), last_connect, last_complete}
//   POST /test/vault/config?ttl=S        connection token lifetime
//   POST /test/vault/config?big=1        connect_uri and ticket of 2048
//                            bytes, the ticket all '/' (reset: off)
//   POST /test/vault/config?cycle=1      the account list's "next"
//                            cursors cycle 0 -> 2 -> 0 (reset: off)
//   POST /test/vault/fail?connection=C[&error=E]  the next exchange for C
//                            fails with E (default invalid_grant)
//   POST /test/vault/reset   counters and accounts back to the start

import crypto from 'node:crypto';
import querystring from 'node:querystring';

export const FCAT_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
export const FCAT_TYPE = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
const RT_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
const AT_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const ME_SCOPES = ['create:me:connected_accounts', 'read:me:connected_accounts',
    'delete:me:connected_accounts'];
export const CONNECTIONS = {
	'google-oauth2': 'https://www.googleapis.com/auth/calendar.readonly',
	github: 'repo read:user',
	'sign-in-with-slack': 'channels:read',
};
const ME_TTL = 300;

function rnd() {
	return crypto.randomBytes(18).toString('base64url');
}

export function installAuth0Vault(provider, { issuer, errors, log }) {
	const ME = `${issuer.replace(/\/+$/, '')}/me/`;
	let state;
	function reset() {
		state = {
			ttl: 3600,
			fail: new Map(),	// connection -> error
			meTokens: new Map(),	// token -> {sub, scope, exp}
			sessions: new Map(),	// auth_session -> connect request
			accounts: [],		// {id, sub, connection, ...}
			stats: {
				fcat: 0, fcat_errors: 0, me_token: 0, me_rotations: 0, connect: 0,
				complete: 0, list: 0, delete: 0,
			},
		};
	}
	reset();

	function hasToken(sub, connection) {
		return connection === 'google-oauth2' ||
		    state.accounts.some((a) => a.sub === sub && a.connection === connection);
	}

	// The federated-connection grant.
	class FederatedError extends errors.OIDCProviderError {
		constructor(code, description, status = 400) {
			super(status, code);
			this.error_description = description;
		}
	}
	const allowed = provider.Client.prototype.grantTypeAllowed;
	provider.Client.prototype.grantTypeAllowed = function (type) {
		return type === FCAT_GRANT || allowed.call(this, type);
	};
	provider.registerGrantType(FCAT_GRANT, async (ctx) => {
		const p = ctx.oidc.params;
		state.stats.fcat++;
		state.stats.last_fcat = {
			connection: p.connection, login_hint: p.login_hint,
			subject_token_type: p.subject_token_type,
			requested_token_type: p.requested_token_type,
		};
		try {
			if (p.requested_token_type !== FCAT_TYPE)
				throw new errors.InvalidRequest('requested_token_type must be ' + FCAT_TYPE);
			if (!p.connection || !Object.hasOwn(CONNECTIONS, p.connection))
				throw new errors.InvalidRequest('unknown connection');
			let tok;
			if (p.subject_token_type === RT_TYPE)
				tok = await provider.RefreshToken.find(p.subject_token || '');
			else if (p.subject_token_type === AT_TYPE)
				tok = await provider.AccessToken.find(p.subject_token || '');
			else
				throw new errors.InvalidRequest('unsupported subject_token_type');
			if (!tok || tok.isExpired || tok.consumed ||
			    tok.clientId !== ctx.oidc.client.clientId)
				throw new errors.InvalidGrant('invalid subject_token');
			const failure = state.fail.get(p.connection);
			if (failure) {
				state.fail.delete(p.connection);
				throw new FederatedError(failure, 'the upstream refresh token was revoked');
			}
			if (!hasToken(tok.accountId, p.connection))
				throw new FederatedError('federated_connection_refresh_token_not_found',
				    'Federated connection Refresh Token not found.', 401);
			ctx.body = {
				access_token: `fc.${p.connection}.${state.stats.fcat}.${rnd()}`,
				scope: CONNECTIONS[p.connection],
				expires_in: state.ttl,
				issued_token_type: FCAT_TYPE,
				token_type: 'Bearer',
			};
		} catch (e) {
			state.stats.fcat_errors++;
			throw e;
		}
	}, ['subject_token', 'subject_token_type', 'requested_token_type',
	    'connection', 'login_hint']);

	function problem(ctx, status, title, detail) {
		ctx.status = status;
		ctx.type = 'application/problem+json';
		ctx.body = JSON.stringify({
			type: `https://auth0.com/api-errors/${title.toLowerCase().replace(/ /g, '-')}`,
			status, title, detail,
		});
	}

	async function readBody(ctx) {
		const chunks = [];
		// Already read by another fake (IDP_AUTH0_MFA): kept there.
		if (typeof ctx.req.body === 'string')
			return ctx.req.body;
		for await (const c of ctx.req)
			chunks.push(c);
		return Buffer.concat(chunks).toString('utf8');
	}

	// Client authentication of a token request (secret methods only).
	async function clientOf(ctx, form) {
		let id = form.client_id;
		let secret = form.client_secret;
		const m = /^basic (.+)$/i.exec(ctx.get('authorization'));
		if (m) {
			const [u, pw] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
			id = decodeURIComponent(u);
			secret = decodeURIComponent(pw ?? '');
		}
		const client = id ? await provider.Client.find(String(id)) : undefined;
		return client && client.clientSecret && secret === client.clientSecret ? client : null;
	}

	// refresh_token grant for the My Account audience.
	async function meToken(ctx, form) {
		const client = await clientOf(ctx, form);
		ctx.type = 'json';
		ctx.set('Cache-Control', 'no-store');
		if (!client) {
			ctx.status = 401;
			ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' };
			return;
		}
		const rt = await provider.RefreshToken.find(String(form.refresh_token || ''));
		if (!rt || rt.isExpired || rt.consumed || rt.clientId !== client.clientId) {
			ctx.status = 400;
			ctx.body = { error: 'invalid_grant', error_description: 'invalid refresh token' };
			return;
		}
		const scope = String(form.scope || '').split(' ').filter((s) => ME_SCOPES.includes(s)).join(' ');
		const token = `me.${rnd()}`;
		state.meTokens.set(token, { sub: rt.accountId, clientId: client.clientId, scope, exp: Date.now() / 1000 + ME_TTL });
		state.stats.me_token++;
		const refreshToken = await rotate(rt, client);
		ctx.body = { access_token: token, token_type: 'Bearer', expires_in: ME_TTL, scope, refresh_token: refreshToken };
	}

	// Consume rt and save its successor (as oidc-provider's own rotation
	// in lib/actions/grants/refresh_token.js); the new value.
	async function rotate(rt, client) {
		await rt.consume();
		state.stats.me_rotations++;
		const next = new provider.RefreshToken({
			accountId: rt.accountId, acr: rt.acr, amr: rt.amr, authTime: rt.authTime,
			claims: rt.claims, client, expiresWithSession: rt.expiresWithSession,
			iiat: rt.iiat, grantId: rt.grantId, gty: rt.gty, nonce: rt.nonce,
			resource: rt.resource, scope: rt.scope, sessionUid: rt.sessionUid, sid: rt.sid,
			rotations: typeof rt.rotations === 'number' ? rt.rotations + 1 : 1,
			'x5t#S256': rt['x5t#S256'], jkt: rt.jkt,
		});
		return next.save();
	}

	// The My Account API's bearer check.
	function meAuth(ctx, scope) {
		const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
		const t = m && state.meTokens.get(m[1]);
		if (!t || t.exp < Date.now() / 1000) {
			problem(ctx, 401, 'Unauthorized', 'Invalid token');
			return null;
		}
		if (!t.scope.split(' ').includes(scope)) {
			problem(ctx, 403, 'Forbidden', `Insufficient scope, expected: ${scope}`);
			return null;
		}
		return t;
	}

	function json(ctx, status, body) {
		ctx.status = status;
		ctx.type = 'json';
		ctx.body = JSON.stringify(body);
	}

	function publicAccount(a) {
		const { sub: _sub, ...rest } = a;
		return rest;
	}

	const base = '/me/v1/connected-accounts';
	provider.use(async (ctx, next) => {
		const path = ctx.path;
		if (path === '/token' && ctx.method === 'POST' &&
		    ctx.is('application/x-www-form-urlencoded')) {
			const raw = await readBody(ctx);
			const form = querystring.parse(raw);
			if (form.grant_type === 'refresh_token' &&
			    (form.audience === ME || form.resource === ME)) {
				await meToken(ctx, form);
				return;
			}
			// Not ours: oidc-provider parses what was read.
			ctx.req.body = raw;
			return next();
		}
		if (path === '/test/vault/stats') {
			json(ctx, 200, { ...state.stats, accounts: state.accounts.length });
			return;
		}
		if (path === '/test/vault/config' && ctx.method === 'POST') {
			if (ctx.query.ttl !== undefined)
				state.ttl = Number(ctx.query.ttl);
			if (ctx.query.big !== undefined)
				state.big = ctx.query.big === '1';
			if (ctx.query.cycle !== undefined)
				state.cycle = ctx.query.cycle === '1';
			ctx.status = 204;
			return;
		}
		if (path === '/test/vault/fail' && ctx.method === 'POST') {
			state.fail.set(String(ctx.query.connection), String(ctx.query.error || 'invalid_grant'));
			ctx.status = 204;
			return;
		}
		if (path === '/test/vault/reset' && ctx.method === 'POST') {
			reset();
			ctx.status = 204;
			return;
		}
		if (path === '/connect' && ctx.method === 'GET') {
			// The third party's consent, skipped: straight back.
			const s = [...state.sessions.values()].find((x) => x.ticket === ctx.query.ticket);
			if (!s || s.used) {
				ctx.status = 400;
				ctx.body = 'unknown or used ticket';
				return;
			}
			s.used = true;
			s.connect_code = rnd();
			const u = new URL(s.redirect_uri);
			u.searchParams.set('connect_code', s.connect_code);
			u.searchParams.set('state', s.state);
			ctx.redirect(u.href);
			return;
		}
		if (!path.startsWith(base))
			return next();
		const rest = path.slice(base.length);
		let body = {};
		if (ctx.method === 'POST') {
			try {
				body = JSON.parse(await readBody(ctx) || '{}');
			} catch {
				problem(ctx, 400, 'Bad Request', 'body is not JSON');
				return;
			}
		}
		if (rest === '/connect' && ctx.method === 'POST') {
			const t = meAuth(ctx, 'create:me:connected_accounts');
			if (!t)
				return;
			state.stats.connect++;
			state.stats.last_connect = body;
			const client = await provider.Client.find(t.clientId);
			if (!Object.hasOwn(CONNECTIONS, body.connection || '')) {
				problem(ctx, 400, 'Bad Request', 'unknown connection');
				return;
			}
			if (!body.state || !body.code_challenge || body.code_challenge_method !== 'S256' ||
			    !client?.redirectUris.includes(body.redirect_uri)) {
				problem(ctx, 400, 'Bad Request', 'invalid connect request');
				return;
			}
			const auth_session = rnd();
			// big: a 2048-byte connect_uri and ticket, the ticket all
			// bytes a query must escape (authgate's limits, at most).
			const ticket = state.big ? '/'.repeat(2048) : rnd();
			let uri = `${issuer.replace(/\/+$/, '')}/connect`;
			if (state.big)
				uri += `?pad=${'p'.repeat(2048 - uri.length - 5)}`;
			const s = { ...body, sub: t.sub, ticket, auth_session };
			state.sessions.set(auth_session, s);
			json(ctx, 201, {
				auth_session,
				connect_uri: uri,
				connect_params: { ticket: s.ticket },
				expires_in: 300,
			});
			return;
		}
		if (rest === '/complete' && ctx.method === 'POST') {
			const t = meAuth(ctx, 'create:me:connected_accounts');
			if (!t)
				return;
			state.stats.complete++;
			state.stats.last_complete = {
				...body, code_verifier: body.code_verifier ? '(present)' : undefined,
			};
			const s = state.sessions.get(body.auth_session);
			const challenge = body.code_verifier ? crypto.createHash('sha256')
			    .update(String(body.code_verifier)).digest('base64url') : null;
			if (!s || s.sub !== t.sub || !s.connect_code ||
			    s.connect_code !== body.connect_code ||
			    s.redirect_uri !== body.redirect_uri || challenge !== s.code_challenge) {
				problem(ctx, 400, 'Bad Request', 'invalid auth_session, connect_code, redirect_uri or code_verifier');
				return;
			}
			state.sessions.delete(body.auth_session);
			const account = {
				id: `cac_${rnd()}`, sub: t.sub, connection: s.connection,
				access_type: 'offline',
				scopes: s.scopes || CONNECTIONS[s.connection].split(' '),
				created_at: new Date().toISOString(),
			};
			state.accounts.push(account);
			json(ctx, 201, publicAccount(account));
			return;
		}
		if (rest === '/accounts' && ctx.method === 'GET') {
			const t = meAuth(ctx, 'read:me:connected_accounts');
			if (!t)
				return;
			state.stats.list++;
			// Pages of two, so that clients must follow "next".
			const mine = state.accounts.filter((a) => a.sub === t.sub);
			const from = Number(ctx.query.next || 0);
			const page = mine.slice(from, from + 2).map(publicAccount);
			// cycle: the pages' cursors go 0 -> 2 -> 0 -> ... forever.
			const next = state.cycle ? String((from + 2) % 4) :
			    from + 2 < mine.length ? String(from + 2) : undefined;
			json(ctx, 200, { accounts: page, ...(next ? { next } : {}) });
			return;
		}
		const m = /^\/accounts\/([^/]+)$/.exec(rest);
		if (m && ctx.method === 'DELETE') {
			const t = meAuth(ctx, 'delete:me:connected_accounts');
			if (!t)
				return;
			state.stats.delete++;
			const i = state.accounts.findIndex((a) => a.id === m[1] && a.sub === t.sub);
			if (i < 0) {
				problem(ctx, 404, 'Not Found', 'connected account not found');
				return;
			}
			state.accounts.splice(i, 1);
			ctx.status = 204;
			return;
		}
		problem(ctx, 404, 'Not Found', 'no such endpoint');
	});
	log?.(`auth0 vault fake on (My Account audience ${ME})`);
}
