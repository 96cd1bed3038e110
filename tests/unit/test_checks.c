/*
 * test_checks: the structural checks (length, caps_ratio, link_count,
 * repeat_run, non_latin, card_number, gibberish) as tables of texts, in
 * several languages and scripts, with emoji, and at their thresholds; and
 * the two helpers behind the last two (card_number.c, gibberish.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "card_number.h"
#include "checks.h"
#include "gibberish.h"

struct check_case {
	enum check_kind	 kind;
	double		 above;		/* < 0: not set */
	double		 below;		/* < 0: not set */
	unsigned	 min_letters;
	const char	*text;
	int		 rc;
	double		 value;
	const char	*span;		/* the matched text, when rc is 1 */
};

#define NONE	(-1.0)

static const struct check_case cases[] = {
	/* length: code points, not bytes; the threshold itself passes. */
	{ CHECK_LENGTH, 10, NONE, 0, "short", 0, 5, NULL },
	{ CHECK_LENGTH, 7, NONE, 0, "exactly", 0, 7, NULL },
	{ CHECK_LENGTH, 6, NONE, 0, "exactly", 1, 7, "exactly" },
	{ CHECK_LENGTH, NONE, 2, 0, "a", 1, 1, "a" },
	{ CHECK_LENGTH, NONE, 2, 0, "ab", 0, 2, NULL },
	{ CHECK_LENGTH, NONE, 1, 0, "", 1, 0, "" },
	{ CHECK_LENGTH, 5, NONE, 0, "Привет", 1, 6, "Привет" },
	{ CHECK_LENGTH, 8, NONE, 0, "日本語のテキスト", 0, 8, NULL },
	{ CHECK_LENGTH, 2, NONE, 0, "👍👍👍", 1, 3, "👍👍👍" },
	{ CHECK_LENGTH, 100, 3, 0, "e\xcc\x81", 1, 2, "e\xcc\x81" },

	/* caps_ratio: capitals among letters that have a case. */
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "THIS IS OUTRAGEOUS AND WRONG", 1,
	    1.0, "THIS IS OUTRAGEOUS AND WRONG" },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "This is fine, I think.", 0,
	    2.0 / 16, NULL },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "OK THEN", 0, 1.0, NULL },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "ABCDEFGhij", 0, 0.7, NULL },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "ABCDEFGHij", 1, 0.8,
	    "ABCDEFGHij" },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "ΑΥΤΟ ΕΙΝΑΙ ΑΠΑΡΑΔΕΚΤΟ", 1, 1.0,
	    "ΑΥΤΟ ΕΙΝΑΙ ΑΠΑΡΑΔΕΚΤΟ" },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "это нормально, правда", 0, 0,
	    NULL },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "ÄRGERLICH! DIE STRAẞE IST ZU", 1,
	    1.0, "ÄRGERLICH! DIE STRAẞE IST ZU" },
	/* Scripts without case neither shout nor dilute a shout. */
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10,
	    "これは本当にひどい記事です THIS IS A DISGRACE", 1, 1.0,
	    "これは本当にひどい記事です THIS IS A DISGRACE" },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "这是一个很长的评论内容没有大写字母",
	    0, 0, NULL },
	{ CHECK_CAPS_RATIO, 0.7, NONE, 10, "😡😡😡 STOP LYING TO US 😡😡😡",
	    1, 1.0, "😡😡😡 STOP LYING TO US 😡😡😡" },

	/* link_count: the span is the first link beyond the limit. */
	{ CHECK_LINK_COUNT, 0, NONE, 0, "see https://example.com/path.", 1, 1,
	    "https://example.com/path" },
	{ CHECK_LINK_COUNT, 1, NONE, 0, "a http://x.ru and www.spam.biz", 1,
	    2, "www.spam.biz" },
	{ CHECK_LINK_COUNT, 2, NONE, 0, "a http://x.ru and www.spam.biz", 0,
	    2, NULL },
	{ CHECK_LINK_COUNT, 1, NONE, 0, "visit example.com or bit.ly/xyz now",
	    1, 2, "bit.ly/xyz" },
	{ CHECK_LINK_COUNT, 3, NONE, 0,
	    "a.com b.net c.org d.info e.biz", 1, 5, "d.info" },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "WWW.EXAMPLE.COM!", 1, 1,
	    "WWW.EXAMPLE.COM" },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "(see example.com)", 1, 1,
	    "example.com" },
	{ CHECK_LINK_COUNT, 0, NONE, 0,
	    "https://en.wikipedia.org/wiki/Foo_(bar) is good", 1, 1,
	    "https://en.wikipedia.org/wiki/Foo_(bar)" },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "clickhttp://spam.ru/x", 1, 1,
	    "http://spam.ru/x" },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "join t.me/freemoney", 1, 1,
	    "t.me/freemoney" },
	{ CHECK_LINK_COUNT, 0, NONE, 0,
	    "Смотрите https://пример.рф/статья, это важно", 1, 1,
	    "https://пример.рф/статья" },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "Читайте на lenta.ru сегодня", 1, 1,
	    "lenta.ru" },
	/* Not links: abbreviations, numbers, file names, addresses, prose. */
	{ CHECK_LINK_COUNT, 0, NONE, 0,
	    "e.g. this, i.e. that, 3.14, Mr.Smith, main.c and node.js", 0, 0,
	    NULL },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "mail john.doe@example.com", 0, 0,
	    NULL },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "it was good.it is over.In fact no",
	    0, 0, NULL },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "http:// and https://", 0, 0, NULL },
	{ CHECK_LINK_COUNT, 0, NONE, 0, "Nothing to see 👀 here", 0, 0, NULL },

	/* repeat_run: one code point over and over, white space aside. */
	{ CHECK_REPEAT_RUN, 5, NONE, 0, "Nooooooo!", 1, 7, "ooooooo" },
	{ CHECK_REPEAT_RUN, 5, NONE, 0, "Nooooo", 0, 5, NULL },
	{ CHECK_REPEAT_RUN, 5, NONE, 0, "what!!!!!!!!!!", 1, 10, "!!!!!!!!!!" },
	{ CHECK_REPEAT_RUN, 5, NONE, 0, "a            b\t\t\t\t\t\t\n\n\n\n\n\n",
	    0, 1, NULL },
	{ CHECK_REPEAT_RUN, 5, NONE, 0, "lol 😂😂😂😂😂😂", 1, 6,
	    "😂😂😂😂😂😂" },
	{ CHECK_REPEAT_RUN, 5, NONE, 0, "дааааааа", 1, 7, "ааааааа" },
	{ CHECK_REPEAT_RUN, 2, NONE, 0, "aAaAaA", 0, 1, NULL },
	{ CHECK_REPEAT_RUN, 2, NONE, 0, "aaa bbbb ccc", 1, 4, "bbbb" },
	{ CHECK_REPEAT_RUN, 5, NONE, 0, "", 0, 0, NULL },

	/* non_latin: letters outside Latin among all letters. */
	{ CHECK_NON_LATIN, 0.5, NONE, 10, "Это полностью русский текст", 1,
	    1.0, "Это полностью русский текст" },
	{ CHECK_NON_LATIN, 0.5, NONE, 10, "This is English text", 0, 0, NULL },
	{ CHECK_NON_LATIN, 0.5, NONE, 5, "Hello мир", 0, 3.0 / 8, NULL },
	{ CHECK_NON_LATIN, 0.5, NONE, 10, "日本語のテキストです", 1, 1.0,
	    "日本語のテキストです" },
	{ CHECK_NON_LATIN, 0.5, NONE, 10, "Ça va très bien, merci beaucoup",
	    0, 0, NULL },
	{ CHECK_NON_LATIN, 0.1, NONE, 10, "😀😀😀 123 абв", 0, 1.0, NULL },
	{ CHECK_NON_LATIN, 0.5, NONE, 10, "abcdeабвгд", 0, 0.5, NULL },
	{ CHECK_NON_LATIN, 0.5, NONE, 10, "abcdαβγδεζ", 1, 0.6,
	    "abcdαβγδεζ" },

	/* card_number: issuer prefix and Luhn; the span is the number. */
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "my card 4111 1111 1111 1111 ok",
	    1, 1, "4111 1111 1111 1111" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "4111-1111-1111-1111", 1, 1,
	    "4111-1111-1111-1111" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "(4111111111111111)", 1, 1,
	    "4111111111111111" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "amex 3782 822463 10005.", 1, 1,
	    "3782 822463 10005" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "mc 5555 5555 5555 4444 exp 12/27",
	    1, 1, "5555 5555 5555 4444" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "2221 0000 0000 0009", 1, 1,
	    "2221 0000 0000 0009" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "diners 3056 9309 0259 04", 1, 1,
	    "3056 9309 0259 04" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "jcb 3530111333300000", 1, 1,
	    "3530111333300000" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "visa 4222222222222", 1, 1,
	    "4222222222222" },
	/* Found eight bytes at a time, past any byte: where the digit falls. */
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "€€€€€€€€ 4111111111111111 ✓", 1,
	    1, "4111111111111111" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "Zahlung für Jürgen:4111111111111111",
	    1, 1, "4111111111111111" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "abcdefg\x7f\x80\xff" "1", 0, 0,
	    NULL },
	/* The expiry year or the code in the same run of digits. */
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "4111 1111 1111 1111 2027", 1, 1,
	    "4111 1111 1111 1111" },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "cvv 123 4111 1111 1111 1111", 1,
	    1, "4111 1111 1111 1111" },
	{ CHECK_CARD_NUMBER, 1, NONE, 0,
	    "4111111111111111 and 5105105105105100", 1, 2, "5105105105105100" },
	{ CHECK_CARD_NUMBER, 2, NONE, 0,
	    "4111111111111111 and 5105105105105100", 0, 2, NULL },
	/* Not cards: a bad checksum, no issuer, too short or long, glued. */
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "4111 1111 1111 1112", 0, 0, NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "0000 0000 0000 0000", 0, 0, NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "1234 5678 9012 3456", 0, 0, NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "call 79927398713 now", 0, 0,
	    NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "41111111111111111111111", 0, 0,
	    NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "id4111111111111111", 0, 0, NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "4111111111111111x", 0, 0, NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "4111  1111  1111  1111", 0, 0,
	    NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0,
	    "In 2019, 4,111 people paid $1,111.11 each.", 0, 0, NULL },
	{ CHECK_CARD_NUMBER, NONE, NONE, 0, "", 0, 0, NULL },

	/* gibberish: letters in mashed words among all letters. */
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "asdfghjkl", 1, 1.0, "asdfghjkl" },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "sdkjfhskdjfh lol", 1, 12.0 / 15,
	    "sdkjfhskdjfh" },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "qwertyuiop!!", 1, 1.0,
	    "qwertyuiop" },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "ajsdhajkshdkajshd", 1, 1.0,
	    "ajsdhajkshdkajshd" },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "ok zxcvbnm, dfgdfgdfg", 1, 16.0 / 18,
	    "zxcvbnm, dfgdfgdfg" },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "The strengths of the twelfths", 0,
	    0, NULL },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "Hmmmmmm, grrrrr. Shhhhh!", 0, 0,
	    NULL },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "My QWERTY keyboard broke", 0, 0,
	    NULL },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "A rhythm in Mississippi", 0, 0,
	    NULL },
	{ CHECK_GIBBERISH, 0.5, NONE, 6,
	    "Zmrzlina a čtvrtletí, Schrödinger und Straße", 0, 0, NULL },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "Это совершенно нормальный текст", 0,
	    0, NULL },
	{ CHECK_GIBBERISH, 0.2, NONE, 6,
	    "I read it twice and asdfgh then sdkjfhsd", 1, 8.0 / 33,
	    "sdkjfhsd" },
	/* Too few letters to judge, however mashed. */
	{ CHECK_GIBBERISH, 0.5, NONE, 20, "asdfghjkl", 0, 1.0, NULL },
	{ CHECK_GIBBERISH, 0.5, NONE, 6, "12345 67890 !!!", 0, 0, NULL },
};

