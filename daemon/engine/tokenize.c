/*
 * tokenize: words and their readings.  See tokenize.h.
 *
 * A reading is built from a list of normalised characters, choosing for
 * each digit or symbol what it stands for.  The number of readings of a word
 * is bounded (TOKEN_MAX_READINGS), so a comment full of "1|1|1|" costs no
 * more than any other: ambiguous characters past the bound keep their first
 * meaning.
 */
#include "tokenize.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#define LEET_MAX_COMBOS		8
#define JOIN_MIN_LETTERS	3
#define JOIN_MAX_GAP		3	/* separators between spelled-out letters */

enum build_mode {
	BUILD_LITERAL,		/* digits stay digits */
	BUILD_LEET,		/* digits and symbols read as letters */
	BUILD_MASKED,		/* as LEET, but mask symbols become '?' */
};

void
tokens_init(struct tokens *tk)
{
	memset(tk, 0, sizeof *tk);
}

void
tokens_free(struct tokens *tk)
{
	if (tk == NULL)
		return;
	free(tk->t);
	free(tk->r);
	free(tk->bytes);
	free(tk->src);
	free(tk->pos);
	tokens_init(tk);
}

static void
reserve_bytes(struct tokens *tk, size_t more)
{
	size_t cap = tk->bcap;

	tk->bytes = xgrow(tk->bytes, &cap, tk->nbytes + more, 1);
	cap = tk->bcap;
	tk->src = xgrow(tk->src, &cap, tk->nbytes + more, sizeof *tk->src);
	tk->bcap = cap;
}

/*
 * What a digit or symbol can stand for: up to two letters in opt[], their
 * number returned; 0 when it is not leetspeak, -1 for a mask symbol.
 */
static int
leet_options(uint32_t cp, char opt[2])
{
	switch (cp) {
	case '0': opt[0] = 'o'; return 1;
	case '1': opt[0] = 'i'; opt[1] = 'l'; return 2;
	case '2': opt[0] = 'z'; return 1;
	case '3': opt[0] = 'e'; return 1;
	case '4': opt[0] = 'a'; return 1;
	case '5': opt[0] = 's'; return 1;
	case '6': opt[0] = 'g'; opt[1] = 'b'; return 2;
	case '7': opt[0] = 't'; return 1;
	case '8': opt[0] = 'b'; return 1;
	case '9': opt[0] = 'g'; return 1;
	case '@': opt[0] = 'a'; return 1;
	case '$': opt[0] = 's'; return 1;
	case '!': opt[0] = 'i'; return 1;
	case '|': opt[0] = 'l'; opt[1] = 'i'; return 2;
	case '+': opt[0] = 't'; return 1;
	case '(': opt[0] = 'c'; return 1;
	case 0x20AC: opt[0] = 'e'; return 1;	/* € */
	case 0xA3: opt[0] = 'l'; return 1;	/* £ */
	case 0xA1: opt[0] = 'i'; return 1;	/* ¡ */
	case 0xA2: opt[0] = 'c'; return 1;	/* ¢ */
	case 0xA7: opt[0] = 's'; return 1;	/* § */
	case 0xA5: opt[0] = 'y'; return 1;	/* ¥ */
	case '*': case '#': case '%': case '_':
		return -1;
	}
	return 0;
}

/* A symbol that may stand for a letter at the edge of a word ("$hit", "a$$", "@ss"). */
static int
edge_letter(uint32_t cp, int leading)
{
	switch (cp) {
	case '$': case '@': case '|': case 0x20AC: case 0xA3: case 0xA2:
	case 0xA7: case 0xA5:
		return 1;
	case '!': case '(': case 0xA1:
		return leading;
	}
	return 0;
}

/* Writes code point cp as UTF-8 at the end of the reading bytes. */
static void
put_cp(struct tokens *tk, uint32_t cp)
{
	if (cp < 0x80)
		tk->bytes[tk->nbytes++] = (char)cp;
	else
		tk->nbytes += (size_t)utf8proc_encode_char((utf8proc_int32_t)cp,
		    (utf8proc_uint8_t *)tk->bytes + tk->nbytes);
}

/* Appends a reading for bytes [start, nbytes) of the arena. */
static void
add_reading(struct tokens *tk, size_t start, uint16_t flags)
{
	struct reading *r;

	tk->r = xgrow(tk->r, &tk->rcap, tk->nr + 1, sizeof *tk->r);
	r = &tk->r[tk->nr++];
	r->off = (uint32_t)start;
	r->len = (uint16_t)(tk->nbytes - start);
	r->flags = flags;
}

