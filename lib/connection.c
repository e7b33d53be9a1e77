/*
 * connection.c -- Token Vault connection tokens and the __FC_<n>
 * cookies.  See connection.h; reference sections 2.8 and 11.1.
 *
 * Decisions where the SDK was not followed to the letter:
 *  - connectionTokenSets holds at most AG_MAX_CONNECTION_SETS entries
 *    (the SDK has no cap); a new entry past it replaces the one that
 *    expires first.  An entry whose __FC cookie would exceed
 *    AG_FC_COOKIE_MAX bytes is not written (the SDK writes it and
 *    warns; browsers may drop it anyway): the token is still handed
 *    out, only not cached.
 *  - A grant answer without expires_in is handed out but not cached
 *    (the SDK stores expiresAt NaN, which never matches again).
 *  - Connection names and login hints are validated and bounded.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "connection.h"
#include "crypto.h"
#include "err.h"
#include "log.h"
#include "rand.h"
#include "url.h"

#define MAX_FORM	(64 * 1024)
#define SETS		"connectionTokenSets"
/* The session an __FC_<n> entry was written for (ignored by the SDK). */
#define FC_SUB		"sub"
#define FC_SID		"sid"

static const char *const codes[AG_CONN__MAX][2] = {
	{ "ok", "" },
	{ "missing_session", "The user does not have an active session." },
	{ "missing_refresh_token", "A refresh token was not present, "
	    "Connection Access Token requires a refresh token. The user "
	    "needs to re-authenticate." },
	{ "failed_to_exchange_refresh_token", "There was an error trying to "
	    "exchange the refresh token for a connection access token." },
	{ "discovery_error", "Discovery failed for the OpenID Connect "
	    "configuration." },
	{ "invalid_request", "The connection or login_hint parameter is "
	    "missing or malformed." },
};

const char *
ag_conn_code(int err)
{
	return err >= 0 && err < AG_CONN__MAX ? codes[err][0] : "unknown_error";
}

const char *
ag_conn_message(int err)
{
	return err >= 0 && err < AG_CONN__MAX ? codes[err][1] :
	    "An unknown error occurred.";
}

int
ag_connection_name_ok(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > AG_MAX_CONNECTION_NAME)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return 0;
	return 1;
}

