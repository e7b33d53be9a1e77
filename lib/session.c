/*
 * session.c -- SessionData, expiry, the chunked session cookie.
 * See session.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connection.h"
#include "db.h"
#include "err.h"
#include "ag_limits.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "session.h"

int64_t
ag_session_max_age(const struct ag_conf *c, int64_t created_at, int64_t now)
{
	int64_t end, abs_end;

	abs_end = created_at + c->absolute_duration;
	end = abs_end;
	if (c->rolling && now + c->inactivity_duration < abs_end)
		end = now + c->inactivity_duration;
	return end > now ? end - now : 0;
}

int
ag_session_should_roll(const struct ag_conf *c, int64_t cur_exp,
    int64_t new_exp)
{
	int64_t step = c->inactivity_duration / 10;

	if (!c->rolling)
		return 0;
	if (step > 60)
		step = 60;
	return new_exp - cur_exp >= step;
}

/* The chunk index of "<name>__<digits>", or -1. */
static int
chunk_index(const char *cookie, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(cookie, name, n) != 0)
		return -1;
	return ag_cookie_index(cookie + n, "__");
}

/*
 * Reassemble the sealed value: the plain cookie when present and not
 * empty, else chunks 0, 1, ... up to the first missing index.  Indices
 * at or past the cap are ignored rather than fatal, so a stray cookie
 * planted from a sibling domain cannot log a user out; a truncated or
 * padded concatenation simply fails to decrypt.
 */
static int
cookie_value(const struct ag_conf *c, const struct ag_cookies *jar,
    struct ag_buf *out)
{
	const char *parts[AG_MAX_SESSION_CHUNKS];
	const char *v;
	size_t i, n = 0;
	int idx;

	v = ag_cookies_get(jar, c->cookie_name);
	if (v != NULL && *v != '\0')
		return ag_buf_puts(out, v);
	memset(parts, 0, sizeof(parts));
	for (i = 0; i < jar->n; i++) {
		idx = chunk_index(jar->v[i].name, c->cookie_name);
		if (idx < 0 || idx >= AG_MAX_SESSION_CHUNKS)
			continue;
		if (parts[idx] == NULL)
			parts[idx] = jar->v[i].value;
	}
	while (n < AG_MAX_SESSION_CHUNKS && parts[n] != NULL)
		n++;
	if (n == 0)
		return AG_ERR_NOTFOUND;
	for (i = 0; i < n; i++)
		if (ag_buf_puts(out, parts[i]) != AG_OK)
			return AG_ERR_LIMIT;
	return AG_OK;
}

/*
 * sqlite store: the cookie is the sealed {"id"}; the row holds the data.
 * *data is the row's SessionData, *exp the cookie's exp.
 */
static int
read_row(struct ag_app *app, ag_json *cookie, int64_t now,
    struct ag_session *out, ag_json **data)
{
	struct ag_db_row row;
	struct ag_db *db;
	const char *id = ag_json_get_str(cookie, "id");
	int r;

	*data = NULL;
	if (id == NULL || !ag_db_id_ok(id)) {
		ag_debug("session: cookie without a valid session id");
		return AG_ERR_NOTFOUND;
	}
	if ((r = ag_app_db(app, &db)) != AG_OK)
		return r;
	memset(&row, 0, sizeof(row));
	if ((r = ag_db_session_get(db, id, now, &row)) != AG_OK) {
		ag_db_row_clear(&row);
		return r;
	}
	*data = row.data;
	row.data = NULL;
	memcpy(out->id, id, AG_DB_ID_LEN + 1);
	ag_db_row_clear(&row);
	return AG_OK;
}

/*
 * The checks every stored SessionData must pass, whichever way it was
 * found: a user with a sub, internal.createdAt within the absolute
 * duration, the provider's session_expiry not reached.  *created is
 * internal.createdAt.  AG_OK or AG_ERR_NOTFOUND (logged at debug).
 */
