/*
 * admin_stats: what moderators and operators read about the work: the
 * audit trail of moderator actions, the queue's depth and age with the
 * outcomes of the last hour and day (by rule: how often moderators approved
 * or rejected what each rule queued), and the policies loaded.
 *
 * Stats read the decisions stream of the last day in pages, each its own
 * command so other requests are served between them, and stop at
 * STATS_READ_MAX entries (saying so) rather than hold anything longer.  This
 * file only reads; it must never write to Redis.
 */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "admin_job.h"
#include "redis_args.h"
#include "server_int.h"
#include "tally.h"

#define AUDIT_LIMIT_DEFAULT	50
#define AUDIT_LIMIT_MAX		1000
#define STATS_PAGE		500	/* decisions read at once */
#define STATS_READ_MAX		50000	/* decisions one stats request reads */
#define STATS_RULES_MAX		1000	/* rules counted by name per window */
#define STATS_OTHER_RULE	"_other"
#define STATS_HOUR_MS		(3600ull * 1000)
#define STATS_DAY_MS		(24 * STATS_HOUR_MS)
#define STATS_ID_MAX		48
#define STATS_RULE_LEN		200	/* longer ones are not a rule's */
#define STATS_HOUR_BUCKETS	12	/* five-minute buckets (tally.lua) */
#define STATS_DAY_BUCKETS	24	/* hour buckets */

/* The scratch argv with a command and one of the site's keys. */
static struct redis_args *
stats_args(struct admin_job *job, const char *cmd, const char *kind)
{
	struct redis_args *a = job->srv->args[0];

	redis_args_init(a);
	redis_args_ref(a, cmd, strlen(cmd));
	redis_args_key(a, job->prefix, job->site->name, kind, NULL, 0);
	return a;
}

/* --- GET /v1/admin/audit ------------------------------------------------ */

struct audit_job {
	struct admin_job	 job;		/* first: admin_job_start's */
	uint64_t		 limit;
};

/* An audit entry as the route answers it. */
static json_t *
audit_entry(const redisReply *e)
{
	return json_pack("{s:o,s:I,s:o,s:I,s:o,s:o,s:o,s:o}",
	    "entry", admin_json_bytes(e->element[0]->str, e->element[0]->len),
	    "at_ms", (json_int_t)admin_entry_uint(e, "at_ms"),
	    "moderator", admin_entry_json(e, "moderator"),
	    "uid", (json_int_t)admin_entry_uint(e, "uid"),
	    "action", admin_entry_json(e, "action"),
	    "target", admin_entry_json(e, "target"),
	    "note", admin_entry_opt(e, "note"),
	    "reason", admin_entry_opt(e, "reason"));
}

/* XREVRANGE: the newest entries first. */
static void
audit_entries(struct admin_job *job, const redisReply *reply)
{
	struct audit_job *aj = (struct audit_job *)job;
	json_t *list = json_array();
	const char *cursor = NULL;

	if (admin_job_redis_error(job, reply)) {
		json_decref(list);
		return;
	}
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY &&
	    i < reply->elements; i++) {
		if (!admin_entry_ok(reply->element[i]))
			continue;
		json_array_append_new(list, audit_entry(reply->element[i]));
		cursor = reply->element[i]->element[0]->str;
	}
	admin_job_reply(job, 200, json_pack("{s:s,s:o,s:b,s:s?}", "site",
	    job->site->name, "entries", list, "more",
	    reply->type == REDIS_REPLY_ARRAY && reply->elements == aj->limit,
	    "cursor", cursor));
}

int
admin_stats_audit(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	static const char *const params[] = { "site", "limit", "before",
	    NULL };
	struct audit_job *aj;
	struct redis_args *a;
	const char *before;
	char end[STATS_ID_MAX + 1];
	uint64_t ms = 0, seq = 0;

	if ((aj = (struct audit_job *)admin_job_start(srv, req,
	    METRICS_ROUTE_ADMIN, params, NULL, sizeof *aj)) == NULL)
		return ADMIN_LATER;
	if (admin_job_uint(&aj->job, "limit", AUDIT_LIMIT_DEFAULT, 1,
	    AUDIT_LIMIT_MAX, &aj->limit) == -1)
		return ADMIN_LATER;
	before = admin_url_param(&aj->job.q, "before");
	/* Nothing comes before 0-0, and Redis refuses a range ending there. */
	if (before != NULL && (!admin_url_stream_id(before, &ms, &seq) ||
	    (ms == 0 && seq == 0) || strlen(before) >= STATS_ID_MAX)) {
		admin_job_error(&aj->job, 400, "bad_value",
		    "\"before\" must be a stream id (MS-SEQ) from an earlier "
		    "answer", "before");
		return ADMIN_LATER;
	}
	snprintf(end, sizeof end, "(%s", before != NULL ? before : "");
	a = stats_args(&aj->job, "XREVRANGE", "audit");
	redis_args_copy(a, before != NULL ? end : "+", before != NULL ?
	    strlen(end) : 1);
	redis_args_ref(a, "-", 1);
	redis_args_ref(a, "COUNT", 5);
	redis_args_num(a, aj->limit);
	admin_job_send(&aj->job, a, audit_entries);
	return ADMIN_LATER;
}

