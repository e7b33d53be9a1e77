/*
 * test-session.c -- lib/session.c, lib/txn.c and lib/req.c.
 *
 * The app is built by hand (no config parser).  Cookies travel the way
 * a browser carries them: the Set-Cookie lines of one response are
 * applied to a little cookie jar, which becomes the Cookie header of
 * the next request and goes through ag_cookies_parse().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "app.h"
#include "buf.h"
#include "cookie.h"
#include "crypto.h"
#include "err.h"
#include "json.h"
#include "oidc.h"
#include "rand.h"
#include "req.h"
#include "session.h"
#include "tap.h"
#include "txn.h"

#define T0		1700000000LL	/* the pinned clock */
#define SECRET		"0123456789abcdef0123456789abcdef-test-secret"
#define SECRET2		"another-secret-another-secret-another-secret"
#define BR_MAX		256

static char cookie_name[] = "__session";
static char cookie_path[] = "/";
static char secret[] = SECRET;
static char secret2[] = SECRET2;
static char keep_sub[] = "sub", keep_name[] = "name",
    keep_email[] = "email", keep_big[] = "big";
static char *keep[] = { keep_sub, keep_name, keep_email, keep_big };

/* A browser's cookie store for one site. */
struct browser {
	char	*name[BR_MAX];
	char	*value[BR_MAX];
	size_t	 n;
};

static void
app_init(struct ag_app *app, char *sec)
{
	memset(app, 0, sizeof(*app));
	app->conf.cookie_name = cookie_name;
	app->conf.cookie_path = cookie_path;
	app->conf.rolling = 1;
	app->conf.absolute_duration = 259200;
	app->conf.inactivity_duration = 86400;
	app->conf.claims_keep.v = keep;
	app->conf.claims_keep.n = sizeof(keep) / sizeof(keep[0]);
	app->conf.secret = sec;
	app->conf.cookie_same_site = AG_SAME_SITE_LAX;
	if (ag_cookie_key(sec, app->key) != AG_OK) {
		printf("Bail out! cannot derive the cookie key\n");
		exit(1);
	}
}

static void
br_del(struct browser *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->name[i], name) == 0) {
			free(b->name[i]);
			free(b->value[i]);
			b->name[i] = b->name[b->n - 1];
			b->value[i] = b->value[b->n - 1];
			b->n--;
			return;
		}
}

static void
br_set(struct browser *b, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->name[i], name) == 0) {
			free(b->value[i]);
			b->value[i] = strdup(value);
			return;
		}
	if (b->n == BR_MAX)
		return;
	b->name[b->n] = strdup(name);
	b->value[b->n] = strdup(value);
	b->n++;
}

static void
br_clear(struct browser *b)
{
	while (b->n > 0)
		br_del(b, b->name[0]);
}

/*
 * Apply every "Set-Cookie: name=value; ..." line of w; a Max-Age=0
 * line deletes.  Returns the number of Set-Cookie lines.
 */
static int
br_apply(struct browser *b, const struct ag_resp *w)
{
	const char *p = ag_buf_str(&w->head), *eol, *eq, *semi;
	char *name, *value, *line;
	int n = 0;

	for (; *p != '\0'; p = eol + 2) {
		if ((eol = strstr(p, "\r\n")) == NULL)
			break;
		if (strncmp(p, "Set-Cookie: ", 12) != 0)
			continue;
		n++;
		line = strndup(p + 12, (size_t)(eol - p - 12));
		eq = strchr(line, '=');
		semi = strchr(line, ';');
		if (eq == NULL || semi == NULL || semi < eq) {
			free(line);
			continue;
		}
		name = strndup(line, (size_t)(eq - line));
		value = strndup(eq + 1, (size_t)(semi - eq - 1));
		if (strstr(semi, "; Max-Age=0") != NULL)
			br_del(b, name);
		else
			br_set(b, name, value);
		free(name);
		free(value);
		free(line);
	}
	return n;
}

/* The Cookie header the browser sends, parsed by the real parser. */
static void
br_jar(const struct browser *b, struct ag_cookies *jar)
{
	struct ag_buf h;
	size_t i;

	ag_buf_init(&h, 0);
	for (i = 0; i < b->n; i++)
		ag_buf_printf(&h, "%s%s=%s", i ? "; " : "", b->name[i],
		    b->value[i]);
	if (ag_cookies_parse(ag_buf_str(&h), h.len, jar) != AG_OK)
		memset(jar, 0, sizeof(*jar));
	ag_buf_free(&h);
}

static const char *
br_get(const struct browser *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->name[i], name) == 0)
			return b->value[i];
	return NULL;
}

/* The number of header lines of w holding both needles (b may be NULL). */
static int
lines_with(const struct ag_resp *w, const char *a, const char *b)
{
	const char *p = ag_buf_str(&w->head), *eol;
	char *line;
	int n = 0;

	for (; (eol = strstr(p, "\r\n")) != NULL; p = eol + 2) {
		line = strndup(p, (size_t)(eol - p));
		if (strstr(line, a) != NULL && (b == NULL ||
		    strstr(line, b) != NULL))
			n++;
		free(line);
	}
	return n;
}

/* The value of the first Set-Cookie line for name (static storage). */
static const char *
set_value(const struct ag_resp *w, const char *name)
{
	static char v[AG_MAX_COOKIE_VALUE + 1];
	struct ag_buf pfx;
	const char *p, *semi;
	size_t n;

	ag_buf_init(&pfx, 0);
	ag_buf_printf(&pfx, "Set-Cookie: %s=", name);
	p = strstr(ag_buf_str(&w->head), ag_buf_str(&pfx));
	if (p == NULL) {
		ag_buf_free(&pfx);
		return NULL;
	}
	p += pfx.len;
	ag_buf_free(&pfx);
	semi = strchr(p, ';');
	n = semi != NULL ? (size_t)(semi - p) : strlen(p);
	if (n > AG_MAX_COOKIE_VALUE)
		n = AG_MAX_COOKIE_VALUE;
	memcpy(v, p, n);
	v[n] = '\0';
	return v;
}

/* A session as the SDK stores it, with an optional big claim. */
static void
make_session(struct ag_session *s, const char *sub, size_t big,
    int64_t created)
{
	struct ag_buf b;
	char *pad;

	memset(s, 0, sizeof(*s));
	pad = calloc(1, big + 1);
	memset(pad, 'x', big);
	ag_buf_init(&b, 0);
	ag_buf_puts(&b, "{\"user\":{");
	if (sub != NULL)
		ag_buf_printf(&b, "\"sub\":\"%s\",", sub);
	ag_buf_printf(&b, "\"name\":\"Jane\",\"big\":\"%s\"},"
	    "\"tokenSet\":{\"accessToken\":\"at-1\",\"expiresAt\":%lld},"
	    "\"internal\":{\"sid\":\"sid-1\",\"createdAt\":%lld}}", pad,
	    (long long)(created + 3600), (long long)created);
	if (ag_json_parse_object(ag_buf_str(&b), b.len, 1 << 20,
	    &s->data) != AG_OK) {
		printf("Bail out! cannot parse the test session\n");
		exit(1);
	}
	s->created_at = created;
	ag_buf_free(&b);
	free(pad);
}

/* Write s into a fresh response and apply it to br.  Returns r. */
static int
write_into(struct ag_app *app, struct browser *br,
    struct ag_session *s, struct ag_resp *w)
{
	struct ag_cookies jar;
	int r;

	br_jar(br, &jar);
	ag_resp_init(w);
	r = ag_session_write(app, &jar, s, w);
	br_apply(br, w);
	ag_cookies_free(&jar);
	return r;
}

static int
read_from(struct ag_app *app, const struct browser *br,
    struct ag_session *s)
{
	struct ag_cookies jar;
	int r;

	br_jar(br, &jar);
	r = ag_session_read(app, &jar, s);
	ag_cookies_free(&jar);
	return r;
}

