/*
 * acm: an Aho-Corasick automaton over bytes, for terms that match inside
 * words.  One pass over a word finds every term it contains, whatever the
 * number of terms: the cost of a scan is the length of the text plus the
 * matches, which is what keeps substring lists from growing the cost of a
 * comment.  Bytes that occur in no pattern share one class, so the
 * transition table stays small (states x classes, not states x 256).
 */
#ifndef COMMENTD_ACM_H
#define COMMENTD_ACM_H

#include <stddef.h>
#include <stdint.h>

struct acm;

/* Builds the automaton for patterns pats[i] of lens[i] bytes (each > 0). */
struct acm	*acm_build(const char *const *pats, const uint32_t *lens,
		    size_t n);
/*
 * The same for patterns in ASCII lower case, matched with the text's ASCII
 * letters folded: "ab" is found in "AB" and "aB".
 */
struct acm	*acm_build_folded(const char *const *pats, const uint32_t *lens,
		    size_t n);
void		 acm_free(struct acm *);

/* Called for each pattern found ending at byte `end` (exclusive). */
typedef void	(*acm_hit_cb)(void *arg, uint32_t pattern, size_t end);

void		 acm_scan(const struct acm *, const char *text, size_t len,
		    acm_hit_cb, void *arg);

#endif
