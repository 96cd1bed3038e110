/*
 * metrics: counters kept in fixed tables, rendered as Prometheus text.
 *
 * Counting is on the request path, so it only indexes arrays or looks up a
 * hash table; it never formats text and never fails.  The tables that grow
 * (sites, rule series) are bounded, so their memory is bounded too; they use
 * the engine's aborting allocators, as a registry that silently stopped
 * counting would be worse than none.  Rendering may need megabytes, so the
 * page's buffer (metrics_buf) fails softly instead: one lost scrape.
 * Nothing here reads a clock: callers pass times in.
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "strmap.h"
#include "xalloc.h"

#define METRICS_NDECISIONS	3
#define METRICS_OTHER_IDX	METRICS_MAX_SITES

/* Status codes 100..599 by code; slot 0 holds anything outside that. */
#define METRICS_STATUS_MIN	100
#define METRICS_STATUS_MAX	599
#define METRICS_NSTATUS	(METRICS_STATUS_MAX - METRICS_STATUS_MIN + 2)

/* The upper bounds of the /v1/check latency buckets, in microseconds. */
static const uint64_t metrics_bounds_us[] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000
};
#define METRICS_NBOUNDS	\
	(sizeof metrics_bounds_us / sizeof metrics_bounds_us[0])

_Static_assert(DECISION_REJECT + 1 == METRICS_NDECISIONS,
    "a decision was added: count it");
_Static_assert(METRICS_MAX_SITES < UINT16_MAX, "site index is two bytes");

static const char *const metrics_route_names[METRICS_NROUTES] = {
	"check", "decisions", "healthz", "readyz", "metrics", "admin", "other"
};

static const char *const metrics_limit_names[METRICS_NLIMITS] = {
	"body_too_large", "headers_too_large", "header_timeout", "body_timeout"
};

/* Hits of one rule at one site. */
struct metrics_rule {
	uint16_t	 site;
	char		*rule;
	uint64_t	 hits;
};

/* The policy serving one site. */
struct metrics_policy {
	char		*site, *policy, *version, *digest;
};

struct metrics {
	int64_t		 start_time;

	uint64_t	 requests[METRICS_NROUTES][METRICS_NSTATUS];

	uint64_t	 lat_buckets[METRICS_NBOUNDS + 1]; /* not cumulative */
	uint64_t	 lat_sum_us;
	uint64_t	 lat_count;

	/* Sites by name, then the "_other" slot at METRICS_OTHER_IDX. */
	struct strmap	 site_index;
	char		*sites[METRICS_MAX_SITES];
	size_t		 nsites;
	bool		 other_used;
	uint64_t	 decisions[METRICS_MAX_SITES + 1][METRICS_NDECISIONS];

	/* Rule series keyed by two bytes of site index and the rule id. */
	struct strmap	 rule_index;
	struct metrics_rule *rules;
	size_t		 nrules, rules_cap;
	uint64_t	 rule_overflow;

	uint64_t	 reloads, reload_failures;
	uint64_t	 spooled;	/* queued comments the spool took */
	uint64_t	 without_redis;	/* decided with local facts */
	uint64_t	 refused_writes;	/* Redis said no to a queue entry */
	int64_t		 spool_pending;
	uint64_t	 spool_refused;	/* queued, Redis away, spool failed */
	bool		 spool_failing;
	bool		 last_reload_failed;
	uint64_t	 last_reload_us;	/* how long the last one took */
	int64_t		 conn_open;
	uint64_t	 conn_accepted, conn_rejected;
	uint64_t	 limits[METRICS_NLIMITS];

	struct metrics_policy policies[METRICS_MAX_SITES];
	size_t		 npolicies;
};

/* Creates a registry with every counter at zero. */
struct metrics *
metrics_new(time_t start_time)
{
	struct metrics *m = xcalloc(1, sizeof *m);

	m->start_time = (int64_t)start_time;
	strmap_init(&m->site_index);
	strmap_init(&m->rule_index);
	return m;
}

/* Frees one policy entry's strings. */
static void
metrics_policy_free(struct metrics_policy *p)
{
	free(p->site);
	free(p->policy);
	free(p->version);
	free(p->digest);
	memset(p, 0, sizeof *p);
}

