/*
 * test-token.c -- lib/token.c and the refresh coordination of lib/db.c:
 * scope arithmetic, selection (default set, accessTokens[] entries,
 * fewest granted scopes), expiry decisions with token_refresh_buffer,
 * persisting (reference 8.4: rotation, MRRT replace/merge/append), the
 * refresh_results table across forked processes (one owner, waiters
 * served its outcome, failures remembered, a crashed owner taken over),
 * and whole refreshes against a loopback token endpoint forked by the
 * test (form fields, rotation, ID token with the session's sub,
 * mfa_required, failures not retried, N processes refreshing one
 * session making exactly one provider call, two processes refreshing
 * one rotating refresh token for two audiences presenting it once and
 * the second its successor, a refresh refused at connect not remembered
 * while one reset after sending is).
 *
 * The responder follows tests/unit/test-oidc.c: a child listening on
 * 127.0.0.1:0 that forks a handler per connection; routes, hit counts
 * and the last request live in a shared anonymous mapping.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ag_limits.h"
#include "app.h"
#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "oidc.h"
#include "rand.h"
#include "session.h"
#include "tap.h"
#include "util.h"
#include "token.h"

#define JWT_DIR		"tests/data/jwt/"
#define NCHILD		8

/* ------------------------------------------------------------------ */
/* The loopback responder                                             */

#define NROUTES		8
#define ROUTE_BODY	16384
#define REQ_MAX		32768
#define NTOKREQ		8

struct route {
	char	path[128];
	int	status;
	int	delay_ms;
	size_t	len;
	char	body[ROUTE_BODY];
	int	hits;
};

struct shared {
	struct route	r[NROUTES];
	int		nroutes;
	size_t		req_len;
	char		req[REQ_MAX];
	/* Results of forked token clients. */
	int		child_rc[NCHILD];
	char		child_at[NCHILD][64];
	char		child_rt[NCHILD][64];
	int		child_changed[NCHILD];
	int		go;
	/* Every token request's body, in order of arrival. */
	int		ntok;
	char		tok_req[NTOKREQ][1024];
};

static struct shared	*sh;
static pid_t		 srv_pid = -1;
static char		 base[64];

static struct route *
route_find(const char *path)
{
	int i;

	for (i = 0; i < sh->nroutes; i++)
		if (strcmp(sh->r[i].path, path) == 0)
			return &sh->r[i];
	return NULL;
}

static void
route_set(const char *path, int status, const char *body, int delay_ms)
{
	struct route *r;

	if ((r = route_find(path)) == NULL) {
		if (sh->nroutes >= NROUTES)
			abort();
		r = &sh->r[sh->nroutes++];
		snprintf(r->path, sizeof(r->path), "%s", path);
	}
	r->status = status;
	r->delay_ms = delay_ms;
	r->len = strlen(body);
	if (r->len >= sizeof(r->body))
		abort();
	memcpy(r->body, body, r->len + 1);
	__atomic_store_n(&r->hits, 0, __ATOMIC_SEQ_CST);
}

static int
route_hits(const char *path)
{
	struct route *r = route_find(path);

	return r != NULL ? __atomic_load_n(&r->hits, __ATOMIC_SEQ_CST) : 0;
}

static void
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			_exit(0);
		}
		c += w;
		n -= (size_t)w;
	}
}

static void
handle(int fd)
{
	static char buf[REQ_MAX], out[ROUTE_BODY + 64];
	char path[128], hdr[512];
	struct route *r;
	size_t n, i, len;
	int hits;

	alarm(20);
	n = read_request(fd, buf, sizeof(buf), path, sizeof(path));
	if ((r = route_find(path)) == NULL) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		write_all(fd, hdr, strlen(hdr));
		return;
	}
	if (strcmp(path, "/oauth/token") == 0) {
		memcpy(sh->req, buf, n + 1);
		sh->req_len = n;
		hits = __atomic_fetch_add(&sh->ntok, 1, __ATOMIC_SEQ_CST);
		if (hits < NTOKREQ)
			snprintf(sh->tok_req[hits], sizeof(sh->tok_req[hits]),
			    "%s", strstr(buf, "\r\n\r\n") + 4);
	}
	hits = __atomic_add_fetch(&r->hits, 1, __ATOMIC_SEQ_CST);
	/* "@N@" in a body: this route's hit count (a rotating token). */
	for (i = 0, len = 0; i < r->len && len + 16 < sizeof(out); i++) {
		if (strncmp(r->body + i, "@N@", 3) == 0) {
			len += (size_t)snprintf(out + len, sizeof(out) - len,
			    "%d", hits);
			i += 2;
		} else
			out[len++] = r->body[i];
	}
	if (r->delay_ms > 0)
		usleep((useconds_t)r->delay_ms * 1000);
	/* Status 0: the request was read, then the connection is reset. */
	if (r->status == 0) {
		struct linger lg = { 1, 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		_exit(0);
	}
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d X\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n", r->status, len);
	write_all(fd, hdr, strlen(hdr));
	write_all(fd, out, len);
}

static void
server_start(void)
{
	int lfd;

	lfd = listen_loopback(64, NULL, base, sizeof(base));
	srv_pid = serve_fork(lfd, handle);
}

static void
server_stop(void)
{
	serve_stop(&srv_pid);
}

static const char *
req_body(void)
{
	char *p = strstr(sh->req, "\r\n\r\n");

	return p != NULL ? p + 4 : "";
}

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static struct ag_app	 app;
static char		 issuer[128];
static char		 dbpath[256];
static struct ag_key	*k_rsa;
static char		*keep_claims[] = { "sub", "name", "email" };

static ag_json *
parse(const char *s)
{
	ag_json *j = NULL;

	if (ag_json_parse_object(s, strlen(s), 1 << 20, &j) != AG_OK) {
		printf("# bad test JSON: %s\n", s);
		abort();
	}
	return j;
}

/* A session: tokenSet fields given as JSON text; sub auth0|u1. */
static void
session_make(struct ag_session *s, const char *ts_json, const char *extra)
{
	char buf[8192];

	memset(s, 0, sizeof(*s));
	snprintf(buf, sizeof(buf), "{\"user\":{\"sub\":\"auth0|u1\","
	    "\"name\":\"U\"},\"tokenSet\":%s,\"internal\":{\"sid\":\"s1\","
	    "\"createdAt\":%lld}%s%s}", ts_json, (long long)ag_now(),
	    extra != NULL ? "," : "", extra != NULL ? extra : "");
	s->data = parse(buf);
	s->created_at = ag_now();
}

static const char *
ts_str(const struct ag_session *s, const char *k)
{
	return ag_json_get_str(ag_json_get(s->data, "tokenSet"), k);
}

static int64_t
ts_int(const struct ag_session *s, const char *k)
{
	int64_t v = -1;

	(void)ag_json_get_int(ag_json_get(s->data, "tokenSet"), k, &v);
	return v;
}