int
ag_login_hint_ok(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > AG_MAX_LOGIN_HINT)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
failf(struct ag_conn_fail *f, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
failf(struct ag_conn_fail *f, int err, const char *fmt, ...)
{
	va_list ap;

	f->err = err;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return err;
}

/* 1 when entry e is well-formed: what the readers rely on. */
static int
entry_ok(const ag_json *e)
{
	int64_t t;

	return ag_json_type(e) == AG_JSON_OBJECT &&
	    ag_json_get_str(e, "accessToken") != NULL &&
	    ag_connection_name_ok(ag_json_get_str(e, "connection")) &&
	    ag_json_get_int(e, "expiresAt", &t) == AG_OK;
}

/* The index of the entry of r's connection and hint in sets, or -1. */
static long
find_entry(const ag_json *sets, const struct ag_conn_req *r)
{
	const ag_json *e;
	const char *hint;
	size_t i, n = ag_json_array_len(sets);

	for (i = 0; i < n; i++) {
		e = ag_json_array_get(sets, i);
		if (!entry_ok(e) || strcmp(ag_json_get_str(e, "connection"),
		    r->connection) != 0)
			continue;
		hint = ag_json_get_str(e, "loginHint");
		if (r->login_hint != NULL ? hint != NULL &&
		    strcmp(hint, r->login_hint) == 0 : hint == NULL ||
		    *hint == '\0')
			return (long)i;
	}
	return -1;
}

/*
 * A copy of sets without index skip (-1: none), with add appended
 * (NULL: nothing; taken), at most AG_MAX_CONNECTION_SETS entries: the
 * ones expiring first are left out.  NULL on allocation failure.
 */
static ag_json *
rebuilt(const ag_json *sets, long skip, ag_json *add)
{
	ag_json *out, *e;
	size_t i, n = ag_json_array_len(sets), keep, count = 0;
	int64_t t, cut = INT64_MIN;

	if ((out = ag_json_array()) == NULL) {
		ag_json_free(add);
		return NULL;
	}
	/* How many old entries fit: drop those expiring first. */
	for (i = 0; i < n; i++)
		if ((long)i != skip && entry_ok(ag_json_array_get(sets, i)))
			count++;
	keep = AG_MAX_CONNECTION_SETS - (add != NULL ? 1 : 0);
	while (count > keep) {
		int64_t min = INT64_MAX;

		for (i = 0; i < n; i++) {
			e = ag_json_array_get(sets, i);
			if ((long)i == skip || !entry_ok(e))
				continue;
			(void)ag_json_get_int(e, "expiresAt", &t);
			if (t > cut && t < min)
				min = t;
		}
		cut = min;
		count = 0;
		for (i = 0; i < n; i++) {
			e = ag_json_array_get(sets, i);
			if ((long)i != skip && entry_ok(e) &&
			    ag_json_get_int(e, "expiresAt", &t) == AG_OK &&
			    t > cut)
				count++;
		}
	}
	for (i = 0; i < n; i++) {
		e = ag_json_array_get(sets, i);
		if ((long)i == skip || !entry_ok(e) ||
		    (ag_json_get_int(e, "expiresAt", &t) == AG_OK && t <= cut))
			continue;
		if (ag_json_array_add(out, ag_json_copy(e)) != AG_OK)
			goto fail;
	}
	if (add != NULL) {
		e = add;
		add = NULL;
		if (ag_json_array_add(out, e) != AG_OK)
			goto fail;
	}
	return out;
fail:
	ag_json_free(add);
	ag_json_free(out);
	return NULL;
}

/* data's connectionTokenSets := sets (taken); removed when empty. */
static int
put_sets(ag_json *data, ag_json *sets)
{
	if (sets == NULL)
		return AG_ERR_NOMEM;
	if (ag_json_array_len(sets) == 0) {
		ag_json_free(sets);
		ag_json_del(data, SETS);
		return AG_OK;
	}
	return ag_json_set(data, SETS, sets);
}

int
ag_connection_prune(ag_json *data, const char *connection, int *changed)
{
	ag_json *sets = ag_json_get(data, SETS), *out;
	const ag_json *e;
	size_t i, n = ag_json_array_len(sets);

	*changed = 0;
	if (sets == NULL)
		return AG_OK;
	if ((out = ag_json_array()) == NULL)
		return AG_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		e = ag_json_array_get(sets, i);
		if (entry_ok(e) && strcmp(ag_json_get_str(e, "connection"),
		    connection) == 0) {
			*changed = 1;
			continue;
		}
		if (ag_json_array_add(out, ag_json_copy((ag_json *)e)) !=
		    AG_OK) {
			ag_json_free(out);
			return AG_ERR_NOMEM;
		}
	}
	if (!*changed) {
		ag_json_free(out);
		return AG_OK;
	}
	return put_sets(data, out);
}

/* Hand out entry e (strings copied into tok). */
static int
hand_out(const ag_json *e, struct ag_token *tok)
{
	const char *scope = ag_json_get_str(e, "scope");

	if ((tok->access_token = ag_strdup(ag_json_get_str(e,
	    "accessToken"))) == NULL ||
	    (scope != NULL && (tok->scope = ag_strdup(scope)) == NULL))
		return AG_ERR_NOMEM;
	(void)ag_json_get_int(e, "expiresAt", &tok->expires_at);
	return AG_OK;
}

/*
 * The federated-connection grant (reference 11.1); *out the new entry
 * (NULL when the answer had no expires_in: tok alone is filled).
 * AG_CONN_OK or an enum ag_conn_err with f filled.
 */
