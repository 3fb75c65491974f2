/*
 * Restoring established-format images: the driver. See include/est-import.h
 * and Documentation/images.md, "The established format".
 *
 * Order: list the directory; inventory; pstree; files.img (objects shared
 * by the tree); per process ids, fs, core of each thread, mm, pagemap and
 * pages, fdinfo; then every file of the directory must have been converted
 * (or be one we knowingly ignore), and our inventory is written last.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#define LOG_PREFIX "est-import: "
#include "arch-image.h"
#include "est-cpuinfo.h"
#include "est-import.h"
#include "cgroup.h"
#include "est-import-int.h"
#include "est-seccomp.h"
#include "log.h"

#include "inventory.pb-c.h"
#include "pstree.pb-c.h"
#include "est/seccomp.pb-c.h"

#define EST_INVENTORY_MAGIC	0x58313116u

void *imp_zalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		pr_err("out of memory (%zu bytes)", n);
	return p;
}

int est_import_detect(int dirfd)
{
	uint8_t b[4];
	int fd = openat(dirfd, "inventory.img", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n < 0) {
		pr_perror("inventory.img");
		return -1;
	}
	return n == 4 && (b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24) == EST_INVENTORY_MAGIC;
}

static struct imp_file *find_file(struct imp *im, const char *name)
{
	size_t i;

	for (i = 0; i < im->nr_files; i++)
		if (!strcmp(im->files[i].name, name))
			return &im->files[i];
	return NULL;
}

int imp_mark(struct imp *im, const char *name)
{
	struct imp_file *f = find_file(im, name);

	if (!f || f->used)
		return -1;
	f->used = true;
	return 0;
}

int imp_load(struct imp *im, const char *name, bool optional, uint8_t **buf, size_t *len)
{
	struct imp_file *f = find_file(im, name);
	struct stat st;
	size_t got = 0;
	int fd;

	*buf = NULL;
	*len = 0;
	if (!f) {
		if (optional)
			return 0;
		pr_err("%s is missing", name);
		return -1;
	}
	f->used = true;
	fd = openat(im->in, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st)) {
		pr_perror("cannot open %s", name);
		goto err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > IMP_MAX_IMAGE) {
		pr_err("%s: not a regular file of at most %u bytes", name, IMP_MAX_IMAGE);
		goto err;
	}
	*buf = malloc(st.st_size ? st.st_size : 1);
	if (!*buf) {
		pr_err("out of memory for %s", name);
		goto err;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, st.st_size - got);

		if (n <= 0) {
			pr_perror("cannot read %s", name);
			goto err;
		}
		got += n;
	}
	close(fd);
	*len = got;
	return 0;
err:
	if (fd >= 0)
		close(fd);
	free(*buf);
	*buf = NULL;
	return -1;
}

int imp_read_all(struct imp *im, const char *name, bool optional, imp_entry_fn fn, void *ctx)
{
	const struct est_kind *kind = est_kind_by_name(name);
	struct est_parser p;
	struct est_entry e;
	uint8_t *buf;
	size_t len;
	int r;

	if (!kind || !kind->magic) {
		pr_err("%s: not a protobuf image of the established format", name);
		return -1;
	}
	if (imp_load(im, name, optional, &buf, &len))
		return -1;
	if (!buf)
		return 0;
	r = est_parse_init(&p, kind, buf, len, name);
	while (!r && (r = est_parse_next(&p, &e)) == 1) {
		r = fn(im, &e, ctx);
		est_entry_release(&e);
	}
	free(buf);
	return r < 0 ? -1 : 0;
}

static int take_one(struct imp *im, const struct est_entry *e, void *ctx)
{
	ProtobufCMessage **out = ctx;

	(void)im;
	if (*out) {
		pr_err("more than one entry where the format has one");
		return -1;
	}
	*out = e->msg;
	((struct est_entry *)e)->msg = NULL;	/* ours now */
	return 0;
}

