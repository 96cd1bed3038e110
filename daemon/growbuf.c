/*
 * growbuf: growth of a byte buffer by doubling, failing softly.
 */
#include "growbuf.h"

#include <stdint.h>
#include <stdlib.h>

/* Ensures len + n < *cap, reallocating *buf when it does not hold. */
bool
growbuf_reserve(char **buf, size_t *cap, size_t len, size_t n, size_t first)
{
	size_t	 ncap;
	char	*nb;

	if (*buf != NULL && n < *cap - len)
		return true;
	if (n > SIZE_MAX / 2 - len)
		return false;
	ncap = *cap != 0 ? *cap : first;
	while (ncap - len <= n)
		ncap *= 2;
	if ((nb = realloc(*buf, ncap)) == NULL)
		return false;
	*buf = nb;
	*cap = ncap;
	return true;
}
