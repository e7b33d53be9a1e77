/*
 * http.h -- the HTTP client for talking to the OpenID Provider.  The
 * only file that includes curl/curl.h is http.c.
 *
 * Every call: total time capped by timeout_ms (connect included, a
 * slow or trickling server is cut off), response body capped (bigger:
 * AG_ERR_LIMIT, nothing returned), redirects never followed, TLS peer
 * and host always verified, only https:// unless allow_http (then
 * http:// too), no proxy from the environment, no cookies.
 *
 * Talking to the provider needs GET and POST only; `authgate fetch`
 * (a script calling an API) also needs PUT, PATCH and DELETE and its
 * own request headers: other_methods and headers below, both off in a
 * zeroed request.
 */
#ifndef AG_HTTP_H
#define AG_HTTP_H

#include <stddef.h>

#include "buf.h"

struct ag_http_req {
	const char	*method;	/* "GET" or "POST" (with other_methods
					   also "PUT", "PATCH", "DELETE");
					   NULL: GET */
	const char	*url;
	const char	*body;		/* request body (not for GET), or NULL */
	size_t		 body_len;
	const char	*content_type;	/* NULL: form-urlencoded for POST,
					   PUT, PATCH, and DELETE with a body */
	const char	*accept;	/* NULL: application/json */
	const char	*authorization;	/* full header value, or NULL */
	const char	*dpop;		/* DPoP proof header value, or NULL */
	long		 timeout_ms;	/* 0: 5000 */
	size_t		 max_body;	/* 0: AG_MAX_IDP_RESPONSE */
	int		 allow_http;	/* allow http:// URLs */
	const char	*ca_file;	/* extra CA bundle, or NULL (replaces
					   the default CA file; the system CA
					   directory stays trusted) */
	int		 other_methods;	/* allow PUT, PATCH and DELETE */
	/*
	 * Extra request headers, "Name: value" each, NULL-terminated, or
	 * NULL.  The name must be an RFC 9110 token, the value free of
	 * control bytes other than TAB; Authorization and DPoP (set from
	 * their members above) and the framing headers Host,
	 * Content-Length, Transfer-Encoding, Connection, Expect, Upgrade,
	 * TE and Trailer are refused.  An Accept or Content-Type here
	 * replaces the default one.  Any bad line: AG_ERR_HTTP, nothing
	 * sent.
	 */
	const char *const *headers;
};

struct ag_http_resp {
	long		 status;	/* HTTP status, 0 if none */
	struct ag_buf	 body;
	char		*content_type;	/* owned or NULL */
	char		*dpop_nonce;	/* DPoP-Nonce header, owned or NULL */
	char		*www_authenticate; /* owned or NULL */
	char		 error[256];	/* transport failure, for the log */
	/*
	 * On AG_ERR_HTTP: 1 when no byte of the request can have reached
	 * the server (refused before curl ran; the name or proxy did not
	 * resolve; the TCP connection was refused; TLS or its certificate
	 * checks failed before the request went out), 0 when it may have
	 * (a timeout, a reset or a short answer after sending; any other
	 * failure).  0 on AG_OK and AG_ERR_LIMIT.
	 */
	int		 not_sent;
};

/* Once per process, before threads (there are none). */
int	 ag_http_init(void);
/*
 * 1 when line is an acceptable extra request header (see headers
 * above): what ag_http_do checks before sending anything.
 */
int	 ag_http_header_ok(const char *line);
/*
 * Perform the request.  AG_OK when a complete HTTP response arrived,
 * whatever its status; AG_ERR_HTTP on transport failure, timeout or a
 * refused URL (resp->error says which, resp->not_sent whether the
 * request may have reached the server); AG_ERR_LIMIT when the body
 * exceeded max_body.  resp must be zeroed; free with ag_http_resp_free.
 */
int	 ag_http_do(const struct ag_http_req *, struct ag_http_resp *);
void	 ag_http_resp_free(struct ag_http_resp *);

#endif
