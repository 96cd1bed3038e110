/*
 * wordlist: loading word lists into the matcher's tables, and scanning a
 * comment's words against them.  See wordlist.h for the tables.
 *
 * Terms go through the very normalisation and tokenisation comments go
 * through, so "Fück" in a list and "FUCK" in a comment meet as "fuck".
 * A list holds plain words: a term written with symbols ("f*ck") is an
 * error, because disguises are the engine's job, not the list's.
 */
#include "wordlist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acm.h"
#include "file_read.h"
#include "strmap.h"
#include "wordlist_int.h"
#include "xalloc.h"

#define WORDLIST_MAX_FILE	(64u << 20)

struct matcher *
matcher_new(const struct normalize_opts *o)
{
	struct matcher *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->norm = *o;
	strmap_init(&m->words);
	strmap_init(&m->subs);
	strmap_init(&m->buckets);
	ntext_init(&m->nt);
	tokens_init(&m->tk);
	return m;
}

void
matcher_free(struct matcher *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nterms; i++)
		free(m->terms[i].rules);
	for (size_t i = 0; i < m->nsterms; i++)
		free(m->sterms[i].rules);
	for (size_t i = 0; i < m->nbvec; i++)
		free(m->bvec[i].v);
	free(m->terms);
	free(m->sterms);
	free(m->bvec);
	strmap_free(&m->words);
	strmap_free(&m->subs);
	strmap_free(&m->buckets);
	acm_free(m->acm);
	ntext_free(&m->nt);
	tokens_free(&m->tk);
	free(m);
}

/* The term for key in a table, created empty when new. */
static struct term *
term_get(struct strmap *map, struct term **terms, size_t *n, size_t *cap,
    const char *key, size_t len)
{
	uint32_t *v = strmap_put(map, key, len, UINT32_MAX);

	if (*v == UINT32_MAX) {
		struct term *t;
		*terms = xgrow(*terms, cap, *n + 1, sizeof **terms);
		t = &(*terms)[*n];
		memset(t, 0, sizeof *t);
		/* the key was just copied to the end of the arena */
		t->key_off = (uint32_t)(map->keys_len - len);
		t->key_len = (uint32_t)len;
		*v = (uint32_t)(*n)++;
	}
	return &(*terms)[*v];
}

static void
term_add_rule(struct term *t, uint16_t rule)
{
	uint16_t *r;

	for (uint16_t i = 0; i < t->nrules; i++)
		if (t->rules[i] == rule)
			return;
	if ((r = realloc(t->rules, (t->nrules + 1u) * sizeof *r)) == NULL)
		abort();
	t->rules = r;
	t->rules[t->nrules++] = rule;
}

/* Files a single-word term under (length, first letter) and (length, last letter). */
static void
bucket_add(struct matcher *m, const char *w, size_t len, uint32_t term)
{
	char key[3];

	for (int side = 0; side < 2; side++) {
		key[0] = (char)len;
		key[1] = side ? 'L' : 'F';
		key[2] = side ? w[len - 1] : w[0];
		uint32_t *v = strmap_put(&m->buckets, key, 3, UINT32_MAX);
		if (*v == UINT32_MAX) {
			m->bvec = xgrow(m->bvec, &m->bvec_cap, m->nbvec + 1,
			    sizeof *m->bvec);
			memset(&m->bvec[m->nbvec], 0, sizeof *m->bvec);
			*v = (uint32_t)m->nbvec++;
		}
		struct idxvec *iv = &m->bvec[*v];
		if (iv->n > 0 && iv->v[iv->n - 1] == term)
			continue;
		iv->v = xgrow(iv->v, &iv->cap, iv->n + 1, sizeof *iv->v);
		iv->v[iv->n++] = term;
	}
}

/* Rebuilds the substring automaton: pattern i is sterms[i]. */
static void
rebuild_acm(struct matcher *m)
{
	const char **pats = calloc(m->nsterms + 1, sizeof *pats);
	uint32_t *lens = calloc(m->nsterms + 1, sizeof *lens);

	if (pats == NULL || lens == NULL)
		abort();
	for (size_t i = 0; i < m->nsterms; i++) {
		pats[i] = m->subs.keys + m->sterms[i].key_off;
		lens[i] = m->sterms[i].key_len;
	}
	acm_free(m->acm);
	m->acm = acm_build(pats, lens, m->nsterms);
	free(pats);
	free(lens);
}

