/*
 * test_spool: the spool file on a real file system.  Round trips and the
 * bytes on disk; consumption, emptying and reopening; a torn tail cut at
 * every byte offset; damage in the middle set aside with every good record
 * around it kept; failures that must leave the file as it was: max_bytes,
 * RLIMIT_FSIZE (a real partial write), a full tmpfs (ENOSPC) and a
 * read-only one, in a child in its own mount namespace (skipped where the
 * kernel allows none); and a writer killed at random moments.
 */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "spool.h"

#define HDR	SPOOL_HEADER_SIZE

struct fixture {
	char	 dir[256];
	char	 path[300];
};

/* Each test gets an empty directory of its own. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "%s/test_spool.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/spool", f->dir);
	*state = f;
	return 0;
}

/* Removes every file in dir (the tests make no subdirectories but one). */
static void
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (unlink(p) == -1)
			rmdir(p);
	}
	closedir(d);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	empty_dir(f->dir);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The whole file, malloc'd (never NULL), or NULL if it cannot be read. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, fp);
	fclose(fp);
	return b;
}

static void
spit(const char *path, const void *b, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(b, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* How many files in dir have `part` in their name. */
static int
count_files(const char *dir, const char *part)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, part) != NULL)
			n++;
	closedir(d);
	return n;
}

/* spool_open with stderr caught in log (log.c writes warnings there). */
static struct spool *
open_logged(const char *path, uint64_t max, char **cause, char *log,
    size_t logsz)
{
	struct spool *s;
	char name[] = "/tmp/test_spool_log.XXXXXX";
	int fd = mkstemp(name), saved = dup(2);
	ssize_t n;

	assert_true(fd != -1 && saved != -1);
	unlink(name);
	fflush(stderr);
	dup2(fd, 2);
	s = spool_open(path, max, cause);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, log, logsz - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
	return s;
}

/* Opens, failing the test with the cause if it cannot. */
static struct spool *
must_open(const char *path, uint64_t max)
{
	char *cause = NULL;
	struct spool *s = spool_open(path, max, &cause);

	if (s == NULL)
		fail_msg("spool_open %s: %s", path, cause);
	return s;
}

/* Peeks, checks against want, consumes. */
static void
expect_record(struct spool *s, const void *want, size_t wlen)
{
	void *d;
	size_t len;

	assert_int_equal(spool_peek(s, &d, &len), 1);
	assert_non_null(d);
	assert_int_equal(len, wlen);
	assert_memory_equal(d, want, wlen);
	free(d);
	assert_int_equal(spool_consume(s), 0);
}

