/*
 * spool: the record file (format and promises in spool.h).
 *
 * The order of syscalls is the design.  Every state a crash can leave the
 * file in is one that spool_open reads correctly:
 *
 *  - open: create the file, then sync the directory (on every open, not
 *    only on creation: a daemon killed between the two would otherwise
 *    acknowledge records in a file whose name is not yet durable);
 *  - append: write at the end, then fdatasync, then answer.  Killed before
 *    the sync returns, the record may or may not be there; it was not
 *    acknowledged, and a whole one replays harmlessly (the same comment id
 *    never double-queues), a partial one is a torn tail the next open cuts;
 *  - consume: in memory; the last one truncates to empty and syncs, and a
 *    crash before that replays the records again;
 *  - set aside: copy to NAME.tmp, sync, rename to NAME, sync the directory,
 *    and only then may the spool lose those bytes (at the final truncation).
 *
 * The checksum is CRC32C, written here (twenty lines): it is there to catch
 * torn and decayed bytes, not forgery, and it is what ext4's metadata,
 * iSCSI and LevelDB's log use for exactly that.  zlib is not linked, and
 * Castagnoli's polynomial catches more error patterns than zlib's at these
 * lengths; libcrypto's SHA-256 would do, at 32 bytes a record, for a
 * defence against forgery that a file only this daemon writes has no use
 * for.
 *
 * This module never deletes a file and never reads a clock.
 */
#include "spool.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const uint8_t spool_magic[4] = { 0xff, 'C', 'S', '1' };

/* How far the search for the next good record reads at a time. */
#define SPOOL_SCAN_CHUNK	(64 * 1024)

/* The stack buffer that copies damaged bytes aside. */
#define SPOOL_COPY_CHUNK	(16 * 1024)

/* A range of damaged bytes, set aside, that replay steps over. */
struct spool_skip {
	uint64_t	 start, end;
};

struct spool {
	int		 fd;
	char		*path;
	uint64_t	 max_bytes;
	uint64_t	 size;		/* end of the last good record */
	uint64_t	 head;		/* the oldest unconsumed record */
	size_t		 pending;
	struct spool_skip *skips;	/* sorted; next_skip: first ahead */
	size_t		 nskips, next_skip;
	bool		 peeked;
	uint64_t	 peek_end;	/* where the peeked record ends */
	bool		 dirty_tail;	/* a failed append is not yet cut off */
	int		 error;		/* the last append's errno, or 0 */
	uint32_t	 crc_table[256];
};

/* What spool_open reads the file through: a window of it at a time. */
struct spool_scan {
	int		 fd;
	uint64_t	 fsize;
	uint8_t		*buf;
	size_t		 cap;
	uint64_t	 woff;		/* the file offset of buf[0] */
	size_t		 wlen;
	const uint32_t	*crc_table;
};

/* Sets *cause to a formatted message; returns NULL for the caller. */
static struct spool *
spool_fail(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
	return NULL;
}

/* Fills the table of the reflected Castagnoli polynomial, once per spool. */
static void
spool_crc_init(uint32_t *table)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
		table[i] = c;
	}
}

