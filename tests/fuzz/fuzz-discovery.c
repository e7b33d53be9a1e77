/*
 * fuzz-discovery.c -- the OpenID Provider metadata parser,
 * ag_discovery_parse(), with the issuer of tests/data/discovery/, with
 * and without allow_http.  (The scheme is matched without regard to
 * case, as URL schemes are: "htTps://" is https.)
 */
#include <string.h>
#include <strings.h>

#include "err.h"
#include "fuzz.h"
#include "oidc.h"

#define ISSUER	"https://tenant.eu.auth0.com/"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_provider p;
	char why[AG_WHY_LEN];
	int allow_http, r;

	for (allow_http = 0; allow_http < 2; allow_http++) {
		why[0] = '\0';
		r = ag_discovery_parse((const char *)data, size, ISSUER,
		    allow_http, &p, why);
		if (r == AG_OK) {
			FUZZ_CHECK(p.issuer != NULL &&
			    strcmp(p.issuer, ISSUER) == 0);
			FUZZ_CHECK(p.authorization_endpoint != NULL &&
			    p.token_endpoint != NULL && p.jwks_uri != NULL);
			FUZZ_CHECK(p.id_token_algs != 0);
			if (!allow_http)
				FUZZ_CHECK(strncasecmp(p.token_endpoint,
				    "https://", 8) == 0);
		} else {
			FUZZ_CHECK(p.issuer == NULL && p.jwks_uri == NULL);
			FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
		}
		ag_provider_clear(&p);
	}
	return 0;
}
