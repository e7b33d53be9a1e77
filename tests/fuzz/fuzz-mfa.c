/*
 * fuzz-mfa.c -- what lib/mfa.c reads: the provider's MFA answers
 * (ag_mfa_read_answer for every status, ag_mfa_challenge_pick,
 * ag_mfa_filter_authenticators, ag_mfa_type_allowed), the provider's
 * mfa_required error body (ag_mfa_required_body) and the encrypted
 * mfa_token the browser sends back (ag_mfa_open).
 *
 * The input is the body.  The fuzzer cannot forge a sealed value, so
 * the input (when a JSON object) is also sealed as a token payload
 * with a fixed key and opened, and the 403 body minted from it
 * as an error body is parsed and its token opened for its own session
 * and for others.
 *
 * Checked: an answer is AG_OK only for a 2xx of the wanted type, a
 * non-2xx is AG_ERR_PROVIDER with the status and printable error
 * fields; a picked challenge holds only the three string members, with
 * challenge_type; a filtered list is a subset of allowed objects; a
 * minted token opens for its sid/sub with the raw token and
 * requirements it was given, is refused (AG_ERR_DENIED) for another
 * sub or sid and expires after its TTL; an opened token is bound to
 * the sub asked for.
 */
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "app.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "fuzz.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "mfa.h"
#include "oidc.h"

/* 2023-11-14 */
#define NOW	1700000000
#define TTL	300

static struct ag_app app;

/* 1 when s is printable ASCII. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

static void
answers(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 201, 299, 400, 403, 429, 500 };
	static const char *const keep[] = { "challenge_type", "oob_code",
	    "binding_method" };
	struct ag_http_resp resp;
	struct ag_oauth_error err;
	ag_json *out, *pick, *list;
	char why[AG_WHY_LEN];
	size_t i, k, n;
	int r, want, ok2xx;

	memset(&resp, 0, sizeof(resp));
	ag_buf_init(&resp.body, AG_MAX_IDP_RESPONSE);
	if (ag_buf_add(&resp.body, data, size) != AG_OK)
		goto out;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		resp.status = statuses[i];
		ok2xx = statuses[i] < 300;
		for (want = 0; want < 2; want++) {
			memset(&err, 0, sizeof(err));
			why[0] = '\0';
			r = ag_mfa_read_answer(&resp, "mfa/test", want ?
			    AG_JSON_OBJECT : AG_JSON_ARRAY, &out, &err, why);
			if (r == AG_OK) {
				FUZZ_CHECK(ok2xx && out != NULL);
				FUZZ_CHECK(ag_json_type(out) == (want ?
				    AG_JSON_OBJECT : AG_JSON_ARRAY));
			} else {
				FUZZ_CHECK(out == NULL && why[0] != '\0');
				FUZZ_CHECK(r == (ok2xx ? AG_ERR_PARSE :
				    AG_ERR_PROVIDER));
			}
			if (r == AG_ERR_PROVIDER) {
				FUZZ_CHECK(err.status == statuses[i]);
				FUZZ_CHECK(printable(err.error));
				FUZZ_CHECK(printable(err.description));
				FUZZ_CHECK(err.raw == NULL ||
				    ag_json_type(err.raw) == AG_JSON_OBJECT);
			}
			if (r == AG_OK && want) {
				/* The challenge answer. */
				r = ag_mfa_challenge_pick(out, &pick, why);
				FUZZ_CHECK((r == AG_OK) ==
				    (ag_json_get_str(out, "challenge_type") !=
				    NULL));
				for (k = 0; r == AG_OK &&
				    k < sizeof(keep) / sizeof(keep[0]); k++)
					FUZZ_CHECK((ag_json_get_str(pick,
					    keep[k]) != NULL) ==
					    (ag_json_get_str(out, keep[k]) !=
					    NULL));
				if (r == AG_OK)
					FUZZ_CHECK(ag_json_object_len(pick) <=
					    3);
				ag_json_free(pick);
			} else if (r == AG_OK) {
				/* The authenticator list, filtered. */
				r = ag_mfa_filter_authenticators(out, NULL,
				    &list);
				n = ag_json_array_len(out);
				if (r == AG_OK)
					FUZZ_CHECK(ag_json_array_len(list) <=
					    n && n <= AG_MAX_MFA_AUTHENTICATORS);
				else
					FUZZ_CHECK(list == NULL);
				ag_json_free(list);
			}
			ag_json_free(out);
			ag_oauth_error_clear(&err);
		}
	}
 out:
	ag_buf_free(&resp.body);
}

