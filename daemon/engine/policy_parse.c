/*
 * policy_parse: the rule blocks of a policy, node by node.
 *
 * A rule with mistakes is still kept (it is freed with the policy), so that
 * later checks such as duplicate ids see it and every mistake is reported
 * in one run; a policy with any mistake never loads.  Ids that cannot be
 * read are replaced by the entry's place ("rules[3]") for later messages.
 */
#include "policy_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "regex_rule.h"
#include "xalloc.h"

#define RULE_ID_MAX		100
#define MAX_SCORE		1000
#define MAX_WINDOW_S		(30u * 86400)
#define LABEL_MAX		128	/* "rule ID" in messages */

static const char *const wordlist_keys[] = { "id", "file", "category",
	"action", "score", "message", "match", "field", "examples",
	"description", NULL };
static const char *const regex_keys[] = { "id", "category", "action",
	"score", "message", "field", "examples", "description", "regex",
	"case_sensitive", "normalized", NULL };
static const char *const check_keys[] = { "id", "category", "action",
	"score", "message", "field", "examples", "description", "check",
	"above", "below", "min_letters", NULL };
static const char *const any_rule_keys[] = { "id", "category", "action",
	"score", "message", "field", "examples", "description", "regex",
	"case_sensitive", "normalized", "check", "above", "below",
	"min_letters", NULL };
static const char *const rule_example_keys[] = { "match", "pass", NULL };
static const char *const rate_keys[] = { "id", "key", "rate", "burst",
	"action", "category", "message", NULL };
static const char *const dup_keys[] = { "same_author", "many_authors", NULL };
static const char *const same_author_keys[] = { "window", "action",
	"message", NULL };
static const char *const many_authors_keys[] = { "window", "authors",
	"action", "message", NULL };
static const char *const new_commenter_keys[] = { "approved_needed",
	"action", "message", NULL };
static const char *const example_keys[] = { "body", "author", "expect",
	"rules", NULL };
static const char *const author_keys[] = { "name", NULL };

/* Names in enum order, for yaml_node_enum(). */
static const char *const action_names[] = { "score", "queue", "reject", NULL };
static const char *const decide_names[] = { "queue", "reject", NULL };
static const char *const decision_names[] = { "accept", "queue", "reject",
	NULL };
static const char *const field_names[] = { "body", "author.name", NULL };
static const char *const mode_names[] = { "word", "phrase", "substring",
	NULL };
static const char *const rate_key_names[] = { "author", "ip", "thread",
	"author+thread", "site", NULL };

/* Names an entry in messages: `what` ("rule ID") and `pre` ("rule ID: "). */
static void __attribute__((format(printf, 3, 4)))
label(char *what, char *pre, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, LABEL_MAX, fmt, ap);
	va_end(ap);
	snprintf(pre, LABEL_MAX + 4, "%s: ", what);
}

/* An optional key of a mapping. */
static yaml_node_t *
opt(struct policy_parser *l, const yaml_node_t *map, const char *key)
{
	return yaml_node_get(&l->y, map, key, NULL);
}

/* "PRE" + "KEY": the subject of a message about one key. */
static const char *
fname(char *buf, size_t size, const char *pre, const char *key)
{
	snprintf(buf, size, "%s%s", pre, key);
	return buf;
}

/* An id and where it was written, for duplicates and examples' lookups. */
struct policy_id {
	const char	*id;		/* owned by the rule or rate limit */
	unsigned	 line, column;
	bool		 rate;
};

/* Remembers an id read from node n. */
static void
add_id(struct policy_parser *l, const char *id, const yaml_node_t *n,
    bool rate)
{
	struct policy_id *ids;
	size_t cap;

	if (l->nids == l->idcap) {
		cap = l->idcap ? l->idcap * 2 : 64;
		if ((ids = reallocarray(l->ids, cap, sizeof *ids)) == NULL)
			abort();
		l->ids = ids;
		l->idcap = cap;
	}
	l->ids[l->nids].id = id;
	l->ids[l->nids].line = yaml_node_line(n);
	l->ids[l->nids].column = yaml_node_column(n);
	l->ids[l->nids].rate = rate;
	l->nids++;
}

