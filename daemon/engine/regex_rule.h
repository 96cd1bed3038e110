/*
 * regex_rule: PCRE2 rules, compiled once at load with JIT and matched under
 * limits, so that no rule and no comment can take the daemon's time.
 *
 * Every pattern is compiled with UTF and UCP (\w, \b and \d mean what they
 * mean for the whole of Unicode), caseless unless the rule asks otherwise,
 * and JIT-compiled.  At load each rule is run against adversarial subjects
 * at the policy's maximum comment length (long runs of spaces, letters,
 * digits, punctuation, zero-width characters, each with and without a
 * failing last character); a rule that reaches a PCRE2 limit or exceeds the
 * per-rule budget there is refused, with its file:line:column.  At match
 * time the match, depth and heap limits hold; a match that hits one is
 * reported as -1, never as "no match".
 */
#ifndef COMMENTD_REGEX_RULE_H
#define COMMENTD_REGEX_RULE_H

#include <stddef.h>

#include "errlist.h"
#include "policy.h"

/* Per-evaluator match state: a match context with the limits, a JIT stack and match data. */
struct regex_runner;

struct regex_runner *regex_runner_new(void);
void		 regex_runner_free(struct regex_runner *);

/* Applies a policy's limits to the runner (cheap; done per evaluation). */
void		 regex_runner_limits(struct regex_runner *,
		    const struct policy_limits *);

/*
 * Compiles r->pattern into r->code (UTF, UCP, caseless unless
 * r->case_sensitive) and JIT-compiles it.  On failure adds
 * "file:line:column: rule ID: ..." at the pattern's position (the column of
 * the offending character where PCRE2 gives one) and returns -1.
 */
int		 regex_rule_compile(struct rule *r, const char *file,
		    struct errlist *errs);

/*
 * Runs the compiled rule against the adversarial subjects; returns -1 (and
 * adds why, with the subject that was too slow) if it hits a limit or
 * exceeds limits->regex_rule_budget_us on any of them.
 */
int		 regex_rule_vet(const struct rule *r,
		    const struct policy_limits *limits, struct regex_runner *,
		    const char *file, struct errlist *errs);

/*
 * Finds the first match in subject[0, len) (valid UTF-8, not re-checked).
 * Returns 1 with the match's byte range, 0 when there is none, -1 when a
 * limit was hit (the caller must treat the comment as undecided).
 */
int		 regex_rule_find(const struct rule *r, struct regex_runner *,
		    const char *subject, size_t len, size_t *start, size_t *end);

/* Frees r->code; safe on a rule never compiled. */
void		 regex_rule_free(struct rule *r);

#endif
