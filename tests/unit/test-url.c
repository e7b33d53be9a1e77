/*
 * test-url.c -- query/form parsing, percent-coding, origins, and the
 * returnTo validator against tests/data/open-redirect.txt (must refuse)
 * and tests/data/return-to-good.txt (must accept, exact output).
 *
 * Data files are read from $AG_TEST_DATA (default "tests/data", i.e. run
 * from the top of the tree).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ag_limits.h"
#include "url.h"

#include "tap.h"
#include "util.h"

#define BASE	"https://app.example.com/"

static FILE *
open_data(const char *name)
{
	const char *dir;
	char path[1024];
	FILE *f;

	if ((dir = getenv("AG_TEST_DATA")) == NULL)
		dir = "tests/data";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		printf("# cannot open %s\n", path);
	return f;
}

static int
is_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* What every accepted output must look like, whatever the input. */
static int
safe_output(const char *s)
{
	return s[0] == '/' && s[1] != '/' && s[1] != '\\' &&
	    strchr(s, '\\') == NULL && is_printable(s);
}

static void
test_payloads(void)
{
	struct ag_buf out;
	FILE *f;
	char *line = NULL, name[128];
	size_t cap = 0, count = 0, refused = 0;
	ssize_t len;
	long n;
	int lineno = 0, r;

	ag_buf_init(&out, 0);
	if ((f = open_data("open-redirect.txt")) == NULL) {
		ok(0, "open-redirect.txt readable");
		return;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		snprintf(name, sizeof(name), "open-redirect.txt:%d refused",
		    lineno);
		if ((n = unescape(line)) < 0 || (size_t)n != strlen(line)) {
			ok(0, name);
			printf("#   bad escape or NUL in the data file\n");
			continue;
		}
		count++;
		ag_buf_reset(&out);
		if ((r = ag_return_to(&out, BASE, line)) == AG_ERR_DENIED &&
		    out.len == 0)
			refused++;
		else {
			ok(0, name);
			printf("#   got %s '%s'\n", ag_strerror(r),
			    ag_buf_str(&out));
		}
	}
	fclose(f);
	free(line);
	ag_buf_free(&out);
	ok(count >= 250, "open-redirect.txt has at least 250 payloads");
	is_int(refused, count, "every open-redirect payload refused");
	printf("# %zu payloads\n", count);
}

static void
test_good(void)
{
	struct ag_buf out;
	FILE *f;
	char *line = NULL, *tab, base[256] = BASE, name[128];
	size_t cap = 0, count = 0;
	ssize_t len;
	int lineno = 0, r;

	ag_buf_init(&out, 0);
	if ((f = open_data("return-to-good.txt")) == NULL) {
		ok(0, "return-to-good.txt readable");
		return;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strncmp(line, "@base ", 6) == 0) {
			snprintf(base, sizeof(base), "%s", line + 6);
			continue;
		}
		snprintf(name, sizeof(name), "return-to-good.txt:%d accepted",
		    lineno);
		if ((tab = strchr(line, '\t')) == NULL) {
			ok(0, name);
			continue;
		}
		*tab++ = '\0';
		if (unescape(line) < 0 || unescape(tab) < 0) {
			ok(0, name);
			continue;
		}
		count++;
		ag_buf_reset(&out);
		r = ag_return_to(&out, base, line);
		if (!ok(r == AG_OK && strcmp(ag_buf_str(&out), tab) == 0 &&
		    safe_output(ag_buf_str(&out)), name))
			printf("#   %s + '%s': got %s '%s', want '%s'\n", base,
			    line, ag_strerror(r), ag_buf_str(&out), tab);
	}
	fclose(f);
	free(line);
	ag_buf_free(&out);
	ok(count >= 40, "return-to-good.txt has at least 40 cases");
}

