/*
 * errlist: the list of causes a loader hands back.
 *
 * Policy and word-list loading reports every mistake in one run, each as
 * "file:line:column: message", so an author fixes a file in one pass (as
 * `smtpd -n` and `nginx -t` do).  The list owns its strings.
 */
#ifndef COMMENTD_ERRLIST_H
#define COMMENTD_ERRLIST_H

#include <stddef.h>

struct errlist {
	char	**msgs;
	size_t	  n;
	size_t	  cap;
};

void	errlist_init(struct errlist *);
void	errlist_free(struct errlist *);

/* Adds "file:line:column: message"; line 0 leaves out line and column. */
void	errlist_add(struct errlist *, const char *file, unsigned line,
	    unsigned column, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/*
 * Writes text[0, len) into buf as a quoted string for a message: quotes and
 * backslashes escaped, control characters as \n or \xNN, cut with "..."
 * after `max` bytes or where buf is full (never inside a character).
 * size must be at least 12.  Returns buf.
 */
const char *errlist_quote(const char *text, size_t len, size_t max,
	    char *buf, size_t size);

/* Adds a message as it is (already prefixed). */
void	errlist_add_raw(struct errlist *, const char *msg);

#endif
