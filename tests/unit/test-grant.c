/*
 * test-grant.c -- lib/grant.c without a network: the CIBA request's
 * checks and form (Auth0's iss_sub login_hint), the backchannel answer
 * parser (bounds, the provider's error), the poll state machine
 * (authorization_pending, slow_down adding 5 s, 503, final errors, the
 * deadline, the poll cap) and the whole poll loop with a scripted token
 * endpoint and a sleep that moves the pinned clock; the token exchange
 * checks in the SDK's order with its codes, the reserved namespaces,
 * the form (scope merged with the SDK default) and the printed JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "conf.h"
#include "err.h"
#include "grant.h"
#include "http.h"
#include "json.h"
#include "rand.h"
#include "tap.h"
#include "url.h"

/* ------------------------------------------------------- CIBA checks */

static void
test_ciba_check(void)
{
	struct ag_ciba_req q = { "alice", "Transfer 100 EUR", NULL, NULL, 0 };
	struct ag_grant_fail f;
	char why[AG_WHY_LEN], big[AG_MAX_BINDING_MESSAGE + 2];

	is_int(ag_ciba_check(&q, &f, why), AG_OK, "ciba: plain request ok");
	memset(big, 'm', sizeof(big) - 2);
	big[AG_MAX_BINDING_MESSAGE] = '\0';
	q.binding_message = big;
	is_int(ag_ciba_check(&q, &f, why), AG_OK,
	    "ciba: binding message at the bound ok");
	big[AG_MAX_BINDING_MESSAGE] = 'm';
	big[AG_MAX_BINDING_MESSAGE + 1] = '\0';
	is_int(ag_ciba_check(&q, &f, why), AG_ERR_PARSE,
	    "ciba: binding message one past the bound refused");
	is_str(f.code, "invalid_request", "ciba: ... as invalid_request");
	q.binding_message = "";
	is_int(ag_ciba_check(&q, &f, why), AG_ERR_PARSE,
	    "ciba: empty binding message refused");
	q.binding_message = "line\nbreak";
	is_int(ag_ciba_check(&q, &f, why), AG_ERR_PARSE,
	    "ciba: control byte in binding message refused");
	q.binding_message = "Zahlung 100 \xe2\x82\xac";
	is_int(ag_ciba_check(&q, &f, why), AG_OK,
	    "ciba: UTF-8 binding message ok");
	q.login_hint_sub = NULL;
	is_int(ag_ciba_check(&q, &f, why), AG_ERR_PARSE,
	    "ciba: missing sub refused");
	q.login_hint_sub = "alice";
	q.requested_expiry = AG_CIBA_MAX_EXPIRY + 1;
	is_int(ag_ciba_check(&q, &f, why), AG_ERR_PARSE,
	    "ciba: requested expiry past the bound refused");
	q.requested_expiry = AG_CIBA_MAX_EXPIRY;
	is_int(ag_ciba_check(&q, &f, why), AG_OK,
	    "ciba: requested expiry at the bound ok");
}

/* The decoded value of name in form, or NULL (owned by the caller). */
static char *
form_get(const char *form, const char *name)
{
	struct ag_params p;
	const char *v;
	char *out = NULL;

	memset(&p, 0, sizeof(p));
	if (ag_params_parse(form, strlen(form), AG_MAX_QUERY, &p) == AG_OK &&
	    (v = ag_params_get(&p, name)) != NULL)
		out = strdup(v);
	ag_params_free(&p);
	return out;
}

/* Check that form's value of name is want. */
static void
form_is(const char *form, const char *name, const char *want,
    const char *label)
{
	char *v = form_get(form, name);

	is_str(v, want, label);
	free(v);
}

