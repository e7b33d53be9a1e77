/*
 * util.h -- helpers shared by the unit test programs (header-only, like
 * tap.h): reading a data file, undoing the data files' escapes, and a
 * loopback test server (its listening socket, its process, its end).
 */
#ifndef AG_TEST_UTIL_H
#define AG_TEST_UTIL_H

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "url.h"

/* Read a whole file into b (set up here); a note when it is missing. */
static void __attribute__((unused))
slurp(const char *path, struct ag_buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f;

	ag_buf_init(b, 0);
	if ((f = fopen(path, "r")) == NULL) {
		printf("# cannot open %s (run from the top directory)\n", path);
		return;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ag_buf_add(b, chunk, n);
	fclose(f);
}

/*
 * Undo the data files' escapes ("\\" and "\xHH") in place.  -1 on a bad
 * escape; otherwise the new length (a NUL byte would end the C string,
 * so the caller checks the length against strlen()).
 */
static long __attribute__((unused))
unescape(char *s)
{
	char *r, *w;
	int hi, lo;

	for (r = w = s; *r != '\0'; r++, w++) {
		if (*r != '\\') {
			*w = *r;
			continue;
		}
		if (r[1] == '\\') {
			*w = '\\';
			r++;
		} else if (r[1] == 'x' && (hi = ag_hex_value(r[2])) >= 0 &&
		    (lo = ag_hex_value(r[3])) >= 0) {
			*w = (char)(hi << 4 | lo);
			r += 3;
		} else
			return -1;
	}
	*w = '\0';
	return (long)(w - s);
}

/*
 * A socket listening on 127.0.0.1 at a free port with backlog; *port
 * (when port is not NULL) gets the port and base "http://127.0.0.1:PORT".
 * Aborts on failure.  Returns the listening fd.
 */
static int __attribute__((unused))
listen_loopback(int backlog, int *port, char *base, size_t n)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int lfd, one = 1;

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		abort();
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, backlog) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	if (port != NULL)
		*port = ntohs(sa.sin_port);
	snprintf(base, n, "http://127.0.0.1:%d", ntohs(sa.sin_port));
	return lfd;
}

/*
 * Read one HTTP request from fd into buf (cap bytes, NUL-terminated):
 * the header, then as much of the body as Content-Length announces
 * and buf holds.  path (n bytes) gets the request target up to '?'.
 * Returns the bytes read; _exit(1) when the header does not fit or the
 * peer goes away before it ends (a handler process of serve_fork()).
 */
static size_t __attribute__((unused))
read_request(int fd, char *buf, size_t cap, char *path, size_t pn)
{
	size_t n = 0, need, i;
	ssize_t got;
	char *eoh, *p, *q;
	long clen = 0;

	for (;;) {
		if (n + 1 >= cap)
			_exit(1);
		if ((got = read(fd, buf + n, cap - 1 - n)) <= 0)
			_exit(1);
		n += (size_t)got;
		buf[n] = '\0';
		if ((eoh = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	for (p = buf; p < eoh; p = q + 2) {
		if ((q = strstr(p, "\r\n")) == NULL)
			break;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = strtol(p + 15, NULL, 10);
	}
	need = (size_t)(eoh + 4 - buf) + (size_t)clen;
	while (n < need && n + 1 < cap) {
		if ((got = read(fd, buf + n, cap - 1 - n)) <= 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	/* "GET /path?query HTTP/1.1" */
	path[0] = '\0';
	if ((p = strchr(buf, ' ')) != NULL) {
		p++;
		for (i = 0; p[i] != '\0' && p[i] != ' ' && p[i] != '?' &&
		    i + 1 < pn; i++)
			path[i] = p[i];
		path[i] = '\0';
	}
	return n;
}

/*
 * Serve lfd in a child process of its own process group: every
 * connection is handled by handle(fd) in a process of its own, with
 * stdout and stderr on /dev/null (handlers still sleeping hold no pipe
 * the test runner waits on).  lfd is closed in the caller.  Returns the
 * server's pid, for serve_stop().
 */
static pid_t __attribute__((unused))
serve_fork(int lfd, void (*handle)(int))
{
	pid_t pid;
	int fd;

	fflush(stdout);
	if ((pid = fork()) < 0)
		abort();
	if (pid > 0) {
		setpgid(pid, pid);	/* before any kill(-pid) */
		close(lfd);
		return pid;
	}
	setpgid(0, 0);
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	signal(SIGCHLD, SIG_IGN);	/* handlers are reaped */
	signal(SIGPIPE, SIG_DFL);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (fork() == 0) {
			close(lfd);
			handle(fd);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}

/* End the server of serve_fork() and its handlers; *pid becomes -1. */
static void __attribute__((unused))
serve_stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(-*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = -1;
	}
}

#endif
