/*
 * cmd-request.h -- what the CLI commands a wrapped program runs
 * (authgate session, token, fetch) share: the request's session,
 * found through the HTTP_COOKIE that authgate-wrap passed on, and the
 * Set-Cookie lines such a program emits among its own headers.
 */
#ifndef AG_CMD_REQUEST_H
#define AG_CMD_REQUEST_H

struct ag_app;
struct ag_cookies;
struct ag_resp;
struct ag_session;

/*
 * The request's cookies (HTTP_COOKIE) into jar, and the session they
 * carry into s.  jar and s are overwritten; the caller frees both
 * (ag_cookies_free, ag_session_free), also on failure.  AG_OK;
 * AG_ERR_NOTFOUND with *why set (a static sentence: no HTTP_COOKIE,
 * or no valid session in it); database trouble as ag_session_read,
 * *why then NULL.
 */
int	 ag_cmd_request_session(struct ag_app *, struct ag_cookies *jar,
	    struct ag_session *s, const char **why);
/*
 * Print to stdout the Set-Cookie header lines of w, as built by
 * ag_session_write ("\r\n" ends each), and nothing else.
 */
void	 ag_cmd_print_set_cookies(const struct ag_resp *w);

#endif
