/*
 * cookie.h -- the Cookie request header and Set-Cookie response values.
 *
 * The parser is a pure function over at most AG_MAX_COOKIE_HEADER bytes.
 * It never fails on malformed input: pairs without '=', empty names,
 * names with bytes outside RFC 6265 token characters, values with
 * control bytes or NUL, and everything past AG_MAX_COOKIES pairs are
 * skipped (and counted in 'dropped').  Values longer than
 * AG_MAX_COOKIE_VALUE are skipped too.  Surrounding double quotes of a
 * value are kept, as the SDK's parser (@edge-runtime/cookies) keeps
 * them; cookie.c lists every rule and where it departs from the SDK.
 */
#ifndef AG_COOKIE_H
#define AG_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ag_cookie {
	char	*name;		/* owned by the jar */
	char	*value;		/* owned by the jar, percent-decoded */
};

struct ag_cookies {
	struct ag_cookie *v;
	size_t		  n;
	size_t		  cap;		/* allocated entries of v */
	size_t		  dropped;	/* malformed or over-limit pairs */
};

/*
 * Parse a Cookie header of n bytes into jar (which must be zeroed or
 * freed).  AG_OK (even for garbage) or AG_ERR_NOMEM; AG_ERR_LIMIT when
 * n > AG_MAX_COOKIE_HEADER (jar then empty).
 */
int		 ag_cookies_parse(const char *, size_t n, struct ag_cookies *jar);
void		 ag_cookies_free(struct ag_cookies *);
/* First cookie of that name, or NULL.  Borrowed. */
const char	*ag_cookies_get(const struct ag_cookies *, const char *name);
/*
 * The index of an indexed cookie name: name = prefix followed by 1..3
 * decimal digits without a leading zero ("__session__" "2",
 * "__FC_" "0"), else -1.
 */
int		 ag_cookie_index(const char *name, const char *prefix);

enum ag_same_site {
	AG_SAME_SITE_LAX,
	AG_SAME_SITE_STRICT,
	AG_SAME_SITE_NONE,
	AG_SAME_SITE__MAX
};

struct ag_cookie_attr {
	const char	*path;		/* NULL: "/" */
	const char	*domain;	/* NULL: no Domain */
	int		 secure;
	int		 same_site;	/* enum ag_same_site */
	int		 transient;	/* 1: no Max-Age/Expires */
};

/*
 * Append one Set-Cookie value (without "Set-Cookie: ") in the SDK's
 * attribute order: name=value; Path=; Expires=; Max-Age=; Domain=;
 * Secure; HttpOnly; SameSite=lax.  HttpOnly is always set.  max_age <= 0
 * writes a deletion (empty value, Max-Age=0, Expires in 1970) that
 * repeats the same Path, Domain, Secure and SameSite.  now is used for
 * Expires.  Name and value must be cookie-safe (checked: AG_ERR_PARSE).
 */
int		 ag_set_cookie(struct ag_buf *out, const char *name,
		    const char *value, const struct ag_cookie_attr *,
		    int64_t max_age, int64_t now);

#endif
