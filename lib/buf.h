/*
 * buf.h -- the bounded byte buffer used for every untrusted input and
 * every response we build.
 *
 * A buffer has a maximum fixed at init; an append past it fails with
 * AG_ERR_LIMIT and leaves the buffer as it was.  The data is always
 * NUL-terminated (the NUL is not counted in len), so text can be used
 * as a C string.  ag_buf_free() wipes the memory before freeing it,
 * because buffers routinely hold tokens and keys.  A zeroed struct is
 * a valid empty buffer with no limit other than SIZE_MAX / 2.
 */
#ifndef AG_BUF_H
#define AG_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct ag_buf {
	char	*data;	/* owned; NULL until first append */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* 0 means SIZE_MAX / 2 */
};

/* Set up an empty buffer that may grow to max bytes (0: unbounded). */
void	 ag_buf_init(struct ag_buf *, size_t max);
/* Wipe and release; the buffer is empty and reusable afterwards. */
void	 ag_buf_free(struct ag_buf *);
/* Forget the contents, keep the allocation (contents wiped). */
void	 ag_buf_reset(struct ag_buf *);
/* Append n bytes. AG_OK, AG_ERR_LIMIT or AG_ERR_NOMEM. */
int	 ag_buf_add(struct ag_buf *, const void *, size_t);
/* Make room for n more bytes (no change in contents). */
int	 ag_buf_reserve(struct ag_buf *, size_t n);
/* Append a C string. */
int	 ag_buf_puts(struct ag_buf *, const char *);
/* Append one byte. */
int	 ag_buf_putc(struct ag_buf *, int);
/* Append printf-formatted text. */
int	 ag_buf_printf(struct ag_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 ag_buf_vprintf(struct ag_buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/*
 * Hand the contents to the caller (who frees it with free(), or
 * ag_freezero() for secrets); the buffer becomes empty.  Never NULL on
 * success: an empty buffer yields "".  NULL only on allocation failure.
 */
char	*ag_buf_take(struct ag_buf *);
/* The contents as a string; "" for an empty buffer.  Borrowed. */
const char *ag_buf_str(const struct ag_buf *);

/* Wipe n bytes then free p (NULL safe). */
void	 ag_freezero(void *p, size_t n);
/* Wipe a C string then free it (NULL safe). */
void	 ag_strfree(char *);
/* strdup that returns NULL for NULL. */
char	*ag_strdup(const char *);
/* strndup that returns NULL for NULL. */
char	*ag_strndup(const char *, size_t);
/* Constant-time comparison of two byte strings; 1 if equal. */
int	 ag_ct_equal(const void *, size_t, const void *, size_t);

#endif
