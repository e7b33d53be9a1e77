/*
 * cgienv.c -- the environment of a protected program (SPEC section 5).
 *
 * Two halves.  ag_env_from_parent() copies an allow-list of CGI
 * meta-variables and request headers from the server's environment and
 * refuses every name that could pass for one of ours, in any case and
 * with '-' for '_' (HTTP_Oidc-Claim-Sub, REDIRECT_OIDC_CLAIM_sub, ...).
 * ag_env_add_session() then adds our variables: first the fixed ones,
 * then one group per claim in strcmp order of the raw claim name, then
 * OIDC_CLAIMS_JSON.
 *
 * Every value we add passes clean_value(): a NUL byte or a bash
 * function definition ("() {", Shellshock) drops it, other control
 * bytes become spaces (no CR/LF, so the same strings are safe as
 * Variable-* header values), invalid UTF-8 becomes U+FFFD, and a value
 * longer than its limit is dropped.  A claim is all or nothing: if any
 * of its variables (an array element, the joined form) is dropped, or
 * any of its names is already taken, none of them is set.  Logs name
 * variables and claims, never values.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "cgienv.h"
#include "err.h"
#include "json.h"
#include "log.h"

#define CLAIM_PREFIX	"OIDC_CLAIM_"
#define OWNER_FIXED	"(authgate)"	/* owner of our fixed names */
#define LOG_NAME_MAX	64		/* bytes of a foreign name we log */
/*
 * The smallest array element variable, "OIDC_CLAIM_" + 1-byte name +
 * "_0=" + NUL: an array with more elements than budget / this cannot
 * fit, whatever its values.
 */
#define MIN_ELEM_BYTES	(sizeof(CLAIM_PREFIX) - 1 + 1 + 2 + 1 + 1)

/* RFC 3875 meta-variables, minus AUTH_TYPE and REMOTE_USER. */
static const char *const rfc3875_names[] = {
	"CONTENT_LENGTH", "CONTENT_TYPE", "GATEWAY_INTERFACE", "PATH_INFO",
	"PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST",
	"REMOTE_IDENT", "REQUEST_METHOD", "SCRIPT_NAME", "SERVER_NAME",
	"SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", NULL
};

/* What Apache and lighttpd add, and the process basics. */
static const char *const server_names[] = {
	"DOCUMENT_ROOT", "REQUEST_URI", "SCRIPT_FILENAME", "SERVER_ADDR",
	"REMOTE_PORT", "HTTPS", "REQUEST_SCHEME", "REDIRECT_STATUS",
	"REDIRECT_URL", "REDIRECT_QUERY_STRING", "SERVER_ADMIN",
	"SERVER_SIGNATURE", "UNIQUE_ID", "PATH", "TZ", "LANG", NULL
};

static const char *const server_prefixes[] = {
	"SSL_", "LC_", "CONTEXT_", NULL
};

/*
 * Ours, compared after normalisation (upper case, '-' as '_') and after
 * any number of leading "REDIRECT_" / "HTTP_": never from the parent.
 */
static const char *const reserved_prefixes[] = {
	"OIDC", "AUTHGATE_", "AUTH0_", NULL
};
static const char *const reserved_names[] = {
	"REMOTE_USER", "AUTH_TYPE", "APP_BASE_URL",
	/*
	 * Identity headers that other gateways set and legacy programs may
	 * trust (oauth2-proxy, nginx auth_request setups): a client must not
	 * be able to send them through us.
	 */
	"X_REMOTE_USER", "X_FORWARDED_USER", "X_FORWARDED_EMAIL",
	"X_FORWARDED_PREFERRED_USERNAME", "X_FORWARDED_GROUPS",
	"X_AUTH_REQUEST_USER", "X_AUTH_REQUEST_EMAIL",
	"X_AUTH_REQUEST_PREFERRED_USERNAME", "X_AUTH_REQUEST_GROUPS", NULL
};

/* The names ag_env_add_session() may set besides OIDC_CLAIM_*. */
static const char *const fixed_names[] = {
	"REMOTE_USER", "AUTH_TYPE", "OIDC_session_expires",
	"OIDC_access_token", "OIDC_access_token_type",
	"OIDC_access_token_expires", "OIDC_scope", "OIDC_CLAIMS_JSON", NULL
};

/* Variables taken so far, and by which claim (for the collision log). */
struct nameset {
	char		**name;		/* owned; NULL for a free slot */
	const char	**owner;	/* borrowed */
	size_t		  cap;		/* power of two */
	size_t		  n;
};

/* The variables of one claim, committed together or not at all. */
struct var {
	char	*name;
	char	*value;			/* NULL until known */
};
struct claimvars {
	struct var	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 bytes;		/* what they would add to env->total */
};

enum claim_result {
	CLAIM_OK,
	CLAIM_DROPPED,			/* a rule dropped it (logged) */
	CLAIM_BUDGET			/* does not fit AG_MAX_ENV_TOTAL */
};

/* --- The environment array. --- */

void
ag_env_init(struct ag_env *e)
{
	memset(e, 0, sizeof(*e));
}

