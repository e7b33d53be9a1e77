/*
 * test-crypto.c -- SHA-256, HKDF (RFC 5869), the cookie key and the
 * sealed values: node-made vectors (tests/data/jwe/vectors.json, from
 * gen.mjs), round trips, tampering of every bit, and the time checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "json.h"
#include "ag_limits.h"
#include "rand.h"
#include "tap.h"
#include "util.h"

#define NOW	1700000000

static size_t
unhex(const char *s, unsigned char *out, size_t max)
{
	size_t i;
	unsigned int v;

	for (i = 0; i < max && s[2 * i] != '\0'; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			break;
		out[i] = (unsigned char)v;
	}
	return i;
}

static int
hex_is(const unsigned char *p, size_t n, const char *hex)
{
	unsigned char want[128];

	return unhex(hex, want, sizeof(want)) == n && memcmp(p, want, n) == 0;
}

static void
test_sha256_hkdf(void)
{
	/* RFC 5869 appendix A.1-A.3 (SHA-256). */
	static const struct {
		const char *ikm, *salt, *info, *okm;
		size_t len;
	} tv[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		  "000102030405060708090a0b0c",
		  "f0f1f2f3f4f5f6f7f8f9",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		  "34007208d5b887185865", 42 },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		  "404142434445464748494a4b4c4d4e4f",
		  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		  "cc30c58179ec3e87c14c01d5c1f3434f1d87", 82 },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		  "9d201395faa4b61a96c8", 42 },
	};
	unsigned char ikm[128], salt[128], info[128], okm[128];
	unsigned char md[AG_SHA256_LEN];
	size_t i, ni, ns, nf;

	is_int(ag_sha256("abc", 3, md), AG_OK, "sha256 abc");
	ok(hex_is(md, sizeof(md), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad"), "sha256 abc value");
	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		ni = unhex(tv[i].ikm, ikm, sizeof(ikm));
		ns = unhex(tv[i].salt, salt, sizeof(salt));
		nf = unhex(tv[i].info, info, sizeof(info));
		memset(okm, 0, sizeof(okm));
		is_int(ag_hkdf_sha256(ikm, ni, salt, ns, info, nf, okm,
		    tv[i].len), AG_OK, "hkdf rfc5869 vector derives");
		ok(hex_is(okm, tv[i].len, tv[i].okm), "hkdf rfc5869 vector okm");
	}
	is_int(ag_hkdf_sha256(ikm, 1, NULL, 0, NULL, 0, okm, 0), AG_ERR_LIMIT,
	    "hkdf outlen 0 refused");
	is_int(ag_hkdf_sha256(ikm, 1, NULL, 0, NULL, 0, okm, 255 * 32 + 1),
	    AG_ERR_LIMIT, "hkdf outlen > 255*32 refused");
}

/* Decrypt s into a buffer holding "x"; 1 if it failed and left "x". */
static int
rejected(const unsigned char *key, const char *s, size_t n)
{
	struct ag_buf out;
	int r, ok;

	ag_buf_init(&out, 0);
	ag_buf_puts(&out, "x");
	r = ag_jwe_decrypt(key, s, n, &out);
	ok = r != AG_OK && out.len == 1 && out.data[0] == 'x';
	ag_buf_free(&out);
	return ok;
}

