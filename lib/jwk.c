/*
 * jwk.c -- JSON Web Keys: a JWKS into OpenSSL public keys (built from
 * the JWK members with EVP_PKEY_fromdata), PEM private keys for
 * signing, public JWK export and RFC 7638 thumbprints.  See jwt.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "b64.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "json.h"
#include "jwk_internal.h"
#include "jwt.h"
#include "ag_limits.h"
#include "log.h"

/* Smaller RSA moduli are refused for verifying and for signing. */
#define RSA_MIN_BITS	2048
/* The modulus of keys `authgate keygen` makes. */
#define KEYGEN_RSA_BITS	3072

static const struct {
	const char	*kty;
	const char	*crv;	/* JWK curve name; NULL for RSA */
	int		 nid;	/* OpenSSL curve; NID_undef unless EC */
	size_t		 len;	/* bytes of a coordinate or raw key */
} types[AG_JWK__MAX] = {
	[AG_JWK_RSA] =		{ "RSA", NULL, NID_undef, 0 },
	[AG_JWK_P256] =		{ "EC", "P-256", NID_X9_62_prime256v1, 32 },
	[AG_JWK_P384] =		{ "EC", "P-384", NID_secp384r1, 48 },
	[AG_JWK_P521] =		{ "EC", "P-521", NID_secp521r1, 66 },
	[AG_JWK_ED25519] =	{ "OKP", "Ed25519", NID_undef, 32 },
};

/* The type named by kty and crv (crv ignored for RSA); -1 if none. */
static int
jwk_type(const char *kty, const char *crv)
{
	int i;

	for (i = 0; i < AG_JWK__MAX; i++) {
		if (strcmp(types[i].kty, kty) != 0)
			continue;
		if (types[i].crv == NULL ||
		    (crv != NULL && strcmp(types[i].crv, crv) == 0))
			return i;
	}
	return -1;
}

/* Decode the base64url member name of jwk into b. */
static int
member(const ag_json *jwk, const char *name, struct ag_buf *b)
{
	const char *s;

	if ((s = ag_json_get_str(jwk, name)) == NULL || *s == '\0')
		return AG_ERR_PARSE;
	return ag_b64url_decode(b, s, strlen(s));
}

/* A public key of OpenSSL type name from the params built in bld. */
static EVP_PKEY *
fromdata(const char *name, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		return NULL;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* The EVP_PKEY of jwk (of the given type), or NULL when malformed. */
static EVP_PKEY *
jwk_pkey(const ag_json *jwk, int type)
{
	struct ag_buf a, b, pt;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	size_t len = types[type].len;

	/* No JWK member is longer than the largest RSA modulus. */
	ag_buf_init(&a, OPENSSL_RSA_MAX_MODULUS_BITS / 8);
	ag_buf_init(&b, OPENSSL_RSA_MAX_MODULUS_BITS / 8);
	ag_buf_init(&pt, 1 + 2 * len);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (type == AG_JWK_RSA) {
		if (member(jwk, "n", &a) || member(jwk, "e", &b) || b.len > 8 ||
		    (n = BN_bin2bn((unsigned char *)a.data, (int)a.len,
		    NULL)) == NULL ||
		    (e = BN_bin2bn((unsigned char *)b.data, (int)b.len,
		    NULL)) == NULL ||
		    BN_num_bits(n) < RSA_MIN_BITS || !BN_is_odd(e) ||
		    BN_is_one(e) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
		pkey = fromdata("RSA", bld);
	} else if (type == AG_JWK_ED25519) {
		if (member(jwk, "x", &a) || a.len != len ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, a.data, a.len))
			goto out;
		pkey = fromdata("ED25519", bld);
	} else {
		/* The uncompressed point 04 || x || y; sizes are exact. */
		if (member(jwk, "x", &a) || a.len != len ||
		    member(jwk, "y", &b) || b.len != len ||
		    ag_buf_putc(&pt, 4) || ag_buf_add(&pt, a.data, len) ||
		    ag_buf_add(&pt, b.data, len) ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME,
		    OBJ_nid2sn(types[type].nid), 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt.data, pt.len))
			goto out;
		/* An off-curve point never becomes a key. */
		if ((pkey = fromdata("EC", bld)) != NULL &&
		    ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey,
		    NULL)) == NULL || EVP_PKEY_public_check(ctx) != 1)) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
