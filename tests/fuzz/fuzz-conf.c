/*
 * fuzz-conf.c -- the configuration file parser and validator,
 * ag_conf_parse(), with an empty environment so the process's own
 * environment does not leak in, then ag_conf_warnings().
 */
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const envp[] = { NULL };
	struct ag_conf conf;
	struct ag_buf problems, warn;
	int r;

	memset(&conf, 0, sizeof(conf));
	ag_buf_init(&problems, 64 * 1024);
	ag_buf_init(&warn, 64 * 1024);
	r = ag_conf_parse(&conf, (const char *)data, size, envp, &problems);
	FUZZ_CHECK(r == AG_OK || r == AG_ERR_CONFIG || r == AG_ERR_NOMEM ||
	    r == AG_ERR_LIMIT);
	if (r == AG_OK)
		FUZZ_CHECK(problems.len == 0 && conf.client_id != NULL &&
		    conf.app_base_url != NULL);
	else if (r == AG_ERR_CONFIG)
		FUZZ_CHECK(problems.len > 0);
	ag_conf_warnings(&conf, &warn);
	ag_buf_free(&warn);
	ag_buf_free(&problems);
	ag_conf_free(&conf);
	return 0;
}
