/*
 * test-bclogout.c -- back-channel logout: the logout token claim rules
 * (lib/bclogout.c), the jti replay table and the logout records of
 * lib/db.c (sql/0003-logouts.sql), and the check a cookie-store
 * session read makes against them (lib/session.c).
 *
 * Signature, alg, iss and aud are ag_oidc_verify_jwt's (test-oidc.c);
 * the route itself runs against a real provider in
 * tests/integration/backchannel.test.mjs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_limits.h"
#include "app.h"
#include "bclogout.h"
#include "buf.h"
#include "cookie.h"
#include "crypto.h"
#include "db.h"
#include "err.h"
#include "json.h"
#include "oidc.h"
#include "rand.h"
#include "session.h"
#include "tap.h"

#define T0	1700000000LL	/* the pinned clock */
#define SECRET	"0123456789abcdef0123456789abcdef-test-secret"

static char dir[] = "/tmp/test-bclogout.XXXXXX";
static char dbpath[256];
static char cookie_name[] = "__session";
static char cookie_path[] = "/";
static char secret[] = SECRET;

/* A valid logout token's claims at T0, then modified by the caller. */
static ag_json *
claims(void)
{
	static const char text[] = "{\"iss\":\"https://op.example\","
	    "\"aud\":\"client\",\"iat\":1700000000,\"exp\":1700000120,"
	    "\"jti\":\"jti-1\",\"sid\":\"sid-1\",\"sub\":\"alice\","
	    "\"events\":{}}";
	ag_json *c, *ev;

	if (ag_json_parse_object(text, sizeof(text) - 1, 4096, &c) != AG_OK) {
		printf("Bail out! cannot parse the claims\n");
		exit(1);
	}
	ev = ag_json_get(c, "events");
	(void)ag_json_set(ev, AG_BCLOGOUT_EVENT, ag_json_object());
	return c;
}

static ag_json *
parse(const char *s)
{
	ag_json *j = NULL;

	(void)ag_json_parse(s, strlen(s), 4096, &j);
	return j;
}

/* ag_bclogout_check on c with header h (may be NULL) at now; frees c. */
static int
check(ag_json *h, ag_json *c, int64_t now, struct ag_bclogout *out,
    char *why)
{
	int r = ag_bclogout_check(h, c, now, out, why);

	ag_json_free(c);
	ag_json_free(h);
	return r;
}