static int
check_data(const struct ag_conf *c, ag_json *data, int64_t now,
    int64_t *created)
{
	ag_json *internal = ag_json_get(data, "internal");
	int64_t ceiling;

	if (ag_json_type(ag_json_get(data, "user")) != AG_JSON_OBJECT ||
	    ag_json_get_str(ag_json_get(data, "user"), "sub") == NULL) {
		ag_debug("session: cookie without user.sub");
		return AG_ERR_NOTFOUND;
	}
	/* Without createdAt the absolute limit could not be enforced. */
	if (ag_json_get_int(internal, "createdAt", created) != AG_OK) {
		ag_debug("session: cookie without internal.createdAt");
		return AG_ERR_NOTFOUND;
	}
	/* The SDK bakes the absolute limit into exp; we check it too. */
	if (*created + c->absolute_duration <= now) {
		ag_debug("session: past its absolute duration");
		return AG_ERR_NOTFOUND;
	}
	/* IPSIE upstream ceiling (reference section 2.12). */
	if (ag_json_get_int(internal, "sessionExpiresAt", &ceiling) ==
	    AG_OK && now >= ceiling - AG_IPSIE_LEEWAY) {
		ag_debug("session: past the provider's session_expiry");
		return AG_ERR_NOTFOUND;
	}
	return AG_OK;
}

/*
 * Back-channel logout with the cookie store (fcgi/h-backchannel.c):
 * the session lives in the browser and cannot be deleted, so a logout
 * is recorded in session.db (table logouts) and here a session is
 * refused when its internal.sid -- or, for a logout token carrying only
 * a sub, its user.sub -- was logged out at or after its createdAt.
 * Without a session.db file no logout can have been recorded: no check,
 * no cost (also when the file was removed under a running process, so
 * that every process -- a fresh wrapper too -- answers alike).  Otherwise one indexed SELECT (the connection stays open for
 * the process).  A database that exists but cannot be used is an error
 * (the caller answers 503), not a free pass.  AG_OK, AG_ERR_NOTFOUND
 * (logged out), AG_ERR_DB / AG_ERR_BUSY.
 */
static int
check_logout(struct ag_app *app, ag_json *data, int64_t created,
    int64_t now)
{
	return ag_session_check_logout(app, ag_json_get_str(ag_json_get(data,
	    "internal"), "sid"), ag_json_get_str(ag_json_get(data, "user"),
	    "sub"), created, now);
}

int
ag_session_check_logout(struct ag_app *app, const char *sid,
    const char *sub, int64_t created, int64_t now)
{
	const char *db_path = app->conf.session_db;
	struct ag_db *db;
	int r, found;

	if (ag_db_absent(db_path))
		return AG_OK;
	if ((r = ag_app_db(app, &db)) != AG_OK)
		return r;
	r = ag_db_logout_find(db, sid, sub, created, now, &found);
	if (r != AG_OK)
		return r;
	if (found) {
		ag_debug("session: ended by a back-channel logout");
		return AG_ERR_NOTFOUND;
	}
	return AG_OK;
}

/*
 * The common end of a read: on success *data (without its "exp") goes
 * to out; on failure the error is mapped -- database trouble is not "no
 * session": the caller answers 503 -- and out keeps no id.
 */
static int
read_done(int r, struct ag_session *out, ag_json **data, int64_t exp,
    int64_t created)
{
	if (r == AG_OK) {
		ag_json_del(*data, "exp");
		out->data = *data;
		out->exp = exp;
		out->created_at = created;
		*data = NULL;
		return AG_OK;
	}
	if (r != AG_ERR_NOMEM && r != AG_ERR_BUSY && r != AG_ERR_DB)
		r = AG_ERR_NOTFOUND;
	out->id[0] = '\0';
	return r;
}

