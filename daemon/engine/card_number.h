/*
 * card_number: finds payment card numbers in a comment, for the
 * `card_number` check (a commenter posting a card number, theirs or
 * someone else's, must never be published).
 *
 * A card number here is 13 to 19 digits, written together or in groups
 * separated by single spaces or dashes, that starts with an issuer's prefix
 * and passes the Luhn checksum.  A pure function of the text: it never
 * allocates and never reads past the length it is given.
 */
#ifndef COMMENTD_CARD_NUMBER_H
#define COMMENTD_CARD_NUMBER_H

#include <stddef.h>

/*
 * Counts the card numbers in text[0, len).  The byte span of the first one
 * after the first `skip` numbers goes to [*start, *end) (both 0 when there
 * is no such number), so a caller with a limit can show the one too many.
 */
size_t		 card_number_count(const char *text, size_t len, size_t skip,
		    size_t *start, size_t *end);

/* Whether the n digits in d[] (0-9 each) pass the Luhn checksum. */
int		 card_number_luhn(const unsigned char *d, size_t n);

#endif
