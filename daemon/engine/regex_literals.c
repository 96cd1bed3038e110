/*
 * regex_literals: a recursive-descent reading of PCRE2's syntax that keeps,
 * for each piece of a pattern, what it knows of the strings the piece
 * matches (regex_literals.h says what it promises).
 *
 * A piece is EXACT when the whole set of its strings is small and known
 * (`colou?r` is {colour, color}), REQUIRED when every match contains one
 * of a set (`\bcheap\s+pills` contains "cheap"), or NONE.  Sequences
 * multiply exact sets while they stay small, then keep the best required
 * set seen; alternatives unite their sets.  Only the syntax the daemon's
 * PCRE2 (10.42, UTF | UCP) reads the same way here is taken: anything else
 * (backreferences, recursion, verbs, conditionals, \g, octal, a `{` that
 * is not a quantifier, a quantifier after whitespace after a quantifier)
 * gives up on the whole pattern, which then runs on every text.
 *
 * Case: the literals are folded to ASCII lower case and the text is
 * scanned the same way, which can only find more.  Caseless, an ASCII
 * letter also matches the non-ASCII letters Unicode folds together with
 * it; those are k (KELVIN SIGN, U+212A) and s (LATIN SMALL LETTER LONG S,
 * U+017F), and both forms are kept (tests/unit/test_regex_literals.c
 * checks the list against PCRE2 itself).  A non-ASCII character of a
 * caseless pattern is not known (NONE).  An `(?i)` anywhere makes the
 * whole pattern caseless here.
 */
#include "regex_literals_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define DEPTH_MAX	64	/* groups within groups */

static int	parse_alt(struct parse *, bool, struct info *);

/* An escape outside a class, after its backslash. */
static int
parse_escape(struct parse *ps, struct info *out, enum item *item)
{
	char b[4], e;
	size_t len;

	memset(out, 0, sizeof *out);
	*item = ITEM_ATOM;
	if (ps->p == ps->end)
		return -1;
	switch (escaped_char(ps, false, b, &len)) {
	case 1:
		literal_char(ps, b, len, out);
		return 0;
	case -1:
		return -1;
	}
	e = *ps->p++;
	if (strchr("dDwWsShHvVRX", e) != NULL)
		return 0;			/* one character, not known */
	if (e == 'N')
		return ps->p < ps->end && *ps->p == '{' ? -1 : 0;
	if (e == 'p' || e == 'P')
		return skip_property(ps);
	if (strchr("bBAzZGK", e) != NULL) {
		info_empty(out);		/* an assertion */
		return 0;
	}
	if (e == 'Q' || e == 'E') {
		ps->quoting = e == 'Q';
		*item = ITEM_NOTHING;
		return 0;
	}
	return -1;		/* digits (back references, octal), \g, \k, \c, \o */
}

/* Reads ')' closing a group. */
static int
close_group(struct parse *ps)
{
	if (ps->p == ps->end || *ps->p != ')')
		return -1;
	ps->p++;
	return 0;
}

/* A group name after (?< (?' or (?P<, to its closing delimiter. */
static int
skip_name(struct parse *ps, char close)
{
	const char *start = ps->p;

	while (ps->p < ps->end && (is_alnum(*ps->p) || *ps->p == '_'))
		ps->p++;
	if (ps->p == start || ps->p == ps->end || *ps->p != close)
		return -1;
	ps->p++;
	return 0;
}

/*
 * (? followed by option letters: ends with `)` (the options hold for the
 * rest of the group, *x) or `:` (a group of its own with them).
 */
static int
parse_options(struct parse *ps, bool *x, struct info *out, enum item *item)
{
	bool unset = false, nx = *x;

	for (; ps->p < ps->end; ps->p++) {
		char c = *ps->p;

		if (c == ')' || c == ':')
			break;
		if (c == '-')
			unset = true;
		else if (c == '^')
			nx = false;
		else if (c == 'i' && !unset)
			ps->saw_caseless = true;
		else if (c == 'x') {
			if (ps->end - ps->p > 1 && ps->p[1] == 'x')
				return -1;	/* xx: spaces in classes too */
			nx = !unset;
		} else if (strchr("imnsUJ", c) == NULL || c == '\0')
			return -1;
	}
	if (ps->saw_caseless && !ps->caseless)
		return -1;		/* read again, caseless */
	if (ps->p == ps->end)
		return -1;
	if (*ps->p++ == ')') {
		*x = nx;
		*item = ITEM_NOTHING;
		return 0;
	}
	return parse_alt(ps, nx, out) == 0 ? close_group(ps) : -1;
}

