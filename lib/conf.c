/*
 * conf.c -- the configuration file, its environment overrides, the
 * derived values and the validation.  See conf.h and authgate.conf(5).
 *
 * Everything is driven by one table, keys[]: name, type, SDK variable,
 * default, and where the value goes in struct ag_conf.  Loading runs in
 * phases so that the order of the problems printed is stable:
 *  1. split the text into lines and remember each key's raw value;
 *  2. let the environment replace raw values (environment wins);
 *  3. convert every raw value, or the default, into the struct;
 *  4. derive issuer, app_origin, client_auth, cookie_secure;
 *  5. validate the whole.
 * Raw values may be secrets: they are wiped when freed and never
 * quoted in a problem line (only booleans, numbers, enums and unknown
 * key names are quoted, cut short and with control bytes escaped).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "cookie.h"
#include "err.h"
#include "jwt.h"
#include "ag_limits.h"
#include "log.h"

extern char **environ;

#define DEFAULT_PATH	AG_CONF_DEFAULT_PATH
#define ENV_PREFIX	"AUTHGATE_"
#define AUTHZ_PREFIX	"authorization."
#define AUTHZ_ENV	"AUTHGATE_AUTHORIZATION_"
#define RULE_PREFIX	"authorize.rule."
#define MAX_PROBLEMS	20	/* syntax problems before we stop reading */
#define QUOTE_MAX	40	/* bytes of a value quoted in a problem */

enum ktype {
	T_STR,		/* char * */
	T_BOOL,		/* int: on/off */
	T_I64,		/* int64_t in [min, max] */
	T_LONG,		/* long in [min, max] */
	T_ENUM,		/* int: index into names */
	T_LIST,		/* struct ag_strlist */
	T_ALGS		/* unsigned: mask of enum ag_alg */
};

struct key {
	const char		*name;
	enum ktype		 type;
	size_t			 off;
	const char		*sdk_env;	/* the SDK's variable, or NULL */
	const char		*def;		/* default as text, or NULL */
	int64_t			 min, max;	/* T_I64, T_LONG */
	const char *const	*names;		/* T_ENUM, NULL-terminated */
};

static const char *const client_auth_names[] = {
	"client_secret_basic", "client_secret_post", "private_key_jwt", NULL
};
static const char *const audience_param_names[] = {
	"audience", "resource", NULL
};
static const char *const userinfo_names[] = { "auto", "on", "off", NULL };
static const char *const store_names[] = { "cookie", "sqlite", NULL };
static const char *const same_site_names[] = {
	"lax", "strict", "none", NULL		/* enum ag_same_site */
};
static const char *const logout_names[] = { "auto", "oidc", "v2", NULL };
static const char *const unauth_names[] = { "redirect", "401", NULL };
static const char *const log_level_names[] = {
	"error", "warn", "info", "debug", NULL	/* enum ag_log_level */
};

#define O(f)	offsetof(struct ag_conf, f)
#define STR(k, f, env, def) \
	{ k, T_STR, O(f), env, def, 0, 0, NULL }
#define BOOL(k, f, env, def) \
	{ k, T_BOOL, O(f), env, def, 0, 0, NULL }
#define I64(k, f, env, def, lo, hi) \
	{ k, T_I64, O(f), env, def, lo, hi, NULL }
#define LONG(k, f, env, def, lo, hi) \
	{ k, T_LONG, O(f), env, def, lo, hi, NULL }
#define ENUM(k, f, env, def, n) \
	{ k, T_ENUM, O(f), env, def, 0, 0, n }
#define LIST(k, f, env, def) \
	{ k, T_LIST, O(f), env, def, 0, 0, NULL }

#define DEFAULT_CLAIMS	"sub name nickname given_name family_name picture " \
	"email email_verified org_id act " \
	"urn:auth0:my_org_current_user_permissions"
#define DEFAULT_ALGS	"RS256 RS384 RS512 PS256 PS384 PS512 " \
	"ES256 ES384 ES512 EdDSA"
#define TEN_YEARS	INT64_C(315360000)

/*
 * Every key.  The families authorization.<param> and
 * authorize.rule.<name> are handled apart (see family_of).
 * authgate.conf(5) documents each line; tests/check-conf-doc compares.
 */
