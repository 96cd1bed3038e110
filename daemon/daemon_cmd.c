/*
 * daemon_cmd: `commentd [-c CONFIG]`: load the configuration and every
 * policy, listen, serve in the foreground until SIGTERM.  systemd runs it
 * as Type=notify; it never forks.  A configuration with any error is
 * reported in full and the daemon does not start.
 */
#include "daemon_cmd.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "config.h"
#include "errlist.h"
#include "log.h"
#include "server.h"

int
daemon_cmd_run(const char *config_path)
{
	struct event_base *base;
	struct config *cfg = NULL;
	struct server *srv;
	struct errlist errs;
	enum log_level level;
	char *cause = NULL;
	int status;

	log_init(LOG_LEVEL_INFO);
	errlist_init(&errs);
	if (config_load(config_path, &cfg, &errs) == -1) {
		for (size_t i = 0; i < errs.n; i++)
			log_warnx("%s", errs.msgs[i]);
		log_warnx("%s: %zu errors; not starting", config_path, errs.n);
		errlist_free(&errs);
		return 1;
	}
	errlist_free(&errs);
	if (log_parse_level(config_log_level_name(cfg->log_level), &level) == 0)
		log_set_level(level);
	if ((base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if ((srv = server_new(base, cfg, config_path, &cause)) == NULL ||
	    server_listen(srv, &cause) == -1) {
		log_warnx("%s", cause != NULL ? cause : "cannot start");
		free(cause);
		if (srv == NULL)
			config_free(cfg);
		server_free(srv);
		event_base_free(base);
		return 1;
	}
	status = server_run(srv);
	server_free(srv);
	event_base_free(base);
	return status;
}
