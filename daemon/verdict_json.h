/*
 * verdict_json: the JSON form of a verdict, as /v1/check answers it and as
 * `commentd --eval` prints it, and the JSON form of a client error.
 *
 * Shared by the command line and the HTTP server, so it builds jansson values
 * and never writes anywhere: the caller chooses stdout or an evbuffer.
 */
#ifndef COMMENTD_VERDICT_JSON_H
#define COMMENTD_VERDICT_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "eval.h"
#include "policy.h"

/* Stable error codes of the API (DESIGN.md), for verdict_json_error(). */
#define VJ_INVALID_JSON		"invalid_json"
#define VJ_MISSING_FIELD	"missing_field"
#define VJ_BAD_TYPE		"bad_type"
#define VJ_BAD_UTF8		"bad_utf8"
#define VJ_TOO_LARGE		"too_large"

/*
 * The answer for comment c judged v under policy p:
 *   {"id", "decision", "score", "reasons": [{"rule", "category", "action",
 *    "message", "field", "matched", "span": [start, end]}],
 *    "policy": {"name", "version", "digest"}, "retry_after_s", "took_us"}.
 * `id` is echoed as given (borrowed; NULL gives null).  `matched` is the
 * original bytes [start, end) of the reason's field.  Returns a new
 * reference, or NULL when memory ran out.
 */
json_t	*verdict_json(json_t *id, const struct comment *c,
	    const struct verdict *v, const struct policy *p,
	    uint32_t retry_after_s, uint64_t took_us);

/*
 * {"id": id, "error": {"code": code, "message": message}}; with id NULL
 * there is no "id" key (an HTTP error that has no comment to name).
 * `message` need not be valid UTF-8: invalid bytes are replaced.
 */
json_t	*verdict_json_error(json_t *id, const char *code,
	    const char *message);

#endif
