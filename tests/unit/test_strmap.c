/*
 * The hash table under the word lists: look-ups of present and absent keys
 * across many growths, keys that differ only in length or one byte, the
 * empty key, and values kept when a key is put again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "strmap.h"

static void
test_many_keys(void **state)
{
	struct strmap m;
	char key[32];

	(void)state;
	strmap_init(&m);
	assert_null(strmap_get(&m, "x", 1));
	for (uint32_t i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof key, "k%u", i);
		uint32_t *v = strmap_put(&m, key, (size_t)n, UINT32_MAX);
		assert_int_equal(*v, UINT32_MAX);
		*v = i;
	}
	assert_int_equal(m.n, 20000);
	/* at most half full, so a miss ends quickly */
	assert_true(m.n * 2 <= m.mask + 1);
	for (uint32_t i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof key, "k%u", i);
		const uint32_t *v = strmap_get(&m, key, (size_t)n);
		assert_non_null(v);
		assert_int_equal(*v, i);
		n = snprintf(key, sizeof key, "q%u", i);
		assert_null(strmap_get(&m, key, (size_t)n));
	}
	strmap_free(&m);
}

static void
test_near_keys(void **state)
{
	struct strmap m;

	(void)state;
	strmap_init(&m);
	*strmap_put(&m, "ass", 3, 0) = 1;
	*strmap_put(&m, "as", 2, 0) = 2;
	*strmap_put(&m, "asS", 3, 0) = 3;
	*strmap_put(&m, "", 0, 0) = 4;
	*strmap_put(&m, "a\0b", 3, 0) = 5;
	assert_int_equal(*strmap_get(&m, "ass", 3), 1);
	assert_int_equal(*strmap_get(&m, "as", 2), 2);
	assert_int_equal(*strmap_get(&m, "asS", 3), 3);
	assert_int_equal(*strmap_get(&m, "", 0), 4);
	assert_int_equal(*strmap_get(&m, "a\0b", 3), 5);
	assert_null(strmap_get(&m, "a", 1));
	assert_null(strmap_get(&m, "a\0c", 3));
	/* putting a present key returns its value untouched */
	assert_int_equal(*strmap_put(&m, "ass", 3, 99), 1);
	assert_int_equal(m.n, 5);
	strmap_free(&m);
	strmap_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_near_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
