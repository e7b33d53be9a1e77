// auth0-mfa.mjs -- a fake of Auth0's MFA API inside the test provider
// (tests/idp/provider.mjs, oidc-provider on Koa), switched on with
// IDP_AUTH0_MFA=1.  Auth0's MFA API exists only at Auth0; authgate's
// MFA step-up (lib/mfa.c, fcgi/h-mfa.c) is tested against this fake.
//
// It follows Auth0's public documentation:
//   - Authentication API, "Multi-factor Authentication":
//     GET /mfa/authenticators (List authenticators),
//     POST /mfa/challenge (Challenge with OTP / OOB),
//     POST /mfa/associate (Add an authenticator: OTP, SMS/voice, push),
//     POST /oauth/token with grant_type
//       http://auth0.com/oauth/grant-type/mfa-otp (Verify with OTP),
//       http://auth0.com/oauth/grant-type/mfa-oob (Verify with OOB),
//       http://auth0.com/oauth/grant-type/mfa-recovery-code (Verify
//       with recovery code; answers a new recovery_code);
//   - "Multi-Factor Authentication and Refresh Tokens" / "Step-up
//     authentication for APIs": a refresh (or MRRT request) for an API
//     whose policy demands MFA answers 403 {"error":"mfa_required",
//     "error_description":"Multifactor authentication required",
//     "mfa_token", "mfa_requirements": {"challenge":[{"type"}...]} or
//     {"enroll":[{"type"}...]}}.
// Error answers as Auth0 gives them: 403 invalid_grant "Invalid
// otp_code." / "Invalid binding_code." / "MFA Authorization rejected.",
// 403 expired_token "mfa_token is expired", 401 invalid_grant
// "Malformed mfa_token", 400 unsupported_challenge_type, 403
// association_required, 403 access_denied "User is already enrolled.",
// 400 invalid_request for missing fields.
//
// What it simplifies:
//   - Only the refresh_token grant is intercepted, for MFA_AUDIENCE
//     (named as "audience" or as RFC 8707 "resource"); other audiences
//     are untouched.  The refresh token is looked up to find the user
//     but not consumed (Auth0 does not consume it either).
//   - Users: alice has an OTP app, an SMS phone and a recovery code;
//     bob has nothing enrolled (mfa_requirements.enroll) until he
//     associates an authenticator; anyone else is treated like bob.
//   - OTP codes are not time-based: OTP_CODE is the right code; the SMS
//     "sent" for an OOB challenge always carries BINDING_CODE.  Push
//     (oob channel auth0) is approved on the second poll (the first
//     answers authorization_pending).
//   - mfa_tokens are shaped and sized like Auth0's JWTs (header,
//     payload with the usual claims, a 2048-bit RS256 signature: about
//     700 characters) but not signed; they live MFA_TOKEN_TTL seconds
//     and a successful verify consumes it.
//   - The access token the grants return is opaque and not accepted by
//     the test API (tests/lib/api.mjs); the tests only need it stored.
//   - /mfa/challenge takes the client's credentials in the body, as
//     Auth0's Authentication API documents it (JSON or form): client_id
//     (required) and client_secret, or client_assertion_type +
//     client_assertion (private_key_jwt: iss, sub and aud checked, the
//     signature not -- the token endpoint tests cover it); a Basic
//     header is refused (401).  The other endpoints authenticate with
//     the mfa_token alone, as Auth0's do.
//
// Test hooks: GET /test/mfa -> counters {authenticators, challenge,
// associate, grants:{otp,oob,recovery}, mfa_required}; POST
// /test/mfa/expire?token=all -> every mfa_token issued so far expires;
// POST /test/mfa/config?expires_in=0&malformed=1 -> the grants' answers
// leave out expires_in (RFC 6749 5.1 makes it optional); the
// authenticator list gets an entry without a type (each call sets
// both: absent means expires_in sent, no malformed entry).

import crypto from 'node:crypto';
import { errors } from 'oidc-provider';

export const MFA_AUDIENCE = 'https://mfa.example.test/';
export const OTP_CODE = '123456';
export const BINDING_CODE = '246810';
export const RECOVERY_CODES = { alice: 'ALICE0RECOVERY0CODE000000' };
const MFA_TOKEN_TTL = 600;
const ACCESS_TOKEN_TTL = 3600;
const MAX_BODY = 64 * 1024;

const GRANT = 'http://auth0.com/oauth/grant-type/';
const GRANTS = {
	otp: `${GRANT}mfa-otp`,
	oob: `${GRANT}mfa-oob`,
	recovery: `${GRANT}mfa-recovery-code`,
};

const random = (n = 24) => crypto.randomBytes(n).toString('base64url');
const b64json = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

