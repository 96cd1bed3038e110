/*
 * The metrics registry and its /metrics page: counts under the right
 * labels, escaping, histogram bucket boundaries, the bounds on label sets,
 * and a line validator that the whole page must pass (itself tested on
 * broken pages, so a validator that accepts anything would fail here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

#define START_TIME	1700000000

/* Renders m into a string the caller frees. */
static char *
render(const struct metrics *m)
{
	struct metrics_buf b;

	metrics_buf_init(&b);
	assert_int_equal(metrics_render(m, &b), 0);
	assert_non_null(b.data);
	assert_int_equal(strlen(b.data), b.len);
	return b.data;
}

/* Whether the page holds exactly this line. */
static int
has_line(const char *page, const char *line)
{
	size_t n = strlen(line);
	const char *p = page;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == page || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

/* Counts the lines starting with prefix. */
static size_t
count_lines(const char *page, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	const char *p = page;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, len) == 0)
			n++;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return n;
}

/* Asserts that the page holds a line, printing the page if not. */
#define assert_line(page, line) do {					\
	if (!has_line((page), (line)))					\
		fail_msg("missing line: %s\n--- page ---\n%s", (line), (page)); \
} while (0)

/*
 * The exposition format validator: a second, independent reading of the
 * format, written from the spec rather than from metrics_buf.c.
 */

/* A family as its TYPE line declared it. */
struct family {
	char	 name[128];
	char	 type[16];
	int	 done;		/* another family's samples came after */
};

/* What the validator has seen so far. */
struct vstate {
	struct family	 fam[64];
	size_t		 nfam;
	int		 current;	/* family of the last sample, or -1 */
	char		**series;
	size_t		 nseries, capseries;
};

/* Whether s is a metric name (colon allowed) or a label name. */
static int
is_name(const char *s, size_t n, int colon)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (colon && c == ':'))
			continue;
		if (i > 0 && c >= '0' && c <= '9')
			continue;
		return 0;
	}
	return 1;
}

/* The family declared by a TYPE line of that name, or NULL. */
static struct family *
find_family(struct vstate *v, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < v->nfam; i++)
		if (strlen(v->fam[i].name) == n &&
		    strncmp(v->fam[i].name, name, n) == 0)
			return &v->fam[i];
	return NULL;
}

/* The family a sample name belongs to, histogram suffixes included. */
static struct family *
sample_family(struct vstate *v, const char *name, size_t n, const char **suffix)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	struct family *f;
	size_t i, sl;

	*suffix = "";
	if ((f = find_family(v, name, n)) != NULL)
		return f;
	for (i = 0; i < 3; i++) {
		sl = strlen(sfx[i]);
		if (n > sl && strncmp(name + n - sl, sfx[i], sl) == 0 &&
		    (f = find_family(v, name, n - sl)) != NULL &&
		    (strcmp(f->type, "histogram") == 0 ||
		    (i > 0 && strcmp(f->type, "summary") == 0))) {
			*suffix = sfx[i];
			return f;
		}
	}
	return NULL;
}

/* Whether s is a sample value: a float, +Inf, -Inf or NaN. */
static int
is_value(const char *s, size_t n)
{
	char buf[64], *end;

	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "-Inf") == 0 ||
	    strcmp(buf, "NaN") == 0)
		return 1;
	/* strtod would take "inf", "0x1p3" and leading blanks: refuse them */
	if (strspn(buf, "0123456789.eE+-") != n)
		return 0;
	(void)strtod(buf, &end);
	return *end == '\0';
}

