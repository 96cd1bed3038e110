/*
 * decisions: GET /v1/decisions, the decisions stream P:{S}:decisions read
 * from a cursor (the last stream id a client has seen), long-polling up to
 * `wait` seconds.  See decisions.h.
 *
 * The one Redis connection is shared by every request, so a wait is never
 * an XREAD BLOCK, which would stall all of them behind it: a request that
 * found nothing asks again every DECISIONS_POLL_MS until something arrives
 * or its wait is over.  Between asks, a timer every DECISIONS_TICK_MS looks
 * for a stop, so a stop answers a waiting request at once (with what it
 * has: nothing, and its cursor) instead of holding the daemon up.  This
 * file only reads the stream; it must never write to Redis.
 */
#include "decisions.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "admin_job.h"
#include "monotonic.h"
#include "server_int.h"

#define DECISIONS_ID_MAX	48	/* a stream id, "MS-SEQ" */

struct feed_job {
	struct admin_job	 job;		/* first: admin_job_start's */
	struct event		*tick;
	uint64_t		 limit;
	uint64_t		 deadline_us;	/* monotonic: the wait ends */
	uint64_t		 next_ask_us;
	char			 cursor[DECISIONS_ID_MAX];	/* "" = start */
};

/* Frees the tick. */
static void
feed_cleanup(struct admin_job *job)
{
	struct feed_job *fj = (struct feed_job *)job;

	if (fj->tick != NULL)
		event_free(fj->tick);
}

/* A decision as the feed answers it. */
static json_t *
feed_entry(const redisReply *e)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:o,s:o}",
	    "entry", admin_json_bytes(e->element[0]->str, e->element[0]->len),
	    "id", admin_entry_json(e, "id"),
	    "outcome", admin_entry_json(e, "outcome"),
	    "reason", admin_entry_opt(e, "reason"),
	    "note", admin_entry_opt(e, "note"),
	    "moderator", admin_entry_json(e, "moderator"),
	    "uid", (json_int_t)admin_entry_uint(e, "uid"),
	    "at_ms", (json_int_t)admin_entry_uint(e, "at_ms"),
	    "author_id", admin_entry_json(e, "author_id"),
	    "thread", admin_entry_json(e, "thread"),
	    "rules", admin_entry_list(e, "rules"));
}

/* Answers the decisions found (maybe none) and the cursor after them. */
static void
feed_answer(struct feed_job *fj, json_t *list)
{
	admin_job_reply(&fj->job, 200, json_pack("{s:s,s:o,s:s}", "site",
	    fj->job.site->name, "decisions", list != NULL ? list :
	    json_array(), "cursor", fj->cursor[0] != '\0' ? fj->cursor :
	    "0-0"));
}

/* Waits for the next tick. */
static void
feed_wait(struct feed_job *fj)
{
	struct timeval tv = { 0, DECISIONS_TICK_MS * 1000 };

	evtimer_add(fj->tick, &tv);
}

static void	feed_ask(struct feed_job *);

/* XRANGE's entries: answered when there are some, or the wait is over. */
static void
feed_entries(struct admin_job *job, const redisReply *reply)
{
	struct feed_job *fj = (struct feed_job *)job;
	json_t *list;

	if (!admin_job_expect(job, reply, REDIS_REPLY_ARRAY, "XRANGE"))
		return;
	list = json_array();
	for (size_t i = 0; i < reply->elements; i++) {
		const redisReply *e = reply->element[i];

		/* The cursor moves past every entry, even one not shown. */
		if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
		    e->element[0]->type == REDIS_REPLY_STRING &&
		    e->element[0]->len < sizeof fj->cursor) {
			memcpy(fj->cursor, e->element[0]->str,
			    e->element[0]->len);
			fj->cursor[e->element[0]->len] = '\0';
		}
		if (admin_entry_ok(e))
			json_array_append_new(list, feed_entry(e));
	}
	if (reply->elements > 0 || job->srv->stopping ||
	    monotonic_us() >= fj->deadline_us) {
		feed_answer(fj, list);
		return;
	}
	json_decref(list);
	fj->next_ask_us = monotonic_us() + DECISIONS_POLL_MS * 1000;
	feed_wait(fj);
}

/* A tick: a stop is answered now; otherwise ask again when it is time. */
static void
feed_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct feed_job *fj = arg;
	uint64_t now = monotonic_us();

	(void)fd;
	(void)what;
	if (fj->job.srv->stopping)
		feed_answer(fj, NULL);
	else if (now >= fj->next_ask_us || now >= fj->deadline_us)
		feed_ask(fj);
	else
		feed_wait(fj);
}

/* Asks for the entries after the cursor. */
static void
feed_ask(struct feed_job *fj)
{
	admin_job_xrange(&fj->job, "decisions", fj->cursor, fj->limit,
	    feed_entries);
}

int
decisions_feed(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	static const char *const params[] = { "site", "after", "wait",
	    "limit", NULL };
	struct feed_job *fj;
	const char *after;
	uint64_t wait_s;

	if ((fj = (struct feed_job *)admin_job_start(srv, req,
	    METRICS_ROUTE_DECISIONS, params, NULL, sizeof *fj)) == NULL)
		return ADMIN_LATER;
	fj->job.cleanup = feed_cleanup;
	if (admin_job_uint(&fj->job, "limit", DECISIONS_LIMIT_DEFAULT, 1,
	    DECISIONS_LIMIT_MAX, &fj->limit) == -1 ||
	    admin_job_uint(&fj->job, "wait", 0, 0, DECISIONS_WAIT_MAX_S,
	    &wait_s) == -1)
		return ADMIN_LATER;
	after = admin_url_param(&fj->job.q, "after");
	if (after != NULL && (!admin_url_cursor(after) ||
	    strlen(after) >= sizeof fj->cursor)) {
		admin_job_error(&fj->job, 400, "bad_value", "\"after\" must be "
		    "a cursor from an earlier answer (a stream id, MS-SEQ)",
		    "after");
		return ADMIN_LATER;
	}
	if (after != NULL)
		snprintf(fj->cursor, sizeof fj->cursor, "%s", after);
	if ((fj->tick = evtimer_new(srv->base, feed_tick_cb, fj)) == NULL) {
		admin_job_error(&fj->job, 500, "internal", "out of memory",
		    NULL);
		return ADMIN_LATER;
	}
	fj->deadline_us = monotonic_us() + wait_s * 1000000;
	feed_ask(fj);
	return ADMIN_LATER;
}
