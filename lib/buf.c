/*
 * buf.c -- bounded buffer.  See buf.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "err.h"

#define AG_BUF_UNBOUNDED	(SIZE_MAX / 2)

void
ag_buf_init(struct ag_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
ag_buf_free(struct ag_buf *b)
{
	size_t max;

	if (b == NULL)
		return;
	max = b->max;
	ag_freezero(b->data, b->cap);
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
ag_buf_reset(struct ag_buf *b)
{
	if (b->data != NULL) {
		OPENSSL_cleanse(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
}

/* Make room for n more bytes plus the terminating NUL. */
static int
grow(struct ag_buf *b, size_t n)
{
	size_t max, need, ncap;
	char *p;

	max = b->max ? b->max : AG_BUF_UNBOUNDED;
	if (n > max || b->len > max - n)
		return AG_ERR_LIMIT;
	need = b->len + n + 1;
	if (need <= b->cap)
		return AG_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max + 1)
		ncap = max + 1;
	/* Not realloc: the old block may hold a secret and must be wiped. */
	if ((p = malloc(ncap)) == NULL)
		return AG_ERR_NOMEM;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		ag_freezero(b->data, b->cap);
	}
	b->data = p;
	b->cap = ncap;
	return AG_OK;
}

int
ag_buf_add(struct ag_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = grow(b, n)) != AG_OK)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return AG_OK;
}

int
ag_buf_puts(struct ag_buf *b, const char *s)
{
	return ag_buf_add(b, s, strlen(s));
}

int
ag_buf_putc(struct ag_buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	return ag_buf_add(b, &ch, 1);
}

int
ag_buf_vprintf(struct ag_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	size_t room;
	int n, r;

	/* Format into the spare room first; measure only when it is short. */
	room = b->data != NULL ? b->cap - b->len : 0;
	va_copy(ap2, ap);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		if (b->data != NULL)
			b->data[b->len] = '\0';
		return AG_ERR_PARSE;
	}
	if ((size_t)n < room) {
		if ((r = grow(b, (size_t)n)) != AG_OK) {
			b->data[b->len] = '\0';	/* over max: undo */
			return r;
		}
		b->len += (size_t)n;
		return AG_OK;
	}
	if (b->data != NULL)
		b->data[b->len] = '\0';
	if ((r = grow(b, (size_t)n)) != AG_OK)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return AG_OK;
}

int
ag_buf_reserve(struct ag_buf *b, size_t n)
{
	return grow(b, n);
}

int
ag_buf_printf(struct ag_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ag_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *
ag_buf_take(struct ag_buf *b)
{
	char *p;

	if (b->data == NULL)
		return strdup("");
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *
ag_buf_str(const struct ag_buf *b)
{
	return b->data != NULL ? b->data : "";
}

void
ag_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

void
ag_strfree(char *s)
{
	if (s != NULL)
		ag_freezero(s, strlen(s));
}

char *
ag_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

char *
ag_strndup(const char *s, size_t n)
{
	return s != NULL ? strndup(s, n) : NULL;
}

int
ag_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}
