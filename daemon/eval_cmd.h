/*
 * eval_cmd: `commentd --eval`, a policy run over past comments.
 *
 * Reads JSON Lines, one comment a line ({"id", "body", "author": {"id",
 * "name"}}; other keys are ignored, so a labelled corpus can keep its labels),
 * writes one /v1/check answer a line and a summary at the end.  It needs no
 * Redis and applies no rate, duplicate or new-commenter rule.
 */
#ifndef COMMENTD_EVAL_CMD_H
#define COMMENTD_EVAL_CMD_H

#include <stdio.h>

/* The longest input line read; a longer one is an error for that line. */
#define EVAL_CMD_MAX_LINE	(1024 * 1024)

/*
 * Loads the policy and evaluates every line of `input` ("-" or NULL for
 * standard input), answers to `out`, diagnostics and the summary to `err`.
 * Returns 0 when every line was evaluated, 1 when the policy or the input
 * could not be read or some line was in error.
 */
int	eval_cmd_run(const char *policy_path, const char *input, FILE *out,
	    FILE *err);

#endif
