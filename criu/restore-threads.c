/*
 * Restore: the threads of core-PID.img (mirrors dump-threads.c), checked
 * in criu before any process is made (registers and FPU images by the arch:
 * criu/include/arch.h). What the restorer gets per thread: registers (a
 * syscall that was interrupted set up to restart), the FPU image and signal
 * frame slots, altstack, rseq, robust list, clear-tid address, timer slack,
 * TSC and MCE modes, blocked and pending signals, scheduling
 * (restore-sched.c); for the whole task, the shared pending signals and
 * how the restorer makes the threads with their tids.
 */
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "arch.h"
#include "kerndat.h"
#include "restore-task.h"
#include "sched-state.h"

#ifndef SS_AUTODISARM
# define SS_AUTODISARM	(1U << 31)	/* 4.7 */
#endif

/* ---- checks of the thread entries (in criu, before any process is made) */

/* One queue: the process's or a thread's. */
int rst_check_pending(const struct rst_image *ri, const ProtobufCBinaryData *b, size_t n)
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

	if (t->tid != ri->pstree->threads[k]) {
		pr_err("core-%d.img: thread %zu has tid %u, pstree.img says %u", ri->pid, k, t->tid,
		       ri->pstree->threads[k]);
		return -1;
	}
	/* the leader's is pstree.img's pid, checked there (1: a pid namespace's init) */
	if ((k && t->tid < 2) || !t->tid || t->tid > (1u << 22)) {
		pr_err("core-%d.img: tid %u out of range", ri->pid, t->tid);
		return -1;
	}
	if (t->comm && strnlen(t->comm, 64) >= 64) {
		pr_err("core-%d.img: thread %u: comm too long", ri->pid, t->tid);
		return -1;
	}
	if (arch_rst_check_regs(ri, t))
		return -1;
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
	return rst_check_pending(ri, t->pending, t->n_pending);
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

/* Every thread of the image, and no tid twice. */
int rst_threads_check(const struct rst_image *ri)
{
	size_t i;

	for (i = 0; i < ri->nr_threads; i++)
		if (check_thread(ri, i))
			return -1;
	return check_tids_unique(ri);
}

/* ---- threads --------------------------------------------------------------- */

static void fill_thread(const struct rst_image *ri, const struct rst_staging *st, size_t k,
			struct rst_thread *d)
{
	const ThreadCoreEntry *t = ri->threads[k];
	uint64_t block = st->start + st->per_thread_off + k * st->per_thread;

	d->tid = t->tid;
	if (t->comm)
		strncpy(d->comm, t->comm, sizeof(d->comm) - 1);
	if (t->altstack && !(t->altstack->flags & SS_DISABLE)) {
		d->has_altstack = 1;
		d->altstack_sp = t->altstack->sp;
		d->altstack_size = t->altstack->size;
		d->altstack_flags = t->altstack->flags & SS_AUTODISARM;
	}
	if (t->rseq && t->rseq->ptr) {
		d->has_rseq = 1;
		d->rseq_ptr = t->rseq->ptr;
		d->rseq_len = t->rseq->len;
		d->rseq_sig = t->rseq->sig;
	}
	if (t->has_robust_list) {
		d->has_robust = 1;
		d->robust_list = t->robust_list;
		d->robust_len = t->has_robust_list_len ? t->robust_list_len : 24;
	}
	if (t->has_clear_tid_addr) {
		d->has_tid_addr = 1;
		d->tid_addr = t->clear_tid_addr;
	}
	d->timerslack = t->has_timerslack_ns ? t->timerslack_ns : 0;
	d->tsc = t->has_tsc ? t->tsc : 0;
	d->mce_kill = t->has_mce_kill ? t->mce_kill + 1 : 0;
	arch_rst_fill_thread(t, d, block);
	d->blocked = t->blocked & ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)));
	d->frame = block + st->per_thread - 4096;
	d->stack_top = st->start + st->stacks_off + RST_STACK_SIZE + k * (uint64_t)RST_THREAD_STACK_SIZE;
	rst_fill_thread_sched(t, d);
}

static void add_pending(struct restorer_args *a, const ProtobufCBinaryData *b, size_t n, uint32_t tid)
{
	struct rst_pending *pending = (struct rst_pending *)(unsigned long)a->pending;
	size_t i;

	for (i = 0; i < n; i++) {
		struct rst_pending *p = &pending[a->nr_pending++];
		int32_t signo;

		memcpy(&signo, b[i].data, 4);
		p->signo = (uint32_t)signo;
		p->tid = tid;
		memcpy(p->info, b[i].data, sizeof(p->info));
	}
}

/* Pending signals: the process's (shared) first, then each thread's. */
static void fill_pending(const struct rst_image *ri, const struct rst_staging *st,
			 struct restorer_args *a, struct rst_thread *threads)
{
	const TaskCoreEntry *c = ri->core;
	size_t i;

	a->pending = st->start + st->pending_off;
	add_pending(a, c->shared_pending, c->n_shared_pending, 0);
	a->nr_shared_pending = a->nr_pending;
	for (i = 0; i < ri->nr_threads; i++) {
		threads[i].pending_first = a->nr_pending;
		threads[i].nr_pending = (uint32_t)ri->threads[i]->n_pending;
		add_pending(a, ri->threads[i]->pending, ri->threads[i]->n_pending, ri->threads[i]->tid);
	}
}

/* Every thread into @threads (in the restorer region), and the pending signals. */
void rst_threads_fill_args(const struct rst_image *ri, const struct rst_staging *st,
			   struct restorer_args *a, struct rst_thread *threads)
{
	size_t i;

	fill_pending(ri, st, a, threads);
	a->threads = (uint64_t)(unsigned long)threads;
	a->nr_threads = (uint32_t)ri->nr_threads;
	for (i = 0; i < ri->nr_threads; i++)
		fill_thread(ri, st, i, &threads[i]);
	arch_rst_fill_args(ri, a);
	a->sync_fd[0] = a->sync_fd[1] = -1;
	a->ns_last_pid_fd = -1;
}

/*
 * A task with threads: the restorer makes them with their tids through
 * ns_last_pid (opened here, added to @h at *@ns_slot) unless clone3 takes
 * a tid, and syncs them through a pipe (two fds at *@sync_slot).
 */
void rst_threads_helpers(const struct rst_image *ri, const struct cr_options *o,
			 struct rst_helpers *h, int *ns_slot, int *sync_slot)
{
	int sync[2];

	if (ri->nr_threads <= 1)
		return;
	if (rst_pid_by_clone3(o) != 1) {
		*ns_slot = h->nr;
		h->fd[h->nr] = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
		if (h->fd[h->nr++] < 0)
			rst_die("cannot open ns_last_pid for the threads: %s", strerror(errno));
	}
	if (pipe2(sync, O_CLOEXEC))
		rst_die("pipe: %s", strerror(errno));
	*sync_slot = h->nr;
	h->fd[h->nr++] = sync[0];
	h->fd[h->nr++] = sync[1];
}
