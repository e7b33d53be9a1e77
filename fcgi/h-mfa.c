/*
 * h-mfa.c -- the MFA step-up routes (reference section 10.3):
 *
 *   GET  /auth/mfa/authenticators  Authorization: Bearer <mfa_token>
 *        200 [authenticators of the required types, Auth0's shape]
 *   POST /auth/mfa/challenge       {mfa_token, challenge_type,
 *        authenticator_id?}   200 {challenge_type, oob_code?,
 *        binding_method?}
 *   POST /auth/mfa/associate       Bearer + {authenticator_types,
 *        oob_channels?, phone_number?, email?}   200 Auth0's enrollment
 *   POST /auth/mfa/verify          Bearer + {otp} | {oob_code,
 *        binding_code?} | {recovery_code}   200 {success: true,
 *        recovery_code?} and the session rewritten with the new token
 *
 * mfa_token is always the encrypted one /auth/access-token handed out
 * with its 403 mfa_required (lib/mfa.h); a raw provider token is
 * refused like any other undecryptable value.  Unlike the SDK (whose
 * browser helpers call three of these routes without cookies), every
 * route needs the session the token was minted for: the token is bound
 * to its sid and sub, so a leaked one is useless elsewhere.
 *
 * Answers, all application/json with Cache-Control: no-store, errors
 * as {"error","error_description"}:
 *   400 invalid_request: bad Authorization header, body or field;
 *   400 mfa_no_available_factors: a challenge_type the requirements
 *       do not list;
 *   400 <Auth0's error>: the provider refused (invalid_grant "Invalid
 *       otp_code.", expired_token, unsupported_challenge_type...) --
 *       enrollment errors too (the SDK answers 500 there);
 *   401 missing_session, mfa_token_invalid (tampered, foreign, not
 *       ours), mfa_token_expired;
 *   403 mfa_required from verify when the provider wants another
 *       factor (a new encrypted mfa_token);
 *   413 body over AG_MAX_REQUEST_BODY; 415 body not application/json;
 *   502 unexpected_error: the provider could not be reached or
 *       answered nonsense; 503 store_unavailable.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "err.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "mfa.h"
#include "oidc.h"
#include "rand.h"
#include "session.h"
#include "token.h"

#define JSON_TYPE	"application/json"

#define MSG_NO_SESSION	"The user does not have an active session."
#define MSG_INVALID	"MFA token is invalid."
#define MSG_EXPIRED	"MFA token has expired. Please restart the MFA flow."
#define MSG_BAD_AUTH	"Missing or invalid Authorization header."
#define MSG_BAD_JSON	"Invalid JSON in request body"
#define MSG_UPSTREAM	"The MFA service could not be used."

/* What every route needs once the request is accepted. */
struct call {
	const char		*route;		/* for the log */
	struct ag_session	 s;
	struct ag_mfa_ctx	 ctx;
	ag_json			*body;		/* parsed POST body */
	int			 session_written;
};

static void
call_free(struct call *c)
{
	ag_session_free(&c->s);
	ag_mfa_ctx_clear(&c->ctx);
	ag_json_free(c->body);
}

/* Finish w: status and json, no-store unless the session set no-cache. */
static int
answer(struct call *c, struct ag_resp *w, int status, const char *json)
{
	int r;

	if (!c->session_written &&
	    (r = ag_resp_header(w, "Cache-Control", "no-store")) != AG_OK)
		return r;
	return ag_resp_json(w, status, json);
}

/* {"error":code,"error_description":desc} with status. */
static int
json_error(struct call *c, struct ag_resp *w, int status, const char *code,
    const char *desc)
{
	ag_json *o;
	const char *json;
	int r = AG_ERR_NOMEM;

	if ((o = ag_json_object()) != NULL &&
	    ag_json_set_str(o, "error", code) == AG_OK &&
	    ag_json_set_str(o, "error_description", desc) == AG_OK &&
	    (json = ag_json_dump(o)) != NULL)
		r = answer(c, w, status, json);
	ag_json_free(o);
	return r;
}

/* A JSON value as the 200 answer. */
static int
success(struct call *c, struct ag_resp *w, ag_json *v)
{
	const char *json;

	if ((json = ag_json_dump(v)) == NULL)
		return AG_ERR_NOMEM;
	return answer(c, w, 200, json);
}

/*
 * 1 when t is a plausible encrypted mfa_token: a compact JWE
 * (base64url and dots), 1..AG_MAX_JWT bytes.  The sealed token wraps
 * the provider's (a JWT at Auth0) and its context, so it is far longer
 * than the other fields.
 */
