// Public JWKs for the test keys, and tokens signed by node's crypto so
// that authgate's verifier is checked against an independent signer.
// Called by gen.sh; uses only node's built-in modules.
import { createHmac, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const names = ['rsa', 'rsa2', 'rsa1024', 'ec256', 'ec384', 'ec521', 'ed25519'];
const b64u = (b) => Buffer.from(b).toString('base64url');

for (const n of names) {
	const jwk = createPublicKey(readFileSync(`${n}.pem`)).export({ format: 'jwk' });
	writeFileSync(`${n}.jwk.json`, JSON.stringify(jwk) + '\n');
}

// alg -> [key, digest, options]
const algs = {
	RS256: ['rsa', 'sha256', {}],
	RS384: ['rsa', 'sha384', {}],
	RS512: ['rsa', 'sha512', {}],
	PS256: ['rsa', 'sha256', { padding: 6, saltLength: 32 }],
	PS384: ['rsa', 'sha384', { padding: 6, saltLength: 48 }],
	PS512: ['rsa', 'sha512', { padding: 6, saltLength: 64 }],
	ES256: ['ec256', 'sha256', { dsaEncoding: 'ieee-p1363' }],
	ES384: ['ec384', 'sha384', { dsaEncoding: 'ieee-p1363' }],
	ES512: ['ec521', 'sha512', { dsaEncoding: 'ieee-p1363' }],
	EdDSA: ['ed25519', null, {}],
};
const claims = { iss: 'https://node.example', sub: 'node-signed', aud: 'authgate' };
const tokens = {};
for (const [alg, [kid, md, opt]] of Object.entries(algs)) {
	const input = b64u(JSON.stringify({ alg, kid, typ: 'JWT' })) + '.' +
	    b64u(JSON.stringify(claims));
	const key = { key: createPrivateKey(readFileSync(`${kid}.pem`)), ...opt };
	tokens[alg] = input + '.' + b64u(sign(md, Buffer.from(input), key));
}
// The classic key-confusion attack: HS256 keyed with the RSA public key PEM.
const pub = createPublicKey(readFileSync('rsa.pem')).export({ format: 'pem', type: 'spki' });
const hin = b64u(JSON.stringify({ alg: 'HS256', kid: 'rsa', typ: 'JWT' })) + '.' +
    b64u(JSON.stringify(claims));
tokens.HS256_rsa_pubkey = hin + '.' + b64u(createHmac('sha256', pub).update(hin).digest());
writeFileSync('node-tokens.json', JSON.stringify(tokens, null, 1) + '\n');
