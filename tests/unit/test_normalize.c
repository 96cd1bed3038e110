/*
 * Normalisation: every disguise it undoes, the text it must leave alone
 * (non-English comments), invalid UTF-8, and the map back to the original
 * bytes.  Tokenisation's readings are tested here too, as they are the
 * second half of the same job.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confusables.h"
#include "normalize.h"
#include "tokenize.h"

struct norm_case {
	const char	*in;
	const char	*out;
};

static const struct norm_case norm_cases[] = {
	/* ordinary text: only case folds */
	{ "Hello, World!", "hello, world!" },
	{ "It's 5 o'clock", "it's 5 o'clock" },
	{ "", "" },
	/* accents and hooks on Latin letters, ligatures, full width */
	{ "\xc6\x92\xc3\xbc\xc3\xa7k", "fuck" },			/* ƒüçk */
	{ "caf\xc3\xa9 na\xc3\xafve", "cafe naive" },
	{ "e\xcc\x81t\xc3\xa9", "ete" },				/* e + U+0301 */
	{ "\xef\xac\x81ne", "fine" },				/* ﬁ ligature */
	{ "\xef\xbd\x86\xef\xbd\x95\xef\xbd\x83\xef\xbd\x8b", "fuck" },	/* ｆｕｃｋ */
	{ "\xf0\x9d\x90\x9f\xf0\x9d\x90\xae\xf0\x9d\x90\x9c\xf0\x9d\x90\xa4",
	  "fuck" },						/* 𝐟𝐮𝐜𝐤 */
	{ "\xe2\x93\x95\xe2\x93\xa4\xe2\x93\x92\xe2\x93\x9a", "fuck" },	/* ⓕⓤⓒⓚ */
	{ "\xf0\x9f\x85\xb5\xf0\x9f\x86\x84\xf0\x9f\x85\xb2\xf0\x9f\x85\xba",
	  "fuck" },						/* 🅵🆄🅲🅺 */
	{ "STRA\xc3\x9f" "E", "strasse" },				/* ß */
	{ "\xc5\x81\xc3\xb3" "d\xc5\xba", "lodz" },			/* Łódź */
	{ "\xe1\xb4\x80ss", "ass" },				/* small capital A */
	/* invisible characters: zero width, bidi, soft hyphen, joiners */
	{ "fu\xe2\x80\x8b" "ck", "fuck" },
	{ "f\xe2\x80\x8cu\xe2\x80\x8d" "c\xc2\xad" "k", "fuck" },
	{ "\xe2\x80\xae" "kcuf\xe2\x80\xac", "kcuf" },
	{ "sh\xef\xbb\xbfit\xe2\x81\xa0", "shit" },
	/* lookalikes: mapped inside Latin words and in Latin comments */
	{ "fu\xd1\x81k", "fuck" },					/* Cyrillic с */
	{ "\xce\x91\xce\xa3\xce\xa3 you", "\xce\xb1\xcf\x83\xcf\x83 you" },	/* Σ has no twin: kept */
	{ "\xd0\xb0\xd1\x95\xd1\x95 hole", "ass hole" },		/* аѕѕ */
	{ "FU\xd0\xa1\xd0\x9a", "fuck" },				/* FUСК */
	/* text in other scripts keeps its letters */
	{ "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80",
	  "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80" },	/* привет мир */
	{ "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
	  "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0" },	/* Москва: lower case only */
	{ "\xd0\xb9\xd0\xbe\xd0\xb4", "\xd0\xb9\xd0\xbe\xd0\xb4" },	/* йод keeps й */
	{ "\xe3\x81\x8c\xe3\x81\x8e", "\xe3\x81\x8c\xe3\x81\x8e" },	/* がぎ */
	{ "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87",
	  "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87" },	/* नमस्ते */
	{ "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7" },	/* مرحبا */
	{ "\xe4\xbd\xa0\xe5\xa5\xbd", "\xe4\xbd\xa0\xe5\xa5\xbd" },	/* 你好 */
	{ "\xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1",
	  "\xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xb5\xcf\x81\xce\xb1" },	/* Καλημέρα */
	{ "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln", "grusse aus koln" },
	{ "\xf0\x9f\x98\x80 ok", "\xf0\x9f\x98\x80 ok" },		/* emoji stays */
};

