/*
 * fuzz-ciba.c -- the provider's answer to a CIBA backchannel
 * authentication request, ag_ciba_start_parse(), with the input as the
 * body at a 200, a 400 and a 503.  An accepted answer holds a printable
 * auth_req_id and bounded times; a refused one is explained and leaves
 * nothing behind.
 */
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "err.h"
#include "fuzz.h"
#include "grant.h"
#include "http.h"
#include "oidc.h"

/* 1 when s is printable ASCII, at most n bytes. */
static int
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= n || s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 503 };
	struct ag_http_resp resp;
	struct ag_ciba_start out;
	struct ag_grant_fail fail;
	char why[AG_WHY_LEN];
	size_t i;
	int r;

	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&resp.body, AG_MAX_IDP_RESPONSE);
	if (ag_buf_add(&resp.body, data, size) != AG_OK)
		goto out;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		resp.status = statuses[i];
		why[0] = '\0';
		r = ag_ciba_start_parse(&resp, &out, &fail, why);
		if (r == AG_OK) {
			FUZZ_CHECK(statuses[i] == 200);
			FUZZ_CHECK(out.auth_req_id != NULL &&
			    out.auth_req_id[0] != '\0');
			FUZZ_CHECK(printable(out.auth_req_id,
			    AG_MAX_AUTH_REQ_ID));
			FUZZ_CHECK(out.expires_in >= 1 &&
			    out.expires_in <= AG_CIBA_MAX_EXPIRY);
			FUZZ_CHECK(out.interval >= 1 &&
			    out.interval <= AG_CIBA_MAX_INTERVAL);
		} else {
			FUZZ_CHECK(r == (statuses[i] == 200 ? AG_ERR_PARSE :
			    AG_ERR_PROVIDER) || r == AG_ERR_NOMEM);
			FUZZ_CHECK(out.auth_req_id == NULL);
			FUZZ_CHECK(why[0] != '\0');
			FUZZ_CHECK(strcmp(fail.code,
			    "backchannel_authentication_error") == 0);
			FUZZ_CHECK(printable(fail.cause, sizeof(fail.cause)));
			FUZZ_CHECK(printable(fail.description,
			    sizeof(fail.description)));
		}
		ag_ciba_start_clear(&out);
	}
out:
	ag_buf_free(&resp.body);
	return 0;
}