static void
test_vectors(void)
{
	struct ag_buf file, out;
	unsigned char key[AG_KEY_LEN];
	ag_json *doc = NULL, *vec, *v, *claims;
	const char *jwe, *name;
	char msg[128];
	size_t i;

	slurp("tests/data/jwe/vectors.json", &file);
	ag_buf_init(&out, 0);
	is_int(ag_json_parse_object(ag_buf_str(&file), file.len, 1 << 20, &doc),
	    AG_OK, "vectors.json parses");
	is_int(ag_cookie_key(ag_json_get_str(doc, "secret"), key), AG_OK,
	    "cookie key");
	ok(hex_is(key, sizeof(key), ag_json_get_str(doc, "key")),
	    "cookie key equals node's hkdfSync(secret, '', 'JWE CEK', 32)");
	is_int(ag_cookie_key("", key), AG_ERR_CONFIG, "empty secret refused");
	ag_cookie_key(ag_json_get_str(doc, "secret"), key);

	vec = ag_json_get(doc, "vectors");
	for (i = 0; i < ag_json_array_len(vec); i++) {
		v = ag_json_array_get(vec, i);
		name = ag_json_get_str(v, "name");
		jwe = ag_json_get_str(v, "jwe");
		ag_buf_reset(&out);
		if (ag_json_to_bool(ag_json_get(v, "valid"))) {
			snprintf(msg, sizeof(msg), "node vector %s decrypts", name);
			is_int(ag_jwe_decrypt(key, jwe, strlen(jwe), &out), AG_OK,
			    msg);
			snprintf(msg, sizeof(msg), "node vector %s plaintext", name);
			is_str(ag_buf_str(&out), ag_json_get_str(v, "plaintext"),
			    msg);
		} else {
			snprintf(msg, sizeof(msg), "node vector %s refused", name);
			ok(rejected(key, jwe, strlen(jwe)), msg);
		}
	}

	/* ag_unseal on the SDK-shaped vectors. */
	ag_clock_set(NOW);
	v = ag_json_array_get(vec, 0);
	jwe = ag_json_get_str(v, "jwe");
	is_int(ag_unseal(key, jwe, strlen(jwe), ag_now(), &claims), AG_OK,
	    "unseal node vector");
	is_str(ag_json_get_str(claims, "id"), "0123456789abcdef0123456789abcdef",
	    "unsealed id");
	ag_json_free(claims);
	v = ag_json_array_get(vec, 1);
	jwe = ag_json_get_str(v, "jwe");
	is_int(ag_unseal(key, jwe, strlen(jwe), ag_now(), &claims), AG_OK,
	    "unseal node session vector (UTF-8)");
	is_str(ag_json_get_str(ag_json_get(claims, "user"), "name"),
	    "Zo\xc3\xab \xe2\x9c\x93", "UTF-8 name survives");
	ag_json_free(claims);
	for (i = 0; i < ag_json_array_len(vec); i++) {
		v = ag_json_array_get(vec, i);
		jwe = ag_json_get_str(v, "jwe");
		name = ag_json_get_str(v, "name");
		if (strcmp(name, "expired") == 0) {
			is_int(ag_unseal(key, jwe, strlen(jwe), ag_now(), &claims),
			    AG_ERR_EXPIRED, "unseal expired node vector");
			ok(claims == NULL, "no claims when expired");
		} else if (strcmp(name, "not-object-payload") == 0) {
			ok(ag_unseal(key, jwe, strlen(jwe), ag_now(), &claims) !=
			    AG_OK && claims == NULL, "unseal array payload refused");
		}
	}
	ag_clock_set(-1);
	ag_buf_free(&out);
	ag_buf_free(&file);
	ag_json_free(doc);
}