// An mfa_token the size and shape of Auth0's (a JWT, ~700 characters).
function mfaTokenJwt(accountId, clientId, exp) {
	const now = Math.floor(Date.now() / 1000);
	return [
		b64json({ alg: 'RS256', typ: 'JWT', kid: random(16) }),
		b64json({
			iss: 'https://tenant.auth0.example/', sub: `auth0|${accountId}`,
			aud: 'https://tenant.auth0.example/mfa/', client_id: clientId,
			iat: now, exp, scope: 'enroll read:authenticators remove:authenticators',
			jti: random(16),
		}),
		random(256),
	].join('.');
}

// An Auth0-style OAuth error with its status, thrown from a grant.
class Auth0Error extends errors.CustomOIDCProviderError {
	constructor(status, error, description) {
		super(error, description);
		this.status = status;
		this.statusCode = status;
	}
}

// accountId -> authenticators [{id, authenticator_type, oob_channel?,
// name?, active}] and the recovery code.
function initialUsers() {
	return new Map([
		['alice', {
			authenticators: [
				{ id: 'totp|dev_alice', authenticator_type: 'otp', active: true },
				{ id: 'sms|dev_alice', authenticator_type: 'oob', oob_channel: 'sms',
				    name: '+15550100', active: true },
				{ id: 'recovery-code|dev_alice', authenticator_type: 'recovery-code',
				    active: true },
			],
			recovery: RECOVERY_CODES.alice,
		}],
	]);
}

