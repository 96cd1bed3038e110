/*
 * test_gcra: the rate arithmetic at its boundaries (a burst and the one
 * after it, the retry and the microsecond it ends, probes and refusals that
 * charge nothing, idle keys, periods that do not divide, a million a month,
 * the caps) and the in-process table: exact while it fits, bounded, and
 * evicting the earliest TAT when it does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gcra.h"

/* A wall-clock-like start, so the sums run at the sizes Redis will see. */
#define T0	INT64_C(1700000000000000)
#define SEC	INT64_C(1000000)
#define CAP	(INT64_C(1) << 51)

struct limit_case {
	uint32_t	 count, period_s, burst;
	int64_t		 emission_us, tolerance_us;
};

static const struct limit_case limit_cases[] = {
	{ 5, 600, 2, 120 * SEC, 240 * SEC },		/* 5/10m, burst 2 */
	{ 1, 15, 0, 15 * SEC, 0 },
	{ 3, 10, 0, 3333334, 0 },			/* 3333333.3 up */
	{ 7, 1, 0, 142858, 0 },				/* 142857.14 up */
	{ 7, 1, 3, 142858, 3 * 142858 },
	{ 1000000, 1, 0, 1, 0 },
	{ 1000000, 1, 1000000, 1, 1000000 },
	{ 1000000, 2592000, 0, 2592000, 0 },		/* a million in 30d */
	{ 1000000, 2592000, 1000000, 2592000, INT64_C(2592000000000) },
	{ 1, 2592000, 868, INT64_C(2592000000000), INT64_C(2249856000000000) },
	{ 1, 2592000, 869, INT64_C(2592000000000), CAP },
	{ 1, 2592000, 1000000, INT64_C(2592000000000), CAP },
	{ 1, UINT32_MAX, UINT32_MAX, CAP, CAP },	/* no overflow */
	{ 1, UINT32_MAX, 0, CAP, 0 },
	{ 0, 10, 0, 10 * SEC, 0 },			/* count 0 is 1 */
};

static void
test_limit_init(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof limit_cases / sizeof limit_cases[0];
	    i++) {
		const struct limit_case *c = &limit_cases[i];
		struct gcra_limit l;

		gcra_limit_init(&l, c->count, c->period_s, c->burst);
		if (l.emission_us != c->emission_us ||
		    l.tolerance_us != c->tolerance_us)
			fail_msg("%u/%us burst %u: T %lld tau %lld, want "
			    "%lld %lld", c->count, c->period_s, c->burst,
			    (long long)l.emission_us,
			    (long long)l.tolerance_us,
			    (long long)c->emission_us,
			    (long long)c->tolerance_us);
	}
}

struct step {
	int64_t		 at;		/* microseconds after T0 */
	bool		 charge;
	int		 allowed;
	int64_t		 retry_us;
};

#define MAX_STEPS	13
#define END		{ -1, false, 0, 0 }

struct step_case {
	const char	*name;
	uint32_t	 count, period_s, burst;
	struct step	 steps[MAX_STEPS];
};

