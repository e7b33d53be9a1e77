/*
 * fuzz-cgienv.c -- claims into a CGI environment: the input is parsed
 * as the session's user object and turned into variables by
 * ag_env_add_session(), the code shared by authgate-wrap and the
 * authorizer.  Every variable must be execve-safe whatever the claims.
 */
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "cgienv.h"
#include "err.h"
#include "fuzz.h"
#include "json.h"

/* The rules every variable we set must keep (SPEC section 5). */
static void
check_entry(const char *e)
{
	const char *eq = strchr(e, '='), *v;
	size_t i;

	FUZZ_CHECK(eq != NULL && eq != e);
	for (i = 0; e + i < eq; i++)
		FUZZ_CHECK((e[i] >= 'A' && e[i] <= 'Z') ||
		    (e[i] >= 'a' && e[i] <= 'z') ||
		    (e[i] >= '0' && e[i] <= '9') || e[i] == '_');
	for (v = eq + 1; *v != '\0'; v++)
		FUZZ_CHECK((unsigned char)*v >= 0x20 && *v != 0x7f);
	FUZZ_CHECK(strncmp(eq + 1, "() {", 4) != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_env_session es;
	struct ag_env env;
	struct ag_buf hdr;
	ag_json *user = NULL;
	size_t i;

	if (ag_json_parse_object((const char *)data, size, AG_MAX_SESSION_JSON,
	    &user) != AG_OK)
		return 0;
	memset(&es, 0, sizeof(es));
	es.user = user;
	es.remote_user_claim = "sub";
	es.session_expires = 1800000000;
	ag_env_init(&env);
	if (ag_env_add_session(&env, &es) == AG_OK) {
		FUZZ_CHECK(env.total <= AG_MAX_ENV_TOTAL);
		for (i = 0; i < env.n; i++)
			check_entry(env.v[i]);
	}
	ag_env_free(&env);
	ag_buf_init(&hdr, 256 * 1024);
	(void)ag_env_authorizer_headers(&es, &hdr);
	FUZZ_CHECK(strchr(ag_buf_str(&hdr), '\0') == ag_buf_str(&hdr) + hdr.len);
	ag_buf_free(&hdr);
	ag_json_free(user);
	return 0;
}
