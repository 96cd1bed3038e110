/*
 * regex_literals_int: what the three files of the literal extractor share:
 * the reader's state (regex_literals.c reads groups and sequences,
 * regex_literals_lex.c characters, escapes and classes) and the sets of
 * strings it builds, which regex_literals_set.c combines.  Internal to
 * those files.
 */
#ifndef COMMENTD_REGEX_LITERALS_INT_H
#define COMMENTD_REGEX_LITERALS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "regex_literals.h"

struct litset {
	struct regex_literal *v;
	size_t		 n, cap;
};

enum info_kind { INFO_NONE, INFO_EXACT, INFO_REQUIRED };

/* What is known of a piece: see the top of regex_literals.c. */
struct info {
	enum info_kind	 kind;
	struct litset	 s;
};

/* A sequence being read: the exact run so far, the best required set. */
struct seq {
	struct info	 run, best;
	bool		 all_exact;
};

/* What parse_item() read. */
enum item { ITEM_ATOM, ITEM_NOTHING };

/* Where the reading of one pattern is. */
struct parse {
	const char	*p, *end;
	bool		 caseless;
	bool		 saw_caseless;	/* an (?i): read again, caseless */
	bool		 quoting;	/* inside \Q...\E */
	bool		 lf_newline;	/* PCRE2's newline is LF alone */
	int		 depth;
};

size_t	utf8_len(const char *p, const char *end);
bool	is_alnum(char);
void	literal_char(const struct parse *, const char *b, size_t len,
	    struct info *out);
int	skip_space(struct parse *);
int	skip_property(struct parse *);
int	escaped_char(struct parse *, bool in_class, char *b, size_t *len);
int	parse_class(struct parse *, struct info *out);

void	set_add(struct litset *, const char *, size_t);
void	set_free(struct litset *);
void	info_none(struct info *);
void	info_empty(struct info *);
void	info_require(struct info *);
void	alt_add(struct info *acc, struct info *x);
void	seq_init(struct seq *);
void	seq_add(struct seq *, struct info *x);
void	seq_add_repeated(struct seq *, struct info *x, long min, long max);
void	seq_end(struct seq *, struct info *out);

#endif
