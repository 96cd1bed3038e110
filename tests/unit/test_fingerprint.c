/*
 * fingerprint: a table of texts and the normalised text each must hash as
 * (docs/redis.md: NFKC, case folded, letters and digits kept, every run of
 * anything else one space, trimmed).  The expected fingerprint is computed
 * here from the expected text with OpenSSL, so each case checks the
 * normalisation and the hashing both, and whether anything was kept.  Invalid UTF-8 separates words and
 * never crashes; arbitrary bytes always give 32 hex digits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "fingerprint.h"

struct fp_case {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*normalised;
};

static const struct fp_case cases[] = {
	{ "buy now", 0, "buy now" },
	{ "Buy NOW!!!", 0, "buy now" },
	{ "  buy,   now... ", 0, "buy now" },
	{ "buy\tnow\r\n", 0, "buy now" },
	{ "", 0, "" },
	{ "!!! ...", 0, "" },
	/* NFKC: full-width letters, ideographic space, ligatures, x² */
	{ "\xef\xbc\xa2\xef\xbd\x95\xef\xbd\x99\xe3\x80\x80\xef\xbd\x8e"
	  "\xef\xbd\x8f\xef\xbd\x97", 0, "buy now" },
	{ "\xef\xac\x81ne", 0, "fine" },
	{ "x\xc2\xb2 route 66", 0, "x2 route 66" },
	/* case folding beyond ASCII */
	{ "STRA\xc3\x9f" "E", 0, "strasse" },
	{ "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, \xd0\x9c\xd0\x98"
	  "\xd0\xa0!", 0, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	  "\xd0\xbc\xd0\xb8\xd1\x80" },
	/* composed and decomposed accents are one letter */
	{ "Caf\xc3\xa9", 0, "caf\xc3\xa9" },
	{ "cafe\xcc\x81", 0, "caf\xc3\xa9" },
	/* marks on letters stay (Devanagari vowel signs); alone they go */
	{ "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4"
	  "\xe0\xa5\x87", 0, "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d"
	  "\xe0\xa4\xa4\xe0\xa5\x87" },
	{ "\xcc\x81" "a", 0, "a" },
	/* zero-width characters vanish rather than split words */
	{ "bu\xe2\x80\x8by n\xc2\xadow", 0, "buy now" },
	/* emoji and symbols are separators */
	{ "\xf0\x9f\x91\x8d great \xe2\x82\xac" "5", 0, "great 5" },
	{ "don't", 0, "don t" },
	/* invalid UTF-8 and NUL separate words */
	{ "buy\xffnow", 0, "buy now" },
	{ "a\xed\xa0\x80" "b", 0, "a b" },
	{ "\xc3", 0, "" },
	{ "ok\xc3", 0, "ok" },
	{ "\x80\x80ok\xf8\x88\x80\x80\x80", 0, "ok" },
	{ "a\0b", 3, "a b" },
};

/* The fingerprint of an already normalised text, computed independently. */
static void
expected(const char *normalised, char out[FINGERPRINT_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(normalised, strlen(normalised), md, &n,
	    EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
	for (size_t i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
test_fingerprint_cases(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct fp_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		char got[FINGERPRINT_HEX + 1], want[FINGERPRINT_HEX + 1];

		bool kept;

		memset(got, 'X', sizeof got);
		kept = fingerprint_text(c->text, len, got);
		expected(c->normalised, want);
		if (memcmp(got, want, sizeof got) != 0 ||
		    kept != (c->normalised[0] != '\0')) {
			print_error("case %zu: got %.33s, want %s (\"%s\")\n",
			    i, got, want, c->normalised);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_known_value(void **state)
{
	char got[FINGERPRINT_HEX + 1];

	(void)state;
	/* SHA-256("buy now"), first 16 bytes, from sha256sum(1). */
	fingerprint_text("Buy NOW!!!", 10, got);
	assert_string_equal(got, "a7219a05dccdd3e89b58bd0e6f88973b");
}

static void
test_long_text(void **state)
{
	const char word[] = "Spam, SPAM and\xe2\x80\x8b more spam! ";
	size_t wl = strlen(word), reps = 20000;
	char *text = malloc(wl * reps), *norm = malloc(reps * 24 + 1);
	char got[FINGERPRINT_HEX + 1], want[FINGERPRINT_HEX + 1];
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	assert_non_null(norm);
	for (size_t i = 0; i < reps; i++) {
		memcpy(text + i * wl, word, wl);
		n += (size_t)sprintf(norm + n, "%sspam spam and more spam",
		    i ? " " : "");
	}
	fingerprint_text(text, wl * reps, got);
	expected(norm, want);
	assert_string_equal(got, want);
	free(text);
	free(norm);
}

static void
test_arbitrary_bytes(void **state)
{
	uint32_t x = 2463534242u;
	unsigned char buf[64];
	char got[FINGERPRINT_HEX + 1];

	(void)state;
	/* xorshift32: the same bytes every run */
	for (int round = 0; round < 5000; round++) {
		size_t len = (size_t)(x % sizeof buf);
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (unsigned char)x;
		}
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		fingerprint_text((const char *)buf, len, got);
		assert_int_equal(strspn(got, "0123456789abcdef"),
		    FINGERPRINT_HEX);
		assert_int_equal(got[FINGERPRINT_HEX], '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint_cases),
		cmocka_unit_test(test_known_value),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_arbitrary_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