/* Orders ids by name, then by place, so the first of equal ids comes first. */
static int
id_cmp(const void *va, const void *vb)
{
	const struct policy_id *a = va, *b = vb;
	int d = strcmp(a->id, b->id);

	if (d != 0)
		return d;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->column < b->column ? -1 : a->column > b->column;
}

/* Sorting makes this O(n log n): a policy may hold thousands of rules. */
void
policy_parse_check_ids(struct policy_parser *l)
{
	size_t i, first = 0;

	if (l->nids > 1)
		qsort(l->ids, l->nids, sizeof *l->ids, id_cmp);
	for (i = 1; i < l->nids; i++) {
		if (strcmp(l->ids[i].id, l->ids[first].id) != 0) {
			first = i;
			continue;
		}
		errlist_add(l->y.errs, l->y.file, l->ids[i].line,
		    l->ids[i].column, "duplicate rule id \"%s\" (first "
		    "defined at line %u)", l->ids[i].id, l->ids[first].line);
	}
}

/* Compares a name with a sorted entry, for bsearch(). */
static int
id_find_cmp(const void *key, const void *entry)
{
	return strcmp(key, ((const struct policy_id *)entry)->id);
}

/* The entry of an id, once policy_parse_check_ids() has sorted them. */
static const struct policy_id *
find_id(const struct policy_parser *l, const char *id)
{
	if (l->nids == 0)
		return NULL;
	return bsearch(id, l->ids, l->nids, sizeof *l->ids, id_find_cmp);
}

/* Frees the id index. */
void
policy_parse_clear(struct policy_parser *l)
{
	free(l->ids);
	l->ids = NULL;
	l->nids = l->idcap = 0;
}

/*
 * Reads the id of a rule or rate limit ([a-z0-9][a-z0-9_.-]*, never
 * engine.*) into *id.  When there is none, *id becomes `fallback` so later
 * messages can still name the entry.
 */
static void
load_id(struct policy_parser *l, const yaml_node_t *map, const char *pre,
    bool rate, const char *fallback, char **id)
{
	yaml_node_t *n = yaml_node_need(&l->y, map, "id", pre);
	char name[160], *s;

	if (n == NULL || yaml_node_string(&l->y, n, fname(name, sizeof name,
	    pre, "id"), &s) == -1) {
		*id = xstrdup(fallback);
		return;
	}
	*id = s;
	if (strlen(s) > RULE_ID_MAX ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == 0 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(s))
		yaml_node_error(&l->y, n, "id \"%.*s\" must be lower-case "
		    "letters, digits, '_', '.' and '-', starting with a letter "
		    "or digit, at most %d characters", RULE_ID_MAX, s,
		    RULE_ID_MAX);
	else if (strncmp(s, "engine.", 7) == 0 || strncmp(s, "limits.", 7) == 0)
		yaml_node_error(&l->y, n, "id \"%s\": ids starting with "
		    "\"%.7s\" are reserved for the engine's own reasons", s, s);
	else
		add_id(l, s, n, rate);
}

/* The message a rule gets when the policy gives none. */
static char *
default_message(enum action a, const char *id)
{
	char *m;

	if (asprintf(&m, a == ACTION_REJECT ?
	    "This comment breaks the comment policy (%s)." :
	    "This comment is held for a moderator (%s).", id) == -1)
		abort();
	return m;
}

/*
 * `action` and `score`: an action decides (a score may be added), a score
 * alone only adds, and a rule with neither would do nothing.
 */
static void
load_action(struct policy_parser *l, const yaml_node_t *map, const char *pre,
    struct rule *r)
{
	yaml_node_t *an = opt(l, map, "action"), *sn = opt(l, map, "score");
	char name[160];
	long score = 0;
	int a = ACTION_SCORE;

