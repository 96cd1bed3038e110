/*
 * swar: eight bytes of a comment at a time in one 64-bit word ("SIMD within
 * a register"), for the structural checks, which read every byte of every
 * comment.  Most comments are mostly ASCII, and in ASCII a class of bytes
 * (capitals, digits) or a byte equal to the one before it can be found for
 * eight at once.  Portable C17: loads go through memcpy, and no result
 * depends on the machine's byte order.  A caller must not read past the
 * text it was given: each load needs eight bytes.
 */
#ifndef COMMENTD_SWAR_H
#define COMMENTD_SWAR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SWAR_ONES	0x0101010101010101ull
#define SWAR_HIGH	(SWAR_ONES * 0x80)

/* The eight bytes at p, whatever their alignment. */
static inline uint64_t
swar_load(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return w;
}

/* Whether any of the eight bytes is not ASCII. */
static inline bool
swar_non_ascii(uint64_t w)
{
	return (w & SWAR_HIGH) != 0;
}

/*
 * The high bit of each byte that lies in [lo, hi] (both ASCII).  Exact for
 * ASCII bytes; for others it may set the bit, so callers read those bytes
 * one at a time.  Setting each byte's high bit first keeps the
 * subtractions from borrowing across bytes.
 */
static inline uint64_t
swar_in_range(uint64_t w, unsigned lo, unsigned hi)
{
	uint64_t x = w | SWAR_HIGH;

	return (x - SWAR_ONES * lo) & ~(x - SWAR_ONES * (hi + 1)) & SWAR_HIGH;
}

/* The high bit of each byte that is zero, exactly. */
static inline uint64_t
swar_zero(uint64_t w)
{
	uint64_t low = ~SWAR_HIGH;

	return ~(((w & low) + low) | w | low);
}

/* How many bytes have their high bit set in a mask of high bits. */
static inline unsigned
swar_count(uint64_t mask)
{
	return (unsigned)__builtin_popcountll(mask);
}

#endif
