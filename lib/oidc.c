/*
 * oidc.c -- the relying-party protocol steps.  See oidc.h.
 *
 * Per process (there are no threads): the discovery document, cached
 * for AG_DISCOVERY_TTL; the JWKS, fetched when first needed, cached for
 * AG_JWKS_TTL and refetched on an unknown kid at most once per
 * AG_JWKS_REFETCH_MIN seconds whatever the number of unknown kids; the
 * private_key_jwt signing key, loaded on first use.
 *
 * Every failure writes one line into why that names the step; values
 * that came from the network are reduced to printable ASCII and cut
 * before they are quoted, and tokens, codes and secrets never are.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "dpop.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "jwt.h"
#include "ag_limits.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "url.h"

#define CLIENT_ASSERTION_TYPE \
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define CLIENT_ASSERTION_TTL	60
#define MAX_ENDPOINT		2048	/* bytes of one endpoint URL */
#define MAX_QUOTED		96	/* bytes of a network value in why */
#define MAX_AUTHZ_PARAMS	(AG_MAX_PARAMS + 16)

struct ag_oidc {
	const struct ag_conf	*conf;
	struct ag_provider	 prov;
	int			 have_prov;
	struct ag_jwks		*jwks;
	char			*jwks_uri;	/* the URI jwks came from */
	int64_t			 jwks_fetched_at;
	int64_t			 jwks_forced_at; /* last forced refetch */
	struct ag_key		*assertion_key;
	struct ag_dpop		*dpop;		/* dpop = on: the key, nonces */
};

/* Write the reason, return err.  why may be NULL. */
static int __attribute__((format(printf, 3, 4)))
fail(char *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL) {
		va_start(ap, fmt);
		vsnprintf(why, AG_WHY_LEN, fmt, ap);
		va_end(ap);
	}
	return err;
}

/*
 * A network-supplied string made fit for a log line: printable ASCII
 * only ('?' for the rest), cut at n - 1 bytes.  Returns dst.
 */
