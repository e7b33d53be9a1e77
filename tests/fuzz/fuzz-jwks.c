/*
 * fuzz-jwks.c -- the JWKS parser, ag_jwks_parse(), which turns JWKs
 * into OpenSSL public keys.
 */
#include <string.h>

#include "ag_limits.h"
#include "err.h"
#include "fuzz.h"
#include "jwt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_jwks *jwks = NULL;

	if (ag_jwks_parse((const char *)data, size, &jwks) == AG_OK) {
		FUZZ_CHECK(jwks != NULL);
		FUZZ_CHECK(ag_jwks_count(jwks) <= AG_MAX_JWKS_KEYS);
		(void)ag_jwks_has_kid(jwks, "rsa");
		(void)ag_jwks_has_kid(jwks, "");
	}
	ag_jwks_free(jwks);
	return 0;
}