/* Run ag_token_get; the code, the token in *tok (cleared by caller). */
static int
get(struct ag_session *s, const char *aud, const char *scope, int nomerge,
    int force, struct ag_token *tok, struct ag_token_fail *f)
{
	struct ag_token_req q;

	memset(&q, 0, sizeof(q));
	q.audience = aud;
	q.scope = scope;
	q.no_merge_scopes = nomerge;
	q.force_refresh = force;
	ag_token_fail_clear(f);
	ag_token_clear(tok);
	return ag_token_get(&app, s, &q, tok, f);
}

static char *
sign(ag_json *claims)
{
	struct ag_buf out;
	ag_json *h = ag_json_object();

	ag_buf_init(&out, 0);
	ag_json_set_str(h, "typ", "JWT");
	ag_json_set_str(h, "kid", "k1");
	if (k_rsa == NULL || ag_jwt_sign(k_rsa, h, claims, &out) != AG_OK)
		ag_buf_puts(&out, "signing-failed");
	ag_json_free(h);
	ag_json_free(claims);
	return ag_buf_take(&out);
}

static char *
id_token(const char *sub, const char *name)
{
	ag_json *c = ag_json_object();
	int64_t now = ag_now();

	ag_json_set_str(c, "iss", issuer);
	ag_json_set_str(c, "sub", sub);
	ag_json_set_str(c, "aud", "cid");
	ag_json_set_int(c, "iat", now);
	ag_json_set_int(c, "exp", now + 3600);
	ag_json_set_str(c, "name", name);
	ag_json_set_str(c, "secret_claim", "dropped by claims.keep");
	return sign(c);
}

static void
token_route(int status, const char *body, int delay_ms)
{
	route_set("/oauth/token", status, body, delay_ms);
}

/* ------------------------------------------------------------------ */
/* Pure parts                                                         */

static void
test_scopes(void)
{
	struct ag_buf b;
	char k1[65], k2[65], k3[65], k4[65];

	ag_buf_init(&b, 0);
	ag_token_scope_union("openid profile", "email openid  read:x", &b);
	is_str(ag_buf_str(&b), "openid profile email read:x",
	    "union: order kept, duplicates dropped, spaces normalised");
	ag_buf_reset(&b);
	ag_token_scope_union(NULL, " a  b a ", &b);
	is_str(ag_buf_str(&b), "a b", "union: NULL first, dups in one list");
	ag_buf_reset(&b);
	ag_token_scope_union(NULL, NULL, &b);
	is_int((int)b.len, 0, "union: both NULL is empty");
	ag_buf_free(&b);

	ok(ag_token_scope_subset("a b", "b c a"), "subset: yes");
	ok(!ag_token_scope_subset("a d", "b c a"), "subset: no");
	ok(ag_token_scope_subset(NULL, "a"), "subset: NULL is a subset");
	ok(ag_token_scope_subset("", NULL), "subset: empty of NULL");
	ok(!ag_token_scope_subset("a", NULL), "subset: a of NULL: no");
	ok(!ag_token_scope_subset("read", "read:x"), "subset: whole words");
	is_int((int)ag_token_scope_count("a b a  c"), 3, "count: distinct");
	is_int((int)ag_token_scope_count(NULL), 0, "count: NULL");

	ag_token_refresh_key("RT", "aud", "s", k1);
	ag_token_refresh_key("RT", "aud", "s", k2);
	ag_token_refresh_key("RT", "", "auds", k3);
	ag_token_refresh_key("RT2", "aud", "s", k4);
	is_int((int)strlen(k1), 64, "refresh key: 64 hex characters");
	ok(strspn(k1, "0123456789abcdef") == 64, "refresh key: lower hex");
	is_str(k1, k2, "refresh key: deterministic");
	ok(strcmp(k1, k3) != 0, "refresh key: NUL-separated fields");
	ok(strcmp(k1, k4) != 0, "refresh key: depends on the token");
	ok(strstr(k1, "RT") == NULL, "refresh key: no token inside");
	is_str(ag_token_code(AG_TOKEN_FAILED_REFRESH), "failed_to_refresh_token",
	    "code: failed_to_refresh_token");
	is_str(ag_token_code(99), "unknown_error", "code: out of range");
}

static void
test_store(void)
{
	struct ag_token_set n;
	struct ag_session s;
	ag_json *arr, *e;
	int ch;

	/* Default audience and scope: tokenSet replaced, rotation. */
	session_make(&s, "{\"accessToken\":\"AT1\",\"refreshToken\":\"RT1\","
	    "\"idToken\":\"ID1\",\"expiresAt\":100,\"requestedScope\":"
	    "\"openid profile email offline_access\"}", NULL);
	memset(&n, 0, sizeof(n));
	n.access_token = "AT2";
	n.refresh_token = "RT2";
	n.token_type = "bearer";
	n.scope = "openid profile";
	n.requested_scope = "openid profile email offline_access";
	n.expires_at = 5000;
	is_int(ag_token_store(&app.conf, s.data, &n, &ch), AG_OK, "store: ok");
	is_int(ch, 1, "store default: changed");
	is_str(ts_str(&s, "accessToken"), "AT2", "store default: accessToken");
	is_str(ts_str(&s, "refreshToken"), "RT2", "store default: rotated");
	is_str(ts_str(&s, "idToken"), "ID1",
	    "store default: ID token kept when none returned");
	is_int((int)ts_int(&s, "expiresAt"), 5000, "store default: expiresAt");
	is_str(ts_str(&s, "token_type"), "bearer", "store default: token_type");
	ok(ag_json_get(s.data, "accessTokens") == NULL,
	    "store default: no accessTokens[]");
	is_int(ag_token_store(&app.conf, s.data, &n, &ch), AG_OK,
	    "store default again");
	is_int(ch, 0, "store default: same token set, no change");
	n.id_token = "ID2";
	n.refresh_token = NULL;	/* none: keep */
	n.access_token = "AT3";
	ag_token_store(&app.conf, s.data, &n, &ch);
	is_str(ts_str(&s, "idToken"), "ID2", "store default: new ID token");
	is_str(ts_str(&s, "refreshToken"), "RT2",
	    "store default: no new refresh token keeps the old one");

	/* MRRT: append. */
	memset(&n, 0, sizeof(n));
	n.access_token = "ATB";
	n.audience = "https://b";
	n.scope = "read:b";
	n.requested_scope = "openid read:b";
	n.refresh_token = "RT3";
	n.expires_at = 6000;
	ag_token_store(&app.conf, s.data, &n, &ch);
	arr = ag_json_get(s.data, "accessTokens");
	is_int((int)ag_json_array_len(arr), 1, "mrrt: appended");
	e = ag_json_array_get(arr, 0);
	is_str(ag_json_get_str(e, "accessToken"), "ATB", "mrrt: entry token");
	is_str(ag_json_get_str(e, "audience"), "https://b", "mrrt: audience");
	is_str(ag_json_get_str(e, "requestedScope"), "openid read:b",
	    "mrrt: requestedScope");
	ok(ag_json_get(e, "refreshToken") == NULL, "mrrt: no refresh token "
	    "in the entry");
	is_str(ts_str(&s, "refreshToken"), "RT3",
	    "mrrt: the new refresh token goes into tokenSet");
	is_str(ts_str(&s, "accessToken"), "AT3", "mrrt: tokenSet's access "
	    "token untouched");
	ok(ch, "mrrt: changed");

	/* MRRT: replace the entry whose requestedScope covers. */
	n.access_token = "ATB2";
	n.requested_scope = "read:b";
	ag_token_store(&app.conf, s.data, &n, &ch);
	is_int((int)ag_json_array_len(arr), 1, "mrrt replace: still one");
	is_str(ag_json_get_str(ag_json_array_get(arr, 0), "accessToken"),
	    "ATB2", "mrrt replace: new token");
	is_str(ag_json_get_str(ag_json_array_get(arr, 0), "requestedScope"),
	    "read:b", "mrrt replace: requestedScope of the new set");
	ag_token_store(&app.conf, s.data, &n, &ch);
	is_int(ch, 0, "mrrt replace: same token: no change");

	/* MRRT: merge into the entry with exactly the granted scope. */
	n.access_token = "ATB3";
	n.requested_scope = "read:b write:b";
	n.scope = "read:b";
	ag_token_store(&app.conf, s.data, &n, &ch);
	is_int((int)ag_json_array_len(arr), 1, "mrrt merge: still one");
	is_str(ag_json_get_str(ag_json_array_get(arr, 0), "requestedScope"),
	    "read:b write:b", "mrrt merge: requested scopes merged");
	is_str(ag_json_get_str(ag_json_array_get(arr, 0), "accessToken"),
	    "ATB3", "mrrt merge: token");

	/* A different granted scope: a second entry. */
	n.access_token = "ATC";
	n.requested_scope = "admin:b";
	n.scope = "admin:b";
	ag_token_store(&app.conf, s.data, &n, &ch);
	is_int((int)ag_json_array_len(arr), 2, "mrrt: second entry appended");
	ag_session_free(&s);

	/* No audience anywhere, not the default scope: nowhere (SDK). */
	session_make(&s, "{\"accessToken\":\"AT1\",\"refreshToken\":\"RT1\","
	    "\"expiresAt\":100,\"requestedScope\":\"openid\"}", NULL);
	memset(&n, 0, sizeof(n));
	n.access_token = "ATX";
	n.requested_scope = "openid other";
	ag_token_store(&app.conf, s.data, &n, &ch);
	is_int(ch, 0, "store: no audience for a non-default scope: no change");
	ag_session_free(&s);
}

