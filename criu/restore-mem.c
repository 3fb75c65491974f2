/*
 * Restore: a process's memory (mirrors dump-mem.c). mm-PID.img and
 * pagemap-PID.img are checked in criu before any process is made; the
 * pages image is opened then. In the task:
 *
 * Every private vma is mapped at a temporary address inside one
 * reservation that is free both in criu's layout and in the target's of
 * every process of the tree, filled from pages-PID.img with preadv(), and
 * moved into place by the restorer once criu's own mappings are gone. The
 * restorer code, its arguments, stacks, the xsave images and signal frames
 * live at the start of the same reservation (struct rst_staging). A child
 * takes over its parent's staged copy of what they share (PE_COW,
 * Documentation/cow.md). This kernel's vdso and vvar are moved where the
 * dumped ones were. Shared vmas are mapped by the restorer from a
 * descriptor (a file, a shared memory object).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "image.h"
#include "kernel-compat.h"
#include "pagemap-flags.h"
#include "arch.h"
#include "restore-task.h"
#include "seccomp-rst.h"
#include "restorer-blob.h"
#include "vma.h"
#include "aio-ring.h"

#define MARGIN		(16ULL << 20)	/* kept free around the reservation */
#define LOW_LIMIT	(1ULL << 32)	/* never stage below 4 GiB */

/* ---- checks of mm-PID.img and pagemap-PID.img (in criu, untrusted) -------- */

static bool page_aligned(uint64_t x)
{
	return !(x & (RST_PAGE - 1));
}

/* What fill_vma_vmflags() of the dump records: bits that make sense together. */
static int check_vma_vmflags(const struct rst_image *ri, size_t i, const VmaEntry *v)
{
	uint32_t type = v->flags & MAP_TYPE;
	bool private = type == MAP_PRIVATE || type == MAP_DROPPABLE;

	if ((type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_DROPPABLE) ||
	    (type == MAP_DROPPABLE && v->kind != VMA_KIND__VMA_ANON_PRIVATE)) {
		pr_err("mm-%d.img: vma %zu has mapping type %#x", ri->pid, i, type);
		return -1;
	}
	if (v->has_max_prot && ((v->max_prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC)) ||
				(v->prot & ~v->max_prot))) {
		pr_err("mm-%d.img: vma %zu has prot %#x beyond its max_prot %#x", ri->pid, i,
		       v->prot, v->max_prot);
		return -1;
	}
	if ((v->lock_on_fault && !v->locked) || (v->has_accounted && !private) ||
	    (v->accounted && (v->flags & MAP_NORESERVE))) {
		pr_err("mm-%d.img: vma %zu has contradictory lock or accounting flags", ri->pid, i);
		return -1;
	}
	if (v->sealed_shared &&
	    (v->kind != VMA_KIND__VMA_ANON_SHARED || (vma_max_prot(v) & PROT_WRITE))) {
		pr_err("mm-%d.img: vma %zu is sealed_shared but no read-only shared memory mapping",
		       ri->pid, i);
		return -1;
	}
	return 0;
}

