/*
 * Unit tests for regex_literals.c: the literals of known patterns, the
 * patterns it must give up on, and its one promise checked against PCRE2
 * itself: over many random patterns and texts, whenever PCRE2 finds a
 * match, the text (ASCII letters folded) holds one of the literals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include "regex_literals.h"

/* The literals, sorted and joined with '|', or "-" when there are none. */
static void
literals_of(const char *pattern, int case_sensitive, char *out, size_t size)
{
	struct regex_literals l;
	char *v[64];
	size_t n = 0;

	if (regex_literals(pattern, strlen(pattern), case_sensitive, &l) == -1) {
		snprintf(out, size, "-");
		return;
	}
	assert_true(l.n > 0 && l.n <= 64);
	for (size_t i = 0; i < l.n; i++) {
		assert_true(l.v[i].len > 0);
		v[i] = strndup(l.v[i].b, l.v[i].len);
		assert_non_null(v[i]);
	}
	for (size_t i = 1; i < l.n; i++)	/* insertion sort */
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	out[0] = '\0';
	for (size_t i = 0; i < l.n; i++) {
		n += (size_t)snprintf(out + n, size - n, "%s%s", i ? "|" : "",
		    v[i]);
		free(v[i]);
	}
	regex_literals_free(&l);
}

static void
expect(const char *pattern, int case_sensitive, const char *want)
{
	char got[1024];

	literals_of(pattern, case_sensitive, got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("%s (%s): got \"%s\", want \"%s\"", pattern,
		    case_sensitive ? "case-sensitive" : "caseless", got, want);
}

#define K_SIGN	"\xe2\x84\xaa"		/* U+212A KELVIN SIGN */
#define LONG_S	"\xc5\xbf"		/* U+017F LATIN SMALL LETTER LONG S */

static void
test_known_patterns(void **state)
{
	(void)state;
	expect("cheap", 0, "cheap");
	expect("CHEAP", 1, "cheap");		/* folded; the scan folds too */
	expect("\\bcheap\\s+watch(es)?\\b", 0, "cheap");
	expect("colou?r", 1, "color|colour");
	expect("f[u*@]ck", 1, "f*ck|f@ck|fuck");
	expect("f[u*@]ck", 0, "f*ck|f*c" K_SIGN "|f@ck|f@c" K_SIGN "|fuck|fuc"
	    K_SIGN);
	expect("as", 0, "as|a" LONG_S);
	expect("ab.*cdef", 1, "cdef");		/* the longer wins */
	expect("(?:alpha|beta)\\d+", 1, "alpha|beta");
	expect("x{3}", 1, "xxx");
	expect("xa?y", 1, "xay|xy");
	expect("xa{0,2}y", 1, "x");		/* xaay: no exact set of two */
	expect("xa*y", 1, "x");
	expect("xa{1,2}y", 1, "xaay|xay");
	expect("xa+y", 1, "xa");
	expect("(?:ab){2,}", 1, "abab");
	expect("\\Qa.b*\\E", 1, "a.b*");
	expect("\\x41\\x{42}\\.", 1, "ab.");
	expect("(?=abc)xy", 1, "xy");
	expect("[^a]bc", 1, "bc");
	expect("[a-c]xy", 1, "xy");
	expect("(?#note)abc", 1, "abc");
	expect("(?<word>ab)c", 1, "abc");
	expect("(?x) a b # a comment\n c [ ]", 1, "abc ");
	expect("(?x: a b ) c d", 1, "ab c d");
	expect("a(?x) b (?-x) c", 1, "ab c");
	expect("\xc3\xa9t\xc3\xa9", 1, "\xc3\xa9t\xc3\xa9");
	/* Caseless, a non-ASCII letter's other forms are not known here. */
	expect("\xc3\xa9t\xc3\xa9", 0, "t");
	/* An (?i) anywhere reads the whole pattern caseless. */
	expect("ab(?i)k", 1, "abk|ab" K_SIGN);
}

static void
test_patterns_it_gives_up_on(void **state)
{
	(void)state;
	expect("a*", 1, "-");
	expect("a|", 1, "-");
	expect("\\w+", 1, "-");
	expect("(a)\\1", 1, "-");		/* back reference */
	expect("\\0101", 1, "-");		/* octal */
	expect("a{,3}b", 1, "-");		/* literal in 10.42 */
	expect("a{x}", 1, "-");
	expect("(*UTF)abc", 1, "-");
	expect("(?(1)a|b)", 1, "-");
	expect("(?R)", 1, "-");
	expect("(?xx)a", 1, "-");
	expect("ab)", 1, "-");
	expect("(ab", 1, "-");
	/* Lazy or a quantifier of its own: PCRE2 versions differ. */
	expect("(?x)a+ ?", 1, "-");
	expect("a+ ?", 1, "a");			/* not extended: an optional space */
}

static void
test_deep_nesting_gives_up(void **state)
{
	char pat[512];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		pat[n++] = '(';
	pat[n++] = 'a';
	for (int i = 0; i < 100; i++)
		pat[n++] = ')';
	pat[n] = '\0';
	expect(pat, 1, "-");
	expect("((((a))))", 1, "a");
}

/*
 * The list of non-ASCII characters that PCRE2 (UTF, UCP, caseless) takes
 * for an ASCII letter must be the one literal_char() knows: K and s.
 */
static void
test_caseless_ascii_partners_are_kelvin_and_long_s(void **state)
{
	static const char pat[] = "[a-z]";
	pcre2_code *code;
	pcre2_match_data *md;
	int err, found = 0;
	PCRE2_SIZE off;

	(void)state;
	code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &err, &off, NULL);
	assert_non_null(code);
	md = pcre2_match_data_create_from_pattern(code, NULL);
	for (uint32_t cp = 0x80; cp <= 0x10ffff; cp++) {
		utf8proc_uint8_t b[4];
		utf8proc_ssize_t len;

		if (!utf8proc_codepoint_valid((utf8proc_int32_t)cp))
			continue;
		len = utf8proc_encode_char((utf8proc_int32_t)cp, b);
		if (pcre2_match(code, b, (PCRE2_SIZE)len, 0, 0, md, NULL) < 0)
			continue;
		if (cp != 0x212a && cp != 0x17f)
			fail_msg("U+%04X is caseless-equal to an ASCII letter", cp);
		found++;
	}
	assert_int_equal(found, 2);
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	expect("k", 0, "k|" K_SIGN);
	expect("s", 0, "s|" LONG_S);
}