static void
test_roundtrip_and_tamper(void)
{
	static const char hdr[] = "eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0..";
	static const char msg[] = "{\"id\":\"abc\",\"exp\":4102444800}";
	unsigned char key[AG_KEY_LEN], key2[AG_KEY_LEN];
	struct ag_buf a, b, out, big;
	char *s;
	size_t i, n, bad;
	int bit;

	ag_cookie_key("0123456789abcdef0123456789abcdef", key);
	ag_cookie_key("0123456789abcdef0123456789abcdeF", key2);
	ag_buf_init(&a, 0);
	ag_buf_init(&b, 0);
	ag_buf_init(&out, 0);
	is_int(ag_jwe_encrypt(key, msg, strlen(msg), &a), AG_OK, "encrypt");
	is_int(ag_jwe_encrypt(key, msg, strlen(msg), &b), AG_OK, "encrypt again");
	ok(strncmp(a.data, hdr, strlen(hdr)) == 0,
	    "header is B64({\"enc\":\"A256GCM\",\"alg\":\"dir\"}), empty key part");
	ok(strcmp(a.data, b.data) != 0 &&
	    strncmp(a.data + strlen(hdr), b.data + strlen(hdr), 16) != 0,
	    "fresh IV each time");
	is_int(ag_jwe_decrypt(key, a.data, a.len, &out), AG_OK, "round trip");
	is_str(ag_buf_str(&out), msg, "round trip plaintext");
	ok(rejected(key2, a.data, a.len), "other key refused");
	ag_buf_reset(&out);
	ag_buf_reset(&b);
	is_int(ag_jwe_encrypt(key, "", 0, &b), AG_OK, "encrypt empty");
	is_int(ag_jwe_decrypt(key, b.data, b.len, &out), AG_OK, "decrypt empty");
	is_int(out.len, 0, "empty plaintext");

	/* Every single-bit flip of every byte. */
	s = strdup(a.data);
	n = a.len;
	bad = 0;
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			s[i] ^= (char)(1 << bit);
			if (!rejected(key, s, n))
				bad++;
			s[i] ^= (char)(1 << bit);
		}
	is_int(bad, 0, "every single-bit flip rejected");
	bad = 0;
	for (i = 0; i < n; i++)
		if (!rejected(key, s, i))
			bad++;
	is_int(bad, 0, "every truncation rejected");
	free(s);

	/* Structure: parts removed, emptied, added. */
	ag_buf_reset(&b);
	ag_buf_printf(&b, "%s.", a.data);
	ok(rejected(key, b.data, b.len), "6 parts rejected");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "%s", a.data + strlen(hdr) - 1);
	ok(rejected(key, b.data, b.len), "4 parts rejected");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0.%s",
	    a.data + strlen(hdr));
	ok(rejected(key, b.data, b.len), "4 parts (no empty key) rejected");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0.AAAA.%s",
	    a.data + strlen(hdr));
	ok(rejected(key, b.data, b.len), "non-empty encrypted key rejected");
	ag_buf_reset(&b);
	ag_buf_printf(&b, ".%s", a.data + strlen(hdr) - 1);
	ok(rejected(key, b.data, b.len), "empty header rejected");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "%s.", a.data);
	b.data[strrchr(b.data, '.') - b.data] = '\0';
	b.data[strrchr(b.data, '.') - b.data + 1] = '\0';
	b.len = strlen(b.data);
	ok(rejected(key, b.data, b.len), "empty tag rejected");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "%s....", hdr);
	ok(rejected(key, b.data, b.len), "all parts empty rejected");
	ok(rejected(key, "", 0), "empty string rejected");
	ok(rejected(key, "....", 4), "only dots rejected");

	/* Oversize both ways. */
	ag_buf_init(&big, 0);
	for (i = 0; i < AG_MAX_JWT + 1; i++)
		ag_buf_putc(&big, 'A');
	ag_buf_reset(&out);
	is_int(ag_jwe_decrypt(key, big.data, big.len, &out), AG_ERR_LIMIT,
	    "decrypt of AG_MAX_JWT + 1 bytes: limit");
	ag_buf_reset(&b);
	is_int(ag_jwe_encrypt(key, big.data, big.len, &b), AG_ERR_LIMIT,
	    "encrypt of AG_MAX_JWT + 1 bytes: limit");
	is_int(ag_jwe_encrypt(key, big.data, AG_MAX_JWT / 4 * 3, &b), AG_ERR_LIMIT,
	    "encrypt whose output exceeds AG_MAX_JWT: limit");
	is_int(b.len, 0, "out untouched");
	ag_buf_free(&big);
	ag_buf_free(&a);
	ag_buf_free(&b);
	ag_buf_free(&out);
}

/* Seal payload (JSON text) with exp, or raw-encrypt it when raw. */
static int
seal_unseal(const unsigned char *key, const char *json, int raw, int64_t exp,
    int64_t now)
{
	struct ag_buf b;
	ag_json *p = NULL, *claims = NULL;
	int r;

	ag_buf_init(&b, 0);
	if (raw)
		r = ag_jwe_encrypt(key, json, strlen(json), &b);
	else {
		ag_json_parse(json, strlen(json), 1 << 20, &p);
		r = ag_seal(key, p, exp, &b);
	}
	if (r == AG_OK)
		r = ag_unseal(key, b.data, b.len, now, &claims);
	if (r == AG_OK && claims == NULL)
		r = -1;
	ag_json_free(claims);
	ag_json_free(p);
	ag_buf_free(&b);
	return r;
}

