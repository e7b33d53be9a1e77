/*
 * cmd-accounts.c -- `authgate accounts`: the user's connected accounts
 * (Auth0 My Account API, reference section 11.2) for scripts and
 * wrapped programs.
 *
 *	authgate accounts list [--json] [--set-cookie] [--session ID]
 *	authgate accounts disconnect [--set-cookie] [--session ID] ACCOUNT_ID
 *
 * The session as for `authgate token`: the request's (HTTP_COOKIE,
 * inside a program authgate-wrap started) or --session ID (SQLite
 * store).  The My Account token (audience {issuer}me/) comes from
 * ag_token_get with scope read:me:connected_accounts (list), plus
 * delete:me:connected_accounts (disconnect).  A session the token
 * changed (a refresh, perhaps rotating the refresh token) is written
 * back at once, before anything else can fail: the SQLite row always,
 * a cookie session with --set-cookie (the Set-Cookie lines on stdout,
 * before the command's output).
 *
 * list: GET .../connected-accounts/accounts, following "next" cursors
 * (at most AG_MAX_MYACCOUNT_PAGES pages; a cursor seen before -- a
 * repeat or a cycle -- is an error, as in the SDK); one line per account, "ID<TAB>CONNECTION<TAB>
 * ACCESS_TYPE<TAB>SCOPES<TAB>CREATED_AT" (fields with control bytes
 * are printed as "?"), or with --json the array of account objects.
 *
 * disconnect: the list first (the account must be the user's; its
 * connection is learnt), then DELETE .../accounts/ID; when no other
 * account of that connection remains, the connection's cached tokens
 * (connectionTokenSets) are dropped from the session, which is written
 * back: the SQLite row always, a cookie session with --set-cookie (the
 * Set-Cookie lines on stdout).
 *
 * Failures: "authgate: accounts: CODE: MESSAGE" on stderr, exit 1, with
 * CODE missing_session, failed_to_list, failed_to_delete or the token
 * error's code; bad usage exit 2.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "app.h"
#include "cmd-accounts.h"
#include "cmd-request.h"
#include "connection.h"
#include "cookie.h"
#include "db.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "myaccount.h"
#include "req.h"
#include "session.h"
#include "token.h"
#include "url.h"

#define EXIT_USAGE	2
#define CMD		"accounts"

static const char usage[] =
"usage: authgate [-c file] accounts list [--json] [--set-cookie] [--session ID]\n"
"       authgate [-c file] accounts disconnect [--set-cookie] [--session ID]\n"
"           ACCOUNT_ID\n";

struct acc_opts {
	const char	*session_id;
	int		 json;
	int		 set_cookie;
};

static int
fail(const char *code, const char *message)
{
	fprintf(stderr, "authgate: %s: %s: %s\n", CMD, code, message);
	return 1;
}

/* The session (see the top) into jar and s.  0, or 1 with the line. */
static int
session_of(struct ag_app *app, const struct acc_opts *o,
    struct ag_cookies *jar, struct ag_session *s)
{
	const char *why = NULL;
	int r;

	if (o->session_id != NULL)
		r = ag_session_read_id(app, o->session_id, s);
	else
		r = ag_cmd_request_session(app, jar, s, &why);
	if (r == AG_OK)
		return 0;
	if (r == AG_ERR_BUSY || r == AG_ERR_DB)
		return fail("store_unavailable", "the session store is "
		    "unavailable; try again shortly");
	return fail("missing_session", why != NULL ? why :
	    "no such session (absent or expired)");
}

/* 1 when the string s is one of the array seen. */
static int
seen_before(const ag_json *seen, const char *s)
{
	size_t i, n = ag_json_array_len(seen);
	const char *v;

	for (i = 0; i < n; i++)
		if ((v = ag_json_str(ag_json_array_get(seen, i))) != NULL &&
		    strcmp(v, s) == 0)
			return 1;
	return 0;
}

/*
 * Every account of the user into *out (an array, owned).  0, or 1 with
 * the line printed.
 */
