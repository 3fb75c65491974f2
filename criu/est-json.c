/* Established images -> crit's JSON: see include/est-json.h for the rules. */
#include <stdio.h>
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
#include "est/tcp-stream.pb-c.h"

#define CMEMBER(msg, off)	((const void *)((const char *)(msg) + (off)))

/* A JSON writer with Python's json.dump layout: compact, or indent 4. */
struct ew {
	struct jbuf *jb;
	bool pretty;
	unsigned int depth;
};

static void ew_newline(struct ew *w)
{
	static const char spaces[] = "                                ";
	unsigned int n = w->depth * 4;

	jbuf_putn(w->jb, "\n", 1);
	for (; n; n -= min(n, (unsigned int)sizeof(spaces) - 1))
		jbuf_putn(w->jb, spaces, min(n, (unsigned int)sizeof(spaces) - 1));
}

static void ew_open(struct ew *w, char c)
{
	jbuf_putn(w->jb, &c, 1);
	w->depth++;
}

/* Before item number *n (from 0) of the open container. */
static void ew_item(struct ew *w, unsigned int *n)
{
	if ((*n)++)
		jbuf_puts(w->jb, w->pretty ? "," : ", ");
	if (w->pretty)
		ew_newline(w);
}

static void ew_close(struct ew *w, char c, unsigned int n)
{
	w->depth--;
	if (w->pretty && n)
		ew_newline(w);
	jbuf_putn(w->jb, &c, 1);
}

static void ew_key(struct ew *w, unsigned int *n, const char *key)
{
	ew_item(w, n);
	est_put_string(w->jb, key, strlen(key));
	jbuf_puts(w->jb, ": ");
}

/* ---- one field value ---------------------------------------------------- */

struct fctx {
	const ProtobufCFieldDescriptor *f;
	const struct est_json_note *note;
	bool hex;
};

static void print_msg(struct ew *w, const ProtobufCMessage *m, bool hex);

static bool is_signed(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_SINT32 ||
	       t == PROTOBUF_C_TYPE_SFIXED32 || t == PROTOBUF_C_TYPE_INT64 ||
	       t == PROTOBUF_C_TYPE_SINT64 || t == PROTOBUF_C_TYPE_SFIXED64;
}

static bool is_64(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_INT64 || t == PROTOBUF_C_TYPE_SINT64 ||
	       t == PROTOBUF_C_TYPE_SFIXED64 || t == PROTOBUF_C_TYPE_UINT64 ||
	       t == PROTOBUF_C_TYPE_FIXED64;
}

/* An integer field's value; *neg for a negative signed one (magnitude returned). */
static uint64_t int_value(ProtobufCType t, const void *p, bool *neg)
{
	int64_t s;

	*neg = false;
	if (!is_signed(t))
		return is_64(t) ? *(const uint64_t *)p : *(const uint32_t *)p;
	s = is_64(t) ? *(const int64_t *)p : *(const int32_t *)p;
	if (s >= 0)
		return s;
	*neg = true;
	return -(uint64_t)s;
}

/* An integer as crit's pretty mode annotates it; false if it prints plainly. */
static bool print_pretty_int(struct ew *w, const struct fctx *c, uint64_t v, bool neg)
{
	const struct est_json_note *n = c->note;
	const char *name;

	if (c->hex) {
		jbuf_printf(w->jb, "\"%s0x%llx\"", neg ? "-" : "", (unsigned long long)v);
		return true;
	}
	if (!n || neg)
		return false;
	switch (n->kind) {
	case EST_JSON_DEV:
	case EST_JSON_ODEV:
		est_put_dev(w->jb, v, n->kind == EST_JSON_ODEV);
		return true;
	case EST_JSON_FLAGS:
		est_put_flags(w->jb, n->arg, v);
		return true;
	case EST_JSON_DICT:
		name = est_dict_name(n->arg, c->f->name, v);
		if (!name)
			return false;
		est_put_string(w->jb, name, strlen(name));
		return true;
	default:
		return false;
	}
}

static void print_int(struct ew *w, const struct fctx *c, const void *p)
{
	bool neg;
	uint64_t v = int_value(c->f->type, p, &neg);

	if (w->pretty && print_pretty_int(w, c, v, neg))
		return;
	jbuf_printf(w->jb, "%s%llu", neg ? "-" : "", (unsigned long long)v);
}

static void print_value(struct ew *w, const struct fctx *c, const void *p)
{
	const ProtobufCFieldDescriptor *f = c->f;

	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		print_msg(w, *(ProtobufCMessage * const *)p, c->hex);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = p;

		if (c->note && c->note->kind == EST_JSON_CONV)
			est_put_qp(w->jb, bd->data, bd->len);
		else
			est_put_base64(w->jb, bd->data, bd->len);
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int32_t *)p);

		if (ev)
			est_put_string(w->jb, ev->name, strlen(ev->name));
		else
			jbuf_printf(w->jb, "%d", *(const int32_t *)p);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		jbuf_puts(w->jb, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char * const *)p;

		est_put_string(w->jb, s ? s : "", s ? strlen(s) : 0);
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		jbuf_puts(w->jb, "null");	/* no established schema has one */
		break;
	default:
		print_int(w, c, p);
	}
}

