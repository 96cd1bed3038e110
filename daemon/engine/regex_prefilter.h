/*
 * regex_prefilter: one pass over a text tells which regex rules might
 * match it, so PCRE2 runs only those and a comment's cost does not grow
 * with the number of regex rules.
 *
 * Each regex rule's pattern is read once per policy load for the literals
 * one of which any match must contain (regex_literals.h); all the rules'
 * literals go into one Aho-Corasick automaton per text a rule reads (the
 * body or the author name, as sent or normalised).  A rule none of whose
 * literals is in a text cannot match it; PCRE2 still decides for the
 * rest, so rules keep PCRE2's meaning exactly.  A pattern with no known
 * literals runs always.  It must never drop a rule that could match.
 */
#ifndef COMMENTD_REGEX_PREFILTER_H
#define COMMENTD_REGEX_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

struct policy;

/* The texts a regex rule can read: field x (as sent | normalised). */
#define PREFILTER_TEXTS		4

struct prefilter;

/*
 * A text is prefiltered only when at least this many rules read it with
 * literals: one pass of the automaton over a comment costs about what
 * three or four PCRE2 runs that find nothing do (the default policy, with
 * three such rules on the body, ran 6% faster without it).
 */
#define PREFILTER_MIN_RULES	4

/*
 * Builds the automata for a policy's regex rules; NULL when no text has
 * PREFILTER_MIN_RULES rules with literals (then every rule runs, as
 * without a prefilter).  *unfiltered counts the rules that run always.
 */
struct prefilter *prefilter_build(const struct policy *, size_t *unfiltered);

/* The same with another threshold (tests: 1 filters every rule it can). */
struct prefilter *prefilter_build_min(const struct policy *, size_t min_rules,
		    size_t *unfiltered);
void		 prefilter_free(struct prefilter *);

/* Which of the PREFILTER_TEXTS a rule reads. */
int		 prefilter_text(const struct policy *, size_t rule);

/* Whether any filtered rule reads text t (so it is worth preparing). */
int		 prefilter_reads(const struct prefilter *, int t);

/*
 * Clears maybe[0, nrules) to the rules that run always (1) and the rest
 * (0); every prefilter_scan() then sets the rules it finds.  With pf NULL,
 * every regex rule is set.
 */
void		 prefilter_begin(const struct prefilter *, const struct policy *,
		    uint8_t *maybe);

/* Scans text t (len bytes) and sets maybe[rule] for each rule it may match. */
void		 prefilter_scan(const struct prefilter *, int t,
		    const char *text, size_t len, uint8_t *maybe);

#endif