int rst_mem_check(struct rst_image *ri)
{
	MmEntry *mm = ri->mm;
	uint64_t prev_end = 0;
	size_t i;

	if (mm->n_vmas == 0 || mm->n_vmas > RST_MAX_VMAS) {
		pr_err("mm-%d.img: %zu vmas", ri->pid, mm->n_vmas);
		return -1;
	}
	if (mm->n_auxv % 2 || mm->n_auxv > 128 || (mm->n_auxv && mm->auxv[mm->n_auxv - 2] != 0)) {
		pr_err("mm-%d.img: auxv of %zu words is not key/value pairs ending in AT_NULL",
		       ri->pid, mm->n_auxv);
		return -1;
	}
	for (i = 0; i < mm->n_vmas; i++) {
		VmaEntry *v = mm->vmas[i];

		if (!page_aligned(v->start) || !page_aligned(v->end) || v->start >= v->end ||
		    v->start < prev_end || (v->kind != VMA_KIND__VMA_VSYSCALL && v->end > RST_TASK_SIZE) ||
		    !page_aligned(v->pgoff)) {
			pr_err("mm-%d.img: vma %zu [%#llx, %#llx) is not page aligned, ascending and in user space",
			       ri->pid, i, (unsigned long long)v->start, (unsigned long long)v->end);
			return -1;
		}
		if (v->prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC)) {
			pr_err("mm-%d.img: vma %zu has prot %#x", ri->pid, i, v->prot);
			return -1;
		}
		if (check_vma_vmflags(ri, i, v) || rst_guard_check(ri, i, v))
			return -1;
		prev_end = v->end;
		switch (v->kind) {
		case VMA_KIND__VMA_ANON_PRIVATE:
		case VMA_KIND__VMA_VDSO:
		case VMA_KIND__VMA_VVAR:
		case VMA_KIND__VMA_VVAR_VCLOCK:
		case VMA_KIND__VMA_VSYSCALL:
			break;
		case VMA_KIND__VMA_FILE_PRIVATE:
		case VMA_KIND__VMA_FILE_SHARED:
			if (!v->has_file_id || !rst_reg_file(ri, v->file_id)) {
				pr_err("mm-%d.img: vma %zu names no known file", ri->pid, i);
				return -1;
			}
			if (!S_ISREG(rst_reg_file(ri, v->file_id)->mode) &&
			    !S_ISCHR(rst_reg_file(ri, v->file_id)->mode)) {
				pr_err("mm-%d.img: vma %zu maps %s, not a regular file", ri->pid, i,
				       rst_reg_file(ri, v->file_id)->path);
				return -1;
			}
			break;
		case VMA_KIND__VMA_AIO_RING:
			if (!v->has_aio_nr_req || !v->aio_nr_req || v->aio_nr_req > AIO_MAX_NR_REQ ||
			    v->end - v->start > AIO_RING_MAX_LEN || (v->flags & MAP_TYPE) != MAP_SHARED ||
			    v->has_file_id || v->has_shmem_id) {
				pr_err("mm-%d.img: AIO ring vma %zu: io_setup(%u) for %llu bytes, flags %#x",
				       ri->pid, i, v->aio_nr_req,
				       (unsigned long long)(v->end - v->start), v->flags);
				return -1;
			}
			break;
		case VMA_KIND__VMA_PACKET_RING:
			if (!v->has_file_id || v->has_shmem_id || v->pgoff ||
			    (v->flags & MAP_TYPE) != MAP_SHARED || !fd_rst_find(&ri->fdr, v->file_id) ||
			    fd_rst_find(&ri->fdr, v->file_id)->store != FD_KIND__FD_PACKET_SK) {
				pr_err("mm-%d.img: vma %zu names no packet socket mapped shared from 0",
				       ri->pid, i);
				return -1;
			}
			break;
		case VMA_KIND__VMA_ANON_SHARED:
		case VMA_KIND__VMA_SHMEM_PRIVATE:
			/* the object itself: rst_shmem_check_mm() */
			if (!v->has_shmem_id || v->has_file_id) {
				pr_err("mm-%d.img: vma %zu names no shared memory object", ri->pid, i);
				return -1;
			}
			break;
		default:
			pr_err("mm-%d.img: vma %zu has kind %d, which restore does not support",
			       ri->pid, i, v->kind);
			return -1;
		}
	}
	if (mm->has_mlockall && mm->mlockall && mm->mlockall != MCL_FUTURE &&
	    mm->mlockall != (MCL_FUTURE | MCL_ONFAULT)) {
		pr_err("mm-%d.img: mlockall flags %#x are not MCL_FUTURE [| MCL_ONFAULT]", ri->pid,
		       mm->mlockall);
		return -1;
	}
	if (mm->has_exe_file_id && !rst_reg_file(ri, mm->exe_file_id)) {
		pr_err("mm-%d.img: exe file id %u unknown", ri->pid, mm->exe_file_id);
		return -1;
	}
	return 0;
}

static int add_run(struct rst_pages **v, size_t *nr, size_t *cap, const PagemapEntry *pe,
		   uint64_t off, size_t vma)
{
	if (*nr == *cap) {
		void *p = realloc(*v, (*cap = *cap ? *cap * 2 : 64) * sizeof(**v));

		if (!p) {
			pr_err("out of memory for page runs");
			return -1;
		}
		*v = p;
	}
	(*v)[*nr].vaddr = pe->vaddr;
	(*v)[*nr].nr_pages = pe->nr_pages;
	(*v)[*nr].file_off = off;
	(*v)[*nr].vma = (unsigned int)vma;
	(*nr)++;
	return 0;
}

/*
 * One run of pagemap-PID.img against the ones before it (@prev_end) and
 * the vmas: in order, in range, PRESENT or COW, inside one private vma that
 * could be written. @vi walks the vmas along with the runs.
 */
