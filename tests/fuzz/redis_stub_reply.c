/*
 * redis_stub_reply: the replies redis_stub.c gives, built as hiredis builds
 * them (struct redisReply trees, strings NUL-terminated): for each command
 * and script of the daemon the shape its reader expects, drawn from the
 * script's value bytes, and the broken ones (errors, wrong types, arrays
 * cut short or grown, nil, a status).  It only builds; when and to whom a
 * reply goes is redis_stub.c's.
 */
#include "redis_stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>

#define STUB_ENTRIES_MAX	600	/* entries in one XRANGE answer */
#define STUB_ID_BASE		"1700000000000"

/* --- reply trees --------------------------------------------------------- */

/* An empty reply of a type (aborts without memory: a test). */
static redisReply *
rr_new(int type)
{
	redisReply *r = calloc(1, sizeof *r);

	if (r == NULL)
		abort();
	r->type = type;
	return r;
}

/* An integer reply. */
static redisReply *
rr_int(long long v)
{
	redisReply *r = rr_new(REDIS_REPLY_INTEGER);

	r->integer = v;
	return r;
}

/* A string, status or error reply: its bytes, NUL-terminated as hiredis's. */
static redisReply *
rr_bytes(int type, const char *s, size_t n)
{
	redisReply *r = rr_new(type);

	if ((r->str = malloc(n + 1)) == NULL)
		abort();
	memcpy(r->str, s, n);
	r->str[n] = '\0';
	r->len = n;
	return r;
}

/* A string reply of a C string. */
static redisReply *
rr_str(const char *s)
{
	return rr_bytes(REDIS_REPLY_STRING, s, strlen(s));
}

/* An array reply of n elements, for the caller to fill. */
static redisReply *
rr_array(size_t n)
{
	redisReply *r = rr_new(REDIS_REPLY_ARRAY);

	r->elements = n;
	if (n > 0 && (r->element = calloc(n, sizeof *r->element)) == NULL)
		abort();
	return r;
}

/* Frees a reply tree, as freeReplyObject does. */
static void
rr_free(redisReply *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->elements; i++)
		rr_free(r->element[i]);
	free(r->element);
	free(r->str);
	free(r);
}

/* --- plausible answers --------------------------------------------------- */

/* How values are drawn: plausibly, or from the odd ones. */
struct gen {
	bool		 odd;
};

/* A string with its length, NULs included. */
#define ODD(s)	{ (s), sizeof (s) - 1 }

