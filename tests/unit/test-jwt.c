/*
 * test-jwt.c -- alg names, JWKS parsing, JWS verification (each rule of
 * jwt.h with a good token and bad variants), key loading, public JWK
 * export, RFC 7638 thumbprints and signing.  Keys and node-signed
 * tokens come from tests/data/jwt/gen.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "b64.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "json.h"
#include "jwt.h"
#include "tap.h"
#include "util.h"

#define DATA	"tests/data/jwt/"

static const char *const names[] = {
	"rsa", "rsa2", "ec256", "ec384", "ec521", "ed25519", NULL
};
/* The key each alg signs with in these tests. */
static const char *const alg_key[AG_ALG__MAX] = {
	"rsa", "rsa", "rsa", "rsa", "rsa", "rsa", "ec256", "ec384", "ec521",
	"ed25519"
};

/* The node-exported public JWK of key name, with kid = name. */
static ag_json *
jwk(const char *name)
{
	struct ag_buf b, path;
	ag_json *v = NULL;

	ag_buf_init(&path, 0);
	ag_buf_printf(&path, DATA "%s.jwk.json", name);
	slurp(path.data, &b);
	if (ag_json_parse_object(ag_buf_str(&b), b.len, 1 << 16, &v) == AG_OK)
		ag_json_set_str(v, "kid", name);
	ag_buf_free(&b);
	ag_buf_free(&path);
	return v;
}

/* Parse {"keys": arr}; arr is consumed. */
static struct ag_jwks *
jwks_of(ag_json *arr)
{
	struct ag_jwks *jwks = NULL;
	ag_json *doc = ag_json_object();
	const char *s;

	ag_json_set(doc, "keys", arr);
	s = ag_json_dump(doc);
	if (ag_jwks_parse(s, strlen(s), &jwks) != AG_OK)
		printf("# jwks_of: parse failed\n");
	ag_json_free(doc);
	return jwks;
}

/* A JWKS of the named keys (NULL-terminated list). */
static struct ag_jwks *
jwks_named(const char *const *list)
{
	ag_json *arr = ag_json_array();

	for (; *list != NULL; list++)
		ag_json_array_add(arr, jwk(*list));
	return jwks_of(arr);
}

static struct ag_key *
key(const char *name, int alg)
{
	struct ag_key *k = NULL;
	struct ag_buf path;

	ag_buf_init(&path, 0);
	ag_buf_printf(&path, DATA "%s.pem", name);
	if (ag_key_load(path.data, alg, &k) == AG_OK)
		ag_key_set_kid(k, name);
	ag_buf_free(&path);
	return k;
}

/* Sign claims {"sub":"x"} with the key name under alg; header may be NULL. */
static char *
token(const char *name, int alg, const char *header)
{
	struct ag_key *k = key(name, alg);
	struct ag_buf out;
	ag_json *h = NULL, *c = ag_json_object();

	ag_buf_init(&out, 0);
	ag_json_set_str(c, "sub", "x");
	if (header != NULL)
		ag_json_parse(header, strlen(header), 1 << 16, &h);
	if (k == NULL || ag_jwt_sign(k, h, c, &out) != AG_OK)
		printf("# token: signing with %s failed\n", name);
	ag_json_free(h);
	ag_json_free(c);
	ag_key_free(k);
	return ag_buf_take(&out);
}

/* Parse and verify s; the verify result, or the parse error. */
static int
check(const char *s, const struct ag_jwks *jwks, unsigned algs)
{
	struct ag_jwt *jwt;
	const char *why;
	int r;

	if ((r = ag_jwt_parse(s, strlen(s), &jwt)) != AG_OK)
		return r;
	r = ag_jwt_verify(jwt, jwks, algs, &why);
	if (r != AG_OK && why == NULL)
		r = -1;			/* every refusal names a reason */
	ag_jwt_free(jwt);
	return r;
}

/* B64(json) */
static void
b64(struct ag_buf *b, const char *json)
{
	ag_b64url_encode(b, json, strlen(json));
}

