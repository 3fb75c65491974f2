/*
 * Image framing and the show/encode round trip.
 *
 * Every kind is written with fully populated entries, shown as JSON, encoded
 * back from that JSON, and the two files must be byte-identical (and show the
 * same JSON). The framing cases build broken files by hand and check that the
 * reader refuses them for the right reason (the log says which).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "est-cpuinfo.h"
#include "files.pb-c.h"
#include "image.h"
#include "inventory.pb-c.h"
#include "json.h"
#include "log.h"
#include "pagemap.pb-c.h"
#include "pbjson.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"
#include "tmpdir.h"
#include "unit.h"

/* ---- helpers ----------------------------------------------------------------- */

static int tfd = -1;

/* A fresh empty directory for one case; errors and worse go to its "log". */
static int fresh_dir(void)
{
	tfd = unit_fresh_dir("image");
	if (tfd < 0)
		return -1;
	return log_init(unit_dir_path(), "log", LOG_ERROR);
}

static uint8_t *slurp(int dirfd, const char *name, size_t *len)
{
	static uint8_t buf[1 << 20];
	int fd = openat(dirfd, name, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return NULL;
	*len = n;
	return buf;
}

static int put_file(const char *name, const void *data, size_t len)
{
	int fd = openat(tfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Whether the case's log mentions @what. */
static bool logged(const char *what)
{
	size_t len;
	char *text = (char *)slurp(tfd, "log", &len);

	if (!text)
		return false;
	text[len] = '\0';
	return strstr(text, what) != NULL;
}

static int write_image(int dirfd, enum img_kind kind, unsigned int id,
		       ProtobufCMessage **msgs, unsigned int n)
{
	struct cr_img *img = img_create(dirfd, kind, id);
	unsigned int i;

	if (!img)
		return -1;
	for (i = 0; i < n; i++) {
		if (img_write_entry(img, msgs[i])) {
			img_abort(img);
			return -1;
		}
	}
	return img_commit(img);
}

/* JSON of @name in @dirfd, in a static buffer. */
static char *show(int dirfd, const char *name)
{
	static char text[1 << 16];
	struct jbuf jb;
	int ret;

	jbuf_init(&jb);
	ret = img_to_json(dirfd, name, &jb, 0);
	if (!ret && jb.len < sizeof(text))
		memcpy(text, jb.buf, jb.len + 1);
	else
		ret = -1;
	jbuf_free(&jb);
	return ret ? NULL : text;
}

/*
 * Write @msgs as image @kind, show it, encode the JSON into a subdirectory
 * and compare the bytes and the JSON. @expect, if set, must appear in the JSON.
 */
static int round_trip(enum img_kind kind, unsigned int id, ProtobufCMessage **msgs,
		      unsigned int n, const char *expect)
{
	char name[64], json[1 << 16], *again;
	uint8_t orig[1 << 16], *copy;
	size_t olen, clen;
	struct json_value *doc;
	int sub, ret;

	CHECK(fresh_dir() == 0);
	snprintf(name, sizeof(name), img_desc(kind)->fmt, id);
	CHECK(write_image(tfd, kind, id, msgs, n) == 0);
	copy = slurp(tfd, name, &olen);
	CHECK(copy && olen < sizeof(orig));
	memcpy(orig, copy, olen);
	again = show(tfd, name);
	CHECK(again != NULL);
	strcpy(json, again);
	if (expect)
		CHECK(strstr(json, expect) != NULL);
	doc = json_parse(json, strlen(json), name, NULL);
	CHECK(doc != NULL);
	CHECK(mkdirat(tfd, "enc", 0700) == 0);
	sub = openat(tfd, "enc", O_RDONLY | O_DIRECTORY);
	ret = json_to_img(doc, name, sub, name);
	json_free(doc);
	CHECK(ret == 0);
	copy = slurp(sub, name, &clen);
	CHECK(copy && clen == olen && !memcmp(copy, orig, olen));
	again = show(sub, name);
	close(sub);
	CHECK(again && !strcmp(again, json));
	return 0;
}

/* ---- fully populated entries ---------------------------------------------------- */

static uint32_t cpuid_words[] = { 0x7ffafbff, 0xbfebfbff, 0x029c67af, 0x00000000,
				  0xbc000400, 0x00000121, 0x2c100800, 0xffffffff, 0 };

static CpuInfoEntry cpu = {
	PROTOBUF_C_MESSAGE_INIT(&cpu_info_entry__descriptor),
	.vendor = "GenuineIntel", .family = 6, .model = 142, .stepping = 10,
	.n_cpuid_words = 9, .cpuid_words = cpuid_words,
	.xfeatures_mask = UINT64_MAX, .xsave_size = 2696,
};

static InventoryEntry inventory = {
	PROTOBUF_C_MESSAGE_INIT(&inventory_entry__descriptor),
	.img_version = 1,
	.tool_version = "4.0 \"quoted\" back\\slash\ttab\nnewline/\x01\x1f\x7f",
	.kernel_release = "6.1.0-ü-日本-😀",
	.arch = "x86_64\xff\xfe\xc3 bad utf-8",
	.page_size = 4096,
	.has_root_pid = 1, .root_pid = UINT32_MAX,
	.cpu = &cpu,
	.has_shell_job = 1, .shell_job = 1,
	.has_tcp_established = 1, .tcp_established = 0,
	.has_dump_time_ns = 1, .dump_time_ns = 0x8000000000000001ull,
	.has_pre_dump = 1, .pre_dump = 1,
	.parent_dir = "../prev dir/\\",
};

static int test_rt_inventory(void)
{
	ProtobufCMessage *m[] = { &inventory.base };

	return round_trip(IMG_INVENTORY, 0, m, 1,
			  "\"tool_version\": \"4.0 \\\"quoted\\\" back\\\\slash\\ttab\\nnewline/"
			  "\\u0001\\u001f\\u007f\"");
}

static int test_rt_inventory_utf8(void)
{
	ProtobufCMessage *m[] = { &inventory.base };

	CHECK(round_trip(IMG_INVENTORY, 0, m, 1, "\"kernel_release\": \"6.1.0-ü-日本-😀\"") == 0);
	CHECK(round_trip(IMG_INVENTORY, 0, m, 1, "\"arch\": \"x86_64\\udcff\\udcfe\\udcc3 bad") == 0);
	return round_trip(IMG_INVENTORY, 0, m, 1, "\"dump_time_ns\": 9223372036854775809,");
}

static int test_rt_inventory_minimal(void)
{
	InventoryEntry e = INVENTORY_ENTRY__INIT;
	ProtobufCMessage *m[] = { &e.base };

	e.tool_version = e.kernel_release = e.arch = "";
	CHECK(round_trip(IMG_INVENTORY, 0, m, 1, NULL) == 0);
	/* Unset optional fields are left out. */
	CHECK(!strstr(show(tfd, "inventory.img"), "root_pid"));
	return 0;
}

/* cpuinfo.img is written in the established format and read back whole. */
static int test_est_cpuinfo(void)
{
	CpuInfoEntry back;
	size_t i;

	CHECK(est_cpuinfo_read(tfd, &back) == 1);	/* none yet */
	CHECK(est_cpuinfo_write(tfd, &cpu) == 0);
	CHECK(est_cpuinfo_read(tfd, &back) == 0);
	CHECK(!strcmp(back.vendor, "GenuineIntel") && back.family == 6 && back.model == 142 &&
	      back.stepping == 10 && back.xfeatures_mask == UINT64_MAX && back.xsave_size == 2696);
	/* the seven words ours defines survive; the format has no place for more */
	CHECK(back.n_cpuid_words == 7);
	for (i = 0; i < 7; i++)
		CHECK(back.cpuid_words[i] == cpuid_words[i]);
	cpu_info_release(&back);
	return 0;	/* crit reads it: every e2e dump has one (test/crit_check.py) */
}

static DumpStatsEntry dstats = {
	PROTOBUF_C_MESSAGE_INIT(&dump_stats_entry__descriptor),
	.freezing_time = 1, .frozen_time = 123456789012ull, .memdump_time = 3,
	.memwrite_time = 4, .pages_scanned = UINT64_MAX, .pages_skipped = 0,
	.pages_written = 1ull << 53 | 1,
	.has_irmap_resolve = 1, .irmap_resolve = 8, .has_pages_lazy = 1, .pages_lazy = 9,
	.has_tasks = 1, .tasks = 10, .has_threads = 1, .threads = 11,
};

static RestoreStatsEntry rstats = {
	PROTOBUF_C_MESSAGE_INIT(&restore_stats_entry__descriptor),
	.forking_time = 100, .restore_time = 200, .pages_restored = 300,
	.has_tasks = 1, .tasks = 4,
};

static int test_rt_stats(void)
{
	StatsEntry s = STATS_ENTRY__INIT;
	ProtobufCMessage *m[] = { &s.base };

	s.dump = &dstats;
	s.restore = &rstats;
	return round_trip(IMG_STATS_DUMP, 0, m, 1, "\"pages_written\": 9007199254740993,");
}

static int test_rt_pstree(void)
{
	static uint32_t t1[] = { 1, 2, 3 }, t2[] = { 4000000000u, 17 };
	PstreeEntry e[3] = { PSTREE_ENTRY__INIT, PSTREE_ENTRY__INIT, PSTREE_ENTRY__INIT };
	ProtobufCMessage *m[] = { &e[0].base, &e[1].base, &e[2].base };

	e[0].pid = 1, e[0].ppid = 0, e[0].pgid = 1, e[0].sid = 1;
	e[0].n_threads = 3, e[0].threads = t1;
	e[1].pid = 4000000000u, e[1].ppid = 1, e[1].pgid = 1, e[1].sid = UINT32_MAX;
	e[1].n_threads = 2, e[1].threads = t2;
	e[2].pid = 5, e[2].ppid = 1;
	return round_trip(IMG_PSTREE, 0, m, 3, "\"threads\": [4000000000, 17]");
}

static int test_rt_pagemap(void)
{
	PagemapHead h = PAGEMAP_HEAD__INIT;
	PagemapEntry e[3] = { PAGEMAP_ENTRY__INIT, PAGEMAP_ENTRY__INIT, PAGEMAP_ENTRY__INIT };
	ProtobufCMessage *m[] = { &h.base, &e[0].base, &e[1].base, &e[2].base };

	h.pages_id = 7;
	e[0].vaddr = 0x400000, e[0].nr_pages = 16, e[0].has_flags = 1, e[0].flags = 1;
	e[1].vaddr = 0x7ffffffff000ull, e[1].nr_pages = 1, e[1].has_flags = 1, e[1].flags = 6;
	e[2].vaddr = UINT64_MAX & ~0xfffull, e[2].nr_pages = UINT32_MAX;
	return round_trip(IMG_PAGEMAP, 4294967295u, m, 4, "\"pages_id\": 7");
}

/* ---- every kind, populated by reflection --------------------------------------- */

static void gen_message(struct jbuf *jb, const ProtobufCMessageDescriptor *d, unsigned int depth);

static void gen_value(struct jbuf *jb, const ProtobufCFieldDescriptor *f, unsigned int depth,
		      unsigned int i)
{
	static const char *ints[] = {
		[PROTOBUF_C_TYPE_INT32] = "-123456", [PROTOBUF_C_TYPE_SINT32] = "-2147483648",
		[PROTOBUF_C_TYPE_SFIXED32] = "2147483647", [PROTOBUF_C_TYPE_INT64] = "-1",
		[PROTOBUF_C_TYPE_SINT64] = "-9223372036854775808",
		[PROTOBUF_C_TYPE_SFIXED64] = "9223372036854775807", [PROTOBUF_C_TYPE_UINT32] = "4294967295",
		[PROTOBUF_C_TYPE_FIXED32] = "4294967294", [PROTOBUF_C_TYPE_UINT64] = "18446744073709551615",
		[PROTOBUF_C_TYPE_FIXED64] = "18446744073709551614", [PROTOBUF_C_TYPE_FLOAT] = "1.5",
		[PROTOBUF_C_TYPE_DOUBLE] = "0.1", [PROTOBUF_C_TYPE_BOOL] = "true",
		[PROTOBUF_C_TYPE_BYTES] = "\"00ff7f\"",
		[PROTOBUF_C_TYPE_STRING] = "\"s \\\"q\\\" \\\\ \\u00e9 \\udcff \\n\"",
	};
	const ProtobufCEnumDescriptor *ed;

	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		gen_message(jb, f->descriptor, depth + 1);
	} else if (f->type == PROTOBUF_C_TYPE_ENUM) {
		ed = f->descriptor;
		json_put_string(jb, ed->values[i % ed->n_values].name,
				strlen(ed->values[i % ed->n_values].name));
	} else if (f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_UINT64) {
		jbuf_puts(jb, i == 1 ? "0" : ints[f->type]);	/* vary repeated elements */
	} else {
		jbuf_puts(jb, ints[f->type]);
	}
}

/* Every field set; repeated fields get three elements; one member per oneof. */
static void gen_message(struct jbuf *jb, const ProtobufCMessageDescriptor *d, unsigned int depth)
{
	uint32_t oneof_done[8] = { 0 };
	unsigned int i, j, n = 0, k;
	static unsigned int n_self;

	jbuf_putn(jb, "{", 1);
	if (!depth)
		n_self = 0;
	for (i = 0; i < d->n_fields && depth < 8; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		/* a message holding more of itself (a cgroup's children): one level */
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor == d && n_self++)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			for (k = 0; k < n && oneof_done[k] != f->quantifier_offset; k++)
				;
			if (k < n || n == 8)
				continue;
			oneof_done[n++] = f->quantifier_offset;
		}
		jbuf_printf(jb, "%s\"%s\": ", i ? ", " : "", f->name);
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			gen_value(jb, f, depth, 0);
			continue;
		}
		jbuf_putn(jb, "[", 1);
		for (j = 0; j < 3; j++) {
			jbuf_puts(jb, j ? ", " : "");
			gen_value(jb, f, depth, j);
		}
		jbuf_putn(jb, "]", 1);
	}
	jbuf_putn(jb, "}", 1);
}

