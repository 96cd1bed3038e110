/*
 * admin_queue: the moderation queue as moderators see it: the list of
 * pending comments (oldest first, filtered by rule), one comment whole, and
 * claiming the next one so that two moderators never review the same.
 *
 * The queue is the stream P:{S}:queue with its consumer group `moderators`
 * (docs/redis.md).  Decided entries are deleted from it, so reading the
 * stream is reading what is pending.  A claim is the group's pending entry
 * list: XAUTOCLAIM first takes back an entry whose moderator has held it
 * longer than the claim timeout (they left), else XREADGROUP hands out one
 * never delivered; the consumer is the moderator's user name.  This file
 * only reads the queue and claims from it; it must never add, decide or
 * delete an entry.
 */
#include "admin.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "admin_job.h"
#include "redis_args.h"
#include "server_int.h"

#define QUEUE_LIMIT_DEFAULT	50
#define QUEUE_LIMIT_MAX		500
#define QUEUE_PAGE		200	/* entries read at once, filtering */
#define QUEUE_SCAN_MAX		10000	/* entries one list request examines */
#define QUEUE_EXCERPT		240	/* bytes of body in a list item */
#define QUEUE_CLAIM_TIMEOUT_S	300
#define QUEUE_CLAIM_TIMEOUT_MAX_S 86400
#define QUEUE_AUTOCLAIM_ROUNDS	32	/* XAUTOCLAIM calls before XREADGROUP */
#define QUEUE_ID_MAX		48	/* a stream id, "MS-SEQ" */

struct queue_job {
	struct admin_job	 job;		/* first: admin_job_start's */
	json_t			*items;		/* list */
	json_t			*item;		/* show, claim */
	const char		*rule;		/* list: the filter, or NULL */
	uint64_t		 limit, scanned, depth, page;
	uint64_t		 timeout_s;	/* claim */
	int			 rounds;	/* claim: XAUTOCLAIM calls */
	bool			 more;		/* list: entries may follow */
	bool			 reclaimed;	/* claim: taken from another */
	char			 cursor[QUEUE_ID_MAX];
	char			 sid[QUEUE_ID_MAX];
	char			 author[ADMIN_URL_ID_MAX + 1];
	size_t			 author_len;
};

/* Drops what the route built. */
static void
queue_job_cleanup(struct admin_job *job)
{
	struct queue_job *qj = (struct queue_job *)job;

	json_decref(qj->items);
	json_decref(qj->item);
}

/* Starts a queue job with its cleanup; NULL when already answered. */
static struct queue_job *
queue_job_start(struct server *srv, struct evhttp_request *req,
    const char *const *params, const char *id)
{
	struct queue_job *qj;

	qj = (struct queue_job *)admin_job_start(srv, req, METRICS_ROUTE_ADMIN,
	    params, id, sizeof *qj);
	if (qj != NULL)
		qj->job.cleanup = queue_job_cleanup;
	return qj;
}

/* The scratch argv, emptied, with the command's name. */
static struct redis_args *
queue_args(struct admin_job *job, const char *cmd)
{
	struct redis_args *a = job->srv->args[0];

	redis_args_init(a);
	redis_args_ref(a, cmd, strlen(cmd));
	return a;
}

/* Adds one of the site's keys, P:{S}:KIND. */
static void
queue_key(struct admin_job *job, struct redis_args *a, const char *kind)
{
	redis_args_key(a, job->prefix, job->site->name, kind, NULL, 0);
}

/* Copies a string reply into buf (size bytes); false when it does not fit. */
static bool
queue_copy(const redisReply *r, char *buf, size_t size)
{
	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len >= size)
		return false;
	memcpy(buf, r->str, r->len);
	buf[r->len] = '\0';
	return true;
}

/*
 * How many of the body's first max bytes to show: cut back to the start of
 * a character, so an excerpt never ends inside one.
 */
static size_t
queue_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/*
 * A queue entry as the routes answer it: who, when, the rules that fired
 * and their reasons (with spans into the body), and an excerpt of the body;
 * `whole` adds the body, the author's ip and the policy that judged it.
 */
