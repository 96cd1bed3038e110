/*
 * check_state: a check's trip through Redis, from the engine's verdict to
 * the answer.
 *
 * A job is one request between its verdict and its answer.  It owns copies
 * of everything it needs (the decoded request, the verdict, a reference to
 * the config), so nothing it points to can change under it while Redis
 * answers.  Each path ends in check_finish() or check_fail(), which answer
 * and free it: Redis's callbacks are called exactly once (redis.h), so a
 * job is answered exactly once.  Storing a queued comment is
 * check_queue.c's.  It must never answer `queue` for a comment that is not
 * stored, and never turn a failure into an accept.
 */
#include "check_state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "check_int.h"
#include "conn.h"
#include "errlist.h"
#include "eval_state.h"
#include "fingerprint.h"
#include "gcra.h"
#include "http_reply.h"
#include "log.h"
#include "monotonic.h"
#include "redis.h"
#include "redis_args.h"
#include "server_int.h"
#include "tally.h"
#include "verdict_json.h"

/* How long a comment id is remembered, at least (docs/redis.md). */
#define CHECK_SEEN_TTL_S	(24 * 3600)


/* Whether a repeated warning may be logged again (every 10 s at most). */
bool
check_warn_due(struct server *srv)
{
	return monotonic_every(&srv->warned_us, 10000000);
}

/* Frees a job and drops its reference to the config. */
static void
check_job_free(struct check_job *job)
{
	conns_hold(job->srv->conns, -1);
	request_free(&job->cr);
	verdict_free(&job->v);
	free(job->limits);
	config_unref(job->cfg);
	free(job);
}

/* The one log line of a decision: ids, site, decision, rules, time. */
static void
log_decision(const struct check_request *cr, const char *site,
    const struct verdict *v, bool spooled, uint64_t took)
{
	char id[300], rules[512];
	size_t o = 0;

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	rules[0] = '\0';
	for (size_t i = 0; i < v->nreasons && o + 2 < sizeof rules; i++)
		o += (size_t)snprintf(rules + o, sizeof rules - o, "%s%s",
		    i ? "," : "", v->reasons[i].id);
	log_info("decision id=%s site=%s decision=%s score=%d rules=%s "
	    "dry_run=%d spooled=%d us=%llu",
	    errlist_quote(cr->id, cr->id_len, SIZE_MAX, id, sizeof id), site,
	    decision_name(v->decision), v->score, rules[0] ? rules : "-",
	    cr->dry_run, spooled, (unsigned long long)took);
}

/* Answers a verdict, counts it and logs it. */
static void
check_answer(struct server *srv, struct evhttp_request *req,
    const struct config_site *site, const struct check_request *cr,
    const struct comment *c, const struct verdict *v, uint32_t retry_after_s,
    bool spooled, uint64_t t0)
{
	struct json_writer *w = &srv->answer;
	struct vj_id id = { cr->id, cr->id_len, false };
	uint64_t took = monotonic_us() - t0;
	int status;

	metrics_check_latency(srv->metrics, took);
	metrics_decision(srv->metrics, site->name, v->decision);
	for (size_t i = 0; i < v->nreasons; i++)
		metrics_rule_hit(srv->metrics, site->name, v->reasons[i].id);
	log_decision(cr, site->name, v, spooled, took);
	json_writer_reset(w);
	verdict_json_write(w, &id, c, v, site->policy, retry_after_s, took);
	status = http_reply_json(req, 200, NULL, w);
	metrics_request(srv->metrics, METRICS_ROUTE_CHECK, status);
}

/* Answers a job's verdict and frees the job. */
void
check_finish(struct check_job *job)
{
	/* A dry run decides nothing; a retry was counted the first time. */
	if (!job->cr.dry_run && !job->facts.seen)
		tally_count(job->srv->tally, job->site->name, &job->v);
	check_answer(job->srv, job->req, job->site, &job->cr, &job->c,
	    &job->v, job->retry_after_s, job->spooled, job->t0);
	check_job_free(job);
}

