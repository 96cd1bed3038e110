/*
 * config: the daemon's configuration, /etc/commentd/commentd.yaml.
 *
 * Every scalar setting is one row of a declarative table (config_settings.c,
 * as PgBouncer does it): its dotted name in the file, its type, default,
 * bounds, whether a reload may change it, and its help text.  The loader
 * walks the YAML tree that the table implies, so a key the table does not
 * know is an error with a "did you mean"; the two structured parts
 * (listen.tcp, which exists or not, and sites.list) are read by code beside
 * the table.  Loading also loads and checks every site's policy, so one run
 * of `commentd -t` reports every mistake of the config and of its policies,
 * each as file:line:column.  A loaded config is only read; reload builds a
 * new one, asks config_reload_check() whether it may replace the old, and
 * swaps.  Nothing here opens a socket, binds or looks up a group: the
 * config says what to do, the server does it.
 */
#ifndef COMMENTD_CONFIG_H
#define COMMENTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "errlist.h"

struct policy;

#define CONFIG_DEFAULT_PATH	"/etc/commentd/commentd.yaml"
#define CONFIG_NSETTINGS	24	/* rows of the table */
#define CONFIG_SITE_MAX		64	/* bytes of a site name */
#define CONFIG_TOKEN_MIN	16	/* bytes of a bearer token */
#define CONFIG_TOKEN_MAX	4096

enum config_log_level {
	CONFIG_LOG_DEBUG,
	CONFIG_LOG_INFO,
	CONFIG_LOG_WARNING,
	CONFIG_LOG_ERROR,
};

/* Where a setting was written; line 0 when it was not (its default). */
struct config_mark {
	unsigned	 line, column;
};

/* A Unix socket to listen on. */
struct config_socket {
	char		*path;
	long		 mode;		/* 0600 .. 0777, never others' write */
	char		*group;		/* "" = the daemon's own group */
};

/* The optional TCP listener; address, port and token_file always hold values. */
struct config_tcp {
	bool		 enabled;	/* the listen.tcp block is present */
	struct config_mark mark;	/* of the block */
	char		*address;	/* an IPv4 or IPv6 literal */
	long		 port;
	char		*token_file;	/* "" = no token */
	char		*token;		/* read from token_file, or NULL */
};

struct config_redis {
	char		*address;	/* as written: unix:/PATH or HOST:PORT */
	char		*unix_path;	/* unix:/PATH: the path; else NULL */
	char		*host;		/* HOST:PORT: the host, no brackets */
	long		 port;		/* HOST:PORT: the port; else 0 */
	char		*prefix;	/* of every key */
	long		 command_timeout_ms;
	long		 max_pending;
};

struct config_limits {
	long		 max_body_bytes;
	long		 max_header_bytes;
	long		 header_timeout_ms;
	long		 body_timeout_ms;
	long		 idle_timeout_ms;
	long		 max_connections;
	long		 max_requests_per_read;
	long		 shutdown_timeout_ms;
};

/* A site and its loaded policy, which the config owns. */
struct config_site {
	char		*name;
	char		*policy_path;	/* resolved against the config's directory */
	struct policy	*policy;
};

struct config {
	unsigned	 refs;		/* config_ref / config_unref */
	char		*path;		/* the file as given */
	struct config_socket submit;
	struct config_socket admin;
	struct config_tcp tcp;
	char		*default_site;	/* always names one of sites once loaded */
	struct config_site *sites;	/* in file order */
	size_t		 nsites;
	struct config_redis redis;
	char		*state_dir;
	int		 log_level;	/* enum config_log_level */
	struct config_limits limits;
	struct config_mark marks[CONFIG_NSETTINGS];	/* by table row */
};

/*
 * Loads and checks the config at `path` and every site's policy; 0, or -1
 * with every error in errs (config and policies alike) and *out untouched.
 */
int		 config_load(const char *path, struct config **out,
		    struct errlist *errs);

/*
 * The same from memory (tests, fuzzing): `name` is used in messages, and
 * relative policy paths are resolved against `dir`.
 */
int		 config_load_buffer(const char *name, const char *dir,
		    const char *data, size_t len, struct config **out,
		    struct errlist *errs);

/* Frees a config and its policies; NULL is fine. */
void		 config_free(struct config *);

/* The site called `name`, the default site for NULL, or NULL if unknown. */
const struct config_site *config_site(const struct config *,
		    const char *name);

/*
 * Whether `new` may replace the running `old`: 0, or -1 with one error,
 * at its place in the new file, for each setting a reload cannot change
 * ("listen.submit.path cannot change on reload (restart commentd)").
 */
int		 config_reload_check(const struct config *old,
		    const struct config *new, struct errlist *errs);

/*
 * Writes every setting, one "name = value" a line, marking those the file
 * did not set "(default)", then the sites and their policies.
 */
void		 config_dump(const struct config *, FILE *);

const char	*config_log_level_name(int level);

/*
 * The table.  Each row reads one scalar at `name` into the field at `off`:
 * a long for numbers and modes, an int for enums, a char * for strings.
 */
enum config_type {
	CONFIG_INT,
	CONFIG_MS,		/* an integer, in milliseconds */
	CONFIG_MODE,		/* an octal file mode written "0660" */
	CONFIG_STRING,
	CONFIG_ENUM,
};

struct config_setting {
	const char	*name;		/* dotted path in the file */
	enum config_type type;
	size_t		 off;		/* of the field in struct config */
	const char	*def;		/* the default, written as in the file */
	long		 min, max;	/* numbers and modes */
	const char *const *names;	/* CONFIG_ENUM: the values, by index */
	bool		 empty_ok;	/* CONFIG_STRING: "" is a value */
	int		(*check)(const char *value, char *why, size_t size);
	bool		 reload;	/* a reload may change it */
	const char	*help;
};

/* The rows, CONFIG_NSETTINGS of them. */
const struct config_setting *config_settings(void);

/*
 * Between config.c and config_settings.c only.  A row's index or -1; every
 * row's default into a new config; one value into its field (0, or -1 with
 * the reason in `why`, to follow the setting's name); a field as the file
 * would write it; "unix:/PATH" or "HOST:PORT" split (outputs may be NULL);
 * whether a literal address is loopback; whether a site name is valid
 * (0, or -1 with the reason).
 */
int		 config_setting_index(const char *name);
void		 config_settings_default(struct config *);
int		 config_setting_set(struct config *, size_t row,
		    const char *value, char *why, size_t size);
void		 config_setting_format(const struct config *, size_t row,
		    char *buf, size_t size);
/*
 * A loaded config starts with one reference.  The server holds one for the
 * running config; a request waiting on Redis holds one on the config (and
 * so the policy) it started with, so a reload never frees it under them.
 */
struct config	*config_ref(struct config *);
void		 config_unref(struct config *);

/* address "none" gives no path, host or port: no Redis. */
int		 config_redis_split(const char *address, char **unix_path,
		    char **host, long *port, char *why, size_t size);
bool		 config_is_loopback(const char *address);
int		 config_check_site_name(const char *name, char *why,
		    size_t size);

#endif
