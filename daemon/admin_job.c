/*
 * admin_job: a request's life between its route and its answer, and the
 * JSON answers of the admin routes and the decisions feed.  See
 * admin_job.h.
 */
#include "admin_job.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>

#include "conn.h"
#include "http_reply.h"
#include "log.h"
#include "redis.h"
#include "redis_args.h"
#include "server_int.h"
#include "verdict_json.h"

/*
 * Sends n bytes of JSON text with a status and counts it; with retry, a
 * Retry-After says when Redis may be back.
 */
static void
admin_send(struct server *srv, struct evhttp_request *req,
    enum metrics_route metric, int status, bool retry, const char *text,
    size_t n)
{
	http_reply_text(req, status, retry ? HTTP_RETRY_AFTER_S : NULL, text,
	    n);
	metrics_request(srv->metrics, metric, status);
}

int
admin_send_error(struct server *srv, struct evhttp_request *req,
    enum metrics_route metric, int status, const char *code,
    const char *message, const char *field)
{
	struct json_writer w;

	json_writer_init(&w);
	verdict_json_write_error(&w, NULL, code, message, field);
	if (w.failed) {
		evhttp_send_error(req, 500, "Internal Server Error");
		metrics_request(srv->metrics, metric, 500);
		status = 500;
	} else
		admin_send(srv, req, metric, status,
		    strcmp(code, "unavailable") == 0, w.buf, w.len);
	json_writer_free(&w);
	return status;
}

/*
 * Reads the caller's uid with SO_PEERCRED and names it from the password
 * database, for the audit trail and as the queue's consumer name.  -1 when
 * the socket cannot say (not a Unix socket).  getpwuid_r may ask NSS (and
 * so, with LDAP, the network), but only on the admin socket, once per
 * moderator request.
 */
static int
admin_job_peer(struct admin_job *job)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(
	    job->req);
	struct bufferevent *bev;
	struct ucred uc;
	socklen_t len = sizeof uc;
	struct passwd pw, *res = NULL;
	char buf[4096];
	evutil_socket_t fd;

	if (evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof uc || uc.uid == (uid_t)-1)
		return -1;
	job->has_peer = true;
	job->uid = uc.uid;
	if (getpwuid_r(uc.uid, &pw, buf, sizeof buf, &res) == 0 &&
	    res != NULL && res->pw_name[0] != '\0' &&
	    strlen(res->pw_name) <= ADMIN_MODERATOR_MAX)
		snprintf(job->moderator, sizeof job->moderator, "%s",
		    res->pw_name);
	else
		snprintf(job->moderator, sizeof job->moderator, "uid:%lu",
		    (unsigned long)uc.uid);
	return 0;
}

struct admin_job *
admin_job_start(struct server *srv, struct evhttp_request *req,
    enum metrics_route metric, const char *const *params, const char *id,
    size_t size)
{
	const char *query = evhttp_uri_get_query(
	    evhttp_request_get_evhttp_uri(req));
	const char *code = "internal", *msg = "out of memory", *field = NULL;
	struct admin_url_error err;
	struct admin_job *job;
	int status = 500;

	if ((job = calloc(1, size)) == NULL)
		goto fail;
	job->srv = srv;
	job->req = req;
	job->metric = metric;
	status = 400;
	if (admin_url_query(query, params, &job->q, &err) == -1) {
		code = err.code;
		msg = err.message;
		field = err.field[0] != '\0' ? err.field : NULL;
		goto fail;
	}
	if ((job->site = config_site(srv->cfg, admin_url_param(&job->q,
	    "site"))) == NULL) {
		code = "unknown_site";
		msg = "no such site is configured";
		field = "site";
		goto fail;
	}
	/* Without Redis there is no queue: say whether waiting will help. */
	status = 503;
	if (srv->redis == NULL) {
		code = "no_redis";
		msg = "redis.address is none: this daemon keeps no queue";
		goto fail;
	}
	if (redis_state(srv->redis) != REDIS_UP) {
		code = "unavailable";
		msg = "Redis is unavailable; try again later";
		goto fail;
	}
	status = 500;
	if (metric == METRICS_ROUTE_ADMIN && admin_job_peer(job) == -1) {
		log_warnx("admin: cannot read the caller's credentials");
		msg = "cannot read the caller's credentials";
		goto fail;
	}
	if (id != NULL) {
		snprintf(job->id, sizeof job->id, "%s", id);
		job->idlen = strlen(job->id);
	}
	job->cfg = config_ref(srv->cfg);
	job->prefix = job->cfg->redis.prefix;
	conns_hold(srv->conns, 1);
	return job;
fail:
	admin_send_error(srv, req, metric, status, code, msg, field);
	free(job);
	return NULL;
}

