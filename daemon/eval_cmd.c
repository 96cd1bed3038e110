/*
 * eval_cmd: `commentd --eval`, a policy run over past comments.
 *
 * One bad line must never stop a run over a corpus: it gets an error object
 * on its own output line, is counted, and the next line is read.  Every line
 * has a bound, so a corpus without newlines cannot take the memory.  Only the
 * engine decides here; nothing in this file may need Redis or a socket.
 */
#include "eval_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "errlist.h"
#include "eval.h"
#include "policy.h"
#include "verdict_json.h"

#define EVAL_CMD_TOP_RULES	10

/* A rule id and how many comments it fired on. */
struct eval_hits {
	const char	*id;	/* the rule's, or a copy in other_hits */
	uint64_t	 count;
	uint64_t	 last;	/* serial of the last comment counted */
};

/* One run: the policy, the reused evaluator state and the tallies. */
struct eval_run {
	const struct policy *p;
	FILE		*out;
	FILE		*err;
	struct eval_scratch *scratch;
	struct verdict	 v;
	struct json_writer w;	/* the current output line */

	unsigned long	 lineno;
	uint64_t	 nread;
	uint64_t	 ndecision[3];
	uint64_t	 nerrors;
	uint64_t	 eval_ns;

	/* One slot per policy rule, then the engine's own reasons by id. */
	struct eval_hits *rule_hits;
	struct eval_hits *other_hits;
	size_t		 nother;
};

/* Reads lines with a bound, so the buffer is allocated once. */
struct eval_reader {
	FILE		*f;
	char		*buf;
	size_t		 len;
	size_t		 max;
	bool		 started;
};

/* The monotonic clock in nanoseconds. */
static uint64_t
eval_cmd_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Reads the next line, without its line ending, into r->buf.  Returns 1 for
 * a line, 2 for a line over the bound (its rest is skipped), 0 at the end of
 * the input and -1 on a read error.
 */
static int
eval_reader_next(struct eval_reader *r)
{
	bool	too_long = false;
	int	ch;

	r->len = 0;
	while ((ch = getc_unlocked(r->f)) != EOF && ch != '\n') {
		if (r->len < r->max)
			r->buf[r->len++] = (char)ch;
		else
			too_long = true;
	}
	if (ch == EOF) {
		if (ferror(r->f))
			return -1;
		if (r->len == 0 && !too_long)
			return 0;
	}
	if (r->len > 0 && r->buf[r->len - 1] == '\r')
		r->len--;
	r->buf[r->len] = '\0';

	/* Editors on some systems start a UTF-8 file with a byte-order mark. */
	if (!r->started) {
		r->started = true;
		if (r->len >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0) {
			memmove(r->buf, r->buf + 3, r->len - 2);
			r->len -= 3;
		}
	}
	return too_long ? 2 : 1;
}

/* True if the line holds nothing but white space. */
static bool
eval_cmd_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	}
	return true;
}

/* Finds the first invalid UTF-8 byte; returns false with its offset. */
static bool
eval_cmd_utf8_valid(const char *s, size_t len, size_t *bad_at)
{
	const utf8proc_uint8_t	*u = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t	 cp;
	utf8proc_ssize_t	 n;
	size_t			 i = 0;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n < 1) {
			*bad_at = i;
			return false;
		}
		i += (size_t)n;
	}
	return true;
}

/* Writes the line in the run's writer to the output. */
static void
eval_cmd_emit(struct eval_run *run)
{
	if (run->w.failed) {
		/* Keep one output line per input line even without memory. */
		fputs("{\"error\": {\"code\": \"internal\", \"message\": "
		    "\"out of memory\"}}\n", run->out);
		return;
	}
	fwrite(run->w.buf, 1, run->w.len, run->out);
	fputc('\n', run->out);
}

/*
 * The id an output line names: a string as itself, an integer as JSON text,
 * and none as null, so that every line can be matched to its input.
 */
static void
eval_cmd_id(json_t *id, struct vj_id *vid, char *buf, size_t size)
{
	vid->json = true;
	if (id != NULL && json_is_string(id)) {
		vid->s = json_string_value(id);
		vid->len = json_string_length(id);
		vid->json = false;
	} else if (id != NULL && json_is_integer(id)) {
		vid->len = (size_t)snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(id));
		vid->s = buf;
	} else {
		vid->s = "null";
		vid->len = 4;
	}
}

