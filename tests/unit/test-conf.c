/*
 * test-conf.c -- the configuration parser: every key, the environment,
 * each validation rule, hostile files.  The files under tests/data/conf
 * are replayed: NAME.conf must give exactly the problems in NAME.out
 * (an empty file means no problem).
 *
 * "test-conf --keys" prints the key table (key TAB variables) for
 * tests/check-conf-doc; "test-conf --problems FILE" prints the problems
 * of FILE (with an empty environment), to write a new NAME.out.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "cookie.h"
#include "err.h"
#include "jwt.h"
#include "ag_limits.h"
#include "log.h"
#include "tap.h"

#define SECRET	"0123456789abcdef0123456789abcdef"
#define BASE	"domain = tenant.example.com\n" \
		"client_id = abc123\n" \
		"client_secret = client-secret-value\n" \
		"secret = " SECRET "\n" \
		"app_base_url = https://app.example.com\n"

static char *const noenv[] = { NULL };

/* Parse text with envp; return the code, problems in *p (caller frees). */
static int
parse(struct ag_conf *conf, const char *text, char *const *envp,
    struct ag_buf *p)
{
	ag_buf_init(p, 0);
	return ag_conf_parse(conf, text, strlen(text), envp, p);
}

static int
contains(const struct ag_buf *b, const char *s)
{
	return strstr(ag_buf_str(b), s) != NULL;
}

static void
test_minimal(void)
{
	struct ag_conf c;
	struct ag_buf p;

	is_int(parse(&c, BASE, noenv, &p), AG_OK, "minimal: AG_OK");
	is_str(ag_buf_str(&p), "", "minimal: no problem");
	is_str(c.issuer, "https://tenant.example.com/", "issuer from domain");
	is_str(c.app_origin, "https://app.example.com", "app_origin");
	is_int(c.client_auth, AG_AUTH_SECRET_BASIC, "client_auth basic");
	ok(c.client_assertion_alg == NULL, "client_assertion_alg unset: the key type decides");
	is_str(c.scope, "openid profile email offline_access", "scope default");
	ok(c.audience == NULL, "audience unset");
	is_int(c.audience_param, AG_AUDIENCE_AUDIENCE, "audience.param");
	is_int(c.n_authz_params, 0, "no authorization params");
	is_int(c.login_forward_scope, 0, "login.forward_scope off");
	is_int(c.login_forward_audience, 0, "login.forward_audience off");
	is_str(c.default_return_to, "/", "default_return_to /");
	is_int(c.par, 0, "par off");
	is_int(c.id_token_algs, AG_ALG_ALL, "id_token.algs all");
	is_int(c.userinfo, AG_USERINFO_AUTO, "userinfo auto");
	is_int(c.claims_keep.n, 11, "claims.keep: 11 claims");
	is_str(c.claims_keep.v[0], "sub", "claims.keep starts with sub");
	is_str(c.claims_keep.v[10], "urn:auth0:my_org_current_user_permissions",
	    "claims.keep ends with my_org permissions");
	is_str(c.route_prefix, "/auth", "routes.prefix /auth");
	is_int(c.access_token_endpoint, 1, "access_token_endpoint on");
	is_int(c.connect_account_endpoint, 0, "connect_account_endpoint off");
	is_int(c.profile_204, 0, "profile.no_content off");
	ok(c.callback_error_url == NULL, "callback.error_url unset");
	is_int(c.store, AG_STORE_COOKIE, "session.store cookie");
	is_str(c.session_db, "/var/lib/authgate/sessions.db", "session.db");
	is_int(c.rolling, 1, "session.rolling on");
	is_int(c.absolute_duration, 259200, "absolute_duration");
	is_int(c.inactivity_duration, 86400, "inactivity_duration");
	is_str(c.cookie_name, "__session", "cookie.name");
	is_int(c.cookie_secure, 1, "cookie.secure forced on for https");
	is_int(c.cookie_same_site, AG_SAME_SITE_LAX, "cookie.same_site lax");
	is_str(c.cookie_path, "/", "cookie.path");
	ok(c.cookie_domain == NULL, "cookie.domain unset");
	is_int(c.cookie_transient, 0, "cookie.transient off");
	is_int(c.logout_strategy, AG_LOGOUT_AUTO, "logout.strategy auto");
	is_int(c.logout_allowed.n, 0, "logout.allowed_return_urls empty");
	is_int(c.logout_id_token_hint, 1, "logout.id_token_hint on");
	is_int(c.logout_revoke, 1, "logout.revoke_refresh_token on");
	is_int(c.dpop, 0, "dpop off");
	is_int(c.mfa_token_ttl, 300, "mfa.token_ttl 300");
	is_int(c.token_refresh_buffer, 0, "token_refresh_buffer 0");
	is_int(c.http_timeout_ms, 5000, "http.timeout_ms 5000");
	ok(c.http_ca_file == NULL, "http.ca_file unset");
	is_int(c.allow_insecure, 0, "allow_insecure_requests off");
	is_int(c.wrap_roots.n, 0, "wrap.roots empty");
	is_str(c.remote_user_claim, "sub", "wrap.remote_user_claim sub");
	is_int(c.pass_access_token, 0, "wrap.pass_access_token off");
	is_int(c.unauthenticated, AG_UNAUTH_REDIRECT, "wrap.unauthenticated");
	ok(c.authorize_require == NULL, "authorize.require unset");
	is_int(c.log_level, AG_LOG_INFO, "log.level info");
	is_int(c.log_syslog, 0, "log.syslog off");
	ok(c.path == NULL, "parse: no path");
	ag_conf_free(&c);
	ok(c.issuer == NULL && c.secret == NULL, "free clears the struct");
	ag_conf_free(&c);
	ag_conf_free(NULL);
	ok(1, "double free and free(NULL) are safe");
	ag_buf_free(&p);
}

