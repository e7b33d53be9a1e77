/*
 * crypto.c -- SHA-256, HKDF and the sealed cookie values (compact JWE,
 * dir + A256GCM, as @auth0/nextjs-auth0 v4 writes them with jose).
 * See crypto.h.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "b64.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "json.h"
#include "ag_limits.h"
#include "rand.h"

#define GCM_IV_LEN	12
#define GCM_TAG_LEN	16
#define JWE_PARTS	5

/* B64URL of {"enc":"A256GCM","alg":"dir"}, in the SDK's member order. */
static const char jwe_header[] = "eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0";

int
ag_sha256(const void *p, size_t n, unsigned char out[AG_SHA256_LEN])
{
	if (EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		return AG_ERR_CRYPTO;
	}
	return AG_OK;
}

int
ag_sha(int bits, const void *p, size_t n, unsigned char *out)
{
	const EVP_MD *md;

	switch (bits) {
	case 256:
		md = EVP_sha256();
		break;
	case 384:
		md = EVP_sha384();
		break;
	case 512:
		md = EVP_sha512();
		break;
	default:
		return AG_ERR_PARSE;
	}
	if (EVP_Digest(p, n, out, NULL, md, NULL) != 1) {
		ERR_clear_error();
		return AG_ERR_CRYPTO;
	}
	return AG_OK;
}

int
ag_hkdf_sha256(const void *ikm, size_t ikmlen, const void *salt,
    size_t saltlen, const void *info, size_t infolen, void *out,
    size_t outlen)
{
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *ctx = NULL;
	EVP_KDF *kdf = NULL;
	int r = AG_ERR_CRYPTO;

	if (outlen == 0 || outlen > 255 * AG_SHA256_LEN)
		return AG_ERR_LIMIT;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    "SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikmlen);
	/* An absent salt is HashLen zero bytes, the same HMAC key as "". */
	if (saltlen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, saltlen);
	if (infolen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)info, infolen);
	*p = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	if (EVP_KDF_derive(ctx, out, outlen, params) == 1)
		r = AG_OK;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	ERR_clear_error();
	return r;
}

int
ag_crypto_init(void)
{
	/*
	 * No openssl.cnf and no legacy name tables: authgate fetches its
	 * algorithms from the default provider by name, and a CGI wrapper
	 * that starts once per request would otherwise spend a third of
	 * its start-up reading the file and filling tables it never uses.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
	    NULL) != 1)
		return AG_ERR_CRYPTO;
	return AG_OK;
}

int
ag_cookie_key(const char *secret, unsigned char key[AG_KEY_LEN])
{
	static const char info[] = "JWE CEK";

	/* The SDK uses the secret's bytes as they are, never hex-decoded. */
	if (secret == NULL || *secret == '\0')
		return AG_ERR_CONFIG;
	return ag_hkdf_sha256(secret, strlen(secret), "", 0, info,
	    sizeof(info) - 1, key, AG_KEY_LEN);
}

/*
 * The cipher, fetched once: EVP_aes_256_gcm() makes every init look the
 * algorithm up again (a measurable share of a session read).
 */
static const EVP_CIPHER *
aes_256_gcm(void)
{
	static EVP_CIPHER *c;

	if (c == NULL)
		c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	return c != NULL ? c : EVP_aes_256_gcm();
}

/*
 * AES-256-GCM of n bytes from in to o (room for n bytes), with aad.
 * Encrypting writes tag; decrypting checks it.  AG_ERR_CRYPTO when the
 * tag does not match.
 */
static int
gcm(int enc, const unsigned char *key, const unsigned char *iv,
    const char *aad, size_t aadlen, const unsigned char *in, size_t n,
    unsigned char *o, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx;
	int len, ok;

	if (n > INT_MAX || aadlen > INT_MAX)
		return AG_ERR_LIMIT;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return AG_ERR_NOMEM;
	ok = EVP_CipherInit_ex(ctx, aes_256_gcm(), NULL, key, iv,
	    enc) == 1 &&
	    (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
	    GCM_TAG_LEN, tag) == 1) &&
	    EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad,
	    (int)aadlen) == 1 &&
	    (n == 0 || EVP_CipherUpdate(ctx, o, &len, in, (int)n) == 1) &&
	    EVP_CipherFinal_ex(ctx, o + n, &len) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
	    GCM_TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return ok ? AG_OK : AG_ERR_CRYPTO;
}