static int
list_all(struct ag_app *app, const struct ag_token *tok, ag_json **out)
{
	struct ag_myaccount_resp ar;
	struct ag_buf path;
	char why[AG_WHY_LEN] = "";
	ag_json *all, *page, *seen;
	const char *next;
	size_t i, n;
	int pages, rc = 1;

	memset(&ar, 0, sizeof(ar));
	ag_buf_init(&path, AG_MAX_MYACCOUNT_FIELD * 3 + 64);
	/* The cursors followed: at most AG_MAX_MYACCOUNT_PAGES. */
	seen = ag_json_array();
	if ((all = ag_json_array()) == NULL || seen == NULL ||
	    ag_buf_puts(&path, "accounts") != AG_OK)
		goto nomem;
	for (pages = 0; pages < AG_MAX_MYACCOUNT_PAGES; pages++) {
		ag_myaccount_resp_clear(&ar);
		if (ag_myaccount_call(app, tok, "GET", ag_buf_str(&path), NULL,
		    &ar, why) != AG_OK || ar.status != 200 ||
		    ag_json_type(page = ag_json_get(ar.body, "accounts")) !=
		    AG_JSON_ARRAY) {
			ag_debug("%s", why);
			fail("failed_to_list", ar.status != 0 ? "the My Account "
			    "API refused the request" : why);
			goto out;
		}
		n = ag_json_array_len(page);
		for (i = 0; i < n; i++)
			if (ag_json_array_add(all, ag_json_copy(
			    ag_json_array_get(page, i))) != AG_OK)
				goto nomem;
		if ((next = ag_json_get_str(ar.body, "next")) == NULL ||
		    *next == '\0') {
			*out = all;
			all = NULL;
			rc = 0;
			goto out;
		}
		if (strlen(next) > AG_MAX_MYACCOUNT_FIELD ||
		    seen_before(seen, next)) {
			fail("failed_to_list", "the API repeated a page cursor");
			goto out;
		}
		ag_buf_reset(&path);
		if (ag_json_array_add(seen, ag_json_string(next)) != AG_OK ||
		    ag_buf_puts(&path, "accounts?") != AG_OK ||
		    ag_form_add(&path, "next", next) != AG_OK)
			goto nomem;
	}
	fail("failed_to_list", "too many pages");
	goto out;
nomem:
	fail("failed_to_list", "out of memory");
out:
	ag_myaccount_resp_clear(&ar);
	ag_json_free(all);
	ag_json_free(seen);
	ag_buf_free(&path);
	return rc;
}

/* A field for the text output: "?" for a missing or unsafe one. */
static const char *
safe(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0')
		return "?";
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "?";
	return s;
}

static void
print_account(ag_json *a)
{
	ag_json *scopes = ag_json_get(a, "scopes");
	size_t i, n = ag_json_array_len(scopes);

	printf("%s\t%s\t%s\t", safe(ag_json_get_str(a, "id")),
	    safe(ag_json_get_str(a, "connection")),
	    safe(ag_json_get_str(a, "access_type")));
	for (i = 0; i < n; i++)
		printf("%s%s", i > 0 ? " " : "", safe(ag_json_str(
		    ag_json_array_get(scopes, i))));
	printf("\t%s\n", safe(ag_json_get_str(a, "created_at")));
}

/* The session back after a change (see the top).  0 or 1. */
static int
save(struct ag_app *app, const struct acc_opts *o,
    const struct ag_cookies *jar, struct ag_session *s)
{
	struct ag_resp w;
	int r;

	if (app->conf.store != AG_STORE_SQLITE && !o->set_cookie)
		return 0;
	ag_resp_init(&w);
	if ((r = ag_session_write(app, jar, s, &w)) == AG_OK && o->set_cookie)
		ag_cmd_print_set_cookies(&w);
	ag_resp_free(&w);
	return r == AG_OK ? 0 : fail("session_write_failed", ag_strerror(r));
}

