/*
 * tally: this daemon's decisions counted in memory and flushed once a second
 * into Redis's time buckets (tally.h says what it promises).
 *
 * A site's counts are a table of fields, "DECISION" and "RULE:DECISION",
 * found through a strmap; a field is never removed, so the table is bounded
 * by the policy's rules (at most TALLY_FIELDS_MAX, then `_other`).  A flush
 * sends a site's non-zero fields in calls of at most TALLY_PAIRS_MAX pairs
 * and clears each field once its call is sent.  It must never block, and
 * never send a count twice.
 */
#include "tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "eval.h"
#include "log.h"
#include "metrics_buf.h"
#include "monotonic.h"
#include "redis_args.h"
#include "redis_scripts.h"
#include "strmap.h"

#define TALLY_FLUSH_S		1
#define TALLY_OTHER		"_other"
#define TALLY_FIELD_LEN		160	/* longer rule ids count as _other */
/* Field, count pairs per call, within redis_args's bound with two keys. */
#define TALLY_PAIRS_MAX		((REDIS_ARGS_MAX - 2) / 2)

struct tally_field {
	char		*name;
	uint64_t	 count;		/* not yet sent */
};

struct tally_site {
	char			*name;
	struct strmap		 index;		/* name -> fields[] */
	struct tally_field	*fields;
	size_t			 nfields, cap;
};

struct tally {
	struct event		*timer;
	struct redis		*redis;
	char			*prefix;
	struct redis_script	 add, sum;
	struct redis_args	*args;
	struct tally_site	*sites;
	size_t			 nsites;
	uint64_t		 waiting;	/* counts not yet sent */
	uint64_t		 sent, lost;	/* calls */
	uint64_t		 uncounted;	/* decisions of sites past the bound */
	uint64_t		 warned_us;
};

/* The site's table, made on its first decision; NULL past the bound. */
static struct tally_site *
tally_site(struct tally *t, const char *name)
{
	struct tally_site *s;

	for (size_t i = 0; i < t->nsites; i++)
		if (strcmp(t->sites[i].name, name) == 0)
			return &t->sites[i];
	if (t->nsites == TALLY_SITES_MAX)
		return NULL;
	if (t->sites == NULL &&
	    (t->sites = calloc(TALLY_SITES_MAX, sizeof *t->sites)) == NULL)
		return NULL;
	s = &t->sites[t->nsites];
	if ((s->name = strdup(name)) == NULL)
		return NULL;
	strmap_init(&s->index);
	t->nsites++;
	return s;
}

/*
 * The field's counter, added when new; a table that is full (or a field
 * that is too long, or no memory) counts into `_other` instead, which is
 * always given room.
 */
static struct tally_field *
tally_field(struct tally_site *s, const char *rule, const char *decision)
{
	char name[TALLY_FIELD_LEN + 16];
	const uint32_t *v;
	struct tally_field *f;
	size_t len;
	bool other = false;

	if (rule == NULL)
		len = (size_t)snprintf(name, sizeof name, "%s", decision);
	else if (strlen(rule) > TALLY_FIELD_LEN)
		return tally_field(s, TALLY_OTHER, decision);
	else
		len = (size_t)snprintf(name, sizeof name, "%s:%s", rule,
		    decision);
	if ((v = strmap_get(&s->index, name, len)) != NULL)
		return &s->fields[*v];
	other = rule != NULL && strcmp(rule, TALLY_OTHER) == 0;
	if (s->nfields >= TALLY_FIELDS_MAX && !other)
		return tally_field(s, TALLY_OTHER, decision);
	if (s->nfields == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		void *p = realloc(s->fields, cap * sizeof *s->fields);

		if (p == NULL)
			return other ? NULL : tally_field(s, TALLY_OTHER,
			    decision);
		s->fields = p;
		s->cap = cap;
	}
	f = &s->fields[s->nfields];
	if ((f->name = strdup(name)) == NULL)
		return other ? NULL : tally_field(s, TALLY_OTHER, decision);
	f->count = 0;
	strmap_put(&s->index, name, len, (uint32_t)s->nfields++);
	return f;
}

void
tally_count(struct tally *t, const char *site, const struct verdict *v)
{
	const char *decision = decision_name(v->decision);
	struct tally_site *s;
	struct tally_field *f;

	if (t == NULL)
		return;
	if ((s = tally_site(t, site)) == NULL) {
		t->uncounted++;
		return;
	}
	if ((f = tally_field(s, NULL, decision)) != NULL) {
		f->count++;
		t->waiting++;
	}
	for (size_t i = 0; i < v->nreasons; i++) {
		if ((f = tally_field(s, v->reasons[i].id, decision)) != NULL) {
			f->count++;
			t->waiting++;
		}
	}
}

