/*
 * fuzz-connection.c -- Token Vault input (lib/connection.c): the
 * __FC_<n> cookies read into connectionTokenSets (ag_fc_read), the
 * cached entry lookup (ag_connection_token without a refresh token, so
 * no network), ag_connection_prune, and the names a browser or API
 * sends (ag_connection_name_ok, ag_login_hint_ok, ag_myaccount_id_ok).
 *
 * The input is used three ways: its first line as a name, hint and
 * account id; the whole as a Cookie header (nothing in it is sealed
 * under the key, so no entry may come out); and, when it is JSON, as
 * entries -- an array, or the connectionTokenSets of an object, which
 * is also the session data.  The fuzzer cannot forge a sealed value,
 * so each entry is sealed into __FC_<i> and read back: the even ones
 * bound to the session (sub and sid, as ag_fc_write does), the odd
 * ones as they are -- those must not come out unless they name the
 * session themselves.
 *
 * Checked: every entry read is well-formed (accessToken, a valid
 * connection, integer expiresAt, no exp), at most
 * AG_MAX_CONNECTION_SETS, no more than were written bound to the
 * session, without the binding members; written again
 * with ag_fc_write and read back they are the same; a cached token is
 * handed out only for an unexpired entry of the asked connection and
 * hint; after a prune no entry of the connection is left.
 */
#include <string.h>

#include "ag_limits.h"
#include "app.h"
#include "buf.h"
#include "connection.h"
#include "cookie.h"
#include "crypto.h"
#include "err.h"
#include "fuzz.h"
#include "json.h"
#include "log.h"
#include "myaccount.h"
#include "rand.h"
#include "req.h"
#include "session.h"
#include "token.h"

/* 2023-11-14 */
#define NOW	1700000000
#define SETS	"connectionTokenSets"
#define SUB	"fuzz-sub"
#define SID	"fuzz-sid"
#define SESSION	"{\"user\":{\"sub\":\"" SUB "\"},\"internal\":{\"sid\":\"" \
	SID "\"}}"

static struct ag_app app;
static ag_json *session;	/* the session data the cookies belong to */

/* What an entry needs to be used (connection.h). */
static int
well_formed(const ag_json *e)
{
	int64_t t;

	return ag_json_type(e) == AG_JSON_OBJECT &&
	    ag_json_get_str(e, "accessToken") != NULL &&
	    ag_connection_name_ok(ag_json_get_str(e, "connection")) &&
	    ag_json_get_int(e, "expiresAt", &t) == AG_OK;
}

