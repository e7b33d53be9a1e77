/*
 * test-cgienv.c -- the environment of a protected program: claims to
 * variables (names, values, arrays, collisions, caps), the hostile
 * values of tests/data/cgienv/values.txt, the parent allow-list against
 * tests/data/cgienv/parent-{cgi,spoof}.env, the authorizer headers,
 * and an execve round trip through /usr/bin/env.
 *
 * Data files are read from $AG_TEST_DATA (default "tests/data", i.e. run
 * from the top of the tree).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_limits.h"
#include "buf.h"
#include "cgienv.h"
#include "conf.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "url.h"

#include "tap.h"
#include "util.h"

#define EXPIRES	1735689600

static FILE *
open_data(const char *name)
{
	const char *dir;
	char path[1024];
	FILE *f;

	if ((dir = getenv("AG_TEST_DATA")) == NULL)
		dir = "tests/data";
	snprintf(path, sizeof(path), "%s/cgienv/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		printf("# cannot open %s\n", path);
	return f;
}

/* A data file's lines (comments and blanks skipped), unescaped. */
struct lines {
	char	*v[256];
	size_t	 n;
};

static int
read_lines(const char *name, struct lines *l, int unesc)
{
	char line[4096];
	FILE *f;
	size_t len;

	l->n = 0;
	if ((f = open_data(name)) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && l->n < 256) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (unesc && unescape(line) < 0) {
			printf("# bad escape in %s: %s\n", name, line);
			fclose(f);
			return -1;
		}
		l->v[l->n++] = strdup(line);
	}
	fclose(f);
	return 0;
}

