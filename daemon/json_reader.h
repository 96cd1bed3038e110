/*
 * json_reader: a strict, one-pass pull reader of JSON text (RFC 8259), for
 * request bodies that are read once and thrown away.
 *
 * It builds no tree: the caller walks the document (objects member by member,
 * any other value read as a string or skipped) and copies nothing it does
 * not ask for.  Every value it steps over is still checked in full, so a
 * body it accepts is JSON that jansson accepts too (numbers included: an
 * integer past 64 bits or a real that overflows a double is refused, as
 * jansson refuses them), and a key repeated in any object is refused.
 *
 * The caller must have refused NUL bytes, invalid UTF-8 and \u0000 first
 * (request.c's pre-scan does): the reader relies on it for the strings it
 * decodes, which are then NUL-terminated UTF-8 without NULs.  It never
 * logs; it records the first fault and stops.
 */
#ifndef COMMENTD_JSON_READER_H
#define COMMENTD_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_READER_MAX_DEPTH	31
#define JSON_READER_FEW_KEYS	16	/* keys held without an allocation */

enum json_fault {
	JSON_FAULT_NONE = 0,
	JSON_FAULT_SYNTAX,	/* not JSON, or a number jansson cannot hold */
	JSON_FAULT_DUPLICATE,	/* a key twice in one object */
	JSON_FAULT_TOO_DEEP,	/* nested past the reader's max_depth */
	JSON_FAULT_NO_MEMORY
};

enum json_kind {
	JSON_KIND_NONE = 0,	/* no value here: a fault was recorded */
	JSON_KIND_OBJECT,
	JSON_KIND_ARRAY,
	JSON_KIND_STRING,
	JSON_KIND_NUMBER,
	JSON_KIND_TRUE,
	JSON_KIND_FALSE,
	JSON_KIND_NULL
};

/* A key already read, for the duplicate check. */
struct json_key {
	uint32_t	 object;	/* which object it belongs to */
	uint32_t	 hash;
	const char	*s;		/* decoded; not NUL-terminated */
	size_t		 len;
};

struct json_reader {
	const unsigned char *s;
	size_t		 len, pos;
	char		*out;		/* decoded strings, len + 1 bytes */
	size_t		 outlen;
	int		 depth, max_depth;
	uint32_t	 objects;	/* objects opened so far */
	uint32_t	 object[JSON_READER_MAX_DEPTH + 1]; /* open ones */
	bool		 first[JSON_READER_MAX_DEPTH + 1];  /* no member yet */

	struct json_key	*keys;		/* `few` until there are more */
	struct json_key	 few[JSON_READER_FEW_KEYS];
	size_t		 nkeys, keys_cap;
	uint32_t	*index;		/* keys + 1 by hash, once there are many */
	size_t		 index_mask;

	enum json_fault	 fault;
	char		 message[160];
};

/*
 * Starts reading len bytes at s; decoded strings go to out, which must hold
 * len + 1 bytes and outlive every string handed back.  Containers nested
 * deeper than max_depth (at most JSON_READER_MAX_DEPTH) are refused.
 */
void	json_reader_init(struct json_reader *, const void *s, size_t len,
	    char *out, int max_depth);

/* Releases what the reader allocated (not s, not out). */
void	json_reader_free(struct json_reader *);

/* The kind of the next value, without consuming it; NONE after a fault. */
enum json_kind json_reader_peek(struct json_reader *);

/* Consumes the '{' of an object; -1 after a fault. */
int	json_reader_object(struct json_reader *);

/*
 * The next member of the object being read: 1 with its decoded key (the
 * reader is then at its value, which the caller must read or skip), 0 at
 * the object's end (consumed), -1 on a fault.
 */
int	json_reader_member(struct json_reader *, const char **key,
	    size_t *len);

/* Reads a string value, decoded and NUL-terminated; -1 on a fault. */
int	json_reader_string(struct json_reader *, const char **s,
	    size_t *len);

/* Reads any value and drops it, checking all of it; -1 on a fault. */
int	json_reader_skip(struct json_reader *);

/* Checks that nothing but whitespace follows; -1 (a fault) otherwise. */
int	json_reader_end(struct json_reader *);

#endif
