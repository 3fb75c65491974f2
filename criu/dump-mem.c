/*
 * Dump: the address space. dump_collect_vmas() turns smaps (read before the
 * parasite maps its region) into vma_entry records, refusing mappings the
 * images cannot carry yet. dump_pages() finds the pages worth storing with
 * PAGEMAP_SCAN and moves them out through the parasite: it vmsplice()s the
 * task's pages into a pipe, criu splice()s the pipe into pages-PID.img, so
 * page data never passes through criu's memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <compel/compel.h>
#include "kernel-compat.h"

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "image.h"
#include "files-reg.h"
#include "kerndat.h"
#include "pagemap.pb-c.h"
#include "manifest.h"
#include "page-read.h"
#include "pagemap-flags.h"
#include "pagemap-scan.h"
#include "parasite-proto.h"
#include "restorer-args.h"

#define PAGE		4096ul
#define PIPE_WANT	(4u << 20)	/* we ask for this much, pipe-max-size permitting */
#define SCAN_VEC	512
#define COW_BATCH	512	/* pagemap entries compared with the parent's at once */

static uint64_t vmflags_madv(uint64_t f)
{
	uint64_t m = 0;

	if (f & PROC_VMF(SR))
		m |= 1ull << MADV_SEQUENTIAL;
	if (f & PROC_VMF(RR))
		m |= 1ull << MADV_RANDOM;
	if (f & PROC_VMF(DC))
		m |= 1ull << MADV_DONTFORK;
	if (f & PROC_VMF(MG))
		m |= 1ull << MADV_MERGEABLE;
	if (f & PROC_VMF(HG))
		m |= 1ull << MADV_HUGEPAGE;
	if (f & PROC_VMF(NH))
		m |= 1ull << MADV_NOHUGEPAGE;
	if (f & PROC_VMF(DD))
		m |= 1ull << MADV_DONTDUMP;
	if (f & PROC_VMF(WF))
		m |= 1ull << MADV_WIPEONFORK;
	return m;
}

/* A reg-files entry for the file behind a file vma (shared by its vmas). */
static int vma_file(struct dump_task *t, const struct proc_vma *pv, uint32_t *id)
{
	char link[96], ns_path[PATH_MAX + 64];
	struct stat stb, now;
	/* a shared mapping may be made writable (mw) only if its file is open for writing */
	unsigned int flags = (pv->shared && (pv->vmflags & PROC_VMF(MW))) ? O_RDWR : O_RDONLY;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", t->pid,
		 (unsigned long)pv->start, (unsigned long)pv->end);
	if (stat(link, &stb)) {
		pr_perror("can't stat %s (%s)", link, pv->path);
		return -1;
	}
	if (!S_ISREG(stb.st_mode) || (pv->deleted && stb.st_nlink) ||
	    !strncmp(pv->path, "/memfd:", 7)) {
		pr_err("mapping of %s%s (mode %o) at %lx-%lx is not supported yet", pv->path,
		       pv->deleted ? " (deleted)" : "", stb.st_mode, (unsigned long)pv->start,
		       (unsigned long)pv->end);
		return -1;
	}
	if (pv->deleted) {
		char deleted[PATH_MAX + 16];
		int src = open(link, O_RDONLY | O_CLOEXEC), ret;

		snprintf(deleted, sizeof(deleted), "%s (deleted)", pv->path);
		ret = ghost_add_file(t->files, t->o, t->dirfd, src, deleted, &stb, flags, 0, id);
		if (src >= 0)
			close(src);
		return ret;
	}
	if (stat(dump_mntns_path(pv->path, ns_path, sizeof(ns_path)), &now) || now.st_dev != stb.st_dev || now.st_ino != stb.st_ino) {
		pr_err("mapped file %s no longer leads to the mapped file (another mount or a file "
		       "put over it); such mappings are not supported yet", pv->path);
		return -1;
	}
	return dump_files_reuse(t->files, pv->path, &stb, flags, id);
}

/*
 * Every VmFlags code is restored or refused (vmflags.h): refuse the
 * mapping on the first one that is not restored, unknown codes included.
 * The kernel's own mappings (vdso, vvar) are moved, not made, and skip this.
 */
static int refuse_vmflags(const struct proc_vma *pv, uint64_t ours)
{
	const struct vmflag_desc *d;
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		if (!(pv->vmflags & ~ours & (1ULL << bit)))
			continue;
		d = bit < vmflag_table_size ? &vmflag_table[bit] : NULL;
		if (d && d->policy == VMF_KEPT)
			continue;
		pr_err("VMA flag '%s' (%s) at %lx-%lx (%s) is not supported yet",
		       d ? d->code : "??", d ? d->meaning : "a flag this criu does not know",
		       (unsigned long)pv->start, (unsigned long)pv->end, pv->path);
		return -1;
	}
	return 0;
}

