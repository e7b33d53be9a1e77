/*
 * cmd-keygen.c -- `authgate keygen`: make a signing key for DPoP
 * (dpop.key) or private_key_jwt (client_assertion_key).
 *
 * ES256 makes an EC P-256 key, RS256 an RSA key of 3072 bits.  With
 * --out FILE the private key (unencrypted PKCS#8 PEM) is written to a
 * new file of mode 0600 (an existing file or symbolic link is never
 * overwritten); without it the PEM goes to stdout first.  Then stdout
 * gets the public JWK (kty and key members, kid = thumbprint, use
 * "sig", alg) on one line and its RFC 7638 thumbprint (the dpop_jkt
 * value) on the next: the JWK is what a provider registers for
 * private_key_jwt.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd-keygen.h"
#include "err.h"
#include "json.h"
#include "jwt.h"

#define EXIT_USAGE	2

static const char keygen_usage[] =
"usage: authgate keygen [--alg ES256|RS256] [--out FILE]\n";

/* Write the whole of b to a new file path (0600).  0, or -1 (reported). */
static int
write_new(const char *path, const struct ag_buf *b)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		fprintf(stderr, "authgate: keygen: %s: %s%s\n", path,
		    strerror(errno), errno == EEXIST ?
		    " (refusing to overwrite)" : "");
		return -1;
	}
	while (off < b->len) {
		if ((n = write(fd, b->data + off, b->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
 fail:
	fprintf(stderr, "authgate: keygen: %s: %s\n", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(path);
	return -1;
}

int
ag_cmd_keygen(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ag_key *key = NULL;
	struct ag_buf pem, tp;
	ag_json *jwk = NULL;
	const char *out = NULL, *json;
	int alg = AG_ALG_ES256, ch, r, rc = 1;

	ag_buf_init(&pem, 0);
	ag_buf_init(&tp, 0);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			alg = ag_alg_parse(optarg);
			if (alg != AG_ALG_ES256 && alg != AG_ALG_RS256) {
				fprintf(stderr, "authgate: keygen: --alg: "
				    "ES256 or RS256\n");
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(keygen_usage, stdout);
			rc = 0;
			goto out;
		default:
			fputs(keygen_usage, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc || (out != NULL && *out == '\0')) {
		fputs(keygen_usage, stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((r = ag_key_generate(alg, &key)) != AG_OK ||
	    (r = ag_key_private_pem(key, &pem)) != AG_OK ||
	    (r = ag_key_thumbprint(key, &tp)) != AG_OK ||
	    (r = (jwk = ag_key_public_jwk(key)) == NULL ? AG_ERR_NOMEM :
	    AG_OK) != AG_OK || (r = (json = ag_json_dump(jwk)) == NULL ?
	    AG_ERR_NOMEM : AG_OK) != AG_OK) {
		fprintf(stderr, "authgate: keygen: cannot make the key: %s\n",
		    ag_strerror(r));
		goto out;
	}
	if (out != NULL) {
		if (write_new(out, &pem) != 0)
			goto out;
	} else if (fwrite(pem.data, 1, pem.len, stdout) != pem.len)
		goto out;
	if (printf("%s\n%s\n", json, ag_buf_str(&tp)) < 0 ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "authgate: keygen: cannot write to stdout\n");
		goto out;
	}
	rc = 0;
 out:
	ag_json_free(jwk);
	ag_key_free(key);
	ag_buf_free(&pem);
	ag_buf_free(&tp);
	return rc;
}