static int check_run(const struct rst_image *ri, const PagemapEntry *pe, uint64_t prev_end,
		     size_t *vi)
{
	uint64_t end;
	VmaEntry *v;

	if (ri->nr_runs + ri->nr_cow >= RST_MAX_PAGE_RUNS || !pe->nr_pages ||
	    !page_aligned(pe->vaddr) || pe->vaddr >= RST_TASK_SIZE ||
	    pe->nr_pages > (RST_TASK_SIZE - pe->vaddr) / RST_PAGE || pe->vaddr < prev_end ||
	    !pe->has_flags || (pe->flags != PE_PRESENT && pe->flags != PE_COW)) {
		pr_err("pagemap-%d.img: run %zu (vaddr %#llx, %u pages, flags %u) is out of order, out of range or neither PRESENT nor COW",
		       ri->pid, ri->nr_runs, (unsigned long long)pe->vaddr, pe->nr_pages,
		       pe->has_flags ? pe->flags : 0);
		return -1;
	}
	end = pe->vaddr + pe->nr_pages * RST_PAGE;
	while (*vi < ri->mm->n_vmas && ri->mm->vmas[*vi]->end <= pe->vaddr)
		(*vi)++;
	v = *vi < ri->mm->n_vmas ? ri->mm->vmas[*vi] : NULL;
	if (!v || v->start > pe->vaddr || end > v->end || !rst_vma_staged(v)) {
		pr_err("pagemap-%d.img: run at %#llx (%u pages) is not inside one private vma",
		       ri->pid, (unsigned long long)pe->vaddr, pe->nr_pages);
		return -1;
	}
	/* a private page is a copy made by a write: none where no write could ever be */
	if (v->has_max_prot && !(v->max_prot & PROT_WRITE)) {
		pr_err("pagemap-%d.img: run at %#llx lies in vma %zu, which could never be written (max_prot %#x)",
		       ri->pid, (unsigned long long)pe->vaddr, *vi, v->max_prot);
		return -1;
	}
	return 0;
}

/* pages-PID.img, which must hold at least the @need bytes the runs describe */
static int open_pages(struct rst_image *ri, uint64_t need)
{
	struct stat st;

	ri->pages_img = img_open(ri->dirfd, IMG_PAGES, ri->pid);
	if (!ri->pages_img)
		return -1;
	ri->pages_fd = img_raw_fd(ri->pages_img);
	if (fstat(ri->pages_fd, &st)) {
		pr_perror("pages-%d.img: stat", ri->pid);
		return -1;
	}
	/* more is not read: an imported file holds the vdso too (off, below) */
	if ((uint64_t)st.st_size < need) {
		pr_err("pages-%d.img: %lld bytes, but the pagemap describes %llu (truncated or corrupt)",
		       ri->pid, (long long)st.st_size, (unsigned long long)need);
		return -1;
	}
	return 0;
}

/* A PRESENT run: where its data lies in the page file (@off moves on). */
static int add_present(struct rst_image *ri, const PagemapEntry *pe, uint64_t *off,
		       size_t *cap, size_t vi)
{
	if (pe->has_off) {	/* an imported page file: the runs where they lie in it */
		if (!page_aligned(pe->off) || pe->off < *off ||
		    pe->off > UINT64_MAX - pe->nr_pages * RST_PAGE) {
			pr_err("pagemap-%d.img: run at %#llx: data offset %#llx out of order",
			       ri->pid, (unsigned long long)pe->vaddr, (unsigned long long)pe->off);
			return -1;
		}
		*off = pe->off;
	}
	if (add_run(&ri->runs, &ri->nr_runs, cap, pe, *off, vi))
		return -1;
	*off += pe->nr_pages * RST_PAGE;
	ri->pages_total += pe->nr_pages;
	return 0;
}

int rst_mem_read_pagemap(struct rst_image *ri)
{
	ProtobufCMessage *m;
	struct cr_img *img = rst_img_open_first(ri, IMG_PAGEMAP, "pagemap", "no head", &m);
	size_t cap = 0, cow_cap = 0, vi = 0;
	uint64_t prev_end = 0, off = 0;
	int r;

	if (!img)
		return -1;
	if (((PagemapHead *)m)->pages_id != (uint32_t)ri->pid) {
		pr_err("pagemap-%d.img: pages_id %u is not the pid", ri->pid,
		       ((PagemapHead *)m)->pages_id);
		img_free_entry(m);
		img_close(img);
		return -1;
	}
	img_free_entry(m);
	ri->pages_total = 0;
	while ((r = img_read_entry(img, &m)) == 1) {
		PagemapEntry *pe = (PagemapEntry *)m;

		if (check_run(ri, pe, prev_end, &vi))
			r = -1;
		else if (pe->flags == PE_COW)
			r = add_run(&ri->cow, &ri->nr_cow, &cow_cap, pe, 0, vi) ? -1 : 1;
		else
			r = add_present(ri, pe, &off, &cap, vi) ? -1 : 1;
		prev_end = pe->vaddr + (uint64_t)pe->nr_pages * RST_PAGE;
		img_free_entry(m);
		if (r < 0)
			break;
	}
	img_close(img);
	if (r < 0)
		return -1;
	return open_pages(ri, off);
}

