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

	if (p->name == NULL || (p->nrules > 0 && p->rules == NULL))
		abort();
	if (p->queue_threshold > p->reject_threshold)
		abort();
	for (i = 0; i < p->nrules; i++) {
		const struct rule	*r = &p->rules[i];

		if (r->id == NULL || r->message == NULL)
			abort();
		if (policy_rule(p, r->id) != r)
			abort();	/* ids are unique, so lookup finds this one */
		switch (r->kind) {
		case RULE_WORDLIST:
			nw++;
			break;
		case RULE_REGEX:
			nr++;
			if (r->pattern == NULL || r->code == NULL)
				abort();
			break;
		case RULE_CHECK:
			nc++;
			break;
		default:
			abort();
		}
	}
	if (nw != p->nwordlists || nr != p->nregexes || nc != p->nchecks)
		abort();
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
		if (p == NULL)
			abort();
		check_policy(p);
	} else {
		/*
		 * A refusal without a reason would leave the author guessing.
		 * Anything the loader left in p after failing is its to free:
		 * LeakSanitizer reports it rather than this target hiding it.
		 */
		if (errs.n == 0)
			abort();
		p = NULL;
	}
	for (i = 0; i < errs.n; i++) {
		if (errs.msgs[i] == NULL)
			abort();
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
