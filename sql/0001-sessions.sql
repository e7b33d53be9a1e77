-- 0001-sessions.sql -- the session table, its indexes, and two views
-- for the sqlite3 shell.  See schema.sql for what every column means.
--
-- A migration runs inside one BEGIN IMMEDIATE ... COMMIT that also sets
-- PRAGMA user_version to its number (lib/db.c), so it must not contain
-- BEGIN, COMMIT or PRAGMA user_version itself.

CREATE TABLE sessions (
	id		TEXT PRIMARY KEY NOT NULL
			CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),
	sub		TEXT NOT NULL,
	sid		TEXT,
	email		TEXT,
	name		TEXT,
	created_at	INTEGER NOT NULL,
	last_seen	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL,
	data		BLOB NOT NULL
);

CREATE INDEX sessions_sub ON sessions (sub);
CREATE INDEX sessions_sid ON sessions (sid);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE VIEW active_sessions AS
	SELECT id, sub, email, name,
	    datetime(created_at, 'unixepoch') AS created,
	    datetime(last_seen, 'unixepoch') AS last_seen,
	    datetime(expires_at, 'unixepoch') AS expires,
	    created_at, last_seen AS last_seen_at, expires_at
	FROM sessions
	WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER)
	ORDER BY created_at DESC;

CREATE VIEW sessions_by_user AS
	SELECT sub, max(email) AS email, count(*) AS count,
	    datetime(max(last_seen), 'unixepoch') AS last_seen,
	    max(last_seen) AS last_seen_at
	FROM sessions
	WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER)
	GROUP BY sub
	ORDER BY max(last_seen) DESC;
