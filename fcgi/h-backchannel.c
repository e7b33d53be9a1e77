/*
 * h-backchannel.c -- POST /auth/backchannel-logout: OpenID Connect
 * Back-Channel Logout 1.0 (reference section 7, peers 3.4 item 16).
 *
 * The provider POSTs application/x-www-form-urlencoded with exactly
 * one logout_token.  Its signature, alg, iss and aud are verified as
 * an ID token's (ag_oidc_verify_jwt), its claims by ag_bclogout_check
 * (lib/bclogout.h), and its jti must be new (remembered in session.db
 * until the token could no longer be accepted).  Then:
 *   sqlite store: the sessions with that sid (a token with only a sub:
 *     every session of that sub) are deleted;
 *   cookie store: the logout is recorded (table logouts) and every
 *     later read of a cookie session it names is refused (lib/session.c).
 * Both need session.db, migrated: 503 when it cannot be used.  The SDK
 * answers 500 without a store; we support both.
 *
 * Answers: 204 (no body) on success; 400 text/plain with a short
 * reason for any refusal (never the token); 413 for a body over
 * AG_MAX_REQUEST_BODY; 503 for the store or the provider's keys
 * unavailable (the provider may retry).  Always Cache-Control: no-store.
 */
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "bclogout.h"
#include "db.h"
#include "err.h"
#include "handlers.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "url.h"

#define FORM_TYPE	"application/x-www-form-urlencoded"

static int
refuse(struct ag_resp *w, const char *reason)
{
	ag_info("backchannel-logout: refused: %s", reason);
	return ag_resp_text(w, 400, reason);
}

/* The effects of a valid, new logout token, in the open transaction. */
static int
apply(struct ag_app *app, struct ag_db *db, const struct ag_bclogout *t,
    int64_t now, int *count)
{
	*count = 0;
	if (app->conf.store == AG_STORE_SQLITE)
		return ag_db_session_delete_by(db, t->sid, t->sub, count);
	/* Sessions created before now expire by now + absolute. */
	return ag_db_logout_record(db, t->sid, t->sub, now,
	    now + app->conf.absolute_duration + AG_JWE_LEEWAY);
}

int
ag_h_backchannel(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	struct ag_params p;
	struct ag_bclogout t;
	struct ag_db *db;
	ag_json *header = NULL, *claims = NULL;
	char why[AG_WHY_LEN] = "";
	const char *token;
	int64_t now = ag_now();
	int r, count = 0;

	memset(&p, 0, sizeof(p));
	(void)ag_resp_header(w, "Cache-Control", "no-store");
	if (req->body_too_large) {
		r = ag_resp_text(w, 413, "Request body too large.");
		goto out;
	}
	if (!ag_req_media_type(req->content_type, FORM_TYPE)) {
		r = refuse(w, "Content-Type must be " FORM_TYPE ".");
		goto out;
	}
	if (req->body == NULL || req->body_len == 0) {
		r = refuse(w, "Missing `logout_token` in the request body.");
		goto out;
	}
	if (ag_params_parse(req->body, req->body_len, AG_MAX_REQUEST_BODY,
	    &p) != AG_OK) {
		r = refuse(w, "Malformed request body.");
		goto out;
	}
	if (ag_params_count(&p, "logout_token") > 1) {
		r = refuse(w, "More than one `logout_token` in the request "
		    "body.");
		goto out;
	}
	token = ag_params_get(&p, "logout_token");
	if (token == NULL || *token == '\0') {
		r = refuse(w, "Missing `logout_token` in the request body.");
		goto out;
	}
	if (strlen(token) > AG_MAX_JWT) {
		r = refuse(w, "Invalid logout token.");
		goto out;
	}
	if ((r = ag_app_db(app, &db)) != AG_OK) {
		ag_err("backchannel-logout: session.db cannot be used (run "
		    "authgate migrate): %s", ag_strerror(r));
		r = ag_resp_text(w, 503, MSG_STORE_DOWN);
		goto out;
	}
	r = ag_oidc_verify_jwt(app->oidc, token, &header, &claims, why);
	if (r == AG_ERR_HTTP || r == AG_ERR_NOMEM) {
		ag_err("backchannel-logout: %s", why);
		r = ag_resp_text(w, 503, "The provider's keys are unavailable; "
		    "try again shortly.");
		goto out;
	}
	if (r != AG_OK) {
		ag_info("backchannel-logout: %s", why);
		r = ag_resp_text(w, 400, "Invalid logout token.");
		goto out;
	}
	if (ag_bclogout_check(header, claims, now, &t, why) != AG_OK) {
		r = refuse(w, why);
		goto out;
	}
	if ((r = ag_db_begin(db)) != AG_OK)
		goto store_down;
	r = ag_db_jti_remember(db, t.jti, now, t.keep_until);
	if (r == AG_ERR_DENIED) {
		ag_db_rollback(db);
		r = refuse(w, "logout token: replayed \"jti\"");
		goto out;
	}
	if (r == AG_OK)
		r = apply(app, db, &t, now, &count);
	if (r == AG_OK)
		r = ag_db_commit(db);
	else
		ag_db_rollback(db);
	if (r != AG_OK)
		goto store_down;
	if (app->conf.store == AG_STORE_SQLITE)
		ag_info("backchannel-logout: %d session(s) ended (by %s)",
		    count, t.sid != NULL ? "sid" : "sub");
	else
		ag_info("backchannel-logout: logout recorded (by %s)",
		    t.sid != NULL ? "sid" : "sub");
	w->status = 204;
	r = AG_OK;
	goto out;
store_down:
	ag_err("backchannel-logout: session.db: %s", ag_strerror(r));
	r = ag_resp_text(w, 503, MSG_STORE_DOWN);
out:
	ag_json_free(header);
	ag_json_free(claims);
	ag_params_free(&p);
	return r;
}
