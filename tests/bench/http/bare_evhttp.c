/*
 * bare_evhttp: the reference the end-to-end benchmark compares commentd to.
 *
 * A libevent evhttp server, the same libevent as commentd's, on one thread,
 * that answers POST /v1/check with a fixed JSON body shaped like one of
 * commentd's verdicts (about 300 bytes, the same headers).  It reads the
 * request as evhttp does for commentd and then does no work at all: no JSON,
 * no policy, no metrics, no logging.  What commentd costs beyond it is
 * commentd's own.  A benchmark tool only: it must never grow features, or it
 * stops being the floor it is meant to be.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

/* A verdict as commentd writes it: one reason, one line, a newline. */
static const char bare_answer[] =
    "{\"id\":\"bench\",\"decision\":\"queue\",\"score\":0,\"reasons\":["
    "{\"rule\":\"shouting\",\"category\":\"style\",\"action\":\"queue\","
    "\"field\":\"body\",\"matched\":\"WORST\",\"span\":[12,17]}],"
    "\"policy\":{\"name\":\"news-default\",\"version\":\"0.1\",\"digest\":"
    "\"sha256:2352601e01711214df079abc31008d83d4b525fe0a65fc9bf25aa5d00c1e"
    "34c5\"},\"retry_after_s\":0,\"took_us\":1}\n";

/* POST /v1/check: the fixed answer; any other method is 405, as commentd. */
static void
bare_check_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add(out, bare_answer, sizeof bare_answer - 1);
	evhttp_send_reply(req, 200, "OK", NULL);
}

/* SIGTERM, SIGINT: leave the loop, so the run script sees a clean exit. */
static void
bare_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

/* bare_evhttp PORT: serves 127.0.0.1:PORT until SIGTERM or SIGINT. */
int
main(int argc, char **argv)
{
	struct event_base *base;
	struct evhttp *http;
	struct event *term, *intr;
	char *end;
	long port;

	if (argc != 2) {
		fprintf(stderr, "usage: bare_evhttp PORT\n");
		return 2;
	}
	errno = 0;
	port = strtol(argv[1], &end, 10);
	if (errno != 0 || end == argv[1] || *end != '\0' || port < 1 ||
	    port > 65535) {
		fprintf(stderr, "bare_evhttp: bad port %s\n", argv[1]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL) {
		fprintf(stderr, "bare_evhttp: cannot create the event loop\n");
		return 1;
	}
	evhttp_set_cb(http, "/v1/check", bare_check_cb, NULL);
	/* The same body limit commentd sets by default. */
	evhttp_set_max_body_size(http, 65536);
	if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) == -1) {
		fprintf(stderr, "bare_evhttp: cannot listen on 127.0.0.1 port "
		    "%ld: %s\n", port, strerror(errno));
		return 1;
	}
	term = evsignal_new(base, SIGTERM, bare_stop_cb, base);
	intr = evsignal_new(base, SIGINT, bare_stop_cb, base);
	if (term == NULL || intr == NULL || evsignal_add(term, NULL) == -1 ||
	    evsignal_add(intr, NULL) == -1) {
		fprintf(stderr, "bare_evhttp: cannot install signal handlers\n");
		return 1;
	}
	fprintf(stderr, "bare_evhttp: listening on 127.0.0.1 port %ld, "
	    "answer %zu bytes\n", port, sizeof bare_answer - 1);
	event_base_dispatch(base);
	event_free(term);
	event_free(intr);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
