/*
 * gcra: the rate arithmetic (see gcra.h for the formula the Lua script
 * shares) and the in-process table: a dense array of entries, an
 * open-addressing index on strmap_hash with backward-shift deletion, and a
 * min-heap on TAT that picks what to drop.  The table never reads a clock
 * and never holds more than max_keys entries.
 */
#include "gcra.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xalloc.h"

/* Past entries dropped per step, so that the count tracks live keys. */
#define GCRA_EXPIRE_PER_STEP	2

#define GCRA_NONE	SIZE_MAX

struct gcra_entry {
	int64_t		 tat;
	char		*key;
	size_t		 keylen;
	uint32_t	 hash;
	uint32_t	 heap;		/* this entry's position in the heap */
};

struct gcra_table {
	struct gcra_entry *e;		/* dense: entries 0..n-1 */
	size_t		 n, e_cap, max;
	uint32_t	*heap;		/* entry indices, earliest TAT first */
	size_t		 heap_cap;
	uint32_t	*slots;		/* entry index + 1; 0 is empty */
	size_t		 mask;		/* slots - 1; at most half are used */
};

void
gcra_limit_init(struct gcra_limit *l, uint32_t count, uint32_t period_s,
    uint32_t burst)
{
	int64_t period_us = (int64_t)period_s * 1000000, t;

	if (count == 0)
		count = 1;
	t = (period_us + count - 1) / count;
	if (t > GCRA_TOLERANCE_MAX_US)
		t = GCRA_TOLERANCE_MAX_US;
	l->emission_us = t;
	/* t * burst without overflow: burst is below 2^32 and t at most 2^51. */
	l->tolerance_us = burst > 0 && t > GCRA_TOLERANCE_MAX_US / burst ?
	    GCRA_TOLERANCE_MAX_US : t * burst;
}

int
gcra_step(int64_t *tat, int64_t now_us, const struct gcra_limit *l,
    bool charge, int64_t *retry_after_us)
{
	int64_t base = *tat > now_us ? *tat : now_us;

	if (base - now_us > l->tolerance_us) {
		if (retry_after_us != NULL)
			*retry_after_us = base - l->tolerance_us - now_us;
		return 0;
	}
	if (retry_after_us != NULL)
		*retry_after_us = 0;
	if (charge)
		*tat = base + l->emission_us;
	return 1;
}

struct gcra_table *
gcra_table_new(size_t max_keys)
{
	struct gcra_table *t = xcalloc(1, sizeof *t);

	/* Slots hold index + 1 in 32 bits and are kept at most half full. */
	if (max_keys > UINT32_MAX / 4)
		max_keys = UINT32_MAX / 4;
	t->max = max_keys ? max_keys : 1;
	return t;
}

void
gcra_table_free(struct gcra_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].key);
	free(t->e);
	free(t->heap);
	free(t->slots);
	free(t);
}

size_t
gcra_table_count(const struct gcra_table *t)
{
	return t->n;
}

/* The slot of the key, or of the empty slot ending its probe. */
static size_t
gcra_table_probe(const struct gcra_table *t, const void *key, size_t keylen,
    uint32_t h)
{
	size_t i;

	for (i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct gcra_entry *e;

		if (t->slots[i] == 0)
			return i;
		e = &t->e[t->slots[i] - 1];
		if (e->hash == h && e->keylen == keylen &&
		    memcmp(e->key, key, keylen) == 0)
			return i;
	}
}

/* The slot pointing at entry idx, which must be in the index. */
static size_t
gcra_table_slot_of(const struct gcra_table *t, size_t idx)
{
	size_t i;

	for (i = t->e[idx].hash & t->mask; t->slots[i] != idx + 1;
	    i = (i + 1) & t->mask)
		;
	return i;
}

/*
 * Empties slot i and shifts back the entries after it that probed past it,
 * so every probe still ends at the first empty slot (no tombstones to
 * accumulate under churn).
 */
