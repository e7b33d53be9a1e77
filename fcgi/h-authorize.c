/*
 * h-authorize.c -- the FastCGI AUTHORIZER role: may this request pass?
 *
 * lighttpd ("mode" => "authorizer") and Apache (mod_authnz_fcgi) ask
 * before serving anything the authorizer guards: a static file, a CGI
 * program, a proxied application.  The decision is ag_protect()
 * (lib/protect.c), the same as authgate-wrap's:
 *
 *  - a valid session: 200 with the variables of SPEC section 5 as
 *    "Variable-NAME: value" lines (ag_env_authorizer_headers, the same
 *    names, sanitising and caps as the wrapper's environment); the
 *    server turns them into the environment of whatever serves the
 *    request.  No body.
 *  - no session: 307 to the login with this URL as returnTo for a
 *    navigation, 401 JSON otherwise (or with AUTHGATE_MODE=api, a
 *    parameter the server sets per path: lighttpd's
 *    setenv.add-environment reaches the authorizer's request; else the
 *    process environment, e.g. lighttpd's bin-environment, per
 *    backend).  lighttpd sends that answer to the browser as is;
 *    Apache keeps its status and headers but replaces a 307's body and
 *    labels a 401's body text/html.
 *  - the session store unavailable: 503.
 *
 * lighttpd upper-cases the names (http_cgi.c: OIDC_CLAIM_sub arrives
 * as OIDC_CLAIM_SUB) and joins two variables of one name with ", ": of
 * names that differ only in case, the first (in lib/cgienv.c's order:
 * identity claims first, then sorted) is kept and the others dropped,
 * so a claim "SUB" can never join the value of OIDC_CLAIM_sub.
 *
 * Never a 200 without a session with a usable REMOTE_USER.  lighttpd
 * drops every header of an authorizer's 200 but Variable-*, so there
 * nothing here sets a cookie: the session is not rolled (the /auth/
 * routes and the wrapper roll it), and with session.store = cookie an
 * expired access token is not refreshed (see lib/protect.h).  Apache
 * (mod_authnz_fcgi, mod_fcgid) adds the other headers of the 200 to
 * the client's answer, a Set-Cookie too, and says it is the caller:
 * it sets the parameter FCGI_APACHE_ROLE, which lighttpd never sends
 * and a client cannot (its headers arrive as HTTP_*).  With it the
 * authorizer rolls the session and refreshes tokens as the wrapper
 * does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgienv.h"
#include "err.h"
#include "handlers.h"
#include "log.h"
#include "protect.h"
#include "rand.h"
#include "scache.h"
#include "session.h"

/*
 * The verified sessions of this process (lib/scache.h): cookie store
 * only.  With session.store = sqlite the row can change under the same
 * cookie (a refresh by another process, `authgate session revoke`, an
 * update by the CLI) and reading it is most of the cost anyway, so that
 * store always takes the full path.
 */
static struct ag_scache cache;

/* 1 when the Variable-* lines in v carry REMOTE_USER. */
static int
has_remote_user(const char *v)
{
	static const char want[] = "Variable-REMOTE_USER: ";
	const char *p;

	for (p = v; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, want, sizeof(want) - 1) == 0)
			return 1;
	}
	return 0;
}

/* One "Variable-NAME: value\r\n" line of the variables. */
struct line {
	const char	*p;	/* start of the line */
	size_t		 len;	/* with its CRLF */
	size_t		 nlen;	/* length of NAME */
};

/* FNV-1a of the n bytes of a name, upper-cased. */
static size_t
hash_icase(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		h = (h ^ c) * 16777619u;
	}
	return h;
}

/*
 * Append to out the lines of in, keeping of the names equal but for
 * case only the first: one pass, the kept names in an open-addressing
 * table of line indices.  AG_ERR_NOMEM.
 */