/* ---- in the task -------------------------------------------------------- */

bool rst_vma_staged(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_FILE_PRIVATE ||
	       v->kind == VMA_KIND__VMA_SHMEM_PRIVATE || v->kind == VMA_KIND__VMA_AIO_RING;
}

/* Mapped by the restorer from a descriptor: shared files, shmem objects, packet rings. */
static bool mapped_from_fd(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_FILE_SHARED || v->kind == VMA_KIND__VMA_ANON_SHARED ||
	       v->kind == VMA_KIND__VMA_PACKET_RING;
}

static bool special(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_VDSO || v->kind == VMA_KIND__VMA_VVAR ||
	       v->kind == VMA_KIND__VMA_VVAR_VCLOCK;
}

int rst_range_cmp(const void *a, const void *b)
{
	const struct rst_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Highest address range of @len bytes, with margins, free in criu's layout
 * (as this task has it: its parent's staging included) and in the target
 * layout of every process of the tree: a child forked after its parent
 * staged could then keep the parent's staged areas where they are.
 */
static uint64_t find_gap(const struct rst_tree *tr, const struct proc_vmas *self, uint64_t len)
{
	size_t n = 0, i, m = 0;
	struct rst_range *r = calloc(self->nr + tr->targets.nr + 1, sizeof(*r));
	uint64_t top = RST_TASK_SIZE - MARGIN, hi;

	if (!r)
		rst_die("out of memory");
	for (i = 0; i < self->nr; i++)
		if (self->v[i].kind != PROC_VMA_VSYSCALL)
			r[n++] = (struct rst_range){ self->v[i].start, self->v[i].end };
	for (i = 0; i < tr->targets.nr; i++)
		r[n++] = (struct rst_range){ tr->targets.r[i][0], tr->targets.r[i][1] };
	qsort(r, n, sizeof(*r), rst_range_cmp);
	for (i = 0; i < n; i++) {		/* merge overlapping and touching ranges */
		if (m && r[i].start <= r[m - 1].end) {
			r[m - 1].end = max(r[m - 1].end, r[i].end);
			continue;
		}
		r[m++] = r[i];
	}
	/* Walk down from the top: the gap below range i is [end_{i-1}, start_i). */
	hi = top;
	for (i = m + 1; i-- > 0;) {
		uint64_t lo = i ? r[i - 1].end : LOW_LIMIT, h = i < m ? min(r[i].start, hi) : hi;

		lo = max(lo, (uint64_t)LOW_LIMIT);
		if (h > lo && h - lo >= len + 2 * MARGIN) {
			free(r);
			return round_down(h - MARGIN - len, RST_PAGE);
		}
		if (i && r[i - 1].end <= LOW_LIMIT)
			break;
	}
	free(r);
	return 0;
}

static void stage_layout(const struct rst_image *ri, struct rst_staging *st, uint64_t specials_len)
{
	uint64_t off = round_up((uint64_t)restorer_blob.mem_size, RST_PAGE), xs_max = 0;
	uint64_t pending = ri->core->n_shared_pending;
	size_t i;

	for (i = 0; i < ri->nr_threads; i++) {
		xs_max = max(xs_max, (uint64_t)arch_rst_fpu_len(ri->threads[i]));
		pending += ri->threads[i]->n_pending;
	}
	st->args_off = off;
	off = round_up(off + sizeof(struct restorer_args), 64);
	st->vmas_off = off;
	off = round_up(off + ri->mm->n_vmas * sizeof(struct rst_vma), 64);
	st->guards_off = off;
	off = round_up(off + rst_guard_count(ri->mm) * sizeof(struct rst_guard), 64);
	st->threads_off = off;
	off = round_up(off + ri->nr_threads * sizeof(struct rst_thread), 64);
	st->per_thread_off = off;
	st->per_thread = round_up(xs_max + 64, 64) + 4096;
	off = round_up(off + ri->nr_threads * st->per_thread, 64);
	st->pending_off = off;
	off = round_up(off + pending * sizeof(struct rst_pending), 64);
	st->seccomp_off = off;
	off = round_up(off + rst_seccomp_len(ri->core), RST_PAGE);
	st->stacks_off = off;
	off += RST_STACK_SIZE + (ri->nr_threads - 1) * (uint64_t)RST_THREAD_STACK_SIZE;
	st->region_len = off;
	st->scratch = off;
	st->scratch_len = specials_len;
	off += specials_len + RST_PAGE;
	st->tmp = calloc(ri->mm->n_vmas + 1, sizeof(*st->tmp));
	if (!st->tmp)
		rst_die("out of memory");
	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];

		if (!rst_vma_staged(v))
			continue;
		st->tmp[i] = off;	/* relative for now */
		off += v->end - v->start + RST_PAGE;	/* a guard page between areas */
	}
	st->len = off;
}

