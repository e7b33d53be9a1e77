/*
 * test-db.c -- lib/db.c, the SQLite session store.
 *
 * Every test works on files in a fresh mkdtemp() directory.  Times are
 * explicit arguments (T0 and offsets), never the wall clock.  The
 * concurrency and crash tests fork: each child opens its own
 * connection, and the parent holds none across fork().
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
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
#include "tap.h"

#define T0		1700000000LL
#define SECRET		"0123456789abcdef0123456789abcdef-test-secret"
#define SECRET2		"another-secret-another-secret-another-secret"
#define AT_MARK		"AT-secret-access-token-7f3a9c"
#define RT_MARK		"RT-secret-refresh-token-51be02"
#define NCHILD		8
#ifndef NOPS
#define NOPS		200
#endif
#define MAXIDS		NOPS

static char dir[] = "/tmp/test-db.XXXXXX";
static unsigned char key[AG_KEY_LEN], key2[AG_KEY_LEN];
static char shared_db[512];	/* the file of the fork tests */

/* dir/name into out. */
static const char *
path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
	return out;
}

/* Remove name and its -wal and -shm files. */
static void
rm_db(const char *name)
{
	char p[512], q[520];

	path(p, sizeof(p), name);
	unlink(p);
	snprintf(q, sizeof(q), "%s-wal", p);
	unlink(q);
	snprintf(q, sizeof(q), "%s-shm", p);
	unlink(q);
}

/* A SessionData object as the SDK builds it. */
static ag_json *
session_data(const char *sub, const char *sid, const char *email,
    const char *name, const char *at, const char *rt)
{
	ag_json *s, *u, *ts, *in;

	s = ag_json_object();
	u = ag_json_object();
	ts = ag_json_object();
	in = ag_json_object();
	if (s == NULL || u == NULL || ts == NULL || in == NULL)
		abort();
	if (sub != NULL)
		ag_json_set_str(u, "sub", sub);
	if (email != NULL)
		ag_json_set_str(u, "email", email);
	if (name != NULL)
		ag_json_set_str(u, "name", name);
	ag_json_set_str(ts, "accessToken", at);
	if (rt != NULL)
		ag_json_set_str(ts, "refreshToken", rt);
	ag_json_set_int(ts, "expiresAt", T0 + 3600);
	if (sid != NULL)
		ag_json_set_str(in, "sid", sid);
	ag_json_set_int(in, "createdAt", T0);
	ag_json_set(s, "user", u);
	ag_json_set(s, "tokenSet", ts);
	ag_json_set(s, "internal", in);
	return s;
}

/* Insert a session with sub/sid, expiring at exp; returns ag_err. */
static int
insert(struct ag_db *db, const char *id, const char *sub, const char *sid,
    int64_t now, int64_t exp)
{
	ag_json *d;
	int r;

	d = session_data(sub, sid, "x@example.com", "X", AT_MARK, RT_MARK);
	r = ag_db_session_insert(db, id, d, now, exp);
	ag_json_free(d);
	return r;
}