/* Every case: result, measured value, and the span as text. */
static void
test_check_table(void **state)
{
	uint32_t start, end;
	struct rule r;
	double value;
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct check_case *c = &cases[i];
		size_t len = strlen(c->text);

		memset(&r, 0, sizeof r);
		r.kind = RULE_CHECK;
		r.check = c->kind;
		r.has_above = c->above >= 0;
		r.above = c->above;
		r.has_below = c->below >= 0;
		r.below = c->below;
		r.min_letters = c->min_letters;
		rc = check_eval(&r, c->text, len, &start, &end, &value);
		if (rc != c->rc || value < c->value - 1e-9 ||
		    value > c->value + 1e-9)
			fail_msg("%s on \"%s\": %d, %g; want %d, %g",
			    check_kind_name(c->kind), c->text, rc, value, c->rc,
			    c->value);
		if (rc == 1 && (end < start || end > len ||
		    end - start != strlen(c->span) ||
		    memcmp(c->text + start, c->span, end - start) != 0))
			fail_msg("%s on \"%s\": span \"%.*s\", want \"%s\"",
			    check_kind_name(c->kind), c->text,
			    (int)(end - start), c->text + start, c->span);
	}
}

/* The texts are not NUL-terminated where the caller says they end. */
static void
test_check_length_bound(void **state)
{
	const char text[] = "Nooooooo http://a.ru ÆØÅ";
	struct rule r;
	uint32_t start, end;
	double value;

	(void)state;
	memset(&r, 0, sizeof r);
	r.kind = RULE_CHECK;
	r.check = CHECK_REPEAT_RUN;
	r.has_above = true;
	r.above = 3;
	assert_int_equal(check_eval(&r, text, 4, &start, &end, &value), 0);
	assert_true(value == 3);
	r.check = CHECK_LINK_COUNT;
	r.above = 0;
	assert_int_equal(check_eval(&r, text, 16, &start, &end, &value), 0);
	assert_int_equal(check_eval(&r, text, 20, &start, &end, &value), 1);
	assert_int_equal(start, 9);
	assert_int_equal(end, 20);
	/* NULL outputs are allowed; other kinds of rule never match. */
	assert_int_equal(check_eval(&r, text, 20, NULL, NULL, NULL), 1);
	r.kind = RULE_REGEX;
	assert_int_equal(check_eval(&r, text, 20, &start, &end, &value), 0);
}

