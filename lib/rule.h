/*
 * rule.h -- authorization rules on a session's claims (authorize.require,
 * authorize.rule.NAME; see authgate.conf(5), AUTHORIZATION RULES).
 *
 *	rule	:= or
 *	or	:= and { "or" and }
 *	and	:= unary { "and" unary }
 *	unary	:= "not" unary | "(" rule ")" | "exists" path | path op value
 *	op	:= "=" | "==" | "!=" | "~" | "contains"
 *	value	:= "string" | integer | true | false
 *	path	:= segment { "." segment }
 *	segment	:= bare word [A-Za-z0-9_$:/+@-]+ | "quoted name"
 *
 * A rule is parsed once (regular expressions compiled then) and
 * evaluated per request.  Anything missing, null or of another type
 * than the test wants is "not satisfied"; evaluation never fails.
 */
#ifndef AG_RULE_H
#define AG_RULE_H

#include <stddef.h>

#include "buf.h"
#include "json.h"

struct ag_conf;
struct ag_rule;

/*
 * Parse text (NUL-terminated, at most AG_MAX_RULE_LEN bytes).  AG_OK
 * with *out (the caller frees it with ag_rule_free).  On failure *out
 * is NULL and why (whylen bytes, may be 0) says "column N: expected
 * ..."; AG_ERR_PARSE for a syntax error or a bad regular expression,
 * AG_ERR_LIMIT when a bound of ag_limits.h is passed, AG_ERR_NOMEM.
 */
int	 ag_rule_parse(const char *text, struct ag_rule **out, char *why,
	    size_t whylen);
/* Release a rule and its compiled expressions.  NULL safe. */
void	 ag_rule_free(struct ag_rule *);
/*
 * 1 when the claims (a JSON object, borrowed; NULL: none) satisfy the
 * rule, else 0.  A NULL rule is satisfied.
 */
int	 ag_rule_eval(const struct ag_rule *, const ag_json *claims);

/* The rules of a configuration: the global one and the named ones. */
struct ag_rules {
	struct ag_rule	 *require;	/* authorize.require, or NULL */
	char		**names;	/* authorize.rule.NAME, owned */
	struct ag_rule	**named;	/* their rules, owned */
	size_t		  n;
};

/*
 * Parse every rule of conf into rules.  Each failure is appended to
 * problems as "KEY: column N: expected ... in 'RULE'\n".  AG_OK, or
 * AG_ERR_CONFIG when a rule does not parse (rules then holds none),
 * AG_ERR_NOMEM.
 */
int	 ag_rules_load(struct ag_rules *, const struct ag_conf *,
	    struct ag_buf *problems);
/* Release every rule.  NULL safe. */
void	 ag_rules_free(struct ag_rules *);
/*
 * Append to out one line per claim that a rule of rules tests but whose
 * top-level name claims.keep of conf does not keep -- the session never
 * stores it, so the test never sees it -- as "KEY: claim 'NAME' is not
 * in claims.keep; ...\n", each name once per rule.  Nothing for a rule
 * that only tests kept claims.  AG_OK, or AG_ERR_NOMEM / AG_ERR_LIMIT
 * from out.
 */
int	 ag_rules_warnings(const struct ag_rules *, const struct ag_conf *,
	    struct ag_buf *out);
/* The named rule (borrowed), or NULL when there is none of that name. */
const struct ag_rule *ag_rules_find(const struct ag_rules *, const char *name);

#endif