/* Encode a generated document, show it, encode that: same bytes, every field shown. */
static int generated_round_trip(enum img_kind kind)
{
	const struct img_desc *d = img_desc(kind);
	unsigned int i, n = d->max_entries ? d->max_entries : 3;
	char name[64], *shown;
	uint8_t first[1 << 16], *again;
	struct json_value *doc;
	size_t len, len2;
	struct jbuf jb;
	int ret;

	jbuf_init(&jb);
	jbuf_printf(&jb, "{\"magic\": \"%s\", \"entries\": [", d->name);
	for (i = 0; i < n; i++) {
		jbuf_puts(&jb, i ? ", " : "");
		gen_message(&jb, i == 0 && d->head ? d->head : d->pb, 0);
	}
	jbuf_puts(&jb, "]}");
	doc = json_parse(jb.buf, jb.len, "generated", NULL);
	jbuf_free(&jb);
	CHECK(doc != NULL);
	snprintf(name, sizeof(name), d->fmt, 1u);
	ret = json_to_img(doc, "generated", tfd, name);
	json_free(doc);
	CHECK(ret == 0);
	again = slurp(tfd, name, &len);
	CHECK(again && len < sizeof(first));
	memcpy(first, again, len);
	shown = show(tfd, name);
	CHECK(shown);
	for (i = 0; i < d->pb->n_fields; i++)
		CHECK(strstr(shown, d->pb->fields[i].name));
	doc = json_parse(shown, strlen(shown), "shown", NULL);
	CHECK(doc != NULL);
	ret = json_to_img(doc, "shown", tfd, name);
	json_free(doc);
	CHECK(ret == 0);
	again = slurp(tfd, name, &len2);
	CHECK(again && len2 == len && !memcmp(again, first, len));
	return 0;
}