/* Names round-trip; unknown ones are refused. */
static void
test_check_names(void **state)
{
	static const char *const names[] = { "length", "caps_ratio",
	    "link_count", "repeat_run", "non_latin", "card_number",
	    "gibberish" };
	enum check_kind k;

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(check_parse_kind(names[i], &k), 0);
		assert_int_equal(k, (enum check_kind)i);
		assert_string_equal(check_kind_name(k), names[i]);
	}
	assert_int_equal(check_parse_kind("caps", &k), -1);
	assert_int_equal(check_parse_kind("", &k), -1);
	assert_int_equal(check_parse_kind("Length", &k), -1);
	assert_string_equal(check_kind_name((enum check_kind)99), "unknown");
}

/* The checksum on its own: the classic test numbers, and their neighbours. */
static void
test_card_number_luhn(void **state)
{
	static const struct {
		const char	*digits;
		int		 valid;
	} luhn[] = {
		{ "79927398713", 1 }, { "4111111111111111", 1 },
		{ "378282246310005", 1 }, { "6011111111111117", 1 },
		{ "30569309025904", 1 }, { "0", 1 },
		{ "79927398710", 0 }, { "4111111111111112", 0 },
		{ "378282246310006", 0 }, { "1", 0 }, { "", 0 },
	};
	unsigned char d[32];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof luhn / sizeof luhn[0]; i++) {
		for (n = 0; luhn[i].digits[n] != '\0'; n++)
			d[n] = (unsigned char)(luhn[i].digits[n] - '0');
		if (card_number_luhn(d, n) != luhn[i].valid)
			fail_msg("Luhn of \"%s\": want %d", luhn[i].digits,
			    luhn[i].valid);
	}
}

