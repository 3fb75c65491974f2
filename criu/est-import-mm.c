/*
 * Established mm-PID.img, pagemap-PID.img, pages-N.img -> ours (plan §2.5,
 * §2.8, §3.5): vma status bits become our kinds, the one [vvar] entry is
 * split as this kernel lays it out, the auxv gets its AT_NULL back, and
 * the page runs keep their place in pages-N.img (our pages-PID.img links
 * to it) but for those the restore does not take (data inside vdso/vvar).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "log.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "est/pagemap.pb-c.h"
#include "pagemap-flags.h"

#define PAGE		4096ULL
#define TASK_SIZE	0x7ffffffff000ULL
#define MAX_VMAS	65536
#define MAX_AUXV	126	/* words; ours takes 128 with the AT_NULL pair */

int imp_mm_read(struct imp *im, struct imp_proc *p)
{
	char name[64];

	snprintf(name, sizeof(name), "mm-%u.img", p->ps->pid);
	p->mm = (Est__MmEntry *)imp_read_one(im, name);
	return p->mm ? 0 : -1;
}

/* Sizes of this kernel's [vvar] and [vvar_vclock] (0 when absent). */
static void vvar_here(uint64_t *vvar, uint64_t *vclock)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	*vvar = *vclock = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx", &s, &e) != 2)
			continue;
		if (strstr(line, "[vvar]"))
			*vvar = e - s;
		else if (strstr(line, "[vvar_vclock]"))
			*vclock = e - s;
	}
	if (f)
		fclose(f);
}

struct mm_out {
	MmEntry mm;
	VmaEntry *v, **vp;
	size_t nr;
	uint64_t *auxv;
};

static VmaEntry *new_vma(struct mm_out *o, const Est__VmaEntry *e, VmaKind kind)
{
	VmaEntry *v = &o->v[o->nr];

	vma_entry__init(v);
	v->start = e->start;
	v->end = e->end;
	v->pgoff = e->pgoff;
	v->prot = e->prot;
	v->flags = e->flags;
	v->kind = kind;
	if (kind != VMA_KIND__VMA_ANON_PRIVATE)
		v->flags &= ~(uint32_t)MAP_ANONYMOUS;	/* as our dump writes them */
	if (e->has_madv) {
		v->has_madv = true;
		v->madv = e->madv;
	}
	o->vp[o->nr++] = v;
	return v;
}

/*
 * The format has no maximum protection ("mr mw me"): a mapping gets what
 * its file's open mode (fdflags) and mount allow, as the established
 * restore maps it. Ours: that mask, never less than prot.
 */
static void set_max_prot(VmaEntry *v, uint32_t extra)
{
	v->has_max_prot = true;
	v->max_prot = PROT_READ | extra | v->prot;
}

static bool fd_writable(const Est__VmaEntry *e)
{
	return e->has_fdflags && (e->fdflags & O_ACCMODE) != O_RDONLY;
}

/* Files on a noexec mount may not be mapped executable ("me"); unknown: they may. */
static bool may_exec(const char *path)
{
	struct statvfs sv;

	return !path || statvfs(path, &sv) || !(sv.f_flag & ST_NOEXEC);
}

/* An AIO ring: the format names it in mm's aios by its address (the context id). */
static int convert_aio(const Est__MmEntry *m, struct mm_out *o, const Est__VmaEntry *e,
		       const char *img)
{
	VmaEntry *v;
	size_t i;

	for (i = 0; i < m->n_aios; i++)
		if (m->aios[i]->id == e->start)
			break;
	if (i == m->n_aios || m->aios[i]->ring_len != e->end - e->start ||
	    (e->status & ~(ST_REGULAR | ST_AIORING | ST_ANON_PRIVATE | ST_ANON_SHARED))) {
		pr_err("%s: AIO ring vma [%#llx, %#llx) (status %#x) has no aios entry of its size",
		       img, (unsigned long long)e->start, (unsigned long long)e->end, e->status);
		return -1;
	}
	v = new_vma(o, e, VMA_KIND__VMA_AIO_RING);
	v->flags = MAP_SHARED;
	v->prot = e->prot;
	v->has_aio_nr_req = true;
	v->aio_nr_req = m->aios[i]->nr_req;
	return 0;
}

