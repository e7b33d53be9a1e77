/*
 * fcgx.c -- libfcgi and CGI front end.  See fcgx.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "err.h"
#include "fcgx.h"
#include "handlers.h"
#include "ag_limits.h"
#include "log.h"

typedef const char *(*getter)(const char *name, void *ctx);

static const char *
get_fcgi(const char *name, void *ctx)
{
	return FCGX_GetParam(name, (FCGX_ParamArray)ctx);
}

static const char *
get_env(const char *name, void *ctx)
{
	return getenv(name);
}

/* A header value, or NULL when absent or longer than allowed. */
static const char *
header(getter get, void *ctx, const char *name, size_t max)
{
	const char *v = get(name, ctx);

	if (v == NULL || strlen(v) > max)
		return NULL;
	return v;
}

/* Fill the request's strings; path points into pathbuf. */
static void
fill(struct ag_req *r, getter get, void *ctx, char *pathbuf, size_t len)
{
	const char *uri, *role, *cl;
	size_t n;

	memset(r, 0, sizeof(*r));
	role = get("FCGI_ROLE", ctx);
	r->role = role != NULL && strcmp(role, "AUTHORIZER") == 0 ?
	    AG_ROLE_AUTHORIZER : AG_ROLE_RESPONDER;
	r->method = get("REQUEST_METHOD", ctx);
	/* An over-long query is refused by ag_params_parse (params_err). */
	if ((r->query = get("QUERY_STRING", ctx)) == NULL)
		r->query = "";
	uri = get("REQUEST_URI", ctx);
	r->request_uri = uri;
	pathbuf[0] = '\0';
	if (uri != NULL) {
		n = strcspn(uri, "?#");
		if (n < len) {
			memcpy(pathbuf, uri, n);
			pathbuf[n] = '\0';
		}
	} else
		snprintf(pathbuf, len, "%s%s",
		    get("SCRIPT_NAME", ctx) ? get("SCRIPT_NAME", ctx) : "",
		    get("PATH_INFO", ctx) ? get("PATH_INFO", ctx) : "");
	r->path = pathbuf;
	r->cookie = header(get, ctx, "HTTP_COOKIE", AG_MAX_COOKIE_HEADER);
	r->accept = header(get, ctx, "HTTP_ACCEPT", AG_MAX_HEADER_VALUE);
	r->sec_fetch_mode = header(get, ctx, "HTTP_SEC_FETCH_MODE",
	    AG_MAX_HEADER_VALUE);
	r->x_requested_with = header(get, ctx, "HTTP_X_REQUESTED_WITH",
	    AG_MAX_HEADER_VALUE);
	r->sec_purpose = header(get, ctx, "HTTP_SEC_PURPOSE",
	    AG_MAX_HEADER_VALUE);
	if (r->sec_purpose == NULL)
		r->sec_purpose = header(get, ctx, "HTTP_PURPOSE",
		    AG_MAX_HEADER_VALUE);
	r->content_type = header(get, ctx, "CONTENT_TYPE",
	    AG_MAX_HEADER_VALUE);
	r->authorization = header(get, ctx, "HTTP_AUTHORIZATION",
	    AG_MAX_HEADER_VALUE);
	cl = get("CONTENT_LENGTH", ctx);
	if (cl != NULL && strtoull(cl, NULL, 10) > AG_MAX_REQUEST_BODY)
		r->body_too_large = 1;
}

/* Content length to read, bounded. */
static size_t
body_length(getter get, void *ctx)
{
	const char *cl = get("CONTENT_LENGTH", ctx);
	unsigned long long n;
	char *end;

	if (cl == NULL || *cl == '\0')
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno != 0 || *end != '\0' || n > AG_MAX_REQUEST_BODY)
		return 0;
	return (size_t)n;
}

static void
handle(struct ag_app *app, struct ag_req *r, struct ag_resp *w)
{
	ag_req_prepare(r);
	if (r->body_too_large) {
		ag_resp_text(w, 413, "Request body too large.");
		return;
	}
	ag_route(app, r, w);
}

static int
serve_cgi(struct ag_app *app)
{
	struct ag_req r;
	struct ag_resp w;
	struct ag_buf body, out;
	char path[AG_MAX_QUERY];
	size_t want, got;
	char chunk[4096];

	ag_resp_init(&w);
	ag_buf_init(&body, AG_MAX_REQUEST_BODY);
	ag_buf_init(&out, 2 * 1024 * 1024);
	fill(&r, get_env, NULL, path, sizeof(path));
	want = body_length(get_env, NULL);
	while (body.len < want) {
		size_t n = want - body.len < sizeof(chunk) ?
		    want - body.len : sizeof(chunk);

		if ((got = fread(chunk, 1, n, stdin)) == 0)
			break;
		(void)ag_buf_add(&body, chunk, got);
	}
	r.body = ag_buf_str(&body);
	r.body_len = body.len;
	handle(app, &r, &w);
	if (ag_resp_serialise(&w, &out) == AG_OK)
		fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	ag_req_free(&r);
	ag_resp_free(&w);
	ag_buf_free(&body);
	ag_buf_free(&out);
	return 0;
}

static int
serve_fcgi(struct ag_app *app)
{
	FCGX_Request fr;
	struct ag_req r;
	struct ag_resp w;
	struct ag_buf body, out;
	char path[AG_MAX_QUERY];
	size_t want;
	char chunk[4096];
	int n;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0) {
		ag_err("fcgi: cannot initialise libfcgi");
		return 1;
	}
	ag_buf_init(&body, AG_MAX_REQUEST_BODY);
	ag_buf_init(&out, 2 * 1024 * 1024);
	while (FCGX_Accept_r(&fr) >= 0) {
		ag_resp_init(&w);
		ag_buf_reset(&body);
		ag_buf_reset(&out);
		fill(&r, get_fcgi, fr.envp, path, sizeof(path));
		want = body_length(get_fcgi, fr.envp);
		while (body.len < want) {
			size_t m = want - body.len < sizeof(chunk) ?
			    want - body.len : sizeof(chunk);

			if ((n = FCGX_GetStr(chunk, (int)m, fr.in)) <= 0)
				break;
			(void)ag_buf_add(&body, chunk, (size_t)n);
		}
		r.body = ag_buf_str(&body);
		r.body_len = body.len;
		handle(app, &r, &w);
		if (ag_resp_serialise(&w, &out) == AG_OK)
			FCGX_PutStr(out.data, (int)out.len, fr.out);
		ag_req_free(&r);
		ag_resp_free(&w);
		FCGX_Finish_r(&fr);
	}
	ag_buf_free(&body);
	ag_buf_free(&out);
	return 0;
}

int
ag_fcgx_serve(struct ag_app *app)
{
	if (FCGX_IsCGI())
		return serve_cgi(app);
	return serve_fcgi(app);
}