static const char *
quote(char *dst, size_t n, const char *src)
{
	size_t i;

	if (src == NULL)
		src = "(none)";
	for (i = 0; i + 1 < n && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
	return dst;
}

/* ------------------------------------------------------------------ */
/* Discovery                                                          */

void
ag_provider_clear(struct ag_provider *p)
{
	if (p == NULL)
		return;
	free(p->issuer);
	free(p->authorization_endpoint);
	free(p->token_endpoint);
	free(p->userinfo_endpoint);
	free(p->jwks_uri);
	free(p->end_session_endpoint);
	free(p->revocation_endpoint);
	free(p->par_endpoint);
	free(p->backchannel_authentication_endpoint);
	memset(p, 0, sizeof(*p));
}

/* An absolute https URL (http too when allowed) with a host, no fragment. */
static int
endpoint_ok(const char *url, int allow_http)
{
	const unsigned char *p;
	size_t skip;

	if (strlen(url) > MAX_ENDPOINT)
		return 0;
	for (p = (const unsigned char *)url; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '#' || *p == '\\')
			return 0;
	if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else if (allow_http && strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	/* A host must follow; no userinfo. */
	if (url[skip] == '\0' || url[skip] == '/' || url[skip] == '?' ||
	    url[skip] == ':')
		return 0;
	p = (const unsigned char *)url + skip;
	while (*p != '\0' && *p != '/' && *p != '?') {
		if (*p == '@')
			return 0;
		p++;
	}
	return 1;
}

/*
 * Copy endpoint name from doc into *dst.  Absent: AG_OK with *dst NULL
 * unless required.
 */
static int
get_endpoint(const ag_json *doc, const char *name, int required,
    int allow_http, char **dst, char *why)
{
	ag_json *v;
	const char *s;

	*dst = NULL;
	if ((v = ag_json_get(doc, name)) == NULL ||
	    ag_json_type(v) == AG_JSON_NULL) {
		if (required)
			return fail(why, AG_ERR_PARSE,
			    "discovery: %s missing", name);
		return AG_OK;
	}
	if ((s = ag_json_str(v)) == NULL)
		return fail(why, AG_ERR_PARSE, "discovery: %s not a string",
		    name);
	if (!endpoint_ok(s, allow_http))
		return fail(why, AG_ERR_PARSE, "discovery: %s is not an "
		    "absolute %s URL", name, allow_http ? "http(s)" : "https");
	if ((*dst = strdup(s)) == NULL)
		return fail(why, AG_ERR_NOMEM, "discovery: out of memory");
	return AG_OK;
}

/* id_token_signing_alg_values_supported: known algs only, never none/HS*. */
static int
parse_algs(const ag_json *doc, unsigned *mask, char *why)
{
	ag_json *list;
	const char *name;
	size_t i, n;
	int alg;

	*mask = 0;
	list = ag_json_get(doc, "id_token_signing_alg_values_supported");
	if (list == NULL || ag_json_type(list) == AG_JSON_NULL) {
		*mask = AG_ALG_BIT(AG_ALG_RS256);
		return AG_OK;
	}
	if (ag_json_type(list) != AG_JSON_ARRAY)
		return fail(why, AG_ERR_PARSE, "discovery: "
		    "id_token_signing_alg_values_supported not an array");
	n = ag_json_array_len(list);
	for (i = 0; i < n && i < 64; i++) {
		if ((name = ag_json_str(ag_json_array_get(list, i))) == NULL)
			continue;
		/* ag_alg_parse never names none or an HMAC alg. */
		if ((alg = ag_alg_parse(name)) >= 0 && alg < AG_ALG__MAX)
			*mask |= AG_ALG_BIT(alg);
	}
	if (*mask == 0)
		return fail(why, AG_ERR_VERIFY, "discovery: no supported "
		    "id_token signing algorithm advertised");
	return AG_OK;
}

int
ag_discovery_parse(const char *s, size_t n, const char *expected_issuer,
    int allow_http, struct ag_provider *out, char *why)
{
	struct ag_provider p;
	ag_json *doc = NULL;
	const char *iss;
	char got[MAX_QUOTED], want[MAX_QUOTED];
	int r, b;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	if ((r = ag_json_parse(s, n, AG_MAX_IDP_RESPONSE, &doc)) != AG_OK) {
		r = fail(why, r, "discovery: %s", r == AG_ERR_LIMIT ?
		    "document too large" : "not JSON");
		goto out;
	}
	if (ag_json_type(doc) != AG_JSON_OBJECT) {
		r = fail(why, AG_ERR_PARSE, "discovery: not a JSON object");
		goto out;
	}
	if ((iss = ag_json_get_str(doc, "issuer")) == NULL) {
		r = fail(why, AG_ERR_PARSE, "discovery: issuer missing");
		goto out;
	}
	if (expected_issuer == NULL || strcmp(iss, expected_issuer) != 0) {
		r = fail(why, AG_ERR_VERIFY, "discovery: issuer mismatch "
		    "(got %s, want %s)", quote(got, sizeof(got), iss),
		    quote(want, sizeof(want), expected_issuer));
		goto out;
	}
	if ((p.issuer = strdup(iss)) == NULL) {
		r = fail(why, AG_ERR_NOMEM, "discovery: out of memory");
		goto out;
	}
	if ((r = get_endpoint(doc, "authorization_endpoint", 1, allow_http,
	    &p.authorization_endpoint, why)) != AG_OK ||
	    (r = get_endpoint(doc, "token_endpoint", 1, allow_http,
	    &p.token_endpoint, why)) != AG_OK ||
	    (r = get_endpoint(doc, "jwks_uri", 1, allow_http,
	    &p.jwks_uri, why)) != AG_OK ||
	    (r = get_endpoint(doc, "userinfo_endpoint", 0, allow_http,
	    &p.userinfo_endpoint, why)) != AG_OK ||
	    (r = get_endpoint(doc, "end_session_endpoint", 0, allow_http,
	    &p.end_session_endpoint, why)) != AG_OK ||
	    (r = get_endpoint(doc, "revocation_endpoint", 0, allow_http,
	    &p.revocation_endpoint, why)) != AG_OK ||
	    (r = get_endpoint(doc, "pushed_authorization_request_endpoint", 0,
	    allow_http, &p.par_endpoint, why)) != AG_OK ||
	    (r = get_endpoint(doc, "backchannel_authentication_endpoint", 0,
	    allow_http, &p.backchannel_authentication_endpoint, why)) !=
	    AG_OK)
		goto out;
	if ((r = parse_algs(doc, &p.id_token_algs, why)) != AG_OK)
		goto out;
	/* Only a JSON true turns these on. */
	if (ag_json_get_bool(doc,
	    "authorization_response_iss_parameter_supported", &b) == AG_OK)
		p.iss_parameter_supported = b;
	if (ag_json_get_bool(doc, "backchannel_logout_supported", &b) == AG_OK)
		p.backchannel_logout_supported = b;
	p.fetched_at = ag_now();
	*out = p;
	memset(&p, 0, sizeof(p));
	r = AG_OK;
 out:
	ag_provider_clear(&p);
	ag_json_free(doc);
	return r;
}

/* ------------------------------------------------------------------ */
/* Per-process state and HTTP                                         */

int
ag_oidc_new(const struct ag_conf *conf, struct ag_oidc **out)
{
	struct ag_oidc *o;

	*out = NULL;
	if (conf == NULL || conf->issuer == NULL || conf->client_id == NULL)
		return AG_ERR_CONFIG;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return AG_ERR_NOMEM;
	o->conf = conf;
	*out = o;
	return AG_OK;
}

void
ag_oidc_free(struct ag_oidc *o)
{
	if (o == NULL)
		return;
	ag_provider_clear(&o->prov);
	ag_jwks_free(o->jwks);
	free(o->jwks_uri);
	ag_key_free(o->assertion_key);
	ag_dpop_free(o->dpop);
	free(o);
}

int
ag_oidc_dpop_init(struct ag_oidc *o, char *why)
{
	if (!o->conf->dpop || o->dpop != NULL)
		return AG_OK;
	return ag_dpop_load(o->conf->dpop_key, NULL, &o->dpop, why);
}

struct ag_dpop *
ag_oidc_dpop(struct ag_oidc *o)
{
	return o->dpop;
}

void
ag_oidc_http_req(const struct ag_conf *c, struct ag_http_req *req,
    const char *method, const char *url, const char *json)
{
	memset(req, 0, sizeof(*req));
	req->method = method;
	req->url = url;
	req->timeout_ms = c->http_timeout_ms;
	req->allow_http = c->allow_insecure;
	req->ca_file = c->http_ca_file;
	if (json != NULL) {
		req->body = json;
		req->body_len = strlen(json);
		req->content_type = "application/json";
	}
}

/* The result r of an HTTP call to the provider, with why on failure. */
static int
http_result(int r, const struct ag_http_resp *resp, const char *step,
    char *why)
{
	if (r == AG_ERR_LIMIT)
		return fail(why, r, "%s: response larger than %d bytes", step,
		    AG_MAX_IDP_RESPONSE);
	if (r != AG_OK)
		return fail(why, AG_ERR_HTTP, "%s: %s", step, resp->error);
	return AG_OK;
}

/*
 * One request to the provider with the configured network settings;
 * with access_token (a DPoP-bound one) under d, through ag_dpop_http:
 * a proof with ath and the one nonce retry.
 */
static int
op_send(struct ag_oidc *o, const char *method, const char *url,
    const char *body, const char *authorization, const char *proof,
    struct ag_dpop *d, const char *access_token, struct ag_http_resp *resp,
    const char *step, char *why)
{
	struct ag_http_req req;
	int r;

	ag_oidc_http_req(o->conf, &req, method, url, NULL);
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.authorization = authorization;
	req.dpop = proof;
	if (d != NULL)
		r = ag_dpop_http(d, &req, access_token, resp);
	else
		r = ag_http_do(&req, resp);
	return http_result(r, resp, step, why);
}

/* One request to the provider with the configured network settings. */
static int
op_request(struct ag_oidc *o, const char *method, const char *url,
    const char *body, const char *authorization, struct ag_http_resp *resp,
    const char *step, char *why)
{
	return op_send(o, method, url, body, authorization, NULL, NULL, NULL,
	    resp, step, why);
}

static int
fetch_provider(struct ag_oidc *o, struct ag_provider *p, char *why)
{
	struct ag_http_resp resp;
	struct ag_buf url;
	const char *iss = o->conf->issuer;
	size_t n = strlen(iss);
	int r;

	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&url, MAX_ENDPOINT + 64);
	if ((r = ag_buf_printf(&url, "%s%s.well-known/openid-configuration",
	    iss, n > 0 && iss[n - 1] == '/' ? "" : "/")) != AG_OK) {
		r = fail(why, r, "discovery: issuer too long");
		goto out;
	}
	if ((r = op_request(o, "GET", ag_buf_str(&url), NULL, NULL, &resp,
	    "discovery", why)) != AG_OK)
		goto out;
	if (resp.status != 200) {
		r = fail(why, AG_ERR_PROVIDER, "discovery: HTTP %ld",
		    resp.status);
		goto out;
	}
	r = ag_discovery_parse(ag_buf_str(&resp.body), resp.body.len, iss,
	    o->conf->allow_insecure, p, why);
 out:
	ag_http_resp_free(&resp);
	ag_buf_free(&url);
	return r;
}

int
ag_oidc_provider(struct ag_oidc *o, const struct ag_provider **out,
    char *why)
{
	struct ag_provider p;
	int64_t now = ag_now();
	int r;

	*out = NULL;
	if (o->have_prov && now >= o->prov.fetched_at &&
	    now - o->prov.fetched_at < AG_DISCOVERY_TTL) {
		*out = &o->prov;
		return AG_OK;
	}
	if ((r = fetch_provider(o, &p, why)) != AG_OK) {
		/* Failures are not cached; a stale document still serves. */
		if (o->have_prov) {
			ag_warn("discovery: refresh failed, keeping the "
			    "cached document: %s", why != NULL ? why : "");
			*out = &o->prov;
			return AG_OK;
		}
		return r;
	}
	ag_provider_clear(&o->prov);
	o->prov = p;
	o->have_prov = 1;
	*out = &o->prov;
	return AG_OK;
}

/* ------------------------------------------------------------------ */
/* JWKS                                                               */

static int
fetch_jwks(struct ag_oidc *o, const char *uri, char *why)
{
	struct ag_http_resp resp;
	struct ag_jwks *jwks = NULL;
	char *u = NULL;
	int r;

	memset(&resp, 0, sizeof(resp));
	if ((r = op_request(o, "GET", uri, NULL, NULL, &resp, "jwks",
	    why)) != AG_OK)
		goto out;
	if (resp.status != 200) {
		r = fail(why, AG_ERR_PROVIDER, "jwks: HTTP %ld", resp.status);
		goto out;
	}
	if ((r = ag_jwks_parse(ag_buf_str(&resp.body), resp.body.len,
	    &jwks)) != AG_OK) {
		r = fail(why, r, "jwks: not a JWK set");
		goto out;
	}
	if ((u = strdup(uri)) == NULL) {
		r = fail(why, AG_ERR_NOMEM, "jwks: out of memory");
		goto out;
	}
	ag_jwks_free(o->jwks);
	free(o->jwks_uri);
	o->jwks = jwks;
	o->jwks_uri = u;
	o->jwks_fetched_at = ag_now();
	jwks = NULL;
	u = NULL;
	ag_debug("jwks: fetched, %zu usable keys", ag_jwks_count(o->jwks));
 out:
	ag_jwks_free(jwks);
	free(u);
	ag_http_resp_free(&resp);
	return r;
}

/*
 * The provider's JWKS: fetched if absent, stale or from another URI.
 * force asks for a refetch (unknown kid); it is granted at most once per
 * AG_JWKS_REFETCH_MIN seconds since the last fetch of any kind, and
 * *refetched says whether it happened.  A failed refresh of a cached set
 * keeps the old keys.
 */
static int
get_jwks(struct ag_oidc *o, const struct ag_provider *p, int force,
    int *refetched, char *why)
{
	int64_t now = ag_now(), last;
	int r;

	if (refetched != NULL)
		*refetched = 0;
	if (o->jwks == NULL || o->jwks_uri == NULL ||
	    strcmp(o->jwks_uri, p->jwks_uri) != 0)
		return fetch_jwks(o, p->jwks_uri, why);
	if (force) {
		last = o->jwks_fetched_at > o->jwks_forced_at ?
		    o->jwks_fetched_at : o->jwks_forced_at;
		/* Integration tests shorten the wait (test mode only). */
		if (now >= last && now - last < ag_test_knob(
		    "AUTHGATE_TEST_JWKS_REFETCH_MIN", AG_JWKS_REFETCH_MIN))
			return AG_OK;
		/* Counted before the fetch, so failures are throttled too. */
		o->jwks_forced_at = now;
		if ((r = fetch_jwks(o, p->jwks_uri, why)) != AG_OK)
			return r;
		if (refetched != NULL)
			*refetched = 1;
		return AG_OK;
	}
	if (now < o->jwks_fetched_at ||
	    now - o->jwks_fetched_at >= AG_JWKS_TTL) {
		if (fetch_jwks(o, p->jwks_uri, why) != AG_OK)
			ag_warn("jwks: refresh failed, keeping the cached "
			    "keys: %s", why != NULL ? why : "");
	}
	return AG_OK;
}

/* ------------------------------------------------------------------ */
/* Signed JWTs from the provider                                      */

/* The algs an ID token or logout token may use. */
static unsigned
allowed_algs(const struct ag_oidc *o, const struct ag_provider *p)
{
	unsigned conf_algs = o->conf->id_token_algs;

	if (conf_algs == 0)
		conf_algs = AG_ALG_ALL;
	return p->id_token_algs & conf_algs & AG_ALG_ALL;
}

/* 1 when s has the five parts (four dots) of a compact JWE. */
static int
is_jwe(const char *s)
{
	size_t dots = 0;

	for (; *s != '\0'; s++)
		if (*s == '.')
			dots++;
	return dots == 4;
}

/*
 * Parse and verify the signature of a compact JWS from the provider,
 * refetching the JWKS once (throttled) on an unknown kid.  *out owned
 * by the caller.
 */
static int
verify_signature(struct ag_oidc *o, const struct ag_provider *p,
    const char *label, const char *jwt, struct ag_jwt **out, char *why)
{
	struct ag_jwt *t = NULL;
	const char *reason = NULL;
	char kid[MAX_QUOTED];
	size_t n;
	int r, refetched;

	*out = NULL;
	if (jwt == NULL || (n = strlen(jwt)) == 0)
		return fail(why, AG_ERR_VERIFY, "%s: missing", label);
	if (n > AG_MAX_JWT)
		return fail(why, AG_ERR_LIMIT, "%s: longer than %d bytes",
		    label, AG_MAX_JWT);
	if (ag_jwt_parse(jwt, n, &t) != AG_OK)
		return fail(why, AG_ERR_VERIFY, is_jwe(jwt) ?
		    "%s: encrypted (JWE) tokens are not supported" :
		    "%s: malformed JWS", label);
	if (t->alg < 0 || !(allowed_algs(o, p) & AG_ALG_BIT(t->alg))) {
		r = fail(why, AG_ERR_VERIFY, "%s: algorithm not allowed",
		    label);
		goto out;
	}
	if ((r = get_jwks(o, p, 0, NULL, why)) != AG_OK)
		goto out;
	r = ag_jwt_verify(t, o->jwks, allowed_algs(o, p), &reason);
	if (r == AG_ERR_NOTFOUND) {
		if ((r = get_jwks(o, p, 1, &refetched, why)) != AG_OK)
			goto out;
		r = AG_ERR_NOTFOUND;
		if (refetched)
			r = ag_jwt_verify(t, o->jwks, allowed_algs(o, p),
			    &reason);
		if (r == AG_ERR_NOTFOUND) {
			r = fail(why, AG_ERR_VERIFY, "%s: signature invalid "
			    "(no key with kid %s)", label,
			    quote(kid, sizeof(kid), t->kid));
			goto out;
		}
	}
	if (r != AG_OK) {
		r = fail(why, AG_ERR_VERIFY, "%s: signature invalid (%s)",
		    label, reason != NULL ? reason : "bad signature");
		goto out;
	}
	*out = t;
	t = NULL;
 out:
	ag_jwt_free(t);
	return r;
}

/* iss exact, aud contains client_id, azp rules. */
static int
check_iss_aud(const struct ag_oidc *o, const struct ag_provider *p,
    const char *label, const ag_json *claims, char *why)
{
	const char *client_id = o->conf->client_id, *iss, *azp, *a;
	ag_json *aud;
	size_t i, n;
	int found = 0;

	if ((iss = ag_json_get_str(claims, "iss")) == NULL ||
	    strcmp(iss, p->issuer) != 0)
		return fail(why, AG_ERR_VERIFY, "%s: iss mismatch", label);
	aud = ag_json_get(claims, "aud");
	n = 1;
	if (ag_json_type(aud) == AG_JSON_STRING) {
		found = (a = ag_json_str(aud)) != NULL &&
		    strcmp(a, client_id) == 0;
	} else if (ag_json_type(aud) == AG_JSON_ARRAY) {
		n = ag_json_array_len(aud);
		for (i = 0; i < n; i++)
			if ((a = ag_json_str(ag_json_array_get(aud, i))) !=
			    NULL && strcmp(a, client_id) == 0)
				found = 1;
	} else
		return fail(why, AG_ERR_VERIFY, "%s: aud missing", label);
	if (!found)
		return fail(why, AG_ERR_VERIFY, "%s: aud mismatch", label);
	azp = ag_json_get_str(claims, "azp");
	if (ag_json_get(claims, "azp") != NULL &&
	    (azp == NULL || strcmp(azp, client_id) != 0))
		return fail(why, AG_ERR_VERIFY, "%s: azp mismatch", label);
	if (n > 1 && azp == NULL)
		return fail(why, AG_ERR_VERIFY, "%s: azp required with "
		    "several audiences", label);
	return AG_OK;
}

/*
 * A time claim: AG_OK with *out; AG_ERR_NOTFOUND when absent; otherwise
 * AG_ERR_VERIFY (fractions, strings, 1e300 are refused).
 */
static int
time_claim(const ag_json *claims, const char *name, int64_t *out)
{
	ag_json *v;

	if ((v = ag_json_get(claims, name)) == NULL)
		return AG_ERR_NOTFOUND;
	if (ag_json_to_int(v, out) != AG_OK)
		return AG_ERR_VERIFY;
	return AG_OK;
}

/*
 * The left half of the hash of the access token that the ID token's
 * alg implies, base64url, into out.
 */
static int
at_hash_expected(int alg, const char *access_token, struct ag_buf *out)
{
	unsigned char h[64];
	size_t hlen;
	int r;

	switch (alg) {
	case AG_ALG_RS256:
	case AG_ALG_PS256:
	case AG_ALG_ES256:
		hlen = 32;
		r = ag_sha256(access_token, strlen(access_token), h);
		break;
	case AG_ALG_RS384:
	case AG_ALG_PS384:
	case AG_ALG_ES384:
		hlen = 48;
		r = ag_sha(384, access_token, strlen(access_token), h);
		break;
	case AG_ALG_RS512:
	case AG_ALG_PS512:
	case AG_ALG_ES512:
	case AG_ALG_EDDSA:	/* SHA-512 for Ed25519, per the OIDC errata */
		hlen = 64;
		r = ag_sha(512, access_token, strlen(access_token), h);
		break;
	default:
		return AG_ERR_VERIFY;
	}
	if (r == AG_OK)
		r = ag_b64url_encode(out, h, hlen / 2);
	explicit_bzero(h, sizeof(h));
	return r;
}

/* The ID-token-only claim rules (after signature, iss and aud). */
static int
check_id_claims(const struct ag_jwt *t, const struct ag_id_expect *e,
    char *why)
{
	const ag_json *c = t->claims;
	struct ag_buf want;
	const char *s;
	int64_t now = ag_now(), exp, iat, nbf, auth_time;
	int r;

	if ((r = time_claim(c, "exp", &exp)) == AG_ERR_NOTFOUND)
		return fail(why, AG_ERR_VERIFY, "id_token: exp missing");
	if (r != AG_OK)
		return fail(why, AG_ERR_VERIFY, "id_token: exp not an "
		    "integer");
	if (exp <= now - AG_JWT_LEEWAY)
		return fail(why, AG_ERR_VERIFY, "id_token: expired");
	if ((r = time_claim(c, "iat", &iat)) == AG_ERR_NOTFOUND)
		return fail(why, AG_ERR_VERIFY, "id_token: iat missing");
	if (r != AG_OK)
		return fail(why, AG_ERR_VERIFY, "id_token: iat not an "
		    "integer");
	if (iat > now + AG_JWT_LEEWAY)
		return fail(why, AG_ERR_VERIFY, "id_token: iat in the future");
	if ((r = time_claim(c, "nbf", &nbf)) == AG_OK) {
		if (nbf > now + AG_JWT_LEEWAY)
			return fail(why, AG_ERR_VERIFY, "id_token: not yet "
			    "valid (nbf)");
	} else if (r != AG_ERR_NOTFOUND)
		return fail(why, AG_ERR_VERIFY, "id_token: nbf not an "
		    "integer");
	if ((s = ag_json_get_str(c, "sub")) == NULL || *s == '\0')
		return fail(why, AG_ERR_VERIFY, "id_token: sub missing");
	if (e->sub != NULL && strcmp(s, e->sub) != 0)
		return fail(why, AG_ERR_VERIFY, "id_token: sub mismatch");
	if (e->nonce != NULL) {
		if ((s = ag_json_get_str(c, "nonce")) == NULL)
			return fail(why, AG_ERR_VERIFY, "id_token: nonce "
			    "missing");
		if (!ag_ct_equal(s, strlen(s), e->nonce, strlen(e->nonce)))
			return fail(why, AG_ERR_VERIFY, "id_token: nonce "
			    "mismatch");
	}
	if (e->max_age >= 0) {
		if ((r = time_claim(c, "auth_time", &auth_time)) != AG_OK)
			return fail(why, AG_ERR_VERIFY, "id_token: auth_time "
			    "%s", r == AG_ERR_NOTFOUND ? "missing" :
			    "not an integer");
		/* auth_time + max_age >= now - leeway, without overflow. */
		if (e->max_age < now - AG_JWT_LEEWAY - auth_time)
			return fail(why, AG_ERR_VERIFY, "id_token: auth_time "
			    "too old for max_age");
	}
	if (e->access_token != NULL && ag_json_get(c, "at_hash") != NULL) {
		if ((s = ag_json_get_str(c, "at_hash")) == NULL)
			return fail(why, AG_ERR_VERIFY, "id_token: at_hash "
			    "not a string");
		ag_buf_init(&want, 128);
		r = at_hash_expected(t->alg, e->access_token, &want);
		if (r == AG_OK && !ag_ct_equal(s, strlen(s), want.data,
		    want.len))
			r = AG_ERR_VERIFY;
		ag_buf_free(&want);
		if (r != AG_OK)
			return fail(why, AG_ERR_VERIFY, "id_token: at_hash "
			    "mismatch");
	}
	return AG_OK;
}

int
ag_oidc_id_token(struct ag_oidc *o, const char *id_token,
    const struct ag_id_expect *e, ag_json **claims, char *why)
{
	const struct ag_provider *p;
	struct ag_id_expect none = { NULL, -1, NULL, NULL };
	struct ag_jwt *t = NULL;
	int r;

	*claims = NULL;
	if (e == NULL)
		e = &none;
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		return r;
	if ((r = verify_signature(o, p, "id_token", id_token, &t, why)) !=
	    AG_OK)
		return r;
	if ((r = check_iss_aud(o, p, "id_token", t->claims, why)) != AG_OK ||
	    (r = check_id_claims(t, e, why)) != AG_OK)
		goto out;
	*claims = ag_json_ref(t->claims);
 out:
	ag_jwt_free(t);
	return r;
}

int
ag_oidc_verify_jwt(struct ag_oidc *o, const char *jwt, ag_json **header,
    ag_json **claims, char *why)
{
	const struct ag_provider *p;
	struct ag_jwt *t = NULL;
	int r;

	if (header != NULL)
		*header = NULL;
	*claims = NULL;
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		return r;
	if ((r = verify_signature(o, p, "jwt", jwt, &t, why)) != AG_OK)
		return r;
	if ((r = check_iss_aud(o, p, "jwt", t->claims, why)) != AG_OK)
		goto out;
	if (header != NULL)
		*header = ag_json_ref(t->header);
	*claims = ag_json_ref(t->claims);
 out:
	ag_jwt_free(t);
	return r;
}

/* ------------------------------------------------------------------ */
/* Client authentication                                              */

/*
 * o->assertion_key from client_assertion_key (once per process), signing
 * with client_assertion_alg, else the key type's default (RS256 for RSA,
 * the SDK's default; ES256/384/512; EdDSA).
 */
static int
load_assertion_key(struct ag_oidc *o, char *why)
{
	const struct ag_conf *c = o->conf;
	int r, alg = -1;

	if (o->assertion_key != NULL)
		return AG_OK;
	if (c->client_assertion_key == NULL)
		return fail(why, AG_ERR_CONFIG, "client auth: no "
		    "client_assertion_key");
	if (c->client_assertion_alg != NULL &&
	    (alg = ag_alg_parse(c->client_assertion_alg)) < 0)
		return fail(why, AG_ERR_CONFIG, "client auth: unknown "
		    "client_assertion_alg");
	if ((r = ag_key_load(c->client_assertion_key, alg,
	    &o->assertion_key)) != AG_OK) {
		o->assertion_key = NULL;
		return fail(why, r == AG_ERR_NOMEM ? r : AG_ERR_CONFIG,
		    "client_assertion_key: cannot load %.120s for %s (%s)",
		    c->client_assertion_key, c->client_assertion_alg != NULL ?
		    c->client_assertion_alg : "its key type",
		    r == AG_ERR_CONFIG ? "the key type does not fit the "
		    "algorithm" : ag_strerror(r));
	}
	return AG_OK;
}

int
ag_oidc_keys_init(struct ag_oidc *o, char *why)
{
	if (o->conf->client_auth != AG_AUTH_PRIVATE_KEY_JWT &&
	    o->conf->client_assertion_key == NULL)
		return AG_OK;
	return load_assertion_key(o, why);
}

/* A private_key_jwt assertion (RFC 7523) appended to out. */
static int
client_assertion(struct ag_oidc *o, const struct ag_provider *p,
    struct ag_buf *out, char *why)
{
	const struct ag_conf *c = o->conf;
	ag_json *claims = NULL;
	struct ag_buf jti;
	int64_t now = ag_now();
	int r;

	ag_buf_init(&jti, 128);
	if ((r = load_assertion_key(o, why)) != AG_OK)
		goto out;
	if ((r = ag_rand_b64url(&jti, 32)) != AG_OK) {
		r = fail(why, r, "client auth: no randomness");
		goto out;
	}
	if ((claims = ag_json_object()) == NULL ||
	    ag_json_set_str(claims, "iss", c->client_id) != AG_OK ||
	    ag_json_set_str(claims, "sub", c->client_id) != AG_OK ||
	    ag_json_set_str(claims, "aud", p->issuer) != AG_OK ||
	    ag_json_set_str(claims, "jti", ag_buf_str(&jti)) != AG_OK ||
	    ag_json_set_int(claims, "iat", now) != AG_OK ||
	    ag_json_set_int(claims, "nbf", now) != AG_OK ||
	    ag_json_set_int(claims, "exp", now + CLIENT_ASSERTION_TTL) !=
	    AG_OK) {
		r = fail(why, AG_ERR_NOMEM, "client auth: out of memory");
		goto out;
	}
	if ((r = ag_jwt_sign(o->assertion_key, NULL, claims, out)) != AG_OK)
		r = fail(why, r, "client auth: signing the assertion "
		    "failed (%s)", ag_strerror(r));
 out:
	ag_json_free(claims);
	ag_buf_free(&jti);
	return r;
}

/*
 * Add the client authentication to form (already holding the request's
 * own fields) or, for client_secret_basic, set *authorization (owned,
 * free with ag_strfree).
 */
static int
client_auth(struct ag_oidc *o, const struct ag_provider *p,
    struct ag_buf *form, char **authorization, char *why)
{
	const struct ag_conf *c = o->conf;
	struct ag_buf cred, hdr, assertion;
	int r;

	*authorization = NULL;
	ag_buf_init(&cred, 0);
	ag_buf_init(&hdr, 0);
	ag_buf_init(&assertion, AG_MAX_JWT);
	switch (c->client_auth) {
	case AG_AUTH_SECRET_BASIC:
		if (c->client_secret == NULL) {
			r = fail(why, AG_ERR_CONFIG, "client auth: no "
			    "client_secret");
			goto out;
		}
		/* RFC 6749 2.3.1: each part form-encoded, then base64. */
		if ((r = ag_url_encode(&cred, c->client_id)) != AG_OK ||
		    (r = ag_buf_putc(&cred, ':')) != AG_OK ||
		    (r = ag_url_encode(&cred, c->client_secret)) != AG_OK ||
		    (r = ag_buf_puts(&hdr, "Basic ")) != AG_OK ||
		    (r = ag_b64_encode(&hdr, cred.data, cred.len)) != AG_OK)
			goto nomem;
		if ((*authorization = ag_buf_take(&hdr)) == NULL)
			goto nomem;
		break;
	case AG_AUTH_SECRET_POST:
		if (c->client_secret == NULL) {
			r = fail(why, AG_ERR_CONFIG, "client auth: no "
			    "client_secret");
			goto out;
		}
		if ((r = ag_form_add(form, "client_id", c->client_id)) !=
		    AG_OK || (r = ag_form_add(form, "client_secret",
		    c->client_secret)) != AG_OK)
			goto nomem;
		break;
	case AG_AUTH_PRIVATE_KEY_JWT:
		if ((r = client_assertion(o, p, &assertion, why)) != AG_OK)
			goto out;
		if ((r = ag_form_add(form, "client_id", c->client_id)) !=
		    AG_OK || (r = ag_form_add(form, "client_assertion_type",
		    CLIENT_ASSERTION_TYPE)) != AG_OK ||
		    (r = ag_form_add(form, "client_assertion",
		    ag_buf_str(&assertion))) != AG_OK)
			goto nomem;
		break;
	default:
		r = fail(why, AG_ERR_CONFIG, "client auth: unknown method");
		goto out;
	}
	r = AG_OK;
	goto out;
 nomem:
	r = fail(why, r, "client auth: %s", ag_strerror(r));
 out:
	ag_buf_free(&cred);
	ag_buf_free(&hdr);
	ag_buf_free(&assertion);
	return r;
}

/*
 * POST form + client authentication (+ the DPoP proof when not NULL) to
 * url.  The form buffer is wiped afterwards by the caller's ag_buf_free.
 */
static int
op_post_proof(struct ag_oidc *o, const struct ag_provider *p,
    const char *url, struct ag_buf *form, const char *proof,
    struct ag_http_resp *resp, const char *step, char *why)
{
	char *authorization = NULL;
	int r;

	if ((r = client_auth(o, p, form, &authorization, why)) != AG_OK)
		return r;
	r = op_send(o, "POST", url, ag_buf_str(form), authorization, proof,
	    NULL, NULL, resp, step, why);
	ag_strfree(authorization);
	return r;
}

/* op_post_proof without a proof. */
static int
op_post(struct ag_oidc *o, const struct ag_provider *p, const char *url,
    struct ag_buf *form, struct ag_http_resp *resp, const char *step,
    char *why)
{
	return op_post_proof(o, p, url, form, NULL, resp, step, why);
}

int
ag_oidc_client_post(struct ag_oidc *o, const char *url, const char *form,
    struct ag_http_resp *resp, char *why)
{
	const struct ag_provider *p;
	struct ag_buf body;
	int r;

	ag_buf_init(&body, 0);
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		goto out;
	if ((r = ag_buf_puts(&body, form != NULL ? form : "")) != AG_OK) {
		r = fail(why, r, "client post: %s", ag_strerror(r));
		goto out;
	}
	r = op_post(o, p, url, &body, resp, "client post", why);
 out:
	ag_buf_free(&body);
	return r;
}

int
ag_oidc_client_post_json(struct ag_oidc *o, const char *url, ag_json *body,
    struct ag_http_resp *resp, char *why)
{
	const struct ag_conf *c = o->conf;
	const struct ag_provider *p;
	struct ag_http_req req;
	struct ag_buf assertion, json;
	const char *dump;
	int r;

	ag_buf_init(&assertion, AG_MAX_JWT);
	ag_buf_init(&json, 0);
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		goto out;
	if (c->client_auth == AG_AUTH_PRIVATE_KEY_JWT) {
		if ((r = client_assertion(o, p, &assertion, why)) != AG_OK)
			goto out;
	} else if (c->client_secret == NULL) {
		r = fail(why, AG_ERR_CONFIG, "client auth: no client_secret");
		goto out;
	}
	if (ag_json_set_str(body, "client_id", c->client_id) != AG_OK ||
	    (assertion.len > 0 ? ag_json_set_str(body, "client_assertion_type",
	    CLIENT_ASSERTION_TYPE) != AG_OK || ag_json_set_str(body,
	    "client_assertion", ag_buf_str(&assertion)) != AG_OK :
	    ag_json_set_str(body, "client_secret", c->client_secret) !=
	    AG_OK) || (dump = ag_json_dump(body)) == NULL ||
	    ag_buf_puts(&json, dump) != AG_OK) {
		r = fail(why, AG_ERR_NOMEM, "client post: out of memory");
		goto out;
	}
	/* The credentials leave the caller's object: only json keeps them. */
	ag_json_del(body, "client_secret");
	ag_json_del(body, "client_assertion");
	ag_oidc_http_req(c, &req, "POST", url, ag_buf_str(&json));
	r = http_result(ag_http_do(&req, resp), resp, "client post", why);
 out:
	ag_buf_free(&assertion);
	ag_buf_free(&json);
	return r;
}

/* ------------------------------------------------------------------ */
/* OAuth errors and token responses                                   */

void
ag_oauth_error_clear(struct ag_oauth_error *e)
{
	if (e == NULL)
		return;
	ag_json_free(e->raw);
	memset(e, 0, sizeof(*e));
}

void
ag_tokens_clear(struct ag_tokens *t)
{
	if (t == NULL)
		return;
	ag_strfree(t->access_token);
	free(t->token_type);
	ag_strfree(t->id_token);
	ag_strfree(t->refresh_token);
	free(t->scope);
	ag_json_free(t->raw);
	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
}

/*
 * A non-success answer: fill err (JSON {error, error_description} when
 * the body is one) and say so in why.  Always AG_ERR_PROVIDER.
 */
static int
oauth_error(const struct ag_http_resp *resp, const char *step,
    struct ag_oauth_error *err, char *why)
{
	struct ag_oauth_error tmp;
	ag_json *doc = NULL;
	const char *code, *desc;

	if (err == NULL)
		err = &tmp;
	memset(err, 0, sizeof(*err));
	err->status = resp->status;
	if (ag_json_parse_object(ag_buf_str(&resp->body), resp->body.len,
	    AG_MAX_IDP_RESPONSE, &doc) == AG_OK &&
	    (code = ag_json_get_str(doc, "error")) != NULL) {
		quote(err->error, sizeof(err->error), code);
		if ((desc = ag_json_get_str(doc, "error_description")) != NULL)
			quote(err->description, sizeof(err->description),
			    desc);
		err->raw = doc;
		doc = NULL;
		fail(why, 0, "%s: HTTP %ld %s", step, resp->status,
		    err->error);
	} else
		fail(why, 0, "%s: HTTP %ld", step, resp->status);
	ag_json_free(doc);
	if (err == &tmp)
		ag_oauth_error_clear(&tmp);
	return AG_ERR_PROVIDER;
}

int
ag_oidc_oauth_error(const struct ag_http_resp *resp, const char *step,
    struct ag_oauth_error *err, char *why)
{
	return oauth_error(resp, step, err, why);
}

/* An optional string member: absent AG_OK with NULL, wrong type error. */
static int
opt_string(const ag_json *doc, const char *name, char **dst, char *why)
{
	ag_json *v;

	*dst = NULL;
	if ((v = ag_json_get(doc, name)) == NULL)
		return AG_OK;
	if (ag_json_str(v) == NULL)
		return fail(why, AG_ERR_PARSE, "token endpoint: %s not a "
		    "string", name);
	if ((*dst = strdup(ag_json_str(v))) == NULL)
		return fail(why, AG_ERR_NOMEM, "token endpoint: out of "
		    "memory");
	return AG_OK;
}

/* expires_in: a non-negative integer, as a number or numeric string. */
static int
parse_expires_in(const ag_json *doc, int64_t *out, char *why)
{
	ag_json *v;
	const char *s;
	int64_t n = 0;
	size_t i;

	*out = -1;
	if ((v = ag_json_get(doc, "expires_in")) == NULL ||
	    ag_json_type(v) == AG_JSON_NULL)
		return AG_OK;
	if ((s = ag_json_str(v)) != NULL) {
		if (*s == '\0' || strlen(s) > 15)
			goto bad;
		for (i = 0; s[i] != '\0'; i++) {
			if (s[i] < '0' || s[i] > '9')
				goto bad;
			n = n * 10 + (s[i] - '0');
		}
	} else if (ag_json_to_int(v, &n) != AG_OK || n < 0)
		goto bad;
	*out = n;
	return AG_OK;
 bad:
	return fail(why, AG_ERR_PARSE, "token endpoint: bad expires_in");
}

/* Validate a 200 token response into t. */
static int
parse_tokens(const struct ag_http_resp *resp, struct ag_tokens *t,
    char *why)
{
	ag_json *doc = NULL;
	const char *at;
	char *p;
	int r;

	if (ag_json_parse_object(ag_buf_str(&resp->body), resp->body.len,
	    AG_MAX_IDP_RESPONSE, &doc) != AG_OK) {
		r = fail(why, AG_ERR_PARSE, "token endpoint: not a JSON "
		    "object");
		goto out;
	}
	if ((at = ag_json_get_str(doc, "access_token")) == NULL || *at == '\0') {
		r = fail(why, AG_ERR_PARSE, "token endpoint: access_token "
		    "missing");
		goto out;
	}
	if ((t->access_token = strdup(at)) == NULL) {
		r = fail(why, AG_ERR_NOMEM, "token endpoint: out of memory");
		goto out;
	}
	if (ag_json_get_str(doc, "token_type") == NULL) {
		r = fail(why, AG_ERR_PARSE, "token endpoint: token_type "
		    "missing");
		goto out;
	}
	if ((r = opt_string(doc, "token_type", &t->token_type, why)) != AG_OK)
		goto out;
	for (p = t->token_type; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(t->token_type, "bearer") != 0 &&
	    strcmp(t->token_type, "dpop") != 0) {
		r = fail(why, AG_ERR_PARSE, "token endpoint: unsupported "
		    "token_type");
		goto out;
	}
	if ((r = parse_expires_in(doc, &t->expires_in, why)) != AG_OK ||
	    (r = opt_string(doc, "refresh_token", &t->refresh_token, why)) !=
	    AG_OK ||
	    (r = opt_string(doc, "id_token", &t->id_token, why)) != AG_OK ||
	    (r = opt_string(doc, "scope", &t->scope, why)) != AG_OK)
		goto out;
	t->raw = doc;
	doc = NULL;
	r = AG_OK;
 out:
	ag_json_free(doc);
	return r;
}

int
ag_oidc_token(struct ag_oidc *o, const char *form, struct ag_tokens *t,
    struct ag_oauth_error *err, char *why)
{
	const struct ag_provider *p;
	struct ag_http_resp resp;
	struct ag_buf body, proof;
	int attempt, r;

	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&body, 0);
	ag_buf_init(&proof, AG_MAX_JWT);
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		goto out;
	/*
	 * With DPoP every call carries a fresh proof, and a use_dpop_nonce
	 * answer is retried once with the nonce it brought (client
	 * authentication is redone too: a fresh assertion jti).
	 */
	for (attempt = 0;; attempt++) {
		ag_buf_reset(&body);
		ag_buf_reset(&proof);
		if ((r = ag_buf_puts(&body, form != NULL ? form : "")) !=
		    AG_OK) {
			r = fail(why, r, "token endpoint: %s", ag_strerror(r));
			goto out;
		}
		if (o->dpop != NULL && (r = ag_dpop_proof(o->dpop, "POST",
		    p->token_endpoint, NULL, &proof)) != AG_OK) {
			r = fail(why, r, "token endpoint: DPoP proof: %s",
			    ag_strerror(r));
			goto out;
		}
		if ((r = op_post_proof(o, p, p->token_endpoint, &body,
		    o->dpop != NULL ? ag_buf_str(&proof) : NULL, &resp,
		    "token endpoint", why)) != AG_OK) {
			/* A first attempt that never left spent nothing. */
			if (err != NULL && r == AG_ERR_HTTP && attempt == 0)
				err->not_sent = resp.not_sent;
			goto out;
		}
		if (o->dpop == NULL)
			break;
		ag_dpop_remember(o->dpop, p->token_endpoint, resp.dpop_nonce);
		if (attempt > 0 || !ag_dpop_nonce_challenge(&resp))
			break;
		ag_debug("token endpoint: use_dpop_nonce; retrying once");
		ag_http_resp_free(&resp);
	}
	if (resp.status != 200) {
		r = oauth_error(&resp, "token endpoint", err, why);
		goto out;
	}
	r = parse_tokens(&resp, t, why);
 out:
	if (r != AG_OK)
		ag_tokens_clear(t);
	ag_http_resp_free(&resp);
	ag_buf_free(&body);
	ag_buf_free(&proof);
	return r;
}