/* Bitwise CRC32C, the slow way, to check the documented format. */
static uint32_t
crc32c_ref(const uint8_t *p, size_t n, uint32_t crc)
{
	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static const char *const texts[] = {
	"", "a", "{\"id\":\"c-1\",\"body\":\"Привет\"}", "second record",
	"a longer record that spans more than one line of this file....",
	"x",
};
#define NTEXTS	(sizeof texts / sizeof texts[0])

/* Appends every text; returns the offsets where each record starts. */
static void
append_texts(struct spool *s, uint64_t *starts)
{
	uint64_t off = 0;

	for (size_t i = 0; i < NTEXTS; i++) {
		if (starts != NULL)
			starts[i] = off;
		assert_int_equal(spool_append(s, texts[i], strlen(texts[i])),
		    0);
		off += HDR + strlen(texts[i]);
		assert_int_equal(spool_size(s), off);
		assert_int_equal(spool_pending(s), i + 1);
	}
	if (starts != NULL)
		starts[NTEXTS] = off;
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, 1 << 24);
	uint8_t *big = malloc(SPOOL_RECORD_MAX + 1), bin[256];
	void *d, *d2;
	size_t len, len2;
	struct stat st;

	for (int i = 0; i < 256; i++)
		bin[i] = (uint8_t)i;
	memset(big, 'q', SPOOL_RECORD_MAX + 1);
	assert_int_equal(spool_peek(s, &d, &len), 0);
	assert_int_equal(spool_consume(s), -1);
	assert_int_equal(errno, EINVAL);
	append_texts(s, NULL);
	assert_int_equal(spool_append(s, bin, sizeof bin), 0);
	assert_int_equal(spool_append(s, big, SPOOL_RECORD_MAX), 0);
	/* One byte over the record limit: refused, nothing written. */
	len = spool_size(s);
	assert_int_equal(spool_append(s, big, SPOOL_RECORD_MAX + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(spool_size(s), len);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, len);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* A peek does not consume: twice gives the same record. */
	assert_int_equal(spool_peek(s, &d, &len), 1);
	assert_int_equal(spool_peek(s, &d2, &len2), 1);
	assert_int_equal(len, 0);
	assert_int_equal(len2, 0);
	free(d);
	free(d2);
	assert_int_equal(spool_consume(s), 0);
	assert_int_equal(spool_consume(s), -1);	/* not peeked again */
	for (size_t i = 1; i < NTEXTS; i++)
		expect_record(s, texts[i], strlen(texts[i]));
	expect_record(s, bin, sizeof bin);
	assert_int_equal(spool_pending(s), 1);
	assert_true(spool_size(s) > 0);
	expect_record(s, big, SPOOL_RECORD_MAX);
	/* The last consume empties the file. */
	assert_int_equal(spool_pending(s), 0);
	assert_int_equal(spool_size(s), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(spool_peek(s, &d, &len), 0);
	spool_close(s);
	spool_close(NULL);
	free(big);
}

/* The bytes on disk are what spool.h says, checksum included. */
static void
test_format(void **state)
{
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, 1 << 20);
	const char *p = "{\"id\":\"c-1\"}";
	uint8_t *b, want[64];
	size_t len, n = strlen(p);
	uint32_t crc;

	assert_int_equal(crc32c_ref((const uint8_t *)"123456789", 9, 0),
	    0xe3069283u);
	assert_int_equal(spool_append(s, p, n), 0);
	spool_close(s);
	memcpy(want, "\xff" "CS1", 4);
	want[4] = (uint8_t)n;
	want[5] = want[6] = want[7] = 0;
	crc = crc32c_ref(want + 4, 4, 0);
	crc = crc32c_ref((const uint8_t *)p, n, crc);
	for (int i = 0; i < 4; i++)
		want[8 + i] = (uint8_t)(crc >> (8 * i));
	memcpy(want + HDR, p, n);
	b = slurp(f->path, &len);
	assert_int_equal(len, HDR + n);
	assert_memory_equal(b, want, len);
	free(b);
}

/* Consumption lives in memory: a reopen replays, and appends interleave. */
static void
test_reopen(void **state)
{
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, 1 << 20);
	uint64_t size;

	append_texts(s, NULL);
	size = spool_size(s);
	expect_record(s, texts[0], 0);
	expect_record(s, texts[1], 1);
	spool_close(s);

	s = must_open(f->path, 1 << 20);
	assert_int_equal(spool_pending(s), NTEXTS);
	assert_int_equal(spool_size(s), size);
	expect_record(s, texts[0], 0);
	/* An append during replay goes after the rest, and is kept. */
	assert_int_equal(spool_append(s, "late", 4), 0);
	assert_int_equal(spool_pending(s), NTEXTS);
	for (size_t i = 1; i < NTEXTS; i++)
		expect_record(s, texts[i], strlen(texts[i]));
	expect_record(s, "late", 4);
	assert_int_equal(spool_size(s), 0);
	assert_int_equal(spool_append(s, "after", 5), 0);
	spool_close(s);

	s = must_open(f->path, 1 << 20);
	assert_int_equal(spool_pending(s), 1);
	expect_record(s, "after", 5);
	spool_close(s);
	s = must_open(f->path, 1 << 20);
	assert_int_equal(spool_pending(s), 0);
	spool_close(s);
}

/*
 * A crash while appending leaves a prefix of the last record: for every
 * byte offset, the open keeps exactly the complete records, cuts the rest
 * with a warning, and sets nothing aside.  The same with the rest of the
 * last record zeroed, as a file system may leave it.
 */
