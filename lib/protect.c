/*
 * protect.c -- the gate in front of protected content.  See protect.h.
 *
 * The script of ag_protect():
 *  1. Read the session (cookie or SQLite).  None: the unauthenticated
 *     answer; the store unavailable: 503.  Either way AG_ERR_DENIED.
 *  1b. The authorization rules on the session's user claims:
 *     authorize.require, and the rule the server names per path
 *     (AUTHGATE_RULE; for the wrapper under Apache's Action also
 *     REDIRECT_AUTHGATE_RULE and every deeper REDIRECT_REDIRECT_...
 *     level; all must hold).  Not met: 403 (a short page for navigations,
 *     JSON otherwise); a name the configuration lacks: 500 (a
 *     misconfiguration fails closed).  Both AG_ERR_DENIED, before any
 *     token refresh or session write.
 *  2. With wrap.pass_access_token, the access token (lib/token.c:
 *     refreshed when expired, coalesced with parallel requests).  When
 *     the answer cannot carry Set-Cookie and the session lives in the
 *     cookie, ag_token_get sees the session without its refresh token:
 *     a valid token is handed out, an expired one is not refreshed.  A
 *     failure is logged and the program runs without the token
 *     variables.
 *  2b. A refresh that returned an ID token replaced the user's claims:
 *     the rules of 1b again on the new claims.  Not met: the refreshed
 *     session is written (step 3; a rotated refresh token is never
 *     lost), then 403 as in 1b.
 *  3. One session write: the refreshed tokens, else a rolling touch --
 *     the latter only when Set-Cookie reaches the browser.
 *  4. What the program sees: the user after the token step (a refresh
 *     may have replaced it), the expiry after the write.
 */
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "err.h"
#include "log.h"
#include "protect.h"
#include "rand.h"
#include "url.h"

#define NOT_AUTHENTICATED	"{\"error\":\"not_authenticated\"," \
	"\"description\":\"The user does not have an active session or " \
	"is not authenticated\"}"

void
ag_protect_unauthenticated(const struct ag_app *app, const struct ag_req *req,
    const char *mode, struct ag_resp *w)
{
	struct ag_buf loc;

	ag_buf_init(&loc, 16 * 1024);
	(void)ag_resp_header(w, "Cache-Control", "no-store");
	if (app->conf.unauthenticated == AG_UNAUTH_401 ||
	    (mode != NULL && strcmp(mode, "api") == 0) ||
	    !ag_req_is_navigation(req) ||
	    ag_buf_printf(&loc, "%s%s/login?returnTo=", app->conf.app_origin,
	    app->conf.route_prefix) != AG_OK ||
	    ag_url_encode(&loc, req->request_uri != NULL ?
	    req->request_uri : "/") != AG_OK ||
	    ag_resp_redirect(w, 307, ag_buf_str(&loc)) != AG_OK)
		(void)ag_resp_json(w, 401, NOT_AUTHENTICATED);
	ag_buf_free(&loc);
}

#define FORBIDDEN_JSON	"{\"error\":\"forbidden\"," \
	"\"description\":\"The user is not allowed to access this " \
	"resource\"}"
#define FORBIDDEN_HTML	"<!DOCTYPE html>\n<html lang=\"en\"><head>" \
	"<meta charset=\"utf-8\"><title>403 Forbidden</title></head>\n" \
	"<body><h1>Forbidden</h1>\n<p>You are signed in, but your account " \
	"is not allowed to open this page.</p></body></html>\n"

/* The 403 answer into w: a page for navigations, else JSON. */
static void
forbidden(const struct ag_req *req, const char *mode, struct ag_resp *w)
{
	/* w->head may already hold the refreshed session's Set-Cookie. */
	(void)ag_resp_header(w, "Cache-Control", "no-store");
	if ((mode != NULL && strcmp(mode, "api") == 0) ||
	    !ag_req_is_navigation(req) ||
	    ag_buf_puts(&w->body, FORBIDDEN_HTML) != AG_OK ||
	    ag_resp_header(w, "Content-Type", "text/html; charset=utf-8") !=
	    AG_OK) {
		ag_buf_reset(&w->body);
		(void)ag_resp_json(w, 403, FORBIDDEN_JSON);
		return;
	}
	w->status = 403;
}

