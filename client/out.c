/*
 * out: safe, sized and highlighted text for commentctl's human output.
 * See out.h.
 */
#include "out.h"

#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define OUT_MIN_LAST	12	/* columns the last column of a table keeps */
#define OUT_GAP		2	/* spaces between columns */

static const char *const out_escapes[] = {
	[OUT_PLAIN] = "\033[0m",
	[OUT_BOLD] = "\033[1m",
	[OUT_DIM] = "\033[2m",
	[OUT_MATCH] = "\033[1;7;31m",
	[OUT_GOOD] = "\033[32m",
	[OUT_BAD] = "\033[31m",
	[OUT_WARN] = "\033[33m",
};

void
out_init(struct out *o)
{
	struct winsize ws;
	const char *env, *term = getenv("TERM");
	char *end;
	long n;

	/* Widths come from wcwidth, which needs a UTF-8 locale to know them. */
	setlocale(LC_CTYPE, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	o->tty = isatty(STDOUT_FILENO) == 1;
	env = getenv("NO_COLOR");
	o->colour = o->tty && (env == NULL || env[0] == '\0') &&
	    term != NULL && strcmp(term, "dumb") != 0;
	o->width = OUT_DEFAULT_WIDTH;
	if (o->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		o->width = ws.ws_col;
	else if ((env = getenv("COLUMNS")) != NULL && env[0] != '\0') {
		n = strtol(env, &end, 10);
		if (*end == '\0' && n >= 20 && n <= 1000)
			o->width = (size_t)n;
	}
}

void
out_style(const struct out *o, FILE *f, enum out_style s)
{
	if (o->colour)
		fputs(out_escapes[s], f);
}

enum out_style
out_decision_style(const char *d)
{
	if (d == NULL)
		return OUT_PLAIN;
	if (strcmp(d, "accept") == 0 || strcmp(d, "approve") == 0)
		return OUT_GOOD;
	if (strcmp(d, "reject") == 0 || strcmp(d, "ban") == 0)
		return OUT_BAD;
	if (strcmp(d, "queue") == 0)
		return OUT_WARN;
	return OUT_PLAIN;
}

void
out_pad(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

/*
 * Decodes the UTF-8 character at s[0..n): its length, with *cp; an invalid
 * sequence is one byte read as U+FFFD.
 */
static size_t
out_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t k, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		k = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		k = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		k = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else
		goto bad;
	if (k > n)
		goto bad;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return k;
bad:
	*cp = 0xfffd;
	return 1;
}

/* Whether a character must be shown as <U+XXXX>: it could steer the text. */
static bool
out_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x061c;
}

/* Printing or measuring one text under a budget of columns. */
struct out_run {
	const struct out	*o;
	FILE			*f;		/* NULL: measure only */
	size_t			 budget;	/* 0: none */
	size_t			 used;
	bool			 stopped;
};

/* Emits n bytes that take w columns, unless they would pass the budget. */
static bool
out_emit(struct out_run *r, const char *s, size_t n, size_t w)
{
	if (r->stopped || (r->budget != 0 && r->used + w > r->budget)) {
		r->stopped = true;
		return false;
	}
	if (r->f != NULL)
		fwrite(s, 1, n, r->f);
	r->used += w;
	return true;
}

/* Emits one character of the text as the terminal may safely show it. */
static void
out_char(struct out_run *r, const char *s, size_t k, uint32_t cp,
    unsigned flags)
{
	char buf[16];
	int w;

	if ((cp == '\n' || cp == '\t' || cp == '\r') &&
	    (flags & OUT_ONELINE)) {
		out_emit(r, " ", 1, 1);
		return;
	}
	if (cp == '\n' || cp == '\t') {
		out_emit(r, s, 1, 1);
		return;
	}
	if (cp < 0x20 || cp == 0x7f) {
		buf[0] = '^';
		buf[1] = (char)(cp ^ 0x40);
		out_emit(r, buf, 2, 2);
		return;
	}
	if (cp == 0xfffd && k == 1 && (unsigned char)s[0] >= 0x80) {
		out_emit(r, "\xef\xbf\xbd", 3, 1);
		return;
	}
	if (!out_hidden(cp) && (w = wcwidth((wchar_t)cp)) >= 0) {
		out_emit(r, s, k, (size_t)w);
		return;
	}
	w = snprintf(buf, sizeof buf, "<U+%04X>", (unsigned)cp);
	out_emit(r, buf, (size_t)w, (size_t)w);
}

/* Orders spans by their start, for the merge. */
static int
out_span_cmp(const void *a, const void *b)
{
	const struct out_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The spans clipped to len, sorted and merged (overlapping spans would
 * otherwise open a highlight twice); a malloc'd array, its size in *n.
 */
static struct out_span *
out_spans_merge(const struct out_span *in, size_t nin, size_t len, size_t *n)
{
	struct out_span *s;
	size_t i, k = 0;

	*n = 0;
	if (nin == 0 || (s = calloc(nin, sizeof *s)) == NULL)
		return NULL;
	for (i = 0; i < nin; i++)
		if (in[i].start < in[i].end && in[i].start < len) {
			s[k] = in[i];
			if (s[k].end > len)
				s[k].end = len;
			k++;
		}
	qsort(s, k, sizeof *s, out_span_cmp);
	for (i = 0; i < k; i++) {
		if (*n > 0 && s[i].start <= s[*n - 1].end) {
			if (s[i].end > s[*n - 1].end)
				s[*n - 1].end = s[i].end;
		} else
			s[(*n)++] = s[i];
	}
	return s;
}

/* Emits a text with its (merged) spans under the run's budget. */
static void
out_run_text(struct out_run *r, const char *s, size_t len, unsigned flags,
    const struct out_span *sp, size_t nsp)
{
	size_t i = 0, k, si = 0;
	bool in = false;
	uint32_t cp;

	while (i < len && !r->stopped) {
		if (!in && si < nsp && i >= sp[si].start) {
			if (r->o->colour && r->f != NULL)
				fputs(out_escapes[OUT_MATCH], r->f);
			else if (!r->o->colour && !out_emit(r, "[", 1, 1))
				break;
			in = true;
		}
		k = out_decode((const unsigned char *)s + i, len - i, &cp);
		out_char(r, s + i, k, cp, flags);
		i += k;
		if (in && i >= sp[si].end && !r->stopped) {
			if (r->o->colour && r->f != NULL)
				fputs(out_escapes[OUT_PLAIN], r->f);
			else if (!r->o->colour)
				out_emit(r, "]", 1, 1);
			in = false;
			si++;
		}
	}
	if (in && r->o->colour && r->f != NULL)
		fputs(out_escapes[OUT_PLAIN], r->f);
}

size_t
out_width(const struct out *o, const char *s, size_t len, unsigned flags,
    const struct out_span *spans, size_t nspans)
{
	struct out_run r = { o, NULL, 0, 0, false };
	struct out_span *sp;
	size_t nsp;

	sp = out_spans_merge(spans, nspans, len, &nsp);
	out_run_text(&r, s != NULL ? s : "", s != NULL ? len : 0, flags, sp,
	    nsp);
	free(sp);
	return r.used;
}

size_t
out_text(const struct out *o, FILE *f, const char *s, size_t len,
    size_t cols, unsigned flags, const struct out_span *spans,
    size_t nspans)
{
	struct out_run r = { o, f, 0, 0, false };
	struct out_span *sp;
	size_t nsp, total;

	if (s == NULL)
		return 0;
	sp = out_spans_merge(spans, nspans, len, &nsp);
	total = 0;
	if (cols != 0) {
		struct out_run m = { o, NULL, 0, 0, false };

		out_run_text(&m, s, len, flags, sp, nsp);
		total = m.used;
	}
	/* Too long: stop a column early and end with an ellipsis. */
	r.budget = cols != 0 && total > cols ? cols - 1 : 0;
	out_run_text(&r, s, len, flags, sp, nsp);
	if (r.stopped) {
		fputs("…", f);
		r.used++;
	}
	free(sp);
	return r.used;
}

struct out_cell
out_cell_str(const char *s)
{
	struct out_cell c = { s, s != NULL ? strlen(s) : 0, NULL, 0,
	    OUT_PLAIN };

	return c;
}

/* Prints one cell in w columns, padded unless it is the row's last. */
static void
out_table_cell(const struct out *o, FILE *f, const struct out_col *col,
    const struct out_cell *c, size_t w, bool last)
{
	size_t used = out_width(o, c->text, c->len, OUT_ONELINE, c->spans,
	    c->nspans);

	if (used > w)
		used = w;
	if (col->right)
		out_pad(f, w - used);
	if (c->style != OUT_PLAIN)
		out_style(o, f, c->style);
	used = out_text(o, f, c->text, c->len, w, OUT_ONELINE, c->spans,
	    c->nspans);
	if (c->style != OUT_PLAIN)
		out_style(o, f, OUT_PLAIN);
	if (!col->right && !last)
		out_pad(f, w > used ? w - used : 0);
}

void
out_table(const struct out *o, FILE *f, const struct out_col *cols,
    size_t ncols, const struct out_cell *cells, size_t nrows)
{
	size_t *w, c, r, n, fixed = 0;

	if (ncols == 0 || (w = calloc(ncols, sizeof *w)) == NULL)
		return;
	for (c = 0; c < ncols; c++) {
		w[c] = strlen(cols[c].title);
		for (r = 0; r < nrows; r++) {
			const struct out_cell *cell = &cells[r * ncols + c];
			n = out_width(o, cell->text, cell->len, OUT_ONELINE,
			    cell->spans, cell->nspans);
			if (n > w[c])
				w[c] = n;
		}
		if (cols[c].max != 0 && w[c] > cols[c].max)
			w[c] = cols[c].max;
		if (c + 1 < ncols)
			fixed += w[c] + OUT_GAP;
	}
	/* The last column takes what is left, but keeps a few columns. */
	if (fixed + w[ncols - 1] > o->width && w[ncols - 1] > OUT_MIN_LAST)
		w[ncols - 1] = o->width > fixed + OUT_MIN_LAST ?
		    o->width - fixed : OUT_MIN_LAST;
	out_style(o, f, OUT_BOLD);
	for (c = 0; c < ncols; c++) {
		struct out_cell t = out_cell_str(cols[c].title);

		out_table_cell(o, f, &cols[c], &t, w[c], c + 1 == ncols);
		if (c + 1 < ncols)
			out_pad(f, OUT_GAP);
	}
	out_style(o, f, OUT_PLAIN);
	fputc('\n', f);
	for (r = 0; r < nrows; r++) {
		/* Empty cells at the end of a row would only be trailing blanks. */
		for (n = ncols; n > 1; n--) {
			const struct out_cell *cell = &cells[r * ncols + n - 1];
			if (cell->text != NULL && cell->len > 0)
				break;
		}
		for (c = 0; c < n; c++) {
			out_table_cell(o, f, &cols[c], &cells[r * ncols + c],
			    w[c], c + 1 == n);
			if (c + 1 < n)
				out_pad(f, OUT_GAP);
		}
		fputc('\n', f);
	}
	free(w);
}

void
out_age(char *buf, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh", s / 3600);
	else
		snprintf(buf, size, "%lldd", s / 86400);
}

void
out_time(char *buf, size_t size, long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "?");
}