void
admin_job_free(struct admin_job *job)
{
	if (job == NULL)
		return;
	if (job->cleanup != NULL)
		job->cleanup(job);
	conns_hold(job->srv->conns, -1);
	config_unref(job->cfg);
	free(job);
}

void
admin_send_json(struct server *srv, struct evhttp_request *req,
    enum metrics_route metric, int status, json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (text == NULL) {
		log_warnx("admin: an answer could not be written");
		evhttp_send_error(req, 500, "Internal Server Error");
		metrics_request(srv->metrics, metric, 500);
	} else
		admin_send(srv, req, metric, status, false, text,
		    strlen(text));
	free(text);
}

void
admin_job_reply(struct admin_job *job, int status, json_t *j)
{
	admin_send_json(job->srv, job->req, job->metric, status, j);
	admin_job_free(job);
}

void
admin_job_error(struct admin_job *job, int status, const char *code,
    const char *message, const char *field)
{
	admin_send_error(job->srv, job->req, job->metric, status, code,
	    message, field);
	admin_job_free(job);
}

void
admin_job_unavailable(struct admin_job *job, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof msg, "Redis is unavailable (%s); try again later",
	    why);
	admin_job_error(job, 503, "unavailable", msg, NULL);
}

bool
admin_job_redis_error(struct admin_job *job, const redisReply *reply)
{
	static const char *const later[] = { "OOM", "READONLY", "BUSY",
	    "LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", NULL };
	char msg[256];

	if (reply->type != REDIS_REPLY_ERROR)
		return false;
	log_warnx("admin: Redis answered %s", reply->str);
	for (size_t i = 0; later[i] != NULL; i++)
		if (strncmp(reply->str, later[i], strlen(later[i])) == 0) {
			admin_job_unavailable(job, reply->str);
			return true;
		}
	snprintf(msg, sizeof msg, "Redis refused the command: %s", reply->str);
	admin_job_error(job, 500, "internal", msg, NULL);
	return true;
}

bool
admin_job_expect(struct admin_job *job, const redisReply *reply, int type,
    const char *cmd)
{
	char msg[128];

	if (admin_job_redis_error(job, reply))
		return false;
	if (reply->type == type)
		return true;
	snprintf(msg, sizeof msg, "%s answered something unexpected", cmd);
	log_warnx("admin: %s", msg);
	admin_job_error(job, 500, "internal", msg, NULL);
	return false;
}

/* Every command's reply: to the job's step, or a 503 when there is none. */
static void
admin_job_cb(const redisReply *reply, const char *error, void *arg)
{
	struct admin_job *job = arg;

	if (reply == NULL)
		admin_job_unavailable(job, error);
	else
		job->step(job, reply);
}

void
admin_job_send(struct admin_job *job, const struct redis_args *a,
    admin_step_fn step)
{
	if (a->failed) {
		admin_job_error(job, 500, "internal", "a Redis command would "
		    "be over its bound", NULL);
		return;
	}
	job->step = step;
	if (redis_command(job->srv->redis, a->n, a->v, a->len, admin_job_cb,
	    job) == -1)
		admin_job_unavailable(job, "not connected, or too busy");
}

