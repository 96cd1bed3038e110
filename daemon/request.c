/*
 * request: decodes the body of POST /v1/check, refusing anything that is not
 * exactly the documented shape with one stable code per class of mistake.
 *
 * The body comes from an untrusted client and may hold any bytes, so it is
 * scanned once first: NUL bytes, invalid UTF-8 and lone surrogates get
 * their own codes, and a body nested deeper than REQUEST_MAX_DEPTH is
 * refused after reading at most that many brackets.  Then json_reader
 * reads it in one pass, checking all of it and keeping only the known
 * fields, with no tree (a tree cost more than evaluating the comment).
 * Faults are reported in a fixed order (bytes, then JSON, then fields), so
 * one body always gets one code.  This file must never log, answer a client
 * or look at a policy: it returns what it found.
 */
#include "request.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"
#include "json_writer.h"

#include "verdict_json.h"

/* Sets err and returns -1, so a failure path is one statement. */
static int __attribute__((format(printf, 4, 5)))
request_fail(struct request_error *err, enum request_code code,
    const char *field, const char *fmt, ...)
{
	va_list	ap;

	err->code = code;
	err->field = field;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Replaces bytes of msg that are not UTF-8 with '?'.  A message that quotes
 * a key may cut a character at its bound, and the answer must stay
 * parseable by every client.
 */
static void
request_clean_message(char *msg)
{
	unsigned char	*s = (unsigned char *)msg;
	size_t		 len = strlen(msg), i = 0, n;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = json_utf8_len(s + i, len - i)) == 0) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}

/* The value of four hex digits at s, or -1 if there are not four. */
static long
request_hex4(const unsigned char *s, size_t left)
{
	long	v = 0;
	int	k, d;

	if (left < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		if (s[k] >= '0' && s[k] <= '9')
			d = s[k] - '0';
		else if (s[k] >= 'a' && s[k] <= 'f')
			d = s[k] - 'a' + 10;
		else if (s[k] >= 'A' && s[k] <= 'F')
			d = s[k] - 'A' + 10;
		else
			return -1;
		v = (v << 4) | d;
	}
	return v;
}

/*
 * Steps over the escape at s[*at] (a backslash inside a string), refusing
 * \u0000 and a surrogate escape that is not half of a pair: neither can
 * become the NUL-free UTF-8 the engine is promised.  A malformed escape is
 * stepped over and left for the reader to call invalid JSON.
 */
static int
request_scan_escape(const unsigned char *s, size_t len, size_t *at,
    struct request_error *err)
{
	size_t	i = *at;
	long	cp, lo;

	if (len - i < 2 || s[i + 1] != 'u') {
		/* A NUL or a non-ASCII byte next is for the caller to judge. */
		if (len - i >= 2 && s[i + 1] != '\0' && s[i + 1] < 0x80)
			*at = i + 2;
		else
			*at = i + 1;
		return 0;
	}
	if ((cp = request_hex4(s + i + 2, len - i - 2)) == -1) {
		*at = i + 2;
		return 0;
	}
	if (cp == 0)
		return request_fail(err, REQUEST_BAD_NUL, NULL,
		    "\\u0000 at byte %zu: NUL characters are not allowed",
		    i + 1);
	if (cp >= 0xdc00 && cp <= 0xdfff)
		goto lone;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u')
			goto lone;
		lo = request_hex4(s + i + 8, len - i - 8);
		if (lo < 0xdc00 || lo > 0xdfff)
			goto lone;
		*at = i + 12;
		return 0;
	}
	*at = i + 6;
	return 0;

lone:
	return request_fail(err, REQUEST_BAD_UTF8, NULL,
	    "\\u%04lX at byte %zu is half of a UTF-16 surrogate pair, which "
	    "is not Unicode text", (unsigned long)cp, i + 1);
}

/*
 * The pre-scan: one pass over the raw bytes for NUL, invalid UTF-8, lone
 * surrogates and depth.  Brackets are counted only outside strings, which
 * is exactly the nesting depth when the body is JSON; when it is not, the
 * count may be off but the reader refuses the body anyway.  The first fault
 * from the start wins.
 */
