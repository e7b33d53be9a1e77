/*
 * h-connect.c -- Connected Accounts (reference sections 4.8 and 11.2):
 * GET /auth/connect starts linking a third-party account (Google,
 * GitHub...) to the user through Auth0's My Account API; the provider
 * comes back to /auth/callback with connect_code, whose transaction
 * h-callback.c hands to ag_connect_complete below.
 *
 * GET /auth/connect?connection=NAME[&returnTo=PATH][&scopes=S]...:
 *  1. connect_account_endpoint = off: 404.
 *  2. The query: parses, connection and returnTo at most once;
 *     connection missing: 400 "A connection is required."; malformed
 *     connection: 400; more than AG_MAX_CONNECT_SCOPES scopes: 400.
 *  3. The session: none 401 text; database trouble 503.
 *  4. A My Account token (audience {issuer}me/, scope
 *     create:me:connected_accounts) through ag_token_get: mfa_required
 *     403 JSON (as /auth/access-token); any other failure 401
 *     "Failed to retrieve a connected account access token.".
 *  5. returnTo: same-origin (ag_return_to, as /auth/login), else
 *     default_return_to.  Fresh state and PKCE verifier.
 *  6. POST {issuer}me/v1/connected-accounts/connect {connection,
 *     redirect_uri, state, code_challenge, code_challenge_method S256,
 *     scopes?, authorization_params? (every other query parameter)}.
 *     An error answer: its status (4xx/5xx, else 500) with "The
 *     request to initiate the connect account flow failed with status
 *     N."; no answer: 500.  The answer must carry connect_uri (an
 *     absolute https URL, http too with allow_insecure_requests),
 *     connect_params.ticket and auth_session, each bounded.
 *  7. The transaction cookie (lib/txn.c, capped like a login's):
 *     {state, codeVerifier, responseType "connect_code", returnTo,
 *     authSession, connection}; the session written back when the token
 *     step changed it; 307 to connect_uri?ticket=...
 *
 * Everything answered carries Cache-Control: no-store.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "connection.h"
#include "crypto.h"
#include "b64.h"
#include "err.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "myaccount.h"
#include "rand.h"
#include "session.h"
#include "token.h"
#include "txn.h"
#include "url.h"

#define MSG_CONNECTION	"A connection is required."
#define MSG_NO_SESSION	"The user does not have an active session."
#define MSG_NO_TOKEN	"Failed to retrieve a connected account access token."
#define MSG_INITIATE	"An unexpected error occurred while trying to " \
	"initiate the connect account flow."
#define MSG_COMPLETE	"An unexpected error occurred while trying to " \
	"complete the connect account flow."

/* Query parameters that are not authorization_params. */
static const char *const own[] = { "connection", "returnTo", "scopes" };

/* 1 when name is one of own[]. */
static int
is_own(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(own) / sizeof(*own); i++)
		if (strcmp(name, own[i]) == 0)
			return 1;
	return 0;
}

/* The S256 code challenge of verifier into out. */
static int
challenge(const char *verifier, struct ag_buf *out)
{
	unsigned char h[AG_SHA256_LEN];
	int r;

	if ((r = ag_sha256(verifier, strlen(verifier), h)) != AG_OK)
		return r;
	return ag_b64url_encode(out, h, sizeof(h));
}

/*
 * The connect request body (step 6), *out owned by the caller.
 */
