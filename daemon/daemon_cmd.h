/*
 * daemon_cmd: commentd as a daemon: serve the configuration at
 * config_path until stopped.  Returns the exit status.
 */
#ifndef COMMENTD_DAEMON_CMD_H
#define COMMENTD_DAEMON_CMD_H

int	daemon_cmd_run(const char *config_path);

#endif
