/*
 * cmd-accounts.h -- connected accounts for scripts (cmd-accounts.c):
 *
 *	authgate accounts list [--json] [--session ID]
 *	authgate accounts disconnect [--set-cookie] [--session ID] ACCOUNT_ID
 */
#ifndef AG_CMD_ACCOUNTS_H
#define AG_CMD_ACCOUNTS_H

struct ag_app;

/*
 * authgate accounts: takes the loaded application state (zeroed for
 * --help) and argv with argv[0] the command name (optind reset).
 * Returns the exit status: 0, 1 (one line on stderr), 2 bad usage.
 */
int	 ag_cmd_accounts(struct ag_app *, int argc, char *argv[]);

#endif
