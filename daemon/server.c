/*
 * server: listeners, limits, reload, graceful stop, systemd notification.
 * See server.h.  The routes themselves are in api.c.
 *
 * Sockets come from systemd when it hands them over (names "submit",
 * "admin", "submit-tcp"), else the daemon binds the configured Unix
 * sockets itself: never in a directory others may write to, replacing only
 * a stale socket, never a file, then chmod and chgrp as configured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "monotonic.h"
#include "gcra.h"
#include "redis.h"
#include "redis_args.h"
#include "redis_scripts.h"
#include "spool.h"
#include "spool_replay.h"
#include "tally.h"
#include "server_int.h"

#define LISTEN_BACKLOG	1024
#define SERVER_LOCAL_LIMIT_KEYS	100000	/* in-process limiter's keys */
#define SERVER_SPOOL_MAX_BYTES	(256ull << 20)

static const char *const listen_names[LISTEN_NKINDS] = {
	[LISTEN_SUBMIT] = "submit",
	[LISTEN_ADMIN] = "admin",
	[LISTEN_TCP] = "submit-tcp",
};

/* Sets *cause to a formatted message; returns -1 for the caller to pass on. */
static int
fail(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
	return -1;
}

/* Sends a state line to systemd (a no-op outside systemd). */
static void
notify(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sd_notify(0, msg);
}

void
server_apply_limits(struct server *srv)
{
	const struct config_limits *lim = &srv->cfg->limits;
	struct conn_limits cl = {
		(uint32_t)lim->max_connections,
		(uint32_t)lim->header_timeout_ms,
		(uint32_t)lim->body_timeout_ms,
		(uint32_t)lim->max_header_bytes,
	};
	struct timeval idle = { lim->idle_timeout_ms / 1000,
	    (lim->idle_timeout_ms % 1000) * 1000 };

	/* evhttp's own limits are unlimited by default: set every one. */
	for (int k = 0; k < LISTEN_NKINDS; k++) {
		struct evhttp *h = srv->listeners[k].http;
		evhttp_set_max_body_size(h, lim->max_body_bytes);
		/* conn.c answers 431 at the limit; evhttp's is the backstop. */
		evhttp_set_max_headers_size(h, lim->max_header_bytes * 2);
		evhttp_set_timeout_tv(h, &idle);
	}
	conns_set_limits(srv->conns, &cl);
}

/* Counts what the connection table sees into the metrics. */
static void
conn_event_cb(void *arg, enum conn_event ev)
{
	struct metrics *m = arg;

	switch (ev) {
	case CONN_ACCEPTED:
		metrics_conn_accepted(m);
		break;
	case CONN_CLOSED:
		metrics_conn_closed(m);
		break;
	case CONN_REJECTED:
		metrics_conn_rejected(m);
		break;
	case CONN_HEADER_TIMEOUT:
		metrics_limit_hit(m, METRICS_LIMIT_HEADER_TIMEOUT);
		break;
	case CONN_BODY_TIMEOUT:
		metrics_limit_hit(m, METRICS_LIMIT_BODY_TIMEOUT);
		break;
	case CONN_HEADERS_TOO_LARGE:
		metrics_limit_hit(m, METRICS_LIMIT_HEADERS_TOO_LARGE);
		break;
	}
}

/* Records each site's policy in the metrics' policy_info. */
static void
publish_policies(struct server *srv)
{
	metrics_policy_clear(srv->metrics);
	for (size_t i = 0; i < srv->cfg->nsites; i++) {
		const struct config_site *s = &srv->cfg->sites[i];
		metrics_policy_set(srv->metrics, s->name, s->policy->name,
		    s->policy->version, s->policy->digest);
	}
}

/* Redis came back (or went): the spool is replayed while it is up. */
static void
server_redis_state_cb(enum redis_state state, void *arg)
{
	if (state == REDIS_UP)
		spool_replay_kick(arg);
}

