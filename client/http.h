/*
 * http: one HTTP/1.1 request over a Unix socket, blocking, for commentctl.
 *
 * libevent 2.1's HTTP client cannot use a socket it did not connect itself:
 * given a bufferevent already connected to a Unix socket it closes the
 * socket and connects to the host name over TCP instead (docs/architecture.md
 * says how that was found).  A CLI sends one request and waits for it, so a
 * small blocking client is all it needs: one connection per request
 * (Connection: close), every wait under one deadline (poll), every read
 * bounded.  It must never follow redirects, never retry a request that may
 * have reached the daemon, and never read more than HTTP_BODY_MAX bytes.
 */
#ifndef COMMENTCTL_HTTP_H
#define COMMENTCTL_HTTP_H

#include <stddef.h>

#define HTTP_HEAD_MAX	(64 * 1024)		/* status line and headers */
#define HTTP_BODY_MAX	(32 * 1024 * 1024)	/* an answer's body */

struct http_response {
	int	 status;
	char	*body;		/* NUL-terminated; may hold other NULs */
	size_t	 len;
};

/*
 * Sends METHOD TARGET to the daemon on the Unix socket at path, with a JSON
 * body when body is not NULL, and reads the answer within timeout_ms.  0
 * with *resp filled (free it with http_response_free), or -1 with *cause
 * (malloc'd) saying why: the socket, the deadline or a malformed answer.
 */
int	http_request(const char *path, const char *method, const char *target,
	    const char *body, size_t bodylen, int timeout_ms,
	    struct http_response *resp, char **cause);

/* Frees what a response holds; safe on an empty one. */
void	http_response_free(struct http_response *);

#endif