static void
test_normalize_cases(void **state)
{
	struct normalize_opts o;
	struct ntext t;
	int failed = 0;

	(void)state;
	normalize_opts_default(&o);
	ntext_init(&t);
	for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
		size_t bad = 0;
		char *out;

		assert_int_equal(normalize_text(&o, norm_cases[i].in,
		    strlen(norm_cases[i].in), &t, &bad), 0);
		out = ntext_to_utf8(&t);
		if (strcmp(out, norm_cases[i].out) != 0) {
			print_error("case %zu: \"%s\" -> \"%s\", want \"%s\"\n",
			    i, norm_cases[i].in, out, norm_cases[i].out);
			failed++;
		}
		free(out);
	}
	ntext_free(&t);
	assert_int_equal(failed, 0);
}

static void
test_options_off(void **state)
{
	struct normalize_opts o = { 0 };
	struct ntext t;
	size_t bad;
	char *out;
	const char *in = "\xc3\xbc" "fu\xe2\x80\x8b\xd1\x81k";	/* ü fu ZWSP с k */

	(void)state;
	ntext_init(&t);
	assert_int_equal(normalize_text(&o, in, strlen(in), &t, &bad), 0);
	out = ntext_to_utf8(&t);
	/* marks kept (recomposed), the zero-width space kept, с kept */
	assert_string_equal(out, "\xc3\xbc" "fu\xe2\x80\x8b\xd1\x81k");
	free(out);
	ntext_free(&t);
}

struct bad_case {
	const char	*in;
	size_t		 len;
	size_t		 at;
};

static const struct bad_case bad_cases[] = {
	{ "\xff", 1, 0 },
	{ "ok \xc3", 4, 3 },				/* truncated */
	{ "ab\xc0\xaf", 4, 2 },				/* overlong */
	{ "x\xed\xa0\x80", 4, 1 },			/* surrogate */
	{ "\xf4\x90\x80\x80", 4, 0 },			/* beyond U+10FFFF */
	{ "fine\x80", 5, 4 },				/* lone continuation */
};

static void
test_invalid_utf8(void **state)
{
	struct normalize_opts o;
	struct ntext t;

	(void)state;
	normalize_opts_default(&o);
	ntext_init(&t);
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		size_t bad = 99;
		assert_int_equal(normalize_text(&o, bad_cases[i].in,
		    bad_cases[i].len, &t, &bad), -1);
		assert_int_equal(bad, bad_cases[i].at);
	}
	/* NUL is a character like any other: the caller decides about it */
	size_t bad = 0;
	assert_int_equal(normalize_text(&o, "a\0b", 3, &t, &bad), 0);
	assert_int_equal(t.n, 3);
	ntext_free(&t);
}

static void
test_span_map(void **state)
{
	struct normalize_opts o;
	struct ntext t;
	size_t bad;
	const char *in = "A \xef\xbd\x86\xc3\x9f";	/* "A ｆß" */

	(void)state;
	normalize_opts_default(&o);
	ntext_init(&t);
	assert_int_equal(normalize_text(&o, in, strlen(in), &t, &bad), 0);
	assert_int_equal(t.n, 5);			/* a, space, f, s, s */
	assert_int_equal(t.c[0].start, 0);
	assert_int_equal(t.c[0].upper, 1);
	assert_int_equal(t.c[2].start, 2);
	assert_int_equal(t.c[2].end, 5);		/* ｆ is 3 bytes */
	assert_int_equal(t.c[3].start, 5);		/* both s come from ß */
	assert_int_equal(t.c[4].end, 7);
	ntext_free(&t);
}

