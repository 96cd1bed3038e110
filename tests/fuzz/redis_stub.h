/*
 * redis_stub: daemon/redis.h answered by the fuzzer instead of Redis, for
 * the HTTP fuzz targets (fuzz_server.c).  The daemon's code above the store
 * boundary (check_state.c, check_queue.c, admin_*.c, decisions.c, tally.c,
 * spool_replay.c) runs unchanged; only redis.c is left out of the binary.
 *
 * The stub keeps redis.h's contract, so that a broken promise it reports is
 * the daemon's: every callback is called exactly once, never from inside
 * the call that sent the command, and with NULL and a reason only as
 * redis.c would ("deadline passed", "connection lost", "stopping"); a
 * command refused at once returns -1 and is never called back; state
 * changes are told to the owner as redis.c tells them.  The reply trees
 * are built here in hiredis's struct redisReply and freed right after the
 * callback returns.
 *
 * What each command gets comes from a script of bytes (redis_stub_script):
 * one behaviour byte as each command is sent, then, for a reply that has
 * values, as many value bytes as it needs as it is answered.  A script
 * that has run out answers every command plausibly with value 0.  The
 * behaviour byte's low four bits pick one of enum stub_behaviour, its high
 * four bits a variant (which delay, which wrong type, which element cut).
 */
#ifndef COMMENTD_FUZZ_REDIS_STUB_H
#define COMMENTD_FUZZ_REDIS_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis.h"

struct redisReply;
struct redis_script;

enum stub_behaviour {
	STUB_PLAUSIBLE,		/* the shape the command or script answers */
	STUB_ODD,		/* that shape with odd values: huge, empty, not UTF-8 */
	STUB_ERROR,		/* "ERR ..." */
	STUB_OOM,		/* "OOM command not allowed ..." */
	STUB_NOSCRIPT,		/* "NOSCRIPT ...", as if EVAL had failed too */
	STUB_TRANSIENT,		/* READONLY, LOADING, BUSY, NOGROUP, ... */
	STUB_WRONG_TYPE,	/* a reply of another type */
	STUB_TRUNCATED,		/* the plausible array, one element short or long */
	STUB_DEADLINE,		/* NULL "deadline passed"; the rest "connection lost" */
	STUB_LOST,		/* NULL "connection lost" for all; down a while */
	STUB_REFUSE,		/* refused at once (-1): too many in flight */
	STUB_DOWN,		/* refused at once, and down a while */
	STUB_SLOW,		/* plausible, a few loop turns late */
	STUB_NIL,		/* a nil reply */
	STUB_STATUS,		/* a status reply "OK" */
	STUB_PLAUSIBLE2,	/* as STUB_PLAUSIBLE: mutations land on it often */
};

/*
 * Told of every answer as it is given: the command's name (a script's
 * name, "check", "enqueue", ...), its arguments as sent (for a script:
 * keys then arguments, without EVALSHA, SHA-1 and the key count), and the
 * reply or the reason for NULL.
 */
typedef void	(*redis_stub_watch_fn)(const char *name, int argc,
		    const char *const *argv, const size_t *lens,
		    const struct redisReply *reply, const char *error,
		    void *arg);

/* Starts a new input: its script (copied), no broken answer given yet. */
void	redis_stub_script(const uint8_t *script, size_t len);

/* Who is told of each answer. */
void	redis_stub_watch(redis_stub_watch_fn, void *arg);

/* Whether an answer since the script was set was not plausible. */
bool	redis_stub_broken(void);

/* Commands sent and not yet answered, and whether a state change waits. */
size_t	redis_stub_pending(void);
bool	redis_stub_busy(void);

/*
 * Goes down (every pending command gets NULL "connection lost") or up now,
 * telling the owner; `until_end` keeps it down until redis_stub_up().
 */
void	redis_stub_down(bool until_end);
void	redis_stub_up(void);

/*
 * Between redis_stub.c, which keeps the commands in flight, and
 * redis_stub_reply.c, which builds their replies: a command, copied as it
 * was sent; the next byte of the script (0 once it has run out); the reply
 * a command gets from its behaviour, never NULL, and its freeing.
 */
struct redis_stub_cmd {
	struct redis_stub_cmd	*next;
	redis_reply_fn		 fn;
	void			*arg;
	const char		*name;		/* the command's or script's */
	char			 cmd[24];	/* a command's name, copied */
	int			 nkeys;		/* a script's; -1 for a command */
	int			 argc;
	char			**argv;		/* copies, NUL-terminated */
	size_t			*lens;
	enum stub_behaviour	 how;
	unsigned		 variant;
	unsigned		 delay;		/* loop turns before the answer */
};

unsigned		 redis_stub_byte(void);
struct redisReply	*redis_stub_reply(const struct redis_stub_cmd *);
void			 redis_stub_reply_free(struct redisReply *);

#endif
