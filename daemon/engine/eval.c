/*
 * eval: runs every rule of a policy over a comment and decides.  See eval.h.
 *
 * Order of work: bounds first (a comment over max_length is rejected before
 * it is read further, so its size cannot cost time), then normalisation,
 * the word lists (one scan for all of them), the regex rules under the
 * comment's time budget, and the structural checks.  The scratch keeps every
 * buffer between comments, so evaluation allocates nothing once warm.
 */
#include "eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#include "checks.h"
#include "regex_prefilter.h"
#include "regex_rule.h"
#include "tokenize.h"
#include "wordlist.h"

/* A field's normalised text as UTF-8 for the regex rules, made once. */
struct norm_subject {
	char		*buf;
	uint32_t	*map;		/* its bytes -> normalised characters */
	size_t		 cap, len;
	bool		 ready;		/* made for this evaluation */
};

struct eval_scratch {
	struct ntext	 body, name;
	struct tokens	 body_tk, name_tk;
	struct regex_runner *rx;
	struct norm_subject subj[2];	/* by field: normalised UTF-8 */
	uint8_t		*seen;		/* per rule: already a reason */
	uint8_t		*maybe;		/* per rule: the regex might match */
	size_t		 seen_cap;
	uint64_t	(*now_us)(void);
};

/* The engine's own reasons, with the ids policies and logs see. */
static const struct reason too_long = {
	NULL, "limits.max_length", "length",
	"This comment is longer than the site allows.", ACTION_REJECT, 0,
	FIELD_BODY, 0, 0
};
static const struct reason too_short = {
	NULL, "limits.min_length", "length",
	"This comment is empty or too short.", ACTION_REJECT, 0,
	FIELD_BODY, 0, 0
};
static const struct reason engine_limit = {
	NULL, "engine.limit", "engine",
	"This comment is held for a moderator.", ACTION_QUEUE, 0,
	FIELD_BODY, 0, 0
};

static uint64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof *v);
}

void
verdict_free(struct verdict *v)
{
	if (v == NULL)
		return;
	free(v->reasons);
	verdict_init(v);
}