/* ------------------------------------------------------------------ */
/* Authorization request                                              */

struct plist {
	const char	*name[MAX_AUTHZ_PARAMS];
	const char	*value[MAX_AUTHZ_PARAMS];
	size_t		 n;
};

/* Set name=value, dropping an earlier value of the same name. */
static int
plist_set(struct plist *l, const char *name, const char *value)
{
	size_t i;

	if (name == NULL || value == NULL)
		return AG_OK;
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->name[i], name) != 0)
			continue;
		memmove(&l->name[i], &l->name[i + 1],
		    (l->n - i - 1) * sizeof(l->name[0]));
		memmove(&l->value[i], &l->value[i + 1],
		    (l->n - i - 1) * sizeof(l->value[0]));
		l->n--;
		break;
	}
	if (l->n >= MAX_AUTHZ_PARAMS)
		return AG_ERR_LIMIT;
	l->name[l->n] = name;
	l->value[l->n] = value;
	l->n++;
	return AG_OK;
}

static int
plist_encode(const struct plist *l, struct ag_buf *out)
{
	size_t i;
	int r;

	for (i = 0; i < l->n; i++)
		if ((r = ag_form_add(out, l->name[i], l->value[i])) != AG_OK)
			return r;
	return AG_OK;
}

/* Append url?query (or url&query when url already has a query). */
static int
url_with_query(struct ag_buf *out, const char *url, const char *query)
{
	size_t n = strlen(url);
	int r;

	if ((r = ag_buf_puts(out, url)) != AG_OK)
		return r;
	if (*query == '\0')
		return AG_OK;
	if (strchr(url, '?') == NULL)
		r = ag_buf_putc(out, '?');
	else if (n > 0 && url[n - 1] != '?' && url[n - 1] != '&')
		r = ag_buf_putc(out, '&');
	if (r != AG_OK)
		return r;
	return ag_buf_puts(out, query);
}

