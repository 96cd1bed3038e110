/*
 * conn: connection cap and absolute request deadlines around evhttp.
 * See conn.h for why this exists and how it watches evhttp.
 *
 * Deadlines: a callback on each connection's input buffer sees every byte
 * as it arrives.  The first byte of a request starts the header clock; the
 * blank line that ends the headers stops it and starts the body clock; the
 * whole request reaching its handler stops both.  A request whose headers
 * take longer than header_timeout, or whose body takes longer than
 * body_timeout after them, is closed at the next sweep, however steadily
 * its client trickles bytes.  Idle keep-alive connections are evhttp's own
 * timeout's business.
 *
 * Refusals: the same reading answers, itself, a request line and headers
 * over max_header_bytes (431), holding a NUL (400) or asking CONNECT (405),
 * and closes the connection.  A pipelined request already in evhttp's
 * buffer is read when the one before it reaches the routes, and its
 * refusal waits until that one's answer is written, so that answers keep
 * their order on the wire.
 */
#include "conn.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "log.h"
#include "monotonic.h"

/* Why conn.c answers a request itself, before evhttp reads it. */
enum conn_refusal {
	CONN_REFUSE_NONE,
	CONN_REFUSE_NUL,
	CONN_REFUSE_TOO_LARGE,
	CONN_REFUSE_CONNECT,
};

struct conn {
	struct conns		*cs;
	struct bufferevent	*bev;
	struct evbuffer_cb_entry *reader;	/* our callback on its input */
	uint64_t		 busy_since_ms;	/* first byte of a request; 0 */
	uint64_t		 headers_at_ms;	/* its headers ended; 0 */
	uint32_t		 tail;		/* its last four bytes */
	uint64_t		 method;	/* its first eight, but CR LF */
	size_t			 header_bytes;	/* of the request so far */
	size_t			 method_bytes;
	bool			 over_cap;	/* to be closed at once */
	bool			 closing;	/* shut down; evhttp will free it */
	bool			 refused;	/* answered by conn_refuse */
	bool			 watched;	/* evhttp tells us when it closes */
	bool			 answering;	/* a routed request's answer is owed */
	enum conn_refusal	 pending;	/* to answer once that one is sent */
};

struct conns {
	struct event_base	*base;
	struct conn_limits	 limits;
	struct conn		**c;		/* NULL: a free slot */
	size_t			 n, cap;	/* slots used (some free), allocated */
	struct conn_stats	 stats;
	struct event		*sweep;		/* every CONN_SWEEP_MS */
	struct event		*kick;		/* closes over-cap ones at once */
	conn_event_fn		 event_fn;
	void			*event_arg;
	uint64_t		 drain_until_ms;	/* 0: not stopping */
	size_t			 held;		/* answers still owed */
};

static uint64_t
now_ms(void)
{
	return monotonic_us() / 1000u;
}

/* True once evhttp has freed the bufferevent (its callbacks are cleared). */
static bool
conn_gone(const struct conn *c)
{
	bufferevent_event_cb ecb;

	bufferevent_getcb(c->bev, NULL, NULL, &ecb, NULL);
	return ecb == NULL;
}

/* Shuts the socket down so that evhttp sees a closed peer and frees it. */
static void
conn_close(struct conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (fd >= 0 && !c->closing) {
		shutdown(fd, SHUT_RDWR);
		c->closing = true;
	}
}

/* Drops our reference to a connection evhttp has freed, and its record. */
static void
conn_release(struct conns *cs, size_t i)
{
	struct conn *c = cs->c[i];

	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->reader);
	bufferevent_decref(c->bev);
	cs->stats.open--;
	if (!c->over_cap)	/* the metrics never counted it as open */
		cs->event_fn(cs->event_arg, CONN_CLOSED);
	free(c);
	cs->c[i] = NULL;
}

/*
 * Answers a request the daemon will not let evhttp read, and closes the
 * connection: written straight to the socket, as evhttp has not parsed it.
 * The connection is marked refused, so a request evhttp still makes of its
 * bytes is dropped by the routes (conns_request_done says so).
 */