/* A group after its `(`. */
static int
parse_group(struct parse *ps, bool *x, struct info *out, enum item *item)
{
	struct info inner;
	char c;

	*item = ITEM_ATOM;
	if (ps->p == ps->end || *ps->p == '*')
		return -1;			/* (*VERB), (*atomic: ... */
	if (*ps->p != '?')
		return parse_alt(ps, *x, out) == 0 ? close_group(ps) : -1;
	if (++ps->p == ps->end)
		return -1;
	c = *ps->p;
	if (c == '#') {
		while (ps->p < ps->end && *ps->p != ')')
			ps->p++;
		*item = ITEM_NOTHING;
		return close_group(ps);
	}
	if (c == ':' || c == '|' || c == '>') {
		ps->p++;
		return parse_alt(ps, *x, out) == 0 ? close_group(ps) : -1;
	}
	if (c == '<' && ps->end - ps->p > 1 &&
	    (ps->p[1] == '=' || ps->p[1] == '!'))
		ps->p++;
	if (*ps->p == '=' || *ps->p == '!') {
		/* A look-around matches no characters of its own. */
		ps->p++;
		if (parse_alt(ps, *x, &inner) == -1) {
			info_none(&inner);
			return -1;
		}
		info_none(&inner);
		info_empty(out);
		return close_group(ps);
	}
	if (c == '<' || c == '\'') {
		ps->p++;
		if (skip_name(ps, c == '<' ? '>' : '\'') == -1)
			return -1;
		return parse_alt(ps, *x, out) == 0 ? close_group(ps) : -1;
	}
	if (c == 'P' && ps->end - ps->p > 1 && ps->p[1] == '<') {
		ps->p += 2;
		if (skip_name(ps, '>') == -1)
			return -1;
		return parse_alt(ps, *x, out) == 0 ? close_group(ps) : -1;
	}
	return parse_options(ps, x, out, item);
}

/*
 * {n} {n,} {n,m} at ps->p: anything else is literal in PCRE2 10.42 but
 * a quantifier in later ones ({,m}), too close to call: -1.
 */
static int
parse_braces(struct parse *ps, long *min, long *max)
{
	const char *e = ps->p + 1;
	long n = 0, m = -1;

	if (e == ps->end || *e < '0' || *e > '9')
		return -1;
	for (; e < ps->end && *e >= '0' && *e <= '9' && n <= 65535; e++)
		n = n * 10 + (*e - '0');
	if (e < ps->end && *e == ',') {
		e++;
		if (e < ps->end && *e >= '0' && *e <= '9')
			for (m = 0; e < ps->end && *e >= '0' && *e <= '9' &&
			    m <= 65535; e++)
				m = m * 10 + (*e - '0');
	} else
		m = n;
	if (e == ps->end || *e != '}' || n > 65535 || m > 65535)
		return -1;
	ps->p = e + 1;
	*min = n;
	*max = m;
	return 0;
}

/*
 * A quantifier after an item, if there is one: 1 with its bounds, 0 when
 * there is none, -1 when unsure.
 */
static int
parse_quantifier(struct parse *ps, bool x, long *min, long *max)
{
	if (x && skip_space(ps) == -1)
		return -1;
	if (ps->p == ps->end)
		return 0;
	switch (*ps->p) {
	case '*': *min = 0; *max = -1; ps->p++; break;
	case '+': *min = 1; *max = -1; ps->p++; break;
	case '?': *min = 0; *max = 1; ps->p++; break;
	case '{':
		if (parse_braces(ps, min, max) == -1)
			return -1;
		break;
	default:
		return 0;
	}
	if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '?'))
		ps->p++;		/* possessive, lazy: the same strings */
	if (x && skip_space(ps) == -1)
		return -1;
	if (ps->p < ps->end && strchr("*+?{", *ps->p) != NULL &&
	    *ps->p != '\0')
		return -1;
	return 1;
}

