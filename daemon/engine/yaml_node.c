/*
 * yaml_node: typed, error-reporting access to libyaml's document tree.
 *
 * Every function here reports what is wrong at the node that holds it and
 * returns; none stops the walk, so the loader can list every mistake of a
 * file in one run.  Nothing here knows the policy schema.
 */
#include "yaml_node.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values are quoted in messages up to this many bytes. */
#define QUOTE_MAX	40

/* The 1-based line of a node. */
unsigned
yaml_node_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

/* The 1-based column of a node. */
unsigned
yaml_node_column(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.column + 1;
}

/* Reports a message at a node. */
void
yaml_node_error(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	errlist_add(c->errs, c->file, yaml_node_line(n), yaml_node_column(n),
	    "%s", msg);
}

/* A node of the document by index. */
yaml_node_t *
yaml_node_at(const struct yaml_node_ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

/*
 * Counts one more reference to node `index`; returns the node when it was
 * already referenced (an alias), else NULL.
 */
static const yaml_node_t *
count_ref(const struct yaml_node_ctx *c, unsigned char *seen, size_t nnodes,
    int index)
{
	if (index < 1 || (size_t)index > nnodes)
		return NULL;
	if (seen[index - 1]++ != 0)
		return yaml_node_at(c, index);
	return NULL;
}

/* Walks every node's children once; see yaml_node.h. */
int
yaml_node_check_tree(const struct yaml_node_ctx *c)
{
	yaml_document_t *d = c->doc;
	size_t nnodes = (size_t)(d->nodes.top - d->nodes.start);
	const yaml_node_t *again = NULL, *r;
	unsigned char *seen;
	yaml_node_t *n;

	if (nnodes == 0)
		return 0;
	if ((seen = calloc(nnodes, 1)) == NULL)
		abort();
	seen[0] = 1;		/* the root: any reference to it is a cycle */
	for (n = d->nodes.start; n < d->nodes.top && again == NULL; n++) {
		if (n->type == YAML_SEQUENCE_NODE) {
			yaml_node_item_t *it;
			for (it = n->data.sequence.items.start;
			    it < n->data.sequence.items.top; it++)
				if ((r = count_ref(c, seen, nnodes, *it)))
					again = r;
		} else if (n->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *p;
			for (p = n->data.mapping.pairs.start;
			    p < n->data.mapping.pairs.top; p++) {
				if ((r = count_ref(c, seen, nnodes, p->key)) ||
				    (r = count_ref(c, seen, nnodes, p->value)))
					again = r;
			}
		}
	}
	free(seen);
	if (again == NULL)
		return 0;
	/* The node's mark is where its anchor is; the alias is elsewhere. */
	yaml_node_error(c, again, "this value is used again through an alias "
	    "(*name); aliases are not supported in a policy");
	return -1;
}

/* True for a plain empty scalar (`key:` with nothing after it). */
static bool
is_null(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Describes a node for messages: its value, quoted and cut, or its kind. */
static const char *
describe(const yaml_node_t *n, char *buf, size_t size)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		break;
	default:
		return "nothing";
	}
	if (is_null(n))
		return "empty";
	return errlist_quote((const char *)n->data.scalar.value,
	    n->data.scalar.length, QUOTE_MAX, buf, size);
}

/* The ": " after the subject of a message about a mapping's keys. */
static const char *
colon_sep(const char *what)
{
	return what != NULL && *what != '\0' ? ": " : "";
}

/* The subject of a message, which callers may leave out. */
static const char *
nz(const char *what)
{
	return what != NULL ? what : "";
}

/* The space after the subject of a message, when there is one. */
static const char *
what_sep(const char *what)
{
	return what != NULL && *what != '\0' ? " " : "";
}

/* Reports a node of the wrong kind. */
static int
wrong_kind(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what, const char *want)
{
	char buf[128];

	yaml_node_error(c, n, "%s%smust be %s, not %s", nz(what),
	    what_sep(what), want, describe(n, buf, sizeof buf));
	return -1;
}

/* Checks that a node is a mapping. */
int
yaml_node_mapping(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return 0;
	return wrong_kind(c, n, what, "a mapping");
}

/* Checks that a node is a list. */
int
yaml_node_sequence(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return 0;
	return wrong_kind(c, n, what, "a list");
}

/* Checks that a node is a single value. */
int
yaml_node_scalar(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what)
{
	if (n->type == YAML_SCALAR_NODE)
		return 0;
	return wrong_kind(c, n, what, "a single value");
}

