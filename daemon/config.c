/*
 * config: reads commentd.yaml into a struct config, checking all of it and
 * every site's policy.
 *
 * The shape of the file is not written down twice: config_walk() derives
 * each mapping's keys from the dotted names of the settings table
 * (config_settings.c), so a key the table does not know is an unknown key
 * with a "did you mean".  Only the listen.tcp block (present or not) and
 * sites.list (a mapping of names the operator chooses) are read by code of
 * their own.  Like the policy loader, every mistake is reported as
 * file:line:column and the walk goes on, so one run reports them all; a
 * config with any error, its own or a policy's, is freed whole.  This file
 * must never bind, connect or look up users: `commentd -t` runs it as any
 * user on any machine.
 */
#include "config.h"
#include "file_read.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "policy.h"
#include "xalloc.h"
#include "yaml_node.h"

#define CONFIG_MAX_BYTES	(1u << 20)
#define CONFIG_MAX_KEYS		16	/* keys of one mapping of the table */
#define CONFIG_KEY_LEN		32

/* Everything one load needs; nothing outlives config_load_buffer(). */
struct config_loader {
	struct yaml_node_ctx	 y;
	struct config		*cfg;
	const char		*dir;		/* for relative policy paths */
	struct errlist		*errs;
	size_t			 nerr0;
	const yaml_node_t	**site_keys;	/* by site, for duplicates */
};

/* Dotted names read by code here rather than by the table. */
static const char *const config_blocks[] = { "sites.list", NULL };
static const char *const site_keys[] = { "policy", NULL };

/* True once this load has reported anything. */
static bool
config_failed(const struct config_loader *l)
{
	return l->errs->n > l->nerr0;
}

/*
 * Reports at the place the table row `name` was written, else at `n`, else
 * against the file: a default can be wrong only in combination with
 * something written elsewhere.
 */
static void
config_error_at(struct config_loader *l, const char *name,
    const yaml_node_t *n, const char *fmt, ...)
{
	struct config_mark m = l->cfg->marks[config_setting_index(name)];
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (m.line == 0 && n != NULL) {
		m.line = yaml_node_line(n);
		m.column = yaml_node_column(n);
	}
	errlist_add(l->errs, l->y.file, m.line, m.column, "%s", msg);
}

/* True for a plain scalar YAML reads as null: empty, "~" or "null". */
static bool
config_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0);
}

/* One table row's value from its node. */
static void
config_read_setting(struct config_loader *l, size_t row, const yaml_node_t *n)
{
	const char *name = config_settings()[row].name;
	char why[512], *v;

	if (yaml_node_scalar(&l->y, n, name) == -1)
		return;
	if (memchr(n->data.scalar.value, '\0', n->data.scalar.length) != NULL) {
		yaml_node_error(&l->y, n, "%s must not contain a NUL character",
		    name);
		return;
	}
	/* `group:` with nothing after it means the empty string. */
	v = config_is_null(n) ? xstrdup("") : strndup((const char *)
	    n->data.scalar.value, n->data.scalar.length);
	if (v == NULL)
		abort();
	if (config_setting_set(l->cfg, row, v, why, sizeof why) == -1)
		yaml_node_error(&l->y, n, "%s %s", name, why);
	else {
		l->cfg->marks[row].line = yaml_node_line(n);
		l->cfg->marks[row].column = yaml_node_column(n);
	}
	free(v);
}

/* Adds the part of dotted name `full` just under `prefix` to keys, once. */
static void
config_add_key(char keys[][CONFIG_KEY_LEN], size_t *n, const char *full,
    const char *prefix)
{
	size_t plen = strlen(prefix), len;

	if (strncmp(full, prefix, plen) != 0 ||
	    (len = strcspn(full + plen, ".")) == 0 || len >= CONFIG_KEY_LEN)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strncmp(keys[i], full + plen, len) == 0 &&
		    keys[i][len] == '\0')
			return;
	if (*n == CONFIG_MAX_KEYS)
		abort();	/* a table too wide for this walker */
	memcpy(keys[*n], full + plen, len);
	keys[(*n)++][len] = '\0';
}

