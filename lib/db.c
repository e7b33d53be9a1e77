/*
 * db.c -- the SQLite session store.  See db.h.
 *
 * The only file that includes sqlite3.h.  Every statement is in the
 * table below, prepared once per connection on first use, run with
 * bound parameters and reset (bindings cleared) after each use.  A
 * connection belongs to one process: open it after fork(), never
 * before.  Errors are logged here with the statement's name and
 * sqlite3_errmsg(), never with a parameter (ids, claims, sealed data).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ag_limits.h"
#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "rand.h"

enum stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_VERSION,
	STMT_CHECK,
	STMT_GET,
	STMT_INSERT,
	STMT_UPDATE,
	STMT_TOUCH,
	STMT_DELETE,
	STMT_DELETE_SID,
	STMT_DELETE_SUB,
	STMT_DELETE_ALL,
	STMT_PURGE,
	STMT_LIST,
	STMT_LIST_SUB,
	STMT_REFRESH_GET,
	STMT_REFRESH_LOCK,
	STMT_REFRESH_FINISH,
	STMT_REFRESH_PURGE,
	STMT_REFRESH_RELEASE,
	STMT_JTI_PURGE,
	STMT_JTI_ADD,
	STMT_LOGOUT_PURGE,
	STMT_LOGOUT_ADD,
	STMT_LOGOUT_FIND,
	STMT__MAX
};

static const char *const stmt_names[STMT__MAX] = {
	"begin",		/* STMT_BEGIN */
	"commit",		/* STMT_COMMIT */
	"rollback",		/* STMT_ROLLBACK */
	"version",		/* STMT_VERSION */
	"check",		/* STMT_CHECK */
	"get",			/* STMT_GET */
	"insert",		/* STMT_INSERT */
	"update",		/* STMT_UPDATE */
	"touch",		/* STMT_TOUCH */
	"delete",		/* STMT_DELETE */
	"delete by sid",	/* STMT_DELETE_SID */
	"delete by sub",	/* STMT_DELETE_SUB */
	"delete all",		/* STMT_DELETE_ALL */
	"purge",		/* STMT_PURGE */
	"list",			/* STMT_LIST */
	"list by sub",		/* STMT_LIST_SUB */
	"refresh get",		/* STMT_REFRESH_GET */
	"refresh lock",		/* STMT_REFRESH_LOCK */
	"refresh finish",	/* STMT_REFRESH_FINISH */
	"refresh purge",	/* STMT_REFRESH_PURGE */
	"refresh release",	/* STMT_REFRESH_RELEASE */
	"jti purge",		/* STMT_JTI_PURGE */
	"jti add",		/* STMT_JTI_ADD */
	"logout purge",		/* STMT_LOGOUT_PURGE */
	"logout add",		/* STMT_LOGOUT_ADD */
	"logout find",		/* STMT_LOGOUT_FIND */
};

/* The columns of a row, in this order, for GET, LIST and LIST_SUB. */
#define ROW_COLUMNS \
	"id, sub, sid, email, name, created_at, last_seen, expires_at"
enum { COL_ID, COL_SUB, COL_SID, COL_EMAIL, COL_NAME, COL_CREATED,
	COL_LAST_SEEN, COL_EXPIRES, COL_DATA };

