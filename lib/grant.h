/*
 * grant.h -- the token grants a script asks for through the CLI, not a
 * browser: Client-Initiated Backchannel Authentication (OpenID CIBA
 * Core 1.0, poll mode) and OAuth 2.0 Token Exchange (RFC 8693), as the
 * SDK's getTokenByBackchannelAuth and customTokenExchange do them
 * (reference section 11.3, 11.4).
 *
 * Every call goes through lib/oidc.c: the backchannel request through
 * ag_oidc_client_post (client authentication), each poll and the
 * exchange through ag_oidc_token.  Nothing is stored in a session.
 *
 * Failures return an enum ag_err, write a one-line reason into why
 * (AG_WHY_LEN bytes) and fill the struct ag_grant_fail the caller
 * passes: code, one of the SDK's error codes ("missing_subject_token",
 * "invalid_subject_token_type", "exchange_failed",
 * "backchannel_authentication_error"...), and for an error the provider
 * answered its OAuth error as cause ("access_denied", "expired_token",
 * "invalid_grant"...) with its description.  Never a token.
 */
#ifndef AG_GRANT_H
#define AG_GRANT_H

#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "oidc.h"

#define AG_GRANT_CIBA		"urn:openid:params:grant-type:ciba"
#define AG_GRANT_TOKEN_EXCHANGE	"urn:ietf:params:oauth:grant-type:token-exchange"

/* Why a grant failed: a code for scripts and the provider's words. */
struct ag_grant_fail {
	char	 code[64];		/* the SDK's: "missing_subject_token",
					   "backchannel_authentication_error"... */
	char	 cause[64];		/* the provider's OAuth error
					   ("access_denied"...), or "" */
	char	 description[256];	/* sanitised; may be "" */
	long	 status;		/* the provider's HTTP status, or 0 */
};

/* ------------------------------------------------------------------ */
/* CIBA                                                               */

/* One backchannel authentication request (strings borrowed). */
struct ag_ciba_req {
	const char	*login_hint_sub;	/* required: the user's sub */
	const char	*binding_message;	/* required, shown on the device */
	const char	*scope;		/* NULL: conf scope */
	const char	*audience;	/* NULL: conf audience (may be NULL) */
	int64_t		 requested_expiry; /* seconds; 0: not sent */
};

/*
 * Check a request's own fields (pure): the sub 1..AG_MAX_LOGIN_HINT_SUB
 * bytes, the binding message 1..AG_MAX_BINDING_MESSAGE bytes of
 * printable characters (UTF-8 allowed, no control bytes), requested
 * expiry 0 or 1..AG_CIBA_MAX_EXPIRY.  AG_OK, or AG_ERR_PARSE with
 * fail->code "invalid_request" and why.
 */
int	 ag_ciba_check(const struct ag_ciba_req *, struct ag_grant_fail *,
	    char *why);

/*
 * The form of the backchannel authentication request (without client
 * authentication) into out: scope, the audience under conf
 * audience.param, binding_message, login_hint as Auth0 sends it --
 * {"format":"iss_sub","iss":ISSUER,"sub":SUB} -- and requested_expiry.
 */
int	 ag_ciba_form(const struct ag_conf *, const char *issuer,
	    const struct ag_ciba_req *, struct ag_buf *out);

/* What the backchannel authentication endpoint answered (owned). */
struct ag_ciba_start {
	char	*auth_req_id;
	int64_t	 expires_in;	/* capped at AG_CIBA_MAX_EXPIRY */
	int64_t	 interval;	/* AG_CIBA_DEFAULT_INTERVAL when absent;
				   capped at AG_CIBA_MAX_INTERVAL */
};
void	 ag_ciba_start_clear(struct ag_ciba_start *);

/*
 * Parse the endpoint's answer resp (pure): status 200 and a JSON object
 * with auth_req_id (1..AG_MAX_AUTH_REQ_ID printable ASCII bytes),
 * expires_in (a positive integer) and an optional positive interval.
 * Any other status: AG_ERR_PROVIDER, fail->cause the OAuth error of the
 * body ("unknown_error" when there is none).  AG_ERR_PARSE for a
 * malformed 200.  On failure out is left cleared.
 */
struct ag_http_resp;
int	 ag_ciba_start_parse(const struct ag_http_resp *,
	    struct ag_ciba_start *out, struct ag_grant_fail *, char *why);

/*
 * The poll loop's state.  Before each poll the caller waits interval
 * seconds; a poll's outcome moves the state on with ag_ciba_next.
 */
struct ag_ciba_poll {
	int64_t		 deadline;	/* absolute: start + expires_in */
	int64_t		 interval;	/* seconds before the next poll */
	unsigned	 polls;		/* polls made so far */
};

enum ag_ciba_step {
	AG_CIBA_DONE,		/* tokens arrived */
	AG_CIBA_AGAIN,		/* wait interval seconds and poll again */
	AG_CIBA_FAIL		/* stop: fail says why */
};

/* Start the state for an answer received at now. */
void	 ag_ciba_poll_init(struct ag_ciba_poll *, const struct ag_ciba_start *,
	    int64_t now);

