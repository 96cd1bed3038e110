/*
 * The policy loader: every class of mistake is reported at its own
 * file:line:column, all of them in one run; a valid policy loads with its
 * counts, defaults and digest; failing examples are named at their line.
 * Word lists come from tests/unit/data (policy-*.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "errs_check.h"
#include <openssl/evp.h>

#include "policy.h"
#include "yaml_node.h"

#define P	"policy: t\n"
/* A word list whose 6th line is `extra` (its mapping starts at 3:5). */
#define WL(extra)	P "wordlists:\n  - id: w\n" \
			"    file: policy-insults.txt\n    category: c\n" extra
/* A rule whose 6th line is `extra` (its mapping starts at 3:5). */
#define RULE(extra)	P "rules:\n  - id: r\n    category: c\n" \
			"    action: queue\n" extra

struct error_case {
	const char	*name;
	const char	*yaml;
	const char	*where;		/* exact "file:line:column: " prefix */
	const char	*says;		/* a phrase of the message */
};

static const struct error_case error_cases[] = {
	/* The document itself. */
	{ "syntax", P "  x: 1\n", "t.yaml:2:4: ", "syntax error: mapping "
	    "values are not allowed" },
	{ "empty", "", "t.yaml:1:1: ", "the policy is empty" },
	{ "not a mapping", "- a\n", "t.yaml:1:1: ", "a policy must be a "
	    "mapping, not a list" },
	{ "alias", "policy: &a t\ndescription: *a\n", "t.yaml:1:9: ",
	    "aliases" },
	{ "alias cycle", P "rules: &r [*r]\n", "t.yaml:2:8: ", "aliases" },
	{ "two documents", P "---\npolicy: u\n", "t.yaml:2:1: ",
	    "only one YAML document" },
	{ "invalid utf-8", "policy: \xff\n", "t.yaml:1:9: ", "UTF-8" },

	/* Top level. */
	{ "unknown key", P "rule: []\n", "t.yaml:2:1: ",
	    "unknown key \"rule\"; did you mean \"rules\"?" },
	{ "unknown key, no hint", P "colour: red\n", "t.yaml:2:1: ",
	    "unknown key \"colour\"" },
	{ "duplicate key", P "description: a\ndescription: b\n",
	    "t.yaml:3:1: ", "duplicate key \"description\" (first at line 2)" },
	{ "missing policy", "description: d\n", "t.yaml:1:1: ",
	    "missing required key \"policy\"" },
	{ "list expected", P "wordlists: {id: x}\n", "t.yaml:2:12: ",
	    "wordlists must be a list, not a mapping" },
	{ "rule not a mapping", P "rules: [x]\n", "t.yaml:2:9: ",
	    "a rule must be a mapping, not \"x\"" },
	{ "threshold range", P "thresholds: {queue: 0}\n", "t.yaml:2:21: ",
	    "thresholds.queue must be an integer from 1 to 1000000, "
	    "not \"0\"" },
	{ "threshold order", P "thresholds: {queue: 8, reject: 4}\n",
	    "t.yaml:2:13: ", "queue (8) must not be above reject (4)" },
	{ "limits order", P "limits: {max_length: 10, min_length: 20}\n",
	    "t.yaml:2:9: ", "min_length (20) must not be above max_length" },
	{ "limits typo", P "limits:\n  max_lenght: 10\n", "t.yaml:3:3: ",
	    "limits: unknown key \"max_lenght\"; did you mean "
	    "\"max_length\"?" },
	{ "normalize bool", P "normalize: {leet: yes}\n", "t.yaml:2:19: ",
	    "normalize.leet must be true or false, not \"yes\"" },
	{ "allow unreadable", P "allow: [policy-allow.txt, nope.txt]\n",
	    "t.yaml:2:27: ", "allow: cannot read " },

	/* Word lists. */
	{ "key typo", WL("    acton: reject\n"), "t.yaml:6:5: ",
	    "word list w: unknown key \"acton\"; did you mean \"action\"?" },
	{ "bad action", WL("    action: rejct\n"), "t.yaml:6:13: ",
	    "word list w: action must be one of score, queue, reject, not "
	    "\"rejct\"; did you mean \"reject\"?" },
	{ "no action", WL(""), "t.yaml:3:5: ",
	    "word list w: needs an action (reject or queue) or a score" },
	{ "score needed", WL("    action: score\n"), "t.yaml:6:13: ",
	    "action score needs a score" },
	{ "score range", WL("    score: 0\n"), "t.yaml:6:12: ",
	    "word list w: score must be an integer from 1 to 1000" },
	{ "bad field", WL("    action: queue\n    field: author\n"),
	    "t.yaml:7:12: ", "field must be one of body, author.name" },
	{ "bad mode", WL("    action: queue\n    match: words\n"),
	    "t.yaml:7:12: ", "did you mean \"word\"?" },
	{ "unreadable", P "wordlists:\n  - {id: w, file: no-such.txt, "
	    "category: c, action: queue}\n", "t.yaml:3:19: ",
	    "word list w: cannot read " TEST_DATA_DIR "/no-such.txt: No such "
	    "file" },
	{ "no terms", P "wordlists:\n  - {id: w, file: policy-empty.txt, "
	    "category: c, action: queue}\n", "t.yaml:3:19: ", "has no terms" },
	{ "bad id", P "wordlists:\n  - {id: Bad, file: policy-insults.txt, "
	    "category: c, action: queue}\n", "t.yaml:3:10: ",
	    "id \"Bad\" must be lower-case" },
	{ "reserved id", P "rules:\n  - {id: engine.limit, category: c, "
	    "action: queue, regex: x}\n", "t.yaml:3:10: ", "reserved" },
	{ "reserved limits id", P "rules:\n  - {id: limits.max_length, "
	    "category: c, action: queue, regex: x}\n", "t.yaml:3:10: ",
	    "\"limits.\" are reserved" },
	{ "duplicate id", P "wordlists:\n  - {id: a, file: policy-insults.txt,"
	    " category: c, action: queue}\nrules:\n  - {id: a, category: c, "
	    "action: queue, regex: x}\n", "t.yaml:5:10: ",
	    "duplicate rule id \"a\" (first defined at line 3)" },
	{ "duplicate rate id", P "rules:\n  - {id: a, category: c, action: "
	    "queue, regex: x}\nrate_limits:\n  - {id: a, key: ip, rate: 1/s}\n",
	    "t.yaml:5:10: ", "duplicate rule id \"a\"" },

	/* Rules. */
	{ "missing category", P "rules:\n  - {id: r, action: queue, regex: "
	    "x}\n", "t.yaml:3:5: ", "rule r: missing required key "
	    "\"category\"" },
	{ "neither regex nor check", P "rules:\n  - {id: r, category: c, "
	    "action: queue}\n", "t.yaml:3:5: ",
	    "rule r: needs regex or check" },
	{ "regex and check", RULE("    regex: x\n    check: length\n"),
	    "t.yaml:7:12: ", "has both regex and check" },
	{ "check key on regex", RULE("    regex: x\n    above: 3\n"),
	    "t.yaml:7:5: ", "rule r: unknown key \"above\"" },
	{ "caps needs above", RULE("    check: caps_ratio\n"), "t.yaml:3:5: ",
	    "rule r: missing required key \"above\"" },
	{ "ratio range", RULE("    check: caps_ratio\n    above: 1.5\n"),
	    "t.yaml:7:12: ", "rule r: above must be a number from 0 to 1" },
	{ "ratio not a number", RULE("    check: non_latin\n    above: lots\n"),
	    "t.yaml:7:12: ", "above must be a number" },
	{ "below on caps", RULE("    check: caps_ratio\n    above: 0.5\n"
	    "    below: 0.1\n"), "t.yaml:8:12: ",
	    "below does not apply to a caps_ratio check" },
	{ "check typo", RULE("    check: link_cout\n    above: 3\n"),
	    "t.yaml:6:12: ", "did you mean \"link_count\"?" },
	{ "length bounds", RULE("    check: length\n"), "t.yaml:3:5: ",
	    "a length check needs above or below" },
	{ "repeat run range", RULE("    check: repeat_run\n    above: 0\n"),
	    "t.yaml:7:12: ", "above must be an integer from 1 to" },
	{ "card number count", RULE("    check: card_number\n    above: "
	    "0.5\n"), "t.yaml:7:12: ", "above must be an integer from 0 to "
	    "1000" },
	{ "card number letters", RULE("    check: card_number\n"
	    "    min_letters: 5\n"), "t.yaml:7:18: ",
	    "min_letters does not apply to a card_number check" },
	{ "gibberish needs above", RULE("    check: gibberish\n"),
	    "t.yaml:3:5: ", "rule r: missing required key \"above\"" },
	{ "gibberish ratio", RULE("    check: gibberish\n    above: 2\n"),
	    "t.yaml:7:12: ", "above must be a number from 0 to 1" },
	{ "gibberish below", RULE("    check: gibberish\n    above: 0.5\n"
	    "    below: 0.1\n"), "t.yaml:8:12: ",
	    "below does not apply to a gibberish check" },
	{ "examples not a list", RULE("    regex: x\n    examples: {match: "
	    "\"x\"}\n"), "t.yaml:7:23: ", "examples.match must be a list" },
	{ "examples typo", RULE("    regex: x\n    examples: {matches: "
	    "[x]}\n"), "t.yaml:7:16: ", "did you mean \"match\"?" },
	{ "bad regex", RULE("    regex: 'a(b'\n"), "t.yaml:6:", "rule r" },
	/* The Stack Overflow outage regex, quadratic on runs of spaces. */
	{ "slow regex",
	    RULE("    regex: '^[\\s\\x{200c}]+|[\\s\\x{200c}]+$'\n"),
	    "t.yaml:6:", "rule r" },

	/* Stateful rules. */
	{ "bad rate", P "rate_limits:\n  - {id: f, key: author, rate: 5 per "
	    "minute}\n", "t.yaml:3:32: ", "rate must be COUNT/PERIOD" },
	{ "rate zero", P "rate_limits:\n  - {id: f, key: author, rate: 0/m}\n",
	    "t.yaml:3:32: ", "rate must be COUNT/PERIOD" },
	{ "bad rate key", P "rate_limits:\n  - {id: f, key: user, rate: "
	    "5/10m}\n", "t.yaml:3:18: ", "key must be one of author, ip, "
	    "thread, author+thread, site" },
	{ "bad window", P "duplicates:\n  same_author: {window: 24 hours}\n",
	    "t.yaml:3:25: ", "duplicates.same_author.window must be a "
	    "duration" },
	{ "missing window", P "duplicates:\n  same_author: {action: reject}\n",
	    "t.yaml:3:16: ", "missing required key \"window\"" },
	{ "too few authors", P "duplicates:\n  many_authors: {window: 1h, "
	    "authors: 1}\n", "t.yaml:3:39: ", "duplicates.many_authors.authors "
	    "must be an integer from 2" },
	{ "new commenters action", P "new_commenters: {action: score}\n",
	    "t.yaml:2:26: ", "must be one of queue, reject" },

	/* Whole-comment examples. */
	{ "example expect missing", P "examples:\n  - {body: hi}\n",
	    "t.yaml:3:5: ", "examples[0]: missing required key \"expect\"" },
	{ "example expect typo", P "examples:\n  - {body: hi, expect: "
	    "accepted}\n", "t.yaml:3:24: ", "did you mean \"accept\"?" },
	{ "example unknown rule", P "examples:\n  - {body: hi, expect: accept, "
	    "rules: [nope]}\n", "t.yaml:3:40: ", "unknown rule \"nope\"" },
	{ "example rate rule", P "rate_limits:\n  - {id: f, key: author, rate: "
	    "5/m}\nexamples:\n  - {body: hi, expect: accept, rules: [f]}\n",
	    "t.yaml:5:40: ", "\"f\" is a rate limit" },
};

