/*
 * cmd_stats: what operators and policy authors read: `commentctl stats`
 * (the queue; the daemons' decisions of the last hour and day, by decision
 * and by rule; the moderators' decisions by outcome and by rule, which
 * rules they overturn; this daemon's own decisions from /metrics),
 * `commentctl log` (the audit trail), `commentctl policy` and `commentctl
 * reload`.  Only reload changes anything, and only as SIGHUP would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "http.h"

#define STATS_DIGEST_SHOWN	15	/* "sha256:" and 8 hex digits */
#define STATS_LABEL_MAX		256	/* a label value read from /metrics */

/* A rule's row: up to five counts, and what sorts it (its day's total). */
struct stats_rule {
	const char	*rule;
	long long	 v[5], total;
	char		 n[5][24];
	char		 overturned[16];
};

/* Orders rules by their day's total, most first, then by name. */
static int
stats_rule_cmp(const void *a, const void *b)
{
	const struct stats_rule *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->rule, y->rule);
}

/*
 * Prints rows of a by_rule object (with the hour's beside it when hour is
 * not NULL): each column a member of the rule's object; ncounts columns of
 * counts, plus OVERTURNED for the moderators' table.
 */
static void
stats_table(struct ctl *ctl, const struct out_col *cols, size_t ncols,
    json_t *hour, json_t *day, const char *const *keys, size_t ncounts,
    bool overturned)
{
	struct stats_rule *rules;
	struct out_cell *cells;
	const char *name;
	json_t *v;
	size_t n = json_object_size(day), i = 0, k;

	rules = calloc(n, sizeof *rules);
	cells = calloc(n * ncols, sizeof *cells);
	if (rules == NULL || cells == NULL)
		goto out;
	json_object_foreach(day, name, v) {
		struct stats_rule *r = &rules[i++];

		r->rule = name;
		/* keys[k] names a member: "hour:X" of the hour's object. */
		for (k = 0; k < ncounts; k++) {
			if (strncmp(keys[k], "hour:", 5) == 0)
				r->v[k] = ctl_int(json_object_get(hour, name),
				    keys[k] + 5, 0);
			else {
				r->v[k] = ctl_int(v, keys[k], 0);
				r->total += r->v[k];
			}
		}
	}
	qsort(rules, n, sizeof *rules, stats_rule_cmp);
	for (i = 0; i < n; i++) {
		struct stats_rule *r = &rules[i];

		cells[i * ncols] = out_cell_str(r->rule);
		for (k = 0; k < ncounts; k++) {
			snprintf(r->n[k], sizeof r->n[k], "%lld", r->v[k]);
			cells[i * ncols + 1 + k] = out_cell_str(r->n[k]);
		}
		if (!overturned)
			continue;
		/* A hold a moderator approved is one the rule got wrong. */
		if (r->total > 0)
			snprintf(r->overturned, sizeof r->overturned, "%lld%%",
			    (r->v[2] * 100 + r->total / 2) / r->total);
		else
			snprintf(r->overturned, sizeof r->overturned, "-");
		cells[i * ncols + 1 + ncounts] = out_cell_str(r->overturned);
	}
	out_table(&ctl->out, stdout, cols, ncols, cells, n);
out:
	free(rules);
	free(cells);
}

/* The daemons' own decisions, and per rule what the comments it hit got. */
static void
stats_verdicts(struct ctl *ctl, json_t *verdicts)
{
	static const struct out_col cols[] = {
		{ "RULE", 40, false }, { "HITS 1H", 0, true },
		{ "ACCEPTED 1D", 0, true }, { "QUEUED 1D", 0, true },
		{ "REJECTED 1D", 0, true },
	};
	static const char *const keys[] = { "hour:hits", "accept", "queue",
	    "reject" };
	json_t *hour = json_object_get(verdicts, "last_hour");
	json_t *day = json_object_get(verdicts, "last_day");
	json_t *by_hour = json_object_get(hour, "by_rule"), *v;
	const char *name;

	printf("decisions               last hour   last day\n"
	    "  accepted             %10lld %10lld\n"
	    "  queued               %10lld %10lld\n"
	    "  rejected             %10lld %10lld\n\n",
	    ctl_int(hour, "accept", 0), ctl_int(day, "accept", 0),
	    ctl_int(hour, "queue", 0), ctl_int(day, "queue", 0),
	    ctl_int(hour, "reject", 0), ctl_int(day, "reject", 0));
	if (json_object_size(json_object_get(day, "by_rule")) == 0) {
		printf("No rule fired in the last day.\n\n");
		return;
	}
	/* HITS 1H: the hour's comments the rule fired on, whatever they got. */
	json_object_foreach(by_hour, name, v)
		json_object_set_new(v, "hits", json_integer(ctl_int(v,
		    "accept", 0) + ctl_int(v, "queue", 0) + ctl_int(v,
		    "reject", 0)));
	printf("what the comments each rule fired on got\n");
	stats_table(ctl, cols, 5, by_hour, json_object_get(day, "by_rule"),
	    keys, 4, false);
	printf("\n");
}