static int test_rt_every_kind(void)
{
	int k;

	CHECK(fresh_dir() == 0);
	for (k = 0; k < IMG_KIND_MAX; k++) {
		if (!img_desc(k)->pb)
			continue;
		if (generated_round_trip(k)) {
			size_t n = strlen(unit_why);

			snprintf(unit_why + n, sizeof(unit_why) - n, " (kind %s)", img_desc(k)->name);
			return -1;
		}
	}
	return 0;
}

static int test_pages_summary(void)
{
	static uint8_t data[4 * 4096 + 100];
	const char *text;

	CHECK(fresh_dir() == 0);
	data[4096 + 5] = 1;
	CHECK(put_file("pages-3.img", data, sizeof(data)) == 0);
	text = show(tfd, "pages-3.img");
	CHECK(text != NULL);
	CHECK(strstr(text, "\"magic\": \"pages\""));
	CHECK(strstr(text, "\"size\": 16484, \"page_size\": 4096, \"pages\": 4,"));
	CHECK(strstr(text, "\"zero_pages\": 3, \"tail_bytes\": 100"));
	return 0;
}

/* ---- framing ------------------------------------------------------------------ */

static int test_write_read_back(void)
{
	static uint32_t th[] = { 10, 11 };
	PstreeEntry e = PSTREE_ENTRY__INIT;
	ProtobufCMessage *m[] = { &e.base, &e.base }, *got;
	struct cr_img *img;
	PstreeEntry *p;

	CHECK(fresh_dir() == 0);
	e.pid = 10, e.ppid = 1, e.pgid = 2, e.sid = 3, e.n_threads = 2, e.threads = th;
	CHECK(write_image(tfd, IMG_PSTREE, 0, m, 2) == 0);
	img = img_open(tfd, IMG_PSTREE, 0);
	CHECK(img != NULL);
	CHECK(img_read_entry(img, &got) == 1);
	p = (PstreeEntry *)got;
	CHECK(p->pid == 10 && p->sid == 3 && p->n_threads == 2 && p->threads[1] == 11);
	img_free_entry(got);
	CHECK(img_read_entry(img, &got) == 1);
	img_free_entry(got);
	CHECK(img_read_entry(img, &got) == 0 && got == NULL);
	img_close(img);
	return 0;
}