/* The number of items of a list or pairs of a mapping. */
size_t
yaml_node_nitems(const yaml_node_t *n)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return (size_t)(n->data.sequence.items.top -
		    n->data.sequence.items.start);
	if (n->type == YAML_MAPPING_NODE)
		return (size_t)(n->data.mapping.pairs.top -
		    n->data.mapping.pairs.start);
	return 0;
}

/* Item i of a list node. */
yaml_node_t *
yaml_node_item(const struct yaml_node_ctx *c, const yaml_node_t *n, size_t i)
{
	if (n->type != YAML_SEQUENCE_NODE || i >= yaml_node_nitems(n))
		return NULL;
	return yaml_node_at(c, n->data.sequence.items.start[i]);
}

/* True if a scalar node holds exactly the string s. */
static bool
scalar_is(const yaml_node_t *n, const char *s)
{
	size_t len = strlen(s);

	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
	    memcmp(n->data.scalar.value, s, len) == 0;
}

/* Looks a key up in a mapping; the first of duplicate keys wins. */
yaml_node_t *
yaml_node_get(const struct yaml_node_ctx *c, const yaml_node_t *map,
    const char *key, yaml_node_t **keynode)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;

	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yaml_node_at(c, p->key);
		if (k != NULL && scalar_is(k, key)) {
			if (keynode != NULL)
				*keynode = k;
			return yaml_node_at(c, p->value);
		}
	}
	return NULL;
}

/* Optimal string alignment distance, for "did you mean" hints. */
size_t
yaml_node_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t *block, *prev2, *prev, *cur, *t;

	/* Keys are short; long strings are never close to one anyway. */
	if (la > 64 || lb > 64)
		return la > lb ? la - lb + 3 : lb - la + 3;
	if ((block = calloc(3 * (lb + 1), sizeof *block)) == NULL)
		abort();
	prev2 = block;
	prev = prev2 + lb + 1;
	cur = prev + lb + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	free(block);
	return d;
}

/* The name in `names` closest to s, if it is close enough to be a typo. */
const char *
yaml_node_closest(const char *s, const char *const *names)
{
	const char *best = NULL;
	size_t bestd = 3, d;

	for (; *names != NULL; names++) {
		d = yaml_node_edit_distance(s, *names);
		if (d < bestd && d < strlen(*names)) {
			best = *names;
			bestd = d;
		}
	}
	return best;
}

/* Copies a scalar into buf as a C string; false if it does not fit. */
static bool
scalar_cstr(const yaml_node_t *n, char *buf, size_t size)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.length >= size ||
	    memchr(n->data.scalar.value, '\0', n->data.scalar.length) != NULL)
		return false;
	memcpy(buf, n->data.scalar.value, n->data.scalar.length);
	buf[n->data.scalar.length] = '\0';
	return true;
}

/*
 * Checks one key against the allowed names; `first` holds, per allowed
 * name, the key that used it first.  Only allowed keys need the duplicate
 * check: any other key is an error already.
 */
static int
check_key(const struct yaml_node_ctx *c, const yaml_node_t *k,
    const char *const *allowed, const yaml_node_t **first, const char *what)
{
	const char *hint;
	char name[128], buf[128];
	size_t i;

	if (k->type != YAML_SCALAR_NODE) {
		yaml_node_error(c, k, "%s%skeys must be plain names, not %s",
		    nz(what), colon_sep(what), describe(k, buf, sizeof buf));
		return -1;
	}
	if (!scalar_cstr(k, name, sizeof name)) {
		yaml_node_error(c, k, "%s%sunknown key %s", nz(what),
		    colon_sep(what), describe(k, buf, sizeof buf));
		return -1;
	}
	for (i = 0; allowed[i] != NULL; i++) {
		if (strcmp(allowed[i], name) != 0)
			continue;
		if (first[i] == NULL) {
			first[i] = k;
			return 0;
		}
		yaml_node_error(c, k, "%s%sduplicate key \"%s\" (first at line "
		    "%u)", nz(what), colon_sep(what), name,
		    yaml_node_line(first[i]));
		return -1;
	}
	if ((hint = yaml_node_closest(name, allowed)) != NULL)
		yaml_node_error(c, k, "%s%sunknown key \"%s\"; did you mean "
		    "\"%s\"?", nz(what), colon_sep(what), name, hint);
	else
		yaml_node_error(c, k, "%s%sunknown key %s", nz(what),
		    colon_sep(what), describe(k, buf, sizeof buf));
	return -1;
}