static int
exchange(struct ag_app *app, const struct ag_conn_req *r,
    const char *subject, struct ag_token *tok, ag_json **out,
    struct ag_conn_fail *f)
{
	const struct ag_provider *p;
	struct ag_tokens t;
	struct ag_oauth_error e;
	struct ag_buf form;
	char why[AG_WHY_LEN] = "";
	ag_json *entry = NULL;
	int64_t now = ag_now();
	int rc;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	memset(&e, 0, sizeof(e));
	ag_buf_init(&form, MAX_FORM);
	if (ag_oidc_provider(app->oidc, &p, why) != AG_OK) {
		rc = failf(f, AG_CONN_DISCOVERY, "%s", why);
		goto out;
	}
	if (ag_form_add(&form, "grant_type", AG_FCAT_GRANT_TYPE) != AG_OK ||
	    ag_form_add(&form, "connection", r->connection) != AG_OK ||
	    ag_form_add(&form, "subject_token_type", r->subject_access_token ?
	    AG_SUBJECT_ACCESS_TOKEN : AG_SUBJECT_REFRESH_TOKEN) != AG_OK ||
	    ag_form_add(&form, "subject_token", subject) != AG_OK ||
	    ag_form_add(&form, "requested_token_type",
	    AG_FCAT_REQUESTED_TYPE) != AG_OK ||
	    (r->login_hint != NULL && ag_form_add(&form, "login_hint",
	    r->login_hint) != AG_OK)) {
		rc = failf(f, AG_CONN_FAILED_EXCHANGE, "connection token: "
		    "the request is too large");
		goto out;
	}
	if ((rc = ag_oidc_token(app->oidc, ag_buf_str(&form), &t, &e,
	    why)) != AG_OK) {
		snprintf(f->error, sizeof(f->error), "%s", e.error[0] !=
		    '\0' ? e.error : "unknown_error");
		rc = failf(f, AG_CONN_FAILED_EXCHANGE, "connection %s: %s",
		    r->connection, why);
		goto out;
	}
	rc = failf(f, AG_CONN_FAILED_EXCHANGE, "out of memory");
	if ((tok->access_token = ag_strdup(t.access_token)) == NULL ||
	    (t.scope != NULL && (tok->scope = ag_strdup(t.scope)) == NULL))
		goto out;
	tok->expires_at = now + (t.expires_in >= 0 ? t.expires_in : 0);
	if (t.expires_in <= 0) {
		ag_info("connection %s: no expires_in in the answer; the token "
		    "is not cached", r->connection);
		rc = AG_OK;
		goto out;
	}
	if ((entry = ag_json_object()) == NULL ||
	    ag_json_set_str(entry, "accessToken", t.access_token) != AG_OK ||
	    (t.scope != NULL && ag_json_set_str(entry, "scope", t.scope) !=
	    AG_OK) ||
	    ag_json_set_int(entry, "expiresAt", tok->expires_at) != AG_OK ||
	    ag_json_set_str(entry, "connection", r->connection) != AG_OK ||
	    (r->login_hint != NULL && ag_json_set_str(entry, "loginHint",
	    r->login_hint) != AG_OK))
		goto out;
	*out = entry;
	entry = NULL;
	rc = AG_OK;
out:
	ag_json_free(entry);
	ag_tokens_clear(&t);
	ag_oauth_error_clear(&e);
	ag_buf_free(&form);
	return rc;
}