static void
test_ciba_form(void)
{
	struct ag_ciba_req q = { "auth0|alice", "Sign in?", NULL, NULL, 120 };
	struct ag_conf c;
	struct ag_buf b;
	ag_json *hint = NULL;
	char *v;

	memset(&c, 0, sizeof(c));
	c.scope = "openid profile email offline_access";
	c.audience = "https://api.example.test/";
	c.audience_param = AG_AUDIENCE_AUDIENCE;
	ag_buf_init(&b, 0);
	is_int(ag_ciba_form(&c, "https://op.example/", &q, &b), AG_OK,
	    "ciba form: built");
	v = form_get(ag_buf_str(&b), "login_hint");
	ok(v != NULL && ag_json_parse_object(v, strlen(v), 4096, &hint) ==
	    AG_OK, "ciba form: login_hint is a JSON object");
	is_str(ag_json_get_str(hint, "format"), "iss_sub",
	    "ciba form: login_hint format iss_sub");
	is_str(ag_json_get_str(hint, "iss"), "https://op.example/",
	    "ciba form: login_hint iss is the issuer");
	is_str(ag_json_get_str(hint, "sub"), "auth0|alice",
	    "ciba form: login_hint sub");
	ag_json_free(hint);
	free(v);
	form_is(ag_buf_str(&b), "scope", "openid profile email offline_access",
	    "ciba form: conf scope by default");
	form_is(ag_buf_str(&b), "audience", "https://api.example.test/", "ciba form: conf audience");
	form_is(ag_buf_str(&b), "binding_message", "Sign in?", "ciba form: binding_message");
	form_is(ag_buf_str(&b), "requested_expiry", "120", "ciba form: requested_expiry");

	ag_buf_reset(&b);
	q.scope = "openid";
	q.requested_expiry = 0;
	c.audience_param = AG_AUDIENCE_RESOURCE;
	ag_ciba_form(&c, "https://op.example/", &q, &b);
	form_is(ag_buf_str(&b), "scope", "openid", "ciba form: --scope wins");
	form_is(ag_buf_str(&b), "resource", "https://api.example.test/",
	    "ciba form: audience.param = resource");
	v = form_get(ag_buf_str(&b), "requested_expiry");
	ok(v == NULL, "ciba form: no requested_expiry when not asked");
	free(v);
	ag_buf_free(&b);
}

/* ------------------------------------------------ backchannel answer */

static int
start_parse(long status, const char *body, struct ag_ciba_start *s,
    struct ag_grant_fail *f)
{
	struct ag_http_resp resp;
	char why[AG_WHY_LEN];
	int r;

	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	ag_buf_init(&resp.body, 0);
	ag_buf_puts(&resp.body, body);
	r = ag_ciba_start_parse(&resp, s, f, why);
	ag_http_resp_free(&resp);
	return r;
}

static void
test_start_parse(void)
{
	struct ag_ciba_start s;
	struct ag_grant_fail f;
	char body[AG_MAX_AUTH_REQ_ID + 128], id[AG_MAX_AUTH_REQ_ID + 2];

	is_int(start_parse(200, "{\"auth_req_id\":\"abc\",\"expires_in\":300,"
	    "\"interval\":2}", &s, &f), AG_OK, "start: parsed");
	is_str(s.auth_req_id, "abc", "start: auth_req_id");
	is_int(s.expires_in, 300, "start: expires_in");
	is_int(s.interval, 2, "start: interval");
	ag_ciba_start_clear(&s);
	start_parse(200, "{\"auth_req_id\":\"abc\",\"expires_in\":99999}",
	    &s, &f);
	is_int(s.expires_in, AG_CIBA_MAX_EXPIRY, "start: expires_in capped");
	is_int(s.interval, AG_CIBA_DEFAULT_INTERVAL,
	    "start: interval defaults to 5 s");
	ag_ciba_start_clear(&s);
	start_parse(200, "{\"auth_req_id\":\"abc\",\"expires_in\":60,"
	    "\"interval\":86400}", &s, &f);
	is_int(s.interval, AG_CIBA_MAX_INTERVAL, "start: interval capped");
	ag_ciba_start_clear(&s);
	is_int(start_parse(200, "{\"expires_in\":60}", &s, &f), AG_ERR_PARSE,
	    "start: no auth_req_id refused");
	ok(s.auth_req_id == NULL, "start: cleared on failure");
	is_int(start_parse(200, "{\"auth_req_id\":\"a\"}", &s, &f),
	    AG_ERR_PARSE, "start: no expires_in refused");
	is_int(start_parse(200, "{\"auth_req_id\":\"a\",\"expires_in\":0}",
	    &s, &f), AG_ERR_PARSE, "start: expires_in 0 refused");
	is_int(start_parse(200, "{\"auth_req_id\":\"a\",\"expires_in\":\"60\"}",
	    &s, &f), AG_ERR_PARSE, "start: expires_in string refused");
	is_int(start_parse(200, "{\"auth_req_id\":\"a b\",\"expires_in\":6}",
	    &s, &f), AG_ERR_PARSE, "start: auth_req_id with a space refused");
	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	id[AG_MAX_AUTH_REQ_ID] = '\0';
	snprintf(body, sizeof(body), "{\"auth_req_id\":\"%s\","
	    "\"expires_in\":6}", id);
	is_int(start_parse(200, body, &s, &f), AG_OK,
	    "start: auth_req_id at the bound ok");
	ag_ciba_start_clear(&s);
	id[AG_MAX_AUTH_REQ_ID] = 'i';
	snprintf(body, sizeof(body), "{\"auth_req_id\":\"%s\","
	    "\"expires_in\":6}", id);
	is_int(start_parse(200, body, &s, &f), AG_ERR_PARSE,
	    "start: auth_req_id one past the bound refused");
	is_int(start_parse(200, "[1]", &s, &f), AG_ERR_PARSE,
	    "start: not an object refused");
	is_int(start_parse(400, "{\"error\":\"unknown_user_id\","
	    "\"error_description\":\"no such user\\r\\nX: y\"}", &s, &f),
	    AG_ERR_PROVIDER, "start: 400 is the provider's error");
	is_str(f.code, "backchannel_authentication_error",
	    "start: SDK code");
	is_str(f.cause, "unknown_user_id", "start: cause is the OAuth error");
	ok(strchr(f.description, '\r') == NULL &&
	    strchr(f.description, '\n') == NULL,
	    "start: description without line breaks");
	is_int(start_parse(502, "<html>", &s, &f), AG_ERR_PROVIDER,
	    "start: 502 without JSON is an error");
	is_str(f.cause, "unknown_error", "start: ... unknown_error");
}

