/*
 * cmd-token.c -- access tokens for scripts: `authgate token` and
 * `authgate fetch`, the SDK's getAccessToken and createFetcher
 * (reference sections 8 and 9.4) for legacy programs and cron jobs.
 *
 * The session: inside a program authgate-wrap started, the request's
 * own (HTTP_COOKIE); elsewhere `--session ID`, a row of the SQLite
 * store (the operator's: the CLI drops the authgate group for it).
 *
 * The token: ag_token_get, exactly what GET /auth/access-token does --
 * selection, refresh with rotation, coalescing with every other
 * process refreshing the same refresh token.  A changed session is
 * written back like the route writes it: the SQLite row always; a
 * cookie session only with `token --set-cookie`, which prints the
 * Set-Cookie lines for the program to emit among its headers (a CLI
 * cannot set a cookie itself).  Without it the refreshed tokens of a
 * cookie session are not kept, which is safe: the refresh outcome is
 * shared through the coordination table for AG_REFRESH_KEEP_SECS, and
 * the browser's next request refreshes again through the route.
 *
 * fetch, after the token: the group is dropped for good (the request
 * body file and the API are the caller's business, never read with
 * the authgate group), then one request with "Authorization: Bearer",
 * no redirect followed, https only unless allow_insecure_requests, the
 * response body (at most AG_MAX_FETCH_RESPONSE bytes, binary safe) on
 * stdout and "HTTP <status>" on stderr.  A DPoP-bound token (token_type
 * dpop) goes as "Authorization: DPoP" with a DPoP proof (ath included);
 * a resource server's use_dpop_nonce challenge (401, WWW-Authenticate
 * DPoP error="use_dpop_nonce" with a DPoP-Nonce) is answered by one
 * more request.  With dpop off, a DPoP-bound token is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "app.h"
#include "cmd-request.h"
#include "cmd-token.h"
#include "connection.h"
#include "cookie.h"
#include "db.h"
#include "dpop.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "oidc.h"
#include "priv.h"
#include "rand.h"
#include "req.h"
#include "session.h"
#include "token.h"

#define EXIT_USAGE	2

static const char token_usage[] =
"usage: authgate [-c file] token [--audience A] [--scope S] "
"[--no-merge-scopes]\n"
"           [--refresh] [--json] [--set-cookie] [--session ID]\n"
"       authgate [-c file] token --connection NAME [--login-hint H]\n"
"           [--subject-token-type access_token|refresh_token] [--json]\n"
"           [--set-cookie] [--session ID]\n";

static const char fetch_usage[] =
"usage: authgate [-c file] fetch [--method M] [--data BODY | --data-file F]\n"
"           [--header 'Name: value']... [--base-url URL] [--audience A]\n"
"           [--scope S] [--no-merge-scopes] [--refresh] [--session ID] "
"URL\n";

/* What both commands ask for. */
struct tok_opts {
	struct ag_token_req	 treq;
	const char		*session_id;	/* --session, or NULL */
	int			 set_cookie;	/* token --set-cookie */
	int			 json;		/* token --json */
	struct ag_conn_req	 creq;		/* token --connection */
};

/* Long option codes shared by both commands. */
enum {
	OPT_AUDIENCE = 256, OPT_SCOPE, OPT_NO_MERGE, OPT_REFRESH,
	OPT_SESSION, OPT_JSON, OPT_SET_COOKIE, OPT_METHOD, OPT_DATA,
	OPT_DATA_FILE, OPT_HEADER, OPT_BASE_URL, OPT_CONNECTION,
	OPT_LOGIN_HINT, OPT_SUBJECT_TYPE
};

/* 1 when ch was one of the token options (and is now in o). */
static int
token_option(int ch, struct tok_opts *o)
{
	switch (ch) {
	case OPT_AUDIENCE:
		o->treq.audience = *optarg != '\0' ? optarg : NULL;
		return 1;
	case OPT_SCOPE:
		o->treq.scope = *optarg != '\0' ? optarg : NULL;
		return 1;
	case OPT_NO_MERGE:
		o->treq.no_merge_scopes = 1;
		return 1;
	case OPT_REFRESH:
		o->treq.force_refresh = 1;
		return 1;
	case OPT_SESSION:
		o->session_id = optarg;
		return 1;
	}
	return 0;
}