/* Read a Cookie header literally. */
static int
read_header(struct ag_app *app, const char *hdr, struct ag_session *s)
{
	struct ag_cookies jar;
	int r;

	ag_cookies_parse(hdr, strlen(hdr), &jar);
	r = ag_session_read(app, &jar, s);
	ag_cookies_free(&jar);
	return r;
}

/* A "__session=<sealed>" header for payload sealed with exp. */
static char *
sealed_header(const struct ag_app *app, const char *json, int64_t exp)
{
	struct ag_buf b;
	ag_json *p = NULL;

	ag_buf_init(&b, 0);
	ag_buf_puts(&b, "__session=");
	if (ag_json_parse_object(json, strlen(json), 1 << 20, &p) != AG_OK ||
	    ag_seal(app->key, p, exp, &b) != AG_OK) {
		printf("Bail out! cannot seal\n");
		exit(1);
	}
	ag_json_free(p);
	return ag_buf_take(&b);
}

static void
test_max_age(void)
{
	struct ag_app app;

	app_init(&app, secret);
	is_int(ag_session_max_age(&app.conf, T0, T0), 86400,
	    "max_age: rolling, fresh: inactivity");
	is_int(ag_session_max_age(&app.conf, T0, T0 + 200000), 259200 - 200000,
	    "max_age: rolling, near the end: absolute ceiling");
	is_int(ag_session_max_age(&app.conf, T0, T0 + 259200 - 86400), 86400,
	    "max_age: rolling, inactivity == remaining absolute");
	is_int(ag_session_max_age(&app.conf, T0, T0 + 259200), 0,
	    "max_age: rolling, at the absolute end: 0");
	is_int(ag_session_max_age(&app.conf, T0, T0 + 999999), 0,
	    "max_age: rolling, past the end: 0, never negative");
	app.conf.rolling = 0;
	is_int(ag_session_max_age(&app.conf, T0, T0), 259200,
	    "max_age: not rolling: absolute from login");
	is_int(ag_session_max_age(&app.conf, T0, T0 + 1000), 259200 - 1000,
	    "max_age: not rolling: counted from created_at, not extended");
	is_int(ag_session_max_age(&app.conf, T0, T0 + 259201), 0,
	    "max_age: not rolling, past the end: 0");
	is_int(ag_session_max_age(&app.conf, T0, T0 - 10), 259210,
	    "max_age: clock before created_at still positive");
	app.conf.rolling = 1;
	app.conf.absolute_duration = 0;
	is_int(ag_session_max_age(&app.conf, T0, T0), 0,
	    "max_age: absolute 0: 0");

	app_init(&app, secret);
	ok(ag_session_should_roll(&app.conf, T0, T0 + 60),
	    "should_roll: 60 s later rolls (inactivity/10 capped at 60)");
	ok(!ag_session_should_roll(&app.conf, T0, T0 + 59),
	    "should_roll: 59 s later does not");
	ok(!ag_session_should_roll(&app.conf, T0, T0 - 100),
	    "should_roll: earlier does not");
	app.conf.inactivity_duration = 300;
	ok(ag_session_should_roll(&app.conf, T0, T0 + 30),
	    "should_roll: inactivity 300: step 30");
	ok(!ag_session_should_roll(&app.conf, T0, T0 + 29),
	    "should_roll: inactivity 300: 29 s does not");
	app.conf.rolling = 0;
	ok(!ag_session_should_roll(&app.conf, T0, T0 + 100000),
	    "should_roll: never when not rolling");
}

static void
test_round_trip(void)
{
	struct ag_app app;
	struct browser br;
	struct ag_session s, got;
	struct ag_resp w;
	int r;

	memset(&br, 0, sizeof(br));
	app_init(&app, secret);
	ag_clock_set(T0);
	make_session(&s, "auth0|123", 10, T0);
	r = write_into(&app, &br, &s, &w);
	is_int(r, AG_OK, "write: small session");
	is_int(s.exp, T0 + 86400, "write: exp = now + max_age");
	is_int(lines_with(&w, "Set-Cookie: __session=", NULL), 1,
	    "write: one __session cookie");
	is_int(lines_with(&w, "Set-Cookie: __session=", "; Max-Age=86400"), 1,
	    "write: Max-Age is the session's max_age");
	is_int(lines_with(&w, "Set-Cookie: __session=", "; Path=/;"), 1,
	    "write: Path=/");
	is_int(lines_with(&w, "Set-Cookie: __session=", "; HttpOnly"), 1,
	    "write: HttpOnly");
	is_int(lines_with(&w, "Set-Cookie: __session=", "SameSite=lax"), 1,
	    "write: SameSite=lax");
	is_int(lines_with(&w, "Set-Cookie: __session__", NULL), 0,
	    "write: no chunks for a small session");
	is_int(lines_with(&w, "Cache-Control: private, no-cache, no-store", NULL),
	    1, "write: no-cache headers");
	ok(strlen(br_get(&br, "__session")) <= AG_COOKIE_CHUNK_SIZE,
	    "write: value within the chunk size");
	ag_resp_free(&w);

	r = read_from(&app, &br, &got);
	is_int(r, AG_OK, "read: round trip");
	is_str(ag_json_get_str(ag_session_user(&got), "sub"), "auth0|123",
	    "read: user.sub");
	is_str(ag_session_token(&got, "accessToken"), "at-1",
	    "read: tokenSet.accessToken");
	is_str(ag_session_sid(&got), "sid-1", "read: internal.sid");
	is_int(got.exp, T0 + 86400, "read: exp of the cookie");
	is_int(got.created_at, T0, "read: created_at");
	ok(ag_json_get(got.data, "exp") == NULL, "read: no exp member in data");
	ag_session_free(&got);

	/* Leeway: exp + 15 s. */
	ag_clock_set(T0 + 86400 + 14);
	is_int(read_from(&app, &br, &got), AG_OK,
	    "read: 14 s past exp, within the 15 s leeway");
	ag_session_free(&got);
	ag_clock_set(T0 + 86400 + 15);
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "read: exp + 15 s: expired");
	ag_clock_set(T0 + 86400 + 3600);
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "read: long expired");
	ok(got.data == NULL, "read: failed read leaves no data");

	/* Rolling: a later write extends exp. */
	ag_clock_set(T0 + 1000);
	r = write_into(&app, &br, &s, &w);
	is_int(s.exp, T0 + 1000 + 86400, "rolling write: exp moves");
	ag_resp_free(&w);
	ag_clock_set(T0 + 86400 + 100);
	is_int(read_from(&app, &br, &got), AG_OK,
	    "rolling write: still valid past the first exp");
	ag_session_free(&got);

	/* Past the absolute limit the write clears instead. */
	ag_clock_set(T0 + 259200);
	r = write_into(&app, &br, &s, &w);
	is_int(r, AG_OK, "write past absolute: AG_OK");
	is_int(lines_with(&w, "Set-Cookie: __session=;", "Max-Age=0"), 1,
	    "write past absolute: deletes the cookie");
	ok(br_get(&br, "__session") == NULL,
	    "write past absolute: browser dropped it");
	ag_resp_free(&w);

	ag_session_free(&s);
	br_clear(&br);
	ag_clock_set(T0);
}