void
ag_env_free(struct ag_env *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		ag_strfree(e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Room for more entries plus the terminating NULL; v is never NULL after. */
static int
env_reserve(struct ag_env *e, size_t more)
{
	char **nv;
	size_t need, ncap;

	if (more > SIZE_MAX / 4 - e->n)
		return AG_ERR_NOMEM;
	need = e->n + more + 1;
	if (e->v != NULL && need <= e->cap)
		return AG_OK;
	ncap = e->cap != 0 ? e->cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / sizeof(*nv))
		return AG_ERR_NOMEM;
	if ((nv = realloc(e->v, ncap * sizeof(*nv))) == NULL)
		return AG_ERR_NOMEM;
	if (e->v == NULL)
		nv[0] = NULL;
	e->v = nv;
	e->cap = ncap;
	return AG_OK;
}

/* Append entry ("NAME=value", ownership taken, freed on failure). */
static int
env_push(struct ag_env *e, char *entry)
{
	int r;

	if ((r = env_reserve(e, 1)) != AG_OK) {
		ag_strfree(entry);
		return r;
	}
	e->v[e->n++] = entry;
	e->v[e->n] = NULL;
	e->total += strlen(entry) + 1;
	return AG_OK;
}

static int
env_add(struct ag_env *e, const char *name, const char *value)
{
	size_t nl, vl;
	char *s;

	nl = strlen(name);
	vl = strlen(value);
	if ((s = malloc(nl + vl + 2)) == NULL)
		return AG_ERR_NOMEM;
	memcpy(s, name, nl);
	s[nl] = '=';
	memcpy(s + nl + 1, value, vl + 1);
	return env_push(e, s);
}

static void
env_remove(struct ag_env *e, size_t i)
{
	e->total -= strlen(e->v[i]) + 1;
	ag_strfree(e->v[i]);
	memmove(&e->v[i], &e->v[i + 1], (e->n - i) * sizeof(*e->v));
	e->n--;
}

/* Index of the entry named by len bytes at name, or -1. */
static long
env_find(const struct ag_env *e, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=')
			return (long)i;
	return -1;
}

const char *
ag_env_get(const struct ag_env *e, const char *name)
{
	size_t len;
	long i;

	if (e == NULL || e->v == NULL || name == NULL)
		return NULL;
	len = strlen(name);
	if ((i = env_find(e, name, len)) < 0)
		return NULL;
	return e->v[i] + len + 1;
}

/* --- Names. --- */

/* Upper case, '-' as '_': how servers turn header names into variables. */
static int
normc(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 'A';
	if (c == '-')
		return '_';
	return c;
}

/* Whether len bytes at s start with word (upper case) once normalised. */
static int
norm_prefix(const char *s, size_t len, const char *word)
{
	size_t i, wl;

	wl = strlen(word);
	if (len < wl)
		return 0;
	for (i = 0; i < wl; i++)
		if (normc((unsigned char)s[i]) != (unsigned char)word[i])
			return 0;
	return 1;
}

static int
norm_equal(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && norm_prefix(s, len, word);
}

/*
 * Whether a parent variable name could pass for one of ours: after
 * normalising and peeling any "REDIRECT_" (Apache internal redirects)
 * and "HTTP_" (request headers), it starts with OIDC, AUTHGATE_ or
 * AUTH0_, or is REMOTE_USER, AUTH_TYPE or APP_BASE_URL.
 */
static int
reserved(const char *s, size_t len)
{
	size_t i;

	for (;;) {
		if (norm_prefix(s, len, "REDIRECT_")) {
			s += 9;
			len -= 9;
		} else if (norm_prefix(s, len, "HTTP_")) {
			s += 5;
			len -= 5;
		} else
			break;
	}
	for (i = 0; reserved_prefixes[i] != NULL; i++)
		if (norm_prefix(s, len, reserved_prefixes[i]))
			return 1;
	for (i = 0; reserved_names[i] != NULL; i++)
		if (norm_equal(s, len, reserved_names[i]))
			return 1;
	return 0;
}

static int
in_list(const char *s, size_t len, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == len && memcmp(s, list[i], len) == 0)
			return 1;
	return 0;
}

/* A request header variable: HTTP_ and a name of [A-Za-z0-9_-]. */
static int
http_name(const char *s, size_t len)
{
	size_t i;

	if (len <= 5 || memcmp(s, "HTTP_", 5) != 0)
		return 0;
	for (i = 5; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int
allowed(const char *s, size_t len, const struct ag_strlist *extra)
{
	size_t i, pl;

	if (in_list(s, len, rfc3875_names) || in_list(s, len, server_names) ||
	    http_name(s, len))
		return 1;
	for (i = 0; server_prefixes[i] != NULL; i++) {
		pl = strlen(server_prefixes[i]);
		if (len > pl && memcmp(s, server_prefixes[i], pl) == 0)
			return 1;
	}
	if (extra != NULL)
		for (i = 0; i < extra->n; i++)
			if (extra->v[i] != NULL &&
			    strlen(extra->v[i]) == len &&
			    memcmp(s, extra->v[i], len) == 0)
				return 1;
	return 0;
}

/*
 * A bash function definition, which an unpatched bash imports from any
 * variable: blanks, "(", blanks, ")", blanks, "{".
 */
static int
shellshock(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s++ != '(')
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s++ != ')')
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '{';
}

