/*
 * token.c -- access tokens from the session: selection, refresh with
 * rotation, tokens per audience (MRRT), coalesced refreshes.  See
 * token.h; reference sections 8.2-8.4, peers section 2.6.
 *
 * ag_token_get, the script:
 *  1. No session data: missing_session.  internal.sessionExpiresAt
 *     (IPSIE) within AG_IPSIE_LEEWAY seconds or past: session_expired.
 *  2. Target audience = the requested one, else conf audience.
 *     Effective scope = the order-preserving, de-duplicated union of
 *     the configured scope for that audience (authgate has one scope
 *     string, which serves every audience, as the SDK's string form
 *     does) and the requested scope; only the requested scope with
 *     mergeScopes=false.  Empty strings count as absent.
 *  3. Select: tokenSet when (no target audience, or it equals
 *     tokenSet.audience, else conf audience) and (no effective scope,
 *     or it is a subset of tokenSet.requestedScope, else of conf
 *     scope); else, when there is a target audience, the accessTokens[]
 *     entry of that audience whose requestedScope (else scope) covers
 *     the effective scope, the one with the fewest granted scopes
 *     first; else an empty set.  Refresh token and ID token always come
 *     from tokenSet (one refresh token serves every audience).
 *  4. No refresh token: no access token -> missing_refresh_token ("No
 *     access token found ..."); expiresAt <= now -> missing_refresh_token
 *     ("The access token has expired ..."); else the cached token (an
 *     unknown expiry counts as not expired).
 *  5. A refresh token and (refresh forced, or no access token, or an
 *     unknown expiry, or expiresAt <= now + token_refresh_buffer):
 *     refresh (6-8); else the cached token.
 *  6. Coordinate (any session store; the refresh token in a cookie is
 *     shared by every parallel request of the browser).  One refresh
 *     token may be presented to the token endpoint once (rotation with
 *     reuse detection revokes the whole grant otherwise), whatever the
 *     audience and scope asked for, so there are two kinds of row in
 *     refresh_results, keyed by hex SHA-256 -- the token itself is
 *     never stored:
 *       result key = SHA-256(refresh token NUL audience sent NUL
 *                    effective scope): the outcome of one refresh;
 *       lock key   = SHA-256(refresh token): the refresh token's lock,
 *                    then what became of it.
 *     With RT the refresh token in hand:
 *     a. session.db cannot be opened (absent, not migrated, not
 *        configured) -> a warning, then 7 without coordination;
 *        database busy or failing once open -> store_unavailable.
 *     b. ag_db_refresh_peek(result key): an outcome, success or failure
 *        (mfa_required stays mfa_required) -> it, no provider call.
 *     c. ag_db_refresh_claim(lock key), then b once more (the owner
 *        stores the outcome before it settles the lock, so a request
 *        of the same audience that raced past b finds it here):
 *        MINE   -> 7 with RT, then d;
 *        WAIT   -> sleep AG_REFRESH_POLL_MS and go to b, for at most
 *                  the lock time plus AG_REFRESH_WAIT_EXTRA_SECS (so a
 *                  crashed owner's lock expires inside the wait and we
 *                  take over), then failed_to_refresh_token "refresh by
 *                  another process did not finish";
 *        DONE   -> RT was spent by a refresh for another audience or
 *                  scope and rotated into RT' (the record): RT = RT',
 *                  go to b with RT's keys; at most AG_REFRESH_HOPS
 *                  times.  The session keeps RT' (or what it rotates
 *                  into), even when that refresh then fails;
 *        FAILED -> the stored failure, no provider call (no storm).
 *     d. The owner stores the outcome under the result key for
 *        AG_REFRESH_KEEP_SECS, then settles the lock: rotated -> 'done'
 *        with the sealed record {"refresh_token": RT'} for as long;
 *        a failure that may have spent RT (invalid_grant, no clear
 *        answer, a refused ID token) -> 'failed' with the failure;
 *        otherwise (not rotated; not sent; another OAuth error such as
 *        mfa_required) the lock row is deleted: RT is still good, and
 *        the next waiter takes the lock and refreshes with it.
 *        A token request that provably never reached the provider
 *        (connection refused, name not resolved, TLS failed before
 *        sending: ag_oauth_error.not_sent) stores no outcome at all
 *        and releases the lock: RT was not presented, so the next
 *        request (or a waiter) refreshes with it at once instead of
 *        being answered the failure for AG_REFRESH_KEEP_SECS.
 *     The lock lasts max(AG_REFRESH_LOCK_SECS, 3 * http.timeout_ms +
 *     1 s): the owner's work under the lock is discovery, the token
 *     call and at most one JWKS fetch, each bounded by http.timeout_ms,
 *     and a lock shorter than that would let a waiter spend the same
 *     rotating refresh token while the owner still runs.  (A request
 *     served a stored outcome needs no discovery at all: the one-shot
 *     wrapper makes no HTTP call then.)
 *  7. Discovery (discovery_error, remembered like any failure), then
 *     the grant: grant_type=refresh_token, refresh_token, plus audience
 *     (or RFC 8707 resource with audience.param = resource) when an
 *     audience was requested, and scope = effective scope when a scope
 *     was requested; client authentication in ag_oidc_token.
 *     mfa_required -> mfa_required, keeping the provider's error body;
 *     any other failure -> failed_to_refresh_token.  A returned ID
 *     token is validated fully with expect.sub = the session's sub and
 *     no nonce (failure: failed_to_refresh_token, nothing stored); its
 *     claims travel with the outcome.
 *  8. Persist (ag_token_store, reference 8.4) into s->data; user =
 *     claims filtered by claims.keep (their sub checked against the
 *     session's once more: an outcome may come from another process).
 *  9. Hand out the token; session_changed when s->data changed.
 *
 * Decisions where the SDK was not followed to the letter:
 *  - An outcome taken from another process (DONE) is not validated
 *    again: the owner validated it, it is sealed with a key only
 *    holders of the secret derive, and re-validating would cost the
 *    one-shot wrapper a discovery and a JWKS fetch.  Its sub is still
 *    compared with the session's.
 *  - A refresh that returns no ID token keeps the stored one (the SDK
 *    drops it), so logout keeps its id_token_hint.
 *  - A response without "scope" keeps the previously granted scope
 *    (RFC 6749 5.1: omitted means unchanged); without expires_in the
 *    token gets 3600 s, as at login.
 *  - A failure of any kind (not only a provider error), except a token
 *    request that provably never left (6d), is remembered
 *    for AG_REFRESH_KEEP_SECS for its audience and scope: a lost answer
 *    may still have rotated the token, and a retry would then trip
 *    reuse detection (for every audience, through the lock row, when
 *    the failure may have spent the token; see 6d).
 *  - The encrypted mfa_token carries the target audience (requested,
 *    else conf) and the effective scope of the refresh that failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ag_limits.h"
#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "mfa.h"
#include "oidc.h"
#include "rand.h"
#include "token.h"
#include "url.h"

#define MSG_NO_TOKEN	"No access token found and a refresh token was " \
	"not provided. The user needs to re-authenticate."
#define MSG_EXPIRED	"The access token has expired and a refresh token " \
	"was not provided. The user needs to re-authenticate."
#define MSG_MFA		"Multi-factor authentication is required."
#define MAX_SCOPE	(16 * 1024)	/* a scope string we build */
#define MAX_FORM	(64 * 1024)	/* the refresh grant's form */