static void
test_chunks(void)
{
	struct ag_app app;
	struct browser br, saved;
	struct ag_session s, got;
	struct ag_resp w;
	struct ag_cookies jar;
	char name[64];
	size_t i, n, big, okbig;
	int r, bad;

	memset(&br, 0, sizeof(br));
	app_init(&app, secret);
	ag_clock_set(T0);

	/* A plain cookie first, then a 10 KB claim. */
	make_session(&s, "auth0|1", 10, T0);
	write_into(&app, &br, &s, &w);
	ag_resp_free(&w);
	ag_session_free(&s);
	make_session(&s, "auth0|1", 10 * 1024, T0);
	r = write_into(&app, &br, &s, &w);
	is_int(r, AG_OK, "chunks: 10 KB claim written");
	n = (size_t)lines_with(&w, "Set-Cookie: __session__", "Max-Age=86400");
	ok(n >= 3 && n <= 5, "chunks: 3..5 chunk cookies for 10 KB");
	for (i = 0, bad = 0; i < n; i++) {
		const char *v;

		snprintf(name, sizeof(name), "__session__%zu", i);
		v = set_value(&w, name);
		if (v == NULL || strlen(v) > AG_COOKIE_CHUNK_SIZE ||
		    strlen(v) == 0)
			bad++;
		if (i + 1 < n && v != NULL && strlen(v) != AG_COOKIE_CHUNK_SIZE)
			bad++;
	}
	is_int(bad, 0, "chunks: __session__0..N-1, full 3500 except the last");
	is_int(lines_with(&w, "Set-Cookie: __session=;", "Max-Age=0"), 1,
	    "chunks: the plain cookie of the request is deleted");
	ok(br_get(&br, "__session") == NULL, "chunks: browser has no plain");
	ag_resp_free(&w);
	r = read_from(&app, &br, &got);
	is_int(r, AG_OK, "chunks: read back");
	is_int(ag_json_str_len(ag_json_get(ag_session_user(&got), "big")),
	    10 * 1024, "chunks: big claim intact");
	ag_session_free(&got);

	/* Garbage chunk names beside valid chunks are ignored. */
	memset(&saved, 0, sizeof(saved));
	for (i = 0; i < br.n; i++)
		br_set(&saved, br.name[i], br.value[i]);
	br_set(&br, "__session__01", "AAAA");
	br_set(&br, "__session__-1", "AAAA");
	br_set(&br, "__session__99999999", "AAAA");
	br_set(&br, "__session__x", "AAAA");
	br_set(&br, "__session__", "AAAA");
	br_set(&br, "__session__0x", "AAAA");
	br_set(&br, "__session___1", "AAAA");
	br_set(&br, "__session__18446744073709551617", "AAAA");
	is_int(read_from(&app, &br, &got), AG_OK,
	    "chunks: garbage chunk names ignored");
	ag_session_free(&got);
	br_clear(&br);

	/* Only garbage: no session, no crash. */
	is_int(read_header(&app, "__session__01=a; __session__-1=b; "
	    "__session__99999999=c; __session__x=d; __session__=e",
	    &got), AG_ERR_NOTFOUND, "chunks: only garbage names: no session");
	is_int(read_header(&app, "__session__0=", &got), AG_ERR_NOTFOUND,
	    "chunks: one empty chunk: no session");
	is_int(read_header(&app, "__session=", &got), AG_ERR_NOTFOUND,
	    "chunks: empty plain cookie: no session");
	is_int(read_header(&app, "__session__999=a", &got), AG_ERR_NOTFOUND,
	    "chunks: index 999 over the cap: no session");
	is_int(read_header(&app, "__session__10=a; __session__0=b", &got),
	    AG_ERR_NOTFOUND, "chunks: index 10 over the cap: no session");

	/* An empty plain cookie beside chunks: the chunks count. */
	for (i = 0; i < saved.n; i++)
		br_set(&br, saved.name[i], saved.value[i]);
	br_set(&br, "__session", "");
	is_int(read_from(&app, &br, &got), AG_OK,
	    "chunks: empty plain cookie beside chunks: chunks read");
	ag_session_free(&got);
	br_clear(&br);

	/* A gap in the indices. */
	for (i = 0; i < saved.n; i++)
		if (strcmp(saved.name[i], "__session__1") != 0)
			br_set(&br, saved.name[i], saved.value[i]);
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "chunks: gap (no __session__1): no session");
	br_clear(&br);
	for (i = 0; i < saved.n; i++)
		if (strcmp(saved.name[i], "__session__0") != 0)
			br_set(&br, saved.name[i], saved.value[i]);
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "chunks: no __session__0: no session");
	br_clear(&br);
	/* Chunks swapped: decrypt fails. */
	for (i = 0; i < saved.n; i++) {
		const char *nm = saved.name[i];

		if (strcmp(nm, "__session__0") == 0)
			nm = "__session__1";
		else if (strcmp(nm, "__session__1") == 0)
			nm = "__session__0";
		br_set(&br, nm, saved.value[i]);
	}
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "chunks: swapped chunks: no session");
	br_clear(&br);

	/* A smaller write deletes the stale chunks. */
	for (i = 0; i < saved.n; i++)
		br_set(&br, saved.name[i], saved.value[i]);
	br_set(&br, "__session__x", "junk");
	ag_session_free(&s);
	make_session(&s, "auth0|1", 4000, T0);
	r = write_into(&app, &br, &s, &w);
	is_int(r, AG_OK, "shrink: 4 KB session written");
	is_int(lines_with(&w, "Set-Cookie: __session__0=", "Max-Age=86400"), 1,
	    "shrink: chunk 0 set");
	is_int(lines_with(&w, "Set-Cookie: __session__1=", "Max-Age=86400"), 1,
	    "shrink: chunk 1 set");
	bad = 0;
	for (i = 2; i < n; i++) {
		snprintf(name, sizeof(name), "Set-Cookie: __session__%zu=;", i);
		if (lines_with(&w, name, "Max-Age=0") != 1)
			bad++;
	}
	is_int(bad, 0, "shrink: stale chunks 2..N-1 deleted with Max-Age=0");
	is_int(lines_with(&w, "Set-Cookie: __session__x", NULL), 0,
	    "shrink: a non-chunk name is left alone");
	ag_resp_free(&w);
	is_int(read_from(&app, &br, &got), AG_OK, "shrink: reads back");
	ag_session_free(&got);

	/* Then down to one plain cookie: every chunk deleted. */
	ag_session_free(&s);
	make_session(&s, "auth0|1", 10, T0);
	r = write_into(&app, &br, &s, &w);
	is_int(lines_with(&w, "Set-Cookie: __session=", "Max-Age=86400"), 1,
	    "unchunk: plain cookie set");
	is_int(lines_with(&w, "Set-Cookie: __session__0=;", "Max-Age=0"), 1,
	    "unchunk: chunk 0 deleted");
	is_int(lines_with(&w, "Set-Cookie: __session__1=;", "Max-Age=0"), 1,
	    "unchunk: chunk 1 deleted");
	ag_resp_free(&w);
	is_int(read_from(&app, &br, &got), AG_OK, "unchunk: reads back");
	is_int(ag_json_str_len(ag_json_get(ag_session_user(&got), "big")), 10,
	    "unchunk: the small session, not the old chunks");
	ag_session_free(&got);
	ag_session_free(&s);

	/*
	 * The chunk cap: grow the claim until the write is refused; the
	 * last accepted size uses exactly AG_MAX_SESSION_CHUNKS cookies.
	 */
	okbig = 0;
	for (big = 25000; big < 30000; big += 16) {
		struct browser tmp;

		memset(&tmp, 0, sizeof(tmp));
		make_session(&s, "auth0|1", big, T0);
		r = write_into(&app, &tmp, &s, &w);
		ag_session_free(&s);
		if (r != AG_OK) {
			is_int(r, AG_ERR_LIMIT, "cap: AG_ERR_LIMIT past the cap");
			is_int(lines_with(&w, "Set-Cookie:", NULL), 0,
			    "cap: nothing written on AG_ERR_LIMIT");
			ag_resp_free(&w);
			br_clear(&tmp);
			break;
		}
		okbig = big;
		ag_resp_free(&w);
		br_clear(&tmp);
	}
	ok(okbig > 0 && big < 30000, "cap: a refused size was found");
	for (big = okbig; big < okbig + 16; big++) {
		make_session(&s, "auth0|1", big, T0);
		br_clear(&br);
		r = write_into(&app, &br, &s, &w);
		ag_session_free(&s);
		if (r != AG_OK) {
			ag_resp_free(&w);
			break;
		}
		okbig = big;
		ag_resp_free(&w);
	}
	make_session(&s, "auth0|1", okbig, T0);
	br_clear(&br);
	r = write_into(&app, &br, &s, &w);
	is_int(r, AG_OK, "cap: largest accepted session");
	is_int(lines_with(&w, "Set-Cookie: __session__", "Max-Age=86400"),
	    AG_MAX_SESSION_CHUNKS, "cap: uses exactly the maximum of chunks");
	ag_resp_free(&w);
	is_int(read_from(&app, &br, &got), AG_OK, "cap: reads back");
	ag_session_free(&got);
	ag_session_free(&s);

	/* One byte more: refused, and the old session is untouched. */
	make_session(&s, "auth0|2", okbig + 1, T0);
	r = write_into(&app, &br, &s, &w);
	is_int(r, AG_ERR_LIMIT, "cap: one more byte: AG_ERR_LIMIT");
	is_int(lines_with(&w, "Set-Cookie:", NULL), 0,
	    "cap: one more byte: no Set-Cookie at all");
	ag_resp_free(&w);
	is_int(read_from(&app, &br, &got), AG_OK,
	    "cap: the previous session still reads");
	is_str(ag_json_get_str(ag_session_user(&got), "sub"), "auth0|1",
	    "cap: and is not the refused one");
	ag_session_free(&got);
	ag_session_free(&s);

	/* Clear deletes the plain cookie and every chunk. */
	br_jar(&br, &jar);
	ag_resp_init(&w);
	is_int(ag_session_clear(&app, &jar, &w), AG_OK, "clear: AG_OK");
	is_int(lines_with(&w, "Set-Cookie: __session", "Max-Age=0"),
	    AG_MAX_SESSION_CHUNKS + 1, "clear: plain + every chunk deleted");
	br_apply(&br, &w);
	ok(br.n == 0, "clear: browser holds nothing");
	ag_resp_free(&w);
	ag_cookies_free(&jar);

	br_clear(&br);
	br_clear(&saved);
}

