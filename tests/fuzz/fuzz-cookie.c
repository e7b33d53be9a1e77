/*
 * fuzz-cookie.c -- the Cookie header parser: ag_cookies_parse() and
 * ag_cookies_get() on what it stored.
 */
#include <string.h>

#include "ag_limits.h"
#include "cookie.h"
#include "err.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_cookies jar;
	const struct ag_cookie *c;
	const char *v;
	size_t i;
	int r;

	memset(&jar, 0, sizeof(jar));
	r = ag_cookies_parse((const char *)data, size, &jar);
	FUZZ_CHECK(r == AG_OK || r == AG_ERR_NOMEM || r == AG_ERR_LIMIT);
	FUZZ_CHECK(jar.n <= AG_MAX_COOKIES);
	if (size > AG_MAX_COOKIE_HEADER)
		FUZZ_CHECK(r == AG_ERR_LIMIT && jar.n == 0);
	for (i = 0; i < jar.n; i++) {
		c = &jar.v[i];
		FUZZ_CHECK(c->name != NULL && c->name[0] != '\0');
		FUZZ_CHECK(strpbrk(c->name, " \t;=\"") == NULL);
		FUZZ_CHECK(c->value != NULL &&
		    strlen(c->value) <= AG_MAX_COOKIE_VALUE);
		/* The first of that name, which may be an earlier one. */
		v = ag_cookies_get(&jar, c->name);
		FUZZ_CHECK(v != NULL);
	}
	(void)ag_cookies_get(&jar, "__session");
	(void)ag_cookies_get(&jar, "");
	ag_cookies_free(&jar);
	return 0;
}
