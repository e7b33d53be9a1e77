/*
 * test-cookie.c -- the Cookie header parser (malformed and hostile
 * headers, limits) and the exact Set-Cookie strings for setting and
 * deleting with every attribute combination.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "cookie.h"
#include "err.h"

#include "tap.h"

#define NOW	INT64_C(1700000000)	/* Tue, 14 Nov 2023 22:13:20 GMT */

/*
 * Parse a copy of s[0..n) in a heap block of exactly n bytes, so ASan
 * catches any read past n.
 */
static int
parse_exact(const char *s, size_t n, struct ag_cookies *jar)
{
	char *copy;
	int r;

	copy = malloc(n > 0 ? n : 1);
	memcpy(copy, s, n);
	r = ag_cookies_parse(copy, n, jar);
	free(copy);
	return r;
}

/* Parse the C string s; how many stored, how many dropped. */
static void
parse_counts(const char *s, size_t want_n, size_t want_dropped,
    const char *name)
{
	struct ag_cookies jar;
	int r;

	r = parse_exact(s, strlen(s), &jar);
	if (!ok(r == AG_OK && jar.n == want_n && jar.dropped == want_dropped,
	    name))
		printf("#   got r=%d n=%zu dropped=%zu\n", r, jar.n,
		    jar.dropped);
	ag_cookies_free(&jar);
}

/* The value that ag_cookies_get returns for name in header s. */
static void
value_is(const char *s, const char *cname, const char *want,
    const char *name)
{
	struct ag_cookies jar;

	parse_exact(s, strlen(s), &jar);
	is_str(ag_cookies_get(&jar, cname), want, name);
	ag_cookies_free(&jar);
}

static void
test_parse_basic(void)
{
	struct ag_cookies jar;

	is_int(parse_exact("a=1; b=2", 8, &jar), AG_OK, "simple header");
	is_int(jar.n, 2, "two cookies");
	is_str(jar.v[0].name, "a", "first name");
	is_str(jar.v[1].value, "2", "second value");
	is_str(ag_cookies_get(&jar, "b"), "2", "get b");
	is_str(ag_cookies_get(&jar, "c"), NULL, "get absent");
	is_str(ag_cookies_get(&jar, NULL), NULL, "get NULL name");
	ag_cookies_free(&jar);
	ag_cookies_free(&jar);
	ag_cookies_free(NULL);
	is_str(ag_cookies_get(NULL, "a"), NULL, "get from NULL jar");

	value_is("  a = 1 ;b=2  ", "a", "1", "spaces around name and value");
	value_is("  a = 1 ;b=2  ", "b", "2", "trailing spaces trimmed");
	value_is("a=\t1\t", "a", "1", "tabs trimmed");
	value_is("a=b=c", "a", "b=c", "first '=' splits");
	value_is("a=", "a", "", "empty value");
	value_is("a=\"x y\"", "a", "\"x y\"", "quotes kept");
	value_is("a=1; a=2", "a", "1", "duplicates: first wins");
	value_is("a=x+y", "a", "x+y", "plus is not a space");
	value_is("a=1,b=2", "a", "1,b=2", "comma is not a separator");
	value_is("__session=eyJ.a-b_c.d", "__session", "eyJ.a-b_c.d",
	    "JWE-like value");
	value_is("__session__0=x; __session__1=y", "__session__1", "y",
	    "chunk names");
	value_is("a=\xc3\xa9", "a", "\xc3\xa9", "raw UTF-8 kept");
	parse_counts("a=1; a=2", 2, 0, "duplicates both stored");
	is_int(ag_cookies_parse(NULL, 0, &jar), AG_OK, "NULL, 0");
	is_int(jar.n, 0, "NULL, 0: empty");
	is_int(parse_exact("", 0, &jar), AG_OK, "empty header");
	is_int(jar.n + jar.dropped, 0, "empty header: nothing");
}

static void
test_parse_decode(void)
{
	value_is("a=%41%20b", "a", "A b", "escapes decoded");
	value_is("a=%c3%a9", "a", "\xc3\xa9", "UTF-8 escape decoded");
	value_is("a=%7B%22x%22%7D", "a", "{\"x\"}", "JSON escape decoded");
	value_is("a=%", "a", "%", "lone % kept raw");
	value_is("a=x%4", "a", "x%4", "short escape kept raw");
	value_is("a=%G1", "a", "%G1", "bad hex kept raw");
	value_is("a=%41%G1", "a", "%41%G1", "any bad escape: all raw");
	value_is("a=%00", "a", "%00", "decoded NUL kept raw");
	value_is("a=%C3", "a", "%C3", "truncated UTF-8 kept raw");
	value_is("a=%C0%AF", "a", "%C0%AF", "overlong UTF-8 kept raw");
	value_is("a=%ED%A0%80", "a", "%ED%A0%80", "surrogate kept raw");
	value_is("a=%F4%90%80%80", "a", "%F4%90%80%80",
	    "above U+10FFFF kept raw");
	value_is("a=%FF", "a", "%FF", "0xFF kept raw");
	value_is("a=%F0%9F%98%80", "a", "\xf0\x9f\x98\x80", "4-byte UTF-8");
	value_is("a=%0A", "a", "\n", "encoded LF decoded (as the SDK)");
}

