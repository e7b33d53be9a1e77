/*
 * authgate -- the admin and scripting CLI.
 *
 *	authgate [-c file] check [--offline]
 *	authgate [-c file] cookie --user JSON [--access-token T]
 *	    [--refresh-token R] [--id-token I] [--expires-in S] [--db]
 *	authgate [-c file] sessions list|show|revoke|purge ...
 *	authgate [-c file] migrate
 *	authgate [-c file] session get | update --set KEY=JSON ...
 *	authgate [-c file] token [--audience A] [--scope S] [--json] ...
 *	authgate [-c file] fetch [--method M] [--data BODY] ... URL
 *	authgate keygen [--alg ES256|RS256] [--out FILE]
 *	authgate [-c file] accounts list | disconnect ID ...
 *	authgate [-c file] ciba --login-hint SUB --binding-message TEXT ...
 *	authgate [-c file] exchange --subject-token T --subject-token-type URI ...
 *
 * Exit status: 0 success, 1 failure (one line on stderr), 2 bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd-keygen.h"
#include "cmd-accounts.h"
#include "cmd-grant.h"
#include "cmd-sessions.h"
#include "cmd-token.h"
#include "crypto.h"
#include "db.h"
#include "err.h"
#include "json.h"
#include "ag_limits.h"
#include "log.h"
#include "oidc.h"
#include "priv.h"
#include "rand.h"

#define EXIT_USAGE	2

static const char *conf_path;

static const char usage_text[] =
"usage: authgate [-c file] command [options]\n"
"\n"
"commands:\n"
"  check [--offline]      validate the configuration; unless --offline,\n"
"                         also fetch the provider's discovery document\n"
"  cookie --user JSON [--access-token T] [--refresh-token R]\n"
"         [--id-token I] [--expires-in S] [--db]\n"
"                         print a session cookie value for tests (the\n"
"                         SDK's generateSessionCookie); --db stores it\n"
"                         in session.db and prints the id cookie\n"
"  sessions list [--json] [--sub S] | show ID |\n"
"           revoke (ID | --sub S | --sid SID | --all) | purge\n"
"                         inspect and end sessions (session.store = sqlite)\n"
"  migrate                create or upgrade the session database\n"
"  session get | update --set KEY=JSON ...\n"
"                         the request's session, from a program that\n"
"                         authgate-wrap started (HTTP_COOKIE)\n"
"  token [--audience A] [--scope S] [--no-merge-scopes] [--refresh]\n"
"        [--json] [--set-cookie] [--session ID]\n"
"                         the session's access token, refreshed when\n"
"                         expired (the request's session, or --session)\n"
"  fetch [--method M] [--data BODY | --data-file F] [--header H]...\n"
"        [--base-url URL] [--audience A] [--scope S] [--no-merge-scopes]\n"
"        [--refresh] [--session ID] URL\n"
"                         call an API with the session's access token\n"
"  keygen [--alg ES256|RS256] [--out FILE]\n"
"                         a new private key (dpop.key, client_assertion_key);\n"
"                         prints the public JWK and its thumbprint\n"
"  token --connection NAME [--login-hint H] [--subject-token-type URI]\n"
"        [--json] [--set-cookie] [--session ID]\n"
"                         a Token Vault connection's access token\n"
"  accounts list [--json] [--set-cookie] [--session ID] |\n"
"           disconnect [--set-cookie] [--session ID] ID\n"
"                         connected accounts (Auth0 My Account API)\n"
"  ciba --login-hint SUB --binding-message TEXT [--scope S] [--audience A]\n"
"       [--requested-expiry N]\n"
"                         backchannel login (CIBA): wait for the user's\n"
"                         approval on their device, print the tokens\n"
"  exchange --subject-token T|- --subject-token-type URI [--audience A]\n"
"           [--scope S] [--actor-token T|- --actor-token-type URI]\n"
"           [--allow-reserved-type]\n"
"                         RFC 8693 token exchange, print the tokens\n"
"\n"
"Run 'authgate COMMAND --help' for a command's options; see authgate(1).\n";

static int
usage(FILE *f)
{
	fputs(usage_text, f);
	return f == stdout ? 0 : EXIT_USAGE;
}

/* Load the configuration; print the problems and return 1 on failure. */
static int
load(struct ag_app *app, int quiet)
{
	struct ag_buf problems;
	int r;

	ag_buf_init(&problems, 64 * 1024);
	r = ag_app_open(app, conf_path, &problems);
	if (r != AG_OK) {
		if (!quiet)
			fputs(ag_buf_str(&problems), stderr);
		else
			fprintf(stderr, "authgate: configuration invalid; "
			    "run 'authgate check'\n");
	}
	ag_buf_free(&problems);
	return r == AG_OK ? 0 : 1;
}

