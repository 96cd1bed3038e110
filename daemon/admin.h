/*
 * admin: the moderators' routes, which api.c serves on the admin socket
 * only (docs/api.md): the queue (list, show, claim, approve, reject),
 * authors (show, ban, unban, trust, untrust, reset-limits), the audit
 * trail, stats, the loaded policies and explain.  commentctl is their
 * client.
 *
 * Each handler answers now, returning the status sent, or once Redis has
 * answered, returning ADMIN_LATER (the answer is counted then).  `id` is
 * the path's id, percent-decoded and at most ADMIN_URL_ID_MAX bytes, or
 * NULL for a route without one.  Every route but the policy needs Redis
 * and answers 503 without it; none may ever answer on the submit socket or
 * on TCP, which is the route table's business (api.c).
 */
#ifndef COMMENTD_ADMIN_H
#define COMMENTD_ADMIN_H

struct server;
struct evhttp_request;

/* A handler's return when the answer comes later (api.c's API_LATER). */
#define ADMIN_LATER	(-1)

/* GET /v1/admin/queue: pending comments, oldest first (admin_queue.c). */
int	admin_queue_list(struct server *, struct evhttp_request *,
	    const char *id);

/* GET /v1/admin/queue/ID: one comment whole, with its author's record. */
int	admin_queue_show(struct server *, struct evhttp_request *,
	    const char *id);

/* POST /v1/admin/claim: the next comment for this moderator alone. */
int	admin_queue_claim(struct server *, struct evhttp_request *,
	    const char *id);

/* POST /v1/admin/queue/ID/approve and /reject (admin_decide.c). */
int	admin_decide_approve(struct server *, struct evhttp_request *,
	    const char *id);
int	admin_decide_reject(struct server *, struct evhttp_request *,
	    const char *id);

/* GET /v1/admin/authors/ID, POST .../ban and the rest (admin_author.c). */
int	admin_author_show(struct server *, struct evhttp_request *,
	    const char *id);
int	admin_author_ban(struct server *, struct evhttp_request *,
	    const char *id);
int	admin_author_unban(struct server *, struct evhttp_request *,
	    const char *id);
int	admin_author_trust(struct server *, struct evhttp_request *,
	    const char *id);
int	admin_author_untrust(struct server *, struct evhttp_request *,
	    const char *id);
int	admin_author_reset_limits(struct server *, struct evhttp_request *,
	    const char *id);

/* GET /v1/admin/audit, /stats and /policy (admin_stats.c). */
int	admin_stats_audit(struct server *, struct evhttp_request *,
	    const char *id);
int	admin_stats_stats(struct server *, struct evhttp_request *,
	    const char *id);
int	admin_stats_policy(struct server *, struct evhttp_request *,
	    const char *id);

/* POST /v1/admin/explain: the engine's reasons, normalised (admin_explain.c). */
int	admin_explain(struct server *, struct evhttp_request *,
	    const char *id);

#endif
