/*
 * url.c -- percent-encoding, query strings and forms, origins, and the
 * returnTo validator.  See url.h.
 *
 * Everything here is a pure function of its arguments: no I/O, no
 * globals, every loop bounded by an explicit length, so fuzz targets can
 * call it directly.
 *
 * ag_return_to() follows the WHATWG URL parser for the inputs it accepts
 * and refuses everything where a browser and a simple parser could
 * disagree.  Its rules, in order:
 *
 *  1. empty, or longer than AG_MAX_RETURN_TO: refused (the caller falls
 *     back to its default);
 *  2. any byte that is a control, space, DEL, backslash or non-ASCII:
 *     refused -- browsers strip TAB/CR/LF and turn '\' into '/', and
 *     non-ASCII look-alikes ("／", "。") fold into hosts.  Raw UTF-8 in
 *     a path is therefore refused too (browsers send it percent-encoded);
 *  3. a '%' not followed by two hex digits, or an escape that decodes
 *     to a control byte (%00-%1F, %7F), anywhere: refused (encoded CR/LF
 *     is header injection bait, encoded TAB is CVE-2020-11053);
 *  4. the first two characters, percent-decoded up to four times, may
 *     not both be '/' or '\', and an encoded slash may not stand first;
 *  5. a scheme ("[A-Za-z][A-Za-z0-9+.-]*:") is accepted only as
 *     "http://" or "https://" with an authority whose scheme, lower-cased
 *     host and port (defaults applied) equal the base's; userinfo, an
 *     empty port, '%' or odd bytes in the host are refused.  So
 *     "javascript:", "https:evil", "https:/evil" are refused;
 *  6. "//" at the start (protocol-relative) is refused;
 *  7. what is left is a relative reference, resolved against the base
 *     path as a browser would (merge, then ".", "..", "%2e" segments,
 *     never above the root); the path, query and fragment are
 *     percent-encoded with the WHATWG sets, so the output is printable
 *     ASCII and safe for a Location header;
 *  8. the resolved path may not contain "//" anywhere (so "/.//evil"
 *     and "/https://evil/" are refused: defence in depth against later
 *     path normalisation), nor start with an encoded slash.
 * The output is pathname + search + hash, as the SDK stores it: an empty
 * "?" or "#" is dropped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ag_limits.h"
#include "url.h"

#define HOST_MAX	255	/* DNS name, or bracketed IPv6 literal */
#define LEAD_PREFIX	32	/* bytes examined by the leading-slash check */
#define LEAD_ROUNDS	4	/* percent-decoding rounds of that check */

/* An absolute http(s) URL split into what an origin needs. */
struct abs_url {
	int		 https;
	char		 host[HOST_MAX + 1];	/* lower-cased */
	unsigned int	 port;			/* effective port */
	const char	*rest;			/* path, query, fragment or "" */
};

int
ag_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int
unreserved(int c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' ||
	    c == '_' || c == '~';
}

/* Cut b back to len bytes, wiping what goes. */
static void
truncate_to(struct ag_buf *b, size_t len)
{
	if (b->data == NULL || b->len <= len)
		return;
	memset(b->data + len, 0, b->len - len);
	b->len = len;
}

int
ag_url_decode(struct ag_buf *b, const char *s, size_t n, int plus)
{
	size_t i, start;
	int c, hi, lo, r;

	start = b->len;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || (hi = ag_hex_value(s[i + 1])) < 0 ||
			    (lo = ag_hex_value(s[i + 2])) < 0) {
				r = AG_ERR_PARSE;
				goto fail;
			}
			c = hi << 4 | lo;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0') {
			r = AG_ERR_PARSE;
			goto fail;
		}
		if ((r = ag_buf_putc(b, c)) != AG_OK)
			goto fail;
	}
	return AG_OK;
fail:
	truncate_to(b, start);
	return r;
}

