/*
 * Word lists: whole words, phrases, substrings, masks and the allowlist,
 * each over the disguises normalisation and tokenisation undo.  Every case
 * states which rules must fire and which original bytes the first hit of the
 * first expected rule must point at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wordlist.h"

enum { R_WORD, R_PHRASE, R_SUBSTR, R_NAME };
#define BIT(r)	(1u << (r))

static const char word_terms[] =
    "# strong profanity, one word a line\n"
    "fuck\nshit\nass\ncunt\ndick\nbitch\nfucking\nidiot\n"
    "Fück   # folds to a term already listed: no error\n";
static const char phrase_terms[] =
    "i will kill you\nkill yourself\nyou are an idiot\n"
    "check out my channel\nknow where you live\n";
static const char substr_terms[] = "fuck\ncunt\nrapist\n";
static const char allow_terms[] =
    "scunthorpe\npenistone\nassassin\nclassic\ncocktail\ndickens\n"
    "sussex\ntherapist\nshiitake\n";

struct hit_log {
	unsigned	 rules;
	int		 first_rule;
	uint32_t	 first, last;	/* nchar range of the first hit per rule */
	uint32_t	 spans[8][2];
	unsigned	 seen;
};

static int
log_cb(void *arg, uint16_t rule, uint32_t first, uint32_t last)
{
	struct hit_log *h = arg;

	if (!(h->seen & BIT(rule))) {
		h->spans[rule][0] = first;
		h->spans[rule][1] = last;
		h->seen |= BIT(rule);
	}
	h->rules |= BIT(rule);
	return 0;
}

struct fixture {
	struct normalize_opts	 o;
	struct matcher		*m;
	struct ntext		 nt;
	struct tokens		 tk;
};

static int
setup(void **state)
{
	static struct fixture f;
	struct errlist e;

	errlist_init(&e);
	normalize_opts_default(&f.o);
	f.m = matcher_new(&f.o);
	assert_int_equal(matcher_add_text(f.m, R_WORD, MATCH_WORD, word_terms,
	    strlen(word_terms), "words.txt", &e), 9);
	assert_int_equal(matcher_add_text(f.m, R_PHRASE, MATCH_PHRASE,
	    phrase_terms, strlen(phrase_terms), "phrases.txt", &e), 5);
	assert_int_equal(matcher_add_text(f.m, R_SUBSTR, MATCH_SUBSTRING,
	    substr_terms, strlen(substr_terms), "subs.txt", &e), 3);
	assert_int_equal(matcher_add_allow_text(f.m, allow_terms,
	    strlen(allow_terms), "allow.txt", &e), 9);
	for (size_t i = 0; i < e.n; i++)
		print_error("%s\n", e.msgs[i]);
	assert_int_equal(e.n, 0);
	errlist_free(&e);
	ntext_init(&f.nt);
	tokens_init(&f.tk);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	matcher_free(f->m);
	ntext_free(&f->nt);
	tokens_free(&f->tk);
	return 0;
}

/* Scans text and returns the hits. */
static struct hit_log
scan(struct fixture *f, const char *text)
{
	struct hit_log h;
	size_t bad;

	memset(&h, 0, sizeof h);
	assert_int_equal(normalize_text(&f->o, text, strlen(text), &f->nt,
	    &bad), 0);
	tokenize(&f->o, &f->nt, &f->tk);
	matcher_scan(f->m, &f->tk, log_cb, &h);
	return h;
}

struct scan_case {
	const char	*text;
	unsigned	 rules;		/* rules that must fire, exactly */
	int		 rule;		/* whose first span is checked, or -1 */
	const char	*matched;	/* original bytes of that span */
};

