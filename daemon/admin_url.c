/*
 * admin_url: strict percent-decoding of path ids and query parameters.
 * See admin_url.h for why evhttp's decoders are not used.
 */
#include "admin_url.h"

#include <stdio.h>
#include <string.h>

#include "json_writer.h"

/* The value of a hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whether n bytes at s are UTF-8 throughout (ASCII included). */
static bool
utf8_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = json_utf8_len(u + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

int
admin_url_decode(const char *s, size_t len, bool plus, char *out,
    size_t size, const char **why)
{
	size_t o = 0;
	int hi, lo;
	char c;

	for (size_t i = 0; i < len; i++) {
		c = s[i];
		if (c == '%') {
			if (i + 2 >= len || (hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1) {
				*why = "a '%' without two hex digits";
				return -1;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0') {
			*why = "it holds a NUL byte";
			return -1;
		}
		if (o + 1 >= size) {
			*why = "it is too long";
			return -1;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	if (!utf8_ok(out, o)) {
		*why = "it is not UTF-8";
		return -1;
	}
	return (int)o;
}

/* Fills in err; returns -1 for the caller to pass on. */
static int
query_fail(struct admin_url_error *err, const char *code, const char *field,
    size_t flen, const char *fmt, const char *detail)
{
	err->code = code;
	if (flen > ADMIN_URL_NAME_MAX)
		flen = ADMIN_URL_NAME_MAX;
	memcpy(err->field, field, flen);
	err->field[flen] = '\0';
	snprintf(err->message, sizeof err->message, fmt, err->field, detail);
	return -1;
}

/* Whether name (NUL-terminated) is one of known. */
static bool
query_known(const char *name, const char *const *known)
{
	for (size_t i = 0; known[i] != NULL; i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	return false;
}

int
admin_url_query(const char *query, const char *const *known,
    struct admin_query *q, struct admin_url_error *err)
{
	const char *p = query, *why, *amp, *eq;
	size_t plen, nlen;

	q->n = 0;
	memset(err, 0, sizeof *err);
	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		plen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', plen);
		nlen = eq != NULL ? (size_t)(eq - p) : plen;
		if (plen == 0)
			goto next;
		if (q->n == ADMIN_URL_PARAMS_MAX)
			return query_fail(err, "bad_value", "", 0, "%s%s",
			    "more than 8 query parameters");
		if (admin_url_decode(p, nlen, true, q->p[q->n].name,
		    sizeof q->p[q->n].name, &why) == -1 ||
		    !query_known(q->p[q->n].name, known))
			return query_fail(err, "unknown_parameter", p, nlen,
			    "\"%s\" is not a parameter of this route%s", "");
		if (admin_url_param(q, q->p[q->n].name) != NULL)
			return query_fail(err, "bad_value", p, nlen,
			    "\"%s\" is given twice%s", "");
		if (admin_url_decode(eq != NULL ? eq + 1 : p + plen,
		    eq != NULL ? plen - nlen - 1 : 0, true, q->p[q->n].value,
		    sizeof q->p[q->n].value, &why) == -1)
			return query_fail(err, "bad_value", q->p[q->n].name,
			    strlen(q->p[q->n].name), "\"%s\": %s", why);
		q->n++;
next:
		p = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
}

const char *
admin_url_param(const struct admin_query *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->p[i].name, name) == 0)
			return q->p[i].value;
	return NULL;
}

int
admin_url_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 20)
		return -1;
	for (; *s != '\0'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (*s < '0' || *s > '9' || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

bool
admin_url_stream_id(const char *s, uint64_t *ms, uint64_t *seq)
{
	const char *dash = strchr(s, '-');
	char buf[24];
	size_t n;

	if (dash == NULL || (n = (size_t)(dash - s)) == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return admin_url_uint(buf, 0, UINT64_MAX, ms) == 0 &&
	    admin_url_uint(dash + 1, 0, UINT64_MAX, seq) == 0;
}

bool
admin_url_cursor(const char *s)
{
	uint64_t ms, seq;

	return admin_url_stream_id(s, &ms, &seq) &&
	    (ms != UINT64_MAX || seq != UINT64_MAX);
}
