/*
 * handlers.h -- the routes of authgate-fcgi and the helpers they share.
 *
 * A handler fills the response from the request; it never writes to a
 * socket or stdout, so the tests call handlers directly.  Every handler
 * logs its failures itself ("route: step: reason") and answers with the
 * SDK's status and message.
 */
#ifndef AG_HANDLERS_H
#define AG_HANDLERS_H

#include "app.h"
#include "json.h"
#include "req.h"

/* The answer when the session database cannot be used right now. */
#define MSG_STORE_DOWN	"The session store is unavailable; try again shortly."

typedef int (*ag_handler)(struct ag_app *, struct ag_req *, struct ag_resp *);

int	 ag_h_login(struct ag_app *, struct ag_req *, struct ag_resp *);
int	 ag_h_callback(struct ag_app *, struct ag_req *, struct ag_resp *);
int	 ag_h_logout(struct ag_app *, struct ag_req *, struct ag_resp *);
int	 ag_h_profile(struct ag_app *, struct ag_req *, struct ag_resp *);
int	 ag_h_health(struct ag_app *, struct ag_req *, struct ag_resp *);
int	 ag_h_access_token(struct ag_app *, struct ag_req *, struct ag_resp *);
/* POST /auth/backchannel-logout (fcgi/h-backchannel.c): 204, 400, 413, 503. */
int	 ag_h_backchannel(struct ag_app *, struct ag_req *, struct ag_resp *);
/* GET /auth/connect (fcgi/h-connect.c): start linking an account. */
int	 ag_h_connect(struct ag_app *, struct ag_req *, struct ag_resp *);
/*
 * /auth/callback with a connect_code transaction txn (h-connect.c):
 * complete the account link.  AG_OK with location the absolute URL to
 * send the browser to (the session written to w when it changed); else
 * an error with *code and *msg (static) for the callback's failure
 * answer.
 */
struct ag_buf;
int	 ag_connect_complete(struct ag_app *, struct ag_req *, ag_json *txn,
	    struct ag_resp *, struct ag_buf *location, const char **code,
	    const char **msg);
/*
 * The MFA step-up routes (fcgi/h-mfa.c, reference section 10.3):
 * GET /mfa/authenticators, POST /mfa/challenge, /mfa/verify,
 * /mfa/associate.  JSON answers, Cache-Control: no-store.
 */
int	 ag_h_mfa_authenticators(struct ag_app *, struct ag_req *,
	    struct ag_resp *);
int	 ag_h_mfa_challenge(struct ag_app *, struct ag_req *, struct ag_resp *);
int	 ag_h_mfa_verify(struct ag_app *, struct ag_req *, struct ag_resp *);
int	 ag_h_mfa_associate(struct ag_app *, struct ag_req *, struct ag_resp *);
/*
 * The AUTHORIZER role (any path): 200 with the Variable-* lines of
 * SPEC section 5 for a valid session; else the answer the browser gets
 * (307 to the login, 401 JSON, 503).  Never leaves w without a status.
 */
int	 ag_h_authorize(struct ag_app *, struct ag_req *, struct ag_resp *);

/*
 * Dispatch a request: the AUTHORIZER role to ag_h_authorize whatever
 * the path; a RESPONDER request by method and path (below conf
 * routes.prefix, one trailing slash ignored).  404 for unknown routes, 405 for a known
 * path with another method.  Always leaves a complete response.
 */
void	 ag_route(struct ag_app *, struct ag_req *, struct ag_resp *);

/* The app's redirect_uri: app_base_url + routes.prefix + "/callback". */
int	 ag_callback_url(const struct ag_app *, struct ag_buf *);
/* Absolute URL of an app path (a returnTo): origin + path. */
int	 ag_app_url(const struct ag_app *, const char *path, struct ag_buf *);

#endif