out:
	ag_buf_free(&a);
	ag_buf_free(&b);
	ag_buf_free(&pt);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	ERR_clear_error();
	return pkey;
}

/* 1 if the JWK's key_ops (when present) allow "verify". */
static int
ops_allow_verify(const ag_json *jwk)
{
	ag_json *ops;
	size_t i;

	if ((ops = ag_json_get(jwk, "key_ops")) == NULL)
		return 1;
	for (i = 0; i < ag_json_array_len(ops); i++) {
		const char *op = ag_json_str(ag_json_array_get(ops, i));

		if (op != NULL && strcmp(op, "verify") == 0)
			return 1;
	}
	return 0;
}

/*
 * Fill k from one JWKS member.  AG_OK when the key is usable for
 * verification; anything else means skip it.
 */
static int
jwk_import(const ag_json *jwk, struct ag_jwk *k)
{
	const char *kty, *use, *kid = NULL;
	ag_json *v;

	memset(k, 0, sizeof(*k));
	k->alg = -1;
	if ((kty = ag_json_get_str(jwk, "kty")) == NULL)
		return AG_ERR_PARSE;
	if ((k->type = jwk_type(kty, ag_json_get_str(jwk, "crv"))) < 0)
		return AG_ERR_DENIED;		/* oct, unknown kty or crv */
	if ((v = ag_json_get(jwk, "use")) != NULL &&
	    ((use = ag_json_str(v)) == NULL || strcmp(use, "sig") != 0))
		return AG_ERR_DENIED;
	if (!ops_allow_verify(jwk))
		return AG_ERR_DENIED;
	if ((v = ag_json_get(jwk, "alg")) != NULL &&
	    ((k->alg = ag_alg_parse(ag_json_str(v))) < 0 ||
	    ag_alg_key_type(k->alg) != k->type))
		return AG_ERR_DENIED;
	if ((v = ag_json_get(jwk, "kid")) != NULL &&
	    (kid = ag_json_str(v)) == NULL)
		return AG_ERR_PARSE;
	if ((k->pkey = jwk_pkey(jwk, k->type)) == NULL)
		return AG_ERR_PARSE;
	if (kid != NULL && (k->kid = strdup(kid)) == NULL) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
		return AG_ERR_NOMEM;
	}
	return AG_OK;
}

int
ag_jwks_parse(const char *s, size_t n, struct ag_jwks **out)
{
	struct ag_jwks *jwks = NULL;
	ag_json *doc = NULL, *keys;
	size_t i, len;
	int r;

	*out = NULL;
	if ((r = ag_json_parse_object(s, n, AG_MAX_IDP_RESPONSE, &doc)) != AG_OK)
		goto out;
	r = AG_ERR_PARSE;
	if (ag_json_type(keys = ag_json_get(doc, "keys")) != AG_JSON_ARRAY)
		goto out;
	if ((len = ag_json_array_len(keys)) > AG_MAX_JWKS_KEYS) {
		ag_warn("jwks parse: %zu keys, only the first %d examined",
		    len, AG_MAX_JWKS_KEYS);
		len = AG_MAX_JWKS_KEYS;
	}
	r = AG_ERR_NOMEM;
	if ((jwks = calloc(1, sizeof(*jwks))) == NULL ||
	    (jwks->keys = calloc(len + 1, sizeof(*jwks->keys))) == NULL)
		goto out;
	for (i = 0; i < len; i++) {
		r = jwk_import(ag_json_array_get(keys, i), &jwks->keys[jwks->n]);
		if (r == AG_ERR_NOMEM)
			goto out;
		if (r == AG_OK)
			jwks->n++;
		else
			ag_debug("jwks parse: key %zu skipped: %s", i,
			    ag_strerror(r));
	}
	*out = jwks;
	jwks = NULL;
	r = AG_OK;
out:
	ag_jwks_free(jwks);
	ag_json_free(doc);
	return r;
}