static const char *const stmt_sql[STMT__MAX] = {
	/* STMT_BEGIN */
	"BEGIN IMMEDIATE",
	/* STMT_COMMIT */
	"COMMIT",
	/* STMT_ROLLBACK */
	"ROLLBACK",
	/* STMT_VERSION */
	"PRAGMA user_version",
	/* STMT_CHECK */
	"PRAGMA integrity_check",
	/* STMT_GET: ?1 id, ?2 now */
	"SELECT " ROW_COLUMNS ", data FROM sessions "
	"WHERE id = ?1 AND expires_at > ?2",
	/* STMT_INSERT */
	"INSERT INTO sessions (id, sub, sid, email, name, created_at, "
	"last_seen, expires_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, "
	"?7, ?8)",
	/* STMT_UPDATE: only a live row; ?6 now */
	"UPDATE sessions SET sub = ?2, sid = ?3, email = ?4, name = ?5, "
	"last_seen = ?6, expires_at = ?7, data = ?8 "
	"WHERE id = ?1 AND expires_at > ?6",
	/* STMT_TOUCH: ?2 now */
	"UPDATE sessions SET last_seen = ?2, expires_at = ?3 "
	"WHERE id = ?1 AND expires_at > ?2",
	/* STMT_DELETE */
	"DELETE FROM sessions WHERE id = ?1",
	/* STMT_DELETE_SID */
	"DELETE FROM sessions WHERE sid = ?1",
	/* STMT_DELETE_SUB */
	"DELETE FROM sessions WHERE sub = ?1",
	/* STMT_DELETE_ALL */
	"DELETE FROM sessions",
	/* STMT_PURGE */
	"DELETE FROM sessions WHERE expires_at <= ?1",
	/* STMT_LIST: ?1 now */
	"SELECT " ROW_COLUMNS " FROM sessions WHERE expires_at > ?1 "
	"ORDER BY created_at DESC, rowid DESC",
	/* STMT_LIST_SUB: ?1 now, ?2 sub */
	"SELECT " ROW_COLUMNS " FROM sessions WHERE expires_at > ?1 "
	"AND sub = ?2 ORDER BY created_at DESC, rowid DESC",
	/* STMT_REFRESH_GET: ?1 key */
	"SELECT state, expires_at, result FROM refresh_results WHERE key = ?1",
	/* STMT_REFRESH_LOCK: ?1 key, ?2 now, ?3 lock expiry */
	"INSERT INTO refresh_results (key, state, started_at, finished_at, "
	"expires_at, result) VALUES (?1, 'pending', ?2, NULL, ?3, NULL) "
	"ON CONFLICT (key) DO UPDATE SET state = 'pending', "
	"started_at = ?2, finished_at = NULL, expires_at = ?3, result = NULL",
	/* STMT_REFRESH_FINISH: ?1 key, ?2 state, ?3 now, ?4 expiry, ?5 result */
	"INSERT INTO refresh_results (key, state, started_at, finished_at, "
	"expires_at, result) VALUES (?1, ?2, ?3, ?3, ?4, ?5) "
	"ON CONFLICT (key) DO UPDATE SET state = ?2, finished_at = ?3, "
	"expires_at = ?4, result = ?5",
	/* STMT_REFRESH_PURGE: ?1 now */
	"DELETE FROM refresh_results WHERE expires_at <= ?1",
	/* STMT_REFRESH_RELEASE: ?1 key */
	"DELETE FROM refresh_results WHERE key = ?1",
	/* STMT_JTI_PURGE: ?1 now */
	"DELETE FROM logout_jtis WHERE expires_at <= ?1",
	/* STMT_JTI_ADD: ?1 jti, ?2 now, ?3 expiry; no change: a replay */
	"INSERT INTO logout_jtis (jti, expires_at) VALUES (?1, ?3) "
	"ON CONFLICT (jti) DO UPDATE SET expires_at = ?3 "
	"WHERE logout_jtis.expires_at <= ?2",
	/* STMT_LOGOUT_PURGE: ?1 now */
	"DELETE FROM logouts WHERE expires_at <= ?1",
	/* STMT_LOGOUT_ADD: ?1 sid, ?2 sub, ?3 at, ?4 expiry */
	"INSERT INTO logouts (sid, sub, at, expires_at) "
	"VALUES (?1, ?2, ?3, ?4)",
	/*
	 * STMT_LOGOUT_FIND: ?1 the session's sid (may be NULL), ?2 its
	 * sub, ?3 its createdAt, ?4 now.  One row per index probe: by
	 * sid, or by sub among the sub-only logouts.
	 */
	"SELECT 1 FROM logouts WHERE (sid = ?1 OR (sid IS NULL AND "
	"sub = ?2)) AND at >= ?3 AND expires_at > ?4 LIMIT 1",
};

struct ag_db {
	sqlite3		*h;
	sqlite3_stmt	*st[STMT__MAX];
	char		*path;
	dev_t		 dev;	/* the file opened, to notice a replaced one */
	ino_t		 ino;
	unsigned char	 key[AG_KEY_LEN];
};

static int
is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* Log a failure of statement s and map rc to an ag_err. */
static int
fail(struct ag_db *db, enum stmt s, int rc)
{
	if (is_busy(rc)) {
		ag_err("sessions: %s: database locked for more than %d ms",
		    stmt_names[s], AG_DB_BUSY_TOTAL_MS);
		return AG_ERR_BUSY;
	}
	if ((rc & 0xff) == SQLITE_NOMEM) {
		ag_err("sessions: %s: out of memory", stmt_names[s]);
		return AG_ERR_NOMEM;
	}
	ag_err("sessions: %s: %s: %s", db->path, stmt_names[s],
	    sqlite3_errmsg(db->h));
	return AG_ERR_DB;
}

/* The prepared statement s, prepared on first use. */
static int
prepare(struct ag_db *db, enum stmt s, sqlite3_stmt **out)
{
	int rc;

	*out = NULL;
	if (db->st[s] == NULL) {
		rc = sqlite3_prepare_v3(db->h, stmt_sql[s], -1,
		    SQLITE_PREPARE_PERSISTENT, &db->st[s], NULL);
		if (rc != SQLITE_OK) {
			db->st[s] = NULL;
			return fail(db, s, rc);
		}
	}
	*out = db->st[s];
	return AG_OK;
}

static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * The first sqlite3_step of a statement, retried while the database is
 * locked: SQLite's busy handler waits within each attempt, and some
 * conditions (a WAL snapshot gone stale, recovery by another process)
 * return SQLITE_BUSY at once, so retry with short sleeps until
 * AG_DB_BUSY_TOTAL_MS have passed.  Returns sqlite3_step's code.
 */
static int
step_first(struct ag_db *db, sqlite3_stmt *st)
{
	int64_t deadline, left;
	int rc, nap = 5;

	deadline = ag_mono_ms() + AG_DB_BUSY_TOTAL_MS;
	for (;;) {
		left = deadline - ag_mono_ms();
		if (left > AG_DB_BUSY_TIMEOUT_MS)
			left = AG_DB_BUSY_TIMEOUT_MS;
		sqlite3_busy_timeout(db->h, left > 1 ? (int)left : 1);
		rc = sqlite3_step(st);
		if (!is_busy(rc))
			return rc;
		sqlite3_reset(st);
		if (ag_mono_ms() + nap >= deadline)
			return rc;
		ag_sleep_ms(nap);
		if (nap < 50)
			nap *= 2;
	}
}