/* True for a dotted name that code beside the table reads. */
static bool
config_is_block(const char *full)
{
	for (size_t i = 0; config_blocks[i] != NULL; i++)
		if (strcmp(config_blocks[i], full) == 0)
			return true;
	return false;
}

/*
 * Reads the mapping at `prefix` ("" for the top, else "listen." and so on):
 * checks its keys against the table and reads or descends into each.
 */
static void
config_walk(struct config_loader *l, const yaml_node_t *map,
    const char *prefix)
{
	const struct config_setting *t = config_settings();
	char keys[CONFIG_MAX_KEYS][CONFIG_KEY_LEN], full[128], what[128];
	const char *allowed[CONFIG_MAX_KEYS + 1];
	size_t n = 0, i, plen = strlen(prefix);
	yaml_node_t *v;
	int row;

	for (i = 0; i < CONFIG_NSETTINGS; i++)
		config_add_key(keys, &n, t[i].name, prefix);
	for (i = 0; config_blocks[i] != NULL; i++)
		config_add_key(keys, &n, config_blocks[i], prefix);
	for (i = 0; i < n; i++)
		allowed[i] = keys[i];
	allowed[n] = NULL;
	/* Messages name the mapping without its dot: "listen.submit: ...". */
	snprintf(what, sizeof what, "%.*s", plen > 0 ? (int)plen - 1 : 0,
	    prefix);
	yaml_node_check_keys(&l->y, map, allowed, plen > 0 ? what : NULL);

	for (i = 0; i < n; i++) {
		if ((v = yaml_node_get(&l->y, map, keys[i], NULL)) == NULL)
			continue;
		snprintf(full, sizeof full, "%s%s", prefix, keys[i]);
		if ((row = config_setting_index(full)) != -1)
			config_read_setting(l, (size_t)row, v);
		else if (!config_is_block(full) &&
		    yaml_node_mapping(&l->y, v, full) == 0) {
			strncat(full, ".", sizeof full - strlen(full) - 1);
			config_walk(l, v, full);
		}
	}
}

/* A policy path from the config, resolved against the config's directory. */
static char *
config_resolve(const char *dir, const char *file)
{
	size_t dlen = dir != NULL ? strlen(dir) : 0;
	char *path;

	if (file[0] == '/' || dlen == 0)
		return xstrdup(file);
	if (asprintf(&path, "%s%s%s", dir, dir[dlen - 1] == '/' ? "" : "/",
	    file) == -1)
		abort();
	return path;
}

/*
 * Loads a site's policy, reporting its errors at the policy file's own
 * lines.  A file that cannot be opened is reported at the config's line
 * instead, where the mistake is; one that already failed for an earlier
 * site is not reported twice.
 */
static void
config_load_policy(struct config_loader *l, struct config_site *site,
    const yaml_node_t *pn)
{
	struct config *c = l->cfg;
	struct stat st;

	for (struct config_site *s = c->sites; s < site; s++)
		if (s->policy == NULL && s->policy_path != NULL &&
		    strcmp(s->policy_path, site->policy_path) == 0)
			return;
	if (stat(site->policy_path, &st) == -1) {
		yaml_node_error(&l->y, pn, "sites.list.%s.policy: cannot read "
		    "%s: %s", site->name, site->policy_path, strerror(errno));
		return;
	}
	if (policy_load(site->policy_path, &site->policy, l->errs) == -1)
		site->policy = NULL;
}

