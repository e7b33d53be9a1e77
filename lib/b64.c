/*
 * b64.c -- base64url and base64.  Pure functions over bounded buffers.
 */
#include <stdint.h>
#include <string.h>

#include "b64.h"
#include "err.h"

static const char b64url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
encode(struct ag_buf *out, const void *in, size_t n, const char *alpha,
    int pad)
{
	const unsigned char *p = in;
	size_t i, olen;
	char *q;
	int r;

	/* Room for exactly the output, so a bounded buffer may be exact. */
	if (n > SIZE_MAX / 2)
		return AG_ERR_LIMIT;
	olen = pad ? (n + 2) / 3 * 4 : n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	if ((r = ag_buf_reserve(out, olen)) != AG_OK)
		return r;

	/* Straight into the reserved room. */
	q = out->data + out->len;
	for (i = 0; i + 2 < n; i += 3) {
		*q++ = alpha[p[i] >> 2];
		*q++ = alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*q++ = alpha[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*q++ = alpha[p[i + 2] & 63];
	}
	if (n - i == 1) {
		*q++ = alpha[p[i] >> 2];
		*q++ = alpha[(p[i] & 3) << 4];
		if (pad) {
			*q++ = '=';
			*q++ = '=';
		}
	} else if (n - i == 2) {
		*q++ = alpha[p[i] >> 2];
		*q++ = alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*q++ = alpha[(p[i + 1] & 15) << 2];
		if (pad)
			*q++ = '=';
	}
	out->len += olen;
	out->data[out->len] = '\0';
	return AG_OK;
}

int
ag_b64url_encode(struct ag_buf *out, const void *in, size_t n)
{
	return encode(out, in, n, b64url_alpha, 0);
}

int
ag_b64_encode(struct ag_buf *out, const void *in, size_t n)
{
	return encode(out, in, n, b64_alpha, 1);
}

/* The value of each byte in the base64url alphabet, -1 elsewhere. */
static const signed char b64url_values[256] = {
	['A'] = 0, ['B'] = 1, ['C'] = 2, ['D'] = 3, ['E'] = 4, ['F'] = 5,
	['G'] = 6, ['H'] = 7, ['I'] = 8, ['J'] = 9, ['K'] = 10, ['L'] = 11,
	['M'] = 12, ['N'] = 13, ['O'] = 14, ['P'] = 15, ['Q'] = 16, ['R'] = 17,
	['S'] = 18, ['T'] = 19, ['U'] = 20, ['V'] = 21, ['W'] = 22, ['X'] = 23,
	['Y'] = 24, ['Z'] = 25, ['a'] = 26, ['b'] = 27, ['c'] = 28, ['d'] = 29,
	['e'] = 30, ['f'] = 31, ['g'] = 32, ['h'] = 33, ['i'] = 34, ['j'] = 35,
	['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39, ['o'] = 40, ['p'] = 41,
	['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45, ['u'] = 46, ['v'] = 47,
	['w'] = 48, ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52, ['1'] = 53,
	['2'] = 54, ['3'] = 55, ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59,
	['8'] = 60, ['9'] = 61, ['-'] = 62, ['_'] = 63,
};

static int
b64url_value(unsigned char c)
{
	/* 'A' is the only valid byte whose value is 0. */
	if (b64url_values[c] == 0 && c != 'A')
		return -1;
	return b64url_values[c];
}

int
ag_b64url_decode(struct ag_buf *out, const char *in, size_t n)
{
	const unsigned char *u = (const unsigned char *)in;
	unsigned char *o;
	uint32_t acc;
	size_t i, j, rem, olen;
	int v, r;

	if (n % 4 == 1)
		return AG_ERR_PARSE;
	olen = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if ((r = ag_buf_reserve(out, olen)) != AG_OK)
		return r;
	/*
	 * Straight into the reserved room; out->len moves only at the
	 * end, so a refused input leaves out as it was (the bytes already
	 * written past it are cut off by the NUL and wiped on free).
	 */
	o = (unsigned char *)out->data + out->len;
	for (i = 0; i < n; i += 4) {
		rem = n - i < 4 ? n - i : 4;
		acc = 0;
		for (j = 0; j < 4; j++) {
			v = 0;
			if (j < rem && (v = b64url_value(u[i + j])) < 0)
				goto bad;
			acc = (acc << 6) | (uint32_t)v;
		}
		/* Non-canonical trailing bits are refused. */
		if ((rem == 2 && (acc & 0xffff) != 0) ||
		    (rem == 3 && (acc & 0xff) != 0))
			goto bad;
		*o++ = (unsigned char)(acc >> 16);
		if (rem > 2)
			*o++ = (unsigned char)(acc >> 8);
		if (rem > 3)
			*o++ = (unsigned char)acc;
	}
	out->len += olen;
	out->data[out->len] = '\0';
	return AG_OK;
bad:
	out->data[out->len] = '\0';
	return AG_ERR_PARSE;
}