static json_t *
queue_item(const redisReply *entry, bool whole)
{
	const redisReply *body = admin_entry_field(entry, "body");
	uint64_t at = admin_entry_uint(entry, "at_ms"), now = admin_now_ms();
	json_t *item = json_object(), *author = json_object();
	json_t *reasons = admin_entry_reasons(entry);
	json_t *rules = admin_reasons_rules(reasons);
	const char *text = body != NULL ? body->str : "";
	size_t len = body != NULL ? body->len : 0, cut;

	json_object_set_new(item, "id", admin_entry_json(entry, "id"));
	json_object_set_new(item, "entry", admin_json_bytes(
	    entry->element[0]->str, entry->element[0]->len));
	json_object_set_new(item, "thread", admin_entry_json(entry, "thread"));
	json_object_set_new(author, "id", admin_entry_json(entry, "author_id"));
	json_object_set_new(author, "name", admin_entry_json(entry,
	    "author_name"));
	if (whole)
		json_object_set_new(author, "ip", admin_entry_json(entry,
		    "author_ip"));
	json_object_set_new(item, "author", author);
	json_object_set_new(item, "at_ms", json_integer((json_int_t)at));
	json_object_set_new(item, "age_s", json_integer(now > at ?
	    (json_int_t)((now - at) / 1000) : 0));
	json_object_set_new(item, "decision", admin_entry_json(entry,
	    "decision"));
	json_object_set_new(item, "score", json_integer((json_int_t)
	    admin_entry_uint(entry, "score")));
	json_object_set_new(item, "rules", rules);
	json_object_set_new(item, "reasons", reasons);
	cut = queue_cut(text, len, QUEUE_EXCERPT);
	json_object_set_new(item, "excerpt", admin_json_bytes(text, cut));
	json_object_set_new(item, "excerpt_truncated", json_boolean(cut < len));
	if (whole) {
		json_object_set_new(item, "body", admin_json_bytes(text, len));
		json_object_set_new(item, "policy", json_pack("{s:o,s:o}",
		    "name", admin_entry_json(entry, "policy"), "digest",
		    admin_entry_json(entry, "policy_digest")));
		json_object_set_new(item, "via", admin_entry_json(entry,
		    "via"));
	}
	return item;
}

/* Whether an item's rules include rule. */
static bool
queue_has_rule(json_t *item, const char *rule)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(item, "rules"), i, r)
		if (strcmp(json_string_value(r), rule) == 0)
			return true;
	return false;
}

/* --- GET /v1/admin/queue ------------------------------------------------ */

static void	list_page(struct queue_job *);

/* A page of entries: filtered into the items until the limit. */
static void
list_entries(struct admin_job *job, const redisReply *reply)
{
	struct queue_job *qj = (struct queue_job *)job;
	const redisReply *e;
	json_t *item;

	if (!admin_job_expect(job, reply, REDIS_REPLY_ARRAY, "XRANGE"))
		return;
	for (size_t i = 0; i < reply->elements; i++) {
		if (json_array_size(qj->items) == qj->limit) {
			qj->more = true;
			break;
		}
		e = reply->element[i];
		qj->scanned++;
		/* The cursor moves past every entry, even one not shown. */
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
		    !queue_copy(e->element[0], qj->cursor,
		    sizeof qj->cursor)) {
			admin_job_error(job, 500, "internal", "XRANGE answered "
			    "an entry without an id", NULL);
			return;
		}
		if (!admin_entry_ok(e))
			continue;
		item = queue_item(e, false);
		if (qj->rule == NULL || queue_has_rule(item, qj->rule))
			json_array_append_new(qj->items, item);
		else
			json_decref(item);
	}
	if (!qj->more && reply->elements == qj->page &&
	    qj->scanned < QUEUE_SCAN_MAX) {
		list_page(qj);
		return;
	}
	if (!qj->more && reply->elements == qj->page)
		qj->more = true;	/* stopped by the scan bound */
	admin_job_reply(job, 200, json_pack("{s:s,s:I,s:O,s:b,s:s?}",
	    "site", job->site->name, "depth", (json_int_t)qj->depth,
	    "items", qj->items, "more", qj->more, "cursor",
	    qj->cursor[0] != '\0' ? qj->cursor : NULL));
}

