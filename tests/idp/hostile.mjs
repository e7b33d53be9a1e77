// hostile.mjs -- a scripted OpenID Provider that misbehaves one way per
// case, for tests/integration/hostile-provider.test.mjs.  Plain node:http
// and node:crypto (no oidc-provider): every case lives under its own
// issuer http://127.0.0.1:PORT/<case> with its own discovery, jwks,
// authorize, token and userinfo endpoints.  The authorize endpoint shows
// no page: it redirects straight back with code + state (+ iss).
//
//   const op = await startHostile({ clientId });
//   op.issuer('alg-none') ... op.stats('alg-none').jwks ... op.stop();
//
// A case is one entry of CASES: what to change from a well-behaved
// provider (hooks get the object to edit and a context).  Run alone
// (node tests/idp/hostile.mjs) it prints {"ready":true,"port":N}.

import http from 'node:http';
import crypto from 'node:crypto';

const b64u = (x) => Buffer.from(typeof x === 'string' || Buffer.isBuffer(x) ? x :
    JSON.stringify(x)).toString('base64url');

function genKeys() {
	const g = (type, o) => crypto.generateKeyPairSync(type, o);
	return {
		rs: g('rsa', { modulusLength: 2048 }),
		rot: g('rsa', { modulusLength: 2048 }),
		ps: g('rsa', { modulusLength: 2048 }),
		es: g('ec', { namedCurve: 'P-256' }),
		ed: g('ed25519'),
	};
}

// The JWK of a key pair's public half.
function jwk(pair, kid, alg) {
	const j = { ...pair.publicKey.export({ format: 'jwk' }), use: 'sig', alg };
	if (kid)
		j.kid = kid;
	return j;
}

