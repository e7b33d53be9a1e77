/*
 * fuzz-params.c -- the query string / form parser, ag_params_parse(),
 * and the percent-decoder under it.
 */
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "err.h"
#include "fuzz.h"
#include "url.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_params p;
	struct ag_buf b;
	size_t i;
	int r;

	memset(&p, 0, sizeof(p));
	r = ag_params_parse((const char *)data, size, AG_MAX_QUERY, &p);
	if (r == AG_OK) {
		FUZZ_CHECK(p.n <= AG_MAX_PARAMS);
		for (i = 0; i < p.n; i++) {
			FUZZ_CHECK(p.v[i].name != NULL && p.v[i].value != NULL);
			FUZZ_CHECK(ag_params_get(&p, p.v[i].name) != NULL);
			FUZZ_CHECK(ag_params_count(&p, p.v[i].name) >= 1);
		}
	}
	(void)ag_params_get(&p, "returnTo");
	ag_params_free(&p);

	for (i = 0; i < 2; i++) {
		ag_buf_init(&b, AG_MAX_QUERY);
		r = ag_url_decode(&b, (const char *)data, size, (int)i);
		if (r == AG_OK)
			FUZZ_CHECK(b.len <= size &&
			    (b.len == 0 || memchr(b.data, '\0', b.len) == NULL));
		else
			FUZZ_CHECK(b.len == 0);
		ag_buf_free(&b);
	}
	return 0;
}
