/*
 * The config loader: every class of mistake at its own file:line:column, all
 * of them in one run, a site's policy errors at the policy's own lines;
 * defaults and every setting read into its field; the loopback rule and the
 * token file; the reload check on every setting a reload cannot change;
 * config_dump and docs/config.md kept to the table; the shipped example.
 * Policies and configs come from tests/unit/data (config-*.yaml).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "errs_check.h"

#include "config.h"
#include "policy.h"

#define DATA		TEST_DATA_DIR
#define DOCS		TEST_DATA_DIR "/../../../docs/config.md"
#define EXAMPLE		TEST_DATA_DIR "/../../../etc/commentd.yaml"
/* The one site every case needs; its lines are 1 to 3. */
#define SITE		"sites:\n  list:\n    example: {policy: " \
			"config-policy.yaml}\n"
#define LONG_PATH	"/run/commentd/a-socket-path-that-is-far-too-long-" \
			"for-sockaddr-un-which-holds-only-one-hundred-and-" \
			"eight-bytes.sock"

struct error_case {
	const char	*name;
	const char	*yaml;
	const char	*where;		/* exact "file:line:column: " prefix */
	const char	*says;		/* a phrase of the message */
};

static const struct error_case error_cases[] = {
	/* The document itself. */
	{ "syntax", "state_dir: /x\n  y: 1\n", "c.yaml:2:4: ",
	    "syntax error: mapping values are not allowed" },
	{ "empty", "# nothing\n", "c.yaml:1:1: ",
	    "the configuration is empty" },
	{ "not a mapping", "- a\n", "c.yaml:1:1: ",
	    "the configuration must be a mapping, not a list" },
	{ "two documents", SITE "---\nstate_dir: /x\n", "c.yaml:4:1: ",
	    "only one YAML document" },
	{ "invalid utf-8", SITE "state_dir: \xff\n", "c.yaml:4:12: ",
	    "UTF-8" },

	/* Keys and the shape the table gives the file. */
	{ "unknown key", SITE "stat_dir: /x\n", "c.yaml:4:1: ",
	    "unknown key \"stat_dir\"; did you mean \"state_dir\"?" },
	{ "unknown key, no hint", SITE "colour: red\n", "c.yaml:4:1: ",
	    "unknown key \"colour\"" },
	{ "nested typo", SITE "listen:\n  submit: {paht: /a.sock}\n",
	    "c.yaml:5:12: ", "listen.submit: unknown key \"paht\"; did you "
	    "mean \"path\"?" },
	{ "limits typo", SITE "limits:\n  max_body_byte: 2048\n",
	    "c.yaml:5:3: ", "limits: unknown key \"max_body_byte\"; did you "
	    "mean \"max_body_bytes\"?" },
	{ "duplicate key", SITE "state_dir: /a\nstate_dir: /b\n",
	    "c.yaml:5:1: ", "duplicate key \"state_dir\" (first at line 4)" },
	{ "block not a mapping", SITE "listen: /run\n", "c.yaml:4:9: ",
	    "listen must be a mapping, not \"/run\"" },
	{ "nested not a mapping", SITE "listen:\n  submit: /run/x.sock\n",
	    "c.yaml:5:11: ", "listen.submit must be a mapping, not "
	    "\"/run/x.sock\"" },
	{ "tcp not a mapping", SITE "listen:\n  tcp: on\n", "c.yaml:5:8: ",
	    "listen.tcp must be a mapping, not \"on\"" },
	{ "value not a scalar", SITE "state_dir: [/a]\n", "c.yaml:4:12: ",
	    "state_dir must be a single value, not a list" },

	/* Numbers. */
	{ "not a number", SITE "limits: {max_connections: lots}\n",
	    "c.yaml:4:27: ", "limits.max_connections must be an integer "
	    "from 1 to 1000000, not \"lots\"" },
	{ "below the minimum", SITE "limits: {max_body_bytes: 100}\n",
	    "c.yaml:4:26: ", "limits.max_body_bytes must be an integer from "
	    "1024 to 67108864, not \"100\"" },
	{ "above the maximum", SITE "listen:\n  tcp: {port: 70000}\n",
	    "c.yaml:5:15: ", "listen.tcp.port must be an integer from 1 to "
	    "65535, not \"70000\"" },
	{ "milliseconds", SITE "limits:\n  header_timeout_ms: 0\n",
	    "c.yaml:5:22: ", "limits.header_timeout_ms must be a number of "
	    "milliseconds from 100 to 600000, not \"0\"" },
	{ "milliseconds with a unit", SITE "redis: {command_timeout_ms: 5s}\n",
	    "c.yaml:4:29: ", "must be a number of milliseconds from 1 to "
	    "60000, not \"5s\"" },
	{ "enum typo", SITE "log: {level: inof}\n", "c.yaml:4:14: ",
	    "log.level must be one of debug, info, warning, error, not "
	    "\"inof\"; did you mean \"info\"?" },

	/* Modes. */
	{ "mode not four digits", SITE "listen:\n  submit: {mode: 660}\n",
	    "c.yaml:5:18: ", "listen.submit.mode must be an octal mode from "
	    "0600 to 0777 such as \"0660\", not \"660\"" },
	{ "mode not octal", SITE "listen:\n  submit: {mode: \"0680\"}\n",
	    "c.yaml:5:18: ", "must be an octal mode" },
	{ "mode owner cannot write", SITE "listen:\n  admin: {mode: "
	    "\"0460\"}\n", "c.yaml:5:17: ", "listen.admin.mode must be an "
	    "octal mode from 0600 to 0777" },
	{ "mode others write", SITE "listen:\n  admin: {mode: \"0666\"}\n",
	    "c.yaml:5:17: ", "listen.admin.mode \"0666\" would let every local "
	    "user write to the socket; use 0660 and a group" },
	{ "mode 0777", SITE "listen:\n  admin: {mode: \"0777\"}\n",
	    "c.yaml:5:17: ", "would let every local user write" },

	/* Strings and paths. */
	{ "relative path", SITE "state_dir: var/lib/commentd\n",
	    "c.yaml:4:12: ", "state_dir must be an absolute path, not "
	    "\"var/lib/commentd\"" },
	{ "relative socket", SITE "listen:\n  admin: {path: admin.sock}\n",
	    "c.yaml:5:17: ", "listen.admin.path must be an absolute path" },
	{ "socket path too long", SITE "listen:\n  submit: {path: " LONG_PATH
	    "}\n", "c.yaml:5:18: ", "listen.submit.path is 114 bytes long; "
	    "a Unix socket path may be at most 107" },
	{ "one socket for both", SITE "listen:\n  admin: {path: "
	    "/run/commentd/submit.sock}\n", "c.yaml:5:17: ",
	    "listen.admin.path must differ from listen.submit.path" },
	{ "group", SITE "listen:\n  submit: {group: \"www data\"}\n",
	    "c.yaml:5:19: ", "listen.submit.group must be a group name or "
	    "number, not \"www data\"" },
	{ "empty string", SITE "redis: {prefix: \"\"}\n", "c.yaml:4:17: ",
	    "redis.prefix must not be empty" },
	{ "null string", SITE "redis: {prefix: ~}\n", "c.yaml:4:17: ",
	    "redis.prefix must not be empty" },
	{ "control character", SITE "state_dir: \"/var/\\tlib\"\n",
	    "c.yaml:4:12: ", "state_dir must not contain control characters" },
	{ "NUL", SITE "state_dir: \"/var/\\0lib\"\n", "c.yaml:4:12: ",
	    "state_dir must not contain a NUL character" },

	/* TCP. */
	{ "address not an IP", SITE "listen:\n  tcp: {address: localhost}\n",
	    "c.yaml:5:18: ", "listen.tcp.address must be an IPv4 or IPv6 "
	    "address such as 127.0.0.1 or ::1, not \"localhost\"" },
	{ "beyond loopback", SITE "listen:\n  tcp: {address: 0.0.0.0}\n",
	    "c.yaml:5:18: ", "listen.tcp.address 0.0.0.0 is not a loopback "
	    "address: listening beyond this machine needs "
	    "listen.tcp.token_file, so that callers must present a bearer "
	    "token" },
	{ "token unreadable", SITE "listen:\n  tcp: {address: 0.0.0.0, "
	    "token_file: /nonexistent/token}\n", "c.yaml:5:39: ",
	    "listen.tcp.token_file: cannot read /nonexistent/token: No such "
	    "file or directory" },
	{ "token relative", SITE "listen:\n  tcp: {token_file: token}\n",
	    "c.yaml:5:21: ", "listen.tcp.token_file must be an absolute path" },

	/* Redis. */
	{ "redis address", SITE "redis: {address: localhost}\n",
	    "c.yaml:4:18: ", "redis.address must be unix:/PATH, HOST:PORT "
	    "(such as 127.0.0.1:6379 or [::1]:6379) or none, not "
	    "\"localhost\"" },
	{ "redis relative socket", SITE "redis: {address: \"unix:r.sock\"}\n",
	    "c.yaml:4:18: ", "redis.address must be unix:/PATH, HOST:PORT" },
	{ "redis port", SITE "redis: {address: \"10.0.0.1:99999\"}\n",
	    "c.yaml:4:18: ", "redis.address must be unix:/PATH" },
	{ "redis bare IPv6", SITE "redis: {address: \"::1:6379\"}\n",
	    "c.yaml:4:18: ", "redis.address must be unix:/PATH" },
	{ "redis prefix", SITE "redis:\n  prefix: \"commentd:{x}\"\n",
	    "c.yaml:5:11: ", "redis.prefix must be at most 64 letters, digits" },

	/* Sites. */
	{ "no sites", "state_dir: /x\n", "c.yaml:1:1: ",
	    "missing required key \"sites\"" },
	{ "no list", "sites: {default: a}\n", "c.yaml:1:8: ",
	    "sites: missing required key \"list\"" },
	{ "list not a mapping", "sites:\n  list: [a]\n", "c.yaml:2:9: ",
	    "sites.list must be a mapping, not a list" },
	{ "no site", "sites:\n  list: {}\n", "c.yaml:2:9: ",
	    "sites.list must name at least one site" },
	{ "site name", "sites:\n  list:\n    Example: {policy: "
	    "config-policy.yaml}\n", "c.yaml:3:5: ", "sites.list: site name "
	    "must match [a-z0-9][a-z0-9_.-]* (at most 64 bytes), not "
	    "\"Example\"" },
	{ "site name brace", "sites:\n  list:\n    \"a{b}\": {policy: "
	    "config-policy.yaml}\n", "c.yaml:3:5: ", "sites.list: site name "
	    "must match" },
	{ "duplicate site", "sites:\n  list:\n    a: {policy: "
	    "config-policy.yaml}\n    a: {policy: config-policy.yaml}\n",
	    "c.yaml:4:5: ", "sites.list: duplicate site \"a\" (first at "
	    "line 3)" },
	{ "site key typo", "sites:\n  list:\n    a: {polcy: x.yaml}\n",
	    "c.yaml:3:9: ", "sites.list.a: unknown key \"polcy\"; did you "
	    "mean \"policy\"?" },
	{ "site without policy", "sites:\n  list:\n    a: {}\n",
	    "c.yaml:3:8: ", "sites.list.a: missing required key \"policy\"" },
	{ "site not a mapping", "sites:\n  list:\n    a: config-policy.yaml\n",
	    "c.yaml:3:8: ", "sites.list.a must be a mapping, not "
	    "\"config-policy.yaml\"" },
	{ "policy unreadable", "sites:\n  list:\n    a: {policy: nope.yaml}\n",
	    "c.yaml:3:17: ", "sites.list.a.policy: cannot read " DATA
	    "/nope.yaml: No such file or directory" },
	{ "policy empty", "sites:\n  list:\n    a: {policy: \"\"}\n",
	    "c.yaml:3:17: ", "sites.list.a.policy must be a non-empty string" },
	{ "policy errors", "sites:\n  list:\n    a: {policy: "
	    "config-policy-bad.yaml}\n", DATA "/config-policy-bad.yaml:3:21: ",
	    "thresholds.queue must be an integer from 1" },
	{ "default unknown", "sites:\n  default: exmaple\n  list:\n"
	    "    example: {policy: config-policy.yaml}\n", "c.yaml:2:12: ",
	    "sites.default \"exmaple\" is not a site of sites.list; did you "
	    "mean \"example\"?" },
	{ "default syntax", "sites:\n  default: \"A B\"\n  list:\n"
	    "    example: {policy: config-policy.yaml}\n", "c.yaml:2:12: ",
	    "sites.default must match [a-z0-9][a-z0-9_.-]*" },
	{ "default needed", "sites:\n  list:\n    a: {policy: "
	    "config-policy.yaml}\n    b: {policy: config-policy.yaml}\n",
	    "c.yaml:3:5: ", "sites.default must name the site of requests "
	    "that name none, as sites.list has 2 sites" },
};

