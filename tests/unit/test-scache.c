/*
 * test-scache.c -- lib/scache.c: the authorizer's cache of verified
 * sessions.  Lookups (hit, miss, one byte off, prefix), the comparison
 * of the bytes when every hash collides, least-recently-used eviction,
 * drop and clear, the size limit, and ag_scache_fresh's time checks at
 * and one past each bound.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "conf.h"
#include "err.h"
#include "json.h"
#include "scache.h"
#include "tap.h"

#define T0	1700000000LL
#define USER	"{\"sub\":\"alice\",\"roles\":[\"a\"]}"

/* An entry for sub with variables "Variable-REMOTE_USER: <sub>\r\n". */
static void
entry(struct ag_scache_entry *e, char *sub, char *vars, size_t cap)
{
	memset(e, 0, sizeof(*e));
	snprintf(vars, cap, "Variable-REMOTE_USER: %s\r\n", sub);
	e->exp = T0 + 3600;
	e->created_at = T0;
	e->stored_at = T0;
	e->sid = NULL;
	e->sub = sub;
	e->vars = vars;
	e->vars_len = strlen(vars);
}

/* Key i: a 2 KB cookie-like string that differs from the others at its end. */
static void
key(char *k, size_t cap, int i)
{
	memset(k, 'A', cap - 1);
	k[cap - 1] = '\0';
	snprintf(k + cap - 8, 8, "%07d", i);
}

static void
test_lookup(int collide)
{
	struct ag_scache c;
	struct ag_scache_entry e;
	const struct ag_scache_entry *g;
	char k[2048], k2[2048], vars[128], sub[] = "alice", sid[] = "sid-1";
	ag_json *user;
	const char *what = collide ? " (every hash collides)" : "";
	char name[160];
	int r;

	ag_scache_init(&c);
	c.collide = collide;
	key(k, sizeof(k), 1);
	snprintf(name, sizeof(name), "empty: a miss%s", what);
	ok(ag_scache_get(&c, k, strlen(k)) == NULL, name);

	entry(&e, sub, vars, sizeof(vars));
	e.sid = sid;
	e.ceiling = T0 + 7200;
	e.token_exp = T0 + 300;
	if (ag_json_parse_object(USER, strlen(USER), 1024, &user) != AG_OK)
		user = NULL;
	ok(user != NULL, "the claims parsed");
	e.user = user;
	r = ag_scache_put(&c, k, strlen(k), &e);
	snprintf(name, sizeof(name), "put: AG_OK%s", what);
	is_int(r, AG_OK, name);
	/* The caller's copies may go: the entry keeps its own. */
	ag_json_free(user);
	memset(vars, 'x', sizeof(vars) - 1);
	sub[0] = 'X';
	sid[0] = 'X';
	g = ag_scache_get(&c, k, strlen(k));
	snprintf(name, sizeof(name), "the same bytes: a hit%s", what);
	ok(g != NULL, name);
	if (g != NULL) {
		is_str(g->sub, "alice", "sub copied");
		is_str(g->sid, "sid-1", "sid copied");
		is_str(g->vars, "Variable-REMOTE_USER: alice\r\n",
		    "variables copied");
		is_int(g->vars_len, strlen("Variable-REMOTE_USER: alice\r\n"),
		    "variables' length");
		is_int(g->exp, T0 + 3600, "exp");
		is_int(g->created_at, T0, "createdAt");
		is_int(g->ceiling, T0 + 7200, "ceiling");
		is_int(g->token_exp, T0 + 300, "token expiry");
		is_str(ag_json_get_str(g->user, "sub"), "alice",
		    "the claims outlive the caller's reference");
	}

	/* One byte off, shorter, longer: misses. */
	memcpy(k2, k, sizeof(k));
	k2[sizeof(k) - 2] ^= 1;
	snprintf(name, sizeof(name), "last byte differs: a miss%s", what);
	ok(ag_scache_get(&c, k2, strlen(k2)) == NULL, name);
	k2[sizeof(k) - 2] ^= 1;
	k2[0] = 'B';
	snprintf(name, sizeof(name), "first byte differs: a miss%s", what);
	ok(ag_scache_get(&c, k2, strlen(k2)) == NULL, name);
	snprintf(name, sizeof(name), "a prefix: a miss%s", what);
	ok(ag_scache_get(&c, k, strlen(k) - 1) == NULL, name);
	snprintf(name, sizeof(name), "empty key: a miss%s", what);
	ok(ag_scache_get(&c, k, 0) == NULL, name);

	/* A second key: both found, each its own. */
	key(k2, sizeof(k2), 2);
	sub[0] = 'b';
	entry(&e, sub, vars, sizeof(vars));
	is_int(ag_scache_put(&c, k2, strlen(k2), &e), AG_OK, "a second put");
	g = ag_scache_get(&c, k2, strlen(k2));
	snprintf(name, sizeof(name), "the second key finds its entry%s", what);
	ok(g != NULL && strcmp(g->sub, "blice") == 0, name);
	g = ag_scache_get(&c, k, strlen(k));
	snprintf(name, sizeof(name), "the first key still its own%s", what);
	ok(g != NULL && strcmp(g->sub, "alice") == 0, name);
	is_int(ag_scache_count(&c), 2, "two entries");

	/* The same key again replaces. */
	sub[0] = 'c';
	entry(&e, sub, vars, sizeof(vars));
	is_int(ag_scache_put(&c, k, strlen(k), &e), AG_OK, "put again");
	is_int(ag_scache_count(&c), 2, "replaced, not added");
	g = ag_scache_get(&c, k, strlen(k));
	ok(g != NULL && strcmp(g->sub, "clice") == 0, "the new entry");

	/* Drop: gone and the slot empty (its memory wiped and freed). */
	ag_scache_drop(&c, k, strlen(k));
	ok(ag_scache_get(&c, k, strlen(k)) == NULL, "dropped: a miss");
	is_int(ag_scache_count(&c), 1, "one left");
	ag_scache_drop(&c, k, strlen(k));
	is_int(ag_scache_count(&c), 1, "dropping a missing key changes nothing");
	ag_scache_clear(&c);
	is_int(ag_scache_count(&c), 0, "cleared");
	ok(ag_scache_get(&c, k2, strlen(k2)) == NULL, "cleared: a miss");
}