/* Loads inline YAML as "t.yaml" with word lists from the test data. */
static int
load(const char *yaml, struct policy **p, struct errlist *e)
{
	return policy_load_buffer("t.yaml", TEST_DATA_DIR, yaml, strlen(yaml),
	    p, e);
}

static void
test_error_cases(void **state)
{
	struct policy *sentinel = (struct policy *)&sentinel, *p;
	struct errlist e;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		const struct error_case *c = &error_cases[i];
		errlist_init(&e);
		p = sentinel;
		if (load(c->yaml, &p, &e) != -1 || p != sentinel ||
		    !reported(&e, c->where, c->says)) {
			print_message("want %s...%s\n", c->where, c->says);
			dump(c->name, &e);
			bad++;
		} else if (getenv("TEST_VERBOSE") != NULL)
			dump(c->name, &e);
		errlist_free(&e);
	}
	assert_int_equal(bad, 0);
}

/* One mistake gives one message, not a cascade of follow-on errors. */
static void
test_error_counts(void **state)
{
	static const struct {
		const char	*yaml;
		size_t		 n;
	} cases[] = {
		{ WL("    action: rejct\n"), 1 },
		{ P "thresholds: {queue: 20, reject: lots}\n", 1 },
		{ P "limits: {max_length: 0, min_length: 3}\n", 1 },
		{ "&a [*a]\n", 1 },
		{ P "description: a\ndescription: b\ndescription: c\n", 2 },
		{ P "rules:\n"
		    "  - {id: a, category: c, action: queue, regex: x}\n"
		    "  - {id: a, category: c, action: queue, regex: y}\n"
		    "  - {id: a, category: c, action: queue, regex: z}\n", 2 },
	};
	struct policy *p = NULL;
	struct errlist e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		errlist_init(&e);
		assert_int_equal(load(cases[i].yaml, &p, &e), -1);
		if (e.n != cases[i].n)
			dump(cases[i].yaml, &e);
		assert_int_equal(e.n, cases[i].n);
		errlist_free(&e);
	}
}

