/*
 * redis: one hiredis async connection on the daemon's event loop, owned by
 * the daemon: deadlines, bounds, reconnection and scripts.
 *
 * hiredis 0.14 has no command timeouts: a Redis that stops answering (a
 * SIGSTOP, a full disk under AOF, a network partition) would hold every
 * request forever.  So each command carries a timer; when it fires, the
 * caller is answered "deadline passed" at once and the connection, which
 * can no longer be trusted to answer in order, is dropped and made again
 * with backoff.  hiredis calls every pending callback with NULL when a
 * context is freed, which is what frees the commands still inside it.
 * This file must never block and never call a caller twice.
 */
#include "redis.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "config.h"
#include "log.h"
#include "metrics_buf.h"

#define REDIS_BACKOFF_MIN_MS	50
#define REDIS_BACKOFF_MAX_MS	2000
#define REDIS_CONNECT_MIN_MS	1000	/* a connect's deadline, at least */

struct redis {
	struct event_base	*base;
	char			*address;	/* for messages */
	char			*unix_path;
	char			*host;
	int			 port;
	long			 timeout_ms;
	long			 max_pending;

	redisAsyncContext	*ac;
	enum redis_state	 state;
	struct event		*timer;		/* connect deadline, or retry */
	uint32_t		 backoff_ms;
	bool			 warned;	/* the outage was logged */
	bool			 freeing;

	redis_state_fn		 state_fn;
	void			*state_arg;
	struct redis_stats	 stats;
};

/* One command in flight. */
struct rcmd {
	struct redis		*r;
	struct event		 deadline;
	redis_reply_fn		 fn;
	void			*arg;
	bool			 answered;	/* fn was called (deadline) */
	const struct redis_script *script;	/* to send again on NOSCRIPT */
	bool			 resent;
	int			 argc;
	const char		**argv;		/* a script's: copies */
	size_t			*lens;
};

static void	redis_connect(struct redis *);

/* Enters a state and tells the owner. */
static void
redis_set_state(struct redis *r, enum redis_state s)
{
	if (r->state == s)
		return;
	r->state = s;
	if (r->state_fn != NULL && !r->freeing)
		r->state_fn(s, r->state_arg);
}

/* Arms the one timer: a retry after the backoff, or a connect deadline. */
static void
redis_timer(struct redis *r, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(r->timer, &tv);
}

/* Gives up on the current connection and schedules the next attempt. */
static void
redis_reset(struct redis *r, const char *why)
{
	redisAsyncContext *ac = r->ac;

	if (!r->warned) {
		log_warnx("redis %s: %s; deciding without it until it is back",
		    r->address, why);
		r->warned = true;
	} else
		log_debug("redis %s: %s", r->address, why);
	r->ac = NULL;
	redis_set_state(r, REDIS_DOWN);
	/* Every command inside gets its callback now, with NULL. */
	if (ac != NULL)
		redisAsyncFree(ac);
	if (r->freeing)
		return;
	redis_timer(r, r->backoff_ms);
	r->backoff_ms = r->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ?
	    REDIS_BACKOFF_MAX_MS : r->backoff_ms * 2;
}

/* The timer: a connect that took too long, or the time to try again. */
static void
redis_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct redis *r = arg;

	(void)fd;
	(void)what;
	if (r->state == REDIS_CONNECTING)
		redis_reset(r, "connect deadline passed");
	else if (r->state == REDIS_DOWN)
		redis_connect(r);
}

/* hiredis: the connection is made, or failed. */
static void
redis_connect_cb(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	if (r == NULL || r->ac != ac)
		return;
	evtimer_del(r->timer);
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback. */
		r->ac = NULL;
		redis_reset(r, ac->errstr);
		return;
	}
	r->stats.connects++;
	if (r->warned)
		log_info("redis %s: connected again", r->address);
	r->warned = false;
	redis_set_state(r, REDIS_UP);
}