/* Loads inline YAML as "c.yaml", policies from the test data. */
static int
load(const char *yaml, struct config **c, struct errlist *e)
{
	return config_load_buffer("c.yaml", DATA, yaml, strlen(yaml), c, e);
}

/* Loads YAML that must be valid; fails the test with its errors if not. */
static struct config *
load_ok(const char *yaml)
{
	struct config *c = NULL;
	struct errlist e;

	errlist_init(&e);
	if (load(yaml, &c, &e) != 0)
		dump(yaml, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	errlist_free(&e);
	return c;
}

static void
test_error_cases(void **state)
{
	struct config *sentinel = (struct config *)&sentinel, *c;
	struct errlist e;
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0];
	    i++) {
		const struct error_case *k = &error_cases[i];
		errlist_init(&e);
		c = sentinel;
		if (load(k->yaml, &c, &e) != -1 || c != sentinel ||
		    !reported(&e, k->where, k->says)) {
			print_message("want %s...%s\n", k->where, k->says);
			dump(k->name, &e);
			bad++;
		} else if (getenv("TEST_VERBOSE") != NULL)
			dump(k->name, &e);
		errlist_free(&e);
	}
	assert_int_equal(bad, 0);
}

/* Whether s is valid UTF-8 to its end. */
static bool
utf8_valid(const char *s)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n, len = (utf8proc_ssize_t)strlen(s);

	for (utf8proc_ssize_t i = 0; i < len; i += n)
		if ((n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
		    len - i, &cp)) <= 0)
			return false;
	return true;
}

