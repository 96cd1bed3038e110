/*
 * policy: what a loaded policy offers its readers, and its release.
 *
 * Loading is policy_load.c and policy_parse.c; here are the lookups, the
 * names the API prints, freeing, and the examples' run, which needs a
 * complete policy and the evaluator and so comes after loading.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "regex_prefilter.h"
#include "regex_rule.h"
#include "wordlist.h"

/* Example texts are quoted in messages up to this many bytes. */
#define EXAMPLE_QUOTE_MAX	60

/* Frees what a rule owns; the rule itself lives in the policy's array. */
static void
rule_clear(struct rule *r)
{
	size_t i;

	if (r->kind == RULE_REGEX)
		regex_rule_free(r);
	free(r->id);
	free(r->category);
	free(r->message);
	for (i = 0; i < r->nmatch_examples; i++)
		free(r->match_examples[i].text);
	free(r->match_examples);
	for (i = 0; i < r->npass_examples; i++)
		free(r->pass_examples[i].text);
	free(r->pass_examples);
	free(r->file);
	free(r->pattern);
}

/* Frees a policy and everything it owns; NULL is fine. */
void
policy_free(struct policy *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++)
		rule_clear(&p->rules[i]);
	free(p->rules);
	for (i = 0; i < p->nallow_files; i++)
		free(p->allow_files[i]);
	free(p->allow_files);
	matcher_free(p->matcher);
	prefilter_free(p->prefilter);
	for (i = 0; i < p->nrate_limits; i++) {
		free(p->rate_limits[i].id);
		free(p->rate_limits[i].category);
		free(p->rate_limits[i].message);
	}
	free(p->rate_limits);
	free(p->dup_same_author.message);
	free(p->dup_many_authors.message);
	free(p->new_commenters.message);
	for (i = 0; i < p->nexamples; i++) {
		free(p->examples[i].body);
		free(p->examples[i].author_name);
		for (j = 0; j < p->examples[i].nrules; j++)
			free(p->examples[i].rules[j]);
		free(p->examples[i].rules);
	}
	free(p->examples);
	free(p->name);
	free(p->description);
	free(p->version);
	free(p->path);
	free(p);
}

/*
 * Finds a rule by id; a linear scan, for tools and examples, not for
 * evaluation.
 */
const struct rule *
policy_rule(const struct policy *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].id != NULL && strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	return NULL;
}

/* The name of an action as policies and the API spell it. */
const char *
action_name(enum action a)
{
	switch (a) {
	case ACTION_SCORE:
		return "score";
	case ACTION_QUEUE:
		return "queue";
	case ACTION_REJECT:
		return "reject";
	}
	return "unknown";
}

/* The name of a decision as the API spells it. */
const char *
decision_name(enum decision d)
{
	switch (d) {
	case DECISION_ACCEPT:
		return "accept";
	case DECISION_QUEUE:
		return "queue";
	case DECISION_REJECT:
		return "reject";
	}
	return "unknown";
}

/* The name of a field as policies spell it. */
const char *
field_name(enum field f)
{
	switch (f) {
	case FIELD_BODY:
		return "body";
	case FIELD_AUTHOR_NAME:
		return "author.name";
	}
	return "unknown";
}

/* Runs one rule's match and pass examples alone against that rule. */
static void
run_rule_examples(const struct policy *p, const struct rule *r,
    struct eval_scratch *es, struct errlist *errs)
{
	const struct example_text *ex;
	char q[128];
	size_t i, n = r->nmatch_examples + r->npass_examples;
	int want, got;

	for (i = 0; i < n; i++) {
		want = i < r->nmatch_examples;
		ex = want ? &r->match_examples[i] :
		    &r->pass_examples[i - r->nmatch_examples];
		got = eval_rule(p, r, ex->text, strlen(ex->text), es);
		if (got == want)
			continue;
		errlist_quote(ex->text, strlen(ex->text), EXAMPLE_QUOTE_MAX, q,
		    sizeof q);
		if (got == -1)
			errlist_add(errs, p->path, ex->line, ex->column,
			    "rule %s: example %s could not be evaluated",
			    r->id, q);
		else
			errlist_add(errs, p->path, ex->line, ex->column,
			    "rule %s: example %s should %s but %s", r->id, q,
			    want ? "match" : "pass",
			    want ? "does not match" : "matches");
	}
}

/* Lists a verdict's reasons ("a, b") into buf, for messages. */
static const char *
reason_list(const struct verdict *v, char *buf, size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < v->nreasons && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "",
		    v->reasons[i].id);
	return v->nreasons ? buf : "none";
}

/* Runs one whole-comment example and reports how its verdict differs. */
static void
run_policy_example(const struct policy *p, const struct policy_example *ex,
    struct eval_scratch *es, struct verdict *v, struct errlist *errs)
{
	struct comment c;
	char q[128], got[256], *cause = NULL;
	size_t i, j;

	memset(&c, 0, sizeof c);
	c.body = ex->body;
	c.body_len = strlen(ex->body);
	if ((c.author_name = ex->author_name) != NULL)
		c.author_name_len = strlen(ex->author_name);
	errlist_quote(ex->body, strlen(ex->body), EXAMPLE_QUOTE_MAX, q, sizeof q);
	if (eval_comment(p, &c, es, v, &cause) == -1) {
		errlist_add(errs, p->path, ex->line, ex->column,
		    "example %s could not be evaluated: %s", q,
		    cause ? cause : "unknown error");
		free(cause);
		return;
	}
	if (v->decision != ex->expect)
		errlist_add(errs, p->path, ex->line, ex->column,
		    "example %s: expected %s, got %s (reasons: %s)", q,
		    decision_name(ex->expect), decision_name(v->decision),
		    reason_list(v, got, sizeof got));
	for (i = 0; i < ex->nrules; i++) {
		for (j = 0; j < v->nreasons; j++)
			if (strcmp(v->reasons[j].id, ex->rules[i]) == 0)
				break;
		if (j == v->nreasons)
			errlist_add(errs, p->path, ex->line,
			    ex->column, "example %s: rule %s did not fire "
			    "(reasons: %s)", q, ex->rules[i],
			    reason_list(v, got, sizeof got));
	}
}

/* Runs every example with one scratch, reporting each failure at its line. */
int
policy_check_examples(const struct policy *p, struct errlist *errs)
{
	struct eval_scratch *es;
	struct verdict v;
	size_t i, n0 = errs->n;

	if ((es = eval_scratch_new()) == NULL) {
		errlist_add(errs, p->path, 0, 0, "cannot allocate an "
		    "evaluator for the examples");
		return -1;
	}
	verdict_init(&v);
	for (i = 0; i < p->nrules; i++)
		run_rule_examples(p, &p->rules[i], es, errs);
	for (i = 0; i < p->nexamples; i++)
		run_policy_example(p, &p->examples[i], es, &v, errs);
	verdict_free(&v);
	eval_scratch_free(es);
	return errs->n > n0 ? -1 : 0;
}
