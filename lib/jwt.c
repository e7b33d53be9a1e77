/*
 * jwt.c -- compact JWS: alg names, parse, verify, sign.  See jwt.h for
 * the verification rules; keys come from jwk.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "json.h"
#include "jwk_internal.h"
#include "jwt.h"
#include "ag_limits.h"

static const struct alg {
	const char	*name;
	int		 type;	/* enum ag_jwk_type */
	const char	*md;	/* digest; NULL for EdDSA */
	int		 pss;	/* RSASSA-PSS, salt length = hash length */
	size_t		 eclen;	/* ES*: bytes of r and of s */
} algs[AG_ALG__MAX] = {
	[AG_ALG_RS256] = { "RS256", AG_JWK_RSA, "SHA256", 0, 0 },
	[AG_ALG_RS384] = { "RS384", AG_JWK_RSA, "SHA384", 0, 0 },
	[AG_ALG_RS512] = { "RS512", AG_JWK_RSA, "SHA512", 0, 0 },
	[AG_ALG_PS256] = { "PS256", AG_JWK_RSA, "SHA256", 1, 0 },
	[AG_ALG_PS384] = { "PS384", AG_JWK_RSA, "SHA384", 1, 0 },
	[AG_ALG_PS512] = { "PS512", AG_JWK_RSA, "SHA512", 1, 0 },
	[AG_ALG_ES256] = { "ES256", AG_JWK_P256, "SHA256", 0, 32 },
	[AG_ALG_ES384] = { "ES384", AG_JWK_P384, "SHA384", 0, 48 },
	[AG_ALG_ES512] = { "ES512", AG_JWK_P521, "SHA512", 0, 66 },
	[AG_ALG_EDDSA] = { "EdDSA", AG_JWK_ED25519, NULL, 0, 0 },
};

int
ag_alg_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < AG_ALG__MAX; i++)
		if (strcmp(algs[i].name, s) == 0)
			return i;
	return -1;
}

const char *
ag_alg_name(int alg)
{
	return alg >= 0 && alg < AG_ALG__MAX ? algs[alg].name : NULL;
}

int
ag_alg_mask_parse(const char *s, unsigned *mask)
{
	char name[8];
	size_t n;
	int alg;

	*mask = 0;
	for (s += strspn(s, " ,"); *s != '\0'; s += strspn(s, " ,")) {
		if ((n = strcspn(s, " ,")) >= sizeof(name))
			return -1;
		memcpy(name, s, n);
		name[n] = '\0';
		if ((alg = ag_alg_parse(name)) < 0)
			return -1;
		*mask |= AG_ALG_BIT(alg);
		s += n;
	}
	return *mask != 0 ? 0 : -1;
}

int
ag_alg_key_type(int alg)
{
	return alg >= 0 && alg < AG_ALG__MAX ? algs[alg].type : -1;
}

int
ag_alg_default(int type)
{
	int i;

	for (i = 0; i < AG_ALG__MAX; i++)
		if (algs[i].type == type)
			return i;
	return -1;
}

/* Decode the base64url of n bytes of s into a JSON object. */
static int
decode_object(const char *s, size_t n, ag_json **out)
{
	struct ag_buf b;
	int r;

	ag_buf_init(&b, AG_MAX_JWT);
	if ((r = ag_b64url_decode(&b, s, n)) == AG_OK)
		r = ag_json_parse_object(ag_buf_str(&b), b.len, AG_MAX_JWT,
		    out);
	ag_buf_free(&b);
	return r == AG_ERR_NOMEM ? r : r != AG_OK ? AG_ERR_PARSE : AG_OK;
}

/* A string member of the header or absent; AG_ERR_PARSE for other types. */
static int
header_str(const ag_json *h, const char *name, const char **out)
{
	ag_json *v;

	*out = NULL;
	if ((v = ag_json_get(h, name)) == NULL)
		return AG_OK;
	return (*out = ag_json_str(v)) != NULL ? AG_OK : AG_ERR_PARSE;
}

