/*
 * spool_replay: the spool's records back into the Redis queue.
 *
 * A record is what check_queue.c wrote: the comment id, then the entry's
 * field and value pairs, each ending in a NUL.  A record is consumed only
 * after Redis has answered that the entry is stored; anything else leaves
 * it for the next attempt.  It must never drop a record it cannot read:
 * it stops and says so, and the spool depth metric shows it.  A spool the
 * daemon could not open at start is opened here once Redis is up, so
 * records an earlier run left are replayed without waiting for an outage.
 */
#include "spool_replay.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "redis.h"
#include "redis_args.h"
#include "server_int.h"
#include "spool.h"

/* After a failed replay, try again this much later (if Redis stays up). */
#define REPLAY_RETRY_MS	1000

/* While the spool cannot be opened, try to open it this often. */
#define REPLAY_OPEN_RETRY_MS	10000

static void	spool_replay_retry_cb(evutil_socket_t, short, void *);

/*
 * Tries again in ms: Redis refused or failed the last record, or the spool
 * could not be opened.
 */
static void
spool_replay_later(struct server *srv, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	srv->replaying = false;
	if (srv->replay_timer == NULL)
		srv->replay_timer = evtimer_new(srv->base,
		    spool_replay_retry_cb, srv);
	if (srv->replay_timer != NULL)
		evtimer_add(srv->replay_timer, &tv);
}

static void
spool_replay_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	spool_replay_kick(arg);
}

/* Redis stored (or already had) the record: drop it and go on. */
static void
spool_replay_cb(const redisReply *reply, const char *error, void *arg)
{
	struct server *srv = arg;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2) {
		log_warnx("spool replay: %s; trying again later",
		    reply == NULL ? error : reply->type == REDIS_REPLY_ERROR ?
		    reply->str : "unexpected answer");
		spool_replay_later(srv, REPLAY_RETRY_MS);
		return;
	}
	if (spool_consume(srv->spool) == -1) {
		log_warn("spool consume");
		spool_replay_later(srv, REPLAY_RETRY_MS);
		return;
	}
	srv->replaying = false;
	if (spool_pending(srv->spool) == 0)
		log_info("spool replayed: every queued comment is in Redis");
	spool_replay_kick(srv);
}

/*
 * Splits a record into the enqueue arguments (keys first, from its "site"
 * field); -1 when it is not a record check_queue.c wrote.
 */
static int
spool_replay_args(struct server *srv, const char *rec, size_t len,
    struct redis_args *a)
{
	struct redis_args *items = srv->args[1];
	const char *site = NULL;
	size_t start = 0;

	redis_args_init(items);
	for (size_t i = 0; i < len; i++)
		if (rec[i] == '\0') {
			redis_args_ref(items, rec + start, i - start);
			start = i + 1;
		}
	if (start != len || items->n < 3 || items->n % 2 != 1)
		return -1;
	for (int i = 1; i + 1 < items->n; i += 2)
		if (items->len[i] == 4 && memcmp(items->v[i], "site", 4) == 0)
			site = items->v[i + 1];
	if (site == NULL)
		return -1;
	redis_args_init(a);
	/* site is NUL-terminated in the record. */
	redis_args_key(a, srv->cfg->redis.prefix, site, "queue", NULL, 0);
	redis_args_key(a, srv->cfg->redis.prefix, site, "queued", NULL, 0);
	redis_args_append(a, items);
	return a->failed ? -1 : 0;
}

void
spool_replay_kick(struct server *srv)
{
	struct redis_args *a = srv->args[0];
	void *rec;
	size_t len;
	int rc;

	if (srv->replaying || srv->redis == NULL ||
	    redis_state(srv->redis) != REDIS_UP)
		return;
	/*
	 * A spool that could not be opened at start (a disk that came up
	 * read-only, the lock of an instance still exiting) may hold comments
	 * an earlier run answered `queue` for, and while Redis is up no
	 * comment opens it: open it here, and keep trying until it opens.
	 */
	if (srv->spool == NULL)
		server_spool_open(srv);
	if (srv->spool == NULL) {
		spool_replay_later(srv, REPLAY_OPEN_RETRY_MS);
		return;
	}
	if (spool_pending(srv->spool) == 0)
		return;
	if ((rc = spool_peek(srv->spool, &rec, &len)) <= 0) {
		if (rc == -1) {
			log_warn("spool peek");
			spool_replay_later(srv, REPLAY_RETRY_MS);
		}
		return;
	}
	if (spool_replay_args(srv, rec, len, a) == -1) {
		log_warnx("spool replay: a record that is not a queued comment; "
		    "replay stops here (the spool keeps it)");
		free(rec);
		return;
	}
	srv->replaying = true;
	if (redis_script_run(srv->redis, &srv->script_enqueue, 2, a->n, a->v,
	    a->len, spool_replay_cb, srv) == -1)
		spool_replay_later(srv, REPLAY_RETRY_MS);
	free(rec);
}
