/*
 * grant.c -- CIBA (poll mode) and RFC 8693 token exchange for the CLI;
 * see grant.h.
 *
 * CIBA: the request is POSTed with client authentication to the
 * provider's backchannel_authentication_endpoint; the answer's
 * auth_req_id is then polled at the token endpoint, interval seconds
 * apart (5 when the provider names none), slow_down adding 5 seconds,
 * until tokens, a final error, or expires_in.  A network failure ends
 * the loop as well: a script retrying the whole command is clearer than
 * a CLI that silently keeps a user's pending approval alive.  A 503
 * (the provider overloaded) is polled again after the interval; the
 * Retry-After header is not read (lib/http.c does not keep it), the
 * interval and the deadline bound the wait anyway.
 *
 * Token exchange: the SDK's customTokenExchange, including its checks
 * of the token types, plus one of Auth0's: a Custom Token Exchange
 * subject type may not live in a namespace the providers reserve for
 * their own token types (urn:ietf:params:oauth:..., urn:auth0:...,
 * urn:okta:..., https://auth0.com/..., https://okta.com/...).  Those
 * are what a standard RFC 8693 exchange uses, so allow_reserved lets
 * them through for providers that implement one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "err.h"
#include "grant.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "rand.h"
#include "token.h"
#include "url.h"

/* The SDK's scope for a token exchange, merged with the caller's. */
#define EXCHANGE_SCOPE	"openid profile email offline_access"

/* Copy src into dst (n bytes), control and non-ASCII bytes as '?'. */
static void
copy_clean(char *dst, size_t n, const char *src)
{
	size_t i;

	if (src == NULL)
		src = "";
	for (i = 0; i + 1 < n && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

/*
 * Fill fail (code, cause, description) and why (the formatted reason);
 * return err.
 */
static int	failed(struct ag_grant_fail *, int, const char *, const char *,
    char *, const char *, ...) __attribute__((format(printf, 6, 7)));

static int
failed(struct ag_grant_fail *fail, int err, const char *code,
    const char *cause, char *why, const char *fmt, ...)
{
	va_list ap;

	copy_clean(fail->code, sizeof(fail->code), code);
	copy_clean(fail->cause, sizeof(fail->cause), cause);
	va_start(ap, fmt);
	vsnprintf(why, AG_WHY_LEN, fmt, ap);
	va_end(ap);
	if (fail->description[0] == '\0')
		copy_clean(fail->description, sizeof(fail->description), why);
	return err;
}

/* Take the provider's error (err) into fail under code; AG_ERR_PROVIDER. */
static int
provider_failed(struct ag_grant_fail *fail, const char *code,
    const struct ag_oauth_error *err, char *why)
{
	const char *cause = err->error[0] != '\0' ? err->error :
	    "unknown_error";

	fail->status = err->status;
	copy_clean(fail->description, sizeof(fail->description),
	    err->description);
	return failed(fail, AG_ERR_PROVIDER, code, cause, why, "%s: HTTP "
	    "%ld %s", code, err->status, cause);
}

/* 1 when s is 1..max bytes, each printable ASCII other than space. */
static int
token_chars_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return i > 0;
}

/* 1 when s is all blanks (or empty). */
static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* CIBA                                                               */

/* 1 when s is 1..max bytes without control bytes (UTF-8 allowed). */
static int
text_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return i > 0;
}

