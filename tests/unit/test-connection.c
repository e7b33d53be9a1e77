/*
 * test-connection.c -- lib/connection.c without a provider: names and
 * hints, the cache look-up of ag_connection_token (hits, the login_hint
 * rule, an expired entry without a refresh token), pruning, and the
 * __FC_<n> cookies (round trip, cap, orphan sweep, refused cookies).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "app.h"
#include "connection.h"
#include "crypto.h"
#include "err.h"
#include "json.h"
#include "rand.h"
#include "req.h"
#include "tap.h"

#define T0	1700000000LL

static char secret[] = "0123456789abcdef0123456789abcdef-connection";

static ag_json *
parse(const char *s)
{
	ag_json *j = NULL;

	if (ag_json_parse_object(s, strlen(s), 1 << 20, &j) != AG_OK) {
		printf("Bail out! bad JSON in the test: %s\n", s);
		exit(1);
	}
	return j;
}

/* The Cookie header a browser would send after w's Set-Cookie lines. */
static void
cookie_header(const struct ag_resp *w, const char *before, struct ag_buf *out)
{
	const char *p = ag_buf_str(&w->head), *nl, *semi;

	ag_buf_puts(out, before);
	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (strncmp(p, "Set-Cookie: ", 12) != 0)
			continue;
		semi = strchr(p, ';');
		/* Deletions (empty value) are left out. */
		if (semi == NULL || semi[-1] == '=')
			continue;
		if (out->len > 0)
			ag_buf_puts(out, "; ");
		ag_buf_add(out, p + 12, (size_t)(semi - p - 12));
	}
}

static void
test_names(void)
{
	char big[AG_MAX_CONNECTION_NAME + 2];

	ok(ag_connection_name_ok("google-oauth2"), "name: google-oauth2");
	ok(ag_connection_name_ok("a.b_c-D9"), "name: dots, underscores");
	ok(!ag_connection_name_ok(""), "name: empty");
	ok(!ag_connection_name_ok(NULL), "name: NULL");
	ok(!ag_connection_name_ok("a b"), "name: space");
	ok(!ag_connection_name_ok("a/b"), "name: slash");
	ok(!ag_connection_name_ok("\xc3\xa9"), "name: non-ASCII");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(!ag_connection_name_ok(big), "name: too long");
	big[AG_MAX_CONNECTION_NAME] = '\0';
	ok(ag_connection_name_ok(big), "name: at the limit");
	ok(ag_login_hint_ok("user@example.com"), "hint: an address");
	ok(!ag_login_hint_ok("a\nb"), "hint: LF");
	ok(!ag_login_hint_ok(""), "hint: empty");
}

static void
test_cache(struct ag_app *app)
{
	struct ag_session s;
	struct ag_conn_req r;
	struct ag_conn_fail f;
	struct ag_token tok;

	memset(&s, 0, sizeof(s));
	s.data = parse("{\"user\":{\"sub\":\"u\"},\"tokenSet\":{\"accessToken\":"
	    "\"at\",\"refreshToken\":\"rt\",\"expiresAt\":1800000000},"
	    "\"connectionTokenSets\":["
	    "{\"accessToken\":\"plain\",\"scope\":\"s1\",\"expiresAt\":1700000100,"
	    "\"connection\":\"google-oauth2\"},"
	    "{\"accessToken\":\"hinted\",\"expiresAt\":1700000100,"
	    "\"connection\":\"google-oauth2\",\"loginHint\":\"h\"},"
	    "{\"accessToken\":\"old\",\"expiresAt\":1600000000,"
	    "\"connection\":\"github\"}]}");
	memset(&r, 0, sizeof(r));
	r.connection = "google-oauth2";
	is_int(ag_connection_token(app, &s, &r, &tok, &f), AG_CONN_OK,
	    "cached: ok");
	is_str(tok.access_token, "plain", "no hint: the entry without one");
	is_str(tok.scope, "s1", "its scope");
	is_int(tok.expires_at, 1700000100, "its expiry");
	ok(!tok.session_changed, "a hit changes nothing");
	ag_token_clear(&tok);
	r.login_hint = "h";
	is_int(ag_connection_token(app, &s, &r, &tok, &f), AG_CONN_OK,
	    "hinted: ok");
	is_str(tok.access_token, "hinted", "the hint's own entry");
	ag_token_clear(&tok);

	/* Expired and no refresh token: missing_refresh_token, no call. */
	ag_json_del(ag_json_get(s.data, "tokenSet"), "refreshToken");
	r.connection = "github";
	r.login_hint = NULL;
	is_int(ag_connection_token(app, &s, &r, &tok, &f),
	    AG_CONN_MISSING_REFRESH, "expired without a refresh token");
	is_str(ag_conn_code(f.err), "missing_refresh_token", "its code");
	r.connection = "bad name";
	is_int(ag_connection_token(app, &s, &r, &tok, &f),
	    AG_CONN_INVALID_REQUEST, "a bad name");
	is_int(ag_connection_token(app, NULL, &r, &tok, &f),
	    AG_CONN_MISSING_SESSION, "no session");
	is_str(ag_conn_code(99), "unknown_error", "code past the end");

	{
		int changed = 0;

		is_int(ag_connection_prune(s.data, "google-oauth2", &changed),
		    AG_OK, "prune: ok");
		ok(changed, "prune: changed");
		is_int(ag_json_array_len(ag_json_get(s.data,
		    "connectionTokenSets")), 1, "prune: both google entries");
		is_int(ag_connection_prune(s.data, "github", &changed), AG_OK,
		    "prune the last");
		ok(ag_json_get(s.data, "connectionTokenSets") == NULL,
		    "an empty list is removed");
		is_int(ag_connection_prune(s.data, "github", &changed), AG_OK,
		    "prune nothing");
		ok(!changed, "prune nothing: unchanged");
	}
	ag_session_free(&s);
}

