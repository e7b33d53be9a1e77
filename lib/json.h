/*
 * json.h -- JSON, with json-c confined to json.c.
 *
 * Values are reference-counted json-c objects seen through an opaque
 * type.  Getters return borrowed pointers valid while the parent lives.
 * Setters take ownership of the value passed in.  The parser is bounded
 * in size (the caller's limit) and depth (AG_MAX_JSON_DEPTH) and
 * refuses trailing bytes.  A string holding a NUL byte (JSON "\u0000")
 * parses, but the string getters treat it as absent, so no check can be
 * fooled by a truncated C string; ag_json_str_len() still sees it.
 */
#ifndef AG_JSON_H
#define AG_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct json_object ag_json;

enum ag_json_type {
	AG_JSON_NULL,
	AG_JSON_BOOL,
	AG_JSON_INT,
	AG_JSON_DOUBLE,
	AG_JSON_STRING,
	AG_JSON_OBJECT,
	AG_JSON_ARRAY,
	AG_JSON__MAX
};

/*
 * Parse n bytes (n <= max) into *out (caller frees with ag_json_free).
 * AG_ERR_LIMIT when n > max, AG_ERR_PARSE on malformed JSON, trailing
 * data or depth over AG_MAX_JSON_DEPTH.
 */
int		 ag_json_parse(const char *, size_t n, size_t max, ag_json **out);
/* Same, but the top level must be an object. */
int		 ag_json_parse_object(const char *, size_t n, size_t max,
		    ag_json **out);
void		 ag_json_free(ag_json *);		/* NULL safe */
ag_json		*ag_json_ref(ag_json *);		/* +1 reference */
/* Deep copy; NULL on allocation failure. */
ag_json		*ag_json_copy(ag_json *);

enum ag_json_type ag_json_type(const ag_json *);	/* NULL: AG_JSON_NULL */

/* Constructors; NULL on allocation failure. */
ag_json		*ag_json_object(void);
ag_json		*ag_json_array(void);
ag_json		*ag_json_string(const char *);
ag_json		*ag_json_string_len(const char *, size_t);
ag_json		*ag_json_int(int64_t);
ag_json		*ag_json_bool(int);

/* Object access.  Borrowed results; NULL when absent. */
ag_json		*ag_json_get(const ag_json *obj, const char *key);
/* The string member, or NULL when absent or not a string. */
const char	*ag_json_get_str(const ag_json *obj, const char *key);
/*
 * Integer member: AG_OK with *out set; AG_ERR_NOTFOUND when absent;
 * AG_ERR_PARSE when not a number or not integral or out of range.
 * Doubles with an integral value are accepted (1e3), fractions are not.
 */
int		 ag_json_get_int(const ag_json *obj, const char *key,
		    int64_t *out);
/* Boolean member; AG_ERR_NOTFOUND / AG_ERR_PARSE as above. */
int		 ag_json_get_bool(const ag_json *obj, const char *key, int *out);
/* Set key to val (ownership of val taken, even on failure). */
int		 ag_json_set(ag_json *obj, const char *key, ag_json *val);
int		 ag_json_set_str(ag_json *obj, const char *key, const char *);
int		 ag_json_set_int(ag_json *obj, const char *key, int64_t);
void		 ag_json_del(ag_json *obj, const char *key);
size_t		 ag_json_object_len(const ag_json *obj);
/*
 * Call fn for each member in insertion order; stop and return fn's
 * value at the first non-zero.  Keys are borrowed.
 */
int		 ag_json_each(const ag_json *obj,
		    int (*fn)(const char *key, ag_json *val, void *arg),
		    void *arg);

/* Array access. */
size_t		 ag_json_array_len(const ag_json *);
ag_json		*ag_json_array_get(const ag_json *, size_t i);
int		 ag_json_array_add(ag_json *arr, ag_json *val);

/* Scalar access: string value (NULL if not a string or holds NUL). */
const char	*ag_json_str(const ag_json *);
size_t		 ag_json_str_len(const ag_json *);
int		 ag_json_to_int(const ag_json *, int64_t *out);
int		 ag_json_to_double(const ag_json *, double *out);
int		 ag_json_to_bool(const ag_json *);

/*
 * Compact serialisation (no spaces, '/' not escaped).  Borrowed: valid
 * until the value changes or is freed.  NULL on allocation failure.
 */
const char	*ag_json_dump(ag_json *);
/* Serialisation owned by the caller (free() or ag_strfree()). */
char		*ag_json_dump_dup(ag_json *);
/* Append the JSON string literal for s (quotes and escapes). */
struct ag_buf;
int		 ag_json_quote(struct ag_buf *, const char *s);

#endif