static void
test_refusals(void)
{
	struct ag_app app, other;
	struct browser br;
	struct ag_session s, got;
	struct ag_resp w;
	char *hdr, *v;
	size_t len, pos[5];
	int i, bad;

	memset(&br, 0, sizeof(br));
	app_init(&app, secret);
	app_init(&other, secret2);
	ag_clock_set(T0);

	/* Minted with another secret. */
	make_session(&s, "auth0|1", 10, T0);
	write_into(&other, &br, &s, &w);
	ag_resp_free(&w);
	is_int(read_from(&other, &br, &got), AG_OK,
	    "other secret: reads with its own key");
	ag_session_free(&got);
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "other secret: refused with ours");
	br_clear(&br);

	/* Bit flips in header, IV, ciphertext, tag. */
	write_into(&app, &br, &s, &w);
	ag_resp_free(&w);
	v = strdup(br_get(&br, "__session"));
	len = strlen(v);
	pos[0] = 3;
	pos[1] = strchr(v, '.') - v + 3;
	pos[2] = len / 2;
	pos[3] = len - 3;
	pos[4] = len - 1;
	bad = 0;
	for (i = 0; i < 5; i++) {
		char *t = strdup(v);

		t[pos[i]] = t[pos[i]] == 'A' ? 'B' : 'A';
		br_set(&br, "__session", t);
		if (read_from(&app, &br, &got) != AG_ERR_NOTFOUND) {
			bad++;
			ag_session_free(&got);
		}
		free(t);
	}
	is_int(bad, 0, "tampered: flips in header/iv/ciphertext/tag refused");
	br_set(&br, "__session", "");
	v[len - 5] = '\0';
	br_set(&br, "__session", v);
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "tampered: truncated refused");
	br_set(&br, "__session", "not.a.jwe.at.all");
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "tampered: garbage refused");
	free(v);
	br_clear(&br);
	ag_session_free(&s);

	/* Missing user.sub. */
	make_session(&s, NULL, 10, T0);
	write_into(&app, &br, &s, &w);
	ag_resp_free(&w);
	is_int(read_from(&app, &br, &got), AG_ERR_NOTFOUND,
	    "no user.sub: no session");
	br_clear(&br);
	ag_session_free(&s);
	hdr = sealed_header(&app, "{\"user\":\"auth0|1\",\"internal\":"
	    "{\"createdAt\":1700000000}}", T0 + 100);
	is_int(read_header(&app, hdr, &got), AG_ERR_NOTFOUND,
	    "user not an object: no session");
	free(hdr);
	hdr = sealed_header(&app, "{\"user\":{\"sub\":42}}", T0 + 100);
	is_int(read_header(&app, hdr, &got), AG_ERR_NOTFOUND,
	    "user.sub not a string: no session");
	free(hdr);
	hdr = sealed_header(&app, "{\"user\":{\"sub\":\"a\"}}", T0 + 100);
	/* Without internal.createdAt the absolute limit cannot hold. */
	is_int(read_header(&app, hdr, &got), AG_ERR_NOTFOUND,
	    "cookie without internal.createdAt: no session");
	ag_session_free(&got);
	free(hdr);

	/* createdAt + absolute_duration passed, exp still fine. */
	hdr = sealed_header(&app, "{\"user\":{\"sub\":\"a\"},\"internal\":"
	    "{\"createdAt\":1699740800}}", T0 + 86400);
	is_int(read_header(&app, hdr, &got), AG_ERR_NOTFOUND,
	    "absolute: createdAt + absolute == now: no session");
	free(hdr);
	hdr = sealed_header(&app, "{\"user\":{\"sub\":\"a\"},\"internal\":"
	    "{\"createdAt\":1699740801}}", T0 + 86400);
	is_int(read_header(&app, hdr, &got), AG_OK,
	    "absolute: one second left: session");
	ag_session_free(&got);
	free(hdr);
	hdr = sealed_header(&app, "{\"user\":{\"sub\":\"a\"},\"internal\":"
	    "{\"createdAt\":1000}}", T0 + 86400);
	is_int(read_header(&app, hdr, &got), AG_ERR_NOTFOUND,
	    "absolute: ancient createdAt: no session");
	free(hdr);

	/* internal.sessionExpiresAt (upstream ceiling, 30 s early). */
	hdr = sealed_header(&app, "{\"user\":{\"sub\":\"a\"},\"internal\":"
	    "{\"createdAt\":1700000000,\"sessionExpiresAt\":1700000100}}",
	    T0 + 86400);
	is_int(read_header(&app, hdr, &got), AG_OK,
	    "sessionExpiresAt: far enough: session");
	is_int(got.exp, T0 + 86400, "sessionExpiresAt: exp is the cookie's");
	ag_session_free(&got);
	ag_clock_set(T0 + 69);
	is_int(read_header(&app, hdr, &got), AG_OK,
	    "sessionExpiresAt: 31 s before: session");
	ag_session_free(&got);
	ag_clock_set(T0 + 70);
	is_int(read_header(&app, hdr, &got), AG_ERR_NOTFOUND,
	    "sessionExpiresAt: 30 s before: no session");
	ag_clock_set(T0 + 200);
	is_int(read_header(&app, hdr, &got), AG_ERR_NOTFOUND,
	    "sessionExpiresAt: passed: no session");
	free(hdr);
	ag_clock_set(T0);

	/* exp missing or not a number. */
	is_int(read_header(&app, "", &got), AG_ERR_NOTFOUND,
	    "no cookie at all: no session");
	is_int(read_header(&app, "__session=a.b.c.d.e", &got), AG_ERR_NOTFOUND,
	    "five empty-ish parts: no session");
}

