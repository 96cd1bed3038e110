/*
 * eval: a comment and a policy in, a verdict out.
 *
 * The decision rule (DESIGN.md): reject if a reject rule matched or the
 * score reached thresholds.reject; else queue if a queue rule matched or the
 * score reached thresholds.queue; else accept.  Every rule that matched is a
 * reason, with the matched bytes of the ORIGINAL text.  A rule that cannot
 * be evaluated (a PCRE2 limit, the comment's time budget) adds the reason
 * `engine.limit` and queues: the engine fails to a human, never to accept.
 * Rate, duplicate and new-commenter rules need state and are the daemon's.
 */
#ifndef COMMENTD_EVAL_H
#define COMMENTD_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct comment {
	const char	*body;
	size_t		 body_len;
	const char	*author_name;	/* may be NULL */
	size_t		 author_name_len;
};

struct reason {
	const struct rule *rule;	/* NULL for the engine's own reasons */
	const char	*id;
	const char	*category;
	const char	*message;
	enum action	 action;
	int		 score;
	enum field	 field;
	uint32_t	 start, end;	/* bytes of the field's original text */
};

struct verdict {
	enum decision	 decision;
	int		 score;
	bool		 limit_hit;	/* some rule could not be evaluated */
	struct reason	*reasons;
	size_t		 nreasons, cap;
};

void	verdict_init(struct verdict *);
void	verdict_free(struct verdict *);

/* Appends a reason; its strings must outlive the verdict. */
void	verdict_add_reason(struct verdict *, const struct reason *);

/* The reused working memory of one evaluator (one per thread). */
struct eval_scratch;

struct eval_scratch *eval_scratch_new(void);
void	eval_scratch_free(struct eval_scratch *);

/* Replaces the monotonic clock (microseconds), for tests of the time budget. */
void	eval_scratch_set_clock(struct eval_scratch *, uint64_t (*now_us)(void));

/*
 * Evaluates a comment.  Returns 0 with the verdict filled (its previous
 * content replaced), or -1 when the body or name is not valid UTF-8, with
 * *cause (malloc'd) saying where.
 */
int	eval_comment(const struct policy *, const struct comment *,
	    struct eval_scratch *, struct verdict *, char **cause);

/*
 * Recomputes v's score and decision from its reasons by the decision rule;
 * when trusted, the score reaching thresholds.queue no longer queues alone.
 */
void	eval_decide(const struct policy *, struct verdict *, bool trusted);

/*
 * Evaluates one rule alone on one text given as its field, as a rule's
 * examples need: 1 match, 0 no match, -1 could not be evaluated or invalid.
 */
int	eval_rule(const struct policy *, const struct rule *, const char *text,
	    size_t len, struct eval_scratch *);

#endif