static void
test_return_to_edges(void)
{
	struct ag_buf out;
	char *s;

	ag_buf_init(&out, 0);
	is_int(ag_return_to(&out, BASE, ""), AG_ERR_DENIED, "empty refused");
	is_int(ag_return_to(&out, BASE, NULL), AG_ERR_DENIED, "NULL refused");
	is_int(ag_return_to(&out, NULL, "/x"), AG_ERR_DENIED,
	    "NULL base refused");
	is_int(ag_return_to(&out, "not a url", "/x"), AG_ERR_DENIED,
	    "bad base refused");
	is_int(ag_return_to(&out, "ftp://app.example.com/", "/x"),
	    AG_ERR_DENIED, "non-http base refused");
	is_int(ag_return_to(&out, "https://u@app.example.com/", "/x"),
	    AG_ERR_DENIED, "base with userinfo refused");

	/* Exactly at the limit, and one past it. */
	s = malloc(20 * 1024 + 2);
	s[0] = '/';
	memset(s + 1, 'a', AG_MAX_RETURN_TO - 1);
	s[AG_MAX_RETURN_TO] = '\0';
	ag_buf_reset(&out);
	is_int(ag_return_to(&out, BASE, s), AG_OK,
	    "AG_MAX_RETURN_TO bytes accepted");
	is_int(out.len, AG_MAX_RETURN_TO, "... and copied whole");
	s[AG_MAX_RETURN_TO] = 'a';
	s[AG_MAX_RETURN_TO + 1] = '\0';
	ag_buf_reset(&out);
	is_int(ag_return_to(&out, BASE, s), AG_ERR_DENIED,
	    "AG_MAX_RETURN_TO + 1 bytes refused");
	memset(s + 1, 'a', 20 * 1024);
	s[20 * 1024 + 1] = '\0';
	is_int(ag_return_to(&out, BASE, s), AG_ERR_DENIED, "20 KB refused");
	free(s);

	/* A refusal leaves out as it was; an acceptance appends. */
	ag_buf_reset(&out);
	ag_buf_puts(&out, "keep");
	is_int(ag_return_to(&out, BASE, "//evil.com"), AG_ERR_DENIED,
	    "refused with content in out");
	is_str(ag_buf_str(&out), "keep", "out untouched on refusal");
	is_int(ag_return_to(&out, BASE, "/x"), AG_OK, "accepted after");
	is_str(ag_buf_str(&out), "keep/x", "output appended");

	/* A bounded out that is too small: an error, out untouched. */
	ag_buf_free(&out);
	ag_buf_init(&out, 3);
	is_int(ag_return_to(&out, BASE, "/abcdef"), AG_ERR_LIMIT,
	    "out limit reported");
	is_int(out.len, 0, "out untouched on limit");
	ag_buf_free(&out);

	/* Same checks with the other base. */
	ag_buf_init(&out, 0);
	is_int(ag_return_to(&out, "https://app.example.com/sub/",
	    "%2f%2fevil.com"), AG_ERR_DENIED, "sub base: %2f%2f refused");
	is_int(ag_return_to(&out, "https://app.example.com/sub/",
	    "..//evil.com"), AG_ERR_DENIED, "sub base: ..// refused");
	is_int(ag_return_to(&out, "https://app.example.com/sub/",
	    "../..//evil.com"), AG_ERR_DENIED, "sub base: ../..// refused");
	is_int(ag_return_to(&out, "https://app.example.com/sub/",
	    "//evil.com"), AG_ERR_DENIED, "sub base: // refused");
	is_int(ag_return_to(&out, "http://localhost:3000/",
	    "http://localhost/"), AG_ERR_DENIED, "port must match");
	is_int(ag_return_to(&out, "http://localhost:3000/",
	    "https://localhost:3000/"), AG_ERR_DENIED, "scheme must match");
	ag_buf_free(&out);
}

/*
 * Every short string over a hostile alphabet: nothing accepted may look
 * like anything but a same-origin path.
 */
