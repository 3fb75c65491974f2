/* crit's JSON -> established images: see include/est-json.h for the rules. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "est-json: "
#include "est-json.h"
#include "est-json-text.h"
#include "log.h"
#include "pbjson.h"

#include "est/ghost-file.pb-c.h"
#include "est/ipc-msg.pb-c.h"
#include "est/ipc-sem.pb-c.h"
#include "est/ipc-shm.pb-c.h"
#include "est/pagemap.pb-c.h"
#include "est/pipe-data.pb-c.h"
#include "est/sk-packet.pb-c.h"
#include "est/tcp-stream.pb-c.h"


struct rctx {
	const char *src;
	const ProtobufCMessageDescriptor *msg;
	const ProtobufCFieldDescriptor *field;
};

/* Log "src:line:col: message.field: what"; returns -1. */
static int __attribute__((format(printf, 3, 4)))
rerr(const struct rctx *c, const struct json_value *v, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pr_err("%s:%u:%u: %s%s%s: %s", c->src, v->line, v->col, c->msg ? c->msg->name : "image",
	       c->field ? "." : "", c->field ? c->field->name : "", what);
	return -1;
}

static int oom(void)
{
	pr_err("out of memory");
	return -1;
}

/* ---- integers ----------------------------------------------------------------- */

/* A JSON string for an integer field, the ways crit's dict2pb reads one. */
static int string_int(const struct rctx *c, const struct json_value *v, bool *neg, uint64_t *mag)
{
	const struct est_json_note *n = est_json_note(c->msg, c->field->name);

	*neg = false;
	if (n && (n->kind == EST_JSON_DEV || n->kind == EST_JSON_ODEV))
		return est_get_dev(v->str, n->kind == EST_JSON_ODEV, mag);
	if (n && n->kind == EST_JSON_FLAGS)
		return est_get_flags(n->arg, v->str, mag);
	if (n && n->kind == EST_JSON_DICT && !est_dict_value(n->arg, c->field->name, v->str, mag))
		return 0;
	return est_get_int(v->str, neg, mag);
}

static int get_int(const struct rctx *c, const struct json_value *v, void *p)
{
	ProtobufCType t = c->field->type;
	bool is64 = pbjson_elem_size(t) == 8;
	bool sign = t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_SINT32 ||
		    t == PROTOBUF_C_TYPE_SFIXED32 || t == PROTOBUF_C_TYPE_INT64 ||
		    t == PROTOBUF_C_TYPE_SINT64 || t == PROTOBUF_C_TYPE_SFIXED64;
	uint64_t mag, max;
	bool neg = false;

	if (sign)
		max = is64 ? INT64_MAX : INT32_MAX;
	else
		max = is64 ? UINT64_MAX : UINT32_MAX;
	if (v->type == JSON_NUMBER) {
		if (est_get_int(v->str, &neg, &mag))
			return rerr(c, v, "expected an integer, not %s", v->str);
	} else if (v->type != JSON_STRING || string_int(c, v, &neg, &mag)) {
		return rerr(c, v, "expected an integer (a number or a string crit reads as one)");
	}
	if (neg && !mag)
		neg = false;
	if ((neg && (!sign || mag > max + 1)) || (!neg && mag > max))
		return rerr(c, v, "out of the range of the field");
	if (is64)
		*(uint64_t *)p = neg ? -mag : mag;
	else
		*(uint32_t *)p = neg ? (uint32_t)-mag : (uint32_t)mag;
	return 0;
}

/* ---- other values --------------------------------------------------------------- */

static ProtobufCMessage *build(const ProtobufCMessageDescriptor *desc,
			       const struct json_value *obj, const char *src, const char *skip);

