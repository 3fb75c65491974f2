/*
 * The schemas of the established format (images/est/) and its framing
 * (criu/est-image.c) against images the established tool wrote: the golden
 * sets in <repo>/../shared/golden (or $CRIU_GOLDEN_DIR). For every file of
 * every set: the magic words fit the file name, every entry unpacks with the
 * kind's type, leaves no unknown field anywhere (so the schemas cover all the
 * tool wrote) and packs back to the very same bytes; the extra payloads and
 * raw page files have the sizes their entries announce. A few known values
 * are then checked per set, and, where Debian's crit is installed, every
 * file's field names are compared with the keys of `crit decode`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "est-image.h"
#include "json.h"
#include "log.h"
#include "unit.h"

#include "est/core.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/inventory.pb-c.h"
#include "est/mm.pb-c.h"
#include "est/pagemap.pb-c.h"
#include "est/pipe-data.pb-c.h"
#include "est/pstree.pb-c.h"
#include "est/sk-packet.pb-c.h"
#include "est/stats.pb-c.h"

#define PAGE		4096u
#define MAX_FILES	64
#define CRIT		"/usr/bin/crit"

#define FAILF(...)								\
	do {									\
		snprintf(unit_why, sizeof(unit_why), __VA_ARGS__);		\
		return -1;							\
	} while (0)

struct gfile {
	char name[NAME_MAX + 1];
	const struct est_kind *kind;
	uint8_t *buf;
	size_t len;
	unsigned int n;			/* entries */
	struct est_entry *e;
};

struct gset {
	char dir[PATH_MAX];
	unsigned int n;
	struct gfile f[MAX_FILES];
};

static int golden_dir(char *buf, size_t size)
{
	const char *env = getenv("CRIU_GOLDEN_DIR");
	char exe[PATH_MAX - 64];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';		/* <repo>/test/unit */
	snprintf(buf, size, "%s/../../../shared/golden", exe);
	return 0;
}

static int read_whole(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	*buf = NULL;
	if (fd < 0 || fstat(fd, &st) || st.st_size > (64 << 20))
		goto err;
	*buf = malloc(st.st_size ? st.st_size : 1);
	if (!*buf)
		goto err;
	n = read(fd, *buf, st.st_size);
	if (n != st.st_size)
		goto err;
	*len = n;
	close(fd);
	return 0;
err:
	free(*buf);
	if (fd >= 0)
		close(fd);
	return -1;
}

static void set_release(struct gset *s)
{
	unsigned int i, j;

	for (i = 0; i < s->n; i++) {
		for (j = 0; j < s->f[i].n; j++)
			est_entry_release(&s->f[i].e[j]);
		free(s->f[i].e);
		free(s->f[i].buf);
	}
	s->n = 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct gfile *)a)->name, ((const struct gfile *)b)->name);
}

/* Parse, check and keep every entry of one file. */
static int load_file(struct gfile *g)
{
	struct est_parser p;
	struct est_entry e, *grown;
	uint8_t packed[65536];
	size_t size, unknown;
	int ret;

	if (!g->kind->magic)
		return 0;
	if (est_parse_init(&p, g->kind, g->buf, g->len, g->name))
		FAILF("%s: wrong magic for a %s file", g->name, g->kind->name);
	while ((ret = est_parse_next(&p, &e)) == 1) {
		grown = realloc(g->e, (g->n + 1) * sizeof(*grown));
		if (!grown) {
			est_entry_release(&e);
			FAILF("out of memory");
		}
		g->e = grown;
		g->e[g->n++] = e;
		unknown = est_unknown_fields(e.msg);
		if (unknown)
			FAILF("%s: entry %u (%s) has %zu unknown fields", g->name, g->n - 1,
			      e.desc->name, unknown);
		size = protobuf_c_message_get_packed_size(e.msg);
		if (size != e.packed_len || size > sizeof(packed))
			FAILF("%s: entry %u packs to %zu bytes, read %zu", g->name, g->n - 1,
			      size, e.packed_len);
		if (protobuf_c_message_pack(e.msg, packed) != size ||
		    memcmp(packed, e.packed, size))
			FAILF("%s: entry %u packs to other bytes", g->name, g->n - 1);
	}
	if (ret)
		FAILF("%s: framing error (see the log)", g->name);
	if (!g->n)
		FAILF("%s: no entries", g->name);
	return 0;
}

