/*
 * Our mm-PID.img, pagemap-PID.img, pages-PID.img -> established mm-PID.img,
 * pagemap-PID.img, pages-N.img (plan §2.5, §2.8, §3.5): vma kinds become
 * status bits, [vvar] and [vvar_vclock] one entry, the auxv loses its
 * AT_NULL pair (at most 44 words), page runs get the format's flag bits
 * and field numbers, pages-N is numbered by a dump-wide counter from 1,
 * and pages shared copy-on-write with the parent get the parent's data.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-export: "
#include "est-export.h"
#include "est-export-int.h"
#include "log.h"
#include "vma.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pagemap-flags.h"
#include "est/mm.pb-c.h"
#include "est/pagemap.pb-c.h"
#include "manifest.h"

#define PAGE		4096ULL
#define EST_AUXV_MAX	44	/* words the reference's x86 restore takes */

/* the mmap flags a vma of the format carries */
#define EST_VMA_FLAGS	(MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_NORESERVE)

/*
 * Our vma fields the format lacks, which a restore needs: refused when set
 * (with extensions: kept in xt-mm-PID.img, left out of the established one).
 */
static int check_vma(const VmaEntry *v, const char *img)
{
	if ((v->has_locked && v->locked) || (v->has_sealed_shared && v->sealed_shared) ||
	    (v->flags & ~EST_VMA_FLAGS)) {
		if (exp_cannot(img, "vma [%#llx, %#llx) is mlock'ed, sealed or has flags %#x",
			       (unsigned long long)v->start, (unsigned long long)v->end, v->flags))
			return -1;
	}
	if (v->has_guard_vma && v->guard_vma &&
	    exp_cannot(img, "vma [%#llx, %#llx) has guard regions (MADV_GUARD_INSTALL, %zu now)",
		       (unsigned long long)v->start, (unsigned long long)v->end, v->n_guards / 2))
		return -1;
	return 0;
}

static int conv_vma(struct exp *ex, Est__VmaEntry *e, const VmaEntry *v, const char *img)
{
	est__vma_entry__init(e);
	e->start = v->start;
	e->end = v->end;
	e->pgoff = v->pgoff;
	e->prot = v->prot;
	e->flags = v->flags & EST_VMA_FLAGS;
	e->fd = -1;
	if (v->has_madv && v->madv) {
		e->has_madv = true;
		e->madv = v->madv;
	}
	switch (v->kind) {
	case VMA_KIND__VMA_ANON_PRIVATE:
		e->status = ST_REGULAR | ST_ANON_PRIVATE | (v->has_heap && v->heap ? ST_HEAP : 0) |
			    (v->has_stack && v->stack ? ST_STACK : 0);
		e->flags |= MAP_ANONYMOUS;
		break;
	case VMA_KIND__VMA_FILE_PRIVATE:
	case VMA_KIND__VMA_FILE_SHARED:
		if (!v->has_file_id) {
			pr_err("%s: a file vma without its file", img);
			return -1;
		}
		e->status = ST_REGULAR | (v->kind == VMA_KIND__VMA_FILE_PRIVATE ? ST_FILE_PRIVATE :
										  ST_FILE_SHARED);
		e->shmid = v->file_id;
		/* the open mode the mapping needs: "mw" of a shared one comes from it */
		e->has_fdflags = true;
		e->fdflags = v->kind == VMA_KIND__VMA_FILE_SHARED && (vma_max_prot(v) & PROT_WRITE) ?
				     O_RDWR : O_RDONLY;
		break;
	case VMA_KIND__VMA_ANON_SHARED:
	case VMA_KIND__VMA_SHMEM_PRIVATE:
		return exp_shm_vma(ex, e, v, img);
	case VMA_KIND__VMA_VDSO:
		e->status = ST_REGULAR | ST_VDSO | ST_ANON_PRIVATE;
		e->flags |= MAP_ANONYMOUS;
		break;
	case VMA_KIND__VMA_VVAR:
	case VMA_KIND__VMA_VVAR_VCLOCK:
		e->status = ST_REGULAR | ST_VVAR | ST_ANON_PRIVATE;
		e->flags |= MAP_ANONYMOUS;
		break;
	case VMA_KIND__VMA_VSYSCALL:
		e->status = ST_VSYSCALL | ST_ANON_PRIVATE;	/* no REGULAR: not restored */
		e->flags |= MAP_ANONYMOUS;
		break;
	case VMA_KIND__VMA_AIO_RING:
		e->status = ST_REGULAR | ST_AIORING;	/* its pages in the pagemap, its id in aios */
		break;
	case VMA_KIND__VMA_PACKET_RING:
		e->status = ST_REGULAR | ST_SOCKET;	/* the packet socket's id in shmid */
		e->shmid = v->file_id;
		break;
	default:
		pr_err("not supported yet: %s: vma [%#llx, %#llx) of kind %d", img,
		       (unsigned long long)v->start, (unsigned long long)v->end, v->kind);
		return -1;
	}
	return 0;
}