static const struct {
	const char	*code;
	const char	*message;
} errors[AG_TOKEN__MAX] = {
	/* AG_TOKEN_OK */
	{ "ok", "" },
	/* AG_TOKEN_MISSING_SESSION */
	{ "missing_session", "The user does not have an active session." },
	/* AG_TOKEN_MISSING_REFRESH */
	{ "missing_refresh_token", MSG_NO_TOKEN },
	/* AG_TOKEN_FAILED_REFRESH */
	{ "failed_to_refresh_token", "The access token has expired and there "
	    "was an error while trying to refresh it." },
	/* AG_TOKEN_SESSION_EXPIRED */
	{ "session_expired", "The session has expired and the user must "
	    "re-authenticate." },
	/* AG_TOKEN_MFA_REQUIRED */
	{ "mfa_required", MSG_MFA },
	/* AG_TOKEN_DISCOVERY */
	{ "discovery_error", "Discovery failed for the OpenID Connect "
	    "configuration." },
	/* AG_TOKEN_STORE */
	{ "store_unavailable", "The session store is unavailable; try again "
	    "shortly." },
};

const char *
ag_token_code(int err)
{
	if (err < 0 || err >= AG_TOKEN__MAX)
		return "unknown_error";
	return errors[err].code;
}

const char *
ag_token_message(int err)
{
	if (err < 0 || err >= AG_TOKEN__MAX)
		return "An unknown error occurred.";
	return errors[err].message;
}

void
ag_token_clear(struct ag_token *t)
{
	if (t == NULL)
		return;
	ag_strfree(t->access_token);
	free(t->token_type);
	free(t->scope);
	free(t->audience);
	memset(t, 0, sizeof(*t));
}

void
ag_token_fail_clear(struct ag_token_fail *f)
{
	if (f == NULL)
		return;
	ag_json_free(f->mfa);
	free(f->mfa_audience);
	free(f->mfa_scope);
	free(f->mfa_sid);
	free(f->mfa_sub);
	memset(f, 0, sizeof(*f));
}

/* Record a failure; returns err for tail calls. */
static int
failf(struct ag_token_fail *f, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
failf(struct ag_token_fail *f, int err, const char *fmt, ...)
{
	va_list ap;

	f->err = err;
	if (f->message == NULL)
		f->message = ag_token_message(err);
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return err;
}

/* ------------------------------------------------------------------ */
/* Scopes                                                             */

/* The next scope of *p (skipping spaces): start and length, 0 at end. */
static size_t
next_scope(const char **p, const char **start)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ')
		s++;
	*start = s;
	while (s[n] != '\0' && s[n] != ' ')
		n++;
	*p = s + n;
	return n;
}

/* 1 when the scope [w, w+n) occurs in the space-separated list s. */
static int
has_scope(const char *s, const char *w, size_t n)
{
	const char *t;
	size_t m;

	if (s == NULL)
		return 0;
	while ((m = next_scope(&s, &t)) > 0)
		if (m == n && memcmp(t, w, n) == 0)
			return 1;
	return 0;
}

int
ag_token_scope_has(const char *list, const char *scope)
{
	return has_scope(list, scope, strlen(scope));
}

static int
empty(const char *s)
{
	const char *t;

	return s == NULL || next_scope(&s, &t) == 0;
}

int
ag_token_scope_union(const char *a, const char *b, struct ag_buf *out)
{
	const char *lists[2] = { a, b }, *p, *w;
	size_t n, i, start = out->len;
	int r;

	for (i = 0; i < 2; i++) {
		if ((p = lists[i]) == NULL)
			continue;
		while ((n = next_scope(&p, &w)) > 0) {
			if (has_scope(ag_buf_str(out) + start, w, n))
				continue;
			if ((out->len > start &&
			    (r = ag_buf_putc(out, ' ')) != AG_OK) ||
			    (r = ag_buf_add(out, w, n)) != AG_OK)
				return r;
		}
	}
	return AG_OK;
}

int
ag_token_scope_subset(const char *a, const char *b)
{
	const char *w;
	size_t n;

	if (a == NULL)
		return 1;
	while ((n = next_scope(&a, &w)) > 0)
		if (!has_scope(b, w, n))
			return 0;
	return 1;
}

size_t
ag_token_scope_count(const char *s)
{
	const char *p = s, *w, *q, *v;
	size_t n, m, count = 0;
	int seen;

	if (s == NULL)
		return 0;
	while ((n = next_scope(&p, &w)) > 0) {
		/* Count w only at its first occurrence. */
		seen = 0;
		for (q = s; !seen && (m = next_scope(&q, &v)) > 0 && v < w;)
			seen = m == n && memcmp(v, w, n) == 0;
		count += !seen;
	}
	return count;
}

/* The same set of scopes (both empty counts as the same). */
static int
scope_equal(const char *a, const char *b)
{
	if (empty(a) || empty(b))
		return empty(a) && empty(b);
	return ag_token_scope_subset(a, b) && ag_token_scope_subset(b, a);
}