static int
token_ok(const char *t)
{
	size_t i;

	if (t == NULL)
		return 0;
	for (i = 0; t[i] != '\0' && i <= AG_MAX_JWT; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '-' || t[i] == '_' || t[i] == '.'))
			return 0;
	return i > 0 && i <= AG_MAX_JWT;
}

/*
 * The encrypted token of "Authorization: Bearer <token>" (scheme
 * case-insensitive), or NULL when absent or not token_ok().
 */
static const char *
bearer(const struct ag_req *req)
{
	const char *v = req->authorization, *t;

	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return NULL;
	for (t = v + 7; *t == ' '; t++)
		;
	return token_ok(t) ? t : NULL;
}

/*
 * The POST body as a JSON object into c->body.  0, or -1 when the
 * refusal (413, 415, 400) is written.
 */
static int
read_body(struct call *c, const struct ag_req *req, struct ag_resp *w)
{
	if (req->body_too_large) {
		(void)json_error(c, w, 413, "invalid_request",
		    "Request body too large.");
		return -1;
	}
	if (!ag_req_media_type(req->content_type, JSON_TYPE)) {
		(void)json_error(c, w, 415, "invalid_request",
		    "Content-Type must be " JSON_TYPE ".");
		return -1;
	}
	if (req->body == NULL || ag_json_parse_object(req->body,
	    req->body_len, AG_MAX_REQUEST_BODY, &c->body) != AG_OK) {
		(void)json_error(c, w, 400, "invalid_request", MSG_BAD_JSON);
		return -1;
	}
	return 0;
}

/*
 * A string member of the body, non-empty and at most AG_MAX_MFA_FIELD
 * bytes, into *out (NULL when absent).  0; -1 when it is there but
 * unusable, or absent and required (400 written: "Missing or invalid
 * <name>").
 */
static int
field(struct call *c, struct ag_resp *w, const char *name, int required,
    const char **out)
{
	ag_json *v = ag_json_get(c->body, name);
	const char *s = ag_json_str(v);
	char msg[128];

	*out = NULL;
	if (v == NULL && !required)
		return 0;
	if (s == NULL || *s == '\0' || strlen(s) > AG_MAX_MFA_FIELD) {
		(void)snprintf(msg, sizeof(msg), "Missing or invalid %s", name);
		(void)json_error(c, w, 400, "invalid_request", msg);
		return -1;
	}
	*out = s;
	return 0;
}

/*
 * The body's mfa_token (validated as token_ok(), not as a short field)
 * into *out.  0, or -1 with the 400 written.
 */
static int
body_token(struct call *c, struct ag_resp *w, const char **out)
{
	*out = ag_json_str(ag_json_get(c->body, "mfa_token"));
	if (token_ok(*out))
		return 0;
	*out = NULL;
	(void)json_error(c, w, 400, "invalid_request",
	    "Missing or invalid mfa_token");
	return -1;
}

/*
 * The session of the request and the encrypted token opened for it.
 * 0, or -1 with the refusal written (401, 503).
 */
static int
open_token(struct call *c, struct ag_app *app, struct ag_req *req,
    struct ag_resp *w, const char *sealed)
{
	int r;

	if ((r = ag_session_read(app, &req->cookies, &c->s)) != AG_OK) {
		if (r == AG_ERR_BUSY || r == AG_ERR_DB || r == AG_ERR_NOMEM)
			(void)json_error(c, w, 503, "store_unavailable",
			    MSG_STORE_DOWN);
		else
			(void)json_error(c, w, 401, "missing_session",
			    MSG_NO_SESSION);
		return -1;
	}
	r = ag_mfa_open(app, sealed, ag_session_sid(&c->s),
	    ag_json_get_str(ag_session_user(&c->s), "sub"), ag_now(),
	    &c->ctx);
	if (r == AG_OK)
		return 0;
	if (r == AG_ERR_EXPIRED) {
		ag_info("%s: mfa_token expired", c->route);
		(void)json_error(c, w, 401, "mfa_token_expired", MSG_EXPIRED);
	} else {
		ag_info("%s: mfa_token refused: %s", c->route,
		    r == AG_ERR_DENIED ? "minted for another session" :
		    ag_strerror(r));
		(void)json_error(c, w, 401, "mfa_token_invalid", MSG_INVALID);
	}
	return -1;
}