void
ag_jwks_free(struct ag_jwks *jwks)
{
	size_t i;

	if (jwks == NULL)
		return;
	for (i = 0; jwks->keys != NULL && i < jwks->n; i++) {
		EVP_PKEY_free(jwks->keys[i].pkey);
		free(jwks->keys[i].kid);
	}
	free(jwks->keys);
	free(jwks);
}

size_t
ag_jwks_count(const struct ag_jwks *jwks)
{
	return jwks != NULL ? jwks->n : 0;
}

int
ag_jwks_has_kid(const struct ag_jwks *jwks, const char *kid)
{
	size_t i;

	for (i = 0; kid != NULL && i < ag_jwks_count(jwks); i++)
		if (jwks->keys[i].kid != NULL &&
		    strcmp(jwks->keys[i].kid, kid) == 0)
			return 1;
	return 0;
}

static int	key_wrap(EVP_PKEY **, int, struct ag_key **);

/* Never prompt for a passphrase: an encrypted key fails to load. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return -1;
}

/* The type of a private or public key; -1 if authgate does not use it. */
static int
pkey_type(EVP_PKEY *pkey)
{
	char group[64];
	int i, nid;

	if (EVP_PKEY_is_a(pkey, "RSA"))
		return AG_JWK_RSA;
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return AG_JWK_ED25519;
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL))
		return -1;
	if ((nid = EC_curve_nist2nid(group)) == NID_undef)
		nid = OBJ_sn2nid(group);
	for (i = 0; i < AG_JWK__MAX; i++)
		if (types[i].nid != NID_undef && types[i].nid == nid)
			return i;
	return -1;
}

int
ag_key_load(const char *path, int alg, struct ag_key **out)
{
	struct ag_buf b;
	char chunk[4096];
	FILE *f;
	size_t n;
	int r;

	*out = NULL;
	ag_buf_init(&b, AG_MAX_CONF_FILE);
	if ((f = fopen(path, "r")) == NULL) {
		ag_err("key load: %s: %s", path, strerror(errno));
		return AG_ERR_IO;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if ((r = ag_buf_add(&b, chunk, n)) != AG_OK)
			goto out;
	r = AG_ERR_IO;
	if (ferror(f))
		goto out;
	if ((r = ag_key_load_pem(ag_buf_str(&b), b.len, alg, out)) != AG_OK)
		ag_err("key load: %s: %s", path, ag_strerror(r));
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	ag_buf_free(&b);
	fclose(f);
	return r;
}

int
ag_key_load_pem(const char *pem, size_t n, int alg, struct ag_key **out)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	if (n > AG_MAX_CONF_FILE)
		return AG_ERR_LIMIT;
	r = AG_ERR_PARSE;
	if ((bio = BIO_new_mem_buf(pem, (int)n)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
	    NULL)) == NULL)
		goto out;
	r = key_wrap(&pkey, alg, out);
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

/*
 * Make *pkey (taken on success: *pkey becomes NULL) a signing key for
 * alg (< 0: the type's default), its kid the thumbprint.  AG_ERR_CONFIG
 * when authgate does not use the key type or it does not fit alg.
 */
