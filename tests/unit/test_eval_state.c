/*
 * eval_state: the daemon's state facts (rate limits, bans, trust,
 * duplicates, new commenters) turned into reasons and a final decision,
 * with the facts known and, when Redis is away, unknown (which queues,
 * never accepts).  One table of cases over one inline policy: each case
 * evaluates a body with eval_comment, applies its facts and checks the
 * decision, the reasons in order and the wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval.h"
#include "eval_state.h"
#include "policy.h"

static const char policy_text[] =
    "policy: state-test\n"
    "thresholds: {queue: 4, reject: 6}\n"
    "rules:\n"
    "  - {id: spammy, regex: spam, category: spam, score: 4}\n"
    "  - {id: junk, regex: junk, category: spam, score: 2}\n"
    "  - {id: evil, regex: evil, category: test, action: reject}\n"
    "  - {id: hold, regex: hold, category: test, action: queue}\n"
    "rate_limits:\n"
    "  - {id: flood.author, key: author, rate: 5/10m, burst: 2}\n"
    "  - {id: flood.ip, key: ip, rate: 20/h, action: queue,\n"
    "     category: network, message: Slow down.}\n"
    "duplicates:\n"
    "  same_author: {window: 24h, action: reject}\n"
    "  many_authors: {window: 1h, authors: 3}\n"
    "new_commenters: {approved_needed: 2}\n";

/* The same rules without any that need state. */
static const char stateless_text[] =
    "policy: stateless-test\n"
    "thresholds: {queue: 4, reject: 6}\n"
    "rules:\n"
    "  - {id: spammy, regex: spam, category: spam, score: 4}\n";

#include "policy_fixture.h"

/* Shorthands for a limit's facts. */
#define OK	{ true, true, 0 }
#define OFF	{ false, false, 0 }
#define FIRED(ms) { true, false, ms }

struct state_case {
	const char	*body;
	bool		 available, banned, trusted;
	uint32_t	 approved;
	struct state_limit limits[2];	/* flood.author, flood.ip */
	bool		 dup_same;
	uint32_t	 dup_authors;
	enum decision	 decision;
	const char	*reasons;	/* ids, comma separated, in order */
	uint32_t	 retry_after_s;
};

static const struct state_case cases[] = {
	/* Known facts. */
	{ "a fine comment", true, false, false, 5, { OK, OK }, false, 1,
	  DECISION_ACCEPT, "", 0 },
	{ "a fine comment", true, false, false, 1, { OK, OK }, false, 1,
	  DECISION_QUEUE, "new_commenters", 0 },
	{ "a fine comment", true, false, false, 2, { OK, OK }, false, 1,
	  DECISION_ACCEPT, "", 0 },
	{ "a fine comment", true, true, false, 5, { OK, OK }, false, 1,
	  DECISION_REJECT, "author.banned", 0 },
	{ "a fine comment", true, false, false, 5, { FIRED(1500), OK }, false,
	  1, DECISION_REJECT, "flood.author", 2 },
	{ "a fine comment", true, false, false, 5, { FIRED(1000), OK }, false,
	  1, DECISION_REJECT, "flood.author", 1 },
	{ "a fine comment", true, false, false, 5,
	  { FIRED(1500), FIRED(61001) }, false, 1, DECISION_REJECT,
	  "flood.author,flood.ip", 62 },
	{ "a fine comment", true, false, false, 5, { OK, FIRED(1) }, false, 1,
	  DECISION_QUEUE, "flood.ip", 1 },
	{ "a fine comment", true, false, false, 5, { OK, FIRED(0) }, false, 1,
	  DECISION_QUEUE, "flood.ip", 1 },
	{ "a fine comment", true, false, false, 5, { OK, OFF }, false, 1,
	  DECISION_ACCEPT, "", 0 },
	{ "a fine comment", true, false, false, 5, { OK, OK }, true, 1,
	  DECISION_REJECT, "duplicates.same_author", 0 },
	{ "a fine comment", true, false, false, 5, { OK, OK }, false, 2,
	  DECISION_ACCEPT, "", 0 },
	{ "a fine comment", true, false, false, 5, { OK, OK }, false, 3,
	  DECISION_QUEUE, "duplicates.many_authors", 0 },
	{ "evil and new", true, false, false, 0, { OK, OK }, false, 1,
	  DECISION_REJECT, "evil,new_commenters", 0 },
	{ "a fine comment", true, true, false, 0, { FIRED(2500), OK }, true, 9,
	  DECISION_REJECT, "author.banned,flood.author,duplicates.same_author,"
	  "duplicates.many_authors,new_commenters", 3 },

	/* Trust: the score alone no longer queues; nothing else changes. */
	{ "spam", true, false, false, 5, { OK, OK }, false, 1,
	  DECISION_QUEUE, "spammy", 0 },
	{ "spam", true, false, true, 5, { OK, OK }, false, 1,
	  DECISION_ACCEPT, "spammy", 0 },
	{ "spam junk", true, false, true, 5, { OK, OK }, false, 1,
	  DECISION_REJECT, "spammy,junk", 0 },
	{ "evil", true, false, true, 5, { OK, OK }, false, 1,
	  DECISION_REJECT, "evil", 0 },
	{ "hold", true, false, true, 5, { OK, OK }, false, 1,
	  DECISION_QUEUE, "hold", 0 },
	/* Trusted and never approved: not held as new, score alone no hold. */
	{ "spam", true, false, true, 0, { OK, OK }, false, 1,
	  DECISION_ACCEPT, "spammy", 0 },
	{ "spam", true, false, true, 5, { FIRED(10), OK }, false, 1,
	  DECISION_REJECT, "spammy,flood.author", 1 },

	/* Unknown facts: every stateful rule queues; limits still count. */
	{ "a fine comment", false, false, false, 0, { OK, OK }, false, 0,
	  DECISION_QUEUE, "duplicates.same_author,duplicates.many_authors,"
	  "new_commenters", 0 },
	{ "spam", false, true, true, 9, { OK, OK }, true, 9,
	  DECISION_QUEUE, "spammy,duplicates.same_author,"
	  "duplicates.many_authors,new_commenters", 0 },
	{ "a fine comment", false, false, false, 0, { FIRED(30000), OFF },
	  false, 0, DECISION_REJECT, "flood.author,duplicates.same_author,"
	  "duplicates.many_authors,new_commenters", 30 },
};