/*
 * A quoted value is cut before a character, never inside one, however
 * its escapes fill the message (fuzz_config_load found a tab-filled
 * scalar whose quote was cut inside a three-byte character).
 */
static void
test_quoted_values_are_cut_between_characters(void **state)
{
	char yaml[512];
	struct config *c = NULL;
	struct errlist e;
	size_t o = 0;

	(void)state;
	for (int skew = 0; skew < 4; skew++) {
		o = (size_t)snprintf(yaml, sizeof yaml, "x%.*s", skew, "yyy");
		for (int i = 0; i < 40; i++)
			yaml[o++] = '\t';
		for (int i = 0; i < 40; i++)
			o += (size_t)snprintf(yaml + o, sizeof yaml - o,
			    "\xe5\x93\x96");
		yaml[o++] = '\n';
		yaml[o] = '\0';
		errlist_init(&e);
		assert_int_equal(load(yaml, &c, &e), -1);
		assert_int_equal(e.n, 1);
		assert_true(utf8_valid(e.msgs[0]));
		assert_non_null(strstr(e.msgs[0], "...\""));
		errlist_free(&e);
	}
}

/* One mistake gives one message, not a cascade of follow-on errors. */
static void
test_error_counts(void **state)
{
	static const struct {
		const char	*yaml;
		size_t		 n;
	} cases[] = {
		{ SITE "log: {level: inof}\n", 1 },
		{ SITE "listen: /run\n", 1 },
		{ SITE "listen:\n  admin: {mode: \"0666\"}\n", 1 },
		{ SITE "listen:\n  tcp: {address: 0.0.0.0, token_file: /no}\n",
		    1 },
		{ SITE "state_dir: /a\nstate_dir: /b\nstate_dir: /c\n", 2 },
		{ "sites:\n  list:\n    a: {polcy: x.yaml}\n", 1 },
		{ "sites:\n  list:\n    a: {policy: nope.yaml}\n", 1 },
		{ "sites:\n  default: x\n  list:\n    a: {policy: a.yaml}\n",
		    2 },
		/* Two sites on one broken policy: its 2 errors, once. */
		{ "sites:\n  default: a\n  list:\n"
		    "    a: {policy: config-policy-bad.yaml}\n"
		    "    b: {policy: config-policy-bad.yaml}\n", 2 },
	};
	struct config *c = NULL;
	struct errlist e;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		errlist_init(&e);
		assert_int_equal(load(cases[i].yaml, &c, &e), -1);
		if (e.n != cases[i].n)
			dump(cases[i].yaml, &e);
		assert_int_equal(e.n, cases[i].n);
		errlist_free(&e);
	}
}