static void
free_lines(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static ag_json *
parse(const char *s)
{
	ag_json *v = NULL;

	if (ag_json_parse_object(s, strlen(s), 1 << 20, &v) != AG_OK) {
		printf("# bad test JSON: %s\n", s);
		abort();
	}
	return v;
}

static void
session(struct ag_env_session *s, ag_json *user)
{
	memset(s, 0, sizeof(*s));
	s->user = user;
	s->session_expires = EXPIRES;
}

/* How many entries are named name. */
static size_t
count_name(const struct ag_env *e, const char *name)
{
	size_t i, n = 0, len = strlen(name);

	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=')
			n++;
	return n;
}

/* Number of entries whose name starts with prefix. */
static size_t
count_prefix(const struct ag_env *e, const char *prefix)
{
	size_t i, n = 0;

	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* The invariants every built environment keeps. */
static void
check_env(const struct ag_env *e, const char *what, int with_session)
{
	char name[256];
	size_t i, total = 0;
	const unsigned char *p;
	int good = 1, names = 1;

	for (i = 0; i < e->n; i++) {
		total += strlen(e->v[i]) + 1;
		for (p = (const unsigned char *)e->v[i]; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				good = 0;
		if (strncmp(e->v[i], "OIDC_", 5) == 0) {
			for (p = (const unsigned char *)e->v[i]; *p != '=';
			    p++)
				if (!((*p >= 'A' && *p <= 'Z') ||
				    (*p >= 'a' && *p <= 'z') ||
				    (*p >= '0' && *p <= '9') || *p == '_'))
					names = 0;
		}
	}
	snprintf(name, sizeof(name), "%s: NULL-terminated", what);
	ok(e->v != NULL && e->v[e->n] == NULL, name);
	snprintf(name, sizeof(name), "%s: total is the sum", what);
	is_int(e->total, total, name);
	snprintf(name, sizeof(name), "%s: no control bytes", what);
	ok(good, name);
	snprintf(name, sizeof(name), "%s: names are [A-Za-z0-9_]", what);
	ok(names, name);
	snprintf(name, sizeof(name), "%s: at most one REMOTE_USER", what);
	ok(count_name(e, "REMOTE_USER") <= (size_t)with_session, name);
	snprintf(name, sizeof(name), "%s: AUTH_TYPE once if ours", what);
	is_int(count_name(e, "AUTH_TYPE"), with_session, name);
}

static char *
read_file(const char *name)
{
	FILE *f;
	char *s;
	long n;

	if ((f = open_data(name)) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static void
test_auth0_user(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user, *back = NULL;
	const char *j;
	char *text;

	if ((text = read_file("auth0-user.json")) == NULL) {
		ok(0, "auth0-user.json readable");
		return;
	}
	user = parse(text);
	free(text);
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "auth0 user: added");
	check_env(&e, "auth0 user", 1);
	is_str(ag_env_get(&e, "REMOTE_USER"), "auth0|64f1c2a9e4b0a1b2c3d4e5f6",
	    "REMOTE_USER is sub by default");
	is_str(ag_env_get(&e, "AUTH_TYPE"), "openid-connect", "AUTH_TYPE");
	is_str(ag_env_get(&e, "OIDC_session_expires"), "1735689600",
	    "OIDC_session_expires in seconds");
	is_str(ag_env_get(&e, "OIDC_CLAIM_sub"),
	    "auth0|64f1c2a9e4b0a1b2c3d4e5f6", "OIDC_CLAIM_sub");
	is_str(ag_env_get(&e, "OIDC_CLAIM_name"), "Jane Doe", "name");
	is_str(ag_env_get(&e, "OIDC_CLAIM_email"), "jane@example.com",
	    "email");
	is_str(ag_env_get(&e, "OIDC_CLAIM_email_verified"), "1",
	    "boolean true is 1");
	is_str(ag_env_get(&e, "OIDC_CLAIM_roles"), "admin,editor",
	    "array joined");
	is_str(ag_env_get(&e, "OIDC_CLAIM_roles_COUNT"), "2", "array count");
	is_str(ag_env_get(&e, "OIDC_CLAIM_roles_0"), "admin", "array _0");
	is_str(ag_env_get(&e, "OIDC_CLAIM_roles_1"), "editor", "array _1");
	is_str(ag_env_get(&e, "OIDC_CLAIM_roles_2"), NULL, "no array _2");
	is_str(ag_env_get(&e, "OIDC_CLAIM_https___example_com_roles"),
	    "CN=Admins\\,OU=Groups,a\\\\b",
	    "namespaced claim: name mapped, ',' and '\\' escaped");
	is_str(ag_env_get(&e, "OIDC_CLAIM_https___example_com_roles_0"),
	    "CN=Admins,OU=Groups", "indexed element unescaped");
	is_str(ag_env_get(&e, "OIDC_CLAIM_https___example_com_roles_1"),
	    "a\\b", "indexed element with backslash unescaped");
	is_str(ag_env_get(&e, "OIDC_CLAIM_address"),
	    "{\"country\":\"us\",\"locality\":\"Boston\"}",
	    "object as compact JSON");
	is_str(ag_env_get(&e, "OIDC_CLAIM_age"), "42", "integer");
	is_str(ag_env_get(&e, "OIDC_CLAIM_score"), "3.1415927",
	    "double %.8g");
	is_str(ag_env_get(&e, "OIDC_CLAIM_big"), "1000",
	    "integral double in decimal");
	is_str(ag_env_get(&e, "OIDC_CLAIM_nothing"), "", "null is empty");
	is_str(ag_env_get(&e, "OIDC_access_token"), NULL,
	    "no access token unless passed");
	is_str(ag_env_get(&e, "OIDC_scope"), NULL, "no scope unless passed");
	j = ag_env_get(&e, "OIDC_CLAIMS_JSON");
	ok(j != NULL && ag_json_parse_object(j, strlen(j), 1 << 20, &back) ==
	    AG_OK, "OIDC_CLAIMS_JSON parses");
	if (back != NULL) {
		is_str(ag_json_get_str(back, "sub"),
		    "auth0|64f1c2a9e4b0a1b2c3d4e5f6", "OIDC_CLAIMS_JSON sub");
		is_int(ag_json_object_len(back), ag_json_object_len(user),
		    "OIDC_CLAIMS_JSON holds every claim");
	}
	ok(e.total <= AG_MAX_ENV_TOTAL, "under the total cap");
	ag_json_free(back);
	ag_env_free(&e);
	ok(e.v == NULL && e.n == 0 && e.total == 0, "ag_env_free resets");
	ag_env_free(NULL);

	/* Access token variables when given. */
	session(&s, user);
	s.access_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig";
	s.access_token_type = "DPoP";
	s.access_token_expires = 1735690000;
	s.scope = "openid profile read:reports";
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "with token: added");
	is_str(ag_env_get(&e, "OIDC_access_token"), s.access_token,
	    "OIDC_access_token");
	is_str(ag_env_get(&e, "OIDC_access_token_type"), "DPoP",
	    "OIDC_access_token_type");
	is_str(ag_env_get(&e, "OIDC_access_token_expires"), "1735690000",
	    "OIDC_access_token_expires");
	is_str(ag_env_get(&e, "OIDC_scope"), "openid profile read:reports",
	    "OIDC_scope");
	ag_env_free(&e);
	ag_json_free(user);
}

/* REMOTE_USER from json with claim; want NULL when it must be unset. */
static void
remote_user_case(const char *json, const char *claim, const char *want,
    const char *name)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;

	user = parse(json);
	session(&s, user);
	s.remote_user_claim = claim;
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, name);
	is_str(ag_env_get(&e, "REMOTE_USER"), want, name);
	ok(count_name(&e, "REMOTE_USER") == (want != NULL ? 1 : 0), name);
	ag_env_free(&e);
	ag_json_free(user);
}

static void
test_remote_user(void)
{
	remote_user_case("{\"sub\":\"u1\",\"email\":\"a@b.c\"}", NULL, "u1",
	    "REMOTE_USER: default sub");
	remote_user_case("{\"sub\":\"u1\",\"email\":\"a@b.c\"}", "", "u1",
	    "REMOTE_USER: empty claim name means sub");
	remote_user_case("{\"sub\":\"u1\",\"email\":\"a@b.c\"}", "email",
	    "a@b.c", "REMOTE_USER: custom claim");
	remote_user_case("{\"sub\":\"u1\"}", "email", "u1",
	    "REMOTE_USER: absent custom claim falls back to sub");
	remote_user_case("{\"sub\":\"u1\",\"email\":true}", "email", "u1",
	    "REMOTE_USER: boolean claim falls back to sub");
	remote_user_case("{\"sub\":\"u1\",\"email\":[\"x\"]}", "email", "u1",
	    "REMOTE_USER: array claim falls back to sub");
	remote_user_case("{\"sub\":\"u1\",\"email\":\"\"}", "email", "u1",
	    "REMOTE_USER: empty claim falls back to sub");
	remote_user_case("{\"sub\":\"u1\",\"email\":\"admin\\u0000x\"}",
	    "email", "u1", "REMOTE_USER: NUL in claim falls back to sub");
	remote_user_case("{\"sub\":\"u1\",\"email\":\"() { :;}; id\"}",
	    "email", "u1", "REMOTE_USER: Shellshock claim falls back to sub");
	remote_user_case("{\"sub\":\"() { :;}; id\"}", NULL, NULL,
	    "REMOTE_USER: unusable sub leaves it unset");
	remote_user_case("{\"sub\":\"a\\u0000b\",\"email\":\"x\"}", "nick",
	    NULL, "REMOTE_USER: NUL sub and absent claim leave it unset");
	remote_user_case("{\"name\":\"x\"}", NULL, NULL,
	    "REMOTE_USER: no sub leaves it unset");
	remote_user_case("{\"sub\":12345}", NULL, "12345",
	    "REMOTE_USER: numeric sub rendered");
	remote_user_case("{\"sub\":\"a\\r\\nSet-Cookie: x\"}", NULL,
	    "a  Set-Cookie: x", "REMOTE_USER: CR/LF neutralised");
}

/* REMOTE_USER from a sub of raw bytes (what JSON escapes cannot make). */
static void
test_remote_user_raw(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;

	user = ag_json_object();
	ag_json_set_str(user, "sub", "u\xed\xa0\x80\xff");
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "raw sub: added");
	is_str(ag_env_get(&e, "REMOTE_USER"),
	    "u\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "REMOTE_USER: invalid UTF-8 repaired");
	ag_env_free(&e);
	ag_json_free(user);
}

static void
test_collisions(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;

	user = parse("{\"a_b\":\"3\",\"a.b\":\"1\",\"a-b\":\"2\",\"sub\":\"u\"}");
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "collision: added");
	is_str(ag_env_get(&e, "OIDC_CLAIM_a_b"), "2",
	    "a-b < a.b < a_b: the first in strcmp order wins");
	is_int(count_name(&e, "OIDC_CLAIM_a_b"), 1, "only one OIDC_CLAIM_a_b");
	ag_env_free(&e);
	ag_json_free(user);

	user = parse("{\"roles_COUNT\":\"99\",\"roles\":[\"x\",\"y\"],"
	    "\"roles_0\":\"z\",\"sub\":\"u\"}");
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "array collision: added");
	is_str(ag_env_get(&e, "OIDC_CLAIM_roles_COUNT"), "2",
	    "array roles beats claim roles_COUNT");
	is_str(ag_env_get(&e, "OIDC_CLAIM_roles_0"), "x",
	    "array roles beats claim roles_0");
	is_int(count_name(&e, "OIDC_CLAIM_roles_COUNT"), 1, "one _COUNT");
	is_int(count_name(&e, "OIDC_CLAIM_roles_0"), 1, "one _0");
	ag_env_free(&e);
	ag_json_free(user);

	/* A scalar sorted first takes an array's derived name. */
	user = parse("{\"g_r\":[\"a\",\"b\"],\"g.r_COUNT\":\"7\",\"sub\":\"u\"}");
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "derived collision: added");
	is_str(ag_env_get(&e, "OIDC_CLAIM_g_r_COUNT"), "7",
	    "g.r_COUNT (sorted first) keeps OIDC_CLAIM_g_r_COUNT");
	is_str(ag_env_get(&e, "OIDC_CLAIM_g_r"), NULL,
	    "the array g_r is dropped as a whole");
	is_str(ag_env_get(&e, "OIDC_CLAIM_g_r_0"), NULL, "no g_r_0");
	ag_env_free(&e);
	ag_json_free(user);

	user = parse("{\"g.r_1\":\"7\",\"g_r\":[\"a\",\"b\"],\"sub\":\"u\"}");
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "index collision: added");
	is_str(ag_env_get(&e, "OIDC_CLAIM_g_r_1"), "7",
	    "g.r_1 keeps OIDC_CLAIM_g_r_1");
	is_str(ag_env_get(&e, "OIDC_CLAIM_g_r_COUNT"), NULL,
	    "array with a taken index dropped");
	ag_env_free(&e);
	ag_json_free(user);

	/* Claims cannot reach our fixed names. */
	user = parse("{\"sub\":\"u\",\"access_token\":\"forged\","
	    "\"REMOTE_USER\":\"admin\",\"AUTH_TYPE\":\"Basic\","
	    "\"S_JSON\":\"x\",\"scope\":\"all\"}");
	session(&s, user);
	s.access_token = "real-token";
	s.access_token_type = "Bearer";
	s.scope = "openid";
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "fixed names: added");
	check_env(&e, "fixed names", 1);
	is_str(ag_env_get(&e, "OIDC_access_token"), "real-token",
	    "OIDC_access_token is ours");
	is_int(count_name(&e, "OIDC_access_token"), 1, "one OIDC_access_token");
	is_str(ag_env_get(&e, "OIDC_CLAIM_access_token"), "forged",
	    "claim access_token is OIDC_CLAIM_access_token");
	is_str(ag_env_get(&e, "REMOTE_USER"), "u", "REMOTE_USER is ours");
	is_str(ag_env_get(&e, "OIDC_CLAIM_REMOTE_USER"), "admin",
	    "claim REMOTE_USER is prefixed");
	is_str(ag_env_get(&e, "OIDC_scope"), "openid", "OIDC_scope is ours");
	is_int(count_name(&e, "OIDC_CLAIMS_JSON"), 1, "one OIDC_CLAIMS_JSON");
	ag_env_free(&e);
	ag_json_free(user);
}

