/*
 * Unit tests for regex_prefilter.c: which rules a scan marks, the rules it
 * cannot take, and that a verdict is the same with and without it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "regex_prefilter.h"

static const char *policy_text =
    "policy: prefilter-test\n"
    "rules:\n"
    "  - {id: t.word, regex: '\\bcheap\\s+watch(es)?\\b', action: reject, category: spam}\n"
    "  - {id: t.norm, regex: 'casino', normalized: true, action: queue, category: spam}\n"
    "  - {id: t.uni, regex: 'sp\\wcial ÉTÉ', action: queue, category: spam}\n"
    "  - {id: t.case, regex: 'Kelvin', case_sensitive: true, action: queue, category: spam}\n"
    "  - {id: t.kelvin, regex: 'kelvin', action: queue, category: spam}\n"
    "  - {id: t.empty, regex: 'z*', action: queue, category: spam}\n"
    "  - {id: t.name, regex: 'admin', field: author.name, action: queue, category: spam}\n"
    "  - {id: t.count, check: caps_ratio, above: 0.9, action: queue, category: shouting}\n";

#include "policy_fixture.h"

/*
 * The group's policy with every rule the prefilter can take filtered: a
 * load leaves the normalised text's and the name's one rule each to PCRE2
 * alone (test_too_few_rules_on_a_text_run_always).
 */
static int
setup_every_rule(void **state)
{
	struct policy *p;

	setup(state);
	p = *state;
	prefilter_free(p->prefilter);
	p->prefilter = prefilter_build_min(p, 1, &p->nunfiltered);
	return 0;
}

static size_t
rule_index(const struct policy *p, const char *id)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].id, id) == 0)
			return i;
	fail_msg("no rule %s", id);
	return 0;
}

/* The ids of the rules a scan of the body (as sent) marks, in order. */
static void
marked(const struct policy *p, int t, const char *text, char *out,
    size_t size)
{
	uint8_t *maybe = calloc(p->nrules, 1);
	size_t n = 0;

	assert_non_null(maybe);
	prefilter_begin(p->prefilter, p, maybe);
	prefilter_scan(p->prefilter, t, text, strlen(text), maybe);
	out[0] = '\0';
	for (size_t i = 0; i < p->nrules; i++)
		if (maybe[i])
			n += (size_t)snprintf(out + n, size - n, "%s%s",
			    n ? "," : "", p->rules[i].id);
	free(maybe);
}

static void
test_scan_marks_only_what_may_match(void **state)
{
	const struct policy *p = *state;
	char got[256];

	assert_non_null(p->prefilter);
	/* t.empty matches the empty string: it has no literal, so it runs
	 * always; the rest are filtered. */
	assert_int_equal(p->nunfiltered, 1);
	assert_int_equal(prefilter_text(p, rule_index(p, "t.norm")), 1);
	assert_int_equal(prefilter_text(p, rule_index(p, "t.name")), 2);
	marked(p, 0, "a calm comment about the weather", got, sizeof got);
	assert_string_equal(got, "t.empty");
	marked(p, 0, "CHEAP   Watches here", got, sizeof got);
	assert_string_equal(got, "t.word,t.empty");
	/* Unicode: \w takes the accented letters, and É is caseless. */
	marked(p, 0, "un spécial été", got, sizeof got);
	assert_string_equal(got, "t.uni,t.empty");
	/* The scan folds ASCII case even for a case-sensitive rule: it may
	 * mark more, PCRE2 decides.  The normalised text is another scan. */
	marked(p, 0, "kelvin casino", got, sizeof got);
	assert_string_equal(got, "t.case,t.kelvin,t.empty");
	/* Caseless, k is also the KELVIN SIGN, which PCRE2 matches. */
	marked(p, 0, "\xe2\x84\xaa" "ELVIN", got, sizeof got);
	assert_string_equal(got, "t.kelvin,t.empty");
	marked(p, 1, "casino", got, sizeof got);
	assert_string_equal(got, "t.norm,t.empty");
	marked(p, 2, "the admin", got, sizeof got);
	assert_string_equal(got, "t.empty,t.name");
}