/* An inventory file: magic, then @body as is. Returns the read result of entry 1. */
static int read_inventory_with(const void *body, size_t len, int *second)
{
	uint8_t buf[256] = { 'I', 'N', 'V', 'T' };
	ProtobufCMessage *m = NULL;
	struct cr_img *img;
	int ret;

	memcpy(buf + 4, body, len);
	if (put_file("inventory.img", buf, len + 4))
		return -2;
	img = img_open(tfd, IMG_INVENTORY, 0);
	if (!img)
		return -3;
	ret = img_read_entry(img, &m);
	img_free_entry(m);
	if (second) {
		*second = img_read_entry(img, &m);
		img_free_entry(m);
	}
	img_close(img);
	return ret;
}

/* A valid packed inventory entry in @buf after its 4-byte size; returns the total. */
static size_t packed_inventory(uint8_t *buf)
{
	size_t n = protobuf_c_message_pack(&inventory.base, buf + 4);

	buf[0] = n, buf[1] = n >> 8, buf[2] = buf[3] = 0;
	return n + 4;
}

static int test_wrong_magic(void)
{
	static const uint8_t bad[] = { 'I', 'N', 'V', 'X', 0, 0, 0, 0 };
	struct cr_img *img;

	CHECK(fresh_dir() == 0);
	CHECK(put_file("inventory.img", bad, sizeof(bad)) == 0);
	CHECK(img_open(tfd, IMG_INVENTORY, 0) == NULL);
	CHECK(logged("wrong magic"));
	img = img_open_file(tfd, "inventory.img");
	img_close(img);
	CHECK(img == NULL);
	CHECK(logged("unknown magic"));
	CHECK(put_file("inventory.img", bad, 3) == 0);
	CHECK(img_open(tfd, IMG_INVENTORY, 0) == NULL);
	CHECK(logged("too short"));
	return 0;
}