/* Frees the registry and every label it copied. */
void
metrics_free(struct metrics *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nsites; i++)
		free(m->sites[i]);
	for (i = 0; i < m->nrules; i++)
		free(m->rules[i].rule);
	for (i = 0; i < m->npolicies; i++)
		metrics_policy_free(&m->policies[i]);
	strmap_free(&m->site_index);
	strmap_free(&m->rule_index);
	free(m->rules);
	free(m);
}

/*
 * Whether s may become a label value of its own: a bounded, non-empty,
 * valid UTF-8 string.  Anything else is folded, because the page must stay
 * parseable and two bad strings must not render as one series twice.
 */
static bool
metrics_label_ok(const char *s, size_t *lenp)
{
	const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	size_t len, i;

	if (s == NULL || (len = strnlen(s, METRICS_LABEL_MAX + 1)) == 0 ||
	    len > METRICS_LABEL_MAX)
		return false;
	for (i = 0; i < len; i += (size_t)n) {
		n = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n < 1)
			return false;
	}
	*lenp = len;
	return true;
}

/*
 * The index of a site, adding it while there is room.  "_other" itself is
 * the overflow slot, so a site of that name cannot render a duplicate series.
 */
static size_t
metrics_site(struct metrics *m, const char *site)
{
	const uint32_t *v;
	size_t len;

	if (!metrics_label_ok(site, &len) ||
	    strcmp(site, METRICS_OTHER_SITE) == 0)
		goto other;
	if ((v = strmap_get(&m->site_index, site, len)) != NULL)
		return *v;
	if (m->nsites == METRICS_MAX_SITES)
		goto other;
	strmap_put(&m->site_index, site, len, (uint32_t)m->nsites);
	m->sites[m->nsites] = xstrdup(site);
	return m->nsites++;

other:
	m->other_used = true;
	return METRICS_OTHER_IDX;
}

/* Counts an answered request; an impossible status is counted as "other". */
void
metrics_request(struct metrics *m, enum metrics_route route, int status)
{
	size_t slot = 0;

	if ((unsigned)route >= METRICS_NROUTES)
		route = METRICS_ROUTE_OTHER;
	if (status >= METRICS_STATUS_MIN && status <= METRICS_STATUS_MAX)
		slot = (size_t)(status - METRICS_STATUS_MIN) + 1;
	m->requests[route][slot]++;
}

/* Puts one /v1/check time in its bucket. */
void
metrics_check_latency(struct metrics *m, uint64_t usec)
{
	size_t i;

	/* "le": a value exactly on a bound belongs to that bucket */
	for (i = 0; i < METRICS_NBOUNDS; i++)
		if (usec <= metrics_bounds_us[i])
			break;
	m->lat_buckets[i]++;
	m->lat_sum_us += usec;
	m->lat_count++;
}

/* Counts a decision under its site, or "_other". */
void
metrics_decision(struct metrics *m, const char *site, enum decision d)
{
	if ((unsigned)d >= METRICS_NDECISIONS)
		return;
	m->decisions[metrics_site(m, site)][d]++;
}

/*
 * Counts a rule hit under (site, rule) while there is room for the series;
 * past the bound only the overflow counter moves, so the page stays bounded.
 */
void
metrics_rule_hit(struct metrics *m, const char *site, const char *rule)
{
	char key[2 + METRICS_LABEL_MAX];
	struct metrics_rule *r;
	size_t site_idx, len;
	const uint32_t *v;

	if (!metrics_label_ok(rule, &len)) {
		m->rule_overflow++;
		return;
	}
	site_idx = metrics_site(m, site);
	key[0] = (char)(site_idx & 0xff);
	key[1] = (char)(site_idx >> 8);
	memcpy(key + 2, rule, len);

	if ((v = strmap_get(&m->rule_index, key, len + 2)) != NULL) {
		m->rules[*v].hits++;
		return;
	}
	if (m->nrules == METRICS_MAX_RULE_SERIES) {
		m->rule_overflow++;
		return;
	}
	strmap_put(&m->rule_index, key, len + 2, (uint32_t)m->nrules);
	m->rules = xgrow(m->rules, &m->rules_cap, m->nrules + 1,
	    sizeof *m->rules);
	r = &m->rules[m->nrules++];
	r->site = (uint16_t)site_idx;
	r->rule = xstrdup(rule);
	r->hits = 1;
}

/* The hits that found no room, for tests and logs. */
uint64_t
metrics_rule_overflow(const struct metrics *m)
{
	return m->rule_overflow;
}