int
ag_ciba_check(const struct ag_ciba_req *q, struct ag_grant_fail *fail,
    char *why)
{
	memset(fail, 0, sizeof(*fail));
	if (q->login_hint_sub == NULL ||
	    !text_ok(q->login_hint_sub, AG_MAX_LOGIN_HINT_SUB))
		return failed(fail, AG_ERR_PARSE, "invalid_request", "", why,
		    "the login hint's sub must be 1 to %d bytes without "
		    "control characters", AG_MAX_LOGIN_HINT_SUB);
	if (q->binding_message == NULL ||
	    !text_ok(q->binding_message, AG_MAX_BINDING_MESSAGE))
		return failed(fail, AG_ERR_PARSE, "invalid_request", "", why,
		    "the binding message must be 1 to %d bytes without "
		    "control characters", AG_MAX_BINDING_MESSAGE);
	if (q->requested_expiry < 0 || q->requested_expiry > AG_CIBA_MAX_EXPIRY)
		return failed(fail, AG_ERR_PARSE, "invalid_request", "", why,
		    "the requested expiry must be 1 to %d seconds",
		    AG_CIBA_MAX_EXPIRY);
	if ((q->scope != NULL && !text_ok(q->scope, AG_MAX_QUERY)) ||
	    (q->audience != NULL && !text_ok(q->audience, AG_MAX_RETURN_TO)))
		return failed(fail, AG_ERR_PARSE, "invalid_request", "", why,
		    "scope or audience: empty, too long or control "
		    "characters");
	return AG_OK;
}

