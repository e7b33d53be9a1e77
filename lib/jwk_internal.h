/*
 * jwk_internal.h -- what jwk.c and jwt.c share.  Includes OpenSSL, so
 * only those two files may include it.
 */
#ifndef AG_JWK_INTERNAL_H
#define AG_JWK_INTERNAL_H

#include <openssl/evp.h>

/* The key types authgate signs and verifies with. */
enum ag_jwk_type {
	AG_JWK_RSA,
	AG_JWK_P256,
	AG_JWK_P384,
	AG_JWK_P521,
	AG_JWK_ED25519,
	AG_JWK__MAX
};

/* One usable public key of a JWKS. */
struct ag_jwk {
	EVP_PKEY	*pkey;		/* owned */
	char		*kid;		/* owned, may be NULL */
	int		 type;		/* enum ag_jwk_type */
	int		 alg;		/* the JWK's "alg", -1 when absent */
};

struct ag_jwks {
	struct ag_jwk	*keys;		/* owned, n of them */
	size_t		 n;
};

/* A private key for signing. */
struct ag_key {
	EVP_PKEY	*pkey;		/* owned */
	char		*kid;		/* owned, never NULL once loaded */
	int		 type;		/* enum ag_jwk_type */
	int		 alg;		/* enum ag_alg, fits type */
};

/* jwt.c: the key type alg needs (-1: not an alg); a type's default alg. */
int	 ag_alg_key_type(int alg);
int	 ag_alg_default(int type);

#endif