/*
 * Appends one reading of the characters pos[0, m) and returns 0, or -1 when
 * a character has no reading in this mode.  `combo` chooses, bit by bit,
 * between the two meanings of each ambiguous character.
 */
static int
build(struct tokens *tk, const struct ntext *t, const uint32_t *pos,
    size_t m, enum build_mode mode, unsigned combo)
{
	size_t start = tk->nbytes;
	unsigned ambiguous = 0;

	reserve_bytes(tk, m * 4);
	for (size_t i = 0; i < m; i++) {
		const struct nchar *c = &t->c[pos[i]];
		size_t b0 = tk->nbytes;
		char opt[2];
		int n;

		if (c->cls == NC_LETTER ||
		    (c->cls == NC_DIGIT && (mode == BUILD_LITERAL || c->cp >= 0x80)))
			put_cp(tk, c->cp);
		else if (mode != BUILD_LITERAL &&
		    (n = leet_options(c->cp, opt)) != 0) {
			if (n < 0 && mode != BUILD_MASKED)
				goto fail;
			if (n < 0)
				tk->bytes[tk->nbytes++] = '?';
			else {
				/* past the combinations tried, the first meaning */
				int k = n == 2 && ambiguous < 16 ?
				    (int)(combo >> ambiguous) & 1 : 0;
				ambiguous += n == 2;
				tk->bytes[tk->nbytes++] = opt[k];
			}
		} else
			goto fail;
		for (size_t b = b0; b < tk->nbytes; b++)
			tk->src[b] = pos[i];
	}
	add_reading(tk, start, mode == BUILD_LITERAL ? READING_LITERAL :
	    mode == BUILD_MASKED ? READING_MASKED : 0);
	return 0;
fail:
	tk->nbytes = start;
	return -1;
}

/* True if the reading is already among the token's readings. */
static int
seen(const struct tokens *tk, size_t first)
{
	const struct reading *last = &tk->r[tk->nr - 1];

	for (size_t i = first; i + 1 < tk->nr; i++)
		if (tk->r[i].len == last->len && tk->r[i].flags == last->flags &&
		    memcmp(tk->bytes + tk->r[i].off, tk->bytes + last->off,
		    last->len) == 0)
			return 1;
	return 0;
}

/* Drops the last reading if it repeats one already listed. */
static void
dedup_last(struct tokens *tk, size_t first)
{
	if (tk->nr > first && seen(tk, first)) {
		tk->nbytes = tk->r[tk->nr - 1].off;
		tk->nr--;
	}
}

/*
 * Adds the stretched-letter readings of reading `ri`: every run of three or
 * more of one letter shortened to one, and to two ("fuuuck" -> "fuck",
 * "asssss" -> "ass").
 */
static void
add_collapsed(struct tokens *tk, size_t ri, size_t first)
{
	const char *b = tk->bytes + tk->r[ri].off;
	size_t len = tk->r[ri].len, k;

	/* Most words have no stretched letters: find one before copying. */
	for (k = 2; k < len; k++)
		if (b[k] == b[k - 1] && b[k] == b[k - 2] &&
		    (unsigned char)b[k] < 0x80)
			break;
	if (k >= len)
		return;
	for (int keep = 1; keep <= 2; keep++) {
		const struct reading r = tk->r[ri];
		size_t start = tk->nbytes, i = 0;
		int changed = 0;

		if (tk->nr - first >= TOKEN_MAX_READINGS)
			return;
		reserve_bytes(tk, r.len);
		while (i < r.len) {
			size_t j = i;
			char ch = tk->bytes[r.off + i];

			while (j < r.len && tk->bytes[r.off + j] == ch)
				j++;
			size_t run = j - i, out = run;
			if (run >= 3 && (unsigned char)ch < 0x80 && ch != '?') {
				out = (size_t)keep;
				changed = 1;
			}
			for (size_t x = 0; x < out; x++) {
				tk->bytes[tk->nbytes] = ch;
				tk->src[tk->nbytes++] = tk->src[r.off + i + x];
			}
			/* the last kept letter stands for the whole run */
			if (out < run)
				tk->src[tk->nbytes - 1] = tk->src[r.off + j - 1];
			i = j;
		}
		if (!changed) {
			tk->nbytes = start;
			return;
		}
		add_reading(tk, start, r.flags & READING_MASKED);
		dedup_last(tk, first);
	}
}