static void
test_eviction(void)
{
	struct ag_scache c;
	struct ag_scache_entry e;
	char k[256], vars[128], sub[] = "user";
	int i, all = 1;

	ag_scache_init(&c);
	entry(&e, sub, vars, sizeof(vars));
	for (i = 0; i < AG_SCACHE_ENTRIES; i++) {
		key(k, sizeof(k), i);
		if (ag_scache_put(&c, k, strlen(k), &e) != AG_OK)
			all = 0;
	}
	ok(all, "AG_SCACHE_ENTRIES puts");
	is_int(ag_scache_count(&c), AG_SCACHE_ENTRIES, "full");
	/* Key 0 used again: key 1 is now the least recently used. */
	key(k, sizeof(k), 0);
	ok(ag_scache_get(&c, k, strlen(k)) != NULL, "key 0 hit");
	key(k, sizeof(k), AG_SCACHE_ENTRIES);
	is_int(ag_scache_put(&c, k, strlen(k), &e), AG_OK, "one more put");
	is_int(ag_scache_count(&c), AG_SCACHE_ENTRIES, "still full, not more");
	ok(ag_scache_get(&c, k, strlen(k)) != NULL, "the newest is held");
	key(k, sizeof(k), 1);
	ok(ag_scache_get(&c, k, strlen(k)) == NULL,
	    "the least recently used (key 1) was evicted");
	key(k, sizeof(k), 0);
	ok(ag_scache_get(&c, k, strlen(k)) != NULL,
	    "the recently used key 0 was kept");
	for (all = 1, i = 2; i < AG_SCACHE_ENTRIES; i++) {
		key(k, sizeof(k), i);
		if (ag_scache_get(&c, k, strlen(k)) == NULL)
			all = 0;
	}
	ok(all, "the others were kept");
	ag_scache_clear(&c);
	ag_scache_clear(NULL);
	ok(1, "ag_scache_clear(NULL)");
}

