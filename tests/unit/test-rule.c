/*
 * test-rule.c -- the authorization rule language (lib/rule.c): every
 * construct and every parse error with its column, the limits of
 * ag_limits.h at the bound and one past, evaluation (allowed and
 * denied, arrays, regular-expression anchors, e-mail tricks, booleans
 * that are strings, missing claims, nested and dotted names) and the
 * loading of a configuration's rules (ag_rules_load).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "buf.h"
#include "conf.h"
#include "err.h"
#include "json.h"
#include "rule.h"

#include "tap.h"

static const char CLAIMS[] =
	"{\"sub\":\"auth0|alice\",\"email\":\"alice@corp.com\","
	"\"email_verified\":true,\"roles\":[\"admin\",\"staff\"],"
	"\"org\":{\"name\":\"Acme\",\"tier\":{\"level\":3}},"
	"\"a.b\":\"dotted\",\"a\":{\"b\":\"nested\"},\"age\":42,"
	"\"big\":1e3,\"half\":3.5,\"str_true\":\"true\",\"nul\":null,"
	"\"mixed\":[1,\"2\",true,null,{\"x\":1}],\"empty\":[],"
	"\"https://example.com/roles\":[\"eng\"],\"unverified\":false,"
	"\"with_nul\":\"adm\\u0000in\",\"not\":\"kw\",\"Email\":\"X@Y\"}";

/* Parse text; 1 when it parses. */
static int
parses(const char *text)
{
	struct ag_rule *r = NULL;
	char why[256];
	int rc;

	rc = ag_rule_parse(text, &r, why, sizeof(why));
	if (rc != AG_OK)
		printf("# '%s': %s\n", text, why);
	ag_rule_free(r);
	return rc == AG_OK;
}

/* Evaluate text against the JSON object json; -1 when it fails to parse. */
static int
eval_on(const char *json, const char *text)
{
	struct ag_rule *r = NULL;
	ag_json *claims = NULL;
	char why[256];
	int v = -1;

	if (ag_json_parse_object(json, strlen(json), 1 << 20, &claims) !=
	    AG_OK) {
		printf("# bad test JSON %s\n", json);
		return -1;
	}
	if (ag_rule_parse(text, &r, why, sizeof(why)) == AG_OK)
		v = ag_rule_eval(r, claims);
	else
		printf("# '%s': %s\n", text, why);
	ag_rule_free(r);
	ag_json_free(claims);
	return v;
}

static void
test_constructs(void)
{
	static const char *const good[] = {
		"email = \"a@b.c\"",
		"email == \"a@b.c\"",
		"email != \"a@b.c\"",
		"roles contains \"admin\"",
		"email ~ \"^[^@]+@corp\\.com$\"",
		"exists email",
		"email_verified = true",
		"email_verified = false",
		"age = 42",
		"age = -1",
		"not exists email",
		"not not exists email",
		"exists a and exists b",
		"exists a or exists b and exists c",
		"(exists a or exists b) and exists c",
		"org.name = \"x\"",
		"\"a.b\" = \"x\"",
		"\"https://example.com/roles\" contains \"eng\"",
		"urn:auth0:perm contains \"read:all\"",
		"\"not\" = \"kw\"",
		"org . name = \"x\"",
		"email=\"a\"and(exists b)",
		"\t exists email \t",
		"email = \"say \\\"hi\\\" \\\\ done\"",
		NULL
	};
	size_t i;
	char name[160];

	for (i = 0; good[i] != NULL; i++) {
		snprintf(name, sizeof(name), "parses: %s", good[i]);
		ok(parses(good[i]), name);
	}
}

struct bad {
	const char	*text;
	int		 err;
	const char	*why;
};