/* A file with several mistakes, a policy's among them, reports each. */
static void
test_all_errors_in_one_run(void **state)
{
	static const char yaml[] =
	    "listen:\n"
	    "  submit: {path: run/submit.sock, mode: \"0666\"}\n"
	    "  tcp: {address: 10.0.0.1}\n"
	    "sites:\n"
	    "  default: main\n"
	    "  list:\n"
	    "    example: {policy: config-policy-bad.yaml}\n"
	    "limits:\n"
	    "  max_body_bytes: 1k\n"
	    "  idle_timeout_s: 5000\n"
	    "log: {level: verbose}\n";
	struct config *c = NULL;
	struct errlist e;

	(void)state;
	errlist_init(&e);
	assert_int_equal(load(yaml, &c, &e), -1);
	assert_null(c);
	if (e.n != 9)
		dump("several mistakes", &e);
	assert_int_equal(e.n, 9);
	assert_true(reported(&e, "c.yaml:2:18: ", "listen.submit.path must be "
	    "an absolute path"));
	assert_true(reported(&e, "c.yaml:2:41: ", "listen.submit.mode \"0666\" "
	    "would let every local user write"));
	assert_true(reported(&e, "c.yaml:3:18: ", "listen.tcp.address 10.0.0.1 "
	    "is not a loopback address"));
	assert_true(reported(&e, "c.yaml:5:12: ", "sites.default \"main\" is "
	    "not a site"));
	assert_true(reported(&e, DATA "/config-policy-bad.yaml:3:21: ",
	    "thresholds.queue"));
	assert_true(reported(&e, DATA "/config-policy-bad.yaml:4:1: ",
	    "unknown key \"rulez\"; did you mean \"rules\"?"));
	assert_true(reported(&e, "c.yaml:9:19: ", "limits.max_body_bytes must "
	    "be an integer"));
	assert_true(reported(&e, "c.yaml:10:3: ", "limits: unknown key "
	    "\"idle_timeout_s\"; did you mean \"idle_timeout_ms\"?"));
	assert_true(reported(&e, "c.yaml:11:14: ", "log.level must be one of"));
	errlist_free(&e);
}

/* A policy's mistakes are reported at the policy's lines, nothing more. */
static void
test_policy_error_position(void **state)
{
	static const char yaml[] = "sites:\n  list:\n    news: {policy: "
	    "config-policy-bad.yaml}\n";
	struct config *c = NULL;
	struct errlist e;

	(void)state;
	errlist_init(&e);
	assert_int_equal(load(yaml, &c, &e), -1);
	assert_int_equal(e.n, 2);
	/* Whole messages: nothing of the config's own is added to them. */
	assert_true(reported(&e, DATA "/config-policy-bad.yaml:3:21: "
	    "thresholds.queue must be an integer from 1 to 1000000, not \"0\"",
	    ""));
	assert_true(reported(&e, DATA "/config-policy-bad.yaml:4:1: "
	    "unknown key \"rulez\"; did you mean \"rules\"?", ""));
	for (size_t i = 0; i < e.n; i++)
		assert_null(strstr(e.msgs[i], "c.yaml"));
	errlist_free(&e);
}

static void
test_defaults(void **state)
{
	struct config *c = load_ok(SITE);

	(void)state;
	assert_string_equal(c->path, "c.yaml");
	assert_string_equal(c->submit.path, "/run/commentd/submit.sock");
	assert_int_equal(c->submit.mode, 0660);
	assert_string_equal(c->submit.group, "");
	assert_string_equal(c->admin.path, "/run/commentd/admin.sock");
	assert_int_equal(c->admin.mode, 0660);
	assert_string_equal(c->admin.group, "");
	assert_false(c->tcp.enabled);
	assert_string_equal(c->tcp.address, "127.0.0.1");
	assert_int_equal(c->tcp.port, 8420);
	assert_string_equal(c->tcp.token_file, "");
	assert_null(c->tcp.token);
	assert_string_equal(c->redis.address,
	    "unix:/run/redis/redis-server.sock");
	assert_string_equal(c->redis.unix_path, "/run/redis/redis-server.sock");
	assert_null(c->redis.host);
	assert_string_equal(c->redis.prefix, "commentd");
	assert_int_equal(c->redis.command_timeout_ms, 250);
	assert_int_equal(c->redis.max_pending, 10000);
	assert_string_equal(c->state_dir, "/var/lib/commentd");
	assert_int_equal(c->log_level, CONFIG_LOG_INFO);
	assert_string_equal(config_log_level_name(c->log_level), "info");
	assert_int_equal(c->limits.max_body_bytes, 65536);
	assert_int_equal(c->limits.max_header_bytes, 8192);
	assert_int_equal(c->limits.header_timeout_ms, 5000);
	assert_int_equal(c->limits.body_timeout_ms, 10000);
	assert_int_equal(c->limits.idle_timeout_ms, 30000);
	assert_int_equal(c->limits.max_connections, 1024);
	assert_int_equal(c->limits.max_requests_per_read, 16);
	assert_int_equal(c->limits.shutdown_timeout_ms, 10000);
	for (size_t i = 0; i < CONFIG_NSETTINGS; i++)
		assert_int_equal(c->marks[i].line, 0);

	/* The only site is the default one. */
	assert_int_equal(c->nsites, 1);
	assert_string_equal(c->default_site, "example");
	assert_string_equal(c->sites[0].name, "example");
	assert_string_equal(c->sites[0].policy_path,
	    DATA "/config-policy.yaml");
	assert_non_null(c->sites[0].policy);
	assert_string_equal(c->sites[0].policy->name, "config-test");
	assert_ptr_equal(config_site(c, NULL), &c->sites[0]);
	assert_ptr_equal(config_site(c, "example"), &c->sites[0]);
	assert_null(config_site(c, "nope"));
	config_free(c);
	config_free(NULL);
}

