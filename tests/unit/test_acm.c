/*
 * The Aho-Corasick automaton: every occurrence of every pattern, overlapping
 * and nested ones included, checked against a naive search over a table of
 * texts and over pseudo-random texts on a small alphabet (where overlaps
 * are the rule, not the exception).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acm.h"

#define MAX_HITS	4096

struct hits {
	size_t		 n;
	uint32_t	 pat[MAX_HITS];
	size_t		 end[MAX_HITS];
};

static void
collect_cb(void *arg, uint32_t pattern, size_t end)
{
	struct hits *h = arg;

	assert_true(h->n < MAX_HITS);
	h->pat[h->n] = pattern;
	h->end[h->n++] = end;
}

/* Every (pattern, end) pair a naive search finds, counted. */
static size_t
naive_count(const char *const *pats, size_t npats, const char *text)
{
	size_t n = 0, len = strlen(text);

	for (size_t p = 0; p < npats; p++) {
		size_t pl = strlen(pats[p]);
		for (size_t i = 0; i + pl <= len; i++)
			n += memcmp(text + i, pats[p], pl) == 0;
	}
	return n;
}

/* True if the automaton reported pattern p ending at `end`, and it is there. */
static int
hit_is_real(const char *const *pats, const char *text, uint32_t p, size_t end)
{
	size_t pl = strlen(pats[p]);

	return end >= pl && memcmp(text + end - pl, pats[p], pl) == 0;
}

static void
check_text(const struct acm *a, const char *const *pats, size_t npats,
    const char *text)
{
	struct hits h = { 0 };

	acm_scan(a, text, strlen(text), collect_cb, &h);
	assert_int_equal(h.n, naive_count(pats, npats, text));
	for (size_t i = 0; i < h.n; i++)
		assert_true(hit_is_real(pats, text, h.pat[i], h.end[i]));
}

static const char *const words[] = { "he", "she", "his", "hers", "fuck",
	"uck", "cunt", "a", "aa", "aaa" };
#define NWORDS	(sizeof words / sizeof words[0])

static const char *const texts[] = {
	"", "ushers", "shehishers", "motherfucker", "scunthorpe", "aaaa",
	"xyz", "HE she", "fuckfuck", "h\xc3\xa9llo she",
};

static void
test_table(void **state)
{
	uint32_t lens[NWORDS];
	struct acm *a;

	(void)state;
	for (size_t i = 0; i < NWORDS; i++)
		lens[i] = (uint32_t)strlen(words[i]);
	a = acm_build(words, lens, NWORDS);
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		check_text(a, words, NWORDS, texts[i]);
	acm_free(a);
}

static void
test_random(void **state)
{
	const char *pats[40];
	char pbuf[40][8], text[257];
	uint32_t lens[40];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 50; round++) {
		size_t np = 1 + (size_t)(rand_r(&seed) % 40);
		for (size_t p = 0; p < np; p++) {
			size_t pl = 1 + (size_t)(rand_r(&seed) % 6);
			for (size_t k = 0; k < pl; k++)
				pbuf[p][k] = (char)('a' + rand_r(&seed) % 3);
			pbuf[p][pl] = '\0';
			pats[p] = pbuf[p];
			lens[p] = (uint32_t)pl;
		}
		struct acm *a = acm_build(pats, lens, np);
		for (int t = 0; t < 10; t++) {
			size_t tl = (size_t)(rand_r(&seed) % 256);
			for (size_t k = 0; k < tl; k++)
				text[k] = (char)('a' + rand_r(&seed) % 4);
			text[tl] = '\0';
			check_text(a, pats, np, text);
		}
		acm_free(a);
	}
}

static void
test_empty(void **state)
{
	struct hits h = { 0 };
	struct acm *a = acm_build(NULL, NULL, 0);

	(void)state;
	acm_scan(a, "anything", 8, collect_cb, &h);
	assert_int_equal(h.n, 0);
	acm_scan(NULL, "anything", 8, collect_cb, &h);
	assert_int_equal(h.n, 0);
	acm_free(a);
	acm_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
