/*
 * cmd-sessions.c -- "authgate sessions ..." and "authgate migrate".
 * See cmd-sessions.h.
 *
 * Failures of the database itself are logged by lib/db.c on stderr
 * (the CLI's logger), one line naming the file and the reason; these
 * commands add their own line only for what db.c does not report (no
 * such session, wrong store).  Values that came from the provider
 * (sub, email, name, claims) are printed with control bytes escaped,
 * so a hostile claim cannot drive the operator's terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "buf.h"
#include "cmd-sessions.h"
#include "conf.h"
#include "db.h"
#include "err.h"
#include "json.h"
#include "rand.h"

#define EXIT_USAGE	2

static const char sessions_usage[] =
"usage: authgate [-c file] sessions list [--json] [--sub SUB]\n"
"       authgate [-c file] sessions show [--json] ID\n"
"       authgate [-c file] sessions revoke ID | --sub SUB | --sid SID | --all\n"
"       authgate [-c file] sessions purge\n";

static const char migrate_usage[] =
"usage: authgate [-c file] migrate\n";

/* Print s with control bytes (C0, DEL, UTF-8 C1) escaped; its width. */
static int
put_safe(const char *s)
{
	const unsigned char *p;
	int w = 0;

	if (s == NULL) {
		fputs("-", stdout);
		return 1;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			w += printf("\\x%02x", *p);
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			w += printf("\\u%04x", p[1]);
			p++;
		} else {
			putchar(*p);
			/* Count characters, not UTF-8 continuation bytes. */
			if ((*p & 0xc0) != 0x80)
				w++;
		}
	}
	return w;
}

/* put_safe, then spaces up to width and one more. */
static void
put_col(const char *s, int width)
{
	int w;

	for (w = put_safe(s); w < width; w++)
		putchar(' ');
	putchar(' ');
}

/* "YYYY-MM-DD HH:MM:SS" in UTC, as the views' datetime(). */
static const char *
utc(int64_t t, char *buf, size_t n)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, n, "%lld", (long long)t);
	return buf;
}

/* "authgate: sessions list: unknown option '--x'" and friends. */
static int
bad_option(const char *cmd, int ch, char *argv[])
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (ch == ':')
		fprintf(stderr, "authgate: %s: option '%s' needs an argument\n",
		    cmd, opt);
	else
		fprintf(stderr, "authgate: %s: unknown option '%s'\n", cmd,
		    opt);
	return EXIT_USAGE;
}

static int
open_db(struct ag_app *app, const char *cmd, int mode, struct ag_db **db)
{
	*db = NULL;
	if (mode != AG_DB_CREATE && app->conf.store != AG_STORE_SQLITE) {
		fprintf(stderr, "authgate: %s: session.store is not sqlite\n",
		    cmd);
		return 1;
	}
	if (app->conf.session_db == NULL || *app->conf.session_db == '\0') {
		fprintf(stderr, "authgate: %s: session.db is not set\n", cmd);
		return 1;
	}
	/* db.c has logged why on failure. */
	if (ag_db_open(app->conf.session_db, mode, app->db_key, db) != AG_OK)
		return 1;
	return 0;
}

/* A string member, or JSON null for NULL. */
static int
set_str(ag_json *o, const char *k, const char *v)
{
	if (v == NULL)
		return ag_json_set(o, k, NULL);
	return ag_json_set_str(o, k, v);
}

/* The operator's view of a row as a JSON object (no data); NULL: no memory. */
static ag_json *
row_json(const struct ag_db_row *row)
{
	ag_json *o;

	if ((o = ag_json_object()) == NULL)
		return NULL;
	if (set_str(o, "id", row->id) != AG_OK ||
	    set_str(o, "sub", row->sub) != AG_OK ||
	    set_str(o, "sid", row->sid) != AG_OK ||
	    set_str(o, "email", row->email) != AG_OK ||
	    set_str(o, "name", row->name) != AG_OK ||
	    ag_json_set_int(o, "created_at", row->created_at) != AG_OK ||
	    ag_json_set_int(o, "last_seen", row->last_seen) != AG_OK ||
	    ag_json_set_int(o, "expires_at", row->expires_at) != AG_OK) {
		ag_json_free(o);
		return NULL;
	}
	return o;
}

struct list_state {
	int	 json;
	int	 n;
};

