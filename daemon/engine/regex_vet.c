/*
 * regex_vet: vets each PCRE2 rule at load against adversarial subjects at
 * the policy's maximum comment length, so that a rule that could take the
 * daemon's time is refused, with its file:line:column, and never loaded.
 *
 * Vetting is a net, not a proof: it catches the shapes that took real sites
 * down (nested quantifiers, a repeat that backtracks over the rest of the
 * text from every start position, the Cloudflare `.*(?:.*=.*)`), timed with
 * the JIT the daemon really uses.  It must never pass a rule it could not
 * run to the end (a PCRE2 limit, or no memory for the subjects, is a
 * refusal), and it must hand the runner back with the policy's limits and
 * its cached runs intact: the evaluator matches with the same runner.
 */
#include "checks.h"
#include "regex_int.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

/* A subject over budget is timed this many times in all; the fastest counts. */
#define VET_TRIES	3

/* Room for the bytes a variant adds to a run: a prefix, a tail, a NUL. */
#define VET_EXTRA	18

/* Below this many characters every subject is simply matched whole. */
#define VET_SHORT_MIN	1024

/* Otherwise each is first matched at this fraction of its length. */
#define VET_SHORT_DIV	8

/*
 * What the vetting subjects are runs of: the characters comments are made
 * of and patterns repeat (white space of every kind, letters, digits, the
 * punctuation of addresses, URLs and code, invisible joiners, accented
 * letters, emoji), alone and alternating.
 */
static const char *const vet_units[] = {
	" ", "a", "0", ".", "@", "-", "=", "\"", "\t", "\n",
	"\xe2\x80\x8c",			/* ZWNJ, of the Stack Overflow outage */
	" \xe2\x80\x8c", "a ", "a.", "a@", "a-", "ab",
	"\xc3\xa9",			/* é */
	"\xc2\xa0",			/* no-break space */
	"\xf0\x9f\x98\x80",		/* an emoji: four bytes, a symbol */
};
_Static_assert(sizeof vet_units / sizeof vet_units[0] == VET_NUNITS,
    "VET_NUNITS in regex_int.h must count vet_units");

/* Drops the cached vetting runs; freeing a runner does so too. */
void
regex_vet_drop_runs(struct regex_runner *run)
{
	for (size_t i = 0; i < VET_NUNITS + 1; i++) {
		for (int k = 0; k < 2; k++) {
			free(run->runs[i][k].buf);
			run->runs[i][k].buf = NULL;
		}
	}
	run->vet_length = 0;
}

/* The byte offset after the first k characters of valid, terminated UTF-8. */
static size_t
utf8_skip(const char *s, size_t k)
{
	size_t i = 0;

	while (k-- > 0) {
		do
			i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80);
	}
	return i;
}

/* Byte offset after the first k characters of a run of `unit`. */
static size_t
unit_offset(const char *unit, size_t ubytes, size_t uchars, size_t k)
{
	return (k / uchars) * ubytes + utf8_skip(unit, k % uchars);
}