/*
 * Opens the spool in the state directory.  A failure is not fatal and may
 * pass (a lock held by an instance still exiting, a full disk): the next
 * comment that needs the spool tries again, at most once a second.
 * Meanwhile queued comments are answered 503 while Redis is down.
 */
void
server_spool_open(struct server *srv)
{
	char path[4096], *why = NULL;

	if (srv->spool != NULL || !monotonic_every(&srv->spool_tried_us,
	    1000000))
		return;
	snprintf(path, sizeof path, "%s/queue.spool", srv->cfg->state_dir);
	if ((srv->spool = spool_open(path, SERVER_SPOOL_MAX_BYTES,
	    &why)) == NULL) {
		/* spool_open's cause names the file already. */
		log_warnx("%s; queued comments will be answered 503 while "
		    "Redis is unavailable", why ? why : "the spool cannot be "
		    "opened");
		free(why);
	}
}

/*
 * Redis and what stands in for it while it is away: the spool in the
 * state directory and the in-process limiter.  A spool that cannot be
 * opened is not fatal: queued comments are then answered 503 while Redis
 * is down, never lost.
 */
static int
server_state_new(struct server *srv, char **cause)
{
	redis_script_init(&srv->script_check, "check", redis_script_check);
	redis_script_init(&srv->script_enqueue, "enqueue",
	    redis_script_enqueue);
	redis_script_init(&srv->script_decide, "decide", redis_script_decide);
	redis_script_init(&srv->script_author, "author", redis_script_author);
	srv->args[0] = malloc(sizeof *srv->args[0]);
	srv->args[1] = malloc(sizeof *srv->args[1]);
	srv->local_limits = gcra_table_new(SERVER_LOCAL_LIMIT_KEYS);
	if (srv->args[0] == NULL || srv->args[1] == NULL ||
	    srv->local_limits == NULL)
		return fail(cause, "out of memory");
	server_spool_open(srv);
	if ((srv->redis = redis_new(srv->base, &srv->cfg->redis,
	    server_redis_state_cb, srv)) == NULL ||
	    (srv->tally = tally_new(srv->base, srv->redis,
	    srv->cfg->redis.prefix)) == NULL)
		return fail(cause, "out of memory");
	return 0;
}

struct server *
server_new(struct event_base *base, struct config *cfg,
    const char *config_path, char **cause)
{
	struct server *srv = calloc(1, sizeof *srv);

	if (srv == NULL) {
		fail(cause, "out of memory");
		return NULL;
	}
	srv->base = base;
	srv->cfg = cfg;
	metrics_buf_init(&srv->page);
	verdict_init(&srv->verdict);
	srv->config_path = strdup(config_path);
	srv->metrics = metrics_new(time(NULL));
	srv->scratch = eval_scratch_new();
	json_writer_init(&srv->answer);
	srv->conns = conns_new(base, &(struct conn_limits){ 1, 1, 1, 1 },
	    conn_event_cb, srv->metrics);
	if (srv->config_path == NULL || srv->metrics == NULL ||
	    srv->scratch == NULL || srv->conns == NULL) {
		fail(cause, "out of memory");
		server_free(srv);
		return NULL;
	}
	for (int k = 0; k < LISTEN_NKINDS; k++) {
		struct listener *l = &srv->listeners[k];
		l->srv = srv;
		l->kind = (enum listen_kind)k;
		if ((l->http = evhttp_new(base)) == NULL) {
			fail(cause, "cannot create the HTTP server");
			server_free(srv);
			return NULL;
		}
		evhttp_set_bevcb(l->http, conns_bevcb, srv->conns);
		evhttp_set_gencb(l->http, api_request_cb, l);
		evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	}
	server_apply_limits(srv);
	publish_policies(srv);
	/* With "none", the daemon is stateless (docs/config.md). */
	if ((cfg->redis.unix_path != NULL || cfg->redis.host != NULL) &&
	    server_state_new(srv, cause) == -1) {
		server_free(srv);
		return NULL;
	}
	return srv;
}