/* A packet socket's rings, mapped whole: the socket in shmid. */
static int convert_socket(struct imp *im, struct mm_out *o, const Est__VmaEntry *e,
			  const char *img)
{
	const Est__FileEntry *f = e->shmid <= UINT32_MAX ? imp_obj(im, (uint32_t)e->shmid) : NULL;
	VmaEntry *v;

	if (!f || !f->psk || (!f->psk->rx_ring && !f->psk->tx_ring) || !(e->flags & MAP_SHARED) ||
	    (e->status & ~(ST_REGULAR | ST_SOCKET | ST_FILE_SHARED)) || e->pgoff) {
		pr_err("%s: vma [%#llx, %#llx) (status %#x) maps socket %llu, which is no packet "
		       "socket with a ring", img, (unsigned long long)e->start,
		       (unsigned long long)e->end, e->status, (unsigned long long)e->shmid);
		return -1;
	}
	v = new_vma(o, e, VMA_KIND__VMA_PACKET_RING);
	v->has_file_id = true;
	v->file_id = (uint32_t)e->shmid;
	set_max_prot(v, PROT_WRITE);
	return 0;
}

static int convert_vma(struct imp *im, struct mm_out *o, const Est__MmEntry *m,
		       const Est__VmaEntry *e, const char *img)
{
	uint32_t st = e->status;
	uint64_t vvar, vclock;
	VmaEntry *v;

	if (st & ST_AIORING)
		return convert_aio(m, o, e, img);
	if ((st & ~ST_KNOWN) || (!(st & ST_REGULAR) && !(st & ST_VSYSCALL)) ||
	    (e->flags & ~(uint32_t)(MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN |
				    MAP_NORESERVE))) {
		pr_err("not supported yet: %s: vma [%#llx, %#llx) with status %#x, flags %#x", img,
		       (unsigned long long)e->start, (unsigned long long)e->end, st, e->flags);
		return -1;
	}
	if ((e->start | e->end) & (PAGE - 1) || e->start >= e->end) {
		pr_err("%s: vma [%#llx, %#llx) is not page aligned", img,
		       (unsigned long long)e->start, (unsigned long long)e->end);
		return -1;
	}
	if (st & ST_SOCKET)
		return convert_socket(im, o, e, img);
	if (st & ST_VSYSCALL) {
		new_vma(o, e, VMA_KIND__VMA_VSYSCALL);
	} else if (st & ST_VDSO) {
		new_vma(o, e, VMA_KIND__VMA_VDSO);
	} else if (st & ST_VVAR) {
		/* one entry for [vvar] and [vvar_vclock]: split as this kernel has them */
		vvar_here(&vvar, &vclock);
		v = new_vma(o, e, VMA_KIND__VMA_VVAR);
		if (vvar && vclock && e->end - e->start == vvar + vclock) {
			v->end = e->start + vvar;
			v = new_vma(o, e, VMA_KIND__VMA_VVAR_VCLOCK);
			v->start = e->start + vvar;
		}
	} else if (st & ST_ANON_SHARED) {
		uint32_t id;

		if (!(e->flags & MAP_SHARED)) {
			pr_err("%s: vma [%#llx, %#llx): shared anonymous memory mapped private", img,
			       (unsigned long long)e->start, (unsigned long long)e->end);
			return -1;
		}
		if (imp_shm_vma(im, false, e->shmid, e->pgoff, e->end - e->start, &id))
			return -1;
		v = new_vma(o, e, VMA_KIND__VMA_ANON_SHARED);
		v->has_shmem_id = true;
		v->shmem_id = id;
		set_max_prot(v, PROT_WRITE | PROT_EXEC);
	} else if (st & ST_MEMFD) {
		const Est__FileEntry *f = e->shmid <= UINT32_MAX ? imp_obj(im, e->shmid) : NULL;
		bool shared = st & ST_FILE_SHARED;
		uint32_t id;

		if (!f || !f->memfd || !(st & (ST_FILE_SHARED | ST_FILE_PRIVATE)) ||
		    !(e->flags & MAP_SHARED) != !shared) {
			pr_err("%s: vma [%#llx, %#llx): no MEMFD file %llu, or status %#x and flags %#x disagree",
			       img, (unsigned long long)e->start, (unsigned long long)e->end,
			       (unsigned long long)e->shmid, st, e->flags);
			return -1;
		}
		if (imp_shm_vma(im, true, f->memfd->inode_id, e->pgoff, e->end - e->start, &id))
			return -1;
		v = new_vma(o, e, shared ? VMA_KIND__VMA_ANON_SHARED : VMA_KIND__VMA_SHMEM_PRIVATE);
		v->has_shmem_id = true;
		v->shmem_id = id;
		/* a shared one may be written if it was mapped from a writable file */
		set_max_prot(v, PROT_EXEC | (!shared || fd_writable(e) ? PROT_WRITE : 0));
	} else if (st & (ST_FILE_PRIVATE | ST_FILE_SHARED)) {
		const Est__FileEntry *f = e->shmid <= UINT32_MAX ? imp_obj(im, e->shmid) : NULL;

		if (!f || !f->reg) {
			pr_err("%s: vma [%#llx, %#llx) maps file %llu, which is no regular file of files.img",
			       img, (unsigned long long)e->start, (unsigned long long)e->end,
			       (unsigned long long)e->shmid);
			return -1;
		}
		v = new_vma(o, e, st & ST_FILE_PRIVATE ? VMA_KIND__VMA_FILE_PRIVATE :
							 VMA_KIND__VMA_FILE_SHARED);
		v->has_file_id = true;
		v->file_id = e->shmid;
		if (e->has_fdflags)
			set_max_prot(v, (may_exec(f->reg->name) ? PROT_EXEC : 0) |
					(st & ST_FILE_PRIVATE || fd_writable(e) ? PROT_WRITE : 0));
	} else if (st & ST_ANON_PRIVATE) {
		v = new_vma(o, e, VMA_KIND__VMA_ANON_PRIVATE);
		if (st & ST_HEAP)
			v->has_heap = v->heap = true;
		if (st & ST_STACK)
			v->has_stack = v->stack = true;
	} else {
		pr_err("not supported yet: %s: vma [%#llx, %#llx) of status %#x", img,
		       (unsigned long long)e->start, (unsigned long long)e->end, st);
		return -1;
	}
	return 0;
}

