/*
 * cookie.c -- the Cookie request header and Set-Cookie values.  See
 * cookie.h.
 *
 * Parsing mirrors @edge-runtime/cookies (the parser behind the SDK's
 * req.cookies) where that is safe, and is stricter where it is not:
 *
 *  - the header is split on ';' only (never ','), and at most n bytes are
 *    read: a NUL byte is just a byte, and a pair holding one is dropped;
 *  - spaces and tabs around the name and around the value are trimmed
 *    (the SDK splits on /; * / and so trims only leading spaces);
 *  - the first '=' separates name and value; a pair without '=' is
 *    dropped (the SDK would store it with the value "true");
 *  - the name must be an RFC 6265 token, else the pair is dropped;
 *  - a value holding a control byte, or longer than AG_MAX_COOKIE_VALUE,
 *    is dropped; surrounding double quotes are kept, as the SDK does;
 *  - the value is percent-decoded like decodeURIComponent(); when that
 *    would throw (bad escape, invalid UTF-8) -- or would yield a NUL --
 *    the raw value is kept (the SDK drops the pair; a raw value is what
 *    every other cookie library hands over, and our values are base64url
 *    anyway);
 *  - duplicates are all kept and ag_cookies_get() returns the first (the
 *    browser sends the most specific Path first; the SDK's Map would
 *    keep the last);
 *  - past AG_MAX_COOKIES stored pairs the rest are counted in 'dropped'.
 * Empty pieces (";;", " ; ") are neither stored nor counted.
 *
 * Nothing here does I/O or keeps state: it is a fuzz target.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cookie.h"
#include "url.h"
#include "err.h"
#include "ag_limits.h"

#define DELETE_EXPIRES	"Thu, 01 Jan 1970 00:00:00 GMT"
#define MAX_YEAR	9999	/* the four digits of an HTTP date */

static const char *const same_site_names[AG_SAME_SITE__MAX] = {
	"lax",		/* AG_SAME_SITE_LAX */
	"strict",	/* AG_SAME_SITE_STRICT */
	"none",		/* AG_SAME_SITE_NONE */
};