/* What a restore cannot learn from prot, kind and advice: vmflags.h, "how". */
static void fill_vma_vmflags(const struct proc_vma *pv, VmaEntry *v)
{
	uint64_t f = pv->vmflags;

	v->has_max_prot = true;
	v->max_prot = (f & PROC_VMF(MR) ? PROT_READ : 0) | (f & PROC_VMF(MW) ? PROT_WRITE : 0) |
		      (f & PROC_VMF(ME) ? PROT_EXEC : 0);
	v->has_locked = v->locked = !!(f & PROC_VMF(LO));
	v->has_lock_on_fault = v->lock_on_fault = !!(f & PROC_VMF(LF));
	if ((f & PROC_VMF(SH)) && !(f & PROC_VMF(MW)))
		v->has_sealed_shared = v->sealed_shared = true;
	if (v->flags & MAP_PRIVATE || (v->flags & MAP_TYPE) == MAP_DROPPABLE) {
		v->has_accounted = true;
		v->accounted = !!(f & PROC_VMF(AC));
	}
	if (f & PROC_VMF(DP))
		v->flags = (v->flags & ~MAP_TYPE) | MAP_DROPPABLE;
	if (f & PROC_VMF(GD))
		v->flags |= MAP_GROWSDOWN;
	if (f & PROC_VMF(NR))
		v->flags |= MAP_NORESERVE;
	v->has_guard_vma = v->guard_vma = !!(f & PROC_VMF(GU));
	v->madv = vmflags_madv(f);
	v->has_madv = v->madv != 0;
}

/* A private anonymous vma: heap, stack, or named with PR_SET_VMA_ANON_NAME. */
static int fill_anon(const struct proc_vma *pv, VmaEntry *v)
{
	if (pv->shared) {
		/* shmem-backed ones show as /dev/zero (deleted) */
		pr_err("MAP_SHARED anonymous mapping at %lx-%lx without a shmem file is not supported yet",
		       (unsigned long)pv->start, (unsigned long)pv->end);
		return -1;
	}
	v->kind = VMA_KIND__VMA_ANON_PRIVATE;
	v->flags |= MAP_ANONYMOUS;
	if (pv->kind == PROC_VMA_HEAP)
		v->has_heap = v->heap = true;
	if (pv->kind == PROC_VMA_STACK)
		v->has_stack = v->stack = true;
	if (pv->kind == PROC_VMA_ANON_NAMED) {
		const char *n = pv->path + 6;	/* after "[anon:" */
		size_t len = strlen(pv->path);

		if (len < 7 || strncmp(pv->path, "[anon:", 6) || pv->path[len - 1] != ']') {
			pr_err("odd anonymous vma name '%s'", pv->path);
			return -1;
		}
		v->name = strndup(n, len - 7);
		if (!v->name)
			return -1;
	}
	return 0;
}

