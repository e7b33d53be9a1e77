/*
 * token.h -- access tokens from the session: selection, refresh with
 * rotation, tokens per audience (MRRT), exactly as the Next.js SDK's
 * getAccessToken (reference section 8.2-8.4), plus what the SDK lacks:
 * concurrent refreshes of one refresh token are coalesced across every
 * process on the machine (FastCGI processes, wrappers, the CLI) through
 * the session database, so a rotating refresh token is spent once.
 *
 * Used by GET /auth/access-token, by authgate-wrap and the authorizer
 * (wrap.pass_access_token) and by `authgate token` / `authgate fetch`.
 */
#ifndef AG_TOKEN_H
#define AG_TOKEN_H

#include <stdint.h>

#include "app.h"
#include "buf.h"
#include "json.h"
#include "session.h"

/* The SDK's AccessTokenError codes (and ours), with the SDK's messages. */
enum ag_token_err {
	AG_TOKEN_OK,
	AG_TOKEN_MISSING_SESSION,	/* "missing_session" */
	AG_TOKEN_MISSING_REFRESH,	/* "missing_refresh_token" */
	AG_TOKEN_FAILED_REFRESH,	/* "failed_to_refresh_token" */
	AG_TOKEN_SESSION_EXPIRED,	/* "session_expired" */
	AG_TOKEN_MFA_REQUIRED,		/* "mfa_required" (see mfa member) */
	AG_TOKEN_DISCOVERY,		/* "discovery_error" */
	AG_TOKEN_STORE,			/* "store_unavailable": database busy */
	AG_TOKEN__MAX
};

/*
 * The code string and the SDK's message for an error (static strings;
 * "unknown_error" past the end).  missing_refresh_token has two
 * messages: ag_token_fail.message says which one applies.
 */
const char	*ag_token_code(int err);
const char	*ag_token_message(int err);

/* What the caller asks for (all members optional). */
struct ag_token_req {
	const char	*audience;	/* NULL: the default audience */
	const char	*scope;		/* NULL: none beyond the configured */
	int		 no_merge_scopes; /* 1: mergeScopes=false */
	int		 force_refresh;	/* refresh=true */
};

/* The token handed out (strings owned). */
struct ag_token {
	char	*access_token;
	char	*token_type;	/* "bearer" / "dpop" as stored, or NULL */
	char	*scope;		/* granted scope, may be NULL */
	char	*audience;	/* may be NULL */
	int64_t	 expires_at;	/* Unix seconds */
	int	 session_changed; /* the session must be written back */
};
void	 ag_token_clear(struct ag_token *);

/* Details of a failure (owned). */
struct ag_token_fail {
	int	 err;		/* enum ag_token_err */
	const char *message;	/* the SDK's message for this case (static) */
	char	 why[256];	/* for the log: step and cause, no secret */
	ag_json	*mfa;		/* mfa_required: the provider's error body */
	char	*mfa_audience;	/* the audience and scope of the failed */
	char	*mfa_scope;	/* refresh (for the encrypted mfa_token) */
	char	*mfa_sid;	/* the session's sid and sub: the sealed */
	char	*mfa_sub;	/* mfa_token is bound to them (lib/mfa.h) */
};
void	 ag_token_fail_clear(struct ag_token_fail *);

/*
 * The access token for req from session s (reference 8.2): the default
 * token set or an accessTokens[] entry, refreshed when expired, within
 * token_refresh_buffer, of unknown expiry, or when forced.  A refresh
 * (8.3) rotates the refresh token, validates a returned ID token fully
 * (signature, iss, aud, same sub) before its claims replace the user,
 * and stores the result per 8.4 in s->data (token->session_changed set:
 * the caller writes the session with ag_session_write).  Concurrent
 * refreshes of one refresh token anywhere on the machine present it to
 * the token endpoint once, whatever audiences and scopes they ask for:
 * those asking for the same audience and scope wait (bounded) and
 * reuse its result for about 30 s; those asking for another one wait,
 * then refresh with the rotated refresh token it returned (which the
 * session then keeps), or with the same one when it did not rotate.  A
 * failed refresh is remembered as long, so failures are not retried in
 * a storm.  AG_OK, or an error with f set.
 */
int	 ag_token_get(struct ag_app *, struct ag_session *s,
	    const struct ag_token_req *, struct ag_token *, struct ag_token_fail *f);

/*
 * The 403 body of an mfa_required failure (reference 10.1), appended
 * to out: {"error":"mfa_required","error_description","mfa_token",
 * "mfa_requirements"?} where mfa_token seals (ag_seal, the cookie key)
 * {mfaToken, audience, scope, mfaRequirements, createdAt (ms)} and
 * the session's sid and sub (ag_mfa_required_body, lib/mfa.h) with
 * exp = now + conf mfa.token_ttl -- "" when the provider sent none.
 */
int	 ag_token_mfa_body(struct ag_app *, const struct ag_token_fail *,
	    int64_t now, struct ag_buf *out);

/* The pieces, exposed for the tests. */

/* 1 when scope is one of the space-separated scopes of list (NULL: none). */
int	 ag_token_scope_has(const char *list, const char *scope);
/*
 * Append to out the order-preserving, de-duplicated union of the
 * space-separated scopes a and b (either may be NULL), single spaces.
 */
int	 ag_token_scope_union(const char *a, const char *b, struct ag_buf *out);
/* 1 when every scope of a is in b (an empty or NULL a always is). */
int	 ag_token_scope_subset(const char *a, const char *b);
/* Number of distinct scopes in s (0 for NULL). */
size_t	 ag_token_scope_count(const char *s);
/*
 * The coordination key of a refresh: lower-case hex SHA-256 of
 * refresh_token NUL (audience or "") NUL (scope or "") into out.
 */
int	 ag_token_refresh_key(const char *refresh_token, const char *audience,
	    const char *scope, char out[65]);
/*
 * The lock key of a refresh token (one refresh in flight per refresh
 * token, whatever the audience): lower-case hex SHA-256 of the token
 * alone into out.  AG_ERR_PARSE for NULL.
 */
int	 ag_token_lock_key(const char *refresh_token, char out[65]);

/* A token set as obtained by a refresh (borrowed strings). */
struct ag_token_set {
	const char	*access_token;
	const char	*token_type;	/* lower-cased, or NULL */
	const char	*scope;		/* granted, or NULL */
	const char	*requested_scope; /* the effective scope, or NULL */
	const char	*audience;	/* or NULL */
	const char	*id_token;	/* NULL: none returned */
	const char	*refresh_token;	/* the one to keep (rotated or old) */
	int64_t		 expires_at;
};
/*
 * Store n in SessionData data (reference 8.4): the default audience and
 * scope update tokenSet when the access token, expiry or refresh token
 * changed; otherwise accessTokens[] gets n by replacing the entry whose
 * requestedScope covers n's, else merging into the entry with exactly
 * n's granted scope, else appending -- and tokenSet takes n's refresh
 * token and ID token.  An ID token is never dropped: absent in n, the
 * stored one stays.  *changed = 1 when data changed.
 */
int	 ag_token_store(const struct ag_conf *, ag_json *data,
	    const struct ag_token_set *n, int *changed);

#endif