/* RFC 7230 tchar, which RFC 6265 uses for cookie names. */
static int
is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 6265 cookie-octet: printable ASCII less space, '"', ',', ';', '\'. */
static int
is_cookie_octet(int c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
	    c != '\\';
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_ctl(int c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Is s[0..n) well-formed UTF-8 as decodeURIComponent() demands: no
 * overlong forms, no surrogates, nothing above U+10FFFF?
 */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i, k, len;
	uint32_t cp, min;

	for (i = 0; i < n; i += len) {
		if (s[i] < 0x80) {
			len = 1;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

/*
 * The value v[0..n) as a new string: percent-decoded when that works,
 * raw otherwise.  NULL only when out of memory.
 */
static char *
value_dup(const char *v, size_t n)
{
	char *d;
	size_t i, j;
	int hi, lo, c;

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	/* The common case (a JWE): nothing to decode, nothing to check. */
	if (memchr(v, '%', n) == NULL)
		goto raw;
	for (i = j = 0; i < n; i++, j++) {
		c = (unsigned char)v[i];
		if (c == '%') {
			if (n - i < 3 || (hi = ag_hex_value(v[i + 1])) < 0 ||
			    (lo = ag_hex_value(v[i + 2])) < 0)
				goto raw;
			c = hi << 4 | lo;
			if (c == '\0')
				goto raw;
			i += 2;
		}
		d[j] = (char)c;
	}
	if (!utf8_ok((const unsigned char *)d, j))
		goto raw;
	d[j] = '\0';
	return d;
raw:
	memcpy(d, v, n);
	d[n] = '\0';
	return d;
}

/*
 * 1 when the n bytes at s hold a control byte (is_ctl).  Eight bytes at
 * a time: a session cookie is kilobytes of base64url, and this runs on
 * every request.  A word that may hold one is checked byte by byte.
 */
static int
has_ctl(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t w, del;
	size_t i = 0, j;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		del = w ^ (ones * 0x7f);
		/* Some byte < 0x20, or some byte == 0x7f (a zero in del). */
		if (((w - ones * 0x20) & ~w & highs) == 0 &&
		    ((del - ones) & ~del & highs) == 0)
			continue;
		for (j = i; j < i + 8; j++)
			if (is_ctl((unsigned char)s[j]))
				return 1;
	}
	for (; i < n; i++)
		if (is_ctl((unsigned char)s[i]))
			return 1;
	return 0;
}

/*
 * Store the pair p[0..n) (one ';'-separated piece) in jar, or count it
 * as dropped.  AG_OK or AG_ERR_NOMEM.
 */
static int
add_pair(struct ag_cookies *jar, const char *p, size_t n)
{
	const char *eq, *name, *value;
	size_t nlen, vlen, i;
	char *ncopy = NULL, *vcopy = NULL;

	while (n > 0 && is_space((unsigned char)p[0])) {
		p++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)p[n - 1]))
		n--;
	if (n == 0)
		return AG_OK;
	if ((eq = memchr(p, '=', n)) == NULL)
		goto drop;

	name = p;
	nlen = (size_t)(eq - p);
	while (nlen > 0 && is_space((unsigned char)name[nlen - 1]))
		nlen--;
	value = eq + 1;
	vlen = (size_t)(p + n - value);
	while (vlen > 0 && is_space((unsigned char)value[0])) {
		value++;
		vlen--;
	}

	if (nlen == 0 || vlen > AG_MAX_COOKIE_VALUE)
		goto drop;
	for (i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)name[i]))
			goto drop;
	if (has_ctl(value, vlen))
		goto drop;	/* NUL included */
	if (jar->n >= AG_MAX_COOKIES)
		goto drop;

	if (jar->n == jar->cap) {
		size_t ncap = jar->cap ? jar->cap * 2 : 8;
		struct ag_cookie *nv;

		if (ncap > AG_MAX_COOKIES)
			ncap = AG_MAX_COOKIES;
		if ((nv = reallocarray(jar->v, ncap, sizeof(*nv))) == NULL)
			return AG_ERR_NOMEM;
		jar->v = nv;
		jar->cap = ncap;
	}
	if ((ncopy = malloc(nlen + 1)) == NULL ||
	    (vcopy = value_dup(value, vlen)) == NULL) {
		free(ncopy);
		return AG_ERR_NOMEM;
	}
	memcpy(ncopy, name, nlen);
	ncopy[nlen] = '\0';
	jar->v[jar->n].name = ncopy;
	jar->v[jar->n].value = vcopy;
	jar->n++;
	return AG_OK;
drop:
	jar->dropped++;
	return AG_OK;
}

int
ag_cookies_parse(const char *s, size_t n, struct ag_cookies *jar)
{
	const char *p, *semi, *end;
	int r;

	memset(jar, 0, sizeof(*jar));
	if (n > AG_MAX_COOKIE_HEADER)
		return AG_ERR_LIMIT;
	if (s == NULL)
		return AG_OK;
	end = s + n;
	for (p = s; p < end; p = semi + 1) {
		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			semi = end;
		if ((r = add_pair(jar, p, (size_t)(semi - p))) != AG_OK) {
			ag_cookies_free(jar);
			return r;
		}
	}
	return AG_OK;
}

void
ag_cookies_free(struct ag_cookies *jar)
{
	size_t i;

	if (jar == NULL)
		return;
	for (i = 0; i < jar->n; i++) {
		free(jar->v[i].name);
		ag_strfree(jar->v[i].value);	/* session material */
	}
	free(jar->v);
	memset(jar, 0, sizeof(*jar));
}

const char *
ag_cookies_get(const struct ag_cookies *jar, const char *name)
{
	size_t i;

	if (jar == NULL || name == NULL)
		return NULL;
	for (i = 0; i < jar->n; i++)
		if (strcmp(jar->v[i].name, name) == 0)
			return jar->v[i].value;
	return NULL;
}