/* Selection and the decisions that need no provider. */
static void
test_select(void)
{
	struct ag_session s;
	struct ag_token t;
	struct ag_token_fail f;
	char ts[1024], extra[2048];
	int64_t now = ag_now();
	int r;

	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RT1\",\"expiresAt\":%lld,\"scope\":\"openid profile\","
	    "\"requestedScope\":\"openid profile email offline_access\","
	    "\"token_type\":\"bearer\"}", (long long)(now + 600));
	snprintf(extra, sizeof(extra), "\"accessTokens\":["
	    "{\"accessToken\":\"ATwide\",\"audience\":\"https://api\","
	    "\"scope\":\"openid read write admin\",\"requestedScope\":"
	    "\"openid profile email offline_access read write admin\","
	    "\"expiresAt\":%lld},"
	    "{\"accessToken\":\"ATnarrow\",\"audience\":\"https://api\","
	    "\"scope\":\"openid read\",\"requestedScope\":"
	    "\"openid profile email offline_access read\",\"expiresAt\":%lld,"
	    "\"token_type\":\"dpop\"},"
	    "{\"accessToken\":\"ATother\",\"audience\":\"https://other\","
	    "\"scope\":\"read\",\"expiresAt\":%lld}]",
	    (long long)(now + 600), (long long)(now + 600),
	    (long long)(now + 600));
	session_make(&s, ts, extra);

	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "select: default");
	is_str(t.access_token, "AT1", "select: default token");
	is_str(t.token_type, "bearer", "select: token_type as stored");
	is_int((int)(t.expires_at - now), 600, "select: expires_at");
	is_int(t.session_changed, 0, "select: nothing changed");
	r = get(&s, NULL, "email", 0, 0, &t, &f);
	is_str(t.access_token, "AT1", "select: a scope within requestedScope "
	    "is the default set");
	r = get(&s, "https://api", "read", 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "select: MRRT entry");
	is_str(t.access_token, "ATnarrow",
	    "select: the entry with fewest granted scopes");
	is_str(t.token_type, "dpop", "select: the entry's token_type");
	is_str(t.audience, "https://api", "select: the entry's audience");
	r = get(&s, "https://api", "write", 0, 0, &t, &f);
	is_str(t.access_token, "ATwide", "select: only the wide one covers");
	r = get(&s, "https://other", "read", 1, 0, &t, &f);
	is_str(t.access_token, "ATother",
	    "select: mergeScopes=false, entry without requestedScope");
	r = get(&s, "https://other", "read", 0, 0, &t, &f);
	ok(r != AG_TOKEN_OK || strcmp(t.access_token, "ATother") != 0,
	    "select: merged scopes are not covered by that entry");
	ag_token_fail_clear(&f);
	ag_session_free(&s);

	/* No refresh token. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"expiresAt\":%lld}",
	    (long long)(now - 1));
	session_make(&s, ts, NULL);
	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_MISSING_REFRESH, "expired, no refresh token");
	is_str(f.message, "The access token has expired and a refresh token "
	    "was not provided. The user needs to re-authenticate.",
	    "expired, no refresh token: the SDK's message");
	r = get(&s, "https://nowhere", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_MISSING_REFRESH, "no token for audience");
	is_str(f.message, "No access token found and a refresh token was not "
	    "provided. The user needs to re-authenticate.",
	    "no token, no refresh token: the SDK's message");
	ag_session_free(&s);
	session_make(&s, "{\"accessToken\":\"AT1\"}", NULL);
	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "unknown expiry, no refresh token: handed out");
	ag_session_free(&s);

	/* Within token_refresh_buffer but no refresh token: handed out. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"expiresAt\":%lld}",
	    (long long)(now + 30));
	session_make(&s, ts, NULL);
	app.conf.token_refresh_buffer = 60;
	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "buffer, no refresh token: the cached token");
	app.conf.token_refresh_buffer = 0;
	ag_session_free(&s);

	/* IPSIE ceiling. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"expiresAt\":%lld}",
	    (long long)(now + 600));
	session_make(&s, ts, NULL);
	ag_json_set_int(ag_json_get(s.data, "internal"), "sessionExpiresAt",
	    now + 29);
	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_SESSION_EXPIRED, "ceiling within 30 s: expired");
	ag_json_set_int(ag_json_get(s.data, "internal"), "sessionExpiresAt",
	    now + 31);
	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "ceiling beyond 30 s: fine");
	ag_session_free(&s);
	r = get(NULL, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_MISSING_SESSION, "no session");
	ag_token_clear(&t);
	ag_token_fail_clear(&f);
}

/* ------------------------------------------------------------------ */
/* refresh_results across processes                                  */