/* Every setting read from a file into its own field, and its place kept. */
static void
test_every_setting(void **state)
{
	struct config *c = NULL;
	struct errlist e;

	(void)state;
	errlist_init(&e);
	if (config_load(DATA "/config-full.yaml", &c, &e) != 0)
		dump("config-full.yaml", &e);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->path, DATA "/config-full.yaml");
	assert_string_equal(c->submit.path, "/run/test/submit.sock");
	assert_int_equal(c->submit.mode, 0600);
	assert_string_equal(c->submit.group, "www-data");
	assert_string_equal(c->admin.path, "/run/test/admin.sock");
	assert_int_equal(c->admin.mode, 0640);
	assert_string_equal(c->admin.group, "4242");
	assert_true(c->tcp.enabled);
	assert_int_equal(c->tcp.mark.line, 5);
	assert_int_equal(c->tcp.mark.column, 8);
	assert_string_equal(c->tcp.address, "::1");
	assert_int_equal(c->tcp.port, 8421);
	assert_null(c->tcp.token);
	assert_string_equal(c->redis.address, "[::1]:6380");
	assert_null(c->redis.unix_path);
	assert_string_equal(c->redis.host, "::1");
	assert_int_equal(c->redis.port, 6380);
	assert_string_equal(c->redis.prefix, "test-prefix");
	assert_int_equal(c->redis.command_timeout_ms, 100);
	assert_int_equal(c->redis.max_pending, 50);
	assert_string_equal(c->state_dir, "/var/lib/commentd-test");
	assert_int_equal(c->log_level, CONFIG_LOG_DEBUG);
	assert_int_equal(c->limits.max_body_bytes, 131072);
	assert_int_equal(c->limits.max_header_bytes, 4096);
	assert_int_equal(c->limits.header_timeout_ms, 2000);
	assert_int_equal(c->limits.body_timeout_ms, 3000);
	assert_int_equal(c->limits.idle_timeout_ms, 4000);
	assert_int_equal(c->limits.max_connections, 10);
	assert_int_equal(c->limits.max_requests_per_read, 4);
	assert_int_equal(c->limits.shutdown_timeout_ms, 5000);
	for (size_t i = 0; i < CONFIG_NSETTINGS; i++)
		assert_int_not_equal(c->marks[i].line, 0);
	assert_int_equal(c->marks[config_setting_index("state_dir")].line, 16);
	assert_int_equal(c->marks[config_setting_index("state_dir")].column,
	    12);

	assert_int_equal(c->nsites, 2);
	assert_string_equal(c->default_site, "second");
	assert_ptr_equal(config_site(c, NULL), &c->sites[1]);
	assert_string_equal(c->sites[1].policy_path,
	    DATA "/./config-policy.yaml");
	assert_non_null(c->sites[0].policy);
	assert_non_null(c->sites[1].policy);
	assert_ptr_not_equal(c->sites[0].policy, c->sites[1].policy);
	config_free(c);
	errlist_free(&e);
}

/* Absolute policy paths, null spellings, and a config named relatively. */
static void
test_paths_and_nulls(void **state)
{
	struct config *c;
	struct errlist e;
	char cwd[4096];

	(void)state;
	c = load_ok("sites:\n  list:\n    a: {policy: " DATA
	    "/config-policy.yaml}\nlisten:\n  submit: {group: }\n"
	    "  admin: {group: ~}\n");
	assert_string_equal(c->sites[0].policy_path,
	    DATA "/config-policy.yaml");
	assert_string_equal(c->submit.group, "");
	assert_string_equal(c->admin.group, "");
	assert_int_not_equal(c->marks[config_setting_index(
	    "listen.admin.group")].line, 0);
	config_free(c);

	/* Relative to the working directory, made absolute at load. */
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(DATA), 0);
	errlist_init(&e);
	c = NULL;
	if (config_load("config-full.yaml", &c, &e) != 0)
		dump("relative", &e);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->path, "config-full.yaml");
	assert_true(c->sites[0].policy_path[0] == '/');
	assert_non_null(strstr(c->sites[0].policy_path,
	    "/config-policy.yaml"));
	config_free(c);

	assert_int_equal(config_load(DATA "/no-such.yaml", &c, &e), -1);
	assert_true(reported(&e, DATA "/no-such.yaml: ", "cannot read the "
	    "configuration: No such file or directory"));
	errlist_free(&e);
}