/*
 * 1 for the variables a server sets to configure authgate itself
 * (REDIRECT_AUTHGATE_*: set for a program's path under Apache's Action).
 */
static int
own_config(const char *name, size_t len)
{
	if (len > 18 && strncmp(name, "REDIRECT_AUTHGATE_", 18) == 0) {
		name += 9;
		len -= 9;
	}
	return (len > 9 && strncmp(name, "AUTHGATE_", 9) == 0) ||
	    (len > 6 && strncmp(name, "AUTH0_", 6) == 0) ||
	    (len == 12 && strncmp(name, "APP_BASE_URL", 12) == 0);
}

int
ag_env_from_parent(struct ag_env *e, char *const *parent,
    const struct ag_strlist *extra)
{
	char *const *p;
	const char *eq;
	char *dup;
	size_t len;
	int r;

	if ((r = env_reserve(e, 0)) != AG_OK)
		return r;
	for (p = parent; p != NULL && *p != NULL; p++) {
		if ((eq = strchr(*p, '=')) == NULL || eq == *p) {
			ag_debug("cgienv parent: entry without a name dropped");
			continue;
		}
		len = (size_t)(eq - *p);
		if (reserved(*p, len)) {
			/*
			 * Our own configuration (AUTHGATE_CONFIG, set by the
			 * server) is expected here; anything else reserved
			 * is a spoofing attempt worth a warning.
			 */
			ag_log(own_config(*p, len) ? AG_LOG_DEBUG : AG_LOG_WARN,
			    "cgienv parent: %.*s refused: reserved name",
			    (int)(len < LOG_NAME_MAX ? len : LOG_NAME_MAX), *p);
			continue;
		}
		if (!allowed(*p, len, extra)) {
			ag_debug("cgienv parent: %.*s not passed: not allowed",
			    (int)(len < LOG_NAME_MAX ? len : LOG_NAME_MAX), *p);
			continue;
		}
		if (shellshock(eq + 1)) {
			ag_warn("cgienv parent: %.*s refused: value is a shell "
			    "function definition",
			    (int)(len < LOG_NAME_MAX ? len : LOG_NAME_MAX), *p);
			continue;
		}
		if (env_find(e, *p, len) >= 0) {
			ag_debug("cgienv parent: %.*s duplicate dropped",
			    (int)(len < LOG_NAME_MAX ? len : LOG_NAME_MAX), *p);
			continue;
		}
		if ((dup = strdup(*p)) == NULL)
			return AG_ERR_NOMEM;
		if ((r = env_push(e, dup)) != AG_OK)
			return r;
	}
	return AG_OK;
}

/* --- Values. --- */

/*
 * The UTF-8 sequence at s (len > 0, s[0] >= 0x80): its length when
 * valid, else 0 with *bad set to the length of its maximal ill-formed
 * subpart, which becomes one U+FFFD (Unicode 15, section 3.9).
 * Overlongs, surrogates and code points past U+10FFFF are ill-formed.
 */
static size_t
utf8_seq(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] == 0xe0) {
		need = 2;
		lo = 0xa0;
	} else if ((s[0] >= 0xe1 && s[0] <= 0xec) || s[0] == 0xee ||
	    s[0] == 0xef)
		need = 2;
	else if (s[0] == 0xed) {
		need = 2;
		hi = 0x9f;
	} else if (s[0] == 0xf0) {
		need = 3;
		lo = 0x90;
	} else if (s[0] >= 0xf1 && s[0] <= 0xf3)
		need = 3;
	else if (s[0] == 0xf4) {
		need = 3;
		hi = 0x8f;
	} else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

/*
 * The value for variable name from len bytes at in: *out is a new
 * string (caller ag_strfree()s it), or NULL when a rule drops the
 * value.  Drops and repairs are logged once each, by name.
 */
/*
 * 1 when clean_value() would leave the len bytes at s as they are: no
 * control byte, no invalid UTF-8 (NUL is a control byte).
 */
static int
already_clean(const unsigned char *s, size_t len)
{
	size_t i, n, bad;

	for (i = 0; i < len; i += n) {
		if (s[i] >= 0x20 && s[i] < 0x7f)
			n = 1;
		else if (s[i] < 0x80 || (n = utf8_seq(s + i, len - i,
		    &bad)) == 0)
			return 0;
	}
	return 1;
}

