/*
 * Dump: process-wide state for core-PID.img and the mm fields.
 *
 * Process-wide state, once per process (per-thread state: dump-threads.c).
 * Three sources, each trusted for what it is best at:
 *  - ptrace, while the task is stopped and before compel touches it:
 *    the process's pending signals;
 *  - /proc and syscalls on the pid from criu: credentials, limits, sched,
 *    mm layout, auxv, personality, oom_score_adj, POSIX timer list;
 *  - the parasite, for what only the task itself can ask: signal actions,
 *    itimers, sigaltstack, clear_tid address, umask, brk, prctl values,
 *    POSIX timer values.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <compel/compel.h>
#include "kernel-compat.h"

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "parasite-proto.h"
#include "small-file.h"

#define SCHED_DEADLINE_POLICY	6

/* A /proc file of the task that must be there. */
static int read_task_file(const char *path, char *buf, size_t len)
{
	if (read_small_file(path, buf, len) >= 0)
		return 0;
	pr_perror("can't read %s", path);
	return -1;
}

/* Process-wide part of what ptrace reads: the shared pending queue. */
int dump_collect_core_ptrace(struct dump_task *t)
{
	if (dump_peek_signals(t->pid, 1 /* PTRACE_PEEKSIGINFO_SHARED */,
			      &t->core.shared_pending, &t->core.n_shared_pending))
		return -1;
	pr_info("%d: %d threads, %zu signals pending for the process", t->pid, t->nr_tids,
		t->core.n_shared_pending);
	return dump_collect_seccomp(t);
}

static int collect_timers(struct dump_task *t)
{
	struct parasite_timers *pt = compel_args(t->ctl);
	struct proc_timers tm = { 0 };
	size_t i;
	int ret = -1, r;

	if (proc_read_timers(t->pid, &tm))
		return -1;
	if (!tm.nr) {
		ret = 0;
		goto out;
	}
	if (tm.nr > PARASITE_MAX_TIMERS) {
		pr_err("%zu POSIX timers: more than %d is not supported yet", tm.nr,
		       PARASITE_MAX_TIMERS);
		goto out;
	}
	pt->nr = tm.nr;
	for (i = 0; i < tm.nr; i++)
		pt->t[i].id = tm.t[i].id;
	if (compel_rpc_call_sync(t->ctl, PARASITE_CMD_DUMP_TIMERS, &r) || r) {
		pr_err("parasite could not read POSIX timers: %d", r);
		goto out;
	}
	t->core.posix_timers = calloc(tm.nr, sizeof(PosixTimerEntry *));
	if (!t->core.posix_timers)
		goto out;
	for (i = 0; i < tm.nr; i++) {
		PosixTimerEntry *e = calloc(1, sizeof(*e));

		if (!e)
			goto out;
		posix_timer_entry__init(e);
		t->core.posix_timers[t->core.n_posix_timers++] = e;
		e->id = tm.t[i].id;
		e->clock = tm.t[i].clockid;
		e->notify = tm.t[i].notify | (tm.t[i].thread_id ? SIGEV_THREAD_ID : 0);
		e->signo = tm.t[i].signo;
		e->sival = tm.t[i].sigval;
		if (tm.t[i].thread_id) {
			e->has_notify_tid = true;
			e->notify_tid = (uint32_t)dump_vtid(t, tm.t[i].notify_pid);
			if (!e->notify_tid) {
				pr_err("%d: POSIX timer %d signals %d, no thread of the task",
				       t->pid, e->id, tm.t[i].notify_pid);
				goto out;
			}
		}
		e->interval_ns = pt->t[i].interval_sec * 1000000000ull + pt->t[i].interval_nsec;
		e->value_ns = pt->t[i].value_sec * 1000000000ull + pt->t[i].value_nsec;
		e->has_overrun = true;
		e->overrun = pt->t[i].overrun;
	}
	ret = 0;
out:
	proc_timers_free(&tm);
	return ret;
}