/* A file with several mistakes reports each of them, and only those. */
static void
test_all_errors_in_one_run(void **state)
{
	static const char yaml[] =
	    "policy: t\n"
	    "thresholds: {queue: 20}\n"
	    "wordlists:\n"
	    "  - {id: w, file: nope.txt, category: c, action: queue}\n"
	    "rules:\n"
	    "  - {id: r, category: c, acton: queue, regex: x}\n"
	    "  - {id: w, category: c, action: queue, check: length, "
	    "above: -1}\n"
	    "examples:\n"
	    "  - {body: hi, expect: maybe}\n";
	struct policy *p = NULL;
	struct errlist e;

	(void)state;
	errlist_init(&e);
	assert_int_equal(load(yaml, &p, &e), -1);
	assert_null(p);
	if (e.n != 7)
		dump("several mistakes", &e);
	assert_int_equal(e.n, 7);
	assert_true(reported(&e, "t.yaml:2:13: ", "queue (20) must not be "
	    "above reject (10)"));
	assert_true(reported(&e, "t.yaml:4:19: ", "cannot read"));
	assert_true(reported(&e, "t.yaml:6:5: ", "needs an action"));
	assert_true(reported(&e, "t.yaml:6:26: ", "unknown key \"acton\""));
	assert_true(reported(&e, "t.yaml:7:10: ", "duplicate rule id \"w\""));
	assert_true(reported(&e, "t.yaml:7:63: ", "above must be an integer"));
	assert_true(reported(&e, "t.yaml:9:24: ", "expect must be one of"));
	errlist_free(&e);
}