/* Does the file (whole) contain needle? */
static int
file_has(const char *p, const char *needle)
{
	static char buf[4 * 1024 * 1024];
	size_t n, m = strlen(needle), i;
	FILE *f;

	if ((f = fopen(p, "rb")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (i = 0; i + m <= n; i++)
		if (memcmp(buf + i, needle, m) == 0)
			return 1;
	return 0;
}

static void
test_ids(void)
{
	char id[AG_DB_ID_LEN + 1], id2[AG_DB_ID_LEN + 1];

	ok(ag_db_id_ok("0123456789abcdef0123456789abcdef"), "id: 32 hex ok");
	ok(!ag_db_id_ok("0123456789abcdef0123456789abcde"), "id: 31 refused");
	ok(!ag_db_id_ok("0123456789abcdef0123456789abcdef0"),
	    "id: 33 refused");
	ok(!ag_db_id_ok("0123456789ABCDEF0123456789abcdef"),
	    "id: upper case refused");
	ok(!ag_db_id_ok("0123456789abcdeg0123456789abcdef"),
	    "id: non-hex refused");
	ok(!ag_db_id_ok("' OR 1=1 --"), "id: SQL injection refused");
	ok(!ag_db_id_ok("0123456789abcdef' OR 1=1 --abcde"),
	    "id: 32 chars with SQL refused");
	ok(!ag_db_id_ok(""), "id: empty refused");
	ok(!ag_db_id_ok(NULL), "id: NULL refused");
	is_int(ag_db_new_id(id), AG_OK, "new id");
	ok(ag_db_id_ok(id), "new id is valid");
	is_int(ag_db_new_id(id2), AG_OK, "second new id");
	ok(strcmp(id, id2) != 0, "new ids differ");
}

static void
test_key(void)
{
	unsigned char k[AG_KEY_LEN], ck[AG_KEY_LEN];

	is_int(ag_db_key(SECRET, key), AG_OK, "db key");
	is_int(ag_db_key(SECRET, k), AG_OK, "db key again");
	ok(memcmp(k, key, AG_KEY_LEN) == 0, "db key deterministic");
	is_int(ag_cookie_key(SECRET, ck), AG_OK, "cookie key");
	ok(memcmp(ck, key, AG_KEY_LEN) != 0, "db key is not the cookie key");
	is_int(ag_db_key(SECRET2, key2), AG_OK, "second db key");
	ok(memcmp(key2, key, AG_KEY_LEN) != 0, "other secret, other key");
	is_int(ag_db_key("", k), AG_ERR_CONFIG, "empty secret refused");
	is_int(ag_db_key(NULL, k), AG_ERR_CONFIG, "NULL secret refused");
}

static void
test_open(void)
{
	struct ag_db *db = NULL;
	struct stat st;
	char p[512];
	int have, want, applied;

	path(p, sizeof(p), "s.db");
	is_int(ag_db_open(p, AG_DB_READWRITE, key, &db), AG_ERR_DB,
	    "open: missing file READWRITE refused");
	ok(db == NULL, "open: no handle on failure");
	ok(stat(p, &st) == -1, "open: READWRITE did not create the file");
	is_int(ag_db_open(p, AG_DB_READONLY, key, &db), AG_ERR_DB,
	    "open: missing file READONLY refused");
	is_int(ag_db_open(NULL, AG_DB_CREATE, key, &db), AG_ERR_CONFIG,
	    "open: NULL path");
	is_int(ag_db_open(p, AG_DB__MAX, key, &db), AG_ERR_CONFIG,
	    "open: bad mode");

	umask(022);
	is_int(ag_db_open(p, AG_DB_CREATE, key, &db), AG_OK, "open: CREATE");
	ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0660,
	    "open: file mode 0660");
	is_int(ag_db_version(db, &have, &want), AG_OK, "version");
	is_int(have, ag_sql_migrations_count, "version: have = current");
	is_int(want, ag_sql_migrations_count, "version: want = count");
	ok(want >= 1, "at least one migration");
	ok(ag_sql_migrations[want] == NULL, "migrations NULL-terminated");
	is_int(ag_db_migrate(db, &applied), AG_OK, "migrate again");
	is_int(applied, 0, "migrate again: nothing to apply");
	is_int(ag_db_check(db), AG_OK, "integrity check ok");
	ag_db_close(db);
	ag_db_close(NULL);

	db = NULL;
	is_int(ag_db_open(p, AG_DB_READWRITE, key, &db), AG_OK,
	    "open: READWRITE existing");
	ag_db_close(db);
	db = NULL;
	is_int(ag_db_open(p, AG_DB_CREATE, key, &db), AG_OK,
	    "open: CREATE existing");
	ag_db_close(db);
}

struct collect {
	char	 ids[16][AG_DB_ID_LEN + 1];
	int	 n;
	int	 stop_at;
};

static int
collect(const struct ag_db_row *row, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16)
		memcpy(c->ids[c->n], row->id, sizeof(c->ids[0]));
	c->n++;
	if (row->data != NULL || row->sub == NULL)
		return -1;
	return c->stop_at != 0 && c->n == c->stop_at ? 7 : 0;
}