/* RFC 9126: push the parameters, get a request_uri. */
static int
push_request(struct ag_oidc *o, const struct ag_provider *p,
    struct ag_buf *form, struct ag_buf *url, char *why)
{
	struct ag_http_resp resp;
	struct ag_buf q;
	ag_json *doc = NULL;
	const char *request_uri;
	int64_t expires_in;
	int r;

	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&q, 0);
	if (p->par_endpoint == NULL) {
		r = fail(why, AG_ERR_CONFIG, "par: the provider has no "
		    "pushed_authorization_request_endpoint");
		goto out;
	}
	if ((r = op_post(o, p, p->par_endpoint, form, &resp, "par endpoint",
	    why)) != AG_OK)
		goto out;
	if (resp.status != 201) {
		r = oauth_error(&resp, "par endpoint", NULL, why);
		goto out;
	}
	if (ag_json_parse_object(ag_buf_str(&resp.body), resp.body.len,
	    AG_MAX_IDP_RESPONSE, &doc) != AG_OK) {
		r = fail(why, AG_ERR_PARSE, "par endpoint: not a JSON object");
		goto out;
	}
	if ((request_uri = ag_json_get_str(doc, "request_uri")) == NULL ||
	    *request_uri == '\0') {
		r = fail(why, AG_ERR_PARSE, "par endpoint: request_uri "
		    "missing");
		goto out;
	}
	if (ag_json_get_int(doc, "expires_in", &expires_in) != AG_OK ||
	    expires_in <= 0) {
		r = fail(why, AG_ERR_PARSE, "par endpoint: bad expires_in");
		goto out;
	}
	if ((r = ag_form_add(&q, "client_id", o->conf->client_id)) != AG_OK ||
	    (r = ag_form_add(&q, "request_uri", request_uri)) != AG_OK ||
	    (r = url_with_query(url, p->authorization_endpoint,
	    ag_buf_str(&q))) != AG_OK) {
		r = fail(why, r, "par: %s", ag_strerror(r));
		goto out;
	}
 out:
	ag_json_free(doc);
	ag_buf_free(&q);
	ag_http_resp_free(&resp);
	return r;
}

