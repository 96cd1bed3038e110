/*
 * json_writer: writes JSON text straight into a growing byte buffer.
 *
 * The answers of the API are small and of fixed shape, so they are written
 * member by member, with no tree and no second copy; the buffer is kept
 * and reused from one answer to the next.  Strings are always written as
 * valid UTF-8 (bytes that are not become U+FFFD), so a broken span can never
 * make an answer that a client fails to parse.
 */
#ifndef COMMENTD_JSON_WRITER_H
#define COMMENTD_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_writer {
	char	*buf;
	size_t	 len, cap;
	bool	 failed;	/* an allocation failed: the text is incomplete */
};

/* An empty writer; it allocates on first use. */
void	json_writer_init(struct json_writer *);

/* Frees the buffer. */
void	json_writer_free(struct json_writer *);

/* Empties the text and clears `failed`, keeping the buffer. */
void	json_writer_reset(struct json_writer *);

/* Appends n bytes of JSON text as they are (literal keys, punctuation). */
void	json_writer_raw(struct json_writer *, const char *s, size_t n);

/* Appends a C-string literal of JSON text. */
#define json_writer_lit(w, s)	json_writer_raw((w), (s), sizeof(s) - 1)

/* Appends s (n bytes) as a JSON string, escaped; NULL writes null. */
void	json_writer_string(struct json_writer *, const char *s, size_t n);

/* Appends a C string as a JSON string; NULL writes null. */
void	json_writer_cstring(struct json_writer *, const char *s);

/* Appends an integer. */
void	json_writer_int(struct json_writer *, int64_t v);

/*
 * The length of the well-formed UTF-8 sequence (RFC 3629) at s, or 0:
 * overlong forms, surrogates and code points past U+10FFFF are refused.
 */
size_t	json_utf8_len(const unsigned char *s, size_t left);

#endif