/* ------------------------------------------------ poll state machine */

static struct ag_oauth_error
oauth(long status, const char *error)
{
	struct ag_oauth_error e;

	memset(&e, 0, sizeof(e));
	e.status = status;
	snprintf(e.error, sizeof(e.error), "%s", error);
	return e;
}

static void
test_next(void)
{
	struct ag_ciba_start s = { NULL, 30, 2 };
	struct ag_ciba_poll p;
	struct ag_oauth_error e;
	struct ag_grant_fail f;
	char why[AG_WHY_LEN];
	unsigned i;

	ag_ciba_poll_init(&p, &s, 1000);
	is_int(p.deadline, 1030, "next: deadline start + expires_in");
	is_int(p.interval, 2, "next: interval from the answer");
	e = oauth(400, "authorization_pending");
	is_int(ag_ciba_next(&p, AG_ERR_PROVIDER, &e, 1002, &f, why),
	    AG_CIBA_AGAIN, "next: authorization_pending polls again");
	is_int(p.interval, 2, "next: ... at the same interval");
	e = oauth(400, "slow_down");
	is_int(ag_ciba_next(&p, AG_ERR_PROVIDER, &e, 1004, &f, why),
	    AG_CIBA_AGAIN, "next: slow_down polls again");
	is_int(p.interval, 2 + AG_CIBA_SLOW_DOWN, "next: ... 5 s slower");
	e = oauth(503, "");
	is_int(ag_ciba_next(&p, AG_ERR_PROVIDER, &e, 1011, &f, why),
	    AG_CIBA_AGAIN, "next: 503 polls again");
	e = oauth(400, "access_denied");
	is_int(ag_ciba_next(&p, AG_ERR_PROVIDER, &e, 1018, &f, why),
	    AG_CIBA_FAIL, "next: access_denied ends");
	is_str(f.cause, "access_denied", "next: ... cause access_denied");
	is_str(f.code, "backchannel_authentication_error",
	    "next: ... SDK code");
	e = oauth(400, "expired_token");
	is_int(ag_ciba_next(&p, AG_ERR_PROVIDER, &e, 1018, &f, why),
	    AG_CIBA_FAIL, "next: expired_token ends");
	snprintf(why, sizeof(why), "token endpoint: connection refused");
	is_int(ag_ciba_next(&p, AG_ERR_HTTP, NULL, 1018, &f, why),
	    AG_CIBA_FAIL, "next: network failure ends");
	ok(strstr(f.description, "connection refused") != NULL,
	    "next: ... saying why");
	is_int(ag_ciba_next(&p, AG_OK, NULL, 1018, &f, why), AG_CIBA_DONE,
	    "next: tokens end it");

	/* The deadline: the next poll would come too late. */
	e = oauth(400, "authorization_pending");
	is_int(ag_ciba_next(&p, AG_ERR_PROVIDER, &e, 1024, &f, why),
	    AG_CIBA_FAIL, "next: past the deadline ends");
	is_str(f.cause, "expired_token", "next: ... as expired_token");

	/* The poll cap. */
	s.expires_in = AG_CIBA_MAX_EXPIRY;
	s.interval = 1;
	ag_ciba_poll_init(&p, &s, 0);
	for (i = 1; i < AG_CIBA_MAX_POLLS; i++)
		if (ag_ciba_next(&p, AG_ERR_PROVIDER, &e, 0, &f, why) !=
		    AG_CIBA_AGAIN)
			break;
	is_int(i, AG_CIBA_MAX_POLLS, "next: polls again up to the cap");
	is_int(ag_ciba_next(&p, AG_ERR_PROVIDER, &e, 0, &f, why),
	    AG_CIBA_FAIL, "next: the cap ends it");
}

