/*
 * oidc.h -- OpenID Connect relying-party protocol steps: discovery and
 * JWKS (cached per process), the authorization request (plain or PAR),
 * token endpoint calls with client authentication, ID token validation,
 * userinfo, RP-initiated logout and revocation.
 *
 * Failures return an enum ag_err and write a one-line reason into why
 * (AG_WHY_LEN bytes), naming the step and cause, e.g. "token endpoint:
 * HTTP 401 invalid_client" -- never a token, code or secret.
 */
#ifndef AG_OIDC_H
#define AG_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "json.h"

#define AG_WHY_LEN	256

struct ag_http_req;
struct ag_http_resp;
struct ag_jwks;
struct ag_key;
struct ag_dpop;

/* What discovery told us (strings owned). */
struct ag_provider {
	char		*issuer;
	char		*authorization_endpoint;
	char		*token_endpoint;
	char		*userinfo_endpoint;		/* optional */
	char		*jwks_uri;
	char		*end_session_endpoint;		/* optional */
	char		*revocation_endpoint;		/* optional */
	char		*par_endpoint;			/* optional */
	char		*backchannel_authentication_endpoint; /* optional */
	unsigned	 id_token_algs;	/* advertised & supported; RS256 if absent */
	int		 iss_parameter_supported;	/* RFC 9207 */
	int		 backchannel_logout_supported;
	int64_t		 fetched_at;
};

/*
 * Parse a discovery document (pure).  Its "issuer" must equal
 * expected_issuer exactly; authorization_endpoint, token_endpoint and
 * jwks_uri are required; every endpoint must be an absolute https URL
 * (http too when allow_http).  id_token_algs keeps only the algs jwt.h
 * supports (never none or HS*); a list with none of them is refused.
 * AG_ERR_PARSE / AG_ERR_VERIFY with why; AG_ERR_LIMIT past
 * AG_MAX_IDP_RESPONSE bytes.  On failure out is left zeroed.
 */
int	 ag_discovery_parse(const char *, size_t n, const char *expected_issuer,
	    int allow_http, struct ag_provider *out, char *why);
void	 ag_provider_clear(struct ag_provider *);

struct ag_oidc;		/* per-process state: config, caches */

int	 ag_oidc_new(const struct ag_conf *, struct ag_oidc **out);
void	 ag_oidc_free(struct ag_oidc *);
/*
 * With conf dpop on, load dpop.key now (once per process, before any
 * privilege drop): AG_OK, or the error with why saying what is wrong
 * with the key (missing, unreadable, malformed, not EC P-256 or RSA).
 * With dpop off: AG_OK, nothing loaded.  Every token endpoint call then
 * carries a fresh DPoP proof (one retry on use_dpop_nonce), the
 * authorization request (and PAR) carries dpop_jkt, and userinfo sends
 * DPoP-bound tokens with the DPoP scheme and a proof.
 */
int	 ag_oidc_dpop_init(struct ag_oidc *, char *why);
/* The DPoP state (key, nonces) or NULL when dpop is off.  Borrowed. */
struct ag_dpop	*ag_oidc_dpop(struct ag_oidc *);
/*
 * The provider's metadata, fetched from {issuer}/.well-known/
 * openid-configuration (path issuers append) and cached for
 * AG_DISCOVERY_TTL seconds; failures are not cached (when a refresh
 * fails, the previous document keeps serving and a warning is logged).
 * Borrowed, valid until the next call into this module.
 */
int	 ag_oidc_provider(struct ag_oidc *, const struct ag_provider **out,
	    char *why);

/* Parameters of one authorization request. */
struct ag_authz {
	const char	*redirect_uri;
	const char	*state;
	const char	*nonce;
	const char	*code_verifier;	/* the S256 challenge is derived here */
	const char	*scope;		/* NULL: conf scope */
	const char	*audience;	/* NULL: conf audience (may be NULL) */
	const char	*max_age;	/* NULL: none */
	const char	*dpop_jkt;	/* NULL: none */
	/* user-facing parameters to forward (already filtered) */
	const char	*const *extra_names;
	const char	*const *extra_values;
	size_t		 n_extra;
};