/* img_open_fd must find a protobuf kind by its magic, whatever the name. */
static int test_open_fd_by_magic(void)
{
	ProtobufCMessage *m[] = { &inventory.base }, *got = NULL;
	const struct img_desc *d;
	struct cr_img *img;
	int fd;

	CHECK(fresh_dir() == 0);
	CHECK(write_image(tfd, IMG_INVENTORY, 0, m, 1) == 0);
	fd = openat(tfd, "inventory.img", O_RDONLY);
	CHECK(fd >= 0);
	img = img_open_fd(fd, "some-copy.bin");
	CHECK(img != NULL);
	d = img_kind_of(img);
	if (!d || d != img_desc(IMG_INVENTORY) || img_read_entry(img, &got) != 1) {
		img_close(img);
		CHECK(!"img_open_fd did not read the inventory by its magic");
	}
	img_free_entry(got);
	img_close(img);
	return 0;
}

static int test_truncated(void)
{
	uint8_t buf[256];
	size_t n;

	CHECK(fresh_dir() == 0);
	CHECK(read_inventory_with("\x10\x00", 2, NULL) == -1);
	CHECK(logged("truncated entry size"));
	n = packed_inventory(buf);
	CHECK(read_inventory_with(buf, n, NULL) == 1);
	CHECK(read_inventory_with(buf, n - 1, NULL) == -1);
	CHECK(logged("truncated entry at offset 4"));
	return 0;
}

static int test_over_cap(void)
{
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 1, 2, 3 };
	static const uint8_t cap1[] = { 0x01, 0x00, 0x01, 0x00 };	/* 64 KiB + 1 */

	CHECK(fresh_dir() == 0);
	CHECK(read_inventory_with(huge, sizeof(huge), NULL) == -1);
	/* Refused for its size, not because a 4 GiB malloc failed or data ran out. */
	CHECK(logged("claims 4294967295 bytes, cap is 65536"));
	CHECK(!logged("out of memory") && !logged("truncated"));
	CHECK(read_inventory_with(cap1, sizeof(cap1), NULL) == -1);
	CHECK(logged("claims 65537 bytes"));
	return 0;
}

