/*
 * authgate-wrap -- run a legacy CGI program only for a logged-in user,
 * with the user's claims in its environment.
 *
 *	authgate-wrap /path/to/prog.cgi		(lighttpd cgi.assign)
 *	authgate-wrap				(Apache Action: PATH_TRANSLATED)
 *
 * The script, top to bottom:
 *  1. Note the descriptors we were given, so that every one we open is
 *     closed again before the program runs.
 *  2. Load the configuration (AUTHGATE_CONFIG or the default path).
 *  3. Find the target and refuse anything that is not a regular,
 *     executable file under one of wrap.roots.
 *  4. Read the session (cookie or SQLite).  None: answer ourselves -- a
 *     redirect to the login for navigations, 401 JSON otherwise -- and
 *     never run the program.
 *  5. With wrap.pass_access_token, get the access token (lib/token.c:
 *     refreshed when expired, coalesced with parallel requests); on
 *     failure log it and run the program without the token variables.
 *  6. Write the session back when the token refresh changed it, else
 *     roll it when its expiry moved enough (one write at most).
 *     Steps 4-6 are ag_protect() (lib/protect.c), which the FastCGI
 *     authorizer shares.  Then build the program's environment from
 *     scratch (lib/cgienv.c); our Set-Cookie lines go out first, the
 *     program's own header lines follow them.
 *  7. Close what we opened, drop the authgate group for good (and check
 *     that it cannot be regained), execve the program.  Its standard
 *     input, the request body, has not been touched.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_limits.h"
#include "app.h"
#include "cgienv.h"
#include "err.h"
#include "log.h"
#include "priv.h"
#include "protect.h"
#include "req.h"

extern char **environ;

#define MAX_KEPT_FDS	64

/* The descriptors open when we started: never closed by us. */
static int	kept_fds[MAX_KEPT_FDS];
static size_t	n_kept_fds;

static void
note_fds(void)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((de = readdir(d)) != NULL && n_kept_fds < MAX_KEPT_FDS) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*de->d_name != '\0' && *end == '\0' && fd != dirfd(d))
			kept_fds[n_kept_fds++] = (int)fd;
	}
	closedir(d);
}

/* Close every descriptor that was not open when we started. */
static void
close_our_fds(void)
{
	int fds[256];
	struct dirent *de;
	size_t i, n = 0;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < sizeof(fds) / sizeof(*fds)) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*de->d_name != '\0' && *end == '\0' && fd != dirfd(d))
			fds[n++] = (int)fd;
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		size_t k;
		int kept = 0;

		for (k = 0; k < n_kept_fds; k++)
			kept |= kept_fds[k] == fds[i];
		if (!kept)
			close(fds[i]);
	}
}

/* Write a whole response to standard output (CGI). */
static void
emit(const struct ag_resp *w)
{
	struct ag_buf out;

	ag_buf_init(&out, 2 * 1024 * 1024);
	if (ag_resp_serialise(w, &out) == AG_OK)
		fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	ag_buf_free(&out);
}

/* A 500 page for problems of the installation, never of the user. */
static int
fail500(const char *why)
{
	struct ag_resp w;

	ag_err("wrap: %s", why);
	ag_resp_init(&w);
	(void)ag_resp_header(&w, "Cache-Control", "no-store");
	ag_resp_text(&w, 500, "authgate-wrap: the protected program cannot "
	    "be run; the server's error log says why.");
	emit(&w);
	ag_resp_free(&w);
	return 0;
}

/*
 * Setgid: name only what each problem line is about (its text before
 * the first ':', a key or "line N"), never the values it quotes.
 */
static void
log_problem_keys(const char *problems)
{
	const char *p, *nl;
	size_t n;

	for (p = problems; *p != '\0'; p = nl + 1) {
		n = strcspn(p, ":\n");
		ag_err("wrap: configuration problem in %.*s", (int)(n < 80 ?
		    n : 80), p);
		if ((nl = strchr(p, '\n')) == NULL)
			break;
	}
}