static void
gcra_table_slot_delete(struct gcra_table *t, size_t i)
{
	size_t j = i, k;

	for (;;) {
		j = (j + 1) & t->mask;
		if (t->slots[j] == 0)
			break;
		k = t->e[t->slots[j] - 1].hash & t->mask;
		/* The entry at j stays if its home k is in (i, j], cyclic. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	t->slots[i] = 0;
}

/* Doubles the index (or makes the first one) and re-inserts every entry. */
static void
gcra_table_rehash(struct gcra_table *t)
{
	size_t size = t->slots != NULL ? (t->mask + 1) * 2 : 16;

	free(t->slots);
	t->slots = xcalloc(size, sizeof *t->slots);
	t->mask = size - 1;
	for (size_t idx = 0; idx < t->n; idx++) {
		size_t i;

		for (i = t->e[idx].hash & t->mask; t->slots[i] != 0;
		    i = (i + 1) & t->mask)
			;
		t->slots[i] = (uint32_t)idx + 1;
	}
}

/* Swaps heap positions a and b, keeping each entry's back-pointer. */
static void
gcra_heap_swap(struct gcra_table *t, size_t a, size_t b)
{
	uint32_t x = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->e[t->heap[a]].heap = (uint32_t)a;
	t->e[t->heap[b]].heap = (uint32_t)b;
}

/* Moves the entry at heap position pos up while earlier than its parent. */
static void
gcra_heap_up(struct gcra_table *t, size_t pos)
{
	while (pos > 0) {
		size_t parent = (pos - 1) / 2;

		if (t->e[t->heap[parent]].tat <= t->e[t->heap[pos]].tat)
			break;
		gcra_heap_swap(t, pos, parent);
		pos = parent;
	}
}

/* Moves the entry at heap position pos down while a child is earlier. */
static void
gcra_heap_down(struct gcra_table *t, size_t pos)
{
	for (;;) {
		size_t c = 2 * pos + 1, min = pos;

		if (c < t->n && t->e[t->heap[c]].tat < t->e[t->heap[min]].tat)
			min = c;
		if (c + 1 < t->n &&
		    t->e[t->heap[c + 1]].tat < t->e[t->heap[min]].tat)
			min = c + 1;
		if (min == pos)
			break;
		gcra_heap_swap(t, pos, min);
		pos = min;
	}
}

/* Drops the entry with the earliest TAT: the heap's top. */
static void
gcra_table_pop(struct gcra_table *t)
{
	size_t idx = t->heap[0], last = t->n - 1;

	gcra_table_slot_delete(t, gcra_table_slot_of(t, idx));
	free(t->e[idx].key);

	/* The heap's last element takes the top and sinks to its place. */
	gcra_heap_swap(t, 0, last);
	t->n--;
	gcra_heap_down(t, 0);

	/* The dense array's last entry moves into idx. */
	if (idx != last) {
		t->slots[gcra_table_slot_of(t, last)] = (uint32_t)idx + 1;
		t->e[idx] = t->e[last];
		t->heap[t->e[idx].heap] = (uint32_t)idx;
	}
}

/* Adds a key known to be absent, with room already made. */
static void
gcra_table_insert(struct gcra_table *t, const void *key, size_t keylen,
    uint32_t h, int64_t tat)
{
	struct gcra_entry *e;
	size_t idx = t->n, i;

	if (t->slots == NULL || (t->n + 1) * 2 > t->mask + 1)
		gcra_table_rehash(t);
	t->e = xgrow(t->e, &t->e_cap, t->n + 1, sizeof *t->e);
	t->heap = xgrow(t->heap, &t->heap_cap, t->n + 1, sizeof *t->heap);
	e = &t->e[idx];
	e->tat = tat;
	e->key = xcalloc(keylen, 1);
	memcpy(e->key, key, keylen);
	e->keylen = keylen;
	e->hash = h;
	e->heap = (uint32_t)idx;
	t->heap[idx] = (uint32_t)idx;
	t->n++;
	gcra_heap_up(t, idx);
	i = gcra_table_probe(t, key, keylen, h);
	t->slots[i] = (uint32_t)idx + 1;
}

int
gcra_table_step(struct gcra_table *t, const void *key, size_t keylen,
    int64_t now_us, const struct gcra_limit *l, bool charge,
    int64_t *retry_after_us)
{
	uint32_t h;
	size_t idx = GCRA_NONE, i;
	int64_t tat = 0;
	int allowed;

	for (int k = 0; k < GCRA_EXPIRE_PER_STEP && t->n > 0 &&
	    t->e[t->heap[0]].tat <= now_us; k++)
		gcra_table_pop(t);

	h = strmap_hash(key, keylen);
	if (t->slots != NULL) {
		i = gcra_table_probe(t, key, keylen, h);
		if (t->slots[i] != 0) {
			idx = t->slots[i] - 1;
			tat = t->e[idx].tat;
		}
	}
	allowed = gcra_step(&tat, now_us, l, charge, retry_after_us);
	if (!allowed || !charge)
		return allowed;
	if (idx != GCRA_NONE) {
		/* A charge only moves TAT later. */
		t->e[idx].tat = tat;
		gcra_heap_down(t, t->e[idx].heap);
		return 1;
	}
	if (t->n >= t->max)
		gcra_table_pop(t);
	gcra_table_insert(t, key, keylen, h, tat);
	return 1;
}