static int
connect_body(const struct ag_params *q, const char *redirect_uri,
    const char *state, const char *code_challenge, ag_json **out)
{
	ag_json *o, *scopes = NULL, *ap = NULL;
	size_t i;
	int r = AG_ERR_NOMEM;

	*out = NULL;
	if ((o = ag_json_object()) == NULL)
		return AG_ERR_NOMEM;
	if (ag_json_set_str(o, "connection", ag_params_get(q,
	    "connection")) != AG_OK ||
	    ag_json_set_str(o, "redirect_uri", redirect_uri) != AG_OK ||
	    ag_json_set_str(o, "state", state) != AG_OK ||
	    ag_json_set_str(o, "code_challenge", code_challenge) != AG_OK ||
	    ag_json_set_str(o, "code_challenge_method", "S256") != AG_OK)
		goto out;
	for (i = 0; i < q->n; i++) {
		ag_json **dst = strcmp(q->v[i].name, "scopes") == 0 ?
		    &scopes : is_own(q->v[i].name) ? NULL : &ap;

		if (dst == NULL)
			continue;
		if (*dst == NULL && (*dst = dst == &scopes ? ag_json_array() :
		    ag_json_object()) == NULL)
			goto out;
		if ((dst == &scopes ? ag_json_array_add(scopes,
		    ag_json_string(q->v[i].value)) : ag_json_set_str(ap,
		    q->v[i].name, q->v[i].value)) != AG_OK)
			goto out;
	}
	if (scopes != NULL) {
		r = ag_json_set(o, "scopes", scopes);
		scopes = NULL;
		if (r != AG_OK)
			goto out;
	}
	if (ap != NULL) {
		r = ag_json_set(o, "authorization_params", ap);
		ap = NULL;
		if (r != AG_OK)
			goto out;
	}
	*out = o;
	o = NULL;
	r = AG_OK;
out:
	ag_json_free(scopes);
	ag_json_free(ap);
	ag_json_free(o);
	return r;
}

/*
 * The redirect to the provider: connect_uri, '?' or '&', "ticket=" and
 * the ticket form-encoded (each byte at most "%XX"), with the NUL.
 */
#define LOC_MAX	(AG_MAX_MYACCOUNT_FIELD + 1 + sizeof("ticket=") + \
	3 * AG_MAX_MYACCOUNT_FIELD)

/* A bounded string member of o (dotted one level with sub), or NULL. */
static const char *
field(const ag_json *o, const char *sub, const char *key)
{
	const char *s;

	if (sub != NULL)
		o = ag_json_get(o, sub);
	s = ag_json_get_str(o, key);
	return s != NULL && *s != '\0' && strlen(s) <= AG_MAX_MYACCOUNT_FIELD ?
	    s : NULL;
}

/* 1 when u is an absolute URL we may send the browser to. */
static int
connect_uri_ok(const struct ag_app *app, const char *u)
{
	const char *p;

	if (strncasecmp(u, "https://", 8) == 0)
		p = u + 8;
	else if (app->conf.allow_insecure && strncasecmp(u, "http://", 7) == 0)
		p = u + 7;
	else
		return 0;
	if (*p == '\0' || *p == '/')
		return 0;
	for (; *u != '\0'; u++)
		if ((unsigned char)*u <= 0x20 || *u == 0x7f || *u == '#')
			return 0;
	return 1;
}

/*
 * The status and text of a failed My Account answer, the SDK's
 * "The request to VERB the connect account flow failed with status N."
 */
static int
api_failure(struct ag_resp *w, long status, const char *verb)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "The request to %s the connect account "
	    "flow failed with status %ld.", verb, status);
	return ag_resp_text(w, status >= 400 && status <= 599 ? (int)status :
	    500, msg);
}

/* Step 4's failure answers. */
static int
token_failure(struct ag_app *app, struct ag_resp *w,
    const struct ag_token_fail *f)
{
	struct ag_buf body;
	int r;

	ag_warn("connect: my account token: %s: %s", ag_token_code(f->err),
	    f->why);
	if (f->err == AG_TOKEN_STORE)
		return ag_resp_text(w, 503, MSG_STORE_DOWN);
	if (f->err != AG_TOKEN_MFA_REQUIRED)
		return ag_resp_text(w, 401, MSG_NO_TOKEN);
	ag_buf_init(&body, 64 * 1024);
	if ((r = ag_token_mfa_body(app, f, ag_now(), &body)) == AG_OK)
		r = ag_resp_json(w, 403, ag_buf_str(&body));
	ag_buf_free(&body);
	return r;
}

