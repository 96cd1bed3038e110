/*
 * strmap: open addressing with linear probing, kept at most half full so a
 * miss (the common case: most words are in no list) ends after a probe or
 * two.  Allocation failure aborts: the tables are built at load, where
 * running out of memory leaves nothing sensible to do.
 */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY	UINT32_MAX

void
strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof *m);
}

void
strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m->keys);
	strmap_init(m);
}

/*
 * A multiply-and-fold hash taking eight bytes at a time: keys are words of
 * a few bytes, so most are hashed in one or two steps (a byte-at-a-time
 * FNV-1a was a tenth of the engine's time).
 */
uint32_t
strmap_hash(const char *key, size_t len)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ len;

	while (len >= 8) {
		uint64_t w;
		memcpy(&w, key, 8);
		h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
		key += 8;
		len -= 8;
	}
	if (len > 0) {
		/* byte by byte: memcpy of a variable length is a library call */
		uint64_t w = 0;
		for (size_t i = 0; i < len; i++)
			w |= (uint64_t)(unsigned char)key[i] << (8 * i);
		h = (h ^ w) * 0x94D049BB133111EBull;
		h ^= h >> 29;
	}
	h *= 0xBF58476D1CE4E5B9ull;
	return (uint32_t)(h ^ (h >> 32));
}

const uint32_t *
strmap_get(const struct strmap *m, const char *key, size_t len)
{
	uint32_t h;
	size_t i;

	if (m->slots == NULL)
		return NULL;
	h = strmap_hash(key, len);
	for (i = h & m->mask;; i = (i + 1) & m->mask) {
		const struct strmap_slot *s = &m->slots[i];
		if (s->key_off == EMPTY)
			return NULL;
		if (s->hash == h && s->key_len == len &&
		    memcmp(m->keys + s->key_off, key, len) == 0)
			return &s->value;
	}
}

/* Doubles the table and re-inserts every slot. */
static void
strmap_grow(struct strmap *m)
{
	size_t size = m->slots ? (m->mask + 1) * 2 : 64;
	struct strmap_slot *slots = malloc(size * sizeof *slots);

	if (slots == NULL)
		abort();
	for (size_t i = 0; i < size; i++)
		slots[i].key_off = EMPTY;
	if (m->slots != NULL) {
		for (size_t i = 0; i <= m->mask; i++) {
			struct strmap_slot *s = &m->slots[i];
			size_t j;
			if (s->key_off == EMPTY)
				continue;
			for (j = s->hash & (size - 1); slots[j].key_off != EMPTY;
			    j = (j + 1) & (size - 1))
				;
			slots[j] = *s;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->mask = size - 1;
}

uint32_t *
strmap_put(struct strmap *m, const char *key, size_t len, uint32_t initial)
{
	uint32_t h = strmap_hash(key, len);
	struct strmap_slot *s;
	size_t i;

	if (m->slots == NULL || (m->n + 1) * 2 > m->mask + 1)
		strmap_grow(m);
	for (i = h & m->mask;; i = (i + 1) & m->mask) {
		s = &m->slots[i];
		if (s->key_off == EMPTY)
			break;
		if (s->hash == h && s->key_len == len &&
		    memcmp(m->keys + s->key_off, key, len) == 0)
			return &s->value;
	}
	if (m->keys_len + len > m->keys_cap) {
		size_t cap = m->keys_cap ? m->keys_cap : 1024;
		char *k;
		while (cap < m->keys_len + len)
			cap *= 2;
		if ((k = realloc(m->keys, cap)) == NULL)
			abort();
		m->keys = k;
		m->keys_cap = cap;
	}
	memcpy(m->keys + m->keys_len, key, len);
	s->hash = h;
	s->key_off = (uint32_t)m->keys_len;
	s->key_len = (uint32_t)len;
	s->value = initial;
	m->keys_len += len;
	m->n++;
	return &s->value;
}