/* Refuses a socket directory others may write to (they could swap the socket). */
static int
check_socket_dir(const char *path, char **cause)
{
	char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return fail(cause, "%s: socket paths must be absolute", path);
	*slash = '\0';
	if (stat(dir[0] ? dir : "/", &st) == -1)
		return fail(cause, "%s: %s", dir, strerror(errno));
	if (st.st_mode & S_IWOTH)
		return fail(cause, "%s: the socket's directory is writable by "
		    "others; use a directory only commentd may write to", dir);
	return 0;
}

/* Binds a Unix socket at sock->path with its mode and group; the fd or -1. */
static int
bind_unix(const struct config_socket *sock, char **cause)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (check_socket_dir(sock->path, cause) == -1)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock->path);
	/* A socket left by an earlier run is replaced; anything else is not. */
	if (lstat(sock->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return fail(cause, "%s exists and is not a socket",
			    sock->path);
		if (unlink(sock->path) == -1)
			return fail(cause, "%s: %s", sock->path,
			    strerror(errno));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return fail(cause, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    chmod(sock->path, (mode_t)sock->mode) == -1)
		goto fail;
	if (sock->group != NULL && sock->group[0] != '\0') {
		struct group *gr = getgrnam(sock->group);
		if (gr == NULL) {
			close(fd);
			return fail(cause, "%s: no such group %s", sock->path,
			    sock->group);
		}
		if (chown(sock->path, (uid_t)-1, gr->gr_gid) == -1)
			goto fail;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	fail(cause, "%s: %s", sock->path, strerror(errno));
	close(fd);
	return -1;
}

/*
 * Refuses a TCP socket from systemd that listens beyond loopback while no
 * token is configured: the config's own TCP listener has the same rule,
 * and a socket unit must not be a way around it.
 */
static int
check_passed_tcp(const struct server *srv, int fd, char **cause)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char addr[INET6_ADDRSTRLEN] = "";

	if (srv->cfg->tcp.token != NULL)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return fail(cause, "the submit-tcp socket from systemd: %s",
		    strerror(errno));
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    addr, sizeof addr);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    addr, sizeof addr);
	else
		return 0;	/* not a network socket */
	if (config_is_loopback(addr))
		return 0;
	return fail(cause, "systemd passed a submit-tcp socket on %s, beyond "
	    "loopback, and listen.tcp.token_file is not set: set a token or "
	    "bind the socket unit to 127.0.0.1 or ::1", addr);
}

/* Adopts the sockets systemd passed, by name; how many it adopted or -1. */
static int
adopt_systemd(struct server *srv, char **cause)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names), adopted = 0;

	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i, k;
		for (k = 0; k < LISTEN_NKINDS; k++)
			if (names != NULL && strcmp(names[i], listen_names[k]) == 0)
				break;
		if (k == LISTEN_NKINDS) {
			fail(cause, "systemd passed a socket named \"%s\"; "
			    "known names are submit, admin and submit-tcp",
			    names != NULL ? names[i] : "?");
			adopted = -1;
			break;
		}
		if (k == LISTEN_TCP && check_passed_tcp(srv, fd, cause) == -1) {
			adopted = -1;
			break;
		}
		/* systemd passes blocking sockets; the event loop must not block. */
		if (evutil_make_socket_nonblocking(fd) == -1 ||
		    evutil_make_socket_closeonexec(fd) == -1 ||
		    evhttp_accept_socket(srv->listeners[k].http, fd) == -1) {
			fail(cause, "cannot listen on the %s socket from "
			    "systemd", listen_names[k]);
			adopted = -1;
			break;
		}
		log_info("listening on the %s socket passed by systemd",
		    listen_names[k]);
		adopted++;
	}
	for (int i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	return adopted;
}

