/*
 * rand.h -- the only sources of randomness and time.
 *
 * Everything that needs random bytes or "now" calls these, so tests can
 * pin them: ag_clock_set() fixes the clock for unit tests, and the
 * environment variable AUTHGATE_TEST_CLOCK_OFFSET (seconds, honoured only
 * when AUTHGATE_TEST_MODE=1 is also set) shifts it for integration
 * tests that need to age a session.
 */
#ifndef AG_RAND_H
#define AG_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Fill n bytes from the CSPRNG.  AG_OK or AG_ERR_CRYPTO. */
int	 ag_rand_bytes(void *, size_t n);
/* Append base64url of n random bytes (n=32 gives the 43-char values). */
int	 ag_rand_b64url(struct ag_buf *, size_t n);
/* Append 2n lower-case hex chars of n random bytes. */
int	 ag_rand_hex(struct ag_buf *, size_t n);

/* Unix seconds. */
int64_t	 ag_now(void);
/* Unix milliseconds. */
int64_t	 ag_now_ms(void);
/* Pin the clock to t (t < 0: back to the real clock).  Tests only. */
void	 ag_clock_set(int64_t t);
/*
 * Milliseconds on the monotonic clock, for timeouts and bounded waits:
 * neither the test pin nor a stepped wall clock moves it.
 */
int64_t	 ag_mono_ms(void);
/* Sleep ms milliseconds (resumed after signals). */
void	 ag_sleep_ms(int ms);
/*
 * A test-only integer knob: the environment variable name (a decimal
 * integer) when AUTHGATE_TEST_MODE=1 is also set, else (or when it is
 * absent or malformed) dflt.  Never changes behaviour outside test mode.
 */
int64_t	 ag_test_knob(const char *name, int64_t dflt);

#endif
