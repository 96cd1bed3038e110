/*
 * xalloc: allocation that cannot fail quietly.
 *
 * The engine allocates while loading a policy and while growing its
 * reusable buffers; running out of memory there leaves nothing sensible to
 * do, so these abort, as a broken invariant of the process, instead of
 * making every caller carry an error path it could never test.
 */
#ifndef COMMENTD_XALLOC_H
#define COMMENTD_XALLOC_H

#include <stddef.h>

/* calloc of at least one byte; aborts on failure. */
void	*xcalloc(size_t n, size_t size);

/* strdup; aborts on failure. */
char	*xstrdup(const char *s);

/* The slow half of xgrow: reallocates, doubling from 16. */
void	*xgrow_slow(void *p, size_t *cap, size_t need, size_t size);

/*
 * Grows array p of `size`-byte elements, whose capacity is *cap elements,
 * to hold at least `need`; returns the array.  Inline because the common
 * case, on the engine's hot path, is that it already fits.
 */
static inline void *
xgrow(void *p, size_t *cap, size_t need, size_t size)
{
	return need <= *cap ? p : xgrow_slow(p, cap, need, size);
}

#endif