int dump_collect_core_parasite(struct dump_task *t)
{
	struct parasite_misc *m = compel_args(t->ctl);
	TaskCoreEntry *c = &t->core;
	int r, sig, i;

	if (compel_rpc_call_sync(t->ctl, PARASITE_CMD_DUMP_MISC, &r) || r) {
		pr_err("parasite could not collect task state: %d", r);
		return -1;
	}
	if (dump_check_features(t, t->pid, &m->thread))
		return -1;
	c->sigactions = calloc(PARASITE_NSIG, sizeof(SigactionEntry *));
	if (!c->sigactions)
		return -1;
	for (sig = 1; sig <= PARASITE_NSIG; sig++) {
		SigactionEntry *e;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		e = calloc(1, sizeof(*e));
		if (!e)
			return -1;
		sigaction_entry__init(e);
		c->sigactions[c->n_sigactions++] = e;
		e->signo = sig;
		e->handler = m->act[sig - 1].handler;
		e->flags = m->act[sig - 1].flags;
		e->restorer = m->act[sig - 1].restorer;
		e->mask = m->act[sig - 1].mask;
	}
	c->itimers = calloc(3, sizeof(ItimerEntry *));
	if (!c->itimers)
		return -1;
	for (i = 0; i < 3; i++) {
		ItimerEntry *e = calloc(1, sizeof(*e));

		if (!e)
			return -1;
		itimer_entry__init(e);
		c->itimers[c->n_itimers++] = e;
		e->which = i;
		e->interval_us = m->itimer[i].interval_sec * 1000000ull + m->itimer[i].interval_usec;
		e->value_us = m->itimer[i].value_sec * 1000000ull + m->itimer[i].value_usec;
	}
	dump_thread_state(&t->th[0], &m->thread);
	c->umask = m->umask;
	c->has_dumpable = c->has_pdeath_sig = c->has_child_subreaper = true;
	c->dumpable = m->dumpable;
	c->pdeath_sig = m->thread.pdeath_sig;
	c->creds->has_securebits = true;
	c->creds->securebits = m->thread.securebits;
	c->has_memory_merge = m->memory_merge != ~0U;
	c->memory_merge = m->memory_merge;
	c->child_subreaper = m->child_subreaper;
	t->mm.brk = m->brk;
	t->mm.has_thp_disabled = true;
	t->mm.thp_disabled = m->thp_disabled;
	c->has_membarrier = true;
	c->membarrier = m->membarrier;
	if (m->membarrier_unseen)
		pr_warn("membarrier: this kernel cannot tell registrations %#x of %d (it needs 6.3); one would not be restored",
			m->membarrier_unseen, t->pid);
	if (m->personality != c->personality)
		pr_warn("personality: %x in /proc, %x from the task", c->personality,
			m->personality);
	pr_info("umask %o brk %lx altstack %lx+%lx clear_tid %lx", c->umask,
		(unsigned long)m->brk, (unsigned long)m->thread.ss_sp,
		(unsigned long)m->thread.ss_size, (unsigned long)m->thread.clear_tid_addr);
	return collect_timers(t);
}

/*
 * Memory-deny-write-execute (PR_SET_MDWE) forbids the writable and
 * executable mapping the parasite needs, and /proc does not show it: ask the
 * task with a remote prctl before infecting it.
 */
int dump_check_mdwe(struct dump_task *t)
{
	long ret;

	if (compel_syscall(t->ctl, SYS_prctl, &ret, PR_GET_MDWE, 0, 0, 0, 0, 0)) {
		pr_err("can't run prctl(PR_GET_MDWE) in %d", t->pid);
		return -1;
	}
	if (ret > 0) {
		pr_err("%d: memory-deny-write-execute (PR_SET_MDWE, flags %#lx) is not supported yet",
		       t->pid, ret);
		return -1;
	}
	return 0;	/* off, or a kernel without it (EINVAL) */
}

