/*
 * cmd_queue: `commentctl queue` (the pending comments, oldest first) and
 * `commentctl show ID` (one comment whole), and the view of one comment that
 * `review` shares.  They only read: nothing here may decide or claim.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define QUEUE_CONTEXT	32	/* bytes shown each side of a match */

/* "u-7 (Ben)": an author's id and, when there is one, name. */
static void
queue_author(json_t *author, char *buf, size_t size)
{
	const char *id = ctl_str(author, "id", ""), *name;

	name = ctl_str(author, "name", "");
	if (name[0] != '\0')
		snprintf(buf, size, "%s (%s)", id, name);
	else
		snprintf(buf, size, "%s", id);
}

/* The rules an item's reasons name, joined with commas. */
static void
queue_rules(json_t *item, char *buf, size_t size)
{
	json_t *r;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(item, "rules"), i, r) {
		if (!json_is_string(r) || n >= size)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i > 0 ? "," :
		    "", json_string_value(r));
	}
}

/* The row of one pending comment: id, age, author, rules, excerpt. */
struct queue_row {
	char		 age[16];
	char		 author[300];
	char		 rules[512];
	struct out_span	*spans;
	size_t		 nspans;
};

int
cmd_queue(struct ctl *ctl)
{
	struct ctl_url u;
	struct queue_row *rows;
	struct out_cell *cells;
	static const struct out_col cols[] = {
		{ "ID", 24, false }, { "AGE", 0, true }, { "AUTHOR", 24, false },
		{ "RULES", 32, false }, { "TEXT", 0, false },
	};
	json_t *a, *items, *item;
	size_t i, n;

	ctl_url_init(&u, "/v1/admin/queue");
	ctl_url_param(&u, "site", ctl->site);
	ctl_url_param(&u, "rule", ctl->rule);
	if (ctl->limit != 0)
		ctl_url_uint(&u, "limit", ctl->limit);
	if (ctl_call(ctl, NULL, "GET", &u, NULL, &a) == -1)
		return CTL_EXIT_FAIL;
	if (ctl->json) {
		ctl_print_json(a);
		json_decref(a);
		return CTL_EXIT_OK;
	}
	items = json_object_get(a, "items");
	n = json_array_size(items);
	if (n == 0) {
		printf("Nothing is waiting on %s%s%s.\n", ctl_str(a, "site", "?"),
		    ctl->rule != NULL ? " for rule " : "",
		    ctl->rule != NULL ? ctl->rule : "");
		json_decref(a);
		return CTL_EXIT_OK;
	}
	rows = calloc(n, sizeof *rows);
	cells = calloc(n * 5, sizeof *cells);
	if (rows == NULL || cells == NULL) {
		free(rows);
		free(cells);
		json_decref(a);
		return ctl_fail(ctl, "out of memory");
	}
	json_array_foreach(items, i, item) {
		struct queue_row *r = &rows[i];
		struct out_cell *c = &cells[i * 5];

		out_age(r->age, sizeof r->age, ctl_int(item, "age_s", 0));
		queue_author(json_object_get(item, "author"), r->author,
		    sizeof r->author);
		queue_rules(item, r->rules, sizeof r->rules);
		r->spans = ctl_spans(json_object_get(item, "reasons"), "body",
		    &r->nspans);
		c[0] = out_cell_str(ctl_str(item, "id", ""));
		c[0].style = OUT_BOLD;
		c[1] = out_cell_str(r->age);
		c[2] = out_cell_str(r->author);
		c[3] = out_cell_str(r->rules);
		c[4] = out_cell_str(ctl_str(item, "excerpt", ""));
		c[4].spans = r->spans;
		c[4].nspans = r->nspans;
	}
	out_table(&ctl->out, stdout, cols, 5, cells, n);
	printf("%zu of %lld pending on %s, oldest first%s\n", n,
	    ctl_int(a, "depth", 0), ctl_str(a, "site", "?"),
	    json_is_true(json_object_get(a, "more")) ? "; more with --limit" :
	    "");
	for (i = 0; i < n; i++)
		free(rows[i].spans);
	free(rows);
	free(cells);
	json_decref(a);
	return CTL_EXIT_OK;
}