static void print_repeated(struct ew *w, const struct fctx *c, const ProtobufCMessage *m)
{
	size_t n = *(const size_t *)CMEMBER(m, c->f->quantifier_offset), i;
	const char *arr = *(char * const *)CMEMBER(m, c->f->offset);
	unsigned int items = 0;

	ew_open(w, '[');
	if (w->pretty && c->note && c->note->kind == EST_JSON_IPADD && !c->hex &&
	    (n == 1 || n == 4)) {
		ew_item(w, &items);
		est_put_ipadd(w->jb, (const uint32_t *)arr, n);
	} else {
		for (i = 0; i < n; i++) {
			ew_item(w, &items);
			print_value(w, c, arr + i * pbjson_elem_size(c->f->type));
		}
	}
	ew_close(w, ']', items);
}

static void print_unknown(struct ew *w, const ProtobufCMessage *m, unsigned int *n)
{
	unsigned int items = 0, keys;
	size_t i;

	ew_key(w, n, EST_UNKNOWN_KEY);
	ew_open(w, '[');
	for (i = 0; i < m->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &m->unknown_fields[i];

		keys = 0;
		ew_item(w, &items);
		ew_open(w, '{');
		ew_key(w, &keys, "tag");
		jbuf_printf(w->jb, "%u", u->tag);
		ew_key(w, &keys, "wire_type");
		jbuf_printf(w->jb, "%u", (unsigned int)u->wire_type);
		ew_key(w, &keys, "data");
		est_put_base64(w->jb, u->data, u->len);
		ew_close(w, '}', keys);
	}
	ew_close(w, ']', items);
}

/*
 * The key of field @f of @m. crit 3.17 calls pagemap_entry field 2
 * "nr_pages"; 4.x renamed it "compat_nr_pages" and gave the name to the
 * 64-bit field 5. We print 3.17's name unless field 5 is there too, which
 * only a 4.x image has (then both 4.x names); est-json-read.c undoes it.
 */
static const char *field_key(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (m->descriptor == &est__pagemap_entry__descriptor && f->id == 2 &&
	    !((const Est__PagemapEntry *)m)->has_nr_pages)
		return "nr_pages";
	return f->name;
}

/* The fields of @m as members of the object already open (*n so far). */
static void print_fields(struct ew *w, const ProtobufCMessage *m, bool hex, unsigned int *n)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned int i;

	for (i = 0; i < d->n_fields; i++) {
		struct fctx c = { .f = &d->fields[i] };

		if (!pbjson_field_present(m, c.f))
			continue;
		c.note = est_json_note(d, c.f->name);
		c.hex = hex || (c.note && c.note->kind == EST_JSON_HEX);
		ew_key(w, n, field_key(m, c.f));
		if (c.f->label == PROTOBUF_C_LABEL_REPEATED)
			print_repeated(w, &c, m);
		else
			print_value(w, &c, CMEMBER(m, c.f->offset));
	}
	if (m->n_unknown_fields)
		print_unknown(w, m, n);
}

static void print_msg(struct ew *w, const ProtobufCMessage *m, bool hex)
{
	unsigned int n = 0;

	ew_open(w, '{');
	if (m)
		print_fields(w, m, hex, &n);
	ew_close(w, '}', n);
}

/* ---- whole files ------------------------------------------------------------ */

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

bool est_looks_like_image(const uint8_t *buf, size_t len)
{
	const struct est_kind *inv = est_kind_by_name("inventory.img");

	if (len < 4)
		return false;
	return le32(buf) == EST_MAGIC_COMMON || le32(buf) == EST_MAGIC_SERVICE ||
	       le32(buf) == inv->magic;
}

const struct est_kind *est_kind_of_buf(const uint8_t *buf, size_t len, const char *name)
{
	const struct est_kind *k = NULL;
	uint32_t m = len >= 4 ? le32(buf) : 0;

	if (m == EST_MAGIC_COMMON || m == EST_MAGIC_SERVICE)
		m = len >= 8 ? le32(buf + 4) : 0;
	if (m)
		k = est_kind_by_magic(m);
	if (!k)
		pr_err("%s: no established image kind has magic 0x%x", name, m);
	return k;
}

/* Whether entry @e (of a file of kind @k) carries crit's "extra" key. */
static bool has_extra(const struct est_kind *k, const struct est_entry *e)
{
	if (k->extra != EST_EXTRA_GHOST)
		return k->extra != EST_EXTRA_NONE;
	if (e->desc == &est__ghost_chunk_entry__descriptor)
		return true;
	return !((const Est__GhostFileEntry *)e->msg)->chunks;
}

/* A semaphore set's values: crit's list of ints (the padding is not shown). */
static void print_sem_values(struct ew *w, const struct est_entry *e)
{
	uint32_t i, nsems = ((const Est__IpcSemEntry *)e->msg)->nsems;
	unsigned int items = 0;

	ew_open(w, '[');
	for (i = 0; i < nsems; i++) {
		ew_item(w, &items);
		jbuf_printf(w->jb, "%u", e->extra[2 * i] | (unsigned int)e->extra[2 * i + 1] << 8);
	}
	ew_close(w, ']', items);
}

