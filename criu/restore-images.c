/*
 * Restore, step 1: read and validate every image of one process (the
 * tree's own images, inventory and pstree, are read by restore-tree.c).
 *
 * Everything here is untrusted input. Each check below rejects with a
 * message naming the image and what is wrong; nothing is created (no
 * process, no mapping) before all of them pass. Images are only ever
 * opened read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/personality.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "personality-known.h"
#include "image.h"
#include "inventory.h"
#include "kernel-compat.h"
#include "kerndat.h"
#include "kernel-compat.h"
#include "restore.h"
#include "vma.h"
#include "sched-state.h"

#define PAGE		4096ULL
#include "pagemap-flags.h"

static bool page_aligned(uint64_t x)
{
	return !(x & (PAGE - 1));
}

RegFileEntry *rst_reg_file(const struct rst_image *ri, uint32_t id)
{
	const struct fd_obj *o = fd_rst_find(&ri->fdr, id);

	return o && o->store == FD_KIND__FD_REG ? (RegFileEntry *)o->e : NULL;
}

int rst_check_file_identity(const RegFileEntry *rf, int fd, bool content_matters)
{
	struct stat st;

	if (fstat(fd, &st)) {
		pr_perror("cannot stat %s", rf->path);
		return -1;
	}
	if ((st.st_mode & S_IFMT) != (rf->mode & S_IFMT)) {
		pr_err("%s: file type changed since the dump (mode %o, was %o)", rf->path,
		       st.st_mode, rf->mode);
		return -1;
	}
	if ((rf->has_dev && (uint64_t)st.st_dev != rf->dev) ||
	    (rf->has_ino && (uint64_t)st.st_ino != rf->ino)) {
		pr_err("%s: not the file of the dump (dev/ino %llx/%llu, was %llx/%llu)", rf->path,
		       (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		       (unsigned long long)rf->dev, (unsigned long long)rf->ino);
		return -1;
	}
	if (S_ISCHR(st.st_mode) && rf->has_rdev && (uint64_t)st.st_rdev != rf->rdev) {
		pr_err("%s: another device than at dump time (rdev %llx, was %llx)", rf->path,
		       (unsigned long long)st.st_rdev, (unsigned long long)rf->rdev);
		return -1;
	}
	if (!content_matters)
		return 0;
	if (rf->has_size && (uint64_t)st.st_size != rf->size) {
		pr_err("%s: size changed since the dump (%lld, was %llu)", rf->path,
		       (long long)st.st_size, (unsigned long long)rf->size);
		return -1;
	}
	if (rf->has_mtime_ns &&
	    (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec != rf->mtime_ns) {
		pr_err("%s: modified since the dump (mtime differs)", rf->path);
		return -1;
	}
	return 0;
}


/* Room for one more thread entry (doubling: reading stays linear). */
static int grow_threads(struct rst_image *ri)
{
	size_t n = ri->nr_threads, cap;
	ThreadCoreEntry **t;

	/* capacity: 8, then the next power of two */
	if (n && (n < 8 || (n & (n - 1))))
		return 0;
	cap = n ? 2 * n : 8;
	t = realloc(ri->threads, cap * sizeof(*t));
	if (!t) {
		pr_err("core-%d.img: out of memory for %zu threads", ri->pid, ri->nr_threads + 1);
		return -1;
	}
	ri->threads = t;
	return 0;
}

static int read_core(struct rst_image *ri)
{
	struct cr_img *img = img_open(ri->dirfd, IMG_CORE, ri->pid);
	ProtobufCMessage *m = NULL;
	int r;

	if (!img)
		return -1;
	r = img_read_entry(img, &m);
	if (r != 1) {
		if (r == 0)
			pr_err("core-%d.img: empty (no task_core_entry)", ri->pid);
		img_close(img);
		return -1;
	}
	ri->core = (TaskCoreEntry *)m;
	while ((r = img_read_entry(img, &m)) == 1) {
		if (ri->nr_threads == RST_MAX_THREADS_IMG) {
			pr_err("core-%d.img: more than %d threads are not supported", ri->pid,
			       RST_MAX_THREADS_IMG);
			img_free_entry(m);
			r = -1;
			break;
		}
		if (grow_threads(ri)) {
			img_free_entry(m);
			r = -1;
			break;
		}
		ri->threads[ri->nr_threads++] = (ThreadCoreEntry *)m;
	}
	img_close(img);
	if (r == 0 && !ri->nr_threads && !ri->zombie) {
		pr_err("core-%d.img: no thread_core_entry", ri->pid);
		r = -1;
	}
	if (r < 0)
		return -1;
	ri->thread = ri->nr_threads ? ri->threads[0] : NULL;
	return 0;
}