/* Whether byte c, in either ASCII case, is in a 256-bit set. */
static bool
byteset_has(const uint8_t *set, uint8_t c)
{
	uint8_t o = (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? c ^ 0x20 : c;

	return (set[c / 8] >> (c % 8) & 1) || (set[o / 8] >> (o % 8) & 1);
}

/* Fills v with n characters of `unit` (n >= 4); -1 if out of memory. */
static int
vet_run_build(struct vet_run *v, const char *unit, size_t n)
{
	size_t ubytes = strlen(unit);
	size_t uchars = utf8_length(unit, ubytes);
	unsigned char c = (unsigned char)unit[0];

	memset(v, 0, sizeof *v);
	v->len = unit_offset(unit, ubytes, uchars, n);
	/*
	 * Slack past the end: PCRE2's JIT reads subjects 16 bytes at a time
	 * and may read past the last one (harmless in a page, but a read of
	 * memory not ours all the same, which valgrind rightly reports).
	 */
	if ((v->buf = calloc(1, v->len + ubytes + 64)) == NULL)
		return -1;
	/* Doubling copies: a few memcpy calls rather than one per character. */
	memcpy(v->buf, unit, ubytes);
	for (size_t have = ubytes; have < v->len; have *= 2)
		memcpy(v->buf + have, v->buf,
		    have < v->len - have ? have : v->len - have);
	v->off1 = unit_offset(unit, ubytes, uchars, 1);
	v->off2 = unit_offset(unit, ubytes, uchars, 2);
	v->offmid = unit_offset(unit, ubytes, uchars, n / 2);
	v->offn2 = unit_offset(unit, ubytes, uchars, n - 2);
	v->offn1 = unit_offset(unit, ubytes, uchars, n - 1);
	v->nhead = v->len < sizeof v->head ? v->len : sizeof v->head;
	memcpy(v->head, v->buf, v->nhead);
	memcpy(v->tail, v->buf + v->offn2, v->len - v->offn2);
	for (size_t i = 0; i < ubytes; i++)
		v->bytes[(uint8_t)unit[i] / 8] |= 1 << ((uint8_t)unit[i] % 8);
	/* A letter would only lengthen a run of letters. */
	v->around = c >= 0x80 || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	    (c >= '0' && c <= '9') ? '!' : 'x';
	return 0;
}

/* Builds both lengths of the runs of `unit` into pair[2]. */
static int
vet_run_pair(struct vet_run *pair, const char *unit, uint32_t n)
{
	if (vet_run_build(&pair[0], unit, n) == -1)
		return -1;
	if (n >= VET_SHORT_MIN &&
	    vet_run_build(&pair[1], unit, n / VET_SHORT_DIV) == -1)
		return -1;
	return 0;
}

/* Builds the fixed runs for n characters unless they are cached already. */
static int
vet_runs_prepare(struct regex_runner *run, uint32_t n)
{
	if (run->vet_length == n)
		return 0;
	regex_vet_drop_runs(run);
	for (size_t i = 0; i < VET_NUNITS; i++) {
		if (vet_run_pair(run->runs[i], vet_units[i], n) == -1) {
			regex_vet_drop_runs(run);
			return -1;
		}
	}
	run->vet_length = n;
	return 0;
}

/* Undoes whatever a variant wrote into a run. */
static void
vet_run_restore(struct vet_run *v)
{
	if (v->buf == NULL)
		return;
	memcpy(v->buf, v->head, v->nhead);
	memcpy(v->buf + v->offn2, v->tail, v->len - v->offn2);
}

/* The shapes of subject made of one run. */
enum vet_shape {
	VET_PLAIN,		/* the run alone */
	VET_TAIL,		/* the run, then a character that ends it */
	VET_AROUND,		/* such a character, the run, the same again */
	VET_PREFIX,		/* the pattern's literal start, the run, '!' */
	VET_LAST_LATE,		/* the run, '!', the required last code unit */
	VET_LAST_EARLY,		/* run character, last code unit, run, '!' */
};

struct vet_variant {
	enum vet_shape	 shape;
	char		 tail;
	bool		 probe;		/* unlike the others past its middle */
};

static const struct vet_variant vet_variants[] = {
	{ VET_PLAIN, 0, true }, { VET_TAIL, '!', true },
	{ VET_TAIL, 'x', true }, { VET_TAIL, '\x01', true },
	{ VET_AROUND, 0, false }, { VET_PREFIX, '!', false },
	{ VET_LAST_LATE, '!', true }, { VET_LAST_EARLY, '!', false },
};
#define VET_NVARIANTS	(sizeof vet_variants / sizeof vet_variants[0])

/* One vetting pass: the rule, what PCRE2 says of it, where errors go. */
struct vet {
	const struct rule	*r;
	const struct policy_limits *limits;
	struct regex_runner	*run;
	const char		*file;
	struct errlist		*errs;
	uint32_t		 n;		/* characters a subject */
	uint32_t		 mid_limit;
	bool			 jit;
	bool			 mid_check;	/* not anchored */
	bool			 shortcuts;	/* start-up checks on */
	size_t			 last_window;
	const uint8_t		*startmap;	/* a match starts with these */
	uint8_t			 first, last;	/* required, or 0 */
	char			 prefix[VET_EXTRA - 2];
	size_t			 nprefix;
};

/*
 * Writes variant `var` into run v and returns the subject (at most the
 * run's characters, valid UTF-8), or NULL when the shape needs a last code
 * unit or a prefix the pattern lacks.  The bytes it added go to extra.
 */
static const char *
vet_variant(const struct vet *vt, struct vet_run *v,
    const struct vet_variant *var, size_t *len, size_t *mid, char *extra)
{
	char *b = v->buf;
	size_t from = 0, to = v->len;

	memset(extra, 0, VET_EXTRA);
	if ((var->shape >= VET_LAST_LATE && vt->last == 0) ||
	    (var->shape == VET_PREFIX && (vt->nprefix == 0 ||
	    v->offn1 < sizeof v->head)))
		return NULL;
	switch (var->shape) {
	case VET_PLAIN:
		break;
	case VET_TAIL:
		b[v->offn1] = extra[0] = var->tail;
		to = v->offn1 + 1;
		break;
	case VET_AROUND:
		from = v->off1 - 1;
		b[from] = b[v->offn1] = extra[0] = v->around;
		to = v->offn1 + 1;
		break;
	case VET_PREFIX:
		/* Over the first nprefix characters, so as many remain. */
		from = utf8_skip(b, vt->nprefix) - vt->nprefix;
		memcpy(b + from, vt->prefix, vt->nprefix);
		memcpy(extra, vt->prefix, vt->nprefix);
		b[v->offn1] = extra[vt->nprefix] = var->tail;
		to = v->offn1 + 1;
		break;
	case VET_LAST_LATE:
		b[v->offn2] = extra[0] = var->tail;
		b[v->offn2 + 1] = extra[1] = (char)vt->last;
		to = v->offn2 + 2;
		break;
	case VET_LAST_EARLY:
		/* The first character moves left to make room. */
		from = v->off2 - 1 - v->off1;
		memmove(b + from, v->head, v->off1);
		b[v->off2 - 1] = extra[0] = (char)vt->last;
		b[v->offn1] = extra[1] = var->tail;
		to = v->offn1 + 1;
		break;
	}
	*len = to - from;
	*mid = v->offmid - from;
	return b + from;
}

/*
 * Whether a subject needs running.  PCRE2 turns one away before matching
 * when it has no byte a match can start with, or lacks the required last
 * code unit, so it costs a scan whatever the pattern: skipping those keeps
 * a literal-led rule cheap to vet.
 */
static bool
vet_worth(const struct vet *vt, const struct vet_run *v, const char *extra,
    size_t len)
{
	bool start = vt->first == 0 && vt->startmap == NULL;
	uint8_t set[32];

	if (!vt->shortcuts)
		return true;
	memcpy(set, v->bytes, sizeof set);
	for (size_t i = 0; extra[i] != '\0'; i++)
		set[(uint8_t)extra[i] / 8] |= 1 << ((uint8_t)extra[i] % 8);
	if (vt->first != 0)
		start = byteset_has(set, vt->first);
	for (size_t i = 0; i < 32 && vt->startmap != NULL && !start; i++)
		start = (set[i] & vt->startmap[i]) != 0;
	return start && (vt->last == 0 || len >= vt->last_window ||
	    byteset_has(set, vt->last));
}

/* Nanoseconds on the monotonic clock. */
static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Renders up to `chars` characters of s[0, len), escaping the invisible. */
static void
vet_sample(char *out, size_t size, const char *s, size_t len, size_t chars)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	size_t o = 0;
	int w;

	out[0] = '\0';
	for (size_t i = 0; i < len && chars-- > 0 && o < size; i += (size_t)n) {
		n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
		    (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0)
			break;
		if (cp == '\t' || cp == '\n' || cp == '\'' || cp == '\\')
			w = snprintf(out + o, size - o, "\\%c",
			    cp == '\t' ? 't' : cp == '\n' ? 'n' : (char)cp);
		else if (cp < 0x20 || cp == 0x7f)
			w = snprintf(out + o, size - o, "\\x%02x",
			    (unsigned)cp);
		else if (cp >= 0x80 &&	/* separators, controls, format */
		    utf8proc_category(cp) >= UTF8PROC_CATEGORY_ZS)
			w = snprintf(out + o, size - o, "\\u%04x",
			    (unsigned)cp);
		else
			w = snprintf(out + o, size - o, "%.*s", (int)n, s + i);
		o += w > 0 ? (size_t)w : 0;
	}
}

