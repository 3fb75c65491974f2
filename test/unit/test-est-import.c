/*
 * The importer of established-format images (criu/est-import*.c) on the
 * golden sets in <repo>/../shared/golden (or $CRIU_GOLDEN_DIR): each set
 * converts, and the converted images (ours) hold the values the established
 * ones did, moved where ours keeps them. Then doctored copies of the single
 * set (an unknown kind, a short page file, a pagemap run in a parent image,
 * a run outside every vma, a broken files.img entry) must be refused without
 * a crash and without leaving the private directory behind. Copies of the
 * single set with hand-made objects added (FIFO, signalfd, epoll, file
 * locks, deleted files, named unix and inet sockets, inotify, fanotify,
 * ptys, memfds, shared anonymous memory) convert field by field, and doctored ones are refused. Random
 * corruption of any file must end in a conversion or a refusal, never a crash.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "est-image.h"
#include "est-import.h"
#include "image.h"
#include "kerndat.h"
#include "log.h"
#include "tmpdir.h"
#include "unit.h"

#include "core.pb-c.h"
#include "eventfd.pb-c.h"
#include "files.pb-c.h"
#include "fanotify.pb-c.h"
#include "ghost.pb-c.h"
#include "inotify.pb-c.h"
#include "inventory.pb-c.h"
#include "memfd.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pagemap-flags.h"
#include "pipe.pb-c.h"
#include "pstree.pb-c.h"
#include "pty.pb-c.h"
#include "shmem.pb-c.h"
#include "sk-inet.pb-c.h"
#include "sk-unix.pb-c.h"
#include "timerfd.pb-c.h"
#include "epoll.pb-c.h"
#include "signalfd.pb-c.h"
#include "est/core.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/ids.pb-c.h"
#include "est/file-lock.pb-c.h"
#include "est/fsnotify.pb-c.h"
#include "est/ghost-file.pb-c.h"
#include "est/memfd.pb-c.h"
#include "est/mm.pb-c.h"
#include "est/pagemap.pb-c.h"
#include "est/remap-file-path.pb-c.h"
#include "est/sk-inet.pb-c.h"
#include "est/sk-unix.pb-c.h"
#include "est/tty.pb-c.h"
#include "est/pipe-data.pb-c.h"
#include "est/pstree.pb-c.h"
#include "est/timerfd.pb-c.h"

#define PAGE	4096u

static int golden(const char *set, char *buf, size_t size)
{
	const char *env = getenv("CRIU_GOLDEN_DIR");
	char exe[PATH_MAX - 64];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, size, "%s/%s", env, set);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0)
			return -1;
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';		/* <repo>/test/unit */
		snprintf(buf, size, "%s/../../../shared/golden/%s", exe, set);
	}
	return access(buf, F_OK);
}

#define OPEN_GOLDEN(set, fd)							\
	do {									\
		char _p[PATH_MAX];						\
		if (golden(set, _p, sizeof(_p)))				\
			SKIP("no golden images at %.300s: place shared/ next to " \
			     "the repository or set CRIU_GOLDEN_DIR", _p);	\
		fd = open(_p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);		\
		CHECK(fd >= 0);							\
	} while (0)

static int read_all(int dirfd, enum img_kind kind, unsigned int id, ProtobufCMessage ***v,
		    size_t *n)
{
	return img_read_all(dirfd, kind, id, 0, NULL, NULL, v, n);
}

static int convert(int fd, struct est_import *imp)
{
	int r = est_import(fd, imp);

	close(fd);
	return r;
}

/* Runs @check on the converted @set; the private directory goes whatever it says. */
static int on_converted(const char *set, int (*check)(int dirfd))
{
	struct est_import imp = { .dirfd = -1 };
	int fd, r;

	OPEN_GOLDEN(set, fd);
	CHECK(est_import_detect(fd) == 1);
	CHECK(convert(fd, &imp) == 0);
	kerndat_probe(KD_FPU);
	r = check(imp.dirfd);
	est_import_release(&imp);
	CHECK(!imp.path[0] && imp.dirfd == -1);
	return r;
}

static int check_single(int dirfd)
{
	ProtobufCMessage **v = NULL, *m;
	size_t n, i, pages = 0;
	struct stat st;

	CHECK(!img_read_one(dirfd, IMG_INVENTORY, 0, &m));
	CHECK(((InventoryEntry *)m)->root_pid == 32601);
	CHECK(((InventoryEntry *)m)->img_version == IMG_FORMAT_VERSION);
	img_free_entry(m);

	CHECK(!read_all(dirfd, IMG_CORE, 32601, &v, &n) && n == 2);
	{
		TaskCoreEntry *tc = (TaskCoreEntry *)v[0];
		ThreadCoreEntry *t = (ThreadCoreEntry *)v[1];
		uint64_t bv;
		uint32_t mxcsr;

		CHECK_STR(tc->comm, "single");
		/* dense in the format: entry i is signal i+1, i+2 after SIGKILL, i+3 after SIGSTOP */
		CHECK(tc->n_sigactions == 62 && tc->sigactions[0]->signo == 1);
		CHECK(tc->sigactions[8]->signo == 10 && tc->sigactions[17]->signo == 20);
		CHECK(tc->sigactions[61]->signo == 64);
		CHECK(tc->sigactions[8]->handler == 4200976 && tc->sigactions[8]->flags == 67108864);
		CHECK(tc->sigactions[11]->signo == 13 && tc->sigactions[11]->handler == 1);
		CHECK(tc->n_rlimits == 16 && tc->rlimits[3]->resource == 3 &&
		      tc->rlimits[3]->cur == 8388608);
		CHECK(tc->n_itimers == 3 && tc->umask == 18 && tc->cwd_id == 5 && tc->root_id == 6);
		CHECK(tc->creds && tc->creds->n_uid == 4 && tc->creds->has_securebits);
		CHECK(tc->creds->cap_eff == ((uint64_t)511 << 32 | 4278190079u));
		CHECK(t->tid == 32601 && t->regs->orig_ax == (uint64_t)-1);
		CHECK(t->regs->ip == 0x4582e3 && t->regs->sp == 0x7fff27737418);
		CHECK(t->has_clear_tid_addr && t->clear_tid_addr == 0x2bb73650);
		CHECK(t->has_robust_list && t->robust_list == 733427296 && t->robust_list_len == 24);
		CHECK(t->rseq && t->rseq->ptr == 733428896 && t->rseq->len == 32);
		CHECK(t->altstack && t->altstack->flags == 2);
		CHECK(t->xsave.len == kdat.arch.xsave_size);
		memcpy(&bv, t->xsave.data + 512, 8);
		memcpy(&mxcsr, t->xsave.data + 24, 4);
		CHECK(bv == (162 & kdat.arch.xfeatures) && mxcsr == 8064);
	}
	img_free_all(v, n);
	v = NULL;

	CHECK(!img_read_one(dirfd, IMG_MM, 32601, &m));
	{
		MmEntry *mm = (MmEntry *)m;
		uint64_t vvar = 0;

		CHECK(mm->exe_file_id == 1 && mm->n_auxv == 46);
		CHECK(mm->auxv[44] == 0 && mm->auxv[45] == 0 && mm->auxv[0] == 33);
		for (i = 0; i < mm->n_vmas; i++) {
			VmaEntry *e = mm->vmas[i];

			if (e->kind == VMA_KIND__VMA_VVAR || e->kind == VMA_KIND__VMA_VVAR_VCLOCK)
				vvar += e->end - e->start;
			if (e->kind == VMA_KIND__VMA_VDSO)
				CHECK(e->start == 0x7f8222432000ULL && !(e->flags & 0x20));
			if (e->start == 0x2bb73000ULL)
				CHECK(e->kind == VMA_KIND__VMA_ANON_PRIVATE && e->heap);
			if (e->start == 0x401000ULL)
				CHECK(e->kind == VMA_KIND__VMA_FILE_PRIVATE && e->file_id == 1 &&
				      /* private: may write whatever fdflags say */
				      e->has_max_prot && (e->max_prot & 7) == 7);
			if (e->kind == VMA_KIND__VMA_ANON_PRIVATE)
				CHECK(!e->has_max_prot);
		}
		CHECK(vvar == 6 * PAGE);
	}
	img_free_entry(m);

	CHECK(!read_all(dirfd, IMG_PAGEMAP, 32601, &v, &n) && n > 1);
	CHECK(((PagemapHead *)v[0])->pages_id == 32601);
	for (i = 1; i < n; i++) {
		PagemapEntry *pe = (PagemapEntry *)v[i];

		CHECK(pe->flags == 1 && pe->vaddr != 0x7f8222432000ULL);	/* no vdso data */
		pages += pe->nr_pages;
	}
	img_free_all(v, n);
	v = NULL;
	CHECK(pages == 62);	/* 64 in pages-1.img, 2 of them the vdso's */
	/* ours is theirs, linked: the runs say where their data lies, the vdso's skipped */
	CHECK(!fstatat(dirfd, "pages-32601.img", &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode));
	CHECK(!fstatat(dirfd, "pages-32601.img", &st, 0) && st.st_size == 64 * PAGE);

	CHECK(!read_all(dirfd, IMG_FDS, 32601, &v, &n) && n == 5);
	CHECK(((FdEntry *)v[1])->kind == FD_KIND__FD_CHR && ((FdEntry *)v[3])->kind == FD_KIND__FD_PIPE);
	img_free_all(v, n);
	v = NULL;
	CHECK(!read_all(dirfd, IMG_PIPES_DATA, 0, &v, &n) && n == 1);
	CHECK(((PipeDataEntry *)v[0])->data.len == 40 && ((PipeDataEntry *)v[0])->size == 65536);
	CHECK(!memcmp(((PipeDataEntry *)v[0])->data.data, "golden pipe data", 16));
	img_free_all(v, n);
	return 0;
}

static int test_single(void)
{
	return on_converted("single", check_single);
}

/*
 * The children's pages still shared with the parent since fork() (the
 * format stores them in each process) come back as PE_COW runs where the
 * parent stores the same page: the child stores fewer pages of its own than
 * the format gave it, and each COW run lies where the parent has data.
 */
static int check_tree_cow(int dirfd, unsigned int pid)
{
	ProtobufCMessage **c = NULL, **p = NULL;
	size_t nc, np, i, k, cow = 0, own = 0;

	CHECK(!read_all(dirfd, IMG_PAGEMAP, pid, &c, &nc) && nc > 1);
	CHECK(!read_all(dirfd, IMG_PAGEMAP, 32611, &p, &np) && np > 1);
	for (i = 1; i < nc; i++) {
		const PagemapEntry *e = (const PagemapEntry *)c[i];
		bool in_parent = false;

		CHECK(e->has_flags && (e->flags == PE_PRESENT || e->flags == PE_COW));
		if (e->flags == PE_PRESENT) {
			own += e->nr_pages;
			continue;
		}
		cow += e->nr_pages;
		for (k = 1; k < np; k++) {
			const PagemapEntry *f = (const PagemapEntry *)p[k];

			in_parent |= f->flags == PE_PRESENT && f->vaddr <= e->vaddr &&
				     e->vaddr + e->nr_pages * PAGE <= f->vaddr + f->nr_pages * PAGE;
		}
		CHECK(in_parent);
	}
	if (getenv("EST_IMPORT_VERBOSE"))
		fprintf(stderr, "%u: %zu pages shared with the parent, %zu its own\n", pid, cow, own);
	CHECK(cow > 0);
	img_free_all(c, nc);
	img_free_all(p, np);
	return 0;
}

static int check_tree(int dirfd)
{
	ProtobufCMessage **v = NULL;
	size_t n;

	CHECK(!read_all(dirfd, IMG_PSTREE, 0, &v, &n) && n == 3);
	CHECK(((PstreeEntry *)v[1])->ppid == 32611 && ((PstreeEntry *)v[2])->sid == 32611);
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_CORE, 32611, &v, &n) && n == 3);
	CHECK(((ThreadCoreEntry *)v[1])->blocked == 0 && ((ThreadCoreEntry *)v[2])->tid == 32614);
	CHECK(((ThreadCoreEntry *)v[2])->blocked == 0xa00);	/* SIGUSR1, SIGUSR2 */
	img_free_all(v, n);
	return check_tree_cow(dirfd, 32612) || check_tree_cow(dirfd, 32613);
}

static int test_tree(void)
{
	return on_converted("tree", check_tree);
}

