/*
 * fuzz-rule.c -- the authorization rule parser and evaluator
 * (lib/rule.c).  The input's first line is a rule; the rest, when it is
 * a JSON object, the claims it is evaluated on (besides a fixed set).
 * A rule either parses, and then evaluates to 0 or 1 on any claims, or
 * fails with a "column N: ..." message and no rule.
 */
#include <string.h>

#include "ag_limits.h"
#include "err.h"
#include "fuzz.h"
#include "json.h"
#include "rule.h"

static const char fixed[] =
	"{\"sub\":\"a\",\"email\":\"a@corp.com\",\"email_verified\":true,"
	"\"roles\":[\"admin\",1,true,null,{}],\"org\":{\"name\":\"x\","
	"\"a\":{\"b\":[]}},\"a.b\":\"y\",\"n\":42,\"d\":1.5,\"z\":null}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_rule *r = NULL;
	ag_json *claims = NULL, *mine = NULL;
	const char *nl;
	char *s, why[256];
	int rc, v;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((nl = memchr(s, '\n', size)) != NULL) {
		(void)ag_json_parse_object(nl + 1, size - (size_t)(nl + 1 - s),
		    AG_MAX_SESSION_JSON, &mine);
		s[nl - s] = '\0';
	}
	rc = ag_rule_parse(s, &r, why, sizeof(why));
	if (rc != AG_OK) {
		FUZZ_CHECK(r == NULL);
		FUZZ_CHECK(strncmp(why, "column ", 7) == 0);
		FUZZ_CHECK(rc == AG_ERR_PARSE || rc == AG_ERR_LIMIT ||
		    rc == AG_ERR_NOMEM);
	} else {
		FUZZ_CHECK(r != NULL);
		FUZZ_CHECK(strlen(s) <= AG_MAX_RULE_LEN);
		if (ag_json_parse_object(fixed, sizeof(fixed) - 1,
		    sizeof(fixed), &claims) == AG_OK) {
			v = ag_rule_eval(r, claims);
			FUZZ_CHECK(v == 0 || v == 1);
		}
		v = ag_rule_eval(r, mine);
		FUZZ_CHECK(v == 0 || v == 1);
		FUZZ_CHECK(ag_rule_eval(r, NULL) == 0);
	}
	ag_rule_free(r);
	ag_json_free(claims);
	ag_json_free(mine);
	free(s);
	return 0;
}