/* --session ID: the SQLite store and a well-formed id, else usage. */
static int
check_session_opt(const struct ag_app *app, const char *cmd,
    const struct tok_opts *o)
{
	if (o->session_id == NULL)
		return 0;
	if (!ag_db_id_ok(o->session_id)) {
		fprintf(stderr, "authgate: %s: --session: not a session id "
		    "(%d lower-case hex characters; see 'authgate sessions "
		    "list')\n", cmd, AG_DB_ID_LEN);
		return EXIT_USAGE;
	}
	if (app->conf.store != AG_STORE_SQLITE) {
		fprintf(stderr, "authgate: %s: --session needs "
		    "session.store = sqlite\n", cmd);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * token --connection and friends: a valid name and hint, a known
 * subject token type, no --audience/--scope/--refresh besides.  0 or
 * EXIT_USAGE with the line printed.
 */
static int
check_connection_opts(struct tok_opts *o, const char *stt)
{
	const char *bad = NULL;

	if (o->creq.connection == NULL)
		bad = o->creq.login_hint != NULL || stt != NULL ?
		    "--login-hint and --subject-token-type need --connection" :
		    NULL;
	else if (!ag_connection_name_ok(o->creq.connection))
		bad = "--connection: not a connection name";
	else if (o->creq.login_hint != NULL &&
	    !ag_login_hint_ok(o->creq.login_hint))
		bad = "--login-hint: empty, too long or with control bytes";
	else if (o->treq.audience != NULL || o->treq.scope != NULL ||
	    o->treq.force_refresh || o->treq.no_merge_scopes)
		bad = "--connection goes with neither --audience, --scope, "
		    "--no-merge-scopes nor --refresh";
	else if (stt != NULL && strcmp(stt, "access_token") == 0)
		o->creq.subject_access_token = 1;
	else if (stt != NULL && strcmp(stt, "refresh_token") != 0)
		bad = "--subject-token-type: access_token or refresh_token";
	if (bad == NULL)
		return 0;
	fprintf(stderr, "authgate: token: %s\n", bad);
	return EXIT_USAGE;
}

/* The one failure line: "authgate: CMD: CODE: MESSAGE". */
static void
fail_line(const char *cmd, const char *code, const char *message)
{
	fprintf(stderr, "authgate: %s: %s: %s\n", cmd, code, message);
}

/* The mfa_required line, with the provider's description if any. */
static void
fail_mfa(const char *cmd, const struct ag_token_fail *f)
{
	const char *d = ag_json_get_str(f->mfa, "error_description");
	size_t i;

	/* A hostile description must not forge lines. */
	if (d != NULL)
		for (i = 0; d[i] != '\0'; i++)
			if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f) {
				d = NULL;
				break;
			}
	fail_line(cmd, ag_token_code(AG_TOKEN_MFA_REQUIRED), d != NULL ? d :
	    "multi-factor authentication is required for this token");
}

/* token --json on mfa_required: the route's 403 body, for step-up. */
static void
print_mfa_body(struct ag_app *app, const struct ag_token_fail *f)
{
	struct ag_buf body;

	ag_buf_init(&body, 64 * 1024);
	if (ag_token_mfa_body(app, f, ag_now(), &body) == AG_OK)
		printf("%s\n", ag_buf_str(&body));
	ag_buf_free(&body);
}

/*
 * Write the changed session back (see the top comment).  The
 * Set-Cookie lines, when asked for, are printed at once: they come
 * before whatever the command prints next.  0, or 1 with the line.
 */
static int
write_back(struct ag_app *app, const char *cmd, const struct tok_opts *o,
    const struct ag_cookies *jar, struct ag_session *s)
{
	struct ag_resp w;
	int r;

	if (app->conf.store != AG_STORE_SQLITE && !o->set_cookie) {
		ag_debug("%s: cookie session refreshed; not kept (no "
		    "--set-cookie)", cmd);
		return 0;
	}
	ag_resp_init(&w);
	if ((r = ag_session_write(app, jar, s, &w)) == AG_OK) {
		if (o->set_cookie)
			ag_cmd_print_set_cookies(&w);
	} else if (r == AG_ERR_NOTFOUND)
		fail_line(cmd, ag_token_code(AG_TOKEN_MISSING_SESSION),
		    "the session ended meanwhile");
	else if (r == AG_ERR_BUSY || r == AG_ERR_DB)
		fail_line(cmd, ag_token_code(AG_TOKEN_STORE),
		    "the session store is unavailable; try again shortly");
	else
		fail_line(cmd, "session_write_failed", r == AG_ERR_LIMIT ?
		    "the session would be too large for its cookie" :
		    ag_strerror(r));
	ag_resp_free(&w);
	return r == AG_OK ? 0 : 1;
}

/*
 * token --connection: the Token Vault token of s (ag_connection_token)
 * into tok, the session written back when it changed (also after a
 * failed exchange, which drops the stale cached entry).  0, or 1 with
 * the failure line printed.
 */
static int
connection_token(struct ag_app *app, const char *cmd,
    const struct tok_opts *o, const struct ag_cookies *jar,
    struct ag_session *s, struct ag_token *tok)
{
	struct ag_conn_fail f;
	int r;

	r = ag_connection_token(app, s, &o->creq, tok, &f);
	if (r != AG_CONN_OK)
		ag_debug("%s: %s: %s %s", cmd, ag_conn_code(f.err), f.why,
		    f.error);
	if (tok->session_changed && write_back(app, cmd, o, jar, s) != 0)
		return 1;
	if (r != AG_CONN_OK) {
		fail_line(cmd, ag_conn_code(f.err), ag_conn_message(f.err));
		return 1;
	}
	return 0;
}

/*
 * The access token per o into tok: the session, ag_token_get, the
 * session written back.  0, or 1 with the failure line printed (and,
 * for token --json, the mfa_required body on stdout).
 */
static int
obtain(struct ag_app *app, const char *cmd, const struct tok_opts *o,
    struct ag_token *tok)
{
	struct ag_cookies jar;
	struct ag_session s;
	struct ag_token_fail f;
	const char *why = NULL;
	int r, rc = 1;

	memset(&jar, 0, sizeof(jar));
	memset(&s, 0, sizeof(s));
	memset(&f, 0, sizeof(f));
	memset(tok, 0, sizeof(*tok));

	if (o->session_id != NULL) {
		if ((r = ag_session_read_id(app, o->session_id, &s)) ==
		    AG_ERR_NOTFOUND)
			why = "no such session (absent or expired)";
	} else if ((r = ag_cmd_request_session(app, &jar, &s, &why)) ==
	    AG_ERR_NOTFOUND && getenv("HTTP_COOKIE") == NULL)
		why = "no HTTP_COOKIE in the environment (run this from a "
		    "program authgate-wrap started, or use --session ID)";
	if (r != AG_OK) {
		if (r == AG_ERR_BUSY || r == AG_ERR_DB)
			fail_line(cmd, ag_token_code(AG_TOKEN_STORE),
			    "the session store is unavailable; try again "
			    "shortly");
		else
			fail_line(cmd, ag_token_code(AG_TOKEN_MISSING_SESSION),
			    why != NULL ? why : ag_strerror(r));
		goto out;
	}

	if (o->creq.connection != NULL) {
		rc = connection_token(app, cmd, o, &jar, &s, tok);
		goto out;
	}
	if ((r = ag_token_get(app, &s, &o->treq, tok, &f)) != AG_TOKEN_OK) {
		ag_debug("%s: %s: %s", cmd, ag_token_code(f.err), f.why);
		if (r == AG_TOKEN_MFA_REQUIRED) {
			if (o->json)
				print_mfa_body(app, &f);
			fail_mfa(cmd, &f);
		} else
			fail_line(cmd, ag_token_code(f.err), f.message != NULL ?
			    f.message : ag_token_message(f.err));
		goto out;
	}
	if (tok->session_changed && write_back(app, cmd, o, &jar, &s) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ag_token_clear(tok);
	ag_token_fail_clear(&f);
	ag_cookies_free(&jar);
	ag_session_free(&s);
	return rc;
}

/* {token, scope?, expires_at, expires_in, token_type?}, as the route. */
static int
print_json(const struct ag_token *t)
{
	ag_json *o;
	const char *json;
	int64_t in = t->expires_at - ag_now();
	int rc = 1;

	if ((o = ag_json_object()) == NULL)
		return 1;
	if (ag_json_set_str(o, "token", t->access_token) == AG_OK &&
	    (t->scope == NULL || ag_json_set_str(o, "scope", t->scope) ==
	    AG_OK) &&
	    ag_json_set_int(o, "expires_at", t->expires_at) == AG_OK &&
	    ag_json_set_int(o, "expires_in", in > 0 ? in : 0) == AG_OK &&
	    (t->token_type == NULL || ag_json_set_str(o, "token_type",
	    t->token_type) == AG_OK) && (json = ag_json_dump(o)) != NULL) {
		printf("%s\n", json);
		rc = 0;
	}
	ag_json_free(o);
	return rc;
}

int
ag_cmd_token(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "audience", required_argument, NULL, OPT_AUDIENCE },
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "no-merge-scopes", no_argument, NULL, OPT_NO_MERGE },
		{ "refresh", no_argument, NULL, OPT_REFRESH },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "set-cookie", no_argument, NULL, OPT_SET_COOKIE },
		{ "connection", required_argument, NULL, OPT_CONNECTION },
		{ "login-hint", required_argument, NULL, OPT_LOGIN_HINT },
		{ "subject-token-type", required_argument, NULL,
		    OPT_SUBJECT_TYPE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct tok_opts o;
	struct ag_token tok;
	const char *stt = NULL;
	int ch, rc;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (token_option(ch, &o))
			continue;
		switch (ch) {
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_SET_COOKIE:
			o.set_cookie = 1;
			break;
		case OPT_CONNECTION:
			o.creq.connection = optarg;
			break;
		case OPT_LOGIN_HINT:
			o.creq.login_hint = optarg;
			break;
		case OPT_SUBJECT_TYPE:
			stt = optarg;
			break;
		case 'h':
			fputs(token_usage, stdout);
			return 0;
		default:
			fputs(token_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "authgate: token: unexpected argument '%s'\n",
		    argv[optind]);
		fputs(token_usage, stderr);
		return EXIT_USAGE;
	}
	if ((rc = check_session_opt(app, "token", &o)) != 0 ||
	    (rc = check_connection_opts(&o, stt)) != 0)
		return rc;
	if (o.set_cookie && o.session_id != NULL) {
		fprintf(stderr, "authgate: token: --set-cookie is for the "
		    "request's session, not --session\n");
		return EXIT_USAGE;
	}
	if (obtain(app, "token", &o, &tok) != 0)
		return 1;
	if (o.json)
		rc = print_json(&tok);
	else
		rc = printf("%s\n", tok.access_token) < 0;
	if (fflush(stdout) != 0 || rc != 0) {
		fprintf(stderr, "authgate: token: cannot write the token\n");
		rc = 1;
	}
	ag_token_clear(&tok);
	return rc;
}