/* Asks for the next page after the cursor. */
static void
list_page(struct queue_job *qj)
{
	uint64_t left = qj->limit - json_array_size(qj->items);

	/* Unfiltered, one more than needed says whether there are more. */
	qj->page = qj->rule != NULL || left + 1 > QUEUE_PAGE ? QUEUE_PAGE :
	    left + 1;
	admin_job_xrange(&qj->job, "queue", qj->cursor, qj->page,
	    list_entries);
}

/* XLEN: the depth of the queue, then the first page. */
static void
list_depth(struct admin_job *job, const redisReply *reply)
{
	struct queue_job *qj = (struct queue_job *)job;

	if (admin_job_redis_error(job, reply))
		return;
	qj->depth = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0 ?
	    (uint64_t)reply->integer : 0;
	list_page(qj);
}

int
admin_queue_list(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	static const char *const params[] = { "site", "rule", "limit",
	    "after", NULL };
	struct queue_job *qj;
	struct redis_args *a;
	const char *after;

	if ((qj = queue_job_start(srv, req, params, NULL)) == NULL)
		return ADMIN_LATER;
	if (admin_job_uint(&qj->job, "limit", QUEUE_LIMIT_DEFAULT, 1,
	    QUEUE_LIMIT_MAX, &qj->limit) == -1)
		return ADMIN_LATER;
	after = admin_url_param(&qj->job.q, "after");
	if (after != NULL && (!admin_url_cursor(after) ||
	    strlen(after) >= sizeof qj->cursor)) {
		admin_job_error(&qj->job, 400, "bad_value", "\"after\" must be "
		    "a stream id (MS-SEQ) from an earlier answer", "after");
		return ADMIN_LATER;
	}
	if (after != NULL)
		snprintf(qj->cursor, sizeof qj->cursor, "%s", after);
	qj->rule = admin_url_param(&qj->job.q, "rule");
	if (qj->rule != NULL && qj->rule[0] == '\0') {
		admin_job_error(&qj->job, 400, "bad_value",
		    "\"rule\" must name a rule", "rule");
		return ADMIN_LATER;
	}
	qj->items = json_array();
	a = queue_args(&qj->job, "XLEN");
	queue_key(&qj->job, a, "queue");
	admin_job_send(&qj->job, a, list_depth);
	return ADMIN_LATER;
}

/* --- GET /v1/admin/queue/ID and POST /v1/admin/claim --------------------- */

/* Answers {"item": ...} (null when there is none). */
static void
show_answer(struct queue_job *qj)
{
	admin_job_reply(&qj->job, 200, json_pack("{s:O?}", "item", qj->item));
}

/* XPENDING of the one entry: who holds it, for how long. */
static void
show_claim(struct admin_job *job, const redisReply *reply)
{
	struct queue_job *qj = (struct queue_job *)job;
	const redisReply *p;

	/* NOGROUP: nobody could have claimed it. */
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOGROUP", 7) != 0 &&
	    admin_job_redis_error(job, reply))
		return;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
	    (p = reply->element[0])->type == REDIS_REPLY_ARRAY &&
	    p->elements == 4 && p->element[1]->type == REDIS_REPLY_STRING &&
	    p->element[2]->type == REDIS_REPLY_INTEGER &&
	    p->element[3]->type == REDIS_REPLY_INTEGER)
		json_object_set_new(qj->item, "claim", json_pack(
		    "{s:o,s:I,s:I}", "moderator", admin_json_bytes(
		    p->element[1]->str, p->element[1]->len), "idle_ms",
		    (json_int_t)p->element[2]->integer, "deliveries",
		    (json_int_t)p->element[3]->integer));
	else
		json_object_set_new(qj->item, "claim", json_null());
	show_answer(qj);
}

