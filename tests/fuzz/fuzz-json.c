/*
 * fuzz-json.c -- the JSON parser, ag_json_parse(), and a walk over what
 * it returns: the getters, a copy and the serialiser.
 */
#include <string.h>

#include "ag_limits.h"
#include "err.h"
#include "fuzz.h"
#include "json.h"

static int
member(const char *key, ag_json *val, void *arg)
{
	const ag_json *obj = arg;
	int64_t i;
	int b;

	FUZZ_CHECK(key != NULL);
	(void)ag_json_get_str(obj, key);
	(void)ag_json_get_int(obj, key, &i);
	(void)ag_json_get_bool(obj, key, &b);
	(void)ag_json_str(val);
	(void)ag_json_str_len(val);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ag_json *j = NULL, *c, *e;
	const char *s;
	size_t i, n;
	int64_t iv;
	double dv;

	if (ag_json_parse((const char *)data, size, AG_MAX_IDP_RESPONSE,
	    &j) != AG_OK) {
		FUZZ_CHECK(j == NULL);
		return 0;
	}
	switch (ag_json_type(j)) {
	case AG_JSON_OBJECT:
		(void)ag_json_each(j, member, j);
		(void)ag_json_object_len(j);
		break;
	case AG_JSON_ARRAY:
		n = ag_json_array_len(j);
		for (i = 0; i < n; i++) {
			e = ag_json_array_get(j, i);
			(void)ag_json_type(e);
			(void)ag_json_str(e);
		}
		break;
	default:
		(void)ag_json_to_int(j, &iv);
		(void)ag_json_to_double(j, &dv);
		(void)ag_json_to_bool(j);
		(void)ag_json_str(j);
		break;
	}
	if ((c = ag_json_copy(j)) != NULL) {
		s = ag_json_dump(c);
		FUZZ_CHECK(s != NULL);
		ag_json_free(c);
	}
	ag_json_free(j);
	return 0;
}