static void
test_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, 1 << 20);
	uint64_t starts[NTEXTS + 1];
	uint8_t *full, *b;
	size_t len, blen;
	char log[4096], *cause;

	append_texts(s, starts);
	spool_close(s);
	full = slurp(f->path, &len);
	assert_int_equal(len, starts[NTEXTS]);
	for (int zeroed = 0; zeroed < 2; zeroed++) {
		for (size_t k = 0; k <= len; k++) {
			size_t keep = 0, end = 0;

			while (keep < NTEXTS && starts[keep + 1] <= k)
				keep++;
			end = starts[keep];
			spit(f->path, full, k);
			if (zeroed && k < len) {
				/* the torn record, its tail zeroed */
				uint8_t *z = calloc(1, starts[keep + 1]);

				memcpy(z, full, k);
				spit(f->path, z, starts[keep + 1]);
				free(z);
			}
			s = open_logged(f->path, 1 << 20, &cause, log,
			    sizeof log);
			if (s == NULL)
				fail_msg("offset %zu: %s", k, cause);
			assert_int_equal(spool_pending(s), keep);
			assert_int_equal(spool_size(s), end);
			b = slurp(f->path, &blen);
			assert_int_equal(blen, end);
			free(b);
			if ((end != k || (zeroed && k < len)) != (strstr(log,
			    "interrupted append") != NULL))
				fail_msg("offset %zu: log \"%s\"", k, log);
			for (size_t i = 0; i < keep; i++)
				expect_record(s, texts[i], strlen(texts[i]));
			spool_close(s);
			assert_int_equal(count_files(f->dir, "unreadable"), 0);
		}
	}
	free(full);
}

/* How a test damages the file: at record `rec` plus `at`, do `what`. */
enum damage_kind { FLIP, SET32, INSERT, INSERT_FAKE };

struct damage_case {
	const char	*name;
	size_t		 rec;
	size_t		 at;
	enum damage_kind what;
	uint32_t	 value;		/* SET32: the field; INSERT: bytes */
	size_t		 rec2;		/* a second damaged record, or 0 */
};

static const struct damage_case damage_cases[] = {
	{ "payload byte", 3, HDR + 2, FLIP, 0, 0 },
	{ "magic", 3, 0, FLIP, 0, 0 },
	{ "magic's FF", 3, 0, SET32, 0x3153437e, 0 },
	{ "checksum", 3, 9, FLIP, 0, 0 },
	{ "length over the limit", 3, 4, SET32, SPOOL_RECORD_MAX + 1, 0 },
	{ "length past the end", 3, 4, SET32, 100000, 0 },
	{ "length one short", 3, 4, SET32, 12, 0 },
	{ "length one long", 3, 4, SET32, 14, 0 },
	{ "the first record", 0, 0, FLIP, 0, 0 },
	{ "an empty record's checksum", 0, 8, FLIP, 0, 0 },
	{ "garbage between records", 3, 0, INSERT, 14, 0 },
	{ "garbage with a magic in it", 3, 0, INSERT_FAKE, 8, 0 },
	{ "one byte of garbage", 5, 0, INSERT, 1, 0 },
	{ "two records", 1, HDR, FLIP, 0, 3 },
};

/* The damaged file and the ranges the open must set aside. */
static size_t
damage(const struct damage_case *c, const uint8_t *full, size_t len,
    const uint64_t *starts, uint8_t *out, uint64_t aside[2][2])
{
	size_t o = starts[c->rec] + c->at, n = len;

	memcpy(out, full, len);
	aside[0][0] = starts[c->rec];
	aside[0][1] = starts[c->rec + 1];
	aside[1][0] = aside[1][1] = 0;
	switch (c->what) {
	case FLIP:
		out[o] ^= 0x20;
		break;
	case SET32:
		for (int i = 0; i < 4; i++)
			out[o + i] = (uint8_t)(c->value >> (8 * i));
		break;
	case INSERT:
	case INSERT_FAKE:
		memmove(out + o + c->value, out + o, len - o);
		memset(out + o, 'Z', c->value);
		if (c->what == INSERT_FAKE)
			memcpy(out + o + 2, "\xff" "CS1\x01", 5);
		n = len + c->value;
		aside[0][1] = o + c->value;
		break;
	}
	if (c->rec2 != 0) {
		out[starts[c->rec2] + HDR] ^= 0x01;
		aside[1][0] = starts[c->rec2];
		aside[1][1] = starts[c->rec2 + 1];
	}
	return n;
}

/* The set-aside file for bytes [a, b) of buf, as spool.h names it. */
static void
aside_name(char *name, size_t sz, const char *path, const uint8_t *buf,
    uint64_t a, uint64_t b)
{
	snprintf(name, sz, "%s.unreadable-%llu-%llu-%08x", path,
	    (unsigned long long)a, (unsigned long long)(b - a),
	    crc32c_ref(buf + a, b - a, 0));
}

