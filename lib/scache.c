/*
 * scache.c -- the authorizer's per-process cache of verified sessions.
 * See scache.h.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "rand.h"
#include "scache.h"
#include "session.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/* Eight bytes as a little-endian number (one load on x86). */
static uint64_t
le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/*
 * SipHash-1-3 (one compression, three finalisation rounds: the variant
 * Python and Rust hash tables use) of the n bytes at in under the
 * 16-byte key k.  Only a filter in front of the byte comparison: a
 * collision costs one more comparison, never a wrong hit.
 */
static uint64_t
siphash(const unsigned char k[16], const void *in, size_t n)
{
	const unsigned char *p = in, *end = p + (n & ~(size_t)7);
	uint64_t k0 = le64(k), k1 = le64(k + 8), m, b;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	size_t i;

	for (; p != end; p += 8) {
		m = le64(p);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	b = (uint64_t)n << 56;
	for (i = 0; i < (n & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * 1 when the n bytes at a and b are equal, in time that depends on n
 * only: eight bytes a step, no early exit.  (ag_ct_equal's
 * CRYPTO_memcmp goes a byte a step: 15 000 instructions for a 2 KB
 * cookie, on every hit.)
 */
static int
same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y, d = 0;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	for (; i < n; i++)
		d |= (uint64_t)((unsigned char)a[i] ^ (unsigned char)b[i]);
	return d == 0;
}

/* The hash of a key; AG_OK, or AG_ERR_CRYPTO without a random key. */
static int
hash_key(struct ag_scache *c, const char *key, size_t n, uint64_t *h)
{
	if (!c->keyed) {
		if (ag_rand_bytes(c->k, sizeof(c->k)) != AG_OK)
			return AG_ERR_CRYPTO;
		c->keyed = 1;
	}
	*h = c->collide ? 0 : siphash(c->k, key, n);
	return AG_OK;
}

/* Wipe and free one slot's contents; the slot becomes free. */
static void
slot_clear(struct ag_scache_slot *s)
{
	ag_freezero(s->key, s->key_len);
	ag_freezero(s->e.vars, s->e.vars_len);
	ag_strfree(s->e.sid);
	ag_strfree(s->e.sub);
	ag_json_free(s->e.user);
	memset(s, 0, sizeof(*s));
}

/* The slot holding key, or NULL. */
static struct ag_scache_slot *
find(struct ag_scache *c, const char *key, size_t n)
{
	uint64_t h;
	size_t i;

	if (hash_key(c, key, n, &h) != AG_OK)
		return NULL;
	for (i = 0; i < AG_SCACHE_ENTRIES; i++)
		if (c->slot[i].used != 0 && c->slot[i].hash == h &&
		    c->slot[i].key_len == n &&
		    same_bytes(c->slot[i].key, key, n))
			return &c->slot[i];
	return NULL;
}

void
ag_scache_init(struct ag_scache *c)
{
	memset(c, 0, sizeof(*c));
}

const struct ag_scache_entry *
ag_scache_get(struct ag_scache *c, const char *key, size_t n)
{
	struct ag_scache_slot *s;

	if ((s = find(c, key, n)) == NULL)
		return NULL;
	s->used = ++c->tick;
	return &s->e;
}

int
ag_scache_put(struct ag_scache *c, const char *key, size_t n,
    const struct ag_scache_entry *e)
{
	struct ag_scache_slot *s, fresh;
	uint64_t h;
	size_t i;
	int r;

	if (e->sub == NULL || e->vars == NULL ||
	    n > AG_SCACHE_MAX_BYTES || e->vars_len > AG_SCACHE_MAX_BYTES - n)
		return AG_ERR_LIMIT;
	if ((r = hash_key(c, key, n, &h)) != AG_OK)
		return r;
	memset(&fresh, 0, sizeof(fresh));
	fresh.hash = h;
	fresh.key_len = n;
	fresh.e = *e;
	fresh.e.sid = NULL;
	fresh.e.sub = NULL;
	fresh.e.user = NULL;
	fresh.e.vars = NULL;
	if ((fresh.key = malloc(n + 1)) == NULL ||
	    (fresh.e.vars = malloc(e->vars_len + 1)) == NULL ||
	    (fresh.e.sub = ag_strdup(e->sub)) == NULL ||
	    (e->sid != NULL && (fresh.e.sid = ag_strdup(e->sid)) == NULL)) {
		slot_clear(&fresh);
		return AG_ERR_NOMEM;
	}
	memcpy(fresh.key, key, n);
	fresh.key[n] = '\0';
	memcpy(fresh.e.vars, e->vars, e->vars_len);
	fresh.e.vars[e->vars_len] = '\0';
	fresh.e.user = e->user != NULL ? ag_json_ref(e->user) : NULL;
	/* The same key, else a free slot, else the least recently used. */
	if ((s = find(c, key, n)) == NULL) {
		s = &c->slot[0];
		for (i = 0; i < AG_SCACHE_ENTRIES && s->used != 0; i++)
			if (c->slot[i].used < s->used)
				s = &c->slot[i];
	}
	slot_clear(s);
	*s = fresh;
	s->used = ++c->tick;
	return AG_OK;
}

void
ag_scache_drop(struct ag_scache *c, const char *key, size_t n)
{
	struct ag_scache_slot *s;

	if ((s = find(c, key, n)) != NULL)
		slot_clear(s);
}

void
ag_scache_clear(struct ag_scache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < AG_SCACHE_ENTRIES; i++)
		slot_clear(&c->slot[i]);
}

size_t
ag_scache_count(const struct ag_scache *c)
{
	size_t i, n = 0;

	for (i = 0; i < AG_SCACHE_ENTRIES; i++)
		n += c->slot[i].used != 0;
	return n;
}

int
ag_scache_fresh(const struct ag_conf *conf, const struct ag_scache_entry *e,
    int64_t now, int set_cookie)
{
	if (now < e->stored_at)
		return 0;
	/* lib/crypto.c check_times: expired when exp <= now - leeway. */
	if (e->exp <= now - AG_JWE_LEEWAY)
		return 0;
	/* lib/session.c check_data. */
	if (e->created_at + conf->absolute_duration <= now)
		return 0;
	if (e->ceiling != 0 && now >= e->ceiling - AG_IPSIE_LEEWAY)
		return 0;
	/* lib/token.c: handed out as is only when not within the buffer. */
	if (conf->pass_access_token &&
	    (e->token_exp == 0 || e->token_exp <= now +
	    conf->token_refresh_buffer))
		return 0;
	/* lib/protect.c step 3: a rolling touch would be written. */
	if (set_cookie && ag_session_should_roll(conf, e->exp,
	    now + ag_session_max_age(conf, e->created_at, now)))
		return 0;
	return 1;
}