static void
test_errors(void)
{
	static const struct bad bad[] = {
		{ "", AG_ERR_PARSE, "column 1: expected a claim name, 'not', "
		    "'exists' or '(', found the end" },
		{ "email", AG_ERR_PARSE, "column 6: expected '=', '!=', '~' "
		    "or 'contains', found the end" },
		{ "email ~~ \"x\"", AG_ERR_PARSE, "column 8: expected a "
		    "regular expression in double quotes, found '~'" },
		{ "email = ", AG_ERR_PARSE, "column 9: expected a value (a "
		    "string in double quotes, an integer, true or false), "
		    "found the end" },
		{ "email = alice", AG_ERR_PARSE, "column 9: expected a value "
		    "(a string in double quotes, an integer, true or false), "
		    "found 'alice'" },
		{ "email = \"a", AG_ERR_PARSE, "column 9: unterminated string" },
		{ "roles has \"admin\"", AG_ERR_PARSE, "column 7: expected "
		    "'=', '!=', '~' or 'contains', found 'has'" },
		{ "(exists a", AG_ERR_PARSE, "column 10: expected 'and', 'or' "
		    "or ')', found the end" },
		{ "exists a)", AG_ERR_PARSE, "column 9: expected 'and', 'or' "
		    "or the end, found ')'" },
		{ "exists a exists b", AG_ERR_PARSE, "column 10: expected "
		    "'and', 'or' or the end, found 'exists'" },
		{ "exists a and", AG_ERR_PARSE, "column 13: expected a claim "
		    "name, 'not', 'exists' or '(', found the end" },
		{ "and exists a", AG_ERR_PARSE, "column 1: expected a claim "
		    "name, 'not', 'exists' or '(', found 'and'" },
		{ "exists", AG_ERR_PARSE, "column 7: expected a claim name, "
		    "found the end" },
		{ "org. = \"x\"", AG_ERR_PARSE, "column 6: expected a claim "
		    "name, found '='" },
		{ "\"\" = \"x\"", AG_ERR_PARSE, "column 1: empty claim name" },
		{ "email ! \"x\"", AG_ERR_PARSE, "column 7: expected '=', "
		    "'!=', '~' or 'contains', found '!'" },
		{ "email # 1", AG_ERR_PARSE, "column 7: expected '=', '!=', "
		    "'~' or 'contains', found '#'" },
		{ "age = 1.5", AG_ERR_PARSE, "column 8: expected 'and', 'or' "
		    "or the end, found '.'" },
		{ "age = 1234567890123456789", AG_ERR_PARSE, "column 7: "
		    "expected a value (a string in double quotes, an integer, "
		    "true or false), found '1234567890123456789'" },
		{ "email ~ 42", AG_ERR_PARSE, "column 9: expected a regular "
		    "expression in double quotes, found '42'" },
		{ "not", AG_ERR_PARSE, "column 4: expected a claim name, "
		    "'not', 'exists' or '(', found the end" },
		{ "()", AG_ERR_PARSE, "column 2: expected a claim name, 'not', "
		    "'exists' or '(', found ')'" },
		{ "email = TRUE", AG_ERR_PARSE, "column 9: expected a value (a "
		    "string in double quotes, an integer, true or false), "
		    "found 'TRUE'" },
		{ NULL, 0, NULL }
	};
	struct ag_rule *r;
	char why[256], name[200];
	size_t i;
	int rc;

	for (i = 0; bad[i].text != NULL; i++) {
		r = (struct ag_rule *)1;
		rc = ag_rule_parse(bad[i].text, &r, why, sizeof(why));
		snprintf(name, sizeof(name), "refused: '%s'", bad[i].text);
		is_int(rc, bad[i].err, name);
		ok(r == NULL, "no rule on failure");
		snprintf(name, sizeof(name), "message: '%s'", bad[i].text);
		is_str(why, bad[i].why, name);
	}

	/* A bad regular expression, at its column. */
	rc = ag_rule_parse("exists a and email ~ \"a(b\"", &r, why,
	    sizeof(why));
	is_int(rc, AG_ERR_PARSE, "bad regex: AG_ERR_PARSE");
	ok(strncmp(why, "column 22: bad regular expression: ", 35) == 0,
	    "bad regex: column and message");
	printf("# %s\n", why);
	/* No room for a message: still refused, nothing written. */
	ok(ag_rule_parse("email", &r, why, 0) == AG_ERR_PARSE && r == NULL,
	    "whylen 0: refused");
	/* A small buffer: cut, NUL-terminated. */
	ag_rule_parse("email", &r, why, 12);
	is_str(why, "column 6: e", "message cut to the buffer");
}

/* A rule of n tests "exists a and exists a and ...": 2n - 1 nodes. */
static char *
chain(size_t tests)
{
	struct ag_buf b;
	size_t i;

	ag_buf_init(&b, 1 << 20);
	for (i = 0; i < tests; i++)
		(void)ag_buf_puts(&b, i == 0 ? "exists a" : " and exists a");
	return ag_buf_take(&b);
}