static void
test_crud(void)
{
	static const char id1[] = "11111111111111111111111111111111",
	    id2[] = "22222222222222222222222222222222",
	    id3[] = "33333333333333333333333333333333",
	    idx[] = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
	struct ag_db *db;
	struct ag_db_row row;
	struct collect c;
	ag_json *d, *ts;
	char p[512];
	int n;

	memset(&row, 0, sizeof(row));
	path(p, sizeof(p), "s.db");
	if (ag_db_open(p, AG_DB_READWRITE, key, &db) != AG_OK) {
		ok(0, "crud: open");
		return;
	}

	/* Insert and get. */
	d = session_data("auth0|alice", "sid-a", "alice@example.com", "Alice",
	    AT_MARK, RT_MARK);
	is_int(ag_db_session_insert(db, id1, d, T0, T0 + 3600), AG_OK,
	    "insert");
	is_int(ag_db_session_insert(db, id1, d, T0, T0 + 3600), AG_ERR_DB,
	    "insert: duplicate id refused");
	is_int(ag_db_session_insert(db, "' OR 1=1 --", d, T0, T0 + 3600),
	    AG_ERR_PARSE, "insert: malformed id refused");
	ag_json_free(d);
	d = session_data(NULL, NULL, NULL, NULL, AT_MARK, NULL);
	is_int(ag_db_session_insert(db, id2, d, T0, T0 + 3600), AG_ERR_PARSE,
	    "insert: no user.sub refused");
	ag_json_free(d);

	is_int(ag_db_session_get(db, id1, T0 + 10, &row), AG_OK, "get");
	is_str(row.id, id1, "get: id");
	is_str(row.sub, "auth0|alice", "get: sub from user.sub");
	is_str(row.sid, "sid-a", "get: sid from internal.sid");
	is_str(row.email, "alice@example.com", "get: email");
	is_str(row.name, "Alice", "get: name");
	is_int(row.created_at, T0, "get: created_at");
	is_int(row.last_seen, T0, "get: last_seen");
	is_int(row.expires_at, T0 + 3600, "get: expires_at");
	ts = ag_json_get(row.data, "tokenSet");
	is_str(ag_json_get_str(ts, "accessToken"), AT_MARK,
	    "get: data opens, access token");
	is_str(ag_json_get_str(ag_json_get(row.data, "user"), "sub"),
	    "auth0|alice", "get: data user.sub");
	ok(ag_json_get(row.data, "exp") == NULL, "get: no seal exp in data");
	ag_db_row_clear(&row);
	ag_db_row_clear(NULL);

	/* Update. */
	d = session_data("auth0|alice", "sid-a2", "alice@new.example", NULL,
	    "AT-2", NULL);
	is_int(ag_db_session_update(db, id1, d, T0 + 100, T0 + 7200), AG_OK,
	    "update");
	ag_json_free(d);
	is_int(ag_db_session_get(db, id1, T0 + 200, &row), AG_OK,
	    "get after update");
	is_str(row.email, "alice@new.example", "update: email");
	ok(row.name == NULL, "update: name now NULL");
	is_str(row.sid, "sid-a2", "update: sid");
	is_int(row.last_seen, T0 + 100, "update: last_seen");
	is_int(row.created_at, T0, "update: created_at kept");
	is_int(row.expires_at, T0 + 7200, "update: expires_at");
	is_str(ag_json_get_str(ag_json_get(row.data, "tokenSet"),
	    "accessToken"), "AT-2", "update: data");
	ag_db_row_clear(&row);

	/* Touch beyond the sealed exp: the row's expiry rules. */
	is_int(ag_db_session_touch(db, id1, T0 + 7000, T0 + 20000), AG_OK,
	    "touch");
	is_int(ag_db_session_get(db, id1, T0 + 15000, &row), AG_OK,
	    "get after touch, past the sealed exp");
	is_int(row.last_seen, T0 + 7000, "touch: last_seen");
	is_int(row.expires_at, T0 + 20000, "touch: expires_at");
	ok(row.data != NULL, "touch: data still opens");
	ag_db_row_clear(&row);

	/* Expiry is enforced in SQL. */
	is_int(ag_db_session_get(db, id1, T0 + 20000, &row), AG_ERR_NOTFOUND,
	    "get: at expires_at -> NOTFOUND");
	ok(row.sub == NULL && row.data == NULL, "get: row cleared on miss");
	is_int(insert(db, id3, "auth0|old", NULL, T0 - 7200, T0 - 10), AG_OK,
	    "insert an expired row");
	is_int(ag_db_session_get(db, id3, T0, &row), AG_ERR_NOTFOUND,
	    "get: expired row NOTFOUND");
	d = session_data("auth0|old", NULL, NULL, NULL, "AT-3", NULL);
	is_int(ag_db_session_update(db, id3, d, T0, T0 + 3600),
	    AG_ERR_NOTFOUND, "update: expired row NOTFOUND");
	ag_json_free(d);
	is_int(ag_db_session_touch(db, id3, T0, T0 + 3600), AG_ERR_NOTFOUND,
	    "touch: expired row NOTFOUND");
	is_int(ag_db_session_get(db, id3, T0 - 3600, &row), AG_OK,
	    "get: the expired row existed before its expiry");
	ag_db_row_clear(&row);
	memset(&c, 0, sizeof(c));
	is_int(ag_db_session_list(db, NULL, T0, collect, &c), AG_OK, "list");
	is_int(c.n, 1, "list: expired row not listed");
	is_int(ag_db_session_purge(db, T0, &n), AG_OK, "purge");
	is_int(n, 1, "purge: one expired row");
	is_int(ag_db_session_delete(db, id3), AG_ERR_NOTFOUND,
	    "purge: it is gone");

	/* Delete; no resurrection. */
	is_int(ag_db_session_delete(db, id1), AG_OK, "delete");
	is_int(ag_db_session_delete(db, id1), AG_ERR_NOTFOUND,
	    "delete again: NOTFOUND");
	d = session_data("auth0|alice", NULL, NULL, NULL, "AT-4", NULL);
	is_int(ag_db_session_update(db, id1, d, T0 + 300, T0 + 9000),
	    AG_ERR_NOTFOUND, "update after delete: NOTFOUND");
	ag_json_free(d);
	is_int(ag_db_session_touch(db, id1, T0 + 300, T0 + 9000),
	    AG_ERR_NOTFOUND, "touch after delete: NOTFOUND");
	is_int(ag_db_session_get(db, id1, T0 + 300, &row), AG_ERR_NOTFOUND,
	    "get after delete: NOTFOUND (not resurrected)");

	/* Malformed ids never reach SQL. */
	is_int(insert(db, id2, "auth0|bob", "sid-b", T0, T0 + 3600), AG_OK,
	    "insert bob");
	is_int(ag_db_session_get(db, "' OR 1=1 --", T0, &row),
	    AG_ERR_NOTFOUND, "get: injection id NOTFOUND");
	is_int(ag_db_session_delete(db, "' OR 1=1 --"), AG_ERR_NOTFOUND,
	    "delete: injection id NOTFOUND");
	is_int(ag_db_session_touch(db, "x' OR '1'='1", T0, T0 + 1),
	    AG_ERR_NOTFOUND, "touch: injection id NOTFOUND");
	is_int(ag_db_session_delete_by(db, NULL, "' OR 1=1 --", &n), AG_OK,
	    "delete_by: injection sub");
	is_int(n, 0, "delete_by: injection sub deletes nothing");
	is_int(ag_db_session_get(db, id2, T0, &row), AG_OK,
	    "bob survives the injections");
	ag_db_row_clear(&row);
	is_int(ag_db_session_get(db, idx, T0, &row), AG_ERR_NOTFOUND,
	    "get: unknown id NOTFOUND");
	ag_db_close(db);
}