static void
test_damage_in_the_middle(void **state)
{
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, 1 << 20);
	uint64_t starts[NTEXTS + 1], aside[2][2];
	uint8_t *full, *bad, *b;
	size_t len, n, blen;
	char log[4096], name[600], *cause;

	append_texts(s, starts);
	spool_close(s);
	full = slurp(f->path, &len);
	bad = malloc(len + 64);
	for (size_t i = 0; i < sizeof damage_cases / sizeof damage_cases[0];
	    i++) {
		const struct damage_case *c = &damage_cases[i];
		bool insert = c->what == INSERT || c->what == INSERT_FAKE;
		size_t lost = insert ? 0 : 1 + (c->rec2 != 0);

		empty_dir(f->dir);
		n = damage(c, full, len, starts, bad, aside);
		spit(f->path, bad, n);
		for (int again = 0; again < 2; again++) {
			s = open_logged(f->path, 1 << 20, &cause, log,
			    sizeof log);
			if (s == NULL)
				fail_msg("%s: %s", c->name, cause);
			if (spool_pending(s) != NTEXTS - lost ||
			    strstr(log, "set aside") == NULL)
				fail_msg("%s: %zu pending, log \"%s\"", c->name,
				    spool_pending(s), log);
			for (int k = 0; k < 2 && aside[k][1] != 0; k++) {
				aside_name(name, sizeof name, f->path, bad,
				    aside[k][0], aside[k][1]);
				b = slurp(name, &blen);
				if (b == NULL)
					fail_msg("%s: no %s", c->name, name);
				assert_int_equal(blen,
				    aside[k][1] - aside[k][0]);
				assert_memory_equal(b, bad + aside[k][0], blen);
				free(b);
			}
			/* Set aside once: a second open finds the copy. */
			assert_int_equal(count_files(f->dir, "unreadable"),
			    1 + (c->rec2 != 0));
			assert_int_equal(count_files(f->dir, ".tmp"), 0);
			/* The spool itself is not touched until it empties. */
			b = slurp(f->path, &blen);
			assert_int_equal(blen, n);
			assert_memory_equal(b, bad, n);
			free(b);
			if (again == 0) {
				spool_close(s);
				continue;
			}
			for (size_t r = 0; r < NTEXTS; r++)
				if (insert || (r != c->rec &&
				    (c->rec2 == 0 || r != c->rec2)))
					expect_record(s, texts[r],
					    strlen(texts[r]));
			assert_int_equal(spool_size(s), 0);
			spool_close(s);
		}
		assert_int_equal(count_files(f->dir, "unreadable"),
		    1 + (c->rec2 != 0));
	}
	free(bad);
	free(full);
}

/*
 * Large records and damage far apart: the search for the next good record
 * crosses its read window and the largest record, through random payloads
 * full of FF bytes that start no record.
 */
static void
test_damage_large(void **state)
{
	enum { N = 40 };
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, UINT64_MAX);
	size_t sizes[N], bad[] = { 0, 1, 20 }, flip[] = { 0, 5, 9 };
	uint64_t starts[N + 1], off = 0;
	uint8_t *p = malloc(SPOOL_RECORD_MAX), *full;
	unsigned seed = 99;
	size_t len;

	for (size_t i = 0; i < SPOOL_RECORD_MAX; i++)
		p[i] = (uint8_t)rand_r(&seed);
	for (size_t i = 0; i < N; i++) {
		/* Record i is p[i...]: the largest first and last. */
		sizes[i] = i == 0 || i == N - 1 ? SPOOL_RECORD_MAX - i :
		    i == 1 ? 70000 : 3000 + i;
		starts[i] = off;
		assert_int_equal(spool_append(s, p + i, sizes[i]), 0);
		off += HDR + sizes[i];
	}
	starts[N] = off;
	spool_close(s);
	full = slurp(f->path, &len);
	assert_int_equal(len, off);
	for (size_t k = 0; k < 3; k++)
		full[starts[bad[k]] + flip[k]] ^= 0x10;
	spit(f->path, full, len);

	s = must_open(f->path, UINT64_MAX);
	assert_int_equal(spool_pending(s), N - 3);
	/* Records 0 and 1 touch: one range. */
	assert_int_equal(count_files(f->dir, "unreadable"), 2);
	for (size_t k = 0; k < 2; k++) {
		uint64_t a = starts[k == 0 ? 0 : 20];
		uint64_t b = starts[k == 0 ? 2 : 21];
		char name[600];
		uint8_t *copy;
		size_t clen;

		aside_name(name, sizeof name, f->path, full, a, b);
		assert_non_null(copy = slurp(name, &clen));
		assert_int_equal(clen, b - a);
		assert_memory_equal(copy, full + a, clen);
		free(copy);
	}
	for (size_t i = 0; i < N; i++)
		if (i != 0 && i != 1 && i != 20)
			expect_record(s, p + i, sizes[i]);
	assert_int_equal(spool_size(s), 0);
	spool_close(s);
	free(full);
	free(p);
}

