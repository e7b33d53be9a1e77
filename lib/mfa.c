/*
 * mfa.c -- MFA step-up: the sealed mfa_token and Auth0's MFA API (see
 * mfa.h).
 *
 * Auth0 documents these endpoints in its Authentication API reference,
 * "Multi-factor Authentication": List authenticators, Challenge with
 * OTP/OOB, Verify with OTP/OOB/recovery code, Add an authenticator.
 * authgate's tests run them against tests/idp/auth0-mfa.mjs, a fake
 * that follows those pages (Auth0's MFA API exists only at Auth0).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "crypto.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "mfa.h"
#include "url.h"

/* Write the reason, return err. */
static int __attribute__((format(printf, 3, 4)))
failw(char *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL) {
		va_start(ap, fmt);
		vsnprintf(why, AG_WHY_LEN, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int
set_opt_str(ag_json *o, const char *key, const char *s)
{
	return s == NULL ? AG_OK : ag_json_set_str(o, key, s);
}

/* A copy of the string member key into *dst (NULL when absent). */
static int
dup_member(const ag_json *o, const char *key, char **dst)
{
	const char *s = ag_json_get_str(o, key);

	*dst = NULL;
	if (s != NULL && (*dst = strdup(s)) == NULL)
		return AG_ERR_NOMEM;
	return AG_OK;
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

void
ag_mfa_ctx_clear(struct ag_mfa_ctx *c)
{
	if (c == NULL)
		return;
	ag_strfree(c->mfa_token);
	free(c->audience);
	free(c->scope);
	ag_json_free(c->requirements);
	free(c->sid);
	free(c->sub);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ */
/* The sealed mfa_token                                               */

int
ag_mfa_required_body(struct ag_app *app, ag_json *err, const char *audience,
    const char *scope, const char *sid, const char *sub, int64_t now,
    int64_t ttl, struct ag_buf *out)
{
	struct ag_buf sealed;
	ag_json *body = NULL, *payload = NULL, *reqs;
	const char *raw, *desc, *json;
	int r = AG_ERR_NOMEM;

	ag_buf_init(&sealed, AG_MAX_JWT);
	raw = ag_json_get_str(err, "mfa_token");
	reqs = ag_json_get(err, "mfa_requirements");
	if (ag_json_type(reqs) != AG_JSON_OBJECT)
		reqs = NULL;
	if ((desc = ag_json_get_str(err, "error_description")) == NULL)
		desc = "Multi-factor authentication is required.";
	if ((body = ag_json_object()) == NULL ||
	    (payload = ag_json_object()) == NULL)
		goto out;
	if (raw != NULL && *raw != '\0') {
		if (sub == NULL) {
			r = AG_ERR_PARSE;
			goto out;
		}
		if (ag_json_set_str(payload, "mfaToken", raw) != AG_OK ||
		    set_opt_str(payload, "audience", audience) != AG_OK ||
		    set_opt_str(payload, "scope", scope) != AG_OK ||
		    (reqs != NULL && ag_json_set(payload, "mfaRequirements",
		    ag_json_copy(reqs)) != AG_OK) ||
		    ag_json_set_int(payload, "createdAt", now * 1000) != AG_OK ||
		    set_opt_str(payload, "sid", sid) != AG_OK ||
		    ag_json_set_str(payload, "sub", sub) != AG_OK)
			goto out;
		if ((r = ag_seal(app->key, payload, now + ttl, &sealed)) !=
		    AG_OK)
			goto out;
		r = AG_ERR_NOMEM;
	}
	if (ag_json_set_str(body, "error", "mfa_required") != AG_OK ||
	    ag_json_set_str(body, "error_description", desc) != AG_OK ||
	    ag_json_set_str(body, "mfa_token", ag_buf_str(&sealed)) != AG_OK ||
	    (reqs != NULL && ag_json_set(body, "mfa_requirements",
	    ag_json_copy(reqs)) != AG_OK))
		goto out;
	if ((json = ag_json_dump(body)) == NULL)
		goto out;
	r = ag_buf_puts(out, json);
 out:
	ag_json_free(body);
	ag_json_free(payload);
	ag_buf_free(&sealed);
	return r;
}

int
ag_mfa_open(struct ag_app *app, const char *sealed, const char *sid,
    const char *sub, int64_t now, struct ag_mfa_ctx *out)
{
	ag_json *p = NULL, *reqs;
	const char *raw, *own_sid;
	int64_t created;
	int r;

	memset(out, 0, sizeof(*out));
	if (sealed == NULL || *sealed == '\0' || sub == NULL)
		return AG_ERR_PARSE;
	if ((r = ag_unseal(app->key, sealed, strlen(sealed), now, &p)) !=
	    AG_OK)
		goto out;
	/* Another sealed value of ours (a session cookie...) is no token. */
	r = AG_ERR_PARSE;
	if ((raw = ag_json_get_str(p, "mfaToken")) == NULL || *raw == '\0' ||
	    ag_json_get_int(p, "createdAt", &created) != AG_OK ||
	    ag_json_get_str(p, "sub") == NULL)
		goto out;
	reqs = ag_json_get(p, "mfaRequirements");
	if (reqs != NULL && ag_json_type(reqs) != AG_JSON_OBJECT)
		goto out;
	own_sid = ag_json_get_str(p, "sid");
	if (!streq(ag_json_get_str(p, "sub"), sub) ||
	    (own_sid != NULL && sid != NULL && !streq(own_sid, sid)) ||
	    (own_sid == NULL) != (sid == NULL)) {
		r = AG_ERR_DENIED;
		goto out;
	}
	r = AG_ERR_NOMEM;
	if (dup_member(p, "mfaToken", &out->mfa_token) != AG_OK ||
	    dup_member(p, "audience", &out->audience) != AG_OK ||
	    dup_member(p, "scope", &out->scope) != AG_OK ||
	    dup_member(p, "sid", &out->sid) != AG_OK ||
	    dup_member(p, "sub", &out->sub) != AG_OK ||
	    (reqs != NULL && (out->requirements = ag_json_copy(reqs)) == NULL))
		goto out;
	out->created_at = created;
	r = AG_OK;
 out:
	if (r != AG_OK)
		ag_mfa_ctx_clear(out);
	ag_json_free(p);
	return r;
}

/* ------------------------------------------------------------------ */
/* Pure helpers                                                       */

int
ag_mfa_type_allowed(ag_json *requirements, const char *type)
{
	ag_json *list = ag_json_get(requirements, "challenge");
	const char *t;
	size_t i, n;

	if (type == NULL)
		return 0;
	if (ag_json_type(list) != AG_JSON_ARRAY ||
	    (n = ag_json_array_len(list)) == 0)
		return 1;
	for (i = 0; i < n; i++) {
		t = ag_json_get_str(ag_json_array_get(list, i), "type");
		if (t != NULL && strcasecmp(t, type) == 0)
			return 1;
	}
	return 0;
}

const char *
ag_mfa_authenticator_type(const ag_json *a)
{
	const char *t;

	if (ag_json_type(a) != AG_JSON_OBJECT)
		return NULL;
	if ((t = ag_json_get_str(a, "type")) != NULL && *t != '\0')
		return t;
	if ((t = ag_json_get_str(a, "authenticator_type")) != NULL &&
	    *t != '\0')
		return t;
	return NULL;
}

int
ag_mfa_filter_authenticators(ag_json *list, ag_json *requirements,
    ag_json **out)
{
	ag_json *res = NULL, *a, *c;
	const char *type;
	size_t i, n, skipped = 0;
	int r;

	*out = NULL;
	if (ag_json_type(list) != AG_JSON_ARRAY)
		return AG_ERR_PARSE;
	if ((n = ag_json_array_len(list)) > AG_MAX_MFA_AUTHENTICATORS)
		return AG_ERR_LIMIT;
	if ((res = ag_json_array()) == NULL)
		return AG_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		a = ag_json_array_get(list, i);
		if ((type = ag_mfa_authenticator_type(a)) == NULL) {
			skipped++;
			continue;
		}
		if (!ag_mfa_type_allowed(requirements, type))
			continue;
		if ((c = ag_json_copy(a)) == NULL ||
		    ag_json_array_add(res, c) != AG_OK) {
			r = AG_ERR_NOMEM;
			goto out;
		}
	}
	if (skipped > 0)
		ag_warn("mfa/authenticators: %zu malformed entr%s of the "
		    "provider's list skipped (no type)", skipped,
		    skipped == 1 ? "y" : "ies");
	*out = res;
	res = NULL;
	r = AG_OK;
 out:
	ag_json_free(res);
	return r;
}

/* ------------------------------------------------------------------ */
/* The provider calls                                                 */

/* {issuer}path ("mfa/challenge"), with one '/' between. */
static int
api_url(const struct ag_app *app, const char *path, struct ag_buf *out)
{
	const char *iss = app->conf.issuer;
	size_t n = strlen(iss);

	return ag_buf_printf(out, "%s%s%s", iss, n > 0 && iss[n - 1] == '/' ?
	    "" : "/", path);
}

int
ag_mfa_read_answer(const struct ag_http_resp *resp, const char *step,
    enum ag_json_type want, ag_json **out, struct ag_oauth_error *err,
    char *why)
{
	*out = NULL;
	if (resp->status < 200 || resp->status > 299)
		return ag_oidc_oauth_error(resp, step, err, why);
	if (ag_json_parse(ag_buf_str(&resp->body), resp->body.len,
	    AG_MAX_IDP_RESPONSE, out) != AG_OK ||
	    ag_json_type(*out) != want) {
		ag_json_free(*out);
		*out = NULL;
		return failw(why, AG_ERR_PARSE, "%s: the answer is not a JSON "
		    "%s", step, want == AG_JSON_ARRAY ? "array" : "object");
	}
	return AG_OK;
}

/* A request carrying the raw mfa_token as a bearer token. */
static int
bearer_call(struct ag_app *app, const struct ag_mfa_ctx *ctx,
    const char *method, const char *path, const char *json,
    enum ag_json_type want, ag_json **out, struct ag_oauth_error *err,
    char *why)
{
	struct ag_http_req req;
	struct ag_http_resp resp;
	struct ag_buf url, auth;
	int r;

	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&url, 0);
	ag_buf_init(&auth, 0);
	if ((r = api_url(app, path, &url)) != AG_OK ||
	    (r = ag_buf_printf(&auth, "Bearer %s", ctx->mfa_token)) != AG_OK) {
		r = failw(why, r, "%s: %s", path, ag_strerror(r));
		goto out;
	}
	ag_oidc_http_req(&app->conf, &req, method, ag_buf_str(&url), json);
	req.authorization = ag_buf_str(&auth);
	if ((r = ag_http_do(&req, &resp)) != AG_OK) {
		r = failw(why, r == AG_ERR_LIMIT ? r : AG_ERR_HTTP, "%s: %s",
		    path, r == AG_ERR_LIMIT ? "answer too large" : resp.error);
		goto out;
	}
	r = ag_mfa_read_answer(&resp, path, want, out, err, why);
 out:
	ag_http_resp_free(&resp);
	ag_buf_free(&url);
	ag_buf_free(&auth);
	return r;
}

int
ag_mfa_authenticators(struct ag_app *app, const struct ag_mfa_ctx *ctx,
    ag_json **out, struct ag_oauth_error *err, char *why)
{
	ag_json *list = NULL;
	int r;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if ((r = bearer_call(app, ctx, "GET", "mfa/authenticators", NULL,
	    AG_JSON_ARRAY, &list, err, why)) != AG_OK)
		return r;
	if ((r = ag_mfa_filter_authenticators(list, ctx->requirements,
	    out)) != AG_OK)
		r = failw(why, r, "mfa/authenticators: unusable list (%s)",
		    ag_strerror(r));
	ag_json_free(list);
	return r;
}

int
ag_mfa_challenge_pick(ag_json *doc, ag_json **out, char *why)
{
	static const char *const keep[] = { "challenge_type", "oob_code",
	    "binding_method" };
	ag_json *res, *v;
	size_t i;

	*out = NULL;
	if (ag_json_get_str(doc, "challenge_type") == NULL)
		return failw(why, AG_ERR_PARSE, "mfa/challenge: no "
		    "challenge_type in the answer");
	if ((res = ag_json_object()) == NULL)
		return AG_ERR_NOMEM;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if ((v = ag_json_get(doc, keep[i])) != NULL &&
		    ag_json_str(v) != NULL &&
		    ag_json_set_str(res, keep[i], ag_json_str(v)) != AG_OK) {
			ag_json_free(res);
			return AG_ERR_NOMEM;
		}
	*out = res;
	return AG_OK;
}

int
ag_mfa_challenge(struct ag_app *app, const struct ag_mfa_ctx *ctx,
    const char *challenge_type, const char *authenticator_id, ag_json **out,
    struct ag_oauth_error *err, char *why)
{
	struct ag_http_resp resp;
	struct ag_buf url;
	ag_json *doc = NULL, *req;
	int r = AG_ERR_NOMEM;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&url, 0);
	/*
	 * JSON with the client's credentials in the body, as Auth0's
	 * Authentication API documents it and the SDK's mfaChallenge sends
	 * it (client_id is required there, a Basic header is not read).
	 */
	if ((req = ag_json_object()) == NULL ||
	    (r = api_url(app, "mfa/challenge", &url)) != AG_OK ||
	    (r = ag_json_set_str(req, "mfa_token", ctx->mfa_token)) != AG_OK ||
	    (r = ag_json_set_str(req, "challenge_type", challenge_type)) !=
	    AG_OK || (authenticator_id != NULL && (r = ag_json_set_str(req,
	    "authenticator_id", authenticator_id)) != AG_OK)) {
		r = failw(why, r, "mfa/challenge: %s", ag_strerror(r));
		goto out;
	}
	if ((r = ag_oidc_client_post_json(app->oidc, ag_buf_str(&url), req,
	    &resp, why)) != AG_OK ||
	    (r = ag_mfa_read_answer(&resp, "mfa/challenge", AG_JSON_OBJECT, &doc,
	    err, why)) != AG_OK)
		goto out;
	r = ag_mfa_challenge_pick(doc, out, why);
 out:
	ag_json_free(req);
	ag_json_free(doc);
	ag_http_resp_free(&resp);
	ag_buf_free(&url);
	return r;
}

int
ag_mfa_associate(struct ag_app *app, const struct ag_mfa_ctx *ctx,
    ag_json *request, ag_json **out, struct ag_oauth_error *err, char *why)
{
	const char *json;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if ((json = ag_json_dump(request)) == NULL)
		return failw(why, AG_ERR_NOMEM, "mfa/associate: out of memory");
	return bearer_call(app, ctx, "POST", "mfa/associate", json,
	    AG_JSON_OBJECT, out, err, why);
}

int
ag_mfa_verify(struct ag_app *app, const struct ag_mfa_ctx *ctx,
    const struct ag_mfa_cred *cred, struct ag_tokens *t,
    struct ag_oauth_error *err, char *why)
{
	struct ag_buf form;
	int r, kinds;

	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
	memset(err, 0, sizeof(*err));
	kinds = (cred->otp != NULL) + (cred->oob_code != NULL) +
	    (cred->recovery_code != NULL);
	if (kinds != 1 || (cred->binding_code != NULL &&
	    cred->oob_code == NULL))
		return failw(why, AG_ERR_PARSE, "mfa verify: give exactly one "
		    "of otp, oob_code, recovery_code");
	ag_buf_init(&form, 0);
	if (cred->otp != NULL)
		r = ag_form_add(&form, "grant_type", AG_MFA_GRANT_OTP) ||
		    ag_form_add(&form, "otp", cred->otp);
	else if (cred->oob_code != NULL)
		r = ag_form_add(&form, "grant_type", AG_MFA_GRANT_OOB) ||
		    ag_form_add(&form, "oob_code", cred->oob_code) ||
		    (cred->binding_code != NULL && ag_form_add(&form,
		    "binding_code", cred->binding_code));
	else
		r = ag_form_add(&form, "grant_type", AG_MFA_GRANT_RECOVERY) ||
		    ag_form_add(&form, "recovery_code", cred->recovery_code);
	if (r != 0 ||
	    ag_form_add(&form, "mfa_token", ctx->mfa_token) != AG_OK ||
	    (ctx->audience != NULL && ag_form_add(&form,
	    app->conf.audience_param == AG_AUDIENCE_RESOURCE ? "resource" :
	    "audience", ctx->audience) != AG_OK) ||
	    (ctx->scope != NULL && ag_form_add(&form, "scope", ctx->scope) !=
	    AG_OK)) {
		r = failw(why, AG_ERR_NOMEM, "mfa verify: out of memory");
		goto out;
	}
	r = ag_oidc_token(app->oidc, ag_buf_str(&form), t, err, why);
 out:
	ag_buf_free(&form);
	return r;
}