static int
cmd_check(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "offline", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct ag_provider *p;
	struct ag_app app;
	struct ag_buf warn;
	char why[AG_WHY_LEN] = "";
	int ch, offline = 0, rc = 0;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'o')
			offline = 1;
		else if (ch == 'h') {
			printf("usage: authgate [-c file] check [--offline]\n");
			return 0;
		} else
			return EXIT_USAGE;
	}
	if (load(&app, 0) != 0) {
		ag_app_close(&app);
		return 1;
	}
	if (ag_oidc_keys_init(app.oidc, why) != AG_OK) {
		fprintf(stderr, "%s\n", why);
		ag_app_close(&app);
		return 1;
	}
	ag_buf_init(&warn, 16 * 1024);
	ag_conf_warnings(&app.conf, &warn);
	(void)ag_rules_warnings(&app.rules, &app.conf, &warn);
	fputs(ag_buf_str(&warn), stderr);
	ag_buf_free(&warn);
	if (!offline) {
		if (ag_oidc_provider(app.oidc, &p, why) != AG_OK) {
			fprintf(stderr, "provider: %s\n", why);
			rc = 1;
		}
	}
	if (rc == 0)
		printf("ok\n");
	ag_app_close(&app);
	return rc;
}

/*
 * --db: store the session as a row of session.db and seal only its id
 * into the cookie, as a login in SQLite mode does.
 */
static int
db_session(struct ag_app *app, ag_json *session, int64_t now,
    struct ag_buf *out)
{
	char id[AG_DB_ID_LEN + 1];
	struct ag_db *db;
	ag_json *c;
	int r;

	if (app->conf.store != AG_STORE_SQLITE) {
		fprintf(stderr, "authgate: cookie --db: session.store is not "
		    "sqlite\n");
		return AG_ERR_CONFIG;
	}
	if ((r = ag_app_db(app, &db)) != AG_OK ||
	    (r = ag_db_new_id(id)) != AG_OK ||
	    (r = ag_db_session_insert(db, id, session, now,
	    now + 3600)) != AG_OK)
		return r;
	if ((c = ag_json_object()) == NULL)
		return AG_ERR_NOMEM;
	if ((r = ag_json_set_str(c, "id", id)) == AG_OK)
		r = ag_seal(app->key, c, now + 3600, out);
	ag_json_free(c);
	return r;
}

static int
cmd_cookie(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "access-token", required_argument, NULL, 'a' },
		{ "refresh-token", required_argument, NULL, 'r' },
		{ "id-token", required_argument, NULL, 'i' },
		{ "expires-in", required_argument, NULL, 'e' },
		{ "db", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *user = NULL, *at = "", *rt = NULL, *it = NULL;
	long long expires_in = 3600;
	struct ag_app app;
	struct ag_buf out;
	ag_json *s = NULL, *u = NULL, *ts = NULL, *in = NULL;
	int64_t now = ag_now();
	char *end;
	int ch, rc = 1, use_db = 0;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': use_db = 1; break;
		case 'u': user = optarg; break;
		case 'a': at = optarg; break;
		case 'r': rt = optarg; break;
		case 'i': it = optarg; break;
		case 'e':
			expires_in = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || expires_in < 0) {
				fprintf(stderr, "authgate: --expires-in: not a "
				    "number of seconds\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("usage: authgate [-c file] cookie --user JSON "
			    "[--access-token T] [--refresh-token R]\n"
			    "       [--id-token I] [--expires-in S] [--db]\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (user == NULL) {
		fprintf(stderr, "authgate: cookie: --user JSON is required\n");
		return EXIT_USAGE;
	}
	if (ag_json_parse_object(user, strlen(user), AG_MAX_SESSION_JSON,
	    &u) != AG_OK || ag_json_get_str(u, "sub") == NULL) {
		fprintf(stderr, "authgate: cookie: --user must be a JSON "
		    "object with a string \"sub\"\n");
		ag_json_free(u);
		return EXIT_USAGE;
	}
	if (load(&app, 1) != 0) {
		ag_json_free(u);
		ag_app_close(&app);
		return 1;
	}
	ag_buf_init(&out, AG_MAX_SESSION_JSON * 2);
	if ((s = ag_json_object()) == NULL || (ts = ag_json_object()) == NULL ||
	    (in = ag_json_object()) == NULL ||
	    ag_json_set_str(ts, "accessToken", at) != AG_OK ||
	    (rt && ag_json_set_str(ts, "refreshToken", rt) != AG_OK) ||
	    (it && ag_json_set_str(ts, "idToken", it) != AG_OK) ||
	    ag_json_set_int(ts, "expiresAt", now + expires_in) != AG_OK ||
	    ag_json_set_str(in, "sid", "auth0-sid") != AG_OK ||
	    ag_json_set_int(in, "createdAt", now) != AG_OK)
		goto out;
	if (ag_json_set(s, "user", u) != AG_OK) {
		u = NULL;
		goto out;
	}
	u = NULL;
	if (ag_json_set(s, "tokenSet", ts) != AG_OK) {
		ts = NULL;
		goto out;
	}
	ts = NULL;
	if (ag_json_set(s, "internal", in) != AG_OK) {
		in = NULL;
		goto out;
	}
	in = NULL;
	/* generateSessionCookie: exp = now + 1 hour, fixed. */
	if (use_db) {
		if (db_session(&app, s, now, &out) != AG_OK)
			goto out;
	} else if (ag_seal(app.key, s, now + 3600, &out) != AG_OK)
		goto out;
	printf("%s\n", ag_buf_str(&out));
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "authgate: cookie: cannot build the cookie\n");
	ag_json_free(s);
	ag_json_free(u);
	ag_json_free(ts);
	ag_json_free(in);
	ag_buf_free(&out);
	ag_app_close(&app);
	return rc;
}

