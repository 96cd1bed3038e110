/*
 * The POST /v1/check decoder: a table of bodies with the code each must get
 * (every code, and the field it names), the bounds of each field at and one
 * past its limit, what an accepted body hands the engine, the 400 answer's
 * shape, and every file of JSONTestSuite: each n_ file refused, each y_ file
 * read as JSON (refused only for its shape, or by a documented rule).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <dirent.h>

#include <cmocka.h>

#include <jansson.h>

#include "request.h"

struct rcase {
	const char		*name;
	const char		*body;
	size_t			 len;
	enum request_code	 code;
	const char		*field;	/* NULL: the error names no field */
};

/* sizeof, not strlen, so bodies may hold NUL bytes. */
#define RC(name, body, code, field) { name, body, sizeof(body) - 1, code, field }

/* A valid body around one varied part, to keep the table readable. */
#define AUTH	"\"author\":{\"id\":\"u-1\"}"
#define OK_WITH(extra) \
	"{\"id\":\"c-1\"," AUTH ",\"body\":\"hi\"" extra "}"
#define BODY(b) "{\"id\":\"c-1\"," AUTH ",\"body\":\"" b "\"}"

static const struct rcase cases[] = {
	/* accepted */
	RC("minimal", OK_WITH(""), REQUEST_OK, NULL),
	RC("design example",
	    "{\"id\": \"c-123\", \"site\": \"example\", \"thread\": "
	    "\"2021/feb/25/airstrikes\", \"author\": {\"id\": \"u-42\", "
	    "\"name\": \"Ben\", \"ip\": \"203.0.113.7\"}, \"body\": "
	    "\"comment text\", \"dry_run\": false}", REQUEST_OK, NULL),
	RC("unknown top-level field ignored",
	    OK_WITH(",\"future\":{\"a\":[1,2.5,null,true]}"), REQUEST_OK, NULL),
	RC("unknown author field ignored",
	    "{\"id\":\"c\",\"author\":{\"id\":\"u\",\"karma\":3},\"body\":\"\"}",
	    REQUEST_OK, NULL),
	RC("null optional fields",
	    "{\"id\":\"c\",\"site\":null,\"thread\":null,\"author\":{\"id\":"
	    "\"u\",\"name\":null,\"ip\":null},\"body\":\"b\",\"dry_run\":null}",
	    REQUEST_OK, NULL),
	RC("whitespace around", " \r\n\t" OK_WITH("") "\n ", REQUEST_OK, NULL),
	RC("empty body text", BODY(""), REQUEST_OK, NULL),
	RC("brackets in strings do not nest",
	    BODY("[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{"), REQUEST_OK, NULL),
	RC("escaped quote then brackets",
	    BODY("\\\"[[[[[[[[[[[[[[[[[[[[\\\\"), REQUEST_OK, NULL),
	RC("escaped backslash before u0000", BODY("\\\\u0000"), REQUEST_OK,
	    NULL),
	RC("surrogate pair escape", BODY("\\ud83d\\ude00"), REQUEST_OK, NULL),
	RC("four-byte UTF-8", BODY("\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"),
	    REQUEST_OK, NULL),
	RC("noncharacter", BODY("\xef\xbf\xbf"), REQUEST_OK, NULL),
	RC("IPv4-mapped IPv6", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"ip\":\"::ffff:192.0.2.1\"},\"body\":\"\"}", REQUEST_OK, NULL),
	RC("site characters",
	    OK_WITH(",\"site\":\"0a_b.c-d\""), REQUEST_OK, NULL),
	RC("dry_run true", OK_WITH(",\"dry_run\":true"), REQUEST_OK, NULL),
	RC("big number in unknown field",
	    OK_WITH(",\"n\":123456789012345678"), REQUEST_OK, NULL),

	/* invalid_json */
	RC("empty", "", REQUEST_INVALID_JSON, NULL),
	RC("only white space", " \n", REQUEST_INVALID_JSON, NULL),
	RC("open brace", "{", REQUEST_INVALID_JSON, NULL),
	RC("trailing comma", "{\"id\":\"c\",}", REQUEST_INVALID_JSON, NULL),
	RC("trailing garbage", OK_WITH("") "x", REQUEST_INVALID_JSON, NULL),
	RC("two objects", OK_WITH("") OK_WITH(""), REQUEST_INVALID_JSON, NULL),
	RC("single quotes", "{'id':'c'}", REQUEST_INVALID_JSON, NULL),
	RC("byte-order mark", "\xef\xbb\xbf" OK_WITH(""), REQUEST_INVALID_JSON,
	    NULL),
	RC("byte-order mark alone", "\xef\xbb\xbf", REQUEST_INVALID_JSON, NULL),
	RC("bad escape", BODY("\\x41"), REQUEST_INVALID_JSON, NULL),
	RC("short \\u escape", BODY("\\u12"), REQUEST_INVALID_JSON, NULL),
	RC("raw control character", BODY("a\nb"), REQUEST_INVALID_JSON, NULL),
	RC("number overflow", OK_WITH(",\"n\":1e999"), REQUEST_INVALID_JSON,
	    NULL),
	RC("integer overflow", OK_WITH(",\"n\":123456789012345678901234567890"),
	    REQUEST_INVALID_JSON, NULL),
	RC("comment", OK_WITH("") "//", REQUEST_INVALID_JSON, NULL),

	/* bad_utf8 */
	RC("stray byte", BODY("\xff"), REQUEST_BAD_UTF8, NULL),
	RC("latin-1", BODY("caf\xe9"), REQUEST_BAD_UTF8, NULL),
	RC("overlong slash", BODY("\xc0\xaf"), REQUEST_BAD_UTF8, NULL),
	RC("overlong three bytes", BODY("\xe0\x80\xaf"), REQUEST_BAD_UTF8, NULL),
	RC("encoded surrogate", BODY("\xed\xa0\x80"), REQUEST_BAD_UTF8, NULL),
	RC("past U+10FFFF", BODY("\xf4\x90\x80\x80"), REQUEST_BAD_UTF8, NULL),
	RC("lone continuation", BODY("\x80"), REQUEST_BAD_UTF8, NULL),
	RC("truncated at the end", "{\"a\":\"\xe2\x82", REQUEST_BAD_UTF8, NULL),
	RC("truncated before a quote", BODY("\xe2\x82"), REQUEST_BAD_UTF8, NULL),
	RC("outside a string", OK_WITH("") "\xff", REQUEST_BAD_UTF8, NULL),
	RC("in a key", "{\"\xfe\":1}", REQUEST_BAD_UTF8, NULL),
	RC("lone high surrogate", BODY("\\ud83d"), REQUEST_BAD_UTF8, NULL),
	RC("lone low surrogate", BODY("\\ude00"), REQUEST_BAD_UTF8, NULL),
	RC("high then not low", BODY("\\ud83d\\u0041"), REQUEST_BAD_UTF8, NULL),
	RC("high then high", BODY("\\ud83d\\ud83d"), REQUEST_BAD_UTF8, NULL),
	RC("inverted pair", BODY("\\ude00\\ud83d"), REQUEST_BAD_UTF8, NULL),
	RC("high then text", BODY("\\uD800abcdef"), REQUEST_BAD_UTF8, NULL),
	RC("lone surrogate in a key", "{\"\\udc00\":1}", REQUEST_BAD_UTF8, NULL),

	/* bad_nul */
	RC("raw NUL in a string", BODY("a\0b"), REQUEST_BAD_NUL, NULL),
	RC("raw NUL outside", "{\0}", REQUEST_BAD_NUL, NULL),
	RC("C string terminator sent", OK_WITH("") "\0", REQUEST_BAD_NUL, NULL),
	RC("\\u0000 in body", BODY("a\\u0000"), REQUEST_BAD_NUL, NULL),
	RC("\\u0000 in a key", OK_WITH(",\"a\\u0000\":1"), REQUEST_BAD_NUL, NULL),
	RC("\\u0000 in an unknown field", OK_WITH(",\"x\":\"\\u0000\""),
	    REQUEST_BAD_NUL, NULL),
	RC("NUL after a backslash", BODY("\\\0"), REQUEST_BAD_NUL, NULL),

	/* too_deep */
	RC("17 arrays", "[[[[[[[[[[[[[[[[[", REQUEST_TOO_DEEP, NULL),
	RC("17 levels in an unknown field",
	    OK_WITH(",\"x\":[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]"), REQUEST_TOO_DEEP,
	    NULL),

	/* duplicate_key */
	RC("id twice", "{\"id\":\"a\",\"id\":\"b\"," AUTH ",\"body\":\"\"}",
	    REQUEST_DUPLICATE_KEY, NULL),
	RC("same key and value twice", OK_WITH(",\"body\":\"hi\""),
	    REQUEST_DUPLICATE_KEY, NULL),
	RC("twice in author",
	    "{\"id\":\"c\",\"author\":{\"id\":\"u\",\"id\":\"v\"},\"body\":\"\"}",
	    REQUEST_DUPLICATE_KEY, NULL),
	RC("twice in an unknown field", OK_WITH(",\"x\":[{\"a\":1,\"a\":1}]"),
	    REQUEST_DUPLICATE_KEY, NULL),
	RC("twice by escape", OK_WITH(",\"\\u0069d\":\"c-1\""),
	    REQUEST_DUPLICATE_KEY, NULL),

	/* bad_type */
	RC("top-level array", "[" OK_WITH("") "]", REQUEST_BAD_TYPE, NULL),
	RC("top-level string", "\"hello\"", REQUEST_BAD_TYPE, NULL),
	RC("top-level number", "42", REQUEST_BAD_TYPE, NULL),
	RC("top-level null", "null", REQUEST_BAD_TYPE, NULL),
	RC("id number", "{\"id\":123," AUTH ",\"body\":\"\"}", REQUEST_BAD_TYPE,
	    "id"),
	RC("id object", "{\"id\":{}," AUTH ",\"body\":\"\"}", REQUEST_BAD_TYPE,
	    "id"),
	RC("site number", OK_WITH(",\"site\":7"), REQUEST_BAD_TYPE, "site"),
	RC("thread array", OK_WITH(",\"thread\":[]"), REQUEST_BAD_TYPE,
	    "thread"),
	RC("author string", "{\"id\":\"c\",\"author\":\"u-1\",\"body\":\"\"}",
	    REQUEST_BAD_TYPE, "author"),
	RC("author array", "{\"id\":\"c\",\"author\":[],\"body\":\"\"}",
	    REQUEST_BAD_TYPE, "author"),
	RC("author.id number", "{\"id\":\"c\",\"author\":{\"id\":42},"
	    "\"body\":\"\"}", REQUEST_BAD_TYPE, "author.id"),
	RC("author.name boolean", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"name\":true},\"body\":\"\"}", REQUEST_BAD_TYPE, "author.name"),
	RC("author.ip number", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"ip\":3405803783},\"body\":\"\"}", REQUEST_BAD_TYPE, "author.ip"),
	RC("body number", "{\"id\":\"c\"," AUTH ",\"body\":5}", REQUEST_BAD_TYPE,
	    "body"),
	RC("body array", "{\"id\":\"c\"," AUTH ",\"body\":[\"a\"]}",
	    REQUEST_BAD_TYPE, "body"),
	RC("dry_run string", OK_WITH(",\"dry_run\":\"true\""), REQUEST_BAD_TYPE,
	    "dry_run"),
	RC("dry_run number", OK_WITH(",\"dry_run\":0"), REQUEST_BAD_TYPE,
	    "dry_run"),

	/* missing_field */
	RC("empty object", "{}", REQUEST_MISSING_FIELD, "id"),
	RC("no id", "{" AUTH ",\"body\":\"\"}", REQUEST_MISSING_FIELD, "id"),
	RC("null id", "{\"id\":null," AUTH ",\"body\":\"\"}",
	    REQUEST_MISSING_FIELD, "id"),
	RC("no author", "{\"id\":\"c\",\"body\":\"\"}", REQUEST_MISSING_FIELD,
	    "author.id"),
	RC("null author", "{\"id\":\"c\",\"author\":null,\"body\":\"\"}",
	    REQUEST_MISSING_FIELD, "author.id"),
	RC("author without id", "{\"id\":\"c\",\"author\":{\"name\":\"Ben\"},"
	    "\"body\":\"\"}", REQUEST_MISSING_FIELD, "author.id"),
	RC("no body", "{\"id\":\"c\"," AUTH "}", REQUEST_MISSING_FIELD, "body"),
	RC("null body", "{\"id\":\"c\"," AUTH ",\"body\":null}",
	    REQUEST_MISSING_FIELD, "body"),
	RC("first fault in field order", "{\"body\":5}", REQUEST_MISSING_FIELD,
	    "id"),

	/* bad_value */
	RC("empty id", "{\"id\":\"\"," AUTH ",\"body\":\"\"}", REQUEST_BAD_VALUE,
	    "id"),
	RC("empty author.id", "{\"id\":\"c\",\"author\":{\"id\":\"\"},"
	    "\"body\":\"\"}", REQUEST_BAD_VALUE, "author.id"),
	RC("empty site", OK_WITH(",\"site\":\"\""), REQUEST_BAD_VALUE, "site"),
	RC("upper-case site", OK_WITH(",\"site\":\"Example\""), REQUEST_BAD_VALUE,
	    "site"),
	RC("site starting with '-'", OK_WITH(",\"site\":\"-x\""),
	    REQUEST_BAD_VALUE, "site"),
	RC("site starting with '.'", OK_WITH(",\"site\":\".x\""),
	    REQUEST_BAD_VALUE, "site"),
	RC("site with a space", OK_WITH(",\"site\":\"a b\""), REQUEST_BAD_VALUE,
	    "site"),
	RC("site with a brace", OK_WITH(",\"site\":\"a}b\""), REQUEST_BAD_VALUE,
	    "site"),
	RC("site with a letter past ASCII", OK_WITH(",\"site\":\"caf\xc3\xa9\""),
	    REQUEST_BAD_VALUE, "site"),
	RC("IPv4 out of range", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"ip\":\"999.1.1.1\"},\"body\":\"\"}", REQUEST_BAD_VALUE,
	    "author.ip"),
	RC("IPv4 short form", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"ip\":\"10.1\"},\"body\":\"\"}", REQUEST_BAD_VALUE, "author.ip"),
	RC("IPv4 with spaces", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"ip\":\" 1.2.3.4\"},\"body\":\"\"}", REQUEST_BAD_VALUE,
	    "author.ip"),
	RC("host name as ip", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"ip\":\"localhost\"},\"body\":\"\"}", REQUEST_BAD_VALUE,
	    "author.ip"),
	RC("empty ip", "{\"id\":\"c\",\"author\":{\"id\":\"u\",\"ip\":\"\"},"
	    "\"body\":\"\"}", REQUEST_BAD_VALUE, "author.ip"),
	RC("IPv6 with a zone", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"ip\":\"fe80::1%eth0\"},\"body\":\"\"}", REQUEST_BAD_VALUE,
	    "author.ip"),
	RC("IPv4 with a port", "{\"id\":\"c\",\"author\":{\"id\":\"u\","
	    "\"ip\":\"1.2.3.4:80\"},\"body\":\"\"}", REQUEST_BAD_VALUE,
	    "author.ip"),
};

