/*
 * hello-cgi.c -- the CGI program of the wrapper benchmark
 * (tests/bench/run-wrap compiles it with gcc -O2 into its run directory).
 *
 * As little as a CGI program can do, so that what the benchmark sees
 * is the cost of the process and of what runs before it: the same
 * program is served plain and through authgate-wrap.
 */
#include <stdio.h>

int
main(void)
{
	static const char out[] = "Content-Type: text/plain\r\n\r\nhello\n";

	if (fwrite(out, 1, sizeof(out) - 1, stdout) != sizeof(out) - 1)
		return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
