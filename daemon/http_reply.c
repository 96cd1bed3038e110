/*
 * http_reply: JSON answers on evhttp, and the JSON media type.
 */
#include "http_reply.h"

#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

/* The phrases of RFC 9110 for the statuses the routes use. */
const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	}
	return "Internal Server Error";
}

int
http_reply_text(struct evhttp_request *req, int status,
    const char *retry_after, const char *text, size_t n)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	if (retry_after != NULL)
		evhttp_add_header(h, "Retry-After", retry_after);
	evhttp_add_header(h, "Content-Type", "application/json");
	/*
	 * An answer to HEAD has no body (RFC 9110 9.3.2).  libevent 2.1
	 * leaves out the Content-Length for HEAD but writes whatever body it
	 * is given, which the client then reads as the start of the next
	 * answer on the connection (found by fuzz_http).
	 */
	if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evbuffer_add(out, text, n);
		evbuffer_add(out, "\n", 1);
	}
	evhttp_send_reply(req, status, http_reason(status), NULL);
	return status;
}

int
http_reply_json(struct evhttp_request *req, int status,
    const char *retry_after, const struct json_writer *w)
{
	if (w->failed) {
		evhttp_send_error(req, 500, http_reason(500));
		return 500;
	}
	return http_reply_text(req, status, retry_after, w->buf, w->len);
}

bool
http_is_json(const char *ctype)
{
	return ctype != NULL && strncasecmp(ctype, "application/json", 16) ==
	    0 && (ctype[16] == '\0' || ctype[16] == ';');
}