/* One claim "v" holding len bytes at value; what OIDC_CLAIM_v became. */
static char *
claim_value(const char *value, size_t len, int *present)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;
	const char *v;
	char *copy;

	user = ag_json_object();
	ag_json_set_str(user, "sub", "u");
	ag_json_set(user, "v", ag_json_string_len(value, len));
	session(&s, user);
	ag_env_init(&e);
	if (ag_env_add_session(&e, &s) != AG_OK)
		printf("# add_session failed\n");
	v = ag_env_get(&e, "OIDC_CLAIM_v");
	*present = v != NULL;
	copy = v != NULL ? strdup(v) : NULL;
	if (ag_env_get(&e, "OIDC_CLAIMS_JSON") == NULL && len < 1000)
		printf("# OIDC_CLAIMS_JSON missing\n");
	ag_env_free(&e);
	ag_json_free(user);
	return copy;
}

static void
test_values_file(void)
{
	struct lines l;
	char name[160], *raw, *want, *tab, *got;
	long rl;
	size_t i;
	int present;

	if (read_lines("values.txt", &l, 0) != 0 || l.n == 0) {
		ok(0, "values.txt readable");
		return;
	}
	for (i = 0; i < l.n; i++) {
		snprintf(name, sizeof(name), "values.txt:%zu %.100s", i + 1,
		    l.v[i]);
		if ((tab = strchr(l.v[i], '\t')) == NULL) {
			ok(0, name);
			continue;
		}
		*tab = '\0';
		raw = tab + 1;
		want = NULL;
		if (strcmp(l.v[i], "keep") == 0) {
			if ((tab = strchr(raw, '\t')) == NULL) {
				ok(0, name);
				continue;
			}
			*tab = '\0';
			want = tab + 1;
			if (unescape(want) < 0) {
				ok(0, name);
				continue;
			}
		} else if (strcmp(l.v[i], "drop") != 0) {
			ok(0, name);
			continue;
		}
		if ((rl = unescape(raw)) < 0) {
			ok(0, name);
			continue;
		}
		got = claim_value(raw, (size_t)rl, &present);
		if (want == NULL)
			ok(!present, name);
		else
			is_str(got, want, name);
		free(got);
	}
	free_lines(&l);
}