static const char KEY[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/* Open the database in this (child) process. */
static struct ag_db *
open_db(void)
{
	struct ag_db *db = NULL;

	if (ag_db_open(dbpath, AG_DB_READWRITE, app.db_key, &db) != AG_OK)
		return NULL;
	return db;
}

static void
wait_go(void)
{
	while (!__atomic_load_n(&sh->go, __ATOMIC_SEQ_CST))
		usleep(1000);
}

static void
test_claims(void)
{
	struct ag_db *db;
	ag_json *res = NULL, *out = NULL;
	pid_t pids[NCHILD];
	int64_t now = 1000000;
	int i, st, state, mine = 0, wait = 0, other = 0, r;

	/* N processes claim one key at once: exactly one owner. */
	__atomic_store_n(&sh->go, 0, __ATOMIC_SEQ_CST);
	fflush(stdout);
	for (i = 0; i < NCHILD; i++) {
		if ((pids[i] = fork()) == 0) {
			struct ag_db *cdb = open_db();

			if (cdb == NULL)
				_exit(100);
			wait_go();
			r = ag_db_refresh_claim(cdb, KEY, now, 5, &state, &out);
			ag_json_free(out);
			ag_db_close(cdb);
			_exit(r != AG_OK ? 101 : state);
		}
	}
	usleep(100 * 1000);
	__atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < NCHILD; i++) {
		waitpid(pids[i], &st, 0);
		st = WIFEXITED(st) ? WEXITSTATUS(st) : 102;
		if (st == AG_REFRESH_MINE)
			mine++;
		else if (st == AG_REFRESH_WAIT)
			wait++;
		else {
			other++;
			printf("# child %d: %d\n", i, st);
		}
	}
	is_int(mine, 1, "claim race: exactly one MINE");
	is_int(wait, NCHILD - 1, "claim race: the others WAIT");
	is_int(other, 0, "claim race: no errors");

	if ((db = open_db()) == NULL) {
		ok(0, "open the database");
		return;
	}
	r = ag_db_refresh_claim(db, KEY, now + 4, 5, &state, &out);
	is_int(state, AG_REFRESH_WAIT, "claim: lock held for lock_secs");
	res = parse("{\"access_token\":\"NEW\",\"refresh_token\":\"RT2\"}");
	is_int(ag_db_refresh_finish(db, KEY, 1, res, now + 1), AG_OK,
	    "finish: ok");
	ag_json_free(res);
	r = ag_db_refresh_claim(db, KEY, now + 2, 5, &state, &out);
	is_int(r, AG_OK, "claim after finish");
	is_int(state, AG_REFRESH_DONE, "claim after finish: DONE");
	is_str(ag_json_get_str(out, "access_token"), "NEW",
	    "DONE: the stored outcome");
	ok(ag_json_get(out, "exp") == NULL, "DONE: no seal exp inside");
	ag_json_free(out);
	out = NULL;
	r = ag_db_refresh_claim(db, KEY, now + 1 + AG_REFRESH_KEEP_SECS, 5,
	    &state, &out);
	is_int(state, AG_REFRESH_MINE, "outcome expired: MINE again");
	ok(out == NULL, "MINE: no outcome");

	/* FAILED is served without a new claim until it expires. */
	res = parse("{\"error\":\"invalid_grant\",\"why\":\"x\"}");
	ag_db_refresh_finish(db, KEY, 0, res, now + 40);
	ag_json_free(res);
	for (i = 0; i < 3; i++) {
		r = ag_db_refresh_claim(db, KEY, now + 40 + i * 10, 5, &state,
		    &out);
		is_int(state, AG_REFRESH_FAILED, "FAILED served while fresh");
		ag_json_free(out);
		out = NULL;
	}
	r = ag_db_refresh_claim(db, KEY, now + 40 + AG_REFRESH_KEEP_SECS, 5,
	    &state, &out);
	is_int(state, AG_REFRESH_MINE, "FAILED expired: MINE");

	/* A crashed owner (never finishes): its stale lock is taken over. */
	r = ag_db_refresh_claim(db, KEY, now + 100, 5, &state, &out);
	is_int(state, AG_REFRESH_MINE, "owner claims");
	r = ag_db_refresh_claim(db, KEY, now + 104, 5, &state, &out);
	is_int(state, AG_REFRESH_WAIT, "a pending lock: WAIT");
	r = ag_db_refresh_claim(db, KEY, now + 105, 5, &state, &out);
	is_int(state, AG_REFRESH_MINE, "stale lock (crashed owner): MINE");
	r = ag_db_refresh_claim(db, KEY, now + 106, 5, &state, &out);
	is_int(state, AG_REFRESH_WAIT, "the new owner's lock: WAIT");

	/* An outcome sealed under another key does not open: refresh. */
	res = parse("{\"access_token\":\"A\"}");
	ag_db_refresh_finish(db, KEY, 1, res, now + 3000);
	ag_json_free(res);
	ag_db_close(db);
	{
		unsigned char other_key[AG_KEY_LEN];
		struct ag_db *db2 = NULL;

		memset(other_key, 7, sizeof(other_key));
		if (ag_db_open(dbpath, AG_DB_READWRITE, other_key, &db2) ==
		    AG_OK) {
			r = ag_db_refresh_claim(db2, KEY, now + 3001, 5, &state,
			    &out);
			is_int(state, AG_REFRESH_MINE,
			    "outcome that does not open: MINE");
			ag_db_close(db2);
		} else
			ok(0, "open with another key");
	}
	if ((db = open_db()) == NULL)
		return;
	is_int(ag_db_refresh_claim(db, "short", now, 5, &state, &out),
	    AG_ERR_PARSE, "claim: malformed key");
	is_int(ag_db_refresh_claim(db, KEY, now + 999999, 5, &state, &out),
	    AG_OK, "claim far later");
	{
		int n = -1;

		res = parse("{}");
		ag_db_refresh_finish(db, KEY, 1, res, now);
		ag_json_free(res);
		is_int(ag_db_refresh_purge(db, now + 10 * 1000000, &n), AG_OK,
		    "purge");
		ok(n >= 1, "purge: expired rows deleted");
	}

	/* peek claims nothing; release gives a lock back. */
	now += 20 * 1000000;
	is_int(ag_db_refresh_peek(db, KEY, now, &state, &out), AG_OK, "peek");
	ok(state == -1 && out == NULL, "peek: no row, no outcome");
	ag_db_refresh_claim(db, KEY, now, 5, &state, &out);
	is_int(state, AG_REFRESH_MINE, "peek took no lock");
	ag_db_refresh_peek(db, KEY, now, &state, &out);
	is_int(state, -1, "peek: a pending lock is no outcome");
	is_int(ag_db_refresh_release(db, KEY), AG_OK, "release");
	ag_db_refresh_claim(db, KEY, now, 5, &state, &out);
	is_int(state, AG_REFRESH_MINE, "released: MINE again");
	res = parse("{\"refresh_token\":\"R2\"}");
	ag_db_refresh_finish(db, KEY, 1, res, now);
	ag_json_free(res);
	ag_db_refresh_peek(db, KEY, now + 1, &state, &out);
	is_int(state, AG_REFRESH_DONE, "peek: DONE");
	is_str(ag_json_get_str(out, "refresh_token"), "R2", "peek: outcome");
	ag_json_free(out);
	out = NULL;
	is_int(ag_db_refresh_release(db, "short"), AG_ERR_PARSE,
	    "release: malformed key");
	ag_db_close(db);
}

