/*
 * gibberish: keyboard mashing, word by word.  See gibberish.h.
 *
 * The three signs are what a hand drumming on a keyboard leaves and English
 * and the other Latin-script languages of a news site's readers rarely do:
 * long runs of consonants ("sdkjfh"), a walk along one row of keys
 * ("qwertyuiop", "lkjhgfd") and long words with almost no vowels.  A letter
 * held down counts once, so "hmmmmm" and "grrrrr" are not mashing (long runs
 * of one character are the repeat_run check's).  Known misses and false
 * alarms are in docs/policy.md; the check is meant to queue, not reject.
 */
#include "gibberish.h"

#include <stdbool.h>
#include <stdint.h>

#include <utf8proc.h>

#define MASH_CONSONANT_RUN	6
#define MASH_ROW_RUN		7
#define MASH_SPARSE_LETTERS	10	/* vowels under a fifth from here */

/* What is known of the word being read, a letter at a time. */
struct mash_word {
	size_t	 squeezed;	/* with a letter held down counted once */
	size_t	 vowels;	/* among the squeezed letters */
	unsigned cons, max_cons;
	unsigned row, max_row;
	uint8_t	 prev;		/* key_info of the last letter, or 0 */
};

/*
 * For each lower-case ASCII letter (looked up as byte | 0x20, which folds
 * capitals and sends no other byte to a letter; bytes of other characters
 * find 0): KEY_LETTER, KEY_VOWEL for a vowel (y is one in "rhythm"), and
 * where the key sits on a QWERTY keyboard: its row (1-3) in bits 4-5 and
 * its column in bits 0-3.  One table look-up a byte keeps the scan cheap:
 * this check reads every comment.
 */
#define KEY_LETTER	0x80
#define KEY_VOWEL	0x40
#define KEY_ROW		0x30
#define KEY_COL		0x0f
#define K(row, col)	(KEY_LETTER | (row) << 4 | (col))
#define V(row, col)	(K(row, col) | KEY_VOWEL)
static const uint8_t key_info[256] = {
	['a'] = V(2, 0), ['b'] = K(3, 4), ['c'] = K(3, 2), ['d'] = K(2, 2),
	['e'] = V(1, 2), ['f'] = K(2, 3), ['g'] = K(2, 4), ['h'] = K(2, 5),
	['i'] = V(1, 7), ['j'] = K(2, 6), ['k'] = K(2, 7), ['l'] = K(2, 8),
	['m'] = K(3, 6), ['n'] = K(3, 5), ['o'] = V(1, 8), ['p'] = K(1, 9),
	['q'] = K(1, 0), ['r'] = K(1, 3), ['s'] = K(2, 1), ['t'] = K(1, 4),
	['u'] = V(1, 6), ['v'] = K(3, 3), ['w'] = K(1, 1), ['x'] = K(3, 1),
	['y'] = V(1, 5), ['z'] = K(3, 0),
};
#undef K
#undef V

/* Whether two keys are neighbours on one row of the keyboard. */
static bool
gibberish_adjacent(uint8_t a, uint8_t b)
{
	int d = (a & KEY_COL) - (b & KEY_COL);

	return (a & KEY_ROW) == (b & KEY_ROW) && (d == 1 || d == -1);
}

/* Starts a word. */
static void
mash_begin(struct mash_word *w)
{
	w->squeezed = w->vowels = 0;
	w->cons = w->max_cons = w->row = w->max_row = 0;
	w->prev = 0;
}

/* Adds one ASCII letter, by its key_info, to the word. */
static void
mash_letter(struct mash_word *w, uint8_t k)
{
	if (k == w->prev)
		return;
	w->squeezed++;
	if (k & KEY_VOWEL) {
		w->vowels++;
		w->cons = 0;
	} else if (++w->cons > w->max_cons)
		w->max_cons = w->cons;
	if (w->prev != 0 && gibberish_adjacent(w->prev, k))
		w->row++;
	else
		w->row = 1;
	if (w->row > w->max_row)
		w->max_row = w->row;
	w->prev = k;
}

/* The verdict on a finished word. */
static bool
mash_is_mashed(const struct mash_word *w)
{
	return w->max_cons >= MASH_CONSONANT_RUN ||
	    w->max_row >= MASH_ROW_RUN ||
	    (w->squeezed >= MASH_SPARSE_LETTERS && w->vowels * 5 < w->squeezed);
}

int
gibberish_word(const char *s, size_t n)
{
	struct mash_word w;
	size_t left;
	uint8_t k;

	mash_begin(&w);
	for (size_t i = 0; i < n; i++) {
		if (!((k = key_info[(unsigned char)s[i] | 0x20]) & KEY_LETTER))
			return 0;
		mash_letter(&w, k);
		/*
		 * Most words show early that no run can grow long enough in
		 * the letters left; a word too short to be sparse is then
		 * done.  This is what keeps the check cheap on every comment.
		 */
		left = n - i - 1;
		if (n < MASH_SPARSE_LETTERS && w.max_cons < MASH_CONSONANT_RUN &&
		    w.cons + left < MASH_CONSONANT_RUN &&
		    w.max_row < MASH_ROW_RUN && w.row + left < MASH_ROW_RUN)
			return 0;
	}
	return mash_is_mashed(&w);
}

/*
 * What the non-ASCII code point at text[i] is to a word: 2 a letter, 3 a
 * mark that belongs to the letter before it, 0 anything that ends a word.
 * *n is its length in bytes.
 */
static int
gibberish_class(const char *text, size_t len, size_t i, size_t *n)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	utf8proc_category_t cat;

	*n = 1;
	k = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
	    (utf8proc_ssize_t)(len - i), &cp);
	if (k <= 0)
		return 0;
	*n = (size_t)k;
	cat = utf8proc_category(cp);
	if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)
		return 2;
	if (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME)
		return 3;
	return 0;
}

/* Counts a finished word of `n` ASCII letters ending at byte `end`. */
static void
gibberish_judge(const char *text, size_t end, size_t n, size_t *mashed,
    size_t *start, size_t *stop)
{
	if (!gibberish_word(text + end - n, n))
		return;
	if (*mashed == 0)
		*start = end - n;
	*stop = end;
	*mashed += n;
}

size_t
gibberish_letters(const char *text, size_t len, size_t *letters,
    size_t *start, size_t *end)
{
	size_t i = 0, n, run = 0, mashed = 0, total = 0;
	unsigned char c;
	unsigned k, other = 0;
	int cls;

	*start = *end = 0;
	while (i < len) {
		c = (unsigned char)text[i];
		if (c >= 0x80) {
			/*
			 * A letter or mark of another script, or an accent, is
			 * part of the word but keeps it from being judged.
			 */
			if ((cls = gibberish_class(text, len, i, &n)) != 0) {
				total += cls == 2;
				other = 1;
				run = 0;
			} else {
				if (run >= MASH_CONSONANT_RUN && !other)
					gibberish_judge(text, i, run, &mashed,
					    start, end);
				run = other = 0;
			}
			i += n;
			continue;
		}
		/*
		 * ASCII, one table look-up a byte and one branch that is
		 * rarely taken: a word long enough to be read again ends here.
		 */
		k = (key_info[c | 0x20] & KEY_LETTER) != 0;
		if ((run >= MASH_CONSONANT_RUN) & !k & !other)
			gibberish_judge(text, i, run, &mashed, start, end);
		other &= k;
		total += k;
		run = (run + 1) * k;
		i++;
	}
	if (run >= MASH_CONSONANT_RUN && !other)
		gibberish_judge(text, len, run, &mashed, start, end);
	*letters = total;
	return mashed;
}