/* Evaluates body, then applies the facts; returns the wait. */
static uint32_t
judge(const struct policy *p, struct eval_scratch *s, const char *body,
    const struct state_facts *f, struct verdict *v)
{
	struct comment c = { body, strlen(body), NULL, 0 };
	uint32_t retry = 12345;

	assert_int_equal(eval_comment(p, &c, s, v, NULL), 0);
	eval_state_apply(p, f, v, &retry);
	return retry;
}

static void
test_state_cases(void **state)
{
	const struct policy *p = *state;
	struct eval_scratch *s = eval_scratch_new();
	struct verdict v;
	int failed = 0;

	assert_int_equal(p->nrate_limits, 2);
	verdict_init(&v);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct state_case *c = &cases[i];
		struct state_limit limits[2] = { c->limits[0], c->limits[1] };
		struct state_facts f = {
			c->available, false, c->banned, c->trusted,
			c->approved, limits, c->dup_same, c->dup_authors
		};
		char ids[512];
		uint32_t retry = judge(p, s, c->body, &f, &v);

		reason_ids(&v, ids, sizeof ids);
		if (v.decision != c->decision || strcmp(ids, c->reasons) != 0 ||
		    retry != c->retry_after_s) {
			print_error("case %zu \"%s\": %s [%s] retry %u; "
			    "want %s [%s] retry %u\n", i, c->body,
			    decision_name(v.decision), ids, retry,
			    decision_name(c->decision), c->reasons,
			    c->retry_after_s);
			failed++;
		}
	}
	verdict_free(&v);
	eval_scratch_free(s);
	assert_int_equal(failed, 0);
}

/* The reason with this id, or a failed test. */
static const struct reason *
find(const struct verdict *v, const char *id)
{
	for (size_t i = 0; i < v->nreasons; i++)
		if (strcmp(v->reasons[i].id, id) == 0)
			return &v->reasons[i];
	fail_msg("no reason %s", id);
	return NULL;
}

/* A reason the daemon adds: no span, no score, the given wording. */
static void
check_reason(const struct reason *r, const char *category,
    enum action action, const char *message)
{
	assert_null(r->rule);
	assert_int_equal(r->field, FIELD_BODY);
	assert_int_equal(r->start, 0);
	assert_int_equal(r->end, 0);
	assert_int_equal(r->score, 0);
	assert_string_equal(r->category, category);
	assert_int_equal(r->action, action);
	assert_string_equal(r->message, message);
}