/* ------------------------------------------------------------------ */
/* Whole refreshes against the loopback provider                      */

static void
test_refresh(void)
{
	struct ag_session s;
	struct ag_token t;
	struct ag_token_fail f;
	struct ag_buf body, mfa;
	char ts[1024], *idt;
	const char *form;
	int64_t now = ag_now();
	int r;

	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	ag_buf_init(&body, 0);
	ag_buf_init(&mfa, 0);
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RT1\",\"idToken\":\"ID1\",\"expiresAt\":%lld,\"scope\":"
	    "\"openid profile\",\"requestedScope\":"
	    "\"openid profile email offline_access\"}", (long long)(now + 50));

	/* Not yet expired: no call.  Within the buffer: a refresh. */
	token_route(200, "{\"access_token\":\"AT2\",\"token_type\":\"Bearer\","
	    "\"expires_in\":600,\"refresh_token\":\"RT2\",\"scope\":"
	    "\"openid profile\"}", 0);
	session_make(&s, ts, NULL);
	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_str(t.access_token, "AT1", "refresh: valid token, no call");
	is_int(route_hits("/oauth/token"), 0, "refresh: no provider call");
	app.conf.token_refresh_buffer = 60;
	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "buffer: refreshed");
	if (r != AG_TOKEN_OK)
		printf("#   why: %s\n", f.why);
	app.conf.token_refresh_buffer = 0;
	is_int(route_hits("/oauth/token"), 1, "buffer: one provider call");
	is_str(t.access_token, "AT2", "refresh: the new token");
	is_str(t.token_type, "bearer", "refresh: token_type lower-cased");
	is_int((int)(t.expires_at - now), 600, "refresh: expires_at");
	is_int(t.session_changed, 1, "refresh: session changed");
	is_str(req_body(), "grant_type=refresh_token&refresh_token=RT1",
	    "refresh: form without audience or scope when none requested");
	is_str(ts_str(&s, "refreshToken"), "RT2", "refresh: rotated in data");
	is_str(ts_str(&s, "accessToken"), "AT2", "refresh: stored");
	is_str(ts_str(&s, "idToken"), "ID1", "refresh: old ID token kept");
	is_str(ts_str(&s, "token_type"), "bearer", "refresh: token_type "
	    "stored");

	/* Forced, with audience and scope; an ID token for the same sub. */
	idt = id_token("auth0|u1", "New Name");
	ag_buf_printf(&body, "{\"access_token\":\"ATapi\",\"token_type\":"
	    "\"DPoP\",\"expires_in\":300,\"id_token\":\"%s\",\"scope\":"
	    "\"openid read\"}", idt);
	token_route(200, ag_buf_str(&body), 0);
	r = get(&s, "https://api", "read", 0, 1, &t, &f);
	is_int(r, AG_TOKEN_OK, "mrrt: refreshed");
	if (r != AG_TOKEN_OK)
		printf("#   why: %s\n", f.why);
	form = req_body();
	is_str(form, "grant_type=refresh_token&refresh_token=RT2&audience="
	    "https%3A%2F%2Fapi&scope=openid%20profile%20email%20offline_access"
	    "%20read", "mrrt: audience and effective scope sent");
	is_str(t.access_token, "ATapi", "mrrt: the new token");
	is_str(t.token_type, "dpop", "mrrt: dpop");
	is_str(ag_json_get_str(ag_session_user(&s), "name"), "New Name",
	    "ID token: claims replace the user");
	ok(ag_json_get(ag_session_user(&s), "secret_claim") == NULL,
	    "ID token: claims filtered by claims.keep");
	is_str(ts_str(&s, "idToken"), idt, "ID token stored in tokenSet");
	is_str(ts_str(&s, "refreshToken"), "RT2",
	    "no refresh token returned: the old one kept");
	is_str(ts_str(&s, "accessToken"), "AT2", "mrrt: default token intact");
	is_int((int)ag_json_array_len(ag_json_get(s.data, "accessTokens")), 1,
	    "mrrt: one entry");
	r = get(&s, "https://api", "read", 0, 0, &t, &f);
	is_str(t.access_token, "ATapi", "mrrt: entry served from the session");
	is_int(t.session_changed, 0, "mrrt: served, unchanged");
	free(idt);

	/* resource instead of audience. */
	app.conf.audience_param = AG_AUDIENCE_RESOURCE;
	token_route(200, "{\"access_token\":\"ATr\",\"token_type\":\"Bearer\","
	    "\"expires_in\":300}", 0);
	r = get(&s, "https://res", NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_OK, "resource: refreshed");
	is_str(req_body(), "grant_type=refresh_token&refresh_token=RT2&"
	    "resource=https%3A%2F%2Fres", "resource: RFC 8707 parameter");
	app.conf.audience_param = AG_AUDIENCE_AUDIENCE;
	ag_session_free(&s);

	/* An ID token of another user: refused, nothing stored. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTo\",\"expiresAt\":%lld}", (long long)(now + 50));
	session_make(&s, ts, NULL);
	idt = id_token("auth0|mallory", "M");
	ag_buf_reset(&body);
	ag_buf_printf(&body, "{\"access_token\":\"ATm\",\"token_type\":"
	    "\"Bearer\",\"refresh_token\":\"RTm\",\"id_token\":\"%s\"}", idt);
	free(idt);
	token_route(200, ag_buf_str(&body), 0);
	r = get(&s, NULL, NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "other sub: failed_to_refresh_token");
	is_str(ts_str(&s, "accessToken"), "AT1", "other sub: nothing stored");
	is_str(ts_str(&s, "refreshToken"), "RTo", "other sub: no rotation");
	is_int(t.session_changed, 0, "other sub: unchanged");
	/* The failure is remembered: no second call with this token. */
	r = get(&s, NULL, NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "remembered failure");
	is_int(route_hits("/oauth/token"), 1, "remembered failure: no call");
	ag_session_free(&s);

	/* invalid_grant; failed_to_refresh_token naming the code. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTbad\",\"expiresAt\":1}");
	session_make(&s, ts, NULL);
	token_route(400, "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"reused\"}", 0);
	r = get(&s, NULL, NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "invalid_grant: failed");
	ok(strstr(f.why, "invalid_grant") != NULL, "invalid_grant: in why");
	is_str(f.message, "The access token has expired and there was an "
	    "error while trying to refresh it.", "failed: the SDK's message");
	ag_session_free(&s);

	/* mfa_required: the raw body, audience and scope kept. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTmfa\",\"expiresAt\":%lld}", (long long)(now + 600));
	session_make(&s, ts, NULL);
	token_route(403, "{\"error\":\"mfa_required\",\"error_description\":"
	    "\"Multifactor authentication required\",\"mfa_token\":\"RAWMFA\","
	    "\"mfa_requirements\":{\"challenge\":[{\"type\":\"otp\"}]}}", 0);
	r = get(&s, "https://bank", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_MFA_REQUIRED, "mfa_required");
	is_str(ag_json_get_str(f.mfa, "mfa_token"), "RAWMFA",
	    "mfa_required: raw body kept");
	is_str(f.mfa_audience, "https://bank", "mfa_required: audience");
	is_str(f.mfa_scope, "openid profile email offline_access",
	    "mfa_required: scope");
	is_int(ag_token_mfa_body(&app, &f, now, &mfa), AG_OK, "mfa body");
	{
		ag_json *b = parse(ag_buf_str(&mfa)), *p = NULL;
		const char *sealed = ag_json_get_str(b, "mfa_token");
		int64_t exp = 0;

		is_str(ag_json_get_str(b, "error"), "mfa_required",
		    "mfa body: error");
		ok(ag_json_get(b, "mfa_requirements") != NULL,
		    "mfa body: mfa_requirements");
		ok(sealed != NULL && strstr(sealed, "RAWMFA") == NULL &&
		    strlen(sealed) > 40, "mfa body: mfa_token sealed");
		is_int(sealed != NULL ? ag_unseal(app.key, sealed,
		    strlen(sealed), now, &p) : -1, AG_OK,
		    "mfa body: opens with the cookie key");
		is_str(ag_json_get_str(p, "mfaToken"), "RAWMFA",
		    "mfa token: raw inside");
		is_str(ag_json_get_str(p, "audience"), "https://bank",
		    "mfa token: audience");
		ag_json_get_int(p, "exp", &exp);
		is_int((int)(exp - now), 300, "mfa token: exp = mfa.token_ttl");
		ag_json_get_int(p, "createdAt", &exp);
		ok(exp == now * 1000, "mfa token: createdAt in ms");
		ag_json_free(p);
		ag_json_free(b);
	}
	/* Another process asking meanwhile gets mfa_required too. */
	r = get(&s, "https://bank", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_MFA_REQUIRED, "mfa_required remembered as such");
	is_int(route_hits("/oauth/token"), 1, "mfa_required: one call");
	ag_session_free(&s);

	ag_token_clear(&t);
	ag_token_fail_clear(&f);
	ag_buf_free(&body);
	ag_buf_free(&mfa);
}