/* Adds the refusal of subject s[0, len), shown by its start and its end. */
static void
vet_refuse(const struct vet *vt, const char *s, size_t len, const char *why)
{
	char first[128], last[64];
	size_t i = len;

	vet_sample(first, sizeof first, s, len, 12);
	for (int k = 0; k < 2 && i > 0; k++) {
		while (i > 0 && ((unsigned char)s[--i] & 0xC0) == 0x80)
			;
	}
	vet_sample(last, sizeof last, s + i, len - i, 2);
	errlist_add(vt->errs, vt->file, vt->r->pattern_line,
	    vt->r->pattern_column, "rule %s: regex is too slow on adversarial "
	    "input (%zu characters of '%s'...'%s'): %s%s", vt->r->id,
	    utf8_length(s, len), first, last, why,
	    vt->jit ? "" : " (without JIT)");
}

/* Nanoseconds one unanchored match takes, as the daemon makes it; rc in *rc. */
static uint64_t
vet_time(struct vet *vt, const char *s, size_t len, int *rc)
{
	uint64_t t0 = now_ns();

	*rc = pcre2_match(vt->r->code, (PCRE2_SPTR)s, len, 0,
	    PCRE2_NO_UTF_CHECK, vt->run->md, vt->run->mctx);
	return now_ns() - t0;
}