/* A small deterministic generator (xorshift64). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static unsigned
rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static void
put(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s", s);
}

static const char *const atoms[] = {
	"a", "b", "k", "s", "K", "S", "\xc3\xa9", "\xc3\x89", "-", " ", "x",
	"\\.", "\\x{41}", "\\x6b", "\\Qa.k\\E", "[ab]", "[ks]", "[^a]",
	"[a-c]", "[\\w-]", "[\xc3\xa9s]", "[[:alpha:]]", ".", "\\w", "\\d",
	"\\s", "\\b", "^", "$", "(?<=a)", "(?<!k)", "(?i)", "(?-i)", "(?x)",
	"(?-x)", " #c\n", "\\ ", K_SIGN, LONG_S, "(?#c)",
};
static const char *const quantifiers[] = {
	"", "", "", "", "?", "*", "+", "{2}", "{1,3}", "{0,2}", "{2,}", "??",
	"+?", "*+",
};
static const char *const groups[][2] = {
	{ "(", ")" }, { "(?:", ")" }, { "(?>", ")" }, { "(?=", ")" },
	{ "(?!", ")" }, { "(?i:", ")" }, { "(?x:", ")" }, { "(?|", ")" },
	{ "(?<n", ">" },
};

/* A random pattern of up to `depth` nested groups. */
static void
gen_pattern(char *buf, size_t size, int depth)
{
	unsigned items = 1 + rnd(5);

	for (unsigned i = 0; i < items; i++) {
		if (depth > 0 && rnd(4) == 0) {
			unsigned g = rnd(sizeof groups / sizeof groups[0]);

			put(buf, size, groups[g][0]);
			if (g == 8) {		/* a named group */
				char name[8];

				snprintf(name, sizeof name, "%u>", rnd(1000));
				put(buf, size, name);
			}
			gen_pattern(buf, size, depth - 1);
			if (rnd(3) == 0) {
				put(buf, size, "|");
				gen_pattern(buf, size, depth - 1);
			}
			put(buf, size, ")");
		} else
			put(buf, size, atoms[rnd(sizeof atoms / sizeof atoms[0])]);
		put(buf, size, quantifiers[rnd(sizeof quantifiers /
		    sizeof quantifiers[0])]);
	}
	if (rnd(6) == 0) {
		put(buf, size, "|");
		put(buf, size, atoms[rnd(sizeof atoms / sizeof atoms[0])]);
	}
}