static void
test_limits(void)
{
	struct ag_buf b;
	struct ag_rule *r = NULL;
	char why[256], *s;
	size_t i;

	/* Length: AG_MAX_RULE_LEN bytes parse, one more does not. */
	ag_buf_init(&b, 1 << 20);
	(void)ag_buf_puts(&b, "email = \"");
	while (b.len < AG_MAX_RULE_LEN - 1)
		(void)ag_buf_putc(&b, 'x');
	(void)ag_buf_putc(&b, '"');
	is_int(b.len, AG_MAX_RULE_LEN, "rule of the maximum length built");
	ok(parses(ag_buf_str(&b)), "AG_MAX_RULE_LEN bytes: parses");
	(void)ag_buf_putc(&b, ' ');
	is_int(ag_rule_parse(ag_buf_str(&b), &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "AG_MAX_RULE_LEN + 1 bytes: AG_ERR_LIMIT");
	ag_buf_free(&b);

	/* Nodes: 32 tests = 63 nodes, then 64 (an AND of 32 plus a NOT). */
	s = chain(AG_MAX_RULE_NODES / 2);
	ok(parses(s), "63 nodes: parses");
	ag_buf_init(&b, 1 << 20);
	(void)ag_buf_printf(&b, "not (%s)", s);
	ok(parses(ag_buf_str(&b)), "AG_MAX_RULE_NODES nodes: parses");
	ag_buf_reset(&b);
	(void)ag_buf_printf(&b, "not not (%s)", s);
	is_int(ag_rule_parse(ag_buf_str(&b), &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "AG_MAX_RULE_NODES + 1 nodes: AG_ERR_LIMIT");
	/* Reported where the limit is hit: the outer "not", at the end. */
	{
		char want[80];

		snprintf(want, sizeof(want), "column %zu: more than %d tests "
		    "and operators", b.len + 1, AG_MAX_RULE_NODES);
		is_str(why, want, "nodes: message");
	}
	ag_buf_free(&b);
	free(s);

	/* Depth: AG_MAX_RULE_DEPTH parentheses and nots, then one more. */
	ag_buf_init(&b, 1 << 20);
	for (i = 0; i < AG_MAX_RULE_DEPTH / 2; i++)
		(void)ag_buf_puts(&b, "not (");
	(void)ag_buf_puts(&b, "exists a");
	for (i = 0; i < AG_MAX_RULE_DEPTH / 2; i++)
		(void)ag_buf_putc(&b, ')');
	ok(parses(ag_buf_str(&b)), "AG_MAX_RULE_DEPTH deep: parses");
	ag_buf_reset(&b);
	for (i = 0; i < AG_MAX_RULE_DEPTH + 1; i++)
		(void)ag_buf_putc(&b, '(');
	(void)ag_buf_puts(&b, "exists a");
	for (i = 0; i < AG_MAX_RULE_DEPTH + 1; i++)
		(void)ag_buf_putc(&b, ')');
	is_int(ag_rule_parse(ag_buf_str(&b), &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "AG_MAX_RULE_DEPTH + 1 deep: AG_ERR_LIMIT");
	is_str(why, "column 9: nested deeper than 8", "depth: message");
	ag_buf_free(&b);

	/* Regular expressions: AG_MAX_RULE_REGEX, then one more. */
	ag_buf_init(&b, 1 << 20);
	for (i = 0; i < AG_MAX_RULE_REGEX; i++)
		(void)ag_buf_printf(&b, "%sa ~ \"^x\"", i ? " or " : "");
	ok(parses(ag_buf_str(&b)), "AG_MAX_RULE_REGEX expressions: parses");
	(void)ag_buf_puts(&b, " or a ~ \"^x\"");
	is_int(ag_rule_parse(ag_buf_str(&b), &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "AG_MAX_RULE_REGEX + 1 expressions: AG_ERR_LIMIT");
	ag_buf_free(&b);

	/* One regular expression: its length, stacked quantifiers, counts. */
	ag_buf_init(&b, 1 << 20);
	(void)ag_buf_puts(&b, "a ~ \"");
	for (i = 0; i < AG_MAX_RULE_REGEX_LEN; i++)
		(void)ag_buf_putc(&b, 'x');
	(void)ag_buf_putc(&b, '"');
	ok(parses(ag_buf_str(&b)), "AG_MAX_RULE_REGEX_LEN bytes: parses");
	ag_buf_reset(&b);
	(void)ag_buf_puts(&b, "a ~ \"");
	for (i = 0; i < AG_MAX_RULE_REGEX_LEN + 1; i++)
		(void)ag_buf_putc(&b, 'x');
	(void)ag_buf_putc(&b, '"');
	is_int(ag_rule_parse(ag_buf_str(&b), &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "AG_MAX_RULE_REGEX_LEN + 1 bytes: AG_ERR_LIMIT");
	ag_buf_free(&b);
	ok(parses("a ~ \"^(x{16}){2}[{+*]{0,32}\\+?$\""),
	    "copies adding up to AG_MAX_RULE_REGEX_REPEAT: parses");
	ok(parses("a ~ \"^x{65}$\""), "x{65}: 64 copies: parses");
	is_int(ag_rule_parse("a ~ \"(x{32}){33}\"", &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "copies above AG_MAX_RULE_REGEX_REPEAT: refused");
	is_str(why, "column 5: repetitions making more than 64 copies in all",
	    "copies: message");
	/* Nested repetitions multiply (regcomp copies the tree). */
	is_int(ag_rule_parse("name ~ \"(((((((a{9}){9}){9}){9}){9}){9}){9})\"",
	    &r, why, sizeof(why)), AG_ERR_LIMIT,
	    "(((a{9}){9})...{9}) seven deep: refused");
	is_int(ag_rule_parse("a ~ \"((a{4}){4}){5}\"", &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "((a{4}){4}){5}: 3 + 12 + 64 copies: refused");
	ok(parses("a ~ \"((a{4}){4}){4}\""),
	    "((a{4}){4}){4}: 3 + 12 + 48 copies: parses");
	is_int(ag_rule_parse("a ~ \"(((((((a+)+)+)+)+)+)+)\"", &r, why,
	    sizeof(why)), AG_ERR_LIMIT, "'+' nested seven deep: refused");
	ok(parses("a ~ \"((((((a+)+)+)+)+)+)\""),
	    "'+' nested six deep: 63 copies: parses");
	is_int(ag_rule_parse("a ~ \"(ab|c{8}){8}\"", &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "a group of 10 repeated 8 times: refused");
	is_int(ag_rule_parse("a ~ \"(x{8}){8,}\"", &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "{m,} counts m + 1: refused");
	ok(parses("a ~ \"(x{8}){7}\""), "(x{8}){7}: 7 + 48 copies: parses");
	ok(parses("a ~ \"^[^@]+@([a-z0-9-]+\\.)*corp\\.com$\""),
	    "a quantified group holding a quantifier: parses");
	ok(parses("a ~ \"(a*)*(b?)*\\((c{60})\""),
	    "an escaped '(' opens no group: parses");
	is_int(ag_rule_parse("a ~ \"(x{99999999999999999999})\"", &r, why,
	    sizeof(why)), AG_ERR_LIMIT, "a huge count: refused");
	is_int(ag_rule_parse("a ~ \"m++\"", &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "a++: refused");
	is_str(why, "column 5: a quantifier after a quantifier",
	    "stacked quantifiers: message");
	is_int(ag_rule_parse("a ~ \"x*{2}\"", &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "x*{2}: refused");
	ok(parses("a ~ \"(x*){2}\""), "(x*){2}: parses");
	ok(parses("a ~ \"\\++\""), "an escaped '+' is no quantifier");
	/* Repeated zero-width assertions: regcomp runs for minutes. */
	is_int(ag_rule_parse("name ~ \"(((((($)+)+)+)+)+)\"", &r, why,
	    sizeof(why)), AG_ERR_LIMIT, "(((($)+)+)+)+ (fuzzing): refused");
	is_str(why, "column 8: a repeated anchor or word boundary "
	    "(^ $ \\b \\B \\< \\> in a repeated group)",
	    "repeated anchor: message");
	is_int(ag_rule_parse("a ~ \"((((\\\\b)+)+)+)+\"", &r, why,
	    sizeof(why)), AG_ERR_LIMIT, "((((\\b)+)+)+)+: refused");
	is_int(ag_rule_parse("a ~ \"^+x\"", &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "^+: refused");
	is_int(ag_rule_parse("a ~ \"(a|\\\\<)*\"", &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "an alternative holding \\< repeated: refused");
	ok(parses("a ~ \"(^|,)admin(,|$)\""),
	    "anchors in groups that are not repeated: parse");
	ok(parses("a ~ \"^([a-z]+\\\\.)*corp\\\\.com$\""),
	    "anchors outside the repeated group: parse");
	ok(parses("a ~ \"(x[$^]y)+\""),
	    "'$' and '^' in a bracket expression are no anchors");

	/* Path segments: AG_MAX_RULE_PATH, then one more. */
	ag_buf_init(&b, 1 << 20);
	(void)ag_buf_puts(&b, "exists p");
	for (i = 1; i < AG_MAX_RULE_PATH; i++)
		(void)ag_buf_puts(&b, ".p");
	ok(parses(ag_buf_str(&b)), "AG_MAX_RULE_PATH names: parses");
	(void)ag_buf_puts(&b, ".p");
	is_int(ag_rule_parse(ag_buf_str(&b), &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "AG_MAX_RULE_PATH + 1 names: AG_ERR_LIMIT");
	ag_buf_free(&b);

	/* One claim name: AG_MAX_CLAIM_NAME bytes, then one more. */
	ag_buf_init(&b, 1 << 20);
	(void)ag_buf_puts(&b, "exists ");
	for (i = 0; i < AG_MAX_CLAIM_NAME; i++)
		(void)ag_buf_putc(&b, 'n');
	ok(parses(ag_buf_str(&b)), "AG_MAX_CLAIM_NAME name: parses");
	(void)ag_buf_putc(&b, 'n');
	is_int(ag_rule_parse(ag_buf_str(&b), &r, why, sizeof(why)),
	    AG_ERR_LIMIT, "AG_MAX_CLAIM_NAME + 1 name: AG_ERR_LIMIT");
	ag_buf_free(&b);
}

struct ev {
	const char	*rule;
	int		 want;
};

static void
test_eval(void)
{
	static const struct ev ev[] = {
		/* Equality: exact, case-sensitive, type-strict. */
		{ "email = \"alice@corp.com\"", 1 },
		{ "email = \"ALICE@corp.com\"", 0 },
		{ "email = \"alice@corp.com \"", 0 },
		{ "email != \"bob@corp.com\"", 1 },
		{ "email != \"alice@corp.com\"", 0 },
		{ "sub = \"auth0|alice\"", 1 },
		{ "age = 42", 1 },
		{ "age = \"42\"", 0 },
		{ "big = 1000", 1 },
		{ "half = 3", 0 },
		{ "half != 3", 0 },		/* not an integer: no compare */
		/* Booleans: JSON true only. */
		{ "email_verified = true", 1 },
		{ "email_verified = false", 0 },
		{ "email_verified != false", 1 },
		{ "unverified = true", 0 },
		{ "unverified = false", 1 },
		{ "str_true = true", 0 },
		{ "str_true = \"true\"", 1 },
		{ "age = true", 0 },
		/* Arrays. */
		{ "roles contains \"admin\"", 1 },
		{ "roles contains \"staff\"", 1 },
		{ "roles contains \"Admin\"", 0 },
		{ "roles contains \"adm\"", 0 },
		{ "roles = \"admin\"", 0 },
		{ "email contains \"alice\"", 0 },	/* not an array */
		{ "empty contains \"x\"", 0 },
		{ "mixed contains 1", 1 },
		{ "mixed contains \"1\"", 0 },
		{ "mixed contains \"2\"", 1 },
		{ "mixed contains true", 1 },
		{ "mixed contains false", 0 },
		{ "\"https://example.com/roles\" contains \"eng\"", 1 },
		/* Regular expressions: anchors as written. */
		{ "email ~ \"^[^@]+@corp\\.com$\"", 1 },
		{ "email ~ \"corp\"", 1 },
		{ "email ~ \"^corp\"", 0 },
		{ "email ~ \"^alice@corp\\.co$\"", 0 },
		{ "roles ~ \"admin\"", 0 },		/* not a string */
		{ "with_nul ~ \"adm\"", 0 },		/* NUL inside: absent */
		{ "with_nul = \"adm\"", 0 },
		{ "with_nul != \"adm\"", 0 },
		/* Presence: null is absent. */
		{ "exists email", 1 },
		{ "exists nope", 0 },
		{ "exists nul", 0 },
		{ "exists empty", 1 },
		{ "exists org.tier.level", 1 },
		{ "exists org.tier.level.x", 0 },
		/* Missing claims are never satisfied, not even by !=. */
		{ "nope = \"x\"", 0 },
		{ "nope != \"x\"", 0 },
		{ "nope ~ \".*\"", 0 },
		{ "nope contains \"x\"", 0 },
		{ "nul = \"x\"", 0 },
		{ "nul != \"x\"", 0 },
		{ "not nope = \"x\"", 1 },		/* the negation is literal */
		/* Nested paths and dotted names. */
		{ "org.name = \"Acme\"", 1 },
		{ "org.tier.level = 3", 1 },
		{ "org.name.x = \"Acme\"", 0 },
		{ "a.b = \"nested\"", 1 },
		{ "\"a.b\" = \"dotted\"", 1 },
		{ "\"a.b\" = \"nested\"", 0 },
		{ "a.\"b\" = \"nested\"", 1 },
		{ "\"not\" = \"kw\"", 1 },
		{ "Email = \"X@Y\"", 1 },		/* names are exact */
		{ "EMAIL = \"alice@corp.com\"", 0 },
		/* Groups. */
		{ "roles contains \"admin\" and email_verified = true", 1 },
		{ "roles contains \"admin\" and unverified = true", 0 },
		{ "roles contains \"nope\" or email_verified = true", 1 },
		{ "roles contains \"nope\" or unverified = true", 0 },
		{ "exists nope or exists email and exists nope", 0 },
		{ "(exists nope or exists email) and exists nope", 0 },
		{ "exists email or exists nope and exists nope", 1 },
		{ "not (exists nope or exists nope2)", 1 },
		{ "not exists email", 0 },
		{ NULL, 0 }
	};
	static const struct ev mail[] = {
		/* The corp-mail rule against crafted addresses. */
		{ "{\"email\":\"alice@corp.com\"}", 1 },
		{ "{\"email\":\"a@evil.com@corp.com\"}", 0 },
		{ "{\"email\":\"alice@corp.com.evil.com\"}", 0 },
		{ "{\"email\":\"alice@corpXcom\"}", 0 },
		{ "{\"email\":\"alice@sub.corp.com\"}", 0 },
		{ "{\"email\":\"ALICE@CORP.COM\"}", 0 },
		{ "{\"email\":\"alice@corp.com\\n\"}", 0 },
		{ "{\"email\":\"alice@c\\u043erp.com\"}", 0 },	/* Cyrillic o */
		{ "{\"email\":\"alice@xn--crp-tdd.com\"}", 0 },
		{ "{\"email\":\"alice@corp.com\\u0000@evil.com\"}", 0 },
		{ "{\"email\":[\"alice@corp.com\"]}", 0 },
		{ "{\"email\":null}", 0 },
		{ "{}", 0 },
		{ NULL, 0 }
	};
	const char *corp = "email ~ \"^[^@]+@corp\\.com$\"";
	char name[200];
	size_t i;

	for (i = 0; ev[i].rule != NULL; i++) {
		snprintf(name, sizeof(name), "%s: %s", ev[i].rule,
		    ev[i].want ? "allowed" : "denied");
		is_int(eval_on(CLAIMS, ev[i].rule), ev[i].want, name);
	}
	for (i = 0; mail[i].rule != NULL; i++) {
		snprintf(name, sizeof(name), "corp mail %s: %s", mail[i].rule,
		    mail[i].want ? "allowed" : "denied");
		is_int(eval_on(mail[i].rule, corp), mail[i].want, name);
	}
	/* A NULL rule is met; no claims never are. */
	ok(ag_rule_eval(NULL, NULL) == 1, "NULL rule: met");
	{
		struct ag_rule *r = NULL;

		(void)ag_rule_parse("not exists email", &r, NULL, 0);
		ok(r != NULL && ag_rule_eval(r, NULL) == 0,
		    "no claims: not met, even by a negation");
		ag_rule_free(r);
	}
	ag_rule_free(NULL);
}

static void
test_load(void)
{
	struct ag_conf c;
	struct ag_rules rs;
	struct ag_kv kv[3];
	struct ag_buf p;
	ag_json *claims = NULL;
	char k0[] = "admins", k1[] = "staff", k2[] = "broken";
	char v0[] = "roles contains \"admin\"", v1[] = "roles contains \"staff\"";
	char v2[] = "roles contians \"admin\"";
	char req[] = "email_verified = true";

	memset(&c, 0, sizeof(c));
	ag_buf_init(&p, 64 * 1024);
	kv[0].key = k0;
	kv[0].value = v0;
	kv[1].key = k1;
	kv[1].value = v1;
	kv[2].key = k2;
	kv[2].value = v2;
	c.authorize_require = req;
	c.authorize_rules = kv;
	c.n_authorize_rules = 2;
	is_int(ag_rules_load(&rs, &c, &p), AG_OK, "load: two named rules");
	is_str(ag_buf_str(&p), "", "load: no problems");
	ok(rs.require != NULL, "load: authorize.require parsed");
	ok(ag_rules_find(&rs, "admins") != NULL, "find: admins");
	ok(ag_rules_find(&rs, "staff") != NULL, "find: staff");
	ok(ag_rules_find(&rs, "Admins") == NULL, "find: names are exact");
	ok(ag_rules_find(&rs, "") == NULL, "find: empty name");
	ok(ag_rules_find(&rs, NULL) == NULL, "find: NULL");
	{
		static const char j[] = "{\"roles\":[\"staff\"],"
		    "\"email_verified\":true}";

		(void)ag_json_parse_object(j, strlen(j), 1024, &claims);
	}
	ok(ag_rule_eval(rs.require, claims) == 1, "require met");
	ok(ag_rule_eval(ag_rules_find(&rs, "staff"), claims) == 1,
	    "staff met");
	ok(ag_rule_eval(ag_rules_find(&rs, "admins"), claims) == 0,
	    "admins not met");
	ag_json_free(claims);
	ag_rules_free(&rs);
	ag_rules_free(NULL);

	/* A rule that does not parse: the key, the position, the text. */
	c.n_authorize_rules = 3;
	is_int(ag_rules_load(&rs, &c, &p), AG_ERR_CONFIG,
	    "load: a bad rule is AG_ERR_CONFIG");
	is_str(ag_buf_str(&p), "authorize.rule.broken: column 7: expected "
	    "'=', '!=', '~' or 'contains', found 'contians' in 'roles "
	    "contians \"admin\"'\n", "load: the problem line");
	ok(rs.n == 0 && rs.require == NULL, "load: nothing kept on failure");
	ag_buf_reset(&p);
	c.n_authorize_rules = 0;
	c.authorize_require = v2;
	is_int(ag_rules_load(&rs, &c, &p), AG_ERR_CONFIG,
	    "load: a bad authorize.require");
	is_str(ag_buf_str(&p), "authorize.require: column 7: expected '=', "
	    "'!=', '~' or 'contains', found 'contians' in 'roles contians "
	    "\"admin\"'\n", "load: authorize.require problem line");

	/* No rules at all: every request passes the (empty) check. */
	c.authorize_require = NULL;
	ag_buf_reset(&p);
	is_int(ag_rules_load(&rs, &c, &p), AG_OK, "load: no rules");
	ok(rs.require == NULL && rs.n == 0, "load: nothing");
	ag_rules_free(&rs);
	ag_buf_free(&p);
}

/* authorize.rule.NAME through the configuration parser. */
static void
test_conf(void)
{
	static const char base[] =
	    "issuer = https://op.example.com/\n"
	    "client_id = c\nclient_secret = s\n"
	    "secret = 0123456789abcdef0123456789abcdef\n"
	    "app_base_url = https://app.example.com\n";
	char *const noenv[] = { NULL };
	struct ag_conf c;
	struct ag_buf t, p;

	ag_buf_init(&t, 64 * 1024);
	ag_buf_init(&p, 64 * 1024);
	(void)ag_buf_printf(&t, "%sauthorize.rule.admins = roles contains "
	    "\"admin\"\nauthorize.rule.it-staff_2 = \"a.b\" = \"x\"\n", base);
	is_int(ag_conf_parse(&c, t.data, t.len, noenv, &p), AG_OK,
	    "conf: authorize.rule.NAME accepted");
	is_int(c.n_authorize_rules, 2, "conf: two named rules");
	if (c.n_authorize_rules == 2) {
		is_str(c.authorize_rules[0].key, "admins", "conf: name");
		is_str(c.authorize_rules[0].value, "roles contains \"admin\"",
		    "conf: text as written");
		is_str(c.authorize_rules[1].value, "\"a.b\" = \"x\"",
		    "conf: inner quotes kept");
	}
	ag_conf_free(&c);

	ag_buf_reset(&t);
	ag_buf_reset(&p);
	(void)ag_buf_printf(&t, "%sauthorize.rule.a = exists x\n"
	    "authorize.rule.a = exists y\nauthorize.rule.b/c = exists x\n",
	    base);
	is_int(ag_conf_parse(&c, t.data, t.len, noenv, &p), AG_ERR_CONFIG,
	    "conf: duplicate and bad names refused");
	is_str(ag_buf_str(&p), "line 7: duplicate key 'authorize.rule.a'\n"
	    "line 8: bad rule name 'b/c'\n", "conf: their problems");
	ag_conf_free(&c);
	ag_buf_free(&t);
	ag_buf_free(&p);
}

/* ag_rules_warnings: claims a rule tests that claims.keep drops. */
static void
test_warnings(void)
{
	static const char base[] =
	    "issuer = https://op.example.com/\n"
	    "client_id = c\nclient_secret = s\n"
	    "secret = 0123456789abcdef0123456789abcdef\n"
	    "app_base_url = https://app.example.com\n"
	    "authorize.require = email_verified = true and exists email\n"
	    "authorize.rule.admins = roles contains \"admin\" or "
	    "(roles contains \"root\" and org.name = \"x\") or "
	    "\"https://x.example/roles\" contains \"a\"\n"
	    "authorize.rule.me = sub = \"alice\" and not (org_id = \"o\")\n";
	char *const noenv[] = { NULL };
	struct ag_conf c;
	struct ag_rules rs;
	struct ag_buf t, p, w;

	ag_buf_init(&t, 64 * 1024);
	ag_buf_init(&p, 64 * 1024);
	ag_buf_init(&w, 64 * 1024);
	/* The default claims.keep: sub, email, email_verified, org_id ... */
	(void)ag_buf_puts(&t, base);
	is_int(ag_conf_parse(&c, t.data, t.len, noenv, &p), AG_OK,
	    "warnings: conf");
	is_int(ag_rules_load(&rs, &c, &p), AG_OK, "warnings: rules");
	is_int(ag_rules_warnings(&rs, &c, &w), AG_OK, "warnings: AG_OK");
	is_str(ag_buf_str(&w),
	    "authorize.rule.admins: claim 'roles' is not in claims.keep; the "
	    "session does not store it, so the rule never sees it\n"
	    "authorize.rule.admins: claim 'org' is not in claims.keep; the "
	    "session does not store it, so the rule never sees it\n"
	    "authorize.rule.admins: claim 'https://x.example/roles' is not in "
	    "claims.keep; the session does not store it, so the rule never "
	    "sees it\n", "warnings: default claims.keep, each name once");
	ag_rules_free(&rs);
	ag_conf_free(&c);

	/* claims.keep that keeps what the rules test, but email. */
	ag_buf_reset(&t);
	ag_buf_reset(&w);
	(void)ag_buf_printf(&t, "%sclaims.keep = sub email_verified roles org "
	    "https://x.example/roles org_id\n", base);
	is_int(ag_conf_parse(&c, t.data, t.len, noenv, &p), AG_OK,
	    "warnings: conf with claims.keep");
	is_int(ag_rules_load(&rs, &c, &p), AG_OK, "warnings: rules again");
	is_int(ag_rules_warnings(&rs, &c, &w), AG_OK, "warnings: AG_OK again");
	is_str(ag_buf_str(&w), "authorize.require: claim 'email' is not in "
	    "claims.keep; the session does not store it, so the rule never "
	    "sees it\n", "warnings: only email");
	ag_rules_free(&rs);

	/* No rules: nothing to say. */
	ag_buf_reset(&w);
	memset(&rs, 0, sizeof(rs));
	is_int(ag_rules_warnings(&rs, &c, &w), AG_OK, "warnings: no rules");
	is_str(ag_buf_str(&w), "", "warnings: none");
	ag_conf_free(&c);
	ag_buf_free(&t);
	ag_buf_free(&p);
	ag_buf_free(&w);
}

int
main(void)
{
	test_constructs();
	test_errors();
	test_limits();
	test_eval();
	test_load();
	test_conf();
	test_warnings();
	return tap_done();
}