int
ag_url_encode(struct ag_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start;
	unsigned char c;
	char esc[3];
	int r = AG_OK;

	start = b->len;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (unreserved(c))
			r = ag_buf_putc(b, c);
		else {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 0xf];
			r = ag_buf_add(b, esc, sizeof(esc));
		}
		if (r != AG_OK) {
			truncate_to(b, start);
			return r;
		}
	}
	return AG_OK;
}

int
ag_form_add(struct ag_buf *b, const char *name, const char *value)
{
	size_t start;
	int r;

	start = b->len;
	if (b->len > 0 && (r = ag_buf_putc(b, '&')) != AG_OK)
		goto fail;
	if ((r = ag_url_encode(b, name)) != AG_OK ||
	    (r = ag_buf_putc(b, '=')) != AG_OK ||
	    (r = ag_url_encode(b, value != NULL ? value : "")) != AG_OK)
		goto fail;
	return AG_OK;
fail:
	truncate_to(b, start);
	return r;
}

/* Decode s[0..n) (with '+' as space) into a new string in *out. */
static int
decode_dup(const char *s, size_t n, char **out)
{
	struct ag_buf b;
	int r;

	*out = NULL;
	ag_buf_init(&b, 0);
	if ((r = ag_url_decode(&b, s, n, 1)) != AG_OK)
		goto out;
	if ((*out = ag_buf_take(&b)) == NULL)
		r = AG_ERR_NOMEM;
out:
	ag_buf_free(&b);
	return r;
}

int
ag_params_parse(const char *s, size_t n, size_t max, struct ag_params *p)
{
	const char *pair, *eq, *amp;
	size_t len;
	char *name = NULL, *value = NULL;
	int r = AG_OK;

	memset(p, 0, sizeof(*p));
	if (n > max)
		return AG_ERR_LIMIT;
	if (s == NULL || n == 0)
		return AG_OK;
	for (pair = s; pair < s + n; pair += len + 1) {
		amp = memchr(pair, '&', (size_t)(s + n - pair));
		len = (amp != NULL ? amp : s + n) - pair;
		if (len == 0)
			continue;	/* "&&" */
		if (p->n == AG_MAX_PARAMS) {
			r = AG_ERR_LIMIT;
			goto out;
		}
		if (p->v == NULL &&
		    (p->v = calloc(AG_MAX_PARAMS, sizeof(*p->v))) == NULL) {
			r = AG_ERR_NOMEM;
			goto out;
		}
		if ((eq = memchr(pair, '=', len)) == NULL)
			eq = pair + len;
		if ((r = decode_dup(pair, (size_t)(eq - pair), &name)) != AG_OK)
			goto out;
		if (eq < pair + len)
			r = decode_dup(eq + 1, (size_t)(pair + len - eq - 1),
			    &value);
		else
			r = (value = strdup("")) == NULL ? AG_ERR_NOMEM : AG_OK;
		if (r != AG_OK)
			goto out;
		p->v[p->n].name = name;
		p->v[p->n].value = value;
		p->n++;
		name = value = NULL;
	}
out:
	ag_strfree(name);
	ag_strfree(value);
	if (r != AG_OK)
		ag_params_free(p);
	return r;
}

