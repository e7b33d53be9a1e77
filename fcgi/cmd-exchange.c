/*
 * cmd-exchange.c -- `authgate exchange`: OAuth 2.0 Token Exchange
 * (RFC 8693), the SDK's customTokenExchange (reference section 11.3):
 * a token from elsewhere (a legacy system's, an access token of
 * another API) for this provider's tokens, printed as one JSON object.
 *
 * The subject and actor tokens are secrets: "-" reads one from stdin
 * (at most AG_MAX_JWT bytes, one trailing newline dropped) so that it
 * never shows in ps(1) or a shell history; the copy is wiped.  The
 * SDK's validation errors are usage errors (exit 2); the provider's
 * refusal is "authgate: exchange: exchange_failed: invalid_grant: ...".
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ag_limits.h"
#include "app.h"
#include "buf.h"
#include "cmd-grant.h"
#include "cmd-token.h"
#include "err.h"
#include "grant.h"

#define EXIT_USAGE	2

static const char exchange_usage[] =
"usage: authgate [-c file] exchange --subject-token TOKEN|- "
"--subject-token-type URI\n"
"           [--audience A] [--scope S] [--actor-token TOKEN|-\n"
"           --actor-token-type URI] [--allow-reserved-type]\n";

/*
 * A token option's value: "-" reads stdin into b (once: both tokens
 * cannot come from it), one trailing newline dropped.  0, or the exit
 * status with the line on stderr.
 */
static int
token_arg(const char *opt, const char *arg, struct ag_buf *b,
    const char **out, int *stdin_used)
{
	int r;

	*out = arg;
	if (strcmp(arg, "-") != 0)
		return 0;
	if (*stdin_used) {
		fprintf(stderr, "authgate: exchange: only one token can be "
		    "read from stdin\n");
		return EXIT_USAGE;
	}
	*stdin_used = 1;
	if ((r = ag_cmd_read_file("-", b)) != AG_OK) {
		fprintf(stderr, "authgate: exchange: %s -: %s\n", opt,
		    r == AG_ERR_LIMIT ? "longer than the largest token" :
		    "cannot read stdin");
		return 1;
	}
	if (b->len > 0 && b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
	*out = ag_buf_str(b);
	return 0;
}

int
ag_cmd_exchange(struct ag_app *app, int argc, char *argv[])
{
	enum { OPT_SUBJECT = 256, OPT_SUBJECT_TYPE, OPT_AUDIENCE, OPT_SCOPE,
	    OPT_ACTOR, OPT_ACTOR_TYPE, OPT_RESERVED };
	static const struct option opts[] = {
		{ "subject-token", required_argument, NULL, OPT_SUBJECT },
		{ "subject-token-type", required_argument, NULL,
		    OPT_SUBJECT_TYPE },
		{ "audience", required_argument, NULL, OPT_AUDIENCE },
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "actor-token", required_argument, NULL, OPT_ACTOR },
		{ "actor-token-type", required_argument, NULL, OPT_ACTOR_TYPE },
		{ "allow-reserved-type", no_argument, NULL, OPT_RESERVED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ag_exchange_req q;
	struct ag_grant_fail fail;
	struct ag_tokens t;
	struct ag_buf subject, actor;
	ag_json *claims = NULL;
	char why[AG_WHY_LEN] = "";
	int ch, rc = EXIT_USAGE, stdin_used = 0;

	memset(&q, 0, sizeof(q));
	memset(&t, 0, sizeof(t));
	ag_buf_init(&subject, AG_MAX_JWT + 2);
	ag_buf_init(&actor, AG_MAX_JWT + 2);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_SUBJECT:
			if ((rc = token_arg("--subject-token", optarg,
			    &subject, &q.subject_token, &stdin_used)) != 0)
				goto out;
			break;
		case OPT_ACTOR:
			if ((rc = token_arg("--actor-token", optarg, &actor,
			    &q.actor_token, &stdin_used)) != 0)
				goto out;
			break;
		case OPT_SUBJECT_TYPE: q.subject_token_type = optarg; break;
		case OPT_AUDIENCE: q.audience = optarg; break;
		case OPT_SCOPE: q.scope = optarg; break;
		case OPT_ACTOR_TYPE: q.actor_token_type = optarg; break;
		case OPT_RESERVED: q.allow_reserved = 1; break;
		case 'h':
			fputs(exchange_usage, stdout);
			rc = 0;
			goto out;
		default:
			fputs(exchange_usage, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc) {
		fputs(exchange_usage, stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	if (ag_exchange_check(&q, &fail, why) != AG_OK) {
		ag_cmd_grant_fail("exchange", &fail);
		rc = EXIT_USAGE;
		goto out;
	}
	if (ag_exchange_run(app->oidc, &q, &t, &claims, &fail, why) != AG_OK) {
		ag_cmd_grant_fail("exchange", &fail);
		rc = 1;
		goto out;
	}
	rc = ag_cmd_grant_print("exchange", &t, claims);
 out:
	ag_tokens_clear(&t);
	ag_json_free(claims);
	ag_buf_free(&subject);
	ag_buf_free(&actor);
	return rc;
}
