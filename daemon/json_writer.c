/*
 * json_writer: JSON text into a reusable buffer, strings escaped as jansson
 * escapes them (", \ and control characters; '/' and non-ASCII as they are).
 *
 * It must never write bytes that are not UTF-8: answers quote comment text
 * at spans the engine computed, and a span that cut a character must give a
 * replacement character, not a broken answer.
 */
#include "json_writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "growbuf.h"

/* Starts empty. */
void
json_writer_init(struct json_writer *w)
{
	memset(w, 0, sizeof *w);
}

/* Frees the buffer and empties the writer. */
void
json_writer_free(struct json_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof *w);
}

/* Forgets the text, keeping the buffer for the next answer. */
void
json_writer_reset(struct json_writer *w)
{
	w->len = 0;
	w->failed = false;
}

/* Makes room for n more bytes; false (and `failed`) when memory ran out. */
static bool
jw_room(struct json_writer *w, size_t n)
{
	if (w->failed)
		return false;
	if (!growbuf_reserve(&w->buf, &w->cap, w->len, n, 512))
		w->failed = true;
	return !w->failed;
}

/* Appends bytes as they are. */
void
json_writer_raw(struct json_writer *w, const char *s, size_t n)
{
	if (!jw_room(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* The length of a well-formed UTF-8 sequence at s, or 0. */
size_t
json_utf8_len(const unsigned char *s, size_t left)
{
	uint32_t	cp, min;
	size_t		n, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (left < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Appends a string, quoted.  Runs of bytes that need nothing are copied in
 * one piece; the worst case (every byte a control character) is six bytes
 * out per byte in, which is what the room is reserved for.
 */
void
json_writer_string(struct json_writer *w, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, run = 0, k;
	char			*o;

	if (s == NULL) {
		json_writer_lit(w, "null");
		return;
	}
	if (n > (SIZE_MAX - 2) / 6 || !jw_room(w, n * 6 + 2))
		return;
	o = w->buf + w->len;
	*o++ = '"';
	while (i < n) {
		if (u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' &&
		    u[i] != '\\') {
			i++;
			continue;
		}
		if (u[i] >= 0x80 && (k = json_utf8_len(u + i, n - i)) != 0) {
			i += k;
			continue;
		}
		memcpy(o, s + run, i - run);
		o += i - run;
		if (u[i] >= 0x80) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
		} else {
			*o++ = '\\';
			switch (u[i]) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default:
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[u[i] >> 4];
				*o++ = hex[u[i] & 0xf];
				break;
			}
		}
		run = ++i;
	}
	memcpy(o, s + run, i - run);
	o += i - run;
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

/* Appends a C string, quoted, or null. */
void
json_writer_cstring(struct json_writer *w, const char *s)
{
	json_writer_string(w, s, s != NULL ? strlen(s) : 0);
}

/* Appends an integer in decimal. */
void
json_writer_int(struct json_writer *w, int64_t v)
{
	char	buf[24];
	int	n;

	n = snprintf(buf, sizeof buf, "%" PRId64, v);
	json_writer_raw(w, buf, (size_t)n);
}
