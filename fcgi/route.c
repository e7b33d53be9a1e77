/*
 * route.c -- the route table of authgate-fcgi.
 */
#include <string.h>

#include "err.h"
#include "handlers.h"
#include "log.h"

enum ag_route {
	AG_ROUTE_LOGIN,
	AG_ROUTE_CALLBACK,
	AG_ROUTE_LOGOUT,
	AG_ROUTE_PROFILE,
	AG_ROUTE_HEALTH,
	AG_ROUTE_ACCESS_TOKEN,
	AG_ROUTE_BACKCHANNEL,
	AG_ROUTE_MFA_AUTHENTICATORS,
	AG_ROUTE_MFA_CHALLENGE,
	AG_ROUTE_MFA_VERIFY,
	AG_ROUTE_MFA_ASSOCIATE,
	AG_ROUTE_CONNECT,
	AG_ROUTE__MAX
};

static const struct {
	const char	*method;
	const char	*path;		/* below the prefix */
	ag_handler	 fn;
} routes[AG_ROUTE__MAX] = {
	{ "GET", "/login", ag_h_login },		/* AG_ROUTE_LOGIN */
	{ "GET", "/callback", ag_h_callback },		/* AG_ROUTE_CALLBACK */
	{ "GET", "/logout", ag_h_logout },		/* AG_ROUTE_LOGOUT */
	{ "GET", "/profile", ag_h_profile },		/* AG_ROUTE_PROFILE */
	{ "GET", "/health", ag_h_health },		/* AG_ROUTE_HEALTH */
	{ "GET", "/access-token", ag_h_access_token },	/* AG_ROUTE_ACCESS_TOKEN */
	{ "POST", "/backchannel-logout", ag_h_backchannel }, /* AG_ROUTE_BACKCHANNEL */
	{ "GET", "/mfa/authenticators", ag_h_mfa_authenticators },
	{ "POST", "/mfa/challenge", ag_h_mfa_challenge },
	{ "POST", "/mfa/verify", ag_h_mfa_verify },
	{ "POST", "/mfa/associate", ag_h_mfa_associate },
	{ "GET", "/connect", ag_h_connect },		/* AG_ROUTE_CONNECT */
};

int
ag_callback_url(const struct ag_app *app, struct ag_buf *out)
{
	const char *base = app->conf.app_base_url;
	size_t n = strlen(base);
	int r;

	/* app_base_url may end in '/'; the prefix starts with one. */
	if (n > 0 && base[n - 1] == '/')
		n--;
	if ((r = ag_buf_add(out, base, n)) != AG_OK)
		return r;
	return ag_buf_printf(out, "%s/callback", app->conf.route_prefix);
}

int
ag_app_url(const struct ag_app *app, const char *path, struct ag_buf *out)
{
	int r;

	if ((r = ag_buf_puts(out, app->conf.app_origin)) != AG_OK)
		return r;
	return ag_buf_puts(out, path);
}

void
ag_route(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	const char *prefix = app->conf.route_prefix;
	const char *path = req->path != NULL ? req->path : "";
	size_t plen = strlen(prefix), rlen;
	int i, path_known = -1;

	(void)ag_resp_header(w, "X-Content-Type-Options", "nosniff");
	/* AUTHORIZER: any path, any method; the routes are not served. */
	if (req->role == AG_ROLE_AUTHORIZER) {
		if (ag_h_authorize(app, req, w) != AG_OK || w->status == 0)
			ag_resp_text(w, 500, "Internal error.");
		return;
	}
	if (strncmp(path, prefix, plen) != 0) {
		ag_resp_text(w, 404, "Not found.");
		return;
	}
	path += plen;
	rlen = strlen(path);
	if (rlen > 1 && path[rlen - 1] == '/')
		rlen--;
	for (i = 0; i < AG_ROUTE__MAX; i++) {
		/* access_token_endpoint = off removes the route (404). */
		if (i == AG_ROUTE_ACCESS_TOKEN &&
		    !app->conf.access_token_endpoint)
			continue;
		/* So does connect_account_endpoint = off (the default). */
		if (i == AG_ROUTE_CONNECT && !app->conf.connect_account_endpoint)
			continue;
		if (strlen(routes[i].path) != rlen ||
		    strncmp(routes[i].path, path, rlen) != 0)
			continue;
		path_known = i;
		if (req->method == NULL ||
		    strcmp(req->method, routes[i].method) != 0)
			continue;
		if (routes[i].fn(app, req, w) != AG_OK && w->status == 0)
			ag_resp_text(w, 500, "Internal error.");
		if (w->status == 0)
			ag_resp_text(w, 500, "Internal error.");
		return;
	}
	if (path_known >= 0) {
		(void)ag_resp_header(w, "Allow", routes[path_known].method);
		ag_resp_text(w, 405, "Method not allowed.");
	} else
		ag_resp_text(w, 404, "Not found.");
}
