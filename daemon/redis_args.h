/*
 * redis_args: builds a Redis command's argv, with the key names of
 * docs/redis.md, in one bounded block.
 *
 * Keys are PREFIX:{SITE}:KIND:ID, the site as a hash tag so that a Redis
 * Cluster keeps a site together.  Ids are copied as bytes (they hold no
 * NUL).  An argv that does not fit is marked failed, never cut: a cut key
 * would name another comment's state.
 */
#ifndef COMMENTD_REDIS_ARGS_H
#define COMMENTD_REDIS_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_ARGS_MAX		192
#define REDIS_ARGS_STORE	65536

struct redis_args {
	int		 n;
	const char	*v[REDIS_ARGS_MAX];
	size_t		 len[REDIS_ARGS_MAX];
	bool		 failed;
	size_t		 used;
	char		 store[REDIS_ARGS_STORE];
};

void	redis_args_init(struct redis_args *);

/* Adds bytes that live until the command is sent (not copied). */
void	redis_args_ref(struct redis_args *, const char *s, size_t len);

/* Adds a copy of len bytes. */
void	redis_args_copy(struct redis_args *, const char *s, size_t len);

/* Adds an unsigned number in decimal. */
void	redis_args_num(struct redis_args *, uint64_t);

/* Adds the key PREFIX:{SITE}:KIND:ID, or PREFIX:{SITE}:KIND when id is NULL. */
void	redis_args_key(struct redis_args *, const char *prefix,
	    const char *site, const char *kind, const char *id, size_t idlen);

/*
 * Adds the key PREFIX:{SITE}:KIND:LEN:A:B, for a key of two ids (author
 * and thread, author and fingerprint): A's length first, so no two pairs
 * give one key.
 */
void	redis_args_key2(struct redis_args *, const char *prefix,
	    const char *site, const char *kind, const char *a, size_t alen,
	    const char *b, size_t blen);

/* Appends every argument of other (whose store must outlive the send). */
void	redis_args_append(struct redis_args *, const struct redis_args *other);

#endif
