/*
 * fuzz_common: checks shared by the fuzz targets.
 *
 * Each check is a promise another part of commentd relies on (a span that
 * cuts a UTF-8 sequence would make the JSON answer invalid; a reading that
 * points outside its text would map a match to the wrong bytes), so the
 * targets abort on a broken one and libFuzzer saves the input.
 */
#ifndef COMMENTD_FUZZ_COMMON_H
#define COMMENTD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "normalize.h"
#include "tokenize.h"

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: broken promise: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* True if s is well-formed UTF-8 as RFC 3629 defines it. */
static inline int
fuzz_utf8_valid(const uint8_t *s, size_t len)
{
	size_t		i = 0, n, k;
	uint32_t	cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* True if offset `at` of s does not fall inside a UTF-8 sequence. */
static inline int
fuzz_utf8_boundary(const uint8_t *s, size_t len, size_t at)
{
	return at == len || (at < len && (s[at] & 0xc0) != 0x80);
}

/* The normalised text must point only at bytes of the original, in order of characters. */
static inline void
fuzz_check_ntext(const struct ntext *nt, const uint8_t *s, size_t len)
{
	size_t	i;

	FUZZ_CHECK(nt->n <= nt->cap);
	for (i = 0; i < nt->n; i++) {
		const struct nchar	*c = &nt->c[i];

		FUZZ_CHECK(c->start <= c->end && c->end <= len);
		FUZZ_CHECK(fuzz_utf8_boundary(s, len, c->start));
		FUZZ_CHECK(fuzz_utf8_boundary(s, len, c->end));
		FUZZ_CHECK(c->cp <= 0x10ffff &&
		    (c->cp < 0xd800 || c->cp > 0xdfff));
		FUZZ_CHECK(c->cls <= NC_APOS);
		FUZZ_CHECK(c->script <= SCRIPT_OTHER);
	}
}

/* Every reading must lie inside the reading bytes and map to real characters. */
static inline void
fuzz_check_tokens(const struct tokens *tk, const struct ntext *nt)
{
	size_t	i, j, k;

	FUZZ_CHECK(tk->n <= tk->cap && tk->nr <= tk->rcap &&
	    tk->nbytes <= tk->bcap);
	for (i = 0; i < tk->n; i++) {
		const struct token	*t = &tk->t[i];

		FUZZ_CHECK(t->nreadings <= TOKEN_MAX_READINGS);
		FUZZ_CHECK((size_t)t->first + t->nreadings <= tk->nr);
		for (j = 0; j < t->nreadings; j++) {
			const struct reading *r = &tk->r[t->first + j];

			FUZZ_CHECK((size_t)r->off + r->len <= tk->nbytes);
			FUZZ_CHECK(fuzz_utf8_valid(
			    (const uint8_t *)reading_bytes(tk, r), r->len));
			for (k = 0; k < r->len; k++)
				FUZZ_CHECK(tk->src[r->off + k] < nt->n);
		}
	}
}

#endif
