/*
 * fuzz-bclogout.c -- the claim rules of a back-channel logout token,
 * ag_bclogout_check(), on a token split from the input: the part before
 * the first newline is the protected header, the rest the claims.  The
 * signature is not fuzzed here (fuzz-jwt does that).
 */
#include <string.h>

#include "ag_limits.h"
#include "bclogout.h"
#include "err.h"
#include "fuzz.h"
#include "json.h"
#include "oidc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl;
	ag_json *header = NULL, *claims = NULL;
	struct ag_bclogout out;
	char why[AG_WHY_LEN];
	size_t hlen;
	int r;

	nl = memchr(p, '\n', size);
	hlen = nl != NULL ? (size_t)(nl - p) : 0;
	if (nl != NULL && ag_json_parse_object(p, hlen, AG_MAX_JWT,
	    &header) != AG_OK)
		header = NULL;
	if (ag_json_parse_object(nl != NULL ? nl + 1 : p,
	    nl != NULL ? size - hlen - 1 : size, AG_MAX_JWT, &claims) != AG_OK)
		goto out;
	why[0] = '\0';
	r = ag_bclogout_check(header, claims, 1800000000, &out, why);
	if (r == AG_OK) {
		/* An accepted token names someone and can be remembered. */
		FUZZ_CHECK(out.sid != NULL || out.sub != NULL);
		FUZZ_CHECK(out.jti != NULL && *out.jti != '\0');
		FUZZ_CHECK(strlen(out.jti) <= AG_BCLOGOUT_MAX_JTI);
		FUZZ_CHECK(ag_json_get(claims, "nonce") == NULL);
	} else
		FUZZ_CHECK(why[0] != '\0');
out:
	ag_json_free(header);
	ag_json_free(claims);
	return 0;
}
