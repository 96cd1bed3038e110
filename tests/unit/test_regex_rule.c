/*
 * test_regex_rule: compiling, matching under limits, and vetting of regex
 * rules, including the patterns that took real sites down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "regex_rule.h"

/* The Cloudflare WAF regex of 2 July 2019, as published. */
#define CLOUDFLARE_2019 "(?:(?:\\\"|'|\\]|\\}|\\\\|\\d|(?:nan|infinity|true" \
	"|false|null|undefined|symbol|math)|\\`|\\-|\\+)+[)]*;?(" \
	"(?:\\s|-|~|!|{}|\\|\\||\\+)*.*(?:.*=.*)))"

/* The Stack Overflow trim regex of 20 July 2016, ZWNJ as YAML's "\u200c". */
#define SO_2016_LITERAL	"^[\\s\xe2\x80\x8c]+|[\\s\xe2\x80\x8c]+$"
#define SO_2016_ESCAPED	"^[\\s\\x{200c}]+|[\\s\\x{200c}]+$"

/* The policy defaults, as a policy without a limits block gets them. */
static struct policy_limits
limits_default(void)
{
	struct policy_limits l = {
		.max_length = POLICY_DEFAULT_MAX_LENGTH,
		.min_length = POLICY_DEFAULT_MIN_LENGTH,
		.regex_match_limit = POLICY_DEFAULT_MATCH_LIMIT,
		.regex_depth_limit = POLICY_DEFAULT_DEPTH_LIMIT,
		.regex_heap_limit_kib = POLICY_DEFAULT_HEAP_LIMIT_KIB,
		.regex_rule_budget_us = POLICY_DEFAULT_RULE_BUDGET_US,
		.time_budget_us = POLICY_DEFAULT_TIME_BUDGET_US,
	};
	return l;
}

/* A regex rule written at policy.yaml line 7, its pattern at column 12. */
static void
rule_init(struct rule *r, const char *pattern, bool case_sensitive)
{
	memset(r, 0, sizeof *r);
	r->kind = RULE_REGEX;
	r->id = (char *)"test.rule";
	r->pattern = (char *)pattern;
	r->case_sensitive = case_sensitive;
	r->line = 6;
	r->column = 5;
	r->pattern_line = 7;
	r->pattern_column = 12;
}

/* Compiles a rule that must compile. */
static void
compile_ok(struct rule *r, const char *pattern, bool case_sensitive)
{
	struct errlist errs;

	errlist_init(&errs);
	rule_init(r, pattern, case_sensitive);
	if (regex_rule_compile(r, "policy.yaml", &errs) != 0)
		fail_msg("%s: %s", pattern, errs.n ? errs.msgs[0] : "?");
	assert_int_equal(errs.n, 0);
	errlist_free(&errs);
}

