/*
 * txn.h -- the transaction cookie of one login: __txn_<state>, holding
 * state, nonce, PKCE verifier, returnTo and max_age, sealed like the
 * session, for AG_TXN_MAX_AGE seconds.
 *
 * The value is "<unix-ms>:<jwe>" (as @auth0/nextjs-auth0 4.29): the
 * timestamp lets the writer evict the oldest transactions without
 * decrypting them, so that all __txn_* cookies together stay under
 * AG_TXN_TOTAL_MAX bytes however many tabs start a login.
 */
#ifndef AG_TXN_H
#define AG_TXN_H

#include "app.h"
#include "cookie.h"
#include "json.h"
#include "req.h"

#define AG_TXN_PREFIX	"__txn_"

/* 1 when s is a plausible state value (base64url, 16..64 chars). */
int	 ag_txn_state_ok(const char *s);
/*
 * Seal txn (which must hold "state") into __txn_<state>, evicting the
 * oldest other __txn_* cookies of the request while the total would
 * exceed AG_TXN_TOTAL_MAX.
 */
int	 ag_txn_write(const struct ag_app *, const struct ag_cookies *,
	    ag_json *txn, struct ag_resp *);
/*
 * Read and open __txn_<state>; its "state" member must equal state.
 * AG_ERR_NOTFOUND when absent, undecryptable or expired.
 */
int	 ag_txn_read(const struct ag_app *, const struct ag_cookies *,
	    const char *state, ag_json **out);
/* Delete __txn_<state>. */
int	 ag_txn_delete(const struct ag_app *, const char *state,
	    struct ag_resp *);
/* Delete every __txn_* cookie of the request (logout). */
int	 ag_txn_delete_all(const struct ag_app *, const struct ag_cookies *,
	    struct ag_resp *);

#endif