/* --- GET /v1/admin/stats ------------------------------------------------ */

struct stats_job {
	struct admin_job	 job;		/* first: admin_job_start's */
	uint64_t		 now_ms;	/* Redis's clock */
	uint64_t		 depth, claimed, read;
	json_t			*oldest_age_s;	/* null when empty */
	json_t			*hour, *day;
	json_t			*verdicts;	/* the daemons' own, by window */
	bool			 truncated;
	char			 cursor[STATS_ID_MAX + 1];	/* "(ID" */
};

/* Drops what the route built. */
static void
stats_cleanup(struct admin_job *job)
{
	struct stats_job *sj = (struct stats_job *)job;

	json_decref(sj->oldest_age_s);
	json_decref(sj->hour);
	json_decref(sj->day);
	json_decref(sj->verdicts);
}

/* An empty window: outcomes, and the same by rule. */
static json_t *
stats_window(void)
{
	return json_pack("{s:i,s:i,s:o}", "approve", 0, "reject", 0,
	    "by_rule", json_object());
}

/* Adds n to a counter member of obj. */
static void
stats_add(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);

	json_integer_set(v, json_integer_value(v) + n);
}

/* Counts one decision into a window: its outcome, and by each rule. */
static void
stats_count(json_t *w, const char *outcome, json_t *rules)
{
	json_t *by = json_object_get(w, "by_rule"), *r;
	const char *rule;
	size_t i;

	stats_add(w, outcome, 1);
	json_array_foreach(rules, i, r) {
		rule = json_string_value(r);
		if (json_object_get(by, rule) == NULL) {
			if (json_object_size(by) >= STATS_RULES_MAX)
				rule = STATS_OTHER_RULE;
			if (json_object_get(by, rule) == NULL)
				json_object_set_new(by, rule, json_pack(
				    "{s:i,s:i}", "approve", 0, "reject", 0));
		}
		stats_add(json_object_get(by, rule), outcome, 1);
	}
}

static void	stats_page(struct stats_job *);
static void	stats_depth(struct admin_job *, const redisReply *);
static void	stats_tally_sum(struct stats_job *);

/* A page of the last day's decisions, counted into both windows. */
static void
stats_decisions(struct admin_job *job, const redisReply *reply)
{
	struct stats_job *sj = (struct stats_job *)job;
	const redisReply *e, *outcome;
	json_t *rules;
	uint64_t at;

	if (admin_job_redis_error(job, reply))
		return;
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY &&
	    i < reply->elements; i++) {
		e = reply->element[i];
		if (!admin_entry_ok(e))
			continue;
		snprintf(sj->cursor, sizeof sj->cursor, "(%s",
		    e->element[0]->str);
		sj->read++;
		if ((outcome = admin_entry_field(e, "outcome")) == NULL ||
		    (strcmp(outcome->str, "approve") != 0 &&
		    strcmp(outcome->str, "reject") != 0))
			continue;
		rules = admin_entry_list(e, "rules");
		at = admin_entry_uint(e, "at_ms");
		stats_count(sj->day, outcome->str, rules);
		if (at + STATS_HOUR_MS >= sj->now_ms)
			stats_count(sj->hour, outcome->str, rules);
		json_decref(rules);
	}
	if (reply->type == REDIS_REPLY_ARRAY &&
	    reply->elements == STATS_PAGE) {
		if (sj->read < STATS_READ_MAX) {
			stats_page(sj);
			return;
		}
		sj->truncated = true;
	}
	admin_job_reply(job, 200, json_pack("{s:s,s:{s:I,s:O,s:I},"
	    "s:O,s:{s:O,s:O},s:I,s:b}", "site", job->site->name,
	    "queue", "depth", (json_int_t)sj->depth, "oldest_age_s",
	    sj->oldest_age_s, "claimed", (json_int_t)sj->claimed,
	    "verdicts", sj->verdicts,
	    "decisions", "last_hour", sj->hour, "last_day", sj->day,
	    "decisions_read", (json_int_t)sj->read,
	    "truncated", sj->truncated));
}

/* Asks for the next page of decisions after the cursor. */
static void
stats_page(struct stats_job *sj)
{
	struct redis_args *a = stats_args(&sj->job, "XRANGE", "decisions");

	redis_args_copy(a, sj->cursor, strlen(sj->cursor));
	redis_args_ref(a, "+", 1);
	redis_args_ref(a, "COUNT", 5);
	redis_args_num(a, STATS_PAGE);
	admin_job_send(&sj->job, a, stats_decisions);
}

