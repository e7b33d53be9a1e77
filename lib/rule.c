/*
 * rule.c -- authorization rules on claims.  See rule.h and the section
 * AUTHORIZATION RULES of authgate.conf(5).
 *
 * A rule is a tree of nodes in one fixed array (at most
 * AG_MAX_RULE_NODES), built by a recursive-descent parser whose
 * recursion is bounded by AG_MAX_RULE_DEPTH; AND and OR nodes are
 * binary, so evaluation recurses at most AG_MAX_RULE_NODES deep.
 * Regular expressions are compiled at parse time (REG_EXTENDED |
 * REG_NOSUB) and only executed per request.
 *
 * Evaluation is total: a missing claim, a JSON null, a value of another
 * type than the test's, a string holding a NUL byte -- each is "not
 * satisfied" for =, !=, ~ and contains, and "absent" for exists.
 */
#include <sys/types.h>

#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_limits.h"
#include "conf.h"
#include "err.h"
#include "rule.h"

enum ntype { N_AND, N_OR, N_NOT, N_EXISTS, N_EQ, N_NE, N_MATCH, N_CONTAINS };
enum vtype { V_STR, V_INT, V_BOOL };

struct node {
	enum ntype	 type;
	size_t		 a, b;			/* children: AND, OR; NOT: a */
	char		*seg[AG_MAX_RULE_PATH];	/* the claim path */
	size_t		 nseg;
	enum vtype	 vt;			/* the value compared with */
	char		*s;			/* V_STR (owned) */
	size_t		 slen;
	int64_t		 i;			/* V_INT; V_BOOL 0 or 1 */
	regex_t		 re;			/* N_MATCH */
	int		 has_re;
};

struct ag_rule {
	struct node	 node[AG_MAX_RULE_NODES];
	size_t		 n;
	size_t		 root;
	size_t		 nregex;
};

enum tok { T_END, T_LP, T_RP, T_DOT, T_EQ, T_NE, T_MATCH, T_STR, T_WORD,
	T_BAD };

struct parser {
	const char	*text;
	size_t		 pos;		/* next byte to lex */
	enum tok	 t;		/* the current token */
	size_t		 tpos, tlen;	/* its bytes in text */
	char		*str;		/* T_STR decoded (owned) */
	size_t		 slen;
	struct ag_rule	*r;
	size_t		 depth;
	int		 err;		/* the first error, or AG_OK */
	char		*why;
	size_t		 whylen;
};

static int
is_word(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '$' || ch == ':' ||
	    ch == '/' || ch == '+' || ch == '@' || ch == '-';
}