/* A comment line: HELP and TYPE are checked, others ignored. */
static const char *
check_comment(struct vstate *v, const char *line, size_t n)
{
	static const char *const types[] = {
		"counter", "gauge", "histogram", "summary", "untyped"
	};
	const char *name, *sp, *end = line + n;
	struct family *f;
	size_t i, tl;

	if (n >= 7 && strncmp(line, "# HELP ", 7) == 0) {
		name = line + 7;
		sp = memchr(name, ' ', (size_t)(end - name));
		if (sp == NULL || !is_name(name, (size_t)(sp - name), 1))
			return "bad HELP line";
		return NULL;
	}
	if (n < 7 || strncmp(line, "# TYPE ", 7) != 0)
		return NULL;
	name = line + 7;
	sp = memchr(name, ' ', (size_t)(end - name));
	if (sp == NULL || !is_name(name, (size_t)(sp - name), 1) ||
	    (size_t)(sp - name) >= sizeof v->fam[0].name)
		return "bad TYPE line";
	tl = (size_t)(end - sp - 1);
	for (i = 0; i < 5; i++)
		if (strlen(types[i]) == tl && strncmp(sp + 1, types[i], tl) == 0)
			break;
	if (i == 5)
		return "unknown type";
	if (find_family(v, name, (size_t)(sp - name)) != NULL)
		return "second TYPE line for a family";
	if (v->nfam == 64)
		return "too many families for the validator";
	f = &v->fam[v->nfam++];
	memcpy(f->name, name, (size_t)(sp - name));
	f->name[sp - name] = '\0';
	memcpy(f->type, sp + 1, tl);
	f->type[tl] = '\0';
	return NULL;
}

/* Parses {name="value",...} at *pp, moving past it. */
static const char *
check_labels(const char **pp, const char *end, int *has_le)
{
	const char *p = *pp, *name;
	char seen[8][64];
	size_t nseen = 0, i;

	*has_le = 0;
	p++;	/* '{' */
	while (p < end && *p != '}') {
		name = p;
		while (p < end && *p != '=')
			p++;
		if (p == end || !is_name(name, (size_t)(p - name), 0))
			return "bad label name";
		if ((size_t)(p - name) == 2 && strncmp(name, "le", 2) == 0)
			*has_le = 1;
		for (i = 0; i < nseen; i++)
			if (strlen(seen[i]) == (size_t)(p - name) &&
			    strncmp(seen[i], name, (size_t)(p - name)) == 0)
				return "label given twice";
		if (nseen < 8 && (size_t)(p - name) < 64) {
			memcpy(seen[nseen], name, (size_t)(p - name));
			seen[nseen++][p - name] = '\0';
		}
		if (++p == end || *p != '"')
			return "label value not quoted";
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\n')
				return "raw newline in label value";
			if (*p != '\\')
				continue;
			if (++p == end || (*p != '\\' && *p != '"' && *p != 'n'))
				return "bad escape in label value";
		}
		if (p == end)
			return "unterminated label value";
		p++;
		if (p < end && *p == ',')
			p++;
		else if (p < end && *p != '}')
			return "labels not separated by a comma";
	}
	if (p == end)
		return "unterminated label set";
	*pp = p + 1;
	return NULL;
}

/* A sample line: name{labels} value [timestamp]. */
static const char *
check_sample(struct vstate *v, const char *line, size_t n)
{
	const char *p = line, *end = line + n, *err, *val, *suffix;
	struct family *f;
	size_t nlen;
	int has_le = 0, idx;

	while (p < end && *p != '{' && *p != ' ')
		p++;
	nlen = (size_t)(p - line);
	if (!is_name(line, nlen, 1))
		return "bad metric name";
	if ((f = sample_family(v, line, nlen, &suffix)) == NULL)
		return "sample before its TYPE line";
	if (p < end && *p == '{' && (err = check_labels(&p, end, &has_le)))
		return err;
	if (strcmp(suffix, "_bucket") == 0 && !has_le)
		return "bucket without le";
	if (p == end || *p != ' ')
		return "no space before the value";
	val = ++p;
	while (p < end && *p != ' ')
		p++;
	if (!is_value(val, (size_t)(p - val)))
		return "bad value";
	if (p < end && strspn(p + 1, "-0123456789") != (size_t)(end - p - 1))
		return "bad timestamp";

	idx = (int)(f - v->fam);
	if (idx != v->current) {
		if (f->done)
			return "family's samples are not together";
		if (v->current >= 0)
			v->fam[v->current].done = 1;
		v->current = idx;
	}
	if (v->nseries == v->capseries) {
		v->capseries = v->capseries ? v->capseries * 2 : 64;
		v->series = realloc(v->series, v->capseries * sizeof *v->series);
		assert_non_null(v->series);
	}
	/* the series is everything before the value */
	v->series[v->nseries] = strndup(line, (size_t)(val - 1 - line));
	assert_non_null(v->series[v->nseries]);
	v->nseries++;
	return NULL;
}