static const struct step_case step_cases[] = {
	{ "5/10m burst 2: three at once, then one every 2m", 5, 600, 2, {
		{ 0, true, 1, 0 }, { 0, true, 1, 0 }, { 0, true, 1, 0 },
		{ 0, true, 0, 120 * SEC },
		{ 120 * SEC - 1, true, 0, 1 },
		{ 120 * SEC, true, 1, 0 },		/* exactly at retry */
		{ 120 * SEC, true, 0, 120 * SEC },
		{ 240 * SEC, true, 1, 0 },
		{ 240 * SEC, true, 0, 120 * SEC }, END } },
	{ "burst 0: one, then the retry is the whole interval", 1, 15, 0, {
		{ 0, true, 1, 0 }, { 0, true, 0, 15 * SEC },
		{ 1, true, 0, 15 * SEC - 1 },
		{ 15 * SEC, true, 1, 0 }, { 15 * SEC, true, 0, 15 * SEC },
		END } },
	{ "a probe charges nothing", 1, 15, 0, {
		{ 0, false, 1, 0 }, { 0, false, 1, 0 }, { 0, false, 1, 0 },
		{ 0, true, 1, 0 },
		{ 0, false, 0, 15 * SEC }, { 5 * SEC, false, 0, 10 * SEC },
		{ 15 * SEC, false, 1, 0 }, { 15 * SEC, true, 1, 0 },
		{ 15 * SEC, false, 0, 15 * SEC }, END } },
	{ "a refusal charges nothing: its retry does not move", 1, 1, 0, {
		{ 0, true, 1, 0 },
		{ SEC / 2, true, 0, SEC / 2 }, { SEC / 2, true, 0, SEC / 2 },
		{ SEC / 2, true, 0, SEC / 2 }, { SEC - 1, true, 0, 1 },
		{ SEC, true, 1, 0 }, END } },
	{ "partial recovery: after 4m of 6m, two again", 5, 600, 2, {
		{ 0, true, 1, 0 }, { 0, true, 1, 0 }, { 0, true, 1, 0 },
		{ 240 * SEC, true, 1, 0 }, { 240 * SEC, true, 1, 0 },
		{ 240 * SEC, true, 0, 120 * SEC }, END } },
	{ "a long idle resets the burst", 5, 600, 2, {
		{ 0, true, 1, 0 }, { 0, true, 1, 0 }, { 0, true, 1, 0 },
		{ 0, true, 0, 120 * SEC },
		{ 360 * SEC, true, 1, 0 }, { 360 * SEC, true, 1, 0 },
		{ 360 * SEC, true, 1, 0 }, { 360 * SEC, true, 0, 120 * SEC },
		{ 3650 * 86400 * SEC, true, 1, 0 },
		{ 3650 * 86400 * SEC, true, 1, 0 },
		{ 3650 * 86400 * SEC, true, 1, 0 },
		{ 3650 * 86400 * SEC, true, 0, 120 * SEC }, END } },
	{ "3/10s: T rounds up, so never four in ten seconds", 3, 10, 0, {
		{ 0, true, 1, 0 }, { 3333333, true, 0, 1 },
		{ 3333334, true, 1, 0 }, { 6666667, true, 0, 1 },
		{ 6666668, true, 1, 0 }, { 9999999, true, 0, 3 },
		{ 10000001, true, 0, 1 }, { 10000002, true, 1, 0 }, END } },
	{ "1,000,000/1s: one a microsecond", 1000000, 1, 0, {
		{ 0, true, 1, 0 }, { 0, true, 0, 1 }, { 1, true, 1, 0 },
		{ 1, true, 0, 1 }, { 2, true, 1, 0 }, END } },
	{ "1,000,000/30d: one every 2.592s", 1000000, 2592000, 0, {
		{ 0, true, 1, 0 }, { 0, true, 0, 2592000 },
		{ 2591999, true, 0, 1 }, { 2592000, true, 1, 0 }, END } },
};

static void
test_steps(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof step_cases / sizeof step_cases[0];
	    i++) {
		const struct step_case *c = &step_cases[i];
		struct gcra_limit l;
		int64_t tat = 0, before, retry;

		gcra_limit_init(&l, c->count, c->period_s, c->burst);
		for (size_t j = 0; c->steps[j].at != -1; j++) {
			const struct step *s = &c->steps[j];
			int r;

			assert_true(j < MAX_STEPS - 1);
			before = tat;
			retry = -1;
			r = gcra_step(&tat, T0 + s->at, &l, s->charge, &retry);
			if (r != s->allowed || retry != s->retry_us)
				fail_msg("%s, step %zu: %d retry %lld, want %d "
				    "retry %lld", c->name, j, r,
				    (long long)retry, s->allowed,
				    (long long)s->retry_us);
			/* Only an allowed charge moves TAT, and only later. */
			if (!(r == 1 && s->charge))
				assert_int_equal(tat, before);
			else
				assert_true(tat > before && tat > T0 + s->at);
		}
	}
}

/* Every limit passes exactly floor(tau / T) at once, then waits. */
static void
test_burst_then_wait(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof limit_cases / sizeof limit_cases[0];
	    i++) {
		const struct limit_case *c = &limit_cases[i];
		struct gcra_limit l;
		int64_t tat = 0, retry, n, want;

		gcra_limit_init(&l, c->count, c->period_s, c->burst);
		want = l.tolerance_us / l.emission_us + 1;
		if (want > 2000000)
			continue;
		/* burst + 1 where the cap does not bite */
		if (l.tolerance_us < CAP)
			assert_int_equal(want, (int64_t)c->burst + 1);
		for (n = 0; gcra_step(&tat, T0, &l, true, &retry) == 1; n++)
			assert_true(n < want);
		assert_int_equal(n, want);
		assert_int_equal(retry, want * l.emission_us - l.tolerance_us);
		if (l.tolerance_us < CAP)
			assert_int_equal(retry, l.emission_us);
		assert_int_equal(gcra_step(&tat, T0 + retry - 1, &l, true,
		    &retry), 0);
		assert_int_equal(retry, 1);
		assert_int_equal(gcra_step(&tat, T0 + want * l.emission_us -
		    l.tolerance_us, &l, true, &retry), 1);
		assert_int_equal(retry, 0);
	}
}