/* The table of rules: what moderators did with what each one queued. */
static void
stats_rules(struct ctl *ctl, json_t *hour, json_t *day)
{
	static const struct out_col cols[] = {
		{ "RULE", 40, false }, { "APPROVED 1H", 0, true },
		{ "REJECTED 1H", 0, true }, { "APPROVED 1D", 0, true },
		{ "REJECTED 1D", 0, true }, { "OVERTURNED", 0, true },
	};
	static const char *const keys[] = { "hour:approve", "hour:reject",
	    "approve", "reject" };

	if (json_object_size(day) == 0) {
		printf("No queued comment was decided in the last day.\n");
		return;
	}
	stats_table(ctl, cols, 6, hour, day, keys, 4, true);
}

/*
 * Reads one label's value from a Prometheus sample's label set ("{a="x",
 * b="y"}") into out, unescaping; false when absent or too long.
 */
static bool
stats_label(const char *labels, const char *end, const char *name,
    char *out, size_t size)
{
	size_t nlen = strlen(name), o = 0;
	const char *p = labels;
	bool esc;

	while (p < end) {
		while (p < end && (*p == '{' || *p == ',' || *p == ' '))
			p++;
		if ((size_t)(end - p) > nlen + 1 && strncmp(p, name, nlen) ==
		    0 && p[nlen] == '=' && p[nlen + 1] == '"') {
			for (p += nlen + 2; p < end && *p != '"'; p++) {
				esc = *p == '\\' && p + 1 < end;
				if (esc)
					p++;
				if (o + 1 >= size)
					return false;
				out[o++] = esc && *p == 'n' ? '\n' : *p;
			}
			out[o] = '\0';
			return true;
		}
		/* Skip this label: its name, '=', and its quoted value. */
		while (p < end && *p != '"')
			p++;
		for (p++; p < end && *p != '"'; p++)
			if (*p == '\\')
				p++;
		p++;
	}
	return false;
}

/*
 * This daemon's decisions and rule hits for the site since it started,
 * from its /metrics page: {"decisions": {...}, "rule_hits": {...}}, or
 * NULL when the page cannot be read (stats go on without it).
 */
static json_t *
stats_metrics(struct ctl *ctl, const char *site)
{
	struct http_response resp;
	json_t *dec, *hits;
	char *cause, *line, *next, *brace, *close;
	char got[STATS_LABEL_MAX], key[STATS_LABEL_MAX];
	long long v;
	bool is_dec, is_hit;

	if (http_request(ctl->socket, "GET", "/metrics", NULL, 0,
	    ctl->wait_ms, &resp, &cause) == -1) {
		free(cause);
		return NULL;
	}
	if (resp.status != 200) {
		http_response_free(&resp);
		return NULL;
	}
	dec = json_object();
	hits = json_object();
	for (line = resp.body; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		is_dec = strncmp(line, "commentd_decisions_total{", 25) == 0;
		is_hit = strncmp(line, "commentd_rule_hits_total{", 25) == 0;
		if ((!is_dec && !is_hit) || (brace = strchr(line, '{')) ==
		    NULL || (close = strrchr(line, '}')) == NULL ||
		    sscanf(close + 1, "%lld", &v) != 1 ||
		    !stats_label(brace, close, "site", got, sizeof got) ||
		    strcmp(got, site) != 0 || !stats_label(brace, close,
		    is_dec ? "decision" : "rule", key, sizeof key))
			continue;
		json_object_set_new(is_dec ? dec : hits, key, json_integer(v));
	}
	http_response_free(&resp);
	return json_pack("{s:o,s:o}", "decisions", dec, "rule_hits", hits);
}