/* hiredis: the connection is gone (Redis closed it, or we freed it). */
static void
redis_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	(void)status;
	if (r == NULL || r->ac != ac)
		return;		/* we freed it ourselves, in redis_reset */
	r->ac = NULL;		/* hiredis frees it after this callback */
	redis_reset(r, ac->errstr[0] != '\0' ? ac->errstr :
	    "connection closed");
}

/* Starts a connection; failures come back through the callbacks. */
static void
redis_connect(struct redis *r)
{
	redisAsyncContext *ac;
	uint32_t ms;

	if (r->unix_path != NULL)
		ac = redisAsyncConnectUnix(r->unix_path);
	else
		ac = redisAsyncConnect(r->host, r->port);
	if (ac == NULL || ac->err) {
		r->ac = NULL;
		redis_reset(r, ac != NULL ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		return;
	}
	ac->data = r;
	if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
		redisAsyncFree(ac);
		redis_reset(r, "cannot attach to the event loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, redis_connect_cb);
	redisAsyncSetDisconnectCallback(ac, redis_disconnect_cb);
	r->ac = ac;
	redis_set_state(r, REDIS_CONNECTING);
	ms = r->timeout_ms > REDIS_CONNECT_MIN_MS ? (uint32_t)r->timeout_ms :
	    REDIS_CONNECT_MIN_MS;
	redis_timer(r, ms);
}

/* Starts the connection manager. */
struct redis *
redis_new(struct event_base *base, const struct config_redis *cfg,
    redis_state_fn state_fn, void *arg)
{
	struct redis *r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->base = base;
	r->address = strdup(cfg->address);
	r->unix_path = cfg->unix_path != NULL ? strdup(cfg->unix_path) : NULL;
	r->host = cfg->host != NULL ? strdup(cfg->host) : NULL;
	r->port = (int)cfg->port;
	r->state_fn = state_fn;
	r->state_arg = arg;
	r->backoff_ms = REDIS_BACKOFF_MIN_MS;
	r->timer = evtimer_new(base, redis_timer_cb, r);
	if (r->address == NULL || r->timer == NULL ||
	    (cfg->unix_path != NULL && r->unix_path == NULL) ||
	    (cfg->host != NULL && r->host == NULL)) {
		redis_free(r);
		return NULL;
	}
	redis_set_limits(r, cfg);
	r->state = REDIS_DOWN;
	redis_connect(r);
	return r;
}

/* Closes everything; pending callbacks are told the daemon is stopping. */
void
redis_free(struct redis *r)
{
	redisAsyncContext *ac;

	if (r == NULL)
		return;
	r->freeing = true;
	if ((ac = r->ac) != NULL) {
		r->ac = NULL;
		redisAsyncFree(ac);
	}
	if (r->timer != NULL)
		event_free(r->timer);
	free(r->address);
	free(r->unix_path);
	free(r->host);
	free(r);
}

/* The settings a reload may change. */
void
redis_set_limits(struct redis *r, const struct config_redis *cfg)
{
	r->timeout_ms = cfg->command_timeout_ms;
	r->max_pending = cfg->max_pending;
}

enum redis_state
redis_state(const struct redis *r)
{
	return r->state;
}

/* The state as /readyz and the metrics name it. */
const char *
redis_state_name(enum redis_state s)
{
	switch (s) {
	case REDIS_UP:
		return "up";
	case REDIS_CONNECTING:
		return "connecting";
	case REDIS_DOWN:
		break;
	}
	return "down";
}

void
redis_stats(const struct redis *r, struct redis_stats *out)
{
	*out = r->stats;
}

/* Frees a command that hiredis has let go of. */
static void
rcmd_free(struct rcmd *c)
{
	c->r->stats.pending--;
	event_del(&c->deadline);
	free(c->argv);
	free(c);
}

/* Whether a reply is Redis's "NOSCRIPT" error. */
static bool
reply_is_noscript(const redisReply *reply)
{
	return reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    reply->len >= 8 && strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

static void	rcmd_reply_cb(redisAsyncContext *, void *, void *);

/* Sends a script again with EVAL, after Redis forgot its SHA-1. */
static bool
rcmd_resend(redisAsyncContext *ac, struct rcmd *c)
{
	c->argv[0] = "EVAL";
	c->lens[0] = 4;
	c->argv[1] = c->script->text;
	c->lens[1] = strlen(c->script->text);
	c->resent = true;
	c->r->stats.noscript++;
	return redisAsyncCommandArgv(ac, rcmd_reply_cb, c, c->argc, c->argv,
	    c->lens) == REDIS_OK;
}

/* hiredis: a reply, or NULL when the connection went. */
static void
rcmd_reply_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct rcmd *c = privdata;
	struct redis *r = c->r;

	if (!c->answered && c->script != NULL && !c->resent &&
	    reply_is_noscript(reply) && rcmd_resend(ac, c))
		return;
	if (!c->answered) {
		c->answered = true;
		event_del(&c->deadline);
		if (reply == NULL)
			r->stats.failures++;
		else
			r->backoff_ms = REDIS_BACKOFF_MIN_MS;
		c->fn(reply, reply != NULL ? NULL : r->freeing ? "stopping" :
		    "connection lost", c->arg);
	}
	rcmd_free(c);
}

/*
 * A command's deadline: its caller is answered now, and the connection is
 * dropped, since whatever Redis is doing, it is not answering.
 */
static void
rcmd_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rcmd *c = arg;
	struct redis *r = c->r;

	(void)fd;
	(void)what;
	c->answered = true;
	r->stats.timeouts++;
	c->fn(NULL, "deadline passed", c->arg);
	if (r->ac != NULL)
		redis_reset(r, "a command passed its deadline");
}

/*
 * Builds a command.  A script's arguments are copied (one block: pointers,
 * lengths, bytes), because a NOSCRIPT answer sends them again later.
 */
static struct rcmd *
rcmd_new(struct redis *r, const struct redis_script *script, int argc,
    const char *const *argv, const size_t *lens, redis_reply_fn fn, void *arg)
{
	struct rcmd *c;
	struct timeval tv;
	size_t bytes = 0, i, n = (size_t)argc;
	char *p;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->r = r;
	c->fn = fn;
	c->arg = arg;
	c->script = script;
	c->argc = argc;
	if (script != NULL)
		for (i = 0; i < n; i++)
			bytes += lens[i];
	if ((c->argv = malloc(n * (sizeof *c->argv + sizeof *c->lens) +
	    bytes)) == NULL) {
		free(c);
		return NULL;
	}
	c->lens = (size_t *)(c->argv + n);
	memcpy(c->lens, lens, n * sizeof *lens);
	if (script == NULL)
		memcpy(c->argv, argv, n * sizeof *argv);
	else {
		p = (char *)(c->lens + n);
		for (i = 0; i < n; i++) {
			memcpy(p, argv[i], lens[i]);
			c->argv[i] = p;
			p += lens[i];
		}
	}
	evtimer_assign(&c->deadline, r->base, rcmd_deadline_cb, c);
	tv.tv_sec = r->timeout_ms / 1000;
	tv.tv_usec = (r->timeout_ms % 1000) * 1000;
	evtimer_add(&c->deadline, &tv);
	r->stats.pending++;
	return c;
}

/* Sends argv; the caller's strings need live only until this returns. */
static int
redis_send(struct redis *r, const struct redis_script *script, int argc,
    const char *const *argv, const size_t *lens, redis_reply_fn fn, void *arg)
{
	struct rcmd *c;

	if (r->state != REDIS_UP || r->ac == NULL ||
	    r->stats.pending >= (size_t)r->max_pending ||
	    (c = rcmd_new(r, script, argc, argv, lens, fn, arg)) == NULL) {
		r->stats.refused++;
		return -1;
	}
	if (redisAsyncCommandArgv(r->ac, rcmd_reply_cb, c, argc, c->argv,
	    c->lens) != REDIS_OK) {
		rcmd_free(c);
		r->stats.refused++;
		return -1;
	}
	r->stats.commands++;
	return 0;
}

int
redis_command(struct redis *r, int argc, const char *const *argv,
    const size_t *lens, redis_reply_fn fn, void *arg)
{
	return redis_send(r, NULL, argc, argv, lens, fn, arg);
}

/* A script's SHA-1 in hex, as EVALSHA names it. */
void
redis_script_init(struct redis_script *s, const char *name, const char *text)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	s->name = name;
	s->text = text;
	EVP_Digest(text, strlen(text), md, &n, EVP_sha1(), NULL);
	for (unsigned int i = 0; i < n && i < 20; i++) {
		s->sha1[2 * i] = hex[md[i] >> 4];
		s->sha1[2 * i + 1] = hex[md[i] & 0xf];
	}
	s->sha1[40] = '\0';
}