/* The list in j (or j itself) filtered by the requirements in j. */
static void
filter(ag_json *j)
{
	ag_json *list = ag_json_get(j, "list"), *reqs, *out = NULL, *a;
	const char *type;
	size_t i, n;
	int r;

	if (list == NULL)
		list = j;
	reqs = ag_json_get(j, "mfa_requirements");
	r = ag_mfa_filter_authenticators(list, reqs, &out);
	if (r != AG_OK) {
		FUZZ_CHECK(out == NULL);
		FUZZ_CHECK(r == AG_ERR_PARSE || r == AG_ERR_LIMIT ||
		    r == AG_ERR_NOMEM);
		FUZZ_CHECK(r != AG_ERR_PARSE ||
		    ag_json_type(list) != AG_JSON_ARRAY);
		return;
	}
	n = ag_json_array_len(out);
	FUZZ_CHECK(n <= ag_json_array_len(list));
	for (i = 0; i < n; i++) {
		a = ag_json_array_get(out, i);
		FUZZ_CHECK(ag_json_type(a) == AG_JSON_OBJECT);
		type = ag_mfa_authenticator_type(a);
		FUZZ_CHECK(type != NULL && ag_mfa_type_allowed(reqs, type));
	}
	ag_json_free(out);
	FUZZ_CHECK(ag_mfa_type_allowed(reqs, NULL) == 0);
}

/* Open sealed for sid/sub; return what ag_mfa_open returned. */
static int
open_for(const char *sealed, const char *sid, const char *sub, int64_t now,
    struct ag_mfa_ctx *ctx)
{
	int r;

	r = ag_mfa_open(&app, sealed, sid, sub, now, ctx);
	if (r == AG_OK) {
		FUZZ_CHECK(ctx->mfa_token != NULL && *ctx->mfa_token != '\0');
		FUZZ_CHECK(ctx->sub != NULL && strcmp(ctx->sub, sub) == 0);
		FUZZ_CHECK((ctx->sid == NULL) == (sid == NULL));
		FUZZ_CHECK(sid == NULL || strcmp(ctx->sid, sid) == 0);
		FUZZ_CHECK(ctx->requirements == NULL ||
		    ag_json_type(ctx->requirements) == AG_JSON_OBJECT);
	} else
		FUZZ_CHECK(ctx->mfa_token == NULL && ctx->sub == NULL &&
		    ctx->requirements == NULL);
	return r;
}