static void
test_seal(void)
{
	unsigned char key[AG_KEY_LEN];
	struct ag_buf b, big;
	ag_json *p, *claims;
	int64_t now, exp;
	size_t i;

	ag_cookie_key("seal-secret", key);
	ag_clock_set(NOW);
	now = ag_now();
	is_int(seal_unseal(key, "{\"a\":1}", 0, now + 3600, now), AG_OK,
	    "seal/unseal");
	is_int(seal_unseal(key, "{}", 0, now - 14, now), AG_OK,
	    "exp 14 s ago: within leeway");
	is_int(seal_unseal(key, "{}", 0, now - 15, now), AG_ERR_EXPIRED,
	    "exp 15 s ago: expired (exp <= now - 15)");
	is_int(seal_unseal(key, "{}", 0, 0, now), AG_ERR_EXPIRED, "exp 0");
	is_int(seal_unseal(key, "{\"id\":1}", 1, 0, now), AG_ERR_VERIFY,
	    "missing exp refused");
	is_int(seal_unseal(key, "{\"exp\":\"4102444800\"}", 1, 0, now),
	    AG_ERR_VERIFY, "string exp refused");
	is_int(seal_unseal(key, "{\"exp\":null}", 1, 0, now), AG_ERR_VERIFY,
	    "null exp refused");
	is_int(seal_unseal(key, "{\"exp\":1700000100.5}", 1, 0, now), AG_OK,
	    "fractional exp accepted like jose");
	is_int(seal_unseal(key, "{\"nbf\":1700000015}", 0, now + 60, now), AG_OK,
	    "nbf now + 15 accepted");
	is_int(seal_unseal(key, "{\"nbf\":1700000016}", 0, now + 60, now),
	    AG_ERR_VERIFY, "nbf now + 16 refused");
	is_int(seal_unseal(key, "{\"nbf\":\"x\"}", 0, now + 60, now),
	    AG_ERR_VERIFY, "string nbf refused");
	is_int(seal_unseal(key, "{\"iat\":1800000000}", 0, now + 60, now),
	    AG_OK, "iat in the future accepted (jose without maxTokenAge)");
	is_int(seal_unseal(key, "{\"iat\":\"x\"}", 0, now + 60, now),
	    AG_ERR_VERIFY, "string iat refused");
	is_int(seal_unseal(key, "[1]", 1, 0, now), AG_ERR_PARSE,
	    "array payload refused");
	is_int(seal_unseal(key, "not json", 1, 0, now), AG_ERR_PARSE,
	    "non-JSON payload refused");

	/* The payload is copied; exp replaces an existing one in place. */
	ag_buf_init(&b, 0);
	ag_json_parse("{\"exp\":1,\"a\":\"b\"}", 17, 100, &p);
	is_int(ag_seal(key, p, now + 10, &b), AG_OK, "seal with an exp");
	ag_json_get_int(p, "exp", &exp);
	is_int(exp, 1, "payload not modified");
	is_int(ag_unseal(key, b.data, b.len, now, &claims), AG_OK, "unseal");
	ag_json_get_int(claims, "exp", &exp);
	is_int(exp, now + 10, "exp replaced");
	is_str(ag_json_dump(claims), "{\"exp\":1700000010,\"a\":\"b\"}",
	    "member order kept");
	ag_json_free(claims);
	claims = (ag_json *)1;
	is_int(ag_unseal(key, b.data, b.len - 1, now, &claims), AG_ERR_CRYPTO,
	    "truncated seal refused");
	ok(claims == NULL, "out cleared on failure");
	ag_json_free(p);
	p = ag_json_array();
	ag_buf_reset(&b);
	is_int(ag_seal(key, p, now, &b), AG_ERR_PARSE, "seal of an array refused");
	ag_json_free(p);

	/* Plaintext bounded by AG_MAX_SESSION_JSON on both sides. */
	ag_buf_init(&big, 0);
	ag_buf_puts(&big, "{\"exp\":4102444800,\"x\":\"");
	for (i = big.len; i < AG_MAX_SESSION_JSON - 2; i++)
		ag_buf_putc(&big, 'y');
	ag_buf_puts(&big, "\"}");
	is_int(big.len, AG_MAX_SESSION_JSON, "payload of exactly the limit");
	is_int(seal_unseal(key, big.data, 1, 0, now), AG_OK,
	    "AG_MAX_SESSION_JSON bytes unseal");
	ag_buf_reset(&big);
	ag_buf_puts(&big, "{\"exp\":4102444800,\"x\":\"");
	for (i = big.len; i < AG_MAX_SESSION_JSON - 1; i++)
		ag_buf_putc(&big, 'y');
	ag_buf_puts(&big, "\"}");
	is_int(seal_unseal(key, big.data, 1, 0, now), AG_ERR_LIMIT,
	    "AG_MAX_SESSION_JSON + 1 bytes refused");
	ag_json_parse(big.data, big.len, 1 << 20, &p);
	ag_buf_reset(&b);
	is_int(ag_seal(key, p, now, &b), AG_ERR_LIMIT, "seal of too much refused");
	ag_json_free(p);
	ag_buf_free(&big);
	ag_buf_free(&b);
	ag_clock_set(-1);
}

