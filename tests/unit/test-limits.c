/*
 * test-limits.c -- the limits of lib/ag_limits.h that live in pure
 * functions and had no test at the bound and one past it (issue 5).
 *
 * Every constant of ag_limits.h, its value, and where it is tested at the
 * bound and one past it ("here" is this file; tests/integration/ is
 * abbreviated i/; "at+past" means both sides of the bound).
 *
 * AG_MAX_REQUEST_BODY    65536   here (CONTENT_LENGTH at+past); i/attacks
 *                                "storage ids and back-channel POST ..."
 *                                (a body of exactly the limit, one past: 413)
 * AG_MAX_COOKIE_HEADER   65536   here (ag_req_fill at+past); test-cookie.c
 *                                (parser at+past); i/limits (CGI at+past)
 * AG_MAX_COOKIES         200     test-cookie.c (200th kept, 201st not);
 *                                i/attacks "cookies: AG_MAX_COOKIES ..."
 * AG_MAX_COOKIE_VALUE    8192    test-cookie.c (at+past); i/limits (CGI
 *                                at+past)
 * AG_MAX_QUERY           16384   test-url.c (at); here (ag_req_prepare
 *                                at+past); i/limits (CGI at+past: 307/400)
 * AG_MAX_PARAMS          64      test-url.c (at+past); i/attacks (at+past)
 * AG_MAX_RETURN_TO       2048    test-url.c (at+past); i/attacks (at+past)
 * AG_MAX_HEADER_VALUE    8192    here (every header ag_req_fill reads, and
 *                                ag_http_header_ok, at+past)
 * AG_COOKIE_CHUNK_SIZE   3500    test-session.c (chunks exactly the size,
 *                                the last one at most)
 * AG_MAX_SESSION_CHUNKS  10      test-session.c "cap: ..." (largest session
 *                                uses exactly 10; one byte more refused);
 *                                i/attacks "session chunks: ..."
 * AG_MAX_SESSION_JSON    35000   test-crypto.c (unseal at+past)
 * AG_TXN_TOTAL_MAX       3500    test-session.c "evict: ..." (within, and
 *                                no more deleted than needed); i/attacks
 *                                "transaction cookies: 60 logins ..."
 * AG_TXN_MAX_AGE         3600    test-session.c (+3614 s good, +3615 s
 *                                expired, with AG_JWE_LEEWAY); i/limits
 *                                (test clock, exp + 14 s / exp + 15 s)
 * AG_MAX_IDP_RESPONSE    1 MiB   test-oidc.c, test-jwt.c (past); i/limits
 *                                (discovery and JWKS of exactly N and N+1
 *                                bytes from tests/idp/hostile.mjs "sized")
 * AG_MAX_JWKS_KEYS       64      test-jwt.c (key 64 kept, 65 not); i/limits
 *                                (the signing key as key 64 / 65)
 * AG_MAX_JWT             65536   here (at+past); test-jwt.c, test-crypto.c
 *                                (past)
 * AG_MAX_JSON_DEPTH      32      test-json-limits.c (at+past)
 * AG_JWKS_REFETCH_MIN    60      test-oidc.c (none right after a fetch,
 *                                one at +61 s, 1000 unknown kids: none);
 *                                i/attacks (callback flood), i/limits
 *                                (back-channel logout flood)
 * AG_DISCOVERY_TTL       600     test-oidc.c (TTL - 1 s cached, TTL
 *                                refetched)
 * AG_JWKS_TTL            600     test-oidc.c (refetched at the TTL)
 * AG_MAX_FETCH_RESPONSE  8 MiB   i/limits (exactly N printed; N+1: exit 1,
 *                                nothing printed)
 * AG_MAX_FETCH_BODY      8 MiB   i/limits (--data-file at+past)
 * AG_MAX_FETCH_HEADERS   32      i/limits (32 sent; 33: exit 2)
 * AG_BCLOGOUT_MAX_AGE    600     test-bclogout.c (iat at the bound - 1 and
 *                                at the bound, with AG_JWT_LEEWAY)
 * AG_BCLOGOUT_MAX_JTI    256     test-bclogout.c (at+past)
 * AG_MAX_CONF_FILE       256 KiB here (at+past); test-conf.c (past)
 * AG_MAX_CONF_LINE       4096    here (at+past); test-conf.c (at)
 * AG_MAX_CONF_KEYS       256     test-conf.c (exactly 256 kept; 10,000)
 * AG_MAX_CLAIM_VALUE     32768   test-cgienv.c (at+past)
 * AG_MAX_CLAIMS          256     here (at+past); test-cgienv.c (500)
 * AG_MAX_ENV_TOTAL       96 KiB  here (a claim filling it exactly, one
 *                                byte more left out); test-cgienv.c
 * AG_MAX_CLAIM_NAME      128     test-cgienv.c (at+past)
 * AG_MAX_CLAIMS_JSON     65536   here (at+past)
 * AG_JWE_LEEWAY          15      test-crypto.c, test-session.c (exp 14 s
 *                                ago good, 15 s expired)
 * AG_JWT_LEEWAY          30      test-oidc.c, test-bclogout.c (one second
 *                                past the leeway refused)
 * AG_REFRESH_LOCK_SECS   5       test-token.c (lock held for lock_secs;
 *                                a stale lock taken over); timing, not a
 *                                size: no one-second boundary test
 * AG_REFRESH_KEEP_SECS   30      test-token.c (outcome served while fresh,
 *                                MINE again at KEEP + 1 s)
 * AG_REFRESH_POLL_MS     100     timing only; i/tokens-burst (one refresh
 *                                for parallel requests)
 * AG_REFRESH_WAIT_EXTRA_SECS 3   timing only; not tested at the bound
 * AG_REFRESH_HOPS        4       test-token.c (rotations followed); no
 *                                test of exactly 4 and 5 hops
 * AG_IPSIE_LEEWAY        30      test-token.c "IPSIE ceiling", test-session.c
 *                                (sessionExpiresAt 30 s early)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "cgienv.h"
#include "conf.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "jwt.h"
#include "req.h"

#include "tap.h"

/* A request's CGI parameters: NULL-terminated name, value pairs. */
struct params {
	const char *kv[16];
};

