/*
 * test-dpop.c -- lib/dpop.c and the key generation of lib/jwk.c: the
 * proof's header and claims, its signature checked with our own JWS
 * verification against the header's jwk, htu normalisation, ath, the
 * nonce table (per origin, bounded, least recently used evicted,
 * malformed nonces ignored), nonce challenges of authorization and
 * resource servers, and ag_dpop_http's one retry against a scripted
 * loopback server that answers connections in order.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_limits.h"
#include "buf.h"
#include "dpop.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "tap.h"
#include "util.h"

#define KEY_DIR		"tests/data/keys/"
#define NSCRIPT		4
#define SEEN_MAX	4096

/* ------------------------------------------------------------------ */
/* A scripted server: connection i gets answer[i]; it keeps the DPoP   */
/* and Authorization headers of each request.                         */

struct seen {
	char	dpop[SEEN_MAX];
	char	authz[256];
};

struct script {
	const char	*answer[NSCRIPT];
	int		 n;
	struct seen	 seen[NSCRIPT];
	int		 nseen;
};

static struct script	*sc;
static pid_t		 srv_pid = -1;
static char		 base[64];

/* Copy header name's value from the request head req into dst. */
static void
header_value(const char *req, const char *name, char *dst, size_t n)
{
	const char *p = req;
	size_t len = strlen(name), i;

	dst[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
			p += len + 1;
			while (*p == ' ')
				p++;
			for (i = 0; i + 1 < n && p[i] != '\r'; i++)
				dst[i] = p[i];
			dst[i] = '\0';
			return;
		}
	}
}

static void
serve(int lfd)
{
	char req[16384];
	const char *a;
	size_t n;
	ssize_t got;
	int fd, i;

	for (i = 0; i < sc->n; i++) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			_exit(1);
		n = 0;
		while (n + 1 < sizeof(req) && (got = read(fd, req + n,
		    sizeof(req) - 1 - n)) > 0) {
			n += (size_t)got;
			req[n] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[n] = '\0';
		header_value(req, "DPoP", sc->seen[i].dpop, SEEN_MAX);
		header_value(req, "Authorization", sc->seen[i].authz,
		    sizeof(sc->seen[i].authz));
		sc->nseen = i + 1;
		a = sc->answer[i];
		if (write(fd, a, strlen(a)) < 0)
			_exit(1);
		close(fd);
	}
	_exit(0);
}

/* Serve the n answers given, one connection each, in a child. */
static void
script_start(int n, const char *const *answers)
{
	int lfd, i;

	memset(sc, 0, sizeof(*sc));
	for (i = 0; i < n; i++)
		sc->answer[i] = answers[i];
	sc->n = n;
	lfd = listen_loopback(8, NULL, base, sizeof(base));
	fflush(stdout);
	if ((srv_pid = fork()) < 0)
		abort();
	if (srv_pid == 0)
		serve(lfd);
	close(lfd);
}

