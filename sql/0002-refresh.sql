-- 0002-refresh.sql -- refresh coordination: one row per refresh grant
-- in flight or recently finished, so that concurrent requests holding
-- the same (rotating) refresh token spend it once (lib/token.c).
--
-- key is the lower-case hex SHA-256 of the refresh token, the audience
-- and the effective scope -- never the token itself.  A 'pending' row
-- is a lock held by the process calling the token endpoint until
-- expires_at; a 'done' or 'failed' row holds the outcome until
-- expires_at (30 seconds), sealed like the sessions' data (a key
-- derived from the secret and the row's key), so the file shows no
-- token.  Rows past expires_at are deleted by the next claim.
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
