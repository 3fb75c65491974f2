/*
 * The JSON reader (criu/json.c) and the reflection printer/builder
 * (criu/pbjson.c). The builder is also run against a hand-made descriptor
 * holding every protobuf type, label and a oneof, since the image protos
 * only use a few of them.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.pb-c.h"
#include "json.h"
#include "log.h"
#include "pbjson.h"
#include "unit.h"

static struct json_value *parse(const char *text)
{
	log_set_level(LOG_NONE);
	return json_parse(text, strlen(text), "t", NULL);
}

/* ---- the reader ------------------------------------------------------------- */

static int test_valid(void)
{
	struct json_value *v = parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\", {}, []],\n"
				     "\"b\": {\"c\": 0}, \"\": -0} \n\t");
	const struct json_value *a, *c;

	CHECK(v && v->type == JSON_OBJECT && v->len == 3);
	a = json_get(v, "a");
	CHECK(a && a->type == JSON_ARRAY && a->len == 8);
	CHECK(a->items[0].type == JSON_NUMBER && !strcmp(a->items[0].str, "1"));
	CHECK(!strcmp(a->items[1].str, "-2.5e3"));
	CHECK(a->items[2].type == JSON_TRUE && a->items[3].type == JSON_FALSE);
	CHECK(a->items[4].type == JSON_NULL && a->items[5].type == JSON_STRING);
	CHECK(a->items[6].type == JSON_OBJECT && a->items[6].len == 0);
	CHECK(a->items[7].type == JSON_ARRAY && a->items[7].len == 0);
	c = json_get(json_get(v, "b"), "c");
	CHECK(c && c->line == 2 && c->col == 12);
	CHECK(json_get(v, "") && !json_get(v, "z"));
	json_free(v);
	v = parse("\"top\"");
	CHECK(v && v->type == JSON_STRING && !strcmp(v->str, "top"));
	json_free(v);
	return 0;
}

static const struct bad_doc {
	const char *text;
	unsigned int line, col;
} bad_docs[] = {
	{ "", 1, 1 }, { "  \n ", 2, 2 }, { "[1,]", 1, 4 }, { "{\"a\":1,}", 1, 8 },
	{ "[1 2]", 1, 4 }, { "01", 1, 1 }, { "1.", 1, 3 }, { "-", 1, 1 }, { "1e", 1, 3 },
	{ "+1", 1, 1 }, { ".5", 1, 1 }, { "tru", 1, 1 }, { "nul", 1, 1 }, { "NaN", 1, 1 },
	{ "Infinity", 1, 1 }, { "\"abc", 1, 1 }, { "\"\\x\"", 1, 2 }, { "\"a\x01\"", 1, 3 },
	{ "{\"a\":1,\"a\":2}", 1, 8 }, { "[1] x", 1, 5 }, { "{1:2}", 1, 2 }, { "{\"a\" 1}", 1, 6 },
	{ "\"\xc3\x28\"", 1, 2 }, { "\"\xc0\xaf\"", 1, 2 }, { "\"\xed\xa0\x80\"", 1, 2 },
	{ "\"\xf4\x90\x80\x80\"", 1, 2 }, { "\"\\ud800\"", 1, 2 }, { "\"\\udc00\"", 1, 2 },
	{ "\"\\ud800\\u0041\"", 1, 2 }, { "\"\\u12\"", 1, 2 }, { "[\"a\"\n,\n  tru]", 3, 3 },
	{ "{\"a\": [1, 2}", 1, 12 }, { "[1]]", 1, 4 }, { "\xef\xbb\xbf{}", 1, 1 },
	{ "[1e5, 12345678901234567890123456789012345678901234567890123456789012345]", 1, 7 },
	{ "'a'", 1, 1 }, { "[1,\n// c\n2]", 2, 1 },
};

