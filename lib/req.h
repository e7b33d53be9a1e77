/*
 * req.h -- what a route handler sees: a request made of borrowed
 * strings, and a response it fills.  No libfcgi here: fcgi/fcgx.c
 * translates, so handlers run the same under FastCGI, plain CGI and
 * the unit tests.
 */
#ifndef AG_REQ_H
#define AG_REQ_H

#include <stddef.h>

#include "buf.h"
#include "cookie.h"
#include "url.h"

enum ag_role { AG_ROLE_RESPONDER, AG_ROLE_AUTHORIZER, AG_ROLE__MAX };

struct ag_req {
	int		 role;		/* enum ag_role */
	const char	*method;	/* REQUEST_METHOD */
	const char	*path;		/* path of REQUEST_URI, raw, no query */
	const char	*query;		/* QUERY_STRING, "" when none */
	const char	*request_uri;	/* REQUEST_URI as sent */
	const char	*cookie;	/* HTTP_COOKIE or NULL */
	const char	*accept;	/* HTTP_ACCEPT */
	const char	*sec_fetch_mode;
	const char	*x_requested_with;
	const char	*sec_purpose;	/* Sec-Purpose, or Purpose */
	const char	*content_type;
	const char	*authorization;
	const char	*mode;		/* AUTHGATE_MODE set by the server, or NULL */
	/*
	 * FCGI_APACHE_ROLE: set by Apache's mod_authnz_fcgi and mod_fcgid
	 * on an authorizer request (AUTHENTICATOR, AUTHORIZER or
	 * ACCESS_CHECKER), never by lighttpd; a client cannot send it (its
	 * headers arrive as HTTP_*).  NULL when absent.
	 */
	const char	*apache_role;
	const char	*rule;		/* AUTHGATE_RULE set by the server, or NULL
					   (unbounded: never dropped for length) */
	const char	*body;		/* request body (POST), may be NULL */
	size_t		 body_len;
	int		 body_too_large;/* CONTENT_LENGTH > AG_MAX_REQUEST_BODY */
	/* Parsed by ag_req_prepare(): */
	struct ag_cookies cookies;
	struct ag_params  params;	/* the query string */
	int		 params_err;	/* AG_OK or why params is empty */
};

/* Looks up one CGI/FastCGI parameter ("HTTP_COOKIE"); NULL if absent. */
typedef const char *(*ag_req_getter)(const char *name, void *ctx);

/*
 * Fill the request's strings from CGI-style parameters: method, path
 * (of REQUEST_URI, copied into pathbuf of len bytes; else SCRIPT_NAME +
 * PATH_INFO), query, the headers we use (each dropped when longer than
 * its limit), the FastCGI role and FCGI_APACHE_ROLE, AUTHGATE_MODE (a
 * parameter the server sets per path; a request header arrives as
 * HTTP_AUTHGATE_MODE and is never read), body_too_large.  Strings are
 * borrowed from get's storage.
 */
void	 ag_req_fill(struct ag_req *, ag_req_getter get, void *ctx,
	    char *pathbuf, size_t len);
/*
 * Parse the cookies and the query string of a request whose strings
 * are set.  Never fails on bad input (see params_err, cookies.dropped).
 */
void	 ag_req_prepare(struct ag_req *);
void	 ag_req_free(struct ag_req *);
/*
 * 1 when the Content-Type value ct is the media type type (compared
 * case-insensitively), optionally followed by parameters (";
 * charset=utf-8"); 0 for NULL or anything else.
 */
int	 ag_req_media_type(const char *ct, const char *type);
/* 1 when the request is a top-level navigation (SPEC section 3). */
int	 ag_req_is_navigation(const struct ag_req *);

struct ag_resp {
	int		 status;	/* 0 until set */
	struct ag_buf	 head;		/* "Name: value\r\n" lines */
	struct ag_buf	 body;
};

void	 ag_resp_init(struct ag_resp *);
void	 ag_resp_free(struct ag_resp *);
/*
 * Add a header.  Name must be a token, value printable (no CR, LF or
 * other control byte): AG_ERR_PARSE otherwise, nothing added.
 */
int	 ag_resp_header(struct ag_resp *, const char *name, const char *value);
/* The no-cache headers the SDK puts on every session-writing answer. */
int	 ag_resp_nocache(struct ag_resp *);
/* Status + text/plain body (one line, newline added). */
int	 ag_resp_text(struct ag_resp *, int status, const char *text);
/* Status + application/json body (already serialised). */
int	 ag_resp_json(struct ag_resp *, int status, const char *json);
/* A redirect to an absolute URL (checked like any header value). */
int	 ag_resp_redirect(struct ag_resp *, int status, const char *url);
/* The reason phrase of a status code ("Temporary Redirect"). */
const char *ag_status_text(int status);
/*
 * Serialise as a CGI/FastCGI response: "Status: N Reason\r\n", the
 * headers, a blank line, the body.  Appended to out.
 */
int	 ag_resp_serialise(const struct ag_resp *, struct ag_buf *out);

#endif