export function installAuth0Mfa(provider, opts = {}) {
	const log = opts.log || (() => {});
	const users = initialUsers();
	const tokens = new Map();	// mfa_token -> {accountId, clientId, exp, ...}
	const config = { expiresIn: true, malformed: false };
	const stats = {
		authenticators: 0, challenge: 0, associate: 0, mfa_required: 0,
		grants: { otp: 0, oob: 0, recovery: 0 },
	};

	const userOf = (id) => {
		if (!users.has(id))
			users.set(id, { authenticators: [], recovery: null });
		return users.get(id);
	};
	const active = (u) => u.authenticators.filter((a) => a.active);

	function requirements(accountId) {
		const list = active(userOf(accountId));
		if (list.length === 0)
			return { enroll: [{ type: 'otp' }, { type: 'oob' }] };
		const types = [...new Set(list.map((a) => a.authenticator_type))];
		return { challenge: types.map((type) => ({ type })) };
	}

	// The mfa_token's entry, or an Auth0 error [status, body].
	function lookup(token) {
		const t = token ? tokens.get(token) : undefined;
		if (!t)
			return [null, [401, { error: 'invalid_grant', error_description: 'Malformed mfa_token' }]];
		if (t.exp <= Date.now() / 1000)
			return [null, [403, { error: 'expired_token', error_description: 'mfa_token is expired' }]];
		return [t, null];
	}

	async function readBody(ctx) {
		const chunks = [];
		let n = 0;
		// Already read by another fake (IDP_AUTH0_VAULT): kept there.
		if (typeof ctx.req.body === 'string')
			return ctx.req.body;
		for await (const c of ctx.req) {
			n += c.length;
			if (n > MAX_BODY)
				throw new Error('request body too large');
			chunks.push(c);
		}
		return Buffer.concat(chunks).toString('utf8');
	}

	function parse(ctx, text) {
		if (ctx.is('application/json'))
			return JSON.parse(text || '{}');
		return Object.fromEntries(new URLSearchParams(text));
	}

	function send(ctx, status, body) {
		ctx.status = status;
		ctx.type = 'json';
		ctx.set('Cache-Control', 'no-store');
		ctx.body = JSON.stringify(body);
	}

	function bearer(ctx) {
		const m = /^Bearer (\S+)$/i.exec(ctx.get('authorization') || '');
		return m ? m[1] : null;
	}

	// /mfa/challenge client authentication: Basic or body credentials.
	async function clientOf(ctx, body) {
		stats.last_challenge = { content_type: ctx.get('content-type'),
		    basic: /^Basic /i.test(ctx.get('authorization') || ''),
		    members: Object.keys(body).sort() };
		if (stats.last_challenge.basic || typeof body.client_id !== 'string')
			return null;
		const client = await provider.Client.find(body.client_id);
		if (!client)
			return null;
		if (body.client_assertion !== undefined) {
			let claims;
			try {
				claims = JSON.parse(Buffer.from(String(body.client_assertion).split('.')[1], 'base64url'));
			} catch {
				return null;
			}
			return body.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' &&
			    claims.iss === client.clientId && claims.sub === client.clientId &&
			    claims.aud === provider.issuer ? client : null;
		}
		return body.client_secret && client.clientSecret === body.client_secret ? client : null;
	}

	// The refresh interception: 403 mfa_required for MFA_AUDIENCE.
	async function refresh(ctx, params) {
		const aud = params.audience || params.resource;
		if (params.grant_type !== 'refresh_token' || aud !== MFA_AUDIENCE)
			return false;
		const rt = await provider.RefreshToken.find(String(params.refresh_token || ''));
		if (!rt)
			return false;	// the library answers invalid_grant
		const exp = Math.floor(Date.now() / 1000) + MFA_TOKEN_TTL;
		const token = mfaTokenJwt(rt.accountId, rt.clientId, exp);
		tokens.set(token, {
			accountId: rt.accountId, clientId: rt.clientId, exp,
			audience: aud, scope: params.scope || 'read',
		});
		stats.mfa_required++;
		send(ctx, 403, {
			error: 'mfa_required',
			error_description: 'Multifactor authentication required',
			mfa_token: token,
			mfa_requirements: requirements(rt.accountId),
		});
		return true;
	}

	async function authenticators(ctx) {
		stats.authenticators++;
		const [t, err] = lookup(bearer(ctx));
		if (!t)
			return send(ctx, ...err);
		// Auth0's members: authenticator_type, and type (the
		// feature-flagged one the SDK filters on) with the same value.
		const list = userOf(t.accountId).authenticators.map((a) => ({ ...a, type: a.authenticator_type }));
		if (config.malformed)
			list.push({ id: 'webauthn|dev_broken', active: true });
		send(ctx, 200, list);
	}

	async function challenge(ctx, body) {
		stats.challenge++;
		if (!(await clientOf(ctx, body)))
			return send(ctx, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
		if (!body.mfa_token || !body.challenge_type)
			return send(ctx, 400, { error: 'invalid_request', error_description: 'mfa_token and challenge_type are required' });
		const [t, err] = lookup(body.mfa_token);
		if (!t)
			return send(ctx, ...err);
		const list = active(userOf(t.accountId));
		if (list.length === 0)
			return send(ctx, 403, { error: 'association_required', error_description: 'User must associate an authenticator' });
		const types = String(body.challenge_type).split(' ');
		let pick = list.filter((a) => types.includes(a.authenticator_type));
		if (body.authenticator_id)
			pick = pick.filter((a) => a.id === body.authenticator_id);
		if (pick.length === 0 || types.some((x) => x !== 'otp' && x !== 'oob'))
			return send(ctx, 400, { error: 'unsupported_challenge_type',
			    error_description: 'User does not have any authenticator of the requested type' });
		const a = pick.find((x) => x.authenticator_type === 'otp') || pick[0];
		if (a.authenticator_type === 'otp')
			return send(ctx, 200, { challenge_type: 'otp' });
		t.oob = { code: random(16), channel: a.oob_channel, polls: 0 };
		const res = { challenge_type: 'oob', oob_code: t.oob.code };
		if (a.oob_channel !== 'auth0')
			res.binding_method = 'prompt';
		send(ctx, 200, res);
	}

	async function associate(ctx, body) {
		stats.associate++;
		const [t, err] = lookup(bearer(ctx));
		if (!t)
			return send(ctx, ...err);
		const u = userOf(t.accountId);
		const types = body.authenticator_types;
		if (!Array.isArray(types) || types.length === 0)
			return send(ctx, 400, { error: 'invalid_request', error_description: 'authenticator_types is required' });
		if (active(u).length > 0)
			return send(ctx, 403, { error: 'access_denied', error_description: 'User is already enrolled.' });
		if (!u.recovery)
			u.recovery = random(18).toUpperCase();
		const recovery_codes = [u.recovery];
		if (types[0] === 'otp') {
			u.authenticators = u.authenticators.filter((a) => a.active);
			u.authenticators.push({ id: `totp|dev_${random(6)}`, authenticator_type: 'otp', active: false });
			return send(ctx, 200, {
				authenticator_type: 'otp', secret: 'JBSWY3DPEHPK3PXP',
				barcode_uri: `otpauth://totp/fake:${t.accountId}?secret=JBSWY3DPEHPK3PXP&issuer=fake`,
				recovery_codes,
			});
		}
		const ch = Array.isArray(body.oob_channels) ? body.oob_channels[0] : undefined;
		if (types[0] !== 'oob' || !['sms', 'voice', 'auth0', 'email'].includes(ch))
			return send(ctx, 400, { error: 'unsupported_challenge_type', error_description: 'Unsupported authenticator type' });
		if ((ch === 'sms' || ch === 'voice') && !body.phone_number)
			return send(ctx, 400, { error: 'invalid_request', error_description: 'phone_number is required' });
		u.authenticators.push({ id: `${ch}|dev_${random(6)}`, authenticator_type: 'oob',
		    oob_channel: ch, name: body.phone_number || body.email, active: false });
		t.oob = { code: random(16), channel: ch, polls: 0 };
		const res = { authenticator_type: 'oob', oob_channel: ch, oob_code: t.oob.code, recovery_codes };
		if (ch !== 'auth0')
			res.binding_method = 'prompt';
		send(ctx, 200, res);
	}

	// The token endpoint grants.
	function grant(kind) {
		return async (ctx) => {
			stats.grants[kind]++;
			const p = ctx.oidc.params;
			const t = p.mfa_token ? tokens.get(p.mfa_token) : undefined;
			if (!t || t.clientId !== ctx.oidc.client.clientId)
				throw new Auth0Error(403, 'invalid_grant', 'Malformed mfa_token');
			if (t.exp <= Date.now() / 1000)
				throw new Auth0Error(403, 'expired_token', 'mfa_token is expired');
			const u = userOf(t.accountId);
			const res = {};
			if (kind === 'otp') {
				const a = u.authenticators.find((x) => x.authenticator_type === 'otp');
				if (!a)
					throw new Auth0Error(403, 'association_required', 'User must associate an authenticator');
				if (p.otp !== OTP_CODE)
					throw new Auth0Error(403, 'invalid_grant', 'Invalid otp_code.');
				a.active = true;
			} else if (kind === 'oob') {
				if (!t.oob || p.oob_code !== t.oob.code)
					throw new Auth0Error(403, 'invalid_grant', 'Invalid oob_code.');
				if (t.oob.channel === 'auth0' && t.oob.polls++ === 0)
					throw new Auth0Error(400, 'authorization_pending', 'Authorization pending: please repeat the request in a few seconds.');
				if (t.oob.channel !== 'auth0' && p.binding_code !== BINDING_CODE)
					throw new Auth0Error(403, 'invalid_grant', 'Invalid binding_code.');
				for (const a of u.authenticators)
					if (a.oob_channel === t.oob.channel)
						a.active = true;
			} else {
				if (!u.recovery || p.recovery_code !== u.recovery)
					throw new Auth0Error(403, 'invalid_grant', 'Invalid recovery_code.');
				u.recovery = random(18).toUpperCase();
				res.recovery_code = u.recovery;
			}
			tokens.delete(p.mfa_token);
			ctx.body = {
				access_token: `mfa-at-${random()}`,
				expires_in: config.expiresIn ? ACCESS_TOKEN_TTL : undefined,
				token_type: 'Bearer',
				scope: t.scope,
				...res,
			};
		};
	}

	provider.registerGrantType(GRANTS.otp, grant('otp'), ['mfa_token', 'otp']);
	provider.registerGrantType(GRANTS.oob, grant('oob'), ['mfa_token', 'oob_code', 'binding_code']);
	provider.registerGrantType(GRANTS.recovery, grant('recovery'), ['mfa_token', 'recovery_code']);
	// Every client may use them (Auth0: the "MFA" grant of the application).
	const allowed = provider.Client.prototype.grantTypeAllowed;
	provider.Client.prototype.grantTypeAllowed = function (type) {
		return Object.values(GRANTS).includes(type) || allowed.call(this, type);
	};

	provider.use(async (ctx, next) => {
		const path = ctx.path;
		if (path === '/test/mfa' && ctx.method === 'GET')
			return send(ctx, 200, stats);
		if (path === '/test/mfa/expire' && ctx.method === 'POST') {
			for (const t of tokens.values())
				t.exp = 0;
			return send(ctx, 200, { expired: tokens.size });
		}
		if (path === '/test/mfa/config' && ctx.method === 'POST') {
			config.expiresIn = ctx.query.expires_in !== '0';
			config.malformed = ctx.query.malformed === '1';
			return send(ctx, 200, config);
		}
		if (path === '/mfa/authenticators' && ctx.method === 'GET')
			return authenticators(ctx);
		const mine = (path === '/mfa/challenge' || path === '/mfa/associate') &&
		    ctx.method === 'POST';
		const token = path === '/token' && ctx.method === 'POST' &&
		    ctx.is('application/x-www-form-urlencoded');
		if (!mine && !token)
			return next();
		let text;
		try {
			text = await readBody(ctx);
		} catch (e) {
			return send(ctx, 413, { error: 'invalid_request', error_description: e.message });
		}
		if (token) {
			// The library reads an already consumed body from req.body.
			ctx.req.body = text;
			if (await refresh(ctx, Object.fromEntries(new URLSearchParams(text))))
				return undefined;
			return next();
		}
		let body;
		try {
			body = parse(ctx, text);
		} catch {
			return send(ctx, 400, { error: 'invalid_request', error_description: 'Invalid JSON' });
		}
		log(`auth0-mfa: POST ${path}`);
		return path === '/mfa/challenge' ? challenge(ctx, body) : associate(ctx, body);
	});

	return { stats, tokens };
}
