/*
 * fingerprint: the key under which duplicate comments meet.
 *
 * Two comments have one fingerprint when their texts are the same once
 * normalised (docs/redis.md): NFKC with case folding, default-ignorable
 * characters (zero-width and the like) dropped, letters and digits kept
 * (with the marks written on them), every run of anything else one space,
 * no space at either end.  So "Buy NOW!!!" and "buy now" are one text.  The
 * fingerprint is the first 16 bytes of that text's SHA-256, in hex.
 *
 * It is policy-independent on purpose: daemons with different policies
 * sharing one Redis still agree on it.  It never fails: bytes that are not
 * UTF-8 separate words like punctuation.
 */
#ifndef COMMENTD_FINGERPRINT_H
#define COMMENTD_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#define FINGERPRINT_HEX	32

/*
 * Writes the fingerprint of text as 32 hex digits and a NUL.  Returns false
 * when nothing was kept (only emoji, symbols or punctuation): every such
 * text has the one fingerprint of "", which a caller may not want to count
 * as a duplicate.
 */
bool	fingerprint_text(const char *text, size_t len,
	    char out[FINGERPRINT_HEX + 1]);

#endif
