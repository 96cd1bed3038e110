/*
 * monotonic: the daemon's clock for durations and deadlines, which must
 * not jump when the wall clock is set.
 */
#ifndef COMMENTD_MONOTONIC_H
#define COMMENTD_MONOTONIC_H

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

#endif