/* Answers the current line with an error object and counts it. */
static void __attribute__((format(printf, 4, 5)))
eval_cmd_fail(struct eval_run *run, json_t *id, const char *code,
    const char *fmt, ...)
{
	struct vj_id	 vid;
	char		 msg[512], idbuf[32];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	run->nerrors++;
	eval_cmd_id(id, &vid, idbuf, sizeof idbuf);
	json_writer_reset(&run->w);
	verdict_json_write_error(&run->w, &vid, code, msg, NULL);
	eval_cmd_emit(run);
}

/* The hit counter for a reason: its rule's slot, or one for the engine's id. */
static struct eval_hits *
eval_cmd_hits(struct eval_run *run, const struct reason *r)
{
	const char		*id = r->id != NULL ? r->id : "(unnamed)";
	struct eval_hits	*h;

	if (r->rule != NULL && r->rule >= run->p->rules &&
	    r->rule < run->p->rules + run->p->nrules)
		return &run->rule_hits[r->rule - run->p->rules];
	for (size_t i = 0; i < run->nother; i++) {
		if (strcmp(run->other_hits[i].id, id) == 0)
			return &run->other_hits[i];
	}
	h = reallocarray(run->other_hits, run->nother + 1, sizeof *h);
	if (h == NULL)
		return NULL;
	run->other_hits = h;
	h = &h[run->nother];
	if ((h->id = strdup(id)) == NULL)
		return NULL;
	h->count = h->last = 0;
	run->nother++;
	return h;
}

/* Counts a verdict: its decision and each rule once per comment. */
static void
eval_cmd_tally(struct eval_run *run)
{
	struct eval_hits	*h;

	if ((unsigned)run->v.decision < 3)
		run->ndecision[run->v.decision]++;
	for (size_t i = 0; i < run->v.nreasons; i++) {
		h = eval_cmd_hits(run, &run->v.reasons[i]);
		if (h != NULL && h->last != run->nread) {
			h->last = run->nread;
			h->count++;
		}
	}
}

/* Checks that an optional member is a string; true if absent or a string. */
static bool
eval_cmd_optional_string(json_t *obj, const char *key, json_t **out)
{
	json_t	*j = json_object_get(obj, key);

	*out = NULL;
	if (j == NULL || json_is_null(j))
		return true;
	if (!json_is_string(j))
		return false;
	*out = j;
	return true;
}

/* Evaluates one line: a verdict or an error object on the output. */
static void
eval_cmd_line(struct eval_run *run, const char *line, size_t len)
{
	json_error_t	 jerr;
	json_t		*doc, *id, *body, *author, *name, *author_id;
	struct comment	 c;
	struct vj_id	 vid;
	char		 idbuf[32];
	char		*cause = NULL;
	uint64_t	 t0, t1;
	size_t		 bad_at;
	int		 rc;

	/* jansson would call this invalid JSON; the API calls it bad_utf8. */
	if (!eval_cmd_utf8_valid(line, len, &bad_at)) {
		eval_cmd_fail(run, NULL, VJ_BAD_UTF8,
		    "line %lu: invalid UTF-8 at byte %zu", run->lineno,
		    bad_at + 1);
		return;
	}
	doc = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    &jerr);
	if (doc == NULL) {
		eval_cmd_fail(run, NULL, VJ_INVALID_JSON,
		    "line %lu, column %d: %s", run->lineno, jerr.column,
		    jerr.text);
		return;
	}
	if (!json_is_object(doc)) {
		eval_cmd_fail(run, NULL, VJ_BAD_TYPE,
		    "line %lu: a comment must be a JSON object", run->lineno);
		goto out;
	}

	id = json_object_get(doc, "id");
	if (id != NULL && !json_is_string(id) && !json_is_integer(id) &&
	    !json_is_null(id)) {
		eval_cmd_fail(run, NULL, VJ_BAD_TYPE,
		    "line %lu: \"id\" must be a string", run->lineno);
		goto out;
	}
	if ((body = json_object_get(doc, "body")) == NULL) {
		eval_cmd_fail(run, id, VJ_MISSING_FIELD,
		    "line %lu: \"body\" is required", run->lineno);
		goto out;
	}
	if (!json_is_string(body)) {
		eval_cmd_fail(run, id, VJ_BAD_TYPE,
		    "line %lu: \"body\" must be a string", run->lineno);
		goto out;
	}
	name = NULL;
	author = json_object_get(doc, "author");
	if (author != NULL && !json_is_null(author)) {
		if (!json_is_object(author)) {
			eval_cmd_fail(run, id, VJ_BAD_TYPE,
			    "line %lu: \"author\" must be an object",
			    run->lineno);
			goto out;
		}
		if (!eval_cmd_optional_string(author, "name", &name) ||
		    !eval_cmd_optional_string(author, "id", &author_id)) {
			eval_cmd_fail(run, id, VJ_BAD_TYPE,
			    "line %lu: \"author.id\" and \"author.name\" must "
			    "be strings", run->lineno);
			goto out;
		}
	}

	memset(&c, 0, sizeof c);
	c.body = json_string_value(body);
	c.body_len = json_string_length(body);
	if (name != NULL) {
		c.author_name = json_string_value(name);
		c.author_name_len = json_string_length(name);
	}
	t0 = eval_cmd_now_ns();
	rc = eval_comment(run->p, &c, run->scratch, &run->v, &cause);
	t1 = eval_cmd_now_ns();
	run->eval_ns += t1 - t0;
	if (rc != 0) {
		eval_cmd_fail(run, id, VJ_BAD_UTF8, "line %lu: %s", run->lineno,
		    cause != NULL ? cause : "the comment could not be read");
		free(cause);
		goto out;
	}
	eval_cmd_tally(run);
	eval_cmd_id(id, &vid, idbuf, sizeof idbuf);
	json_writer_reset(&run->w);
	verdict_json_write(&run->w, &vid, &c, &run->v, run->p, 0,
	    (t1 - t0) / 1000);
	eval_cmd_emit(run);
