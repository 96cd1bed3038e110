/*
 * admin_job: one admin or decisions-feed request between its route and its
 * answer, while it waits on Redis; and the answers, JSON and errors alike.
 *
 * A job owns what it needs across the wait: a reference to the config it
 * started with (its site and the key prefix live there), the parsed query,
 * the id from the path and the caller's credentials (SO_PEERCRED on the
 * admin socket).  It tells conns that an answer is owed, so a stop waits
 * for it.  A route embeds struct admin_job as the first member of its own
 * job and chains steps: each Redis reply goes to the job's step, and every
 * path ends in exactly one answer, which frees the job.  It must never
 * answer twice, never answer after being freed, and never keep a hiredis
 * reply past its step (hiredis frees it when the step returns).
 */
#ifndef COMMENTD_ADMIN_JOB_H
#define COMMENTD_ADMIN_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "admin.h"
#include "admin_url.h"
#include "metrics.h"

struct server;
struct config;
struct config_site;
struct evhttp_request;
struct redis_args;
struct redis_script;
struct redisReply;

/* The longest moderator name kept; longer names are written "uid:N". */
#define ADMIN_MODERATOR_MAX	64


struct admin_job;

/* A step: the reply to the job's last command (never NULL). */
typedef void	(*admin_step_fn)(struct admin_job *,
		    const struct redisReply *);

struct admin_job {
	struct server		*srv;
	struct evhttp_request	*req;
	struct config		*cfg;		/* a reference */
	const struct config_site *site;
	const char		*prefix;	/* cfg's redis.prefix */
	enum metrics_route	 metric;
	struct admin_query	 q;
	char			 id[ADMIN_URL_ID_MAX + 1];	/* the path's */
	size_t			 idlen;
	bool			 has_peer;	/* uid and moderator known */
	uid_t			 uid;
	char			 moderator[ADMIN_MODERATOR_MAX + 1];
	admin_step_fn		 step;
	void			(*cleanup)(struct admin_job *);
};

/*
 * Starts a job of `size` bytes (the route's struct, admin_job first): reads
 * the query (only `params` are allowed; "site" picks the site), checks that
 * Redis is configured and up, copies the path's id (may be NULL) and, on
 * the admin socket, the caller's credentials.  The job, or NULL when the
 * request has already been answered (and counted) with an error.
 */
struct admin_job *admin_job_start(struct server *, struct evhttp_request *,
		    enum metrics_route, const char *const *params,
		    const char *id, size_t size);

/* Sends a command; its reply goes to `step` (an unsent command is 503). */
void		 admin_job_send(struct admin_job *, const struct redis_args *,
		    admin_step_fn step);

/*
 * Sends XRANGE of the site's stream KIND from just after the stream id
 * `after` ("" for the start) to the end, at most count entries.
 */
void		 admin_job_xrange(struct admin_job *, const char *kind,
		    const char *after, uint64_t count, admin_step_fn step);

/* Runs a script with nkeys of a's arguments as keys; as admin_job_send. */
void		 admin_job_script(struct admin_job *,
		    const struct redis_script *, int nkeys,
		    const struct redis_args *, admin_step_fn step);

/* Answers with a JSON object (taken over; NULL is a 500) and frees the job. */
void		 admin_job_reply(struct admin_job *, int status, json_t *);

/* Answers {"error": {"code", "message", "field"?}} and frees the job. */
void		 admin_job_error(struct admin_job *, int status,
		    const char *code, const char *message, const char *field);

/* Answers 503 with Retry-After: Redis could not be asked or did not answer. */
void		 admin_job_unavailable(struct admin_job *, const char *why);

/*
 * If reply is a Redis error, answers it (503 when Redis may take it later,
 * as for OOM or READONLY; 500 otherwise) and returns true.
 */
bool		 admin_job_redis_error(struct admin_job *,
		    const struct redisReply *);