/* A run of groups is read in linear time and never past its length. */
static void
test_card_number_bounds(void **state)
{
	static const char card[] = "4111 1111 1111 1111 ";
	static char text[60000];
	size_t start, end;

	(void)state;
	/* One run of 3,000 numbers: each found, the last one shown. */
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = card[i % (sizeof card - 1)];
	assert_int_equal(card_number_count(text, sizeof text, 2999, &start,
	    &end), 3000);
	assert_int_equal(start, sizeof text - 20);
	assert_int_equal(end, sizeof text - 1);
	/* "1111 1111 ..." for ever: every group starts a look of 19 digits. */
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = i % 5 == 4 ? ' ' : '1';
	assert_int_equal(card_number_count(text, sizeof text, 0, &start, &end),
	    0);
	/* Cut inside the fourth group: only three groups remain. */
	assert_int_equal(card_number_count("4111 1111 1111 1111", 17, 0,
	    &start, &end), 0);
	assert_int_equal(start, 0);
	assert_int_equal(end, 0);
}

/* Words judged alone: each sign of mashing, and words that are not. */
static void
test_gibberish_words(void **state)
{
	static const char *const mashed[] = { "asdfghjkl", "SDKJFH",
	    "qwertyu", "poiuytre", "lkjhgfdsa", "zxcvbnm", "bcvxnmzl",
	    "ajsdhajkshdkajshd", "fjfjfjfjfjfj" };
	static const char *const words[] = { "qwerty", "strengths",
	    "twelfths", "rhythms", "hmmmmmmmm", "brrrrrrr", "typewriter",
	    "Mississippi", "nightclubs", "handcrafts", "NSFW", "LGBTQ",
	    "MSNBC", "sky", "a", "" };

	(void)state;
	for (size_t i = 0; i < sizeof mashed / sizeof mashed[0]; i++)
		if (!gibberish_word(mashed[i], strlen(mashed[i])))
			fail_msg("\"%s\" should be mashed", mashed[i]);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (gibberish_word(words[i], strlen(words[i])))
			fail_msg("\"%s\" should not be mashed", words[i]);
	/* Not a word of ASCII letters: never mashed. */
	assert_false(gibberish_word("sdkj1fh", 7));
}

