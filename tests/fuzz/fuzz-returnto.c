/*
 * fuzz-returnto.c -- the returnTo validator, ag_return_to(), against two
 * bases.  Whatever it accepts must be a same-origin path: one leading
 * '/', never "//" or "/\" at the start, printable ASCII only.
 */
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "err.h"
#include "fuzz.h"
#include "url.h"

static const char *const bases[] = {
	"https://app.example.com/",
	"http://localhost:3000/sub/dir/",
};

static void
check_path(const struct ag_buf *b)
{
	size_t i;

	FUZZ_CHECK(b->len > 0 && b->data[0] == '/');
	FUZZ_CHECK(b->len < 2 || (b->data[1] != '/' && b->data[1] != '\\'));
	for (i = 0; i < b->len; i++)
		FUZZ_CHECK(b->data[i] > 0x20 && b->data[i] < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_buf b;
	char *s;
	size_t i;
	int r;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		ag_buf_init(&b, 0);
		r = ag_return_to(&b, bases[i], s);
		if (r == AG_OK) {
			FUZZ_CHECK(strlen(s) <= AG_MAX_RETURN_TO);
			check_path(&b);
		} else
			FUZZ_CHECK(b.len == 0);
		ag_buf_free(&b);
	}
	/* The origin parser the validator is built on. */
	ag_buf_init(&b, 0);
	if (ag_url_origin(&b, s) == AG_OK)
		FUZZ_CHECK(strncmp(b.data, "http://", 7) == 0 ||
		    strncmp(b.data, "https://", 8) == 0);
	ag_buf_free(&b);
	free(s);
	return 0;
}