/*
 * Prints text line by line, each indented, with the spans that fall in it
 * highlighted (spans are byte ranges of the whole text).
 */
static void
queue_block(const struct ctl *ctl, const char *text, size_t len,
    const struct out_span *spans, size_t nspans, const char *indent)
{
	struct out_span *local = NULL;
	const char *nl;
	size_t start = 0, end, k, i;

	if (nspans > 0 && (local = calloc(nspans, sizeof *local)) == NULL)
		nspans = 0;
	while (start <= len) {
		nl = memchr(text + start, '\n', len - start);
		end = nl != NULL ? (size_t)(nl - text) : len;
		/* Each span, cut to this line and made relative to it. */
		for (i = k = 0; i < nspans; i++) {
			if (spans[i].end <= start || spans[i].start >= end)
				continue;
			local[k].start = spans[i].start > start ?
			    spans[i].start - start : 0;
			local[k].end = (spans[i].end < end ? spans[i].end :
			    end) - start;
			k++;
		}
		fputs(indent, stdout);
		out_text(&ctl->out, stdout, text + start, end - start, 0, 0,
		    local, k);
		fputc('\n', stdout);
		if (nl == NULL)
			break;
		start = end + 1;
	}
	free(local);
}

/*
 * Where context of about n bytes before off starts: at a word when there
 * is a space to start after, else on a character's first byte.
 */
static size_t
queue_back(const char *s, size_t off, size_t n)
{
	size_t at = off > n ? off - n : 0, w;

	for (w = at; at > 0 && w < off; w++)
		if (s[w] == ' ')
			return w + 1;
	while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at;
}

/* Where context of about n bytes after off ends: the same, forwards. */
static size_t
queue_on(const char *s, size_t len, size_t off, size_t n)
{
	size_t at = len - off > n ? off + n : len, w;

	for (w = at; at < len && w > off; w--)
		if (s[w - 1] == ' ')
			return w - 1;
	while (at < len && ((unsigned char)s[at] & 0xc0) == 0x80)
		at++;
	return at;
}

void
cmd_show_reason(const struct ctl *ctl, json_t *item, json_t *r)
{
	const char *field = ctl_str(r, "field", "body"), *text, *norm;
	json_t *span = json_object_get(r, "span");
	struct out_span s;
	size_t len, from, to;

	if (strcmp(field, "author.name") == 0)
		text = ctl_str(json_object_get(item, "author"), "name", "");
	else
		text = ctl_str(item, "body", ctl_str(item, "excerpt", ""));
	len = strlen(text);
	printf("  ");
	out_style(&ctl->out, stdout, OUT_BOLD);
	fputs(ctl_str(r, "rule", "?"), stdout);
	out_style(&ctl->out, stdout, OUT_PLAIN);
	printf("  %s, ", ctl_str(r, "category", "?"));
	out_style(&ctl->out, stdout, out_decision_style(ctl_str(r, "action",
	    NULL)));
	fputs(ctl_str(r, "action", "?"), stdout);
	out_style(&ctl->out, stdout, OUT_PLAIN);
	fputs("\n    ", stdout);
	out_text(&ctl->out, stdout, ctl_str(r, "message", ""),
	    strlen(ctl_str(r, "message", "")), 0, OUT_ONELINE, NULL, 0);
	fputc('\n', stdout);
	s.start = (size_t)json_integer_value(json_array_get(span, 0));
	s.end = (size_t)json_integer_value(json_array_get(span, 1));
	if (s.end <= s.start || s.end > len)
		return;
	from = queue_back(text, s.start, QUEUE_CONTEXT);
	to = queue_on(text, len, s.end, QUEUE_CONTEXT);
	s.start -= from;
	s.end -= from;
	printf("    %s%s", field[0] == 'a' ? "name: " : "", from > 0 ? "…" :
	    "");
	out_text(&ctl->out, stdout, text + from, to - from, 0, OUT_ONELINE,
	    &s, 1);
	printf("%s\n", to < len ? "…" : "");
	if ((norm = ctl_str(r, "normalized", NULL)) != NULL) {
		printf("    normalised: ");
		out_text(&ctl->out, stdout, norm, strlen(norm), 0, OUT_ONELINE,
		    NULL, 0);
		printf("\n");
	}
}