int
ag_session_read_id(struct ag_app *app, const char *id,
    struct ag_session *out)
{
	ag_json *cookie = NULL, *data = NULL;
	int64_t now = ag_now(), created = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (app->conf.store != AG_STORE_SQLITE)
		return AG_ERR_CONFIG;
	if (id == NULL || !ag_db_id_ok(id))
		return AG_ERR_NOTFOUND;
	if ((cookie = ag_json_object()) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	if ((r = ag_json_set_str(cookie, "id", id)) != AG_OK ||
	    (r = read_row(app, cookie, now, out, &data)) != AG_OK)
		goto out;
	r = check_data(&app->conf, data, now, &created);
out:
	r = read_done(r, out, &data, 0, created);
	ag_json_free(data);
	ag_json_free(cookie);
	return r;
}

int
ag_session_cookie_value(const struct ag_conf *c, const struct ag_cookies *jar,
    struct ag_buf *out)
{
	return cookie_value(c, jar, out);
}

int
ag_session_read(struct ag_app *app, const struct ag_cookies *jar,
    struct ag_session *out)
{
	const struct ag_conf *c = &app->conf;
	struct ag_buf sealed;
	ag_json *data = NULL, *cookie = NULL;
	int64_t now = ag_now(), exp = 0, created = 0;
	int r;

	memset(out, 0, sizeof(*out));
	ag_buf_init(&sealed, AG_MAX_SESSION_JSON * 2);
	if ((r = cookie_value(c, jar, &sealed)) != AG_OK)
		goto out;
	if ((r = ag_unseal(app->key, ag_buf_str(&sealed), sealed.len, now,
	    &cookie)) != AG_OK) {
		ag_debug("session: cookie refused: %s", ag_strerror(r));
		goto out;
	}
	if (ag_json_get_int(cookie, "exp", &exp) != AG_OK) {
		r = AG_ERR_NOTFOUND;
		goto out;
	}
	if (c->store == AG_STORE_SQLITE) {
		if ((r = read_row(app, cookie, now, out, &data)) != AG_OK)
			goto out;
	} else {
		data = cookie;
		cookie = NULL;
	}
	if ((r = check_data(c, data, now, &created)) != AG_OK)
		goto out;
	/* The sqlite store deleted the rows; the cookie store must ask. */
	if (c->store != AG_STORE_SQLITE &&
	    (r = check_logout(app, data, created, now)) != AG_OK)
		goto out;
	/* Token Vault entries live in __FC_<n> cookies (lib/connection.c). */
	if (c->store != AG_STORE_SQLITE &&
	    (r = ag_fc_read(app, jar, data, now)) != AG_OK)
		goto out;
	r = AG_OK;
out:
	r = read_done(r, out, &data, exp, created);
	ag_json_free(data);
	ag_json_free(cookie);
	ag_buf_free(&sealed);
	return r;
}

/* Delete every cookie of the request that is a chunk (index >= from). */
static int
delete_chunks(const struct ag_app *app, const struct ag_cookies *jar,
    int from, const struct ag_cookie_attr *a, struct ag_resp *w)
{
	struct ag_buf sc;
	size_t i;
	int idx, r = AG_OK;

	ag_buf_init(&sc, 8192);
	for (i = 0; i < jar->n && r == AG_OK; i++) {
		idx = chunk_index(jar->v[i].name, app->conf.cookie_name);
		if (idx < from)
			continue;
		ag_buf_reset(&sc);
		if ((r = ag_set_cookie(&sc, jar->v[i].name, "", a, 0,
		    ag_now())) == AG_OK)
			r = ag_resp_header(w, "Set-Cookie", ag_buf_str(&sc));
	}
	ag_buf_free(&sc);
	return r;
}

int
ag_session_put_cookie(struct ag_resp *w, const char *name, const char *value,
    const struct ag_cookie_attr *a, int64_t max_age, int64_t now)
{
	struct ag_buf sc;
	int r;

	ag_buf_init(&sc, AG_MAX_COOKIE_VALUE + 1024);
	if ((r = ag_set_cookie(&sc, name, value, a, max_age, now)) == AG_OK)
		r = ag_resp_header(w, "Set-Cookie", ag_buf_str(&sc));
	ag_buf_free(&sc);
	return r;
}

/*
 * The row id named by the request's session cookie (sqlite store), or
 * AG_ERR_NOTFOUND.
 */
static int
request_id(struct ag_app *app, const struct ag_cookies *jar,
    char id[AG_DB_ID_LEN + 1])
{
	const char *v = ag_cookies_get(jar, app->conf.cookie_name);
	const char *s;
	ag_json *c = NULL;
	int r = AG_ERR_NOTFOUND;

	if (v != NULL && *v != '\0' &&
	    ag_unseal(app->key, v, strlen(v), ag_now(), &c) == AG_OK &&
	    (s = ag_json_get_str(c, "id")) != NULL && ag_db_id_ok(s)) {
		memcpy(id, s, AG_DB_ID_LEN + 1);
		r = AG_OK;
	}
	ag_json_free(c);
	return r;
}

int
ag_session_clear(struct ag_app *app, const struct ag_cookies *jar,
    struct ag_resp *w)
{
	struct ag_cookie_attr a;
	struct ag_db *db;
	char id[AG_DB_ID_LEN + 1];
	int r;