static void
conn_refuse(struct conn *c, enum conn_refusal why)
{
	static const struct {
		const char	*status, *headers, *code, *message;
	} answers[] = {
		[CONN_REFUSE_NUL] = { "400 Bad Request", "", "bad_request",
		    "a NUL byte in the request line or headers" },
		[CONN_REFUSE_TOO_LARGE] = {
		    "431 Request Header Fields Too Large", "",
		    "headers_too_large",
		    "the request line and headers are too large" },
		[CONN_REFUSE_CONNECT] = { "405 Method Not Allowed",
		    "Allow: GET, POST\r\n", "method_not_allowed",
		    "CONNECT is not served here" },
	};
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	char body[256], answer[512];
	int blen, alen;

	if (fd < 0 || c->closing)
		return;
	blen = snprintf(body, sizeof body,
	    "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
	    answers[why].code, answers[why].message);
	alen = snprintf(answer, sizeof answer, "HTTP/1.1 %s\r\n%s"
	    "Content-Type: application/json\r\nConnection: close\r\n"
	    "Content-Length: %d\r\n\r\n%s", answers[why].status,
	    answers[why].headers, blen, body);
	/* A short write is no loss: the client is cut off either way. */
	if (alen > 0 && (size_t)alen < sizeof answer)
		(void)send(fd, answer, (size_t)alen, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	c->refused = true;
	conn_close(c);
	if (why == CONN_REFUSE_TOO_LARGE)
		c->cs->event_fn(c->cs->event_arg, CONN_HEADERS_TOO_LARGE);
}

/*
 * Refuses the request whose bytes are being read: now, or, while the
 * answer to the request before it is owed, once that answer is written,
 * so that the refusal comes after it on the wire (written now, straight
 * to the socket, it would overtake the answer and stand for it).  Always
 * false: the reading stops.
 */
static bool
conn_refusal(struct conn *c, enum conn_refusal why)
{
	if (c->answering)
		c->pending = why;
	else
		conn_refuse(c, why);
	return false;
}

/* "CONNECT ": a request line's first eight bytes, as conn_scan keeps them. */
#define CONN_METHOD_CONNECT	0x434f4e4e45435420ull

/*
 * Reads one byte of a request's line and headers; false once the headers
 * have ended or the request was refused.
 */
static bool
conn_scan_byte(struct conn *c, unsigned char b)
{
	c->tail = c->tail << 8 | b;
	if (c->tail == 0x0d0a0d0a || (c->tail & 0xffff) == 0x0a0a) {
		c->headers_at_ms = now_ms();
		return false;
	}
	if (++c->header_bytes > c->cs->limits.max_header_bytes)
		return conn_refusal(c, CONN_REFUSE_TOO_LARGE);
	/* C strings would cut the header short. */
	if (b == '\0')
		return conn_refusal(c, CONN_REFUSE_NUL);
	if (c->method_bytes < 8 && (c->method_bytes > 0 || (b != '\r' &&
	    b != '\n'))) {
		c->method = c->method << 8 | b;
		/*
		 * evhttp 2.1 keeps a connection open after any answer to
		 * CONNECT and frames none (no Content-Length, even on its own
		 * error pages), so the next answer would run into it.
		 */
		if (++c->method_bytes == 8 && c->method == CONN_METHOD_CONNECT)
			return conn_refusal(c, CONN_REFUSE_CONNECT);
	}
	return true;
}

/*
 * Reads the bytes of buf from offset `from` as the request line and
 * headers of the request under way, until they end.
 */
static void
conn_scan(struct conn *c, struct evbuffer *buf, size_t from)
{
	struct evbuffer_ptr p;
	size_t left = evbuffer_get_length(buf) - from;
	unsigned char chunk[256];

	if (c->headers_at_ms != 0 || c->pending != CONN_REFUSE_NONE ||
	    evbuffer_ptr_set(buf, &p, from, EVBUFFER_PTR_SET) == -1)
		return;
	while (left > 0) {
		size_t n = left < sizeof chunk ? left : sizeof chunk;
		if (evbuffer_copyout_from(buf, &p, chunk, n) != (ev_ssize_t)n)
			return;
		for (size_t i = 0; i < n; i++)
			if (!conn_scan_byte(c, chunk[i]))
				return;
		left -= n;
		evbuffer_ptr_set(buf, &p, n, EVBUFFER_PTR_ADD);
	}
}

/*
 * Watches the bytes a connection receives: the first starts a request's
 * clock, the blank line after the headers ("\r\n\r\n" or "\n\n") ends
 * the header phase.  New bytes are the last n_added of the buffer.
 */
static void
conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *c = arg;
	size_t len = evbuffer_get_length(buf);

	if (info->n_added == 0 || info->n_added > len)
		return;
	/* A pipelined request whose headers came early: its body starts now. */
	if (c->busy_since_ms == 0 && c->headers_at_ms != 0)
		c->headers_at_ms = now_ms();
	if (c->busy_since_ms == 0)
		c->busy_since_ms = now_ms();
	conn_scan(c, buf, len - info->n_added);
}

