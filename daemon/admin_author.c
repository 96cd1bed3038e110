/*
 * admin_author: an author's record on a site (approved and rejected counts,
 * banned, trusted) and the moderators' actions on it: ban, unban, trust,
 * untrust and reset-limits.
 *
 * Each action is one call of author.lua, which changes the record (or
 * forgets the author's rate-limit keys) and appends the audit entry in the
 * same atomic step (docs/redis.md).  reset-limits can only name the keys it
 * can compute: the site's policy's limits keyed by author alone.  Limits
 * keyed by author and thread (or by ip) cannot be listed without SCAN,
 * which this daemon never runs on a shared Redis; they expire on their own.
 * This file must never change a record without its audit entry.
 */
#include "admin.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "admin_job.h"
#include "redis.h"
#include "redis_args.h"
#include "server_int.h"

#define AUTHOR_NOTE_MAX		1000	/* bytes of a moderator's note */
#define AUTHOR_COUNT_MAX	4294967295u	/* as check.lua reads counts */

struct author_job {
	struct admin_job	 job;		/* first: admin_job_start's */
	const char		*action;
	json_t			*body;		/* holds the note */
	const char		*note;
};

/* Drops the body the note points into. */
static void
author_cleanup(struct admin_job *job)
{
	json_decref(((struct author_job *)job)->body);
}

/* A count as check.lua reads it: a whole number, else 0, capped. */
static json_int_t
author_count(const redisReply *v)
{
	char buf[24];
	uint64_t n;

	if (v->len == 0 || v->len >= sizeof buf)
		return 0;
	memcpy(buf, v->str, v->len);
	buf[v->len] = '\0';
	if (admin_url_uint(buf, 0, UINT64_MAX, &n) == -1)
		return 0;
	return (json_int_t)(n > AUTHOR_COUNT_MAX ? AUTHOR_COUNT_MAX : n);
}

json_t *
admin_author_record(const redisReply *r)
{
	json_int_t approved = 0, rejected = 0;
	bool banned = false, trusted = false;
	const redisReply *k, *v;

	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY &&
	    i + 1 < r->elements; i += 2) {
		k = r->element[i];
		v = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "approved") == 0)
			approved = author_count(v);
		else if (strcmp(k->str, "rejected") == 0)
			rejected = author_count(v);
		else if (strcmp(k->str, "banned") == 0)
			banned = v->len == 1 && v->str[0] == '1';
		else if (strcmp(k->str, "trusted") == 0)
			trusted = v->len == 1 && v->str[0] == '1';
	}
	return json_pack("{s:I,s:I,s:b,s:b}", "approved", approved,
	    "rejected", rejected, "banned", banned, "trusted", trusted);
}

/* HGETALL: the record (an author never seen has an empty one). */
static void
author_shown(struct admin_job *job, const redisReply *reply)
{
	if (admin_job_redis_error(job, reply))
		return;
	admin_job_reply(job, 200, json_pack("{s:s,s:o,s:o}", "site",
	    job->site->name, "id", admin_json_bytes(job->id, job->idlen),
	    "record", admin_author_record(reply)));
}

int
admin_author_show(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	static const char *const params[] = { "site", NULL };
	struct admin_job *job;
	struct redis_args *a;

	if ((job = admin_job_start(srv, req, METRICS_ROUTE_ADMIN, params, id,
	    sizeof *job)) == NULL)
		return ADMIN_LATER;
	a = srv->args[0];
	redis_args_init(a);
	redis_args_ref(a, "HGETALL", 7);
	redis_args_key(a, job->prefix, job->site->name, "author", job->id,
	    job->idlen);
	admin_job_send(job, a, author_shown);
	return ADMIN_LATER;
}

