/*
 * http: one blocking HTTP/1.1 request over a Unix socket under a deadline.
 * See http.h for why it is not libevent's client.
 */
#include "http.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* How long to wait before trying again when the listen queue is full. */
#define HTTP_BACKLOG_RETRY_MS	10

struct http_buf {
	char	*data;
	size_t	 len, cap;
};

/* A malloc'd message for *cause (never NULL: a fixed one when out of memory). */
static int
http_fail(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = strdup("out of memory");
	va_end(ap);
	return -1;
}

/* The monotonic clock in milliseconds, which the deadline is measured on. */
static uint64_t
http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Waits until fd is ready for events or the deadline passes: 1 ready, 0
 * the deadline passed, -1 poll failed.
 */
static int
http_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int n;

	for (;;) {
		if ((now = http_now_ms()) >= deadline)
			return 0;
		n = poll(&pfd, 1, (int)(deadline - now > INT32_MAX ?
		    INT32_MAX : deadline - now));
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/*
 * Connects to the Unix socket at path without blocking past the deadline: a
 * full listen queue is tried again until then.  The socket, or -1.
 */
static int
http_connect(const char *path, uint64_t deadline, char **cause)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;
	socklen_t len = sizeof err;

	if (strlen(path) >= sizeof sun.sun_path)
		return http_fail(cause, "the socket path %s is longer than %zu "
		    "bytes", path, sizeof sun.sun_path - 1);
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return http_fail(cause, "socket: %s", strerror(errno));
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && http_now_ms() < deadline) {
			poll(NULL, 0, HTTP_BACKLOG_RETRY_MS);
			continue;
		}
		if (errno == EINPROGRESS) {
			if (http_wait(fd, POLLOUT, deadline) != 1)
				errno = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
			    &len) == 0 && (errno = err) == 0)
				return fd;
		}
		err = errno;
		close(fd);
		return http_fail(cause, "cannot connect to %s: %s", path,
		    strerror(err == EAGAIN ? ETIMEDOUT : err));
	}
	return fd;
}