static void
test_every_key(void)
{
	static const char text[] =
	    "issuer = https://idp.example.com/realms/main\n"
	    "client_id = cid\n"
	    "client_secret = csecret\n"
	    "client_assertion_key = /etc/authgate/client.pem\n"
	    "client_assertion_alg = ES256\n"
	    "client_auth = private_key_jwt\n"
	    "secret = " SECRET "\n"
	    "app_base_url = https://App.Example.com:443/sub/\n"
	    "scope = openid email\n"
	    "audience = https://api.example.com/\n"
	    "audience.param = resource\n"
	    "authorization.prompt = login\n"
	    "authorization.ui_locales = de fr\n"
	    "login.forward_scope = yes\n"
	    "login.forward_audience = true\n"
	    "login.default_return_to = /home\n"
	    "par = 1\n"
	    "id_token.algs = ES256, EdDSA\n"
	    "userinfo = off\n"
	    "claims.keep = sub, email  name\n"
	    "routes.prefix = /login-api\n"
	    "access_token_endpoint = off\n"
	    "connect_account_endpoint = on\n"
	    "profile.no_content = on\n"
	    "callback.error_url = /oops\n"
	    "session.store = sqlite\n"
	    "session.db = /tmp/s.db\n"
	    "session.rolling = no\n"
	    "session.absolute_duration = 3600\n"
	    "session.inactivity_duration = 600\n"
	    "cookie.name = appsession\n"
	    "cookie.secure = on\n"
	    "cookie.same_site = STRICT\n"
	    "cookie.path = /sub\n"
	    "cookie.domain = .example.com\n"
	    "cookie.transient = on\n"
	    "logout.strategy = v2\n"
	    "logout.allowed_return_urls = https://a.example/ http://b.example/x\n"
	    "logout.id_token_hint = off\n"
	    "logout.revoke_refresh_token = false\n"
	    "dpop = on\n"
	    "dpop.key = /etc/authgate/dpop.pem\n"
	    "mfa.token_ttl = 120\n"
	    "token_refresh_buffer = 60\n"
	    "http.timeout_ms = 100\n"
	    "http.ca_file = /etc/ssl/extra.pem\n"
	    "allow_insecure_requests = off\n"
	    "wrap.roots = /var/www/cgi-bin,/srv/cgi\n"
	    "wrap.remote_user_claim = email\n"
	    "wrap.pass_access_token = on\n"
	    "wrap.unauthenticated = 401\n"
	    "authorize.require = email_verified == true\n"
	    "log.level = debug\n"
	    "log.syslog = on\n";
	struct ag_conf c;
	struct ag_buf p;

	is_int(parse(&c, text, noenv, &p), AG_OK, "every key: AG_OK");
	is_str(ag_buf_str(&p), "", "every key: no problem");
	is_str(c.issuer, "https://idp.example.com/realms/main",
	    "issuer exactly as written");
	ok(c.domain == NULL, "no domain");
	is_str(c.client_id, "cid", "client_id");
	is_str(c.client_secret, "csecret", "client_secret");
	is_str(c.client_assertion_key, "/etc/authgate/client.pem",
	    "client_assertion_key");
	is_str(c.client_assertion_alg, "ES256", "client_assertion_alg");
	is_int(c.client_auth, AG_AUTH_PRIVATE_KEY_JWT, "client_auth");
	is_str(c.secret, SECRET, "secret");
	is_str(c.app_base_url, "https://App.Example.com:443/sub/",
	    "app_base_url kept");
	is_str(c.app_origin, "https://app.example.com",
	    "app_origin lower case, default port dropped");
	is_str(c.scope, "openid email", "scope");
	is_str(c.audience, "https://api.example.com/", "audience");
	is_int(c.audience_param, AG_AUDIENCE_RESOURCE, "audience.param");
	is_int(c.n_authz_params, 2, "two authorization params");
	if (c.n_authz_params == 2) {
		is_str(c.authz_params[0].key, "prompt", "authz 0 key");
		is_str(c.authz_params[0].value, "login", "authz 0 value");
		is_str(c.authz_params[1].key, "ui_locales", "authz 1 key");
		is_str(c.authz_params[1].value, "de fr", "authz 1 value");
	}
	is_int(c.login_forward_scope, 1, "login.forward_scope");
	is_int(c.login_forward_audience, 1, "login.forward_audience");
	is_str(c.default_return_to, "/home", "login.default_return_to");
	is_int(c.par, 1, "par");
	is_int(c.id_token_algs, AG_ALG_BIT(AG_ALG_ES256) |
	    AG_ALG_BIT(AG_ALG_EDDSA), "id_token.algs");
	is_int(c.userinfo, AG_USERINFO_OFF, "userinfo");
	is_int(c.claims_keep.n, 3, "claims.keep count");
	if (c.claims_keep.n == 3) {
		is_str(c.claims_keep.v[1], "email", "claims.keep[1]");
		is_str(c.claims_keep.v[2], "name", "claims.keep[2]");
		ok(c.claims_keep.v[3] == NULL, "claims.keep NULL-terminated");
	}
	is_str(c.route_prefix, "/login-api", "routes.prefix");
	is_int(c.access_token_endpoint, 0, "access_token_endpoint");
	is_int(c.connect_account_endpoint, 1, "connect_account_endpoint");
	is_int(c.profile_204, 1, "profile.no_content");
	is_str(c.callback_error_url, "/oops", "callback.error_url");
	is_int(c.store, AG_STORE_SQLITE, "session.store");
	is_str(c.session_db, "/tmp/s.db", "session.db");
	is_int(c.rolling, 0, "session.rolling");
	is_int(c.absolute_duration, 3600, "session.absolute_duration");
	is_int(c.inactivity_duration, 600, "session.inactivity_duration");
	is_str(c.cookie_name, "appsession", "cookie.name");
	is_int(c.cookie_secure, 1, "cookie.secure");
	is_int(c.cookie_same_site, AG_SAME_SITE_STRICT,
	    "cookie.same_site (case-insensitive)");
	is_str(c.cookie_path, "/sub", "cookie.path");
	is_str(c.cookie_domain, ".example.com", "cookie.domain");
	is_int(c.cookie_transient, 1, "cookie.transient");
	is_int(c.logout_strategy, AG_LOGOUT_V2, "logout.strategy");
	is_int(c.logout_allowed.n, 2, "logout.allowed_return_urls");
	is_int(c.logout_id_token_hint, 0, "logout.id_token_hint");
	is_int(c.logout_revoke, 0, "logout.revoke_refresh_token");
	is_int(c.dpop, 1, "dpop");
	is_str(c.dpop_key, "/etc/authgate/dpop.pem", "dpop.key");
	is_int(c.mfa_token_ttl, 120, "mfa.token_ttl");
	is_int(c.token_refresh_buffer, 60, "token_refresh_buffer");
	is_int(c.http_timeout_ms, 100, "http.timeout_ms at its minimum");
	is_str(c.http_ca_file, "/etc/ssl/extra.pem", "http.ca_file");
	is_int(c.allow_insecure, 0, "allow_insecure_requests");
	is_int(c.wrap_roots.n, 2, "wrap.roots");
	is_str(c.remote_user_claim, "email", "wrap.remote_user_claim");
	is_int(c.pass_access_token, 1, "wrap.pass_access_token");
	is_int(c.unauthenticated, AG_UNAUTH_401, "wrap.unauthenticated");
	is_str(c.authorize_require, "email_verified == true",
	    "authorize.require stored as written");
	is_int(c.log_level, AG_LOG_DEBUG, "log.level");
	is_int(c.log_syslog, 1, "log.syslog");
	ag_conf_free(&c);
	ag_buf_free(&p);
}

