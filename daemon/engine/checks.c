/*
 * checks: structural rules that measure the shape of a comment rather than
 * its words: length, SHOUTING, links, runs of one character, letters
 * outside the Latin script, payment card numbers (card_number.c) and
 * keyboard mashing (gibberish.c).
 *
 * They read the ORIGINAL text, already validated as UTF-8 (capitals and
 * links are as the commenter wrote them), once and in linear time, and
 * never allocate.  They must never read past len or trust a NUL.
 */
#include "checks.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "card_number.h"
#include "gibberish.h"
#include "swar.h"

static const char *const check_names[] = {
	[CHECK_LENGTH] = "length",
	[CHECK_CAPS_RATIO] = "caps_ratio",
	[CHECK_LINK_COUNT] = "link_count",
	[CHECK_REPEAT_RUN] = "repeat_run",
	[CHECK_NON_LATIN] = "non_latin",
	[CHECK_CARD_NUMBER] = "card_number",
	[CHECK_GIBBERISH] = "gibberish",
};
_Static_assert(sizeof check_names / sizeof check_names[0] == CHECK_NKINDS,
    "check_names must name every check kind");

/*
 * Top-level domains a bare "name.tld" must end in to count as a link.  Those
 * that are also words ("it", "me", "in", "to", "news") count only with a
 * path after them ("t.me/chan", "youtu.be/x"), so that "good.it was" or a
 * missing space after a full stop is not a link.
 */
static const char *const tlds_bare[] = {
	"com", "net", "org", "info", "biz", "edu", "gov", "io", "co", "ly",
	"gl", "gd", "gg", "ai", "fm", "tv", "cc", "ws", "pw", "xyz", "top",
	"site", "online", "club", "shop", "store", "app", "dev", "tech",
	"website", "icu", "buzz", "vip", "cyou", "sbs", "lol", "tk", "ml",
	"ga", "cf", "gq", "ru", "su", "ua", "cn", "uk", "de", "fr", "nl", "pl",
	"es", "ch", "se", "au", "ca", "jp", "br", "mx", "kr", "cz", "gr", "eu",
	"vn", "ir", "tw", "hk", "nz", "za",
};
static const char *const tlds_path[] = {
	"me", "be", "to", "it", "in", "is", "at", "by", "do", "go", "no",
	"my", "am", "as", "an", "so", "us", "link", "click", "live", "news",
	"life", "work", "today", "space", "fun", "win", "one", "pro", "blog",
};

/* Parses a check kind's name; 0, or -1 for an unknown name. */
int
check_parse_kind(const char *name, enum check_kind *out)
{
	for (size_t i = 0; i < CHECK_NKINDS; i++) {
		if (strcmp(name, check_names[i]) == 0) {
			*out = (enum check_kind)i;
			return 0;
		}
	}
	return -1;
}

/* The name a policy writes for a check kind. */
const char *
check_kind_name(enum check_kind k)
{
	if ((size_t)k >= CHECK_NKINDS)
		return "unknown";
	return check_names[k];
}

/* Counts code points by their first bytes: the text is valid UTF-8. */
size_t
utf8_length(const char *text, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)text[i] & 0xC0) != 0x80;
	return n;
}

/* Decodes the code point at text[i]; a bad byte counts as one U+FFFD. */
static size_t
next_cp(const char *text, size_t len, size_t i, utf8proc_int32_t *cp)
{
	utf8proc_ssize_t n;

	/* Most comments are mostly ASCII: no decoding for those bytes. */
	if ((unsigned char)text[i] < 0x80) {
		*cp = (unsigned char)text[i];
		return 1;
	}
	n = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
	    (utf8proc_ssize_t)(len - i), cp);
	if (n <= 0) {
		*cp = 0xFFFD;
		return 1;
	}
	return (size_t)n;
}

/* Whether cp is an ASCII letter or digit. */
static bool
ascii_alnum(utf8proc_int32_t cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= '0' && cp <= '9');
}