/* A queue's messages: crit's list of {"mtype", "msize"} and base64 text, in turn. */
static void print_msgs(struct ew *w, const struct est_entry *e)
{
	uint32_t i, qnum = ((const Est__IpcMsgEntry *)e->msg)->qnum, msize;
	unsigned int items = 0, keys;
	size_t off = 0;
	uint64_t mtype;
	int64_t n;

	ew_open(w, '[');
	for (i = 0; i < qnum; i++, off += n) {
		n = est_msg_next(e->extra + off, e->extra_len - off, &mtype, &msize);
		if (n < 0)
			break;	/* the parser walked them: not reached */
		keys = 0;
		ew_item(w, &items);
		ew_open(w, '{');
		ew_key(w, &keys, "mtype");
		jbuf_printf(w->jb, "%llu", (unsigned long long)mtype);
		ew_key(w, &keys, "msize");
		jbuf_printf(w->jb, "%u", msize);
		ew_close(w, '}', keys);
		ew_item(w, &items);
		est_put_base64(w->jb, e->extra + off + (size_t)n - ((msize + 7ull) & ~7ull), msize);
	}
	ew_close(w, ']', items);
}

static void print_extra(struct ew *w, const struct est_kind *k, const struct est_entry *e,
			unsigned int *n)
{
	unsigned int keys = 0;
	size_t inq;

	ew_key(w, n, "extra");
	if (k->extra == EST_EXTRA_SEM) {
		print_sem_values(w, e);
		return;
	}
	if (k->extra == EST_EXTRA_MSG) {
		print_msgs(w, e);
		return;
	}
	if (k->extra == EST_EXTRA_SHM) {	/* crit shows the size bytes, not the padding */
		est_put_base64(w->jb, e->extra, e->extra_len ? ((const Est__IpcShmEntry *)e->msg)->size : 0);
		return;
	}
	if (k->extra != EST_EXTRA_TCP_STREAM) {
		est_put_base64(w->jb, e->extra, e->extra_len);
		return;
	}
	inq = ((const Est__TcpStreamEntry *)e->msg)->inq_len;
	ew_open(w, '{');
	ew_key(w, &keys, "inq");
	est_put_base64(w->jb, e->extra, inq);
	ew_key(w, &keys, "outq");
	est_put_base64(w->jb, e->extra + inq, e->extra_len - inq);
	ew_close(w, '}', keys);
}

/*
 * Whether every unknown field in @m and below has a field number protobuf
 * allows: protobuf-c's reader keeps others (0 from a padded tag varint),
 * which could not be written back as they were read.
 */
static bool tags_ok(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned int i;
	size_t j, n;

	for (j = 0; j < m->n_unknown_fields; j++)
		if (!m->unknown_fields[j].tag || m->unknown_fields[j].tag > EST_TAG_MAX)
			return false;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		ProtobufCMessage *const *sub = CMEMBER(m, f->offset);

		if (f->type != PROTOBUF_C_TYPE_MESSAGE || !pbjson_field_present(m, f))
			continue;
		n = f->label == PROTOBUF_C_LABEL_REPEATED ?
			*(const size_t *)CMEMBER(m, f->quantifier_offset) : 1;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			sub = *(ProtobufCMessage *const *const *)sub;
		for (j = 0; j < n; j++)
			if (sub[j] && !tags_ok(sub[j]))
				return false;
	}
	return true;
}

static int print_entries(struct ew *w, struct est_parser *p)
{
	unsigned int items = 0, n;
	struct est_entry e;
	int ret;

	ew_open(w, '[');
	while ((ret = est_parse_next(p, &e)) == 1) {
		if (!tags_ok(e.msg)) {
			pr_err("%s: entry at offset %zu has a field numbered 0 or above 2^29",
			       p->name, e.offset);
			est_entry_release(&e);
			return -1;
		}
		n = 0;
		ew_item(w, &items);
		ew_open(w, '{');
		print_fields(w, e.msg, false, &n);
		if (has_extra(p->kind, &e))
			print_extra(w, p->kind, &e, &n);
		ew_close(w, '}', n);
		est_entry_release(&e);
	}
	ew_close(w, ']', items);
	return ret;
}

int est_to_json(const struct est_kind *kind, const uint8_t *buf, size_t len,
		const char *name, bool pretty, unsigned int level, struct jbuf *jb)
{
	struct ew w = { .jb = jb, .pretty = pretty, .depth = level };
	struct est_parser p;
	unsigned int n = 0;
	int ret;

	if (est_parse_init(&p, kind, buf, len, name))
		return -1;
	ew_open(&w, '{');
	ew_key(&w, &n, "magic");
	est_put_string(jb, kind->name, strlen(kind->name));
	ew_key(&w, &n, "entries");
	ret = print_entries(&w, &p);
	ew_close(&w, '}', n);
	if (jb->oom)
		return -1;
	return ret;
}
