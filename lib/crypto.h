/*
 * crypto.h -- hashing, key derivation and the sealed values (compact
 * JWE, "dir" + "A256GCM") used for every cookie authgate writes.
 *
 * The cookie key is HKDF-SHA256(secret bytes, empty salt, info "JWE CEK",
 * 32 bytes), byte-compatible with @auth0/nextjs-auth0 v4.  A sealed
 * value is B64(header) ".." B64(iv) "." B64(ciphertext) "." B64(tag)
 * with header {"enc":"A256GCM","alg":"dir"}, a fresh random 96-bit IV
 * every time, and the ASCII of the encoded header as AAD.
 */
#ifndef AG_CRYPTO_H
#define AG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

#define AG_KEY_LEN	32
#define AG_SHA256_LEN	32

/* SHA-256 of n bytes into out. */
int	 ag_sha256(const void *, size_t n, unsigned char out[AG_SHA256_LEN]);
/*
 * SHA-256, SHA-384 or SHA-512 (bits = 256, 384, 512) of n bytes into out,
 * which holds at least bits / 8 bytes.  AG_ERR_PARSE for other sizes.
 */
int	 ag_sha(int bits, const void *, size_t n, unsigned char *out);
/* RFC 5869 HKDF with SHA-256; outlen <= 255 * 32. */
int	 ag_hkdf_sha256(const void *ikm, size_t ikmlen, const void *salt,
	    size_t saltlen, const void *info, size_t infolen, void *out,
	    size_t outlen);
/*
 * Initialise OpenSSL the way authgate uses it (no openssl.cnf, no
 * legacy name tables); call before any other OpenSSL use.
 */
int	 ag_crypto_init(void);
/* The cookie key derived from the configured secret (see above). */
int	 ag_cookie_key(const char *secret, unsigned char key[AG_KEY_LEN]);

/*
 * Encrypt n bytes as a compact JWE (dir, A256GCM), appended to out.
 * AG_OK, AG_ERR_CRYPTO, AG_ERR_NOMEM, AG_ERR_LIMIT.
 */
int	 ag_jwe_encrypt(const unsigned char key[AG_KEY_LEN], const void *,
	    size_t n, struct ag_buf *out);
/*
 * Decrypt a compact JWE and append the plaintext to out.  The protected
 * header must decode to a JSON object with exactly alg "dir" and enc
 * "A256GCM" (no other member: no zip, no crit, no kid); the encrypted-key
 * part must be empty; IV 12 bytes; tag 16 bytes.  Any deviation, any
 * bit flip, any truncation: AG_ERR_CRYPTO (or AG_ERR_PARSE / AG_ERR_LIMIT
 * for n > AG_MAX_JWT), and out is left as it was.
 */
int	 ag_jwe_decrypt(const unsigned char key[AG_KEY_LEN], const char *,
	    size_t n, struct ag_buf *out);

/*
 * Seal a JSON object: a copy of payload with "exp": exp added (replacing
 * any exp) is serialised and encrypted, appended to out.  payload is not
 * modified.
 */
int	 ag_seal(const unsigned char key[AG_KEY_LEN], ag_json *payload,
	    int64_t exp, struct ag_buf *out);
/*
 * Open a sealed value: decrypt, parse a JSON object (at most
 * AG_MAX_SESSION_JSON bytes), and check "exp" (required, numeric) and
 * "nbf"/"iat" (if present) against now with AG_JWE_LEEWAY seconds of
 * tolerance, as jose's jwtDecrypt does.  *out is the whole payload
 * (exp included), owned by the caller.  AG_ERR_EXPIRED when exp passed.
 */
int	 ag_unseal(const unsigned char key[AG_KEY_LEN], const char *, size_t n,
	    int64_t now, ag_json **out);

#endif
