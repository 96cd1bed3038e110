/*
 * fuzz_server: one in-process commentd driven through its own sockets, and
 * the promises its answers must keep (see fuzz_server.h for the input).
 *
 * What the server does is watched at three places: the routes (evhttp's
 * generic callback is wrapped, so each request it hands over is recorded,
 * body and all), the answers (the daemon's calls of evhttp_send_reply and
 * evhttp_send_error are wrapped at link time, -Wl,--wrap, so each is seen
 * with its status, headers and body before evhttp writes it) and the store
 * (the stub says what it answered; spool_append is wrapped).  The client's
 * side reads what reached the socket.  The promises:
 *
 *  - every request handed to the routes is answered exactly once, by the
 *    end of the input (a wait on Redis included);
 *  - every answer is well formed on the wire (status line, headers, a
 *    Content-Length that frames its body), and those given while the
 *    client was there arrive, in order, byte for byte;
 *  - a 5xx is a 503 with Retry-After, or a 500 from an admin route after
 *    the stub answered something broken; JSON answers parse; an error has
 *    a code;
 *  - a 200 from /v1/check names the request's id and a decision of accept,
 *    reject or queue; never accept when the engine alone rejects or queues
 *    the text (but for a trusted author's score), never anything but
 *    reject when it rejects; a queue (not a dry run) only for an id the
 *    stub acknowledged storing or the spool took;
 *  - between inputs nothing is left: no connection, no reference to the
 *    config but the server's, no command at the stub, an empty spool.
 *
 * It must never change what the daemon does, only run it and look.
 */
#include "fuzz_server.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "config.h"
#include "log.h"
#include "monotonic.h"
#include "redis_stub.h"
#include "request.h"
#include "server_int.h"
#include "spool.h"
#include "spool_replay.h"

#define FUZZ_MAX_REQUESTS	4096	/* handed to the routes in one input */
#define FUZZ_ANSWER_MAX		(64u << 20)	/* bytes the client keeps */
#define FUZZ_SETTLE_TURNS	4	/* idle loop turns that mean settled */
#define FUZZ_TURNS_MAX		200000	/* a server that never settles */
#define FUZZ_REST_MS		3000	/* to answer what still waits */
#define FUZZ_IDS_MAX		1024

#define PROMISE(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: broken promise: %s: ", __FILE__,	\
		    __LINE__, #cond);					\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* A request the routes were handed, and its answer. */
struct fuzz_req {
	struct evhttp_request	*req;
	bool			 head;		/* HEAD: no body on the wire */
	bool			 check;		/* POST /v1/check */
	char			*path;
	uint8_t			*body;
	size_t			 body_len;
	int			 answers;
	int			 status;
	bool			 live;		/* its client was there */
	bool			 known;		/* the body below is what went */
	uint8_t			*answer;
	size_t			 answer_len;
};

/* Comment ids, for what the stub stored and the spool took. */
struct fuzz_ids {
	char		*id[FUZZ_IDS_MAX];
	size_t		 n;
};

static struct {
	struct event_base	*base;
	struct server		*srv;
	struct event		*sweep;		/* conn.c's, to run it at will */
	struct eval_scratch	*scratch;
	char			 dir[64];
	char			 sock[2][128];
	bool			 verbose;
	/* this input */
	struct fuzz_req		 reqs[FUZZ_MAX_REQUESTS];
	size_t			 nreqs;
	size_t			 order[FUZZ_MAX_REQUESTS];	/* live answers */
	size_t			 norder;
	struct fuzz_ids		 stored, spooled;
	bool			 trusted;	/* the stub said so, once */
	int			 fd;		/* the client; -1 closed */
	uint8_t			*in;		/* what it read */
	size_t			 len, cap;
	bool			 eof;
} fz = { .fd = -1 };

void	__real_evhttp_send_reply(struct evhttp_request *, int, const char *,
	    struct evbuffer *);
void	__real_evhttp_send_error(struct evhttp_request *, int, const char *);
int	__real_spool_append(struct spool *, const void *, size_t);
void	__wrap_evhttp_send_reply(struct evhttp_request *, int, const char *,
	    struct evbuffer *);
