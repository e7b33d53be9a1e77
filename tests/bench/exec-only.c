/*
 * exec-only.c -- the calibration "wrapper" of the wrapper benchmark
 * (tests/bench/run-wrap compiles it with gcc -O2 -static into its run
 * directory).
 *
 * Run by lighttpd exactly as authgate-wrap is ("exec-only /abs/prog.cgi"),
 * it checks nothing and only execve()s its argument: the cost of one
 * more program start, which no wrapper that is a program of its own
 * can go below.  Never install it: it runs whatever it is given.
 */
#include <unistd.h>

extern char **environ;

int
main(int argc, char *argv[])
{
	static const char err[] = "Status: 500\r\nContent-Type: text/plain\r\n"
	    "\r\nexec-only: cannot execute the program\n";

	if (argc > 1)
		execve(argv[1], argv + 1, environ);
	(void)write(STDOUT_FILENO, err, sizeof(err) - 1);
	return 1;
}
