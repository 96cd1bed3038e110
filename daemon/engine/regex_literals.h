/*
 * regex_literals: the strings one of which every match of a PCRE2 pattern
 * must contain, so that a text containing none of them need not be given
 * to PCRE2 at all.
 *
 * `f[u*@]ck(?:ing)?` gives {fuck, f*ck, f@ck}: any text it matches holds
 * one of the three.  The strings are in ASCII lower case, to be looked for
 * in a text with ASCII letters folded; non-ASCII bytes are compared as
 * they are.  It must never name a string a match could lack: whatever it
 * does not understand in a pattern (a construct, an escape, an option)
 * makes it give up on that part, or on the whole pattern, and giving up
 * on the whole pattern means the rule runs on every text.
 */
#ifndef COMMENTD_REGEX_LITERALS_H
#define COMMENTD_REGEX_LITERALS_H

#include <stddef.h>
#include <stdint.h>

/* The longest literal kept (a longer one is cut: a piece is as required). */
#define REGEX_LITERAL_MAX	32

struct regex_literal {
	uint8_t		 len;
	char		 b[REGEX_LITERAL_MAX];
};

struct regex_literals {
	struct regex_literal *v;
	size_t		 n;
};

/*
 * Finds the literals of pattern[0, len) as PCRE2 compiles it with UTF and
 * UCP, and caseless unless case_sensitive.  0: out holds n > 0 literals,
 * none empty, to be freed with regex_literals_free(); -1: no such set is
 * known, the pattern must run on every text (out is empty).
 */
int		 regex_literals(const char *pattern, size_t len,
		    int case_sensitive, struct regex_literals *out);
void		 regex_literals_free(struct regex_literals *);

#endif