static void
test_limits(void)
{
	struct ag_scache c;
	struct ag_scache_entry e;
	char *big, vars[128], sub[] = "alice";
	size_t n = AG_SCACHE_MAX_BYTES;

	ag_scache_init(&c);
	if ((big = malloc(n + 1)) == NULL) {
		ok(0, "malloc");
		return;
	}
	memset(big, 'k', n);
	big[n] = '\0';
	entry(&e, sub, vars, sizeof(vars));
	/* key + variables at the bound, and one past it. */
	is_int(ag_scache_put(&c, big, n - e.vars_len, &e), AG_OK,
	    "key + variables = AG_SCACHE_MAX_BYTES: stored");
	is_int(ag_scache_put(&c, big, n - e.vars_len + 1, &e), AG_ERR_LIMIT,
	    "one byte more: not stored");
	is_int(ag_scache_put(&c, big, n + 1, &e), AG_ERR_LIMIT,
	    "a key over the bound alone: not stored");
	is_int(ag_scache_count(&c), 1, "only the first");
	e.sub = NULL;
	is_int(ag_scache_put(&c, "k", 1, &e), AG_ERR_LIMIT, "no sub: refused");
	e.sub = sub;
	e.vars = NULL;
	is_int(ag_scache_put(&c, "k", 1, &e), AG_ERR_LIMIT,
	    "no variables: refused");
	ag_scache_clear(&c);
	free(big);
}

static void
test_fresh(void)
{
	struct ag_conf conf;
	struct ag_scache_entry e;
	char vars[128], sub[] = "alice";
	int64_t now = T0 + 100;

	memset(&conf, 0, sizeof(conf));
	conf.rolling = 1;
	conf.absolute_duration = 7200;
	conf.inactivity_duration = 3600;
	entry(&e, sub, vars, sizeof(vars));

	ok(ag_scache_fresh(&conf, &e, now, 0), "fresh");
	ok(!ag_scache_fresh(&conf, &e, T0 - 1, 0),
	    "the clock behind the time it was stored: not used");

	/* The cookie's exp, with the JWE leeway. */
	e.exp = now - AG_JWE_LEEWAY + 1;
	ok(ag_scache_fresh(&conf, &e, now, 0), "exp within the leeway: fresh");
	e.exp = now - AG_JWE_LEEWAY;
	ok(!ag_scache_fresh(&conf, &e, now, 0),
	    "exp = now - leeway: expired (inactivity)");
	e.exp = T0 + 3600;

	/* createdAt + absolute duration (exp later: a longer inactivity). */
	e.exp = T0 + 9000;
	ok(ag_scache_fresh(&conf, &e, T0 + 7199, 0),
	    "one second before the absolute duration: fresh");
	ok(!ag_scache_fresh(&conf, &e, T0 + 7200, 0),
	    "at createdAt + absolute duration: expired");

	/* The provider's ceiling. */
	e.ceiling = now + AG_IPSIE_LEEWAY + 1;
	ok(ag_scache_fresh(&conf, &e, now, 0), "before the ceiling's margin");
	e.ceiling = now + AG_IPSIE_LEEWAY;
	ok(!ag_scache_fresh(&conf, &e, now, 0), "within the ceiling's margin");
	e.ceiling = 0;

	/* wrap.pass_access_token: a token of known, not-near expiry. */
	conf.pass_access_token = 1;
	conf.token_refresh_buffer = 60;
	e.token_exp = 0;
	ok(!ag_scache_fresh(&conf, &e, now, 0),
	    "pass_access_token without a token: full path");
	e.token_exp = now + 60;
	ok(!ag_scache_fresh(&conf, &e, now, 0),
	    "token within the refresh buffer: full path");
	e.token_exp = now + 61;
	ok(ag_scache_fresh(&conf, &e, now, 0), "token past the buffer: fresh");
	conf.pass_access_token = 0;
	e.token_exp = 0;
	ok(ag_scache_fresh(&conf, &e, now, 0),
	    "no pass_access_token: the token does not matter");

	/* Set-Cookie reaches the browser: no hit when a roll is due. */
	e.exp = now + 3600;
	ok(ag_scache_fresh(&conf, &e, now, 1), "set_cookie, nothing to roll");
	e.exp = now + 3600 - 60;
	ok(!ag_scache_fresh(&conf, &e, now, 1), "set_cookie, a roll due");
	ok(ag_scache_fresh(&conf, &e, now, 0),
	    "without set_cookie the authorizer never rolls");
	conf.rolling = 0;
	ok(ag_scache_fresh(&conf, &e, now, 1), "not rolling: nothing due");
}

int
main(void)
{
	test_lookup(0);
	test_lookup(1);
	test_eviction();
	test_limits();
	test_fresh();
	return tap_done();
}