/*
 * Write s back when getting tok changed it (a refresh, perhaps with a
 * rotated refresh token), at once: whatever fails later, the session
 * must not keep a refresh token the provider no longer accepts.  A
 * failed write is logged; the flow goes on.
 */
static void
keep_session(struct ag_app *app, struct ag_req *req, struct ag_session *s,
    struct ag_token *tok, struct ag_resp *w)
{
	int r;

	if (!tok->session_changed)
		return;
	if ((r = ag_session_write(app, &req->cookies, s, w)) != AG_OK)
		ag_warn("connect: the refreshed session was not saved: %s",
		    ag_strerror(r));
	tok->session_changed = 0;
}

/* The transaction of step 7, *out owned by the caller. */
static int
connect_txn(const char *state, const char *verifier, const char *ret,
    const char *auth_session, const char *connection, ag_json **out)
{
	ag_json *t;

	*out = NULL;
	if ((t = ag_json_object()) == NULL)
		return AG_ERR_NOMEM;
	if (ag_json_set_str(t, "state", state) != AG_OK ||
	    ag_json_set_str(t, "codeVerifier", verifier) != AG_OK ||
	    ag_json_set_str(t, "responseType", "connect_code") != AG_OK ||
	    ag_json_set_str(t, "returnTo", ret) != AG_OK ||
	    ag_json_set_str(t, "authSession", auth_session) != AG_OK ||
	    ag_json_set_str(t, "connection", connection) != AG_OK) {
		ag_json_free(t);
		return AG_ERR_NOMEM;
	}
	*out = t;
	return AG_OK;
}

