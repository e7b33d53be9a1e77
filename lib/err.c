#include "err.h"

static const char *const ag_errstr[AG_ERR__MAX] = {
	"success",			/* AG_OK */
	"out of memory",		/* AG_ERR_NOMEM */
	"input exceeds limit",		/* AG_ERR_LIMIT */
	"malformed input",		/* AG_ERR_PARSE */
	"cryptographic failure",	/* AG_ERR_CRYPTO */
	"verification failed",		/* AG_ERR_VERIFY */
	"expired",			/* AG_ERR_EXPIRED */
	"not found",			/* AG_ERR_NOTFOUND */
	"HTTP failure",			/* AG_ERR_HTTP */
	"provider error",		/* AG_ERR_PROVIDER */
	"configuration error",		/* AG_ERR_CONFIG */
	"I/O error",			/* AG_ERR_IO */
	"database error",		/* AG_ERR_DB */
	"database busy",		/* AG_ERR_BUSY */
	"denied",			/* AG_ERR_DENIED */
};

const char *
ag_strerror(int err)
{
	if (err < 0 || err >= AG_ERR__MAX)
		return "unknown error";
	return ag_errstr[err];
}
