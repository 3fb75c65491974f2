/*
 * Restore: the threads of core-PID.img (mirrors dump-threads.c), checked
 * in criu before any process is made (their xsave images also against this
 * CPU and what this kernel's signal frames carry). What the restorer gets per thread: registers (a syscall
 * that was interrupted set up to restart), the xsave image and signal
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
#include <ucontext.h>
#include <sys/syscall.h>

#define LOG_PREFIX "restore: "
#include "log.h"
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
	const UserRegsX86Entry *rg = t->regs;

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

/* ---- x86: xsave against this host, registers, syscall restart ------------ */

static volatile uint32_t probe_magic, probe_size;
static volatile uint64_t probe_features;

static void probe_handler(int sig, siginfo_t *si, void *ctx)
{
	const ucontext_t *uc = ctx;
	const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t m, sz;
	uint64_t f;

	(void)sig;
	(void)si;
	if (!fp)
		return;
	memcpy(&m, fp + 464, 4);
	memcpy(&f, fp + 464 + 8, 8);
	memcpy(&sz, fp + 464 + 16, 4);
	probe_magic = m;
	probe_features = f;
	probe_size = sz;
}

/*
 * The xsave size and features the kernel uses in our signal frames: what
 * rt_sigreturn accepts back. It can be smaller than the CPU's full area
 * (AMX tile data is only included once a task asked for permission).
 */
static int probe_sigframe_xstate(struct rst_image *ri)
{
	struct sigaction sa, old;
	sigset_t m, oldm;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	if (sigaction(SIGUSR2, &sa, &old) || sigprocmask(SIG_UNBLOCK, &m, &oldm)) {
		pr_perror("sigaction for the xsave probe");
		return -1;
	}
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	sigprocmask(SIG_SETMASK, &oldm, NULL);
	sigaction(SIGUSR2, &old, NULL);
	if (probe_magic != 0x46505853u || probe_size < 576 || probe_size > ri->thread->xsave.len) {
		pr_err("cannot learn the kernel's signal frame xsave layout (magic %#x, size %u)",
		       probe_magic, probe_size);
		return -1;
	}
	ri->sig_xstate_size = probe_size;
	ri->sig_xfeatures = probe_features;
	pr_info("signal frame xsave: %u bytes, features %#llx", probe_size,
		(unsigned long long)probe_features);
	return 0;
}

/* One thread's xsave image: this CPU's size, enabled components, standard header. */
static int check_xsave_one(const struct rst_image *ri, const ThreadCoreEntry *t, uint64_t *bv_all)
{
	const uint8_t *x = t->xsave.data;
	uint64_t bv, comp;
	uint32_t mxcsr;
	size_t i;

	if (t->xsave.len != kdat.xsave_size) {
		pr_err("core-%d.img: thread %u: xsave area is %zu bytes, this CPU's is %u: extended state layouts differ",
		       ri->pid, t->tid, t->xsave.len, kdat.xsave_size);
		return -1;
	}
	memcpy(&mxcsr, x + 24, 4);
	memcpy(&bv, x + 512, 8);
	memcpy(&comp, x + 520, 8);
	if (mxcsr & 0xffff0000u) {
		pr_err("core-%d.img: thread %u: xsave: reserved MXCSR bits set (%#x)", ri->pid, t->tid,
		       mxcsr);
		return -1;
	}
	if (bv & ~kdat.xfeatures) {
		pr_err("core-%d.img: thread %u: xsave: state components %#llx are not enabled on this CPU (%#llx)",
		       ri->pid, t->tid, (unsigned long long)bv, (unsigned long long)kdat.xfeatures);
		return -1;
	}
	for (i = 528; i < 576; i++)
		if (x[i])
			comp = 1;
	if (comp) {
		pr_err("core-%d.img: thread %u: xsave header is compacted or has reserved bytes set",
		       ri->pid, t->tid);
		return -1;
	}
	*bv_all |= bv;
	return 0;
}