static int
request_scan(const unsigned char *s, size_t len, struct request_error *err)
{
	size_t	i = 0, n;
	int	depth = 0;
	bool	in_string = false;

	while (i < len) {
		if (s[i] >= 0x80) {
			if ((n = json_utf8_len(s + i, len - i)) == 0)
				return request_fail(err, REQUEST_BAD_UTF8,
				    NULL, "invalid UTF-8 at byte %zu", i + 1);
			i += n;
			continue;
		}
		if (s[i] == '\0')
			return request_fail(err, REQUEST_BAD_NUL, NULL,
			    "a NUL byte at byte %zu", i + 1);
		if (in_string) {
			if (s[i] == '"')
				in_string = false;
			else if (s[i] == '\\') {
				if (request_scan_escape(s, len, &i, err) != 0)
					return -1;
				continue;
			}
		} else if (s[i] == '"')
			in_string = true;
		else if (s[i] == '[' || s[i] == '{') {
			if (++depth > REQUEST_MAX_DEPTH)
				return request_fail(err, REQUEST_TOO_DEEP,
				    NULL, "nested deeper than %d levels at "
				    "byte %zu", REQUEST_MAX_DEPTH, i + 1);
		} else if ((s[i] == ']' || s[i] == '}') && depth > 0)
			depth--;
		i++;
	}
	return 0;
}

/* A JSON kind as a message names it. */
static const char *
request_kind_name(enum json_kind kind)
{
	switch (kind) {
	case JSON_KIND_OBJECT:
		return "an object";
	case JSON_KIND_ARRAY:
		return "an array";
	case JSON_KIND_STRING:
		return "a string";
	case JSON_KIND_NUMBER:
		return "a number";
	case JSON_KIND_TRUE:
	case JSON_KIND_FALSE:
		return "a boolean";
	case JSON_KIND_NONE:
	case JSON_KIND_NULL:
		break;
	}
	return "null";
}

/*
 * One field as read: its kind, and its decoded text when it is a string.
 * NONE means absent; null counts as absent too, as many serialisers write
 * an unset optional field as null.
 */
struct request_value {
	enum json_kind	 kind;
	const char	*s;
	size_t		 len;
};

/* The fields of a body, gathered in one pass and judged afterwards. */
struct request_fields {
	struct request_value id, site, thread, author, author_id, author_name,
			 author_ip, body, dry_run;
};

/*
 * Reads one member's value into v: a string is decoded, anything else is
 * checked and skipped, keeping only its kind.
 */
static int
request_read_value(struct json_reader *r, struct request_value *v)
{
	v->kind = json_reader_peek(r);
	if (v->kind == JSON_KIND_STRING)
		return json_reader_string(r, &v->s, &v->len);
	if (v->kind == JSON_KIND_NULL)
		v->kind = JSON_KIND_NONE;
	return json_reader_skip(r);
}

/* Whether the decoded key k (n bytes) is name. */
static bool
request_key_is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(k, name, n) == 0;
}

/* Reads the members of "author", an object whose '{' is next. */
static int
request_read_author(struct json_reader *r, struct request_fields *f)
{
	const char	*k;
	size_t		 n;
	int		 rc;

	if (json_reader_object(r) == -1)
		return -1;
	while ((rc = json_reader_member(r, &k, &n)) == 1) {
		if (request_key_is(k, n, "id"))
			rc = request_read_value(r, &f->author_id);
		else if (request_key_is(k, n, "name"))
			rc = request_read_value(r, &f->author_name);
		else if (request_key_is(k, n, "ip"))
			rc = request_read_value(r, &f->author_ip);
		else
			rc = json_reader_skip(r);
		if (rc == -1)
			return -1;
	}
	return rc;
}

/*
 * The one pass: every byte of the document is checked (syntax, duplicate
 * keys, numbers jansson could not hold either) and the known fields are kept.
 * Unknown members are allowed and skipped, so clients may send more.
 */
static int
request_read(struct json_reader *r, enum json_kind *top,
    struct request_fields *f)
{
	const char	*k;
	size_t		 n;
	int		 rc;

	if ((*top = json_reader_peek(r)) != JSON_KIND_OBJECT)
		return json_reader_skip(r) == -1 ? -1 : json_reader_end(r);
	if (json_reader_object(r) == -1)
		return -1;
	while ((rc = json_reader_member(r, &k, &n)) == 1) {
		if (request_key_is(k, n, "id"))
			rc = request_read_value(r, &f->id);
		else if (request_key_is(k, n, "site"))
			rc = request_read_value(r, &f->site);
		else if (request_key_is(k, n, "thread"))
			rc = request_read_value(r, &f->thread);
		else if (request_key_is(k, n, "body"))
			rc = request_read_value(r, &f->body);
		else if (request_key_is(k, n, "dry_run"))
			rc = request_read_value(r, &f->dry_run);
		else if (request_key_is(k, n, "author")) {
			f->author.kind = json_reader_peek(r);
			if (f->author.kind == JSON_KIND_OBJECT)
				rc = request_read_author(r, f);
			else
				rc = request_read_value(r, &f->author);
		} else
			rc = json_reader_skip(r);
		if (rc == -1)
			return -1;
	}
	return rc == -1 ? -1 : json_reader_end(r);
}

