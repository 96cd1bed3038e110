/*
 * gcra: the generic cell rate algorithm, and a bounded in-process table of
 * keys for the time Redis is unreachable.
 *
 * The decisions are redis-cell's CL.THROTTLE (key, max_burst, count,
 * period, quantity 1) in integer microseconds, and the Redis script
 * (daemon/redis/check.lua, docs/redis.md) must do exactly the same, so
 * here it is in full.  For a limit of COUNT per PERIOD_S seconds with
 * BURST extra at once:
 *
 *	T   = emission_us  = min(ceil(PERIOD_S * 1000000 / COUNT), 2^51)
 *	tau = tolerance_us = min(T * BURST, 2^51)
 *
 * and for one comment at time NOW (microseconds, 0 <= NOW < 2^52) on a key
 * whose theoretical arrival time is TAT (0, or absent, when never seen):
 *
 *	base = max(TAT, NOW)
 *	base - NOW <= tau:  allowed; retry_after_us = 0;
 *			    if charging, TAT = base + T
 *	otherwise:	    limited; retry_after_us = base - tau - NOW (> 0);
 *			    TAT unchanged
 *
 * So BURST + 1 comments pass at once, then one every T.  A limited comment
 * passes at exactly NOW + retry_after_us, never earlier.  (redis-cell's
 * delay_variation_tolerance is T * (BURST + 1), compared with base + T; it
 * is the same test.)  A key whose TAT is not after NOW carries no
 * information (it behaves as never seen), so after a charge Redis may
 * expire it when the new TAT passes: PEXPIRE ceil((TAT - NOW) / 1000) ms.
 *
 * Rounding: T rounds up, so COUNT emissions never take less than the
 * period and a limit is never looser than written (redis-cell truncates to
 * whole nanoseconds instead; the two differ by at most a microsecond a
 * comment).  retry_after_us is exact; a caller answering in seconds
 * (retry_after_s) or milliseconds rounds it up, so a client that waits
 * that long passes.
 *
 * T and tau are capped at 2^51 us (71 years), so that NOW + T + tau stays
 * below 2^53, where Lua's doubles are still exact integers (wall-clock NOW
 * stays below 2^52 until the year 2112).  Only absurd limits reach the cap
 * (1/30d with burst 869 or more); they then allow floor(2^51 / T) + 1 at
 * once.  The script takes T and tau from gcra_limit_init as arguments
 * rather than divide itself: a double division can round a quotient just
 * above an integer down onto it, and ceil would then miss.
 *
 * Nothing here reads a clock or allocates without a bound.  The table's
 * allocations abort on failure, like the engine's (xalloc.h).
 */
#ifndef COMMENTD_GCRA_H
#define COMMENTD_GCRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GCRA_TOLERANCE_MAX_US	((int64_t)1 << 51)

struct gcra_limit {
	int64_t	emission_us;	/* T: one comment every T after the burst */
	int64_t	tolerance_us;	/* tau = T * burst: how far TAT may lead */
};

/*
 * count per period_s with burst extra at once, as redis-cell's CL.THROTTLE
 * (max_burst=burst, count, period): burst+1 at once, then one every
 * period/count.  A count of 0 is taken as 1 (the policy allows 1..10^6).
 */
void	gcra_limit_init(struct gcra_limit *, uint32_t count, uint32_t period_s,
	    uint32_t burst);

/*
 * One step on a key's theoretical arrival time *tat (0 = never seen).
 * Returns 1 when allowed (and, if charge, advances *tat), 0 when limited,
 * with *retry_after_us the wait until it would be allowed (0 when allowed).
 * retry_after_us may be NULL.
 */
int	gcra_step(int64_t *tat, int64_t now_us, const struct gcra_limit *,
	    bool charge, int64_t *retry_after_us);

/*
 * The table: key bytes to a TAT, for the in-process fallback.  One table
 * may hold keys of several limits, so a key must name its limit (say
 * "flood.author:u-42"): the same key under two limits shares one TAT.
 *
 * Bounded at max_keys entries.  Eviction rule: when a new key needs room,
 * the entry with the earliest TAT goes.  An entry whose TAT is past carries
 * no information, so it always goes first, and losing it changes nothing;
 * when every entry is live, the earliest TAT is the debt nearest to paid,
 * so forgetting it forgives the least time (TAT - NOW, about (TAT - NOW) / T
 * comments of its limit) to that one key.  Refusing new keys instead would
 * let whoever fills the table limit everyone else.  A min-heap on TAT finds
 * that entry in O(log n), and each step also drops up to two past entries,
 * so the count tracks live keys.  The index hashes with strmap_hash.
 */
struct gcra_table;

/* max_keys 0 is taken as 1. */
struct gcra_table *gcra_table_new(size_t max_keys);
void	gcra_table_free(struct gcra_table *);

/*
 * gcra_step on the key's entry.  An entry is created only by a charge that
 * is allowed: a probe (charge false) or a refusal stores nothing, so it
 * never evicts.
 */
int	gcra_table_step(struct gcra_table *, const void *key, size_t keylen,
	    int64_t now_us, const struct gcra_limit *, bool charge,
	    int64_t *retry_after_us);

/* Entries held, live or not yet dropped. */
size_t	gcra_table_count(const struct gcra_table *);

#endif
