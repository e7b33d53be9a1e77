/*
 * h-logout.c -- GET /auth/logout: end the session here and at the
 * provider.
 *
 * The local session and every transaction cookie are cleared on every
 * path, even when the provider is down.  returnTo must be same-origin or
 * listed exactly in logout.allowed_return_urls (the SDK leaves this to
 * Auth0's allow-list; we check it ourselves, as mod_auth_openidc does).
 * The refresh token is revoked at the provider; a failure is logged, not
 * fatal.
 */
#include <string.h>

#include "err.h"
#include "handlers.h"
#include "ag_limits.h"
#include "log.h"
#include "oidc.h"
#include "session.h"
#include "txn.h"

#define MSG_LOGOUT	"An error occurred while trying to initiate the logout request."

/* The absolute URL the provider sends the browser back to. */
static int
return_url(const struct ag_app *app, const char *candidate, struct ag_buf *out)
{
	const struct ag_strlist *allowed = &app->conf.logout_allowed;
	struct ag_buf path;
	size_t i;
	int r;

	if (candidate != NULL && *candidate != '\0') {
		for (i = 0; i < allowed->n; i++)
			if (strcmp(candidate, allowed->v[i]) == 0)
				return ag_buf_puts(out, candidate);
		ag_buf_init(&path, AG_MAX_RETURN_TO + 64);
		r = ag_return_to(&path, app->conf.app_base_url, candidate);
		if (r == AG_OK)
			r = ag_app_url(app, ag_buf_str(&path), out);
		ag_buf_free(&path);
		if (r == AG_OK)
			return AG_OK;
		ag_info("logout: returnTo refused (not same-origin, not in "
		    "logout.allowed_return_urls)");
		ag_buf_reset(out);
	}
	return ag_buf_puts(out, app->conf.app_base_url);
}

int
ag_h_logout(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	const struct ag_conf *c = &app->conf;
	const char *rt, *idt = NULL, *sid = NULL, *state;
	char why[AG_WHY_LEN] = "";
	struct ag_buf ret, url;
	struct ag_session s;
	int have_session, r;

	ag_buf_init(&ret, 8192);
	ag_buf_init(&url, 64 * 1024);
	have_session = ag_session_read(app, &req->cookies, &s) == AG_OK;
	if (have_session) {
		idt = c->logout_id_token_hint ?
		    ag_session_token(&s, "idToken") : NULL;
		sid = ag_session_sid(&s);
	}

	/* Clear first: whatever happens next, the session is gone. */
	if ((r = ag_session_clear(app, &req->cookies, w)) != AG_OK ||
	    (r = ag_txn_delete_all(app, &req->cookies, w)) != AG_OK)
		goto out;

	if (req->params_err != AG_OK ||
	    ag_params_count(&req->params, "returnTo") > 1) {
		r = ag_resp_text(w, 400, "Invalid query string.");
		goto out;
	}
	if ((r = return_url(app, ag_params_get(&req->params, "returnTo"),
	    &ret)) != AG_OK)
		goto out;
	state = ag_params_get(&req->params, "state");

	if (have_session && c->logout_revoke &&
	    (rt = ag_session_token(&s, "refreshToken")) != NULL) {
		r = ag_oidc_revoke(app->oidc, rt, why);
		if (r != AG_OK && r != AG_ERR_NOTFOUND)
			ag_warn("logout: %s (session cleared anyway)", why);
	}
	r = ag_oidc_logout_url(app->oidc, ag_buf_str(&ret), idt, sid, state,
	    ag_params_get(&req->params, "federated") != NULL, &url, why);
	if (r != AG_OK) {
		ag_err("logout: %s", why);
		r = ag_resp_text(w, 500, r == AG_ERR_NOTFOUND ?
		    "OIDC RP-Initiated Logout is not supported by the "
		    "authorization server. Enable it or use a different "
		    "logout strategy." : MSG_LOGOUT);
		goto out;
	}
	if (have_session)
		ag_info("logout: sub %.128s",
		    ag_json_get_str(ag_session_user(&s), "sub"));
	r = ag_resp_redirect(w, 307, ag_buf_str(&url));
out:
	if (have_session)
		ag_session_free(&s);
	ag_buf_free(&ret);
	ag_buf_free(&url);
	return r;
}