void
admin_job_xrange(struct admin_job *job, const char *kind, const char *after,
    uint64_t count, admin_step_fn step)
{
	struct redis_args *a = job->srv->args[0];
	char start[64];

	/* "(" makes the start exclusive: what follows the client's cursor. */
	snprintf(start, sizeof start, "(%s", after);
	redis_args_init(a);
	redis_args_ref(a, "XRANGE", 6);
	redis_args_key(a, job->prefix, job->site->name, kind, NULL, 0);
	if (after[0] != '\0')
		redis_args_copy(a, start, strlen(start));
	else
		redis_args_ref(a, "-", 1);
	redis_args_ref(a, "+", 1);
	redis_args_ref(a, "COUNT", 5);
	redis_args_num(a, count);
	admin_job_send(job, a, step);
}

void
admin_job_script(struct admin_job *job, const struct redis_script *s,
    int nkeys, const struct redis_args *a, admin_step_fn step)
{
	if (a->failed) {
		admin_job_error(job, 500, "internal", "a Redis command would "
		    "be over its bound", NULL);
		return;
	}
	job->step = step;
	if (redis_script_run(job->srv->redis, s, nkeys, a->n, a->v, a->len,
	    admin_job_cb, job) == -1)
		admin_job_unavailable(job, "not connected, or too busy");
}

json_t *
admin_job_body(struct admin_job *job, const char *const *fields)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(job->req);
	size_t len = evbuffer_get_length(in), i;
	json_error_t e;
	const char *key;
	json_t *j, *v;
	char msg[200];

	if (len == 0)
		return json_object();
	if (!http_is_json(evhttp_find_header(evhttp_request_get_input_headers(
	    job->req), "Content-Type"))) {
		admin_job_error(job, 415, "bad_content_type", "send the body "
		    "as Content-Type: application/json", NULL);
		return NULL;
	}
	j = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		snprintf(msg, sizeof msg, "byte %d: %s", e.position, e.text);
		admin_job_error(job, 400, "invalid_json", msg, NULL);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		admin_job_error(job, 400, "bad_type", "the body must be a JSON "
		    "object", NULL);
		return NULL;
	}
	json_object_foreach(j, key, v) {
		for (i = 0; fields[i] != NULL; i++)
			if (strcmp(key, fields[i]) == 0)
				break;
		if (fields[i] == NULL) {
			snprintf(msg, sizeof msg, "\"%.64s\" is not a field of "
			    "this route", key);
			json_decref(j);
			admin_job_error(job, 400, "unknown_field", msg, NULL);
			return NULL;
		}
	}
	return j;
}