/* The author's record; then, for show, who holds the entry. */
static void
show_record(struct admin_job *job, const redisReply *reply)
{
	struct queue_job *qj = (struct queue_job *)job;
	struct redis_args *a;

	if (admin_job_redis_error(job, reply))
		return;
	json_object_set_new(json_object_get(qj->item, "author"), "record",
	    admin_author_record(reply));
	if (qj->timeout_s != 0) {
		/* A claim: the claim is this moderator's. */
		json_object_set_new(qj->item, "claim", json_pack(
		    "{s:s,s:I,s:b,s:I}", "moderator", job->moderator, "uid",
		    (json_int_t)job->uid, "reclaimed", qj->reclaimed,
		    "timeout_s", (json_int_t)qj->timeout_s));
		show_answer(qj);
		return;
	}
	a = queue_args(job, "XPENDING");
	queue_key(job, a, "queue");
	redis_args_ref(a, "moderators", 10);
	redis_args_copy(a, qj->sid, strlen(qj->sid));
	redis_args_copy(a, qj->sid, strlen(qj->sid));
	redis_args_ref(a, "1", 1);
	admin_job_send(job, a, show_claim);
}

/*
 * Takes an entry as the item, whole, and asks for its author's record.
 * false when the entry is not one (the caller answers).
 */
static bool
show_take(struct queue_job *qj, const redisReply *e)
{
	const redisReply *author;
	struct redis_args *a;

	if (!admin_entry_ok(e) || !queue_copy(e->element[0], qj->sid,
	    sizeof qj->sid) || (author = admin_entry_field(e,
	    "author_id")) == NULL || author->len > ADMIN_URL_ID_MAX)
		return false;
	memcpy(qj->author, author->str, author->len);
	qj->author_len = author->len;
	qj->item = queue_item(e, true);
	a = queue_args(&qj->job, "HGETALL");
	redis_args_key(a, qj->job.prefix, qj->job.site->name, "author",
	    qj->author, qj->author_len);
	admin_job_send(&qj->job, a, show_record);
	return true;
}

/* XRANGE of the one entry the index named. */
static void
show_entry(struct admin_job *job, const redisReply *reply)
{
	struct queue_job *qj = (struct queue_job *)job;

	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
	    !show_take(qj, reply->element[0]))
		admin_job_error(job, 404, "unknown_comment", "the queue index "
		    "names this comment but its entry is gone", NULL);
}

int
admin_queue_sid(struct admin_job *job, const redisReply *reply, char *sid,
    size_t size)
{
	if (admin_job_redis_error(job, reply))
		return -1;
	if (reply->type == REDIS_REPLY_NIL) {
		admin_job_error(job, 404, "unknown_comment", "no comment with "
		    "this id was queued on this site", NULL);
		return -1;
	}
	if (reply->type == REDIS_REPLY_STRING && reply->len == 7 &&
	    memcmp(reply->str, "decided", 7) == 0) {
		admin_job_error(job, 409, "already_decided", "this comment was "
		    "already decided; its outcome is in the decisions feed",
		    NULL);
		return -1;
	}
	if (!queue_copy(reply, sid, size)) {
		admin_job_error(job, 500, "internal", "the queue index holds "
		    "something else than a stream id", NULL);
		return -1;
	}
	return 0;
}

void
admin_queue_lookup(struct admin_job *job, admin_step_fn next)
{
	struct redis_args *a = queue_args(job, "HGET");

	queue_key(job, a, "queued");
	redis_args_ref(a, job->id, job->idlen);
	admin_job_send(job, a, next);
}

void
admin_queue_read(struct admin_job *job, const char *sid, admin_step_fn next)
{
	struct redis_args *a = queue_args(job, "XRANGE");

	queue_key(job, a, "queue");
	redis_args_copy(a, sid, strlen(sid));
	redis_args_copy(a, sid, strlen(sid));
	admin_job_send(job, a, next);
}

/* The index named the entry: read it. */
static void
show_sid(struct admin_job *job, const redisReply *reply)
{
	struct queue_job *qj = (struct queue_job *)job;

	if (admin_queue_sid(job, reply, qj->sid, sizeof qj->sid) == 0)
		admin_queue_read(job, qj->sid, show_entry);
}

int
admin_queue_show(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	static const char *const params[] = { "site", NULL };
	struct queue_job *qj;

	if ((qj = queue_job_start(srv, req, params, id)) != NULL)
		admin_queue_lookup(&qj->job, show_sid);
	return ADMIN_LATER;
}

