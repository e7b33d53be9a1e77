/*
 * b64.h -- base64url without padding (RFC 4648 section 5), as JOSE uses
 * it, and standard base64 for HTTP Basic authentication.
 */
#ifndef AG_B64_H
#define AG_B64_H

#include <stddef.h>

#include "buf.h"

/* Append the base64url encoding of n bytes to out. */
int	 ag_b64url_encode(struct ag_buf *out, const void *, size_t n);
/*
 * Decode base64url (no padding, no whitespace; a trailing '=' padding
 * is refused) and append the bytes to out.  AG_ERR_PARSE on any byte
 * outside the alphabet or an impossible length; out is then as it was.
 */
int	 ag_b64url_decode(struct ag_buf *out, const char *, size_t n);
/* Append standard base64 with padding. */
int	 ag_b64_encode(struct ag_buf *out, const void *, size_t n);

#endif
