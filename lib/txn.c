/*
 * txn.c -- transaction cookies.  See txn.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ag_limits.h"
#include "log.h"
#include "rand.h"
#include "txn.h"

int
ag_txn_state_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (n >= 64)
			return 0;
	}
	return n >= 16;
}

static int
put(struct ag_resp *w, const char *name, const char *value,
    const struct ag_cookie_attr *a, int64_t max_age)
{
	struct ag_buf sc;
	int r;

	ag_buf_init(&sc, 8192);
	if ((r = ag_set_cookie(&sc, name, value, a, max_age,
	    ag_now())) == AG_OK)
		r = ag_resp_header(w, "Set-Cookie", ag_buf_str(&sc));
	ag_buf_free(&sc);
	return r;
}

/* The millisecond timestamp in front of a transaction value, or -1. */
static int64_t
stamp(const char *v)
{
	char *end;
	long long t;

	t = strtoll(v, &end, 10);
	if (end == v || *end != ':' || t < 0)
		return -1;
	return t;
}

/* Size of a cookie as the browser sends it back ("name=value; "). */
static size_t
cookie_size(const struct ag_cookie *c)
{
	return strlen(c->name) + 1 + strlen(c->value) + 2;
}

int
ag_txn_write(const struct ag_app *app, const struct ag_cookies *jar,
    ag_json *txn, struct ag_resp *w)
{
	struct ag_cookie_attr a;
	struct ag_buf val, name;
	const char *state = ag_json_get_str(txn, "state");
	char *evicted;
	size_t i, total, plen = strlen(AG_TXN_PREFIX);
	int64_t now = ag_now();
	int r;

	if (!ag_txn_state_ok(state))
		return AG_ERR_PARSE;
	ag_app_cookie_attr(app, &a);
	a.transient = 0;
	ag_buf_init(&val, AG_TXN_TOTAL_MAX * 2);
	ag_buf_init(&name, 128);
	if ((evicted = calloc(jar->n + 1, 1)) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	if ((r = ag_buf_printf(&val, "%" PRId64 ":", ag_now_ms())) != AG_OK ||
	    (r = ag_seal(app->key, txn, now + AG_TXN_MAX_AGE, &val)) != AG_OK ||
	    (r = ag_buf_printf(&name, "%s%s", AG_TXN_PREFIX, state)) != AG_OK)
		goto out;

	/* Oldest first out, until everything fits; ours always stays. */
	for (;;) {
		size_t oldest = SIZE_MAX;
		int64_t oldest_t = INT64_MAX, t;

		total = name.len + 1 + val.len + 2;
		for (i = 0; i < jar->n; i++) {
			if (evicted[i] ||
			    strncmp(jar->v[i].name, AG_TXN_PREFIX, plen) != 0 ||
			    strcmp(jar->v[i].name, ag_buf_str(&name)) == 0)
				continue;
			total += cookie_size(&jar->v[i]);
			/* Unstamped (older format, garbage) go first. */
			t = stamp(jar->v[i].value);
			if (t < oldest_t) {
				oldest_t = t;
				oldest = i;
			}
		}
		if (total <= AG_TXN_TOTAL_MAX || oldest == SIZE_MAX)
			break;
		evicted[oldest] = 1;
		if ((r = put(w, jar->v[oldest].name, "", &a, 0)) != AG_OK)
			goto out;
		ag_debug("login: evicted an old transaction cookie");
	}
	r = put(w, ag_buf_str(&name), ag_buf_str(&val), &a, AG_TXN_MAX_AGE);
out:
	free(evicted);
	ag_buf_free(&val);
	ag_buf_free(&name);
	return r;
}

int
ag_txn_read(const struct ag_app *app, const struct ag_cookies *jar,
    const char *state, ag_json **out)
{
	char name[128];
	const char *v, *colon;
	const char *s;
	ag_json *txn = NULL;
	int r;

	*out = NULL;
	if (!ag_txn_state_ok(state))
		return AG_ERR_NOTFOUND;
	snprintf(name, sizeof(name), "%s%s", AG_TXN_PREFIX, state);
	if ((v = ag_cookies_get(jar, name)) == NULL)
		return AG_ERR_NOTFOUND;
	/* "<ms>:<jwe>"; a bare JWE (the SDK before 4.29) is read too. */
	if ((colon = strchr(v, ':')) != NULL && stamp(v) >= 0)
		v = colon + 1;
	if ((r = ag_unseal(app->key, v, strlen(v), ag_now(), &txn)) != AG_OK) {
		ag_debug("callback: transaction cookie refused: %s",
		    ag_strerror(r));
		return AG_ERR_NOTFOUND;
	}
	s = ag_json_get_str(txn, "state");
	if (s == NULL || !ag_ct_equal(s, strlen(s), state, strlen(state))) {
		ag_json_free(txn);
		return AG_ERR_NOTFOUND;
	}
	*out = txn;
	return AG_OK;
}

int
ag_txn_delete(const struct ag_app *app, const char *state, struct ag_resp *w)
{
	struct ag_cookie_attr a;
	char name[128];

	if (!ag_txn_state_ok(state))
		return AG_OK;
	ag_app_cookie_attr(app, &a);
	snprintf(name, sizeof(name), "%s%s", AG_TXN_PREFIX, state);
	return put(w, name, "", &a, 0);
}

int
ag_txn_delete_all(const struct ag_app *app, const struct ag_cookies *jar,
    struct ag_resp *w)
{
	struct ag_cookie_attr a;
	size_t i, plen = strlen(AG_TXN_PREFIX);
	int r = AG_OK;

	ag_app_cookie_attr(app, &a);
	for (i = 0; i < jar->n && r == AG_OK; i++)
		if (strncmp(jar->v[i].name, AG_TXN_PREFIX, plen) == 0)
			r = put(w, jar->v[i].name, "", &a, 0);
	return r;
}