static int convert_mm(struct imp *im, const Est__MmEntry *e, struct mm_out *o, const char *img)
{
	MmEntry *mm = &o->mm;
	size_t i, n;

	mm_entry__init(mm);
	if (e->n_aios > e->n_vmas) {
		pr_err("%s: %zu AIO rings for %zu vmas", img, e->n_aios, e->n_vmas);
		return -1;
	}
	if (!e->n_vmas || e->n_vmas > MAX_VMAS || e->n_mm_saved_auxv > MAX_AUXV ||
	    e->n_mm_saved_auxv % 2) {
		pr_err("%s: %zu vmas, %zu auxv words", img, e->n_vmas, e->n_mm_saved_auxv);
		return -1;
	}
	o->v = imp_zalloc(2 * e->n_vmas * sizeof(*o->v));
	o->vp = imp_zalloc(2 * e->n_vmas * sizeof(*o->vp));
	o->auxv = imp_zalloc((e->n_mm_saved_auxv + 2) * sizeof(*o->auxv));
	if (!o->v || !o->vp || !o->auxv)
		return -1;
	for (i = 0; i < e->n_vmas; i++)
		if (convert_vma(im, o, e, e->vmas[i], img))
			return -1;
	mm->start_code = e->mm_start_code;
	mm->end_code = e->mm_end_code;
	mm->start_data = e->mm_start_data;
	mm->end_data = e->mm_end_data;
	mm->start_stack = e->mm_start_stack;
	mm->start_brk = e->mm_start_brk;
	mm->brk = e->mm_brk;
	mm->arg_start = e->mm_arg_start;
	mm->arg_end = e->mm_arg_end;
	mm->env_start = e->mm_env_start;
	mm->env_end = e->mm_env_end;
	/* the format may leave out the AT_NULL pair; ours ends with it */
	for (n = 0; n < e->n_mm_saved_auxv && e->mm_saved_auxv[n]; n += 2) {
		o->auxv[n] = e->mm_saved_auxv[n];
		o->auxv[n + 1] = e->mm_saved_auxv[n + 1];
	}
	mm->n_auxv = n + 2;
	mm->auxv = o->auxv;
	mm->has_exe_file_id = true;
	mm->exe_file_id = e->exe_file_id;
	if (!imp_obj(im, e->exe_file_id) || !imp_obj(im, e->exe_file_id)->reg) {
		pr_err("%s: exe file %u is no regular file of files.img", img, e->exe_file_id);
		return -1;
	}
	mm->n_vmas = o->nr;
	mm->vmas = o->vp;
	if (e->has_thp_disabled) {
		mm->has_thp_disabled = true;
		mm->thp_disabled = e->thp_disabled;
	}
	return 0;
}

