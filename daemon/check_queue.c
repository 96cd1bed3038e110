/*
 * check_queue: stores a queued comment before its answer: in the site's
 * Redis stream through the idempotent enqueue script, or, when Redis cannot
 * be reached, in the spool, fsync'd.
 *
 * It must never let `queue` be answered for a comment that is stored
 * nowhere: when neither can take it, the answer is 503 (check_fail).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "check_int.h"
#include "json_writer.h"
#include "log.h"
#include "redis.h"
#include "redis_args.h"
#include "server_int.h"
#include "spool.h"
#include "verdict_json.h"

/*
 * The enqueue script's keys and arguments for this job's entry: the queue,
 * its index, the comment id, then the entry's fields (docs/redis.md).
 * Built again when the spool takes the entry, from the same job.
 */
static void
check_entry_args(struct check_job *job, struct redis_args *a,
    struct json_writer *reasons, const char *via)
{
	const char *prefix = job->cfg->redis.prefix, *site = job->site->name;
	const struct policy *p = job->site->policy;
	const char *decision = decision_name(job->v.decision);

	redis_args_init(a);
	redis_args_key(a, prefix, site, "queue", NULL, 0);
	redis_args_key(a, prefix, site, "queued", NULL, 0);
	redis_args_ref(a, job->cr.id, job->cr.id_len);
#define FIELD(k, s, n)	do { redis_args_ref(a, (k), strlen(k)); \
			    redis_args_ref(a, (s) != NULL ? (s) : "", \
			    (s) != NULL ? (n) : 0); } while (0)
	FIELD("id", job->cr.id, job->cr.id_len);
	FIELD("site", site, strlen(site));
	FIELD("thread", job->cr.thread, job->cr.thread_len);
	FIELD("author_id", job->cr.author_id, job->cr.author_id_len);
	FIELD("author_name", job->cr.author_name, job->cr.author_name_len);
	FIELD("author_ip", job->cr.author_ip, job->cr.author_ip != NULL ?
	    strlen(job->cr.author_ip) : 0);
	FIELD("body", job->cr.body, job->cr.body_len);
	FIELD("decision", decision, strlen(decision));
	redis_args_ref(a, "score", 5);
	redis_args_num(a, (uint64_t)(job->v.score < 0 ? 0 : job->v.score));
	FIELD("reasons", reasons->buf, reasons->len);
	FIELD("policy", p->name, p->name != NULL ? strlen(p->name) : 0);
	FIELD("policy_digest", p->digest, strlen(p->digest));
	redis_args_ref(a, "at_ms", 5);
	redis_args_num(a, job->at_ms);
	FIELD("via", via, strlen(via));
#undef FIELD
}

/*
 * Stores the entry in the spool (fsync'd before this returns), for replay
 * into Redis when it is back; otherwise the answer is 503.  The record is
 * the enqueue arguments without the keys, NUL-separated: no field holds a
 * NUL (the decoder refused them; the reasons' JSON escapes them).  Why an
 * append failed goes into check_fail's warning, which a full disk under
 * load would otherwise repeat for every comment.
 */
static void
check_spool(struct check_job *job)
{
	struct server *srv = job->srv;
	struct redis_args *a = srv->args[0];
	struct json_writer reasons, rec;
	char why[256];
	int saved = -1;

	server_spool_open(srv);
	json_writer_init(&reasons);
	json_writer_init(&rec);
	verdict_json_write_reasons(&reasons, &job->c, &job->v);
	check_entry_args(job, a, &reasons, "spool");
	for (int i = 2; i < a->n; i++) {
		json_writer_raw(&rec, a->v[i], a->len[i]);
		json_writer_raw(&rec, "", 1);
	}
	if (srv->spool == NULL)
		snprintf(why, sizeof why, "Redis is unavailable and there is "
		    "no spool");
	else if (reasons.failed || rec.failed || a->failed)
		snprintf(why, sizeof why, "Redis is unavailable and the spool "
		    "record could not be built: out of memory");
	else if ((saved = spool_append(srv->spool, rec.buf, rec.len)) == -1)
		snprintf(why, sizeof why, "Redis is unavailable and the spool "
		    "cannot take the comment: %s", strerror(errno));
	json_writer_free(&reasons);
	json_writer_free(&rec);
	if (saved == -1) {
		metrics_spool_refused(srv->metrics);
		check_fail(job, why);
		return;
	}
	job->spooled = true;
	metrics_spooled(srv->metrics);
	check_finish(job);
}

/*
 * The enqueue script's answer.  Stored: answer.  No answer (Redis gone or
 * past the deadline), or a passing refusal (LOADING after a restart, a
 * READONLY replica during a failover): the spool takes it, for replay.
 * Out of memory (maxmemory under noeviction): Redis is there and will keep
 * refusing; the spool would only hide that from the operator while it
 * fills, so the client is told to come back (503).
 */
static void
check_enqueue_cb(const redisReply *reply, const char *error, void *arg)
{
	struct check_job *job = arg;
	char why[256];

	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY &&
	    reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING) {
		check_finish(job);
		return;
	}
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "OOM", 3) == 0) {
		snprintf(why, sizeof why, "Redis refused to queue it: %.200s",
		    reply->str);
		metrics_redis_refused_write(job->srv->metrics);
		check_fail(job, why);
		return;
	}
	log_debug("redis enqueue of %.*s: %s; using the spool",
	    (int)job->cr.id_len, job->cr.id, reply == NULL ? error :
	    reply->type == REDIS_REPLY_ERROR ? reply->str :
	    "an unexpected answer");
	check_spool(job);
}

/* Stores a queued comment: the Redis stream, else the spool. */
void
check_enqueue(struct check_job *job)
{
	struct server *srv = job->srv;
	struct redis_args *a = srv->args[0];
	struct json_writer reasons;
	int rc = -1;

	json_writer_init(&reasons);
	verdict_json_write_reasons(&reasons, &job->c, &job->v);
	check_entry_args(job, a, &reasons, "redis");
	if (!reasons.failed && !a->failed)
		rc = redis_script_run(srv->redis, &srv->script_enqueue, 2,
		    a->n, a->v, a->len, check_enqueue_cb, job);
	json_writer_free(&reasons);
	if (rc == -1)
		check_spool(job);
}

