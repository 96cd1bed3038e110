/*
 * admin_url: the parts of a URL the admin routes and the decisions feed
 * read: an id in the path and the query string's parameters, strictly
 * percent-decoded and bounded.
 *
 * evhttp's own decoders leave a malformed escape as it is and stop a value
 * at an encoded NUL, so "site=ex%00ample" would quietly become "ex".  Here
 * a malformed escape, a NUL, bytes that are not UTF-8, a parameter twice,
 * one the route does not know or a value over its bound is an error that
 * names the parameter; nothing is cut short.  It never allocates.
 */
#ifndef COMMENTD_ADMIN_URL_H
#define COMMENTD_ADMIN_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of an id in a path, decoded: comment and author ids (api-errors.md). */
#define ADMIN_URL_ID_MAX	128

#define ADMIN_URL_PARAMS_MAX	8	/* parameters in one query string */
#define ADMIN_URL_NAME_MAX	32
#define ADMIN_URL_VALUE_MAX	256	/* decoded bytes of one value */

struct admin_query {
	size_t		 n;
	struct {
		char	 name[ADMIN_URL_NAME_MAX + 1];
		char	 value[ADMIN_URL_VALUE_MAX + 1];
	}		 p[ADMIN_URL_PARAMS_MAX];
};

/*
 * Decodes len bytes at s into out (NUL-terminated, at most size - 1 bytes);
 * with plus, '+' is a space (query strings).  The decoded length, or -1
 * with *why set: a malformed escape, a NUL, bytes that are not UTF-8, or
 * too long.
 */
int	admin_url_decode(const char *s, size_t len, bool plus, char *out,
	    size_t size, const char **why);

/* Why a query string was refused: an API error code, a message, a field. */
struct admin_url_error {
	const char	*code;		/* "bad_value", "unknown_parameter" */
	char		 message[160];
	char		 field[ADMIN_URL_NAME_MAX + 1];	/* "" when none */
};

/*
 * Reads a query string (NULL or "" has no parameters); every name must be
 * in known (NULL-terminated).  0, or -1 with err filled in.
 */
int	admin_url_query(const char *query, const char *const *known,
	    struct admin_query *, struct admin_url_error *err);

/* A parameter's decoded value, or NULL when the query does not have it. */
const char *admin_url_param(const struct admin_query *, const char *name);

/*
 * A whole number from min to max written in decimal digits only (no sign,
 * no spaces): 0 with *out, or -1.
 */
int	admin_url_uint(const char *s, uint64_t min, uint64_t max,
	    uint64_t *out);

/*
 * Whether s is a full stream id "MS-SEQ" (decimal, each part below 2^64),
 * as the cursors of the queue, the audit and the decisions feed are; its
 * parts in *ms and *seq.
 */
bool	admin_url_stream_id(const char *s, uint64_t *ms, uint64_t *seq);

/*
 * Whether s is a cursor entries can follow: a stream id below the largest
 * (Redis refuses a range that starts after it).
 */
bool	admin_url_cursor(const char *s);

#endif