/* This daemon's decisions since it started (the windows are all daemons'). */
static void
stats_since_start(json_t *m)
{
	json_t *dec = json_object_get(m, "decisions");

	printf("\nthis daemon since it started, dry runs included: %lld "
	    "accepted, %lld queued, %lld rejected\n", ctl_int(dec, "accept", 0),
	    ctl_int(dec, "queue", 0), ctl_int(dec, "reject", 0));
}

int
cmd_stats(struct ctl *ctl)
{
	struct ctl_url u;
	json_t *a, *q, *d, *hour, *day, *m;
	char age[16];

	ctl_url_init(&u, "/v1/admin/stats");
	ctl_url_param(&u, "site", ctl->site);
	if (ctl_call(ctl, NULL, "GET", &u, NULL, &a) == -1)
		return CTL_EXIT_FAIL;
	m = stats_metrics(ctl, ctl_str(a, "site", ""));
	if (ctl->json) {
		json_object_set_new(a, "since_start", m != NULL ? m :
		    json_null());
		ctl_print_json(a);
		json_decref(a);
		return CTL_EXIT_OK;
	}
	q = json_object_get(a, "queue");
	d = json_object_get(a, "decisions");
	hour = json_object_get(d, "last_hour");
	day = json_object_get(d, "last_day");
	printf("%s: %lld pending", ctl_str(a, "site", "?"), ctl_int(q, "depth",
	    0));
	if (json_is_integer(json_object_get(q, "oldest_age_s"))) {
		out_age(age, sizeof age, ctl_int(q, "oldest_age_s", 0));
		printf(", the oldest for %s", age);
	}
	printf(", %lld claimed by a moderator\n\n", ctl_int(q, "claimed", 0));
	stats_verdicts(ctl, json_object_get(a, "verdicts"));
	printf("moderators' decisions   last hour   last day\n"
	    "  approved             %10lld %10lld\n"
	    "  rejected             %10lld %10lld\n\n",
	    ctl_int(hour, "approve", 0), ctl_int(day, "approve", 0),
	    ctl_int(hour, "reject", 0), ctl_int(day, "reject", 0));
	printf("what moderators did with what each rule held (OVERTURNED: the "
	    "share approved, last day)\n");
	stats_rules(ctl, json_object_get(hour, "by_rule"),
	    json_object_get(day, "by_rule"));
	if (json_is_true(json_object_get(a, "truncated")))
		printf("(only the newest %lld decisions of the day were read)\n",
		    ctl_int(a, "decisions_read", 0));
	if (m != NULL)
		stats_since_start(m);
	json_decref(m);
	json_decref(a);
	return CTL_EXIT_OK;
}

int
cmd_log(struct ctl *ctl)
{
	static const struct out_col cols[] = {
		{ "WHEN", 0, false }, { "MODERATOR", 24, false },
		{ "UID", 0, true }, { "ACTION", 0, false },
		{ "TARGET", 32, false }, { "REASON", 0, false },
		{ "NOTE", 0, false },
	};
	struct ctl_url u;
	struct out_cell *cells;
	char (*nums)[2][32];
	json_t *a, *entries, *e;
	size_t i, n;

	ctl_url_init(&u, "/v1/admin/audit");
	ctl_url_param(&u, "site", ctl->site);
	if (ctl->limit != 0)
		ctl_url_uint(&u, "limit", ctl->limit);
	if (ctl_call(ctl, NULL, "GET", &u, NULL, &a) == -1)
		return CTL_EXIT_FAIL;
	entries = json_object_get(a, "entries");
	if (ctl->json || (n = json_array_size(entries)) == 0) {
		if (ctl->json)
			ctl_print_json(a);
		else
			printf("No moderator has acted on %s yet.\n",
			    ctl_str(a, "site", "?"));
		json_decref(a);
		return CTL_EXIT_OK;
	}
	cells = calloc(n * 7, sizeof *cells);
	nums = calloc(n, sizeof *nums);
	if (cells != NULL && nums != NULL) {
		json_array_foreach(entries, i, e) {
			struct out_cell *c = &cells[i * 7];

			out_time(nums[i][0], sizeof nums[i][0], ctl_int(e,
			    "at_ms", 0));
			snprintf(nums[i][1], sizeof nums[i][1], "%lld",
			    ctl_int(e, "uid", -1));
			c[0] = out_cell_str(nums[i][0]);
			c[1] = out_cell_str(ctl_str(e, "moderator", "?"));
			c[2] = out_cell_str(nums[i][1]);
			c[3] = out_cell_str(ctl_str(e, "action", "?"));
			c[3].style = out_decision_style(c[3].text);
			c[4] = out_cell_str(ctl_str(e, "target", ""));
			c[5] = out_cell_str(ctl_str(e, "reason", ""));
			c[6] = out_cell_str(ctl_str(e, "note", ""));
		}
		out_table(&ctl->out, stdout, cols, 7, cells, n);
		if (json_is_true(json_object_get(a, "more")))
			printf("(older entries: --limit)\n");
	}
	free(cells);
	free(nums);
	json_decref(a);
	return CTL_EXIT_OK;
}

