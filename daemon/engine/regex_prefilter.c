/*
 * regex_prefilter: vectorscan databases in prefilter mode in front of the
 * PCRE2 regex rules (regex_prefilter.h says what it promises).
 *
 * The flags only ever widen what a pattern matches, never narrow it:
 * prefilter mode is a superset by vectorscan's contract, and DOTALL and
 * MULTILINE only let `.`, `^` and `$` match in more places.  Caseless rules
 * are caseless here too, with UTF-8 and Unicode properties as in PCRE2.
 * A pattern that fails to compile is taken out of the set and marked to
 * run always; the rest are compiled again.
 *
 * Compiling is slow (vectorscan's compiler, tens of milliseconds a pattern
 * under Unicode properties), so the last PREFILTER_CACHED sets compiled are
 * kept, keyed by a SHA-256 of what was compiled: a reload that leaves the
 * regex rules as they were (most reloads) compiles nothing.  Loads happen on
 * one thread at a time (the daemon's loop; the cache has no lock).
 */
#include "regex_prefilter.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#include <openssl/evp.h>

#include "policy.h"

#define PREFILTER_FLAGS	(HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | \
	HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_DOTALL | HS_FLAG_MULTILINE)

/* One text's database and the rule each of its pattern ids stands for. */
struct prefilter_db {
	hs_database_t	*db;
	uint32_t	*rule;		/* pattern id -> rule index */
	size_t		 n;
};

struct prefilter {
	struct prefilter_db	 texts[PREFILTER_TEXTS];
	uint8_t			*always;	/* per rule: 1 runs always */
	size_t			 nrules, nalways;
	uint64_t		 serial;	/* which scratch fits it */
	unsigned		 refs;		/* policies and the cache */
	unsigned char		 key[32];	/* what it was compiled from */
};

#define PREFILTER_CACHED	8

/* The sets compiled last, newest first; each holds a reference. */
static struct prefilter *prefilter_cache[PREFILTER_CACHED];

struct prefilter_scratch {
	hs_scratch_t	*hs;
	uint64_t	 fits;		/* the serial it was sized for */
};

/* Tells scratch spaces apart from databases freed and built again. */
static _Atomic uint64_t prefilter_serial;

int
prefilter_text(const struct policy *p, size_t rule)
{
	const struct rule *r = &p->rules[rule];

	return (r->field == FIELD_AUTHOR_NAME ? 2 : 0) +
	    (r->on_normalized ? 1 : 0);
}

/*
 * Compiles the patterns of rules[0, n) into one database; a pattern that
 * vectorscan refuses is swapped out of the set (and marked always) until
 * the rest compile.  Leaves db NULL when none is left or the set as a
 * whole is refused (then all of them are marked always).
 */
static void
prefilter_compile(const struct policy *p, struct prefilter_db *d,
    uint8_t *always)
{
	const char **pats = calloc(d->n ? d->n : 1, sizeof *pats);
	unsigned *flags = calloc(d->n ? d->n : 1, sizeof *flags);
	unsigned *ids = calloc(d->n ? d->n : 1, sizeof *ids);
	hs_compile_error_t *err = NULL;
	size_t n = d->n;

	if (pats == NULL || flags == NULL || ids == NULL)
		goto refused;
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &p->rules[d->rule[i]];

		pats[i] = r->pattern;
		flags[i] = PREFILTER_FLAGS |
		    (r->case_sensitive ? 0 : HS_FLAG_CASELESS);
		ids[i] = (unsigned)i;
	}
	while (n > 0) {
		if (hs_compile_multi(pats, flags, ids, (unsigned)n,
		    HS_MODE_BLOCK, NULL, &d->db, &err) == HS_SUCCESS)
			break;
		d->db = NULL;
		if (err == NULL || err->expression < 0 ||
		    (size_t)err->expression >= n) {
			hs_free_compile_error(err);
			goto refused;
		}
		/* Out with the one refused: the last takes its place. */
		size_t bad = (size_t)err->expression;
		hs_free_compile_error(err);
		err = NULL;
		always[d->rule[ids[bad]]] = 1;
		n--;
		pats[bad] = pats[n];
		flags[bad] = flags[n];
		ids[bad] = ids[n];
	}
	free(pats);
	free(flags);
	free(ids);
	return;
refused:
	for (size_t i = 0; i < d->n; i++)
		always[d->rule[i]] = 1;
	free(pats);
	free(flags);
	free(ids);
}

/*
 * The key of what a policy's prefilter is compiled from: the number of
 * rules, then each regex rule's index, text, case and pattern; 0, or -1
 * without memory.
 */
static int
prefilter_key(const struct policy *p, unsigned char key[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t head[4];
	unsigned len = 0;
	int ok;

	if (md == NULL)
		return -1;
	head[0] = p->nrules;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, head, sizeof head[0]) == 1;
	for (size_t i = 0; ok && i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];

		if (r->kind != RULE_REGEX)
			continue;
		head[0] = i;
		head[1] = (uint64_t)prefilter_text(p, i);
		head[2] = r->case_sensitive;
		head[3] = strlen(r->pattern);
		ok = EVP_DigestUpdate(md, head, sizeof head) == 1 &&
		    EVP_DigestUpdate(md, r->pattern, head[3]) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, key, &len) == 1 && len == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/* A set compiled earlier from the same key, with one more reference. */
static struct prefilter *
prefilter_cached(const unsigned char key[32])
{
	for (size_t i = 0; i < PREFILTER_CACHED; i++) {
		struct prefilter *pf = prefilter_cache[i];

		if (pf == NULL || memcmp(pf->key, key, 32) != 0)
			continue;
		/* The newest first: move it to the front. */
		memmove(&prefilter_cache[1], &prefilter_cache[0],
		    i * sizeof prefilter_cache[0]);
		prefilter_cache[0] = pf;
		pf->refs++;
		return pf;
	}
	return NULL;
}