/* Stop the child (it may still wait for a connection that never came). */
static void
script_stop(void)
{
	kill(srv_pid, SIGKILL);
	waitpid(srv_pid, NULL, 0);
	srv_pid = -1;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static struct ag_dpop *
load(const char *file, const char *alg, int *rc, char *why)
{
	struct ag_dpop *d = NULL;

	*rc = ag_dpop_load(file, alg, &d, why);
	return d;
}

/*
 * Parse proof and verify its signature with the header's own jwk
 * (allowed: alg_bit).  The parsed JWT, or NULL.
 */
static struct ag_jwt *
verified(const char *proof, unsigned alg_bit, const char **why)
{
	struct ag_jwt *t = NULL;
	struct ag_jwks *jwks = NULL;
	ag_json *set = NULL, *keys = NULL, *jwk;
	const char *s;
	int ok = 0;

	*why = "parse";
	if (ag_jwt_parse(proof, strlen(proof), &t) != AG_OK)
		return NULL;
	*why = "no jwk";
	if ((jwk = ag_json_get(t->header, "jwk")) == NULL)
		goto out;
	set = ag_json_object();
	keys = ag_json_array();
	ag_json_array_add(keys, ag_json_copy(jwk));
	ag_json_set(set, "keys", keys);
	s = ag_json_dump(set);
	*why = "jwks";
	if (ag_jwks_parse(s, strlen(s), &jwks) != AG_OK)
		goto out;
	ok = ag_jwt_verify(t, jwks, alg_bit, why) == AG_OK;
 out:
	ag_json_free(set);
	ag_jwks_free(jwks);
	if (!ok) {
		ag_jwt_free(t);
		t = NULL;
	}
	return t;
}

static const char *
claim(const struct ag_jwt *t, const char *name)
{
	return ag_json_get_str(t->claims, name);
}

/* ------------------------------------------------------------------ */

static void
test_keys(void)
{
	struct ag_key *k = NULL;
	struct ag_dpop *d;
	struct ag_buf tp, pem;
	char why[AG_WHY_LEN];
	int r;

	d = load(KEY_DIR "es256.pem", NULL, &r, why);
	is_int(r, AG_OK, "load: ES256 key");
	ag_buf_init(&tp, 0);
	ag_key_load(KEY_DIR "es256.pem", -1, &k);
	ag_key_thumbprint(k, &tp);
	is_str(ag_dpop_jkt(d), ag_buf_str(&tp), "jkt: the RFC 7638 "
	    "thumbprint of the key");
	ag_key_free(k);
	ag_buf_free(&tp);
	ag_dpop_free(d);

	d = load(KEY_DIR "rs256.pem", NULL, &r, why);
	is_int(r, AG_OK, "load: RSA key (RS256)");
	ag_dpop_free(d);
	d = load(KEY_DIR "p384.pem", NULL, &r, why);
	ok(d == NULL && r == AG_ERR_CONFIG && strstr(why, "P-256") != NULL,
	    "load: a P-384 key is refused with the reason");
	d = load(KEY_DIR "ed25519.pem", NULL, &r, why);
	ok(d == NULL && r == AG_ERR_CONFIG, "load: an Ed25519 key is refused");
	d = load(KEY_DIR "es256.pub.jwk.json", NULL, &r, why);
	ok(d == NULL && r == AG_ERR_PARSE && strstr(why, "PEM") != NULL,
	    "load: not a PEM key: refused");
	d = load(KEY_DIR "missing.pem", NULL, &r, why);
	ok(d == NULL && r == AG_ERR_IO, "load: a missing file is an error");
	d = load(NULL, NULL, &r, why);
	ok(d == NULL && r == AG_ERR_CONFIG, "load: no path is an error");
	d = load(KEY_DIR "es256.pem", "HS256", &r, why);
	ok(d == NULL && r == AG_ERR_CONFIG, "load: alg HS256 refused");
	d = load(KEY_DIR "es256.pem", "RS256", &r, why);
	ok(d == NULL && r == AG_ERR_CONFIG, "load: an EC key for RS256 refused");

	/* Generated keys load back from their PEM. */
	ag_buf_init(&pem, 0);
	is_int(ag_key_generate(AG_ALG_ES256, &k), AG_OK, "keygen: ES256");
	is_int(ag_key_private_pem(k, &pem), AG_OK, "keygen: PEM");
	ok(strncmp(ag_buf_str(&pem), "-----BEGIN PRIVATE KEY-----", 27) == 0,
	    "keygen: PKCS#8 PEM");
	ag_key_free(k);
	is_int(ag_key_load_pem(ag_buf_str(&pem), pem.len, -1, &k), AG_OK,
	    "keygen: the PEM loads");
	is_int(ag_key_alg(k), AG_ALG_ES256, "keygen: loads as ES256");
	is_int(ag_dpop_new(k, &d), AG_OK, "keygen: usable for DPoP");
	ag_dpop_free(d);
	ag_buf_free(&pem);
	is_int(ag_key_generate(AG_ALG_ES384, &k), AG_ERR_CONFIG,
	    "keygen: ES384 not offered");
	ok(k == NULL, "keygen: nothing on failure");
}

static void
test_htu(void)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{ "https://Example.COM/a/b?x=1#f", "https://example.com/a/b" },
		{ "HTTPS://example.com:443/t", "https://example.com/t" },
		{ "http://h.example:8080", "http://h.example:8080/" },
		{ "http://h.example?q=1", "http://h.example/" },
		{ "http://h.example#frag", "http://h.example/" },
		{ "http://127.0.0.1:80/x/", "http://127.0.0.1/x/" },
		{ "https://h.example/p%20q;r", "https://h.example/p%20q;r" },
	};
	static const char *bad[] = {
		"ftp://h/", "/relative", "h.example/x", "https://u:p@h/",
		"https:///x", "",
	};
	struct ag_buf b;
	size_t i;
	char name[160];

	ag_buf_init(&b, 0);
	for (i = 0; i < sizeof(c) / sizeof(*c); i++) {
		ag_buf_reset(&b);
		snprintf(name, sizeof(name), "htu: %s", c[i].in);
		ok(ag_dpop_htu(&b, c[i].in) == AG_OK &&
		    strcmp(ag_buf_str(&b), c[i].out) == 0, name);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ag_buf_reset(&b);
		snprintf(name, sizeof(name), "htu: refused: '%s'", bad[i]);
		is_int(ag_dpop_htu(&b, bad[i]), AG_ERR_PARSE, name);
	}
	ag_buf_reset(&b);
	/* RFC 9449 section 7.1's example value. */
	ag_dpop_ath(&b, "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
	is_str(ag_buf_str(&b), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo",
	    "ath: RFC 9449 example");
	ag_buf_free(&b);
}