static void
test_return_to_exhaustive(void)
{
	static const char alpha[] = "/\\.%2fe:@?#a5cH";
	struct ag_buf out;
	char s[8];
	size_t na = sizeof(alpha) - 1, len, i, total = 0, bad = 0, k;
	uint64_t idx, max;

	ag_buf_init(&out, 0);
	for (len = 1; len <= 5; len++) {
		for (max = 1, i = 0; i < len; i++)
			max *= na;
		for (idx = 0; idx < max; idx++) {
			k = idx;
			for (i = 0; i < len; i++) {
				s[i] = alpha[k % na];
				k /= na;
			}
			s[len] = '\0';
			ag_buf_reset(&out);
			total++;
			if (ag_return_to(&out, BASE, s) == AG_OK &&
			    !safe_output(ag_buf_str(&out))) {
				if (bad++ < 5)
					printf("# unsafe: '%s' -> '%s'\n", s,
					    ag_buf_str(&out));
			}
		}
	}
	ag_buf_free(&out);
	is_int(bad, 0, "exhaustive short candidates: outputs all safe");
	printf("# %zu candidates\n", total);
}

static void
test_params(void)
{
	struct ag_params p;
	char *big;
	size_t i;

	memset(&p, 0, sizeof(p));
	is_int(ag_params_parse("a=1&b=x+y&c=%41%2f&d", 20, AG_MAX_QUERY, &p),
	    AG_OK, "simple query parses");
	is_int(p.n, 4, "four params");
	is_str(ag_params_get(&p, "a"), "1", "a=1");
	is_str(ag_params_get(&p, "b"), "x y", "plus is space");
	is_str(ag_params_get(&p, "c"), "A/", "escapes decoded");
	is_str(ag_params_get(&p, "d"), "", "no '=' is empty value");
	is_str(ag_params_get(&p, "e"), NULL, "absent is NULL");
	ag_params_free(&p);
	ag_params_free(&p);
	ag_params_free(NULL);

	is_int(ag_params_parse("state=a&code=c&state=b", 22, 100, &p), AG_OK,
	    "duplicates parse");
	is_int(ag_params_count(&p, "state"), 2, "duplicate counted");
	is_int(ag_params_count(&p, "code"), 1, "single counted");
	is_int(ag_params_count(&p, "nope"), 0, "absent counted");
	is_str(ag_params_get(&p, "state"), "a", "get returns first");
	ag_params_free(&p);

	is_int(ag_params_parse("&&&", 3, 100, &p), AG_OK, "&&& parses");
	is_int(p.n, 0, "&&& is empty");
	ag_params_free(&p);
	is_int(ag_params_parse("=", 1, 100, &p), AG_OK, "= parses");
	ok(p.n == 1 && strcmp(p.v[0].name, "") == 0 &&
	    strcmp(p.v[0].value, "") == 0, "= is empty name and value");
	ag_params_free(&p);
	is_int(ag_params_parse("a==b", 4, 100, &p), AG_OK, "a==b parses");
	is_str(ag_params_get(&p, "a"), "=b", "a==b: value is =b");
	ag_params_free(&p);
	is_int(ag_params_parse("", 0, 100, &p), AG_OK, "empty parses");
	is_int(p.n, 0, "empty has none");
	is_int(ag_params_parse(NULL, 0, 100, &p), AG_OK, "NULL, 0 parses");
	is_int(ag_params_parse("a=%C3%A9", 8, 100, &p), AG_OK, "UTF-8 escape");
	is_str(ag_params_get(&p, "a"), "\xc3\xa9", "UTF-8 decoded");
	ag_params_free(&p);

	is_int(ag_params_parse("a=%", 3, 100, &p), AG_ERR_PARSE, "% refused");
	ok(p.n == 0 && p.v == NULL, "params empty after error");
	is_int(ag_params_parse("a=%G1", 5, 100, &p), AG_ERR_PARSE,
	    "%G1 refused");
	is_int(ag_params_parse("a=%0", 4, 100, &p), AG_ERR_PARSE, "%0 refused");
	is_int(ag_params_parse("a=%00", 5, 100, &p), AG_ERR_PARSE,
	    "%00 refused");
	is_int(ag_params_parse("%00=a", 5, 100, &p), AG_ERR_PARSE,
	    "%00 in name refused");
	is_int(ag_params_parse("a=b\0c", 5, 100, &p), AG_ERR_PARSE,
	    "raw NUL refused");
	is_int(ag_params_parse("x=1&a=%4", 8, 100, &p), AG_ERR_PARSE,
	    "truncated escape at the end refused");
	/* n bounds the read: the escape continues past n. */
	is_int(ag_params_parse("a=%41", 4, 100, &p), AG_ERR_PARSE,
	    "escape cut by n refused");
	is_int(ag_params_parse("a=b", 3, 2, &p), AG_ERR_LIMIT,
	    "n > max refused");

	/* AG_MAX_PARAMS exactly, one more, and 10,000. */
	big = malloc(10000 * 4 + 1);
	for (i = 0; i < 10000; i++)
		memcpy(big + i * 4, "a=1&", 4);
	big[10000 * 4] = '\0';
	is_int(ag_params_parse(big, AG_MAX_PARAMS * 4 - 1, 1 << 20, &p), AG_OK,
	    "AG_MAX_PARAMS params accepted");
	is_int(p.n, AG_MAX_PARAMS, "... all of them");
	ag_params_free(&p);
	is_int(ag_params_parse(big, AG_MAX_PARAMS * 4 + 3, 1 << 20, &p),
	    AG_ERR_LIMIT, "AG_MAX_PARAMS + 1 refused");
	ok(p.n == 0 && p.v == NULL, "params empty after limit");
	is_int(ag_params_parse(big, 10000 * 4, 1 << 20, &p), AG_ERR_LIMIT,
	    "10,000 params refused");
	is_int(ag_params_parse(big, 10000 * 4, AG_MAX_QUERY, &p), AG_ERR_LIMIT,
	    "huge input refused by max");
	free(big);

	big = malloc(AG_MAX_QUERY);
	memset(big, 'a', AG_MAX_QUERY);
	big[0] = 'k';
	big[1] = '=';
	is_int(ag_params_parse(big, AG_MAX_QUERY, AG_MAX_QUERY, &p), AG_OK,
	    "AG_MAX_QUERY bytes accepted");
	is_int(strlen(ag_params_get(&p, "k")), AG_MAX_QUERY - 2,
	    "long value whole");
	ag_params_free(&p);
	free(big);
}

