/*
 * connection.h -- Token Vault: access tokens for a connection (Google,
 * GitHub, ...) obtained from Auth0 with the session's refresh token
 * through the federated-connection token-exchange grant, cached in the
 * session's connectionTokenSets as @auth0/nextjs-auth0 v4 does
 * (reference sections 2.8 and 11.1), and their home in the browser:
 * one sealed __FC_<n> cookie per entry in the cookie store.
 *
 * An entry: {"accessToken", "scope"?, "expiresAt", "connection",
 * "loginHint"?}.  With session.store = sqlite the entries stay in the
 * row's sealed SessionData like everything else.
 */
#ifndef AG_CONNECTION_H
#define AG_CONNECTION_H

#include <stdint.h>

#include "app.h"
#include "cookie.h"
#include "json.h"
#include "oidc.h"
#include "req.h"
#include "session.h"
#include "token.h"

#define AG_FCAT_GRANT_TYPE	"urn:auth0:params:oauth:grant-type:" \
	"token-exchange:federated-connection-access-token"
#define AG_FCAT_REQUESTED_TYPE	"http://auth0.com/oauth/token-type/" \
	"federated-connection-access-token"
#define AG_SUBJECT_REFRESH_TOKEN "urn:ietf:params:oauth:token-type:refresh_token"
#define AG_SUBJECT_ACCESS_TOKEN	"urn:ietf:params:oauth:token-type:access_token"
#define AG_FC_PREFIX		"__FC_"

/* The SDK's AccessTokenForConnectionError codes (and ours). */
enum ag_conn_err {
	AG_CONN_OK,
	AG_CONN_MISSING_SESSION,	/* "missing_session" */
	AG_CONN_MISSING_REFRESH,	/* "missing_refresh_token" */
	AG_CONN_FAILED_EXCHANGE,	/* "failed_to_exchange_refresh_token" */
	AG_CONN_DISCOVERY,		/* "discovery_error" */
	AG_CONN_INVALID_REQUEST,	/* "invalid_request": bad parameter */
	AG_CONN__MAX
};

/* The code and the SDK's message (static strings; unknown past the end). */
const char	*ag_conn_code(int err);
const char	*ag_conn_message(int err);

/* What the caller asks for. */
struct ag_conn_req {
	const char	*connection;	/* required */
	const char	*login_hint;	/* NULL: none */
	int		 subject_access_token; /* 1: subject = the access token */
};

/* Details of a failure. */
struct ag_conn_fail {
	int	 err;		/* enum ag_conn_err */
	char	 error[64];	/* the provider's OAuth error code, or "" */
	char	 why[AG_WHY_LEN]; /* for the log: no secret */
};

/*
 * 1 when s is an acceptable connection name: 1..AG_MAX_CONNECTION_NAME
 * bytes of [A-Za-z0-9._-].
 */
int	 ag_connection_name_ok(const char *s);
/*
 * 1 when s is an acceptable login_hint: 1..AG_MAX_LOGIN_HINT bytes, no
 * control byte.
 */
int	 ag_login_hint_ok(const char *s);

/*
 * The access token for connection r->connection (reference 11.1): the
 * cached connectionTokenSets entry of that connection and login hint
 * (without a hint only entries without one match) while expiresAt >
 * now; else the federated-connection grant with the refresh token (or
 * the access token) of s through ag_oidc_token, its result stored in
 * s->data (the matched entry replaced, else appended; past
 * AG_MAX_CONNECTION_SETS entries the one expiring first makes room) and
 * tok->session_changed set.  A failed grant drops the matched entry
 * (tok->session_changed is then set too, tok->access_token NULL: the
 * caller writes the session back before answering the error).  AG_OK
 * (tok filled, owned by the caller: ag_token_clear) or an enum
 * ag_conn_err with f filled.
 */
int	 ag_connection_token(struct ag_app *, struct ag_session *s,
	    const struct ag_conn_req *r, struct ag_token *tok,
	    struct ag_conn_fail *f);

/*
 * Remove every connectionTokenSets entry of connection from data (the
 * member itself when it ends up empty).  *changed = 1 when any went.
 */
int	 ag_connection_prune(ag_json *data, const char *connection,
	    int *changed);

/*
 * Cookie store, called by lib/session.c.
 * ag_fc_read: the __FC_<n> cookies of jar (n < AG_MAX_CONNECTION_SETS,
 * in index order, each unsealed and checked; the undecryptable,
 * expired or malformed ones skipped, and those not bound to data's
 * session: their sub must be data's user.sub and their sid data's
 * internal.sid -- entries without sub, as the SDK writes them, are
 * skipped too) become data's connectionTokenSets (replacing any in
 * data) when there is at least one.
 * ag_fc_write: each entry of sets (may be NULL) as __FC_<i> with the
 * session cookie's attributes and max_age, bound to data's session
 * (sub and sid added to the sealed copy); an entry whose sealed value
 * exceeds AG_FC_COOKIE_MAX is not written (logged); every __FC_<n> of
 * jar with n >= the count written is deleted.
 * ag_fc_clear: delete every __FC_<n> of jar.
 */
int	 ag_fc_read(const struct ag_app *, const struct ag_cookies *jar,
	    ag_json *data, int64_t now);
int	 ag_fc_write(const struct ag_app *, const struct ag_cookies *jar,
	    const ag_json *data, ag_json *sets, int64_t max_age, int64_t now,
	    struct ag_resp *);
int	 ag_fc_clear(const struct ag_app *, const struct ag_cookies *jar,
	    struct ag_resp *);

#endif