static const char valid_policy[] =
    "policy: news-test\n"					/* 1 */
    "description: A policy for the loader tests.\n"
    "thresholds: {queue: 4}\n"
    "allow: policy-allow.txt\n"
    "wordlists:\n"						/* 5 */
    "  - id: insults\n"
    "    file: policy-insults.txt\n"
    "    category: civility\n"
    "    score: 3\n"
    "    examples: {match: [\"you idiot\"], pass: [\"an idiotic plan\"]}\n"
    "  - {id: phrases, file: policy-phrases.txt, match: phrase,\n"
    "     category: civility, action: queue, message: \"Please be civil.\"}\n"
    "rules:\n"
    "  - id: pii.email\n"
    "    regex: '[\\w.+-]+@[\\w-]+\\.[\\w.-]+'\n"		/* 15 */
    "    action: queue\n"
    "    category: privacy\n"
    "    examples:\n"
    "      match: [\"write me at john.doe@example.com\"]\n"
    "      pass: [\"meet me @ noon\"]\n"			/* 20 */
    "  - {id: shouting, check: caps_ratio, above: 0.7, action: queue,\n"
    "     category: style}\n"
    "  - {id: too.long, check: length, above: 200, action: reject,\n"
    "     category: length, field: author.name}\n"
    "rate_limits:\n"						/* 25 */
    "  - {id: flood.author, key: author, rate: 5/10m, burst: 2}\n"
    "duplicates:\n"
    "  same_author: {window: 24h, action: reject}\n"
    "  many_authors: {window: 1h, authors: 5}\n"
    "new_commenters: {approved_needed: 2}\n"			/* 30 */
    "examples:\n"
    "  - {body: \"Thanks for the clear reporting.\", expect: accept}\n"
    "  - {body: \"shut up, idiot\", expect: queue, rules: [phrases, "
    "insults]}\n";