static void
test_env(void)
{
	char *const file_env[] = {
		"AUTHGATE_CLIENT_ID=from-authgate",
		"AUTH0_CLIENT_ID=from-sdk",
		"AUTH0_DOMAIN=sdk.example.com",
		"AUTHGATE_SESSION_ABSOLUTE_DURATION=42",
		"AUTHGATE_COOKIE_SAME_SITE=strict",
		"AUTH0_COOKIE_SAME_SITE=none",
		"AUTHGATE_AUTHORIZATION_ORGANIZATION=org_1",
		"AUTHGATE_AUTHORIZATION_PROMPT=consent",
		"AUTH0_AUDIENCE=",
		NULL
	};
	char *const sdk_env[] = {
		"AUTH0_DOMAIN=https://Tenant.EU.auth0.com",
		"AUTH0_CLIENT_ID=cid",
		"AUTH0_CLIENT_SECRET=csec",
		"AUTH0_CLIENT_ASSERTION_SIGNING_KEY=/k.pem",
		"AUTH0_CLIENT_ASSERTION_SIGNING_ALG=PS256",
		"AUTH0_SECRET=" SECRET,
		"APP_BASE_URL=http://localhost:3000/",
		"AUTH0_COOKIE_DOMAIN=localhost",
		"AUTH0_COOKIE_PATH=/app",
		"AUTH0_COOKIE_TRANSIENT=true",
		"AUTH0_COOKIE_SECURE=true",
		"AUTH0_COOKIE_SAME_SITE=none",
		"AUTH0_MFA_TOKEN_TTL=900",
		"AUTH0_SCOPE=openid offline_access",
		"AUTH0_AUDIENCE=https://api/",
		NULL
	};
	char *const issuer_env[] = {
		"AUTHGATE_ISSUER=http://127.0.0.1:9000/oidc",
		"AUTHGATE_ALLOW_INSECURE_REQUESTS=on",
		"AUTHGATE_CLIENT_ID=x",
		"AUTHGATE_CLIENT_ASSERTION_KEY=/k.pem",
		"AUTHGATE_SECRET=" SECRET,
		"AUTHGATE_APP_BASE_URL=https://app.example",
		"AUTHGATE_HTTP_TIMEOUT_MS=60000",
		"AUTHGATE_LOG_LEVEL=warn",
		NULL
	};
	char *const bad_env[] = {
		"AUTHGATE_PAR=perhaps",
		NULL
	};
	struct ag_conf c;
	struct ag_buf p;

	is_int(parse(&c, BASE "authorization.prompt = login\n"
	    "audience = file-audience\n", file_env, &p), AG_OK,
	    "env over file: AG_OK");
	is_str(c.client_id, "from-authgate",
	    "AUTHGATE_<KEY> beats the SDK name and the file");
	is_str(c.domain, "sdk.example.com", "AUTH0_DOMAIN beats the file");
	is_str(c.issuer, "https://sdk.example.com/", "issuer from env domain");
	is_int(c.absolute_duration, 42, "AUTHGATE_SESSION_ABSOLUTE_DURATION");
	is_int(c.cookie_same_site, AG_SAME_SITE_STRICT,
	    "AUTHGATE_COOKIE_SAME_SITE beats AUTH0_COOKIE_SAME_SITE");
	is_str(c.audience, "file-audience", "an empty variable is ignored");
	is_int(c.n_authz_params, 2, "authorization params from env");
	if (c.n_authz_params == 2) {
		is_str(c.authz_params[0].value, "consent",
		    "AUTHGATE_AUTHORIZATION_PROMPT replaces the file's");
		is_str(c.authz_params[1].key, "organization",
		    "env authorization name lower-cased");
	}
	ag_conf_free(&c);
	ag_buf_free(&p);

	is_int(parse(&c, "", sdk_env, &p), AG_OK,
	    "SDK names alone make a complete configuration");
	is_str(ag_buf_str(&p), "", "SDK env: no problem");
	is_str(c.issuer, "https://tenant.eu.auth0.com/",
	    "URL domain: host lower-cased, slash added");
	is_str(c.client_id, "cid", "AUTH0_CLIENT_ID");
	is_str(c.client_secret, "csec", "AUTH0_CLIENT_SECRET");
	is_str(c.client_assertion_key, "/k.pem",
	    "AUTH0_CLIENT_ASSERTION_SIGNING_KEY");
	is_str(c.client_assertion_alg, "PS256",
	    "AUTH0_CLIENT_ASSERTION_SIGNING_ALG");
	is_int(c.client_auth, AG_AUTH_SECRET_BASIC,
	    "secret and key: client_secret_basic");
	is_str(c.secret, SECRET, "AUTH0_SECRET");
	is_str(c.app_origin, "http://localhost:3000", "APP_BASE_URL origin");
	is_str(c.cookie_domain, "localhost", "AUTH0_COOKIE_DOMAIN");
	is_str(c.cookie_path, "/app", "AUTH0_COOKIE_PATH");
	is_int(c.cookie_transient, 1, "AUTH0_COOKIE_TRANSIENT");
	is_int(c.cookie_secure, 1, "AUTH0_COOKIE_SECURE");
	is_int(c.cookie_same_site, AG_SAME_SITE_NONE, "AUTH0_COOKIE_SAME_SITE");
	is_int(c.mfa_token_ttl, 900, "AUTH0_MFA_TOKEN_TTL");
	is_str(c.scope, "openid offline_access", "AUTH0_SCOPE");
	is_str(c.audience, "https://api/", "AUTH0_AUDIENCE");
	ag_conf_free(&c);
	ag_buf_free(&p);

	is_int(parse(&c, "", issuer_env, &p), AG_OK,
	    "AUTHGATE_ISSUER with insecure on");
	is_str(ag_buf_str(&p), "", "AUTHGATE_* env: no problem");
	is_str(c.issuer, "http://127.0.0.1:9000/oidc",
	    "issuer exact: no slash added");
	is_int(c.client_auth, AG_AUTH_PRIVATE_KEY_JWT,
	    "only a key: private_key_jwt");
	is_int(c.http_timeout_ms, 60000, "http.timeout_ms at its maximum");
	is_int(c.log_level, AG_LOG_WARN, "AUTHGATE_LOG_LEVEL");
	ag_conf_free(&c);
	ag_buf_free(&p);

	is_int(parse(&c, BASE, bad_env, &p), AG_ERR_CONFIG,
	    "bad env value: AG_ERR_CONFIG");
	ok(contains(&p, "par: 'perhaps' is not a boolean (on|off) "
	    "(environment AUTHGATE_PAR)"), "problem names the variable");
	is_int(c.par, 0, "bad value leaves the default");
	ag_conf_free(&c);
	ag_buf_free(&p);
}

