/*
 * normalize: original UTF-8 in, normalised characters with their original
 * byte ranges out.  See normalize.h for what is undone and why.
 *
 * Most comments are ASCII, so ASCII takes a path that never calls utf8proc;
 * everything else is decomposed one code point at a time, which keeps the
 * map to the original exact (a normalised character always comes from
 * exactly one original code point).  Never fails on any input but invalid
 * UTF-8, which it reports.
 */
#include "normalize.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "confusables.h"

#define DECOMPOSE_MAX	32	/* utf8proc's longest decomposition is 18 */

void
normalize_opts_default(struct normalize_opts *o)
{
	o->leet = true;
	o->confusables = true;
	o->strip_invisible = true;
	o->strip_marks = true;
	o->collapse_repeats = true;
	o->join_separated = true;
}

void
ntext_init(struct ntext *t)
{
	t->c = NULL;
	t->n = t->cap = 0;
}

void
ntext_free(struct ntext *t)
{
	if (t == NULL)
		return;
	free(t->c);
	ntext_init(t);
}

/* Grows the array so that `more` characters fit; aborts on exhaustion. */
static void
ntext_reserve(struct ntext *t, size_t more)
{
	size_t cap;
	struct nchar *c;

	if (t->n + more <= t->cap)
		return;
	cap = t->cap ? t->cap : 64;
	while (cap < t->n + more)
		cap *= 2;
	if ((c = realloc(t->c, cap * sizeof *c)) == NULL)
		abort();
	t->c = c;
	t->cap = cap;
}

enum script
script_of(uint32_t cp)
{
	if (cp < 0x80)
		return ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') ?
		    SCRIPT_LATIN : SCRIPT_NONE;
	if ((cp >= 0xC0 && cp <= 0x2AF && cp != 0xD7 && cp != 0xF7) ||
	    cp == 0xAA || cp == 0xBA ||
	    (cp >= 0x1D00 && cp <= 0x1DBF) || (cp >= 0x1E00 && cp <= 0x1EFF) ||
	    (cp >= 0x2C60 && cp <= 0x2C7F) || (cp >= 0xA720 && cp <= 0xA7FF) ||
	    (cp >= 0xAB30 && cp <= 0xAB6F) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
	    (cp >= 0xFF41 && cp <= 0xFF5A))
		return SCRIPT_LATIN;
	if ((cp >= 0x370 && cp <= 0x3FF) || (cp >= 0x1F00 && cp <= 0x1FFF))
		return SCRIPT_GREEK;
	if ((cp >= 0x400 && cp <= 0x52F) || (cp >= 0x1C80 && cp <= 0x1C8F) ||
	    (cp >= 0x2DE0 && cp <= 0x2DFF) || (cp >= 0xA640 && cp <= 0xA69F))
		return SCRIPT_CYRILLIC;
	return SCRIPT_OTHER;
}

/*
 * The class of each ASCII character, looked up once a byte: letters,
 * digits, apostrophes, and the symbols that stand for a letter (leetspeak:
 * @ $ ! | + ( ) or mask one (* # % _); everything else separates words.
 */
#define S NC_SEP
#define L NC_LETTER
#define D NC_DIGIT
#define Y NC_SYMBOL
#define A NC_APOS
static const uint8_t ascii_classes[128] = {
	S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,	/* controls */
	S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,
	S, Y, S, Y, Y, Y, S, A, Y, S, Y, Y, S, S, S, S,	/*  !"#$%&'()*+,-./ */
	D, D, D, D, D, D, D, D, D, D, S, S, S, S, S, S,	/* 0-9 :;<=>? */
	Y, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,	/* @ A-O */
	L, L, L, L, L, L, L, L, L, L, L, S, S, S, S, Y,	/* P-Z [\]^_ */
	A, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,	/* ` a-o */
	L, L, L, L, L, L, L, L, L, L, L, S, Y, S, S, S,	/* p-z {|}~ DEL */
};
#undef S
#undef L
#undef D
#undef Y
#undef A

/* Classifies an ASCII character; letters come back lower-cased in *cp. */
static inline uint8_t
ascii_class(uint32_t *cp)
{
	uint8_t cls = ascii_classes[*cp];

	if (cls == NC_LETTER)
		*cp |= 0x20;
	return cls;
}

/*
 * Characters that render as nothing and only serve to split a word for a
 * filter: format characters (zero-width space and joiners, bidi controls,
 * soft hyphen, word joiner, tags), variation selectors, the combining
 * grapheme joiner and the Hangul fillers.
 */