	if (sn != NULL)
		yaml_node_int(&l->y, sn, fname(name, sizeof name, pre, "score"),
		    1, MAX_SCORE, &score);
	if (an != NULL) {
		if (yaml_node_enum(&l->y, an, fname(name, sizeof name, pre,
		    "action"), action_names, &a) == 0 && a == ACTION_SCORE &&
		    sn == NULL)
			yaml_node_error(&l->y, an, "%saction score needs a "
			    "score", pre);
	} else if (sn == NULL)
		yaml_node_error(&l->y, map, "%sneeds an action (reject or "
		    "queue) or a score", pre);
	r->action = (enum action)a;
	r->score = (int)score;
}

/* One list of a rule's examples (`match` or `pass`). */
static void
load_example_list(struct policy_parser *l, const yaml_node_t *n,
    const char *what, struct example_text **out, size_t *nout)
{
	struct example_text *ex;
	yaml_node_t *item;
	size_t i, count;

	if (yaml_node_sequence(&l->y, n, what) == -1)
		return;
	count = yaml_node_nitems(n);
	*out = ex = xcalloc(count, sizeof *ex);
	for (i = 0; i < count; i++) {
		item = yaml_node_item(&l->y, n, i);
		if (yaml_node_string(&l->y, item, what, &ex[*nout].text) == -1)
			continue;
		ex[*nout].line = yaml_node_line(item);
		ex[*nout].column = yaml_node_column(item);
		(*nout)++;
	}
}

/* A rule's `examples`: texts it must match and texts it must let pass. */
static void
load_rule_examples(struct policy_parser *l, const yaml_node_t *n,
    const char *pre, struct rule *r)
{
	yaml_node_t *v;
	char name[160];

	if (yaml_node_mapping(&l->y, n, fname(name, sizeof name, pre,
	    "examples")) == -1)
		return;
	yaml_node_check_keys(&l->y, n, rule_example_keys, name);
	if ((v = opt(l, n, "match")) != NULL)
		load_example_list(l, v, fname(name, sizeof name, pre,
		    "examples.match"), &r->match_examples, &r->nmatch_examples);
	if ((v = opt(l, n, "pass")) != NULL)
		load_example_list(l, v, fname(name, sizeof name, pre,
		    "examples.pass"), &r->pass_examples, &r->npass_examples);
}

/*
 * What word lists and rules share: id, category, action and score,
 * message, field, examples, description.  Fills `what` with the rule's
 * name in messages ("rule ID") and `pre` with it and ": ".
 */
static void
load_common(struct policy_parser *l, const yaml_node_t *map, const char *kind,
    size_t index, struct rule *r, char *what, char *pre)
{
	yaml_node_t *v;
	char *desc = NULL;
	int field = FIELD_BODY;

	r->line = yaml_node_line(map);
	r->column = yaml_node_column(map);
	label(what, pre, "%s[%zu]", kind, index);
	load_id(l, map, pre, false, what, &r->id);
	if (strcmp(r->id, what) != 0)
		label(what, pre, "%s %s", strcmp(kind, "wordlists") == 0 ?
		    "word list" : "rule", r->id);
	yaml_node_need_string(&l->y, map, "category", pre, &r->category);
	load_action(l, map, pre, r);
	yaml_node_opt_string(&l->y, map, "message", pre, &r->message);
	if (r->message == NULL)
		r->message = default_message(r->action, r->id);
	yaml_node_opt_enum(&l->y, map, "field", pre, field_names, &field);
	r->field = (enum field)field;
	if ((v = opt(l, map, "examples")) != NULL)
		load_rule_examples(l, v, pre, r);
	yaml_node_opt_string(&l->y, map, "description", pre, &desc);
	free(desc);
}