/* The readings of each word of text, as "r1|r2;r1;..." */
static void
readings_of(const char *text, char *out, size_t size)
{
	struct normalize_opts o;
	struct ntext t;
	struct tokens tk;
	size_t bad, n = 0;

	normalize_opts_default(&o);
	ntext_init(&t);
	tokens_init(&tk);
	assert_int_equal(normalize_text(&o, text, strlen(text), &t, &bad), 0);
	tokenize(&o, &t, &tk);
	out[0] = '\0';
	for (size_t i = 0; i < tk.n; i++) {
		for (size_t r = 0; r < tk.t[i].nreadings; r++) {
			const struct reading *rd = &tk.r[tk.t[i].first + r];
			n += (size_t)snprintf(out + n, size - n, "%s%s%.*s",
			    r ? "|" : (i ? ";" : ""),
			    tk.t[i].flags & TOKEN_JOINED ? "+" : "",
			    rd->len, tk.bytes + rd->off);
		}
	}
	tokens_free(&tk);
	ntext_free(&t);
}

static const struct norm_case reading_cases[] = {
	{ "Hello world", "hello;world" },
	{ "hello!", "hello" },
	{ "don't", "dont" },
	{ "sh!t", "shit" },
	{ "5h1t", "5h1t|shit|shlt" },
	{ "$hit", "hit|shit" },
	{ "a$$", "a|ass" },
	{ "@$$", "ass" },
	{ "f*ck f**k", "f?ck;f??k" },
	{ "fuuuuck", "fuuuuck|fuck|fuuck" },
	{ "f u c k", "f;u;c;k;+fuck" },
	{ "f.u.c.k!", "f;u;c;k;+fuck" },
	{ "I am a big cat", "i;am;a;big;cat" },
	{ "2019", "2019" },
	{ "#hashtag", "hashtag" },
	{ "!!!", "iii|i|ii" },
};

static void
test_readings(void **state)
{
	char got[512];
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof reading_cases / sizeof reading_cases[0];
	    i++) {
		readings_of(reading_cases[i].in, got, sizeof got);
		if (strcmp(got, reading_cases[i].out) != 0) {
			print_error("\"%s\": \"%s\", want \"%s\"\n",
			    reading_cases[i].in, got, reading_cases[i].out);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_readings_bounded(void **state)
{
	struct normalize_opts o;
	struct ntext t;
	struct tokens tk;
	size_t bad;
	const char *in = "1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1";

	(void)state;
	normalize_opts_default(&o);
	ntext_init(&t);
	tokens_init(&tk);
	assert_int_equal(normalize_text(&o, in, strlen(in), &t, &bad), 0);
	tokenize(&o, &t, &tk);
	assert_int_equal(tk.n, 1);
	assert_true(tk.t[0].nreadings <= TOKEN_MAX_READINGS);
	tokens_free(&tk);
	ntext_free(&t);
}

static void
test_confusable_table(void **state)
{
	(void)state;
	assert_int_equal(confusable_latin(0x0430), 'a');	/* Cyrillic а */
	assert_int_equal(confusable_latin(0x041D), 'h');	/* Cyrillic Н */
	assert_int_equal(confusable_latin(0x03B7), 'n');	/* Greek η */
	assert_int_equal(confusable_latin(0x0397), 'h');	/* Greek Η */
	assert_int_equal(confusable_latin(0x0192), 'f');	/* ƒ */
	assert_int_equal(confusable_latin(0x1F1E6), 'a');	/* regional A */
	assert_int_equal(confusable_latin('a'), 0);
	assert_int_equal(confusable_latin(0x0436), 0);		/* ж */
	/* the table is searched by bisection: entries from end to end are found */
	assert_int_equal(confusable_latin(0x00F8), 'o');	/* first: ø */
	assert_int_equal(confusable_latin(0x02A0), 'q');
	assert_int_equal(confusable_latin(0x03F9), 'c');
	assert_int_equal(confusable_latin(0x0405), 's');
	assert_int_equal(confusable_latin(0x051D), 'w');
	assert_int_equal(confusable_latin(0x1D22), 'z');
	assert_int_equal(confusable_latin(0xA731), 's');	/* last */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_cases),
		cmocka_unit_test(test_options_off),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_span_map),
		cmocka_unit_test(test_readings),
		cmocka_unit_test(test_readings_bounded),
		cmocka_unit_test(test_confusable_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