/* Run statement st (already bound) that returns no rows; reset it. */
static int
run(struct ag_db *db, enum stmt s, sqlite3_stmt *st)
{
	int rc, r = AG_OK;

	rc = step_first(db, st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = fail(db, s, rc);
	done(st);
	return r;
}

/* Run a statement that has no parameters and returns no rows. */
static int
run_plain(struct ag_db *db, enum stmt s)
{
	sqlite3_stmt *st;
	int r;

	if ((r = prepare(db, s, &st)) != AG_OK)
		return r;
	return run(db, s, st);
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/*
 * The key sealing one row's data: HKDF-SHA256(db key, info "authgate
 * session " id), so the data of one row does not open in another.
 */
static int
row_key(const struct ag_db *db, const char *id, unsigned char key[AG_KEY_LEN])
{
	static const char prefix[] = "authgate session ";
	char info[sizeof(prefix) + AG_DB_ID_LEN];

	memcpy(info, prefix, sizeof(prefix) - 1);
	memcpy(info + sizeof(prefix) - 1, id, AG_DB_ID_LEN);
	return ag_hkdf_sha256(db->key, AG_KEY_LEN, "", 0, info,
	    sizeof(prefix) - 1 + AG_DB_ID_LEN, key, AG_KEY_LEN);
}

int
ag_db_key(const char *secret, unsigned char key[AG_KEY_LEN])
{
	static const char info[] = "authgate sessions db";

	if (secret == NULL || *secret == '\0')
		return AG_ERR_CONFIG;
	return ag_hkdf_sha256(secret, strlen(secret), "", 0, info,
	    sizeof(info) - 1, key, AG_KEY_LEN);
}

int
ag_db_id_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < AG_DB_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[AG_DB_ID_LEN] == '\0';
}

int
ag_db_new_id(char id[AG_DB_ID_LEN + 1])
{
	struct ag_buf b;
	int r;

	id[0] = '\0';
	ag_buf_init(&b, AG_DB_ID_LEN);
	if ((r = ag_rand_hex(&b, AG_DB_ID_LEN / 2)) == AG_OK &&
	    b.len == AG_DB_ID_LEN)
		memcpy(id, b.data, AG_DB_ID_LEN + 1);
	else if (r == AG_OK)
		r = AG_ERR_CRYPTO;
	ag_buf_free(&b);
	return r;
}

void
ag_db_row_clear(struct ag_db_row *row)
{
	if (row == NULL)
		return;
	free(row->sub);
	free(row->sid);
	free(row->email);
	free(row->name);
	ag_json_free(row->data);
	memset(row, 0, sizeof(*row));
}

/* A text column as an owned string (NULL for SQL NULL). */
static int
column_dup(sqlite3_stmt *st, int col, char **out)
{
	const unsigned char *t;

	*out = NULL;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return AG_OK;
	if ((t = sqlite3_column_text(st, col)) == NULL)
		return AG_ERR_NOMEM;
	if ((*out = strdup((const char *)t)) == NULL)
		return AG_ERR_NOMEM;
	return AG_OK;
}

/* Fill row from the current result row of st (not data). */
static int
row_fill(sqlite3_stmt *st, struct ag_db_row *row)
{
	const unsigned char *id;
	int r;

	memset(row, 0, sizeof(*row));
	id = sqlite3_column_text(st, COL_ID);
	if (id == NULL || !ag_db_id_ok((const char *)id))
		return AG_ERR_DB;	/* the CHECK constraint forbids it */
	memcpy(row->id, id, AG_DB_ID_LEN + 1);
	if ((r = column_dup(st, COL_SUB, &row->sub)) != AG_OK ||
	    (r = column_dup(st, COL_SID, &row->sid)) != AG_OK ||
	    (r = column_dup(st, COL_EMAIL, &row->email)) != AG_OK ||
	    (r = column_dup(st, COL_NAME, &row->name)) != AG_OK)
		return r;
	if (row->sub == NULL)
		return AG_ERR_DB;
	row->created_at = sqlite3_column_int64(st, COL_CREATED);
	row->last_seen = sqlite3_column_int64(st, COL_LAST_SEEN);
	row->expires_at = sqlite3_column_int64(st, COL_EXPIRES);
	return AG_OK;
}

static int
read_version(struct ag_db *db, int *version)
{
	sqlite3_stmt *st;
	int rc, r;

	*version = 0;
	if ((r = prepare(db, STMT_VERSION, &st)) != AG_OK)
		return r;
	rc = step_first(db, st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else
		r = fail(db, STMT_VERSION, rc);
	done(st);
	return r;
}

int
ag_db_version(struct ag_db *db, int *have, int *want)
{
	int r = AG_OK, v = 0;

	if (have != NULL)
		r = read_version(db, &v);
	if (have != NULL)
		*have = v;
	if (want != NULL)
		*want = ag_sql_migrations_count;
	return r;
}

int
ag_db_begin(struct ag_db *db)
{
	return run_plain(db, STMT_BEGIN);
}

int
ag_db_commit(struct ag_db *db)
{
	int r;

	if ((r = run_plain(db, STMT_COMMIT)) != AG_OK)
		ag_db_rollback(db);
	return r;
}

void
ag_db_rollback(struct ag_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		(void)run_plain(db, STMT_ROLLBACK);
}

int
ag_db_check(struct ag_db *db)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	int rc, r, lines = 0;

	if ((r = prepare(db, STMT_CHECK, &st)) != AG_OK)
		return r;
	rc = step_first(db, st);
	if (rc == SQLITE_ROW &&
	    (t = sqlite3_column_text(st, 0)) != NULL &&
	    strcmp((const char *)t, "ok") == 0) {
		done(st);
		return AG_OK;
	}
	if (rc != SQLITE_ROW) {
		r = fail(db, STMT_CHECK, rc);
		done(st);
		return r;
	}
	/* Log the first few complaints; integrity_check can list many. */
	while (rc == SQLITE_ROW && lines++ < 5) {
		t = sqlite3_column_text(st, 0);
		ag_err("sessions: %s: integrity check: %s", db->path,
		    t != NULL ? (const char *)t : "?");
		rc = sqlite3_step(st);
	}
	done(st);
	return AG_ERR_DB;
}

/*
 * Apply migration number n (1-based) unless another process did it
 * first: BEGIN IMMEDIATE, read user_version again, run, bump, COMMIT.
 */
static int
migrate_one(struct ag_db *db, int n, int *ran)
{
	char pragma[64];
	char *msg = NULL;
	int r, v, rc;

	*ran = 0;
	if ((r = ag_db_begin(db)) != AG_OK)
		return r;
	if ((r = read_version(db, &v)) != AG_OK)
		goto out;
	if (v >= n)
		goto out;	/* someone else applied it meanwhile */
	if (v != n - 1) {
		ag_err("sessions: %s: schema version %d, expected %d",
		    db->path, v, n - 1);
		r = AG_ERR_DB;
		goto out;
	}
	/* Constant text compiled in; only the number is formatted. */
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", n);
	rc = sqlite3_exec(db->h, ag_sql_migrations[n - 1], NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->h, pragma, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		ag_err("sessions: %s: migration %04d: %s", db->path, n,
		    msg != NULL ? msg : sqlite3_errstr(rc));
		r = is_busy(rc) ? AG_ERR_BUSY : AG_ERR_DB;
		goto out;
	}
	*ran = 1;
out:
	sqlite3_free(msg);
	if (r == AG_OK)
		r = ag_db_commit(db);
	else
		ag_db_rollback(db);
	if (r != AG_OK)
		*ran = 0;
	return r;
}

int
ag_db_migrate(struct ag_db *db, int *applied)
{
	int r, have, ran, n = 0;

	if (applied != NULL)
		*applied = 0;
	if ((r = read_version(db, &have)) != AG_OK)
		return r;
	if (have > ag_sql_migrations_count) {
		ag_err("sessions: %s: schema version %d is newer than this "
		    "build's %d", db->path, have, ag_sql_migrations_count);
		return AG_ERR_DB;
	}
	for (; have < ag_sql_migrations_count; have++) {
		if ((r = migrate_one(db, have + 1, &ran)) != AG_OK)
			break;
		n += ran;
	}
	if (applied != NULL)
		*applied = n;
	if (r == AG_OK && n > 0)
		ag_info("sessions: %s: applied %d migration%s, schema "
		    "version %d", db->path, n, n == 1 ? "" : "s",
		    ag_sql_migrations_count);
	return r;
}

/*
 * Create the file, empty, with mode 0660 whatever the caller's umask
 * lets through beyond group and owner; SQLite gives the -wal and -shm
 * files the same mode.
 */
static int
create_file(const char *path)
{
	mode_t old;
	int fd;

	old = umask(007);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
	umask(old);
	if (fd == -1 && errno == EEXIST)
		return AG_OK;
	if (fd == -1) {
		ag_err("sessions: %s: cannot create: %s", path,
		    strerror(errno));
		return AG_ERR_IO;
	}
	close(fd);
	return AG_OK;
}

/* The per-connection settings; journal_mode only when we may write. */
static int
configure(struct ag_db *db, int mode)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	char *msg = NULL;
	int rc, r = AG_OK;

	sqlite3_busy_timeout(db->h, AG_DB_BUSY_TIMEOUT_MS);
	rc = sqlite3_exec(db->h, "PRAGMA foreign_keys = ON; "
	    "PRAGMA synchronous = NORMAL", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		ag_err("sessions: %s: pragmas: %s", db->path,
		    msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return AG_ERR_DB;
	}
	if (mode == AG_DB_READONLY)
		return AG_OK;
	rc = sqlite3_prepare_v2(db->h, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL);
	if (rc == SQLITE_OK)
		rc = step_first(db, st);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		if (t == NULL || strcmp((const char *)t, "wal") != 0)
			ag_warn("sessions: %s: journal mode is %s, not wal",
			    db->path, t != NULL ? (const char *)t : "?");
	} else {
		ag_err("sessions: %s: journal_mode: %s", db->path,
		    is_busy(rc) ? "database locked" : sqlite3_errmsg(db->h));
		r = is_busy(rc) ? AG_ERR_BUSY : AG_ERR_DB;
	}
	sqlite3_finalize(st);
	return r;
}