/* One entry of sites.list: a name and a mapping holding its policy. */
static void
config_load_site(struct config_loader *l, const yaml_node_t *k,
    const yaml_node_t *v)
{
	struct config *c = l->cfg;
	struct config_site *site = &c->sites[c->nsites];
	char why[256], what[128], *name, *file = NULL;
	const char *shown;
	yaml_node_t *pn;

	if (k->type != YAML_SCALAR_NODE || memchr(k->data.scalar.value, '\0',
	    k->data.scalar.length) != NULL) {
		yaml_node_error(&l->y, k, "sites.list: a site name must be a "
		    "plain name");
		return;
	}
	if ((name = strndup((const char *)k->data.scalar.value,
	    k->data.scalar.length)) == NULL)
		abort();
	for (size_t i = 0; i < c->nsites; i++) {
		if (strcmp(c->sites[i].name, name) != 0)
			continue;
		yaml_node_error(&l->y, k, "sites.list: duplicate site \"%s\" "
		    "(first at line %u)", name, yaml_node_line(l->site_keys[i]));
		free(name);
		return;
	}
	/*
	 * A bad name is reported (quoted with care), and its policy still
	 * checked; later messages do not repeat it, since `what` would cut
	 * a long one anywhere, inside a UTF-8 character too (fuzz_config_load).
	 */
	shown = name;
	if (config_check_site_name(name, why, sizeof why) == -1) {
		yaml_node_error(&l->y, k, "sites.list: site name %s", why);
		shown = "(the bad name above)";
	}
	l->site_keys[c->nsites++] = k;
	site->name = name;

	snprintf(what, sizeof what, "sites.list.%s", shown);
	if (yaml_node_mapping(&l->y, v, what) == -1)
		return;
	/* A misspelt "policy" is reported once, as the typo it is. */
	if (yaml_node_check_keys(&l->y, v, site_keys, what) == -1 &&
	    yaml_node_get(&l->y, v, "policy", NULL) == NULL)
		return;
	strncat(what, ": ", sizeof what - strlen(what) - 1);
	if ((pn = yaml_node_need(&l->y, v, "policy", what)) == NULL)
		return;
	snprintf(what, sizeof what, "sites.list.%s.policy", shown);
	if (yaml_node_string(&l->y, pn, what, &file) == -1)
		return;
	site->policy_path = config_resolve(l->dir, file);
	free(file);
	config_load_policy(l, site, pn);
}

/* The default site: named, or the only one. */
static void
config_check_default(struct config_loader *l, const yaml_node_t *list)
{
	struct config *c = l->cfg;
	const char *hint = NULL;
	size_t d, best = 3;

	if (c->nsites == 0)
		return;
	if (c->default_site[0] == '\0') {
		if (c->nsites == 1) {
			free(c->default_site);
			c->default_site = xstrdup(c->sites[0].name);
		} else
			yaml_node_error(&l->y, list, "sites.default must name "
			    "the site of requests that name none, as "
			    "sites.list has %zu sites", c->nsites);
		return;
	}
	if (config_site(c, c->default_site) != NULL)
		return;
	for (size_t i = 0; i < c->nsites; i++) {
		d = yaml_node_edit_distance(c->default_site, c->sites[i].name);
		if (d < best && d < strlen(c->sites[i].name)) {
			best = d;
			hint = c->sites[i].name;
		}
	}
	config_error_at(l, "sites.default", list, "sites.default \"%s\" is "
	    "not a site of sites.list%s%s%s", c->default_site,
	    hint != NULL ? "; did you mean \"" : "", hint != NULL ? hint : "",
	    hint != NULL ? "\"?" : "");
}

/* `sites`: at least one site, each with a policy that loads. */
static void
config_load_sites(struct config_loader *l, const yaml_node_t *root)
{
	struct config *c = l->cfg;
	yaml_node_t *sites, *list;
	yaml_node_pair_t *p;
	size_t n;

	if ((sites = yaml_node_need(&l->y, root, "sites", NULL)) == NULL ||
	    sites->type != YAML_MAPPING_NODE)
		return;		/* the walk has said it is not a mapping */
	if ((list = yaml_node_need(&l->y, sites, "list", "sites: ")) == NULL ||
	    yaml_node_mapping(&l->y, list, "sites.list") == -1)
		return;
	if ((n = yaml_node_nitems(list)) == 0) {
		yaml_node_error(&l->y, list, "sites.list must name at least "
		    "one site");
		return;
	}
	c->sites = xcalloc(n, sizeof *c->sites);
	l->site_keys = xcalloc(n, sizeof *l->site_keys);
	for (p = list->data.mapping.pairs.start;
	    p < list->data.mapping.pairs.top; p++)
		config_load_site(l, yaml_node_at(&l->y, p->key),
		    yaml_node_at(&l->y, p->value));
	config_check_default(l, list);
}