/* Watches every connection: releases the gone, closes the late. */
static void
conns_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conns *cs = arg;
	uint64_t now = now_ms();
	uint64_t head = cs->limits.header_timeout_ms;
	uint64_t body = cs->limits.body_timeout_ms;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < cs->n; i++) {
		struct conn *c = cs->c[i];

		if (c == NULL)
			continue;
		if (conn_gone(c)) {
			conn_release(cs, i);
			continue;
		}
		if (c->closing)
			continue;
		if (c->over_cap) {
			conn_close(c);
			continue;
		}
		if (c->busy_since_ms == 0) {
			/*
			 * Stopping: an idle keep-alive connection can go now,
			 * unless answers are still owed (it may be theirs).
			 */
			if (cs->drain_until_ms != 0 && cs->held == 0)
				conn_close(c);
			continue;
		}
		if (c->headers_at_ms == 0 && now - c->busy_since_ms > head) {
			cs->stats.header_timeouts++;
			cs->event_fn(cs->event_arg, CONN_HEADER_TIMEOUT);
			log_info("closing a connection: request headers not "
			    "complete after %llu ms", (unsigned long long)head);
			conn_close(c);
		} else if (c->headers_at_ms != 0 &&
		    now - c->headers_at_ms > body) {
			cs->stats.body_timeouts++;
			cs->event_fn(cs->event_arg, CONN_BODY_TIMEOUT);
			log_info("closing a connection: request body not "
			    "complete after %llu ms", (unsigned long long)body);
			conn_close(c);
		}
	}
	while (cs->n > 0 && cs->c[cs->n - 1] == NULL)
		cs->n--;
}

/* Closes connections over the cap as soon as evhttp has given them a socket. */
static void
conns_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conns *cs = arg;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < cs->n; i++)
		if (cs->c[i] != NULL && cs->c[i]->over_cap &&
		    !conn_gone(cs->c[i]))
			conn_close(cs->c[i]);
}

struct conns *
conns_new(struct event_base *base, const struct conn_limits *limits,
    conn_event_fn event_fn, void *event_arg)
{
	struct conns *cs = calloc(1, sizeof *cs);
	struct timeval period = { 0, CONN_SWEEP_MS * 1000 };

	if (cs == NULL)
		return NULL;
	cs->base = base;
	cs->limits = *limits;
	cs->event_fn = event_fn;
	cs->event_arg = event_arg;
	cs->sweep = event_new(base, -1, EV_PERSIST, conns_sweep_cb, cs);
	cs->kick = event_new(base, -1, 0, conns_kick_cb, cs);
	if (cs->sweep == NULL || cs->kick == NULL ||
	    event_add(cs->sweep, &period) == -1) {
		conns_free(cs);
		return NULL;
	}
	return cs;
}

void
conns_free(struct conns *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->n; i++)
		if (cs->c[i] != NULL) {
			evbuffer_remove_cb_entry(bufferevent_get_input(
			    cs->c[i]->bev), cs->c[i]->reader);
			bufferevent_decref(cs->c[i]->bev);
			free(cs->c[i]);
		}
	if (cs->sweep != NULL)
		event_free(cs->sweep);
	if (cs->kick != NULL)
		event_free(cs->kick);
	free(cs->c);
	free(cs);
}

void
conns_set_limits(struct conns *cs, const struct conn_limits *limits)
{
	cs->limits = *limits;
}

/* Releases every tracked connection evhttp has freed, but `keep`. */
static void
conns_release_gone(struct conns *cs, size_t keep)
{
	for (size_t i = 0; i < cs->n; i++)
		if (i != keep && cs->c[i] != NULL && conn_gone(cs->c[i]))
			conn_release(cs, i);
}

/* A free slot's index, growing the table when there is none; -1 on exhaustion. */
static ssize_t
conns_slot(struct conns *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->c[i] == NULL)
			return (ssize_t)i;
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 64;
		struct conn **c = realloc(cs->c, cap * sizeof *c);
		if (c == NULL)
			return -1;
		cs->c = c;
		cs->cap = cap;
	}
	cs->c[cs->n] = NULL;
	return (ssize_t)cs->n++;
}