/* The rule names o carries: o->rule, then o->redirect_rule[]. */
#define NAMES	(1 + AG_MAX_REDIRECT_RULES)

/*
 * The rules o names into named[NAMES] (NULL where no name is given).
 * -1: all found; else the index of the first name the configuration
 * lacks.
 */
static int
find_rules(const struct ag_app *app, const struct ag_protect_opts *o,
    const char *names[NAMES], const struct ag_rule *named[NAMES])
{
	int i;

	names[0] = o->rule;
	for (i = 1; i < NAMES; i++)
		names[i] = o->redirect_rule[i - 1];
	for (i = 0; i < NAMES; i++) {
		named[i] = NULL;
		if (names[i] != NULL && (strlen(names[i]) > AG_MAX_RULE_NAME ||
		    (named[i] = ag_rules_find(&app->rules, names[i])) == NULL))
			return i;
	}
	return -1;
}

int
ag_protect_rules_hold(const struct ag_app *app,
    const struct ag_protect_opts *o, const ag_json *user)
{
	const char *names[NAMES];
	const struct ag_rule *named[NAMES];
	int i;

	if (find_rules(app, o, names, named) >= 0 ||
	    !ag_rule_eval(app->rules.require, user))
		return 0;
	for (i = 0; i < NAMES; i++)
		if (named[i] != NULL && !ag_rule_eval(named[i], user))
			return 0;
	return 1;
}

/*
 * 1b. The rules on the user's claims.  AG_OK: met.  AG_ERR_DENIED with
 * the answer in w: not met (403), or o->rule or an o->redirect_rule[]
 * names no rule (500).
 */
static int
check_rules(const struct ag_app *app, const struct ag_req *req,
    const struct ag_protect_opts *o, const ag_json *user, struct ag_resp *w)
{
	/* Level i's variable: the last i prefixes, then AUTHGATE_RULE. */
	static const char redirects[] = "REDIRECT_REDIRECT_REDIRECT_"
	    "REDIRECT_REDIRECT_REDIRECT_REDIRECT_REDIRECT_";
	const char *names[NAMES];
	const struct ag_rule *named[NAMES];
	const char *sub = ag_json_get_str(user, "sub");
	size_t i;
	int bad;

	if ((bad = find_rules(app, o, names, named)) >= 0) {
		i = (size_t)bad;
		ag_err("%s: %s: the server's %sAUTHGATE_RULE names no rule of "
		    "the configuration (authorize.rule.%.64s); refusing",
		    o->who, o->what, redirects + (sizeof(redirects) - 1) -
		    i * 9, names[i]);
		(void)ag_resp_header(w, "Cache-Control", "no-store");
		(void)ag_resp_text(w, 500, "Internal error.");
		return AG_ERR_DENIED;
	}
	if (!ag_rule_eval(app->rules.require, user)) {
		ag_info("%s: %s denied for sub %.128s: authorize.require "
		    "not met", o->who, o->what, sub != NULL ? sub : "-");
		forbidden(req, o->mode, w);
		return AG_ERR_DENIED;
	}
	for (i = 0; i < NAMES; i++) {
		if (named[i] == NULL || ag_rule_eval(named[i], user))
			continue;
		ag_info("%s: %s denied for sub %.128s: authorize.rule.%s not "
		    "met", o->who, o->what, sub != NULL ? sub : "-", names[i]);
		forbidden(req, o->mode, w);
		return AG_ERR_DENIED;
	}
	return AG_OK;
}

/* 2. The access token into p->tok and p->es. */
static void
access_token(struct ag_app *app, const struct ag_protect_opts *o,
    struct ag_protect *p)
{
	struct ag_token_req treq;
	struct ag_token_fail tf;
	struct ag_session view, *s = &p->s;

