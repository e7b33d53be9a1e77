/*
 * mfa.h -- MFA step-up (reference section 10): the encrypted mfa_token
 * handed to the browser, and Auth0's MFA API behind it.
 *
 * When a refresh is answered mfa_required, the browser gets the
 * provider's raw mfa_token sealed (ag_seal, the cookie key) together
 * with what the step-up is for and whose it is:
 *   {mfaToken, audience?, scope?, mfaRequirements?, createdAt (ms),
 *    sid?, sub}  + exp = now + mfa.token_ttl.
 * The first five members are the SDK's; sid and sub bind the token to
 * the session it was minted for, so that a leaked encrypted mfa_token
 * is of no use in another session (ag_mfa_open refuses it).  The raw
 * token never reaches the browser.
 *
 * The provider calls (Auth0 Authentication API, "Multi-factor
 * Authentication"): GET {issuer}mfa/authenticators and POST
 * {issuer}mfa/associate with "Authorization: Bearer <raw mfa_token>",
 * POST {issuer}mfa/challenge with client authentication
 * (ag_oidc_client_post), and the token endpoint grants
 * http://auth0.com/oauth/grant-type/mfa-{otp,oob,recovery-code}
 * (ag_oidc_token).  Answers are bounded by AG_MAX_IDP_RESPONSE.
 */
#ifndef AG_MFA_H
#define AG_MFA_H

#include <stdint.h>

#include "app.h"
#include "buf.h"
#include "json.h"
#include "oidc.h"

#define AG_MFA_GRANT_OTP	"http://auth0.com/oauth/grant-type/mfa-otp"
#define AG_MFA_GRANT_OOB	"http://auth0.com/oauth/grant-type/mfa-oob"
#define AG_MFA_GRANT_RECOVERY	"http://auth0.com/oauth/grant-type/mfa-recovery-code"

/* What an encrypted mfa_token holds (strings owned; raw is a secret). */
struct ag_mfa_ctx {
	char	*mfa_token;	/* the provider's raw mfa_token */
	char	*audience;	/* of the refresh that failed, or NULL */
	char	*scope;		/* its effective scope, or NULL */
	ag_json	*requirements;	/* mfa_requirements, or NULL */
	char	*sid;		/* the session's internal.sid, or NULL */
	char	*sub;		/* the session's user.sub */
	int64_t	 created_at;	/* ms */
};
/* Wipe and free the members (NULL safe). */
void	 ag_mfa_ctx_clear(struct ag_mfa_ctx *);

/*
 * The 403 body of an mfa_required answer appended to out:
 * {"error":"mfa_required","error_description","mfa_token",
 * "mfa_requirements"?} where error_description, the raw mfa_token and
 * mfa_requirements come from the provider's error body err (borrowed)
 * and mfa_token is sealed as above with exp = now + ttl -- "" when the
 * provider sent none (the user must log in again).  audience, scope
 * and sid may be NULL; sub is required when a token is sealed
 * (AG_ERR_PARSE otherwise).
 */
int	 ag_mfa_required_body(struct ag_app *, ag_json *err,
	    const char *audience, const char *scope, const char *sid,
	    const char *sub, int64_t now, int64_t ttl, struct ag_buf *out);

/*
 * Open an encrypted mfa_token for the session (sid may be NULL, sub
 * required).  AG_OK with out filled (the caller clears it);
 * AG_ERR_EXPIRED past its exp (15 s leeway); AG_ERR_DENIED when it was
 * minted for another session (sub differs, or both have a sid and they
 * differ); anything else (AG_ERR_CRYPTO, AG_ERR_PARSE, AG_ERR_LIMIT):
 * not ours or tampered.  On failure out is zeroed.
 */
int	 ag_mfa_open(struct ag_app *, const char *sealed, const char *sid,
	    const char *sub, int64_t now, struct ag_mfa_ctx *out);

/*
 * 1 when type (case-insensitive) is allowed by the requirements'
 * challenge list ({"challenge":[{"type":"otp"},...]}); every type is
 * allowed when the list is absent or empty.
 */
