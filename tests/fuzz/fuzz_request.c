/*
 * fuzz_request: the POST /v1/check decoder on any bytes.
 *
 * Besides crashes and leaks this checks the decoder's promises: an accepted
 * body gives NUL-free UTF-8 strings within their bounds; bytes that are not
 * UTF-8 or hold a NUL are never accepted; every refusal has a code, a UTF-8
 * message and a 400 answer that parses.  jansson, run on the same bytes
 * without our rules, is the referee for the decoder (json_reader and the
 * pre-scan): JSON it accepts is never called invalid_json or bad_utf8 by
 * us, and is called too_deep exactly when it nests deeper than
 * REQUEST_MAX_DEPTH; what it refuses we never accept; and we call a body
 * duplicate_key exactly when jansson with JSON_REJECT_DUPLICATES refuses
 * JSON it otherwise accepts.  json_writer's strings must read back as the
 * text they were written from.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <jansson.h>

#include "request.h"

#include "fuzz_common.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Containers nested in a JSON value: 0 for a scalar, 1 for [] or {}. */
static int
fuzz_depth(json_t *j)
{
	const char	*key;
	json_t		*v;
	size_t		 i;
	int		 d, max = 0;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if ((d = fuzz_depth(v)) > max)
				max = d;
		}
		return max + 1;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if ((d = fuzz_depth(v)) > max)
				max = d;
		}
		return max + 1;
	}
	return 0;
}

/* A string field of an accepted request: NUL-free UTF-8 within bounds. */
static void
fuzz_check_string(const char *s, size_t len, size_t min, size_t max,
    int optional)
{
	if (s == NULL) {
		FUZZ_CHECK(optional && len == 0);
		return;
	}
	FUZZ_CHECK(strlen(s) == len);
	FUZZ_CHECK(len >= min && len <= max);
	FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)s, len));
}

/* json_writer's string, read back by jansson, is the string it was given. */
static void
fuzz_check_writer(const char *s, size_t len)
{
	struct json_writer	 w;
	json_error_t		 jerr;
	json_t			*j;

	json_writer_init(&w);
	json_writer_string(&w, s, len);
	FUZZ_CHECK(!w.failed);
	j = json_loadb(w.buf, w.len, JSON_DECODE_ANY, &jerr);
	FUZZ_CHECK(j != NULL && json_is_string(j));
	FUZZ_CHECK(json_string_length(j) == len &&
	    memcmp(json_string_value(j), s, len) == 0);
	json_decref(j);
	json_writer_free(&w);
}

/* Everything an accepted request promises the server and the engine. */
static void
fuzz_check_request(const struct check_request *req)
{
	struct comment	c;
	size_t		i;

	FUZZ_CHECK(req->buf != NULL);
	fuzz_check_string(req->id, req->id_len, 1, REQUEST_ID_MAX, 0);
	fuzz_check_string(req->site, req->site_len, 1, REQUEST_SITE_MAX, 1);
	for (i = 0; i < req->site_len; i++) {
		char ch = req->site[i];

		FUZZ_CHECK((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    (i > 0 && (ch == '_' || ch == '.' || ch == '-')));
	}
	fuzz_check_string(req->thread, req->thread_len, 0,
	    REQUEST_THREAD_MAX, 1);
	fuzz_check_string(req->author_id, req->author_id_len, 1,
	    REQUEST_ID_MAX, 0);
	fuzz_check_string(req->author_name, req->author_name_len, 0,
	    REQUEST_NAME_MAX, 1);
	if (req->author_ip == NULL)
		FUZZ_CHECK(req->author_ip_af == 0);
	else
		FUZZ_CHECK(req->author_ip_af == AF_INET ||
		    req->author_ip_af == AF_INET6);
	fuzz_check_string(req->body, req->body_len, 0, SIZE_MAX, 0);

	request_comment(req, &c);
	FUZZ_CHECK(c.body == req->body && c.body_len == req->body_len);
	FUZZ_CHECK(c.author_name == req->author_name);
	fuzz_check_writer(req->body, req->body_len);
}

/* Everything a refusal promises the server. */
static void
fuzz_check_error(const struct request_error *err)
{
	struct json_writer	 w;
	json_error_t		 jerr;
	json_t			*j;

	FUZZ_CHECK(err->code > REQUEST_OK && err->code <= REQUEST_NO_MEMORY);
	FUZZ_CHECK(err->message[0] != '\0');
	FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)err->message,
	    strlen(err->message)));
	FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)err->id,
	    strlen(err->id)));
	FUZZ_CHECK(strlen(err->id) <= REQUEST_ID_MAX);
	json_writer_init(&w);
	request_error_write(err, &w);
	FUZZ_CHECK(!w.failed);
	j = json_loadb(w.buf, w.len, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(j != NULL && json_is_object(j));
	json_decref(j);
	json_writer_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_request	 req;
	struct request_error	 err;
	json_error_t		 jerr;
	json_t			*ref;
	int			 rc, clean, fuzz_depth_ok = 1;

	rc = request_parse(data, size, &req, &err);
	clean = fuzz_utf8_valid(data, size) && memchr(data, 0, size) == NULL;
	if (rc == 0) {
		FUZZ_CHECK(clean);
		fuzz_check_request(&req);
		request_free(&req);
		FUZZ_CHECK(req.buf == NULL);
	} else {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(req.buf == NULL);
		fuzz_check_error(&err);
		/* The byte-level classes come first, whatever else is wrong. */
		if (!clean)
			FUZZ_CHECK(err.code == REQUEST_BAD_UTF8 ||
			    err.code == REQUEST_BAD_NUL ||
			    err.code == REQUEST_TOO_DEEP);
	}

	/* The referee: jansson alone, allowing NUL and duplicate keys. */
	ref = json_loadb((const char *)data, size, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, &jerr);
	if (ref != NULL) {
		FUZZ_CHECK(rc == 0 || (err.code != REQUEST_INVALID_JSON &&
		    err.code != REQUEST_BAD_UTF8));
		/* A \u0000 before the depth is found first. */
		fuzz_depth_ok = fuzz_depth(ref) <= REQUEST_MAX_DEPTH;
		if (!fuzz_depth_ok)
			FUZZ_CHECK(rc == -1 && (err.code == REQUEST_TOO_DEEP ||
			    err.code == REQUEST_BAD_NUL));
		else
			FUZZ_CHECK(rc == 0 || err.code != REQUEST_TOO_DEEP);
		json_decref(ref);
		ref = json_loadb((const char *)data, size, JSON_DECODE_ANY |
		    JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
		/* Unless a \u0000 (which jansson was told to allow) came first. */
		if (ref == NULL && clean && fuzz_depth_ok)
			FUZZ_CHECK(rc == -1 && (err.code ==
			    REQUEST_DUPLICATE_KEY || err.code == REQUEST_BAD_NUL));
		else if (ref != NULL)
			FUZZ_CHECK(rc == 0 || err.code != REQUEST_DUPLICATE_KEY);
		json_decref(ref);
	} else if (rc == -1 && (err.code == REQUEST_BAD_TYPE ||
	    err.code == REQUEST_MISSING_FIELD || err.code == REQUEST_BAD_VALUE))
		FUZZ_CHECK(!"jansson refused what we read as JSON");
	else
		FUZZ_CHECK(rc == -1);
	return 0;
}