/*
 * Counts a reload attempt and, if it failed, a failure; remembers which, so
 * an alert can clear itself when a later reload succeeds, and how long it
 * took, as requests wait for a reload on the event loop.
 */
void
metrics_reload(struct metrics *m, bool ok, uint64_t took_us)
{
	m->reloads++;
	m->last_reload_us = took_us;
	if (!ok)
		m->reload_failures++;
	m->last_reload_failed = !ok;
}

/* Counts a queued comment stored in the spool because Redis could not. */
void
metrics_spooled(struct metrics *m)
{
	m->spooled++;
}

/* Counts a comment decided without Redis's facts (in-process limits). */
void
metrics_without_redis(struct metrics *m)
{
	m->without_redis++;
}

/* Counts a queued comment Redis refused to store (answered 503). */
void
metrics_redis_refused_write(struct metrics *m)
{
	m->refused_writes++;
}

/* The spool's depth, as the server reads it before each scrape. */
void
metrics_spool_pending(struct metrics *m, size_t n)
{
	m->spool_pending = (int64_t)n;
}

/* Counts a queued comment answered 503: Redis away, the spool failing. */
void
metrics_spool_refused(struct metrics *m)
{
	m->spool_refused++;
}

/* The spool's health, as the server reads it before each scrape. */
void
metrics_spool_failing(struct metrics *m, bool failing)
{
	m->spool_failing = failing;
}

/* Counts an admitted connection, now open. */
void
metrics_conn_accepted(struct metrics *m)
{
	m->conn_accepted++;
	m->conn_open++;
}

/* Not clamped at zero: a negative gauge shows a double close at once. */
void
metrics_conn_closed(struct metrics *m)
{
	m->conn_open--;
}

/* Counts a connection refused at the limit; it never was open. */
void
metrics_conn_rejected(struct metrics *m)
{
	m->conn_rejected++;
}

/* Counts a request cut short by a limit. */
void
metrics_limit_hit(struct metrics *m, enum metrics_limit kind)
{
	if ((unsigned)kind < METRICS_NLIMITS)
		m->limits[kind]++;
}

/* Forgets every site's policy, before a loaded config sets them again. */
void
metrics_policy_clear(struct metrics *m)
{
	size_t i;

	for (i = 0; i < m->npolicies; i++)
		metrics_policy_free(&m->policies[i]);
	m->npolicies = 0;
}

/* Records the policy serving a site, replacing the site's previous one. */
int
metrics_policy_set(struct metrics *m, const char *site, const char *policy,
    const char *version, const char *digest)
{
	struct metrics_policy *p = NULL;
	size_t i;

	if (site == NULL)
		site = "";
	for (i = 0; i < m->npolicies; i++) {
		if (strcmp(m->policies[i].site, site) == 0) {
			p = &m->policies[i];
			metrics_policy_free(p);
			break;
		}
	}
	if (p == NULL) {
		if (m->npolicies == METRICS_MAX_SITES)
			return -1;
		p = &m->policies[m->npolicies++];
	}
	p->site = xstrdup(site);
	p->policy = xstrdup(policy != NULL ? policy : "");
	p->version = xstrdup(version != NULL ? version : "");
	p->digest = xstrdup(digest != NULL ? digest : "");
	return 0;
}

/*
 * Microseconds as decimal seconds without trailing zeros ("0.00025"), so
 * bucket bounds and sums are exact: no float ever rounds them.
 */
static void
metrics_seconds(char *out, size_t size, uint64_t us)
{
	size_t len;

	len = (size_t)snprintf(out, size, "%" PRIu64 ".%06" PRIu64,
	    us / 1000000, us % 1000000);
	while (len > 0 && out[len - 1] == '0')
		out[--len] = '\0';
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
}

/* A counter without labels. */
static void
metrics_render_counter(struct metrics_buf *b, const char *name,
    const char *help, uint64_t value)
{
	metrics_buf_family(b, name, "counter", help);
	metrics_buf_sample_u64(b, name, NULL, 0, value);
}

/* A gauge without labels. */
static void
metrics_render_gauge(struct metrics_buf *b, const char *name,
    const char *help, int64_t value)
{
	metrics_buf_family(b, name, "gauge", help);
	metrics_buf_sample_i64(b, name, NULL, 0, value);
}