int	 ag_mfa_type_allowed(ag_json *requirements, const char *type);

/*
 * The type an Auth0 authenticator a is filtered on: its "type" (the
 * member the SDK filters on) or, when absent, its "authenticator_type";
 * NULL when a is not an object with either as a non-empty string.
 * Points into a.
 */
const char	*ag_mfa_authenticator_type(const ag_json *a);

/*
 * Filter an Auth0 authenticator list: a new array (owned) of copies of
 * the objects of list whose ag_mfa_authenticator_type() is allowed
 * (ag_mfa_type_allowed); entries without one are skipped (one warning
 * per call), as the SDK skips them.  AG_ERR_PARSE when list is not an
 * array; AG_ERR_LIMIT past AG_MAX_MFA_AUTHENTICATORS entries.
 */
int	 ag_mfa_filter_authenticators(ag_json *list, ag_json *requirements,
	    ag_json **out);

/*
 * The provider calls.  Each returns AG_OK with *out a JSON value owned
 * by the caller; AG_ERR_PROVIDER with err filled when the provider
 * answered an error (err->status, err->error...); AG_ERR_HTTP,
 * AG_ERR_PARSE (a success answer of the wrong shape), AG_ERR_CONFIG or
 * AG_ERR_NOMEM with why.  err is zeroed first.
 */

/*
 * Read the answer resp of MFA API step (for messages): a 2xx with a
 * JSON body of type want gives AG_OK with *out (owned by the caller);
 * a 2xx of another shape AG_ERR_PARSE with why; any other status
 * AG_ERR_PROVIDER with err filled (ag_oidc_error).  *out is NULL on
 * failure.
 */
int	 ag_mfa_read_answer(const struct ag_http_resp *resp, const char *step,
	    enum ag_json_type want, ag_json **out, struct ag_oauth_error *err,
	    char *why);
/*
 * What ag_mfa_challenge hands on of the provider's challenge answer doc
 * (borrowed): a new object (owned) of its string members
 * challenge_type, oob_code and binding_method.  AG_ERR_PARSE with why
 * when doc has no string challenge_type; AG_ERR_NOMEM.
 */
int	 ag_mfa_challenge_pick(ag_json *doc, ag_json **out, char *why);

/* GET {issuer}mfa/authenticators, filtered by the requirements. */
int	 ag_mfa_authenticators(struct ag_app *, const struct ag_mfa_ctx *,
	    ag_json **out, struct ag_oauth_error *err, char *why);
/*
 * POST {issuer}mfa/challenge {mfa_token, challenge_type,
 * authenticator_id?} + client authentication; *out =
 * {challenge_type, oob_code?, binding_method?} (other members dropped).
 */
int	 ag_mfa_challenge(struct ag_app *, const struct ag_mfa_ctx *,
	    const char *challenge_type, const char *authenticator_id,
	    ag_json **out, struct ag_oauth_error *err, char *why);
/*
 * POST {issuer}mfa/associate with request (an object the caller has
 * validated: authenticator_types, oob_channels?, phone_number?,
 * email?) as JSON; *out = the provider's enrollment object.
 */
int	 ag_mfa_associate(struct ag_app *, const struct ag_mfa_ctx *,
	    ag_json *request, ag_json **out, struct ag_oauth_error *err,
	    char *why);

/* The credential of a verify: exactly one kind set. */
struct ag_mfa_cred {
	const char	*otp;
	const char	*oob_code;
	const char	*binding_code;	/* with oob_code, optional */
	const char	*recovery_code;
};
/*
 * The token endpoint grant for cred (mfa-otp, mfa-oob or
 * mfa-recovery-code) with mfa_token and the context's audience (named
 * per audience.param) and scope; tokens as ag_oidc_token.  An error
 * answer (mfa_required when another factor is needed) gives
 * AG_ERR_PROVIDER with err; a cred with no or several kinds
 * AG_ERR_PARSE.
 */
int	 ag_mfa_verify(struct ag_app *, const struct ag_mfa_ctx *,
	    const struct ag_mfa_cred *, struct ag_tokens *,
	    struct ag_oauth_error *err, char *why);

#endif
