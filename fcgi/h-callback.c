/*
 * h-callback.c -- GET /auth/callback: finish the authorization code flow.
 *
 * Every check of reference section 5.3, plus the ID token's signature:
 *  1. state present, its transaction cookie present, sealed by us and
 *     unexpired; from here on the transaction cookie is deleted whatever
 *     happens.
 *  2. The response parameters: none duplicated, no implicit/JARM
 *     members, RFC 9207 iss (required when advertised), error.
 *  3. The code, exchanged with the PKCE verifier.
 *  4. The ID token: signature, iss, aud/azp, exp, iat, nonce,
 *     auth_time against max_age, at_hash.
 *  5. Userinfo when configured (its sub must match).
 *  6. The session, then 307 to returnTo.
 * Failures answer 500 with the SDK's message (or redirect to
 * callback.error_url with error and error_description) and log why.
 */
#include <string.h>

#include "err.h"
#include "handlers.h"
#include "json.h"
#include "ag_limits.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "session.h"
#include "txn.h"

#define MSG_MISSING_STATE "The state parameter is missing."
#define MSG_INVALID_STATE "The state parameter is invalid."
#define MSG_DISCOVERY	"Discovery failed for the OpenID Connect configuration."
#define MSG_AUTHZ	"An error occurred during the authorization flow."
#define MSG_GRANT	"An error occurred while trying to exchange the authorization code."
#define MSG_GRANT_NET	"The token endpoint could not be reached."
#define MSG_EXPIRED	"The session has expired and the user must re-authenticate."
#define MSG_TOO_LARGE	"The session is too large to be stored."

/* Parameters that must occur at most once in an authorization response. */
static const char *const single[] = {
	"state", "code", "iss", "error", "error_description", "error_uri",
};

/* Members that belong to other response types and are refused. */
static const char *const foreign[] = { "response", "id_token", "token" };

/*
 * Answer a failed callback: status (the SDK's 500; 503 when the session
 * store is down) with message as text, or a redirect to
 * callback.error_url carrying error and error_description.  The
 * transaction cookie (when the state was sane) is deleted either way.
 */
static int
fail_status(struct ag_app *app, const char *state, struct ag_resp *w,
    int status, const char *code, const char *message)
{
	const char *eu = app->conf.callback_error_url;
	struct ag_buf url;
	int r;

	if (state != NULL)
		(void)ag_txn_delete(app, state, w);
	(void)ag_resp_header(w, "Cache-Control", "no-store");
	if (eu == NULL || *eu == '\0')
		return ag_resp_text(w, status, message);
	ag_buf_init(&url, 8192);
	if (eu[0] == '/')
		r = ag_app_url(app, eu, &url);
	else
		r = ag_buf_puts(&url, eu);
	if (r == AG_OK)
		r = ag_buf_putc(&url, strchr(eu, '?') != NULL ? '&' : '?');
	if (r == AG_OK)
		r = ag_form_add(&url, "error", code);
	if (r == AG_OK)
		r = ag_buf_putc(&url, '&');
	if (r == AG_OK)
		r = ag_form_add(&url, "error_description", message);
	if (r == AG_OK)
		r = ag_resp_redirect(w, 307, ag_buf_str(&url));
	ag_buf_free(&url);
	return r;
}

/* fail_status() with the SDK's 500. */
static int
fail(struct ag_app *app, const char *state, struct ag_resp *w,
    const char *code, const char *message)
{
	return fail_status(app, state, w, 500, code, message);
}

/*
 * An OAuth error code from the query, passed on to callback.error_url
 * only when it looks like one (RFC 6749: %x20-21 / %x23-5B / %x5D-7E;
 * we accept the usual lower-case letters and underscores).
 */
static const char *
oauth_code(const char *e)
{
	size_t i;

	for (i = 0; e[i] != '\0'; i++)
		if (!((e[i] >= 'a' && e[i] <= 'z') || e[i] == '_') || i >= 64)
			return "authorization_error";
	return i > 0 ? e : "authorization_error";
}

/* 1 when any claim the session keeps (other than sub) is missing. */
static int
claims_missing(const struct ag_conf *c, ag_json *claims)
{
	size_t i;

	for (i = 0; i < c->claims_keep.n; i++)
		if (strcmp(c->claims_keep.v[i], "sub") != 0 &&
		    ag_json_get(claims, c->claims_keep.v[i]) == NULL)
			return 1;
	return 0;
}

static int
merge_missing(const char *key, ag_json *val, void *arg)
{
	ag_json *claims = arg;

	if (ag_json_get(claims, key) != NULL)
		return 0;
	return ag_json_set(claims, key, ag_json_copy(val)) != AG_OK;
}