static int fill_vma(struct dump_task *t, const struct proc_vma *pv, VmaEntry *v)
{
	bool special = false;

	vma_entry__init(v);
	v->start = pv->start;
	v->end = pv->end;
	v->pgoff = pv->pgoff;
	v->prot = pv->prot;
	v->flags = pv->shared ? MAP_SHARED : MAP_PRIVATE;
	switch (pv->kind) {
	case PROC_VMA_VDSO:
		v->kind = VMA_KIND__VMA_VDSO;
		special = true;
		break;
	case PROC_VMA_VVAR:
		v->kind = VMA_KIND__VMA_VVAR;
		special = true;
		break;
	case PROC_VMA_VVAR_VCLOCK:
		v->kind = VMA_KIND__VMA_VVAR_VCLOCK;
		special = true;
		break;
	case PROC_VMA_VSYSCALL:
		v->kind = VMA_KIND__VMA_VSYSCALL;
		special = true;
		break;
	case PROC_VMA_ANON:
	case PROC_VMA_HEAP:
	case PROC_VMA_STACK:
	case PROC_VMA_ANON_NAMED:
		if (fill_anon(pv, v))
			return -1;
		break;
	case PROC_VMA_FILE:
		if (dump_is_aio_ring(t, pv))
			return dump_aio_vma(t, pv, v);
		if (dump_shmem_is_object(pv)) {
			v->kind = pv->shared ? VMA_KIND__VMA_ANON_SHARED : VMA_KIND__VMA_SHMEM_PRIVATE;
			v->has_shmem_id = true;
			if (dump_shmem_add(t->shm, t->pid, pv, &v->shmem_id))
				return -1;
			break;
		}
		v->kind = pv->shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
		v->has_file_id = true;
		if (vma_file(t, pv, &v->file_id))
			return -1;
		break;
	case PROC_VMA_ANON_SHMEM:
		return dump_shmem_add(t->shm, t->pid, pv, &v->shmem_id);	/* refuses, logged */
	default:
		/* a packet socket's rings: the socket named once the fds are known */
		if (pv->shared && !strncmp(pv->path, "socket:[", 8)) {
			v->kind = VMA_KIND__VMA_PACKET_RING;
			break;
		}
		pr_err("mapping %s at %lx-%lx is not supported yet%s", pv->path,
		       (unsigned long)pv->start, (unsigned long)pv->end,
		       strncmp(pv->path, "socket:[", 8) ? "" : ": packet ring mmap");
		return -1;
	}
	if (special)
		return 0;
	if (!pv->has_vmflags) {
		pr_err("smaps shows no VmFlags for %lx-%lx", (unsigned long)pv->start,
		       (unsigned long)pv->end);
		return -1;
	}
	/* "uw" of criu's own memory tracking (dump-track.c) is not the task's */
	/* "mm": the kernel inserts a ring's pages one by one (vm_insert_page) */
	if (refuse_vmflags(pv, (t->track_fd >= 0 ? PROC_VMF(UW) : 0) |
				       (v->kind == VMA_KIND__VMA_PACKET_RING ? PROC_VMF(MM) : 0)))
		return -1;
	if (pv->pkey) {
		pr_err("memory protection key %u of %lx-%lx (%s) is not supported yet", pv->pkey,
		       (unsigned long)pv->start, (unsigned long)pv->end, pv->path);
		return -1;
	}
	fill_vma_vmflags(pv, v);
	if (v->guard_vma) {
		int pm = dump_open_pagemap(t->pid), ret;

		if (pm < 0)
			return -1;
		ret = dump_vma_guards(pm, v);
		close(pm);
		return ret;
	}
	return 0;
}

/* The restorer maps shared vmas from descriptors it has room for: refuse more now. */
static int check_fd_vmas(const struct dump_task *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->mm.n_vmas; i++)
		if (t->vmas[i].kind == VMA_KIND__VMA_FILE_SHARED ||
		    t->vmas[i].kind == VMA_KIND__VMA_ANON_SHARED ||
		    t->vmas[i].kind == VMA_KIND__VMA_PACKET_RING)
			n++;
	if (n > RST_MAX_FD_VMAS) {
		pr_err("%zu shared mappings (files, shared memory) in %d: more than %d are not supported yet",
		       n, t->pid, RST_MAX_FD_VMAS);
		return -1;
	}
	return 0;
}

int dump_collect_vmas(struct dump_task *t)
{
	size_t i;

	if (proc_read_smaps(t->pid, &t->pvmas) || dump_track_find(t))
		return -1;
	t->vmas = calloc(t->pvmas.nr ? t->pvmas.nr : 1, sizeof(*t->vmas));
	t->vma_ptrs = calloc(t->pvmas.nr ? t->pvmas.nr : 1, sizeof(*t->vma_ptrs));
	if (!t->vmas || !t->vma_ptrs)
		return -1;
	for (i = 0; i < t->pvmas.nr; i++) {
		if (i && t->pvmas.v[i].start < t->pvmas.v[i - 1].end) {
			pr_err("smaps of %d is not in ascending order", t->pid);
			return -1;
		}
		t->vma_ptrs[i] = &t->vmas[i];
		t->mm.n_vmas = i + 1;	/* so that a failure frees what was filled */
		if (fill_vma(t, &t->pvmas.v[i], &t->vmas[i]))
			return -1;
		pr_debug("vma %lx-%lx prot %x flags %x kind %d %s",
			 (unsigned long)t->vmas[i].start, (unsigned long)t->vmas[i].end,
			 t->vmas[i].prot, t->vmas[i].flags, t->vmas[i].kind, t->pvmas.v[i].path);
	}
	t->mm.vmas = t->vma_ptrs;
	return check_fd_vmas(t);
}

