/*
 * regex_literals_lex: the characters of a pattern as PCRE2 10.42 reads
 * them (UTF-8, escapes, classes, extended mode's white space and
 * comments), for regex_literals.c.  Where its reading could differ from
 * PCRE2's it answers -1, and the caller gives up on the pattern.
 */
#include "regex_literals_int.h"

#include <string.h>

#include <utf8proc.h>

#define CLASS_MAX	8	/* characters a class may stand for */

/* The bytes of one UTF-8 character at p (0 if it is not one). */
size_t
utf8_len(const char *p, const char *end)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)p,
	    end - p, &cp);

	return n > 0 ? (size_t)n : 0;
}

/* The piece one character b[0, len) matches, as the scan compares it. */
void
literal_char(const struct parse *ps, const char *b, size_t len,
    struct info *out)
{
	char c = b[0];

	memset(out, 0, sizeof *out);
	if (len > 1 && ps->caseless)
		return;			/* its case forms are not known here */
	out->kind = INFO_EXACT;
	if (len > 1) {
		set_add(&out->s, b, len);
		return;
	}
	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	set_add(&out->s, &c, 1);
	if (ps->caseless && c == 'k')
		set_add(&out->s, "\xe2\x84\xaa", 3);	/* KELVIN SIGN */
	if (ps->caseless && c == 's')
		set_add(&out->s, "\xc5\xbf", 2);	/* LONG S */
}

/* Whether a pattern white space character starts at p; its length. */
static size_t
white_space(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (strchr(" \t\n\v\f\r", *p) != NULL && *p != '\0')
		return 1;
	if (n >= 2 && memcmp(p, "\xc2\x85", 2) == 0)	/* NEL */
		return 2;
	/* U+200E, U+200F, U+2028, U+2029 */
	if (n >= 3 && memcmp(p, "\xe2\x80", 2) == 0 &&
	    (p[2] == '\x8e' || p[2] == '\x8f' || p[2] == '\xa8' ||
	    p[2] == '\xa9'))
		return 3;
	return 0;
}

/*
 * Skips white space and #-comments (extended mode); -1 on a comment whose
 * end this reading could place differently from PCRE2.
 */
