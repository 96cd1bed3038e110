/*
 * confusables: the table of letters that pass for Latin ones.
 *
 * Hand-made from the lookalikes seen in disguised abuse and checked against
 * Unicode's confusables.txt (UTS #39); it lists both cases where the capital
 * and the small letter look like different Latin letters (Cyrillic "Н" is an
 * H, "н" a small-capital H; Greek "Η" is an H, "η" an n).  Enclosed letters
 * without a compatibility decomposition (negative circled and squared
 * letters, regional indicators) are mapped by range.
 */
#include "confusables.h"

#include <stddef.h>

struct lookalike {
	uint32_t	cp;
	char		latin;
};

/* Sorted by code point: looked up with a binary search. */
static const struct lookalike lookalikes[] = {
	{ 0x00F8, 'o' }, { 0x0111, 'd' }, { 0x0127, 'h' }, { 0x0131, 'i' },
	{ 0x0141, 'l' }, { 0x0142, 'l' }, { 0x0166, 't' }, { 0x0167, 't' },
	{ 0x0180, 'b' }, { 0x0181, 'b' }, { 0x0187, 'c' }, { 0x0188, 'c' },
	{ 0x018A, 'd' }, { 0x0191, 'f' }, { 0x0192, 'f' }, { 0x0198, 'k' },
	{ 0x0199, 'k' }, { 0x019A, 'l' }, { 0x01A4, 'p' }, { 0x01A5, 'p' },
	{ 0x01AC, 't' }, { 0x01AD, 't' }, { 0x01B3, 'y' }, { 0x01B4, 'y' },
	{ 0x01B5, 'z' }, { 0x01B6, 'z' }, { 0x023C, 'c' }, { 0x0247, 'e' },
	{ 0x0249, 'j' }, { 0x024D, 'r' }, { 0x024F, 'y' }, { 0x0251, 'a' },
	{ 0x0253, 'b' }, { 0x0257, 'd' }, { 0x0261, 'g' }, { 0x0262, 'g' },
	{ 0x026A, 'i' }, { 0x0271, 'm' }, { 0x0272, 'n' }, { 0x0274, 'n' },
	{ 0x027D, 'r' }, { 0x0280, 'r' }, { 0x0282, 's' }, { 0x028B, 'v' },
	{ 0x028F, 'y' }, { 0x0299, 'b' }, { 0x029C, 'h' }, { 0x029F, 'l' },
	{ 0x02A0, 'q' },
	/* Greek */
	{ 0x0391, 'a' }, { 0x0392, 'b' }, { 0x0395, 'e' }, { 0x0396, 'z' },
	{ 0x0397, 'h' }, { 0x0399, 'i' }, { 0x039A, 'k' }, { 0x039C, 'm' },
	{ 0x039D, 'n' }, { 0x039F, 'o' }, { 0x03A1, 'p' }, { 0x03A4, 't' },
	{ 0x03A5, 'y' }, { 0x03A7, 'x' }, { 0x03B1, 'a' }, { 0x03B2, 'b' },
	{ 0x03B3, 'y' }, { 0x03B5, 'e' }, { 0x03B7, 'n' }, { 0x03B9, 'i' },
	{ 0x03BA, 'k' }, { 0x03BC, 'u' }, { 0x03BD, 'v' }, { 0x03BF, 'o' },
	{ 0x03C1, 'p' }, { 0x03C4, 't' }, { 0x03C5, 'u' }, { 0x03C7, 'x' },
	{ 0x03C9, 'w' }, { 0x03F2, 'c' }, { 0x03F3, 'j' }, { 0x03F9, 'c' },
	/* Cyrillic */
	{ 0x0405, 's' }, { 0x0406, 'i' }, { 0x0407, 'i' }, { 0x0408, 'j' },
	{ 0x0410, 'a' }, { 0x0412, 'b' }, { 0x0415, 'e' }, { 0x041A, 'k' },
	{ 0x041C, 'm' }, { 0x041D, 'h' }, { 0x041E, 'o' }, { 0x0420, 'p' },
	{ 0x0421, 'c' }, { 0x0422, 't' }, { 0x0423, 'y' }, { 0x0425, 'x' },
	{ 0x042C, 'b' }, { 0x0430, 'a' }, { 0x0432, 'b' }, { 0x0435, 'e' },
	{ 0x043A, 'k' }, { 0x043C, 'm' }, { 0x043D, 'h' }, { 0x043E, 'o' },
	{ 0x043F, 'n' }, { 0x0440, 'p' }, { 0x0441, 'c' }, { 0x0442, 't' },
	{ 0x0443, 'y' }, { 0x0445, 'x' }, { 0x044C, 'b' }, { 0x0450, 'e' },
	{ 0x0451, 'e' }, { 0x0455, 's' }, { 0x0456, 'i' }, { 0x0457, 'i' },
	{ 0x0458, 'j' }, { 0x04AE, 'y' }, { 0x04AF, 'y' }, { 0x04B2, 'x' },
	{ 0x04B3, 'x' }, { 0x04BA, 'h' }, { 0x04BB, 'h' }, { 0x04C0, 'l' },
	{ 0x04CF, 'l' }, { 0x0500, 'd' }, { 0x0501, 'd' }, { 0x051A, 'q' },
	{ 0x051B, 'q' }, { 0x051C, 'w' }, { 0x051D, 'w' },
	/* Latin small capitals and phonetic letters */
	{ 0x1D00, 'a' }, { 0x1D04, 'c' }, { 0x1D05, 'd' }, { 0x1D07, 'e' },
	{ 0x1D0A, 'j' }, { 0x1D0B, 'k' }, { 0x1D0D, 'm' }, { 0x1D0F, 'o' },
	{ 0x1D18, 'p' }, { 0x1D1B, 't' }, { 0x1D1C, 'u' }, { 0x1D20, 'v' },
	{ 0x1D21, 'w' }, { 0x1D22, 'z' }, { 0x2C73, 'w' }, { 0xA731, 's' },
};

uint32_t
confusable_latin(uint32_t cp)
{
	size_t lo = 0, hi = sizeof lookalikes / sizeof lookalikes[0];

	if (cp < 0x00F8)
		return 0;
	/* Negative circled, negative squared letters and regional indicators. */
	if (cp >= 0x1F150 && cp <= 0x1F169)
		return 'a' + (cp - 0x1F150);
	if (cp >= 0x1F170 && cp <= 0x1F189)
		return 'a' + (cp - 0x1F170);
	if (cp >= 0x1F1E6 && cp <= 0x1F1FF)
		return 'a' + (cp - 0x1F1E6);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lookalikes[mid].cp == cp)
			return (uint32_t)lookalikes[mid].latin;
		if (lookalikes[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}
