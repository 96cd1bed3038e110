/*
 * tokenize: splits normalised text into words and lists, for each word, the
 * readings a word list is checked against.
 *
 * A plain word has one reading.  A word with digits or symbols also has its
 * leetspeak readings ("5h1t" -> "shit", "shlt"), a word with mask symbols a
 * masked reading ("f*ck" -> "f?ck", matched against terms of that shape),
 * a word with stretched letters its collapsed readings ("fuuuck" -> "fuck"),
 * and letters spelled out one by one ("f u c k", "f.u.c.k") form an extra,
 * joined token.  Every byte of a reading remembers the normalised character
 * it came from, so matches map back to the original text.
 */
#ifndef COMMENTD_TOKENIZE_H
#define COMMENTD_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "normalize.h"

#define TOKEN_MAX_BYTES		64	/* longer words are read, never looked up whole */
#define TOKEN_MAX_READINGS	16

/* Reading flags */
#define READING_MASKED		0x01	/* holds '?' for masked letters */
#define READING_LITERAL		0x02	/* the word as written, digits kept */

/* Token flags */
#define TOKEN_JOINED		0x01	/* letters spelled out; not part of phrases */
#define TOKEN_LONG		0x02	/* over TOKEN_MAX_BYTES: substring scan only */

struct reading {
	uint32_t	off;		/* into tokens.bytes and tokens.src */
	uint16_t	len;
	uint16_t	flags;
};

struct token {
	uint32_t	start, end;	/* normalised characters [start, end) */
	uint32_t	first;		/* first reading */
	uint16_t	nreadings;
	uint16_t	flags;
};

struct tokens {
	struct token	*t;
	size_t		 n, cap;
	size_t		 nwords;	/* t[0, nwords) are words, the rest joined */
	struct reading	*r;
	size_t		 nr, rcap;
	char		*bytes;		/* readings' text, UTF-8 */
	uint32_t	*src;		/* per byte: index of its nchar */
	size_t		 nbytes, bcap;
	uint32_t	*pos;		/* working space: a word's characters */
	size_t		 pcap;
};

void	tokens_init(struct tokens *);
void	tokens_free(struct tokens *);

/* Fills `out` (reusing its storage) with the words of `text`. */
void	tokenize(const struct normalize_opts *, const struct ntext *text,
	    struct tokens *out);

/* The bytes of a reading. */
static inline const char *
reading_bytes(const struct tokens *tk, const struct reading *r)
{
	return tk->bytes + r->off;
}

#endif
