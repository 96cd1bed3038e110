/*
 * admin_decide: a moderator approves or rejects a queued comment.
 *
 * The daemon reads the queued entry first (its stream id from the queued
 * index, then the entry, for its author and the rules that fired), because
 * decide.lua must be given every key it touches, the author's record
 * included.  The script then checks, atomically, that the entry is still
 * the one read and still pending, and does the rest in one call: the
 * decisions stream, the queue, the index, the author's counts and the audit
 * trail (docs/redis.md).  It must never decide a comment twice: a comment
 * decided or unknown is answered 409 or 404 and nothing is written.
 */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "admin_job.h"
#include "redis.h"
#include "redis_args.h"
#include "server_int.h"

#define DECIDE_NOTE_MAX		1000	/* bytes of a moderator's note */
#define DECIDE_RULES_MAX	4096	/* bytes of the rules, joined by ',' */
#define DECIDE_ID_MAX		48	/* a stream id */

/* The reason codes of a rejection (commentctl reject --reason). */
static const char *const decide_reasons[] = { "offensive", "abuse", "hate",
    "threat", "spam", "ad", "privacy", "off-topic", "other", NULL };

struct decide_job {
	struct admin_job	 job;		/* first: admin_job_start's */
	const char		*outcome;	/* "approve" or "reject" */
	json_t			*body;		/* holds note and reason */
	const char		*note, *reason;
	char			 sid[DECIDE_ID_MAX];
};

/* Drops the body the note and reason point into. */
static void
decide_cleanup(struct admin_job *job)
{
	json_decref(((struct decide_job *)job)->body);
}

/* The script's answer: the decision made, or why none was. */
static void
decide_done(struct admin_job *job, const redisReply *reply)
{
	struct decide_job *dj = (struct decide_job *)job;
	const redisReply *w, *r;

	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    (w = reply->element[0])->type != REDIS_REPLY_STRING) {
		admin_job_error(job, 500, "internal", "decide.lua answered "
		    "something unexpected", NULL);
		return;
	}
	if (strcmp(w->str, "decided") == 0)
		admin_job_error(job, 409, "already_decided", "this comment was "
		    "already decided", NULL);
	else if (strcmp(w->str, "changed") == 0)
		admin_job_error(job, 409, "conflict", "the queued comment "
		    "changed while it was being decided; try again", NULL);
	else if (strcmp(w->str, "unknown") == 0 || strcmp(w->str, "gone") == 0)
		admin_job_error(job, 404, "unknown_comment", "no such comment "
		    "is queued on this site", NULL);
	else if (strcmp(w->str, "ok") != 0 || reply->elements != 5 ||
	    reply->element[1]->type != REDIS_REPLY_STRING ||
	    reply->element[2]->type != REDIS_REPLY_STRING ||
	    (r = reply->element[3])->type != REDIS_REPLY_INTEGER ||
	    reply->element[4]->type != REDIS_REPLY_INTEGER)
		admin_job_error(job, 500, "internal", "decide.lua answered "
		    "something unexpected", NULL);
	else
		admin_job_reply(job, 200, json_pack("{s:o,s:s,s:s,s:s?,s:s?,"
		    "s:s,s:I,s:o,s:o,s:{s:I,s:I}}",
		    "id", admin_json_bytes(job->id, job->idlen),
		    "site", job->site->name, "outcome", dj->outcome,
		    "reason", dj->reason, "note", dj->note,
		    "moderator", job->moderator, "uid", (json_int_t)job->uid,
		    "at_ms", json_integer(strtoll(reply->element[2]->str, NULL,
		    10)),
		    "entry", admin_json_bytes(reply->element[1]->str,
		    reply->element[1]->len),
		    "author", "approved", (json_int_t)r->integer,
		    "rejected", (json_int_t)reply->element[4]->integer));
}

/* The rules that queued the comment, comma-separated (rule ids hold none). */
static size_t
decide_rules(const redisReply *entry, char *buf, size_t size)
{
	json_t *reasons = admin_entry_reasons(entry);
	json_t *rules = admin_reasons_rules(reasons), *r;
	size_t o = 0, n, i;

	json_array_foreach(rules, i, r) {
		n = json_string_length(r);
		/* A list too long to keep is kept whole rules at a time. */
		if (o + n + 1 >= size)
			break;
		if (o > 0)
			buf[o++] = ',';
		memcpy(buf + o, json_string_value(r), n);
		o += n;
	}
	json_decref(rules);
	json_decref(reasons);
	return o;
}

