/*
 * rand.c -- CSPRNG and clock.  See rand.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "b64.h"
#include "err.h"
#include "rand.h"

static int64_t	clock_pinned = -1;
static int	clock_offset_read;
static int64_t	clock_offset;

int
ag_rand_bytes(void *p, size_t n)
{
	if (n > 0 && RAND_bytes(p, (int)n) != 1)
		return AG_ERR_CRYPTO;
	return AG_OK;
}

int
ag_rand_b64url(struct ag_buf *out, size_t n)
{
	unsigned char b[64];
	int r;

	if (n > sizeof(b))
		return AG_ERR_LIMIT;
	if ((r = ag_rand_bytes(b, n)) != AG_OK)
		return r;
	r = ag_b64url_encode(out, b, n);
	OPENSSL_cleanse(b, sizeof(b));
	return r;
}

int
ag_rand_hex(struct ag_buf *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];
	size_t i;
	int r;

	if (n > sizeof(b))
		return AG_ERR_LIMIT;
	if ((r = ag_rand_bytes(b, n)) != AG_OK)
		return r;
	for (i = 0; i < n && r == AG_OK; i++) {
		r = ag_buf_putc(out, hex[b[i] >> 4]);
		if (r == AG_OK)
			r = ag_buf_putc(out, hex[b[i] & 15]);
	}
	OPENSSL_cleanse(b, sizeof(b));
	return r;
}

int64_t
ag_test_knob(const char *name, int64_t dflt)
{
	const char *mode, *v;
	char *end;
	long long n;

	mode = getenv("AUTHGATE_TEST_MODE");
	if (mode == NULL || strcmp(mode, "1") != 0 ||
	    (v = getenv(name)) == NULL || *v == '\0')
		return dflt;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*end != '\0' || errno != 0)
		return dflt;
	return n;
}

/* Integration tests may shift the clock; never outside test mode. */
static int64_t
offset(void)
{
	if (clock_offset_read)
		return clock_offset;
	clock_offset_read = 1;
	clock_offset = ag_test_knob("AUTHGATE_TEST_CLOCK_OFFSET", 0);
	return clock_offset;
}

int64_t
ag_now(void)
{
	if (clock_pinned >= 0)
		return clock_pinned;
	return (int64_t)time(NULL) + offset();
}

int64_t
ag_now_ms(void)
{
	struct timespec ts;

	if (clock_pinned >= 0)
		return clock_pinned * 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + offset()) * 1000 + ts.tv_nsec / 1000000;
}

void
ag_clock_set(int64_t t)
{
	clock_pinned = t;
}

int64_t
ag_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ag_sleep_ms(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