/* Whether a category is a letter's (Lu, Ll, Lt, Lm, Lo). */
static bool
cat_letter(utf8proc_category_t c)
{
	return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

/* White space: Unicode separators and the controls that space text. */
static bool
is_space(utf8proc_int32_t cp)
{
	utf8proc_category_t c;

	if (cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85)
		return true;
	if (cp < 0x80)
		return false;
	c = utf8proc_category(cp);
	return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL ||
	    c == UTF8PROC_CATEGORY_ZP;
}

/*
 * The share of capitals among letters that have a case: Chinese or Arabic
 * cannot shout, so they neither dilute nor count.  Measured only with at
 * least min_letters such letters; *enough says whether there were.
 */
static double
caps_ratio(const char *text, size_t len, unsigned min_letters, bool *enough)
{
	utf8proc_int32_t cp;
	utf8proc_category_t c;
	size_t cased = 0, upper = 0;
	uint64_t w;

	for (size_t i = 0, n; i < len; i += n) {
		/* Eight ASCII bytes at a time, counted without a branch. */
		if (i + 8 <= len && !swar_non_ascii(w = swar_load(text + i))) {
			upper += swar_count(swar_in_range(w, 'A', 'Z'));
			cased += swar_count(swar_in_range(w | SWAR_ONES * 0x20,
			    'a', 'z'));
			n = 8;
			continue;
		}
		n = next_cp(text, len, i, &cp);
		if (cp < 0x80) {
			upper += cp >= 'A' && cp <= 'Z';
			cased += (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
			continue;
		}
		c = utf8proc_category(cp);
		if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT)
			upper++;
		if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT ||
		    c == UTF8PROC_CATEGORY_LL)
			cased++;
	}
	*enough = cased > 0 && cased >= min_letters;
	return cased > 0 ? (double)upper / (double)cased : 0.0;
}

/* The share of letters not in the Latin script, with *enough as above. */
static double
non_latin_ratio(const char *text, size_t len, unsigned min_letters,
    bool *enough)
{
	utf8proc_int32_t cp;
	size_t letters = 0, latin = 0;

	for (size_t i = 0, n; i < len; i += n) {
		n = next_cp(text, len, i, &cp);
		if (cp < 0x80) {
			if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') {
				letters++;
				latin++;
			}
			continue;
		}
		if (!cat_letter(utf8proc_category(cp)))
			continue;
		letters++;
		latin += script_of((uint32_t)cp) == SCRIPT_LATIN;
	}
	*enough = letters > 0 && letters >= min_letters;
	return letters > 0 ? (double)(letters - latin) / (double)letters : 0.0;
}

/*
 * The longest run of one code point, white space aside: its length and span.
 * Once a run has been found, eight ASCII bytes none of which repeats the
 * byte before it are passed over at once: there every run is one long.
 */
static size_t
longest_run(const char *text, size_t len, size_t *start, size_t *end)
{
	utf8proc_int32_t cp, prev = -1;
	size_t i, n, run = 0, from = 0, best = 0;
	unsigned char c;
	uint64_t w;

	*start = *end = 0;
	for (i = 0; i < len; i += n) {
		if (best > 0 && i > 0 && i + 8 <= len &&
		    !swar_non_ascii(w = swar_load(text + i)) &&
		    swar_zero(w ^ swar_load(text + i - 1)) == 0) {
			c = (unsigned char)text[i + 7];
			prev = is_space(c) ? -1 : c;
			run = prev < 0 ? 0 : 1;
			from = i + 7;
			n = 8;
			continue;
		}
		n = next_cp(text, len, i, &cp);
		if (is_space(cp)) {
			prev = -1;
			continue;
		}
		if (cp != prev) {
			prev = cp;
			run = 0;
			from = i;
		}
		if (++run > best) {
			best = run;
			*start = from;
			*end = i + n;
		}
	}
	return best;
}