/*
 * Normalises one line of a list into the key its words make ("kill you"),
 * or reports why it cannot be a term.  Returns the number of words, 0 if
 * the line holds nothing, -1 on error.
 */
static int
line_key(struct matcher *m, const char *line, size_t len, char *key,
    size_t *keylen, const char *shown, unsigned lineno, unsigned col,
    struct errlist *errs)
{
	size_t bad, k = 0;
	int words = 0;

	if (normalize_text(&m->norm, line, len, &m->nt, &bad) == -1) {
		errlist_add(errs, shown, lineno, col + (unsigned)bad,
		    "invalid UTF-8");
		return -1;
	}
	for (size_t i = 0; i < m->nt.n; i++) {
		if (m->nt.c[i].cls == NC_SYMBOL) {
			errlist_add(errs, shown, lineno,
			    col + m->nt.c[i].start,
			    "\"%.*s\": a term is plain words; write the word "
			    "itself, disguises are undone by normalisation",
			    (int)len, line);
			return -1;
		}
	}
	tokenize(&m->norm, &m->nt, &m->tk);
	for (size_t i = 0; i < m->tk.nwords; i++) {
		const struct token *t = &m->tk.t[i];
		const struct reading *r = &m->tk.r[t->first];

		if (!(r->flags & READING_LITERAL) || (t->flags & TOKEN_LONG) ||
		    r->len > TOKEN_MAX_BYTES) {
			errlist_add(errs, shown, lineno, col,
			    "\"%.*s\": a word is longer than %d bytes",
			    (int)len, line, TOKEN_MAX_BYTES);
			return -1;
		}
		if (words == WORDLIST_MAX_PHRASE_WORDS) {
			errlist_add(errs, shown, lineno, col,
			    "\"%.*s\": a phrase has at most %d words",
			    (int)len, line, WORDLIST_MAX_PHRASE_WORDS);
			return -1;
		}
		if (k > 0)
			key[k++] = ' ';
		memcpy(key + k, m->tk.bytes + r->off, r->len);
		k += r->len;
		words++;
	}
	*keylen = k;
	return words;
}

/* Adds one term (or allowed word) of `words` words under `key`. */
static int
add_term(struct matcher *m, int allow, uint16_t rule, enum match_mode mode,
    const char *key, size_t len, int words, const char *shown,
    unsigned lineno, unsigned col, struct errlist *errs)
{
	struct term *t, *s;

	if (allow || mode == MATCH_SUBSTRING) {
		if (words != 1) {
			errlist_add(errs, shown, lineno, col, "\"%.*s\": %s",
			    (int)len, key, allow ?
			    "an allowlist holds single words" :
			    "a substring term is a single word");
			return -1;
		}
		s = term_get(&m->subs, &m->sterms, &m->nsterms,
		    &m->sterms_cap, key, len);
		if (allow)
			s->flags |= TERM_ALLOW;
		else {
			if (!(s->flags & TERM_WORD))
				m->nsubstring++;
			if (m->sub_min_len == 0 || len < m->sub_min_len)
				m->sub_min_len = len;
			s->flags |= TERM_WORD;
			term_add_rule(s, rule);
		}
		if ((s->flags & (TERM_ALLOW | TERM_WORD)) ==
		    (TERM_ALLOW | TERM_WORD)) {
			errlist_add(errs, shown, lineno, col,
			    "\"%.*s\" is both a listed term and allowlisted",
			    (int)len, key);
			return -1;
		}
	}
	if (mode == MATCH_WORD && !allow && words != 1) {
		errlist_add(errs, shown, lineno, col, "\"%.*s\" has %d words; "
		    "a list with `match: word` holds single words (use "
		    "`match: phrase`)", (int)len, key, words);
		return -1;
	}
	if (mode == MATCH_SUBSTRING && !allow)
		return 0;

	/* Mark every leading run of words as a prefix of this phrase. */
	for (size_t i = 0; i < len; i++) {
		if (key[i] != ' ')
			continue;
		t = term_get(&m->words, &m->terms, &m->nterms, &m->terms_cap,
		    key, i);
		t->flags |= TERM_PREFIX;
	}
	t = term_get(&m->words, &m->terms, &m->nterms, &m->terms_cap, key,
	    len);
	t->words = (uint32_t)words;
	if (allow)
		t->flags |= TERM_ALLOW;
	else {
		if (words == 1 && !(t->flags & TERM_WORD))
			bucket_add(m, key, len, (uint32_t)(t - m->terms));
		t->flags |= TERM_WORD;
		term_add_rule(t, rule);
	}
	if ((t->flags & (TERM_ALLOW | TERM_WORD)) == (TERM_ALLOW | TERM_WORD)) {
		errlist_add(errs, shown, lineno, col,
		    "\"%.*s\" is both a listed term and allowlisted", (int)len,
		    key);
		return -1;
	}
	return 0;
}