/* A scripted token endpoint: answers[i] for poll i ("" = tokens). */
struct script {
	const char	*answers[16];
	long		 status[16];
	size_t		 n, polls;
	int64_t		 slept[16];
	size_t		 naps;
	int64_t		 poll_at[16];
	char		 form[512];
};

static int
fake_token(void *arg, const char *form, struct ag_tokens *t,
    struct ag_oauth_error *err, char *why)
{
	struct script *s = arg;
	const char *a;

	snprintf(s->form, sizeof(s->form), "%s", form);
	if (s->polls >= s->n)
		return AG_ERR_HTTP;
	s->poll_at[s->polls] = ag_now();
	a = s->answers[s->polls];
	if (*a == '\0') {
		t->access_token = strdup("at-123");
		t->token_type = strdup("bearer");
		t->expires_in = 60;
		s->polls++;
		return AG_OK;
	}
	*err = oauth(s->status[s->polls], a);
	snprintf(why, AG_WHY_LEN, "token endpoint: HTTP %ld %s",
	    s->status[s->polls], a);
	s->polls++;
	return AG_ERR_PROVIDER;
}

/* The fake sleep moves the pinned clock. */
static void
fake_sleep(void *arg, int64_t secs)
{
	struct script *s = arg;

	if (s->naps < 16)
		s->slept[s->naps++] = secs;
	ag_clock_set(ag_now() + secs);
}

static void
test_poll_run(void)
{
	struct script sc;
	struct ag_ciba_ops ops = { fake_token, fake_sleep, &sc };
	struct ag_ciba_start st = { "req-1", 60, 2 };
	struct ag_tokens t;
	struct ag_grant_fail f;
	char why[AG_WHY_LEN];

	memset(&sc, 0, sizeof(sc));
	sc.answers[0] = "authorization_pending"; sc.status[0] = 400;
	sc.answers[1] = "slow_down"; sc.status[1] = 400;
	sc.answers[2] = "authorization_pending"; sc.status[2] = 400;
	sc.answers[3] = "";
	sc.n = 4;
	ag_clock_set(5000);
	is_int(ag_ciba_poll_run(&ops, &st, &t, &f, why), AG_OK,
	    "poll: approved after three polls");
	is_str(t.access_token, "at-123", "poll: the tokens are returned");
	is_int(sc.polls, 4, "poll: four polls");
	is_int(sc.slept[0], 2, "poll: waits interval before the first");
	is_int(sc.slept[1], 2, "poll: interval after pending");
	is_int(sc.slept[2], 7, "poll: interval + 5 after slow_down");
	is_int(sc.slept[3], 7, "poll: the slower interval stays");
	is_int(sc.poll_at[3] - sc.poll_at[2], 7, "poll: clock agrees");
	form_is(sc.form, "grant_type", AG_GRANT_CIBA, "poll: grant_type ciba");
	form_is(sc.form, "auth_req_id", "req-1", "poll: auth_req_id");
	ag_tokens_clear(&t);

	memset(&sc, 0, sizeof(sc));
	sc.answers[0] = "authorization_pending"; sc.status[0] = 400;
	sc.answers[1] = "access_denied"; sc.status[1] = 400;
	sc.n = 2;
	is_int(ag_ciba_poll_run(&ops, &st, &t, &f, why), AG_ERR_PROVIDER,
	    "poll: denied");
	is_str(f.cause, "access_denied", "poll: ... access_denied");
	ok(t.access_token == NULL, "poll: no tokens on failure");

	memset(&sc, 0, sizeof(sc));
	for (sc.n = 0; sc.n < 16; sc.n++) {
		sc.answers[sc.n] = "authorization_pending";
		sc.status[sc.n] = 400;
	}
	st.expires_in = 9;
	is_int(ag_ciba_poll_run(&ops, &st, &t, &f, why), AG_ERR_EXPIRED,
	    "poll: nobody answers: expired");
	is_str(f.cause, "expired_token", "poll: ... expired_token");
	is_int(sc.polls, 4, "poll: polled until the deadline (2,4,6,8 s)");
	ag_clock_set(-1);
}

