/*
 * strmap: an open-addressing hash table from byte strings to 32-bit values.
 *
 * The word lists' lookups are the engine's hot path, so the table keeps
 * hashes and key offsets in one flat array (one cache line per probe, most of
 * the time) and the keys in one arena.  It only grows; entries are never
 * removed, as a policy is built once and then only read.
 */
#ifndef COMMENTD_STRMAP_H
#define COMMENTD_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	uint32_t	hash;
	uint32_t	key_off;	/* UINT32_MAX when empty */
	uint32_t	key_len;
	uint32_t	value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t		 mask;		/* slots - 1, a power of two minus one */
	size_t		 n;
	char		*keys;
	size_t		 keys_len, keys_cap;
};

void		 strmap_init(struct strmap *);
void		 strmap_free(struct strmap *);

/* The value stored for the key, or NULL. */
const uint32_t	*strmap_get(const struct strmap *, const char *key, size_t len);

/* The value slot for the key, inserted with `initial` when new. */
uint32_t	*strmap_put(struct strmap *, const char *key, size_t len,
		    uint32_t initial);

uint32_t	 strmap_hash(const char *key, size_t len);

#endif