/*
 * The URL to send the browser to: authorization_endpoint with the
 * parameters (conf authorization.* first, then extras, then the fixed
 * client_id, redirect_uri, response_type=code, code_challenge,
 * code_challenge_method=S256, state, nonce, which nothing overrides).
 * With conf par on, the parameters are pushed (RFC 9126) and the URL
 * carries only client_id and request_uri.
 */
int	 ag_oidc_authorize_url(struct ag_oidc *, const struct ag_authz *,
	    struct ag_buf *url, char *why);

/* A successful token response (strings owned). */
struct ag_tokens {
	char	*access_token;
	char	*token_type;	/* lower-cased: "bearer" or "dpop" */
	char	*id_token;	/* may be NULL */
	char	*refresh_token;	/* may be NULL */
	char	*scope;		/* may be NULL */
	int64_t	 expires_in;	/* -1 when absent */
	ag_json	*raw;		/* the whole response object */
};
void	 ag_tokens_clear(struct ag_tokens *);

/* An OAuth error answered by the provider. */
struct ag_oauth_error {
	long	 status;		/* HTTP status */
	char	 error[64];		/* "invalid_grant"... or "" */
	char	 description[256];	/* error_description, sanitised */
	ag_json	*raw;			/* the error body when JSON (mfa_token...) */
	int	 not_sent;		/* ag_oidc_token's AG_ERR_HTTP: the
					   request never reached the provider
					   (ag_http_resp.not_sent) */
};
void	 ag_oauth_error_clear(struct ag_oauth_error *);

/*
 * POST the token endpoint with form (the grant's own fields, already
 * encoded, e.g. "grant_type=authorization_code&code=...") plus client
 * authentication per conf (client_secret_basic, client_secret_post or
 * private_key_jwt with a fresh jti).  AG_OK with tokens filled (200,
 * JSON object, access_token and token_type present and valid);
 * AG_ERR_PROVIDER with err filled for an OAuth error answer;
 * AG_ERR_HTTP for network failure, with err->not_sent set when the
 * request provably never reached the provider (so a refresh token in
 * form is not spent; a DPoP nonce retry after an answer never counts);
 * AG_ERR_PARSE for a malformed answer.
 * With dpop on, each call sends a fresh DPoP proof and answers one
 * use_dpop_nonce challenge with one more request (see ag_oidc_dpop_init).
 */
int	 ag_oidc_token(struct ag_oidc *, const char *form,
	    struct ag_tokens *, struct ag_oauth_error *, char *why);

/*
 * Read a provider's non-success answer resp (any endpoint: the token
 * endpoint, CIBA, Auth0's MFA API...; step names it for why): err filled from a JSON {error, error_description} body (the
 * description sanitised; err->raw owned by err, free with
 * ag_oauth_error_clear), else only err->status.  Always AG_ERR_PROVIDER.
 */
int	 ag_oidc_oauth_error(const struct ag_http_resp *resp, const char *step,
	    struct ag_oauth_error *err, char *why);

/*
 * Load the client assertion key now (with client_auth =
 * private_key_jwt or client_assertion_key set), so that a missing key,
 * a bad PEM or a key that does not fit client_assertion_alg is found by
 * `authgate check` and stops authgate-fcgi at start, not at the first
 * token request.  AG_OK, or AG_ERR_CONFIG / AG_ERR_NOMEM with why.
 * Not called by the wrapper (one process per request), which loads the
 * key only when it needs it.
 */
int	 ag_oidc_keys_init(struct ag_oidc *, char *why);

/*
 * Start req for a call to the provider or an API: zeroed, then method,
 * url and the configured transport (http.timeout_ms,
 * allow_insecure_requests, http.ca_file); with json non-NULL also the
 * body and Content-Type application/json.  Borrows every string.
 */
void	 ag_oidc_http_req(const struct ag_conf *, struct ag_http_req *req,
	    const char *method, const char *url, const char *json);

