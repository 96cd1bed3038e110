/*
 * request: the body of POST /v1/check, decoded strictly into a
 * check_request, or refused with one stable error code per class of mistake
 * (docs/api-errors.md lists them).
 *
 * It only reads bytes: it never logs, never answers a client and never
 * applies a policy (the body's length limit is the policy's and the HTTP
 * layer's business), so the server, tests and the fuzzer call it alike.
 */
#ifndef COMMENTD_REQUEST_H
#define COMMENTD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "eval.h"
#include "json_writer.h"

#define REQUEST_MAX_DEPTH	16	/* nesting of arrays and objects */
#define REQUEST_ID_MAX		128	/* bytes of "id" and "author.id" */
#define REQUEST_SITE_MAX	64
#define REQUEST_THREAD_MAX	256
#define REQUEST_NAME_MAX	128	/* bytes of "author.name" */

/* The classes of refusal; request_code_name() gives each its API code. */
enum request_code {
	REQUEST_OK = 0,
	REQUEST_INVALID_JSON,	/* empty, not JSON, or a number past 64 bits */
	REQUEST_BAD_UTF8,	/* bytes that are not UTF-8, or a lone surrogate */
	REQUEST_BAD_NUL,	/* a NUL byte, raw or as \u0000 */
	REQUEST_TOO_DEEP,	/* more than REQUEST_MAX_DEPTH levels */
	REQUEST_DUPLICATE_KEY,	/* one key twice in an object */
	REQUEST_BAD_TYPE,	/* the top level or a field of the wrong type */
	REQUEST_MISSING_FIELD,	/* id, author.id or body absent */
	REQUEST_BAD_VALUE,	/* the right type, outside its bounds or syntax */
	REQUEST_NO_MEMORY	/* not the client's fault: answer 500 */
};

/*
 * A decoded request.  Every string points into buf, which the request owns,
 * so evaluation needs no copy; each is NUL-terminated, holds no other NUL
 * and is valid UTF-8, and its length is in bytes.  An optional field that
 * was absent (or null) is NULL with length 0.
 */
struct check_request {
	char		*buf;		/* the decoded strings */
	const char	*id;
	size_t		 id_len;
	const char	*site;		/* NULL: the configured default site */
	size_t		 site_len;
	const char	*thread;
	size_t		 thread_len;
	const char	*author_id;
	size_t		 author_id_len;
	const char	*author_name;
	size_t		 author_name_len;
	const char	*author_ip;	/* as sent */
	int		 author_ip_af;	/* AF_INET, AF_INET6, or 0 when absent */
	unsigned char	 author_ip_addr[16];	/* network order, as inet_pton */
	const char	*body;
	size_t		 body_len;
	bool		 dry_run;
};

/*
 * Why a body was refused.  `field` names the field at fault ("author.ip"),
 * or is NULL when the fault is the whole body.  `id` holds the comment's id
 * when it had been read before the fault (empty otherwise), so the answer
 * can name the comment.  `message` is valid UTF-8, for a human.
 */
struct request_error {
	enum request_code code;
	const char	*field;
	char		 id[REQUEST_ID_MAX + 1];
	char		 message[256];
};

/*
 * Decodes len bytes of a POST /v1/check body.  Returns 0 with *req filled
 * (free it with request_free), or -1 with *err filled and *req left empty.
 * The bytes may hold anything, NUL included; they are not kept.
 */
int	request_parse(const void *data, size_t len, struct check_request *req,
	    struct request_error *err);

/* Releases what a request owns and empties it; safe on an empty request. */
void	request_free(struct check_request *);

/* The API code of a class ("invalid_json"); never NULL. */
const char *request_code_name(enum request_code);

/*
 * Writes the 400 answer for a refusal: {"id"?, "error": {"code", "message",
 * "field"?}}.
 */
void	request_error_write(const struct request_error *,
	    struct json_writer *);

/* The fields the engine reads, pointing into the request. */
void	request_comment(const struct check_request *, struct comment *);

#endif