/* Maps the reader's fault to a code, with its message. */
static int
request_reader_fail(const struct json_reader *r, struct request_error *err)
{
	static const enum request_code codes[] = {
		[JSON_FAULT_NONE] = REQUEST_INVALID_JSON,
		[JSON_FAULT_SYNTAX] = REQUEST_INVALID_JSON,
		[JSON_FAULT_DUPLICATE] = REQUEST_DUPLICATE_KEY,
		[JSON_FAULT_TOO_DEEP] = REQUEST_TOO_DEEP,
		[JSON_FAULT_NO_MEMORY] = REQUEST_NO_MEMORY,
	};

	request_fail(err, codes[r->fault], NULL, "%s", r->message);
	/* A quoted key may have been cut inside a character. */
	request_clean_message(err->message);
	return -1;
}

/* Refuses a required field that was not given. */
static int
request_require(const char *s, const char *field, struct request_error *err)
{
	if (s != NULL)
		return 0;
	return request_fail(err, REQUEST_MISSING_FIELD, field,
	    "\"%s\" is required", field);
}

/*
 * Checks a site name: [a-z0-9][a-z0-9_.-]*.  Sites name Redis keys and
 * metric labels, so the set is small and has no way to escape either.
 */
static int
request_site_check(const char *site, size_t len, struct request_error *err)
{
	size_t	i;
	char	c;

	for (i = 0; i < len; i++) {
		c = site[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '_' || c == '.' || c == '-'))
			continue;
		return request_fail(err, REQUEST_BAD_VALUE, "site",
		    "\"site\" must be lower-case letters, digits, '_', '.' "
		    "and '-', starting with a letter or a digit");
	}
	return 0;
}

/*
 * Checks a string field with a length in bytes within [min, max]; *s stays
 * NULL when it was not given.  `field` is its full name, for errors, and a
 * static string, as err keeps it.
 */
static int
request_string(const struct request_value *v, const char *field, size_t min,
    size_t max, const char **s, size_t *len, struct request_error *err)
{
	*s = NULL;
	*len = 0;
	if (v->kind == JSON_KIND_NONE)
		return 0;
	if (v->kind != JSON_KIND_STRING)
		return request_fail(err, REQUEST_BAD_TYPE, field,
		    "\"%s\" must be a string, not %s", field,
		    request_kind_name(v->kind));
	if (v->len < min || v->len > max) {
		if (min == 0)
			return request_fail(err, REQUEST_BAD_VALUE, field,
			    "\"%s\" must be at most %zu bytes long, not %zu",
			    field, max, v->len);
		return request_fail(err, REQUEST_BAD_VALUE, field,
		    "\"%s\" must be %zu to %zu bytes long, not %zu", field,
		    min, max, v->len);
	}
	*s = v->s;
	*len = v->len;
	return 0;
}

/* Checks "author": an object with id, and optionally name and ip. */
static int
request_author(const struct request_fields *f, struct check_request *req,
    struct request_error *err)
{
	size_t	 iplen;

	if (f->author.kind == JSON_KIND_NONE)
		return request_require(NULL, "author.id", err);
	if (f->author.kind != JSON_KIND_OBJECT)
		return request_fail(err, REQUEST_BAD_TYPE, "author",
		    "\"author\" must be an object, not %s",
		    request_kind_name(f->author.kind));

	if (request_string(&f->author_id, "author.id", 1, REQUEST_ID_MAX,
	    &req->author_id, &req->author_id_len, err) != 0 ||
	    request_require(req->author_id, "author.id", err) != 0)
		return -1;
	if (request_string(&f->author_name, "author.name", 0,
	    REQUEST_NAME_MAX, &req->author_name, &req->author_name_len,
	    err) != 0)
		return -1;
	if (request_string(&f->author_ip, "author.ip", 0, SIZE_MAX,
	    &req->author_ip, &iplen, err) != 0)
		return -1;
	if (req->author_ip == NULL)
		return 0;
	if (inet_pton(AF_INET, req->author_ip, req->author_ip_addr) == 1)
		req->author_ip_af = AF_INET;
	else if (inet_pton(AF_INET6, req->author_ip, req->author_ip_addr) == 1)
		req->author_ip_af = AF_INET6;
	else
		return request_fail(err, REQUEST_BAD_VALUE, "author.ip",
		    "\"author.ip\" must be an IPv4 or IPv6 address");
	return 0;
}