int
server_listen(struct server *srv, char **cause)
{
	const struct config *c = srv->cfg;
	const struct config_socket *socks[2] = { &c->submit, &c->admin };
	int n;

	if ((n = adopt_systemd(srv, cause)) != 0)
		return n < 0 ? -1 : 0;
	for (int k = LISTEN_SUBMIT; k <= LISTEN_ADMIN; k++) {
		int fd = bind_unix(socks[k], cause);
		if (fd == -1)
			return -1;
		if (evhttp_accept_socket(srv->listeners[k].http, fd) == -1) {
			close(fd);
			return fail(cause, "%s: cannot accept", socks[k]->path);
		}
		log_info("listening on %s (%s)", socks[k]->path,
		    listen_names[k]);
	}
	if (c->tcp.enabled) {
		if (evhttp_bind_socket(srv->listeners[LISTEN_TCP].http,
		    c->tcp.address, (ev_uint16_t)c->tcp.port) == -1)
			return fail(cause, "cannot listen on %s port %ld: %s",
			    c->tcp.address, c->tcp.port, strerror(errno));
		log_info("listening on %s port %ld", c->tcp.address,
		    c->tcp.port);
	}
	return 0;
}

int
server_reload(struct server *srv, struct errlist *errs_out)
{
	struct config *next = NULL;
	struct errlist errs;
	enum log_level level;
	uint64_t t0 = monotonic_us();
	int rc = 0;

	notify("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)t0);
	errlist_init(&errs);
	if (config_load(srv->config_path, &next, &errs) == -1 ||
	    config_reload_check(srv->cfg, next, &errs) == -1) {
		rc = -1;
		for (size_t i = 0; i < errs.n; i++)
			log_warnx("reload: %s", errs.msgs[i]);
		log_warnx("reload failed: %zu errors; the running "
		    "configuration keeps serving", errs.n);
		config_free(next);
		metrics_reload(srv->metrics, false, monotonic_us() - t0);
	} else {
		/* A request still waiting on Redis holds its own reference. */
		config_unref(srv->cfg);
		srv->cfg = next;
		if (srv->redis != NULL)
			redis_set_limits(srv->redis, &next->redis);
		server_apply_limits(srv);
		publish_policies(srv);
		if (log_parse_level(config_log_level_name(next->log_level),
		    &level) == 0)
			log_set_level(level);
		metrics_reload(srv->metrics, true, monotonic_us() - t0);
		log_info("reloaded %s: %zu sites", srv->config_path,
		    next->nsites);
	}
	if (errs_out != NULL)
		for (size_t i = 0; i < errs.n; i++)
			errlist_add_raw(errs_out, errs.msgs[i]);
	errlist_free(&errs);
	notify("READY=1\nSTATUS=serving %zu sites", srv->cfg->nsites);
	return rc;
}

/* Waits for the connections to finish, up to the shutdown deadline. */
static void
server_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct conn_stats st;
	static const struct timeval poll = { 0, 50000 };

	(void)fd;
	(void)what;
	conns_stats(srv->conns, &st);
	if (st.open == 0 || conns_drain_expired(srv->conns)) {
		if (st.open > 0)
			log_warnx("stopping with %zu connections still open",
			    st.open);
		event_base_loopexit(srv->base, NULL);
		return;
	}
	evtimer_add(srv->stop_timer, &poll);
}

/* Collects a listener's bound sockets, to close them after the walk. */
static void
collect_bound(struct evhttp_bound_socket *b, void *arg)
{
	struct evhttp_bound_socket **list = arg;

	for (int i = 0; i < 8; i++)
		if (list[i] == NULL) {
			list[i] = b;
			return;
		}
}