/* out = lower-case hex SHA-256 of [p, p+n). */
static int
hex_sha256(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[AG_SHA256_LEN];
	size_t i;
	int r;

	out[0] = '\0';
	if ((r = ag_sha256(p, n, h)) != AG_OK)
		goto out;
	for (i = 0; i < AG_SHA256_LEN; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 0xf];
	}
	out[2 * AG_SHA256_LEN] = '\0';
out:
	explicit_bzero(h, sizeof(h));
	return r;
}

int
ag_token_refresh_key(const char *rt, const char *audience, const char *scope,
    char out[65])
{
	struct ag_buf b;
	int r;

	out[0] = '\0';
	ag_buf_init(&b, 0);
	if (rt == NULL)
		return AG_ERR_PARSE;
	if ((r = ag_buf_add(&b, rt, strlen(rt) + 1)) != AG_OK ||
	    (r = ag_buf_add(&b, audience != NULL ? audience : "",
	    (audience != NULL ? strlen(audience) : 0) + 1)) != AG_OK ||
	    (r = ag_buf_puts(&b, scope != NULL ? scope : "")) != AG_OK)
		goto out;
	r = hex_sha256(b.data, b.len, out);
out:
	ag_buf_free(&b);
	return r;
}

int
ag_token_lock_key(const char *rt, char out[65])
{
	out[0] = '\0';
	if (rt == NULL)
		return AG_ERR_PARSE;
	return hex_sha256(rt, strlen(rt), out);
}

/* ------------------------------------------------------------------ */
/* Selection (reference 8.2)                                          */