static void
test_delete_list(void)
{
	struct ag_db *db;
	struct collect c;
	char ids[6][AG_DB_ID_LEN + 1], p[512];
	int i, n;

	path(p, sizeof(p), "s.db");
	if (ag_db_open(p, AG_DB_READWRITE, key, &db) != AG_OK) {
		ok(0, "list: open");
		return;
	}
	is_int(ag_db_session_delete_all(db, &n), AG_OK, "delete all");
	is_int(n, 1, "delete all: bob");
	/* ids[i] created at T0 + i: the newest is ids[5]. */
	for (i = 0; i < 6; i++) {
		ag_db_new_id(ids[i]);
		is_int(insert(db, ids[i], i % 2 ? "auth0|odd" : "auth0|even",
		    i < 3 ? "sid-low" : "sid-high", T0 + i, T0 + 3600),
		    AG_OK, "insert for list");
	}
	memset(&c, 0, sizeof(c));
	is_int(ag_db_session_list(db, NULL, T0 + 10, collect, &c), AG_OK,
	    "list all");
	is_int(c.n, 6, "list: six rows");
	for (i = 0; i < 6; i++)
		is_str(c.ids[i], ids[5 - i], "list: newest first");
	memset(&c, 0, sizeof(c));
	is_int(ag_db_session_list(db, "auth0|odd", T0 + 10, collect, &c),
	    AG_OK, "list by sub");
	is_int(c.n, 3, "list by sub: three rows");
	is_str(c.ids[0], ids[5], "list by sub: newest first");
	is_str(c.ids[2], ids[1], "list by sub: oldest last");
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	is_int(ag_db_session_list(db, NULL, T0 + 10, collect, &c), 7,
	    "list: stops with fn's value");
	is_int(c.n, 2, "list: stopped after two");
	memset(&c, 0, sizeof(c));
	is_int(ag_db_session_list(db, "nobody", T0 + 10, collect, &c), AG_OK,
	    "list: unknown sub");
	is_int(c.n, 0, "list: unknown sub, no rows");

	is_int(ag_db_session_delete_by(db, NULL, NULL, &n), AG_ERR_PARSE,
	    "delete_by: neither sid nor sub refused");
	is_int(ag_db_session_delete_by(db, "sid-low", "auth0|odd", &n), AG_OK,
	    "delete_by sid (sub ignored)");
	is_int(n, 3, "delete_by sid: three");
	is_int(ag_db_session_delete_by(db, NULL, "auth0|odd", &n), AG_OK,
	    "delete_by sub");
	is_int(n, 2, "delete_by sub: the two odd left");
	is_int(ag_db_session_delete_by(db, "sid-none", NULL, &n), AG_OK,
	    "delete_by unknown sid");
	is_int(n, 0, "delete_by unknown sid: none");
	is_int(ag_db_session_delete_all(db, &n), AG_OK, "delete all again");
	is_int(n, 1, "delete all: the last one");
	ag_db_close(db);
}