static void
test_sizes(void)
{
	char *big, *got;
	int present;

	big = malloc(100 * 1024 + 1);
	memset(big, 'a', 100 * 1024);
	big[100 * 1024] = '\0';

	got = claim_value(big, AG_MAX_CLAIM_VALUE, &present);
	ok(present && strlen(got) == AG_MAX_CLAIM_VALUE,
	    "value of AG_MAX_CLAIM_VALUE bytes kept");
	free(got);
	got = claim_value(big, AG_MAX_CLAIM_VALUE + 1, &present);
	ok(!present, "value of AG_MAX_CLAIM_VALUE + 1 bytes dropped");
	free(got);
	got = claim_value(big, 100 * 1024, &present);
	ok(!present, "100 KB value dropped");
	free(got);
	/* Repair grows the value past the limit: the final length counts. */
	big[0] = '\xff';
	got = claim_value(big, AG_MAX_CLAIM_VALUE - 2, &present);
	ok(present && strlen(got) == AG_MAX_CLAIM_VALUE &&
	    memcmp(got, "\xef\xbf\xbd", 3) == 0,
	    "value repaired to exactly the limit kept");
	free(got);
	got = claim_value(big, AG_MAX_CLAIM_VALUE - 1, &present);
	ok(!present, "value pushed past the limit by U+FFFD dropped");
	free(got);
	free(big);
}

