/*
 * h-access-token.c -- GET /auth/access-token: the session's access
 * token as JSON (reference section 4.6), refreshed when needed.
 *
 * 1. access_token_endpoint = off: 404 (the route table hides the path
 *    too, so no method gets a 405 either).
 * 2. Query: audience, scope, mergeScopes (only "false" has an effect),
 *    refresh ("true" forces a refresh).  A query that does not parse or
 *    names one of these twice: 400 JSON.
 * 3. No session: 401 missing_session; database trouble: 503.
 * 4. ag_token_get (lib/token.c): selection, refresh, coalescing.
 *    - success: the session written back when it changed (Set-Cookie
 *      and the no-cache headers), then 200 {token, scope?, expires_at,
 *      expires_in, token_type?};
 *    - mfa_required: 403 {error, error_description, mfa_token (sealed),
 *      mfa_requirements?};
 *    - session_expired: 401, and the session is cleared;
 *    - store_unavailable: 503;
 *    - any other: 401 {"error": {message, code}}.
 * With connection=NAME (Token Vault, reference 11.1; the SDK offers it
 * as getAccessTokenForConnection only, authgate as this route too):
 * login_hint and subject_token_type (the refresh_token or access_token
 * URN) optional; ag_connection_token (lib/connection.c) answers from
 * the session's connectionTokenSets or the federated-connection grant;
 * 200 {token, scope?, expires_at, expires_in}; errors 400
 * invalid_request, 401 {"error": {message, code}} with code
 * missing_session, missing_refresh_token,
 * failed_to_exchange_refresh_token (a stale cached entry is dropped and
 * the session written back) or discovery_error.
 * Every answer carries Cache-Control: no-store (reference section 17:
 * the SDK omits it when the session did not change, yet the body holds
 * a bearer token).
 */
#include <string.h>

#include "connection.h"
#include "err.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "rand.h"
#include "session.h"
#include "token.h"

#define MSG_DUPLICATE	"A query parameter is malformed or given more " \
	"than once."
#define MSG_NOT_SAVED	"The session could not be saved."

/* 1 when w already has a Cache-Control header (the no-cache set). */
static int
has_cache_control(const struct ag_resp *w)
{
	const char *h = ag_buf_str(&w->head);

	return strncmp(h, "Cache-Control:", 14) == 0 ||
	    strstr(h, "\nCache-Control:") != NULL;
}

/* Finish w with status and a JSON body; no-store unless no-cache is set. */
static int
answer(struct ag_resp *w, int status, const char *json)
{
	int r;

	if (!has_cache_control(w) &&
	    (r = ag_resp_header(w, "Cache-Control", "no-store")) != AG_OK)
		return r;
	return ag_resp_json(w, status, json);
}

/* {"error":{"message":...,"code":...}} with status. */
static int
error_json(struct ag_resp *w, int status, const char *message,
    const char *code)
{
	ag_json *o = NULL, *e = NULL;
	const char *json;
	int r = AG_ERR_NOMEM;

	if ((o = ag_json_object()) == NULL || (e = ag_json_object()) == NULL ||
	    ag_json_set_str(e, "message", message) != AG_OK ||
	    ag_json_set_str(e, "code", code) != AG_OK)
		goto out;
	r = ag_json_set(o, "error", e);
	e = NULL;
	if (r != AG_OK)
		goto out;
	r = (json = ag_json_dump(o)) != NULL ? answer(w, status, json) :
	    AG_ERR_NOMEM;
out:
	ag_json_free(e);
	ag_json_free(o);
	return r;
}