static int
clean_value(const char *name, const char *in, size_t len, size_t max,
    char **out)
{
	const unsigned char *s = (const unsigned char *)in;
	struct ag_buf b;
	size_t i, n, bad;
	int ctl = 0, utf = 0, r = AG_OK;

	*out = NULL;
	ag_buf_init(&b, max);
	if (memchr(in, '\0', len) != NULL) {
		ag_warn("cgienv: %s dropped: value holds a NUL byte", name);
		goto out;
	}
	/* Repairs never shorten a value, so this bounds the work. */
	if (len > max)
		goto toolong;
	/* The common case: nothing to repair, one copy. */
	if (already_clean(s, len)) {
		if (shellshock(in)) {
			ag_warn("cgienv: %s dropped: value is a shell "
			    "function definition", name);
			goto out;
		}
		if ((*out = ag_strndup(in, len)) == NULL)
			r = AG_ERR_NOMEM;
		goto out;
	}
	if ((r = ag_buf_reserve(&b, len)) == AG_ERR_NOMEM)
		goto out;
	r = AG_OK;
	for (i = 0; i < len && r == AG_OK; i += n) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			r = ag_buf_putc(&b, ' ');
			ctl = 1;
			n = 1;
		} else if (s[i] < 0x80) {
			r = ag_buf_putc(&b, s[i]);
			n = 1;
		} else if ((n = utf8_seq(s + i, len - i, &bad)) != 0)
			r = ag_buf_add(&b, s + i, n);
		else {
			r = ag_buf_add(&b, "\xef\xbf\xbd", 3);
			utf = 1;
			n = bad;
		}
	}
	if (r == AG_ERR_LIMIT)
		goto toolong;
	if (r != AG_OK)
		goto out;
	if (shellshock(ag_buf_str(&b))) {
		ag_warn("cgienv: %s dropped: value is a shell function "
		    "definition", name);
		goto out;
	}
	if (ctl)
		ag_warn("cgienv: %s: control bytes replaced by spaces", name);
	if (utf)
		ag_warn("cgienv: %s: invalid UTF-8 replaced by U+FFFD", name);
	if ((*out = ag_buf_take(&b)) == NULL)
		r = AG_ERR_NOMEM;
	goto out;
toolong:
	ag_warn("cgienv: %s dropped: value longer than %zu bytes", name, max);
	r = AG_OK;
out:
	ag_buf_free(&b);
	return r;
}

/*
 * Append the text of a JSON value to b: strings verbatim, booleans 1/0,
 * integers in decimal, other numbers "%.8g" unless integral, null as
 * nothing, objects and arrays as compact JSON.  *nul is set when a
 * string holds a NUL byte (nothing appended).
 */
static int
render(ag_json *v, struct ag_buf *b, int *nul)
{
	const char *s;
	double d;

	*nul = 0;
	switch (ag_json_type(v)) {
	case AG_JSON_NULL:
		return AG_OK;
	case AG_JSON_BOOL:
		return ag_buf_putc(b, ag_json_to_bool(v) ? '1' : '0');
	case AG_JSON_STRING:
		if ((s = ag_json_str(v)) == NULL) {
			*nul = 1;
			return AG_OK;
		}
		return ag_buf_add(b, s, ag_json_str_len(v));
	case AG_JSON_DOUBLE:
		if (ag_json_to_double(v, &d) == AG_OK) {
			if (d == floor(d) && fabs(d) <= 9007199254740992.0)
				return ag_buf_printf(b, "%" PRId64, (int64_t)d);
			return ag_buf_printf(b, "%.8g", d);
		}
		/* FALLTHROUGH */
	default:
		if ((s = ag_json_dump(v)) == NULL)
			return AG_ERR_NOMEM;
		return ag_buf_puts(b, s);
	}
}

/* --- Taken names: open addressing, FNV-1a. --- */

static size_t
ns_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static size_t
ns_slot(const struct nameset *ns, const char *name)
{
	size_t i;

	for (i = ns_hash(name) & (ns->cap - 1); ns->name[i] != NULL;
	    i = (i + 1) & (ns->cap - 1))
		if (strcmp(ns->name[i], name) == 0)
			break;
	return i;
}

/* The owner of name, or NULL when it is free. */
static const char *
ns_owner(const struct nameset *ns, const char *name)
{
	size_t i;

	if (ns->cap == 0)
		return NULL;
	i = ns_slot(ns, name);
	return ns->name[i] != NULL ? ns->owner[i] : NULL;
}

static int
ns_grow(struct nameset *ns)
{
	struct nameset nn;
	size_t i, j;

	nn.cap = ns->cap != 0 ? ns->cap * 2 : 64;
	nn.n = ns->n;
	nn.name = calloc(nn.cap, sizeof(*nn.name));
	nn.owner = calloc(nn.cap, sizeof(*nn.owner));
	if (nn.name == NULL || nn.owner == NULL) {
		free(nn.name);
		free(nn.owner);
		return AG_ERR_NOMEM;
	}
	for (i = 0; i < ns->cap; i++) {
		if (ns->name[i] == NULL)
			continue;
		j = ns_slot(&nn, ns->name[i]);
		nn.name[j] = ns->name[i];
		nn.owner[j] = ns->owner[i];
	}
	free(ns->name);
	free(ns->owner);
	*ns = nn;
	return AG_OK;
}

/* Take name (copied) for owner (borrowed). */
static int
ns_add(struct nameset *ns, const char *name, const char *owner)
{
	size_t i;
	int r;

	if ((ns->n + 1) * 2 > ns->cap && (r = ns_grow(ns)) != AG_OK)
		return r;
	i = ns_slot(ns, name);
	if (ns->name[i] != NULL)
		return AG_OK;
	if ((ns->name[i] = strdup(name)) == NULL)
		return AG_ERR_NOMEM;
	ns->owner[i] = owner;
	ns->n++;
	return AG_OK;
}