struct mm_out {
	Est__MmEntry mm;
	Est__VmaEntry *v, **vp;
	Est__AioRingEntry *aio, **aiop;
	uint64_t auxv[EST_AUXV_MAX];
};

static int conv_mm(struct exp *ex, struct mm_out *o, const MmEntry *m, const TaskCoreEntry *tc,
		   const char *img)
{
	Est__MmEntry *e = &o->mm;
	size_t i, n = 0;

	est__mm_entry__init(e);
	if (m->has_mlockall && m->mlockall && exp_cannot(img, "mlockall()"))
		return -1;
	if (!m->has_exe_file_id) {
		pr_err("%s: no exe file", img);
		return -1;
	}
	e->mm_start_code = m->start_code, e->mm_end_code = m->end_code;
	e->mm_start_data = m->start_data, e->mm_end_data = m->end_data;
	e->mm_start_stack = m->start_stack, e->mm_start_brk = m->start_brk, e->mm_brk = m->brk;
	e->mm_arg_start = m->arg_start, e->mm_arg_end = m->arg_end;
	e->mm_env_start = m->env_start, e->mm_env_end = m->env_end;
	e->exe_file_id = m->exe_file_id;
	/* pairs up to AT_NULL, at most 44 words, as the reference stores them */
	for (i = 0; i + 1 < m->n_auxv && m->auxv[i] && n + 2 <= EST_AUXV_MAX; i += 2) {
		o->auxv[n++] = m->auxv[i];
		o->auxv[n++] = m->auxv[i + 1];
	}
	e->n_mm_saved_auxv = n;
	e->mm_saved_auxv = o->auxv;
	if (tc->has_dumpable) {
		e->has_dumpable = true;
		e->dumpable = tc->dumpable;
	}
	if (m->has_thp_disabled) {
		e->has_thp_disabled = true;
		e->thp_disabled = !!m->thp_disabled;
	}
	o->v = exp_zalloc(m->n_vmas * sizeof(*o->v));
	o->vp = exp_zalloc(m->n_vmas * sizeof(*o->vp));
	o->aio = exp_zalloc(m->n_vmas * sizeof(*o->aio));
	o->aiop = exp_zalloc(m->n_vmas * sizeof(*o->aiop));
	if (!o->v || !o->vp || !o->aio || !o->aiop)
		return -1;
	e->aios = o->aiop;
	for (i = 0; i < m->n_vmas; i++) {
		const VmaEntry *v = m->vmas[i];
		Est__VmaEntry *last = e->n_vmas ? o->vp[e->n_vmas - 1] : NULL;

		if (check_vma(v, img))
			return -1;
		/* [vvar_vclock] right after [vvar]: one entry in the format */
		if (v->kind == VMA_KIND__VMA_VVAR_VCLOCK && last && (last->status & ST_VVAR) &&
		    last->end == v->start) {
			last->end = v->end;
			continue;
		}
		if (conv_vma(ex, &o->v[e->n_vmas], v, img))
			return -1;
		if (v->kind == VMA_KIND__VMA_AIO_RING) {
			/* the context id is the ring's address */
			Est__AioRingEntry *a = o->aiop[e->n_aios] = &o->aio[e->n_aios];

			est__aio_ring_entry__init(a);
			a->id = v->start;
			a->nr_req = v->aio_nr_req;
			a->ring_len = (uint32_t)(v->end - v->start);
			e->n_aios++;
		}
		o->vp[e->n_vmas] = &o->v[e->n_vmas];
		e->n_vmas++;
	}
	e->vmas = o->vp;
	return 0;
}

