/*
 * tap.h -- the unit tests' assertions.  Each test program prints one
 * "ok N - name" or "not ok N - name" line per check (TAP), and exits 1
 * if any failed.  tests/run counts the lines.
 *
 *	int main(void) {
 *		ok(1 + 1 == 2, "arithmetic");
 *		is_int(f(), AG_OK, "f succeeds");
 *		is_str(s, "x", "s is x");
 *		return tap_done();
 *	}
 */
#ifndef AG_TAP_H
#define AG_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static int __attribute__((unused))
tap_ok(int cond, const char *file, int line, const char *name)
{
	tap_n++;
	if (cond)
		printf("ok %d - %s\n", tap_n, name);
	else {
		tap_failed++;
		printf("not ok %d - %s\n#   at %s:%d\n", tap_n, name, file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, name)	tap_ok((cond) != 0, __FILE__, __LINE__, (name))
#define is_int(a, b, name) do {						\
	long long tap_a = (long long)(a), tap_b = (long long)(b);	\
	if (!ok(tap_a == tap_b, name))					\
		printf("#   got %lld, want %lld\n", tap_a, tap_b);	\
} while (0)
#define is_str(a, b, name) do {						\
	const char *tap_a = (a), *tap_b = (b);				\
	int tap_eq = (tap_a == NULL && tap_b == NULL) ||		\
	    (tap_a != NULL && tap_b != NULL && strcmp(tap_a, tap_b) == 0); \
	if (!ok(tap_eq, name))						\
		printf("#   got '%s', want '%s'\n",			\
		    tap_a ? tap_a : "(null)", tap_b ? tap_b : "(null)"); \
} while (0)

static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
