/*
 * config_settings: the table of every scalar setting of commentd.yaml, and
 * what is done with it row by row (defaults, parsing, printing, the reload
 * check).
 *
 * The table is the one place a setting is declared: its name, type, default,
 * bounds, whether a reload may change it and its help text.  The loader
 * derives the shape of the file from the names, config_dump() prints every
 * row, and a unit test holds docs/config.md to the same rows, so adding a
 * setting is adding a row (and bumping CONFIG_NSETTINGS).  Nothing here reads
 * a file or knows YAML.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "xalloc.h"
#include "yaml_node.h"

#define OFF(field)	offsetof(struct config, field)
#define RELOAD		true
#define RESTART		false
#define QUOTE_MAX	40
#define NAME_MAX_LEN	64	/* a group, a key prefix */

static int	check_abs_path(const char *, char *, size_t);
static int	check_socket_path(const char *, char *, size_t);
static int	check_group(const char *, char *, size_t);
static int	check_ip(const char *, char *, size_t);
static int	check_redis(const char *, char *, size_t);
static int	check_prefix(const char *, char *, size_t);

static const char *const log_level_names[] = { "debug", "info", "warning",
	"error", NULL };

static const struct config_setting config_table[] = {
	{ .name = "listen.submit.path", .type = CONFIG_STRING,
	  .off = OFF(submit.path), .def = "/run/commentd/submit.sock",
	  .check = check_socket_path, .reload = RESTART,
	  .help = "the Unix socket web backends call" },
	{ .name = "listen.submit.mode", .type = CONFIG_MODE,
	  .off = OFF(submit.mode), .def = "0660", .min = 0600, .max = 0777,
	  .reload = RESTART,
	  .help = "permissions of the submit socket; others may never write" },
	{ .name = "listen.submit.group", .type = CONFIG_STRING,
	  .off = OFF(submit.group), .def = "", .empty_ok = true,
	  .check = check_group, .reload = RESTART,
	  .help = "group of the submit socket; \"\" is the daemon's own" },
	{ .name = "listen.admin.path", .type = CONFIG_STRING,
	  .off = OFF(admin.path), .def = "/run/commentd/admin.sock",
	  .check = check_socket_path, .reload = RESTART,
	  .help = "the Unix socket of moderators and commentctl" },
	{ .name = "listen.admin.mode", .type = CONFIG_MODE,
	  .off = OFF(admin.mode), .def = "0660", .min = 0600, .max = 0777,
	  .reload = RESTART,
	  .help = "permissions of the admin socket; others may never write" },
	{ .name = "listen.admin.group", .type = CONFIG_STRING,
	  .off = OFF(admin.group), .def = "", .empty_ok = true,
	  .check = check_group, .reload = RESTART,
	  .help = "group of the admin socket; \"\" is the daemon's own" },
	{ .name = "listen.tcp.address", .type = CONFIG_STRING,
	  .off = OFF(tcp.address), .def = "127.0.0.1", .check = check_ip,
	  .reload = RESTART,
	  .help = "IP address of the TCP listener; beyond loopback it needs "
	  "token_file" },
	{ .name = "listen.tcp.port", .type = CONFIG_INT,
	  .off = OFF(tcp.port), .def = "8420", .min = 1, .max = 65535,
	  .reload = RESTART, .help = "port of the TCP listener" },
	{ .name = "listen.tcp.token_file", .type = CONFIG_STRING,
	  .off = OFF(tcp.token_file), .def = "", .empty_ok = true,
	  .check = check_abs_path, .reload = RELOAD,
	  .help = "file holding the bearer token TCP callers must send; "
	  "read again at reload" },
	{ .name = "sites.default", .type = CONFIG_STRING,
	  .off = OFF(default_site), .def = "", .empty_ok = true,
	  .check = config_check_site_name, .reload = RELOAD,
	  .help = "the site of a request that names none; \"\" means the "
	  "only site" },
	{ .name = "redis.address", .type = CONFIG_STRING,
	  .off = OFF(redis.address), .def = "unix:/run/redis/redis-server.sock",
	  .check = check_redis, .reload = RESTART,
	  .help = "Redis server: unix:/PATH or HOST:PORT; `none` for a "
	  "stateless daemon" },
	{ .name = "redis.prefix", .type = CONFIG_STRING,
	  .off = OFF(redis.prefix), .def = "commentd", .check = check_prefix,
	  .reload = RESTART,
	  .help = "first part of every Redis key" },
	{ .name = "redis.command_timeout_ms", .type = CONFIG_MS,
	  .off = OFF(redis.command_timeout_ms), .def = "250", .min = 1,
	  .max = 60000, .reload = RELOAD,
	  .help = "deadline of one Redis command" },
	{ .name = "redis.max_pending", .type = CONFIG_INT,
	  .off = OFF(redis.max_pending), .def = "10000", .min = 1,
	  .max = 1000000, .reload = RELOAD,
	  .help = "most Redis commands awaiting an answer at once" },
	{ .name = "state_dir", .type = CONFIG_STRING, .off = OFF(state_dir),
	  .def = "/var/lib/commentd", .check = check_abs_path,
	  .reload = RESTART,
	  .help = "directory of the local spool" },
	{ .name = "log.level", .type = CONFIG_ENUM, .off = OFF(log_level),
	  .def = "info", .names = log_level_names, .reload = RELOAD,
	  .help = "the least important messages still logged" },
	{ .name = "limits.max_body_bytes", .type = CONFIG_INT,
	  .off = OFF(limits.max_body_bytes), .def = "65536", .min = 1024,
	  .max = 64L << 20, .reload = RELOAD,
	  .help = "largest request body; a larger one is answered 413" },
	{ .name = "limits.max_header_bytes", .type = CONFIG_INT,
	  .off = OFF(limits.max_header_bytes), .def = "8192", .min = 1024,
	  .max = 1L << 20, .reload = RELOAD,
	  .help = "largest request line and headers; larger is answered 431" },
	{ .name = "limits.header_timeout_ms", .type = CONFIG_MS,
	  .off = OFF(limits.header_timeout_ms), .def = "5000", .min = 100,
	  .max = 600000, .reload = RELOAD,
	  .help = "absolute deadline for the request line and headers" },
	{ .name = "limits.body_timeout_ms", .type = CONFIG_MS,
	  .off = OFF(limits.body_timeout_ms), .def = "10000", .min = 100,
	  .max = 600000, .reload = RELOAD,
	  .help = "absolute deadline for the body, once the headers are in" },
	{ .name = "limits.idle_timeout_ms", .type = CONFIG_MS,
	  .off = OFF(limits.idle_timeout_ms), .def = "30000", .min = 100,
	  .max = 3600000, .reload = RELOAD,
	  .help = "how long a kept-alive connection may wait for a request" },
	{ .name = "limits.max_connections", .type = CONFIG_INT,
	  .off = OFF(limits.max_connections), .def = "1024", .min = 1,
	  .max = 1000000, .reload = RELOAD,
	  .help = "open connections at most; the excess is closed at once" },
	{ .name = "limits.max_requests_per_read", .type = CONFIG_INT,
	  .off = OFF(limits.max_requests_per_read), .def = "16", .min = 1,
	  .max = 1024, .reload = RELOAD,
	  .help = "requests served from one connection per read event" },
	{ .name = "limits.shutdown_timeout_ms", .type = CONFIG_MS,
	  .off = OFF(limits.shutdown_timeout_ms), .def = "10000", .min = 100,
	  .max = 600000, .reload = RELOAD,
	  .help = "how long a graceful stop waits for requests in flight" },
};
_Static_assert(sizeof config_table / sizeof config_table[0] ==
    CONFIG_NSETTINGS, "CONFIG_NSETTINGS must count config_table's rows");