/* Times a whole subject against the budget; -1 and a refusal if it fails. */
static int
vet_timed(struct vet *vt, const char *s, size_t len)
{
	uint64_t took, best = UINT64_MAX;
	uint64_t budget = (uint64_t)vt->limits->regex_rule_budget_us * 1000;
	char why[192];
	int rc;

	for (int i = 0; i < VET_TRIES && best > budget; i++) {
		took = vet_time(vt, s, len, &rc);
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
			if (rc == PCRE2_ERROR_MATCHLIMIT)
				snprintf(why, sizeof why, "hit the PCRE2 match "
				    "limit");
			else {
				snprintf(why, sizeof why, "hit a PCRE2 "
				    "limit: ");
				pcre2_get_error_message(rc, (PCRE2_UCHAR *)why +
				    strlen(why), sizeof why - strlen(why));
			}
			vet_refuse(vt, s, len, why);
			return -1;
		}
		/* Over budget is tried again: a busy machine can stall one. */
		best = took < best ? took : best;
	}
	if (best <= budget)
		return 0;
	snprintf(why, sizeof why, "took %llu us, budget %u us",
	    (unsigned long long)(best + 999) / 1000,
	    vt->limits->regex_rule_budget_us);
	vet_refuse(vt, s, len, why);
	return -1;
}

/*
 * The middle of a uniform run stands for every position of it: if the
 * pattern backtracks over a good part of the rest of the text from there,
 * it does so from each, and the match is quadratic.  JIT's early-fail
 * optimisation hides that for a leading repeat (the Stack Overflow regex
 * takes ~40 us under JIT on 5000 characters but ~200 ms in the
 * interpreter), but that belongs to one optimiser and is lost to the next
 * small edit (`( )+$` takes 26 ms under JIT on 4000 characters) or to a
 * daemon without JIT.  So this counts, with the interpreter anchored there,
 * in match-limit steps, which do not depend on the machine.  Returns -1
 * (refused), 1 when the whole subject must be timed, or 0.
 */