static int test_trailing_garbage(void)
{
	uint8_t buf[256];
	size_t n;
	int second;

	CHECK(fresh_dir() == 0);
	n = packed_inventory(buf);
	memcpy(buf + n, "\x02\x00\x00\x00\x08\x01", 6);	/* a second, well-formed entry */
	CHECK(read_inventory_with(buf, n + 6, &second) == 1);
	CHECK(second == -1);
	CHECK(logged("trailing data"));
	CHECK(read_inventory_with(buf, n + 1, &second) == 1 && second == -1);
	CHECK(read_inventory_with(buf, n, &second) == 1 && second == 0);
	return 0;
}

static int test_malformed_protobuf(void)
{
	/* Field 1 as a varint that never ends, then a required-field-less entry. */
	static const uint8_t bad[] = { 0x04, 0, 0, 0, 0x08, 0xff, 0xff, 0xff };
	static const uint8_t empty[] = { 0x00, 0, 0, 0 };

	CHECK(fresh_dir() == 0);
	CHECK(read_inventory_with(bad, sizeof(bad), NULL) == -1);
	CHECK(logged("malformed inventory_entry entry at offset 4"));
	CHECK(read_inventory_with(empty, sizeof(empty), NULL) == -1);
	return 0;
}

static int test_part_invisible(void)
{
	ProtobufCMessage *m[] = { &inventory.base };
	struct cr_img *img;
	struct stat st;

	CHECK(fresh_dir() == 0);
	img = img_create(tfd, IMG_INVENTORY, 0);
	CHECK(img != NULL);
	CHECK(img_write_entry(img, &inventory.base) == 0);
	CHECK(faccessat(tfd, "inventory.img", F_OK, 0) == -1 && errno == ENOENT);
	CHECK(fstatat(tfd, ".inventory.img.part", &st, 0) == 0);
	/* show of the directory skips the hidden part file: nothing to show */
	CHECK(img_open_file(tfd, "inventory.img") == NULL);
	img_abort(img);
	CHECK(faccessat(tfd, ".inventory.img.part", F_OK, 0) == -1 && errno == ENOENT);
	CHECK(faccessat(tfd, "inventory.img", F_OK, 0) == -1);
	CHECK(write_image(tfd, IMG_INVENTORY, 0, m, 1) == 0);
	CHECK(faccessat(tfd, ".inventory.img.part", F_OK, 0) == -1);
	return 0;
}

static int test_mode_0600(void)
{
	ProtobufCMessage *m[] = { &inventory.base };
	mode_t old = umask(0);
	struct stat st;
	int ret;

	CHECK(fresh_dir() == 0);
	ret = write_image(tfd, IMG_INVENTORY, 0, m, 1);
	umask(old);
	CHECK(ret == 0);
	CHECK(fstatat(tfd, "inventory.img", &st, 0) == 0);
	CHECK((st.st_mode & 07777) == 0600);
	return 0;
}

static int test_writer_limits(void)
{
	struct cr_img *img;
	PagemapEntry e = PAGEMAP_ENTRY__INIT;

	CHECK(fresh_dir() == 0);
	img = img_create(tfd, IMG_INVENTORY, 0);
	CHECK(img != NULL);
	CHECK(img_write_entry(img, &inventory.base) == 0);
	CHECK(img_write_entry(img, &inventory.base) == -1);	/* max one entry */
	img_abort(img);
	img = img_create(tfd, IMG_PAGEMAP, 1);
	CHECK(img != NULL);
	CHECK(img_write_entry(img, &e.base) == -1);		/* head must come first */
	img_abort(img);
	CHECK(faccessat(tfd, ".pagemap-1.img.part", F_OK, 0) == -1);
	return 0;
}

/* ---- encode's own checks --------------------------------------------------------- */

static int encode_text(const char *text, const char *out)
{
	struct json_value *doc = json_parse(text, strlen(text), "t.json", NULL);
	int ret;

	if (!doc)
		return -2;
	ret = json_to_img(doc, "t.json", tfd, out);
	json_free(doc);
	return ret;
}

