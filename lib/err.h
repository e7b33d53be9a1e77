/*
 * err.h -- the one error type of authgate.
 *
 * Functions return AG_OK (0) or one of these; ag_strerror() names it.
 * The table in err.c is parallel to the enum.
 */
#ifndef AG_ERR_H
#define AG_ERR_H

enum ag_err {
	AG_OK = 0,
	AG_ERR_NOMEM,		/* allocation failed */
	AG_ERR_LIMIT,		/* input larger than its named limit */
	AG_ERR_PARSE,		/* malformed input */
	AG_ERR_CRYPTO,		/* decryption/encryption failure */
	AG_ERR_VERIFY,		/* signature or claim check failed */
	AG_ERR_EXPIRED,		/* past its expiry */
	AG_ERR_NOTFOUND,	/* absent (cookie, key, session) */
	AG_ERR_HTTP,		/* network / HTTP failure */
	AG_ERR_PROVIDER,	/* the OP answered with an error */
	AG_ERR_CONFIG,		/* configuration problem */
	AG_ERR_IO,		/* file or system call failure */
	AG_ERR_DB,		/* database failure */
	AG_ERR_BUSY,		/* database locked past the bounded wait */
	AG_ERR_DENIED,		/* refused by policy */
	AG_ERR__MAX
};

/* Static string naming err; never NULL. */
const char	*ag_strerror(int err);

#endif