int
ag_oidc_authorize_url(struct ag_oidc *o, const struct ag_authz *a,
    struct ag_buf *url, char *why)
{
	const struct ag_conf *c = o->conf;
	const struct ag_provider *p;
	struct plist l;
	struct ag_buf challenge, q;
	unsigned char h[AG_SHA256_LEN];
	const char *audience, *scope;
	size_t i;
	int r;

	memset(&l, 0, sizeof(l));
	ag_buf_init(&challenge, 128);
	ag_buf_init(&q, 0);
	if (a->redirect_uri == NULL || a->state == NULL || a->nonce == NULL ||
	    a->code_verifier == NULL) {
		r = fail(why, AG_ERR_CONFIG, "authorize: redirect_uri, state, "
		    "nonce and code_verifier are required");
		goto out;
	}
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		goto out;
	if ((r = ag_sha256(a->code_verifier, strlen(a->code_verifier), h)) !=
	    AG_OK || (r = ag_b64url_encode(&challenge, h, sizeof(h))) !=
	    AG_OK) {
		r = fail(why, r, "authorize: code_challenge: %s",
		    ag_strerror(r));
		goto out;
	}
	audience = a->audience != NULL ? a->audience : c->audience;
	scope = a->scope != NULL ? a->scope :
	    c->scope != NULL ? c->scope : "openid";