static const struct scan_case cases[] = {
	/* plain whole words, and words that merely contain a term */
	{ "what the fuck is this", BIT(R_WORD) | BIT(R_SUBSTR), R_WORD, "fuck" },
	{ "Thanks for the clear reporting.", 0, -1, NULL },
	{ "a classic cocktail in Scunthorpe", 0, -1, NULL },
	{ "Dickens wrote about Sussex and Penistone", 0, -1, NULL },
	{ "the assassin's therapist ate shiitake", 0, -1, NULL },
	{ "the therapists of Scunthorpe's clubs", 0, -1, NULL },
	{ "you ass", BIT(R_WORD), R_WORD, "ass" },
	{ "passing the class", 0, -1, NULL },
	/* substring terms inside words, unless inside an allowed word */
	{ "motherfuckers everywhere", BIT(R_SUBSTR), R_SUBSTR, "fuck" },
	{ "a serial rapist", BIT(R_SUBSTR), R_SUBSTR, "rapist" },
	{ "scunthorpecunt", BIT(R_SUBSTR), R_SUBSTR, "cunt" },
	/* case, accents, full width, lookalikes, invisible characters */
	{ "FUCK", BIT(R_WORD) | BIT(R_SUBSTR), R_WORD, "FUCK" },
	{ "\xc6\x92\xc3\xbc\xc3\xa7k off", BIT(R_WORD) | BIT(R_SUBSTR), R_WORD,
	  "\xc6\x92\xc3\xbc\xc3\xa7k" },			/* ƒüçk */
	{ "\xef\xbd\x86\xef\xbd\x95\xef\xbd\x83\xef\xbd\x8b",
	  BIT(R_WORD) | BIT(R_SUBSTR), R_WORD,
	  "\xef\xbd\x86\xef\xbd\x95\xef\xbd\x83\xef\xbd\x8b" },	/* ｆｕｃｋ */
	{ "fu\xd1\x81k this", BIT(R_WORD) | BIT(R_SUBSTR), R_WORD,
	  "fu\xd1\x81k" },					/* Cyrillic с */
	{ "sh\xe2\x80\x8bit", BIT(R_WORD), R_WORD, "sh\xe2\x80\x8bit" },
	{ "you \xd0\xb0\xd1\x95\xd1\x95", BIT(R_WORD), R_WORD,
	  "\xd0\xb0\xd1\x95\xd1\x95" },				/* аѕѕ */
	/* leetspeak, masks, stretched and spelled-out letters */
	{ "sh!t happens", BIT(R_WORD), R_WORD, "sh!t" },
	{ "5h1t", BIT(R_WORD), R_WORD, "5h1t" },
	{ "b1tch", BIT(R_WORD), R_WORD, "b1tch" },
	{ "$hit", BIT(R_WORD), R_WORD, "$hit" },
	{ "a$$", BIT(R_WORD), R_WORD, "a$$" },
	{ "@$$", BIT(R_WORD), R_WORD, "@$$" },
	{ "f*ck", BIT(R_WORD), R_WORD, "f*ck" },
	{ "f**k you", BIT(R_WORD), R_WORD, "f**k" },
	{ "fuuuuuck", BIT(R_WORD) | BIT(R_SUBSTR), R_WORD, "fuuuuuck" },
	{ "assssss", BIT(R_WORD), R_WORD, "assssss" },
	{ "f u c k", BIT(R_WORD) | BIT(R_SUBSTR), R_WORD, "f u c k" },
	{ "f.u.c.k", BIT(R_WORD) | BIT(R_SUBSTR), R_WORD, "f.u.c.k" },
	{ "f-u-c-k", BIT(R_WORD) | BIT(R_SUBSTR), R_WORD, "f-u-c-k" },
	{ "ph0ne 2019 4 u", 0, -1, NULL },
	/* phrases across words and their disguises */
	{ "I will kill you tomorrow", BIT(R_PHRASE), R_PHRASE, "I will kill you" },
	{ "i  will   k1ll    y0u", BIT(R_PHRASE), R_PHRASE,
	  "i  will   k1ll    y0u" },
	{ "I will kill yours truly", 0, -1, NULL },
	{ "I know where you live.", BIT(R_PHRASE), R_PHRASE,
	  "know where you live" },
	{ "You are an IDIOT", BIT(R_PHRASE) | BIT(R_WORD), R_PHRASE,
	  "You are an IDIOT" },
	{ "please check out my channel!", BIT(R_PHRASE), R_PHRASE,
	  "check out my channel" },
};