static int check_fds(int dirfd)
{
	ProtobufCMessage **v = NULL;
	size_t n;

	CHECK(!read_all(dirfd, IMG_UNIX_SKS, 0, &v, &n) && n == 2);
	{
		UnixSkEntry *a = (UnixSkEntry *)v[0], *b = (UnixSkEntry *)v[1];

		if (a->id != 3) {
			UnixSkEntry *t = a;

			a = b;
			b = t;
		}
		CHECK(a->id == 3 && a->peer == 4 && b->peer == 3 && a->peer_ino == b->ino);
		CHECK(a->n_queue == 1 && a->queue[0].len == 11 && b->n_queue == 1 &&
		      b->queue[0].len == 29);
		CHECK(a->flags == 0 && !a->has_backlog);
	}
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_EVENTFDS, 0, &v, &n) && n == 1);
	CHECK(((EventfdEntry *)v[0])->counter == 0x1244 && ((EventfdEntry *)v[0])->flags == O_NONBLOCK);
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_TIMERFDS, 0, &v, &n) && n == 2);
	CHECK(((TimerfdEntry *)v[0])->interval_sec == 3600 && ((TimerfdEntry *)v[0])->flags == 0);
	CHECK(((TimerfdEntry *)v[1])->ticks == 1 && ((TimerfdEntry *)v[1])->flags == O_NONBLOCK);
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_FDS, 32621, &v, &n) && n == 8);
	CHECK(((FdEntry *)v[5])->kind == FD_KIND__FD_EVENTFD && ((FdEntry *)v[5])->cloexec);
	img_free_all(v, n);
	return 0;
}

static int test_fds(void)
{
	return on_converted("fds", check_fds);
}

/* ---- refusals on doctored copies of the single set ---------------------------- */