static void
test_secrets_not_printed(void)
{
	char *const env[] = { "AUTH0_SECRET=TOPSECRETvalue", NULL };
	struct ag_conf c;
	struct ag_buf p;

	(void)parse(&c, "client_secret = \"HUSHHUSH\"\n"
	    "client_auth = private_key_jwt\n", env, &p);
	ok(contains(&p, "secret: must be at least 32 characters"),
	    "short secret reported");
	ok(!contains(&p, "TOPSECRET") && !contains(&p, "HUSHHUSH"),
	    "no secret value in the problems");
	ag_conf_free(&c);
	ag_buf_free(&p);
}

static void
test_quotes_and_hash(void)
{
	struct ag_conf c;
	struct ag_buf p;

	is_int(parse(&c, BASE "audience = \"\"a\"\"\n"
	    "authorization.x = \"  spaced  \"\n"
	    "authorization.y = \"half\n"
	    "authorization.empty =\n"
	    "   # an indented comment\n"
	    "\t\n"
	    "scope = openid # not a comment\n", noenv, &p), AG_OK,
	    "quotes: AG_OK");
	is_str(c.audience, "\"a\"", "one pair of quotes removed");
	is_str(c.authz_params[0].value, "  spaced  ",
	    "spaces inside quotes kept");
	is_str(c.authz_params[1].value, "\"half", "a lone quote is kept");
	is_str(c.scope, "openid # not a comment", "'#' inside a value kept");
	is_int(c.n_authz_params, 2, "empty authorization param dropped");
	ag_conf_free(&c);
	ag_buf_free(&p);
}