ProtobufCMessage *imp_read_one(struct imp *im, const char *name)
{
	ProtobufCMessage *m = NULL;

	if (imp_read_all(im, name, false, take_one, &m)) {
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	if (!m)
		pr_err("%s: no entry", name);
	return m;
}

int imp_write(struct imp *im, enum img_kind kind, unsigned int id, ProtobufCMessage **m, size_t n)
{
	struct cr_img *img = img_create(im->out, kind, id);
	size_t i;

	if (!img)
		return -1;
	for (i = 0; i < n; i++)
		if (img_write_entry(img, m[i])) {
			img_abort(img);
			return -1;
		}
	return img_commit(img);
}

static int list_dir(struct imp *im)
{
	int fd = dup(im->in);
	struct dirent *de;
	DIR *d;

	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		pr_perror("cannot list the images dir");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	im->files = calloc(IMP_MAX_FILES, sizeof(*im->files));
	if (!im->files) {
		closedir(d);
		pr_err("out of memory");
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (im->nr_files == IMP_MAX_FILES || strlen(de->d_name) >= sizeof(im->files->name)) {
			pr_err("not supported yet: more than %d files or a name as long as %s",
			       IMP_MAX_FILES, de->d_name);
			closedir(d);
			return -1;
		}
		strcpy(im->files[im->nr_files++].name, de->d_name);
	}
	closedir(d);
	return 0;
}

/*
 * The tree's pid namespace is the root's (the first ids read): criu's, or
 * one of the tree's own, where every other process must be too.
 */
static bool tree_pid_ns(struct imp *im, const Est__TaskKobjIdsEntry *t, const char *img)
{
	if (!t->has_pid_ns_id || !t->pid_ns_id) {
		pr_err("%s: no pid_ns_id", img);
		return false;
	}
	if (!im->tree_pid_ns_id)
		im->tree_pid_ns_id = t->pid_ns_id;
	if (t->pid_ns_id == im->tree_pid_ns_id)
		return true;
	pr_err("not supported yet: %s: pid_ns_id %u differs from the root's %u (nested pid namespaces)",
	       img, t->pid_ns_id, im->tree_pid_ns_id);
	return false;
}

/*
 * Namespace ids: ours restores in criu's own namespaces, so all must be
 * the dumping criu's (root_ids), but for the tree's own pid, uts and ipc
 * namespaces.
 */
static int check_ns_ids(struct imp *im, const Est__TaskKobjIdsEntry *t, const char *img)
{
	const Est__TaskKobjIdsEntry *r = im->inv->root_ids;
#define NS(f) { #f, t->has_##f, t->f, r->has_##f, r->f }
	const struct { const char *n; bool th; uint32_t tv; bool rh; uint32_t rv; } ns[] = {
		NS(pid_ns_id), NS(net_ns_id), NS(ipc_ns_id), NS(uts_ns_id),
		NS(mnt_ns_id), NS(user_ns_id), NS(cgroup_ns_id), NS(time_ns_id),
	};
#undef NS
	size_t i;

	if (!tree_pid_ns(im, t, img) || imp_mnt_ns(im, t, img))
		return -1;
	for (i = 1; i < sizeof(ns) / sizeof(ns[0]); i++) {
		int own = imp_utsipc_ns(im, ns[i].n, ns[i].th, ns[i].tv, img);

		if (own < 0)
			return -1;
		if (!own && i != 4 /* mnt_ns_id: imp_mnt_ns() */ && (ns[i].th != ns[i].rh ||
			     ns[i].tv != (i == 1 ? im->tree_net_ns_id : ns[i].rv))) {
			pr_err("not supported yet: %s: %s differs from the dumping criu's (a namespace of its own)",
			       img, ns[i].n);
			return -1;
		}
	}
	return 0;
}

static int read_inventory(struct imp *im)
{
	Est__InventoryEntry *inv;

	inv = (Est__InventoryEntry *)imp_read_one(im, "inventory.img");
	if (!inv)
		return -1;
	im->inv = inv;
	if (!(inv->img_version & EST_IMG_VERSION_ZPAGES) != !im->zpages) {
		pr_err("inventory.img %s compressed page files, but they %s: refused",
		       im->zpages ? "announces no" : "announces", im->zpages ? "are" : "are not");
		return -1;
	}
	inv->img_version &= ~EST_IMG_VERSION_ZPAGES;
	if (inv->img_version != EST_IMG_VERSION && inv->img_version != EST_IMG_VERSION_EXT) {
		pr_err("not supported yet: inventory.img: img_version %#x (only 2, or %#x with our extension images)",
		       inv->img_version, EST_IMG_VERSION_EXT);
		return -1;
	}
	if (!inv->has_fdinfo_per_id || !inv->fdinfo_per_id || !inv->root_ids) {
		pr_err("not supported yet: inventory.img without fdinfo_per_id or root_ids");
		return -1;
	}
	if ((inv->has_lsmtype && inv->lsmtype != EST__LSMTYPE__NO_LSM) || inv->has_pre_dump_mode ||
	    (inv->plugins_entry && inv->plugins_entry->n_plugins)) {
		pr_err("not supported yet: inventory.img: LSM labels, a pre-dump (memory only: restore the dump made after it) or plugins");
		return -1;
	}
	return 0;
}

static int add_ps(struct imp *im, const struct est_entry *e, void *ctx)
{
	Est__PstreeEntry *ps = (Est__PstreeEntry *)e->msg;
	size_t i;

	(void)ctx;
	if (im->nr_procs == IMP_MAX_PROCS) {
		pr_err("not supported yet: pstree.img: more than %d processes", IMP_MAX_PROCS);
		return -1;
	}
	/*
	 * The established tool lists garbage as a dead task's thread; its
	 * restore never reads it. A process without ids-PID.img must be a
	 * zombie (est-import-core.c checks its core), so take its pid.
	 */
	if (ps->n_threads == 1 && ps->pid >= 2 && ps->pid <= (1u << 22) &&
	    ps->threads[0] != ps->pid) {
		char ids[64];

		snprintf(ids, sizeof(ids), "ids-%u.img", ps->pid);
		if (!find_file(im, ids))
			ps->threads[0] = ps->pid;
	}
	/* pid 1: the root, init of a pid namespace of its own (restore-tree.c checks) */
	if ((ps->pid < 2 && (ps->pid != 1 || im->nr_procs)) || ps->pid > (1u << 22) ||
	    ps->n_threads > IMP_MAX_THREADS ||
	    !ps->n_threads || ps->threads[0] != ps->pid) {
		pr_err("pstree.img: process %u: bad pid or thread list", ps->pid);
		return -1;
	}
	for (i = 0; i < im->nr_procs; i++)
		if (im->procs[i].ps->pid == ps->pid) {
			pr_err("pstree.img: pid %u twice", ps->pid);
			return -1;
		}
	if (im->nr_procs ? !ps->ppid : ps->ppid) {
		pr_err("pstree.img: process %u: only the first entry is the root", ps->pid);
		return -1;
	}
	for (i = 0; ps->ppid && i < im->nr_procs; i++)
		if (im->procs[i].ps->pid == ps->ppid)
			break;
	if (ps->ppid && i == im->nr_procs) {
		pr_err("pstree.img: process %u: parent %u comes later or not at all", ps->pid,
		       ps->ppid);
		return -1;
	}
	im->procs[im->nr_procs++].ps = ps;
	((struct est_entry *)e)->msg = NULL;
	return 0;
}

static int write_pstree(struct imp *im)
{
	PstreeEntry *ps = imp_zalloc(im->nr_procs * sizeof(*ps));
	ProtobufCMessage **m = imp_zalloc(im->nr_procs * sizeof(*m));
	size_t i;
	int ret = -1;

	if (!ps || !m)
		goto out;
	for (i = 0; i < im->nr_procs; i++) {
		const Est__PstreeEntry *e = im->procs[i].ps;

		pstree_entry__init(&ps[i]);
		ps[i].pid = e->pid;
		ps[i].ppid = e->ppid;
		ps[i].pgid = e->pgid;
		ps[i].sid = e->sid;
		/* a zombie: no threads in ours (est-import-core.c says which) */
		ps[i].n_threads = im->procs[i].ids ? e->n_threads : 0;
		ps[i].threads = e->threads;
		ps[i].has_files_of = im->procs[i].files_of != 0;
		ps[i].files_of = im->procs[i].files_of;
		m[i] = &ps[i].base;
	}
	ret = imp_write(im, IMG_PSTREE, 0, m, im->nr_procs);
out:
	free(ps);
	free(m);
	return ret;
}

/*
 * Whether @p, read after @o, may have its fd table (files_id): the one shape ours
 * restores is a table shared by a process (not itself a sharer) and some of
 * its children, made with CLONE_FILES (sets p->files_of).
 */
static bool files_ok(struct imp_proc *p, const struct imp_proc *o)
{
	if (o->ids->files_id != p->ids->files_id)
		return true;
	if (o->ps->pid == p->ps->ppid && !o->files_of)
		p->files_of = p->ps->ppid;
	return p->files_of && (o->ps->pid == p->files_of || o->files_of == p->files_of);
}

static int read_proc(struct imp *im, struct imp_proc *p)
{
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "ids-%u.img", p->ps->pid);
	if (!find_file(im, name))
		return 0;	/* a zombie has only its core */
	p->ids = (Est__TaskKobjIdsEntry *)imp_read_one(im, name);
	if (!p->ids || check_ns_ids(im, p->ids, name))
		return -1;
	for (i = 0; i < im->nr_procs && &im->procs[i] != p; i++) {
		const Est__TaskKobjIdsEntry *o = im->procs[i].ids;

		if (o && (o->vm_id == p->ids->vm_id || !files_ok(p, &im->procs[i]) ||
			  o->fs_id == p->ids->fs_id || o->sighand_id == p->ids->sighand_id)) {
			pr_err("not supported yet: processes %u and %u share memory, fd table, fs or signal handlers",
			       im->procs[i].ps->pid, p->ps->pid);
			return -1;
		}
	}
	snprintf(name, sizeof(name), "fs-%u.img", p->ps->pid);
	p->fs = (Est__FsEntry *)imp_read_one(im, name);
	return p->fs ? 0 : -1;
}