/* The verdicts with and without the prefilter, as reason lists. */
static void
both_ways(struct policy *p, const char *body, const char *name, char *with,
    char *without, size_t size)
{
	struct eval_scratch *s = eval_scratch_new();
	struct prefilter *pf = p->prefilter;
	struct comment c = { body, strlen(body), name, name ? strlen(name) : 0 };
	struct verdict v;

	verdict_init(&v);
	assert_int_equal(eval_comment(p, &c, s, &v, NULL), 0);
	reason_ids(&v, with, size);
	p->prefilter = NULL;
	assert_int_equal(eval_comment(p, &c, s, &v, NULL), 0);
	reason_ids(&v, without, size);
	p->prefilter = pf;
	verdict_free(&v);
	eval_scratch_free(s);
}

static void
test_verdicts_are_the_same_without_it(void **state)
{
	static const char *const bodies[] = {
		"cheap watches", "Cheap\twatch", "nothing here", "CASINO night",
		"c a s i n o", "Ça c'est l'ÉTÉ", "un spécial été", "SPÉCIAL ÉTÉ", "Kelvin", "kelvin",
		"\xe2\x84\xaa" "elvin", "\xe2\x84\xaa" "ELVIN",
		"zzz", "", "cheapwatches", "watch cheap watches!",
	};
	char with[512], without[512];

	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		both_ways(*state, bodies[i], i % 2 ? "the admin" : NULL, with,
		    without, sizeof with);
		assert_string_equal(with, without);
	}
}

static void
test_too_few_rules_on_a_text_run_always(void **state)
{
	struct policy *p = load(policy_text);
	char got[256];

	(void)state;
	/* Four rules read the body as sent: filtered.  t.norm and t.name
	 * are alone on their texts, and t.empty has no literal. */
	assert_non_null(p->prefilter);
	assert_int_equal(p->nunfiltered, 3);
	marked(p, 0, "a calm comment", got, sizeof got);
	assert_string_equal(got, "t.norm,t.empty,t.name");
	marked(p, 0, "cheap watches", got, sizeof got);
	assert_string_equal(got, "t.word,t.norm,t.empty,t.name");
	policy_free(p);
	/* The shipped policy has three rules with literals on the body. */
	p = load("policy: three\nrules:\n"
	    "  - {id: a, regex: 'alpha', action: queue, category: spam}\n"
	    "  - {id: b, regex: 'beta', action: queue, category: spam}\n"
	    "  - {id: c, regex: 'gamma', action: queue, category: spam}\n");
	assert_null(p->prefilter);
	assert_int_equal(p->nunfiltered, 3);
	policy_free(p);
}

static void
test_no_regex_no_prefilter(void **state)
{
	struct policy *p = load("policy: none\nrules:\n"
	    "  - {id: c, check: caps_ratio, above: 0.9, action: queue, "
	    "category: shouting}\n");
	char got[64];

	(void)state;
	assert_null(p->prefilter);
	marked(p, 0, "ANYTHING", got, sizeof got);
	assert_string_equal(got, "");
	policy_free(p);
}

/* vectorscan's AVX-512 scan missed this (the prefilter before this one). */
static void
test_a_match_after_64_characters_is_found(void **state)
{
	struct policy *p = load("policy: avx\nrules:\n"
	    "  - {id: ad, regex: 'a.*d', case_sensitive: true, action: reject, "
	    "category: spam}\n");
	char body[128], with[64], without[64];

	(void)state;
	prefilter_free(p->prefilter);
	p->prefilter = prefilter_build_min(p, 1, &p->nunfiltered);
	assert_non_null(p->prefilter);
	for (int n = 55; n <= 70; n++) {
		memset(body, 'b', (size_t)n);
		memcpy(body + n, "aXd", 4);
		both_ways(p, body, NULL, with, without, sizeof with);
		assert_string_equal(with, "ad");
		assert_string_equal(without, "ad");
	}
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_marks_only_what_may_match),
		cmocka_unit_test(test_verdicts_are_the_same_without_it),
		cmocka_unit_test(test_too_few_rules_on_a_text_run_always),
		cmocka_unit_test(test_no_regex_no_prefilter),
		cmocka_unit_test(test_a_match_after_64_characters_is_found),
	};

	return cmocka_run_group_tests(tests, setup_every_rule, teardown);
}
