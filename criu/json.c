/* A strict JSON reader and a text builder: see include/json.h for the rules. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "json: "
#include "json.h"
#include "log.h"

#define JSON_MAX_MEMBERS	4096	/* keys of one object: keeps duplicate checks cheap */

struct jparser {
	const char *p, *end;
	const char *line_start;
	unsigned int line;
	unsigned int nodes;
	const char *name;
	struct json_error *err;
};

static int parse_value(struct jparser *ps, struct json_value *v, unsigned int depth);

/* Log the (first and only) error at @at and copy it to ps->err; returns -1. */
static int __attribute__((format(printf, 3, 4)))
perr(struct jparser *ps, const char *at, const char *fmt, ...)
{
	unsigned int col = at - ps->line_start + 1;
	char msg[sizeof(ps->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s:%u:%u: %s", ps->name, ps->line, col, msg);
	if (ps->err) {
		ps->err->line = ps->line;
		ps->err->col = col;
		memcpy(ps->err->msg, msg, sizeof(msg));
	}
	return -1;
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | ((cp >> 6) & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | ((cp >> 12) & 0x3f);
	out[2] = 0x80 | ((cp >> 6) & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

static void skip_ws(struct jparser *ps)
{
	while (ps->p < ps->end) {
		char c = *ps->p;

		if (c == '\n') {
			ps->line++;
			ps->line_start = ps->p + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
		ps->p++;
	}
}

int json_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at @s (inside [s, end)), or -1. */
static int32_t hex4(const char *s, const char *end)
{
	int32_t v = 0;
	int i;

	if (end - s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		int d = json_hex_digit(s[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* A \u escape at ps->p (just after the backslash-u); writes the bytes to @out. */
static int unicode_escape(struct jparser *ps, char **out)
{
	const char *at = ps->p - 2;
	int32_t cp = hex4(ps->p, ps->end), lo;

	if (cp < 0)
		return perr(ps, at, "bad \\u escape: four hex digits expected");
	ps->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		if (cp < 0xdc80 || cp > 0xdcff)
			return perr(ps, at, "unpaired low surrogate \\u%04x", cp);
		*(*out)++ = cp & 0xff;		/* a raw byte, see json.h */
		return 0;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
		    (lo = hex4(ps->p + 2, ps->end)) < 0xdc00 || lo > 0xdfff)
			return perr(ps, at, "high surrogate \\u%04x without a low one", cp);
		ps->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*out += utf8_put(*out, cp);
	return 0;
}

static int simple_escape(struct jparser *ps, char **out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit = ps->p < ps->end && *ps->p ? strchr(from, *ps->p) : NULL;

	if (!hit)
		return perr(ps, ps->p - 1, "unknown escape");
	*(*out)++ = to[hit - from];
	ps->p++;
	return 0;
}

/* The escape at ps->p (a backslash, never the string's last byte). */
static int parse_escape(struct jparser *ps, char **out)
{
	ps->p++;
	if (*ps->p == 'u') {
		ps->p++;
		return unicode_escape(ps, out);
	}
	return simple_escape(ps, out);
}

/* Find the closing quote of the string starting at ps->p (the opening quote). */
static const char *string_end(struct jparser *ps)
{
	const char *s;

	for (s = ps->p + 1; s < ps->end; s++) {
		if (*s == '\\')
			s++;
		else if (*s == '"')
			return s;
	}
	perr(ps, ps->p, "unterminated string");
	return NULL;
}

static int parse_string(struct jparser *ps, char **str, size_t *len)
{
	const char *close = string_end(ps);
	char *buf, *out;

	if (!close)
		return -1;
	/* Decoding never makes a string longer. */
	buf = out = malloc(close - ps->p);
	if (!buf) {
		pr_err("out of memory");
		return -1;
	}
	*str = buf;
	*len = 0;
	ps->p++;
	while (ps->p < close) {
		unsigned char c = *ps->p;
		size_t n;

		if (c == '\\') {
			if (parse_escape(ps, &out))
				return -1;
			continue;
		}
		if (c < 0x20)
			return perr(ps, ps->p, "control character 0x%02x in a string", c);
		n = utf8_seq((const unsigned char *)ps->p, close - ps->p);
		if (!n)
			return perr(ps, ps->p, "invalid UTF-8 in a string");
		memcpy(out, ps->p, n);
		out += n;
		ps->p += n;
	}
	ps->p++;
	*out = '\0';
	*len = out - buf;
	return 0;
}

static int parse_number(struct jparser *ps, struct json_value *v)
{
	const char *s = ps->p, *e = ps->end;

	if (s < e && *s == '-')
		s++;
	if (s >= e || *s < '0' || *s > '9')
		return perr(ps, ps->p, "bad number");
	if (*s == '0' && s + 1 < e && s[1] >= '0' && s[1] <= '9')
		return perr(ps, ps->p, "number with a leading zero");
	while (s < e && *s >= '0' && *s <= '9')
		s++;
	if (s < e && *s == '.') {
		if (++s >= e || *s < '0' || *s > '9')
			return perr(ps, s, "digit expected after '.'");
		while (s < e && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		if (++s < e && (*s == '+' || *s == '-'))
			s++;
		if (s >= e || *s < '0' || *s > '9')
			return perr(ps, s, "digit expected in the exponent");
		while (s < e && *s >= '0' && *s <= '9')
			s++;
	}
	if (s - ps->p > JSON_MAX_NUMBER)
		return perr(ps, ps->p, "number longer than %d characters", JSON_MAX_NUMBER);
	v->str = strndup(ps->p, s - ps->p);
	if (!v->str) {
		pr_err("out of memory");
		return -1;
	}
	v->type = JSON_NUMBER;
	v->len = s - ps->p;
	ps->p = s;
	return 0;
}

static int parse_literal(struct jparser *ps, struct json_value *v)
{
	static const struct { const char *word; enum json_type type; } lits[] = {
		{ "true", JSON_TRUE }, { "false", JSON_FALSE }, { "null", JSON_NULL },
	};
	unsigned int i;

	for (i = 0; i < 3; i++) {
		size_t n = strlen(lits[i].word);

		if ((size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, lits[i].word, n)) {
			v->type = lits[i].type;
			ps->p += n;
			return 0;
		}
	}
	return perr(ps, ps->p, "unexpected character '%c'", *ps->p);
}

/*
 * Make room for element @n of @size bytes in @arr, whose capacity is the
 * next power of two >= max(n, 4). Returns the (moved) array or NULL.
 */
static void *grow(void *arr, size_t n, size_t size)
{
	void *p;

	if (n && (n < 4 || (n & (n - 1))))
		return arr;
	p = realloc(arr, (n ? n * 2 : 4) * size);
	if (!p)
		pr_err("out of memory");
	return p;
}

static int parse_array(struct jparser *ps, struct json_value *v, unsigned int depth)
{
	v->type = JSON_ARRAY;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return 0;
	}
	for (;;) {
		struct json_value *items = grow(v->items, v->len, sizeof(*items));

		if (!items)
			return -1;
		v->items = items;
		memset(&items[v->len], 0, sizeof(*items));
		if (parse_value(ps, &items[v->len++], depth + 1))
			return -1;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return 0;
		}
		return perr(ps, ps->p, "',' or ']' expected");
	}
}

static int parse_key(struct jparser *ps, struct json_value *obj, struct json_member *m)
{
	const char *at = ps->p;
	size_t i;

	if (ps->p >= ps->end || *ps->p != '"')
		return perr(ps, ps->p, "string key expected");
	if (parse_string(ps, &m->key, &m->key_len))
		return -1;
	for (i = 0; i + 1 < obj->len; i++) {
		if (obj->members[i].key_len == m->key_len &&
		    !memcmp(obj->members[i].key, m->key, m->key_len))
			return perr(ps, at, "duplicate key \"%s\"", m->key);
	}
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != ':')
		return perr(ps, ps->p, "':' expected");
	ps->p++;
	return 0;
}

static int parse_object(struct jparser *ps, struct json_value *v, unsigned int depth)
{
	v->type = JSON_OBJECT;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		struct json_member *m = grow(v->members, v->len, sizeof(*m));

		if (!m)
			return -1;
		v->members = m;
		if (v->len >= JSON_MAX_MEMBERS)
			return perr(ps, ps->p, "more than %d keys in an object", JSON_MAX_MEMBERS);
		m = memset(&m[v->len++], 0, sizeof(*m));
		if (parse_key(ps, v, m) || parse_value(ps, &m->value, depth + 1))
			return -1;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_ws(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return 0;
		}
		return perr(ps, ps->p, "',' or '}' expected");
	}
}

/* On error *v is left in a state json_free can release. */
static int parse_value(struct jparser *ps, struct json_value *v, unsigned int depth)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return perr(ps, ps->p, "unexpected end of input");
	v->line = ps->line;
	v->col = ps->p - ps->line_start + 1;
	if (++ps->nodes > JSON_MAX_NODES)
		return perr(ps, ps->p, "more than %u values", JSON_MAX_NODES);
	switch (*ps->p) {
	case '{':
	case '[':
		if (depth >= JSON_MAX_DEPTH)
			return perr(ps, ps->p, "nested deeper than %d levels", JSON_MAX_DEPTH);
		return *ps->p == '{' ? parse_object(ps, v, depth) : parse_array(ps, v, depth);
	case '"':
		v->type = JSON_STRING;
		return parse_string(ps, &v->str, &v->len);
	case '-':
	case '0' ... '9':
		return parse_number(ps, v);
	default:
		if ((unsigned char)*ps->p < 0x20 || (unsigned char)*ps->p >= 0x7f)
			return perr(ps, ps->p, "unexpected byte 0x%02x", (unsigned char)*ps->p);
		return parse_literal(ps, v);
	}
}

struct json_value *json_parse(const char *text, size_t len, const char *name,
			      struct json_error *err)
{
	struct jparser ps = {
		.p = text, .end = text + len, .line_start = text, .line = 1,
		.name = name ? name : "json", .err = err,
	};
	struct json_value *v = calloc(1, sizeof(*v));

	if (!v) {
		pr_err("out of memory");
		return NULL;
	}
	if (parse_value(&ps, v, 0))
		goto err;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		perr(&ps, ps.p, "trailing characters after the document");
		goto err;
	}
	return v;
err:
	json_free(v);
	return NULL;
}

static void free_contents(struct json_value *v)
{
	size_t i;

	switch (v->type) {
	case JSON_STRING:
	case JSON_NUMBER:
		free(v->str);
		break;
	case JSON_ARRAY:
		for (i = 0; i < v->len; i++)
			free_contents(&v->items[i]);
		free(v->items);
		break;
	case JSON_OBJECT:
		for (i = 0; i < v->len; i++) {
			free(v->members[i].key);
			free_contents(&v->members[i].value);
		}
		free(v->members);
		break;
	default:
		break;
	}
}

void json_free(struct json_value *v)
{
	if (!v)
		return;
	free_contents(v);
	free(v);
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->len; i++) {
		if (!strcmp(obj->members[i].key, key) && strlen(key) == obj->members[i].key_len)
			return &obj->members[i].value;
	}
	return NULL;
}

/* Digits of an integer NUMBER (no fraction, no exponent) into @mag, exactly. */
static int integer_magnitude(const char *s, uint64_t *mag)
{
	uint64_t m = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (m > (UINT64_MAX - (*s - '0')) / 10)
			return -1;
		m = m * 10 + (*s - '0');
	}
	*mag = m;
	return 0;
}

int json_get_u64(const struct json_value *v, uint64_t max, uint64_t *out)
{
	uint64_t m;

	if (v->type != JSON_NUMBER || v->str[0] == '-' || integer_magnitude(v->str, &m) || m > max)
		return -1;
	*out = m;
	return 0;
}

int json_get_i64(const struct json_value *v, int64_t min, int64_t max, int64_t *out)
{
	bool neg;
	uint64_t m;
	int64_t r;

	if (v->type != JSON_NUMBER)
		return -1;
	neg = v->str[0] == '-';
	if (integer_magnitude(v->str + neg, &m))
		return -1;
	if (neg) {
		if (m > (uint64_t)INT64_MAX + 1)
			return -1;
		r = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
	} else {
		if (m > INT64_MAX)
			return -1;
		r = m;
	}
	if (r < min || r > max)
		return -1;
	*out = r;
	return 0;
}

int json_get_double(const struct json_value *v, double *out)
{
	char *end;
	double d;

	if (v->type != JSON_NUMBER)
		return -1;
	errno = 0;
	d = strtod(v->str, &end);
	if (*end || isinf(d) || isnan(d))
		return -1;
	*out = d;
	return 0;
}

const char *json_type_name(enum json_type t)
{
	static const char *names[] = {
		[JSON_NULL] = "null", [JSON_FALSE] = "false", [JSON_TRUE] = "true",
		[JSON_NUMBER] = "a number", [JSON_STRING] = "a string",
		[JSON_ARRAY] = "an array", [JSON_OBJECT] = "an object",
	};

	return (unsigned int)t <= JSON_OBJECT ? names[t] : "?";
}

/* ---- writing ---------------------------------------------------------- */

void jbuf_init(struct jbuf *jb)
{
	memset(jb, 0, sizeof(*jb));
}

void jbuf_free(struct jbuf *jb)
{
	free(jb->buf);
	jbuf_init(jb);
}

void jbuf_putn(struct jbuf *jb, const char *s, size_t n)
{
	if (jb->oom)
		return;
	if (jb->len + n + 1 > jb->cap) {
		size_t cap = jb->cap ? jb->cap : 256;
		char *p;

		while (cap < jb->len + n + 1)
			cap *= 2;
		p = realloc(jb->buf, cap);
		if (!p) {
			pr_err("out of memory");
			jb->oom = true;
			return;
		}
		jb->buf = p;
		jb->cap = cap;
	}
	if (n)			/* @s may be NULL then */
		memcpy(jb->buf + jb->len, s, n);
	jb->len += n;
	jb->buf[jb->len] = '\0';
}

void jbuf_puts(struct jbuf *jb, const char *s)
{
	jbuf_putn(jb, s, strlen(s));
}

void jbuf_printf(struct jbuf *jb, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		pr_err("formatted text too long");
		jb->oom = true;
		return;
	}
	jbuf_putn(jb, tmp, n);
}

void jbuf_indent(struct jbuf *jb, unsigned int level)
{
	static const char spaces[] = "                                ";

	jbuf_putn(jb, "\n", 1);
	for (level *= 2; level; level -= min(level, (unsigned int)sizeof(spaces) - 1))
		jbuf_putn(jb, spaces, min(level, (unsigned int)sizeof(spaces) - 1));
}

const char *json_short_escape(unsigned char c)
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	case '\b': return "\\b";
	case '\f': return "\\f";
	}
	return NULL;
}

void json_put_string(struct jbuf *jb, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	jbuf_putn(jb, "\"", 1);
	while (i < len) {
		const char *esc = json_short_escape(u[i]);

		if (esc) {
			jbuf_puts(jb, esc);
			i++;
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			jbuf_printf(jb, "\\u%04x", u[i++]);
		} else if ((n = utf8_seq(u + i, len - i))) {
			jbuf_putn(jb, s + i, n);
			i += n;
		} else {
			jbuf_printf(jb, "\\udc%02x", u[i++]);	/* raw byte */
		}
	}
	jbuf_putn(jb, "\"", 1);
}