/* Whether text[i] begins a letter or digit of a host name (any script). */
static bool
label_char(const char *text, size_t len, size_t i, size_t *n)
{
	utf8proc_int32_t cp;
	utf8proc_category_t c;

	*n = next_cp(text, len, i, &cp);
	if (cp < 0x80)
		return ascii_alnum(cp) || cp == '-';
	c = utf8proc_category(cp);
	return cat_letter(c) || c == UTF8PROC_CATEGORY_ND;
}

/*
 * The end of a URL from text[from]: up to white space or a character that
 * cannot be in one unquoted, less trailing punctuation that ends the
 * sentence instead ("see example.com/x." or "(example.com)").
 */
static size_t
url_end(const char *text, size_t len, size_t from)
{
	utf8proc_int32_t cp;
	bool paren = false;
	size_t i, n;

	for (i = from; i < len; i += n) {
		n = next_cp(text, len, i, &cp);
		if (is_space(cp) || cp < 0x20 || cp == 0x7f || cp == '<' ||
		    cp == '>' || cp == '"')
			break;
		paren = paren || cp == '(';
	}
	while (i > from && (strchr(".,;:!?'", text[i - 1]) != NULL ||
	    (!paren && text[i - 1] == ')')))
		i--;
	return i;
}

/* Whether the ASCII letters text[from, to) are a listed TLD (from `list`). */
static bool
tld_in(const char *const *list, size_t n, const char *text, size_t from,
    size_t to)
{
	for (size_t i = 0; i < n; i++) {
		if ((list[i][0] | 0x20) == (text[from] | 0x20) &&
		    strlen(list[i]) == to - from &&
		    strncasecmp(list[i], text + from, to - from) == 0)
			return true;
	}
	return false;
}

/*
 * The end of a link that is a bare domain at text[i] ("example.com",
 * "bit.ly/x", "t.me/chan"), with its path if it has one, or 0.
 */
static size_t
domain_at(const char *text, size_t len, size_t i)
{
	size_t j = i, k, n, labels = 0, last = i;

	for (;;) {
		for (k = j; k < len && label_char(text, len, k, &n); k += n)
			;
		if (k == j)
			break;
		labels++;
		last = j;
		j = k;
		if (k + 1 >= len || text[k] != '.' ||
		    !label_char(text, len, k + 1, &n))
			break;
		j = k + 1;
	}
	/* "john.doe@" is the start of an address, not a link. */
	if (labels < 2 || (j < len && text[j] == '@'))
		return 0;
	for (k = last; k < j; k++)
		if ((text[k] | 0x20) < 'a' || (text[k] | 0x20) > 'z')
			return 0;
	if (tld_in(tlds_path, sizeof tlds_path / sizeof tlds_path[0], text,
	    last, j))
		return j < len && text[j] == '/' ? url_end(text, len, j) : 0;
	if (!tld_in(tlds_bare, sizeof tlds_bare / sizeof tlds_bare[0], text,
	    last, j))
		return 0;
	return j < len && strchr("/:?#", text[j]) != NULL ?
	    url_end(text, len, j) : j;
}

/*
 * Whether text[i..] starts with the lower-case ASCII `word`, in any case,
 * with at least one byte after it.  Called at every position of a comment,
 * so it stops at the first differing byte instead of calling strncasecmp.
 */
static bool
has_prefix(const char *text, size_t len, size_t i, const char *word)
{
	for (; *word != '\0'; word++, i++)
		if (i >= len || (text[i] | 0x20) != *word)
			return false;
	return i < len;
}

/* The end of a link at text[i] (prev: the code point before), or 0. */
static size_t
link_at(const char *text, size_t len, size_t i, utf8proc_int32_t prev)
{
	size_t skip = 0, n, end;

	if (has_prefix(text, len, i, "http://"))
		skip = 7;
	else if (has_prefix(text, len, i, "https://"))
		skip = 8;
	if (skip > 0) {
		/* A scheme counts anywhere: "clickhttp://x.ru" is a link. */
		end = url_end(text, len, i + skip);
		return end > i + skip ? end : 0;
	}
	/* Inside a word, an address or a path, a name is not a new link. */
	if (ascii_alnum(prev) || prev == '.' || prev == '@' || prev == '/' ||
	    prev == '-' || prev == '_')
		return 0;
	if (prev >= 0x80 && (cat_letter(utf8proc_category(prev)) ||
	    utf8proc_category(prev) == UTF8PROC_CATEGORY_ND))
		return 0;
	if (has_prefix(text, len, i, "www.") &&
	    label_char(text, len, i + 4, &n))
		return url_end(text, len, i);
	return domain_at(text, len, i);
}

