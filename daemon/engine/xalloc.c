/*
 * xalloc: the engine's aborting allocators.  See xalloc.h for why.
 */
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

void *
xgrow_slow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;

	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			abort();
		c *= 2;
	}
	if ((p = realloc(p, c * size)) == NULL)
		abort();
	*cap = c;
	return p;
}