static void
test_clear_attrs(void)
{
	struct ag_app app;
	struct ag_session s;
	struct ag_cookies jar;
	struct ag_resp w, d;
	static char dom[] = "example.com", path[] = "/app";

	app_init(&app, secret);
	app.conf.cookie_domain = dom;
	app.conf.cookie_path = path;
	app.conf.cookie_secure = 1;
	app.conf.cookie_same_site = AG_SAME_SITE_STRICT;
	ag_clock_set(T0);

	make_session(&s, "auth0|1", 10, T0);
	ag_cookies_parse("__session__0=a; __session__1=b; other=c", 39, &jar);
	ag_resp_init(&w);
	is_int(ag_session_write(&app, &jar, &s, &w), AG_OK,
	    "attrs: write with Domain/Secure/strict");
	is_int(lines_with(&w, "Set-Cookie: __session=",
	    "; Path=/app; Expires="), 1, "attrs: set has Path=/app");
	is_int(lines_with(&w, "Set-Cookie: __session=",
	    "; Domain=example.com; Secure; HttpOnly; SameSite=strict"), 1,
	    "attrs: set has Domain, Secure, HttpOnly, SameSite=strict");
	is_int(lines_with(&w, "Set-Cookie: __session__",
	    "; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
	    "Domain=example.com; Secure; HttpOnly; SameSite=strict"), 2,
	    "attrs: chunk deletions repeat the attributes");
	is_int(lines_with(&w, "other", NULL), 0, "attrs: other cookie untouched");

	ag_resp_init(&d);
	is_int(ag_session_clear(&app, &jar, &d), AG_OK, "clear: AG_OK");
	is_int(lines_with(&d, "Set-Cookie: __session=; Path=/app; "
	    "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
	    "Domain=example.com; Secure; HttpOnly; SameSite=strict", NULL), 1,
	    "clear: plain deletion has the set's attributes");
	is_int(lines_with(&d, "Set-Cookie: __session__", "; Path=/app; "
	    "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
	    "Domain=example.com; Secure; HttpOnly; SameSite=strict"), 2,
	    "clear: chunk deletions have the set's attributes");
	is_int(lines_with(&d, "Set-Cookie:", NULL), 3, "clear: three lines");
	is_int(lines_with(&d, "Cache-Control:", "no-store"), 1,
	    "clear: no-cache headers");
	ag_resp_free(&w);
	ag_resp_free(&d);
	ag_cookies_free(&jar);
	ag_session_free(&s);

	/* transient: no Max-Age/Expires on the set, deletion still works. */
	app.conf.cookie_transient = 1;
	make_session(&s, "auth0|1", 10, T0);
	ag_cookies_parse("", 0, &jar);
	ag_resp_init(&w);
	ag_session_write(&app, &jar, &s, &w);
	is_int(lines_with(&w, "Set-Cookie: __session=", "Max-Age"), 0,
	    "transient: no Max-Age");
	ag_resp_free(&w);
	ag_session_free(&s);
	ag_cookies_free(&jar);
}

static void
test_from_login(void)
{
	struct ag_app app;
	struct ag_tokens t;
	struct ag_session s, got;
	struct browser br;
	struct ag_resp w;
	ag_json *claims = NULL, *user, *ts, *in;
	const char *cj = "{\"sub\":\"auth0|9\",\"name\":\"N\",\"email\":\"e@x\","
	    "\"sid\":\"S1\",\"secret_thing\":\"no\",\"nonce\":\"n\","
	    "\"session_expiry\":1700090000}";
	int64_t v;

	app_init(&app, secret);
	ag_clock_set(T0);
	memset(&br, 0, sizeof(br));
	memset(&t, 0, sizeof(t));
	t.access_token = (char *)"AT";
	t.token_type = (char *)"bearer";
	t.id_token = (char *)"IDT";
	t.refresh_token = (char *)"RT";
	t.scope = (char *)"openid profile";
	t.expires_in = 600;
	ag_json_parse_object(cj, strlen(cj), 4096, &claims);

	is_int(ag_session_from_login(&app.conf, &t, claims, "openid profile "
	    "email", "https://api", T0, &s), AG_OK, "from_login: AG_OK");
	user = ag_json_get(s.data, "user");
	ts = ag_json_get(s.data, "tokenSet");
	in = ag_json_get(s.data, "internal");
	is_int(ag_json_object_len(user), 3, "from_login: user has 3 claims");
	is_str(ag_json_get_str(user, "sub"), "auth0|9", "from_login: sub kept");
	is_str(ag_json_get_str(user, "email"), "e@x", "from_login: email kept");
	ok(ag_json_get(user, "secret_thing") == NULL &&
	    ag_json_get(user, "nonce") == NULL && ag_json_get(user, "sid") ==
	    NULL, "from_login: claims outside claims.keep dropped");
	is_str(ag_json_get_str(ts, "accessToken"), "AT", "tokenSet.accessToken");
	is_str(ag_json_get_str(ts, "idToken"), "IDT", "tokenSet.idToken");
	is_str(ag_json_get_str(ts, "refreshToken"), "RT",
	    "tokenSet.refreshToken");
	is_str(ag_json_get_str(ts, "scope"), "openid profile", "tokenSet.scope");
	is_str(ag_json_get_str(ts, "requestedScope"), "openid profile email",
	    "tokenSet.requestedScope");
	is_str(ag_json_get_str(ts, "audience"), "https://api",
	    "tokenSet.audience");
	is_str(ag_json_get_str(ts, "token_type"), "bearer",
	    "tokenSet.token_type");
	ok(ag_json_get_int(ts, "expiresAt", &v) == AG_OK && v == T0 + 600,
	    "tokenSet.expiresAt = now + expires_in");
	is_str(ag_json_get_str(in, "sid"), "S1", "internal.sid");
	ok(ag_json_get_int(in, "createdAt", &v) == AG_OK && v == T0,
	    "internal.createdAt = now");
	ok(ag_json_get_int(in, "sessionExpiresAt", &v) == AG_OK &&
	    v == 1700090000, "internal.sessionExpiresAt from session_expiry");
	is_int(s.created_at, T0, "from_login: created_at");
	is_int(ag_json_object_len(s.data), 3,
	    "from_login: data is {user, tokenSet, internal}");
	ok(ag_json_get_str(claims, "secret_thing") != NULL,
	    "from_login: claims not modified");

	write_into(&app, &br, &s, &w);
	ag_resp_free(&w);
	is_int(read_from(&app, &br, &got), AG_OK, "from_login: round trip");
	is_str(ag_session_token(&got, "refreshToken"), "RT",
	    "from_login: round trip refreshToken");
	is_str(ag_session_sid(&got), "S1", "from_login: round trip sid");
	ag_session_free(&got);
	ag_session_free(&s);
	br_clear(&br);

	/* Optional members absent; expires_in absent. */
	t.id_token = t.refresh_token = t.scope = NULL;
	t.expires_in = -1;
	ag_json_del(claims, "sid");
	ag_json_del(claims, "session_expiry");
	is_int(ag_session_from_login(&app.conf, &t, claims, NULL, NULL, T0,
	    &s), AG_OK, "from_login: minimal tokens");
	ts = ag_json_get(s.data, "tokenSet");
	in = ag_json_get(s.data, "internal");
	ok(ag_json_get(ts, "idToken") == NULL &&
	    ag_json_get(ts, "refreshToken") == NULL &&
	    ag_json_get(ts, "audience") == NULL &&
	    ag_json_get(ts, "requestedScope") == NULL,
	    "from_login: absent members not written");
	ok(ag_json_get_int(ts, "expiresAt", &v) == AG_OK && v == T0 + 3600,
	    "from_login: no expires_in: 3600");
	ok(ag_json_get(in, "sid") == NULL, "from_login: no sid claim: no sid");
	ok(ag_json_get(in, "sessionExpiresAt") == NULL,
	    "from_login: no session_expiry: no ceiling");
	ag_session_free(&s);
	ag_session_free(NULL);
	ag_json_free(claims);
}