static int
list_row(const struct ag_db_row *row, void *arg)
{
	struct list_state *ls = arg;
	char t[64];
	ag_json *o;
	const char *s;

	if (ls->json) {
		if ((o = row_json(row)) == NULL || (s = ag_json_dump(o)) ==
		    NULL) {
			ag_json_free(o);
			return AG_ERR_NOMEM;
		}
		printf("%s\n  %s", ls->n == 0 ? "" : ",", s);
		ag_json_free(o);
	} else {
		put_col(row->id, AG_DB_ID_LEN);
		put_col(row->sub, 24);
		put_col(row->email, 24);
		put_col(row->name, 16);
		put_col(utc(row->created_at, t, sizeof(t)), 19);
		put_col(utc(row->last_seen, t, sizeof(t)), 19);
		put_safe(utc(row->expires_at, t, sizeof(t)));
		putchar('\n');
	}
	ls->n++;
	return 0;
}

static int
cmd_list(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sub", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct list_state ls;
	struct ag_db *db;
	const char *sub = NULL;
	int ch, r;

	memset(&ls, 0, sizeof(ls));
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			ls.json = 1;
			break;
		case 's':
			sub = optarg;
			break;
		case 'h':
			fputs(sessions_usage, stdout);
			return 0;
		default:
			return bad_option("sessions list", ch, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "authgate: sessions list: unexpected "
		    "argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (sub != NULL && *sub == '\0') {
		fprintf(stderr, "authgate: sessions list: --sub is empty\n");
		return EXIT_USAGE;
	}
	if (open_db(app, "sessions list", AG_DB_READWRITE, &db) != 0)
		return 1;
	if (ls.json)
		fputs("[", stdout);
	else
		printf("%-*s %-24s %-24s %-16s %-19s %-19s %s\n",
		    AG_DB_ID_LEN, "ID", "SUB", "EMAIL", "NAME",
		    "CREATED (UTC)", "LAST SEEN", "EXPIRES");
	r = ag_db_session_list(db, sub, ag_now(), list_row, &ls);
	if (ls.json)
		fputs(ls.n > 0 ? "\n]\n" : "]\n", stdout);
	ag_db_close(db);
	if (r != AG_OK) {
		if (r == AG_ERR_NOMEM)
			fprintf(stderr, "authgate: sessions list: %s\n",
			    ag_strerror(r));
		return 1;
	}
	return 0;
}

/* What the session's data says about its tokens, never the tokens. */
struct tokens {
	int	 access;
	int	 has_access_exp;
	int64_t	 access_exp;
	int	 refresh;
	int	 id;
	size_t	 other_access;	/* accessTokens[] (other audiences) */
	size_t	 connections;	/* connectionTokenSets[] */
};

static int
present(const ag_json *o, const char *k)
{
	const char *s = ag_json_get_str(o, k);

	return s != NULL && *s != '\0';
}

static void
tokens_get(ag_json *data, struct tokens *t)
{
	ag_json *ts = ag_json_get(data, "tokenSet"), *a;

	memset(t, 0, sizeof(*t));
	t->access = present(ts, "accessToken");
	t->has_access_exp = ag_json_get_int(ts, "expiresAt",
	    &t->access_exp) == AG_OK;
	t->refresh = present(ts, "refreshToken");
	t->id = present(ts, "idToken");
	if (ag_json_type(a = ag_json_get(data, "accessTokens")) ==
	    AG_JSON_ARRAY)
		t->other_access = ag_json_array_len(a);
	if (ag_json_type(a = ag_json_get(data, "connectionTokenSets")) ==
	    AG_JSON_ARRAY)
		t->connections = ag_json_array_len(a);
}