/*
 * Installed setgid, we keep the group only for the installed
 * configuration: any other path (-c, AUTHGATE_CONFIG) is read with the
 * caller's own rights, or the group would read files for them.
 */
/* Drop the setgid group; 1 (with a line on stderr) when that fails. */
static int
drop_group(void)
{
	char why[256];

	if (ag_priv_drop(why, sizeof(why)) != AG_OK) {
		fprintf(stderr, "authgate: %s\n", why);
		return 1;
	}
	return 0;
}

static int
guard_config(void)
{
	const char *p = conf_path != NULL ? conf_path :
	    getenv("AUTHGATE_CONFIG");

	if (!ag_priv_elevated() || p == NULL ||
	    strcmp(p, AG_CONF_DEFAULT_PATH) == 0)
		return 0;
	return drop_group();
}

/* 1 when the arguments name a session by id (--session ID). */
static int
names_session(int argc, char *argv[])
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "--session", 9) == 0 &&
		    (argv[i][9] == '\0' || argv[i][9] == '='))
			return 1;
	}
	return 0;
}

/*
 * Installed setgid, the group is kept only for the commands a legacy
 * program runs on behalf of the request's own session (session get and
 * update, token and fetch, which need its cookie).  Everything else --
 * minting cookies, listing or revoking sessions, migrating, a token
 * for a session named by id -- is the administrator's, and runs with
 * the caller's own rights: otherwise any local user, and every wrapped
 * program, could mint a session for anyone or use anyone's.
 */
static int
guard_command(const char *cmd, int argc, char *argv[])
{
	static const char *const keep[] = { "session", "token", "fetch",
	    "accounts" };
	size_t i;

	if (!ag_priv_elevated())
		return 0;
	for (i = 0; i < sizeof(keep) / sizeof(*keep); i++)
		if (strcmp(cmd, keep[i]) == 0 && !names_session(argc, argv))
			return 0;
	return drop_group();
}

/* 1 when the arguments ask for help: then no configuration is needed. */
static int
wants_help(int argc, char *argv[])
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "help") == 0)
			return 1;
	return 0;
}

/* Run a command that needs the loaded configuration. */
static int
with_app(int (*cmd)(struct ag_app *, int, char *[]), int argc, char *argv[])
{
	struct ag_app app;
	int rc;

	memset(&app, 0, sizeof(app));
	if (wants_help(argc, argv))
		return cmd(&app, argc, argv);
	if (load(&app, 1) != 0) {
		ag_app_close(&app);
		return 1;
	}
	rc = cmd(&app, argc, argv);
	ag_app_close(&app);
	return rc;
}

int
main(int argc, char *argv[])
{
	const char *cmd;
	int ch;

	ag_log_open("authgate", AG_LOG_WARN, 0);
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		return usage(stdout);
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage(stderr);
	if (guard_config() != 0 || guard_command(argv[0], argc, argv) != 0)
		return 1;
	cmd = argv[0];
	optind = 1;
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0)
		return usage(stdout);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "cookie") == 0)
		return cmd_cookie(argc, argv);
	if (strcmp(cmd, "sessions") == 0)
		return with_app(ag_cmd_sessions, argc, argv);
	if (strcmp(cmd, "session") == 0)
		return with_app(ag_cmd_session, argc, argv);
	if (strcmp(cmd, "token") == 0)
		return with_app(ag_cmd_token, argc, argv);
	if (strcmp(cmd, "fetch") == 0)
		return with_app(ag_cmd_fetch, argc, argv);
	if (strcmp(cmd, "migrate") == 0)
		return with_app(ag_cmd_migrate, argc, argv);
	if (strcmp(cmd, "keygen") == 0)
		return ag_cmd_keygen(argc, argv);
	if (strcmp(cmd, "accounts") == 0)
		return with_app(ag_cmd_accounts, argc, argv);
	if (strcmp(cmd, "ciba") == 0)
		return with_app(ag_cmd_ciba, argc, argv);
	if (strcmp(cmd, "exchange") == 0)
		return with_app(ag_cmd_exchange, argc, argv);
	fprintf(stderr, "authgate: unknown command '%s'\n", cmd);
	return usage(stderr);
}