/* 1 when path lies inside dir (both absolute, resolved). */
static int
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/*
 * The program to run: argv[1] when it is the SCRIPT_FILENAME (lighttpd's
 * cgi.assign), else PATH_TRANSLATED (Apache's Action).  Never argv[1]
 * alone: Apache turns a query string without '=' into arguments
 * (RFC 3875 4.4), which would let a URL choose the program.  Then:
 * resolved, under a root, a regular executable file.
 */
static int
find_target(const struct ag_conf *c, int argc, char *argv[],
    char real[PATH_MAX], char *why, size_t whylen)
{
	const char *sf = getenv("SCRIPT_FILENAME");
	const char *t = argc > 1 && sf != NULL && strcmp(argv[1], sf) == 0 ?
	    argv[1] : getenv("PATH_TRANSLATED");
	char root[PATH_MAX];
	struct stat st;
	size_t i;

	if (t == NULL || *t == '\0') {
		snprintf(why, whylen, "no target program (neither an argument "
		    "nor PATH_TRANSLATED)");
		return AG_ERR_NOTFOUND;
	}
	if (c->wrap_roots.n == 0) {
		snprintf(why, whylen, "wrap.roots is not configured; refusing "
		    "to run %s", t);
		return AG_ERR_CONFIG;
	}
	if (realpath(t, real) == NULL) {
		snprintf(why, whylen, "target %s: %s", t, strerror(errno));
		return AG_ERR_NOTFOUND;
	}
	for (i = 0; i < c->wrap_roots.n; i++)
		if (realpath(c->wrap_roots.v[i], root) != NULL &&
		    under(real, root))
			break;
	if (i == c->wrap_roots.n) {
		snprintf(why, whylen, "target %s is not under wrap.roots", real);
		return AG_ERR_DENIED;
	}
	if (stat(real, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
		snprintf(why, whylen, "target %s is not a regular executable "
		    "file", real);
		return AG_ERR_DENIED;
	}
	return AG_OK;
}

/* Print the Set-Cookie lines of w: the start of the program's header block. */
static void
emit_cookies(const struct ag_resp *w)
{
	const char *p = ag_buf_str(&w->head), *nl;

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (strncmp(p, "Set-Cookie: ", 12) == 0)
			fwrite(p, 1, (size_t)(nl - p + 1), stdout);
	}
	fflush(stdout);
}

static const char *
get_env(const char *name, void *ctx)
{
	return getenv(name);
}

/*
 * The values Apache left for name after internal redirects into
 * out[AG_MAX_REDIRECT_RULES]: out[i] is that of name with i + 1
 * REDIRECT_ prefixes (REDIRECT_name, REDIRECT_REDIRECT_name, ...), NULL
 * where unset.  Returns the nearest set, or NULL.
 */
static const char *
redirected_all(const char *name, const char *out[AG_MAX_REDIRECT_RULES])
{
	char var[AG_MAX_REDIRECT_RULES * 9 + 64];
	size_t n = 0, len = strlen(name);
	const char *first = NULL;
	int i;

	for (i = 0; i < AG_MAX_REDIRECT_RULES; i++)
		out[i] = NULL;
	if (len >= 64)
		return NULL;
	for (i = 0; i < AG_MAX_REDIRECT_RULES; i++) {
		memcpy(var + n, "REDIRECT_", 9);
		n += 9;
		memcpy(var + n, name, len + 1);
		if ((out[i] = getenv(var)) != NULL && first == NULL)
			first = out[i];
	}
	return first;
}

/* The nearest value Apache left for name after internal redirects. */
static const char *
redirected(const char *name)
{
	const char *all[AG_MAX_REDIRECT_RULES];

	return redirected_all(name, all);
}

