/*
 * monotonic: the daemon's clock for durations and deadlines, which must
 * not jump when the wall clock is set.
 */
#ifndef COMMENTD_MONOTONIC_H
#define COMMENTD_MONOTONIC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Microseconds on CLOCK_MONOTONIC. */
static inline uint64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * For "at most once every interval_us": true, and *last set to now, when
 * that long has passed since *last (0: never); false otherwise.
 */
static inline bool
monotonic_every(uint64_t *last, uint64_t interval_us)
{
	uint64_t now = monotonic_us();

	if (*last != 0 && now - *last < interval_us)
		return false;
	*last = now;
	return true;
}

#endif