/* A string of `n` copies of `unit` followed by `tail`, malloc'd. */
static char *
repeat(const char *unit, size_t n, const char *tail, size_t *len)
{
	size_t ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(ul * n + tl + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	memcpy(s + ul * n, tail, tl + 1);
	*len = ul * n + tl;
	return s;
}

struct find_case {
	const char	*pattern;
	bool		 case_sensitive;
	const char	*subject;
	int		 rc;
	size_t		 start, end;
};

static const struct find_case find_cases[] = {
	/* Caseless by default, exact when the rule says so. */
	{ "kill", false, "I will KILL you", 1, 7, 11 },
	{ "kill", true, "I will KILL you", 0, 0, 0 },
	{ "KILL", true, "I will KILL you", 1, 7, 11 },
	{ "\\bkill\\s+you\\b", false, "gonna Kill   You!", 1, 6, 16 },
	{ "\\bkill\\s+you\\b", false, "skill you", 0, 0, 0 },
	/* Caseless for the whole of Unicode, and spans in bytes. */
	{ "МИР", false, "война и мир", 1, 14, 20 },
	{ "é", false, "CAFÉ", 1, 3, 5 },
	{ "é", true, "CAFÉ", 0, 0, 0 },
	/* UCP: \w, \d and \b mean what they mean for every script. */
	{ "^\\w+$", false, "café", 1, 0, 5 },
	{ "^\\w+$", false, "привет", 1, 0, 12 },
	{ "\\bмир\\b", false, "миру мир", 1, 9, 15 },
	{ "\\bмир\\b", false, "миру", 0, 0, 0 },
	{ "^\\d+$", false, "\xd9\xa1\xd9\xa2\xd9\xa3", 1, 0, 6 },	/* ١٢٣ */
	{ "\\s", false, "a\xc2\xa0" "b", 1, 1, 3 },	/* NBSP */
	/* More groups than the one pair of offsets: still a match. */
	{ "(a)(b)(c)", false, "xabc", 1, 1, 4 },
	{ "x*", false, "abc", 1, 0, 0 },
	{ "[\\w.+-]+@[\\w-]+\\.[\\w.-]+", false,
	    "write me at john.doe@example.com", 1, 12, 32 },
	{ "[\\w.+-]+@[\\w-]+\\.[\\w.-]+", false, "meet me @ noon", 0, 0, 0 },
};

/* Each find case: the result and the byte span. */
static void
test_find_table(void **state)
{
	struct regex_runner *run = regex_runner_new();
	size_t start, end;
	struct rule r;
	int rc;

	(void)state;
	assert_non_null(run);
	for (size_t i = 0; i < sizeof find_cases / sizeof find_cases[0]; i++) {
		const struct find_case *c = &find_cases[i];

		compile_ok(&r, c->pattern, c->case_sensitive);
		start = end = 99;
		rc = regex_rule_find(&r, run, c->subject, strlen(c->subject),
		    &start, &end);
		if (rc != c->rc || (rc == 1 && (start != c->start ||
		    end != c->end)))
			fail_msg("/%s/ on \"%s\": %d [%zu, %zu), want %d "
			    "[%zu, %zu)", c->pattern, c->subject, rc, start,
			    end, c->rc, c->start, c->end);
		regex_rule_free(&r);
	}
	regex_runner_free(run);
}

/* A match that hits a limit is -1, never "no match"; limits can be raised. */
static void
test_find_limits(void **state)
{
	struct regex_runner *run = regex_runner_new();
	struct policy_limits lim = limits_default();
	size_t start, end, len;
	struct rule r;
	char *s;

	(void)state;
	/* Backtracking that fails within the defaults... */
	compile_ok(&r, "(\\w+\\s?)+$", false);
	s = repeat("ab ", 5, "!", &len);
	assert_int_equal(regex_rule_find(&r, run, s, len, &start, &end), 0);
	/* ...cannot be decided with a tiny match limit. */
	lim.regex_match_limit = 5;
	regex_runner_limits(run, &lim);
	assert_int_equal(regex_rule_find(&r, run, s, len, &start, &end), -1);
	lim = limits_default();
	regex_runner_limits(run, &lim);
	assert_int_equal(regex_rule_find(&r, run, s, len, &start, &end), 0);
	free(s);
	regex_rule_free(&r);

	/* Exponential: the default match limit stops it. */
	compile_ok(&r, "^(a+)+$", false);
	s = repeat("a", 40, "!", &len);
	assert_int_equal(regex_rule_find(&r, run, s, len, &start, &end), -1);
	free(s);
	regex_rule_free(&r);

	/* The interpreter's depth and heap limits (JIT ignores them). */
	compile_ok(&r, "(*NO_JIT)(?:(a)|b)*c", false);
	s = repeat("ab", 2000, "!c", &len);
	assert_int_equal(regex_rule_find(&r, run, s, len, &start, &end), 1);
	lim.regex_depth_limit = 10;
	regex_runner_limits(run, &lim);
	assert_int_equal(regex_rule_find(&r, run, s, len, &start, &end), -1);
	/* The heap limit bounds growth: grown match data keeps its frames. */
	regex_runner_free(run);
	run = regex_runner_new();
	lim = limits_default();
	lim.regex_heap_limit_kib = 1;
	regex_runner_limits(run, &lim);
	assert_int_equal(regex_rule_find(&r, run, s, len, &start, &end), -1);
	free(s);
	regex_rule_free(&r);

	/* The JIT stack (1 MiB at most) runs out on a deep match. */
	lim = limits_default();
	regex_runner_limits(run, &lim);
	compile_ok(&r, "(a|b)*c", false);
	s = repeat("ab", 200000, "!c", &len);
	assert_int_equal(regex_rule_find(&r, run, s, len, &start, &end), -1);
	free(s);
	regex_rule_free(&r);

	/* A rule that never compiled cannot be evaluated. */
	rule_init(&r, "a", false);
	assert_int_equal(regex_rule_find(&r, run, "a", 1, &start, &end), -1);
	regex_rule_free(&r);
	regex_runner_free(run);
	regex_runner_free(NULL);
}

struct compile_case {
	const char	*pattern;
	const char	*message;
};

static const struct compile_case compile_cases[] = {
	{ "ab(c", "policy.yaml:7:16: rule test.rule: regex does not compile: "
	    "missing closing parenthesis (at the end of the pattern)" },
	{ "a{2,1}b", "policy.yaml:7:17: rule test.rule: regex does not "
	    "compile: numbers out of order in {} quantifier (at character 6)" },
	/* Columns count characters, as the YAML parser does. */
	{ "éé[b", "policy.yaml:7:16: rule test.rule: regex does not compile: "
	    "missing terminating ] for character class (at the end of the "
	    "pattern)" },
	{ "x(?<=a+)y", "policy.yaml:7:13: rule test.rule: regex does not "
	    "compile: lookbehind assertion is not fixed length (at character "
	    "2)" },
	{ "[z-a]", "policy.yaml:7:15: rule test.rule: regex does not compile: "
	    "range out of order in character class (at character 4)" },
	/* JavaScript's \u is not PCRE2's: \x{200c} is. */
	{ "[\\s\\u200c]", "policy.yaml:7:17: rule test.rule: regex does not "
	    "compile: PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or "
	    "\\u (at character 6)" },
	/* \C could split a character. */
	{ "a\\C", "policy.yaml:7:15: rule test.rule: regex does not compile: "
	    "using \\C is disabled by the application (at the end of the "
	    "pattern)" },
	/* Past a newline the column is unknown: the pattern's own is given. */
	{ "a\n(", "policy.yaml:7:12: rule test.rule: regex does not compile: "
	    "missing closing parenthesis (at the end of the pattern)" },
};

/* Compile errors: PCRE2's message at the offending character's position. */
static void
test_compile_errors(void **state)
{
	struct errlist errs;
	struct rule r;

	(void)state;
	for (size_t i = 0; i < sizeof compile_cases / sizeof compile_cases[0];
	    i++) {
		errlist_init(&errs);
		rule_init(&r, compile_cases[i].pattern, false);
		assert_int_equal(regex_rule_compile(&r, "policy.yaml", &errs),
		    -1);
		assert_null(r.code);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.msgs[0], compile_cases[i].message);
		errlist_free(&errs);
	}
	/* Freeing a rule that never compiled is fine. */
	regex_rule_free(&r);
}

