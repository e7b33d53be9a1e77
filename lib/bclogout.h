/*
 * bclogout.h -- the claim rules of an OpenID Connect Back-Channel
 * Logout 1.0 logout token (section 2.6), once its signature, iss and
 * aud have been verified (ag_oidc_verify_jwt).  Pure: no I/O, no clock
 * but the now given, so the tests call it directly.  The route is
 * fcgi/h-backchannel.c.
 */
#ifndef AG_BCLOGOUT_H
#define AG_BCLOGOUT_H

#include <stdint.h>

#include "ag_limits.h"
#include "json.h"

/*
 * AG_BCLOGOUT_MAX_AGE (ag_limits.h): a logout token older than this (iat,
 * plus AG_JWT_LEEWAY) is refused whatever its exp says, so a jti need
 * not be remembered for longer.
 */
#define AG_BCLOGOUT_EVENT "http://schemas.openid.net/event/backchannel-logout"

/* What a valid logout token says; strings borrowed from the claims. */
struct ag_bclogout {
	const char	*sid;		/* may be NULL */
	const char	*sub;		/* may be NULL, not both */
	const char	*jti;
	int64_t		 iat;
	int64_t		 keep_until;	/* remember jti until then */
};

/*
 * Check a verified logout token's header and claims at time now: typ,
 * if present, is "logout+jwt" or "application/logout+jwt" (any case);
 * iat numeric, not after now + AG_JWT_LEEWAY nor before now -
 * AG_BCLOGOUT_MAX_AGE - AG_JWT_LEEWAY; exp and nbf honoured when
 * present (with AG_JWT_LEEWAY); jti a non-empty string of at most
 * AG_BCLOGOUT_MAX_JTI bytes; events an object whose member
 * AG_BCLOGOUT_EVENT is an object; no nonce (even null); sid and sub
 * strings when present, at least one of them.  AG_OK with out filled
 * (borrowing from claims); AG_ERR_VERIFY with a short reason in why
 * (AG_WHY_LEN bytes, never a claim value).
 */
int	 ag_bclogout_check(const ag_json *header, const ag_json *claims,
	    int64_t now, struct ag_bclogout *out, char *why);

#endif
