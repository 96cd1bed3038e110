/*
 * checks: structural rules that look at the shape of a text rather than its
 * words: length, the share of capitals (SHOUTING), links, runs of one
 * character, the share of letters outside the Latin script, payment card
 * numbers, keyboard mashing.
 *
 * They read the ORIGINAL text (capitals and links live there) and report a
 * span of it as evidence.  Pure functions of the text.
 */
#ifndef COMMENTD_CHECKS_H
#define COMMENTD_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Every kind of check, for tables indexed by kind. */
#define CHECK_NKINDS	(CHECK_GIBBERISH + 1)

/*
 * "length", "caps_ratio", "link_count", "repeat_run", "non_latin",
 * "card_number", "gibberish".
 */
int		 check_parse_kind(const char *name, enum check_kind *out);
const char	*check_kind_name(enum check_kind);

/*
 * Evaluates rule r (kind RULE_CHECK) on text[0, len), valid UTF-8.  Returns 1
 * when the rule matches, with the byte span [*start, *end) that shows why
 * (the run, the first link or card number beyond the limit, the mashed
 * words, or the whole text) and the measured value; 0 when it does not.
 */
int		 check_eval(const struct rule *r, const char *text, size_t len,
		    uint32_t *start, uint32_t *end, double *value);

/* Characters (code points) in valid UTF-8. */
size_t		 utf8_length(const char *text, size_t len);

#endif