/*
 * mlockall(MCL_FUTURE) is not shown in /proc (mm->def_flags), but every
 * mapping made while it is in force gets its flags: the parasite's region,
 * mapped by the infection, is one. Its "lo" (and "lf" for MCL_ONFAULT) tell
 * what a restore sets again.
 */
int dump_collect_mlockall(struct dump_task *t)
{
	uint64_t at = compel_args_remote(t->ctl);
	struct proc_vmas now = { 0 };
	uint64_t f = 0;
	size_t i;
	int ret = -1;

	if (proc_read_smaps(t->pid, &now))
		return -1;
	for (i = 0; i < now.nr && now.v[i].start <= at; i++)
		if (at < now.v[i].end && now.v[i].has_vmflags) {
			f = now.v[i].vmflags;
			ret = 0;
		}
	proc_vmas_free(&now);
	if (ret) {
		pr_err("the parasite's region at %llx is not in the smaps of %d",
		       (unsigned long long)at, t->pid);
		return -1;
	}
	t->mm.has_mlockall = true;
	t->mm.mlockall = f & PROC_VMF(LO) ? MCL_FUTURE | (f & PROC_VMF(LF) ? MCL_ONFAULT : 0) : 0;
	if (t->mm.mlockall)
		pr_info("%d: mlockall(%#x) in force", t->pid, t->mm.mlockall);
	return 0;
}

void dump_mm_free(struct dump_task *t)
{
	size_t i;

	for (i = 0; t->vmas && i < t->mm.n_vmas; i++) {
		free(t->vmas[i].name);
		free(t->vmas[i].guards);
	}
	free(t->vmas);
	free(t->vma_ptrs);
	t->vmas = NULL;
	t->vma_ptrs = NULL;
	t->mm.n_vmas = 0;
	proc_vmas_free(&t->pvmas);
}

/* ---- pages ----------------------------------------------------------------- */

struct page_xfer {
	struct dump_task	*t;
	struct cr_img		*pagemap;
	int			pages_fd;	/* raw fd of pages-PID.img */
	struct mf_track		*track;		/* its checksum, taken while written */
	int			pipe[2];
	size_t			pipe_size;
	struct parasite_pages	*args;		/* compel's argument area */
	uint64_t		file_off;	/* bytes written to pages-PID.img */
	int			mem_fd;		/* /proc/PID/mem, for unreadable vmas */
	unsigned int		flushes;
	int64_t			rseq_off;	/* where rseq_cs lands in the file, -1 */
	int			parent_pm;	/* the parent's pagemap, -1: no parent */
	int			pm_fd;		/* the task's own pagemap */
	bool			cow;		/* this vma was inherited from the parent */
	uint64_t		cow_pages;	/* pages left out as PE_COW */
	const VmaEntry		*v;		/* the vma being scanned */
	uint64_t		parent_pages;	/* pages left to the parent images (PE_PARENT) */
};

static int pipe_setup(struct page_xfer *x)
{
	unsigned long max = 1 << 20;
	FILE *f;
	int sz;

	if (pipe2(x->pipe, O_CLOEXEC)) {
		pr_perror("can't create the page pipe");
		return -1;
	}
	f = fopen("/proc/sys/fs/pipe-max-size", "r");
	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 1 << 20;
		fclose(f);
	}
	if (max > PIPE_WANT)
		max = PIPE_WANT;
	/* Per-user pipe limits may still say no: halve until it fits. */
	while (max > PAGE && fcntl(x->pipe[1], F_SETPIPE_SZ, (int)max) < 0)
		max /= 2;
	sz = fcntl(x->pipe[1], F_GETPIPE_SZ);
	if (sz < (int)PAGE) {
		pr_perror("can't size the page pipe");
		return -1;
	}
	x->pipe_size = sz;
	pr_debug("page pipe holds %d bytes", sz);
	return 0;
}

static int splice_out(struct page_xfer *x, uint64_t len)
{
	while (len) {
		ssize_t n = splice(x->pipe[0], NULL, x->pages_fd, NULL, len, SPLICE_F_MOVE);

		if (n <= 0) {
			pr_perror("splice into pages-%d.img (%lu bytes left)", x->t->pid,
				  (unsigned long)len);
			return -1;
		}
		len -= n;
	}
	return 0;
}

