/*
 * session.h -- the session: the SDK's SessionData object, its expiry,
 * and its home in the browser (the __session cookie, chunked above 3500
 * bytes) -- byte-compatible with @auth0/nextjs-auth0 v4.
 *
 * SessionData = { user, tokenSet, accessTokens?, internal {sid,
 * createdAt}, connectionTokenSets?, ...custom }.  Expiry is computed
 * only by ag_session_max_age(), which the responder, the wrapper and the
 * authorizer all call.
 *
 * With session.store = sqlite the cookie holds only the sealed
 * {"id": <32 hex>} (never chunked) and the SessionData lives in the
 * database row (lib/db.h); the functions below hide the difference.
 */
#ifndef AG_SESSION_H
#define AG_SESSION_H

#include <stdint.h>

#include "app.h"
#include "cookie.h"
#include "json.h"
#include "req.h"

struct ag_tokens;

struct ag_session {
	ag_json	*data;		/* SessionData, owned; no "exp" member */
	int64_t	 exp;		/* exp of the cookie it came from, or 0 */
	int64_t	 created_at;	/* internal.createdAt */
	char	 id[33];	/* sqlite store: the row id, "" until stored */
	int	 is_new;	/* a fresh login: a new id, the old row deleted */
};

/*
 * Seconds the session may live from now (reference section 2.5):
 * rolling: min(now + inactivity, created_at + absolute) - now;
 * not rolling: created_at + absolute - now.  Never negative.
 * (Unlike the SDK, a non-rolling session does not re-extend on write:
 * absolute is counted from login, always.)
 */
int64_t	 ag_session_max_age(const struct ag_conf *, int64_t created_at,
	    int64_t now);
/*
 * 1 when a session whose cookie expires at cur_exp should be written
 * again because its rolled expiry new_exp is later by at least
 * min(60 s, inactivity / 10): rolling without rewriting the cookie on
 * every request.
 */
int	 ag_session_should_roll(const struct ag_conf *, int64_t cur_exp,
	    int64_t new_exp);

/*
 * Read the session from the request's cookies: the cookie named
 * cookie.name, or its chunks name__0..name__N-1 (no gap, at most
 * AG_MAX_SESSION_CHUNKS).  Unsealed and checked (exp with 15 s
 * leeway, and server-side createdAt + absolute_duration).  AG_OK or
 * AG_ERR_NOTFOUND (absent, undecryptable, expired, malformed: all the
 * same to the caller; the reason is logged at debug level).
 */
int	 ag_session_read(struct ag_app *, const struct ag_cookies *,
	    struct ag_session *out);
/*
 * The sealed session as the request carries it: the cookie
 * cookie.name, else its chunks joined, appended to out (its limit
 * bounds it).  AG_OK; AG_ERR_NOTFOUND (none); AG_ERR_LIMIT.  What
 * ag_session_read() unseals, and the key of the authorizer's cache.
 */
int	 ag_session_cookie_value(const struct ag_conf *,
	    const struct ag_cookies *, struct ag_buf *out);
/*
 * The back-channel logout check of a cookie-store session (what
 * ag_session_read() does after unsealing): AG_ERR_NOTFOUND when
 * session.db records a logout of sid (or of sub) at or after created;
 * AG_OK when none, or when session.db does not exist; AG_ERR_DB /
 * AG_ERR_BUSY when it exists but cannot be read.  sid may be NULL.
 */
int	 ag_session_check_logout(struct ag_app *, const char *sid,
	    const char *sub, int64_t created, int64_t now);
/*
 * sqlite store only: the session of row id (AG_DB_ID_LEN lower-case
 * hex), for `authgate token --session ID` where no cookie exists.
 * The same checks as ag_session_read (unexpired row, user.sub,
 * absolute duration, the provider's session_expiry); out->exp is 0
 * (no cookie).  AG_OK; AG_ERR_CONFIG with the cookie store;
 * AG_ERR_NOTFOUND (malformed id, absent, expired, unreadable);
 * AG_ERR_BUSY / AG_ERR_DB / AG_ERR_NOMEM.  Whoever may name an id may
 * use that session: callers must be the operator (the CLI drops the
 * authgate group for --session).
 */
int	 ag_session_read_id(struct ag_app *, const char *id,
	    struct ag_session *out);
/*
 * Write the session: seal with exp = now + max_age, one cookie or
 * chunks of AG_COOKIE_CHUNK_SIZE, delete stale chunks or the unchunked
 * cookie present in the request, add the no-cache headers.  A session
 * whose max_age is 0 is cleared instead.  AG_ERR_LIMIT (logged) when it
 * would need more than AG_MAX_SESSION_CHUNKS cookies.
 * sqlite store: is_new rotates the id (the request's old row is
 * deleted: session fixation); otherwise the row is updated only if it
 * still exists -- AG_ERR_NOTFOUND, and no cookie, when a logout or a
 * revocation deleted it meanwhile.  AG_ERR_BUSY / AG_ERR_DB on database
 * trouble.
 */
int	 ag_session_write(struct ag_app *, const struct ag_cookies *,
	    struct ag_session *, struct ag_resp *);
/*
 * Roll: extend a read session's expiry (a rolling touch).  Cookie
 * store: the same as ag_session_write.  sqlite store: only the row's
 * last_seen and expiry change, and the id cookie is re-sealed.
 */
int	 ag_session_roll(struct ag_app *, const struct ag_cookies *,
	    struct ag_session *, struct ag_resp *);
/*
 * Delete the session cookie and every chunk of it in the request; with
 * the sqlite store also the row the cookie names.
 */
int	 ag_session_clear(struct ag_app *, const struct ag_cookies *,
	    struct ag_resp *);
void	 ag_session_free(struct ag_session *);
/*
 * Add to w the Set-Cookie header of ag_set_cookie(name, value, a,
 * max_age, now) (a value of at most AG_MAX_COOKIE_VALUE bytes): how
 * the session's cookies, and the __FC_<n> ones, are written.
 */
int	 ag_session_put_cookie(struct ag_resp *, const char *name,
	    const char *value, const struct ag_cookie_attr *, int64_t max_age,
	    int64_t now);

/*
 * Build the session of a fresh login (reference section 5.3 step 10):
 * user = claims filtered by claims.keep; tokenSet {accessToken,
 * idToken, scope, requestedScope, audience, refreshToken, expiresAt,
 * token_type}; internal {sid, createdAt: now}.  claims is not taken.
 */
int	 ag_session_from_login(const struct ag_conf *, const struct ag_tokens *,
	    ag_json *claims, const char *requested_scope, const char *audience,
	    int64_t now, struct ag_session *out);
/* A copy of claims holding only the names in claims.keep. */
ag_json	*ag_session_filter_claims(const struct ag_conf *, ag_json *claims);

/* Borrowed accessors; NULL when absent. */
ag_json		*ag_session_user(const struct ag_session *);
const char	*ag_session_token(const struct ag_session *, const char *name);
const char	*ag_session_sid(const struct ag_session *);

#endif