static int copy_file(int from, int to, const char *name)
{
	char buf[1 << 16];
	int a = openat(from, name, O_RDONLY | O_CLOEXEC), b;
	ssize_t r;

	b = openat(to, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (a < 0 || b < 0)
		goto err;
	while ((r = read(a, buf, sizeof(buf))) > 0)
		if (write(b, buf, r) != r)
			goto err;
	close(a);
	return close(b);
err:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return -1;
}

/* A fresh copy of golden/@set; its fd (the helper's), or -1. */
static int copy_set(const char *set)
{
	char p[PATH_MAX];
	struct dirent *de;
	int to, from;
	DIR *d;

	if (golden(set, p, sizeof(p)))
		return -1;
	to = unit_fresh_dir("est-import");
	from = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = from >= 0 ? fdopendir(from) : NULL;
	if (to < 0 || !d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && copy_file(from, to, de->d_name)) {
			closedir(d);
			return -1;
		}
	closedir(d);
	return to;
}

static int copy_single(void)
{
	return copy_set("single");
}

static int write_file(int dirfd, const char *name, const void *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = fd >= 0 && write(fd, buf, len) == (ssize_t)len ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return r;
}

/* A pagemap-32601.img of one run at @vaddr with @flags (the format's bits). */
static int write_pagemap(int dirfd, uint64_t vaddr, uint32_t flags)
{
	Est__PagemapHead h = EST__PAGEMAP_HEAD__INIT;
	Est__PagemapEntry e = EST__PAGEMAP_ENTRY__INIT;
	uint8_t buf[256];
	uint32_t w[2] = { EST_MAGIC_COMMON, 0x56084025 }, sz;
	size_t off = 8;

	h.pages_id = 1;
	e.vaddr = vaddr;
	e.compat_nr_pages = 64;
	e.has_flags = true;
	e.flags = flags;
	memcpy(buf, w, 8);
	sz = est__pagemap_head__pack(&h, buf + off + 4);
	memcpy(buf + off, &sz, 4);
	off += 4 + sz;
	sz = est__pagemap_entry__pack(&e, buf + off + 4);
	memcpy(buf + off, &sz, 4);
	off += 4 + sz;
	return write_file(dirfd, "pagemap-32601.img", buf, off);
}

static int refused(int dirfd)
{
	struct est_import imp = { .dirfd = -1 };
	int r;

	log_set_level(getenv("EST_IMPORT_VERBOSE") ? LOG_ERROR : LOG_NONE);
	r = est_import(dirfd, &imp);
	log_set_level(LOG_ERROR);
	return r == -1 && imp.dirfd == -1 && !imp.path[0];
}

static int imports(int dirfd)
{
	struct est_import imp = { .dirfd = -1 };

	if (est_import(dirfd, &imp))
		return 0;
	est_import_release(&imp);
	return 1;
}

static int test_refusals(void)
{
	static const uint32_t tcp[2] = { EST_MAGIC_COMMON, 0x51465506 };
	static const uint8_t bad_entry[] = { 0x19, 0x43, 0x56, 0x54, 0x38, 0x31, 0x30, 0x56,
					     4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	char p[PATH_MAX];
	int d;

	if (golden("single", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	d = copy_single();
	CHECK(d >= 0);
	CHECK(write_file(d, "tcp-stream-1.img", tcp, sizeof(tcp)) == 0);	/* a kind not converted */
	CHECK(refused(d));
	CHECK(unlinkat(d, "tcp-stream-1.img", 0) == 0);
	CHECK(write_file(d, "xt-core-1.img", tcp, sizeof(tcp)) == 0);	/* ours, not announced */
	CHECK(refused(d));
	CHECK(unlinkat(d, "xt-core-1.img", 0) == 0);
	CHECK(write_file(d, "strange-file", "x", 1) == 0);	/* not an image: left alone */
	CHECK(imports(d));

	d = copy_single();
	CHECK(d >= 0 && truncate(strcat(strcpy(p, unit_dir_path()), "/pages-1.img"), 63 * PAGE) == 0);
	CHECK(refused(d));						/* short page file */

	d = copy_single();
	CHECK(d >= 0 && write_pagemap(d, 0x2bb73000ULL, 1) == 0);	/* in a parent image */
	CHECK(refused(d));
	CHECK(write_pagemap(d, 0x1000, 4) == 0);			/* outside every vma */
	CHECK(refused(d));
	CHECK(write_pagemap(d, 0x2bb73000ULL, 2) == 0);			/* lazy, no data */
	CHECK(refused(d));

	d = copy_single();
	CHECK(d >= 0 && write_file(d, "files.img", bad_entry, sizeof(bad_entry)) == 0);
	CHECK(refused(d));						/* not a file_entry */
	return 0;
}

/* Image @name of @d into @in (whole); *sz the size of its first entry, at in + 12. */
static int read_head(int d, const char *name, uint8_t *in, size_t size, uint32_t *sz)
{
	int fd = openat(d, name, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, in, size) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 12)
		return -1;
	memcpy(sz, in + 8, 4);
	return *sz > (size_t)n - 12 ? -1 : 0;
}

/*
 * The single set's mm-32601.img given an AIO ring vma at 0x180000 (one page,
 * status REGULAR | AIORING, below every other vma) and @nr_aios entries of
 * aios naming it with @ring_len bytes.
 */
static int add_aio(int d, size_t nr_aios, uint32_t ring_len)
{
	static uint8_t in[1 << 16], out[1 << 16];
	Est__VmaEntry v = EST__VMA_ENTRY__INIT, **vv, **old;
	Est__AioRingEntry a = EST__AIO_RING_ENTRY__INIT, *ap = &a;
	Est__MmEntry *mm;
	uint32_t sz;
	size_t n;

	if (read_head(d, "mm-32601.img", in, sizeof(in), &sz))
		return -1;
	mm = est__mm_entry__unpack(NULL, sz, in + 12);
	if (!mm || !(vv = calloc(mm->n_vmas + 1, sizeof(*vv))))
		return -1;
	v.start = 0x180000;
	v.end = v.start + PAGE;
	v.prot = 3;
	v.flags = MAP_SHARED;
	v.status = 0x1 | 0x2000;
	v.fd = -1;
	vv[0] = &v;
	a.id = v.start;
	a.nr_req = 62;
	a.ring_len = ring_len;
	memcpy(vv + 1, mm->vmas, mm->n_vmas * sizeof(*vv));
	old = mm->vmas;
	mm->vmas = vv;
	mm->n_vmas++;
	mm->aios = &ap;
	mm->n_aios = nr_aios;
	sz = est__mm_entry__get_packed_size(mm);
	n = sz + 12 <= sizeof(out) ? est__mm_entry__pack(mm, out + 12) : 0;
	mm->vmas = old;
	mm->n_vmas--;
	mm->aios = NULL;
	mm->n_aios = 0;
	est__mm_entry__free_unpacked(mm, NULL);
	free(vv);
	memcpy(out, in, 8);
	memcpy(out + 8, &sz, 4);
	return n == sz ? write_file(d, "mm-32601.img", out, 12 + sz) : -1;
}

/* An AIO ring comes in as one with its io_setup argument; without its aios entry, refused. */
static int test_aio(void)
{
	struct est_import imp = { .dirfd = -1 };
	ProtobufCMessage *m;
	char p[PATH_MAX];
	int d, r;

	if (golden("single", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	d = copy_single();
	CHECK(d >= 0 && add_aio(d, 0, PAGE) == 0);
	CHECK(refused(d));
	d = copy_single();
	CHECK(d >= 0 && add_aio(d, 1, 2 * PAGE) == 0);
	CHECK(refused(d));					/* not the vma's size */
	d = copy_single();
	CHECK(d >= 0 && add_aio(d, 1, PAGE) == 0);
	CHECK(est_import(d, &imp) == 0);
	r = img_read_one(imp.dirfd, IMG_MM, 32601, &m);
	est_import_release(&imp);
	CHECK(!r);
	{
		const VmaEntry *v = ((MmEntry *)m)->vmas[0];

		r = v->kind == VMA_KIND__VMA_AIO_RING && v->start == 0x180000 && v->has_aio_nr_req &&
		    v->aio_nr_req == 62 && v->flags == MAP_SHARED && v->prot == 3 ? 0 : -1;
	}
	img_free_entry(m);
	return r;
}

/*
 * The single set's leader core made a stopped process: @signo its
 * stop_signo (0: absent). Then the import's verdict: the stop signal it
 * gives, or -1 refused.
 */
static int stopped_import(uint32_t signo)
{
	uint8_t in[1 << 16], out[1 << 16];
	Est__CoreEntry *c;
	struct est_import imp = { .dirfd = -1 };
	ProtobufCMessage **v = NULL;
	uint32_t sz;
	size_t len, i;
	int d = copy_single(), ret;

	if (d < 0)
		return -2;
	if (read_head(d, "core-32601.img", in, sizeof(in), &sz))
		return -2;
	c = est__core_entry__unpack(NULL, sz, in + 12);
	if (!c || !c->tc)
		return -2;
	c->tc->task_state = 3;
	c->tc->has_stop_signo = signo != 0;
	c->tc->stop_signo = signo;
	memcpy(out, in, 8);
	sz = (uint32_t)est__core_entry__pack(c, out + 12);
	memcpy(out + 8, &sz, 4);
	len = 12 + sz;
	est__core_entry__free_unpacked(c, NULL);
	if (write_file(d, "core-32601.img", out, len))
		return -2;
	log_set_level(LOG_NONE);
	ret = est_import(d, &imp);
	log_set_level(LOG_ERROR);
	if (ret)
		return -1;
	ret = -2;
	if (!read_all(imp.dirfd, IMG_CORE, 32601, &v, &len) && len) {
		const TaskCoreEntry *tc = (const TaskCoreEntry *)v[0];

		ret = tc->state == 3 && tc->has_stop_signo ? (int)tc->stop_signo : -2;
		for (i = 0; i < len; i++)
			img_free_entry(v[i]);
		free(v);
	}
	est_import_release(&imp);
	return ret;
}

static int test_stopped(void)
{
	char p[PATH_MAX];

	if (golden("single", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	CHECK(stopped_import(SIGTSTP) == SIGTSTP);
	CHECK(stopped_import(SIGTTOU) == SIGTTOU);
	CHECK(stopped_import(0) == SIGSTOP);	/* an image from before the field */
	CHECK(stopped_import(SIGUSR1) == -1);
	CHECK(stopped_import(1000) == -1);
	return 0;
}


/* ---- further kinds, on hand-made copies of the single set ---------------------- */

/* Appends one framed entry (+ @extra) to @name, which has its magic words already. */
static int append(int dirfd, const char *name, const ProtobufCMessage *m, const void *extra,
		  uint32_t extra_len)
{
	uint32_t sz = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(4 + sz + extra_len);
	int fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC), r = -1;

	if (buf && fd >= 0) {
		memcpy(buf, &sz, 4);
		protobuf_c_message_pack(m, buf + 4);
		if (extra_len)
			memcpy(buf + 4 + sz, extra, extra_len);
		r = write(fd, buf, 4 + sz + extra_len) == (ssize_t)(4 + sz + extra_len) ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

static int new_image(int dirfd, const char *name, uint32_t magic)
{
	uint32_t w[2] = { EST_MAGIC_COMMON, magic };

	return write_file(dirfd, name, w, sizeof(w));
}

static Est__FownEntry no_fown = EST__FOWN_ENTRY__INIT;

static int add_object(int dirfd, Est__FileEntry *f)
{
	return append(dirfd, "files.img", &f->base, NULL, 0);
}

/* Appends a file_entry of @type and @id whose @member is @m. */
#define ADD_OBJ(dirfd, type_, id_, member, m)					\
	({									\
		Est__FileEntry _f = EST__FILE_ENTRY__INIT;			\
		_f.type = EST__FD_TYPES__##type_;				\
		_f.id = (id_);							\
		_f.member = (m);						\
		add_object(dirfd, &_f);						\
	})

static int add_fdinfo(int dirfd, uint32_t fd, Est__FdTypes type, uint32_t id)
{
	Est__FdinfoEntry e = EST__FDINFO_ENTRY__INIT;

	e.fd = fd;
	e.type = type;
	e.id = id;
	return append(dirfd, "fdinfo-2.img", &e.base, NULL, 0);
}

/* What the hand-made directory holds besides the single set. */
struct kinds_dir {
	char fifo[PATH_MAX];
	uint32_t fifo_ino;
	/* doctoring */
	uint32_t sgfd_flags, ep_tfd_id, ep_tfd2, fifo_regf, data_pipe_id;
	uint32_t fown_uid;		/* the signalfd's owner was set as */
	bool fifo_fd_as_reg;
	uint32_t lock_flag;		/* of the second lock */
	int32_t lock_pid, lock_fd, flock_len;
	/* ghosts: 1 linked remap, 2 chunk beyond the size, 3 chunks out of order,
	 * 4 a directory, 5 size and whole content disagree, 6 no ghost file */
	int ghost_bad;
	/* sockets: 1 established TCP, 2 AF_PACKET, 3 raw IP options, 4 a name relative
	 * to a directory, 5 two listeners on one path, 6 a peer address while not
	 * connected, 7 V6ONLY on IPv4, 8 an fd on an outside peer's entry (USK_EXTERN),
	 * 9 sk_opts and tcp_opts disagree on TCP_KEEPCNT, 10 TCP_CORK on UDP,
	 * 11 a NUL inside a path name */
	int sk_bad;
	/* notification groups: 1 a handle without path, 2 a mount mark without its
	 * path, 3 an inotify ignored mask, 4 O_APPEND on a group's fd, 5 a wd twice */
	int fsn_bad;
	/* ptys: 1 a console, 2 bytes waiting at a slave, 3 a termios lock of 18 control
	 * characters, 4 18 control characters, 5 a slave file at another pty's path, 6 20
	 * words of control characters */
	int tty_bad;
	/* memfds: 1 hugetlb, 2 a run beyond the size, 3 pages in a parent image,
	 * 4 a short page file, 5 a file of no inode, 6 a directory's mode */
	int mem_bad;
	/* shared memory: 1 a run beyond the largest vma, 2 mapped private, 3 also a
	 * memfd's shmid, 4 an offset not page aligned, 5 a memfd mapped private,
	 * 6 a memfd mapped past its size */
	int shm_bad;
};

static void kinds_default(struct kinds_dir *k)
{
	memset(k, 0, sizeof(*k));
	k->sgfd_flags = O_RDWR | O_NONBLOCK | O_ASYNC;
	k->ep_tfd_id = 103;
	k->ep_tfd2 = 20;
	k->fifo_regf = 100;
	k->lock_flag = 1;		/* FL_POSIX */
	k->lock_pid = 32601;
	k->lock_fd = 23;
}

static int add_reg(int d, uint32_t id, const char *name, uint32_t mode, uint32_t fd)
{
	Est__RegFileEntry reg = EST__REG_FILE_ENTRY__INIT;

	reg.id = id;
	reg.flags = O_RDWR | 0100000;
	reg.fown = &no_fown;
	reg.name = (char *)name;
	reg.has_mode = true;
	reg.mode = mode;
	return ADD_OBJ(d, REG, id, reg, &reg) || add_fdinfo(d, fd, EST__FD_TYPES__REG, id);
}

static int add_remap(int d, uint32_t orig, uint32_t remap, int type)
{
	Est__RemapFilePathEntry r = EST__REMAP_FILE_PATH_ENTRY__INIT;

	r.orig_id = orig;
	r.remap_id = remap;
	r.has_remap_type = type >= 0;
	r.remap_type = type;
	return append(d, "remap-fpath.img", &r.base, NULL, 0);
}

/*
 * Deleted files: REG 105 (fd 24) is ghost 2, 10000 bytes in two chunks;
 * REG 106 (fd 25) ghost 7 in the old form (bit 31, no type), its whole
 * content after the entry.
 */
static int add_ghosts(int d, const struct kinds_dir *k)
{
	Est__GhostFileEntry g = EST__GHOST_FILE_ENTRY__INIT;
	Est__GhostChunkEntry c = EST__GHOST_CHUNK_ENTRY__INIT;
	Est__Timeval at = EST__TIMEVAL__INIT, mt = EST__TIMEVAL__INIT;

	if (add_reg(d, 105, "/var/tmp/deleted", S_IFREG | 0640, 24) ||
	    add_reg(d, 106, "/var/tmp/deleted2", S_IFREG | 0600, 25) ||
	    new_image(d, "remap-fpath.img", 0x59133954) ||
	    add_remap(d, 105, 2, k->ghost_bad == 1 ? 0 : 1) || add_remap(d, 106, 0x80000007, -1))
		return -1;
	at.tv_sec = 1700000000;
	at.tv_usec = 5;
	mt.tv_sec = 1700000001;
	g.uid = 1000;
	g.gid = 100;
	g.mode = k->ghost_bad == 4 ? S_IFDIR | 0755 : S_IFREG | 0640;
	g.atim = &at;
	g.mtim = &mt;
	g.has_chunks = g.chunks = true;
	g.has_size = true;
	g.size = 10000;
	if (k->ghost_bad != 6 && new_image(d, "ghost-file-2.img", 0x52583605))
		return -1;
	if (k->ghost_bad != 6 && append(d, "ghost-file-2.img", &g.base, NULL, 0))
		return -1;
	c.len = 5;
	c.off = k->ghost_bad == 3 ? 9000 : 0;
	if (k->ghost_bad != 6 && append(d, "ghost-file-2.img", &c.base, "ghost", 5))
		return -1;
	c.len = 3;
	c.off = k->ghost_bad == 2 ? 9998 : 8192;
	if (k->ghost_bad != 6 && append(d, "ghost-file-2.img", &c.base, "end", 3))
		return -1;
	g.mode = S_IFREG | 0600;
	g.has_chunks = g.chunks = false;
	g.has_size = k->ghost_bad == 5;
	g.size = 7;
	return new_image(d, "ghost-file-7.img", 0x52583605) ||
	       append(d, "ghost-file-7.img", &g.base, "whole!", 6);
}

static Est__SkOptsEntry *sk_opts(Est__SkOptsEntry *o)
{
	est__sk_opts_entry__init(o);
	o->so_sndbuf = 12345 * 2;
	o->so_rcvbuf = 54321 * 2;
	o->so_rcv_tmo_sec = 2;
	o->so_rcv_tmo_usec = 500;
	return o;
}

static int add_unix(int d, uint32_t id, uint32_t fd, const char *name, size_t len, uint32_t type,
		    uint32_t state, const struct kinds_dir *k)
{
	Est__UnixSkEntry u = EST__UNIX_SK_ENTRY__INIT;
	Est__FilePermsEntry perms = EST__FILE_PERMS_ENTRY__INIT;
	Est__SkOptsEntry o;

	u.id = id;
	u.ino = 900000 + id;
	u.type = type;
	u.state = state;
	u.flags = O_RDWR;
	u.uflags = k->sk_bad == 8 && id == 107;
	u.backlog = state == 10 ? 5 : 0;
	u.fown = &no_fown;
	u.opts = sk_opts(&o);
	u.name.data = (uint8_t *)(k->sk_bad == 11 && id == 107 ? "/var/tmp\0est-sk" : name);
	u.name.len = len;
	if (name[0]) {
		perms.mode = 0140755;
		perms.uid = 1000;
		perms.gid = 100;
		u.file_perms = &perms;
		u.name_dir = k->sk_bad == 4 ? "/var" : NULL;
	} else {
		u.has_shutdown = true;
		u.shutdown = EST__SK_SHUTDOWN__READ;
	}
	return ADD_OBJ(d, UNIXSK, id, usk, &u) || add_fdinfo(d, fd, EST__FD_TYPES__UNIXSK, id);
}

/*
 * Unix 141 (fd 45), datagram, connected to a socket outside the dump bound
 * to /var/tmp/est-peer: the format's USK_EXTERN entry 140 stands for that.
 * SO_NO_CHECK on, SO_BUF_LOCK 0 (the buffer sizes set lock them otherwise).
 */
static int add_ext_peer(int d)
{
	Est__UnixSkEntry x = EST__UNIX_SK_ENTRY__INIT, u = EST__UNIX_SK_ENTRY__INIT;
	Est__SkOptsEntry xo = EST__SK_OPTS_ENTRY__INIT, o;

	x.id = 140;
	x.ino = 900140;
	x.type = SOCK_DGRAM;
	x.state = 10;
	x.uflags = EST_USK_EXTERN;
	x.fown = &no_fown;
	x.opts = &xo;
	x.name.data = (uint8_t *)"/var/tmp/est-peer";
	x.name.len = 18;			/* with the kernel's NUL */
	u.id = 141;
	u.ino = 900141;
	u.type = SOCK_DGRAM;
	u.state = 1;
	u.flags = O_RDWR;
	u.peer = 900140;
	u.fown = &no_fown;
	u.opts = sk_opts(&o);
	o.has_so_no_check = o.so_no_check = true;
	o.has_so_buf_lock = true;
	return ADD_OBJ(d, UNIXSK, 140, usk, &x) || ADD_OBJ(d, UNIXSK, 141, usk, &u) ||
	       add_fdinfo(d, 45, EST__FD_TYPES__UNIXSK, 141);
}

/*
 * timerfd 150 (fd 60): periodic, expired and not read, as the reference
 * writes it (fdinfo shows no time left); 151 (fd 61): disarmed, an interval
 * kept by timerfd_settime() and no expiration.
 */
static int add_timerfds(int d)
{
	Est__TimerfdEntry t = EST__TIMERFD_ENTRY__INIT;

	t.id = 150;
	t.flags = O_RDWR;
	t.fown = &no_fown;
	t.clockid = CLOCK_MONOTONIC;
	t.ticks = 1;
	t.isec = 3600;
	t.insec = 5;
	if (ADD_OBJ(d, TIMERFD, 150, tfd, &t) || add_fdinfo(d, 60, EST__FD_TYPES__TIMERFD, 150))
		return -1;
	t.id = 151;
	t.ticks = 0;
	return ADD_OBJ(d, TIMERFD, 151, tfd, &t) || add_fdinfo(d, 61, EST__FD_TYPES__TIMERFD, 151);
}

static int check_timerfds(int dirfd)
{
	ProtobufCMessage **v = NULL;
	size_t n;
	const TimerfdEntry *a, *b;

	CHECK(!read_all(dirfd, IMG_TIMERFDS, 0, &v, &n) && n == 2);
	a = (TimerfdEntry *)v[0], b = (TimerfdEntry *)v[1];
	/* armed for one interval from the restore, the expiration still unread */
	CHECK(a->id == 150 && a->ticks == 1 && a->value_sec == 3600 && a->value_nsec == 5 &&
	      a->interval_sec == 3600 && a->interval_nsec == 5);
	CHECK(b->id == 151 && !b->ticks && !b->value_sec && !b->value_nsec &&
	      b->interval_sec == 3600);
	img_free_all(v, n);
	return 0;
}

/*
 * Sockets: unix 107 listening on /var/tmp/est-sk (fd 26), unix 108 datagram
 * on an abstract name, shut for reading (fd 27); TCP 109 listening on
 * 127.0.0.1:5555 (fd 28); UDP 110 over IPv6 from [::1]:1000 to [::1]:53 (fd 29).
 */
static int add_sockets(int d, const struct kinds_dir *k)
{
	static const uint32_t lo4 = 0x0100007f, lo6[4] = { 0, 0, 0, 0x01000000 };
	Est__InetSkEntry t = EST__INET_SK_ENTRY__INIT, u = EST__INET_SK_ENTRY__INIT;
	Est__SkOptsEntry to, uo;
	Est__TcpOptsEntry tcp = EST__TCP_OPTS_ENTRY__INIT, empty = EST__TCP_OPTS_ENTRY__INIT;
	Est__IpOptsEntry ip = EST__IP_OPTS_ENTRY__INIT;
	Est__IpOptsRawEntry raw = EST__IP_OPTS_RAW_ENTRY__INIT;

	/* the kernel's name, its NUL too (the reference keeps it); 111 without */
	if (add_unix(d, 107, 26, "/var/tmp/est-sk", 16, SOCK_STREAM, 10, k) ||
	    add_unix(d, 108, 27, "\0est-abs", 8, SOCK_DGRAM, 7, k) ||
	    (k->sk_bad == 5 && add_unix(d, 111, 30, "/var/tmp/est-sk", 15, SOCK_STREAM, 10, k)))
		return -1;
	t.id = 109;
	t.ino = 900109;
	t.family = k->sk_bad == 2 ? 17 : AF_INET;
	t.type = SOCK_STREAM;
	t.proto = IPPROTO_TCP;
	t.state = k->sk_bad == 1 ? 1 : 10;
	t.src_port = 5555;
	t.flags = O_RDWR;
	t.backlog = 16;
	t.n_src_addr = 1;
	t.src_addr = (uint32_t *)&lo4;
	t.fown = &no_fown;
	t.opts = sk_opts(&to);
	to.has_reuseaddr = to.reuseaddr = true;
	to.has_tcp_keepcnt = true;
	to.tcp_keepcnt = 3;
	to.has_so_linger = true;
	to.so_linger = 7;
	tcp.has_nodelay = tcp.nodelay = true;
	/* keepalive as the reference writes it: always, the defaults too */
	tcp.has_keepcnt = tcp.has_keepidle = tcp.has_keepintvl = true;
	tcp.keepcnt = k->sk_bad == 9 ? 4 : 3;	/* sk_opts says 3 */
	tcp.keepidle = (uint32_t)est_sk_default_opt(AF_INET, SOCK_STREAM, IPPROTO_TCP, SOL_TCP,
							 TCP_KEEPIDLE);
	tcp.keepintvl = 30;
	t.tcp_opts = &tcp;
	t.has_v6only = k->sk_bad == 7;
	t.v6only = true;
	if (k->sk_bad == 6) {
		t.dst_port = 80;
		t.n_dst_addr = 1;
		t.dst_addr = (uint32_t *)&lo4;
	}
	if (ADD_OBJ(d, INETSK, 109, isk, &t) || add_fdinfo(d, 28, EST__FD_TYPES__INETSK, 109))
		return -1;
	u.id = 110;
	u.ino = 900110;
	u.family = AF_INET6;
	u.type = SOCK_DGRAM;
	u.proto = IPPROTO_UDP;
	u.state = 1;
	u.src_port = 1000;
	u.dst_port = 53;
	u.flags = O_RDWR | O_NONBLOCK;
	u.n_src_addr = u.n_dst_addr = 4;
	u.src_addr = u.dst_addr = (uint32_t *)lo6;
	u.fown = &no_fown;
	u.opts = sk_opts(&uo);
	u.has_v6only = u.v6only = true;
	ip.has_freebind = ip.freebind = true;
	ip.raw = k->sk_bad == 3 ? &raw : NULL;
	u.ip_opts = &ip;
	u.tcp_opts = &empty;			/* the reference's, on UDP */
	empty.has_cork = k->sk_bad == 10;
	return ADD_OBJ(d, INETSK, 110, isk, &u) || add_fdinfo(d, 29, EST__FD_TYPES__INETSK, 110);
}

/*
 * inotify 112 (fd 31) watching /var/tmp (inode 777 on 8:1, wd 1, IN_CREATE);
 * fanotify 113 (fd 32, non-blocking) marking /etc (inode 778) and the mount at /.
 */
static int add_fsnotify(int d, const struct kinds_dir *k)
{
	static uint64_t words[16];
	Est__FhEntry h1 = EST__FH_ENTRY__INIT, h2 = EST__FH_ENTRY__INIT;
	Est__InotifyWdEntry w = EST__INOTIFY_WD_ENTRY__INIT, w2 = EST__INOTIFY_WD_ENTRY__INIT;
	Est__InotifyWdEntry *wp[2] = { &w2, &w };	/* newest first, as fdinfo lists them */
	Est__InotifyFileEntry i = EST__INOTIFY_FILE_ENTRY__INIT;
	Est__FanotifyInodeMarkEntry ie = EST__FANOTIFY_INODE_MARK_ENTRY__INIT;
	Est__FanotifyMountMarkEntry me = EST__FANOTIFY_MOUNT_MARK_ENTRY__INIT;
	Est__FanotifyMarkEntry m[2] = { EST__FANOTIFY_MARK_ENTRY__INIT,
					EST__FANOTIFY_MARK_ENTRY__INIT };
	Est__FanotifyMarkEntry *mp[2] = { &m[0], &m[1] };
	Est__FanotifyFileEntry f = EST__FANOTIFY_FILE_ENTRY__INIT;

	h1.bytes = h2.bytes = 8;
	h1.type = h2.type = 1;
	h1.n_handle = h2.n_handle = 16;
	h1.handle = h2.handle = words;
	h1.path = k->fsn_bad == 1 ? NULL : "/var/tmp";
	h2.path = "/etc";
	w.id = 0;				/* as the reference leaves it */
	w.i_ino = 777;
	w.mask = 0x100;
	w.ignored_mask = k->fsn_bad == 3;
	w.s_dev = 8 << 20 | 1;
	w.wd = 1;
	w.f_handle = &h1;
	i.id = 112;
	i.flags = O_RDONLY | (k->fsn_bad == 4 ? O_APPEND : 0);
	i.fown = &no_fown;
	w2 = w;
	w2.i_ino = 778;
	w2.wd = k->fsn_bad == 5 ? 1 : 2;
	w2.f_handle = &h2;
	i.n_wd = 2;
	i.wd = wp;
	if (ADD_OBJ(d, INOTIFY, 112, ify, &i) || add_fdinfo(d, 31, EST__FD_TYPES__INOTIFY, 112))
		return -1;
	ie.i_ino = 778;
	ie.f_handle = &h2;
	me.mnt_id = 5;
	me.path = k->fsn_bad == 2 ? NULL : "/";
	m[0].id = m[1].id = 113;
	m[0].type = EST__MARK_TYPE__INODE;
	m[0].mask = 0x20;
	m[0].s_dev = 8 << 20 | 1;
	m[0].ie = &ie;
	m[1].type = EST__MARK_TYPE__MOUNT;
	m[1].mflags = 1;
	m[1].mask = 0x8;
	m[1].ignored_mask = 0x2;
	m[1].s_dev = 8 << 20 | 2;
	m[1].me = &me;
	f.id = 113;
	f.flags = O_RDWR | O_NONBLOCK;
	f.fown = &no_fown;
	f.faflags = 0x2 | 0x1;		/* FAN_NONBLOCK | FAN_CLOEXEC */
	f.evflags = O_RDONLY | 0100000;
	f.n_mark = 2;
	f.mark = mp;
	return ADD_OBJ(d, FANOTIFY, 113, ffy, &f) || add_fdinfo(d, 32, EST__FD_TYPES__FANOTIFY, 113);
}

static int add_tty_file(int d, uint32_t id, uint32_t info, uint32_t regf, uint32_t flags,
			uint32_t fd)
{
	Est__TtyFileEntry t = EST__TTY_FILE_ENTRY__INIT;

	t.id = id;
	t.tty_info_id = info;
	t.flags = flags;
	t.fown = &no_fown;
	t.has_regf_id = true;
	t.regf_id = regf;
	return ADD_OBJ(d, TTY, id, tty, &t) || add_fdinfo(d, fd, EST__FD_TYPES__TTY, id);
}

static int add_tty_info(int d, uint32_t id, uint32_t index, bool master, const struct kinds_dir *k)
{
	/* the control characters 3, 28, 127, 21, 4, 0, 1 packed four to a word */
	static uint32_t cc[20] = { 0x157f1c03, 0x00010004 }, lcc[19] = { [1] = 0x00ff0000 };
	Est__TtyInfoEntry i = EST__TTY_INFO_ENTRY__INIT;
	Est__TermiosEntry t = EST__TERMIOS_ENTRY__INIT, lt = EST__TERMIOS_ENTRY__INIT;
	Est__WinsizeEntry w = EST__WINSIZE_ENTRY__INIT;
	Est__TtyPtyEntry pty = EST__TTY_PTY_ENTRY__INIT;

	i.id = id;
	i.type = k->tty_bad == 1 && index == 6 ? EST__TTY_TYPE__CONSOLE : EST__TTY_TYPE__PTY;
	i.packet_mode = master;
	i.exclusive = !master;
	i.sid = i.pgrp = master ? 0 : 32601;
	t.c_iflag = 0x500;
	t.c_oflag = 0x5;
	t.c_cflag = 0xbf;
	t.c_lflag = 0x8a3b;
	t.n_c_cc = k->tty_bad == 4 ? 18 : k->tty_bad == 6 ? 20 : 19;
	t.c_cc = cc;
	lt.c_cflag = 0x30;	/* CSIZE and VMIN locked */
	lt.n_c_cc = k->tty_bad == 3 ? 18 : 19;
	lt.c_cc = lcc;
	i.termios = &t;
	i.termios_locked = &lt;
	w.ws_row = 24;
	w.ws_col = 80;
	i.winsize = &w;
	pty.index = index;
	i.pty = &pty;
	i.has_uid = i.has_gid = !master;
	i.uid = 1000;
	i.gid = 5;
	return append(d, "tty-info.img", &i.base, NULL, 0);
}

/*
 * pty 5: master (TTY 122, fd 33, /dev/ptmx REG 120, packet mode, 3 bytes
 * unread) and slave (TTY 123, fd 34, /dev/pts/5 REG 121, exclusive, the
 * controlling terminal of 32601); pty 6: a slave only (TTY 125, fd 35), a
 * shell job's terminal; pty 7: a master alone (TTY 127, fd 38, REG 126).
 */
static int add_ttys(int d, const struct kinds_dir *k)
{
	Est__TtyDataEntry td = EST__TTY_DATA_ENTRY__INIT;
	Est__RegFileEntry reg = EST__REG_FILE_ENTRY__INIT;
	static const char *const names[] = { "/dev/ptmx", "/dev/pts/5", "/dev/pts/6", "/dev/ptmx" };
	uint32_t r;

	reg.fown = &no_fown;
	reg.has_mode = true;
	for (r = 0; r < 4; r++) {
		reg.id = r == 3 ? 126 : r == 2 ? 124 : 120 + r;
		reg.flags = O_RDWR;
		reg.name = (char *)(k->tty_bad == 5 && r == 1 ? "/dev/pts/7" : names[r]);
		reg.mode = S_IFCHR | (r && r < 3 ? 0620 : 0666);
		if (ADD_OBJ(d, REG, reg.id, reg, &reg))
			return -1;
	}
	if (new_image(d, "tty-info.img", 0x59453036) || add_tty_info(d, 11, 5, true, k) ||
	    add_tty_info(d, 10, 5, false, k) || add_tty_info(d, 12, 6, false, k) ||
	    add_tty_file(d, 122, 11, 120, O_RDWR | 0100000, 33) ||
	    add_tty_file(d, 123, 10, 121, O_RDWR | O_NONBLOCK, 34) ||
	    add_tty_file(d, 125, 12, 124, O_RDWR, 35) || add_tty_info(d, 15, 7, true, k) ||
	    add_tty_file(d, 127, 15, 126, O_RDWR, 38))
		return -1;
	td.tty_id = k->tty_bad == 2 ? 10 : 11;
	td.data.data = (uint8_t *)"ls\n";
	td.data.len = 3;
	return new_image(d, "tty-data.img", 0x59413026) || append(d, "tty-data.img", &td.base, NULL, 0);
}

static int add_memfd_inode(int d, uint64_t ino, const char *name, uint64_t size, uint32_t shmid,
			   const struct kinds_dir *k)
{
	Est__MemfdInodeEntry m = EST__MEMFD_INODE_ENTRY__INIT;

	m.inode_id = ino;
	m.name = (char *)name;
	m.size = size;
	m.shmid = shmid;
	m.seals = size ? 0x8 : 0;		/* F_SEAL_WRITE */
	m.uid = 1000;
	m.gid = 100;
	m.has_hugetlb_flag = k->mem_bad == 1;
	m.hugetlb_flag = 1;
	m.has_mode = !size;
	m.mode = k->mem_bad == 6 ? S_IFDIR | 0700 : S_IFREG | 0600;
	return append(d, "memfd.img", &m.base, NULL, 0);
}

/*
 * memfd inode 5001 "est-memfd" of 5000 bytes sealed for writing (shmem 77,
 * 2 pages in pages-9.img, the second cut by the size), open as fd 36 (file
 * 130, offset 10); inode 5002 "empty", mode 0600, open as fd 37 (file 131).
 */
static int add_memfds(int d, const struct kinds_dir *k)
{
	Est__MemfdFileEntry f = EST__MEMFD_FILE_ENTRY__INIT;
	Est__PagemapHead h = EST__PAGEMAP_HEAD__INIT;
	Est__PagemapEntry e = EST__PAGEMAP_ENTRY__INIT;
	static uint8_t pages[2 * PAGE];
	size_t i;

	for (i = 0; i < sizeof(pages); i++)
		pages[i] = (uint8_t)(i / 7);
	if (new_image(d, "memfd.img", 0x48453499) ||
	    add_memfd_inode(d, 5001, "est-memfd", 5000, 77, k) ||
	    add_memfd_inode(d, 5002, "empty", 0, 78, k) ||
	    add_memfd_inode(d, 5003, "mapped", 8192, 79, k))
		return -1;
	h.pages_id = 9;
	e.vaddr = k->mem_bad == 2 ? 8192 : 0;
	e.compat_nr_pages = 2;
	e.has_flags = true;
	e.flags = k->mem_bad == 3 ? 1 : 4;
	if (new_image(d, "pagemap-shmem-77.img", 0x56084025) ||
	    append(d, "pagemap-shmem-77.img", &h.base, NULL, 0) ||
	    append(d, "pagemap-shmem-77.img", &e.base, NULL, 0) ||
	    write_file(d, "pages-9.img", pages, k->mem_bad == 4 ? PAGE : sizeof(pages)))
		return -1;
	f.id = 130;
	f.flags = O_RDWR | 0100000;
	f.pos = 10;
	f.fown = &no_fown;
	f.inode_id = 5001;
	if (ADD_OBJ(d, MEMFD, 130, memfd, &f) || add_fdinfo(d, 36, EST__FD_TYPES__MEMFD, 130))
		return -1;
	f.id = 131;
	f.flags = O_RDONLY;
	f.pos = 0;
	f.inode_id = k->mem_bad == 5 ? 5004 : 5002;
	if (ADD_OBJ(d, MEMFD, 131, memfd, &f) || add_fdinfo(d, 37, EST__FD_TYPES__MEMFD, 131))
		return -1;
	f.id = 132;			/* the file of a mapping only (add_shm) */
	f.flags = O_RDWR | 0100000;
	f.inode_id = 5003;
	h.pages_id = 11;
	e.vaddr = PAGE;
	e.compat_nr_pages = 1;
	return ADD_OBJ(d, MEMFD, 132, memfd, &f) ||
	       new_image(d, "pagemap-shmem-79.img", 0x56084025) ||
	       append(d, "pagemap-shmem-79.img", &h.base, NULL, 0) ||
	       append(d, "pagemap-shmem-79.img", &e.base, NULL, 0) ||
	       write_file(d, "pages-11.img", pages + PAGE, PAGE);
}

/*
 * Shared anonymous memory 90: vmas [0x200000, 0x204000) at offset 0 and
 * [0x300000, 0x302000) at offset 0x4000 (so 6 pages), 2 pages of data at
 * offset 0x1000 in pages-10.img. mm-32601.img is unpacked, given the two
 * vmas first (they lie below the others) and packed again.
 */
static int add_shm(int d, const struct kinds_dir *k)
{
	static uint8_t pages[2 * PAGE], in[1 << 16], out[1 << 16];
	Est__VmaEntry v[3] = { EST__VMA_ENTRY__INIT, EST__VMA_ENTRY__INIT, EST__VMA_ENTRY__INIT };
	Est__PagemapHead h = EST__PAGEMAP_HEAD__INIT;
	Est__PagemapEntry e = EST__PAGEMAP_ENTRY__INIT;
	Est__VmaEntry **vv, **old;
	Est__MmEntry *mm;
	uint32_t sz;
	size_t i, n;

	if (read_head(d, "mm-32601.img", in, sizeof(in), &sz))
		return -1;
	mm = est__mm_entry__unpack(NULL, sz, in + 12);
	if (!mm || !(vv = calloc(mm->n_vmas + 3, sizeof(*vv))))
		return -1;
	for (i = 0; i < 2; i++) {
		v[i].start = i ? 0x300000 : 0x200000;
		v[i].end = v[i].start + (i ? 2 : 4) * PAGE;
		v[i].pgoff = i ? 0x4000 + (k->shm_bad == 4) * 8 : 0;
		v[i].shmid = k->shm_bad == 3 ? 77 : 90;
		v[i].prot = 3;
		v[i].flags = (k->shm_bad == 2 ? MAP_PRIVATE : MAP_SHARED) | MAP_ANONYMOUS;
		v[i].status = 0x1 | 0x100;		/* REGULAR | ANON_SHARED */
		v[i].fd = -1;
		vv[i] = &v[i];
	}
	/* memfd 5003 (file 132) mapped shared, as 4.x dumps shared anonymous memory */
	v[2].start = 0x380000;
	v[2].end = 0x380000 + 2 * PAGE;
	v[2].pgoff = k->shm_bad == 6 ? PAGE : 0;
	v[2].shmid = 132;
	v[2].prot = 3;
	v[2].flags = MAP_SHARED;	/* 5: FILE_PRIVATE status on a shared mapping */
	v[2].status = 0x1 | 0x4000 | (k->shm_bad == 5 ? 0x40 : 0x80);
	v[2].fd = -1;
	vv[2] = &v[2];
	memcpy(vv + 3, mm->vmas, mm->n_vmas * sizeof(*vv));
	old = mm->vmas;
	mm->vmas = vv;
	mm->n_vmas += 3;
	sz = est__mm_entry__get_packed_size(mm);
	n = sz + 12 <= sizeof(out) ? est__mm_entry__pack(mm, out + 12) : 0;
	mm->vmas = old;
	mm->n_vmas -= 3;
	est__mm_entry__free_unpacked(mm, NULL);
	free(vv);
	memcpy(out, in, 8);
	memcpy(out + 8, &sz, 4);
	if (n != sz || write_file(d, "mm-32601.img", out, 12 + sz))
		return -1;
	for (i = 0; i < sizeof(pages); i++)
		pages[i] = (uint8_t)(i / 11);
	h.pages_id = 10;
	e.vaddr = k->shm_bad == 1 ? 5 * PAGE : PAGE;
	e.compat_nr_pages = 2;
	return new_image(d, "pagemap-shmem-90.img", 0x56084025) ||
	       append(d, "pagemap-shmem-90.img", &h.base, NULL, 0) ||
	       append(d, "pagemap-shmem-90.img", &e.base, NULL, 0) ||
	       write_file(d, "pages-10.img", pages, sizeof(pages));
}

/* filelocks.img: a write flock and a read lock of @k's kind on 10+20, both through fd 23 */
static int add_locks(int d, const struct kinds_dir *k)
{
	Est__RegFileEntry reg = EST__REG_FILE_ENTRY__INIT;
	Est__FileLockEntry l = EST__FILE_LOCK_ENTRY__INIT;

	reg.id = 104;
	reg.flags = O_RDWR | 0100000;
	reg.fown = &no_fown;
	reg.name = "/var/tmp/locked";
	reg.has_mode = true;
	reg.mode = S_IFREG | 0644;
	if (ADD_OBJ(d, REG, 104, reg, &reg) || add_fdinfo(d, 23, EST__FD_TYPES__REG, 104) ||
	    new_image(d, "filelocks.img", 0x54323616))
		return -1;
	l.flag = 2;			/* FL_FLOCK */
	l.type = 1;			/* F_WRLCK */
	l.pid = 32601;
	l.fd = 23;
	l.len = k->flock_len;
	if (append(d, "filelocks.img", &l.base, NULL, 0))
		return -1;
	l.flag = k->lock_flag;
	l.type = 0;			/* F_RDLCK */
	l.pid = k->lock_pid;
	l.fd = k->lock_fd;
	l.start = 10;
	l.len = 20;
	return append(d, "filelocks.img", &l.base, NULL, 0);
}

/*
 * The FIFO make_kinds() puts beside its directory (not an image): one at a
 * time, removed when the next is made and at exit, so that a case failing
 * half-way (a CHECK returns early) leaves none behind.
 */
static char made_fifo[PATH_MAX];

static void fifo_remove(void)
{
	if (made_fifo[0])
		unlink(made_fifo);
	made_fifo[0] = '\0';
}

static int fifo_make(struct kinds_dir *k)
{
	static bool registered;
	struct stat st;

	if (!registered && !atexit(fifo_remove))
		registered = true;
	fifo_remove();
	snprintf(k->fifo, sizeof(k->fifo), "%s.fifo", unit_dir_path());
	unlink(k->fifo);
	if (mkfifo(k->fifo, 0600))
		return -1;
	snprintf(made_fifo, sizeof(made_fifo), "%s", k->fifo);
	if (stat(k->fifo, &st))
		return -1;
	k->fifo_ino = st.st_ino;
	return 0;
}

/*
 * golden single + a FIFO (REG path 100, FIFO 101, fd 20, 5 queued bytes),
 * a signalfd (102, fd 21, SIGUSR1), an epoll (103, fd 22) watching fds 21
 * and 20. Returns the directory's fd.
 */
static int make_kinds(struct kinds_dir *k)
{
	Est__RegFileEntry reg = EST__REG_FILE_ENTRY__INIT;
	Est__FifoEntry fifo = EST__FIFO_ENTRY__INIT;
	Est__SignalfdEntry sg = EST__SIGNALFD_ENTRY__INIT;
	Est__EventpollFileEntry ep = EST__EVENTPOLL_FILE_ENTRY__INIT;
	Est__EventpollTfdEntry t[2] = { EST__EVENTPOLL_TFD_ENTRY__INIT,
					EST__EVENTPOLL_TFD_ENTRY__INIT };
	Est__EventpollTfdEntry *tp[2] = { &t[0], &t[1] };
	Est__PipeDataEntry pd = EST__PIPE_DATA_ENTRY__INIT;
	Est__FownEntry own = EST__FOWN_ENTRY__INIT, fifo_own = EST__FOWN_ENTRY__INIT;
	int d = copy_single();

	if (d < 0 || fifo_make(k))
		return -1;

	reg.id = 100;
	reg.flags = O_RDONLY | O_ASYNC | 0100000;	/* O_LARGEFILE as the kernel shows it */
	fifo_own.signum = 40;			/* F_SETSIG without an owner */
	reg.fown = &fifo_own;
	reg.name = k->fifo;
	reg.has_mode = true;
	reg.mode = S_IFIFO | 0600;
	if (ADD_OBJ(d, REG, 100, reg, &reg))
		return -1;

	fifo.id = 101;
	fifo.pipe_id = k->fifo_ino;
	fifo.has_regf_id = k->fifo_regf != 0;
	fifo.regf_id = k->fifo_regf;
	if (ADD_OBJ(d, FIFO, 101, fifo, &fifo))
		return -1;

	sg.id = 102;
	sg.flags = k->sgfd_flags;
	own.pid_type = 0;			/* F_OWNER_TID, the process's main thread */
	own.pid = 32601;
	own.signum = 36;
	own.uid = own.euid = k->fown_uid;	/* golden single runs as root */
	sg.fown = &own;
	sg.sigmask = 1u << 9;
	if (ADD_OBJ(d, SIGNALFD, 102, sgfd, &sg))
		return -1;

	ep.id = 103;
	ep.flags = O_RDWR;
	ep.fown = &no_fown;
	t[0].id = k->ep_tfd_id;
	t[0].tfd = 21;
	t[0].events = 1;			/* EPOLLIN */
	t[0].data = 0x1234;
	t[1].id = 0;				/* as the reference leaves it */
	t[1].tfd = k->ep_tfd2;
	t[1].events = 1u << 31 | 4;		/* EPOLLET | EPOLLOUT */
	t[1].data = 7;
	t[1].has_inode = true;			/* the reference's hint, not needed */
	t[1].inode = k->fifo_ino;
	ep.n_tfd = 2;
	ep.tfd = tp;
	if (ADD_OBJ(d, EVENTPOLL, 103, epfd, &ep))
		return -1;

	if (add_fdinfo(d, 20, k->fifo_fd_as_reg ? EST__FD_TYPES__REG : EST__FD_TYPES__FIFO,
		       k->fifo_fd_as_reg ? 100 : 101) ||
	    add_fdinfo(d, 21, EST__FD_TYPES__SIGNALFD, 102) ||
	    add_fdinfo(d, 22, EST__FD_TYPES__EVENTPOLL, 103) || add_locks(d, k) ||
	    add_ghosts(d, k) || add_sockets(d, k) || add_fsnotify(d, k) || add_ttys(d, k) ||
	    add_memfds(d, k) || add_shm(d, k) || add_ext_peer(d) || add_timerfds(d))
		return -1;

	pd.pipe_id = k->data_pipe_id ? k->data_pipe_id : k->fifo_ino;
	pd.bytes = 5;
	pd.has_size = true;
	pd.size = 8192;
	if (new_image(d, "fifo-data.img", 0x59333054) || append(d, "fifo-data.img", &pd.base,
								 "hello", 5))
		return -1;
	return d;
}

static struct kinds_dir kinds;

static int check_kinds(int dirfd)
{
	ProtobufCMessage **v = NULL;
	size_t n, i;

	CHECK(!read_all(dirfd, IMG_SIGNALFDS, 0, &v, &n) && n == 1);
	{
		SignalfdEntry *s = (SignalfdEntry *)v[0];

		CHECK(s->id == 102 && s->flags == O_NONBLOCK && s->sigmask == 1u << 9);
	}
	img_free_all(v, n);

	CHECK(!read_all(dirfd, IMG_EPOLLS, 0, &v, &n) && n == 1);
	{
		EpollEntry *e = (EpollEntry *)v[0];

		CHECK(e->id == 103 && e->flags == 0 && e->n_tfds == 2);
		CHECK(e->tfds[0]->fd == 21 && e->tfds[0]->events == 1 && e->tfds[0]->data == 0x1234);
		CHECK(e->tfds[1]->fd == 20 && e->tfds[1]->events == (1u << 31 | 4) &&
		      e->tfds[1]->data == 7);
	}
	img_free_all(v, n);

	CHECK(!read_all(dirfd, IMG_FIFOS, 0, &v, &n) && n == 1);
	{
		FifoEntry *f = (FifoEntry *)v[0];
		struct stat st;

		CHECK(!stat(kinds.fifo, &st));
		CHECK(f->id == 101 && f->pipe_id == kinds.fifo_ino && f->flags == O_RDONLY);
		CHECK_STR(f->path, kinds.fifo);
		CHECK(f->dev == st.st_dev);
	}
	img_free_all(v, n);

	CHECK(!read_all(dirfd, IMG_PIPES_DATA, 0, &v, &n) && n == 2);
	{
		PipeDataEntry *p = (PipeDataEntry *)v[1];

		CHECK(((PipeDataEntry *)v[0])->data.len == 40);
		CHECK(p->pipe_id == kinds.fifo_ino && p->size == 8192 && p->data.len == 5 &&
		      !memcmp(p->data.data, "hello", 5));
	}
	img_free_all(v, n);

	CHECK(!read_all(dirfd, IMG_REG_FILES, 0, &v, &n) && n == 7);	/* not the FIFO's path */
	for (i = 0; i < n; i++) {
		RegFileEntry *r = (RegFileEntry *)v[i];

		CHECK(r->id != 100);
		CHECK(r->has_ghost_id == (r->id == 105 || r->id == 106));
		CHECK(r->ghost_id == (r->id == 105 ? 1 : r->id == 106 ? 2 : 0));
		CHECK(r->n_locks == (r->id == 104 ? 2 : 0));
		if (r->id != 104)
			continue;
		CHECK(r->locks[0]->kind == FILE_LOCK_KIND__LOCK_FLOCK && r->locks[0]->write &&
		      !r->locks[0]->start && !r->locks[0]->len && !r->locks[0]->has_pid);
		CHECK(r->locks[1]->kind == FILE_LOCK_KIND__LOCK_POSIX && !r->locks[1]->write &&
		      r->locks[1]->start == 10 && r->locks[1]->len == 20 &&
		      r->locks[1]->has_pid && r->locks[1]->pid == 32601);
	}
	img_free_all(v, n);

	CHECK(!read_all(dirfd, IMG_FDS, 32601, &v, &n) && n == 26);
	CHECK(((FdEntry *)v[21])->kind == FD_KIND__FD_MEMFD && ((FdEntry *)v[21])->id == 130);
	CHECK(((FdEntry *)v[17])->kind == FD_KIND__FD_PTY && ((FdEntry *)v[17])->id == 122);
	CHECK(((FdEntry *)v[15])->kind == FD_KIND__FD_INOTIFY && ((FdEntry *)v[15])->fd == 31);
	CHECK(((FdEntry *)v[16])->kind == FD_KIND__FD_FANOTIFY && ((FdEntry *)v[16])->id == 113);
	CHECK(((FdEntry *)v[13])->kind == FD_KIND__FD_INET_SK && ((FdEntry *)v[13])->id == 109);
	CHECK(((FdEntry *)v[12])->kind == FD_KIND__FD_UNIX_SK && ((FdEntry *)v[12])->id == 108);
	CHECK(((FdEntry *)v[5])->fd == 20 && ((FdEntry *)v[5])->kind == FD_KIND__FD_FIFO &&
	      ((FdEntry *)v[5])->id == 101);
	CHECK(((FdEntry *)v[6])->kind == FD_KIND__FD_SIGNALFD && ((FdEntry *)v[6])->id == 102);
	CHECK(((FdEntry *)v[7])->kind == FD_KIND__FD_EPOLL && ((FdEntry *)v[7])->id == 103);
	/* owners and O_ASYNC move from the objects to their fds: the FIFO's from its path */
	{
		const FownEntry *f = ((FdEntry *)v[5])->fown, *s = ((FdEntry *)v[6])->fown;

		CHECK(f && f->async && f->signum == 40 && !f->pid && !f->type);
		CHECK(s && s->async && s->signum == 36 && s->pid == 32601 && s->type == 0);
		CHECK(!((FdEntry *)v[7])->fown);
	}
	img_free_all(v, n);
	return 0;
}

static int check_ghosts(int dirfd)
{
	ProtobufCMessage **v = NULL;
	GhostFileEntry *a, *b;
	char raw[32] = "";
	size_t n;
	int fd;

	CHECK(!read_all(dirfd, IMG_GHOST_FILES, 0, &v, &n) && n == 2);
	a = (GhostFileEntry *)v[0];
	b = (GhostFileEntry *)v[1];
	CHECK(a->id == 1 && a->mode == (S_IFREG | 0640) && a->uid == 1000 && a->gid == 100);
	CHECK(a->size == 10000 && a->atime_ns == 1700000000ull * 1000000000 + 5000 &&
	      a->mtime_ns == 1700000001ull * 1000000000);
	CHECK(a->data->off == 0 && a->data->n_runs == 2 && a->data->runs[0]->off == 0 &&
	      a->data->runs[0]->len == 5 && a->data->runs[1]->off == 8192 &&
	      a->data->runs[1]->len == 3);
	CHECK(b->id == 2 && b->size == 6 && b->data->off == 8 && b->data->n_runs == 1 &&
	      b->data->runs[0]->off == 0 && b->data->runs[0]->len == 6);
	img_free_all(v, n);
	fd = openat(dirfd, "ghost-data.img", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, raw, sizeof(raw)) == 14);
	close(fd);
	CHECK(!memcmp(raw, "ghostendwhole!", 14));	/* the runs, one after another */
	return 0;
}

/* The value of option (@level, @name) in @o, or -1 when absent. */
static int64_t opt(SkOpt **o, size_t n, int level, int name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (o[i]->opt == ((uint32_t)level << 16 | (uint32_t)name))
			return o[i]->val;
	return -1;
}

static int check_sockets(int dirfd)
{
	ProtobufCMessage **v = NULL;
	size_t n;

	CHECK(!read_all(dirfd, IMG_UNIX_SKS, 0, &v, &n) && n == 3);
	{
		UnixSkEntry *l = (UnixSkEntry *)v[0], *a = (UnixSkEntry *)v[1];
		UnixSkEntry *x = (UnixSkEntry *)v[2];

		CHECK(l->id == 107 && l->state == 10 && l->has_backlog && l->backlog == 5);
		CHECK(l->has_name && l->name.len == 15 && !memcmp(l->name.data, "/var/tmp/est-sk", 15));
		CHECK(l->has_mode && l->mode == 0140755 && l->uid == 1000 && l->gid == 100);
		CHECK(l->has_vfs_ino && l->vfs_ino == 900107 && !l->deleted);
		CHECK(opt(l->opts, l->n_opts, SOL_SOCKET, SO_SNDBUF) == 12345 * 2);
		CHECK(opt(l->opts, l->n_opts, SOL_SOCKET, SO_RCVTIMEO_OLD) == 2000500);
		CHECK(a->id == 108 && a->type == SOCK_DGRAM && a->has_name && a->name.len == 8 &&
		      !a->name.data[0] && !a->has_mode && a->has_shutdown && a->shutdown == 1);
		/* the outside peer: no socket of ours, named on the one connected to it */
		CHECK(x->id == 141 && x->state == 1 && !x->has_peer && x->ext_peer &&
		      x->has_peer_ino && x->peer_ino == 900140 && x->has_ext_peer_name &&
		      x->ext_peer_name.len == 17 && !memcmp(x->ext_peer_name.data, "/var/tmp/est-peer", 17));
		CHECK(opt(x->opts, x->n_opts, SOL_SOCKET, SO_NO_CHECK) == 1);
		CHECK(opt(x->opts, x->n_opts, SOL_SOCKET, SO_BUF_LOCK) == 0);
		CHECK(opt(l->opts, l->n_opts, SOL_SOCKET, SO_BUF_LOCK) == -1);
	}
	img_free_all(v, n);

	CHECK(!read_all(dirfd, IMG_INET_SKS, 0, &v, &n) && n == 2);
	{
		InetSkEntry *t = (InetSkEntry *)v[0], *u = (InetSkEntry *)v[1];
		static const uint8_t lo6[16] = { [15] = 1 };

		CHECK(t->id == 109 && t->family == AF_INET && t->state == 10 && t->flags == 0);
		CHECK(t->has_src_addr && t->src_addr.len == 4 &&
		      !memcmp(t->src_addr.data, "\x7f\0\0\x01", 4) && t->src_port == 5555);
		CHECK(!t->has_dst_addr && t->has_backlog && t->backlog == 16);
		CHECK(opt(t->opts, t->n_opts, SOL_SOCKET, SO_REUSEADDR) == 1);
		CHECK(opt(t->opts, t->n_opts, SOL_TCP, TCP_KEEPCNT) == 3);
		CHECK(opt(t->opts, t->n_opts, SOL_TCP, TCP_KEEPIDLE) == -1);	/* the default */
		CHECK(opt(t->opts, t->n_opts, SOL_TCP, TCP_KEEPINTVL) == 30);
		CHECK(opt(t->opts, t->n_opts, SOL_TCP, TCP_NODELAY) == 1);
		CHECK(opt(t->opts, t->n_opts, SOL_SOCKET, SO_LINGER) == ((int64_t)1 << 32 | 7));
		CHECK(opt(t->opts, t->n_opts, SOL_IPV6, IPV6_V6ONLY) == -1);
		CHECK(u->id == 110 && u->family == AF_INET6 && u->state == 1 &&
		      u->flags == O_NONBLOCK);
		CHECK(u->src_addr.len == 16 && !memcmp(u->src_addr.data, lo6, 16) &&
		      u->src_port == 1000);
		CHECK(u->has_dst_addr && u->dst_addr.len == 16 && !memcmp(u->dst_addr.data, lo6, 16) &&
		      u->dst_port == 53 && !u->has_backlog);
		CHECK(opt(u->opts, u->n_opts, SOL_IPV6, IPV6_V6ONLY) == 1);
		CHECK(opt(u->opts, u->n_opts, SOL_IPV6, IPV6_FREEBIND) == 1);
	}
	img_free_all(v, n);
	return 0;
}

static int check_fsnotify(int dirfd)
{
	ProtobufCMessage **v = NULL;
	size_t n;

	CHECK(!read_all(dirfd, IMG_INOTIFYS, 0, &v, &n) && n == 1);
	{
		InotifyEntry *e = (InotifyEntry *)v[0];

		CHECK(e->id == 112 && e->flags == 0 && e->n_wds == 2 && e->wds[1]->wd == 2);
		CHECK(e->wds[0]->wd == 1 && e->wds[0]->mask == 0x100 && e->wds[0]->ino == 777);
		CHECK(e->wds[0]->dev == makedev(8, 1));
		CHECK_STR(e->wds[0]->path, "/var/tmp");
	}
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_FANOTIFYS, 0, &v, &n) && n == 1);
	{
		FanotifyEntry *e = (FanotifyEntry *)v[0];
		FanotifyMarkEntry *a = e->marks[0], *b = e->marks[1];

		CHECK(e->id == 113 && e->flags == O_NONBLOCK && e->init_flags == 0x1 &&
		      e->event_flags == (O_RDONLY | 0100000) && e->n_marks == 2);
		CHECK(a->kind == FANOTIFY_MARK_KIND__FAN_INODE && a->has_ino && a->ino == 778 &&
		      a->mask == 0x20 && a->dev == makedev(8, 1));
		CHECK_STR(a->path, "/etc");
		CHECK(b->kind == FANOTIFY_MARK_KIND__FAN_MOUNT && !b->has_ino && b->mflags == 1 &&
		      b->mask == 0x8 && b->ignored_mask == 0x2 && b->dev == makedev(8, 2));
		CHECK_STR(b->path, "/");
	}
	img_free_all(v, n);
	return 0;
}

static int check_ttys(int dirfd)
{
	ProtobufCMessage **v = NULL;
	size_t n;

	CHECK(!read_all(dirfd, IMG_PTY_FILES, 0, &v, &n) && n == 4);
	{
		PtyFileEntry *m = (PtyFileEntry *)v[0], *s = (PtyFileEntry *)v[1];
		PtyFileEntry *x = (PtyFileEntry *)v[2];

		CHECK(m->id == 122 && m->index == 5 && m->master && m->flags == (O_RDWR | 0100000));
		CHECK(s->id == 123 && s->index == 5 && !s->master && !s->external &&
		      s->flags == (O_RDWR | O_NONBLOCK));
		CHECK(x->id == 125 && x->index == 6 && !x->master && x->has_external && x->external);
	}
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_PTYS, 0, &v, &n) && n == 2);
	{	/* a master alone: its slave not open, as the reference restores it */
		PtyEntry *e = (PtyEntry *)v[1];

		CHECK(e->index == 7 && e->has_slave_closed && !e->slave_closed && !e->exclusive &&
		      !e->has_uid && !e->has_master_data);
	}
	{
		PtyEntry *e = (PtyEntry *)v[0];

		CHECK(e->index == 5 && e->iflag == 0x500 && e->oflag == 0x5 && e->cflag == 0xbf &&
		      e->lflag == 0x8a3b && e->cc.len == 19 && e->cc.data[2] == 127);
		CHECK(e->rows == 24 && e->cols == 80 && e->packet && !e->locked && e->exclusive);
		CHECK(e->has_slave_closed && !e->slave_closed);
		CHECK(e->has_sid && e->sid == 32601 && e->fg_pgrp == 32601);
		CHECK(e->has_master_data && e->master_data.len == 3 &&
		      !memcmp(e->master_data.data, "ls\n", 3));
		CHECK(e->has_uid && e->uid == 1000 && e->gid == 5 && e->perm == 0620);
		CHECK(e->has_lock_cflag && e->lock_cflag == 0x30 && !e->lock_lflag &&
		      e->has_lock_cc && e->lock_cc.len == 19 && e->lock_cc.data[6] == 0xff &&
		      !e->lock_cc.data[5]);
	}
	img_free_all(v, n);
	return 0;
}

static int check_memfds(int dirfd)
{
	ProtobufCMessage **v = NULL;
	uint8_t raw[6000];
	size_t n, i;
	int fd;

	CHECK(!read_all(dirfd, IMG_MEMFD_INODES, 0, &v, &n) && n == 3);
	{
		MemfdInodeEntry *a = (MemfdInodeEntry *)v[0], *b = (MemfdInodeEntry *)v[1];

		CHECK(a->id == 1 && a->size == 5000 && a->seals == 8 && a->mode == 0777 &&
		      a->uid == 1000 && a->gid == 100 && !a->has_shmem_id);
		CHECK_STR(a->name, "est-memfd");
		CHECK(a->data->off == 0 && a->data->n_runs == 1 && a->data->runs[0]->off == 0 &&
		      a->data->runs[0]->len == 5000);
		CHECK(b->id == 2 && b->size == 0 && b->mode == 0600 && !b->data->n_runs);
	}
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_MEMFDS, 0, &v, &n) && n == 3);
	CHECK(((MemfdEntry *)v[0])->id == 130 && ((MemfdEntry *)v[0])->inode_id == 1 &&
	      ((MemfdEntry *)v[0])->pos == 10 && ((MemfdEntry *)v[0])->flags == (O_RDWR | 0100000));
	CHECK(((MemfdEntry *)v[1])->inode_id == 2 && ((MemfdEntry *)v[1])->flags == O_RDONLY);
	img_free_all(v, n);
	fd = openat(dirfd, "memfd-data.img", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, raw, sizeof(raw)) == 5000);
	close(fd);
	for (i = 0; i < 5000; i++)
		CHECK(raw[i] == (uint8_t)(i / 7));
	return 0;
}