static void
test_garbage(void)
{
	struct ag_conf c;
	struct ag_buf p, t;
	size_t i;
	int r;

	/* NUL byte. */
	ag_buf_init(&p, 0);
	r = ag_conf_parse(&c, "domain = a\nclient_id = b\0c\n", 25, noenv, &p);
	is_int(r, AG_ERR_CONFIG, "NUL byte: AG_ERR_CONFIG");
	is_str(ag_buf_str(&p), "line 2: NUL byte, not a text file\n",
	    "NUL byte: one problem naming the line");
	ag_conf_free(&c);
	ag_buf_free(&p);

	/* A 100,000-character line. */
	ag_buf_init(&t, 0);
	(void)ag_buf_puts(&t, BASE "audience = ");
	for (i = 0; i < 100000; i++)
		(void)ag_buf_putc(&t, 'x');
	(void)ag_buf_putc(&t, '\n');
	is_int(parse(&c, ag_buf_str(&t), noenv, &p), AG_ERR_CONFIG,
	    "100k line: AG_ERR_CONFIG");
	is_str(ag_buf_str(&p), "line 6: line longer than 4096 bytes\n",
	    "100k line: one problem");
	ok(c.audience == NULL, "100k line: value not taken");
	ag_conf_free(&c);
	ag_buf_free(&p);
	ag_buf_free(&t);

	/* A line exactly at the limit is fine. */
	ag_buf_init(&t, 0);
	(void)ag_buf_puts(&t, BASE);
	(void)ag_buf_puts(&t, "audience = ");
	for (i = strlen("audience = "); i < AG_MAX_CONF_LINE; i++)
		(void)ag_buf_putc(&t, 'y');
	(void)ag_buf_putc(&t, '\n');
	is_int(parse(&c, ag_buf_str(&t), noenv, &p), AG_OK,
	    "line of AG_MAX_CONF_LINE bytes: AG_OK");
	ok(c.audience != NULL && strlen(c.audience) ==
	    AG_MAX_CONF_LINE - strlen("audience = "), "long value kept");
	ag_conf_free(&c);
	ag_buf_free(&p);
	ag_buf_free(&t);

	/* 10,000 lines with keys. */
	ag_buf_init(&t, 0);
	(void)ag_buf_puts(&t, BASE);
	for (i = 0; i < 10000; i++)
		(void)ag_buf_printf(&t, "authorization.p%zu = v\n", i);
	is_int(parse(&c, ag_buf_str(&t), noenv, &p), AG_ERR_CONFIG,
	    "10,000 keys: AG_ERR_CONFIG");
	is_str(ag_buf_str(&p), "line 257: more than 256 keys\n",
	    "10,000 keys: stops at AG_MAX_CONF_KEYS");
	ag_conf_free(&c);
	ag_buf_free(&p);
	ag_buf_free(&t);

	/* Exactly AG_MAX_CONF_KEYS keys is fine. */
	ag_buf_init(&t, 0);
	(void)ag_buf_puts(&t, BASE);
	for (i = 5; i < AG_MAX_CONF_KEYS; i++)
		(void)ag_buf_printf(&t, "# comment\nauthorization.p%zu = v\n",
		    i);
	is_int(parse(&c, ag_buf_str(&t), noenv, &p), AG_OK,
	    "AG_MAX_CONF_KEYS keys: AG_OK");
	is_int(c.n_authz_params, AG_MAX_CONF_KEYS - 5, "all params kept");
	ag_conf_free(&c);
	ag_buf_free(&p);
	ag_buf_free(&t);

	/* 10,000 lines of comments and blanks are fine. */
	ag_buf_init(&t, 0);
	for (i = 0; i < 10000; i++)
		(void)ag_buf_puts(&t, i % 2 ? "# comment\n" : "\n");
	(void)ag_buf_puts(&t, BASE);
	is_int(parse(&c, ag_buf_str(&t), noenv, &p), AG_OK,
	    "10,000 comment lines: AG_OK");
	ag_conf_free(&c);
	ag_buf_free(&p);
	ag_buf_free(&t);

	/* Larger than AG_MAX_CONF_FILE. */
	ag_buf_init(&t, 0);
	while (t.len <= AG_MAX_CONF_FILE)
		(void)ag_buf_puts(&t, "# padding padding padding padding\n");
	is_int(parse(&c, ag_buf_str(&t), noenv, &p), AG_ERR_CONFIG,
	    "file over AG_MAX_CONF_FILE: AG_ERR_CONFIG");
	is_str(ag_buf_str(&p), "config: file larger than 262144 bytes\n",
	    "file over AG_MAX_CONF_FILE: problem");
	ok(c.scope != NULL && c.route_prefix != NULL,
	    "defaults filled even so");
	ag_conf_free(&c);
	ag_buf_free(&p);
	ag_buf_free(&t);

	/* No text at all. */
	ag_buf_init(&p, 0);
	is_int(ag_conf_parse(&c, NULL, 0, noenv, &p), AG_ERR_CONFIG,
	    "NULL text: required keys missing");
	ag_conf_free(&c);
	ag_buf_free(&p);
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	return chmod(path, mode);
}