static int
dedupe_icase(const char *in, struct ag_buf *out)
{
	struct line *v = NULL, *k;
	size_t *slot = NULL;
	const char *p, *nl;
	size_t n = 0, cap = 0, i, h, mask;
	int r = AG_OK;

	for (p = in; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (n == cap) {
			struct line *nv;

			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				r = AG_ERR_NOMEM;
				goto out;
			}
			v = nv;
		}
		v[n].p = p;
		v[n].len = (size_t)(nl - p + 1);
		v[n].nlen = strcspn(p + 9, ":");
		n++;
	}
	if (n == 0)
		goto out;
	/* At most half full; SIZE_MAX marks a free slot. */
	for (mask = 64; mask < 2 * n; mask *= 2)
		;
	if ((slot = reallocarray(NULL, mask, sizeof(*slot))) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	memset(slot, 0xff, mask * sizeof(*slot));
	/* One allocation for the answer (only a hint: failure is seen below). */
	(void)ag_buf_reserve(out, (size_t)(p - in));
	mask--;
	for (i = 0; i < n && r == AG_OK; i++) {
		for (h = hash_icase(v[i].p + 9, v[i].nlen) & mask;
		    slot[h] != SIZE_MAX; h = (h + 1) & mask) {
			k = &v[slot[h]];
			if (k->nlen == v[i].nlen &&
			    strncasecmp(k->p + 9, v[i].p + 9, k->nlen) == 0)
				break;
		}
		if (slot[h] != SIZE_MAX) {
			ag_warn("authorize: %.*s dropped: it differs from "
			    "%.*s only in case, and the server upper-cases "
			    "names", (int)v[i].nlen, v[i].p + 9,
			    (int)k->nlen, k->p + 9);
			continue;
		}
		slot[h] = i;
		r = ag_buf_add(out, v[i].p, v[i].len);
	}
out:
	free(slot);
	free(v);
	return r;
}

/*
 * Answer from the cache: the session of the sealed cookie, verified by
 * an earlier request of this process, still unexpired at now, not
 * ended by a back-channel logout since, and meeting the rules po names.
 * 1: w holds the 200; 0: take the full path (which answers a refusal
 * itself, with its log lines; an entry no longer fresh or logged out is
 * dropped).
 */
static int
answer_cached(struct ag_app *app, const struct ag_protect_opts *po,
    const struct ag_buf *sealed, int64_t now, struct ag_resp *w)
{
	const struct ag_scache_entry *e;

	if ((e = ag_scache_get(&cache, ag_buf_str(sealed), sealed->len)) ==
	    NULL)
		return 0;
	if (!ag_scache_fresh(&app->conf, e, now, po->set_cookie) ||
	    ag_session_check_logout(app, e->sid, e->sub, e->created_at,
	    now) != AG_OK) {
		ag_scache_drop(&cache, ag_buf_str(sealed), sealed->len);
		return 0;
	}
	if (!ag_protect_rules_hold(app, po, e->user))
		return 0;
	if (ag_buf_add(&w->head, e->vars, e->vars_len) != AG_OK ||
	    ag_resp_header(w, "Cache-Control", "no-store") != AG_OK) {
		ag_buf_reset(&w->head);
		return 0;
	}
	w->status = 200;
	ag_debug("authorize: %s for sub %.128s (cached)", po->what, e->sub);
	return 1;
}

/*
 * Remember a session the full path let through with the variables
 * vars (n bytes), when nothing of that answer was written or would be
 * on the next request: no Set-Cookie, no refreshed tokens, fresh by
 * ag_scache_fresh at now.  A failure to store is no error.
 */
static void
remember(struct ag_app *app, const struct ag_protect_opts *po,
    const struct ag_buf *sealed, int64_t now, const struct ag_protect *p,
    const char *vars, size_t n)
{
	struct ag_scache_entry e;

	if (p->wrote || p->tok.session_changed)
		return;
	memset(&e, 0, sizeof(e));
	e.exp = p->s.exp;
	e.created_at = p->s.created_at;
	if (ag_json_get_int(ag_json_get(p->s.data, "internal"),
	    "sessionExpiresAt", &e.ceiling) != AG_OK)
		e.ceiling = 0;
	e.token_exp = p->es.access_token != NULL ?
	    p->es.access_token_expires : 0;
	e.stored_at = now;
	e.sid = (char *)ag_session_sid(&p->s);
	e.sub = (char *)ag_json_get_str(p->es.user, "sub");
	e.user = p->es.user;
	e.vars = (char *)vars;
	e.vars_len = n;
	if (ag_scache_fresh(&app->conf, &e, now, po->set_cookie))
		(void)ag_scache_put(&cache, ag_buf_str(sealed), sealed->len,
		    &e);
}