static void
test_many_claims(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;
	char key[32], *big;
	size_t i;

	/* 500 small claims: the first AG_MAX_CLAIMS in sorted order. */
	user = ag_json_object();
	ag_json_set_str(user, "a_sub", "u");
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "c%03zu", i);
		ag_json_set_str(user, key, "value");
	}
	session(&s, user);
	s.remote_user_claim = "a_sub";
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "500 claims: added");
	check_env(&e, "500 claims", 1);
	is_int(count_prefix(&e, "OIDC_CLAIM_"), AG_MAX_CLAIMS,
	    "500 claims: AG_MAX_CLAIMS of them set");
	is_str(ag_env_get(&e, "OIDC_CLAIM_c254"), "value", "c254 set");
	is_str(ag_env_get(&e, "OIDC_CLAIM_c255"), NULL, "c255 left out");
	ok(ag_env_get(&e, "OIDC_CLAIMS_JSON") != NULL,
	    "500 claims: OIDC_CLAIMS_JSON still set");
	ok(e.total <= AG_MAX_ENV_TOTAL, "500 claims: under the total cap");
	ag_env_free(&e);
	ag_json_free(user);

	/* 30 KB claims: three fit in 96 KB, the rest are left out. */
	big = malloc(30 * 1024 + 1);
	memset(big, 'x', 30 * 1024);
	big[30 * 1024] = '\0';
	user = ag_json_object();
	ag_json_set_str(user, "sub", "u");
	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		ag_json_set_str(user, key, big);
	}
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "30 KB claims: added");
	check_env(&e, "30 KB claims", 1);
	ok(ag_env_get(&e, "OIDC_CLAIM_k2") != NULL, "k2 fits");
	is_str(ag_env_get(&e, "OIDC_CLAIM_k3"), NULL, "k3 left out");
	is_str(ag_env_get(&e, "OIDC_CLAIM_k5"), NULL, "k5 left out");
	is_str(ag_env_get(&e, "OIDC_CLAIM_sub"), "u",
	    "identity claims come first: sub survives the size cap");
	is_str(ag_env_get(&e, "OIDC_CLAIMS_JSON"), NULL,
	    "oversized OIDC_CLAIMS_JSON left out");
	is_str(ag_env_get(&e, "REMOTE_USER"), "u",
	    "fixed variables set whatever the budget");
	ok(e.total <= AG_MAX_ENV_TOTAL, "30 KB claims: under the total cap");
	ag_env_free(&e);
	ag_json_free(user);

	/* OIDC_CLAIMS_JSON under its own limit but over the total. */
	user = ag_json_object();
	ag_json_set_str(user, "sub", "u");
	ag_json_set_str(user, "k0", big);
	big[20 * 1024] = '\0';
	ag_json_set_str(user, "k1", big);
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "50 KB claims: added");
	ok(ag_env_get(&e, "OIDC_CLAIM_k0") != NULL &&
	    ag_env_get(&e, "OIDC_CLAIM_k1") != NULL, "both claims fit");
	is_str(ag_env_get(&e, "OIDC_CLAIMS_JSON"), NULL,
	    "OIDC_CLAIMS_JSON that does not fit left out");
	ok(e.total <= AG_MAX_ENV_TOTAL, "50 KB claims: under the total cap");
	ag_env_free(&e);
	ag_json_free(user);

	/* A long array stops at the budget without rendering it all. */
	user = ag_json_object();
	ag_json_set_str(user, "sub", "u");
	ag_json_set(user, "arr", ag_json_array());
	for (i = 0; i < 20000; i++)
		ag_json_array_add(ag_json_get(user, "arr"), ag_json_int(1));
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "20000 elements: added");
	is_str(ag_env_get(&e, "OIDC_CLAIM_arr_COUNT"), NULL,
	    "array over the budget left out whole");
	is_str(ag_env_get(&e, "OIDC_CLAIM_arr_0"), NULL, "no partial array");
	ok(e.total <= AG_MAX_ENV_TOTAL, "20000 elements: under the cap");
	ag_env_free(&e);
	ag_json_free(user);
	free(big);
}

