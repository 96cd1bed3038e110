/*
 * growbuf: the one growth rule of the daemon's text buffers (answers and
 * the /metrics page): double until the bytes fit, never overflow a size_t,
 * and report failure instead of aborting, because running out of memory
 * while answering one client must not take down the daemon.
 */
#ifndef COMMENTD_GROWBUF_H
#define COMMENTD_GROWBUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Makes room in *buf (capacity *cap, len bytes used) for more than n further
 * bytes (one spare, for a terminating NUL), doubling from `first`; false
 * when memory ran out or the size would overflow, with *buf untouched.
 */
bool	growbuf_reserve(char **buf, size_t *cap, size_t len, size_t n,
	    size_t first);

#endif