struct bufferevent *
conns_bevcb(struct event_base *base, void *arg)
{
	struct conns *cs = arg;
	struct bufferevent *bev;
	struct conn *c;
	ssize_t slot;

	/* evhttp sets the socket on it; CLOSE_ON_FREE makes it close it. */
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL || (c = calloc(1, sizeof *c)) == NULL)
		goto untracked;
	c->cs = cs;
	c->bev = bev;
	c->reader = evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb,
	    c);
	if (c->reader == NULL || (slot = conns_slot(cs)) == -1) {
		if (c->reader != NULL)
			evbuffer_remove_cb_entry(bufferevent_get_input(bev),
			    c->reader);
		free(c);
		goto untracked;
	}
	bufferevent_incref(bev);
	cs->c[slot] = c;
	cs->stats.accepted++;
	cs->stats.open++;
	/*
	 * Full: first release connections evhttp has already let go of (a
	 * client that connects and closes before sending a request is only
	 * noticed by the sweep), so they cannot hold the cap against the
	 * clients still here.
	 */
	if (cs->stats.open > cs->limits.max_connections)
		conns_release_gone(cs, (size_t)slot);
	if (cs->stats.open > cs->limits.max_connections ||
	    cs->drain_until_ms != 0) {
		c->over_cap = true;
		cs->stats.rejected++;
		cs->event_fn(cs->event_arg, CONN_REJECTED);
		event_active(cs->kick, EV_TIMEOUT, 0);
	} else
		cs->event_fn(cs->event_arg, CONN_ACCEPTED);
	return bev;
untracked:
	log_warnx("cannot track a new connection: out of memory");
	return bev;
}

/* The slot of the connection using bev, or -1. */
static ssize_t
conns_find(struct conns *cs, const struct bufferevent *bev)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->c[i] != NULL && cs->c[i]->bev == bev)
			return (ssize_t)i;
	return -1;
}

/*
 * evhttp is freeing a connection: release it now, not at the next sweep,
 * so that a client opening a connection per request never finds the cap
 * full of connections already gone.  evhttp still holds its own reference
 * to the bufferevent here, and drops it just after.
 */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conns *cs = arg;
	ssize_t i = conns_find(cs, evhttp_connection_get_bufferevent(evcon));

	if (i >= 0)
		conn_release(cs, (size_t)i);
}

/*
 * evhttp has written a routed request's answer: a refusal of the request
 * after it, read meanwhile, may go now.  But after an answer that ends
 * the connection (Connection: close) or ends where it does (no
 * Content-Length: HTTP/1.0), nothing more may be written: the client would
 * read the refusal as part of that answer, so the connection only closes.
 * evhttp still has the connection.
 */
static void
conn_answer_sent_cb(struct evhttp_request *req, void *arg)
{
	struct conns *cs = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *close;
	struct conn *c;
	ssize_t i;

	if (evcon == NULL ||
	    (i = conns_find(cs, evhttp_connection_get_bufferevent(evcon))) < 0)
		return;
	c = cs->c[i];
	c->answering = false;
	if (c->pending == CONN_REFUSE_NONE)
		return;
	close = evhttp_find_header(h, "Connection");
	if (evhttp_find_header(h, "Content-Length") == NULL ||
	    (close != NULL && strcasecmp(close, "close") == 0)) {
		c->refused = true;
		conn_close(c);
	} else
		conn_refuse(c, c->pending);
}

int
conns_request_done(struct conns *cs, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct conn *c;
	ssize_t i;

	if (evcon == NULL ||
	    (i = conns_find(cs, evhttp_connection_get_bufferevent(evcon))) < 0)
		return 0;
	c = cs->c[i];
	if (c->refused)
		return -1;
	c->busy_since_ms = c->headers_at_ms = 0;
	c->tail = 0;
	c->method = 0;
	c->header_bytes = c->method_bytes = 0;
	if (!c->watched) {
		evhttp_connection_set_closecb(evcon, conn_closed_cb, cs);
		c->watched = true;
	}
	c->answering = true;
	evhttp_request_set_on_complete_cb(req, conn_answer_sent_cb, cs);
	/*
	 * What evhttp has read past this request is the next one, pipelined:
	 * its headers are read here as if they had just come, or
	 * conn_input_cb, which sees only new bytes, would never check them (a
	 * NUL, a CONNECT, the size: found with fuzz_http), and would read the
	 * rest of its body as headers.  Its clocks start with the next byte
	 * that comes: until this one is answered it cannot be read anyway.
	 */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		conn_scan(c, bufferevent_get_input(c->bev), 0);
	return 0;
}

void
conns_hold(struct conns *cs, int delta)
{
	if (delta < 0 && cs->held > 0)
		cs->held--;
	else if (delta > 0)
		cs->held++;
}

void
conns_stats(const struct conns *cs, struct conn_stats *out)
{
	*out = cs->stats;
}

void
conns_drain(struct conns *cs, uint32_t ms)
{
	cs->drain_until_ms = now_ms() + ms;
	if (cs->drain_until_ms == 0)
		cs->drain_until_ms = 1;
}

bool
conns_drain_expired(const struct conns *cs)
{
	return cs->drain_until_ms != 0 && now_ms() >= cs->drain_until_ms;
}