/* Checks every key of a mapping; see yaml_node.h. */
int
yaml_node_check_keys(const struct yaml_node_ctx *c, const yaml_node_t *map,
    const char *const *allowed, const char *what)
{
	const yaml_node_pair_t *p;
	const yaml_node_t **first, *k;
	size_t n;
	int rc = 0;

	if (map->type != YAML_MAPPING_NODE)
		return -1;
	for (n = 0; allowed[n] != NULL; n++)
		;
	if ((first = calloc(n + 1, sizeof *first)) == NULL)
		abort();
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		if ((k = yaml_node_at(c, p->key)) == NULL ||
		    check_key(c, k, allowed, first, what) == -1)
			rc = -1;
	}
	free(first);
	return rc;
}

/* Reads a decimal integer within bounds. */
int
yaml_node_int(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what, long min, long max, long *out)
{
	char s[32], buf[128], *end;
	long v;

	if (!scalar_cstr(n, s, sizeof s) || s[0] == '\0' ||
	    isspace((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	yaml_node_error(c, n, "%s%smust be an integer from %ld to %ld, not %s",
	    nz(what), what_sep(what), min, max, describe(n, buf, sizeof buf));
	return -1;
}

/* Reads a decimal number within bounds. */
int
yaml_node_double(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what, double min, double max, double *out)
{
	char s[64], buf[128], *end;
	double v;

	/* Decimal notation only: strtod would take "nan", "inf" and hex. */
	if (!scalar_cstr(n, s, sizeof s) || s[0] == '\0' ||
	    strspn(s, "0123456789.eE+-") != strlen(s))
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	yaml_node_error(c, n, "%s%smust be a number from %g to %g, not %s",
	    nz(what), what_sep(what), min, max, describe(n, buf, sizeof buf));
	return -1;
}

/* Reads true or false; YAML 1.1 spellings such as yes/no are refused. */
int
yaml_node_bool(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what, bool *out)
{
	char buf[128];

	if (scalar_is(n, "true")) {
		*out = true;
		return 0;
	}
	if (scalar_is(n, "false")) {
		*out = false;
		return 0;
	}
	yaml_node_error(c, n, "%s%smust be true or false, not %s", nz(what),
	    what_sep(what), describe(n, buf, sizeof buf));
	return -1;
}

/* Copies a non-empty string value. */
int
yaml_node_string(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what, char **out)
{
	char buf[128], *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0) {
		yaml_node_error(c, n, "%s%smust be a non-empty string, not %s",
		    nz(what), what_sep(what), describe(n, buf, sizeof buf));
		return -1;
	}
	if (memchr(n->data.scalar.value, '\0', n->data.scalar.length) != NULL) {
		yaml_node_error(c, n, "%s%smust not contain a NUL character",
		    nz(what), what_sep(what));
		return -1;
	}
	if ((s = strndup((const char *)n->data.scalar.value,
	    n->data.scalar.length)) == NULL)
		abort();
	*out = s;
	return 0;
}

/* Reads one of a list of names, hinting at the nearest on a typo. */
int
yaml_node_enum(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what, const char *const *names, int *out)
{
	char list[256], buf[128], name[64];
	const char *hint = NULL;
	size_t o = 0;
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if (scalar_is(n, names[i])) {
			*out = i;
			return 0;
		}
		o += (size_t)snprintf(list + o, o < sizeof list ?
		    sizeof list - o : 0, "%s%s", i ? ", " : "", names[i]);
		if (o >= sizeof list)
			o = sizeof list - 1;
	}
	if (scalar_cstr(n, name, sizeof name))
		hint = yaml_node_closest(name, names);
	if (hint != NULL)
		yaml_node_error(c, n, "%s%smust be one of %s, not %s; did you "
		    "mean \"%s\"?", nz(what), what_sep(what), list,
		    describe(n, buf, sizeof buf), hint);
	else
		yaml_node_error(c, n, "%s%smust be one of %s, not %s", nz(what),
		    what_sep(what), list, describe(n, buf, sizeof buf));
	return -1;
}

/* Parses "90s", "10m", "24h", "2d" (and "m" when the count is optional). */
int
yaml_node_parse_duration(const char *s, bool count_optional, uint32_t max_s,
    uint32_t *out)
{
	unsigned long long n = 1, unit;
	const char *p = s;

	if (isdigit((unsigned char)*p)) {
		n = 0;
		for (; isdigit((unsigned char)*p); p++) {
			n = n * 10 + (unsigned)(*p - '0');
			if (n > UINT32_MAX)
				return -1;
		}
	} else if (!count_optional)
		return -1;
	switch (*p++) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || n == 0 || n * unit > max_s)
		return -1;
	*out = (uint32_t)(n * unit);
	return 0;
}