/*
 * Fresh anonymous memory faulted in one page at a time by the copy inside
 * preadv() costs an exception, an allocation and a clear per page; one
 * MADV_POPULATE_WRITE before it does the same for the whole run in one
 * pass. Only for longer runs (a syscall per short one would cost more);
 * where the kernel lacks it, the read faults the pages in as before.
 */
#define PREFAULT_MIN	(16 * RST_PAGE)

static void prefault(const struct iovec *iov)
{
	static bool unknown;	/* EINVAL once: a kernel before 5.14, not asked again */

	if (iov->iov_len >= PREFAULT_MIN && !unknown &&
	    madvise(iov->iov_base, iov->iov_len, MADV_POPULATE_WRITE) && errno == EINVAL)
		unknown = true;
}

static void fill_pages(const struct rst_image *ri, const struct rst_staging *st)
{
	struct iovec iov[IOV_MAX];
	size_t i = 0;

	while (i < ri->nr_runs) {
		uint64_t off = ri->runs[i].file_off, want = 0;
		int n = 0;
		ssize_t got;

		/* one read per stretch of the file (an imported one has gaps) */
		for (; i < ri->nr_runs && n < IOV_MAX && ri->runs[i].file_off == off + want; i++, n++) {
			const struct rst_pages *p = &ri->runs[i];
			const VmaEntry *v = ri->mm->vmas[p->vma];

			iov[n].iov_base = (void *)(unsigned long)(st->tmp[p->vma] + (p->vaddr - v->start));
			iov[n].iov_len = p->nr_pages * RST_PAGE;
			want += iov[n].iov_len;
			prefault(&iov[n]);
		}
		while (want) {
			int k = 0;

			got = preadv(ri->pages_fd, iov, n, (off_t)off);
			if (got <= 0)
				rst_die("pages-%d.img: read at offset %llu: %s", ri->pid,
				    (unsigned long long)off, got ? strerror(errno) : "unexpected end of file");
			off += (uint64_t)got;
			want -= (uint64_t)got;
			/* skip what was read */
			while (k < n && (size_t)got >= iov[k].iov_len)
				got -= (ssize_t)iov[k++].iov_len;
			if (k < n) {
				iov[k].iov_base = (char *)iov[k].iov_base + got;
				iov[k].iov_len -= (size_t)got;
			}
			memmove(iov, iov + k, (size_t)(n - k) * sizeof(*iov));
			n -= k;
		}
	}
}

/*
 * Per-vma advice and anonymous names, set on the staged copy: they live in
 * the vma and move with it. Only advice that is a lasting property of the
 * mapping is replayed; one-shot or destructive advice (DONTNEED, FREE,
 * REMOVE...) never is.
 */
#define STICKY_MADV	((1ULL << MADV_RANDOM) | (1ULL << MADV_SEQUENTIAL) | \
			 (1ULL << MADV_DONTFORK) | (1ULL << MADV_DOFORK) | \
			 (1ULL << MADV_MERGEABLE) | (1ULL << MADV_UNMERGEABLE) | \
			 (1ULL << MADV_HUGEPAGE) | (1ULL << MADV_NOHUGEPAGE) | \
			 (1ULL << MADV_DONTDUMP) | (1ULL << MADV_DODUMP) | \
			 (1ULL << MADV_WIPEONFORK) | (1ULL << MADV_KEEPONFORK))
#ifndef PR_SET_VMA
# define PR_SET_VMA		0x53564d41	/* 5.17 */
# define PR_SET_VMA_ANON_NAME	0
#endif

