/*
 * policy_load: reads a policy file into a struct policy, checking all of it.
 *
 * A policy that loads is one that can serve: its schema is valid, its word
 * lists were read, its regexes compiled and were vetted against adversarial
 * comments, and its own examples pass.  Every mistake is reported as
 * "file:line:column: message" at the node that holds it, all in one run, so
 * an author fixes the file in one pass; a policy with any error is freed
 * whole and never half-used.  Top-level blocks are read in schema order, not
 * file order, because later blocks depend on earlier ones (the matcher on
 * `normalize`, regex vetting on `limits`, examples on every rule).
 */
#include "policy.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "file_read.h"
#include "policy_parse.h"
#include "regex_prefilter.h"
#include "regex_rule.h"
#include "wordlist.h"
#include "yaml_node.h"
#include "xalloc.h"

#define POLICY_MAX_BYTES	(4u << 20)
#define WORDLIST_MAX_BYTES	(64u << 20)

/* Everything one load needs; nothing outlives policy_load_buffer(). */
struct loader {
	struct policy_parser	 pp;	/* the document, the policy, a runner */
	const char		*dir;
	struct errlist		*errs;
	size_t			 nerr0;
	EVP_MD_CTX		*md;
};

static const char *const top_keys[] = { "policy", "description", "version",
	"normalize", "thresholds", "limits", "allow", "wordlists", "rules",
	"rate_limits", "duplicates", "new_commenters", "examples", NULL };
static const char *const normalize_keys[] = { "leet", "confusables",
	"strip_invisible", "strip_marks", "collapse_repeats", "join_separated",
	NULL };
/* Where each of normalize_keys goes in struct normalize_opts. */
static const size_t normalize_offsets[] = {
	offsetof(struct normalize_opts, leet),
	offsetof(struct normalize_opts, confusables),
	offsetof(struct normalize_opts, strip_invisible),
	offsetof(struct normalize_opts, strip_marks),
	offsetof(struct normalize_opts, collapse_repeats),
	offsetof(struct normalize_opts, join_separated),
};
_Static_assert(sizeof normalize_offsets / sizeof normalize_offsets[0] ==
    sizeof normalize_keys / sizeof normalize_keys[0] - 1,
    "normalize_offsets must match normalize_keys");
static const char *const threshold_keys[] = { "queue", "reject", NULL };

/* `limits`: each key's bounds and where it goes. */
static const struct {
	const char	*key;
	long		 min, max;
	size_t		 off;
} limit_table[] = {
	{ "max_length", 1, 1000000,
	    offsetof(struct policy_limits, max_length) },
	{ "min_length", 0, 1000000,
	    offsetof(struct policy_limits, min_length) },
	{ "regex_match_limit", 1000, 100000000,
	    offsetof(struct policy_limits, regex_match_limit) },
	{ "regex_depth_limit", 100, 10000000,
	    offsetof(struct policy_limits, regex_depth_limit) },
	{ "regex_heap_limit_kib", 64, 1048576,
	    offsetof(struct policy_limits, regex_heap_limit_kib) },
	{ "regex_rule_budget_us", 10, 1000000,
	    offsetof(struct policy_limits, regex_rule_budget_us) },
	{ "time_budget_us", 100, 10000000,
	    offsetof(struct policy_limits, time_budget_us) },
};

/* True once this load has reported anything. */
static bool
failed(const struct loader *l)
{
	return l->errs->n > l->nerr0;
}

/* An optional key of a mapping. */
static yaml_node_t *
opt(struct loader *l, const yaml_node_t *map, const char *key)
{
	return yaml_node_get(&l->pp.y, map, key, NULL);
}

/* A path written in the policy, resolved against the policy's directory. */
static char *
resolve(const struct loader *l, const char *file)
{
	size_t dlen = l->dir != NULL ? strlen(l->dir) : 0;
	char *path;

	if (file[0] == '/' || dlen == 0 || strcmp(l->dir, ".") == 0)
		return xstrdup(file);
	if (asprintf(&path, "%s%s%s", l->dir, l->dir[dlen - 1] == '/' ? "" :
	    "/", file) == -1)
		abort();
	return path;
}

/*
 * Reads a word-list or allow file named by node n into the digest and hands
 * it to `add`; returns its count, or -1.  Reading the bytes once, here,
 * makes the digest describe exactly what the matcher holds.
 */
static long
load_list(struct loader *l, const yaml_node_t *n, const char *pre,
    const char *file, long (*add)(struct loader *, void *, const char *,
    size_t, const char *), void *arg)
{
	char *path, *buf;
	size_t len;
	long count;

	path = resolve(l, file);
	if (file_read(path, WORDLIST_MAX_BYTES, &buf, &len, NULL) == -1) {
		yaml_node_error(&l->pp.y, n, "%scannot read %s: %s", pre, path,
		    strerror(errno));
		free(path);
		return -1;
	}
	if (EVP_DigestUpdate(l->md, buf, len) != 1)
		abort();
	count = l->pp.p->matcher != NULL ? add(l, arg, buf, len, path) : -1;
	free(buf);
	free(path);
	return count;
}