static int
key_wrap(EVP_PKEY **pkey, int alg, struct ag_key **out)
{
	struct ag_key *key = NULL;
	struct ag_buf tp;
	int r, type;

	*out = NULL;
	ag_buf_init(&tp, 0);
	r = AG_ERR_CONFIG;
	if ((type = pkey_type(*pkey)) < 0 ||
	    (type == AG_JWK_RSA && EVP_PKEY_get_bits(*pkey) < RSA_MIN_BITS))
		goto out;
	if (alg < 0)
		alg = ag_alg_default(type);
	else if (ag_alg_key_type(alg) != type)
		goto out;
	r = AG_ERR_NOMEM;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		goto out;
	key->pkey = *pkey;
	key->type = type;
	key->alg = alg;
	if ((r = ag_key_thumbprint(key, &tp)) != AG_OK ||
	    (r = ag_key_set_kid(key, ag_buf_str(&tp))) != AG_OK) {
		key->pkey = NULL;
		goto out;
	}
	*pkey = NULL;
	*out = key;
	key = NULL;
out:
	ag_key_free(key);
	ag_buf_free(&tp);
	return r;
}

int
ag_key_generate(int alg, struct ag_key **out)
{
	EVP_PKEY *pkey = NULL;
	int r;

	*out = NULL;
	switch (ag_alg_key_type(alg)) {
	case AG_JWK_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case AG_JWK_RSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)KEYGEN_RSA_BITS);
		break;
	default:
		return AG_ERR_CONFIG;
	}
	if (pkey == NULL) {
		ERR_clear_error();
		return AG_ERR_NOMEM;
	}
	r = key_wrap(&pkey, alg, out);
	EVP_PKEY_free(pkey);
	return r;
}

int
ag_key_private_pem(const struct ag_key *key, struct ag_buf *out)
{
	BIO *bio;
	char *p;
	long n;
	int r = AG_ERR_NOMEM;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		goto out;
	if (PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || (n = BIO_get_mem_data(bio, &p)) <= 0)
		goto out;
	r = ag_buf_add(out, p, (size_t)n);
out:
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

void
ag_key_free(struct ag_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key->kid);
	free(key);
}

int
ag_key_alg(const struct ag_key *key)
{
	return key->alg;
}

const char *
ag_key_kid(const struct ag_key *key)
{
	return key->kid;
}

int
ag_key_set_kid(struct ag_key *key, const char *kid)
{
	char *s;

	if (kid == NULL || *kid == '\0')
		return AG_ERR_PARSE;
	if ((s = strdup(kid)) == NULL)
		return AG_ERR_NOMEM;
	free(key->kid);
	key->kid = s;
	return AG_OK;
}

/* Set member name of jwk to the base64url of n bytes. */
static int
set_b64(ag_json *jwk, const char *name, const void *p, size_t n)
{
	struct ag_buf b;
	int r;

	ag_buf_init(&b, 0);
	if ((r = ag_b64url_encode(&b, p, n)) == AG_OK)
		r = ag_json_set_str(jwk, name, ag_buf_str(&b));
	ag_buf_free(&b);
	return r;
}

/*
 * Set member name of jwk to the BN parameter param of pkey, big-endian
 * in len bytes (0: as few as it takes).
 */
static int
set_bn(ag_json *jwk, const char *name, EVP_PKEY *pkey, const char *param,
    size_t len)
{
	BIGNUM *bn = NULL;
	unsigned char *p = NULL;
	int r = AG_ERR_CRYPTO;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
		goto out;
	if (len == 0)
		len = (size_t)BN_num_bytes(bn);
	r = AG_ERR_NOMEM;
	if ((p = malloc(len + 1)) == NULL)
		goto out;
	r = AG_ERR_CRYPTO;
	if (BN_bn2binpad(bn, p, (int)len) != (int)len)
		goto out;
	r = set_b64(jwk, name, p, len);
out:
	free(p);
	BN_free(bn);
	return r;
}