/* Writes a token file with `text` and `mode`; the path goes in `path`. */
static void
token_file(char *path, size_t size, const char *text, mode_t mode)
{
	int fd;

	snprintf(path, size, "/tmp/test_config.token.XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* TCP beyond loopback only with a token; loopback without one. */
static void
test_tcp_loopback(void **state)
{
	static const struct {
		const char	*address;
		bool		 token;
		bool		 ok;
	} cases[] = {
		{ "127.0.0.1", false, true }, { "127.9.8.7", false, true },
		{ "::1", false, true }, { "0.0.0.0", false, false },
		{ "192.0.2.1", false, false }, { "::", false, false },
		{ "128.0.0.1", false, false },
		{ "::ffff:127.0.0.1", false, false },
		{ "0.0.0.0", true, true }, { "2001:db8::1", true, true },
	};
	char tok[64], yaml[512];
	struct config *c;
	struct errlist e;
	int rc;

	(void)state;
	token_file(tok, sizeof tok, "0123456789abcdef-TOKEN\n", 0600);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(yaml, sizeof yaml, SITE "listen:\n  tcp: {address: "
		    "\"%s\", token_file: \"%s\"}\n", cases[i].address,
		    cases[i].token ? tok : "");
		errlist_init(&e);
		c = NULL;
		rc = load(yaml, &c, &e);
		if ((rc == 0) != cases[i].ok)
			dump(cases[i].address, &e);
		assert_int_equal(rc == 0, cases[i].ok);
		if (cases[i].ok) {
			assert_true(c->tcp.enabled);
			if (cases[i].token)
				assert_string_equal(c->tcp.token,
				    "0123456789abcdef-TOKEN");
			else
				assert_null(c->tcp.token);
			config_free(c);
		} else
			assert_true(reported(&e, "c.yaml:5:18: ", "is not a "
			    "loopback address"));
		errlist_free(&e);
	}
	unlink(tok);
}

/* The token file: one token, visible ASCII, closed to other users. */
static void
test_token_file(void **state)
{
	static const struct {
		const char	*text;
		mode_t		 mode;
		const char	*token;		/* NULL: refused with `says` */
		const char	*says;
	} cases[] = {
		{ "abcdefghijklmnop\n", 0600, "abcdefghijklmnop", NULL },
		{ "abcdefghijklmnop\r\n", 0640, "abcdefghijklmnop", NULL },
		{ "abcdefghijklmnop", 0400, "abcdefghijklmnop", NULL },
		{ "abcdefghijklmnop\n", 0644, NULL, "is open to other users "
		    "(mode 0644); chmod o-rwx it" },
		{ "abcdefghijklmnop\n", 0602, NULL, "is open to other users" },
		{ "short\n", 0600, NULL, "must hold one token of 16 to 4096" },
		{ "", 0600, NULL, "must hold one token" },
		{ "a token with spaces in it\n", 0600, NULL,
		    "must hold one token" },
		{ "abcdefghijklmnop\nqrstuvwxyz\n", 0600, NULL,
		    "must hold one token" },
	};
	char tok[64], yaml[512];
	struct config *c;
	struct errlist e;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		token_file(tok, sizeof tok, cases[i].text, cases[i].mode);
		snprintf(yaml, sizeof yaml, SITE "listen:\n  tcp: {token_file: "
		    "\"%s\"}\n", tok);
		errlist_init(&e);
		c = NULL;
		if (cases[i].token != NULL) {
			if (load(yaml, &c, &e) != 0)
				dump(cases[i].text, &e);
			assert_int_equal(e.n, 0);
			assert_string_equal(c->tcp.token, cases[i].token);
			config_free(c);
		} else {
			assert_int_equal(load(yaml, &c, &e), -1);
			if (e.n != 1 || !reported(&e, "c.yaml:5:21: ",
			    cases[i].says))
				dump(cases[i].text, &e);
			assert_int_equal(e.n, 1);
			assert_true(reported(&e, "c.yaml:5:21: listen.tcp."
			    "token_file: /tmp/", cases[i].says));
		}
		errlist_free(&e);
		unlink(tok);
	}
}

/* One setting a reload cannot change: the file before and after. */
struct reload_case {
	const char	*name;
	const char	*old;
	const char	*new;
	const char	*where;
};

#define TCP	"listen:\n  tcp: {}\n"

