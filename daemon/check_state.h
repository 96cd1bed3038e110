/*
 * check_state: the stateful half of POST /v1/check, after the engine.
 *
 * The engine has judged the text; this asks Redis for the facts of the
 * comment (rate limits, duplicates, the author's record) in one script,
 * decides again with them (eval_state), stores a queued comment durably
 * (the Redis stream, or the spool while Redis is away), and only then
 * answers.  Without Redis (redis.address none) it answers at once.
 *
 * A request waiting on Redis holds a reference to the config it started
 * with, so a reload never frees its policy, and it is always answered:
 * every Redis callback is called once, by its deadline at the latest.
 */
#ifndef COMMENTD_CHECK_STATE_H
#define COMMENTD_CHECK_STATE_H

#include <stdint.h>

#include "eval.h"
#include "request.h"

struct server;
struct config_site;
struct evhttp_request;

/*
 * Finishes a check: takes over cr (leaving it empty) and copies v; answers
 * now or later.  t0 is when the request was taken up (monotonic µs).
 */
void	check_state_run(struct server *, struct evhttp_request *,
	    const struct config_site *, struct check_request *cr,
	    const struct verdict *v, uint64_t t0);

#endif