/* ------------------------------------------------------------------ */
/* fetch                                                              */

/* 1 when s starts with a URI scheme ("ALPHA *(ALPHA/DIGIT/+-.) :"). */
static int
has_scheme(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (s[i] == ':')
			return 1;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	}
	return 0;
}

/*
 * Append path (n bytes) to out with its dot segments removed (RFC 3986
 * section 5.2.4).
 */
static int
put_path(struct ag_buf *out, const char *path, size_t n)
{
	char *in, *p, *slash;
	size_t start = out->len, seg;
	int r = AG_OK;

	if ((in = ag_strndup(path, n)) == NULL)
		return AG_ERR_NOMEM;
	p = in;
	while (*p != '\0' && r == AG_OK) {
		if (strncmp(p, "../", 3) == 0)
			p += 3;
		else if (strncmp(p, "./", 2) == 0)
			p += 2;
		else if (strncmp(p, "/./", 3) == 0)
			p += 2;
		else if (strcmp(p, "/.") == 0) {
			p[1] = '/';
			p += 1;
		} else if (strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0) {
			if (p[3] == '\0') {
				p[2] = '/';
				p += 2;
			} else
				p += 3;
			/* Drop the last segment written. */
			out->data[out->len] = '\0';
			slash = strrchr(out->data + start, '/');
			out->len = slash != NULL ?
			    (size_t)(slash - out->data) : start;
			out->data[out->len] = '\0';
		} else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
			p += strlen(p);
		else {
			seg = strcspn(p + 1, "/") + 1;
			r = ag_buf_add(out, p, seg);
			p += seg;
		}
	}
	free(in);
	return r;
}