static void
test_proof(void)
{
	struct ag_dpop *d;
	struct ag_jwt *t, *t2;
	struct ag_buf p, p2;
	char why_load[AG_WHY_LEN];
	const char *why;
	ag_json *jwk;
	int64_t iat = 0;
	int r;

	ag_clock_set(1700000000);
	ag_buf_init(&p, AG_MAX_JWT);
	ag_buf_init(&p2, AG_MAX_JWT);
	d = load(KEY_DIR "es256.pem", NULL, &r, why_load);
	is_int(ag_dpop_proof(d, "POST", "https://AS.example/oauth/token?a=b",
	    NULL, &p), AG_OK, "proof: made");
	t = verified(ag_buf_str(&p), AG_ALG_BIT(AG_ALG_ES256), &why);
	ok(t != NULL, "proof: ES256 signature verifies with the header jwk");
	if (t == NULL) {
		printf("# %s\n", why);
		goto out;
	}
	is_str(t->typ, "dpop+jwt", "proof: typ dpop+jwt");
	is_int(t->alg, AG_ALG_ES256, "proof: alg ES256");
	jwk = ag_json_get(t->header, "jwk");
	ok(ag_json_get(jwk, "d") == NULL, "proof: no private part in jwk");
	ok(ag_json_get(jwk, "kid") == NULL && ag_json_get(jwk, "use") ==
	    NULL && ag_json_object_len(jwk) == 4, "proof: jwk holds kty, crv, "
	    "x, y only");
	ok(ag_json_get(t->header, "kid") == NULL, "proof: no kid in header");
	is_str(claim(t, "htm"), "POST", "proof: htm");
	is_str(claim(t, "htu"), "https://as.example/oauth/token",
	    "proof: htu without query");
	ok(ag_json_get_int(t->claims, "iat", &iat) == AG_OK &&
	    iat == 1700000000, "proof: iat is now");
	ok(claim(t, "jti") != NULL && strlen(claim(t, "jti")) == 43,
	    "proof: jti of 32 random bytes");
	ok(claim(t, "nonce") == NULL, "proof: no nonce before one is known");
	ok(claim(t, "ath") == NULL, "proof: no ath without access token");

	/* With an access token and a nonce for this origin. */
	ag_dpop_remember(d, "https://as.example/other", "n-1");
	is_int(ag_dpop_proof(d, "GET", "https://as.example/userinfo",
	    "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU", &p2), AG_OK,
	    "proof: with ath");
	t2 = verified(ag_buf_str(&p2), AG_ALG_BIT(AG_ALG_ES256), &why);
	ok(t2 != NULL, "proof 2: verifies");
	if (t2 != NULL) {
		is_str(claim(t2, "ath"),
		    "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo",
		    "proof 2: ath");
		is_str(claim(t2, "nonce"), "n-1", "proof 2: the origin's nonce");
		ok(strcmp(claim(t2, "jti"), claim(t, "jti")) != 0,
		    "proof 2: a fresh jti");
		ag_jwt_free(t2);
	}
	ag_buf_reset(&p2);
	ag_dpop_proof(d, "GET", "https://rs.example/", NULL, &p2);
	t2 = verified(ag_buf_str(&p2), AG_ALG_BIT(AG_ALG_ES256), &why);
	ok(t2 != NULL && claim(t2, "nonce") == NULL,
	    "proof 3: another origin's nonce is not sent");
	ag_jwt_free(t2);
	ag_jwt_free(t);
	ag_dpop_free(d);

	/* RSA. */
	d = load(KEY_DIR "rs256.pem", NULL, &r, why_load);
	ag_buf_reset(&p);
	ag_dpop_proof(d, "GET", "https://rs.example/api", NULL, &p);
	t = verified(ag_buf_str(&p), AG_ALG_BIT(AG_ALG_RS256), &why);
	ok(t != NULL && t->alg == AG_ALG_RS256, "proof: RS256 verifies");
	ag_jwt_free(t);
	ag_dpop_free(d);
	d = load(KEY_DIR "rs256.pem", "PS256", &r, why_load);
	ag_buf_reset(&p);
	ag_dpop_proof(d, "GET", "https://rs.example/api", NULL, &p);
	t = verified(ag_buf_str(&p), AG_ALG_BIT(AG_ALG_PS256), &why);
	ok(t != NULL && t->alg == AG_ALG_PS256, "proof: PS256 verifies");
	ag_jwt_free(t);
	ag_buf_reset(&p);
	is_int(ag_dpop_proof(d, "GET", "not a url", NULL, &p), AG_ERR_PARSE,
	    "proof: a bad URL is refused");
 out:
	ag_dpop_free(d);
	ag_buf_free(&p);
	ag_buf_free(&p2);
	ag_clock_set(0);
}

