/*
 * yaml_node: typed access to a libyaml document tree, with every mistake
 * reported into an errlist at the node that holds it.
 *
 * The policy loader walks libyaml's document API (a tree of nodes that keep
 * their marks) rather than its event stream, so that each check can point at
 * the offending node.  These helpers never stop at the first error: each
 * reports, returns -1 and leaves its output untouched, and the caller goes on
 * with the next key.  libyaml's marks are 0-based; messages are 1-based.
 */
#ifndef COMMENTD_YAML_NODE_H
#define COMMENTD_YAML_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "errlist.h"

/* The document being read, its name in messages and where errors go. */
struct yaml_node_ctx {
	yaml_document_t	*doc;
	const char	*file;
	struct errlist	*errs;
};

/* 1-based position of a node, as messages print it. */
unsigned	 yaml_node_line(const yaml_node_t *);
unsigned	 yaml_node_column(const yaml_node_t *);

/* Adds "file:line:column: message" at the node. */
void		 yaml_node_error(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * Refuses a tree in which some node is reached twice (anchors and aliases):
 * an alias can make the tree a cycle or an exponential one, and a policy
 * has no need of either.  Returns 0 or -1.
 */
int		 yaml_node_check_tree(const struct yaml_node_ctx *);

/* Node `index` of the document (from a sequence item or a pair), or NULL. */
yaml_node_t	*yaml_node_at(const struct yaml_node_ctx *, int index);

/*
 * Type checks: 0 if the node is of the kind, else -1 with "WHAT must be a
 * mapping" (a sequence, a scalar).
 */
int		 yaml_node_mapping(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what);
int		 yaml_node_sequence(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what);
int		 yaml_node_scalar(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what);

/* Items of a sequence node and pairs of a mapping node (no type check). */
size_t		 yaml_node_nitems(const yaml_node_t *);
yaml_node_t	*yaml_node_item(const struct yaml_node_ctx *,
		    const yaml_node_t *, size_t i);

/*
 * The value under `key` in a mapping, with the key node in *keynode when not
 * NULL; NULL when absent.  Keys that are not scalars never match.
 */
yaml_node_t	*yaml_node_get(const struct yaml_node_ctx *,
		    const yaml_node_t *map, const char *key,
		    yaml_node_t **keynode);

/*
 * Checks a mapping's keys: each must be a scalar, appear once and be in the
 * NULL-terminated `allowed` list.  An unknown key is reported with the known
 * one it most resembles ("did you mean ...?").  Returns 0 or -1.
 */
int		 yaml_node_check_keys(const struct yaml_node_ctx *,
		    const yaml_node_t *map, const char *const *allowed,
		    const char *what);

/* Scalar conversions; each reports "WHAT ..." at the node on failure. */
int		 yaml_node_int(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what, long min, long max,
		    long *out);
int		 yaml_node_double(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what, double min,
		    double max, double *out);
int		 yaml_node_bool(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what, bool *out);

/* A non-empty string without NUL bytes, malloc'd into *out. */
int		 yaml_node_string(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what, char **out);

/*
 * A scalar that must be one of the NULL-terminated `names`; *out is its
 * index.  The message lists the names.
 */
int		 yaml_node_enum(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what,
		    const char *const *names, int *out);

/*
 * A duration: a positive integer and a unit, s, m, h or d ("90s", "24h"),
 * in seconds up to `max_s`.
 */
int		 yaml_node_duration(const struct yaml_node_ctx *,
		    const yaml_node_t *, const char *what, uint32_t max_s,
		    uint32_t *out);

/*
 * Parses a duration without a node (rates reuse it): "10m", and "m" for one
 * unit when `count_optional`.  Returns 0, or -1 when malformed, zero or
 * longer than max_s.
 */
int		 yaml_node_parse_duration(const char *s, bool count_optional,
		    uint32_t max_s, uint32_t *out);

/*
 * Keys of a mapping by name.  `pre` prefixes the key in messages
 * ("thresholds.", "rule ID: ") and may be NULL.  The optional readers leave
 * *out as it was (the default) when the key is absent or wrong.
 */
yaml_node_t	*yaml_node_need(const struct yaml_node_ctx *,
		    const yaml_node_t *map, const char *key, const char *pre);
void		 yaml_node_opt_int(const struct yaml_node_ctx *,
		    const yaml_node_t *map, const char *key, const char *pre,
		    long min, long max, long *out);
void		 yaml_node_opt_bool(const struct yaml_node_ctx *,
		    const yaml_node_t *map, const char *key, const char *pre,
		    bool *out);
void		 yaml_node_opt_string(const struct yaml_node_ctx *,
		    const yaml_node_t *map, const char *key, const char *pre,
		    char **out);
void		 yaml_node_need_string(const struct yaml_node_ctx *,
		    const yaml_node_t *map, const char *key, const char *pre,
		    char **out);
void		 yaml_node_opt_enum(const struct yaml_node_ctx *,
		    const yaml_node_t *map, const char *key, const char *pre,
		    const char *const *names, int *out);

/* Edit distance (insertions, deletions, substitutions, transpositions). */
size_t		 yaml_node_edit_distance(const char *a, const char *b);

/* The name in `names` close enough to s to be what a typo meant, or NULL. */
const char	*yaml_node_closest(const char *s, const char *const *names);

/*
 * Reports libyaml's syntax error as file:line:column where the parser
 * found it (a reader error is located by counting lines in data).
 */
void		 yaml_node_syntax_error(struct errlist *errs, const char *file,
		    const yaml_parser_t *ps, const char *data, size_t len);

#endif
