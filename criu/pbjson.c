/* Protobuf <-> JSON by reflection: see include/pbjson.h for the form. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "pbjson: "
#include "log.h"
#include "pbjson.h"

#define MEMBER(msg, off)	((void *)((char *)(msg) + (off)))
#define CMEMBER(msg, off)	((const void *)((const char *)(msg) + (off)))

size_t pbjson_elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4;	/* the 32-bit integers, float, enum */
	}
}

static bool is_pointer_type(ProtobufCType type)
{
	return type == PROTOBUF_C_TYPE_STRING || type == PROTOBUF_C_TYPE_MESSAGE;
}

bool pbjson_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *p = CMEMBER(m, f->offset);

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)CMEMBER(m, f->quantifier_offset) != 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*(const uint32_t *)CMEMBER(m, f->quantifier_offset) != f->id)
			return false;
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_pointer_type(f->type)) {
		return *(const protobuf_c_boolean *)CMEMBER(m, f->quantifier_offset);
	}
	if (is_pointer_type(f->type)) {
		const void *ptr = *(const void * const *)p;

		return ptr && (f->label == PROTOBUF_C_LABEL_REQUIRED || ptr != f->default_value);
	}
	return true;
}

/* ---- printing ------------------------------------------------------------- */

static void print_hex(struct jbuf *jb, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char pair[2];
	size_t i;

	jbuf_putn(jb, "\"", 1);
	for (i = 0; i < len; i++) {
		pair[0] = digits[data[i] >> 4];
		pair[1] = digits[data[i] & 15];
		jbuf_putn(jb, pair, 2);
	}
	jbuf_putn(jb, "\"", 1);
}

/* The shortest %g text that reads back (through strtod) to the same value. */
static void print_real(struct jbuf *jb, double d, bool is_float)
{
	char tmp[40];
	int prec;

	if (isnan(d)) {
		jbuf_puts(jb, "\"nan\"");
		return;
	}
	if (isinf(d)) {
		jbuf_puts(jb, d < 0 ? "\"-inf\"" : "\"inf\"");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		double back;

		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		back = strtod(tmp, NULL);
		if (is_float ? (float)back == (float)d : back == d)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
	jbuf_puts(jb, tmp);
}

static void print_enum(struct jbuf *jb, const ProtobufCEnumDescriptor *ed, int32_t v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);

	if (ev)
		json_put_string(jb, ev->name, strlen(ev->name));
	else
		jbuf_printf(jb, "%d", v);
}

static void print_value(struct jbuf *jb, const ProtobufCFieldDescriptor *f, const void *p,
			unsigned int level)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		jbuf_printf(jb, "%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		jbuf_printf(jb, "%u", *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		jbuf_printf(jb, "%lld", (long long)*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		jbuf_printf(jb, "%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		print_real(jb, *(const float *)p, true);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		print_real(jb, *(const double *)p, false);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		jbuf_puts(jb, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		print_enum(jb, f->descriptor, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char * const *)p;

		json_put_string(jb, s ? s : "", s ? strlen(s) : 0);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = p;

		print_hex(jb, bd->data, bd->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		pbjson_print(jb, *(ProtobufCMessage * const *)p, level);
		break;
	}
}

/* Scalars on one line; messages one per line. */
static void print_array(struct jbuf *jb, const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *f, unsigned int level)
{
	size_t n = *(const size_t *)CMEMBER(m, f->quantifier_offset), i;
	const char *arr = *(char * const *)CMEMBER(m, f->offset);
	bool lines = f->type == PROTOBUF_C_TYPE_MESSAGE;

	jbuf_putn(jb, "[", 1);
	for (i = 0; i < n; i++) {
		if (i)
			jbuf_puts(jb, lines ? "," : ", ");
		if (lines)
			jbuf_indent(jb, level + 1);
		print_value(jb, f, arr + i * pbjson_elem_size(f->type), level + 1);
	}
	if (lines)
		jbuf_indent(jb, level);
	jbuf_putn(jb, "]", 1);
}

static void print_unknown(struct jbuf *jb, const ProtobufCMessage *m)
{
	size_t i;

	jbuf_puts(jb, "\"" PBJSON_UNKNOWN_KEY "\": [");
	for (i = 0; i < m->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &m->unknown_fields[i];

		jbuf_printf(jb, "%s{\"tag\": %u, \"wire_type\": %u, \"data\": ", i ? ", " : "",
			    u->tag, (unsigned int)u->wire_type);
		print_hex(jb, u->data, u->len);
		jbuf_putn(jb, "}", 1);
	}
	jbuf_putn(jb, "]", 1);
}

void pbjson_print(struct jbuf *jb, const ProtobufCMessage *msg, unsigned int level)
{
	const ProtobufCMessageDescriptor *d;
	bool first = true;
	unsigned int i;

	if (!msg) {			/* only a hand-built message can lack one */
		jbuf_puts(jb, "null");
		return;
	}
	d = msg->descriptor;
	jbuf_putn(jb, "{", 1);
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (!pbjson_field_present(msg, f))
			continue;
		if (!first)
			jbuf_putn(jb, ",", 1);
		first = false;
		jbuf_indent(jb, level + 1);
		json_put_string(jb, f->name, strlen(f->name));
		jbuf_puts(jb, ": ");
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			print_array(jb, msg, f, level + 1);
		else
			print_value(jb, f, CMEMBER(msg, f->offset), level + 1);
	}
	if (msg->n_unknown_fields) {
		if (!first)
			jbuf_putn(jb, ",", 1);
		first = false;
		jbuf_indent(jb, level + 1);
		print_unknown(jb, msg);
	}
	if (!first)
		jbuf_indent(jb, level);
	jbuf_putn(jb, "}", 1);
}