/* One entry of `wordlists`; its terms are the loader's to read. */
struct rule *
policy_parse_wordlist(struct policy_parser *l, const yaml_node_t *map,
    size_t index, const yaml_node_t **file)
{
	struct rule *r;
	char what[LABEL_MAX], pre[LABEL_MAX + 4];
	int mode = MATCH_WORD;

	if (yaml_node_mapping(&l->y, map, "a word list") == -1)
		return NULL;
	r = &l->p->rules[l->p->nrules++];
	l->p->nwordlists++;
	r->kind = RULE_WORDLIST;
	load_common(l, map, "wordlists", index, r, what, pre);
	yaml_node_check_keys(&l->y, map, wordlist_keys, what);
	yaml_node_opt_enum(&l->y, map, "match", pre, mode_names, &mode);
	r->mode = (enum match_mode)mode;
	yaml_node_need_string(&l->y, map, "file", pre, &r->file);
	if (r->file == NULL)
		return NULL;
	*file = opt(l, map, "file");
	return r;
}

/* A regex rule: compiled, JIT-compiled and vetted for speed here. */
static void
load_regex(struct policy_parser *l, const yaml_node_t *map, const char *pre,
    struct rule *r)
{
	yaml_node_t *n = opt(l, map, "regex");
	char name[160];

	r->kind = RULE_REGEX;
	l->p->nregexes++;
	yaml_node_opt_bool(&l->y, map, "case_sensitive", pre,
	    &r->case_sensitive);
	yaml_node_opt_bool(&l->y, map, "normalized", pre, &r->on_normalized);
	if (yaml_node_string(&l->y, n, fname(name, sizeof name, pre, "regex"),
	    &r->pattern) == -1)
		return;
	/* Point at the pattern's first character, inside any quote. */
	r->pattern_line = yaml_node_line(n);
	r->pattern_column = yaml_node_column(n);
	if (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		r->pattern_column++;
	if (regex_rule_compile(r, l->y.file, l->y.errs) == 0)
		regex_rule_vet(r, &l->p->limits, l->runner, l->y.file,
		    l->y.errs);
}

/* Reports a check parameter that means nothing for this kind of check. */
static void
no_param(struct policy_parser *l, const yaml_node_t *map, const char *key,
    const char *pre, const struct rule *r)
{
	yaml_node_t *n = opt(l, map, key);

	if (n != NULL)
		yaml_node_error(&l->y, n, "%s%s does not apply to a %s check",
		    pre, key, check_kind_name(r->check));
}

/* Reads `above` (or `below`) as a whole number into *v, marking it set. */
static void
check_count(struct policy_parser *l, const yaml_node_t *map, const char *key,
    const char *pre, long min, long max, double *v, bool *set)
{
	long n = -1;

	if (opt(l, map, key) == NULL)
		return;
	yaml_node_opt_int(&l->y, map, key, pre, min, max, &n);
	*v = (double)n;
	*set = true;
}

/* A structural check: its kind and the parameters that kind takes. */
static void
load_check(struct policy_parser *l, const yaml_node_t *map, const char *pre,
    struct rule *r)
{
	const char *names[CHECK_NKINDS + 1];
	yaml_node_t *an;
	char name[160];
	long min_letters;
	int k;