static const char *
getter(const char *name, void *ctx)
{
	const struct params *p = ctx;
	size_t i;

	for (i = 0; p->kv[i] != NULL; i += 2)
		if (strcmp(p->kv[i], name) == 0)
			return p->kv[i + 1];
	return NULL;
}

/* n bytes of c, NUL-terminated; the caller frees. */
static char *
filled(size_t n, char c)
{
	char *s;

	if ((s = malloc(n + 1)) == NULL) {
		perror("malloc");
		exit(1);
	}
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Fill a request from one parameter (plus the method and URI). */
static void
fill_one(struct ag_req *r, const char *name, const char *value)
{
	static char path[AG_MAX_QUERY];
	struct params p = { { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/auth/profile", NULL, NULL, NULL } };

	p.kv[4] = name;
	p.kv[5] = value;
	ag_req_fill(r, getter, &p, path, sizeof(path));
}

/*
 * AG_MAX_HEADER_VALUE (each header ag_req_fill reads), AG_MAX_COOKIE_HEADER
 * (HTTP_COOKIE), AG_MAX_REQUEST_BODY (CONTENT_LENGTH) and AG_MAX_QUERY
 * (QUERY_STRING, through ag_req_prepare): at the bound kept, one past
 * dropped or flagged.
 */
static void
test_request(void)
{
	static const struct {
		const char	*name;
		size_t		 off;	/* of the field in struct ag_req */
	} hdr[] = {
		{ "HTTP_ACCEPT", offsetof(struct ag_req, accept) },
		{ "HTTP_SEC_FETCH_MODE", offsetof(struct ag_req, sec_fetch_mode) },
		{ "HTTP_X_REQUESTED_WITH",
		    offsetof(struct ag_req, x_requested_with) },
		{ "HTTP_SEC_PURPOSE", offsetof(struct ag_req, sec_purpose) },
		{ "HTTP_PURPOSE", offsetof(struct ag_req, sec_purpose) },
		{ "CONTENT_TYPE", offsetof(struct ag_req, content_type) },
		{ "HTTP_AUTHORIZATION", offsetof(struct ag_req, authorization) },
		{ "AUTHGATE_MODE", offsetof(struct ag_req, mode) },
	};
	struct ag_req r;
	char *at, *past, name[128];
	const char *got;
	size_t i;

	at = filled(AG_MAX_HEADER_VALUE, 'h');
	past = filled(AG_MAX_HEADER_VALUE + 1, 'h');
	for (i = 0; i < sizeof(hdr) / sizeof(*hdr); i++) {
		fill_one(&r, hdr[i].name, at);
		got = *(const char **)((char *)&r + hdr[i].off);
		snprintf(name, sizeof(name), "%s of AG_MAX_HEADER_VALUE bytes "
		    "kept", hdr[i].name);
		ok(got == at, name);
		fill_one(&r, hdr[i].name, past);
		got = *(const char **)((char *)&r + hdr[i].off);
		snprintf(name, sizeof(name), "%s of AG_MAX_HEADER_VALUE + 1 "
		    "bytes dropped", hdr[i].name);
		ok(got == NULL, name);
	}
	free(at);
	free(past);

	/* The Cookie header: at the bound parsed, one past not even read. */
	at = filled(AG_MAX_COOKIE_HEADER, ';');
	memcpy(at, "__session=v", 11);
	fill_one(&r, "HTTP_COOKIE", at);
	ok(r.cookie == at, "HTTP_COOKIE of AG_MAX_COOKIE_HEADER bytes kept");
	ag_req_prepare(&r);
	is_str(ag_cookies_get(&r.cookies, "__session"), "v",
	    "... and its cookies parsed");
	ag_req_free(&r);
	past = filled(AG_MAX_COOKIE_HEADER + 1, ';');
	memcpy(past, "__session=v", 11);
	fill_one(&r, "HTTP_COOKIE", past);
	ok(r.cookie == NULL, "HTTP_COOKIE of AG_MAX_COOKIE_HEADER + 1 bytes "
	    "dropped");
	ag_req_prepare(&r);
	is_str(ag_cookies_get(&r.cookies, "__session"), NULL,
	    "... so there is no session cookie");
	ag_req_free(&r);
	free(at);
	free(past);

	/* The request body, as announced by CONTENT_LENGTH. */
	snprintf(name, sizeof(name), "%d", AG_MAX_REQUEST_BODY);
	fill_one(&r, "CONTENT_LENGTH", name);
	is_int(r.body_too_large, 0, "CONTENT_LENGTH of AG_MAX_REQUEST_BODY: "
	    "within the limit");
	snprintf(name, sizeof(name), "%d", AG_MAX_REQUEST_BODY + 1);
	fill_one(&r, "CONTENT_LENGTH", name);
	is_int(r.body_too_large, 1, "CONTENT_LENGTH of AG_MAX_REQUEST_BODY + "
	    "1: too large");
	fill_one(&r, "CONTENT_LENGTH", "18446744073709551617");
	is_int(r.body_too_large, 1, "CONTENT_LENGTH past 2^64: too large");

	/* The query string. */
	at = filled(AG_MAX_QUERY, 'q');
	memcpy(at, "k=", 2);
	fill_one(&r, "QUERY_STRING", at);
	ag_req_prepare(&r);
	is_int(r.params_err, AG_OK, "QUERY_STRING of AG_MAX_QUERY bytes "
	    "parsed");
	ok(ag_params_get(&r.params, "k") != NULL &&
	    strlen(ag_params_get(&r.params, "k")) == AG_MAX_QUERY - 2,
	    "... whole");
	ag_req_free(&r);
	past = filled(AG_MAX_QUERY + 1, 'q');
	memcpy(past, "k=", 2);
	fill_one(&r, "QUERY_STRING", past);
	ag_req_prepare(&r);
	is_int(r.params_err, AG_ERR_LIMIT, "QUERY_STRING of AG_MAX_QUERY + 1 "
	    "bytes refused");
	is_str(ag_params_get(&r.params, "k"), NULL, "... no parameter kept");
	ag_req_free(&r);
	free(at);
	free(past);
}

/*
 * AG_MAX_HEADER_VALUE on the way out: an extra header line for a request
 * to the provider or an API (authgate fetch --header).
 */
static void
test_extra_header(void)
{
	char *line;

	line = filled(AG_MAX_HEADER_VALUE, 'x');
	memcpy(line, "X-Pad: ", 7);
	is_int(ag_http_header_ok(line), 1, "header line of "
	    "AG_MAX_HEADER_VALUE bytes accepted");
	free(line);
	line = filled(AG_MAX_HEADER_VALUE + 1, 'x');
	memcpy(line, "X-Pad: ", 7);
	is_int(ag_http_header_ok(line), 0, "header line of "
	    "AG_MAX_HEADER_VALUE + 1 bytes refused");
	free(line);
}

static void
session_of(struct ag_env_session *s, ag_json *user)
{
	memset(s, 0, sizeof(*s));
	s->user = user;
	s->session_expires = 2000000000;
}

/* The bytes an environment entry "NAME=value" counts for, NUL included. */
static size_t
entry_size(const char *name, const char *value)
{
	return strlen(name) + 1 + strlen(value) + 1;
}

/*
 * OIDC_CLAIMS_JSON of exactly AG_MAX_CLAIMS_JSON bytes is set, one more is
 * left out.  The padding claim is longer than AG_MAX_CLAIM_VALUE, so it
 * is no variable of its own but stays in the JSON: the environment total
 * is not what refuses it.
 */
static void
test_claims_json(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;
	const char *dump;
	char *pad;
	size_t over, len;
	int extra;

	for (extra = 0; extra <= 1; extra++) {
		user = ag_json_object();
		(void)ag_json_set_str(user, "sub", "u");
		(void)ag_json_set_str(user, "pad", "");
		if ((dump = ag_json_dump(user)) == NULL)
			break;
		/* Grow the pad so the dump is the limit (+ extra) bytes. */
		over = strlen(dump);
		len = AG_MAX_CLAIMS_JSON + extra - over;
		pad = filled(len, 'p');
		(void)ag_json_set_str(user, "pad", pad);
		dump = ag_json_dump(user);
		is_int(dump != NULL ? strlen(dump) : 0,
		    AG_MAX_CLAIMS_JSON + extra, extra ?
		    "claims JSON of AG_MAX_CLAIMS_JSON + 1 bytes built" :
		    "claims JSON of AG_MAX_CLAIMS_JSON bytes built");
		session_of(&s, user);
		ag_env_init(&e);
		is_int(ag_env_add_session(&e, &s), AG_OK, "claims JSON: added");
		is_str(ag_env_get(&e, "OIDC_CLAIM_pad"), NULL,
		    "claims JSON: the pad is no variable");
		ok(e.total <= AG_MAX_ENV_TOTAL, "claims JSON: under the total");
		if (extra)
			is_str(ag_env_get(&e, "OIDC_CLAIMS_JSON"), NULL,
			    "OIDC_CLAIMS_JSON of AG_MAX_CLAIMS_JSON + 1 bytes "
			    "left out");
		else
			ok(ag_env_get(&e, "OIDC_CLAIMS_JSON") != NULL &&
			    strlen(ag_env_get(&e, "OIDC_CLAIMS_JSON")) ==
			    AG_MAX_CLAIMS_JSON,
			    "OIDC_CLAIMS_JSON of AG_MAX_CLAIMS_JSON bytes set");
		is_str(ag_env_get(&e, "OIDC_CLAIM_sub"), "u",
		    "claims JSON: sub set either way");
		ag_env_free(&e);
		ag_json_free(user);
		free(pad);
	}
}

/*
 * AG_MAX_ENV_TOTAL: a last claim that brings the environment to exactly
 * the limit is set; one byte more and it is left out.  Claims x1 and x2
 * fill most of it; x3 is sized from what the first pass measured.
 */
static void
test_env_total(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;
	const char *json;
	char *big, *x3;
	size_t base, len;
	int extra;

	big = filled(AG_MAX_CLAIM_VALUE, 'b');
	user = ag_json_object();
	(void)ag_json_set_str(user, "sub", "u");
	(void)ag_json_set_str(user, "x1", big);
	(void)ag_json_set_str(user, "x2", big);
	session_of(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "env total: base added");
	/* OIDC_CLAIMS_JSON (over 64 KB) is left out. */
	json = ag_env_get(&e, "OIDC_CLAIMS_JSON");
	base = e.total - (json != NULL ?
	    entry_size("OIDC_CLAIMS_JSON", json) : 0);
	ag_env_free(&e);
	len = AG_MAX_ENV_TOTAL - base - entry_size("OIDC_CLAIM_x3", "");
	/* So that only the total, not AG_MAX_CLAIM_VALUE, can refuse x3. */
	ok(base < AG_MAX_ENV_TOTAL && len + 1 <= AG_MAX_CLAIM_VALUE,
	    "env total: x3 is under AG_MAX_CLAIM_VALUE either way");

	for (extra = 0; extra <= 1; extra++) {
		x3 = filled(len + extra, 'c');
		(void)ag_json_set_str(user, "x3", x3);
		ag_env_init(&e);
		is_int(ag_env_add_session(&e, &s), AG_OK, "env total: added");
		if (extra) {
			is_str(ag_env_get(&e, "OIDC_CLAIM_x3"), NULL,
			    "a claim one byte past AG_MAX_ENV_TOTAL left out");
			is_int(e.total, base, "... the total unchanged");
		} else {
			ok(ag_env_get(&e, "OIDC_CLAIM_x3") != NULL,
			    "a claim filling AG_MAX_ENV_TOTAL exactly set");
			is_int(e.total, AG_MAX_ENV_TOTAL,
			    "... the total is the limit");
		}
		ok(ag_env_get(&e, "OIDC_CLAIM_x1") != NULL &&
		    ag_env_get(&e, "OIDC_CLAIM_x2") != NULL,
		    "env total: x1 and x2 set");
		ag_env_free(&e);
		free(x3);
	}
	ag_json_free(user);
	free(big);
}

/* AG_MAX_CLAIMS claims all set; one more and the last is left out. */
static void
test_claim_count(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;
	char name[32];
	size_t i, set;
	int extra;

	for (extra = 0; extra <= 1; extra++) {
		user = ag_json_object();
		(void)ag_json_set_str(user, "sub", "u");
		/* sub and c000..: AG_MAX_CLAIMS (+ extra) claims in all. */
		for (i = 0; i + 1 < (size_t)AG_MAX_CLAIMS + extra; i++) {
			snprintf(name, sizeof(name), "c%03zu", i);
			(void)ag_json_set_str(user, name, "1");
		}
		session_of(&s, user);
		ag_env_init(&e);
		is_int(ag_env_add_session(&e, &s), AG_OK, "claim count: added");
		for (i = 0, set = 0; i < e.n; i++)
			if (strncmp(e.v[i], "OIDC_CLAIM_", 11) == 0)
				set++;
		is_int(set, AG_MAX_CLAIMS, extra ?
		    "AG_MAX_CLAIMS + 1 claims: AG_MAX_CLAIMS set" :
		    "AG_MAX_CLAIMS claims: all set");
		snprintf(name, sizeof(name), "OIDC_CLAIM_c%03d",
		    AG_MAX_CLAIMS - 2 + extra);
		if (extra)
			is_str(ag_env_get(&e, name), NULL,
			    "... the last in name order left out");
		else
			is_str(ag_env_get(&e, name), "1",
			    "... the last in name order set");
		ag_env_free(&e);
		ag_json_free(user);
	}
}

/*
 * The configuration: a file of exactly AG_MAX_CONF_FILE bytes is read,
 * one more is refused whole; a line of AG_MAX_CONF_LINE bytes is kept,
 * one more is a syntax problem.
 */
static void
test_conf(void)
{
	static char *const noenv[] = { NULL };
	struct ag_conf c;
	struct ag_buf p;
	char *text;
	size_t n;
	int extra;

	for (extra = 0; extra <= 1; extra++) {
		/* "audience = yyy...\n", then "#" comment lines, to the byte. */
		n = AG_MAX_CONF_FILE + extra;
		text = filled(n, '#');
		memcpy(text, "audience = ", 11);
		memset(text + 11, 'y', AG_MAX_CONF_LINE + extra - 11);
		text[AG_MAX_CONF_LINE + extra] = '\n';
		text[n - 1] = '\n';
		memset(&c, 0, sizeof(c));
		ag_buf_init(&p, 0);
		(void)ag_conf_parse(&c, text, n, noenv, &p);
		if (extra) {
			ok(strstr(ag_buf_str(&p), "file larger than") != NULL,
			    "conf: AG_MAX_CONF_FILE + 1 bytes refused");
		} else {
			ok(strstr(ag_buf_str(&p), "larger than") == NULL,
			    "conf: AG_MAX_CONF_FILE bytes read");
			ok(c.audience != NULL && strlen(c.audience) ==
			    AG_MAX_CONF_LINE - 11,
			    "conf: a line of AG_MAX_CONF_LINE bytes kept");
		}
		ag_conf_free(&c);
		ag_buf_free(&p);
		free(text);
	}
	/* The line alone one past, in a small file. */
	text = filled(AG_MAX_CONF_LINE + 2, 'y');
	memcpy(text, "audience = ", 11);
	text[AG_MAX_CONF_LINE + 1] = '\n';
	memset(&c, 0, sizeof(c));
	ag_buf_init(&p, 0);
	(void)ag_conf_parse(&c, text, AG_MAX_CONF_LINE + 2, noenv, &p);
	ok(strstr(ag_buf_str(&p), "line longer than") != NULL,
	    "conf: a line of AG_MAX_CONF_LINE + 1 bytes refused");
	ok(c.audience == NULL, "conf: ... and its value not kept");
	ag_conf_free(&c);
	ag_buf_free(&p);
	free(text);
}

/* A compact JWS of exactly AG_MAX_JWT bytes is parsed, one more refused. */
static void
test_jwt(void)
{
	struct ag_jwt *jwt = NULL;
	char *s;
	/* {"alg":"RS256"}.{"sub":"u"}. and a signature to the byte. */
	static const char head[] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.";

	s = filled(AG_MAX_JWT + 1, 'A');
	memcpy(s, head, sizeof(head) - 1);
	is_int(ag_jwt_parse(s, AG_MAX_JWT, &jwt), AG_OK,
	    "jwt: AG_MAX_JWT bytes parsed");
	ag_jwt_free(jwt);
	jwt = NULL;
	is_int(ag_jwt_parse(s, AG_MAX_JWT + 1, &jwt), AG_ERR_LIMIT,
	    "jwt: AG_MAX_JWT + 1 bytes refused");
	ok(jwt == NULL, "jwt: nothing parsed");
	free(s);
}

int
main(void)
{
	test_request();
	test_extra_header();
	test_claims_json();
	test_env_total();
	test_claim_count();
	test_conf();
	test_jwt();
	return tap_done();
}