static int load_set(struct gset *s, const char *set)
{
	char root[PATH_MAX - 32], path[PATH_MAX + NAME_MAX + 2];
	struct dirent *de;
	struct gfile *g;
	DIR *d;

	memset(s, 0, sizeof(*s));
	if (golden_dir(root, sizeof(root)))
		FAILF("cannot find this binary");
	snprintf(s->dir, sizeof(s->dir), "%s/%s", root, set);
	d = opendir(s->dir);
	if (!d)
		SKIP("no golden images at %.300s (%s): place shared/ next to the repository "
		     "or set CRIU_GOLDEN_DIR", s->dir, strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (s->n == MAX_FILES) {
			closedir(d);
			FAILF("%.300s: more than %d files", s->dir, MAX_FILES);
		}
		g = &s->f[s->n++];
		snprintf(g->name, sizeof(g->name), "%s", de->d_name);
		snprintf(path, sizeof(path), "%s/%s", s->dir, de->d_name);
		g->kind = est_kind_by_name(g->name);
		if (!g->kind || read_whole(path, &g->buf, &g->len)) {
			closedir(d);
			FAILF("%.300s: %s", path, g->kind ? "unreadable" : "not a kind we know");
		}
	}
	closedir(d);
	qsort(s->f, s->n, sizeof(s->f[0]), cmp_names);
	for (unsigned int i = 0; i < s->n; i++)
		if (load_file(&s->f[i]))
			return -1;
	return 0;
}

static struct gfile *file(struct gset *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].name, name))
			return &s->f[i];
	return NULL;
}

/* Entry @i of @name, or NULL (also when the file is missing). */
static void *entry(struct gset *s, const char *name, unsigned int i)
{
	struct gfile *g = file(s, name);

	return g && i < g->n ? g->e[i].msg : NULL;
}

static unsigned int nr_entries(struct gset *s, const char *name)
{
	struct gfile *g = file(s, name);

	return g ? g->n : 0;
}

/*
 * Every pagemap's present runs, in order, fill its pages-N.img exactly, and
 * every pages file belongs to one pagemap.
 */
static int check_pages(struct gset *s)
{
	unsigned int i, j, used = 0, pages_files = 0;
	char name[64];

	for (i = 0; i < s->n; i++) {
		struct gfile *g = &s->f[i], *pages;
		const Est__PagemapHead *h;
		uint64_t present = 0;

		if (!g->kind->magic)
			pages_files++;
		if (!g->kind->rest || g->kind->rest != &est__pagemap_entry__descriptor)
			continue;
		h = (const void *)g->e[0].msg;
		for (j = 1; j < g->n; j++) {
			const Est__PagemapEntry *pe = (const void *)g->e[j].msg;
			uint64_t nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
			uint32_t flags = pe->has_flags ? pe->flags : 4;

			if (pe->vaddr % PAGE || !nr)
				FAILF("%s: run %u at 0x%llx of %llu pages", g->name, j,
				      (unsigned long long)pe->vaddr, (unsigned long long)nr);
			if (flags & 4)		/* PE_PRESENT */
				present += nr;
		}
		snprintf(name, sizeof(name), "pages-%u.img", h->pages_id);
		pages = file(s, name);
		if (!pages || pages->len != present * PAGE)
			FAILF("%s: %llu present pages, %s has %zu bytes", g->name,
			      (unsigned long long)present, name, pages ? pages->len : 0);
		used++;
	}
	if (used != pages_files)
		FAILF("%u pages files, %u pagemaps", pages_files, used);
	return 0;
}