int
cmd_policy(struct ctl *ctl)
{
	static const struct out_col cols[] = {
		{ "SITE", 0, false }, { "POLICY", 32, false },
		{ "VERSION", 16, false }, { "DIGEST", 0, false },
		{ "RULES", 0, true }, { "LISTS", 0, true },
		{ "REGEXES", 0, true }, { "CHECKS", 0, true },
		{ "LIMITS", 0, true }, { "EXAMPLES", 0, true },
	};
	static const char *const counts[] = { "rules", "wordlists", "regexes",
	    "checks", "rate_limits", "examples" };
	struct ctl_url u;
	struct out_cell *cells;
	char (*text)[8][32];
	json_t *a, *sites, *s, *c;
	size_t i, k, n;

	ctl_url_init(&u, "/v1/admin/policy");
	if (ctl_call(ctl, NULL, "GET", &u, NULL, &a) == -1)
		return CTL_EXIT_FAIL;
	sites = json_object_get(a, "sites");
	n = json_array_size(sites);
	if (ctl->json || n == 0) {
		ctl_print_json(a);
		json_decref(a);
		return CTL_EXIT_OK;
	}
	cells = calloc(n * 10, sizeof *cells);
	text = calloc(n, sizeof *text);
	if (cells != NULL && text != NULL) {
		json_array_foreach(sites, i, s) {
			c = json_object_get(s, "counts");
			snprintf(text[i][0], sizeof text[i][0], "%s%s",
			    ctl_str(s, "site", "?"), json_is_true(
			    json_object_get(s, "default")) ? "*" : "");
			snprintf(text[i][1], sizeof text[i][1], "%.*s",
			    STATS_DIGEST_SHOWN, ctl_str(s, "digest", ""));
			cells[i * 10] = out_cell_str(text[i][0]);
			cells[i * 10 + 1] = out_cell_str(ctl_str(s, "policy",
			    "?"));
			cells[i * 10 + 2] = out_cell_str(ctl_str(s, "version",
			    ""));
			cells[i * 10 + 3] = out_cell_str(text[i][1]);
			for (k = 0; k < 6; k++) {
				snprintf(text[i][2 + k], sizeof text[i][2 + k],
				    "%lld", ctl_int(c, counts[k], 0));
				cells[i * 10 + 4 + k] = out_cell_str(
				    text[i][2 + k]);
			}
		}
		out_table(&ctl->out, stdout, cols, 10, cells, n);
		printf("(* the default site)\n");
		json_array_foreach(sites, i, s)
			printf("%s: %s\n", ctl_str(s, "site", "?"), ctl_str(s,
			    "path", "?"));
	}
	free(cells);
	free(text);
	json_decref(a);
	return CTL_EXIT_OK;
}

int
cmd_reload(struct ctl *ctl)
{
	struct ctl_url u;
	json_t *a, *e;
	size_t i;
	int status;

	ctl_url_init(&u, "/v1/admin/reload");
	if ((status = ctl_request(ctl, "POST", &u, NULL, &a)) == -1)
		return CTL_EXIT_FAIL;
	if (ctl->json && json_is_object(a))
		ctl_print_json(a);
	if (status == 200) {
		if (!ctl->json)
			printf("reloaded\n");
		json_decref(a);
		return CTL_EXIT_OK;
	}
	/* Every error, one a line: the operator fixes them all in one go. */
	json_array_foreach(json_object_get(a, "errors"), i, e)
		ctl_fail(ctl, "%s", json_is_string(e) ? json_string_value(e) :
		    "?");
	if (status == 422)
		ctl_fail(ctl, "the reload failed; the running configuration "
		    "keeps serving");
	else
		ctl_print_error(ctl, NULL, status, a);
	json_decref(a);
	return CTL_EXIT_FAIL;
}
