/*
 * redis_args: a command's arguments in one bounded block, failing whole.
 */
#include "redis_args.h"

#include <stdio.h>
#include <string.h>

/* Empties the argv. */
void
redis_args_init(struct redis_args *a)
{
	a->n = 0;
	a->used = 0;
	a->failed = false;
}

/* Adds a pointer and length as they are. */
void
redis_args_ref(struct redis_args *a, const char *s, size_t len)
{
	if (a->n == REDIS_ARGS_MAX) {
		a->failed = true;
		return;
	}
	a->v[a->n] = s;
	a->len[a->n] = len;
	a->n++;
}

/* Room for len more bytes in the store, or NULL (and failed). */
static char *
redis_args_room(struct redis_args *a, size_t len)
{
	if (a->failed || len > sizeof a->store - a->used) {
		a->failed = true;
		return NULL;
	}
	return a->store + a->used;
}

/* Adds the bytes written at the store's end as one argument. */
static void
redis_args_commit(struct redis_args *a, size_t len)
{
	redis_args_ref(a, a->store + a->used, len);
	a->used += len;
}

void
redis_args_copy(struct redis_args *a, const char *s, size_t len)
{
	char *p;

	if ((p = redis_args_room(a, len)) == NULL)
		return;
	memcpy(p, s, len);
	redis_args_commit(a, len);
}

void
redis_args_num(struct redis_args *a, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);

	redis_args_copy(a, buf, (size_t)n);
}

/*
 * Writes PREFIX:{SITE}:KIND, and ':' when an id follows, at the store's
 * end; its length, or 0 when it and `more` bytes do not fit.
 */
static size_t
redis_args_stem(struct redis_args *a, const char *prefix, const char *site,
    const char *kind, bool colon, size_t more)
{
	size_t n = strlen(prefix) + strlen(site) + strlen(kind) + 4 + colon;
	char *p;

	if ((p = redis_args_room(a, n + more + 1)) == NULL)
		return 0;
	snprintf(p, n + 1, "%s:{%s}:%s%s", prefix, site, kind, colon ? ":" : "");
	return n;
}

void
redis_args_key(struct redis_args *a, const char *prefix, const char *site,
    const char *kind, const char *id, size_t idlen)
{
	size_t n;

	if ((n = redis_args_stem(a, prefix, site, kind, id != NULL,
	    idlen)) == 0)
		return;
	if (id != NULL)
		memcpy(a->store + a->used + n, id, idlen);
	redis_args_commit(a, n + idlen);
}

void
redis_args_key2(struct redis_args *a, const char *prefix, const char *site,
    const char *kind, const char *x, size_t xlen, const char *y, size_t ylen)
{
	char len[24];
	size_t n, ln;
	char *p;

	ln = (size_t)snprintf(len, sizeof len, "%zu:", xlen);
	if ((n = redis_args_stem(a, prefix, site, kind, true, ln + xlen + 1 +
	    ylen)) == 0)
		return;
	p = a->store + a->used + n;
	memcpy(p, len, ln);
	memcpy(p + ln, x, xlen);
	p[ln + xlen] = ':';
	memcpy(p + ln + xlen + 1, y, ylen);
	redis_args_commit(a, n + ln + xlen + 1 + ylen);
}

void
redis_args_append(struct redis_args *a, const struct redis_args *other)
{
	if (other->failed)
		a->failed = true;
	for (int i = 0; i < other->n; i++)
		redis_args_ref(a, other->v[i], other->len[i]);
}
