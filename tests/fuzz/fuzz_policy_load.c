/*
 * fuzz_policy_load: the policy loader against arbitrary bytes.
 *
 * A policy file is written by people and reloaded while the daemon serves,
 * so no file, however broken, may crash the loader or leak: it must either
 * load or hand back its errors.  Word-list paths resolve against the
 * repository's policies/ directory so that inputs naming the shipped lists
 * reach the word-list reader and the matcher too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errlist.h"
#include "policy.h"

#include "fuzz_common.h"

#ifndef FUZZ_POLICIES_DIR
#define FUZZ_POLICIES_DIR "policies"
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	verbose;

/* Checks what a loaded policy promises its readers, so a bad load is caught here. */
static void
check_policy(const struct policy *p)
{
	size_t	i, nw = 0, nr = 0, nc = 0;

	FUZZ_CHECK(p->name != NULL && (p->nrules == 0 || p->rules != NULL));
	FUZZ_CHECK(p->queue_threshold <= p->reject_threshold);
	for (i = 0; i < p->nrules; i++) {
		const struct rule	*r = &p->rules[i];

		FUZZ_CHECK(r->id != NULL && r->message != NULL);
		/* Ids are unique, so the lookup finds this very rule. */
		FUZZ_CHECK(policy_rule(p, r->id) == r);
		switch (r->kind) {
		case RULE_WORDLIST:
			nw++;
			break;
		case RULE_REGEX:
			nr++;
			FUZZ_CHECK(r->pattern != NULL && r->code != NULL);
			break;
		case RULE_CHECK:
			nc++;
			break;
		default:
			FUZZ_CHECK(!"a known rule kind");
		}
	}
	FUZZ_CHECK(nw == p->nwordlists && nr == p->nregexes &&
	    nc == p->nchecks);
}

/*
 * An error about the policy itself must name a line the file has: the
 * author goes there to fix it.  (Errors in word lists name their own file.)
 */
static void
check_error(const char *msg, const uint8_t *data, size_t size)
{
	static const char	 prefix[] = "fuzz.yaml:";
	unsigned long		 line;
	size_t			 i, nlines = 1;
	char			*end;

	FUZZ_CHECK(msg != NULL && *msg != '\0');
	if (strncmp(msg, prefix, sizeof prefix - 1) != 0)
		return;
	line = strtoul(msg + sizeof prefix - 1, &end, 10);
	if (end == msg + sizeof prefix - 1 || *end != ':')
		return;		/* no line: about the file as a whole */
	/*
	 * YAML also breaks lines at CR, NEL, LS and PS; counting every byte
	 * that can start or end one gives a bound, which is all this needs.
	 * libyaml puts the end of a file that lacks its last newline on the
	 * line after it, so errors at the end may name one line more.
	 */
	for (i = 0; i < size; i++)
		if (data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 ||
		    data[i] == 0xe2)
			nlines++;
	FUZZ_CHECK(line >= 1 && line <= nlines + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errlist	 errs;
	struct policy	*p = NULL;
	size_t		 i;
	int		 rc;

	errlist_init(&errs);
	rc = policy_load_buffer("fuzz.yaml", FUZZ_POLICIES_DIR,
	    (const char *)data, size, &p, &errs);
	if (rc == 0) {
		FUZZ_CHECK(p != NULL);
		check_policy(p);
	} else {
		/*
		 * A refusal without a reason would leave the author guessing.
		 * Anything the loader left in p after failing is its to free:
		 * LeakSanitizer reports it rather than this target hiding it.
		 */
		FUZZ_CHECK(errs.n > 0);
		p = NULL;
	}
	for (i = 0; i < errs.n; i++) {
		check_error(errs.msgs[i], data, size);
		if (verbose)
			fprintf(stderr, "%s\n", errs.msgs[i]);
	}
	errlist_free(&errs);
	policy_free(p);
	return 0;
}

int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Printing every error slows fuzzing; ask for it when reproducing. */
	verbose = getenv("COMMENTD_FUZZ_VERBOSE") != NULL;
	return 0;
}
