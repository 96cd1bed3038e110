/*
 * card_number: payment card numbers in a comment.  See card_number.h.
 *
 * A number is read group by group ("4111 1111 1111 1111", "3782-822463-
 * 10005", "4111111111111111"), and a candidate may start at any group and
 * end at any later group boundary, so a card number followed by its expiry
 * year or security code in the same run of digits is still found.  Each
 * start looks at no more than 19 digits, which keeps the scan linear.  The
 * issuer prefixes and the checksum together let about one random string of
 * 16 digits in 26 through (one in 40 of 13 digits), where the checksum
 * alone would let one in ten.
 */
#include "card_number.h"

#include <stdbool.h>
#include <stdint.h>

#include "swar.h"

#define CARD_MIN_DIGITS	13
#define CARD_MAX_DIGITS	19

/* An issuer's range of leading digits and the lengths its numbers have. */
struct card_issuer {
	uint16_t	lo, hi;		/* prefix range, `width` digits */
	uint8_t		width;
	uint8_t		min, max;	/* digits in a number */
};

/*
 * The ranges the card networks publish: Visa, Mastercard (old and 2-series),
 * American Express, Discover, Diners Club, JCB, UnionPay, Maestro and Mir.
 */
static const struct card_issuer issuers[] = {
	{ 4, 4, 1, 13, 19 },		/* Visa */
	{ 51, 55, 2, 16, 16 },		/* Mastercard */
	{ 2221, 2720, 4, 16, 16 },	/* Mastercard 2-series */
	{ 34, 34, 2, 15, 15 },		/* American Express */
	{ 37, 37, 2, 15, 15 },
	{ 300, 305, 3, 14, 19 },	/* Diners Club */
	{ 36, 36, 2, 14, 19 },
	{ 38, 39, 2, 14, 19 },
	{ 3528, 3589, 4, 16, 19 },	/* JCB */
	{ 2200, 2204, 4, 16, 19 },	/* Mir */
	{ 50, 50, 2, 13, 19 },		/* Maestro */
	{ 56, 58, 2, 13, 19 },
	{ 60, 69, 2, 13, 19 },		/* Discover, UnionPay, Maestro */
};

/* Whether the byte is an ASCII digit. */
static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Whether the byte is an ASCII letter or digit: a number glued to a word. */
static bool
is_alnum(unsigned char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

int
card_number_luhn(const unsigned char *d, size_t n)
{
	unsigned sum = 0;

	/* From the right, every second digit is doubled. */
	for (size_t i = 0; i < n; i++) {
		unsigned v = d[n - 1 - i];

		if (i % 2 == 1 && (v *= 2) > 9)
			v -= 9;
		sum += v;
	}
	return n > 0 && sum % 10 == 0;
}

/* Whether n digits with this start belong to a known issuer. */
static bool
card_number_issuer(const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < sizeof issuers / sizeof issuers[0]; i++) {
		const struct card_issuer *is = &issuers[i];
		unsigned prefix = 0;

		if (n < is->min || n > is->max)
			continue;
		for (size_t k = 0; k < is->width; k++)
			prefix = prefix * 10 + d[k];
		if (prefix >= is->lo && prefix <= is->hi)
			return true;
	}
	return false;
}

/* A separator inside a number: one space or dash between two digits. */
static bool
is_separator(const char *text, size_t len, size_t i)
{
	return (text[i] == ' ' || text[i] == '-') && i > 0 &&
	    is_digit((unsigned char)text[i - 1]) && i + 1 < len &&
	    is_digit((unsigned char)text[i + 1]);
}

/*
 * From the group starting at text[from], the end of the longest card
 * number that ends at a group boundary, or 0.
 */
static size_t
card_number_at(const char *text, size_t len, size_t from)
{
	unsigned char d[CARD_MAX_DIGITS];
	size_t i = from, n = 0, found = 0;

	while (i < len && n < CARD_MAX_DIGITS) {
		if (is_digit((unsigned char)text[i])) {
			d[n++] = (unsigned char)(text[i++] - '0');
			if (i < len && is_digit((unsigned char)text[i]))
				continue;
			/* A group ends here: glued to a letter, no number. */
			if (i < len && is_alnum((unsigned char)text[i]))
				break;
			if (n >= CARD_MIN_DIGITS && card_number_issuer(d, n) &&
			    card_number_luhn(d, n))
				found = i;
		} else if (is_separator(text, len, i))
			i++;
		else
			break;
	}
	return found;
}

/*
 * The first digit from text[i], or len: eight bytes at a time, as most
 * comments hold few digits and this check reads every one.
 */
static size_t
skip_to_digit(const char *text, size_t len, size_t i)
{
	while (i + 8 <= len && swar_in_range(swar_load(text + i), '0', '9') == 0)
		i += 8;
	while (i < len && !is_digit((unsigned char)text[i]))
		i++;
	return i;
}

size_t
card_number_count(const char *text, size_t len, size_t skip, size_t *start,
    size_t *end)
{
	size_t i = 0, count = 0, stop;

	*start = *end = 0;
	while ((i = skip_to_digit(text, len, i)) < len) {
		/* Only where a group of digits starts can a number start. */
		if (i > 0 && is_alnum((unsigned char)text[i - 1])) {
			i++;
			continue;
		}
		if ((stop = card_number_at(text, len, i)) > i) {
			if (count++ == skip) {
				*start = i;
				*end = stop;
			}
			i = stop;
			continue;
		}
		/* The next group of this run may start a number. */
		while (i < len && is_digit((unsigned char)text[i]))
			i++;
	}
	return count;
}