/*
 * Resolve ref against base (RFC 3986 section 5.2) into out: an
 * absolute ref is taken as it is; a relative one needs an absolute
 * http(s) base.  AG_ERR_PARSE when base is not one.
 */
static int
resolve_url(const char *base, const char *ref, struct ag_buf *out)
{
	const char *auth, *path, *end, *bq, *rend, *rq;
	struct ag_buf m;
	size_t n;
	int r;

	if (has_scheme(ref))
		return ag_buf_puts(out, ref);
	if (base == NULL || !has_scheme(base) ||
	    (auth = strstr(base, "://")) == NULL)
		return AG_ERR_PARSE;
	auth += 3;
	path = auth + strcspn(auth, "/?#");
	if (path == auth)
		return AG_ERR_PARSE;
	end = path + strcspn(path, "?#");	/* end of base's path */
	bq = end + strcspn(end, "#");		/* end of base's query */
	if (strncmp(ref, "//", 2) == 0)		/* network-path */
		return ag_buf_add(out, base, (size_t)(auth - 2 - base)) ==
		    AG_OK ? ag_buf_puts(out, ref) : AG_ERR_LIMIT;
	if ((r = ag_buf_add(out, base, (size_t)(path - base))) != AG_OK)
		return r;
	rend = ref + strcspn(ref, "?#");	/* end of ref's path */
	rq = rend;
	if (rend == ref) {			/* no path: base's */
		if ((r = ag_buf_add(out, path, (size_t)(end - path))) !=
		    AG_OK)
			return r;
		if (*ref != '?' && (r = ag_buf_add(out, end,
		    (size_t)(bq - end))) != AG_OK)
			return r;
	} else if (*ref == '/') {
		if ((r = put_path(out, ref, (size_t)(rend - ref))) != AG_OK)
			return r;
	} else {
		/* Merge: base's path up to its last '/', then ref's. */
		ag_buf_init(&m, AG_MAX_QUERY);
		for (n = (size_t)(end - path); n > 0 && path[n - 1] != '/'; n--)
			;
		if ((r = n == 0 ? ag_buf_putc(&m, '/') :
		    ag_buf_add(&m, path, n)) == AG_OK &&
		    (r = ag_buf_add(&m, ref, (size_t)(rend - ref))) == AG_OK)
			r = put_path(out, ag_buf_str(&m), m.len);
		ag_buf_free(&m);
		if (r != AG_OK)
			return r;
	}
	return ag_buf_puts(out, rq);
}