static int test_invalid(void)
{
	struct json_error err;
	struct json_value *v;
	unsigned int i;

	log_set_level(LOG_NONE);
	for (i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		const struct bad_doc *b = &bad_docs[i];

		v = json_parse(b->text, strlen(b->text), "t", &err);
		if (v || err.line != b->line || err.col != b->col) {
			snprintf(unit_why, sizeof(unit_why), "doc %u \"%s\": %s at %u:%u (%s)", i,
				 b->text, v ? "accepted" : "rejected", err.line, err.col, err.msg);
			json_free(v);
			return -1;
		}
	}
	/* NUL bytes and the length limit are honoured. */
	CHECK(json_parse("[1]\0", 4, "t", &err) == NULL);
	v = json_parse("[1]x", 3, "t", &err);
	CHECK(v != NULL);
	json_free(v);
	return 0;
}

static int test_error_position(void)
{
	struct json_error err;
	struct json_value *v;

	log_set_level(LOG_NONE);
	v = json_parse("{\n  \"a\": tru\n}", 13, "doc.json", &err);
	CHECK(v == NULL);
	CHECK(err.line == 2 && err.col == 8);
	CHECK(strstr(err.msg, "unexpected character 't'"));
	return 0;
}

static char *nested(unsigned int depth)
{
	char *s = malloc(2 * depth + 1);
	unsigned int i;

	for (i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth + i] = ']';
	}
	s[2 * depth] = '\0';
	return s;
}

static int test_depth(void)
{
	char *s = nested(JSON_MAX_DEPTH);
	struct json_value *v = parse(s);
	struct json_error err;

	free(s);
	CHECK(v != NULL);
	json_free(v);
	s = nested(JSON_MAX_DEPTH + 1);
	v = json_parse(s, strlen(s), "t", &err);
	free(s);
	CHECK(v == NULL && err.col == JSON_MAX_DEPTH + 1);
	/* A million open brackets: refused at the limit, no stack blowup. */
	s = nested(1000000);
	v = parse(s);
	free(s);
	CHECK(v == NULL);
	return 0;
}

static int test_escapes(void)
{
	static const char want[] = "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z\xff\x80";
	struct json_value *v = parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\tA\\u00e9\\u20AC"
				     "\\ud83d\\ude00\\u0000z\\udcff\\udc80\"");

	CHECK(v && v->type == JSON_STRING);
	CHECK(v->len == sizeof(want) - 1 && !memcmp(v->str, want, v->len));
	json_free(v);
	return 0;
}

/* Any byte string printed by json_put_string reads back as the same bytes. */
static int test_string_round_trip(void)
{
	struct jbuf jb;
	char s[64];
	unsigned int i, j;

	srand(42);
	for (i = 0; i < 20000; i++) {
		struct json_value *v;
		size_t len = rand() % sizeof(s);

		for (j = 0; j < len; j++)
			s[j] = i < 256 ? (char)i : (char)(rand() % (i % 3 ? 256 : 0x90));
		jbuf_init(&jb);
		json_put_string(&jb, s, len);
		v = parse(jb.buf);
		if (!v || v->len != len || memcmp(v->str, s, len)) {
			snprintf(unit_why, sizeof(unit_why), "string %u did not survive: %s", i, jb.buf);
			json_free(v);
			jbuf_free(&jb);
			return -1;
		}
		json_free(v);
		jbuf_free(&jb);
	}
	return 0;
}

static int num_u64(const char *text, uint64_t max, uint64_t *out)
{
	struct json_value *v = parse(text);
	int ret = v ? json_get_u64(v, max, out) : -2;

	json_free(v);
	return ret;
}

static int num_i64(const char *text, int64_t min, int64_t max, int64_t *out)
{
	struct json_value *v = parse(text);
	int ret = v ? json_get_i64(v, min, max, out) : -2;

	json_free(v);
	return ret;
}

