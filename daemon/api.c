/*
 * api: the routes of the HTTP API (DESIGN.md): POST /v1/check, GET /healthz,
 * /readyz, /metrics and /v1/decisions, and the admin routes.  A table says
 * which route answers which method on which listener, so an admin route can
 * never answer on the submit socket or on TCP.  A route's path may hold one
 * `*`, which stands for one path segment (an id): it reaches the handler
 * percent-decoded and bounded, or the request is refused.  Answers say
 * whose fault an error is: 4xx with a stable code for the client's, 5xx
 * for ours.  A decision is logged as one key=value line, never with the
 * comment's text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h>	/* the request's version: no getter in 2.1 */
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "admin.h"
#include "admin_url.h"
#include "check_state.h"
#include "http_reply.h"
#include "decisions.h"
#include "log.h"
#include "monotonic.h"
#include "redis.h"
#include "spool.h"
#include "tally.h"
#include "request.h"
#include "server_int.h"
#include "verdict_json.h"

#define ON_SUBMIT	(1u << LISTEN_SUBMIT)
#define ON_ADMIN	(1u << LISTEN_ADMIN)
#define ON_TCP		(1u << LISTEN_TCP)
#define ON_ALL		(ON_SUBMIT | ON_ADMIN | ON_TCP)

/* Token guesses on TCP: this many failures in a window, then 429. */
#define AUTH_MAX_FAILURES	10
#define AUTH_WINDOW_MS		10000

/* A handler's status when the answer (and its count) is someone else's. */
#define API_LATER	(-1)
_Static_assert(API_LATER == ADMIN_LATER, "admin handlers answer later alike");

/* arg: what the path's `*` stood for, decoded; NULL for a plain path. */
typedef int (*api_handler)(struct server *, struct evhttp_request *,
    const char *arg);

struct route {
	const char		*path;		/* `*`: one segment, the arg */
	enum evhttp_cmd_type	 method;
	unsigned		 on;		/* listeners it answers on */
	enum metrics_route	 metric;
	api_handler		 handler;	/* the status sent, or API_LATER */
};

static int	api_check(struct server *, struct evhttp_request *,
		    const char *);
static int	api_healthz(struct server *, struct evhttp_request *,
		    const char *);
static int	api_readyz(struct server *, struct evhttp_request *,
		    const char *);
static int	api_metrics(struct server *, struct evhttp_request *,
		    const char *);
static int	api_admin_reload(struct server *, struct evhttp_request *,
		    const char *);

/* An admin route: the admin socket only, counted as "admin". */
#define ADMIN(path, method, handler) \
	{ (path), EVHTTP_REQ_##method, ON_ADMIN, METRICS_ROUTE_ADMIN, \
	  (handler) }

static const struct route routes[] = {
	{ "/v1/check", EVHTTP_REQ_POST, ON_ALL, METRICS_ROUTE_CHECK, api_check },
	{ "/healthz", EVHTTP_REQ_GET, ON_ALL, METRICS_ROUTE_HEALTHZ,
	  api_healthz },
	{ "/readyz", EVHTTP_REQ_GET, ON_ALL, METRICS_ROUTE_READYZ, api_readyz },
	{ "/metrics", EVHTTP_REQ_GET, ON_ALL, METRICS_ROUTE_METRICS,
	  api_metrics },
	{ "/v1/decisions", EVHTTP_REQ_GET, ON_ALL, METRICS_ROUTE_DECISIONS,
	  decisions_feed },
	ADMIN("/v1/admin/reload", POST, api_admin_reload),
	ADMIN("/v1/admin/queue", GET, admin_queue_list),
	ADMIN("/v1/admin/queue/*", GET, admin_queue_show),
	ADMIN("/v1/admin/queue/*/approve", POST, admin_decide_approve),
	ADMIN("/v1/admin/queue/*/reject", POST, admin_decide_reject),
	ADMIN("/v1/admin/claim", POST, admin_queue_claim),
	ADMIN("/v1/admin/authors/*", GET, admin_author_show),
	ADMIN("/v1/admin/authors/*/ban", POST, admin_author_ban),
	ADMIN("/v1/admin/authors/*/unban", POST, admin_author_unban),
	ADMIN("/v1/admin/authors/*/trust", POST, admin_author_trust),
	ADMIN("/v1/admin/authors/*/untrust", POST, admin_author_untrust),
	ADMIN("/v1/admin/authors/*/reset-limits", POST,
	    admin_author_reset_limits),
	ADMIN("/v1/admin/audit", GET, admin_stats_audit),
	ADMIN("/v1/admin/stats", GET, admin_stats_stats),
	ADMIN("/v1/admin/policy", GET, admin_stats_policy),
	ADMIN("/v1/admin/explain", POST, admin_explain),
};