/* The 403 body minted from j as the provider's error body. */
static void
minted(ag_json *j)
{
	struct ag_mfa_ctx ctx;
	struct ag_buf body;
	ag_json *b = NULL, *reqs;
	const char *raw, *tok;
	int r;

	ag_buf_init(&body, 0);
	raw = ag_json_get_str(j, "mfa_token");
	reqs = ag_json_get(j, "mfa_requirements");
	r = ag_mfa_required_body(&app, j, "https://api/", "read:x", "S1",
	    "alice", NOW, TTL, &body);
	if (r != AG_OK) {
		FUZZ_CHECK(r == AG_ERR_NOMEM || r == AG_ERR_LIMIT);
		goto out;
	}
	FUZZ_CHECK(ag_json_parse_object(ag_buf_str(&body), body.len,
	    AG_MAX_IDP_RESPONSE, &b) == AG_OK);
	FUZZ_CHECK(strcmp(ag_json_get_str(b, "error"), "mfa_required") == 0);
	FUZZ_CHECK(ag_json_get_str(b, "error_description") != NULL);
	tok = ag_json_get_str(b, "mfa_token");
	FUZZ_CHECK(tok != NULL);
	FUZZ_CHECK((ag_json_get(b, "mfa_requirements") != NULL) ==
	    (ag_json_type(reqs) == AG_JSON_OBJECT));
	if (raw == NULL || *raw == '\0') {
		FUZZ_CHECK(*tok == '\0');
		goto out;
	}
	/* The raw token never goes out as it came. */
	FUZZ_CHECK(strcmp(tok, raw) != 0);
	FUZZ_CHECK(open_for(tok, "S1", "alice", NOW + 1, &ctx) == AG_OK);
	FUZZ_CHECK(strcmp(ctx.mfa_token, raw) == 0);
	FUZZ_CHECK(strcmp(ctx.audience, "https://api/") == 0);
	FUZZ_CHECK((ctx.requirements != NULL) ==
	    (ag_json_type(reqs) == AG_JSON_OBJECT));
	FUZZ_CHECK(ctx.created_at == (int64_t)NOW * 1000);
	ag_mfa_ctx_clear(&ctx);
	FUZZ_CHECK(open_for(tok, "S1", "bob", NOW, &ctx) == AG_ERR_DENIED);
	FUZZ_CHECK(open_for(tok, "S2", "alice", NOW, &ctx) == AG_ERR_DENIED);
	FUZZ_CHECK(open_for(tok, NULL, "alice", NOW, &ctx) == AG_ERR_DENIED);
	FUZZ_CHECK(open_for(tok, "S1", "alice", NOW + TTL + 3600, &ctx) ==
	    AG_ERR_EXPIRED);
 out:
	ag_json_free(b);
	ag_buf_free(&body);
}

/* j sealed as a token payload, opened for the session it names. */
static void
sealed_payload(ag_json *j)
{
	struct ag_mfa_ctx ctx;
	struct ag_buf sealed;
	const char *sub, *sid;
	int r;

	ag_buf_init(&sealed, 0);
	if (ag_seal(app.key, j, NOW + TTL, &sealed) != AG_OK)
		goto out;
	sub = ag_json_get_str(j, "sub");
	sid = ag_json_get_str(j, "sid");
	r = open_for(ag_buf_str(&sealed), sid, sub != NULL ? sub : "alice",
	    NOW, &ctx);
	if (r == AG_OK) {
		FUZZ_CHECK(sub != NULL);
		FUZZ_CHECK(strcmp(ctx.mfa_token,
		    ag_json_get_str(j, "mfaToken")) == 0);
	} else
		FUZZ_CHECK(r == AG_ERR_PARSE || r == AG_ERR_DENIED ||
		    r == AG_ERR_LIMIT || r == AG_ERR_NOMEM ||
		    r == AG_ERR_EXPIRED || r == AG_ERR_VERIFY);
	ag_mfa_ctx_clear(&ctx);
 out:
	ag_buf_free(&sealed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_mfa_ctx ctx;
	ag_json *j = NULL;
	char *s;

	ag_log_open("fuzz-mfa", AG_LOG_ERROR, 0);
	/* Any fixed key will do: nothing here is sealed elsewhere. */
	memset(app.key, 0x5a, sizeof(app.key));
	answers(data, size);

	/* The input as the encrypted mfa_token itself. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	FUZZ_CHECK(open_for(s, "S1", "alice", NOW, &ctx) != AG_OK);
	free(s);

	if (ag_json_parse((const char *)data, size, AG_MAX_IDP_RESPONSE, &j) != AG_OK)
		return 0;
	filter(j);
	if (ag_json_type(j) == AG_JSON_OBJECT) {
		minted(j);
		sealed_payload(j);
	}
	ag_json_free(j);
	return 0;
}
