/*
 * req.c -- request preparation and response building.  See req.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "ag_limits.h"
#include "req.h"

/* A header value, or NULL when absent or longer than allowed. */
static const char *
header(ag_req_getter get, void *ctx, const char *name, size_t max)
{
	const char *v = get(name, ctx);

	if (v == NULL || strlen(v) > max)
		return NULL;
	return v;
}

void
ag_req_fill(struct ag_req *r, ag_req_getter get, void *ctx, char *pathbuf,
    size_t len)
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
	r->mode = header(get, ctx, "AUTHGATE_MODE", AG_MAX_HEADER_VALUE);
	r->apache_role = header(get, ctx, "FCGI_APACHE_ROLE",
	    AG_MAX_HEADER_VALUE);
	/* Never dropped when too long: a rule must not vanish. */
	r->rule = get("AUTHGATE_RULE", ctx);
	cl = get("CONTENT_LENGTH", ctx);
	if (cl != NULL && strtoull(cl, NULL, 10) > AG_MAX_REQUEST_BODY)
		r->body_too_large = 1;
}

void
ag_req_prepare(struct ag_req *r)
{
	const char *q = r->query != NULL ? r->query : "";

	memset(&r->cookies, 0, sizeof(r->cookies));
	memset(&r->params, 0, sizeof(r->params));
	if (r->cookie != NULL)
		(void)ag_cookies_parse(r->cookie, strlen(r->cookie),
		    &r->cookies);
	r->params_err = ag_params_parse(q, strlen(q), AG_MAX_QUERY,
	    &r->params);
	if (r->params_err != AG_OK)
		ag_params_free(&r->params);
}

void
ag_req_free(struct ag_req *r)
{
	ag_cookies_free(&r->cookies);
	ag_params_free(&r->params);
}

/* Case-insensitive search for a media type in an Accept header. */
static int
accepts(const char *accept, const char *type)
{
	size_t n = strlen(type);
	const char *p;

	for (p = accept; p != NULL && *p != '\0'; p++) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, type, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ';' || p[n] == ' '))
			return 1;
		if ((p = strchr(p, ',')) == NULL)
			break;
	}
	return 0;
}

int
ag_req_is_navigation(const struct ag_req *r)
{
	if (r->x_requested_with != NULL && *r->x_requested_with != '\0')
		return 0;
	if (r->sec_fetch_mode != NULL && *r->sec_fetch_mode != '\0' &&
	    strcasecmp(r->sec_fetch_mode, "navigate") != 0)
		return 0;
	if (r->accept != NULL && accepts(r->accept, "application/json") &&
	    !accepts(r->accept, "text/html"))
		return 0;
	return 1;
}

void
ag_resp_init(struct ag_resp *w)
{
	w->status = 0;
	ag_buf_init(&w->head, 256 * 1024);
	ag_buf_init(&w->body, 1024 * 1024);
}

void
ag_resp_free(struct ag_resp *w)
{
	ag_buf_free(&w->head);
	ag_buf_free(&w->body);
}

static int
header_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

static int
header_value_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

int
ag_resp_header(struct ag_resp *w, const char *name, const char *value)
{
	size_t mark = w->head.len;
	int r;

	if (!header_name_ok(name) || !header_value_ok(value))
		return AG_ERR_PARSE;
	if ((r = ag_buf_puts(&w->head, name)) != AG_OK ||
	    (r = ag_buf_puts(&w->head, ": ")) != AG_OK ||
	    (r = ag_buf_puts(&w->head, value)) != AG_OK ||
	    (r = ag_buf_puts(&w->head, "\r\n")) != AG_OK) {
		w->head.len = mark;
		if (w->head.data != NULL)
			w->head.data[mark] = '\0';
	}
	return r;
}

int
ag_resp_nocache(struct ag_resp *w)
{
	int r;

	if ((r = ag_resp_header(w, "Cache-Control",
	    "private, no-cache, no-store, must-revalidate, max-age=0")) != AG_OK)
		return r;
	if ((r = ag_resp_header(w, "Pragma", "no-cache")) != AG_OK)
		return r;
	return ag_resp_header(w, "Expires", "0");
}

int
ag_resp_text(struct ag_resp *w, int status, const char *text)
{
	int r;

	w->status = status;
	ag_buf_reset(&w->body);
	if ((r = ag_resp_header(w, "Content-Type",
	    "text/plain; charset=utf-8")) != AG_OK)
		return r;
	if ((r = ag_buf_puts(&w->body, text)) != AG_OK)
		return r;
	return ag_buf_putc(&w->body, '\n');
}

int
ag_resp_json(struct ag_resp *w, int status, const char *json)
{
	int r;

	w->status = status;
	ag_buf_reset(&w->body);
	if ((r = ag_resp_header(w, "Content-Type",
	    "application/json")) != AG_OK)
		return r;
	return ag_buf_puts(&w->body, json);
}

int
ag_resp_redirect(struct ag_resp *w, int status, const char *url)
{
	int r;

	if ((r = ag_resp_header(w, "Location", url)) != AG_OK)
		return r;
	w->status = status;
	return AG_OK;
}

const char *
ag_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

int
ag_resp_serialise(const struct ag_resp *w, struct ag_buf *out)
{
	int status = w->status ? w->status : 500;
	int r;

	if ((r = ag_buf_printf(out, "Status: %d %s\r\n", status,
	    ag_status_text(status))) != AG_OK)
		return r;
	if ((r = ag_buf_add(out, ag_buf_str(&w->head), w->head.len)) != AG_OK)
		return r;
	if ((r = ag_buf_puts(out, "\r\n")) != AG_OK)
		return r;
	return ag_buf_add(out, ag_buf_str(&w->body), w->body.len);
}

int
ag_req_media_type(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, type, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}