/* qsort order of series strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Checks a page line by line; returns NULL or what is wrong, and the line
 * number in *lineno.
 */
static const char *
validate(const char *page, size_t *lineno)
{
	struct vstate v;
	const char *p = page, *nl, *err = NULL;
	size_t i;

	memset(&v, 0, sizeof v);
	v.current = -1;
	*lineno = 0;
	if (*page == '\0')
		return "empty page";
	while (*p != '\0' && err == NULL) {
		(*lineno)++;
		if ((nl = strchr(p, '\n')) == NULL) {
			err = "last line has no newline";
			break;
		}
		if (nl == p)
			;	/* empty lines are allowed */
		else if (*p == '#')
			err = check_comment(&v, p, (size_t)(nl - p));
		else
			err = check_sample(&v, p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (err == NULL && v.nseries > 1) {
		qsort(v.series, v.nseries, sizeof *v.series, cmp_str);
		for (i = 1; i < v.nseries && err == NULL; i++)
			if (strcmp(v.series[i - 1], v.series[i]) == 0)
				err = "a series appears twice";
	}
	for (i = 0; i < v.nseries; i++)
		free(v.series[i]);
	free(v.series);
	return err;
}

/* Fails the test with the line that is wrong. */
static void
assert_valid(const char *page)
{
	const char *err;
	size_t lineno;

	if ((err = validate(page, &lineno)) != NULL)
		fail_msg("line %zu: %s\n--- page ---\n%s", lineno, err, page);
}

/*
 * The tests.
 */

static void
test_validator_refuses(void **state)
{
	static const struct {
		const char *page;
		const char *why;
	} bad[] = {
		{ "x 1\n", "no TYPE" },
		{ "# TYPE x counter\n1x 1\n", "bad name" },
		{ "# TYPE x counter\nx{a=\"1\"} one\n", "bad value" },
		{ "# TYPE x counter\nx{a=\"1\"}1\n", "no space" },
		{ "# TYPE x counter\nx{a=\"\\t\"} 1\n", "bad escape" },
		{ "# TYPE x counter\nx{a=\"1} 1\n", "unterminated" },
		{ "# TYPE x counter\nx{a=\"1\",a=\"2\"} 1\n", "label twice" },
		{ "# TYPE x counter\nx{2a=\"1\"} 1\n", "bad label name" },
		{ "# TYPE x counter\nx{a=1} 1\n", "unquoted" },
		{ "# TYPE x counter\nx 1\nx 2\n", "duplicate series" },
		{ "# TYPE x counter\n# TYPE y counter\nx 1\ny 1\nx{a=\"b\"} 1\n",
		    "interleaved" },
		{ "# TYPE x counter\n# TYPE x gauge\n", "two TYPE lines" },
		{ "# TYPE x countr\n", "unknown type" },
		{ "# TYPE h histogram\nh_bucket 1\n", "bucket without le" },
		{ "# TYPE x counter\nx 1", "no final newline" },
		{ "", "empty" },
	};
	size_t i, lineno;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (validate(bad[i].page, &lineno) == NULL)
			fail_msg("validator accepted a page with %s", bad[i].why);
	assert_null(validate("# HELP x a \\\\ b\n# TYPE x counter\n"
	    "x{a=\"q\\\"\\\\\\n\",b=\"\"} 1.5e3 1700000000000\n"
	    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n",
	    &lineno));
}

static void
test_requests(void **state)
{
	struct metrics *m = metrics_new(START_TIME);
	char *page;

	(void)state;
	metrics_request(m, METRICS_ROUTE_CHECK, 200);
	metrics_request(m, METRICS_ROUTE_CHECK, 200);
	metrics_request(m, METRICS_ROUTE_CHECK, 400);
	metrics_request(m, METRICS_ROUTE_ADMIN, 599);
	metrics_request(m, METRICS_ROUTE_HEALTHZ, 100);
	metrics_request(m, METRICS_ROUTE_OTHER, 0);
	metrics_request(m, METRICS_ROUTE_OTHER, 600);
	metrics_request(m, (enum metrics_route)99, 404);
	page = render(m);
	assert_valid(page);
	assert_line(page,
	    "commentd_http_requests_total{route=\"check\",code=\"200\"} 2");
	assert_line(page,
	    "commentd_http_requests_total{route=\"check\",code=\"400\"} 1");
	assert_line(page,
	    "commentd_http_requests_total{route=\"admin\",code=\"599\"} 1");
	assert_line(page,
	    "commentd_http_requests_total{route=\"healthz\",code=\"100\"} 1");
	assert_line(page,
	    "commentd_http_requests_total{route=\"other\",code=\"other\"} 2");
	assert_line(page,
	    "commentd_http_requests_total{route=\"other\",code=\"404\"} 1");
	/* only what happened: no zero series for every route and code */
	assert_int_equal(count_lines(page, "commentd_http_requests_total{"), 6);
	assert_line(page, "commentd_process_start_time_seconds 1700000000");
	free(page);
	metrics_free(m);
	metrics_free(NULL);
}

static void
test_decisions_and_rules(void **state)
{
	struct metrics *m = metrics_new(START_TIME);
	char *page;

	(void)state;
	metrics_decision(m, "news", DECISION_ACCEPT);
	metrics_decision(m, "news", DECISION_REJECT);
	metrics_decision(m, "news", DECISION_REJECT);
	metrics_decision(m, "blog", DECISION_QUEUE);
	metrics_rule_hit(m, "news", "pii.email");
	metrics_rule_hit(m, "news", "pii.email");
	metrics_rule_hit(m, "blog", "pii.email");
	metrics_rule_hit(m, "news", "shouting");
	page = render(m);
	assert_valid(page);
	assert_line(page,
	    "commentd_decisions_total{site=\"news\",decision=\"accept\"} 1");
	assert_line(page,
	    "commentd_decisions_total{site=\"news\",decision=\"queue\"} 0");
	assert_line(page,
	    "commentd_decisions_total{site=\"news\",decision=\"reject\"} 2");
	assert_line(page,
	    "commentd_decisions_total{site=\"blog\",decision=\"queue\"} 1");
	assert_line(page,
	    "commentd_rule_hits_total{site=\"news\",rule=\"pii.email\"} 2");
	assert_line(page,
	    "commentd_rule_hits_total{site=\"blog\",rule=\"pii.email\"} 1");
	assert_line(page,
	    "commentd_rule_hits_total{site=\"news\",rule=\"shouting\"} 1");
	assert_line(page, "commentd_rule_hits_overflow_total 0");
	/* no "_other" series until something was folded into it */
	assert_null(strstr(page, "_other"));
	free(page);
	metrics_free(m);
}

static void
test_escaping(void **state)
{
	struct metrics *m = metrics_new(START_TIME);
	struct metrics_buf b;
	char *page;

	(void)state;
	metrics_decision(m, "a\"b\\c\nd", DECISION_ACCEPT);
	metrics_rule_hit(m, "caf\xc3\xa9", "r\"1");
	assert_int_equal(metrics_policy_set(m, "s", "p\\", "v\xff" "1",
	    "sha256:ab"), 0);
	page = render(m);
	assert_valid(page);
	assert_line(page, "commentd_decisions_total"
	    "{site=\"a\\\"b\\\\c\\nd\",decision=\"accept\"} 1");
	assert_line(page,
	    "commentd_rule_hits_total{site=\"caf\xc3\xa9\",rule=\"r\\\"1\"} 1");
	/* a byte that is not UTF-8 becomes U+FFFD, never raw */
	assert_line(page, "commentd_policy_info{site=\"s\",policy=\"p\\\\\","
	    "version=\"v\xef\xbf\xbd" "1\",digest=\"sha256:ab\"} 1");
	free(page);

	/* the helpers other modules render with */
	metrics_buf_init(&b);
	metrics_buf_family(&b, "x_total", "counter", "a \\ b\nc \"d\"");
	metrics_buf_sample_i64(&b, "x_total", NULL, 0, -3);
	assert_string_equal(b.data, "# HELP x_total a \\\\ b\\nc \"d\"\n"
	    "# TYPE x_total counter\nx_total -3\n");
	metrics_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	metrics_buf_add(&b, "y", 1);
	assert_string_equal(b.data, "y");
	/* once an allocation failed, the page is refused, not served short */
	b.failed = true;
	assert_int_equal(metrics_render(m, &b), -1);
	assert_string_equal(b.data, "y");
	metrics_buf_free(&b);
	metrics_buf_free(NULL);
	metrics_free(m);
}

static void
test_histogram_bounds(void **state)
{
	static const struct {
		uint64_t	 us;
		const char	*le;		/* the smallest bucket it is in */
		const char	*below;		/* the bucket below, or NULL */
	} cases[] = {
		{ 0, "0.00005", NULL },
		{ 50, "0.00005", NULL },
		{ 51, "0.0001", "0.00005" },
		{ 100, "0.0001", "0.00005" },
		{ 250, "0.00025", "0.0001" },
		{ 999, "0.001", "0.0005" },
		{ 1000, "0.001", "0.0005" },
		{ 2500, "0.0025", "0.001" },
		{ 10000, "0.01", "0.005" },
		{ 25001, "0.05", "0.025" },
		{ 100000, "0.1", "0.05" },
		{ 100001, "+Inf", "0.1" },
		{ 60000000, "+Inf", "0.1" },
	};
	char line[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct metrics *m = metrics_new(START_TIME);
		char *page;

		metrics_check_latency(m, cases[i].us);
		page = render(m);
		assert_valid(page);
		snprintf(line, sizeof line,
		    "commentd_check_duration_seconds_bucket{le=\"%s\"} 1",
		    cases[i].le);
		assert_line(page, line);
		if (cases[i].below != NULL) {
			snprintf(line, sizeof line, "commentd_check_duration_"
			    "seconds_bucket{le=\"%s\"} 0", cases[i].below);
			assert_line(page, line);
		}
		assert_line(page,
		    "commentd_check_duration_seconds_bucket{le=\"+Inf\"} 1");
		assert_line(page, "commentd_check_duration_seconds_count 1");
		assert_int_equal(count_lines(page,
		    "commentd_check_duration_seconds_bucket{"), 12);
		free(page);
		metrics_free(m);
	}
}

static void
test_histogram_sum(void **state)
{
	struct metrics *m = metrics_new(START_TIME);
	char *page;

	(void)state;
	page = render(m);
	assert_line(page, "commentd_check_duration_seconds_sum 0");
	assert_line(page, "commentd_check_duration_seconds_count 0");
	free(page);

	metrics_check_latency(m, 1500);
	metrics_check_latency(m, 250);
	metrics_check_latency(m, 2000000);
	page = render(m);
	assert_valid(page);
	/* cumulative: each bucket counts everything at or below its bound */
	assert_line(page,
	    "commentd_check_duration_seconds_bucket{le=\"0.0001\"} 0");
	assert_line(page,
	    "commentd_check_duration_seconds_bucket{le=\"0.00025\"} 1");
	assert_line(page,
	    "commentd_check_duration_seconds_bucket{le=\"0.001\"} 1");
	assert_line(page,
	    "commentd_check_duration_seconds_bucket{le=\"0.0025\"} 2");
	assert_line(page,
	    "commentd_check_duration_seconds_bucket{le=\"0.1\"} 2");
	assert_line(page,
	    "commentd_check_duration_seconds_bucket{le=\"+Inf\"} 3");
	assert_line(page, "commentd_check_duration_seconds_sum 2.00175");
	assert_line(page, "commentd_check_duration_seconds_count 3");
	free(page);
	metrics_free(m);
}

static void
test_site_bound(void **state)
{
	struct metrics *m = metrics_new(START_TIME);
	char site[32], line[128], *page, *big;
	int i;

	(void)state;
	for (i = 0; i < METRICS_MAX_SITES; i++) {
		snprintf(site, sizeof site, "site%d", i);
		metrics_decision(m, site, DECISION_ACCEPT);
	}
	page = render(m);
	assert_null(strstr(page, "_other"));
	free(page);

	/* past the bound, new sites fold; known ones still count by name */
	metrics_decision(m, "one-too-many", DECISION_REJECT);
	metrics_decision(m, "and-another", DECISION_REJECT);
	metrics_decision(m, "site0", DECISION_ACCEPT);
	metrics_rule_hit(m, "one-too-many", "r");
	page = render(m);
	assert_valid(page);
	assert_null(strstr(page, "one-too-many"));
	assert_line(page,
	    "commentd_decisions_total{site=\"_other\",decision=\"reject\"} 2");
	assert_line(page,
	    "commentd_decisions_total{site=\"site0\",decision=\"accept\"} 2");
	assert_line(page,
	    "commentd_rule_hits_total{site=\"_other\",rule=\"r\"} 1");
	snprintf(line, sizeof line, "commentd_decisions_total{site=\"site%d\","
	    "decision=\"accept\"} 1", METRICS_MAX_SITES - 1);
	assert_line(page, line);
	assert_int_equal(count_lines(page, "commentd_decisions_total{"),
	    (METRICS_MAX_SITES + 1) * 3);
	free(page);
	metrics_free(m);

	/* a site named "_other", NULL, empty, too long or not UTF-8 folds too */
	m = metrics_new(START_TIME);
	big = malloc(METRICS_LABEL_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', METRICS_LABEL_MAX + 1);
	big[METRICS_LABEL_MAX + 1] = '\0';
	metrics_decision(m, "_other", DECISION_QUEUE);
	metrics_decision(m, NULL, DECISION_QUEUE);
	metrics_decision(m, "", DECISION_QUEUE);
	metrics_decision(m, big, DECISION_QUEUE);
	metrics_decision(m, "\xc3", DECISION_QUEUE);
	big[METRICS_LABEL_MAX] = '\0';	/* exactly the bound is kept */
	metrics_decision(m, big, DECISION_QUEUE);
	page = render(m);
	assert_valid(page);
	assert_line(page,
	    "commentd_decisions_total{site=\"_other\",decision=\"queue\"} 5");
	assert_int_equal(count_lines(page, "commentd_decisions_total{"), 6);
	free(page);
	free(big);
	metrics_free(m);
}

static void
test_rule_bound(void **state)
{
	struct metrics *m = metrics_new(START_TIME);
	char rule[32], *page;
	int i;

	(void)state;
	for (i = 0; i < METRICS_MAX_RULE_SERIES; i++) {
		snprintf(rule, sizeof rule, "rule.%d", i);
		metrics_rule_hit(m, "news", rule);
	}
	assert_int_equal(metrics_rule_overflow(m), 0);
	/* a new pair, even of a known rule at another site, does not fit */
	metrics_rule_hit(m, "news", "rule.new");
	metrics_rule_hit(m, "blog", "rule.0");
	assert_int_equal(metrics_rule_overflow(m), 2);
	/* a known pair still counts */
	metrics_rule_hit(m, "news", "rule.0");
	assert_int_equal(metrics_rule_overflow(m), 2);
	/* a rule id that cannot be a label never takes a series */
	metrics_rule_hit(m, "news", NULL);
	metrics_rule_hit(m, "news", "bad\xff");
	assert_int_equal(metrics_rule_overflow(m), 4);

	page = render(m);
	assert_valid(page);
	assert_int_equal(count_lines(page, "commentd_rule_hits_total{"),
	    METRICS_MAX_RULE_SERIES);
	assert_line(page,
	    "commentd_rule_hits_total{site=\"news\",rule=\"rule.0\"} 2");
	assert_line(page, "commentd_rule_hits_total"
	    "{site=\"news\",rule=\"rule.9999\"} 1");
	assert_line(page, "commentd_rule_hits_overflow_total 4");
	assert_null(strstr(page, "rule.new"));
	free(page);
	metrics_free(m);
}

static void
test_server_counters(void **state)
{
	struct metrics *m = metrics_new(START_TIME);
	char *page;

	(void)state;
	page = render(m);
	assert_valid(page);
	assert_line(page, "commentd_reloads_total 0");
	/* the start-up load succeeded, or there would be no daemon */
	assert_line(page, "commentd_reload_last_successful 1");
	assert_line(page, "commentd_connections_open 0");
	assert_line(page, "commentd_limits_hit_total{kind=\"body_timeout\"} 0");
	assert_line(page, "commentd_reload_last_duration_seconds 0");
	free(page);

	metrics_reload(m, false, 1500);
	page = render(m);
	assert_line(page, "commentd_reload_last_successful 0");
	assert_line(page, "commentd_reload_last_duration_seconds 0.0015");
	free(page);
	metrics_reload(m, true, 2000000);
	metrics_reload(m, true, 37512);
	metrics_conn_accepted(m);
	metrics_conn_accepted(m);
	metrics_conn_accepted(m);
	metrics_conn_closed(m);
	metrics_conn_rejected(m);
	metrics_limit_hit(m, METRICS_LIMIT_BODY_TOO_LARGE);
	metrics_limit_hit(m, METRICS_LIMIT_HEADER_TIMEOUT);
	metrics_limit_hit(m, METRICS_LIMIT_HEADER_TIMEOUT);
	metrics_limit_hit(m, (enum metrics_limit)42);
	page = render(m);
	assert_valid(page);
	assert_line(page, "commentd_reloads_total 3");
	assert_line(page, "commentd_reload_failures_total 1");
	assert_line(page, "commentd_reload_last_successful 1");
	assert_line(page, "commentd_reload_last_duration_seconds 0.037512");
	assert_line(page, "commentd_connections_open 2");
	assert_line(page, "commentd_connections_accepted_total 3");
	assert_line(page, "commentd_connections_rejected_total 1");
	assert_line(page,
	    "commentd_limits_hit_total{kind=\"body_too_large\"} 1");
	assert_line(page,
	    "commentd_limits_hit_total{kind=\"headers_too_large\"} 0");
	assert_line(page,
	    "commentd_limits_hit_total{kind=\"header_timeout\"} 2");
	assert_int_equal(count_lines(page, "commentd_limits_hit_total{"), 4);
	free(page);
	metrics_free(m);
}

static void
test_policy_info(void **state)
{
	struct metrics *m = metrics_new(START_TIME);
	char site[32], *page;
	int i;

	(void)state;
	assert_int_equal(metrics_policy_set(m, "news", "news-default", "3",
	    "sha256:aa"), 0);
	assert_int_equal(metrics_policy_set(m, "blog", "blog", "1",
	    "sha256:bb"), 0);
	/* a reload gives news a new version: one series, the new one */
	assert_int_equal(metrics_policy_set(m, "news", "news-default", "4",
	    "sha256:cc"), 0);
	page = render(m);
	assert_valid(page);
	assert_line(page, "commentd_policy_info{site=\"news\","
	    "policy=\"news-default\",version=\"4\",digest=\"sha256:cc\"} 1");
	assert_line(page, "commentd_policy_info{site=\"blog\","
	    "policy=\"blog\",version=\"1\",digest=\"sha256:bb\"} 1");
	assert_int_equal(count_lines(page, "commentd_policy_info{"), 2);
	free(page);

	metrics_policy_clear(m);
	page = render(m);
	assert_int_equal(count_lines(page, "commentd_policy_info{"), 0);
	free(page);

	for (i = 0; i < METRICS_MAX_SITES; i++) {
		snprintf(site, sizeof site, "s%d", i);
		assert_int_equal(metrics_policy_set(m, site, "p", "1", "d"), 0);
	}
	assert_int_equal(metrics_policy_set(m, "one-more", "p", "1", "d"), -1);
	assert_int_equal(metrics_policy_set(m, "s0", "p", "2", "d"), 0);
	page = render(m);
	assert_valid(page);
	assert_int_equal(count_lines(page, "commentd_policy_info{"),
	    METRICS_MAX_SITES);
	free(page);
	metrics_free(m);
}

static void
test_whole_page(void **state)
{
	static const char *const families[] = {
		"commentd_http_requests_total counter",
		"commentd_check_duration_seconds histogram",
		"commentd_decisions_total counter",
		"commentd_rule_hits_total counter",
		"commentd_rule_hits_overflow_total counter",
		"commentd_reloads_total counter",
		"commentd_reload_failures_total counter",
		"commentd_spooled_total counter",
		"commentd_spool_pending gauge",
		"commentd_spool_failing gauge",
		"commentd_spool_refused_total counter",
		"commentd_decisions_without_redis_total counter",
		"commentd_queue_refused_total counter",
		"commentd_reload_last_successful gauge",
		"commentd_reload_last_duration_seconds gauge",
		"commentd_connections_open gauge",
		"commentd_connections_accepted_total counter",
		"commentd_connections_rejected_total counter",
		"commentd_limits_hit_total counter",
		"commentd_policy_info gauge",
		"commentd_process_start_time_seconds gauge",
	};
	struct metrics *m = metrics_new(START_TIME);
	struct metrics_buf b;
	char line[128];
	size_t i, before;

	(void)state;
	for (i = 0; i < 300; i++) {
		char site[16];
		snprintf(site, sizeof site, "s%zu", i % 260);
		metrics_request(m, (enum metrics_route)(i % METRICS_NROUTES),
		    (int)(200 + i % 5 * 50));
		metrics_check_latency(m, i * 397);
		metrics_decision(m, site, (enum decision)(i % 3));
		metrics_rule_hit(m, site, i % 2 ? "pii.email" : "a\\b\"c\nd");
		metrics_limit_hit(m, (enum metrics_limit)(i % METRICS_NLIMITS));
	}
	metrics_reload(m, false, 10);
	metrics_conn_accepted(m);
	metrics_conn_rejected(m);
	assert_int_equal(metrics_policy_set(m, "s1", "news-default",
	    "2024-05-01", "sha256:0123"), 0);

	/* every family once, each with HELP and TYPE */
	metrics_buf_init(&b);
	assert_int_equal(metrics_render(m, &b), 0);
	assert_valid(b.data);
	for (i = 0; i < sizeof families / sizeof families[0]; i++) {
		snprintf(line, sizeof line, "# TYPE %s", families[i]);
		assert_line(b.data, line);
	}
	assert_int_equal(count_lines(b.data, "# TYPE "),
	    sizeof families / sizeof families[0]);
	assert_int_equal(count_lines(b.data, "# HELP "),
	    sizeof families / sizeof families[0]);
	/* a reused buffer holds the same page again, not two */
	before = b.len;
	metrics_buf_reset(&b);
	assert_int_equal(metrics_render(m, &b), 0);
	assert_int_equal(b.len, before);
	metrics_buf_free(&b);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validator_refuses),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_decisions_and_rules),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_histogram_bounds),
		cmocka_unit_test(test_histogram_sum),
		cmocka_unit_test(test_site_bound),
		cmocka_unit_test(test_rule_bound),
		cmocka_unit_test(test_server_counters),
		cmocka_unit_test(test_policy_info),
		cmocka_unit_test(test_whole_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
