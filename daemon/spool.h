/*
 * spool: a durable append-only file of opaque records, where a queue entry
 * waits while Redis is unreachable.
 *
 * An append returns 0 only once the record is on disk (write, then
 * fdatasync), so a comment may be answered `queue` after it and never
 * before.  A failed append leaves the file as it was.  Records are replayed
 * oldest first (peek, send to Redis, consume); consumption is kept in memory
 * only, and the file is emptied when the last record is consumed, so a crash
 * mid-replay replays some records again (Redis side is idempotent) and
 * loses none.  No event loop here: an append or a consume is a few
 * syscalls, and only the open reads the whole file.
 *
 * The file is a sequence of records, integers little-endian:
 *
 *	magic	4 bytes	 FF 43 53 31 ("\xffCS1")
 *	length	4 bytes	 payload bytes, at most SPOOL_RECORD_MAX
 *	crc	4 bytes	 CRC32C (Castagnoli, as in iSCSI and ext4) of the
 *			 length field's 4 bytes then the payload
 *	payload	length bytes
 *
 * There is no file header, so an empty file is an empty spool.  The magic
 * starts with FF, a byte UTF-8 never uses, so a payload made of UTF-8 text
 * (NUL-separated fields or JSON alike) never contains the start of a
 * record: the search for the next good record after damage cannot be
 * misled by what a commenter wrote.
 *
 * At open every record is checked.  Damage after the last good record is
 * one interrupted append (an append is acknowledged only after its sync,
 * and nothing follows it): it is truncated away, with a warning.  (Decay
 * inside the very last record looks the same and is cut the same way; its
 * checksum failed, so it could not have been replayed anyway.)  Damage
 * followed by a good record is not: those bytes are copied, synced, to
 * "PATH.unreadable-OFFSET-LENGTH-CRC" beside the spool (never deleted, and
 * not copied twice across restarts) with a warning, and every good record
 * before and after them stays pending.  If they cannot be set aside, the
 * open fails rather than risk losing them.
 *
 * The file is locked (flock) while open, so two daemons cannot share it.
 */
#ifndef COMMENTD_SPOOL_H
#define COMMENTD_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/* The largest payload; a larger append fails with EMSGSIZE. */
#define SPOOL_RECORD_MAX	(1024 * 1024)

/* Bytes of a record before its payload. */
#define SPOOL_HEADER_SIZE	12

struct spool;

/*
 * Opens (creating, mode 0600) the spool file at path; max_bytes bounds its
 * size.  Validates every record; returns NULL with *cause (malloc'd) when
 * it cannot be opened at all (unreadable, read-only, a symbolic link,
 * locked by another process, damage that cannot be set aside).  Syncs the
 * directory, so the file's name is durable before anything is appended.
 * A spool found larger than max_bytes keeps every record; appends fail
 * until it is emptied.
 */
struct spool	*spool_open(const char *path, uint64_t max_bytes, char **cause);
void		 spool_close(struct spool *);	/* NULL ok */

/*
 * Appends one record and returns 0 only once it is on disk (write +
 * fdatasync); -1 with errno set (ENOSPC, EROFS, EIO, EFBIG when max_bytes
 * would be exceeded, EMSGSIZE over SPOOL_RECORD_MAX, ...) and the file left
 * as before: a partial write is truncated away.  A later append may succeed
 * when space returns.
 */
int		 spool_append(struct spool *, const void *data, size_t len);

/*
 * Why the last append failed (its errno: ENOSPC, EROFS, EIO, EFBIG, ...),
 * or 0 when it succeeded or none has been tried: whether the spool can
 * take a comment now, as far as the last attempt knows.
 */
int		 spool_error(const struct spool *);

/* Records appended (or found at open) and not yet consumed. */
size_t		 spool_pending(const struct spool *);

/* Bytes in the file, set-aside damage included until the file is emptied. */
uint64_t	 spool_size(const struct spool *);

/*
 * The oldest unconsumed record: 1 with a malloc'd copy in *data and *len
 * (caller frees; never NULL, even for an empty record), 0 when none, -1
 * with errno on a read error or a record that no longer matches its
 * checksum (EBADMSG).  Does not consume it.
 */
int		 spool_peek(struct spool *, void **data, size_t *len);

/*
 * Marks the peeked record replayed.  When none are left, truncates the file
 * to empty and syncs it.  Returns 0, or -1 with errno: EINVAL without a
 * successful peek since the last consume, or the truncation's error (the
 * records are then all consumed but the file keeps them, so a restart
 * would replay them again, which is harmless).
 */
int		 spool_consume(struct spool *);

#endif