static void stage_vma_attrs(const struct rst_image *ri, const struct rst_staging *st)
{
	size_t i;
	int adv;

	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		void *at = (void *)(unsigned long)st->tmp[i];
		size_t len = v->end - v->start;

		if (!rst_vma_staged(v))
			continue;
		if (v->has_madv && (v->madv & ~STICKY_MADV))
			rst_warn("vma [%#llx, %#llx): advice bits %#llx are not replayed",
			     (unsigned long long)v->start, (unsigned long long)v->end,
			     (unsigned long long)(v->madv & ~STICKY_MADV));
		for (adv = 0; v->has_madv && adv < 64; adv++)
			if ((v->madv & STICKY_MADV & (1ULL << adv)) && madvise(at, len, adv))
				rst_warn("vma [%#llx, %#llx): madvise %d: %s", (unsigned long long)v->start,
				     (unsigned long long)v->end, adv, strerror(errno));
		if (v->locked && mlock2(at, len, v->lock_on_fault ? MLOCK_ONFAULT : 0))
			rst_die("vma [%#llx, %#llx): mlock: %s", (unsigned long long)v->start,
			    (unsigned long long)v->end, strerror(errno));
		if (v->name && v->kind == VMA_KIND__VMA_ANON_PRIVATE &&
		    prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)at, len, v->name))
			rst_warn("vma [%#llx, %#llx): cannot name it '%.80s': %s", (unsigned long long)v->start,
			     (unsigned long long)v->end, v->name, strerror(errno));
	}
}

/*
 * An inherited vma: take over the parent's staged copy (moved, so the pages
 * stay shared with the parent), then drop every page that is not one of
 * the shared runs: what this process has of its own is read in after, the
 * rest is zero (anonymous) or the file's again (private file mapping).
 */
static void *take_over(const struct rst_image *ri, const struct rst_image *parent, size_t i,
		       uint64_t to, size_t *k)
{
	const VmaEntry *v = ri->mm->vmas[i];
	uint64_t from = parent->staged[ri->inherit[i]], pos = v->start, len = v->end - v->start;
	void *p = mremap((void *)(unsigned long)from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			 (void *)(unsigned long)to);

	if (p == MAP_FAILED)
		rst_die("cannot take over the parent's vma [%#llx, %#llx) staged at %#llx: %s",
		    (unsigned long long)v->start, (unsigned long long)v->end,
		    (unsigned long long)from, strerror(errno));
	/* The runs are in address order: @k walks them once over all vmas. */
	while (*k < ri->nr_cow && ri->cow[*k].vma < i)
		(*k)++;
	for (;; (*k)++) {
		const struct rst_pages *c = *k < ri->nr_cow && ri->cow[*k].vma == i ? &ri->cow[*k] : NULL;
		uint64_t end = c ? c->vaddr : v->end;

		if (end > pos && madvise((char *)p + (pos - v->start), end - pos, MADV_DONTNEED))
			rst_die("madvise DONTNEED in [%#llx, %#llx): %s", (unsigned long long)pos,
			    (unsigned long long)end, strerror(errno));
		if (!c)
			break;
		pos = c->vaddr + c->nr_pages * RST_PAGE;
	}
	return p;
}

/* mmap flags of @v's staged copy: its type (private or droppable), growsdown, noreserve. */
static int stage_flags(const VmaEntry *v)
{
	int type = (v->flags & MAP_TYPE) == MAP_DROPPABLE ? MAP_DROPPABLE : MAP_PRIVATE;

	return type | MAP_FIXED | (int)(v->flags & (MAP_GROWSDOWN | MAP_NORESERVE));
}

/*
 * The staged copy's protection. Writable while pages are read in, or when
 * the vma was charged to the commit limit (VmFlags "ac": it was writable
 * once, mprotect to the final prot keeps the charge). Not otherwise: a big
 * reservation never written (PROT_NONE heaps of a JVM...) must not be
 * charged as writable memory it never was.
 */
static int stage_prot(const VmaEntry *v, bool filled)
{
	if (filled || (v->has_accounted && v->accounted))
		return PROT_READ | PROT_WRITE;
	return (int)v->prot;
}