int
ag_ciba_form(const struct ag_conf *c, const char *issuer,
    const struct ag_ciba_req *q, struct ag_buf *out)
{
	const char *scope = q->scope != NULL ? q->scope : c->scope;
	const char *aud = q->audience != NULL ? q->audience : c->audience;
	const char *json;
	char expiry[24];
	ag_json *hint;
	int r;

	if ((hint = ag_json_object()) == NULL)
		return AG_ERR_NOMEM;
	if ((r = ag_json_set_str(hint, "format", "iss_sub")) != AG_OK ||
	    (r = ag_json_set_str(hint, "iss", issuer)) != AG_OK ||
	    (r = ag_json_set_str(hint, "sub", q->login_hint_sub)) != AG_OK)
		goto out;
	if ((json = ag_json_dump(hint)) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	if ((scope != NULL &&
	    (r = ag_form_add(out, "scope", scope)) != AG_OK) ||
	    (aud != NULL && (r = ag_form_add(out,
	    c->audience_param == AG_AUDIENCE_RESOURCE ? "resource" :
	    "audience", aud)) != AG_OK) ||
	    (r = ag_form_add(out, "binding_message",
	    q->binding_message)) != AG_OK ||
	    (r = ag_form_add(out, "login_hint", json)) != AG_OK)
		goto out;
	if (q->requested_expiry > 0) {
		snprintf(expiry, sizeof(expiry), "%lld",
		    (long long)q->requested_expiry);
		r = ag_form_add(out, "requested_expiry", expiry);
	}
 out:
	ag_json_free(hint);
	return r;
}

void
ag_ciba_start_clear(struct ag_ciba_start *s)
{
	if (s == NULL)
		return;
	ag_strfree(s->auth_req_id);
	memset(s, 0, sizeof(*s));
}

/* A positive integer member; absent: dflt; capped at max. */
static int
positive(const ag_json *doc, const char *name, int64_t dflt, int64_t max,
    int64_t *out)
{
	ag_json *v;
	int64_t n;

	if ((v = ag_json_get(doc, name)) == NULL) {
		if (dflt < 0)
			return AG_ERR_PARSE;
		*out = dflt;
		return AG_OK;
	}
	if (ag_json_type(v) != AG_JSON_INT || ag_json_to_int(v, &n) != AG_OK ||
	    n <= 0)
		return AG_ERR_PARSE;
	*out = n > max ? max : n;
	return AG_OK;
}

int
ag_ciba_start_parse(const struct ag_http_resp *resp, struct ag_ciba_start *out,
    struct ag_grant_fail *fail, char *why)
{
	struct ag_oauth_error err;
	ag_json *doc = NULL;
	const char *id;
	int r;

	memset(out, 0, sizeof(*out));
	memset(fail, 0, sizeof(*fail));
	if (resp->status != 200) {
		ag_oidc_oauth_error(resp, "backchannel authentication", &err,
		    why);
		r = provider_failed(fail, "backchannel_authentication_error",
		    &err, why);
		ag_oauth_error_clear(&err);
		return r;
	}
	if (ag_json_parse_object(ag_buf_str(&resp->body), resp->body.len,
	    AG_MAX_IDP_RESPONSE, &doc) != AG_OK) {
		r = failed(fail, AG_ERR_PARSE, "backchannel_authentication_error",
		    "", why, "backchannel authentication: not a JSON object");
		goto out;
	}
	if ((id = ag_json_get_str(doc, "auth_req_id")) == NULL ||
	    !token_chars_ok(id, AG_MAX_AUTH_REQ_ID)) {
		r = failed(fail, AG_ERR_PARSE, "backchannel_authentication_error",
		    "", why, "backchannel authentication: auth_req_id missing "
		    "or malformed");
		goto out;
	}
	if (positive(doc, "expires_in", -1, AG_CIBA_MAX_EXPIRY,
	    &out->expires_in) != AG_OK ||
	    positive(doc, "interval", AG_CIBA_DEFAULT_INTERVAL,
	    AG_CIBA_MAX_INTERVAL, &out->interval) != AG_OK) {
		r = failed(fail, AG_ERR_PARSE, "backchannel_authentication_error",
		    "", why, "backchannel authentication: expires_in or "
		    "interval not a positive integer");
		goto out;
	}
	if ((out->auth_req_id = ag_strdup(id)) == NULL) {
		r = failed(fail, AG_ERR_NOMEM, "backchannel_authentication_error",
		    "", why, "backchannel authentication: out of memory");
		goto out;
	}
	r = AG_OK;
 out:
	if (r != AG_OK)
		ag_ciba_start_clear(out);
	ag_json_free(doc);
	return r;
}

void
ag_ciba_poll_init(struct ag_ciba_poll *p, const struct ag_ciba_start *s,
    int64_t now)
{
	memset(p, 0, sizeof(*p));
	p->deadline = now + s->expires_in;
	p->interval = s->interval > 0 ? s->interval : AG_CIBA_DEFAULT_INTERVAL;
}

enum ag_ciba_step
ag_ciba_next(struct ag_ciba_poll *p, int r, const struct ag_oauth_error *err,
    int64_t now, struct ag_grant_fail *fail, char *why)
{
	const char *code = "backchannel_authentication_error";

	memset(fail, 0, sizeof(*fail));
	p->polls++;
	if (r == AG_OK)
		return AG_CIBA_DONE;
	if (r != AG_ERR_PROVIDER) {
		/* why already says what happened. */
		copy_clean(fail->code, sizeof(fail->code), code);
		copy_clean(fail->description, sizeof(fail->description), why);
		return AG_CIBA_FAIL;
	}
	if (strcmp(err->error, "slow_down") == 0)
		p->interval += AG_CIBA_SLOW_DOWN;
	else if (strcmp(err->error, "authorization_pending") != 0 &&
	    err->status != 503) {
		provider_failed(fail, code, err, why);
		return AG_CIBA_FAIL;
	}
	if (now + p->interval > p->deadline) {
		failed(fail, AG_ERR_EXPIRED, code, "expired_token", why,
		    "the request expired before the user answered");
		return AG_CIBA_FAIL;
	}
	if (p->polls >= AG_CIBA_MAX_POLLS) {
		failed(fail, AG_ERR_LIMIT, code, "expired_token", why,
		    "no answer after %d polls", AG_CIBA_MAX_POLLS);
		return AG_CIBA_FAIL;
	}
	return AG_CIBA_AGAIN;
}

/* The real poll: ag_oidc_token on the struct ag_oidc in arg. */
static int
real_token(void *arg, const char *form, struct ag_tokens *t,
    struct ag_oauth_error *err, char *why)
{
	return ag_oidc_token(arg, form, t, err, why);
}

static void
real_sleep(void *arg, int64_t secs)
{
	(void)arg;
	ag_sleep_ms((int)(secs * 1000));
}

int
ag_ciba_poll_run(const struct ag_ciba_ops *ops, const struct ag_ciba_start *s,
    struct ag_tokens *t, struct ag_grant_fail *fail, char *why)
{
	int (*token)(void *, const char *, struct ag_tokens *,
	    struct ag_oauth_error *, char *) = ops->token != NULL ?
	    ops->token : real_token;
	void (*nap)(void *, int64_t) = ops->sleep != NULL ? ops->sleep :
	    real_sleep;
	struct ag_oauth_error err;
	struct ag_ciba_poll p;
	struct ag_buf form;
	enum ag_ciba_step step;
	int r;

	memset(t, 0, sizeof(*t));
	memset(&err, 0, sizeof(err));
	ag_buf_init(&form, 0);
	if ((r = ag_form_add(&form, "grant_type", AG_GRANT_CIBA)) != AG_OK ||
	    (r = ag_form_add(&form, "auth_req_id", s->auth_req_id)) != AG_OK) {
		r = failed(fail, r, "backchannel_authentication_error", "",
		    why, "ciba: %s", ag_strerror(r));
		goto out;
	}
	ag_ciba_poll_init(&p, s, ag_now());
	for (;;) {
		nap(ops->arg, p.interval);
		ag_oauth_error_clear(&err);
		r = token(ops->arg, ag_buf_str(&form), t, &err, why);
		step = ag_ciba_next(&p, r, &err, ag_now(), fail, why);
		if (step == AG_CIBA_DONE)
			break;
		ag_tokens_clear(t);
		if (step == AG_CIBA_FAIL) {
			r = r != AG_OK && r != AG_ERR_PROVIDER ? r :
			    strcmp(fail->cause, "expired_token") == 0 ?
			    AG_ERR_EXPIRED : AG_ERR_PROVIDER;
			goto out;
		}
		ag_debug("ciba: %s; polling again in %lld s", err.error,
		    (long long)p.interval);
	}
	r = AG_OK;
 out:
	ag_oauth_error_clear(&err);
	ag_buf_free(&form);
	return r;
}

/* Copy the discovery values the flow needs (the provider is borrowed). */
static int
ciba_endpoints(struct ag_oidc *o, char **issuer, char **endpoint,
    struct ag_grant_fail *fail, char *why)
{
	const struct ag_provider *p;
	char reason[AG_WHY_LEN];

	if (ag_oidc_provider(o, &p, reason) != AG_OK)
		return failed(fail, AG_ERR_HTTP,
		    "backchannel_authentication_error", "discovery_error", why,
		    "%s", reason);
	if (p->backchannel_authentication_endpoint == NULL)
		return failed(fail, AG_ERR_NOTFOUND,
		    "backchannel_authentication_not_supported_error", "", why,
		    "the provider has no backchannel_authentication_endpoint");
	if ((*issuer = ag_strdup(p->issuer)) == NULL ||
	    (*endpoint = ag_strdup(p->backchannel_authentication_endpoint)) ==
	    NULL)
		return failed(fail, AG_ERR_NOMEM,
		    "backchannel_authentication_error", "", why,
		    "out of memory");
	return AG_OK;
}

/*
 * Validate the ID token of a grant into *claims: no nonce (none was
 * sent), at_hash against the access token, sub when given.  None: an
 * error when required (CIBA Core 10.1.1: a grant for the openid scope
 * carries one), else AG_OK without claims.
 */
static int
check_id_token(struct ag_oidc *o, const struct ag_tokens *t, const char *sub,
    int required, const char *code, ag_json **claims,
    struct ag_grant_fail *fail, char *why)
{
	struct ag_id_expect e;
	char reason[AG_WHY_LEN];
	int r;

	*claims = NULL;
	if (t->id_token == NULL && required)
		return failed(fail, AG_ERR_PROVIDER, code, "invalid_id_token",
		    why, "the token response has no id_token (the openid "
		    "scope was asked for)");
	if (t->id_token == NULL)
		return AG_OK;
	memset(&e, 0, sizeof(e));
	e.max_age = -1;
	e.access_token = t->access_token;
	e.sub = sub;
	if ((r = ag_oidc_id_token(o, t->id_token, &e, claims, reason)) !=
	    AG_OK)
		return failed(fail, r, code, "invalid_id_token", why, "%s",
		    reason);
	return AG_OK;
}

int
ag_ciba_run(struct ag_oidc *o, const struct ag_conf *c,
    const struct ag_ciba_req *q, const struct ag_ciba_ops *ops,
    struct ag_tokens *t, ag_json **claims, struct ag_grant_fail *fail,
    char *why)
{
	struct ag_ciba_ops real;
	struct ag_ciba_start start;
	struct ag_http_resp resp;
	struct ag_buf form;
	char *issuer = NULL, *endpoint = NULL, reason[AG_WHY_LEN];
	int r;

	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
	*claims = NULL;
	memset(&start, 0, sizeof(start));
	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&form, 0);
	if ((r = ag_ciba_check(q, fail, why)) != AG_OK ||
	    (r = ciba_endpoints(o, &issuer, &endpoint, fail, why)) != AG_OK)
		goto out;
	if ((r = ag_ciba_form(c, issuer, q, &form)) != AG_OK) {
		r = failed(fail, r, "backchannel_authentication_error", "",
		    why, "ciba: %s", ag_strerror(r));
		goto out;
	}
	if ((r = ag_oidc_client_post(o, endpoint, ag_buf_str(&form), &resp,
	    reason)) != AG_OK) {
		r = failed(fail, r, "backchannel_authentication_error", "",
		    why, "backchannel authentication: %.200s", reason);
		goto out;
	}
	if ((r = ag_ciba_start_parse(&resp, &start, fail, why)) != AG_OK)
		goto out;
	if (ops == NULL) {
		memset(&real, 0, sizeof(real));
		real.arg = o;
		ops = &real;
	}
	if ((r = ag_ciba_poll_run(ops, &start, t, fail, why)) != AG_OK)
		goto out;
	r = check_id_token(o, t, q->login_hint_sub, ag_token_scope_has(
	    q->scope != NULL ? q->scope : c->scope, "openid"),
	    "backchannel_authentication_error", claims, fail, why);
 out:
	if (r != AG_OK)
		ag_tokens_clear(t);
	ag_ciba_start_clear(&start);
	ag_http_resp_free(&resp);
	ag_buf_free(&form);
	free(issuer);
	free(endpoint);
	return r;
}

