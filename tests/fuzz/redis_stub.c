/*
 * redis_stub: redis.h's API answered from the fuzzer's script instead of a
 * Redis connection (see redis_stub.h); the replies themselves are built by
 * redis_stub_reply.c.  Linked into fuzz_http and fuzz_admin in place of
 * daemon/redis.c.
 *
 * Commands wait in one queue, in the order sent, as on a real connection;
 * a zero-time timer answers the head of the queue on the next loop turn
 * (later for a slow one), so a callback never runs inside redis_command().
 * Losing the connection answers the whole queue with NULL, in order, after
 * the state has gone down, as redis.c does when hiredis frees its context.
 * This file must never call a callback twice, never keep a reply past its
 * callback, and never answer what the daemon could not get from redis.c.
 */
#include "redis_stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "metrics_buf.h"

struct redis {
	struct event_base	*base;
	redis_state_fn		 state_fn;
	void			*state_arg;
	enum redis_state	 state;
	struct redis_stats	 stats;
	long			 max_pending;
	struct redis_stub_cmd		*head, *tail;
	struct event		*tick;
	unsigned		 lose_in;	/* turns until the connection goes */
	unsigned		 up_in;		/* turns until it is back */
	bool			 down_to_end;
	bool			 freeing;
};

/* The script, shared by every stub (there is one: the server's). */
static struct {
	struct redis		*r;
	uint8_t			*script;
	size_t			 len, at;
	bool			 broken;
	redis_stub_watch_fn	 watch;
	void			*watch_arg;
} stub;

/* The next script byte; 0 once it has run out. */
unsigned
redis_stub_byte(void)
{
	return stub.at < stub.len ? stub.script[stub.at++] : 0;
}

void
redis_stub_script(const uint8_t *script, size_t len)
{
	free(stub.script);
	stub.script = NULL;
	if (len > 0 && (stub.script = malloc(len)) == NULL)
		abort();
	if (len > 0)
		memcpy(stub.script, script, len);
	stub.len = len;
	stub.at = 0;
	stub.broken = false;
}

void
redis_stub_watch(redis_stub_watch_fn fn, void *arg)
{
	stub.watch = fn;
	stub.watch_arg = arg;
}

bool
redis_stub_broken(void)
{
	return stub.broken;
}

size_t
redis_stub_pending(void)
{
	return stub.r != NULL ? stub.r->stats.pending : 0;
}

bool
redis_stub_busy(void)
{
	return stub.r != NULL && (stub.r->head != NULL || stub.r->lose_in > 0 ||
	    stub.r->up_in > 0);
}

/* --- the queue and the state --------------------------------------------- */

/* Frees a command and its copied arguments. */
static void
stub_cmd_free(struct redis_stub_cmd *c)
{
	for (int i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	free(c->lens);
	free(c);
}

/* Keeps the timer running while anything is left to do. */
static void
stub_arm(struct redis *r)
{
	static const struct timeval now = { 0, 0 };

	if (!r->freeing && (r->head != NULL || r->lose_in > 0 || r->up_in > 0))
		evtimer_add(r->tick, &now);
}

/* Moves to state s, telling the owner of a change (not while freeing). */
static void
stub_set_state(struct redis *r, enum redis_state s)
{
	bool changed = r->state != s;

	r->state = s;
	if (changed && !r->freeing && r->state_fn != NULL)
		r->state_fn(s, r->state_arg);
}

/* The state, as redis.c names it for /readyz and the metrics. */
const char *
redis_state_name(enum redis_state s)
{
	return s == REDIS_UP ? "up" : s == REDIS_CONNECTING ? "connecting" :
	    "down";
}

enum redis_state
redis_state(const struct redis *r)
{
	return r->state;
}

/* Calls a command back (once) and frees it and its reply. */
static void
stub_deliver(struct redis *r, struct redis_stub_cmd *c, redisReply *reply,
    const char *error)
{
	r->stats.pending--;
	if (reply == NULL)
		r->stats.failures++;
	if (stub.watch != NULL)
		stub.watch(c->name, c->argc, (const char *const *)c->argv,
		    c->lens, reply, error, stub.watch_arg);
	c->fn(reply, error, c->arg);
	redis_stub_reply_free(reply);
	stub_cmd_free(c);
}

/* The connection is gone: down first, then every command gets NULL. */
static void
stub_lose(struct redis *r, unsigned back_in)
{
	struct redis_stub_cmd *c = r->head, *next;

	r->head = r->tail = NULL;
	stub_set_state(r, REDIS_DOWN);
	for (; c != NULL; c = next) {
		next = c->next;
		stub_deliver(r, c, NULL, r->freeing ? "stopping" :
		    "connection lost");
	}
	r->up_in = r->down_to_end || r->freeing ? 0 : back_in + 2;
	stub_arm(r);
}

/* A loop turn: the head answered (or nearer its time), the state moved. */
static void
stub_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct redis *r = arg;
	struct redis_stub_cmd *c;

	(void)fd;
	(void)what;
	if (r->lose_in > 0 && --r->lose_in == 0)
		stub_lose(r, 1);
	else if (r->up_in > 0) {
		if (--r->up_in == 1)
			stub_set_state(r, REDIS_CONNECTING);
		else if (r->up_in == 0)
			stub_set_state(r, REDIS_UP);
	} else if ((c = r->head) != NULL && c->delay > 0)
		c->delay--;
	else if (c != NULL) {
		if ((r->head = c->next) == NULL)
			r->tail = NULL;
		if (c->how == STUB_DEADLINE || c->how == STUB_LOST) {
			unsigned back_in = c->variant;

			/* redis.c: the caller first, then the connection. */
			if (c->how == STUB_DEADLINE) {
				r->stats.timeouts++;
				stub_deliver(r, c, NULL, "deadline passed");
			} else {
				c->next = r->head;
				r->head = c;
			}
			stub_lose(r, back_in);
		} else
			stub_deliver(r, c, redis_stub_reply(c), NULL);
	}
	stub_arm(r);
}

