/*
 * db.h -- the SQLite session store.  db.c is the only file that
 * includes sqlite3.h; every statement is in its statement table, with
 * bound parameters only.
 *
 * The schema is sql/schema.sql plus the numbered migrations in sql/,
 * compiled into the programs; PRAGMA user_version says which migrations
 * ran.  Connections use WAL, foreign keys, and a busy timeout; a
 * statement that still finds the database locked after the bounded wait
 * fails with AG_ERR_BUSY (callers answer 503), never "database is
 * locked" to a user.
 *
 * A session row keeps what an operator needs in plain columns (sub,
 * sid, email, name, times) and the whole SessionData JSON sealed with a
 * key derived from the secret and the row's id (ag_seal), so a copied
 * database file holds no readable token and one row's data cannot be
 * moved into another row.  The row's expires_at is the expiry (a touch
 * moves it without resealing); the seal's own exp is only checked
 * against the row's creation.
 */
#ifndef AG_DB_H
#define AG_DB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto.h"
#include "json.h"

#define AG_DB_ID_LEN	32	/* lower-case hex characters of a session id */

/*
 * Waiting for a lock: SQLite's busy handler waits up to
 * AG_DB_BUSY_TIMEOUT_MS per attempt, and a statement is retried with
 * short sleeps until AG_DB_BUSY_TOTAL_MS have passed in all; then
 * AG_ERR_BUSY.
 */
#define AG_DB_BUSY_TIMEOUT_MS	2000
#define AG_DB_BUSY_TOTAL_MS	3000

/*
 * The migrations, generated from sql/NNNN-*.sql by sql/embed.sh:
 * ag_sql_migrations[i] is migration i + 1; NULL-terminated.
 */
extern const char *const ag_sql_migrations[];
extern const int ag_sql_migrations_count;

struct ag_db;

enum ag_db_mode {
	AG_DB_READWRITE,	/* the file must exist, schema current */
	AG_DB_CREATE,		/* create and migrate as needed (CLI) */
	AG_DB_READONLY,
	AG_DB__MAX
};

/*
 * Open path.  AG_DB_CREATE creates the file (mode 0660) and applies the
 * missing migrations; the other modes refuse a database whose
 * user_version is not current (AG_ERR_DB, "run authgate migrate").
 * A file this process cannot write is refused in the writing modes
 * (AG_ERR_DB) rather than opened read-only.  key: the 32-byte key for
 * sealing session data (ag_db_key), copied.  *out is NULL on failure;
 * every failure is logged.  A connection serves one process: open it
 * after fork(), never before.
 */
int	 ag_db_open(const char *path, int mode,
	    const unsigned char key[AG_KEY_LEN], struct ag_db **out);
void	 ag_db_close(struct ag_db *);	/* NULL safe; wipes the key */
/*
 * 1 when db's file was removed or replaced (another inode at its path)
 * since it was opened -- the connection would read and write a file
 * nobody else sees -- logged; else 0 (also for NULL).
 */
int	 ag_db_replaced(const struct ag_db *);
/*
 * 1 when there is no database at path: path NULL or empty, or stat()
 * says ENOENT.  0 otherwise -- also when the file exists but cannot be
 * looked at (EACCES...): opening it then fails and the caller answers
 * 503 instead of taking a database it cannot see for an absent one.
 * stat() asks with the effective ids (a setgid program can see what its
 * caller's real ids cannot), unlike access(2).
 */
int	 ag_db_absent(const char *path);
/*
 * The database key: HKDF-SHA256(secret bytes, empty salt, info
 * "authgate sessions db", 32 bytes), so every program derives the same
 * one.  AG_ERR_CONFIG for an empty secret.
 */
int	 ag_db_key(const char *secret, unsigned char key[AG_KEY_LEN]);
/*
 * Apply missing migrations; *applied = how many (may be NULL).  Each
 * one runs with its user_version bump in one BEGIN IMMEDIATE ... COMMIT;
 * a concurrent migrate is harmless.  AG_ERR_DB when the file is newer
 * than this build.
 */
int	 ag_db_migrate(struct ag_db *, int *applied);
/* Schema version of the file, and the version this build knows. */
int	 ag_db_version(struct ag_db *, int *have, int *want);

