/*
 * wordlist_scan: finds a comment's listed words, phrases and substrings.
 *
 * For each word: its readings are looked up (one hash probe each); a reading
 * that is allowlisted silences the whole word; a reading that begins a
 * phrase is followed into the next words while the table says a phrase can
 * still match; a masked reading is compared with the few terms of its
 * length and first or last letter; and, when the policy has substring
 * terms, each reading is run through the automaton, where a hit inside an
 * allowlisted word ("cunt" in "scunthorpes") is dropped.  Nothing here loops
 * over the terms of a list.
 */
#include <string.h>

#include "wordlist_int.h"

struct scan {
	const struct matcher *m;
	const struct tokens *tk;
	matcher_hit_cb	 cb;
	void		*arg;
	int		 stop;
	/* substring hits of one reading: [start, end) byte ranges */
	uint32_t	 roff;
	size_t		 nallow, nhits;
	uint32_t	 allow_s[SUBSTR_MAX_HITS], allow_e[SUBSTR_MAX_HITS];
	uint32_t	 hit_s[SUBSTR_MAX_HITS], hit_e[SUBSTR_MAX_HITS];
	uint32_t	 hit_pat[SUBSTR_MAX_HITS];
};

/* Reports a term's rules for the normalised characters [first, last]. */
static void
report(struct scan *sc, const struct term *t, uint32_t first, uint32_t last)
{
	for (uint16_t i = 0; i < t->nrules && !sc->stop; i++)
		if (sc->cb(sc->arg, t->rules[i], first, last) != 0)
			sc->stop = 1;
}

/* Follows a phrase from key[0, klen) into word `ti` and beyond. */
static void
follow(struct scan *sc, size_t ti, char *key, size_t klen, uint32_t first,
    int depth, int *budget)
{
	const struct tokens *tk = sc->tk;
	const struct token *t = &tk->t[ti];

	for (uint16_t i = 0; i < t->nreadings && !sc->stop; i++) {
		const struct reading *r = &tk->r[t->first + i];
		size_t k = klen + 1 + r->len;
		const uint32_t *v;

		if ((r->flags & READING_MASKED) || k > PHRASE_KEY_MAX ||
		    --*budget < 0)
			continue;
		key[klen] = ' ';
		memcpy(key + klen + 1, tk->bytes + r->off, r->len);
		if ((v = strmap_get(&sc->m->words, key, k)) == NULL)
			continue;
		const struct term *term = &sc->m->terms[*v];
		if (term->flags & TERM_WORD)
			report(sc, term, first, tk->src[r->off + r->len - 1]);
		if ((term->flags & TERM_PREFIX) && ti + 1 < tk->nwords &&
		    depth + 1 < WORDLIST_MAX_PHRASE_WORDS)
			follow(sc, ti + 1, key, k, first, depth + 1, budget);
	}
}

/* Compares a masked reading ('?' for a hidden letter) with a term's key. */
static int
mask_fits(const char *pat, const char *key, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (pat[i] == '?') {
			if (key[i] < 'a' || key[i] > 'z')
				return 0;
		} else if (pat[i] != key[i])
			return 0;
	}
	return 1;
}

/* Looks a masked reading up among the single-word terms of its shape. */
static void
scan_masked(struct scan *sc, const struct reading *r)
{
	const char *p = sc->tk->bytes + r->off;
	size_t len = r->len, hidden = 0;
	char key[3];
	const uint32_t *v;

	for (size_t i = 0; i < len; i++)
		hidden += p[i] == '?';
	/* "f**k" is readable, "***k" is not: most of the word must show. */
	if (len < 3 || hidden * 2 > len || len > 255)
		return;
	key[0] = (char)len;
	if (p[0] != '?') {
		key[1] = 'F';
		key[2] = p[0];
	} else if (p[len - 1] != '?') {
		key[1] = 'L';
		key[2] = p[len - 1];
	} else
		return;
	if ((v = strmap_get(&sc->m->buckets, key, 3)) == NULL)
		return;
	const struct idxvec *iv = &sc->m->bvec[*v];
	for (size_t i = 0; i < iv->n && !sc->stop; i++) {
		const struct term *t = &sc->m->terms[iv->v[i]];
		if (t->key_len == len &&
		    mask_fits(p, sc->m->words.keys + t->key_off, len))
			report(sc, t, sc->tk->src[r->off],
			    sc->tk->src[r->off + len - 1]);
	}
}

