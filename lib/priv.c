/*
 * priv.c -- dropping the setgid group.  See priv.h.
 */
#define _GNU_SOURCE		/* setresgid */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "priv.h"

int
ag_priv_elevated(void)
{
	return getegid() != getgid();
}

int
ag_priv_drop(char *why, size_t whylen)
{
	gid_t rgid = getgid(), egid = getegid();

	if (rgid == egid)
		return AG_OK;
	if (setresgid(rgid, rgid, rgid) != 0) {
		snprintf(why, whylen, "cannot drop group %ld: %s", (long)egid,
		    strerror(errno));
		return AG_ERR_IO;
	}
	if (setegid(egid) == 0 || getegid() != rgid) {
		snprintf(why, whylen, "group %ld could be regained after the "
		    "drop", (long)egid);
		return AG_ERR_DENIED;
	}
	return AG_OK;
}