int
ag_db_open(const char *path, int mode, const unsigned char key[AG_KEY_LEN],
    struct ag_db **out)
{
	struct ag_db *db = NULL;
	struct stat sb;
	int flags, rc, r, have;

	*out = NULL;
	if (path == NULL || *path == '\0' || key == NULL || mode < 0 ||
	    mode >= AG_DB__MAX)
		return AG_ERR_CONFIG;
	if (mode == AG_DB_CREATE && (r = create_file(path)) != AG_OK)
		return r;
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	memcpy(db->key, key, AG_KEY_LEN);
	/*
	 * The file's identity before opening it: a replacement between
	 * here and the open costs one needless reopen (ag_db_replaced),
	 * never a connection to an orphaned file taken for the current one.
	 */
	if (stat(path, &sb) != 0) {
		ag_err("sessions: %s: cannot open: %s%s", path,
		    strerror(errno), errno == ENOENT ?
		    " (run authgate migrate)" : "");
		r = AG_ERR_DB;
		goto out;
	}
	db->dev = sb.st_dev;
	db->ino = sb.st_ino;

	flags = SQLITE_OPEN_NOMUTEX | (mode == AG_DB_READONLY ?
	    SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	rc = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		ag_err("sessions: %s: cannot open: %s%s", path,
		    db->h != NULL ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc),
		    mode == AG_DB_READWRITE ? " (run authgate migrate)" : "");
		r = (rc & 0xff) == SQLITE_NOMEM ? AG_ERR_NOMEM : AG_ERR_DB;
		goto out;
	}
	sqlite3_extended_result_codes(db->h, 1);
	/* A file we cannot write opens read-only without a word: refuse. */
	if (mode != AG_DB_READONLY && sqlite3_db_readonly(db->h, "main") != 0) {
		ag_err("sessions: %s: read-only (check the owner and mode of "
		    "the file and its directory)", path);
		r = AG_ERR_DB;
		goto out;
	}
	if ((r = configure(db, mode)) != AG_OK)
		goto out;
	if (mode == AG_DB_CREATE && (r = ag_db_migrate(db, NULL)) != AG_OK)
		goto out;
	if ((r = read_version(db, &have)) != AG_OK)
		goto out;
	if (have != ag_sql_migrations_count) {
		ag_err("sessions: %s: schema version %d, this build needs %d%s",
		    path, have, ag_sql_migrations_count,
		    have < ag_sql_migrations_count ?
		    ": run authgate migrate" : "");
		r = AG_ERR_DB;
		goto out;
	}
	*out = db;
	db = NULL;