	r->kind = RULE_CHECK;
	l->p->nchecks++;
	for (k = 0; k < CHECK_NKINDS; k++)
		names[k] = check_kind_name((enum check_kind)k);
	names[k] = NULL;
	if (yaml_node_enum(&l->y, opt(l, map, "check"), fname(name,
	    sizeof name, pre, "check"), names, &k) == -1)
		return;
	r->check = (enum check_kind)k;
	switch (r->check) {
	case CHECK_LENGTH:
		no_param(l, map, "min_letters", pre, r);
		check_count(l, map, "above", pre, 0, 1000000, &r->above,
		    &r->has_above);
		check_count(l, map, "below", pre, 0, 1000000, &r->below,
		    &r->has_below);
		if (!r->has_above && !r->has_below)
			yaml_node_error(&l->y, map, "%sa length check needs "
			    "above or below", pre);
		return;
	case CHECK_CAPS_RATIO:
	case CHECK_NON_LATIN:
	case CHECK_GIBBERISH:
		no_param(l, map, "below", pre, r);
		min_letters = r->check == CHECK_CAPS_RATIO ? 20 :
		    r->check == CHECK_NON_LATIN ? 10 : 6;
		yaml_node_opt_int(&l->y, map, "min_letters", pre, 0, 1000000,
		    &min_letters);
		r->min_letters = (unsigned)min_letters;
		if ((an = yaml_node_need(&l->y, map, "above", pre)) != NULL &&
		    yaml_node_double(&l->y, an, fname(name, sizeof name, pre,
		    "above"), 0, 1, &r->above) == 0)
			r->has_above = true;
		return;
	case CHECK_LINK_COUNT:
	case CHECK_REPEAT_RUN:
		no_param(l, map, "below", pre, r);
		no_param(l, map, "min_letters", pre, r);
		if (yaml_node_need(&l->y, map, "above", pre) != NULL)
			check_count(l, map, "above", pre,
			    r->check == CHECK_REPEAT_RUN ? 1 : 0, 1000000,
			    &r->above, &r->has_above);
		return;
	case CHECK_CARD_NUMBER:
		/* One card number is already one too many: above 0 unless set. */
		no_param(l, map, "below", pre, r);
		no_param(l, map, "min_letters", pre, r);
		check_count(l, map, "above", pre, 0, 1000, &r->above,
		    &r->has_above);
		return;
	}
}

/* One entry of `rules`: exactly one of a regex or a check. */
void
policy_parse_rule(struct policy_parser *l, const yaml_node_t *map,
    size_t index)
{
	struct rule *r;
	yaml_node_t *rx, *ck;
	char what[LABEL_MAX], pre[LABEL_MAX + 4];

	if (yaml_node_mapping(&l->y, map, "a rule") == -1)
		return;
	r = &l->p->rules[l->p->nrules++];
	r->kind = RULE_CHECK;	/* holds nothing to free until known */
	load_common(l, map, "rules", index, r, what, pre);
	rx = opt(l, map, "regex");
	ck = opt(l, map, "check");
	if (rx != NULL && ck != NULL) {
		yaml_node_check_keys(&l->y, map, any_rule_keys, what);
		yaml_node_error(&l->y, ck, "%shas both regex and check; a rule "
		    "has exactly one", pre);
	} else if (rx != NULL) {
		yaml_node_check_keys(&l->y, map, regex_keys, what);
		load_regex(l, map, pre, r);
	} else if (ck != NULL) {
		yaml_node_check_keys(&l->y, map, check_keys, what);
		load_check(l, map, pre, r);
	} else {
		yaml_node_check_keys(&l->y, map, any_rule_keys, what);
		yaml_node_error(&l->y, map, "%sneeds regex or check (word "
		    "lists go under wordlists)", pre);
	}
}

/* `rate`: "N/PERIOD", N per period, the period's count optional ("5/m"). */
static void
load_rate(struct policy_parser *l, const yaml_node_t *n, const char *pre,
    struct rate_limit *rl)
{
	char s[48], *slash, *end;
	unsigned long count;
	uint32_t period;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.length >= sizeof s)
		goto bad;
	memcpy(s, n->data.scalar.value, n->data.scalar.length);
	s[n->data.scalar.length] = '\0';
	if ((slash = strchr(s, '/')) == NULL || slash == s ||
	    strspn(s, "0123456789") != (size_t)(slash - s))
		goto bad;
	*slash = '\0';
	errno = 0;
	count = strtoul(s, &end, 10);
	if (errno != 0 || count < 1 || count > 1000000 ||
	    yaml_node_parse_duration(slash + 1, true, MAX_WINDOW_S,
	    &period) == -1)
		goto bad;
	rl->count = (uint32_t)count;
	rl->period_s = period;
	return;
bad:
	yaml_node_error(&l->y, n, "%srate must be COUNT/PERIOD such as 5/10m, "
	    "1/15s or 100/h (COUNT from 1 to 1000000, PERIOD up to 30d)", pre);
}

