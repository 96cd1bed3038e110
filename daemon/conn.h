/*
 * conn: the daemon's own bookkeeping of HTTP connections, which libevent
 * 2.1's evhttp does not expose: a cap on open connections, and absolute
 * deadlines for a request's headers and body.
 *
 * evhttp's timeouts restart with every byte, so a client that trickles one
 * byte every few seconds would never time out; and evhttp has no hook at
 * accept or close.  Its bufferevent callback is the one place a new
 * connection shows itself: conn hands evhttp a bufferevent it keeps a
 * reference to, learns the connection is gone from evhttp's close callback
 * once the connection has sent a request (or, before that, when evhttp has
 * cleared the bufferevent's callbacks), and closes (shutdown) connections that are over
 * the cap or past a deadline, which evhttp then frees as a closed peer.
 * A sweep timer (every CONN_SWEEP_MS) does the watching.
 */
#ifndef COMMENTD_CONN_H
#define COMMENTD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bufferevent;
struct evhttp_request;

#define CONN_SWEEP_MS	100

struct conn_limits {
	uint32_t	max_connections;
	uint32_t	header_timeout_ms;	/* request line and headers */
	uint32_t	body_timeout_ms;	/* then the body */
	uint32_t	max_header_bytes;	/* request line and headers */
};

struct conn_stats {
	uint64_t	accepted;
	uint64_t	rejected;		/* over max_connections */
	uint64_t	header_timeouts;
	uint64_t	body_timeouts;
	size_t		open;
};

enum conn_event {
	CONN_ACCEPTED,
	CONN_CLOSED,
	CONN_REJECTED,		/* over max_connections */
	CONN_HEADER_TIMEOUT,
	CONN_BODY_TIMEOUT,
	CONN_HEADERS_TOO_LARGE,
};

/* Told of each event, for the metrics. */
typedef void	(*conn_event_fn)(void *arg, enum conn_event);

struct conns;

struct conns	*conns_new(struct event_base *, const struct conn_limits *,
		    conn_event_fn, void *arg);
void		 conns_free(struct conns *);
void		 conns_set_limits(struct conns *, const struct conn_limits *);

/* evhttp_set_bevcb's callback; `arg` is the struct conns. */
struct bufferevent *conns_bevcb(struct event_base *, void *arg);

/*
 * A request was read whole: its connection is no longer mid-request, and
 * what evhttp has read past it is checked as the next request.  -1 when
 * conn already answered it on the socket and closed the connection (a NUL
 * in its headers, headers too large, CONNECT): the routes must drop it.
 */
int		 conns_request_done(struct conns *, struct evhttp_request *);

/*
 * A request's answer is owed later (it waits on Redis): +1 when it starts
 * waiting, -1 once answered.  While any is owed, a stop does not close
 * idle connections early, since an answer may still be theirs; the stop's
 * deadline holds either way.
 */
void		 conns_hold(struct conns *, int delta);

void		 conns_stats(const struct conns *, struct conn_stats *);

/*
 * Stopping: from now on a connection is closed as soon as it is between
 * requests, and all are past their deadline `ms` from now.
 */
void		 conns_drain(struct conns *, uint32_t ms);
bool		 conns_drain_expired(const struct conns *);

#endif
