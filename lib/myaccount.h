/*
 * myaccount.h -- Auth0's My Account API for connected accounts
 * (reference section 11.2): the API's access token (audience
 * {issuer}me/, obtained with the session's refresh token through
 * ag_token_get), and calls below {issuer}me/v1/connected-accounts/.
 * Used by GET /auth/connect, the connect_code branch of
 * /auth/callback (fcgi/h-connect.c) and `authgate accounts`.
 */
#ifndef AG_MYACCOUNT_H
#define AG_MYACCOUNT_H

#include "app.h"
#include "buf.h"
#include "json.h"
#include "oidc.h"
#include "session.h"
#include "token.h"

#define AG_MYACCOUNT_CREATE	"create:me:connected_accounts"
#define AG_MYACCOUNT_READ	"read:me:connected_accounts"
#define AG_MYACCOUNT_DELETE	"delete:me:connected_accounts"

/*
 * The My Account API token with scope for session s: ag_token_get with
 * audience {issuer}me/ (the issuer from discovery, with a '/' added
 * when it lacks one).  As ag_token_get: AG_TOKEN_OK with tok filled
 * (tok->session_changed: write s back), else an enum ag_token_err with
 * f filled (AG_TOKEN_DISCOVERY when the issuer is unknown).
 */
int	 ag_myaccount_token(struct ag_app *, struct ag_session *s,
	    const char *scope, struct ag_token *tok, struct ag_token_fail *f);

/* An answer of the API. */
struct ag_myaccount_resp {
	long	 status;	/* HTTP status */
	ag_json	*body;		/* the JSON body, owned, or NULL */
};
void	 ag_myaccount_resp_clear(struct ag_myaccount_resp *);

/*
 * method ("GET", "POST", "DELETE") {issuer}me/v1/connected-accounts/
 * path with tok's access token (Bearer; a DPoP-bound token as DPoP with
 * a proof and one nonce retry, see ag_dpop_http), body (JSON, may be
 * NULL) sent as application/json.  AG_OK when an HTTP answer arrived,
 * whatever its status (out filled; a body that is not JSON leaves
 * out->body NULL); AG_ERR_HTTP / AG_ERR_LIMIT on transport trouble;
 * AG_ERR_CONFIG for a DPoP-bound token with dpop off; why says
 * which.  path must be URL-safe (the caller validates ids).
 */
int	 ag_myaccount_call(struct ag_app *, const struct ag_token *tok,
	    const char *method, const char *path, ag_json *body,
	    struct ag_myaccount_resp *out, char *why);

/* 1 when s is an acceptable account id: [A-Za-z0-9_.-], 1..128. */
int	 ag_myaccount_id_ok(const char *s);

#endif