int
ag_jwe_encrypt(const unsigned char key[AG_KEY_LEN], const void *p, size_t n,
    struct ag_buf *out)
{
	unsigned char iv[GCM_IV_LEN], tag[GCM_TAG_LEN], *ct = NULL;
	struct ag_buf b;
	int r;

	/* Never write what ag_jwe_decrypt() would refuse to read. */
	ag_buf_init(&b, AG_MAX_JWT);
	if (n > AG_MAX_JWT)
		return AG_ERR_LIMIT;
	if ((ct = malloc(n + 1)) == NULL)
		return AG_ERR_NOMEM;
	if ((r = ag_rand_bytes(iv, sizeof(iv))) != AG_OK ||
	    (r = gcm(1, key, iv, jwe_header, sizeof(jwe_header) - 1, p, n, ct,
	    tag)) != AG_OK)
		goto out;
	if ((r = ag_buf_puts(&b, jwe_header)) != AG_OK ||
	    (r = ag_buf_puts(&b, "..")) != AG_OK ||
	    (r = ag_b64url_encode(&b, iv, sizeof(iv))) != AG_OK ||
	    (r = ag_buf_putc(&b, '.')) != AG_OK ||
	    (r = ag_b64url_encode(&b, ct, n)) != AG_OK ||
	    (r = ag_buf_putc(&b, '.')) != AG_OK ||
	    (r = ag_b64url_encode(&b, tag, sizeof(tag))) != AG_OK)
		goto out;
	r = ag_buf_add(out, b.data, b.len);
out:
	ag_freezero(ct, n + 1);
	ag_buf_free(&b);
	return r;
}

/* 1 if the decoded header is exactly {"alg":"dir","enc":"A256GCM"}. */
static int
header_ok(const struct ag_buf *hdr)
{
	ag_json *h;
	const char *alg, *enc;
	int ok;

	if (ag_json_parse_object(ag_buf_str(hdr), hdr->len, AG_MAX_JWT,
	    &h) != AG_OK)
		return 0;
	ok = ag_json_object_len(h) == 2 &&
	    (alg = ag_json_get_str(h, "alg")) != NULL &&
	    strcmp(alg, "dir") == 0 &&
	    (enc = ag_json_get_str(h, "enc")) != NULL &&
	    strcmp(enc, "A256GCM") == 0;
	ag_json_free(h);
	return ok;
}

int
ag_jwe_decrypt(const unsigned char key[AG_KEY_LEN], const char *s, size_t n,
    struct ag_buf *out)
{
	const char *part[JWE_PARTS], *dot;
	size_t len[JWE_PARTS], i;
	struct ag_buf hdr, iv, ct, tag;
	unsigned char *pt = NULL;
	int r = AG_ERR_CRYPTO;

	if (n > AG_MAX_JWT)
		return AG_ERR_LIMIT;
	ag_buf_init(&hdr, AG_MAX_JWT);
	ag_buf_init(&iv, GCM_IV_LEN);
	ag_buf_init(&ct, AG_MAX_JWT);
	ag_buf_init(&tag, GCM_TAG_LEN);
	/* Exactly five parts; only the encrypted key (dir) may be empty. */
	for (i = 0; i < JWE_PARTS; i++) {
		part[i] = s;
		dot = memchr(s, '.', n - (size_t)(s - part[0]));
		if ((dot == NULL) != (i == JWE_PARTS - 1))
			goto out;
		len[i] = dot != NULL ? (size_t)(dot - s) :
		    n - (size_t)(s - part[0]);
		s += len[i] + 1;
	}
	if (len[0] == 0 || len[1] != 0 || len[2] == 0 || len[4] == 0)
		goto out;
	/* The header authgate and the SDK write needs no JSON parse. */
	if (!(len[0] == sizeof(jwe_header) - 1 &&
	    memcmp(part[0], jwe_header, len[0]) == 0) &&
	    (ag_b64url_decode(&hdr, part[0], len[0]) != AG_OK ||
	    !header_ok(&hdr)))
		goto out;
	if (ag_b64url_decode(&iv, part[2], len[2]) != AG_OK ||
	    iv.len != GCM_IV_LEN ||
	    ag_b64url_decode(&ct, part[3], len[3]) != AG_OK ||
	    ag_b64url_decode(&tag, part[4], len[4]) != AG_OK ||
	    tag.len != GCM_TAG_LEN)
		goto out;
	/* Straight into out's room; wiped there unless authentic. */
	if ((r = ag_buf_reserve(out, ct.len)) != AG_OK)
		goto out;
	pt = (unsigned char *)out->data + out->len;
	/* The AAD is the header part exactly as it came. */
	if ((r = gcm(0, key, (unsigned char *)iv.data, part[0], len[0],
	    (unsigned char *)ct.data, ct.len, pt,
	    (unsigned char *)tag.data)) != AG_OK) {
		OPENSSL_cleanse(pt, ct.len);
		out->data[out->len] = '\0';
		goto out;
	}
	out->len += ct.len;
	out->data[out->len] = '\0';
out:
	ag_buf_free(&hdr);
	ag_buf_free(&iv);
	ag_buf_free(&ct);
	ag_buf_free(&tag);
	return r;
}

