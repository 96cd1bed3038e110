/*
 * fuzz_config_load: the configuration loader (daemon/config.c) against any
 * bytes.
 *
 * commentd.yaml is written by operators and read again on every reload
 * while the daemon serves, so no file may crash the loader or leak: it
 * loads, or it is refused with at least one error, each a valid UTF-8
 * line (the reload route answers them as JSON strings).  A loaded config
 * must keep what the server relies on: a default site that is one of its
 * sites, each with its policy, distinct socket paths, the Redis address
 * split one way, one reference; it may replace itself on reload, and the
 * same bytes load the same way twice (config_dump writes the same text).
 *
 * Policy paths resolve against FUZZ_CONFIG_DIR, where the harness puts the
 * small policies of the config tests (one loads, two do not) and three
 * token files (one fine, one readable by others, one too short), so that
 * inputs reach the policy loader and the token checks without the shipped
 * policy's cost.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "policy.h"

#include "fuzz_common.h"

#define FUZZ_CONFIG_DIR	"/tmp/commentd-fuzz-config"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static int	verbose;

/* Writes a file of the scratch directory whole, replacing it at once. */
static void
put_file(const char *name, const char *text, mode_t mode)
{
	char path[256], tmp[300];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", FUZZ_CONFIG_DIR, name);
	snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
	FUZZ_CHECK((f = fopen(tmp, "w")) != NULL);
	FUZZ_CHECK(fputs(text, f) >= 0 && fclose(f) == 0);
	FUZZ_CHECK(chmod(tmp, mode) == 0 && rename(tmp, path) == 0);
}

/* Copies a file of the repository into the scratch directory. */
static void
copy_file(const char *from, const char *name)
{
	char buf[8192];
	size_t n;
	FILE *f;

	FUZZ_CHECK((f = fopen(from, "r")) != NULL);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	put_file(name, buf, 0644);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Printing every error slows fuzzing; ask for it when reproducing. */
	verbose = getenv("COMMENTD_FUZZ_VERBOSE") != NULL;
	FUZZ_CHECK(mkdir(FUZZ_CONFIG_DIR, 0700) == 0 || errno == EEXIST);
	copy_file(FUZZ_TESTS_DIR "/unit/data/config-policy.yaml",
	    "config-policy.yaml");
	copy_file(FUZZ_TESTS_DIR "/unit/data/config-policy-bad.yaml",
	    "config-policy-bad.yaml");
	copy_file(FUZZ_TESTS_DIR "/cli/data/three-mistakes.yaml",
	    "three-mistakes.yaml");
	put_file("token", "fuzz-token-0123456789abcdef\n", 0600);
	put_file("token-open", "fuzz-token-0123456789abcdef\n", 0644);
	put_file("token-short", "short\n", 0600);
	return 0;
}

/* config_dump's text, for comparing two loads. */
static char *
dump(const struct config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	FUZZ_CHECK(f != NULL);
	config_dump(c, f);
	FUZZ_CHECK(fclose(f) == 0 && text != NULL);
	return text;
}

/* What the server reads from a loaded config without checking again. */
static void
check_config(const struct config *c)
{
	struct errlist errs;

	FUZZ_CHECK(c->refs == 1 && c->nsites >= 1);
	FUZZ_CHECK(config_site(c, NULL) != NULL);
	FUZZ_CHECK(strcmp(config_site(c, NULL)->name, c->default_site) == 0);
	for (size_t i = 0; i < c->nsites; i++) {
		FUZZ_CHECK(c->sites[i].policy != NULL);
		FUZZ_CHECK(config_site(c, c->sites[i].name) == &c->sites[i]);
	}
	FUZZ_CHECK(strcmp(c->submit.path, c->admin.path) != 0);
	FUZZ_CHECK(c->redis.unix_path == NULL || c->redis.host == NULL);
	FUZZ_CHECK((c->redis.host != NULL) == (c->redis.port > 0));
	FUZZ_CHECK(!c->tcp.enabled || c->tcp.token != NULL ||
	    config_is_loopback(c->tcp.address));
	/* A reload of the very same file is always allowed. */
	errlist_init(&errs);
	FUZZ_CHECK(config_reload_check(c, c, &errs) == 0 && errs.n == 0);
	errlist_free(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL, *again = NULL;
	struct errlist errs;
	char *one, *two;
	int rc;

	errlist_init(&errs);
	rc = config_load_buffer("fuzz.yaml", FUZZ_CONFIG_DIR,
	    (const char *)data, size, &c, &errs);
	for (size_t i = 0; i < errs.n; i++) {
		if (verbose)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		FUZZ_CHECK(errs.msgs[i][0] != '\0');
		FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)errs.msgs[i],
		    strlen(errs.msgs[i])));
	}
	if (rc == -1) {
		/* Refused: never silently, and *out is left alone. */
		FUZZ_CHECK(errs.n > 0 && c == NULL);
		errlist_free(&errs);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && c != NULL && errs.n == 0);
	check_config(c);
	FUZZ_CHECK(config_load_buffer("fuzz.yaml", FUZZ_CONFIG_DIR,
	    (const char *)data, size, &again, &errs) == 0);
	one = dump(c);
	two = dump(again);
	FUZZ_CHECK(strcmp(one, two) == 0);
	free(one);
	free(two);
	config_unref(again);
	config_unref(c);
	errlist_free(&errs);
	return 0;
}