/* Appends up to LEET_MAX_COMBOS leetspeak readings of pos[0, m). */
static void
add_leet(struct tokens *tk, const struct ntext *t, const uint32_t *pos,
    size_t m, enum build_mode mode, size_t first)
{
	unsigned ambiguous = 0, combos;
	char opt[2];

	for (size_t i = 0; i < m; i++)
		if (t->c[pos[i]].cls != NC_LETTER &&
		    leet_options(t->c[pos[i]].cp, opt) == 2)
			ambiguous++;
	combos = ambiguous >= 3 ? LEET_MAX_COMBOS : 1u << ambiguous;
	for (unsigned k = 0; k < combos; k++) {
		if (tk->nr - first >= TOKEN_MAX_READINGS)
			return;
		if (build(tk, t, pos, m, mode, k) == 0)
			dedup_last(tk, first);
	}
}

/* Lists the readings of the word made of characters pos[0, m). */
static void
read_word(const struct normalize_opts *o, struct tokens *tk,
    const struct ntext *t, const uint32_t *pos, size_t m, size_t digits,
    size_t symbols, struct token *tok)
{
	size_t first = tk->nr, a = 0, b = 0, letters = m - digits - symbols;
	size_t masks = 0, edge_ok = 1;
	char opt[2];

	tok->first = (uint32_t)first;
	if (symbols == 0 && digits == 0) {
		/* A plain word, by far the most common: read as written. */
		build(tk, t, pos, m, BUILD_LITERAL, 0);
		if (m > TOKEN_MAX_BYTES)
			tok->flags |= TOKEN_LONG;
		else if (o->collapse_repeats)
			add_collapsed(tk, first, first);
		tok->nreadings = (uint16_t)(tk->nr - first);
		return;
	}
	for (size_t i = 0; i < m; i++)
		if (t->c[pos[i]].cls == NC_SYMBOL)
			masks += leet_options(t->c[pos[i]].cp, opt) < 0;
	/* Symbols at the edges are punctuation in the main reading ("hello!"). */
	while (a < m && t->c[pos[a]].cls == NC_SYMBOL)
		a++;
	while (b < m - a && t->c[pos[m - 1 - b]].cls == NC_SYMBOL)
		b++;
	if (a + b == m)
		a = b = 0;
	const uint32_t *core = pos + a;
	size_t cm = m - a - b, csym = 0;
	for (size_t i = 0; i < a; i++)
		edge_ok &= edge_letter(t->c[pos[i]].cp, 1);
	for (size_t i = m - b; i < m; i++)
		edge_ok &= edge_letter(t->c[pos[i]].cp, 0);
	for (size_t i = 0; i < cm; i++)
		csym += t->c[core[i]].cls == NC_SYMBOL;

	if (m > TOKEN_MAX_BYTES) {
		/* No term is this long: one reading, for the substring scan. */
		tok->flags |= TOKEN_LONG;
		if (csym == 0)
			build(tk, t, core, cm, BUILD_LITERAL, 0);
		else if (o->leet)
			build(tk, t, core, cm, BUILD_MASKED, 0);
		tok->nreadings = (uint16_t)(tk->nr - first);
		return;
	}
	if (csym == 0)
		build(tk, t, core, cm, BUILD_LITERAL, 0);
	if (o->leet && (letters > 0 || symbols >= 2)) {
		if (csym > 0 || digits > 0) {
			if (masks > 0 && csym > 0)
				build(tk, t, core, cm, BUILD_MASKED, 0);
			else
				add_leet(tk, t, core, cm, BUILD_LEET, first);
		}
		if ((a > 0 || b > 0) && edge_ok)
			add_leet(tk, t, pos, m, BUILD_LEET, first);
	}
	if (o->collapse_repeats)
		for (size_t ri = first, n = tk->nr; ri < n; ri++)
			add_collapsed(tk, ri, first);
	tok->nreadings = (uint16_t)(tk->nr - first);
}

/*
 * Adds a token for pos[0, m) spanning characters [start, end), of which
 * `digits` are digits and `symbols` symbols.
 */