/* Judges every known field, in a fixed order, so the first fault is stable. */
static int
request_check(const struct request_fields *f, struct check_request *req,
    struct request_error *err)
{
	if (request_string(&f->id, "id", 1, REQUEST_ID_MAX, &req->id,
	    &req->id_len, err) != 0 ||
	    request_require(req->id, "id", err) != 0)
		return -1;
	if (request_string(&f->site, "site", 1, REQUEST_SITE_MAX,
	    &req->site, &req->site_len, err) != 0 ||
	    request_site_check(req->site, req->site_len, err) != 0)
		return -1;
	if (request_string(&f->thread, "thread", 0, REQUEST_THREAD_MAX,
	    &req->thread, &req->thread_len, err) != 0)
		return -1;
	if (request_author(f, req, err) != 0)
		return -1;
	if (request_string(&f->body, "body", 0, SIZE_MAX, &req->body,
	    &req->body_len, err) != 0 ||
	    request_require(req->body, "body", err) != 0)
		return -1;

	if (f->dry_run.kind != JSON_KIND_NONE) {
		if (f->dry_run.kind != JSON_KIND_TRUE &&
		    f->dry_run.kind != JSON_KIND_FALSE)
			return request_fail(err, REQUEST_BAD_TYPE, "dry_run",
			    "\"dry_run\" must be true or false, not %s",
			    request_kind_name(f->dry_run.kind));
		req->dry_run = f->dry_run.kind == JSON_KIND_TRUE;
	}
	return 0;
}

/* Decodes a POST /v1/check body strictly. */
int
request_parse(const void *data, size_t len, struct check_request *req,
    struct request_error *err)
{
	struct json_reader	r;
	struct request_fields	f;
	enum json_kind		top;
	int			rc;

	memset(req, 0, sizeof *req);
	err->code = REQUEST_OK;
	err->field = NULL;
	err->id[0] = '\0';
	err->message[0] = '\0';

	if (len == 0)
		return request_fail(err, REQUEST_INVALID_JSON, NULL,
		    "the body is empty");
	if (request_scan(data, len, err) != 0)
		return -1;
	/* The reader would say "expected a value", of an invisible byte. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		return request_fail(err, REQUEST_INVALID_JSON, NULL,
		    "the body starts with a byte-order mark (U+FEFF), which "
		    "JSON over HTTP must not send");

	/* Decoded text is never longer than the JSON that encoded it. */
	if (len == SIZE_MAX || (req->buf = malloc(len + 1)) == NULL)
		return request_fail(err, REQUEST_NO_MEMORY, NULL,
		    "out of memory while reading the body");
	memset(&f, 0, sizeof f);
	json_reader_init(&r, data, len, req->buf, REQUEST_MAX_DEPTH);
	rc = request_read(&r, &top, &f);
	if (rc == -1)
		request_reader_fail(&r, err);
	json_reader_free(&r);
	if (rc == -1)
		goto fail;
	if (top != JSON_KIND_OBJECT) {
		request_fail(err, REQUEST_BAD_TYPE, NULL,
		    "the body must be a JSON object, not %s",
		    request_kind_name(top));
		goto fail;
	}
	if (request_check(&f, req, err) != 0)
		goto fail;
	return 0;

fail:
	/* Messages quote no field's value, so err stays valid UTF-8. */
	if (req->id != NULL)
		memcpy(err->id, req->id, req->id_len + 1);
	request_free(req);
	return -1;
}

/* Frees the text every string of the request points into. */
void
request_free(struct check_request *req)
{
	if (req == NULL)
		return;
	free(req->buf);
	memset(req, 0, sizeof *req);
}

/* The API code of each class; docs/api-errors.md is their contract. */
const char *
request_code_name(enum request_code code)
{
	switch (code) {
	case REQUEST_OK:
		return "ok";
	case REQUEST_INVALID_JSON:
		return VJ_INVALID_JSON;
	case REQUEST_BAD_UTF8:
		return VJ_BAD_UTF8;
	case REQUEST_BAD_NUL:
		return "bad_nul";
	case REQUEST_TOO_DEEP:
		return "too_deep";
	case REQUEST_DUPLICATE_KEY:
		return "duplicate_key";
	case REQUEST_BAD_TYPE:
		return VJ_BAD_TYPE;
	case REQUEST_MISSING_FIELD:
		return VJ_MISSING_FIELD;
	case REQUEST_BAD_VALUE:
		return "bad_value";
	case REQUEST_NO_MEMORY:
		return "internal";
	}
	return "internal";
}

/* The answer body for a refused request, naming the comment when known. */
void
request_error_write(const struct request_error *err, struct json_writer *w)
{
	struct vj_id id = { err->id[0] != '\0' ? err->id : NULL,
	    strlen(err->id), false };

	verdict_json_write_error(w, &id, request_code_name(err->code),
	    err->message, err->field);
}

/* Points an engine comment at the request's body and author name. */
void
request_comment(const struct check_request *req, struct comment *c)
{
	memset(c, 0, sizeof *c);
	c->body = req->body;
	c->body_len = req->body_len;
	c->author_name = req->author_name;
	c->author_name_len = req->author_name_len;
}
