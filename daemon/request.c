/*
 * request: decodes the body of POST /v1/check, refusing anything that is not
 * exactly the documented shape with one stable code per class of mistake.
 *
 * The body comes from an untrusted client and may hold any bytes, so it is
 * scanned once before jansson sees it: NUL bytes, invalid UTF-8 and lone
 * surrogates get their own codes instead of jansson's generic parse error,
 * and a body nested deeper than REQUEST_MAX_DEPTH is refused after reading
 * at most that many brackets, before jansson's recursive descent (which
 * would go to 2048 levels) spends anything on it.  This file must never log,
 * answer a client or look at a policy: it returns what it found.
 */
#include "request.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
 * The length of the well-formed UTF-8 sequence (RFC 3629) at s, or 0.
 * Overlong forms, surrogates and code points past U+10FFFF are refused, as
 * jansson refuses them, so jansson never sees bytes it would reject.
 */
static size_t
request_utf8_len(const unsigned char *s, size_t left)
{
	uint32_t	cp, min;
	size_t		n, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (left < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Replaces bytes of msg that are not UTF-8 with '?'.  jansson 2.14 quotes
 * at most 20 bytes of the token it stopped at, so nothing is cut today; a
 * version that quoted more could cut a character at its buffer's end, and
 * the answer must stay parseable by every client.
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
		if ((n = request_utf8_len(s + i, len - i)) == 0) {
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
 * stepped over and left for jansson to call invalid JSON.
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
 * count may be off but jansson refuses the body anyway.  The first fault
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
			if ((n = request_utf8_len(s + i, len - i)) == 0)
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

/*
 * Maps a jansson refusal to a code.  After the pre-scan only syntax,
 * duplicate keys, numbers out of range and memory can fail here; the other
 * mappings keep the codes right should the pre-scan ever miss a case.
 */
static int
request_jansson_fail(const json_error_t *jerr, struct request_error *err)
{
	enum request_code	code;

	switch (json_error_code(jerr)) {
	case json_error_out_of_memory:
		return request_fail(err, REQUEST_NO_MEMORY, NULL,
		    "out of memory while reading the body");
	case json_error_duplicate_key:
		code = REQUEST_DUPLICATE_KEY;
		break;
	case json_error_invalid_utf8:
		code = REQUEST_BAD_UTF8;
		break;
	case json_error_null_character:
	case json_error_null_byte_in_key:
		code = REQUEST_BAD_NUL;
		break;
	case json_error_stack_overflow:
		code = REQUEST_TOO_DEEP;
		break;
	default:
		code = REQUEST_INVALID_JSON;
		break;
	}
	request_fail(err, code, NULL, "line %d, column %d: %s", jerr->line,
	    jerr->column, jerr->text);
	request_clean_message(err->message);
	return -1;
}

/* A JSON type as a message names it. */
static const char *
request_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

/*
 * A member of obj, or NULL when it is absent or null.  Both mean "not
 * given": many serialisers write an unset optional field as null.
 */
static json_t *
request_member(json_t *obj, const char *key)
{
	json_t	*j = json_object_get(obj, key);

	return (j == NULL || json_is_null(j)) ? NULL : j;
}

/*
 * Reads a string member of obj with a length in bytes within [min, max];
 * *s stays NULL when the member is not given.  `field` is its full name,
 * for errors, and a static string, as err keeps it.
 */
static int
request_string(json_t *obj, const char *key, const char *field, size_t min,
    size_t max, const char **s, size_t *len, struct request_error *err)
{
	json_t	*j;
	size_t	 n;

	*s = NULL;
	*len = 0;
	if ((j = request_member(obj, key)) == NULL)
		return 0;
	if (!json_is_string(j))
		return request_fail(err, REQUEST_BAD_TYPE, field,
		    "\"%s\" must be a string, not %s", field,
		    request_type_name(j));
	n = json_string_length(j);
	if (n < min || n > max) {
		if (min == 0)
			return request_fail(err, REQUEST_BAD_VALUE, field,
			    "\"%s\" must be at most %zu bytes long, not %zu",
			    field, max, n);
		return request_fail(err, REQUEST_BAD_VALUE, field,
		    "\"%s\" must be %zu to %zu bytes long, not %zu", field,
		    min, max, n);
	}
	*s = json_string_value(j);
	*len = n;
	return 0;
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

/* Reads "author": an object with id, and optionally name and ip. */
static int
request_author(json_t *doc, struct check_request *req,
    struct request_error *err)
{
	json_t	*author;
	size_t	 iplen;

	if ((author = request_member(doc, "author")) == NULL)
		return request_require(NULL, "author.id", err);
	if (!json_is_object(author))
		return request_fail(err, REQUEST_BAD_TYPE, "author",
		    "\"author\" must be an object, not %s",
		    request_type_name(author));

	if (request_string(author, "id", "author.id", 1, REQUEST_ID_MAX,
	    &req->author_id, &req->author_id_len, err) != 0 ||
	    request_require(req->author_id, "author.id", err) != 0)
		return -1;
	if (request_string(author, "name", "author.name", 0,
	    REQUEST_NAME_MAX, &req->author_name, &req->author_name_len,
	    err) != 0)
		return -1;
	if (request_string(author, "ip", "author.ip", 0, SIZE_MAX,
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

/* Reads every known field of the top-level object, in a fixed order. */
static int
request_fields(struct check_request *req, struct request_error *err)
{
	json_t	*doc = req->doc, *dry_run;

	if (request_string(doc, "id", "id", 1, REQUEST_ID_MAX, &req->id,
	    &req->id_len, err) != 0 ||
	    request_require(req->id, "id", err) != 0)
		return -1;
	req->id_json = json_object_get(doc, "id");

	if (request_string(doc, "site", "site", 1, REQUEST_SITE_MAX,
	    &req->site, &req->site_len, err) != 0 ||
	    request_site_check(req->site, req->site_len, err) != 0)
		return -1;
	if (request_string(doc, "thread", "thread", 0, REQUEST_THREAD_MAX,
	    &req->thread, &req->thread_len, err) != 0)
		return -1;
	if (request_author(doc, req, err) != 0)
		return -1;
	if (request_string(doc, "body", "body", 0, SIZE_MAX, &req->body,
	    &req->body_len, err) != 0 ||
	    request_require(req->body, "body", err) != 0)
		return -1;

	if ((dry_run = request_member(doc, "dry_run")) != NULL) {
		if (!json_is_boolean(dry_run))
			return request_fail(err, REQUEST_BAD_TYPE, "dry_run",
			    "\"dry_run\" must be true or false, not %s",
			    request_type_name(dry_run));
		req->dry_run = json_is_true(dry_run);
	}
	return 0;
}

/* Decodes a POST /v1/check body strictly. */
int
request_parse(const void *data, size_t len, struct check_request *req,
    struct request_error *err)
{
	json_error_t	jerr;

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
	/* jansson would say "invalid token near '\xef\xbb\xbf'", invisibly. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		return request_fail(err, REQUEST_INVALID_JSON, NULL,
		    "the body starts with a byte-order mark (U+FEFF), which "
		    "JSON over HTTP must not send");

	/*
	 * JSON_DECODE_ANY so that a lone string or number is JSON of the
	 * wrong type (bad_type), not a syntax error; no JSON_ALLOW_NUL, so a
	 * \u0000 the pre-scan missed would still be refused.
	 */
	req->doc = json_loadb(data, len, JSON_DECODE_ANY |
	    JSON_REJECT_DUPLICATES, &jerr);
	if (req->doc == NULL)
		return request_jansson_fail(&jerr, err);
	if (!json_is_object(req->doc)) {
		request_fail(err, REQUEST_BAD_TYPE, NULL,
		    "the body must be a JSON object, not %s",
		    request_type_name(req->doc));
		goto fail;
	}
	if (request_fields(req, err) != 0)
		goto fail;
	return 0;

fail:
	/* Messages quote nothing of the body, so err stays valid UTF-8. */
	if (req->id != NULL)
		memcpy(err->id, req->id, req->id_len + 1);
	request_free(req);
	return -1;
}

/* Drops the document every string of the request points into. */
void
request_free(struct check_request *req)
{
	if (req == NULL)
		return;
	json_decref(req->doc);
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
json_t *
request_error_json(const struct request_error *err)
{
	json_t	*id = NULL, *j, *e, *field;

	if (err->id[0] != '\0' && (id = json_string(err->id)) == NULL)
		return NULL;
	j = verdict_json_error(id, request_code_name(err->code),
	    err->message);
	json_decref(id);
	if (j == NULL || err->field == NULL)
		return j;
	/* An addition to DESIGN.md's shape: clients need not parse messages. */
	e = json_object_get(j, "error");
	if ((field = json_string(err->field)) == NULL ||
	    json_object_set_new(e, "field", field) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
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