/*
 * Userinfo per conf: "off" never, "on" always (failure fails the login),
 * "auto" when kept claims are missing (a network failure is logged and
 * the login goes on; a sub mismatch always fails).
 */
static int
userinfo(struct ag_app *app, const struct ag_provider *p,
    const struct ag_tokens *t, ag_json *claims, char *why)
{
	const struct ag_conf *c = &app->conf;
	ag_json *ui = NULL;
	int r;

	if (c->userinfo == AG_USERINFO_OFF || p->userinfo_endpoint == NULL)
		return AG_OK;
	if (c->userinfo == AG_USERINFO_AUTO && !claims_missing(c, claims))
		return AG_OK;
	r = ag_oidc_userinfo(app->oidc, t->access_token, t->token_type,
	    ag_json_get_str(claims, "sub"), &ui, why);
	if (r == AG_OK) {
		if (ag_json_each(ui, merge_missing, claims) != 0)
			r = AG_ERR_NOMEM;
	} else if (r != AG_ERR_VERIFY && c->userinfo == AG_USERINFO_AUTO) {
		ag_warn("callback: %s (continuing without userinfo)", why);
		r = AG_OK;
	}
	ag_json_free(ui);
	return r;
}

int
ag_h_callback(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	const struct ag_params *q = &req->params;
	const struct ag_provider *p;
	const char *state, *code, *iss, *error, *s;
	char why[AG_WHY_LEN] = "";
	struct ag_buf form, redirect, loc;
	struct ag_tokens t;
	struct ag_oauth_error oe;
	struct ag_id_expect ex;
	struct ag_session sess;
	ag_json *txn = NULL, *claims = NULL;
	int64_t max_age = -1, sexp, iat;
	size_t i;
	int r;

	memset(&t, 0, sizeof(t));
	memset(&oe, 0, sizeof(oe));
	memset(&sess, 0, sizeof(sess));
	ag_buf_init(&form, 64 * 1024);
	ag_buf_init(&redirect, 4096);
	ag_buf_init(&loc, 8192);

	/* 1. State and transaction. */
	if (req->params_err != AG_OK) {
		ag_warn("callback: malformed query string");
		r = fail(app, NULL, w, "invalid_request", MSG_AUTHZ);
		goto out;
	}
	if ((state = ag_params_get(q, "state")) == NULL || *state == '\0') {
		ag_warn("callback: no state parameter");
		r = fail(app, NULL, w, "missing_state", MSG_MISSING_STATE);
		goto out;
	}
	if (ag_params_count(q, "state") > 1 ||
	    ag_txn_read(app, &req->cookies, state, &txn) != AG_OK) {
		ag_warn("callback: no valid transaction for this state "
		    "(unknown, expired, replayed or from another browser)");
		r = fail(app, ag_txn_state_ok(state) ? state : NULL, w,
		    "invalid_state", MSG_INVALID_STATE);
		goto out;
	}

	/* Connected Accounts: no OAuth response to check (h-connect.c). */
	if ((s = ag_json_get_str(txn, "responseType")) != NULL &&
	    strcmp(s, "connect_code") == 0) {
		const char *ccode, *cmsg;

		if (ag_connect_complete(app, req, txn, w, &loc, &ccode,
		    &cmsg) != AG_OK) {
			r = fail(app, state, w, ccode, cmsg);
			goto out;
		}
		(void)ag_txn_delete(app, state, w);
		(void)ag_resp_header(w, "Cache-Control", "no-store");
		r = ag_resp_redirect(w, 307, ag_buf_str(&loc));
		goto out;
	}

	/* 2. The authorization response. */
	if ((r = ag_oidc_provider(app->oidc, &p, why)) != AG_OK) {
		ag_err("callback: %s", why);
		r = fail(app, state, w, "discovery_error", MSG_DISCOVERY);
		goto out;
	}
	for (i = 0; i < sizeof(single) / sizeof(*single); i++)
		if (ag_params_count(q, single[i]) > 1) {
			ag_warn("callback: duplicated parameter %s", single[i]);
			r = fail(app, state, w, "invalid_request", MSG_AUTHZ);
			goto out;
		}
	for (i = 0; i < sizeof(foreign) / sizeof(*foreign); i++)
		if (ag_params_count(q, foreign[i]) > 0) {
			ag_warn("callback: unexpected parameter %s", foreign[i]);
			r = fail(app, state, w, "invalid_request", MSG_AUTHZ);
			goto out;
		}
	iss = ag_params_get(q, "iss");
	if ((iss != NULL && strcmp(iss, p->issuer) != 0) ||
	    (iss == NULL && p->iss_parameter_supported)) {
		ag_warn("callback: iss parameter %s (RFC 9207)",
		    iss ? "does not match the issuer" : "missing");
		r = fail(app, state, w, "invalid_request", MSG_AUTHZ);
		goto out;
	}
	if ((error = ag_params_get(q, "error")) != NULL) {
		ag_info("callback: provider returned error %.64s", error);
		/* Name the (well-formed) code; never echo error_description. */
		ag_buf_printf(&loc, "%s (%s)", MSG_AUTHZ, oauth_code(error));
		r = fail(app, state, w, oauth_code(error), ag_buf_str(&loc));
		goto out;
	}
	if ((code = ag_params_get(q, "code")) == NULL || *code == '\0') {
		ag_warn("callback: no code parameter");
		r = fail(app, state, w, "invalid_request", MSG_AUTHZ);
		goto out;
	}

	/* 3. The code exchange. */
	if ((r = ag_callback_url(app, &redirect)) != AG_OK ||
	    (r = ag_form_add(&form, "grant_type", "authorization_code")) ||
	    (r = ag_form_add(&form, "code", code)) ||
	    (r = ag_form_add(&form, "redirect_uri", ag_buf_str(&redirect))) ||
	    (r = ag_form_add(&form, "code_verifier",
	    ag_json_get_str(txn, "codeVerifier"))))
		goto out;
	r = ag_oidc_token(app->oidc, ag_buf_str(&form), &t, &oe, why);
	if (r != AG_OK) {
		ag_err("callback: %s", why);
		r = fail(app, state, w, r == AG_ERR_HTTP ?
		    "authorization_code_grant_request_error" :
		    "authorization_code_grant_error",
		    r == AG_ERR_HTTP ? MSG_GRANT_NET : MSG_GRANT);
		goto out;
	}
	if (t.id_token == NULL) {
		ag_err("callback: token endpoint: no id_token in the response");
		r = fail(app, state, w, "authorization_code_grant_error",
		    MSG_GRANT);
		goto out;
	}

	/* 4. The ID token. */
	memset(&ex, 0, sizeof(ex));
	ex.nonce = ag_json_get_str(txn, "nonce");
	if (ag_json_get_int(txn, "maxAge", &max_age) != AG_OK)
		max_age = -1;
	ex.max_age = max_age;
	ex.access_token = t.access_token;
	if ((r = ag_oidc_id_token(app->oidc, t.id_token, &ex, &claims,
	    why)) != AG_OK) {
		ag_err("callback: %s", why);
		r = fail(app, state, w, "authorization_code_grant_error",
		    MSG_GRANT);
		goto out;
	}

	/* 5. Userinfo. */
	if ((r = userinfo(app, p, &t, claims, why)) != AG_OK) {
		ag_err("callback: %s", why);
		r = fail(app, state, w, "authorization_code_grant_error",
		    MSG_GRANT);
		goto out;
	}

	/* IPSIE: a ceiling already (almost) reached refuses the login. */
	if (ag_json_get_int(claims, "session_expiry", &sexp) == AG_OK &&
	    sexp > 0 && sexp < 10000000000LL) {
		if (ag_json_get_int(claims, "iat", &iat) != AG_OK)
			iat = ag_now();
		if (sexp <= iat + 30) {
			ag_warn("callback: session_expiry already reached");
			r = fail(app, state, w, "session_expired", MSG_EXPIRED);
			goto out;
		}
	}

	/* 6. The session. */
	if ((r = ag_session_from_login(&app->conf, &t, claims,
	    ag_json_get_str(txn, "scope"), ag_json_get_str(txn, "audience"),
	    ag_now(), &sess)) != AG_OK)
		goto out;
	if ((r = ag_session_write(app, &req->cookies, &sess, w)) != AG_OK) {
		r = fail_status(app, state, w,
		    r == AG_ERR_BUSY || r == AG_ERR_DB ? 503 : 500,
		    "session_error",
		    r == AG_ERR_LIMIT ? MSG_TOO_LARGE : MSG_STORE_DOWN);
		goto out;
	}
	(void)ag_txn_delete(app, state, w);
	s = ag_json_get_str(txn, "returnTo");
	if ((r = ag_app_url(app, s != NULL && s[0] == '/' ? s :
	    app->conf.default_return_to, &loc)) != AG_OK)
		goto out;
	ag_info("callback: login of sub %.128s",
	    ag_json_get_str(claims, "sub"));
	r = ag_resp_redirect(w, 307, ag_buf_str(&loc));
out:
	ag_json_free(txn);
	ag_json_free(claims);
	ag_tokens_clear(&t);
	ag_oauth_error_clear(&oe);
	ag_session_free(&sess);
	ag_buf_free(&form);
	ag_buf_free(&redirect);
	ag_buf_free(&loc);
	return r;
}