/* One entry of `rate_limits`, enforced by the daemon, checked here. */
void
policy_parse_rate_limit(struct policy_parser *l, const yaml_node_t *map,
    size_t index)
{
	struct rate_limit *rl;
	yaml_node_t *n;
	char what[LABEL_MAX], pre[LABEL_MAX + 4], name[160];
	long burst = 0;
	int key = RATE_KEY_AUTHOR, a = 1;

	if (yaml_node_mapping(&l->y, map, "a rate limit") == -1)
		return;
	rl = &l->p->rate_limits[l->p->nrate_limits++];
	rl->line = yaml_node_line(map);
	rl->column = yaml_node_column(map);
	label(what, pre, "rate_limits[%zu]", index);
	load_id(l, map, pre, true, what, &rl->id);
	if (strcmp(rl->id, what) != 0)
		label(what, pre, "rate limit %s", rl->id);
	yaml_node_check_keys(&l->y, map, rate_keys, what);
	if ((n = yaml_node_need(&l->y, map, "key", pre)) != NULL)
		yaml_node_enum(&l->y, n, fname(name, sizeof name, pre, "key"),
		    rate_key_names, &key);
	rl->key = (enum rate_key)key;
	if ((n = yaml_node_need(&l->y, map, "rate", pre)) != NULL)
		load_rate(l, n, pre, rl);
	yaml_node_opt_int(&l->y, map, "burst", pre, 0, 1000000, &burst);
	rl->burst = (uint32_t)burst;
	yaml_node_opt_enum(&l->y, map, "action", pre, decide_names, &a);
	rl->action = a == 0 ? ACTION_QUEUE : ACTION_REJECT;
	yaml_node_opt_string(&l->y, map, "category", pre, &rl->category);
	if (rl->category == NULL)
		rl->category = xstrdup("rate");
	yaml_node_opt_string(&l->y, map, "message", pre, &rl->message);
	if (rl->message == NULL &&
	    asprintf(&rl->message, "Too many comments in a short time (%s); "
	    "please try again later.", rl->id) == -1)
		abort();
}

/*
 * duplicates.same_author, duplicates.many_authors and new_commenters: rules
 * that need the daemon's state.  Keys absent from `keys` are not read.
 */
static void
load_stateful(struct policy_parser *l, const yaml_node_t *n, const char *what,
    const char *const *keys, const char *message, struct stateful_rule *s)
{
	char pre[64], colon[64], name[96];
	yaml_node_t *v;
	long count;
	int a = 0;

	if (yaml_node_mapping(&l->y, n, what) == -1)
		return;
	snprintf(pre, sizeof pre, "%s.", what);
	snprintf(colon, sizeof colon, "%s: ", what);
	yaml_node_check_keys(&l->y, n, keys, what);
	s->enabled = true;
	s->line = yaml_node_line(n);
	s->column = yaml_node_column(n);
	if (keys == new_commenter_keys) {
		count = 1;
		yaml_node_opt_int(&l->y, n, "approved_needed", pre, 0, 1000000,
		    &count);
		s->approved_needed = (uint32_t)count;
	} else if ((v = yaml_node_need(&l->y, n, "window", colon)) != NULL)
		yaml_node_duration(&l->y, v, fname(name, sizeof name, pre,
		    "window"), MAX_WINDOW_S, &s->window_s);
	if (keys == many_authors_keys &&
	    (v = yaml_node_need(&l->y, n, "authors", colon)) != NULL &&
	    yaml_node_int(&l->y, v, fname(name, sizeof name, pre, "authors"),
	    2, 1000000, &count) == 0)
		s->authors = (uint32_t)count;
	/* Unless told to reject, these fail to a human. */
	yaml_node_opt_enum(&l->y, n, "action", pre, decide_names, &a);
	s->action = a == 0 ? ACTION_QUEUE : ACTION_REJECT;
	yaml_node_opt_string(&l->y, n, "message", pre, &s->message);
	if (s->message == NULL)
		s->message = xstrdup(message);
}

