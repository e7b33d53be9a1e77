// make-jwks.mjs -- the public JWKS of the test client keys (TEST ONLY:
// these private keys are public, in the repository).  The keys were made
//   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rs256.pem
//   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ps256.pem
//   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out es256.pem
// and this writes <alg>.pub.jwk.json and jwks.json (registered by the
// provider, tests/idp/provider.mjs, for client authgate-pkjwt):
//   cd tests && node data/keys/make-jwks.mjs data/keys
// Each kid is the key's RFC 7638 thumbprint, which authgate puts in the
// client assertion's header when client_assertion_key has no kid.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
const dir = process.argv[2];
const keys = [];
for (const alg of ['RS256', 'PS256', 'ES256']) {
	const pem = fs.readFileSync(`${dir}/${alg.toLowerCase()}.pem`, 'utf8');
	const pub = crypto.createPublicKey(crypto.createPrivateKey(pem)).export({ format: 'jwk' });
	const kid = await calculateJwkThumbprint(pub, 'sha256');
	const jwk = { ...pub, kid, alg, use: 'sig' };
	fs.writeFileSync(`${dir}/${alg.toLowerCase()}.pub.jwk.json`, JSON.stringify(jwk, null, 2) + '\n');
	keys.push(jwk);
}
fs.writeFileSync(`${dir}/jwks.json`, JSON.stringify({ keys }, null, 2) + '\n');
