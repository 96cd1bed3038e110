/*
 * policy_parse: reads the rule blocks of a policy document (wordlists,
 * rules, rate_limits, duplicates, new_commenters, examples) into a struct
 * policy, reporting every mistake at its node.
 *
 * Internal to the loader and split from it only for size: policy_load.c
 * owns the document, the files, the digest and the examples' run; this
 * module reads nodes, and compiles and vets regexes, never opens a file.
 */
#ifndef COMMENTD_POLICY_PARSE_H
#define COMMENTD_POLICY_PARSE_H

#include <stddef.h>

#include "policy.h"
#include "yaml_node.h"

struct regex_runner;
struct policy_id;

struct policy_parser {
	struct yaml_node_ctx	 y;
	struct policy		*p;
	struct regex_runner	*runner;	/* for vetting regexes */

	/* Every rule and rate-limit id with its place, sorted once read. */
	struct policy_id	*ids;
	size_t			 nids, idcap;
};

/*
 * Each reads one entry into the next free slot of its array, which the
 * caller sized from the list's length.
 */

/* A word list's rule; returns it with its `file` node in *file, or NULL. */
struct rule	*policy_parse_wordlist(struct policy_parser *,
		    const yaml_node_t *map, size_t index,
		    const yaml_node_t **file);
void		 policy_parse_rule(struct policy_parser *,
		    const yaml_node_t *map, size_t index);
void		 policy_parse_rate_limit(struct policy_parser *,
		    const yaml_node_t *map, size_t index);
void		 policy_parse_example(struct policy_parser *,
		    const yaml_node_t *map, size_t index);

/*
 * Reports ids used twice, after every word list, rule and rate limit and
 * before any example has been read (examples look ids up).
 */
void		 policy_parse_check_ids(struct policy_parser *);

/* Frees what the parser holds (never the policy). */
void		 policy_parse_clear(struct policy_parser *);

/* The `duplicates` and `new_commenters` blocks. */
void		 policy_parse_duplicates(struct policy_parser *,
		    const yaml_node_t *);
void		 policy_parse_new_commenters(struct policy_parser *,
		    const yaml_node_t *);

#endif