#define SESS_ALICE1_MEMBERS \
	"\"user\":{\"sub\":\"alice\"},\"internal\":{\"sid\":\"s1\"}"
#define SESS_ALICE2_MEMBERS \
	"\"user\":{\"sub\":\"alice\"},\"internal\":{\"sid\":\"s2\"}"
#define SESS_BOB_MEMBERS \
	"\"user\":{\"sub\":\"bob\"},\"internal\":{\"sid\":\"s1\"}"
#define SESS_ALICE1	"{" SESS_ALICE1_MEMBERS "}"

/*
 * An entry sealed as the SDK writes it (no sub, no sid) is not read;
 * one without sid is read by a session without sid.
 */
static void
test_unbound(struct ag_app *app)
{
	struct ag_cookies jar;
	struct ag_buf sealed, hdr;
	ag_json *e, *data;

	ag_buf_init(&sealed, AG_MAX_SESSION_JSON);
	ag_buf_init(&hdr, 0);
	e = parse("{\"accessToken\":\"sdk\",\"connection\":\"c\","
	    "\"expiresAt\":1700000100}");
	ag_seal(app->key, e, T0 + 3600, &sealed);
	ag_buf_printf(&hdr, "__FC_0=%s", ag_buf_str(&sealed));
	ag_json_set_str(e, "sub", "carol");
	ag_buf_reset(&sealed);
	ag_seal(app->key, e, T0 + 3600, &sealed);
	ag_buf_printf(&hdr, "; __FC_1=%s", ag_buf_str(&sealed));
	memset(&jar, 0, sizeof(jar));
	ag_cookies_parse(ag_buf_str(&hdr), hdr.len, &jar);
	data = parse("{\"user\":{\"sub\":\"carol\"}}");
	is_int(ag_fc_read(app, &jar, data, T0), AG_OK, "unbound: read ok");
	e = (ag_json_free(e), ag_json_get(data, "connectionTokenSets"));
	is_int(ag_json_array_len(e), 1, "unbound: only the bound entry");
	is_str(ag_json_get_str(ag_json_array_get(e, 0), "accessToken"), "sdk",
	    "unbound: the one with sub, no sid");
	ag_json_free(data);
	ag_cookies_free(&jar);
	ag_buf_free(&sealed);
	ag_buf_free(&hdr);
}