static int test_encode_rejects(void)
{
	CHECK(fresh_dir() == 0);
	CHECK(encode_text("{\"magic\": \"pstree\", \"entries\": []}", "pstree.img") == 0);
	CHECK(encode_text("{\"magic\": \"pstree\", \"entries\": []}", "pstree2.img") == -1);
	CHECK(logged("must be named like"));
	CHECK(encode_text("{\"magic\": \"pagemap\", \"entries\": []}", "pagemap-01.img") == -1);
	CHECK(encode_text("{\"magic\": \"pagemap\", \"entries\": []}", "pagemap-4294967296.img") == -1);
	CHECK(encode_text("{\"magic\": \"pagemap\", \"entries\": []}", "pagemap-12.img") == 0);
	CHECK(encode_text("{\"magic\": \"nope\", \"entries\": []}", "pstree.img") == -1);
	CHECK(logged("t.json:1:11: unknown image kind \"nope\""));
	CHECK(encode_text("{\"magic\": \"pages\", \"entries\": []}", "pages-1.img") == -1);
	CHECK(encode_text("{\"magic\": \"pstree\"}", "pstree.img") == -1);
	CHECK(encode_text("{\"magic\": \"pstree\", \"entries\": [], \"x\": 1}", "pstree.img") == -1);
	CHECK(encode_text("{\"magic\": \"pstree\", \"entries\": [{\"pid\": 1, \"ppid\": 0, "
			  "\"pgid\": 1, \"sid\": 4294967296}]}", "pstree.img") == -1);
	CHECK(logged("t.json:1:73: pstree_entry.sid: expected an integer from 0 to 4294967295"));
	CHECK(encode_text("{\"magic\": \"inventory\", \"entries\": [{}, {}]}", "inventory.img") == -1);
	CHECK(logged("required field \"img_version\" is missing"));
	/* Failed encodes leave nothing behind. */
	CHECK(faccessat(tfd, "inventory.img", F_OK, 0) == -1);
	CHECK(faccessat(tfd, ".inventory.img.part", F_OK, 0) == -1);
	return 0;
}

/* Raw kinds are known by name alone: the id part must be all digits. */
static int test_kind_by_name(void)
{
	static const struct { const char *name; bool is_pages; } t[] = {
		{ "pages-1.img", true }, { "dir/pages-4294967295.img", true },
		{ "pages-1.old.img", false }, { "pages-.img", false }, { "pages-12a.img", false },
		{ "xpages-1.img", false }, { "pages-1.img.part", false },
	};
	const struct img_desc *pages = img_desc(IMG_PAGES);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		const struct img_desc *got = img_desc_find(t[i].name, 0, false);
		const struct img_desc *want = t[i].is_pages ? pages : NULL;

		if (got != want) {
			snprintf(unit_why, sizeof(unit_why), "%s taken as %s", t[i].name,
				 got ? got->name : "nothing");
			return -1;
		}
	}
	return 0;
}

/* ---- img_read_all ----------------------------------------------------------- */

#define RA_N	40	/* more than the first allocation, so the array must grow */

struct ra_ctx {
	ProtobufCMessage ***out;	/* the caller's array, seen while reading */
	size_t *nr;
	unsigned int calls;
	bool ordered;			/* every earlier entry was visible, in order */
	uint32_t refuse_fd;		/* refuse the entry with this fd (0: none) */
};

static int ra_check(const ProtobufCMessage *m, void *arg)
{
	const FdEntry *fe = (const FdEntry *)m;
	struct ra_ctx *c = arg;
	size_t i;

	if (*c->nr != c->calls)
		c->ordered = false;
	for (i = 0; i < *c->nr; i++)
		if (((FdEntry *)(*c->out)[i])->fd != 100 + i)
			c->ordered = false;
	c->calls++;
	if (fe->fd == c->refuse_fd) {
		pr_err("test: refusing fd %u", fe->fd);
		return -1;
	}
	return 0;
}

/* fds-7.img with RA_N entries, fd 100 + i. */
static int ra_write(void)
{
	FdEntry e[RA_N];
	ProtobufCMessage *m[RA_N];
	unsigned int i;

	for (i = 0; i < RA_N; i++) {
		fd_entry__init(&e[i]);
		e[i].fd = 100 + i;
		e[i].kind = FD_KIND__FD_REG;
		e[i].id = i;
		m[i] = &e[i].base;
	}
	return write_image(tfd, IMG_FDS, 7, m, RA_N);
}