/* ---- freeing ---------------------------------------------------------------- */

static void free_value(const ProtobufCFieldDescriptor *f, void *p)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char *s = *(char **)p;

		if (s != f->default_value && s != protobuf_c_empty_string)
			free(s);
	} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
		const ProtobufCBinaryData *def = f->default_value;
		ProtobufCBinaryData *bd = p;

		if (!def || bd->data != def->data)
			free(bd->data);
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		pbjson_free(*(ProtobufCMessage **)p);
	}
}

/*
 * Like protobuf_c_message_free_unpacked, but also safe for a message that
 * pbjson_build left half built (required strings still pointing at the
 * shared empty string).
 */
void pbjson_free(ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d;
	unsigned int i;
	size_t j;

	if (!msg)
		return;
	d = msg->descriptor;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		void *p = MEMBER(msg, f->offset);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)MEMBER(msg, f->quantifier_offset);
			char *arr = *(char **)p;

			for (j = 0; arr && j < n; j++)
				free_value(f, arr + j * pbjson_elem_size(f->type));
			free(arr);
		} else if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
			   *(uint32_t *)MEMBER(msg, f->quantifier_offset) == f->id) {
			free_value(f, p);
		}
	}
	for (j = 0; j < msg->n_unknown_fields; j++)
		free(msg->unknown_fields[j].data);
	free(msg->unknown_fields);
	free(msg);
}

/* ---- building ----------------------------------------------------------------- */

struct bctx {
	const char *src;
	const ProtobufCMessageDescriptor *msg;
	const ProtobufCFieldDescriptor *field;
};

/* Log "src:line:col: message.field: what"; returns -1. */
static int __attribute__((format(printf, 3, 4)))
berr(const struct bctx *c, const struct json_value *v, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pr_err("%s:%u:%u: %s%s%s: %s", c->src, v->line, v->col, c->msg->name,
	       c->field ? "." : "", c->field ? c->field->name : "", what);
	return -1;
}

static int get_hex(const struct bctx *c, const struct json_value *v, uint8_t **data, size_t *len)
{
	size_t i;

	if (v->type != JSON_STRING || v->len % 2)
		return berr(c, v, "expected a string of hex digit pairs");
	*len = v->len / 2;
	*data = NULL;
	if (!*len)
		return 0;
	*data = malloc(*len);
	if (!*data) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < *len; i++) {
		int hi = json_hex_digit(v->str[2 * i]), lo = json_hex_digit(v->str[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(*data);
			*data = NULL;
			return berr(c, v, "bad hex digit at byte %zu", i);
		}
		(*data)[i] = hi << 4 | lo;
	}
	return 0;
}

static int get_real(const struct bctx *c, const struct json_value *v, bool is_float, double *d)
{
	if (v->type == JSON_STRING) {
		if (!strcmp(v->str, "nan"))
			*d = NAN;
		else if (!strcmp(v->str, "inf") || !strcmp(v->str, "-inf"))
			*d = v->str[0] == '-' ? -INFINITY : INFINITY;
		else
			return berr(c, v, "expected a number, \"nan\", \"inf\" or \"-inf\"");
		return 0;
	}
	if (json_get_double(v, d))
		return berr(c, v, "expected a finite number");
	if (is_float && isinf((float)*d))
		return berr(c, v, "%s is out of the float range", v->str);
	return 0;
}

static int get_int(const struct bctx *c, const struct json_value *v, int64_t min, int64_t max,
		   int64_t *out)
{
	if (json_get_i64(v, min, max, out))
		return berr(c, v, "expected an integer from %lld to %lld", (long long)min,
			    (long long)max);
	return 0;
}

static int get_uint(const struct bctx *c, const struct json_value *v, uint64_t max, uint64_t *out)
{
	if (json_get_u64(v, max, out))
		return berr(c, v, "expected an integer from 0 to %llu", (unsigned long long)max);
	return 0;
}

