/*
 * fuzz-b64.c -- the base64url decoder, ag_b64url_decode().  What it
 * accepts must survive a round trip through the encoder.  (On failure
 * the decoder may leave the groups it already decoded in out; b64.h
 * does not promise otherwise, so that is not checked.)
 */
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_buf dec, enc, again;
	int r;

	ag_buf_init(&dec, 0);
	ag_buf_init(&enc, 0);
	ag_buf_init(&again, 0);
	r = ag_b64url_decode(&dec, (const char *)data, size);
	if (r == AG_OK) {
		FUZZ_CHECK(dec.len == size * 3 / 4);
		FUZZ_CHECK(ag_b64url_encode(&enc, dec.data, dec.len) == AG_OK);
		/* Non-canonical trailing bits are refused: exact match. */
		FUZZ_CHECK(enc.len == size &&
		    (size == 0 || memcmp(enc.data, data, size) == 0));
		FUZZ_CHECK(ag_b64url_decode(&again, enc.data, enc.len) ==
		    AG_OK);
		FUZZ_CHECK(again.len == dec.len && (dec.len == 0 ||
		    memcmp(again.data, dec.data, dec.len) == 0));
	}
	ag_buf_free(&again);
	ag_buf_free(&enc);
	ag_buf_free(&dec);
	return 0;
}