int
skip_space(struct parse *ps)
{
	size_t n;

	while (ps->p < ps->end) {
		if ((n = white_space(ps->p, ps->end)) > 0) {
			ps->p += n;
			continue;
		}
		if (*ps->p != '#')
			break;
		if (!ps->lf_newline)
			return -1;
		while (ps->p < ps->end && *ps->p != '\n') {
			if (*ps->p == '\r' || (unsigned char)*ps->p >= 0x80)
				return -1;
			ps->p++;
		}
		if (ps->p < ps->end)
			ps->p++;
	}
	return 0;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* \x after the x: \xhh (up to two digits) or \x{h...}; -1 if unsure. */
static int
parse_hex(struct parse *ps, char *b, size_t *len)
{
	unsigned long cp = 0;
	int digits = 0;

	if (ps->p < ps->end && *ps->p == '{') {
		ps->p++;
		while (ps->p < ps->end && is_hex(*ps->p) && digits < 8) {
			cp = cp * 16 + (unsigned long)(*ps->p <= '9' ?
			    *ps->p - '0' : (*ps->p | 0x20) - 'a' + 10);
			ps->p++;
			digits++;
		}
		if (digits == 0 || ps->p == ps->end || *ps->p != '}')
			return -1;
		ps->p++;
	} else
		while (ps->p < ps->end && is_hex(*ps->p) && digits < 2) {
			cp = cp * 16 + (unsigned long)(*ps->p <= '9' ?
			    *ps->p - '0' : (*ps->p | 0x20) - 'a' + 10);
			ps->p++;
			digits++;
		}
	if (cp > 0x10ffff ||
	    !utf8proc_codepoint_valid((utf8proc_int32_t)cp))
		return -1;
	*len = (size_t)utf8proc_encode_char((utf8proc_int32_t)cp,
	    (utf8proc_uint8_t *)b);
	return 0;
}

/* \p or \P after the letter: {name} or a single letter. */
int
skip_property(struct parse *ps)
{
	if (ps->p == ps->end)
		return -1;
	if (*ps->p != '{') {
		ps->p++;
		return 0;
	}
	while (ps->p < ps->end && *ps->p != '}')
		ps->p++;
	if (ps->p == ps->end)
		return -1;
	ps->p++;
	return 0;
}

/* The escapes that name one character, as PCRE2 reads them; 0 if none. */
static char
escape_char(char e, bool in_class)
{
	switch (e) {
	case 'a': return '\a';
	case 'e': return '\033';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'b': return in_class ? '\b' : 0;
	default: return 0;
	}
}

/*
 * One escaped character after a backslash, b[0, *len): 1 when it is one,
 * 0 when the escape is not a character (the caller decides), -1 when
 * unsure.  ps->p is past what was read only when it returns 1.
 */
int
escaped_char(struct parse *ps, bool in_class, char *b, size_t *len)
{
	char e = *ps->p, c;

	if ((c = escape_char(e, in_class)) != 0) {
		ps->p++;
		b[0] = c;
		*len = 1;
		return 1;
	}
	if (e == 'x') {
		ps->p++;
		return parse_hex(ps, b, len) == 0 ? 1 : -1;
	}
	if (is_alnum(e))
		return 0;
	if ((*len = utf8_len(ps->p, ps->end)) == 0)
		return -1;
	memcpy(b, ps->p, *len);		/* \ before any other character */
	ps->p += *len;
	return 1;
}

/* A class after its `[`: exact for a few plain characters, else NONE. */
int
parse_class(struct parse *ps, struct info *out)
{
	bool negated = false, unknown = false, first = true;
	struct info set, one;
	char b[4];
	size_t len;

	memset(&set, 0, sizeof set);
	set.kind = INFO_EXACT;
	if (ps->p < ps->end && *ps->p == '^') {
		negated = true;
		ps->p++;
	}
	for (;;) {
		if (ps->p == ps->end)
			goto fail;
		if (*ps->p == ']' && !first) {
			ps->p++;
			break;
		}
		first = false;
		if (*ps->p == '[' && ps->end - ps->p > 1 &&
		    strchr(":.=", ps->p[1]) != NULL && ps->p[1] != '\0') {
			/* [:name:] only; [. and [= are errors in PCRE2. */
			if (ps->p[1] != ':')
				goto fail;
			ps->p += 2;
			while (ps->p < ps->end && (*ps->p == '^' ||
			    ((*ps->p | 0x20) >= 'a' && (*ps->p | 0x20) <= 'z')))
				ps->p++;
			if (ps->end - ps->p < 2 || memcmp(ps->p, ":]", 2) != 0)
				goto fail;
			ps->p += 2;
			unknown = true;
			continue;
		}
		if (*ps->p == '\\') {
			ps->p++;
			if (ps->p == ps->end)
				goto fail;
			switch (escaped_char(ps, true, b, &len)) {
			case 1:
				break;
			case 0:
				if (strchr("dDwWsShHvV", *ps->p) != NULL) {
					ps->p++;
					unknown = true;
					continue;
				}
				if (*ps->p == 'p' || *ps->p == 'P') {
					ps->p++;
					if (skip_property(ps) == -1)
						goto fail;
					unknown = true;
					continue;
				}
				goto fail;
			default:
				goto fail;
			}
		} else {
			if ((len = utf8_len(ps->p, ps->end)) == 0)
				goto fail;
			memcpy(b, ps->p, len);
			ps->p += len;
		}
		if (ps->end - ps->p > 1 && ps->p[0] == '-' && ps->p[1] != ']') {
			/* A range: its end must be one plain character. */
			ps->p++;
			if (*ps->p == '[')
				goto fail;
			if (*ps->p == '\\') {
				ps->p++;
				if (ps->p == ps->end ||
				    escaped_char(ps, true, b, &len) != 1)
					goto fail;
			} else if ((len = utf8_len(ps->p, ps->end)) == 0)
				goto fail;
			else
				ps->p += len;
			unknown = true;
			continue;
		}
		literal_char(ps, b, len, &one);
		if (one.kind != INFO_EXACT)
			unknown = true;
		else
			for (size_t i = 0; i < one.s.n; i++)
				set_add(&set.s, one.s.v[i].b, one.s.v[i].len);
		info_none(&one);
	}
	if (negated || unknown || set.s.n > CLASS_MAX)
		info_none(&set);
	*out = set;
	return 0;
fail:
	info_none(&set);
	return -1;
}
