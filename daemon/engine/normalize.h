/*
 * normalize: turns a comment into the text the matchers read, undoing the
 * disguises moderators see, while remembering for every normalised character
 * the bytes of the original it came from (so a reason can point at the
 * commenter's own text).
 *
 * Per code point: NFKC compatibility mapping and case folding (utf8proc),
 * combining marks stripped from Latin and Greek letters ("ƒüçk" -> "fuck"),
 * zero-width and bidi controls dropped, Latin lookalikes (ƒ, ł, ø, ...)
 * mapped.  Per word: Cyrillic and Greek lookalikes become Latin only where
 * the word mixes scripts or is made of lookalikes alone, so Russian or Greek
 * text keeps its letters.  Leetspeak, masks, stretched letters and letters
 * spelled out one by one are readings of a token (tokenize.h), not changes
 * to this text.  Invalid UTF-8 is an error, never a crash.
 */
#ifndef COMMENTD_NORMALIZE_H
#define COMMENTD_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct normalize_opts {
	bool	leet;			/* 4 -> a, $ -> s, ... as token readings */
	bool	confusables;		/* lookalike letters -> Latin */
	bool	strip_invisible;	/* zero-width, bidi controls, soft hyphen */
	bool	strip_marks;		/* accents on Latin and Greek letters */
	bool	collapse_repeats;	/* "fuuuuck" also read as "fuck" */
	bool	join_separated;		/* "f u c k", "f.u.c.k" read as one word */
};

/* Every option on: what a policy gets unless it says otherwise. */
void	normalize_opts_default(struct normalize_opts *);

enum nchar_class {
	NC_SEP,			/* space, punctuation, emoji: ends a word */
	NC_LETTER,		/* a letter, or a mark kept on a non-Latin letter */
	NC_DIGIT,
	NC_SYMBOL,		/* a symbol that can stand for a letter or mask one */
	NC_APOS,		/* an apostrophe: inside a word it joins */
};

enum script {
	SCRIPT_NONE,
	SCRIPT_LATIN,
	SCRIPT_GREEK,
	SCRIPT_CYRILLIC,
	SCRIPT_OTHER,
};

/* One normalised code point and the original bytes [start, end) it came from. */
struct nchar {
	uint32_t	cp;
	uint32_t	start;
	uint32_t	end;
	uint8_t		cls;		/* enum nchar_class */
	uint8_t		script;		/* enum script (letters only) */
	uint8_t		upper;		/* the original was upper case */
	uint8_t		alt;		/* ASCII letter it looks like, or 0 */
};

struct ntext {
	struct nchar	*c;
	size_t		 n;
	size_t		 cap;
};

void	ntext_init(struct ntext *);
void	ntext_free(struct ntext *);

/*
 * Normalises `len` bytes of UTF-8 into `out` (reusing its storage).
 * Returns 0, or -1 when the input is not valid UTF-8 (*bad_at is the byte
 * offset of the first invalid sequence) or longer than 4 GiB.
 */
int	normalize_text(const struct normalize_opts *, const char *s, size_t len,
	    struct ntext *out, size_t *bad_at);

/* The script of a code point, by Unicode block (letters only matter). */
enum script script_of(uint32_t cp);

/* Encodes the normalised text as UTF-8 into a malloc'd string (tests, tools). */
char	*ntext_to_utf8(const struct ntext *);

#endif
