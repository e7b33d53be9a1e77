/*
 * util.h -- helpers shared by the unit test programs (header-only, like
 * tap.h): reading a data file, and undoing the data files' escapes.
 */
#ifndef AG_TEST_UTIL_H
#define AG_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

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

#endif
