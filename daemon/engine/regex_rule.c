/*
 * regex_rule: PCRE2 rules compiled once with JIT and matched under limits,
 * and the runner that carries those limits.  Vetting rules at load is
 * regex_vet.c's.
 *
 * This module must never report "no match" for a match that did not finish:
 * every PCRE2 error (match, depth or heap limit, JIT stack) is -1, and the
 * evaluator queues the comment.
 */
#include "checks.h"
#include "regex_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* \C could split a character and hand back a span inside one. */
/* regex_literals.c reads patterns as these options make PCRE2 read them. */
#define REGEX_OPTIONS	(PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C)

/* The JIT stack grows on demand; pcre2jit(3) calls 1 MiB plenty. */
#define REGEX_JIT_STACK_MIN	(32 * 1024)
#define REGEX_JIT_STACK_MAX	(1024 * 1024)

/* A runner with the default limits; NULL when out of memory. */
struct regex_runner *
regex_runner_new(void)
{
	struct regex_runner *run;
	struct policy_limits lim = { .regex_match_limit = 0 };

	if ((run = calloc(1, sizeof *run)) == NULL)
		return NULL;
	run->mctx = pcre2_match_context_create(NULL);
	/* One pair is enough: only the whole match's range is reported. */
	run->md = pcre2_match_data_create(1, NULL);
	if (run->mctx == NULL || run->md == NULL) {
		regex_runner_free(run);
		return NULL;
	}
	/* NULL without JIT support, when the interpreter needs none. */
	run->jit_stack = pcre2_jit_stack_create(REGEX_JIT_STACK_MIN,
	    REGEX_JIT_STACK_MAX, NULL);
	if (run->jit_stack != NULL)
		pcre2_jit_stack_assign(run->mctx, NULL, run->jit_stack);
	regex_runner_limits(run, &lim);
	return run;
}

/* Frees a runner and the runs it cached; NULL is fine. */
void
regex_runner_free(struct regex_runner *run)
{
	if (run == NULL)
		return;
	regex_vet_drop_runs(run);
	pcre2_match_data_free(run->md);
	pcre2_jit_stack_free(run->jit_stack);
	pcre2_match_context_free(run->mctx);
	free(run);
}

/*
 * Sets the match, depth and heap limits; 0 means the default, never "none".
 *
 * PCRE2 (10.42) keeps the interpreter's backtracking frames in the match
 * data and checks the heap limit only when they must grow: match data that
 * grew under one policy's larger limit would let a smaller limit go
 * unchecked.  So a lower heap limit than the match data has run under gets
 * fresh match data.  Sites with the same limits never pay for this.
 */
void
regex_runner_limits(struct regex_runner *run, const struct policy_limits *l)
{
	uint32_t heap = l->regex_heap_limit_kib ? l->regex_heap_limit_kib :
	    POLICY_DEFAULT_HEAP_LIMIT_KIB;
	pcre2_match_data *md;

	run->match_limit = l->regex_match_limit ? l->regex_match_limit :
	    POLICY_DEFAULT_MATCH_LIMIT;
	pcre2_set_match_limit(run->mctx, run->match_limit);
	pcre2_set_depth_limit(run->mctx, l->regex_depth_limit ?
	    l->regex_depth_limit : POLICY_DEFAULT_DEPTH_LIMIT);
	pcre2_set_heap_limit(run->mctx, heap);
	if (heap < run->md_heap_kib &&
	    (md = pcre2_match_data_create(1, NULL)) != NULL) {
		pcre2_match_data_free(run->md);
		run->md = md;
		run->md_heap_kib = heap;
	} else if (heap > run->md_heap_kib)
		run->md_heap_kib = heap;
}

/* Compiles and JIT-compiles a rule, or says where its pattern is wrong. */
int
regex_rule_compile(struct rule *r, const char *file, struct errlist *errs)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	char where[64];
	uint32_t opts = REGEX_OPTIONS;
	unsigned column = r->pattern_column;
	size_t plen, at;
	int code;

	regex_rule_free(r);
	if (r->pattern == NULL) {
		errlist_add(errs, file, r->line, r->column,
		    "rule %s: regex is missing", r->id);
		return -1;
	}
	if (!r->case_sensitive)
		opts |= PCRE2_CASELESS;
	plen = strlen(r->pattern);
	r->code = pcre2_compile((PCRE2_SPTR)r->pattern, plen, opts, &code,
	    &off, NULL);
	if (r->code == NULL) {
		pcre2_get_error_message(code, msg, sizeof msg);
		off = off < plen ? off : plen;
		at = utf8_length(r->pattern, off);
		/* pattern_column is the first character's; a \n loses it. */
		if (column > 0 && memchr(r->pattern, '\n', off) == NULL)
			column += (unsigned)at;
		if (off < plen)
			snprintf(where, sizeof where, "at character %zu",
			    at + 1);
		else
			snprintf(where, sizeof where, "at the end of the "
			    "pattern");
		errlist_add(errs, file, r->pattern_line, column, "rule %s: "
		    "regex does not compile: %s (%s)", r->id, (char *)msg,
		    where);
		return -1;
	}
	/*
	 * Without JIT (no support, or no executable memory in a hardened
	 * service) the interpreter gives the same answers, slower; vetting
	 * then times the interpreter, and says so.
	 */
	(void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	return 0;
}

/* Frees the compiled pattern; a rule never compiled has none. */
void
regex_rule_free(struct rule *r)
{
	pcre2_code_free(r->code);
	r->code = NULL;
}

/* The first match, or -1 on any PCRE2 error: never "no match" for "unsure". */
int
regex_rule_find(const struct rule *r, struct regex_runner *run,
    const char *subject, size_t len, size_t *start, size_t *end)
{
	PCRE2_SIZE *ov;
	int rc;

	if (r->code == NULL)
		return -1;
	rc = pcre2_match(r->code, (PCRE2_SPTR)subject, len, 0,
	    PCRE2_NO_UTF_CHECK, run->md, run->mctx);
	/* 0 is a match whose groups did not fit the one pair. */
	if (rc >= 0) {
		ov = pcre2_get_ovector_pointer(run->md);
		*start = ov[0];
		*end = ov[1] >= ov[0] ? ov[1] : ov[0];	/* \K can invert them */
		return 1;
	}
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}