static void
test_reason_fields(void **state)
{
	const struct policy *p = *state;
	struct eval_scratch *s = eval_scratch_new();
	struct verdict v;
	struct state_limit limits[2] = { FIRED(5), FIRED(5) };
	struct state_facts f = {
		true, false, true, false, 0, limits, true, 3
	};

	verdict_init(&v);
	judge(p, s, "a fine comment", &f, &v);
	assert_int_equal(v.nreasons, 6);
	check_reason(find(&v, "author.banned"), "author", ACTION_REJECT,
	    "This account may not comment here.");
	check_reason(find(&v, "flood.author"), "rate", ACTION_REJECT,
	    p->rate_limits[0].message);
	/* The message belongs to the policy, which outlives the verdict. */
	assert_ptr_equal(find(&v, "flood.author")->message,
	    p->rate_limits[0].message);
	assert_non_null(strstr(p->rate_limits[0].message, "try again"));
	check_reason(find(&v, "flood.ip"), "network", ACTION_QUEUE,
	    "Slow down.");
	check_reason(find(&v, "duplicates.same_author"), "duplicate",
	    ACTION_REJECT, p->dup_same_author.message);
	check_reason(find(&v, "duplicates.many_authors"), "duplicate",
	    ACTION_QUEUE, p->dup_many_authors.message);
	check_reason(find(&v, "new_commenters"), "new_commenter", ACTION_QUEUE,
	    p->new_commenters.message);
	assert_int_equal(v.score, 0);
	verdict_free(&v);
	eval_scratch_free(s);
}

static void
test_unknown_facts_queue_and_say_so(void **state)
{
	const struct policy *p = *state;
	struct eval_scratch *s = eval_scratch_new();
	struct verdict v;
	struct state_limit limits[2] = { OK, OK };
	/* A ban and trust read before Redis went away mean nothing now. */
	struct state_facts f = {
		false, false, true, true, 9, limits, true, 9
	};
	static const char *const ids[] = { "duplicates.same_author",
	    "duplicates.many_authors", "new_commenters" };

	verdict_init(&v);
	judge(p, s, "a fine comment", &f, &v);
	assert_int_equal(v.nreasons, 3);
	assert_int_equal(v.decision, DECISION_QUEUE);
	for (size_t i = 0; i < 3; i++) {
		const struct reason *r = &v.reasons[i];
		assert_string_equal(r->id, ids[i]);
		/* duplicates.same_author rejects when known, but not here */
		assert_int_equal(r->action, ACTION_QUEUE);
		assert_non_null(strstr(r->message, "could not be checked"));
	}
	verdict_free(&v);
	eval_scratch_free(s);
}

static void
test_policy_without_state_rules(void **state)
{
	struct policy *p = load(stateless_text);
	struct eval_scratch *s = eval_scratch_new();
	struct verdict v;
	/* Unknown facts: a stale ban or trust in them counts for nothing. */
	struct state_facts unknown = { false, false, true, true, 0, NULL,
	    false, 0 };
	struct state_facts trusted = { true, false, false, true, 0, NULL,
	    false, 0 };

	(void)state;
	verdict_init(&v);
	assert_int_equal(judge(p, s, "a fine comment", &unknown, &v), 0);
	assert_int_equal(v.nreasons, 0);
	assert_int_equal(v.decision, DECISION_ACCEPT);
	judge(p, s, "spam", &unknown, &v);
	assert_int_equal(v.decision, DECISION_QUEUE);
	judge(p, s, "spam", &trusted, &v);
	assert_int_equal(v.decision, DECISION_ACCEPT);
	assert_int_equal(v.score, 4);
	verdict_free(&v);
	eval_scratch_free(s);
	policy_free(p);
}

static void
test_engine_limit_still_queues_for_trusted(void **state)
{
	const struct policy *p = *state;
	struct eval_scratch *s = eval_scratch_new();
	struct verdict v;
	struct state_limit limits[2] = { OK, OK };
	struct state_facts f = { true, false, false, true, 5, limits, false,
	    1 };
	uint32_t retry;

	/* A rule that could not be evaluated fails to a human, trust or not. */
	verdict_init(&v);
	judge(p, s, "a fine comment", &f, &v);
	assert_int_equal(v.decision, DECISION_ACCEPT);
	v.limit_hit = true;
	eval_state_apply(p, &f, &v, &retry);
	assert_int_equal(v.decision, DECISION_QUEUE);
	assert_int_equal(retry, 0);
	verdict_free(&v);
	eval_scratch_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_cases),
		cmocka_unit_test(test_reason_fields),
		cmocka_unit_test(test_unknown_facts_queue_and_say_so),
		cmocka_unit_test(test_policy_without_state_rules),
		cmocka_unit_test(test_engine_limit_still_queues_for_trusted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