/* Read all of file F ("-": standard input) into out, bounded. */
static int
read_file(const char *name, struct ag_buf *out)
{
	FILE *f;
	char chunk[8192];
	size_t n;
	int r = AG_OK;

	if (strcmp(name, "-") == 0)
		f = stdin;
	else if ((f = fopen(name, "rb")) == NULL)
		return AG_ERR_IO;
	while (r == AG_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = ag_buf_add(out, chunk, n);
	if (r == AG_OK && ferror(f))
		r = AG_ERR_IO;
	if (f != stdin)
		fclose(f);
	explicit_bzero(chunk, sizeof(chunk));
	return r;
}

int
ag_cmd_read_file(const char *name, struct ag_buf *out)
{
	return read_file(name, out);
}

/* A --header value as ag_http_do takes it, or a usage message. */
static int
check_header(const char *h)
{
	if (ag_http_header_ok(h))
		return 0;
	fprintf(stderr, "authgate: fetch: --header '%.64s': want 'Name: "
	    "value' (no control bytes; Authorization, DPoP, Host and the "
	    "framing headers are set by authgate)\n", h);
	return EXIT_USAGE;
}

/* A method name fetch sends. */
static int
method_ok(const char *m)
{
	static const char *const methods[] = { "GET", "POST", "PUT",
	    "PATCH", "DELETE" };
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(*methods); i++)
		if (strcmp(m, methods[i]) == 0)
			return 1;
	return 0;
}

