/*
 * protect.h -- the gate in front of protected content (SPEC section 5),
 * one implementation for authgate-wrap and the FastCGI AUTHORIZER:
 * read the session; none -> the unauthenticated answer (307 to the
 * login for navigations, 401 JSON otherwise); else the access token
 * (wrap.pass_access_token), one session write (the refreshed tokens,
 * else a rolling touch) and what the program is to see.
 */
#ifndef AG_PROTECT_H
#define AG_PROTECT_H

#include "ag_limits.h"
#include "app.h"
#include "cgienv.h"
#include "req.h"
#include "session.h"
#include "token.h"

/* How the caller's answer reaches the browser. */
struct ag_protect_opts {
	/*
	 * AUTHGATE_MODE as the server set it for this path: "api" answers
	 * 401 JSON even to a navigation.  NULL: none.
	 */
	const char	*mode;
	/*
	 * 1: Set-Cookie lines of the answer reach the browser (the
	 * wrapper's CGI header block).  0: they would be dropped (lighttpd
	 * drops every header of an authorizer's 200 but Variable-*): then
	 * the session is never rolled, and in cookie mode an expired access
	 * token is not refreshed (a rotated refresh token that cannot be
	 * stored would be lost) -- the token variables are left out.  With
	 * session.store = sqlite a refresh is stored in the database, which
	 * needs no cookie.
	 */
	int		 set_cookie;
	/*
	 * AUTHGATE_RULE as the server set it for this path: the name of
	 * an authorize.rule.NAME that must hold besides authorize.require.
	 * NULL: none.  A name the configuration lacks (or "") answers 500.
	 */
	const char	*rule;
	/*
	 * REDIRECT_AUTHGATE_RULE, the wrapper under Apache's Action: the
	 * rule Apache set (SetEnv in the program's <Directory>) on the
	 * request it then redirected to the wrapper, which renames every
	 * variable so; [i] is the level with i + 1 REDIRECT_ prefixes
	 * (one per internal redirect).  NULL: none at that level.  Each
	 * is checked as rule is, besides it: all must hold.
	 */
	const char	*redirect_rule[AG_MAX_REDIRECT_RULES];
	const char	*who;		/* log prefix: "wrap", "authorize" */
	const char	*what;		/* the protected thing, for the log */
};

/* The outcome of ag_protect() for an authenticated request. */
struct ag_protect {
	struct ag_session	 s;	/* the session read (owned) */
	struct ag_token		 tok;	/* the access token (owned) */
	struct ag_env_session	 es;	/* borrows from s and tok */
	int			 wrote;	/* w holds the session's Set-Cookie */
};

/*
 * Decide one request.  AG_OK: authenticated; p->es says what the
 * program sees (session_expires after any write) and, when p->wrote,
 * w holds the session's Set-Cookie lines and no-cache headers (w's
 * status is left 0).  AG_ERR_DENIED: no usable session, or a session
 * the authorization rules refuse -- w holds the complete answer (307 /
 * 401 JSON; 403 HTML or JSON when authorize.require or a rule o names
 * is not met, also by the claims a token refresh brought (the refreshed
 * session is written first: then p->wrote and w holds its Set-Cookie
 * lines too); 500 when o->rule names no configured rule; 503 when
 * the session store is unavailable); the content must not be served.
 * AG_ERR_NOMEM.
 * p is always initialised: release it with ag_protect_free().
 */
int	 ag_protect(struct ag_app *, struct ag_req *,
	    const struct ag_protect_opts *, struct ag_resp *w,
	    struct ag_protect *p);
/*
 * 1 when the claims in user meet authorize.require and the rules o
 * names (o->rule, o->redirect_rule[]), all of which the configuration
 * has; 0 otherwise.  Silent: ag_protect() answers and logs a refusal.
 * The authorizer's cache (lib/scache.h) asks this on every hit.
 */
int	 ag_protect_rules_hold(const struct ag_app *,
	    const struct ag_protect_opts *, const ag_json *user);
/* Release p (tokens wiped).  NULL safe. */
void	 ag_protect_free(struct ag_protect *);

/*
 * The unauthenticated answer into w: with wrap.unauthenticated =
 * redirect, no mode "api" and a navigation, 307 to app origin +
 * routes.prefix + "/login?returnTo=" + the percent-encoded REQUEST_URI;
 * else 401 JSON {"error":"not_authenticated","description":...}.
 * Always with Cache-Control: no-store.
 */
void	 ag_protect_unauthenticated(const struct ag_app *,
	    const struct ag_req *, const char *mode, struct ag_resp *w);

#endif