/* The answer to a failed provider call. */
static int
provider_failed(struct call *c, struct ag_resp *w, int r,
    const struct ag_oauth_error *e, const char *why)
{
	if (r == AG_ERR_PROVIDER && e->error[0] != '\0') {
		ag_info("%s: %s", c->route, why);
		return json_error(c, w, 400, e->error, e->description[0] != '\0' ?
		    e->description : e->error);
	}
	ag_warn("%s: %s", c->route, why);
	return json_error(c, w, 502, "unexpected_error", MSG_UPSTREAM);
}

/* The answer to a provider call: its result res (200) or its failure. */
static int
relay(struct call *c, struct ag_resp *w, int r, ag_json *res,
    const struct ag_oauth_error *e, const char *why)
{
	return r == AG_OK ? success(c, w, res) :
	    provider_failed(c, w, r, e, why);
}

/* End a handler: AG_OK once an answer is written. */
static int
done(struct call *c, struct ag_resp *w, int r)
{
	call_free(c);
	return w->status != 0 ? AG_OK : (r != AG_OK ? r : AG_ERR_NOMEM);
}

/* ------------------------------------------------------------------ */

int
ag_h_mfa_authenticators(struct ag_app *app, struct ag_req *req,
    struct ag_resp *w)
{
	struct call c;
	struct ag_oauth_error e;
	ag_json *list = NULL;
	const char *tok;
	char why[AG_WHY_LEN] = "";
	int r = AG_OK;

	memset(&c, 0, sizeof(c));
	memset(&e, 0, sizeof(e));
	c.route = "mfa/authenticators";
	if ((tok = bearer(req)) == NULL) {
		r = json_error(&c, w, 400, "invalid_request", MSG_BAD_AUTH);
		goto out;
	}
	if (open_token(&c, app, req, w, tok) != 0)
		goto out;
	r = ag_mfa_authenticators(app, &c.ctx, &list, &e, why);
	r = relay(&c, w, r, list, &e, why);
 out:
	ag_json_free(list);
	ag_oauth_error_clear(&e);
	return done(&c, w, r);
}

/* 1 when every space-separated type of types is allowed. */
static int
types_allowed(ag_json *requirements, const char *types)
{
	char one[64];
	size_t n;

	while (*types != '\0') {
		while (*types == ' ')
			types++;
		if ((n = strcspn(types, " ")) == 0)
			break;
		if (n >= sizeof(one))
			return 0;
		memcpy(one, types, n);
		one[n] = '\0';
		if (!ag_mfa_type_allowed(requirements, one))
			return 0;
		types += n;
	}
	return 1;
}

int
ag_h_mfa_challenge(struct ag_app *app, struct ag_req *req,
    struct ag_resp *w)
{
	struct call c;
	struct ag_oauth_error e;
	ag_json *res = NULL;
	const char *tok, *type, *id;
	char why[AG_WHY_LEN] = "";
	int r = AG_OK;

	memset(&c, 0, sizeof(c));
	memset(&e, 0, sizeof(e));
	c.route = "mfa/challenge";
	if (read_body(&c, req, w) != 0 ||
	    body_token(&c, w, &tok) != 0 ||
	    field(&c, w, "challenge_type", 1, &type) != 0 ||
	    field(&c, w, "authenticator_id", 0, &id) != 0 ||
	    open_token(&c, app, req, w, tok) != 0)
		goto out;
	if (!types_allowed(c.ctx.requirements, type)) {
		r = json_error(&c, w, 400, "mfa_no_available_factors",
		    "No MFA factors of the requested type are available.");
		goto out;
	}
	r = ag_mfa_challenge(app, &c.ctx, type, id, &res, &e, why);
	r = relay(&c, w, r, res, &e, why);
 out:
	ag_json_free(res);
	ag_oauth_error_clear(&e);
	return done(&c, w, r);
}

/*
 * A copy of the array member name of o (1..AG_MAX_MFA_TYPES short
 * strings, each one of allowed when allowed is non-NULL) into out, or
 * -1 with the 400 written.
 */
