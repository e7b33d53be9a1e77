/*
 * fuzz-jwe.c -- the sealed-cookie reader: ag_jwe_decrypt() and
 * ag_unseal() on the input as a compact JWE, under the key of
 * tests/data/jwe/vectors.json.  The fuzzer cannot forge a tag, so the
 * input is also used as a plaintext: sealed with ag_jwe_encrypt(), it
 * must decrypt to itself, and ag_unseal() parses it as the payload.
 */
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "fuzz.h"
#include "json.h"

/* "key" of tests/data/jwe/vectors.json: the HKDF output of its secret. */
static const unsigned char key[AG_KEY_LEN] = {
	0xe0, 0x57, 0x0b, 0x22, 0x1e, 0xc2, 0xcb, 0x59,
	0xb8, 0x4b, 0x35, 0xd6, 0x54, 0xf9, 0x74, 0x67,
	0x81, 0xcb, 0x8b, 0xd3, 0x34, 0x65, 0x90, 0xc2,
	0x8b, 0x27, 0x8f, 0x8c, 0x18, 0xd4, 0x85, 0x17,
};

/* 2023-11-14: the vectors' exp (2100) lies ahead, "expired" behind. */
#define NOW	1700000000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_buf pt, ct;
	ag_json *j = NULL;
	int r;

	ag_buf_init(&pt, AG_MAX_JWT);
	r = ag_jwe_decrypt(key, (const char *)data, size, &pt);
	if (r != AG_OK)
		FUZZ_CHECK(pt.len == 0);
	ag_buf_free(&pt);
	r = ag_unseal(key, (const char *)data, size, NOW, &j);
	if (r == AG_OK)
		FUZZ_CHECK(j != NULL && ag_json_type(j) == AG_JSON_OBJECT);
	ag_json_free(j);
	j = NULL;

	/* The input as a plaintext. */
	ag_buf_init(&ct, AG_MAX_JWT);
	ag_buf_init(&pt, AG_MAX_JWT);
	if (ag_jwe_encrypt(key, data, size, &ct) == AG_OK) {
		FUZZ_CHECK(ag_jwe_decrypt(key, ct.data, ct.len, &pt) == AG_OK);
		FUZZ_CHECK(pt.len == size &&
		    (size == 0 || memcmp(pt.data, data, size) == 0));
		r = ag_unseal(key, ct.data, ct.len, NOW, &j);
		if (r == AG_OK)
			FUZZ_CHECK(j != NULL &&
			    ag_json_type(j) == AG_JSON_OBJECT);
		ag_json_free(j);
	}
	ag_buf_free(&pt);
	ag_buf_free(&ct);
	return 0;
}