/* XPENDING summary: entries claimed and not yet decided. */
static void
stats_claimed(struct admin_job *job, const redisReply *reply)
{
	struct stats_job *sj = (struct stats_job *)job;
	uint64_t from;

	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOGROUP", 7) != 0 &&
	    admin_job_redis_error(job, reply))
		return;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
	    reply->element[0]->type == REDIS_REPLY_INTEGER &&
	    reply->element[0]->integer > 0)
		sj->claimed = (uint64_t)reply->element[0]->integer;
	from = sj->now_ms > STATS_DAY_MS ? sj->now_ms - STATS_DAY_MS : 0;
	snprintf(sj->cursor, sizeof sj->cursor, "%llu",
	    (unsigned long long)from);
	stats_page(sj);
}

/* XRANGE - + COUNT 1: the oldest pending comment. */
static void
stats_oldest(struct admin_job *job, const redisReply *reply)
{
	struct stats_job *sj = (struct stats_job *)job;
	struct redis_args *a;
	uint64_t at;

	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
	    admin_entry_ok(reply->element[0])) {
		at = admin_entry_uint(reply->element[0], "at_ms");
		json_decref(sj->oldest_age_s);
		sj->oldest_age_s = json_integer(sj->now_ms > at ?
		    (json_int_t)((sj->now_ms - at) / 1000) : 0);
	}
	a = stats_args(job, "XPENDING", "queue");
	redis_args_ref(a, "moderators", 10);
	admin_job_send(job, a, stats_claimed);
}

/*
 * One window of the daemons' own decisions from tally_sum's flat list
 * (field, total, ...; a field is DECISION or RULE:DECISION): totals by
 * decision, and by rule (at most STATS_RULES_MAX by name).
 */
static json_t *
stats_verdicts(const redisReply *flat)
{
	static const char *const decisions[] = { "accept", "queue", "reject" };
	json_t *w = json_object(), *by = json_object(), *r;
	const redisReply *f, *n;
	const char *colon, *decision;
	char rule[STATS_RULE_LEN + 1];
	size_t len;

	for (size_t i = 0; i < 3; i++)
		json_object_set_new(w, decisions[i], json_integer(0));
	for (size_t i = 0; flat->type == REDIS_REPLY_ARRAY &&
	    i + 1 < flat->elements; i += 2) {
		f = flat->element[i];
		n = flat->element[i + 1];
		if (f->type != REDIS_REPLY_STRING ||
		    n->type != REDIS_REPLY_INTEGER || n->integer < 0)
			continue;
		colon = memrchr(f->str, ':', f->len);
		decision = colon != NULL ? colon + 1 : f->str;
		if (json_object_get(w, decision) == NULL)
			continue;	/* not a decision: not ours */
		if (colon == NULL) {
			stats_add(w, decision, n->integer);
			continue;
		}
		len = (size_t)(colon - f->str);
		if (len == 0 || len > STATS_RULE_LEN)
			continue;
		memcpy(rule, f->str, len);
		rule[len] = '\0';
		if ((r = json_object_get(by, rule)) == NULL) {
			if (json_object_size(by) >= STATS_RULES_MAX)
				snprintf(rule, sizeof rule, "%s",
				    STATS_OTHER_RULE);
			if ((r = json_object_get(by, rule)) == NULL) {
				r = json_pack("{s:i,s:i,s:i}", "accept", 0,
				    "queue", 0, "reject", 0);
				json_object_set_new(by, rule, r);
			}
		}
		stats_add(r, decision, n->integer);
	}
	json_object_set_new(w, "by_rule", by);
	return w;
}

/* tally_sum: the daemons' decisions of the last hour and day. */
static void
stats_tally(struct admin_job *job, const redisReply *reply)
{
	struct stats_job *sj = (struct stats_job *)job;
	struct redis_args *a;

	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
		admin_job_error(job, 500, "internal", "the stats script "
		    "answered something else than two windows", NULL);
		return;
	}
	sj->verdicts = json_pack("{s:o,s:o}",
	    "last_hour", stats_verdicts(reply->element[0]),
	    "last_day", stats_verdicts(reply->element[1]));
	a = stats_args(job, "XLEN", "queue");
	admin_job_send(job, a, stats_depth);
}

/*
 * Sums the time buckets tally.c fills: the last hour is the current
 * five-minute bucket and the eleven before it, the last day the current
 * hour bucket and the 23 before it (docs/redis.md).
 */