static int get_bytes(const struct rctx *c, const struct json_value *v, ProtobufCBinaryData *bd)
{
	const struct est_json_note *n = est_json_note(c->msg, c->field->name);
	int ret;

	if (v->type != JSON_STRING)
		return rerr(c, v, "expected a string, not %s", json_type_name(v->type));
	if (n && n->kind == EST_JSON_CONV)
		ret = est_get_qp(v->str, v->len, &bd->data, &bd->len);
	else
		ret = est_get_base64(v->str, v->len, &bd->data, &bd->len);
	return ret ? rerr(c, v, "not valid %s", n ? "quoted-printable" : "base64") : 0;
}

static int get_enum(const struct rctx *c, const struct json_value *v, int32_t *out)
{
	const ProtobufCEnumDescriptor *ed = c->field->descriptor;
	const ProtobufCEnumValue *ev;
	int64_t i;

	if (v->type == JSON_NUMBER) {	/* how we print a value without a name */
		if (json_get_i64(v, INT32_MIN, INT32_MAX, &i))
			return rerr(c, v, "not a 32-bit enum value");
		*out = i;
		return 0;
	}
	if (v->type != JSON_STRING)
		return rerr(c, v, "expected a %s value name", ed->name);
	ev = protobuf_c_enum_descriptor_get_value_by_name(ed, v->str);
	if (!ev)
		return rerr(c, v, "\"%s\" is not a %s value", v->str, ed->name);
	*out = ev->value;
	return 0;
}

static int set_value(const struct rctx *c, const struct json_value *v, void *p)
{
	const ProtobufCFieldDescriptor *f = c->field;

	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)p = build(f->descriptor, v, c->src, NULL);
		return *(ProtobufCMessage **)p ? 0 : -1;
	case PROTOBUF_C_TYPE_BYTES:
		return get_bytes(c, v, p);
	case PROTOBUF_C_TYPE_ENUM:
		return get_enum(c, v, p);
	case PROTOBUF_C_TYPE_BOOL:
		if (v->type != JSON_TRUE && v->type != JSON_FALSE)
			return rerr(c, v, "expected true or false, not %s",
				    json_type_name(v->type));
		*(protobuf_c_boolean *)p = v->type == JSON_TRUE;
		return 0;
	case PROTOBUF_C_TYPE_STRING:
		if (v->type != JSON_STRING)
			return rerr(c, v, "expected a string, not %s", json_type_name(v->type));
		if (strlen(v->str) != v->len)
			return rerr(c, v, "a protobuf string cannot hold a NUL character");
		*(char **)p = strdup(v->str);
		return *(char **)p ? 0 : oom();
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return rerr(c, v, "floating point fields are not supported");
	default:
		return get_int(c, v, p);
	}
}

/* An ipadd field given as ["address text"]. */
static int set_ipadd(const struct rctx *c, ProtobufCMessage *m, const struct json_value *v)
{
	uint32_t words[4], *arr;
	size_t n;

	if (v->len != 1 || v->items[0].type != JSON_STRING ||
	    est_get_ipadd(v->items[0].str, words, &n))
		return rerr(c, v, "expected one IPv4 or IPv6 address text");
	arr = pbjson_repeated_alloc(m, c->field, n);
	if (!arr)
		return -1;
	memcpy(arr, words, n * sizeof(*arr));
	return 0;
}

static int set_repeated(const struct rctx *c, ProtobufCMessage *m, const struct json_value *v)
{
	const struct est_json_note *note = est_json_note(c->msg, c->field->name);
	size_t size = pbjson_elem_size(c->field->type), i;
	char *arr;

	if (v->type != JSON_ARRAY)
		return rerr(c, v, "expected an array, not %s", json_type_name(v->type));
	if (!v->len)
		return 0;
	if (note && note->kind == EST_JSON_IPADD && v->items[0].type == JSON_STRING)
		return set_ipadd(c, m, v);
	arr = pbjson_repeated_alloc(m, c->field, v->len);
	if (!arr)
		return -1;
	for (i = 0; i < v->len; i++)
		if (set_value(c, &v->items[i], arr + i * size))
			return -1;
	return 0;
}

