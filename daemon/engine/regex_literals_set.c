/*
 * regex_literals_set: what regex_literals.c knows of a piece of pattern,
 * and how pieces combine: in sequence, as alternatives, repeated.  The
 * rules of the algebra are at the top of regex_literals.c; each function
 * here keeps its promise: a set never names a string a match could lack.
 */
#include "regex_literals_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define EXACT_MAX	16	/* strings an exact set may hold */
#define REQUIRED_MAX	64	/* strings a required set may hold */
#define POWER_MAX	8	/* copies x{n} is multiplied out to */

void
set_free(struct litset *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Adds b[0, len) (len <= REGEX_LITERAL_MAX) unless it is there. */
void
set_add(struct litset *s, const char *b, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].len == len && memcmp(s->v[i].b, b, len) == 0)
			return;
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof *s->v);
	s->v[s->n].len = (uint8_t)len;
	memcpy(s->v[s->n].b, b, len);
	s->n++;
}

/* Every a then b, into out; false when it would be too many or too long. */
static bool
set_cross(const struct litset *a, const struct litset *b, struct litset *out)
{
	memset(out, 0, sizeof *out);
	if (a->n * b->n > EXACT_MAX)
		return false;
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++) {
			struct regex_literal l;

			if (a->v[i].len + b->v[j].len > REGEX_LITERAL_MAX) {
				set_free(out);
				return false;
			}
			l.len = (uint8_t)(a->v[i].len + b->v[j].len);
			memcpy(l.b, a->v[i].b, a->v[i].len);
			memcpy(l.b + a->v[i].len, b->v[j].b, b->v[j].len);
			set_add(out, l.b, l.len);
		}
	return true;
}

/*
 * Drops each string that contains another: a text holding it holds the
 * other, so the set finds the same texts with fewer strings.
 */
static void
set_minimize(struct litset *s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->n; i++) {
		bool redundant = false;

		for (size_t j = 0; j < s->n && !redundant; j++)
			redundant = j != i && s->v[j].len <= s->v[i].len &&
			    memmem(s->v[i].b, s->v[i].len, s->v[j].b,
			    s->v[j].len) != NULL &&
			    (s->v[j].len < s->v[i].len || j < i);
		if (!redundant)
			s->v[kept++] = s->v[i];
	}
	s->n = kept;
}

void
info_none(struct info *in)
{
	set_free(&in->s);
	in->kind = INFO_NONE;
}

/* The piece that matches the empty string only (an assertion). */
void
info_empty(struct info *in)
{
	memset(in, 0, sizeof *in);
	in->kind = INFO_EXACT;
	set_add(&in->s, "", 0);
}

/* An exact piece as a required one: one of its strings is in any match. */
void
info_require(struct info *in)
{
	if (in->kind != INFO_EXACT)
		return;
	for (size_t i = 0; i < in->s.n; i++)
		if (in->s.v[i].len == 0) {
			info_none(in);
			return;
		}
	set_minimize(&in->s);
	in->kind = in->s.n > 0 ? INFO_REQUIRED : INFO_NONE;
}

static size_t
set_shortest(const struct litset *s)
{
	size_t m = REGEX_LITERAL_MAX;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].len < m)
			m = s->v[i].len;
	return m;
}

/*
 * Keeps in *best the better of two required sets (cand is consumed): the
 * one whose shortest string is longer, as it occurs in fewer texts, then
 * the one with fewer strings.
 */
static void
info_keep_better(struct info *best, struct info *cand)
{
	bool better;

	info_require(cand);
	if (cand->kind == INFO_NONE)
		better = false;
	else if (best->kind == INFO_NONE)
		better = true;
	else {
		size_t a = set_shortest(&cand->s), b = set_shortest(&best->s);

		better = a > b || (a == b && cand->s.n < best->s.n);
	}
	if (better) {
		info_none(best);
		*best = *cand;
		memset(cand, 0, sizeof *cand);
	} else
		info_none(cand);
}

