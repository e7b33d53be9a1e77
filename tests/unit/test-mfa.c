/*
 * test-mfa.c -- lib/mfa.c without a network: the 403 mfa_required body
 * and its sealed mfa_token (the SDK's members, our session binding,
 * the TTL), opening it (expired, tampered, foreign session, another
 * sealed value of ours, garbage), the challenge-type check and the
 * authenticator filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "app.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "json.h"
#include "mfa.h"
#include "tap.h"

#define NOW	1700000000

static struct ag_app app;

static ag_json *
parse(const char *s)
{
	ag_json *j = NULL;

	if (ag_json_parse(s, strlen(s), 1 << 20, &j) != AG_OK)
		return NULL;
	return j;
}

/* The sealed token of a 403 body built for sid/sub at now with ttl. */
static char *
mint(const char *err, const char *sid, const char *sub, int64_t now,
    int64_t ttl)
{
	struct ag_buf out;
	ag_json *e = parse(err), *b = NULL;
	char *tok = NULL;

	ag_buf_init(&out, 0);
	if (ag_mfa_required_body(&app, e, "https://bank/", "read", sid, sub,
	    now, ttl, &out) == AG_OK && (b = parse(ag_buf_str(&out))) != NULL &&
	    ag_json_get_str(b, "mfa_token") != NULL)
		tok = strdup(ag_json_get_str(b, "mfa_token"));
	ag_json_free(b);
	ag_json_free(e);
	ag_buf_free(&out);
	return tok;
}

#define ERR	"{\"error\":\"mfa_required\",\"error_description\":\"MFA " \
	"please\",\"mfa_token\":\"RAW\",\"mfa_requirements\":{\"challenge\":" \
	"[{\"type\":\"otp\"},{\"type\":\"OOB\"}]}}"

static void
test_body(void)
{
	struct ag_buf out;
	ag_json *e, *b, *p = NULL;
	const char *tok;
	int64_t v = 0;

	ag_buf_init(&out, 0);
	e = parse(ERR);
	is_int(ag_mfa_required_body(&app, e, "https://bank/", "read", "S1",
	    "alice", NOW, 300, &out), AG_OK, "body");
	b = parse(ag_buf_str(&out));
	is_int((int)ag_json_object_len(b), 4, "body: exactly four members");
	is_str(ag_json_get_str(b, "error"), "mfa_required", "body: error");
	is_str(ag_json_get_str(b, "error_description"), "MFA please",
	    "body: the provider's description");
	ok(ag_json_get(b, "mfa_requirements") != NULL, "body: requirements");
	tok = ag_json_get_str(b, "mfa_token");
	ok(tok != NULL && strstr(tok, "RAW") == NULL, "body: token sealed");
	is_int(tok != NULL ? ag_unseal(app.key, tok, strlen(tok), NOW, &p) :
	    -1, AG_OK, "body: opens with the cookie key");
	is_str(ag_json_get_str(p, "mfaToken"), "RAW", "sealed: mfaToken");
	is_str(ag_json_get_str(p, "audience"), "https://bank/",
	    "sealed: audience");
	is_str(ag_json_get_str(p, "scope"), "read", "sealed: scope");
	is_str(ag_json_get_str(p, "sid"), "S1", "sealed: sid");
	is_str(ag_json_get_str(p, "sub"), "alice", "sealed: sub");
	ok(ag_json_get(p, "mfaRequirements") != NULL, "sealed: requirements");
	ag_json_get_int(p, "exp", &v);
	is_int((int)(v - NOW), 300, "sealed: exp = now + ttl");
	ag_json_get_int(p, "createdAt", &v);
	ok(v == (int64_t)NOW * 1000, "sealed: createdAt in ms");
	ag_json_free(p);
	ag_json_free(b);
	ag_json_free(e);

	/* No mfa_token from the provider: "" (log in again). */
	ag_buf_reset(&out);
	e = parse("{\"error\":\"mfa_required\"}");
	is_int(ag_mfa_required_body(&app, e, NULL, NULL, NULL, "alice", NOW,
	    300, &out), AG_OK, "no token: body");
	b = parse(ag_buf_str(&out));
	is_str(ag_json_get_str(b, "mfa_token"), "", "no token: empty");
	ok(ag_json_get_str(b, "error_description") != NULL,
	    "no token: a description");
	ok(ag_json_get(b, "mfa_requirements") == NULL,
	    "no token: no requirements");
	ag_json_free(b);
	ag_json_free(e);

	/* A token but no sub to bind it to: refused. */
	e = parse(ERR);
	is_int(ag_mfa_required_body(&app, e, NULL, NULL, NULL, NULL, NOW, 300,
	    &out), AG_ERR_PARSE, "no sub: refused");
	ag_json_free(e);
	ag_buf_free(&out);
}

