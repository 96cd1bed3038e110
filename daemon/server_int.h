/*
 * server_int: the server's state, shared by server.c (listeners, lifecycle),
 * api.c (the routes) and the route handlers that need the server
 * (check_*.c, admin_*.c, decisions.c); nothing else includes it.
 */
#ifndef COMMENTD_SERVER_INT_H
#define COMMENTD_SERVER_INT_H

#include <stdbool.h>

#include "config.h"
#include "conn.h"
#include "eval.h"
#include "json_writer.h"
#include "redis.h"
#include "metrics.h"
#include "metrics_buf.h"
#include "server.h"

struct evhttp;
struct evhttp_request;
struct event;

/* What a listener serves: admin routes answer only on LISTEN_ADMIN. */
enum listen_kind {
	LISTEN_SUBMIT,
	LISTEN_ADMIN,
	LISTEN_TCP,
	LISTEN_NKINDS,
};

struct listener {
	struct server	*srv;
	enum listen_kind kind;
	struct evhttp	*http;
};

struct redis_args;
struct spool;
struct gcra_table;
struct tally;

struct server {
	struct event_base	*base;
	struct config		*cfg;
	char			*config_path;
	struct listener		 listeners[LISTEN_NKINDS];
	struct conns		*conns;
	struct redis		*redis;		/* NULL: redis.address none */
	struct redis_script	 script_check, script_enqueue;
	struct redis_script	 script_decide, script_author;
	struct redis_args	*args[2];	/* scratch argv for scripts */
	struct spool		*spool;		/* NULL: none could be opened */
	uint64_t		 spool_tried_us;	/* last attempt to open it */
	uint64_t		 warned_us;	/* last repeated warning (check_state) */
	struct gcra_table	*local_limits;	/* while Redis is away */
	struct tally		*tally;		/* decisions for the stats */
	bool			 replaying;	/* a spool record is in Redis's hands */
	struct event		*replay_timer;
	struct metrics		*metrics;
	struct metrics_buf	 page;		/* /metrics, reused */
	struct eval_scratch	*scratch;
	struct verdict		 verdict;
	struct json_writer	 answer;	/* /v1/check's, reused */
	struct event		*sig_term, *sig_int, *sig_hup;
	struct event		*reload_ev;	/* SIGHUPs, coalesced */
	struct event		*watchdog;
	struct event		*stop_timer;	/* drain deadline, then poll */
	uint64_t		 auth_window_ms;	/* start of the failure window */
	unsigned		 auth_failures;		/* in that window */
	bool			 stopping;
	int			 exit_status;
};

/* Opens the spool if it is not open, at most once a second (server.c). */
void	server_spool_open(struct server *);

/* Routes a request on one listener (api.c). */
void	api_request_cb(struct evhttp_request *, void *arg);

/*
 * Reads the configuration again and swaps it in; on any error keeps the
 * running one (server.c).  0, or -1 with every error logged and, if errs
 * is not NULL, added to it.
 */
int	server_reload(struct server *, struct errlist *errs);

/* Applies the limits of the current config to every listener (server.c). */
void	server_apply_limits(struct server *);

#endif