/* The entry, read: now decide it, if it is still as read. */
static void
decide_entry(struct admin_job *job, const redisReply *reply)
{
	struct decide_job *dj = (struct decide_job *)job;
	struct redis_args *a = job->srv->args[0];
	const redisReply *e, *author;
	char rules[DECIDE_RULES_MAX];
	size_t nrules;

	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
	    !admin_entry_ok(e = reply->element[0]) ||
	    (author = admin_entry_field(e, "author_id")) == NULL) {
		admin_job_error(job, 404, "unknown_comment", "the queue index "
		    "names this comment but its entry is gone", NULL);
		return;
	}
	nrules = decide_rules(e, rules, sizeof rules);
	redis_args_init(a);
#define KEY(kind)	redis_args_key(a, job->prefix, job->site->name, \
			    (kind), NULL, 0)
	KEY("queue");
	KEY("queued");
	KEY("decisions");
	KEY("audit");
#undef KEY
	redis_args_key(a, job->prefix, job->site->name, "author", author->str,
	    author->len);
	redis_args_ref(a, job->id, job->idlen);
	redis_args_copy(a, dj->sid, strlen(dj->sid));
	redis_args_ref(a, dj->outcome, strlen(dj->outcome));
	redis_args_ref(a, dj->reason != NULL ? dj->reason : "",
	    dj->reason != NULL ? strlen(dj->reason) : 0);
	redis_args_ref(a, dj->note != NULL ? dj->note : "",
	    dj->note != NULL ? strlen(dj->note) : 0);
	redis_args_ref(a, job->moderator, strlen(job->moderator));
	redis_args_num(a, (uint64_t)job->uid);
	redis_args_copy(a, author->str, author->len);
	redis_args_copy(a, rules, nrules);
	admin_job_script(job, &job->srv->script_decide, 5, a, decide_done);
}

/* The index named the entry: read it, for its author and rules. */
static void
decide_sid(struct admin_job *job, const redisReply *reply)
{
	struct decide_job *dj = (struct decide_job *)job;

	if (admin_queue_sid(job, reply, dj->sid, sizeof dj->sid) == 0)
		admin_queue_read(job, dj->sid, decide_entry);
}

/* Whether code is one of the reason codes. */
static bool
decide_reason_ok(const char *code)
{
	for (size_t i = 0; decide_reasons[i] != NULL; i++)
		if (strcmp(code, decide_reasons[i]) == 0)
			return true;
	return false;
}

/*
 * Both routes: the body {"note"?, "reason"?} (a reason is required to
 * reject and refused to approve), then the queued index.
 */
static int
decide_run(struct server *srv, struct evhttp_request *req, const char *id,
    const char *outcome)
{
	static const char *const params[] = { "site", NULL };
	static const char *const fields[] = { "note", "reason", NULL };
	struct decide_job *dj;
	struct admin_job *job;
	json_t *body;
	bool reject = strcmp(outcome, "reject") == 0;

	if ((job = admin_job_start(srv, req, METRICS_ROUTE_ADMIN, params, id,
	    sizeof *dj)) == NULL)
		return ADMIN_LATER;
	dj = (struct decide_job *)job;
	dj->outcome = outcome;
	job->cleanup = decide_cleanup;
	/* A refused body has answered and freed the job already. */
	if ((body = admin_job_body(job, fields)) == NULL)
		return ADMIN_LATER;
	dj->body = body;
	if (admin_job_body_string(job, dj->body, "note", DECIDE_NOTE_MAX,
	    &dj->note) == -1 || admin_job_body_string(job, dj->body, "reason",
	    32, &dj->reason) == -1)
		return ADMIN_LATER;
	if (reject && dj->reason == NULL)
		admin_job_error(job, 400, "missing_field", "a rejection needs "
		    "a \"reason\": offensive, abuse, hate, threat, spam, ad, "
		    "privacy, off-topic or other", "reason");
	else if (reject && !decide_reason_ok(dj->reason))
		admin_job_error(job, 400, "bad_value", "\"reason\" must be "
		    "offensive, abuse, hate, threat, spam, ad, privacy, "
		    "off-topic or other", "reason");
	else if (!reject && dj->reason != NULL)
		admin_job_error(job, 400, "bad_value", "an approval takes no "
		    "\"reason\"", "reason");
	else
		admin_queue_lookup(job, decide_sid);
	return ADMIN_LATER;
}

int
admin_decide_approve(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	return decide_run(srv, req, id, "approve");
}

int
admin_decide_reject(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	return decide_run(srv, req, id, "reject");
}