/* A string member that is present and not empty, else NULL. */
static const char *
str_of(const ag_json *o, const char *key)
{
	const char *s = ag_json_get_str(o, key);

	return s != NULL && *s != '\0' ? s : NULL;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* expiresAt: a number (seconds, a fraction floored); 0 when unknown. */
static int
expires_of(const ag_json *o, int64_t *out)
{
	ag_json *v = ag_json_get(o, "expiresAt");
	double d;

	*out = 0;
	if (ag_json_type(v) == AG_JSON_INT)
		return ag_json_to_int(v, out) == AG_OK;
	if (ag_json_type(v) == AG_JSON_DOUBLE &&
	    ag_json_to_double(v, &d) == AG_OK && d > -9e15 && d < 9e15) {
		*out = (int64_t)d;
		if ((double)*out > d)
			(*out)--;
		return 1;
	}
	return 0;
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The selected token set; strings borrowed from the session data. */
struct sel {
	int		 is_default;
	const char	*access_token;
	const char	*token_type;
	const char	*scope;
	const char	*requested_scope;
	const char	*audience;
	const char	*refresh_token;
	const char	*id_token;
	int64_t		 expires_at;
	int		 has_exp;
};

/*
 * The accessTokens[] entry for audience aud whose requestedScope (else
 * scope) covers scope (strict: whose granted scope is exactly scope),
 * fewest granted scopes first; NULL if none.
 */
static ag_json *
find_entry(ag_json *data, const char *aud, const char *scope, int strict)
{
	ag_json *arr = ag_json_get(data, "accessTokens"), *e, *best = NULL;
	const char *have;
	size_t i, n, count, best_count = 0;

	if (ag_json_type(arr) != AG_JSON_ARRAY)
		return NULL;
	n = ag_json_array_len(arr);
	for (i = 0; i < n; i++) {
		e = ag_json_array_get(arr, i);
		if (ag_json_type(e) != AG_JSON_OBJECT ||
		    !streq(ag_json_get_str(e, "audience"), aud))
			continue;
		if (strict) {
			if (!scope_equal(ag_json_get_str(e, "scope"), scope))
				continue;
		} else {
			if ((have = str_of(e, "requestedScope")) == NULL)
				have = ag_json_get_str(e, "scope");
			if (!ag_token_scope_subset(scope, have))
				continue;
		}
		count = ag_token_scope_count(ag_json_get_str(e, "scope"));
		if (best == NULL || count < best_count) {
			best = e;
			best_count = count;
		}
	}
	return best;
}

static void
select_set(const struct ag_conf *c, ag_json *data, const char *target,
    const char *eff, struct sel *sel)
{
	ag_json *ts = ag_json_get(data, "tokenSet"), *e = NULL;
	const char *def_aud, *def_scope;

	memset(sel, 0, sizeof(*sel));
	if (ag_json_type(ts) != AG_JSON_OBJECT)
		ts = NULL;
	sel->refresh_token = str_of(ts, "refreshToken");
	sel->id_token = str_of(ts, "idToken");
	sel->token_type = str_of(ts, "token_type");
	if ((def_aud = str_of(ts, "audience")) == NULL)
		def_aud = nonempty(c->audience);
	if ((def_scope = str_of(ts, "requestedScope")) == NULL)
		def_scope = c->scope;
	if ((target == NULL || streq(target, def_aud)) &&
	    (eff == NULL || (!empty(def_scope) &&
	    ag_token_scope_subset(eff, def_scope)))) {
		sel->is_default = 1;
		e = ts;
	} else if (target != NULL &&
	    (e = find_entry(data, target, eff, 0)) != NULL) {
		if (str_of(e, "token_type") != NULL)
			sel->token_type = str_of(e, "token_type");
	}
	if (e == NULL) {
		/* An empty set: only the refresh and ID tokens. */
		return;
	}
	sel->access_token = str_of(e, "accessToken");
	sel->scope = str_of(e, "scope");
	sel->requested_scope = str_of(e, "requestedScope");
	sel->audience = str_of(e, "audience");
	sel->has_exp = expires_of(e, &sel->expires_at);
}

/* ------------------------------------------------------------------ */
/* Persisting (reference 8.4)                                         */

/* Set key to s, or delete it when s is NULL. */
static int
set_or_del(ag_json *o, const char *key, const char *s)
{
	if (s == NULL) {
		ag_json_del(o, key);
		return AG_OK;
	}
	return ag_json_set_str(o, key, s);
}

/* Set key to s when s is not NULL. */
static int
set_opt(ag_json *o, const char *key, const char *s)
{
	return s != NULL ? ag_json_set_str(o, key, s) : AG_OK;
}

/* Fill the accessTokens[] entry e from n (accessTokenSetFromTokenSet). */
static int
fill_entry(ag_json *e, const struct ag_token_set *n, const char *aud,
    const char *requested_scope)
{
	int r;

	if ((r = ag_json_set_str(e, "accessToken", n->access_token)) != AG_OK ||
	    (r = ag_json_set_int(e, "expiresAt", n->expires_at)) != AG_OK ||
	    (r = ag_json_set_str(e, "audience", aud)) != AG_OK ||
	    (r = set_or_del(e, "scope", n->scope)) != AG_OK ||
	    (r = set_or_del(e, "requestedScope", requested_scope)) != AG_OK ||
	    (r = set_or_del(e, "token_type", n->token_type)) != AG_OK)
		return r;
	return AG_OK;
}

int
ag_token_store(const struct ag_conf *c, ag_json *data,
    const struct ag_token_set *n, int *changed)
{
	ag_json *ts, *arr, *e;
	struct ag_buf merged;
	const char *def_aud, *def_scope, *aud, *scope;
	int64_t exp;
	int r = AG_OK, has_exp;

	*changed = 0;
	ag_buf_init(&merged, MAX_SCOPE);
	if (n->access_token == NULL)
		return AG_ERR_PARSE;
	ts = ag_json_get(data, "tokenSet");
	if (ag_json_type(ts) != AG_JSON_OBJECT) {
		if ((ts = ag_json_object()) == NULL ||
		    (r = ag_json_set(data, "tokenSet", ts)) != AG_OK)
			return ts == NULL ? AG_ERR_NOMEM : r;
	}
	if ((def_aud = str_of(ts, "audience")) == NULL)
		def_aud = nonempty(c->audience);
	if ((def_scope = str_of(ts, "requestedScope")) == NULL)
		def_scope = c->scope;

	/* The default audience and scope: tokenSet itself. */
	if ((nonempty(n->audience) == NULL || streq(n->audience, def_aud)) &&
	    (empty(n->requested_scope) ||
	    (!empty(def_scope) &&
	    ag_token_scope_subset(n->requested_scope, def_scope)))) {
		has_exp = expires_of(ts, &exp);
		if (streq(n->access_token, str_of(ts, "accessToken")) &&
		    has_exp && exp == n->expires_at &&
		    (n->refresh_token == NULL ||
		    streq(n->refresh_token, str_of(ts, "refreshToken"))))
			return AG_OK;
		if ((r = ag_json_set_str(ts, "accessToken",
		    n->access_token)) != AG_OK ||
		    (r = ag_json_set_int(ts, "expiresAt",
		    n->expires_at)) != AG_OK ||
		    (r = set_or_del(ts, "scope", n->scope)) != AG_OK ||
		    (r = set_opt(ts, "requestedScope",
		    nonempty(n->requested_scope))) != AG_OK ||
		    (r = set_opt(ts, "audience", nonempty(n->audience))) !=
		    AG_OK ||
		    (r = set_opt(ts, "token_type", n->token_type)) != AG_OK ||
		    (r = set_opt(ts, "idToken", n->id_token)) != AG_OK ||
		    (r = set_opt(ts, "refreshToken", n->refresh_token)) !=
		    AG_OK)
			return r;
		*changed = 1;
		return AG_OK;
	}

	/* Another audience or scope: accessTokens[]. */
	if ((aud = nonempty(n->audience)) == NULL &&
	    (aud = nonempty(c->audience)) == NULL)
		return AG_OK;	/* nowhere to keep it, as the SDK */
	if ((scope = nonempty(n->requested_scope)) == NULL)
		scope = c->scope;
	if ((e = find_entry(data, aud, scope, 0)) != NULL) {
		if (streq(ag_json_get_str(e, "accessToken"), n->access_token))
			return AG_OK;
		r = fill_entry(e, n, aud, n->requested_scope);
	} else if ((e = find_entry(data, aud, n->scope, 1)) != NULL) {
		/* Same granted scope: one entry, requested scopes merged. */
		if ((r = ag_token_scope_union(ag_json_get_str(e,
		    "requestedScope"), n->requested_scope, &merged)) == AG_OK)
			r = fill_entry(e, n, aud, merged.len > 0 ?
			    ag_buf_str(&merged) : NULL);
	} else {
		arr = ag_json_get(data, "accessTokens");
		if (ag_json_type(arr) != AG_JSON_ARRAY) {
			if ((arr = ag_json_array()) == NULL ||
			    (r = ag_json_set(data, "accessTokens", arr)) !=
			    AG_OK) {
				r = arr == NULL ? AG_ERR_NOMEM : r;
				goto out;
			}
		}
		if ((e = ag_json_object()) == NULL) {
			r = AG_ERR_NOMEM;
			goto out;
		}
		if ((r = fill_entry(e, n, aud, n->requested_scope)) != AG_OK) {
			ag_json_free(e);
			goto out;
		}
		r = ag_json_array_add(arr, e);
	}
	if (r != AG_OK)
		goto out;
	*changed = 1;
	if ((r = set_opt(ts, "idToken", n->id_token)) != AG_OK ||
	    (r = set_opt(ts, "refreshToken", n->refresh_token)) != AG_OK)
		goto out;
out:
	ag_buf_free(&merged);
	return r;
}

/* ------------------------------------------------------------------ */
/* The refresh grant                                                  */

/* Seconds a refresh in flight holds its lock (see the script, 6). */
static int64_t
lock_secs(const struct ag_conf *c)
{
	long t = c->http_timeout_ms > 0 ? c->http_timeout_ms : 5000;
	int64_t s = (3 * (int64_t)t + 999) / 1000 + 1;

	return s > AG_REFRESH_LOCK_SECS ? s : AG_REFRESH_LOCK_SECS;
}

/* What one refresh needs to know. */
struct grant {
	const char	*refresh_token;
	const char	*audience;	/* sent, or NULL */
	const char	*scope;		/* sent, or NULL */
	const char	*key_scope;	/* effective scope, for the key */
	const char	*sub;		/* the session's user.sub */
};

/* An outcome: {"error", "error_description"?, "why", "mfa"?}. */
static ag_json *
failure_doc(const char *code, const char *desc, const char *why,
    ag_json *mfa)
{
	ag_json *d;

	if ((d = ag_json_object()) == NULL)
		return NULL;
	if (ag_json_set_str(d, "error", code) != AG_OK ||
	    set_opt(d, "error_description", nonempty(desc)) != AG_OK ||
	    ag_json_set_str(d, "why", why) != AG_OK ||
	    (mfa != NULL && ag_json_set(d, "mfa", ag_json_copy(mfa)) !=
	    AG_OK)) {
		ag_json_free(d);
		return NULL;
	}
	return d;
}

/*
 * Call the token endpoint (the script, 7).  *out is the outcome: on
 * success {"access_token", "token_type", "expires_at", "scope"?,
 * "refresh_token"?, "id_token"?, "claims"?}, else a failure_doc.
 * Returns AG_OK when *out was built (whatever the outcome).
 */
static int
grant(struct ag_app *app, const struct grant *g, ag_json **out)
{
	const struct ag_conf *c = &app->conf;
	const struct ag_provider *p;
	struct ag_tokens t;
	struct ag_oauth_error e;
	struct ag_id_expect x;
	struct ag_buf form;
	char why[AG_WHY_LEN] = "";
	ag_json *d = NULL, *claims = NULL;
	int r;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	memset(&e, 0, sizeof(e));
	ag_buf_init(&form, MAX_FORM);
	if (ag_oidc_provider(app->oidc, &p, why) != AG_OK) {
		d = failure_doc("discovery_error", NULL, why, NULL);
		goto out;
	}
	if ((r = ag_form_add(&form, "grant_type", "refresh_token")) != AG_OK ||
	    (r = ag_form_add(&form, "refresh_token", g->refresh_token)) !=
	    AG_OK ||
	    (g->audience != NULL && (r = ag_form_add(&form,
	    c->audience_param == AG_AUDIENCE_RESOURCE ? "resource" :
	    "audience", g->audience)) != AG_OK) ||
	    (g->scope != NULL && (r = ag_form_add(&form, "scope",
	    g->scope)) != AG_OK)) {
		d = failure_doc("request_error", NULL, "refresh: the request "
		    "is too large", NULL);
		goto out;
	}
	r = ag_oidc_token(app->oidc, ag_buf_str(&form), &t, &e, why);
	if (r == AG_ERR_PROVIDER && e.error[0] != '\0') {
		d = failure_doc(e.error, e.description, why,
		    strcmp(e.error, "mfa_required") == 0 ? e.raw : NULL);
		goto out;
	}
	if (r != AG_OK) {
		d = failure_doc(r == AG_ERR_PROVIDER ? "server_error" :
		    "unknown_error", NULL, why, NULL);
		/* Never reached the provider: RT is unspent (the script, 6d). */
		if (d != NULL && r == AG_ERR_HTTP && e.not_sent &&
		    ag_json_set(d, "not_sent", ag_json_bool(1)) != AG_OK) {
			ag_json_free(d);
			d = NULL;
		}
		goto out;
	}
	if (t.id_token != NULL) {
		memset(&x, 0, sizeof(x));
		x.max_age = -1;
		x.access_token = t.access_token;
		x.sub = g->sub;
		if ((r = ag_oidc_id_token(app->oidc, t.id_token, &x, &claims,
		    why)) != AG_OK) {
			d = failure_doc("invalid_id_token", NULL, why, NULL);
			goto out;
		}
	}
	if ((d = ag_json_object()) == NULL ||
	    ag_json_set_str(d, "access_token", t.access_token) != AG_OK ||
	    ag_json_set_str(d, "token_type", t.token_type) != AG_OK ||
	    ag_json_set_int(d, "expires_at", ag_now() +
	    (t.expires_in >= 0 ? t.expires_in : AG_DEFAULT_EXPIRES_IN)) !=
	    AG_OK ||
	    set_opt(d, "scope", t.scope) != AG_OK ||
	    set_opt(d, "refresh_token", t.refresh_token) != AG_OK ||
	    set_opt(d, "id_token", t.id_token) != AG_OK) {
		ag_json_free(d);
		d = NULL;
		goto out;
	}
	if (claims != NULL) {
		r = ag_json_set(d, "claims", claims);
		claims = NULL;	/* taken, even on failure */
		if (r != AG_OK) {
			ag_json_free(d);
			d = NULL;
		}
	}
out:
	ag_json_free(claims);
	ag_tokens_clear(&t);
	ag_oauth_error_clear(&e);
	ag_buf_free(&form);
	*out = d;
	return d != NULL ? AG_OK : AG_ERR_NOMEM;
}

/*
 * The database to coordinate through, or NULL (*db) to refresh alone
 * (no session.db configured, or in cookie mode no such file).
 * AG_ERR_BUSY / AG_ERR_DB when it exists but is locked or unusable.
 */
static int
coord_db(struct ag_app *app, struct ag_db **db)
{
	static int warned;
	const struct ag_conf *c = &app->conf;
	int r;

	*db = NULL;
	if (c->session_db == NULL || *c->session_db == '\0' ||
	    (c->store != AG_STORE_SQLITE && ag_db_absent(c->session_db))) {
		if (!warned)
			ag_warn("token: no session database (session.db %s): "
			    "concurrent refreshes are not coordinated; run "
			    "authgate migrate",
			    c->session_db != NULL ? c->session_db : "unset");
		warned = 1;
		return AG_OK;
	}
	/* A file that exists but cannot be used: fail closed (503). */
	if ((r = ag_app_db(app, db)) != AG_OK)
		*db = NULL;
	return r;
}

/*
 * 1 when d is a failure of a grant whose request never reached the
 * provider (refused connection, unresolved name, TLS failed before
 * sending): neither the outcome nor the lock remembers it.
 */
static int
not_sent(const ag_json *d)
{
	int v = 0;

	return ag_json_get_bool(d, "not_sent", &v) == AG_OK && v;
}

/*
 * 1 when the failure d may have spent the refresh token, so that no
 * other refresh may present it: no clear answer (server_error,
 * temporarily_unavailable, our unknown_error), invalid_grant (the token
 * is dead), or tokens we refused (invalid_id_token: a rotated refresh
 * token among them is lost).  Not sent (discovery_error, request_error)
 * or refused with another OAuth error (mfa_required, access_denied,
 * invalid_scope, ...): the token is still good for other audiences.
 */
static int
maybe_spent(const ag_json *d)
{
	static const char *const spent[] = { "invalid_grant", "server_error",
	    "temporarily_unavailable", "unknown_error", "invalid_id_token" };
	const char *code = ag_json_get_str(d, "error");
	size_t i;

	if (not_sent(d))
		return 0;
	if (code == NULL)
		return 1;
	for (i = 0; i < sizeof(spent) / sizeof(spent[0]); i++)
		if (strcmp(code, spent[i]) == 0)
			return 1;
	return 0;
}

/*
 * Settle the lock of the refresh token rt after our grant returned d
 * (the script, 6d): rotated -> 'done' with {"refresh_token": the new
 * one}; a failure that may have spent it -> 'failed' with d; else
 * (not rotated, or refused without spending it) the lock is released.
 */
static void
finish_lock(struct ag_db *db, const char *lkey, const char *rt, ag_json *d)
{
	const char *next = ag_json_get_str(d, "refresh_token");
	ag_json *rec = NULL;
	int r;

	if (ag_json_get(d, "error") != NULL) {
		if (maybe_spent(d))
			r = ag_db_refresh_finish(db, lkey, 0, d, ag_now());
		else
			r = ag_db_refresh_release(db, lkey);
	} else if (next == NULL || *next == '\0' || strcmp(next, rt) == 0)
		r = ag_db_refresh_release(db, lkey);
	else if ((rec = ag_json_object()) == NULL ||
	    (r = ag_json_set_str(rec, "refresh_token", next)) != AG_OK)
		r = AG_ERR_NOMEM;	/* the lock expires by itself */
	else
		r = ag_db_refresh_finish(db, lkey, 1, rec, ag_now());
	if (r != AG_OK)
		ag_err("token: refresh lock %.8s...: cannot settle: %s", lkey,
		    ag_strerror(r));
	ag_json_free(rec);
}

/*
 * The outcome of the refresh g (the script, 6): *out as grant() builds
 * it, from us or from another process, and *rt (owned, wipe with
 * ag_strfree) the refresh token it was obtained with -- g's own, or
 * the one it rotated into when another refresh spent it first.  f is
 * set for store and coordination failures only.
 */
static int
coordinated(struct ag_app *app, const struct grant *g0, ag_json **out,
    char **rt, struct ag_token_fail *f)
{
	struct ag_db *db;
	struct grant g = *g0;
	char key[AG_DB_REFRESH_KEY_LEN + 1], lkey[AG_DB_REFRESH_KEY_LEN + 1];
	char *cur = NULL;
	ag_json *rec = NULL;
	const char *next;
	int64_t lock = lock_secs(&app->conf), deadline;
	int r, state, hops = 0;

	*out = NULL;
	*rt = NULL;
	if ((r = coord_db(app, &db)) != AG_OK)
		return failf(f, AG_TOKEN_STORE, "refresh: session database "
		    "%s", r == AG_ERR_BUSY ? "busy" : "unavailable");
	if ((cur = strdup(g0->refresh_token)) == NULL)
		return failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: out of "
		    "memory");
	if (db == NULL) {
		if (grant(app, &g, out) != AG_OK) {
			r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: out "
			    "of memory");
			goto out;
		}
		goto served;
	}
	deadline = ag_mono_ms() + (lock + AG_REFRESH_WAIT_EXTRA_SECS) * 1000;
	for (;;) {
		if (ag_token_refresh_key(cur, g.audience, g.key_scope, key) !=
		    AG_OK || ag_token_lock_key(cur, lkey) != AG_OK) {
			r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: no "
			    "key");
			goto out;
		}
		/* 6b. Our outcome, already there. */
		if ((r = ag_db_refresh_peek(db, key, ag_now(), &state,
		    out)) != AG_OK)
			goto store;
		if (state != -1)
			goto other;
		/* 6c. The refresh token's lock. */
		if ((r = ag_db_refresh_claim(db, lkey, ag_now(), lock, &state,
		    &rec)) != AG_OK)
			goto store;
		if (state == AG_REFRESH_WAIT) {
			if (ag_mono_ms() >= deadline) {
				r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh "
				    "by another process did not finish");
				goto out;
			}
			ag_sleep_ms(AG_REFRESH_POLL_MS);
			continue;
		}
		/*
		 * Our outcome may have been stored after we looked: its
		 * owner stores it before settling the lock.
		 */
		if ((r = ag_db_refresh_peek(db, key, ag_now(), &state,
		    out)) != AG_OK)
			goto store;
		if (state != -1) {
			if (rec == NULL && (r = ag_db_refresh_release(db,
			    lkey)) != AG_OK)
				goto store;	/* it was MINE */
			goto other;
		}
		if (rec == NULL)
			break;		/* MINE */
		if (ag_json_get(rec, "error") != NULL) {
			/* FAILED: the token may be spent; no storm. */
			*out = rec;
			rec = NULL;
			goto other;
		}
		/* DONE: spent by a refresh for another audience or scope. */
		next = ag_json_get_str(rec, "refresh_token");
		if (next == NULL || *next == '\0' || hops >= AG_REFRESH_HOPS) {
			r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: the "
			    "refresh token was spent by another refresh and %s",
			    next == NULL || *next == '\0' ? "its successor is "
			    "unknown" : "rotated too often meanwhile");
			goto out;
		}
		ag_debug("token: refresh %.8s...: the refresh token rotated "
		    "in another process; following it", lkey);
		hops++;
		ag_strfree(cur);
		cur = strdup(next);
		ag_json_free(rec);
		rec = NULL;
		if (cur == NULL) {
			r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: out "
			    "of memory");
			goto out;
		}
		deadline = ag_mono_ms() + (lock + AG_REFRESH_WAIT_EXTRA_SECS) *
		    1000;
	}
	g.refresh_token = cur;
	if (grant(app, &g, out) != AG_OK) {
		r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: out of "
		    "memory");	/* the lock expires by itself */
		goto out;
	}
	/*
	 * 6d. The outcome first, then the lock (waiters rely on it); a
	 * request that never reached the provider leaves no outcome.
	 */
	if (!not_sent(*out) && (r = ag_db_refresh_finish(db, key,
	    ag_json_get(*out, "error") == NULL, *out, ag_now())) != AG_OK)
		ag_err("token: refresh %.8s...: cannot store the outcome for "
		    "waiting requests: %s", key, ag_strerror(r));
	finish_lock(db, lkey, cur, *out);
	goto served;