struct eval_scratch *
eval_scratch_new(void)
{
	struct eval_scratch *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	ntext_init(&s->body);
	ntext_init(&s->name);
	tokens_init(&s->body_tk);
	tokens_init(&s->name_tk);
	s->now_us = monotonic_us;
	if ((s->rx = regex_runner_new()) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
eval_scratch_free(struct eval_scratch *s)
{
	if (s == NULL)
		return;
	ntext_free(&s->body);
	ntext_free(&s->name);
	tokens_free(&s->body_tk);
	tokens_free(&s->name_tk);
	regex_runner_free(s->rx);
	for (int f = 0; f < 2; f++) {
		free(s->subj[f].buf);
		free(s->subj[f].map);
	}
	free(s->seen);
	free(s->maybe);
	free(s);
}

void
eval_scratch_set_clock(struct eval_scratch *s, uint64_t (*now_us)(void))
{
	s->now_us = now_us != NULL ? now_us : monotonic_us;
}

/* Appends a reason; aborts on exhaustion (a verdict is small). */
static struct reason *
add_reason(struct verdict *v, const struct reason *r)
{
	if (v->nreasons == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		struct reason *n = realloc(v->reasons, cap * sizeof *n);
		if (n == NULL)
			abort();
		v->reasons = n;
		v->cap = cap;
	}
	v->reasons[v->nreasons] = *r;
	return &v->reasons[v->nreasons++];
}

/* Appends a reason given whole, for the daemon's own (eval_state.c). */
void
verdict_add_reason(struct verdict *v, const struct reason *r)
{
	add_reason(v, r);
}

/* Adds rule r as a reason for bytes [start, end) of its field. */
static void
add_rule_reason(struct verdict *v, const struct rule *r, uint32_t start,
    uint32_t end)
{
	struct reason x = {
		r, r->id, r->category, r->message, r->action, r->score,
		r->field, start, end
	};

	add_reason(v, &x);
}

/* What a word-list scan needs to turn hits into reasons. */
struct hits {
	const struct policy	*p;
	struct eval_scratch	*s;
	struct verdict		*v;
	const struct ntext	*nt;
	enum field		 field;
	const struct rule	*only;	/* eval_rule: the one rule wanted */
	int			 found;
};

static int
hit_cb(void *arg, uint16_t ri, uint32_t first, uint32_t last)
{
	struct hits *h = arg;
	const struct rule *r = &h->p->rules[ri];

	if (h->only != NULL) {
		if (r != h->only)
			return 0;
		h->found = 1;
		return 1;
	}
	if (r->field != h->field || h->s->seen[ri])
		return 0;
	h->s->seen[ri] = 1;
	add_rule_reason(h->v, r, h->nt->c[first].start, h->nt->c[last].end);
	return 0;
}

/*
 * Encodes a field's normalised text as UTF-8 for the regex rules that ask
 * for it, with a map from its bytes back to the normalised characters;
 * once per evaluation, however many rules read it.
 */
static struct norm_subject *
normalized_subject(struct eval_scratch *s, const struct ntext *nt)
{
	struct norm_subject *ns = &s->subj[nt == &s->name];
	size_t n = 0;

	if (ns->ready)
		return ns;
	if (ns->cap < nt->n * 4 + 1) {
		size_t cap = nt->n * 4 + 1;
		char *b = realloc(ns->buf, cap);
		uint32_t *m = realloc(ns->map, cap * sizeof *m);
		if (b == NULL || m == NULL)
			abort();
		ns->buf = b;
		ns->map = m;
		ns->cap = cap;
	}
	for (size_t i = 0; i < nt->n; i++) {
		size_t k = (size_t)utf8proc_encode_char(
		    (utf8proc_int32_t)nt->c[i].cp, (uint8_t *)ns->buf + n);
		for (size_t j = 0; j < k; j++)
			ns->map[n + j] = (uint32_t)i;
		n += k;
	}
	ns->buf[n] = '\0';
	ns->len = n;
	ns->ready = true;
	return ns;
}

/*
 * Runs a regex rule on its field; 1 with the original span, 0, or -1 when
 * a PCRE2 limit stopped it.
 */
static int
run_regex(struct eval_scratch *s, const struct rule *r, const char *text,
    size_t len, const struct ntext *nt, uint32_t *start, uint32_t *end)
{
	size_t ms, me;
	int rc;

	if (!r->on_normalized) {
		rc = regex_rule_find(r, s->rx, text, len, &ms, &me);
		*start = (uint32_t)ms;
		*end = (uint32_t)me;
		return rc;
	}
	struct norm_subject *ns = normalized_subject(s, nt);
	if ((rc = regex_rule_find(r, s->rx, ns->buf, ns->len, &ms, &me)) != 1)
		return rc;
	*start = ms < ns->len ? nt->c[ns->map[ms]].start : (uint32_t)len;
	*end = me > ms ? nt->c[ns->map[me - 1]].end : *start;
	return 1;
}

/* White space, for trimming: ASCII's and Unicode's separators. */
static int
is_space(uint32_t cp)
{
	utf8proc_category_t cat;

	if (cp < 0x80)
		return cp == ' ' || (cp >= '\t' && cp <= '\r');
	cat = utf8proc_category((utf8proc_int32_t)cp);
	return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
	    cat == UTF8PROC_CATEGORY_ZP;
}

/* Characters of the text without the white space around it. */
static size_t
trimmed_length(const char *text, const struct ntext *nt)
{
	size_t a = 0, b = nt->n;

	while (a < b && is_space(nt->c[a].cp))
		a++;
	while (b > a && is_space(nt->c[b - 1].cp))
		b--;
	if (a == b)
		return 0;
	return utf8_length(text + nt->c[a].start,
	    nt->c[b - 1].end - nt->c[a].start);
}

/*
 * The decision rule of DESIGN.md, from the reasons gathered; a trusted
 * author's score alone never queues (eval_state.c).
 */
void
eval_decide(const struct policy *p, struct verdict *v, bool trusted)
{
	int reject = 0, queue = v->limit_hit;

	v->score = 0;
	for (size_t i = 0; i < v->nreasons; i++) {
		v->score += v->reasons[i].score;
		reject |= v->reasons[i].action == ACTION_REJECT;
		queue |= v->reasons[i].action == ACTION_QUEUE;
	}
	if (reject || v->score >= p->reject_threshold)
		v->decision = DECISION_REJECT;
	else if (queue || (!trusted && v->score >= p->queue_threshold))
		v->decision = DECISION_QUEUE;
	else
		v->decision = DECISION_ACCEPT;
}

/* Orders reasons as the policy orders its rules, the engine's own first. */
static void
sort_reasons(const struct policy *p, struct verdict *v)
{
	for (size_t i = 1; i < v->nreasons; i++) {
		struct reason x = v->reasons[i];
		size_t kx = x.rule ? (size_t)(x.rule - p->rules) + 1 : 0, j = i;
		while (j > 0) {
			const struct rule *r = v->reasons[j - 1].rule;
			if ((r ? (size_t)(r - p->rules) + 1 : 0) <= kx)
				break;
			v->reasons[j] = v->reasons[j - 1];
			j--;
		}
		v->reasons[j] = x;
	}
}

/* Makes room for one flag per rule and clears them. */
static void
reset_seen(struct eval_scratch *s, size_t nrules)
{
	if (s->seen_cap < nrules) {
		uint8_t *n = realloc(s->seen, nrules);
		uint8_t *m = realloc(s->maybe, nrules);
		if (n == NULL || m == NULL)
			abort();
		s->seen = n;
		s->maybe = m;
		s->seen_cap = nrules;
	}
	if (nrules > 0)
		memset(s->seen, 0, nrules);
}

/* Scans one field's words against every word list. */
static void
scan_words(const struct policy *p, struct eval_scratch *s, struct verdict *v,
    const struct ntext *nt, struct tokens *tk, enum field field)
{
	struct hits h = { p, s, v, nt, field, NULL, 0 };

	if (!(p->wordlist_fields & (1u << field)) || p->matcher == NULL)
		return;
	tokenize(&p->norm, nt, tk);
	matcher_scan(p->matcher, tk, hit_cb, &h);
}

/*
 * Marks in s->maybe the regex rules that might match: the prefilter's one
 * scan per text read, instead of every rule's own.
 */
static void
prefilter_texts(const struct policy *p, struct eval_scratch *s,
    const struct comment *c)
{
	prefilter_begin(p->prefilter, p, s->maybe);
	for (int t = 0; t < PREFILTER_TEXTS; t++) {
		bool name = t >= 2, norm = t & 1;
		struct norm_subject *ns;

		if (!prefilter_reads(p->prefilter, t) ||
		    (name && c->author_name == NULL))
			continue;
		if (norm) {
			ns = normalized_subject(s, name ? &s->name : &s->body);
			prefilter_scan(p->prefilter, t, ns->buf,
			    ns->len, s->maybe);
		} else
			prefilter_scan(p->prefilter, t, name ?
			    c->author_name : c->body, name ?
			    c->author_name_len : c->body_len, s->maybe);
	}
}

/*
 * Runs the regex rules (under the time budget) and the checks.  The time
 * the prefilter's scans take is not the rules' and is left out of the
 * budget: the scans are linear in the text, with no rule's cost in them.
 */
static void
run_rules(const struct policy *p, struct eval_scratch *s, struct verdict *v,
    const struct comment *c, uint64_t t0)
{
	int out_of_time = 0;
	uint64_t t1;

	regex_runner_limits(s->rx, &p->limits);
	s->subj[0].ready = s->subj[1].ready = false;	/* a new comment */
	if (p->prefilter == NULL)		/* two clock reads spared */
		prefilter_begin(NULL, p, s->maybe);
	else {
		t1 = s->now_us();
		prefilter_texts(p, s, c);
		t0 += s->now_us() - t1;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		int name = r->field == FIELD_AUTHOR_NAME;
		const char *text = name ? c->author_name : c->body;
		size_t len = name ? c->author_name_len : c->body_len;
		uint32_t start, end;
		double value;
		int rc;

		if (r->kind == RULE_WORDLIST || (name && text == NULL))
			continue;
		if (r->kind == RULE_CHECK) {
			if (check_eval(r, text, len, &start, &end, &value) == 1)
				add_rule_reason(v, r, start, end);
			continue;
		}
		if (out_of_time || !s->maybe[i])
			continue;
		rc = run_regex(s, r, text, len, name ? &s->name : &s->body,
		    &start, &end);
		if (rc == 1)
			add_rule_reason(v, r, start, end);
		else if (rc < 0)
			v->limit_hit = true;
		if (s->now_us() - t0 > p->limits.time_budget_us) {
			out_of_time = 1;
			v->limit_hit = true;
		}
	}
	if (v->limit_hit)
		add_reason(v, &engine_limit);
}

/* Sets *cause to "what is not valid UTF-8 at byte N". */
static void
bad_utf8(char **cause, const char *what, size_t at)
{
	if (cause != NULL && asprintf(cause, "%s is not valid UTF-8 (byte %zu)",
	    what, at) < 0)
		*cause = NULL;
}

int
eval_comment(const struct policy *p, const struct comment *c,
    struct eval_scratch *s, struct verdict *v, char **cause)
{
	uint64_t t0 = s->now_us();
	size_t bad;

	v->nreasons = 0;
	v->limit_hit = false;
	/* Four bytes a character at most: longer is too long unread. */
	if (c->body_len > (size_t)p->limits.max_length * 4) {
		add_reason(v, &too_long);
		eval_decide(p, v, false);
		return 0;
	}
	if (normalize_text(&p->norm, c->body, c->body_len, &s->body, &bad) < 0) {
		bad_utf8(cause, "body", bad);
		return -1;
	}
	if (c->author_name != NULL && normalize_text(&p->norm, c->author_name,
	    c->author_name_len, &s->name, &bad) < 0) {
		bad_utf8(cause, "author name", bad);
		return -1;
	}
	if (c->author_name == NULL)
		s->name.n = 0;
	if (utf8_length(c->body, c->body_len) > p->limits.max_length) {
		add_reason(v, &too_long);
		eval_decide(p, v, false);
		return 0;
	}
	if (trimmed_length(c->body, &s->body) < p->limits.min_length)
		add_reason(v, &too_short);

	reset_seen(s, p->nrules);
	scan_words(p, s, v, &s->body, &s->body_tk, FIELD_BODY);
	if (c->author_name != NULL)
		scan_words(p, s, v, &s->name, &s->name_tk, FIELD_AUTHOR_NAME);
	run_rules(p, s, v, c, t0);
	sort_reasons(p, v);
	eval_decide(p, v, false);
	return 0;
}

int
eval_rule(const struct policy *p, const struct rule *r, const char *text,
    size_t len, struct eval_scratch *s)
{
	struct hits h = { p, s, NULL, &s->body, r->field, r, 0 };
	uint32_t start, end;
	double value;
	size_t bad;

	if (normalize_text(&p->norm, text, len, &s->body, &bad) < 0)
		return -1;
	switch (r->kind) {
	case RULE_WORDLIST:
		if (p->matcher == NULL)
			return 0;
		tokenize(&p->norm, &s->body, &s->body_tk);
		matcher_scan(p->matcher, &s->body_tk, hit_cb, &h);
		return h.found;
	case RULE_REGEX:
		regex_runner_limits(s->rx, &p->limits);
		s->subj[0].ready = false;
		return run_regex(s, r, text, len, &s->body, &start, &end);
	case RULE_CHECK:
		return check_eval(r, text, len, &start, &end, &value);
	}
	return -1;
}