static const char *const pieces[] = {
	"a", "b", "k", "s", "A", "B", "K", "S", K_SIGN, LONG_S, "\xc3\xa9",
	"\xc3\x89", "-", " ", "x", "X", ".", "aks", "kiss", "\n", "ab", "ba",
};
/* Texts of a few letters, so that repetitions are met often too. */
static const char *const few[] = { "a", "b", "x", "k", "s", "aa", "ab" };

/* Whether text (its ASCII letters folded) holds one of the literals. */
static int
holds_one(const struct regex_literals *l, const char *text, size_t len)
{
	char folded[256];

	for (size_t i = 0; i < len; i++)
		folded[i] = text[i] >= 'A' && text[i] <= 'Z' ?
		    (char)(text[i] - 'A' + 'a') : text[i];
	for (size_t i = 0; i < l->n; i++)
		if (memmem(folded, len, l->v[i].b, l->v[i].len) != NULL)
			return 1;
	return 0;
}

static void
test_every_pcre2_match_holds_a_literal(void **state)
{
	size_t compiled = 0, with_literals = 0, matches = 0, pruned = 0;

	(void)state;
	for (int n = 0; n < 40000; n++) {
		char pat[1024] = "", text[256];
		int case_sensitive = (int)rnd(2), err;
		PCRE2_SIZE off;
		pcre2_code *code;
		pcre2_match_data *md;
		struct regex_literals l;

		gen_pattern(pat, sizeof pat, 3);
		code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C |
		    (case_sensitive ? 0 : PCRE2_CASELESS), &err, &off, NULL);
		if (code == NULL)
			continue;
		compiled++;
		if (regex_literals(pat, strlen(pat), case_sensitive, &l) == -1) {
			pcre2_code_free(code);
			continue;
		}
		with_literals++;
		md = pcre2_match_data_create_from_pattern(code, NULL);
		for (int t = 0; t < 40; t++) {
			size_t len = 0;
			unsigned k = rnd(12);

			text[0] = '\0';
			for (unsigned i = 0; i < k; i++)
				put(text, sizeof text, t % 2 ? few[rnd(sizeof
				    few / sizeof few[0])] : pieces[rnd(sizeof
				    pieces / sizeof pieces[0])]);
			len = strlen(text);
			if (pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, md,
			    NULL) < 0) {
				pruned += !holds_one(&l, text, len);
				continue;
			}
			matches++;
			if (!holds_one(&l, text, len))
				fail_msg("pattern \"%s\" (%s) matches \"%s\", "
				    "which holds none of its %zu literals "
				    "(first \"%.*s\")", pat, case_sensitive ?
				    "case-sensitive" : "caseless", text, l.n,
				    (int)l.v[0].len, l.v[0].b);
		}
		pcre2_match_data_free(md);
		regex_literals_free(&l);
		pcre2_code_free(code);
	}
	print_message("%zu patterns compiled, %zu with literals; %zu matches "
	    "checked, %zu non-matching texts pruned\n", compiled,
	    with_literals, matches, pruned);
	/* Enough real work that a broken extractor would have shown. */
	assert_true(compiled > 15000);
	assert_true(with_literals > 8000);
	assert_true(matches > 40000);
	assert_true(pruned > 100000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_patterns),
		cmocka_unit_test(test_patterns_it_gives_up_on),
		cmocka_unit_test(test_deep_nesting_gives_up),
		cmocka_unit_test(test_caseless_ascii_partners_are_kelvin_and_long_s),
		cmocka_unit_test(test_every_pcre2_match_holds_a_literal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
