/*
 * test_json_writer: strings are escaped as JSON requires and always come out
 * as valid UTF-8, whatever bytes went in; integers and literals as written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "json_writer.h"

static const struct {
	const char	*in;
	size_t		 len;
	const char	*out;
} strings[] = {
	{ "plain", 5, "\"plain\"" },
	{ "", 0, "\"\"" },
	{ "say \"hi\"", 8, "\"say \\\"hi\\\"\"" },
	{ "back\\slash", 10, "\"back\\\\slash\"" },
	{ "a/b", 3, "\"a/b\"" },			/* '/' need not be escaped */
	{ "\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"" },
	{ "\x01\x1f", 2, "\"\\u0001\\u001f\"" },
	{ "\x7f", 1, "\"\x7f\"" },			/* DEL is allowed raw */
	{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
	{ "\xf0\x9f\x98\x80!", 5, "\"\xf0\x9f\x98\x80!\"" },
	/* Not UTF-8: each bad byte becomes U+FFFD. */
	{ "a\xff" "b", 3, "\"a\xef\xbf\xbd" "b\"" },
	{ "\xc3", 1, "\"\xef\xbf\xbd\"" },		/* cut in a character */
	{ "\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },	/* overlong */
	{ "\xed\xa0\x80", 3,				/* a surrogate */
	  "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
	/* A NUL inside the length is text, escaped. */
	{ "a\0b", 3, "\"a\\u0000b\"" },
};

/* Each input string gives exactly its expected JSON text. */
static void
test_strings(void **state)
{
	struct json_writer	w;

	(void)state;
	json_writer_init(&w);
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
		json_writer_reset(&w);
		json_writer_string(&w, strings[i].in, strings[i].len);
		assert_false(w.failed);
		if (w.len != strlen(strings[i].out) ||
		    memcmp(w.buf, strings[i].out, w.len) != 0)
			fail_msg("case %zu: got %.*s, want %s", i, (int)w.len,
			    w.buf, strings[i].out);
	}
	json_writer_free(&w);
}

/* Integers, null, literals, and reuse after reset. */
static void
test_values(void **state)
{
	struct json_writer	w;
	static const char	want[] =
	    "[0,-1,9223372036854775807,-9223372036854775808,null,\"x\"]";

	(void)state;
	json_writer_init(&w);
	json_writer_lit(&w, "garbage");
	json_writer_reset(&w);
	json_writer_lit(&w, "[");
	json_writer_int(&w, 0);
	json_writer_lit(&w, ",");
	json_writer_int(&w, -1);
	json_writer_lit(&w, ",");
	json_writer_int(&w, INT64_MAX);
	json_writer_lit(&w, ",");
	json_writer_int(&w, INT64_MIN);
	json_writer_lit(&w, ",");
	json_writer_cstring(&w, NULL);
	json_writer_lit(&w, ",");
	json_writer_cstring(&w, "x");
	json_writer_lit(&w, "]");
	assert_int_equal(w.len, strlen(want));
	assert_memory_equal(w.buf, want, w.len);
	json_writer_free(&w);
}

/* A long string grows the buffer past its first size and stays intact. */
static void
test_growth(void **state)
{
	struct json_writer	w;
	static char		big[100000];

	(void)state;
	memset(big, '\n', sizeof big);
	json_writer_init(&w);
	json_writer_string(&w, big, sizeof big);
	assert_false(w.failed);
	assert_int_equal(w.len, sizeof big * 2 + 2);
	assert_memory_equal(w.buf + 1, "\\n\\n", 4);
	assert_int_equal(w.buf[w.len - 1], '"');
	json_writer_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