	if (app->conf.store == AG_STORE_SQLITE &&
	    request_id(app, jar, id) == AG_OK && ag_app_db(app, &db) == AG_OK &&
	    (r = ag_db_session_delete(db, id)) != AG_OK && r != AG_ERR_NOTFOUND)
		ag_err("session: cannot delete the session row: %s",
		    ag_strerror(r));
	ag_app_cookie_attr(app, &a);
	if ((r = ag_session_put_cookie(w, app->conf.cookie_name, "", &a, 0,
	    ag_now())) != AG_OK)
		return r;
	if ((r = delete_chunks(app, jar, 0, &a, w)) != AG_OK)
		return r;
	if ((r = ag_fc_clear(app, jar, w)) != AG_OK)
		return r;
	return ag_resp_nocache(w);
}

/*
 * Seal payload into the session cookie (chunked when large), deleting
 * stale chunks or the plain cookie of the request.
 */
static int
write_cookie(struct ag_app *app, const struct ag_cookies *jar,
    ag_json *payload, int64_t max_age, int64_t now, struct ag_resp *w)
{
	const struct ag_conf *c = &app->conf;
	struct ag_cookie_attr a;
	struct ag_buf sealed, chunk;
	char name[256];
	size_t nchunks, i, off;
	int r;

	ag_app_cookie_attr(app, &a);
	ag_buf_init(&sealed, AG_MAX_SESSION_JSON * 2);
	ag_buf_init(&chunk, AG_COOKIE_CHUNK_SIZE);
	if ((r = ag_seal(app->key, payload, now + max_age, &sealed)) != AG_OK) {
		ag_err("session: cannot seal the session: %s", ag_strerror(r));
		goto out;
	}
	nchunks = (sealed.len + AG_COOKIE_CHUNK_SIZE - 1) / AG_COOKIE_CHUNK_SIZE;
	if (nchunks > AG_MAX_SESSION_CHUNKS) {
		ag_err("session: %zu bytes would need %zu cookies, more than "
		    "the limit of %d; keep fewer claims (claims.keep) or use "
		    "session.store = sqlite", sealed.len, nchunks,
		    AG_MAX_SESSION_CHUNKS);
		r = AG_ERR_LIMIT;
		goto out;
	}
	if (nchunks <= 1) {
		r = ag_session_put_cookie(w, c->cookie_name, ag_buf_str(&sealed), &a,
		    max_age, now);
		if (r == AG_OK)
			r = delete_chunks(app, jar, 0, &a, w);
	} else {
		for (i = 0, off = 0; i < nchunks && r == AG_OK; i++) {
			size_t len = sealed.len - off;

			if (len > AG_COOKIE_CHUNK_SIZE)
				len = AG_COOKIE_CHUNK_SIZE;
			ag_buf_reset(&chunk);
			snprintf(name, sizeof(name), "%s__%zu",
			    c->cookie_name, i);
			if ((r = ag_buf_add(&chunk, sealed.data + off,
			    len)) == AG_OK)
				r = ag_session_put_cookie(w, name, ag_buf_str(&chunk), &a,
				    max_age, now);
			off += len;
		}
		if (r == AG_OK && ag_cookies_get(jar, c->cookie_name) != NULL)
			r = ag_session_put_cookie(w, c->cookie_name, "", &a, 0, now);
		if (r == AG_OK)
			r = delete_chunks(app, jar, (int)nchunks, &a, w);
	}
	if (r == AG_OK)
		r = ag_resp_nocache(w);
out:
	ag_buf_free(&sealed);
	ag_buf_free(&chunk);
	return r;
}

/*
 * The cookie store: the session cookie without connectionTokenSets,
 * whose entries go to their own __FC_<n> cookies (reference 2.8).
 */
static int
write_stateless(struct ag_app *app, const struct ag_cookies *jar,
    struct ag_session *s, int64_t max_age, int64_t now, struct ag_resp *w)
{
	ag_json *sets = ag_json_get(s->data, "connectionTokenSets");
	int r, r2 = AG_OK;

