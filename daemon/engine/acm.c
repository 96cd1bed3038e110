/*
 * acm: Aho-Corasick, built as a full deterministic automaton (every state
 * has a transition for every byte class), so scanning does one table look-up
 * a byte and never follows failure links.  Outputs are chained: a state's own
 * patterns, then those of its nearest failure ancestor that has any.
 */
#include "acm.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct acm {
	uint8_t		 cls[256];	/* byte -> class; 0 = in no pattern */
	uint32_t	 nclasses;
	uint32_t	 nstates;
	uint32_t	*delta;		/* nstates x nclasses */
	int32_t		*out;		/* state -> first output, or -1 */
	int32_t		*dict;		/* state -> next state with outputs, or -1 */
	int32_t		*emit;		/* state -> first state of its outputs, or -1 */
	uint32_t	*out_pattern;	/* output -> pattern */
	int32_t		*out_next;	/* output -> next output of the state */
};

void
acm_free(struct acm *a)
{
	if (a == NULL)
		return;
	free(a->delta);
	free(a->out);
	free(a->dict);
	free(a->emit);
	free(a->out_pattern);
	free(a->out_next);
	free(a);
}

struct acm *
acm_build(const char *const *pats, const uint32_t *lens, size_t n)
{
	struct acm *a = xcalloc(1, sizeof *a);
	size_t maxstates = 1, nout = 0;
	uint32_t *queue;

	a->nclasses = 1;
	for (size_t i = 0; i < n; i++) {
		maxstates += lens[i];
		for (uint32_t j = 0; j < lens[i]; j++) {
			unsigned char b = (unsigned char)pats[i][j];
			if (a->cls[b] == 0)
				a->cls[b] = (uint8_t)a->nclasses++;
		}
	}
	/* 0 means "no edge yet" while building the trie: the root is never a target. */
	a->delta = xcalloc(maxstates * a->nclasses, sizeof *a->delta);
	a->out = malloc(maxstates * sizeof *a->out);
	a->dict = malloc(maxstates * sizeof *a->dict);
	a->out_pattern = xcalloc(n, sizeof *a->out_pattern);
	a->out_next = xcalloc(n, sizeof *a->out_next);
	if (a->out == NULL || a->dict == NULL)
		abort();
	a->nstates = 1;
	a->out[0] = -1;
	for (size_t i = 0; i < n; i++) {
		uint32_t s = 0;
		for (uint32_t j = 0; j < lens[i]; j++) {
			uint32_t c = a->cls[(unsigned char)pats[i][j]];
			uint32_t *e = &a->delta[s * a->nclasses + c];
			if (*e == 0) {
				*e = a->nstates;
				a->out[a->nstates++] = -1;
			}
			s = *e;
		}
		a->out_pattern[nout] = (uint32_t)i;
		a->out_next[nout] = a->out[s];
		a->out[s] = (int32_t)nout++;
	}

	/* Breadth first: each state's failure target is complete before it is used. */
	uint32_t *fail = xcalloc(a->nstates, sizeof *fail);
	queue = xcalloc(a->nstates, sizeof *queue);
	size_t head = 0, tail = 0;
	a->dict[0] = -1;
	for (uint32_t c = 0; c < a->nclasses; c++) {
		uint32_t t = a->delta[c];
		if (t != 0) {
			fail[t] = 0;
			a->dict[t] = -1;
			queue[tail++] = t;
		}
	}
	while (head < tail) {
		uint32_t s = queue[head++];
		for (uint32_t c = 0; c < a->nclasses; c++) {
			uint32_t *e = &a->delta[s * a->nclasses + c];
			uint32_t f = a->delta[fail[s] * a->nclasses + c];
			if (*e == 0) {
				*e = f;		/* complete the automaton */
				continue;
			}
			fail[*e] = f;
			a->dict[*e] = a->out[f] >= 0 ? (int32_t)f : a->dict[f];
			queue[tail++] = *e;
		}
	}
	free(queue);
	free(fail);
	/* One look-up a byte in the scan: mostly -1, no output here. */
	a->emit = xcalloc(a->nstates, sizeof *a->emit);
	for (uint32_t st = 0; st < a->nstates; st++)
		a->emit[st] = a->out[st] >= 0 ? (int32_t)st : a->dict[st];
	return a;
}

struct acm *
acm_build_folded(const char *const *pats, const uint32_t *lens, size_t n)
{
	struct acm *a = acm_build(pats, lens, n);

	/* No pattern holds an upper-case letter: each reads as its lower. */
	for (int c = 'A'; c <= 'Z'; c++)
		a->cls[c] = a->cls[c - 'A' + 'a'];
	return a;
}

void
acm_scan(const struct acm *a, const char *text, size_t len, acm_hit_cb cb,
    void *arg)
{
	uint32_t s = 0;

	if (a == NULL)
		return;
	for (size_t i = 0; i < len; i++) {
		s = a->delta[s * a->nclasses + a->cls[(unsigned char)text[i]]];
		for (int32_t t = a->emit[s]; t >= 0; t = a->dict[t])
			for (int32_t o = a->out[t]; o >= 0; o = a->out_next[o])
				cb(arg, a->out_pattern[o], i + 1);
	}
}