/*
 * The crash windows of setting aside: a half-written NAME.tmp is redone,
 * and a NAME that is not the copy (wrong size) makes the open fail, file
 * untouched, rather than lose the bytes.
 */
static void
test_set_aside_crash(void **state)
{
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, 1 << 20);
	uint64_t starts[NTEXTS + 1];
	uint8_t *full, *b;
	size_t len, blen;
	char name[600], tmp[620], *cause = NULL;

	append_texts(s, starts);
	spool_close(s);
	full = slurp(f->path, &len);
	full[starts[2] + HDR] ^= 1;
	spit(f->path, full, len);
	aside_name(name, sizeof name, f->path, full, starts[2], starts[3]);
	snprintf(tmp, sizeof tmp, "%s.tmp", name);

	spit(tmp, "half", 4);
	s = must_open(f->path, 1 << 20);
	assert_int_equal(spool_pending(s), NTEXTS - 1);
	spool_close(s);
	b = slurp(name, &blen);
	assert_non_null(b);
	assert_int_equal(blen, starts[3] - starts[2]);
	assert_memory_equal(b, full + starts[2], blen);
	free(b);
	assert_int_equal(count_files(f->dir, ".tmp"), 0);

	spit(name, "not the copy", 12);
	s = spool_open(f->path, 1 << 20, &cause);
	assert_null(s);
	assert_non_null(strstr(cause, "is not a copy"));
	free(cause);
	b = slurp(f->path, &blen);
	assert_int_equal(blen, len);
	assert_memory_equal(b, full, len);
	free(b);
	free(full);
}

/* Bytes that decay after the open: the peek says so and consumes nothing. */
static void
test_decay_after_open(void **state)
{
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, 1 << 20);
	uint64_t starts[NTEXTS + 1];
	void *d;
	size_t len;
	int fd;

	append_texts(s, starts);
	expect_record(s, texts[0], 0);
	assert_true((fd = open(f->path, O_WRONLY)) != -1);
	assert_int_equal(pwrite(fd, "?", 1, starts[1] + HDR), 1);
	assert_int_equal(spool_peek(s, &d, &len), -1);
	assert_int_equal(errno, EBADMSG);
	assert_null(d);
	assert_int_equal(spool_consume(s), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_pending(s), NTEXTS - 1);
	/* Put back, the same record comes out. */
	assert_int_equal(pwrite(fd, "a", 1, starts[1] + HDR), 1);
	close(fd);
	expect_record(s, texts[1], 1);
	spool_close(s);
}

/* max_bytes: the append that would pass it fails EFBIG, file unchanged. */
static void
test_max_bytes(void **state)
{
	struct fixture *f = *state;
	uint64_t max = 3 * (HDR + 10) + HDR + 9;
	struct spool *s = must_open(f->path, max);
	uint8_t *before, *after;
	size_t blen, alen;

	assert_int_equal(spool_error(s), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(spool_append(s, "0123456789", 10), 0);
	before = slurp(f->path, &blen);
	assert_int_equal(spool_append(s, "0123456789", 10), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(spool_error(s), EFBIG);
	after = slurp(f->path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, alen);
	free(after);
	assert_int_equal(spool_pending(s), 3);
	/* What fits still fits, exactly up to max_bytes. */
	assert_int_equal(spool_append(s, "012345678", 9), 0);
	assert_int_equal(spool_error(s), 0);
	assert_int_equal(spool_size(s), max);
	assert_int_equal(spool_append(s, "", 0), -1);
	for (int i = 0; i < 3; i++)
		expect_record(s, "0123456789", 10);
	expect_record(s, "012345678", 9);
	/* Emptied, it takes records again. */
	assert_int_equal(spool_append(s, "0123456789", 10), 0);
	spool_close(s);
	free(before);
}

/* Child-process checks: cmocka's asserts must not longjmp in a child. */
#define CHILD_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: child: %s (errno %s)\n",	\
		    __FILE__, __LINE__, #cond, strerror(errno));	\
		_exit(1);						\
	}								\
} while (0)