int
ag_jwt_parse(const char *s, size_t n, struct ag_jwt **out)
{
	struct ag_jwt *jwt = NULL;
	struct ag_buf sig;
	const char *d1, *d2, *alg;
	int r;

	*out = NULL;
	ag_buf_init(&sig, AG_MAX_JWT);
	if (n > AG_MAX_JWT)
		return AG_ERR_LIMIT;
	r = AG_ERR_PARSE;
	/*
	 * Three non-empty parts: a JWE's five parts, or an "alg":"none"
	 * token's empty signature, stop here.
	 */
	if ((d1 = memchr(s, '.', n)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - s))) == NULL ||
	    memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - s)) != NULL ||
	    d1 == s || d2 == d1 + 1 || d2 + 1 == s + n)
		goto out;
	r = AG_ERR_NOMEM;
	if ((jwt = calloc(1, sizeof(*jwt))) == NULL)
		goto out;
	jwt->alg = -1;
	if ((r = decode_object(s, (size_t)(d1 - s), &jwt->header)) != AG_OK ||
	    (r = decode_object(d1 + 1, (size_t)(d2 - d1 - 1),
	    &jwt->claims)) != AG_OK)
		goto out;
	if ((r = ag_b64url_decode(&sig, d2 + 1, (size_t)(s + n - d2 - 1))) !=
	    AG_OK)
		goto out;
	r = AG_ERR_PARSE;
	if (header_str(jwt->header, "alg", &alg) != AG_OK || alg == NULL ||
	    header_str(jwt->header, "kid", &jwt->kid) != AG_OK ||
	    header_str(jwt->header, "typ", &jwt->typ) != AG_OK)
		goto out;
	jwt->alg = ag_alg_parse(alg);
	r = AG_ERR_NOMEM;
	jwt->sig_len = sig.len;
	jwt->signing_input_len = (size_t)(d2 - s);
	if ((jwt->sig = (unsigned char *)ag_buf_take(&sig)) == NULL ||
	    (jwt->signing_input = ag_strndup(s, jwt->signing_input_len)) ==
	    NULL)
		goto out;
	*out = jwt;
	jwt = NULL;
	r = AG_OK;
out:
	ag_jwt_free(jwt);
	ag_buf_free(&sig);
	return r;
}

void
ag_jwt_free(struct ag_jwt *jwt)
{
	if (jwt == NULL)
		return;
	ag_json_free(jwt->header);
	ag_json_free(jwt->claims);
	free(jwt->signing_input);
	free(jwt->sig);
	free(jwt);
}

/*
 * Check sig over data with pkey under alg a.  ES* signatures arrive as
 * r || s of exactly 2 * eclen bytes and are turned into DER here.
 */
static int
verify_sig(const struct alg *a, EVP_PKEY *pkey, const void *data,
    size_t n, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *der = NULL;
	int derlen, r = AG_ERR_VERIFY;

	if (a->eclen > 0) {
		if (siglen != 2 * a->eclen)
			goto out;
		if ((es = ECDSA_SIG_new()) == NULL ||
		    (br = BN_bin2bn(sig, (int)a->eclen, NULL)) == NULL ||
		    (bs = BN_bin2bn(sig + a->eclen, (int)a->eclen,
		    NULL)) == NULL || !ECDSA_SIG_set0(es, br, bs))
			goto out;
		br = bs = NULL;		/* owned by es now */
		if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0)
			goto out;
		sig = der;
		siglen = (size_t)derlen;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(md, &pctx, a->md, NULL, NULL, pkey,
	    NULL) != 1)
		goto out;
	if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	if (EVP_DigestVerify(md, sig, siglen, data, n) == 1)
		r = AG_OK;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(br);
	BN_free(bs);
	ERR_clear_error();
	return r;
}

/* 1 if k may verify alg: its type fits and its own "alg", if any, is alg. */
static int
key_fits(const struct ag_jwk *k, int alg)
{
	return k->type == algs[alg].type && (k->alg < 0 || k->alg == alg);
}