static int test_read_all(void)
{
	ProtobufCMessage *junk = NULL, **v = &junk;	/* must be reset */
	size_t nr = 99, i;
	struct ra_ctx c = { &v, &nr, 0, true, 0 };

	/* No such image: nothing returned. */
	CHECK(fresh_dir() == 0);
	CHECK(img_read_all(tfd, IMG_FDS, 7, 0, NULL, NULL, &v, &nr) == -1);
	CHECK(v == NULL && nr == 0);

	/* Success: every entry, in order, each vetted once with the earlier ones visible. */
	CHECK(ra_write() == 0);
	CHECK(img_read_all(tfd, IMG_FDS, 7, RA_N, ra_check, &c, &v, &nr) == 0);
	CHECK(nr == RA_N && v != NULL && c.calls == RA_N && c.ordered);
	for (i = 0; i < nr; i++)
		CHECK(((FdEntry *)v[i])->fd == 100 + i && ((FdEntry *)v[i])->id == i);
	img_free_all(v, nr);

	/* No check, no cap. */
	CHECK(img_read_all(tfd, IMG_FDS, 7, 0, NULL, NULL, &v, &nr) == 0);
	CHECK(nr == RA_N && ((FdEntry *)v[RA_N - 1])->fd == 100 + RA_N - 1);
	img_free_all(v, nr);

	/* Cap exceeded by one: refused before @check sees the extra entry, all freed. */
	c.calls = 0;
	CHECK(img_read_all(tfd, IMG_FDS, 7, RA_N - 1, ra_check, &c, &v, &nr) == -1);
	CHECK(v == NULL && nr == 0 && c.calls == RA_N - 1);
	CHECK(logged("fds-7.img: more than 39 entries"));

	/* @check refuses the 20th entry (after the array has grown): all freed. */
	CHECK(fresh_dir() == 0);
	CHECK(ra_write() == 0);
	c.calls = 0;
	c.refuse_fd = 119;
	CHECK(img_read_all(tfd, IMG_FDS, 7, 0, ra_check, &c, &v, &nr) == -1);
	CHECK(v == NULL && nr == 0 && c.calls == 20 && c.ordered);
	CHECK(logged("test: refusing fd 119"));
	CHECK(!logged("more than"));

	/* A broken entry after good ones: the read error fails it, all freed. */
	{
		size_t len;
		uint8_t *buf = slurp(tfd, "fds-7.img", &len);

		CHECK(buf && len > 10);
		CHECK(put_file("fds-7.img", buf, len - 1) == 0);
	}
	CHECK(img_read_all(tfd, IMG_FDS, 7, 0, NULL, NULL, &v, &nr) == -1);
	CHECK(v == NULL && nr == 0);
	CHECK(logged("truncated entry"));

	img_free_all(NULL, 0);
	return 0;
}

static const struct unit_case cases[] = {
	{ "round trip: inventory, every field and escapes", test_rt_inventory },
	{ "round trip: inventory, UTF-8, raw bytes, 64-bit", test_rt_inventory_utf8 },
	{ "round trip: inventory, only required fields", test_rt_inventory_minimal },
	{ "round trip: stats-dump and stats-restore", test_rt_stats },
	{ "round trip: pstree, several entries", test_rt_pstree },
	{ "round trip: pagemap head and entries", test_rt_pagemap },
	{ "cpuinfo.img in the established format", test_est_cpuinfo },
	{ "round trip: every kind, populated by reflection", test_rt_every_kind },
	{ "show: raw page file summary", test_pages_summary },
	{ "framing: write and read back", test_write_read_back },
	{ "framing: wrong magic", test_wrong_magic },
	{ "framing: img_open_fd finds the kind by magic", test_open_fd_by_magic },
	{ "framing: truncated size and entry", test_truncated },
	{ "framing: entry over the cap fails before allocating", test_over_cap },
	{ "framing: trailing data after the single entry", test_trailing_garbage },
	{ "framing: malformed protobuf", test_malformed_protobuf },
	{ "framing: uncommitted .part is invisible, abort removes it", test_part_invisible },
	{ "framing: committed file mode is 0600", test_mode_0600 },
	{ "framing: writer entry count and type checks", test_writer_limits },
	{ "encode: names, kinds, ranges, required fields", test_encode_rejects },
	{ "raw kinds by name: digits only", test_kind_by_name },
	{ "read all: cap, check refusing, read error, success", test_read_all },
};

UNIT_MAIN(cases)