static const struct reload_case reload_cases[] = {
	{ "listen.submit.path", SITE, SITE "listen:\n  submit: {path: "
	    "/run/x/submit.sock}\n", "c.yaml:5:18: " },
	{ "listen.submit.mode", SITE, SITE "listen:\n  submit: {mode: "
	    "\"0600\"}\n", "c.yaml:5:18: " },
	{ "listen.submit.group", SITE, SITE "listen:\n  submit: {group: "
	    "www-data}\n", "c.yaml:5:19: " },
	{ "listen.admin.path", SITE, SITE "listen:\n  admin: {path: "
	    "/run/x/admin.sock}\n", "c.yaml:5:17: " },
	{ "listen.admin.mode", SITE, SITE "listen:\n  admin: {mode: "
	    "\"0640\"}\n", "c.yaml:5:17: " },
	{ "listen.admin.group", SITE, SITE "listen:\n  admin: {group: "
	    "adm}\n", "c.yaml:5:18: " },
	{ "listen.tcp.address", SITE TCP, SITE "listen:\n  tcp: {address: "
	    "\"::1\"}\n", "c.yaml:5:18: " },
	{ "listen.tcp.port", SITE TCP, SITE "listen:\n  tcp: {port: 8421}\n",
	    "c.yaml:5:15: " },
	{ "redis.address", SITE, SITE "redis: {address: \"127.0.0.1:6379\"}\n",
	    "c.yaml:4:18: " },
	{ "redis.prefix", SITE, SITE "redis: {prefix: other}\n",
	    "c.yaml:4:17: " },
	{ "state_dir", SITE, SITE "state_dir: /srv/commentd\n",
	    "c.yaml:4:12: " },
	/* The block itself, both ways; and a setting gone back to default. */
	{ "listen.tcp", SITE, SITE TCP, "c.yaml:5:8: " },
	{ "listen.tcp", SITE TCP, SITE, "c.yaml: " },
	{ "state_dir", SITE "state_dir: /srv/commentd\n", SITE, "c.yaml: " },
};

static void
test_reload_check(void **state)
{
	const struct config_setting *t = config_settings();
	struct config *old, *new;
	struct errlist e;
	char says[128];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof reload_cases / sizeof reload_cases[0]; i++) {
		const struct reload_case *k = &reload_cases[i];
		old = load_ok(k->old);
		new = load_ok(k->new);
		errlist_init(&e);
		snprintf(says, sizeof says, "%s cannot change on reload "
		    "(restart commentd)", k->name);
		assert_int_equal(config_reload_check(old, new, &e), -1);
		if (e.n != 1 || strncmp(e.msgs[0], k->where,
		    strlen(k->where)) != 0 || strstr(e.msgs[0], says) == NULL)
			dump(k->name, &e);
		assert_int_equal(e.n, 1);
		assert_true(reported(&e, k->where, says));
		errlist_free(&e);
		config_free(old);
		config_free(new);
	}
	/* Every row a reload cannot change has its case. */
	for (i = 0; i < CONFIG_NSETTINGS; i++) {
		if (t[i].reload)
			continue;
		for (j = 0; j < sizeof reload_cases / sizeof reload_cases[0];
		    j++)
			if (strcmp(reload_cases[j].name, t[i].name) == 0)
				break;
		if (j == sizeof reload_cases / sizeof reload_cases[0])
			print_message("no reload case for %s\n", t[i].name);
		assert_true(j < sizeof reload_cases / sizeof reload_cases[0]);
	}
}

/* What a reload may change, it changes without a word. */
static void
test_reload_allowed(void **state)
{
	static const char changed[] =
	    "sites:\n"
	    "  default: other\n"
	    "  list:\n"
	    "    example: {policy: ./config-policy.yaml}\n"
	    "    other: {policy: config-policy.yaml}\n"
	    "redis: {command_timeout_ms: 500, max_pending: 20}\n"
	    "log: {level: warning}\n"
	    "limits: {max_body_bytes: 2048, max_header_bytes: 2048,\n"
	    "  header_timeout_ms: 1000, body_timeout_ms: 1000,\n"
	    "  idle_timeout_ms: 1000, max_connections: 2,\n"
	    "  max_requests_per_read: 1, shutdown_timeout_ms: 1000}\n"
	    TCP;
	struct config *old, *new;
	struct errlist e;

	(void)state;
	old = load_ok(SITE TCP);
	new = load_ok(changed);
	errlist_init(&e);
	assert_int_equal(config_reload_check(old, new, &e), 0);
	assert_int_equal(config_reload_check(new, old, &e), 0);
	assert_int_equal(config_reload_check(old, old, &e), 0);
	assert_int_equal(e.n, 0);
	errlist_free(&e);
	config_free(old);
	config_free(new);
}

/* config_dump into a string. */
static char *
dump_string(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(f = open_memstream(&buf, &len));
	config_dump(c, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The line of a dump that starts with "name = ", or NULL. */
static const char *
dump_line(const char *out, const char *name, char *line, size_t size)
{
	const char *p = out, *nl;
	size_t n = strlen(name);

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			return NULL;
		if (strncmp(p, name, n) == 0 && strncmp(p + n, " = ", 3) == 0) {
			snprintf(line, size, "%.*s", (int)(nl - p), p);
			return line;
		}
	}
	return NULL;
}

static void
test_dump(void **state)
{
	const struct config_setting *t = config_settings();
	struct config *def, *full = NULL;
	struct errlist e;
	char *out, line[512];

	(void)state;
	def = load_ok(SITE);
	out = dump_string(def);
	for (size_t i = 0; i < CONFIG_NSETTINGS; i++) {
		assert_non_null(dump_line(out, t[i].name, line, sizeof line));
		assert_non_null(strstr(line, " (default)"));
	}
	assert_string_equal(dump_line(out, "listen.submit.mode", line,
	    sizeof line), "listen.submit.mode = \"0660\" (default)");
	assert_string_equal(dump_line(out, "limits.max_body_bytes", line,
	    sizeof line), "limits.max_body_bytes = 65536 (default)");
	assert_string_equal(dump_line(out, "log.level", line, sizeof line),
	    "log.level = info (default)");
	assert_string_equal(dump_line(out, "listen.submit.group", line,
	    sizeof line), "listen.submit.group = \"\" (default)");
	assert_string_equal(dump_line(out, "sites.default", line,
	    sizeof line), "sites.default = \"example\" (default)");
	assert_string_equal(dump_line(out, "listen.tcp", line, sizeof line),
	    "listen.tcp = off (default)");
	assert_non_null(dump_line(out, "sites.list.example.policy", line,
	    sizeof line));
	assert_non_null(strstr(line, "= \"" DATA "/config-policy.yaml\" "
	    "(policy config-test, version "));
	assert_non_null(strstr(line, ", sha256:"));
	free(out);
	config_free(def);

	errlist_init(&e);
	assert_int_equal(config_load(DATA "/config-full.yaml", &full, &e), 0);
	out = dump_string(full);
	for (size_t i = 0; i < CONFIG_NSETTINGS; i++) {
		assert_non_null(dump_line(out, t[i].name, line, sizeof line));
		assert_null(strstr(line, "(default)"));
	}
	assert_string_equal(dump_line(out, "listen.admin.mode", line,
	    sizeof line), "listen.admin.mode = \"0640\"");
	assert_string_equal(dump_line(out, "listen.tcp", line, sizeof line),
	    "listen.tcp = on");
	assert_string_equal(dump_line(out, "log.level", line, sizeof line),
	    "log.level = debug");
	free(out);
	config_free(full);
	errlist_free(&e);
}

/* The contents of a file, or NULL. */
static char *
slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];
	FILE *f, *m;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	assert_non_null(m = open_memstream(&buf, &len));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