int
ag_jwt_verify(const struct ag_jwt *jwt, const struct ag_jwks *jwks,
    unsigned allowed_algs, const char **why)
{
	const struct ag_jwk *k;
	const char *ignored;
	size_t i, named = 0, fit = 0;

	if (why == NULL)
		why = &ignored;
	*why = NULL;
	if (jwt->alg < 0 || jwt->alg >= AG_ALG__MAX) {
		*why = "alg not supported";
		return AG_ERR_VERIFY;
	}
	if ((allowed_algs & AG_ALG_BIT(jwt->alg)) == 0) {
		*why = "alg not allowed";
		return AG_ERR_VERIFY;
	}
	if (ag_json_get(jwt->header, "crit") != NULL) {
		*why = "crit header";
		return AG_ERR_VERIFY;
	}
	/* Count the keys the kid names (all when none) and those that fit. */
	for (i = 0; i < ag_jwks_count(jwks); i++) {
		k = &jwks->keys[i];
		if (jwt->kid != NULL &&
		    (k->kid == NULL || strcmp(k->kid, jwt->kid) != 0))
			continue;
		named++;
		fit += key_fits(k, jwt->alg);
	}
	if (jwt->kid != NULL && named == 0) {
		*why = "no key with this kid";
		return AG_ERR_NOTFOUND;
	}
	if (fit == 0) {
		*why = "no key of the alg's type";
		return jwt->kid != NULL ? AG_ERR_VERIFY : AG_ERR_NOTFOUND;
	}
	if (jwt->kid == NULL && fit > 1) {
		*why = "no kid and several keys";
		return AG_ERR_VERIFY;
	}
	/* Several keys with one kid (rare, but jose allows it): try each. */
	for (i = 0; i < jwks->n; i++) {
		k = &jwks->keys[i];
		if ((jwt->kid == NULL || (k->kid != NULL &&
		    strcmp(k->kid, jwt->kid) == 0)) && key_fits(k, jwt->alg) &&
		    verify_sig(&algs[jwt->alg], k->pkey, jwt->signing_input,
		    jwt->signing_input_len, jwt->sig, jwt->sig_len) == AG_OK)
			return AG_OK;
	}
	*why = "bad signature";
	return AG_ERR_VERIFY;
}

/* Sign n bytes of data; the JOSE form of the signature is appended to out. */
static int
sign_raw(const struct ag_key *key, const void *data, size_t n,
    struct ag_buf *out)
{
	const struct alg *a = &algs[key->alg];
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx;
	ECDSA_SIG *es = NULL;
	const unsigned char *p;
	unsigned char *sig = NULL;
	size_t siglen;
	int r = AG_ERR_NOMEM;

	siglen = (size_t)EVP_PKEY_get_size(key->pkey);
	if ((sig = malloc(siglen + 2 * a->eclen)) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL)
		goto out;
	r = AG_ERR_CRYPTO;
	if (EVP_DigestSignInit_ex(md, &pctx, a->md, NULL, NULL, key->pkey,
	    NULL) != 1)
		goto out;
	if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	if (EVP_DigestSign(md, sig, &siglen, data, n) != 1)
		goto out;
	if (a->eclen > 0) {
		/* DER to r || s, each left-padded to eclen bytes. */
		p = sig;
		if ((es = d2i_ECDSA_SIG(NULL, &p, (long)siglen)) == NULL ||
		    BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)a->eclen) < 0 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + a->eclen,
		    (int)a->eclen) < 0)
			goto out;
		siglen = 2 * a->eclen;
	}
	r = ag_b64url_encode(out, sig, siglen);
out:
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(es);
	free(sig);
	ERR_clear_error();
	return r;
}

int
ag_jwt_sign(const struct ag_key *key, ag_json *header, ag_json *claims,
    struct ag_buf *out)
{
	struct ag_buf b, sig;
	ag_json *h;
	const char *s;
	int r = AG_ERR_NOMEM;

	ag_buf_init(&b, AG_MAX_JWT);
	ag_buf_init(&sig, AG_MAX_JWT);
	if (ag_json_type(claims) != AG_JSON_OBJECT ||
	    (header != NULL && ag_json_type(header) != AG_JSON_OBJECT))
		return AG_ERR_PARSE;
	if ((h = header != NULL ? ag_json_copy(header) : ag_json_object()) ==
	    NULL)
		goto out;
	if ((r = ag_json_set_str(h, "alg", algs[key->alg].name)) != AG_OK ||
	    (ag_json_get(h, "kid") == NULL && ag_json_get(h, "jwk") == NULL &&
	    (r = ag_json_set_str(h, "kid", key->kid)) != AG_OK))
		goto out;
	/* B64(header) "." B64(claims), signed, then "." B64(signature). */
	r = AG_ERR_NOMEM;
	if ((s = ag_json_dump(h)) == NULL ||
	    (r = ag_b64url_encode(&b, s, strlen(s))) != AG_OK ||
	    (r = ag_buf_putc(&b, '.')) != AG_OK)
		goto out;
	r = AG_ERR_NOMEM;
	if ((s = ag_json_dump(claims)) == NULL ||
	    (r = ag_b64url_encode(&b, s, strlen(s))) != AG_OK ||
	    (r = sign_raw(key, b.data, b.len, &sig)) != AG_OK ||
	    (r = ag_buf_putc(&b, '.')) != AG_OK ||
	    (r = ag_buf_add(&b, sig.data, sig.len)) != AG_OK)
		goto out;
	r = ag_buf_add(out, b.data, b.len);
out:
	ag_json_free(h);
	ag_buf_free(&b);
	ag_buf_free(&sig);
	return r;
}
