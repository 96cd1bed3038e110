/*
 * wordlist: the matcher for every word list of a policy and its allowlist.
 *
 * Terms are normalised exactly as comments are and kept in hash tables keyed
 * by their text, so the cost of a comment depends on its words, never on the
 * number of terms: a word is looked up, not compared with each term.
 *   - word and phrase terms: one table keyed by the words joined with one
 *     space; a phrase's leading words are marked as prefixes, so a phrase is
 *     followed word by word only while it can still match;
 *   - substring terms: a second table, probed with the slices of a word whose
 *     lengths some term has;
 *   - masked words ("f**k"): a table of single-word terms bucketed by length
 *     and first (or last) letter, compared position by position;
 *   - the allowlist: words that never match, whatever they contain
 *     (Scunthorpe, assassin, therapist).
 */
#ifndef COMMENTD_WORDLIST_H
#define COMMENTD_WORDLIST_H

#include <stddef.h>
#include <stdint.h>

#include "errlist.h"
#include "normalize.h"
#include "policy.h"
#include "tokenize.h"

#define WORDLIST_MAX_PHRASE_WORDS	8

struct matcher;

struct matcher	*matcher_new(const struct normalize_opts *);
void		 matcher_free(struct matcher *);

/*
 * Reads a word-list file for rule `rule_index` (one term or phrase a line,
 * '#' starts a comment).  `shown` is the name used in messages.  Errors
 * (unreadable file, a term that is not plain words, a phrase in word mode)
 * go to errs as "shown:line:column: ...".  Returns the number of terms, or
 * -1 when the file could not be read.
 */
long		 matcher_add_file(struct matcher *, uint16_t rule_index,
		    enum match_mode, const char *path, const char *shown,
		    struct errlist *errs);

/* The same for terms in memory (tests, fuzzing): `text` is a file's content. */
long		 matcher_add_text(struct matcher *, uint16_t rule_index,
		    enum match_mode, const char *text, size_t len,
		    const char *shown, struct errlist *errs);

/* Reads an allowlist file; returns the number of words or -1. */
long		 matcher_add_allow_file(struct matcher *, const char *path,
		    const char *shown, struct errlist *errs);
long		 matcher_add_allow_text(struct matcher *, const char *text,
		    size_t len, const char *shown, struct errlist *errs);

/*
 * Called for each match: the rule, and the normalised characters
 * [first, last] (inclusive) that matched.  Returning non-zero stops the scan.
 */
typedef int	(*matcher_hit_cb)(void *arg, uint16_t rule_index,
		    uint32_t first, uint32_t last);

/* Reports every word-list match in the tokens of one text. */
void		 matcher_scan(const struct matcher *, const struct tokens *,
		    matcher_hit_cb, void *arg);

/* True if the word (already normalised) is allowlisted. */
int		 matcher_is_allowed(const struct matcher *, const char *word,
		    size_t len);

#endif