/* Cell `i` of a Markdown table row "| a | b |", trimmed, into buf. */
static const char *
cell(const char *row, int i, char *buf, size_t size)
{
	const char *p = row, *end;

	for (int k = 0; k <= i; k++)
		if ((p = strchr(p, '|')) == NULL)
			return "";
		else
			p++;
	if ((end = strchr(p, '|')) == NULL)
		return "";
	while (*p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	snprintf(buf, size, "%.*s", (int)(end - p), p);
	return buf;
}

/*
 * docs/config.md has a row per setting, "| `name` | type | default |
 * bounds | reload | meaning |", that says what the table says.
 */
static void
test_docs_match_table(void **state)
{
	const struct config_setting *t = config_settings();
	char key[128], want[256], buf[512], *doc, *row, *nl;
	int bad = 0;

	(void)state;
	assert_non_null(doc = slurp(DOCS));
	for (size_t i = 0; i < CONFIG_NSETTINGS; i++) {
		snprintf(key, sizeof key, "\n| `%s` |", t[i].name);
		if ((row = strstr(doc, key)) == NULL) {
			print_message("docs/config.md has no row for %s\n",
			    t[i].name);
			bad++;
			continue;
		}
		row++;
		nl = strchr(row, '\n');
		*nl = '\0';
		snprintf(want, sizeof want, "`%s`", t[i].def[0] != '\0' ?
		    t[i].def : "\"\"");
		if (strcmp(cell(row, 2, buf, sizeof buf), want) != 0) {
			print_message("%s: default %s, want %s\n", t[i].name,
			    buf, want);
			bad++;
		}
		if (t[i].type == CONFIG_MODE)
			snprintf(want, sizeof want, "%04lo – %04lo", t[i].min,
			    t[i].max);
		else if (t[i].type == CONFIG_INT || t[i].type == CONFIG_MS)
			snprintf(want, sizeof want, "%ld – %ld", t[i].min,
			    t[i].max);
		else
			want[0] = '\0';
		if (want[0] != '\0' && strcmp(cell(row, 3, buf, sizeof buf),
		    want) != 0) {
			print_message("%s: bounds %s, want %s\n", t[i].name,
			    buf, want);
			bad++;
		}
		if (strcmp(cell(row, 4, buf, sizeof buf), t[i].reload ? "yes" :
		    "no") != 0) {
			print_message("%s: reload %s\n", t[i].name, buf);
			bad++;
		}
		if (strcmp(cell(row, 5, buf, sizeof buf), t[i].help) != 0) {
			print_message("%s: meaning \"%s\", want \"%s\"\n",
			    t[i].name, buf, t[i].help);
			bad++;
		}
		*nl = '\n';
	}
	free(doc);
	assert_int_equal(bad, 0);
}

/* etc/commentd.yaml loads where its policies are beside it, as installed. */
static void
test_example(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[256], link[256];
	struct config *c = NULL;
	struct errlist e;
	char *text;
	FILE *f;

	(void)state;
	assert_non_null(text = slurp(EXAMPLE));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/commentd.yaml", dir);
	snprintf(link, sizeof link, "%s/policies", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(symlink(POLICIES_DIR, link), 0);

	errlist_init(&e);
	if (config_load(path, &c, &e) != 0)
		dump("etc/commentd.yaml", &e);
	assert_int_equal(e.n, 0);
	assert_string_equal(config_site(c, NULL)->policy->name,
	    "news-default");
	config_free(c);
	errlist_free(&e);
	unlink(link);
	unlink(path);
	rmdir(dir);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_cases),
		cmocka_unit_test(test_error_counts),
		cmocka_unit_test(test_quoted_values_are_cut_between_characters),
		cmocka_unit_test(test_all_errors_in_one_run),
		cmocka_unit_test(test_policy_error_position),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_setting),
		cmocka_unit_test(test_paths_and_nulls),
		cmocka_unit_test(test_tcp_loopback),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_reload_check),
		cmocka_unit_test(test_reload_allowed),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_docs_match_table),
		cmocka_unit_test(test_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