other:
	ag_debug("token: refresh %.8s...: outcome of another process", key);
served:
	*rt = cur;
	cur = NULL;
	r = AG_TOKEN_OK;
	goto out;
store:
	r = failf(f, AG_TOKEN_STORE, "refresh: session database: %s",
	    ag_strerror(r));
out:
	ag_strfree(cur);
	ag_json_free(rec);
	if (r != AG_TOKEN_OK) {
		ag_json_free(*out);
		*out = NULL;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* ag_token_get                                                       */

/* The token set being handed out, owned copies. */
struct owned {
	char	*access_token;
	char	*token_type;
	char	*scope;
	char	*requested_scope;
	char	*audience;
	char	*id_token;
	char	*refresh_token;
	int64_t	 expires_at;
};

static void
owned_clear(struct owned *o)
{
	ag_strfree(o->access_token);
	free(o->token_type);
	free(o->scope);
	free(o->requested_scope);
	free(o->audience);
	ag_strfree(o->id_token);
	ag_strfree(o->refresh_token);
	memset(o, 0, sizeof(*o));
}

/* Copy s into *dst (NULL stays NULL); AG_ERR_NOMEM. */
static int
dup_into(char **dst, const char *s)
{
	*dst = NULL;
	if (s != NULL && (*dst = strdup(s)) == NULL)
		return AG_ERR_NOMEM;
	return AG_OK;
}

static int
hand_out(const struct owned *o, struct ag_token *tok)
{
	if (dup_into(&tok->access_token, o->access_token) != AG_OK ||
	    dup_into(&tok->token_type, o->token_type) != AG_OK ||
	    dup_into(&tok->scope, o->scope) != AG_OK ||
	    dup_into(&tok->audience, o->audience) != AG_OK)
		return AG_ERR_NOMEM;
	tok->expires_at = o->expires_at;
	return AG_OK;
}

/* An outcome that is a failure: map it into f. */
static int
outcome_failed(ag_json *d, const char *target, const char *eff,
    struct ag_token_fail *f)
{
	const char *code = ag_json_get_str(d, "error");
	const char *why = ag_json_get_str(d, "why");
	ag_json *mfa = ag_json_get(d, "mfa");

	if (streq(code, "mfa_required")) {
		if ((f->mfa = ag_json_copy(mfa != NULL ? mfa : d)) == NULL ||
		    dup_into(&f->mfa_audience, target) != AG_OK ||
		    dup_into(&f->mfa_scope, eff) != AG_OK)
			return failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: out "
			    "of memory");
		return failf(f, AG_TOKEN_MFA_REQUIRED, "refresh: %s",
		    why != NULL ? why : "mfa_required");
	}
	if (streq(code, "discovery_error"))
		return failf(f, AG_TOKEN_DISCOVERY, "refresh: %s",
		    why != NULL ? why : "discovery failed");
	return failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: %s (%s)",
	    why != NULL ? why : "failed", code != NULL ? code : "?");
}