static int test_numbers(void)
{
	struct json_value *v;
	uint64_t u;
	int64_t i;
	double d;

	CHECK(num_u64("18446744073709551615", UINT64_MAX, &u) == 0 && u == UINT64_MAX);
	CHECK(num_u64("18446744073709551616", UINT64_MAX, &u) == -1);
	CHECK(num_u64("99999999999999999999", UINT64_MAX, &u) == -1);
	CHECK(num_u64("4294967295", UINT32_MAX, &u) == 0 && u == UINT32_MAX);
	CHECK(num_u64("4294967296", UINT32_MAX, &u) == -1);
	CHECK(num_u64("9007199254740993", UINT64_MAX, &u) == 0 && u == 9007199254740993ull);
	CHECK(num_u64("-1", UINT64_MAX, &u) == -1);
	CHECK(num_u64("1.0", UINT64_MAX, &u) == -1);
	CHECK(num_u64("1e2", UINT64_MAX, &u) == -1);
	CHECK(num_u64("\"1\"", UINT64_MAX, &u) == -1);
	CHECK(num_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &i) == 0 && i == INT64_MIN);
	CHECK(num_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &i) == -1);
	CHECK(num_i64("9223372036854775807", INT64_MIN, INT64_MAX, &i) == 0 && i == INT64_MAX);
	CHECK(num_i64("9223372036854775808", INT64_MIN, INT64_MAX, &i) == -1);
	CHECK(num_i64("-2147483649", INT32_MIN, INT32_MAX, &i) == -1);
	CHECK(num_i64("-2147483648", INT32_MIN, INT32_MAX, &i) == 0 && i == INT32_MIN);
	CHECK(num_i64("-0", INT32_MIN, INT32_MAX, &i) == 0 && i == 0);
	v = parse("[0.1, 1e400, -2.5e-3, 5e-324]");
	CHECK(v);
	CHECK(json_get_double(&v->items[0], &d) == 0 && d == 0.1);
	CHECK(json_get_double(&v->items[1], &d) == -1);
	CHECK(json_get_double(&v->items[2], &d) == 0 && d == -2.5e-3);
	CHECK(json_get_double(&v->items[3], &d) == 0 && d > 0);
	json_free(v);
	return 0;
}

/* ---- pbjson against the real inventory type ---------------------------------------- */

static ProtobufCMessage *build_inv(const char *fields)
{
	char text[512];
	struct json_value *v;
	ProtobufCMessage *m;

	snprintf(text, sizeof(text), "{\"img_version\": 1, \"tool_version\": \"t\", "
		 "\"kernel_release\": \"k\", \"arch\": \"a\"%s}", fields);
	v = parse(text);
	if (!v)
		return NULL;
	m = pbjson_build(&inventory_entry__descriptor, v, "t");
	json_free(v);
	return m;
}

static int test_build_checks(void)
{
	static const char *bad[] = {
		", \"page_size\": 4294967296", ", \"page_size\": -1", ", \"page_size\": 1.5",
		", \"page_size\": \"4096\"", ", \"page_size\": 4096, \"nope\": 1",
		", \"page_size\": 4096, \"shell_job\": 1", ", \"page_size\": 4096, \"cpu\": []",
		", \"page_size\": 4096, \"cpu\": {\"vendor\": \"v\"}",
		", \"page_size\": 4096, \"arch\\u0000\": 1", ", \"page_size\": 4096, \"parent_dir\": null",
		", \"page_size\": 4096, \"parent_dir\": \"a\\u0000b\"",
		", \"page_size\": 4096, \"_unknown_fields\": [{\"tag\": 5, \"wire_type\": 0, \"data\": \"01\"}]",
		", \"page_size\": 4096, \"_unknown_fields\": [{\"tag\": 99, \"wire_type\": 0, \"data\": \"81\"}]",
		", \"page_size\": 4096, \"_unknown_fields\": [{\"tag\": 99, \"wire_type\": 2, \"data\": \"0300\"}]",
		", \"page_size\": 4096, \"_unknown_fields\": [{\"tag\": 99, \"wire_type\": 3, \"data\": \"\"}]",
		"",	/* page_size is required */
	};
	ProtobufCMessage *m;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = build_inv(bad[i]);
		if (m) {
			pbjson_free(m);
			snprintf(unit_why, sizeof(unit_why), "accepted: %s", bad[i]);
			return -1;
		}
	}
	m = build_inv(", \"page_size\": 4096, \"_unknown_fields\": [{\"tag\": 99, "
		      "\"wire_type\": 2, \"data\": \"02abcd\"}, {\"tag\": 100, \"wire_type\": 0, "
		      "\"data\": \"ff01\"}]");
	CHECK(m && m->n_unknown_fields == 2 && m->unknown_fields[0].len == 3);
	pbjson_free(m);
	return 0;
}

