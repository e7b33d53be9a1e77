/*
 * cmd-token.h -- access tokens for scripts (cmd-token.c):
 *
 *	authgate token [--audience A] [--scope S] [--no-merge-scopes]
 *	    [--refresh] [--json] [--set-cookie] [--session ID]
 *	authgate fetch [--method M] [--data BODY | --data-file F]
 *	    [--header 'Name: value']... [--base-url URL] [--audience A]
 *	    [--scope S] [--no-merge-scopes] [--refresh] [--session ID] URL
 *
 * Each takes the loaded application state (a zeroed one when the
 * arguments ask for --help) and argv with argv[0] the command name; the
 * caller has reset optind.  Each returns the exit status: 0 success, 1
 * failure (one line on stderr), 2 bad usage.
 */
#ifndef AG_CMD_TOKEN_H
#define AG_CMD_TOKEN_H

struct ag_app;

/* authgate token: the session's access token on stdout. */
int	 ag_cmd_token(struct ag_app *, int argc, char *argv[]);
/* authgate fetch: an API call with the session's access token. */
int	 ag_cmd_fetch(struct ag_app *, int argc, char *argv[]);

/*
 * Read all of file name ("-": standard input) into out, bounded by
 * out's maximum (AG_ERR_LIMIT), the stack copy wiped: AG_OK, or
 * AG_ERR_IO.  Also for authgate exchange's tokens on stdin.
 */
struct ag_buf;
int	 ag_cmd_read_file(const char *name, struct ag_buf *out);

#endif
