/*
 * regex_prefilter: one vectorscan scan of a text tells which regex rules
 * might match it, so PCRE2 runs only those and a comment's cost does not
 * grow with the number of regex rules.
 *
 * Every regex rule's pattern is compiled once per policy load into a
 * vectorscan database in prefilter mode (HS_FLAG_PREFILTER), which may
 * report a match PCRE2 would not find but never misses one PCRE2 finds:
 * PCRE2 still decides, so rules keep PCRE2's meaning exactly.  A pattern
 * vectorscan cannot take even so is marked to run always.  There is one
 * database per text a rule reads (the body or the author name, as sent or
 * normalised).  It must never drop a rule that could match: when in doubt
 * (an error, no database), a rule runs.  Compiled sets are cached, so
 * loading the same regex rules again compiles nothing.
 */
#ifndef COMMENTD_REGEX_PREFILTER_H
#define COMMENTD_REGEX_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

struct policy;

/* The texts a regex rule can read: field x (as sent | normalised). */
#define PREFILTER_TEXTS		4

struct prefilter;
struct prefilter_scratch;

/*
 * Builds the databases for a policy whose regex rules are compiled; NULL
 * when it has no regex rule or vectorscan refuses the whole set (then
 * every rule runs, as without a prefilter).  *unfiltered counts the rules
 * that run always.
 */
struct prefilter *prefilter_build(const struct policy *, size_t *unfiltered);

/* Drops a policy's reference (a set stays cached for the next load). */
void		 prefilter_free(struct prefilter *);

/* Which of the PREFILTER_TEXTS a rule reads. */
int		 prefilter_text(const struct policy *, size_t rule);

/* Whether any regex rule reads text t (so it is worth preparing). */
int		 prefilter_reads(const struct prefilter *, int t);

struct prefilter_scratch *prefilter_scratch_new(void);
void		 prefilter_scratch_free(struct prefilter_scratch *);

/*
 * Clears maybe[0, nrules) to the rules that run always (1) and the rest
 * (0); every prefilter_scan() then sets the rules it finds.  With pf NULL,
 * every regex rule is set.
 */
void		 prefilter_begin(const struct prefilter *, const struct policy *,
		    uint8_t *maybe);

/*
 * Scans text t (len bytes of valid UTF-8) and sets maybe[rule] for each
 * rule reading it that might match.  On any error every rule reading t is
 * set, so the scan can only save work, never change a verdict.
 */
void		 prefilter_scan(const struct prefilter *,
		    struct prefilter_scratch *, int t, const char *text,
		    size_t len, uint8_t *maybe);

#endif