/* What every set has: inventory, stats, seccomp, timens, one core per tid. */
static int check_common(struct gset *s)
{
	const Est__InventoryEntry *inv = entry(s, "inventory.img", 0);
	const Est__StatsEntry *st = entry(s, "stats-dump", 0);
	const Est__PstreeEntry *pe;
	const Est__CoreEntry *core;
	unsigned int i, t, cores = 0;
	char name[64];

	CHECK(inv && inv->img_version == 2 && inv->has_fdinfo_per_id && inv->fdinfo_per_id);
	CHECK(inv->root_ids && inv->has_lsmtype && inv->lsmtype == EST__LSMTYPE__NO_LSM);
	CHECK(st && st->dump && !st->restore);
	CHECK(nr_entries(s, "seccomp.img") == 1 && nr_entries(s, "timens-0.img") == 1);
	for (i = 0; i < s->n; i++)
		cores += s->f[i].kind->first == &est__core_entry__descriptor;
	for (i = 0; (pe = entry(s, "pstree.img", i)); i++) {
		for (t = 0; t < pe->n_threads; t++, cores--) {
			snprintf(name, sizeof(name), "core-%u.img", pe->threads[t]);
			core = entry(s, name, 0);
			if (!core)
				FAILF("no %s", name);
			CHECK(core->mtype == EST__CORE_ENTRY__MARCH__X86_64);
			CHECK(core->thread_info && core->thread_core);
			CHECK(core->thread_info->gpregs->has_mode &&
			      core->thread_info->gpregs->mode == EST__USER_X86_REGS_MODE__NATIVE);
			CHECK(!core->tc == (t > 0));	/* task state only for the leader */
			CHECK(!core->tc || (core->tc->n_sigactions == 62 &&
					    core->tc->rlimits->n_rlimits == 16));
		}
		snprintf(name, sizeof(name), "mm-%u.img", pe->pid);
		CHECK(nr_entries(s, name) == 1);
	}
	CHECK(cores == 0);		/* no core file outside pstree */
	return check_pages(s);
}

static unsigned int count_files(struct gset *s, Est__FdTypes type)
{
	const Est__FileEntry *fe;
	unsigned int i, n = 0;

	for (i = 0; (fe = entry(s, "files.img", i)); i++)
		n += fe->type == type;
	return n;
}

static int check_single(struct gset *s)
{
	const Est__PstreeEntry *pe = entry(s, "pstree.img", 0);
	const Est__MmEntry *mm = entry(s, "mm-32601.img", 0);
	const Est__PipeDataEntry *pd = entry(s, "pipes-data.img", 0);

	CHECK(nr_entries(s, "pstree.img") == 1 && pe->pid == 32601 && pe->ppid == 0);
	CHECK(pe->n_threads == 1 && pe->threads[0] == 32601);
	CHECK(mm && mm->n_vmas == 11 && nr_entries(s, "pagemap-32601.img") == 1 + 6);
	CHECK(file(s, "pages-1.img")->len == 64 * PAGE);
	CHECK(nr_entries(s, "files.img") == 6 && count_files(s, EST__FD_TYPES__REG) == 4);
	CHECK(count_files(s, EST__FD_TYPES__PIPE) == 2 && nr_entries(s, "fdinfo-2.img") == 5);
	CHECK(nr_entries(s, "pipes-data.img") == 1 && pd->bytes == 40);
	CHECK(file(s, "pipes-data.img")->e[0].extra_len == 40);
	return 0;
}