static int
is_invisible(uint32_t cp, utf8proc_category_t cat)
{
	if (cat == UTF8PROC_CATEGORY_CF)
		return 1;
	return (cp >= 0xFE00 && cp <= 0xFE0F) ||
	    (cp >= 0xE0100 && cp <= 0xE01EF) || cp == 0x034F ||
	    (cp >= 0x180B && cp <= 0x180F) || cp == 0x115F || cp == 0x1160 ||
	    cp == 0x3164 || cp == 0xFFA0 || cp == 0x2800;
}

/* Classifies a non-ASCII, already folded code point. */
static uint8_t
unicode_class(uint32_t cp)
{
	switch (cp) {
	case 0x2018: case 0x2019: case 0x02BC: case 0x02B9: case 0x2032:
		return NC_APOS;
	case 0x20AC: case 0xA3: case 0xA1: case 0xA2: case 0xA7: case 0xA5:
		return NC_SYMBOL;
	}
	switch (utf8proc_category((utf8proc_int32_t)cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return NC_LETTER;
	case UTF8PROC_CATEGORY_ND:
		return NC_DIGIT;
	default:
		return NC_SEP;
	}
}

static int
is_mark(uint32_t cp)
{
	utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);

	return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
	    cat == UTF8PROC_CATEGORY_ME;
}

/* True if the last character kept is a Latin or Greek letter a mark may sit on. */
static int
follows_latin_or_greek(const struct ntext *t, uint32_t start)
{
	const struct nchar *p;

	if (t->n == 0)
		return 0;
	p = &t->c[t->n - 1];
	return p->cls == NC_LETTER && (p->script == SCRIPT_LATIN ||
	    p->script == SCRIPT_GREEK) && p->end == start;
}

static void
push(struct ntext *t, uint32_t cp, uint32_t start, uint32_t end, uint8_t cls,
    uint8_t upper, uint8_t alt)
{
	struct nchar *c;

	ntext_reserve(t, 1);
	c = &t->c[t->n++];
	c->cp = cp;
	c->start = start;
	c->end = end;
	c->cls = cls;
	c->script = cls == NC_LETTER ? (uint8_t)script_of(cp) : SCRIPT_NONE;
	c->upper = upper;
	c->alt = alt;
}

/* Normalises one non-ASCII code point spanning original bytes [start, end). */
static void
normalize_unicode(const struct normalize_opts *o, struct ntext *t,
    uint32_t cp, uint32_t start, uint32_t end)
{
	utf8proc_int32_t buf[DECOMPOSE_MAX];
	utf8proc_ssize_t n;
	utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
	uint8_t upper = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
	uint32_t alt = 0;
	int bound = 0, strip;

	if (o->strip_invisible && is_invisible(cp, cat))
		return;
	if (o->confusables && (script_of(cp) == SCRIPT_GREEK ||
	    script_of(cp) == SCRIPT_CYRILLIC))
		alt = confusable_latin(cp);

	/* A combining mark typed on its own after a Latin letter: drop it. */
	if (is_mark(cp)) {
		if (o->strip_marks && follows_latin_or_greek(t, start))
			return;
		push(t, cp, start, end, NC_LETTER, 0, 0);
		return;
	}

	n = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, DECOMPOSE_MAX,
	    UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD, &bound);
	if (n <= 0 || n > DECOMPOSE_MAX) {
		buf[0] = (utf8proc_int32_t)cp;
		n = 1;
	}

	/*
	 * Latin and Greek lose their accents ("ü" -> "u"); other scripts keep
	 * their marks, recomposed, because there the mark is part of the
	 * letter (Hindi vowel signs, Japanese dakuten, Cyrillic "й").
	 */
	strip = o->strip_marks && (script_of((uint32_t)buf[0]) == SCRIPT_LATIN ||
	    script_of((uint32_t)buf[0]) == SCRIPT_GREEK);
	if (strip) {
		utf8proc_ssize_t k = 0;
		for (utf8proc_ssize_t i = 0; i < n; i++)
			if (i == 0 || !is_mark((uint32_t)buf[i]))
				buf[k++] = buf[i];
		n = k;
	} else if (n > 1)
		n = utf8proc_normalize_utf32(buf, n, UTF8PROC_COMPOSE);

	for (utf8proc_ssize_t i = 0; i < n; i++) {
		uint32_t d = (uint32_t)buf[i], dalt = 0;
		uint8_t cls;
		enum script sc = script_of(d);

		/*
		 * Latin lookalikes (ƒ, ł, ø, small capitals, enclosed letters)
		 * become plain letters at once.  Greek and Cyrillic ones only
		 * remember what they look like, judged on the original letter
		 * since case matters ("Η" is an H, "η" an n); whether they
		 * change is decided per word, below.
		 */
		if (o->confusables && d >= 0x80) {
			if (sc == SCRIPT_GREEK || sc == SCRIPT_CYRILLIC)
				dalt = alt ? alt : confusable_latin(d);
			else if ((dalt = confusable_latin(d)) != 0) {
				d = dalt;
				dalt = 0;
			}
		}
		cls = d < 0x80 ? ascii_class(&d) : unicode_class(d);
		push(t, d, start, end, cls, upper, (uint8_t)dalt);
	}
}