/* SECBIT_* and their locks, up to SECBIT_EXEC_DENY_INTERACTIVE_LOCKED (6.14) */
#define SECUREBITS_KNOWN	0xfffu

/* Credentials: of a live task, or the ids a zombie's helper takes. */
static int check_creds(const struct rst_image *ri)
{
	const CredsEntry *cr = ri->core->creds;
	uint64_t known;

	if (!cr)
		return 0;
	kerndat_probe(KD_CAPS);
	known = kdat.cap_last_cap >= 63 ? ~0ULL : (1ULL << (kdat.cap_last_cap + 1)) - 1;
	if (cr->n_uid != 4 || cr->n_gid != 4 || cr->n_groups > RST_MAX_GROUPS_IMG) {
		pr_err("core-%d.img: credentials need 4 uids, 4 gids and at most %d groups",
		       ri->pid, RST_MAX_GROUPS_IMG);
		return -1;
	}
	if ((cr->cap_inh | cr->cap_prm | cr->cap_eff | cr->cap_amb) & ~known) {
		pr_err("core-%d.img: the task had capabilities this kernel does not know (last is %u)",
		       ri->pid, kdat.cap_last_cap);
		return -1;
	}
	if (cr->has_securebits && (cr->securebits & ~SECUREBITS_KNOWN)) {
		pr_err("core-%d.img: securebits %#x unknown", ri->pid, cr->securebits);
		return -1;
	}
	if ((cr->cap_eff & ~cr->cap_prm) || (cr->cap_amb & ~(cr->cap_prm & cr->cap_inh))) {
		pr_err("core-%d.img: effective or ambient capabilities outside the permitted set",
		       ri->pid);
		return -1;
	}
	return 0;
}

/*
 * A zombie: state 2, no threads, and a wait status the kernel can give
 * again: an exit code, or a fatal signal without a core dump.
 */
static int check_zombie(const struct rst_image *ri)
{
	const TaskCoreEntry *c = ri->core;
	uint32_t st = c->has_exit_code ? (uint32_t)c->exit_code : 0;
	unsigned int sig = st & 0x7f;

	if (c->state != 2 || ri->nr_threads) {
		pr_err("core-%d.img: pstree.img lists no threads but the task is not a zombie "
		       "(state %u, %zu threads)", ri->pid, c->state, ri->nr_threads);
		return -1;
	}
	if (strnlen(c->comm, 64) >= 64) {
		pr_err("core-%d.img: comm too long", ri->pid);
		return -1;
	}
	if (!c->has_exit_code || (sig == 0 && st > 0xff00) || (sig && (st & ~0xffu))) {
		pr_err("core-%d.img: zombie exit status %#x is not a wait status", ri->pid, st);
		return -1;
	}
	if (st & 0x80) {
		pr_err("core-%d.img: zombie killed by signal %u with a core dump: "
		       "not supported yet", ri->pid, sig);
		return -1;
	}
	if (sig == 0x7f || sig == SIGCHLD || sig == SIGCONT || sig == SIGURG ||
	    sig == SIGWINCH || sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	    sig == SIGTTOU || sig > 64) {
		pr_err("core-%d.img: zombie 'killed' by signal %u, which does not kill", ri->pid,
		       sig);
		return -1;
	}
	return check_creds(ri);
}

