/*
 * confusables: letters that look like Latin ones, and what they stand for.
 *
 * The table is hand-made from the lookalikes moderators meet in disguised
 * profanity (Cyrillic "а" for "a", Greek "ο" for "o", "ƒ" for "f", enclosed
 * and squared letters); Unicode's confusables.txt (UTS #39) is the reference
 * it was checked against.  Only case-folded code points are looked up.
 */
#ifndef COMMENTD_CONFUSABLES_H
#define COMMENTD_CONFUSABLES_H

#include <stdint.h>

/* The ASCII letter `cp` is a lookalike of, or 0. */
uint32_t	confusable_latin(uint32_t cp);

#endif
