/*
 * hello-fcgi -- the baseline of the benchmarks: a bare libfcgi
 * responder that answers a small JSON body, under the same server.
 */
#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutS("Status: 200 OK\r\n"
		    "Content-Type: application/json\r\n\r\n"
		    "{\"sub\":\"alice\",\"name\":\"Alice Example\"}", r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