static void
test_alg_names(void)
{
	unsigned mask;
	int i, good = 1;

	for (i = 0; i < AG_ALG__MAX; i++)
		good &= ag_alg_parse(ag_alg_name(i)) == i;
	ok(good, "alg names round trip");
	is_int(ag_alg_parse("none"), -1, "none is not an alg");
	is_int(ag_alg_parse("HS256"), -1, "HS256 is not an alg");
	is_int(ag_alg_parse("rs256"), -1, "names are case-sensitive");
	is_int(ag_alg_parse(NULL), -1, "NULL");
	ok(ag_alg_name(AG_ALG__MAX) == NULL && ag_alg_name(-1) == NULL,
	    "no name out of range");
	is_str(ag_alg_name(AG_ALG_EDDSA), "EdDSA", "EdDSA");
	is_int(ag_alg_mask_parse("RS256, ES256 EdDSA", &mask), 0, "mask parse");
	is_int(mask, AG_ALG_BIT(AG_ALG_RS256) | AG_ALG_BIT(AG_ALG_ES256) |
	    AG_ALG_BIT(AG_ALG_EDDSA), "mask value");
	is_int(ag_alg_mask_parse("RS256,HS256", &mask), -1, "HS256 in list");
	is_int(ag_alg_mask_parse("none", &mask), -1, "none in list");
	is_int(ag_alg_mask_parse(" , ", &mask), -1, "empty list");
	is_int(ag_alg_mask_parse("RS256RS256", &mask), -1, "run-together");
}

static void
test_every_alg(void)
{
	struct ag_jwks *all = jwks_named(names);
	struct ag_buf file;
	ag_json *node;
	struct ag_jwt *jwt;
	char *t, msg[96];
	size_t i;
	int alg, bad, r;

	is_int(ag_jwks_count(all), 6, "JWKS of six keys");
	slurp(DATA "node-tokens.json", &file);
	ag_json_parse_object(ag_buf_str(&file), file.len, 1 << 20, &node);
	for (alg = 0; alg < AG_ALG__MAX; alg++) {
		t = token(alg_key[alg], alg, NULL);
		snprintf(msg, sizeof(msg), "%s: signed token verifies",
		    ag_alg_name(alg));
		is_int(check(t, all, AG_ALG_ALL), AG_OK, msg);
		snprintf(msg, sizeof(msg), "%s: refused when not allowed",
		    ag_alg_name(alg));
		is_int(check(t, all, AG_ALG_ALL & ~AG_ALG_BIT(alg)),
		    AG_ERR_VERIFY, msg);
		snprintf(msg, sizeof(msg), "%s: node-signed token verifies",
		    ag_alg_name(alg));
		is_int(check(ag_json_get_str(node, ag_alg_name(alg)), all,
		    AG_ALG_BIT(alg)), AG_OK, msg);

		/* Bit flips in the signature and the signed part. */
		ag_jwt_parse(t, strlen(t), &jwt);
		bad = 0;
		for (i = 0; i < jwt->sig_len; i += jwt->sig_len / 7 + 1) {
			jwt->sig[i] ^= 0x01;
			bad += ag_jwt_verify(jwt, all, AG_ALG_ALL, NULL) == AG_OK;
			jwt->sig[i] ^= 0x01;
		}
		jwt->sig[jwt->sig_len - 1] ^= 0x80;
		bad += ag_jwt_verify(jwt, all, AG_ALG_ALL, NULL) == AG_OK;
		jwt->sig[jwt->sig_len - 1] ^= 0x80;
		jwt->signing_input[jwt->signing_input_len - 2] ^= 0x01;
		bad += ag_jwt_verify(jwt, all, AG_ALG_ALL, NULL) == AG_OK;
		jwt->signing_input[jwt->signing_input_len - 2] ^= 0x01;
		snprintf(msg, sizeof(msg), "%s: bit flips refused",
		    ag_alg_name(alg));
		is_int(bad, 0, msg);
		jwt->sig_len--;
		r = ag_jwt_verify(jwt, all, AG_ALG_ALL, NULL);
		jwt->sig_len++;
		snprintf(msg, sizeof(msg), "%s: truncated signature refused",
		    ag_alg_name(alg));
		is_int(r, AG_ERR_VERIFY, msg);
		is_int(ag_jwt_verify(jwt, all, AG_ALG_ALL, NULL), AG_OK,
		    "and the original still verifies");
		ag_jwt_free(jwt);
		free(t);
	}
	t = (char *)ag_json_get_str(node, "HS256_rsa_pubkey");
	is_int(check(t, all, AG_ALG_ALL), AG_ERR_VERIFY,
	    "HS256 keyed with the RSA public key refused");
	ag_json_free(node);
	ag_buf_free(&file);
	ag_jwks_free(all);
}