	/* Later entries win: conf, audience, extras, then the fixed ones. */
	r = AG_OK;
	for (i = 0; i < c->n_authz_params && r == AG_OK; i++)
		r = plist_set(&l, c->authz_params[i].key,
		    c->authz_params[i].value);
	if (r == AG_OK && audience != NULL)
		r = plist_set(&l, c->audience_param == AG_AUDIENCE_RESOURCE ?
		    "resource" : "audience", audience);
	for (i = 0; i < a->n_extra && r == AG_OK; i++)
		r = plist_set(&l, a->extra_names[i], a->extra_values[i]);
	if (r == AG_OK)
		r = plist_set(&l, "client_id", c->client_id);
	if (r == AG_OK)
		r = plist_set(&l, "redirect_uri", a->redirect_uri);
	if (r == AG_OK)
		r = plist_set(&l, "response_type", "code");
	if (r == AG_OK)
		r = plist_set(&l, "scope", scope);
	if (r == AG_OK)
		r = plist_set(&l, "code_challenge", ag_buf_str(&challenge));
	if (r == AG_OK)
		r = plist_set(&l, "code_challenge_method", "S256");
	if (r == AG_OK)
		r = plist_set(&l, "state", a->state);
	if (r == AG_OK)
		r = plist_set(&l, "nonce", a->nonce);
	if (r == AG_OK)
		r = plist_set(&l, "max_age", a->max_age);
	if (r == AG_OK)
		r = plist_set(&l, "dpop_jkt", a->dpop_jkt != NULL ?
		    a->dpop_jkt : o->dpop != NULL ? ag_dpop_jkt(o->dpop) :
		    NULL);
	if (r == AG_OK)
		r = plist_encode(&l, &q);
	if (r != AG_OK) {
		r = fail(why, r, "authorize: parameters: %s", ag_strerror(r));
		goto out;
	}
	if (c->par)
		r = push_request(o, p, &q, url, why);
	else if ((r = url_with_query(url, p->authorization_endpoint,
	    ag_buf_str(&q))) != AG_OK)
		r = fail(why, r, "authorize: %s", ag_strerror(r));
 out:
	explicit_bzero(h, sizeof(h));
	ag_buf_free(&challenge);
	ag_buf_free(&q);
	return r;
}