out:
	ag_db_close(db);
	return r;
}

int
ag_db_absent(const char *path)
{
	struct stat st;

	if (path == NULL || *path == '\0')
		return 1;
	return stat(path, &st) != 0 && errno == ENOENT;
}

int
ag_db_replaced(const struct ag_db *db)
{
	struct stat sb;

	if (db == NULL)
		return 0;
	if (stat(db->path, &sb) != 0) {
		ag_warn("sessions: %s: %s; closing the connection to the "
		    "old file", db->path, strerror(errno));
		return 1;
	}
	if (sb.st_dev != db->dev || sb.st_ino != db->ino) {
		ag_warn("sessions: %s was replaced; opening the new file",
		    db->path);
		return 1;
	}
	return 0;
}

void
ag_db_close(struct ag_db *db)
{
	int i;

	if (db == NULL)
		return;
	for (i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(db->st[i]);
	if (db->h != NULL && sqlite3_close(db->h) != SQLITE_OK)
		ag_warn("sessions: %s: close: %s", db->path,
		    sqlite3_errmsg(db->h));
	free(db->path);
	ag_freezero(db, sizeof(*db));
}

int
ag_db_session_get(struct ag_db *db, const char *id, int64_t now,
    struct ag_db_row *row)
{
	unsigned char key[AG_KEY_LEN];
	sqlite3_stmt *st;
	const char *data;
	int rc, r, n;

	memset(row, 0, sizeof(*row));
	if (!ag_db_id_ok(id))
		return AG_ERR_NOTFOUND;
	if ((r = prepare(db, STMT_GET, &st)) != AG_OK)
		return r;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK) {
		r = fail(db, STMT_GET, sqlite3_errcode(db->h));
		goto out;
	}
	rc = step_first(db, st);
	if (rc == SQLITE_DONE) {
		r = AG_ERR_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = fail(db, STMT_GET, rc);
		goto out;
	}
	if ((r = row_fill(st, row)) != AG_OK) {
		ag_err("sessions: %s: get: unreadable row: %s", db->path,
		    ag_strerror(r));
		goto out;
	}
	data = (const char *)sqlite3_column_blob(st, COL_DATA);
	n = sqlite3_column_bytes(st, COL_DATA);
	/*
	 * The row's expires_at is the expiry, checked above; the seal's
	 * exp was the expiry when it was written, which a touch may since
	 * have moved, so it is checked against the row's creation only.
	 */
	if ((r = row_key(db, row->id, key)) != AG_OK)
		goto out;
	if (data == NULL || n <= 0 ||
	    ag_unseal(key, data, (size_t)n, row->created_at, &row->data) !=
	    AG_OK) {
		ag_warn("sessions: row %.8s... data does not open (secret "
		    "changed?)", row->id);
		r = AG_ERR_NOTFOUND;
	} else
		ag_json_del(row->data, "exp");	/* the seal's, not ours */
out:
	explicit_bzero(key, sizeof(key));
	done(st);
	if (r != AG_OK)
		ag_db_row_clear(row);
	return r;
}

/* The plain columns of data: user.sub (required), internal.sid, ... */
struct plain {
	const char	*sub;
	const char	*sid;
	const char	*email;
	const char	*name;
};

static int
plain_get(ag_json *data, struct plain *p)
{
	ag_json *user;

	memset(p, 0, sizeof(*p));
	if ((user = ag_json_get(data, "user")) == NULL ||
	    (p->sub = ag_json_get_str(user, "sub")) == NULL)
		return AG_ERR_PARSE;
	p->sid = ag_json_get_str(ag_json_get(data, "internal"), "sid");
	p->email = ag_json_get_str(user, "email");
	p->name = ag_json_get_str(user, "name");
	return AG_OK;
}

/*
 * INSERT or UPDATE: bind ?1 id, ?2..?5 sub, sid, email, name, ?6 now,
 * ?7 expires_at, ?8 the sealed data, and run.  *changes = rows changed.
 */