static void
ns_free(struct nameset *ns)
{
	size_t i;

	for (i = 0; i < ns->cap; i++)
		free(ns->name[i]);
	free(ns->name);
	free(ns->owner);
	memset(ns, 0, sizeof(*ns));
}

/* --- One claim's variables. --- */

static void
cv_free(struct claimvars *cv)
{
	size_t i;

	for (i = 0; i < cv->n; i++) {
		free(cv->v[i].name);
		ag_strfree(cv->v[i].value);
	}
	free(cv->v);
	memset(cv, 0, sizeof(*cv));
}

/* Add a variable (both strings owned; freed on failure; value may be NULL). */
static int
cv_add(struct claimvars *cv, char *name, char *value)
{
	struct var *nv;
	size_t ncap;

	if (name == NULL)
		goto fail;
	if (cv->n == cv->cap) {
		ncap = cv->cap != 0 ? cv->cap * 2 : 8;
		if (ncap > SIZE_MAX / 2 / sizeof(*nv) ||
		    (nv = realloc(cv->v, ncap * sizeof(*nv))) == NULL)
			goto fail;
		cv->v = nv;
		cv->cap = ncap;
	}
	cv->v[cv->n].name = name;
	cv->v[cv->n].value = value;
	cv->n++;
	cv->bytes += strlen(name) + 2 + (value != NULL ? strlen(value) : 0);
	return AG_OK;
fail:
	free(name);
	ag_strfree(value);
	return AG_ERR_NOMEM;
}

static void
cv_set(struct claimvars *cv, size_t i, char *value)
{
	cv->v[i].value = value;
	cv->bytes += strlen(value);
}

/* "OIDC_CLAIM_" + the claim name with bytes outside [A-Za-z0-9_] as '_'. */
static char *
claim_base(const char *key)
{
	size_t pl = sizeof(CLAIM_PREFIX) - 1, kl = strlen(key), i;
	char *s, c;

	if ((s = malloc(pl + kl + 1)) == NULL)
		return NULL;
	memcpy(s, CLAIM_PREFIX, pl);
	for (i = 0; i < kl; i++) {
		c = key[i];
		s[pl + i] = ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_') ? c : '_';
	}
	s[pl + kl] = '\0';
	return s;
}

/* base + suffix, or base + "_" + index when suffix is NULL. */
static char *
derived(const char *base, const char *suffix, size_t idx)
{
	char num[24], *s, *q;
	size_t bl = strlen(base), sl;

	if (suffix == NULL) {
		/* "_" and the decimal index, written backwards. */
		q = num + sizeof(num);
		do {
			*--q = (char)('0' + idx % 10);
			idx /= 10;
		} while (idx != 0);
		*--q = '_';
		suffix = q;
		sl = (size_t)(num + sizeof(num) - q);
	} else
		sl = strlen(suffix);
	if ((s = malloc(bl + sl + 1)) == NULL)
		return NULL;
	memcpy(s, base, bl);
	memcpy(s + bl, suffix, sl);
	s[bl + sl] = '\0';
	return s;
}

/*
 * Whether one of the names the claim would take is taken: the base, and
 * for an array of n elements _COUNT and _0.. (only as many as could fit
 * budget: a longer array stops at the budget anyway).  Logs the clash.
 */
static int
claim_clashes(const struct nameset *ns, const char *key, const char *base,
    ag_json *val, size_t budget, int *clash)
{
	const char *owner;
	char *name = NULL;
	size_t i, n;

	*clash = 1;
	if ((owner = ns_owner(ns, base)) != NULL) {
		ag_warn("cgienv: claim \"%s\" dropped: %s is taken by claim "
		    "\"%s\"", key, base, owner);
		return AG_OK;
	}
	if (ag_json_type(val) == AG_JSON_ARRAY) {
		n = ag_json_array_len(val);
		if (n > budget / MIN_ELEM_BYTES + 1)
			n = budget / MIN_ELEM_BYTES + 1;
		for (i = 0; i <= n; i++) {
			/* i == n stands for _COUNT. */
			if ((name = derived(base, i == n ? "_COUNT" : NULL,
			    i)) == NULL)
				return AG_ERR_NOMEM;
			if ((owner = ns_owner(ns, name)) != NULL) {
				ag_warn("cgienv: claim \"%s\" dropped: %s is "
				    "taken by claim \"%s\"", key, name, owner);
				free(name);
				return AG_OK;
			}
			free(name);
		}
	}
	*clash = 0;
	return AG_OK;
}

/* The cleaned text of v for variable name into *out (NULL: dropped). */
static int
value_text(const char *name, ag_json *v, size_t max, char **out)
{
	struct ag_buf b;
	int nul, r;

	*out = NULL;
	ag_buf_init(&b, 0);
	/* A string is cleaned where it is, without a copy first. */
	if (ag_json_type(v) == AG_JSON_STRING && ag_json_str(v) != NULL)
		return clean_value(name, ag_json_str(v), ag_json_str_len(v),
		    max, out);
	if ((r = render(v, &b, &nul)) != AG_OK)
		goto out;
	if (nul) {
		ag_warn("cgienv: %s dropped: value holds a NUL byte", name);
		goto out;
	}
	r = clean_value(name, ag_buf_str(&b), b.len, max, out);
out:
	ag_buf_free(&b);
	return r;
}

