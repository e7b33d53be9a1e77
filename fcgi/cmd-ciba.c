/*
 * cmd-ciba.c -- `authgate ciba`: Client-Initiated Backchannel
 * Authentication, the SDK's getTokenByBackchannelAuth (reference
 * section 11.4), for scripts and back offices that need a user's
 * approval on the user's own device ("approve the transfer of 100 EUR").
 *
 * The command blocks while the user decides: it polls the token
 * endpoint interval seconds apart (lib/grant.c) until tokens, a refusal
 * or the request's expiry, and then prints the token set -- with the
 * validated ID token's claims as idTokenClaims -- as one JSON object.
 * Nothing is stored.  The failure line names the SDK's code and the
 * provider's error: "authgate: ciba: backchannel_authentication_error:
 * access_denied: ...".
 *
 * Also home to the output helpers both grant commands share.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "app.h"
#include "cmd-grant.h"
#include "err.h"
#include "grant.h"
#include "rand.h"

#define EXIT_USAGE	2

static const char ciba_usage[] =
"usage: authgate [-c file] ciba --login-hint SUB --binding-message TEXT\n"
"           [--scope S] [--audience A] [--requested-expiry SECONDS]\n";

void
ag_cmd_grant_fail(const char *cmd, const struct ag_grant_fail *f)
{
	if (f->cause[0] != '\0')
		fprintf(stderr, "authgate: %s: %s: %s: %s\n", cmd, f->code,
		    f->cause, f->description);
	else
		fprintf(stderr, "authgate: %s: %s: %s\n", cmd, f->code,
		    f->description);
}

int
ag_cmd_grant_print(const char *cmd, const struct ag_tokens *t,
    const ag_json *claims)
{
	struct ag_buf out;
	int r;

	ag_buf_init(&out, 0);
	if ((r = ag_grant_json(t, claims, ag_now(), &out)) == AG_OK)
		printf("%s\n", ag_buf_str(&out));
	else
		fprintf(stderr, "authgate: %s: cannot print the tokens: %s\n",
		    cmd, ag_strerror(r));
	ag_buf_free(&out);
	return r == AG_OK ? 0 : 1;
}

/* A number of seconds, 1..max; -1 when s is not one. */
static long long
seconds(const char *s, long long max)
{
	long long n;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	n = strtoll(s, &end, 10);
	if (*end != '\0' || n < 1 || n > max)
		return -1;
	return n;
}

int
ag_cmd_ciba(struct ag_app *app, int argc, char *argv[])
{
	enum { OPT_HINT = 256, OPT_BINDING, OPT_SCOPE, OPT_AUDIENCE,
	    OPT_EXPIRY };
	static const struct option opts[] = {
		{ "login-hint", required_argument, NULL, OPT_HINT },
		{ "binding-message", required_argument, NULL, OPT_BINDING },
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "audience", required_argument, NULL, OPT_AUDIENCE },
		{ "requested-expiry", required_argument, NULL, OPT_EXPIRY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ag_ciba_req q;
	struct ag_grant_fail fail;
	struct ag_tokens t;
	ag_json *claims = NULL;
	char why[AG_WHY_LEN] = "";
	int ch, r;

	memset(&q, 0, sizeof(q));
	memset(&t, 0, sizeof(t));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_HINT: q.login_hint_sub = optarg; break;
		case OPT_BINDING: q.binding_message = optarg; break;
		case OPT_SCOPE: q.scope = optarg; break;
		case OPT_AUDIENCE: q.audience = optarg; break;
		case OPT_EXPIRY:
			if ((q.requested_expiry = seconds(optarg,
			    AG_CIBA_MAX_EXPIRY)) < 0) {
				fprintf(stderr, "authgate: ciba: "
				    "--requested-expiry: 1 to %d seconds\n",
				    AG_CIBA_MAX_EXPIRY);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(ciba_usage, stdout);
			return 0;
		default:
			fputs(ciba_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || q.login_hint_sub == NULL ||
	    q.binding_message == NULL) {
		fputs(ciba_usage, stderr);
		return EXIT_USAGE;
	}
	if (ag_ciba_check(&q, &fail, why) != AG_OK) {
		ag_cmd_grant_fail("ciba", &fail);
		return EXIT_USAGE;
	}
	r = ag_ciba_run(app->oidc, &app->conf, &q, NULL, &t, &claims, &fail,
	    why);
	if (r == AG_OK)
		r = ag_cmd_grant_print("ciba", &t, claims);
	else {
		ag_cmd_grant_fail("ciba", &fail);
		r = 1;
	}
	ag_tokens_clear(&t);
	ag_json_free(claims);
	return r;
}