out:
	json_decref(doc);
}

/* Orders hit counters by count, most first, then by id. */
static int
eval_cmd_hits_cmp(const void *a, const void *b)
{
	const struct eval_hits *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Prints the rules that fired most, with their share of the comments read. */
static void
eval_cmd_top_rules(struct eval_run *run)
{
	struct eval_hits	*all;
	size_t			 n = 0;

	all = calloc(run->p->nrules + run->nother + 1, sizeof *all);
	if (all == NULL)
		return;
	for (size_t i = 0; i < run->p->nrules; i++) {
		if (run->rule_hits[i].count > 0)
			all[n++] = run->rule_hits[i];
	}
	for (size_t i = 0; i < run->nother; i++) {
		if (run->other_hits[i].count > 0)
			all[n++] = run->other_hits[i];
	}
	qsort(all, n, sizeof *all, eval_cmd_hits_cmp);
	if (n == 0)
		fprintf(run->err, "  %-14s none fired\n", "top rules");
	else
		fprintf(run->err, "  %-14s the comments each fired on:\n",
		    "top rules");
	for (size_t i = 0; i < n && i < EVAL_CMD_TOP_RULES; i++) {
		fprintf(run->err, "  %-14s %8llu  %5.1f%%  %s\n", "",
		    (unsigned long long)all[i].count,
		    100.0 * (double)all[i].count / (double)run->nread,
		    all[i].id);
	}
	if (n > EVAL_CMD_TOP_RULES)
		fprintf(run->err, "  %-14s (and %zu more rules)\n", "",
		    n - EVAL_CMD_TOP_RULES);
	free(all);
}

/* Prints one decision's count with its share. */
static void
eval_cmd_count(struct eval_run *run, const char *label, uint64_t n)
{
	double	share = 0;

	if (run->nread > 0)
		share = 100.0 * (double)n / (double)run->nread;

	fprintf(run->err, "  %-14s %8llu  %5.1f%%\n", label,
	    (unsigned long long)n, share);
}

/* The summary on the error stream: counts, rules, speed, what was skipped. */
static void
eval_cmd_summary(struct eval_run *run, uint64_t wall_ns)
{
	const struct policy	*p = run->p;
	uint64_t		 evaluated;
	double			 wall_s, eval_s;

	evaluated = run->ndecision[DECISION_ACCEPT] +
	    run->ndecision[DECISION_QUEUE] + run->ndecision[DECISION_REJECT];
	wall_s = (double)wall_ns / 1e9;
	eval_s = (double)run->eval_ns / 1e9;

	fprintf(run->err, "commentd --eval: policy %s (version %s, %s)\n",
	    p->name != NULL ? p->name : "?",
	    p->version != NULL ? p->version : "?", p->digest);
	fprintf(run->err, "  %-14s %8llu\n", "comments read",
	    (unsigned long long)run->nread);
	eval_cmd_count(run, "accept", run->ndecision[DECISION_ACCEPT]);
	eval_cmd_count(run, "queue", run->ndecision[DECISION_QUEUE]);
	eval_cmd_count(run, "reject", run->ndecision[DECISION_REJECT]);
	eval_cmd_count(run, "errors", run->nerrors);
	if (evaluated > 0)
		eval_cmd_top_rules(run);
	fprintf(run->err, "  %-14s %8.0f comments/s end to end (%.3f s, JSON "
	    "included)\n", "throughput",
	    wall_s > 0 ? (double)run->nread / wall_s : 0.0, wall_s);
	fprintf(run->err, "  %-14s %8.0f comments/s in the engine alone\n", "",
	    eval_s > 0 ? (double)evaluated / eval_s : 0.0);
	fprintf(run->err, "  %-14s rate limits (%zu in this policy), "
	    "duplicates and new-commenter rules:\n  %-14s they need Redis, "
	    "and --eval runs without it\n", "skipped", p->nrate_limits, "");
}

/* Runs every line of the reader through the policy. */
static int
eval_cmd_loop(struct eval_run *run, struct eval_reader *rd, const char *name)
{
	int	rc;

	while ((rc = eval_reader_next(rd)) > 0) {
		run->lineno++;
		if (rc == 1 && eval_cmd_blank(rd->buf, rd->len))
			continue;
		run->nread++;
		if (rc == 2) {
			eval_cmd_fail(run, NULL, VJ_TOO_LARGE,
			    "line %lu: longer than %zu bytes", run->lineno,
			    rd->max);
			continue;
		}
		eval_cmd_line(run, rd->buf, rd->len);
	}
	if (rc < 0) {
		fprintf(run->err, "commentd: reading %s: %s\n", name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Loads the policy, judges every line and prints the summary. */
int
eval_cmd_run(const char *policy_path, const char *input, FILE *out, FILE *err)
{
	struct policy		*p = NULL;
	struct errlist		 errs;
	struct eval_run		 run;
	struct eval_reader	 rd;
	const char		*name;
	uint64_t		 start;
	int			 status = 1;

	memset(&run, 0, sizeof run);
	memset(&rd, 0, sizeof rd);

	errlist_init(&errs);
	if (policy_load(policy_path, &p, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(err, "%s\n", errs.msgs[i]);
		fprintf(err, "commentd: %s: the policy did not load\n",
		    policy_path);
		errlist_free(&errs);
		return 1;
	}
	errlist_free(&errs);
	verdict_init(&run.v);
	json_writer_init(&run.w);

	if (input == NULL || strcmp(input, "-") == 0) {
		name = "standard input";
		rd.f = stdin;
		if (isatty(STDIN_FILENO))
			fprintf(err, "commentd: reading JSON Lines from the "
			    "terminal; end with ^D\n");
	} else {
		name = input;
		if ((rd.f = fopen(input, "r")) == NULL) {
			fprintf(err, "commentd: %s: %s\n", input,
			    strerror(errno));
			goto out;
		}
	}

	run.p = p;
	run.out = out;
	run.err = err;
	rd.max = EVAL_CMD_MAX_LINE;
	if ((rd.buf = malloc(rd.max + 1)) == NULL ||
	    (run.scratch = eval_scratch_new()) == NULL ||
	    (run.rule_hits = calloc(p->nrules + 1,
	    sizeof *run.rule_hits)) == NULL) {
		fprintf(err, "commentd: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < p->nrules; i++)
		run.rule_hits[i].id = p->rules[i].id;

	start = eval_cmd_now_ns();
	if (eval_cmd_loop(&run, &rd, name) == 0)
		status = run.nerrors > 0 ? 1 : 0;
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(err, "commentd: writing the verdicts: %s\n",
		    strerror(errno));
		status = 1;
	}
	eval_cmd_summary(&run, eval_cmd_now_ns() - start);

out:
	if (rd.f != NULL && rd.f != stdin)
		fclose(rd.f);
	free(rd.buf);
	free(run.rule_hits);
	for (size_t i = 0; i < run.nother; i++)
		free((char *)run.other_hits[i].id);
	free(run.other_hits);
	eval_scratch_free(run.scratch);
	verdict_free(&run.v);
	json_writer_free(&run.w);
	policy_free(p);
	return status;
}
