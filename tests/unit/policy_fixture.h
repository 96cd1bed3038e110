/*
 * policy_fixture: the policy a test file loads from a string, as its group
 * setup, and the reasons of a verdict as one comparable string.  Shared by
 * the evaluation tests; include it after cmocka.h, and define policy_text
 * before it.
 */
#ifndef COMMENTD_TEST_POLICY_FIXTURE_H
#define COMMENTD_TEST_POLICY_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "errlist.h"
#include "eval.h"
#include "policy.h"

/* Loads a policy from text; the test fails with every error otherwise. */
static struct policy *
load(const char *text)
{
	struct policy *p = NULL;
	struct errlist e;

	errlist_init(&e);
	if (policy_load_buffer("fixture.yaml", TEST_DATA_DIR, text,
	    strlen(text), &p, &e) != 0) {
		for (size_t i = 0; i < e.n; i++)
			print_error("%s\n", e.msgs[i]);
		fail_msg("policy did not load");
	}
	errlist_free(&e);
	return p;
}

/* Group setup: the file's policy_text, loaded once. */
static int
setup(void **state)
{
	*state = load(policy_text);
	return 0;
}

static int
teardown(void **state)
{
	policy_free(*state);
	return 0;
}

/* The ids of v's reasons, comma-separated, in order. */
static void
reason_ids(const struct verdict *v, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < v->nreasons && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i ? "," : "",
		    v->reasons[i].id);
}

#endif
