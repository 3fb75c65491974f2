/*
 * Dump: one thread_core_entry per thread of the process, leader first.
 *
 *   dump_check_threads()           per thread, from /proc/TID/status: refuse
 *                                  what the images keep once per process
 *                                  (credentials, seccomp, scheduling) when a
 *                                  thread differs from the leader; keep the
 *                                  thread's name
 *   dump_collect_threads_ptrace()  per thread, seized: registers, FPU state,
 *                                  blocked mask, rseq, robust list, the
 *                                  thread's own pending signals
 *   dump_collect_threads_parasite() what only the thread itself can ask
 *                                  (sigaltstack, clear-tid address, and for
 *                                  sched-state.h its NUMA policy and
 *                                  keyrings): the
 *                                  leader's come with PARASITE_CMD_DUMP_MISC,
 *                                  the others' from PARASITE_CMD_DUMP_THREAD
 *                                  run in every thread, 16 at a time
 *
 * Everything is linear in the number of threads (the replies of the
 * parallel run are matched to threads through a sorted index).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <compel/compel.h>
#include "kernel-compat.h"

#define LOG_PREFIX "dump: "
#include "log.h"
#include "arch.h"
#include "dump.h"
#include "image.h"
#include "parasite-proto.h"
#include "sched-state.h"

#define SIGINFO_SIZE		128
#define PEEK_BATCH		32

struct rseq_conf {			/* PTRACE_GET_RSEQ_CONFIGURATION */
	uint64_t ptr;
	uint32_t size;
	uint32_t sig;
	uint32_t flags;
	uint32_t pad;
};

struct peek_args {			/* struct ptrace_peeksiginfo_args */
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

int dump_peek_signals(pid_t tid, uint32_t flags, ProtobufCBinaryData **out, size_t *nr)
{
	uint8_t buf[PEEK_BATCH * SIGINFO_SIZE];
	struct peek_args a = { .off = 0, .flags = flags, .nr = PEEK_BATCH };
	size_t cap = 0;

	*out = NULL;
	*nr = 0;
	for (;;) {
		long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, buf), i;

		if (n < 0) {
			pr_perror("PTRACE_PEEKSIGINFO on %d", tid);
			return -1;
		}
		if (n == 0)
			return 0;
		for (i = 0; i < n; i++) {
			ProtobufCBinaryData *d;

			if (*nr == cap) {
				cap = cap ? 2 * cap : 8;
				d = realloc(*out, cap * sizeof(*d));
				if (!d)
					return -1;
				*out = d;
			}
			d = &(*out)[*nr];
			d->data = malloc(SIGINFO_SIZE);
			if (!d->data)
				return -1;
			memcpy(d->data, buf + i * SIGINFO_SIZE, SIGINFO_SIZE);
			d->len = SIGINFO_SIZE;
			(*nr)++;
		}
		a.off += n;
	}
}

void dump_free_signals(ProtobufCBinaryData *d, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		free(d[i].data);
	free(d);
}

/* What a thread must share with the leader, since restore sets it once. */
static int check_same(const struct dump_task *t, pid_t tid, const struct proc_status *st)
{
	const struct proc_status *l = &t->st;

	if (memcmp(st->uid, l->uid, sizeof(l->uid)) || memcmp(st->gid, l->gid, sizeof(l->gid)) ||
	    st->ngroups != l->ngroups ||
	    (l->ngroups && memcmp(st->groups, l->groups, l->ngroups * sizeof(*l->groups))) ||
	    st->capinh != l->capinh || st->capprm != l->capprm || st->capeff != l->capeff ||
	    st->capbnd != l->capbnd || st->capamb != l->capamb ||
	    st->no_new_privs != l->no_new_privs) {
		pr_err("thread %d of %d has other credentials than its leader: "
		       "per-thread credentials are not supported yet", tid, t->pid);
		return -1;
	}
	return 0;	/* seccomp: dump_collect_seccomp() */
}

struct sched_state {
	int	policy, nice, prio;
};

static int read_sched(pid_t tid, struct sched_state *s)
{
	struct sched_param sp;

	errno = 0;
	s->policy = sched_getscheduler(tid);
	s->nice = getpriority(PRIO_PROCESS, tid);
	if (s->policy < 0 || errno || sched_getparam(tid, &sp)) {
		pr_perror("can't read the scheduling of thread %d", tid);
		return -1;
	}
	s->prio = sp.sched_priority;
	return 0;
}