/* Whether @t has SIGCHLD queued to the whole process. */
static bool sigchld_pending(const struct dump_task *t)
{
	size_t i;

	for (i = 0; i < t->core.n_shared_pending; i++) {
		const ProtobufCBinaryData *b = &t->core.shared_pending[i];
		int32_t signo;

		if (b->len >= sizeof(signo)) {
			memcpy(&signo, b->data, sizeof(signo));
			if (signo == SIGCHLD)
				return true;
		}
	}
	return false;
}

/* A SIGCHLD handler that a child's stop calls (no SA_NOCLDSTOP). */
static bool sigchld_on_stop(const struct dump_task *t)
{
	size_t i;

	for (i = 0; i < t->core.n_sigactions; i++) {
		const SigactionEntry *e = t->core.sigactions[i];

		if (e->signo == SIGCHLD)
			return e->handler > 1 && !(e->flags & SA_NOCLDSTOP);
	}
	return false;
}

/*
 * The restored child stops anew: its parent's wait then reports the stop,
 * and SIGCHLD comes. Exact only when the parent has not collected the stop
 * yet (waitid with WNOWAIT, run by the parent, tells) and the SIGCHLD
 * changes nothing the parent sees.
 */
static int check_stop_report(struct dump_task *t, const struct dump_task *c)
{
	unsigned char *buf = compel_args(t->ctl);
	siginfo_t si;
	long ret;

	memset(buf, 0, sizeof(si));
	if (compel_syscall(t->ctl, SYS_waitid, &ret, P_PID, (unsigned long)c->pid,
			   compel_args_remote(t->ctl), WSTOPPED | WNOWAIT | WNOHANG | __WALL,
			   0, 0) || ret) {
		pr_err("can't ask %d about the stop of its child %d (%ld)", t->pid, c->pid, ret);
		return -1;
	}
	memcpy(&si, buf, sizeof(si));
	if (si.si_pid != c->pid || si.si_code != CLD_STOPPED) {
		pr_err("not supported yet: %d is stopped and its parent %d has already collected "
		       "the stop with wait(): restored, the parent would be told again", c->pid,
		       t->pid);
		return -1;
	}
	if (sigchld_on_stop(t) && !sigchld_pending(t)) {
		pr_err("not supported yet: %d is stopped and its parent %d has a SIGCHLD handler "
		       "without SA_NOCLDSTOP and no SIGCHLD pending: restored, the handler would "
		       "run again", c->pid, t->pid);
		return -1;
	}
	return 0;
}

int dump_check_stop_reports(struct dump_task *t, struct dump_task *const *all, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (all[i]->stop_sig && all[i]->ppid == t->pid && check_stop_report(t, all[i]))
			return -1;
	return 0;
}

/* From t->st (/proc/PID/status): also a zombie's, which the status still shows. */
int dump_collect_creds(struct dump_task *t)
{
	CredsEntry *cr = calloc(1, sizeof(*cr));
	size_t i;

	if (!cr)
		return -1;
	creds_entry__init(cr);
	t->core.creds = cr;
	cr->uid = calloc(4, sizeof(uint32_t));
	cr->gid = calloc(4, sizeof(uint32_t));
	cr->groups = calloc(t->st.ngroups ? t->st.ngroups : 1, sizeof(uint32_t));
	if (!cr->uid || !cr->gid || !cr->groups)
		return -1;
	cr->n_uid = cr->n_gid = 4;
	for (i = 0; i < 4; i++) {
		cr->uid[i] = t->st.uid[i];
		cr->gid[i] = t->st.gid[i];
	}
	cr->n_groups = t->st.ngroups;
	for (i = 0; i < t->st.ngroups; i++)
		cr->groups[i] = t->st.groups[i];
	cr->cap_inh = t->st.capinh;
	cr->cap_prm = t->st.capprm;
	cr->cap_eff = t->st.capeff;
	cr->cap_bnd = t->st.capbnd;
	if (t->st.present & PROC_ST_CAPAMB) {
		cr->has_cap_amb = true;
		cr->cap_amb = t->st.capamb;
	}
	if (t->st.present & PROC_ST_NONEWPRIVS) {
		cr->has_no_new_privs = true;
		cr->no_new_privs = t->st.no_new_privs;
	}
	return 0;
}