/* SIGTERM, SIGINT: stop accepting, let open requests finish, exit. */
static void
server_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	static const struct timeval now = { 0, 0 };

	(void)what;
	if (srv->stopping)
		return;
	srv->stopping = true;
	notify("STOPPING=1");
	log_info("stopping (%s)", strsignal((int)sig));
	/*
	 * Closed listening sockets refuse new connections at once (rather than
	 * leaving them in the backlog); open connections go on.
	 */
	for (int k = 0; k < LISTEN_NKINDS; k++) {
		struct evhttp_bound_socket *bound[8] = { NULL };
		evhttp_foreach_bound_socket(srv->listeners[k].http,
		    collect_bound, bound);
		for (int i = 0; i < 8 && bound[i] != NULL; i++)
			evhttp_del_accept_socket(srv->listeners[k].http,
			    bound[i]);
	}
	conns_drain(srv->conns, (uint32_t)srv->cfg->limits.shutdown_timeout_ms);
	evtimer_add(srv->stop_timer, &now);
}

/* The reload a SIGHUP asked for, run once however many signals came. */
static void
server_reload_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	server_reload(arg, NULL);
}

/*
 * SIGHUP: libevent calls this once per signal caught, back to back, so a
 * storm of signals would reload hundreds of times in a row and starve
 * every request (and a SIGTERM).  Activating one event instead coalesces
 * them: an event already active stays active once, so each turn of the
 * loop reloads at most once, after the last signal it saw.
 */
static void
server_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)sig;
	(void)what;
	event_active(srv->reload_ev, EV_TIMEOUT, 1);
}

static void
server_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

int
server_run(struct server *srv)
{
	uint64_t wd_usec = 0;

	signal(SIGPIPE, SIG_IGN);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, server_stop_cb, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, server_stop_cb, srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, server_hup_cb, srv);
	srv->stop_timer = evtimer_new(srv->base, server_drain_cb, srv);
	srv->reload_ev = event_new(srv->base, -1, 0, server_reload_cb, srv);
	if (srv->sig_term == NULL || srv->sig_int == NULL ||
	    srv->sig_hup == NULL || srv->stop_timer == NULL ||
	    srv->reload_ev == NULL ||
	    evsignal_add(srv->sig_term, NULL) == -1 ||
	    evsignal_add(srv->sig_int, NULL) == -1 ||
	    evsignal_add(srv->sig_hup, NULL) == -1)
		fatalx("cannot install the signal handlers");
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		struct timeval half = { (time_t)(wd_usec / 2000000),
		    (suseconds_t)(wd_usec / 2 % 1000000) };
		srv->watchdog = event_new(srv->base, -1, EV_PERSIST,
		    server_watchdog_cb, srv);
		if (srv->watchdog == NULL ||
		    event_add(srv->watchdog, &half) == -1)
			fatalx("cannot start the watchdog timer");
	}
	notify("READY=1\nSTATUS=serving %zu sites", srv->cfg->nsites);
	log_info("ready: %zu sites, default %s", srv->cfg->nsites,
	    srv->cfg->default_site);
	if (event_base_dispatch(srv->base) == -1)
		return 1;
	log_info("stopped");
	return srv->exit_status;
}

void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	/*
	 * The signal events go below: a second SIGTERM from an impatient
	 * supervisor must not kill the process mid-teardown (exit by signal,
	 * not 0), so the stop already under way is all it gets.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* First, while connections live: every job waiting on it is answered. */
	redis_free(srv->redis);
	srv->redis = NULL;
	tally_free(srv->tally);		/* after Redis: its flush callbacks */
	for (int k = 0; k < LISTEN_NKINDS; k++)
		if (srv->listeners[k].http != NULL)
			evhttp_free(srv->listeners[k].http);
	struct event *evs[] = { srv->sig_term, srv->sig_int, srv->sig_hup,
	    srv->watchdog, srv->stop_timer, srv->reload_ev };
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	conns_free(srv->conns);
	metrics_free(srv->metrics);
	metrics_buf_free(&srv->page);
	eval_scratch_free(srv->scratch);
	json_writer_free(&srv->answer);
	verdict_free(&srv->verdict);
	spool_close(srv->spool);
	gcra_table_free(srv->local_limits);
	if (srv->replay_timer != NULL)
		event_free(srv->replay_timer);
	free(srv->args[0]);
	free(srv->args[1]);
	config_unref(srv->cfg);
	free(srv->config_path);
	free(srv);
}
