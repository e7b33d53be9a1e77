/*
 * cgienv.h -- what a protected program sees (SPEC section 5): the
 * environment a wrapped CGI program is executed with, and the
 * Variable-* headers a FastCGI authorizer answers with.  One
 * implementation for both, so names, sanitising and caps agree.
 *
 * The child's environment is built from scratch: the CGI meta-variables
 * and request headers of an allow-list are copied from the parent
 * (never ours: OIDC_*, REMOTE_USER, AUTH_TYPE, AUTHGATE_*, AUTH0_*,
 * APP_BASE_URL, nor request headers whose normalised name collides with
 * ours, e.g. HTTP_OIDC_CLAIM_SUB, nor the identity headers of other
 * gateways such as X-Remote-User and X-Forwarded-User), then our
 * variables are added.
 * Every refusal is logged with the variable's name, never its value.
 */
#ifndef AG_CGIENV_H
#define AG_CGIENV_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "json.h"

/* An environment under construction: "NAME=value" strings. */
struct ag_env {
	char	**v;		/* owned, NULL-terminated (execve-ready) */
	size_t	  n;
	size_t	  cap;
	size_t	  total;	/* sum of strlen + 1 over v, for the cap */
};

void	 ag_env_init(struct ag_env *);
void	 ag_env_free(struct ag_env *);	/* wipes values (tokens) */
/* The value of NAME in env, or NULL.  Borrowed. */
const char *ag_env_get(const struct ag_env *, const char *name);

/*
 * Copy the variables of parent (a NULL-terminated "NAME=value" array)
 * that a CGI program may see: RFC 3875 meta-variables except AUTH_TYPE
 * and REMOTE_USER, HTTP_* request headers except those whose name after
 * "HTTP_" starts with "OIDC" or equals "REMOTE_USER" / "AUTH_TYPE" (any
 * case), the usual server extras (DOCUMENT_ROOT, REQUEST_URI,
 * SCRIPT_FILENAME, SERVER_ADDR, REMOTE_PORT, HTTPS, REQUEST_SCHEME,
 * REDIRECT_STATUS, CONTEXT_*, SERVER_ADMIN, SERVER_SIGNATURE, UNIQUE_ID,
 * SSL_*, PATH, TZ, LANG, LC_*), and the names in extra (wrap.pass_env).
 * Everything else is dropped -- AUTHGATE_*, AUTH0_*, APP_BASE_URL and any
 * OIDC_* or REDIRECT_OIDC_* always, even when listed in extra.
 */
int	 ag_env_from_parent(struct ag_env *, char *const *parent,
	    const struct ag_strlist *extra);

/* What the session says about the request. */
struct ag_env_session {
	ag_json		*user;		/* the session's claims (user object) */
	const char	*remote_user_claim; /* conf wrap.remote_user_claim */
	int64_t		 session_expires;   /* Unix seconds */
	/* Only when wrap.pass_access_token is on, else NULL / 0: */
	const char	*access_token;
	const char	*access_token_type; /* "Bearer" or "DPoP" */
	int64_t		 access_token_expires;
	const char	*scope;
};

/*
 * Add our variables (SPEC section 5) to env: REMOTE_USER, AUTH_TYPE=
 * openid-connect, OIDC_session_expires, the access token variables when
 * given, then OIDC_CLAIM_<name> per claim: the identity claims (sub,
 * the remote user claim and the SDK's default claims) first, so no flood
 * of other claims can crowd them out, then the rest in sorted claim-name
 * order
 * (arrays also _COUNT and _<i>; objects as compact JSON; booleans 1/0;
 * numbers in decimal), then OIDC_CLAIMS_JSON.  A value with NUL or a
 * leading "() {" is dropped; other control bytes become spaces; invalid
 * UTF-8 sequences become U+FFFD; values over AG_MAX_CLAIM_VALUE are
 * dropped; a name already taken (collision after normalisation) is
 * dropped; claims stop once env->total would pass AG_MAX_ENV_TOTAL.
 * Each drop is logged (name only).  AG_ERR_NOMEM only; rule breaches
 * are not errors.
 */
int	 ag_env_add_session(struct ag_env *, const struct ag_env_session *);

/*
 * The same variables as "Variable-NAME: value\r\n" lines (FastCGI
 * authorizer), appended to out; only the ones ag_env_add_session()
 * added (not the copied parent variables).
 */
int	 ag_env_authorizer_headers(const struct ag_env_session *,
	    struct ag_buf *out);

#endif