/*
 * Audit login uid and session: per thread in the kernel, once per process
 * in the image (the restorer's threads inherit the leader's).
 */
static int collect_audit(struct dump_task *t)
{
	struct proc_audit leader, a;
	int i;

	if (proc_read_audit(t->pid, t->pid, &leader))
		return -1;
	for (i = 1; i < t->nr_tids; i++) {
		if (proc_read_audit(t->pid, t->tids[i], &a))
			return -1;
		if (a.present != leader.present || a.loginuid != leader.loginuid ||
		    a.sessionid != leader.sessionid) {
			pr_err("thread %d of %d has another audit login uid or session (%u, %u) than its leader (%u, %u): per-thread audit ids are not supported yet",
			       t->tids[i], t->pid, a.loginuid, a.sessionid, leader.loginuid,
			       leader.sessionid);
			return -1;
		}
	}
	t->core.has_loginuid = t->core.has_audit_session = leader.present;
	t->core.loginuid = leader.loginuid;
	t->core.audit_session = leader.sessionid;
	return 0;
}

/*
 * Write the offsets just read back to the namespace: nothing changes, unless
 * a process has entered it, which froze them (EACCES).
 */
static int timens_check_unused(pid_t pid, const struct proc_timens *tn)
{
	char path[64], text[96];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", pid);
	n = snprintf(text, sizeof(text), "monotonic %lld %u\nboottime %lld %u\n",
		     (long long)tn->mono_sec, tn->mono_nsec, (long long)tn->boot_sec, tn->boot_nsec);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, (size_t)n) != n) {
		if (errno == EACCES)
			pr_err("%d has a time namespace for its children (unshare(CLONE_NEWTIME)) that a process has entered already: it is not supported yet",
			       pid);
		else
			pr_perror("can't check the time namespace for the children of %d", pid);
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * A time namespace the process made for its children (unshare(CLONE_NEWTIME))
 * and that none entered yet: the restore makes one the same way, with the
 * same offsets. One that was entered is a namespace of its own: refused.
 */
static int collect_timens(struct dump_task *t)
{
	struct stat own, kids;
	struct proc_timens tn;
	TimensEntry *e;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/time", t->pid);
	if (stat(path, &own))
		return 0;	/* no time namespaces in this kernel */
	snprintf(path, sizeof(path), "/proc/%d/ns/time_for_children", t->pid);
	if (stat(path, &kids)) {
		pr_perror("can't stat %s", path);
		return -1;
	}
	if (own.st_ino == kids.st_ino && own.st_dev == kids.st_dev)
		return 0;
	if (t->tree->own_ns & CLONE_NEWTIME) {
		/* its offsets are the host's; the tree's clocks move at the restore, these would not */
		pr_err("%d has a time namespace for its children (unshare(CLONE_NEWTIME)) inside the tree's own time namespace: not supported yet",
		       t->pid);
		return -1;
	}
	if (proc_read_timens_offsets(t->pid, &tn) || timens_check_unused(t->pid, &tn))
		return -1;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	timens_entry__init(e);
	e->monotonic_sec = tn.mono_sec;
	e->monotonic_nsec = tn.mono_nsec;
	e->boottime_sec = tn.boot_sec;
	e->boottime_nsec = tn.boot_nsec;
	t->core.timens_for_children = e;
	pr_info("%d: a time namespace for its children, monotonic %+lld.%09u boottime %+lld.%09u",
		t->pid, (long long)tn.mono_sec, tn.mono_nsec, (long long)tn.boot_sec, tn.boot_nsec);
	return 0;
}

int dump_collect_core_proc(struct dump_task *t)
{
	TaskCoreEntry *c = &t->core;
	struct proc_limits lim;
	struct proc_auxv av;
	struct sched_param sp;
	char path[64], buf[256];
	int policy, nice, i;

	c->state = t->stop_sig ? 3 : 1;
	if (t->stop_sig) {
		c->has_stop_signo = true;
		c->stop_signo = (uint32_t)t->stop_sig;
	}
	c->comm = strdup(t->st.name);
	if (!c->comm)
		return -1;

	snprintf(path, sizeof(path), "/proc/%d/personality", t->pid);
	if (read_task_file(path, buf, sizeof(buf)))
		return -1;
	c->personality = (uint32_t)strtoul(buf, NULL, 16);

	if (proc_read_limits(t->pid, &lim))
		return -1;
	c->rlimits = calloc(PROC_NR_LIMITS, sizeof(RlimitEntry *));
	if (!c->rlimits)
		return -1;
	for (i = 0; i < PROC_NR_LIMITS; i++) {
		RlimitEntry *e = calloc(1, sizeof(*e));

		if (!e)
			return -1;
		rlimit_entry__init(e);
		c->rlimits[c->n_rlimits++] = e;
		e->resource = i;
		e->cur = lim.lim[i].rlim_cur;
		e->max = lim.lim[i].rlim_max;
	}

	if (dump_collect_creds(t) || collect_audit(t) || collect_timens(t))
		return -1;

	policy = sched_getscheduler(t->pid);
	if (policy < 0) {
		pr_perror("sched_getscheduler(%d)", t->pid);
		return -1;
	}
	if ((policy & ~SCHED_RESET_ON_FORK) == SCHED_DEADLINE_POLICY) {
		pr_err("SCHED_DEADLINE is not supported yet");
		return -1;
	}
	if (sched_getparam(t->pid, &sp)) {
		pr_perror("sched_getparam(%d)", t->pid);
		return -1;
	}
	errno = 0;
	nice = getpriority(PRIO_PROCESS, t->pid);
	if (errno) {
		pr_perror("getpriority(%d)", t->pid);
		return -1;
	}
	c->has_sched_policy = c->has_nice = c->has_sched_prio = true;
	c->sched_policy = policy;
	c->nice = nice;
	c->sched_prio = sp.sched_priority;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", t->pid);
	if (read_task_file(path, buf, sizeof(buf)))
		return -1;
	c->has_oom_score_adj = true;
	c->oom_score_adj = atoi(buf);

	/* mm: /proc/PID/stat fields 26-28 and 45-51, and auxv */
	t->mm.start_code = t->stat.start_code;
	t->mm.end_code = t->stat.end_code;
	t->mm.start_stack = t->stat.start_stack;
	t->mm.start_data = t->stat.start_data;
	t->mm.end_data = t->stat.end_data;
	t->mm.start_brk = t->stat.start_brk;
	t->mm.arg_start = t->stat.arg_start;
	t->mm.arg_end = t->stat.arg_end;
	t->mm.env_start = t->stat.env_start;
	t->mm.env_end = t->stat.env_end;
	if (proc_read_auxv(t->pid, &av))
		return -1;
	memcpy(t->auxv, av.a, 2 * av.nr * sizeof(av.a[0]));
	t->mm.auxv = (uint64_t *)t->auxv;
	t->mm.n_auxv = 2 * av.nr;
	return 0;
}

void dump_core_free(struct dump_task *t)
{
	TaskCoreEntry *c = &t->core;
	size_t i;

	free(c->comm);
	for (i = 0; i < c->n_sigactions; i++)
		free(c->sigactions[i]);
	free(c->sigactions);
	for (i = 0; i < c->n_itimers; i++)
		free(c->itimers[i]);
	free(c->itimers);
	for (i = 0; i < c->n_posix_timers; i++)
		free(c->posix_timers[i]);
	free(c->posix_timers);
	for (i = 0; i < c->n_rlimits; i++)
		free(c->rlimits[i]);
	free(c->rlimits);
	if (c->creds) {
		free(c->creds->uid);
		free(c->creds->gid);
		free(c->creds->groups);
		free(c->creds);
	}
	free(c->timens_for_children);
	dump_seccomp_free(c);
	dump_free_signals(c->shared_pending, c->n_shared_pending);
	dump_threads_free(t);
}