/* CRC32C of p, continuing from crc (0 to start), so pieces can be chained. */
static uint32_t
spool_crc32c(const uint32_t *table, uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	crc = ~crc;
	while (n-- > 0)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The file's integers are little-endian whatever the host. */
static uint32_t
spool_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The writing half of spool_get32. */
static void
spool_put32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* Reads exactly n bytes at off; a file shorter than that is EIO. */
static int
spool_pread(int fd, void *buf, size_t n, uint64_t off)
{
	uint8_t *b = buf;

	while (n > 0) {
		ssize_t r = pread(fd, b, n, (off_t)off);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* Writes exactly n bytes at off, through short writes. */
static int
spool_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *b = buf;

	while (n > 0) {
		ssize_t w = pwrite(fd, b, n, (off_t)off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		b += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* n bytes at off through the window, reading from off if it lacks them. */
static const uint8_t *
spool_scan_bytes(struct spool_scan *sc, uint64_t off, size_t n)
{
	size_t want;

	if (off >= sc->woff && off - sc->woff + n <= sc->wlen)
		return sc->buf + (off - sc->woff);
	want = sc->fsize - off < sc->cap ? (size_t)(sc->fsize - off) : sc->cap;
	if (spool_pread(sc->fd, sc->buf, want, off) == -1)
		return NULL;
	sc->woff = off;
	sc->wlen = want;
	return sc->buf;
}

/* 1 with *len if a whole good record starts at off, 0 if not, -1 on error. */
static int
spool_scan_record(struct spool_scan *sc, uint64_t off, uint32_t *len)
{
	const uint8_t *p;
	uint32_t n, crc;

	if (sc->fsize - off < SPOOL_HEADER_SIZE)
		return 0;
	if ((p = spool_scan_bytes(sc, off, SPOOL_HEADER_SIZE)) == NULL)
		return -1;
	if (memcmp(p, spool_magic, sizeof spool_magic) != 0)
		return 0;
	n = spool_get32(p + 4);
	if (n > SPOOL_RECORD_MAX || n > sc->fsize - off - SPOOL_HEADER_SIZE)
		return 0;
	if ((p = spool_scan_bytes(sc, off, SPOOL_HEADER_SIZE + n)) == NULL)
		return -1;
	crc = spool_crc32c(sc->crc_table, 0, p + 4, 4);
	crc = spool_crc32c(sc->crc_table, crc, p + SPOOL_HEADER_SIZE, n);
	if (crc != spool_get32(p + 8))
		return 0;
	*len = n;
	return 1;
}

/* 1 with *found at the first good record after from, 0 if none, -1 on error. */
static int
spool_scan_next(struct spool_scan *sc, uint64_t from, uint64_t *found)
{
	uint64_t p = from;
	uint32_t len;

	while (p < sc->fsize && sc->fsize - p >= SPOOL_HEADER_SIZE) {
		size_t n = sc->fsize - p < SPOOL_SCAN_CHUNK ?
		    (size_t)(sc->fsize - p) : SPOOL_SCAN_CHUNK;
		const uint8_t *b, *m;
		int r;

		if ((b = spool_scan_bytes(sc, p, n)) == NULL)
			return -1;
		if ((m = memchr(b, spool_magic[0], n)) == NULL) {
			p += n;
			continue;
		}
		p += (uint64_t)(m - b);
		if ((r = spool_scan_record(sc, p, &len)) != 0) {
			*found = p;
			return r;
		}
		p++;
	}
	return 0;
}

/* Splits path into its directory (malloc'd) and its last component. */
static char *
spool_dirname(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*base = path;
		return strdup(".");
	}
	*base = slash + 1;
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Copies [off, off + len) of the spool into a new file at dirfd/name. */
static int
spool_copy_out(struct spool *s, int dirfd, const char *name, uint64_t off,
    uint64_t len)
{
	uint8_t buf[SPOOL_COPY_CHUNK];
	int fd, saved;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < sizeof buf ? (size_t)(len - done) :
		    sizeof buf;

		if (spool_pread(s->fd, buf, n, off + done) == -1 ||
		    spool_pwrite(fd, buf, n, done) == -1)
			goto fail;
		done += n;
	}
	if (fsync(fd) == -1)
		goto fail;
	return close(fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Keeps the damaged bytes [off, end) in a file beside the spool before the
 * spool may ever lose them.  The name carries their offset, length and
 * CRC32C, so a restart that finds the same damage finds it already kept.
 */
static int
spool_set_aside(struct spool *s, int dirfd, const char *base, uint64_t off,
    uint64_t end, char **cause)
{
	uint8_t buf[SPOOL_COPY_CHUNK];
	char suffix[80], name[512], tmp[520];
	struct stat st;
	uint32_t crc = 0;
	uint64_t o;

	for (o = off; o < end;) {
		size_t n = end - o < sizeof buf ? (size_t)(end - o) :
		    sizeof buf;

		if (spool_pread(s->fd, buf, n, o) == -1) {
			spool_fail(cause, "%s: read: %s", s->path,
			    strerror(errno));
			return -1;
		}
		crc = spool_crc32c(s->crc_table, crc, buf, n);
		o += n;
	}
	snprintf(suffix, sizeof suffix, ".unreadable-%" PRIu64 "-%" PRIu64
	    "-%08" PRIx32, off, end - off, crc);
	if ((size_t)snprintf(name, sizeof name, "%s%s", base, suffix) >=
	    sizeof name) {
		spool_fail(cause, "%s: name too long", s->path);
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISREG(st.st_mode) && (uint64_t)st.st_size == end - off)
			goto done;
		spool_fail(cause, "%s: %s exists and is not a copy of the "
		    "damaged bytes", s->path, name);
		return -1;
	}
	if (spool_copy_out(s, dirfd, tmp, off, end - off) == -1 ||
	    renameat(dirfd, tmp, dirfd, name) == -1 || fsync(dirfd) == -1) {
		spool_fail(cause, "%s: cannot set aside %" PRIu64 " damaged "
		    "bytes at offset %" PRIu64 " in %s%s: %s", s->path,
		    end - off, off, s->path, suffix, strerror(errno));
		return -1;
	}
done:
	log_warnx("spool %s: %" PRIu64 " damaged bytes at offset %" PRIu64
	    " are set aside in %s%s; the good records around them are kept",
	    s->path, end - off, off, s->path, suffix);
	return 0;
}

/* Cuts the file back to size and syncs it. */
static int
spool_truncate(struct spool *s, uint64_t size)
{
	if (ftruncate(s->fd, (off_t)size) == -1 || fdatasync(s->fd) == -1)
		return -1;
	return 0;
}

/*
 * Reads the whole file once: counts the good records, sets damage before a
 * good record aside and remembers to skip it, and cuts a torn tail.
 */
static int
spool_load(struct spool *s, int dirfd, const char *base, uint64_t fsize,
    char **cause)
{
	struct spool_scan sc;
	uint64_t off = 0, next;
	uint32_t len;
	int r = 0;

	memset(&sc, 0, sizeof sc);
	sc.fd = s->fd;
	sc.fsize = fsize;
	sc.crc_table = s->crc_table;
	sc.cap = SPOOL_HEADER_SIZE + SPOOL_RECORD_MAX + SPOOL_SCAN_CHUNK;
	if (fsize < sc.cap)
		sc.cap = (size_t)fsize;
	if (fsize > 0 && (sc.buf = malloc(sc.cap)) == NULL) {
		spool_fail(cause, "%s: %s", s->path, strerror(errno));
		return -1;
	}
	while (off < fsize) {
		if ((r = spool_scan_record(&sc, off, &len)) == 1) {
			s->pending++;
			off += SPOOL_HEADER_SIZE + len;
			continue;
		}
		if (r == 0 && (r = spool_scan_next(&sc, off + 1, &next)) == 1) {
			struct spool_skip *k;

			if ((r = spool_set_aside(s, dirfd, base, off, next,
			    cause)) == -1)
				break;
			k = reallocarray(s->skips, s->nskips + 1, sizeof *k);
			if (k == NULL) {
				spool_fail(cause, "%s: %s", s->path,
				    strerror(errno));
				r = -1;
				break;
			}
			s->skips = k;
			s->skips[s->nskips].start = off;
			s->skips[s->nskips++].end = next;
			off = next;
			continue;
		}
		if (r == -1) {
			spool_fail(cause, "%s: read: %s", s->path,
			    strerror(errno));
			break;
		}
		log_warnx("spool %s: %" PRIu64 " bytes after the last complete "
		    "record (offset %" PRIu64 ") are an interrupted append, "
		    "never acknowledged; cut off", s->path, fsize - off, off);
		if ((r = spool_truncate(s, off)) == -1)
			spool_fail(cause, "%s: truncate: %s", s->path,
			    strerror(errno));
		break;
	}
	free(sc.buf);
	s->size = off;
	return r == -1 ? -1 : 0;
}

struct spool *
spool_open(const char *path, uint64_t max_bytes, char **cause)
{
	struct spool *s;
	struct stat st;
	const char *base;
	char *dir;
	int dirfd = -1;

	*cause = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		return spool_fail(cause, "%s: %s", path, strerror(errno));
	}
	s->max_bytes = max_bytes;
	spool_crc_init(s->crc_table);
	s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->fd == -1) {
		spool_fail(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB) == -1) {
		spool_fail(cause, "%s: %s", path, errno == EWOULDBLOCK ?
		    "in use by another process" : strerror(errno));
		goto fail;
	}
	if (fstat(s->fd, &st) == -1) {
		spool_fail(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		spool_fail(cause, "%s: not a regular file", path);
		goto fail;
	}
	if ((dir = spool_dirname(path, &base)) == NULL) {
		spool_fail(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1 || fsync(dirfd) == -1) {
		spool_fail(cause, "%s: %s", dir, strerror(errno));
		free(dir);
		goto fail;
	}
	free(dir);
	if (spool_load(s, dirfd, base, (uint64_t)st.st_size, cause) == -1)
		goto fail;
	close(dirfd);
	return s;
fail:
	if (dirfd != -1)
		close(dirfd);
	spool_close(s);
	return NULL;
}

void
spool_close(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		close(s->fd);
	free(s->skips);
	free(s->path);
	free(s);
}

/* Fails an append with err, remembering it for spool_error. */
static int
spool_append_fail(struct spool *s, int err)
{
	s->error = err;
	errno = err;
	return -1;
}

int
spool_append(struct spool *s, const void *data, size_t len)
{
	uint8_t hdr[SPOOL_HEADER_SIZE];
	uint32_t crc;
	int saved;

	if (len > SPOOL_RECORD_MAX)
		return spool_append_fail(s, EMSGSIZE);
	if (s->size > s->max_bytes ||
	    s->max_bytes - s->size < SPOOL_HEADER_SIZE + len)
		return spool_append_fail(s, EFBIG);
	/* What a failed append left past the end must go before this one. */
	if (s->dirty_tail) {
		if (ftruncate(s->fd, (off_t)s->size) == -1)
			return spool_append_fail(s, errno);
		s->dirty_tail = false;
	}
	memcpy(hdr, spool_magic, sizeof spool_magic);
	spool_put32(hdr + 4, (uint32_t)len);
	crc = spool_crc32c(s->crc_table, 0, hdr + 4, 4);
	spool_put32(hdr + 8, spool_crc32c(s->crc_table, crc, data, len));
	/* Torn between the two writes is a torn tail, like any other. */
	if (spool_pwrite(s->fd, hdr, sizeof hdr, s->size) == 0 &&
	    spool_pwrite(s->fd, data, len, s->size + sizeof hdr) == 0 &&
	    fdatasync(s->fd) == 0) {
		s->size += SPOOL_HEADER_SIZE + len;
		s->pending++;
		s->error = 0;
		return 0;
	}
	saved = errno;
	if (ftruncate(s->fd, (off_t)s->size) == -1) {
		log_warn("spool %s: cannot cut off a failed append", s->path);
		s->dirty_tail = true;
	}
	return spool_append_fail(s, saved);
}

int
spool_error(const struct spool *s)
{
	return s->error;
}

size_t
spool_pending(const struct spool *s)
{
	return s->pending;
}

uint64_t
spool_size(const struct spool *s)
{
	return s->size;
}

int
spool_peek(struct spool *s, void **data, size_t *len)
{
	uint8_t hdr[SPOOL_HEADER_SIZE];
	uint32_t n, crc;
	uint8_t *p;

	*data = NULL;
	*len = 0;
	if (s->pending == 0)
		return 0;
	while (s->next_skip < s->nskips &&
	    s->skips[s->next_skip].start <= s->head)
		s->head = s->skips[s->next_skip++].end;
	if (spool_pread(s->fd, hdr, sizeof hdr, s->head) == -1)
		return -1;
	n = spool_get32(hdr + 4);
	if (memcmp(hdr, spool_magic, sizeof spool_magic) != 0 ||
	    n > SPOOL_RECORD_MAX || s->size - s->head < SPOOL_HEADER_SIZE ||
	    n > s->size - s->head - SPOOL_HEADER_SIZE) {
		errno = EBADMSG;
		return -1;
	}
	if ((p = malloc(n > 0 ? n : 1)) == NULL)
		return -1;
	if (spool_pread(s->fd, p, n, s->head + SPOOL_HEADER_SIZE) == -1) {
		free(p);
		return -1;
	}
	crc = spool_crc32c(s->crc_table, 0, hdr + 4, 4);
	if (spool_crc32c(s->crc_table, crc, p, n) != spool_get32(hdr + 8)) {
		free(p);
		errno = EBADMSG;
		return -1;
	}
	s->peeked = true;
	s->peek_end = s->head + SPOOL_HEADER_SIZE + n;
	*data = p;
	*len = n;
	return 1;
}

int
spool_consume(struct spool *s)
{
	if (!s->peeked) {
		errno = EINVAL;
		return -1;
	}
	s->peeked = false;
	s->head = s->peek_end;
	if (--s->pending > 0)
		return 0;
	/* The last one: an empty file is an empty spool. */
	if (spool_truncate(s, 0) == -1)
		return -1;
	s->size = s->head = 0;
	s->dirty_tail = false;
	free(s->skips);
	s->skips = NULL;
	s->nskips = s->next_skip = 0;
	return 0;
}