/* No token in the files; the plain columns are there (the control). */
static void
test_at_rest(void)
{
	static const char id[] = "abcdefabcdefabcdefabcdefabcdef01";
	struct ag_db *db, *db2;
	struct ag_db_row row;
	char p[512], w[520];

	path(p, sizeof(p), "s.db");
	snprintf(w, sizeof(w), "%s-wal", p);
	if (ag_db_open(p, AG_DB_READWRITE, key, &db) != AG_OK) {
		ok(0, "at rest: open");
		return;
	}
	is_int(insert(db, id, "auth0|carol-at-rest", "sid-c", T0, T0 + 3600),
	    AG_OK, "at rest: insert");
	ok(file_has(w, "auth0|carol-at-rest") || file_has(p,
	    "auth0|carol-at-rest"), "at rest: sub readable (control)");
	ok(!file_has(w, AT_MARK) && !file_has(p, AT_MARK),
	    "at rest: no access token in db or wal");
	ok(!file_has(w, RT_MARK) && !file_has(p, RT_MARK),
	    "at rest: no refresh token in db or wal");

	/* Sealed with one key, opened with another. */
	memset(&row, 0, sizeof(row));
	if (ag_db_open(p, AG_DB_READWRITE, key2, &db2) == AG_OK) {
		is_int(ag_db_session_get(db2, id, T0, &row), AG_ERR_NOTFOUND,
		    "other key: NOTFOUND");
		ag_db_close(db2);
	} else
		ok(0, "other key: open");
	ag_db_close(db);
	ok(file_has(p, "auth0|carol-at-rest"),
	    "at rest: after checkpoint, sub in the file");
	ok(!file_has(p, AT_MARK) && !file_has(p, RT_MARK),
	    "at rest: after checkpoint, no token in the file");
}

/* Write user_version (header offset 60, big endian) of a closed file. */
static int
poke_version(const char *p, uint32_t v)
{
	unsigned char b[4];
	int fd, r;

	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
	if ((fd = open(p, O_WRONLY)) == -1)
		return -1;
	r = pwrite(fd, b, 4, 60) == 4 ? 0 : -1;
	close(fd);
	return r;
}

