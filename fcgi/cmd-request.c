/*
 * cmd-request.c -- the request's session for the commands a wrapped
 * program runs.  See cmd-request.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd-request.h"
#include "cookie.h"
#include "err.h"
#include "req.h"
#include "session.h"

int
ag_cmd_request_session(struct ag_app *app, struct ag_cookies *jar,
    struct ag_session *s, const char **why)
{
	const char *hc = getenv("HTTP_COOKIE");
	int r;

	memset(jar, 0, sizeof(*jar));
	memset(s, 0, sizeof(*s));
	*why = NULL;
	if (hc == NULL || *hc == '\0') {
		*why = "no HTTP_COOKIE in the environment (run this from a "
		    "program authgate-wrap started)";
		return AG_ERR_NOTFOUND;
	}
	/* A partly bad header still yields the cookies that parsed. */
	(void)ag_cookies_parse(hc, strlen(hc), jar);
	if ((r = ag_session_read(app, jar, s)) == AG_ERR_NOTFOUND)
		*why = "no valid session in HTTP_COOKIE";
	return r;
}

void
ag_cmd_print_set_cookies(const struct ag_resp *w)
{
	const char *p = ag_buf_str(&w->head), *nl;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (strncmp(p, "Set-Cookie: ", 12) == 0)
			fwrite(p, 1, (size_t)(nl - p + 1), stdout);
}