/* The rows of the table. */
const struct config_setting *
config_settings(void)
{
	return config_table;
}

/* The row called `name`, or -1. */
int
config_setting_index(const char *name)
{
	for (size_t i = 0; i < CONFIG_NSETTINGS; i++)
		if (strcmp(config_table[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The name of a log level, as log.level writes it. */
const char *
config_log_level_name(int level)
{
	if (level < CONFIG_LOG_DEBUG || level > CONFIG_LOG_ERROR)
		return "?";
	return log_level_names[level];
}

/* A value quoted for a message. */
static const char *
quote(const char *s, char *buf, size_t size)
{
	return errlist_quote(s, strlen(s), QUOTE_MAX, buf, size);
}

/* An absolute path, as settings that outlive a chdir must be. */
static int
check_abs_path(const char *v, char *why, size_t size)
{
	char q[128];

	if (v[0] == '/')
		return 0;
	snprintf(why, size, "must be an absolute path, not %s",
	    quote(v, q, sizeof q));
	return -1;
}

/* An absolute path short enough for sockaddr_un, or bind() would fail. */
static int
check_socket_path(const char *v, char *why, size_t size)
{
	const size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;

	if (check_abs_path(v, why, size) == -1)
		return -1;
	if (strlen(v) <= max)
		return 0;
	snprintf(why, size, "is %zu bytes long; a Unix socket path may be "
	    "at most %zu", strlen(v), max);
	return -1;
}

/* True when s is made only of characters in `set`, and not empty. */
static bool
all_of(const char *s, const char *set)
{
	return *s != '\0' && strspn(s, set) == strlen(s);
}

#define DIGITS	"0123456789"
#define ALNUM	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS

/* A group name or number; whether it exists is the server's business. */
static int
check_group(const char *v, char *why, size_t size)
{
	char q[128];

	if (strlen(v) <= NAME_MAX_LEN && (all_of(v, DIGITS) ||
	    (!isdigit((unsigned char)v[0]) && v[0] != '-' &&
	    all_of(v, ALNUM "_.-"))))
		return 0;
	snprintf(why, size, "must be a group name or number, not %s",
	    quote(v, q, sizeof q));
	return -1;
}

/* A literal IPv4 or IPv6 address; a name would make loopback a guess. */
static int
check_ip(const char *v, char *why, size_t size)
{
	struct in6_addr a6;
	struct in_addr a4;
	char q[128];

	if (inet_pton(AF_INET, v, &a4) == 1 ||
	    inet_pton(AF_INET6, v, &a6) == 1)
		return 0;
	snprintf(why, size, "must be an IPv4 or IPv6 address such as "
	    "127.0.0.1 or ::1, not %s", quote(v, q, sizeof q));
	return -1;
}

/* True for 127.0.0.0/8 and ::1 (a mapped ::ffff:127.x is not). */
bool
config_is_loopback(const char *v)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, v, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, v, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/* Splits a Redis address; see config.h. */
int
config_redis_split(const char *v, char **unix_path, char **host, long *port,
    char *why, size_t size)
{
	const size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;
	struct in6_addr a6;
	const char *colon;
	char q[128], h[256], *end;
	size_t hlen;
	long p;

	/* No Redis: a stateless daemon (docs/config.md says what it loses). */
	if (strcmp(v, "none") == 0)
		return 0;
	if (strncmp(v, "unix:", 5) == 0) {
		if (v[5] != '/' || strlen(v + 5) > max)
			goto bad;
		if (unix_path != NULL)
			*unix_path = xstrdup(v + 5);
		return 0;
	}
	if ((colon = strrchr(v, ':')) == NULL || !all_of(colon + 1, DIGITS))
		goto bad;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || p < 1 || p > 65535 ||
	    (hlen = (size_t)(colon - v)) == 0 || hlen >= sizeof h)
		goto bad;
	memcpy(h, v, hlen);
	h[hlen] = '\0';
	/* An IPv6 host is bracketed, so that its colons are not the port's. */
	if (h[0] == '[') {
		if (hlen < 3 || h[hlen - 1] != ']')
			goto bad;
		memmove(h, h + 1, hlen - 2);
		h[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, h, &a6) != 1)
			goto bad;
	} else if (!all_of(h, ALNUM ".-"))
		goto bad;
	if (host != NULL)
		*host = xstrdup(h);
	if (port != NULL)
		*port = p;
	return 0;
bad:
	snprintf(why, size, "must be unix:/PATH, HOST:PORT (such as "
	    "127.0.0.1:6379 or [::1]:6379) or none, not %s",
	    quote(v, q, sizeof q));
	return -1;
}

/* The table's view of config_redis_split: a check only. */
static int
check_redis(const char *v, char *why, size_t size)
{
	return config_redis_split(v, NULL, NULL, NULL, why, size);
}

/*
 * Keys are PREFIX:{SITE}:...; a colon or a brace in the prefix would make
 * the key layout ambiguous or move the Redis Cluster hash tag.
 */
static int
check_prefix(const char *v, char *why, size_t size)
{
	char q[128];

	if (strlen(v) <= NAME_MAX_LEN && all_of(v, ALNUM "_.-"))
		return 0;
	snprintf(why, size, "must be at most %d letters, digits, \"_\", \".\" "
	    "or \"-\", not %s", NAME_MAX_LEN, quote(v, q, sizeof q));
	return -1;
}

/*
 * A site name goes into Redis keys inside a hash tag and into metrics
 * labels, so it is kept to a small, safe alphabet.
 */
int
config_check_site_name(const char *v, char *why, size_t size)
{
	char q[128];

	if (strlen(v) <= CONFIG_SITE_MAX && (islower((unsigned char)v[0]) ||
	    isdigit((unsigned char)v[0])) &&
	    all_of(v, "abcdefghijklmnopqrstuvwxyz" DIGITS "_.-"))
		return 0;
	snprintf(why, size, "must match [a-z0-9][a-z0-9_.-]* (at most %d "
	    "bytes), not %s", CONFIG_SITE_MAX, quote(v, q, sizeof q));
	return -1;
}

/* Parses a number for an INT, MS or MODE row; 0 or -1 with why. */
static int
parse_number(const struct config_setting *s, const char *v, long *out,
    char *why, size_t size)
{
	char q[128], *end;
	long n;

	/* Modes are four octal digits, "0660", as chmod(1) writes them. */
	if (s->type == CONFIG_MODE) {
		if (strlen(v) != 4 || v[0] != '0' || !all_of(v, "01234567") ||
		    (n = strtol(v, NULL, 8)) < s->min || n > s->max) {
			snprintf(why, size, "must be an octal mode from %04lo "
			    "to %04lo such as \"0660\", not %s", s->min, s->max,
			    quote(v, q, sizeof q));
			return -1;
		}
		if (n & 02) {
			snprintf(why, size, "%s would let every local user "
			    "write to the socket; use 0660 and a group",
			    quote(v, q, sizeof q));
			return -1;
		}
		*out = n;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (!all_of(v[0] == '-' ? v + 1 : v, DIGITS) || errno != 0 ||
	    *end != '\0' || n < s->min || n > s->max) {
		snprintf(why, size, "must be %s from %ld to %ld, not %s",
		    s->type == CONFIG_MS ? "a number of milliseconds" :
		    "an integer", s->min, s->max, quote(v, q, sizeof q));
		return -1;
	}
	*out = n;
	return 0;
}

/* Reads an ENUM row's value; 0 or -1 with why, and a hint on a typo. */
static int
parse_enum(const struct config_setting *s, const char *v, int *out,
    char *why, size_t size)
{
	char list[256], q[128];
	const char *hint;
	size_t o = 0;

	for (int i = 0; s->names[i] != NULL; i++) {
		if (strcmp(v, s->names[i]) == 0) {
			*out = i;
			return 0;
		}
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
		    i ? ", " : "", s->names[i]);
		if (o >= sizeof list)
			o = sizeof list - 1;
	}
	if ((hint = yaml_node_closest(v, s->names)) != NULL)
		snprintf(why, size, "must be one of %s, not %s; did you mean "
		    "\"%s\"?", list, quote(v, q, sizeof q), hint);
	else
		snprintf(why, size, "must be one of %s, not %s", list,
		    quote(v, q, sizeof q));
	return -1;
}

/* Stores one value into its field; see config.h. */
int
config_setting_set(struct config *c, size_t row, const char *v, char *why,
    size_t size)
{
	const struct config_setting *s = &config_table[row];
	void *field = (char *)c + s->off;
	char **str = field;

	switch (s->type) {
	case CONFIG_INT:
	case CONFIG_MS:
	case CONFIG_MODE:
		return parse_number(s, v, field, why, size);
	case CONFIG_ENUM:
		return parse_enum(s, v, field, why, size);
	case CONFIG_STRING:
		break;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, size, "must not contain control "
			    "characters");
			return -1;
		}
	}
	if (*v == '\0' && !s->empty_ok) {
		snprintf(why, size, "must not be empty");
		return -1;
	}
	if (*v != '\0' && s->check != NULL && s->check(v, why, size) == -1)
		return -1;
	free(*str);
	*str = xstrdup(v);
	return 0;
}