void
ag_params_free(struct ag_params *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		ag_strfree(p->v[i].name);
		ag_strfree(p->v[i].value);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

const char *
ag_params_get(const struct ag_params *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return p->v[i].value;
	return NULL;
}

size_t
ag_params_count(const struct ag_params *p, const char *name)
{
	size_t i, count = 0;

	if (p == NULL || name == NULL)
		return 0;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			count++;
	return count;
}

/* Does s start with prefix, ignoring ASCII case? */
static int
prefix_ci(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (lower((unsigned char)*s) != *prefix)
			return 0;
	return 1;
}

/*
 * Split an absolute "http[s]://host[:port]rest" URL.  Only printable
 * ASCII without space or backslash is accepted anywhere; the host is a
 * DNS-ish name ([A-Za-z0-9._-]) or a bracketed IPv6 literal; the port,
 * when its ':' is there, is 1+ digits up to 65535.  Userinfo is refused.
 */
static int
parse_abs(const char *url, struct abs_url *u)
{
	const char *p, *host, *hend;
	size_t hlen, i;
	unsigned long port;
	int c;

	memset(u, 0, sizeof(*u));
	for (p = url; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return AG_ERR_PARSE;
	}
	if (prefix_ci(url, "https://")) {
		u->https = 1;
		u->port = 443;
		host = url + 8;
	} else if (prefix_ci(url, "http://")) {
		u->port = 80;
		host = url + 7;
	} else
		return AG_ERR_PARSE;

	if (*host == '[') {
		for (hend = host + 1; *hend != ']'; hend++)
			if (!is_digit(*hend) && ag_hex_value(*hend) < 0 &&
			    *hend != ':' && *hend != '.')
				return AG_ERR_PARSE;	/* also '\0' */
		hend++;
		if (hend - host < 4)		/* "[::]" at least */
			return AG_ERR_PARSE;
	} else {
		for (hend = host; is_alpha(*hend) || is_digit(*hend) ||
		    *hend == '.' || *hend == '-' || *hend == '_'; hend++)
			;
		if (hend == host)
			return AG_ERR_PARSE;
	}
	hlen = (size_t)(hend - host);
	if (hlen > HOST_MAX)
		return AG_ERR_PARSE;
	for (i = 0; i < hlen; i++)
		u->host[i] = (char)lower((unsigned char)host[i]);
	u->host[hlen] = '\0';

	p = hend;
	if (*p == ':') {
		p++;
		if (!is_digit(*p))
			return AG_ERR_PARSE;	/* empty port */
		for (port = 0; is_digit(*p); p++) {
			port = port * 10 + (unsigned long)(*p - '0');
			if (port > 65535)
				return AG_ERR_PARSE;
		}
		u->port = (unsigned int)port;
	}
	/* '@' (userinfo) or any other byte ends up here. */
	if (*p != '\0' && *p != '/' && *p != '?' && *p != '#')
		return AG_ERR_PARSE;
	u->rest = p;
	return AG_OK;
}

int
ag_url_origin(struct ag_buf *out, const char *url)
{
	struct abs_url u;
	int r;

	if (url == NULL || parse_abs(url, &u) != AG_OK)
		return AG_ERR_PARSE;
	if ((u.https && u.port == 443) || (!u.https && u.port == 80))
		r = ag_buf_printf(out, "%s://%s", u.https ? "https" : "http",
		    u.host);
	else
		r = ag_buf_printf(out, "%s://%s:%u",
		    u.https ? "https" : "http", u.host, u.port);
	return r;
}

static int
same_origin(const struct abs_url *a, const struct abs_url *b)
{
	return a->https == b->https && a->port == b->port &&
	    strcmp(a->host, b->host) == 0;
}

/*
 * Percent-decode s[0..n) into d (room for n bytes) once, leaving bad
 * escapes as they are; the decoded length.
 */
static size_t
decode_once(char *d, const char *s, size_t n)
{
	size_t i, j;
	int hi, lo;

	for (i = j = 0; i < n; i++, j++) {
		if (s[i] == '%' && n - i >= 3 &&
		    (hi = ag_hex_value(s[i + 1])) >= 0 &&
		    (lo = ag_hex_value(s[i + 2])) >= 0) {
			d[j] = (char)(hi << 4 | lo);
			i += 2;
		} else
			d[j] = s[i];
	}
	return j;
}

static int
is_slash(int c)
{
	return c == '/' || c == '\\';
}

static int
is_ctl(int c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Would s start with two slashes, an encoded slash or a control byte
 * once decoded by a server or proxy that decodes once too often?
 */
static int
bad_lead(const char *s)
{
	char a[LEAD_PREFIX], b[LEAD_PREFIX];
	size_t n;
	int round;

	n = strnlen(s, LEAD_PREFIX);
	memcpy(a, s, n);
	for (round = 0; round < LEAD_ROUNDS && n > 0; round++) {
		n = decode_once(b, a, n);
		if (is_slash((unsigned char)b[0]) && s[0] != '/')
			return 1;
		if (is_ctl((unsigned char)b[0]))
			return 1;
		if (n > 1 && (is_ctl((unsigned char)b[1]) ||
		    (is_slash((unsigned char)b[0]) &&
		    is_slash((unsigned char)b[1]))))
			return 1;
		memcpy(a, b, n);
	}
	return 0;
}

/* Does s[0..n) contain "//"? */
static int
has_double_slash(const char *s, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (s[i - 1] == '/' && s[i] == '/')
			return 1;
	return 0;
}

/* Append s[0..n), percent-encoding the bytes of set. */
static int
put_encoded(struct ag_buf *b, const char *s, size_t n, const char *set)
{
	size_t i;
	int r = AG_OK;

	for (i = 0; i < n && r == AG_OK; i++) {
		if (strchr(set, s[i]) != NULL)
			r = ag_buf_printf(b, "%%%02X", (unsigned char)s[i]);
		else
			r = ag_buf_putc(b, s[i]);
	}
	return r;
}

/* Is the segment s[0..n) "." or its encoded form? */
static int
single_dot(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') ||
	    (n == 3 && s[0] == '%' && s[1] == '2' && lower(s[2]) == 'e');
}

/* Is the segment s[0..n) ".." in any mix of '.' and "%2e"? */
static int
double_dot(const char *s, size_t n)
{
	if (n == 2)
		return s[0] == '.' && s[1] == '.';
	if (n == 4)
		return (s[0] == '.' && single_dot(s + 1, 3)) ||
		    (single_dot(s, 3) && s[3] == '.');
	if (n == 6)
		return single_dot(s, 3) && single_dot(s + 3, 3);
	return 0;
}

/*
 * Append the path p[0..n) (starting with '/') with its dot segments
 * removed the way the WHATWG path state does.
 */
static int
put_path(struct ag_buf *b, const char *p, size_t n)
{
	/* WHATWG path percent-encode set, less what we refused already. */
	static const char path_set[] = "\"<>`{}";
	const char *seg, *end, *slash;
	size_t start, len;
	int last, r;

	start = b->len;
	for (seg = p + 1; seg <= p + n; seg = end + 1) {
		slash = memchr(seg, '/', (size_t)(p + n - seg));
		end = slash != NULL ? slash : p + n;
		len = (size_t)(end - seg);
		last = slash == NULL;
		if (double_dot(seg, len)) {
			while (b->len > start && b->data[b->len - 1] != '/')
				truncate_to(b, b->len - 1);
			if (b->len > start)
				truncate_to(b, b->len - 1);
			if (last && (r = ag_buf_putc(b, '/')) != AG_OK)
				return r;
		} else if (single_dot(seg, len)) {
			if (last && (r = ag_buf_putc(b, '/')) != AG_OK)
				return r;
		} else if ((r = ag_buf_putc(b, '/')) != AG_OK ||
		    (r = put_encoded(b, seg, len, path_set)) != AG_OK)
			return r;
	}
	if (b->len == start)
		return ag_buf_putc(b, '/');
	return AG_OK;
}

/*
 * Resolve the reference ref (no scheme, no authority) against a base
 * whose path is bpath (starting with '/') and query bquery (with its
 * '?', or empty) into out as path + query + fragment.
 */
static int
resolve(struct ag_buf *out, const char *bpath, size_t bplen,
    const char *bquery, size_t bqlen, const char *ref)
{
	static const char query_set[] = "\"<>'";
	static const char frag_set[] = "\"<>`";
	struct ag_buf path;
	const char *q, *f, *dir;
	size_t plen, qlen, flen, dlen;
	int r;

	ag_buf_init(&path, 0);
	plen = strcspn(ref, "?#");
	q = ref + plen;
	qlen = *q == '?' ? strcspn(q, "#") : 0;
	f = q + qlen;
	flen = strlen(f);

	if (plen == 0) {
		r = ag_buf_add(&path, bpath, bplen);
		if (qlen == 0) {
			q = bquery;
			qlen = bqlen;
		}
	} else if (ref[0] == '/')
		r = ag_buf_add(&path, ref, plen);
	else {
		/* Merge: the base path up to its last '/', then ref. */
		for (dir = bpath + bplen; dir > bpath && dir[-1] != '/'; dir--)
			;
		dlen = (size_t)(dir - bpath);
		if ((r = ag_buf_add(&path, bpath, dlen)) == AG_OK)
			r = ag_buf_add(&path, ref, plen);
	}
	if (r != AG_OK)
		goto out;
	if ((r = put_path(out, path.data, path.len)) != AG_OK)
		goto out;
	/* The SDK keeps url.search and url.hash: "" for a bare "?" or "#". */
	if (qlen > 1 && (r = put_encoded(out, q, qlen, query_set)) != AG_OK)
		goto out;
	if (flen > 1 && (r = put_encoded(out, f, flen, frag_set)) != AG_OK)
		goto out;
out:
	ag_buf_free(&path);
	return r;
}

/* Length of a leading scheme including its ':', or 0. */
static size_t
scheme_len(const char *s)
{
	size_t i;

	if (!is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 1; is_alpha((unsigned char)s[i]) ||
	    is_digit((unsigned char)s[i]) ||
	    s[i] == '+' || s[i] == '-' || s[i] == '.'; i++)
		;
	return s[i] == ':' ? i + 1 : 0;
}

/* Rules 1-3 of the top comment: length and bytes of the raw candidate. */
static int
raw_ok(const char *s)
{
	size_t i, n;
	int c, hi, lo;

	n = strnlen(s, AG_MAX_RETURN_TO + 1);
	if (n == 0 || n > AG_MAX_RETURN_TO)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return 0;
		if (c != '%')
			continue;
		if (n - i < 3 || (hi = ag_hex_value(s[i + 1])) < 0 ||
		    (lo = ag_hex_value(s[i + 2])) < 0)
			return 0;
		c = hi << 4 | lo;
		if (c < 0x20 || c == 0x7f)
			return 0;
		i += 2;
	}
	return 1;
}

int
ag_return_to(struct ag_buf *out, const char *base_url, const char *candidate)
{
	struct abs_url base, cand;
	struct ag_buf res;
	const char *bpath, *bquery, *ref;
	size_t bplen, bqlen, pathlen;
	int r = AG_ERR_DENIED;

	ag_buf_init(&res, 0);
	if (out == NULL || base_url == NULL || candidate == NULL)
		goto out;
	if (!raw_ok(candidate) || bad_lead(candidate))
		goto out;
	if (parse_abs(base_url, &base) != AG_OK)
		goto out;

	bpath = base.rest;
	bplen = strcspn(bpath, "?#");
	bquery = bpath + bplen;
	bqlen = *bquery == '?' ? strcspn(bquery, "#") : 0;
	if (bplen == 0 || bpath[0] != '/') {
		bpath = "/";
		bplen = 1;
	}

	if (scheme_len(candidate) > 0) {
		if (parse_abs(candidate, &cand) != AG_OK ||
		    !same_origin(&cand, &base))
			goto out;
		/* An absolute URL's empty path is "/", not the base's. */
		bpath = "/";
		bplen = 1;
		bquery = "";
		bqlen = 0;
		ref = cand.rest;
	} else if (candidate[0] == '/' && candidate[1] == '/')
		goto out;
	else
		ref = candidate;

	if ((r = resolve(&res, bpath, bplen, bquery, bqlen, ref)) != AG_OK) {
		if (r != AG_ERR_NOMEM)
			r = AG_ERR_DENIED;
		goto out;
	}
	r = AG_ERR_DENIED;
	pathlen = strcspn(res.data, "?#");
	if (res.data[0] != '/' || bad_lead(res.data))
		goto out;
	if (has_double_slash(res.data, pathlen))
		goto out;
	r = ag_buf_add(out, res.data, res.len);
out:
	ag_buf_free(&res);
	return r;
}