/* ------------------------------------------------------------------ */
/* Userinfo                                                           */

/* The media type of a Content-Type value is application/json. */
static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

int
ag_oidc_userinfo(struct ag_oidc *o, const char *access_token,
    const char *token_type, const char *sub, ag_json **claims, char *why)
{
	const struct ag_provider *p;
	struct ag_http_resp resp;
	struct ag_buf authz;
	ag_json *doc = NULL;
	const char *s;
	int dpop = 0, r;

	*claims = NULL;
	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&authz, AG_MAX_JWT + 16);
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		goto out;
	if (p->userinfo_endpoint == NULL) {
		r = fail(why, AG_ERR_NOTFOUND, "userinfo: the provider has "
		    "no userinfo_endpoint");
		goto out;
	}
	if (token_type != NULL && (dpop = strcasecmp(token_type, "dpop") ==
	    0) == 0 && strcasecmp(token_type, "bearer") != 0) {
		r = fail(why, AG_ERR_CONFIG, "userinfo: token_type (other) not "
		    "supported");
		goto out;
	}
	if (dpop && o->dpop == NULL) {
		r = fail(why, AG_ERR_CONFIG, "userinfo: the access token is "
		    "DPoP-bound but dpop is off");
		goto out;
	}
	if (access_token == NULL || *access_token == '\0') {
		r = fail(why, AG_ERR_CONFIG, "userinfo: no access token");
		goto out;
	}
	if ((r = ag_buf_printf(&authz, "%s %s", dpop ? "DPoP" : "Bearer",
	    access_token)) != AG_OK) {
		r = fail(why, r, "userinfo: access token too long");
		goto out;
	}
	if ((r = op_send(o, "GET", p->userinfo_endpoint, NULL,
	    ag_buf_str(&authz), NULL, dpop ? o->dpop : NULL, access_token,
	    &resp, "userinfo", why)) != AG_OK)
		goto out;
	if (resp.status != 200) {
		r = oauth_error(&resp, "userinfo", NULL, why);
		goto out;
	}
	if (!is_json_type(resp.content_type)) {
		r = fail(why, AG_ERR_PARSE, "userinfo: %s",
		    resp.content_type != NULL && strncasecmp(resp.content_type,
		    "application/jwt", 15) == 0 ?
		    "signed or encrypted responses are not supported" :
		    "not application/json");
		goto out;
	}
	if (ag_json_parse_object(ag_buf_str(&resp.body), resp.body.len,
	    AG_MAX_IDP_RESPONSE, &doc) != AG_OK) {
		r = fail(why, AG_ERR_PARSE, "userinfo: not a JSON object");
		goto out;
	}
	if ((s = ag_json_get_str(doc, "sub")) == NULL || *s == '\0') {
		r = fail(why, AG_ERR_VERIFY, "userinfo: sub missing");
		goto out;
	}
	if (sub != NULL && strcmp(s, sub) != 0) {
		r = fail(why, AG_ERR_VERIFY, "userinfo: sub mismatch");
		goto out;
	}
	*claims = doc;
	doc = NULL;
	r = AG_OK;
 out:
	ag_json_free(doc);
	ag_buf_free(&authz);
	ag_http_resp_free(&resp);
	return r;
}