/* One queue: the process's or a thread's. */
static int check_pending(const struct rst_image *ri, const ProtobufCBinaryData *b, size_t n)
{
	size_t i;

	if (n > RST_MAX_PENDING_SIGS) {
		pr_err("core-%d.img: %zu signals pending in one queue, at most %d are supported",
		       ri->pid, n, RST_MAX_PENDING_SIGS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		int32_t signo;

		if (b[i].len != 128) {
			pr_err("core-%d.img: pending siginfo of %zu bytes (want 128)", ri->pid, b[i].len);
			return -1;
		}
		memcpy(&signo, b[i].data, 4);
		if (signo < 1 || signo > 64 || signo == SIGKILL || signo == SIGSTOP) {
			pr_err("core-%d.img: pending signal %d cannot be queued again", ri->pid, signo);
			return -1;
		}
	}
	return 0;
}

static int check_thread(const struct rst_image *ri, size_t k)
{
	const ThreadCoreEntry *t = ri->threads[k];
	const UserRegsX86Entry *rg = t->regs;

	if (t->tid != ri->pstree->threads[k]) {
		pr_err("core-%d.img: thread %zu has tid %u, pstree.img says %u", ri->pid, k, t->tid,
		       ri->pstree->threads[k]);
		return -1;
	}
	if (t->tid < 2 || t->tid > (1u << 22)) {
		pr_err("core-%d.img: tid %u out of range", ri->pid, t->tid);
		return -1;
	}
	if (t->comm && strnlen(t->comm, 64) >= 64) {
		pr_err("core-%d.img: thread %u: comm too long", ri->pid, t->tid);
		return -1;
	}
	/* Only user code and data selectors; anything else would not sigreturn. */
	if (rg->cs != 0x33 || rg->ss != 0x2b) {
		pr_err("core-%d.img: thread %u: unexpected segment selectors cs %#llx ss %#llx", ri->pid,
		       t->tid, (unsigned long long)rg->cs, (unsigned long long)rg->ss);
		return -1;
	}
	if (rg->ip >= RST_TASK_SIZE || rg->fs_base >= RST_TASK_SIZE || rg->gs_base >= RST_TASK_SIZE) {
		pr_err("core-%d.img: thread %u: ip/fs_base/gs_base outside user space", ri->pid, t->tid);
		return -1;
	}
	if (t->xsave.len < 576 || t->xsave.len > RST_MAX_XSAVE || t->xsave.len % 64) {
		pr_err("core-%d.img: thread %u: xsave area of %zu bytes is not plausible", ri->pid,
		       t->tid, t->xsave.len);
		return -1;
	}
	if (t->rseq && t->rseq->ptr && (t->rseq->ptr >= RST_TASK_SIZE || t->rseq->len < 32 ||
					t->rseq->len > 4096 || (t->rseq->ptr & 31))) {
		pr_err("core-%d.img: thread %u: bad rseq registration", ri->pid, t->tid);
		return -1;
	}
	if ((t->has_tsc && t->tsc != 1 && t->tsc != 2) || (t->has_mce_kill && t->mce_kill > 2)) {
		pr_err("core-%d.img: thread %u: TSC mode %u or machine-check policy %u unknown",
		       ri->pid, t->tid, t->tsc, t->mce_kill);
		return -1;
	}
	return check_pending(ri, t->pending, t->n_pending);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* No tid twice (sorted copy: linear-logarithmic for many threads). */
static int check_tids_unique(const struct rst_image *ri)
{
	uint32_t *tids = malloc(ri->nr_threads * sizeof(*tids));
	size_t i;
	int ret = 0;

	if (!tids) {
		pr_err("core-%d.img: out of memory", ri->pid);
		return -1;
	}
	for (i = 0; i < ri->nr_threads; i++)
		tids[i] = ri->threads[i]->tid;
	qsort(tids, ri->nr_threads, sizeof(*tids), u32_cmp);
	for (i = 1; i < ri->nr_threads && !ret; i++)
		if (tids[i] == tids[i - 1]) {
			pr_err("core-%d.img: tid %u appears twice", ri->pid, tids[i]);
			ret = -1;
		}
	free(tids);
	return ret;
}

/* Ids unique and >= 0; a notification the restorer can set up, to a thread of the image. */
static int check_posix_timers(const struct rst_image *ri)
{
	const TaskCoreEntry *c = ri->core;
	size_t i, j;

	if (c->n_posix_timers > RST_MAX_TIMERS_IMG) {
		pr_err("core-%d.img: %zu posix timers, at most %d are supported", ri->pid,
		       c->n_posix_timers, RST_MAX_TIMERS_IMG);
		return -1;
	}
	for (i = 0; i < c->n_posix_timers; i++) {
		const PosixTimerEntry *t = c->posix_timers[i];
		bool tid_ok = false;

		for (j = 0; j < i; j++)
			if (c->posix_timers[j]->id == t->id) {
				pr_err("core-%d.img: posix timer id %d appears twice", ri->pid, t->id);
				return -1;
			}
		for (j = 0; j < ri->pstree->n_threads; j++)
			tid_ok |= t->has_notify_tid && t->notify_tid == ri->pstree->threads[j];
		if (t->id < 0 ||
		    (t->notify != 0 /* SIGNAL */ && t->notify != 1 /* NONE */ && t->notify != 4 /* THREAD_ID */) ||
		    (t->notify != 1 && (t->signo < 1 || t->signo > 64)) || (t->notify == 4 && !tid_ok)) {
			pr_err("core-%d.img: posix timer %d: notification %u (signal %u) that cannot be set up",
			       ri->pid, t->id, t->notify, t->signo);
			return -1;
		}
	}
	return 0;
}

static int check_core(struct rst_image *ri)
{
	TaskCoreEntry *c = ri->core;
	size_t i;
	uint64_t seen = 0;

	if (c->state != 1 && c->state != 3) {
		pr_err("core-%d.img: task state %u (only alive and stopped tasks can be restored)",
		       ri->pid, c->state);
		return -1;
	}
	if (ri->nr_threads != ri->pstree->n_threads) {
		pr_err("core-%d.img: %zu threads, pstree.img lists %zu", ri->pid, ri->nr_threads,
		       ri->pstree->n_threads);
		return -1;
	}
	if (strnlen(c->comm, 64) >= 64) {
		pr_err("core-%d.img: comm too long", ri->pid);
		return -1;
	}
	for (i = 0; i < c->n_sigactions; i++) {
		uint32_t s = c->sigactions[i]->signo;

		if (s < 1 || s > 64 || s == SIGKILL || s == SIGSTOP || (seen & (1ULL << (s - 1)))) {
			pr_err("core-%d.img: bad or repeated sigaction signal %u", ri->pid, s);
			return -1;
		}
		seen |= 1ULL << (s - 1);
	}
	for (i = 0; i < c->n_itimers; i++)
		if (c->itimers[i]->which > 2) {
			pr_err("core-%d.img: bad itimer %u", ri->pid, c->itimers[i]->which);
			return -1;
		}
	for (i = 0; i < c->n_rlimits; i++)
		if (c->rlimits[i]->resource >= 16) {
			pr_err("core-%d.img: bad rlimit resource %u", ri->pid, c->rlimits[i]->resource);
			return -1;
		}
	if (check_posix_timers(ri) || rst_check_sched_image(ri))
		return -1;
	if (c->timens_for_children) {
		const TimensEntry *tn = c->timens_for_children;
		const int64_t max = 9223372036LL;	/* KTIME_SEC_MAX */

		if (tn->monotonic_nsec >= 1000000000u || tn->boottime_nsec >= 1000000000u ||
		    tn->monotonic_sec > max || tn->monotonic_sec < -max ||
		    tn->boottime_sec > max || tn->boottime_sec < -max) {
			pr_err("core-%d.img: time namespace offsets out of range", ri->pid);
			return -1;
		}
	}
	if (c->has_pdeath_sig && c->pdeath_sig > 64) {
		pr_err("core-%d.img: parent death signal %u is no signal", ri->pid, c->pdeath_sig);
		return -1;
	}
	if (c->personality & ~PERSONALITY_KNOWN) {
		pr_err("core-%d.img: personality %#x has bits no personality has", ri->pid,
		       c->personality);
		return -1;
	}
	if (c->has_membarrier && (c->membarrier & ~MEMBARRIER_REGISTRATIONS)) {
		pr_err("core-%d.img: membarrier registrations %#x: not registrations", ri->pid,
		       c->membarrier);
		return -1;
	}
	if (check_pending(ri, c->shared_pending, c->n_shared_pending))
		return -1;
	if (c->has_memory_merge && c->memory_merge > 1) {
		pr_err("core-%d.img: memory merge %u is not 0 or 1", ri->pid, c->memory_merge);
		return -1;
	}
	if (check_creds(ri))
		return -1;
	for (i = 0; i < ri->nr_threads; i++)
		if (check_thread(ri, i))
			return -1;
	return check_tids_unique(ri);
}

static bool staged_kind(int kind)
{
	return kind == VMA_KIND__VMA_ANON_PRIVATE || kind == VMA_KIND__VMA_FILE_PRIVATE ||
	       kind == VMA_KIND__VMA_SHMEM_PRIVATE;
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

static int check_mm(struct rst_image *ri)
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
		if (check_vma_vmflags(ri, i, v))
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

static int read_pagemap(struct rst_image *ri)
{
	struct cr_img *img = img_open(ri->dirfd, IMG_PAGEMAP, ri->pid);
	ProtobufCMessage *m;
	PagemapHead *head;
	size_t cap = 0, cow_cap = 0, vi = 0;
	uint64_t prev_end = 0, off = 0;
	struct stat st;
	int r;

	if (!img)
		return -1;
	r = img_read_entry(img, &m);
	if (r != 1) {
		if (r == 0)
			pr_err("pagemap-%d.img: no head", ri->pid);
		img_close(img);
		return -1;
	}
	head = (PagemapHead *)m;
	if (head->pages_id != (uint32_t)ri->pid) {
		pr_err("pagemap-%d.img: pages_id %u is not the pid", ri->pid, head->pages_id);
		img_free_entry(m);
		img_close(img);
		return -1;
	}
	img_free_entry(m);
	while ((r = img_read_entry(img, &m)) == 1) {
		PagemapEntry *pe = (PagemapEntry *)m;
		uint64_t end;
		VmaEntry *v;

		if (ri->nr_runs + ri->nr_cow >= RST_MAX_PAGE_RUNS || !pe->nr_pages ||
		    !page_aligned(pe->vaddr) || pe->vaddr >= RST_TASK_SIZE ||
		    pe->nr_pages > (RST_TASK_SIZE - pe->vaddr) / PAGE || pe->vaddr < prev_end ||
		    !pe->has_flags || (pe->flags != PE_PRESENT && pe->flags != PE_COW)) {
			pr_err("pagemap-%d.img: run %zu (vaddr %#llx, %u pages, flags %u) is out of order, out of range or neither PRESENT nor COW",
			       ri->pid, ri->nr_runs, (unsigned long long)pe->vaddr, pe->nr_pages,
			       pe->has_flags ? pe->flags : 0);
			img_free_entry(m);
			r = -1;
			break;
		}
		end = pe->vaddr + pe->nr_pages * PAGE;
		while (vi < ri->mm->n_vmas && ri->mm->vmas[vi]->end <= pe->vaddr)
			vi++;
		v = vi < ri->mm->n_vmas ? ri->mm->vmas[vi] : NULL;
		if (!v || v->start > pe->vaddr || end > v->end || !staged_kind(v->kind)) {
			pr_err("pagemap-%d.img: run at %#llx (%u pages) is not inside one private vma",
			       ri->pid, (unsigned long long)pe->vaddr, pe->nr_pages);
			img_free_entry(m);
			r = -1;
			break;
		}
		if (pe->flags == PE_COW) {
			if (add_run(&ri->cow, &ri->nr_cow, &cow_cap, pe, 0, vi)) {
				img_free_entry(m);
				r = -1;
				break;
			}
			prev_end = end;
			img_free_entry(m);
			continue;
		}
		if (pe->has_off) {	/* an imported page file: the runs where they lie in it */
			if (!page_aligned(pe->off) || pe->off < off ||
			    pe->off > UINT64_MAX - pe->nr_pages * PAGE) {
				pr_err("pagemap-%d.img: run at %#llx: data offset %#llx out of order",
				       ri->pid, (unsigned long long)pe->vaddr,
				       (unsigned long long)pe->off);
				img_free_entry(m);
				r = -1;
				break;
			}
			off = pe->off;
		}
		if (add_run(&ri->runs, &ri->nr_runs, &cap, pe, off, vi)) {
			img_free_entry(m);
			r = -1;
			break;
		}
		off += pe->nr_pages * PAGE;
		prev_end = end;
		img_free_entry(m);
	}
	img_close(img);
	if (r < 0)
		return -1;
	ri->pages_total = off / PAGE;

	ri->pages_img = img_open(ri->dirfd, IMG_PAGES, ri->pid);
	if (!ri->pages_img)
		return -1;
	ri->pages_fd = img_raw_fd(ri->pages_img);
	if (fstat(ri->pages_fd, &st)) {
		pr_perror("pages-%d.img: stat", ri->pid);
		return -1;
	}
	/* more is not read: an imported file holds the vdso too (off, above) */
	if ((uint64_t)st.st_size < off) {
		pr_err("pages-%d.img: %lld bytes, but the pagemap describes %llu (truncated or corrupt)",
		       ri->pid, (long long)st.st_size, (unsigned long long)off);
		return -1;
	}
	return 0;
}

struct fds_ctx {
	struct rst_image	*ri;
	uint8_t			*used;	/* bitmap of fd numbers seen */
	char			img[32];
};

#define RST_FD_LIMIT	(1u << 20)

static int check_fd(const ProtobufCMessage *m, void *ctx)
{
	const FdEntry *fe = (const FdEntry *)m;
	struct fds_ctx *c = ctx;

	if (c->ri->nr_fds >= RST_MAX_FDS || fe->fd >= RST_FD_LIMIT ||
	    (c->used[fe->fd / 8] & (1u << (fe->fd % 8)))) {
		pr_err("%s: fd %u is repeated, out of range or one too many (at most %d)",
		       c->img, fe->fd, RST_MAX_FDS);
		return -1;
	}
	c->used[fe->fd / 8] |= (uint8_t)(1u << (fe->fd % 8));
	return fd_rst_check(&c->ri->fdr, fe, c->img);
}

static int read_fds(struct rst_image *ri)
{
	struct fds_ctx c = { .ri = ri, .used = calloc(RST_FD_LIMIT / 8, 1) };
	int ret;

	if (!c.used) {
		pr_err("out of memory");
		return -1;
	}
	snprintf(c.img, sizeof(c.img), "fds-%d.img", ri->pid);
	/* No cap here: check_fd() refuses entry RST_MAX_FDS with its own message. */
	ret = img_read_all(ri->dirfd, IMG_FDS, ri->pid, 0, check_fd, &c,
			   (ProtobufCMessage ***)&ri->fds, &ri->nr_fds);
	free(c.used);
	return ret;
}

/*
 * The images of one process of the tree. @ri has dirfd, inv, pstree and
 * pid (the tree's) set; a pstree entry without threads is a zombie, which
 * has only its core image.
 */
int rst_images_read(struct rst_image *ri)
{
	ProtobufCMessage *m;

	ri->pages_fd = -1;
	ri->zombie = ri->pstree->n_threads == 0;
	if (read_core(ri))
		return -1;
	if (ri->zombie)
		return check_zombie(ri);
	if (check_core(ri))
		return -1;
	/* every process reads the objects: it opens those it is the first to use */
	if (fd_rst_read(&ri->fdr, ri->dirfd))
		return -1;
	if (img_read_one(ri->dirfd, IMG_MM, ri->pid, &m)) {
		pr_err("mm-%d.img must hold exactly one entry", ri->pid);
		return -1;
	}
	ri->mm = (MmEntry *)m;
	if (check_mm(ri) || read_fds(ri) || read_pagemap(ri))
		return -1;
	if ((ri->core->has_cwd_id && !rst_reg_file(ri, ri->core->cwd_id)) ||
	    (ri->core->has_root_id && !rst_reg_file(ri, ri->core->root_id))) {
		pr_err("core-%d.img: cwd or root names an unknown file", ri->pid);
		return -1;
	}
	return 0;
}

/* Frees what rst_images_read() read; inv and pstree belong to the tree. */
void rst_images_free(struct rst_image *ri)
{
	size_t i;

	if (ri->core)
		img_free_entry(&ri->core->base);
	for (i = 0; i < ri->nr_threads; i++)
		img_free_entry(&ri->threads[i]->base);
	free(ri->threads);
	if (ri->mm)
		img_free_entry(&ri->mm->base);
	for (i = 0; i < ri->nr_fds; i++)
		img_free_entry(&ri->fds[i]->base);
	free(ri->fds);
	fd_rst_free(&ri->fdr);
	free(ri->runs);
	free(ri->cow);
	free(ri->inherit);
	if (ri->pages_img)
		img_close(ri->pages_img);
	memset(ri, 0, sizeof(*ri));
	ri->pages_fd = -1;
}
