/*
 * fuzz.h -- what every fuzz target shares: the libFuzzer entry point
 * and a check that turns a broken contract into a crash.
 *
 * A target is built twice: with clang and -fsanitize=fuzzer for `make
 * fuzz`, and with the project's compiler against standalone.c, which
 * replays files (the committed corpus and regressions) in `make check`.
 */
#ifndef AG_FUZZ_H
#define AG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run the target on size bytes of data; always 0. */
int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a crash for the fuzzer and the replay) when cond is false. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: fuzz check failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/*
 * Split a target's input into lines: the line at *p, NUL-terminated in
 * place (the newline becomes the NUL), with *p moved past it (NULL
 * after the last line, which runs to end); NULL once *p is NULL.
 */
static inline char *
fuzz_line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s == NULL)
		return NULL;
	if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL) {
		*p = NULL;
		return s;
	}
	*nl = '\0';
	*p = nl + 1;
	return s;
}

#endif