/* Append s to b with ',' and '\\' escaped by a backslash. */
static int
join_escaped(struct ag_buf *b, const char *s)
{
	int r = AG_OK;

	for (; *s != '\0' && r == AG_OK; s++) {
		if (*s == ',' || *s == '\\')
			r = ag_buf_putc(b, '\\');
		if (r == AG_OK)
			r = ag_buf_putc(b, *s);
	}
	return r;
}

/*
 * An array claim: base = elements joined with ',' (escaped), base_COUNT,
 * base_<i> per element.  Any element dropped drops the claim.
 */
static int
render_array(const char *base, ag_json *val, size_t budget,
    struct claimvars *cv, int *result)
{
	struct ag_buf joined;
	char *name, *text;
	size_t i, n;
	int r;

	*result = CLAIM_DROPPED;
	ag_buf_init(&joined, AG_MAX_CLAIM_VALUE);
	n = ag_json_array_len(val);
	/* Placeholders so the joined form and count come first. */
	if ((r = cv_add(cv, ag_strdup(base), NULL)) != AG_OK ||
	    (r = cv_add(cv, derived(base, "_COUNT", 0), NULL)) != AG_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((name = derived(base, NULL, i)) == NULL) {
			r = AG_ERR_NOMEM;
			goto out;
		}
		if ((r = value_text(name, ag_json_array_get(val, i),
		    AG_MAX_CLAIM_VALUE, &text)) != AG_OK || text == NULL) {
			free(name);
			goto out;
		}
		if (i > 0)
			r = ag_buf_putc(&joined, ',');
		if (r == AG_OK)
			r = join_escaped(&joined, text);
		if (r == AG_ERR_LIMIT) {
			ag_warn("cgienv: %s dropped: value longer than %d "
			    "bytes", base, AG_MAX_CLAIM_VALUE);
			r = AG_OK;
			free(name);
			ag_strfree(text);
			goto out;
		}
		if (r != AG_OK) {
			free(name);
			ag_strfree(text);
			goto out;
		}
		if ((r = cv_add(cv, name, text)) != AG_OK)
			goto out;
		if (cv->bytes > budget) {
			*result = CLAIM_BUDGET;
			goto out;
		}
	}
	if ((text = ag_buf_take(&joined)) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	cv_set(cv, 0, text);
	ag_buf_reset(&joined);
	if ((r = ag_buf_printf(&joined, "%zu", n)) != AG_OK)
		goto out;
	if ((text = ag_buf_take(&joined)) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	cv_set(cv, 1, text);
	*result = cv->bytes > budget ? CLAIM_BUDGET : CLAIM_OK;
out:
	ag_buf_free(&joined);
	return r;
}

/* The variables of one claim into cv; *result says whether to set them. */
static int
render_claim(const char *base, ag_json *val, size_t budget,
    struct claimvars *cv, int *result)
{
	char *text, *name;
	int r;

	if (ag_json_type(val) == AG_JSON_ARRAY)
		return render_array(base, val, budget, cv, result);
	*result = CLAIM_DROPPED;
	if ((r = value_text(base, val, AG_MAX_CLAIM_VALUE, &text)) != AG_OK ||
	    text == NULL)
		return r;
	if ((name = ag_strdup(base)) == NULL) {
		ag_strfree(text);
		return AG_ERR_NOMEM;
	}
	if ((r = cv_add(cv, name, text)) != AG_OK)
		return r;
	*result = cv->bytes > budget ? CLAIM_BUDGET : CLAIM_OK;
	return AG_OK;
}

/* Set the claim's variables and take their names for owner key. */
static int
claim_commit(struct ag_env *e, struct nameset *ns, const char *key,
    const struct claimvars *cv)
{
	size_t i;
	int r;

	if ((r = env_reserve(e, cv->n)) != AG_OK)
		return r;
	for (i = 0; i < cv->n; i++) {
		if ((r = ns_add(ns, cv->v[i].name, key)) != AG_OK ||
		    (r = env_add(e, cv->v[i].name, cv->v[i].value)) != AG_OK)
			return r;
	}
	return AG_OK;
}

static int
collect_key(const char *key, ag_json *val, void *arg)
{
	const char ***kp = arg;

	*(*kp)++ = key;
	return 0;
}

/*
 * The identity claims: the SDK's default claims and the REMOTE_USER
 * claim.  They go first, so that a flood of other claims can never push
 * them past the count or size caps, nor take their names.
 */
static const char *const identity_claims[] = {
	"sub", "name", "nickname", "given_name", "family_name", "picture",
	"email", "email_verified", "org_id", "act",
};

static const char *priority_claim;	/* remote_user_claim, during a sort */

static int
is_identity(const char *key)
{
	size_t i;

	if (priority_claim != NULL && strcmp(key, priority_claim) == 0)
		return 1;
	for (i = 0; i < sizeof(identity_claims) / sizeof(*identity_claims); i++)
		if (strcmp(key, identity_claims[i]) == 0)
			return 1;
	return 0;
}

static int
cmp_key(const void *a, const void *b)
{
	const char *ka = *(const char *const *)a, *kb = *(const char *const *)b;
	int ia = is_identity(ka), ib = is_identity(kb);

	if (ia != ib)
		return ib - ia;
	return strcmp(ka, kb);
}

/*
 * Every claim, identity claims first, then the others in strcmp order
 * of their names, within the caps.
 */
static int
add_claims(struct ag_env *e, struct nameset *ns, ag_json *user,
    const char *remote_user_claim)
{
	struct claimvars cv;
	const char **keys, **kp;
	char *base = NULL;
	size_t n, i, budget;
	int r = AG_OK, result, clash;

	memset(&cv, 0, sizeof(cv));
	if ((n = ag_json_object_len(user)) == 0)
		return AG_OK;
	if ((keys = calloc(n, sizeof(*keys))) == NULL)
		return AG_ERR_NOMEM;
	kp = keys;
	ag_json_each(user, collect_key, &kp);
	n = (size_t)(kp - keys);
	priority_claim = remote_user_claim;
	qsort(keys, n, sizeof(*keys), cmp_key);
	priority_claim = NULL;
	if (n > AG_MAX_CLAIMS) {
		ag_warn("cgienv: %zu claims over the limit of %d left out",
		    n - AG_MAX_CLAIMS, AG_MAX_CLAIMS);
		n = AG_MAX_CLAIMS;
	}
	for (i = 0; i < n; i++) {
		cv_free(&cv);
		free(base);
		base = NULL;
		if (keys[i][0] == '\0') {
			ag_warn("cgienv: claim with an empty name dropped");
			continue;
		}
		if (strlen(keys[i]) > AG_MAX_CLAIM_NAME) {
			ag_warn("cgienv: claim \"%.32s...\" dropped: name longer "
			    "than %d bytes", keys[i], AG_MAX_CLAIM_NAME);
			continue;
		}
		budget = e->total < AG_MAX_ENV_TOTAL ?
		    AG_MAX_ENV_TOTAL - e->total : 0;
		if ((base = claim_base(keys[i])) == NULL) {
			r = AG_ERR_NOMEM;
			goto out;
		}
		if ((r = claim_clashes(ns, keys[i], base,
		    ag_json_get(user, keys[i]), budget, &clash)) != AG_OK)
			goto out;
		if (clash)
			continue;
		if ((r = render_claim(base, ag_json_get(user, keys[i]), budget,
		    &cv, &result)) != AG_OK)
			goto out;
		if (result == CLAIM_DROPPED) {
			/* The variable's own line said why. */
			if (ag_json_type(ag_json_get(user, keys[i])) ==
			    AG_JSON_ARRAY)
				ag_warn("cgienv: array claim \"%s\" dropped "
				    "whole", keys[i]);
			continue;
		}
		if (result == CLAIM_BUDGET) {
			ag_warn("cgienv: environment full (%d bytes): claim "
			    "\"%s\" and %zu more left out", AG_MAX_ENV_TOTAL,
			    keys[i], n - i - 1);
			break;
		}
		if ((r = claim_commit(e, ns, keys[i], &cv)) != AG_OK)
			goto out;
	}
out:
	cv_free(&cv);
	free(base);
	free(keys);
	return r;
}

/* A fixed variable, cleaned like any other; dropped values are logged. */
static int
add_fixed(struct ag_env *e, const char *name, const char *value, size_t max)
{
	char *text;
	int r;

	if ((r = clean_value(name, value, strlen(value), max, &text)) != AG_OK ||
	    text == NULL)
		return r;
	r = env_add(e, name, text);
	ag_strfree(text);
	return r;
}

/* The REMOTE_USER text from claim, or *out NULL when it is unusable. */
static int
remote_user_from(ag_json *user, const char *claim, char **out)
{
	ag_json *v;
	int r;

	*out = NULL;
	v = ag_json_get(user, claim);
	switch (ag_json_type(v)) {
	case AG_JSON_STRING:
	case AG_JSON_INT:
	case AG_JSON_DOUBLE:
		break;
	default:
		ag_warn("cgienv: REMOTE_USER: claim \"%s\" is %s", claim,
		    v == NULL ? "absent" : "not a string or number");
		return AG_OK;
	}
	if ((r = value_text("REMOTE_USER", v, AG_MAX_CLAIM_VALUE, out)) !=
	    AG_OK || *out == NULL)
		return r;
	if (**out == '\0') {
		ag_warn("cgienv: REMOTE_USER: claim \"%s\" is empty", claim);
		ag_strfree(*out);
		*out = NULL;
	}
	return AG_OK;
}

static int
add_remote_user(struct ag_env *e, const struct ag_env_session *s)
{
	const char *claim;
	char *text = NULL;
	int r;

	claim = s->remote_user_claim != NULL && *s->remote_user_claim != '\0' ?
	    s->remote_user_claim : "sub";
	if ((r = remote_user_from(s->user, claim, &text)) != AG_OK)
		return r;
	if (text == NULL && strcmp(claim, "sub") != 0) {
		ag_warn("cgienv: REMOTE_USER: falling back to claim \"sub\"");
		if ((r = remote_user_from(s->user, "sub", &text)) != AG_OK)
			return r;
	}
	if (text == NULL) {
		ag_err("cgienv: REMOTE_USER not set: no usable claim "
		    "(\"%s\"%s)", claim, strcmp(claim, "sub") != 0 ?
		    ", \"sub\"" : "");
		return AG_OK;
	}
	r = env_add(e, "REMOTE_USER", text);
	ag_strfree(text);
	return r;
}

int
ag_env_add_session(struct ag_env *e, const struct ag_env_session *s)
{
	struct nameset ns;
	const char *json;
	char num[32], *text = NULL;
	size_t i, len;
	int r;

	memset(&ns, 0, sizeof(ns));
	if ((r = env_reserve(e, 0)) != AG_OK)
		return r;
	/* Whatever put names of ours into env, ours are the only ones. */
	for (i = 0; i < e->n; ) {
		len = strcspn(e->v[i], "=");
		if (reserved(e->v[i], len)) {
			ag_warn("cgienv: %.*s removed before ours are set",
			    (int)(len < LOG_NAME_MAX ? len : LOG_NAME_MAX),
			    e->v[i]);
			env_remove(e, i);
		} else
			i++;
	}
	for (i = 0; fixed_names[i] != NULL; i++)
		if ((r = ns_add(&ns, fixed_names[i], OWNER_FIXED)) != AG_OK)
			goto out;

	/* The fixed variables, whatever the budget. */
	if ((r = add_remote_user(e, s)) != AG_OK ||
	    (r = env_add(e, "AUTH_TYPE", "openid-connect")) != AG_OK)
		goto out;
	(void)snprintf(num, sizeof(num), "%" PRId64, s->session_expires);
	if ((r = env_add(e, "OIDC_session_expires", num)) != AG_OK)
		goto out;
	if (s->access_token != NULL) {
		if ((r = add_fixed(e, "OIDC_access_token", s->access_token,
		    AG_MAX_CLAIM_VALUE)) != AG_OK)
			goto out;
		if (s->access_token_type != NULL && (r = add_fixed(e,
		    "OIDC_access_token_type", s->access_token_type,
		    AG_MAX_CLAIM_VALUE)) != AG_OK)
			goto out;
		(void)snprintf(num, sizeof(num), "%" PRId64,
		    s->access_token_expires);
		if ((r = env_add(e, "OIDC_access_token_expires", num)) != AG_OK)
			goto out;
		if (s->scope != NULL && (r = add_fixed(e, "OIDC_scope",
		    s->scope, AG_MAX_CLAIM_VALUE)) != AG_OK)
			goto out;
	}
	if (ag_json_type(s->user) != AG_JSON_OBJECT) {
		ag_err("cgienv: the session has no user object");
		goto out;
	}

	if ((r = add_claims(e, &ns, s->user, s->remote_user_claim)) != AG_OK)
		goto out;

	/* All claims as JSON, last, when it fits. */
	if ((json = ag_json_dump(s->user)) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	if ((r = clean_value("OIDC_CLAIMS_JSON", json, strlen(json),
	    AG_MAX_CLAIMS_JSON, &text)) != AG_OK || text == NULL)
		goto out;
	if (e->total + sizeof("OIDC_CLAIMS_JSON=") + strlen(text) >
	    AG_MAX_ENV_TOTAL) {
		ag_warn("cgienv: OIDC_CLAIMS_JSON left out: environment full "
		    "(%d bytes)", AG_MAX_ENV_TOTAL);
		goto out;
	}
	r = env_add(e, "OIDC_CLAIMS_JSON", text);
out:
	ag_strfree(text);
	ns_free(&ns);
	return r;
}

int
ag_env_authorizer_headers(const struct ag_env_session *s, struct ag_buf *out)
{
	struct ag_env e;
	size_t i;
	int r;

	ag_env_init(&e);
	if ((r = ag_env_add_session(&e, s)) != AG_OK)
		goto out;
	/* Each entry grows by "Variable-", ": " and CRLF less its '='. */
	if (e.n > 0 && (r = ag_buf_reserve(out, e.total + 11 * e.n)) != AG_OK)
		goto out;
	for (i = 0; i < e.n && r == AG_OK; i++) {
		/* "NAME=value" -> "Variable-NAME: value\r\n" */
		r = ag_buf_puts(out, "Variable-");
		if (r == AG_OK)
			r = ag_buf_add(out, e.v[i], strcspn(e.v[i], "="));
		if (r == AG_OK)
			r = ag_buf_puts(out, ": ");
		if (r == AG_OK)
			r = ag_buf_puts(out, strchr(e.v[i], '=') + 1);
		if (r == AG_OK)
			r = ag_buf_puts(out, "\r\n");
	}
out:
	ag_env_free(&e);
	return r;
}