/*
 * The eight-bytes-at-a-time paths of repeat_run and caps_ratio agree with
 * a plain reading, character by character, on many texts of every mix of
 * runs, spaces, capitals and non-ASCII letters, at every offset.
 */
static void
test_check_swar_paths(void **state)
{
	static const char *const atoms[] = { "a", "a", "b", "A", "B", " ", "\t",
	    "é", "É", "日", "!", "1" };
	const size_t natoms = sizeof atoms / sizeof atoms[0];
	char text[256];
	uint32_t seed = 12345, start, end;
	struct rule r;
	double value;

	(void)state;
	memset(&r, 0, sizeof r);
	r.kind = RULE_CHECK;
	r.has_above = true;
	for (int t = 0; t < 20000; t++) {
		size_t len = 0, atoms_in = (size_t)(t % 60);
		size_t best = 0, run = 0, bstart = 0, bend = 0, rstart = 0;
		size_t upper = 0, cased = 0;
		const char *prev = NULL;

		for (size_t k = 0; k < atoms_in; k++) {
			const char *a;
			size_t alen;

			seed = seed * 1103515245u + 12345u;
			/* Long stretches of one atom make the runs. */
			a = (seed >> 16) % 4 == 0 && prev != NULL ? prev :
			    atoms[(seed >> 8) % natoms];
			alen = strlen(a);
			if (a[0] == ' ' || a[0] == '\t') {
				run = 0;
				prev = a;
			} else {
				if (a != prev && (prev == NULL ||
				    strcmp(a, prev) != 0)) {
					run = 0;
					rstart = len;
				}
				if (++run > best) {
					best = run;
					bstart = rstart;
					bend = len + alen;
				}
				prev = a;
			}
			upper += strcmp(a, "A") == 0 || strcmp(a, "B") == 0 ||
			    strcmp(a, "É") == 0;
			cased += strcmp(a, "a") == 0 || strcmp(a, "b") == 0 ||
			    strcmp(a, "é") == 0 || strcmp(a, "A") == 0 ||
			    strcmp(a, "B") == 0 || strcmp(a, "É") == 0;
			memcpy(text + len, a, alen);
			len += alen;
		}
		r.check = CHECK_REPEAT_RUN;
		r.above = 1;
		check_eval(&r, text, len, &start, &end, &value);
		if (value != (double)best || (best > 1 && (start != bstart ||
		    end != bend)))
			fail_msg("repeat_run on \"%.*s\": %g [%u, %u), want %zu "
			    "[%zu, %zu)", (int)len, text, value, start, end, best,
			    bstart, bend);
		r.check = CHECK_CAPS_RATIO;
		r.above = 0.5;
		r.min_letters = 0;
		check_eval(&r, text, len, &start, &end, &value);
		if (value != (cased ? (double)upper / (double)cased : 0.0))
			fail_msg("caps_ratio on \"%.*s\": %g, want %zu/%zu",
			    (int)len, text, value, upper, cased);
	}
}

/* utf8_length counts code points. */
static void
test_utf8_length(void **state)
{
	(void)state;
	assert_int_equal(utf8_length("", 0), 0);
	assert_int_equal(utf8_length("abc", 3), 3);
	assert_int_equal(utf8_length("é", strlen("é")), 1);
	assert_int_equal(utf8_length("👍", strlen("👍")), 1);
	assert_int_equal(utf8_length("e\xcc\x81", 3), 2);
	assert_int_equal(utf8_length("Привет, мир!", strlen("Привет, мир!")),
	    12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_check_length_bound),
		cmocka_unit_test(test_check_names),
		cmocka_unit_test(test_check_swar_paths),
		cmocka_unit_test(test_card_number_luhn),
		cmocka_unit_test(test_card_number_bounds),
		cmocka_unit_test(test_gibberish_words),
		cmocka_unit_test(test_utf8_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