/* Unknown fields from a newer writer survive show and encode. */
static int test_unknown_fields(void)
{
	static const uint8_t extra[] = { 0xa0, 0x06, 0x2a, 0xaa, 0x06, 0x01, 0x7a };
	InventoryEntry e = INVENTORY_ENTRY__INIT;
	uint8_t buf[128], again[128];
	ProtobufCMessage *m, *b;
	struct json_value *v;
	struct jbuf jb;
	size_t n;

	e.tool_version = "t", e.kernel_release = "k", e.arch = "a";
	n = protobuf_c_message_pack(&e.base, buf);
	memcpy(buf + n, extra, sizeof(extra));	/* field 100 varint 42, field 101 "z" */
	n += sizeof(extra);
	m = protobuf_c_message_unpack(&inventory_entry__descriptor, NULL, n, buf);
	CHECK(m && m->n_unknown_fields == 2);
	jbuf_init(&jb);
	pbjson_print(&jb, m, 0);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(strstr(jb.buf, "{\"tag\": 100, \"wire_type\": 0, \"data\": \"2a\"}"));
	v = parse(jb.buf);
	jbuf_free(&jb);
	CHECK(v);
	b = pbjson_build(&inventory_entry__descriptor, v, "t");
	json_free(v);
	CHECK(b);
	CHECK(protobuf_c_message_get_packed_size(b) == n);
	protobuf_c_message_pack(b, again);
	pbjson_free(b);
	CHECK(!memcmp(buf, again, n));
	return 0;
}

/* ---- a hand-made descriptor with every type ------------------------------------------ */

static const ProtobufCEnumValue colour_values[] = {
	{ "ALPHA", "ALPHA", 0 }, { "BETA", "BETA", 1 }, { "GAMMA", "GAMMA", 2 },
};
static const ProtobufCEnumValueIndex colour_by_name[] = {
	{ "ALPHA", 0 }, { "BETA", 1 }, { "GAMMA", 2 },
};
static const ProtobufCIntRange colour_ranges[] = { { 0, 0 }, { 0, 3 } };
static const ProtobufCEnumDescriptor colour_desc = {
	.magic = PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC, .name = "t.colour", .short_name = "colour",
	.c_name = "Colour", .package_name = "t", .n_values = 3, .values = colour_values,
	.n_value_names = 3, .values_by_name = colour_by_name, .n_value_ranges = 1,
	.value_ranges = colour_ranges,
};

struct inner {
	ProtobufCMessage base;
	uint32_t id;
	char *name;
};

static void inner_init(ProtobufCMessage *m);

#define F(nm, num, lab, ty, st, q, fld, desc, fl)					\
	{ .name = nm, .id = num, .label = PROTOBUF_C_LABEL_##lab, .type = PROTOBUF_C_TYPE_##ty,	\
	  .quantifier_offset = q, .offset = offsetof(struct st, fld), .descriptor = desc,	\
	  .flags = fl }

static const ProtobufCFieldDescriptor inner_fields[] = {
	F("id", 1, REQUIRED, UINT32, inner, 0, id, NULL, 0),
	F("name", 2, OPTIONAL, STRING, inner, 0, name, NULL, 0),
};
static const unsigned int inner_by_name[] = { 0, 1 };
static const ProtobufCIntRange inner_ranges[] = { { 1, 0 }, { 0, 2 } };
static const ProtobufCMessageDescriptor inner_desc = {
	.magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, .name = "t.inner", .short_name = "inner",
	.c_name = "Inner", .package_name = "t", .sizeof_message = sizeof(struct inner),
	.n_fields = 2, .fields = inner_fields, .fields_sorted_by_name = inner_by_name,
	.n_field_ranges = 1, .field_ranges = inner_ranges, .message_init = inner_init,
};