static int set_field(const struct rctx *c, ProtobufCMessage *m, const struct json_value *v)
{
	void *slot;

	if (c->field->label == PROTOBUF_C_LABEL_REPEATED)
		return set_repeated(c, m, v);
	slot = pbjson_single_slot(m, c->field);
	if (!slot)
		return rerr(c, v, "another field of the same oneof is already set");
	return set_value(c, v, slot);
}

/* ---- unknown fields ------------------------------------------------------------- */

static int set_one_unknown(const struct rctx *c, ProtobufCMessageUnknownField *u,
			   const struct json_value *v)
{
	const struct json_value *tag = json_get(v, "tag"), *wire = json_get(v, "wire_type");
	const struct json_value *data = json_get(v, "data");
	uint64_t t, w;

	if (v->type != JSON_OBJECT || !tag || !wire || !data || v->len != 3 ||
	    json_get_u64(tag, EST_TAG_MAX, &t) || !t || json_get_u64(wire, 5, &w) ||
	    data->type != JSON_STRING || est_get_base64(data->str, data->len, &u->data, &u->len))
		return rerr(c, v, "expected {\"tag\": 1.., \"wire_type\": 0..5, \"data\": base64}");
	if (protobuf_c_message_descriptor_get_field(c->msg, t))
		return rerr(c, tag, "tag %llu is a known field", (unsigned long long)t);
	u->tag = t;
	u->wire_type = w;
	if (!pbjson_wire_value_ok(w, u->data, u->len))
		return rerr(c, data, "not one value of wire type %llu", (unsigned long long)w);
	return 0;
}

static int set_unknown(const struct rctx *c, ProtobufCMessage *m, const struct json_value *v)
{
	size_t i;

	if (v->type != JSON_ARRAY || !v->len)
		return rerr(c, v, "expected a non-empty array");
	m->unknown_fields = calloc(v->len, sizeof(*m->unknown_fields));
	if (!m->unknown_fields)
		return oom();
	m->n_unknown_fields = v->len;
	for (i = 0; i < v->len; i++)
		if (set_one_unknown(c, &m->unknown_fields[i], &v->items[i]))
			return -1;
	return 0;
}

/* ---- messages ----------------------------------------------------------------------- */

/*
 * The field named by @key in @obj: crit 3.17's "nr_pages" of a pagemap entry
 * is field 2 ("compat_nr_pages" of 4.x) unless the object has that key too
 * (see field_key() in est-json.c).
 */
static const ProtobufCFieldDescriptor *field_of_key(const ProtobufCMessageDescriptor *d,
						    const struct json_value *obj, const char *key)
{
	if (d == &est__pagemap_entry__descriptor && !strcmp(key, "nr_pages") &&
	    !json_get(obj, "compat_nr_pages"))
		key = "compat_nr_pages";
	return protobuf_c_message_descriptor_get_field_by_name(d, key);
}

static int fill(struct rctx *c, ProtobufCMessage *m, const struct json_value *obj,
		const char *skip, bool *seen)
{
	size_t i;

	if (obj->type != JSON_OBJECT)
		return rerr(c, obj, "expected an object, not %s", json_type_name(obj->type));
	for (i = 0; i < obj->len; i++) {
		const struct json_member *jm = &obj->members[i];

		c->field = NULL;
		if (skip && !strcmp(jm->key, skip))
			continue;
		if (!strcmp(jm->key, EST_UNKNOWN_KEY)) {
			if (set_unknown(c, m, &jm->value))
				return -1;
			continue;
		}
		c->field = field_of_key(c->msg, obj, jm->key);
		if (!c->field || strlen(jm->key) != jm->key_len)
			return rerr(c, &jm->value, "no field \"%s\"", jm->key);
		if (seen[c->field - c->msg->fields])
			return rerr(c, &jm->value, "field given twice");
		seen[c->field - c->msg->fields] = true;
		if (set_field(c, m, &jm->value))
			return -1;
	}
	c->field = NULL;
	for (i = 0; i < c->msg->n_fields; i++)
		if (c->msg->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !seen[i])
			return rerr(c, obj, "required field \"%s\" is missing",
				    c->msg->fields[i].name);
	return 0;
}