/*
 * Every thread's xsave image against this CPU and what this kernel's
 * signal frames carry (sets ri->sig_xstate_size and sig_xfeatures).
 */
int rst_threads_check_xsave(struct rst_image *ri)
{
	uint64_t bv = 0;
	size_t i;

	kerndat_probe(KD_XSAVE);
	if (!kdat.has_xsave) {
		pr_err("this CPU has no xsave: cannot restore the extended register state");
		return -1;
	}
	for (i = 0; i < ri->nr_threads; i++)
		if (check_xsave_one(ri, ri->threads[i], &bv))
			return -1;
	/* AMX tile data is there only if the task had asked for it: ask too. */
	if ((bv & (1ULL << 18)) && syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18)) {
		pr_perror("the task used AMX tile data; permission for it");
		return -1;
	}
	if (probe_sigframe_xstate(ri))
		return -1;
	if (bv & ~ri->sig_xfeatures) {
		pr_err("core-%d.img: xsave: state components %#llx cannot go through a signal frame (%#llx)",
		       ri->pid, (unsigned long long)bv, (unsigned long long)ri->sig_xfeatures);
		return -1;
	}
	return 0;
}


/*
 * The kernel finishes these calls through the thread's restart block, which
 * does not survive a checkpoint. A relative sleep is the common case, and
 * when the caller passed a buffer for the time left the kernel has already
 * written it there before stopping: issue the call again with that buffer
 * as the request, so the task sleeps what it had left. poll() always
 * stops this way; one without a timeout (negative) is simply issued again
 * with its arguments, still in their registers. Anything else returns
 * EINTR, as if a handled signal had arrived.
 */
static void restart_block(struct rst_regs *r, int64_t orig_ax)
{
	if (orig_ax == SYS_poll && (int32_t)r->dx < 0) {	/* (fds, nfds, timeout) */
		/* nothing to change: wait again, for ever */
	} else if (orig_ax == SYS_nanosleep && r->si) {		/* (req, rem) */
		r->di = r->si;
	} else if (orig_ax == SYS_clock_nanosleep && !(r->si & TIMER_ABSTIME) && r->r10) {
		r->dx = r->r10;					/* (clock, flags, req, rem) */
	} else {
		r->ax = (uint64_t)-EINTR;
		return;
	}
	r->ax = (uint64_t)orig_ax;
	r->ip -= 2;
}

static void adjust_for_restart(struct rst_regs *r, int64_t orig_ax)
{
	int64_t ax = (int64_t)r->ax;

	if (orig_ax < 0)
		return;
	if (ax == -512 || ax == -513 || ax == -514) {	/* ERESTARTSYS/NOINTR/NOHAND */
		r->ax = (uint64_t)orig_ax;
		r->ip -= 2;
	} else if (ax == -516) {			/* ERESTART_RESTARTBLOCK */
		restart_block(r, orig_ax);
	}
}

/* The dumped registers, as the restorer's final frame takes them. */
static void regs_from_image(const UserRegsX86Entry *g, struct rst_regs *r)
{
	*r = (struct rst_regs){
		.r15 = g->r15, .r14 = g->r14, .r13 = g->r13, .r12 = g->r12, .bp = g->bp,
		.bx = g->bx, .r11 = g->r11, .r10 = g->r10, .r9 = g->r9, .r8 = g->r8,
		.ax = g->ax, .cx = g->cx, .dx = g->dx, .si = g->si, .di = g->di, .ip = g->ip,
		.cs = g->cs, .flags = g->flags, .sp = g->sp, .ss = g->ss,
		.fs_base = g->fs_base, .gs_base = g->gs_base,
	};
	adjust_for_restart(r, (int64_t)g->orig_ax);
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
	regs_from_image(t->regs, &d->regs);
	d->blocked = t->blocked & ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)));
	d->xsave = block;
	memcpy((void *)(unsigned long)d->xsave, t->xsave.data, t->xsave.len);
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
	a->xsave_size = ri->sig_xstate_size;
	a->xfeatures = ri->sig_xfeatures;
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
