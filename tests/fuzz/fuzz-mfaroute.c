/*
 * fuzz-mfaroute.c -- what the browser sends to the MFA step-up routes
 * (fcgi/h-mfa.c): the Authorization header, the Content-Type and the
 * JSON body of /auth/mfa/{authenticators,challenge,associate,verify},
 * through the handlers themselves (linked in by tests/fuzz/fuzz.mk).
 *
 * The input's first line is the Authorization value, the second the
 * Content-Type, the rest the body; a first byte of '!' marks the body
 * too large (as CONTENT_LENGTH over AG_MAX_REQUEST_BODY does).  The
 * request has no cookies, so every handler stops at the missing session
 * at the latest: nothing reaches the provider.
 *
 * Checked: every answer is a 400 invalid_request, a 401
 * missing_session, a 413 or a 415, a JSON object with string error and
 * error_description, with Cache-Control: no-store; a request that
 * reaches the session check (401) had a plausible bearer token where
 * the route needs one, a JSON object body where it reads one, and for
 * verify exactly one credential.
 */
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "app.h"
#include "buf.h"
#include "conf.h"
#include "err.h"
#include "fuzz.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "req.h"

static const char conf_text[] =
	"domain = tenant.example.com\n"
	"client_id = abc123\n"
	"client_secret = client-secret-value\n"
	"secret = 0123456789abcdef0123456789abcdef\n"
	"app_base_url = https://app.example.com\n";

static struct ag_app app;
static int ready;

typedef int (*handler)(struct ag_app *, struct ag_req *, struct ag_resp *);

static const struct {
	const char	*name;
	handler		 h;
	int		 bearer;	/* needs Authorization: Bearer */
	int		 body;		/* reads a JSON body */
} routes[] = {
	{ "authenticators",	ag_h_mfa_authenticators,	1, 0 },
	{ "challenge",		ag_h_mfa_challenge,		0, 1 },
	{ "associate",		ag_h_mfa_associate,		1, 1 },
	{ "verify",		ag_h_mfa_verify,		1, 1 },
};

/* 1 when the body is a JSON object (what the routes accept). */
static int
json_object(const struct ag_req *req, ag_json **out)
{
	*out = NULL;
	return !req->body_too_large && req->body != NULL &&
	    ag_req_media_type(req->content_type, "application/json") &&
	    ag_json_parse_object(req->body, req->body_len,
	    AG_MAX_REQUEST_BODY, out) == AG_OK;
}

/* 1 when s is a non-empty string of at most AG_MAX_MFA_FIELD bytes. */
static int
usable(ag_json *body, const char *name)
{
	const char *s = ag_json_get_str(body, name);

	return s != NULL && *s != '\0' && strlen(s) <= AG_MAX_MFA_FIELD;
}

/*
 * 1 when s is shaped like a sealed mfa_token (an independent model of
 * h-mfa.c's check): 1..AG_MAX_JWT bytes of base64url and dots.
 */
static int
token_shaped(ag_json *body, const char *name)
{
	const char *s = ag_json_get_str(body, name);
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.");
	return n > 0 && s[n] == '\0' && n <= AG_MAX_JWT;
}

static void
check(size_t i, const struct ag_req *req, const struct ag_resp *w)
{
	ag_json *doc = NULL, *body = NULL;
	const char *err, *auth = req->authorization;
	int creds;

	FUZZ_CHECK(w->status == 400 || w->status == 401 ||
	    w->status == 413 || w->status == 415);
	FUZZ_CHECK(strstr(ag_buf_str(&w->head), "Cache-Control: no-store\r\n")
	    != NULL);
	FUZZ_CHECK(ag_json_parse_object(ag_buf_str(&w->body), w->body.len,
	    AG_MAX_REQUEST_BODY, &doc) == AG_OK);
	err = ag_json_get_str(doc, "error");
	FUZZ_CHECK(err != NULL &&
	    ag_json_get_str(doc, "error_description") != NULL);
	FUZZ_CHECK(strcmp(err, w->status == 401 ? "missing_session" :
	    "invalid_request") == 0);
	if (w->status == 413)
		FUZZ_CHECK(req->body_too_large);
	if (w->status != 401)
		goto out;
	if (routes[i].bearer)
		FUZZ_CHECK(auth != NULL && strncasecmp(auth, "Bearer ", 7) ==
		    0 && auth[7 + strspn(auth + 7, " ")] != '\0');
	if (routes[i].body)
		FUZZ_CHECK(json_object(req, &body));
	if (strcmp(routes[i].name, "verify") == 0) {
		creds = usable(body, "otp") + usable(body, "oob_code") +
		    usable(body, "recovery_code");
		FUZZ_CHECK(creds == 1);
		FUZZ_CHECK(ag_json_get(body, "binding_code") == NULL ||
		    usable(body, "oob_code"));
	}
	if (strcmp(routes[i].name, "challenge") == 0)
		FUZZ_CHECK(token_shaped(body, "mfa_token") &&
		    usable(body, "challenge_type"));
	if (strcmp(routes[i].name, "associate") == 0)
		FUZZ_CHECK(ag_json_array_len(ag_json_get(body,
		    "authenticator_types")) >= 1);
 out:
	ag_json_free(body);
	ag_json_free(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const envp[] = { NULL };
	struct ag_buf problems;
	struct ag_req req;
	struct ag_resp w;
	char *s, *p, *end;
	size_t i;
	int r;

	ag_log_open("fuzz-mfaroute", AG_LOG_ERROR, 0);
	if (!ready) {
		ag_buf_init(&problems, 0);
		if (ag_conf_parse(&app.conf, conf_text, sizeof(conf_text) - 1,
		    envp, &problems) != AG_OK ||
		    ag_cookie_key(app.conf.secret, app.key) != AG_OK)
			abort();
		ag_buf_free(&problems);
		ready = 1;
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.query = "";
	p = s;
	end = s + size;
	if (size > 0 && *p == '!') {
		req.body_too_large = 1;
		p++;
	}
	req.authorization = fuzz_line(&p, end);
	req.content_type = fuzz_line(&p, end);
	req.body = p;
	req.body_len = p != NULL ? (size_t)(end - p) : 0;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		ag_resp_init(&w);
		r = routes[i].h(&app, &req, &w);
		FUZZ_CHECK(r == AG_OK);
		check(i, &req, &w);
		ag_resp_free(&w);
	}
	free(s);
	return 0;
}