/* load_list's adder for allow files. */
static long
add_allow(struct loader *l, void *arg, const char *text, size_t len,
    const char *shown)
{
	(void)arg;
	return matcher_add_allow_text(l->pp.p->matcher, text, len, shown,
	    l->errs);
}

/* load_list's adder for word lists: arg is the rule. */
static long
add_terms(struct loader *l, void *arg, const char *text, size_t len,
    const char *shown)
{
	struct rule *r = arg;
	uint16_t index = (uint16_t)(r - l->pp.p->rules);

	return matcher_add_text(l->pp.p->matcher, index, r->mode, text, len,
	    shown, l->errs);
}

/* `normalize`: the disguises undone before matching, each on by default. */
static void
load_normalize(struct loader *l, const yaml_node_t *n)
{
	struct yaml_node_ctx *y = &l->pp.y;
	size_t i;

	if (yaml_node_mapping(y, n, "normalize") == -1)
		return;
	yaml_node_check_keys(y, n, normalize_keys, "normalize");
	for (i = 0; normalize_keys[i] != NULL; i++)
		yaml_node_opt_bool(y, n, normalize_keys[i], "normalize.",
		    (bool *)((char *)&l->pp.p->norm + normalize_offsets[i]));
}

/* `thresholds`: the summed scores at which a comment is queued or rejected. */
static void
load_thresholds(struct loader *l, const yaml_node_t *n)
{
	struct yaml_node_ctx *y = &l->pp.y;
	long q = l->pp.p->queue_threshold, r = l->pp.p->reject_threshold;
	size_t nerr = l->errs->n;

	if (yaml_node_mapping(y, n, "thresholds") == -1)
		return;
	yaml_node_check_keys(y, n, threshold_keys, "thresholds");
	yaml_node_opt_int(y, n, "queue", "thresholds.", 1, 1000000, &q);
	yaml_node_opt_int(y, n, "reject", "thresholds.", 1, 1000000, &r);
	/* A value already refused would only add a misleading second error. */
	if (q > r && l->errs->n == nerr)
		yaml_node_error(y, n, "thresholds: queue (%ld) must not be "
		    "above reject (%ld)", q, r);
	l->pp.p->queue_threshold = (int)q;
	l->pp.p->reject_threshold = (int)r;
}

/* `limits`: comment length bounds and the regex engine's budgets. */
static void
load_limits(struct loader *l, const yaml_node_t *n)
{
	const size_t nlimits = sizeof limit_table / sizeof limit_table[0];
	const char *keys[sizeof limit_table / sizeof limit_table[0] + 1];
	struct yaml_node_ctx *y = &l->pp.y;
	struct policy_limits *lim = &l->pp.p->limits;
	size_t i, nerr = l->errs->n;
	uint32_t *field;
	long v;

	if (yaml_node_mapping(y, n, "limits") == -1)
		return;
	for (i = 0; i < nlimits; i++)
		keys[i] = limit_table[i].key;
	keys[i] = NULL;
	yaml_node_check_keys(y, n, keys, "limits");
	for (i = 0; i < nlimits; i++) {
		field = (uint32_t *)((char *)lim + limit_table[i].off);
		v = *field;
		yaml_node_opt_int(y, n, limit_table[i].key, "limits.",
		    limit_table[i].min, limit_table[i].max, &v);
		*field = (uint32_t)v;
	}
	if (lim->min_length > lim->max_length && l->errs->n == nerr)
		yaml_node_error(y, n, "limits: min_length (%u) must not be "
		    "above max_length (%u)", lim->min_length, lim->max_length);
}

/* One allow file: words that never match, whatever they contain. */
static void
load_allow_file(struct loader *l, const yaml_node_t *n)
{
	struct policy *p = l->pp.p;
	char *file;
	long count;

	if (yaml_node_string(&l->pp.y, n, "allow", &file) == -1)
		return;
	p->allow_files[p->nallow_files++] = file;
	if ((count = load_list(l, n, "allow: ", file, add_allow, NULL)) > 0)
		p->nallow_terms += (size_t)count;
}

/* `allow`: one path or a list of them. */
static void
load_allow(struct loader *l, const yaml_node_t *n)
{
	struct policy *p = l->pp.p;
	size_t i, count;

	if (n->type == YAML_SEQUENCE_NODE) {
		count = yaml_node_nitems(n);
		p->allow_files = xcalloc(count, sizeof *p->allow_files);
		for (i = 0; i < count; i++)
			load_allow_file(l, yaml_node_item(&l->pp.y, n, i));
	} else {
		p->allow_files = xcalloc(1, sizeof *p->allow_files);
		load_allow_file(l, n);
	}
}