/* Requests by route and status code. */
static void
metrics_render_requests(const struct metrics *m, struct metrics_buf *b)
{
	static const char name[] = "commentd_http_requests_total";
	struct metrics_label l[2] = { { "route", NULL }, { "code", NULL } };
	char code[8];
	size_t r, s;

	metrics_buf_family(b, name, "counter",
	    "HTTP requests answered, by route and status code.");
	for (r = 0; r < METRICS_NROUTES; r++) {
		l[0].value = metrics_route_names[r];
		/* slot 0, codes out of range, goes last */
		for (s = 1; s <= METRICS_NSTATUS; s++) {
			size_t slot = s % METRICS_NSTATUS;
			if (m->requests[r][slot] == 0)
				continue;
			if (slot == 0)
				l[1].value = "other";
			else {
				snprintf(code, sizeof code, "%zu",
				    slot - 1 + METRICS_STATUS_MIN);
				l[1].value = code;
			}
			metrics_buf_sample_u64(b, name, l, 2,
			    m->requests[r][slot]);
		}
	}
}

/* The /v1/check latency histogram, cumulative as the format wants. */
static void
metrics_render_latency(const struct metrics *m, struct metrics_buf *b)
{
#define LATENCY	"commentd_check_duration_seconds"
	struct metrics_label l = { "le", NULL };
	uint64_t cum = 0;
	char le[32];
	size_t i;

	metrics_buf_family(b, LATENCY, "histogram",
	    "Time to answer POST /v1/check, in seconds.");
	for (i = 0; i <= METRICS_NBOUNDS; i++) {
		cum += m->lat_buckets[i];
		if (i < METRICS_NBOUNDS) {
			metrics_seconds(le, sizeof le, metrics_bounds_us[i]);
			l.value = le;
		} else
			l.value = "+Inf";
		metrics_buf_sample_u64(b, LATENCY "_bucket", &l, 1, cum);
	}
	metrics_seconds(le, sizeof le, m->lat_sum_us);
	metrics_buf_sample(b, LATENCY "_sum", NULL, 0, le);
	metrics_buf_sample_u64(b, LATENCY "_count", NULL, 0, m->lat_count);
#undef LATENCY
}

/* The name of a site index. */
static const char *
metrics_site_name(const struct metrics *m, size_t idx)
{
	return idx == METRICS_OTHER_IDX ? METRICS_OTHER_SITE : m->sites[idx];
}

/*
 * Every decision of one site, zeros too, so that rate() sees a series from
 * the site's first comment on.
 */
static void
metrics_render_site_decisions(const struct metrics *m, struct metrics_buf *b,
    size_t site)
{
	struct metrics_label l[2] = { { "site", NULL }, { "decision", NULL } };
	size_t d;

	l[0].value = metrics_site_name(m, site);
	for (d = 0; d < METRICS_NDECISIONS; d++) {
		l[1].value = decision_name((enum decision)d);
		metrics_buf_sample_u64(b, "commentd_decisions_total", l, 2,
		    m->decisions[site][d]);
	}
}

/* Decisions by site, then those folded into "_other". */
static void
metrics_render_decisions(const struct metrics *m, struct metrics_buf *b)
{
	size_t s;

	metrics_buf_family(b, "commentd_decisions_total", "counter",
	    "Comments decided, by site and decision.");
	for (s = 0; s < m->nsites; s++)
		metrics_render_site_decisions(m, b, s);
	if (m->other_used)
		metrics_render_site_decisions(m, b, METRICS_OTHER_IDX);
}

/* Rule hits by site and rule, and what did not fit. */
static void
metrics_render_rules(const struct metrics *m, struct metrics_buf *b)
{
	static const char name[] = "commentd_rule_hits_total";
	struct metrics_label l[2] = { { "site", NULL }, { "rule", NULL } };
	size_t i;

	metrics_buf_family(b, name, "counter",
	    "Times a rule fired, by site and rule id.");
	for (i = 0; i < m->nrules; i++) {
		l[0].value = metrics_site_name(m, m->rules[i].site);
		l[1].value = m->rules[i].rule;
		metrics_buf_sample_u64(b, name, l, 2, m->rules[i].hits);
	}
	metrics_render_counter(b, "commentd_rule_hits_overflow_total",
	    "Rule hits not counted by rule because the number of "
	    "(site, rule) series reached its bound.", m->rule_overflow);
}