/* A valid-looking state of n characters (varied by seed). */
static void
state_of(char *out, size_t n, int seed)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = a[(i * 7 + (size_t)seed * 13) % (sizeof(a) - 1)];
	out[n] = '\0';
}

static ag_json *
make_txn(const char *state)
{
	ag_json *t = ag_json_object();

	ag_json_set_str(t, "state", state);
	ag_json_set_str(t, "nonce", "nonce-nonce-nonce");
	ag_json_set_str(t, "codeVerifier", "verifier-verifier-verifier");
	ag_json_set_str(t, "returnTo", "/dashboard");
	return t;
}

static void
test_txn(void)
{
	struct ag_app app, other;
	struct browser br;
	struct ag_cookies jar;
	struct ag_resp w;
	struct ag_buf h;
	ag_json *txn, *got;
	char st[80], st2[80], name[128];
	const char *v, *colon;
	size_t i, total, ndel;
	int bad, r;

	app_init(&app, secret);
	app_init(&other, secret2);
	ag_clock_set(T0);
	memset(&br, 0, sizeof(br));

	ok(!ag_txn_state_ok(NULL), "state_ok: NULL");
	ok(!ag_txn_state_ok(""), "state_ok: empty");
	state_of(st, 15, 0);
	ok(!ag_txn_state_ok(st), "state_ok: 15 chars refused");
	state_of(st, 16, 0);
	ok(ag_txn_state_ok(st), "state_ok: 16 chars");
	state_of(st, 43, 0);
	ok(ag_txn_state_ok(st), "state_ok: 43 chars");
	state_of(st, 64, 0);
	ok(ag_txn_state_ok(st), "state_ok: 64 chars");
	state_of(st, 65, 0);
	ok(!ag_txn_state_ok(st), "state_ok: 65 chars refused");
	ok(!ag_txn_state_ok("abcdefghijklmnop+"), "state_ok: '+' refused");
	ok(!ag_txn_state_ok("abcdefghijklmnop="), "state_ok: '=' refused");
	ok(!ag_txn_state_ok("abcdefghijklmnop/"), "state_ok: '/' refused");
	ok(!ag_txn_state_ok("abcdefghijklmnop."), "state_ok: '.' refused");
	ok(!ag_txn_state_ok("abcdefgh ijklmnop"), "state_ok: space refused");
	ok(!ag_txn_state_ok("abcdefghijklmnop;x=1"), "state_ok: ';' refused");
	ok(!ag_txn_state_ok("abcdefghijklmnop\xc3\xa9"),
	    "state_ok: non-ASCII refused");

	/* Round trip. */
	state_of(st, 43, 1);
	txn = make_txn(st);
	ag_resp_init(&w);
	memset(&jar, 0, sizeof(jar));
	is_int(ag_txn_write(&app, &jar, txn, &w), AG_OK, "txn write: AG_OK");
	snprintf(name, sizeof(name), "Set-Cookie: __txn_%s=", st);
	is_int(lines_with(&w, name, "; Max-Age=3600"), 1,
	    "txn write: __txn_<state>, Max-Age 3600");
	is_int(lines_with(&w, name, "HttpOnly; SameSite=lax"), 1,
	    "txn write: HttpOnly, SameSite=lax");
	snprintf(name, sizeof(name), "__txn_%s", st);
	v = set_value(&w, name);
	ok(v != NULL && (colon = strchr(v, ':')) != NULL &&
	    strtoll(v, NULL, 10) == T0 * 1000,
	    "txn write: value is <unix-ms>:<jwe>");
	br_apply(&br, &w);
	ag_resp_free(&w);
	br_jar(&br, &jar);
	r = ag_txn_read(&app, &jar, st, &got);
	is_int(r, AG_OK, "txn read: round trip");
	is_str(ag_json_get_str(got, "nonce"), "nonce-nonce-nonce",
	    "txn read: nonce");
	is_str(ag_json_get_str(got, "returnTo"), "/dashboard",
	    "txn read: returnTo");
	ag_json_free(got);
	state_of(st2, 43, 2);
	is_int(ag_txn_read(&app, &jar, st2, &got), AG_ERR_NOTFOUND,
	    "txn read: another state: not found");
	ok(got == NULL, "txn read: out NULL on failure");
	is_int(ag_txn_read(&app, &jar, "bad state!", &got), AG_ERR_NOTFOUND,
	    "txn read: invalid state: not found");
	is_int(ag_txn_read(&other, &jar, st, &got), AG_ERR_NOTFOUND,
	    "txn read: other secret: not found");

	/* Expiry: exp = now + 3600, 15 s leeway. */
	ag_clock_set(T0 + 3601);
	r = ag_txn_read(&app, &jar, st, &got);
	is_int(r, AG_OK, "txn read: +3601 s is within the 15 s leeway");
	ag_json_free(got);
	ag_clock_set(T0 + 3614);
	r = ag_txn_read(&app, &jar, st, &got);
	is_int(r, AG_OK, "txn read: +3614 s still within the leeway");
	ag_json_free(got);
	ag_clock_set(T0 + 3615);
	is_int(ag_txn_read(&app, &jar, st, &got), AG_ERR_NOTFOUND,
	    "txn read: +3615 s (exp + leeway): expired");
	ag_clock_set(T0 + 7200);
	is_int(ag_txn_read(&app, &jar, st, &got), AG_ERR_NOTFOUND,
	    "txn read: +7200 s: expired");
	ag_clock_set(T0);
	ag_cookies_free(&jar);

	/* The state member must match the cookie name. */
	snprintf(name, sizeof(name), "__txn_%s", st);
	v = br_get(&br, name);
	ag_buf_init(&h, 0);
	ag_buf_printf(&h, "__txn_%s=%s", st2, v);
	ag_cookies_parse(ag_buf_str(&h), h.len, &jar);
	is_int(ag_txn_read(&app, &jar, st2, &got), AG_ERR_NOTFOUND,
	    "txn read: cookie renamed to another state: refused");
	ag_cookies_free(&jar);
	ag_buf_reset(&h);

	/* A bare JWE (SDK before 4.29). */
	ag_buf_printf(&h, "__txn_%s=%s", st, strchr(v, ':') + 1);
	ag_cookies_parse(ag_buf_str(&h), h.len, &jar);
	r = ag_txn_read(&app, &jar, st, &got);
	is_int(r, AG_OK, "txn read: bare JWE accepted");
	ag_json_free(got);
	ag_cookies_free(&jar);

	/* Garbage. */
	{
		static const char *garbage[] = {
			"", ":", "123:", "123:garbage", "garbage",
			"-1:xxx", "abc:def", "1:a.b.c.d.e", "99999999999999999999:x",
		};
		bad = 0;
		for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
			ag_buf_reset(&h);
			ag_buf_printf(&h, "__txn_%s=%s", st, garbage[i]);
			ag_cookies_parse(ag_buf_str(&h), h.len, &jar);
			if (ag_txn_read(&app, &jar, st, &got) != AG_ERR_NOTFOUND
			    || got != NULL)
				bad++;
			ag_cookies_free(&jar);
		}
		is_int(bad, 0, "txn read: garbage values refused");
	}
	/* "-1:<jwe>": a negative stamp is not stripped: refused. */
	ag_buf_reset(&h);
	ag_buf_printf(&h, "__txn_%s=-1:%s", st, strchr(v, ':') + 1);
	ag_cookies_parse(ag_buf_str(&h), h.len, &jar);
	is_int(ag_txn_read(&app, &jar, st, &got), AG_ERR_NOTFOUND,
	    "txn read: negative stamp refused");
	ag_cookies_free(&jar);
	ag_json_free(txn);

	/* Write refuses a txn without a valid state. */
	txn = make_txn("short");
	ag_resp_init(&w);
	memset(&jar, 0, sizeof(jar));
	is_int(ag_txn_write(&app, &jar, txn, &w), AG_ERR_PARSE,
	    "txn write: invalid state refused");
	is_int(w.head.len, 0, "txn write: invalid state: nothing written");
	ag_resp_free(&w);
	ag_json_free(txn);

	/*
	 * Eviction: 30 stamped __txn_* cookies (stamps shuffled), one
	 * unstamped, and one with our own name and the oldest stamp.
	 */
	state_of(st, 43, 99);
	ag_buf_reset(&h);
	for (i = 0; i < 30; i++) {
		char s[80];

		state_of(s, 32, (int)i + 10);
		ag_buf_printf(&h, "__txn_%s=%lld:%0100d; ", s,
		    (long long)(1000 + (i * 17) % 30), 0);
	}
	ag_buf_printf(&h, "__txn_unstampedunstamped=%0100d; ", 0);
	ag_buf_printf(&h, "__txn_%s=1:%0100d; __session=keepme; "
	    "other=%0500d", st, 0, 0);
	ag_cookies_parse(ag_buf_str(&h), h.len, &jar);
	txn = make_txn(st);
	ag_resp_init(&w);
	is_int(ag_txn_write(&app, &jar, txn, &w), AG_OK,
	    "evict: write with 31 old transactions");
	snprintf(name, sizeof(name), "Set-Cookie: __txn_%s=", st);
	is_int(lines_with(&w, name, "Max-Age=3600"), 1,
	    "evict: our cookie is set");
	is_int(lines_with(&w, name, "Max-Age=0"), 0,
	    "evict: never deletes itself");
	is_int(lines_with(&w, "Set-Cookie: __session", NULL) +
	    lines_with(&w, "Set-Cookie: other", NULL), 0,
	    "evict: non-transaction cookies untouched");
	ok(strncmp(ag_buf_str(&w.head),
	    "Set-Cookie: __txn_unstampedunstamped=;", 38) == 0,
	    "evict: the unstamped one goes first");
	/* Oldest first, and the survivors fit. */
	ndel = (size_t)lines_with(&w, "Set-Cookie: __txn_", "Max-Age=0");
	ok(ndel > 1 && ndel < 31, "evict: some but not all deleted");
	{
		char nm[128];
		const char *ours;

		snprintf(nm, sizeof(nm), "__txn_%s", st);
		ours = set_value(&w, nm);
		total = strlen(nm) + 1 + strlen(ours) + 2;
	}
	bad = 0;
	{
		int64_t max_deleted = -2, min_kept = INT64_MAX;
		size_t kept_size = 0;

		for (i = 0; i < jar.n; i++) {
			char pat[160];
			int64_t stp;
			char *end;

			if (strncmp(jar.v[i].name, "__txn_", 6) != 0 ||
			    strcmp(jar.v[i].name + 6, st) == 0)
				continue;
			stp = strtoll(jar.v[i].value, &end, 10);
			if (end == jar.v[i].value || *end != ':')
				stp = -1;
			snprintf(pat, sizeof(pat), "Set-Cookie: %s=;",
			    jar.v[i].name);
			if (lines_with(&w, pat, "Max-Age=0") == 1) {
				if (stp > max_deleted)
					max_deleted = stp;
			} else {
				kept_size += strlen(jar.v[i].name) + 1 +
				    strlen(jar.v[i].value) + 2;
				if (stp < min_kept)
					min_kept = stp;
			}
		}
		ok(max_deleted < min_kept, "evict: every deleted one is older "
		    "than every kept one");
		ok(total + kept_size <= AG_TXN_TOTAL_MAX,
		    "evict: what remains is within AG_TXN_TOTAL_MAX");
		ok(total + kept_size + 100 + 2 + 6 + 32 + 1 + 5 >
		    AG_TXN_TOTAL_MAX, "evict: no more deleted than needed");
	}
	ag_resp_free(&w);
	ag_json_free(txn);

	/* delete_all touches only __txn_* cookies. */
	ag_resp_init(&w);
	is_int(ag_txn_delete_all(&app, &jar, &w), AG_OK, "delete_all: AG_OK");
	is_int(lines_with(&w, "Set-Cookie: __txn_", "Max-Age=0"), 32,
	    "delete_all: every __txn_* deleted");
	is_int(lines_with(&w, "Set-Cookie:", NULL), 32,
	    "delete_all: nothing else");
	ag_resp_free(&w);
	ag_cookies_free(&jar);
	ag_cookies_parse("__txn=1; __tx_a=2; x__txn_a=3; __TXN_a=4; __txn_a=5",
	    51, &jar);
	ag_resp_init(&w);
	ag_txn_delete_all(&app, &jar, &w);
	is_int(lines_with(&w, "Set-Cookie:", NULL), 1,
	    "delete_all: only the exact prefix (case-sensitive)");
	is_int(lines_with(&w, "Set-Cookie: __txn_a=;", "Max-Age=0"), 1,
	    "delete_all: __txn_a deleted");
	ag_resp_free(&w);
	ag_cookies_free(&jar);

	/* ag_txn_delete. */
	ag_resp_init(&w);
	is_int(ag_txn_delete(&app, st, &w), AG_OK, "txn delete: AG_OK");
	snprintf(name, sizeof(name), "Set-Cookie: __txn_%s=;", st);
	is_int(lines_with(&w, name, "Max-Age=0"), 1, "txn delete: deletion");
	ag_resp_free(&w);
	ag_resp_init(&w);
	is_int(ag_txn_delete(&app, "x; Domain=evil", &w), AG_OK,
	    "txn delete: bad state: AG_OK");
	is_int(w.head.len, 0, "txn delete: bad state: nothing written");
	ag_resp_free(&w);

	ag_buf_free(&h);
	br_clear(&br);
}