/*
 * Refresh (the script, 6-8): the new token set into o, stored in s.
 */
static int
refresh(struct ag_app *app, struct ag_session *s, const struct sel *sel,
    const char *aud_req, const char *scope_req, const char *target,
    const char *eff, struct owned *o, int *changed,
    struct ag_token_fail *f)
{
	const struct ag_conf *c = &app->conf;
	struct ag_token_set n;
	struct grant g;
	const char *sub, *csub;
	ag_json *d = NULL, *claims, *user = NULL;
	char *rt = NULL;
	int r, ch = 0;

	*changed = 0;
	sub = ag_json_get_str(ag_session_user(s), "sub");
	memset(&g, 0, sizeof(g));
	g.refresh_token = sel->refresh_token;
	g.audience = aud_req;
	g.scope = scope_req != NULL ? eff : NULL;
	g.key_scope = eff;
	g.sub = sub;
	if ((r = coordinated(app, &g, &d, &rt, f)) != AG_TOKEN_OK)
		goto out;
	if (ag_json_get(d, "error") != NULL) {
		/* Spent by another refresh: keep its successor all the same. */
		if (!streq(rt, sel->refresh_token) &&
		    ag_json_set_str(ag_json_get(s->data, "tokenSet"),
		    "refreshToken", rt) == AG_OK)
			*changed = 1;
		r = outcome_failed(d, target, eff, f);
		goto out;
	}
	claims = ag_json_get(d, "claims");
	if (claims != NULL && (sub == NULL ||
	    (csub = ag_json_get_str(claims, "sub")) == NULL ||
	    strcmp(csub, sub) != 0)) {
		r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: the ID token's "
		    "sub is not the session's");
		goto out;
	}
	/* Owned copies first: storing frees what sel points into. */
	r = AG_ERR_NOMEM;
	if (dup_into(&o->access_token, ag_json_get_str(d, "access_token")) !=
	    AG_OK ||
	    dup_into(&o->token_type, ag_json_get_str(d, "token_type")) !=
	    AG_OK ||
	    dup_into(&o->scope, ag_json_get_str(d, "scope") != NULL ?
	    ag_json_get_str(d, "scope") : sel->scope) != AG_OK ||
	    dup_into(&o->requested_scope, eff) != AG_OK ||
	    dup_into(&o->audience, sel->audience != NULL ? sel->audience :
	    aud_req) != AG_OK ||
	    dup_into(&o->id_token, ag_json_get_str(d, "id_token")) != AG_OK ||
	    dup_into(&o->refresh_token, ag_json_get_str(d, "refresh_token") !=
	    NULL ? ag_json_get_str(d, "refresh_token") : rt) != AG_OK) {
		r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: out of memory");
		goto out;
	}
	if (o->access_token == NULL ||
	    ag_json_get_int(d, "expires_at", &o->expires_at) != AG_OK) {
		r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: malformed "
		    "outcome");
		goto out;
	}
	memset(&n, 0, sizeof(n));
	n.access_token = o->access_token;
	n.token_type = o->token_type;
	n.scope = o->scope;
	n.requested_scope = o->requested_scope;
	n.audience = o->audience;
	n.id_token = o->id_token;
	n.refresh_token = o->refresh_token;
	n.expires_at = o->expires_at;
	if (claims != NULL) {
		if ((user = ag_session_filter_claims(c, claims)) == NULL) {
			r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: out of "
			    "memory");
			goto out;
		}
	}
	if (ag_token_store(c, s->data, &n, &ch) != AG_OK) {
		r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: cannot store "
		    "the new tokens in the session");
		goto out;
	}
	if (user != NULL) {
		r = ag_json_set(s->data, "user", user);
		user = NULL;
		if (r != AG_OK) {
			r = failf(f, AG_TOKEN_FAILED_REFRESH, "refresh: cannot "
			    "store the user");
			goto out;
		}
		ch = 1;
	}
	*changed = ch;
	r = AG_TOKEN_OK;