static void
stats_tally_sum(struct stats_job *sj)
{
	struct redis_args *a = sj->job.srv->args[0];
	const char *prefix = sj->job.prefix, *site = sj->job.site->name;
	uint64_t now_s = sj->now_ms / 1000;
	char num[24];
	int n;

	redis_args_init(a);
	for (uint64_t b = now_s / 300 - (STATS_HOUR_BUCKETS - 1);
	    b <= now_s / 300; b++) {
		n = snprintf(num, sizeof num, "%llu", (unsigned long long)b);
		redis_args_key(a, prefix, site, "tally:5m", num, (size_t)n);
	}
	for (uint64_t b = now_s / 3600 - (STATS_DAY_BUCKETS - 1);
	    b <= now_s / 3600; b++) {
		n = snprintf(num, sizeof num, "%llu", (unsigned long long)b);
		redis_args_key(a, prefix, site, "tally:1h", num, (size_t)n);
	}
	redis_args_num(a, STATS_HOUR_BUCKETS);
	admin_job_script(&sj->job, tally_sum_script(sj->job.srv->tally),
	    STATS_HOUR_BUCKETS + STATS_DAY_BUCKETS, a, stats_tally);
}

/* XLEN: the queue's depth. */
static void
stats_depth(struct admin_job *job, const redisReply *reply)
{
	struct stats_job *sj = (struct stats_job *)job;
	struct redis_args *a;

	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
		sj->depth = (uint64_t)reply->integer;
	a = stats_args(job, "XRANGE", "queue");
	redis_args_ref(a, "-", 1);
	redis_args_ref(a, "+", 1);
	redis_args_ref(a, "COUNT", 5);
	redis_args_ref(a, "1", 1);
	admin_job_send(job, a, stats_oldest);
}

/* TIME: Redis's clock, the one the stream ids and at_ms come from. */
static void
stats_time(struct admin_job *job, const redisReply *reply)
{
	struct stats_job *sj = (struct stats_job *)job;

	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING) {
		admin_job_error(job, 500, "internal", "TIME answered "
		    "something else than a time", NULL);
		return;
	}
	sj->now_ms = strtoull(reply->element[0]->str, NULL, 10) * 1000;
	stats_tally_sum(sj);
}

int
admin_stats_stats(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	static const char *const params[] = { "site", NULL };
	struct stats_job *sj;
	struct redis_args *a;

	if ((sj = (struct stats_job *)admin_job_start(srv, req,
	    METRICS_ROUTE_ADMIN, params, NULL, sizeof *sj)) == NULL)
		return ADMIN_LATER;
	sj->job.cleanup = stats_cleanup;
	sj->oldest_age_s = json_null();
	sj->hour = stats_window();
	sj->day = stats_window();
	a = srv->args[0];
	redis_args_init(a);
	redis_args_ref(a, "TIME", 4);
	admin_job_send(&sj->job, a, stats_time);
	return ADMIN_LATER;
}

/* --- GET /v1/admin/policy ----------------------------------------------- */

/* One site's policy: what it is and how much it holds. */
static json_t *
policy_site(const struct config *cfg, const struct config_site *s)
{
	const struct policy *p = s->policy;

	return json_pack("{s:s,s:b,s:s?,s:s?,s:s,s:s?,s:{s:I,s:I,s:I,s:I,"
	    "s:I,s:I,s:I}}", "site", s->name,
	    "default", strcmp(s->name, cfg->default_site) == 0,
	    "policy", p->name, "version", p->version, "digest", p->digest,
	    "path", s->policy_path, "counts",
	    "rules", (json_int_t)p->nrules,
	    "wordlists", (json_int_t)p->nwordlists,
	    "regexes", (json_int_t)p->nregexes,
	    "checks", (json_int_t)p->nchecks,
	    "rate_limits", (json_int_t)p->nrate_limits,
	    "allow_terms", (json_int_t)p->nallow_terms,
	    "examples", (json_int_t)p->nexamples);
}

int
admin_stats_policy(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	static const char *const params[] = { NULL };
	const char *query = evhttp_uri_get_query(
	    evhttp_request_get_evhttp_uri(req));
	struct admin_query q;
	struct admin_url_error err;
	json_t *sites = json_array();

	if (admin_url_query(query, params, &q, &err) == -1) {
		json_decref(sites);
		admin_send_error(srv, req, METRICS_ROUTE_ADMIN, 400, err.code,
		    err.message, err.field[0] != '\0' ? err.field : NULL);
		return ADMIN_LATER;
	}
	for (size_t i = 0; i < srv->cfg->nsites; i++)
		json_array_append_new(sites, policy_site(srv->cfg,
		    &srv->cfg->sites[i]));
	admin_send_json(srv, req, METRICS_ROUTE_ADMIN, 200, json_pack(
	    "{s:s,s:o}", "default_site", srv->cfg->default_site, "sites",
	    sites));
	return ADMIN_LATER;
}