/* Keeps a new set at the front, dropping the oldest. */
static void
prefilter_keep(struct prefilter *pf)
{
	prefilter_free(prefilter_cache[PREFILTER_CACHED - 1]);
	memmove(&prefilter_cache[1], &prefilter_cache[0],
	    (PREFILTER_CACHED - 1) * sizeof prefilter_cache[0]);
	prefilter_cache[0] = pf;
	pf->refs++;
}

struct prefilter *
prefilter_build(const struct policy *p, size_t *unfiltered)
{
	struct prefilter *pf;
	unsigned char key[32];
	size_t nregex = 0;
	bool any = false, keyed;

	*unfiltered = 0;
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].kind == RULE_REGEX)
			nregex++;
	if (nregex == 0)
		return NULL;
	/*
	 * Debian's vectorscan 5.4.9 misses matches in its AVX-512 scan code
	 * (`a.*d` after 64 to 66 other characters, found by the valgrind run,
	 * where its AVX2 code finds them): a missed candidate would be a
	 * silent accept, so on such a CPU every regex rule runs, as without
	 * a prefilter.
	 */
	if (__builtin_cpu_supports("avx512bw")) {
		*unfiltered = nregex;
		return NULL;
	}
	keyed = prefilter_key(p, key) == 0;
	if (keyed && (pf = prefilter_cached(key)) != NULL) {
		*unfiltered = pf->nalways;
		return pf;
	}
	if ((pf = calloc(1, sizeof *pf)) == NULL) {
		*unfiltered = nregex;
		return NULL;
	}
	pf->refs = 1;
	memcpy(pf->key, key, sizeof key);
	pf->nrules = p->nrules;
	pf->serial = atomic_fetch_add(&prefilter_serial, 1) + 1;
	if ((pf->always = calloc(p->nrules, 1)) == NULL)
		goto fail;
	for (int t = 0; t < PREFILTER_TEXTS; t++) {
		struct prefilter_db *d = &pf->texts[t];

		if ((d->rule = calloc(nregex, sizeof *d->rule)) == NULL)
			goto fail;
		for (size_t i = 0; i < p->nrules; i++)
			if (p->rules[i].kind == RULE_REGEX &&
			    prefilter_text(p, i) == t)
				d->rule[d->n++] = (uint32_t)i;
		if (d->n > 0)
			prefilter_compile(p, d, pf->always);
		any |= d->db != NULL;
	}
	for (size_t i = 0; i < p->nrules; i++)
		pf->nalways += pf->always[i];
	/*
	 * vectorscan's compiler leaves its freed heap with the process: with
	 * 1,000 patterns the daemon stayed at 214 MB resident after loading,
	 * 25 MB once the heap was trimmed (14 MB without a prefilter).
	 */
	malloc_trim(0);
	if (any) {
		*unfiltered = pf->nalways;
		if (keyed)
			prefilter_keep(pf);
		return pf;
	}
fail:
	*unfiltered = nregex;
	prefilter_free(pf);
	return NULL;
}

/* Drops a reference; the last frees the databases. */
void
prefilter_free(struct prefilter *pf)
{
	if (pf == NULL || --pf->refs > 0)
		return;
	for (int t = 0; t < PREFILTER_TEXTS; t++) {
		hs_free_database(pf->texts[t].db);
		free(pf->texts[t].rule);
	}
	free(pf->always);
	free(pf);
}

int
prefilter_reads(const struct prefilter *pf, int t)
{
	return pf != NULL && pf->texts[t].db != NULL;
}

struct prefilter_scratch *
prefilter_scratch_new(void)
{
	return calloc(1, sizeof(struct prefilter_scratch));
}

void
prefilter_scratch_free(struct prefilter_scratch *s)
{
	if (s == NULL)
		return;
	hs_free_scratch(s->hs);
	free(s);
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

/* Grows the scratch to fit every database of pf; -1 without memory. */
static int
prefilter_fit(const struct prefilter *pf, struct prefilter_scratch *s)
{
	if (s->fits == pf->serial && s->hs != NULL)
		return 0;
	for (int t = 0; t < PREFILTER_TEXTS; t++)
		if (pf->texts[t].db != NULL &&
		    hs_alloc_scratch(pf->texts[t].db, &s->hs) != HS_SUCCESS)
			return -1;
	s->fits = pf->serial;
	return 0;
}

struct prefilter_hit {
	const struct prefilter_db *d;
	uint8_t		*maybe;
};

/* A pattern may match: its rule is to run (each id comes once). */
static int
prefilter_hit_cb(unsigned id, unsigned long long from, unsigned long long to,
    unsigned flags, void *arg)
{
	struct prefilter_hit *h = arg;

	(void)from;
	(void)to;
	(void)flags;
	if (id < h->d->n)
		h->maybe[h->d->rule[id]] = 1;
	return 0;
}

void
prefilter_scan(const struct prefilter *pf, struct prefilter_scratch *s,
    int t, const char *text, size_t len, uint8_t *maybe)
{
	const struct prefilter_db *d;
	struct prefilter_hit h;

	if (pf == NULL || (d = &pf->texts[t])->db == NULL)
		return;
	h.d = d;
	h.maybe = maybe;
	if (len <= UINT32_MAX && prefilter_fit(pf, s) == 0 &&
	    hs_scan(d->db, text, (unsigned)len, 0, s->hs, prefilter_hit_cb,
	    &h) == HS_SUCCESS)
		return;
	for (size_t i = 0; i < d->n; i++)
		maybe[d->rule[i]] = 1;
}
