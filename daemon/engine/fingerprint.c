/*
 * fingerprint: normalises a comment's text and hashes it.  See fingerprint.h.
 *
 * The text is cut into runs of valid UTF-8; each run is mapped by utf8proc
 * as a whole (NFKC composes across code points, so it cannot go one code
 * point at a time), then its letters, digits and marks are fed to SHA-256
 * with one space between words.  It must never read a clock, a socket or the
 * policy: the same bytes give the same fingerprint in every daemon.
 */
#include "fingerprint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <utf8proc.h>

#include "xalloc.h"

#define FP_OPTIONS	(UTF8PROC_STABLE | UTF8PROC_COMPOSE | \
			 UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

/* The state of one fingerprint: the hash, and where the words stand. */
struct fp {
	EVP_MD_CTX		*md;
	utf8proc_int32_t	*cp;	/* one run, mapped */
	size_t			 cap;
	int			 started;	/* a word was hashed */
	int			 in_word;	/* the last one was kept */
	int			 gap;		/* a separator since */
	uint8_t			 out[256];	/* UTF-8 for the hash */
	size_t			 nout;
};

/* Hands the waiting bytes to SHA-256. */
static void
fp_flush(struct fp *f)
{
	if (f->nout > 0 && EVP_DigestUpdate(f->md, f->out, f->nout) != 1)
		abort();
	f->nout = 0;
}

/* Appends one code point of the normalised text. */
static void
fp_put(struct fp *f, utf8proc_int32_t c)
{
	if (f->nout + 5 > sizeof f->out)
		fp_flush(f);
	f->nout += (size_t)utf8proc_encode_char(c, f->out + f->nout);
}

/* Letters and digits are kept, and marks when they sit on one. */
static int
fp_keeps(const struct fp *f, utf8proc_int32_t c)
{
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return f->in_word;
	default:
		return 0;
	}
}

/* One normalised character: a word's, or a separator. */
static void
fp_char(struct fp *f, utf8proc_int32_t c)
{
	if (!fp_keeps(f, c)) {
		f->in_word = 0;
		f->gap = 1;
		return;
	}
	if (f->gap && f->started)
		fp_put(f, ' ');
	fp_put(f, c);
	f->started = f->in_word = 1;
	f->gap = 0;
}

/* Maps one run of valid UTF-8 and feeds its characters. */
static void
fp_run(struct fp *f, const char *s, size_t len)
{
	utf8proc_ssize_t n;

	for (;;) {
		n = utf8proc_decompose((const utf8proc_uint8_t *)s,
		    (utf8proc_ssize_t)len, f->cp, (utf8proc_ssize_t)f->cap,
		    FP_OPTIONS);
		if (n < 0)	/* cannot happen on valid UTF-8: a gap */
			n = 0;
		if ((size_t)n <= f->cap)
			break;
		f->cp = xgrow(f->cp, &f->cap, (size_t)n, sizeof *f->cp);
	}
	if (n > 0)
		n = utf8proc_normalize_utf32(f->cp, n, FP_OPTIONS);
	for (utf8proc_ssize_t i = 0; i < n; i++)
		fp_char(f, f->cp[i]);
}

bool
fingerprint_text(const char *text, size_t len, char out[FINGERPRINT_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	struct fp f;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t run = 0, i = 0;

	memset(&f, 0, sizeof f);
	f.cp = xgrow(NULL, &f.cap, len + 1, sizeof *f.cp);
	if ((f.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(f.md, EVP_sha256(), NULL) != 1)
		abort();
	while (i < len) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(
		    (const utf8proc_uint8_t *)text + i,
		    (utf8proc_ssize_t)(len - i), &c);

		if (k > 0) {
			i += (size_t)k;
			continue;
		}
		/* Not UTF-8: what came before is a run, this byte a gap. */
		if (i > run)
			fp_run(&f, text + run, i - run);
		fp_char(&f, ' ');
		run = ++i;
	}
	if (len > run)
		fp_run(&f, text + run, len - run);
	fp_flush(&f);
	if (EVP_DigestFinal_ex(f.md, md, &mdlen) != 1 || mdlen < 16)
		abort();
	EVP_MD_CTX_free(f.md);
	free(f.cp);
	for (size_t b = 0; b < FINGERPRINT_HEX / 2; b++) {
		out[2 * b] = hex[md[b] >> 4];
		out[2 * b + 1] = hex[md[b] & 0xf];
	}
	out[FINGERPRINT_HEX] = '\0';
	return f.started != 0;
}
