/*
 * ctl: what every commentctl command shares: the parsed command line, the
 * exit statuses, the daemon's answers and one-line errors.
 *
 * commentctl speaks only the daemon's HTTP API on its admin socket; it must
 * never link Redis or read the daemon's files.  A command prints one clear
 * line on stderr when it fails and changes nothing it has not said it
 * changed.
 */
#ifndef COMMENTCTL_CTL_H
#define COMMENTCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "out.h"

#define CTL_EXIT_OK		0
#define CTL_EXIT_FAIL		1
#define CTL_EXIT_USAGE		2

#define CTL_DEFAULT_SOCKET	"/run/commentd/admin.sock"
#define CTL_TIMEOUT_MS		30000	/* one request, connect to answer */
#define CTL_URL_MAX		2048	/* a request's path and query */
#define CTL_NOTE_MAX		1000	/* bytes of a note, as the daemon */
#define CTL_ID_MAX		128	/* bytes of an id, as the daemon */

/* The options a command may take besides --json, --help and -s. */
#define CTL_OPT_SITE		0x01
#define CTL_OPT_RULE		0x02
#define CTL_OPT_LIMIT		0x04
#define CTL_OPT_NOTE		0x08
#define CTL_OPT_REASON		0x10
#define CTL_OPT_AUTHOR		0x20
#define CTL_OPT_TIMEOUT		0x40
#define CTL_OPT_NAME		0x80

struct ctl;

struct ctl_cmd {
	const char	*name;
	const char	*args;		/* the synopsis after the options */
	const char	*summary;	/* one line, for the list of commands */
	const char	*help;		/* what it does, for --help */
	unsigned	 opts;		/* CTL_OPT_* it takes */
	int		 min_args;
	int		 max_args;	/* -1: no limit */
	bool		 json;		/* --json is meaningful */
	int		(*run)(struct ctl *);
};

struct ctl {
	const char		*socket;
	int			 wait_ms;	/* a request's deadline */
	bool			 json;
	struct out		 out;
	const struct ctl_cmd	*cmd;
	int			 argc;		/* the command's operands */
	char			**argv;
	const char		*site, *rule, *note, *reason, *author, *name;
	uint64_t		 limit;		/* 0: not given */
	uint64_t		 timeout_s;	/* 0: not given */
};

/* Prints "commentctl: CMD: message" on stderr; returns CTL_EXIT_FAIL. */
int	ctl_fail(const struct ctl *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* The same for a wrong command line; returns CTL_EXIT_USAGE. */
int	ctl_usage(const struct ctl *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Whether a note may be sent (UTF-8, CTL_NOTE_MAX bytes): 0, or a usage error. */
int	ctl_check_note(const struct ctl *, const char *note);

/* A request's path and query, percent-encoded as it is built, bounded. */
struct ctl_url {
	char		 buf[CTL_URL_MAX];
	size_t		 len;
	bool		 query;		/* a '?' has been written */
	bool		 failed;	/* over CTL_URL_MAX */
};

/* Starts a URL with a literal path ("/v1/admin/queue"). */
void	ctl_url_init(struct ctl_url *, const char *path);

/* Appends a literal ("/approve"). */
void	ctl_url_add(struct ctl_url *, const char *);

/* Appends one path segment, percent-encoded ("c%2F1"). */
void	ctl_url_seg(struct ctl_url *, const char *);

/* Appends a query parameter, percent-encoded; nothing when value is NULL. */
void	ctl_url_param(struct ctl_url *, const char *name, const char *value);

/* Appends a number as a query parameter. */
void	ctl_url_uint(struct ctl_url *, const char *name, uint64_t);

/*
 * Asks the daemon: METHOD url with a JSON body (NULL: none).  The HTTP
 * status, with *answer the parsed JSON (NULL when the answer is not JSON),
 * or -1 when there is no answer at all, having printed why.
 */
int	ctl_request(struct ctl *, const char *method, const struct ctl_url *,
	    json_t *body, json_t **answer);

/*
 * The same, but anything but 200 with a JSON object is a failure: 0 with
 * *answer, or -1 having printed the daemon's message on one line, prefixed
 * by what ("approve c-42") unless it is NULL.
 */
int	ctl_call(struct ctl *, const char *what, const char *method,
	    const struct ctl_url *, json_t *body, json_t **answer);

/* An error answer as "message (code)", or "the daemon answered N". */
void	ctl_error_text(int status, json_t *answer, char *buf, size_t size);

/* Prints "commentctl: CMD: what: message (code)" (what may be NULL). */
void	ctl_print_error(const struct ctl *, const char *what, int status,
	    json_t *answer);

/* Prints a JSON value for --json, indented, and a newline. */
void	ctl_print_json(json_t *);

/* A member's string value, or def when absent or not a string. */
const char *ctl_str(json_t *obj, const char *key, const char *def);

/* A member's integer value, or def. */
long long ctl_int(json_t *obj, const char *key, long long def);

/* The reasons' spans into a field ("body"), as out_spans; malloc'd. */
struct out_span *ctl_spans(json_t *reasons, const char *field, size_t *n);

/* The commands (cmd_*.c). */
int	cmd_queue(struct ctl *);
int	cmd_show(struct ctl *);
int	cmd_approve(struct ctl *);
int	cmd_reject(struct ctl *);
int	cmd_review(struct ctl *);
int	cmd_check(struct ctl *);
int	cmd_author(struct ctl *);
int	cmd_stats(struct ctl *);
int	cmd_log(struct ctl *);
int	cmd_policy(struct ctl *);
int	cmd_reload(struct ctl *);

/*
 * Between the commands.  cmd_decide.c: the rejection reason codes and
 * whether s is one; deciding one comment (outcome "approve" or "reject"),
 * printing what was done or why not.  cmd_queue.c: one comment shown whole,
 * and one reason with the text it matched in context (item holds "body"
 * and "author": {"name"}).  cmd_author.c: an author's record on one line.
 */
extern const char *const ctl_reason_codes[];
bool	ctl_reason_ok(const char *);
int	cmd_decide_one(struct ctl *, const char *id, const char *outcome,
	    const char *reason, const char *note, json_t **answer);
void	cmd_show_item(struct ctl *, json_t *item);
void	cmd_show_reason(const struct ctl *, json_t *item, json_t *reason);
void	cmd_author_record(json_t *record);

#endif
