/*
 * dpop.c -- DPoP proofs, nonces and the nonce retry.  See dpop.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "b64.h"
#include "buf.h"
#include "crypto.h"
#include "dpop.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "url.h"

#define JTI_BYTES	32

struct nonce {
	char		*origin;	/* owned; NULL: free slot */
	char		*nonce;		/* owned */
	uint64_t	 used;		/* tick of the last use */
};

struct ag_dpop {
	struct ag_key	*key;
	ag_json		*jwk;		/* public members only */
	char		*jkt;
	struct nonce	 nonces[AG_MAX_DPOP_NONCES];
	uint64_t	 tick;
};

/* Write the reason, return err.  why may be NULL. */
static int
fail(char *why, int err, const char *what)
{
	if (why != NULL)
		snprintf(why, AG_WHY_LEN, "dpop.key: %s", what);
	return err;
}

int
ag_dpop_load(const char *path, const char *alg, struct ag_dpop **out,
    char *why)
{
	struct ag_key *key = NULL;
	int a = -1, r;

	*out = NULL;
	if (path == NULL)
		return fail(why, AG_ERR_CONFIG, "required with dpop = on");
	if (alg != NULL && (a = ag_alg_parse(alg)) != AG_ALG_ES256 &&
	    a != AG_ALG_RS256 && a != AG_ALG_PS256)
		return fail(why, AG_ERR_CONFIG, "the alg must be ES256, RS256 "
		    "or PS256");
	if ((r = ag_key_load(path, a, &key)) != AG_OK) {
		if (r == AG_ERR_IO)
			return fail(why, r, "cannot read the key file");
		if (r == AG_ERR_PARSE)
			return fail(why, r, "not an unencrypted PEM private "
			    "key");
		if (r == AG_ERR_CONFIG)
			return fail(why, r, "the key must be EC P-256 or RSA "
			    "(2048 bits or more)");
		return fail(why, r, ag_strerror(r));
	}
	if ((r = ag_dpop_new(key, out)) == AG_ERR_CONFIG)
		return fail(why, r, "the key must be EC P-256 or RSA");
	if (r != AG_OK)
		return fail(why, r, ag_strerror(r));
	return AG_OK;
}

int
ag_dpop_new(struct ag_key *key, struct ag_dpop **out)
{
	struct ag_dpop *d = NULL;
	struct ag_buf tp;
	int alg, r;

	*out = NULL;
	ag_buf_init(&tp, 0);
	alg = key != NULL ? ag_key_alg(key) : -1;
	if (alg != AG_ALG_ES256 && alg != AG_ALG_RS256 &&
	    alg != AG_ALG_PS256) {
		r = AG_ERR_CONFIG;
		goto out;
	}
	r = AG_ERR_NOMEM;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto out;
	d->key = key;
	key = NULL;
	if ((d->jwk = ag_key_public_jwk(d->key)) == NULL)
		goto out;
	/* The header's jwk: the key's own members, nothing else. */
	ag_json_del(d->jwk, "kid");
	ag_json_del(d->jwk, "use");
	ag_json_del(d->jwk, "alg");
	if ((r = ag_jwk_thumbprint(d->jwk, &tp)) != AG_OK)
		goto out;
	r = AG_ERR_NOMEM;
	if ((d->jkt = ag_buf_take(&tp)) == NULL)
		goto out;
	*out = d;
	d = NULL;
	r = AG_OK;
 out:
	ag_key_free(key);
	ag_dpop_free(d);
	ag_buf_free(&tp);
	return r;
}

void
ag_dpop_free(struct ag_dpop *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < AG_MAX_DPOP_NONCES; i++) {
		free(d->nonces[i].origin);
		free(d->nonces[i].nonce);
	}
	ag_key_free(d->key);
	ag_json_free(d->jwk);
	free(d->jkt);
	free(d);
}

const char *
ag_dpop_jkt(const struct ag_dpop *d)
{
	return d->jkt;
}

int
ag_dpop_htu(struct ag_buf *out, const char *url)
{
	const char *p;
	size_t n;
	int r;

	if (url == NULL || (p = strstr(url, "://")) == NULL)
		return AG_ERR_PARSE;
	if ((r = ag_url_origin(out, url)) != AG_OK)
		return r == AG_ERR_NOMEM || r == AG_ERR_LIMIT ? r :
		    AG_ERR_PARSE;
	p += 3;
	p += strcspn(p, "/?#");
	if (*p != '/')
		return ag_buf_putc(out, '/');
	n = strcspn(p, "?#");
	return ag_buf_add(out, p, n);
}

