/*
 * priv.h -- the setgid group that guards authgate's secrets.
 *
 * authgate-wrap and authgate are installed setgid to the group
 * "authgate", which alone can read the configuration and the session
 * database.  A process started that way holds the group only as long as
 * it needs it: the wrapper drops it before running a legacy program, the
 * CLI drops it at once when asked to read a configuration other than the
 * installed one (so the group cannot be used to read files with it).
 */
#ifndef AG_PRIV_H
#define AG_PRIV_H

#include <stddef.h>

/* 1 when the effective group is not the real one (running setgid). */
int	 ag_priv_elevated(void);
/*
 * Drop the elevated group for good (real, effective and saved group
 * become the real group), then check that it cannot be regained.
 * AG_OK (also when not elevated), else an error with why filled.
 */
int	 ag_priv_drop(char *why, size_t whylen);

#endif