out:
	ag_json_free(user);
	ag_json_free(d);
	ag_strfree(rt);
	return r;
}

int
ag_token_get(struct ag_app *app, struct ag_session *s,
    const struct ag_token_req *req, struct ag_token *tok,
    struct ag_token_fail *f)
{
	const struct ag_conf *c = &app->conf;
	struct ag_token_req none;
	struct ag_buf effb;
	struct owned o;
	struct sel sel;
	const char *aud_req, *scope_req, *target, *eff;
	int64_t now = ag_now(), ceiling;
	int r, changed = 0;

	memset(tok, 0, sizeof(*tok));
	memset(f, 0, sizeof(*f));
	memset(&o, 0, sizeof(o));
	ag_buf_init(&effb, MAX_SCOPE);
	if (req == NULL) {
		memset(&none, 0, sizeof(none));
		req = &none;
	}

	/* 1. A session, within the provider's ceiling. */
	if (s == NULL || ag_json_type(s->data) != AG_JSON_OBJECT) {
		r = failf(f, AG_TOKEN_MISSING_SESSION, "no session");
		goto out;
	}
	if (ag_json_get_int(ag_json_get(s->data, "internal"),
	    "sessionExpiresAt", &ceiling) == AG_OK &&
	    now >= ceiling - AG_IPSIE_LEEWAY) {
		r = failf(f, AG_TOKEN_SESSION_EXPIRED, "past the provider's "
		    "session_expiry");
		goto out;
	}

