/*
 * regex_prefilter: the rules' literals in one Aho-Corasick automaton per
 * text (regex_prefilter.h says what it promises).
 *
 * Building costs a reading of each pattern and an automaton over the
 * literals: milliseconds for a thousand rules, so a policy load builds its
 * own and nothing is cached.  The automata are read-only once built, and
 * a scan keeps its state on the stack: any number of threads may scan.
 */
#include "regex_prefilter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "acm.h"
#include "policy.h"
#include "regex_literals.h"
#include "xalloc.h"

/* One text's automaton and the rule each of its literals stands for. */
struct prefilter_text {
	struct acm	*acm;
	uint32_t	*rule;		/* literal -> rule index */
	size_t		 n, cap;
	size_t		 nrules;	/* the rules the literals are of */
};

struct prefilter {
	struct prefilter_text texts[PREFILTER_TEXTS];
	uint8_t		*always;	/* per rule: 1 runs always */
	size_t		 nrules;
};

int
prefilter_text(const struct policy *p, size_t rule)
{
	const struct rule *r = &p->rules[rule];

	return (r->field == FIELD_AUTHOR_NAME ? 2 : 0) +
	    (r->on_normalized ? 1 : 0);
}

/* The literals gathered for one text, before its automaton is built. */
struct prefilter_lits {
	const char	**pat;
	uint32_t	*len;
	size_t		 pat_cap, len_cap;
};

/* Adds rule i's literals to its text; false when it has none known. */
static bool
prefilter_add(struct prefilter *pf, struct prefilter_lits *lits,
    struct regex_literals *held, const struct policy *p, size_t i)
{
	const struct rule *r = &p->rules[i];
	struct prefilter_text *t = &pf->texts[prefilter_text(p, i)];
	struct prefilter_lits *l = &lits[prefilter_text(p, i)];
	struct regex_literals *rl = &held[i];

	if (regex_literals(r->pattern, strlen(r->pattern), r->case_sensitive,
	    rl) == -1)
		return false;
	t->nrules++;
	for (size_t k = 0; k < rl->n; k++) {
		t->rule = xgrow(t->rule, &t->cap, t->n + 1, sizeof *t->rule);
		l->pat = xgrow(l->pat, &l->pat_cap, t->n + 1, sizeof *l->pat);
		l->len = xgrow(l->len, &l->len_cap, t->n + 1, sizeof *l->len);
		l->pat[t->n] = rl->v[k].b;
		l->len[t->n] = rl->v[k].len;
		t->rule[t->n++] = (uint32_t)i;
	}
	return true;
}

struct prefilter *
prefilter_build(const struct policy *p, size_t *unfiltered)
{
	return prefilter_build_min(p, PREFILTER_MIN_RULES, unfiltered);
}

struct prefilter *
prefilter_build_min(const struct policy *p, size_t min_rules,
    size_t *unfiltered)
{
	struct prefilter *pf = xcalloc(1, sizeof *pf);
	struct prefilter_lits lits[PREFILTER_TEXTS];
	struct regex_literals *held = xcalloc(p->nrules, sizeof *held);
	size_t nregex = 0, nalways = 0;

	memset(lits, 0, sizeof lits);
	pf->nrules = p->nrules;
	pf->always = xcalloc(p->nrules, 1);
	for (size_t i = 0; i < p->nrules; i++) {
		if (p->rules[i].kind != RULE_REGEX)
			continue;
		nregex++;
		if (!prefilter_add(pf, lits, held, p, i)) {
			pf->always[i] = 1;
			nalways++;
		}
	}
	for (int t = 0; t < PREFILTER_TEXTS; t++) {
		struct prefilter_text *pt = &pf->texts[t];

		if (pt->nrules >= min_rules)
			pt->acm = acm_build_folded(lits[t].pat, lits[t].len,
			    pt->n);
		else			/* too few to pay: they run always */
			for (size_t k = 0; k < pt->n; k++)
				if (!pf->always[pt->rule[k]]) {
					pf->always[pt->rule[k]] = 1;
					nalways++;
				}
		free(lits[t].pat);
		free(lits[t].len);
	}
	for (size_t i = 0; i < p->nrules; i++)
		regex_literals_free(&held[i]);
	free(held);
	*unfiltered = nalways;
	if (nalways == nregex) {
		prefilter_free(pf);
		return NULL;
	}
	return pf;
}

void
prefilter_free(struct prefilter *pf)
{
	if (pf == NULL)
		return;
	for (int t = 0; t < PREFILTER_TEXTS; t++) {
		acm_free(pf->texts[t].acm);
		free(pf->texts[t].rule);
	}
	free(pf->always);
	free(pf);
}

int
prefilter_reads(const struct prefilter *pf, int t)
{
	return pf != NULL && pf->texts[t].acm != NULL;
}

void
prefilter_begin(const struct prefilter *pf, const struct policy *p,
    uint8_t *maybe)
{
	if (pf == NULL) {
		for (size_t i = 0; i < p->nrules; i++)
			maybe[i] = p->rules[i].kind == RULE_REGEX;
		return;
	}
	memcpy(maybe, pf->always, pf->nrules);
}

struct prefilter_hit {
	const uint32_t	*rule;
	uint8_t		*maybe;
};

/* A literal was found: its rule may match. */
static void
prefilter_hit(void *arg, uint32_t literal, size_t end)
{
	struct prefilter_hit *h = arg;

	(void)end;
	h->maybe[h->rule[literal]] = 1;
}

void
prefilter_scan(const struct prefilter *pf, int t, const char *text,
    size_t len, uint8_t *maybe)
{
	struct prefilter_hit h;

	if (!prefilter_reads(pf, t))
		return;
	h.rule = pf->texts[t].rule;
	h.maybe = maybe;
	acm_scan(pf->texts[t].acm, text, len, prefilter_hit, &h);
}