/*
 * N processes with the same session (the same cookie) refresh at once
 * against a slow token endpoint: one call, every one gets its result.
 */
static void
test_coalesce(void)
{
	pid_t pids[NCHILD];
	char ts[512];
	int i, st, okc = 0, same = 0;

	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTpar\",\"expiresAt\":%lld}", (long long)(ag_now() - 5));
	token_route(200, "{\"access_token\":\"ATpar\",\"token_type\":"
	    "\"Bearer\",\"expires_in\":600,\"refresh_token\":\"RTpar2\"}", 700);
	ag_app_db_close(&app);	/* a connection serves one process */
	__atomic_store_n(&sh->go, 0, __ATOMIC_SEQ_CST);
	fflush(stdout);
	for (i = 0; i < NCHILD; i++) {
		if ((pids[i] = fork()) == 0) {
			struct ag_session s;
			struct ag_token t;
			struct ag_token_fail f;
			int r;

			memset(&t, 0, sizeof(t));
			memset(&f, 0, sizeof(f));
			session_make(&s, ts, NULL);
			wait_go();
			r = get(&s, NULL, NULL, 0, 0, &t, &f);
			sh->child_rc[i] = r;
			if (r == AG_TOKEN_OK && t.session_changed &&
			    strcmp(ts_str(&s, "refreshToken"), "RTpar2") == 0)
				snprintf(sh->child_at[i], sizeof(sh->child_at[i]),
				    "%s", t.access_token);
			_exit(0);
		}
	}
	usleep(100 * 1000);
	__atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < NCHILD; i++) {
		waitpid(pids[i], &st, 0);
		okc += sh->child_rc[i] == AG_TOKEN_OK;
		same += strcmp(sh->child_at[i], "ATpar") == 0;
	}
	is_int(route_hits("/oauth/token"), 1,
	    "coalesced: one token endpoint call for N processes");
	is_int(okc, NCHILD, "coalesced: every process got a token");
	is_int(same, NCHILD, "coalesced: the same token and rotated refresh "
	    "token everywhere");
}

/* Token requests so far whose body contains needle. */
static int
tok_reqs_with(const char *needle)
{
	int i, n = 0, count = __atomic_load_n(&sh->ntok, __ATOMIC_SEQ_CST);

	for (i = 0; i < count && i < NTOKREQ; i++)
		n += strstr(sh->tok_req[i], needle) != NULL;
	return n;
}

static void
tok_reqs_reset(void)
{
	__atomic_store_n(&sh->ntok, 0, __ATOMIC_SEQ_CST);
	memset(sh->tok_req, 0, sizeof(sh->tok_req));
}

/*
 * Two processes with the same session (one refresh token) ask at once
 * for tokens of two different audiences, against a slow token endpoint
 * that rotates the refresh token (rotate) or does not: the refresh
 * token given to the session is presented once; the second refresh
 * presents its successor (or, not rotated, the same token again).
 */
static void
audiences_burst(int rotate)
{
	static const char *auds[2] = { "https://a", "https://b" };
	pid_t pids[2];
	char ts[512], want[64];
	const char *rt = rotate ? "RTrot" : "RTkeep";
	int i, st, okc = 0, changed = 0, have1 = 0, have2 = 0;

	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"%s\",\"expiresAt\":%lld}", rt, (long long)(ag_now() + 600));
	if (rotate)
		token_route(200, "{\"access_token\":\"AT@N@\",\"token_type\":"
		    "\"Bearer\",\"expires_in\":600,\"refresh_token\":"
		    "\"RTrot@N@\"}", 500);
	else
		token_route(200, "{\"access_token\":\"AT@N@\",\"token_type\":"
		    "\"Bearer\",\"expires_in\":600}", 500);
	tok_reqs_reset();
	ag_app_db_close(&app);	/* a connection serves one process */
	__atomic_store_n(&sh->go, 0, __ATOMIC_SEQ_CST);
	fflush(stdout);
	for (i = 0; i < 2; i++) {
		sh->child_rc[i] = -1;
		sh->child_at[i][0] = sh->child_rt[i][0] = '\0';
		if ((pids[i] = fork()) == 0) {
			struct ag_session s;
			struct ag_token t;
			struct ag_token_fail f;
			int r;

			memset(&t, 0, sizeof(t));
			memset(&f, 0, sizeof(f));
			session_make(&s, ts, NULL);
			wait_go();
			r = get(&s, auds[i], NULL, 0, 0, &t, &f);
			sh->child_rc[i] = r;
			sh->child_changed[i] = t.session_changed;
			if (r == AG_TOKEN_OK && t.access_token != NULL)
				snprintf(sh->child_at[i], sizeof(sh->child_at[i]),
				    "%s", t.access_token);
			if (ts_str(&s, "refreshToken") != NULL)
				snprintf(sh->child_rt[i], sizeof(sh->child_rt[i]),
				    "%s", ts_str(&s, "refreshToken"));
			_exit(0);
		}
	}
	usleep(100 * 1000);
	__atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 2; i++) {
		waitpid(pids[i], &st, 0);
		okc += sh->child_rc[i] == AG_TOKEN_OK &&
		    (strcmp(sh->child_at[i], "AT1") == 0 ||
		    strcmp(sh->child_at[i], "AT2") == 0);
		changed += sh->child_changed[i];
		have1 += strcmp(sh->child_rt[i], rotate ? "RTrot1" : rt) == 0;
		have2 += strcmp(sh->child_rt[i], rotate ? "RTrot2" : rt) == 0;
	}
	is_int(route_hits("/oauth/token"), 2, rotate ?
	    "audiences, rotating: two token endpoint calls" :
	    "audiences, not rotating: two token endpoint calls");
	snprintf(want, sizeof(want), "refresh_token=%s&", rt);
	if (rotate) {
		is_int(tok_reqs_with(want), 1, "audiences, rotating: the "
		    "session's refresh token presented exactly once");
		is_int(tok_reqs_with("refresh_token=RTrot1&"), 1,
		    "audiences, rotating: the second call presents the "
		    "rotated token");
		ok(have1 == 1 && have2 == 1, "audiences, rotating: the "
		    "sessions end with RTrot1 and RTrot2");
	} else {
		is_int(tok_reqs_with(want), 2, "audiences, not rotating: "
		    "both calls present the same token");
		is_int(have1, 2, "audiences, not rotating: both sessions "
		    "keep it");
	}
	is_int(tok_reqs_with("audience=https%3A%2F%2Fa") +
	    tok_reqs_with("audience=https%3A%2F%2Fb") * 10, 11,
	    "audiences: one call per audience");
	is_int(okc, 2, "audiences: both processes got a valid token");
	is_int(changed, 2, "audiences: both sessions changed");
}