static int
write_row(struct ag_db *db, enum stmt s, const char *id, ag_json *data,
    int64_t now, int64_t expires_at, int *changes)
{
	unsigned char key[AG_KEY_LEN];
	struct ag_buf sealed;
	struct plain p;
	sqlite3_stmt *st = NULL;
	int r;

	*changes = 0;
	ag_buf_init(&sealed, AG_MAX_JWT);
	if (!ag_db_id_ok(id) || data == NULL) {
		r = AG_ERR_PARSE;
		goto out;
	}
	if ((r = plain_get(data, &p)) != AG_OK) {
		ag_err("sessions: %s: session data without user.sub",
		    stmt_names[s]);
		goto out;
	}
	if ((r = row_key(db, id, key)) != AG_OK ||
	    (r = ag_seal(key, data, expires_at, &sealed)) != AG_OK) {
		ag_err("sessions: %s: cannot seal the session data: %s",
		    stmt_names[s], ag_strerror(r));
		goto out;
	}
	if ((r = prepare(db, s, &st)) != AG_OK)
		goto out;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    bind_text(st, 2, p.sub) != SQLITE_OK ||
	    bind_text(st, 3, p.sid) != SQLITE_OK ||
	    bind_text(st, 4, p.email) != SQLITE_OK ||
	    bind_text(st, 5, p.name) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, expires_at) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 8, sealed.data, (int)sealed.len,
	    SQLITE_TRANSIENT) != SQLITE_OK) {
		r = fail(db, s, sqlite3_errcode(db->h));
		done(st);
		goto out;
	}
	if ((r = run(db, s, st)) == AG_OK)
		*changes = sqlite3_changes(db->h);
out:
	explicit_bzero(key, sizeof(key));
	ag_buf_free(&sealed);
	return r;
}

int
ag_db_session_insert(struct ag_db *db, const char *id, ag_json *data,
    int64_t now, int64_t expires_at)
{
	int changes;

	return write_row(db, STMT_INSERT, id, data, now, expires_at, &changes);
}

int
ag_db_session_update(struct ag_db *db, const char *id, ag_json *data,
    int64_t now, int64_t expires_at)
{
	int r, changes;

	if (!ag_db_id_ok(id))
		return AG_ERR_NOTFOUND;
	r = write_row(db, STMT_UPDATE, id, data, now, expires_at, &changes);
	if (r == AG_OK && changes != 1)
		r = AG_ERR_NOTFOUND;
	return r;
}