static const struct {
	const char	*s;
	size_t		 n;
} odd_strings[] = {
	ODD(""),
	ODD("\xff\xfe\xc0\x80"),
	ODD("99999999999999999999999"),
	ODD("-1"),
	ODD("["),
	ODD("{\"rule\":7}"),
	ODD("0-0"),
	ODD("a\0b"),
	ODD("[{\"rule\":\"x\",\"span\":[9,2]},3,{}]"),
	ODD("decided"),
	ODD("approve,,\xff,"),
	ODD("1700000000000-0\n"),
	ODD("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
};
#define NODD_STRINGS	(sizeof odd_strings / sizeof odd_strings[0])

static const long long odd_ints[] = { -1, 0, 1, 4294967296LL, -4294967296LL,
    9223372036854775807LL, -9223372036854775807LL - 1, 86400000 };
#define NODD_INTS	(sizeof odd_ints / sizeof odd_ints[0])

/* A number: plausible (the caller's, from its bytes) or odd. */
static redisReply *
gen_int(const struct gen *g, long long plausible)
{
	if (g->odd)
		return rr_int(odd_ints[redis_stub_byte() % NODD_INTS]);
	return rr_int(plausible);
}

/* A string: the plausible one, or odd. */
static redisReply *
gen_str(const struct gen *g, const char *plausible)
{
	unsigned v;

	if (!g->odd)
		return rr_str(plausible);
	v = redis_stub_byte() % NODD_STRINGS;
	return rr_bytes(REDIS_REPLY_STRING, odd_strings[v].s, odd_strings[v].n);
}

/* A stream id, MS-SEQ. */
static redisReply *
gen_id(const struct gen *g, unsigned seq)
{
	char id[48];

	snprintf(id, sizeof id, STUB_ID_BASE "-%u", seq);
	return gen_str(g, id);
}

/* The fields of queue, decisions and audit entries, with plausible values. */
static const char *const entry_fields[][2] = {
	{ "id", "c-1" }, { "site", "example" }, { "thread", "t-1" },
	{ "author_id", "u-1" }, { "author_name", "Ben" },
	{ "author_ip", "203.0.113.7" }, { "body", "You are an idiot" },
	{ "decision", "queue" }, { "score", "5" },
	{ "reasons", "[{\"rule\":\"attacks.name_calling\",\"category\":"
	  "\"attack\",\"action\":\"queue\",\"message\":\"m\",\"matched\":"
	  "\"idiot\",\"span\":[8,13]},{\"rule\":\"pii.email\"}]" },
	{ "policy", "news-default" }, { "policy_digest", "sha256:00" },
	{ "at_ms", STUB_ID_BASE }, { "via", "redis" },
	{ "outcome", "approve" }, { "rules", "attacks.name_calling,pii.email" },
	{ "moderator", "mod" }, { "uid", "1000" }, { "reason", "spam" },
	{ "note", "ok" }, { "action", "ban" }, { "target", "u-1" },
};
#define NENTRY_FIELDS	(sizeof entry_fields / sizeof entry_fields[0])

/*
 * A stream entry, [id, [field, value, ...]]: every field, or one left out
 * (a byte with its high bit set), the outcome a rejection half the time.
 */
static redisReply *
gen_entry(const struct gen *g, unsigned i)
{
	unsigned e = redis_stub_byte(), drop = e & 0x80 ? e % NENTRY_FIELDS :
	    NENTRY_FIELDS;
	redisReply *r = rr_array(2), *kv;
	size_t k = 0;

	r->element[0] = gen_id(g, i);
	kv = r->element[1] = rr_array(2 * (NENTRY_FIELDS - (drop <
	    NENTRY_FIELDS)));
	for (size_t f = 0; f < NENTRY_FIELDS; f++) {
		const char *v = entry_fields[f][1];
		if (f == drop)
			continue;
		if (strcmp(entry_fields[f][0], "outcome") == 0 && (e & 1))
			v = "reject";
		kv->element[k++] = rr_str(entry_fields[f][0]);
		kv->element[k++] = gen_str(g, v);
	}
	return r;
}

/* Argument i as a number, or def. */
static long
arg_num(const struct redis_stub_cmd *c, int i, long def)
{
	char *end;
	long v;

	if (i < 0 || i >= c->argc)
		return def;
	v = strtol(c->argv[i], &end, 10);
	return end != c->argv[i] && *end == '\0' ? v : def;
}

/* The COUNT a range command asked for, or def. */
static long
arg_count(const struct redis_stub_cmd *c, long def)
{
	for (int i = 0; i + 1 < c->argc; i++)
		if (strcasecmp(c->argv[i], "COUNT") == 0)
			return arg_num(c, i + 1, def);
	return def;
}

/* n entries, as XRANGE and XAUTOCLAIM list them. */
static redisReply *
gen_entries(const struct gen *g, size_t n)
{
	redisReply *r = rr_array(n);

	for (size_t i = 0; i < n; i++)
		r->element[i] = gen_entry(g, (unsigned)i + 1);
	return r;
}

/* check.lua: {seen, banned, trusted, approved, rejected, N pairs, dups}. */
static redisReply *
gen_check(const struct gen *g, const struct redis_stub_cmd *c)
{
	long n = arg_num(c, c->nkeys + 1, 0);
	unsigned flags = redis_stub_byte(), b;
	redisReply *r;
	size_t k = 5;

	if (n < 0 || n > 64)
		n = 0;
	r = rr_array(5 + 2 * (size_t)n + 2);
	r->element[0] = gen_int(g, flags & 1);
	r->element[1] = gen_int(g, (flags >> 1) & 1);
	r->element[2] = gen_int(g, (flags >> 2) & 1);
	r->element[3] = gen_int(g, redis_stub_byte());
	r->element[4] = gen_int(g, redis_stub_byte());
	for (long i = 0; i < n; i++) {
		b = redis_stub_byte();
		r->element[k++] = gen_int(g, !(b & 1));
		r->element[k++] = gen_int(g, (long long)(b >> 1) * 250);
	}
	r->element[k++] = gen_int(g, (flags >> 3) & 1);
	r->element[k] = gen_int(g, (flags >> 4) % 8);
	return r;
}

/* decide.lua: {"ok", entry, at_ms, approved, rejected}, or why not. */
static redisReply *
gen_decide(const struct gen *g)
{
	static const char *const no[] = { "unknown", "decided", "changed",
	    "gone" };
	unsigned v = redis_stub_byte();
	redisReply *r;

	if (v % 8 >= 4) {
		r = rr_array(1);
		r->element[0] = gen_str(g, no[v % 4]);
		return r;
	}
	r = rr_array(5);
	r->element[0] = rr_str("ok");
	r->element[1] = gen_id(g, v);
	r->element[2] = gen_str(g, STUB_ID_BASE);
	r->element[3] = gen_int(g, redis_stub_byte());
	r->element[4] = gen_int(g, redis_stub_byte());
	return r;
}

/* tally_sum.lua: two flat lists of field, total (the hour, the day). */
static redisReply *
gen_tally_sum(const struct gen *g)
{
	static const char *const fields[] = { "accept", "queue", "reject",
	    "profanity.strong:reject", "attacks.name_calling:queue", "x:y" };
	redisReply *r = rr_array(2), *w;
	size_t n;

	for (size_t i = 0; i < 2; i++) {
		n = redis_stub_byte() % 7;
		w = r->element[i] = rr_array(2 * n);
		for (size_t k = 0; k < n; k++) {
			w->element[2 * k] = gen_str(g, fields[k % 6]);
			w->element[2 * k + 1] = gen_int(g, redis_stub_byte());
		}
	}
	return r;
}

/* A script's answer, by the script's name. */
static redisReply *
gen_script(const struct gen *g, const struct redis_stub_cmd *c)
{
	redisReply *r;

	if (strcmp(c->name, "check") == 0)
		return gen_check(g, c);
	if (strcmp(c->name, "decide") == 0)
		return gen_decide(g);
	if (strcmp(c->name, "tally_sum") == 0)
		return gen_tally_sum(g);
	if (strcmp(c->name, "enqueue") == 0) {
		r = rr_array(2);
		r->element[0] = gen_id(g, redis_stub_byte());
		r->element[1] = gen_int(g, 1);
		return r;
	}
	if (strcmp(c->name, "author") == 0) {
		r = rr_array(6);
		for (size_t i = 0; i < 5; i++)
			r->element[i] = gen_int(g, i < 2 ? redis_stub_byte() :
			    redis_stub_byte() & 1);
		r->element[5] = gen_id(g, 1);
		return r;
	}
	return gen_int(g, redis_stub_byte());	/* tally: the fields added */
}

/* XPENDING: the summary, or the extended form for one entry. */
static redisReply *
gen_xpending(const struct gen *g, const struct redis_stub_cmd *c)
{
	redisReply *r, *p;

	if (redis_stub_byte() & 1)
		return rr_array(0);
	if (c->argc <= 3) {
		r = rr_array(4);
		r->element[0] = gen_int(g, 1);
		r->element[1] = gen_id(g, 1);
		r->element[2] = gen_id(g, 1);
		p = r->element[3] = rr_array(1);
		p->element[0] = rr_array(2);
		p->element[0]->element[0] = gen_str(g, "mod");
		p->element[0]->element[1] = gen_str(g, "1");
		return r;
	}
	r = rr_array(1);
	p = r->element[0] = rr_array(4);
	p->element[0] = gen_id(g, 1);
	p->element[1] = gen_str(g, "mod");
	p->element[2] = gen_int(g, redis_stub_byte() * 1000);
	p->element[3] = gen_int(g, 1);
	return r;
}

/* HGETALL of an author's record. */
static redisReply *
gen_record(const struct gen *g)
{
	static const char *const keys[] = { "approved", "rejected", "banned",
	    "trusted" };
	redisReply *r = rr_array(8);
	unsigned v = redis_stub_byte();
	char num[16];

	for (size_t i = 0; i < 4; i++) {
		snprintf(num, sizeof num, "%u", i < 2 ? (v >> (4 * i)) & 15 :
		    (v >> (i + 4)) & 1);
		r->element[2 * i] = rr_str(keys[i]);
		r->element[2 * i + 1] = gen_str(g, num);
	}
	return r;
}

/* A command's answer, by the command's name. */
static redisReply *
gen_command(const struct gen *g, const struct redis_stub_cmd *c)
{
	const char *cmd = c->cmd;
	redisReply *r;
	unsigned v;
	long count;

	if (strcasecmp(cmd, "XLEN") == 0)
		return gen_int(g, redis_stub_byte());
	if (strcasecmp(cmd, "XRANGE") == 0 ||
	    strcasecmp(cmd, "XREVRANGE") == 0) {
		count = arg_count(c, 1);
		v = redis_stub_byte();
		if (count < 0 || count > STUB_ENTRIES_MAX)
			count = STUB_ENTRIES_MAX;
		return gen_entries(g, v < 0xf0 ? (v % 4 < (unsigned)count ?
		    v % 4 : (size_t)count) : (size_t)count);
	}
	if (strcasecmp(cmd, "HGET") == 0) {
		v = redis_stub_byte() % 8;
		return v == 5 ? rr_new(REDIS_REPLY_NIL) : v == 6 ?
		    gen_str(g, "decided") : gen_id(g, v);
	}
	if (strcasecmp(cmd, "HGETALL") == 0)
		return gen_record(g);
	if (strcasecmp(cmd, "XPENDING") == 0)
		return gen_xpending(g, c);
	if (strcasecmp(cmd, "XAUTOCLAIM") == 0) {
		v = redis_stub_byte();
		r = rr_array(3);
		r->element[0] = v & 1 ? gen_id(g, 9) : gen_str(g, "0-0");
		r->element[1] = gen_entries(g, (v >> 1) % 3);
		r->element[2] = rr_array(0);
		return r;
	}
	if (strcasecmp(cmd, "XREADGROUP") == 0) {
		if (redis_stub_byte() % 4 == 0)
			return rr_new(REDIS_REPLY_NIL);
		r = rr_array(1);
		r->element[0] = rr_array(2);
		r->element[0]->element[0] = gen_str(g,
		    "commentd:{example}:queue");
		r->element[0]->element[1] = gen_entries(g, 1);
		return r;
	}
	if (strcasecmp(cmd, "TIME") == 0) {
		r = rr_array(2);
		r->element[0] = gen_str(g, "1700000000");
		r->element[1] = gen_str(g, "0");
		return r;
	}
	return rr_bytes(REDIS_REPLY_STATUS, "OK", 2);
}

/* --- the other answers ---------------------------------------------------- */

/* A reply of some type, for a command that expects another (maybe). */
static redisReply *
gen_wrong_type(unsigned variant)
{
	redisReply *r;

	switch (variant % 6) {
	case 0:
		return rr_int(7);
	case 1:
		return rr_str("x");
	case 2:
		return rr_array(0);
	case 3:
		return rr_new(REDIS_REPLY_NIL);
	case 4:
		return rr_bytes(REDIS_REPLY_STATUS, "OK", 2);
	}
	r = rr_array(2);
	r->element[0] = rr_int(1);
	r->element[1] = rr_str("a");
	return r;
}

/* An array one element short or long, at the top or one level down. */
static void
gen_truncate(redisReply *r, unsigned variant)
{
	redisReply **grown;

	if ((variant & 2) && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY)
		r = r->element[0];
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	if ((variant & 1) && r->elements > 0) {
		rr_free(r->element[--r->elements]);
		return;
	}
	if ((grown = realloc(r->element, (r->elements + 1) *
	    sizeof *grown)) == NULL)
		abort();
	r->element = grown;
	r->element[r->elements++] = rr_int(0);
}

/* A Redis error reply of the kind asked for. */
static redisReply *
gen_error(enum stub_behaviour how, unsigned variant)
{
	static const char *const transient[] = {
	    "READONLY You can't write against a read only replica.",
	    "LOADING Redis is loading the dataset in memory",
	    "BUSY Redis is busy running a script.",
	    "NOGROUP No such key or consumer group",
	    "MASTERDOWN Link with MASTER is down",
	    "TRYAGAIN Multiple keys request during rehashing of slot" };
	const char *s = "ERR stub: wrong number of arguments";

	if (how == STUB_OOM)
		s = "OOM command not allowed when used memory > 'maxmemory'.";
	else if (how == STUB_NOSCRIPT)
		s = "NOSCRIPT No matching script. Please use EVAL.";
	else if (how == STUB_TRANSIENT)
		s = transient[variant % 6];
	return rr_bytes(REDIS_REPLY_ERROR, s, strlen(s));
}

redisReply *
redis_stub_reply(const struct redis_stub_cmd *c)
{
	struct gen g = { c->how == STUB_ODD };
	redisReply *r;

	switch (c->how) {
	case STUB_ERROR:
	case STUB_OOM:
	case STUB_NOSCRIPT:
	case STUB_TRANSIENT:
		return gen_error(c->how, c->variant);
	case STUB_WRONG_TYPE:
		return gen_wrong_type(c->variant);
	case STUB_NIL:
		return rr_new(REDIS_REPLY_NIL);
	case STUB_STATUS:
		return rr_bytes(REDIS_REPLY_STATUS, "OK", 2);
	default:
		break;
	}
	r = c->nkeys >= 0 ? gen_script(&g, c) : gen_command(&g, c);
	if (c->how == STUB_TRUNCATED)
		gen_truncate(r, c->variant);
	return r;
}

void
redis_stub_reply_free(redisReply *r)
{
	rr_free(r);
}