/*
 * The same, one after the other, with a stale copy of the session (a
 * request that left before the first one's cookie came back).
 */
static void
test_audiences(void)
{
	struct ag_session s, stale;
	struct ag_token t;
	struct ag_token_fail f;
	char ts[512];
	int r;

	audiences_burst(1);
	audiences_burst(0);

	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTseq\",\"expiresAt\":%lld}", (long long)(ag_now() + 600));
	token_route(200, "{\"access_token\":\"AT@N@\",\"token_type\":"
	    "\"Bearer\",\"expires_in\":600,\"refresh_token\":\"RTseq@N@\"}",
	    0);
	tok_reqs_reset();
	session_make(&s, ts, NULL);
	session_make(&stale, ts, NULL);
	r = get(&s, "https://a", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "stale: first audience refreshed");
	is_str(ts_str(&s, "refreshToken"), "RTseq1", "stale: rotated");
	r = get(&stale, "https://b", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "stale: second audience refreshed");
	is_str(t.access_token, "AT2", "stale: its own token");
	is_int(tok_reqs_with("refresh_token=RTseq&"), 1,
	    "stale: the spent token is not presented again");
	is_int(tok_reqs_with("refresh_token=RTseq1&"), 1,
	    "stale: its successor is");
	is_str(ts_str(&stale, "refreshToken"), "RTseq2",
	    "stale: the session gets the newest refresh token");
	is_int(t.session_changed, 1, "stale: session changed");
	is_int(route_hits("/oauth/token"), 2, "stale: two calls in all");
	ag_session_free(&s);
	ag_session_free(&stale);

	/* A failure that may have spent the token: no other call. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTfail\",\"expiresAt\":%lld}", (long long)(ag_now() + 600));
	token_route(500, "{}", 0);
	session_make(&s, ts, NULL);
	r = get(&s, "https://a", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "spent by a failure: failed");
	r = get(&s, "https://b", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "spent by a failure: the other "
	    "audience fails too");
	is_int(route_hits("/oauth/token"), 1, "spent by a failure: no storm");
	ag_session_free(&s);

	/* mfa_required for one audience leaves the token good for others. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTmfa2\",\"expiresAt\":%lld}", (long long)(ag_now() + 600));
	token_route(403, "{\"error\":\"mfa_required\",\"mfa_token\":\"M\"}",
	    0);
	session_make(&s, ts, NULL);
	r = get(&s, "https://bank", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_MFA_REQUIRED, "mfa for one audience");
	token_route(200, "{\"access_token\":\"ATo\",\"token_type\":"
	    "\"Bearer\",\"expires_in\":600}", 0);
	r = get(&s, "https://other", NULL, 0, 0, &t, &f);
	is_int(r, AG_TOKEN_OK, "mfa for one audience: another one refreshes");
	is_str(t.access_token, "ATo", "mfa for one audience: its token");
	ag_session_free(&s);
	ag_token_clear(&t);
	ag_token_fail_clear(&f);
}

/* The discovery document, its token endpoint at token_base. */
static void
serve_discovery(const char *token_base)
{
	struct ag_buf disco;

	ag_buf_init(&disco, 0);
	ag_buf_printf(&disco, "{\"issuer\":\"%s\",\"authorization_endpoint\":"
	    "\"%s/authorize\",\"token_endpoint\":\"%s/oauth/token\","
	    "\"jwks_uri\":\"%s/jwks\",\"id_token_signing_alg_values_supported\""
	    ":[\"RS256\"]}", issuer, base, token_base, base);
	route_set("/.well-known/openid-configuration", 200,
	    ag_buf_str(&disco), 0);
	ag_buf_free(&disco);
}

/*
 * A loopback port bound but not listening: connecting to it is refused
 * (ECONNREFUSED) while the socket stays open.  Its URL into url.
 */
static int
closed_port(char *url, size_t n)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		abort();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	snprintf(url, n, "http://127.0.0.1:%d", ntohs(sa.sin_port));
	return fd;
}

/* One POST with the test's network settings; its not_sent into *ns. */
static int
post(const char *url, int *ns)
{
	struct ag_http_req q;
	struct ag_http_resp resp;
	int r;

	memset(&q, 0, sizeof(q));
	memset(&resp, 0, sizeof(resp));
	q.method = "POST";
	q.url = url;
	q.body = "grant_type=refresh_token&refresh_token=RTx";
	q.body_len = strlen(q.body);
	q.allow_http = 1;
	q.timeout_ms = 3000;
	r = ag_http_do(&q, &resp);
	*ns = resp.not_sent;
	ag_http_resp_free(&resp);
	return r;
}

/*
 * A refresh that never reached the provider (connection refused) is
 * not remembered: the next one, with the provider back, refreshes at
 * once.  One whose connection is reset after the request was sent may
 * have spent the token: remembered, for every audience.
 */
