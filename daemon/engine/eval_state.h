/*
 * eval_state: the stateful rules' part of a verdict, from facts the daemon
 * read in Redis (docs/redis.md, check.lua).
 *
 * eval_comment() decides on the text alone; the daemon then asks Redis (or
 * its in-process limiter) for the facts below and hands them here, which adds
 * the reasons for rate limits, duplicates, new commenters and bans and
 * decides again by the same rule (eval_decide).  It never talks to Redis or
 * reads a clock: facts in, reasons out, so every case is a unit test.
 *
 * When the author and duplicate facts are unknown (Redis unreachable), each
 * of those rules the policy enables queues the comment with a message saying
 * it could not be checked: the daemon fails to a human, never to accept.
 * Rate limits are read from `limits` either way (the in-process limiter
 * fills them while Redis is away).
 */
#ifndef COMMENTD_EVAL_STATE_H
#define COMMENTD_EVAL_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "eval.h"
#include "policy.h"

struct state_limit {
	bool		 checked;	/* false: the limit's key was absent */
	bool		 allowed;
	uint32_t	 retry_after_ms;
};

struct state_facts {
	bool		 available;	/* false: the rest (not limits) unknown */
	bool		 seen, banned, trusted;
	uint32_t	 approved;
	struct state_limit *limits;	/* nrate_limits, in policy order */
	bool		 dup_same;
	uint32_t	 dup_authors;	/* distinct, this author included */
};

/*
 * Adds the stateful reasons to v and recomputes v->decision by DESIGN.md's
 * rule; *retry_after_s is the longest wait (rounded up) among limits that
 * fired, else 0.  Every string a reason points to belongs to the policy or
 * is static, so the verdict lives as long as the policy it was made with.
 */
void	eval_state_apply(const struct policy *, const struct state_facts *,
	    struct verdict *, uint32_t *retry_after_s);

#endif
