// Fixed JWE vectors in the format of @auth0/nextjs-auth0 v4 (jose
// EncryptJWT, dir + A256GCM), computed with node's built-in crypto only:
// key = HKDF-SHA256(secret, salt "", info "JWE CEK", 32), AAD = the
// base64url protected header.  Run: node gen.mjs > vectors.json
import { createCipheriv, hkdfSync } from 'node:crypto';

const secret = 'a3f1c9e0b7d24e6f8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071';
const key = Buffer.from(hkdfSync('sha256', secret, '', 'JWE CEK', 32));
const b64u = (b) => Buffer.from(b).toString('base64url');

function seal(header, iv, plaintext) {
	const h = b64u(header);
	const c = createCipheriv('aes-256-gcm', key, Buffer.from(iv, 'hex'));
	c.setAAD(Buffer.from(h, 'ascii'));
	const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
	return [h, '', b64u(Buffer.from(iv, 'hex')), b64u(ct), b64u(c.getAuthTag())].join('.');
}

const sdk = '{"enc":"A256GCM","alg":"dir"}';
const live = '{"id":"0123456789abcdef0123456789abcdef","exp":4102444800}';
const v = (name, valid, header, iv, plaintext) =>
    ({ name, valid, header, iv, plaintext, jwe: seal(header, iv, plaintext) });
const out = {
	secret,
	key: key.toString('hex'),
	vectors: [
		v('sdk', true, sdk, '000102030405060708090a0b', live),
		v('sdk-session', true, sdk, 'f0e1d2c3b4a5968778695a4b',
		    '{"user":{"sub":"auth0|42","name":"Zoë ✓"},"tokenSet":' +
		    '{"accessToken":"at","expiresAt":4102444000},"internal":' +
		    '{"sid":"s1","createdAt":1700000000},"exp":4102444800}'),
		v('alg-first', true, '{"alg":"dir","enc":"A256GCM"}', '0a0b0c0d0e0f101112131415', live),
		v('expired', true, sdk, '1112131415161718191a1b1c', '{"id":"x","exp":1000000000}'),
		v('zip', false, '{"enc":"A256GCM","alg":"dir","zip":"DEF"}', '000000000000000000000001', live),
		v('kid', false, '{"enc":"A256GCM","alg":"dir","kid":"1"}', '000000000000000000000002', live),
		v('crit', false, '{"enc":"A256GCM","alg":"dir","crit":["exp"]}', '000000000000000000000003', live),
		v('typ', false, '{"enc":"A256GCM","alg":"dir","typ":"JWT"}', '000000000000000000000004', live),
		v('alg-a256kw', false, '{"enc":"A256GCM","alg":"A256KW"}', '000000000000000000000005', live),
		v('enc-a128gcm', false, '{"enc":"A128GCM","alg":"dir"}', '000000000000000000000006', live),
		v('alg-missing', false, '{"enc":"A256GCM"}', '000000000000000000000007', live),
		v('header-array', false, '["dir","A256GCM"]', '000000000000000000000008', live),
		v('not-object-payload', true, sdk, '000000000000000000000009', '[1,2,3]'),
	],
};
console.log(JSON.stringify(out, null, 1));