static void
test_parse_malformed(void)
{
	struct ag_cookies jar;
	static const char nul[] = "a=1\0x; b=2; c\0=3; d=4";
	char *big;
	size_t i;

	parse_counts("a", 0, 1, "a: dropped");
	parse_counts("=", 0, 1, "=: dropped");
	parse_counts(";;", 0, 0, ";;: nothing");
	parse_counts(" ; ", 0, 0, " ; : nothing");
	parse_counts(";", 0, 0, ";: nothing");
	parse_counts("=x", 0, 1, "=x: dropped");
	parse_counts(" =x; b=1", 1, 1, "empty name dropped");
	parse_counts("a b=1", 0, 1, "space in name dropped");
	parse_counts("a\x01=1", 0, 1, "control in name dropped");
	parse_counts("a\x7f=1", 0, 1, "DEL in name dropped");
	parse_counts("a(b)=1; c@d=2; e/f=3; g\"h=4; i,j=5", 0, 5,
	    "separators in names dropped");
	parse_counts("\xc3\xa9=1", 0, 1, "non-ASCII name dropped");
	parse_counts("a=x\ty", 0, 1, "TAB inside value dropped");
	parse_counts("a=x\ry", 0, 1, "CR in value dropped");
	parse_counts("a=x\ny; b=1", 1, 1, "LF in value dropped, next kept");
	parse_counts("a=1;b;c=3", 2, 1, "pair without = between");
	parse_counts("!#$%&'*+-.^_`|~=1", 1, 0, "all tchars in a name");

	/* NUL bytes inside the header, n given explicitly. */
	is_int(parse_exact(nul, sizeof(nul) - 1, &jar), AG_OK, "NULs parse");
	is_int(jar.n, 2, "NUL: two clean pairs kept");
	is_int(jar.dropped, 2, "NUL: two pairs dropped");
	is_str(ag_cookies_get(&jar, "b"), "2", "NUL: b kept");
	is_str(ag_cookies_get(&jar, "d"), "4", "NUL: d kept");
	is_str(ag_cookies_get(&jar, "a"), NULL, "NUL: a dropped");
	ag_cookies_free(&jar);
	/* n cuts a pair short: nothing past n is read (ASan checks). */
	is_int(parse_exact("abc=defgh", 6, &jar), AG_OK, "cut by n");
	is_str(ag_cookies_get(&jar, "abc"), "de", "value cut at n");
	ag_cookies_free(&jar);
	is_int(parse_exact("a=%4", 3, &jar), AG_OK, "escape cut by n");
	is_str(ag_cookies_get(&jar, "a"), "%", "escape cut: raw");
	ag_cookies_free(&jar);

	/* 10,000 cookies: the first AG_MAX_COOKIES kept, the rest counted. */
	big = malloc(10000 * 6 + 1);
	for (i = 0; i < 10000; i++)
		snprintf(big + i * 6, 7, "%04zx=;", i);
	is_int(parse_exact(big, 10000 * 6, &jar), AG_OK, "10,000 cookies");
	is_int(jar.n, AG_MAX_COOKIES, "AG_MAX_COOKIES kept");
	is_int(jar.dropped, 10000 - AG_MAX_COOKIES, "rest dropped");
	is_str(jar.v[AG_MAX_COOKIES - 1].name, "00c7", "last kept is 200th");
	is_str(ag_cookies_get(&jar, "00c8"), NULL, "201st not kept");
	ag_cookies_free(&jar);
	free(big);

	/* The header limit, at and past it. */
	big = malloc(AG_MAX_COOKIE_HEADER + 1);
	memset(big, ';', AG_MAX_COOKIE_HEADER + 1);
	memcpy(big, "a=1", 3);
	is_int(parse_exact(big, AG_MAX_COOKIE_HEADER, &jar), AG_OK,
	    "AG_MAX_COOKIE_HEADER bytes parse");
	is_str(ag_cookies_get(&jar, "a"), "1", "... and keep a");
	ag_cookies_free(&jar);
	is_int(parse_exact(big, AG_MAX_COOKIE_HEADER + 1, &jar), AG_ERR_LIMIT,
	    "one byte more refused");
	ok(jar.n == 0 && jar.v == NULL, "jar empty after limit");
	free(big);

	/* Value length, at and past AG_MAX_COOKIE_VALUE. */
	big = malloc(AG_MAX_COOKIE_VALUE + 8);
	memcpy(big, "a=", 2);
	memset(big + 2, 'v', AG_MAX_COOKIE_VALUE + 1);
	is_int(parse_exact(big, AG_MAX_COOKIE_VALUE + 2, &jar), AG_OK,
	    "longest value parses");
	ok(jar.n == 1 && strlen(jar.v[0].value) == AG_MAX_COOKIE_VALUE,
	    "longest value kept whole");
	ag_cookies_free(&jar);
	is_int(parse_exact(big, AG_MAX_COOKIE_VALUE + 3, &jar), AG_OK,
	    "too long value parses");
	ok(jar.n == 0 && jar.dropped == 1, "too long value dropped");
	ag_cookies_free(&jar);
	free(big);
}