static int check_tree(struct gset *s)
{
	const Est__PstreeEntry *pe = entry(s, "pstree.img", 0);
	const Est__PstreeEntry *child = entry(s, "pstree.img", 1);
	const Est__CoreEntry *thread = entry(s, "core-32614.img", 0);

	/* 3 processes; the parent's second thread has no pstree entry of its own */
	CHECK(nr_entries(s, "pstree.img") == 3 && pe->pid == 32611 && pe->n_threads == 2);
	CHECK(pe->threads[1] == 32614 && child->ppid == 32611 && child->sid == 32611);
	/* a thread's core has no task state; its own mask is USR1|USR2 */
	CHECK(thread && !thread->tc && thread->thread_core->has_blk_sigset);
	CHECK(thread->thread_core->blk_sigset == 0xa00);
	CHECK(file(s, "pages-1.img")->len == 18 * PAGE);
	CHECK(file(s, "pages-2.img")->len + file(s, "pages-3.img")->len == 62 * PAGE);
	CHECK(nr_entries(s, "files.img") == 8 && nr_entries(s, "fdinfo-3.img") == 3);
	return 0;
}

static int check_fds(struct gset *s)
{
	const Est__FileEntry *fe, *usk[2] = { NULL, NULL };
	const Est__SkPacketEntry *q0 = entry(s, "sk-queues.img", 0);
	const Est__SkPacketEntry *q1 = entry(s, "sk-queues.img", 1);
	unsigned int i, nu = 0, ok = 0;

	for (i = 0; (fe = entry(s, "files.img", i)); i++) {
		if (fe->type == EST__FD_TYPES__UNIXSK && nu < 2)
			usk[nu++] = fe;
		if (fe->type == EST__FD_TYPES__EVENTFD)
			ok += fe->efd && fe->efd->flags == 2050 && fe->efd->counter == 0x1244;
		if (fe->type == EST__FD_TYPES__TIMERFD)
			ok += fe->tfd && (fe->tfd->clockid == 1 ? fe->tfd->isec == 3600 :
					  fe->tfd->ticks == 1);
	}
	CHECK(nr_entries(s, "files.img") == 9 && ok == 3 && nu == 2);
	CHECK(usk[0]->usk && usk[1]->usk);
	CHECK(usk[0]->usk->peer == usk[1]->usk->ino && usk[1]->usk->peer == usk[0]->usk->ino);
	/* each message is filed under the socket whose receive queue holds it */
	CHECK(nr_entries(s, "sk-queues.img") == 2 && q0->id_for == 3 && q0->length == 11);
	CHECK(q1->id_for == 4 && q1->length == 29);
	CHECK(file(s, "sk-queues.img")->e[1].extra_len == q1->length);
	CHECK(nr_entries(s, "fdinfo-2.img") == 8);
	return 0;
}

/* Load set @name, check what all sets have, then what @check knows of it. */
static int run_set(const char *name, int (*check)(struct gset *))
{
	struct gset *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		FAILF("out of memory");
	ret = load_set(s, name);
	if (!ret)
		ret = check_common(s);
	if (!ret)
		ret = check(s);
	set_release(s);
	free(s);
	return ret;
}

static int test_single(void)
{
	return run_set("single", check_single);
}

static int test_tree(void)
{
	return run_set("tree", check_tree);
}

static int test_fds(void)
{
	return run_set("fds", check_fds);
}

/* The table: patterns, magics and hostile names. */
static int test_kind_table(void)
{
	unsigned int i, n;
	const struct est_kind *k = est_kinds(&n);

	CHECK_STR(est_kind_by_name("core-32601.img")->name, "CORE");
	CHECK_STR(est_kind_by_name("pagemap-shmem-77.img")->pattern, "pagemap-shmem-%u.img");
	CHECK_STR(est_kind_by_name("pagemap-12.img")->pattern, "pagemap-%u.img");
	CHECK_STR(est_kind_by_name("ghost-file-1f.img")->name, "GHOST_FILE");
	CHECK_STR(est_kind_by_name("stats-dump")->name, "STATS");
	CHECK_STR(est_kind_by_name("pages-3.img")->name, "pages");
	CHECK(!est_kind_by_name("core-.img"));
	CHECK(!est_kind_by_name("core-1x.img"));
	CHECK(!est_kind_by_name("core-12.img.part"));
	CHECK(!est_kind_by_name("stats-dump.img"));
	CHECK(!est_kind_by_name("ghost-file-1F.img"));
	for (i = 0; i < n; i++) {
		if (!k[i].magic)
			continue;
		CHECK(k[i].head == 0 || k[i].head == EST_MAGIC_COMMON || k[i].head == EST_MAGIC_SERVICE);
		CHECK_STR(est_kind_by_magic(k[i].magic)->name, k[i].name);
	}
	return 0;
}