static void
test_nonces(void)
{
	struct ag_dpop *d;
	char why[AG_WHY_LEN], url[64], big[AG_MAX_DPOP_NONCE + 2];
	int i, r, all;

	d = load(KEY_DIR "es256.pem", NULL, &r, why);
	ag_dpop_remember(d, "https://a.example/x", NULL);
	is_int(ag_dpop_nonce_count(d), 0, "nonce: NULL remembers nothing");
	ag_dpop_remember(d, "https://a.example/x", "has space");
	ag_dpop_remember(d, "https://a.example/x", "q\"uote");
	ag_dpop_remember(d, "https://a.example/x", "back\\slash");
	ag_dpop_remember(d, "https://a.example/x", "");
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ag_dpop_remember(d, "https://a.example/x", big);
	is_int(ag_dpop_nonce_count(d), 0, "nonce: malformed or too long "
	    "values ignored");
	big[sizeof(big) - 2] = '\0';
	ag_dpop_remember(d, "https://a.example/x", big);
	ok(ag_dpop_nonce(d, "https://a.example/") != NULL,
	    "nonce: AG_MAX_DPOP_NONCE bytes kept");
	ag_dpop_remember(d, "https://A.example:443/y?z", "n2");
	is_str(ag_dpop_nonce(d, "https://a.example/other"), "n2",
	    "nonce: per origin, replaced");
	ok(ag_dpop_nonce(d, "http://a.example/") == NULL,
	    "nonce: another scheme is another origin");
	ag_dpop_remember(d, "not a url", "n");
	is_int(ag_dpop_nonce_count(d), 1, "nonce: no origin, not kept");

	/* Bounded: the least recently used origin goes. */
	for (i = 0; i < AG_MAX_DPOP_NONCES + 8; i++) {
		snprintf(url, sizeof(url), "https://h%d.example/", i);
		ag_dpop_remember(d, url, "v");
		/* a.example stays in use. */
		ag_dpop_nonce(d, "https://a.example/");
	}
	is_int(ag_dpop_nonce_count(d), AG_MAX_DPOP_NONCES,
	    "nonce: the table is bounded");
	ok(ag_dpop_nonce(d, "https://a.example/") != NULL,
	    "nonce: the origin in use is kept");
	ok(ag_dpop_nonce(d, "https://h0.example/") == NULL,
	    "nonce: the least recently used origin is evicted");
	for (i = 9, all = 1; i < AG_MAX_DPOP_NONCES + 8; i++) {
		snprintf(url, sizeof(url), "https://h%d.example/", i);
		all &= ag_dpop_nonce(d, url) != NULL;
	}
	ok(all, "nonce: the recent origins are kept");
	ag_dpop_free(d);
}