/* A flush's answer: counted, or lost (never sent again: it may count). */
static void
tally_flushed_cb(const redisReply *reply, const char *error, void *arg)
{
	struct tally *t = arg;

	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		return;
	t->lost++;
	if (monotonic_every(&t->warned_us, 60000000))
		log_warnx("decision stats: a flush to Redis was lost (%s); the "
		    "stats miss up to a second of decisions", reply == NULL ?
		    error : reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "an unexpected answer");
}

/*
 * Sends one call with up to TALLY_PAIRS_MAX of the site's non-zero fields
 * from *next on; clears them when it is sent.  -1 when it could not be
 * (Redis down or busy): the counts wait for the next flush.
 */
static int
tally_send(struct tally *t, struct tally_site *s, time_t now, size_t *next)
{
	struct redis_args *a = t->args;
	char num[32];
	size_t first = *next, i, n, pairs = 0;

	redis_args_init(a);
	n = (size_t)snprintf(num, sizeof num, "%lld",
	    (long long)(now / 300));
	redis_args_key(a, t->prefix, s->name, "tally:5m", num, n);
	n = (size_t)snprintf(num, sizeof num, "%lld",
	    (long long)(now / 3600));
	redis_args_key(a, t->prefix, s->name, "tally:1h", num, n);
	for (i = first; i < s->nfields && pairs < TALLY_PAIRS_MAX; i++) {
		if (s->fields[i].count == 0)
			continue;
		redis_args_ref(a, s->fields[i].name, strlen(s->fields[i].name));
		redis_args_num(a, s->fields[i].count);
		pairs++;
	}
	*next = i;
	if (pairs == 0)
		return 0;
	if (a->failed || redis_script_run(t->redis, &t->add, 2, a->n, a->v,
	    a->len, tally_flushed_cb, t) == -1)
		return -1;
	t->sent++;
	for (i = first; i < *next; i++) {
		t->waiting -= s->fields[i].count;
		s->fields[i].count = 0;
	}
	return 0;
}

/* Once a second: every site's counts, while Redis is up. */
static void
tally_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tally *t = arg;
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	if (t->waiting == 0 || redis_state(t->redis) != REDIS_UP)
		return;
	for (size_t k = 0; k < t->nsites; k++) {
		struct tally_site *s = &t->sites[k];

		for (size_t next = 0; next < s->nfields;)
			if (tally_send(t, s, now, &next) == -1)
				return;
	}
}

struct tally *
tally_new(struct event_base *base, struct redis *redis, const char *prefix)
{
	struct tally *t = calloc(1, sizeof *t);
	struct timeval every = { TALLY_FLUSH_S, 0 };

	if (t == NULL)
		return NULL;
	t->redis = redis;
	redis_script_init(&t->add, "tally", redis_script_tally);
	redis_script_init(&t->sum, "tally_sum", redis_script_tally_sum);
	if ((t->prefix = strdup(prefix)) == NULL ||
	    (t->args = malloc(sizeof *t->args)) == NULL ||
	    (t->timer = event_new(base, -1, EV_PERSIST, tally_flush_cb,
	    t)) == NULL || event_add(t->timer, &every) == -1) {
		tally_free(t);
		return NULL;
	}
	return t;
}

void
tally_free(struct tally *t)
{
	if (t == NULL)
		return;
	if (t->timer != NULL)
		event_free(t->timer);
	for (size_t k = 0; k < t->nsites; k++) {
		struct tally_site *s = &t->sites[k];

		for (size_t i = 0; i < s->nfields; i++)
			free(s->fields[i].name);
		free(s->fields);
		strmap_free(&s->index);
		free(s->name);
	}
	free(t->sites);
	free(t->args);
	free(t->prefix);
	free(t);
}

const struct redis_script *
tally_sum_script(const struct tally *t)
{
	return &t->sum;
}

void
tally_render_metrics(const struct tally *t, struct metrics_buf *b)
{
	const struct {
		const char	*name, *type, *help;
		uint64_t	 value;
	} rows[] = {
		{ "commentd_stats_waiting", "gauge", "Decision counts not yet "
		  "added to Redis's stats buckets.", t->waiting },
		{ "commentd_stats_flushes_total", "counter", "Calls that added "
		  "decision counts to Redis's stats buckets.", t->sent },
		{ "commentd_stats_lost_total", "counter", "Such calls never "
		  "answered or refused: their counts are missing from the "
		  "stats.", t->lost },
		{ "commentd_stats_uncounted_total", "counter", "Decisions not "
		  "counted in the stats: more sites than the bound.",
		  t->uncounted },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		metrics_buf_family(b, rows[i].name, rows[i].type, rows[i].help);
		metrics_buf_sample_u64(b, rows[i].name, NULL, 0, rows[i].value);
	}
}
