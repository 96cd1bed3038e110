/*
 * tally: this daemon's decisions, counted by site, decision and rule, and
 * added about once a second to the time buckets in Redis that
 * GET /v1/admin/stats sums for the last hour and day (tally.lua,
 * tally_sum.lua; docs/redis.md).
 *
 * Counting only adds to a bounded table in memory: a check never waits on
 * it.  Counts wait in the table while Redis is away.  A flush whose answer
 * never comes is dropped, not sent again, since it may have been counted:
 * the stats may then miss a second's decisions, never count one twice.
 */
#ifndef COMMENTD_TALLY_H
#define COMMENTD_TALLY_H

#include <stdint.h>

#include "redis.h"

struct event_base;
struct metrics_buf;
struct verdict;

/* Per site: at most this many fields; the others count as rule `_other`. */
#define TALLY_FIELDS_MAX	4096
/* At most this many sites are counted; the others are not. */
#define TALLY_SITES_MAX		256

struct tally;

/*
 * Counts into a table that a timer on base flushes into redis every second,
 * under keys with this prefix; NULL only without memory.
 */
struct tally	*tally_new(struct event_base *, struct redis *,
		    const char *prefix);

/* Stops the timer; counts not yet flushed are dropped. */
void		 tally_free(struct tally *);

/* Counts one decision of a site: its decision, and each rule that fired. */
void		 tally_count(struct tally *, const char *site,
		    const struct verdict *);

/* The script that sums the buckets (for the stats route). */
const struct redis_script *tally_sum_script(const struct tally *);

/* Writes the tally's counters onto the /metrics page. */
void		 tally_render_metrics(const struct tally *,
		    struct metrics_buf *);

#endif