static int get_enum(const struct bctx *c, const struct json_value *v, int32_t *out)
{
	const ProtobufCEnumDescriptor *ed = c->field->descriptor;
	const ProtobufCEnumValue *ev;
	int64_t i;

	if (v->type == JSON_NUMBER) {
		if (get_int(c, v, INT32_MIN, INT32_MAX, &i))
			return -1;
		*out = i;
		return 0;
	}
	if (v->type != JSON_STRING)
		return berr(c, v, "expected a %s value name", ed->name);
	ev = protobuf_c_enum_descriptor_get_value_by_name(ed, v->str);
	if (!ev)
		return berr(c, v, "\"%s\" is not a %s value", v->str, ed->name);
	*out = ev->value;
	return 0;
}

static int get_string(const struct bctx *c, const struct json_value *v, char **out)
{
	if (v->type != JSON_STRING)
		return berr(c, v, "expected a string, not %s", json_type_name(v->type));
	if (strlen(v->str) != v->len)
		return berr(c, v, "a protobuf string cannot hold a NUL character");
	*out = strdup(v->str);
	if (!*out) {
		pr_err("out of memory");
		return -1;
	}
	return 0;
}

static ProtobufCMessage *build(const ProtobufCMessageDescriptor *desc,
			       const struct json_value *obj, const char *src);

/* Store the JSON value @v into the C slot @p of field c->field. */
static int set_value(const struct bctx *c, const struct json_value *v, void *p)
{
	const ProtobufCFieldDescriptor *f = c->field;
	int64_t i;
	uint64_t u;
	double d;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return get_int(c, v, INT32_MIN, INT32_MAX, &i) ?: (*(int32_t *)p = i, 0);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return get_uint(c, v, UINT32_MAX, &u) ?: (*(uint32_t *)p = u, 0);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return get_int(c, v, INT64_MIN, INT64_MAX, (int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return get_uint(c, v, UINT64_MAX, (uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return get_real(c, v, true, &d) ?: (*(float *)p = d, 0);
	case PROTOBUF_C_TYPE_DOUBLE:
		return get_real(c, v, false, (double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		if (v->type != JSON_TRUE && v->type != JSON_FALSE)
			return berr(c, v, "expected true or false, not %s", json_type_name(v->type));
		*(protobuf_c_boolean *)p = v->type == JSON_TRUE;
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		return get_enum(c, v, (int32_t *)p);
	case PROTOBUF_C_TYPE_STRING:
		return get_string(c, v, (char **)p);
	case PROTOBUF_C_TYPE_BYTES:
		return get_hex(c, v, &((ProtobufCBinaryData *)p)->data, &((ProtobufCBinaryData *)p)->len);
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)p = build(f->descriptor, v, c->src);
		return *(ProtobufCMessage **)p ? 0 : -1;
	}
	return berr(c, v, "field type %d is not supported", f->type);
}

void *pbjson_repeated_alloc(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t n)
{
	char *arr = calloc(n, pbjson_elem_size(f->type));

	if (!arr) {
		pr_err("out of memory");
		return NULL;
	}
	/* Owned by the message from here on, so pbjson_free releases it. */
	*(char **)MEMBER(m, f->offset) = arr;
	*(size_t *)MEMBER(m, f->quantifier_offset) = n;
	return arr;
}

void *pbjson_single_slot(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = MEMBER(m, f->quantifier_offset);

		if (*which)
			return NULL;
		/* Set the case first: pbjson_free then knows what the union holds. */
		*which = f->id;
		memset(MEMBER(m, f->offset), 0, pbjson_elem_size(f->type));
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset) {
		*(protobuf_c_boolean *)MEMBER(m, f->quantifier_offset) = 1;
	}
	return MEMBER(m, f->offset);
}

static int set_repeated(const struct bctx *c, ProtobufCMessage *m, const struct json_value *v)
{
	const ProtobufCFieldDescriptor *f = c->field;
	size_t size = pbjson_elem_size(f->type), i;
	char *arr;

	if (v->type != JSON_ARRAY)
		return berr(c, v, "expected an array, not %s", json_type_name(v->type));
	if (!v->len)
		return 0;
	arr = pbjson_repeated_alloc(m, f, v->len);
	if (!arr)
		return -1;
	for (i = 0; i < v->len; i++) {
		if (set_value(c, &v->items[i], arr + i * size))
			return -1;
	}
	return 0;
}

static int set_field(const struct bctx *c, ProtobufCMessage *m, const struct json_value *v)
{
	void *slot;

	if (c->field->label == PROTOBUF_C_LABEL_REPEATED)
		return set_repeated(c, m, v);
	slot = pbjson_single_slot(m, c->field);
	if (!slot)
		return berr(c, v, "another field of the same oneof is already set");
	return set_value(c, v, slot);
}

/* A varint of exactly @len bytes at @p; returns its value in *v. */
static bool varint_ok(const uint8_t *p, size_t len, uint64_t *v)
{
	size_t i;

	*v = 0;
	if (!len || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80) != (i == len - 1))
			return false;
	}
	return true;
}

bool pbjson_wire_value_ok(unsigned int wire, const uint8_t *data, size_t len)
{
	uint64_t v;
	size_t pre;

	switch (wire) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		return varint_ok(data, len, &v);
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		return len == 8;
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		return len == 4;
	case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
		for (pre = 1; pre <= 10 && pre <= len; pre++) {
			if (varint_ok(data, pre, &v))
				return v == len - pre;
		}
		return false;
	}
	return false;
}