static void
test_bad_tokens(void)
{
	static const char *const rsa_only[] = { "rsa", NULL };
	static const char *const two_rsa[] = { "rsa", "rsa2", "ec256", NULL };
	static const char *const rsa_ec[] = { "rsa", "ec256", "ed25519", NULL };
	struct ag_jwks *all = jwks_named(names), *j;
	struct ag_buf b, pub;
	struct ag_key *k;
	ag_json *arr, *v;
	struct ag_jwt *jwt;
	char *t, *good, *dot;
	size_t i;

	ag_buf_init(&b, 0);
	good = token("rsa", AG_ALG_RS256, NULL);
	dot = strchr(good, '.');

	/* alg none, with and without a signature. */
	b64(&b, "{\"alg\":\"none\",\"kid\":\"rsa\"}");
	ag_buf_puts(&b, dot);
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_VERIFY,
	    "alg none with a signature refused");
	*strrchr(b.data, '.') = '\0';
	b.len = strlen(b.data);
	ag_buf_puts(&b, ".");
	ok(check(b.data, all, AG_ALG_ALL) != AG_OK,
	    "alg none with an empty signature refused");
	ag_buf_reset(&b);
	b64(&b, "{\"alg\":\"RS256\",\"kid\":\"rsa\"}");
	ag_buf_puts(&b, dot);
	is_int(check(b.data, all, AG_ALG_ALL), AG_OK,
	    "(same header rebuilt verifies)");
	ag_buf_reset(&b);
	b64(&b, "{\"kid\":\"rsa\"}");
	ag_buf_puts(&b, dot);
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE, "no alg: parse");
	ag_buf_reset(&b);
	b64(&b, "{\"alg\":\"RS256\",\"kid\":7}");
	ag_buf_puts(&b, dot);
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE,
	    "numeric kid: parse");

	t = token("rsa", AG_ALG_RS256, "{\"crit\":[\"exp\"],\"exp\":1}");
	is_int(check(t, all, AG_ALG_ALL), AG_ERR_VERIFY, "crit header refused");
	free(t);
	is_int(check(good, all, AG_ALG_BIT(AG_ALG_ES256)), AG_ERR_VERIFY,
	    "alg not in the allow-list refused");
	is_int(check(good, all, 0), AG_ERR_VERIFY, "empty allow-list");
	t = token("ec256", AG_ALG_ES256, "{\"kid\":\"rsa\"}");
	is_int(check(t, all, AG_ALG_ALL), AG_ERR_VERIFY,
	    "ES256 header naming an RSA key refused");
	free(t);
	t = token("ec256", AG_ALG_ES256, "{\"kid\":\"ec384\"}");
	is_int(check(t, all, AG_ALG_ALL), AG_ERR_VERIFY,
	    "ES256 token vs a P-384 key refused");
	free(t);
	t = token("rsa", AG_ALG_RS256, "{\"kid\":\"nope\"}");
	is_int(check(t, all, AG_ALG_ALL), AG_ERR_NOTFOUND, "unknown kid: notfound");
	free(t);
	t = token("rsa2", AG_ALG_RS256, "{\"kid\":\"rsa\"}");
	is_int(check(t, all, AG_ALG_ALL), AG_ERR_VERIFY,
	    "signed by another key under this kid refused");
	free(t);
	is_int(check(good, NULL, AG_ALG_ALL), AG_ERR_NOTFOUND, "no JWKS");

	/* No kid: only with exactly one key of the type (header "jwk" ignored). */
	k = key("rsa", AG_ALG_RS256);
	v = ag_key_public_jwk(k);
	ag_buf_init(&pub, 0);
	ag_buf_printf(&pub, "{\"jwk\":%s}", ag_json_dump(v));
	ag_json_free(v);
	ag_key_free(k);
	t = token("rsa", AG_ALG_RS256, pub.data);
	ag_jwt_parse(t, strlen(t), &jwt);
	ok(jwt != NULL && jwt->kid == NULL, "token without kid");
	ag_jwt_free(jwt);
	j = jwks_named(rsa_ec);
	is_int(check(t, j, AG_ALG_ALL), AG_OK, "no kid, one RSA key: ok");
	ag_jwks_free(j);
	j = jwks_named(two_rsa);
	is_int(check(t, j, AG_ALG_ALL), AG_ERR_VERIFY,
	    "no kid, two RSA keys: refused");
	ag_jwks_free(j);
	free(t);
	t = token("rsa2", AG_ALG_RS256, pub.data);
	j = jwks_named(rsa_only);
	is_int(check(t, j, AG_ALG_ALL), AG_ERR_VERIFY,
	    "embedded jwk header never trusted");
	ag_jwks_free(j);
	free(t);
	ag_buf_free(&pub);

	/* oct, use=enc and alg-pinned keys. */
	arr = ag_json_array();
	ag_json_parse("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"hs\"}", 39,
	    100, &v);
	ag_json_array_add(arr, v);
	v = jwk("rsa");
	ag_json_set_str(v, "use", "enc");
	ag_json_array_add(arr, v);
	v = jwk("rsa2");
	ag_json_set_str(v, "alg", "RS384");
	ag_json_array_add(arr, v);
	j = jwks_of(arr);
	is_int(ag_jwks_count(j), 1, "oct and use=enc keys ignored");
	ok(!ag_jwks_has_kid(j, "hs") && !ag_jwks_has_kid(j, "rsa") &&
	    ag_jwks_has_kid(j, "rsa2"), "has_kid sees only usable keys");
	is_int(check(good, j, AG_ALG_ALL), AG_ERR_NOTFOUND,
	    "use=enc key not used");
	t = token("rsa2", AG_ALG_RS256, NULL);
	is_int(check(t, j, AG_ALG_ALL), AG_ERR_VERIFY,
	    "key with alg RS384 not used for RS256");
	free(t);
	t = token("rsa2", AG_ALG_RS384, NULL);
	is_int(check(t, j, AG_ALG_ALL), AG_OK, "but used for RS384");
	free(t);
	ag_jwks_free(j);

	/* ES256 signature lengths. */
	t = token("ec256", AG_ALG_ES256, NULL);
	*strrchr(t, '.') = '\0';
	{
		unsigned char sig[72];
		size_t lens[] = { 0, 1, 63, 65, 70, 72 };

		memset(sig, 0x11, sizeof(sig));
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			ag_buf_reset(&b);
			ag_buf_printf(&b, "%s.", t);
			ag_b64url_encode(&b, sig, lens[i]);
			ok(check(b.data, all, AG_ALG_ALL) != AG_OK,
			    "ES256 signature of wrong length refused");
		}
		memset(sig, 0, sizeof(sig));
		ag_buf_reset(&b);
		ag_buf_printf(&b, "%s.", t);
		ag_b64url_encode(&b, sig, 64);
		is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_VERIFY,
		    "ES256 r = s = 0 refused");
	}
	free(t);

	/* Shapes. */
	is_int(check("a.b.c.d.e", all, AG_ALG_ALL), AG_ERR_PARSE, "JWE shape");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "%s.x.y", good);
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE, "5 parts");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "%s.", good);
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE, "4 parts");
	is_int(check(dot + 1, all, AG_ALG_ALL), AG_ERR_PARSE, "2 parts");
	is_int(check("", all, AG_ALG_ALL), AG_ERR_PARSE, "empty");
	is_int(check("..", all, AG_ALG_ALL), AG_ERR_PARSE, "empty parts");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "%s=", good);
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE, "padding refused");
	ag_buf_reset(&b);
	ag_buf_printf(&b, "%s", good);
	b.data[3] = '+';
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE, "'+' refused");
	ag_buf_reset(&b);
	b64(&b, "{\"alg\":\"RS256\"}");
	ag_buf_putc(&b, '.');
	b64(&b, "[1,2]");
	ag_buf_puts(&b, ".AAAA");
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE, "array payload");
	ag_buf_reset(&b);
	b64(&b, "{\"alg\":\"RS256\"}");
	ag_buf_putc(&b, '.');
	b64(&b, "\"str\"");
	ag_buf_puts(&b, ".AAAA");
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE, "string payload");
	ag_buf_reset(&b);
	b64(&b, "[\"RS256\"]");
	ag_buf_putc(&b, '.');
	b64(&b, "{}");
	ag_buf_puts(&b, ".AAAA");
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE, "array header");
	ag_buf_reset(&b);
	b64(&b, "{\"alg\":\"RS256\"}x");
	ag_buf_putc(&b, '.');
	b64(&b, "{}");
	ag_buf_puts(&b, ".AAAA");
	is_int(check(b.data, all, AG_ALG_ALL), AG_ERR_PARSE,
	    "trailing bytes after header");
	ag_buf_reset(&b);
	ag_buf_puts(&b, good);
	while (b.len <= AG_MAX_JWT)
		ag_buf_putc(&b, 'A');
	is_int(ag_jwt_parse(b.data, AG_MAX_JWT + 1, &jwt), AG_ERR_LIMIT,
	    "AG_MAX_JWT + 1 bytes: limit");
	ok(jwt == NULL, "no jwt");

	ag_buf_free(&b);
	free(good);
	ag_jwks_free(all);
}