int
ag_cmd_fetch(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "audience", required_argument, NULL, OPT_AUDIENCE },
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "no-merge-scopes", no_argument, NULL, OPT_NO_MERGE },
		{ "refresh", no_argument, NULL, OPT_REFRESH },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "data-file", required_argument, NULL, OPT_DATA_FILE },
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "base-url", required_argument, NULL, OPT_BASE_URL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *headers[AG_MAX_FETCH_HEADERS + 1];
	const char *method = NULL, *data = NULL, *data_file = NULL;
	const char *base_url = NULL, *url;
	struct tok_opts o;
	struct ag_token tok;
	struct ag_http_req req;
	struct ag_dpop *dpop = NULL;
	struct ag_http_resp resp;
	struct ag_buf target, body, authz;
	char why[256];
	size_t nheaders = 0;
	int ch, rc = 1, r, has_ctype = 0;

	memset(&o, 0, sizeof(o));
	memset(&tok, 0, sizeof(tok));
	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&target, AG_MAX_QUERY);
	ag_buf_init(&body, AG_MAX_FETCH_BODY);
	ag_buf_init(&authz, AG_MAX_JWT + 16);

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (token_option(ch, &o))
			continue;
		switch (ch) {
		case OPT_METHOD:
			method = optarg;
			break;
		case OPT_DATA:
			data = optarg;
			break;
		case OPT_DATA_FILE:
			data_file = optarg;
			break;
		case OPT_HEADER:
			if (nheaders >= AG_MAX_FETCH_HEADERS) {
				fprintf(stderr, "authgate: fetch: at most %d "
				    "--header\n", AG_MAX_FETCH_HEADERS);
				rc = EXIT_USAGE;
				goto out;
			}
			if ((rc = check_header(optarg)) != 0)
				goto out;
			if (strncasecmp(optarg, "Content-Type:", 13) == 0)
				has_ctype = 1;
			headers[nheaders++] = optarg;
			break;
		case OPT_BASE_URL:
			base_url = optarg;
			break;
		case 'h':
			fputs(fetch_usage, stdout);
			rc = 0;
			goto out;
		default:
			fputs(fetch_usage, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	headers[nheaders] = NULL;

	/* Usage: one URL, resolvable; a known method; one body source. */
	rc = EXIT_USAGE;
	if (optind + 1 != argc) {
		fprintf(stderr, "authgate: fetch: %s\n", optind == argc ?
		    "a URL is required" : "one URL only");
		fputs(fetch_usage, stderr);
		goto out;
	}
	url = argv[optind];
	if (data != NULL && data_file != NULL) {
		fprintf(stderr, "authgate: fetch: --data or --data-file, not "
		    "both\n");
		goto out;
	}
	if (method == NULL)
		method = data != NULL || data_file != NULL ? "POST" : "GET";
	if (!method_ok(method)) {
		fprintf(stderr, "authgate: fetch: --method: GET, POST, PUT, "
		    "PATCH or DELETE\n");
		goto out;
	}
	if (strcmp(method, "GET") == 0 && (data != NULL || data_file != NULL)) {
		fprintf(stderr, "authgate: fetch: a GET request has no "
		    "body\n");
		goto out;
	}
	if (base_url != NULL && !(has_scheme(base_url) &&
	    strstr(base_url, "://") != NULL)) {
		fprintf(stderr, "authgate: fetch: --base-url must be an "
		    "absolute URL\n");
		goto out;
	}
	if ((r = resolve_url(base_url, url, &target)) != AG_OK) {
		fprintf(stderr, "authgate: fetch: %s\n", r == AG_ERR_PARSE ?
		    "a relative URL needs --base-url" :
		    "the URL is too long");
		goto out;
	}
	if ((rc = check_session_opt(app, "fetch", &o)) != 0)
		goto out;
	rc = 1;

	/* The token, with the authgate group; then without it. */
	if (obtain(app, "fetch", &o, &tok) != 0)
		goto out;
	if (tok.token_type != NULL && strcasecmp(tok.token_type, "dpop") == 0 &&
	    (dpop = ag_oidc_dpop(app->oidc)) == NULL) {
		fail_line("fetch", "dpop_configuration_error", "the access "
		    "token is DPoP-bound (token_type dpop) but dpop is off");
		goto out;
	}
	ag_app_db_close(app);
	if (ag_priv_drop(why, sizeof(why)) != AG_OK) {
		fprintf(stderr, "authgate: fetch: %s\n", why);
		goto out;
	}
	if (data_file != NULL && (r = read_file(data_file, &body)) != AG_OK) {
		fprintf(stderr, "authgate: fetch: --data-file %s: %s\n",
		    data_file, r == AG_ERR_LIMIT ? "larger than the limit" :
		    strerror(errno));
		goto out;
	}
	if (data != NULL && ag_buf_puts(&body, data) != AG_OK) {
		fprintf(stderr, "authgate: fetch: --data: larger than the "
		    "limit\n");
		goto out;
	}
	if (ag_buf_printf(&authz, "%s %s", dpop != NULL ? "DPoP" : "Bearer",
	    tok.access_token) != AG_OK) {
		fail_line("fetch", "invalid_token", "the access token is too "
		    "long");
		goto out;
	}

	ag_oidc_http_req(&app->conf, &req, method, ag_buf_str(&target), NULL);
	req.other_methods = 1;
	req.body = body.len > 0 ? body.data : NULL;
	req.body_len = body.len;
	req.content_type = has_ctype ? NULL : "application/json";
	req.accept = "*/*";
	req.authorization = ag_buf_str(&authz);
	req.max_body = AG_MAX_FETCH_RESPONSE;
	req.headers = headers;
	if (dpop != NULL)
		r = ag_dpop_http(dpop, &req, tok.access_token, &resp);
	else
		r = ag_http_do(&req, &resp);
	if (r != AG_OK) {
		if (r == AG_ERR_LIMIT)
			fprintf(stderr, "authgate: fetch: %s: the response is "
			    "larger than %d bytes\n", ag_buf_str(&target),
			    AG_MAX_FETCH_RESPONSE);
		else
			fprintf(stderr, "authgate: fetch: %s: %s\n",
			    ag_buf_str(&target), resp.error[0] != '\0' ?
			    resp.error : ag_strerror(r));
		goto out;
	}
	if (resp.body.len > 0 &&
	    fwrite(resp.body.data, 1, resp.body.len, stdout) != resp.body.len)
		r = AG_ERR_IO;
	if (fflush(stdout) != 0 || r != AG_OK) {
		fprintf(stderr, "authgate: fetch: cannot write the response\n");
		goto out;
	}
	fprintf(stderr, "HTTP %ld\n", resp.status);
	rc = resp.status >= 200 && resp.status <= 299 ? 0 : 1;
out:
	ag_http_resp_free(&resp);
	ag_token_clear(&tok);
	ag_buf_free(&authz);
	ag_buf_free(&body);
	ag_buf_free(&target);
	return rc;
}