int
ag_connection_token(struct ag_app *app, struct ag_session *s,
    const struct ag_conn_req *r, struct ag_token *tok, struct ag_conn_fail *f)
{
	ag_json *sets, *entry = NULL;
	const ag_json *cached = NULL;
	const char *subject;
	int64_t exp = 0;
	long idx;
	int rc;

	memset(tok, 0, sizeof(*tok));
	memset(f, 0, sizeof(*f));
	if (s == NULL || s->data == NULL)
		return failf(f, AG_CONN_MISSING_SESSION, "no session");
	if (!ag_connection_name_ok(r->connection) ||
	    (r->login_hint != NULL && !ag_login_hint_ok(r->login_hint)))
		return failf(f, AG_CONN_INVALID_REQUEST, "bad connection or "
		    "login_hint");
	sets = ag_json_get(s->data, SETS);
	if ((idx = find_entry(sets, r)) >= 0)
		cached = ag_json_array_get(sets, (size_t)idx);
	if (cached != NULL && ag_json_get_int(cached, "expiresAt", &exp) ==
	    AG_OK && exp > ag_now()) {
		if (hand_out(cached, tok) != AG_OK) {
			ag_token_clear(tok);
			return failf(f, AG_CONN_FAILED_EXCHANGE, "out of "
			    "memory");
		}
		return AG_CONN_OK;
	}
	subject = ag_session_token(s, r->subject_access_token ?
	    "accessToken" : "refreshToken");
	if (ag_session_token(s, "refreshToken") == NULL || subject == NULL)
		return failf(f, AG_CONN_MISSING_REFRESH, "connection %s: no "
		    "refresh token in the session", r->connection);
	rc = exchange(app, r, subject, tok, &entry, f);
	if (rc != AG_OK) {
		ag_token_clear(tok);
		/* The SDK drops the stale entry of a failed exchange. */
		if (rc == AG_CONN_FAILED_EXCHANGE && idx >= 0 &&
		    put_sets(s->data, rebuilt(sets, idx, NULL)) == AG_OK)
			tok->session_changed = 1;
		return rc;
	}
	if (entry != NULL) {
		if (put_sets(s->data, rebuilt(sets, idx, entry)) != AG_OK) {
			ag_token_clear(tok);
			return failf(f, AG_CONN_FAILED_EXCHANGE, "out of "
			    "memory");
		}
		tok->session_changed = 1;
	}
	return AG_CONN_OK;
}

/* ------------------------------------------------------------------ */
/* __FC_<n> cookies                                                    */

/* The index of "__FC_<digits>" (no leading zero), or -1. */
static int
fc_index(const char *name)
{
	return ag_cookie_index(name, AG_FC_PREFIX);
}

/* 1 when a and b are both NULL or equal strings. */
static int
same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/*
 * 1 when the unsealed entry e was written for the session of data: its
 * sub is the user's and its sid the session's (both absent or equal).
 * An entry without sub (written by the SDK, which does not bind them)
 * is refused too.  The binding members are removed from e.
 */
static int
fc_bound(ag_json *e, const ag_json *data)
{
	const char *sub, *sid;
	int ok;

	sub = ag_json_get_str(ag_json_get(data, "user"), "sub");
	sid = ag_json_get_str(ag_json_get(data, "internal"), "sid");
	ok = sub != NULL && same_str(sub, ag_json_get_str(e, FC_SUB)) &&
	    same_str(sid, ag_json_get_str(e, FC_SID));
	ag_json_del(e, FC_SUB);
	ag_json_del(e, FC_SID);
	return ok;
}

int
ag_fc_read(const struct ag_app *app, const struct ag_cookies *jar,
    ag_json *data, int64_t now)
{
	const char *parts[AG_MAX_CONNECTION_SETS];
	ag_json *sets = NULL, *e;
	size_t i;
	int idx, r, foreign = 0;

	memset(parts, 0, sizeof(parts));
	for (i = 0; i < jar->n; i++) {
		idx = fc_index(jar->v[i].name);
		if (idx < 0 || idx >= AG_MAX_CONNECTION_SETS)
			continue;
		if (parts[idx] == NULL)
			parts[idx] = jar->v[i].value;
	}
	for (i = 0; i < AG_MAX_CONNECTION_SETS; i++) {
		if (parts[i] == NULL || strlen(parts[i]) > AG_FC_COOKIE_MAX)
			continue;
		e = NULL;
		if (ag_unseal(app->key, parts[i], strlen(parts[i]), now,
		    &e) != AG_OK || !entry_ok(e)) {
			ag_debug("session: %s%zu refused", AG_FC_PREFIX, i);
			ag_json_free(e);
			continue;
		}
		if (!fc_bound(e, data)) {
			foreign++;
			ag_json_free(e);
			continue;
		}
		ag_json_del(e, "exp");
		if (sets == NULL && (sets = ag_json_array()) == NULL) {
			ag_json_free(e);
			return AG_ERR_NOMEM;
		}
		if ((r = ag_json_array_add(sets, e)) != AG_OK) {
			ag_json_free(sets);
			return r;
		}
	}
	if (foreign > 0)
		ag_info("session: %d %s cookie(s) of another session (or of "
		    "none) ignored", foreign, AG_FC_PREFIX);
	return sets != NULL ? ag_json_set(data, SETS, sets) : AG_OK;
}

