/*
 * cmd-session.c -- the SDK's getSession/updateSession for legacy
 * programs:
 *
 *	authgate session get
 *	authgate session update --set KEY=JSON [--set KEY=JSON ...]
 *
 * Run inside a program that authgate-wrap started, they find the
 * request's session through the HTTP_COOKIE it inherited.  get prints
 * the user and the custom top-level data as one JSON object (never a
 * token, never "internal").  update merges custom top-level members
 * (never tokenSet, accessTokens, connectionTokenSets, internal; "user"
 * only as an object keeping the same sub): with the SQLite store it
 * writes the row; with cookie sessions it prints the Set-Cookie header
 * lines, which the program emits among its own headers.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "app.h"
#include "cmd-request.h"
#include "cmd-sessions.h"
#include "cookie.h"
#include "err.h"
#include "json.h"
#include "req.h"
#include "session.h"

#define EXIT_USAGE	2
#define MAX_SETS	32

/* Members that only authgate writes. */
static const char *const protected_keys[] = {
	"tokenSet", "accessTokens", "connectionTokenSets", "internal", "exp",
};

static int
is_protected(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(protected_keys) / sizeof(*protected_keys); i++)
		if (strcmp(key, protected_keys[i]) == 0)
			return 1;
	return 0;
}

/* The request's session, from HTTP_COOKIE.  Prints why on failure. */
static int
current(struct ag_app *app, struct ag_cookies *jar, struct ag_session *s)
{
	const char *why;
	int r;

	if ((r = ag_cmd_request_session(app, jar, s, &why)) != AG_OK)
		fprintf(stderr, "authgate: session: %s\n", why != NULL ? why :
		    ag_strerror(r));
	return r;
}

static int
copy_public(const char *key, ag_json *val, void *arg)
{
	if (is_protected(key))
		return 0;
	return ag_json_set(arg, key, ag_json_copy(val)) != AG_OK;
}

static int
session_get(struct ag_app *app, int argc, char *argv[])
{
	struct ag_session s;
	struct ag_cookies jar;
	ag_json *out;
	int rc = 1;

	if (argc > 2) {
		fprintf(stderr, "authgate: session get takes no argument\n");
		return EXIT_USAGE;
	}
	if (current(app, &jar, &s) != AG_OK) {
		ag_cookies_free(&jar);
		ag_session_free(&s);
		return 1;
	}
	if ((out = ag_json_object()) != NULL &&
	    ag_json_each(s.data, copy_public, out) == 0) {
		printf("%s\n", ag_json_dump(out));
		rc = 0;
	}
	ag_json_free(out);
	ag_cookies_free(&jar);
	ag_session_free(&s);
	return rc;
}

/* Parse "KEY=JSON" and merge it into data, under the rules above. */
static int
apply_set(ag_json *data, const char *arg)
{
	const char *eq = strchr(arg, '='), *sub, *nsub;
	ag_json *val = NULL;
	char key[128];
	size_t klen;

	if (eq == NULL || eq == arg ||
	    (klen = (size_t)(eq - arg)) >= sizeof(key)) {
		fprintf(stderr, "authgate: session update: --set wants "
		    "KEY=JSON\n");
		return EXIT_USAGE;
	}
	memcpy(key, arg, klen);
	key[klen] = '\0';
	if (is_protected(key)) {
		fprintf(stderr, "authgate: session update: %s is written by "
		    "authgate only\n", key);
		return EXIT_USAGE;
	}
	if (ag_json_parse(eq + 1, strlen(eq + 1), AG_MAX_SESSION_JSON,
	    &val) != AG_OK) {
		fprintf(stderr, "authgate: session update: the value of %s "
		    "is not JSON\n", key);
		return EXIT_USAGE;
	}
	if (strcmp(key, "user") == 0) {
		sub = ag_json_get_str(ag_json_get(data, "user"), "sub");
		nsub = ag_json_get_str(val, "sub");
		if (ag_json_type(val) != AG_JSON_OBJECT || sub == NULL ||
		    nsub == NULL || strcmp(sub, nsub) != 0) {
			fprintf(stderr, "authgate: session update: user must "
			    "stay an object with the same sub\n");
			ag_json_free(val);
			return EXIT_USAGE;
		}
	}
	return ag_json_set(data, key, val) == AG_OK ? 0 : 1;
}

static int
session_update(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sets[MAX_SETS];
	struct ag_session s;
	struct ag_cookies jar;
	struct ag_resp w;
	size_t nsets = 0, i;
	int ch, rc, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			printf("usage: authgate session update --set KEY=JSON "
			    "[--set KEY=JSON ...]\n");
			return 0;
		}
		if (ch == 's' && nsets < MAX_SETS)
			sets[nsets++] = optarg;
		else if (ch == 's') {
			fprintf(stderr, "authgate: session update: at most %d "
			    "--set\n", MAX_SETS);
			return EXIT_USAGE;
		} else
			return EXIT_USAGE;
	}
	if (nsets == 0 || optind != argc) {
		fprintf(stderr, "usage: authgate session update --set KEY=JSON "
		    "[--set KEY=JSON ...]\n");
		return EXIT_USAGE;
	}
	if (current(app, &jar, &s) != AG_OK) {
		ag_cookies_free(&jar);
		ag_session_free(&s);
		return 1;
	}
	for (i = 0; i < nsets; i++)
		if ((rc = apply_set(s.data, sets[i])) != 0) {
			ag_cookies_free(&jar);
			ag_session_free(&s);
			return rc;
		}
	ag_resp_init(&w);
	if ((r = ag_session_write(app, &jar, &s, &w)) == AG_OK) {
		if (app->conf.store != AG_STORE_SQLITE)
			ag_cmd_print_set_cookies(&w);
		rc = 0;
	} else {
		fprintf(stderr, "authgate: session update: %s\n",
		    r == AG_ERR_NOTFOUND ? "the session ended meanwhile" :
		    r == AG_ERR_LIMIT ? "the session would be too large" :
		    ag_strerror(r));
		rc = 1;
	}
	ag_resp_free(&w);
	ag_cookies_free(&jar);
	ag_session_free(&s);
	return rc;
}

int
ag_cmd_session(struct ag_app *app, int argc, char *argv[])
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		printf("usage: authgate [-c file] session get\n"
		    "       authgate [-c file] session update --set KEY=JSON "
		    "[--set KEY=JSON ...]\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "get") == 0)
		return session_get(app, argc, argv);
	if (strcmp(argv[1], "update") == 0)
		return session_update(app, argc - 1, argv + 1);
	fprintf(stderr, "authgate: session: unknown subcommand '%s'\n",
	    argv[1]);
	return EXIT_USAGE;
}
