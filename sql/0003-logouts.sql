-- 0003-logouts.sql -- OpenID Connect Back-Channel Logout 1.0
-- (POST /auth/backchannel-logout, fcgi/h-backchannel.c).
--
-- logout_jtis: the jti of every logout token accepted, kept until the
-- token could no longer be accepted anyway (its exp, or its iat plus
-- the acceptance window), so that a replayed token is refused.  Rows
-- past expires_at are deleted by the next accepted token.
--
-- logouts: with session.store = cookie the session lives in the
-- browser and cannot be deleted, so the logout is recorded here and
-- every read of a cookie session (lib/session.c) refuses one whose
-- internal.sid was logged out (sid not NULL), or whose user.sub was
-- (a token with sub only: sid NULL), at or after its createdAt.  A row
-- is useful until every session created before it has expired
-- (expires_at = at + the absolute session duration); older rows are
-- deleted by the next logout.
--
-- Runs inside the BEGIN IMMEDIATE ... COMMIT of lib/db.c with its
-- user_version bump: no BEGIN, COMMIT or user_version here.

CREATE TABLE logout_jtis (
	jti		TEXT PRIMARY KEY NOT NULL,
	expires_at	INTEGER NOT NULL
);

CREATE INDEX logout_jtis_expires_at ON logout_jtis (expires_at);

CREATE TABLE logouts (
	sid		TEXT,
	sub		TEXT,
	at		INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL,
	CHECK (sid IS NOT NULL OR sub IS NOT NULL)
);

CREATE INDEX logouts_sid ON logouts (sid);
CREATE INDEX logouts_sub ON logouts (sub);
CREATE INDEX logouts_expires_at ON logouts (expires_at);
