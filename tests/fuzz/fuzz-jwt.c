/*
 * fuzz-jwt.c -- the compact JWS parser, ag_jwt_parse(), and
 * ag_jwt_verify() against a fixed JWKS: the public keys of
 * tests/data/jwt/ (rsa, rsa2, ec256, ec384, ec521, ed25519), each with
 * kid = its file name, so the tokens of tests/data/jwt/node-tokens.json
 * verify.  The JWKS is parsed once and kept.
 */
#include <string.h>

#include "ag_limits.h"
#include "err.h"
#include "fuzz.h"
#include "jwt.h"

static const char jwks_json[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"7-MQQjFgZErO7XQuXthSgKhNQ3T44_BRN"
	"2C1JHKh7ZHxpFVB54TatFBCiAxpHSGv4j40DjXhUsKZdVhXdsdnRXlqFbpvk"
	"_bORjXCtw70wg_8PwF1gpj091CqrSICSadqmvXkUBCLIWDweo0LjKEmY4_Ce"
	"z6W3aJsx2w9ka4pKV4Q0EkkgmukgXCN-b322nD-reI9AHfIVsZcXRlQU-DI2"
	"AqMCiISO9k4hWiCYJTwU9OahC0b1_k1gFsLlVx0aI5XdqP_FX73JjZJyNAn6"
	"MYPairDxZZs_sluyZ-q-e9986pEudACvaoXQB1mWfE2T3UWnLbZbzkJkVN4g"
	"8O5G1i1dw\",\"e\":\"AQAB\",\"kid\":\"rsa\"},{\"kty\":\"RSA\",\"n\":\"4t16_nD"
	"DnyygUWeSMZwXWEAFo5FGeGHBkiml7-liEssl3YlvcMUmubZzNQ-BwvuL5pS"
	"b822b6kDlSy4OgRiOIcPrlSnv4fv1VLVn2ovh4KUs03gN0l-fF-cDGREc8h1"
	"APg9TDzhc0NRT1TdI5aazB9AyBBue7r29YVPaT7OYMGt0mtEXRIQ40YOmdGI"
	"0QpIunNhmx5wteyuKrUsgpXiq5pFLVOQLp0HIWw-ku-BrAxyVi2j77AXBnkP"
	"A4Uj72gkRxsi1L_rz0WYXvsZs-TSDfIATsNQn_qXm58SvvNM-j1eiu3eKEcT"
	"io_9_0-uNSPSr2BIvOPdLndv3NyHBQQVeJw\",\"e\":\"AQAB\",\"kid\":\"rsa2\""
	"},{\"kty\":\"EC\",\"x\":\"eNbcOKJr-Ax65JlQeJVo0hxLIzgBuT3LLyK6axCSI"
	"k4\",\"y\":\"UR8fd7Re_pytQAQ05fQndlNehsM2eq2SBOHm5JdNzzE\",\"crv\":"
	"\"P-256\",\"kid\":\"ec256\"},{\"kty\":\"EC\",\"x\":\"msU503GeKvqhi3XWN6uP"
	"SfQk53vawm72wSF9MaumDyiyZC_SAr3JpqbVA6wH_1z0\",\"y\":\"1fVrj7EXD"
	"s-t0B4GjkCezU_fUTvelplv4Tyr_uZCbwqD9oa3by0OT-X9xhtTgEz_\",\"cr"
	"v\":\"P-384\",\"kid\":\"ec384\"},{\"kty\":\"EC\",\"x\":\"AE7mPeSnbKIqPeinZ"
	"T7EYj9skEm9Z_-AZoOg3nHAoojXDrNR20SadPnM_tIi2s4jrOIiQdp1IqDMz"
	"dDHtnPDeUUJ\",\"y\":\"AUKcvKHrSJFPFoq_Vz_es6a2NN3OnxC5rf_LzidezM"
	"BSULJ785doCuUs1ywZuyoH0dZogf05a6_cjdGRP0mBWtas\",\"crv\":\"P-521"
	"\",\"kid\":\"ec521\"},{\"crv\":\"Ed25519\",\"x\":\"64vcbiAwU7Ng81xlppDVc"
	"XWiAyxgOF9HZ6VoEib2ogI\",\"kty\":\"OKP\",\"kid\":\"ed25519\"}]}";

static struct ag_jwks *jwks;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_jwt *jwt = NULL;
	const char *why = NULL;
	int r;

	if (jwks == NULL &&
	    (ag_jwks_parse(jwks_json, sizeof(jwks_json) - 1, &jwks) != AG_OK ||
	    ag_jwks_count(jwks) != 6))
		abort();

	if (ag_jwt_parse((const char *)data, size, &jwt) != AG_OK) {
		FUZZ_CHECK(jwt == NULL);
		return 0;
	}
	FUZZ_CHECK(size <= AG_MAX_JWT);
	FUZZ_CHECK(jwt->header != NULL && jwt->claims != NULL);
	FUZZ_CHECK(jwt->signing_input != NULL &&
	    strlen(jwt->signing_input) == jwt->signing_input_len);
	r = ag_jwt_verify(jwt, jwks, AG_ALG_ALL, &why);
	if (r == AG_OK)
		FUZZ_CHECK(jwt->alg >= 0 && jwt->alg < AG_ALG__MAX &&
		    ag_json_get(jwt->header, "crit") == NULL);
	else
		FUZZ_CHECK(why != NULL);
	/* The same token where only RS256 is allowed. */
	r = ag_jwt_verify(jwt, jwks, AG_ALG_BIT(AG_ALG_RS256), &why);
	if (r == AG_OK)
		FUZZ_CHECK(jwt->alg == AG_ALG_RS256);
	ag_jwt_free(jwt);
	return 0;
}
