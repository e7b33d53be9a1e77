/*
 * app.h -- the per-process state every program shares: the loaded
 * configuration, the derived cookie key and the OpenID Connect caches.
 */
#ifndef AG_APP_H
#define AG_APP_H

#include "buf.h"
#include "conf.h"
#include "cookie.h"
#include "crypto.h"
#include "rule.h"

struct ag_oidc;
struct ag_db;

struct ag_app {
	struct ag_conf	 conf;
	unsigned char	 key[AG_KEY_LEN];	/* cookie key, wiped on close */
	unsigned char	 db_key[AG_KEY_LEN];	/* session data at rest */
	struct ag_oidc	*oidc;
	struct ag_db	*db;			/* sqlite store, opened lazily */
	struct ag_rules	 rules;			/* authorize.*, parsed once */
};

/*
 * Load the configuration (path may be NULL, see conf.h), parse the
 * authorization rules, derive the key and set up the OIDC state.  Problems are appended to problems.
 * AG_OK, or the error of the first failing step.
 */
int	 ag_app_open(struct ag_app *, const char *path, struct ag_buf *problems);
void	 ag_app_close(struct ag_app *);
/*
 * The session database (session.store = sqlite), opened on first use
 * and kept for the life of the process -- reopened when its file was
 * removed or replaced meanwhile.  AG_ERR_DB / AG_ERR_BUSY when it
 * cannot be opened (logged).
 */
int	 ag_app_db(struct ag_app *, struct ag_db **out);
/* Close the database now (the wrapper, before it executes a program). */
void	 ag_app_db_close(struct ag_app *);
/* Cookie attributes for session and transaction cookies. */
void	 ag_app_cookie_attr(const struct ag_app *, struct ag_cookie_attr *);

#endif
