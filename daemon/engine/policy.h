/*
 * policy: a loaded comment policy, the unit the engine evaluates against.
 *
 * A policy is built once by policy_load() (policy_load.c), checked in full
 * (schema, word lists, regexes, examples) and then only read: evaluation never
 * changes it, so one policy can serve any number of evaluations and be swapped
 * whole at reload.  This header holds the data model shared by the loader, the
 * matchers and the evaluator; it must never include event loop, Redis or
 * socket headers.
 */
#ifndef COMMENTD_POLICY_H
#define COMMENTD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errlist.h"
#include "normalize.h"

struct matcher;			/* wordlist.h */
struct pcre2_real_code_8;	/* pcre2.h: pcre2_code */

enum action {
	ACTION_SCORE,		/* adds its score, decides nothing alone */
	ACTION_QUEUE,
	ACTION_REJECT,
};

enum decision {
	DECISION_ACCEPT,
	DECISION_QUEUE,
	DECISION_REJECT,
};

enum field {
	FIELD_BODY,
	FIELD_AUTHOR_NAME,
};

enum match_mode {
	MATCH_WORD,		/* one whole word */
	MATCH_PHRASE,		/* one or more consecutive whole words */
	MATCH_SUBSTRING,	/* inside words too, except allowlisted words */
};

enum rule_kind {
	RULE_WORDLIST,
	RULE_REGEX,
	RULE_CHECK,
};

enum check_kind {
	CHECK_LENGTH,		/* characters: above / below */
	CHECK_CAPS_RATIO,	/* upper-case share of letters: min_letters, above */
	CHECK_LINK_COUNT,	/* links: above */
	CHECK_REPEAT_RUN,	/* longest run of one character: above */
	CHECK_NON_LATIN,	/* non-Latin share of letters: min_letters, above */
	CHECK_CARD_NUMBER,	/* Luhn-checked payment card numbers: above */
	CHECK_GIBBERISH,	/* share of letters in mashed words: min_letters, above */
};

/* An example string with the place it was written, for error messages. */
struct example_text {
	char		*text;
	unsigned	 line, column;
};

/*
 * One rule of any kind.  The common part comes first; the kind decides which
 * of the tail fields mean anything.
 */
struct rule {
	enum rule_kind	 kind;
	char		*id;
	char		*category;
	char		*message;	/* shown to the commenter; never NULL */
	enum action	 action;
	int		 score;		/* added when it matches (ACTION_SCORE) */
	enum field	 field;
	unsigned	 line, column;	/* where the rule starts in the file */

	struct example_text *match_examples;
	size_t		 nmatch_examples;
	struct example_text *pass_examples;
	size_t		 npass_examples;

	/* RULE_WORDLIST */
	char		*file;		/* as written, relative to the policy */
	enum match_mode	 mode;
	size_t		 nterms;

	/* RULE_REGEX */
	char		*pattern;
	unsigned	 pattern_line, pattern_column;
	bool		 case_sensitive;
	bool		 on_normalized;	/* match the normalised text */
	struct pcre2_real_code_8 *code;

	/* RULE_CHECK */
	enum check_kind	 check;
	double		 above;		/* matches when value > above (if set) */
	double		 below;		/* matches when value < below (if set) */
	bool		 has_above, has_below;
	unsigned	 min_letters;
};

enum rate_key {
	RATE_KEY_AUTHOR,
	RATE_KEY_IP,
	RATE_KEY_THREAD,
	RATE_KEY_AUTHOR_THREAD,
	RATE_KEY_SITE,
};

/* A GCRA rate limit: `count` per `period_s`, `burst` extra. */
struct rate_limit {
	char		*id;
	enum rate_key	 key;
	uint32_t	 count;
	uint32_t	 period_s;
	uint32_t	 burst;
	enum action	 action;
	char		*category;
	char		*message;
	unsigned	 line, column;
};

/* duplicates.same_author / duplicates.many_authors, and new_commenters. */
struct stateful_rule {
	bool		 enabled;
	uint32_t	 window_s;	/* duplicates */
	uint32_t	 authors;	/* many_authors: distinct authors */
	uint32_t	 approved_needed; /* new_commenters */
	enum action	 action;
	char		*message;
	unsigned	 line, column;
};

/* A whole-comment regression case from the policy's `examples`. */
struct policy_example {
	char		*body;
	char		*author_name;	/* may be NULL */
	enum decision	 expect;
	char		**rules;	/* rule ids that must fire; may be empty */
	size_t		 nrules;
	unsigned	 line, column;
};

struct policy_limits {
	uint32_t	 max_length;	/* characters; longer is rejected unread */
	uint32_t	 min_length;	/* characters after trimming white space */
	uint32_t	 regex_match_limit;
	uint32_t	 regex_depth_limit;
	uint32_t	 regex_heap_limit_kib;
	uint32_t	 regex_rule_budget_us;	/* load-time vetting, per subject */
	uint32_t	 time_budget_us;	/* per comment, all regex rules */
};

struct policy {
	char		*name;
	char		*description;
	char		*version;	/* as written, or the digest's prefix */
	char		*path;		/* the policy file as given */
	char		 digest[7 + 64 + 1];	/* "sha256:" and hex */

	struct normalize_opts norm;
	int		 queue_threshold;
	int		 reject_threshold;
	struct policy_limits limits;

	/* Rules in file order: word lists first, then `rules`. */
	struct rule	*rules;
	size_t		 nrules;
	size_t		 nwordlists, nregexes, nchecks;
	unsigned	 wordlist_fields;	/* 1 << field, for each list's field */

	char		**allow_files;
	size_t		 nallow_files;
	size_t		 nallow_terms;

	struct matcher	*matcher;	/* every word list and the allowlist */
	struct prefilter *prefilter;	/* the regex rules' (NULL: none) */
	size_t		 nunfiltered;	/* regex rules it cannot filter */

	struct rate_limit *rate_limits;
	size_t		 nrate_limits;
	struct stateful_rule dup_same_author;
	struct stateful_rule dup_many_authors;
	struct stateful_rule new_commenters;

	struct policy_example *examples;
	size_t		 nexamples;
};

/* Defaults that a policy may override. */
#define POLICY_DEFAULT_MAX_LENGTH	5000
#define POLICY_DEFAULT_MIN_LENGTH	1
#define POLICY_DEFAULT_MATCH_LIMIT	1000000
#define POLICY_DEFAULT_DEPTH_LIMIT	10000
#define POLICY_DEFAULT_HEAP_LIMIT_KIB	20480
#define POLICY_DEFAULT_RULE_BUDGET_US	2000
#define POLICY_DEFAULT_TIME_BUDGET_US	20000

/* Loads and fully checks a policy; 0, or -1 with every error in errs. */
int		 policy_load(const char *path, struct policy **out,
		    struct errlist *errs);

/*
 * The same from a buffer (fuzzing, tests): `name` is used in messages and
 * the digest, word-list paths are resolved against `dir`.
 */
int		 policy_load_buffer(const char *name, const char *dir,
		    const char *data, size_t len, struct policy **out,
		    struct errlist *errs);

void		 policy_free(struct policy *);

/*
 * Runs a complete policy's examples: each rule's `match` and `pass` texts
 * against that rule alone, and the whole-comment `examples`.  0, or -1 with
 * each failing example in errs at its own line (policy_load does this).
 */
int		 policy_check_examples(const struct policy *,
		    struct errlist *errs);

/* The rule with this id, or NULL. */
const struct rule *policy_rule(const struct policy *, const char *id);

const char	*action_name(enum action);
const char	*decision_name(enum decision);
const char	*field_name(enum field);

#endif