static void
test_names_and_arrays(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;
	char k128[130], k129[131];

	memset(k128, 'n', 128);
	k128[128] = '\0';
	memset(k129, 'm', 129);
	k129[129] = '\0';
	user = parse("{\"sub\":\"u\",\" a b\":\"1\",\"r\\u00f4le\":\"2\","
	    "\"\":\"3\",\"http://x.com/role\":\"4\",\"9lives\":\"5\","
	    "\"a=b\":\"6\",\"mix\":[\"a\",1,true,null,{\"k\":\"v\"},[1,2],2.5],"
	    "\"empty\":[],\"bad\":[\"ok\",\"x\\u0000y\"],"
	    "\"shock\":[\"ok\",\"() { :;}; id\"],\"ctl\":[\"a\\nb\",\"c\"]}");
	ag_json_set_str(user, k128, "long");
	ag_json_set_str(user, k129, "too long");
	session(&s, user);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "names: added");
	check_env(&e, "names", 1);
	is_str(ag_env_get(&e, "OIDC_CLAIM__a_b"), "1", "spaces become _");
	is_str(ag_env_get(&e, "OIDC_CLAIM_r__le"), "2",
	    "each non-ASCII byte becomes _");
	is_str(ag_env_get(&e, "OIDC_CLAIM_"), NULL, "empty claim name dropped");
	is_str(ag_env_get(&e, "OIDC_CLAIM_http___x_com_role"), "4",
	    "URL claim name mapped");
	is_str(ag_env_get(&e, "OIDC_CLAIM_9lives"), "5", "leading digit");
	is_str(ag_env_get(&e, "OIDC_CLAIM_a_b"), "6", "'=' in name becomes _");
	ok(count_prefix(&e, "OIDC_CLAIM_nnnn") == 1,
	    "claim name of AG_MAX_CLAIM_NAME bytes kept");
	ok(count_prefix(&e, "OIDC_CLAIM_mmmm") == 0,
	    "claim name over AG_MAX_CLAIM_NAME dropped");
	is_str(ag_env_get(&e, "OIDC_CLAIM_mix"),
	    "a,1,1,,{\"k\":\"v\"},[1\\,2],2.5", "mixed array joined");
	is_str(ag_env_get(&e, "OIDC_CLAIM_mix_COUNT"), "7", "mixed count");
	is_str(ag_env_get(&e, "OIDC_CLAIM_mix_2"), "1", "bool element");
	is_str(ag_env_get(&e, "OIDC_CLAIM_mix_3"), "", "null element");
	is_str(ag_env_get(&e, "OIDC_CLAIM_mix_4"), "{\"k\":\"v\"}",
	    "object element as JSON");
	is_str(ag_env_get(&e, "OIDC_CLAIM_mix_5"), "[1,2]",
	    "nested array element as JSON");
	is_str(ag_env_get(&e, "OIDC_CLAIM_mix_6"), "2.5", "double element");
	is_str(ag_env_get(&e, "OIDC_CLAIM_empty"), "", "empty array joined");
	is_str(ag_env_get(&e, "OIDC_CLAIM_empty_COUNT"), "0", "empty count");
	is_str(ag_env_get(&e, "OIDC_CLAIM_bad"), NULL,
	    "array with a NUL element dropped");
	is_str(ag_env_get(&e, "OIDC_CLAIM_bad_0"), NULL,
	    "array with a NUL element dropped whole");
	is_str(ag_env_get(&e, "OIDC_CLAIM_shock_COUNT"), NULL,
	    "array with a Shellshock element dropped");
	is_str(ag_env_get(&e, "OIDC_CLAIM_ctl"), "a b,c",
	    "control bytes in elements neutralised");
	is_str(ag_env_get(&e, "OIDC_CLAIM_ctl_0"), "a b", "element _0");
	ag_env_free(&e);
	ag_json_free(user);

	/* A user that is not an object. */
	session(&s, NULL);
	ag_env_init(&e);
	is_int(ag_env_add_session(&e, &s), AG_OK, "no user: not an error");
	is_str(ag_env_get(&e, "REMOTE_USER"), NULL, "no user: no REMOTE_USER");
	is_str(ag_env_get(&e, "AUTH_TYPE"), "openid-connect",
	    "no user: AUTH_TYPE");
	ag_env_free(&e);
}

static void
test_parent(void)
{
	struct lines keep, spoof;
	struct ag_strlist extra;
	struct ag_env_session s;
	struct ag_env e;
	char *all[600], *extra_v[4], name[200], *eq;
	size_t i, n = 0;
	ag_json *user;

	if (read_lines("parent-cgi.env", &keep, 1) != 0 ||
	    read_lines("parent-spoof.env", &spoof, 1) != 0) {
		ok(0, "parent data files readable");
		return;
	}
	ok(keep.n > 40 && spoof.n > 50, "parent data files loaded");
	/* Interleave, spoof first so a first-wins rule cannot hide it. */
	for (i = 0; i < spoof.n; i++)
		all[n++] = spoof.v[i];
	for (i = 0; i < keep.n; i++)
		all[n++] = keep.v[i];
	all[n++] = "MY_APP_SETTING=42";
	all[n++] = "QUERY_STRING=second";	/* duplicate: first wins */
	all[n] = NULL;
	extra_v[0] = "MY_APP_SETTING";
	extra_v[1] = "AUTHGATE_CONFIG";
	extra_v[2] = "OIDC_CLAIM_sub";
	extra_v[3] = "REMOTE_USER";
	extra.v = extra_v;
	extra.n = 4;

	ag_env_init(&e);
	is_int(ag_env_from_parent(&e, all, &extra), AG_OK, "from_parent");
	for (i = 0; i < keep.n; i++) {
		snprintf(name, sizeof(name), "kept: %.150s", keep.v[i]);
		eq = strchr(keep.v[i], '=');
		*eq = '\0';
		is_str(ag_env_get(&e, keep.v[i]), eq + 1, name);
		*eq = '=';
	}
	for (i = 0; i < spoof.n; i++) {
		snprintf(name, sizeof(name), "refused: %.150s", spoof.v[i]);
		if ((eq = strchr(spoof.v[i], '=')) == NULL || eq ==
		    spoof.v[i]) {
			ok(1, name);
			continue;
		}
		*eq = '\0';
		ok(count_name(&e, spoof.v[i]) == 0, name);
		*eq = '=';
	}
	is_int(e.n, keep.n + 1, "exactly the allowed entries and extra");
	is_str(ag_env_get(&e, "MY_APP_SETTING"), "42", "extra allow-list");
	is_str(ag_env_get(&e, "QUERY_STRING"), "year=2024&q=a%20b",
	    "duplicate: first wins");
	is_int(count_prefix(&e, "OIDC"), 0, "no OIDC* from the parent");
	is_int(count_prefix(&e, "AUTHGATE"), 0, "no AUTHGATE* from parent");
	is_int(count_name(&e, "REMOTE_USER"), 0,
	    "REMOTE_USER refused even in extra");
	check_env(&e, "parent", 0);

	/* Then ours, once each. */
	user = parse("{\"sub\":\"real\",\"email\":\"a@b.c\"}");
	session(&s, user);
	is_int(ag_env_add_session(&e, &s), AG_OK, "parent + session");
	check_env(&e, "parent + session", 1);
	is_str(ag_env_get(&e, "REMOTE_USER"), "real", "REMOTE_USER is ours");
	is_str(ag_env_get(&e, "OIDC_CLAIM_sub"), "real", "OIDC_CLAIM_sub ours");
	is_int(count_name(&e, "OIDC_CLAIM_sub"), 1, "one OIDC_CLAIM_sub");
	is_str(ag_env_get(&e, "HTTP_HOST"), "app.example.com",
	    "parent variables kept");
	ag_env_free(&e);

	/* Entries of ours put in env by other means are removed first. */
	ag_env_init(&e);
	{
		char *fake[] = { "REMOTE_USER=admin", "HTTP_HOST=h",
		    "OIDC_CLAIM_sub=admin", "oidc_claim_email=x",
		    "AUTH_TYPE=Basic", NULL };
		size_t k;

		e.cap = 16;
		e.v = calloc(e.cap, sizeof(*e.v));
		for (k = 0; fake[k] != NULL; k++) {
			e.v[e.n++] = strdup(fake[k]);
			e.total += strlen(fake[k]) + 1;
		}
	}
	is_int(ag_env_add_session(&e, &s), AG_OK, "pre-filled env");
	check_env(&e, "pre-filled env", 1);
	is_str(ag_env_get(&e, "REMOTE_USER"), "real", "forged REMOTE_USER gone");
	is_str(ag_env_get(&e, "OIDC_CLAIM_sub"), "real",
	    "forged OIDC_CLAIM_sub gone");
	is_str(ag_env_get(&e, "oidc_claim_email"), NULL,
	    "forged lower-case claim gone");
	is_str(ag_env_get(&e, "HTTP_HOST"), "h", "other entries kept");
	ag_env_free(&e);
	ag_json_free(user);

	/* No parent, NULL extra. */
	ag_env_init(&e);
	is_int(ag_env_from_parent(&e, NULL, NULL), AG_OK, "NULL parent");
	ok(e.v != NULL && e.v[0] == NULL && e.n == 0, "NULL parent: empty");
	ag_env_free(&e);
	free_lines(&keep);
	free_lines(&spoof);
}