static void
test_cookies(struct ag_app *app)
{
	struct ag_cookies jar;
	struct ag_resp w;
	struct ag_buf hdr, big;
	ag_json *sets, *e, *data, *sess;
	char name[32];
	int i;

	/* Ten entries: eight cookies at most. */
	sets = ag_json_array();
	for (i = 0; i < 10; i++) {
		e = ag_json_object();
		snprintf(name, sizeof(name), "tok%d", i);
		ag_json_set_str(e, "accessToken", name);
		ag_json_set_int(e, "expiresAt", T0 + 100 + i);
		ag_json_set_str(e, "connection", "c");
		ag_json_array_add(sets, e);
	}
	/* One that no cookie can hold, and one malformed. */
	ag_buf_init(&big, 0);
	for (i = 0; i < AG_FC_COOKIE_MAX; i++)
		ag_buf_putc(&big, 'x');
	e = ag_json_object();
	ag_json_set_str(e, "accessToken", ag_buf_str(&big));
	ag_json_set_int(e, "expiresAt", T0 + 100);
	ag_json_set_str(e, "connection", "big");
	ag_json_array_add(sets, e);
	ag_buf_free(&big);

	memset(&jar, 0, sizeof(jar));
	{
		const char *h = "__FC_9=stale; __FC_01=notours; __FCx=no";

		ag_cookies_parse(h, strlen(h), &jar);
	}
	ag_resp_init(&w);
	/* The big one first: it is skipped, the rest keeps its slots. */
	{
		ag_json *reordered = ag_json_array();

		ag_json_array_add(reordered, ag_json_copy(ag_json_array_get(sets,
		    10)));
		for (i = 0; i < 10; i++)
			ag_json_array_add(reordered, ag_json_copy(
			    ag_json_array_get(sets, (size_t)i)));
		ag_json_free(sets);
		sets = reordered;
	}
	sess = parse(SESS_ALICE1);
	is_int(ag_fc_write(app, &jar, sess, sets, 3600, T0, &w), AG_OK,
	    "write: ok");
	ok(ag_json_get(ag_json_array_get(sets, 0), "sub") == NULL,
	    "write: the entries in memory are not changed");
	ok(strstr(ag_buf_str(&w.head), "__FC_7=") != NULL, "__FC_7 written");
	ok(strstr(ag_buf_str(&w.head), "__FC_8=ey") == NULL, "no __FC_8");
	ok(strstr(ag_buf_str(&w.head), "__FC_9=;") != NULL,
	    "the orphan __FC_9 is deleted");
	ok(strstr(ag_buf_str(&w.head), "__FC_01") == NULL &&
	    strstr(ag_buf_str(&w.head), "__FCx") == NULL,
	    "cookies of other shapes are left alone");
	ok(strstr(ag_buf_str(&w.head), "HttpOnly") != NULL, "HttpOnly");
	ag_cookies_free(&jar);

	/* Read back, plus garbage. */
	ag_buf_init(&hdr, 0);
	cookie_header(&w, "__FC_8=garbage", &hdr);
	memset(&jar, 0, sizeof(jar));
	ag_cookies_parse(ag_buf_str(&hdr), hdr.len, &jar);
	data = parse("{\"connectionTokenSets\":[{\"accessToken\":\"in-cookie\"}]," SESS_ALICE1_MEMBERS "}");
	is_int(ag_fc_read(app, &jar, data, T0), AG_OK, "read: ok");
	e = ag_json_get(data, "connectionTokenSets");
	is_int(ag_json_array_len(e), 8, "read: eight entries");
	is_str(ag_json_get_str(ag_json_array_get(e, 0), "accessToken"), "tok0",
	    "read: in index order");
	ok(ag_json_get(ag_json_array_get(e, 0), "exp") == NULL,
	    "read: no exp member");
	ok(ag_json_get(ag_json_array_get(e, 0), "sub") == NULL &&
	    ag_json_get(ag_json_array_get(e, 0), "sid") == NULL,
	    "read: no binding members");
	ag_json_free(data);

	/* Bound to the session: another user, or alice's other session. */
	data = parse("{" SESS_BOB_MEMBERS "}");
	is_int(ag_fc_read(app, &jar, data, T0), AG_OK, "read as bob: ok");
	ok(ag_json_get(data, "connectionTokenSets") == NULL,
	    "read as bob: alice's entries are refused");
	ag_json_free(data);
	data = parse("{" SESS_ALICE2_MEMBERS "}");
	is_int(ag_fc_read(app, &jar, data, T0), AG_OK, "read, sid 2: ok");
	ok(ag_json_get(data, "connectionTokenSets") == NULL,
	    "read, alice's other session: refused");
	ag_json_free(data);
	data = parse("{\"user\":{\"sub\":\"alice\"}}");
	is_int(ag_fc_read(app, &jar, data, T0), AG_OK, "read, no sid: ok");
	ok(ag_json_get(data, "connectionTokenSets") == NULL,
	    "read, a session without sid: refused");
	ag_json_free(data);

	/* Expired cookies are skipped; none: the member stays as it was. */
	data = parse("{}");
	is_int(ag_fc_read(app, &jar, data, T0 + 7200), AG_OK, "read late: ok");
	ok(ag_json_get(data, "connectionTokenSets") == NULL,
	    "read late: nothing");
	ag_json_free(data);
	ag_cookies_free(&jar);

	/* Clear: every __FC_<n> of the request. */
	ag_resp_free(&w);
	ag_resp_init(&w);
	memset(&jar, 0, sizeof(jar));
	ag_cookies_parse(ag_buf_str(&hdr), hdr.len, &jar);
	is_int(ag_fc_clear(app, &jar, &w), AG_OK, "clear: ok");
	ok(strstr(ag_buf_str(&w.head), "__FC_0=;") != NULL &&
	    strstr(ag_buf_str(&w.head), "__FC_8=;") != NULL, "clear: all");
	ag_cookies_free(&jar);
	ag_resp_free(&w);
	ag_buf_free(&hdr);
	ag_json_free(sets);
	ag_json_free(sess);
	test_unbound(app);
}

int
main(void)
{
	struct ag_app app;

	ag_clock_set(T0);
	memset(&app, 0, sizeof(app));
	app.conf.cookie_name = "__session";
	app.conf.cookie_path = "/";
	app.conf.absolute_duration = 259200;
	app.conf.inactivity_duration = 86400;
	app.conf.cookie_same_site = AG_SAME_SITE_LAX;
	if (ag_cookie_key(secret, app.key) != AG_OK) {
		printf("Bail out! cannot derive the key\n");
		return 1;
	}
	test_names();
	test_cache(&app);
	test_cookies(&app);
	return tap_done();
}