static void
test_load(void)
{
	char dir[] = "/tmp/test-conf.XXXXXX";
	char path[64], big[64], cfgvar[96];
	struct ag_conf c;
	struct ag_buf p, w, t;
	char *envp[3];

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/a.conf", dir);
	(void)snprintf(big, sizeof(big), "%s/big.conf", dir);
	ok(write_file(path, BASE, 0600) == 0, "write config");

	ag_buf_init(&p, 0);
	is_int(ag_conf_load(&c, path, noenv, &p), AG_OK, "load explicit path");
	is_str(c.path, path, "path recorded");
	ag_buf_init(&w, 0);
	ag_conf_warnings(&c, &w);
	is_str(ag_buf_str(&w), "", "mode 0600: no warning");
	ag_conf_free(&c);
	ag_buf_free(&p);

	(void)chmod(path, 0644);
	ag_buf_init(&p, 0);
	(void)ag_conf_load(&c, path, noenv, &p);
	ag_buf_reset(&w);
	ag_conf_warnings(&c, &w);
	ok(contains(&w, "is readable by others"), "mode 0644: warning");
	ag_conf_free(&c);
	ag_buf_free(&p);

	(void)snprintf(cfgvar, sizeof(cfgvar), "AUTHGATE_CONFIG=%s", path);
	envp[0] = cfgvar;
	envp[1] = NULL;
	ag_buf_init(&p, 0);
	is_int(ag_conf_load(&c, NULL, envp, &p), AG_OK,
	    "AUTHGATE_CONFIG names the file");
	is_str(c.path, path, "AUTHGATE_CONFIG path recorded");
	ag_conf_free(&c);
	ag_buf_free(&p);

	(void)snprintf(cfgvar, sizeof(cfgvar), "AUTHGATE_CONFIG=%s/none", dir);
	ag_buf_init(&p, 0);
	is_int(ag_conf_load(&c, NULL, envp, &p), AG_ERR_IO,
	    "missing $AUTHGATE_CONFIG: AG_ERR_IO");
	ok(contains(&p, "No such file"), "missing file: problem says so");
	ag_conf_free(&c);
	ag_buf_free(&p);

	ag_buf_init(&p, 0);
	is_int(ag_conf_load(&c, dir, noenv, &p), AG_ERR_IO,
	    "a directory: AG_ERR_IO");
	ok(contains(&p, "not a regular file"), "directory: problem");
	ag_conf_free(&c);
	ag_buf_free(&p);

	ag_buf_init(&t, 0);
	while (t.len <= AG_MAX_CONF_FILE + 10000)
		(void)ag_buf_puts(&t, "# padding padding padding padding\n");
	ok(write_file(big, ag_buf_str(&t), 0600) == 0, "write big file");
	ag_buf_free(&t);
	ag_buf_init(&p, 0);
	is_int(ag_conf_load(&c, big, noenv, &p), AG_ERR_CONFIG,
	    "big file: AG_ERR_CONFIG");
	is_str(ag_buf_str(&p), "config: file larger than 262144 bytes\n",
	    "big file: problem");
	ag_conf_free(&c);
	ag_buf_free(&p);

	if (access("/etc/authgate/authgate.conf", F_OK) == -1 &&
	    errno == ENOENT) {
		char *const env[] = {
			"AUTH0_DOMAIN=t.example", "AUTH0_CLIENT_ID=c",
			"AUTH0_CLIENT_SECRET=s", "AUTH0_SECRET=" SECRET,
			"APP_BASE_URL=https://a.example", NULL
		};

		ag_buf_init(&p, 0);
		is_int(ag_conf_load(&c, NULL, env, &p), AG_OK,
		    "no default file, environment complete: AG_OK");
		is_str(ag_buf_str(&p), "", "no default file: no problem");
		ok(c.path == NULL, "no default file: path NULL");
		ag_conf_free(&c);
		ag_buf_free(&p);
	} else
		ok(1, "# SKIP /etc/authgate/authgate.conf exists");

	ag_buf_free(&w);
	(void)unlink(path);
	(void)unlink(big);
	(void)rmdir(dir);
}

