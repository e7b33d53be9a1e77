/*
 * dpop.h -- OAuth 2.0 Demonstrating Proof of Possession (RFC 9449):
 * the client's key, proofs, the nonces servers hand out, and the one
 * retry a nonce challenge allows.
 *
 * A proof is a JWS with header {typ "dpop+jwt", alg of the key, jwk:
 * the public key only} and claims {jti (32 random bytes), htm, htu
 * (scheme, host, port when not the default, path: no query, no
 * fragment), iat, nonce (the last one the URL's origin sent, if any),
 * ath (base64url SHA-256 of the access token, on resource requests)}.
 * Keys: EC P-256 (ES256) or RSA (RS256; PS256 when asked for).
 *
 * Nonces are kept per process in a table of AG_MAX_DPOP_NONCES
 * origins; the least recently used origin makes room for a new one.
 * Nothing in this file includes OpenSSL (keys and signatures come from
 * jwt.h).
 */
#ifndef AG_DPOP_H
#define AG_DPOP_H

#include "buf.h"

struct ag_key;
struct ag_http_req;
struct ag_http_resp;

struct ag_dpop;		/* opaque: the key, its thumbprint, the nonces */

/*
 * Load the private key (PEM) at path for DPoP.  alg may be NULL (ES256
 * for P-256, RS256 for RSA).  Any other key type (P-384, Ed25519...), an
 * unreadable, malformed or encrypted file: AG_ERR_CONFIG / AG_ERR_IO /
 * AG_ERR_PARSE with a one-line reason in why (AG_WHY_LEN bytes, may be
 * NULL).  *out owned by the caller (ag_dpop_free).
 */
int		 ag_dpop_load(const char *path, const char *alg,
		    struct ag_dpop **out, char *why);
/*
 * The same with a key already loaded; the key is taken (freed with the
 * handle, also on failure).  AG_ERR_CONFIG when it is neither P-256
 * nor RSA.
 */
int		 ag_dpop_new(struct ag_key *key, struct ag_dpop **out);
void		 ag_dpop_free(struct ag_dpop *);
/* The RFC 7638 thumbprint of the public key (dpop_jkt).  Borrowed. */
const char	*ag_dpop_jkt(const struct ag_dpop *);

/*
 * The htu of url (absolute http or https): lower-cased scheme and host,
 * the port unless the default, the path ("/" when empty), no query and
 * no fragment; appended to out.  AG_ERR_PARSE for anything else.
 */
int		 ag_dpop_htu(struct ag_buf *out, const char *url);
/* base64url(SHA-256(access_token)) appended to out. */
int		 ag_dpop_ath(struct ag_buf *out, const char *access_token);
/*
 * A fresh proof for method (upper case) and url, appended to out.
 * access_token non-NULL adds ath.  The nonce remembered for url's
 * origin, if any, goes in.
 */
int		 ag_dpop_proof(struct ag_dpop *, const char *method,
		    const char *url, const char *access_token,
		    struct ag_buf *out);

/*
 * Remember nonce (a DPoP-Nonce header value; NULL: nothing happens) for
 * url's origin.  A value that is not RFC 9449 NQCHAR or is longer than
 * AG_MAX_DPOP_NONCE is ignored.
 */
void		 ag_dpop_remember(struct ag_dpop *, const char *url,
		    const char *nonce);
/* The nonce remembered for url's origin, or NULL.  Borrowed. */
const char	*ag_dpop_nonce(struct ag_dpop *, const char *url);
/* How many origins have a nonce remembered. */
size_t		 ag_dpop_nonce_count(const struct ag_dpop *);

/*
 * 1 when resp is a nonce challenge that carries a nonce: a 400 whose
 * JSON body has error "use_dpop_nonce" (an authorization server), or a
 * 401 whose WWW-Authenticate is a DPoP challenge with error
 * "use_dpop_nonce" (a resource server); and a DPoP-Nonce header.
 */
int		 ag_dpop_nonce_challenge(const struct ag_http_resp *);

/*
 * ag_http_do(req) with a fresh proof (for access_token when non-NULL:
 * ath) in req->dpop; the answer's nonce is remembered, and a nonce
 * challenge is answered by exactly one more request with a new proof.
 * req->dpop is left NULL.  Returns what ag_http_do returns; resp must be
 * zeroed and holds the last answer.
 */
int		 ag_dpop_http(struct ag_dpop *, struct ag_http_req *req,
		    const char *access_token, struct ag_http_resp *resp);

#endif