static void
names(const char *s)
{
	size_t n = strlen(s), i;

	if (ag_connection_name_ok(s)) {
		FUZZ_CHECK(n >= 1 && n <= AG_MAX_CONNECTION_NAME);
		FUZZ_CHECK(strspn(s, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n);
	}
	if (ag_login_hint_ok(s)) {
		FUZZ_CHECK(n >= 1 && n <= AG_MAX_LOGIN_HINT);
		for (i = 0; i < n; i++)
			FUZZ_CHECK((unsigned char)s[i] >= 0x20 &&
			    s[i] != 0x7f);
	}
	if (ag_myaccount_id_ok(s)) {
		FUZZ_CHECK(n >= 1 && n <= 128);
		FUZZ_CHECK(strchr(s, '/') == NULL && strchr(s, '%') == NULL &&
		    strchr(s, '?') == NULL);
	}
}

/* Read the __FC cookies of a Cookie header into a new sets array. */
static ag_json *
read_header(const char *h, size_t n, struct ag_cookies *jar)
{
	ag_json *data, *sets, *e;
	size_t i;

	memset(jar, 0, sizeof(*jar));
	if (ag_cookies_parse(h, n, jar) != AG_OK ||
	    (data = ag_json_copy(session)) == NULL)
		return NULL;
	if (ag_fc_read(&app, jar, data, NOW) != AG_OK) {
		ag_json_free(data);
		return NULL;
	}
	sets = ag_json_get(data, SETS);
	if (sets != NULL) {
		FUZZ_CHECK(ag_json_type(sets) == AG_JSON_ARRAY);
		FUZZ_CHECK(ag_json_array_len(sets) >= 1 &&
		    ag_json_array_len(sets) <= AG_MAX_CONNECTION_SETS);
		for (i = 0; i < ag_json_array_len(sets); i++) {
			e = ag_json_array_get(sets, i);
			FUZZ_CHECK(well_formed(e));
			FUZZ_CHECK(ag_json_get(e, "exp") == NULL);
			FUZZ_CHECK(ag_json_get(e, "sub") == NULL &&
			    ag_json_get(e, "sid") == NULL);
		}
		sets = ag_json_copy(sets);
	}
	ag_json_free(data);
	return sets;
}

/* The Set-Cookie lines of w as one Cookie header into out. */
static int
cookie_header(const struct ag_resp *w, struct ag_buf *out)
{
	static const char sc[] = "Set-Cookie: ";
	const char *p = ag_buf_str(&w->head), *eol;
	size_t n;

	while ((p = strstr(p, sc)) != NULL) {
		p += sizeof(sc) - 1;
		eol = p + strcspn(p, "\r\n");
		n = strcspn(p, ";\r\n");
		if (out->len > 0 && ag_buf_puts(out, "; ") != AG_OK)
			return -1;
		if (ag_buf_add(out, p, n) != AG_OK)
			return -1;
		p = eol;
	}
	return 0;
}

/* The entries of list sealed as __FC_<i>, read, written, read again. */
static void
round_trip(ag_json *list)
{
	struct ag_cookies jar, jar2;
	struct ag_buf hdr, sealed, again;
	struct ag_resp w;
	ag_json *sets = NULL, *sets2 = NULL, *e, *b;
	const char *d1, *sub, *sid;
	size_t i, n = ag_json_array_len(list), ok = 0;
	int bound;

	memset(&jar, 0, sizeof(jar));
	memset(&jar2, 0, sizeof(jar2));
	ag_buf_init(&hdr, AG_MAX_COOKIE_HEADER);
	ag_buf_init(&sealed, AG_MAX_SESSION_JSON);
	ag_buf_init(&again, AG_MAX_COOKIE_HEADER);
	ag_resp_init(&w);
	for (i = 0; i < n && i <= AG_MAX_CONNECTION_SETS; i++) {
		e = ag_json_array_get(list, i);
		if (ag_json_type(e) != AG_JSON_OBJECT ||
		    (b = ag_json_copy(e)) == NULL)
			continue;
		if (i % 2 == 0 && (ag_json_set_str(b, "sub", SUB) != AG_OK ||
		    ag_json_set_str(b, "sid", SID) != AG_OK)) {
			ag_json_free(b);
			continue;
		}
		sub = ag_json_get_str(b, "sub");
		sid = ag_json_get_str(b, "sid");
		bound = sub != NULL && strcmp(sub, SUB) == 0 && sid != NULL &&
		    strcmp(sid, SID) == 0;
		ag_buf_reset(&sealed);
		if (ag_seal(app.key, b, NOW + 3600, &sealed) != AG_OK) {
			ag_json_free(b);
			continue;
		}
		ag_json_free(b);
		if (i < AG_MAX_CONNECTION_SETS && well_formed(e) && bound)
			ok++;
		if (ag_buf_printf(&hdr, "%s%s%zu=%s", hdr.len > 0 ? "; " : "",
		    AG_FC_PREFIX, i, ag_buf_str(&sealed)) != AG_OK)
			goto out;
	}
	sets = read_header(ag_buf_str(&hdr), hdr.len, &jar);
	FUZZ_CHECK(ag_json_array_len(sets) <= ok);
	if (sets == NULL)
		goto out;

	/* Written back and read again: the same entries. */
	if (ag_fc_write(&app, &jar, session, sets, 3600, NOW, &w) != AG_OK ||
	    cookie_header(&w, &again) != 0)
		goto out;
	sets2 = read_header(ag_buf_str(&again), again.len, &jar2);
	FUZZ_CHECK(sets2 != NULL);
	d1 = ag_json_dump(sets);
	FUZZ_CHECK(d1 != NULL && strcmp(d1, ag_json_dump(sets2)) == 0);
 out:
	ag_json_free(sets);
	ag_json_free(sets2);
	ag_cookies_free(&jar);
	ag_cookies_free(&jar2);
	ag_buf_free(&hdr);
	ag_buf_free(&sealed);
	ag_buf_free(&again);
	ag_resp_free(&w);
}

/* The session data j: the cached token of its first entry, a prune. */
static void
cached(ag_json *j)
{
	struct ag_session s;
	struct ag_conn_req req;
	struct ag_conn_fail f;
	struct ag_token tok;
	ag_json *sets, *e, *first;
	const char *hint;
	int64_t t;
	size_t i, n;
	int r, changed, found = 0;

	memset(&s, 0, sizeof(s));
	memset(&req, 0, sizeof(req));
	if ((s.data = ag_json_copy(j)) == NULL)
		return;
	/* No refresh token: a miss ends in missing_refresh_token. */
	ag_json_del(s.data, "tokenSet");
	sets = ag_json_get(s.data, SETS);
	/* Asked for from j: the prune below frees the copy's strings. */
	first = ag_json_array_get(ag_json_get(j, SETS), 0);
	req.connection = ag_json_get_str(first, "connection");
	if (req.connection == NULL)
		req.connection = "google-oauth2";
	req.login_hint = ag_json_get_str(first, "loginHint");
	r = ag_connection_token(&app, &s, &req, &tok, &f);
	FUZZ_CHECK(r == AG_CONN_OK || r == AG_CONN_MISSING_REFRESH ||
	    r == AG_CONN_INVALID_REQUEST || r == AG_CONN_FAILED_EXCHANGE);
	FUZZ_CHECK(r == AG_CONN_OK || tok.access_token == NULL);
	if (r == AG_CONN_OK) {
		FUZZ_CHECK(tok.access_token != NULL);
		n = ag_json_array_len(sets);
		for (i = 0; i < n; i++) {
			e = ag_json_array_get(sets, i);
			hint = ag_json_get_str(e, "loginHint");
			if (well_formed(e) && strcmp(ag_json_get_str(e,
			    "connection"), req.connection) == 0 &&
			    ag_json_get_int(e, "expiresAt", &t) == AG_OK &&
			    t > NOW && tok.expires_at == t &&
			    strcmp(ag_json_get_str(e, "accessToken"),
			    tok.access_token) == 0 &&
			    (req.login_hint != NULL ? hint != NULL &&
			    strcmp(hint, req.login_hint) == 0 :
			    hint == NULL || *hint == '\0'))
				found = 1;
		}
		FUZZ_CHECK(found);
		FUZZ_CHECK(!tok.session_changed);
	}
	ag_token_clear(&tok);

	FUZZ_CHECK(ag_connection_prune(s.data, req.connection, &changed) ==
	    AG_OK);
	sets = ag_json_get(s.data, SETS);
	for (i = 0; i < ag_json_array_len(sets); i++) {
		e = ag_json_array_get(sets, i);
		FUZZ_CHECK(!well_formed(e) || strcmp(ag_json_get_str(e,
		    "connection"), req.connection) != 0);
	}
	if (changed)
		FUZZ_CHECK(sets == NULL || ag_json_array_len(sets) > 0);
	ag_json_free(s.data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_cookies jar;
	ag_json *j = NULL, *sets;
	char *s;

	ag_log_open("fuzz-connection", AG_LOG_ERROR, 0);
	ag_clock_set(NOW);
	memset(app.key, 0x33, sizeof(app.key));
	app.conf.cookie_path = "/";
	if (session == NULL && ag_json_parse(SESSION, strlen(SESSION),
	    AG_MAX_SESSION_JSON, &session) != AG_OK)
		return 0;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	s[strcspn(s, "\n")] = '\0';
	names(s);
	free(s);

	/* Nothing sealed under the key: no entry comes out. */
	sets = read_header((const char *)data, size, &jar);
	FUZZ_CHECK(sets == NULL);
	ag_cookies_free(&jar);

	if (ag_json_parse((const char *)data, size, AG_MAX_SESSION_JSON,
	    &j) != AG_OK)
		return 0;
	if (ag_json_type(j) == AG_JSON_ARRAY)
		round_trip(j);
	else if (ag_json_type(j) == AG_JSON_OBJECT) {
		if (ag_json_type(ag_json_get(j, SETS)) == AG_JSON_ARRAY)
			round_trip(ag_json_get(j, SETS));
		cached(j);
	}
	ag_json_free(j);
	return 0;
}