void	__wrap_evhttp_send_error(struct evhttp_request *, int, const char *);
int	__wrap_spool_append(struct spool *, const void *, size_t);

/* Remembers an id (a copy); past FUZZ_IDS_MAX, no more. */
static void
ids_add(struct fuzz_ids *ids, const char *s, size_t n)
{
	if (ids->n < FUZZ_IDS_MAX && (ids->id[ids->n] = strndup(s, n)) != NULL)
		ids->n++;
}

/* Whether the n bytes at s are one of the ids. */
static bool
ids_has(const struct fuzz_ids *ids, const char *s, size_t n)
{
	for (size_t i = 0; i < ids->n; i++)
		if (strlen(ids->id[i]) == n && memcmp(ids->id[i], s, n) == 0)
			return true;
	return false;
}

/* Forgets every id, for the next input. */
static void
ids_clear(struct fuzz_ids *ids)
{
	for (size_t i = 0; i < ids->n; i++)
		free(ids->id[i]);
	ids->n = 0;
}

/* --- what the daemon does ------------------------------------------------ */

/* The stub's answers: which enqueues were stored, whether trust was said. */
static void
fuzz_watch(const char *name, int argc, const char *const *argv,
    const size_t *lens, const redisReply *r, const char *error, void *arg)
{
	(void)error;
	(void)arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	/* enqueue.lua's {entry, added}: KEYS queue, queued; ARGV[1] the id. */
	if (strcmp(name, "enqueue") == 0 && argc > 2 && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING)
		ids_add(&fz.stored, argv[2], lens[2]);
	if (strcmp(name, "check") == 0 && r->elements >= 7 &&
	    r->element[2]->type == REDIS_REPLY_INTEGER &&
	    r->element[2]->integer != 0)
		fz.trusted = true;
}

/* A record the spool took: the comment id, then its fields, NUL-ended. */
int
__wrap_spool_append(struct spool *s, const void *data, size_t len)
{
	int rc = __real_spool_append(s, data, len), saved = errno;
	const char *nul = memchr(data, '\0', len);

	if (rc == 0 && nul != NULL)
		ids_add(&fz.spooled, data, (size_t)(nul - (const char *)data));
	errno = saved;		/* the caller reports why it failed */
	return rc;
}

/* Records a request the routes are handed, then routes it. */
static void
fuzz_request_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    req));
	struct fuzz_req *fr;

	PROMISE(fz.nreqs < FUZZ_MAX_REQUESTS, "%zu requests", fz.nreqs);
	fr = &fz.reqs[fz.nreqs++];
	memset(fr, 0, sizeof *fr);
	fr->req = req;
	fr->head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	fr->path = strdup(path != NULL ? path : "");
	fr->check = evhttp_request_get_command(req) == EVHTTP_REQ_POST &&
	    path != NULL && strcmp(path, "/v1/check") == 0;
	fr->body_len = evbuffer_get_length(in);
	if ((fr->body = malloc(fr->body_len + 1)) == NULL || fr->path == NULL)
		abort();
	evbuffer_copyout(in, fr->body, fr->body_len);
	api_request_cb(req, arg);
}