/* Reads every line of a list's text; returns the number of terms added. */
static long
add_text(struct matcher *m, int allow, uint16_t rule, enum match_mode mode,
    const char *text, size_t len, const char *shown, struct errlist *errs)
{
	char key[PHRASE_KEY_MAX];
	size_t pos = 0;
	unsigned lineno = 0;
	long added = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos, b = 0, e;
		size_t keylen;
		int words;

		pos += ll + (nl != NULL);
		lineno++;
		for (e = 0; e < ll && line[e] != '#'; e++)
			;
		while (b < e && (line[b] == ' ' || line[b] == '\t'))
			b++;
		while (e > b && (line[e - 1] == ' ' || line[e - 1] == '\t' ||
		    line[e - 1] == '\r'))
			e--;
		if (e == b)
			continue;
		if (e - b > PHRASE_KEY_MAX / 2) {
			errlist_add(errs, shown, lineno, (unsigned)b + 1,
			    "a term is longer than %d bytes", PHRASE_KEY_MAX / 2);
			continue;
		}
		words = line_key(m, line + b, e - b, key, &keylen, shown,
		    lineno, (unsigned)b + 1, errs);
		if (words <= 0)
			continue;
		if (add_term(m, allow, rule, mode, key, keylen, words, shown,
		    lineno, (unsigned)b + 1, errs) == 0)
			added++;
	}
	if (m->nsubstring > 0)
		rebuild_acm(m);
	return added;
}

/* Reads a list file and adds its lines; -1 when it cannot be read. */
static long
add_file(struct matcher *m, int allow, uint16_t rule, enum match_mode mode,
    const char *path, const char *shown, struct errlist *errs)
{
	size_t len;
	char *text;
	long n;

	if (file_read(path, WORDLIST_MAX_FILE, &text, &len, NULL) == -1) {
		errlist_add(errs, shown, 0, 0, "cannot read word list: %s",
		    strerror(errno));
		return -1;
	}
	n = add_text(m, allow, rule, mode, text, len, shown, errs);
	free(text);
	return n;
}

long
matcher_add_file(struct matcher *m, uint16_t rule, enum match_mode mode,
    const char *path, const char *shown, struct errlist *errs)
{
	return add_file(m, 0, rule, mode, path, shown, errs);
}

long
matcher_add_text(struct matcher *m, uint16_t rule, enum match_mode mode,
    const char *text, size_t len, const char *shown, struct errlist *errs)
{
	return add_text(m, 0, rule, mode, text, len, shown, errs);
}

long
matcher_add_allow_file(struct matcher *m, const char *path, const char *shown,
    struct errlist *errs)
{
	return add_file(m, 1, 0, MATCH_WORD, path, shown, errs);
}

long
matcher_add_allow_text(struct matcher *m, const char *text, size_t len,
    const char *shown, struct errlist *errs)
{
	return add_text(m, 1, 0, MATCH_WORD, text, len, shown, errs);
}

int
matcher_is_allowed(const struct matcher *m, const char *word, size_t len)
{
	const uint32_t *v = strmap_get(&m->words, word, len);

	return v != NULL && (m->terms[*v].flags & TERM_ALLOW);
}