/* ---- pagemap and pages ------------------------------------------------------------ */

struct exp_run {
	uint64_t vaddr, nr, off;	/* off: in our page file (PRESENT runs) */
	uint32_t flags;
};

struct exp_pages {
	struct exp_run *r;
	size_t nr;
	int fd;				/* our pages-ID.img */
	char name[64];			/* its name */
	bool cow;			/* some runs are PE_COW */
	bool sparse;			/* runs at offsets of their own (an import's) */
};

void exp_mm_release(struct exp_proc *p)
{
	if (!p->pages)
		return;
	if (p->pages->fd >= 0)
		close(p->pages->fd);
	free(p->pages->r);
	free(p->pages);
	p->pages = NULL;
}

static const struct exp_proc *parent_of(const struct exp *ex, const struct exp_proc *p)
{
	size_t i;

	for (i = 0; i < ex->nr_procs && &ex->procs[i] != p; i++)
		if (ex->procs[i].ps->pid == p->ps->ppid)
			return &ex->procs[i];
	return NULL;
}

/*
 * Where the content of page @addr of @p is stored: 1 with *fd, *off; 0 when
 * no process of the chain stored it (then it is what an uncovered page is,
 * zero or the file's, in the parent as in the child); -1 on error.
 */
static int find_page(const struct exp *ex, const struct exp_proc *p, uint64_t addr, int *fd,
		     uint64_t *off, const char *img)
{
	unsigned int depth;

	for (depth = 0; depth < 4096; depth++) {
		const struct exp_pages *pg = p->pages;
		size_t lo = 0, hi = pg ? pg->nr : 0;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (pg->r[mid].vaddr + pg->r[mid].nr * PAGE <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == (pg ? pg->nr : 0) || pg->r[lo].vaddr > addr)
			return 0;
		if (pg->r[lo].flags & PE_PARENT) {
			pr_err("%s: page %#llx is shared with a parent process that left it to the parent images: not supported yet",
			       img, (unsigned long long)addr);
			return -1;
		}
		if (!(pg->r[lo].flags & PE_COW)) {
			*fd = pg->fd;
			*off = pg->r[lo].off + (addr - pg->r[lo].vaddr);
			return 1;
		}
		p = parent_of(ex, p);
		if (!p || !p->pages) {
			pr_err("%s: page %#llx is shared with a parent process that is not in the dump",
			       img, (unsigned long long)addr);
			return -1;
		}
	}
	pr_err("%s: a copy-on-write chain too long", img);
	return -1;
}