	/* 2. Target audience and effective scope. */
	aud_req = nonempty(req->audience);
	scope_req = empty(req->scope) ? NULL : req->scope;
	target = aud_req != NULL ? aud_req : nonempty(c->audience);
	if (req->no_merge_scopes)
		r = ag_token_scope_union(scope_req, NULL, &effb);
	else
		r = ag_token_scope_union(c->scope, scope_req, &effb);
	if (r != AG_OK) {
		r = failf(f, AG_TOKEN_FAILED_REFRESH, "scope too long");
		goto out;
	}
	eff = effb.len > 0 ? ag_buf_str(&effb) : NULL;

	/* 3. Select. */
	select_set(c, s->data, target, eff, &sel);

	/* 4. No refresh token. */
	if (sel.refresh_token == NULL) {
		if (sel.access_token == NULL) {
			f->message = MSG_NO_TOKEN;
			r = failf(f, AG_TOKEN_MISSING_REFRESH, "no access "
			    "token for audience %.64s and no refresh token",
			    target != NULL ? target : "(default)");
			goto out;
		}
		if (sel.has_exp && sel.expires_at <= now) {
			f->message = MSG_EXPIRED;
			r = failf(f, AG_TOKEN_MISSING_REFRESH, "access token "
			    "expired and no refresh token");
			goto out;
		}
	}

	/* 5. Cached, or refresh. */
	if (sel.refresh_token == NULL || (!req->force_refresh &&
	    sel.access_token != NULL && sel.has_exp &&
	    sel.expires_at > now + c->token_refresh_buffer)) {
		if (dup_into(&o.access_token, sel.access_token) != AG_OK ||
		    dup_into(&o.token_type, sel.token_type) != AG_OK ||
		    dup_into(&o.scope, sel.scope) != AG_OK ||
		    dup_into(&o.audience, sel.audience) != AG_OK) {
			r = failf(f, AG_TOKEN_FAILED_REFRESH, "out of memory");
			goto out;
		}
		o.expires_at = sel.has_exp ? sel.expires_at : 0;
	} else if ((r = refresh(app, s, &sel, aud_req, scope_req, target, eff,
	    &o, &changed, f)) != AG_TOKEN_OK)
		goto out;

	/* 9. Hand out. */
	if (hand_out(&o, tok) != AG_OK) {
		r = failf(f, AG_TOKEN_FAILED_REFRESH, "out of memory");
		goto out;
	}
	tok->session_changed = changed;
	r = AG_TOKEN_OK;
out:
	/* The sealed mfa_token will be bound to this session. */
	if (r == AG_TOKEN_MFA_REQUIRED &&
	    (dup_into(&f->mfa_sid, ag_session_sid(s)) != AG_OK ||
	    dup_into(&f->mfa_sub, ag_json_get_str(ag_session_user(s),
	    "sub")) != AG_OK))
		r = failf(f, AG_TOKEN_FAILED_REFRESH, "out of memory");
	if (r != AG_TOKEN_OK) {
		ag_token_clear(tok);
		/* Keep the data for the caller; session_changed reports it. */
		tok->session_changed = changed;
	}
	owned_clear(&o);
	ag_buf_free(&effb);
	return r;
}

/* ------------------------------------------------------------------ */
/* mfa_required                                                       */

int
ag_token_mfa_body(struct ag_app *app, const struct ag_token_fail *f,
    int64_t now, struct ag_buf *out)
{
	return ag_mfa_required_body(app, f->mfa, f->mfa_audience,
	    f->mfa_scope, f->mfa_sid, f->mfa_sub, now, app->conf.mfa_token_ttl,
	    out);
}