/*
 * 1 when FCGI_APACHE_ROLE is one that Apache's mod_authnz_fcgi or
 * mod_fcgid sets on an authorizer request: Apache passes the answer's
 * Set-Cookie on, so the session may be rolled.  Anything else (an
 * administrator's setenv under lighttpd, which drops those headers) is
 * not taken for Apache, and warned about once.
 */
static int
apache_role(const char *role)
{
	static int warned;

	if (role == NULL)
		return 0;
	if (strcmp(role, "AUTHORIZER") == 0 ||
	    strcmp(role, "AUTHENTICATOR") == 0 ||
	    strcmp(role, "ACCESS_CHECKER") == 0)
		return 1;
	if (!warned)
		ag_warn("authorize: FCGI_APACHE_ROLE \"%.32s\" is none of "
		    "Apache's (AUTHORIZER, AUTHENTICATOR, ACCESS_CHECKER): "
		    "not rolling sessions", role);
	warned = 1;
	return 0;
}

int
ag_h_authorize(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	struct ag_protect p;
	struct ag_protect_opts po;
	struct ag_buf vars, sealed;
	const char *mode = req->mode != NULL ? req->mode :
	    getenv("AUTHGATE_MODE");
	const char *rule = req->rule != NULL ? req->rule :
	    getenv("AUTHGATE_RULE");
	int64_t now = ag_now();
	size_t at;
	int r, cacheable;

	ag_buf_init(&vars, 2 * 1024 * 1024);
	ag_buf_init(&sealed, AG_SCACHE_MAX_BYTES);
	memset(&po, 0, sizeof(po));
	po.mode = mode;
	po.rule = rule;
	po.set_cookie = apache_role(req->apache_role);
	po.who = "authorize";
	po.what = req->path != NULL ? req->path : "(no path)";
	memset(&p, 0, sizeof(p));
	cacheable = app->conf.store == AG_STORE_COOKIE &&
	    ag_session_cookie_value(&app->conf, &req->cookies, &sealed) ==
	    AG_OK;
	if (cacheable && answer_cached(app, &po, &sealed, now, w)) {
		r = AG_OK;
		goto out;
	}
	if ((r = ag_protect(app, req, &po, w, &p)) != AG_OK) {
		if (r == AG_ERR_DENIED && w->status != 0)
			r = AG_OK;
		goto out;
	}
	if ((r = ag_env_authorizer_headers(&p.es, &vars)) != AG_OK) {
		ag_err("authorize: %s: building the variables: %s", po.what,
		    ag_strerror(r));
		goto out;
	}
	if (!has_remote_user(ag_buf_str(&vars))) {
		ag_err("authorize: %s: the session has no usable user name "
		    "(neither wrap.remote_user_claim nor sub)", po.what);
		r = AG_ERR_DENIED;
		goto out;
	}
	/* The lines were checked by lib/cgienv.c: no CR, LF or NUL. */
	at = w->head.len;
	if ((r = dedupe_icase(ag_buf_str(&vars), &w->head)) != AG_OK)
		goto out;
	if (cacheable)
		remember(app, &po, &sealed, now, &p, w->head.data + at,
		    w->head.len - at);
	/* A rolled session's answer has its own no-cache headers. */
	if (!p.wrote)
		(void)ag_resp_header(w, "Cache-Control", "no-store");
	w->status = 200;
	ag_debug("authorize: %s for sub %.128s", po.what,
	    ag_json_get_str(p.es.user, "sub"));
out:
	if (r != AG_OK) {
		/* Never a 200: drop whatever was added. */
		ag_buf_reset(&w->head);
		ag_buf_reset(&w->body);
		w->status = 0;
		(void)ag_resp_header(w, "Cache-Control", "no-store");
		ag_resp_text(w, 500, "Internal error.");
	}
	ag_protect_free(&p);
	ag_buf_free(&vars);
	ag_buf_free(&sealed);
	return AG_OK;
}