int
ag_h_connect(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	const struct ag_params *q = &req->params;
	struct ag_buf state, verifier, chal, ret, redirect, loc;
	struct ag_myaccount_resp ar;
	struct ag_session s;
	struct ag_token tok;
	struct ag_token_fail f;
	char why[AG_WHY_LEN] = "";
	const char *connection, *rt, *uri, *ticket, *auth_session;
	ag_json *body = NULL, *txn = NULL;
	int r;

	memset(&s, 0, sizeof(s));
	memset(&tok, 0, sizeof(tok));
	memset(&f, 0, sizeof(f));
	memset(&ar, 0, sizeof(ar));
	ag_buf_init(&state, 128);
	ag_buf_init(&verifier, 128);
	ag_buf_init(&chal, 128);
	ag_buf_init(&ret, AG_MAX_RETURN_TO + 64);
	ag_buf_init(&redirect, 4096);
	ag_buf_init(&loc, LOC_MAX);
	(void)ag_resp_header(w, "Cache-Control", "no-store");

	/* 1, 2. */
	if (!app->conf.connect_account_endpoint) {
		r = ag_resp_text(w, 404, "Not found.");
		goto out;
	}
	if (req->params_err != AG_OK || ag_params_count(q, "connection") > 1 ||
	    ag_params_count(q, "returnTo") > 1) {
		r = ag_resp_text(w, 400, "Invalid query string.");
		goto out;
	}
	connection = ag_params_get(q, "connection");
	if (connection == NULL || *connection == '\0') {
		r = ag_resp_text(w, 400, MSG_CONNECTION);
		goto out;
	}
	if (!ag_connection_name_ok(connection) ||
	    ag_params_count(q, "scopes") > AG_MAX_CONNECT_SCOPES) {
		r = ag_resp_text(w, 400, "Invalid connection or scopes.");
		goto out;
	}

	/* 3. */
	if ((r = ag_session_read(app, &req->cookies, &s)) != AG_OK) {
		r = r == AG_ERR_BUSY || r == AG_ERR_DB || r == AG_ERR_NOMEM ?
		    ag_resp_text(w, 503, MSG_STORE_DOWN) :
		    ag_resp_text(w, 401, MSG_NO_SESSION);
		goto out;
	}

	/* 4. */
	r = ag_myaccount_token(app, &s, AG_MYACCOUNT_CREATE, &tok, &f);
	keep_session(app, req, &s, &tok, w);
	if (r != AG_TOKEN_OK) {
		r = token_failure(app, w, &f);
		goto out;
	}

	/* 5. */
	rt = ag_params_get(q, "returnTo");
	if (rt == NULL || *rt == '\0' ||
	    ag_return_to(&ret, app->conf.app_base_url, rt) != AG_OK) {
		if (rt != NULL && *rt != '\0')
			ag_info("connect: returnTo refused (not same-origin), "
			    "using %s", app->conf.default_return_to);
		ag_buf_reset(&ret);
		if ((r = ag_buf_puts(&ret, app->conf.default_return_to)) !=
		    AG_OK)
			goto out;
	}
	if ((r = ag_rand_b64url(&state, 32)) != AG_OK ||
	    (r = ag_rand_b64url(&verifier, 32)) != AG_OK ||
	    (r = challenge(ag_buf_str(&verifier), &chal)) != AG_OK ||
	    (r = ag_callback_url(app, &redirect)) != AG_OK ||
	    (r = connect_body(q, ag_buf_str(&redirect), ag_buf_str(&state),
	    ag_buf_str(&chal), &body)) != AG_OK)
		goto out;

	/* 6. */
	if (ag_myaccount_call(app, &tok, "POST", "connect", body, &ar,
	    why) != AG_OK) {
		ag_err("connect: %s", why);
		r = ag_resp_text(w, 500, MSG_INITIATE);
		goto out;
	}
	if (ar.status < 200 || ar.status > 299) {
		ag_warn("connect: %s", why);
		r = api_failure(w, ar.status, "initiate");
		goto out;
	}
	uri = field(ar.body, NULL, "connect_uri");
	ticket = field(ar.body, "connect_params", "ticket");
	auth_session = field(ar.body, NULL, "auth_session");
	if (uri == NULL || ticket == NULL || auth_session == NULL ||
	    !connect_uri_ok(app, uri)) {
		ag_err("connect: my account: connect_uri, connect_params."
		    "ticket or auth_session missing or malformed");
		r = ag_resp_text(w, 500, MSG_INITIATE);
		goto out;
	}

	/* 7. */
	if ((r = connect_txn(ag_buf_str(&state), ag_buf_str(&verifier),
	    ag_buf_str(&ret), auth_session, connection, &txn)) != AG_OK ||
	    (r = ag_buf_puts(&loc, uri)) != AG_OK ||
	    (r = ag_buf_putc(&loc, strchr(uri, '?') != NULL ? '&' : '?')) !=
	    AG_OK ||
	    (r = ag_form_add(&loc, "ticket", ticket)) != AG_OK)
		goto out;
	if ((r = ag_txn_write(app, &req->cookies, txn, w)) != AG_OK) {
		ag_err("connect: cannot write the transaction cookie: %s",
		    ag_strerror(r));
		r = ag_resp_text(w, 500, MSG_INITIATE);
		goto out;
	}
	ag_info("connect: %s: redirecting to the provider", connection);
	r = ag_resp_redirect(w, 307, ag_buf_str(&loc));
out:
	/* Every failure is answered, also the local ones (memory, size). */
	if (r != AG_OK && w->status == 0) {
		ag_err("connect: %s", ag_strerror(r));
		r = ag_resp_text(w, 500, MSG_INITIATE);
	}
	ag_myaccount_resp_clear(&ar);
	ag_json_free(body);
	ag_json_free(txn);
	ag_token_clear(&tok);
	ag_token_fail_clear(&f);
	ag_session_free(&s);
	ag_buf_free(&state);
	ag_buf_free(&verifier);
	ag_buf_free(&chal);
	ag_buf_free(&ret);
	ag_buf_free(&redirect);
	ag_buf_free(&loc);
	return r;
}

/* Set the failure of the callback step. */
static int
complete_fail(const char **code, const char **msg, const char *c,
    const char *m)
{
	*code = c;
	*msg = m;
	return AG_ERR_DENIED;
}

