/*
 * admin_explain: why the engine holds a comment, for `commentctl check`.
 * POST /v1/admin/explain takes a POST /v1/check body, decodes it with the
 * same strict decoder, evaluates it with the site's policy and answers the
 * engine's reasons, each with the normalised text it matched, and the
 * comment's normalised text: the answer to "why was this held?" when the
 * bytes that matched do not look like the word on the list.
 *
 * It is the engine alone: it never asks Redis, so it charges no limit,
 * queues nothing and knows nothing of the author (the reasons that need
 * state are those of POST /v1/check with dry_run).  It must never write to
 * Redis, the spool or the log's decision lines.
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "admin_job.h"
#include "http_reply.h"
#include "normalize.h"
#include "request.h"
#include "server_int.h"

/*
 * The normalised text of the characters that came from bytes [start, end)
 * of the original: what the matchers read there.
 */
static json_t *
explain_normalized(const struct ntext *nt, uint32_t start, uint32_t end)
{
	struct ntext part = { NULL, 0, 0 };
	size_t i = 0;
	json_t *j;
	char *s;

	while (i < nt->n && nt->c[i].start < start)
		i++;
	part.c = nt->c + i;
	while (i + part.n < nt->n && nt->c[i + part.n].end <= end)
		part.n++;
	if ((s = ntext_to_utf8(&part)) == NULL)
		return NULL;
	j = admin_json_bytes(s, strlen(s));
	free(s);
	return j;
}

/* One reason, as /v1/check writes it, with its normalised text. */
static json_t *
explain_reason(const struct comment *c, const struct reason *r,
    const struct ntext *body, const struct ntext *name)
{
	bool in_name = r->field == FIELD_AUTHOR_NAME;
	const char *text = in_name ? c->author_name : c->body;
	size_t len = in_name ? c->author_name_len : c->body_len;
	uint32_t start = r->start, end = r->end;

	if (text == NULL)
		len = 0;
	if (end > len)
		end = (uint32_t)len;
	if (start > end)
		start = end;
	/* As /v1/check writes them: a missing string is "". */
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:[I,I],s:o}",
	    "rule", r->id, "category", r->category != NULL ? r->category : "",
	    "action", action_name(r->action), "message", r->message != NULL ?
	    r->message : "", "field",
	    field_name(r->field), "matched", admin_json_bytes(text != NULL ?
	    text + start : "", end - start), "span", (json_int_t)start,
	    (json_int_t)end, "normalized", explain_normalized(in_name ? name :
	    body, start, end));
}

/*
 * The answer: the engine's verdict with each reason's normalised text, and
 * the normalised body (and author name, when one was sent).  NULL when the
 * text cannot be normalised (the decoder has validated it: our fault).
 */
static json_t *
explain_answer(const struct config_site *site, const struct comment *c,
    const struct verdict *v)
{
	const struct policy *p = site->policy;
	struct ntext body, name;
	json_t *reasons = json_array(), *norm = json_object(), *answer = NULL;
	char *s;
	size_t bad;

	ntext_init(&body);
	ntext_init(&name);
	if (normalize_text(&p->norm, c->body, c->body_len, &body, &bad) == -1 ||
	    (c->author_name != NULL && normalize_text(&p->norm,
	    c->author_name, c->author_name_len, &name, &bad) == -1))
		goto out;
	for (size_t i = 0; i < v->nreasons; i++)
		json_array_append_new(reasons, explain_reason(c,
		    &v->reasons[i], &body, &name));
	if ((s = ntext_to_utf8(&body)) != NULL)
		json_object_set_new(norm, "body", admin_json_bytes(s,
		    strlen(s)));
	free(s);
	if (c->author_name != NULL &&
	    (s = ntext_to_utf8(&name)) != NULL) {
		json_object_set_new(norm, "author.name", admin_json_bytes(s,
		    strlen(s)));
		free(s);
	}
	answer = json_pack("{s:s,s:s,s:i,s:O,s:O,s:{s:s,s:s,s:s}}", "site",
	    site->name, "decision", decision_name(v->decision), "score",
	    v->score, "reasons", reasons, "normalized", norm, "policy",
	    "name", p->name, "version", p->version, "digest", p->digest);
out:
	json_decref(reasons);
	json_decref(norm);
	ntext_free(&body);
	ntext_free(&name);
	return answer;
}

/* A body the decoder refused, with /v1/check's code for it. */
static void
explain_refuse(struct server *srv, struct evhttp_request *req,
    const struct request_error *err)
{
	if (err->code == REQUEST_NO_MEMORY)
		admin_send_error(srv, req, METRICS_ROUTE_ADMIN, 500,
		    "internal", "out of memory", NULL);
	else
		admin_send_error(srv, req, METRICS_ROUTE_ADMIN, 400,
		    request_code_name(err->code), err->message, err->field);
}

int
admin_explain(struct server *srv, struct evhttp_request *req, const char *id)
{
	static const char *const params[] = { NULL };
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *ctype = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	const char *query = evhttp_uri_get_query(
	    evhttp_request_get_evhttp_uri(req));
	const struct config_site *site;
	struct admin_url_error uerr;
	struct admin_query q;
	struct check_request cr;
	struct request_error err;
	struct comment c;
	struct verdict v;
	char *cause = NULL;
	json_t *answer;

	/* Every answer below is counted as it is sent, hence ADMIN_LATER. */
	if (admin_url_query(query, params, &q, &uerr) == -1) {
		admin_send_error(srv, req, METRICS_ROUTE_ADMIN, 400, uerr.code,
		    uerr.message, uerr.field[0] != '\0' ? uerr.field : NULL);
		return ADMIN_LATER;
	}
	if (!http_is_json(ctype)) {
		admin_send_error(srv, req, METRICS_ROUTE_ADMIN, 415,
		    "bad_content_type", "send the comment as Content-Type: "
		    "application/json", NULL);
		return ADMIN_LATER;
	}
	if (request_parse(evbuffer_pullup(in, -1), evbuffer_get_length(in),
	    &cr, &err) == -1) {
		explain_refuse(srv, req, &err);
		return ADMIN_LATER;
	}
	if ((site = config_site(srv->cfg, cr.site)) == NULL) {
		request_free(&cr);
		admin_send_error(srv, req, METRICS_ROUTE_ADMIN, 400,
		    "unknown_site", "no such site is configured", "site");
		return ADMIN_LATER;
	}
	request_comment(&cr, &c);
	verdict_init(&v);
	answer = NULL;
	if (eval_comment(site->policy, &c, srv->scratch, &v, &cause) == 0)
		answer = explain_answer(site, &c, &v);
	free(cause);
	verdict_free(&v);
	request_free(&cr);
	if (answer == NULL)
		admin_send_error(srv, req, METRICS_ROUTE_ADMIN, 500,
		    "internal", "the comment could not be evaluated", NULL);
	else
		admin_send_json(srv, req, METRICS_ROUTE_ADMIN, 200, answer);
	return ADMIN_LATER;
}
