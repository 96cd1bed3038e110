/*
 * errs_check: what the loader tests (policy, config) ask of an errlist,
 * shared so that both read the same way.  Include after <cmocka.h>.
 */
#ifndef COMMENTD_ERRS_CHECK_H
#define COMMENTD_ERRS_CHECK_H

#include <string.h>

#include "errlist.h"

/* Prints what was reported, so a failing case shows the real messages. */
static inline void
dump(const char *name, const struct errlist *e)
{
	print_message("case \"%s\": %zu error(s)\n", name, e->n);
	for (size_t i = 0; i < e->n; i++)
		print_message("  %s\n", e->msgs[i]);
}

/* True if some message starts with `where` and contains `says`. */
static inline int
reported(const struct errlist *e, const char *where, const char *says)
{
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->msgs[i], where, strlen(where)) == 0 &&
		    strstr(e->msgs[i], says) != NULL)
			return 1;
	return 0;
}

#endif