static int write_inventory(struct imp *im)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	ProtobufCMessage *m = &inv.base;
	CpuInfoEntry cpu;
	struct utsname u;
	int ret;

	if (uname(&u)) {
		pr_perror("uname");
		return -1;
	}
	/* the restore checks the CPU the dump recorded, when it did */
	ret = est_cpuinfo_read(im->in, &cpu);
	if (ret < 0 || (!ret && imp_mark(im, "cpuinfo.img"))) {
		if (!ret)
			cpu_info_release(&cpu);
		return -1;
	}
	if (!ret)
		inv.cpu = &cpu;
	inv.img_version = IMG_FORMAT_VERSION;
	inv.tool_version = "established format, imported by criu " CRIU_VERSION;
	inv.kernel_release = u.release;
	inv.arch = ARCH_IMG_NAME;
	inv.page_size = 4096;
	inv.has_root_pid = true;
	inv.root_pid = im->procs[0].ps->pid;
	/* root_ids are the dumping criu's own */
	inv.has_root_pid_ns = true;
	inv.root_pid_ns = im->inv->root_ids->has_pid_ns_id &&
			  im->tree_pid_ns_id != im->inv->root_ids->pid_ns_id;
	inv.has_root_cg_set = im->inv->has_root_cg_set;
	inv.root_cg_set = im->inv->root_cg_set;
	ret = imp_write(im, IMG_INVENTORY, 0, &m, 1);
	if (inv.cpu)
		cpu_info_release(&cpu);
	return ret;
}