/* The capped limit: 869 at once, and the wait the cap leaves. */
static void
test_capped(void **state)
{
	struct gcra_limit l;
	int64_t tat = 0, retry = 0;
	int n = 0;

	(void)state;
	gcra_limit_init(&l, 1, 2592000, 1000000);
	while (gcra_step(&tat, T0, &l, true, &retry) == 1)
		n++;
	assert_int_equal(n, 869);
	assert_int_equal(retry, INT64_C(648186314752));
	/* The sums the Lua script repeats stay exact in a double. */
	assert_true(tat + l.emission_us < (INT64_C(1) << 53));
}

/* Table and a plain array of TATs agree while every key fits. */
static void
test_table_exact(void **state)
{
	enum { NKEYS = 64, NSTEPS = 200000 };
	struct gcra_limit lims[3];
	int64_t ref[NKEYS][3], now = T0, ra, rb;
	struct gcra_table *t = gcra_table_new(NKEYS * 3);
	char key[32];
	unsigned seed = 12345;

	(void)state;
	memset(ref, 0, sizeof ref);
	gcra_limit_init(&lims[0], 5, 600, 2);
	gcra_limit_init(&lims[1], 3, 10, 0);
	gcra_limit_init(&lims[2], 100, 1, 10);
	for (int i = 0; i < NSTEPS; i++) {
		int k = rand_r(&seed) % NKEYS, li = rand_r(&seed) % 3;
		bool charge = rand_r(&seed) % 4 != 0;
		int a, b, n;

		/* Mostly small steps, sometimes a long idle. */
		now += rand_r(&seed) % 100 == 0 ? 3600 * SEC :
		    rand_r(&seed) % 200000;
		n = snprintf(key, sizeof key, "lim%d:key%d", li, k);
		a = gcra_table_step(t, key, (size_t)n, now, &lims[li], charge,
		    &ra);
		b = gcra_step(&ref[k][li], now, &lims[li], charge, &rb);
		if (a != b || ra != rb)
			fail_msg("step %d key %s: table %d/%lld, exact %d/%lld",
			    i, key, a, (long long)ra, b, (long long)rb);
		assert_true(gcra_table_count(t) <= NKEYS * 3);
	}
	gcra_table_free(t);
	gcra_table_free(NULL);
}

/* Full of live keys: the earliest TAT goes, the others stay exact. */
static void
test_table_evicts_earliest(void **state)
{
	struct gcra_table *t = gcra_table_new(4);
	struct gcra_limit l;
	int64_t retry;
	const char *keys[] = { "a", "b", "c", "d", "e" };

	(void)state;
	gcra_limit_init(&l, 1, 10, 0);
	/* TATs T0+10s, +11s, +12s, +13s, then e at +4s makes room. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(gcra_table_step(t, keys[i], 1, T0 + i * SEC,
		    &l, true, &retry), 1);
	assert_int_equal(gcra_table_count(t), 4);
	/* a was forgotten: allowed again; b..e still limited, exactly. */
	assert_int_equal(gcra_table_step(t, "a", 1, T0 + 4 * SEC, &l, false,
	    &retry), 1);
	for (int i = 1; i < 5; i++) {
		assert_int_equal(gcra_table_step(t, keys[i], 1, T0 + 4 * SEC,
		    &l, false, &retry), 0);
		assert_int_equal(retry, (10 + i - 4) * SEC);
	}
	/* A probe and a refusal store nothing, so they evict nothing. */
	assert_int_equal(gcra_table_step(t, "probe", 5, T0 + 4 * SEC, &l,
	    false, &retry), 1);
	assert_int_equal(gcra_table_count(t), 4);
	assert_int_equal(gcra_table_step(t, "b", 1, T0 + 4 * SEC, &l, true,
	    &retry), 0);
	assert_int_equal(gcra_table_count(t), 4);
	/* A charge on a present key moves it, so c is now the earliest. */
	assert_int_equal(gcra_table_step(t, "b", 1, T0 + 11 * SEC, &l, true,
	    &retry), 1);
	assert_int_equal(gcra_table_step(t, "f", 1, T0 + 11 * SEC, &l, true,
	    &retry), 1);
	assert_int_equal(gcra_table_step(t, "c", 1, T0 + 11 * SEC, &l, false,
	    &retry), 1);
	assert_int_equal(gcra_table_step(t, "d", 1, T0 + 11 * SEC, &l, false,
	    &retry), 0);
	assert_int_equal(retry, 2 * SEC);
	assert_int_equal(gcra_table_step(t, "b", 1, T0 + 11 * SEC, &l, false,
	    &retry), 0);
	assert_int_equal(retry, 10 * SEC);
	gcra_table_free(t);
}