int
main(int argc, char *argv[])
{
	struct ag_app app;
	struct ag_buf problems;
	struct ag_req req;
	struct ag_resp w;
	struct ag_env env;
	struct ag_protect p;
	struct ag_protect_opts po;
	char real[PATH_MAX], why[PATH_MAX + 512], path[AG_MAX_QUERY];
	char *args[2];

	note_fds();
	ag_log_open("authgate-wrap", AG_LOG_INFO, 0);
	memset(&p, 0, sizeof(p));
	ag_env_init(&env);
	ag_resp_init(&w);

	/* 2. Configuration. */
	ag_buf_init(&problems, 64 * 1024);
	if (ag_app_open(&app, NULL, &problems) != AG_OK) {
		/*
		 * Setgid, we may be reading a file the caller cannot: its
		 * problems (which quote unknown keys) stay unsaid.
		 */
		if (!ag_priv_elevated())
			ag_err("wrap: configuration problems:\n%s",
			    ag_buf_str(&problems));
		else
			log_problem_keys(ag_buf_str(&problems));
		ag_buf_free(&problems);
		return fail500("the configuration is invalid; run "
		    "'authgate check' as its owner");
	}
	ag_buf_free(&problems);
	ag_log_open("authgate-wrap", app.conf.log_level, app.conf.log_syslog);

	/* 3. The target. */
	if (find_target(&app.conf, argc, argv, real, why, sizeof(why)) != AG_OK)
		return fail500(why);

	/*
	 * 4-6. The session, the access token, one session write
	 * (lib/protect.c, shared with the FastCGI authorizer).  No session:
	 * the answer is in w and the program never runs.
	 */
	ag_req_fill(&req, get_env, NULL, path, sizeof(path));
	ag_req_prepare(&req);
	memset(&po, 0, sizeof(po));
	/*
	 * Apache's Action renames what the program's own <Directory> set
	 * (SetEnv) to REDIRECT_* (REDIRECT_REDIRECT_* after one more
	 * internal redirect): a rule there must not be lost, and every
	 * level's rule must hold.  A request
	 * header can only ever arrive as HTTP_* or REDIRECT_HTTP_*.
	 */
	po.mode = req.mode != NULL ? req.mode : redirected("AUTHGATE_MODE");
	po.rule = req.rule;
	(void)redirected_all("AUTHGATE_RULE", po.redirect_rule);
	po.set_cookie = 1;
	po.who = "wrap";
	po.what = real;
	if (ag_protect(&app, &req, &po, &w, &p) != AG_OK) {
		if (w.status == 0)
			ag_resp_text(&w, 500, "Internal error.");
		emit(&w);
		goto done;
	}
	if (ag_env_from_parent(&env, environ, &app.conf.wrap_pass_env) != AG_OK)
		return fail500("out of memory building the environment");
	/* Our Set-Cookie lines open the header block. */
	if (p.wrote)
		emit_cookies(&w);
	if (ag_env_add_session(&env, &p.es) != AG_OK)
		return fail500("out of memory building the environment");
	if (ag_env_get(&env, "REMOTE_USER") == NULL)
		return fail500("the session has no usable user name (neither "
		    "wrap.remote_user_claim nor sub)");
	ag_info("wrap: %s for sub %.128s", real,
	    ag_json_get_str(p.es.user, "sub"));

	/* 7. Close, drop, run. */
	ag_protect_free(&p);
	ag_req_free(&req);
	ag_resp_free(&w);
	ag_app_close(&app);
	close_our_fds();
	if (ag_priv_drop(why, sizeof(why)) != AG_OK) {
		ag_env_free(&env);
		return fail500(why);
	}
	args[0] = real;
	args[1] = NULL;
	execve(real, args, env.v);
	snprintf(why, sizeof(why), "cannot execute %s: %s", real,
	    strerror(errno));
	ag_env_free(&env);
	return fail500(why);
done:
	ag_protect_free(&p);
	ag_req_free(&req);
	ag_resp_free(&w);
	ag_env_free(&env);
	ag_app_close(&app);
	return 0;
}