struct vet_case {
	const char	*pattern;
	const char	*why;		/* in the refusal */
};

/*
 * What refuses each catastrophic pattern, found by running them: the
 * Stack Overflow regex is linear under JIT (its early-fail optimisation;
 * ~40 us on 5000 characters) but quadratic in the interpreter (~200 ms), and
 * is refused by the backtracking count from the middle of the text, which
 * does not depend on the clock.  Without that count, ^(a+)+$ and (x+x+)+y hit
 * the match limit, and the Cloudflare regex (~13 ms on "0=000...0!") and
 * ( )+$ (~45 ms) the time budget.
 */
static const struct vet_case vet_bad[] = {
	{ SO_2016_LITERAL, "one start position in the middle takes more "
	    "than 1250 backtracking steps" },
	{ SO_2016_ESCAPED, "one start position in the middle takes more "
	    "than 1250 backtracking steps" },
	{ "\\s+$", "one start position in the middle" },
	{ "^(a+)+$", "hit the PCRE2 match limit" },
	{ "(x+x+)+y", "one start position in the middle" },
	{ CLOUDFLARE_2019, "one start position in the middle" },
	{ "( )+$", "one start position in the middle" },
	{ "(?:\\w|\\.)+@", "one start position in the middle" },
	/* Reached only through the pattern's own start. */
	{ "^x(a+)+$", "hit the PCRE2 match limit" },
	{ "^foo(\\w+\\s?)+$", "hit the PCRE2 match limit" },
	{ "https?://(\\w+\\.?)+$", "hit the PCRE2 match limit" },
	{ "(?:[qz]+)+$", "one start position in the middle" },
	/* No JIT: the interpreter is what is timed, and the message says so. */
	{ "(*NO_JIT)^(a+)+$", "hit the PCRE2 match limit (without JIT)" },
};