static int
jwks_count_of(const char *s)
{
	struct ag_jwks *j;
	int r, n;

	if ((r = ag_jwks_parse(s, strlen(s), &j)) != AG_OK)
		return -r - 100;
	n = (int)ag_jwks_count(j);
	ag_jwks_free(j);
	return n;
}

/* Usable keys of {"keys":[jwk(name)]} with member set (NULL: deleted). */
static int
count_with(const char *name, const char *member, const char *value)
{
	struct ag_jwks *j;
	ag_json *arr = ag_json_array(), *v = jwk(name);
	int n;

	if (value == NULL)
		ag_json_del(v, member);
	else if (value[0] == '#')
		ag_json_set_int(v, member, 5);
	else
		ag_json_set_str(v, member, value);
	ag_json_array_add(arr, v);
	j = jwks_of(arr);
	n = (int)ag_jwks_count(j);
	ag_jwks_free(j);
	return n;
}

static void
test_jwks_parse(void)
{
	struct ag_jwks *j;
	struct ag_buf b;
	ag_json *arr, *v;
	char kid[16];
	int i;

	is_int(jwks_count_of("garbage"), -AG_ERR_PARSE - 100, "garbage");
	is_int(jwks_count_of("{\"keys\":{}}"), -AG_ERR_PARSE - 100,
	    "keys not an array");
	is_int(jwks_count_of("{}"), -AG_ERR_PARSE - 100, "no keys");
	is_int(jwks_count_of("[]"), -AG_ERR_PARSE - 100, "array document");
	is_int(jwks_count_of("{\"keys\":[]}"), 0, "empty set is fine");
	is_int(jwks_count_of("{\"keys\":[1,\"x\",null,[],{}]}"), 0,
	    "non-key members skipped");
	ag_buf_init(&b, 0);
	ag_buf_puts(&b, "{\"keys\":[");
	while (b.len <= AG_MAX_IDP_RESPONSE)
		ag_buf_puts(&b, "{},");
	ag_buf_puts(&b, "{}]}");
	is_int(ag_jwks_parse(b.data, b.len, &j), AG_ERR_LIMIT,
	    "document over AG_MAX_IDP_RESPONSE: limit");
	ag_buf_free(&b);

	/* 1000 keys: only the first AG_MAX_JWKS_KEYS are examined. */
	arr = ag_json_array();
	for (i = 0; i < 1000; i++) {
		v = jwk("ec256");
		snprintf(kid, sizeof(kid), "k%d", i);
		ag_json_set_str(v, "kid", kid);
		ag_json_array_add(arr, v);
	}
	j = jwks_of(arr);
	is_int(ag_jwks_count(j), AG_MAX_JWKS_KEYS, "1000 keys: 64 kept");
	snprintf(kid, sizeof(kid), "k%d", AG_MAX_JWKS_KEYS - 1);
	ok(ag_jwks_has_kid(j, kid), "last examined key present");
	snprintf(kid, sizeof(kid), "k%d", AG_MAX_JWKS_KEYS);
	ok(!ag_jwks_has_kid(j, kid), "key past the limit absent");
	ag_jwks_free(j);

	is_int(count_with("rsa", "use", "sig"), 1, "use sig kept");
	is_int(count_with("rsa1024", "use", "sig"), 0,
	    "RSA modulus under 2048 bits refused");
	is_int(count_with("rsa", "e", NULL), 0, "RSA without e");
	is_int(count_with("rsa", "n", NULL), 0, "RSA without n");
	is_int(count_with("rsa", "n", ""), 0, "RSA with empty n");
	is_int(count_with("rsa", "n", "AAAA+"), 0, "RSA with bad base64 n");
	is_int(count_with("rsa", "e", "AQABAQABAQAB"), 0, "RSA e over 8 bytes");
	is_int(count_with("ec256", "y", NULL), 0, "EC without y");
	is_int(count_with("ec256", "crv", NULL), 0, "EC without crv");
	is_int(count_with("ec256", "crv", "P-384"), 0, "EC x/y of the wrong size");
	is_int(count_with("ec256", "crv", "secp256k1"), 0, "EC unknown crv");
	is_int(count_with("ec256", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
	    0, "EC point off the curve");
	is_int(count_with("ec256", "x", "AAAA"), 0, "EC short x");
	is_int(count_with("ed25519", "x", NULL), 0, "OKP without x");
	is_int(count_with("ed25519", "crv", "X25519"), 0, "OKP X25519");
	is_int(count_with("ed25519", "kty", NULL), 0, "no kty");
	is_int(count_with("ed25519", "kty", "oct"), 0, "kty oct");
	is_int(count_with("ed25519", "kid", "#"), 0, "numeric kid");
	is_int(count_with("ec256", "alg", "RS256"), 0, "alg of another key type");
	is_int(count_with("ec256", "alg", "HS256"), 0, "alg HS256");
	is_int(count_with("ec256", "alg", "ES256"), 1, "alg ES256 on P-256");
	is_int(count_with("ec256", "use", "#"), 0, "numeric use");
	is_int(count_with("ec521", "d", "AAAA"), 1,
	    "a private member is ignored, the public key kept");
	v = jwk("ec256");
	ag_json_parse("[\"encrypt\"]", 11, 100, &arr);
	ag_json_set(v, "key_ops", arr);
	arr = ag_json_array();
	ag_json_array_add(arr, v);
	j = jwks_of(arr);
	is_int(ag_jwks_count(j), 0, "key_ops without verify skipped");
	ag_jwks_free(j);
	ag_jwks_free(NULL);
	is_int(ag_jwks_count(NULL), 0, "count of NULL");
}

static void
test_keys(void)
{
	/* RFC 7638 section 3.1. */
	static const char rfc7638[] = "{\"kty\":\"RSA\",\"n\":\""
	    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1R"
	    "K7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9"
	    "yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZg"
	    "nYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6We"
	    "Zu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDK"
	    "gw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
	static const struct {
		const char *name;
		int alg, want_alg, r;
	} loads[] = {
		{ "rsa", -1, AG_ALG_RS256, AG_OK },
		{ "rsa", AG_ALG_PS256, AG_ALG_PS256, AG_OK },
		{ "rsa-trad", AG_ALG_RS512, AG_ALG_RS512, AG_OK },
		{ "ec256", -1, AG_ALG_ES256, AG_OK },
		{ "ec256-trad", AG_ALG_ES256, AG_ALG_ES256, AG_OK },
		{ "ec384", -1, AG_ALG_ES384, AG_OK },
		{ "ec521", -1, AG_ALG_ES512, AG_OK },
		{ "ed25519", -1, AG_ALG_EDDSA, AG_OK },
		{ "rsa", AG_ALG_ES256, 0, AG_ERR_CONFIG },
		{ "ec256", AG_ALG_ES384, 0, AG_ERR_CONFIG },
		{ "ed25519", AG_ALG_RS256, 0, AG_ERR_CONFIG },
		{ "rsa", AG_ALG__MAX, 0, AG_ERR_CONFIG },
		{ "rsa1024", -1, 0, AG_ERR_CONFIG },
		{ "missing", -1, 0, AG_ERR_IO },
		{ "rsa.jwk", -1, 0, AG_ERR_PARSE },
	};
	static const char *const members[] = { "kty", "crv", "n", "e", "x", "y" };
	struct ag_buf b, tp, path;
	struct ag_key *k;
	ag_json *v, *node, *h, *c;
	struct ag_jwt *jwt;
	char msg[128];
	size_t i, m;
	int same;

	ag_buf_init(&b, 0);
	ag_buf_init(&tp, 0);
	ag_buf_init(&path, 0);
	ag_json_parse_object(rfc7638, strlen(rfc7638), 4096, &v);
	is_int(ag_jwk_thumbprint(v, &b), AG_OK, "RFC 7638 thumbprint");
	is_str(ag_buf_str(&b), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
	    "RFC 7638 section 3.1 value");
	ag_json_del(v, "e");
	ag_buf_reset(&b);
	is_int(ag_jwk_thumbprint(v, &b), AG_ERR_PARSE, "thumbprint without e");
	ag_json_free(v);

	for (i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
		ag_buf_reset(&path);
		ag_buf_printf(&path, DATA "%s%s", loads[i].name,
		    strstr(loads[i].name, ".jwk") ? ".json" : ".pem");
		k = (struct ag_key *)1;
		snprintf(msg, sizeof(msg), "load %s as %s", loads[i].name,
		    loads[i].alg < 0 ? "default" : ag_alg_name(loads[i].alg) ?
		    ag_alg_name(loads[i].alg) : "bad alg");
		is_int(ag_key_load(path.data, loads[i].alg, &k), loads[i].r, msg);
		if (loads[i].r != AG_OK) {
			ok(k == NULL, "no key on failure");
			continue;
		}
		is_int(ag_key_alg(k), loads[i].want_alg, "alg of the key");
		ag_buf_reset(&tp);
		ag_key_thumbprint(k, &tp);
		is_str(ag_key_kid(k), ag_buf_str(&tp), "kid defaults to thumbprint");
		/* The public JWK matches node's export member by member. */
		v = ag_key_public_jwk(k);
		ag_buf_reset(&b);
		ag_buf_printf(&b, "%.*s", (int)strcspn(loads[i].name, "-"),
		    loads[i].name);
		node = jwk(b.data);
		same = ag_json_get(v, "d") == NULL && ag_json_get(v, "p") == NULL;
		for (m = 0; m < sizeof(members) / sizeof(members[0]); m++) {
			const char *x = ag_json_get_str(v, members[m]);
			const char *y = ag_json_get_str(node, members[m]);

			same &= (x == NULL && y == NULL) ||
			    (x != NULL && y != NULL && strcmp(x, y) == 0);
		}
		snprintf(msg, sizeof(msg), "%s public JWK equals node's",
		    loads[i].name);
		ok(same, msg);
		is_str(ag_json_get_str(v, "alg"), ag_alg_name(loads[i].want_alg),
		    "public JWK alg");
		is_str(ag_json_get_str(v, "use"), "sig", "public JWK use");
		ag_buf_reset(&b);
		ag_jwk_thumbprint(node, &b);
		is_str(ag_buf_str(&b), ag_buf_str(&tp),
		    "thumbprint of node's JWK is the key's");
		ag_json_free(node);
		ag_json_free(v);
		ag_key_free(k);
	}
	is_int(ag_key_load_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n", 56, -1, &k), AG_ERR_PARSE,
	    "garbage PEM");
	is_int(ag_key_load_pem("", 0, -1, &k), AG_ERR_PARSE, "empty PEM");

	/* Signing: the header is copied, gets alg and kid, keeps the rest. */
	k = key("ec256", -1);
	is_int(ag_key_set_kid(k, ""), AG_ERR_PARSE, "empty kid refused");
	ag_json_parse("{\"typ\":\"JWT\"}", 13, 100, &h);
	ag_json_parse("{\"sub\":\"s\",\"n\":1}", 17, 100, &c);
	ag_buf_reset(&b);
	is_int(ag_jwt_sign(k, h, c, &b), AG_OK, "sign with a header");
	ok(ag_json_get(h, "alg") == NULL, "caller's header unchanged");
	ag_jwt_parse(b.data, b.len, &jwt);
	is_str(ag_json_dump(jwt->header),
	    "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"kid\":\"ec256\"}", "header");
	is_str(ag_json_dump(jwt->claims), "{\"sub\":\"s\",\"n\":1}", "claims");
	is_str(jwt->typ, "JWT", "typ");
	is_int(jwt->sig_len, 64, "ES256 signature is r||s, 64 bytes");
	ag_jwt_free(jwt);
	ag_buf_reset(&b);
	is_int(ag_jwt_sign(k, NULL, c, &b), AG_OK, "sign without a header");
	ag_jwt_parse(b.data, b.len, &jwt);
	is_str(ag_json_dump(jwt->header), "{\"alg\":\"ES256\",\"kid\":\"ec256\"}",
	    "default header");
	ag_jwt_free(jwt);
	ag_json_free(h);
	h = ag_json_array();
	is_int(ag_jwt_sign(k, NULL, h, &b), AG_ERR_PARSE, "array claims refused");
	ag_json_free(h);
	ag_json_free(c);
	ag_key_free(k);
	ag_key_free(NULL);
	ag_buf_free(&b);
	ag_buf_free(&tp);
	ag_buf_free(&path);
}

int
main(void)
{
	test_alg_names();
	test_every_alg();
	test_bad_tokens();
	test_jwks_parse();
	test_keys();
	return tap_done();
}