/*
 * EVALSHA sha nkeys argv...: argv[0] and argv[1] are left for "EVALSHA"
 * and the SHA-1 (or "EVAL" and the text), so the caller builds the rest.
 */
int
redis_script_run(struct redis *r, const struct redis_script *s, int nkeys,
    int argc, const char *const *argv, const size_t *lens,
    redis_reply_fn fn, void *arg)
{
	const char **av;
	size_t *al;
	char nk[16];
	int rc;

	if ((av = calloc((size_t)argc + 3, sizeof *av + sizeof *al)) == NULL)
		return -1;
	al = (size_t *)(av + argc + 3);
	av[0] = "EVALSHA";
	al[0] = 7;
	av[1] = s->sha1;
	al[1] = 40;
	al[2] = (size_t)snprintf(nk, sizeof nk, "%d", nkeys);
	av[2] = nk;
	memcpy(av + 3, argv, (size_t)argc * sizeof *argv);
	memcpy(al + 3, lens, (size_t)argc * sizeof *lens);
	rc = redis_send(r, s, argc + 3, av, al, fn, arg);
	free(av);
	return rc;
}

/* The connection's state and counters, on the /metrics page. */
void
redis_render_metrics(const struct redis *r, struct metrics_buf *b)
{
	static const struct {
		const char	*name, *help;
		size_t		 off;
	} counters[] = {
		{ "commentd_redis_commands_total", "Redis commands sent.",
		  offsetof(struct redis_stats, commands) },
		{ "commentd_redis_refused_total", "Redis commands not sent: "
		  "Redis down or too many in flight (the daemon fell back).",
		  offsetof(struct redis_stats, refused) },
		{ "commentd_redis_timeouts_total", "Redis commands past their "
		  "deadline.", offsetof(struct redis_stats, timeouts) },
		{ "commentd_redis_failures_total", "Redis commands whose "
		  "connection was lost under them.",
		  offsetof(struct redis_stats, failures) },
		{ "commentd_redis_connects_total", "Connections made to Redis.",
		  offsetof(struct redis_stats, connects) },
	};

	metrics_buf_family(b, "commentd_redis_up", "gauge",
	    "1 when the connection to Redis is up, 0 when the daemon is "
	    "deciding without it; absent when redis.address is none.");
	metrics_buf_sample_u64(b, "commentd_redis_up", NULL, 0,
	    r->state == REDIS_UP);
	metrics_buf_family(b, "commentd_redis_pending", "gauge",
	    "Redis commands in flight.");
	metrics_buf_sample_u64(b, "commentd_redis_pending", NULL, 0,
	    r->stats.pending);
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
		metrics_buf_family(b, counters[i].name, "counter",
		    counters[i].help);
		metrics_buf_sample_u64(b, counters[i].name, NULL, 0,
		    *(const uint64_t *)((const char *)&r->stats +
		    counters[i].off));
	}
}