/*
 * POST form (already encoded) plus the configured client authentication
 * to url (an endpoint of the provider other than the token endpoint:
 * CIBA's backchannel_authentication_endpoint, Auth0's /mfa/challenge...).
 * AG_OK when a complete HTTP answer arrived, whatever its status (resp
 * filled: the caller reads status and body; resp must be zeroed, free
 * it with ag_http_resp_free); AG_ERR_HTTP / AG_ERR_CONFIG with why.
 */
int	 ag_oidc_client_post(struct ag_oidc *, const char *url,
	    const char *form, struct ag_http_resp *resp, char *why);
/*
 * POST body as JSON to url (an Auth0 API taking the client's
 * credentials in the body, as Auth0's /mfa/challenge documents it):
 * client_id always, then client_secret (client_secret_basic or
 * client_secret_post) or client_assertion_type + client_assertion
 * (private_key_jwt) are added to body for the request (the credentials
 * are removed again; client_id stays).  Results as ag_oidc_client_post.
 */
int	 ag_oidc_client_post_json(struct ag_oidc *, const char *url,
	    ag_json *body, struct ag_http_resp *resp, char *why);

/* What an ID token must match. */
struct ag_id_expect {
	const char	*nonce;		/* required and compared when non-NULL */
	int64_t		 max_age;	/* >= 0: auth_time required and checked */
	const char	*access_token;	/* non-NULL: at_hash checked if present */
	const char	*sub;		/* non-NULL: sub must equal (refresh) */
};

/*
 * Validate an ID token: signature against the provider's JWKS (alg in
 * the provider's advertised list and in conf id_token_algs, 0 meaning
 * every supported alg; an unknown
 * kid refetches the JWKS at most once per AG_JWKS_REFETCH_MIN seconds),
 * then iss (exact), aud (contains client_id; several audiences need azp
 * = client_id), azp if present, exp, iat (required, not in the future
 * beyond leeway), nbf, sub (required string), nonce, auth_time, at_hash.
 * *claims is the payload, owned by the caller.
 */
int	 ag_oidc_id_token(struct ag_oidc *, const char *id_token,
	    const struct ag_id_expect *, ag_json **claims, char *why);

/*
 * Verify a JWT signed by the provider (logout tokens): signature as
 * above, iss and aud checked; the caller checks the rest.  header may
 * be NULL; *header and *claims are owned by the caller.
 */
int	 ag_oidc_verify_jwt(struct ag_oidc *, const char *jwt,
	    ag_json **header, ag_json **claims, char *why);

/*
 * GET the userinfo endpoint with the access token; the answer must be a
 * JSON object (application/json; signed answers are refused) whose sub
 * equals sub.  *claims owned by the caller.  AG_ERR_NOTFOUND without a
 * userinfo_endpoint; token_type dpop: "Authorization: DPoP" and a proof
 * with ath (AG_ERR_CONFIG when dpop is off); AG_ERR_PROVIDER for a
 * non-200 answer.
 */
int	 ag_oidc_userinfo(struct ag_oidc *, const char *access_token,
	    const char *token_type, const char *sub, ag_json **claims,
	    char *why);

/*
 * The URL for RP-initiated logout per conf logout.strategy: "oidc"
 * (end_session_endpoint with client_id, post_logout_redirect_uri,
 * id_token_hint, logout_hint, state), "v2" (Auth0's {issuer}v2/logout
 * with returnTo and client_id), "auto" (oidc when advertised, else v2
 * for Auth0 domains, else no provider logout: the return URL itself).
 * Any argument except return_to may be NULL.
 */
int	 ag_oidc_logout_url(struct ag_oidc *, const char *return_to,
	    const char *id_token_hint, const char *sid, const char *state,
	    int federated, struct ag_buf *url, char *why);

/* RFC 7009 revocation of a refresh token; AG_ERR_NOTFOUND if unsupported. */
int	 ag_oidc_revoke(struct ag_oidc *, const char *refresh_token, char *why);

#endif