int
ag_dpop_ath(struct ag_buf *out, const char *access_token)
{
	unsigned char h[AG_SHA256_LEN];
	int r;

	if ((r = ag_sha256(access_token, strlen(access_token), h)) == AG_OK)
		r = ag_b64url_encode(out, h, sizeof(h));
	explicit_bzero(h, sizeof(h));
	return r;
}

/* The slot holding origin, or NULL. */
static struct nonce *
find_nonce(struct ag_dpop *d, const char *origin)
{
	size_t i;

	for (i = 0; i < AG_MAX_DPOP_NONCES; i++)
		if (d->nonces[i].origin != NULL &&
		    strcmp(d->nonces[i].origin, origin) == 0)
			return &d->nonces[i];
	return NULL;
}

/* RFC 9449 section 8.1: nonce = 1*NQCHAR. */
static int
nonce_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (s[n] < 0x21 || s[n] > 0x7e || s[n] == '"' || s[n] == '\\')
			return 0;
	return n > 0 && n <= AG_MAX_DPOP_NONCE;
}

void
ag_dpop_remember(struct ag_dpop *d, const char *url, const char *nonce)
{
	struct ag_buf origin;
	struct nonce *slot;
	char *o = NULL, *v = NULL;
	size_t i;

	ag_buf_init(&origin, 0);
	if (nonce == NULL)
		goto out;
	if (!nonce_ok(nonce)) {
		ag_warn("dpop: ignoring a malformed DPoP-Nonce");
		goto out;
	}
	if (ag_url_origin(&origin, url) != AG_OK ||
	    (v = strdup(nonce)) == NULL)
		goto out;
	if ((slot = find_nonce(d, ag_buf_str(&origin))) == NULL) {
		if ((o = ag_buf_take(&origin)) == NULL)
			goto out;
		/* A free slot, else the least recently used one. */
		slot = &d->nonces[0];
		for (i = 0; i < AG_MAX_DPOP_NONCES; i++) {
			if (d->nonces[i].origin == NULL) {
				slot = &d->nonces[i];
				break;
			}
			if (d->nonces[i].used < slot->used)
				slot = &d->nonces[i];
		}
		free(slot->origin);
		slot->origin = o;
		o = NULL;
	}
	free(slot->nonce);
	slot->nonce = v;
	v = NULL;
	slot->used = ++d->tick;
 out:
	free(o);
	free(v);
	ag_buf_free(&origin);
}

const char *
ag_dpop_nonce(struct ag_dpop *d, const char *url)
{
	struct ag_buf origin;
	struct nonce *slot = NULL;

	ag_buf_init(&origin, 0);
	if (ag_url_origin(&origin, url) == AG_OK &&
	    (slot = find_nonce(d, ag_buf_str(&origin))) != NULL)
		slot->used = ++d->tick;
	ag_buf_free(&origin);
	return slot != NULL ? slot->nonce : NULL;
}

size_t
ag_dpop_nonce_count(const struct ag_dpop *d)
{
	size_t i, n = 0;

	for (i = 0; i < AG_MAX_DPOP_NONCES; i++)
		if (d->nonces[i].origin != NULL)
			n++;
	return n;
}

int
ag_dpop_proof(struct ag_dpop *d, const char *method, const char *url,
    const char *access_token, struct ag_buf *out)
{
	ag_json *header = NULL, *claims = NULL;
	struct ag_buf jti, htu, ath;
	const char *nonce;
	int r;

	ag_buf_init(&jti, 0);
	ag_buf_init(&htu, 0);
	ag_buf_init(&ath, 0);
	if ((r = ag_dpop_htu(&htu, url)) != AG_OK ||
	    (r = ag_rand_b64url(&jti, JTI_BYTES)) != AG_OK ||
	    (access_token != NULL &&
	    (r = ag_dpop_ath(&ath, access_token)) != AG_OK))
		goto out;
	r = AG_ERR_NOMEM;
	if ((header = ag_json_object()) == NULL ||
	    ag_json_set_str(header, "typ", "dpop+jwt") != AG_OK ||
	    ag_json_set(header, "jwk", ag_json_ref(d->jwk)) != AG_OK)
		goto out;
	nonce = ag_dpop_nonce(d, url);
	if ((claims = ag_json_object()) == NULL ||
	    ag_json_set_str(claims, "jti", ag_buf_str(&jti)) != AG_OK ||
	    ag_json_set_str(claims, "htm", method) != AG_OK ||
	    ag_json_set_str(claims, "htu", ag_buf_str(&htu)) != AG_OK ||
	    ag_json_set_int(claims, "iat", ag_now()) != AG_OK ||
	    (nonce != NULL &&
	    ag_json_set_str(claims, "nonce", nonce) != AG_OK) ||
	    (access_token != NULL &&
	    ag_json_set_str(claims, "ath", ag_buf_str(&ath)) != AG_OK))
		goto out;
	r = ag_jwt_sign(d->key, header, claims, out);
 out:
	ag_json_free(header);
	ag_json_free(claims);
	ag_buf_free(&jti);
	ag_buf_free(&htu);
	ag_buf_free(&ath);
	return r;
}