static void
test_coding(void)
{
	struct ag_buf b;

	ag_buf_init(&b, 0);
	is_int(ag_url_encode(&b, "aZ09-._~ /?&=+%\xc3\xa9"), AG_OK, "encode");
	is_str(ag_buf_str(&b), "aZ09-._~%20%2F%3F%26%3D%2B%25%C3%A9",
	    "encoded bytes");
	ag_buf_reset(&b);
	is_int(ag_form_add(&b, "grant_type", "authorization_code"), AG_OK,
	    "form first");
	is_int(ag_form_add(&b, "redirect_uri", "https://a/cb?x=1"), AG_OK,
	    "form second");
	is_int(ag_form_add(&b, "empty", NULL), AG_OK, "form NULL value");
	is_str(ag_buf_str(&b), "grant_type=authorization_code&"
	    "redirect_uri=https%3A%2F%2Fa%2Fcb%3Fx%3D1&empty=", "form body");

	ag_buf_reset(&b);
	is_int(ag_url_decode(&b, "a+b%20c%2F", 10, 1), AG_OK, "decode plus");
	is_str(ag_buf_str(&b), "a b c/", "decoded with plus");
	ag_buf_reset(&b);
	is_int(ag_url_decode(&b, "a+b", 3, 0), AG_OK, "decode no plus");
	is_str(ag_buf_str(&b), "a+b", "plus kept");
	ag_buf_reset(&b);
	ag_buf_puts(&b, "x");
	is_int(ag_url_decode(&b, "ab%", 3, 0), AG_ERR_PARSE, "decode %");
	is_str(ag_buf_str(&b), "x", "buffer untouched on error");
	is_int(ag_url_decode(&b, "ab%4g", 5, 0), AG_ERR_PARSE, "decode %4g");
	is_int(ag_url_decode(&b, "%00", 3, 0), AG_ERR_PARSE, "decode %00");
	is_int(ag_url_decode(&b, "a\0b", 3, 0), AG_ERR_PARSE, "decode NUL");
	is_str(ag_buf_str(&b), "x", "buffer still untouched");
	ag_buf_free(&b);

	ag_buf_init(&b, 4);
	is_int(ag_url_encode(&b, "a b"), AG_ERR_LIMIT, "encode over limit");
	is_int(b.len, 0, "encode rolled back");
	is_int(ag_form_add(&b, "ab", "cd"), AG_ERR_LIMIT, "form over limit");
	is_int(b.len, 0, "form rolled back");
	ag_buf_free(&b);
}