/* 200 {token, scope?, expires_at, expires_in, token_type?}. */
static int
success(struct ag_resp *w, const struct ag_token *t)
{
	ag_json *o;
	const char *json;
	int64_t now = ag_now(), in;
	int r = AG_ERR_NOMEM;

	in = t->expires_at - now > 0 ? t->expires_at - now : 0;
	if ((o = ag_json_object()) == NULL)
		return AG_ERR_NOMEM;
	if (ag_json_set_str(o, "token", t->access_token) != AG_OK ||
	    (t->scope != NULL && ag_json_set_str(o, "scope", t->scope) !=
	    AG_OK) ||
	    ag_json_set_int(o, "expires_at", t->expires_at) != AG_OK ||
	    ag_json_set_int(o, "expires_in", in) != AG_OK ||
	    (t->token_type != NULL && ag_json_set_str(o, "token_type",
	    t->token_type) != AG_OK))
		goto out;
	r = (json = ag_json_dump(o)) != NULL ? answer(w, 200, json) :
	    AG_ERR_NOMEM;
out:
	ag_json_free(o);
	return r;
}

static int
mfa_required(struct ag_app *app, struct ag_resp *w,
    const struct ag_token_fail *f)
{
	struct ag_buf body;
	int r;

	ag_buf_init(&body, 64 * 1024);
	if ((r = ag_token_mfa_body(app, f, ag_now(), &body)) == AG_OK)
		r = answer(w, 403, ag_buf_str(&body));
	else
		ag_err("access-token: cannot build the mfa_required answer: "
		    "%s", ag_strerror(r));
	ag_buf_free(&body);
	return r;
}

/*
 * Write the changed session back; on failure answer for it (1 then,
 * with *r the result of the answer), else 0.
 */
static int
save_failed(struct ag_app *app, struct ag_req *req, struct ag_session *s,
    struct ag_resp *w, int *r)
{
	if ((*r = ag_session_write(app, &req->cookies, s, w)) == AG_OK)
		return 0;
	ag_err("access-token: the changed session was not saved: %s",
	    ag_strerror(*r));
	if (*r == AG_ERR_NOTFOUND)
		*r = error_json(w, 401, ag_token_message(
		    AG_TOKEN_MISSING_SESSION), ag_token_code(
		    AG_TOKEN_MISSING_SESSION));
	else if (*r == AG_ERR_BUSY || *r == AG_ERR_DB)
		*r = error_json(w, 503, MSG_STORE_DOWN, "store_unavailable");
	else
		*r = error_json(w, 500, MSG_NOT_SAVED, "session_write_failed");
	return 1;
}

/* ?connection=NAME: a Token Vault connection token (see the top). */
static int
connection_token(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	const struct ag_params *q = &req->params;
	const char *stt = ag_params_get(q, "subject_token_type");
	struct ag_conn_req creq;
	struct ag_conn_fail f;
	struct ag_token tok;
	struct ag_session s;
	int r, cr;

	memset(&creq, 0, sizeof(creq));
	memset(&tok, 0, sizeof(tok));
	memset(&s, 0, sizeof(s));
	creq.connection = ag_params_get(q, "connection");
	creq.login_hint = ag_params_get(q, "login_hint");
	if (stt != NULL && strcmp(stt, AG_SUBJECT_ACCESS_TOKEN) == 0)
		creq.subject_access_token = 1;
	else if (stt != NULL && strcmp(stt, AG_SUBJECT_REFRESH_TOKEN) != 0)
		return error_json(w, 400, "The subject_token_type is not "
		    "supported.", ag_conn_code(AG_CONN_INVALID_REQUEST));
	if (!ag_connection_name_ok(creq.connection) ||
	    (creq.login_hint != NULL && !ag_login_hint_ok(creq.login_hint)))
		return error_json(w, 400, ag_conn_message(
		    AG_CONN_INVALID_REQUEST), ag_conn_code(
		    AG_CONN_INVALID_REQUEST));
	if ((r = ag_session_read(app, &req->cookies, &s)) != AG_OK) {
		if (r == AG_ERR_BUSY || r == AG_ERR_DB || r == AG_ERR_NOMEM)
			return error_json(w, 503, MSG_STORE_DOWN,
			    "store_unavailable");
		return error_json(w, 401, ag_conn_message(
		    AG_CONN_MISSING_SESSION), ag_conn_code(
		    AG_CONN_MISSING_SESSION));
	}
	cr = ag_connection_token(app, &s, &creq, &tok, &f);
	if (cr != AG_CONN_OK)
		ag_warn("access-token: %s: %s%s%s", ag_conn_code(f.err), f.why,
		    f.error[0] != '\0' ? ": " : "", f.error);
	/* Also after a failure: the stale entry was dropped. */
	if (tok.session_changed && save_failed(app, req, &s, w, &r))
		goto out;
	if (cr != AG_CONN_OK)
		r = error_json(w, f.err == AG_CONN_INVALID_REQUEST ? 400 : 401,
		    ag_conn_message(f.err), ag_conn_code(f.err));
	else
		r = success(w, &tok);
out:
	ag_token_clear(&tok);
	ag_session_free(&s);
	return r;
}