/*
 * Cyrillic and Greek lookalikes become Latin in a word that mixes them with
 * Latin letters ("fuсk" with a Cyrillic "с"), or in a word made only of
 * lookalikes when the comment has at least as many Latin letters as Cyrillic
 * and Greek ones ("аѕѕ" in an English sentence).  A Russian or Greek
 * comment keeps its words.
 */
static void
map_lookalike_words(struct ntext *t)
{
	size_t latin = 0, cg = 0, i = 0;

	for (size_t k = 0; k < t->n; k++) {
		if (t->c[k].script == SCRIPT_LATIN)
			latin++;
		else if (t->c[k].script == SCRIPT_GREEK ||
		    t->c[k].script == SCRIPT_CYRILLIC)
			cg++;
	}
	if (cg == 0)
		return;

	while (i < t->n) {
		size_t w = i, nl = 0, ncg = 0, nalt = 0, nother = 0;

		if (t->c[i].cls == NC_SEP) {
			i++;
			continue;
		}
		while (i < t->n && t->c[i].cls != NC_SEP) {
			const struct nchar *c = &t->c[i++];
			if (c->cls != NC_LETTER)
				continue;
			if (c->script == SCRIPT_LATIN)
				nl++;
			else if (c->script == SCRIPT_GREEK ||
			    c->script == SCRIPT_CYRILLIC) {
				ncg++;
				nalt += c->alt != 0;
			} else
				nother++;
		}
		if (ncg == 0 || nother > 0)
			continue;
		if (nl == 0 && (nalt < ncg || latin < cg))
			continue;
		for (size_t k = w; k < i; k++) {
			struct nchar *c = &t->c[k];
			if (c->alt != 0 && (c->script == SCRIPT_GREEK ||
			    c->script == SCRIPT_CYRILLIC)) {
				c->cp = c->alt;
				c->script = SCRIPT_LATIN;
			}
		}
	}
}

int
normalize_text(const struct normalize_opts *o, const char *s, size_t len,
    struct ntext *t, size_t *bad_at)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	int saw_unicode = 0;

	t->n = 0;
	if (len > UINT32_MAX) {
		*bad_at = 0;
		return -1;
	}
	ntext_reserve(t, len + 1);
	while (i < len) {
		if (p[i] < 0x80) {
			uint32_t cp = p[i];
			uint8_t cls = ascii_class(&cp);
			uint8_t upper = p[i] >= 'A' && p[i] <= 'Z';

			ntext_reserve(t, 1);
			struct nchar *c = &t->c[t->n++];
			c->cp = cp;
			c->start = (uint32_t)i;
			c->end = (uint32_t)i + 1;
			c->cls = cls;
			c->script = cls == NC_LETTER ? SCRIPT_LATIN : SCRIPT_NONE;
			c->upper = upper;
			c->alt = 0;
			i++;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i,
		    (utf8proc_ssize_t)(len - i), &cp);
		if (n < 0) {
			*bad_at = i;
			return -1;
		}
		normalize_unicode(o, t, (uint32_t)cp, (uint32_t)i,
		    (uint32_t)(i + (size_t)n));
		saw_unicode = 1;
		i += (size_t)n;
	}
	if (saw_unicode && o->confusables)
		map_lookalike_words(t);
	return 0;
}

char *
ntext_to_utf8(const struct ntext *t)
{
	char *out = malloc(t->n * 4 + 1), *q = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		q += utf8proc_encode_char((utf8proc_int32_t)t->c[i].cp,
		    (utf8proc_uint8_t *)q);
	*q = '\0';
	return out;
}
