/*
 * gibberish: measures keyboard mashing ("asdfghjkl", "sdkjfhskdjfh",
 * "qwertyuiop"), for the `gibberish` check.
 *
 * A word is mashed when, with a letter held down counted once, it has six
 * letters in a row that are not vowels (a, e, i, o, u, y), or seven keys in
 * a row that sit side by side on one row of a QWERTY keyboard, or, in ten
 * letters or more, fewer than one vowel in five.  Only words of ASCII
 * letters are judged: other scripts and accented words are never mashed,
 * but their letters count in the total.  A pure function of the text: one
 * pass over it and a second over its long words, never allocating.
 */
#ifndef COMMENTD_GIBBERISH_H
#define COMMENTD_GIBBERISH_H

#include <stddef.h>

/*
 * The letters of text[0, len) that are in mashed words, and all its letters
 * (any script) in *letters.  [*start, *end) spans the mashed words, from
 * the first to the last (both 0 when there is none).
 */
size_t		 gibberish_letters(const char *text, size_t len,
		    size_t *letters, size_t *start, size_t *end);

/* Whether the ASCII word w[0, n) (any case) looks mashed. */
int		 gibberish_word(const char *w, size_t n);

#endif