/* True if s is well-formed UTF-8, checked here without the code under test. */
static int
valid_utf8(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 n, k;
	uint32_t		 cp;

	while (*u != '\0') {
		if (*u < 0x80) {
			u++;
			continue;
		}
		if ((*u & 0xe0) == 0xc0)
			n = 1, cp = *u & 0x1f;
		else if ((*u & 0xf0) == 0xe0)
			n = 2, cp = *u & 0x0f;
		else if ((*u & 0xf8) == 0xf0)
			n = 3, cp = *u & 0x07;
		else
			return 0;
		for (k = 1; k <= n; k++) {
			if ((u[k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (u[k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		u += n + 1;
	}
	return 1;
}

/* Parses one body; on failure checks the error is complete and readable. */
static int
parse(const char *body, size_t len, struct check_request *req,
    struct request_error *err)
{
	int	rc;

	rc = request_parse(body, len, req, err);
	if (rc == 0) {
		assert_int_equal(err->code, REQUEST_OK);
		assert_non_null(req->buf);
		return 0;
	}
	assert_int_equal(rc, -1);
	assert_int_not_equal(err->code, REQUEST_OK);
	assert_true(err->message[0] != '\0');
	assert_true(valid_utf8(err->message));
	assert_null(req->buf);
	assert_null(req->body);
	return -1;
}

static void
test_table(void **state)
{
	struct check_request	 req;
	struct request_error	 err;
	size_t			 i, bad = 0;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rcase *c = &cases[i];

		rc = parse(c->body, c->len, &req, &err);
		if (err.code != c->code || (c->field == NULL) !=
		    (err.field == NULL) || (c->field != NULL &&
		    strcmp(c->field, err.field) != 0)) {
			print_message("case \"%s\": want %s %s, got %s %s: %s\n",
			    c->name, request_code_name(c->code),
			    c->field != NULL ? c->field : "-",
			    request_code_name(err.code),
			    err.field != NULL ? err.field : "-", err.message);
			bad++;
		}
		if (rc == 0)
			request_free(&req);
	}
	assert_int_equal(bad, 0);
}

/* Every code of the enum is in the table, so no class goes untested. */
static void
test_table_covers_codes(void **state)
{
	int	seen[REQUEST_NO_MEMORY + 1] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		seen[cases[i].code] = 1;
	for (int c = REQUEST_OK; c < REQUEST_NO_MEMORY; c++) {
		if (!seen[c])
			print_message("no case for %s\n", request_code_name(c));
		assert_true(seen[c]);
	}
	assert_string_equal(request_code_name(REQUEST_NO_MEMORY), "internal");
	assert_string_equal(request_code_name(REQUEST_INVALID_JSON),
	    "invalid_json");
	assert_string_equal(request_code_name(REQUEST_BAD_NUL), "bad_nul");
	assert_string_equal(request_code_name(REQUEST_TOO_DEEP), "too_deep");
	assert_string_equal(request_code_name(REQUEST_DUPLICATE_KEY),
	    "duplicate_key");
	assert_string_equal(request_code_name(REQUEST_BAD_VALUE), "bad_value");
}

static void
test_fields(void **state)
{
	static const char	 body[] =
	    "{\"id\": \"c-123\", \"site\": \"example\", \"thread\": \"t/1\", "
	    "\"author\": {\"id\": \"u-42\", \"name\": \"B\\u00e9n\", "
	    "\"ip\": \"2001:db8::7\"}, \"body\": \"comment \\\"text\\\"\", "
	    "\"dry_run\": true}";
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
	struct check_request	 req;
	struct request_error	 err;
	struct comment		 c;

	(void)state;
	assert_int_equal(parse(body, strlen(body), &req, &err), 0);
	assert_string_equal(req.id, "c-123");
	assert_int_equal(req.id_len, 5);
	assert_string_equal(req.site, "example");
	assert_int_equal(req.site_len, 7);
	assert_string_equal(req.thread, "t/1");
	assert_int_equal(req.thread_len, 3);
	assert_string_equal(req.author_id, "u-42");
	assert_int_equal(req.author_id_len, 4);
	/* Escapes are decoded: the engine sees the text, not the JSON. */
	assert_string_equal(req.author_name, "B\xc3\xa9n");
	assert_int_equal(req.author_name_len, 4);
	assert_string_equal(req.author_ip, "2001:db8::7");
	assert_int_equal(req.author_ip_af, AF_INET6);
	assert_memory_equal(req.author_ip_addr, v6, 16);
	assert_string_equal(req.body, "comment \"text\"");
	assert_int_equal(req.body_len, 14);
	assert_true(req.dry_run);

	request_comment(&req, &c);
	assert_ptr_equal(c.body, req.body);
	assert_int_equal(c.body_len, 14);
	assert_ptr_equal(c.author_name, req.author_name);
	assert_int_equal(c.author_name_len, 4);
	request_free(&req);
	assert_null(req.buf);
	assert_null(req.body);
	request_free(&req);
	request_free(NULL);
}

static void
test_defaults(void **state)
{
	static const char	 body[] =
	    "{\"id\":\"c\",\"author\":{\"id\":\"u\",\"ip\":\"203.0.113.7\"},"
	    "\"body\":\"\"}";
	static const unsigned char v4[4] = { 203, 0, 113, 7 };
	struct check_request	 req;
	struct request_error	 err;
	struct comment		 c;

	(void)state;
	assert_int_equal(parse(body, strlen(body), &req, &err), 0);
	assert_null(req.site);
	assert_null(req.thread);
	assert_null(req.author_name);
	assert_int_equal(req.author_ip_af, AF_INET);
	assert_memory_equal(req.author_ip_addr, v4, 4);
	assert_false(req.dry_run);
	assert_non_null(req.body);
	assert_int_equal(req.body_len, 0);
	request_comment(&req, &c);
	assert_null(c.author_name);
	request_free(&req);
}

/* A valid body whose field `key` holds n bytes of `fill`. */
static char *
body_with(const char *key, size_t n, char fill)
{
	char	*v, *b;
	size_t	 len;

	v = malloc(n + 1);
	assert_non_null(v);
	memset(v, fill, n);
	v[n] = '\0';
	len = n + 200;
	b = malloc(len);
	assert_non_null(b);
	if (strcmp(key, "id") == 0)
		snprintf(b, len, "{\"id\":\"%s\",\"author\":{\"id\":\"u\"},"
		    "\"body\":\"\"}", v);
	else if (strcmp(key, "author.id") == 0)
		snprintf(b, len, "{\"id\":\"c\",\"author\":{\"id\":\"%s\"},"
		    "\"body\":\"\"}", v);
	else if (strcmp(key, "author.name") == 0)
		snprintf(b, len, "{\"id\":\"c\",\"author\":{\"id\":\"u\","
		    "\"name\":\"%s\"},\"body\":\"\"}", v);
	else
		snprintf(b, len, "{\"id\":\"c\",\"author\":{\"id\":\"u\"},"
		    "\"body\":\"\",\"%s\":\"%s\"}", key, v);
	free(v);
	return b;
}

/* Each bounded field accepts its limit and refuses one byte more. */
static void
test_bounds(void **state)
{
	static const struct {
		const char	*field;
		size_t		 max;
	} bounds[] = {
		{ "id", REQUEST_ID_MAX },
		{ "author.id", REQUEST_ID_MAX },
		{ "author.name", REQUEST_NAME_MAX },
		{ "site", REQUEST_SITE_MAX },
		{ "thread", REQUEST_THREAD_MAX },
	};
	struct check_request	 req;
	struct request_error	 err;
	char			*b;

	(void)state;
	for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
		b = body_with(bounds[i].field, bounds[i].max, 'a');
		if (parse(b, strlen(b), &req, &err) != 0)
			fail_msg("%s at %zu bytes: %s", bounds[i].field,
			    bounds[i].max, err.message);
		request_free(&req);
		free(b);

		b = body_with(bounds[i].field, bounds[i].max + 1, 'a');
		assert_int_equal(parse(b, strlen(b), &req, &err), -1);
		assert_int_equal(err.code, REQUEST_BAD_VALUE);
		assert_string_equal(err.field, bounds[i].field);
		free(b);
	}
}

/* Depth 16 is allowed whatever the brackets; 17 is not. */
static void
test_depth(void **state)
{
	struct check_request	 req;
	struct request_error	 err;
	char			 b[256];
	int			 depth, n, k;

	(void)state;
	for (depth = REQUEST_MAX_DEPTH; depth <= REQUEST_MAX_DEPTH + 1;
	    depth++) {
		/* The top object is level 1, so "x" holds depth - 1 levels. */
		n = snprintf(b, sizeof b, "{\"id\":\"c\"," AUTH ",\"body\":\"\","
		    "\"x\":");
		for (k = 1; k < depth; k++)
			n += snprintf(b + n, sizeof b - (size_t)n, "%s",
			    (k % 2) ? "[" : "{\"k\":");
		n += snprintf(b + n, sizeof b - (size_t)n, "0");
		for (k = depth - 1; k >= 1; k--)
			n += snprintf(b + n, sizeof b - (size_t)n, "%s",
			    (k % 2) ? "]" : "}");
		n += snprintf(b + n, sizeof b - (size_t)n, "}");
		assert_true((size_t)n < sizeof b);
		if (depth <= REQUEST_MAX_DEPTH) {
			if (parse(b, (size_t)n, &req, &err) != 0)
				fail_msg("depth %d: %s", depth, err.message);
			request_free(&req);
		} else {
			assert_int_equal(parse(b, (size_t)n, &req, &err), -1);
			assert_int_equal(err.code, REQUEST_TOO_DEEP);
		}
	}
}

/* A hostile depth is refused without jansson reading it. */
static void
test_deep_is_cheap(void **state)
{
	struct check_request	 req;
	struct request_error	 err;
	size_t			 len = 1 << 20;
	char			*b;

	(void)state;
	b = malloc(len);
	assert_non_null(b);
	memset(b, '[', len);
	assert_int_equal(parse(b, len, &req, &err), -1);
	assert_int_equal(err.code, REQUEST_TOO_DEEP);
	/* The 17th bracket is byte 17: the scan stopped there. */
	assert_non_null(strstr(err.message, "byte 17"));
	free(b);
}

/* The 400 answer a refusal gets, parsed back by jansson. */
static json_t *
error_json(const struct request_error *err)
{
	struct json_writer	 w;
	json_error_t		 jerr;
	json_t			*j;

	json_writer_init(&w);
	request_error_write(err, &w);
	assert_false(w.failed);
	j = json_loadb(w.buf, w.len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		fail_msg("not JSON: %.*s: %s", (int)w.len, w.buf, jerr.text);
	json_writer_free(&w);
	return j;
}

/* The 400 answer: the code, the message, the field, and the id when read. */
static void
test_error_json(void **state)
{
	static const char	 body[] =
	    "{\"id\":\"c-9\",\"author\":{\"id\":\"u\"},\"body\":5}";
	struct check_request	 req;
	struct request_error	 err;
	json_t			*j, *e;

	(void)state;
	assert_int_equal(parse(body, strlen(body), &req, &err), -1);
	assert_string_equal(err.id, "c-9");
	j = error_json(&err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "c-9");
	e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    "bad_type");
	assert_string_equal(json_string_value(json_object_get(e, "field")),
	    "body");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    "\"body\" must be a string, not a number");
	json_decref(j);

	/* Before the id is read there is none to name, and no field. */
	assert_int_equal(parse("[1", 2, &req, &err), -1);
	assert_string_equal(err.id, "");
	j = error_json(&err);
	assert_non_null(j);
	assert_null(json_object_get(j, "id"));
	e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    "invalid_json");
	assert_null(json_object_get(e, "field"));
	print_message("invalid_json message: %s\n",
	    json_string_value(json_object_get(e, "message")));
	json_decref(j);
}

/* A y_ file that a rule of ours refuses on purpose, with the code it gets. */
static const struct {
	const char		*file;
	enum request_code	 code;
} y_refused[] = {
	{ "y_object_duplicated_key.json", REQUEST_DUPLICATE_KEY },
	{ "y_object_duplicated_key_and_value.json", REQUEST_DUPLICATE_KEY },
	{ "y_object_escaped_null_in_key.json", REQUEST_BAD_NUL },
	{ "y_string_null_escape.json", REQUEST_BAD_NUL },
};

/* Reads a whole file; NULL if it cannot be read. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*b = NULL, *nb;
	size_t	 cap = 0, n;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(b, cap)) == NULL)
				break;
			b = nb;
		}
		if ((n = fread(b + *len, 1, cap - *len, f)) == 0)
			break;
		*len += n;
	}
	fclose(f);
	return b;
}

/* Judges one JSONTestSuite file; returns 1 if the outcome is wrong. */
static int
judge(const char *name, const char *b, size_t len)
{
	struct check_request	 req;
	struct request_error	 err;
	int			 rc;
	size_t			 k;

	rc = parse(b, len, &req, &err);
	if (rc == 0)
		request_free(&req);
	if (name[0] == 'n' && rc == 0) {
		print_message("%s: accepted, but it is not JSON\n", name);
		return 1;
	}
	if (name[0] != 'y')
		return 0;
	for (k = 0; k < sizeof y_refused / sizeof y_refused[0]; k++) {
		if (strcmp(name, y_refused[k].file) == 0)
			break;
	}
	if (k < sizeof y_refused / sizeof y_refused[0]) {
		if (err.code == y_refused[k].code)
			return 0;
	} else if (rc == 0 || err.code == REQUEST_BAD_TYPE ||
	    err.code == REQUEST_MISSING_FIELD)
		return 0;
	print_message("%s: %s: %s\n", name, request_code_name(err.code),
	    err.message);
	return 1;
}

static void
test_jsontestsuite(void **state)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[4096], *b;
	size_t		 len, nfiles = 0, ny = 0, nn = 0, bad = 0;

	(void)state;
	if ((d = opendir(JSONTESTSUITE_DIR)) == NULL) {
		print_message("skipped: %s is absent (../shared/data)\n",
		    JSONTESTSUITE_DIR);
		skip();
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", JSONTESTSUITE_DIR,
		    de->d_name);
		if ((b = slurp(path, &len)) == NULL)
			fail_msg("%s: cannot read", path);
		nfiles++;
		ny += de->d_name[0] == 'y';
		nn += de->d_name[0] == 'n';
		bad += (size_t)judge(de->d_name, b, len);
		free(b);
	}
	closedir(d);
	print_message("%zu files (%zu y_, %zu n_), %zu wrong\n", nfiles, ny,
	    nn, bad);
	assert_true(ny > 0 && nn > 0);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_covers_codes),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_deep_is_cheap),
		cmocka_unit_test(test_error_json),
		cmocka_unit_test(test_jsontestsuite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