/* Send the gathered iovecs to the parasite, then move the pipe into the file. */
static int flush_chunk(struct page_xfer *x)
{
	struct parasite_pages *p = x->args;
	uint64_t t0, total = p->total;
	int ret = -1;

	if (!p->nr_iovs)
		return 0;
	t0 = dump_now_us();
	if (compel_rpc_call(x->t->ctl, PARASITE_CMD_DUMP_PAGES, &x->pipe[1], 1) ||
	    compel_rpc_wait(x->t->ctl, &ret) || ret) {
		pr_err("parasite could not vmsplice %u runs (%lu bytes): %d",
		       p->nr_iovs, (unsigned long)total, ret);
		return -1;
	}
	x->t->stats.memdump_us += dump_now_us() - t0;
	t0 = dump_now_us();
	if (splice_out(x, total))
		return -1;
	x->t->stats.memwrite_us += dump_now_us() - t0;
	x->file_off += total;
	manifest_track_written(x->track, x->file_off);
	p->nr_iovs = 0;
	p->total = 0;
	if (++x->flushes == 1 && dump_fault(x->t->o, "mid-pages"))
		return -1;
	return 0;
}

/* Pages criu cannot ask the parasite for (no PROT_READ): read /proc/PID/mem. */
static int copy_unreadable(struct page_xfer *x, uint64_t start, uint64_t len)
{
	char buf[64 * 1024];

	if (flush_chunk(x))
		return -1;
	if (x->mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", x->t->pid);
		x->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (x->mem_fd < 0) {
			pr_perror("can't open %s", path);
			return -1;
		}
	}
	pr_debug("copying %lu bytes at %lx through /proc/PID/mem (no PROT_READ)",
		 (unsigned long)len, (unsigned long)start);
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t r = pread(x->mem_fd, buf, n, start);

		if (r != (ssize_t)n || write(x->pages_fd, buf, n) != (ssize_t)n) {
			pr_perror("can't copy pages at %lx", (unsigned long)start);
			return -1;
		}
		start += n;
		len -= n;
		x->file_off += n;
	}
	return 0;
}

/* Pagemap entries for [start, end) with @flags (nr_pages is 32 bits). */
static int write_entries(struct page_xfer *x, uint64_t start, uint64_t end, uint32_t flags)
{
	uint64_t a;

	for (a = start; a < end;) {
		uint64_t n = (end - a) / PAGE;
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		if (n > 0x80000000ull)
			n = 0x80000000ull;
		pe.vaddr = a;
		pe.nr_pages = (uint32_t)n;
		pe.has_flags = true;
		pe.flags = flags;
		if (img_write_entry(x->pagemap, &pe.base))
			return -1;
		a += n * PAGE;
	}
	return 0;
}

static int store_run(struct page_xfer *x, const VmaEntry *v, uint64_t start, uint64_t end)
{
	struct parasite_pages *p = x->args;
	uint64_t a;

	/*
	 * Own pages in a private mapping that was never writable (no "ac"):
	 * written through ptrace (a debugger's breakpoints). The restore
	 * fills pages through a writable copy, which would charge it.
	 */
	if (v->has_accounted && !v->accounted && !(v->flags & MAP_NORESERVE) &&
	    !(v->prot & PROT_WRITE)) {
		pr_err("pages written by ptrace into the never-writable mapping %lx-%lx are not supported yet",
		       (unsigned long)v->start, (unsigned long)v->end);
		return -1;
	}
	if (write_entries(x, start, end, PE_PRESENT))
		return -1;
	x->t->stats.pages_written += (end - start) / PAGE;
	if (x->t->rd)	/* copied once the tree runs again (page-read.c) */
		return page_read_add(x->t, start, end - start);
	if (x->t->rseq_cs_val && x->t->rseq_cs_addr >= start && x->t->rseq_cs_addr + 8 <= end)
		x->rseq_off = x->file_off + p->total + (x->t->rseq_cs_addr - start);

	if (!(v->prot & PROT_READ))
		return copy_unreadable(x, start, end - start);
	/* Cut the run into pieces that fit the pipe. */
	for (a = start; a < end;) {
		uint64_t room = x->pipe_size - p->total, n = end - a;

		if (n > room)
			n = room;
		p->iov[p->nr_iovs].base = a;
		p->iov[p->nr_iovs].len = n;
		p->nr_iovs++;
		p->total += n;
		a += n;
		if (p->total == x->pipe_size || p->nr_iovs == PARASITE_MAX_IOVS)
			if (flush_chunk(x))
				return -1;
	}
	return 0;
}

/* [s, e) as one kind of run: PE_COW (shared with the parent) or stored. */
static int class_run(struct page_xfer *x, const VmaEntry *v, uint64_t s, uint64_t e, bool shared)
{
	if (!shared)
		return store_run(x, v, s, e);
	x->cow_pages += (e - s) / PAGE;
	return write_entries(x, s, e, PE_COW);
}

