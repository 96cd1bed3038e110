/*
 * ctl: the pieces every command uses: one-line errors, URLs built and
 * percent-encoded under a bound, and the daemon's JSON answers.  See ctl.h.
 */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Prints "commentctl: CMD: " and the message, one line. */
static void
ctl_vwarn(const struct ctl *ctl, const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("commentctl: ", stderr);
	if (ctl != NULL && ctl->cmd != NULL)
		fprintf(stderr, "%s: ", ctl->cmd->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
ctl_fail(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vwarn(ctl, fmt, ap);
	va_end(ap);
	return CTL_EXIT_FAIL;
}

int
ctl_usage(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vwarn(ctl, fmt, ap);
	va_end(ap);
	return CTL_EXIT_USAGE;
}

/* Appends n bytes, or marks the URL failed when they do not fit. */
static void
ctl_url_put(struct ctl_url *u, const char *s, size_t n)
{
	if (u->failed || n >= sizeof u->buf - u->len) {
		u->failed = true;
		return;
	}
	memcpy(u->buf + u->len, s, n);
	u->len += n;
	u->buf[u->len] = '\0';
}

/* Appends s percent-encoded: everything but RFC 3986's unreserved bytes. */
static void
ctl_url_escape(struct ctl_url *u, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char e[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			ctl_url_put(u, (const char *)p, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		ctl_url_put(u, e, 3);
	}
}

int
ctl_check_note(const struct ctl *ctl, const char *note)
{
	json_t *s;

	if (note == NULL)
		return CTL_EXIT_OK;
	if (strlen(note) > CTL_NOTE_MAX)
		return ctl_usage(ctl, "--note is %zu bytes; at most %d",
		    strlen(note), CTL_NOTE_MAX);
	if ((s = json_string(note)) == NULL)
		return ctl_usage(ctl, "--note is not UTF-8");
	json_decref(s);
	return CTL_EXIT_OK;
}

void
ctl_url_init(struct ctl_url *u, const char *path)
{
	memset(u, 0, sizeof *u);
	ctl_url_put(u, path, strlen(path));
}

void
ctl_url_add(struct ctl_url *u, const char *s)
{
	ctl_url_put(u, s, strlen(s));
}

void
ctl_url_seg(struct ctl_url *u, const char *s)
{
	ctl_url_escape(u, s);
}

void
ctl_url_param(struct ctl_url *u, const char *name, const char *value)
{
	if (value == NULL)
		return;
	ctl_url_put(u, u->query ? "&" : "?", 1);
	u->query = true;
	ctl_url_escape(u, name);
	ctl_url_put(u, "=", 1);
	ctl_url_escape(u, value);
}

void
ctl_url_uint(struct ctl_url *u, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	ctl_url_param(u, name, buf);
}

int
ctl_request(struct ctl *ctl, const char *method, const struct ctl_url *u,
    json_t *body, json_t **answer)
{
	struct http_response resp;
	char *text = NULL, *cause;
	json_error_t e;
	int rc;

	*answer = NULL;
	if (u->failed) {
		ctl_fail(ctl, "the request would be longer than %d bytes",
		    CTL_URL_MAX);
		return -1;
	}
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		ctl_fail(ctl, "out of memory");
		return -1;
	}
	rc = http_request(ctl->socket, method, u->buf, text,
	    text != NULL ? strlen(text) : 0, ctl->wait_ms, &resp, &cause);
	free(text);
	if (rc == -1) {
		ctl_fail(ctl, "%s", cause);
		free(cause);
		return -1;
	}
	*answer = json_loadb(resp.body, resp.len, 0, &e);
	rc = resp.status;
	http_response_free(&resp);
	return rc;
}

void
ctl_error_text(int status, json_t *answer, char *buf, size_t size)
{
	json_t *err = json_object_get(answer, "error");
	const char *code = ctl_str(err, "code", NULL);
	const char *msg = ctl_str(err, "message", NULL);
	const char *field = ctl_str(err, "field", NULL);

	if (msg == NULL)
		snprintf(buf, size, "the daemon answered %d", status);
	else if (field != NULL)
		snprintf(buf, size, "%s (%s, %s)", msg, code, field);
	else
		snprintf(buf, size, "%s (%s)", msg, code);
}

void
ctl_print_error(const struct ctl *ctl, const char *what, int status,
    json_t *answer)
{
	char text[512];

	ctl_error_text(status, answer, text, sizeof text);
	if (what != NULL)
		ctl_fail(ctl, "%s: %s", what, text);
	else
		ctl_fail(ctl, "%s", text);
}

int
ctl_call(struct ctl *ctl, const char *what, const char *method,
    const struct ctl_url *u, json_t *body, json_t **answer)
{
	int status = ctl_request(ctl, method, u, body, answer);

	if (status == -1)
		return -1;
	if (status == 200 && json_is_object(*answer))
		return 0;
	ctl_print_error(ctl, what, status, *answer);
	json_decref(*answer);
	*answer = NULL;
	return -1;
}

void
ctl_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		fputs(s, stdout);
		fputc('\n', stdout);
	}
	free(s);
}

const char *
ctl_str(json_t *obj, const char *key, const char *def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : def;
}

long long
ctl_int(json_t *obj, const char *key, long long def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

struct out_span *
ctl_spans(json_t *reasons, const char *field, size_t *n)
{
	struct out_span *s;
	json_t *r, *span;
	size_t i;

	*n = 0;
	if (json_array_size(reasons) == 0 ||
	    (s = calloc(json_array_size(reasons), sizeof *s)) == NULL)
		return NULL;
	json_array_foreach(reasons, i, r) {
		span = json_object_get(r, "span");
		if (strcmp(ctl_str(r, "field", "body"), field) != 0 ||
		    !json_is_integer(json_array_get(span, 0)) ||
		    !json_is_integer(json_array_get(span, 1)) ||
		    json_integer_value(json_array_get(span, 0)) < 0)
			continue;
		s[*n].start = (size_t)json_integer_value(json_array_get(span,
		    0));
		s[*n].end = (size_t)json_integer_value(json_array_get(span, 1));
		if (s[*n].end > s[*n].start)
			(*n)++;
	}
	return s;
}