/* Printable ASCII without ';': what Path and Domain may hold. */
static int
attr_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ';' || is_ctl((unsigned char)*s) ||
		    (unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/*
 * Append t (seconds since the epoch, >= 0) as an RFC 1123 date in GMT,
 * the way JavaScript's Date.prototype.toUTCString() writes it.
 * Computed by hand: gmtime_r() and strftime() depend on time_t and
 * the locale.
 */
static int
put_http_date(struct ag_buf *b, int64_t t)
{
	static const char *const wday[] = {
		"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"
	};
	static const char *const mon[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;

	if (t < 0)
		return AG_ERR_PARSE;
	days = t / 86400;
	secs = t % 86400;
	/* Howard Hinnant's civil_from_days(), for days >= 0. */
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	if (y > MAX_YEAR)
		return AG_ERR_PARSE;
	return ag_buf_printf(b, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wday[days % 7], (int)d, mon[m - 1], (int)y,
	    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

int
ag_set_cookie(struct ag_buf *out, const char *name, const char *value,
    const struct ag_cookie_attr *attr, int64_t max_age, int64_t now)
{
	static const struct ag_cookie_attr defaults = {
		NULL, NULL, 0, AG_SAME_SITE_LAX, 0
	};
	struct ag_buf b;
	const char *path, *domain, *p;
	int deleting, r = AG_ERR_PARSE;

	ag_buf_init(&b, 0);
	if (attr == NULL)
		attr = &defaults;
	deleting = max_age <= 0;
	if (deleting || value == NULL)
		value = "";
	path = attr->path != NULL && attr->path[0] != '\0' ? attr->path : "/";
	domain = attr->domain != NULL && attr->domain[0] != '\0' ?
	    attr->domain : NULL;

	if (out == NULL || name == NULL || name[0] == '\0')
		goto out;
	for (p = name; *p != '\0'; p++)
		if (!is_tchar((unsigned char)*p))
			goto out;
	for (p = value; *p != '\0'; p++)
		if (!is_cookie_octet((unsigned char)*p))
			goto out;
	if (!attr_ok(path) || (domain != NULL && !attr_ok(domain)))
		goto out;
	if (attr->same_site < 0 || attr->same_site >= AG_SAME_SITE__MAX)
		goto out;
	if (!deleting && !attr->transient && now > INT64_MAX - max_age)
		goto out;

	/* The value may be a 3500-byte chunk: appended, not formatted. */
	if ((r = ag_buf_puts(&b, name)) != AG_OK ||
	    (r = ag_buf_putc(&b, '=')) != AG_OK ||
	    (r = ag_buf_puts(&b, value)) != AG_OK ||
	    (r = ag_buf_puts(&b, "; Path=")) != AG_OK ||
	    (r = ag_buf_puts(&b, path)) != AG_OK)
		goto out;
	if (deleting)
		r = ag_buf_puts(&b, "; Expires=" DELETE_EXPIRES "; Max-Age=0");
	else if (!attr->transient) {
		if ((r = ag_buf_puts(&b, "; Expires=")) == AG_OK &&
		    (r = put_http_date(&b, now + max_age)) == AG_OK)
			r = ag_buf_printf(&b, "; Max-Age=%lld",
			    (long long)max_age);
	}
	if (r != AG_OK)
		goto out;
	if (domain != NULL && (r = ag_buf_printf(&b, "; Domain=%s",
	    domain)) != AG_OK)
		goto out;
	if (attr->secure && (r = ag_buf_puts(&b, "; Secure")) != AG_OK)
		goto out;
	if ((r = ag_buf_printf(&b, "; HttpOnly; SameSite=%s",
	    same_site_names[attr->same_site])) != AG_OK)
		goto out;
	r = ag_buf_add(out, b.data, b.len);
out:
	ag_buf_free(&b);
	return r;
}

int
ag_cookie_index(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *d;
	int i = 0;

	if (strncmp(name, prefix, n) != 0)
		return -1;
	d = name + n;
	if (*d == '\0' || (d[0] == '0' && d[1] != '\0') || strlen(d) > 3)
		return -1;
	for (; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		i = i * 10 + (*d - '0');
	}
	return i;
}
