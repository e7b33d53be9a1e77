/*
 * fuzz-dpop.c -- what lib/dpop.c reads from servers: the nonce
 * challenge (ag_dpop_nonce_challenge: a 401's WWW-Authenticate DPoP
 * challenge, a 400's JSON body), the DPoP-Nonce header
 * (ag_dpop_remember, ag_dpop_nonce) and the URL a proof is for
 * (ag_dpop_htu, ag_dpop_proof).
 *
 * The input is split at its first three newlines: a WWW-Authenticate
 * value, a DPoP-Nonce value, a URL; the rest is the 400's body.  The
 * key is tests/data/jwt/ec256.pem, embedded; every input gets a fresh
 * handle (an empty nonce table), so a crash replays alone.
 *
 * Checked: a challenge needs a nonce header and the right status; a
 * 401 challenge starts with the DPoP scheme; a nonce is remembered only
 * when it is 1..AG_MAX_DPOP_NONCE NQCHARs and then read back as sent;
 * the table never holds more than AG_MAX_DPOP_NONCES origins, also
 * when more origins come (the least recently used one goes); an htu
 * has no query or fragment and a proof for the URL carries exactly
 * that htu and the remembered nonce.
 */
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "buf.h"
#include "dpop.h"
#include "err.h"
#include "fuzz.h"
#include "http.h"
#include "json.h"
#include "jwt.h"
#include "log.h"

/* tests/data/jwt/ec256.pem */
static const char pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgggZfInfXInmrh85Y\n"
	"u3774AF8QGi9UN5Ha7Qlf7zSHWihRANCAAR41tw4omv4DHrkmVB4lWjSHEsjOAG5\n"
	"PcsvIrprEJIiTlEfH3e0Xv6crUAENOX0J3ZTXobDNnqtkgTh5uSXTc8x\n"
	"-----END PRIVATE KEY-----\n";

/*
 * 1 when s is a nonce of RFC 9449 section 8.1, at most AG_MAX_DPOP_NONCE
 * bytes: 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E.
 */
static int
nqchars(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i;

	if (len == 0 || len > AG_MAX_DPOP_NONCE)
		return 0;
	for (i = 0; i < len; i++)
		if (!(u[i] == 0x21 || (u[i] >= 0x23 && u[i] <= 0x5b) ||
		    (u[i] >= 0x5d && u[i] <= 0x7e)))
			return 0;
	return 1;
}

static void
challenge(char *www, char *nonce, const char *body, size_t blen)
{
	struct ag_http_resp resp;
	long st[] = { 400, 401, 200 };
	size_t i;
	int yes;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		memset(&resp, 0, sizeof(resp));
		ag_buf_init(&resp.body, AG_MAX_IDP_RESPONSE);
		if (ag_buf_add(&resp.body, body, blen) != AG_OK) {
			ag_buf_free(&resp.body);
			return;
		}
		resp.status = st[i];
		resp.www_authenticate = www;
		resp.dpop_nonce = nonce;
		yes = ag_dpop_nonce_challenge(&resp);
		FUZZ_CHECK(yes == 0 || yes == 1);
		if (yes) {
			FUZZ_CHECK(nonce != NULL);
			FUZZ_CHECK(st[i] == 400 || st[i] == 401);
			if (st[i] == 401)
				FUZZ_CHECK(www != NULL &&
				    strncasecmp(www, "DPoP", 4) == 0);
		}
		/* Without a nonce there is nothing to retry with. */
		resp.dpop_nonce = NULL;
		FUZZ_CHECK(ag_dpop_nonce_challenge(&resp) == 0);
		ag_buf_free(&resp.body);
	}
}

static void
url_and_nonce(struct ag_dpop *dpop, const char *url, const char *nonce)
{
	struct ag_buf htu, proof;
	char other[64];
	size_t i;
	struct ag_jwt *jwt = NULL;
	const char *got, *claim;
	size_t before;
	int r;

	ag_buf_init(&htu, 0);
	ag_buf_init(&proof, AG_MAX_JWT);
	before = ag_dpop_nonce_count(dpop);
	ag_dpop_remember(dpop, url, nonce);
	FUZZ_CHECK(ag_dpop_nonce_count(dpop) <= AG_MAX_DPOP_NONCES);
	got = ag_dpop_nonce(dpop, url);
	if (nonce != NULL && !nqchars(nonce))
		FUZZ_CHECK(ag_dpop_nonce_count(dpop) == before);
	if (got != NULL)
		FUZZ_CHECK(nqchars(got));
	if (got != NULL && nonce != NULL && nqchars(nonce))
		FUZZ_CHECK(strcmp(got, nonce) == 0);
	/* More origins than the table holds: the oldest make room. */
	for (i = 0; nonce != NULL && nqchars(nonce) &&
	    i <= AG_MAX_DPOP_NONCES; i++) {
		snprintf(other, sizeof(other), "https://h%zu.example/", i);
		ag_dpop_remember(dpop, other, nonce);
		FUZZ_CHECK(ag_dpop_nonce_count(dpop) <= AG_MAX_DPOP_NONCES);
		FUZZ_CHECK(ag_dpop_nonce(dpop, other) != NULL);
	}

	if ((r = ag_dpop_htu(&htu, url)) != AG_OK) {
		FUZZ_CHECK(r == AG_ERR_PARSE || r == AG_ERR_LIMIT ||
		    r == AG_ERR_NOMEM);
		goto out;
	}
	FUZZ_CHECK(strncmp(ag_buf_str(&htu), "http://", 7) == 0 ||
	    strncmp(ag_buf_str(&htu), "https://", 8) == 0);
	FUZZ_CHECK(strpbrk(ag_buf_str(&htu), "?#") == NULL);
	FUZZ_CHECK(strchr(ag_buf_str(&htu) + 8, '/') != NULL);
	if (ag_dpop_proof(dpop, "POST", url, "at", &proof) != AG_OK)
		goto out;
	FUZZ_CHECK(ag_jwt_parse(ag_buf_str(&proof), proof.len, &jwt) == AG_OK);
	FUZZ_CHECK(jwt->typ != NULL && strcmp(jwt->typ, "dpop+jwt") == 0);
	claim = ag_json_get_str(jwt->claims, "htu");
	FUZZ_CHECK(claim != NULL && strcmp(claim, ag_buf_str(&htu)) == 0);
	claim = ag_json_get_str(jwt->claims, "nonce");
	got = ag_dpop_nonce(dpop, url);
	FUZZ_CHECK((claim == NULL) == (got == NULL));
	FUZZ_CHECK(claim == NULL || strcmp(claim, got) == 0);
 out:
	ag_jwt_free(jwt);
	ag_buf_free(&htu);
	ag_buf_free(&proof);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_dpop *dpop = NULL;
	struct ag_key *key = NULL;
	char *s, *p, *end, *www, *nonce, *url;

	ag_log_open("fuzz-dpop", AG_LOG_ERROR, 0);
	if (ag_key_load_pem(pem, sizeof(pem) - 1, -1, &key) != AG_OK ||
	    ag_dpop_new(key, &dpop) != AG_OK)
		abort();
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	p = s;
	end = s + size;
	www = fuzz_line(&p, end);
	nonce = fuzz_line(&p, end);
	url = fuzz_line(&p, end);
	challenge(www, nonce, p != NULL ? p : "", p != NULL ?
	    (size_t)(end - p) : 0);
	url_and_nonce(dpop, url != NULL ? url : "https://rs.example/", nonce);
	ag_dpop_free(dpop);
	free(s);
	return 0;
}