static void
test_not_sent(void)
{
	struct ag_session s;
	struct ag_token t;
	struct ag_token_fail f;
	struct ag_oidc *live = app.oidc, *down = NULL;
	const struct ag_provider *p;
	struct ag_buf url;
	char closed[64], ts[512], why[AG_WHY_LEN];
	int cfd, r, ns = -1;

	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	ag_buf_init(&url, 0);
	cfd = closed_port(closed, sizeof(closed));

	/* ag_http_do: which failures sent nothing. */
	ag_buf_printf(&url, "%s/oauth/token", closed);
	r = post(ag_buf_str(&url), &ns);
	is_int(r, AG_ERR_HTTP, "http: connection refused fails");
	is_int(ns, 1, "http: connection refused: not sent");
	r = post("ftp://127.0.0.1/x", &ns);
	is_int(ns, 1, "http: refused URL: not sent");
	r = post("http://authgate-test.invalid/oauth/token", &ns);
	is_int(r, AG_ERR_HTTP, "http: unresolvable name fails");
	is_int(ns, 1, "http: unresolvable name: not sent");
	token_route(0, "", 0);
	ag_buf_reset(&url);
	ag_buf_printf(&url, "%s/oauth/token", base);
	r = post(ag_buf_str(&url), &ns);
	is_int(r, AG_ERR_HTTP, "http: reset after the request fails");
	is_int(ns, 0, "http: reset after the request: maybe sent");
	is_int(route_hits("/oauth/token"), 1, "http: the request arrived");
	token_route(200, "{\"access_token\":\"ATok\",\"token_type\":"
	    "\"Bearer\",\"expires_in\":600}", 0);
	r = post(ag_buf_str(&url), &ns);
	is_int(r, AG_OK, "http: an answer");
	is_int(ns, 0, "http: an answer: sent");

	/* A provider whose token endpoint refuses connections. */
	serve_discovery(closed);
	if (ag_oidc_new(&app.conf, &down) != AG_OK ||
	    ag_oidc_provider(down, &p, why) != AG_OK)
		ok(0, "oidc with the closed token endpoint");
	serve_discovery(base);

	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTdown\",\"expiresAt\":%lld}", (long long)(ag_now() + 600));
	session_make(&s, ts, NULL);
	token_route(200, "{\"access_token\":\"ATback\",\"token_type\":"
	    "\"Bearer\",\"expires_in\":600,\"refresh_token\":\"RTback\"}", 0);
	app.oidc = down;
	r = get(&s, NULL, NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "provider down: failed");
	is_str(ts_str(&s, "refreshToken"), "RTdown", "provider down: the "
	    "refresh token kept");
	/* Another audience, meanwhile: the token's lock is free. */
	r = get(&s, "https://other", NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "provider down: another audience "
	    "tries (and fails) too");
	is_int(route_hits("/oauth/token"), 0, "provider down: no request "
	    "arrived");
	app.oidc = live;
	r = get(&s, NULL, NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_OK, "provider back: refreshed at once");
	if (r != AG_TOKEN_OK)
		printf("#   why: %s\n", f.why);
	is_str(t.access_token, "ATback", "provider back: the new token");
	is_str(ts_str(&s, "refreshToken"), "RTback", "provider back: rotated");
	is_int(route_hits("/oauth/token"), 1, "provider back: one call");
	ag_session_free(&s);

	/* Reset after the request was sent: maybe spent, remembered. */
	snprintf(ts, sizeof(ts), "{\"accessToken\":\"AT1\",\"refreshToken\":"
	    "\"RTreset\",\"expiresAt\":%lld}", (long long)(ag_now() + 600));
	session_make(&s, ts, NULL);
	token_route(0, "", 0);
	r = get(&s, NULL, NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "reset after sending: failed");
	is_int(route_hits("/oauth/token"), 1, "reset after sending: the "
	    "request arrived");
	token_route(200, "{\"access_token\":\"ATnot\",\"token_type\":"
	    "\"Bearer\",\"expires_in\":600,\"refresh_token\":\"RTnot\"}", 0);
	r = get(&s, NULL, NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "reset after sending: remembered");
	r = get(&s, "https://other", NULL, 0, 1, &t, &f);
	is_int(r, AG_TOKEN_FAILED_REFRESH, "reset after sending: remembered "
	    "for another audience too");
	is_int(route_hits("/oauth/token"), 0, "reset after sending: the token "
	    "is not presented again");
	is_str(ts_str(&s, "refreshToken"), "RTreset", "reset after sending: "
	    "session unchanged");
	ag_session_free(&s);

	app.oidc = live;
	ag_oidc_free(down);
	close(cfd);
	ag_buf_free(&url);
	ag_token_clear(&t);
	ag_token_fail_clear(&f);
}

int
main(void)
{
	struct ag_db *db = NULL;
	ag_json *jwks, *keys, *k = NULL;
	char *s;
	size_t n;
	FILE *fp;
	int r;

	signal(SIGPIPE, SIG_IGN);
	ag_log_open("test-token", AG_LOG_ERROR, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		abort();
	memset(sh, 0, sizeof(*sh));
	server_start();
	ag_clock_set((int64_t)time(NULL));

	snprintf(issuer, sizeof(issuer), "%s/", base);
	memset(&app, 0, sizeof(app));
	app.conf.issuer = issuer;
	app.conf.client_id = "cid";
	app.conf.client_secret = "s3cret";
	app.conf.client_auth = AG_AUTH_SECRET_BASIC;
	app.conf.scope = "openid profile email offline_access";
	app.conf.allow_insecure = 1;
	app.conf.http_timeout_ms = 3000;
	app.conf.id_token_algs = AG_ALG_ALL;
	app.conf.mfa_token_ttl = 300;
	app.conf.store = AG_STORE_COOKIE;
	app.conf.access_token_endpoint = 1;
	app.conf.claims_keep.v = keep_claims;
	app.conf.claims_keep.n = sizeof(keep_claims) / sizeof(keep_claims[0]);
	snprintf(dbpath, sizeof(dbpath), "/tmp/test-token-%d.db", (int)getpid());
	app.conf.session_db = dbpath;
	ag_cookie_key("a-test-secret-of-at-least-32-characters", app.key);
	ag_db_key("a-test-secret-of-at-least-32-characters", app.db_key);
	if (ag_db_open(dbpath, AG_DB_CREATE, app.db_key, &db) != AG_OK)
		ok(0, "create the database");
	ag_db_close(db);

	serve_discovery(base);
	jwks = ag_json_object();
	keys = ag_json_array();
	if ((fp = fopen(JWT_DIR "rsa.jwk.json", "r")) != NULL) {
		char buf[8192];

		n = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		if (ag_json_parse_object(buf, n, sizeof(buf), &k) == AG_OK) {
			ag_json_set_str(k, "kid", "k1");
			ag_json_set_str(k, "alg", "RS256");
			ag_json_array_add(keys, k);
		}
	}
	ag_json_set(jwks, "keys", keys);
	s = ag_json_dump_dup(jwks);
	route_set("/jwks", 200, s, 0);
	free(s);
	ag_json_free(jwks);
	if (ag_key_load(JWT_DIR "rsa.pem", AG_ALG_RS256, &k_rsa) != AG_OK)
		ok(0, "load the test key");
	r = ag_oidc_new(&app.conf, &app.oidc);
	is_int(r, AG_OK, "oidc: new");

	test_scopes();
	test_store();
	test_select();
	test_claims();
	/* A clean table for the token tests. */
	ag_app_db_close(&app);
	unlink(dbpath);
	if (ag_db_open(dbpath, AG_DB_CREATE, app.db_key, &db) != AG_OK)
		ok(0, "create the database again");
	ag_db_close(db);
	test_refresh();
	test_coalesce();
	test_audiences();
	test_not_sent();

	ag_app_db_close(&app);
	ag_oidc_free(app.oidc);
	ag_key_free(k_rsa);
	server_stop();
	unlink(dbpath);
	{
		char p[300];

		snprintf(p, sizeof(p), "%s-wal", dbpath);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", dbpath);
		unlink(p);
	}
	return tap_done();
}