ag_json *
ag_key_public_jwk(const struct ag_key *key)
{
	unsigned char raw[32];
	size_t rawlen = sizeof(raw), len = types[key->type].len;
	EVP_PKEY *pk = key->pkey;
	ag_json *jwk;
	int r = AG_ERR_NOMEM;

	if ((jwk = ag_json_object()) == NULL ||
	    (r = ag_json_set_str(jwk, "kty", types[key->type].kty)) != AG_OK)
		goto out;
	if (key->type == AG_JWK_RSA) {
		if ((r = set_bn(jwk, "n", pk, OSSL_PKEY_PARAM_RSA_N, 0)) !=
		    AG_OK ||
		    (r = set_bn(jwk, "e", pk, OSSL_PKEY_PARAM_RSA_E, 0)) != AG_OK)
			goto out;
	} else if (key->type == AG_JWK_ED25519) {
		r = AG_ERR_CRYPTO;
		if (!EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) ||
		    (r = ag_json_set_str(jwk, "crv", "Ed25519")) != AG_OK ||
		    (r = set_b64(jwk, "x", raw, rawlen)) != AG_OK)
			goto out;
	} else {
		if ((r = ag_json_set_str(jwk, "crv", types[key->type].crv)) !=
		    AG_OK ||
		    (r = set_bn(jwk, "x", pk, OSSL_PKEY_PARAM_EC_PUB_X,
		    len)) != AG_OK ||
		    (r = set_bn(jwk, "y", pk, OSSL_PKEY_PARAM_EC_PUB_Y,
		    len)) != AG_OK)
			goto out;
	}
	if ((key->kid != NULL &&
	    (r = ag_json_set_str(jwk, "kid", key->kid)) != AG_OK) ||
	    (r = ag_json_set_str(jwk, "use", "sig")) != AG_OK ||
	    (r = ag_json_set_str(jwk, "alg", ag_alg_name(key->alg))) != AG_OK)
		goto out;
out:
	ERR_clear_error();
	if (r != AG_OK) {
		ag_json_free(jwk);
		jwk = NULL;
	}
	return jwk;
}

int
ag_jwk_thumbprint(const ag_json *jwk, struct ag_buf *out)
{
	/* RFC 7638 section 3.2: the required members, sorted. */
	static const char *const rsa[] = { "e", "kty", "n", NULL };
	static const char *const ec[] = { "crv", "kty", "x", "y", NULL };
	static const char *const okp[] = { "crv", "kty", "x", NULL };
	const char *const *m;
	const char *kty, *v;
	unsigned char md[AG_SHA256_LEN];
	struct ag_buf b;
	int r = AG_ERR_PARSE;

	ag_buf_init(&b, 0);
	if ((kty = ag_json_get_str(jwk, "kty")) == NULL)
		goto out;
	if (strcmp(kty, "RSA") == 0)
		m = rsa;
	else if (strcmp(kty, "EC") == 0)
		m = ec;
	else if (strcmp(kty, "OKP") == 0)
		m = okp;
	else
		goto out;
	if ((r = ag_buf_putc(&b, '{')) != AG_OK)
		goto out;
	for (; *m != NULL; m++) {
		r = AG_ERR_PARSE;
		if ((v = ag_json_get_str(jwk, *m)) == NULL)
			goto out;
		if ((r = ag_json_quote(&b, *m)) != AG_OK ||
		    (r = ag_buf_putc(&b, ':')) != AG_OK ||
		    (r = ag_json_quote(&b, v)) != AG_OK ||
		    (r = ag_buf_putc(&b, m[1] != NULL ? ',' : '}')) != AG_OK)
			goto out;
	}
	if ((r = ag_sha256(b.data, b.len, md)) == AG_OK)
		r = ag_b64url_encode(out, md, sizeof(md));
out:
	ag_buf_free(&b);
	return r;
}

int
ag_key_thumbprint(const struct ag_key *key, struct ag_buf *out)
{
	ag_json *jwk;
	int r;

	if ((jwk = ag_key_public_jwk(key)) == NULL)
		return AG_ERR_NOMEM;
	r = ag_jwk_thumbprint(jwk, out);
	ag_json_free(jwk);
	return r;
}