/* DELETE the account id; prune the session's cached tokens. */
static int
disconnect(struct ag_app *app, const struct acc_opts *o,
    const struct ag_cookies *jar, struct ag_session *s,
    const struct ag_token *tok, const char *id)
{
	struct ag_myaccount_resp ar;
	struct ag_buf path;
	char why[AG_WHY_LEN] = "";
	char connection[AG_MAX_CONNECTION_NAME + 1] = "";
	ag_json *all = NULL, *a;
	const char *c;
	size_t i, n, others = 0;
	int changed = 0, rc = 1;

	memset(&ar, 0, sizeof(ar));
	ag_buf_init(&path, 256);
	if (list_all(app, tok, &all) != 0)
		goto out;
	n = ag_json_array_len(all);
	for (i = 0; i < n; i++) {
		a = ag_json_array_get(all, i);
		c = ag_json_get_str(a, "connection");
		if (c == NULL || !ag_connection_name_ok(c))
			continue;
		if ((c = ag_json_get_str(a, "id")) != NULL &&
		    strcmp(c, id) == 0)
			snprintf(connection, sizeof(connection), "%s",
			    ag_json_get_str(a, "connection"));
	}
	if (connection[0] == '\0') {
		fail("failed_to_delete", "no such connected account");
		goto out;
	}
	for (i = 0; i < n; i++) {
		a = ag_json_array_get(all, i);
		if ((c = ag_json_get_str(a, "connection")) != NULL &&
		    strcmp(c, connection) == 0 &&
		    strcmp(safe(ag_json_get_str(a, "id")), id) != 0)
			others++;
	}
	if (ag_buf_printf(&path, "accounts/%s", id) != AG_OK ||
	    ag_myaccount_call(app, tok, "DELETE", ag_buf_str(&path), NULL, &ar,
	    why) != AG_OK || (ar.status != 204 && ar.status != 200)) {
		ag_debug("%s", why);
		fail("failed_to_delete", "the My Account API refused the "
		    "request");
		goto out;
	}
	if (others == 0 &&
	    ag_connection_prune(s->data, connection, &changed) != AG_OK)
		goto out;
	rc = changed ? save(app, o, jar, s) : 0;
out:
	ag_myaccount_resp_clear(&ar);
	ag_json_free(all);
	ag_buf_free(&path);
	return rc;
}

int
ag_cmd_accounts(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "set-cookie", no_argument, NULL, 'k' },
		{ "session", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct acc_opts o;
	struct ag_cookies jar;
	struct ag_session s;
	struct ag_token tok;
	struct ag_token_fail f;
	const char *sub, *id = NULL, *json;
	ag_json *all = NULL;
	size_t i;
	int ch, list, r, rc = 1;

	memset(&o, 0, sizeof(o));
	/* The subcommand is argv[0] of its own option scan (as sessions). */
	sub = argc > 1 ? argv[1] : "";
	if (argc > 1) {
		argc--;
		argv++;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			o.json = 1;
			break;
		case 'k':
			o.set_cookie = 1;
			break;
		case 's':
			o.session_id = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	list = strcmp(sub, "list") == 0;
	if (!list && strcmp(sub, "disconnect") == 0 && argc - optind == 1)
		id = argv[optind];
	if ((!list && id == NULL) || (list && argc != optind) ||
	    (id != NULL && !ag_myaccount_id_ok(id)) ||
	    (o.json && !list) || (o.set_cookie && o.session_id != NULL) ||
	    (o.session_id != NULL &&
	    (!ag_db_id_ok(o.session_id) ||
	    app->conf.store != AG_STORE_SQLITE))) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}

	memset(&jar, 0, sizeof(jar));
	memset(&s, 0, sizeof(s));
	memset(&tok, 0, sizeof(tok));
	memset(&f, 0, sizeof(f));
	if (session_of(app, &o, &jar, &s) != 0)
		goto out;
	r = ag_myaccount_token(app, &s, list ? AG_MYACCOUNT_READ :
	    AG_MYACCOUNT_READ " " AG_MYACCOUNT_DELETE, &tok, &f);
	/*
	 * A refreshed session (perhaps a rotated refresh token) is kept at
	 * once, whatever fails later.
	 */
	if (tok.session_changed && save(app, &o, &jar, &s) != 0)
		goto out;
	tok.session_changed = 0;
	if (r != AG_TOKEN_OK) {
		ag_debug("%s: %s", CMD, f.why);
		fail(ag_token_code(f.err), f.message != NULL ? f.message :
		    ag_token_message(f.err));
		goto out;
	}
	if (!list) {
		rc = disconnect(app, &o, &jar, &s, &tok, id);
		goto out;
	}
	if (list_all(app, &tok, &all) != 0)
		goto out;
	if (o.json) {
		if ((json = ag_json_dump(all)) == NULL) {
			fail("failed_to_list", "out of memory");
			goto out;
		}
		printf("%s\n", json);
	} else
		for (i = 0; i < ag_json_array_len(all); i++)
			print_account(ag_json_array_get(all, i));
	rc = fflush(stdout) != 0;
out:
	ag_json_free(all);
	ag_token_clear(&tok);
	ag_token_fail_clear(&f);
	ag_cookies_free(&jar);
	ag_session_free(&s);
	return rc;
}