void
seq_init(struct seq *q)
{
	info_empty(&q->run);
	memset(&q->best, 0, sizeof q->best);
	q->all_exact = true;
}

/* Appends a piece (consumed) to the sequence. */
void
seq_add(struct seq *q, struct info *x)
{
	struct litset prod;

	if (x->kind == INFO_EXACT && set_cross(&q->run.s, &x->s, &prod)) {
		set_free(&q->run.s);
		q->run.s = prod;
		info_none(x);
		return;
	}
	q->all_exact = false;
	info_keep_better(&q->best, &q->run);
	if (x->kind == INFO_EXACT) {
		q->run = *x;		/* too many: a new run starts */
		memset(x, 0, sizeof *x);
		return;
	}
	info_empty(&q->run);
	info_keep_better(&q->best, x);
}

void
seq_end(struct seq *q, struct info *out)
{
	if (q->all_exact) {
		*out = q->run;
		return;
	}
	info_keep_better(&q->best, &q->run);
	*out = q->best;
}

/* Unites alternative x (consumed) into acc. */
void
alt_add(struct info *acc, struct info *x)
{
	if (acc->kind == INFO_EXACT && x->kind == INFO_EXACT &&
	    acc->s.n + x->s.n <= EXACT_MAX) {
		for (size_t i = 0; i < x->s.n; i++)
			set_add(&acc->s, x->s.v[i].b, x->s.v[i].len);
		info_none(x);
		return;
	}
	info_require(acc);
	info_require(x);
	if (acc->kind == INFO_NONE || x->kind == INFO_NONE ||
	    acc->s.n + x->s.n > REQUIRED_MAX) {
		info_none(acc);
		info_none(x);
		return;
	}
	for (size_t i = 0; i < x->s.n; i++)
		set_add(&acc->s, x->s.v[i].b, x->s.v[i].len);
	set_minimize(&acc->s);
	info_none(x);
}

/* A piece repeated min to max times (max < 0: without bound). */
static void
quantify(struct info *x, long min, long max)
{
	struct info pow;

	if (min == 0) {
		if (max == 1 && x->kind == INFO_EXACT && x->s.n < EXACT_MAX)
			set_add(&x->s, "", 0);
		else
			info_none(x);
		return;
	}
	if (x->kind != INFO_EXACT || min == 1) {
		if (max != min)
			info_require(x);
		return;
	}
	/* x{n,m} always starts with n copies of x, one after the other. */
	memset(&pow, 0, sizeof pow);
	pow.kind = INFO_EXACT;
	set_add(&pow.s, "", 0);
	for (long i = 0; i < min && i < POWER_MAX; i++) {
		struct litset prod;

		if (!set_cross(&pow.s, &x->s, &prod)) {
			info_none(&pow);
			break;
		}
		set_free(&pow.s);
		pow.s = prod;
	}
	if (pow.kind == INFO_EXACT && (min > POWER_MAX || max != min))
		info_require(&pow);
	if (pow.kind == INFO_NONE) {
		info_require(x);
		return;
	}
	info_none(x);
	*x = pow;
}

static void
info_copy(struct info *to, const struct info *from)
{
	memset(to, 0, sizeof *to);
	to->kind = from->kind;
	for (size_t i = 0; i < from->s.n; i++)
		set_add(&to->s, from->s.v[i].b, from->s.v[i].len);
}

/*
 * Appends x{min,max} (x consumed) as x{min} then x{0,max-min}, so that
 * `xa+y` still gives "xa": the copies that must be there stay in the run.
 */
void
seq_add_repeated(struct seq *q, struct info *x, long min, long max)
{
	struct info rest;

	if (min == 0 || x->kind != INFO_EXACT || max == min) {
		quantify(x, min, max);
		seq_add(q, x);
		return;
	}
	info_copy(&rest, x);
	quantify(x, min, min);
	seq_add(q, x);
	quantify(&rest, 0, max < 0 ? -1 : max - min);
	seq_add(q, &rest);
}