static void
test_req(void)
{
	struct ag_req r;
	struct ag_resp w;
	struct ag_buf out, big;
	size_t mark;
	char *before;
	int bad, i;

	memset(&r, 0, sizeof(r));
	ok(ag_req_is_navigation(&r), "nav: no hints: navigation");
	r.sec_fetch_mode = "navigate";
	ok(ag_req_is_navigation(&r), "nav: Sec-Fetch-Mode navigate");
	r.sec_fetch_mode = "NAVIGATE";
	ok(ag_req_is_navigation(&r), "nav: Sec-Fetch-Mode NAVIGATE");
	r.sec_fetch_mode = "cors";
	ok(!ag_req_is_navigation(&r), "nav: Sec-Fetch-Mode cors: not");
	r.sec_fetch_mode = "no-cors";
	ok(!ag_req_is_navigation(&r), "nav: Sec-Fetch-Mode no-cors: not");
	r.sec_fetch_mode = "same-origin";
	ok(!ag_req_is_navigation(&r), "nav: Sec-Fetch-Mode same-origin: not");
	r.sec_fetch_mode = "";
	ok(ag_req_is_navigation(&r), "nav: empty Sec-Fetch-Mode ignored");
	r.sec_fetch_mode = "navigate";
	r.x_requested_with = "XMLHttpRequest";
	ok(!ag_req_is_navigation(&r), "nav: X-Requested-With: not");
	r.x_requested_with = NULL;
	r.sec_fetch_mode = NULL;
	r.accept = "application/json";
	ok(!ag_req_is_navigation(&r), "nav: Accept application/json: not");
	r.accept = "Application/JSON; charset=utf-8";
	ok(!ag_req_is_navigation(&r), "nav: Accept JSON, params, case: not");
	r.accept = "text/plain, application/json";
	ok(!ag_req_is_navigation(&r), "nav: JSON second in list: not");
	r.accept = "text/html,application/xhtml+xml,application/xml;q=0.9,"
	    "*/*;q=0.8";
	ok(ag_req_is_navigation(&r), "nav: browser Accept: navigation");
	r.accept = "application/json, text/html";
	ok(ag_req_is_navigation(&r), "nav: JSON and HTML: navigation");
	r.accept = "application/jsonx";
	ok(ag_req_is_navigation(&r), "nav: application/jsonx is not JSON");
	r.accept = "*/*";
	ok(ag_req_is_navigation(&r), "nav: */*: navigation");
	r.accept = ",,, ,";
	ok(ag_req_is_navigation(&r), "nav: commas only: no crash");

	/* ag_resp_header. */
	ag_resp_init(&w);
	is_int(ag_resp_header(&w, "X-Ok", "fine\tvalue \xc3\xa9"), AG_OK,
	    "header: tab and UTF-8 allowed");
	mark = w.head.len;
	before = strdup(ag_buf_str(&w.head));
	bad = 0;
	{
		static const char *vals[] = {
			"a\rb", "a\nb", "a\r\nSet-Cookie: x=1", "\x01", "a\x1f",
			"a\x7f", "\x1b[31m", "x\x0b",
		};
		static const char *names[] = {
			"", "Set Cookie", "X:Y", "X\r\nY", "X\n", "\xc3\xa9",
			"X(", "X/Y", "X\t",
		};

		for (i = 0; i < (int)(sizeof(vals) / sizeof(vals[0])); i++)
			if (ag_resp_header(&w, "X-Bad", vals[i]) != AG_ERR_PARSE)
				bad++;
		for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
			if (ag_resp_header(&w, names[i], "v") != AG_ERR_PARSE)
				bad++;
	}
	is_int(bad, 0, "header: CR, LF, controls, DEL and bad names refused");
	ok(w.head.len == mark && strcmp(before, ag_buf_str(&w.head)) == 0,
	    "header: head unchanged after refusals");
	free(before);
	is_str(ag_buf_str(&w.head), "X-Ok: fine\tvalue \xc3\xa9\r\n",
	    "header: line format");
	/* A value that does not fit: AG_ERR_LIMIT, head unchanged. */
	ag_buf_init(&big, 0);
	for (i = 0; i < 300 * 1024 / 64; i++)
		ag_buf_puts(&big, "0123456789012345678901234567890123456789"
		    "012345678901234567890123");
	ok(ag_resp_header(&w, "X-Big", ag_buf_str(&big)) != AG_OK,
	    "header: over the head limit refused");
	is_int(w.head.len, mark, "header: head unchanged after the limit");
	ag_buf_free(&big);
	ag_resp_free(&w);

	/* Serialise. */
	ag_resp_init(&w);
	ag_buf_init(&out, 0);
	is_int(ag_resp_redirect(&w, 302, "https://a.example/x?y=1"), AG_OK,
	    "redirect: AG_OK");
	ag_resp_serialise(&w, &out);
	is_str(ag_buf_str(&out), "Status: 302 Found\r\n"
	    "Location: https://a.example/x?y=1\r\n\r\n", "serialise: redirect");
	ag_resp_free(&w);
	ag_buf_reset(&out);
	ag_resp_init(&w);
	is_int(ag_resp_redirect(&w, 302, "https://a/\r\nSet-Cookie: x=1"),
	    AG_ERR_PARSE, "redirect: CRLF in URL refused");
	is_int(w.status, 0, "redirect: status untouched when refused");
	ag_resp_serialise(&w, &out);
	is_str(ag_buf_str(&out), "Status: 500 Internal Server Error\r\n\r\n",
	    "serialise: unset status is 500");
	ag_resp_free(&w);
	ag_buf_reset(&out);
	ag_resp_init(&w);
	ag_resp_text(&w, 404, "not found");
	ag_resp_serialise(&w, &out);
	is_str(ag_buf_str(&out), "Status: 404 Not Found\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\nnot found\n",
	    "serialise: text");
	ag_resp_free(&w);
	ag_buf_reset(&out);
	ag_resp_init(&w);
	ag_resp_json(&w, 401, "{\"error\":\"x\"}");
	ag_resp_nocache(&w);
	ag_resp_serialise(&w, &out);
	is_str(ag_buf_str(&out), "Status: 401 Unauthorized\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: private, no-cache, no-store, must-revalidate, "
	    "max-age=0\r\nPragma: no-cache\r\nExpires: 0\r\n\r\n"
	    "{\"error\":\"x\"}", "serialise: json + nocache");
	ag_resp_free(&w);
	ag_buf_reset(&out);
	ag_resp_init(&w);
	w.status = 299;
	ag_resp_serialise(&w, &out);
	is_str(ag_buf_str(&out), "Status: 299 Unknown\r\n\r\n",
	    "serialise: unknown status");
	is_str(ag_status_text(307), "Temporary Redirect", "status text 307");
	ag_resp_free(&w);
	ag_buf_free(&out);

	/* ag_req_prepare on garbage. */
	{
		static const char *cookies[] = {
			NULL, "", ";", ";;;", "=", "=x", "a", "a=", "a=b=c",
			"a=%", "a=%zz", "a=%00", "a=%c3", "a=\"q\"",
			"\x01=1", "a=\x01", "a b=1", "a=1;;b=2; ;c",
			"__session=%ff%fe", "\xff\xfe=\xff",
		};
		static const char *queries[] = {
			NULL, "", "&", "&&&", "=", "==", "a", "a=", "=b",
			"a=%", "a=%zz", "a=%00", "a=%c3%28", "a=1&a=2",
			"returnTo=%2F%2Fevil.example", "a+b=c+d", "%%%%",
			"a=1&&b=2&", "\xff\xfe",
		};
		size_t ci, qi;
		int crashes = 0;

		for (ci = 0; ci < sizeof(cookies) / sizeof(cookies[0]); ci++)
			for (qi = 0; qi < sizeof(queries) / sizeof(queries[0]);
			    qi++) {
				memset(&r, 0, sizeof(r));
				r.cookie = cookies[ci];
				r.query = queries[qi];
				ag_req_prepare(&r);
				if (r.params_err != AG_OK && r.params.n != 0)
					crashes++;
				ag_req_free(&r);
			}
		is_int(crashes, 0, "prepare: garbage cookies x queries");
	}
	memset(&r, 0, sizeof(r));
	r.cookie = "a=1; b; c=3";
	r.query = "x=1&y=%41";
	ag_req_prepare(&r);
	is_int(r.cookies.n, 2, "prepare: two good cookies");
	is_int(r.cookies.dropped, 1, "prepare: one dropped");
	is_int(r.params_err, AG_OK, "prepare: query parsed");
	is_str(ag_params_get(&r.params, "y"), "A", "prepare: query decoded");
	ag_req_free(&r);

	/* Over-long Cookie header and query string. */
	ag_buf_init(&big, 0);
	while (big.len <= AG_MAX_COOKIE_HEADER)
		ag_buf_puts(&big, "a=0123456789; ");
	memset(&r, 0, sizeof(r));
	r.cookie = ag_buf_str(&big);
	ag_buf_init(&out, 0);
	while (out.len <= AG_MAX_QUERY)
		ag_buf_puts(&out, "a=0123456789&");
	r.query = ag_buf_str(&out);
	ag_req_prepare(&r);
	is_int(r.cookies.n, 0, "prepare: over-long Cookie header: no cookies");
	ok(r.params_err != AG_OK, "prepare: over-long query: params_err");
	is_int(r.params.n, 0, "prepare: over-long query: no params");
	ag_req_free(&r);
	ag_req_free(&r);
	ag_buf_free(&big);
	ag_buf_free(&out);
}

int
main(void)
{
	test_max_age();
	test_round_trip();
	test_chunks();
	test_refusals();
	test_clear_attrs();
	test_from_login();
	test_txn();
	test_req();
	ag_clock_set(-1);
	return tap_done();
}
