/*
 * bench_engine: how many comments per second the engine decides on one core.
 *
 * Reads a JSON Lines file of comments ({"id", "body", "author": {"id",
 * "name"}}, other fields ignored: tests/tools/olid_to_jsonl.py writes one),
 * parses all of it up front, then evaluates every comment over and over for
 * at least the given time and reports the rate.  Only eval_comment() is
 * timed: no JSON, no I/O, no allocation of inputs, so the figure is the
 * engine's own cost, the number issue 9 sets targets for.  It is a
 * benchmark, never a timed test: a busy machine makes it slow, not wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "errlist.h"
#include "eval.h"
#include "policy.h"

#ifndef BENCH_DEFAULT_POLICY
#define BENCH_DEFAULT_POLICY "policies/default.yaml"
#endif

/* One comment, pointing into the corpus arena. */
struct bench_comment {
	size_t	body_off, body_len;
	size_t	name_off, name_len;
	int	has_name;
};

/* Every comment's text packed in one arena, so the loop reads memory in order. */
struct corpus {
	struct bench_comment	*c;
	size_t			 n, cap;
	char			*arena;
	size_t			 used, size;
	size_t			 body_bytes;
};

/* Hits per rule id in the census pass. */
struct rule_count {
	const char	*id;
	size_t		 n;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: bench_engine [-c cpu] [-n passes] [-p policy] "
	    "[-s seconds] {-i comments.jsonl | comments.jsonl}\n");
	exit(2);
}

static void
fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	fputs("bench_engine: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		fatalx("out of memory");
	return p;
}

/* Copies len bytes into the arena and returns their offset. */
static size_t
corpus_store(struct corpus *cp, const char *s, size_t len)
{
	size_t	off;

	while (cp->size - cp->used < len + 1) {
		cp->size = cp->size ? cp->size * 2 : 1 << 20;
		cp->arena = xrealloc(cp->arena, cp->size);
	}
	off = cp->used;
	memcpy(cp->arena + off, s, len);
	cp->arena[off + len] = '\0';
	cp->used += len + 1;
	return off;
}

/* Reads the JSON Lines file; any line that is not a comment is fatal. */
static void
corpus_read(struct corpus *cp, const char *path)
{
	FILE			*f;
	char			*line = NULL;
	size_t			 linecap = 0, lineno = 0;
	ssize_t			 linelen;
	json_t			*j, *body, *author, *name;
	json_error_t		 jerr;
	struct bench_comment	*bc;

	if ((f = fopen(path, "r")) == NULL)
		fatalx("%s: %s", path, strerror(errno));
	while ((linelen = getline(&line, &linecap, f)) != -1) {
		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)linelen)
			continue;
		j = json_loadb(line, linelen, JSON_ALLOW_NUL, &jerr);
		if (j == NULL)
			fatalx("%s:%zu: %s", path, lineno, jerr.text);
		body = json_object_get(j, "body");
		if (!json_is_string(body))
			fatalx("%s:%zu: no string \"body\"", path, lineno);
		if (cp->n == cp->cap) {
			cp->cap = cp->cap ? cp->cap * 2 : 1024;
			cp->c = xrealloc(cp->c, cp->cap * sizeof *cp->c);
		}
		bc = &cp->c[cp->n++];
		memset(bc, 0, sizeof *bc);
		bc->body_len = json_string_length(body);
		bc->body_off = corpus_store(cp, json_string_value(body),
		    bc->body_len);
		cp->body_bytes += bc->body_len;
		author = json_object_get(j, "author");
		name = json_is_object(author) ?
		    json_object_get(author, "name") : NULL;
		if (json_is_string(name)) {
			bc->has_name = 1;
			bc->name_len = json_string_length(name);
			bc->name_off = corpus_store(cp, json_string_value(name),
			    bc->name_len);
		}
		json_decref(j);
	}
	if (ferror(f))
		fatalx("%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	if (cp->n == 0)
		fatalx("%s: no comments", path);
}

/* The comment as the engine takes it; the arena no longer moves. */
static void
corpus_comment(const struct corpus *cp, size_t i, struct comment *c)
{
	const struct bench_comment	*bc = &cp->c[i];

	c->body = cp->arena + bc->body_off;
	c->body_len = bc->body_len;
	c->author_name = bc->has_name ? cp->arena + bc->name_off : NULL;
	c->author_name_len = bc->name_len;
}

static double
now_s(clockid_t clock)
{
	struct timespec	ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
rule_count_cmp(const void *a, const void *b)
{
	const struct rule_count	*x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->id, y->id);
}

/*
 * One untimed pass: what the policy decides on this corpus, so a figure is
 * never quoted without knowing whether the engine did real work (a policy
 * that refuses everything at the length check would be fast and useless).
 */
static void
census(const struct policy *p, const struct corpus *cp,
    struct eval_scratch *scratch)
{
	struct comment		 c;
	struct verdict		 v;
	struct rule_count	*rc = NULL;
	size_t			 nrc = 0, i, j, k;
	size_t			 count[3] = { 0, 0, 0 }, invalid = 0, limit = 0;
	char			*cause;

