// dpop-api.mjs -- a resource server that takes DPoP-bound access tokens
// (RFC 9449 section 7) the way a strict API would, for `authgate fetch`.
//
//   const api = await startDpopApi({ verify, requireNonce: true });
//   GET/POST... api.url + path
//     "Authorization: DPoP <token>" and "DPoP: <proof>":
//     -> 200 {ok, sub, jkt, method, path, nonce}
//     -> 401 WWW-Authenticate: DPoP error="use_dpop_nonce" + DPoP-Nonce
//        when requireNonce and the proof lacks the current nonce
//     -> 401 {error: "invalid_token"|"invalid_dpop_proof", why}
//   api.calls: [{ method, status, error, why, nonce }]
//   await api.stop();
//
// The proof: a JWS with typ dpop+jwt, alg ES256/RS256/PS256, its
// signature checked with the header's jwk (public members only), htm =
// the request method, htu = this server's URL of the path (no query),
// iat within 60 s of now, a jti never seen before, ath = base64url
// SHA-256 of the token, nonce as above.  The token: verify(token) (the
// caller's check of signature, issuer, audience, expiry) must pass and
// its cnf.jkt equal the proof key's RFC 7638 thumbprint.

import crypto from 'node:crypto';
import http from 'node:http';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';

const IAT_WINDOW = 60;

export async function startDpopApi({ verify, requireNonce = false }) {
	const calls = [];
	const jtis = new Set();
	let nonce = crypto.randomBytes(16).toString('base64url');
	let base;

	async function check(req) {
		const m = /^DPoP ([A-Za-z0-9._~+/-]+=*)$/.exec(req.headers.authorization || '');
		if (!m)
			return { status: 401, error: 'invalid_token', why: 'no DPoP token' };
		const token = m[1];
		const proof = req.headers.dpop;
		if (typeof proof !== 'string')
			return { status: 401, error: 'invalid_dpop_proof', why: 'no DPoP header' };
		let p;
		try {
			p = await jwtVerify(proof, EmbeddedJWK, {
				typ: 'dpop+jwt', algorithms: ['ES256', 'RS256', 'PS256'],
			});
		} catch (e) {
			return { status: 401, error: 'invalid_dpop_proof', why: `signature: ${e.message}` };
		}
		const { payload, protectedHeader } = p;
		const jwk = protectedHeader.jwk;
		const url = new URL(req.url, base);
		const bad = (why) => ({ status: 401, error: 'invalid_dpop_proof', why });
		if ('d' in jwk || 'p' in jwk)
			return bad('private key in jwk');
		if (payload.htm !== req.method)
			return bad(`htm ${payload.htm}`);
		if (payload.htu !== `${base}${url.pathname}`)
			return bad(`htu ${payload.htu}`);
		if (typeof payload.iat !== 'number' ||
		    Math.abs(payload.iat - Date.now() / 1000) > IAT_WINDOW)
			return bad('iat');
		if (typeof payload.jti !== 'string' || jtis.has(payload.jti))
			return bad('jti replayed or missing');
		jtis.add(payload.jti);
		if (payload.ath !== crypto.createHash('sha256').update(token).digest('base64url'))
			return bad('ath');
		if (requireNonce && payload.nonce !== nonce) {
			const seen = payload.nonce;
			nonce = crypto.randomBytes(16).toString('base64url');
			return {
				status: 401, error: 'use_dpop_nonce', why: 'nonce', nonce: seen,
				headers: {
					'www-authenticate': 'DPoP error="use_dpop_nonce", ' +
					    'error_description="Resource server requires nonce in DPoP proof"',
					'dpop-nonce': nonce,
				},
			};
		}
		let claims;
		try {
			claims = await verify(token);
		} catch (e) {
			return { status: 401, error: 'invalid_token', why: e.message };
		}
		const jkt = await calculateJwkThumbprint(jwk, 'sha256');
		if (claims.cnf?.jkt !== jkt)
			return { status: 401, error: 'invalid_token', why: 'cnf.jkt does not match the proof key' };
		return {
			status: 200, nonce: payload.nonce,
			body: { ok: true, sub: claims.sub, jkt, method: req.method, path: url.pathname,
			    nonce: payload.nonce ?? null },
		};
	}

	const server = http.createServer((req, res) => {
		req.resume();
		req.on('end', async () => {
			const r = await check(req);
			calls.push({ method: req.method, status: r.status, error: r.error, why: r.why,
			    nonce: r.nonce });
			const body = r.body ?? { error: r.error, error_description: r.why };
			res.writeHead(r.status, { 'content-type': 'application/json',
			    'cache-control': 'no-store', ...(r.headers || {}) });
			res.end(JSON.stringify(body));
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${server.address().port}`;
	return {
		url: base, calls,
		stop: () => new Promise((resolve) => {
			server.closeAllConnections?.();
			server.close(() => resolve());
		}),
	};
}
