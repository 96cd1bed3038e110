/*
 * json_reader: reads JSON text in one pass without building a tree.
 *
 * /v1/check reads five fields of a small object; a tree would allocate a
 * node per value and a hash table per object only for them to be freed a
 * microsecond later.  This reader walks the bytes once, decodes only the
 * strings asked for, and still checks every byte, so that what it accepts
 * and refuses stays what jansson (JSON_REJECT_DUPLICATES) accepts and
 * refuses: tests/fuzz/fuzz_request.c holds it to that.  It must never trust
 * its input past the guarantees json_reader.h lists, and never recurse
 * deeper than max_depth.
 */
#include "json_reader.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

/* Keys in a document before the duplicate check switches to an index. */
#define JR_LINEAR_KEYS	JSON_READER_FEW_KEYS

/* Records the first fault and returns -1, so a fault is one statement. */
static int __attribute__((format(printf, 3, 4)))
jr_fail(struct json_reader *r, enum json_fault fault, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (r->fault != JSON_FAULT_NONE)
		return -1;
	r->fault = fault;
	n = snprintf(r->message, sizeof r->message, "byte %zu: ", r->pos + 1);
	va_start(ap, fmt);
	vsnprintf(r->message + n, sizeof r->message - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Starts a reader over s. */
void
json_reader_init(struct json_reader *r, const void *s, size_t len, char *out,
    int max_depth)
{
	memset(r, 0, sizeof *r);
	r->s = s;
	r->len = len;
	r->out = out;
	r->max_depth = max_depth < JSON_READER_MAX_DEPTH ? max_depth :
	    JSON_READER_MAX_DEPTH;
	r->keys = r->few;
	r->keys_cap = JSON_READER_FEW_KEYS;
}

/* Frees the key list and its index. */
void
json_reader_free(struct json_reader *r)
{
	if (r->keys != r->few)
		free(r->keys);
	free(r->index);
	r->keys = r->few;
	r->keys_cap = JSON_READER_FEW_KEYS;
	r->index = NULL;
	r->nkeys = 0;
}

/* Steps over the four whitespace bytes RFC 8259 allows. */
static void
jr_space(struct json_reader *r)
{
	while (r->pos < r->len && (r->s[r->pos] == ' ' ||
	    r->s[r->pos] == '\n' || r->s[r->pos] == '\r' ||
	    r->s[r->pos] == '\t'))
		r->pos++;
}

/* Names a byte for a message: printable ASCII as itself. */
static const char *
jr_byte_name(const struct json_reader *r, char *buf, size_t size)
{
	unsigned char c;

	if (r->pos >= r->len)
		return "the end of the body";
	c = r->s[r->pos];
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

/* A syntax fault naming what was expected and what was found. */
static int
jr_expected(struct json_reader *r, const char *what)
{
	char buf[16];

	return jr_fail(r, JSON_FAULT_SYNTAX, "expected %s, found %s", what,
	    jr_byte_name(r, buf, sizeof buf));
}

/* The next value's kind, judged by its first byte. */
enum json_kind
json_reader_peek(struct json_reader *r)
{
	if (r->fault != JSON_FAULT_NONE)
		return JSON_KIND_NONE;
	jr_space(r);
	if (r->pos < r->len) {
		switch (r->s[r->pos]) {
		case '{':
			return JSON_KIND_OBJECT;
		case '[':
			return JSON_KIND_ARRAY;
		case '"':
			return JSON_KIND_STRING;
		case 't':
			return JSON_KIND_TRUE;
		case 'f':
			return JSON_KIND_FALSE;
		case 'n':
			return JSON_KIND_NULL;
		case '-':
		case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			return JSON_KIND_NUMBER;
		}
	}
	jr_expected(r, "a value");
	return JSON_KIND_NONE;
}

/* The value of four hex digits at s, or -1. */
static long
jr_hex4(const unsigned char *s)
{
	long	v = 0;

	for (int k = 0; k < 4; k++) {
		v <<= 4;
		if (s[k] >= '0' && s[k] <= '9')
			v |= s[k] - '0';
		else if (s[k] >= 'a' && s[k] <= 'f')
			v |= s[k] - 'a' + 10;
		else if (s[k] >= 'A' && s[k] <= 'F')
			v |= s[k] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Appends code point cp to the output as UTF-8. */
static void
jr_put_utf8(struct json_reader *r, long cp)
{
	char *o = r->out + r->outlen;

	if (cp < 0x80) {
		o[0] = (char)cp;
		r->outlen += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		r->outlen += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		r->outlen += 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		r->outlen += 4;
	}
}

/*
 * The \u escape at s[r->pos] (the backslash): its code point, a surrogate
 * pair joined, stepping over it; -1 for a fault.  The pre-scan refused
 * \u0000 and lone surrogates, but the reader does not lean on that here:
 * this is where a mistake would put a NUL into a "NUL-free" string.
 */
static long
jr_unicode_escape(struct json_reader *r)
{
	const unsigned char *s = r->s + r->pos;
	size_t	left = r->len - r->pos;
	long	cp, lo;

	if (left < 6 || (cp = jr_hex4(s + 2)) == -1)
		return jr_fail(r, JSON_FAULT_SYNTAX,
		    "\\u must be followed by four hex digits");
	if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
		return jr_fail(r, JSON_FAULT_SYNTAX,
		    "\\u%04lX is not a character a comment may hold", cp);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (left < 12 || s[6] != '\\' || s[7] != 'u' ||
		    (lo = jr_hex4(s + 8)) < 0xdc00 || lo > 0xdfff)
			return jr_fail(r, JSON_FAULT_SYNTAX,
			    "\\u%04lX is half of a surrogate pair", cp);
		r->pos += 12;
		return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	r->pos += 6;
	return cp;
}

/*
 * Reads the string at r->pos.  With decode, its text goes to the output
 * (NUL-terminated) and *s, *len point at it; an escape-free string is
 * copied with one memcpy.  Without, it is only checked.
 */
static int
jr_read_string(struct json_reader *r, bool decode, const char **s,
    size_t *len)
{
	size_t	run = ++r->pos, begin = r->outlen;
	long	cp;
	unsigned char c;

	for (;;) {
		if (r->pos >= r->len)
			return jr_fail(r, JSON_FAULT_SYNTAX,
			    "a string is not closed");
		c = r->s[r->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return jr_fail(r, JSON_FAULT_SYNTAX, "a control "
			    "character (0x%02x) inside a string must be "
			    "escaped", c);
		if (c != '\\') {
			r->pos++;
			continue;
		}
		if (decode) {
			memcpy(r->out + r->outlen, r->s + run, r->pos - run);
			r->outlen += r->pos - run;
		}
		if (r->pos + 1 >= r->len)
			return jr_fail(r, JSON_FAULT_SYNTAX,
			    "a string is not closed");
		switch (r->s[r->pos + 1]) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if ((cp = jr_unicode_escape(r)) == -1)
				return -1;
			goto escaped;
		default:
			r->pos++;
			return jr_fail(r, JSON_FAULT_SYNTAX,
			    "an unknown escape in a string");
		}
		r->pos += 2;
escaped:
		if (decode)
			jr_put_utf8(r, cp);
		run = r->pos;
	}
	if (decode) {
		memcpy(r->out + r->outlen, r->s + run, r->pos - run);
		r->outlen += r->pos - run;
		r->out[r->outlen++] = '\0';
		*s = r->out + begin;
		*len = r->outlen - begin - 1;
	}
	r->pos++;
	return 0;
}

/* Reads a string value, decoded. */
int
json_reader_string(struct json_reader *r, const char **s, size_t *len)
{
	if (json_reader_peek(r) != JSON_KIND_STRING)
		return r->fault ? -1 : jr_expected(r, "a string");
	return jr_read_string(r, true, s, len);
}

/* Steps over a run of digits; returns how many. */
static size_t
jr_digits(struct json_reader *r)
{
	size_t	start = r->pos;

	while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9')
		r->pos++;
	return r->pos - start;
}

/*
 * Whether the integer digits d (n of them, no sign) fit jansson's 64-bit
 * json_int_t: jansson refuses the rest, and so must we.
 */
static bool
jr_int_fits(const unsigned char *d, size_t n, bool negative)
{
	const char *max = negative ? "9223372036854775808" :
	    "9223372036854775807";

	if (n != 19)
		return n < 19;
	return memcmp(d, max, 19) <= 0;
}

/*
 * Whether the real text at s (n bytes) overflows a double, as jansson
 * checks it with strtod.  The daemon never calls setlocale, so strtod reads
 * '.' as the decimal point.  The copy goes to the free end of the output,
 * which always has room for the token (decoded text never outgrows what
 * was read).
 */
static bool
jr_real_overflows(struct json_reader *r, size_t start, size_t n)
{
	char	*tmp = r->out + r->outlen;
	double	 v;

	memcpy(tmp, r->s + start, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtod(tmp, NULL);
	return (v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE;
}

/* Checks a number: RFC 8259's grammar and jansson's range. */
static int
jr_number(struct json_reader *r)
{
	size_t	start = r->pos, int_start, n;
	bool	negative = false, real = false;

	if (r->s[r->pos] == '-') {
		negative = true;
		r->pos++;
	}
	int_start = r->pos;
	if ((n = jr_digits(r)) == 0)
		return jr_expected(r, "a digit");
	if (n > 1 && r->s[int_start] == '0')
		return jr_fail(r, JSON_FAULT_SYNTAX,
		    "a number may not start with 0");
	if (r->pos < r->len && r->s[r->pos] == '.') {
		real = true;
		r->pos++;
		if (jr_digits(r) == 0)
			return jr_expected(r, "a digit after '.'");
	}
	if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
		real = true;
		r->pos++;
		if (r->pos < r->len && (r->s[r->pos] == '+' ||
		    r->s[r->pos] == '-'))
			r->pos++;
		if (jr_digits(r) == 0)
			return jr_expected(r, "a digit in the exponent");
	}
	if (!real && !jr_int_fits(r->s + int_start, n, negative))
		return jr_fail(r, JSON_FAULT_SYNTAX,
		    "an integer past 64 bits");
	if (real && jr_real_overflows(r, start, r->pos - start))
		return jr_fail(r, JSON_FAULT_SYNTAX,
		    "a number too large for a double");
	return 0;
}

/* Checks the literal word at r->pos. */
static int
jr_literal(struct json_reader *r, const char *word)
{
	size_t	n = strlen(word);

	if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0)
		return jr_expected(r, "a value");
	r->pos += n;
	return 0;
}

/* Opens a container, refusing one past the depth bound. */
static int
jr_open(struct json_reader *r)
{
	if (r->depth >= r->max_depth)
		return jr_fail(r, JSON_FAULT_TOO_DEEP,
		    "nested deeper than %d levels", r->max_depth);
	r->depth++;
	r->first[r->depth] = true;
	r->pos++;
	return 0;
}

/* Consumes the '{' of an object. */
int
json_reader_object(struct json_reader *r)
{
	if (json_reader_peek(r) != JSON_KIND_OBJECT)
		return r->fault ? -1 : jr_expected(r, "an object");
	if (jr_open(r) == -1)
		return -1;
	r->object[r->depth] = ++r->objects;
	return 0;
}

/*
 * (Re)builds the hash index of every key read so far, at least four slots
 * a key, so probes stay short; it grows with the keys, not with the body.
 */
static int
jr_index_build(struct json_reader *r)
{
	size_t	 size = 64, i, k;
	uint32_t *index;

	while (size < 4 * r->nkeys)
		size *= 2;
	if ((index = calloc(size, sizeof *index)) == NULL)
		return jr_fail(r, JSON_FAULT_NO_MEMORY, "out of memory");
	free(r->index);
	r->index = index;
	r->index_mask = size - 1;
	for (k = 0; k < r->nkeys; k++) {
		for (i = r->keys[k].hash & r->index_mask; r->index[i] != 0;
		    i = (i + 1) & r->index_mask)
			;
		r->index[i] = (uint32_t)k + 1;
	}
	return 0;
}

/* Whether key k equals an earlier key of its object. */
static bool
jr_key_seen(const struct json_reader *r, const struct json_key *k)
{
	const struct json_key *o;
	size_t	i;

	if (r->index == NULL) {
		for (i = 0; i < r->nkeys; i++) {
			o = &r->keys[i];
			if (o->object == k->object && o->hash == k->hash &&
			    o->len == k->len && memcmp(o->s, k->s, k->len) == 0)
				return true;
		}
		return false;
	}
	for (i = k->hash & r->index_mask; r->index[i] != 0;
	    i = (i + 1) & r->index_mask) {
		o = &r->keys[r->index[i] - 1];
		if (o->object == k->object && o->hash == k->hash &&
		    o->len == k->len && memcmp(o->s, k->s, k->len) == 0)
			return true;
	}
	return false;
}

/* Records a key of the current object, refusing one read before. */
static int
jr_key_add(struct json_reader *r, const char *s, size_t len)
{
	struct json_key	 k, *nk;
	size_t		 i, cap;

	k.object = r->object[r->depth];
	k.hash = (uint32_t)strmap_hash(s, len);
	k.s = s;
	k.len = len;
	if (jr_key_seen(r, &k))
		return jr_fail(r, JSON_FAULT_DUPLICATE,
		    "the key \"%.40s\" appears twice in one object", s);
	if (r->nkeys == r->keys_cap) {
		/* Past the reader's own few slots, the keys move to the heap. */
		cap = r->keys_cap * 2;
		if ((nk = malloc(cap * sizeof *nk)) == NULL)
			return jr_fail(r, JSON_FAULT_NO_MEMORY,
			    "out of memory");
		memcpy(nk, r->keys, r->nkeys * sizeof *nk);
		if (r->keys != r->few)
			free(r->keys);
		r->keys = nk;
		r->keys_cap = cap;
	}
	r->keys[r->nkeys++] = k;
	if (r->nkeys <= JR_LINEAR_KEYS)
		return 0;
	if (r->index == NULL || 2 * r->nkeys > r->index_mask + 1)
		return jr_index_build(r);
	for (i = k.hash & r->index_mask; r->index[i] != 0;
	    i = (i + 1) & r->index_mask)
		;
	r->index[i] = (uint32_t)r->nkeys;
	return 0;
}

/* The next member of the current object, or its end. */
int
json_reader_member(struct json_reader *r, const char **key, size_t *len)
{
	if (r->fault != JSON_FAULT_NONE)
		return -1;
	jr_space(r);
	if (r->pos < r->len && r->s[r->pos] == '}') {
		r->pos++;
		r->depth--;
		return 0;
	}
	if (!r->first[r->depth]) {
		if (r->pos >= r->len || r->s[r->pos] != ',')
			return jr_expected(r, "',' or '}'");
		r->pos++;
		jr_space(r);
	}
	r->first[r->depth] = false;
	if (r->pos >= r->len || r->s[r->pos] != '"')
		return jr_expected(r, "a key (a string)");
	if (jr_read_string(r, true, key, len) == -1 ||
	    jr_key_add(r, *key, *len) == -1)
		return -1;
	jr_space(r);
	if (r->pos >= r->len || r->s[r->pos] != ':')
		return jr_expected(r, "':' after a key");
	r->pos++;
	return 1;
}

/* Reads the elements of an array whose '[' was consumed. */
static int
jr_array_rest(struct json_reader *r)
{
	for (;;) {
		jr_space(r);
		if (r->pos < r->len && r->s[r->pos] == ']') {
			r->pos++;
			r->depth--;
			return 0;
		}
		if (!r->first[r->depth]) {
			if (r->pos >= r->len || r->s[r->pos] != ',')
				return jr_expected(r, "',' or ']'");
			r->pos++;
		}
		r->first[r->depth] = false;
		if (json_reader_skip(r) == -1)
			return -1;
	}
}

/* Reads any value, checking it, and keeps nothing of it. */
int
json_reader_skip(struct json_reader *r)
{
	const char	*key;
	size_t		 len;
	int		 rc;

	switch (json_reader_peek(r)) {
	case JSON_KIND_NONE:
		return -1;
	case JSON_KIND_OBJECT:
		if (json_reader_object(r) == -1)
			return -1;
		/* Keys are decoded: "a" and "\u0061" are one key. */
		while ((rc = json_reader_member(r, &key, &len)) == 1) {
			if (json_reader_skip(r) == -1)
				return -1;
		}
		return rc;
	case JSON_KIND_ARRAY:
		if (jr_open(r) == -1)
			return -1;
		return jr_array_rest(r);
	case JSON_KIND_STRING:
		return jr_read_string(r, false, NULL, NULL);
	case JSON_KIND_NUMBER:
		return jr_number(r);
	case JSON_KIND_TRUE:
		return jr_literal(r, "true");
	case JSON_KIND_FALSE:
		return jr_literal(r, "false");
	case JSON_KIND_NULL:
		return jr_literal(r, "null");
	}
	return -1;
}

/* Refuses anything but whitespace after the document. */
int
json_reader_end(struct json_reader *r)
{
	if (r->fault != JSON_FAULT_NONE)
		return -1;
	jr_space(r);
	if (r->pos != r->len)
		return jr_expected(r, "the end of the body");
	return 0;
}