/* Skip optional white space. */
static const char *
ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A tchar of RFC 9110. */
static int
tchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * 1 when challenge (a WWW-Authenticate value) is a DPoP challenge whose
 * auth-params hold error="use_dpop_nonce" (quoted or not).  Parsing
 * stops at the first thing that is not an auth-param.
 */
static int
dpop_nonce_error(const char *challenge)
{
	static const char want[] = "use_dpop_nonce";
	const char *p, *name;
	size_t nlen, vlen;
	int quoted, match;

	if (strncasecmp(challenge, "DPoP", 4) != 0 ||
	    (challenge[4] != ' ' && challenge[4] != '\t'))
		return 0;
	for (p = challenge + 4;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		for (name = p; tchar((unsigned char)*p); p++)
			;
		if ((nlen = (size_t)(p - name)) == 0)
			return 0;
		p = ows(p);
		if (*p++ != '=')
			return 0;	/* another scheme */
		p = ows(p);
		if ((quoted = *p == '"'))
			p++;
		match = 1;
		for (vlen = 0; *p != '\0'; p++, vlen++) {
			if (quoted && *p == '"')
				break;
			if (!quoted && !tchar((unsigned char)*p))
				break;
			if (quoted && *p == '\\' && p[1] != '\0')
				p++;
			if (vlen >= sizeof(want) - 1 || *p != want[vlen])
				match = 0;
		}
		if (quoted) {
			if (*p != '"')
				return 0;
			p++;
		}
		if (nlen == 5 && strncasecmp(name, "error", 5) == 0)
			return match && vlen == sizeof(want) - 1;
	}
}

int
ag_dpop_nonce_challenge(const struct ag_http_resp *resp)
{
	ag_json *doc = NULL;
	const char *e;
	int yes = 0;

	if (resp->dpop_nonce == NULL)
		return 0;
	if (resp->status == 401 && resp->www_authenticate != NULL)
		return dpop_nonce_error(resp->www_authenticate);
	if (resp->status == 400 && ag_json_parse_object(ag_buf_str(
	    &resp->body), resp->body.len, AG_MAX_IDP_RESPONSE, &doc) ==
	    AG_OK && (e = ag_json_get_str(doc, "error")) != NULL)
		yes = strcmp(e, "use_dpop_nonce") == 0;
	ag_json_free(doc);
	return yes;
}

int
ag_dpop_http(struct ag_dpop *d, struct ag_http_req *req,
    const char *access_token, struct ag_http_resp *resp)
{
	struct ag_buf proof;
	int attempt, r;

	ag_buf_init(&proof, AG_MAX_JWT);
	for (attempt = 0;; attempt++) {
		ag_buf_reset(&proof);
		if ((r = ag_dpop_proof(d, req->method != NULL ? req->method :
		    "GET", req->url, access_token, &proof)) != AG_OK) {
			snprintf(resp->error, sizeof(resp->error),
			    "cannot make a DPoP proof: %s", ag_strerror(r));
			r = AG_ERR_HTTP;
			break;
		}
		req->dpop = ag_buf_str(&proof);
		r = ag_http_do(req, resp);
		req->dpop = NULL;
		if (r != AG_OK)
			break;
		ag_dpop_remember(d, req->url, resp->dpop_nonce);
		if (attempt > 0 || !ag_dpop_nonce_challenge(resp))
			break;
		ag_debug("dpop: the server asked for a nonce; retrying once");
		ag_http_resp_free(resp);
		memset(resp, 0, sizeof(*resp));
	}
	ag_buf_free(&proof);
	return r;
}