/*
 * Answers 503 with Retry-After: the comment could not be stored, so no
 * decision is given (never a `queue` that is not stored).
 */
void
check_fail(struct check_job *job, const char *why)
{
	struct server *srv = job->srv;
	struct json_writer w;
	struct vj_id id = { job->cr.id, job->cr.id_len, false };
	int status;

	if (check_warn_due(srv))
		log_warnx("check id %.*s: %s; answered 503 (repeats are not "
		    "logged for 10 s)", (int)job->cr.id_len, job->cr.id, why);
	json_writer_init(&w);
	verdict_json_write_error(&w, &id, "unavailable", "the comment cannot "
	    "be stored for review right now; send it again later", NULL);
	status = http_reply_json(job->req, 503, HTTP_RETRY_AFTER_S, &w);
	json_writer_free(&w);
	metrics_request(srv->metrics, METRICS_ROUTE_CHECK, status);
	check_job_free(job);
}

/*
 * Adds the key of a rate limit for this comment to a, or returns false when
 * the comment lacks what the limit is keyed by (no ip, no thread): such a
 * limit is not checked.
 */
static bool
check_limit_key(const struct check_job *job, const struct rate_limit *rl,
    const char *prefix, struct redis_args *a)
{
	const struct check_request *cr = &job->cr;
	const char *site = job->site->name;
	char kind[160];

	snprintf(kind, sizeof kind, "rl:%s", rl->id);
	switch (rl->key) {
	case RATE_KEY_AUTHOR:
		redis_args_key(a, prefix, site, kind, cr->author_id,
		    cr->author_id_len);
		return true;
	case RATE_KEY_IP:
		if (cr->author_ip == NULL)
			return false;
		redis_args_key(a, prefix, site, kind, cr->author_ip,
		    strlen(cr->author_ip));
		return true;
	case RATE_KEY_THREAD:
		if (cr->thread == NULL)
			return false;
		redis_args_key(a, prefix, site, kind, cr->thread,
		    cr->thread_len);
		return true;
	case RATE_KEY_AUTHOR_THREAD:
		if (cr->thread == NULL)
			return false;
		redis_args_key2(a, prefix, site, kind, cr->author_id,
		    cr->author_id_len, cr->thread, cr->thread_len);
		return true;
	case RATE_KEY_SITE:
		redis_args_key(a, prefix, site, kind, "-", 1);
		return true;
	}
	return false;
}

/* The decision again, with the facts; then store it if queued, and answer. */
static void	check_decide(struct check_job *);

/*
 * Without Redis: rate limits from the in-process limiter (exact for this
 * process), the author and duplicate facts unknown (eval_state then queues
 * where a policy needs them).  The limiter's keys are the Redis keys.
 */
static void
check_facts_local(struct check_job *job)
{
	const struct policy *p = job->site->policy;
	struct redis_args *a = job->srv->args[0];
	struct gcra_limit gl;
	int64_t now = (int64_t)monotonic_us(), retry;
	bool all = true;

	memset(&job->facts, 0, sizeof job->facts);
	job->facts.limits = job->limits;
	metrics_without_redis(job->srv->metrics);
	/* Check every limit, then charge all only if all allow. */
	for (int charge = 0; charge < 2 && all; charge++) {
		for (size_t i = 0; i < p->nrate_limits; i++) {
			const struct rate_limit *rl = &p->rate_limits[i];
			struct state_limit *sl = &job->limits[i];

			redis_args_init(a);
			sl->checked = check_limit_key(job, rl, "", a) &&
			    !a->failed;
			if (!sl->checked)
				continue;
			gcra_limit_init(&gl, rl->count, rl->period_s,
			    rl->burst);
			sl->allowed = gcra_table_step(job->srv->local_limits,
			    a->v[0], a->len[0], now, &gl,
			    charge && !job->cr.dry_run, &retry) == 1;
			sl->retry_after_ms = sl->allowed ? 0 :
			    (uint32_t)((retry + 999) / 1000);
			if (!sl->allowed)
				all = false;
		}
	}
}

