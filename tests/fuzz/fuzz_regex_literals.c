/*
 * fuzz_regex_literals: the regex prefilter's literal extractor against
 * PCRE2 itself.
 *
 * The input is a pattern, a NUL, and a text (no NUL: the pattern is also
 * the text); the first byte's low bit says case-sensitive.  When PCRE2
 * compiles the pattern as the daemon does (UTF, UCP, caseless unless
 * case-sensitive) and finds a match in the text, the text with its ASCII
 * letters folded must hold one of the literals regex_literals() gave: else
 * the prefilter would skip a rule that matches, a silent accept.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "regex_literals.h"

#include "fuzz_common.h"

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__asan_default_options(void);

/*
 * ASan keeps the stack of every allocation, each distinct stack once and
 * forever.  The extractor's recursion makes nearly every input's stacks
 * new, so this target grew by about 60 MB a minute, past the 2 GB limit
 * within the hour, while its live heap stayed near 30 MB
 * (__sanitizer_print_memory_profile).  Eight frames still say where a
 * block came from; with them the resident size stays flat (109 MB).
 */
const char *
__asan_default_options(void)
{
	return "malloc_context_size=8";
}

/* Whether text, its ASCII letters folded, holds one of the literals. */
static int
holds_one(const struct regex_literals *l, const uint8_t *text, size_t len)
{
	uint8_t *folded = malloc(len ? len : 1);
	int found = 0;

	if (folded == NULL)
		abort();
	for (size_t i = 0; i < len; i++)
		folded[i] = text[i] >= 'A' && text[i] <= 'Z' ?
		    (uint8_t)(text[i] - 'A' + 'a') : text[i];
	for (size_t i = 0; i < l->n && !found; i++)
		found = memmem(folded, len, l->v[i].b, l->v[i].len) != NULL;
	free(folded);
	return found;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *pat, *text, *nul;
	size_t plen, tlen;
	int case_sensitive, err, rc;
	PCRE2_SIZE off;
	pcre2_code *code;
	pcre2_match_data *md;
	struct regex_literals l;

	if (size < 1 || size > 4096)
		return 0;
	case_sensitive = data[0] & 1;
	pat = data + 1;
	plen = size - 1;
	if ((nul = memchr(pat, '\0', plen)) != NULL) {
		text = nul + 1;
		tlen = plen - (size_t)(text - pat);
		plen = (size_t)(nul - pat);
	} else {
		text = pat;
		tlen = plen;
	}
	rc = regex_literals((const char *)pat, plen, case_sensitive, &l);
	if (rc == 0) {
		FUZZ_CHECK(l.n > 0);
		for (size_t i = 0; i < l.n; i++)
			FUZZ_CHECK(l.v[i].len > 0 &&
			    l.v[i].len <= REGEX_LITERAL_MAX);
	} else
		FUZZ_CHECK(l.n == 0 && l.v == NULL);
	code = pcre2_compile(pat, plen, PCRE2_UTF | PCRE2_UCP |
	    PCRE2_NEVER_BACKSLASH_C | PCRE2_MATCH_INVALID_UTF |
	    (case_sensitive ? 0 : PCRE2_CASELESS), &err, &off, NULL);
	if (code == NULL) {
		regex_literals_free(&l);
		return 0;
	}
	md = pcre2_match_data_create_from_pattern(code, NULL);
	if (md == NULL)
		abort();
	/* The daemon's texts are valid UTF-8; MATCH_INVALID_UTF lets any
	 * bytes through without changing what valid ones match. */
	if (rc == 0 && pcre2_match(code, text, tlen, 0, 0, md, NULL) >= 0 &&
	    !holds_one(&l, text, tlen)) {
		fprintf(stderr, "pattern \"%.*s\" matches \"%.*s\" without any "
		    "of its %zu literals\n", (int)plen, (const char *)pat,
		    (int)tlen, (const char *)text, l.n);
		FUZZ_CHECK(0);
	}
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	regex_literals_free(&l);
	return 0;
}