#define CHILD_SKIP	77

/* Runs fn(arg) in a child; fails the test unless it exits 0 (77: skip). */
static void
run_child(void (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	int status;

	assert_true(pid != -1);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_SKIP)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* An append that fails part-way, file unchanged; one that fits later works. */
static void
child_append_fails(struct spool *s, const char *path, int want_errno)
{
	uint8_t *before, *after, rec[3000];
	size_t blen, alen;
	size_t pending = spool_pending(s);

	memset(rec, 'r', sizeof rec);
	before = slurp(path, &blen);
	CHILD_CHECK(spool_append(s, rec, sizeof rec) == -1);
	CHILD_CHECK(errno == want_errno);
	after = slurp(path, &alen);
	CHILD_CHECK(alen == blen && memcmp(after, before, alen) == 0);
	CHILD_CHECK(spool_pending(s) == pending);
	CHILD_CHECK(spool_size(s) == blen);
	free(before);
	free(after);
}

/* RLIMIT_FSIZE cuts the write in the middle of the record (EFBIG). */
static void
child_fsize(const char *path)
{
	struct spool *s;
	struct rlimit rl;
	char *cause;

	signal(SIGXFSZ, SIG_IGN);
	CHILD_CHECK((s = spool_open(path, 1 << 20, &cause)) != NULL);
	CHILD_CHECK(spool_append(s, "kept", 4) == 0);
	rl.rlim_cur = rl.rlim_max = HDR + 4 + 1000;
	CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	child_append_fails(s, path, EFBIG);
	CHILD_CHECK(spool_append(s, "small", 5) == 0);
	spool_close(s);
	CHILD_CHECK((s = spool_open(path, 1 << 20, &cause)) != NULL);
	CHILD_CHECK(spool_pending(s) == 2);
	spool_close(s);
}

static void
test_fsize_limit(void **state)
{
	struct fixture *f = *state;
	struct spool *s;

	run_child(child_fsize, f->path);
	s = must_open(f->path, 1 << 20);
	assert_int_equal(spool_pending(s), 2);
	expect_record(s, "kept", 4);
	expect_record(s, "small", 5);
	spool_close(s);
}

/* A private mount namespace, as root or through a user namespace. */
static int
own_mount_namespace(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];
	int fd;

	if (unshare(CLONE_NEWNS) == -1) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1)
			return -1;
		if ((fd = open("/proc/self/setgroups", O_WRONLY)) != -1) {
			(void)!write(fd, "deny", 4);
			close(fd);
		}
		snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
		if ((fd = open("/proc/self/uid_map", O_WRONLY)) == -1 ||
		    write(fd, map, strlen(map)) == -1)
			return -1;
		close(fd);
		snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
		if ((fd = open("/proc/self/gid_map", O_WRONLY)) == -1 ||
		    write(fd, map, strlen(map)) == -1)
			return -1;
		close(fd);
	}
	/* Nothing mounted here may show outside. */
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* A 64 KiB tmpfs over dir: fill it (ENOSPC), free some, append again. */
static void
child_full_disk(const char *dir)
{
	struct spool *s;
	char path[400], filler[400], *cause;
	uint8_t rec[3000];
	size_t n = 0;
	int fd;

	if (own_mount_namespace() == -1 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700") == -1)
		_exit(CHILD_SKIP);
	snprintf(path, sizeof path, "%s/spool", dir);
	snprintf(filler, sizeof filler, "%s/filler", dir);
	CHILD_CHECK((fd = open(filler, O_WRONLY | O_CREAT, 0600)) != -1);
	memset(rec, 'f', sizeof rec);
	for (int i = 0; i < 4; i++)
		CHILD_CHECK(write(fd, rec, sizeof rec) == sizeof rec);
	close(fd);
	CHILD_CHECK((s = spool_open(path, 1 << 20, &cause)) != NULL);
	memset(rec, 'r', sizeof rec);
	while (spool_append(s, rec, sizeof rec) == 0)
		CHILD_CHECK(++n < 100);
	CHILD_CHECK(errno == ENOSPC && n > 5);
	CHILD_CHECK(spool_error(s) == ENOSPC);
	/* The failed append was cut off; the next fails the same way. */
	child_append_fails(s, path, ENOSPC);
	CHILD_CHECK(unlink(filler) == 0);
	CHILD_CHECK(spool_append(s, rec, sizeof rec) == 0);
	CHILD_CHECK(spool_error(s) == 0);
	spool_close(s);
	CHILD_CHECK((s = spool_open(path, 1 << 20, &cause)) != NULL);
	CHILD_CHECK(spool_pending(s) == n + 1);
	spool_close(s);

	/* Read-only: the spool cannot be opened, and says why. */
	CHILD_CHECK(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0);
	CHILD_CHECK(spool_open(path, 1 << 20, &cause) == NULL);
	CHILD_CHECK(strstr(cause, "Read-only file system") != NULL);
	free(cause);
}

static void
test_full_and_read_only(void **state)
{
	struct fixture *f = *state;
	char mnt[300];

	snprintf(mnt, sizeof mnt, "%s/mnt", f->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	run_child(child_full_disk, mnt);
}

/* Two opens of one spool: the second is refused; so are odd paths. */
static void
test_refusals(void **state)
{
	struct fixture *f = *state;
	struct spool *s = must_open(f->path, 1 << 20);
	char *cause = NULL, p[400];

	assert_null(spool_open(f->path, 1 << 20, &cause));
	assert_non_null(strstr(cause, "in use by another process"));
	free(cause);
	spool_close(s);

	assert_null(spool_open(f->dir, 1 << 20, &cause));
	assert_non_null(cause);
	free(cause);
	snprintf(p, sizeof p, "%s/link", f->dir);
	assert_int_equal(symlink(f->path, p), 0);
	assert_null(spool_open(p, 1 << 20, &cause));
	assert_non_null(cause);
	free(cause);
	snprintf(p, sizeof p, "%s/missing/spool", f->dir);
	assert_null(spool_open(p, 1 << 20, &cause));
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
}

/* A writer that reports each acknowledged append, then is killed. */
static void
child_writer(const char *arg)
{
	struct spool *s;
	char *cause, rec[64], path[400];
	int wfd;

	sscanf(arg, "%d %399s", &wfd, path);
	CHILD_CHECK((s = spool_open(path, 1 << 24, &cause)) != NULL);
	for (int i = 0;; i++) {
		int n = snprintf(rec, sizeof rec, "record %d %.*s", i, i % 40,
		    "........................................");

		CHILD_CHECK(spool_append(s, rec, (size_t)n) == 0);
		CHILD_CHECK(write(wfd, &i, sizeof i) == sizeof i);
	}
}

/* Killed at a random moment: every acknowledged record is there, in order. */
static void
test_killed_writer(void **state)
{
	struct fixture *f = *state;
	unsigned seed = 2024;

	for (int round = 0; round < 10; round++) {
		struct spool *s;
		struct timespec ts = { 0, 1000000 + rand_r(&seed) % 20000000 };
		char arg[400], rec[64];
		int fds[2], status, acked = -1, i;
		pid_t pid;
		void *d;
		size_t len;

		unlink(f->path);
		assert_int_equal(pipe(fds), 0);
		snprintf(arg, sizeof arg, "%d %s", fds[1], f->path);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			child_writer(arg);
		}
		close(fds[1]);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		while (read(fds[0], &i, sizeof i) == sizeof i)
			acked = i;
		close(fds[0]);

		s = must_open(f->path, 1 << 24);
		/* Acknowledged, plus perhaps the one in flight. */
		assert_true(spool_pending(s) == (size_t)(acked + 1) ||
		    spool_pending(s) == (size_t)(acked + 2));
		for (i = 0; spool_peek(s, &d, &len) == 1; i++) {
			int n = snprintf(rec, sizeof rec, "record %d %.*s", i,
			    i % 40, "........................................");

			assert_int_equal(len, n);
			assert_memory_equal(d, rec, len);
			free(d);
			assert_int_equal(spool_consume(s), 0);
		}
		assert_true(i >= acked + 1);
		spool_close(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_round_trip),
		T(test_format),
		T(test_reopen),
		T(test_torn_tail),
		T(test_damage_in_the_middle),
		T(test_damage_large),
		T(test_set_aside_crash),
		T(test_decay_after_open),
		T(test_max_bytes),
		T(test_fsize_limit),
		T(test_full_and_read_only),
		T(test_refusals),
		T(test_killed_writer),
#undef T
	};

	log_init(LOG_LEVEL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
