/*
 * fuzz_spool_open: any bytes as a spool file, as a crash, a full disk or
 * a decaying one might leave it.
 *
 * The open must succeed (the directory is writable and fresh), and account
 * for every byte: read in order, the file must be set-aside ranges and good
 * records up to the point the open cut it, each set-aside file holding
 * exactly the bytes its name says, each record's payload exactly the bytes
 * after its header.  A second open must find the same records and set
 * nothing aside again; replay must then empty the file; an append must
 * still work.  The scratch directory is emptied after each input (the
 * spool itself never deletes), on /dev/shm when there is one, so that the
 * syncs cost nothing.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

#include "fuzz_common.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAX_ASIDE	4096

struct aside {
	uint64_t	 off, len;
};

static char	 dir[64];
static char	 path[128];

/* Removes the scratch directory, empty by then, at exit. */
static void
fuzz_cleanup(void)
{
	rmdir(dir);
}

/* A scratch directory for the whole run, quiet logging. */
static void
fuzz_init(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(dir, sizeof dir, "%s/fuzz_spool.XXXXXX", base);
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/spool", dir);
	atexit(fuzz_cleanup);
	log_init(LOG_LEVEL_ERROR);
}

static int
aside_cmp(const void *a, const void *b)
{
	const struct aside *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Lists the set-aside files (sorted) and checks each holds the input's
 * bytes at the offset its name gives; with unlink, empties the directory.
 */
static size_t
list_dir(const uint8_t *in, size_t size, struct aside *a, bool unlink_all)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	char p[400];

	FUZZ_CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		unsigned long long off, len;
		unsigned crc;
		FILE *fp;
		uint8_t *b;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (unlink_all) {
			unlink(p);
			continue;
		}
		if (strcmp(e->d_name, "spool") == 0)
			continue;
		FUZZ_CHECK(sscanf(e->d_name, "spool.unreadable-%llu-%llu-%x",
		    &off, &len, &crc) == 3);
		FUZZ_CHECK(strstr(e->d_name, ".tmp") == NULL);
		FUZZ_CHECK(len > 0 && off < size && len <= size - off);
		FUZZ_CHECK(n < MAX_ASIDE);
		b = malloc(len + 1);
		FUZZ_CHECK(b != NULL && (fp = fopen(p, "rb")) != NULL);
		FUZZ_CHECK(fread(b, 1, len + 1, fp) == len);
		FUZZ_CHECK(memcmp(b, in + off, len) == 0);
		fclose(fp);
		free(b);
		a[n].off = off;
		a[n++].len = len;
	}
	closedir(d);
	if (n > 0)
		qsort(a, n, sizeof *a, aside_cmp);
	return n;
}

/* Replays everything, checking each record against the input in order. */
static size_t
replay(struct spool *s, const uint8_t *in, uint64_t end, const struct aside *a,
    size_t na)
{
	uint64_t at = 0;
	size_t k = 0, n = 0, len;
	void *d;
	int r;

	while ((r = spool_peek(s, &d, &len)) == 1) {
		while (k < na && a[k].off == at)
			at += a[k++].len;
		FUZZ_CHECK(len <= SPOOL_RECORD_MAX);
		FUZZ_CHECK(at + SPOOL_HEADER_SIZE + len <= end);
		FUZZ_CHECK(memcmp(in + at, "\xff" "CS1", 4) == 0);
		FUZZ_CHECK(memcmp(in + at + SPOOL_HEADER_SIZE, d, len) == 0);
		free(d);
		at += SPOOL_HEADER_SIZE + len;
		FUZZ_CHECK(spool_consume(s) == 0);
		n++;
	}
	FUZZ_CHECK(r == 0);
	/* Every byte up to the cut was a record or set aside. */
	FUZZ_CHECK(k == na && at == end);
	FUZZ_CHECK(spool_size(s) == 0 && spool_pending(s) == 0);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aside a[MAX_ASIDE], again[MAX_ASIDE];
	struct spool *s;
	struct stat st;
	char *cause = NULL;
	FILE *fp;
	uint64_t end;
	size_t na, pending;

	if (dir[0] == '\0')
		fuzz_init();
	FUZZ_CHECK((fp = fopen(path, "wb")) != NULL);
	FUZZ_CHECK(fwrite(data, 1, size, fp) == size && fclose(fp) == 0);

	s = spool_open(path, UINT64_MAX, &cause);
	if (s == NULL)
		fprintf(stderr, "spool_open: %s\n", cause);
	FUZZ_CHECK(s != NULL);
	end = spool_size(s);
	pending = spool_pending(s);
	FUZZ_CHECK(end <= size);
	FUZZ_CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == end);
	na = list_dir(data, size, a, false);
	spool_close(s);

	/* Reopened: the same records, nothing set aside twice. */
	s = spool_open(path, UINT64_MAX, &cause);
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(spool_pending(s) == pending && spool_size(s) == end);
	FUZZ_CHECK(list_dir(data, size, again, false) == na);
	FUZZ_CHECK(replay(s, data, end, a, na) == pending);
	FUZZ_CHECK(stat(path, &st) == 0 && st.st_size == 0);
	FUZZ_CHECK(spool_append(s, data, size < 64 ? size : 64) == 0);
	FUZZ_CHECK(spool_pending(s) == 1);
	spool_close(s);
	list_dir(NULL, 0, NULL, true);
	return 0;
}
