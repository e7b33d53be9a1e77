/*
 * cmd-grant.h -- grants for scripts, outside any browser session:
 *
 *	authgate ciba --login-hint SUB --binding-message TEXT [--scope S]
 *	    [--audience A] [--requested-expiry N]	(cmd-ciba.c)
 *	authgate exchange --subject-token T|- --subject-token-type URI
 *	    [--audience A] [--scope S] [--actor-token T|-
 *	    --actor-token-type URI] [--allow-reserved-type]	(cmd-exchange.c)
 *
 * Each takes the loaded application state (a zeroed one when the
 * arguments ask for --help) and argv with argv[0] the command name; the
 * caller has reset optind.  Each prints the token set as one JSON
 * object on stdout (lib/grant.h ag_grant_json) and returns the exit
 * status: 0 success, 1 failure (one line on stderr), 2 bad usage.
 */
#ifndef AG_CMD_GRANT_H
#define AG_CMD_GRANT_H

#include "json.h"

struct ag_app;
struct ag_grant_fail;
struct ag_tokens;

/* authgate ciba: a backchannel login, polled until the user answers. */
int	 ag_cmd_ciba(struct ag_app *, int argc, char *argv[]);
/* authgate exchange: an RFC 8693 token exchange. */
int	 ag_cmd_exchange(struct ag_app *, int argc, char *argv[]);

/*
 * Shared by both (cmd-ciba.c): the failure line "authgate: CMD: CODE:
 * [CAUSE: ]DESCRIPTION" on stderr.
 */
void	 ag_cmd_grant_fail(const char *cmd, const struct ag_grant_fail *);
/*
 * Print the token set (and claims, may be NULL) as JSON on stdout;
 * 0, or 1 with the failure line.
 */
int	 ag_cmd_grant_print(const char *cmd, const struct ag_tokens *,
	    const ag_json *claims);

#endif
