/*
 * decisions: GET /v1/decisions, the moderators' outcomes as a feed that
 * backends read from a cursor, long-polling up to `wait` seconds
 * (docs/api.md).  Served on every listener, as a submit-side route.
 *
 * A waiting request never blocks the one shared Redis connection (no
 * XREAD BLOCK): it asks again every DECISIONS_POLL_MS, holds the config it
 * started with, and is answered (with what it has) within
 * DECISIONS_TICK_MS of a stop.
 */
#ifndef COMMENTD_DECISIONS_H
#define COMMENTD_DECISIONS_H

#define DECISIONS_WAIT_MAX_S	30	/* the longest `wait` */
#define DECISIONS_POLL_MS	200	/* how often a waiting request asks */
#define DECISIONS_TICK_MS	50	/* how often it looks for a stop */
#define DECISIONS_LIMIT_DEFAULT	100
#define DECISIONS_LIMIT_MAX	1000

struct server;
struct evhttp_request;

/* The route's handler (api.c); id is unused (NULL). */
int	decisions_feed(struct server *, struct evhttp_request *,
	    const char *id);

#endif
