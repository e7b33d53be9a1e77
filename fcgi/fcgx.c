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

typedef ag_req_getter getter;

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
		/* Before any route: an error page no cache should keep. */
		(void)ag_resp_header(w, "Cache-Control", "no-store");
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
	ag_req_fill(&r, get_env, NULL, path, sizeof(path));
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
		ag_req_fill(&r, get_fcgi, fr.envp, path, sizeof(path));
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
