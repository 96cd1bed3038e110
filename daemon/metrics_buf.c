/*
 * metrics_buf: the Prometheus text exposition format (0.0.4), written into
 * a growable buffer.
 *
 * Label values are escaped here, and bytes that are not UTF-8 replaced, so
 * no caller can make the page unparseable by passing odd text.  It never
 * allocates more than the page needs and never aborts: a failed allocation
 * marks the buffer failed and costs one scrape, not the daemon.
 */
#include "metrics_buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "growbuf.h"

/* Initialises an empty buffer that owns no memory yet. */
void
metrics_buf_init(struct metrics_buf *b)
{
	memset(b, 0, sizeof *b);
}

/* Empties the buffer, keeping its memory for the next scrape. */
void
metrics_buf_reset(struct metrics_buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Frees the buffer's memory. */
void
metrics_buf_free(struct metrics_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	metrics_buf_init(b);
}

/* Makes room for n more bytes and a NUL; false once the buffer failed. */
static bool
metrics_buf_room(struct metrics_buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (!growbuf_reserve(&b->data, &b->cap, b->len, n, 4096))
		b->failed = true;
	return !b->failed;
}

/* Appends n bytes, keeping the text NUL-terminated. */
void
metrics_buf_add(struct metrics_buf *b, const char *s, size_t n)
{
	if (!metrics_buf_room(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Appends a NUL-terminated string. */
static void
metrics_buf_str(struct metrics_buf *b, const char *s)
{
	metrics_buf_add(b, s, strlen(s));
}

/*
 * Appends a label value escaped as the format wants (\\, \", \n), with
 * invalid UTF-8 replaced by U+FFFD: the page must parse whatever a caller
 * passed, and Prometheus refuses a label value that is not UTF-8.
 */
static void
metrics_buf_escaped(struct metrics_buf *b, const char *s)
{
	const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
	size_t len = strlen(s), i = 0, run = 0;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	const char *esc;

	while (i < len) {
		esc = NULL;
		n = 1;
		if (s[i] == '\\')
			esc = "\\\\";
		else if (s[i] == '"')
			esc = "\\\"";
		else if (s[i] == '\n')
			esc = "\\n";
		else if (u[i] >= 0x80) {
			n = utf8proc_iterate(u + i,
			    (utf8proc_ssize_t)(len - i), &cp);
			if (n < 1) {
				esc = "\xef\xbf\xbd";
				n = 1;
			}
		}
		if (esc == NULL) {
			i += (size_t)n;
			continue;
		}
		metrics_buf_add(b, s + run, i - run);
		metrics_buf_str(b, esc);
		i += (size_t)n;
		run = i;
	}
	metrics_buf_add(b, s + run, len - run);
}

/* Writes the HELP and TYPE lines that open a family. */
void
metrics_buf_family(struct metrics_buf *b, const char *name, const char *type,
    const char *help)
{
	size_t i;

	metrics_buf_str(b, "# HELP ");
	metrics_buf_str(b, name);
	metrics_buf_str(b, " ");
	/* HELP escapes only backslash and newline */
	for (i = 0; help[i] != '\0'; i++) {
		if (help[i] == '\\')
			metrics_buf_str(b, "\\\\");
		else if (help[i] == '\n')
			metrics_buf_str(b, "\\n");
		else
			metrics_buf_add(b, help + i, 1);
	}
	metrics_buf_str(b, "\n# TYPE ");
	metrics_buf_str(b, name);
	metrics_buf_str(b, " ");
	metrics_buf_str(b, type);
	metrics_buf_str(b, "\n");
}

/* One sample line with a value already formatted. */
void
metrics_buf_sample(struct metrics_buf *b, const char *name,
    const struct metrics_label *labels, size_t nlabels, const char *value)
{
	size_t i;

	metrics_buf_str(b, name);
	for (i = 0; i < nlabels; i++) {
		metrics_buf_str(b, i == 0 ? "{" : ",");
		metrics_buf_str(b, labels[i].name);
		metrics_buf_str(b, "=\"");
		metrics_buf_escaped(b, labels[i].value);
		metrics_buf_str(b, "\"");
	}
	metrics_buf_str(b, nlabels > 0 ? "} " : " ");
	metrics_buf_str(b, value);
	metrics_buf_str(b, "\n");
}

/* One sample with an unsigned value (counters, buckets). */
void
metrics_buf_sample_u64(struct metrics_buf *b, const char *name,
    const struct metrics_label *labels, size_t nlabels, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof v, "%" PRIu64, value);
	metrics_buf_sample(b, name, labels, nlabels, v);
}

/* One sample with a signed value (gauges). */
void
metrics_buf_sample_i64(struct metrics_buf *b, const char *name,
    const struct metrics_label *labels, size_t nlabels, int64_t value)
{
	char v[32];

	snprintf(v, sizeof v, "%" PRId64, value);
	metrics_buf_sample(b, name, labels, nlabels, v);
}