static int
vet_mid(struct vet *vt, const char *s, size_t len, size_t mid)
{
	char why[192];
	int rc;

	if (!vt->mid_check)
		return 0;
	pcre2_set_match_limit(vt->run->mctx, vt->mid_limit);
	rc = pcre2_match(vt->r->code, (PCRE2_SPTR)s, len, mid,
	    PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED | PCRE2_NO_JIT, vt->run->md,
	    vt->run->mctx);
	pcre2_set_match_limit(vt->run->mctx, vt->run->match_limit);
	if (rc == PCRE2_ERROR_MATCHLIMIT) {
		snprintf(why, sizeof why, "one start position in the middle "
		    "takes more than %u backtracking steps, and so would every "
		    "other: the time grows at least with the square of the "
		    "length", vt->mid_limit);
		vet_refuse(vt, s, len, why);
		return -1;
	}
	return rc < 0 && rc != PCRE2_ERROR_NOMATCH;
}

/*
 * Vets every variant of the runs pair[2].  A whole match tries every start
 * position, too dear to make for every subject of every rule; so each
 * subject is first probed in its middle (vet_mid; a head changes nothing
 * there) and matched at an eighth of its length, that time scaled as if
 * the pattern were quadratic (exponential ones hit a limit there already).
 * Only a subject that looks slow either way is matched whole and timed.
 * -1 at the first failure.
 */
static int
vet_run_all(struct vet *vt, struct vet_run *pair)
{
	uint64_t budget = (uint64_t)vt->limits->regex_rule_budget_us * 1000;
	uint64_t scale = VET_SHORT_DIV * VET_SHORT_DIV;
	const char *s, *ss;
	size_t len, mid, slen, smid;
	char extra[VET_EXTRA];
	int rc = 0, prc;

	for (size_t i = 0; i < VET_NVARIANTS && rc == 0; i++) {
		s = vet_variant(vt, &pair[0], &vet_variants[i], &len, &mid,
		    extra);
		if (s != NULL && vet_worth(vt, &pair[0], extra, len)) {
			rc = vet_variants[i].probe ?
			    vet_mid(vt, s, len, mid) : 0;
			if (rc == 0 && pair[1].buf == NULL)
				rc = 1;
			else if (rc == 0) {
				ss = vet_variant(vt, &pair[1], &vet_variants[i],
				    &slen, &smid, extra);
				rc = vet_time(vt, ss, slen, &prc) * scale >
				    budget / 2 || (prc < 0 &&
				    prc != PCRE2_ERROR_NOMATCH);
				vet_run_restore(&pair[1]);
			}
			if (rc == 1)
				rc = vet_timed(vt, s, len);
		}
		vet_run_restore(&pair[0]);
	}
	return rc;
}

/*
 * Reads what PCRE2 knows of the pattern's start and end.  Its required
 * first and last code units must be in the subjects, or they would time
 * PCRE2's shortcut rather than the pattern: `(x+x+)+y` is instant on
 * "xxxx!" and exponential on "xxxx!y".
 */
static void
vet_pattern_info(struct vet *vt, const pcre2_code *code)
{
	uint32_t opts = 0, type = 0, unit = 0;
	size_t jitsize = 0;

	pcre2_pattern_info(code, PCRE2_INFO_JITSIZE, &jitsize);
	pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts);
	vt->jit = jitsize > 0;
	vt->shortcuts = !(opts & PCRE2_NO_START_OPTIMIZE);
	/*
	 * How far PCRE2 10.42 looks for the last code unit (measured: 500 kB
	 * with JIT, 5 MB interpreted, 5000 bytes anchored); past that, a
	 * subject without it is really matched.
	 */
	vt->last_window = vt->jit ? 400000 :
	    (opts & PCRE2_ANCHORED) ? 4000 : 4000000;
	pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODETYPE, &type);
	if (type == 1 && pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODEUNIT,
	    &unit) == 0 && unit > 0 && unit < 0x80)
		vt->first = (uint8_t)unit;
	else if (type == 0)
		pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &vt->startmap);
	/* Anchored (or at line starts only): no start position to multiply. */
	vt->mid_check = !(opts & PCRE2_ANCHORED) && type != 2;
	type = unit = 0;
	pcre2_pattern_info(code, PCRE2_INFO_LASTCODETYPE, &type);
	if (type == 1 && pcre2_pattern_info(code, PCRE2_INFO_LASTCODEUNIT,
	    &unit) == 0 && unit > 0 && unit < 0x80)
		vt->last = (uint8_t)unit;
}