/* `duplicates`: the same text again from one author, or from many. */
void
policy_parse_duplicates(struct policy_parser *l, const yaml_node_t *n)
{
	yaml_node_t *v;

	if (yaml_node_mapping(&l->y, n, "duplicates") == -1)
		return;
	yaml_node_check_keys(&l->y, n, dup_keys, "duplicates");
	if ((v = opt(l, n, "same_author")) != NULL)
		load_stateful(l, v, "duplicates.same_author", same_author_keys,
		    "This comment repeats one you already posted.",
		    &l->p->dup_same_author);
	if ((v = opt(l, n, "many_authors")) != NULL)
		load_stateful(l, v, "duplicates.many_authors",
		    many_authors_keys,
		    "This comment repeats one posted by several others.",
		    &l->p->dup_many_authors);
}

/* `new_commenters`: first comments are held until some are approved. */
void
policy_parse_new_commenters(struct policy_parser *l, const yaml_node_t *n)
{
	load_stateful(l, n, "new_commenters", new_commenter_keys,
	    "First comments are held for a moderator.", &l->p->new_commenters);
}

/* The rule ids an example expects among its reasons; each must exist. */
static void
load_example_rules(struct policy_parser *l, const yaml_node_t *n,
    const char *pre, struct policy_example *ex)
{
	const struct policy_id *id;
	yaml_node_t *item;
	char name[160];
	size_t i, count;

	if (yaml_node_sequence(&l->y, n, fname(name, sizeof name, pre,
	    "rules")) == -1)
		return;
	count = yaml_node_nitems(n);
	ex->rules = xcalloc(count, sizeof *ex->rules);
	for (i = 0; i < count; i++) {
		item = yaml_node_item(&l->y, n, i);
		if (yaml_node_string(&l->y, item, name, &ex->rules[ex->nrules])
		    == -1)
			continue;
		if ((id = find_id(l, ex->rules[ex->nrules])) == NULL)
			yaml_node_error(&l->y, item, "%sunknown rule \"%s\"",
			    pre, ex->rules[ex->nrules]);
		else if (id->rate)
			yaml_node_error(&l->y, item, "%s\"%s\" is a rate "
			    "limit, which examples cannot exercise", pre,
			    ex->rules[ex->nrules]);
		ex->nrules++;
	}
}

/* One entry of the policy's `examples`: a comment and its expected verdict. */
void
policy_parse_example(struct policy_parser *l, const yaml_node_t *map,
    size_t index)
{
	struct policy_example *ex;
	yaml_node_t *n;
	char what[LABEL_MAX], pre[LABEL_MAX + 4], name[160];
	int d = DECISION_ACCEPT;

	if (yaml_node_mapping(&l->y, map, "an example") == -1)
		return;
	ex = &l->p->examples[l->p->nexamples++];
	ex->line = yaml_node_line(map);
	ex->column = yaml_node_column(map);
	label(what, pre, "examples[%zu]", index);
	yaml_node_check_keys(&l->y, map, example_keys, what);
	yaml_node_need_string(&l->y, map, "body", pre, &ex->body);
	if ((n = opt(l, map, "author")) != NULL &&
	    yaml_node_mapping(&l->y, n, fname(name, sizeof name, pre,
	    "author")) == 0) {
		yaml_node_check_keys(&l->y, n, author_keys, name);
		snprintf(name, sizeof name, "%sauthor.", pre);
		yaml_node_opt_string(&l->y, n, "name", name, &ex->author_name);
	}
	if ((n = yaml_node_need(&l->y, map, "expect", pre)) != NULL)
		yaml_node_enum(&l->y, n, fname(name, sizeof name, pre,
		    "expect"), decision_names, &d);
	ex->expect = (enum decision)d;
	if ((n = opt(l, map, "rules")) != NULL)
		load_example_rules(l, n, pre, ex);
}
