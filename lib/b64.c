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

/* 1 + the value of each byte in the base64url alphabet, 0 elsewhere. */
static const unsigned char b64url_values[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5,
	['F'] = 6, ['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10,
	['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
	['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20,
	['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25,
	['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
	['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45,
	['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
	['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55,
	['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

int
ag_b64url_decode(struct ag_buf *out, const char *in, size_t n)
{
	const unsigned char *u = (const unsigned char *)in;
	unsigned char *o;
	uint32_t acc;
	size_t i, rem, olen;
	unsigned a, b, c, d;
	int r;

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
	/* Whole groups of four, then the tail of two or three. */
	for (i = 0; i + 4 <= n; i += 4) {
		a = b64url_values[u[i]];
		b = b64url_values[u[i + 1]];
		c = b64url_values[u[i + 2]];
		d = b64url_values[u[i + 3]];
		if (a == 0 || b == 0 || c == 0 || d == 0)
			goto bad;
		acc = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 |
		    (uint32_t)(c - 1) << 6 | (uint32_t)(d - 1);
		*o++ = (unsigned char)(acc >> 16);
		*o++ = (unsigned char)(acc >> 8);
		*o++ = (unsigned char)acc;
	}
	if ((rem = n - i) != 0) {
		a = b64url_values[u[i]];
		b = b64url_values[u[i + 1]];
		c = rem == 3 ? b64url_values[u[i + 2]] : 1;
		if (a == 0 || b == 0 || c == 0)
			goto bad;
		acc = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 |
		    (uint32_t)(c - 1) << 6;
		/* Non-canonical trailing bits are refused. */
		if ((rem == 2 && (acc & 0xffff) != 0) ||
		    (rem == 3 && (acc & 0xff) != 0))
			goto bad;
		*o++ = (unsigned char)(acc >> 16);
		if (rem == 3)
			*o++ = (unsigned char)(acc >> 8);
	}
	out->len += olen;
	out->data[out->len] = '\0';
	return AG_OK;
bad:
	out->data[out->len] = '\0';
	return AG_ERR_PARSE;
}