/* The items of a list-valued top-level key, or 0 when absent or not a list. */
static size_t
list_len(struct loader *l, const yaml_node_t *n, const char *what)
{
	if (n == NULL || yaml_node_sequence(&l->pp.y, n, what) == -1)
		return 0;
	return yaml_node_nitems(n);
}

/* A word list's terms into the matcher, at its rule's index. */
static void
load_wordlist(struct loader *l, const yaml_node_t *map, size_t index)
{
	const yaml_node_t *fn = NULL;
	struct rule *r;
	char pre[160];
	long count;

	if ((r = policy_parse_wordlist(&l->pp, map, index, &fn)) == NULL)
		return;
	snprintf(pre, sizeof pre, "word list %s: ", r->id);
	count = load_list(l, fn, pre, r->file, add_terms, r);
	if (count == 0)
		yaml_node_error(&l->pp.y, fn, "%s%s has no terms", pre,
		    r->file);
	if (count > 0)
		r->nterms = (size_t)count;
}

/* The whole document, block by block in the order they depend on each other. */
static void
load_root(struct loader *l, const yaml_node_t *root)
{
	struct yaml_node_ctx *y = &l->pp.y;
	struct policy *p = l->pp.p;
	yaml_node_t *n, *wl, *rules, *rates, *exs;
	size_t i, nwl, nrules, nrates, nexs;

	if (yaml_node_mapping(y, root, "a policy") == -1)
		return;
	yaml_node_check_keys(y, root, top_keys, NULL);
	yaml_node_need_string(y, root, "policy", NULL, &p->name);
	yaml_node_opt_string(y, root, "description", NULL, &p->description);
	yaml_node_opt_string(y, root, "version", NULL, &p->version);
	if ((n = opt(l, root, "normalize")) != NULL)
		load_normalize(l, n);
	if ((n = opt(l, root, "thresholds")) != NULL)
		load_thresholds(l, n);
	if ((n = opt(l, root, "limits")) != NULL)
		load_limits(l, n);

	/* Terms are normalised as comments are, so the options come first. */
	if ((p->matcher = matcher_new(&p->norm)) == NULL)
		errlist_add(l->errs, y->file, 0, 0, "cannot allocate the "
		    "word-list matcher");
	if ((n = opt(l, root, "allow")) != NULL)
		load_allow(l, n);

	nwl = list_len(l, wl = opt(l, root, "wordlists"), "wordlists");
	nrules = list_len(l, rules = opt(l, root, "rules"), "rules");
	if (nwl + nrules > UINT16_MAX) {
		yaml_node_error(y, wl != NULL ? wl : rules, "too many rules "
		    "(%zu); at most %d", nwl + nrules, UINT16_MAX);
		return;
	}
	p->rules = xcalloc(nwl + nrules, sizeof *p->rules);
	for (i = 0; i < nwl; i++)
		load_wordlist(l, yaml_node_item(y, wl, i), i);
	for (i = 0; i < nrules; i++)
		policy_parse_rule(&l->pp, yaml_node_item(y, rules, i), i);

	nrates = list_len(l, rates = opt(l, root, "rate_limits"),
	    "rate_limits");
	p->rate_limits = xcalloc(nrates, sizeof *p->rate_limits);
	for (i = 0; i < nrates; i++)
		policy_parse_rate_limit(&l->pp, yaml_node_item(y, rates, i), i);
	policy_parse_check_ids(&l->pp);
	if ((n = opt(l, root, "duplicates")) != NULL)
		policy_parse_duplicates(&l->pp, n);
	if ((n = opt(l, root, "new_commenters")) != NULL)
		policy_parse_new_commenters(&l->pp, n);

	/* Last: examples name rules, which must all be known by now. */
	nexs = list_len(l, exs = opt(l, root, "examples"), "examples");
	p->examples = xcalloc(nexs, sizeof *p->examples);
	for (i = 0; i < nexs; i++)
		policy_parse_example(&l->pp, yaml_node_item(y, exs, i), i);
}

/* A second document in the stream is refused, not silently ignored. */
static void
check_single_document(struct loader *l, yaml_parser_t *ps, const char *data,
    size_t len)
{
	yaml_document_t doc;
	yaml_node_t *root;

	if (!yaml_parser_load(ps, &doc)) {
		yaml_node_syntax_error(l->errs, l->pp.y.file, ps, data, len);
		return;
	}
	if ((root = yaml_document_get_root_node(&doc)) != NULL)
		errlist_add(l->errs, l->pp.y.file,
		    (unsigned)doc.start_mark.line + 1,
		    (unsigned)doc.start_mark.column + 1,
		    "only one YAML document is allowed in a policy");
	yaml_document_delete(&doc);
}