static void
test_warnings(void)
{
	struct ag_conf c;
	struct ag_buf p, w;

	(void)parse(&c, "domain = t.example\nclient_id = c\n"
	    "client_secret = s\nsecret = " "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	    "app_base_url = http://localhost:3000\n"
	    "allow_insecure_requests = on\n", noenv, &p);
	is_str(ag_buf_str(&p), "", "weak but long secret is no error");
	ag_buf_init(&w, 0);
	ag_conf_warnings(&c, &w);
	ok(contains(&w, "secret: looks weak"), "all-same secret: warning");
	ok(contains(&w, "allow_insecure_requests: on"), "insecure: warning");
	ok(contains(&w, "app_base_url: http://"), "http app: warning");
	ok(!contains(&w, "aaaaaaaa"), "warning does not print the secret");
	is_int(c.cookie_secure, 0, "http app: cookie.secure not forced");
	ag_conf_free(&c);
	ag_buf_free(&p);
	ag_buf_free(&w);

	(void)parse(&c, BASE, noenv, &p);
	ag_buf_init(&w, 0);
	ag_conf_warnings(&c, &w);
	is_str(ag_buf_str(&w), "", "good config: no warning");
	ag_conf_free(&c);
	ag_buf_free(&p);
	ag_buf_free(&w);
}