/* Collects one automaton hit: an allowed word's range or a term's. */
static void
substr_hit_cb(void *arg, uint32_t pat, size_t end)
{
	struct scan *sc = arg;
	const struct term *t = &sc->m->sterms[pat];
	uint32_t start = (uint32_t)(end - t->key_len);

	if ((t->flags & TERM_ALLOW) && sc->nallow < SUBSTR_MAX_HITS) {
		sc->allow_s[sc->nallow] = start;
		sc->allow_e[sc->nallow++] = (uint32_t)end;
	}
	if ((t->flags & TERM_WORD) && sc->nhits < SUBSTR_MAX_HITS) {
		sc->hit_s[sc->nhits] = start;
		sc->hit_e[sc->nhits] = (uint32_t)end;
		sc->hit_pat[sc->nhits++] = pat;
	}
}

/* Runs one reading through the substring automaton. */
static void
scan_substrings(struct scan *sc, const struct reading *r)
{
	sc->nallow = sc->nhits = 0;
	acm_scan(sc->m->acm, sc->tk->bytes + r->off, r->len, substr_hit_cb, sc);
	for (size_t h = 0; h < sc->nhits && !sc->stop; h++) {
		int covered = 0;
		for (size_t a = 0; a < sc->nallow && !covered; a++)
			covered = sc->allow_s[a] <= sc->hit_s[h] &&
			    sc->hit_e[h] <= sc->allow_e[a];
		if (!covered)
			report(sc, &sc->m->sterms[sc->hit_pat[h]],
			    sc->tk->src[r->off + sc->hit_s[h]],
			    sc->tk->src[r->off + sc->hit_e[h] - 1]);
	}
}

/* Scans one word: allowlist first, then words and phrases, masks, substrings. */
static void
scan_token(struct scan *sc, size_t ti)
{
	const struct tokens *tk = sc->tk;
	const struct token *t = &tk->t[ti];
	const uint32_t *found[TOKEN_MAX_READINGS];
	char key[PHRASE_KEY_MAX];
	int budget = SCAN_MAX_LOOKUPS;

	if (t->flags & TOKEN_LONG) {
		if (sc->m->acm != NULL)
			scan_substrings(sc, &tk->r[t->first]);
		return;
	}
	for (uint16_t i = 0; i < t->nreadings; i++) {
		const struct reading *r = &tk->r[t->first + i];
		found[i] = NULL;
		if (r->flags & READING_MASKED)
			continue;
		found[i] = strmap_get(&sc->m->words, tk->bytes + r->off,
		    r->len);
		if (found[i] != NULL &&
		    (sc->m->terms[*found[i]].flags & TERM_ALLOW))
			return;
	}
	for (uint16_t i = 0; i < t->nreadings && !sc->stop; i++) {
		const struct reading *r = &tk->r[t->first + i];
		uint32_t first = tk->src[r->off];

		if (r->flags & READING_MASKED) {
			scan_masked(sc, r);
			continue;
		}
		/* a word shorter than every substring term cannot hold one */
		if (sc->m->acm != NULL && r->len >= sc->m->sub_min_len)
			scan_substrings(sc, r);
		if (found[i] == NULL)
			continue;
		const struct term *term = &sc->m->terms[*found[i]];
		if (term->flags & TERM_WORD)
			report(sc, term, first, tk->src[r->off + r->len - 1]);
		if ((term->flags & TERM_PREFIX) && ti + 1 < tk->nwords) {
			memcpy(key, tk->bytes + r->off, r->len);
			follow(sc, ti + 1, key, r->len, first, 1, &budget);
		}
	}
}

void
matcher_scan(const struct matcher *m, const struct tokens *tk,
    matcher_hit_cb cb, void *arg)
{
	struct scan sc = { .m = m, .tk = tk, .cb = cb, .arg = arg };

	for (size_t i = 0; i < tk->n && !sc.stop; i++)
		scan_token(&sc, i);
}
