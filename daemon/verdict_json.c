/*
 * verdict_json: writes the JSON of a verdict or of a client error.
 *
 * It must never write to a stream or log: the HTTP server and --eval both
 * call it and each decides where the bytes go.  It never trusts a span or a
 * message to be well formed (json_writer repairs bad UTF-8), because a bad
 * byte here would turn one odd comment into an answer that no client can
 * parse.  It writes member by member: a tree of the answer cost as much as
 * evaluating the comment.
 */
#include "verdict_json.h"

#include <string.h>

/* Writes the comment's id as the answer names it. */
static void
vj_id_write(struct json_writer *w, const struct vj_id *id)
{
	if (id == NULL || id->s == NULL)
		json_writer_lit(w, "null");
	else if (id->json)
		json_writer_raw(w, id->s, id->len);
	else
		json_writer_string(w, id->s, id->len);
}

/* The original bytes of the field a reason points into, clamped to it. */
static void
vj_matched(struct json_writer *w, const struct comment *c,
    const struct reason *r)
{
	const char	*text;
	size_t		 len;
	uint32_t	 start = r->start, end = r->end;

	if (r->field == FIELD_AUTHOR_NAME) {
		text = c->author_name;
		len = text != NULL ? c->author_name_len : 0;
	} else {
		text = c->body;
		len = c->body_len;
	}
	if (end > len)
		end = (uint32_t)len;
	if (start > end)
		start = end;
	json_writer_lit(w, ",\"matched\":");
	json_writer_string(w, text != NULL ? text + start : "", end - start);
	json_writer_lit(w, ",\"span\":[");
	json_writer_int(w, start);
	json_writer_lit(w, ",");
	json_writer_int(w, end);
	json_writer_lit(w, "]");
}

/* One element of "reasons". */
static void
vj_reason(struct json_writer *w, const struct comment *c,
    const struct reason *r)
{
	json_writer_lit(w, "{\"rule\":");
	json_writer_cstring(w, r->id);
	json_writer_lit(w, ",\"category\":");
	json_writer_cstring(w, r->category);
	json_writer_lit(w, ",\"action\":");
	json_writer_cstring(w, action_name(r->action));
	json_writer_lit(w, ",\"message\":");
	json_writer_cstring(w, r->message);
	json_writer_lit(w, ",\"field\":");
	json_writer_cstring(w, field_name(r->field));
	vj_matched(w, c, r);
	json_writer_lit(w, "}");
}

/* The "reasons" array alone, as a queue entry keeps it. */
void
verdict_json_write_reasons(struct json_writer *w, const struct comment *c,
    const struct verdict *v)
{
	json_writer_lit(w, "[");
	for (size_t i = 0; i < v->nreasons; i++) {
		if (i > 0)
			json_writer_lit(w, ",");
		vj_reason(w, c, &v->reasons[i]);
	}
	json_writer_lit(w, "]");
}

/* The /v1/check answer for one judged comment. */
void
verdict_json_write(struct json_writer *w, const struct vj_id *id,
    const struct comment *c, const struct verdict *v, const struct policy *p,
    uint32_t retry_after_s, uint64_t took_us)
{
	json_writer_lit(w, "{\"id\":");
	vj_id_write(w, id);
	json_writer_lit(w, ",\"decision\":");
	json_writer_cstring(w, decision_name(v->decision));
	json_writer_lit(w, ",\"score\":");
	json_writer_int(w, v->score);
	json_writer_lit(w, ",\"reasons\":");
	verdict_json_write_reasons(w, c, v);
	json_writer_lit(w, ",\"policy\":{\"name\":");
	json_writer_cstring(w, p->name);
	json_writer_lit(w, ",\"version\":");
	json_writer_cstring(w, p->version);
	json_writer_lit(w, ",\"digest\":");
	json_writer_cstring(w, p->digest);
	json_writer_lit(w, "},\"retry_after_s\":");
	json_writer_int(w, retry_after_s);
	json_writer_lit(w, ",\"took_us\":");
	json_writer_int(w, took_us > INT64_MAX ? INT64_MAX : (int64_t)took_us);
	json_writer_lit(w, "}");
}

/* A client error, with the comment's id when there is one. */
void
verdict_json_write_error(struct json_writer *w, const struct vj_id *id,
    const char *code, const char *message, const char *field)
{
	json_writer_lit(w, "{");
	if (id != NULL && id->s != NULL) {
		json_writer_lit(w, "\"id\":");
		vj_id_write(w, id);
		json_writer_lit(w, ",");
	}
	json_writer_lit(w, "\"error\":{\"code\":");
	json_writer_cstring(w, code);
	json_writer_lit(w, ",\"message\":");
	json_writer_cstring(w, message);
	if (field != NULL) {
		json_writer_lit(w, ",\"field\":");
		json_writer_cstring(w, field);
	}
	json_writer_lit(w, "}}");
}
