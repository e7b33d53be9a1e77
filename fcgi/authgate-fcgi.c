/*
 * authgate-fcgi -- the FastCGI responder (and authorizer) of authgate.
 *
 *	authgate-fcgi [-c file]
 *
 * Loads and validates the configuration first: a bad configuration
 * stops it with every problem on stderr, before it serves anything.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "err.h"
#include "fcgx.h"
#include "log.h"
#include "oidc.h"

static void
usage(int status)
{
	fprintf(status ? stderr : stdout, "usage: authgate-fcgi [-c file]\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct ag_app app;
	struct ag_buf problems;
	char why[AG_WHY_LEN] = "";
	const char *path = NULL;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:h")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	ag_log_open("authgate-fcgi", AG_LOG_INFO, 0);
	ag_buf_init(&problems, 64 * 1024);
	if (ag_app_open(&app, path, &problems) != AG_OK) {
		fprintf(stderr, "authgate-fcgi: refusing to start, the "
		    "configuration has problems:\n%s", ag_buf_str(&problems));
		ag_buf_free(&problems);
		ag_app_close(&app);
		return 1;
	}
	ag_buf_free(&problems);
	if (ag_oidc_keys_init(app.oidc, why) != AG_OK) {
		fprintf(stderr, "authgate-fcgi: refusing to start: %s\n", why);
		ag_app_close(&app);
		return 1;
	}
	ag_log_open("authgate-fcgi", app.conf.log_level, app.conf.log_syslog);
	rc = ag_fcgx_serve(&app);
	ag_app_close(&app);
	return rc;
}