/*
 * A run of pages worth storing. Where the vma was inherited from the
 * parent, the pages still shared with it become PE_COW runs without data.
 * Only the run's own pagemap entries are compared, a batch at a time: a
 * huge mostly empty inherited vma costs nothing more than its pages.
 */
static int add_run(struct page_xfer *x, const VmaEntry *v, uint64_t start, uint64_t end)
{
	uint8_t map[COW_BATCH];
	uint64_t a, s = start;
	bool cur = false;
	size_t i, n;

	if (!x->cow)
		return store_run(x, v, start, end);
	for (a = start; a < end; a += n * PAGE) {
		n = (end - a) / PAGE < COW_BATCH ? (end - a) / PAGE : COW_BATCH;
		if (cow_shared_map(x->pm_fd, x->parent_pm, a, a + n * PAGE, map))
			return -1;
		for (i = 0; i < n; i++) {
			uint64_t pa = a + i * PAGE;

			if (pa == start) {
				cur = map[i];
			} else if (map[i] != cur) {
				if (class_run(x, v, s, pa, cur))
					return -1;
				s = pa;
				cur = map[i];
			}
		}
	}
	return class_run(x, v, s, end, cur);
}

/*
 * Pages not written since the last tracking run: PE_PARENT where the parent
 * images hold the page, stored where they do not (when unsure, the page is
 * written).
 */
static int parent_run(struct page_xfer *x, uint64_t s, uint64_t e)
{
	const struct pmc_map *m = &x->t->track_parent;

	while (s < e) {
		const struct pmc_run *r = pmc_next(m, s);
		uint64_t rs = r ? r->vaddr : e, re = r ? r->vaddr + r->nr * PAGE : e;

		if (rs > s) {	/* not in the parent: stored */
			if (add_run(x, x->v, s, rs < e ? rs : e))
				return -1;
			s = rs < e ? rs : e;
			continue;
		}
		re = re < e ? re : e;
		if (write_entries(x, s, re, PE_PARENT))
			return -1;
		x->parent_pages += (re - s) / PAGE;
		s = re;
	}
	return 0;
}

static int emit_run(void *arg, const struct scan_run *r)
{
	struct page_xfer *x = arg;

	return r->old ? parent_run(x, r->start, r->end) : add_run(x, x->v, r->start, r->end);
}

/*
 * Scan one vma; every stored run goes through add_run(). A tracked vma
 * (dump-track.c) is protected again as it is scanned, and with parent
 * images its pages not written since are left to them.
 */
static int scan_vma(struct page_xfer *x, int pm_fd, const VmaEntry *v, uint8_t track)
{
	struct page_region vec[SCAN_VEC];
	struct scan_run cur = { 0 };
	uint64_t pos = v->start;
	uint64_t skip_mask = PAGE_IS_PFNZERO;
	bool split = track == TRACK_OLD && x->t->track_parent.pid;

	x->v = v;
	/* In a private file mapping only the task's own (anonymous) copies count. */
	if (v->kind == VMA_KIND__VMA_FILE_PRIVATE || v->kind == VMA_KIND__VMA_SHMEM_PRIVATE)
		skip_mask |= PAGE_IS_FILE;
	if (v->n_guards)	/* no data: dump-guard.c records them */
		skip_mask |= PAGE_IS_GUARD;
	while (pos < v->end) {
		struct pm_scan_arg a = {
			.size = sizeof(a),
			.flags = track != TRACK_NONE ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0,
			.start = pos,
			.end = v->end,
			.vec = (uint64_t)(unsigned long)vec,
			.vec_len = SCAN_VEC,
			.category_inverted = skip_mask,
			.category_mask = skip_mask,
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | (split ? PAGE_IS_WRITTEN : 0),
		};
		int n = ioctl(pm_fd, PAGEMAP_SCAN, &a);

		if (n < 0) {
			pr_perror("PAGEMAP_SCAN %lx-%lx", (unsigned long)pos, (unsigned long)v->end);
			return -1;
		}
		if (scan_fold(vec, n, v->start, v->end, split, &cur, emit_run, x))
			return -1;
		if (a.walk_end <= pos || a.walk_end > v->end) {
			pr_err("PAGEMAP_SCAN made no progress at %lx", (unsigned long)pos);
			return -1;
		}
		pos = a.walk_end;
	}
	return cur.end ? emit_run(x, &cur) : 0;
}

/* ---- without PAGEMAP_SCAN: read /proc/PID/pagemap --------------------------- */

#define HPAGE_PAGES	512

