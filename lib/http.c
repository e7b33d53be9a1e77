/*
 * http.c -- the HTTP client, the only file that includes curl/curl.h.
 * See http.h.
 *
 * One easy handle is kept per process so that connections to the
 * provider are reused; it is reset before every request, so no option
 * leaks from one call to the next.  The process is single-threaded.
 *
 * libcurl is loaded with dlopen() at the first request, not linked:
 * libcurl4 pulls in GnuTLS, LDAP, Kerberos, SSH and more (about 4 MB of
 * resident pages), and most requests -- every protected request with a
 * valid session -- never talk to the provider.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "ag_limits.h"
#include "log.h"

#define HTTP_DEFAULT_TIMEOUT_MS	5000
#define HTTP_USER_AGENT		"authgate/0.1"
/* Bounds on the response headers we keep. */
#define HTTP_MAX_CTYPE		256
#define HTTP_MAX_DPOP_NONCE	1024
#define HTTP_MAX_WWW_AUTH	2048

#define LIBCURL_SONAME	"libcurl.so.4"

static int	 http_inited;
static CURL	*http_handle;

/* The libcurl functions we use, resolved at load time. */
static struct {
	CURLcode	 (*global_init)(long);
	CURL		*(*easy_init)(void);
	void		 (*easy_reset)(CURL *);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_perform)(CURL *);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
} lc;

/* Resolve one symbol into a function pointer slot. */
#define LC_SYM(h, slot, name) \
	(*(void **)(&(slot)) = dlsym((h), (name))) != NULL

