/*
 * log: the daemon's messages, OpenBSD style, to stderr.
 *
 * Under systemd (JOURNAL_STREAM set) each line starts with its syslog
 * priority ("<4>"), which journald turns into the entry's level; in a
 * terminal it reads "commentd: warning: ...".  log_warn appends the errno
 * text, log_warnx does not.  Never log a comment's text at info level.
 */
#ifndef COMMENTD_LOG_H
#define COMMENTD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	log_init(enum log_level);
void	log_set_level(enum log_level);
bool	log_enabled(enum log_level);
int	log_parse_level(const char *, enum log_level *);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

/* For start-up and broken invariants only: logs and exits 1. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