void
redis_stub_down(bool until_end)
{
	if (stub.r == NULL)
		return;
	stub.r->down_to_end = until_end;
	stub.r->lose_in = 0;
	stub_lose(stub.r, 0);
}

void
redis_stub_up(void)
{
	if (stub.r == NULL)
		return;
	stub.r->down_to_end = false;
	stub.r->up_in = 0;
	stub.r->lose_in = 0;
	stub_set_state(stub.r, REDIS_UP);
}

/*
 * Queues a command, or refuses it at once as redis.c would (down, too many
 * in flight) or as the script says.  name is the script's, or NULL.
 */
static int
stub_send(struct redis *r, const struct redis_script *s, int nkeys, int argc,
    const char *const *argv, const size_t *lens, redis_reply_fn fn, void *arg)
{
	struct redis_stub_cmd *c;
	unsigned b;

	if (r->state != REDIS_UP ||
	    r->stats.pending >= (size_t)r->max_pending) {
		r->stats.refused++;
		return -1;
	}
	b = redis_stub_byte();
	if ((b & 15) == STUB_REFUSE || (b & 15) == STUB_DOWN) {
		stub.broken = true;
		r->stats.refused++;
		if ((b & 15) == STUB_DOWN && r->lose_in == 0) {
			r->lose_in = 1;
			stub_arm(r);
		}
		return -1;
	}
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->argv = calloc((size_t)argc + 1, sizeof *c->argv)) == NULL ||
	    (c->lens = calloc((size_t)argc + 1, sizeof *c->lens)) == NULL)
		abort();
	c->fn = fn;
	c->arg = arg;
	c->nkeys = s != NULL ? nkeys : -1;
	c->argc = argc;
	for (int i = 0; i < argc; i++) {
		if ((c->argv[i] = malloc(lens[i] + 1)) == NULL)
			abort();
		memcpy(c->argv[i], argv[i], lens[i]);
		c->argv[i][lens[i]] = '\0';
		c->lens[i] = lens[i];
	}
	if (s == NULL && argc > 0)
		snprintf(c->cmd, sizeof c->cmd, "%s", c->argv[0]);
	c->name = s != NULL ? s->name : c->cmd;
	c->how = (enum stub_behaviour)(b & 15);
	c->variant = b >> 4;
	if (c->how == STUB_SLOW || c->how == STUB_DEADLINE)
		c->delay = c->variant % 4 + 1;
	if (c->how != STUB_PLAUSIBLE && c->how != STUB_PLAUSIBLE2 &&
	    c->how != STUB_SLOW)
		stub.broken = true;
	if (r->tail != NULL)
		r->tail->next = c;
	else
		r->head = c;
	r->tail = c;
	r->stats.pending++;
	r->stats.commands++;
	stub_arm(r);
	return 0;
}

/* --- redis.h ------------------------------------------------------------- */

struct redis *
redis_new(struct event_base *base, const struct config_redis *cfg,
    redis_state_fn state_fn, void *arg)
{
	struct redis *r = calloc(1, sizeof *r);

	if (r == NULL || (r->tick = evtimer_new(base, stub_tick_cb, r)) ==
	    NULL) {
		free(r);
		return NULL;
	}
	r->base = base;
	r->state_fn = state_fn;
	r->state_arg = arg;
	redis_set_limits(r, cfg);
	/* Connected at once: the first input starts with Redis up. */
	r->state = REDIS_UP;
	r->stats.connects = 1;
	stub.r = r;
	return r;
}

void
redis_free(struct redis *r)
{
	if (r == NULL)
		return;
	r->freeing = true;
	stub_lose(r, 0);
	event_free(r->tick);
	if (stub.r == r)
		stub.r = NULL;
	free(r);
}

void
redis_set_limits(struct redis *r, const struct config_redis *cfg)
{
	r->max_pending = cfg->max_pending;
}

void
redis_stats(const struct redis *r, struct redis_stats *out)
{
	*out = r->stats;
}

/* Two of redis.c's gauges, so that /metrics is a whole page here too. */
void
redis_render_metrics(const struct redis *r, struct metrics_buf *b)
{
	const struct {
		const char	*name;
		uint64_t	 value;
	} gauges[] = {
		{ "commentd_redis_up", r->state == REDIS_UP },
		{ "commentd_redis_pending", r->stats.pending },
	};

	for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++) {
		metrics_buf_family(b, gauges[i].name, "gauge",
		    "The fuzzers' Redis stub (tests/fuzz/redis_stub.c).");
		metrics_buf_sample_u64(b, gauges[i].name, NULL, 0,
		    gauges[i].value);
	}
}

int
redis_command(struct redis *r, int argc, const char *const *argv,
    const size_t *lens, redis_reply_fn fn, void *arg)
{
	return stub_send(r, NULL, 0, argc, argv, lens, fn, arg);
}

/* No SHA-1: nothing here calls EVALSHA. */
void
redis_script_init(struct redis_script *s, const char *name, const char *text)
{
	s->name = name;
	s->text = text;
	memset(s->sha1, '0', 40);
	s->sha1[40] = '\0';
}

int
redis_script_run(struct redis *r, const struct redis_script *s, int nkeys,
    int argc, const char *const *argv, const size_t *lens,
    redis_reply_fn fn, void *arg)
{
	return stub_send(r, s, nkeys, argc, argv, lens, fn, arg);
}