static const struct key keys[] = {
	/* Provider and client. */
	STR("domain", domain, "AUTH0_DOMAIN", NULL),
	STR("issuer", issuer, NULL, NULL),
	STR("client_id", client_id, "AUTH0_CLIENT_ID", NULL),
	STR("client_secret", client_secret, "AUTH0_CLIENT_SECRET", NULL),
	STR("client_assertion_key", client_assertion_key,
	    "AUTH0_CLIENT_ASSERTION_SIGNING_KEY", NULL),
	STR("client_assertion_alg", client_assertion_alg,
	    "AUTH0_CLIENT_ASSERTION_SIGNING_ALG", NULL),
	ENUM("client_auth", client_auth, NULL, NULL, client_auth_names),
	STR("secret", secret, "AUTH0_SECRET", NULL),
	STR("app_base_url", app_base_url, "APP_BASE_URL", NULL),

	/* Authorization request. */
	STR("scope", scope, "AUTH0_SCOPE",
	    "openid profile email offline_access"),
	STR("audience", audience, "AUTH0_AUDIENCE", NULL),
	ENUM("audience.param", audience_param, NULL, "audience",
	    audience_param_names),
	BOOL("login.forward_scope", login_forward_scope, NULL, "off"),
	BOOL("login.forward_audience", login_forward_audience, NULL, "off"),
	STR("login.default_return_to", default_return_to, NULL, "/"),
	BOOL("par", par, NULL, "off"),
	{ "id_token.algs", T_ALGS, O(id_token_algs), NULL, DEFAULT_ALGS,
	    0, 0, NULL },
	ENUM("userinfo", userinfo, NULL, "auto", userinfo_names),
	LIST("claims.keep", claims_keep, NULL, DEFAULT_CLAIMS),

	/* Routes. */
	STR("routes.prefix", route_prefix, NULL, "/auth"),
	BOOL("access_token_endpoint", access_token_endpoint, NULL, "on"),
	BOOL("connect_account_endpoint", connect_account_endpoint, NULL,
	    "off"),
	BOOL("profile.no_content", profile_204, NULL, "off"),
	STR("callback.error_url", callback_error_url, NULL, NULL),

	/* Sessions. */
	ENUM("session.store", store, NULL, "cookie", store_names),
	STR("session.db", session_db, NULL, "/var/lib/authgate/sessions.db"),
	BOOL("session.rolling", rolling, NULL, "on"),
	I64("session.absolute_duration", absolute_duration, NULL, "259200",
	    1, TEN_YEARS),
	I64("session.inactivity_duration", inactivity_duration, NULL,
	    "86400", 1, TEN_YEARS),

	/* Cookies. */
	STR("cookie.name", cookie_name, NULL, "__session"),
	BOOL("cookie.secure", cookie_secure, "AUTH0_COOKIE_SECURE", "off"),
	ENUM("cookie.same_site", cookie_same_site, "AUTH0_COOKIE_SAME_SITE",
	    "lax", same_site_names),
	STR("cookie.path", cookie_path, "AUTH0_COOKIE_PATH", "/"),
	STR("cookie.domain", cookie_domain, "AUTH0_COOKIE_DOMAIN", NULL),
	BOOL("cookie.transient", cookie_transient, "AUTH0_COOKIE_TRANSIENT",
	    "off"),

	/* Logout. */
	ENUM("logout.strategy", logout_strategy, NULL, "auto", logout_names),
	LIST("logout.allowed_return_urls", logout_allowed, NULL, NULL),
	BOOL("logout.id_token_hint", logout_id_token_hint, NULL, "on"),
	BOOL("logout.revoke_refresh_token", logout_revoke, NULL, "on"),

	/* Protocol extras. */
	BOOL("dpop", dpop, NULL, "off"),
	STR("dpop.key", dpop_key, NULL, NULL),
	I64("mfa.token_ttl", mfa_token_ttl, "AUTH0_MFA_TOKEN_TTL", "300",
	    1, 86400),
	I64("token_refresh_buffer", token_refresh_buffer, NULL, "0",
	    0, TEN_YEARS),

	/* Network. */
	LONG("http.timeout_ms", http_timeout_ms, NULL, "5000", 100, 60000),
	STR("http.ca_file", http_ca_file, NULL, NULL),
	BOOL("allow_insecure_requests", allow_insecure, NULL, "off"),

	/* Wrapper and authorizer. */
	LIST("wrap.roots", wrap_roots, NULL, NULL),
	LIST("wrap.pass_env", wrap_pass_env, NULL, NULL),
	STR("wrap.remote_user_claim", remote_user_claim, NULL, "sub"),
	BOOL("wrap.pass_access_token", pass_access_token, NULL, "off"),
	ENUM("wrap.unauthenticated", unauthenticated, NULL, "redirect",
	    unauth_names),
	STR("authorize.require", authorize_require, NULL, NULL),

	/* Logging. */
	ENUM("log.level", log_level, NULL, "info", log_level_names),
	BOOL("log.syslog", log_syslog, NULL, "off"),
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/*
 * /authorize parameters that authgate sets itself, or that have their
 * own key: configuring them through authorization.* is a mistake.
 */
static const char *const authz_reserved[] = {
	"client_id", "redirect_uri", "response_type", "response_mode",
	"state", "nonce", "code_challenge", "code_challenge_method",
	"scope", "audience", "resource", "request", "request_uri",
	"client_secret", "client_assertion", "client_assertion_type",
	NULL
};

/* A raw value and where it came from. */
struct slot {
	char		*val;		/* owned, may be a secret */
	size_t		 line;		/* file line, 0 if none */
	char		 env[64];	/* variable it came from, or "" */
};

struct ctx {
	struct ag_conf	*conf;
	struct ag_buf	*problems;
	struct slot	 slot[NKEYS];
	size_t		 nsyntax;	/* syntax problems so far */
	int		 fatal;		/* the file is unusable */
	int		 nomem;
	int		 nproblems;
};

static void	problem(struct ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
problem(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	c->nproblems++;
	if (c->problems == NULL)
		return;
	va_start(ap, fmt);
	(void)ag_buf_vprintf(c->problems, fmt, ap);
	va_end(ap);
	(void)ag_buf_putc(c->problems, '\n');
}

/*
 * A printable copy of untrusted text for a problem line: at most
 * QUOTE_MAX bytes, control bytes, quotes and backslashes as \xHH.
 * dst must hold QUOTE_MAX * 4 + 4 bytes.
 */
static void
quote(char *dst, size_t dstsz, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, j;
	unsigned char ch;

	for (i = j = 0; i < n && i < QUOTE_MAX && j + 5 < dstsz; i++) {
		ch = (unsigned char)s[i];
		if (ch < 0x20 || ch >= 0x7f || ch == '\'' || ch == '\\') {
			dst[j++] = '\\';
			dst[j++] = 'x';
			dst[j++] = hex[ch >> 4];
			dst[j++] = hex[ch & 0xf];
		} else
			dst[j++] = (char)ch;
	}
	if (i < n && j + 4 <= dstsz) {
		memcpy(dst + j, "...", 3);
		j += 3;
	}
	dst[j] = '\0';
}

/* Where a raw value came from, for a problem line. */
static void
where(const struct slot *s, char *dst, size_t dstsz)
{
	if (s->env[0] != '\0')
		(void)snprintf(dst, dstsz, " (environment %s)", s->env);
	else if (s->line > 0)
		(void)snprintf(dst, dstsz, " (line %zu)", s->line);
	else
		dst[0] = '\0';
}

static const struct key *
key_find(const char *name, size_t n, size_t *idx)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == n &&
		    memcmp(keys[i].name, name, n) == 0) {
			*idx = i;
			return &keys[i];
		}
	return NULL;
}