static int set_one_unknown(const struct bctx *c, ProtobufCMessageUnknownField *u,
			   const struct json_value *v)
{
	const struct json_value *tag = json_get(v, "tag"), *wire = json_get(v, "wire_type");
	const struct json_value *data = json_get(v, "data");
	uint64_t t, w;

	if (v->type != JSON_OBJECT || !tag || !wire || !data || v->len != 3)
		return berr(c, v, "expected {\"tag\", \"wire_type\", \"data\"}");
	if (get_uint(c, tag, (1u << 29) - 1, &t) || get_uint(c, wire, 5, &w) ||
	    get_hex(c, data, &u->data, &u->len))
		return -1;
	if (!t)
		return berr(c, tag, "tag 0 is not valid");
	if (protobuf_c_message_descriptor_get_field(c->msg, t))
		return berr(c, tag, "tag %llu is a known field", (unsigned long long)t);
	u->tag = t;
	u->wire_type = w;
	if (!pbjson_wire_value_ok(w, u->data, u->len))
		return berr(c, data, "data is not one value of wire type %llu", (unsigned long long)w);
	return 0;
}

static int set_unknown(const struct bctx *c, ProtobufCMessage *m, const struct json_value *v)
{
	size_t i;

	if (v->type != JSON_ARRAY || !v->len)
		return berr(c, v, "expected a non-empty array");
	m->unknown_fields = calloc(v->len, sizeof(*m->unknown_fields));
	if (!m->unknown_fields) {
		pr_err("out of memory");
		return -1;
	}
	m->n_unknown_fields = v->len;
	for (i = 0; i < v->len; i++) {
		if (set_one_unknown(c, &m->unknown_fields[i], &v->items[i]))
			return -1;
	}
	return 0;
}

static int check_required(const struct bctx *c, const struct json_value *obj)
{
	unsigned int i;

	for (i = 0; i < c->msg->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &c->msg->fields[i];

		if (f->label == PROTOBUF_C_LABEL_REQUIRED && !json_get(obj, f->name))
			return berr(c, obj, "required field \"%s\" is missing", f->name);
	}
	return 0;
}

static int fill(struct bctx *c, ProtobufCMessage *m, const struct json_value *obj)
{
	size_t i;

	if (obj->type != JSON_OBJECT)
		return berr(c, obj, "expected an object, not %s", json_type_name(obj->type));
	for (i = 0; i < obj->len; i++) {
		const struct json_member *jm = &obj->members[i];

		c->field = NULL;
		if (!strcmp(jm->key, PBJSON_UNKNOWN_KEY)) {
			if (set_unknown(c, m, &jm->value))
				return -1;
			continue;
		}
		c->field = protobuf_c_message_descriptor_get_field_by_name(c->msg, jm->key);
		if (!c->field || strlen(jm->key) != jm->key_len)
			return berr(c, &jm->value, "no field \"%s\"", jm->key);
		if (set_field(c, m, &jm->value))
			return -1;
	}
	c->field = NULL;
	return check_required(c, obj);
}

static ProtobufCMessage *build(const ProtobufCMessageDescriptor *desc,
			       const struct json_value *obj, const char *src)
{
	struct bctx c = { .src = src ? src : "json", .msg = desc };
	ProtobufCMessage *m = malloc(desc->sizeof_message);

	if (!m) {
		pr_err("out of memory");
		return NULL;
	}
	protobuf_c_message_init(desc, m);
	if (fill(&c, m, obj)) {
		pbjson_free(m);
		return NULL;
	}
	if (!protobuf_c_message_check(m)) {
		berr(&c, obj, "the message is incomplete");
		pbjson_free(m);
		return NULL;
	}
	return m;
}

ProtobufCMessage *pbjson_build(const ProtobufCMessageDescriptor *desc,
			       const struct json_value *obj, const char *src)
{
	return build(desc, obj, src);
}