int
ag_h_access_token(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	static const char *const names[] = { "audience", "scope",
	    "mergeScopes", "refresh", "connection", "login_hint",
	    "subject_token_type" };
	const struct ag_params *q = &req->params;
	struct ag_token_req treq;
	struct ag_token tok;
	struct ag_token_fail f;
	struct ag_session s;
	const char *v;
	size_t i;
	int r;

	memset(&s, 0, sizeof(s));
	memset(&tok, 0, sizeof(tok));
	memset(&f, 0, sizeof(f));

	/* 1. */
	if (!app->conf.access_token_endpoint) {
		(void)ag_resp_header(w, "Cache-Control", "no-store");
		return ag_resp_text(w, 404, "Not found.");
	}

	/* 2. */
	if (req->params_err != AG_OK)
		return error_json(w, 400, MSG_DUPLICATE, "invalid_request");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ag_params_count(q, names[i]) > 1)
			return error_json(w, 400, MSG_DUPLICATE,
			    "invalid_request");
	if (ag_params_get(q, "connection") != NULL)
		return connection_token(app, req, w);
	memset(&treq, 0, sizeof(treq));
	treq.audience = ag_params_get(q, "audience");
	treq.scope = ag_params_get(q, "scope");
	treq.no_merge_scopes = (v = ag_params_get(q, "mergeScopes")) != NULL &&
	    strcmp(v, "false") == 0;
	treq.force_refresh = (v = ag_params_get(q, "refresh")) != NULL &&
	    strcmp(v, "true") == 0;

	/* 3. */
	if ((r = ag_session_read(app, &req->cookies, &s)) != AG_OK) {
		if (r == AG_ERR_BUSY || r == AG_ERR_DB || r == AG_ERR_NOMEM)
			return error_json(w, 503, MSG_STORE_DOWN,
			    "store_unavailable");
		return error_json(w, 401, ag_token_message(
		    AG_TOKEN_MISSING_SESSION), ag_token_code(
		    AG_TOKEN_MISSING_SESSION));
	}

	/* 4. */
	if ((r = ag_token_get(app, &s, &treq, &tok, &f)) != AG_TOKEN_OK) {
		if (r == AG_TOKEN_MFA_REQUIRED)
			ag_info("access-token: %s", f.why);
		else
			ag_warn("access-token: %s: %s", ag_token_code(f.err),
			    f.why);
		switch (r) {
		case AG_TOKEN_MFA_REQUIRED:
			r = mfa_required(app, w, &f);
			break;
		case AG_TOKEN_STORE:
			r = error_json(w, 503, MSG_STORE_DOWN,
			    ag_token_code(f.err));
			break;
		case AG_TOKEN_SESSION_EXPIRED:
			(void)ag_session_clear(app, &req->cookies, w);
			/* FALLTHROUGH */
		default:
			r = error_json(w, 401, f.message != NULL ? f.message :
			    ag_token_message(f.err), ag_token_code(f.err));
			break;
		}
		goto out;
	}
	if (tok.session_changed && save_failed(app, req, &s, w, &r))
		goto out;
	r = success(w, &tok);
out:
	ag_token_clear(&tok);
	ag_token_fail_clear(&f);
	ag_session_free(&s);
	return r;
}