/*
 * Whether the text can hold a link at all: every link has "://" or a dot
 * followed by a letter or digit ("example.com", "www.x").  Most comments
 * have neither, and this memchr-driven test spares them the full parse.
 */
static bool
may_hold_link(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while ((p = memchr(p, '.', (size_t)(end - p))) != NULL) {
		if (++p < end && ((unsigned char)*p >= 0x80 ||
		    ascii_alnum((unsigned char)*p)))
			return true;
	}
	for (p = text; (p = memchr(p, ':', (size_t)(end - p))) != NULL;)
		if (++p + 1 < end && p[0] == '/' && p[1] == '/')
			return true;
	return false;
}

/*
 * Counts links; the span is the first link beyond `above` (the one that
 * makes too many), or empty when there are not that many.
 */
static size_t
count_links(const char *text, size_t len, double above, size_t *start,
    size_t *end)
{
	utf8proc_int32_t prev = ' ';
	size_t i = 0, count = 0, stop;

	/*
	 * Linear: a domain is parsed only where a name begins, and a name
	 * that is not a link is not parsed again from inside.
	 */
	*start = *end = 0;
	if (!may_hold_link(text, len))
		return 0;
	while (i < len) {
		if ((stop = link_at(text, len, i, prev)) > i) {
			if (++count > above && *end == 0) {
				*start = i;
				*end = stop;
			}
			i = stop;
			prev = '/';	/* what follows is not a new name */
		} else
			i += next_cp(text, len, i, &prev);
	}
	return count;
}

/* Evaluates a structural check on the original text. */
int
check_eval(const struct rule *r, const char *text, size_t len,
    uint32_t *start, uint32_t *end, double *value)
{
	size_t from = 0, to = len, n;
	double v = 0;
	bool hit = false, enough;

	if (r->kind != RULE_CHECK)
		return 0;
	switch (r->check) {
	case CHECK_LENGTH:
		v = (double)utf8_length(text, len);
		hit = (r->has_above && v > r->above) ||
		    (r->has_below && v < r->below);
		break;
	case CHECK_CAPS_RATIO:
		v = caps_ratio(text, len, r->min_letters, &enough);
		hit = enough && r->has_above && v > r->above;
		break;
	case CHECK_LINK_COUNT:
		v = (double)count_links(text, len, r->above, &from, &to);
		hit = r->has_above && v > r->above;
		break;
	case CHECK_REPEAT_RUN:
		v = (double)longest_run(text, len, &from, &to);
		hit = r->has_above && v > r->above;
		break;
	case CHECK_NON_LATIN:
		v = non_latin_ratio(text, len, r->min_letters, &enough);
		hit = enough && r->has_above && v > r->above;
		break;
	case CHECK_CARD_NUMBER:
		/* The span is the number that makes one too many. */
		v = (double)card_number_count(text, len,
		    r->has_above ? (size_t)r->above : 0, &from, &to);
		hit = v > (r->has_above ? r->above : 0);
		break;
	case CHECK_GIBBERISH:
		v = (double)gibberish_letters(text, len, &n, &from, &to);
		enough = n > 0 && n >= r->min_letters;
		v = n > 0 ? v / (double)n : 0.0;
		hit = enough && r->has_above && v > r->above;
		break;
	}
	if (value != NULL)
		*value = v;
	if (start != NULL)
		*start = hit ? (uint32_t)from : 0;
	if (end != NULL)
		*end = hit ? (uint32_t)to : 0;
	return hit;
}
