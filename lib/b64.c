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
	char q[4];
	size_t i;
	int r;

	/* Room for exactly the output, so a bounded buffer may be exact. */
	if (n > SIZE_MAX / 2)
		return AG_ERR_LIMIT;
	if ((r = ag_buf_reserve(out, pad ? (n + 2) / 3 * 4 :
	    n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0))) != AG_OK)
		return r;

	for (i = 0; i + 2 < n; i += 3) {
		q[0] = alpha[p[i] >> 2];
		q[1] = alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = alpha[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		q[3] = alpha[p[i + 2] & 63];
		if ((r = ag_buf_add(out, q, 4)) != AG_OK)
			return r;
	}
	if (n - i == 1) {
		q[0] = alpha[p[i] >> 2];
		q[1] = alpha[(p[i] & 3) << 4];
		q[2] = q[3] = '=';
		return ag_buf_add(out, q, pad ? 4 : 2);
	}
	if (n - i == 2) {
		q[0] = alpha[p[i] >> 2];
		q[1] = alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = alpha[(p[i + 1] & 15) << 2];
		q[3] = '=';
		return ag_buf_add(out, q, pad ? 4 : 3);
	}
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

/* Undo a partial decode: out as it was before the call. */
static int
rollback(struct ag_buf *out, size_t mark, int r)
{
	out->len = mark;
	if (out->data != NULL)
		out->data[mark] = '\0';
	return r;
}

int
ag_b64url_decode(struct ag_buf *out, const char *in, size_t n)
{
	unsigned char o[3];
	uint32_t acc;
	size_t i, j, rem, mark = out->len;
	int v, r;

	if (n % 4 == 1)
		return AG_ERR_PARSE;
	r = ag_buf_reserve(out, n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0));
	if (r != AG_OK)
		return r;
	for (i = 0; i < n; i += 4) {
		rem = n - i < 4 ? n - i : 4;
		acc = 0;
		for (j = 0; j < 4; j++) {
			v = 0;
			if (j < rem &&
			    (v = b64url_value((unsigned char)in[i + j])) < 0)
				return rollback(out, mark, AG_ERR_PARSE);
			acc = (acc << 6) | (uint32_t)v;
		}
		o[0] = (unsigned char)(acc >> 16);
		o[1] = (unsigned char)(acc >> 8);
		o[2] = (unsigned char)acc;
		/* Non-canonical trailing bits are refused. */
		if ((rem == 2 && (acc & 0xffff) != 0) ||
		    (rem == 3 && (acc & 0xff) != 0))
			return rollback(out, mark, AG_ERR_PARSE);
		if ((r = ag_buf_add(out, o, rem == 4 ? 3 : rem - 1)) != AG_OK)
			return rollback(out, mark, r);
	}
	return AG_OK;
}