static int check_shm(int dirfd)
{
	ProtobufCMessage **v = NULL, *m;
	uint8_t raw[3 * PAGE];
	size_t i, n;
	int fd;

	CHECK(!img_read_one(dirfd, IMG_MM, 32601, &m));
	{
		MmEntry *mm = (MmEntry *)m;

		CHECK(mm->vmas[0]->kind == VMA_KIND__VMA_ANON_SHARED && mm->vmas[0]->has_shmem_id &&
		      mm->vmas[0]->shmem_id == 1 && mm->vmas[0]->pgoff == 0 &&
		      !(mm->vmas[0]->flags & MAP_ANONYMOUS) && (mm->vmas[0]->flags & MAP_SHARED));
		CHECK(mm->vmas[1]->kind == VMA_KIND__VMA_ANON_SHARED && mm->vmas[1]->shmem_id == 1 &&
		      mm->vmas[1]->pgoff == 0x4000 && mm->vmas[1]->start == 0x300000);
		CHECK(mm->vmas[2]->kind == VMA_KIND__VMA_ANON_SHARED && mm->vmas[2]->shmem_id == 2 &&
		      !mm->vmas[2]->has_file_id && mm->vmas[2]->flags == MAP_SHARED);
	}
	img_free_entry(m);
	CHECK(!read_all(dirfd, IMG_SHMEM, 0, &v, &n) && n == 2);
	CHECK(((ShmemEntry *)v[0])->id == 1 && ((ShmemEntry *)v[0])->kind == SHMEM_KIND__SHMEM_ANON &&
	      ((ShmemEntry *)v[0])->size == 6 * PAGE && ((ShmemEntry *)v[0])->nr_pages == 2);
	{
		ShmemEntry *e = (ShmemEntry *)v[1];

		CHECK(e->id == 2 && e->kind == SHMEM_KIND__SHMEM_MEMFD && e->size == 8192 &&
		      e->nr_pages == 1 && e->has_seals && e->seals == 8 && e->mode == 0777 &&
		      e->uid == 1000 && e->gid == 100);
		CHECK_STR(e->name, "mapped");
	}
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_SHMEM_PAGEMAP, 2, &v, &n) && n == 1);
	CHECK(((ShmemRun *)v[0])->offset == PAGE && ((ShmemRun *)v[0])->nr_pages == 1);
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_MEMFD_INODES, 0, &v, &n) && n == 3);
	CHECK(((MemfdInodeEntry *)v[2])->has_shmem_id && ((MemfdInodeEntry *)v[2])->shmem_id == 2 &&
	      !((MemfdInodeEntry *)v[2])->data->n_runs);
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_SHMEM_PAGEMAP, 1, &v, &n) && n == 1);
	CHECK(((ShmemRun *)v[0])->offset == PAGE && ((ShmemRun *)v[0])->nr_pages == 2);
	img_free_all(v, n);
	fd = openat(dirfd, "shmem-pages-1.img", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, raw, sizeof(raw)) == 2 * PAGE);
	close(fd);
	for (i = 0; i < 2 * PAGE; i++)
		CHECK(raw[i] == (uint8_t)(i / 11));
	return 0;
}