/* PRAGMA integrity_check: AG_OK when it says "ok", else AG_ERR_DB (logged). */
int	 ag_db_check(struct ag_db *);
/*
 * An explicit write transaction (BEGIN IMMEDIATE, retried as above), for
 * callers that must do several statements atomically or hold the write
 * lock (and for tests).  AG_ERR_BUSY, AG_ERR_DB.  A failed commit rolls
 * back.  ag_db_rollback is harmless without a transaction.
 */
int	 ag_db_begin(struct ag_db *);
int	 ag_db_commit(struct ag_db *);
void	 ag_db_rollback(struct ag_db *);

/* 1 when s is exactly AG_DB_ID_LEN lower-case hex characters. */
int	 ag_db_id_ok(const char *s);
/* A fresh random session id into id (AG_DB_ID_LEN + 1 bytes). */
int	 ag_db_new_id(char id[AG_DB_ID_LEN + 1]);

/* One session as the operator sees it (strings owned). */
struct ag_db_row {
	char	 id[AG_DB_ID_LEN + 1];
	char	*sub;
	char	*sid;		/* may be NULL */
	char	*email;		/* may be NULL */
	char	*name;		/* may be NULL */
	int64_t	 created_at;
	int64_t	 last_seen;
	int64_t	 expires_at;
	ag_json	*data;		/* SessionData, only from ag_db_session_get */
};
/* Free the row's strings and data and zero it; NULL safe. */
void	 ag_db_row_clear(struct ag_db_row *);

/*
 * The session with this id that has not expired at now (expiry is
 * enforced in SQL).  AG_ERR_NOTFOUND when id is malformed, absent,
 * expired or when its sealed data does not open (logged at warn).  row
 * is overwritten (clear it first if it held a row); on success
 * row->data is set and the caller clears row.
 */
int	 ag_db_session_get(struct ag_db *, const char *id, int64_t now,
	    struct ag_db_row *row);
/*
 * Insert a new session (id, data, expires_at from row; sub, sid, email,
 * name extracted from data's user/internal; created_at = last_seen =
 * now).  AG_ERR_PARSE when data has no string user.sub or id is
 * malformed; AG_ERR_DB when the id exists.
 */
int	 ag_db_session_insert(struct ag_db *, const char *id, ag_json *data,
	    int64_t now, int64_t expires_at);
/*
 * Update data and expiry of an existing, unexpired session; never
 * resurrects one deleted meanwhile: AG_ERR_NOTFOUND when no row changed.
 */
int	 ag_db_session_update(struct ag_db *, const char *id, ag_json *data,
	    int64_t now, int64_t expires_at);
/* Only last_seen and expires_at (a rolling touch); AG_ERR_NOTFOUND as above. */
int	 ag_db_session_touch(struct ag_db *, const char *id, int64_t now,
	    int64_t expires_at);
/* Delete by id; AG_ERR_NOTFOUND when there was none. */
int	 ag_db_session_delete(struct ag_db *, const char *id);
/*
 * Delete every session whose sid equals sid (when non-NULL) or whose
 * sub equals sub (when non-NULL and sid is NULL); *count = rows deleted.
 * AG_ERR_PARSE when both are NULL.
 */
int	 ag_db_session_delete_by(struct ag_db *, const char *sid,
	    const char *sub, int *count);
/* Delete every session (authgate sessions revoke --all). */
int	 ag_db_session_delete_all(struct ag_db *, int *count);
/* Delete expired sessions; *count = rows deleted. */
int	 ag_db_session_purge(struct ag_db *, int64_t now, int *count);
/*
 * Call fn for every unexpired session (sub filter when non-NULL), newest
 * first; row->data is NULL and the row is only valid during the call.
 * Stops at fn's first non-zero return, which is returned.  fn may use
 * db but not call ag_db_session_list.
 */
int	 ag_db_session_list(struct ag_db *, const char *sub, int64_t now,
	    int (*fn)(const struct ag_db_row *, void *), void *arg);

