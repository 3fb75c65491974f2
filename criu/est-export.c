/*
 * Writing established-format images from ours: the driver. See
 * include/est-export.h and Documentation/images.md, "The exporter".
 *
 * Order: list our directory; inventory; pstree; files (objects shared by the
 * tree); per process ids, fs, the cores of its threads, mm with pagemap and
 * pages, fdinfo; seccomp, stats-dump; every file of ours must have been
 * converted (or be one a restore does not need); inventory.img last.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <stdarg.h>

#define LOG_PREFIX "est-export: "
#include "arch-image.h"
#include "cgroup.h"
#include "est-cpuinfo.h"
#include "est-export.h"
#include "est-export-int.h"
#include "est-seccomp.h"
#include "log.h"

#include "stats.pb-c.h"
#include "est/fs.pb-c.h"
#include "est/ids.pb-c.h"
#include "est/inventory.pb-c.h"
#include "est/pstree.pb-c.h"
#include "est/stats.pb-c.h"

#define EXP_MAX_FILES	4096

static struct exp *cur;		/* the export under way, for exp_cannot() */

void *exp_zalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		pr_err("out of memory (%zu bytes)", n);
	return p;
}

static void put(struct exp_img *w, const void *p, size_t n)
{
	if (w->err || !n)
		return;
	if (w->len + n > w->cap) {
		size_t cap = (w->len + n) * 2;
		uint8_t *b = realloc(w->buf, cap);

		if (!b) {
			w->err = -1;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_le32(struct exp_img *w, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(w, b, 4);
}

void exp_img_open(struct exp_img *w, const char *name)
{
	const struct est_kind *k = est_kind_by_name(name);

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (!k || !k->magic) {
		pr_err("%s: not a protobuf image of the established format", name);
		w->err = -1;
		return;
	}
	if (k->head)
		put_le32(w, k->head);
	put_le32(w, k->magic);
}

void exp_img_add(struct exp_img *w, const ProtobufCMessage *m, const void *extra, size_t extra_len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b;

	if (w->err)
		return;
	if (n > EST_ENTRY_MAX) {
		pr_err("%s: an entry of %zu bytes", w->name, n);
		w->err = -1;
		return;
	}
	b = malloc(n ? n : 1);
	if (!b) {
		w->err = -1;
		return;
	}
	protobuf_c_message_pack(m, b);
	put_le32(w, n);
	put(w, b, n);
	free(b);
	put(w, extra, extra_len);
}

int exp_img_close(struct exp *ex, struct exp_img *w)
{
	size_t off = 0;
	int fd = -1, ret = -1;

	if (w->err) {
		pr_err("%s: cannot build the image", w->name);
		goto out;
	}
	fd = openat(ex->out, w->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		pr_perror("cannot create %s", w->name);
		goto out;
	}
	while (off < w->len) {
		ssize_t n = write(fd, w->buf + off, w->len - off);

		if (n <= 0) {
			pr_perror("cannot write %s", w->name);
			goto out;
		}
		off += n;
	}
	ret = 0;
out:
	if (fd >= 0 && close(fd) && !ret) {
		pr_perror("cannot write %s", w->name);
		ret = -1;
	}
	free(w->buf);
	w->buf = NULL;
	return ret;
}

/*
 * Our images whose entries point into a raw data file by offset: kept, the
 * data file must be kept with them (the import lays its own out anew).
 */
static void keep_companion(const char *native)
{
	static const char *const pairs[][2] = {
		{ "ghost-files.img", "ghost-data.img" },
		{ "memfd-inodes.img", "memfd-data.img" },
	};
	size_t i, k;

	for (k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++)
		if (!strcmp(native, pairs[k][0]))
			for (i = 0; i < cur->nr_names; i++)
				if (!strcmp(cur->names[i], pairs[k][1]))
					cur->xt[i] = true;
}

int exp_cannot(const char *native, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!cur || !(cur->flags & EST_EXPORT_EXT)) {
		pr_err("%s " EXP_CANNOT "%s (--image-ext keeps it in an extension image)", native, why);
		return -1;
	}
	for (i = 0; i < cur->nr_names; i++)
		if (!strcmp(cur->names[i], native)) {
			pr_info("%s: %s: kept in xt-%s", native, why, native);
			cur->xt[i] = true;
			keep_companion(native);
			return 0;
		}
	pr_err("%s " EXP_CANNOT "%s, and there is no such image of ours to keep", native, why);
	return -1;
}

void exp_used(struct exp *ex, const char *name)
{
	size_t i;

	for (i = 0; i < ex->nr_names; i++)
		if (!strcmp(ex->names[i], name))
			ex->used[i] = true;
}

static int list_dir(struct exp *ex)
{
	int fd = dup(ex->in);
	struct dirent *de;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		pr_perror("cannot list the images dir");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	ex->names = exp_zalloc(EXP_MAX_FILES * sizeof(*ex->names));
	ex->used = exp_zalloc(EXP_MAX_FILES * sizeof(*ex->used));
	ex->xt = exp_zalloc(EXP_MAX_FILES * sizeof(*ex->xt));
	while (ex->names && ex->used && ex->xt && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (ex->nr_names == EXP_MAX_FILES || strlen(de->d_name) >= sizeof(*ex->names)) {
			pr_err("not supported yet: more than %d files or a name as long as %s",
			       EXP_MAX_FILES, de->d_name);
			closedir(d);
			return -1;
		}
		strcpy(ex->names[ex->nr_names++], de->d_name);
	}
	closedir(d);
	return ex->names && ex->used && ex->xt ? 0 : -1;
}

static int read_inventory(struct exp *ex)
{
	InventoryEntry *inv;

	if (img_read_one(ex->in, IMG_INVENTORY, 0, (ProtobufCMessage **)&ex->inv))
		return -1;
	exp_used(ex, "inventory.img");
	inv = ex->inv;
	if (inv->img_version != IMG_FORMAT_VERSION || strcmp(inv->arch, ARCH_IMG_NAME) ||
	    inv->page_size != 4096) {
		pr_err("inventory.img: version %u, arch %s, page size %u: not what this criu writes",
		       inv->img_version, inv->arch, inv->page_size);
		return -1;
	}
	if (inv->has_tcp_established && inv->tcp_established) {
		pr_err("not supported yet: established TCP connections");
		return -1;
	}
	return 0;
}

/*
 * Kernel object ids (plan §3.1): criu's own are 1, process k's k + 2; a
 * process sharing its parent's fd table has its parent's files_id.
 */
/* The tree's own pid namespace, the next id of the namespaces' counter. */
#define EXP_TREE_PID_NS_ID	9

static void fill_ids(Est__TaskKobjIdsEntry *e, uint32_t id, uint32_t files_id)
{
	est__task_kobj_ids_entry__init(e);
	e->vm_id = e->fs_id = e->sighand_id = id;
	e->files_id = files_id;
	/* criu's namespaces; a tree's own pid, uts, ipc ones are set by the caller */
	e->has_pid_ns_id = e->has_net_ns_id = e->has_ipc_ns_id = e->has_uts_ns_id = true;
	e->has_mnt_ns_id = e->has_user_ns_id = e->has_cgroup_ns_id = e->has_time_ns_id = true;
	e->pid_ns_id = 1, e->net_ns_id = 2, e->ipc_ns_id = 3, e->uts_ns_id = 4;
	e->time_ns_id = 5, e->mnt_ns_id = 6, e->user_ns_id = 7, e->cgroup_ns_id = 8;
}

static int check_ps(const PstreeEntry *ps)
{
	if (ps->has_exit_signal && ps->exit_signal != SIGCHLD &&
	    exp_cannot("pstree.img", "process %u sends signal %u to its parent when it ends",
		       ps->pid, ps->exit_signal))
		return -1;
	return 0;
}

static int write_pstree(struct exp *ex)
{
	Est__PstreeEntry *e = exp_zalloc(ex->nr_procs * sizeof(*e));
	struct exp_img w;
	size_t i;

	if (!e)
		return -1;
	exp_img_open(&w, "pstree.img");
	for (i = 0; i < ex->nr_procs; i++) {
		PstreeEntry *ps = ex->procs[i].ps;

		est__pstree_entry__init(&e[i]);
		e[i].pid = ps->pid;
		e[i].ppid = ps->ppid;
		e[i].pgid = ps->pgid;
		e[i].sid = ps->sid;
		/* a zombie: threads = [pid] in the format */
		e[i].n_threads = ps->n_threads ? ps->n_threads : 1;
		e[i].threads = ps->n_threads ? ps->threads : &ps->pid;
		exp_img_add(&w, &e[i].base, NULL, 0);
	}
	free(e);
	return exp_img_close(ex, &w);
}

static int write_ids_fs(struct exp *ex, struct exp_proc *p)
{
	Est__TaskKobjIdsEntry ids;
	Est__FsEntry fs = EST__FS_ENTRY__INIT;
	struct exp_img w;
	char name[64];

	fill_ids(&ids, p->ids, p->files_id);
	if (ex->inv->has_root_pid_ns && ex->inv->root_pid_ns)
		ids.pid_ns_id = EXP_TREE_PID_NS_ID;
	ids.net_ns_id = ex->net_ns_id;
	exp_utsipc_ids(ex, &ids);
	ids.mnt_ns_id = ex->mnt_ns_id ? ex->mnt_ns_id : ids.mnt_ns_id;
	snprintf(name, sizeof(name), "ids-%u.img", p->ps->pid);
	exp_img_open(&w, name);
	exp_img_add(&w, &ids.base, NULL, 0);
	if (exp_img_close(ex, &w))
		return -1;
	if (!p->tc->has_cwd_id || !p->tc->has_root_id) {
		pr_err("core-%u.img: no cwd or root", p->ps->pid);
		return -1;
	}
	fs.cwd_id = p->tc->cwd_id;
	fs.root_id = p->tc->root_id;
	fs.has_umask = true;
	fs.umask = p->tc->umask;
	snprintf(name, sizeof(name), "fs-%u.img", p->ps->pid);
	exp_img_open(&w, name);
	exp_img_add(&w, &fs.base, NULL, 0);
	return exp_img_close(ex, &w);
}

static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : v;
}

void est_dump_stats(const DumpStatsEntry *ours, Est__DumpStatsEntry *d)
{
	est__dump_stats_entry__init(d);
	d->freezing_time = sat32(ours->freezing_time);
	d->frozen_time = sat32(ours->frozen_time);
	d->memdump_time = sat32(ours->memdump_time);
	d->memwrite_time = sat32(ours->memwrite_time);
	d->pages_scanned = ours->pages_scanned;
	d->pages_written = ours->pages_written;
	if (ours->has_irmap_resolve) {
		d->has_irmap_resolve = true;
		d->irmap_resolve = sat32(ours->irmap_resolve);
	}
	d->pages_lazy = ours->has_pages_lazy ? ours->pages_lazy : 0;
}

/*
 * stats-dump from our stats-dump.img, when there is one (criu dump writes
 * its stats-dump itself, once the export is done: est_dump_stats()).
 */
static int write_stats(struct exp *ex)
{
	Est__StatsEntry st = EST__STATS_ENTRY__INIT;
	Est__DumpStatsEntry d;
	StatsEntry *ours = NULL;
	struct exp_img w;
	int ret;

	if (faccessat(ex->in, "stats-dump.img", F_OK, 0))
		return 0;
	if (img_read_one(ex->in, IMG_STATS_DUMP, 0, (ProtobufCMessage **)&ours))
		return -1;
	exp_used(ex, "stats-dump.img");
	if (ours->dump) {
		est_dump_stats(ours->dump, &d);
		st.dump = &d;
	}
	exp_img_open(&w, "stats-dump");
	exp_img_add(&w, &st.base, NULL, 0);
	ret = exp_img_close(ex, &w);
	img_free_entry(&ours->base);
	return ret;
}

/* Our image @name kept whole as xt-@name: the common magic, then its bytes. */
static int write_xt(struct exp *ex, const char *name)
{
	char out[80];
	uint8_t head[4] = { EST_MAGIC_COMMON & 0xff, (EST_MAGIC_COMMON >> 8) & 0xff,
			    (EST_MAGIC_COMMON >> 16) & 0xff, EST_MAGIC_COMMON >> 24 };
	uint8_t buf[1 << 16];
	int in, fd, ret = -1;
	ssize_t n = 0;

	snprintf(out, sizeof(out), EST_XT_PREFIX "%s", name);
	in = openat(ex->in, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	fd = openat(ex->out, out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (in < 0 || fd < 0 || write(fd, head, 4) != 4)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			break;
	ret = n == 0 ? 0 : -1;
out:
	if (fd >= 0 && close(fd))
		ret = -1;
	if (in >= 0)
		close(in);
	if (ret)
		pr_perror("cannot write %s", out);
	return ret;
}

static int write_inventory(struct exp *ex)
{
	Est__InventoryEntry inv = EST__INVENTORY_ENTRY__INIT;
	Est__TaskKobjIdsEntry root;
	struct exp_img w;
	bool ext = false;
	size_t i;

	for (i = 0; i < ex->nr_names; i++) {
		if (!ex->xt[i])
			continue;
		if (write_xt(ex, ex->names[i]))
			return -1;
		ext = true;
	}
	fill_ids(&root, 1, 1);
	inv.img_version = (ext ? EST_IMG_VERSION_EXT : EST_IMG_VERSION) |
			  (ex->flags & EST_EXPORT_ZPAGES ? EST_IMG_VERSION_ZPAGES : 0);
	inv.has_fdinfo_per_id = inv.fdinfo_per_id = true;
	inv.root_ids = &root;
	inv.has_ns_per_id = inv.ns_per_id = true;
	inv.has_lsmtype = true;
	inv.lsmtype = EST__LSMTYPE__NO_LSM;
	/* the established tool's values: 0 iptables, 1 nftables (criu's own rules), 2 skip */
	inv.has_network_lock_method = true;
	inv.network_lock_method = ex->flags & EST_EXPORT_NO_NET_LOCK ? 2 : 1;
	/* as the established dump with --tcp-close: its restore must have it too */
	inv.has_tcp_close = inv.tcp_close = ex->tcp_close;
	inv.has_root_cg_set = ex->inv->has_root_cg_set;
	inv.root_cg_set = ex->inv->root_cg_set;
	/* a pre-dump says how it copied the pages (1: splice, 2: read), as the established one does */
	inv.has_pre_dump_mode = ex->inv->has_pre_dump && ex->inv->pre_dump;
	inv.pre_dump_mode = ex->inv->has_pre_dump_mode ? ex->inv->pre_dump_mode : 1;
	exp_img_open(&w, "inventory.img");
	exp_img_add(&w, &inv.base, NULL, 0);
	return exp_img_close(ex, &w);
}

/* Our files a restore does not need; any other left unconverted is refused. */
static int check_leftovers(struct exp *ex)
{
	size_t i;

	for (i = 0; i < ex->nr_names; i++) {
		const char *n = ex->names[i];
		size_t l = strlen(n);

		if (ex->used[i] || (l > 4 && !strcmp(n + l - 4, ".log")) ||
		    !strcmp(n, "restored.pid"))
			continue;
		pr_err("not supported yet: %s is not converted", n);
		return -1;
	}
	return 0;
}

/* The fd table of @p: its own, or its parent's (files_of), which comes before it. */
static int files_id(struct exp *ex, struct exp_proc *p)
{
	size_t i;

	p->files_id = p->ids;
	if (!p->ps->has_files_of)
		return 0;
	for (i = 0; &ex->procs[i] != p; i++)
		if (ex->procs[i].ps->pid == p->ps->files_of)
			break;
	if (&ex->procs[i] == p || p->ps->files_of != p->ps->ppid || ex->procs[i].ps->has_files_of) {
		pr_err("pstree.img: %u shares the fd table of %u, not of its parent or not first",
		       p->ps->pid, p->ps->files_of);
		return -1;
	}
	p->files_id = ex->procs[i].files_id;
	return 0;
}

static int read_procs(struct exp *ex)
{
	size_t i;

	if (img_read_all(ex->in, IMG_PSTREE, 0, 0, NULL, NULL, &ex->ps, &ex->nr_procs))
		return -1;
	exp_used(ex, "pstree.img");
	if (!ex->nr_procs) {
		pr_err("pstree.img: no process");
		return -1;
	}
	ex->procs = exp_zalloc(ex->nr_procs * sizeof(*ex->procs));
	if (!ex->procs)
		return -1;
	for (i = 0; i < ex->nr_procs; i++) {
		ex->procs[i].ps = (PstreeEntry *)ex->ps[i];
		ex->procs[i].ids = i + 2;
		if (check_ps(ex->procs[i].ps) || files_id(ex, &ex->procs[i]))
			return -1;
	}
	return 0;
}

/* A pre-dump: the tree and each process's pages (Documentation/predump.md). */
static int convert_pre(struct exp *ex)
{
	size_t i;

	if (read_procs(ex))
		return -1;
	for (i = 0; i < ex->nr_procs; i++)
		if (ex->procs[i].ps->n_threads && exp_pagemap(ex, &ex->procs[i]))
			return -1;
	if (write_pstree(ex) || write_stats(ex) || check_leftovers(ex))
		return -1;
	return write_inventory(ex);
}

static int convert(struct exp *ex)
{
	size_t i;

	if (list_dir(ex) || read_inventory(ex))
		return -1;
	if (ex->inv->has_pre_dump && ex->inv->pre_dump)
		return convert_pre(ex);
	if (read_procs(ex) || exp_netns(ex) || exp_utsipc(ex) || exp_shm_read(ex) || exp_files(ex) ||
	    exp_mnt(ex))
		return -1;
	for (i = 0; i < ex->nr_procs; i++) {
		struct exp_proc *p = &ex->procs[i];

		if (exp_core(ex, p))
			return -1;
		if (!p->ps->n_threads)
			continue;	/* a zombie: its core only */
		if (write_ids_fs(ex, p) || exp_mm(ex, p) || exp_fdinfo(ex, p))
			return -1;
	}
	if (exp_shm_write(ex) || write_pstree(ex) || exp_seccomp_write(ex) || write_stats(ex) ||
	    exp_cgroup(ex) || check_leftovers(ex))
		return -1;
	/* the CPU the tree ran on, which a restore checks */
	if (ex->inv->cpu && est_cpuinfo_write(ex->out, ex->inv->cpu))
		return -1;
	return write_inventory(ex);
}

int est_export(int in_dirfd, int out_dirfd, unsigned int flags)
{
	struct exp ex = { .in = in_dirfd, .out = out_dirfd, .flags = flags };
	size_t i;
	int ret;

	cur = &ex;
	ret = convert(&ex);
	cur = NULL;
	for (i = 0; i < ex.nr_procs && ex.procs; i++) {
		if (ex.procs[i].tc)
			img_free_entry(&ex.procs[i].tc->base);
		exp_mm_release(&ex.procs[i]);
	}
	exp_shm_release(&ex);
	free(ex.procs);
	img_free_all(ex.ps, ex.nr_procs);
	if (ex.inv)
		img_free_entry(&ex.inv->base);
	free(ex.names);
	free(ex.used);
	free(ex.xt);
	if (ret)
		pr_err("the images cannot be exported to the established format");
	return ret;
}
