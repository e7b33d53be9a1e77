/*
 * test-oidc.c -- discovery parsing, the HTTP client's limits and the
 * relying-party steps (token endpoint, client authentication, ID token
 * validation, JWKS refetch throttling, userinfo, logout, revocation)
 * against a loopback responder forked by the test.
 *
 * The responder: a child process listening on 127.0.0.1:0 that forks a
 * handler per connection (so a sleeping answer blocks nothing).  Its
 * routes, hit counters and the last request it received live in a
 * shared anonymous mapping the test reads and writes between requests.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "jwt.h"
#include "ag_limits.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "tap.h"
#include "url.h"
#include "util.h"

#define DISCO_DIR	"tests/data/discovery/"
#define JWT_DIR		"tests/data/jwt/"
#define AUTH0_ISS	"https://tenant.eu.auth0.com/"

/* ------------------------------------------------------------------ */
/* The loopback responder                                             */

enum mode { MODE_NORMAL, MODE_SLEEP, MODE_TRICKLE, MODE_BIG, MODE_BIGLEN };

#define NROUTES		24
#define ROUTE_BODY	16384
#define REQ_MAX		32768

struct route {
	char	path[128];
	int	status;
	char	ctype[64];
	char	headers[256];
	int	mode;
	size_t	len;
	char	body[ROUTE_BODY];
	int	hits;
};

struct shared {
	struct route	r[NROUTES];
	int		nroutes;
	int		requests;
	size_t		req_len;
	char		req[REQ_MAX];
};

static struct shared	*sh;
static int		 port;
static pid_t		 srv_pid = -1;
static char		 base[64];	/* "http://127.0.0.1:PORT" */

static struct route *
route_find(const char *path)
{
	int i;

	for (i = 0; i < sh->nroutes; i++)
		if (strcmp(sh->r[i].path, path) == 0)
			return &sh->r[i];
	return NULL;
}

static struct route *
route_set(const char *path, int status, const char *ctype, const char *body)
{
	struct route *r;

	if ((r = route_find(path)) == NULL) {
		if (sh->nroutes >= NROUTES)
			abort();
		r = &sh->r[sh->nroutes++];
		snprintf(r->path, sizeof(r->path), "%s", path);
	}
	r->status = status;
	snprintf(r->ctype, sizeof(r->ctype), "%s", ctype);
	r->headers[0] = '\0';
	r->mode = MODE_NORMAL;
	r->len = strlen(body);
	if (r->len >= sizeof(r->body))
		abort();
	memcpy(r->body, body, r->len + 1);
	return r;
}

static int
route_hits(const char *path)
{
	struct route *r = route_find(path);

	return r != NULL ? __atomic_load_n(&r->hits, __ATOMIC_SEQ_CST) : 0;
}

static void
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			_exit(0);
		}
		c += w;
		n -= (size_t)w;
	}
}

/* One connection: read the request, record it, answer per its route. */
static void
handle(int fd)
{
	static char buf[REQ_MAX];
	char path[128], hdr[512], chunk[8192];
	struct route *r;
	size_t n, i;

	alarm(10);
	n = read_request(fd, buf, sizeof(buf), path, sizeof(path));
	memcpy(sh->req, buf, n + 1);
	sh->req_len = n;
	__atomic_add_fetch(&sh->requests, 1, __ATOMIC_SEQ_CST);
	if ((r = route_find(path)) == NULL) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		write_all(fd, hdr, strlen(hdr));
		return;
	}
	__atomic_add_fetch(&r->hits, 1, __ATOMIC_SEQ_CST);
	switch (r->mode) {
	case MODE_SLEEP:
		sleep(3);
		/* FALLTHROUGH */
	case MODE_NORMAL:
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d X\r\nContent-Type: "
		    "%s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		    r->status, r->ctype, r->len, r->headers);
		write_all(fd, hdr, strlen(hdr));
		write_all(fd, r->body, r->len);
		break;
	case MODE_TRICKLE:
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nContent-Length: 100\r\n"
		    "Connection: close\r\n\r\n");
		write_all(fd, hdr, strlen(hdr));
		for (i = 0; i < 100; i++) {
			write_all(fd, " ", 1);
			usleep(200 * 1000);
		}
		break;
	case MODE_BIG:
	case MODE_BIGLEN:
		if (r->mode == MODE_BIGLEN)
			snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
			    "Content-Length: %d\r\nConnection: close\r\n\r\n",
			    2 * 1024 * 1024);
		else
			snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
			    "Connection: close\r\n\r\n");
		write_all(fd, hdr, strlen(hdr));
		memset(chunk, 'x', sizeof(chunk));
		for (i = 0; i < 2 * 1024 * 1024 / sizeof(chunk); i++)
			write_all(fd, chunk, sizeof(chunk));
		break;
	}
}

static void
server_start(void)
{
	int lfd;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		abort();
	memset(sh, 0, sizeof(*sh));
	lfd = listen_loopback(64, &port, base, sizeof(base));
	srv_pid = serve_fork(lfd, handle);
}

static void
server_stop(void)
{
	serve_stop(&srv_pid);
}

/* The value of a header in the last request, copied into out ("" if none). */
static const char *
req_header(const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	char *p, *q, *eoh;

	out[0] = '\0';
	if ((eoh = strstr(sh->req, "\r\n\r\n")) == NULL)
		return out;
	for (p = strstr(sh->req, "\r\n"); p != NULL && p < eoh; p = q) {
		p += 2;
		if ((q = strstr(p, "\r\n")) == NULL)
			break;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			snprintf(out, outlen, "%.*s", (int)(q - p), p);
			return out;
		}
	}
	return out;
}

static const char *
req_body(void)
{
	char *p = strstr(sh->req, "\r\n\r\n");

	return p != NULL ? p + 4 : "";
}

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static int
disco_file(const char *name, const char *iss, int allow_http,
    struct ag_provider *p, char *why)
{
	struct ag_buf b;
	char path[256];
	int r;

	snprintf(path, sizeof(path), DISCO_DIR "%s", name);
	slurp(path, &b);
	if (b.data == NULL)
		return -1;
	r = ag_discovery_parse(b.data, b.len, iss, allow_http, p, why);
	ag_buf_free(&b);
	return r;
}

static int64_t
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ------------------------------------------------------------------ */
/* Discovery parsing (pure)                                           */

