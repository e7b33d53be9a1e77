/*
 * cmd-sessions.h -- the CLI commands of the SQLite session store:
 *
 *	authgate sessions list [--json] [--sub SUB]
 *	authgate sessions show [--json] ID
 *	authgate sessions revoke ID | --sub SUB | --sid SID | --all
 *	authgate sessions purge
 *	authgate migrate
 *
 * Each takes the loaded application state (app->conf.session_db and
 * app->db_key) and argv with argv[0] the command name ("sessions",
 * "migrate"); the caller has reset optind.  Each returns the exit
 * status: 0 success, 1 failure (one line on stderr), 2 bad usage.
 * Tokens are never printed.
 */
#ifndef AG_CMD_SESSIONS_H
#define AG_CMD_SESSIONS_H

struct ag_app;

/* authgate sessions list|show|revoke|purge ...; exit status. */
int	 ag_cmd_sessions(struct ag_app *, int argc, char *argv[]);
/* authgate session get|update (cmd-session.c): the request's session. */
int	 ag_cmd_session(struct ag_app *, int argc, char *argv[]);
/* authgate migrate: create or migrate session.db, print the version. */
int	 ag_cmd_migrate(struct ag_app *, int argc, char *argv[]);

#endif