	verdict_init(&v);
	for (i = 0; i < cp->n; i++) {
		corpus_comment(cp, i, &c);
		cause = NULL;
		if (eval_comment(p, &c, scratch, &v, &cause) != 0) {
			invalid++;
			free(cause);
			continue;
		}
		count[v.decision]++;
		if (v.limit_hit)
			limit++;
		for (j = 0; j < v.nreasons; j++) {
			for (k = 0; k < nrc; k++)
				if (strcmp(rc[k].id, v.reasons[j].id) == 0)
					break;
			if (k == nrc) {
				rc = xrealloc(rc, (nrc + 1) * sizeof *rc);
				rc[nrc].id = v.reasons[j].id;
				rc[nrc++].n = 0;
			}
			rc[k].n++;
		}
	}
	verdict_free(&v);

	printf("decisions   accept %zu, queue %zu, reject %zu, invalid UTF-8 %zu,"
	    " limit hit %zu\n", count[DECISION_ACCEPT], count[DECISION_QUEUE],
	    count[DECISION_REJECT], invalid, limit);
	qsort(rc, nrc, sizeof *rc, rule_count_cmp);
	printf("top rules  ");
	for (k = 0; k < nrc && k < 8; k++)
		printf(" %s %zu%s", rc[k].id, rc[k].n, k + 1 < nrc && k < 7 ?
		    "," : "");
	printf("%s\n", nrc == 0 ? " (none matched)" : "");
	free(rc);
}

int
main(int argc, char **argv)
{
	const char		*policy_path = BENCH_DEFAULT_POLICY;
	const char		*input = NULL;
	struct policy		*p = NULL;
	struct errlist		 errs;
	struct corpus		 cp;
	struct eval_scratch	*scratch;
	struct comment		 c;
	struct verdict		 v;
	double			 seconds = 3, t0, t1, c0, c1, wall, cpu, load;
	long long		 passes = 0, want_passes = 0;
	size_t			 i, evals = 0;
	unsigned long		 sink = 0;
	int			 ch, cpu_pin = -1;
	char			*cause, *end;
	cpu_set_t		 set;

	while ((ch = getopt(argc, argv, "c:i:n:p:s:")) != -1) {
		switch (ch) {
		case 'c':
			cpu_pin = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || cpu_pin < 0)
				usage();
			break;
		case 'i':
			input = optarg;
			break;
		case 'n':
			want_passes = strtoll(optarg, &end, 10);
			if (*end != '\0' || want_passes < 1)
				usage();
			break;
		case 'p':
			policy_path = optarg;
			break;
		case 's':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || !(seconds > 0))
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 1 && input == NULL)
		input = argv[0];
	else if (argc != 0 || input == NULL)
		usage();

	/* Loading is timed too: issue 9 bounds a reload of a large policy. */
	errlist_init(&errs);
	load = now_s(CLOCK_MONOTONIC);
	if (policy_load(policy_path, &p, &errs) != 0) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fatalx("%s: policy did not load", policy_path);
	}
	load = now_s(CLOCK_MONOTONIC) - load;
	errlist_free(&errs);

	memset(&cp, 0, sizeof cp);
	corpus_read(&cp, input);
	if ((scratch = eval_scratch_new()) == NULL)
		fatalx("eval_scratch_new failed");

	/* Stay on one core, so the figure is per core and caches stay warm. */
	if (cpu_pin >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu_pin, &set);
		if (sched_setaffinity(0, sizeof set, &set) == -1)
			fatalx("cpu %d: %s", cpu_pin, strerror(errno));
	}

	printf("policy      %s (%s): %zu rules: %zu word lists, %zu regexes,"
	    " %zu checks; loaded in %.0f ms\n", p->name, policy_path,
	    p->nrules, p->nwordlists, p->nregexes, p->nchecks, load * 1e3);
	printf("input       %s: %zu comments, mean body %.1f bytes\n", input,
	    cp.n, (double)cp.body_bytes / cp.n);
	census(p, &cp, scratch);	/* also warms caches and the scratch */

	/*
	 * The clock is read once per pass over the corpus, not per comment,
	 * so reading it costs nothing measurable.
	 */
	verdict_init(&v);
	t0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	do {
		for (i = 0; i < cp.n; i++) {
			corpus_comment(&cp, i, &c);
			cause = NULL;
			if (eval_comment(p, &c, scratch, &v, &cause) != 0)
				free(cause);
			else
				sink += v.decision + v.nreasons;
		}
		evals += cp.n;
		passes++;
		t1 = now_s(CLOCK_MONOTONIC);
	} while (want_passes ? passes < want_passes : t1 - t0 < seconds);
	c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	verdict_free(&v);
	wall = t1 - t0;
	cpu = c1 - c0;

	printf("run         %lld passes, %zu evaluations in %.3f s wall,"
	    " %.3f s cpu%s\n", passes, evals, wall, cpu,
	    cpu_pin >= 0 ? "" : " (not pinned)");
	if (cpu < 0.95 * wall)
		printf("warning     the process had the CPU %.0f%% of the time:"
		    " the machine is busy, the rate is low\n",
		    100 * cpu / wall);
	printf("throughput  %.0f comments/s, %.0f ns per comment,"
	    " %.1f MB/s of body text\n", evals / wall, wall * 1e9 / evals,
	    (double)cp.body_bytes * passes / wall / 1e6);
	/* One line for scripts; sink keeps the loop's work observable. */
	printf("result comments_per_s=%.0f ns_per_comment=%.0f"
	    " mean_body_bytes=%.1f comments=%zu seconds=%.3f sink=%lu\n",
	    evals / wall, wall * 1e9 / evals, (double)cp.body_bytes / cp.n,
	    cp.n, wall, sink);

	eval_scratch_free(scratch);
	policy_free(p);
	free(cp.c);
	free(cp.arena);
	return 0;
}