static void stage_memory(const struct rst_image *ri, const struct rst_image *parent,
			 const struct rst_files *f, struct rst_staging *st)
{
	size_t i, cow_k = 0;	/* cursor over ri->cow for take_over() */

	bool *filled = calloc(ri->mm->n_vmas + 1, sizeof(*filled));

	if (!filled)
		rst_die("out of memory");
	for (i = 0; i < ri->nr_runs; i++)
		filled[ri->runs[i].vma] = true;
	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		int flags = stage_flags(v);
		int prot = stage_prot(v, filled[i]);
		void *p;

		if (!rst_vma_staged(v))
			continue;
		st->tmp[i] += st->start;
		if (v->kind == VMA_KIND__VMA_AIO_RING)
			continue;	/* rst_aio_stage() */
		if (ri->inherit && ri->inherit[i] >= 0) {
			p = take_over(ri, parent, i, st->tmp[i], &cow_k);
			if (mprotect(p, v->end - v->start, prot))
				rst_die("mprotect of the inherited vma [%#llx, %#llx): %s",
				    (unsigned long long)v->start, (unsigned long long)v->end,
				    strerror(errno));
		} else if (v->kind == VMA_KIND__VMA_ANON_PRIVATE) {
			p = mmap((void *)(unsigned long)st->tmp[i], v->end - v->start,
				 prot, flags | MAP_ANONYMOUS, -1, 0);
		} else {
			p = mmap((void *)(unsigned long)st->tmp[i], v->end - v->start,
				 prot, flags, f->vma_fd[i], (off_t)v->pgoff);
		}
		if (p == MAP_FAILED)
			rst_die("cannot stage vma [%#llx, %#llx): %s", (unsigned long long)v->start,
			    (unsigned long long)v->end, strerror(errno));
		if (!ri->inherit || ri->inherit[i] < 0)
			rst_guard_stage(v, p);	/* before its pages */
	}
	free(filled);
	rst_aio_stage(ri, st->tmp);
	fill_pages(ri, st);
	stage_vma_attrs(ri, st);
}

/*
 * Stage the task's private memory in the reservation: where its children
 * find what they share with it (ri->staged). A process sharing its
 * parent's table closes its pages image here: kept for it by its parent,
 * nobody else closes it.
 */
void rst_mem_stage(struct rst_tree *tr, size_t idx, const struct rst_files *f,
		   struct rst_staging *st)
{
	struct rst_image *ri = &tr->ri[idx];

	stage_memory(ri, idx ? &tr->ri[rst_tree_find(tr, (pid_t)ri->pstree->ppid)] : NULL, f, st);
	ri->staged = st->tmp;
	if (tr->sharer[idx] && ri->pages_fd >= 0) {
		close(ri->pages_fd);
		ri->pages_fd = -1;
	}
}

/* ---- vdso and vvar ----------------------------------------------------------- */

const struct proc_vma *rst_self_special(const struct proc_vmas *self, enum proc_vma_kind k)
{
	size_t i;

	for (i = 0; i < self->nr; i++)
		if (self->v[i].kind == k)
			return &self->v[i];
	return NULL;
}

static enum proc_vma_kind proc_kind(int vma_kind)
{
	switch (vma_kind) {
	case VMA_KIND__VMA_VDSO: return PROC_VMA_VDSO;
	case VMA_KIND__VMA_VVAR: return PROC_VMA_VVAR;
	default: return PROC_VMA_VVAR_VCLOCK;
	}
}

/*
 * Plan the moves of this kernel's vdso/vvar: each dumped special vma must
 * have a counterpart here of the same size, and their distances must be the
 * same (the vdso code finds its data relative to itself).
 */
static uint64_t plan_specials(const struct rst_image *ri, const struct proc_vmas *self,
			      struct restorer_args *a, struct rst_range *keep, size_t *nr_keep)
{
	const struct proc_vma *base_here = NULL;
	const VmaEntry *base_there = NULL;
	uint64_t total = 0;
	size_t i, nr_there = 0, nr_here = 0;

	for (i = 0; i < self->nr; i++)
		if (self->v[i].kind == PROC_VMA_VDSO || self->v[i].kind == PROC_VMA_VVAR ||
		    self->v[i].kind == PROC_VMA_VVAR_VCLOCK)
			nr_here++;
	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		const struct proc_vma *h;
		struct rst_special *s;

		if (!special(v))
			continue;
		nr_there++;
		h = rst_self_special(self, proc_kind(v->kind));
		if (!h || h->end - h->start != v->end - v->start)
			rst_die("the dumped %s [%#llx, %#llx) has no counterpart of the same size on this kernel: vdso layouts differ",
			    v->kind == VMA_KIND__VMA_VDSO ? "[vdso]" : v->kind == VMA_KIND__VMA_VVAR ?
			    "[vvar]" : "[vvar_vclock]", (unsigned long long)v->start, (unsigned long long)v->end);
		if (!base_here) {
			base_here = h;
			base_there = v;
		} else if (h->start - base_here->start != v->start - base_there->start) {
			rst_die("the vdso and vvar areas are laid out differently on this kernel");
		}
		if (a->nr_special >= RST_MAX_SPECIAL)
			rst_die("too many vdso/vvar areas");
		s = &a->special[a->nr_special++];
		s->src = h->start;
		s->dst = v->start;
		s->len = v->end - v->start;
		s->scratch = total;	/* relative to the scratch area for now */
		total += s->len;
		keep[(*nr_keep)++] = (struct rst_range){ h->start, h->end };
	}
	if (nr_there && nr_there != nr_here)
		rst_die("the dump has %zu vdso/vvar areas, this kernel %zu: vdso layouts differ",
		    nr_there, nr_here);
	return total;
}

