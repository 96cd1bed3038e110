/*
 * server: the daemon around the engine: evhttp on the submit and admin
 * Unix sockets (and sockets handed over by systemd), the routes of the API,
 * reload, graceful stop and systemd notification.
 *
 * Single-threaded, on one event_base.  A request is evaluated inside its
 * evhttp callback, so no request spans a configuration swap; when Redis
 * makes answers asynchronous, requests must hold the config they started
 * with (a reference count) instead.
 */
#ifndef COMMENTD_SERVER_H
#define COMMENTD_SERVER_H

struct event_base;
struct config;

struct server;

/*
 * A server for `cfg`, loaded from `config_path` (reloads read it again);
 * the server owns cfg from here on.  NULL with *cause on failure.
 */
struct server	*server_new(struct event_base *, struct config *cfg,
		    const char *config_path, char **cause);

/* Binds or adopts the listeners; 0, or -1 with *cause (malloc'd). */
int		 server_listen(struct server *, char **cause);

/* Runs until stopped by SIGTERM or SIGINT; the exit status. */
int		 server_run(struct server *);

void		 server_free(struct server *);

#endif