/* A message of type @desc from @obj; the key @skip (if any) is not a field. */
static ProtobufCMessage *build(const ProtobufCMessageDescriptor *desc,
			       const struct json_value *obj, const char *src, const char *skip)
{
	struct rctx c = { .src = src, .msg = desc };
	ProtobufCMessage *m = malloc(desc->sizeof_message);
	bool *seen = calloc(desc->n_fields + 1, sizeof(*seen));
	int ret = -1;

	if (!m || !seen) {
		oom();
		goto out;
	}
	protobuf_c_message_init(desc, m);
	ret = fill(&c, m, obj, skip, seen);
	if (!ret && !protobuf_c_message_check(m))
		ret = rerr(&c, obj, "the message is incomplete");
out:
	free(seen);
	if (ret) {
		pbjson_free(m);
		return NULL;
	}
	return m;
}

/* ---- entries and extras --------------------------------------------------------------- */

struct wctx {
	const struct est_kind *kind;
	const char *src;
	struct jbuf *out;
	bool done;		/* a ghost's raw content ended the file */
};

static void put_le32(struct jbuf *out, uint32_t v)
{
	char b[4] = { v, v >> 8, v >> 16, v >> 24 };

	jbuf_putn(out, b, 4);
}

#define ANY_LENGTH	UINT64_MAX

/* The base64 string @v into @out, which must come to @want bytes (or ANY_LENGTH). */
static int put_payload(const struct wctx *w, const struct json_value *v, uint64_t want,
		       const struct json_value *entry)
{
	struct rctx c = { .src = w->src };
	uint8_t *data;
	size_t len;

	if (!v) {
		if (want)
			return rerr(&c, entry, "missing \"extra\" of %llu bytes",
				    (unsigned long long)want);
		return 0;
	}
	if (v->type != JSON_STRING || est_get_base64(v->str, v->len, &data, &len))
		return rerr(&c, v, "\"extra\" must be a base64 string");
	if (want != ANY_LENGTH && len != want) {
		free(data);
		return rerr(&c, v, "\"extra\" holds %zu bytes, the entry announces %llu", len,
			    (unsigned long long)want);
	}
	jbuf_putn(w->out, (const char *)data, len);
	free(data);
	return 0;
}

static int put_tcp_queues(const struct wctx *w, const struct json_value *v,
			  const Est__TcpStreamEntry *t, const struct json_value *entry)
{
	struct rctx c = { .src = w->src };

	if (!v)
		return put_payload(w, NULL, (uint64_t)t->inq_len + t->outq_len, entry);
	if (v->type != JSON_OBJECT || v->len != 2 || !json_get(v, "inq") || !json_get(v, "outq"))
		return rerr(&c, v, "\"extra\" must be {\"inq\": base64, \"outq\": base64}");
	return put_payload(w, json_get(v, "inq"), t->inq_len, entry) ?:
	       put_payload(w, json_get(v, "outq"), t->outq_len, entry);
}

/* A semaphore set's values: a list of nsems integers 0..65535, then the zero padding. */
static int put_sem_values(const struct wctx *w, const struct json_value *v,
			  const Est__IpcSemEntry *e, const struct json_value *entry)
{
	static const uint8_t zero[8];
	struct rctx c = { .src = w->src };
	size_t i;

	if (!v)
		return rerr(&c, entry, "missing \"extra\": the values of %u semaphores", e->nsems);
	if (v->type != JSON_ARRAY || v->len != e->nsems)
		return rerr(&c, v, "\"extra\" must be a list of the %u semaphores' values", e->nsems);
	for (i = 0; i < v->len; i++) {
		const struct json_value *x = &v->items[i];
		char *end;
		unsigned long n;

		if (x->type != JSON_NUMBER || x->str[0] == '-')
			return rerr(&c, x, "a semaphore's value must be an integer 0..65535");
		n = strtoul(x->str, &end, 10);
		if (*end || n > 65535)
			return rerr(&c, x, "a semaphore's value must be an integer 0..65535");
		jbuf_putn(w->out, (const char *)(uint8_t[]){ n & 0xff, n >> 8 }, 2);
	}
	jbuf_putn(w->out, (const char *)zero, (8 - (2 * v->len) % 8) % 8);
	return 0;
}