/* Files a restore does not need, and the ones it must not meet unconverted. */
/*
 * Our extension images (est-export.h): xt-NAME is the common magic and then
 * our own image NAME, which replaces what was converted from the
 * established ones. They come with img_version EST_IMG_VERSION_EXT, never
 * without; with it there is at least one.
 */
static int apply_xt(struct imp *im)
{
	const size_t pl = strlen(EST_XT_PREFIX);
	bool ext = im->inv->img_version == EST_IMG_VERSION_EXT;
	size_t i, nr = 0;

	for (i = 0; i < im->nr_files; i++) {
		const char *n = im->files[i].name, *ours = n + pl;
		const struct img_desc *d;
		uint8_t *buf = NULL;
		size_t len, off = 4;
		int fd, ret = -1;

		if (strncmp(n, EST_XT_PREFIX, pl))
			continue;
		if (!ext) {
			pr_err("%s: an extension image in a dump whose inventory.img does not announce them", n);
			return -1;
		}
		d = img_desc_find(ours, 0, false);
		if (d && !d->magic && !strcmp(d->name, "pages")) {
			pr_err("%s: page data cannot be an extension image", n);
			return -1;
		}
		if (imp_load(im, n, false, &buf, &len))
			return -1;
		/* a raw data file of ours (ghost-data.img): the common magic, its bytes */
		if (d && !d->magic)
			off = 4;
		else
			d = NULL;
		if (len < 4 || est_le32(buf) != EST_MAGIC_COMMON ||
		    (!d && (len < 8 || !(d = img_desc_find(ours, est_le32(buf + 4), true))))) {
			pr_err("%s: not one of our images after the common magic", n);
			free(buf);
			return -1;
		}
		fd = openat(im->out, ours, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		while (fd >= 0 && off < len) {
			ssize_t w = write(fd, buf + off, len - off);

			if (w <= 0)
				break;
			off += w;
		}
		if (fd >= 0 && off == len && !close(fd))
			ret = 0;
		else if (fd >= 0)
			close(fd);
		free(buf);
		if (ret) {
			pr_perror("cannot write %s from %s", ours, n);
			return -1;
		}
		pr_info("%s: our own %s replaces the converted one", n, ours);
		nr++;
	}
	if (ext && !nr) {
		pr_err("inventory.img announces extension images (img_version %#x) and there is none",
		       EST_IMG_VERSION_EXT);
		return -1;
	}
	return 0;
}

static int check_leftovers(struct imp *im)
{
	/* stats-restore: left by a restore without -W */
	static const char *const ignored[] = { "stats-dump", "stats-restore",
					       "timens-0.img" };
	size_t i, j;

	for (i = 0; i < im->nr_files; i++) {
		const char *n = im->files[i].name;
		size_t l = strlen(n);

		if (im->files[i].used || (l > 4 && !strcmp(n + l - 4, ".log")))
			continue;
		for (j = 0; j < sizeof(ignored) / sizeof(ignored[0]); j++)
			if (!strcmp(n, ignored[j]))
				break;
		if (j < sizeof(ignored) / sizeof(ignored[0]))
			continue;
		/* not an image of the format (a note, a program's output): not ours to read */
		if (!est_kind_by_name(n)) {
			pr_info("%s is not an image: ignored", n);
			continue;
		}
		pr_err("not supported yet: %s (%s) is not converted", n, est_kind_by_name(n)->name);
		return -1;
	}
	return 0;
}

static void imp_free(struct imp *im)
{
	size_t i;

	imp_files_free(im);
	imp_locks_free(im);
	imp_ghosts_free(im);
	imp_ttys_free(im);
	imp_memfds_free(im);
	imp_shm_free(im);
	for (i = 0; i < im->nr_procs; i++) {
		struct imp_proc *p = &im->procs[i];

		imp_cow_free(p);
		protobuf_c_message_free_unpacked(&p->ps->base, NULL);
		if (p->ids)
			protobuf_c_message_free_unpacked(&p->ids->base, NULL);
		if (p->fs)
			protobuf_c_message_free_unpacked(&p->fs->base, NULL);
		if (p->mm)
			protobuf_c_message_free_unpacked(&p->mm->base, NULL);
	}
	free(im->procs);
	imp_seccomp_free(im);
	if (im->chain) {
		pmc_chain_close(im->chain);
		free(im->chain);
	}
	if (im->inv)
		protobuf_c_message_free_unpacked(&im->inv->base, NULL);
	free(im->files);
}

static int convert(struct imp *im)
{
	bool cg;
	size_t i;

	if (list_dir(im) || read_inventory(im))
		return -1;
	/* an incremental dump: its parents are checked before anything is converted */
	im->chain = imp_zalloc(sizeof(*im->chain));
	if (!im->chain || pmc_chain_open(im->in, im->chain))
		return -1;
	if (im->chain->depth)
		pr_info("incremental dump: %u parent image dirs", im->chain->depth);
	im->procs = imp_zalloc(IMP_MAX_PROCS * sizeof(*im->procs));
	if (!im->procs || imp_read_all(im, "pstree.img", false, add_ps, NULL))
		return -1;
	if (!im->nr_procs) {
		pr_err("pstree.img: no process");
		return -1;
	}
	if (imp_read_all(im, "seccomp.img", true, imp_seccomp_take, NULL) || imp_netns(im) ||
	    imp_files_read(im))
		return -1;
	for (i = 0; i < im->nr_procs; i++) {
		struct imp_proc *p = &im->procs[i];

		if (read_proc(im, p) || imp_core(im, p))
			return -1;
		if (p->ids && (imp_mm(im, p) || imp_fdinfo(im, p)))
			return -1;
	}
	if (imp_mnt(im) || imp_utsipc(im) || imp_locks_read(im) || imp_ghosts(im) || imp_ttys(im) ||
	    imp_memfds(im) || imp_shm_write(im) || imp_files_write(im) || write_pstree(im) ||
	    imp_cgroup(im, &cg) || write_inventory(im) || apply_xt(im))
		return -1;
	return check_leftovers(im);
}

int est_import(int dirfd, struct est_import *imp)
{
	struct imp im = { .in = dirfd, .out = -1, .no_build_id = imp->no_build_id,
			  .zpages = imp->zpages };
	const char *tmp = getenv("TMPDIR");
	char path[64];
	ssize_t n;
	int ret;

	imp->dirfd = -1;
	snprintf(imp->path, sizeof(imp->path), "%s/criu-est-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(imp->path)) {	/* mode 0700 */
		pr_perror("cannot make a directory for the converted images");
		imp->path[0] = 0;
		return -1;
	}
	imp->dirfd = open(imp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (imp->dirfd < 0) {
		pr_perror("cannot open %s", imp->path);
		est_import_release(imp);
		return -1;
	}
	im.out = imp->dirfd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	n = readlink(path, im.in_path, sizeof(im.in_path) - 1);
	im.in_path[n > 0 && im.in_path[0] == '/' ? n : 0] = 0;	/* "": page files are copied */
	pr_info("established-format images: converting into %s", imp->path);
	ret = convert(&im);
	imp_free(&im);
	if (ret) {
		pr_err("the established-format images cannot be restored");
		est_import_release(imp);
	}
	return ret;
}

void est_import_release(struct est_import *imp)
{
	struct dirent *de;
	DIR *d;

	if (imp->dirfd >= 0) {
		d = fdopendir(imp->dirfd);
		if (d)
			rewinddir(d);	/* the fd was read to its end when listed */
		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(imp->dirfd, de->d_name, 0);
		if (d)
			closedir(d);
		else
			close(imp->dirfd);
		imp->dirfd = -1;
	}
	if (imp->path[0] && rmdir(imp->path))
		pr_perror("cannot remove %s", imp->path);
	imp->path[0] = 0;
}