/* Every row's default; a default that does not parse is a broken table. */
void
config_settings_default(struct config *c)
{
	char why[256];

	for (size_t i = 0; i < CONFIG_NSETTINGS; i++)
		if (config_setting_set(c, i, config_table[i].def, why,
		    sizeof why) == -1)
			abort();
}

/* A field as the file would write it: strings quoted, modes in octal. */
void
config_setting_format(const struct config *c, size_t row, char *buf,
    size_t size)
{
	const struct config_setting *s = &config_table[row];
	const void *field = (const char *)c + s->off;
	const char *str;

	switch (s->type) {
	case CONFIG_INT:
	case CONFIG_MS:
		snprintf(buf, size, "%ld", *(const long *)field);
		return;
	case CONFIG_MODE:
		snprintf(buf, size, "\"%04lo\"", *(const long *)field);
		return;
	case CONFIG_ENUM:
		snprintf(buf, size, "%s", s->names[*(const int *)field]);
		return;
	case CONFIG_STRING:
		str = *(char *const *)field;
		errlist_quote(str, strlen(str), size, buf, size);
		return;
	}
}

/* Whether a row holds the same value in two configs. */
static bool
setting_equal(const struct config *a, const struct config *b, size_t row)
{
	const struct config_setting *s = &config_table[row];
	const void *fa = (const char *)a + s->off;
	const void *fb = (const char *)b + s->off;

	switch (s->type) {
	case CONFIG_INT:
	case CONFIG_MS:
	case CONFIG_MODE:
		return *(const long *)fa == *(const long *)fb;
	case CONFIG_ENUM:
		return *(const int *)fa == *(const int *)fb;
	case CONFIG_STRING:
		break;
	}
	return strcmp(*(char *const *)fa, *(char *const *)fb) == 0;
}