/* Check one ag_set_cookie() call against its exact output. */
static void
set_is(const char *cname, const char *value, const struct ag_cookie_attr *a,
    int64_t max_age, int64_t now, const char *want, const char *name)
{
	struct ag_buf b;
	int r;

	ag_buf_init(&b, 0);
	r = ag_set_cookie(&b, cname, value, a, max_age, now);
	if (!ok(r == AG_OK && strcmp(ag_buf_str(&b), want) == 0, name))
		printf("#   got %s '%s'\n#  want '%s'\n", ag_strerror(r),
		    ag_buf_str(&b), want);
	ag_buf_free(&b);
}

/* ag_set_cookie() must refuse, leaving the buffer as it was. */
static void
set_refused(const char *cname, const char *value,
    const struct ag_cookie_attr *a, int64_t max_age, int64_t now,
    const char *name)
{
	struct ag_buf b;
	int r;

	ag_buf_init(&b, 0);
	ag_buf_puts(&b, "keep");
	r = ag_set_cookie(&b, cname, value, a, max_age, now);
	if (!ok(r == AG_ERR_PARSE && strcmp(ag_buf_str(&b), "keep") == 0,
	    name))
		printf("#   got %s '%s'\n", ag_strerror(r), ag_buf_str(&b));
	ag_buf_free(&b);
}

static void
test_set_exact(void)
{
	struct ag_cookie_attr a;

	memset(&a, 0, sizeof(a));
	set_is("__session", "abc.def", &a, 86400, NOW,
	    "__session=abc.def; Path=/; Expires=Wed, 15 Nov 2023 22:13:20 GMT;"
	    " Max-Age=86400; HttpOnly; SameSite=lax", "set, defaults");
	set_is("__session", "abc.def", NULL, 86400, NOW,
	    "__session=abc.def; Path=/; Expires=Wed, 15 Nov 2023 22:13:20 GMT;"
	    " Max-Age=86400; HttpOnly; SameSite=lax", "set, NULL attributes");
	a.path = "/app";
	a.domain = "example.com";
	a.secure = 1;
	a.same_site = AG_SAME_SITE_STRICT;
	set_is("__session", "abc.def", &a, 86400, NOW,
	    "__session=abc.def; Path=/app; Expires=Wed, 15 Nov 2023 22:13:20 "
	    "GMT; Max-Age=86400; Domain=example.com; Secure; HttpOnly; "
	    "SameSite=strict", "set, every attribute");
	set_is("__session", "abc.def", &a, 0, NOW,
	    "__session=; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
	    "Max-Age=0; Domain=example.com; Secure; HttpOnly; "
	    "SameSite=strict", "delete repeats the attributes");
	a.transient = 1;
	a.same_site = AG_SAME_SITE_NONE;
	set_is("__txn_x", "v", &a, 3600, NOW,
	    "__txn_x=v; Path=/app; Domain=example.com; Secure; HttpOnly; "
	    "SameSite=none", "transient: no Expires, no Max-Age");
	set_is("__txn_x", "v", &a, -5, NOW,
	    "__txn_x=; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
	    "Max-Age=0; Domain=example.com; Secure; HttpOnly; SameSite=none",
	    "transient delete still expires");
	memset(&a, 0, sizeof(a));
	set_is("a", NULL, &a, 1, INT64_C(951782399),
	    "a=; Path=/; Expires=Tue, 29 Feb 2000 00:00:00 GMT; Max-Age=1; "
	    "HttpOnly; SameSite=lax", "leap day, NULL value is empty");
	set_is("a", "", &a, 59, INT64_C(4102444800),
	    "a=; Path=/; Expires=Fri, 01 Jan 2100 00:00:59 GMT; Max-Age=59; "
	    "HttpOnly; SameSite=lax", "year 2100");
	set_is("a", "b", &a, 1, INT64_C(253402300798),
	    "a=b; Path=/; Expires=Fri, 31 Dec 9999 23:59:59 GMT; Max-Age=1; "
	    "HttpOnly; SameSite=lax", "last second of 9999");
	set_is("a", "b", &a, 1, 0,
	    "a=b; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=1; "
	    "HttpOnly; SameSite=lax", "epoch");
	set_is("a", "secret", &a, INT64_MIN, NOW,
	    "a=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
	    "HttpOnly; SameSite=lax", "INT64_MIN max_age deletes");
	a.path = "";
	a.domain = "";
	set_is("a", "b", &a, 10, NOW,
	    "a=b; Path=/; Expires=Tue, 14 Nov 2023 22:13:30 GMT; Max-Age=10; "
	    "HttpOnly; SameSite=lax", "empty path and domain are defaults");
	set_is("a", "!#$%&'()*+-./:<=>?@[]^_`{|}~", &a, 10, NOW,
	    "a=!#$%&'()*+-./:<=>?@[]^_`{|}~; Path=/; Expires=Tue, 14 Nov 2023 "
	    "22:13:30 GMT; Max-Age=10; HttpOnly; SameSite=lax",
	    "every cookie-octet punctuation");
}

