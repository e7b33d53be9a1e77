/*
 * url.h -- percent-encoding, query strings and forms, and the returnTo
 * validator that stands between a login and an open redirect.
 */
#ifndef AG_URL_H
#define AG_URL_H

#include <stddef.h>

#include "buf.h"

struct ag_param {
	char	*name;	/* decoded, owned */
	char	*value;	/* decoded, owned */
};

struct ag_params {
	struct ag_param	*v;
	size_t		 n;
};

/*
 * Parse application/x-www-form-urlencoded (a query string or a POST
 * body) of n bytes: '&'-separated, '+' is space, %XX decoded.  A name
 * without '=' has the empty value.  AG_ERR_LIMIT past AG_MAX_PARAMS
 * pairs or when n exceeds max; AG_ERR_PARSE for a bad %-escape or a
 * decoded NUL byte.  params must be zeroed or freed.
 */
int		 ag_params_parse(const char *, size_t n, size_t max,
		    struct ag_params *);
void		 ag_params_free(struct ag_params *);
/* First value for name, or NULL.  Borrowed. */
const char	*ag_params_get(const struct ag_params *, const char *name);
/* How many times name occurs. */
size_t		 ag_params_count(const struct ag_params *, const char *name);

/* The value of one hex digit, or -1. */
int		 ag_hex_value(int c);
/* Append s percent-encoded (everything but A-Z a-z 0-9 - . _ ~). */
int		 ag_url_encode(struct ag_buf *, const char *s);
/* Append "&name=value" (no '&' when out is empty), both encoded. */
int		 ag_form_add(struct ag_buf *, const char *name, const char *value);
/* Decode %XX (and '+' as space when plus is 1); AG_ERR_PARSE on bad escapes or NUL. */
int		 ag_url_decode(struct ag_buf *, const char *, size_t n, int plus);

/*
 * The origin of an absolute http(s) URL: "scheme://host[:port]", with
 * scheme and host lower-cased and the default port dropped, appended to
 * out.  AG_ERR_PARSE for anything else (userinfo, bad host, bad port).
 */
int		 ag_url_origin(struct ag_buf *out, const char *url);

/*
 * Validate a post-login or post-logout target.  candidate is resolved
 * against base_url (the app's base URL, e.g. "https://app.example/" or
 * "https://app.example/sub/") the way a browser's URL parser would,
 * and accepted only if the result has the same origin as base_url.  On
 * success the path + query + fragment of the resolved URL (always
 * starting with one '/', never "//" or "/\") is appended to out and AG_OK
 * returned; otherwise AG_ERR_DENIED and out is untouched.  Refused,
 * among others: "//evil", "/\evil", "\\evil", "/%09/evil", "https:evil",
 * "javascript:", CR, LF, TAB or other control bytes anywhere, candidates
 * longer than AG_MAX_RETURN_TO, userinfo, other ports or schemes, raw
 * non-ASCII bytes, bad or control %-escapes, "//" inside the path.  The
 * output is printable ASCII (WHATWG percent-encode sets applied).  The
 * full rule list is at the top of url.c.  AG_ERR_NOMEM/AG_ERR_LIMIT when
 * out cannot take the result.
 */
int		 ag_return_to(struct ag_buf *out, const char *base_url,
		    const char *candidate);

#endif