static int
string_list(struct call *c, struct ag_resp *w, const char *name,
    const char *const *allowed, ag_json *out)
{
	ag_json *v = ag_json_get(c->body, name), *copy;
	const char *s;
	size_t i, j, n = ag_json_array_len(v);
	char msg[128];

	if (ag_json_type(v) != AG_JSON_ARRAY || n == 0 ||
	    n > AG_MAX_MFA_TYPES)
		goto bad;
	for (i = 0; i < n; i++) {
		if ((s = ag_json_str(ag_json_array_get(v, i))) == NULL ||
		    *s == '\0' || strlen(s) > 32)
			goto bad;
		for (j = 0; allowed != NULL && allowed[j] != NULL; j++)
			if (strcmp(allowed[j], s) == 0)
				break;
		if (allowed != NULL && allowed[j] == NULL)
			goto bad;
	}
	if ((copy = ag_json_copy(v)) == NULL ||
	    ag_json_set(out, name, copy) != AG_OK)
		return -1;
	return 0;
 bad:
	(void)snprintf(msg, sizeof(msg), "Missing or invalid %s", name);
	(void)json_error(c, w, 400, "invalid_request", msg);
	return -1;
}

/*
 * The enrollment request to forward, validated: authenticator_types
 * (first otp or oob), oob_channels (required for oob), phone_number
 * (required for sms and voice), email.  Unknown members are dropped.
 */
static int
enrollment(struct call *c, struct ag_resp *w, ag_json *out)
{
	static const char *const types[] = { "otp", "oob", NULL };
	static const char *const channels[] = { "sms", "voice", "auth0",
	    "email", NULL };
	const char *first, *phone, *email, *ch;
	ag_json *chans;
	size_t i;

	if (string_list(c, w, "authenticator_types", types, out) != 0)
		return -1;
	first = ag_json_str(ag_json_array_get(ag_json_get(out,
	    "authenticator_types"), 0));
	if ((ag_json_get(c->body, "oob_channels") != NULL ||
	    strcmp(first, "oob") == 0) &&
	    string_list(c, w, "oob_channels", channels, out) != 0)
		return -1;
	if (field(c, w, "phone_number", 0, &phone) != 0 ||
	    field(c, w, "email", 0, &email) != 0)
		return -1;
	chans = ag_json_get(out, "oob_channels");
	for (i = 0; phone == NULL && i < ag_json_array_len(chans); i++) {
		ch = ag_json_str(ag_json_array_get(chans, i));
		if (strcmp(ch, "sms") == 0 || strcmp(ch, "voice") == 0) {
			(void)json_error(c, w, 400, "invalid_request",
			    "phone_number is required for sms and voice");
			return -1;
		}
	}
	if ((phone != NULL && ag_json_set_str(out, "phone_number", phone) !=
	    AG_OK) || (email != NULL && ag_json_set_str(out, "email",
	    email) != AG_OK))
		return -1;
	return 0;
}

int
ag_h_mfa_associate(struct ag_app *app, struct ag_req *req,
    struct ag_resp *w)
{
	struct call c;
	struct ag_oauth_error e;
	ag_json *fwd = NULL, *res = NULL;
	const char *tok;
	char why[AG_WHY_LEN] = "";
	int r = AG_OK;

	memset(&c, 0, sizeof(c));
	memset(&e, 0, sizeof(e));
	c.route = "mfa/associate";
	if ((tok = bearer(req)) == NULL) {
		r = json_error(&c, w, 400, "invalid_request", MSG_BAD_AUTH);
		goto out;
	}
	if (read_body(&c, req, w) != 0)
		goto out;
	if ((fwd = ag_json_object()) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	if (enrollment(&c, w, fwd) != 0 ||
	    open_token(&c, app, req, w, tok) != 0)
		goto out;
	r = ag_mfa_associate(app, &c.ctx, fwd, &res, &e, why);
	r = relay(&c, w, r, res, &e, why);
 out:
	ag_json_free(fwd);
	ag_json_free(res);
	ag_oauth_error_clear(&e);
	return done(&c, w, r);
}

/*
 * Keep the verified token in the session (reference 10.2: appended to
 * accessTokens for the context's audience and scope; the refresh and
 * ID tokens of the answer are not stored) and write the session.
 */
static int
keep_token(struct call *c, struct ag_app *app, struct ag_req *req,
    struct ag_resp *w, const struct ag_tokens *t)
{
	struct ag_token_set n;
	int changed = 0, r;

