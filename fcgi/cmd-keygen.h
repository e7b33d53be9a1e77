/*
 * cmd-keygen.h -- `authgate keygen --alg ES256|RS256 [--out FILE]`
 * (cmd-keygen.c): a new private key for dpop.key or
 * client_assertion_key.
 */
#ifndef AG_CMD_KEYGEN_H
#define AG_CMD_KEYGEN_H

/*
 * argv[0] is the command name; the caller has reset optind.  Needs no
 * configuration.  Returns the exit status: 0 success, 1 failure (one
 * line on stderr), 2 bad usage.
 */
int	 ag_cmd_keygen(int argc, char *argv[]);

#endif