/* ------------------------------------------------------------------ */
/* Logout and revocation                                              */

/* The issuer's host ends with ".auth0.com" (case-insensitive). */
static int
is_auth0_issuer(const char *iss)
{
	static const char suffix[] = ".auth0.com";
	const char *h, *e;
	size_t n, sn = sizeof(suffix) - 1;

	if ((h = strstr(iss, "://")) == NULL)
		return 0;
	h += 3;
	for (e = h; *e != '\0' && *e != '/' && *e != ':' && *e != '?'; e++)
		;
	n = (size_t)(e - h);
	return n > sn && strncasecmp(e - sn, suffix, sn) == 0;
}

int
ag_oidc_logout_url(struct ag_oidc *o, const char *return_to,
    const char *id_token_hint, const char *sid, const char *state,
    int federated, struct ag_buf *url, char *why)
{
	const struct ag_conf *c = o->conf;
	const struct ag_provider *p;
	struct ag_buf q;
	size_t n;
	int r, strategy = c->logout_strategy;

	ag_buf_init(&q, 0);
	if (return_to == NULL) {
		r = fail(why, AG_ERR_CONFIG, "logout: no return URL");
		goto out;
	}
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		goto out;
	if (strategy == AG_LOGOUT_AUTO) {
		if (p->end_session_endpoint != NULL)
			strategy = AG_LOGOUT_OIDC;
		else if (c->domain != NULL || is_auth0_issuer(p->issuer))
			strategy = AG_LOGOUT_V2;
		else {
			ag_warn("logout: the provider supports no logout "
			    "endpoint; only the local session is removed");
			r = ag_buf_puts(url, return_to);
			goto out;
		}
	}
	if (strategy == AG_LOGOUT_OIDC) {
		if (p->end_session_endpoint == NULL) {
			r = fail(why, AG_ERR_NOTFOUND, "OIDC RP-Initiated "
			    "Logout is not supported by the authorization "
			    "server");
			goto out;
		}
		if ((r = ag_form_add(&q, "client_id", c->client_id)) != AG_OK ||
		    (r = ag_form_add(&q, "post_logout_redirect_uri",
		    return_to)) != AG_OK ||
		    (id_token_hint != NULL && (r = ag_form_add(&q,
		    "id_token_hint", id_token_hint)) != AG_OK) ||
		    (sid != NULL && (r = ag_form_add(&q, "logout_hint",
		    sid)) != AG_OK) ||
		    (state != NULL && (r = ag_form_add(&q, "state",
		    state)) != AG_OK) ||
		    (federated && (r = ag_form_add(&q, "federated", "")) !=
		    AG_OK) ||
		    (r = url_with_query(url, p->end_session_endpoint,
		    ag_buf_str(&q))) != AG_OK)
			goto nomem;
		goto out;
	}
	/* Auth0's own endpoint: {issuer}v2/logout. */
	n = strlen(p->issuer);
	if ((r = ag_buf_puts(url, p->issuer)) != AG_OK ||
	    (r = ag_buf_puts(url, n > 0 && p->issuer[n - 1] == '/' ?
	    "v2/logout?" : "/v2/logout?")) != AG_OK ||
	    (r = ag_form_add(&q, "returnTo", return_to)) != AG_OK ||
	    (r = ag_form_add(&q, "client_id", c->client_id)) != AG_OK ||
	    (federated && (r = ag_form_add(&q, "federated", "")) != AG_OK) ||
	    (r = ag_buf_puts(url, ag_buf_str(&q))) != AG_OK)
		goto nomem;
	goto out;
 nomem:
	r = fail(why, r, "logout: %s", ag_strerror(r));
 out:
	ag_buf_free(&q);
	return r;
}

int
ag_oidc_revoke(struct ag_oidc *o, const char *refresh_token, char *why)
{
	const struct ag_provider *p;
	struct ag_http_resp resp;
	struct ag_buf form;
	int r;

	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&form, 0);
	if ((r = ag_oidc_provider(o, &p, why)) != AG_OK)
		goto out;
	if (p->revocation_endpoint == NULL) {
		r = fail(why, AG_ERR_NOTFOUND, "revocation: the provider has "
		    "no revocation_endpoint");
		goto out;
	}
	if (refresh_token == NULL || *refresh_token == '\0') {
		r = fail(why, AG_ERR_CONFIG, "revocation: no token");
		goto out;
	}
	if ((r = ag_form_add(&form, "token", refresh_token)) != AG_OK ||
	    (r = ag_form_add(&form, "token_type_hint", "refresh_token")) !=
	    AG_OK) {
		r = fail(why, r, "revocation: %s", ag_strerror(r));
		goto out;
	}
	if ((r = op_post(o, p, p->revocation_endpoint, &form, &resp,
	    "revocation", why)) != AG_OK)
		goto out;
	if (resp.status != 200)
		r = oauth_error(&resp, "revocation", NULL, why);
 out:
	ag_http_resp_free(&resp);
	ag_buf_free(&form);
	return r;
}