int
ag_db_session_touch(struct ag_db *db, const char *id, int64_t now,
    int64_t expires_at)
{
	sqlite3_stmt *st;
	int r;

	if (!ag_db_id_ok(id))
		return AG_ERR_NOTFOUND;
	if ((r = prepare(db, STMT_TOUCH, &st)) != AG_OK)
		return r;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, expires_at) != SQLITE_OK) {
		r = fail(db, STMT_TOUCH, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	if ((r = run(db, STMT_TOUCH, st)) == AG_OK &&
	    sqlite3_changes(db->h) != 1)
		r = AG_ERR_NOTFOUND;
	return r;
}

/* A DELETE with at most one text parameter; *count = rows deleted. */
static int
delete_where(struct ag_db *db, enum stmt s, const char *arg, int *count)
{
	sqlite3_stmt *st;
	int r;

	if (count != NULL)
		*count = 0;
	if ((r = prepare(db, s, &st)) != AG_OK)
		return r;
	if (arg != NULL && sqlite3_bind_text(st, 1, arg, -1,
	    SQLITE_TRANSIENT) != SQLITE_OK) {
		r = fail(db, s, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	if ((r = run(db, s, st)) == AG_OK && count != NULL)
		*count = sqlite3_changes(db->h);
	return r;
}

int
ag_db_session_delete(struct ag_db *db, const char *id)
{
	int r, n;

	if (!ag_db_id_ok(id))
		return AG_ERR_NOTFOUND;
	if ((r = delete_where(db, STMT_DELETE, id, &n)) == AG_OK && n == 0)
		r = AG_ERR_NOTFOUND;
	return r;
}

int
ag_db_session_delete_by(struct ag_db *db, const char *sid, const char *sub,
    int *count)
{
	if (count != NULL)
		*count = 0;
	if (sid != NULL)
		return delete_where(db, STMT_DELETE_SID, sid, count);
	if (sub != NULL)
		return delete_where(db, STMT_DELETE_SUB, sub, count);
	return AG_ERR_PARSE;
}

int
ag_db_session_delete_all(struct ag_db *db, int *count)
{
	return delete_where(db, STMT_DELETE_ALL, NULL, count);
}

int
ag_db_session_purge(struct ag_db *db, int64_t now, int *count)
{
	sqlite3_stmt *st;
	int r;

	if (count != NULL)
		*count = 0;
	if ((r = prepare(db, STMT_PURGE, &st)) != AG_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK) {
		r = fail(db, STMT_PURGE, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	if ((r = run(db, STMT_PURGE, st)) == AG_OK && count != NULL)
		*count = sqlite3_changes(db->h);
	return r;
}

int
ag_db_session_list(struct ag_db *db, const char *sub, int64_t now,
    int (*fn)(const struct ag_db_row *, void *), void *arg)
{
	struct ag_db_row row;
	enum stmt s = sub != NULL ? STMT_LIST_SUB : STMT_LIST;
	sqlite3_stmt *st;
	int rc, r;

	memset(&row, 0, sizeof(row));
	if ((r = prepare(db, s, &st)) != AG_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    (sub != NULL && sqlite3_bind_text(st, 2, sub, -1,
	    SQLITE_TRANSIENT) != SQLITE_OK)) {
		r = fail(db, s, sqlite3_errcode(db->h));
		goto out;
	}
	for (rc = step_first(db, st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
		if ((r = row_fill(st, &row)) != AG_OK) {
			ag_err("sessions: %s: %s: unreadable row: %s",
			    db->path, stmt_names[s], ag_strerror(r));
			goto out;
		}
		r = fn(&row, arg);
		ag_db_row_clear(&row);
		if (r != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = fail(db, s, rc);
out:
	ag_db_row_clear(&row);
	done(st);
	return r;
}

/* ------------------------------------------------------------------ */
/* Refresh coordination                                               */

static int
refresh_key_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < AG_DB_REFRESH_KEY_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[AG_DB_REFRESH_KEY_LEN] == '\0';
}

/*
 * The key sealing one refresh outcome: HKDF-SHA256(db key, info
 * "authgate refresh " key), as row_key does for sessions.
 */
static int
refresh_seal_key(const struct ag_db *db, const char *rkey,
    unsigned char key[AG_KEY_LEN])
{
	static const char prefix[] = "authgate refresh ";
	char info[sizeof(prefix) + AG_DB_REFRESH_KEY_LEN];

	memcpy(info, prefix, sizeof(prefix) - 1);
	memcpy(info + sizeof(prefix) - 1, rkey, AG_DB_REFRESH_KEY_LEN);
	return ag_hkdf_sha256(db->key, AG_KEY_LEN, "", 0, info,
	    sizeof(prefix) - 1 + AG_DB_REFRESH_KEY_LEN, key, AG_KEY_LEN);
}

int
ag_db_refresh_purge(struct ag_db *db, int64_t now, int *count)
{
	sqlite3_stmt *st;
	int r;

	if (count != NULL)
		*count = 0;
	if ((r = prepare(db, STMT_REFRESH_PURGE, &st)) != AG_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK) {
		r = fail(db, STMT_REFRESH_PURGE, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	if ((r = run(db, STMT_REFRESH_PURGE, st)) == AG_OK && count != NULL)
		*count = sqlite3_changes(db->h);
	return r;
}

/*
 * The row of key as it stands (inside the caller's transaction):
 * *state is -1 when there is none or it expired, else the state; a
 * 'done' or 'failed' outcome is unsealed into *result (one that does
 * not open counts as no row).
 */
static int
refresh_get(struct ag_db *db, const char *key, int64_t now, int *state,
    ag_json **result)
{
	unsigned char skey[AG_KEY_LEN];
	sqlite3_stmt *st;
	const unsigned char *t;
	const char *data;
	int64_t expires;
	int rc, r, n;

	*state = -1;
	*result = NULL;
	if ((r = prepare(db, STMT_REFRESH_GET, &st)) != AG_OK)
		return r;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		r = fail(db, STMT_REFRESH_GET, sqlite3_errcode(db->h));
		goto out;
	}
	rc = step_first(db, st);
	if (rc == SQLITE_DONE)
		goto out;
	if (rc != SQLITE_ROW) {
		r = fail(db, STMT_REFRESH_GET, rc);
		goto out;
	}
	t = sqlite3_column_text(st, 0);
	expires = sqlite3_column_int64(st, 1);
	if (t == NULL || expires <= now)
		goto out;
	if (strcmp((const char *)t, "pending") == 0) {
		*state = AG_REFRESH_WAIT;
		goto out;
	}
	if (strcmp((const char *)t, "done") == 0)
		*state = AG_REFRESH_DONE;
	else if (strcmp((const char *)t, "failed") == 0)
		*state = AG_REFRESH_FAILED;
	else
		goto out;	/* the CHECK constraint forbids it */
	data = (const char *)sqlite3_column_blob(st, 2);
	n = sqlite3_column_bytes(st, 2);
	if ((r = refresh_seal_key(db, key, skey)) != AG_OK)
		goto out;
	if (data == NULL || n <= 0 ||
	    ag_unseal(skey, data, (size_t)n, now, result) != AG_OK) {
		ag_warn("sessions: refresh outcome %.8s... does not open "
		    "(secret changed?); refreshing again", key);
		*state = -1;
		*result = NULL;
	} else
		ag_json_del(*result, "exp");
out:
	explicit_bzero(skey, sizeof(skey));
	done(st);
	if (r != AG_OK) {
		ag_json_free(*result);
		*result = NULL;
		*state = -1;
	}
	return r;
}

int
ag_db_refresh_claim(struct ag_db *db, const char *key, int64_t now,
    int64_t lock_secs, int *state, ag_json **result)
{
	sqlite3_stmt *st;
	int r, have;

	*state = AG_REFRESH_WAIT;
	*result = NULL;
	if (!refresh_key_ok(key) || lock_secs <= 0)
		return AG_ERR_PARSE;
	if ((r = ag_db_begin(db)) != AG_OK)
		return r;
	if ((r = ag_db_refresh_purge(db, now, NULL)) != AG_OK ||
	    (r = refresh_get(db, key, now, &have, result)) != AG_OK)
		goto out;
	if (have != -1) {
		*state = have;
		goto out;
	}
	if ((r = prepare(db, STMT_REFRESH_LOCK, &st)) != AG_OK)
		goto out;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now + lock_secs) != SQLITE_OK) {
		r = fail(db, STMT_REFRESH_LOCK, sqlite3_errcode(db->h));
		done(st);
		goto out;
	}
	if ((r = run(db, STMT_REFRESH_LOCK, st)) == AG_OK)
		*state = AG_REFRESH_MINE;
out:
	if (r == AG_OK)
		r = ag_db_commit(db);
	else
		ag_db_rollback(db);
	if (r != AG_OK) {
		ag_json_free(*result);
		*result = NULL;
		*state = AG_REFRESH_WAIT;
	}
	return r;
}

int
ag_db_refresh_peek(struct ag_db *db, const char *key, int64_t now,
    int *state, ag_json **result)
{
	int r, have;

	*state = -1;
	*result = NULL;
	if (!refresh_key_ok(key))
		return AG_ERR_PARSE;
	/* One SELECT: atomic without a transaction, and takes no lock. */
	if ((r = refresh_get(db, key, now, &have, result)) != AG_OK)
		return r;
	if (have == AG_REFRESH_DONE || have == AG_REFRESH_FAILED)
		*state = have;
	return AG_OK;
}

int
ag_db_refresh_release(struct ag_db *db, const char *key)
{
	sqlite3_stmt *st;
	int r;

	if (!refresh_key_ok(key))
		return AG_ERR_PARSE;
	if ((r = prepare(db, STMT_REFRESH_RELEASE, &st)) != AG_OK)
		return r;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		r = fail(db, STMT_REFRESH_RELEASE, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	return run(db, STMT_REFRESH_RELEASE, st);
}

int
ag_db_refresh_finish(struct ag_db *db, const char *key, int ok,
    ag_json *result, int64_t now)
{
	unsigned char skey[AG_KEY_LEN];
	struct ag_buf sealed;
	sqlite3_stmt *st;
	int64_t expires = now + AG_REFRESH_KEEP_SECS;
	int r;

	ag_buf_init(&sealed, AG_MAX_JWT);
	if (!refresh_key_ok(key) || result == NULL) {
		r = AG_ERR_PARSE;
		goto out;
	}
	if ((r = refresh_seal_key(db, key, skey)) != AG_OK ||
	    (r = ag_seal(skey, result, expires, &sealed)) != AG_OK) {
		ag_err("sessions: refresh finish: cannot seal the outcome: %s",
		    ag_strerror(r));
		goto out;
	}
	if ((r = prepare(db, STMT_REFRESH_FINISH, &st)) != AG_OK)
		goto out;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, ok ? "done" : "failed", -1,
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, expires) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 5, sealed.data, (int)sealed.len,
	    SQLITE_TRANSIENT) != SQLITE_OK) {
		r = fail(db, STMT_REFRESH_FINISH, sqlite3_errcode(db->h));
		done(st);
		goto out;
	}
	r = run(db, STMT_REFRESH_FINISH, st);
out:
	explicit_bzero(skey, sizeof(skey));
	ag_buf_free(&sealed);
	return r;
}

/* ------------------------------------------------------------------ */
/* Back-channel logout (sql/0003-logouts.sql)                          */

/* Run the purge statement s with ?1 = now. */
static int
purge_before(struct ag_db *db, enum stmt s, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if ((r = prepare(db, s, &st)) != AG_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK) {
		r = fail(db, s, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	return run(db, s, st);
}

int
ag_db_jti_remember(struct ag_db *db, const char *jti, int64_t now,
    int64_t expires_at)
{
	sqlite3_stmt *st;
	int r;

	if (jti == NULL || *jti == '\0')
		return AG_ERR_PARSE;
	if ((r = purge_before(db, STMT_JTI_PURGE, now)) != AG_OK)
		return r;
	if ((r = prepare(db, STMT_JTI_ADD, &st)) != AG_OK)
		return r;
	if (bind_text(st, 1, jti) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, expires_at) != SQLITE_OK) {
		r = fail(db, STMT_JTI_ADD, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	if ((r = run(db, STMT_JTI_ADD, st)) == AG_OK &&
	    sqlite3_changes(db->h) == 0)
		r = AG_ERR_DENIED;
	return r;
}

int
ag_db_logout_record(struct ag_db *db, const char *sid, const char *sub,
    int64_t at, int64_t expires_at)
{
	sqlite3_stmt *st;
	int r;

	if (sid == NULL && sub == NULL)
		return AG_ERR_PARSE;
	if ((r = purge_before(db, STMT_LOGOUT_PURGE, at)) != AG_OK)
		return r;
	if ((r = prepare(db, STMT_LOGOUT_ADD, &st)) != AG_OK)
		return r;
	if (bind_text(st, 1, sid) != SQLITE_OK ||
	    bind_text(st, 2, sub) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, at) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, expires_at) != SQLITE_OK) {
		r = fail(db, STMT_LOGOUT_ADD, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	return run(db, STMT_LOGOUT_ADD, st);
}

int
ag_db_logout_find(struct ag_db *db, const char *sid, const char *sub,
    int64_t created_at, int64_t now, int *found)
{
	sqlite3_stmt *st;
	int rc, r;

	*found = 0;
	if (sub == NULL)
		return AG_ERR_PARSE;
	if ((r = prepare(db, STMT_LOGOUT_FIND, &st)) != AG_OK)
		return r;
	if (bind_text(st, 1, sid) != SQLITE_OK ||
	    bind_text(st, 2, sub) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, created_at) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK) {
		r = fail(db, STMT_LOGOUT_FIND, sqlite3_errcode(db->h));
		done(st);
		return r;
	}
	rc = step_first(db, st);
	if (rc == SQLITE_ROW)
		*found = 1;
	else if (rc != SQLITE_DONE)
		r = fail(db, STMT_LOGOUT_FIND, rc);
	done(st);
	return r;
}