static int test_framing_rejects(void)
{
	const struct est_kind *pstree = est_kind_by_name("pstree.img");
	const struct est_kind *pipes = est_kind_by_name("pipes-data.img");
	/* head, kind, size 4, pstree {pid 1, ppid 0, pgid 1, sid 1} */
	uint8_t img[] = { 0x19, 0x43, 0x56, 0x54, 0x30, 0x30, 0x27, 0x50,
			  8, 0, 0, 0, 0x08, 1, 0x10, 0, 0x18, 1, 0x20, 1 };
	/* pipe_data_entry {pipe_id 1, bytes 5} with only 4 bytes after it */
	uint8_t pd[] = { 0x19, 0x43, 0x56, 0x54, 0x09, 0x37, 0x45, 0x56,
			 4, 0, 0, 0, 0x08, 1, 0x10, 5, 'a', 'b', 'c', 'd' };
	struct est_parser p;
	struct est_entry e;

	log_set_level(LOG_NONE);
	CHECK(est_parse_init(&p, pstree, img, sizeof(img), "t") == 0);
	CHECK(est_parse_next(&p, &e) == 1);
	CHECK(((Est__PstreeEntry *)e.msg)->pid == 1);
	est_entry_release(&e);
	CHECK(est_parse_next(&p, &e) == 0);
	CHECK(est_parse_init(&p, pstree, img, sizeof(img) - 1, "t") == 0);
	CHECK(est_parse_next(&p, &e) == -1);		/* truncated entry */
	img[4] ^= 1;
	CHECK(est_parse_init(&p, pstree, img, sizeof(img), "t") == -1);
	img[4] ^= 1;
	img[0] ^= 1;
	CHECK(est_parse_init(&p, pstree, img, sizeof(img), "t") == -1);
	CHECK(est_parse_init(&p, pipes, pd, sizeof(pd), "t") == 0);
	CHECK(est_parse_next(&p, &e) == -1);		/* extra past the end */
	pd[15] = 4;
	CHECK(est_parse_init(&p, pipes, pd, sizeof(pd), "t") == 0);
	CHECK(est_parse_next(&p, &e) == 1 && e.extra_len == 4 && !memcmp(e.extra, "abcd", 4));
	est_entry_release(&e);
	CHECK(est_parse_next(&p, &e) == 0);
	log_set_level(LOG_ERROR);
	return 0;
}

/* Every JSON note names a field that exists, of a type the note fits. */
static int test_json_notes(void)
{
	const struct est_json_note *notes;
	const ProtobufCFieldDescriptor *f;
	unsigned int i, n;

	notes = est_json_notes(&n);
	for (i = 0; i < n; i++) {
		f = protobuf_c_message_descriptor_get_field_by_name(notes[i].msg, notes[i].field);
		if (!f)
			FAILF("note %s.%s: no such field", notes[i].msg->name, notes[i].field);
		if (notes[i].kind == EST_JSON_CONV ? f->type != PROTOBUF_C_TYPE_BYTES :
		    notes[i].kind == EST_JSON_HEX ? f->type == PROTOBUF_C_TYPE_BYTES ||
						    f->type == PROTOBUF_C_TYPE_STRING :
		    f->type != PROTOBUF_C_TYPE_UINT32)
			FAILF("note %s.%s: does not fit the type", notes[i].msg->name, notes[i].field);
		CHECK(est_json_note(notes[i].msg, notes[i].field) == &notes[i]);
	}
	return 0;
}

/*
 * Fields Debian's crit (3.17) does not know: its decoder drops them, so they
 * may be set in ours and missing from its JSON (image-format-plan.md §5.3).
 */