static void
resp_set(struct ag_http_resp *r, long status, const char *body,
    const char *nonce, const char *www)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	ag_buf_init(&r->body, 0);
	ag_buf_puts(&r->body, body);
	r->dpop_nonce = nonce != NULL ? strdup(nonce) : NULL;
	r->www_authenticate = www != NULL ? strdup(www) : NULL;
}

static void
test_challenge(void)
{
	static const struct {
		long		 status;
		const char	*body, *nonce, *www;
		int		 want;
		const char	*name;
	} c[] = {
		{ 400, "{\"error\":\"use_dpop_nonce\"}", "n", NULL, 1,
		    "400 use_dpop_nonce with a nonce" },
		{ 400, "{\"error\":\"use_dpop_nonce\"}", NULL, NULL, 0,
		    "400 use_dpop_nonce without a nonce" },
		{ 400, "{\"error\":\"invalid_grant\"}", "n", NULL, 0,
		    "400 invalid_grant" },
		{ 400, "use_dpop_nonce", "n", NULL, 0, "400 not JSON" },
		{ 200, "{\"error\":\"use_dpop_nonce\"}", "n", NULL, 0,
		    "200 is no challenge" },
		{ 401, "", "n", "DPoP error=\"use_dpop_nonce\", "
		    "error_description=\"x\"", 1, "401 DPoP challenge" },
		{ 401, "", "n", "dpop algs=\"ES256 PS256\", "
		    "error=use_dpop_nonce", 1,
		    "401 unquoted, after another param" },
		{ 401, "", "n", "DPoP error_description=\"a \\\"q\\\" b\","
		    " error=\"use_dpop_nonce\"", 1, "401 escaped quotes" },
		{ 401, "", NULL, "DPoP error=\"use_dpop_nonce\"", 0,
		    "401 without a nonce" },
		{ 401, "", "n", "Bearer error=\"use_dpop_nonce\"", 0,
		    "401 Bearer challenge" },
		{ 401, "", "n", "DPoP error=\"invalid_token\"", 0,
		    "401 another error" },
		{ 401, "", "n", "DPoP error=\"use_dpop_nonce_x\"", 0,
		    "401 a longer error" },
		{ 401, "", "n", "DPoP error=\"use_dpop_\"", 0,
		    "401 a shorter error" },
		{ 401, "", "n", "DPoPx error=\"use_dpop_nonce\"", 0,
		    "401 another scheme" },
		{ 401, "", "n", "DPoP error=\"use_dpop_nonce", 0,
		    "401 unterminated quote" },
		{ 401, "", "n", "DPoP realm=\"r\", Bearer "
		    "error=\"use_dpop_nonce\"", 0,
		    "401 the error of another challenge" },
	};
	struct ag_http_resp r;
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(*c); i++) {
		resp_set(&r, c[i].status, c[i].body, c[i].nonce, c[i].www);
		snprintf(name, sizeof(name), "challenge: %s", c[i].name);
		is_int(ag_dpop_nonce_challenge(&r), c[i].want, name);
		ag_http_resp_free(&r);
	}
}

