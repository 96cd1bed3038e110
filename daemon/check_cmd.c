/*
 * check_cmd: `commentd -t`, which checks a policy (-p) or a configuration
 * and every policy it names (-c), prints every error as file:line:column
 * in one run, or a one-line summary of what loaded, like `nginx -t`.
 */
#include "check_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "errlist.h"
#include "policy.h"

/* "1 term" or "2 terms": the counts read as English. */
static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Prints every error of a failed load and the closing line; returns 1. */
static int
report_errors(const char *path, const char *what, struct errlist *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msgs[i]);
	fprintf(stderr, "commentd: %s: %s test failed, %zu %s\n", path, what,
	    errs->n, plural(errs->n, "error", "errors"));
	errlist_free(errs);
	return 1;
}

/* Loads a policy and reports every error or what it holds; 0 or 1. */
int
check_cmd_policy(const char *path)
{
	struct policy	*p = NULL;
	struct errlist	 errs;
	size_t		 nterms = 0, nexamples;

	errlist_init(&errs);
	if (policy_load(path, &p, &errs) != 0)
		return report_errors(path, "policy", &errs);
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
	    p->nwordlists, plural(p->nwordlists, "list", "lists"),
	    nterms, plural(nterms, "term", "terms"),
	    p->nallow_terms, plural(p->nallow_terms, "word", "words"),
	    p->nregexes, plural(p->nregexes, "rule", "rules"),
	    p->nchecks, plural(p->nchecks, "check", "checks"),
	    p->nrate_limits, plural(p->nrate_limits, "limit", "limits"),
	    nexamples, plural(nexamples, "example", "examples"));
	/* A rule the prefilter cannot take costs every comment its match. */
	if (p->nregexes > 0)
		printf("regex prefilter: %zu of %zu regex %s filtered; %s\n",
		    p->nregexes - p->nunfiltered, p->nregexes,
		    plural(p->nregexes, "rule", "rules"), p->nunfiltered == 0 ?
		    "PCRE2 runs only on texts holding one of their literals" :
		    "the others run PCRE2 on every comment");
	policy_free(p);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "commentd: writing the report: %s\n",
		    strerror(errno));
		return 1;
	}
	return 0;
}

int
check_cmd_config(const char *path, int verbose)
{
	struct config	*c = NULL;
	struct errlist	 errs;

	errlist_init(&errs);
	if (config_load(path, &c, &errs) != 0)
		return report_errors(path, "configuration", &errs);
	errlist_free(&errs);
	printf("configuration OK: %s: %zu %s, default %s\n", path, c->nsites,
	    plural(c->nsites, "site", "sites"), c->default_site);
	for (size_t i = 0; i < c->nsites; i++) {
		const struct policy *p = c->sites[i].policy;
		printf("  site %s: policy %s (version %s, digest %s)\n",
		    c->sites[i].name, p->name, p->version, p->digest);
	}
	if (verbose)
		config_dump(c, stdout);
	config_free(c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "commentd: writing the report: %s\n",
		    strerror(errno));
		return 1;
	}
	return 0;
}
