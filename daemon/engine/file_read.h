/*
 * file_read: reading a whole, bounded, regular file, as policies, word
 * lists, configurations and token files are read.
 */
#ifndef COMMENTD_FILE_READ_H
#define COMMENTD_FILE_READ_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads the regular file at `path`, at most `max` bytes, into a malloc'd,
 * NUL-terminated *buf of *len bytes, and its mode into *mode (if not NULL).
 * Returns 0, or -1 with errno set: EISDIR, EINVAL (not a regular file),
 * EFBIG (over max), or what open or read said.
 */
int	file_read(const char *path, size_t max, char **buf, size_t *len,
	    mode_t *mode);

#endif