/*
 * Whether reply has the type a step expects (a REDIS_REPLY_* value); if
 * not, answers (a Redis error as admin_job_redis_error, anything else 500
 * naming `cmd`) and returns false.
 */
bool		 admin_job_expect(struct admin_job *,
		    const struct redisReply *, int type, const char *cmd);

/* Frees a job without answering (only after it has answered). */
void		 admin_job_free(struct admin_job *);

/*
 * Reads a POST body as a JSON object whose keys are all in `fields`
 * (NULL-terminated); an empty body is {}.  The object, or NULL when the
 * job has been answered with the error (and freed).
 */
json_t		*admin_job_body(struct admin_job *, const char *const *fields);

/*
 * An optional string member of a body: 0 with *out (NULL when absent or
 * null), or -1 when the job was answered 400 (not a string, over max bytes).
 */
int		 admin_job_body_string(struct admin_job *, json_t *body,
		    const char *name, size_t max, const char **out);

/*
 * A query parameter as a number from min to max, def when absent: 0, or -1
 * when the job was answered 400.
 */
int		 admin_job_uint(struct admin_job *, const char *name,
		    uint64_t def, uint64_t min, uint64_t max, uint64_t *out);

/* Answers an error before any job exists, counting it; the status sent. */
int		 admin_send_error(struct server *, struct evhttp_request *,
		    enum metrics_route, int status, const char *code,
		    const char *message, const char *field);

/* Answers a JSON object (taken over) before or without a job, counting it. */
void		 admin_send_json(struct server *, struct evhttp_request *,
		    enum metrics_route, int status, json_t *);

/*
 * n bytes as a JSON string: invalid UTF-8 and NUL become U+FFFD, never an
 * error.
 */
json_t		*admin_json_bytes(const char *s, size_t n);

/* The wall clock in milliseconds since the epoch (queue entries' at_ms). */
uint64_t	 admin_now_ms(void);

/*
 * A stream entry's value of `name`, as a string reply, or NULL.  entry is
 * [id, [field, value, ...]] as XRANGE and XREADGROUP give it.
 */
const struct redisReply *admin_entry_field(const struct redisReply *entry,
		    const char *name);

/* Whether entry is [id, [field, value, ...]] with string id and fields. */
bool		 admin_entry_ok(const struct redisReply *entry);

/* An entry's field as a JSON string ("" when absent). */
json_t		*admin_entry_json(const struct redisReply *entry,
		    const char *name);

/* An entry's comma-separated field ("a,b,c") as an array of strings. */
json_t		*admin_entry_list(const struct redisReply *entry,
		    const char *name);

/* The reasons a queue entry stored (JSON text), or an empty array. */
json_t		*admin_entry_reasons(const struct redisReply *entry);

/* The rule ids of reasons, in order, as an array of strings. */
json_t		*admin_reasons_rules(json_t *reasons);

/* The same, but null when absent or empty (a note or reason not given). */
json_t		*admin_entry_opt(const struct redisReply *entry,
		    const char *name);

/* An entry's field as a whole number (0 when absent or not one). */
uint64_t	 admin_entry_uint(const struct redisReply *entry,
		    const char *name);

/*
 * Between the admin modules.  admin_author.c: an author's record from an
 * HGETALL reply, as {"approved", "rejected", "banned", "trusted"}.
 * admin_queue.c: admin_queue_lookup sends HGET of the job's comment id in
 * the queued index, to `next`; admin_queue_sid reads that reply into sid
 * (0), or answers 404 (never queued), 409 (decided) or 500 (-1);
 * admin_queue_read sends XRANGE of the one entry sid to `next`.
 */
json_t		*admin_author_record(const struct redisReply *);
void		 admin_queue_lookup(struct admin_job *, admin_step_fn next);
int		 admin_queue_sid(struct admin_job *, const struct redisReply *,
		    char *sid, size_t size);
void		 admin_queue_read(struct admin_job *, const char *sid,
		    admin_step_fn next);

#endif
