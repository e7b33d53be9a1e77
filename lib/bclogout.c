/*
 * bclogout.c -- logout token claim rules.  See bclogout.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ag_limits.h"
#include "bclogout.h"
#include "err.h"
#include "oidc.h"

static int
refuse(char *why, const char *reason)
{
	snprintf(why, AG_WHY_LEN, "logout token: %s", reason);
	return AG_ERR_VERIFY;
}

static int
is_key(const char *key, ag_json *val, void *arg)
{
	(void)val;
	return strcmp(key, (const char *)arg) == 0;
}

/* 1 when obj has the member key, whatever its value (null too). */
static int
has_member(const ag_json *obj, const char *key)
{
	return ag_json_each(obj, is_key, (void *)(uintptr_t)key) != 0;
}

/* 1 when the member key is absent or a string. */
static int
opt_string(const ag_json *obj, const char *key)
{
	return !has_member(obj, key) || ag_json_get_str(obj, key) != NULL;
}

int
ag_bclogout_check(const ag_json *header, const ag_json *claims,
    int64_t now, struct ag_bclogout *out, char *why)
{
	const char *typ, *jti;
	ag_json *events;
	int64_t iat, exp, nbf, until;
	int r;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (ag_json_type(claims) != AG_JSON_OBJECT)
		return refuse(why, "claims are not an object");
	if (header != NULL && has_member(header, "typ")) {
		typ = ag_json_get_str(header, "typ");
		if (typ == NULL || (strcasecmp(typ, "logout+jwt") != 0 &&
		    strcasecmp(typ, "application/logout+jwt") != 0))
			return refuse(why, "wrong typ header");
	}
	if (ag_json_get_int(claims, "iat", &iat) != AG_OK)
		return refuse(why, "\"iat\" claim is missing or not a number");
	if (iat > now + AG_JWT_LEEWAY)
		return refuse(why, "issued in the future");
	until = iat + AG_BCLOGOUT_MAX_AGE + AG_JWT_LEEWAY;
	if (until <= now)
		return refuse(why, "too old");
	if ((r = ag_json_get_int(claims, "exp", &exp)) == AG_OK) {
		if (exp + AG_JWT_LEEWAY <= now)
			return refuse(why, "expired");
		if (exp + AG_JWT_LEEWAY < until)
			until = exp + AG_JWT_LEEWAY;
	} else if (r != AG_ERR_NOTFOUND || has_member(claims, "exp"))
		return refuse(why, "\"exp\" claim is not a number");
	if ((r = ag_json_get_int(claims, "nbf", &nbf)) == AG_OK) {
		if (nbf > now + AG_JWT_LEEWAY)
			return refuse(why, "not yet valid");
	} else if (r != AG_ERR_NOTFOUND || has_member(claims, "nbf"))
		return refuse(why, "\"nbf\" claim is not a number");
	jti = ag_json_get_str(claims, "jti");
	if (jti == NULL || *jti == '\0')
		return refuse(why, "\"jti\" claim is missing");
	if (strlen(jti) > AG_BCLOGOUT_MAX_JTI)
		return refuse(why, "\"jti\" claim is too long");
	if (has_member(claims, "nonce"))
		return refuse(why, "\"nonce\" claim is prohibited");
	events = ag_json_get(claims, "events");
	if (events == NULL)
		return refuse(why, "\"events\" claim is missing");
	if (ag_json_type(events) != AG_JSON_OBJECT)
		return refuse(why, "\"events\" claim must be an object");
	if (ag_json_type(ag_json_get(events, AG_BCLOGOUT_EVENT)) !=
	    AG_JSON_OBJECT)
		return refuse(why, "\"events\" claim lacks the back-channel "
		    "logout event");
	if (!opt_string(claims, "sid") || !opt_string(claims, "sub"))
		return refuse(why, "\"sid\" and \"sub\" must be strings");
	out->sid = ag_json_get_str(claims, "sid");
	out->sub = ag_json_get_str(claims, "sub");
	if (out->sid == NULL && out->sub == NULL)
		return refuse(why, "either \"sid\" or \"sub\" (or both) claims "
		    "must be present");
	out->jti = jti;
	out->iat = iat;
	out->keep_until = until > now ? until : now + 1;
	return AG_OK;
}