static int check_sched(const struct dump_task *t, pid_t tid, const struct sched_state *leader)
{
	struct sched_state s;

	if (read_sched(tid, &s))
		return -1;
	if (memcmp(&s, leader, sizeof(s))) {
		pr_err("thread %d of %d has another scheduling policy, priority or nice value "
		       "than its leader: per-thread scheduling is not supported yet", tid, t->pid);
		return -1;
	}
	return 0;
}

int dump_check_threads(struct dump_task *t)
{
	struct sched_state leader;
	int i;

	t->th = calloc(t->nr_tids, sizeof(*t->th));
	if (!t->th)
		return -1;
	for (i = 0; i < t->nr_tids; i++)
		thread_core_entry__init(&t->th[i].core);
	t->th[0].core.comm = strdup(t->st.name);
	if (!t->th[0].core.comm)
		return -1;
	if (t->nr_tids == 1)
		return 0;
	if (read_sched(t->pid, &leader))
		return -1;
	for (i = 1; i < t->nr_tids; i++) {
		struct proc_status st;
		int ret;

		if (proc_read_status(t->tids[i], &st))
			return -1;
		ret = st.tgid != t->pid ? -1 : check_same(t, t->tids[i], &st);
		if (st.tgid != t->pid)
			pr_err("thread %d is no longer in %d", t->tids[i], t->pid);
		if (!ret) {
			t->th[i].core.comm = strdup(st.name);
			ret = t->th[i].core.comm ? 0 : -1;
		}
		proc_status_free(&st);
		if (ret || check_sched(t, t->tids[i], &leader))
			return -1;
	}
	return 0;
}

/* rseq registration; for the leader also the rseq_cs word compel will clear. */
static int collect_rseq(struct dump_task *t, struct dump_thread *th, pid_t tid, bool leader)
{
	struct rseq_conf rc;

	memset(&rc, 0, sizeof(rc));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, (void *)sizeof(rc), &rc) < 0) {
		pr_perror("PTRACE_GET_RSEQ_CONFIGURATION on %d", tid);
		return -1;
	}
	if (!rc.ptr)
		return 0;
	rseq_entry__init(&th->rseq);
	th->core.rseq = &th->rseq;
	th->rseq.ptr = rc.ptr;
	th->rseq.len = rc.size;
	th->rseq.sig = rc.sig;
	if (!leader)
		return 0;
	/* rseq_cs (offset 8): compel clears it while the parasite runs. */
	t->rseq_cs_addr = rc.ptr + 8;
	errno = 0;
	t->rseq_cs_val = ptrace(PTRACE_PEEKDATA, tid, (void *)t->rseq_cs_addr, NULL);
	if (errno) {
		pr_perror("can't read rseq_cs of %d", tid);
		return -1;
	}
	return 0;
}

static int collect_one(struct dump_task *t, int i, uint8_t *scratch)
{
	struct dump_thread *th = &t->th[i];
	ThreadCoreEntry *c = &th->core;
	pid_t tid = t->tids[i];
	uint64_t mask;
	long head, len;

	c->tid = (uint32_t)dump_vtid(t, tid);
	if (arch_dump_regs(tid, th, scratch))
		return -1;
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(mask), &mask)) {
		pr_perror("PTRACE_GETSIGMASK on %d", tid);
		return -1;
	}
	c->blocked = mask;
	if (collect_rseq(t, th, tid, i == 0))
		return -1;
	if (syscall(SYS_get_robust_list, tid, &head, &len)) {
		pr_perror("get_robust_list(%d)", tid);
		return -1;
	}
	c->has_robust_list = c->has_robust_list_len = true;
	c->robust_list = head;
	c->robust_list_len = len;
	if (dump_peek_signals(tid, 0, &c->pending, &c->n_pending))
		return -1;
	pr_debug("%d: blocked %lx, %zu signals pending", tid, (unsigned long)mask, c->n_pending);
	return 0;
}

int dump_collect_threads_ptrace(struct dump_task *t)
{
	uint8_t *scratch = malloc(ARCH_FPU_MAX);
	int i, ret = 0;

	if (!scratch)
		return -1;
	for (i = 0; i < t->nr_tids && !ret; i++)
		ret = collect_one(t, i, scratch);
	free(scratch);
	return ret;
}