#define NONCE_401(n) "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: " \
	"DPoP error=\"use_dpop_nonce\"\r\nDPoP-Nonce: " n "\r\n" \
	"Content-Length: 0\r\nConnection: close\r\n\r\n"
#define OK_200 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
	"DPoP-Nonce: later\r\nContent-Length: 2\r\nConnection: close\r\n" \
	"\r\n{}"

/* The nonce claim of proof (parsed, not verified here), or "". */
static const char *
proof_nonce(const char *proof, char *dst, size_t n)
{
	struct ag_jwt *t = NULL;
	const char *s;

	dst[0] = '\0';
	if (ag_jwt_parse(proof, strlen(proof), &t) == AG_OK &&
	    (s = claim(t, "nonce")) != NULL)
		snprintf(dst, n, "%s", s);
	ag_jwt_free(t);
	return dst;
}

static void
test_retry(void)
{
	static const char *const once[] = { NONCE_401("n-one"), OK_200 };
	static const char *const twice[] = { NONCE_401("n-a"),
	    NONCE_401("n-b"), OK_200 };
	struct ag_http_req req;
	struct ag_http_resp resp;
	struct ag_dpop *d;
	struct ag_jwt *t = NULL;
	char why[AG_WHY_LEN], url[128], nb[64];
	const char *w;
	int r;

	d = load(KEY_DIR "es256.pem", NULL, &r, why);
	script_start(2, once);
	snprintf(url, sizeof(url), "%s/api?x=1", base);
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.url = url;
	req.allow_http = 1;
	req.timeout_ms = 5000;
	req.authorization = "DPoP tok";
	r = ag_dpop_http(d, &req, "tok", &resp);
	script_stop();
	ok(r == AG_OK && resp.status == 200, "retry: 401 nonce, then 200");
	is_int(sc->nseen, 2, "retry: two requests");
	is_str(proof_nonce(sc->seen[0].dpop, nb, sizeof(nb)), "",
	    "retry: first proof without nonce");
	is_str(proof_nonce(sc->seen[1].dpop, nb, sizeof(nb)), "n-one",
	    "retry: second proof with the challenge's nonce");
	is_str(sc->seen[1].authz, "DPoP tok", "retry: Authorization DPoP");
	ok(strcmp(sc->seen[0].dpop, sc->seen[1].dpop) != 0,
	    "retry: a fresh proof");
	ok(ag_jwt_parse(sc->seen[1].dpop, strlen(sc->seen[1].dpop), &t) ==
	    AG_OK && (w = claim(t, "htu")) != NULL &&
	    strncmp(w, base, strlen(base)) == 0 && strcmp(w + strlen(base),
	    "/api") == 0 && claim(t, "ath") != NULL &&
	    strcmp(claim(t, "htm"), "GET") == 0, "retry: htm, htu and ath");
	ag_jwt_free(t);
	is_str(ag_dpop_nonce(d, url), "later",
	    "retry: the 200's DPoP-Nonce is remembered");
	ok(req.dpop == NULL, "retry: req.dpop left NULL");
	ag_http_resp_free(&resp);

	/* A second challenge is the answer: no third request. */
	script_start(3, twice);
	snprintf(url, sizeof(url), "%s/api", base);
	req.url = url;
	r = ag_dpop_http(d, &req, "tok", &resp);
	script_stop();
	ok(r == AG_OK && resp.status == 401, "retry: once only, the second "
	    "401 is returned");
	is_int(sc->nseen, 2, "retry: exactly two requests");
	is_str(proof_nonce(sc->seen[1].dpop, nb, sizeof(nb)), "n-a",
	    "retry: the retry used the first nonce");
	is_str(ag_dpop_nonce(d, url), "n-b", "retry: the newest nonce kept");
	ag_http_resp_free(&resp);
	ag_dpop_free(d);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	ag_log_open("test-dpop", AG_LOG_ERROR, 0);
	if ((sc = mmap(NULL, sizeof(*sc), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		abort();
	is_int(ag_http_init(), AG_OK, "http: init");
	test_keys();
	test_htu();
	test_proof();
	test_nonces();
	test_challenge();
	test_retry();
	return tap_done();
}