/* ---- pagemap and pages --------------------------------------------------------- */

struct pm_out {
	const struct mm_out *mm;
	struct imp_proc *p;
	const struct imp_cow *par;	/* the parent's pages, when it has some */
	PagemapEntry *pe;
	size_t nr, cap;
	int src, dst;		/* pages-N.img (theirs), pages-PID.img (ours) */
	char src_name[64];
	uint64_t src_size, src_off;
	size_t vi;		/* vma cursor */
	size_t last_vi;		/* vma of the last run kept */
	uint64_t prev_end;
	const char *img;
	struct pmc_chain *chain;	/* the parent images */
	bool copied;		/* ours is written in run order (an incremental dump) */
	uint64_t dst_size;	/* bytes in ours so far, when copied */
};

static int copy_pages(struct pm_out *o, uint64_t off, uint64_t len)
{
	static uint8_t buf[1 << 16];

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t r = pread(o->src, buf, n, off);

		if (r != (ssize_t)n || write(o->dst, buf, n) != (ssize_t)n) {
			pr_perror("%s: copying page data", o->img);
			return -1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

/* @nr pages at @vaddr: data at @src of the page file (PE_PRESENT) or the parent's (PE_COW). */
static int keep_run(struct pm_out *o, uint64_t vaddr, uint64_t nr, uint64_t src, uint32_t flags)
{
	PagemapEntry *last = o->nr ? &o->pe[o->nr - 1] : NULL;

	/* runs merge within one vma only (ours wants each inside one), and data only in place */
	if (last && o->last_vi == o->vi && last->vaddr + last->nr_pages * PAGE == vaddr &&
	    last->flags == flags && last->nr_pages + nr < (1u << 31) &&
	    (flags != PE_PRESENT || last->off + last->nr_pages * PAGE == src)) {
		last->nr_pages += nr;
		return 0;
	}
	if (o->nr == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		PagemapEntry *n = cap <= (1u << 22) ? realloc(o->pe, cap * sizeof(*n)) : NULL;

		if (!n) {
			pr_err("%s: too many page runs", o->img);
			return -1;
		}
		o->pe = n;
		o->cap = cap;
	}
	o->last_vi = o->vi;
	last = &o->pe[o->nr++];
	pagemap_entry__init(last);
	last->vaddr = vaddr;
	last->nr_pages = nr;
	last->has_flags = true;
	last->flags = flags;
	if (flags == PE_PRESENT) {	/* where it lies in their page file, ours as it is */
		last->has_off = true;
		last->off = src;
	}
	return 0;
}

/* Pages of a vma inherited from the parent: those that are the parent's become PE_COW. */
static int cow_runs(struct pm_out *o, uint64_t vaddr, uint64_t nr, uint64_t src)
{
	static uint8_t buf[IMP_COW_BATCH * PAGE];
	bool same[IMP_COW_BATCH];

	while (nr) {
		uint64_t n = nr < IMP_COW_BATCH ? nr : IMP_COW_BATCH, i, k;

		if (pread(o->src, buf, n * PAGE, src) != (ssize_t)(n * PAGE)) {
			pr_perror("%s: reading page data", o->img);
			return -1;
		}
		if (imp_cow_same(o->par, vaddr, n, buf, same))
			return -1;
		for (i = 0; i < n; i = k) {
			for (k = i + 1; k < n && same[k] == same[i]; k++)
				;
			if (keep_run(o, vaddr + i * PAGE, k - i, src + i * PAGE,
				     same[i] ? PE_COW : PE_PRESENT))
				return -1;
		}
		vaddr += n * PAGE;
		src += n * PAGE;
		nr -= n;
	}
	return 0;
}

/* One established run: split over our vmas; data in vdso/vvar is dropped. */
static int take_run(struct pm_out *o, uint64_t vaddr, uint64_t nr)
{
	const MmEntry *mm = &o->mm->mm;

	while (nr) {
		const VmaEntry *v;
		uint64_t n;

		while (o->vi < mm->n_vmas && mm->vmas[o->vi]->end <= vaddr)
			o->vi++;
		v = o->vi < mm->n_vmas ? mm->vmas[o->vi] : NULL;
		if (!v || v->start > vaddr) {
			pr_err("%s: pages at %#llx lie outside every vma", o->img,
			       (unsigned long long)vaddr);
			return -1;
		}
		n = (v->end - vaddr) / PAGE;
		if (n > nr)
			n = nr;
		switch (v->kind) {
		case VMA_KIND__VMA_ANON_PRIVATE:
		case VMA_KIND__VMA_FILE_PRIVATE:
			if (o->par && !o->copied && imp_cow_inherited(o->par, v)) {
				if (cow_runs(o, vaddr, n, o->src_off))
					return -1;
				break;
			}
			/* fall through */
		case VMA_KIND__VMA_SHMEM_PRIVATE:
		case VMA_KIND__VMA_AIO_RING:
			if (keep_run(o, vaddr, n, o->src_off, PE_PRESENT))
				return -1;
			break;
		case VMA_KIND__VMA_VDSO:
		case VMA_KIND__VMA_VVAR:
		case VMA_KIND__VMA_VVAR_VCLOCK:
			break;	/* the restoring kernel's own pages are used */
		default:
			pr_err("not supported yet: %s: page data for a shared or special vma at %#llx",
			       o->img, (unsigned long long)vaddr);
			return -1;
		}
		o->src_off += n * PAGE;
		vaddr += n * PAGE;
		nr -= n;
	}
	return 0;
}

/* @len bytes at @off of @fd (a parent's page file) appended to ours. */
static int append_parent(struct pm_out *o, int fd, uint64_t off, uint64_t len)
{
	int src = o->src;
	int r;

	o->src = fd;
	r = copy_pages(o, off, len);
	o->src = src;
	o->dst_size += len;
	return r;
}

/*
 * An incremental dump (it has parent images): our page file is written in
 * run order, a run's data from their page file or from a parent's, so the
 * offsets ascend as ours wants. Each run is kept at its offset in ours.
 */
static int copied_run(struct pm_out *o, uint64_t vaddr, uint64_t nr, int fd, uint64_t off)
{
	uint64_t src_off = o->src_off;
	int r;

	o->src_off = o->dst_size;	/* take_run() keeps the run at this offset of ours */
	r = append_parent(o, fd, off, nr * PAGE) || take_run(o, vaddr, nr) ? -1 : 0;
	o->src_off = src_off;
	return r;
}

/* A run whose data is in the parent images, page by page up the chain. */
static int parent_run(struct pm_out *o, uint64_t vaddr, uint64_t nr)
{
	uint64_t k, run_off = 0, run_n = 0, run_va = vaddr;
	int run_fd = -1;

	for (k = 0; k < nr; k++) {
		uint64_t off;
		int fd;

		if (pmc_page(o->chain, o->p->ps->pid, vaddr + k * PAGE, &fd, &off) < 0)
			return -1;
		if (run_n && (fd != run_fd || off != run_off + run_n * PAGE)) {
			if (copied_run(o, run_va, run_n, run_fd, run_off))
				return -1;
			run_n = 0;
		}
		if (!run_n) {
			run_fd = fd;
			run_off = off;
			run_va = vaddr + k * PAGE;
		}
		run_n++;
	}
	return run_n ? copied_run(o, run_va, run_n, run_fd, run_off) : 0;
}

static int pm_entry(struct imp *im, const struct est_entry *e, void *ctx)
{
	struct pm_out *o = ctx;
	char name[64];
	struct stat st;

	if (e->desc == &est__pagemap_head__descriptor) {
		const Est__PagemapHead *h = (const Est__PagemapHead *)e->msg;

		snprintf(name, sizeof(name), "pages-%u.img", h->pages_id);
		snprintf(o->src_name, sizeof(o->src_name), "%s", name);
		if (imp_mark(im, name)) {
			pr_err("%s: %s is missing or named by another pagemap too", o->img, name);
			return -1;
		}
		o->src = openat(im->in, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (o->src < 0 || fstat(o->src, &st) || !S_ISREG(st.st_mode)) {
			pr_perror("%s: cannot open %s", o->img, name);
			return -1;
		}
		o->src_size = st.st_size;
		return 0;
	} else {
		const Est__PagemapEntry *pe = (const Est__PagemapEntry *)e->msg;
		uint64_t nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint32_t fl = pe->has_flags ? pe->flags :
			      (pe->has_in_parent && pe->in_parent ? EPE_PARENT : EPE_PRESENT);

		bool parent = (fl & EPE_PARENT) || (pe->has_in_parent && pe->in_parent);

		if (parent && (fl != EPE_PARENT || !o->chain->depth)) {
			pr_err("%s: run at %#llx: flags %#x, in the parent images%s", o->img,
			       (unsigned long long)pe->vaddr, fl,
			       o->chain->depth ? "" : ", but the dump has no `parent` link");
			return -1;
		}
		if (!parent && (fl & ~(EPE_LAZY | EPE_PRESENT) || !(fl & EPE_PRESENT))) {
			pr_err("not supported yet: %s: page run flags %#x", o->img, fl);
			return -1;
		}
		if (!nr || pe->vaddr & (PAGE - 1) || pe->vaddr >= TASK_SIZE ||
		    nr > (TASK_SIZE - pe->vaddr) / PAGE || pe->vaddr < o->prev_end ||
		    (!parent && nr * PAGE > o->src_size - o->src_off)) {
			pr_err("%s: run at %#llx of %llu pages: out of order, out of range or beyond %s data",
			       o->img, (unsigned long long)pe->vaddr, (unsigned long long)nr,
			       "the page file's");
			return -1;
		}
		o->prev_end = pe->vaddr + nr * PAGE;
		if (parent)
			return parent_run(o, pe->vaddr, nr);
		if (imp_cow_note(o->p, pe->vaddr, nr, o->src_off))
			return -1;
		if (o->copied) {
			if (copied_run(o, pe->vaddr, nr, o->src, o->src_off))
				return -1;
			o->src_off += nr * PAGE;
			return 0;
		}
		return take_run(o, pe->vaddr, nr);
	}
}

/*
 * Our page file is theirs as it is (the runs say where their data lies in
 * it): a symbolic link to it, no copy; a copy when the images dir has no
 * path to link to.
 */
static int write_pages(struct imp *im, struct pm_out *o, struct cr_img **pages)
{
	char target[PATH_MAX + 64], name[64];
	int r;

	if (im->in_path[0] && !o->copied) {
		snprintf(target, sizeof(target), "%s/%s", im->in_path, o->src_name);
		snprintf(name, sizeof(name), "pages-%u.img", o->p->ps->pid);
		img_abort(*pages);
		*pages = NULL;
		if (symlinkat(target, im->out, name)) {
			pr_perror("cannot link %s to %s", name, target);
			return -1;
		}
		return 0;
	}
	if (!o->copied && copy_pages(o, 0, o->src_size))
		return -1;
	r = img_commit(*pages);
	*pages = NULL;
	return r ? -1 : 0;
}

static int convert_pagemap(struct imp *im, struct imp_proc *p, const struct mm_out *mm)
{
	struct pm_out o = { .mm = mm, .p = p, .par = imp_cow_parent(im, p), .src = -1, .dst = -1,
			    .chain = im->chain, .copied = im->chain->depth > 0 };
	PagemapHead head = PAGEMAP_HEAD__INIT;
	ProtobufCMessage **m = NULL;
	struct cr_img *pages;
	char name[64];
	size_t i;
	int ret = -1;

	snprintf(name, sizeof(name), "pagemap-%u.img", p->ps->pid);
	o.img = name;
	pages = img_create(im->out, IMG_PAGES, p->ps->pid);
	if (!pages)
		return -1;
	o.dst = img_raw_fd(pages);
	if (imp_read_all(im, name, false, pm_entry, &o))
		goto out;
	if (o.src < 0 || o.src_off != o.src_size) {
		pr_err("%s: the page file holds %llu bytes, the runs %llu", name,
		       (unsigned long long)o.src_size, (unsigned long long)o.src_off);
		goto out;
	}
	m = imp_zalloc((o.nr + 1) * sizeof(*m));
	if (!m)
		goto out;
	head.pages_id = p->ps->pid;
	m[0] = &head.base;
	for (i = 0; i < o.nr; i++)
		m[i + 1] = &o.pe[i].base;
	if (imp_write(im, IMG_PAGEMAP, p->ps->pid, m, o.nr + 1) || write_pages(im, &o, &pages))
		goto out;
	ret = 0;
out:
	if (pages)
		img_abort(pages);
	imp_cow_src(p, o.src);	/* the page file, for the children */
	free(o.pe);
	free(m);
	return ret;
}

int imp_mm(struct imp *im, struct imp_proc *p)
{
	struct mm_out o;
	ProtobufCMessage *m = &o.mm.base;
	char name[64];
	int ret = -1;

	memset(&o, 0, sizeof(o));
	snprintf(name, sizeof(name), "mm-%u.img", p->ps->pid);
	if (imp_cow_begin(im, p) || convert_mm(im, p->mm, &o, name) ||
	    imp_write(im, IMG_MM, p->ps->pid, &m, 1))
		goto out;
	ret = convert_pagemap(im, p, &o);
	if (!ret) {	/* its vmas, for its children */
		MmEntry *keep = p->cow ? malloc(sizeof(*keep)) : NULL;

		if (keep) {
			*keep = o.mm;
			if (imp_cow_keep(p, keep, o.v, o.vp, o.auxv))
				return 0;
			free(keep);
		}
	}
out:
	free(o.v);
	free(o.vp);
	free(o.auxv);
	return ret;
}