int
admin_job_body_string(struct admin_job *job, json_t *body, const char *name,
    size_t max, const char **out)
{
	json_t *v = json_object_get(body, name);
	char msg[160];

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(msg, sizeof msg, "\"%s\" must be a string", name);
		admin_job_error(job, 400, "bad_type", msg, name);
		return -1;
	}
	if (json_string_length(v) > max) {
		snprintf(msg, sizeof msg, "\"%s\" must be at most %zu bytes "
		    "long", name, max);
		admin_job_error(job, 400, "bad_value", msg, name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
admin_job_uint(struct admin_job *job, const char *name, uint64_t def,
    uint64_t min, uint64_t max, uint64_t *out)
{
	const char *v = admin_url_param(&job->q, name);
	char msg[160];

	*out = def;
	if (v == NULL || admin_url_uint(v, min, max, out) == 0)
		return 0;
	snprintf(msg, sizeof msg, "\"%s\" must be a whole number from %llu to "
	    "%llu", name, (unsigned long long)min, (unsigned long long)max);
	admin_job_error(job, 400, "bad_value", msg, name);
	return -1;
}

json_t *
admin_json_bytes(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	json_t *j = NULL;
	char *copy;
	size_t o = 0, k;

	/*
	 * A NUL is UTF-8, and jansson writes it as \u0000, but a reader that
	 * does not allow it (jansson's default, commentctl's) then refuses the
	 * whole answer: one such field would hide a page of the queue (found
	 * by fuzz_admin).  So it is marked as invalid UTF-8 is.
	 */
	if ((memchr(s, '\0', n) == NULL && (j = json_stringn(s, n)) != NULL) ||
	    n > SIZE_MAX / 3)
		return j;
	/* Not UTF-8 (Redis holds what anyone wrote there): mark, never fail. */
	if ((copy = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += k) {
		k = u[i] == '\0' ? 0 : u[i] < 0x80 ? 1 :
		    json_utf8_len(u + i, n - i);
		if (k == 0) {
			memcpy(copy + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else {
			memcpy(copy + o, s + i, k);
			o += k;
		}
	}
	j = json_stringn(copy, o);
	free(copy);
	return j;
}

uint64_t
admin_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
admin_entry_ok(const redisReply *entry)
{
	const redisReply *kv;

	if (entry == NULL || entry->type != REDIS_REPLY_ARRAY ||
	    entry->elements != 2 ||
	    entry->element[0]->type != REDIS_REPLY_STRING)
		return false;
	kv = entry->element[1];
	if (kv->type != REDIS_REPLY_ARRAY || kv->elements % 2 != 0)
		return false;
	for (size_t i = 0; i < kv->elements; i++)
		if (kv->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

const redisReply *
admin_entry_field(const redisReply *entry, const char *name)
{
	const redisReply *kv = entry->element[1];
	size_t n = strlen(name);

	for (size_t i = 0; i + 1 < kv->elements; i += 2)
		if (kv->element[i]->len == n &&
		    memcmp(kv->element[i]->str, name, n) == 0)
			return kv->element[i + 1];
	return NULL;
}

json_t *
admin_entry_json(const redisReply *entry, const char *name)
{
	const redisReply *v = admin_entry_field(entry, name);

	return v != NULL ? admin_json_bytes(v->str, v->len) : json_string("");
}

json_t *
admin_entry_opt(const redisReply *entry, const char *name)
{
	const redisReply *v = admin_entry_field(entry, name);

	return v != NULL && v->len > 0 ? admin_json_bytes(v->str, v->len) :
	    json_null();
}

json_t *
admin_entry_list(const redisReply *entry, const char *name)
{
	const redisReply *v = admin_entry_field(entry, name);
	json_t *list = json_array();
	const char *p, *end, *comma;

	if (v == NULL)
		return list;
	for (p = v->str, end = v->str + v->len; p < end; p = comma + 1) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if (comma > p)
			json_array_append_new(list, admin_json_bytes(p,
			    (size_t)(comma - p)));
	}
	return list;
}

json_t *
admin_entry_reasons(const redisReply *entry)
{
	const redisReply *v = admin_entry_field(entry, "reasons");
	json_t *j = NULL;

	if (v != NULL)
		j = json_loadb(v->str, v->len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(j)) {
		json_decref(j);
		j = json_array();
	}
	return j;
}

json_t *
admin_reasons_rules(json_t *reasons)
{
	json_t *rules = json_array(), *r, *rule;
	size_t i;

	json_array_foreach(reasons, i, r) {
		if (json_is_string(rule = json_object_get(r, "rule")))
			json_array_append(rules, rule);
	}
	return rules;
}

uint64_t
admin_entry_uint(const redisReply *entry, const char *name)
{
	const redisReply *v = admin_entry_field(entry, name);
	char buf[24];
	uint64_t n;

	if (v == NULL || v->len == 0 || v->len >= sizeof buf)
		return 0;
	memcpy(buf, v->str, v->len);
	buf[v->len] = '\0';
	return admin_url_uint(buf, 0, UINT64_MAX, &n) == 0 ? n : 0;
}