/* PFNs of the zero pages, found by read-faulting memory of our own. */
struct zero_pfns {
	uint64_t zero;		/* 0: unknown (no PFNs visible) */
	uint64_t huge;		/* first PFN of the huge zero page, 0: none seen */
};

static uint64_t own_pfn(int pm, const volatile char *p)
{
	uint64_t e = 0;

	(void)*p;
	if (pread(pm, &e, sizeof(e), (uintptr_t)p / PAGE * 8) != sizeof(e))
		return 0;
	return (e & PM_PRESENT) ? (e & PM_PFN) : 0;
}

static void probe_zero_pfns(struct zero_pfns *z)
{
	size_t len = 2 * HPAGE_PAGES * PAGE;
	char *m, *aligned;
	uint64_t pfn;
	int pm;

	memset(z, 0, sizeof(*z));
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return;
	/*
	 * Two read faults must give the same PFN: a kernel booted without the
	 * zero page (pvm_no_zero_page=1) hands out real pages, and the PFN of
	 * one we free could be the victim's next.
	 */
	m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED) {
		pfn = own_pfn(pm, m);
		if (pfn && pfn == own_pfn(pm, m + PAGE))
			z->zero = pfn;
		munmap(m, 2 * PAGE);
	}
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z->zero && m != MAP_FAILED) {
		/* A read fault on an aligned THP-enabled range may map the huge one. */
		aligned = (char *)(((uintptr_t)m + HPAGE_PAGES * PAGE - 1) &
				   ~(HPAGE_PAGES * PAGE - 1));
		if (!madvise(aligned, HPAGE_PAGES * PAGE, MADV_HUGEPAGE)) {
			pfn = own_pfn(pm, aligned);
			if (pfn && pfn != z->zero)
				z->huge = pfn;
		}
	}
	if (m != MAP_FAILED)
		munmap(m, len);
	close(pm);
	if (!z->zero)
		pr_info("no shared zero page seen in pagemap: zero pages are dumped as data");
	pr_debug("zero page pfn %lx, huge zero page pfn %lx", (unsigned long)z->zero,
		 (unsigned long)z->huge);
}

static bool is_zero_pfn(const struct zero_pfns *z, uint64_t pfn)
{
	if (z->zero && pfn == z->zero)
		return true;
	return z->huge && pfn >= z->huge && pfn < z->huge + HPAGE_PAGES;
}

static int scan_vma_pagemap(struct page_xfer *x, int pm_fd, const VmaEntry *v,
			    const struct zero_pfns *z)
{
	uint64_t buf[512], addr = v->start, run_s = 0, run_e = 0;
	bool file = v->kind == VMA_KIND__VMA_FILE_PRIVATE || v->kind == VMA_KIND__VMA_SHMEM_PRIVATE;

	while (addr < v->end) {
		size_t n = (v->end - addr) / PAGE, i;
		ssize_t r;

		if (n > 512)
			n = 512;
		r = pread(pm_fd, buf, n * 8, addr / PAGE * 8);
		if (r != (ssize_t)(n * 8)) {
			pr_perror("can't read pagemap at %lx", (unsigned long)addr);
			return -1;
		}
		for (i = 0; i < n; i++, addr += PAGE) {
			uint64_t e = buf[i];
			bool keep = (e & (PM_PRESENT | PM_SWAPPED)) &&
				    !((e & PM_PRESENT) && is_zero_pfn(z, e & PM_PFN)) &&
				    !(file && (e & PM_FILE)) && !(e & PM_GUARD);

			if (!keep)
				continue;
			if (run_e == addr) {
				run_e += PAGE;
				continue;
			}
			if (run_e && add_run(x, v, run_s, run_e))
				return -1;
			run_s = addr;
			run_e = addr + PAGE;
		}
	}
	if (run_e && add_run(x, v, run_s, run_e))
		return -1;
	return 0;
}

/* Pages the images leave to a parent dump or to the parent process. */
static void log_left(const struct page_xfer *x)
{
	if (x->parent_pages)
		pr_info("%d: %lu pages not written since the parent dump left to it", x->t->pid,
			(unsigned long)x->parent_pages);
	if (x->cow_pages)
		pr_info("%d: %lu pages shared with its parent since fork() left to it",
			x->t->pid, (unsigned long)x->cow_pages);
}