static int
load_libcurl(void)
{
	void *h;

	if ((h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		ag_err("http: cannot load %s: %s", LIBCURL_SONAME, dlerror());
		return AG_ERR_HTTP;
	}
	if (!(LC_SYM(h, lc.global_init, "curl_global_init") &&
	    LC_SYM(h, lc.easy_init, "curl_easy_init") &&
	    LC_SYM(h, lc.easy_reset, "curl_easy_reset") &&
	    LC_SYM(h, lc.easy_setopt, "curl_easy_setopt") &&
	    LC_SYM(h, lc.easy_perform, "curl_easy_perform") &&
	    LC_SYM(h, lc.easy_getinfo, "curl_easy_getinfo") &&
	    LC_SYM(h, lc.easy_strerror, "curl_easy_strerror") &&
	    LC_SYM(h, lc.slist_append, "curl_slist_append") &&
	    LC_SYM(h, lc.slist_free_all, "curl_slist_free_all"))) {
		ag_err("http: %s lacks a function authgate needs",
		    LIBCURL_SONAME);
		dlclose(h);
		memset(&lc, 0, sizeof(lc));
		return AG_ERR_HTTP;
	}
	return AG_OK;
}

/* What the callbacks see of one transfer. */
struct xfer {
	struct ag_http_resp	*resp;
	size_t			 max_body;
	int			 overflow;
};

int
ag_http_init(void)
{
	if (http_inited)
		return AG_OK;
	if (load_libcurl() != AG_OK)
		return AG_ERR_HTTP;
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return AG_ERR_HTTP;
	http_inited = 1;
	return AG_OK;
}

void
ag_http_resp_free(struct ag_http_resp *resp)
{
	if (resp == NULL)
		return;
	ag_buf_free(&resp->body);
	free(resp->content_type);
	ag_strfree(resp->dpop_nonce);
	free(resp->www_authenticate);
	memset(resp, 0, sizeof(*resp));
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (n > x->max_body || x->resp->body.len > x->max_body - n) {
		x->overflow = 1;
		return 0;	/* makes curl abort with CURLE_WRITE_ERROR */
	}
	if (ag_buf_add(&x->resp->body, p, n) != AG_OK) {
		x->overflow = 1;
		return 0;
	}
	return n;
}

/*
 * Keep a copy of the value of a header line if its name matches,
 * dropping (not truncating) values longer than max: a cut nonce or
 * media type would only mislead.
 */
static void
keep_header(const char *line, size_t n, const char *name, size_t max,
    char **dst)
{
	size_t nl = strlen(name), i, end;

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	i = nl + 1;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	end = n;
	while (end > i && (line[end - 1] == '\r' || line[end - 1] == '\n' ||
	    line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	if (end - i > max || memchr(line + i, '\0', end - i) != NULL)
		return;
	free(*dst);
	*dst = strndup(line + i, end - i);
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct ag_http_resp *resp = x->resp;
	size_t n = size * nmemb;

	/* A new status line (after 1xx): forget the interim headers. */
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		free(resp->content_type);
		ag_strfree(resp->dpop_nonce);
		free(resp->www_authenticate);
		resp->content_type = resp->dpop_nonce =
		    resp->www_authenticate = NULL;
		return n;
	}
	keep_header(p, n, "Content-Type", HTTP_MAX_CTYPE,
	    &resp->content_type);
	keep_header(p, n, "DPoP-Nonce", HTTP_MAX_DPOP_NONCE,
	    &resp->dpop_nonce);
	keep_header(p, n, "WWW-Authenticate", HTTP_MAX_WWW_AUTH,
	    &resp->www_authenticate);
	return n;
}

/* Only https:// (and http:// when allowed), checked before curl sees it. */
static int
url_allowed(const char *url, int allow_http)
{
	const unsigned char *p;

	if (url == NULL)
		return 0;
	for (p = (const unsigned char *)url; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return 0;
	if (strncasecmp(url, "https://", 8) == 0)
		return url[8] != '\0';
	if (allow_http && strncasecmp(url, "http://", 7) == 0)
		return url[7] != '\0';
	return 0;
}

/* Append "Name: value" to the list; refuses values with line breaks. */
static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct ag_buf b;
	struct curl_slist *l;
	int r;

	if (strpbrk(value, "\r\n") != NULL)
		return AG_ERR_PARSE;
	ag_buf_init(&b, AG_MAX_JWT + 256);
	if ((r = ag_buf_printf(&b, "%s: %s", name, value)) != AG_OK)
		goto out;
	if ((l = lc.slist_append(*list, ag_buf_str(&b))) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	*list = l;
 out:
	ag_buf_free(&b);
	return r;
}

/* Headers an extra line may not set: dedicated members, or framing. */
static const char *const refused_headers[] = {
	"Authorization", "DPoP", "Host", "Content-Length",
	"Transfer-Encoding", "Connection", "Expect", "Upgrade", "TE",
	"Trailer",
};

/* An RFC 9110 tchar. */
static int
is_tchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
ag_http_header_ok(const char *line)
{
	const unsigned char *v;
	size_t n, i;

	if (line == NULL)
		return 0;
	for (n = 0; is_tchar((unsigned char)line[n]); n++)
		;
	if (n == 0 || line[n] != ':' || strlen(line) > AG_MAX_HEADER_VALUE)
		return 0;
	for (i = 0; i < sizeof(refused_headers) / sizeof(*refused_headers);
	    i++)
		if (strlen(refused_headers[i]) == n &&
		    strncasecmp(line, refused_headers[i], n) == 0)
			return 0;
	for (v = (const unsigned char *)line + n + 1; *v != '\0'; v++)
		if ((*v < 0x20 && *v != '\t') || *v == 0x7f)
			return 0;
	return 1;
}

/* 1 when one of the extra lines sets header name. */
static int
has_header(const char *const *lines, const char *name)
{
	size_t n = strlen(name);

	for (; lines != NULL && *lines != NULL; lines++)
		if (strncasecmp(*lines, name, n) == 0 && (*lines)[n] == ':')
			return 1;
	return 0;
}

/*
 * Append the extra lines.  curl drops a custom header whose value is
 * empty ("Name:"); "Name;" is its way of sending one empty.
 */
static int
add_extra_headers(struct curl_slist **list, const char *const *lines)
{
	struct ag_buf b;
	struct curl_slist *l;
	const char *colon, *v;
	int r = AG_OK;

	ag_buf_init(&b, AG_MAX_HEADER_VALUE + 2);
	for (; lines != NULL && *lines != NULL; lines++) {
		if (!ag_http_header_ok(*lines))
			return AG_ERR_PARSE;
		colon = strchr(*lines, ':');
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		ag_buf_reset(&b);
		if (*v == '\0')
			r = ag_buf_add(&b, *lines, (size_t)(colon - *lines));
		else
			r = ag_buf_puts(&b, *lines);
		if (r != AG_OK || (*v == '\0' &&
		    (r = ag_buf_putc(&b, ';')) != AG_OK))
			break;
		if ((l = lc.slist_append(*list, ag_buf_str(&b))) == NULL) {
			r = AG_ERR_NOMEM;
			break;
		}
		*list = l;
	}
	ag_buf_free(&b);
	return r;
}

/* The header list may hold a client secret: wipe it before freeing. */
static void
wipe_headers(struct curl_slist *l)
{
	for (; l != NULL; l = l->next)
		if (l->data != NULL)
			explicit_bzero(l->data, strlen(l->data));
}

/*
 * 1 when libcurl failed with cc before it can have sent any byte of
 * the request: the URL or protocol refused, the name (or a proxy's)
 * not resolved, the TCP connection refused or unreachable, the TLS
 * handshake or the certificate checks failed (authgate never sends
 * TLS early data).  libcurl-errors(3) places each of these before the
 * request; every other code (a timeout, a reset, a send or receive
 * error, an empty answer) may come after it, and counts as sent.
 */
static int
fails_before_send(CURLcode cc)
{
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_FAILED_INIT:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:	/* = CURLE_SSL_CACERT */
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return 1;
	default:
		return 0;
	}
}

/*
 * 1 when the failed transfer cc sent nothing: a code from before the
 * request (above) and no request bytes issued at all.  The second
 * check covers a reused connection that died under the request: curl
 * then retries on a new one, and that retry's failure to connect says
 * nothing about the first attempt.
 */
static int
nothing_sent(CURLcode cc)
{
	long issued = -1;

	if (!fails_before_send(cc))
		return 0;
	if (lc.easy_getinfo(http_handle, CURLINFO_REQUEST_SIZE, &issued) !=
	    CURLE_OK)
		return 0;
	return issued == 0;
}

static void
set_error(struct ag_http_resp *resp, const char *what, const char *detail)
{
	snprintf(resp->error, sizeof(resp->error), "%s%s%s", what,
	    detail != NULL && *detail != '\0' ? ": " : "",
	    detail != NULL ? detail : "");
}

int
ag_http_do(const struct ag_http_req *req, struct ag_http_resp *resp)
{
	struct curl_slist *hdrs = NULL;
	struct xfer x;
	char errbuf[CURL_ERROR_SIZE];
	const char *method, *custom = NULL;
	long timeout, status = 0;
	CURLcode cc;
	int r = AG_ERR_HTTP, post, has_body;

	resp->status = 0;
	resp->error[0] = '\0';
	resp->not_sent = 1;	/* until curl_easy_perform runs */
	ag_buf_init(&resp->body, 0);
	errbuf[0] = '\0';

	if ((r = ag_http_init()) != AG_OK) {
		set_error(resp, "cannot initialise libcurl", NULL);
		return r;
	}
	r = AG_ERR_HTTP;
	/*
	 * post: the request carries a body (curl's POST machinery, with
	 * the method name replaced for PUT and PATCH).  DELETE carries
	 * one only when given.
	 */
	method = req->method != NULL ? req->method : "GET";
	has_body = req->body != NULL && req->body_len > 0;
	if (strcmp(method, "GET") == 0)
		post = 0;
	else if (strcmp(method, "POST") == 0)
		post = 1;
	else if (req->other_methods && (strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0)) {
		post = 1;
		custom = method;
	} else if (req->other_methods && strcmp(method, "DELETE") == 0) {
		post = has_body;
		custom = method;
	} else {
		set_error(resp, "method not supported", method);
		return AG_ERR_HTTP;
	}
	if (!url_allowed(req->url, req->allow_http)) {
		set_error(resp, req->allow_http ? "URL refused (not http(s))" :
		    "URL refused (not https)", NULL);
		return AG_ERR_HTTP;
	}
	timeout = req->timeout_ms > 0 ? req->timeout_ms :
	    HTTP_DEFAULT_TIMEOUT_MS;
	memset(&x, 0, sizeof(x));
	x.resp = resp;
	x.max_body = req->max_body > 0 ? req->max_body : AG_MAX_IDP_RESPONSE;

	if (http_handle == NULL && (http_handle = lc.easy_init()) == NULL) {
		set_error(resp, "curl_easy_init failed", NULL);
		return AG_ERR_HTTP;
	}
	lc.easy_reset(http_handle);

	if ((!has_header(req->headers, "Accept") && add_header(&hdrs,
	    "Accept", req->accept != NULL ? req->accept :
	    "application/json") != AG_OK) ||
	    (post && !has_header(req->headers, "Content-Type") &&
	    add_header(&hdrs, "Content-Type",
	    req->content_type != NULL ? req->content_type :
	    "application/x-www-form-urlencoded") != AG_OK) ||
	    add_extra_headers(&hdrs, req->headers) != AG_OK ||
	    (req->authorization != NULL && add_header(&hdrs, "Authorization",
	    req->authorization) != AG_OK) ||
	    (req->dpop != NULL && add_header(&hdrs, "DPoP", req->dpop) !=
	    AG_OK) ||
	    /* No "Expect: 100-continue" round trip for larger bodies. */
	    (hdrs = lc.slist_append(hdrs, "Expect:")) == NULL) {
		set_error(resp, "bad request header", NULL);
		goto out;
	}

#define SETOPT(o, v) do {						\
	if ((cc = lc.easy_setopt(http_handle, (o), (v))) != CURLE_OK) { \
		set_error(resp, "curl_easy_setopt " #o,			\
		    lc.easy_strerror(cc));				\
		goto out;						\
	}								\
} while (0)

	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, req->allow_http ? "http,https" : "https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_MAXREDIRS, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_TIMEOUT_MS, timeout);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, timeout);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_NOPROXY, "*");
	SETOPT(CURLOPT_PROXY, "");
	SETOPT(CURLOPT_USERAGENT, HTTP_USER_AGENT);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_HTTPHEADER, hdrs);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, &x);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, &x);
	/* Refuse early when Content-Length already says too much. */
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.max_body);
	/*
	 * http.ca_file adds trust anchors: CAINFO is replaced, the
	 * system CA directory (CAPATH) stays in use.
	 */
	if (req->ca_file != NULL)
		SETOPT(CURLOPT_CAINFO, req->ca_file);
	if (post) {
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SETOPT(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
	} else
		SETOPT(CURLOPT_HTTPGET, 1L);
	if (custom != NULL)
		SETOPT(CURLOPT_CUSTOMREQUEST, custom);
#undef SETOPT

	cc = lc.easy_perform(http_handle);
	resp->not_sent = 0;
	if (x.overflow || cc == CURLE_FILESIZE_EXCEEDED) {
		set_error(resp, "response body too large", NULL);
		r = AG_ERR_LIMIT;
		goto out;
	}
	if (cc != CURLE_OK) {
		set_error(resp, lc.easy_strerror(cc), errbuf);
		resp->not_sent = nothing_sent(cc);
		goto out;
	}
	lc.easy_getinfo(http_handle, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	r = AG_OK;
 out:
	/* The handle must not keep pointers to our stack or headers. */
	lc.easy_reset(http_handle);
	wipe_headers(hdrs);
	lc.slist_free_all(hdrs);
	if (r != AG_OK) {
		ag_buf_free(&resp->body);
		free(resp->content_type);
		ag_strfree(resp->dpop_nonce);
		free(resp->www_authenticate);
		resp->content_type = resp->dpop_nonce =
		    resp->www_authenticate = NULL;
		resp->status = 0;
	}
	return r;
}