static void
test_open(void)
{
	struct ag_mfa_ctx c;
	struct ag_buf other;
	ag_json *o;
	char *tok = mint(ERR, "S1", "alice", NOW, 300), *bad;

	ok(tok != NULL, "minted");
	is_int(ag_mfa_open(&app, tok, "S1", "alice", NOW + 10, &c), AG_OK,
	    "open");
	is_str(c.mfa_token, "RAW", "open: raw");
	is_str(c.audience, "https://bank/", "open: audience");
	is_str(c.scope, "read", "open: scope");
	ok(ag_mfa_type_allowed(c.requirements, "oob"), "open: requirements");
	ok(c.created_at == (int64_t)NOW * 1000, "open: createdAt");
	ag_mfa_ctx_clear(&c);

	is_int(ag_mfa_open(&app, tok, "S1", "alice", NOW + 300 +
	    AG_JWE_LEEWAY + 1, &c), AG_ERR_EXPIRED, "expired");
	ok(c.mfa_token == NULL, "expired: nothing out");
	is_int(ag_mfa_open(&app, tok, "S1", "alice", NOW + 300 +
	    AG_JWE_LEEWAY - 1, &c), AG_OK, "within the leeway");
	ag_mfa_ctx_clear(&c);
	is_int(ag_mfa_open(&app, tok, "S1", "bob", NOW, &c), AG_ERR_DENIED,
	    "another sub");
	is_int(ag_mfa_open(&app, tok, "S2", "alice", NOW, &c), AG_ERR_DENIED,
	    "another sid");
	is_int(ag_mfa_open(&app, tok, NULL, "alice", NOW, &c), AG_ERR_DENIED,
	    "a session without sid");
	is_int(ag_mfa_open(&app, tok, "S1", NULL, NOW, &c), AG_ERR_PARSE,
	    "no sub");

	bad = strdup(tok);
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
	ok(ag_mfa_open(&app, bad, "S1", "alice", NOW, &c) != AG_OK,
	    "tampered tag");
	free(bad);
	ok(ag_mfa_open(&app, "RAW", "S1", "alice", NOW, &c) != AG_OK,
	    "a raw provider token");
	ok(ag_mfa_open(&app, "", "S1", "alice", NOW, &c) != AG_OK, "empty");
	ok(ag_mfa_open(&app, NULL, "S1", "alice", NOW, &c) != AG_OK, "NULL");
	free(tok);

	/* Another value sealed with the same key (a session cookie). */
	ag_buf_init(&other, 0);
	o = parse("{\"user\":{\"sub\":\"alice\"},\"internal\":{\"sid\":"
	    "\"S1\"}}");
	ag_seal(app.key, o, NOW + 100, &other);
	is_int(ag_mfa_open(&app, ag_buf_str(&other), "S1", "alice", NOW, &c),
	    AG_ERR_PARSE, "a session cookie is no mfa_token");
	ag_json_free(o);
	ag_buf_free(&other);

	/* A sessionless binding (sid absent on both sides) works. */
	tok = mint(ERR, NULL, "alice", NOW, 60);
	is_int(ag_mfa_open(&app, tok, NULL, "alice", NOW, &c), AG_OK,
	    "no sid on either side");
	ag_mfa_ctx_clear(&c);
	ag_mfa_ctx_clear(NULL);
	free(tok);
}