/*
 * The bearer token TCP callers must send.  A secret, so the file must not
 * be open to others (as ssh insists for its keys), and it is wiped on free.
 */
static void
config_read_token(struct config_loader *l)
{
	struct config_tcp *t = &l->cfg->tcp;
	const char *name = "listen.tcp.token_file";
	char *buf;
	size_t len;
	mode_t mode;

	if (file_read(t->token_file, CONFIG_TOKEN_MAX + 2, &buf, &len,
	    &mode) == -1) {
		config_error_at(l, name, NULL, "%s: cannot read %s: %s", name,
		    t->token_file, strerror(errno));
		return;
	}
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (mode & (S_IROTH | S_IWOTH))
		config_error_at(l, name, NULL, "%s: %s is open to other users "
		    "(mode %04o); chmod o-rwx it", name, t->token_file,
		    (unsigned)(mode & 07777));
	else if (len < CONFIG_TOKEN_MIN || len > CONFIG_TOKEN_MAX ||
	    strspn(buf, "!\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~")
	    != len)
		config_error_at(l, name, NULL, "%s: %s must hold one token of "
		    "%d to %d visible ASCII characters and nothing else", name,
		    t->token_file, CONFIG_TOKEN_MIN, CONFIG_TOKEN_MAX);
	else {
		t->token = buf;
		return;
	}
	explicit_bzero(buf, len);
	free(buf);
}

/* Rules between listen settings, which no single row can check. */
static void
config_check_listen(struct config_loader *l, const yaml_node_t *tcp)
{
	struct config *c = l->cfg;

	if (strcmp(c->submit.path, c->admin.path) == 0)
		config_error_at(l, "listen.admin.path", NULL, "listen.admin.path "
		    "must differ from listen.submit.path: admin routes are "
		    "never served on the submit socket");
	if (!c->tcp.enabled)
		return;
	if (c->tcp.token_file[0] != '\0')
		config_read_token(l);
	else if (!config_is_loopback(c->tcp.address))
		config_error_at(l, "listen.tcp.address", tcp, "listen.tcp."
		    "address %s is not a loopback address: listening beyond "
		    "this machine needs listen.tcp.token_file, so that callers "
		    "must present a bearer token", c->tcp.address);
}

/* The whole document: the table's settings, then what depends on them. */
static void
config_load_root(struct config_loader *l, yaml_node_t *root)
{
	struct config *c = l->cfg;
	yaml_node_t *listen, *tcp = NULL;
	char why[256];

	if (yaml_node_mapping(&l->y, root, "the configuration") == -1)
		return;
	config_walk(l, root, "");
	if ((listen = yaml_node_get(&l->y, root, "listen", NULL)) != NULL &&
	    (tcp = yaml_node_get(&l->y, listen, "tcp", NULL)) != NULL &&
	    tcp->type == YAML_MAPPING_NODE) {
		c->tcp.enabled = true;
		c->tcp.mark.line = yaml_node_line(tcp);
		c->tcp.mark.column = yaml_node_column(tcp);
	}
	config_load_sites(l, root);
	config_check_listen(l, tcp);
	/* Checked by the table already; this only fills the parts in. */
	config_redis_split(c->redis.address, &c->redis.unix_path,
	    &c->redis.host, &c->redis.port, why, sizeof why);
}

