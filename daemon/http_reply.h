/*
 * http_reply: how every route answers with JSON (status, Content-Type, the
 * text and a newline, Retry-After when asked), and which bodies it takes
 * as JSON.  One place, so the check, admin and plain routes cannot drift.
 */
#ifndef COMMENTD_HTTP_REPLY_H
#define COMMENTD_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "json_writer.h"

struct evhttp_request;

/*
 * Seconds a client is asked to wait (Retry-After) after a 503: Redis, or
 * the spool, could not take its request just now.
 */
#define HTTP_RETRY_AFTER_S	"5"

/* The reason phrase of a status the daemon answers with. */
const char	*http_reason(int status);

/*
 * Sends n bytes of JSON text, then a newline, with the status; with
 * retry_after (seconds, as text) a Retry-After header too.  Returns the
 * status sent, for the metrics.
 */
int		 http_reply_text(struct evhttp_request *, int status,
		    const char *retry_after, const char *text, size_t n);

/* The same for a writer's text; 500 when the writer ran out of memory. */
int		 http_reply_json(struct evhttp_request *, int status,
		    const char *retry_after, const struct json_writer *);

/* Whether a Content-Type names JSON (parameters such as charset allowed). */
bool		 http_is_json(const char *content_type);

#endif
