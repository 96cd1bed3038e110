/*
 * redis: the daemon's one connection to Redis, on its event loop, with what
 * Debian's hiredis 0.14 lacks: a deadline on every command, a bound on the
 * commands in flight, reconnection with backoff, and Lua scripts called by
 * EVALSHA that are sent again when Redis has forgotten them.
 *
 * Every command's callback is called exactly once: with the reply, or with
 * NULL and a reason (deadline passed, connection lost, shutting down).  A
 * command that cannot even be sent (Redis down, too many in flight) is
 * refused at once with -1 and its callback is never called, so the caller
 * can fall back without waiting.
 */
#ifndef COMMENTD_REDIS_H
#define COMMENTD_REDIS_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct redisReply;
struct config_redis;
struct metrics_buf;

enum redis_state {
	REDIS_DOWN,		/* not connected; retrying with backoff */
	REDIS_CONNECTING,
	REDIS_UP
};

/*
 * A command's outcome: reply is hiredis's (freed right after the callback
 * returns: copy what you keep), or NULL with `error` saying why.  A Redis
 * error reply (type REDIS_REPLY_ERROR) is a reply, not NULL.
 */
typedef void	(*redis_reply_fn)(const struct redisReply *reply,
		    const char *error, void *arg);

/* Told of every change of state (for /readyz, metrics and the spool). */
typedef void	(*redis_state_fn)(enum redis_state, void *arg);

/* A Lua script and its SHA-1, computed once. */
struct redis_script {
	const char	*name;
	const char	*text;
	char		 sha1[41];
};

struct redis_stats {
	uint64_t	 commands;	/* sent */
	uint64_t	 refused;	/* refused at once: down or too many */
	uint64_t	 timeouts;	/* past their deadline */
	uint64_t	 failures;	/* connection lost under them */
	uint64_t	 connects;	/* connections made */
	uint64_t	 noscript;	/* scripts sent again */
	size_t		 pending;	/* in flight now */
};

struct redis;

/* Starts connecting to the configured address; NULL only without memory. */
struct redis	*redis_new(struct event_base *, const struct config_redis *,
		    redis_state_fn, void *arg);

/* Closes the connection; every pending callback gets NULL ("stopping"). */
void		 redis_free(struct redis *);

/* Takes the reloadable settings (deadline, bound) of a new config. */
void		 redis_set_limits(struct redis *, const struct config_redis *);

enum redis_state redis_state(const struct redis *);
const char	*redis_state_name(enum redis_state);
void		 redis_stats(const struct redis *, struct redis_stats *);

/* Writes the state and counters onto the /metrics page. */
void		 redis_render_metrics(const struct redis *,
		    struct metrics_buf *);

/* Sends a command given as argv; 0, or -1 (not sent, no callback). */
int		 redis_command(struct redis *, int argc, const char *const *argv,
		    const size_t *lens, redis_reply_fn, void *arg);

/* Computes a script's SHA-1, so it can be called by EVALSHA. */
void		 redis_script_init(struct redis_script *, const char *name,
		    const char *text);

/*
 * Runs a script: EVALSHA with nkeys keys then arguments (argv holds both),
 * and EVAL with the text if Redis answers NOSCRIPT, within the one deadline.
 */
int		 redis_script_run(struct redis *, const struct redis_script *,
		    int nkeys, int argc, const char *const *argv,
		    const size_t *lens,
		    redis_reply_fn, void *arg);

#endif
