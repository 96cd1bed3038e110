/*
 * errlist: a growable list of "file:line:column: message" strings.
 * Allocation failure here is a broken invariant of the process, so it aborts
 * rather than losing a message silently.
 */
#include "errlist.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
errlist_init(struct errlist *e)
{
	e->msgs = NULL;
	e->n = e->cap = 0;
}

void
errlist_free(struct errlist *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	errlist_init(e);
}

static void
errlist_push(struct errlist *e, char *msg)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		char **m = realloc(e->msgs, cap * sizeof *m);
		if (m == NULL)
			abort();
		e->msgs = m;
		e->cap = cap;
	}
	e->msgs[e->n++] = msg;
}

void
errlist_add_raw(struct errlist *e, const char *msg)
{
	char *copy = strdup(msg);
	if (copy == NULL)
		abort();
	errlist_push(e, copy);
}

void
errlist_add(struct errlist *e, const char *file, unsigned line,
    unsigned column, const char *fmt, ...)
{
	char body[1024], *msg;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	if (line > 0)
		n = asprintf(&msg, "%s:%u:%u: %s", file, line, column, body);
	else
		n = asprintf(&msg, "%s: %s", file, body);
	if (n < 0)
		abort();
	errlist_push(e, msg);
}

const char *
errlist_quote(const char *text, size_t len, size_t max, char *buf,
    size_t size)
{
	size_t o = 0;

	buf[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		bool first = (ch & 0xc0) != 0x80;

		/*
		 * Cut only before a character's first byte, never inside it:
		 * after `max` bytes, or where the longest character (four
		 * bytes, or an escape of four) then `..."` might not fit.
		 */
		if (first && (i >= max || o + 4 + 3 + 2 > size)) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (!first && o + 1 + 3 + 2 > size)
			break;		/* only after invalid UTF-8 */
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