static void
test_versions(void)
{
	struct ag_db *db = NULL;
	char p[512];
	int fd;

	path(p, sizeof(p), "v.db");
	if (ag_db_open(p, AG_DB_CREATE, key, &db) != AG_OK) {
		ok(0, "version: create");
		return;
	}
	ag_db_close(db);
	db = NULL;
	ok(poke_version(p, 99) == 0, "version: set user_version 99");
	is_int(ag_db_open(p, AG_DB_READWRITE, key, &db), AG_ERR_DB,
	    "version 99: READWRITE refused");
	is_int(ag_db_open(p, AG_DB_READONLY, key, &db), AG_ERR_DB,
	    "version 99: READONLY refused");
	is_int(ag_db_open(p, AG_DB_CREATE, key, &db), AG_ERR_DB,
	    "version 99: CREATE refuses to downgrade");
	ok(db == NULL, "version 99: no handle");
	rm_db("v.db");

	/* An empty file is version 0: needs migrate. */
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0660);
	ok(fd != -1, "version: empty file");
	if (fd != -1)
		close(fd);
	is_int(ag_db_open(p, AG_DB_READWRITE, key, &db), AG_ERR_DB,
	    "version 0: READWRITE refused (run migrate)");
	is_int(ag_db_open(p, AG_DB_CREATE, key, &db), AG_OK,
	    "version 0: CREATE migrates");
	ag_db_close(db);
	db = NULL;
	is_int(ag_db_open(p, AG_DB_READWRITE, key, &db), AG_OK,
	    "version 0: READWRITE after migrate");
	ag_db_close(db);
	rm_db("v.db");
}

static void
test_readonly(void)
{
	static const char id[] = "0000000000000000000000000000000f";
	struct ag_db *db = NULL;
	struct ag_db_row row;
	char p[512];
	pid_t pid;
	int status, r;

	path(p, sizeof(p), "ro.db");
	if (ag_db_open(p, AG_DB_CREATE, key, &db) != AG_OK) {
		ok(0, "read-only: create");
		return;
	}
	is_int(insert(db, id, "auth0|ro", NULL, T0, T0 + 3600), AG_OK,
	    "read-only: insert before");
	ag_db_close(db);
	db = NULL;

	/* A READONLY connection cannot write, whoever we are. */
	is_int(ag_db_open(p, AG_DB_READONLY, key, &db), AG_OK,
	    "READONLY open");
	if (db != NULL) {
		memset(&row, 0, sizeof(row));
		is_int(ag_db_session_get(db, id, T0, &row), AG_OK,
		    "READONLY get");
		ag_db_row_clear(&row);
		is_int(insert(db, "0000000000000000000000000000000e",
		    "auth0|ro", NULL, T0, T0 + 3600), AG_ERR_DB,
		    "READONLY: insert fails cleanly");
		is_int(ag_db_session_delete(db, id), AG_ERR_DB,
		    "READONLY: delete fails cleanly");
		ag_db_close(db);
		db = NULL;
	}

	/* A 0444 file opened READWRITE by a user who cannot write it. */
	ok(chmod(p, 0444) == 0, "chmod 0444");
	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (geteuid() == 0) {
			/* root writes anyway: become nobody. */
			if (chmod(dir, 0755) == -1 || setgid(65534) == -1 ||
			    setuid(65534) == -1)
				_exit(100);
		}
		r = ag_db_open(p, AG_DB_READWRITE, key, &db);
		if (r == AG_OK) {
			r = insert(db, "0000000000000000000000000000000d",
			    "auth0|ro", NULL, T0, T0 + 3600);
			ag_db_close(db);
		}
		_exit(r == AG_ERR_DB ? 0 : 10 + r);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0,
	    "0444 file READWRITE: open or insert fails with AG_ERR_DB");
	chmod(dir, 0700);
	chmod(p, 0660);
	rm_db("ro.db");
}