	memset(&n, 0, sizeof(n));
	n.access_token = t->access_token;
	n.token_type = t->token_type;
	n.scope = t->scope != NULL ? t->scope : c->ctx.scope;
	n.requested_scope = c->ctx.scope;
	n.audience = c->ctx.audience;
	n.refresh_token = ag_session_token(&c->s, "refreshToken");
	/* Without expires_in: as at login and refresh (lib/token.c). */
	n.expires_at = ag_now() + (t->expires_in >= 0 ? t->expires_in :
	    AG_DEFAULT_EXPIRES_IN);
	if ((r = ag_token_store(&app->conf, c->s.data, &n, &changed)) !=
	    AG_OK) {
		ag_err("%s: the token cannot be stored: %s", c->route,
		    ag_strerror(r));
		return json_error(c, w, 500, "session_write_failed",
		    "The session could not be saved.");
	}
	if (!changed)
		return AG_OK;
	c->session_written = 1;
	if ((r = ag_session_write(app, &req->cookies, &c->s, w)) == AG_OK)
		return AG_OK;
	ag_err("%s: the session was not saved: %s", c->route, ag_strerror(r));
	c->session_written = 0;
	if (r == AG_ERR_NOTFOUND)
		return json_error(c, w, 401, "missing_session", MSG_NO_SESSION);
	if (r == AG_ERR_BUSY || r == AG_ERR_DB)
		return json_error(c, w, 503, "store_unavailable", MSG_STORE_DOWN);
	return json_error(c, w, 500, "session_write_failed",
	    "The session could not be saved.");
}

/* 403 with a fresh encrypted token: the provider wants another factor. */
static int
chained(struct call *c, struct ag_app *app, struct ag_resp *w,
    ag_json *err)
{
	struct ag_buf body;
	int r;

	ag_buf_init(&body, 64 * 1024);
	if ((r = ag_mfa_required_body(app, err, c->ctx.audience,
	    c->ctx.scope, c->ctx.sid, c->ctx.sub, ag_now(),
	    app->conf.mfa_token_ttl, &body)) == AG_OK)
		r = answer(c, w, 403, ag_buf_str(&body));
	ag_buf_free(&body);
	return r;
}

int
ag_h_mfa_verify(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	struct call c;
	struct ag_oauth_error e;
	struct ag_mfa_cred cred;
	struct ag_tokens t;
	ag_json *res = NULL;
	const char *tok, *rc;
	char why[AG_WHY_LEN] = "";
	int r = AG_OK;

	memset(&c, 0, sizeof(c));
	memset(&e, 0, sizeof(e));
	memset(&cred, 0, sizeof(cred));
	memset(&t, 0, sizeof(t));
	c.route = "mfa/verify";
	if ((tok = bearer(req)) == NULL) {
		r = json_error(&c, w, 400, "invalid_request", MSG_BAD_AUTH);
		goto out;
	}
	if (read_body(&c, req, w) != 0 ||
	    field(&c, w, "otp", 0, &cred.otp) != 0 ||
	    field(&c, w, "oob_code", 0, &cred.oob_code) != 0 ||
	    field(&c, w, "binding_code", 0, &cred.binding_code) != 0 ||
	    field(&c, w, "recovery_code", 0, &cred.recovery_code) != 0)
		goto out;
	if ((cred.otp != NULL) + (cred.oob_code != NULL) +
	    (cred.recovery_code != NULL) != 1 ||
	    (cred.binding_code != NULL && cred.oob_code == NULL)) {
		r = json_error(&c, w, 400, "invalid_request", "Give exactly one "
		    "of otp, oob_code (with binding_code) or recovery_code.");
		goto out;
	}
	if (open_token(&c, app, req, w, tok) != 0)
		goto out;
	r = ag_mfa_verify(app, &c.ctx, &cred, &t, &e, why);
	if (r == AG_ERR_PROVIDER && strcmp(e.error, "mfa_required") == 0) {
		ag_info("%s: another factor required", c.route);
		r = chained(&c, app, w, e.raw);
		goto out;
	}
	if (r != AG_OK) {
		r = provider_failed(&c, w, r, &e, why);
		goto out;
	}
	if ((r = keep_token(&c, app, req, w, &t)) != AG_OK || w->status != 0)
		goto out;
	ag_info("%s: step-up for %s done", c.route, c.ctx.audience != NULL ?
	    c.ctx.audience : "the default audience");
	r = AG_ERR_NOMEM;
	if ((res = ag_json_object()) == NULL ||
	    ag_json_set(res, "success", ag_json_bool(1)) != AG_OK ||
	    ((rc = ag_json_get_str(t.raw, "recovery_code")) != NULL &&
	    ag_json_set_str(res, "recovery_code", rc) != AG_OK))
		goto out;
	r = success(&c, w, res);
 out:
	ag_json_free(res);
	ag_tokens_clear(&t);
	ag_oauth_error_clear(&e);
	return done(&c, w, r);
}
