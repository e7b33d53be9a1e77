-- 0002-refresh.sql -- refresh coordination: one row per refresh grant
-- in flight or recently finished, so that concurrent requests holding
-- the same (rotating) refresh token spend it once (lib/token.c).
--
-- key is a lower-case hex SHA-256, never the token itself, of either
-- the refresh token alone (the refresh token's lock: one refresh in
-- flight per refresh token, whatever the audience) or the refresh
-- token, the audience and the effective scope (the outcome of one
-- refresh).  A 'pending' row is a lock held by the process calling the
-- token endpoint until expires_at; a 'done' or 'failed' row holds an
-- outcome, or for a lock what became of the token (rotated into which,
-- or a failure that may have spent it), until expires_at (30 seconds),
-- sealed like the sessions' data (a key derived from the secret and
-- the row's key), so the file shows no token.  Rows past expires_at
-- are deleted by the next claim.
--
-- Runs inside the BEGIN IMMEDIATE ... COMMIT of lib/db.c with its
-- user_version bump: no BEGIN, COMMIT or user_version here.

CREATE TABLE refresh_results (
	key		TEXT PRIMARY KEY NOT NULL
			CHECK (length(key) = 64 AND key NOT GLOB '*[^0-9a-f]*'),
	state		TEXT NOT NULL
			CHECK (state IN ('pending', 'done', 'failed')),
	started_at	INTEGER NOT NULL,
	finished_at	INTEGER,
	expires_at	INTEGER NOT NULL,
	result		BLOB
);

CREATE INDEX refresh_results_expires_at ON refresh_results (expires_at);