/* xorshift64: the children's own deterministic choices. */
static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int
count_rows(const struct ag_db_row *row, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/*
 * One child of the concurrency test: NOPS operations on its own ids,
 * each with a known expected result.  Writes "survivors\n" to fd.
 * Exit status: the number of unexpected results (0 is success).
 */
static int
child_ops(int k, int fd)
{
	char ids[MAXIDS][AG_DB_ID_LEN + 1], sub[32], line[32];
	int live[MAXIDS];
	struct ag_db *db = NULL;
	struct ag_db_row row;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1);
	int n = 0, bad = 0, i, j, r, want, alive = 0, cnt;
	int64_t now = T0 + 100;
	ag_json *d;

	memset(&row, 0, sizeof(row));
	snprintf(sub, sizeof(sub), "auth0|child%d", k);
	if ((r = ag_db_open(shared_db, AG_DB_READWRITE, key, &db)) !=
	    AG_OK) {
		fprintf(stderr, "# child %d: open: %s\n", k, ag_strerror(r));
		return 1;
	}
	for (i = 0; i < NOPS; i++) {
		j = n > 0 ? (int)(next(&seed) % (uint64_t)n) : 0;
		switch (n == 0 ? 0 : next(&seed) % 6) {
		case 0:	/* insert */
			if (n == MAXIDS)
				continue;
			ag_db_new_id(ids[n]);
			r = insert(db, ids[n], sub, "sid-shared", now,
			    now + 3600);
			want = AG_OK;
			live[n++] = 1;
			break;
		case 1:	/* get */
			r = ag_db_session_get(db, ids[j], now, &row);
			if (r == AG_OK && (row.data == NULL ||
			    strcmp(row.sub, sub) != 0))
				r = -1;
			ag_db_row_clear(&row);
			want = live[j] ? AG_OK : AG_ERR_NOTFOUND;
			break;
		case 2:	/* update */
			d = session_data(sub, "sid-shared", NULL, NULL,
			    AT_MARK, NULL);
			r = ag_db_session_update(db, ids[j], d, now,
			    now + 7200);
			ag_json_free(d);
			want = live[j] ? AG_OK : AG_ERR_NOTFOUND;
			break;
		case 3:	/* touch */
			r = ag_db_session_touch(db, ids[j], now, now + 7200);
			want = live[j] ? AG_OK : AG_ERR_NOTFOUND;
			break;
		case 4:	/* delete */
			r = ag_db_session_delete(db, ids[j]);
			want = live[j] ? AG_OK : AG_ERR_NOTFOUND;
			live[j] = 0;
			break;
		default: /* everyone's rows */
			cnt = 0;
			r = ag_db_session_list(db, NULL, now, count_rows,
			    &cnt);
			want = AG_OK;
			break;
		}
		if (r != want) {
			if (bad++ < 3)
				fprintf(stderr, "# child %d op %d: got %s, "
				    "want %s\n", k, i, r < 0 ? "bad row" :
				    ag_strerror(r), ag_strerror(want));
		}
	}
	ag_db_close(db);
	for (i = 0; i < n; i++)
		alive += live[i];
	snprintf(line, sizeof(line), "%d\n", alive);
	if (write(fd, line, strlen(line)) < 0)
		bad++;
	return bad > 250 ? 250 : bad;
}

/* Every unexpired row opens; *n = how many. */
struct opens {
	struct ag_db	*db;
	int		 n;
	int		 bad;
};

static int
row_opens(const struct ag_db_row *lrow, void *arg)
{
	struct opens *o = arg;
	struct ag_db_row row;

	memset(&row, 0, sizeof(row));
	o->n++;
	if (ag_db_session_get(o->db, lrow->id, T0 + 100, &row) != AG_OK ||
	    row.data == NULL)
		o->bad++;
	ag_db_row_clear(&row);
	return 0;
}

static void
test_concurrency(void)
{
	struct ag_db *db = NULL;
	struct opens o;
	char buf[1024];
	pid_t pids[NCHILD];
	ssize_t got;
	size_t len = 0;
	int fds[2], go[2], i, status, allok = 1, expect = 0;
	char *s, *end, c;

	path(shared_db, sizeof(shared_db), "c.db");
	if (ag_db_open(shared_db, AG_DB_CREATE, key, &db) != AG_OK) {
		ok(0, "concurrency: create");
		return;
	}
	ag_db_close(db);	/* no connection crosses fork() */
	db = NULL;
	if (pipe(fds) == -1 || pipe(go) == -1) {
		ok(0, "concurrency: pipe");
		return;
	}
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < NCHILD; i++) {
		if ((pids[i] = fork()) == 0) {
			close(fds[0]);
			close(go[1]);
			/* All start together: EOF when the parent closes. */
			if (read(go[0], &c, 1) != 0)
				_exit(99);
			_exit(child_ops(i, fds[1]));
		}
	}
	close(go[0]);
	close(go[1]);
	close(fds[1]);
	while (len < sizeof(buf) - 1 &&
	    (got = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)got;
	buf[len] = '\0';
	close(fds[0]);
	for (i = 0; i < NCHILD; i++) {
		if (pids[i] <= 0 || waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			allok = 0;
			printf("# child %d: status %d\n", i, status);
		}
	}
	ok(allok, "concurrency: 8 x 200 mixed operations, no unexpected "
	    "result (no BUSY, no DB error)");
	for (s = buf, i = 0; i < NCHILD; i++, s = end) {
		expect += (int)strtol(s, &end, 10);
		if (end == s)
			break;
	}
	is_int(i, NCHILD, "concurrency: every child reported");

	if (ag_db_open(shared_db, AG_DB_READWRITE, key, &db) != AG_OK) {
		ok(0, "concurrency: reopen");
		return;
	}
	is_int(ag_db_check(db), AG_OK, "concurrency: integrity ok");
	memset(&o, 0, sizeof(o));
	o.db = db;
	is_int(ag_db_session_list(db, NULL, T0 + 100, row_opens, &o), AG_OK,
	    "concurrency: list");
	is_int(o.n, expect, "concurrency: rows = the children's survivors");
	is_int(o.bad, 0, "concurrency: every surviving row opens");
	ag_db_close(db);
	rm_db("c.db");
}