/* XREADGROUP ... >: an entry never delivered, or none at all. */
static void
claim_new(struct admin_job *job, const redisReply *reply)
{
	struct queue_job *qj = (struct queue_job *)job;
	const redisReply *s;

	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOGROUP", 7) == 0) {
		show_answer(qj);	/* nothing was ever queued */
		return;
	}
	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type == REDIS_REPLY_NIL) {
		show_answer(qj);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
	    (s = reply->element[0])->type != REDIS_REPLY_ARRAY ||
	    s->elements != 2 || s->element[1]->type != REDIS_REPLY_ARRAY ||
	    s->element[1]->elements != 1 ||
	    !show_take(qj, s->element[1]->element[0]))
		admin_job_error(job, 500, "internal", "XREADGROUP answered "
		    "something else than one entry", NULL);
}

/* Asks the group for an entry no moderator has seen. */
static void
claim_read(struct queue_job *qj)
{
	struct redis_args *a = queue_args(&qj->job, "XREADGROUP");

	redis_args_ref(a, "GROUP", 5);
	redis_args_ref(a, "moderators", 10);
	redis_args_copy(a, qj->job.moderator, strlen(qj->job.moderator));
	redis_args_ref(a, "COUNT", 5);
	redis_args_ref(a, "1", 1);
	redis_args_ref(a, "STREAMS", 7);
	queue_key(&qj->job, a, "queue");
	redis_args_ref(a, ">", 1);
	admin_job_send(&qj->job, a, claim_new);
}

static void	claim_auto(struct queue_job *);

/* XAUTOCLAIM: [next cursor, entries, deleted ids]. */
static void
claim_auto_cb(struct admin_job *job, const redisReply *reply)
{
	struct queue_job *qj = (struct queue_job *)job;
	const redisReply *list;

	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOGROUP", 7) == 0) {
		show_answer(qj);
		return;
	}
	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
	    !queue_copy(reply->element[0], qj->cursor, sizeof qj->cursor) ||
	    (list = reply->element[1])->type != REDIS_REPLY_ARRAY) {
		admin_job_error(job, 500, "internal", "XAUTOCLAIM answered "
		    "something else than a cursor and entries", NULL);
		return;
	}
	/* An entry deleted under its claim comes back without fields. */
	for (size_t i = 0; i < list->elements; i++) {
		qj->reclaimed = true;
		if (show_take(qj, list->element[i]))
			return;
	}
	qj->reclaimed = false;
	if (strcmp(qj->cursor, "0-0") != 0 &&
	    ++qj->rounds < QUEUE_AUTOCLAIM_ROUNDS)
		claim_auto(qj);
	else
		claim_read(qj);
}

/* Takes over an entry claimed longer ago than the timeout, if any. */
static void
claim_auto(struct queue_job *qj)
{
	struct redis_args *a = queue_args(&qj->job, "XAUTOCLAIM");

	queue_key(&qj->job, a, "queue");
	redis_args_ref(a, "moderators", 10);
	redis_args_copy(a, qj->job.moderator, strlen(qj->job.moderator));
	redis_args_num(a, qj->timeout_s * 1000);
	redis_args_copy(a, qj->cursor, strlen(qj->cursor));
	redis_args_ref(a, "COUNT", 5);
	redis_args_ref(a, "1", 1);
	admin_job_send(&qj->job, a, claim_auto_cb);
}

int
admin_queue_claim(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	static const char *const params[] = { "site", "timeout_s", NULL };
	struct queue_job *qj;

	if ((qj = queue_job_start(srv, req, params, NULL)) == NULL)
		return ADMIN_LATER;
	if (admin_job_uint(&qj->job, "timeout_s", QUEUE_CLAIM_TIMEOUT_S, 1,
	    QUEUE_CLAIM_TIMEOUT_MAX_S, &qj->timeout_s) == -1)
		return ADMIN_LATER;
	snprintf(qj->cursor, sizeof qj->cursor, "0-0");
	claim_auto(qj);
	return ADMIN_LATER;
}