#undef ADMIN

/* Sends a JSON answer and frees it; returns the status, for the metrics. */
static int
send_json(struct evhttp_request *req, int status, json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (text == NULL) {
		evhttp_send_error(req, 500, http_reason(500));
		return 500;
	}
	/* Every 503 says when to come back (a stopping daemon's /readyz). */
	status = http_reply_text(req, status, status == 503 ?
	    HTTP_RETRY_AFTER_S : NULL, text, strlen(text));
	free(text);
	return status;
}

/* An error answer {"id"?, "error": {"code", "message"}}. */
static int
send_error_id(struct evhttp_request *req, int status, const struct vj_id *id,
    const char *code, const char *message)
{
	struct json_writer	w;
	int			rc;

	json_writer_init(&w);
	verdict_json_write_error(&w, id, code, message, NULL);
	rc = http_reply_json(req, status, NULL, &w);
	json_writer_free(&w);
	return rc;
}

/* An error answer {"error": {"code", "message"}} with the given status. */
static int
send_error(struct evhttp_request *req, int status, const char *code,
    const char *message)
{
	return send_error_id(req, status, NULL, code, message);
}

/* The 400 (or 500) answer for a body the decoder refused. */
static int
send_refusal(struct evhttp_request *req, const struct request_error *err)
{
	struct json_writer	w;
	int			rc;

	json_writer_init(&w);
	request_error_write(err, &w);
	rc = http_reply_json(req, err->code == REQUEST_NO_MEMORY ? 500 : 400,
	    NULL, &w);
	json_writer_free(&w);
	return rc;
}

/* POST /v1/check: decode strictly, evaluate with the site's policy, answer. */
static int
api_check(struct server *srv, struct evhttp_request *req,
    const char *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *ctype = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	const struct config_site *site;
	struct check_request cr;
	struct request_error err;
	struct vj_id id = { NULL, 0, false };
	struct comment c;
	uint64_t t0 = monotonic_us();
	size_t len = evbuffer_get_length(in);
	char *cause = NULL;
	int status;

	if (!http_is_json(ctype))
		return send_error(req, 415, "bad_content_type",
		    "send the comment as Content-Type: application/json");
	if (request_parse(evbuffer_pullup(in, -1), len, &cr, &err) == -1)
		return send_refusal(req, &err);
	id.s = cr.id;
	id.len = cr.id_len;
	if ((site = config_site(srv->cfg, cr.site)) == NULL) {
		status = send_error_id(req, 400, &id, "unknown_site",
		    "no such site is configured");
		request_free(&cr);
		return status;
	}
	request_comment(&cr, &c);
	if (eval_comment(site->policy, &c, srv->scratch, &srv->verdict,
	    &cause) == -1) {
		/* The decoder validated the text: this is our fault. */
		log_warnx("evaluation failed: %s", cause ? cause : "?");
		free(cause);
		request_free(&cr);
		return send_error(req, 500, "internal",
		    "the comment could not be evaluated");
	}
	/* Answered by check_state, now or once Redis has answered. */
	check_state_run(srv, req, site, &cr, &srv->verdict, t0);
	return API_LATER;
}