/* The engine's own verdict on a checked comment, against the answer's. */
static void
fuzz_check_verdict(const struct fuzz_req *fr, json_t *answer)
{
	const char *d = json_string_value(json_object_get(answer, "decision"));
	json_t *id = json_object_get(answer, "id");
	const struct config_site *site;
	struct check_request cr;
	struct request_error err;
	struct comment c;
	struct verdict v;
	bool queue_reason = false;
	char *cause = NULL;

	PROMISE(d != NULL && (strcmp(d, "accept") == 0 || strcmp(d, "reject") ==
	    0 || strcmp(d, "queue") == 0), "decision %s", d ? d : "(none)");
	PROMISE(request_parse(fr->body, fr->body_len, &cr, &err) == 0,
	    "a 200 for a body the decoder refuses: %s", err.message);
	PROMISE(json_is_string(id) && json_string_length(id) == cr.id_len &&
	    memcmp(json_string_value(id), cr.id, cr.id_len) == 0,
	    "the answer's id is not the request's");
	site = config_site(fz.srv->cfg, cr.site);
	PROMISE(site != NULL, "a 200 for an unknown site");
	request_comment(&cr, &c);
	verdict_init(&v);
	PROMISE(eval_comment(site->policy, &c, fz.scratch, &v, &cause) == 0,
	    "%s", cause ? cause : "?");
	for (size_t i = 0; i < v.nreasons; i++)
		queue_reason |= v.reasons[i].action == ACTION_QUEUE;
	/* A limit hit here but not in the daemon is no contradiction. */
	if (!v.limit_hit && v.decision == DECISION_REJECT)
		PROMISE(strcmp(d, "reject") == 0, "%s where the engine "
		    "rejects", d);
	if (!v.limit_hit && v.decision == DECISION_QUEUE)
		PROMISE(strcmp(d, "accept") != 0 || (fz.trusted &&
		    !queue_reason), "accepted where the engine queues");
	if (strcmp(d, "queue") == 0 && !cr.dry_run)
		PROMISE(ids_has(&fz.stored, cr.id, cr.id_len) ||
		    ids_has(&fz.spooled, cr.id, cr.id_len),
		    "queue for %.*s, stored nowhere", (int)cr.id_len, cr.id);
	verdict_free(&v);
	request_free(&cr);
}

/* What every answer promises, seen as the daemon gives it. */
static void
fuzz_check_answer(const struct fuzz_req *fr, bool retry_after)
{
	json_error_t e;
	json_t *j, *err;

	PROMISE(fr->status >= 200 && fr->status < 600, "status %d",
	    fr->status);
	if (fr->status == 503)
		PROMISE(retry_after, "a 503 without Retry-After on %s",
		    fr->path);
	else if (fr->status >= 500)
		PROMISE(fr->status == 500 && !fr->check && redis_stub_broken(),
		    "%d on %s", fr->status, fr->path);
	if (!fr->known || fr->answer_len == 0 || (fr->status == 200 &&
	    strcmp(fr->path, "/metrics") == 0))
		return;
	j = json_loadb((const char *)fr->answer, fr->answer_len, 0, &e);
	PROMISE(json_is_object(j), "the %d answer to %s is not a JSON object: "
	    "%s", fr->status, fr->path, e.text);
	if (fr->status >= 400) {
		err = json_object_get(j, "error");
		PROMISE(json_is_string(json_object_get(err, "code")),
		    "a %d without an error code", fr->status);
	}
	if (fr->check && fr->status == 200)
		fuzz_check_verdict(fr, j);
	json_decref(j);
}

/* The daemon answers a request: once, and as it promises. */
static void
fuzz_answered(struct evhttp_request *req, int status, struct evbuffer *extra,
    bool known)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	struct fuzz_req *fr = NULL;
	ev_ssize_t got;
	size_t n;

	for (size_t i = fz.nreqs; i > 0; i--)
		if (fz.reqs[i - 1].req == req && fz.reqs[i - 1].answers == 0) {
			fr = &fz.reqs[i - 1];
			break;
		}
	PROMISE(fr != NULL, "an answer (%d) to a request answered already",
	    status);
	fr->answers++;
	fr->status = status;
	fr->known = known;
	/*
	 * Gone, or refused by conn.c (api.c's one evhttp_send_error(400)):
	 * conn.c answered on the socket and shut it, so this cannot arrive.
	 */
	fr->live = evhttp_request_get_connection(req) != NULL &&
	    !(status == 400 && !known);
	n = evbuffer_get_length(out) + (extra != NULL ?
	    evbuffer_get_length(extra) : 0);
	if ((fr->answer = malloc(n + 1)) == NULL)
		abort();
	got = evbuffer_copyout(out, fr->answer, n);
	fr->answer_len = got > 0 ? (size_t)got : 0;
	if (extra != NULL && (got = evbuffer_copyout(extra, fr->answer +
	    fr->answer_len, n - fr->answer_len)) > 0)
		fr->answer_len += (size_t)got;
	if (fr->live)
		fz.order[fz.norder++] = (size_t)(fr - fz.reqs);
	fuzz_check_answer(fr, evhttp_find_header(
	    evhttp_request_get_output_headers(req), "Retry-After") != NULL);
}

