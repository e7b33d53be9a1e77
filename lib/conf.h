/*
 * conf.h -- the configuration: one file of "key = value" lines, then
 * environment overrides, then validation.
 *
 * Path: -c FILE, else $AUTHGATE_CONFIG, else /etc/authgate/authgate.conf.
 * Every key also has an environment variable AUTHGATE_<KEY> (upper case,
 * '.' and '-' as '_'), and the keys the Next.js SDK knows have its name
 * too (AUTH0_DOMAIN, AUTH0_CLIENT_ID, ...); the environment wins over
 * the file.  See authgate.conf(5), which lists every key.
 */
#ifndef AG_CONF_H
#define AG_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The installed configuration (make SYSCONFDIR=...). */
#ifndef AG_CONF_DEFAULT_PATH
#define AG_CONF_DEFAULT_PATH	"/etc/authgate/authgate.conf"
#endif

enum ag_store { AG_STORE_COOKIE, AG_STORE_SQLITE, AG_STORE__MAX };
enum ag_client_auth {
	AG_AUTH_SECRET_BASIC,
	AG_AUTH_SECRET_POST,
	AG_AUTH_PRIVATE_KEY_JWT,
	AG_AUTH__MAX
};
enum ag_logout_strategy { AG_LOGOUT_AUTO, AG_LOGOUT_OIDC, AG_LOGOUT_V2,
	AG_LOGOUT__MAX };
enum ag_userinfo { AG_USERINFO_AUTO, AG_USERINFO_ON, AG_USERINFO_OFF,
	AG_USERINFO__MAX };
enum ag_audience_param { AG_AUDIENCE_AUDIENCE, AG_AUDIENCE_RESOURCE,
	AG_AUDIENCE__MAX };
enum ag_unauth { AG_UNAUTH_REDIRECT, AG_UNAUTH_401, AG_UNAUTH__MAX };

/* A list of strings (claims.keep, wrap.roots, ...). */
struct ag_strlist {
	char	**v;
	size_t	  n;
};

/* An extra /authorize parameter from "authorization.<name> = value". */
struct ag_kv {
	char	*key;
	char	*value;
};

struct ag_conf {
	char	*path;			/* file read, or NULL */

	/* Provider and client. */
	char	*domain;		/* domain, AUTH0_DOMAIN */
	char	*issuer;		/* issuer, AUTHGATE_ISSUER; derived from domain */
	char	*client_id;		/* client_id, AUTH0_CLIENT_ID */
	char	*client_secret;		/* client_secret, AUTH0_CLIENT_SECRET */
	char	*client_assertion_key;	/* PEM path, AUTH0_CLIENT_ASSERTION_SIGNING_KEY */
	char	*client_assertion_alg;	/* AUTH0_CLIENT_ASSERTION_SIGNING_ALG, RS256 */
	int	 client_auth;		/* enum ag_client_auth; default basic, or
					   private_key_jwt when only a key is set */
	char	*secret;		/* secret, AUTH0_SECRET, >= 32 chars */
	char	*app_base_url;		/* APP_BASE_URL, http(s)://host[:port][/path] */
	char	*app_origin;		/* derived: origin of app_base_url */

	/* Authorization request. */
	char	*scope;			/* "openid profile email offline_access" */
	char	*audience;		/* optional */
	int	 audience_param;	/* audience.param: audience|resource */
	struct ag_kv *authz_params;	/* authorization.<name> */
	size_t	 n_authz_params;
	int	 login_forward_scope;	/* login.forward_scope (off) */
	int	 login_forward_audience;/* login.forward_audience (off) */
	char	*default_return_to;	/* login.default_return_to, "/" */
	int	 par;			/* par (off) */
	unsigned id_token_algs;		/* id_token.algs: mask of enum ag_alg,
					   default every supported alg */
	int	 userinfo;		/* userinfo: auto|on|off */
	struct ag_strlist claims_keep;	/* claims.keep, SDK default list */

	/* Routes. */
	char	*route_prefix;		/* routes.prefix, "/auth" */
	int	 access_token_endpoint;	/* access_token_endpoint (on) */
	int	 connect_account_endpoint; /* connect_account_endpoint (off) */
	int	 profile_204;		/* profile.no_content (off) */
	char	*callback_error_url;	/* callback.error_url */

	/* Sessions. */
	int	 store;			/* session.store: cookie|sqlite */
	char	*session_db;		/* session.db, /var/lib/authgate/sessions.db */
	int	 rolling;		/* session.rolling (on) */
	int64_t	 absolute_duration;	/* session.absolute_duration, 259200 */
	int64_t	 inactivity_duration;	/* session.inactivity_duration, 86400 */