/* Parses the text and reads the policy from its single document. */
static void
load_document(struct loader *l, const char *data, size_t len)
{
	yaml_parser_t ps;
	yaml_document_t doc;
	yaml_node_t *root;

	if (!yaml_parser_initialize(&ps))
		abort();
	yaml_parser_set_input_string(&ps, (const unsigned char *)data, len);
	if (!yaml_parser_load(&ps, &doc)) {
		yaml_node_syntax_error(l->errs, l->pp.y.file, &ps, data, len);
		yaml_parser_delete(&ps);
		return;
	}
	l->pp.y.doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL)
		errlist_add(l->errs, l->pp.y.file, 1, 1, "the policy is empty");
	else if (yaml_node_check_tree(&l->pp.y) == 0) {
		load_root(l, root);
		check_single_document(l, &ps, data, len);
	}
	l->pp.y.doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&ps);
}

/* A policy holding only the defaults of the schema. */
static struct policy *
policy_defaults(const char *name)
{
	struct policy *p = xcalloc(1, sizeof *p);

	p->path = xstrdup(name);
	normalize_opts_default(&p->norm);
	p->queue_threshold = 5;
	p->reject_threshold = 10;
	p->limits.max_length = POLICY_DEFAULT_MAX_LENGTH;
	p->limits.min_length = POLICY_DEFAULT_MIN_LENGTH;
	p->limits.regex_match_limit = POLICY_DEFAULT_MATCH_LIMIT;
	p->limits.regex_depth_limit = POLICY_DEFAULT_DEPTH_LIMIT;
	p->limits.regex_heap_limit_kib = POLICY_DEFAULT_HEAP_LIMIT_KIB;
	p->limits.regex_rule_budget_us = POLICY_DEFAULT_RULE_BUDGET_US;
	p->limits.time_budget_us = POLICY_DEFAULT_TIME_BUDGET_US;
	return p;
}

/* Writes "sha256:<hex>" and, when the policy has none, the version. */
static void
finish_digest(struct loader *l)
{
	struct policy *p = l->pp.p;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_DigestFinal_ex(l->md, md, &mdlen) != 1 || mdlen != 32)
		abort();
	memcpy(p->digest, "sha256:", 7);
	for (i = 0; i < mdlen; i++)
		snprintf(p->digest + 7 + 2 * i, 3, "%02x", md[i]);
	if (p->version == NULL)
		p->version = strndup(p->digest + 7, 12);
	if (p->version == NULL)
		abort();
}

/* Loads a policy from memory; the one path both entry points take. */
int
policy_load_buffer(const char *name, const char *dir, const char *data,
    size_t len, struct policy **out, struct errlist *errs)
{
	struct loader l;

	memset(&l, 0, sizeof l);
	l.dir = dir;
	l.errs = errs;
	l.nerr0 = errs->n;
	l.pp.y.file = name;
	l.pp.y.errs = errs;
	l.pp.p = policy_defaults(name);
	if ((l.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(l.md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(l.md, data, len) != 1)
		abort();
	if ((l.pp.runner = regex_runner_new()) == NULL)
		abort();

	load_document(&l, data, len);
	finish_digest(&l);
	/* Which texts any word list reads, so evaluation scans only those. */
	for (size_t i = 0; i < l.pp.p->nrules; i++)
		if (l.pp.p->rules[i].kind == RULE_WORDLIST)
			l.pp.p->wordlist_fields |= 1u << l.pp.p->rules[i].field;
	/* Examples only mean something once every rule has loaded. */
	if (!failed(&l)) {
		l.pp.p->prefilter = prefilter_build(l.pp.p,
		    &l.pp.p->nunfiltered);
		policy_check_examples(l.pp.p, errs);
	}

	policy_parse_clear(&l.pp);
	regex_runner_free(l.pp.runner);
	EVP_MD_CTX_free(l.md);
	if (failed(&l)) {
		policy_free(l.pp.p);
		return -1;
	}
	*out = l.pp.p;
	return 0;
}

/* Reads a policy file and loads it with its directory for the lists. */
int
policy_load(const char *path, struct policy **out, struct errlist *errs)
{
	const char *slash;
	char *data, *dir;
	size_t len;
	int rc;

	if (file_read(path, POLICY_MAX_BYTES, &data, &len, NULL) == -1) {
		errlist_add(errs, path, 0, 0, "cannot read the policy: %s",
		    strerror(errno));
		return -1;
	}
	if ((slash = strrchr(path, '/')) == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		abort();
	rc = policy_load_buffer(path, dir, data, len, out, errs);
	free(dir);
	free(data);
	return rc;
}