/* Appends a test-data file's bytes to a digest. */
static void
digest_file(EVP_MD_CTX *md, const char *name)
{
	char path[512], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, name);
	assert_non_null(f = fopen(path, "rb"));
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		assert_int_equal(EVP_DigestUpdate(md, buf, n), 1);
	fclose(f);
}

/* The digest the loader must give: the policy, then each list in load order. */
static void
expected_digest(char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n, i;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	assert_int_equal(EVP_DigestInit_ex(c, EVP_sha256(), NULL), 1);
	EVP_DigestUpdate(c, valid_policy, strlen(valid_policy));
	digest_file(c, "policy-allow.txt");
	digest_file(c, "policy-insults.txt");
	digest_file(c, "policy-phrases.txt");
	assert_int_equal(EVP_DigestFinal_ex(c, md, &n), 1);
	EVP_MD_CTX_free(c);
	strcpy(out, "sha256:");
	for (i = 0; i < n; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static void
test_valid_policy(void **state)
{
	struct policy *p = NULL;
	struct errlist e;
	char digest[80];

	(void)state;
	errlist_init(&e);
	if (load(valid_policy, &p, &e) != 0)
		dump("valid policy", &e);
	assert_int_equal(e.n, 0);
	assert_non_null(p);

	assert_string_equal(p->name, "news-test");
	assert_string_equal(p->path, "t.yaml");
	assert_int_equal(p->nrules, 5);
	assert_int_equal(p->nwordlists, 2);
	assert_int_equal(p->nregexes, 1);
	assert_int_equal(p->nchecks, 2);
	assert_string_equal(p->rules[0].id, "insults");
	assert_string_equal(p->rules[1].id, "phrases");
	assert_string_equal(p->rules[2].id, "pii.email");
	assert_string_equal(p->rules[3].id, "shouting");
	assert_string_equal(p->rules[4].id, "too.long");
	assert_ptr_equal(policy_rule(p, "shouting"), &p->rules[3]);
	assert_null(policy_rule(p, "flood.author"));

	/* Word lists. */
	assert_int_equal(p->rules[0].kind, RULE_WORDLIST);
	assert_int_equal(p->rules[0].action, ACTION_SCORE);
	assert_int_equal(p->rules[0].score, 3);
	assert_int_equal(p->rules[0].mode, MATCH_WORD);
	assert_int_equal(p->rules[0].nterms, 2);
	assert_string_equal(p->rules[0].file, "policy-insults.txt");
	assert_int_equal(p->rules[0].line, 6);
	assert_int_equal(p->rules[0].column, 5);
	assert_int_equal(p->rules[0].nmatch_examples, 1);
	assert_int_equal(p->rules[0].match_examples[0].line, 10);
	assert_int_equal(p->rules[0].match_examples[0].column, 24);
	assert_string_equal(p->rules[0].message,
	    "This comment is held for a moderator (insults).");
	assert_int_equal(p->rules[1].mode, MATCH_PHRASE);
	assert_int_equal(p->rules[1].action, ACTION_QUEUE);
	assert_string_equal(p->rules[1].message, "Please be civil.");
	assert_int_equal(p->nallow_files, 1);
	assert_string_equal(p->allow_files[0], "policy-allow.txt");
	assert_int_equal(p->nallow_terms, 1);
	assert_non_null(p->matcher);

	/* Regex and check rules. */
	assert_int_equal(p->rules[2].kind, RULE_REGEX);
	assert_non_null(p->rules[2].code);
	assert_false(p->rules[2].case_sensitive);
	assert_false(p->rules[2].on_normalized);
	assert_int_equal(p->rules[2].pattern_line, 15);
	assert_int_equal(p->rules[2].pattern_column, 13);
	assert_int_equal(p->rules[2].field, FIELD_BODY);
	assert_int_equal(p->rules[3].kind, RULE_CHECK);
	assert_int_equal(p->rules[3].check, CHECK_CAPS_RATIO);
	assert_true(p->rules[3].has_above);
	assert_false(p->rules[3].has_below);
	assert_true(p->rules[3].above > 0.69 && p->rules[3].above < 0.71);
	assert_int_equal(p->rules[3].min_letters, 20);
	assert_int_equal(p->rules[4].check, CHECK_LENGTH);
	assert_int_equal(p->rules[4].field, FIELD_AUTHOR_NAME);
	assert_string_equal(p->rules[4].message,
	    "This comment breaks the comment policy (too.long).");

	/* Defaults and the stateful blocks. */
	assert_int_equal(p->queue_threshold, 4);
	assert_int_equal(p->reject_threshold, 10);
	assert_int_equal(p->limits.max_length, POLICY_DEFAULT_MAX_LENGTH);
	assert_int_equal(p->limits.min_length, POLICY_DEFAULT_MIN_LENGTH);
	assert_int_equal(p->limits.regex_match_limit,
	    POLICY_DEFAULT_MATCH_LIMIT);
	assert_int_equal(p->limits.time_budget_us,
	    POLICY_DEFAULT_TIME_BUDGET_US);
	assert_true(p->norm.leet && p->norm.confusables &&
	    p->norm.strip_invisible && p->norm.strip_marks &&
	    p->norm.collapse_repeats && p->norm.join_separated);
	assert_int_equal(p->nrate_limits, 1);
	assert_string_equal(p->rate_limits[0].id, "flood.author");
	assert_int_equal(p->rate_limits[0].key, RATE_KEY_AUTHOR);
	assert_int_equal(p->rate_limits[0].count, 5);
	assert_int_equal(p->rate_limits[0].period_s, 600);
	assert_int_equal(p->rate_limits[0].burst, 2);
	assert_int_equal(p->rate_limits[0].action, ACTION_REJECT);
	assert_string_equal(p->rate_limits[0].category, "rate");
	assert_non_null(p->rate_limits[0].message);
	assert_true(p->dup_same_author.enabled);
	assert_int_equal(p->dup_same_author.window_s, 86400);
	assert_int_equal(p->dup_same_author.action, ACTION_REJECT);
	assert_true(p->dup_many_authors.enabled);
	assert_int_equal(p->dup_many_authors.window_s, 3600);
	assert_int_equal(p->dup_many_authors.authors, 5);
	assert_int_equal(p->dup_many_authors.action, ACTION_QUEUE);
	assert_true(p->new_commenters.enabled);
	assert_int_equal(p->new_commenters.approved_needed, 2);
	assert_int_equal(p->new_commenters.action, ACTION_QUEUE);
	assert_int_equal(p->nexamples, 2);
	assert_int_equal(p->examples[1].expect, DECISION_QUEUE);
	assert_int_equal(p->examples[1].nrules, 2);
	assert_int_equal(p->examples[1].line, 33);

	/* Digest over the policy and its lists; version from the digest. */
	expected_digest(digest);
	assert_string_equal(p->digest, digest);
	assert_int_equal(strlen(p->version), 12);
	assert_memory_equal(p->version, p->digest + 7, 12);

	policy_free(p);
	errlist_free(&e);
}

/* card_number and gibberish: their defaults, and their examples run. */
static void
test_card_and_gibberish(void **state)
{
	static const char yaml[] = P
	    "rules:\n"
	    "  - {id: pii.card, check: card_number, category: privacy,\n"
	    "     action: reject, examples: {match: [\"4111 1111 1111 1111\"],\n"
	    "     pass: [\"4111 1111 1111 1112\", \"order 1234567890123\"]}}\n"
	    "  - {id: cards, check: card_number, above: 2, category: privacy,\n"
	    "     action: queue}\n"
	    "  - {id: mash, check: gibberish, above: 0.5, category: spam,\n"
	    "     action: queue, examples: {match: [\"asdfghjkl\"],\n"
	    "     pass: [\"strengths\", \"hmmmmmm\"]}}\n"
	    "examples:\n"
	    "  - {body: \"card 5555 5555 5555 4444\", expect: reject,\n"
	    "     rules: [pii.card]}\n"
	    "  - {body: \"sdkjfhskdjfh\", expect: queue, rules: [mash]}\n"
	    "  - {body: \"Good piece.\", expect: accept}\n";
	struct policy *p = NULL;
	struct errlist e;

	(void)state;
	errlist_init(&e);
	if (load(yaml, &p, &e) != 0)
		dump("card and gibberish", &e);
	assert_int_equal(e.n, 0);
	assert_non_null(p);
	assert_int_equal(p->nchecks, 3);
	assert_int_equal(p->rules[0].check, CHECK_CARD_NUMBER);
	assert_false(p->rules[0].has_above);
	assert_int_equal(p->rules[1].check, CHECK_CARD_NUMBER);
	assert_true(p->rules[1].has_above);
	assert_true(p->rules[1].above == 2);
	assert_int_equal(p->rules[2].check, CHECK_GIBBERISH);
	assert_int_equal(p->rules[2].min_letters, 6);
	assert_true(p->rules[2].above == 0.5);
	policy_free(p);
	errlist_free(&e);

	/* A gibberish example that does not hold fails the load, at its line. */
	errlist_init(&e);
	p = NULL;
	assert_int_equal(load(P "rules:\n  - {id: mash, check: gibberish, "
	    "above: 0.5, category: spam,\n     action: queue, examples: "
	    "{match: [\"hello there\"]}}\n", &p, &e), -1);
	assert_null(p);
	if (!reported(&e, "t.yaml:4:", "mash"))
		dump("failing gibberish example", &e);
	assert_true(reported(&e, "t.yaml:4:", "mash"));
	errlist_free(&e);
}

/* What a policy leaves out takes the schema's defaults; a version is kept. */
static void
test_minimal_policy(void **state)
{
	static const char yaml[] = "policy: tiny\nversion: \"2024.06\"\n"
	    "normalize: {leet: false}\n";
	struct policy *p = NULL;
	struct errlist e;

	(void)state;
	errlist_init(&e);
	assert_int_equal(load(yaml, &p, &e), 0);
	assert_string_equal(p->version, "2024.06");
	assert_int_equal(p->nrules, 0);
	assert_false(p->norm.leet);
	assert_true(p->norm.confusables);
	assert_int_equal(p->queue_threshold, 5);
	assert_int_equal(p->reject_threshold, 10);
	assert_false(p->dup_same_author.enabled);
	assert_false(p->new_commenters.enabled);
	assert_null(p->description);
	assert_memory_equal(p->digest, "sha256:", 7);
	assert_int_equal(strlen(p->digest), 7 + 64);
	assert_int_equal(strspn(p->digest + 7, "0123456789abcdef"), 64);
	policy_free(p);
	policy_free(NULL);
	errlist_free(&e);
}

/* Failing examples are each reported at their own line, naming the rule. */
static void
test_failing_examples(void **state)
{
	static const char yaml[] =
	    "policy: t\n"
	    "wordlists:\n"
	    "  - id: insults\n"
	    "    file: policy-insults.txt\n"
	    "    category: c\n"
	    "    action: reject\n"
	    "    examples:\n"
	    "      match: [\"you moron\", \"you are nice\"]\n"
	    "      pass: [\"hello there\", \"idiot!\"]\n"
	    "rules:\n"
	    "  - id: digits\n"
	    "    regex: '\\d{4}'\n"
	    "    category: c\n"
	    "    action: queue\n"
	    "    examples: {match: [\"1234\"], pass: [\"call 5555\"]}\n"
	    "examples:\n"
	    "  - {body: \"hello\", expect: reject}\n"
	    "  - {body: \"you idiot\", expect: reject, rules: [digits]}\n"
	    "  - {body: \"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
	    "abcdefghijabcdefghijabcdefghij\", expect: queue}\n";
	struct policy *p = NULL;
	struct errlist e;

	(void)state;
	errlist_init(&e);
	assert_int_equal(load(yaml, &p, &e), -1);
	assert_null(p);
	if (e.n != 6)
		dump("failing examples", &e);
	assert_int_equal(e.n, 6);
	assert_true(reported(&e, "t.yaml:8:28: ", "rule insults: example "
	    "\"you are nice\" should match but does not"));
	assert_true(reported(&e, "t.yaml:9:29: ", "rule insults: example "
	    "\"idiot!\" should pass but matches"));
	assert_true(reported(&e, "t.yaml:15:40: ", "rule digits: example "
	    "\"call 5555\" should pass but matches"));
	assert_true(reported(&e, "t.yaml:17:5: ", "example \"hello\": "
	    "expected reject, got accept (reasons: none)"));
	assert_true(reported(&e, "t.yaml:18:5: ", "example \"you idiot\": "
	    "rule digits did not fire (reasons: insults)"));
	/* Long text is cut in the message. */
	assert_true(reported(&e, "t.yaml:19:5: ", "example \"abcdefghij"));
	assert_true(reported(&e, "t.yaml:19:5: ", "...\": expected queue"));
	assert_false(reported(&e, "t.yaml:19:5: ", "abcdefghijabcdefghij"
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"));
	errlist_free(&e);
}

/* Writes a file under dir; the test fails if it cannot. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* policy_load() names the file as given and finds lists beside it. */
static void
test_load_from_file(void **state)
{
	char dir[] = "/tmp/test_policy_load.XXXXXX", path[512], want[600];
	struct policy *p = NULL;
	struct errlist e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/lists", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(dir, "lists/w.txt", "idiot\n");
	write_file(dir, "good.yaml", "policy: good\nwordlists:\n"
	    "  - {id: w, file: lists/w.txt, category: c, action: reject}\n");
	write_file(dir, "bad.yaml", "policy: bad\nwordlists:\n"
	    "  - {id: w, file: lists/gone.txt, category: c, action: reject}\n");

	errlist_init(&e);
	snprintf(path, sizeof path, "%s/good.yaml", dir);
	if (policy_load(path, &p, &e) != 0)
		dump("from file", &e);
	assert_non_null(p);
	assert_string_equal(p->path, path);
	assert_int_equal(p->rules[0].nterms, 1);
	policy_free(p);
	p = NULL;

	snprintf(path, sizeof path, "%s/bad.yaml", dir);
	assert_int_equal(policy_load(path, &p, &e), -1);
	assert_null(p);
	snprintf(want, sizeof want, "%s:3:19: ", path);
	assert_true(reported(&e, want, "lists/gone.txt: No such file"));

	snprintf(path, sizeof path, "%s/none.yaml", dir);
	assert_int_equal(policy_load(path, &p, &e), -1);
	snprintf(want, sizeof want, "%s: ", path);
	assert_true(reported(&e, want, "cannot read the policy"));
	errlist_free(&e);

	snprintf(path, sizeof path, "%s/lists/w.txt", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lists", dir);
	rmdir(path);
	snprintf(path, sizeof path, "%s/good.yaml", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/bad.yaml", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*s;
		bool		 count_optional;
		int		 rc;
		uint32_t	 secs;
	} cases[] = {
		{ "90s", false, 0, 90 }, { "10m", false, 0, 600 },
		{ "24h", false, 0, 86400 }, { "2d", false, 0, 172800 },
		{ "m", true, 0, 60 }, { "m", false, -1, 0 },
		{ "0s", false, -1, 0 }, { "10", false, -1, 0 },
		{ "1.5h", false, -1, 0 }, { "10 m", false, -1, 0 },
		{ "31d", false, -1, 0 }, { "99999999999s", false, -1, 0 },
		{ "", true, -1, 0 }, { "-5s", false, -1, 0 },
	};
	uint32_t secs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		secs = 0;
		assert_int_equal(yaml_node_parse_duration(cases[i].s,
		    cases[i].count_optional, 30 * 86400, &secs), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(secs, cases[i].secs);
	}
}

static void
test_edit_distance(void **state)
{
	static const struct {
		const char	*a, *b;
		size_t		 d;
	} cases[] = {
		{ "action", "action", 0 }, { "acton", "action", 1 },
		{ "scoer", "score", 1 }, { "rule", "rules", 1 },
		{ "max_lenght", "max_length", 1 }, { "colour", "rules", 5 },
		{ "", "id", 2 }, { "abc", "", 3 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(yaml_node_edit_distance(cases[i].a,
		    cases[i].b), cases[i].d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_cases),
		cmocka_unit_test(test_error_counts),
		cmocka_unit_test(test_all_errors_in_one_run),
		cmocka_unit_test(test_valid_policy),
		cmocka_unit_test(test_minimal_policy),
		cmocka_unit_test(test_card_and_gibberish),
		cmocka_unit_test(test_failing_examples),
		cmocka_unit_test(test_load_from_file),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_edit_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