	/* Cookies. */
	char	*cookie_name;		/* cookie.name, __session */
	int	 cookie_secure;		/* cookie.secure; forced on for https */
	int	 cookie_same_site;	/* cookie.same_site: lax|strict|none */
	char	*cookie_path;		/* cookie.path, / */
	char	*cookie_domain;		/* cookie.domain */
	int	 cookie_transient;	/* cookie.transient (off) */

	/* Logout. */
	int	 logout_strategy;	/* logout.strategy: auto|oidc|v2 */
	struct ag_strlist logout_allowed; /* logout.allowed_return_urls */
	int	 logout_id_token_hint;	/* logout.id_token_hint (on) */
	int	 logout_revoke;		/* logout.revoke_refresh_token (on) */

	/* Protocol extras (later issues). */
	int	 dpop;			/* dpop (off) */
	char	*dpop_key;		/* dpop.key */
	int64_t	 mfa_token_ttl;		/* mfa.token_ttl, 300 */
	int64_t	 token_refresh_buffer;	/* token_refresh_buffer, 0 */

	/* Network. */
	long	 http_timeout_ms;	/* http.timeout_ms, 5000 */
	char	*http_ca_file;		/* http.ca_file: extra trust anchors */
	int	 allow_insecure;	/* allow_insecure_requests (off) */

	/* Wrapper and authorizer. */
	struct ag_strlist wrap_roots;	/* wrap.roots */
	struct ag_strlist wrap_pass_env; /* wrap.pass_env: extra variables */
	char	*remote_user_claim;	/* wrap.remote_user_claim, sub */
	int	 pass_access_token;	/* wrap.pass_access_token (off) */
	int	 unauthenticated;	/* wrap.unauthenticated: redirect|401 */
	char	*authorize_require;	/* authorize.require */
	struct ag_kv *authorize_rules;	/* authorize.rule.<name> (file only) */
	size_t	 n_authorize_rules;

	/* Logging. */
	int	 log_level;		/* log.level: error|warn|info|debug */
	int	 log_syslog;		/* log.syslog (off) */
};

/*
 * Load: read the file (at most AG_MAX_CONF_FILE bytes; path NULL means
 * the default search above), apply environment overrides from envp
 * (NULL: the process environment), fill defaults, derive issuer and
 * app_origin, then validate.  Every problem is appended to problems as
 * one line "key: reason\n" (never quoting a secret's value).  Returns
 * AG_OK when there is no problem, AG_ERR_CONFIG when problems were
 * found (conf is still filled as far as possible), AG_ERR_IO when the
 * file cannot be read.  conf must be freed with ag_conf_free().
 */
int	 ag_conf_load(struct ag_conf *, const char *path, char *const *envp,
	    struct ag_buf *problems);
/* Parse a file's text (for tests and fuzzing); same rules as above. */
int	 ag_conf_parse(struct ag_conf *, const char *text, size_t n,
	    char *const *envp, struct ag_buf *problems);
void	 ag_conf_free(struct ag_conf *);
/*
 * Warnings that are not errors, appended to out one "key: reason\n"
 * line each: the file is readable or writable by others, the secret
 * looks weak, allow_insecure_requests is on, the app is plain http.
 */
void	 ag_conf_warnings(const struct ag_conf *, struct ag_buf *out);

/*
 * A printable copy of untrusted text (n bytes of s) for a problem
 * line, as the parser quotes values: at most 40 bytes then "...",
 * control and non-ASCII bytes, quotes and backslashes as \xHH.  dst
 * must hold AG_CONF_QUOTE_SIZE bytes.
 */
#define AG_CONF_QUOTE_SIZE	(40 * 4 + 4)
void	 ag_conf_quote(char *dst, size_t dstsz, const char *s, size_t n);

/*
 * The keys the parser accepts, for documentation checks: the name of
 * key i (a static string; "authorization." stands for the
 * authorization.<param> family, "authorize.rule." for the named
 * rules), or NULL past the last key.
 */
const char *ag_conf_key_name(size_t i);
/*
 * Append the environment variables of key i to out, separated by one
 * space: AUTHGATE_<KEY> first, then the SDK's name if it has one
 * ("AUTHGATE_AUTHORIZATION_" for the family; none for the named
 * rules).  AG_ERR_NOTFOUND past the last key.
 */
int	 ag_conf_key_env(size_t i, struct ag_buf *out);

#endif