static const char *const crit_drops[] = {
	"inventory_entry.plugins_entry", "inventory_entry.dump_criu_run_id",
	"inventory_entry.allow_uprobes", "pagemap_entry.nr_pages",
	"thread_core_entry.cg_set", "creds_entry.no_new_privs", "creds_entry.cap_amb",
	"user_x86_xsave_entry.cet", "task_core_entry.stop_signo",
	"task_core_entry.membarrier_registration_mask", "memfd_inode_entry.mode",
	"inet_sk_entry.tcp_opts", "ip_opts_entry.pktinfo", "ip_opts_entry.tos",
	"ip_opts_entry.ttl",
};

/* The message's name in the schema ("core_entry"; d->name has the package). */
static const char *msg_name(const ProtobufCMessageDescriptor *d)
{
	return strncmp(d->name, "est.", 4) ? d->name : d->name + 4;
}

static bool crit_drops_field(const ProtobufCMessageDescriptor *d, const char *field)
{
	char name[128];
	unsigned int i;

	snprintf(name, sizeof(name), "%s.%s", msg_name(d), field);
	for (i = 0; i < sizeof(crit_drops) / sizeof(crit_drops[0]); i++)
		if (!strcmp(crit_drops[i], name))
			return true;
	return false;
}

/* crit 3.17 calls pagemap_entry field 2 "nr_pages"; 4.2 renamed it. */
static const char *crit_key(const ProtobufCMessageDescriptor *d, const char *field)
{
	if (d == &est__pagemap_entry__descriptor && !strcmp(field, "compat_nr_pages"))
		return "nr_pages";
	return field;
}

static const ProtobufCFieldDescriptor *field_of_crit_key(const ProtobufCMessageDescriptor *d,
							 const char *key)
{
	if (d == &est__pagemap_entry__descriptor && !strcmp(key, "nr_pages"))
		key = "compat_nr_pages";
	return protobuf_c_message_descriptor_get_field_by_name(d, key);
}

/* Is @f present in @m, as a proto2 reader (crit's JSON) would see it? */
static bool field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *at = (const char *)m + f->offset;
	const char *q = (const char *)m + f->quantifier_offset;

	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)q > 0;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
		return *(void *const *)at != NULL;
	return *(const protobuf_c_boolean *)q;
}

/* crit's keys of @obj are exactly the fields set in @m, recursively. */
static int same_names(const ProtobufCMessage *m, const struct json_value *obj,
		      const char *file)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f;
	size_t i, j, n;

	if (obj->type != JSON_OBJECT)
		FAILF("%s: crit gives no object for a %s", file, msg_name(d));
	for (i = 0; i < obj->len; i++) {
		const struct json_value *v = &obj->members[i].value;
		const char *key = obj->members[i].key;

		if (!strcmp(key, "extra"))	/* the payload after an entry */
			continue;
		f = field_of_crit_key(d, key);
		if (!f || !field_is_set(m, f))
			FAILF("%s: crit has %s.%s, we do not", file, msg_name(d), key);
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (same_names(*(ProtobufCMessage *const *)((const char *)m + f->offset), v, file))
				return -1;
			continue;
		}
		n = *(const size_t *)((const char *)m + f->quantifier_offset);
		if (v->type != JSON_ARRAY || v->len != n)
			FAILF("%s: %s.%s: crit has another count", file, msg_name(d), key);
		for (j = 0; j < n; j++)
			if (same_names((*(ProtobufCMessage *const *const *)((const char *)m + f->offset))[j],
				       &v->items[j], file))
				return -1;
	}
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if (field_is_set(m, f) && !crit_drops_field(d, f->name) &&
		    !json_get(obj, crit_key(d, f->name)))
			FAILF("%s: we have %s.%s, crit does not", file, msg_name(d), f->name);
	}
	return 0;
}

/*
 * Decode every image of @s with crit's own decoder (pycriu.images.load, what
 * `crit decode` runs), one process for the whole set, one JSON line per file.
 */
