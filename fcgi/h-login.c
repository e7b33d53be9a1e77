/*
 * h-login.c -- GET /auth/login: start an authorization code flow.
 *
 * 1. Refuse prefetches (they would only mint transaction cookies).
 * 2. Validate the query: no duplicated parameter, max_age digits only,
 *    returnTo same-origin (else the default path).
 * 3. Forward only the user-facing parameters; scope and audience only
 *    when the configuration allows it.
 * 4. Fresh state, nonce and PKCE verifier (32 random bytes each).
 * 5. Build the authorization URL (PAR when configured), write the
 *    transaction cookie, answer 307.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "handlers.h"
#include "json.h"
#include "ag_limits.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "txn.h"

/* Parameters a login link may pass on to the provider. */
static const char *const forwardable[] = {
	"screen_hint", "login_hint", "prompt", "ui_locales", "acr_values",
	"organization", "invitation", "connection",
};

#define LOGIN_FAILED	"An error occurred while trying to initiate the login request."

static int
is_prefetch(const struct ag_req *req)
{
	return req->sec_purpose != NULL &&
	    strncasecmp(req->sec_purpose, "prefetch", 8) == 0;
}

static int
all_digits(const char *s)
{
	if (*s == '\0' || strlen(s) > 10)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* The path to come back to: a validated returnTo, else the default. */
static int
return_path(const struct ag_app *app, const char *candidate,
    struct ag_buf *out)
{
	if (candidate != NULL && *candidate != '\0') {
		if (ag_return_to(out, app->conf.app_base_url, candidate) == AG_OK)
			return AG_OK;
		ag_info("login: returnTo refused (not same-origin), using %s",
		    app->conf.default_return_to);
	}
	ag_buf_reset(out);
	return ag_buf_puts(out, app->conf.default_return_to);
}

int
ag_h_login(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	const struct ag_conf *c = &app->conf;
	const struct ag_params *q = &req->params;
	struct ag_buf state, nonce, verifier, ret, url, redirect;
	const char *names[AG_MAX_PARAMS], *values[AG_MAX_PARAMS];
	const char *max_age, *scope, *audience;
	char why[AG_WHY_LEN] = "";
	struct ag_authz az;
	ag_json *txn = NULL;
	size_t i, j, n_extra = 0;
	int r;

	(void)ag_resp_header(w, "Cache-Control", "no-store");
	if (is_prefetch(req))
		return ag_resp_text(w, 401, "Prefetch requests do not start a login.");
	if (req->params_err != AG_OK)
		return ag_resp_text(w, 400, "Invalid query string.");
	for (i = 0; i < q->n; i++)
		if (ag_params_count(q, q->v[i].name) > 1)
			return ag_resp_text(w, 400, "Duplicated query parameter.");

	max_age = ag_params_get(q, "max_age");
	if (max_age != NULL && !all_digits(max_age))
		return ag_resp_text(w, 400, "Invalid max_age query param. "
		    "Must be a non-negative integer.");
	scope = c->login_forward_scope ? ag_params_get(q, "scope") : NULL;
	audience = c->login_forward_audience ?
	    ag_params_get(q, "audience") : NULL;
	for (i = 0; i < q->n; i++)
		for (j = 0; j < sizeof(forwardable) / sizeof(*forwardable); j++)
			if (strcmp(q->v[i].name, forwardable[j]) == 0) {
				names[n_extra] = q->v[i].name;
				values[n_extra++] = q->v[i].value;
			}

	ag_buf_init(&state, 128);
	ag_buf_init(&nonce, 128);
	ag_buf_init(&verifier, 128);
	ag_buf_init(&ret, AG_MAX_RETURN_TO + 64);
	ag_buf_init(&url, 64 * 1024);
	ag_buf_init(&redirect, 4096);
	if ((r = ag_rand_b64url(&state, 32)) != AG_OK ||
	    (r = ag_rand_b64url(&nonce, 32)) != AG_OK ||
	    (r = ag_rand_b64url(&verifier, 32)) != AG_OK ||
	    (r = return_path(app, ag_params_get(q, "returnTo"), &ret)) != AG_OK ||
	    (r = ag_callback_url(app, &redirect)) != AG_OK)
		goto out;

	memset(&az, 0, sizeof(az));
	az.redirect_uri = ag_buf_str(&redirect);
	az.state = ag_buf_str(&state);
	az.nonce = ag_buf_str(&nonce);
	az.code_verifier = ag_buf_str(&verifier);
	az.scope = scope;
	az.audience = audience;
	az.max_age = max_age;
	az.extra_names = names;
	az.extra_values = values;
	az.n_extra = n_extra;
	if ((r = ag_oidc_authorize_url(app->oidc, &az, &url, why)) != AG_OK) {
		ag_err("login: %s", why);
		r = ag_resp_text(w, 500, LOGIN_FAILED);
		goto out;
	}

	r = AG_ERR_NOMEM;
	if ((txn = ag_json_object()) == NULL ||
	    ag_json_set_str(txn, "state", ag_buf_str(&state)) != AG_OK ||
	    ag_json_set_str(txn, "nonce", ag_buf_str(&nonce)) != AG_OK ||
	    ag_json_set_str(txn, "codeVerifier", ag_buf_str(&verifier)) != AG_OK ||
	    ag_json_set_str(txn, "responseType", "code") != AG_OK ||
	    ag_json_set_str(txn, "returnTo", ag_buf_str(&ret)) != AG_OK ||
	    ag_json_set_str(txn, "scope", scope ? scope : c->scope) != AG_OK)
		goto out;
	if (max_age != NULL &&
	    ag_json_set_int(txn, "maxAge", strtoll(max_age, NULL, 10)) != AG_OK)
		goto out;
	if ((audience || c->audience) &&
	    ag_json_set_str(txn, "audience", audience ? audience : c->audience) != AG_OK)
		goto out;
	if ((r = ag_txn_write(app, &req->cookies, txn, w)) != AG_OK) {
		ag_err("login: cannot write the transaction cookie: %s",
		    ag_strerror(r));
		r = ag_resp_text(w, 500, LOGIN_FAILED);
		goto out;
	}
	r = ag_resp_redirect(w, 307, ag_buf_str(&url));
out:
	ag_json_free(txn);
	ag_buf_free(&state);
	ag_buf_free(&nonce);
	ag_buf_free(&verifier);
	ag_buf_free(&ret);
	ag_buf_free(&url);
	ag_buf_free(&redirect);
	return r;
}