/* Reads a duration value. */
int
yaml_node_duration(const struct yaml_node_ctx *c, const yaml_node_t *n,
    const char *what, uint32_t max_s, uint32_t *out)
{
	char s[32], buf[128];

	if (scalar_cstr(n, s, sizeof s) &&
	    yaml_node_parse_duration(s, false, max_s, out) == 0)
		return 0;
	yaml_node_error(c, n, "%s%smust be a duration such as 90s, 10m, 24h or "
	    "2d, at most %us, not %s", nz(what), what_sep(what), max_s,
	    describe(n, buf, sizeof buf));
	return -1;
}

/* "PRE" + "KEY": the subject of a message about one key. */
static const char *
key_name(char *buf, size_t size, const char *pre, const char *key)
{
	snprintf(buf, size, "%s%s", nz(pre), key);
	return buf;
}

/* A required key; reports it missing at the mapping. */
yaml_node_t *
yaml_node_need(const struct yaml_node_ctx *c, const yaml_node_t *map,
    const char *key, const char *pre)
{
	yaml_node_t *n = yaml_node_get(c, map, key, NULL);

	if (n == NULL)
		yaml_node_error(c, map, "%smissing required key \"%s\"",
		    nz(pre), key);
	return n;
}

/* An optional integer key. */
void
yaml_node_opt_int(const struct yaml_node_ctx *c, const yaml_node_t *map,
    const char *key, const char *pre, long min, long max, long *out)
{
	yaml_node_t *n = yaml_node_get(c, map, key, NULL);
	char name[160];

	if (n != NULL)
		yaml_node_int(c, n, key_name(name, sizeof name, pre, key),
		    min, max, out);
}

/* An optional boolean key. */
void
yaml_node_opt_bool(const struct yaml_node_ctx *c, const yaml_node_t *map,
    const char *key, const char *pre, bool *out)
{
	yaml_node_t *n = yaml_node_get(c, map, key, NULL);
	char name[160];

	if (n != NULL)
		yaml_node_bool(c, n, key_name(name, sizeof name, pre, key),
		    out);
}

/* An optional string key. */
void
yaml_node_opt_string(const struct yaml_node_ctx *c, const yaml_node_t *map,
    const char *key, const char *pre, char **out)
{
	yaml_node_t *n = yaml_node_get(c, map, key, NULL);
	char name[160];

	if (n != NULL)
		yaml_node_string(c, n, key_name(name, sizeof name, pre, key),
		    out);
}

/* A required string key. */
void
yaml_node_need_string(const struct yaml_node_ctx *c, const yaml_node_t *map,
    const char *key, const char *pre, char **out)
{
	yaml_node_t *n = yaml_node_need(c, map, key, pre);
	char name[160];

	if (n != NULL)
		yaml_node_string(c, n, key_name(name, sizeof name, pre, key),
		    out);
}

/* An optional key naming one of `names`. */
void
yaml_node_opt_enum(const struct yaml_node_ctx *c, const yaml_node_t *map,
    const char *key, const char *pre, const char *const *names, int *out)
{
	yaml_node_t *n = yaml_node_get(c, map, key, NULL);
	char name[160];

	if (n != NULL)
		yaml_node_enum(c, n, key_name(name, sizeof name, pre, key),
		    names, out);
}

/* Reports libyaml's syntax error where the parser found it. */
void
yaml_node_syntax_error(struct errlist *errs, const char *file,
    const yaml_parser_t *ps, const char *data, size_t len)
{
	const char *problem;
	unsigned line = 1, column = 1;
	size_t i;

	problem = ps->problem != NULL ? ps->problem : "cannot parse";
	switch (ps->error) {
	case YAML_MEMORY_ERROR:
		errlist_add(errs, file, 0, 0, "out of memory while parsing");
		return;
	case YAML_READER_ERROR:
		/* The reader counts bytes, not lines: find the line here. */
		for (i = 0; i < ps->problem_offset && i < len; i++) {
			if (data[i] == '\n') {
				line++;
				column = 1;
			} else if (((unsigned char)data[i] & 0xc0) != 0x80)
				column++;
		}
		errlist_add(errs, file, line, column, "%s", problem);
		return;
	default:
		line = (unsigned)ps->problem_mark.line + 1;
		column = (unsigned)ps->problem_mark.column + 1;
		if (ps->context != NULL)
			errlist_add(errs, file, line, column,
			    "syntax error: %s (%s at line %u, column %u)",
			    problem, ps->context,
			    (unsigned)ps->context_mark.line + 1,
			    (unsigned)ps->context_mark.column + 1);
		else
			errlist_add(errs, file, line, column,
			    "syntax error: %s", problem);
		return;
	}
}