/* Before scanning @v: is it inherited from the parent (its pages may be shared)? */
static int cow_begin(struct page_xfer *x, const VmaEntry *v)
{
	const struct dump_task *p = x->t->parent;

	/* tracked or incremental: each process's own pages (the export cannot chain both) */
	x->cow = p && !x->t->track_st && x->t->tree->prev_fd < 0 && cow_parent_vma(p, x->t, v);
	if (x->cow && x->parent_pm < 0) {
		x->parent_pm = dump_open_pagemap(p->pid);
		if (x->parent_pm < 0)
			return -1;
	}
	return 0;
}

/*
 * compel keeps the rseq_cs word cleared while the parasite runs; the image
 * must hold what the task had.
 */
static int put_rseq_back(const struct page_xfer *x, const struct dump_task *t)
{
	if (x->rseq_off < 0)
		return 0;
	if (pwrite(x->pages_fd, &t->rseq_cs_val, 8, x->rseq_off) != 8) {
		pr_perror("can't put rseq_cs back into the pages image");
		return -1;
	}
	manifest_track_changed(x->pages_fd, x->rseq_off, 8);
	return 0;
}

int dump_pages(struct dump_task *t)
{
	struct page_xfer x = { .t = t, .pipe = { -1, -1 }, .mem_fd = -1, .rseq_off = -1,
			       .parent_pm = -1 };
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct cr_img *pages = NULL;
	int pm_fd = -1, ret = -1;
	size_t i;

	struct zero_pfns z;
	/* CRIU_DUMP_NO_PAGEMAP_SCAN forces the fallback (for its test). */
	bool scan = kdat.has_pagemap_scan && (!t->o->no_pagemap_scan || t->track_st);

	if (!scan) {
		pr_info("reading /proc/%d/pagemap page by page (no PAGEMAP_SCAN)", t->pid);
		probe_zero_pfns(&z);
	}
	if (dump_aio_owned(t))
		return -1;
	if (compel_args_size(t->ctl) < sizeof(struct parasite_pages)) {
		pr_err("parasite argument area too small");
		return -1;
	}
	x.args = compel_args(t->ctl);
	x.args->nr_iovs = 0;
	x.args->total = 0;
	pm_fd = dump_open_pagemap(t->pid);
	if (pm_fd < 0)
		return -1;
	x.pm_fd = pm_fd;
	if (pipe_setup(&x))
		goto out;
	x.pagemap = img_create(t->dirfd, IMG_PAGEMAP, t->vpid);
	pages = img_create(t->dirfd, IMG_PAGES, t->vpid);
	if (!x.pagemap || !pages)
		goto out;
	x.pages_fd = img_raw_fd(pages);
	x.track = manifest_track_start(x.pages_fd);
	head.pages_id = (uint32_t)t->vpid;
	if (img_write_entry(x.pagemap, &head.base))
		goto out;
	for (i = 0; i < t->mm.n_vmas; i++) {
		const VmaEntry *v = t->mm.vmas[i];
		int r;

		if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_FILE_PRIVATE &&
		    v->kind != VMA_KIND__VMA_SHMEM_PRIVATE && v->kind != VMA_KIND__VMA_AIO_RING)
			continue;
		t->stats.pages_scanned += (v->end - v->start) / PAGE;
		if (cow_begin(&x, v))
			goto out;
		r = scan ? scan_vma(&x, pm_fd, v, t->track_st ? t->track_st[i] : TRACK_NONE) :
			   scan_vma_pagemap(&x, pm_fd, v, &z);
		if (r)
			goto out;
	}
	log_left(&x);
	if (flush_chunk(&x) || dump_aio_recheck(t))
		goto out;
	manifest_track_written(x.track, x.file_off);
	manifest_track_end(x.track, !t->rd);
	x.track = NULL;
	if (put_rseq_back(&x, t))
		goto out;
	t->stats.pages_skipped = t->stats.pages_scanned - t->stats.pages_written;
	if (dump_fault(t->o, "after-pages"))
		goto out;
	if (img_commit(x.pagemap)) {
		x.pagemap = NULL;
		goto out;
	}
	x.pagemap = NULL;
	if (t->rd)
		page_read_hold(t, pages);
	ret = t->rd ? 0 : img_commit(pages);
	pages = NULL;
out:
	manifest_track_end(x.track, false);
	if (x.pagemap)
		img_abort(x.pagemap);
	if (pages)
		img_abort(pages);
	if (x.pipe[0] >= 0) {
		close(x.pipe[0]);
		close(x.pipe[1]);
	}
	if (x.mem_fd >= 0)
		close(x.mem_fd);
	if (x.parent_pm >= 0)
		close(x.parent_pm);
	close(pm_fd);
	return ret;
}
