/*
 * json.c -- the only file that includes json-c.  See json.h.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "ag_limits.h"

int
ag_json_parse(const char *s, size_t n, size_t max, ag_json **out)
{
	struct json_tokener *tok;
	ag_json *v;

	*out = NULL;
	if (n > max || n > INT32_MAX)
		return AG_ERR_LIMIT;
	if (memchr(s, '\0', n) != NULL)
		return AG_ERR_PARSE;
	if ((tok = json_tokener_new_ex(AG_MAX_JSON_DEPTH)) == NULL)
		return AG_ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	v = json_tokener_parse_ex(tok, s, (int)n);
	if (v == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n) {
		json_object_put(v);
		json_tokener_free(tok);
		return AG_ERR_PARSE;
	}
	json_tokener_free(tok);
	*out = v;
	return AG_OK;
}

int
ag_json_parse_object(const char *s, size_t n, size_t max, ag_json **out)
{
	int r;

	if ((r = ag_json_parse(s, n, max, out)) != AG_OK)
		return r;
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return AG_ERR_PARSE;
	}
	return AG_OK;
}

void
ag_json_free(ag_json *v)
{
	json_object_put(v);
}

ag_json *
ag_json_ref(ag_json *v)
{
	return json_object_get(v);
}

ag_json *
ag_json_copy(ag_json *v)
{
	ag_json *dst = NULL;

	if (v == NULL)
		return NULL;
	if (json_object_deep_copy(v, &dst, NULL) != 0)
		return NULL;
	return dst;
}

enum ag_json_type
ag_json_type(const ag_json *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return AG_JSON_BOOL;
	case json_type_int:
		return AG_JSON_INT;
	case json_type_double:
		return AG_JSON_DOUBLE;
	case json_type_string:
		return AG_JSON_STRING;
	case json_type_object:
		return AG_JSON_OBJECT;
	case json_type_array:
		return AG_JSON_ARRAY;
	default:
		return AG_JSON_NULL;
	}
}

ag_json *
ag_json_object(void)
{
	return json_object_new_object();
}

ag_json *
ag_json_array(void)
{
	return json_object_new_array();
}

ag_json *
ag_json_string(const char *s)
{
	return json_object_new_string(s);
}

ag_json *
ag_json_string_len(const char *s, size_t n)
{
	if (n > INT32_MAX)
		return NULL;
	return json_object_new_string_len(s, (int)n);
}

ag_json *
ag_json_int(int64_t v)
{
	return json_object_new_int64(v);
}

ag_json *
ag_json_bool(int v)
{
	return json_object_new_boolean(v != 0);
}

ag_json *
ag_json_get(const ag_json *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

const char *
ag_json_str(const ag_json *v)
{
	const char *s;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string((ag_json *)v);
	/* An embedded NUL would make the C string lie about the value. */
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

size_t
ag_json_str_len(const ag_json *v)
{
	if (v == NULL || !json_object_is_type(v, json_type_string))
		return 0;
	return (size_t)json_object_get_string_len(v);
}

const char *
ag_json_get_str(const ag_json *obj, const char *key)
{
	return ag_json_str(ag_json_get(obj, key));
}

int
ag_json_to_int(const ag_json *v, int64_t *out)
{
	double d;

	if (v == NULL)
		return AG_ERR_NOTFOUND;
	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		*out = json_object_get_int64(v);
		/* json-c saturates out-of-range integers (uint64 too). */
		if (*out == INT64_MAX || *out == INT64_MIN)
			return AG_ERR_PARSE;
		return AG_OK;
	}
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (!isfinite(d) || d != floor(d) ||
		    d > 9007199254740992.0 || d < -9007199254740992.0)
			return AG_ERR_PARSE;
		*out = (int64_t)d;
		return AG_OK;
	}
	return AG_ERR_PARSE;
}

int
ag_json_to_double(const ag_json *v, double *out)
{
	if (v == NULL)
		return AG_ERR_NOTFOUND;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return AG_ERR_PARSE;
	*out = json_object_get_double(v);
	return isfinite(*out) ? AG_OK : AG_ERR_PARSE;
}

int
ag_json_to_bool(const ag_json *v)
{
	return v != NULL && json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
}

int
ag_json_get_int(const ag_json *obj, const char *key, int64_t *out)
{
	return ag_json_to_int(ag_json_get(obj, key), out);
}

int
ag_json_get_bool(const ag_json *obj, const char *key, int *out)
{
	ag_json *v = ag_json_get(obj, key);

	if (v == NULL)
		return AG_ERR_NOTFOUND;
	if (!json_object_is_type(v, json_type_boolean))
		return AG_ERR_PARSE;
	*out = json_object_get_boolean(v);
	return AG_OK;
}

int
ag_json_set(ag_json *obj, const char *key, ag_json *val)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(val);
		return AG_ERR_PARSE;
	}
	/* json-c takes the reference even when it fails. */
	if (json_object_object_add(obj, key, val) != 0)
		return AG_ERR_NOMEM;
	return AG_OK;
}

int
ag_json_set_str(ag_json *obj, const char *key, const char *s)
{
	ag_json *v;

	if ((v = json_object_new_string(s)) == NULL)
		return AG_ERR_NOMEM;
	return ag_json_set(obj, key, v);
}

int
ag_json_set_int(ag_json *obj, const char *key, int64_t n)
{
	ag_json *v;

	if ((v = json_object_new_int64(n)) == NULL)
		return AG_ERR_NOMEM;
	return ag_json_set(obj, key, v);
}

void
ag_json_del(ag_json *obj, const char *key)
{
	if (obj != NULL && json_object_is_type(obj, json_type_object))
		json_object_object_del(obj, key);
}

size_t
ag_json_object_len(const ag_json *obj)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return 0;
	return (size_t)json_object_object_length(obj);
}

int
ag_json_each(const ag_json *obj,
    int (*fn)(const char *, ag_json *, void *), void *arg)
{
	struct json_object_iterator it, end;
	int r;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return 0;
	it = json_object_iter_begin((ag_json *)obj);
	end = json_object_iter_end(obj);
	while (!json_object_iter_equal(&it, &end)) {
		r = fn(json_object_iter_peek_name(&it),
		    json_object_iter_peek_value(&it), arg);
		if (r != 0)
			return r;
		json_object_iter_next(&it);
	}
	return 0;
}

size_t
ag_json_array_len(const ag_json *v)
{
	if (v == NULL || !json_object_is_type(v, json_type_array))
		return 0;
	return json_object_array_length(v);
}

ag_json *
ag_json_array_get(const ag_json *v, size_t i)
{
	if (v == NULL || !json_object_is_type(v, json_type_array))
		return NULL;
	return json_object_array_get_idx(v, i);
}

int
ag_json_array_add(ag_json *arr, ag_json *val)
{
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		json_object_put(val);
		return AG_ERR_PARSE;
	}
	if (json_object_array_add(arr, val) != 0) {
		json_object_put(val);
		return AG_ERR_NOMEM;
	}
	return AG_OK;
}

const char *
ag_json_dump(ag_json *v)
{
	return json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

char *
ag_json_dump_dup(ag_json *v)
{
	const char *s = ag_json_dump(v);

	return s != NULL ? strdup(s) : NULL;
}

int
ag_json_quote(struct ag_buf *b, const char *s)
{
	ag_json *v;
	int r;

	if ((v = json_object_new_string(s)) == NULL)
		return AG_ERR_NOMEM;
	r = ag_buf_puts(b, json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(v);
	return r;
}