/* Our pagemap into p->pages, checked against our page file. */
static int read_pagemap(struct exp *ex, struct exp_proc *p, const char *img)
{
	ProtobufCMessage **m = NULL;
	struct exp_pages *pg;
	uint64_t off = 0, prev_end = 0;
	struct stat st;
	char name[64];
	size_t nr = 0, i;
	int ret = -1;

	pg = p->pages = exp_zalloc(sizeof(*pg));
	if (!pg)
		return -1;
	pg->fd = -1;
	if (img_read_all(ex->in, IMG_PAGEMAP, p->ps->pid, 0, NULL, NULL, &m, &nr))
		return -1;
	exp_used(ex, img);
	pg->r = exp_zalloc(nr * sizeof(*pg->r));
	if (!nr || !pg->r)
		goto out;
	for (i = 1; i < nr; i++) {
		const PagemapEntry *e = (const PagemapEntry *)m[i];
		uint32_t fl = e->has_flags ? e->flags : PE_PRESENT;
		struct exp_run *r = &pg->r[pg->nr++];

		if (!(fl & (PE_PRESENT | PE_COW | PE_PARENT)) ||
		    fl & ~(PE_PRESENT | PE_LAZY | PE_COW | PE_PARENT) ||
		    (fl & PE_COW && fl != PE_COW) || (fl & PE_PARENT && fl != PE_PARENT)) {
			pr_err("not supported yet: %s: page run flags %#x", img, fl);
			goto out;
		}
		if (!e->nr_pages || e->vaddr & (PAGE - 1) || e->vaddr < prev_end) {
			pr_err("%s: run at %#llx out of order", img, (unsigned long long)e->vaddr);
			goto out;
		}
		if (e->has_off && !(fl & (PE_COW | PE_PARENT))) {	/* an imported page file: in place */
			if (e->off & (PAGE - 1) || e->off < off) {
				pr_err("%s: run at %#llx: data offset %#llx out of order", img,
				       (unsigned long long)e->vaddr, (unsigned long long)e->off);
				goto out;
			}
			off = e->off;
			pg->sparse = true;
		}
		r->vaddr = e->vaddr;
		r->nr = e->nr_pages;
		r->flags = fl;
		r->off = off;
		if (fl & PE_COW)
			pg->cow = true;
		else if (!(fl & PE_PARENT))
			off += r->nr * PAGE;
		prev_end = r->vaddr + r->nr * PAGE;
	}
	snprintf(name, sizeof(name), "pages-%u.img", ((PagemapHead *)m[0])->pages_id);
	snprintf(pg->name, sizeof(pg->name), "%s", name);
	pg->fd = openat(ex->in, name, O_RDONLY | O_CLOEXEC);	/* the import may link it */
	if (pg->fd < 0 || fstat(pg->fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < off ||
	    (!pg->sparse && (uint64_t)st.st_size != off)) {
		pr_err("%s: %s is missing or does not hold the %llu bytes of the runs", img, name,
		       (unsigned long long)off);
		goto out;
	}
	exp_used(ex, name);
	ret = 0;
out:
	img_free_all(m, nr);
	return ret;
}

struct pm_out {
	struct exp_img w;
	Est__PagemapEntry pe;	/* the run being gathered */
	int dst;		/* -1: the page file was moved, runs only */
	const char *img;
	uint64_t vdso, vdso_end;	/* the [vdso] to store, or 0 */
	const uint8_t *vdso_data;
};

static void flush_run(struct pm_out *o)
{
	if (o->pe.compat_nr_pages)
		exp_img_add(&o->w, &o->pe.base, NULL, 0);
	o->pe.compat_nr_pages = 0;
}

/*
 * @n pages at @vaddr whose data is at @off of @fd (or at @mem) go to
 * pages-N.img and the pagemap.
 */
static int add_data(struct pm_out *o, uint64_t vaddr, uint64_t n, uint32_t flags, int fd,
		    uint64_t off, const uint8_t *mem)
{
	static uint8_t buf[1 << 16];
	uint64_t left = n * PAGE;

	while (left && o->dst >= 0) {
		size_t k = left < sizeof(buf) ? left : sizeof(buf);

		if (mem)
			memcpy(buf, mem + (n * PAGE - left), k);
		else if (pread(fd, buf, k, off) != (ssize_t)k)
			k = 0;
		if (!k || write(o->dst, buf, k) != (ssize_t)k) {
			pr_perror("%s: copying page data", o->img);
			return -1;
		}
		off += k;
		left -= k;
	}
	if (o->pe.compat_nr_pages && o->pe.flags == flags &&
	    o->pe.vaddr + o->pe.compat_nr_pages * PAGE == vaddr && o->pe.compat_nr_pages + n < (1u << 31)) {
		o->pe.compat_nr_pages += n;
		return 0;
	}
	flush_run(o);
	est__pagemap_entry__init(&o->pe);
	o->pe.vaddr = vaddr;
	o->pe.compat_nr_pages = n;
	o->pe.has_flags = true;
	o->pe.flags = flags;
	return 0;
}

static int add_pages(struct pm_out *o, uint64_t vaddr, uint64_t n, uint32_t flags, int fd,
		     uint64_t off)
{
	return add_data(o, vaddr, n, flags, fd, off, NULL);
}

/*
 * The established restore reads the dumped [vdso] from the page data (it
 * proxies calls from it to the new one); ours never stores it. Every
 * process on one kernel maps the same vdso, so criu's own is the one the
 * tree had: stored when its size is the vma's.
 */
static int vdso_self(uint64_t *start, uint64_t *end)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int ret = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") &&
		    sscanf(line, "%" SCNx64 "-%" SCNx64, start, end) == 2) {
			ret = 0;
			break;
		}
	if (f)
		fclose(f);
	return ret;
}