static char *crit_decode_set(struct gset *s)
{
	static const char py[] = "import sys, json, pycriu.images as i\n"
				 "for p in sys.argv[1:]: print(json.dumps(i.load(open(p, 'rb'))))\n";
	char *cmd, *out = NULL;
	size_t len = 0, size = 0, n;
	unsigned int i;
	FILE *f;

	size = strlen(py) + 64;
	for (i = 0; i < s->n; i++)
		size += strlen(s->dir) + strlen(s->f[i].name) + 4;
	cmd = malloc(size);
	if (!cmd || strchr(s->dir, '\''))
		goto out;
	n = snprintf(cmd, size, "/usr/bin/python3 -c \"%s\"", py);
	for (i = 0; i < s->n; i++)
		if (s->f[i].kind->magic)
			n += snprintf(cmd + n, size - n, " '%s/%s'", s->dir, s->f[i].name);
	f = popen(cmd, "r");
	if (!f)
		goto out;
	for (size = 0;;) {
		char *grown;

		if (len + 4096 + 1 > size) {
			grown = realloc(out, size = 2 * size + 8192);
			if (!grown)
				break;
			out = grown;
		}
		n = fread(out + len, 1, size - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	if (out)
		out[len] = '\0';
	if (pclose(f) && out) {
		free(out);
		out = NULL;
	}
out:
	free(cmd);
	return out;
}

static int crit_compare_set(const char *set)
{
	struct gset *s = calloc(1, sizeof(*s));
	char *text = NULL, *line, *nl;
	struct json_value *doc = NULL;
	const struct json_value *entries, *magic;
	unsigned int i, j;
	int ret;

	if (!s)
		FAILF("out of memory");
	ret = load_set(s, set);
	if (ret)
		goto out;
	ret = -1;
	text = crit_decode_set(s);
	if (!text) {
		snprintf(unit_why, sizeof(unit_why), "%s: crit's decoder failed", set);
		goto out;
	}
	for (i = 0, line = text; i < s->n; i++) {
		struct gfile *g = &s->f[i];

		if (!g->kind->magic)
			continue;
		nl = strchr(line, '\n');
		doc = nl ? json_parse(line, nl - line, g->name, NULL) : NULL;
		entries = doc ? json_get(doc, "entries") : NULL;
		magic = doc ? json_get(doc, "magic") : NULL;
		if (!entries || entries->type != JSON_ARRAY || entries->len != g->n ||
		    !magic || magic->type != JSON_STRING || strcmp(magic->str, g->kind->name)) {
			snprintf(unit_why, sizeof(unit_why), "%s: crit gives another magic or count",
				 g->name);
			goto out;
		}
		for (j = 0; j < g->n; j++)
			if (same_names(g->e[j].msg, &entries->items[j], g->name))
				goto out;
		json_free(doc);
		doc = NULL;
		line = nl + 1;
	}
	ret = 0;
out:
	json_free(doc);
	free(text);
	set_release(s);
	free(s);
	return ret;
}

static int test_crit_names(void)
{
	static const char *const sets[] = { "single", "tree", "fds" };
	unsigned int i;
	int ret;

	if (access("/usr/bin/crit", X_OK))
		SKIP("no /usr/bin/crit (Debian package criu, see scripts/install-deps.sh)");
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		ret = crit_compare_set(sets[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct unit_case cases[] = {
	{ "kind table: names, patterns, magics", test_kind_table },
	{ "framing rejects short, wrong and overlong input", test_framing_rejects },
	{ "crit pretty-print notes name real fields", test_json_notes },
	{ "golden single: every entry round-trips, no unknown field", test_single },
	{ "golden tree: every entry round-trips, no unknown field", test_tree },
	{ "golden fds: every entry round-trips, no unknown field", test_fds },
	{ "golden sets: crit decode names the same fields", test_crit_names },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, LOG_ERROR);
	return unit_run(argv[0], cases, sizeof(cases) / sizeof(cases[0]));
}