static void
test_discovery_parse(void)
{
	struct ag_provider p;
	char why[AG_WHY_LEN], *big;
	size_t n;
	int r;

	memset(&p, 0, sizeof(p));
	why[0] = '\0';
	r = disco_file("auth0.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_OK, "discovery: Auth0 document parses");
	is_str(p.issuer, AUTH0_ISS, "discovery: issuer kept");
	is_str(p.token_endpoint, "https://tenant.eu.auth0.com/oauth/token",
	    "discovery: token_endpoint");
	is_str(p.end_session_endpoint,
	    "https://tenant.eu.auth0.com/oidc/logout",
	    "discovery: end_session_endpoint");
	is_str(p.par_endpoint, "https://tenant.eu.auth0.com/oauth/par",
	    "discovery: PAR endpoint");
	is_str(p.revocation_endpoint,
	    "https://tenant.eu.auth0.com/oauth/revoke",
	    "discovery: revocation endpoint");
	is_int(p.id_token_algs, AG_ALG_BIT(AG_ALG_RS256) |
	    AG_ALG_BIT(AG_ALG_PS256), "discovery: HS256 dropped from algs");
	is_int(p.backchannel_logout_supported, 1,
	    "discovery: backchannel_logout_supported");
	is_int(p.iss_parameter_supported, 0,
	    "discovery: iss parameter not supported");
	ag_provider_clear(&p);

	r = disco_file("path-issuer.json", "https://idp.example.com/realms/app",
	    0, &p, why);
	is_int(r, AG_OK, "discovery: path issuer parses");
	is_int(p.iss_parameter_supported, 1,
	    "discovery: authorization_response_iss_parameter_supported");
	is_int(p.id_token_algs, AG_ALG_ALL,
	    "discovery: every known alg, none/HS* left out");
	ok(p.revocation_endpoint == NULL && p.par_endpoint == NULL,
	    "discovery: optional endpoints absent");
	ag_provider_clear(&p);

	r = disco_file("minimal.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_OK, "discovery: minimal document");
	is_int(p.id_token_algs, AG_ALG_BIT(AG_ALG_RS256),
	    "discovery: no alg list means RS256 only");
	ag_provider_clear(&p);

	r = disco_file("issuer-mismatch.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_VERIFY, "discovery: issuer mismatch refused");
	ok(strstr(why, "issuer mismatch (got https://evil.example.com/, "
	    "want " AUTH0_ISS ")") != NULL, "discovery: mismatch reason");
	ok(p.issuer == NULL, "discovery: nothing returned on failure");

	r = disco_file("trailing-slash.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_VERIFY, "discovery: trailing slash matters");
	r = disco_file("auth0.json", "https://tenant.eu.auth0.com", 0, &p,
	    why);
	is_int(r, AG_ERR_VERIFY, "discovery: expected without slash");

	r = disco_file("missing-token-endpoint.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_PARSE, "discovery: token_endpoint required");
	is_str(why, "discovery: token_endpoint missing",
	    "discovery: missing endpoint reason");
	r = disco_file("missing-jwks-uri.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_PARSE, "discovery: jwks_uri required");
	r = disco_file("endpoint-not-string.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_PARSE, "discovery: endpoint must be a string");
	r = disco_file("relative-endpoint.json", AUTH0_ISS, 1, &p, why);
	is_int(r, AG_ERR_PARSE, "discovery: relative endpoint refused");
	r = disco_file("userinfo-with-userinfo-part.json", AUTH0_ISS, 0, &p,
	    why);
	is_int(r, AG_ERR_PARSE, "discovery: userinfo in endpoint refused");

	r = disco_file("http-endpoint.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_PARSE, "discovery: http endpoint refused");
	r = disco_file("http-endpoint.json", AUTH0_ISS, 1, &p, why);
	is_int(r, AG_OK, "discovery: http endpoint allowed when insecure");
	ag_provider_clear(&p);

	r = disco_file("algs-none-hs.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_OK, "discovery: odd alg list parses");
	is_int(p.id_token_algs, AG_ALG_BIT(AG_ALG_ES256),
	    "discovery: none, HS*, unknown, non-strings, rs256 ignored");
	ag_provider_clear(&p);
	r = disco_file("algs-only-none.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_VERIFY, "discovery: only none/HS256 refused");

	r = disco_file("not-json.txt", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_PARSE, "discovery: not JSON");
	r = disco_file("array.json", AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_PARSE, "discovery: top-level array");

	/* One byte over the response limit. */
	n = AG_MAX_IDP_RESPONSE + 1;
	if ((big = malloc(n)) != NULL) {
		memset(big, ' ', n);
		memcpy(big, "{\"issuer\":\"x\"}", 14);
		r = ag_discovery_parse(big, n, AUTH0_ISS, 0, &p, why);
		is_int(r, AG_ERR_LIMIT, "discovery: huge document refused");
		free(big);
	}
	r = ag_discovery_parse("", 0, AUTH0_ISS, 0, &p, why);
	is_int(r, AG_ERR_PARSE, "discovery: empty document");
}

/* ------------------------------------------------------------------ */
/* HTTP client                                                        */

static int
http_get(const char *path, long timeout_ms, size_t max_body, int allow_http,
    struct ag_http_resp *resp)
{
	struct ag_http_req req;
	char url[256];

	snprintf(url, sizeof(url), "%s%s", base, path);
	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	req.url = url;
	req.timeout_ms = timeout_ms;
	req.max_body = max_body;
	req.allow_http = allow_http;
	return ag_http_do(&req, resp);
}

static void
test_http(void)
{
	struct ag_http_resp resp;
	struct ag_http_req req;
	struct timespec t0;
	struct route *rt;
	char h[256], url[256];
	int r, before;

	rt = route_set("/small", 200, "application/json; charset=utf-8",
	    "{\"a\":1}");
	snprintf(rt->headers, sizeof(rt->headers), "DPoP-Nonce: n-123\r\n"
	    "WWW-Authenticate: DPoP error=\"use_dpop_nonce\"\r\n");
	r = http_get("/small", 2000, 0, 1, &resp);
	is_int(r, AG_OK, "http: GET ok");
	is_int(resp.status, 200, "http: status 200");
	is_str(ag_buf_str(&resp.body), "{\"a\":1}", "http: body");
	is_str(resp.content_type, "application/json; charset=utf-8",
	    "http: Content-Type captured");
	is_str(resp.dpop_nonce, "n-123", "http: DPoP-Nonce captured");
	is_str(resp.www_authenticate, "DPoP error=\"use_dpop_nonce\"",
	    "http: WWW-Authenticate captured");
	is_str(req_header("User-Agent", h, sizeof(h)), "authgate/0.1",
	    "http: User-Agent");
	is_str(req_header("Accept", h, sizeof(h)), "application/json",
	    "http: Accept default");
	ag_http_resp_free(&resp);

	r = http_get("/small", 2000, 7, 1, &resp);
	is_int(r, AG_OK, "http: body exactly at max_body");
	ag_http_resp_free(&resp);
	r = http_get("/small", 2000, 6, 1, &resp);
	is_int(r, AG_ERR_LIMIT, "http: body one over max_body");
	ok(resp.body.data == NULL && resp.status == 0,
	    "http: nothing returned over the limit");
	ag_http_resp_free(&resp);

	route_set("/big", 200, "text/plain", "")->mode = MODE_BIG;
	r = http_get("/big", 5000, 0, 1, &resp);
	is_int(r, AG_ERR_LIMIT, "http: 2 MB body without length refused");
	ag_http_resp_free(&resp);
	route_set("/biglen", 200, "text/plain", "")->mode = MODE_BIGLEN;
	r = http_get("/biglen", 5000, 0, 1, &resp);
	is_int(r, AG_ERR_LIMIT, "http: 2 MB Content-Length refused");
	ag_http_resp_free(&resp);

	route_set("/slow", 200, "application/json", "{}")->mode = MODE_SLEEP;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = http_get("/slow", 500, 0, 1, &resp);
	is_int(r, AG_ERR_HTTP, "http: slow server times out");
	ok(elapsed_ms(&t0) < 1500, "http: timeout honoured (< 1.5 s)");
	ok(resp.error[0] != '\0', "http: error text set");
	ag_http_resp_free(&resp);

	route_set("/trickle", 200, "application/json", "")->mode =
	    MODE_TRICKLE;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = http_get("/trickle", 1000, 0, 1, &resp);
	is_int(r, AG_ERR_HTTP, "http: trickling server cut off");
	ok(elapsed_ms(&t0) < 2000, "http: total time capped (< 2 s)");
	ag_http_resp_free(&resp);

	rt = route_set("/redir", 302, "text/html", "moved");
	snprintf(rt->headers, sizeof(rt->headers),
	    "Location: %s/small\r\n", base);
	before = route_hits("/small");
	r = http_get("/redir", 2000, 0, 1, &resp);
	is_int(r, AG_OK, "http: redirect answer returned");
	is_int(resp.status, 302, "http: redirect not followed");
	is_int(route_hits("/small"), before, "http: target never fetched");
	ag_http_resp_free(&resp);

	before = sh->requests;
	r = http_get("/small", 2000, 0, 0, &resp);
	is_int(r, AG_ERR_HTTP, "http: http:// refused without allow_http");
	is_int(sh->requests, before, "http: no request was sent");
	ag_http_resp_free(&resp);

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.url = "ftp://127.0.0.1/x";
	req.allow_http = 1;
	is_int(ag_http_do(&req, &resp), AG_ERR_HTTP, "http: ftp refused");
	ag_http_resp_free(&resp);
	memset(&resp, 0, sizeof(resp));
	req.url = "file:///etc/passwd";
	is_int(ag_http_do(&req, &resp), AG_ERR_HTTP, "http: file refused");
	ag_http_resp_free(&resp);

	/* POST: body, content type, authorization header. */
	route_set("/post", 200, "application/json", "{}");
	snprintf(url, sizeof(url), "%s/post", base);
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = "POST";
	req.url = url;
	req.body = "a=1&b=2";
	req.body_len = 7;
	req.authorization = "Basic Zm9vOmJhcg==";
	req.allow_http = 1;
	r = ag_http_do(&req, &resp);
	is_int(r, AG_OK, "http: POST ok");
	ok(strncmp(sh->req, "POST /post ", 11) == 0, "http: POST method");
	is_str(req_body(), "a=1&b=2", "http: POST body sent");
	is_str(req_header("Content-Type", h, sizeof(h)),
	    "application/x-www-form-urlencoded", "http: form content type");
	is_str(req_header("Authorization", h, sizeof(h)),
	    "Basic Zm9vOmJhcg==", "http: Authorization sent");
	ag_http_resp_free(&resp);

	memset(&resp, 0, sizeof(resp));
	req.authorization = "Basic x\r\nX-Evil: 1";
	before = sh->requests;
	is_int(ag_http_do(&req, &resp), AG_ERR_HTTP,
	    "http: header with CRLF refused");
	is_int(sh->requests, before, "http: nothing sent for a bad header");
	ag_http_resp_free(&resp);

	memset(&resp, 0, sizeof(resp));
	req.method = "PUT";
	req.authorization = NULL;
	is_int(ag_http_do(&req, &resp), AG_ERR_HTTP,
	    "http: other methods refused");
	ag_http_resp_free(&resp);

	/* Nothing listening. */
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.url = "http://127.0.0.1:1/";
	req.allow_http = 1;
	is_int(ag_http_do(&req, &resp), AG_ERR_HTTP,
	    "http: connection refused");
	ag_http_resp_free(&resp);
}

/* ------------------------------------------------------------------ */
/* OIDC against the responder                                         */

static struct ag_conf	 conf;
static char		 issuer[128];
static struct ag_key	*k_rsa, *k_rsa2, *k_es384, *k_es256, *k_ed;

static void
set_discovery(const char *prefix, const char *iss, int full)
{
	struct ag_buf b;
	char path[128];

	ag_buf_init(&b, 0);
	ag_buf_printf(&b, "{\"issuer\":\"%s\","
	    "\"authorization_endpoint\":\"%s/authorize?foo=bar\","
	    "\"token_endpoint\":\"%s/oauth/token\","
	    "\"jwks_uri\":\"%s/jwks\","
	    "\"userinfo_endpoint\":\"%s/userinfo\","
	    "\"id_token_signing_alg_values_supported\":"
	    "[\"RS256\",\"ES384\",\"EdDSA\",\"HS256\",\"none\"]",
	    iss, base, base, base, base);
	if (full)
		ag_buf_printf(&b, ",\"end_session_endpoint\":\"%s/logout\","
		    "\"revocation_endpoint\":\"%s/revoke\","
		    "\"pushed_authorization_request_endpoint\":\"%s/par\"",
		    base, base, base);
	ag_buf_puts(&b, "}");
	snprintf(path, sizeof(path), "%s/.well-known/openid-configuration",
	    prefix);
	route_set(path, 200, "application/json", ag_buf_str(&b));
	ag_buf_free(&b);
}

/* Append a public JWK from a test file, with kid and alg, to the array. */
static void
jwks_add(ag_json *keys, const char *file, const char *kid, const char *alg)
{
	struct ag_buf b;
	char path[256];
	ag_json *k = NULL;

	snprintf(path, sizeof(path), JWT_DIR "%s", file);
	slurp(path, &b);
	if (b.data == NULL)
		return;
	if (ag_json_parse_object(b.data, b.len, 65536, &k) == AG_OK) {
		ag_json_set_str(k, "kid", kid);
		ag_json_set_str(k, "use", "sig");
		ag_json_set_str(k, "alg", alg);
		ag_json_array_add(keys, k);
	}
	ag_buf_free(&b);
}

/* Serve a JWKS with k1 (rsa) and the EC/Ed keys, plus k2 when rotated. */
static void
set_jwks(int rotated)
{
	ag_json *doc = ag_json_object(), *keys = ag_json_array();

	jwks_add(keys, "rsa.jwk.json", "k1", "RS256");
	jwks_add(keys, "ec384.jwk.json", "e384", "ES384");
	jwks_add(keys, "ec256.jwk.json", "e256", "ES256");
	jwks_add(keys, "ed25519.jwk.json", "ed", "EdDSA");
	if (rotated)
		jwks_add(keys, "rsa2.jwk.json", "k2", "RS256");
	ag_json_set(doc, "keys", keys);
	route_set("/jwks", 200, "application/json", ag_json_dump(doc));
	ag_json_free(doc);
}

/* Claims of a valid ID token for client "cid" at the current clock. */
static ag_json *
good_claims(void)
{
	ag_json *c = ag_json_object();
	int64_t now = ag_now();

	ag_json_set_str(c, "iss", issuer);
	ag_json_set_str(c, "sub", "auth0|u1");
	ag_json_set_str(c, "aud", "cid");
	ag_json_set_int(c, "iat", now);
	ag_json_set_int(c, "exp", now + 3600);
	ag_json_set_str(c, "nonce", "n1");
	ag_json_set_int(c, "auth_time", now - 100);
	return c;
}

/* Sign claims (consumed) with key under kid; the compact JWS, owned. */
static char *
sign(const struct ag_key *k, const char *kid, ag_json *claims)
{
	struct ag_buf out;
	ag_json *h = ag_json_object();

	ag_buf_init(&out, 0);
	ag_json_set_str(h, "typ", "JWT");
	if (kid != NULL)
		ag_json_set_str(h, "kid", kid);
	if (k == NULL || ag_jwt_sign(k, h, claims, &out) != AG_OK)
		ag_buf_puts(&out, "signing-failed");
	ag_json_free(h);
	ag_json_free(claims);
	return ag_buf_take(&out);
}

/* Validate tok (freed) against expect; the result code. */
static int
idt(struct ag_oidc *o, char *tok, const char *nonce, int64_t max_age,
    const char *at, char *why)
{
	struct ag_id_expect e;
	ag_json *claims = NULL;
	int r;

	e.nonce = nonce;
	e.max_age = max_age;
	e.access_token = at;
	e.sub = NULL;
	why[0] = '\0';
	r = ag_oidc_id_token(o, tok, &e, &claims, why);
	if (r == AG_OK && claims == NULL)
		r = -1;
	ag_json_free(claims);
	free(tok);
	return r;
}

static char *
at_hash256(const char *at)
{
	unsigned char h[AG_SHA256_LEN];
	struct ag_buf b;

	ag_buf_init(&b, 0);
	ag_sha256(at, strlen(at), h);
	ag_b64url_encode(&b, h, sizeof(h) / 2);
	return ag_buf_take(&b);
}

static void
test_id_tokens(struct ag_oidc *o)
{
	char why[AG_WHY_LEN], *s, *a300, b112[113];
	ag_json *c, *aud, *hdr = NULL, *claims = NULL;
	int64_t t0 = ag_now();
	int r, i, hits;
	unsigned saved;

	set_jwks(0);
	r = idt(o, sign(k_rsa, "k1", good_claims()), "n1", -1, NULL, why);
	is_int(r, AG_OK, "id_token: good token");
	if (r != AG_OK)
		printf("#   why: %s\n", why);
	is_int(route_hits("/jwks"), 1, "id_token: JWKS fetched once");
	r = idt(o, sign(k_rsa, "k1", good_claims()), "n1", -1, NULL, why);
	is_int(route_hits("/jwks"), 1, "id_token: JWKS cached");

	c = good_claims();
	ag_json_set_str(c, "iss", "https://evil.example/");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: wrong iss");
	is_str(why, "id_token: iss mismatch", "id_token: iss reason");
	c = good_claims();
	ag_json_del(c, "iss");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: missing iss");

	c = good_claims();
	ag_json_set_str(c, "aud", "other");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: wrong aud");
	c = good_claims();
	aud = ag_json_array();
	ag_json_array_add(aud, ag_json_string("cid"));
	ag_json_array_add(aud, ag_json_string("api"));
	ag_json_set(c, "aud", aud);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: several aud without azp");
	c = good_claims();
	aud = ag_json_array();
	ag_json_array_add(aud, ag_json_string("cid"));
	ag_json_array_add(aud, ag_json_string("api"));
	ag_json_set(c, "aud", aud);
	ag_json_set_str(c, "azp", "cid");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why), AG_OK,
	    "id_token: several aud with azp = client_id");
	c = good_claims();
	aud = ag_json_array();
	ag_json_array_add(aud, ag_json_string("cid"));
	ag_json_set(c, "aud", aud);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why), AG_OK,
	    "id_token: aud array of one");
	c = good_claims();
	ag_json_set_str(c, "azp", "other");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: wrong azp");

	c = good_claims();
	ag_json_set_int(c, "exp", t0 - AG_JWT_LEEWAY - 1);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: expired");
	is_str(why, "id_token: expired", "id_token: expired reason");
	c = good_claims();
	ag_json_set_int(c, "exp", t0 - 10);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why), AG_OK,
	    "id_token: expired within leeway");
	c = good_claims();
	ag_json_del(c, "exp");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: exp required");
	c = good_claims();
	ag_json_set(c, "exp", ag_json_string("9999999999"));
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: string exp refused");

	c = good_claims();
	ag_json_set_int(c, "iat", t0 + AG_JWT_LEEWAY + 5);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: iat in the future");
	c = good_claims();
	ag_json_del(c, "iat");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: iat required");
	c = good_claims();
	ag_json_set_int(c, "nbf", t0 + AG_JWT_LEEWAY + 5);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: nbf in the future");

	c = good_claims();
	ag_json_del(c, "sub");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: sub required");
	c = good_claims();
	ag_json_set_str(c, "sub", "");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: empty sub");
	c = good_claims();
	ag_json_set_int(c, "sub", 5);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: numeric sub");

	is_int(idt(o, sign(k_rsa, "k1", good_claims()), "n2", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: wrong nonce");
	c = good_claims();
	ag_json_del(c, "nonce");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: missing nonce");
	is_int(idt(o, sign(k_rsa, "k1", good_claims()), NULL, -1, NULL, why),
	    AG_OK, "id_token: nonce present but not expected");

	is_int(idt(o, sign(k_rsa, "k1", good_claims()), "n1", 300, NULL, why),
	    AG_OK, "id_token: auth_time within max_age");
	is_int(idt(o, sign(k_rsa, "k1", good_claims()), "n1", 10, NULL, why),
	    AG_ERR_VERIFY, "id_token: auth_time older than max_age");
	is_int(idt(o, sign(k_rsa, "k1", good_claims()), "n1", 75, NULL, why),
	    AG_OK, "id_token: max_age with leeway");
	c = good_claims();
	ag_json_del(c, "auth_time");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", 300, NULL, why),
	    AG_ERR_VERIFY, "id_token: auth_time required with max_age");
	is_int(idt(o, sign(k_rsa, "k1", good_claims()), "n1", INT64_MAX, NULL,
	    why), AG_OK, "id_token: huge max_age does not overflow");

	/* Numbers that must not overflow or round. */
	for (i = 0; i < 3; i++) {
		static const char *const bad[] = { "1e300", "1700000000.5",
		    "99999999999999999999999" };
		char json[512];
		ag_json *v = NULL;

		snprintf(json, sizeof(json), "{\"iss\":\"%s\",\"sub\":\"s\","
		    "\"aud\":\"cid\",\"iat\":%lld,\"exp\":%s,\"nonce\":\"n1\"}",
		    issuer, (long long)t0, bad[i]);
		if (ag_json_parse_object(json, strlen(json), 4096, &v) !=
		    AG_OK) {
			ok(0, "id_token: odd exp parses as JSON");
			continue;
		}
		is_int(idt(o, sign(k_rsa, "k1", v), "n1", -1, NULL, why),
		    AG_ERR_VERIFY, bad[i]);
	}

	/* at_hash: RS256 uses SHA-256. */
	c = good_claims();
	s = at_hash256("at");
	ag_json_set_str(c, "at_hash", s);
	free(s);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, "at", why), AG_OK,
	    "id_token: at_hash matches");
	c = good_claims();
	s = at_hash256("at");
	ag_json_set_str(c, "at_hash", s);
	free(s);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, "other", why),
	    AG_ERR_VERIFY, "id_token: at_hash mismatch");
	c = good_claims();
	s = at_hash256("at");
	s[strlen(s) - 1] = '\0';
	ag_json_set_str(c, "at_hash", s);
	free(s);
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, "at", why),
	    AG_ERR_VERIFY, "id_token: truncated at_hash");
	c = good_claims();
	ag_json_set_str(c, "at_hash", "garbage");
	is_int(idt(o, sign(k_rsa, "k1", c), "n1", -1, NULL, why), AG_OK,
	    "id_token: at_hash ignored without an access token");

	/* ES384 uses SHA-384, EdDSA SHA-512 (values from openssl dgst). */
	c = good_claims();
	ag_json_set_str(c, "at_hash", "4hulEO2T04y86FsZK2pA8fxDcRCCi6uc");
	is_int(idt(o, sign(k_es384, "e384", c), "n1", -1, "at", why), AG_OK,
	    "id_token: ES384 with SHA-384 at_hash");
	memset(b112, 'b', 112);
	b112[112] = '\0';
	c = good_claims();
	ag_json_set_str(c, "at_hash", "sAP43tKXgi5Kzvyp1G3Jd-qk_yzhpim6");
	is_int(idt(o, sign(k_es384, "e384", c), "n1", -1, b112, why), AG_OK,
	    "id_token: SHA-384 at_hash, 112-byte token (two pad blocks)");
	c = good_claims();
	ag_json_set_str(c, "at_hash",
	    "dTR5nNqNrsxqjWP_lCTH2ESWpeTv9f1yZraJ_wsSjjE");
	is_int(idt(o, sign(k_ed, "ed", c), "n1", -1, "at", why), AG_OK,
	    "id_token: EdDSA with SHA-512 at_hash");
	if ((a300 = malloc(301)) != NULL) {
		memset(a300, 'a', 300);
		a300[300] = '\0';
		c = good_claims();
		ag_json_set_str(c, "at_hash",
		    "pqdwEN2WlsI4MeZUneUXJN8zLCB1A5t1_P5sLm3kL70");
		is_int(idt(o, sign(k_ed, "ed", c), "n1", -1, a300, why), AG_OK,
		    "id_token: SHA-512 at_hash over several blocks");
		free(a300);
	}

	/* Algorithms: ES256 is not advertised; conf narrows further. */
	is_int(idt(o, sign(k_es256, "e256", good_claims()), "n1", -1, NULL,
	    why), AG_ERR_VERIFY, "id_token: alg not advertised refused");
	saved = conf.id_token_algs;
	conf.id_token_algs = AG_ALG_BIT(AG_ALG_RS256);
	is_int(idt(o, sign(k_es384, "e384", good_claims()), "n1", -1, NULL,
	    why), AG_ERR_VERIFY, "id_token: alg outside conf refused");
	conf.id_token_algs = saved;
	is_int(idt(o, strdup("not.a.jwt"), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: garbage");
	s = sign(k_rsa, "k1", good_claims());
	s[strlen(s) - 3] ^= 1;
	is_int(idt(o, s, "n1", -1, NULL, why), AG_ERR_VERIFY,
	    "id_token: flipped signature bit");

	/* Unknown kid: refetch throttled to one per AG_JWKS_REFETCH_MIN. */
	hits = route_hits("/jwks");
	is_int(idt(o, sign(k_rsa2, "k2", good_claims()), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: unknown kid refused");
	ok(strstr(why, "no key with kid k2") != NULL,
	    "id_token: unknown kid reason");
	is_int(route_hits("/jwks"), hits,
	    "id_token: no refetch right after a fetch");
	set_jwks(1);
	ag_clock_set(t0 + AG_JWKS_REFETCH_MIN + 1);
	is_int(idt(o, sign(k_rsa2, "k2", good_claims()), "n1", -1, NULL, why),
	    AG_OK, "id_token: rotated key found after a refetch");
	is_int(route_hits("/jwks"), hits + 1, "id_token: one refetch");
	ag_clock_set(t0 + AG_JWKS_REFETCH_MIN + 2);
	for (i = 0, r = 0; i < 1000; i++) {
		char kid[32];
		ag_json *h = ag_json_object();
		struct ag_buf tok;

		/* The signature does not matter: the kid is unknown. */
		snprintf(kid, sizeof(kid), "rnd-%d", i);
		ag_json_set_str(h, "alg", "RS256");
		ag_json_set_str(h, "kid", kid);
		c = good_claims();
		ag_buf_init(&tok, 0);
		ag_b64url_encode(&tok, ag_json_dump(h),
		    strlen(ag_json_dump(h)));
		ag_buf_puts(&tok, ".");
		ag_b64url_encode(&tok, ag_json_dump(c),
		    strlen(ag_json_dump(c)));
		ag_buf_puts(&tok, ".c2ln");
		if (idt(o, ag_buf_take(&tok), "n1", -1, NULL, why) ==
		    AG_ERR_VERIFY)
			r++;
		ag_json_free(c);
		ag_json_free(h);
		ag_buf_free(&tok);
	}
	is_int(r, 1000, "id_token: 1000 unknown kids refused");
	is_int(route_hits("/jwks"), hits + 1,
	    "id_token: 1000 unknown kids cause no refetch");
	ag_clock_set(t0 + 2 * AG_JWKS_REFETCH_MIN + 5);
	is_int(idt(o, sign(k_rsa, "nope", good_claims()), "n1", -1, NULL, why),
	    AG_ERR_VERIFY, "id_token: unknown kid, next window");
	is_int(route_hits("/jwks"), hits + 2,
	    "id_token: one refetch in the next window");
	is_int(idt(o, sign(k_rsa, "nope2", good_claims()), "n1", -1, NULL,
	    why), AG_ERR_VERIFY, "id_token: another unknown kid");
	is_int(route_hits("/jwks"), hits + 2, "id_token: still throttled");
	/* The cached set expires after AG_JWKS_TTL. */
	ag_clock_set(t0 + 2 * AG_JWKS_REFETCH_MIN + 5 + AG_JWKS_TTL);
	is_int(idt(o, sign(k_rsa, "k1", good_claims()), "n1", -1, NULL, why),
	    AG_OK, "id_token: good token after the JWKS TTL");
	is_int(route_hits("/jwks"), hits + 3, "id_token: JWKS refreshed");

	/* Logout tokens: signature, iss, aud only. */
	c = good_claims();
	ag_json_del(c, "exp");
	ag_json_del(c, "nonce");
	s = sign(k_rsa, "k1", c);
	r = ag_oidc_verify_jwt(o, s, &hdr, &claims, why);
	is_int(r, AG_OK, "verify_jwt: good logout token");
	is_str(ag_json_get_str(hdr, "kid"), "k1", "verify_jwt: header out");
	is_str(ag_json_get_str(claims, "sub"), "auth0|u1",
	    "verify_jwt: claims out");
	ag_json_free(hdr);
	ag_json_free(claims);
	free(s);
	c = good_claims();
	ag_json_set_str(c, "aud", "x");
	s = sign(k_rsa, "k1", c);
	r = ag_oidc_verify_jwt(o, s, &hdr, &claims, why);
	is_int(r, AG_ERR_VERIFY, "verify_jwt: wrong aud");
	ok(hdr == NULL && claims == NULL, "verify_jwt: nothing out");
	free(s);
	ag_clock_set(t0);
}

static void
token_route(int status, const char *body)
{
	route_set("/oauth/token", status, "application/json", body);
}

static void
test_token(struct ag_oidc *o)
{
	struct ag_tokens t;
	struct ag_oauth_error e;
	struct ag_params params;
	struct ag_jwt *jwt = NULL;
	char why[AG_WHY_LEN], h[512];
	const char *assertion;
	int64_t iat = 0, exp = 0;
	int r;

	token_route(200, "{\"access_token\":\"AT1\",\"token_type\":\"Bearer\","
	    "\"expires_in\":86400,\"id_token\":\"x.y.z\",\"refresh_token\":"
	    "\"RT1\",\"scope\":\"openid profile\"}");
	r = ag_oidc_token(o, "grant_type=authorization_code&code=C1", &t, &e,
	    why);
	is_int(r, AG_OK, "token: good response");
	is_str(t.access_token, "AT1", "token: access_token");
	is_str(t.token_type, "bearer", "token: token_type lower-cased");
	is_int(t.expires_in, 86400, "token: expires_in");
	is_str(t.refresh_token, "RT1", "token: refresh_token");
	is_str(t.id_token, "x.y.z", "token: id_token");
	is_str(t.scope, "openid profile", "token: scope");
	ok(t.raw != NULL, "token: raw kept");
	ag_tokens_clear(&t);
	/* client_secret_basic: "cid:s3cr%3Aet" (RFC 6749 2.3.1). */
	is_str(req_header("Authorization", h, sizeof(h)),
	    "Basic Y2lkOnMzY3IlM0FldA==", "token: client_secret_basic header");
	is_str(req_body(), "grant_type=authorization_code&code=C1",
	    "token: basic puts no secret in the form");
	is_str(req_header("Accept", h, sizeof(h)), "application/json",
	    "token: Accept");

	conf.client_auth = AG_AUTH_SECRET_POST;
	r = ag_oidc_token(o, "grant_type=refresh_token&refresh_token=RT1", &t,
	    &e, why);
	is_int(r, AG_OK, "token: client_secret_post");
	is_str(req_header("Authorization", h, sizeof(h)), "",
	    "token: post sends no Authorization");
	is_str(req_body(), "grant_type=refresh_token&refresh_token=RT1&"
	    "client_id=cid&client_secret=s3cr%3Aet", "token: post form");
	ag_tokens_clear(&t);

	conf.client_auth = AG_AUTH_PRIVATE_KEY_JWT;
	conf.client_assertion_key = JWT_DIR "rsa2.pem";
	r = ag_oidc_token(o, "grant_type=authorization_code&code=C2", &t, &e,
	    why);
	is_int(r, AG_OK, "token: private_key_jwt");
	if (r != AG_OK)
		printf("#   why: %s\n", why);
	ag_tokens_clear(&t);
	memset(&params, 0, sizeof(params));
	r = ag_params_parse(req_body(), strlen(req_body()), 65536, &params);
	is_int(r, AG_OK, "token: assertion form parses");
	is_str(ag_params_get(&params, "client_id"), "cid",
	    "token: assertion client_id");
	is_str(ag_params_get(&params, "client_assertion_type"),
	    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
	    "token: client_assertion_type");
	ok(ag_params_get(&params, "client_secret") == NULL,
	    "token: no client_secret with a key");
	assertion = ag_params_get(&params, "client_assertion");
	r = assertion != NULL ? ag_jwt_parse(assertion, strlen(assertion),
	    &jwt) : AG_ERR_NOTFOUND;
	is_int(r, AG_OK, "token: client_assertion is a JWS");
	if (r == AG_OK) {
		is_str(ag_json_get_str(jwt->claims, "iss"), "cid",
		    "assertion: iss");
		is_str(ag_json_get_str(jwt->claims, "sub"), "cid",
		    "assertion: sub");
		is_str(ag_json_get_str(jwt->claims, "aud"), issuer,
		    "assertion: aud is the issuer");
		ok(ag_json_get_str(jwt->claims, "jti") != NULL &&
		    strlen(ag_json_get_str(jwt->claims, "jti")) == 43,
		    "assertion: 32-byte jti");
		ag_json_get_int(jwt->claims, "iat", &iat);
		ag_json_get_int(jwt->claims, "exp", &exp);
		is_int(exp - iat, 60, "assertion: lives 60 s");
		is_int(jwt->alg, AG_ALG_RS256, "assertion: RS256");
		ag_jwt_free(jwt);
	}
	ag_params_free(&params);
	conf.client_auth = AG_AUTH_SECRET_BASIC;

	token_route(200, "{\"token_type\":\"Bearer\"}");
	r = ag_oidc_token(o, "grant_type=x", &t, &e, why);
	is_int(r, AG_ERR_PARSE, "token: missing access_token");
	ok(t.access_token == NULL, "token: nothing kept on failure");
	token_route(200, "{\"access_token\":\"\",\"token_type\":\"Bearer\"}");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: empty access_token");
	token_route(200, "{\"access_token\":\"a\",\"token_type\":\"mac\"}");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: bad token_type");
	is_str(why, "token endpoint: unsupported token_type",
	    "token: token_type reason");
	token_route(200, "{\"access_token\":\"a\"}");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: missing token_type");
	token_route(200, "{\"access_token\":\"a\",\"token_type\":\"DPoP\","
	    "\"expires_in\":\"3600\"}");
	r = ag_oidc_token(o, "grant_type=x", &t, &e, why);
	is_int(r, AG_OK, "token: DPoP type, string expires_in");
	is_str(t.token_type, "dpop", "token: dpop lower-cased");
	is_int(t.expires_in, 3600, "token: string expires_in parsed");
	ag_tokens_clear(&t);
	token_route(200, "{\"access_token\":\"a\",\"token_type\":\"bearer\"}");
	r = ag_oidc_token(o, "grant_type=x", &t, &e, why);
	is_int(t.expires_in, -1, "token: expires_in absent is -1");
	ag_tokens_clear(&t);
	token_route(200, "{\"access_token\":\"a\",\"token_type\":\"bearer\","
	    "\"expires_in\":-5}");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: negative expires_in");
	token_route(200, "{\"access_token\":\"a\",\"token_type\":\"bearer\","
	    "\"expires_in\":\"12abc\"}");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: non-numeric expires_in");
	token_route(200, "{\"access_token\":\"a\",\"token_type\":\"bearer\","
	    "\"refresh_token\":5}");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: refresh_token must be a string");
	token_route(200, "{\"access_token\":\"a\",\"token_type\":\"bearer\","
	    "\"id_token\":{}}");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: id_token must be a string");
	token_route(200, "<html>");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: 200 not JSON");
	token_route(200, "[1]");
	is_int(ag_oidc_token(o, "grant_type=x", &t, &e, why), AG_ERR_PARSE,
	    "token: 200 array");

	token_route(403, "{\"error\":\"mfa_required\",\"error_description\":"
	    "\"Multifactor\\nrequired\",\"mfa_token\":\"MT\"}");
	r = ag_oidc_token(o, "grant_type=x", &t, &e, why);
	is_int(r, AG_ERR_PROVIDER, "token: OAuth error answer");
	is_int(e.status, 403, "token: error status");
	is_str(e.error, "mfa_required", "token: error code");
	is_str(e.description, "Multifactor?required",
	    "token: description sanitised");
	is_str(ag_json_get_str(e.raw, "mfa_token"), "MT",
	    "token: raw error body kept");
	is_str(why, "token endpoint: HTTP 403 mfa_required",
	    "token: error reason");
	ag_oauth_error_clear(&e);
	route_set("/oauth/token", 500, "text/html", "<h1>oops</h1>");
	r = ag_oidc_token(o, "grant_type=x", &t, &e, why);
	is_int(r, AG_ERR_PROVIDER, "token: HTTP 500 HTML");
	is_str(e.error, "", "token: no error code");
	is_str(why, "token endpoint: HTTP 500", "token: 500 reason");
	ag_oauth_error_clear(&e);
}

static void
test_authorize(struct ag_oidc *o)
{
	static const char *const names[] = { "prompt", "ui_locales", "state",
	    "audience" };
	static const char *const values[] = { "login", "fr", "evil",
	    "https://api2" };
	struct ag_kv kv[2] = { { "prompt", "consent" },
	    { "connection", "github" } };
	struct ag_authz a;
	struct ag_buf url;
	char why[AG_WHY_LEN], want[1024], h[512];
	int r;

	conf.authz_params = kv;
	conf.n_authz_params = 2;
	conf.audience = "https://api";
	memset(&a, 0, sizeof(a));
	a.redirect_uri = "https://app.example/auth/callback";
	a.state = "S1";
	a.nonce = "N1";
	a.code_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	ag_buf_init(&url, 0);
	r = ag_oidc_authorize_url(o, &a, &url, why);
	is_int(r, AG_OK, "authorize: URL built");
	snprintf(want, sizeof(want), "%s/authorize?foo=bar&prompt=consent&"
	    "connection=github&audience=https%%3A%%2F%%2Fapi&client_id=cid&"
	    "redirect_uri=https%%3A%%2F%%2Fapp.example%%2Fauth%%2Fcallback&"
	    "response_type=code&scope=openid%%20profile&"
	    "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&"
	    "code_challenge_method=S256&state=S1&nonce=N1", base);
	is_str(ag_buf_str(&url), want, "authorize: parameters and order");
	ag_buf_free(&url);

	a.extra_names = names;
	a.extra_values = values;
	a.n_extra = 4;
	a.max_age = "0";
	a.dpop_jkt = "JKT";
	a.scope = "openid email";
	conf.audience_param = AG_AUDIENCE_RESOURCE;
	r = ag_oidc_authorize_url(o, &a, &url, why);
	is_int(r, AG_OK, "authorize: with extras");
	snprintf(want, sizeof(want), "%s/authorize?foo=bar&"
	    "connection=github&resource=https%%3A%%2F%%2Fapi&prompt=login&"
	    "ui_locales=fr&audience=https%%3A%%2F%%2Fapi2&client_id=cid&"
	    "redirect_uri=https%%3A%%2F%%2Fapp.example%%2Fauth%%2Fcallback&"
	    "response_type=code&scope=openid%%20email&"
	    "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&"
	    "code_challenge_method=S256&state=S1&nonce=N1&max_age=0&"
	    "dpop_jkt=JKT", base);
	is_str(ag_buf_str(&url), want,
	    "authorize: extras override conf, fixed ones win, resource");
	ag_buf_free(&url);
	conf.audience_param = AG_AUDIENCE_AUDIENCE;

	/* PAR. */
	conf.par = 1;
	a.n_extra = 0;
	a.max_age = NULL;
	a.dpop_jkt = NULL;
	route_set("/par", 201, "application/json",
	    "{\"request_uri\":\"urn:ietf:params:oauth:request_uri:R1\","
	    "\"expires_in\":60}");
	r = ag_oidc_authorize_url(o, &a, &url, why);
	is_int(r, AG_OK, "par: URL built");
	snprintf(want, sizeof(want), "%s/authorize?foo=bar&client_id=cid&"
	    "request_uri=urn%%3Aietf%%3Aparams%%3Aoauth%%3Arequest_uri%%3AR1",
	    base);
	is_str(ag_buf_str(&url), want, "par: URL carries request_uri only");
	ag_buf_free(&url);
	ok(strstr(req_body(), "&state=S1&nonce=N1") != NULL,
	    "par: parameters pushed");
	is_str(req_header("Authorization", h, sizeof(h)),
	    "Basic Y2lkOnMzY3IlM0FldA==", "par: client authentication");
	route_set("/par", 400, "application/json",
	    "{\"error\":\"invalid_request\"}");
	is_int(ag_oidc_authorize_url(o, &a, &url, why), AG_ERR_PROVIDER,
	    "par: error answer");
	is_str(why, "par endpoint: HTTP 400 invalid_request",
	    "par: error reason");
	ag_buf_free(&url);
	route_set("/par", 201, "application/json", "{\"expires_in\":60}");
	is_int(ag_oidc_authorize_url(o, &a, &url, why), AG_ERR_PARSE,
	    "par: request_uri required");
	ag_buf_free(&url);
	route_set("/par", 200, "application/json",
	    "{\"request_uri\":\"u\",\"expires_in\":60}");
	is_int(ag_oidc_authorize_url(o, &a, &url, why), AG_ERR_PROVIDER,
	    "par: 200 instead of 201 refused");
	ag_buf_free(&url);
	conf.par = 0;
	conf.authz_params = NULL;
	conf.n_authz_params = 0;
	conf.audience = NULL;

	a.state = NULL;
	is_int(ag_oidc_authorize_url(o, &a, &url, why), AG_ERR_CONFIG,
	    "authorize: state required");
	ag_buf_free(&url);
}

static void
test_userinfo_logout_revoke(struct ag_oidc *o)
{
	struct ag_buf url;
	ag_json *claims = NULL;
	char why[AG_WHY_LEN], want[1024], h[512];
	int r;

	route_set("/userinfo", 200, "application/json",
	    "{\"sub\":\"auth0|u1\",\"email\":\"u@example.com\"}");
	r = ag_oidc_userinfo(o, "AT1", "bearer", "auth0|u1", &claims, why);
	is_int(r, AG_OK, "userinfo: ok");
	is_str(ag_json_get_str(claims, "email"), "u@example.com",
	    "userinfo: claims");
	is_str(req_header("Authorization", h, sizeof(h)), "Bearer AT1",
	    "userinfo: bearer header");
	ag_json_free(claims);
	r = ag_oidc_userinfo(o, "AT1", "bearer", "auth0|u2", &claims, why);
	is_int(r, AG_ERR_VERIFY, "userinfo: sub mismatch");
	ok(claims == NULL, "userinfo: no claims on mismatch");
	r = ag_oidc_userinfo(o, "AT1", "dpop", "auth0|u1", &claims, why);
	ok(r != AG_OK, "userinfo: DPoP not yet supported");
	route_set("/userinfo", 200, "application/jwt", "a.b.c");
	r = ag_oidc_userinfo(o, "AT1", "bearer", "auth0|u1", &claims, why);
	is_int(r, AG_ERR_PARSE, "userinfo: signed response refused");
	route_set("/userinfo", 200, "application/json", "[]");
	r = ag_oidc_userinfo(o, "AT1", "bearer", "auth0|u1", &claims, why);
	is_int(r, AG_ERR_PARSE, "userinfo: non-object refused");
	route_set("/userinfo", 401, "application/json", "{}");
	r = ag_oidc_userinfo(o, "AT1", "bearer", "auth0|u1", &claims, why);
	is_int(r, AG_ERR_PROVIDER, "userinfo: 401");

	ag_buf_init(&url, 0);
	r = ag_oidc_logout_url(o, "https://app/", "IDT", "sid1", "st", 1,
	    &url, why);
	is_int(r, AG_OK, "logout: oidc URL (auto, advertised)");
	snprintf(want, sizeof(want), "%s/logout?client_id=cid&"
	    "post_logout_redirect_uri=https%%3A%%2F%%2Fapp%%2F&"
	    "id_token_hint=IDT&logout_hint=sid1&state=st&federated=", base);
	is_str(ag_buf_str(&url), want, "logout: oidc parameters");
	ag_buf_free(&url);
	r = ag_oidc_logout_url(o, "https://app/", NULL, NULL, NULL, 0, &url,
	    why);
	snprintf(want, sizeof(want), "%s/logout?client_id=cid&"
	    "post_logout_redirect_uri=https%%3A%%2F%%2Fapp%%2F", base);
	is_str(ag_buf_str(&url), want, "logout: optional parameters left out");
	ag_buf_free(&url);
	conf.logout_strategy = AG_LOGOUT_V2;
	r = ag_oidc_logout_url(o, "https://app/", "IDT", "sid1", NULL, 1,
	    &url, why);
	snprintf(want, sizeof(want), "%s/v2/logout?returnTo="
	    "https%%3A%%2F%%2Fapp%%2F&client_id=cid&federated=", base);
	is_str(ag_buf_str(&url), want, "logout: v2 URL");
	ag_buf_free(&url);
	conf.logout_strategy = AG_LOGOUT_AUTO;

	route_set("/revoke", 200, "application/json", "");
	is_int(ag_oidc_revoke(o, "RT1", why), AG_OK, "revoke: ok");
	is_str(req_body(), "token=RT1&token_type_hint=refresh_token",
	    "revoke: form");
	is_str(req_header("Authorization", h, sizeof(h)),
	    "Basic Y2lkOnMzY3IlM0FldA==", "revoke: client authentication");
	route_set("/revoke", 400, "application/json",
	    "{\"error\":\"unsupported_token_type\"}");
	is_int(ag_oidc_revoke(o, "RT1", why), AG_ERR_PROVIDER,
	    "revoke: error answer");
}

/* A provider without logout, revocation or PAR. */
static void
test_bare_provider(void)
{
	struct ag_oidc *o = NULL;
	struct ag_authz a;
	struct ag_buf url;
	char why[AG_WHY_LEN], iss2[160], want[512];
	char *saved = conf.issuer;
	int r;

	snprintf(iss2, sizeof(iss2), "%s/bare", base);
	set_discovery("/bare", iss2, 0);
	conf.issuer = iss2;
	if (ag_oidc_new(&conf, &o) != AG_OK) {
		ok(0, "bare: new");
		return;
	}
	ag_buf_init(&url, 0);
	conf.logout_strategy = AG_LOGOUT_OIDC;
	r = ag_oidc_logout_url(o, "https://app/", NULL, NULL, NULL, 0, &url,
	    why);
	is_int(r, AG_ERR_NOTFOUND, "logout: oidc strategy, none advertised");
	is_str(why, "OIDC RP-Initiated Logout is not supported by the "
	    "authorization server", "logout: unsupported reason");
	conf.logout_strategy = AG_LOGOUT_AUTO;
	ag_buf_free(&url);
	r = ag_oidc_logout_url(o, "https://app/back", NULL, NULL, NULL, 0,
	    &url, why);
	is_int(r, AG_OK, "logout: auto, not Auth0");
	is_str(ag_buf_str(&url), "https://app/back",
	    "logout: auto falls back to the return URL");
	ag_buf_free(&url);
	conf.domain = "tenant.auth0.com";
	r = ag_oidc_logout_url(o, "https://app/", NULL, NULL, NULL, 0, &url,
	    why);
	snprintf(want, sizeof(want), "%s/v2/logout?returnTo="
	    "https%%3A%%2F%%2Fapp%%2F&client_id=cid", iss2);
	is_str(ag_buf_str(&url), want, "logout: auto picks v2 for Auth0");
	conf.domain = NULL;
	ag_buf_free(&url);
	is_int(ag_oidc_revoke(o, "RT", why), AG_ERR_NOTFOUND,
	    "revoke: unsupported");

	conf.par = 1;
	memset(&a, 0, sizeof(a));
	a.redirect_uri = "https://app/cb";
	a.state = "s";
	a.nonce = "n";
	a.code_verifier = "v";
	ok(ag_oidc_authorize_url(o, &a, &url, why) != AG_OK,
	    "par: on but not advertised refused");
	ag_buf_free(&url);
	conf.par = 0;
	ag_oidc_free(o);
	conf.issuer = saved;
}

static void
test_discovery_fetch(void)
{
	struct ag_oidc *o = NULL;
	const struct ag_provider *p;
	char why[AG_WHY_LEN], iss3[160], path[200];
	char *saved = conf.issuer;
	int64_t t0;
	int hits;

	snprintf(iss3, sizeof(iss3), "%s/flaky", base);
	snprintf(path, sizeof(path), "/flaky/.well-known/openid-configuration");
	route_set(path, 500, "text/html", "down");
	conf.issuer = iss3;
	ag_oidc_new(&conf, &o);
	is_int(ag_oidc_provider(o, &p, why), AG_ERR_PROVIDER,
	    "discovery: HTTP 500");
	is_str(why, "discovery: HTTP 500", "discovery: 500 reason");
	set_discovery("/flaky", "https://other.example/", 0);
	is_int(ag_oidc_provider(o, &p, why), AG_ERR_VERIFY,
	    "discovery: fetched issuer mismatch");
	route_set(path, 200, "application/json", "<html>");
	is_int(ag_oidc_provider(o, &p, why), AG_ERR_PARSE,
	    "discovery: fetched non-JSON");
	set_discovery("/flaky", iss3, 0);
	hits = route_hits(path);
	is_int(ag_oidc_provider(o, &p, why), AG_OK,
	    "discovery: failures not cached");
	is_int(ag_oidc_provider(o, &p, why), AG_OK, "discovery: cached");
	is_int(route_hits(path), hits + 1, "discovery: fetched once");
	is_str(p->issuer, iss3, "discovery: path issuer URL");
	ag_oidc_free(o);

	/* Cached AG_DISCOVERY_TTL seconds: the last second, then a refetch. */
	t0 = ag_now();
	ag_oidc_new(&conf, &o);
	hits = route_hits(path);
	is_int(ag_oidc_provider(o, &p, why), AG_OK, "discovery: TTL: fetched");
	ag_clock_set(t0 + AG_DISCOVERY_TTL - 1);
	is_int(ag_oidc_provider(o, &p, why), AG_OK, "discovery: TTL: cached");
	is_int(route_hits(path), hits + 1,
	    "discovery: AG_DISCOVERY_TTL - 1 s old: still cached");
	ag_clock_set(t0 + AG_DISCOVERY_TTL);
	is_int(ag_oidc_provider(o, &p, why), AG_OK, "discovery: TTL: again");
	is_int(route_hits(path), hits + 2,
	    "discovery: AG_DISCOVERY_TTL s old: fetched again");
	ag_oidc_free(o);
	ag_clock_set(t0);

	/* https required unless allow_insecure. */
	conf.allow_insecure = 0;
	ag_oidc_new(&conf, &o);
	is_int(ag_oidc_provider(o, &p, why), AG_ERR_HTTP,
	    "discovery: http issuer refused when not insecure");
	ag_oidc_free(o);
	conf.allow_insecure = 1;
	conf.issuer = saved;
}

static int
load_key(const char *file, int alg, struct ag_key **k)
{
	char path[256];
	int r;

	snprintf(path, sizeof(path), JWT_DIR "%s", file);
	if ((r = ag_key_load(path, alg, k)) != AG_OK) {
		printf("# cannot load %s: %s\n", path, ag_strerror(r));
		*k = NULL;
	}
	return r;
}

int
main(void)
{
	struct ag_oidc *o = NULL;
	const struct ag_provider *p;
	char why[AG_WHY_LEN];
	int r;

	signal(SIGPIPE, SIG_IGN);
	ag_log_open("test-oidc", AG_LOG_ERROR, 0);
	test_discovery_parse();

	is_int(ag_http_init(), AG_OK, "http: init");
	server_start();
	test_http();

	snprintf(issuer, sizeof(issuer), "%s/", base);
	memset(&conf, 0, sizeof(conf));
	conf.issuer = issuer;
	conf.client_id = "cid";
	conf.client_secret = "s3cr:et";
	conf.client_auth = AG_AUTH_SECRET_BASIC;
	conf.scope = "openid profile";
	conf.allow_insecure = 1;
	conf.http_timeout_ms = 3000;
	conf.id_token_algs = AG_ALG_ALL;
	conf.logout_strategy = AG_LOGOUT_AUTO;
	/* issuer ends in '/': discovery at /.well-known/... */
	set_discovery("", issuer, 1);
	ag_clock_set((int64_t)time(NULL));

	is_int(ag_oidc_new(&conf, &o), AG_OK, "oidc: new");
	r = ag_oidc_provider(o, &p, why);
	is_int(r, AG_OK, "oidc: discovery over HTTP");
	if (r != AG_OK)
		printf("#   why: %s\n", why);
	else
		is_int(p->id_token_algs, AG_ALG_BIT(AG_ALG_RS256) |
		    AG_ALG_BIT(AG_ALG_ES384) | AG_ALG_BIT(AG_ALG_EDDSA),
		    "oidc: advertised algs");

	test_authorize(o);
	test_token(o);
	if (load_key("rsa.pem", AG_ALG_RS256, &k_rsa) == AG_OK &&
	    load_key("rsa2.pem", AG_ALG_RS256, &k_rsa2) == AG_OK &&
	    load_key("ec384.pem", AG_ALG_ES384, &k_es384) == AG_OK &&
	    load_key("ec256.pem", AG_ALG_ES256, &k_es256) == AG_OK &&
	    load_key("ed25519.pem", AG_ALG_EDDSA, &k_ed) == AG_OK)
		test_id_tokens(o);
	else
		ok(0, "test keys load");
	test_userinfo_logout_revoke(o);
	test_bare_provider();
	test_discovery_fetch();

	ag_oidc_free(o);
	ag_key_free(k_rsa);
	ag_key_free(k_rsa2);
	ag_key_free(k_es384);
	ag_key_free(k_es256);
	ag_key_free(k_ed);
	server_stop();
	return tap_done();
}
