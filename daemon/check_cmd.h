/*
 * check_cmd: `commentd -t`: check a policy or a configuration, print every
 * error or what loaded.  Returns the exit status: 0 or 1.
 */
#ifndef COMMENTD_CHECK_CMD_H
#define COMMENTD_CHECK_CMD_H

int	check_cmd_policy(const char *path);

/* With `verbose`, also prints every setting and whether it is the default. */
int	check_cmd_config(const char *path, int verbose);

#endif