static void
origin_is(const char *url, int want_r, const char *want, const char *name)
{
	struct ag_buf b;
	int r;

	ag_buf_init(&b, 0);
	r = ag_url_origin(&b, url);
	if (!ok(r == want_r && (want == NULL || strcmp(ag_buf_str(&b),
	    want) == 0), name))
		printf("#   %s: got %s '%s'\n", url, ag_strerror(r),
		    ag_buf_str(&b));
	if (want == NULL)
		is_int(b.len, 0, "no origin output on error");
	ag_buf_free(&b);
}

static void
test_origin(void)
{
	origin_is("https://app.example.com/x?y#z", AG_OK,
	    "https://app.example.com", "origin https");
	origin_is("HTTPS://App.Example.COM:443", AG_OK,
	    "https://app.example.com", "origin lower-cased, default port");
	origin_is("http://localhost:3000/", AG_OK, "http://localhost:3000",
	    "origin with port");
	origin_is("http://h:80", AG_OK, "http://h", "http default port");
	origin_is("https://h:80/", AG_OK, "https://h:80", "https port 80");
	origin_is("https://[::1]:8443/", AG_OK, "https://[::1]:8443",
	    "origin IPv6");
	origin_is("https://h?q", AG_OK, "https://h", "origin then query");
	origin_is("ftp://h/", AG_ERR_PARSE, NULL, "ftp refused");
	origin_is("https:/h/", AG_ERR_PARSE, NULL, "one slash refused");
	origin_is("https://u@h/", AG_ERR_PARSE, NULL, "userinfo refused");
	origin_is("https://u:p@h/", AG_ERR_PARSE, NULL, "userinfo 2 refused");
	origin_is("https:///", AG_ERR_PARSE, NULL, "empty host refused");
	origin_is("https://h:/", AG_ERR_PARSE, NULL, "empty port refused");
	origin_is("https://h:65536/", AG_ERR_PARSE, NULL, "big port refused");
	origin_is("https://h:1x/", AG_ERR_PARSE, NULL, "bad port refused");
	origin_is("https://h%2e/", AG_ERR_PARSE, NULL, "% in host refused");
	origin_is("https://h\\@e/", AG_ERR_PARSE, NULL, "backslash refused");
	origin_is("https://h /", AG_ERR_PARSE, NULL, "space refused");
	origin_is("https://[::1/", AG_ERR_PARSE, NULL, "open bracket refused");
	origin_is("https://\xc3\xa9/", AG_ERR_PARSE, NULL,
	    "non-ASCII refused");
	origin_is("/x", AG_ERR_PARSE, NULL, "relative refused");
	origin_is(NULL, AG_ERR_PARSE, NULL, "NULL refused");
}

int
main(void)
{
	test_params();
	test_coding();
	test_origin();
	test_return_to_edges();
	test_payloads();
	test_good();
	test_return_to_exhaustive();
	return tap_done();
}