/* The daemon answers: seen first, then sent as it asked. */
void
__wrap_evhttp_send_reply(struct evhttp_request *req, int status,
    const char *reason, struct evbuffer *body)
{
	fuzz_answered(req, status, body, true);
	__real_evhttp_send_reply(req, status, reason, body);
}

/* The daemon answers with evhttp's page: seen first, then sent. */
void
__wrap_evhttp_send_error(struct evhttp_request *req, int status,
    const char *reason)
{
	fuzz_answered(req, status, NULL, false);
	__real_evhttp_send_error(req, status, reason);
}

/* --- the client ---------------------------------------------------------- */

/* Reads what the server sent; true if anything came. */
static bool
client_read(void)
{
	bool got = false;
	ssize_t n;

	while (fz.fd >= 0 && !fz.eof) {
		if (fz.cap - fz.len < 65536 && fz.cap < FUZZ_ANSWER_MAX) {
			fz.cap = fz.cap ? fz.cap * 2 : 65536;
			if ((fz.in = realloc(fz.in, fz.cap)) == NULL)
				abort();
		}
		PROMISE(fz.len < fz.cap, "over %u bytes of answers",
		    FUZZ_ANSWER_MAX);
		n = read(fz.fd, fz.in + fz.len, fz.cap - fz.len);
		if (n > 0) {
			fz.len += (size_t)n;
			got = true;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			fz.eof = true;
		else if (errno == EAGAIN)
			break;
	}
	return got;
}

/* Bytes written and not yet read by the server. */
static int
client_unread(void)
{
	int n = 0;

	if (fz.fd < 0 || ioctl(fz.fd, TIOCOUTQ, &n) == -1)
		return 0;
	return n;
}

/* Closes the client, if it is open. */
static void
client_close(void)
{
	if (fz.fd >= 0)
		close(fz.fd);
	fz.fd = -1;
}

/*
 * One loop turn; true if anything moved: the client read something, the
 * server read some of what the client wrote (bytes it does not read, as
 * while a request waits, or after it shut its side, are no movement), or
 * the stub has work.
 */
static bool
fuzz_turn(void)
{
	static int last;
	int unread;
	bool moved;

	event_base_loop(fz.base, EVLOOP_NONBLOCK);
	moved = client_read();
	unread = fz.eof ? 0 : client_unread();
	moved |= unread != last || redis_stub_busy();
	last = unread;
	return moved;
}

/* Turns until nothing moves any more; at most `max` when max > 0. */
static void
fuzz_settle(int max, bool stop_at_answer)
{
	int idle = 0;

	for (int turns = 0; idle < FUZZ_SETTLE_TURNS; turns++) {
		PROMISE(turns < FUZZ_TURNS_MAX, "the server never settles");
		if (max > 0 && turns == max)
			return;
		idle = fuzz_turn() ? 0 : idle + 1;
		if (stop_at_answer && fz.fd >= 0 && fz.len >= 4 &&
		    memmem(fz.in, fz.len, "\r\n\r\n", 4) != NULL)
			client_close();
	}
}

/* Writes one segment whole, turning the loop while the socket is full. */
static void
client_write(const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0 && fz.fd >= 0 && !fz.eof) {
		w = send(fz.fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == -1 && errno == EAGAIN)
			fuzz_turn();
		else
			return;		/* the server has closed */
	}
}

/* --- the wire ------------------------------------------------------------ */

struct answer {
	int		 status;
	size_t		 body, body_len;	/* offsets into the stream */
	bool		 to_eof;		/* no Content-Length */
};

/* The status of the answer at d, or 0 before its status line is whole. */
static int
wire_status(const uint8_t *d, size_t n)
{
	const uint8_t *sp = memchr(d, ' ', n < 64 ? n : 64);
	int status = 0;

	if (sp == NULL || (size_t)(sp - d) + 4 > n)
		return 0;
	for (int i = 1; i <= 3 && sp[i] >= '0' && sp[i] <= '9'; i++)
		status = status * 10 + sp[i] - '0';
	return status;
}

/*
 * Parses the answer at *off: 1 and its end in *off, 0 when it is cut
 * short, and a broken promise when it is not HTTP.  `head`: an answer to
 * HEAD, which has no body.
 */