static void
test_claims(void)
{
	struct ag_bclogout t;
	char why[AG_WHY_LEN];
	ag_json *c, *h;
	int r;

	c = claims();
	r = ag_bclogout_check(NULL, c, T0, &t, why);
	is_int(r, AG_OK, "claims: valid token");
	is_str(t.sid, "sid-1", "claims: sid");
	is_str(t.sub, "alice", "claims: sub");
	is_str(t.jti, "jti-1", "claims: jti");
	ok(t.keep_until == T0 + 120 + AG_JWT_LEEWAY,
	    "claims: jti kept until exp + leeway");
	ag_json_free(c);

	c = claims();
	ag_json_del(c, "exp");
	is_int(ag_bclogout_check(NULL, c, T0, &t, why), AG_OK,
	    "claims: exp is optional");
	ok(t.keep_until == T0 + AG_BCLOGOUT_MAX_AGE + AG_JWT_LEEWAY,
	    "claims: without exp, jti kept for the acceptance window");
	ag_json_free(c);

	c = claims();
	ag_json_del(c, "sid");
	is_int(ag_bclogout_check(NULL, c, T0, &t, why), AG_OK,
	    "claims: sub only");
	ok(t.sid == NULL && t.sub != NULL, "claims: sub only: no sid");
	ag_json_free(c);

	c = claims();
	ag_json_del(c, "sub");
	is_int(check(NULL, c, T0, &t, why), AG_OK, "claims: sid only");

	c = claims();
	ag_json_del(c, "sub");
	ag_json_del(c, "sid");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: neither sid nor sub refused");
	ok(strstr(why, "sid") != NULL, "claims: the reason says so");

	c = claims();
	(void)ag_json_set_int(c, "sid", 7);
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: numeric sid refused");

	c = claims();
	(void)ag_json_set(c, "sub", parse("null"));
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: null sub refused");

	c = claims();
	(void)ag_json_set_str(c, "nonce", "n");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: nonce refused");
	ok(strstr(why, "nonce") != NULL, "claims: nonce: reason");

	c = claims();
	(void)ag_json_set(c, "nonce", parse("null"));
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: nonce null refused too");

	c = claims();
	ag_json_del(c, "events");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: no events refused");
	ok(strstr(why, "events") != NULL, "claims: events: reason");

	c = claims();
	(void)ag_json_set(c, "events", ag_json_object());
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: events without the logout member refused");

	c = claims();
	(void)ag_json_set_str(c, "events", AG_BCLOGOUT_EVENT);
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: events a string refused");

	c = claims();
	(void)ag_json_set_str(ag_json_get(c, "events"), AG_BCLOGOUT_EVENT,
	    "x");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: event value not an object refused");

	c = claims();
	ag_json_del(c, "jti");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: no jti refused");

	c = claims();
	(void)ag_json_set_str(c, "jti", "");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: empty jti refused");

	c = claims();
	(void)ag_json_set_int(c, "jti", 5);
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: numeric jti refused");

	{
		char big[AG_BCLOGOUT_MAX_JTI + 2];

		memset(big, 'j', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		c = claims();
		(void)ag_json_set_str(c, "jti", big);
		is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
		    "claims: jti one past AG_BCLOGOUT_MAX_JTI refused");
		big[AG_BCLOGOUT_MAX_JTI] = '\0';
		c = claims();
		(void)ag_json_set_str(c, "jti", big);
		is_int(check(NULL, c, T0, &t, why), AG_OK,
		    "claims: jti of AG_BCLOGOUT_MAX_JTI accepted");
	}

	c = claims();
	ag_json_del(c, "iat");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: no iat refused");

	c = claims();
	(void)ag_json_set_str(c, "iat", "1700000000");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: string iat refused");

	c = claims();
	is_int(check(NULL, c, T0 - AG_JWT_LEEWAY, &t, why), AG_OK,
	    "claims: iat within leeway of the future accepted");
	c = claims();
	is_int(check(NULL, c, T0 - AG_JWT_LEEWAY - 1, &t, why),
	    AG_ERR_VERIFY, "claims: iat past leeway in the future refused");

	c = claims();
	ag_json_del(c, "exp");
	is_int(check(NULL, c, T0 + AG_BCLOGOUT_MAX_AGE + AG_JWT_LEEWAY - 1,
	    &t, why), AG_OK, "claims: last second of the window accepted");
	c = claims();
	ag_json_del(c, "exp");
	is_int(check(NULL, c, T0 + AG_BCLOGOUT_MAX_AGE + AG_JWT_LEEWAY,
	    &t, why), AG_ERR_VERIFY, "claims: older than the window refused");

	c = claims();
	is_int(check(NULL, c, T0 + 120 + AG_JWT_LEEWAY, &t, why),
	    AG_ERR_VERIFY, "claims: expired refused");
	c = claims();
	(void)ag_json_set_str(c, "exp", "soon");
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: string exp refused");
	c = claims();
	(void)ag_json_set_int(c, "nbf", T0 + AG_JWT_LEEWAY + 1);
	is_int(check(NULL, c, T0, &t, why), AG_ERR_VERIFY,
	    "claims: nbf in the future refused");

	h = parse("{\"alg\":\"RS256\",\"typ\":\"logout+jwt\"}");
	is_int(check(h, claims(), T0, &t, why), AG_OK,
	    "header: typ logout+jwt accepted");
	h = parse("{\"alg\":\"RS256\",\"typ\":\"Application/Logout+JWT\"}");
	is_int(check(h, claims(), T0, &t, why), AG_OK,
	    "header: typ application/logout+jwt, any case, accepted");
	h = parse("{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
	is_int(check(h, claims(), T0, &t, why), AG_ERR_VERIFY,
	    "header: typ JWT refused");
	h = parse("{\"alg\":\"RS256\",\"typ\":null}");
	is_int(check(h, claims(), T0, &t, why), AG_ERR_VERIFY,
	    "header: typ null refused");
	h = parse("{\"alg\":\"RS256\"}");
	is_int(check(h, claims(), T0, &t, why), AG_OK,
	    "header: no typ accepted");

	is_int(check(NULL, parse("[1]"), T0, &t, why), AG_ERR_VERIFY,
	    "claims: not an object refused");
}

static void
test_db(struct ag_db *db)
{
	int found;

	is_int(ag_db_jti_remember(db, "a", T0, T0 + 60), AG_OK,
	    "jti: new");
	is_int(ag_db_jti_remember(db, "a", T0 + 1, T0 + 61), AG_ERR_DENIED,
	    "jti: replay refused");
	is_int(ag_db_jti_remember(db, "b", T0 + 1, T0 + 61), AG_OK,
	    "jti: another one");
	is_int(ag_db_jti_remember(db, "a", T0 + 59, T0 + 100),
	    AG_ERR_DENIED, "jti: still refused before its expiry");
	is_int(ag_db_jti_remember(db, "a", T0 + 60, T0 + 120), AG_OK,
	    "jti: forgotten after its expiry");
	is_int(ag_db_jti_remember(db, "", T0, T0 + 60), AG_ERR_PARSE,
	    "jti: empty refused");

	is_int(ag_db_logout_find(db, "s1", "alice", T0, T0, &found), AG_OK,
	    "logouts: find in an empty table");
	ok(!found, "logouts: nothing found");
	is_int(ag_db_logout_record(db, NULL, NULL, T0, T0 + 100),
	    AG_ERR_PARSE, "logouts: neither sid nor sub refused");
	is_int(ag_db_logout_record(db, "s1", "alice", T0 + 10, T0 + 100),
	    AG_OK, "logouts: record by sid");
	(void)ag_db_logout_find(db, "s1", "alice", T0, T0 + 10, &found);
	ok(found, "logouts: that sid, created before: found");
	(void)ag_db_logout_find(db, "s1", "alice", T0 + 10, T0 + 10, &found);
	ok(found, "logouts: created the same second: found");
	(void)ag_db_logout_find(db, "s1", "alice", T0 + 11, T0 + 11, &found);
	ok(!found, "logouts: created after the logout: not found");
	(void)ag_db_logout_find(db, "s2", "alice", T0, T0 + 10, &found);
	ok(!found, "logouts: another sid of the same sub: not found");
	(void)ag_db_logout_find(db, NULL, "alice", T0, T0 + 10, &found);
	ok(!found, "logouts: a session without sid: not by a sid logout");
	(void)ag_db_logout_find(db, "s1", "alice", T0, T0 + 100, &found);
	ok(!found, "logouts: past the row's expiry: not found");

	is_int(ag_db_logout_record(db, NULL, "bob", T0 + 20, T0 + 100),
	    AG_OK, "logouts: record by sub only");
	(void)ag_db_logout_find(db, "any", "bob", T0, T0 + 20, &found);
	ok(found, "logouts: sub-only: a session with a sid: found");
	(void)ag_db_logout_find(db, NULL, "bob", T0, T0 + 20, &found);
	ok(found, "logouts: sub-only: a session without sid: found");
	(void)ag_db_logout_find(db, NULL, "carol", T0, T0 + 20, &found);
	ok(!found, "logouts: sub-only: another sub: not found");
	is_int(ag_db_logout_find(db, "x", NULL, T0, T0, &found),
	    AG_ERR_PARSE, "logouts: find without sub refused");
	is_int(ag_db_logout_record(db, "s9", "dave", T0 + 200, T0 + 300),
	    AG_OK, "logouts: a later record purges expired rows");
}

/* A cookie jar holding one sealed session of sub/sid created at created. */
static void
jar_with(struct ag_app *app, struct ag_cookies *jar, struct ag_buf *sealed,
    const char *sub, const char *sid, int64_t created)
{
	ag_json *d = NULL, *user, *internal;
	struct ag_buf hdr;

	ag_buf_reset(sealed);
	d = ag_json_object();
	user = ag_json_object();
	internal = ag_json_object();
	(void)ag_json_set_str(user, "sub", sub);
	if (sid != NULL)
		(void)ag_json_set_str(internal, "sid", sid);
	(void)ag_json_set_int(internal, "createdAt", created);
	(void)ag_json_set(d, "user", user);
	(void)ag_json_set(d, "internal", internal);
	(void)ag_json_set(d, "tokenSet", ag_json_object());
	if (ag_seal(app->key, d, created + 3600, sealed) != AG_OK) {
		printf("Bail out! cannot seal\n");
		exit(1);
	}
	ag_json_free(d);
	ag_buf_init(&hdr, sealed->len + 64);
	(void)ag_buf_printf(&hdr, "__session=%s", ag_buf_str(sealed));
	ag_cookies_free(jar);
	memset(jar, 0, sizeof(*jar));
	if (ag_cookies_parse(ag_buf_str(&hdr), hdr.len, jar) != AG_OK) {
		printf("Bail out! cannot parse the cookie\n");
		exit(1);
	}
	ag_buf_free(&hdr);
}

static void
test_session(struct ag_db *db)
{
	struct ag_app app;
	struct ag_cookies jar;
	struct ag_session s;
	struct ag_buf sealed;
	char nofile[300];

	memset(&app, 0, sizeof(app));
	memset(&jar, 0, sizeof(jar));
	app.conf.cookie_name = cookie_name;
	app.conf.cookie_path = cookie_path;
	app.conf.rolling = 1;
	app.conf.absolute_duration = 259200;
	app.conf.inactivity_duration = 86400;
	app.conf.secret = secret;
	app.conf.store = AG_STORE_COOKIE;
	if (ag_cookie_key(secret, app.key) != AG_OK ||
	    ag_db_key(secret, app.db_key) != AG_OK) {
		printf("Bail out! cannot derive keys\n");
		exit(1);
	}
	ag_buf_init(&sealed, AG_MAX_SESSION_JSON * 2);
	ag_clock_set(T0 + 30);

	/* No session.db file: no check at all. */
	snprintf(nofile, sizeof(nofile), "%s/absent.db", dir);
	app.conf.session_db = nofile;
	jar_with(&app, &jar, &sealed, "erin", "e1", T0);
	is_int(ag_session_read(&app, &jar, &s), AG_OK,
	    "session: no session.db file: session read");
	ag_session_free(&s);
	ok(app.db == NULL, "session: no session.db file: not opened");
	ok(access(nofile, F_OK) != 0, "session: ... nor created");

	app.conf.session_db = dbpath;
	is_int(ag_session_read(&app, &jar, &s), AG_OK,
	    "session: with session.db, no logout: session read");
	ag_session_free(&s);
	is_int(ag_db_logout_record(db, "e1", "erin", T0 + 20, T0 + 10000),
	    AG_OK, "session: record a logout of sid e1");
	is_int(ag_session_read(&app, &jar, &s), AG_ERR_NOTFOUND,
	    "session: logged-out sid refused");
	jar_with(&app, &jar, &sealed, "erin", "e2", T0);
	is_int(ag_session_read(&app, &jar, &s), AG_OK,
	    "session: another sid of the same user still read");
	ag_session_free(&s);
	jar_with(&app, &jar, &sealed, "erin", "e1", T0 + 25);
	is_int(ag_session_read(&app, &jar, &s), AG_OK,
	    "session: a session created after the logout is read");
	ag_session_free(&s);

	is_int(ag_db_logout_record(db, NULL, "frank", T0 + 20, T0 + 10000),
	    AG_OK, "session: record a sub-only logout of frank");
	jar_with(&app, &jar, &sealed, "frank", "f1", T0);
	is_int(ag_session_read(&app, &jar, &s), AG_ERR_NOTFOUND,
	    "session: sub-only: a session with sid refused");
	jar_with(&app, &jar, &sealed, "frank", NULL, T0);
	is_int(ag_session_read(&app, &jar, &s), AG_ERR_NOTFOUND,
	    "session: sub-only: a session without sid refused");

	/* An unusable session.db is an error, never a free pass. */
	ag_app_db_close(&app);
	snprintf(nofile, sizeof(nofile), "%s/garbage.db", dir);
	{
		FILE *f = fopen(nofile, "w");

		if (f != NULL) {
			fputs("not a database, not a database, not a db\n", f);
			fclose(f);
		}
	}
	app.conf.session_db = nofile;
	jar_with(&app, &jar, &sealed, "gina", "g1", T0);
	is_int(ag_session_read(&app, &jar, &s), AG_ERR_DB,
	    "session: unusable session.db: AG_ERR_DB (503)");
	ag_session_free(&s);

	ag_app_db_close(&app);
	ag_cookies_free(&jar);
	ag_buf_free(&sealed);
	ag_clock_set(0);
}

int
main(void)
{
	unsigned char key[AG_KEY_LEN];
	struct ag_db *db = NULL;
	char cmd[600];

	test_claims();

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/sessions.db", dir);
	if (ag_db_key(SECRET, key) != AG_OK ||
	    ag_db_open(dbpath, AG_DB_CREATE, key, &db) != AG_OK) {
		printf("Bail out! cannot create %s\n", dbpath);
		return 1;
	}
	test_db(db);
	test_session(db);
	ag_db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
	return tap_done();
}