static void
test_authorizer(void)
{
	struct ag_env_session s;
	struct ag_env e;
	struct ag_buf out, want;
	ag_json *user;
	const char *p, *line;
	size_t i;
	int good = 1;

	user = parse("{\"sub\":\"u1\",\"name\":\"a\\r\\nSet-Cookie: x=1\","
	    "\"roles\":[\"r1\",\"r,2\"]}");
	session(&s, user);
	s.access_token = "tok";
	s.access_token_type = "Bearer";
	ag_buf_init(&out, 0);
	ag_buf_init(&want, 0);
	is_int(ag_env_authorizer_headers(&s, &out), AG_OK, "authorizer");
	ag_env_init(&e);
	ag_env_add_session(&e, &s);
	for (i = 0; i < e.n; i++)
		ag_buf_printf(&want, "Variable-%.*s: %s\r\n",
		    (int)strcspn(e.v[i], "="), e.v[i],
		    strchr(e.v[i], '=') + 1);
	is_str(ag_buf_str(&out), ag_buf_str(&want),
	    "authorizer: the session variables as headers");
	ok(strstr(ag_buf_str(&out), "Variable-OIDC_CLAIM_name: a  Set-Cookie: "
	    "x=1\r\n") != NULL, "authorizer: CR/LF neutralised");
	ok(strstr(ag_buf_str(&out), "Variable-REMOTE_USER: u1\r\n") != NULL,
	    "authorizer: REMOTE_USER");
	ok(strstr(ag_buf_str(&out), "Variable-OIDC_access_token: tok\r\n") !=
	    NULL, "authorizer: token");
	/* Every line is Variable-NAME: value CRLF, no bare CR or LF. */
	for (line = ag_buf_str(&out); *line != '\0'; line = p + 2) {
		if (strncmp(line, "Variable-", 9) != 0) {
			good = 0;
			break;
		}
		p = strchr(line, '\r');
		if (p == NULL || p[1] != '\n' || memchr(line, '\n',
		    (size_t)(p - line)) != NULL) {
			good = 0;
			break;
		}
	}
	ok(good, "authorizer: well-formed header lines");
	ag_env_free(&e);
	ag_buf_free(&out);

	/* The caller's limit is honoured. */
	ag_buf_init(&out, 32);
	is_int(ag_env_authorizer_headers(&s, &out), AG_ERR_LIMIT,
	    "authorizer: out buffer limit");
	ag_buf_free(&out);
	ag_buf_free(&want);
	ag_json_free(user);
}