static int
wire_answer(const uint8_t *d, size_t n, size_t *off, bool head,
    struct answer *a)
{
	const uint8_t *p = d + *off, *end, *line, *eol;
	size_t left = n - *off;
	long long cl = -1;

	if ((end = memmem(p, left, "\r\n\r\n", 4)) == NULL)
		return 0;
	PROMISE(left > 13 && memcmp(p, "HTTP/", 5) == 0, "not a status line: "
	    "%.20s", (const char *)p);
	line = memchr(p, ' ', (size_t)(end - p));
	PROMISE(line != NULL && end - line > 4 && line[1] >= '1' &&
	    line[1] <= '5' && line[2] >= '0' && line[2] <= '9' && line[3] >=
	    '0' && line[3] <= '9' && line[4] == ' ', "a bad status line");
	a->status = (line[1] - '0') * 100 + (line[2] - '0') * 10 +
	    (line[3] - '0');
	for (line = memmem(p, left, "\r\n", 2) + 2; line < end + 2;
	    line = eol + 2) {
		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		PROMISE(memchr(line, '\r', (size_t)(eol - line)) == NULL &&
		    memchr(line, '\n', (size_t)(eol - line)) == NULL &&
		    memchr(line, ':', (size_t)(eol - line)) != NULL &&
		    line[0] != ' ' && line[0] != ':', "a bad header line");
		if (eol - line > 15 && strncasecmp((const char *)line,
		    "Content-Length:", 15) == 0) {
			PROMISE(cl == -1, "Content-Length twice");
			cl = strtoll((const char *)line + 15, NULL, 10);
			PROMISE(cl >= 0, "a negative Content-Length");
		}
	}
	a->body = (size_t)(end + 4 - d);
	a->to_eof = false;
	if (head || a->status / 100 == 1 || a->status == 204 ||
	    a->status == 304)
		a->body_len = 0;
	else if (cl >= 0) {
		if ((unsigned long long)cl > n - a->body)
			return 0;
		a->body_len = (size_t)cl;
	} else {
		a->body_len = n - a->body;
		a->to_eof = true;
	}
	*off = a->body + a->body_len;
	return 1;
}

/*
 * The answers on the wire against those the daemon gave while its client
 * was there: the same, in order, byte for byte.  Between them may come
 * evhttp's and conn.c's own (a request they refused before the routes): a
 * client error (400, 405 for CONNECT, 413, 417, 431), or 501 for a method
 * evhttp does not know.  With `whole`
 * (the client kept its side open) every answer must have arrived.
 */
static void
wire_check(bool whole)
{
	struct answer a;
	size_t off = 0, k = 0;
	struct fuzz_req *fr;
	int rc;

	while (off < fz.len) {
		fr = k < fz.norder ? &fz.reqs[fz.order[k]] : NULL;
		rc = wire_answer(fz.in, fz.len, &off, fr != NULL && fr->head &&
		    fr->status == wire_status(fz.in + off, fz.len - off), &a);
		if (rc == 0) {
			PROMISE(!whole, "an answer cut short (at %zu of %zu "
			    "bytes)", off, fz.len);
			return;
		}
		if (a.status / 100 == 1)
			continue;
		if (fr != NULL && a.status == fr->status) {
			PROMISE(!fr->known || fr->head || (a.body_len ==
			    fr->answer_len && memcmp(fz.in + a.body, fr->answer,
			    a.body_len) == 0), "answer %zu to %s is not the "
			    "daemon's", k, fr->path);
			k++;
		} else
			PROMISE(a.status == 400 || a.status == 405 ||
			    a.status == 413 || a.status == 417 ||
			    a.status == 431 || a.status == 501,
			    "an answer %d of nobody's", a.status);
		if (a.to_eof)
			PROMISE(fz.eof || !whole, "an answer without "
			    "Content-Length on an open connection");
	}
	if (whole)
		PROMISE(k == fz.norder, "%zu answers of %zu arrived", k,
		    fz.norder);
}

/* --- the server ---------------------------------------------------------- */

/* Finds conn.c's sweep among the loop's events: the periodic one of conns. */
static int
find_sweep(const struct event_base *base, const struct event *ev, void *arg)
{
	(void)base;
	(void)arg;
	if (event_get_callback_arg(ev) == fz.srv->conns &&
	    (event_get_events(ev) & EV_PERSIST)) {
		fz.sweep = (struct event *)ev;
		return 1;
	}
	return 0;
}