static void inner_init(ProtobufCMessage *m)
{
	memset(m, 0, sizeof(struct inner));
	m->descriptor = &inner_desc;
}

struct all {
	ProtobufCMessage base;
	protobuf_c_boolean has_a;
	int32_t a, b, c;
	uint32_t d, e;
	int64_t f, g, h;
	uint64_t i, j;
	float k;
	double l;
	protobuf_c_boolean m;
	int32_t n;
	char *o;
	protobuf_c_boolean has_p;
	ProtobufCBinaryData p;
	struct inner *q;
	size_t n_r;
	int64_t *r;
	size_t n_s;
	char **s;
	size_t n_t;
	struct inner **t;
	size_t n_u;
	double *u;
	size_t n_v;
	int32_t *v;
	uint32_t choice;
	union {
		char *w;
		uint32_t x;
	};
	size_t n_y;
	ProtobufCBinaryData *y;
	size_t n_z;
	protobuf_c_boolean *z;
};

#define Q(fld) offsetof(struct all, fld)
#define ONEOF PROTOBUF_C_FIELD_FLAG_ONEOF

static const ProtobufCFieldDescriptor all_fields[] = {
	F("a_int32", 1, OPTIONAL, INT32, all, Q(has_a), a, NULL, 0),
	F("b_sint32", 2, REQUIRED, SINT32, all, 0, b, NULL, 0),
	F("c_sfixed32", 3, REQUIRED, SFIXED32, all, 0, c, NULL, 0),
	F("d_uint32", 4, REQUIRED, UINT32, all, 0, d, NULL, 0),
	F("e_fixed32", 5, REQUIRED, FIXED32, all, 0, e, NULL, 0),
	F("f_int64", 6, REQUIRED, INT64, all, 0, f, NULL, 0),
	F("g_sint64", 7, REQUIRED, SINT64, all, 0, g, NULL, 0),
	F("h_sfixed64", 8, REQUIRED, SFIXED64, all, 0, h, NULL, 0),
	F("i_uint64", 9, REQUIRED, UINT64, all, 0, i, NULL, 0),
	F("j_fixed64", 10, REQUIRED, FIXED64, all, 0, j, NULL, 0),
	F("k_float", 11, REQUIRED, FLOAT, all, 0, k, NULL, 0),
	F("l_double", 12, REQUIRED, DOUBLE, all, 0, l, NULL, 0),
	F("m_bool", 13, REQUIRED, BOOL, all, 0, m, NULL, 0),
	F("n_enum", 14, REQUIRED, ENUM, all, 0, n, &colour_desc, 0),
	F("o_string", 15, OPTIONAL, STRING, all, 0, o, NULL, 0),
	F("p_bytes", 16, OPTIONAL, BYTES, all, Q(has_p), p, NULL, 0),
	F("q_msg", 17, OPTIONAL, MESSAGE, all, 0, q, &inner_desc, 0),
	F("r_sint64s", 18, REPEATED, SINT64, all, Q(n_r), r, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
	F("s_strings", 19, REPEATED, STRING, all, Q(n_s), s, NULL, 0),
	F("t_msgs", 20, REPEATED, MESSAGE, all, Q(n_t), t, &inner_desc, 0),
	F("u_doubles", 21, REPEATED, DOUBLE, all, Q(n_u), u, NULL, 0),
	F("v_enums", 22, REPEATED, ENUM, all, Q(n_v), v, &colour_desc, 0),
	F("w_choice", 23, OPTIONAL, STRING, all, Q(choice), w, NULL, ONEOF),
	F("x_choice", 24, OPTIONAL, UINT32, all, Q(choice), x, NULL, ONEOF),
	F("y_bytes", 25, REPEATED, BYTES, all, Q(n_y), y, NULL, 0),
	F("z_bools", 26, REPEATED, BOOL, all, Q(n_z), z, NULL, 0),
};
static const unsigned int all_by_name[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
};
static const ProtobufCIntRange all_ranges[] = { { 1, 0 }, { 0, 26 } };
static void all_init(ProtobufCMessage *m);
static const ProtobufCMessageDescriptor all_desc = {
	.magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, .name = "t.all", .short_name = "all",
	.c_name = "All", .package_name = "t", .sizeof_message = sizeof(struct all),
	.n_fields = 26, .fields = all_fields, .fields_sorted_by_name = all_by_name,
	.n_field_ranges = 1, .field_ranges = all_ranges, .message_init = all_init,
};

static void all_init(ProtobufCMessage *m)
{
	memset(m, 0, sizeof(struct all));
	m->descriptor = &all_desc;
}

/* Pack -> print -> parse -> build -> pack must give the same bytes and JSON. */
static int all_round_trip(struct all *a, const char *expect)
{
	uint8_t packed[2048], again[2048];
	struct jbuf j1, j2;
	struct json_value *v;
	ProtobufCMessage *b;
	size_t n;
	int ok;

	a->base.descriptor = &all_desc;
	n = protobuf_c_message_pack(&a->base, packed);
	jbuf_init(&j1);
	jbuf_init(&j2);
	pbjson_print(&j1, &a->base, 0);
	v = parse(j1.buf);
	b = v ? pbjson_build(&all_desc, v, "all") : NULL;
	json_free(v);
	ok = b && protobuf_c_message_get_packed_size(b) == n;
	if (ok) {
		protobuf_c_message_pack(b, again);
		pbjson_print(&j2, b, 0);
		ok = !memcmp(packed, again, n) && !strcmp(j1.buf, j2.buf) &&
		     (!expect || strstr(j1.buf, expect));
	}
	if (!ok)
		snprintf(unit_why, sizeof(unit_why), "round trip of %s", j1.buf ? j1.buf : "?");
	pbjson_free(b);
	jbuf_free(&j1);
	jbuf_free(&j2);
	return ok ? 0 : -1;
}

static int test_all_types(void)
{
	static struct inner in1 = { PROTOBUF_C_MESSAGE_INIT(&inner_desc), .id = 7, .name = "seven" };
	static struct inner in2 = { PROTOBUF_C_MESSAGE_INIT(&inner_desc), .id = 8 };
	static struct inner *ins[] = { &in1, &in2, &in1 };
	static int64_t rs[] = { INT64_MIN, -1, 0, INT64_MAX };
	static char *ss[] = { "", "\"q\"", "\xff", "tab\t" };
	static double us[] = { 0.1, -0.0, 1e300, 5e-324, NAN, INFINITY, -INFINITY };
	static int32_t vs[] = { 2, 0, 9, -3 };
	static uint8_t raw[] = { 0, 1, 0xab, 0xff };
	static ProtobufCBinaryData ys[] = { { 4, raw }, { 0, NULL }, { 1, raw + 3 } };
	static protobuf_c_boolean zs[] = { 1, 0, 1 };
	struct all a = {
		.has_a = 1, .a = INT32_MIN, .b = INT32_MIN, .c = -1, .d = UINT32_MAX, .e = 5,
		.f = INT64_MIN, .g = INT64_MIN, .h = INT64_MAX, .i = UINT64_MAX, .j = UINT64_MAX,
		.k = 0.1f, .l = 1.0 / 3, .m = 1, .n = 1, .o = "o\\", .has_p = 1, .p = { 4, raw },
		.q = &in1, .n_r = 4, .r = rs, .n_s = 4, .s = ss, .n_t = 3, .t = ins, .n_u = 7,
		.u = us, .n_v = 4, .v = vs, .choice = 23, .w = "picked", .n_y = 3, .y = ys,
		.n_z = 3, .z = zs,
	};

	CHECK(all_round_trip(&a, "\"k_float\": 0.1,") == 0);
	CHECK(all_round_trip(&a, "\"n_enum\": \"BETA\",") == 0);
	CHECK(all_round_trip(&a, "\"v_enums\": [\"GAMMA\", \"ALPHA\", 9, -3]") == 0);
	CHECK(all_round_trip(&a, "\"u_doubles\": [0.1, -0, 1e+300, 5e-324, "
			     "\"nan\", \"inf\", \"-inf\"]") == 0);
	CHECK(all_round_trip(&a, "\"p_bytes\": \"0001abff\"") == 0);
	CHECK(all_round_trip(&a, "\"y_bytes\": [\"0001abff\", \"\", \"ff\"]") == 0);
	CHECK(all_round_trip(&a, "\"w_choice\": \"picked\"") == 0);
	a.choice = 24;
	a.x = 77;
	a.k = -INFINITY;
	CHECK(all_round_trip(&a, "\"x_choice\": 77") == 0);
	a.choice = 0, a.has_a = 0, a.has_p = 0, a.q = NULL, a.o = NULL, a.n_r = a.n_s = 0;
	a.n_t = a.n_u = a.n_v = a.n_y = a.n_z = 0;
	return all_round_trip(&a, NULL);
}

static int test_all_types_rejects(void)
{
	static const char *bad[] = {
		"\"w_choice\": \"a\", \"x_choice\": 1",	/* two members of one oneof */
		"\"n_enum\": \"DELTA\"", "\"n_enum\": 2147483648", "\"k_float\": 1e39",
		"\"k_float\": \"NaN\"", "\"p_bytes\": \"abc\"", "\"p_bytes\": \"zz\"",
		"\"t_msgs\": [{\"id\": 1}, {}]", "\"r_sint64s\": [1, \"2\"]", "\"s_strings\": \"x\"",
		"\"z_bools\": [true, 1]", "\"q_msg\": {\"id\": 1, \"name\": 5}",
	};
	static const char *base[] = {
		"\"b_sint32\": 0", "\"c_sfixed32\": 0", "\"d_uint32\": 0", "\"e_fixed32\": 0",
		"\"f_int64\": 0", "\"g_sint64\": 0", "\"h_sfixed64\": 0", "\"i_uint64\": 0",
		"\"j_fixed64\": 0", "\"k_float\": 0", "\"l_double\": 0", "\"m_bool\": false",
		"\"n_enum\": 0",
	};
	unsigned int i, j, nbad = sizeof(bad) / sizeof(bad[0]);
	char text[1024];

	for (i = 0; i <= nbad; i++) {
		struct json_value *v;
		ProtobufCMessage *m;
		int len = snprintf(text, sizeof(text), "{%s", i < nbad ? bad[i] : "\"a_int32\": -1");

		/* The required fields, except the one under test. */
		for (j = 0; j < sizeof(base) / sizeof(base[0]); j++) {
			if (i == nbad || strncmp(bad[i], base[j], strchr(base[j], ':') - base[j]))
				len += snprintf(text + len, sizeof(text) - len, ", %s", base[j]);
		}
		snprintf(text + len, sizeof(text) - len, "}");
		v = parse(text);
		CHECK(v);
		m = pbjson_build(&all_desc, v, "t");
		json_free(v);
		pbjson_free(m);
		if ((m != NULL) != (i == nbad)) {
			snprintf(unit_why, sizeof(unit_why), "%s: %s", m ? "accepted" : "rejected", text);
			return -1;
		}
	}
	return 0;
}

static const struct unit_case cases[] = {
	{ "valid documents and positions", test_valid },
	{ "invalid documents, with line and column", test_invalid },
	{ "error message and position", test_error_position },
	{ "depth limit", test_depth },
	{ "string escapes, surrogates, raw bytes", test_escapes },
	{ "any bytes survive print and parse", test_string_round_trip },
	{ "exact integers and their ranges", test_numbers },
	{ "builder refuses bad values for inventory", test_build_checks },
	{ "unknown fields survive print and build", test_unknown_fields },
	{ "every protobuf type round-trips", test_all_types },
	{ "builder refuses bad values of every type", test_all_types_rejects },
};

UNIT_MAIN(cases)