/* Every combination, built by concatenation and compared. */
static void
test_set_combinations(void)
{
	static const char *const paths[] = { NULL, "/", "/sub" };
	static const char *const domains[] = { NULL, "app.example.com" };
	static const char *const ss[] = { "lax", "strict", "none" };
	static const int64_t ages[] = { 3600, 0, -1 };
	struct ag_cookie_attr a;
	struct ag_buf got, want;
	size_t p, d, s, t, g, total = 0, bad = 0;
	int sec;

	ag_buf_init(&got, 0);
	ag_buf_init(&want, 0);
	for (p = 0; p < 3; p++)
	for (d = 0; d < 2; d++)
	for (sec = 0; sec < 2; sec++)
	for (s = 0; s < 3; s++)
	for (t = 0; t < 2; t++)
	for (g = 0; g < 3; g++) {
		memset(&a, 0, sizeof(a));
		a.path = paths[p];
		a.domain = domains[d];
		a.secure = sec;
		a.same_site = (int)s;
		a.transient = (int)t;
		ag_buf_reset(&got);
		ag_buf_reset(&want);
		ag_buf_printf(&want, "n=%s; Path=%s", ages[g] > 0 ? "v" : "",
		    paths[p] != NULL ? paths[p] : "/");
		if (ages[g] <= 0)
			ag_buf_puts(&want, "; Expires=Thu, 01 Jan 1970 "
			    "00:00:00 GMT; Max-Age=0");
		else if (!t)
			ag_buf_puts(&want, "; Expires=Tue, 14 Nov 2023 "
			    "23:13:20 GMT; Max-Age=3600");
		if (domains[d] != NULL)
			ag_buf_printf(&want, "; Domain=%s", domains[d]);
		if (sec)
			ag_buf_puts(&want, "; Secure");
		ag_buf_printf(&want, "; HttpOnly; SameSite=%s", ss[s]);
		total++;
		if (ag_set_cookie(&got, "n", "v", &a, ages[g], NOW) != AG_OK ||
		    strcmp(ag_buf_str(&got), ag_buf_str(&want)) != 0) {
			if (bad++ < 3)
				printf("# got '%s'\n# want '%s'\n",
				    ag_buf_str(&got), ag_buf_str(&want));
		}
	}
	ag_buf_free(&got);
	ag_buf_free(&want);
	is_int(bad, 0, "every attribute combination exact");
	is_int(total, 216, "216 combinations");
}