/* Record the first error: "column N: " + the message. */
static void	fail(struct parser *, int, size_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static void
fail(struct parser *p, int err, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err != AG_OK)
		return;
	p->err = err;
	if (p->whylen == 0)
		return;
	n = snprintf(p->why, p->whylen, "column %zu: ", pos + 1);
	if (n < 0 || (size_t)n >= p->whylen)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(p->why + n, p->whylen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* "the end" or 'TOKEN', for "found ..." in a message. */
static void
found(const struct parser *p, char *dst, size_t dstsz)
{
	char tok[AG_CONF_QUOTE_SIZE];

	if (p->t == T_END) {
		(void)snprintf(dst, dstsz, "the end");
		return;
	}
	ag_conf_quote(tok, sizeof(tok), p->text + p->tpos, p->tlen);
	(void)snprintf(dst, dstsz, "'%s'", tok);
}

static void
expected(struct parser *p, const char *what)
{
	char f[AG_CONF_QUOTE_SIZE + 16];

	found(p, f, sizeof(f));
	fail(p, AG_ERR_PARSE, p->tpos, "expected %s, found %s", what, f);
}

/* The next token into p->t. */
static void
lex(struct parser *p)
{
	const char *s = p->text;
	size_t i, j;

	free(p->str);
	p->str = NULL;
	while (s[p->pos] == ' ' || s[p->pos] == '\t')
		p->pos++;
	p->tpos = i = p->pos;
	p->tlen = 1;
	switch (s[i]) {
	case '\0':
		p->t = T_END;
		p->tlen = 0;
		return;
	case '(':
		p->t = T_LP;
		break;
	case ')':
		p->t = T_RP;
		break;
	case '.':
		p->t = T_DOT;
		break;
	case '~':
		p->t = T_MATCH;
		break;
	case '=':
		p->t = T_EQ;
		if (s[i + 1] == '=')
			p->tlen = 2;
		break;
	case '!':
		p->t = s[i + 1] == '=' ? T_NE : T_BAD;
		p->tlen = s[i + 1] == '=' ? 2 : 1;
		break;
	case '"':
		/* \" is a quote, \\ a backslash; other backslashes stay. */
		for (j = i + 1; s[j] != '\0' && s[j] != '"'; j++)
			if (s[j] == '\\' && (s[j + 1] == '"' || s[j + 1] == '\\'))
				j++;
		if (s[j] != '"') {
			p->t = T_BAD;
			p->tlen = j - i;
			fail(p, AG_ERR_PARSE, i, "unterminated string");
			return;
		}
		if ((p->str = malloc(j - i)) == NULL) {
			p->t = T_BAD;
			fail(p, AG_ERR_NOMEM, i, "out of memory");
			return;
		}
		p->slen = 0;
		for (i++; i < j; i++) {
			if (s[i] == '\\' && (s[i + 1] == '"' || s[i + 1] == '\\'))
				i++;
			p->str[p->slen++] = s[i];
		}
		p->str[p->slen] = '\0';
		p->t = T_STR;
		p->tlen = j + 1 - p->tpos;
		break;
	default:
		if (!is_word((unsigned char)s[i])) {
			p->t = T_BAD;
			break;
		}
		for (j = i; is_word((unsigned char)s[j]); j++)
			;
		p->t = T_WORD;
		p->tlen = j - i;
		break;
	}
	p->pos = p->tpos + p->tlen;
}

/* 1 when the current token is the bare word w. */
static int
word(const struct parser *p, const char *w)
{
	return p->t == T_WORD && strlen(w) == p->tlen &&
	    memcmp(p->text + p->tpos, w, p->tlen) == 0;
}

/* A new node, or NULL (error recorded). */
static struct node *
node_new(struct parser *p, enum ntype type, size_t *idx)
{
	struct node *n;

	if (p->r->n >= AG_MAX_RULE_NODES) {
		fail(p, AG_ERR_LIMIT, p->tpos, "more than %d tests and "
		    "operators", AG_MAX_RULE_NODES);
		return NULL;
	}
	*idx = p->r->n++;
	n = &p->r->node[*idx];
	n->type = type;
	return n;
}

/* path := segment { "." segment } into n->seg. */
static void
parse_path(struct parser *p, struct node *n)
{
	for (;;) {
		if (p->t == T_STR && p->slen == 0) {
			fail(p, AG_ERR_PARSE, p->tpos, "empty claim name");
			return;
		}
		if (p->t != T_STR && p->t != T_WORD) {
			expected(p, "a claim name");
			return;
		}
		if (n->nseg >= AG_MAX_RULE_PATH) {
			fail(p, AG_ERR_LIMIT, p->tpos, "a claim path of more "
			    "than %d names", AG_MAX_RULE_PATH);
			return;
		}
		if ((p->t == T_STR ? p->slen : p->tlen) > AG_MAX_CLAIM_NAME) {
			fail(p, AG_ERR_LIMIT, p->tpos, "a claim name longer "
			    "than %d bytes", AG_MAX_CLAIM_NAME);
			return;
		}
		if (p->t == T_STR) {
			n->seg[n->nseg] = p->str;
			p->str = NULL;
		} else
			n->seg[n->nseg] = strndup(p->text + p->tpos, p->tlen);
		if (n->seg[n->nseg++] == NULL) {
			fail(p, AG_ERR_NOMEM, p->tpos, "out of memory");
			return;
		}
		lex(p);
		if (p->t != T_DOT)
			return;
		lex(p);
	}
}

/* An integer literal: -?[0-9]{1,18}.  -1 when the word is not one. */
static int
integer(const struct parser *p, int64_t *out)
{
	const char *s = p->text + p->tpos;
	size_t i = 0, n = p->tlen;
	int64_t v = 0;

	if (n > 0 && s[0] == '-')
		i++;
	if (i == n || n - i > 18)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = s[0] == '-' ? -v : v;
	return 0;
}

/*
 * The copies glibc's regcomp() makes of what a quantifier repeats: the
 * largest count in "{m,n}" (one more for "{m,}"), 2 for '+', 1 for
 * '*' and '?'.  *i is at the quantifier and is left at its last byte.
 */
static size_t
quant_copies(const char *re, size_t len, size_t *i)
{
	size_t m = 0, k, max = 0;
	int open = 0;

	if (re[*i] != '{')
		return re[*i] == '+' ? 2 : 1;
	while (++*i < len && re[*i] != '}') {
		if (re[*i] >= '0' && re[*i] <= '9') {
			k = m * 10 + (size_t)(re[*i] - '0');
			m = k > AG_MAX_RULE_REGEX_REPEAT + 1 ?
			    AG_MAX_RULE_REGEX_REPEAT + 2 : k;
			open = 0;
		} else {
			max = m > max ? m : max;
			m = 0;
			open = re[*i] == ',';
		}
	}
	max = m > max ? m : max;
	if (open)
		max++;
	return max > 0 ? max : 1;
}

/*
 * A guard before regcomp(): at most AG_MAX_RULE_REGEX_LEN bytes, no
 * quantifier right after another ("a**", "a+{2}"), and at most
 * AG_MAX_RULE_REGEX_REPEAT extra copies made by repetition, where
 * nested repetitions multiply: "(a{9}){9}" makes 80 ("(a{9}){9}){9}"
 * 728) because regcomp() copies the repeated tree per count.  Each
 * group's size (its atoms after repetition) is kept on a stack; a
 * quantifier on an operand of size s with c copies adds (c - 1) * s.
 * NULL when the pattern passes, else what is wrong.
 */
static const char *
regex_guard(const char *re, size_t len)
{
	size_t group[AG_MAX_RULE_REGEX_LEN + 1];
	unsigned char zw[AG_MAX_RULE_REGEX_LEN + 1];
	size_t i, depth = 0, last = 0, extra = 0, c;
	int quant = 0, last_zw = 0;

	if (len > AG_MAX_RULE_REGEX_LEN)
		return "a regular expression longer than "
		    "256 bytes";
	group[0] = 0;
	zw[0] = 0;
	for (i = 0; i < len; i++) {
		if (strchr("*+?{", re[i]) != NULL) {
			if (quant)
				return "a quantifier after a quantifier";
			/*
			 * glibc's regcomp takes exponential time on
			 * repeated zero-width assertions: ((((\b)+)+)+)+
			 * runs for minutes.  They mean nothing repeated.
			 */
			if (last_zw)
				return "a repeated anchor or word boundary "
				    "(^ $ \\b \\B \\< \\> in a repeated group)";
			quant = 1;
			c = quant_copies(re, len, &i);
			extra += (c - 1) * last;
			if (extra > AG_MAX_RULE_REGEX_REPEAT)
				return "repetitions making more than 64 "
				    "copies in all";
			group[depth] += (c - 1) * last;
			last *= c;
			continue;
		}
		quant = 0;
		last_zw = 0;
		if (re[i] == '(') {
			group[++depth] = 0;
			zw[depth] = 0;
			last = 0;
			continue;
		} else if (re[i] == ')' && depth > 0) {
			last = group[depth];
			last_zw = zw[depth--];
			group[depth] += last;
			zw[depth] |= last_zw;
			continue;
		} else if (re[i] == '|') {
			last = 0;
			continue;
		} else if (re[i] == '^' || re[i] == '$')
			last_zw = zw[depth] = 1;
		else if (re[i] == '\\') {
			if (i + 1 < len && strchr("bB<>`'", re[i + 1]) != NULL)
				last_zw = zw[depth] = 1;
			i++;
		} else if (re[i] == '[') {
			/* A bracket expression: ']' first is a member. */
			i += re[i + 1] == '^' ? 2 : 1;
			if (re[i] == ']')
				i++;
			while (i < len && re[i] != ']')
				i++;
		}
		last = 1;
		group[depth]++;
	}
	return NULL;
}

/* value := "string" | integer | true | false, into n. */
static void
parse_value(struct parser *p, struct node *n)
{
	const char *guard;
	int rc;
	char msg[128];

	if (n->type == N_MATCH) {
		if (p->t != T_STR) {
			expected(p, "a regular expression in double quotes");
			return;
		}
		if (p->r->nregex >= AG_MAX_RULE_REGEX) {
			fail(p, AG_ERR_LIMIT, p->tpos, "more than %d regular "
			    "expressions", AG_MAX_RULE_REGEX);
			return;
		}
		if ((guard = regex_guard(p->str, p->slen)) != NULL) {
			fail(p, AG_ERR_LIMIT, p->tpos, "%s", guard);
			return;
		}
		if ((rc = regcomp(&n->re, p->str, REG_EXTENDED | REG_NOSUB)) !=
		    0) {
			(void)regerror(rc, &n->re, msg, sizeof(msg));
			fail(p, rc == REG_ESPACE ? AG_ERR_NOMEM : AG_ERR_PARSE,
			    p->tpos, "bad regular expression: %s", msg);
			return;
		}
		n->has_re = 1;
		p->r->nregex++;
	}
	if (p->t == T_STR) {
		n->vt = V_STR;
		n->s = p->str;
		n->slen = p->slen;
		p->str = NULL;
	} else if (word(p, "true") || word(p, "false")) {
		n->vt = V_BOOL;
		n->i = word(p, "true");
	} else if (p->t == T_WORD && integer(p, &n->i) == 0)
		n->vt = V_INT;
	else {
		expected(p, "a value (a string in double quotes, an integer, "
		    "true or false)");
		return;
	}
	lex(p);
}

static size_t	parse_or(struct parser *);

/* unary := "not" unary | "(" rule ")" | "exists" path | path op value */
static size_t
parse_unary(struct parser *p)
{
	struct node *n;
	size_t idx = 0, a;
	int is_lp;

	if (p->err != AG_OK)
		return 0;
	if (p->t == T_LP || word(p, "not")) {
		is_lp = p->t == T_LP;
		if (++p->depth > AG_MAX_RULE_DEPTH) {
			fail(p, AG_ERR_LIMIT, p->tpos, "nested deeper than %d",
			    AG_MAX_RULE_DEPTH);
			return 0;
		}
		lex(p);
		if (is_lp) {
			idx = parse_or(p);
			if (p->err == AG_OK && p->t != T_RP)
				expected(p, "'and', 'or' or ')'");
			if (p->err == AG_OK)
				lex(p);
		} else {
			a = parse_unary(p);
			if (p->err == AG_OK &&
			    (n = node_new(p, N_NOT, &idx)) != NULL)
				n->a = a;
		}
		p->depth--;
		return idx;
	}
	if (word(p, "exists")) {
		lex(p);
		if ((n = node_new(p, N_EXISTS, &idx)) != NULL)
			parse_path(p, n);
		return idx;
	}
	if (word(p, "and") || word(p, "or") || (p->t != T_WORD &&
	    p->t != T_STR)) {
		expected(p, "a claim name, 'not', 'exists' or '('");
		return 0;
	}
	if ((n = node_new(p, N_EQ, &idx)) == NULL)
		return 0;
	parse_path(p, n);
	if (p->err != AG_OK)
		return 0;
	if (p->t == T_EQ)
		n->type = N_EQ;
	else if (p->t == T_NE)
		n->type = N_NE;
	else if (p->t == T_MATCH)
		n->type = N_MATCH;
	else if (word(p, "contains"))
		n->type = N_CONTAINS;
	else {
		expected(p, "'=', '!=', '~' or 'contains'");
		return 0;
	}
	lex(p);
	parse_value(p, n);
	return idx;
}

/* and := unary { "and" unary };  or := and { "or" and } */
static size_t
parse_chain(struct parser *p, int is_or)
{
	struct node *n;
	size_t a, b, idx;

	a = is_or ? parse_chain(p, 0) : parse_unary(p);
	while (p->err == AG_OK && word(p, is_or ? "or" : "and")) {
		lex(p);
		b = is_or ? parse_chain(p, 0) : parse_unary(p);
		if (p->err != AG_OK ||
		    (n = node_new(p, is_or ? N_OR : N_AND, &idx)) == NULL)
			break;
		n->a = a;
		n->b = b;
		a = idx;
	}
	return a;
}

static size_t
parse_or(struct parser *p)
{
	return parse_chain(p, 1);
}

int
ag_rule_parse(const char *text, struct ag_rule **out, char *why,
    size_t whylen)
{
	struct parser p;
	size_t len;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.why = why;
	p.whylen = whylen;
	if (whylen > 0)
		why[0] = '\0';
	if ((len = strnlen(text, AG_MAX_RULE_LEN + 1)) > AG_MAX_RULE_LEN) {
		fail(&p, AG_ERR_LIMIT, AG_MAX_RULE_LEN, "a rule longer than "
		    "%d bytes", AG_MAX_RULE_LEN);
		return p.err;
	}
	if ((p.r = calloc(1, sizeof(*p.r))) == NULL) {
		fail(&p, AG_ERR_NOMEM, 0, "out of memory");
		return p.err;
	}
	lex(&p);
	p.r->root = parse_or(&p);
	if (p.err == AG_OK && p.t != T_END)
		expected(&p, "'and', 'or' or the end");
	free(p.str);
	if (p.err != AG_OK) {
		ag_rule_free(p.r);
		return p.err;
	}
	*out = p.r;
	return AG_OK;
}

void
ag_rule_free(struct ag_rule *r)
{
	struct node *n;
	size_t i, k;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		n = &r->node[i];
		for (k = 0; k < n->nseg; k++)
			free(n->seg[k]);
		free(n->s);
		if (n->has_re)
			regfree(&n->re);
	}
	free(r);
}

/* The claim at n's path, or NULL (absent, or a JSON null). */
static const ag_json *
lookup(const struct node *n, const ag_json *claims)
{
	const ag_json *v = claims;
	size_t i;

	for (i = 0; i < n->nseg && v != NULL; i++)
		v = ag_json_get(v, n->seg[i]);
	return ag_json_type(v) == AG_JSON_NULL ? NULL : v;
}

/* 1: v equals n's value; 0: it does not; -1: not comparable. */
static int
value_eq(const struct node *n, const ag_json *v)
{
	enum ag_json_type t = ag_json_type(v);
	int64_t i;

	switch (n->vt) {
	case V_STR:
		if (t != AG_JSON_STRING || ag_json_str(v) == NULL)
			return -1;
		return ag_json_str_len(v) == n->slen &&
		    memcmp(ag_json_str(v), n->s, n->slen) == 0;
	case V_INT:
		if ((t != AG_JSON_INT && t != AG_JSON_DOUBLE) ||
		    ag_json_to_int(v, &i) != AG_OK)
			return -1;
		return i == n->i;
	case V_BOOL:
		if (t != AG_JSON_BOOL)
			return -1;
		return ag_json_to_bool(v) == (int)n->i;
	}
	return -1;
}

static int
eval(const struct ag_rule *r, size_t idx, const ag_json *claims)
{
	const struct node *n = &r->node[idx];
	const ag_json *v;
	const char *s;
	size_t i, len;

	switch (n->type) {
	case N_AND:
		return eval(r, n->a, claims) && eval(r, n->b, claims);
	case N_OR:
		return eval(r, n->a, claims) || eval(r, n->b, claims);
	case N_NOT:
		return !eval(r, n->a, claims);
	default:
		break;
	}
	if ((v = lookup(n, claims)) == NULL)
		return 0;
	switch (n->type) {
	case N_EXISTS:
		return 1;
	case N_EQ:
		return value_eq(n, v) == 1;
	case N_NE:
		return value_eq(n, v) == 0;
	case N_MATCH:
		return ag_json_type(v) == AG_JSON_STRING &&
		    (s = ag_json_str(v)) != NULL &&
		    regexec(&n->re, s, 0, NULL, 0) == 0;
	case N_CONTAINS:
		if (ag_json_type(v) != AG_JSON_ARRAY)
			return 0;
		len = ag_json_array_len(v);
		for (i = 0; i < len; i++)
			if (value_eq(n, ag_json_array_get(v, i)) == 1)
				return 1;
		return 0;
	default:
		return 0;
	}
}

int
ag_rule_eval(const struct ag_rule *r, const ag_json *claims)
{
	if (r == NULL)
		return 1;
	if (r->n == 0 || ag_json_type(claims) != AG_JSON_OBJECT)
		return 0;
	return eval(r, r->root, claims);
}

/* Parse one rule of the configuration; a problem line on failure. */
static int
load_one(const char *key, const char *name, const char *text,
    struct ag_rule **out, struct ag_buf *problems)
{
	char why[256], q[AG_CONF_QUOTE_SIZE];
	int r;

	if ((r = ag_rule_parse(text, out, why, sizeof(why))) == AG_OK)
		return AG_OK;
	ag_conf_quote(q, sizeof(q), text, strlen(text));
	(void)ag_buf_printf(problems, "%s%s: %s in '%s'\n", key,
	    name != NULL ? name : "", why, q);
	return r == AG_ERR_NOMEM ? r : AG_ERR_CONFIG;
}

int
ag_rules_load(struct ag_rules *rs, const struct ag_conf *c,
    struct ag_buf *problems)
{
	const struct ag_kv *kv;
	size_t i;
	int r, bad = 0;

	memset(rs, 0, sizeof(*rs));
	if (c->authorize_require != NULL &&
	    (r = load_one("authorize.require", NULL, c->authorize_require,
	    &rs->require, problems)) != AG_OK) {
		if (r == AG_ERR_NOMEM)
			goto fail;
		bad = 1;
	}
	if (c->n_authorize_rules > AG_MAX_NAMED_RULES) {
		(void)ag_buf_printf(problems, "authorize.rule: more than %d "
		    "named rules\n", AG_MAX_NAMED_RULES);
		r = AG_ERR_CONFIG;
		goto fail;
	}
	if (c->n_authorize_rules > 0 &&
	    ((rs->names = calloc(c->n_authorize_rules,
	    sizeof(*rs->names))) == NULL ||
	    (rs->named = calloc(c->n_authorize_rules,
	    sizeof(*rs->named))) == NULL)) {
		r = AG_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < c->n_authorize_rules; i++) {
		kv = &c->authorize_rules[i];
		if (strlen(kv->key) > AG_MAX_RULE_NAME) {
			(void)ag_buf_printf(problems, "authorize.rule: a rule "
			    "name longer than %d bytes\n", AG_MAX_RULE_NAME);
			bad = 1;
			continue;
		}
		if ((rs->names[rs->n] = strdup(kv->key)) == NULL) {
			r = AG_ERR_NOMEM;
			goto fail;
		}
		r = load_one("authorize.rule.", kv->key, kv->value,
		    &rs->named[rs->n], problems);
		rs->n++;
		if (r == AG_ERR_NOMEM)
			goto fail;
		bad |= r != AG_OK;
	}
	if (!bad)
		return AG_OK;
	r = AG_ERR_CONFIG;
fail:
	ag_rules_free(rs);
	return r;
}

/* 1 when list holds name (byte for byte). */
static int
listed(const struct ag_strlist *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (list->v[i] != NULL && strcmp(list->v[i], name) == 0)
			return 1;
	return 0;
}

/* The warnings of one rule (ag_rules_warnings). */
static int
warn_unkept(const struct ag_rule *rule, const char *key, const char *name,
    const struct ag_strlist *keep, struct ag_buf *out)
{
	const char *claim;
	size_t i, j;
	int r;

	if (rule == NULL)
		return AG_OK;
	for (i = 0; i < rule->n; i++) {
		if (rule->node[i].nseg == 0)
			continue;
		claim = rule->node[i].seg[0];
		if (listed(keep, claim))
			continue;
		for (j = 0; j < i; j++)
			if (rule->node[j].nseg > 0 &&
			    strcmp(rule->node[j].seg[0], claim) == 0)
				break;
		if (j < i)
			continue;
		if ((r = ag_buf_printf(out, "%s%s: claim '%.*s' is not in "
		    "claims.keep; the session does not store it, so the "
		    "rule never sees it\n", key, name != NULL ? name : "",
		    AG_MAX_CLAIM_NAME, claim)) != AG_OK)
			return r;
	}
	return AG_OK;
}

int
ag_rules_warnings(const struct ag_rules *rs, const struct ag_conf *c,
    struct ag_buf *out)
{
	size_t i;
	int r;

	if ((r = warn_unkept(rs->require, "authorize.require", NULL,
	    &c->claims_keep, out)) != AG_OK)
		return r;
	for (i = 0; i < rs->n; i++)
		if ((r = warn_unkept(rs->named[i], "authorize.rule.",
		    rs->names[i], &c->claims_keep, out)) != AG_OK)
			return r;
	return AG_OK;
}

void
ag_rules_free(struct ag_rules *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	ag_rule_free(rs->require);
	for (i = 0; i < rs->n; i++) {
		free(rs->names[i]);
		ag_rule_free(rs->named[i]);
	}
	free(rs->names);
	free(rs->named);
	memset(rs, 0, sizeof(*rs));
}

const struct ag_rule *
ag_rules_find(const struct ag_rules *rs, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < rs->n; i++)
		if (strcmp(rs->names[i], name) == 0)
			return rs->named[i];
	return NULL;
}
