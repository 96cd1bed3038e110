/*
 * fuzz_eval: evaluation of arbitrary comments against the default policy.
 *
 * Comment bodies and author names come straight from the public, so every
 * byte sequence must give a verdict or a clean "invalid UTF-8" refusal,
 * never a crash, a leak or a reason pointing outside the text.  The input
 * splits at its first NUL into author name and body (no NUL: body only, no
 * name), so one corpus exercises both fields.  Normalisation and the
 * tokenizer are also driven directly, because a bad span there could be
 * hidden by a matcher that happens not to look at it.
 *
 * The policy is loaded once: loading runs every example and times every
 * regex, far too slow per input.  COMMENTD_FUZZ_POLICY overrides its path.
 * Each comment is evaluated a second time without the regex prefilter,
 * and the two verdicts must agree reason for reason.  The prefilter is
 * built to take every rule it can (a policy load leaves a text with fewer
 * than PREFILTER_MIN_RULES such rules to PCRE2 alone, which would leave
 * the default policy's three out of the comparison).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errlist.h"
#include "eval.h"
#include "normalize.h"
#include "policy.h"
#include "regex_prefilter.h"
#include "tokenize.h"

#include "fuzz_common.h"

#ifndef FUZZ_DEFAULT_POLICY
#define FUZZ_DEFAULT_POLICY "policies/default.yaml"
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Live for the whole run; LeakSanitizer sees them as reachable, not leaked. */
static struct policy		*policy;
static struct eval_scratch	*scratch;
static struct ntext		 ntext;
static struct tokens		 tokens;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct errlist	 errs;
	const char	*path;
	size_t		 i;

	path = getenv("COMMENTD_FUZZ_POLICY");
	if (path == NULL || *path == '\0')
		path = FUZZ_DEFAULT_POLICY;
	errlist_init(&errs);
	if (policy_load(path, &policy, &errs) != 0) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "fuzz_eval: cannot load %s\n", path);
		exit(1);
	}
	errlist_free(&errs);
	prefilter_free(policy->prefilter);
	policy->prefilter = prefilter_build_min(policy, 1, &policy->nunfiltered);
	if ((scratch = eval_scratch_new()) == NULL) {
		fprintf(stderr, "fuzz_eval: eval_scratch_new failed\n");
		exit(1);
	}
	ntext_init(&ntext);
	tokens_init(&tokens);
	return 0;
}

/* The reasons must point inside their own field and agree with the decision. */
static void
check_verdict(const struct comment *c, const struct verdict *v)
{
	const uint8_t	*text;
	size_t		 i, len;
	int		 any_reject = 0, any_queue = 0;

	FUZZ_CHECK(v->nreasons <= v->cap);
	FUZZ_CHECK(v->decision == DECISION_ACCEPT ||
	    v->decision == DECISION_QUEUE || v->decision == DECISION_REJECT);
	for (i = 0; i < v->nreasons; i++) {
		const struct reason	*r = &v->reasons[i];

		FUZZ_CHECK(r->id != NULL && r->message != NULL);
		if (r->field == FIELD_AUTHOR_NAME) {
			text = (const uint8_t *)c->author_name;
			len = c->author_name_len;
		} else {
			FUZZ_CHECK(r->field == FIELD_BODY);
			text = (const uint8_t *)c->body;
			len = c->body_len;
		}
		FUZZ_CHECK(r->start <= r->end && r->end <= len);
		if (text != NULL) {
			/* The daemon quotes [start, end) in JSON: whole characters only. */
			FUZZ_CHECK(fuzz_utf8_boundary(text, len, r->start));
			FUZZ_CHECK(fuzz_utf8_boundary(text, len, r->end));
		}
		if (r->action == ACTION_REJECT)
			any_reject = 1;
		else if (r->action == ACTION_QUEUE)
			any_queue = 1;
	}

	/* DESIGN.md's decision rule, restated from the reasons. */
	if (any_reject || v->score >= policy->reject_threshold)
		FUZZ_CHECK(v->decision == DECISION_REJECT);
	else if (any_queue || v->score >= policy->queue_threshold)
		FUZZ_CHECK(v->decision == DECISION_QUEUE);
	else
		FUZZ_CHECK(v->decision == DECISION_ACCEPT);
	/* A rule that could not be evaluated fails to a human, never to accept. */
	if (v->limit_hit)
		FUZZ_CHECK(v->decision != DECISION_ACCEPT);
}

/* Runs the normaliser and the tokenizer on one field and checks their maps. */
static void
fuzz_text(const uint8_t *s, size_t len)
{
	size_t	bad_at = (size_t)-1;
	int	valid = fuzz_utf8_valid(s, len);

	if (normalize_text(&policy->norm, (const char *)s, len, &ntext,
	    &bad_at) != 0) {
		FUZZ_CHECK(!valid);
		FUZZ_CHECK(bad_at < len);
		return;
	}
	FUZZ_CHECK(valid);
	fuzz_check_ntext(&ntext, s, len);
	tokenize(&policy->norm, &ntext, &tokens);
	fuzz_check_tokens(&tokens, &ntext);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct comment	 c;
	struct verdict	 v, again;
	struct prefilter *prefilter;
	const uint8_t	*nul;
	char		*cause = NULL;
	int		 rc;

	memset(&c, 0, sizeof c);
	if ((nul = memchr(data, '\0', size)) != NULL) {
		c.author_name = (const char *)data;
		c.author_name_len = nul - data;
		c.body = (const char *)nul + 1;
		c.body_len = size - (c.author_name_len + 1);
	} else {
		c.body = (const char *)data;
		c.body_len = size;
	}

	fuzz_text((const uint8_t *)c.body, c.body_len);
	if (c.author_name != NULL)
		fuzz_text((const uint8_t *)c.author_name, c.author_name_len);

	verdict_init(&v);
	rc = eval_comment(policy, &c, scratch, &v, &cause);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1 && cause != NULL);
		/* Only malformed text may be refused; everything else gets a verdict. */
		FUZZ_CHECK(!fuzz_utf8_valid((const uint8_t *)c.body,
		    c.body_len) || (c.author_name != NULL &&
		    !fuzz_utf8_valid((const uint8_t *)c.author_name,
		    c.author_name_len)));
		free(cause);
		verdict_free(&v);
		return 0;
	}
	check_verdict(&c, &v);

	/*
	 * The scratch is reused across comments; a second run over the same
	 * comment must not see anything the first one left behind.  It runs
	 * without the regex prefilter, which may only spare PCRE2 work: the
	 * reasons must be the same, span for span.  The time budget can trip
	 * on one run and not the other, so only then may they differ.
	 */
	verdict_init(&again);
	prefilter = policy->prefilter;
	policy->prefilter = NULL;
	rc = eval_comment(policy, &c, scratch, &again, &cause);
	policy->prefilter = prefilter;
	FUZZ_CHECK(rc == 0);
	if (!v.limit_hit && !again.limit_hit) {
		FUZZ_CHECK(again.decision == v.decision);
		FUZZ_CHECK(again.score == v.score);
		FUZZ_CHECK(again.nreasons == v.nreasons);
		for (size_t i = 0; i < v.nreasons; i++) {
			FUZZ_CHECK(strcmp(again.reasons[i].id,
			    v.reasons[i].id) == 0);
			FUZZ_CHECK(again.reasons[i].start == v.reasons[i].start);
			FUZZ_CHECK(again.reasons[i].end == v.reasons[i].end);
		}
	}
	verdict_free(&again);
	verdict_free(&v);
	return 0;
}