static void find_vdso(struct pm_out *o, const MmEntry *m)
{
	uint64_t s, e;
	size_t i;

	for (i = 0; i < m->n_vmas; i++) {
		const VmaEntry *v = m->vmas[i];

		if (v->kind != VMA_KIND__VMA_VDSO)
			continue;
		if (vdso_self(&s, &e) || e - s != v->end - v->start) {
			pr_warn("%s: the vdso is not this kernel's: its pages are not stored",
				o->img);
			return;
		}
		o->vdso = v->start;
		o->vdso_end = v->end;
		o->vdso_data = (const uint8_t *)(uintptr_t)s;
	}
}

/* In the pagemap, and in a copied page file (a moved one has it already). */
static int add_vdso(struct pm_out *o)
{
	uint64_t n = (o->vdso_end - o->vdso) / PAGE;
	int ret = add_data(o, o->vdso, n, EPE_PRESENT, -1, 0, o->vdso_data);

	o->vdso = 0;
	return ret;
}

/*
 * PE_COW runs (pages shared with the parent since fork(), no data of their
 * own) have no counterpart in the format: each such page is stored in the
 * child too, with the data of the process that holds it (plan §3.6). The
 * content is the same; the restored pages are no longer shared.
 */
static int write_runs(struct exp *ex, struct exp_proc *p, struct pm_out *o)
{
	const struct exp_pages *pg = p->pages;
	size_t i;

	for (i = 0; i < pg->nr; i++) {
		const struct exp_run *r = &pg->r[i];
		uint64_t k;

		if (o->vdso && o->vdso < r->vaddr && add_vdso(o))
			return -1;
		if (r->flags & PE_PARENT) {	/* in the parent images: no data here */
			flush_run(o);
			est__pagemap_entry__init(&o->pe);
			o->pe.vaddr = r->vaddr;
			o->pe.compat_nr_pages = r->nr;
			o->pe.has_flags = true;
			o->pe.flags = EPE_PARENT;
			flush_run(o);
			continue;
		}
		if (!(r->flags & PE_COW)) {
			if (add_pages(o, r->vaddr, r->nr, EPE_PRESENT | (r->flags & PE_LAZY ? EPE_LAZY : 0),
				      pg->fd, r->off))
				return -1;
			continue;
		}
		for (k = 0; k < r->nr; k++) {
			uint64_t addr = r->vaddr + k * PAGE, off;
			int fd, f = find_page(ex, p, addr, &fd, &off, o->img);

			if (f < 0 || (f && add_pages(o, addr, 1, EPE_PRESENT, fd, off)))
				return -1;
		}
	}
	if (o->vdso && add_vdso(o))
		return -1;
	flush_run(o);
	return 0;
}

#define VDSO_TAIL_MAX	(64u << 20)	/* bytes after the vdso moved in memory */

/*
 * The vdso's bytes into a moved page file @fd, at the offset of the first
 * run above it: the bytes after it (the stack's, usually) are read, the
 * file cut there, the vdso and they appended. 1: the tail is too large,
 * the page file is to be copied instead (the file is untouched).
 */
static int insert_vdso(const struct pm_out *o, struct exp_pages *pg, int fd)
{
	uint64_t at = 0, size = 0, len = o->vdso_end - o->vdso;
	uint8_t *tail = NULL;
	size_t i;
	int ret = -1;

	for (i = 0; i < pg->nr && pg->r[i].vaddr < o->vdso; i++)
		if (!(pg->r[i].flags & PE_PARENT))	/* parent runs have no data here */
			at = pg->r[i].off + pg->r[i].nr * PAGE;
	for (i = 0; i < pg->nr; i++)
		if (!(pg->r[i].flags & PE_PARENT))
			size += pg->r[i].nr * PAGE;
	if (size - at > VDSO_TAIL_MAX)
		return 1;
	tail = malloc(size - at ? size - at : 1);
	if (tail && pread(fd, tail, size - at, at) == (ssize_t)(size - at) && !ftruncate(fd, at) &&
	    pwrite(fd, o->vdso_data, len, at) == (ssize_t)len &&
	    pwrite(fd, tail, size - at, at + len) == (ssize_t)(size - at)) {
		manifest_track_changed(fd, at, UINT64_MAX);	/* its checksum is taken again from here */
		ret = 0;
	} else
		pr_perror("%s: putting the vdso into the page file", o->img);
	/* the runs after it moved: a child's copy-on-write pages are read from here */
	for (i = 0; !ret && i < pg->nr; i++)
		if (pg->r[i].vaddr > o->vdso && !(pg->r[i].flags & (PE_COW | PE_PARENT)))
			pg->r[i].off += len;
	free(tail);
	return ret;
}