/* GET /healthz: the process is alive and its loop turns. */
static int
api_healthz(struct server *srv, struct evhttp_request *req,
    const char *arg)
{
	(void)srv;
	return send_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* GET /readyz: every site has its policy; Redis arrives with its issue. */
static int
api_readyz(struct server *srv, struct evhttp_request *req,
    const char *arg)
{
	json_t *sites = json_array(), *ready;
	const char *redis, *status, *spool;
	int err = srv->spool != NULL ? spool_error(srv->spool) : 0;

	for (size_t i = 0; i < srv->cfg->nsites; i++) {
		const struct config_site *s = &srv->cfg->sites[i];
		json_array_append_new(sites, json_pack("{s:s,s:s,s:s,s:s}",
		    "site", s->name, "policy", s->policy->name,
		    "version", s->policy->version, "digest",
		    s->policy->digest));
	}
	/* Without Redis the daemon still decides (degraded), so stays in. */
	redis = srv->redis != NULL ? redis_state_name(redis_state(srv->redis)) :
	    "none";
	status = srv->stopping ? "stopping" : srv->redis != NULL &&
	    redis_state(srv->redis) != REDIS_UP ? "degraded" : "ready";
	/* Whether a queued comment could be spooled now, and if not why. */
	spool = srv->spool == NULL ? "unavailable" : err != 0 ? "failing" :
	    "ok";
	ready = json_pack("{s:s,s:o,s:s,s:I,s:s}", "status", status, "sites",
	    sites, "redis", redis, "spool_pending", (json_int_t)(srv->spool !=
	    NULL ? spool_pending(srv->spool) : 0), "spool", spool);
	if (ready != NULL && err != 0)
		json_object_set_new(ready, "spool_error",
		    json_string(strerror(err)));
	return send_json(req, srv->stopping ? 503 : 200, ready);
}

/* GET /metrics: the Prometheus text page. */
static int
api_metrics(struct server *srv, struct evhttp_request *req,
    const char *arg)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	metrics_buf_reset(&srv->page);
	if (srv->spool != NULL)
		metrics_spool_pending(srv->metrics, spool_pending(srv->spool));
	metrics_spool_failing(srv->metrics, srv->spool == NULL ||
	    spool_error(srv->spool) != 0);
	metrics_render(srv->metrics, &srv->page);
	if (srv->redis != NULL) {
		redis_render_metrics(srv->redis, &srv->page);
		tally_render_metrics(srv->tally, &srv->page);
	}
	if (srv->page.failed) {
		evhttp_send_error(req, 500, http_reason(500));
		return 500;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evbuffer_add(out, srv->page.data, srv->page.len);
	evhttp_send_reply(req, 200, "OK", NULL);
	return 200;
}

/*
 * Whether a TCP request carries the configured bearer token (or none is
 * configured), compared in constant time so that the time taken says
 * nothing about how much of a guess was right.
 */
static bool
token_ok(const struct server *srv, struct evhttp_request *req)
{
	const char *want = srv->cfg->tcp.token, *got;
	size_t wlen, glen;
	unsigned char diff = 0;

	if (want == NULL)
		return true;
	got = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (got == NULL || strncmp(got, "Bearer ", 7) != 0)
		return false;
	got += 7;
	wlen = strlen(want);
	glen = strlen(got);
	for (size_t i = 0; i < wlen; i++)
		diff |= (unsigned char)want[i] ^
		    (unsigned char)(i < glen ? got[i] : 0);
	return diff == 0 && glen == wlen;
}

/* POST /v1/admin/reload: as SIGHUP, answering with every error. */
static int
api_admin_reload(struct server *srv, struct evhttp_request *req,
    const char *arg)
{
	struct errlist errs;
	json_t *list = json_array();
	int rc;

	errlist_init(&errs);
	rc = server_reload(srv, &errs);
	for (size_t i = 0; i < errs.n; i++)
		json_array_append_new(list, json_string(errs.msgs[i]));
	errlist_free(&errs);
	if (rc == 0)
		return send_json(req, 200, json_pack("{s:s,s:o}",
		    "status", "reloaded", "errors", list));
	/* The running configuration is fine; the new one is the operator's. */
	return send_json(req, 422, json_pack(
	    "{s:{s:s,s:s},s:o}", "error", "code", "reload_failed", "message",
	    "the configuration has errors; the running one keeps serving",
	    "errors", list));
}

/*
 * Answers a TCP request that lacks the token: 401, or 429 once there have
 * been AUTH_MAX_FAILURES failures in the current window, so that guessing
 * costs time.  Returns the status sent, or 0 when the request may proceed.
 */
static int
check_auth(struct server *srv, struct evhttp_request *req)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	uint64_t now = monotonic_us() / 1000;
	char retry[32];

	if (now - srv->auth_window_ms >= AUTH_WINDOW_MS) {
		srv->auth_window_ms = now;
		srv->auth_failures = 0;
	}
	if (srv->auth_failures >= AUTH_MAX_FAILURES) {
		snprintf(retry, sizeof retry, "%llu", (unsigned long long)
		    (AUTH_WINDOW_MS - (now - srv->auth_window_ms) + 999) / 1000);
		evhttp_add_header(out, "Retry-After", retry);
		return send_error(req, 429, "too_many_failures",
		    "too many requests without the right token; try again "
		    "later");
	}
	if (token_ok(srv, req))
		return 0;
	if (++srv->auth_failures == AUTH_MAX_FAILURES)
		log_warnx("%d requests without the right token on TCP in %d s; "
		    "answering 429", AUTH_MAX_FAILURES, AUTH_WINDOW_MS / 1000);
	evhttp_add_header(out, "WWW-Authenticate", "Bearer");
	return send_error(req, 401, "unauthorized",
	    "send Authorization: Bearer with the configured token");
}