/* ---------------------------------------------------- token exchange */

/* The code ag_exchange_check gives (or "ok"). */
static const char *
xcheck(const char *st, const char *type, const char *at, const char *att,
    int allow)
{
	static struct ag_grant_fail f;
	struct ag_exchange_req q;
	char why[AG_WHY_LEN];

	memset(&q, 0, sizeof(q));
	q.subject_token = st;
	q.subject_token_type = type;
	q.actor_token = at;
	q.actor_token_type = att;
	q.allow_reserved = allow;
	if (ag_exchange_check(&q, &f, why) == AG_OK)
		return "ok";
	return f.code;
}

static void
test_exchange_check(void)
{
	char t100[AG_TOKEN_TYPE_MAX + 2];

	is_str(xcheck("tok", "urn:acme:legacy-token", NULL, NULL, 0), "ok",
	    "exchange: custom URN ok");
	is_str(xcheck("", "urn:acme:legacy-token", NULL, NULL, 0),
	    "missing_subject_token", "exchange: empty subject token");
	is_str(xcheck("   ", "urn:acme:legacy-token", NULL, NULL, 0),
	    "missing_subject_token", "exchange: blank subject token");
	is_str(xcheck(NULL, "urn:acme:legacy-token", NULL, NULL, 0),
	    "missing_subject_token", "exchange: no subject token");
	is_str(xcheck("a b", "urn:acme:legacy-token", NULL, NULL, 0),
	    "invalid_request", "exchange: subject token with a space");
	is_str(xcheck("tok", "urn:a:bcd", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: type of 9 chars");
	is_str(xcheck("tok", "urn:a:bcde", NULL, NULL, 0), "ok",
	    "exchange: type of 10 chars ok");
	memset(t100, 'x', sizeof(t100));
	memcpy(t100, "urn:acme:", 9);
	t100[AG_TOKEN_TYPE_MAX] = '\0';
	is_str(xcheck("tok", t100, NULL, NULL, 0), "ok",
	    "exchange: type of 100 chars ok");
	t100[AG_TOKEN_TYPE_MAX] = 'x';
	t100[AG_TOKEN_TYPE_MAX + 1] = '\0';
	is_str(xcheck("tok", t100, NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: type of 101 chars");
	is_str(xcheck("tok", NULL, NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: no type");
	is_str(xcheck("tok", "not-a-valid-uri", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: type not a URI");
	is_str(xcheck("tok", "https://example.com/token-type/v1", NULL, NULL,
	    0), "ok", "exchange: https type ok");
	is_str(xcheck("tok", "https:///token-type", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: https without host");
	is_str(xcheck("tok", "urn:ac me:legacy", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: space in a URN");
	is_str(xcheck("tok", "urn:-acme:legacy", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: NID starting with -");
	is_str(xcheck("tok", "urn:ietf:params:oauth:token-type:access_token",
	    NULL, NULL, 0), "invalid_subject_token_type",
	    "exchange: urn:ietf:params:oauth reserved");
	is_str(xcheck("tok", "URN:IETF:params:oauth:token-type:jwt", NULL,
	    NULL, 0), "invalid_subject_token_type",
	    "exchange: reserved, whatever the case");
	is_str(xcheck("tok", "urn:auth0:token-type:x", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: urn:auth0 reserved");
	is_str(xcheck("tok", "urn:okta:token-type:x", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: urn:okta reserved");
	is_str(xcheck("tok", "https://auth0.com/token/x", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: auth0.com reserved");
	is_str(xcheck("tok", "http://okta.com/token/x", NULL, NULL, 0),
	    "invalid_subject_token_type", "exchange: okta.com reserved");
	is_str(xcheck("tok", "https://auth0.company.example/t", NULL, NULL,
	    0), "ok", "exchange: auth0.company.example is not auth0.com");
	is_str(xcheck("tok", "urn:auth0x:token-type", NULL, NULL, 0), "ok",
	    "exchange: urn:auth0x is not urn:auth0");
	is_str(xcheck("tok", "urn:ietf:params:oauth:token-type:access_token",
	    NULL, NULL, 1), "ok", "exchange: reserved allowed on request");
	is_str(xcheck("tok", "urn:acme:legacy-token", "act", NULL, 0),
	    "missing_actor_token_type", "exchange: actor without type");
	is_str(xcheck("tok", "urn:acme:legacy-token", "act",
	    "not-a-valid-uri-1234", 0), "invalid_actor_token_type",
	    "exchange: actor type not a URI");
	is_str(xcheck("tok", "urn:acme:legacy-token", "act", "urn:a:bcd", 0),
	    "ok", "exchange: short actor type ok (no length rule)");
	is_str(xcheck("tok", "urn:acme:legacy-token", "act",
	    "http://corporate-idp/id-token", 0), "ok",
	    "exchange: http actor type ok");
	is_str(xcheck("tok", "urn:acme:legacy-token", NULL,
	    "urn:acme:actor-type", 0), "ok",
	    "exchange: actor type without actor ignored");
}

static void
test_exchange_form(void)
{
	struct ag_exchange_req q;
	struct ag_buf b;

	memset(&q, 0, sizeof(q));
	q.subject_token = "sub-tok";
	q.subject_token_type = "urn:acme:legacy-token";
	q.scope = "read:data openid write:data";
	q.audience = "https://api.example.test/";
	q.actor_token = "act-tok";
	q.actor_token_type = "urn:acme:actor";
	ag_buf_init(&b, 0);
	is_int(ag_exchange_form(&q, &b), AG_OK, "exchange form: built");
	form_is(ag_buf_str(&b), "grant_type", AG_GRANT_TOKEN_EXCHANGE, "exchange form: grant_type");
	form_is(ag_buf_str(&b), "scope", "openid profile email offline_access read:data write:data",
	    "exchange form: scope merged with the SDK default");
	form_is(ag_buf_str(&b), "subject_token", "sub-tok", "exchange form: subject_token");
	form_is(ag_buf_str(&b), "audience", "https://api.example.test/", "exchange form: audience");
	form_is(ag_buf_str(&b), "actor_token_type", "urn:acme:actor", "exchange form: actor_token_type");
	ag_buf_reset(&b);
	q.actor_token = NULL;
	q.audience = NULL;
	ag_exchange_form(&q, &b);
	ok(strstr(ag_buf_str(&b), "actor_token") == NULL &&
	    strstr(ag_buf_str(&b), "audience") == NULL,
	    "exchange form: no actor or audience unless given");
	ag_buf_free(&b);
}

static void
test_grant_json(void)
{
	struct ag_tokens t;
	struct ag_buf b;
	ag_json *o = NULL, *claims = NULL;
	int64_t n = 0;

	memset(&t, 0, sizeof(t));
	t.access_token = strdup("at");
	t.token_type = strdup("bearer");
	t.refresh_token = strdup("rt");
	t.expires_in = 60;
	ag_json_parse_object("{\"issued_token_type\":\"urn:x:y\"}", 31, 100,
	    &t.raw);
	ag_json_parse_object("{\"sub\":\"alice\"}", 15, 100, &claims);
	ag_buf_init(&b, 0);
	is_int(ag_grant_json(&t, claims, 1000, &b), AG_OK, "json: printed");
	ok(ag_json_parse_object(ag_buf_str(&b), b.len, 4096, &o) == AG_OK,
	    "json: an object");
	is_str(ag_json_get_str(o, "accessToken"), "at", "json: accessToken");
	is_str(ag_json_get_str(o, "tokenType"), "bearer", "json: tokenType");
	is_str(ag_json_get_str(o, "refreshToken"), "rt", "json: refreshToken");
	ok(ag_json_get(o, "idToken") == NULL, "json: no idToken when none");
	is_str(ag_json_get_str(o, "issuedTokenType"), "urn:x:y",
	    "json: issuedTokenType");
	ag_json_get_int(o, "expiresAt", &n);
	is_int(n, 1060, "json: expiresAt = now + expires_in");
	is_str(ag_json_get_str(ag_json_get(o, "idTokenClaims"), "sub"),
	    "alice", "json: idTokenClaims");
	ag_json_free(o);
	ag_json_free(claims);
	ag_tokens_clear(&t);
	ag_buf_free(&b);
}

int
main(void)
{
	test_ciba_check();
	test_ciba_form();
	test_start_parse();
	test_next();
	test_poll_run();
	test_exchange_check();
	test_exchange_form();
	test_grant_json();
	return tap_done();
}