static void
add_token(const struct normalize_opts *o, struct tokens *tk,
    const struct ntext *t, const uint32_t *pos, size_t m, size_t digits,
    size_t symbols, uint32_t start, uint32_t end, uint16_t flags)
{
	struct token *tok;

	tk->t = xgrow(tk->t, &tk->cap, tk->n + 1, sizeof *tk->t);
	tok = &tk->t[tk->n];
	tok->start = start;
	tok->end = end;
	tok->flags = flags;
	read_word(o, tk, t, pos, m, digits, symbols, tok);
	if (tok->nreadings > 0)
		tk->n++;
}

/* True if characters [from, to) may separate letters spelled out one by one. */
static int
join_gap(const struct ntext *t, uint32_t from, uint32_t to)
{
	if (to - from > JOIN_MAX_GAP)
		return 0;
	for (uint32_t i = from; i < to; i++)
		if (t->c[i].cls != NC_SEP || t->c[i].cp == '\n')
			return 0;
	return 1;
}

/* True if the word is one letter or digit, perhaps with trailing symbols ("k!"). */
static int
single_letter(const struct ntext *t, const struct token *tok)
{
	uint8_t cls = t->c[tok->start].cls;

	if (cls != NC_LETTER && cls != NC_DIGIT)
		return 0;
	for (uint32_t i = tok->start + 1; i < tok->end; i++)
		if (t->c[i].cls != NC_SYMBOL)
			return 0;
	return 1;
}

/* Adds a joined token for each run of single letters ("f u c k", "f.u.c.k"). */
static void
join_spelled(const struct normalize_opts *o, struct tokens *tk,
    const struct ntext *t, uint32_t *pos)
{
	size_t i = 0, nwords = tk->n;

	while (i < nwords) {
		size_t j = i;

		while (j < nwords && single_letter(t, &tk->t[j]) &&
		    (j == i || join_gap(t, tk->t[j - 1].end, tk->t[j].start)))
			j++;
		if (j - i >= JOIN_MIN_LETTERS) {
			size_t m = 0, digits = 0;
			for (size_t k = i; k < j; k++) {
				pos[m++] = tk->t[k].start;
				digits += t->c[tk->t[k].start].cls == NC_DIGIT;
			}
			add_token(o, tk, t, pos, m, digits, 0, tk->t[i].start,
			    tk->t[j - 1].end, TOKEN_JOINED);
		}
		i = j > i ? j : i + 1;
	}
}

void
tokenize(const struct normalize_opts *o, const struct ntext *t,
    struct tokens *tk)
{
	uint32_t *pos;
	size_t i = 0;

	tk->n = tk->nr = tk->nbytes = tk->nwords = 0;
	if (t->n == 0)
		return;
	tk->pos = pos = xgrow(tk->pos, &tk->pcap, t->n, sizeof *tk->pos);
	reserve_bytes(tk, t->n + 16);
	while (i < t->n) {
		size_t start, end, m = 0, letters = 0, digits = 0, symbols = 0;

		if (t->c[i].cls == NC_SEP || t->c[i].cls == NC_APOS) {
			i++;
			continue;
		}
		start = i;
		while (i < t->n && t->c[i].cls != NC_SEP)
			i++;
		end = i;
		/* an apostrophe ends a word only at its edge ("'tis", "dogs'") */
		while (end > start && t->c[end - 1].cls == NC_APOS)
			end--;
		for (size_t k = start; k < end; k++) {
			if (t->c[k].cls == NC_APOS)
				continue;
			letters += t->c[k].cls == NC_LETTER;
			digits += t->c[k].cls == NC_DIGIT;
			symbols += t->c[k].cls == NC_SYMBOL;
			pos[m++] = (uint32_t)k;
		}
		if (m == 0 || (letters + digits == 0 && symbols < 2))
			continue;
		if (m > 16000) {	/* keeps a reading's length in 16 bits */
			m = 16000;
			digits = symbols = 0;
			for (size_t k = 0; k < m; k++) {
				digits += t->c[pos[k]].cls == NC_DIGIT;
				symbols += t->c[pos[k]].cls == NC_SYMBOL;
			}
		}
		add_token(o, tk, t, pos, m, digits, symbols, (uint32_t)start,
		    (uint32_t)end, 0);
	}
	tk->nwords = tk->n;
	if (o->join_separated)
		join_spelled(o, tk, t, pos);
}