/*
 * Whether path matches a route's pattern; a `*` in it matches one non-empty
 * segment (no '/'), returned raw (still percent-encoded) in *seg.
 */
static bool
route_match(const char *pattern, const char *path, const char **seg,
    size_t *seglen)
{
	const char *star = strchr(pattern, '*');
	size_t pre, n;

	*seg = NULL;
	if (star == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(star - pattern);
	if (strncmp(path, pattern, pre) != 0)
		return false;
	n = strcspn(path + pre, "/");
	if (n == 0 || strcmp(path + pre + n, star + 1) != 0)
		return false;
	*seg = path + pre;
	*seglen = n;
	return true;
}

/* Runs a route's handler with its decoded arg, or refuses a bad id (400). */
static int
route_run(struct server *srv, struct evhttp_request *req,
    const struct route *r, const char *seg, size_t seglen)
{
	char arg[ADMIN_URL_ID_MAX + 1], msg[128];
	const char *why;

	if (seg == NULL)
		return r->handler(srv, req, NULL);
	if (admin_url_decode(seg, seglen, false, arg, sizeof arg, &why) == -1) {
		snprintf(msg, sizeof msg, "the id in the path is not valid: %s "
		    "(at most %d bytes of UTF-8, percent-encoded)", why,
		    ADMIN_URL_ID_MAX);
		return send_error(req, 400, "bad_value", msg);
	}
	return r->handler(srv, req, arg);
}

/*
 * What a proxy in front of the daemon could frame differently from evhttp
 * (RFC 9112 6.3, request smuggling): Content-Length twice or not a plain
 * number, Transfer-Encoding other than chunked, or both headers; and a
 * version before HTTP/1.0 (evhttp takes HTTP/0.0 and HTTP/-1.5), whose
 * answer evhttp sends without Content-Length, on a connection it keeps
 * open if asked to: the next answer would run into it (found by
 * fuzz_http).  NULL when the framing is unambiguous.
 */
static const char *
framing_fault(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	const char *cl = NULL, *te = NULL;

	if (req->major != 1 || req->minor < 0)
		return "the HTTP version must be HTTP/1.x";
	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, "Content-Length") == 0) {
			if (cl != NULL)
				return "Content-Length is given twice";
			cl = kv->value;
			if (cl[0] == '\0' || cl[strspn(cl, "0123456789")] != '\0')
				return "Content-Length is not a number";
		} else if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
			if (te != NULL)
				return "Transfer-Encoding is given twice";
			te = kv->value;
			if (strcasecmp(te, "chunked") != 0)
				return "Transfer-Encoding other than chunked";
		}
	}
	if (cl != NULL && te != NULL)
		return "Content-Length and Transfer-Encoding together";
	return NULL;
}

void
api_request_cb(struct evhttp_request *req, void *arg)
{
	struct listener *l = arg;
	struct server *srv = l->srv;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum metrics_route metric = METRICS_ROUTE_OTHER;
	const char *seg, *why;
	size_t seglen = 0;
	int status = 0;

	/* -1: already answered 400 or 431 on the socket, and closed. */
	if (conns_request_done(srv->conns, req) == -1) {
		evhttp_send_error(req, 400, "Bad Request");
		return;
	}
	if ((why = framing_fault(req)) != NULL) {
		/* The bytes after this request cannot be trusted: close. */
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		status = send_error(req, 400, "bad_framing", why);
		metrics_request(srv->metrics, METRICS_ROUTE_OTHER, status);
		return;
	}
	if (l->kind == LISTEN_TCP && (status = check_auth(srv, req)) != 0) {
		metrics_request(srv->metrics, METRICS_ROUTE_OTHER, status);
		return;
	}
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct route *r = &routes[i];
		if (path == NULL || !(r->on & (1u << l->kind)) ||
		    !route_match(r->path, path, &seg, &seglen))
			continue;
		metric = r->metric;
		if (evhttp_request_get_command(req) != r->method) {
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Allow", r->method == EVHTTP_REQ_POST ? "POST" :
			    "GET");
			status = send_error(req, 405, "method_not_allowed",
			    "this route does not take that method");
		} else if ((status = route_run(srv, req, r, seg, seglen)) ==
		    API_LATER)
			return;		/* counted when it is answered */
		break;
	}
	if (status == 0)
		status = send_error(req, 404, "not_found", "no such route here");
	metrics_request(srv->metrics, metric, status);
}
