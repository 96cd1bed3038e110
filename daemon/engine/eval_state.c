/*
 * eval_state: turns the daemon's state facts into reasons and decides again.
 * See eval_state.h.
 *
 * Reasons come after the text's, in a fixed order: a ban, the rate limits in
 * policy order, then duplicates and new commenters.  None has a span (field
 * body, [0, 0]) and none adds to the score.  It must never format a message
 * per call: a reason holds pointers, so every message is the policy's own or
 * a static string here.
 */
#include "eval_state.h"

#include <stddef.h>

/* The ids, categories and messages of the reasons that are not rules. */
#define ID_BANNED	"author.banned"
#define ID_SAME		"duplicates.same_author"
#define ID_MANY		"duplicates.many_authors"
#define ID_NEW		"new_commenters"

static const char msg_banned[] = "This account may not comment here.";
static const char msg_same_unchecked[] = "This comment is held for a "
    "moderator: whether you already posted it could not be checked.";
static const char msg_many_unchecked[] = "This comment is held for a "
    "moderator: whether others posted it could not be checked.";
static const char msg_new_unchecked[] = "This comment is held for a "
    "moderator: your earlier comments could not be checked.";

/* Appends a reason that points at no text. */
static void
add(struct verdict *v, const char *id, const char *category,
    const char *message, enum action action)
{
	struct reason r = {
		NULL, id, category, message, action, 0, FIELD_BODY, 0, 0
	};

	verdict_add_reason(v, &r);
}

/*
 * A stateful rule: its own reason when the facts say it fired, a queueing
 * one when the facts are unknown.
 */
static void
add_stateful(struct verdict *v, const struct stateful_rule *r,
    const char *id, const char *category, bool available, bool fired,
    const char *unchecked)
{
	if (!r->enabled)
		return;
	if (!available)
		add(v, id, category, unchecked, ACTION_QUEUE);
	else if (fired)
		add(v, id, category, r->message, r->action);
}

/* The rate limits that fired; returns the longest wait in seconds. */
static uint32_t
add_limits(const struct policy *p, const struct state_facts *f,
    struct verdict *v)
{
	uint64_t wait = 0, s;

	for (size_t i = 0; i < p->nrate_limits && f->limits != NULL; i++) {
		const struct rate_limit *rl = &p->rate_limits[i];
		const struct state_limit *l = &f->limits[i];

		if (!l->checked || l->allowed)
			continue;
		add(v, rl->id, rl->category, rl->message, rl->action);
		/* Never "retry after 0": a refused comment waits a second. */
		s = ((uint64_t)l->retry_after_ms + 999) / 1000;
		if (s == 0)
			s = 1;
		if (s > wait)
			wait = s;
	}
	return (uint32_t)wait;
}

void
eval_state_apply(const struct policy *p, const struct state_facts *f,
    struct verdict *v, uint32_t *retry_after_s)
{
	bool on = f->available;

	if (on && f->banned)
		add(v, ID_BANNED, "author", msg_banned, ACTION_REJECT);
	*retry_after_s = add_limits(p, f, v);
	add_stateful(v, &p->dup_same_author, ID_SAME, "duplicate", on,
	    f->dup_same, msg_same_unchecked);
	add_stateful(v, &p->dup_many_authors, ID_MANY, "duplicate", on,
	    f->dup_authors >= p->dup_many_authors.authors, msg_many_unchecked);
	/* Trust is a moderator's word that the author is known: not new. */
	add_stateful(v, &p->new_commenters, ID_NEW, "new_commenter", on,
	    !f->trusted && f->approved < p->new_commenters.approved_needed,
	    msg_new_unchecked);
	eval_decide(p, v, on && f->trusted);
}