static int
show_json(const struct ag_db_row *row, const struct tokens *t)
{
	ag_json *o, *tj = NULL, *user;
	const char *s;
	int r = AG_ERR_NOMEM;

	if ((o = row_json(row)) == NULL || (tj = ag_json_object()) == NULL)
		goto out;
	user = ag_json_get(row->data, "user");
	if (ag_json_set(o, "user", user != NULL ? ag_json_ref(user) :
	    NULL) != AG_OK ||
	    ag_json_set(tj, "access_token", ag_json_bool(t->access)) !=
	    AG_OK ||
	    ag_json_set(tj, "access_token_expires_at", t->has_access_exp ?
	    ag_json_int(t->access_exp) : NULL) != AG_OK ||
	    ag_json_set(tj, "refresh_token", ag_json_bool(t->refresh)) !=
	    AG_OK ||
	    ag_json_set(tj, "id_token", ag_json_bool(t->id)) != AG_OK ||
	    ag_json_set_int(tj, "other_access_tokens",
	    (int64_t)t->other_access) != AG_OK ||
	    ag_json_set_int(tj, "connection_token_sets",
	    (int64_t)t->connections) != AG_OK)
		goto out;
	r = ag_json_set(o, "tokens", tj);
	tj = NULL;
	if (r != AG_OK || (s = ag_json_dump(o)) == NULL) {
		r = AG_ERR_NOMEM;
		goto out;
	}
	printf("%s\n", s);
	r = AG_OK;
out:
	ag_json_free(tj);
	ag_json_free(o);
	return r;
}

static int
show_claim(const char *k, ag_json *v, void *arg)
{
	const char *s;

	printf("  ");
	put_safe(k);
	printf(": ");
	if ((s = ag_json_dump(v)) == NULL)
		return AG_ERR_NOMEM;
	put_safe(s);
	putchar('\n');
	return 0;
}

static int
show_text(const struct ag_db_row *row, const struct tokens *t)
{
	char b[64];
	ag_json *user;

	printf("%-16s", "id");
	put_safe(row->id);
	printf("\n%-16s", "sub");
	put_safe(row->sub);
	printf("\n%-16s", "sid");
	put_safe(row->sid);
	printf("\n%-16s", "email");
	put_safe(row->email);
	printf("\n%-16s", "name");
	put_safe(row->name);
	printf("\n%-16s%s UTC\n", "created", utc(row->created_at, b,
	    sizeof(b)));
	printf("%-16s%s UTC\n", "last seen", utc(row->last_seen, b,
	    sizeof(b)));
	printf("%-16s%s UTC\n", "expires", utc(row->expires_at, b,
	    sizeof(b)));
	printf("%-16s%s", "access token", t->access ? "present" : "absent");
	if (t->access && t->has_access_exp)
		printf(", expires %s UTC", utc(t->access_exp, b, sizeof(b)));
	printf("\n%-16s%s\n", "refresh token", t->refresh ? "present" :
	    "absent");
	printf("%-16s%s\n", "id token", t->id ? "present" : "absent");
	if (t->other_access > 0)
		printf("%-16s%zu (other audiences or scopes)\n",
		    "access tokens", t->other_access);
	if (t->connections > 0)
		printf("%-16s%zu\n", "connections", t->connections);
	printf("user claims\n");
	user = ag_json_get(row->data, "user");
	if (ag_json_type(user) == AG_JSON_OBJECT)
		return ag_json_each(user, show_claim, NULL);
	return AG_OK;
}

static int
cmd_show(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ag_db_row row;
	struct tokens t;
	struct ag_db *db;
	const char *id;
	int ch, r, json = 0;

	memset(&row, 0, sizeof(row));
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(sessions_usage, stdout);
			return 0;
		default:
			return bad_option("sessions show", ch, argv);
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "authgate: sessions show: needs one session "
		    "ID\n");
		return EXIT_USAGE;
	}
	id = argv[optind];
	if (!ag_db_id_ok(id)) {
		fprintf(stderr, "authgate: sessions show: malformed session "
		    "ID (32 lower-case hex characters)\n");
		return EXIT_USAGE;
	}
	if (open_db(app, "sessions show", AG_DB_READWRITE, &db) != 0)
		return 1;
	r = ag_db_session_get(db, id, ag_now(), &row);
	ag_db_close(db);
	if (r == AG_ERR_NOTFOUND) {
		fprintf(stderr, "authgate: sessions show: no session %s (or "
		    "expired, or its data does not open)\n", id);
		return 1;
	}
	if (r != AG_OK)
		return 1;
	tokens_get(row.data, &t);
	r = json ? show_json(&row, &t) : show_text(&row, &t);
	ag_db_row_clear(&row);
	if (r != AG_OK) {
		fprintf(stderr, "authgate: sessions show: %s\n",
		    ag_strerror(r));
		return 1;
	}
	return 0;
}