/* Reloads, connections and limits: the families without a dynamic label. */
static void
metrics_render_server(const struct metrics *m, struct metrics_buf *b)
{
	struct metrics_label l = { "kind", NULL };
	char secs[32];
	size_t i;

	metrics_render_counter(b, "commentd_reloads_total",
	    "Reloads attempted (SIGHUP or admin), successful or not.",
	    m->reloads);
	metrics_render_counter(b, "commentd_reload_failures_total",
	    "Reloads that failed; the previous config and policies kept "
	    "serving.", m->reload_failures);
	metrics_render_counter(b, "commentd_spooled_total",
	    "Queued comments stored in the spool because Redis could not "
	    "take them (replayed into Redis when it is back).", m->spooled);
	metrics_render_gauge(b, "commentd_spool_pending",
	    "Queued comments in the spool, not yet replayed into Redis.",
	    m->spool_pending);
	metrics_render_gauge(b, "commentd_spool_failing",
	    "1 while the spool cannot take a queued comment: it could not be "
	    "opened, or its last append failed (disk full, read-only).",
	    m->spool_failing ? 1 : 0);
	metrics_render_counter(b, "commentd_spool_refused_total",
	    "Queued comments answered 503 because Redis was away and the "
	    "spool could not take them either.", m->spool_refused);
	metrics_render_counter(b, "commentd_decisions_without_redis_total",
	    "Comments decided while Redis could not be asked: in-process rate "
	    "limits, and rules needing Redis queued.", m->without_redis);
	metrics_render_counter(b, "commentd_queue_refused_total",
	    "Queued comments answered 503 because Redis answered that it is "
	    "out of memory instead of storing them.",
	    m->refused_writes);
	metrics_render_gauge(b, "commentd_reload_last_successful",
	    "1 unless the last reload failed (the files on disk are then not "
	    "what is serving).", m->last_reload_failed ? 0 : 1);
	metrics_buf_family(b, "commentd_reload_last_duration_seconds", "gauge",
	    "How long the last reload took, successful or not (0 before the "
	    "first); requests wait for it.");
	metrics_seconds(secs, sizeof secs, m->last_reload_us);
	metrics_buf_sample(b, "commentd_reload_last_duration_seconds", NULL, 0,
	    secs);
	metrics_render_gauge(b, "commentd_connections_open",
	    "Client connections open now.", m->conn_open);
	metrics_render_counter(b, "commentd_connections_accepted_total",
	    "Client connections admitted.", m->conn_accepted);
	metrics_render_counter(b, "commentd_connections_rejected_total",
	    "Client connections closed at once because the connection limit "
	    "was reached.", m->conn_rejected);

	metrics_buf_family(b, "commentd_limits_hit_total", "counter",
	    "Requests cut short by a limit, by kind.");
	for (i = 0; i < METRICS_NLIMITS; i++) {
		l.value = metrics_limit_names[i];
		metrics_buf_sample_u64(b, "commentd_limits_hit_total", &l, 1,
		    m->limits[i]);
	}
}

/* The policy serving each site, and when the process started. */
static void
metrics_render_info(const struct metrics *m, struct metrics_buf *b)
{
	static const char name[] = "commentd_policy_info";
	struct metrics_label l[4] = {
		{ "site", NULL }, { "policy", NULL }, { "version", NULL },
		{ "digest", NULL }
	};
	size_t i;

	metrics_buf_family(b, name, "gauge",
	    "The policy serving each site (always 1).");
	for (i = 0; i < m->npolicies; i++) {
		l[0].value = m->policies[i].site;
		l[1].value = m->policies[i].policy;
		l[2].value = m->policies[i].version;
		l[3].value = m->policies[i].digest;
		metrics_buf_sample_u64(b, name, l, 4, 1);
	}
	metrics_render_gauge(b, "commentd_process_start_time_seconds",
	    "Start time of the process, in seconds since the Unix epoch.",
	    m->start_time);
}

/* Writes every family, in a fixed order, so pages diff cleanly. */
int
metrics_render(const struct metrics *m, struct metrics_buf *b)
{
	metrics_render_requests(m, b);
	metrics_render_latency(m, b);
	metrics_render_decisions(m, b);
	metrics_render_rules(m, b);
	metrics_render_server(m, b);
	metrics_render_info(m, b);
	return b->failed ? -1 : 0;
}