/* Parses the text and reads the config from its single document. */
static void
config_load_document(struct config_loader *l, const char *data, size_t len)
{
	yaml_parser_t ps;
	yaml_document_t doc, extra;
	yaml_node_t *root;

	if (!yaml_parser_initialize(&ps))
		abort();
	yaml_parser_set_input_string(&ps, (const unsigned char *)data, len);
	if (!yaml_parser_load(&ps, &doc)) {
		yaml_node_syntax_error(l->errs, l->y.file, &ps, data, len);
		yaml_parser_delete(&ps);
		return;
	}
	l->y.doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL)
		errlist_add(l->errs, l->y.file, 1, 1, "the configuration is "
		    "empty");
	else {
		config_load_root(l, root);
		/* A second document is refused, not silently ignored. */
		if (!yaml_parser_load(&ps, &extra))
			yaml_node_syntax_error(l->errs, l->y.file, &ps, data, len);
		else {
			if (yaml_document_get_root_node(&extra) != NULL)
				errlist_add(l->errs, l->y.file,
				    (unsigned)extra.start_mark.line + 1,
				    (unsigned)extra.start_mark.column + 1,
				    "only one YAML document is allowed in "
				    "the configuration");
			yaml_document_delete(&extra);
		}
	}
	l->y.doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&ps);
}

/* Loads a config from memory; the one path both entry points take. */
int
config_load_buffer(const char *name, const char *dir, const char *data,
    size_t len, struct config **out, struct errlist *errs)
{
	struct config_loader l;

	memset(&l, 0, sizeof l);
	l.y.file = name;
	l.y.errs = errs;
	l.errs = errs;
	l.nerr0 = errs->n;
	l.dir = dir;
	l.cfg = xcalloc(1, sizeof *l.cfg);
	l.cfg->refs = 1;
	l.cfg->path = xstrdup(name);
	config_settings_default(l.cfg);

	config_load_document(&l, data, len);
	free(l.site_keys);
	if (config_failed(&l)) {
		config_free(l.cfg);
		return -1;
	}
	*out = l.cfg;
	return 0;
}

/*
 * The directory of the config file, made absolute so that policy paths
 * still hold after the daemon changes directory.
 */
static char *
config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash == NULL ? 0 : slash == path ? 1 : (int)(slash - path);
	char cwd[4096], *dir;
	int r;

	if (path[0] != '/' && getcwd(cwd, sizeof cwd) != NULL)
		r = asprintf(&dir, "%s/%.*s", cwd, dlen, path);
	else
		r = asprintf(&dir, "%.*s", dlen, path);
	if (r == -1)
		abort();
	return dir;
}

/* Reads the config file and loads it; see config.h. */
int
config_load(const char *path, struct config **out, struct errlist *errs)
{
	char *data, *dir;
	size_t len;
	int rc;

	if (file_read(path, CONFIG_MAX_BYTES, &data, &len, NULL) == -1) {
		errlist_add(errs, path, 0, 0, "cannot read the configuration: "
		    "%s", strerror(errno));
		return -1;
	}
	dir = config_dir(path);
	rc = config_load_buffer(path, dir, data, len, out, errs);
	free(dir);
	free(data);
	return rc;
}

/* Takes one more reference: a request that outlives a reload holds one. */
struct config *
config_ref(struct config *c)
{
	c->refs++;
	return c;
}

/* Drops a reference; the last one frees the config. */
void
config_unref(struct config *c)
{
	if (c != NULL && --c->refs == 0)
		config_free(c);
}

/* Frees a config, its strings and its sites' policies. */
void
config_free(struct config *c)
{
	const struct config_setting *t = config_settings();

	if (c == NULL)
		return;
	for (size_t i = 0; i < CONFIG_NSETTINGS; i++)
		if (t[i].type == CONFIG_STRING)
			free(*(char **)((char *)c + t[i].off));
	if (c->tcp.token != NULL) {
		explicit_bzero(c->tcp.token, strlen(c->tcp.token));
		free(c->tcp.token);
	}
	free(c->redis.unix_path);
	free(c->redis.host);
	for (size_t i = 0; i < c->nsites; i++) {
		free(c->sites[i].name);
		free(c->sites[i].policy_path);
		policy_free(c->sites[i].policy);
	}
	free(c->sites);
	free(c->path);
	free(c);
}

/* A site by name, or the default one. */
const struct config_site *
config_site(const struct config *c, const char *name)
{
	if (name == NULL)
		name = c->default_site;
	for (size_t i = 0; i < c->nsites; i++)
		if (strcmp(c->sites[i].name, name) == 0)
			return &c->sites[i];
	return NULL;
}