/* The value of NAME in envp, or NULL.  Empty values count as unset. */
static const char *
env_get(char *const *envp, const char *name)
{
	size_t n;

	n = strlen(name);
	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return (*envp)[n + 1] != '\0' ? *envp + n + 1 : NULL;
	return NULL;
}

/* "AUTHGATE_" + key upper-cased, '.' and '-' as '_'. */
static int
env_name(struct ag_buf *out, const char *key)
{
	int r;

	if ((r = ag_buf_puts(out, ENV_PREFIX)) != AG_OK)
		return r;
	for (; *key != '\0'; key++) {
		if (*key == '.' || *key == '-')
			r = ag_buf_putc(out, '_');
		else
			r = ag_buf_putc(out, toupper((unsigned char)*key));
		if (r != AG_OK)
			return r;
	}
	return AG_OK;
}

static int
is_space(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int
authz_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/*
 * A family of keys "<prefix><name>" (authorization.<param>,
 * authorize.rule.<name>): its prefix, its list in struct ag_conf and
 * the problem a bad name gets.
 */
struct family {
	const char	 *prefix;
	size_t		  plen;
	struct ag_kv	**v;
	size_t		 *n;
	const char	 *bad_name;
};

/* The authorization.<param> family into f. */
static void
family_authz(struct ctx *c, struct family *f)
{
	f->prefix = AUTHZ_PREFIX;
	f->plen = strlen(AUTHZ_PREFIX);
	f->v = &c->conf->authz_params;
	f->n = &c->conf->n_authz_params;
	f->bad_name = "bad authorization parameter name";
}

/* The family of key k (kn bytes) into f: 1, or 0 when it has none. */
static int
family_of(struct ctx *c, const char *k, size_t kn, struct family *f)
{
	memset(f, 0, sizeof(*f));
	if (kn > strlen(AUTHZ_PREFIX) &&
	    memcmp(k, AUTHZ_PREFIX, strlen(AUTHZ_PREFIX)) == 0)
		family_authz(c, f);
	else if (kn > strlen(RULE_PREFIX) &&
	    memcmp(k, RULE_PREFIX, strlen(RULE_PREFIX)) == 0) {
		f->prefix = RULE_PREFIX;
		f->v = &c->conf->authorize_rules;
		f->n = &c->conf->n_authorize_rules;
		f->plen = strlen(RULE_PREFIX);
		f->bad_name = "bad rule name";
	} else
		return 0;
	return 1;
}

/* Add or replace <prefix><name> of f; takes ownership of value. */
static int
family_set(struct ctx *c, const struct family *f, const char *name,
    size_t n, char *value)
{
	struct ag_kv *nv;
	size_t i;
	char *k = NULL;

	for (i = 0; i < *f->n; i++)
		if (strlen((*f->v)[i].key) == n &&
		    memcmp((*f->v)[i].key, name, n) == 0) {
			ag_strfree((*f->v)[i].value);
			(*f->v)[i].value = value;
			return AG_OK;
		}
	if ((k = ag_strndup(name, n)) == NULL)
		goto nomem;
	if ((nv = reallocarray(*f->v, *f->n + 1, sizeof(*nv))) == NULL)
		goto nomem;
	*f->v = nv;
	nv[*f->n].key = k;
	nv[*f->n].value = value;
	(*f->n)++;
	return AG_OK;
 nomem:
	free(k);
	ag_strfree(value);
	c->nomem = 1;
	return AG_ERR_NOMEM;
}

static void
syntax(struct ctx *c, size_t line, const char *what, const char *key,
    size_t keylen)
{
	char q[QUOTE_MAX * 4 + 8];

	if (++c->nsyntax > MAX_PROBLEMS) {
		problem(c, "config: too many errors, stopped reading");
		c->fatal = 1;
		return;
	}
	if (key != NULL) {
		quote(q, sizeof(q), key, keylen);
		problem(c, "line %zu: %s '%s'", line, what, q);
	} else
		problem(c, "line %zu: %s", line, what);
}

/* 1 for authorize.require and authorize.rule.<name>. */
static int
is_rule_key(const char *k, size_t kn)
{
	return (kn == strlen("authorize.require") &&
	    memcmp(k, "authorize.require", kn) == 0) ||
	    (kn > strlen(RULE_PREFIX) &&
	    memcmp(k, RULE_PREFIX, strlen(RULE_PREFIX)) == 0);
}

/*
 * Phase 1: one line "key = value".  Returns -1 when reading must stop.
 */
static int
parse_line(struct ctx *c, const char *s, size_t n, size_t line,
    size_t *nkeys)
{
	const char *eq, *k, *v;
	size_t kn, vn, i, idx;
	struct family f;
	char *val;

	/* Trim; skip blank lines and comments. */
	while (n > 0 && is_space((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || *s == '#')
		return 0;
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f) {
			syntax(c, line, "control character", NULL, 0);
			return c->fatal ? -1 : 0;
		}
	if ((eq = memchr(s, '=', n)) == NULL) {
		syntax(c, line, "expected 'key = value'", NULL, 0);
		return c->fatal ? -1 : 0;
	}
	k = s;
	kn = (size_t)(eq - s);
	while (kn > 0 && is_space((unsigned char)k[kn - 1]))
		kn--;
	v = eq + 1;
	vn = n - (size_t)(v - s);
	while (vn > 0 && is_space((unsigned char)*v)) {
		v++;
		vn--;
	}
	if (kn == 0) {
		syntax(c, line, "missing key before '='", NULL, 0);
		return c->fatal ? -1 : 0;
	}
	if (++*nkeys > AG_MAX_CONF_KEYS) {
		problem(c, "line %zu: more than %d keys", line,
		    AG_MAX_CONF_KEYS);
		c->fatal = 1;
		return -1;
	}
	/*
	 * A value wrapped in double quotes loses them -- but for a rule,
	 * whose quotes are its own ("a.b" = "x").
	 */
	if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"' &&
	    !is_rule_key(k, kn)) {
		v++;
		vn -= 2;
	}

	if (family_of(c, k, kn, &f)) {
		k += f.plen;
		kn -= f.plen;
		if (!authz_name_ok(k, kn)) {
			syntax(c, line, f.bad_name, k, kn);
			return c->fatal ? -1 : 0;
		}
		for (i = 0; i < *f.n; i++)
			if (strlen((*f.v)[i].key) == kn &&
			    memcmp((*f.v)[i].key, k, kn) == 0) {
				syntax(c, line, "duplicate key", k - f.plen,
				    kn + f.plen);
				return c->fatal ? -1 : 0;
			}
		if (vn == 0)
			return 0;	/* empty: as if absent */
		if ((val = ag_strndup(v, vn)) == NULL ||
		    family_set(c, &f, k, kn, val) != AG_OK) {
			c->nomem = 1;
			return -1;
		}
		return 0;
	}
	if (key_find(k, kn, &idx) == NULL) {
		syntax(c, line, "unknown key", k, kn);
		return c->fatal ? -1 : 0;
	}
	if (c->slot[idx].line != 0) {
		syntax(c, line, "duplicate key", k, kn);
		return c->fatal ? -1 : 0;
	}
	if ((val = ag_strndup(v, vn)) == NULL) {
		c->nomem = 1;
		return -1;
	}
	c->slot[idx].val = val;
	c->slot[idx].line = line;
	return 0;
}

static void
parse_text(struct ctx *c, const char *text, size_t n)
{
	const char *p, *nl, *end;
	char what[64];
	size_t line, len, nkeys;

	if (n > AG_MAX_CONF_FILE) {
		problem(c, "config: file larger than %d bytes",
		    AG_MAX_CONF_FILE);
		c->fatal = 1;
		return;
	}
	if ((p = memchr(text, '\0', n)) != NULL) {
		line = 1;
		for (end = text; end < p; end++)
			if (*end == '\n')
				line++;
		problem(c, "line %zu: NUL byte, not a text file", line);
		c->fatal = 1;
		return;
	}
	p = text;
	end = text + n;
	nkeys = 0;
	for (line = 1; p < end; line++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (nl != NULL ? nl : end) - p;
		if (len > AG_MAX_CONF_LINE) {
			(void)snprintf(what, sizeof(what), "line longer than "
			    "%d bytes", AG_MAX_CONF_LINE);
			syntax(c, line, what, NULL, 0);
			if (c->fatal)
				return;
		} else if (parse_line(c, p, len, line, &nkeys) == -1)
			return;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/*
 * Phase 2: the environment.  AUTHGATE_<KEY> first, then the SDK's
 * name; authorization parameters from AUTHGATE_AUTHORIZATION_<NAME>
 * (name lower-cased).
 */
static void
apply_env(struct ctx *c, char *const *envp)
{
	struct ag_buf name;
	struct family f;
	const char *v, *src;
	char *const *e;
	char *val, *p;
	size_t i, n, plen;

	ag_buf_init(&name, sizeof(c->slot[0].env) - 1);
	for (i = 0; i < NKEYS && !c->nomem; i++) {
		ag_buf_reset(&name);
		if (env_name(&name, keys[i].name) != AG_OK) {
			c->nomem = 1;
			break;
		}
		src = ag_buf_str(&name);
		if ((v = env_get(envp, src)) == NULL &&
		    (src = keys[i].sdk_env) != NULL)
			v = env_get(envp, src);
		if (v == NULL)
			continue;
		if (strlen(v) > AG_MAX_CONF_LINE) {
			problem(c, "%s: value of %s longer than %d bytes",
			    keys[i].name, src, AG_MAX_CONF_LINE);
			continue;
		}
		if ((val = strdup(v)) == NULL) {
			c->nomem = 1;
			break;
		}
		ag_strfree(c->slot[i].val);
		c->slot[i].val = val;
		c->slot[i].line = 0;
		n = strlen(src);
		if (n >= sizeof(c->slot[i].env))
			n = sizeof(c->slot[i].env) - 1;
		memcpy(c->slot[i].env, src, n);
		c->slot[i].env[n] = '\0';
	}
	ag_buf_free(&name);

	plen = strlen(AUTHZ_ENV);
	for (e = envp; *e != NULL && !c->nomem; e++) {
		if (strncmp(*e, AUTHZ_ENV, plen) != 0)
			continue;
		if ((p = strchr(*e, '=')) == NULL || p[1] == '\0')
			continue;
		n = (size_t)(p - *e) - plen;
		if (!authz_name_ok(*e + plen, n) ||
		    strlen(p + 1) > AG_MAX_CONF_LINE) {
			problem(c, "authorization: bad environment variable "
			    "%.*s", (int)(n + plen < 64 ? n + plen : 64), *e);
			continue;
		}
		if ((val = strdup(p + 1)) == NULL) {
			c->nomem = 1;
			break;
		}
		if ((p = ag_strndup(*e + plen, n)) == NULL) {
			ag_strfree(val);
			c->nomem = 1;
			break;
		}
		for (i = 0; i < n; i++)
			p[i] = (char)tolower((unsigned char)p[i]);
		family_authz(c, &f);
		(void)family_set(c, &f, p, n, val);
		free(p);
	}
}

static int
parse_bool(const char *s)
{
	static const char *const yes[] = { "on", "true", "yes", "1", NULL };
	static const char *const no[] = { "off", "false", "no", "0", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (i = 0; no[i] != NULL; i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return -1;
}

/* Decimal integer, optional '-', nothing else.  -1 on error. */
static int
parse_i64(const char *s, int64_t *out)
{
	int64_t v;
	int neg;

	neg = *s == '-';
	if (neg)
		s++;
	if (*s == '\0')
		return -1;
	for (v = 0; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int
list_parse(struct ag_strlist *l, const char *s)
{
	static const char sep[] = " \t,";
	size_t n;
	char **v;

	while (*s != '\0') {
		s += strspn(s, sep);
		if ((n = strcspn(s, sep)) == 0)
			break;
		v = reallocarray(l->v, l->n + 2, sizeof(*v));
		if (v == NULL)
			return AG_ERR_NOMEM;
		l->v = v;
		if ((v[l->n] = ag_strndup(s, n)) == NULL)
			return AG_ERR_NOMEM;
		v[++l->n] = NULL;
		s += n;
	}
	return AG_OK;
}

static void
list_free(struct ag_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* "a|b|c" for a problem line. */
static void
enum_list(const struct key *k, char *dst, size_t dstsz)
{
	size_t i, j, n;

	dst[0] = '\0';
	for (i = j = 0; k->names[i] != NULL; i++) {
		n = strlen(k->names[i]);
		if (j + n + 2 > dstsz)
			break;
		if (i > 0)
			dst[j++] = '|';
		memcpy(dst + j, k->names[i], n + 1);
		j += n;
	}
}

/*
 * Phase 3: convert one value (raw, or the default when raw is NULL or
 * empty) into the struct.  A bad raw value is reported and the default
 * takes its place, so that conf stays usable.
 */
static void
set_value(struct ctx *c, const struct key *k, const struct slot *s)
{
	static const struct slot none;
	char *base = (char *)c->conf;
	char q[QUOTE_MAX * 4 + 8], w[128], names[128];
	const char *v;
	int64_t n;
	size_t i;
	unsigned mask;
	int b;

	v = s->val != NULL && s->val[0] != '\0' ? s->val : k->def;
	if (v == NULL)
		return;
	switch (k->type) {
	case T_STR:
		if ((*(char **)(base + k->off) = strdup(v)) == NULL)
			c->nomem = 1;
		return;
	case T_LIST:
		if (list_parse((struct ag_strlist *)(base + k->off), v) !=
		    AG_OK)
			c->nomem = 1;
		return;
	case T_BOOL:
		if ((b = parse_bool(v)) != -1) {
			*(int *)(base + k->off) = b;
			return;
		}
		break;
	case T_I64:
	case T_LONG:
		if (parse_i64(v, &n) == 0 && n >= k->min && n <= k->max) {
			if (k->type == T_I64)
				*(int64_t *)(base + k->off) = n;
			else
				*(long *)(base + k->off) = (long)n;
			return;
		}
		break;
	case T_ENUM:
		for (i = 0; k->names[i] != NULL; i++)
			if (strcasecmp(v, k->names[i]) == 0) {
				*(int *)(base + k->off) = (int)i;
				return;
			}
		break;
	case T_ALGS:
		if (ag_alg_mask_parse(v, &mask) == 0 && mask != 0) {
			*(unsigned *)(base + k->off) = mask;
			return;
		}
		break;
	}

	/* Only non-secret types get here: the value may be quoted. */
	quote(q, sizeof(q), v, strlen(v));
	where(s, w, sizeof(w));
	switch (k->type) {
	case T_BOOL:
		problem(c, "%s: '%s' is not a boolean (on|off)%s", k->name, q,
		    w);
		break;
	case T_I64:
	case T_LONG:
		problem(c, "%s: '%s' is not an integer from %lld to %lld%s",
		    k->name, q, (long long)k->min, (long long)k->max, w);
		break;
	case T_ENUM:
		enum_list(k, names, sizeof(names));
		problem(c, "%s: '%s' is not one of %s%s", k->name, q, names,
		    w);
		break;
	default:
		problem(c, "%s: '%s' is not a list of supported algorithms "
		    "(%s)%s", k->name, q, DEFAULT_ALGS, w);
		break;
	}
	if (v != k->def && k->def != NULL)
		set_value(c, k, &none);
}

/* ------------------------------------------------------------------ */
/* URLs: enough of RFC 3986 for configuration values. */

struct url {
	int		 https;
	const char	*host;		/* points into the string */
	size_t		 hostlen;
	long		 port;		/* 0: none given */
	const char	*path;		/* "" when none */
	size_t		 pathlen;
	int		 query, fragment, userinfo;
};

/* Split an absolute http(s) URL.  -1 if it is not one. */
static int
url_split(const char *s, struct url *u)
{
	const char *p, *a, *ae;
	char digits[8];
	size_t i, dn;
	int64_t port;

	memset(u, 0, sizeof(*u));
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\')
			return -1;
	if (strncasecmp(s, "https://", 8) == 0) {
		u->https = 1;
		a = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0)
		a = s + 7;
	else
		return -1;
	ae = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(ae - a)) != NULL) {
		u->userinfo = 1;
		a = (const char *)memchr(a, '@', (size_t)(ae - a)) + 1;
		while ((p = memchr(a, '@', (size_t)(ae - a))) != NULL)
			a = p + 1;
	}
	u->host = a;
	if (*a == '[') {
		if ((p = memchr(a, ']', (size_t)(ae - a))) == NULL)
			return -1;
		for (i = 1; a + i < p; i++)
			if (!isxdigit((unsigned char)a[i]) && a[i] != ':' &&
			    a[i] != '.')
				return -1;
		if (p == a + 1)
			return -1;
		p++;
	} else {
		for (p = a; p < ae && *p != ':'; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '-' && *p != '_')
				return -1;
		if (p == a)
			return -1;
	}
	u->hostlen = (size_t)(p - a);
	if (p < ae) {
		if (*p != ':')
			return -1;
		p++;
		dn = (size_t)(ae - p);
		if (dn == 0 || dn >= sizeof(digits))
			return -1;
		memcpy(digits, p, dn);
		digits[dn] = '\0';
		if (parse_i64(digits, &port) == -1 || digits[0] == '-' ||
		    port < 1 || port > 65535)
			return -1;
		u->port = (long)port;
	}
	u->path = ae;
	u->pathlen = strcspn(ae, "?#");
	p = ae + u->pathlen;
	u->query = *p == '?';
	u->fragment = strchr(p, '#') != NULL;
	return 0;
}

/* scheme://host[:port], lower case, default port dropped. */
static int
url_origin(struct ag_buf *out, const struct url *u)
{
	size_t i;
	int r;

	if ((r = ag_buf_puts(out, u->https ? "https://" : "http://")) !=
	    AG_OK)
		return r;
	for (i = 0; i < u->hostlen; i++)
		if ((r = ag_buf_putc(out,
		    tolower((unsigned char)u->host[i]))) != AG_OK)
			return r;
	if (u->port != 0 && u->port != (u->https ? 443 : 80))
		r = ag_buf_printf(out, ":%ld", u->port);
	return r;
}

/* An absolute http(s) URL without userinfo; 1 if fine. */
static int
abs_url_ok(const char *s)
{
	struct url u;

	return url_split(s, &u) == 0 && !u.userinfo;
}

/* A local path: one '/', not "//" or "/\", no control bytes. */
static int
local_path_ok(const char *s)
{
	if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '\\')
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Phase 4 and 5: derived values and validation. */

static void
derive_issuer(struct ctx *c)
{
	struct ag_conf *conf = c->conf;
	struct ag_buf b;
	struct url u;
	const char *d;
	size_t i;

	if (conf->issuer != NULL) {
		if (conf->domain != NULL) {
			problem(c, "domain: set only one of domain and issuer");
			return;
		}
		if (url_split(conf->issuer, &u) == -1 || u.userinfo ||
		    u.query || u.fragment) {
			problem(c, "issuer: not an http(s) URL without "
			    "userinfo, query or fragment");
			return;
		}
		if (!u.https && !conf->allow_insecure)
			problem(c, "issuer: must be https:// (set "
			    "allow_insecure_requests = on to allow http://)");
		return;
	}
	if ((d = conf->domain) == NULL) {
		problem(c, "domain: required (or issuer)");
		return;
	}
	ag_buf_init(&b, AG_MAX_CONF_LINE + 16);
	if (strstr(d, "://") != NULL) {
		if (url_split(d, &u) == -1 || u.userinfo || u.query ||
		    u.fragment) {
			problem(c, "domain: not a host name or an http(s) URL "
			    "without userinfo, query or fragment");
			goto out;
		}
		if (!u.https && !conf->allow_insecure) {
			problem(c, "domain: must be https:// (set "
			    "allow_insecure_requests = on to allow http://)");
			goto out;
		}
		if (url_origin(&b, &u) != AG_OK ||
		    ag_buf_add(&b, u.path, u.pathlen) != AG_OK)
			goto nomem;
	} else {
		for (i = 0; d[i] != '\0'; i++)
			if (!isalnum((unsigned char)d[i]) && d[i] != '.' &&
			    d[i] != '-')
				break;
		if (d[i] != '\0' || i == 0 || d[0] == '.' || d[0] == '-') {
			problem(c, "domain: not a host name (like "
			    "tenant.auth0.com) or an https:// URL");
			goto out;
		}
		if (ag_buf_puts(&b, "https://") != AG_OK)
			goto nomem;
		for (i = 0; d[i] != '\0'; i++)
			if (ag_buf_putc(&b, tolower((unsigned char)d[i])) !=
			    AG_OK)
				goto nomem;
	}
	if (b.data[b.len - 1] != '/' && ag_buf_putc(&b, '/') != AG_OK)
		goto nomem;
	if ((conf->issuer = ag_buf_take(&b)) == NULL)
		goto nomem;
	goto out;
 nomem:
	c->nomem = 1;
 out:
	ag_buf_free(&b);
}

static void
derive_app(struct ctx *c)
{
	struct ag_conf *conf = c->conf;
	struct ag_buf b;
	struct url u;

	if (conf->app_base_url == NULL) {
		problem(c, "app_base_url: required");
		return;
	}
	if (url_split(conf->app_base_url, &u) == -1 || u.userinfo ||
	    u.query || u.fragment) {
		problem(c, "app_base_url: not an http(s) URL without "
		    "userinfo, query or fragment");
		return;
	}
	ag_buf_init(&b, 0);
	if (url_origin(&b, &u) != AG_OK ||
	    (conf->app_origin = ag_buf_take(&b)) == NULL)
		c->nomem = 1;
	ag_buf_free(&b);
	/* As the SDK: an https application always gets Secure cookies. */
	if (u.https)
		conf->cookie_secure = 1;
}

static void
derive_client_auth(struct ctx *c, int given)
{
	struct ag_conf *conf = c->conf;

	if (conf->client_id == NULL)
		problem(c, "client_id: required");
	/* The cookie key is HKDF(secret): a short one is guessable. */
	if (conf->secret == NULL)
		problem(c, "secret: required");
	else if (strlen(conf->secret) < 32)
		problem(c, "secret: must be at least 32 characters "
		    "(try: openssl rand -hex 32)");
	if (conf->client_secret == NULL && conf->client_assertion_key == NULL) {
		problem(c, "client_secret: required (or client_assertion_key)");
		return;
	}
	if (!given) {
		conf->client_auth = conf->client_secret != NULL ?
		    AG_AUTH_SECRET_BASIC : AG_AUTH_PRIVATE_KEY_JWT;
		return;
	}
	if (conf->client_auth == AG_AUTH_PRIVATE_KEY_JWT &&
	    conf->client_assertion_key == NULL)
		problem(c, "client_auth: private_key_jwt needs "
		    "client_assertion_key");
	if (conf->client_auth != AG_AUTH_PRIVATE_KEY_JWT &&
	    conf->client_secret == NULL)
		problem(c, "client_auth: %s needs client_secret",
		    client_auth_names[conf->client_auth]);
}

static int
has_word(const char *list, const char *word)
{
	size_t n, wn;

	wn = strlen(word);
	while (*list != '\0') {
		list += strspn(list, " \t");
		n = strcspn(list, " \t");
		if (n == wn && memcmp(list, word, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* RFC 6265 token characters. */
static int
cookie_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?={}", *s) != NULL)
			return 0;
	return 1;
}

/* Cookie attribute value: no control bytes, no ';', no space. */
static int
cookie_attr_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s >= 0x7f || *s == ';')
			return 0;
	return 1;
}

/* A cookie Domain: a host name, maybe with a leading dot. */
static int
cookie_domain_ok(const char *s)
{
	if (*s == '.')
		s++;
	if (*s == '\0' || *s == '.' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-')
			return 0;
	return 1;
}

static void
validate(struct ctx *c)
{
	struct ag_conf *conf = c->conf;
	const char *p;
	size_t i, j;

	if (conf->client_assertion_alg != NULL &&
	    ag_alg_parse(conf->client_assertion_alg) < 0)
		problem(c, "client_assertion_alg: not a supported signing "
		    "algorithm (%s)", DEFAULT_ALGS);
	if (!has_word(conf->scope, "openid"))
		problem(c, "scope: must contain openid");

	p = conf->route_prefix;
	if (p[0] != '/' || (p[1] != '\0' && p[strlen(p) - 1] == '/') ||
	    strcmp(p, "/") == 0 || strpbrk(p, "?#%;") != NULL ||
	    !local_path_ok(p))
		problem(c, "routes.prefix: must start with '/' and not end "
		    "with '/' (like /auth)");
	if (!local_path_ok(conf->default_return_to))
		problem(c, "login.default_return_to: must be a path "
		    "starting with one '/'");
	if (conf->callback_error_url != NULL &&
	    !abs_url_ok(conf->callback_error_url) &&
	    !local_path_ok(conf->callback_error_url))
		problem(c, "callback.error_url: must be an absolute http(s) "
		    "URL or a path starting with one '/'");
	for (i = 0; i < conf->logout_allowed.n; i++)
		if (!abs_url_ok(conf->logout_allowed.v[i])) {
			problem(c, "logout.allowed_return_urls: entry %zu is "
			    "not an absolute http(s) URL", i + 1);
		}

	if (conf->store == AG_STORE_SQLITE && conf->session_db == NULL)
		problem(c, "session.db: required with session.store = "
		    "sqlite");
	if (!cookie_name_ok(conf->cookie_name))
		problem(c, "cookie.name: not a valid cookie name");
	if (conf->cookie_path[0] != '/' || !cookie_attr_ok(conf->cookie_path))
		problem(c, "cookie.path: must start with '/' and hold no "
		    "space, ';' or control character");
	if (conf->cookie_domain != NULL &&
	    !cookie_domain_ok(conf->cookie_domain))
		problem(c, "cookie.domain: not a host name");
	if (conf->cookie_same_site == AG_SAME_SITE_NONE && !conf->cookie_secure)
		problem(c, "cookie.same_site: none requires cookie.secure = "
		    "on (browsers drop SameSite=None cookies without Secure)");
	if (conf->dpop && conf->dpop_key == NULL)
		problem(c, "dpop.key: required with dpop = on");
	if (conf->remote_user_claim[0] == '\0')
		problem(c, "wrap.remote_user_claim: must not be empty");
	for (i = 0; i < conf->wrap_roots.n; i++)
		if (conf->wrap_roots.v[i][0] != '/')
			problem(c, "wrap.roots: entry %zu is not an absolute "
			    "path", i + 1);
	for (i = 0; i < conf->n_authz_params; i++)
		for (j = 0; authz_reserved[j] != NULL; j++)
			if (strcmp(conf->authz_params[i].key,
			    authz_reserved[j]) == 0) {
				problem(c, "authorization.%s: set by authgate "
				    "or by its own key, cannot be configured",
				    conf->authz_params[i].key);
				break;
			}
}

static int
parse_all(struct ag_conf *conf, const char *text, size_t n,
    char *const *envp, struct ag_buf *problems)
{
	struct ctx c;
	size_t i, auth_idx;

	memset(conf, 0, sizeof(*conf));
	memset(&c, 0, sizeof(c));
	c.conf = conf;
	c.problems = problems;
	if (envp == NULL)
		envp = environ;

	if (text != NULL)
		parse_text(&c, text, n);
	if (!c.nomem)
		apply_env(&c, envp);
	for (i = 0; i < NKEYS && !c.nomem; i++)
		set_value(&c, &keys[i], &c.slot[i]);

	if (!c.nomem && !c.fatal) {
		derive_issuer(&c);
		auth_idx = 0;
		(void)key_find("client_auth", strlen("client_auth"),
		    &auth_idx);
		derive_client_auth(&c, c.slot[auth_idx].val != NULL &&
		    c.slot[auth_idx].val[0] != '\0');
		derive_app(&c);
		validate(&c);
	}

	for (i = 0; i < NKEYS; i++)
		ag_strfree(c.slot[i].val);
	if (c.nomem)
		return AG_ERR_NOMEM;
	return c.nproblems ? AG_ERR_CONFIG : AG_OK;
}

int
ag_conf_parse(struct ag_conf *conf, const char *text, size_t n,
    char *const *envp, struct ag_buf *problems)
{
	return parse_all(conf, text != NULL ? text : "", text != NULL ? n : 0,
	    envp, problems);
}

/*
 * Read a regular file into out (whose limit is AG_MAX_CONF_FILE);
 * *toobig is set when there was more.  AG_ERR_IO with *missing set
 * when it does not exist.
 */
static int
read_file(const char *path, struct ag_buf *out, int *missing, int *toobig,
    struct ag_buf *problems)
{
	struct stat st;
	char chunk[8192];
	ssize_t r;
	int fd, rc = AG_ERR_IO;

	*missing = *toobig = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*missing = errno == ENOENT;
		if (problems != NULL)
			(void)ag_buf_printf(problems, "config: %s: %s\n", path,
			    strerror(errno));
		return AG_ERR_IO;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (problems != NULL)
			(void)ag_buf_printf(problems,
			    "config: %s: not a regular file\n", path);
		goto out;
	}
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			if (problems != NULL)
				(void)ag_buf_printf(problems, "config: %s: "
				    "%s\n", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (ag_buf_add(out, chunk, (size_t)r) != AG_OK) {
			*toobig = 1;
			break;
		}
	}
	rc = AG_OK;
 out:
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	return rc;
}

int
ag_conf_load(struct ag_conf *conf, const char *path, char *const *envp,
    struct ag_buf *problems)
{
	struct ag_buf text, ioerr;
	int r, missing, toobig, dflt = 0;

	memset(conf, 0, sizeof(*conf));
	if (envp == NULL)
		envp = environ;
	if (path == NULL && (path = env_get(envp, "AUTHGATE_CONFIG")) == NULL) {
		path = DEFAULT_PATH;
		dflt = 1;
	}
	ag_buf_init(&text, AG_MAX_CONF_FILE);
	ag_buf_init(&ioerr, 0);
	r = read_file(path, &text, &missing, &toobig, &ioerr);
	if (r != AG_OK && dflt && missing) {
		/* No file at the default place: the environment may do. */
		r = parse_all(conf, "", 0, envp, problems);
		goto out;
	}
	if (r != AG_OK) {
		if (problems != NULL)
			(void)ag_buf_puts(problems, ag_buf_str(&ioerr));
		goto out;
	}
	/*
	 * A size past the limit makes parse_text report it without
	 * reading the text.
	 */
	r = parse_all(conf, text.data != NULL ? text.data : "",
	    toobig ? (size_t)AG_MAX_CONF_FILE + 1 : text.len, envp, problems);
	if ((conf->path = strdup(path)) == NULL)
		r = AG_ERR_NOMEM;
 out:
	ag_buf_free(&ioerr);
	ag_buf_free(&text);
	return r;
}

void
ag_conf_free(struct ag_conf *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type == T_STR)
			ag_strfree(*(char **)((char *)conf + keys[i].off));
		else if (keys[i].type == T_LIST)
			list_free((struct ag_strlist *)((char *)conf +
			    keys[i].off));
	}
	for (i = 0; i < conf->n_authz_params; i++) {
		free(conf->authz_params[i].key);
		ag_strfree(conf->authz_params[i].value);
	}
	free(conf->authz_params);
	for (i = 0; i < conf->n_authorize_rules; i++) {
		free(conf->authorize_rules[i].key);
		ag_strfree(conf->authorize_rules[i].value);
	}
	free(conf->authorize_rules);
	free(conf->path);
	ag_strfree(conf->app_origin);
	/* issuer may have been derived, not read: it is in the table. */
	memset(conf, 0, sizeof(*conf));
}

void
ag_conf_warnings(const struct ag_conf *conf, struct ag_buf *out)
{
	struct stat st;
	unsigned char seen[256];
	size_t i, distinct;

	if (conf->path != NULL && stat(conf->path, &st) == 0 &&
	    (st.st_mode & 007) != 0)
		(void)ag_buf_printf(out, "config: %s is %s by others; "
		    "it holds secrets (chmod o-rwx)\n", conf->path,
		    (st.st_mode & 006) == 006 ? "readable and writable" :
		    (st.st_mode & 004) ? "readable" :
		    (st.st_mode & 002) ? "writable" : "accessible");
	if (conf->store == AG_STORE_SQLITE && conf->session_db != NULL &&
	    stat(conf->session_db, &st) == 0 && (st.st_mode & 007) != 0)
		(void)ag_buf_printf(out, "session.db: %s is accessible by "
		    "others; it holds every session (chmod o-rwx)\n",
		    conf->session_db);
	if (conf->secret != NULL) {
		memset(seen, 0, sizeof(seen));
		for (i = distinct = 0; conf->secret[i] != '\0'; i++)
			if (!seen[(unsigned char)conf->secret[i]]++)
				distinct++;
		if (distinct < 8)
			(void)ag_buf_printf(out, "secret: looks weak (only "
			    "%zu distinct characters); use openssl rand "
			    "-hex 32\n", distinct);
		explicit_bzero(seen, sizeof(seen));
	}
	if (conf->allow_insecure)
		(void)ag_buf_puts(out, "allow_insecure_requests: on; "
		    "provider traffic over http:// can be read and forged, "
		    "use only for testing\n");
	if (conf->app_origin != NULL &&
	    strncmp(conf->app_origin, "http://", 7) == 0)
		(void)ag_buf_puts(out, "app_base_url: http://; session "
		    "cookies travel unencrypted, use only for testing\n");
}

_Static_assert(AG_CONF_QUOTE_SIZE == QUOTE_MAX * 4 + 4,
    "AG_CONF_QUOTE_SIZE follows QUOTE_MAX");

void
ag_conf_quote(char *dst, size_t dstsz, const char *s, size_t n)
{
	quote(dst, dstsz, s, n);
}

const char *
ag_conf_key_name(size_t i)
{
	if (i < NKEYS)
		return keys[i].name;
	if (i == NKEYS)
		return AUTHZ_PREFIX;
	if (i == NKEYS + 1)
		return RULE_PREFIX;
	return NULL;
}

int
ag_conf_key_env(size_t i, struct ag_buf *out)
{
	int r;

	if (i == NKEYS)
		return ag_buf_puts(out, AUTHZ_ENV);
	if (i == NKEYS + 1)
		return AG_OK;		/* named rules: the file only */
	if (i > NKEYS + 1)
		return AG_ERR_NOTFOUND;
	if ((r = env_name(out, keys[i].name)) != AG_OK)
		return r;
	if (keys[i].sdk_env != NULL)
		r = ag_buf_printf(out, " %s", keys[i].sdk_env);
	return r;
}
