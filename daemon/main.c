/*
 * main: commentd's command line.
 *
 * For now commentd has two one-shot modes: -t checks a policy file as
 * `nginx -t` checks a configuration, --eval runs a policy over JSON Lines.
 * The daemon itself (sockets, Redis) arrives with its own issue.  Exit
 * status: 0 success, 1 the policy or the input was in error, 2 a wrong
 * command line.  This file only parses options and dispatches; it must not
 * grow logic of its own.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errlist.h"
#include "eval_cmd.h"
#include "policy.h"

#ifndef COMMENTD_VERSION
#define COMMENTD_VERSION	"0.1.0"
#endif

#define MAIN_EXIT_USAGE		2

enum main_mode {
	MAIN_DAEMON,
	MAIN_TEST,
	MAIN_EVAL,
};

enum {
	MAIN_OPT_EVAL = 256,	/* --eval has no short form */
};

static const struct option main_longopts[] = {
	{ "eval",	no_argument,		NULL, MAIN_OPT_EVAL },
	{ "help",	no_argument,		NULL, 'h' },
	{ "policy",	required_argument,	NULL, 'p' },
	{ "test",	no_argument,		NULL, 't' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* Prints the synopsis and what each mode does. */
static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: commentd -t -p POLICY\n"
	    "       commentd --eval -p POLICY [FILE|-]\n"
	    "       commentd -h | -V\n"
	    "\n"
	    "  -t, --test           check POLICY; print every error as\n"
	    "                       file:line:column, or `policy OK`\n"
	    "  --eval               evaluate JSON Lines comments from FILE\n"
	    "                       (or standard input), one a line:\n"
	    "                       {\"id\", \"body\", "
	    "\"author\": {\"id\", \"name\"}};\n"
	    "                       print one verdict a line, and a summary\n"
	    "                       on standard error\n"
	    "  -p, --policy POLICY  the policy file\n"
	    "  -h, --help           show this help\n"
	    "  -V, --version        show the version\n"
	    "\n"
	    "Exit status: 0 success, 1 the policy or some input line was\n"
	    "in error, 2 a wrong command line.\n");
}

/* Complains about the command line and returns the usage exit status. */
static int
main_bad_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "commentd: %s\n", msg);
	main_usage(stderr);
	return MAIN_EXIT_USAGE;
}

/* "1 term" or "2 terms": the counts read as English. */
static const char *
main_plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Loads a policy and reports every error or what it holds; 0 or 1. */
static int
main_test_policy(const char *path)
{
	struct policy	*p = NULL;
	struct errlist	 errs;
	size_t		 nterms = 0, nexamples;

	errlist_init(&errs);
	if (policy_load(path, &p, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "commentd: %s: policy test failed, %zu %s\n",
		    path, errs.n, main_plural(errs.n, "error", "errors"));
		errlist_free(&errs);
		return 1;
	}
	errlist_free(&errs);

	/* Every example was run by the loader, the rules' own as well. */
	nexamples = p->nexamples;
	for (size_t i = 0; i < p->nrules; i++) {
		if (p->rules[i].kind == RULE_WORDLIST)
			nterms += p->rules[i].nterms;
		nexamples += p->rules[i].nmatch_examples +
		    p->rules[i].npass_examples;
	}
	printf("policy OK: %s (version %s, digest %s): "
	    "%zu word %s (%zu %s, %zu allowlisted %s), %zu regex %s, "
	    "%zu %s, %zu rate %s, %zu %s\n",
	    p->name, p->version != NULL ? p->version : "?", p->digest,
	    p->nwordlists, main_plural(p->nwordlists, "list", "lists"),
	    nterms, main_plural(nterms, "term", "terms"),
	    p->nallow_terms, main_plural(p->nallow_terms, "word", "words"),
	    p->nregexes, main_plural(p->nregexes, "rule", "rules"),
	    p->nchecks, main_plural(p->nchecks, "check", "checks"),
	    p->nrate_limits, main_plural(p->nrate_limits, "limit", "limits"),
	    nexamples, main_plural(nexamples, "example", "examples"));
	policy_free(p);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "commentd: writing the report: %s\n",
		    strerror(errno));
		return 1;
	}
	return 0;
}

/* Parses the command line and runs the mode it asks for. */
int
main(int argc, char **argv)
{
	enum main_mode	 mode = MAIN_DAEMON;
	const char	*policy = NULL;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "hp:tV", main_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			main_usage(stdout);
			return 0;
		case 'p':
			policy = optarg;
			break;
		case 't':
			if (mode == MAIN_EVAL)
				return main_bad_usage("-t and --eval exclude "
				    "each other");
			mode = MAIN_TEST;
			break;
		case MAIN_OPT_EVAL:
			if (mode == MAIN_TEST)
				return main_bad_usage("-t and --eval exclude "
				    "each other");
			mode = MAIN_EVAL;
			break;
		case 'V':
			printf("commentd %s\n", COMMENTD_VERSION);
			return 0;
		default:
			/* getopt_long has said what was wrong. */
			return main_bad_usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;

	switch (mode) {
	case MAIN_DAEMON:
		fprintf(stderr, "commentd: the daemon is not built yet; "
		    "use -t or --eval\n");
		return MAIN_EXIT_USAGE;
	case MAIN_TEST:
		if (policy == NULL)
			return main_bad_usage("-t needs -p POLICY");
		if (argc > 0)
			return main_bad_usage("-t takes no file arguments");
		return main_test_policy(policy);
	case MAIN_EVAL:
		if (policy == NULL)
			return main_bad_usage("--eval needs -p POLICY");
		if (argc > 1)
			return main_bad_usage("--eval reads one FILE (or - "
			    "for standard input)");
		return eval_cmd_run(policy, argc == 1 ? argv[0] : NULL,
		    stdout, stderr);
	}
	return MAIN_EXIT_USAGE;
}