int
ag_seal(const unsigned char key[AG_KEY_LEN], ag_json *payload, int64_t exp,
    struct ag_buf *out)
{
	ag_json *copy;
	const char *s;
	size_t n;
	int r = AG_ERR_NOMEM;

	if (ag_json_type(payload) != AG_JSON_OBJECT)
		return AG_ERR_PARSE;
	/* json-c replaces an existing exp in place, as {...payload, exp} does. */
	if ((copy = ag_json_copy(payload)) == NULL)
		return AG_ERR_NOMEM;
	if ((r = ag_json_set_int(copy, "exp", exp)) != AG_OK)
		goto out;
	r = AG_ERR_NOMEM;
	if ((s = ag_json_dump(copy)) == NULL)
		goto out;
	/* ag_unseal() reads no more than this. */
	r = AG_ERR_LIMIT;
	if ((n = strlen(s)) > AG_MAX_SESSION_JSON)
		goto out;
	r = ag_jwe_encrypt(key, s, n, out);
out:
	ag_json_free(copy);
	return r;
}

/*
 * The claim checks of jose's jwtDecrypt(..., { clockTolerance: 15 })
 * as the SDK calls it: exp expired when exp <= now - leeway (required
 * here; jose checks it when present), nbf refused when nbf > now +
 * leeway.  iat must be a number when present but is not compared with
 * now: jose does that only when maxTokenAge is set, which the SDK never
 * does, so an iat in the future is accepted.  Fractions are allowed, as
 * in JavaScript.
 */
static int
check_times(const ag_json *v, int64_t now)
{
	ag_json *nbf, *iat;
	double exp, t;

	if (ag_json_to_double(ag_json_get(v, "exp"), &exp) != AG_OK)
		return AG_ERR_VERIFY;
	if ((iat = ag_json_get(v, "iat")) != NULL &&
	    ag_json_to_double(iat, &t) != AG_OK)
		return AG_ERR_VERIFY;
	if ((nbf = ag_json_get(v, "nbf")) != NULL &&
	    (ag_json_to_double(nbf, &t) != AG_OK ||
	    t > (double)now + AG_JWE_LEEWAY))
		return AG_ERR_VERIFY;
	if (exp <= (double)now - AG_JWE_LEEWAY)
		return AG_ERR_EXPIRED;
	return AG_OK;
}

int
ag_unseal(const unsigned char key[AG_KEY_LEN], const char *s, size_t n,
    int64_t now, ag_json **out)
{
	struct ag_buf pt;
	ag_json *v = NULL;
	int r;

	*out = NULL;
	ag_buf_init(&pt, AG_MAX_SESSION_JSON);
	if ((r = ag_jwe_decrypt(key, s, n, &pt)) != AG_OK ||
	    (r = ag_json_parse_object(ag_buf_str(&pt), pt.len,
	    AG_MAX_SESSION_JSON, &v)) != AG_OK ||
	    (r = check_times(v, now)) != AG_OK)
		goto out;
	*out = v;
	v = NULL;
out:
	ag_json_free(v);
	ag_buf_free(&pt);
	return r;
}