/* One item of a sequence: an atom (out) or nothing (a comment, options). */
static int
parse_item(struct parse *ps, bool *x, struct info *out, enum item *item)
{
	char c = *ps->p;
	size_t len;

	memset(out, 0, sizeof *out);
	*item = ITEM_ATOM;
	if (ps->quoting) {
		if (ps->end - ps->p >= 2 && memcmp(ps->p, "\\E", 2) == 0) {
			ps->p += 2;
			ps->quoting = false;
			*item = ITEM_NOTHING;
			return 0;
		}
	} else
		switch (c) {
		case '.':
			ps->p++;
			return 0;
		case '^':
		case '$':
			ps->p++;
			info_empty(out);
			return 0;
		case '[':
			ps->p++;
			return parse_class(ps, out);
		case '(': {
			int rc;

			if (++ps->depth > DEPTH_MAX)
				return -1;
			ps->p++;
			rc = parse_group(ps, x, out, item);
			ps->depth--;
			return rc;
		}
		case '\\':
			ps->p++;
			return parse_escape(ps, out, item);
		case '*':
		case '+':
		case '?':
		case '{':
			return -1;
		}
	if ((len = utf8_len(ps->p, ps->end)) == 0)
		return -1;
	literal_char(ps, ps->p, len, out);
	ps->p += len;
	/* A quoted character takes a quantifier only after its \E. */
	if (ps->quoting && ps->end - ps->p >= 2 &&
	    memcmp(ps->p, "\\E", 2) == 0) {
		ps->p += 2;
		ps->quoting = false;
	}
	return 0;
}

/* A sequence of items, up to `|`, `)` or the end. */
static int
parse_seq(struct parse *ps, bool *x, struct info *out)
{
	struct seq q;
	struct info item;
	enum item kind;
	long min, max;
	int rc;

	seq_init(&q);
	for (;;) {
		if (!ps->quoting && *x && skip_space(ps) == -1)
			goto fail;
		if (ps->p == ps->end ||
		    (!ps->quoting && (*ps->p == '|' || *ps->p == ')')))
			break;
		if (parse_item(ps, x, &item, &kind) == -1) {
			info_none(&item);
			goto fail;
		}
		rc = ps->quoting ? 0 : parse_quantifier(ps, *x, &min, &max);
		if (rc == -1 || (rc == 1 && kind == ITEM_NOTHING)) {
			info_none(&item);
			goto fail;
		}
		if (kind == ITEM_NOTHING)
			continue;
		if (rc == 1)
			seq_add_repeated(&q, &item, min, max);
		else
			seq_add(&q, &item);
	}
	seq_end(&q, out);
	return 0;
fail:
	info_none(&q.run);
	info_none(&q.best);
	return -1;
}

/* Alternatives, up to `)` or the end; x: extended mode as the group starts. */
static int
parse_alt(struct parse *ps, bool x, struct info *out)
{
	struct info branch;
	bool first = true;

	memset(out, 0, sizeof *out);
	for (;;) {
		if (parse_seq(ps, &x, &branch) == -1) {
			info_none(out);
			return -1;
		}
		if (first)
			*out = branch;
		else
			alt_add(out, &branch);
		first = false;
		if (ps->p == ps->end || ps->quoting || *ps->p != '|')
			return 0;
		ps->p++;
	}
}

int
regex_literals(const char *pattern, size_t len, int case_sensitive,
    struct regex_literals *out)
{
	struct parse ps;
	struct info in;
	uint32_t nl = 0;
	int rc;

	memset(out, 0, sizeof *out);
	(void)pcre2_config(PCRE2_CONFIG_NEWLINE, &nl);
	memset(&ps, 0, sizeof ps);
	ps.caseless = !case_sensitive;
	for (;;) {
		ps.p = pattern;
		ps.end = pattern + len;
		ps.quoting = false;
		ps.depth = 0;
		ps.lf_newline = nl == PCRE2_NEWLINE_LF;
		rc = parse_alt(&ps, false, &in);
		if (rc == 0 && ps.p != ps.end) {
			info_none(&in);		/* a `)` with no `(` */
			rc = -1;
		}
		if (rc == -1 && ps.saw_caseless && !ps.caseless) {
			ps.caseless = true;
			continue;
		}
		break;
	}
	if (rc == -1)
		return -1;
	info_require(&in);
	if (in.kind != INFO_REQUIRED) {
		info_none(&in);
		return -1;
	}
	out->v = in.s.v;
	out->n = in.s.n;
	return 0;
}

void
regex_literals_free(struct regex_literals *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}
