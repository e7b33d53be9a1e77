/*
 * standalone.c -- replay a fuzz target without libFuzzer.
 *
 *	replay-NAME DIR|FILE...
 *
 * Runs LLVMFuzzerTestOneInput once on every regular file of each
 * directory (names sorted, dot files skipped) and on each plain file
 * argument, and prints TAP: "ok N - fuzz-NAME FILE".  Each input is
 * copied into a buffer of exactly its size, so a read past the end is
 * seen by AddressSanitizer.  A crash stays a crash: the process dies,
 * after printing "not ok N - fuzz-NAME FILE" when the signal is one it
 * may catch (SIGABRT, and SIGSEGV/SIGBUS/SIGFPE/SIGILL when not built
 * with AddressSanitizer, which reports those itself).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#define FUZZ_NAME unknown
#endif
#define STR2(x)	#x
#define STR(x)	STR2(x)
#define NAME	STR(FUZZ_NAME)

#define MAX_FILE	(16 * 1024 * 1024)

static int	 ntests;
static int	 nfailed;
/* The line a signal handler prints for the input being run. */
static char	 crash_line[4096];
static size_t	 crash_len;

static void
on_crash(int sig)
{
	/* write(2) and raise(3) are async-signal-safe. */
	ssize_t r;

	if (crash_len > 0)
		r = write(STDOUT_FILENO, crash_line, crash_len);
	(void)r;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
catch_signals(void)
{
	struct sigaction sa;
	static const int sigs[] = {
		SIGABRT,
#ifndef __SANITIZE_ADDRESS__
		SIGSEGV, SIGBUS, SIGFPE, SIGILL,
#endif
	};
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

/* Read path into a malloc'd buffer of exactly its size (at least 1). */
static unsigned char *
slurp(const char *path, size_t *n)
{
	struct stat st;
	unsigned char *p = NULL;
	size_t off = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < 0 || st.st_size > MAX_FILE)
		goto fail;
	if ((p = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL)
		goto fail;
	while (off < (size_t)st.st_size) {
		r = read(fd, p + off, (size_t)st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		off += (size_t)r;
	}
	close(fd);
	*n = off;
	return p;
fail:
	free(p);
	close(fd);
	return NULL;
}

static void
run_file(const char *path)
{
	unsigned char *data;
	size_t n = 0;
	int len;

	ntests++;
	if ((data = slurp(path, &n)) == NULL) {
		printf("not ok %d - fuzz-%s %s (unreadable: %s)\n", ntests,
		    NAME, path, strerror(errno));
		nfailed++;
		return;
	}
	len = snprintf(crash_line, sizeof(crash_line),
	    "not ok %d - fuzz-%s %s (crashed)\n", ntests, NAME, path);
	crash_len = len > 0 && (size_t)len < sizeof(crash_line) ?
	    (size_t)len : 0;
	fflush(stdout);
	(void)LLVMFuzzerTestOneInput(data, n);
	crash_len = 0;
	free(data);
	printf("ok %d - fuzz-%s %s\n", ntests, NAME, path);
}

static void
run_dir(const char *dir)
{
	struct dirent **ents = NULL;
	struct stat st;
	char path[4096];
	int i, n, len;

	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		ntests++;
		nfailed++;
		printf("not ok %d - fuzz-%s %s (%s)\n", ntests, NAME, dir,
		    strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		len = snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && len > 0 &&
		    (size_t)len < sizeof(path) && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode))
			run_file(path);
		free(ents[i]);
	}
	free(ents);
}

int
main(int argc, char *argv[])
{
	struct stat st;
	int i;

	catch_signals();
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	printf("1..%d\n", ntests);
	return nfailed > 0;
}
