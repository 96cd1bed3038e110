/*
 * regex_int: the runner and the vetting runs it caches, shared by matching
 * (regex_rule.c) and vetting (regex_vet.c) and by nothing else.
 */
#ifndef COMMENTD_REGEX_INT_H
#define COMMENTD_REGEX_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "regex_rule.h"

/* How many vet_units regex_vet.c has; it checks so when compiled. */
#define VET_NUNITS	20

/*
 * One run of characters and the boundaries its variants need.  Variants
 * are made in place (a head byte over the end of the first character, a
 * tail over the last) and undone from saved copies: nothing is copied.
 */
struct vet_run {
	char		*buf;
	size_t		 len;		/* bytes of n characters */
	size_t		 off1, off2;	/* after the first, second character */
	size_t		 offmid;	/* after n / 2 characters */
	size_t		 offn2, offn1;	/* after n - 2 and n - 1 characters */
	size_t		 nhead;		/* bytes saved in head */
	char		 head[64];	/* saved [0, nhead) */
	char		 tail[16];	/* saved [offn2, len) */
	uint8_t		 bytes[32];	/* the set of bytes it is made of */
	char		 around;	/* a head and tail that end the run */
};

struct regex_runner {
	pcre2_match_context	*mctx;
	pcre2_jit_stack		*jit_stack;
	pcre2_match_data	*md;
	uint32_t		 md_heap_kib;	/* largest heap limit md ran under */
	uint32_t		 match_limit;

	/* Cached runs, full length and short, + the first-code-unit one. */
	uint32_t		 vet_length;
	struct vet_run		 runs[VET_NUNITS + 1][2];
};

void	regex_vet_drop_runs(struct regex_runner *);

#endif