/* The list json filtered by req: only the entry of id "b" is kept. */
static void
filter_keeps_b(ag_json *req, const char *json, const char *name)
{
	ag_json *list = parse(json), *out = NULL;

	is_int(ag_mfa_filter_authenticators(list, req, &out), AG_OK, name);
	is_int((int)ag_json_array_len(out), 1, name);
	is_str(ag_json_get_str(ag_json_array_get(out, 0), "id"), "b", name);
	ag_json_free(out);
	ag_json_free(list);
}

static void
test_types_and_filter(void)
{
	ag_json *req = parse("{\"challenge\":[{\"type\":\"otp\"},"
	    "{\"type\":\"OOB\"}]}");
	ag_json *enroll = parse("{\"enroll\":[{\"type\":\"otp\"}]}");
	ag_json *list, *out = NULL;
	char big[AG_MAX_MFA_AUTHENTICATORS * 40 + 16];
	size_t i, n;

	ok(ag_mfa_type_allowed(req, "otp"), "otp allowed");
	ok(ag_mfa_type_allowed(req, "oob"), "oob allowed (case)");
	ok(!ag_mfa_type_allowed(req, "recovery-code"), "recovery-code not");
	ok(!ag_mfa_type_allowed(req, NULL), "NULL not");
	ok(ag_mfa_type_allowed(NULL, "push"), "no requirements: all");
	ok(ag_mfa_type_allowed(enroll, "push"), "no challenge list: all");

	list = parse("[{\"id\":\"a\",\"authenticator_type\":\"otp\"},"
	    "{\"id\":\"b\",\"authenticator_type\":\"recovery-code\"},"
	    "{\"id\":\"c\",\"authenticator_type\":\"oob\","
	    "\"oob_channel\":\"sms\"}]");
	is_int(ag_mfa_filter_authenticators(list, req, &out), AG_OK, "filter");
	is_int((int)ag_json_array_len(out), 2, "filter: two kept");
	is_str(ag_json_get_str(ag_json_array_get(out, 1), "oob_channel"),
	    "sms", "filter: members kept");
	ag_json_free(out);
	is_int(ag_mfa_filter_authenticators(list, NULL, &out), AG_OK,
	    "no filter");
	is_int((int)ag_json_array_len(out), 3, "no filter: all");
	ag_json_free(out);
	ag_json_free(list);

	list = parse("{\"authenticator_type\":\"otp\"}");
	is_int(ag_mfa_filter_authenticators(list, req, &out), AG_ERR_PARSE,
	    "not an array");
	ok(out == NULL, "not an array: nothing out");
	ag_json_free(list);
	/* Malformed entries are skipped, as the SDK skips them. */
	filter_keeps_b(req, "[{\"id\":\"a\"},\"otp\",{\"id\":\"b\","
	    "\"authenticator_type\":\"otp\"},{\"id\":\"c\","
	    "\"authenticator_type\":7}]", "malformed entries skipped");
	/* "type" (the SDK's filter) first, authenticator_type otherwise. */
	filter_keeps_b(req, "[{\"id\":\"a\",\"authenticator_type\":\"oob\","
	    "\"type\":\"recovery-code\"},{\"id\":\"b\","
	    "\"authenticator_type\":\"recovery-code\",\"type\":\"OTP\"}]",
	    "filtered on type, not authenticator_type");

	n = 0;
	big[n++] = '[';
	for (i = 0; i <= AG_MAX_MFA_AUTHENTICATORS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		    "%s{\"authenticator_type\":\"otp\"}", i > 0 ? "," : "");
	big[n++] = ']';
	big[n] = '\0';
	list = parse(big);
	is_int(ag_mfa_filter_authenticators(list, req, &out), AG_ERR_LIMIT,
	    "too many authenticators");
	ag_json_free(list);
	ag_json_free(req);
	ag_json_free(enroll);
}

int
main(void)
{
	ag_crypto_init();
	if (ag_cookie_key("test-secret-test-secret-test-secret-0123",
	    app.key) != AG_OK)
		return 1;
	test_body();
	test_open();
	test_types_and_filter();
	return tap_done();
}