static int test_kinds(void)
{
	struct est_import imp = { .dirfd = -1 };
	char p[PATH_MAX];
	int d, r;

	if (golden("single", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	kinds_default(&kinds);
	d = make_kinds(&kinds);
	CHECK(d >= 0);
	CHECK(est_import(d, &imp) == 0);
	r = check_kinds(imp.dirfd) || check_ghosts(imp.dirfd) || check_sockets(imp.dirfd) ||
	    check_fsnotify(imp.dirfd) || check_ttys(imp.dirfd) || check_memfds(imp.dirfd) ||
	    check_shm(imp.dirfd) || check_timerfds(imp.dirfd) ? -1 : 0;
	est_import_release(&imp);
	fifo_remove();
	return r;
}

/* Each doctored variant of make_kinds() must be refused. */
static int test_kinds_refused(void)
{
	struct kinds_dir k;
	char p[PATH_MAX];
	unsigned int v;
	int d;

	if (golden("single", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	for (v = 0; v < 55; v++) {
		kinds_default(&k);
		switch (v) {
		case 0: k.sgfd_flags = O_WRONLY; break;		/* a signalfd is O_RDWR */
		case 1: k.sgfd_flags = O_RDWR | O_APPEND; break;
		case 2: k.ep_tfd_id = 102; break;		/* a target of another epoll */
		case 3: k.ep_tfd2 = 21; break;			/* fd 21 twice */
		case 4: k.fifo_regf = 0; break;			/* no path */
		case 5: k.fifo_regf = 102; break;		/* a path that is a signalfd */
		case 6: k.data_pipe_id = 12345; break;		/* data of no FIFO */
		case 7: k.fifo_fd_as_reg = true; break;		/* the FIFO's path as a file */
		case 8: k.lock_flag = 8; break;			/* a lease */
		case 9: k.lock_pid = 32602; break;		/* no such process */
		case 10: k.lock_fd = 26; break;			/* no such fd */
		case 11: k.lock_fd = 20; break;			/* a lock on a FIFO */
		case 12: k.flock_len = 5; break;		/* a flock has no range */
		case 13: k.lock_fd = -1; break;
		case 50: k.fown_uid = 1000; break;		/* owner set under another uid */
		case 51: case 52: case 53: k.sk_bad = v - 42; break;	/* 9..11 */
		case 54: k.fsn_bad = 5; break;
		default:
			if (v < 20)
				k.ghost_bad = v - 13;		/* 14..19: 1..6 */
			else if (v < 28)
				k.sk_bad = v - 19;		/* 20..27: 1..8 */
			else if (v < 32)
				k.fsn_bad = v - 27;		/* 28..31: 1..4 */
			else if (v < 38)
				k.tty_bad = v - 31;		/* 32..37: 1..6 */
			else if (v < 44)
				k.mem_bad = v - 37;		/* 38..43: 1..6 */
			else
				k.shm_bad = v - 43;		/* 44..49: 1..6 */
			break;
		}
		d = make_kinds(&k);
		CHECK(d >= 0);
		if (!refused(d)) {
			fprintf(stderr, "variant %u converted\n", v);
			CHECK(0);
		}
		fifo_remove();
	}
	/* the FIFO at the path is another one now */
	kinds_default(&k);
	d = make_kinds(&k);
	CHECK(d >= 0 && strlen(k.fifo) < sizeof(p) - 4);
	strcat(strcpy(p, k.fifo), ".new");
	CHECK(mkfifo(p, 0600) == 0 && rename(p, k.fifo) == 0);	/* both alive: */
	CHECK(refused(d));					/* another inode */
	CHECK(unlink(k.fifo) == 0 && refused(d));		/* or none at all */
	return 0;
}

/* A case that fails half-way (here: a child that exits at once) leaves no FIFO behind. */
static int test_kinds_fifo_cleanup(void)
{
	char p[PATH_MAX], made[PATH_MAX] = "";
	int pfd[2], st;
	pid_t pid;

	if (golden("single", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	CHECK(pipe(pfd) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct kinds_dir k;

		kinds_default(&k);
		if (make_kinds(&k) >= 0 && write(pfd[1], k.fifo, strlen(k.fifo)) < 0)
			exit(2);
		exit(1);	/* as a failing CHECK does, through main */
	}
	close(pfd[1]);
	st = (int)read(pfd[0], made, sizeof(made) - 1);
	close(pfd[0]);
	CHECK(waitpid(pid, NULL, 0) == pid);
	CHECK(st > 0);
	made[st] = '\0';
	if (!access(made, F_OK)) {
		unlink(made);
		snprintf(unit_why, sizeof(unit_why), "%.200s left behind", made);
		return -1;
	}
	return 0;
}

/* @rounds copies made by @make, a random one of @files changed or cut: converted or refused. */
static int corrupt(int (*make)(void), const char *const *files, size_t nr, unsigned int rounds,
		   unsigned int seed)
{
	unsigned int round;
	int d;

	for (round = 0; round < rounds; round++) {
		const char *f = files[rand_r(&seed) % nr];
		struct est_import imp = { .dirfd = -1 };
		struct stat st;
		unsigned int k;
		int fd, r;

		d = make();
		CHECK(d >= 0 && fstatat(d, f, &st, 0) == 0 && st.st_size > 0);
		fd = openat(d, f, O_RDWR | O_CLOEXEC);
		CHECK(fd >= 0);
		if (round % 8 == 7) {
			CHECK(ftruncate(fd, rand_r(&seed) % st.st_size) == 0);
		} else {
			for (k = 0; k < 1 + round % 4; k++) {
				uint8_t b = (uint8_t)rand_r(&seed);

				CHECK(pwrite(fd, &b, 1, rand_r(&seed) % st.st_size) == 1);
			}
		}
		close(fd);
		log_set_level(LOG_NONE);
		r = est_import(d, &imp);
		log_set_level(LOG_ERROR);
		if (!r)
			est_import_release(&imp);
		CHECK(imp.dirfd == -1 && !imp.path[0]);
	}
	return 0;
}

/* Random bytes of a random file changed, or the file cut: converted or refused, never a crash. */
static int test_corruption(void)
{
	static const char *const files[] = { "inventory.img", "pstree.img", "core-32601.img",
		"ids-32601.img", "fs-32601.img", "mm-32601.img", "pagemap-32601.img",
		"files.img", "fdinfo-2.img", "pipes-data.img", "seccomp.img" };
	char p[PATH_MAX];

	if (golden("single", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	return corrupt(copy_single, files, sizeof(files) / sizeof(files[0]), 200, 11);
}

static int make_default_kinds(void)
{
	fifo_remove();
	kinds_default(&kinds);
	return make_kinds(&kinds);
}

/* The same on the hand-made directory of every further kind. */
static int test_kinds_corruption(void)
{
	static const char *const files[] = { "files.img", "fdinfo-2.img", "fifo-data.img",
		"filelocks.img", "remap-fpath.img", "ghost-file-2.img", "ghost-file-7.img",
		"tty-info.img", "tty-data.img", "memfd.img", "pagemap-shmem-77.img",
		"mm-32601.img", "pagemap-shmem-90.img", "pagemap-shmem-79.img" };
	char p[PATH_MAX];
	int r;

	if (golden("single", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	r = corrupt(make_default_kinds, files, sizeof(files) / sizeof(files[0]), 200, 12);
	fifo_remove();
	return r;
}

/* ---- shared fd tables and zombies, on copies of the tree set ------------------ */

/* ids-@pid.img: vm, fs, sighand @id, fd table @files, criu's namespaces. */
static int write_ids(int d, uint32_t pid, uint32_t id, uint32_t files)
{
	Est__TaskKobjIdsEntry e = EST__TASK_KOBJ_IDS_ENTRY__INIT;
	char name[64];

	e.vm_id = e.fs_id = e.sighand_id = id;
	e.files_id = files;
	e.has_pid_ns_id = e.has_net_ns_id = e.has_ipc_ns_id = e.has_uts_ns_id = true;
	e.has_mnt_ns_id = e.has_user_ns_id = e.has_cgroup_ns_id = e.has_time_ns_id = true;
	e.pid_ns_id = 1, e.net_ns_id = 2, e.ipc_ns_id = 3, e.uts_ns_id = 4;
	e.time_ns_id = 5, e.mnt_ns_id = 6, e.user_ns_id = 7, e.cgroup_ns_id = 8;
	snprintf(name, sizeof(name), "ids-%u.img", pid);
	return new_image(d, name, 0x54432030) || append(d, name, &e.base, NULL, 0);
}

static int check_shared_table(int dirfd)
{
	ProtobufCMessage **v = NULL, **f = NULL, **g = NULL;
	size_t n, nf, ng;
	const PstreeEntry *a, *b;

	CHECK(!read_all(dirfd, IMG_PSTREE, 0, &v, &n) && n == 3);
	a = (PstreeEntry *)v[1], b = (PstreeEntry *)v[2];
	CHECK(!((PstreeEntry *)v[0])->has_files_of);
	CHECK(a->has_files_of && a->files_of == 32611 && b->has_files_of && b->files_of == 32611);
	img_free_all(v, n);
	CHECK(!read_all(dirfd, IMG_FDS, 32611, &f, &nf) && !read_all(dirfd, IMG_FDS, 32613, &g, &ng));
	CHECK(nf && nf == ng && ((FdEntry *)f[0])->id == ((FdEntry *)g[0])->id);
	img_free_all(f, nf);
	img_free_all(g, ng);
	return 0;
}

/*
 * Children with their parent's files_id share its table (files_of); a table
 * shared by two children and not their parent is refused.
 */
static int test_shared_table(void)
{
	struct est_import imp = { .dirfd = -1 };
	char p[PATH_MAX];
	int d, r;

	if (golden("tree", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	d = copy_set("tree");
	CHECK(d >= 0 && !write_ids(d, 32612, 3, 2) && !write_ids(d, 32613, 4, 2));
	CHECK(!unlinkat(d, "fdinfo-3.img", 0) && !unlinkat(d, "fdinfo-4.img", 0));
	CHECK(est_import(d, &imp) == 0);
	r = check_shared_table(imp.dirfd);
	est_import_release(&imp);
	CHECK(r == 0);
	d = copy_set("tree");
	CHECK(d >= 0 && !write_ids(d, 32613, 4, 3) && !unlinkat(d, "fdinfo-4.img", 0));
	CHECK(refused(d));
	return 0;
}

/* core-32612.img: a zombie, its exit status 3 << 8, its ids in a bare thread core. */
static int write_zombie(int d, uint32_t personality)
{
	Est__CoreEntry c = EST__CORE_ENTRY__INIT;
	Est__TaskCoreEntry tc = EST__TASK_CORE_ENTRY__INIT;
	Est__ThreadCoreEntry th = EST__THREAD_CORE_ENTRY__INIT;
	Est__CredsEntry cr = EST__CREDS_ENTRY__INIT;
	uint32_t groups[2] = { 27, 1000 }, caps[2] = { 0, 0 };

	c.mtype = EST__CORE_ENTRY__MARCH__X86_64;
	tc.task_state = 2;
	tc.exit_code = 3 << 8;
	tc.comm = "zombie";
	tc.personality = personality;
	cr.uid = cr.euid = cr.suid = cr.fsuid = 1000;
	cr.gid = cr.egid = cr.sgid = cr.fsgid = 1001;
	cr.n_groups = 2;
	cr.groups = groups;
	cr.n_cap_inh = cr.n_cap_prm = cr.n_cap_eff = cr.n_cap_bnd = 2;
	cr.cap_inh = cr.cap_prm = cr.cap_eff = cr.cap_bnd = caps;
	th.creds = &cr;
	c.tc = &tc;
	c.thread_core = &th;
	return new_image(d, "core-32612.img", 0x55053847) ||
	       append(d, "core-32612.img", &c.base, NULL, 0);
}

static uint32_t zombie_personality;	/* what the import should give */

static int check_zombie(int dirfd)
{
	ProtobufCMessage **v = NULL;
	size_t n;
	const TaskCoreEntry *t;

	CHECK(!read_all(dirfd, IMG_CORE, 32612, &v, &n) && n == 1);
	t = (TaskCoreEntry *)v[0];
	CHECK(t->state == 2 && t->exit_code == 3 << 8 && t->creds && t->creds->n_uid == 4);
	CHECK(t->personality == zombie_personality);
	CHECK(t->creds->uid[0] == 1000 && t->creds->uid[3] == 1000 && t->creds->gid[1] == 1001);
	CHECK(t->creds->n_groups == 2 && t->creds->groups[1] == 1000);
	img_free_all(v, n);
	return 0;
}

/*
 * pstree.img of the tree set, the zombie 32612 listing @thread, as the
 * established tool lists garbage for a dead task.
 */
static int write_tree_pstree(int d, uint32_t thread)
{
	uint32_t t0[2] = { 32611, 32614 }, t1[1] = { thread }, t2[1] = { 32613 };
	uint32_t *th[3] = { t0, t1, t2 };
	size_t nt[3] = { 2, 1, 1 }, i;

	CHECK(!unlinkat(d, "pstree.img", 0) && !new_image(d, "pstree.img", 0x50273030));
	for (i = 0; i < 3; i++) {
		Est__PstreeEntry e = EST__PSTREE_ENTRY__INIT;

		e.pid = 32611 + i;
		e.ppid = i ? 32611 : 0;
		e.pgid = e.sid = 32611;
		e.n_threads = nt[i];
		e.threads = th[i];
		CHECK(!append(d, "pstree.img", &e.base, NULL, 0));
	}
	return 0;
}

/* A copy of the tree set whose 32612 is a zombie of @personality listing @thread. */
static int zombie_set(uint32_t personality, uint32_t thread)
{
	static const char *const gone[] = { "ids-32612.img", "fs-32612.img", "mm-32612.img",
		"pagemap-32612.img", "fdinfo-3.img", "pages-2.img" };
	size_t i;
	int d = copy_set("tree");

	if (d < 0 || write_zombie(d, personality) || write_tree_pstree(d, thread))
		return -1;
	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		CHECK(!unlinkat(d, gone[i], 0));
	return d;
}

static int zombie_imports(uint32_t personality, uint32_t thread, uint32_t want)
{
	struct est_import imp = { .dirfd = -1 };
	int d = zombie_set(personality, thread), r;

	CHECK(d >= 0 && est_import(d, &imp) == 0);
	zombie_personality = want;
	r = check_zombie(imp.dirfd);
	est_import_release(&imp);
	return r;
}

/*
 * A zombie's ids come in the creds of a thread core that holds nothing else;
 * the reference lists garbage as its thread, and writes the hex digits of a
 * personality as a decimal number (ours the value).
 */
static int test_zombie_creds(void)
{
	char p[PATH_MAX];
	int d;

	if (golden("tree", p, sizeof(p)))
		SKIP("no golden images at %.300s", p);
	CHECK(!zombie_imports(0x40000, 32612, 0x40000));		/* ours */
	CHECK(!zombie_imports(40000, 4153820384u, 0x40000));	/* the reference's */
	CHECK(!zombie_imports(8, 72, 8));				/* the same both ways */
	d = zombie_set(99999, 32612);	/* neither a personality nor the digits of one */
	CHECK(d >= 0 && refused(d));
	/* a garbage thread list on a process alive (with its ids) is still refused */
	d = copy_set("tree");
	CHECK(d >= 0 && !write_tree_pstree(d, 72));
	CHECK(refused(d));
	return 0;
}

static int test_shared_and_zombie(void)
{
	return test_shared_table() ? -1 : test_zombie_creds();
}

static const struct unit_case cases[] = {
	{ "golden single converts, values where ours keeps them", test_single },
	{ "golden tree: processes, threads, their masks, pages shared with the parent", test_tree },
	{ "golden fds: socketpair with queues, eventfd, timerfds", test_fds },
	{ "doctored copies are refused", test_refusals },
	{ "an AIO ring vma with its aios entry; without, refused", test_aio },
	{ "a stopped process keeps its stop signal, a bad one is refused", test_stopped },
	{ "children sharing their parent's fd table; a zombie's ids", test_shared_and_zombie },
	{ "FIFO, signalfd, epoll, locks, ghosts, sockets, fsnotify, ptys, memfds, shmem", test_kinds },
	{ "doctored entries of those kinds are refused", test_kinds_refused },
	{ "a case failing half-way leaves no FIFO behind", test_kinds_fifo_cleanup },
	{ "200 random corruptions: converted or refused, no crash", test_corruption },
	{ "200 more on the further kinds' images", test_kinds_corruption },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, LOG_ERROR);
	return unit_run(argv[0], cases, sizeof(cases) / sizeof(cases[0]));
}