static void
test_derived(void)
{
	static const struct {
		const char *domain, *issuer;
	} cases[] = {
		{ "Tenant.Example.COM", "https://tenant.example.com/" },
		{ "https://host.example/", "https://host.example/" },
		{ "https://host.example", "https://host.example/" },
		{ "https://host.example:8443/realms/x",
		    "https://host.example:8443/realms/x/" },
		{ "https://host.example:443/p/", "https://host.example/p/" },
	};
	static const struct {
		const char *url, *origin;
	} apps[] = {
		{ "https://app.example", "https://app.example" },
		{ "http://APP.example:80/x", "http://app.example" },
		{ "http://app.example:8080/x/y", "http://app.example:8080" },
		{ "https://[::1]:8443/", "https://[::1]:8443" },
	};
	struct ag_conf c;
	struct ag_buf p, t;
	size_t i;
	char name[128];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ag_buf_init(&t, 0);
		(void)ag_buf_printf(&t, "domain = %s\nclient_id = c\n"
		    "client_secret = s\nsecret = " SECRET "\n"
		    "app_base_url = https://a.example\n", cases[i].domain);
		(void)parse(&c, ag_buf_str(&t), noenv, &p);
		(void)snprintf(name, sizeof(name), "domain %s -> issuer",
		    cases[i].domain);
		is_str(c.issuer, cases[i].issuer, name);
		ag_conf_free(&c);
		ag_buf_free(&p);
		ag_buf_free(&t);
	}
	for (i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
		ag_buf_init(&t, 0);
		(void)ag_buf_printf(&t, "domain = t.example\nclient_id = c\n"
		    "client_secret = s\nsecret = " SECRET "\n"
		    "app_base_url = %s\n", apps[i].url);
		(void)parse(&c, ag_buf_str(&t), noenv, &p);
		(void)snprintf(name, sizeof(name), "app_base_url %s -> origin",
		    apps[i].url);
		is_str(c.app_origin, apps[i].origin, name);
		ag_conf_free(&c);
		ag_buf_free(&p);
		ag_buf_free(&t);
	}
}

static char *
slurp(const char *path, size_t *n)
{
	struct ag_buf b;
	char chunk[4096];
	size_t r;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	ag_buf_init(&b, 0);
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		(void)ag_buf_add(&b, chunk, r);
	fclose(f);
	*n = b.len;
	return ag_buf_take(&b);
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay tests/data/conf/NAME.conf against NAME.out. */
static void
test_data(void)
{
	const char *dir;
	struct dirent *de;
	struct ag_conf c;
	struct ag_buf p;
	char *names[256], path[512], label[300], *text, *want;
	size_t nnames = 0, i, n, wn, len;
	DIR *d;

	if ((dir = getenv("AG_CONF_DATA")) == NULL)
		dir = "tests/data/conf";
	if ((d = opendir(dir)) == NULL) {
		ok(0, "open tests/data/conf (run from the top directory)");
		return;
	}
	while ((de = readdir(d)) != NULL && nnames < 256) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".conf") == 0)
			names[nnames++] = strndup(de->d_name, len - 5);
	}
	closedir(d);
	qsort(names, nnames, sizeof(names[0]), namecmp);
	ok(nnames >= 40, "at least 40 data files");
	for (i = 0; i < nnames; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s.conf", dir,
		    names[i]);
		text = slurp(path, &n);
		(void)snprintf(path, sizeof(path), "%s/%s.out", dir, names[i]);
		want = slurp(path, &wn);
		(void)snprintf(label, sizeof(label), "data %s", names[i]);
		if (text == NULL || want == NULL) {
			ok(0, label);
			printf("#   missing %s.conf or .out\n", names[i]);
		} else {
			ag_buf_init(&p, 0);
			(void)ag_conf_parse(&c, text, n, noenv, &p);
			is_str(ag_buf_str(&p), want, label);
			ag_conf_free(&c);
			ag_buf_free(&p);
		}
		free(text);
		free(want);
		free(names[i]);
	}
}

static void
print_keys(void)
{
	struct ag_buf b;
	const char *k;
	size_t i;

	ag_buf_init(&b, 0);
	for (i = 0; (k = ag_conf_key_name(i)) != NULL; i++) {
		ag_buf_reset(&b);
		(void)ag_conf_key_env(i, &b);
		printf("%s\t%s\n", k, ag_buf_str(&b));
	}
	ag_buf_free(&b);
}

static int
print_problems(const char *path)
{
	struct ag_conf c;
	struct ag_buf p;
	char *text;
	size_t n;

	if ((text = slurp(path, &n)) == NULL) {
		perror(path);
		return 1;
	}
	ag_buf_init(&p, 0);
	(void)ag_conf_parse(&c, text, n, noenv, &p);
	fputs(ag_buf_str(&p), stdout);
	ag_conf_free(&c);
	ag_buf_free(&p);
	free(text);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "--keys") == 0) {
		print_keys();
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--problems") == 0)
		return print_problems(argv[2]);
	test_minimal();
	test_every_key();
	test_env();
	test_secrets_not_printed();
	test_quotes_and_hash();
	test_garbage();
	test_load();
	test_warnings();
	test_derived();
	test_data();
	return tap_done();
}
