/*
 * fuzz_normalize: the normaliser and the tokenizer under every option set.
 *
 * fuzz_eval drives them only with the default policy's options; policies
 * may turn any of them off, and each switch changes which code runs.  The
 * first input byte picks the options (one bit each), the rest is the text.
 * Besides crashes and leaks this checks the map back to the original bytes
 * and that the normalised text is itself valid UTF-8 that normalises again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "tokenize.h"

#include "fuzz_common.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct normalize_opts	 o;
	struct ntext		 nt, again;
	struct tokens		 tk;
	const uint8_t		*s;
	char			*u;
	size_t			 len, bad_at = (size_t)-1, i;
	int			 valid;

	if (size == 0)
		return 0;
	memset(&o, 0, sizeof o);
	o.leet = data[0] & 0x01;
	o.confusables = data[0] & 0x02;
	o.strip_invisible = data[0] & 0x04;
	o.strip_marks = data[0] & 0x08;
	o.collapse_repeats = data[0] & 0x10;
	o.join_separated = data[0] & 0x20;
	s = data + 1;
	len = size - 1;
	valid = fuzz_utf8_valid(s, len);

	ntext_init(&nt);
	tokens_init(&tk);
	if (normalize_text(&o, (const char *)s, len, &nt, &bad_at) != 0) {
		FUZZ_CHECK(!valid);
		FUZZ_CHECK(bad_at < len);
		goto out;
	}
	FUZZ_CHECK(valid);
	fuzz_check_ntext(&nt, s, len);
	for (i = 0; i < nt.n; i++)
		(void)script_of(nt.c[i].cp);

	tokenize(&o, &nt, &tk);
	fuzz_check_tokens(&tk, &nt);
	/* A second pass reuses the storage, as the evaluator does per comment. */
	tokenize(&o, &nt, &tk);
	fuzz_check_tokens(&tk, &nt);

	/*
	 * Tools print the normalised text; it must be UTF-8 the engine
	 * accepts.  A NUL in the text ends the C string early, which leaves
	 * a shorter text that must still be valid.
	 */
	u = ntext_to_utf8(&nt);
	FUZZ_CHECK(u != NULL);
	FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)u, strlen(u)));
	ntext_init(&again);
	FUZZ_CHECK(normalize_text(&o, u, strlen(u), &again, &bad_at) == 0);
	ntext_free(&again);
	free(u);
out:
	tokens_free(&tk);
	ntext_free(&nt);
	return 0;
}
