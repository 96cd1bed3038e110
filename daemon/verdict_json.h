/*
 * verdict_json: the JSON form of a verdict, as /v1/check answers it and as
 * `commentd --eval` prints it, and the JSON form of a client error.
 *
 * Shared by the command line and the HTTP server, so it writes into a
 * json_writer and never anywhere else: the caller chooses stdout or an
 * evbuffer.
 */
#ifndef COMMENTD_VERDICT_JSON_H
#define COMMENTD_VERDICT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval.h"
#include "json_writer.h"
#include "policy.h"

/* Stable error codes of the API (DESIGN.md), for verdict_json_write_error(). */
#define VJ_INVALID_JSON		"invalid_json"
#define VJ_MISSING_FIELD	"missing_field"
#define VJ_BAD_TYPE		"bad_type"
#define VJ_BAD_UTF8		"bad_utf8"
#define VJ_TOO_LARGE		"too_large"

/*
 * How an answer names its comment: a string (id_len bytes at id), or, with
 * `json`, JSON text written as it is (--eval echoes any scalar id it was
 * given).  A NULL id writes null.
 */
struct vj_id {
	const char	*s;
	size_t		 len;
	bool		 json;
};

/*
 * Writes the answer for comment c judged v under policy p:
 *   {"id", "decision", "score", "reasons": [{"rule", "category", "action",
 *    "message", "field", "matched", "span": [start, end]}],
 *    "policy": {"name", "version", "digest"}, "retry_after_s", "took_us"}.
 * `matched` is the original bytes [start, end) of the reason's field.
 */
void	verdict_json_write(struct json_writer *, const struct vj_id *id,
	    const struct comment *c, const struct verdict *v,
	    const struct policy *p, uint32_t retry_after_s, uint64_t took_us);

/* Writes the answer's "reasons" array alone (a queue entry keeps it). */
void	verdict_json_write_reasons(struct json_writer *,
	    const struct comment *c, const struct verdict *v);

/*
 * Writes {"id": id, "error": {"code", "message", "field"?}}; with id NULL
 * (or its s NULL) there is no "id" key (an HTTP error that has no comment to
 * name), and with field NULL no "field".  `message` need not be valid
 * UTF-8: invalid bytes are replaced.
 */
void	verdict_json_write_error(struct json_writer *, const struct vj_id *id,
	    const char *code, const char *message, const char *field);

#endif