/*
 * The step after one poll whose ag_oidc_token result was r (err its
 * OAuth error when r is AG_ERR_PROVIDER; why its reason), at time now
 * (pure): AG_OK -> DONE; authorization_pending -> AGAIN; slow_down ->
 * AGAIN with interval + AG_CIBA_SLOW_DOWN; HTTP 503 (busy provider) ->
 * AGAIN; any other error (access_denied, expired_token,
 * invalid_grant...) or a network failure -> FAIL.  AGAIN turns into
 * FAIL with cause "expired_token" when the next poll would come after
 * the deadline, or after AG_CIBA_MAX_POLLS polls.  For FAIL, fail is
 * filled (code "backchannel_authentication_error") and why rewritten.
 */
enum ag_ciba_step ag_ciba_next(struct ag_ciba_poll *, int r,
	    const struct ag_oauth_error *err, int64_t now,
	    struct ag_grant_fail *fail, char *why);

/*
 * What the loop calls, replaceable by unit tests: token (one poll with
 * the form; ag_oidc_token's contract) and sleep (wait secs seconds).
 * A NULL member means the real one (ag_oidc_token on arg, ag_sleep_ms).
 */
struct ag_ciba_ops {
	int	(*token)(void *arg, const char *form, struct ag_tokens *,
		    struct ag_oauth_error *, char *why);
	void	(*sleep)(void *arg, int64_t secs);
	void	 *arg;
};

/*
 * Poll the token endpoint (grant urn:openid:params:grant-type:ciba with
 * start's auth_req_id) until tokens arrive, waiting interval seconds
 * before each poll and following ag_ciba_next; the time is ag_now().
 * AG_OK with tokens filled (owned by the caller); AG_ERR_PROVIDER,
 * AG_ERR_EXPIRED (the deadline), AG_ERR_HTTP... with fail and why.
 */
int	 ag_ciba_poll_run(const struct ag_ciba_ops *,
	    const struct ag_ciba_start *, struct ag_tokens *,
	    struct ag_grant_fail *, char *why);

/*
 * The whole flow: discovery (no backchannel_authentication_endpoint:
 * AG_ERR_NOTFOUND, "backchannel_authentication_not_supported_error"),
 * the request, the poll loop, then the ID token validated when one
 * came back (*claims owned by the caller; NULL without one).
 * ops may be NULL (the real token endpoint and sleep).
 */
int	 ag_ciba_run(struct ag_oidc *, const struct ag_conf *,
	    const struct ag_ciba_req *, const struct ag_ciba_ops *,
	    struct ag_tokens *, ag_json **claims, struct ag_grant_fail *,
	    char *why);

/* ------------------------------------------------------------------ */
/* Token exchange (RFC 8693)                                          */

struct ag_exchange_req {
	const char	*subject_token;		/* required */
	const char	*subject_token_type;	/* required URI */
	const char	*audience;		/* optional */
	const char	*scope;			/* merged with the SDK default */
	const char	*actor_token;		/* optional */
	const char	*actor_token_type;	/* required with actor_token */
	int		 allow_reserved;	/* 1: IETF/Auth0/Okta types too */
};

/*
 * The SDK's validations (pure), in its order: a blank subject token
 * "missing_subject_token"; a subject type shorter than
 * AG_TOKEN_TYPE_MIN or longer than AG_TOKEN_TYPE_MAX, not a URI (an
 * absolute URL or urn:NID:NSS) -- or, unless allow_reserved, in a
 * namespace reserved for the providers' own token types
 * (urn:ietf:params:oauth:, urn:auth0, urn:okta, http(s)://auth0.com,
 * http(s)://okta.com) -- "invalid_subject_token_type"; an actor token
 * without type "missing_actor_token_type"; an actor type that is no
 * URI "invalid_actor_token_type".  Tokens longer than AG_MAX_JWT or
 * with bytes outside printable ASCII are refused too
 * ("invalid_request").  AG_OK, or AG_ERR_PARSE with fail and why.
 */
int	 ag_exchange_check(const struct ag_exchange_req *,
	    struct ag_grant_fail *, char *why);

/*
 * The token request's form (without client authentication) into out:
 * grant_type, subject_token, subject_token_type, scope (the union of
 * "openid profile email offline_access" and req's scope), audience,
 * actor_token and actor_token_type.
 */
int	 ag_exchange_form(const struct ag_exchange_req *, struct ag_buf *out);

/*
 * Check, then exchange at the token endpoint.  AG_OK with tokens
 * filled (owned by the caller) and, when an ID token came back, it
 * validated into *claims (owned; NULL without one).  Failure:
 * AG_ERR_PARSE (validation), AG_ERR_PROVIDER (the provider's OAuth
 * error in fail->code), others with fail->code "exchange_failed".
 */
int	 ag_exchange_run(struct ag_oidc *, const struct ag_exchange_req *,
	    struct ag_tokens *, ag_json **claims, struct ag_grant_fail *,
	    char *why);

/*
 * The token set as the CLI prints it, a JSON object with the SDK's
 * names: accessToken, tokenType, expiresIn and expiresAt (when the
 * provider said expires_in, now + it), and each of idToken,
 * refreshToken, scope, issuedTokenType present in the answer; claims,
 * when non-NULL, as idTokenClaims.  Appended to out.
 */
int	 ag_grant_json(const struct ag_tokens *, const ag_json *claims,
	    int64_t now, struct ag_buf *out);

#endif