/* A bit-at-a-time base64 encoder, the reference for ag_b64*_encode. */
static void
ref_b64(const unsigned char *p, size_t n, int url, char *out)
{
	const char *a = url ?
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" :
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t bit, o = 0, nbits = n * 8;
	unsigned v;
	int k;

	for (bit = 0; bit < nbits; bit += 6) {
		v = 0;
		for (k = 0; k < 6; k++) {
			v <<= 1;
			if (bit + (size_t)k < nbits &&
			    (p[(bit + (size_t)k) / 8] >>
			    (7 - (bit + (size_t)k) % 8)) & 1)
				v |= 1;
		}
		out[o++] = a[v];
	}
	while (!url && o % 4 != 0)
		out[o++] = '=';
	out[o] = '\0';
}

/*
 * The base64 coders, which write straight into the buffer's reserved
 * room: every length 0..70 against the reference, appending to what
 * the buffer holds, and the refusals leaving the buffer as it was.
 */
static void
test_b64(void)
{
	unsigned char in[70];
	char want[128], bad[128];
	struct ag_buf b, d;
	size_t n, i, pre;
	int allok = 1, r;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		ag_buf_init(&b, 0);
		ag_buf_init(&d, 0);
		ref_b64(in, n, 1, want);
		if (ag_buf_puts(&b, "x.") != AG_OK ||
		    ag_b64url_encode(&b, in, n) != AG_OK ||
		    strcmp(b.data + 2, want) != 0 || b.len != 2 + strlen(want) ||
		    ag_buf_puts(&d, "y") != AG_OK ||
		    ag_b64url_decode(&d, want, strlen(want)) != AG_OK ||
		    d.len != 1 + n || memcmp(d.data + 1, in, n) != 0 ||
		    d.data[d.len] != '\0')
			allok = 0;
		ag_buf_free(&b);
		ref_b64(in, n, 0, want);
		if (ag_b64_encode(&b, in, n) != AG_OK ||
		    strcmp(ag_buf_str(&b), want) != 0)
			allok = 0;
		ag_buf_free(&b);
		ag_buf_free(&d);
	}
	ok(allok, "b64: encode/decode of 0..70 bytes match the reference");

	/* A bad byte at every position: refused, out unchanged. */
	ref_b64(in, 40, 1, want);
	allok = 1;
	for (i = 0; i < strlen(want); i++) {
		memcpy(bad, want, strlen(want) + 1);
		bad[i] = i % 2 ? '+' : '=';
		ag_buf_init(&d, 0);
		(void)ag_buf_puts(&d, "keep");
		pre = d.len;
		r = ag_b64url_decode(&d, bad, strlen(bad));
		if (r != AG_ERR_PARSE || d.len != pre ||
		    strcmp(d.data, "keep") != 0)
			allok = 0;
		ag_buf_free(&d);
	}
	ok(allok, "b64: a byte outside the alphabet anywhere is refused, "
	    "out unchanged");

	ag_buf_init(&d, 0);
	is_int(ag_b64url_decode(&d, "QUJDR", 5), AG_ERR_PARSE,
	    "b64: a length of 4k+1 is refused");
	is_int(ag_b64url_decode(&d, "QR", 2), AG_ERR_PARSE,
	    "b64: non-canonical trailing bits (2 chars) are refused");
	is_int(ag_b64url_decode(&d, "QUJ", 3), AG_ERR_PARSE,
	    "b64: non-canonical trailing bits (3 chars) are refused");
	is_int(d.len, 0, "b64: nothing left behind by the refusals");
	is_int(ag_b64url_decode(&d, "QUI", 3), AG_OK, "b64: QUI decodes");
	is_str(ag_buf_str(&d), "AB", "b64: QUI is AB");
	ag_buf_free(&d);

	/* A bounded buffer: exactly enough room, and one byte short. */
	ag_buf_init(&d, 3);
	is_int(ag_b64url_decode(&d, "QUJD", 4), AG_OK,
	    "b64: 3 bytes into a buffer of at most 3");
	is_int(ag_b64url_decode(&d, "QQ", 2), AG_ERR_LIMIT,
	    "b64: a fourth byte is over the limit");
	is_str(ag_buf_str(&d), "ABC", "b64: the bounded buffer is unchanged");
	ag_buf_free(&d);
	ag_buf_init(&b, 4);
	is_int(ag_b64url_encode(&b, "ABC", 3), AG_OK,
	    "b64: 4 characters into a buffer of at most 4");
	is_int(ag_b64url_encode(&b, "A", 1), AG_ERR_LIMIT,
	    "b64: more is over the limit");
	is_str(ag_buf_str(&b), "QUJD", "b64: encoded text kept");
	ag_buf_free(&b);
}

int
main(void)
{
	test_sha256_hkdf();
	test_b64();
	test_vectors();
	test_roundtrip_and_tamper();
	test_seal();
	return tap_done();
}