// Sign input (string) with alg; key is a KeyObject (or a secret for HS256).
export function signWith(alg, key, input) {
	const data = Buffer.from(input);
	switch (alg) {
	case 'RS256': return crypto.sign('sha256', data, key);
	case 'PS256': return crypto.sign('sha256', data,
	    { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
	case 'ES256': return crypto.sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
	case 'EdDSA': return crypto.sign(null, data, key);
	case 'HS256': return crypto.createHmac('sha256', key).update(data).digest();
	case 'none': return Buffer.alloc(0);
	}
	throw new Error(`alg ${alg}`);
}

export function atHash(alg, accessToken) {
	const h = crypto.createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken).digest();
	return b64u(h.subarray(0, h.length / 2));
}

// Which key signs each alg by default, and its kid.
const SIGNER = { RS256: ['rs', 'rs1'], PS256: ['ps', 'ps1'], ES256: ['es', 'es1'], EdDSA: ['ed', 'ed1'] };
const HS_SECRET = 'hostile-shared-secret-0123456789abcdef';

/*
 * The cases.  Hooks (all optional):
 *   alg                 the signing alg (RS256)
 *   discovery(d, ctx)   edit the discovery document
 *   jwks(keys, ctx)     return the keys served (ctx.fetches: this fetch's number, 1-based)
 *   authorize(q, ctx)   edit the callback's query (URLSearchParams)
 *   header(h, ctx), claims(c, ctx)   edit the ID token
 *   sign(input, ctx)    the signature bytes instead of the normal ones
 *   idToken(jwt, ctx)   the final compact token (or undefined: none)
 *   tokenBody(b, ctx)   edit the token response object
 *   token(req, res, ctx) answer the token request entirely (true: done)
 *   userinfo(u, ctx)    edit the userinfo response
 *   jwksRaw(req, res)   answer the JWKS request entirely
 *   size(what, ctx)     the byte size to pad the discovery document or
 *                       the JWKS to (what: 'discovery' or 'jwks') with
 *                       trailing spaces; undefined: no padding
 */
export const CASES = {
	// accepted
	'rs256': {},
	'es256': { alg: 'ES256' },
	'ps256': { alg: 'PS256' },
	'eddsa': { alg: 'EdDSA' },
	'rs256-no-kid': {
		header: (h) => { delete h.kid; },
		jwks: (keys) => keys.filter((k) => k.kty === 'RSA' && k.kid === 'rs1')
		    .map(({ kid, ...k }) => k),
	},
	// signatures and keys
	'bad-signature': {
		sign: (input, ctx) => {
			const s = signWith('RS256', ctx.keys.rs.privateKey, input);
			s[10] ^= 0x01;
			return s;
		},
	},
	'alg-none': { header: (h) => { h.alg = 'none'; delete h.kid; }, sign: () => Buffer.alloc(0) },
	'hs256-rsa-pubkey': {
		header: (h) => { h.alg = 'HS256'; },
		sign: (input, ctx) => signWith('HS256',
		    ctx.keys.rs.publicKey.export({ type: 'spki', format: 'pem' }), input),
	},
	'crit-header': { header: (h) => { h.crit = ['urn:example:never']; h['urn:example:never'] = 1; } },
	'oct-key-hs256': {
		jwks: (keys) => [...keys, { kty: 'oct', k: b64u(HS_SECRET), kid: 'hs1', alg: 'HS256', use: 'sig' }],
		header: (h) => { h.alg = 'HS256'; h.kid = 'hs1'; },
		sign: (input) => signWith('HS256', HS_SECRET, input),
	},
	'kty-alg-mismatch': {
		alg: 'ES256',
		header: (h) => { h.kid = 'rs1'; },
	},
	'unknown-kid': {
		header: (h) => { h.kid = 'nobody-has-this-kid'; },
	},
	'jwks-500': { jwksRaw: (req, res) => { res.writeHead(500); res.end('down'); } },
	// A key rotation: the first JWKS fetch lacks kid rot1, later ones have it.
	// ctx.state.rotated (set by the test) makes tokens use the new key.
	'rotation': {
		jwks: (keys, ctx) => ctx.fetches > 1 ? [...keys, jwk(ctx.keys.rot, 'rot1', 'RS256')] : keys,
		header: (h, ctx) => {
			if (ctx.state.kid)
				h.kid = ctx.state.kid;
		},
		sign: (input, ctx) => signWith('RS256',
		    ctx.state.kid === 'rot1' ? ctx.keys.rot.privateKey : ctx.keys.rs.privateKey, input),
	},
	// A fresh kid per token (the JWKS flood); the RS256 key signs.
	'random-kid': {
		header: (h, ctx) => { if (ctx.state.random) h.kid = crypto.randomUUID(); },
	},
	// Bodies at a limit (tests/integration/limits.test.mjs): the discovery
	// document and the JWKS padded to ctx.state.discoverySize and
	// ctx.state.jwksSize bytes; with ctx.state.keys set, a JWKS of that
	// many keys: copies of the ES256 key, the signing RS256 key last.
	'sized': {
		size: (what, ctx) => ctx.state[`${what}Size`],
		jwks: (keys, ctx) => {
			const n = ctx.state.keys;
			if (!n)
				return keys;
			const es = keys.find((k) => k.kid === 'es1');
			const pads = Array.from({ length: n - 1 }, (_, i) => ({ ...es, kid: `pad${i}` }));
			return [...pads, keys.find((k) => k.kid === 'rs1')];
		},
	},
	// claims
	'wrong-iss': { claims: (c) => { c.iss = c.iss + '-evil'; } },
	'wrong-aud': { claims: (c) => { c.aud = 'someone-else'; } },
	'multi-aud-no-azp': { claims: (c) => { c.aud = [c.aud, 'someone-else']; } },
	'wrong-azp': { claims: (c) => { c.aud = [c.aud, 'someone-else']; c.azp = 'someone-else'; } },
	'expired': { claims: (c) => { c.exp = c.iat - 600; c.iat -= 1200; } },
	'iat-future': { claims: (c) => { c.iat += 600; c.exp += 600; } },
	'iat-missing': { claims: (c) => { delete c.iat; } },
	'sub-missing': { claims: (c) => { delete c.sub; } },
	'nonce-missing': { claims: (c) => { delete c.nonce; } },
	'nonce-wrong': { claims: (c) => { c.nonce = b64u(crypto.randomBytes(16)); } },
	'at-hash-wrong': { claims: (c) => { c.at_hash = atHash('RS256', 'another-access-token'); } },
	'exp-huge': { claims: (c) => { c.exp = 1e300; } },
	'exp-fraction': { claims: (c) => { c.exp += 0.5; } },
	// the token response
	'no-id-token': { idToken: () => undefined },
	'token-type-mac': { tokenBody: (b) => { b.token_type = 'mac'; } },
	'token-500': { token: (req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('oops'); return true; } },
	'token-malformed-json': {
		token: (req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"access_token": "x", "token_type": "Bearer", "id_token": ');
			return true;
		},
	},
	'token-5mb': {
		token: (req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(`{"access_token":"${'a'.repeat(5 * 1024 * 1024)}","token_type":"Bearer"}`);
			return true;
		},
	},
	'token-slow': {
		// Headers at once, then one byte every 250 ms for 30 s.
		token: (req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.write('{');
			let n = 0;
			const t = setInterval(() => {
				if (++n > 120 || res.destroyed) {
					clearInterval(t);
					res.end('}');
					return;
				}
				res.write(' ');
			}, 250);
			res.on('close', () => clearInterval(t));
			return true;
		},
	},
	// discovery and the authorization response
	'discovery-issuer-mismatch': { discovery: (d) => { d.issuer = d.issuer + '/other'; } },
	'iss-param-missing': { authorize: (q) => { q.delete('iss'); } },
	'iss-param-wrong': { authorize: (q) => { q.set('iss', 'http://127.0.0.1:1/evil'); } },
	// userinfo
	'userinfo-sub-mismatch': {
		claims: (c) => { delete c.name; delete c.email; },
		userinfo: (u) => { u.sub = 'mallory'; },
	},
};

// An encrypted ID token (a compact JWE: five parts, RSA-OAEP + A256GCM
// header), which authgate does not support.
CASES['id-token-jwe'] = {
	idToken: () => [b64u({ alg: 'RSA-OAEP', enc: 'A256GCM', cty: 'JWT', kid: 'enc1' }),
	    b64u(crypto.randomBytes(256)), b64u(crypto.randomBytes(12)),
	    b64u(crypto.randomBytes(64)), b64u(crypto.randomBytes(16))].join('.'),
};
// The rotation case again under its own issuer (own counters and state),
// for an app whose JWKS refetch throttle is shortened by the test knob.
CASES['rotation-fast'] = CASES.rotation;

// Refresh tokens: the code grant also returns one, and a refresh_token
// grant answers a new access token (no ID token), as most providers do.
CASES['refreshable'] = {
	tokenBody: (b) => { b.refresh_token = `rt-${b64u(crypto.randomBytes(16))}`; },
	token: (req, res, ctx) => {
		if (ctx.form?.get('grant_type') !== 'refresh_token')
			return false;
		res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
		res.end(JSON.stringify({ access_token: `at-${b64u(crypto.randomBytes(16))}`,
		    token_type: 'Bearer', expires_in: 300 }));
		return true;
	},
};
// The token endpoint somewhere else (ctx.state.tokenEndpoint, set by the
// test: an unresolvable host, a TLS server nobody trusts).
CASES['token-elsewhere'] = {
	discovery: (d, ctx) => {
		if (ctx.state.tokenEndpoint)
			d.token_endpoint = ctx.state.tokenEndpoint;
	},
};

// Whole-server faults (op.setFault): 'hang' accepts and never answers,
// 'trickle' sends headers and then one byte every 250 ms, 'reset'
// closes the connection at once; null is normal service.
function applyFault(fault, req, res) {
	switch (fault) {
	case 'hang':
		return true;
	case 'reset':
		req.socket.destroy();
		return true;
	case 'trickle': {
		res.writeHead(200, { 'content-type': 'application/json' });
		res.write('{');
		const t = setInterval(() => res.write(' '), 250);
		res.on('close', () => clearInterval(t));
		return true;
	}
	}
	return false;
}

/*
 * startHostile({clientId, port}) -> Promise<{port, base, issuer(name),
 *   stats(name), state(name), stop()}>
 * stats(name): {discovery, jwks, authorize, token, userinfo} request counts.
 * state(name): a per-case object the hooks see as ctx.state.
 */
export async function startHostile(opts = {}) {
	const clientId = opts.clientId || 'authgate-test';
	const keys = opts.keys || genKeys();
	const codes = new Map();
	const stats = {};
	const states = {};
	let base;
	const statsOf = (name) => (stats[name] ||= { discovery: 0, jwks: 0, authorize: 0, token: 0, userinfo: 0 });
	const stateOf = (name) => (states[name] ||= {});

	function defaultKeys() {
		return [jwk(keys.rs, 'rs1', 'RS256'), jwk(keys.ps, 'ps1', 'PS256'),
		    jwk(keys.es, 'es1', 'ES256'), jwk(keys.ed, 'ed1', 'EdDSA')];
	}

	// size: pad the body with trailing spaces to that many bytes.
	function json(res, status, obj, size) {
		let body = JSON.stringify(obj);
		if (size !== undefined) {
			if (Buffer.byteLength(body) > size)
				throw new Error(`the body is already ${Buffer.byteLength(body)} bytes, over ${size}`);
			body += ' '.repeat(size - Buffer.byteLength(body));
		}
		res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
		res.end(body);
	}

	function idToken(c, ctx, grant, accessToken) {
		const alg = c.alg || 'RS256';
		const [kname, kid] = SIGNER[alg];
		const now = Math.floor(Date.now() / 1000);
		const header = { alg, typ: 'JWT', kid };
		const claims = {
			iss: ctx.issuer, sub: 'hostile-user', aud: clientId,
			iat: now, exp: now + 300, nonce: grant.nonce,
			name: 'Hostile User', email: 'hostile@example.com',
			at_hash: atHash(alg, accessToken),
		};
		c.header?.(header, ctx);
		c.claims?.(claims, ctx);
		const input = `${b64u(header)}.${b64u(claims)}`;
		const sig = c.sign ? c.sign(input, ctx) : signWith(alg, keys[kname].privateKey, input);
		const jwt = `${input}.${b64u(sig)}`;
		return c.idToken ? c.idToken(jwt, ctx) : jwt;
	}

	async function readBody(req) {
		const chunks = [];
		for await (const ch of req)
			chunks.push(ch);
		return Buffer.concat(chunks).toString();
	}

	let fault = null;

	async function handle(req, res) {
		if (applyFault(fault, req, res))
			return;
		const u = new URL(req.url, base);
		const m = /^\/([a-z0-9-]+)(\/.*)$/.exec(u.pathname);
		const c = m && CASES[m[1]];
		if (!c) {
			res.writeHead(404);
			res.end('no such case');
			return;
		}
		const name = m[1];
		const issuer = `${base}/${name}`;
		const st = statsOf(name);
		const ctx = { name, issuer, keys, state: stateOf(name), fetches: 0 };
		switch (m[2]) {
		case '/.well-known/openid-configuration': {
			st.discovery++;
			const d = {
				issuer,
				authorization_endpoint: `${issuer}/authorize`,
				token_endpoint: `${issuer}/token`,
				userinfo_endpoint: `${issuer}/userinfo`,
				jwks_uri: `${issuer}/jwks`,
				response_types_supported: ['code'],
				subject_types_supported: ['public'],
				id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'none'],
				token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
				code_challenge_methods_supported: ['S256'],
				authorization_response_iss_parameter_supported: true,
			};
			c.discovery?.(d, ctx);
			return json(res, 200, d, c.size?.('discovery', ctx));
		}
		case '/jwks': {
			ctx.fetches = ++st.jwks;
			if (c.jwksRaw)
				return c.jwksRaw(req, res);
			const ks = c.jwks ? c.jwks(defaultKeys(), ctx) : defaultKeys();
			return json(res, 200, { keys: ks }, c.size?.('jwks', ctx));
		}
		case '/authorize': {
			st.authorize++;
			const code = b64u(crypto.randomBytes(24));
			codes.set(code, { name, nonce: u.searchParams.get('nonce') });
			const q = new URLSearchParams({ code, state: u.searchParams.get('state') ?? '', iss: issuer });
			c.authorize?.(q, ctx);
			const to = new URL(u.searchParams.get('redirect_uri'));
			to.search = q.toString();
			res.writeHead(302, { location: to.href });
			res.end();
			return;
		}
		case '/token': {
			st.token++;
			const form = new URLSearchParams(await readBody(req));
			ctx.form = form;
			if (c.token && c.token(req, res, ctx))
				return;
			const grant = codes.get(form.get('code'));
			if (!grant || grant.name !== name || form.get('grant_type') !== 'authorization_code')
				return json(res, 400, { error: 'invalid_grant' });
			codes.delete(form.get('code'));
			const at = `at-${b64u(crypto.randomBytes(16))}`;
			const b = { access_token: at, token_type: 'Bearer', expires_in: 300,
			    id_token: idToken(c, ctx, grant, at) };
			if (b.id_token === undefined)
				delete b.id_token;
			c.tokenBody?.(b, ctx);
			return json(res, 200, b);
		}
		case '/userinfo': {
			st.userinfo++;
			const ui = { sub: 'hostile-user', name: 'Hostile User', email: 'hostile@example.com' };
			c.userinfo?.(ui, ctx);
			return json(res, 200, ui);
		}
		}
		res.writeHead(404);
		res.end('not found');
	}

	const server = http.createServer((req, res) => {
		handle(req, res).catch((e) => {
			if (!res.headersSent)
				res.writeHead(500);
			res.end(String(e));
		});
	});
	await new Promise((ok) => server.listen(opts.port ?? 0, '127.0.0.1', ok));
	const port = server.address().port;
	base = `http://127.0.0.1:${port}`;
	return {
		port, base, keys,
		issuer: (name) => `${base}/${name}`,
		stats: (name) => ({ ...statsOf(name) }),
		state: stateOf,
		setFault: (f) => { fault = f; },
		stop: () => new Promise((ok) => {
			server.closeAllConnections?.();
			server.close(() => ok());
		}),
	};
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const op = await startHostile({ port: Number(process.env.IDP_PORT || 0) });
	process.stdout.write(`${JSON.stringify({ ready: true, port: op.port, base: op.base })}\n`);
}