/*
 * Each catastrophic pattern is refused at the default limits, with where;
 * and with a budget of a second, so that the clock cannot decide, for the
 * reason found above: those do not depend on the machine.
 */
static void
test_vet_refuses(void **state)
{
	struct policy_limits lim = limits_default();
	struct regex_runner *run = regex_runner_new();
	const char *head = "policy.yaml:7:12: rule test.rule: regex is too "
	    "slow on adversarial input (5000 characters of '";
	struct errlist errs;
	struct rule r;

	(void)state;
	for (size_t i = 0; i < sizeof vet_bad / sizeof vet_bad[0]; i++) {
		compile_ok(&r, vet_bad[i].pattern, false);
		for (int slow = 0; slow < 2; slow++) {
			errlist_init(&errs);
			lim.regex_rule_budget_us = slow ? 1000000 :
			    POLICY_DEFAULT_RULE_BUDGET_US;
			if (regex_rule_vet(&r, &lim, run, "policy.yaml",
			    &errs) != -1)
				fail_msg("/%s/ was accepted", vet_bad[i].pattern);
			assert_int_equal(errs.n, 1);
			assert_memory_equal(errs.msgs[0], head, strlen(head));
			if (slow && strstr(errs.msgs[0], vet_bad[i].why) == NULL)
				fail_msg("/%s/: %s", vet_bad[i].pattern,
				    errs.msgs[0]);
			if (!slow)
				print_message("/%s/: %s\n", vet_bad[i].pattern,
				    errs.msgs[0]);
			errlist_free(&errs);
		}
		regex_rule_free(&r);
	}
	regex_runner_free(run);
}

static const char *const vet_good[] = {
	"[\\w.+-]+@[\\w-]+\\.[\\w.-]+",
	"(?:\\+?\\d{1,3}[\\s.-]?)?\\(?\\d{3}\\)?[\\s.-]?\\d{3}[\\s.-]?\\d{4}",
	"\\bkill\\s+you\\b",
	"https?://[^\\s<>\"]+|www\\.[^\\s<>\"]+",
	"\\b(?:https?://|www\\.)\\S+",
	"\\b(?:buy|cheap)\\s+(?:viagra|cialis)\\b",
	"\\b\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}\\b",
	"(.)\\1{9,}",
	"\\b(\\w+)\\s+\\1\\b",
	"^\\s*$",
	"(?:^|\\s)@\\w+",
	"\\$\\d+(?:,\\d{3})*(?:\\.\\d{2})?",
};

/* Microseconds on the monotonic clock. */
static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/*
 * Ordinary rules are accepted, and cheaply: the fastest of five vettings of
 * each, averaged, stays under a millisecond (the fastest, so that a loaded
 * machine does not fail it).
 */
