/*
 * myaccount.c -- Auth0's My Account API.  See myaccount.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "dpop.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "myaccount.h"
#include "oidc.h"

#define BASE_PATH	"me/v1/connected-accounts/"

/* {issuer} with exactly one '/' at the end, then suffix. */
static int
issuer_url(struct ag_app *app, const char *suffix, struct ag_buf *out,
    char *why)
{
	const struct ag_provider *p;
	size_t n;
	int r;

	if ((r = ag_oidc_provider(app->oidc, &p, why)) != AG_OK)
		return r;
	n = strlen(p->issuer);
	while (n > 0 && p->issuer[n - 1] == '/')
		n--;
	if ((r = ag_buf_add(out, p->issuer, n)) != AG_OK ||
	    (r = ag_buf_putc(out, '/')) != AG_OK)
		return r;
	return ag_buf_puts(out, suffix);
}

int
ag_myaccount_token(struct ag_app *app, struct ag_session *s,
    const char *scope, struct ag_token *tok, struct ag_token_fail *f)
{
	struct ag_token_req treq;
	struct ag_buf aud;
	char why[AG_WHY_LEN] = "";
	int r;

	memset(tok, 0, sizeof(*tok));
	ag_buf_init(&aud, 4096);
	if (issuer_url(app, "me/", &aud, why) != AG_OK) {
		memset(f, 0, sizeof(*f));
		f->err = AG_TOKEN_DISCOVERY;
		snprintf(f->why, sizeof(f->why), "my account: %.200s", why);
		ag_buf_free(&aud);
		return AG_TOKEN_DISCOVERY;
	}
	memset(&treq, 0, sizeof(treq));
	treq.audience = ag_buf_str(&aud);
	treq.scope = scope;
	r = ag_token_get(app, s, &treq, tok, f);
	ag_buf_free(&aud);
	return r;
}

void
ag_myaccount_resp_clear(struct ag_myaccount_resp *r)
{
	if (r == NULL)
		return;
	ag_json_free(r->body);
	memset(r, 0, sizeof(*r));
}

int
ag_myaccount_call(struct ag_app *app, const struct ag_token *tok,
    const char *method, const char *path, ag_json *body,
    struct ag_myaccount_resp *out, char *why)
{
	struct ag_http_req req;
	struct ag_http_resp resp;
	struct ag_buf url, authz;
	struct ag_dpop *dpop = NULL;
	const char *json = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&url, 8192);
	ag_buf_init(&authz, 64 * 1024);
	/* Case-insensitive: SDK-written sessions store "Bearer", "DPoP". */
	if (tok->token_type != NULL &&
	    strcasecmp(tok->token_type, "bearer") != 0) {
		if (strcasecmp(tok->token_type, "dpop") != 0 ||
		    (dpop = ag_oidc_dpop(app->oidc)) == NULL) {
			snprintf(why, AG_WHY_LEN, "my account: a %.16s token "
			    "cannot be used here (dpop is off)",
			    tok->token_type);
			r = AG_ERR_CONFIG;
			goto out;
		}
	}
	if ((r = issuer_url(app, BASE_PATH, &url, why)) != AG_OK)
		goto out;
	if ((r = ag_buf_puts(&url, path)) != AG_OK ||
	    (r = ag_buf_printf(&authz, "%s %s", dpop != NULL ? "DPoP" :
	    "Bearer", tok->access_token)) !=
	    AG_OK ||
	    (body != NULL && (json = ag_json_dump(body)) == NULL)) {
		snprintf(why, AG_WHY_LEN, "my account: the request is too "
		    "large");
		r = r != AG_OK ? r : AG_ERR_NOMEM;
		goto out;
	}
	ag_oidc_http_req(&app->conf, &req, method, ag_buf_str(&url), json);
	req.authorization = ag_buf_str(&authz);
	req.other_methods = strcmp(method, "DELETE") == 0;
	r = dpop != NULL ? ag_dpop_http(dpop, &req, tok->access_token, &resp) :
	    ag_http_do(&req, &resp);
	if (r != AG_OK) {
		snprintf(why, AG_WHY_LEN, "my account: %s %.40s: %.160s", method,
		    path, resp.error);
		goto out;
	}
	out->status = resp.status;
	if (resp.body.len > 0 && ag_json_parse(ag_buf_str(&resp.body),
	    resp.body.len, AG_MAX_IDP_RESPONSE, &out->body) != AG_OK)
		out->body = NULL;
	snprintf(why, AG_WHY_LEN, "my account: %s %.40s: HTTP %ld", method, path,
	    resp.status);
out:
	ag_http_resp_free(&resp);
	ag_buf_free(&url);
	ag_buf_free(&authz);
	return r;
}

int
ag_myaccount_id_ok(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 128)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("_.-", *s) != NULL))
			return 0;
	return 1;
}
