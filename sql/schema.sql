-- schema.sql -- the current schema of the authgate session database
-- (session.store = sqlite; file named by session.db).
--
-- This file documents; it is not run.  What runs are the numbered
-- migrations next to it (0001-sessions.sql, ...), compiled into the
-- programs by sql/embed.sh.  "authgate migrate" applies the missing
-- ones, each in one BEGIN IMMEDIATE ... COMMIT together with the bump
-- of PRAGMA user_version, so a crash never leaves half a migration.
-- Keep this file in step with the migrations.
--
-- Useful queries with the sqlite3 shell (read-only is enough):
--
--	sqlite3 -readonly /var/lib/authgate/sessions.db
--	SELECT * FROM active_sessions;			-- who is logged in
--	SELECT * FROM sessions_by_user;			-- sessions per user
--	SELECT * FROM active_sessions WHERE email = 'a@example.com';
--	PRAGMA user_version;				-- schema version
--
-- To log someone out, prefer "authgate sessions revoke --sub SUB"; a
-- plain "DELETE FROM sessions WHERE sub = '...'" does the same.

-- Every connection sets these (lib/db.c); they are not stored in the
-- file, except journal_mode = WAL, which is persistent.
PRAGMA journal_mode = WAL;	-- readers never block the writer
PRAGMA synchronous = NORMAL;	-- durable at checkpoints; safe with WAL
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 2000;	-- then AG_ERR_BUSY after a bounded retry

-- Which migrations ran: the number of the last one.
PRAGMA user_version = 3;

-- One row per login.  The row is the server side of the "__session"
-- cookie, which holds only the sealed {"id": ...}.
CREATE TABLE sessions (
	-- 16 random bytes as 32 lower-case hex characters; rotated at
	-- every login (session fixation).
	id		TEXT PRIMARY KEY NOT NULL
			CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),
	-- The user's "sub" claim (user.sub); revoke --sub and back-channel
	-- logout by sub match it.
	sub		TEXT NOT NULL,
	-- The provider's session id, the ID token's "sid" (internal.sid);
	-- back-channel logout by sid matches it.  NULL when absent.
	sid		TEXT,
	-- user.email and user.name, for operators.  NULL when absent.
	email		TEXT,
	name		TEXT,
	-- Unix seconds: the login, the last request that rolled or
	-- updated the session, and the moment it stops being valid.
	-- Expiry is enforced in every query (expires_at > now).
	created_at	INTEGER NOT NULL,
	last_seen	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL,
	-- The whole SessionData JSON (user, tokenSet, accessTokens,
	-- internal, connectionTokenSets, ...) sealed as a compact JWE
	-- (dir, A256GCM) with a key derived from the secret and the row id,
	-- so a copied file holds no readable token and a row's data cannot
	-- be moved to another row.  Text, stored in a BLOB column.
	data		BLOB NOT NULL
);

CREATE INDEX sessions_sub ON sessions (sub);		-- revoke --sub
CREATE INDEX sessions_sid ON sessions (sid);		-- back-channel logout
CREATE INDEX sessions_expires_at ON sessions (expires_at);	-- purge

-- Unexpired sessions, newest first, times readable (UTC) and raw.
CREATE VIEW active_sessions AS
	SELECT id, sub, email, name,
	    datetime(created_at, 'unixepoch') AS created,
	    datetime(last_seen, 'unixepoch') AS last_seen,
	    datetime(expires_at, 'unixepoch') AS expires,
	    created_at, last_seen AS last_seen_at, expires_at
	FROM sessions
	WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER)
	ORDER BY created_at DESC;

-- Unexpired sessions per user: how many, and the latest activity.
CREATE VIEW sessions_by_user AS
	SELECT sub, max(email) AS email, count(*) AS count,
	    datetime(max(last_seen), 'unixepoch') AS last_seen,
	    max(last_seen) AS last_seen_at
	FROM sessions
	WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER)
	GROUP BY sub
	ORDER BY max(last_seen) DESC;

-- Refresh coordination (0002), so that concurrent requests holding the
-- same rotating refresh token spend it once (lib/token.c).  Two kinds
-- of row, both keyed by a hex SHA-256, never by the token: the lock of
-- a refresh token (SHA-256 of the token: 'pending' while a process calls
-- the token endpoint, then 'done' naming the rotated token, or 'failed')
-- and the result for one audience and scope (SHA-256 of token, audience
-- and scope: the sealed outcome), each kept for 30 seconds.
CREATE TABLE refresh_results (
	key		TEXT PRIMARY KEY NOT NULL	-- SHA-256 hex
			CHECK (length(key) = 64 AND key NOT GLOB '*[^0-9a-f]*'),
	state		TEXT NOT NULL			-- pending, done, failed
			CHECK (state IN ('pending', 'done', 'failed')),
	started_at	INTEGER NOT NULL,		-- Unix seconds
	finished_at	INTEGER,			-- Unix seconds
	expires_at	INTEGER NOT NULL,		-- lock or outcome ends
	result		BLOB				-- sealed outcome
);

CREATE INDEX refresh_results_expires_at ON refresh_results (expires_at);

-- Back-channel logout (0003).  The jti of every accepted logout token,
-- until the token could no longer be accepted anyway (replay refused).
CREATE TABLE logout_jtis (
	jti		TEXT PRIMARY KEY NOT NULL,	-- the token's jti
	expires_at	INTEGER NOT NULL		-- forget after
);

CREATE INDEX logout_jtis_expires_at ON logout_jtis (expires_at);

-- Logouts of cookie sessions (session.store = cookie): a session whose
-- internal.sid (or, for a sub-only token, user.sub) appears here with
-- at >= its createdAt is refused by every read.
CREATE TABLE logouts (
	sid		TEXT,				-- internal.sid, or NULL
	sub		TEXT,				-- user.sub, or NULL
	at		INTEGER NOT NULL,		-- when, Unix seconds
	expires_at	INTEGER NOT NULL,		-- forget after
	CHECK (sid IS NOT NULL OR sub IS NOT NULL)
);

CREATE INDEX logouts_sid ON logouts (sid);
CREATE INDEX logouts_sub ON logouts (sub);
CREATE INDEX logouts_expires_at ON logouts (expires_at);
