/*
 * test-json-limits.c -- the bounds of ag_json_parse(): AG_MAX_JSON_DEPTH
 * nesting and the caller's size limit, each at the bound and one past it
 * (issue 5: every limit of ag_limits.h at and past the limit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "err.h"
#include "json.h"

#include "tap.h"

/* depth nested arrays ("[[...]]") or objects ({"a":{...}}) in b. */
static int
nested(struct ag_buf *b, int depth, int objects)
{
	int i;

	ag_buf_reset(b);
	for (i = 0; i < depth; i++)
		if (ag_buf_puts(b, objects ? "{\"a\":" : "[") != AG_OK)
			return AG_ERR_NOMEM;
	if (ag_buf_puts(b, "1") != AG_OK)
		return AG_ERR_NOMEM;
	for (i = 0; i < depth; i++)
		if (ag_buf_puts(b, objects ? "}" : "]") != AG_OK)
			return AG_ERR_NOMEM;
	return AG_OK;
}

static void
test_depth(void)
{
	struct ag_buf b;
	ag_json *j = NULL;
	int objects;

	ag_buf_init(&b, 0);
	for (objects = 0; objects <= 1; objects++) {
		/* json-c counts the innermost value as a level too. */
		nested(&b, AG_MAX_JSON_DEPTH - 1, objects);
		is_int(ag_json_parse(b.data, b.len, 4096, &j), AG_OK,
		    objects ? "objects: AG_MAX_JSON_DEPTH levels parsed" :
		    "arrays: AG_MAX_JSON_DEPTH levels parsed");
		ag_json_free(j);
		j = NULL;
		nested(&b, AG_MAX_JSON_DEPTH, objects);
		is_int(ag_json_parse(b.data, b.len, 4096, &j), AG_ERR_PARSE,
		    objects ? "objects: AG_MAX_JSON_DEPTH+1 levels refused" :
		    "arrays: AG_MAX_JSON_DEPTH+1 levels refused");
		ok(j == NULL, "nothing returned past the depth");
		ag_json_free(j);
		j = NULL;
		nested(&b, 100000, objects);
		is_int(ag_json_parse(b.data, b.len, b.len, &j), AG_ERR_PARSE,
		    "depth 100000 refused (no stack exhaustion)");
		ag_json_free(j);
		j = NULL;
	}
	ag_buf_free(&b);
}

static void
test_size(void)
{
	char doc[64];
	ag_json *j = NULL;
	size_t n;

	snprintf(doc, sizeof(doc), "{\"a\":\"%s\"}", "0123456789");
	n = strlen(doc);
	is_int(ag_json_parse_object(doc, n, n, &j), AG_OK, "size at the limit");
	ag_json_free(j);
	j = NULL;
	is_int(ag_json_parse_object(doc, n, n - 1, &j), AG_ERR_LIMIT,
	    "size one past the limit");
	ok(j == NULL, "nothing returned past the size");
	is_int(ag_json_parse_object(doc, n - 1, n, &j), AG_ERR_PARSE,
	    "truncated document refused");
	ag_json_free(j);
}

int
main(void)
{
	test_depth();
	test_size();
	return tap_done();
}