void
cmd_show_item(struct ctl *ctl, json_t *item)
{
	json_t *author = json_object_get(item, "author");
	json_t *claim = json_object_get(item, "claim");
	json_t *reasons = json_object_get(item, "reasons"), *r;
	const char *body = ctl_str(item, "body", ctl_str(item, "excerpt", ""));
	struct out_span *spans;
	char age[16], when[32], who[300];
	size_t i, n;

	out_age(age, sizeof age, ctl_int(item, "age_s", 0));
	out_time(when, sizeof when, ctl_int(item, "at_ms", 0));
	out_style(&ctl->out, stdout, OUT_BOLD);
	out_text(&ctl->out, stdout, ctl_str(item, "id", "?"),
	    strlen(ctl_str(item, "id", "?")), 0, OUT_ONELINE, NULL, 0);
	out_style(&ctl->out, stdout, OUT_PLAIN);
	printf("  queued %s ago (%s)\n", age, when);
	if (ctl_str(item, "thread", "")[0] != '\0')
		printf("thread   %s\n", ctl_str(item, "thread", ""));
	queue_author(author, who, sizeof who);
	printf("author   ");
	out_text(&ctl->out, stdout, who, strlen(who), 0, OUT_ONELINE, NULL, 0);
	if (ctl_str(author, "ip", "")[0] != '\0')
		printf(", ip %s", ctl_str(author, "ip", ""));
	printf("\n");
	if (json_is_object(json_object_get(author, "record"))) {
		printf("record   ");
		cmd_author_record(json_object_get(author, "record"));
	}
	printf("verdict  ");
	out_style(&ctl->out, stdout, out_decision_style(ctl_str(item,
	    "decision", NULL)));
	fputs(ctl_str(item, "decision", "?"), stdout);
	out_style(&ctl->out, stdout, OUT_PLAIN);
	printf(", score %lld", ctl_int(item, "score", 0));
	if (json_is_object(json_object_get(item, "policy")))
		printf(", by %s", ctl_str(json_object_get(item, "policy"),
		    "name", "?"));
	if (ctl_str(item, "via", "")[0] != '\0')
		printf(", stored via %s", ctl_str(item, "via", ""));
	printf("\n");
	if (json_is_object(claim) && json_object_get(claim, "idle_ms") != NULL)
		printf("claim    %s, idle %llds, delivered %lld time%s\n",
		    ctl_str(claim, "moderator", "?"), ctl_int(claim, "idle_ms",
		    0) / 1000, ctl_int(claim, "deliveries", 0),
		    ctl_int(claim, "deliveries", 0) == 1 ? "" : "s");
	else if (json_is_object(claim))
		printf("claim    yours%s\n", json_is_true(json_object_get(claim,
		    "reclaimed")) ? " (taken back from a moderator who left)" :
		    "");
	else if (json_is_null(claim))
		printf("claim    none\n");
	printf("\n");
	spans = ctl_spans(reasons, "body", &n);
	queue_block(ctl, body, strlen(body), spans, n, "  ");
	free(spans);
	if (json_is_true(json_object_get(item, "excerpt_truncated")) &&
	    json_object_get(item, "body") == NULL)
		printf("  …\n");
	printf("\nreasons\n");
	json_array_foreach(reasons, i, r)
		cmd_show_reason(ctl, item, r);
}

int
cmd_show(struct ctl *ctl)
{
	struct ctl_url u;
	char what[CTL_ID_MAX + 16];
	json_t *a;

	ctl_url_init(&u, "/v1/admin/queue/");
	ctl_url_seg(&u, ctl->argv[0]);
	ctl_url_param(&u, "site", ctl->site);
	snprintf(what, sizeof what, "%.*s", CTL_ID_MAX + 8, ctl->argv[0]);
	if (ctl_call(ctl, what, "GET", &u, NULL, &a) == -1)
		return CTL_EXIT_FAIL;
	if (!json_is_object(json_object_get(a, "item"))) {
		json_decref(a);
		return ctl_fail(ctl, "%s: the daemon's answer has no item",
		    what);
	}
	if (ctl->json)
		ctl_print_json(a);
	else
		cmd_show_item(ctl, json_object_get(a, "item"));
	json_decref(a);
	return CTL_EXIT_OK;
}