	memset(&treq, 0, sizeof(treq));
	memset(&tf, 0, sizeof(tf));
	memset(&view, 0, sizeof(view));
	if (!o->set_cookie && app->conf.store == AG_STORE_COOKIE) {
		/* A refreshed cookie could not be delivered: no refresh. */
		view = p->s;
		if ((view.data = ag_json_copy(p->s.data)) == NULL) {
			ag_warn("%s: no access token for %s: out of memory",
			    o->who, o->what);
			return;
		}
		ag_json_del(ag_json_get(view.data, "tokenSet"), "refreshToken");
		s = &view;
	}
	if (ag_token_get(app, s, &treq, &p->tok, &tf) == AG_TOKEN_OK) {
		p->es.access_token = p->tok.access_token;
		p->es.access_token_type = p->tok.token_type != NULL &&
		    strcmp(p->tok.token_type, "dpop") == 0 ? "DPoP" : "Bearer";
		p->es.access_token_expires = p->tok.expires_at;
		p->es.scope = p->tok.scope;
	} else if (s == &view)
		ag_warn("%s: no access token for %s: %s: %s (with "
		    "session.store = cookie an authorizer cannot store a "
		    "refresh; use session.store = sqlite)", o->who, o->what,
		    ag_token_code(tf.err), tf.why);
	else
		ag_warn("%s: no access token for %s: %s: %s", o->who, o->what,
		    ag_token_code(tf.err), tf.why);
	if (s == &view) {
		p->tok.session_changed = 0;
		ag_session_free(&view);
	}
	ag_token_fail_clear(&tf);
}

int
ag_protect(struct ag_app *app, struct ag_req *req,
    const struct ag_protect_opts *o, struct ag_resp *w, struct ag_protect *p)
{
	struct ag_resp scratch;
	struct ag_resp *cw = o->set_cookie ? w : &scratch;
	int64_t now, new_exp;
	int r, denied;

	memset(p, 0, sizeof(*p));
	ag_resp_init(&scratch);

	/* 1. The session. */
	if ((r = ag_session_read(app, &req->cookies, &p->s)) != AG_OK) {
		if (r == AG_ERR_BUSY || r == AG_ERR_DB) {
			(void)ag_resp_header(w, "Cache-Control", "no-store");
			(void)ag_resp_text(w, 503, "The session store is "
			    "unavailable; try again shortly.");
		} else
			ag_protect_unauthenticated(app, req, o->mode, w);
		r = AG_ERR_DENIED;
		goto out;
	}

	/* 1b. The authorization rules. */
	if ((r = check_rules(app, req, o, ag_session_user(&p->s), w)) !=
	    AG_OK)
		goto out;

	/* 2. The access token. */
	if (app->conf.pass_access_token)
		access_token(app, o, p);

	/*
	 * 2b. A refresh that returned an ID token replaced the user: the
	 * rules again on the new claims.  Refused: the refreshed session
	 * is still written below (a rotated refresh token must not be
	 * lost), then the 403.
	 */
	denied = p->tok.session_changed &&
	    !ag_protect_rules_hold(app, o, ag_session_user(&p->s));

	/* 3. One write: the refreshed tokens, else a rolling touch. */
	now = ag_now();
	new_exp = now + ag_session_max_age(&app->conf, p->s.created_at, now);
	if (p->tok.session_changed) {
		if ((r = ag_session_write(app, &req->cookies, &p->s, cw)) ==
		    AG_OK)
			p->wrote = o->set_cookie;
		else
			ag_err("%s: the refreshed session was not saved: %s",
			    o->who, ag_strerror(r));
	} else if (o->set_cookie &&
	    ag_session_should_roll(&app->conf, p->s.exp, new_exp) &&
	    ag_session_roll(app, &req->cookies, &p->s, w) == AG_OK)
		p->wrote = 1;

	if (denied) {
		if ((r = check_rules(app, req, o, ag_session_user(&p->s),
		    w)) == AG_OK) {
			/* Cannot be: ag_protect_rules_hold said no. */
			(void)ag_resp_text(w, 500, "Internal error.");
			r = AG_ERR_DENIED;
		}
		goto out;
	}

	/* 4. What the program sees. */
	p->es.user = ag_session_user(&p->s);
	p->es.remote_user_claim = app->conf.remote_user_claim;
	p->es.session_expires = p->s.exp;
	r = AG_OK;
out:
	ag_resp_free(&scratch);
	return r;
}

void
ag_protect_free(struct ag_protect *p)
{
	if (p == NULL)
		return;
	ag_token_clear(&p->tok);
	ag_session_free(&p->s);
	memset(p, 0, sizeof(*p));
}