/* author.lua's answer: the record after the action. */
static void
author_done(struct admin_job *job, const redisReply *reply)
{
	struct author_job *aj = (struct author_job *)job;
	const redisReply *e[6];

	if (admin_job_redis_error(job, reply))
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 6) {
		admin_job_error(job, 500, "internal", "author.lua answered "
		    "something unexpected", NULL);
		return;
	}
	for (size_t i = 0; i < 6; i++)
		if ((e[i] = reply->element[i])->type != (i < 5 ?
		    REDIS_REPLY_INTEGER : REDIS_REPLY_STRING)) {
			admin_job_error(job, 500, "internal", "author.lua "
			    "answered something unexpected", NULL);
			return;
		}
	admin_job_reply(job, 200, json_pack("{s:s,s:o,s:s,s:s?,s:s,s:I,"
	    "s:{s:I,s:I,s:b,s:b},s:I,s:o}",
	    "site", job->site->name, "id", admin_json_bytes(job->id,
	    job->idlen), "action", aj->action, "note", aj->note,
	    "moderator", job->moderator, "uid", (json_int_t)job->uid,
	    "record", "approved", (json_int_t)e[0]->integer,
	    "rejected", (json_int_t)e[1]->integer, "banned",
	    e[2]->integer != 0, "trusted", e[3]->integer != 0,
	    "deleted_keys", (json_int_t)e[4]->integer,
	    "audit", admin_json_bytes(e[5]->str, e[5]->len)));
}

/*
 * Adds the rate-limit keys of the author that reset-limits forgets: one
 * for each of the policy's limits keyed by author (as check_state names
 * them).  The number of keys added.
 */
static int
author_limit_keys(struct admin_job *job, struct redis_args *a)
{
	const struct policy *p = job->site->policy;
	char kind[160];
	int n = 0;

	for (size_t i = 0; i < p->nrate_limits; i++) {
		if (p->rate_limits[i].key != RATE_KEY_AUTHOR)
			continue;
		snprintf(kind, sizeof kind, "rl:%s", p->rate_limits[i].id);
		redis_args_key(a, job->prefix, job->site->name, kind, job->id,
		    job->idlen);
		n++;
	}
	return n;
}

/* The five actions: the body {"note"?}, then author.lua. */
static int
author_act(struct server *srv, struct evhttp_request *req, const char *id,
    const char *action)
{
	static const char *const params[] = { "site", NULL };
	static const char *const fields[] = { "note", NULL };
	struct author_job *aj;
	struct admin_job *job;
	struct redis_args *a;
	json_t *body;
	int nkeys = 2;

	if ((job = admin_job_start(srv, req, METRICS_ROUTE_ADMIN, params, id,
	    sizeof *aj)) == NULL)
		return ADMIN_LATER;
	aj = (struct author_job *)job;
	aj->action = action;
	job->cleanup = author_cleanup;
	/* A refused body has answered and freed the job already. */
	if ((body = admin_job_body(job, fields)) == NULL)
		return ADMIN_LATER;
	aj->body = body;
	if (admin_job_body_string(job, aj->body, "note", AUTHOR_NOTE_MAX,
	    &aj->note) == -1)
		return ADMIN_LATER;
	a = srv->args[0];
	redis_args_init(a);
	redis_args_key(a, job->prefix, job->site->name, "author", job->id,
	    job->idlen);
	redis_args_key(a, job->prefix, job->site->name, "audit", NULL, 0);
	if (strcmp(action, "reset-limits") == 0)
		nkeys += author_limit_keys(job, a);
	redis_args_ref(a, action, strlen(action));
	redis_args_ref(a, job->moderator, strlen(job->moderator));
	redis_args_num(a, (uint64_t)job->uid);
	redis_args_ref(a, aj->note != NULL ? aj->note : "",
	    aj->note != NULL ? strlen(aj->note) : 0);
	redis_args_ref(a, job->id, job->idlen);
	admin_job_script(job, &job->srv->script_author, nkeys, a, author_done);
	return ADMIN_LATER;
}

int
admin_author_ban(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	return author_act(srv, req, id, "ban");
}

int
admin_author_unban(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	return author_act(srv, req, id, "unban");
}

int
admin_author_trust(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	return author_act(srv, req, id, "trust");
}

int
admin_author_untrust(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	return author_act(srv, req, id, "untrust");
}

int
admin_author_reset_limits(struct server *srv, struct evhttp_request *req,
    const char *id)
{
	return author_act(srv, req, id, "reset-limits");
}
