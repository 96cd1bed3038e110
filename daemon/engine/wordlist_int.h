/*
 * wordlist_int: the matcher's tables, shared by loading (wordlist.c) and
 * scanning (wordlist_scan.c) and by nothing else.
 */
#ifndef COMMENTD_WORDLIST_INT_H
#define COMMENTD_WORDLIST_INT_H

#include "acm.h"
#include "strmap.h"
#include "wordlist.h"

#define PHRASE_KEY_MAX		1024
#define SCAN_MAX_LOOKUPS	64	/* per phrase start: bounds leet x phrases */
#define SUBSTR_MAX_HITS		32	/* per reading */

#define TERM_WORD	0x01	/* a word or phrase term ends here */
#define TERM_PREFIX	0x02	/* the leading words of a longer phrase */
#define TERM_ALLOW	0x04	/* allowlisted: never matched */

struct term {
	uint16_t	 flags;
	uint16_t	 nrules;
	uint16_t	*rules;
	uint32_t	 words;		/* number of words */
	uint32_t	 key_off;	/* its key in the table's arena */
	uint32_t	 key_len;
};

struct idxvec {
	uint32_t	*v;
	size_t		 n, cap;
};

struct matcher {
	struct normalize_opts norm;
	struct strmap	 words;		/* word and phrase terms, allowed words */
	struct term	*terms;		/* values of `words` */
	size_t		 nterms, terms_cap;
	struct strmap	 subs;		/* substring terms and allowed words */
	struct term	*sterms;	/* values of `subs` */
	size_t		 nsterms, sterms_cap;
	size_t		 nsubstring;	/* how many of them are substring terms */
	size_t		 sub_min_len;	/* bytes of the shortest substring term */
	struct acm	*acm;		/* over every key of `subs` */
	struct strmap	 buckets;	/* masked look-up: (length, letter) -> idxvec */
	struct idxvec	*bvec;
	size_t		 nbvec, bvec_cap;

	/* Working space for loading, kept to avoid allocating per line. */
	struct ntext	 nt;
	struct tokens	 tk;
};

#endif
