/*
 * jwt.h -- JSON Web Keys and compact JWS: parse, verify, sign.
 *
 * OpenSSL is confined to jwt.c/jwk.c/crypto.c.  Verification follows
 * one rule set for ID tokens and logout tokens:
 *  - the alg must be in the caller's allow-list (a bit mask of
 *    enum ag_alg); "none" and every HMAC alg are never accepted;
 *  - a "crit" header is refused; a JWE (5 parts) is refused;
 *  - the key is chosen by kid; with no kid, only when the JWKS holds
 *    exactly one usable key for that alg's key type;
 *  - the key's kty (and crv) must match the alg; a key with "use" other
 *    than "sig" or an "alg" other than the token's is not used;
 *  - symmetric ("oct") keys in a JWKS are ignored.
 */
#ifndef AG_JWT_H
#define AG_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

enum ag_alg {
	AG_ALG_RS256,
	AG_ALG_RS384,
	AG_ALG_RS512,
	AG_ALG_PS256,
	AG_ALG_PS384,
	AG_ALG_PS512,
	AG_ALG_ES256,
	AG_ALG_ES384,
	AG_ALG_ES512,
	AG_ALG_EDDSA,
	AG_ALG__MAX
};

#define AG_ALG_BIT(a)	(1u << (a))
#define AG_ALG_ALL	((1u << AG_ALG__MAX) - 1)

/* "RS256"... "EdDSA"; -1 for anything else ("none", "HS256" included). */
int		 ag_alg_parse(const char *);
/* The name of alg; NULL when alg is not an enum ag_alg value. */
const char	*ag_alg_name(int alg);
/*
 * Parse a space- or comma-separated alg list into a mask: 0, or -1 on
 * an unknown name or an empty list.
 */
int		 ag_alg_mask_parse(const char *, unsigned *mask);

struct ag_jwks;		/* opaque: usable public keys */
struct ag_key;		/* opaque: a private key for signing */

/*
 * Parse a JWKS document (n <= AG_MAX_IDP_RESPONSE).  Keys that are not
 * usable for signature verification are skipped (oct keys, use "enc",
 * unknown kty/crv, malformed members); at most AG_MAX_JWKS_KEYS keys are
 * examined.  AG_ERR_PARSE when the document is not {"keys": [...]}.
 * An empty usable set is not an error.
 */
int		 ag_jwks_parse(const char *, size_t n, struct ag_jwks **out);
void		 ag_jwks_free(struct ag_jwks *);
size_t		 ag_jwks_count(const struct ag_jwks *);
/* 1 if a usable key carries this kid. */
int		 ag_jwks_has_kid(const struct ag_jwks *, const char *kid);

/* A parsed, not yet verified, compact JWS. */
struct ag_jwt {
	ag_json		*header;	/* owned */
	ag_json		*claims;	/* owned; the payload object */
	int		 alg;		/* enum ag_alg, or -1 if unsupported */
	const char	*kid;		/* borrowed from header, may be NULL */
	const char	*typ;		/* borrowed from header, may be NULL */
	char		*signing_input;	/* owned: "B64(header).B64(payload)" */
	size_t		 signing_input_len;
	unsigned char	*sig;		/* owned, decoded signature */
	size_t		 sig_len;
};

/*
 * Split and decode a compact JWS (n <= AG_MAX_JWT): exactly three
 * base64url parts, the header and payload JSON objects.  Does not
 * verify.  AG_ERR_PARSE on anything else (JWE, bad base64, non-object).
 */
int		 ag_jwt_parse(const char *, size_t n, struct ag_jwt **out);
void		 ag_jwt_free(struct ag_jwt *);
/*
 * Verify the signature under the rules above.  AG_OK; AG_ERR_NOTFOUND
 * when no key matches the kid (the caller may refetch the JWKS once);
 * AG_ERR_VERIFY otherwise.  *why (static string) names the reason.
 */
int		 ag_jwt_verify(const struct ag_jwt *, const struct ag_jwks *,
		    unsigned allowed_algs, const char **why);

/*
 * Load a private key from a PEM file (PKCS#8 or traditional; RSA, EC
 * P-256/384/521, Ed25519).  alg < 0 picks the default for the key type
 * (RS256, ES256/384/512, EdDSA).  kid may be NULL (then the RFC 7638
 * thumbprint is used).  AG_ERR_IO / AG_ERR_PARSE / AG_ERR_CONFIG when
 * the key type does not fit alg.
 */
int		 ag_key_load(const char *path, int alg, struct ag_key **out);
/* The same from PEM text in memory. */
int		 ag_key_load_pem(const char *pem, size_t n, int alg,
		    struct ag_key **out);
/*
 * A new private key for alg: ES256 makes a P-256 key, RS256/PS256 an
 * RSA key (3072 bits).  AG_ERR_CONFIG for any other alg.  *out owned by
 * the caller.
 */
int		 ag_key_generate(int alg, struct ag_key **out);
/*
 * The private key as unencrypted PKCS#8 PEM, appended to out (the
 * caller wipes it: ag_buf_free).  AG_OK or AG_ERR_NOMEM/AG_ERR_LIMIT.
 */
int		 ag_key_private_pem(const struct ag_key *, struct ag_buf *out);
void		 ag_key_free(struct ag_key *);
int		 ag_key_alg(const struct ag_key *);
/* The kid: the thumbprint unless ag_key_set_kid() set one.  Borrowed. */
const char	*ag_key_kid(const struct ag_key *);
/* Replace the kid (copied; non-empty).  AG_OK, AG_ERR_PARSE, AG_ERR_NOMEM. */
int		 ag_key_set_kid(struct ag_key *, const char *kid);
/*
 * The public JWK (kty, crv/n/e/x/y, no private part; then kid, use "sig"
 * and alg), owned by caller; NULL on allocation failure.
 */
ag_json		*ag_key_public_jwk(const struct ag_key *);
/* RFC 7638 thumbprint, base64url, appended to out. */
int		 ag_key_thumbprint(const struct ag_key *, struct ag_buf *out);
/*
 * RFC 7638 thumbprint of a public JWK object (RSA, EC or OKP), appended
 * to out.  AG_ERR_PARSE when a required member is missing.
 */
int		 ag_jwk_thumbprint(const ag_json *jwk, struct ag_buf *out);
/*
 * Sign: header gets "alg" (and "kid" unless the header already has
 * one, or has "jwk"); the compact JWS is appended to out.  header may be
 * NULL ({"alg":...,"kid":...}).  ES* signatures are in JOSE (r||s) form.
 * header and claims (an object) are not modified: a copy of header is.
 * PS* use a salt as long as the hash.  Output is at most AG_MAX_JWT.
 */
int		 ag_jwt_sign(const struct ag_key *, ag_json *header,
		    ag_json *claims, struct ag_buf *out);

#endif
