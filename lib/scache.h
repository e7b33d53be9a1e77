/*
 * scache.h -- a per-process cache of verified sessions for the FastCGI
 * AUTHORIZER (fcgi/h-authorize.c).
 *
 * A long-lived authgate-fcgi process sees the same session cookie on
 * request after request.  The cache keeps the last AG_SCACHE_ENTRIES
 * (ag_limits.h) sessions it verified, keyed by the exact bytes of the
 * sealed cookie (all chunks joined), with what answering the same
 * cookie again needs: the session's times, its sid and sub for the
 * back-channel logout check, its claims for the rules, and the finished
 * "Variable-NAME: value" block.  A lookup compares 64-bit SipHash-1-3
 * values of the bytes (a random key per cache, so no attacker can aim
 * for a collision), then the bytes themselves in constant time.
 *
 * What can change between two requests with the same cookie is never
 * cached: the caller checks the time (ag_scache_fresh), the logout
 * table and the rule of this request on every hit.  Only successes are
 * stored; an evicted or dropped entry is wiped (the variables may hold
 * an access token).  Not thread-safe: one cache per process.
 */
#ifndef AG_SCACHE_H
#define AG_SCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "ag_limits.h"
#include "conf.h"
#include "json.h"

/* What a hit needs. */
struct ag_scache_entry {
	int64_t	 exp;		/* the cookie's exp */
	int64_t	 created_at;	/* internal.createdAt */
	int64_t	 ceiling;	/* internal.sessionExpiresAt; 0: none */
	int64_t	 token_exp;	/* access token expiry; 0: none handed out */
	int64_t	 stored_at;	/* the clock when it was stored */
	char	*sid;		/* internal.sid; NULL: none */
	char	*sub;		/* user.sub */
	ag_json	*user;		/* the claims (a reference) */
	char	*vars;		/* the Variable- lines, NUL-terminated */
	size_t	 vars_len;
};

struct ag_scache_slot {
	uint64_t		 hash;
	uint64_t		 used;	/* LRU tick; 0: free */
	char			*key;	/* the sealed cookie */
	size_t			 key_len;
	struct ag_scache_entry	 e;	/* owned copies */
};

struct ag_scache {
	struct ag_scache_slot	 slot[AG_SCACHE_ENTRIES];
	uint64_t		 tick;
	unsigned char		 k[16];	/* SipHash key */
	int			 keyed;
	/*
	 * Tests only: every key hashes alike, so a lookup rests on the
	 * constant-time byte comparison alone.
	 */
	int			 collide;
};

/* An empty cache (a zeroed struct is one too). */
void	 ag_scache_init(struct ag_scache *);
/*
 * The entry stored under the n bytes of key, or NULL.  Borrowed: valid
 * until the next ag_scache_put, ag_scache_drop or ag_scache_clear.
 */
const struct ag_scache_entry *ag_scache_get(struct ag_scache *,
	    const char *key, size_t n);
/*
 * Store a copy of e (strings copied, e->user referenced) under key,
 * replacing an entry of the same key, else evicting the least recently
 * used one.  AG_OK; AG_ERR_LIMIT (nothing stored) when n + e->vars_len
 * passes AG_SCACHE_MAX_BYTES or e lacks sub or vars; AG_ERR_NOMEM;
 * AG_ERR_CRYPTO when no random key could be drawn.
 */
int	 ag_scache_put(struct ag_scache *, const char *key, size_t n,
	    const struct ag_scache_entry *e);
/* Remove (and wipe) the entry of key, if any. */
void	 ag_scache_drop(struct ag_scache *, const char *key, size_t n);
/* Remove and wipe every entry.  NULL safe. */
void	 ag_scache_clear(struct ag_scache *);
/* The number of entries held. */
size_t	 ag_scache_count(const struct ag_scache *);

/*
 * 1 when an entry may answer at time now, with the checks of a full
 * read (lib/session.c, lib/crypto.c, lib/token.c, lib/protect.c): the
 * cookie's exp not past (AG_JWE_LEEWAY), createdAt + absolute duration
 * not reached, the provider's ceiling not within AG_IPSIE_LEEWAY; with
 * wrap.pass_access_token an access token of known expiry later than
 * now + token_refresh_buffer (else the full path refreshes or leaves it
 * out); with set_cookie (the answer can carry Set-Cookie) no rolling
 * due; and the clock not behind stored_at.  0: take the full path.
 */
int	 ag_scache_fresh(const struct ag_conf *, const struct ag_scache_entry *,
	    int64_t now, int set_cookie);

#endif