/*
 * Refresh coordination (table refresh_results, sql/0002-refresh.sql).
 * key names one refresh grant or one refresh token's lock (lib/token.c
 * uses both): AG_DB_REFRESH_KEY_LEN lower-case hex characters (a
 * SHA-256, never a token).  The outcome is sealed with a
 * key derived from the database key and the row's key.
 */
#define AG_DB_REFRESH_KEY_LEN	64

enum ag_refresh_state {
	AG_REFRESH_MINE,	/* we hold the lock: call the provider */
	AG_REFRESH_WAIT,	/* another process holds it: poll again */
	AG_REFRESH_DONE,	/* a success, *result is its outcome */
	AG_REFRESH_FAILED,	/* a failure, *result is its outcome */
	AG_REFRESH__MAX
};

/*
 * In one BEGIN IMMEDIATE transaction: delete every row past its
 * expires_at; then a 'done' or 'failed' row for key that has not
 * expired sets *state DONE or FAILED and *result to its unsealed
 * outcome (owned by the caller); a 'pending' row whose lock has not
 * expired sets WAIT; otherwise (no row, an expired row, a stale lock
 * of a crashed owner, an outcome that does not open) the row becomes
 * 'pending', locked until now + lock_secs, and *state is MINE.
 * *result is NULL unless DONE or FAILED.  AG_ERR_PARSE for a malformed
 * key; AG_ERR_BUSY / AG_ERR_DB as elsewhere (nothing claimed).
 */
int	 ag_db_refresh_claim(struct ag_db *, const char *key, int64_t now,
	    int64_t lock_secs, int *state, ag_json **result);
/*
 * Store the outcome of our refresh: state 'done' (ok) or 'failed',
 * result sealed, finished_at = now, expires_at = now +
 * AG_REFRESH_KEEP_SECS.  Inserts the row when a purge removed it.
 * result is not taken.
 */
int	 ag_db_refresh_finish(struct ag_db *, const char *key, int ok,
	    ag_json *result, int64_t now);
/*
 * Look at key without claiming it (one SELECT, no transaction): an
 * unexpired 'done' or 'failed' row sets *state DONE or FAILED and
 * *result to its unsealed outcome (owned by the caller); otherwise (no
 * row, expired, 'pending', an outcome that does not open) *state is -1
 * and *result NULL.  AG_ERR_PARSE for a malformed key; AG_ERR_BUSY /
 * AG_ERR_DB.
 */
int	 ag_db_refresh_peek(struct ag_db *, const char *key, int64_t now,
	    int *state, ag_json **result);
/*
 * Delete the row of key, whatever its state (a lock we hold and give
 * back, so that the next claim is MINE).  AG_OK also when there is no
 * such row.
 */
int	 ag_db_refresh_release(struct ag_db *, const char *key);
/* Delete refresh rows past their expires_at; *count (may be NULL). */
int	 ag_db_refresh_purge(struct ag_db *, int64_t now, int *count);

/*
 * Back-channel logout (tables logout_jtis and logouts,
 * sql/0003-logouts.sql).
 *
 * Remember a logout token's jti until expires_at (rows past their
 * expiry are deleted first).  AG_OK when it was not known;
 * AG_ERR_DENIED when it is (a replay); AG_ERR_PARSE for an empty jti;
 * AG_ERR_BUSY / AG_ERR_DB.  jti is not taken.
 */
int	 ag_db_jti_remember(struct ag_db *, const char *jti, int64_t now,
	    int64_t expires_at);
/*
 * Record a logout at time at for the cookie store: of the session sid
 * when sid is non-NULL, else of every session of sub.  The row is kept
 * until expires_at (when every session created before at has expired);
 * rows past their expiry at time at are deleted first.  AG_ERR_PARSE
 * when both are NULL.
 */
int	 ag_db_logout_record(struct ag_db *, const char *sid, const char *sub,
	    int64_t at, int64_t expires_at);
/*
 * *found = 1 when a logout recorded at or after created_at, unexpired
 * at now, names sid (when non-NULL) or, as a sub-only logout, sub:
 * one indexed SELECT.  AG_ERR_PARSE when sub is NULL (*found = 0).
 */
int	 ag_db_logout_find(struct ag_db *, const char *sid, const char *sub,
	    int64_t created_at, int64_t now, int *found);

#endif