	if (sets != NULL) {
		(void)ag_json_ref(sets);
		ag_json_del(s->data, "connectionTokenSets");
	}
	r = write_cookie(app, jar, s->data, max_age, now, w);
	if (r == AG_OK)
		r = ag_fc_write(app, jar, s->data, sets, max_age, now, w);
	if (sets != NULL)
		r2 = ag_json_set(s->data, "connectionTokenSets", sets);
	return r != AG_OK ? r : r2;
}

/* The cookie payload of the sqlite store: {"id": ...}. */
static int
write_id_cookie(struct ag_app *app, const struct ag_cookies *jar,
    const struct ag_session *s, int64_t max_age, int64_t now,
    struct ag_resp *w)
{
	ag_json *c;
	int r;

	if ((c = ag_json_object()) == NULL)
		return AG_ERR_NOMEM;
	if ((r = ag_json_set_str(c, "id", s->id)) == AG_OK)
		r = write_cookie(app, jar, c, max_age, now, w);
	ag_json_free(c);
	return r;
}

/*
 * Store the session's row: a new one (with a new id, the request's old
 * row deleted) for a fresh login, else an update that never resurrects.
 */
static int
store_row(struct ag_app *app, const struct ag_cookies *jar,
    struct ag_session *s, int64_t now, int64_t expires)
{
	struct ag_db *db;
	char old[AG_DB_ID_LEN + 1];
	int r;

	if ((r = ag_app_db(app, &db)) != AG_OK)
		return r;
	if (!s->is_new && s->id[0] != '\0') {
		r = ag_db_session_update(db, s->id, s->data, now, expires);
		if (r == AG_ERR_NOTFOUND)
			ag_info("session: %.8s... was deleted meanwhile; "
			    "not written back", s->id);
		return r;
	}
	/* Session fixation: a login never keeps the id it came with. */
	if (request_id(app, jar, old) == AG_OK &&
	    (r = ag_db_session_delete(db, old)) != AG_OK &&
	    r != AG_ERR_NOTFOUND)
		return r;
	if ((r = ag_db_new_id(s->id)) != AG_OK ||
	    (r = ag_db_session_insert(db, s->id, s->data, now,
	    expires)) != AG_OK) {
		s->id[0] = '\0';
		return r;
	}
	s->is_new = 0;
	return AG_OK;
}

int
ag_session_write(struct ag_app *app, const struct ag_cookies *jar,
    struct ag_session *s, struct ag_resp *w)
{
	int64_t now = ag_now(), max_age;
	int r;

	max_age = ag_session_max_age(&app->conf, s->created_at, now);
	if (max_age <= 0)
		return ag_session_clear(app, jar, w);
	if (app->conf.store == AG_STORE_SQLITE) {
		if ((r = store_row(app, jar, s, now, now + max_age)) != AG_OK)
			return r;
		r = write_id_cookie(app, jar, s, max_age, now, w);
	} else
		r = write_stateless(app, jar, s, max_age, now, w);
	if (r == AG_OK)
		s->exp = now + max_age;
	return r;
}

int
ag_session_roll(struct ag_app *app, const struct ag_cookies *jar,
    struct ag_session *s, struct ag_resp *w)
{
	struct ag_db *db;
	int64_t now = ag_now(), max_age;
	int r;

