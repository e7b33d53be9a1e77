/*
 * probe-authorizer.c -- test only: a stand-in FastCGI authorizer that
 * shows what lighttpd does with an authorizer's answer
 * (tests/integration/authorizer.test.mjs).  A URI containing "deny":
 * 401 with Set-Cookie; anything else: 200 with Set-Cookie, X-Probe and
 * Variable-* lines, two of whose names differ only in case.
 */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request r;
	const char *role, *uri;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		role = FCGX_GetParam("FCGI_ROLE", r.envp);
		uri = FCGX_GetParam("REQUEST_URI", r.envp);
		if (role == NULL || strcmp(role, "AUTHORIZER") != 0)
			FCGX_FPrintF(r.out, "Content-Type: text/plain\r\n\r\n"
			    "responder\n");
		else if (uri != NULL && strstr(uri, "deny") != NULL)
			FCGX_FPrintF(r.out, "Status: 401 Unauthorized\r\n"
			    "Content-Type: text/plain\r\n"
			    "Set-Cookie: probe=deny\r\n\r\ndenied\n");
		else
			FCGX_FPrintF(r.out, "Status: 200 OK\r\n"
			    "Set-Cookie: probe=ok\r\n"
			    "X-Probe: 1\r\n"
			    "Variable-REMOTE_USER: probe\r\n"
			    "Variable-OIDC_CLAIM_sub: first\r\n"
			    "Variable-OIDC_CLAIM_SUB: second\r\n\r\n");
		FCGX_Finish_r(&r);
	}
	return 0;
}
