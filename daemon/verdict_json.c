/*
 * verdict_json: builds the JSON of a verdict or of a client error.
 *
 * It must never write to a stream or log: the HTTP server and --eval both
 * call it and each decides where the bytes go.  It never trusts a span or a
 * message to be well formed, because a bad byte here would turn one odd
 * comment into an answer that no client can parse.
 */
#include "verdict_json.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

/* A JSON string of len bytes, with invalid UTF-8 replaced by U+FFFD. */
static json_t *
vj_string(const char *s, size_t len)
{
	static const char	 repl[] = "\xef\xbf\xbd";
	const utf8proc_uint8_t	*u = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t	 cp;
	utf8proc_ssize_t	 n;
	json_t			*j;
	char			*buf;
	size_t			 i = 0, o = 0;

	if (s == NULL)
		return json_null();
	if ((j = json_stringn(s, len)) != NULL)
		return j;

	/* Rare: only a broken span or a message quoting bad input gets here. */
	if (len > (SIZE_MAX - 1) / 3 || (buf = malloc(len * 3 + 1)) == NULL)
		return NULL;
	while (i < len) {
		n = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n < 1) {
			memcpy(buf + o, repl, 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(buf + o, s + i, (size_t)n);
		o += (size_t)n;
		i += (size_t)n;
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

/* A JSON string of a C string, or null. */
static json_t *
vj_cstring(const char *s)
{
	if (s == NULL)
		return json_null();
	return vj_string(s, strlen(s));
}

/* The original bytes of the field a reason points into, clamped to the text. */
static json_t *
vj_matched(const struct comment *c, const struct reason *r, uint32_t *start,
    uint32_t *end)
{
	const char	*text;
	size_t		 len;

	if (r->field == FIELD_AUTHOR_NAME) {
		text = c->author_name;
		len = text != NULL ? c->author_name_len : 0;
	} else {
		text = c->body;
		len = c->body_len;
	}
	*start = r->start;
	*end = r->end;
	if (*end > len)
		*end = (uint32_t)len;
	if (*start > *end)
		*start = *end;
	if (text == NULL)
		return json_string("");
	return vj_string(text + *start, *end - *start);
}

/* One element of "reasons". */
static json_t *
vj_reason(const struct comment *c, const struct reason *r)
{
	uint32_t	 start, end;
	json_t		*matched;

	matched = vj_matched(c, r, &start, &end);
	return json_pack("{s:o, s:o, s:s, s:o, s:s, s:o, s:[I, I]}",
	    "rule", vj_cstring(r->id),
	    "category", vj_cstring(r->category),
	    "action", action_name(r->action),
	    "message", vj_cstring(r->message),
	    "field", field_name(r->field),
	    "matched", matched,
	    "span", (json_int_t)start, (json_int_t)end);
}

/* The /v1/check answer for one judged comment. */
json_t *
verdict_json(json_t *id, const struct comment *c, const struct verdict *v,
    const struct policy *p, uint32_t retry_after_s, uint64_t took_us)
{
	json_t	*reasons, *r;

	if ((reasons = json_array()) == NULL)
		return NULL;
	for (size_t i = 0; i < v->nreasons; i++) {
		if ((r = vj_reason(c, &v->reasons[i])) == NULL ||
		    json_array_append_new(reasons, r) != 0) {
			json_decref(reasons);
			return NULL;
		}
	}
	/* "o" steals; a NULL from a failed allocation makes json_pack fail. */
	return json_pack("{s:O, s:s, s:i, s:o, s:{s:o, s:o, s:s}, s:I, s:I}",
	    "id", id != NULL ? id : json_null(),
	    "decision", decision_name(v->decision),
	    "score", v->score,
	    "reasons", reasons,
	    "policy",
	        "name", vj_cstring(p->name),
	        "version", vj_cstring(p->version),
	        "digest", p->digest,
	    "retry_after_s", (json_int_t)retry_after_s,
	    "took_us", (json_int_t)(took_us > INT64_MAX ? INT64_MAX : took_us));
}

/* A client error, with the comment's id when there is one. */
json_t *
verdict_json_error(json_t *id, const char *code, const char *message)
{
	json_t	*err;

	err = json_pack("{s:s, s:o}", "code", code, "message",
	    vj_cstring(message));
	if (err == NULL)
		return NULL;
	if (id == NULL)
		return json_pack("{s:o}", "error", err);
	return json_pack("{s:O, s:o}", "id", id, "error", err);
}