	if (app->conf.store != AG_STORE_SQLITE || s->id[0] == '\0')
		return ag_session_write(app, jar, s, w);
	max_age = ag_session_max_age(&app->conf, s->created_at, now);
	if (max_age <= 0)
		return ag_session_clear(app, jar, w);
	if ((r = ag_app_db(app, &db)) != AG_OK ||
	    (r = ag_db_session_touch(db, s->id, now, now + max_age)) != AG_OK)
		return r;
	if ((r = write_id_cookie(app, jar, s, max_age, now, w)) == AG_OK)
		s->exp = now + max_age;
	return r;
}

void
ag_session_free(struct ag_session *s)
{
	if (s == NULL)
		return;
	ag_json_free(s->data);
	memset(s, 0, sizeof(*s));
}

ag_json *
ag_session_filter_claims(const struct ag_conf *c, ag_json *claims)
{
	ag_json *user, *v;
	size_t i;

	if ((user = ag_json_object()) == NULL)
		return NULL;
	for (i = 0; i < c->claims_keep.n; i++) {
		if ((v = ag_json_get(claims, c->claims_keep.v[i])) == NULL)
			continue;
		if (ag_json_set(user, c->claims_keep.v[i],
		    ag_json_copy(v)) != AG_OK) {
			ag_json_free(user);
			return NULL;
		}
	}
	return user;
}

/* Set key to a string when s is not NULL. */
static int
set_opt_str(ag_json *o, const char *key, const char *s)
{
	return s != NULL ? ag_json_set_str(o, key, s) : AG_OK;
}

int
ag_session_from_login(const struct ag_conf *c, const struct ag_tokens *t,
    ag_json *claims, const char *requested_scope, const char *audience,
    int64_t now, struct ag_session *out)
{
	ag_json *data = NULL, *user = NULL, *ts = NULL, *internal = NULL;
	const char *sid;
	int64_t sexp;
	int r = AG_ERR_NOMEM;

	memset(out, 0, sizeof(*out));
	if ((data = ag_json_object()) == NULL ||
	    (user = ag_session_filter_claims(c, claims)) == NULL ||
	    (ts = ag_json_object()) == NULL ||
	    (internal = ag_json_object()) == NULL)
		goto out;
	if (ag_json_set_str(ts, "accessToken", t->access_token) != AG_OK ||
	    set_opt_str(ts, "idToken", t->id_token) != AG_OK ||
	    set_opt_str(ts, "scope", t->scope) != AG_OK ||
	    set_opt_str(ts, "requestedScope", requested_scope) != AG_OK ||
	    set_opt_str(ts, "audience", audience) != AG_OK ||
	    set_opt_str(ts, "refreshToken", t->refresh_token) != AG_OK ||
	    ag_json_set_int(ts, "expiresAt", now +
	    (t->expires_in >= 0 ? t->expires_in :
	    AG_DEFAULT_EXPIRES_IN)) != AG_OK ||
	    set_opt_str(ts, "token_type", t->token_type) != AG_OK)
		goto out;
	sid = ag_json_get_str(claims, "sid");
	if (set_opt_str(internal, "sid", sid) != AG_OK ||
	    ag_json_set_int(internal, "createdAt", now) != AG_OK)
		goto out;
	/* IPSIE upstream ceiling (reference section 2.12). */
	if (ag_json_get_int(claims, "session_expiry", &sexp) == AG_OK &&
	    sexp > 0 && sexp < 10000000000LL &&
	    ag_json_set_int(internal, "sessionExpiresAt", sexp) != AG_OK)
		goto out;
	r = ag_json_set(data, "user", user);
	user = NULL;
	if (r == AG_OK)
		r = ag_json_set(data, "tokenSet", ts);
	ts = NULL;
	if (r == AG_OK)
		r = ag_json_set(data, "internal", internal);
	internal = NULL;
	if (r != AG_OK)
		goto out;
	out->data = data;
	out->created_at = now;
	out->is_new = 1;
	data = NULL;
out:
	ag_json_free(data);
	ag_json_free(user);
	ag_json_free(ts);
	ag_json_free(internal);
	return r;
}

ag_json *
ag_session_user(const struct ag_session *s)
{
	return ag_json_get(s->data, "user");
}

const char *
ag_session_token(const struct ag_session *s, const char *name)
{
	return ag_json_get_str(ag_json_get(s->data, "tokenSet"), name);
}

const char *
ag_session_sid(const struct ag_session *s)
{
	return ag_json_get_str(ag_json_get(s->data, "internal"), "sid");
}