static void
test_vet_accepts(void **state)
{
	struct policy_limits lim = limits_default();
	struct regex_runner *run = regex_runner_new();
	double t, best, total = 0;
	size_t n = sizeof vet_good / sizeof vet_good[0];
	struct errlist errs;
	struct rule r;

	(void)state;
	errlist_init(&errs);
	for (size_t i = 0; i < n; i++) {
		compile_ok(&r, vet_good[i], false);
		best = 1e9;
		for (int k = 0; k < 5; k++) {
			t = now_us();
			if (regex_rule_vet(&r, &lim, run, "policy.yaml",
			    &errs) != 0)
				fail_msg("/%s/: %s", vet_good[i], errs.msgs[0]);
			t = now_us() - t;
			best = t < best ? t : best;
		}
		print_message("/%s/: vetted in %.0f us\n", vet_good[i], best);
		total += best;
		regex_rule_free(&r);
	}
	assert_int_equal(errs.n, 0);
	print_message("average %.0f us per rule\n", total / (double)n);
	assert_true(total / (double)n < 1000);
	errlist_free(&errs);
	regex_runner_free(run);
}

/*
 * The budget decides what the limits do not: a linear rule that takes tens
 * of microseconds on 5000 characters passes a generous budget, and is
 * refused, with its time, by one that is too tight.
 */
static void
test_vet_budget(void **state)
{
	struct policy_limits lim = limits_default();
	struct regex_runner *run = regex_runner_new();
	struct errlist errs;
	struct rule r;

	(void)state;
	errlist_init(&errs);
	compile_ok(&r, "(.)\\1{9,}", false);
	lim.regex_rule_budget_us = 1000000;
	assert_int_equal(regex_rule_vet(&r, &lim, run, "p.yaml", &errs), 0);
	lim.regex_rule_budget_us = 10;
	assert_int_equal(regex_rule_vet(&r, &lim, run, "p.yaml", &errs), -1);
	assert_int_equal(errs.n, 1);
	print_message("%s\n", errs.msgs[0]);
	assert_non_null(strstr(errs.msgs[0], "(5000 characters of '"));
	assert_non_null(strstr(errs.msgs[0], "us, budget 10 us"));
	/* Another length: the cached runs are rebuilt for it. */
	lim.max_length = 1000;
	lim.regex_rule_budget_us = 1;
	assert_int_equal(regex_rule_vet(&r, &lim, run, "p.yaml", &errs), -1);
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.msgs[1], "(1000 characters of '"));
	lim = limits_default();
	assert_int_equal(regex_rule_vet(&r, &lim, run, "p.yaml", &errs), 0);
	errlist_free(&errs);
	regex_rule_free(&r);
	regex_runner_free(run);
}

/* Vetting leaves its subjects as it found them: same rule, same answer. */
static void
test_vet_repeatable(void **state)
{
	struct policy_limits lim = limits_default();
	struct regex_runner *run = regex_runner_new();
	struct errlist errs;
	struct rule good, bad;

	(void)state;
	errlist_init(&errs);
	compile_ok(&good, "[\\w.+-]+@[\\w-]+\\.[\\w.-]+", false);
	compile_ok(&bad, SO_2016_ESCAPED, false);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(regex_rule_vet(&good, &lim, run, "p", &errs),
		    0);
		assert_int_equal(regex_rule_vet(&bad, &lim, run, "p", &errs),
		    -1);
	}
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msgs[0], errs.msgs[2]);
	/* A rule that did not compile is not vetted. */
	regex_rule_free(&good);
	rule_init(&good, "(", false);
	assert_int_equal(regex_rule_vet(&good, &lim, run, "p", &errs), -1);
	errlist_free(&errs);
	regex_rule_free(&bad);
	regex_runner_free(run);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_table),
		cmocka_unit_test(test_find_limits),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_vet_refuses),
		cmocka_unit_test(test_vet_accepts),
		cmocka_unit_test(test_vet_budget),
		cmocka_unit_test(test_vet_repeatable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