/*
 * The crash child: commit `before` rows, then either open a write
 * transaction and insert inside it forever (intxn), or insert in
 * autocommit forever; report readiness on fd; wait for SIGKILL.
 */
static void
crash_child(int intxn, int fd)
{
	struct ag_db *db = NULL;
	char id[AG_DB_ID_LEN + 1];
	int i;

	if (ag_db_open(shared_db, AG_DB_READWRITE, key, &db) != AG_OK)
		_exit(1);
	if (intxn && ag_db_begin(db) != AG_OK)
		_exit(2);
	for (i = 0;; i++) {
		ag_db_new_id(id);
		if (insert(db, id, "auth0|crash", NULL, T0, T0 + 3600) !=
		    AG_OK)
			_exit(3);
		if (i == 50 && write(fd, "r", 1) != 1)
			_exit(4);
	}
}

static void
test_crash(void)
{
	struct ag_db *db = NULL;
	struct opens o;
	char ids[20][AG_DB_ID_LEN + 1], c;
	int fds[2], i, status, pass, good, n0;
	pid_t pid;

	path(shared_db, sizeof(shared_db), "k.db");
	if (ag_db_open(shared_db, AG_DB_CREATE, key, &db) != AG_OK) {
		ok(0, "crash: create");
		return;
	}
	for (i = 0, good = 1; i < 20; i++) {
		ag_db_new_id(ids[i]);
		good &= insert(db, ids[i], "auth0|before", NULL, T0,
		    T0 + 3600) == AG_OK;
	}
	ok(good, "crash: 20 sessions committed");
	ag_db_close(db);

	n0 = 20;
	for (pass = 0; pass < 2; pass++) {
		db = NULL;
		if (pipe(fds) == -1)
			return;
		fflush(stdout);
		fflush(stderr);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			crash_child(pass == 0, fds[1]);
		}
		close(fds[1]);
		ok(read(fds[0], &c, 1) == 1, pass == 0 ?
		    "crash: child inside a write transaction" :
		    "crash: child inserting in autocommit");
		close(fds[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "crash: child killed with SIGKILL");

		is_int(ag_db_open(shared_db, AG_DB_READWRITE, key, &db), AG_OK,
		    "crash: reopen after kill -9");
		if (db == NULL)
			return;
		is_int(ag_db_check(db), AG_OK, "crash: integrity_check ok");
		for (i = 0, good = 1; i < 20; i++) {
			struct ag_db_row row;

			memset(&row, 0, sizeof(row));
			good &= ag_db_session_get(db, ids[i], T0, &row) ==
			    AG_OK && row.data != NULL;
			ag_db_row_clear(&row);
		}
		ok(good, "crash: every committed session intact");
		memset(&o, 0, sizeof(o));
		o.db = db;
		ag_db_session_list(db, NULL, T0 + 100, row_opens, &o);
		is_int(o.bad, 0, "crash: every row opens");
		if (pass == 0)
			is_int(o.n, n0, "crash: the killed transaction left "
			    "no row");
		else
			ok(o.n > n0 + 50, "crash: autocommitted rows kept");
		/* The writer's lock died with it: we can write. */
		is_int(ag_db_session_delete_by(db, NULL, "auth0|crash", &i),
		    AG_OK, "crash: write after kill");
		ag_db_close(db);
	}
	rm_db("k.db");
}

int
main(void)
{
	ag_log_open("test-db", AG_LOG_ERROR, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_ids();
	test_key();
	test_open();
	test_crud();
	test_delete_list();
	test_at_rest();
	test_versions();
	test_readonly();
	test_concurrency();
	test_crash();
	rm_db("s.db");
	if (rmdir(dir) == -1)
		printf("# rmdir %s: %s\n", dir, strerror(errno));
	return tap_done();
}