/* ------------------------------------------------------------------ */
/* Token exchange                                                     */

/* 1 when c may appear in a URN's NSS (the SDK's character class). */
static int
nss_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("()+,-.:=@;$_!*'%/?#", c) != NULL;
}

/* 1 when s is urn:NID:NSS (NID 1..32 alphanumerics and hyphens). */
static int
urn_ok(const char *s)
{
	size_t i, n;

	if (strncasecmp(s, "urn:", 4) != 0)
		return 0;
	s += 4;
	for (n = 0; s[n] != '\0' && s[n] != ':'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') || (s[n] == '-' && n > 0)))
			return 0;
	if (n == 0 || n > AG_URN_NID_MAX || s[n] != ':' || s[n + 1] == '\0')
		return 0;
	for (i = n + 1; s[i] != '\0'; i++)
		if (!nss_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * 1 when s is an absolute URI: scheme ":" and more, printable ASCII
 * without spaces; http and https need "//" and a host; urn: is left
 * to urn_ok.
 */
static int
absolute_uri_ok(const char *s)
{
	size_t n;

	if (!token_chars_ok(s, AG_ACTOR_TOKEN_TYPE_MAX))
		return 0;
	for (n = 0; s[n] != ':'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') || (n > 0 &&
		    ((s[n] >= '0' && s[n] <= '9') || s[n] == '+' ||
		    s[n] == '-' || s[n] == '.'))))
			return 0;
	if (n == 0 || s[n + 1] == '\0')
		return 0;
	if (n == 3 && strncasecmp(s, "urn", 3) == 0)
		return 0;	/* a urn: must be a URN (stricter than the SDK) */
	if ((n == 4 && strncasecmp(s, "http", 4) == 0) ||
	    (n == 5 && strncasecmp(s, "https", 5) == 0))
		return strncmp(s + n + 1, "//", 2) == 0 &&
		    s[n + 3] != '\0' && strchr("/?#", s[n + 3]) == NULL;
	return 1;
}

/* 1 when s is a URI the SDK accepts as a token type. */
static int
token_type_uri_ok(const char *s)
{
	return urn_ok(s) || absolute_uri_ok(s);
}

/* 1 when url's scheme is http(s) and its host is exactly host. */
static int
has_host(const char *url, const char *host)
{
	const char *p;
	size_t n = strlen(host);

	if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return 0;
	return strncasecmp(p, host, n) == 0 &&
	    (p[n] == '\0' || strchr("/:?#", p[n]) != NULL);
}

/* 1 when a token type lies in a namespace the providers reserve. */
static int
reserved_type(const char *s)
{
	return strncasecmp(s, "urn:ietf:params:oauth:", 22) == 0 ||
	    strncasecmp(s, "urn:auth0:", 10) == 0 ||
	    strncasecmp(s, "urn:okta:", 9) == 0 ||
	    has_host(s, "auth0.com") || has_host(s, "okta.com");
}

int
ag_exchange_check(const struct ag_exchange_req *q, struct ag_grant_fail *fail,
    char *why)
{
	const char *st = q->subject_token_type;
	size_t n;

	memset(fail, 0, sizeof(*fail));
	if (q->subject_token == NULL || blank(q->subject_token))
		return failed(fail, AG_ERR_PARSE, "missing_subject_token", "",
		    why, "the subject token is required");
	if (!token_chars_ok(q->subject_token, AG_MAX_JWT))
		return failed(fail, AG_ERR_PARSE, "invalid_request", "", why,
		    "the subject token must be 1 to %d printable ASCII "
		    "characters without spaces", AG_MAX_JWT);
	n = st != NULL ? strlen(st) : 0;
	if (n < AG_TOKEN_TYPE_MIN || n > AG_TOKEN_TYPE_MAX)
		return failed(fail, AG_ERR_PARSE, "invalid_subject_token_type",
		    "", why, "the subject token type must be %d to %d "
		    "characters (got %zu)", AG_TOKEN_TYPE_MIN,
		    AG_TOKEN_TYPE_MAX, n);
	if (!token_type_uri_ok(st))
		return failed(fail, AG_ERR_PARSE, "invalid_subject_token_type",
		    "", why, "the subject token type must be a valid URI (URL "
		    "or URN)");
	if (!q->allow_reserved && reserved_type(st))
		return failed(fail, AG_ERR_PARSE, "invalid_subject_token_type",
		    "", why, "the subject token type is in a reserved "
		    "namespace (urn:ietf:params:oauth, urn:auth0, urn:okta, "
		    "auth0.com, okta.com); use your own, or "
		    "--allow-reserved-type for a standard RFC 8693 exchange");
	if (q->actor_token == NULL || *q->actor_token == '\0')
		return AG_OK;
	if (!token_chars_ok(q->actor_token, AG_MAX_JWT))
		return failed(fail, AG_ERR_PARSE, "invalid_request", "", why,
		    "the actor token must be 1 to %d printable ASCII "
		    "characters without spaces", AG_MAX_JWT);
	if (q->actor_token_type == NULL || *q->actor_token_type == '\0')
		return failed(fail, AG_ERR_PARSE, "missing_actor_token_type",
		    "", why, "actor_token_type is required when an actor "
		    "token is given");
	if (!token_type_uri_ok(q->actor_token_type))
		return failed(fail, AG_ERR_PARSE, "invalid_actor_token_type",
		    "", why, "the actor_token_type must be a valid URI (URL or "
		    "URN)");
	return AG_OK;
}

int
ag_exchange_form(const struct ag_exchange_req *q, struct ag_buf *out)
{
	struct ag_buf scope;
	int r;

	ag_buf_init(&scope, AG_MAX_QUERY);
	if ((r = ag_token_scope_union(EXCHANGE_SCOPE, q->scope, &scope)) !=
	    AG_OK ||
	    (r = ag_form_add(out, "grant_type", AG_GRANT_TOKEN_EXCHANGE)) !=
	    AG_OK ||
	    (r = ag_form_add(out, "subject_token", q->subject_token)) !=
	    AG_OK ||
	    (r = ag_form_add(out, "subject_token_type",
	    q->subject_token_type)) != AG_OK ||
	    (r = ag_form_add(out, "scope", ag_buf_str(&scope))) != AG_OK)
		goto out;
	if (q->audience != NULL && *q->audience != '\0' &&
	    (r = ag_form_add(out, "audience", q->audience)) != AG_OK)
		goto out;
	if (q->actor_token != NULL && *q->actor_token != '\0' &&
	    ((r = ag_form_add(out, "actor_token", q->actor_token)) != AG_OK ||
	    (r = ag_form_add(out, "actor_token_type",
	    q->actor_token_type)) != AG_OK))
		goto out;
	r = AG_OK;
 out:
	ag_buf_free(&scope);
	return r;
}

int
ag_exchange_run(struct ag_oidc *o, const struct ag_exchange_req *q,
    struct ag_tokens *t, ag_json **claims, struct ag_grant_fail *fail,
    char *why)
{
	struct ag_oauth_error err;
	struct ag_buf form;
	char reason[AG_WHY_LEN];
	int r;

	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
	*claims = NULL;
	memset(&err, 0, sizeof(err));
	ag_buf_init(&form, 0);
	if ((r = ag_exchange_check(q, fail, why)) != AG_OK)
		goto out;
	if ((r = ag_exchange_form(q, &form)) != AG_OK) {
		r = failed(fail, r, "exchange_failed", "", why, "exchange: %s",
		    ag_strerror(r));
		goto out;
	}
	r = ag_oidc_token(o, ag_buf_str(&form), t, &err, reason);
	if (r == AG_ERR_PROVIDER)
		r = provider_failed(fail, "exchange_failed", &err, why);
	else if (r != AG_OK)
		r = failed(fail, r, "exchange_failed", r == AG_ERR_HTTP &&
		    strstr(reason, "discovery") != NULL ? "discovery_error" :
		    "", why, "%s", reason);
	else
		r = check_id_token(o, t, NULL, 0, "exchange_failed", claims,
		    fail, why);
 out:
	if (r != AG_OK)
		ag_tokens_clear(t);
	ag_oauth_error_clear(&err);
	ag_buf_free(&form);
	return r;
}

/* ------------------------------------------------------------------ */
/* Output                                                             */

/* Set key to the string s in obj when s is non-NULL. */
static int
set_opt(ag_json *obj, const char *key, const char *s)
{
	return s != NULL ? ag_json_set_str(obj, key, s) : AG_OK;
}

int
ag_grant_json(const struct ag_tokens *t, const ag_json *claims, int64_t now,
    struct ag_buf *out)
{
	ag_json *o, *c = NULL;
	const char *s;
	int r;

	if ((o = ag_json_object()) == NULL)
		return AG_ERR_NOMEM;
	if ((r = ag_json_set_str(o, "accessToken", t->access_token)) != AG_OK ||
	    (r = ag_json_set_str(o, "tokenType", t->token_type)) != AG_OK ||
	    (r = set_opt(o, "idToken", t->id_token)) != AG_OK ||
	    (r = set_opt(o, "refreshToken", t->refresh_token)) != AG_OK ||
	    (r = set_opt(o, "scope", t->scope)) != AG_OK ||
	    (r = set_opt(o, "issuedTokenType", ag_json_get_str(t->raw,
	    "issued_token_type"))) != AG_OK)
		goto out;
	if (t->expires_in >= 0 &&
	    ((r = ag_json_set_int(o, "expiresIn", t->expires_in)) != AG_OK ||
	    (r = ag_json_set_int(o, "expiresAt", now + t->expires_in)) !=
	    AG_OK))
		goto out;
	if (claims != NULL) {
		if ((c = ag_json_copy((ag_json *)claims)) == NULL) {
			r = AG_ERR_NOMEM;
			goto out;
		}
		r = ag_json_set(o, "idTokenClaims", c);
		if (r != AG_OK)
			goto out;
	}
	r = (s = ag_json_dump(o)) != NULL ? ag_buf_puts(out, s) : AG_ERR_NOMEM;
 out:
	ag_json_free(o);
	return r;
}