/* Adds a reload error at the setting's place in the new file, if written. */
static void
reload_error(struct errlist *errs, const struct config *new,
    struct config_mark m, const char *name, const char *was,
    const char *now)
{
	errlist_add(errs, new->path, m.line, m.column, "%s cannot change on "
	    "reload (restart commentd): running with %s, the file says %s",
	    name, was, now);
}

/* Whether the new config may replace the old; see config.h. */
int
config_reload_check(const struct config *old, const struct config *new,
    struct errlist *errs)
{
	char was[512], now[512];
	size_t nerr0 = errs->n;

	/* Starting or stopping a listener is a restart. */
	if (old->tcp.enabled != new->tcp.enabled)
		reload_error(errs, new, new->tcp.mark, "listen.tcp",
		    old->tcp.enabled ? "on" : "off",
		    new->tcp.enabled ? "on" : "off");
	for (size_t i = 0; i < CONFIG_NSETTINGS; i++) {
		if (config_table[i].reload)
			continue;
		/* Already reported as listen.tcp as a whole. */
		if (old->tcp.enabled != new->tcp.enabled &&
		    strncmp(config_table[i].name, "listen.tcp.", 11) == 0)
			continue;
		if (setting_equal(old, new, i))
			continue;
		config_setting_format(old, i, was, sizeof was);
		config_setting_format(new, i, now, sizeof now);
		reload_error(errs, new, new->marks[i], config_table[i].name,
		    was, now);
	}
	return errs->n > nerr0 ? -1 : 0;
}

/* Writes every setting and site; see config.h. */
void
config_dump(const struct config *c, FILE *f)
{
	const struct config_site *site;
	const struct policy *p;
	char buf[512];

	for (size_t i = 0; i < CONFIG_NSETTINGS; i++) {
		/* The block's presence is a setting too, and comes first. */
		if (strcmp(config_table[i].name, "listen.tcp.address") == 0)
			fprintf(f, "listen.tcp = %s%s\n",
			    c->tcp.enabled ? "on" : "off",
			    c->tcp.enabled ? "" : " (default)");
		config_setting_format(c, i, buf, sizeof buf);
		fprintf(f, "%s = %s%s\n", config_table[i].name, buf,
		    c->marks[i].line == 0 ? " (default)" : "");
	}
	for (size_t i = 0; i < c->nsites; i++) {
		site = &c->sites[i];
		p = site->policy;
		errlist_quote(site->policy_path, strlen(site->policy_path),
		    sizeof buf, buf, sizeof buf);
		fprintf(f, "sites.list.%s.policy = %s", site->name, buf);
		if (p != NULL)
			fprintf(f, " (policy %s, version %s, %s)", p->name,
			    p->version != NULL ? p->version : "?", p->digest);
		fputc('\n', f);
	}
}