/* Run /usr/bin/env with e and check it prints every entry unchanged. */
static void
test_execve(void)
{
	struct ag_env_session s;
	struct ag_env e;
	struct ag_buf got;
	ag_json *user;
	char *parent[] = { "PATH=/usr/bin:/bin", "HTTP_HOST=app.example.com",
	    "QUERY_STRING=a=1&b=%C3%A9", "LANG=C.UTF-8",
	    "HTTP_OIDC_CLAIM_SUB=forged", NULL };
	char *argv[] = { "env", NULL }, chunk[4096], *big;
	const char *p;
	size_t i, lines = 0;
	ssize_t n;
	pid_t pid;
	int fd[2], status, all = 1;

	user = parse("{\"sub\":\"auth0|x\",\"name\":\"J\\u00e9r\\u00f4me \\ud83d"
	    "\\ude00\",\"ctl\":\"a\\u0001b\\r\\nc\",\"bad\":\"() { :;}; id\","
	    "\"roles\":[\"a,b\",\"c\\\\d\"],\"obj\":{\"k\":[1,{\"z\":null}]},"
	    "\"https://example.com/tenant\":\"t1\"}");
	big = malloc(20 * 1024 + 1);
	memset(big, 'b', 20 * 1024);
	big[20 * 1024] = '\0';
	ag_json_set_str(user, "big", big);
	free(big);
	session(&s, user);
	s.access_token = "eyJ.x.y";
	s.access_token_type = "Bearer";
	s.scope = "openid";
	ag_env_init(&e);
	ag_env_from_parent(&e, parent, NULL);
	is_int(ag_env_add_session(&e, &s), AG_OK, "execve: env built");
	ag_buf_init(&got, 0);
	if (pipe(fd) != 0) {
		ok(0, "pipe");
		goto out;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execve("/usr/bin/env", argv, e.v);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], chunk, sizeof(chunk))) > 0)
		ag_buf_add(&got, chunk, (size_t)n);
	close(fd[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "execve: env ran");
	for (p = ag_buf_str(&got); *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strchr(p, '\n') == NULL)
			break;
		lines++;
	}
	is_int(lines, e.n, "execve: as many lines as entries");
	for (i = 0; i < e.n; i++) {
		char *needle = malloc(strlen(e.v[i]) + 3);

		needle[0] = '\n';
		memcpy(needle + 1, e.v[i], strlen(e.v[i]));
		memcpy(needle + 1 + strlen(e.v[i]), "\n", 2);
		if (strncmp(ag_buf_str(&got), needle + 1, strlen(needle + 1))
		    != 0 && strstr(ag_buf_str(&got), needle) == NULL) {
			printf("# lost: %s\n", e.v[i]);
			all = 0;
		}
		free(needle);
	}
	ok(all, "execve: every variable survives byte for byte");
	is_str(ag_env_get(&e, "OIDC_CLAIM_name"),
	    "J\xc3\xa9r\xc3\xb4me \xf0\x9f\x98\x80", "execve: UTF-8 claim");
	is_str(ag_env_get(&e, "OIDC_CLAIM_bad"), NULL,
	    "execve: Shellshock claim absent");
	is_str(ag_env_get(&e, "HTTP_OIDC_CLAIM_SUB"), NULL,
	    "execve: spoofed header absent");
out:
	ag_buf_free(&got);
	ag_env_free(&e);
	ag_json_free(user);
}

/* Nothing a claim or token holds reaches the log. */
static void
test_log_has_no_values(void)
{
	struct ag_env_session s;
	struct ag_env e;
	ag_json *user;
	FILE *tmp;
	char logbuf[65536];
	size_t n;
	int saved;

	tmp = tmpfile();
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	ag_log_open("test-cgienv", AG_LOG_DEBUG, 0);
	user = parse("{\"sub\":\"() { SECRETVALUE1; }\",\"a.b\":\"SECRETVALUE2\","
	    "\"a_b\":\"SECRETVALUE3\",\"n\":\"SECRETVALUE4\\u0000\","
	    "\"c\":\"SECRETVALUE5\\r\\n\"}");
	ag_json_set_str(user, "u", "SECRETVALUE6\xed\xa0\x80");
	session(&s, user);
	s.access_token = "SECRETVALUE7\x01";
	ag_env_init(&e);
	ag_env_add_session(&e, &s);
	ag_env_free(&e);
	{
		char *parent[] = { "AUTH0_SECRET=SECRETVALUE8",
		    "HTTP_USER_AGENT=() { SECRETVALUE9; }", NULL };

		ag_env_init(&e);
		ag_env_from_parent(&e, parent, NULL);
		ag_env_free(&e);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ag_log_open("test-cgienv", AG_LOG_ERROR, 0);
	rewind(tmp);
	n = fread(logbuf, 1, sizeof(logbuf) - 1, tmp);
	logbuf[n] = '\0';
	fclose(tmp);
	ok(n > 0, "log: something was logged");
	ok(strstr(logbuf, "SECRETVALUE") == NULL, "log: no value logged");
	ok(strstr(logbuf, "OIDC_CLAIM_n") != NULL &&
	    strstr(logbuf, "NUL") != NULL, "log: NUL drop names the variable");
	ok(strstr(logbuf, "AUTH0_SECRET") != NULL,
	    "log: refused parent name logged");
	ag_json_free(user);
}

int
main(void)
{
	ag_log_open("test-cgienv", AG_LOG_ERROR, 0);
	test_auth0_user();
	test_remote_user();
	test_remote_user_raw();
	test_collisions();
	test_values_file();
	test_sizes();
	test_many_claims();
	test_names_and_arrays();
	test_parent();
	test_authorizer();
	test_execve();
	test_log_has_no_values();
	return tap_done();
}