static int
cmd_revoke(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "sub", required_argument, NULL, 's' },
		{ "sid", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sub = NULL, *sid = NULL, *id = NULL;
	struct ag_db *db;
	int ch, r, all = 0, n = 0, how;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sub = optarg;
			break;
		case 'i':
			sid = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 'h':
			fputs(sessions_usage, stdout);
			return 0;
		default:
			return bad_option("sessions revoke", ch, argv);
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "authgate: sessions revoke: unexpected "
		    "argument '%s'\n", argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (argc - optind == 1)
		id = argv[optind];
	how = (id != NULL) + (sub != NULL) + (sid != NULL) + all;
	if (how != 1) {
		fprintf(stderr, "authgate: sessions revoke: needs exactly one "
		    "of ID, --sub SUB, --sid SID, --all\n");
		return EXIT_USAGE;
	}
	if (id != NULL && !ag_db_id_ok(id)) {
		fprintf(stderr, "authgate: sessions revoke: malformed session "
		    "ID (32 lower-case hex characters)\n");
		return EXIT_USAGE;
	}
	if ((sub != NULL && *sub == '\0') || (sid != NULL && *sid == '\0')) {
		fprintf(stderr, "authgate: sessions revoke: empty --sub or "
		    "--sid\n");
		return EXIT_USAGE;
	}
	if (open_db(app, "sessions revoke", AG_DB_READWRITE, &db) != 0)
		return 1;
	if (id != NULL) {
		r = ag_db_session_delete(db, id);
		n = r == AG_OK;
	} else if (all)
		r = ag_db_session_delete_all(db, &n);
	else
		r = ag_db_session_delete_by(db, sid, sub, &n);
	ag_db_close(db);
	if (r == AG_ERR_NOTFOUND) {
		fprintf(stderr, "authgate: sessions revoke: no session %s\n",
		    id);
		return 1;
	}
	if (r != AG_OK)
		return 1;
	printf("revoked %d session%s\n", n, n == 1 ? "" : "s");
	return 0;
}

static int
cmd_purge(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ag_db *db;
	int ch, r, n = 0;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(sessions_usage, stdout);
			return 0;
		}
		return bad_option("sessions purge", ch, argv);
	}
	if (optind != argc) {
		fprintf(stderr, "authgate: sessions purge: unexpected "
		    "argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (open_db(app, "sessions purge", AG_DB_READWRITE, &db) != 0)
		return 1;
	r = ag_db_session_purge(db, ag_now(), &n);
	ag_db_close(db);
	if (r != AG_OK)
		return 1;
	printf("purged %d expired session%s\n", n, n == 1 ? "" : "s");
	return 0;
}

int
ag_cmd_sessions(struct ag_app *app, int argc, char *argv[])
{
	const char *sub;

	opterr = 0;
	if (argc < 2) {
		fputs(sessions_usage, stderr);
		return EXIT_USAGE;
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "help") == 0) {
		fputs(sessions_usage, stdout);
		return 0;
	}
	/* The subcommand is argv[0] of its own option scan. */
	argc--;
	argv++;
	optind = 1;
	if (strcmp(sub, "list") == 0)
		return cmd_list(app, argc, argv);
	if (strcmp(sub, "show") == 0)
		return cmd_show(app, argc, argv);
	if (strcmp(sub, "revoke") == 0)
		return cmd_revoke(app, argc, argv);
	if (strcmp(sub, "purge") == 0)
		return cmd_purge(app, argc, argv);
	fprintf(stderr, "authgate: sessions: unknown command '%s'\n", sub);
	return EXIT_USAGE;
}

int
ag_cmd_migrate(struct ag_app *app, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ag_db *db;
	int ch, r, have = 0, want = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(migrate_usage, stdout);
			return 0;
		}
		return bad_option("migrate", ch, argv);
	}
	if (optind != argc) {
		fprintf(stderr, "authgate: migrate: unexpected argument "
		    "'%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	/* AG_DB_CREATE creates the file and applies what is missing. */
	if (open_db(app, "migrate", AG_DB_CREATE, &db) != 0)
		return 1;
	r = ag_db_version(db, &have, &want);
	ag_db_close(db);
	if (r != AG_OK)
		return 1;
	printf("%s: schema version %d\n", app->conf.session_db, have);
	return 0;
}