static void
test_set_refused(void)
{
	static const char *const bad_names[] = {
		"", "a b", "a;b", "a=b", "a,b", "a\r", "a\nb", "a\tb", "a\"b",
		"a(b", "a/b", "a@b", "\xc3\xa9", "a\x7f", "a:b",
	};
	static const char *const bad_values[] = {
		"a b", "a;b", "a,b", "a\rb", "a\nb", "a\tb", "a\"b", "a\\b",
		"\xc3\xa9", "a\x7f", "a\x01", " a", "a ",
	};
	struct ag_cookie_attr a;
	size_t i;
	char name[64];

	memset(&a, 0, sizeof(a));
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		snprintf(name, sizeof(name), "bad name %zu refused", i);
		set_refused(bad_names[i], "v", &a, 60, NOW, name);
	}
	set_refused(NULL, "v", &a, 60, NOW, "NULL name refused");
	for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		snprintf(name, sizeof(name), "bad value %zu refused", i);
		set_refused("n", bad_values[i], &a, 60, NOW, name);
	}
	a.path = "/a;b";
	set_refused("n", "v", &a, 60, NOW, "path with ';' refused");
	a.path = "/a\r\nSet-Cookie: x=y";
	set_refused("n", "v", &a, 60, NOW, "path with CRLF refused");
	a.path = "/\xc3\xa9";
	set_refused("n", "v", &a, 60, NOW, "non-ASCII path refused");
	a.path = NULL;
	a.domain = "example.com; Secure";
	set_refused("n", "v", &a, 60, NOW, "domain with ';' refused");
	a.domain = "example.com\n";
	set_refused("n", "v", &a, 60, NOW, "domain with LF refused");
	a.domain = NULL;
	a.same_site = AG_SAME_SITE__MAX;
	set_refused("n", "v", &a, 60, NOW, "same_site out of range");
	a.same_site = -1;
	set_refused("n", "v", &a, 60, NOW, "negative same_site");
	a.same_site = AG_SAME_SITE_LAX;
	set_refused("n", "v", &a, INT64_MAX, NOW, "now + max_age overflow");
	set_refused("n", "v", &a, 1, INT64_C(253402300799),
	    "expiry past 9999 refused");
	set_refused("n", "v", &a, 1, INT64_C(-10), "expiry before 1970");
	is_int(ag_set_cookie(NULL, "n", "v", &a, 1, NOW), AG_ERR_PARSE,
	    "NULL out refused");
	/* A deletion ignores the value, so any value is fine. */
	set_is("n", "a b;c", &a, 0, NOW,
	    "n=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
	    "HttpOnly; SameSite=lax", "delete ignores the value");
}

static void
test_set_limit(void)
{
	struct ag_buf b;

	ag_buf_init(&b, 20);
	ag_buf_puts(&b, "x");
	is_int(ag_set_cookie(&b, "n", "v", NULL, 60, NOW), AG_ERR_LIMIT,
	    "bounded out: limit");
	is_str(ag_buf_str(&b), "x", "bounded out untouched");
	ag_buf_free(&b);
}

/*
 * Control bytes in long values: the scan goes eight bytes at a time, so
 * each boundary byte (0x00, 0x1f, 0x7f refused; 0x20, 0x7e, 0x80, 0xff
 * kept) at every position of values of several lengths.
 */
static void
test_parse_ctl_scan(void)
{
	static const unsigned char bad[] = { 0x00, 0x01, 0x1f, 0x7f };
	static const unsigned char good[] = { 0x20, 0x7e, 0x80, 0xa0, 0xff };
	struct ag_cookies jar;
	char hdr[64];
	size_t len, pos, k;
	int allbad = 1, allgood = 1;

	for (len = 1; len <= 40; len++)
		for (pos = 0; pos < len; pos++) {
			for (k = 0; k < sizeof(bad) + sizeof(good); k++) {
				memcpy(hdr, "a=", 2);
				memset(hdr + 2, 'x', len);
				hdr[2 + pos] = (char)(k < sizeof(bad) ? bad[k] :
				    good[k - sizeof(bad)]);
				if (k >= sizeof(bad) && pos == 0 &&
				    hdr[2] == ' ')
					continue;	/* leading blank trimmed */
				if (k >= sizeof(bad) && pos == len - 1 &&
				    hdr[2 + pos] == ' ')
					continue;	/* trailing blank trimmed */
				(void)parse_exact(hdr, 2 + len, &jar);
				if (k < sizeof(bad) && (jar.n != 0 ||
				    jar.dropped != 1))
					allbad = 0;
				if (k >= sizeof(bad) && jar.n != 1)
					allgood = 0;
				ag_cookies_free(&jar);
			}
		}
	ok(allbad, "a control byte anywhere in values of 1..40 bytes drops "
	    "the pair");
	ok(allgood, "0x20, 0x7e and bytes >= 0x80 anywhere are kept");
}

int
main(void)
{
	test_parse_basic();
	test_parse_decode();
	test_parse_malformed();
	test_parse_ctl_scan();
	test_set_exact();
	test_set_combinations();
	test_set_refused();
	test_set_limit();
	return tap_done();
}