/* Writes all of buf before the deadline: 0, or -1 with errno set. */
static int
http_write(int fd, const char *buf, size_t len, uint64_t deadline)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN)
			return -1;
		if (http_wait(fd, POLLOUT, deadline) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/*
 * Reads into b until the peer closes, the deadline passes or b holds max
 * bytes (want: stop once b holds that many, or 0).  0 at the end (EOF or
 * want reached), -1 with errno set; EMSGSIZE when max is reached first.
 */
static int
http_read(int fd, struct http_buf *b, size_t want, size_t max,
    uint64_t deadline)
{
	size_t cap;
	ssize_t n;
	char *p;

	while (want == 0 || b->len < want) {
		if (b->len == max) {
			errno = EMSGSIZE;
			return -1;
		}
		if (b->cap - b->len < 4096 + 1) {
			cap = b->cap == 0 ? 16384 : b->cap * 2;
			if (cap > max + 1)
				cap = max + 1;
			if ((p = realloc(b->data, cap)) == NULL)
				return -1;
			b->data = p;
			b->cap = cap;
		}
		n = recv(fd, b->data + b->len, b->cap - b->len - 1 <
		    max - b->len ? b->cap - b->len - 1 : max - b->len, 0);
		if (n > 0) {
			b->len += (size_t)n;
			b->data[b->len] = '\0';
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		if (http_wait(fd, POLLIN, deadline) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* Where the header block ends (just past its blank line), or 0. */
static size_t
http_head_end(const struct http_buf *b)
{
	const char *p;

	if (b->len < 4 || (p = memmem(b->data, b->len, "\r\n\r\n", 4)) == NULL)
		return 0;
	return (size_t)(p - b->data) + 4;
}

/*
 * The value of header `name` in the block head (n bytes), trimmed, into
 * out; false when absent or longer than size - 1.
 */
static bool
http_header(const char *head, size_t n, const char *name, char *out,
    size_t size)
{
	const char *line = memchr(head, '\n', n), *end = head + n, *eol, *v;
	size_t nlen = strlen(name), vlen;

	for (; line != NULL && line + 1 < end; line = eol) {
		line++;
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		if ((size_t)(eol - line) <= nlen || line[nlen] != ':' ||
		    strncasecmp(line, name, nlen) != 0)
			continue;
		for (v = line + nlen + 1; v < eol && (*v == ' ' || *v == '\t');
		    v++)
			;
		vlen = (size_t)(eol - v);
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
			vlen--;
		if (vlen >= size)
			return false;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return true;
	}
	return false;
}

/*
 * Decodes a chunked body of n bytes at s in place: its length, or -1 when
 * it is not well formed (or lacks its last chunk).
 */
static ssize_t
http_unchunk(char *s, size_t n)
{
	size_t in = 0, out = 0, size;
	char *eol, *end;

	for (;;) {
		if ((eol = memmem(s + in, n - in, "\r\n", 2)) == NULL)
			return -1;
		errno = 0;
		size = strtoul(s + in, &end, 16);
		if (end == s + in || errno != 0 || (*end != '\r' &&
		    *end != ';'))
			return -1;
		in = (size_t)(eol - s) + 2;
		if (size == 0)
			return (ssize_t)out;
		if (size > n - in || n - in - size < 2 ||
		    memcmp(s + in + size, "\r\n", 2) != 0)
			return -1;
		memmove(s + out, s + in, size);
		out += size;
		in += size + 2;
	}
}

/* Reads the status line, the headers and the body of the answer. */
static int
http_answer(int fd, uint64_t deadline, struct http_response *resp,
    char **cause)
{
	struct http_buf b = { NULL, 0, 0 };
	char value[64], *end;
	size_t head = 0, clen = 0, want;
	bool chunked = false, has_len;
	ssize_t n;
	int minor, status;

	while ((head = http_head_end(&b)) == 0) {
		want = b.len + 1;
		if (http_read(fd, &b, want, HTTP_HEAD_MAX, deadline) == -1)
			goto fail_read;
		if (b.len < want)
			goto fail_eof;
	}
	if (sscanf(b.data, "HTTP/1.%d %3d", &minor, &status) != 2 ||
	    status < 100 || status > 599) {
		free(b.data);
		return http_fail(cause, "the daemon's answer is not HTTP");
	}
	if (http_header(b.data, head, "Transfer-Encoding", value,
	    sizeof value))
		chunked = strcasestr(value, "chunked") != NULL;
	has_len = !chunked && http_header(b.data, head, "Content-Length",
	    value, sizeof value);
	if (has_len) {
		errno = 0;
		clen = strtoul(value, &end, 10);
		if (*end != '\0' || errno != 0 || value[0] == '-' ||
		    clen > HTTP_BODY_MAX) {
			free(b.data);
			return http_fail(cause, "the daemon's answer has a bad "
			    "or oversized Content-Length");
		}
	}
	/* With Connection: close, a body without a length ends at EOF. */
	if (http_read(fd, &b, has_len ? head + clen : 0, head + HTTP_BODY_MAX,
	    deadline) == -1)
		goto fail_read;
	if (has_len && b.len < head + clen)
		goto fail_eof;
	if (has_len)
		b.len = head + clen;	/* anything after the body is not ours */
	memmove(b.data, b.data + head, b.len - head);
	b.len -= head;
	if (chunked && (n = http_unchunk(b.data, b.len)) == -1) {
		free(b.data);
		return http_fail(cause, "the daemon's chunked answer is "
		    "malformed");
	} else if (chunked)
		b.len = (size_t)n;
	b.data[b.len] = '\0';
	resp->status = status;
	resp->body = b.data;
	resp->len = b.len;
	return 0;
fail_eof:
	free(b.data);
	return http_fail(cause, "the daemon closed the connection without a "
	    "whole answer");
fail_read:
	free(b.data);
	if (errno == ETIMEDOUT)
		return http_fail(cause, "the daemon did not answer in time");
	if (errno == EMSGSIZE)
		return http_fail(cause, "the daemon's answer is too large");
	return http_fail(cause, "reading the answer: %s", strerror(errno));
}

int
http_request(const char *path, const char *method, const char *target,
    const char *body, size_t bodylen, int timeout_ms,
    struct http_response *resp, char **cause)
{
	uint64_t deadline = http_now_ms() + (uint64_t)timeout_ms;
	char *head = NULL;
	int fd, len, rc, werr = 0;

	memset(resp, 0, sizeof *resp);
	*cause = NULL;
	if ((fd = http_connect(path, deadline, cause)) == -1)
		return -1;
	len = body != NULL ?
	    asprintf(&head, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "User-Agent: commentctl\r\nAccept: application/json\r\n"
	    "Connection: close\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", method, target, bodylen) :
	    asprintf(&head, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "User-Agent: commentctl\r\nAccept: application/json\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n", method, target);
	if (len == -1) {
		close(fd);
		return http_fail(cause, "out of memory");
	}
	/* The daemon may answer (413) and close before reading the body. */
	if (http_write(fd, head, (size_t)len, deadline) == -1 ||
	    (body != NULL && http_write(fd, body, bodylen, deadline) == -1))
		werr = errno;
	free(head);
	if (werr == ETIMEDOUT) {
		close(fd);
		return http_fail(cause, "the daemon did not take the request "
		    "in time");
	}
	rc = http_answer(fd, deadline, resp, cause);
	close(fd);
	if (rc == -1 && werr != 0) {
		free(*cause);
		return http_fail(cause, "sending the request: %s",
		    strerror(werr));
	}
	return rc;
}

void
http_response_free(struct http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}