/* Reads the check script's flat array into the facts. */
static int
check_facts_parse(struct check_job *job, const redisReply *r)
{
	const struct policy *p = job->site->policy;
	size_t k = 5;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 7)
		return -1;
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER ||
		    r->element[i]->integer < 0)
			return -1;
#define E(i)	((uint64_t)r->element[(i)]->integer)
#define U32(v)	((v) > UINT32_MAX ? UINT32_MAX : (uint32_t)(v))
	memset(&job->facts, 0, sizeof job->facts);
	job->facts.limits = job->limits;
	job->facts.available = true;
	job->facts.seen = E(0) != 0;
	job->facts.banned = E(1) != 0;
	job->facts.trusted = E(2) != 0;
	job->facts.approved = U32(E(3));
	for (size_t i = 0; i < p->nrate_limits; i++) {
		if (!job->limits[i].checked)
			continue;
		if (k + 2 > r->elements - 2)
			return -1;
		job->limits[i].allowed = E(k) != 0;
		job->limits[i].retry_after_ms = U32(E(k + 1));
		k += 2;
	}
	if (k != r->elements - 2)
		return -1;
	job->facts.dup_same = E(k) != 0;
	job->facts.dup_authors = U32(E(k + 1));
#undef E
#undef U32
	return 0;
}

/* The check script's answer: the facts, or the local ones if it failed. */
static void
check_facts_cb(const redisReply *reply, const char *error, void *arg)
{
	struct check_job *job = arg;

	if (reply == NULL || check_facts_parse(job, reply) == -1) {
		/* Once every 10 s at most: under load this is every request. */
		if (reply != NULL && check_warn_due(job->srv))
			log_warnx("redis check script: %s%s; deciding with "
			    "in-process limits", reply->type == REDIS_REPLY_ERROR ?
			    "" : "an unexpected answer", reply->type ==
			    REDIS_REPLY_ERROR ? reply->str : "");
		else
			log_debug("redis check script: %s", reply == NULL ?
			    error : "an error");
		check_facts_local(job);
	}
	check_decide(job);
}

/*
 * Sends the check script with its keys and arguments in the order
 * check.lua documents; -1 when it could not be sent (Redis down, too many
 * in flight, an argv too large).
 */
static int
check_facts_redis(struct check_job *job)
{
	const struct policy *p = job->site->policy;
	const char *prefix = job->cfg->redis.prefix, *site = job->site->name;
	struct redis_args *keys = job->srv->args[0], *argv = job->srv->args[1];
	struct gcra_limit gl;
	uint64_t seen_ttl = CHECK_SEEN_TTL_S, nlim = 0;
	bool same, many;
	int nkeys;

	redis_args_init(keys);
	redis_args_init(argv);
	redis_args_key(keys, prefix, site, "seen", job->cr.id, job->cr.id_len);
	redis_args_key(keys, prefix, site, "author", job->cr.author_id,
	    job->cr.author_id_len);
	for (size_t i = 0; i < p->nrate_limits; i++) {
		const struct rate_limit *rl = &p->rate_limits[i];

		job->limits[i].checked = check_limit_key(job, rl, prefix, keys);
		if (!job->limits[i].checked)
			continue;
		gcra_limit_init(&gl, rl->count, rl->period_s, rl->burst);
		redis_args_num(argv, (uint64_t)gl.emission_us);
		redis_args_num(argv, (uint64_t)gl.tolerance_us);
		nlim++;
	}
	same = p->dup_same_author.enabled && job->has_fp;
	many = p->dup_many_authors.enabled && job->has_fp;
	if (same) {
		redis_args_key2(keys, prefix, site, "dup:a", job->cr.author_id,
		    job->cr.author_id_len, job->fp, FINGERPRINT_HEX);
		if (p->dup_same_author.window_s > seen_ttl)
			seen_ttl = p->dup_same_author.window_s;
	}
	if (many) {
		redis_args_key(keys, prefix, site, "dup:f", job->fp,
		    FINGERPRINT_HEX);
		if (p->dup_many_authors.window_s > seen_ttl)
			seen_ttl = p->dup_many_authors.window_s;
	}
	redis_args_num(argv, same ? p->dup_same_author.window_s : 0);
	redis_args_num(argv, many ? p->dup_many_authors.window_s : 0);
	redis_args_ref(argv, job->cr.author_id, job->cr.author_id_len);

	/* ARGV starts with dry run, N and the seen TTL, known only now. */
	nkeys = keys->n;
	redis_args_ref(keys, job->cr.dry_run ? "1" : "0", 1);
	redis_args_num(keys, nlim);
	redis_args_num(keys, seen_ttl);
	redis_args_append(keys, argv);
	if (keys->failed)
		return -1;
	return redis_script_run(job->srv->redis, &job->srv->script_check,
	    nkeys, keys->n, keys->v, keys->len, check_facts_cb, job);
}