/*
 * Our page file becomes the established one by a rename (our input is
 * scratch), with the vdso put in at its place: 0 when done, 1 when it is
 * to be copied instead, -1 on error.
 */
static int move_pages(struct exp *ex, const struct pm_out *o, struct exp_proc *p,
		      const char *name)
{
	int fd, r = 0;

	if (o->vdso) {
		fd = openat(ex->in, p->pages->name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		r = fd < 0 ? -1 : insert_vdso(o, p->pages, fd);
		if (fd < 0)
			pr_perror("cannot open %s", p->pages->name);
		else if (close(fd) && !r)
			r = -1;
		if (r)
			return r;
	}
	if (renameat(ex->in, p->pages->name, ex->out, name)) {
		pr_perror("cannot move %s to %s", p->pages->name, name);
		return -1;
	}
	return 0;
}

/* @m NULL: a pre-dump, no vdso to store */
static int conv_pagemap(struct exp *ex, struct exp_proc *p, const MmEntry *m)
{
	Est__PagemapHead head = EST__PAGEMAP_HEAD__INIT;
	struct pm_out o;
	char img[64], name[64];
	int ret, moved;

	memset(&o, 0, sizeof(o));
	snprintf(img, sizeof(img), "pagemap-%u.img", p->ps->pid);
	o.img = img;
	if (read_pagemap(ex, p, img))
		return -1;
	if (m)
		find_vdso(&o, m);
	snprintf(name, sizeof(name), "pages-%u.img", ++ex->pages_id);
	/*
	 * Without PE_COW runs the data is stored in run order in both formats:
	 * the file itself is the established one (our input is scratch), the
	 * vdso put in at its place.
	 */
	moved = ex->flags & EST_EXPORT_MOVE && !p->pages->cow && !p->pages->sparse ?
		move_pages(ex, &o, p, name) : 1;
	if (moved < 0)
		return -1;
	if (!moved) {
		pr_debug("%s: %s moved to %s", img, p->pages->name, name);
		o.dst = -1;
	} else {
		pr_debug("%s: %s copied to %s (copy-on-write runs, or the vdso below a run)",
			 img, p->pages->name, name);
		o.dst = openat(ex->out, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (o.dst < 0) {
			pr_perror("cannot create %s", name);
			return -1;
		}
	}
	exp_img_open(&o.w, img);
	head.pages_id = ex->pages_id;
	exp_img_add(&o.w, &head.base, NULL, 0);
	ret = write_runs(ex, p, &o);
	if (o.dst >= 0 && close(o.dst) && !ret) {
		pr_perror("cannot write %s", name);
		ret = -1;
	}
	if (ret) {
		free(o.w.buf);
		return -1;
	}
	return exp_img_close(ex, &o.w);
}

int exp_pagemap(struct exp *ex, struct exp_proc *p)
{
	return conv_pagemap(ex, p, NULL);
}

int exp_mm(struct exp *ex, struct exp_proc *p)
{
	struct mm_out o;
	MmEntry *m = NULL;
	struct exp_img w;
	char img[64];
	int ret = -1;

	memset(&o, 0, sizeof(o));
	snprintf(img, sizeof(img), "mm-%u.img", p->ps->pid);
	if (img_read_one(ex->in, IMG_MM, p->ps->pid, (ProtobufCMessage **)&m))
		return -1;
	exp_used(ex, img);
	if (conv_mm(ex, &o, m, p->tc, img))
		goto out;
	exp_img_open(&w, img);
	exp_img_add(&w, &o.mm.base, NULL, 0);
	if (exp_img_close(ex, &w))
		goto out;
	ret = conv_pagemap(ex, p, m);
out:
	free(o.v);
	free(o.vp);
	free(o.aio);
	free(o.aiop);
	img_free_entry(&m->base);
	return ret;
}