/* Delete every __FC_<n> of jar with n >= from. */
static int
fc_delete(const struct ag_app *app, const struct ag_cookies *jar, int from,
    struct ag_resp *w)
{
	struct ag_cookie_attr a;
	size_t i;
	int r;

	ag_app_cookie_attr(app, &a);
	for (i = 0; i < jar->n; i++) {
		if (fc_index(jar->v[i].name) < from)
			continue;
		if ((r = ag_session_put_cookie(w, jar->v[i].name, "", &a, 0,
		    ag_now())) != AG_OK)
			return r;
	}
	return AG_OK;
}

/*
 * A copy of entry e bound to the session of data (its sub and sid), for
 * sealing into a cookie; NULL when out of memory.
 */
static ag_json *
fc_binding(ag_json *e, const ag_json *data)
{
	const char *sub, *sid;
	ag_json *c;

	sub = ag_json_get_str(ag_json_get(data, "user"), "sub");
	sid = ag_json_get_str(ag_json_get(data, "internal"), "sid");
	if ((c = ag_json_copy(e)) == NULL ||
	    (sub != NULL && ag_json_set_str(c, FC_SUB, sub) != AG_OK) ||
	    (sid != NULL && ag_json_set_str(c, FC_SID, sid) != AG_OK)) {
		ag_json_free(c);
		return NULL;
	}
	return c;
}

int
ag_fc_write(const struct ag_app *app, const struct ag_cookies *jar,
    const ag_json *data, ag_json *sets, int64_t max_age, int64_t now,
    struct ag_resp *w)
{
	struct ag_cookie_attr a;
	struct ag_buf sealed;
	char name[32];
	size_t i, n = ag_json_array_len(sets);
	int written = 0, r = AG_OK;
	ag_json *bound;

	ag_app_cookie_attr(app, &a);
	ag_buf_init(&sealed, AG_MAX_SESSION_JSON);
	for (i = 0; i < n && written < AG_MAX_CONNECTION_SETS; i++) {
		ag_json *e = ag_json_array_get(sets, i);

		if (!entry_ok(e))
			continue;
		ag_buf_reset(&sealed);
		if ((bound = fc_binding(e, data)) == NULL) {
			r = AG_ERR_NOMEM;
			goto out;
		}
		r = ag_seal(app->key, bound, now + max_age, &sealed);
		ag_json_free(bound);
		if (r != AG_OK)
			goto out;
		if (sealed.len > AG_FC_COOKIE_MAX) {
			ag_warn("session: the token of connection %s needs %zu "
			    "bytes, more than the %d of one cookie; not kept "
			    "(use session.store = sqlite)",
			    ag_json_get_str(e, "connection"), sealed.len,
			    AG_FC_COOKIE_MAX);
			continue;
		}
		snprintf(name, sizeof(name), "%s%d", AG_FC_PREFIX, written);
		if ((r = ag_session_put_cookie(w, name, ag_buf_str(&sealed), &a, max_age,
		    now)) != AG_OK)
			goto out;
		written++;
	}
	r = fc_delete(app, jar, written, w);
out:
	ag_buf_free(&sealed);
	return r;
}

int
ag_fc_clear(const struct ag_app *app, const struct ag_cookies *jar,
    struct ag_resp *w)
{
	return fc_delete(app, jar, 0, w);
}
