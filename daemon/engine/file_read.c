/*
 * file_read: one careful way to read a configuration file.  open(2) with
 * O_NONBLOCK so that a FIFO named by mistake cannot hang a reload, fstat to
 * refuse what is not a regular file or is too large before reading, and a
 * loop that survives EINTR and notices a file that shrank.
 */
#include "file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

int
file_read(const char *path, size_t max, char **buf, size_t *len,
    mode_t *mode)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *b = NULL;
	int fd, saved;

	/* O_NONBLOCK: a FIFO named by mistake must not hang a reload. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : S_ISREG(st.st_mode) ?
		    EFBIG : EINVAL;
		goto fail;
	}
	b = xcalloc((size_t)st.st_size + 1, 1);
	while (n < (size_t)st.st_size) {
		if ((r = read(fd, b + n, (size_t)st.st_size - n)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;	/* the file shrank */
			goto fail;
		}
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	if (mode != NULL)
		*mode = st.st_mode;
	return 0;
fail:
	saved = errno;
	free(b);
	close(fd);
	errno = saved;
	return -1;
}