/*
 * Plan the vdso/vvar moves and the layout of the reservation, and reserve
 * it (PROT_NONE): its start, where the restorer region is, or death. The
 * kernel's vdso/vvar go into @keep (criu's memory that stays).
 */
unsigned char *rst_mem_reserve(const struct rst_tree *tr, const struct rst_image *ri,
			       const struct proc_vmas *self, struct restorer_args *a,
			       struct rst_range *keep, size_t *nr_keep, struct rst_staging *st)
{
	uint64_t specials_len, at;
	void *p;

	specials_len = plan_specials(ri, self, a, keep, nr_keep);
	stage_layout(ri, st, specials_len);
	at = find_gap(tr, self, st->len);
	if (!at)
		rst_die("no address range of %llu bytes is free in both criu's and the task's layouts",
			(unsigned long long)st->len);
	p = mmap((void *)(unsigned long)at, st->len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(unsigned long)at)
		rst_die("cannot reserve the staging area at %#llx: %s", (unsigned long long)at,
			strerror(errno));
	st->start = at;
	return p;
}

/* ---- restorer arguments ------------------------------------------------- */

/*
 * The vmas the restorer maps (@a->vmas, in the restorer region): staged
 * ones are moved, shared ones mapped from a descriptor, added to @h (its
 * index there until the fds are final). And where the staging and the
 * scratch area for the vdso moves are.
 */
void rst_mem_fill_vmas(const struct rst_image *ri, const struct rst_staging *st,
		       struct rst_files *f, struct restorer_args *a, struct rst_helpers *h)
{
	struct rst_vma *rv = (struct rst_vma *)(unsigned long)(st->start + st->vmas_off);
	size_t i;

	for (i = 0; i < a->nr_special; i++)
		a->special[i].scratch += st->start + st->scratch;
	a->staging_start = st->start + st->region_len;
	a->staging_len = st->len - st->region_len;
	a->vmas = (uint64_t)(unsigned long)rv;
	rst_guard_fill(ri->mm, (struct rst_guard *)(unsigned long)(st->start + st->guards_off), a);
	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];

		if (!rst_vma_staged(v) && !mapped_from_fd(v))
			continue;
		rv[a->nr_vmas] = (struct rst_vma){
			.start = v->start, .len = v->end - v->start, .tmp = st->tmp[i],
			.pgoff = v->pgoff, .prot = v->prot, .flags = MAP_SHARED, .fd = -1,
			.kind = (uint32_t)v->kind,
		};
		if (mapped_from_fd(v)) {
			if (h->nr >= RST_MAX_FD_VMAS)
				rst_die("more than %d shared mappings (files, shared memory) are not supported yet",
					RST_MAX_FD_VMAS);
			rv[a->nr_vmas].fd = h->nr;	/* index until the fds are final */
			h->fd[h->nr++] = f->vma_fd[i];
			f->vma_fd[i] = -1;
		}
		a->nr_vmas++;
	}
}

/* The mm's fields for PR_SET_MM_MAP, the auxv, mlockall. */
void rst_mem_fill_args(const struct rst_image *ri, struct restorer_args *a)
{
	const MmEntry *mm = ri->mm;
	size_t i;

	a->has_mm_map = 1;
	a->mm.start_code = mm->start_code;
	a->mm.end_code = mm->end_code;
	a->mm.start_data = mm->start_data;
	a->mm.end_data = mm->end_data;
	a->mm.start_brk = mm->start_brk;
	a->mm.brk = mm->brk;
	a->mm.start_stack = mm->start_stack;
	a->mm.arg_start = mm->arg_start;
	a->mm.arg_end = mm->arg_end;
	a->mm.env_start = mm->env_start;
	a->mm.env_end = mm->env_end;
	for (i = 0; i < mm->n_auxv; i++)
		a->auxv[i] = mm->auxv[i];
	a->mm.auxv_size = (uint32_t)(mm->n_auxv * sizeof(uint64_t));
	a->mlockall = mm->has_mlockall ? mm->mlockall : 0;
}