/* A number of JSON value @v that fits @max: 0, or -1. */
static int json_uint(const struct json_value *v, uint64_t max, uint64_t *out)
{
	char *end;

	if (!v || v->type != JSON_NUMBER || v->str[0] == '-')
		return -1;
	errno = 0;
	*out = strtoull(v->str, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

/* A queue's messages: qnum times a {"mtype", "msize"} object and its base64 text. */
static int put_msgs(const struct wctx *w, const struct json_value *v, const Est__IpcMsgEntry *q,
		    const struct json_value *entry)
{
	static const uint8_t zero[8];
	struct rctx c = { .src = w->src };
	uint8_t head[4 + 32];
	size_t i;

	if (!v && !q->qnum)
		return 0;
	if (!v || v->type != JSON_ARRAY || v->len != 2 * (size_t)q->qnum)
		return rerr(&c, v ? v : entry, "\"extra\" must hold %u messages: {\"mtype\", \"msize\"} and base64 text each",
			    q->qnum);
	for (i = 0; i < v->len; i += 2) {
		const struct json_value *h = &v->items[i];
		Est__IpcMsg m = EST__IPC_MSG__INIT;
		uint64_t msize;
		size_t n;

		if (h->type != JSON_OBJECT || h->len != 2 ||
		    json_uint(json_get(h, "mtype"), UINT64_MAX, &m.mtype) ||
		    json_uint(json_get(h, "msize"), UINT32_MAX, &msize))
			return rerr(&c, h, "a message must be {\"mtype\": N, \"msize\": N}");
		m.msize = (uint32_t)msize;
		n = protobuf_c_message_pack(&m.base, head + 4);
		head[0] = n, head[1] = head[2] = head[3] = 0;
		jbuf_putn(w->out, (const char *)head, 4 + n);
		if (put_payload(w, &v->items[i + 1], m.msize, entry))
			return -1;
		jbuf_putn(w->out, (const char *)zero, (8 - m.msize % 8) % 8);
	}
	return 0;
}

/* A SysV segment's bytes (base64), padded to 4; none when they are in pagemaps. */
static int put_shm(const struct wctx *w, const struct json_value *v, const Est__IpcShmEntry *e,
		   const struct json_value *entry)
{
	static const uint8_t zero[4];

	if (e->has_in_pagemaps && e->in_pagemaps)
		return put_payload(w, v, 0, entry);
	if (put_payload(w, v, e->size, entry))
		return -1;
	jbuf_putn(w->out, (const char *)zero, (4 - e->size % 4) % 4);
	return 0;
}

static int put_extra(struct wctx *w, const ProtobufCMessage *m, const struct json_value *extra,
		     const struct json_value *entry)
{
	struct rctx c = { .src = w->src, .msg = m->descriptor };

	switch (w->kind->extra) {
	case EST_EXTRA_NONE:
		return extra ? rerr(&c, extra, "this kind has no \"extra\"") : 0;
	case EST_EXTRA_PIPE_DATA:
		return put_payload(w, extra, ((const Est__PipeDataEntry *)m)->bytes, entry);
	case EST_EXTRA_SK_QUEUE:
		return put_payload(w, extra, ((const Est__SkPacketEntry *)m)->length, entry);
	case EST_EXTRA_TCP_STREAM:
		return put_tcp_queues(w, extra, (const void *)m, entry);
	case EST_EXTRA_SEM:
		return put_sem_values(w, extra, (const void *)m, entry);
	case EST_EXTRA_MSG:
		return put_msgs(w, extra, (const void *)m, entry);
	case EST_EXTRA_SHM:
		return put_shm(w, extra, (const void *)m, entry);
	case EST_EXTRA_GHOST:
		break;
	}
	if (m->descriptor == &est__ghost_chunk_entry__descriptor)
		return put_payload(w, extra, ((const Est__GhostChunkEntry *)m)->len, entry);
	if (((const Est__GhostFileEntry *)m)->chunks)
		return extra ? rerr(&c, extra, "a chunked ghost file has no \"extra\" here") : 0;
	w->done = true;
	return extra ? put_payload(w, extra, ANY_LENGTH, entry) : 0;
}

static int put_entry(struct wctx *w, const struct json_value *entry, size_t nr)
{
	const ProtobufCMessageDescriptor *d = nr && w->kind->rest ? w->kind->rest : w->kind->first;
	const struct json_value *extra = json_get(entry, "extra");
	struct rctx c = { .src = w->src, .msg = d };
	ProtobufCMessage *m;
	size_t size;
	uint8_t *buf;
	int ret;

	if (w->done)
		return rerr(&c, entry, "nothing may follow a ghost file's raw content");
	if (w->kind->max_entries && nr >= w->kind->max_entries)
		return rerr(&c, entry, "a %s image holds at most %u entries", w->kind->name,
			    w->kind->max_entries);
	m = build(d, entry, w->src, "extra");
	if (!m)
		return -1;
	size = protobuf_c_message_get_packed_size(m);
	buf = size <= EST_ENTRY_MAX ? malloc(size ?: 1) : NULL;
	if (!buf) {
		pbjson_free(m);
		return rerr(&c, entry, "an entry of %zu bytes is over the cap or memory", size);
	}
	protobuf_c_message_pack(m, buf);
	put_le32(w->out, size);
	jbuf_putn(w->out, (const char *)buf, size);
	free(buf);
	ret = put_extra(w, m, extra, entry);
	pbjson_free(m);
	return ret;
}

/* The row of the table named @magic (and matching @file_name, if given). */
static const struct est_kind *kind_named(const struct json_value *magic, const char *src,
					 const char *file_name)
{
	const struct est_kind *k, *kinds;
	unsigned int n, i;

	if (!magic || magic->type != JSON_STRING) {
		pr_err("%s: \"magic\" must be a string naming the image kind", src);
		return NULL;
	}
	if (file_name) {
		k = est_kind_by_name(file_name);
		if (!k || strcmp(k->name, magic->str) || !k->magic) {
			pr_err("%s: \"%s\" is not the name of a %s image", src, file_name,
			       magic->str);
			return NULL;
		}
		return k;
	}
	kinds = est_kinds(&n);
	for (i = 0; i < n; i++)
		if (kinds[i].magic && !strcmp(kinds[i].name, magic->str))
			return &kinds[i];
	pr_err("%s: unknown image kind \"%s\"", src, magic->str);
	return NULL;
}

int est_from_json(const struct json_value *doc, const char *src, const char *file_name,
		  struct jbuf *out)
{
	const struct json_value *entries = json_get(doc, "entries");
	struct wctx w = { .src = src, .out = out };
	size_t i;

	if (doc->type != JSON_OBJECT || doc->len != 2 || !entries || entries->type != JSON_ARRAY) {
		pr_err("%s: expected an object with exactly \"magic\" and \"entries\" (an array)",
		       src);
		return -1;
	}
	w.kind = kind_named(json_get(doc, "magic"), src, file_name);
	if (!w.kind)
		return -1;
	if (w.kind->head)
		put_le32(out, w.kind->head);
	put_le32(out, w.kind->magic);
	for (i = 0; i < entries->len; i++)
		if (put_entry(&w, &entries->items[i], i))
			return -1;
	if (out->oom)
		return -1;
	return 0;
}