/* Removes the scratch directory at exit. */
static void
fuzz_cleanup(void)
{
	char cmd[128];

	server_free(fz.srv);
	event_base_free(fz.base);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_server: cannot remove %s\n", fz.dir);
}

/*
 * Writes the config (two sites: the shipped policy and a small stateful
 * one; deadlines that never close a connection mid-input; the smallest
 * body and header limits, so that short inputs reach them) and starts the
 * server on it, with the routes' callback wrapped.
 */
static void
fuzz_init(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	struct config *cfg = NULL;
	struct errlist errs;
	char path[160], *cause = NULL;
	FILE *f;

	/* COMMENTD_FUZZ_VERBOSE: the daemon's log, and what the client read. */
	fz.verbose = getenv("COMMENTD_FUZZ_VERBOSE") != NULL;
	log_init(fz.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	signal(SIGPIPE, SIG_IGN);
	snprintf(fz.dir, sizeof fz.dir, "%s/fuzz_server.XXXXXX", base);
	PROMISE(mkdtemp(fz.dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(fz.sock[0], sizeof fz.sock[0], "%s/submit.sock", fz.dir);
	snprintf(fz.sock[1], sizeof fz.sock[1], "%s/admin.sock", fz.dir);
	snprintf(path, sizeof path, "%s/commentd.yaml", fz.dir);
	PROMISE((f = fopen(path, "w")) != NULL, "%s", path);
	fprintf(f, "listen:\n  submit: {path: %s}\n  admin: {path: %s}\n"
	    "sites:\n  default: example\n  list:\n"
	    "    example: {policy: %s}\n    lite: {policy: %s}\n"
	    "redis: {address: \"unix:%s/redis.sock\"}\n"
	    "state_dir: %s\nlog: {level: error}\n"
	    "limits: {header_timeout_ms: 600000, body_timeout_ms: 600000,\n"
	    "  idle_timeout_ms: 600000, max_connections: 64,\n"
	    "  max_body_bytes: 4096, max_header_bytes: 1024}\n",
	    fz.sock[0], fz.sock[1], FUZZ_DEFAULT_POLICY, FUZZ_STATE_POLICY,
	    fz.dir, fz.dir);
	PROMISE(fclose(f) == 0, "%s", path);
	errlist_init(&errs);
	PROMISE(config_load(path, &cfg, &errs) == 0, "%s",
	    errs.n ? errs.msgs[0] : "?");
	errlist_free(&errs);
	PROMISE((fz.base = event_base_new()) != NULL, "event_base_new");
	fz.srv = server_new(fz.base, cfg, path, &cause);
	PROMISE(fz.srv != NULL && server_listen(fz.srv, &cause) == 0, "%s",
	    cause ? cause : "?");
	for (int k = 0; k < LISTEN_NKINDS; k++)
		evhttp_set_gencb(fz.srv->listeners[k].http, fuzz_request_cb,
		    &fz.srv->listeners[k]);
	event_base_foreach_event(fz.base, find_sweep, NULL);
	PROMISE(fz.sweep != NULL, "conn.c's sweep not found");
	redis_stub_watch(fuzz_watch, NULL);
	PROMISE((fz.scratch = eval_scratch_new()) != NULL, "scratch");
	atexit(fuzz_cleanup);
}

/* Connects the client to the socket the target fuzzes. */
static void
client_open(enum fuzz_socket which)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", fz.sock[which]);
	fz.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	PROMISE(fz.fd >= 0 && connect(fz.fd, (struct sockaddr *)&sun,
	    sizeof sun) == 0, "connect %s: %s", sun.sun_path, strerror(errno));
	fz.len = 0;
	fz.eof = false;
}

/* Turns (blocking when only timers are left) until done() or the time. */
static void
fuzz_wait(bool (*done)(void), const char *what)
{
	uint64_t until = monotonic_us() + FUZZ_REST_MS * 1000ull;

	while (!done()) {
		PROMISE(monotonic_us() < until, "%s", what);
		event_base_loop(fz.base, redis_stub_busy() ? EVLOOP_NONBLOCK :
		    EVLOOP_ONCE);
	}
}

/* Every request answered: no job holds the config, the stub is idle. */
static bool
answered_all(void)
{
	return fz.srv->cfg->refs == 1 && !redis_stub_busy();
}

/* The spool is empty and nothing of it is in the stub. */
static bool
spool_replayed(void)
{
	return (fz.srv->spool == NULL || spool_pending(fz.srv->spool) == 0) &&
	    !fz.srv->replaying && !redis_stub_busy();
}

/* No connection open, running conn.c's sweep until there is none. */
static bool
conns_closed(void)
{
	struct conn_stats st;

	conns_stats(fz.srv->conns, &st);
	if (st.open > 0)
		event_active(fz.sweep, EV_TIMEOUT, 1);
	return st.open == 0;
}

/*
 * Brings the server back to rest: a stop answers the long polls, the stub
 * answers what waits and comes back up, the spool is replayed, conn.c's
 * sweep lets go of the closed connection; then every request must have
 * been answered once, and nothing may be left.
 */
static void
fuzz_rest(void)
{
	fz.srv->stopping = true;
	fuzz_wait(answered_all, "a request still waits, or holds the config");
	fz.srv->stopping = false;
	redis_stub_script(NULL, 0);
	redis_stub_up();
	spool_replay_kick(fz.srv);
	fuzz_wait(spool_replayed, "the spool was not replayed");
	/* tally.c's timer may send meanwhile: the stub answers that too. */
	fuzz_wait(conns_closed, "a connection is still open");
	fuzz_wait(spool_replayed, "the spool was not replayed");
	PROMISE(redis_stub_pending() == 0, "%zu commands at the stub",
	    redis_stub_pending());
	for (size_t i = 0; i < fz.nreqs; i++) {
		PROMISE(fz.reqs[i].answers == 1, "request %zu (%s) answered "
		    "%d times", i, fz.reqs[i].path, fz.reqs[i].answers);
		free(fz.reqs[i].path);
		free(fz.reqs[i].body);
		free(fz.reqs[i].answer);
	}
	fz.nreqs = fz.norder = 0;
	ids_clear(&fz.stored);
	ids_clear(&fz.spooled);
	fz.trusted = false;
}

void
fuzz_server_input(enum fuzz_socket which, const uint8_t *data, size_t size)
{
	static const int pauses[4] = { 0, 1, 3, -1 };
	unsigned flags = size > 0 ? data[0] : 0, end = flags & 3;
	size_t nscript = size > 1 ? data[1] : 0, at, seg;
	int pause = pauses[(flags >> 2) & 3];

	if (fz.srv == NULL)
		fuzz_init();
	at = size < 2 ? size : 2;
	if (nscript > size - at)
		nscript = size - at;
	redis_stub_script(data + at, nscript);
	at += nscript;
	if (flags & 0x30)
		redis_stub_down((flags & 0x10) != 0);
	client_open(which);
	while (at < size) {
		const uint8_t *ff = memchr(data + at, 0xff, size - at);
		seg = ff != NULL ? (size_t)(ff - data) - at : size - at;
		client_write(data + at, seg);
		at += seg + (ff != NULL);
		if (pause >= 0)
			fuzz_settle(pause, false);
	}
	if (end == 1 && fz.fd >= 0)
		shutdown(fz.fd, SHUT_WR);
	if (end == 2)
		client_close();
	fuzz_settle(0, end == 3);
	/*
	 * conn.c lets go of a connection evhttp closed before any request
	 * reached the routes only at its sweep (an answer without
	 * Content-Length then ends): as if CONN_SWEEP_MS had passed.
	 */
	event_active(fz.sweep, EV_TIMEOUT, 1);
	fuzz_settle(0, end == 3);
	if (fz.verbose)
		fwrite(fz.in, 1, fz.len, stderr);
	if (end <= 1 && fz.fd >= 0)
		wire_check(end == 0);
	/* Shut by the server, the connection must go while its client stays. */
	if (fz.eof && fz.fd >= 0)
		fuzz_wait(conns_closed, "a connection the server shut is kept");
	client_close();
	fuzz_rest();
}
