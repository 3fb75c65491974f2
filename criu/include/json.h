/*
 * A small, strict JSON reader and a JSON text builder.
 *
 * Reading: json_parse() turns one complete document (RFC 8259; nothing but
 * whitespace may follow it) into a tree of struct json_value. It is strict:
 * no comments, no trailing commas, no duplicate object keys, no raw control
 * characters or invalid UTF-8 inside strings, no leading zeros. Limits keep
 * hostile input cheap: nesting depth JSON_MAX_DEPTH, number text
 * JSON_MAX_NUMBER chars, and JSON_MAX_NODES values per document. Errors are
 * logged once as "NAME:LINE:COL: what" and, if @err is given, copied there.
 *
 * Numbers are kept as their text, so the caller converts them with the type
 * it needs: json_get_i64/json_get_u64 are exact (integers only, no fraction
 * or exponent) and range checked; json_get_double goes through strtod.
 *
 * Strings are decoded to bytes. Besides standard escapes, a lone low
 * surrogate escape \udc80..\udcff stands for the single raw byte 0x80..0xff:
 * this is how `criu show` prints bytes that are not valid UTF-8, so that
 * such strings survive a round trip. Valid UTF-8 never encodes surrogates,
 * so the form is unambiguous. Other lone surrogates are rejected.
 *
 * Writing: struct jbuf is a growable text buffer; json_put_string() appends a
 * quoted, escaped string (the inverse of the rule above).
 */
#ifndef CRIU_JSON_H
#define CRIU_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH		64
#define JSON_MAX_NUMBER		64		/* characters of one number */
#define JSON_MAX_NODES		(4u << 20)	/* values in one document */
#define JSON_MAX_DOC		(64u << 20)	/* bytes a caller should read */

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_member;

struct json_value {
	enum json_type type;
	unsigned int line, col;		/* where the value starts, 1-based */
	size_t len;			/* bytes of str, or items/members */
	union {
		char *str;		/* STRING (decoded) and NUMBER (text); NUL-terminated */
		struct json_value *items;
		struct json_member *members;
	};
};

struct json_member {
	char *key;			/* decoded, NUL-terminated */
	size_t key_len;
	struct json_value value;
};

struct json_error {
	unsigned int line, col;
	char msg[128];
};

/* Parse @len bytes of @text. @name labels messages. NULL on error. */
struct json_value *json_parse(const char *text, size_t len, const char *name,
			      struct json_error *err);
void json_free(struct json_value *v);

/* Member @key of object @obj, or NULL. */
const struct json_value *json_get(const struct json_value *obj, const char *key);

/* Exact conversions of a NUMBER; -1 (not logged) if not an integer in range. */
int json_get_i64(const struct json_value *v, int64_t min, int64_t max, int64_t *out);
int json_get_u64(const struct json_value *v, uint64_t max, uint64_t *out);
int json_get_double(const struct json_value *v, double *out);

const char *json_type_name(enum json_type t);

/* The value of hex digit @c, or -1. */
int json_hex_digit(char c);

/* ---- writing ---------------------------------------------------------- */

struct jbuf {
	char *buf;
	size_t len, cap;
	bool oom;			/* an append failed; the text is incomplete */
};

void jbuf_init(struct jbuf *jb);
void jbuf_free(struct jbuf *jb);
void jbuf_putn(struct jbuf *jb, const char *s, size_t n);
void jbuf_puts(struct jbuf *jb, const char *s);
void jbuf_printf(struct jbuf *jb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jbuf_indent(struct jbuf *jb, unsigned int level);
/* The two-character escape of @c ("\\n", "\\\"", ...), or NULL if it has none. */
const char *json_short_escape(unsigned char c);
/* Quoted JSON string of @len bytes, see the escaping rule above. */
void json_put_string(struct jbuf *jb, const char *s, size_t len);

#endif /* CRIU_JSON_H */