/* Past entries go first and are dropped as steps pass; live ones stay. */
static void
test_table_past_first(void **state)
{
	struct gcra_table *t = gcra_table_new(4);
	struct gcra_limit hour, ten;
	int64_t retry;

	(void)state;
	gcra_limit_init(&hour, 1, 3600, 0);
	gcra_limit_init(&ten, 1, 10, 0);
	assert_int_equal(gcra_table_step(t, "long", 4, T0, &hour, true,
	    &retry), 1);
	assert_int_equal(gcra_table_step(t, "s1", 2, T0, &ten, true, &retry),
	    1);
	assert_int_equal(gcra_table_step(t, "s2", 2, T0 + 1, &ten, true,
	    &retry), 1);
	assert_int_equal(gcra_table_step(t, "s3", 2, T0 + 2, &ten, true,
	    &retry), 1);
	assert_int_equal(gcra_table_count(t), 4);
	/* At +20s the s keys say nothing; a new key never costs "long". */
	assert_int_equal(gcra_table_step(t, "new", 3, T0 + 20 * SEC, &ten,
	    true, &retry), 1);
	assert_int_equal(gcra_table_step(t, "x", 1, T0 + 20 * SEC, &ten,
	    false, &retry), 1);
	assert_int_equal(gcra_table_count(t), 2);
	assert_int_equal(gcra_table_step(t, "long", 4, T0 + 20 * SEC, &hour,
	    false, &retry), 0);
	assert_int_equal(retry, 3580 * SEC);
	assert_int_equal(gcra_table_step(t, "new", 3, T0 + 20 * SEC, &ten,
	    false, &retry), 0);
	assert_int_equal(retry, 10 * SEC);
	gcra_table_free(t);
}

/*
 * The eviction rule, written the slow way: before each step up to two
 * past entries go, earliest first; a new key in a full table evicts the
 * earliest TAT.  With burst 0 and every step at its own microsecond no two
 * TATs tie, so the table must agree with this model step for step.
 */
#define MODEL_MAX	50

struct model {
	int		 key[MODEL_MAX];
	int64_t		 tat[MODEL_MAX];
	size_t		 n;
	size_t		 evicted_live;
};

static size_t
model_earliest(const struct model *m)
{
	size_t min = 0;

	for (size_t i = 1; i < m->n; i++)
		if (m->tat[i] < m->tat[min])
			min = i;
	return min;
}

static void
model_remove(struct model *m, size_t i)
{
	m->n--;
	m->key[i] = m->key[m->n];
	m->tat[i] = m->tat[m->n];
}

static int
model_step(struct model *m, int key, int64_t now, const struct gcra_limit *l,
    bool charge, int64_t *retry)
{
	size_t i;
	int64_t tat = 0;
	int r;

	for (int k = 0; k < 2 && m->n > 0; k++) {
		if (m->tat[i = model_earliest(m)] > now)
			break;
		model_remove(m, i);
	}
	for (i = 0; i < m->n && m->key[i] != key; i++)
		;
	if (i < m->n)
		tat = m->tat[i];
	r = gcra_step(&tat, now, l, charge, retry);
	if (r == 0 || !charge)
		return r;
	if (i == m->n && m->n == MODEL_MAX) {
		size_t e = model_earliest(m);

		if (m->tat[e] > now)
			m->evicted_live++;
		model_remove(m, e);
		i = m->n;
	}
	if (i == m->n)
		m->key[m->n++] = key;
	m->tat[i] = tat;
	return r;
}

static void
test_table_model(void **state)
{
	struct gcra_table *t = gcra_table_new(MODEL_MAX);
	struct model m;
	struct gcra_limit l;
	int64_t now = T0, ra, rb;
	char key[32];
	unsigned seed = 7;

	(void)state;
	memset(&m, 0, sizeof m);
	gcra_limit_init(&l, 1, 1, 0);
	for (int i = 0; i < 300000; i++) {
		int k = rand_r(&seed) % 200, n, a, b;
		bool charge = rand_r(&seed) % 5 != 0;

		now += 1 + rand_r(&seed) % 20000;
		n = snprintf(key, sizeof key, "key%d", k);
		a = gcra_table_step(t, key, (size_t)n, now, &l, charge, &ra);
		b = model_step(&m, k, now, &l, charge, &rb);
		if (a != b || ra != rb || gcra_table_count(t) != m.n)
			fail_msg("step %d key %d: table %d/%lld n %zu, model "
			    "%d/%lld n %zu", i, k, a, (long long)ra,
			    gcra_table_count(t), b, (long long)rb, m.n);
	}
	/* The run did reach the bound and evict live keys, often. */
	assert_true(m.evicted_live > 1000);
	gcra_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_init),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_burst_then_wait),
		cmocka_unit_test(test_capped),
		cmocka_unit_test(test_table_exact),
		cmocka_unit_test(test_table_evicts_earliest),
		cmocka_unit_test(test_table_past_first),
		cmocka_unit_test(test_table_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