static void
check_decide(struct check_job *job)
{
	struct timespec ts;

	eval_state_apply(job->site->policy, &job->facts, &job->v,
	    &job->retry_after_s);
	if (job->v.decision != DECISION_QUEUE || job->cr.dry_run) {
		check_finish(job);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	job->at_ms = (uint64_t)ts.tv_sec * 1000 +
	    (uint64_t)ts.tv_nsec / 1000000;
	check_enqueue(job);
}

/* Copies a verdict, reasons and all, so the job owns it. */
static int
check_verdict_copy(struct verdict *dst, const struct verdict *src)
{
	verdict_init(dst);
	*dst = *src;
	dst->reasons = NULL;
	dst->cap = 0;
	if (src->nreasons == 0)
		return 0;
	if ((dst->reasons = malloc(src->nreasons * sizeof *dst->reasons)) ==
	    NULL)
		return -1;
	memcpy(dst->reasons, src->reasons, src->nreasons * sizeof
	    *dst->reasons);
	dst->cap = src->nreasons;
	return 0;
}

void
check_state_run(struct server *srv, struct evhttp_request *req,
    const struct config_site *site, struct check_request *cr,
    const struct verdict *v, uint64_t t0)
{
	const struct policy *p = site->policy;
	struct check_job *job;
	struct comment c;

	/* Stateless: nothing to ask, nothing to store; answer now. */
	if (srv->redis == NULL) {
		request_comment(cr, &c);
		check_answer(srv, req, site, cr, &c, v, 0, false, t0);
		request_free(cr);
		return;
	}
	if ((job = calloc(1, sizeof *job)) == NULL ||
	    (job->limits = calloc(p->nrate_limits + 1,
	    sizeof *job->limits)) == NULL ||
	    check_verdict_copy(&job->v, v) == -1) {
		if (job != NULL) {
			free(job->limits);
			free(job);
		}
		request_free(cr);
		evhttp_send_error(req, 500, "Internal Server Error");
		metrics_request(srv->metrics, METRICS_ROUTE_CHECK, 500);
		return;
	}
	job->srv = srv;
	conns_hold(srv->conns, 1);
	job->req = req;
	job->cfg = config_ref(srv->cfg);
	job->site = site;
	job->cr = *cr;
	memset(cr, 0, sizeof *cr);
	request_comment(&job->cr, &job->c);
	job->t0 = t0;
	job->facts.limits = job->limits;
	/* Emoji or punctuation alone have no fingerprint: no duplicates. */
	if (p->dup_same_author.enabled || p->dup_many_authors.enabled)
		job->has_fp = fingerprint_text(job->cr.body, job->cr.body_len,
		    job->fp);
	if (check_facts_redis(job) == -1) {
		check_facts_local(job);
		check_decide(job);
	}
}