static void
test_scan_cases(void **state)
{
	struct fixture *f = *state;
	int failed = 0;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct scan_case *c = &cases[i];
		struct hit_log h = scan(f, c->text);
		char got[256] = "";

		if (c->rule >= 0 && (h.seen & BIT(c->rule))) {
			uint32_t s = f->nt.c[h.spans[c->rule][0]].start;
			uint32_t e = f->nt.c[h.spans[c->rule][1]].end;
			snprintf(got, sizeof got, "%.*s", (int)(e - s),
			    c->text + s);
		}
		if (h.rules != c->rules ||
		    (c->matched != NULL && strcmp(got, c->matched) != 0)) {
			print_error("case %zu \"%s\": rules %#x want %#x, "
			    "matched \"%s\" want \"%s\"\n", i, c->text, h.rules,
			    c->rules, got, c->matched ? c->matched : "");
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

struct error_case {
	enum match_mode	 mode;
	int		 allow;
	const char	*text;
	const char	*where;		/* "file:line:column:" */
	const char	*phrase;
};

static const struct error_case error_cases[] = {
	{ MATCH_WORD, 0, "good\n  f*ck\n", "bad.txt:2:4:", "plain words" },
	{ MATCH_WORD, 0, "kill you\n", "bad.txt:1:1:", "match: phrase" },
	{ MATCH_SUBSTRING, 0, "ok\nkill you\n", "bad.txt:2:1:", "single word" },
	{ MATCH_WORD, 1, "two words\n", "bad.txt:1:1:", "single words" },
	{ MATCH_WORD, 0, "fine\n\xff\n", "bad.txt:2:1:", "invalid UTF-8" },
	{ MATCH_PHRASE, 0, "a b c d e f g h i\n", "bad.txt:1:1:", "at most" },
};

static void
test_list_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		const struct error_case *c = &error_cases[i];
		struct normalize_opts o;
		struct errlist e;
		struct matcher *m;

		normalize_opts_default(&o);
		errlist_init(&e);
		m = matcher_new(&o);
		if (c->allow)
			matcher_add_allow_text(m, c->text, strlen(c->text),
			    "bad.txt", &e);
		else
			matcher_add_text(m, 0, c->mode, c->text,
			    strlen(c->text), "bad.txt", &e);
		if (e.n != 1 || strncmp(e.msgs[0], c->where,
		    strlen(c->where)) != 0 || strstr(e.msgs[0], c->phrase) ==
		    NULL)
			fail_msg("case %zu: %zu errors, first \"%s\"", i, e.n,
			    e.n ? e.msgs[0] : "");
		errlist_free(&e);
		matcher_free(m);
	}
}

static void
test_conflict_and_missing(void **state)
{
	struct normalize_opts o;
	struct errlist e;
	struct matcher *m;

	(void)state;
	normalize_opts_default(&o);
	errlist_init(&e);
	m = matcher_new(&o);
	matcher_add_text(m, 0, MATCH_WORD, "ass\n", 4, "a.txt", &e);
	matcher_add_allow_text(m, "ASS\n", 4, "allow.txt", &e);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msgs[0], "allow.txt:1:1:"));
	assert_non_null(strstr(e.msgs[0], "allowlisted"));
	assert_int_equal(matcher_add_file(m, 1, MATCH_WORD,
	    "/nonexistent/list.txt", "list.txt", &e), -1);
	assert_int_equal(e.n, 2);
	assert_non_null(strstr(e.msgs[1], "list.txt: cannot read"));
	assert_true(matcher_is_allowed(m, "ass", 3));
	errlist_free(&e);
	matcher_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_cases),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_conflict_and_missing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