/* Thread state the parasite read, into the thread's core entry. */
void dump_thread_state(struct dump_thread *th, const struct parasite_thread *p)
{
	sigaltstack_entry__init(&th->altstack);
	th->core.altstack = &th->altstack;
	th->altstack.sp = p->ss_sp;
	th->altstack.size = p->ss_size;
	th->altstack.flags = (uint32_t)p->ss_flags & ~(uint32_t)SS_ONSTACK;
	th->core.has_clear_tid_addr = true;
	th->core.clear_tid_addr = p->clear_tid_addr;
	th->core.has_timerslack_ns = th->core.has_tsc = th->core.has_mce_kill = true;
	th->core.timerslack_ns = p->timerslack;
	th->core.tsc = p->tsc;
	th->core.mce_kill = p->mce_kill;
	dump_sched_thread(th, p);
}

/*
 * What the kernel keeps per thread but the image once per process: the
 * securebits (credentials) must be the leader's, and no other thread may
 * have a parent death signal (a new thread has none).
 */
static int check_thread_prctls(const struct dump_task *t, pid_t tid, const struct parasite_thread *p)
{
	if (p->securebits != t->core.creds->securebits) {
		pr_err("thread %d of %d has other securebits (%#x) than its leader (%#x): per-thread credentials are not supported yet",
		       tid, t->pid, p->securebits, t->core.creds->securebits);
		return -1;
	}
	if (p->pdeath_sig) {
		pr_err("thread %d of %d has a parent death signal (%u) of its own: a parent death signal on a thread other than the leader is not supported yet",
		       tid, t->pid, p->pdeath_sig);
		return -1;
	}
	return 0;
}

struct tid_idx {
	pid_t	tid;
	int	idx;
};

struct thread_run {
	struct dump_task	*t;
	struct tid_idx		*by_tid;	/* sorted by tid */
	int			nr, done;
};

static int tid_cmp(const void *a, const void *b)
{
	const struct tid_idx *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int thread_done(void *priv, pid_t tid, int ret, void *args)
{
	struct thread_run *run = priv;
	struct tid_idx key = { .tid = tid }, *hit;

	if (ret) {
		pr_err("parasite could not read the state of thread %d: %d", tid, ret);
		return -1;
	}
	hit = bsearch(&key, run->by_tid, run->nr, sizeof(key), tid_cmp);
	if (!hit) {
		pr_err("a reply from thread %d, which is not one of %d's", tid, run->t->pid);
		return -1;
	}
	if (check_thread_prctls(run->t, tid, args) || dump_check_features(run->t, tid, args))
		return -1;
	dump_thread_state(&run->t->th[hit->idx], args);
	run->done++;
	return 0;
}

int dump_collect_threads_parasite(struct dump_task *t)
{
	struct thread_run run = { .t = t, .nr = t->nr_tids - 1 };
	int i, ret;

	if (t->nr_tids == 1)
		return 0;
	BUILD_BUG_ON(sizeof(struct parasite_thread) > COMPEL_THREAD_ARGS_SIZE);
	run.by_tid = malloc(run.nr * sizeof(*run.by_tid));
	if (!run.by_tid)
		return -1;
	for (i = 0; i < run.nr; i++)
		run.by_tid[i] = (struct tid_idx){ t->tids[i + 1], i + 1 };
	qsort(run.by_tid, run.nr, sizeof(*run.by_tid), tid_cmp);
	ret = compel_run_in_threads(t->ctl, t->tids + 1, run.nr, PARASITE_CMD_DUMP_THREAD,
				    thread_done, &run);
	free(run.by_tid);
	if (ret || run.done != run.nr) {
		pr_err("can't run the parasite in the threads of %d (%d of %d replied)", t->pid,
		       run.done, run.nr);
		return -1;
	}
	return 0;
}

int dump_write_threads(struct dump_task *t, struct cr_img *img)
{
	int i;

	for (i = 0; i < t->nr_tids; i++)
		if (img_write_entry(img, &t->th[i].core.base))
			return -1;
	return 0;
}

void dump_threads_free(struct dump_task *t)
{
	int i;

	if (!t->th)
		return;
	for (i = 0; i < t->nr_tids; i++) {
		dump_free_signals(t->th[i].core.pending, t->th[i].core.n_pending);
		free(t->th[i].core.comm);
		free(t->th[i].fpu);
	}
	free(t->th);
	t->th = NULL;
}