int
ag_connect_complete(struct ag_app *app, struct ag_req *req, ag_json *txn,
    struct ag_resp *w, struct ag_buf *location, const char **code,
    const char **msg)
{
	const struct ag_params *q = &req->params;
	struct ag_myaccount_resp ar;
	struct ag_session s;
	struct ag_token tok;
	struct ag_token_fail f;
	struct ag_buf redirect;
	char why[AG_WHY_LEN] = "";
	const char *cc, *as, *cv, *ret;
	ag_json *body = NULL;
	int r;

	memset(&s, 0, sizeof(s));
	memset(&tok, 0, sizeof(tok));
	memset(&f, 0, sizeof(f));
	memset(&ar, 0, sizeof(ar));
	*code = *msg = NULL;
	ag_buf_init(&redirect, 4096);
	cc = ag_params_get(q, "connect_code");
	as = ag_json_get_str(txn, "authSession");
	cv = ag_json_get_str(txn, "codeVerifier");
	ret = ag_json_get_str(txn, "returnTo");
	if (ag_params_count(q, "connect_code") != 1 || *cc == '\0' ||
	    strlen(cc) > AG_MAX_MYACCOUNT_FIELD || as == NULL || cv == NULL ||
	    ret == NULL || ret[0] != '/') {
		ag_warn("connect: callback without a single connect_code (%s)",
		    ag_params_get(q, "error") != NULL ? "the provider answered "
		    "an error" : "malformed");
		r = complete_fail(code, msg, "failed_to_complete", MSG_COMPLETE);
		goto out;
	}
	if ((r = ag_session_read(app, &req->cookies, &s)) != AG_OK) {
		ag_warn("connect: callback without a session");
		r = complete_fail(code, msg, "missing_session", MSG_NO_SESSION);
		goto out;
	}
	r = ag_myaccount_token(app, &s, AG_MYACCOUNT_CREATE, &tok, &f);
	/* Unlike the SDK, a refresh done here is kept, even on failure. */
	keep_session(app, req, &s, &tok, w);
	if (r != AG_TOKEN_OK) {
		ag_warn("connect: my account token: %s: %s",
		    ag_token_code(f.err), f.why);
		r = complete_fail(code, msg, ag_token_code(f.err),
		    ag_token_message(f.err));
		goto out;
	}
	r = AG_ERR_NOMEM;
	if (ag_callback_url(app, &redirect) != AG_OK ||
	    (body = ag_json_object()) == NULL ||
	    ag_json_set_str(body, "auth_session", as) != AG_OK ||
	    ag_json_set_str(body, "connect_code", cc) != AG_OK ||
	    ag_json_set_str(body, "redirect_uri", ag_buf_str(&redirect)) !=
	    AG_OK ||
	    ag_json_set_str(body, "code_verifier", cv) != AG_OK)
		goto out;
	if (ag_myaccount_call(app, &tok, "POST", "complete", body, &ar,
	    why) != AG_OK || ar.status < 200 || ar.status > 299) {
		ag_warn("connect: %s", why);
		r = complete_fail(code, msg, "failed_to_complete", MSG_COMPLETE);
		goto out;
	}
	ag_info("connect: account %.64s of connection %.64s connected",
	    field(ar.body, NULL, "id") != NULL ? field(ar.body, NULL, "id") :
	    "?", ag_json_get_str(txn, "connection") != NULL ?
	    ag_json_get_str(txn, "connection") : "?");
	r = ag_app_url(app, ret, location);
out:
	if (r != AG_OK && *code == NULL)
		(void)complete_fail(code, msg, "failed_to_complete",
		    MSG_COMPLETE);
	ag_myaccount_resp_clear(&ar);
	ag_json_free(body);
	ag_token_clear(&tok);
	ag_token_fail_clear(&f);
	ag_session_free(&s);
	ag_buf_free(&redirect);
	return r;
}