/*
 * The literal text a pattern starts with ("http://" for `https?://(\w+\.?)+$`),
 * in ASCII, for a subject that gets past it to what follows: a pattern that
 * explodes only after a fixed start is never reached by runs alone.  Optional
 * characters are left out, `\s` becomes a space; it stops at anything else.
 */
static size_t
vet_prefix(const char *p, char *out, size_t size)
{
	size_t n = 0;
	char c;

	if (p[0] == '^')
		p++;
	while (n + 1 < size) {
		if (p[0] == '\\' && (p[1] == 'b' || p[1] == 'A')) {
			p += 2;
			continue;
		}
		if (p[0] == '\\' && (p[1] == 's' ||
		    ispunct((unsigned char)p[1]))) {
			c = p[1] == 's' ? ' ' : p[1];
			p += 2;
		} else if (p[0] >= 0x20 && p[0] < 0x7f &&
		    strchr("\\^$.|?*+()[]{}", p[0]) == NULL)
			c = *p++;
		else
			break;
		if (*p == '{')
			break;
		if (*p == '?' || *p == '*') {
			p++;
			continue;
		}
		if (*p == '+')
			p++;
		out[n++] = c;
	}
	out[n] = '\0';
	return n;
}

/*
 * The character of one more run when a match must start with something no
 * fixed run has: the first code unit ("xxxx" for `(x+x+)+y`), or the first
 * printable ASCII byte of PCRE2's start set.  0 when none is needed.
 */
static char
vet_extra_unit(const struct vet *vt, const struct regex_runner *run)
{
	size_t i;

	for (int c = 0x21; c < 0x7f; c++) {
		if (vt->first != 0 ? c != vt->first : vt->startmap == NULL ||
		    !byteset_has(vt->startmap, (uint8_t)c))
			continue;
		for (i = 0; i < VET_NUNITS; i++)
			if (byteset_has(run->runs[i][0].bytes, (uint8_t)c))
				break;
		if (i == VET_NUNITS)
			return (char)c;
	}
	return 0;
}

/* Runs a rule on every subject worth it; -1 and why at the first it fails. */
int
regex_rule_vet(const struct rule *r, const struct policy_limits *limits,
    struct regex_runner *run, const char *file, struct errlist *errs)
{
	struct vet vt = { .r = r, .limits = limits, .run = run, .file = file,
	    .errs = errs };
	struct vet_run *extra = run->runs[VET_NUNITS];
	uint32_t n = limits->max_length < 4 ? 4 : limits->max_length;
	char unit[2] = { 0 };
	int rc = 0;

	if (r->code == NULL)
		return -1;
	regex_runner_limits(run, limits);
	if (vet_runs_prepare(run, n) == -1)
		goto nomem;
	vt.n = n;
	vt.mid_limit = n / 4 > 1000 ? n / 4 : 1000;
	vet_pattern_info(&vt, r->code);
	vt.nprefix = vet_prefix(r->pattern, vt.prefix, sizeof vt.prefix);
	for (size_t i = 0; i < VET_NUNITS && rc == 0; i++)
		rc = vet_run_all(&vt, run->runs[i]);
	if (rc == 0 && (unit[0] = vet_extra_unit(&vt, run)) != 0) {
		rc = vet_run_pair(extra, unit, n) == -1 ? -2 :
		    vet_run_all(&vt, extra);
		for (int k = 0; k < 2; k++) {
			free(extra[k].buf);
			extra[k].buf = NULL;
		}
		if (rc == -2)
			goto nomem;
	}
	return rc;

nomem:
	errlist_add(errs, file, r->pattern_line, r->pattern_column,
	    "rule %s: out of memory vetting the regex", r->id);
	return -1;
}
