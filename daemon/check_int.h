/*
 * check_int: what the two halves of a check share (check_state.c: the job,
 * the facts, the answer; check_queue.c: storing a queued comment).
 */
#ifndef COMMENTD_CHECK_INT_H
#define COMMENTD_CHECK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "eval.h"
#include "eval_state.h"
#include "fingerprint.h"
#include "request.h"

struct server;
struct evhttp_request;

/* One request between its verdict and its answer; it owns all it uses. */
struct check_job {
	struct server		*srv;
	struct evhttp_request	*req;
	struct config		*cfg;		/* a reference */
	const struct config_site *site;
	struct check_request	 cr;
	struct comment		 c;
	struct verdict		 v;
	struct state_limit	*limits;	/* one per policy rate limit */
	struct state_facts	 facts;
	uint32_t		 retry_after_s;
	uint64_t		 t0;
	uint64_t		 at_ms;		/* when it was decided */
	bool			 spooled;
	bool			 has_fp;	/* fp holds a fingerprint */
	char			 fp[FINGERPRINT_HEX + 1];
};

/* Answers a job's verdict and frees the job. */
void	check_finish(struct check_job *);

/* Answers 503 with Retry-After (nothing stored, no decision) and frees it. */
void	check_fail(struct check_job *, const char *why);

/* Whether a repeated warning may be logged again (every 10 s at most). */
bool	check_warn_due(struct server *);

/* Stores a queued comment, the Redis stream else the spool, then answers. */
void	check_enqueue(struct check_job *);

#endif
