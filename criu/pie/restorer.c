/*
 * The restorer: freestanding code that turns a forked criu child into the
 * dumped process. criu copies this blob into a region that is free in both
 * its own layout and the target's, fills a struct restorer_args there and
 * jumps to restorer_entry with rsp on the region's stack. Nothing of libc
 * or of criu's memory may be touched from here on: it is being unmapped.
 *
 * Order (each step can only fail by killing the task; criu's parent reads
 * the reason from the status descriptor and reaps it):
 *   1. unmap criu's memory (everything but the region, the staging area
 *      and the kernel's special mappings)
 *   2. move vdso/vvar to the dumped addresses (via scratch slots, so that
 *      overlapping old and new positions cannot clobber each other)
 *   3. move every staged private area into place, set its protection;
 *      map shared file areas; drop what is left of the staging area
 *   4. PR_SET_MM_MAP (mm fields, auxv, exe), personality and KSM
 *      merge-any (only now: both change how mappings are made),
 *      sigactions, itimers
 *   5. the other threads, each with its tid (clone3 set_tid, or
 *      ns_last_pid); every thread then sets its own sigaltstack, rseq,
 *      robust list, clear-tid address, timer slack, TSC mode,
 *      machine-check policy, fs/gs base, CPU affinity, I/O priority,
 *      NUMA policy, pending signals and credentials, and reports ready
 *   6. the leader reports success, closes criu's helpers, stops if asked,
 *      lets the threads go and leaves last: every thread builds an
 *      rt_sigframe from its saved registers and rt_sigreturns into them
 *      (through the vdso, so that the region can unmap itself; see
 *      restorer-args.h)
 */
#include <std/syscall.h>
#include <std/string.h>
#include <std/log.h>
#include <std/parasite.h>
#include "restorer-args.h"
#include "restorer-arch.h"

#define R_PROT_READ	0x1
#define R_PROT_WRITE	0x2
#define R_MAP_SHARED	0x01
#define R_MAP_PRIVATE	0x02
#define R_MAP_FIXED	0x10
#define R_MREMAP_MAYMOVE	1
#define R_MREMAP_FIXED		2
#define R_PR_SET_MM	35
#define R_PR_SET_MM_MAP	14
#define R_PR_SET_MEMORY_MERGE	67
#define R_PR_SET_TSC		26
#define R_PR_SET_TIMERSLACK	29
#define R_PR_MCE_KILL		33
#define R_PR_MCE_KILL_CLEAR	0
#define R_PR_MCE_KILL_SET	1
#define R_PR_MCE_KILL_DEFAULT	2
#define R_SIGSTOP	19
#define R_SIGKILL	9

struct k_sigaction {
	__u64 handler;
	__u64 flags;
	__u64 restorer;
	__u64 mask;
};

struct k_itimerval {
	__s64 int_sec, int_usec, val_sec, val_usec;
};

void restorer_main(struct restorer_args *a) __attribute__((noreturn, used));

/* The std runtime's command loop wants this symbol; the restorer has no commands. */
int parasite_cmd(unsigned int cmd, struct parasite_ctx *ctx)
{
	(void)cmd;
	(void)ctx;
	return -38;	/* -ENOSYS */
}

static __attribute__((noreturn)) void fail(struct restorer_args *a, const char *what, long err)
{
	char buf[160];
	int n;

	n = std_snprintf(buf, sizeof(buf), "Erestorer: %s failed: errno %ld\n", what, -err);
	if (n > 0)
		sys_write(a->status_fd, buf, (size_t)n);
	/* Nothing sane is left to run: die so the parent reaps us. */
	syscall2(__NR_kill, syscall0(__NR_getpid), R_SIGKILL);
	sys_exit_group(1);
}

#define TRY(a, call, what)					\
	do {							\
		long __r = (long)(call);			\
		if (__r < 0 && __r > -4096)			\
			fail(a, what, __r);			\
	} while (0)

static void move_specials(struct restorer_args *a)
{
	unsigned int i;

	/* Two passes: all to scratch, then all to their places. */
	for (i = 0; i < a->nr_special; i++) {
		struct rst_special *s = &a->special[i];

		TRY(a, syscall5(__NR_mremap, s->src, s->len, s->len,
				R_MREMAP_MAYMOVE | R_MREMAP_FIXED, s->scratch), "mremap of vdso/vvar to scratch");
	}
	for (i = 0; i < a->nr_special; i++) {
		struct rst_special *s = &a->special[i];

		TRY(a, syscall5(__NR_mremap, s->scratch, s->len, s->len,
				R_MREMAP_MAYMOVE | R_MREMAP_FIXED, s->dst), "mremap of vdso/vvar into place");
	}
}

static void place_vmas(struct restorer_args *a)
{
	struct rst_vma *v = (struct rst_vma *)(unsigned long)a->vmas;
	unsigned int i;

	for (i = 0; i < a->nr_vmas; i++) {
		if (v[i].tmp) {
			TRY(a, syscall5(__NR_mremap, v[i].tmp, v[i].len, v[i].len,
					R_MREMAP_MAYMOVE | R_MREMAP_FIXED, v[i].start), "mremap of a vma");
			TRY(a, syscall3(__NR_mprotect, v[i].start, v[i].len, v[i].prot), "mprotect of a vma");
		} else if (v[i].fd >= 0) {
			TRY(a, sys_mmap((void *)(unsigned long)v[i].start, v[i].len, (int)v[i].prot,
					(int)(v[i].flags | R_MAP_FIXED), v[i].fd, (long)v[i].pgoff),
			    "mmap of a shared file vma");
		}
	}
	for (i = 0; i < a->nr_vmas; i++)
		if (!v[i].tmp && v[i].fd >= 0)
			sys_close(v[i].fd);
}

#define R_MADV_GUARD_INSTALL	102	/* 6.13 */
#define R_MADV_GUARD_REMOVE	103

/* Guard pages once the memory is in place (criu/restore-guard.c). */
static void install_guards(struct restorer_args *a)
{
	struct rst_guard *g = (struct rst_guard *)(unsigned long)a->guards;
	unsigned int i;

	for (i = 0; i < a->nr_guards; i++) {
		TRY(a, syscall3(__NR_madvise, g[i].start, g[i].end - g[i].start, R_MADV_GUARD_INSTALL),
		    "madvise(MADV_GUARD_INSTALL)");
		if (g[i].remove)
			TRY(a, syscall3(__NR_madvise, g[i].start, g[i].end - g[i].start,
					R_MADV_GUARD_REMOVE), "madvise(MADV_GUARD_REMOVE)");
	}
}

/*
 * mlockall(MCL_FUTURE) once every vma is in place: what exists keeps the
 * lock it was dumped with ("lo"/"lf" of each vma), only the mappings made
 * from now on are locked.
 */
static void set_mlockall(struct restorer_args *a)
{
	if (a->mlockall)
		TRY(a, syscall1(__NR_mlockall, a->mlockall), "mlockall(MCL_FUTURE)");
}

static void set_process_state(struct restorer_args *a)
{
	unsigned int i;

	if (a->has_mm_map) {
		a->mm.auxv = (__u64)(unsigned long)a->auxv;
		TRY(a, sys_prctl(R_PR_SET_MM, R_PR_SET_MM_MAP, (unsigned long)&a->mm,
				 sizeof(a->mm), 0), "prctl(PR_SET_MM_MAP)");
		sys_close((int)a->mm.exe_fd);
	}
	for (i = 0; i < RST_MAX_SIG; i++) {
		struct k_sigaction ka;

		if (!a->sig[i].present)
			continue;
		ka.handler = a->sig[i].handler;
		ka.flags = a->sig[i].flags;
		ka.restorer = a->sig[i].restorer;
		ka.mask = a->sig[i].mask;
		TRY(a, syscall4(__NR_rt_sigaction, i + 1, (long)&ka, 0, 8), "rt_sigaction");
	}
	/* now that every mapping is made: READ_IMPLIES_EXEC would have changed them */
	TRY(a, syscall1(__NR_personality, a->personality), "personality");
	if (a->memory_merge)
		TRY(a, sys_prctl(R_PR_SET_MEMORY_MERGE, 1, 0, 0, 0), "PR_SET_MEMORY_MERGE");
	for (i = 0; i < 3; i++) {
		struct k_itimerval it;

		if (!a->itimer_set[i])
			continue;
		it.int_sec = (__s64)a->itimer[i][0];
		it.int_usec = (__s64)a->itimer[i][1];
		it.val_sec = (__s64)a->itimer[i][2];
		it.val_usec = (__s64)a->itimer[i][3];
		TRY(a, syscall3(__NR_setitimer, i, (long)&it, 0), "setitimer");
	}
}

/*
 * Group-stop with the signal the process was stopped by, which its parent's
 * wait reports. SIGTSTP, SIGTTIN and SIGTTOU stop only at their default
 * action and unblocked: for the moment of the kill, nothing else is
 * unblocked (signals pending since the dump stay queued until the process
 * is continued) and the action is the default one.
 */
static void stop_self(struct restorer_args *a)
{
	struct k_sigaction dfl, old;
	__u64 only = ~(1ULL << (a->stop_sig - 1)), mask;

	if (a->stop_sig == R_SIGSTOP) {
		syscall2(__NR_kill, a->pid, R_SIGSTOP);
		return;
	}
	dfl.handler = 0;	/* SIG_DFL */
	dfl.flags = 0;
	dfl.restorer = 0;
	dfl.mask = 0;
	TRY(a, syscall4(__NR_rt_sigaction, a->stop_sig, (long)&dfl, (long)&old, 8),
	    "rt_sigaction of the stop signal");
	TRY(a, syscall4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, (long)&only, (long)&mask, 8),
	    "rt_sigprocmask");
	syscall2(__NR_kill, a->pid, a->stop_sig);
	syscall4(__NR_rt_sigprocmask, 2, (long)&mask, 0, 8);
	syscall4(__NR_rt_sigaction, a->stop_sig, (long)&old, 0, 8);
}

#define R_PR_SET_PDEATHSIG	1
#define R_PR_SET_DUMPABLE	4
#define R_PR_CAPBSET_READ	23
#define R_PR_CAPBSET_DROP	24
#define R_PR_SET_SECUREBITS	28
#define R_PR_SET_NO_NEW_PRIVS	38
#define R_PR_CAP_AMBIENT	47
#define R_PR_CAP_AMBIENT_RAISE	2
#define R_PR_CAP_AMBIENT_CLEAR_ALL 4
#define R_SECBIT_NO_SETUID_FIXUP (1 << 2)
#define R_CAP_VERSION_3		0x20080522

struct k_cap_header {
	__u32 version;
	int pid;
};

struct k_cap_data {
	__u32 effective, permitted, inheritable;
};

/* capset of the three sets; @d is left with what was set */
static void set_caps(struct restorer_args *a, struct k_cap_data *d, __u64 eff, __u64 prm, __u64 inh)
{
	struct k_cap_header h = { R_CAP_VERSION_3, 0 };

	d[0].effective = (__u32)eff;
	d[0].permitted = (__u32)prm;
	d[0].inheritable = (__u32)inh;
	d[1].effective = (__u32)(eff >> 32);
	d[1].permitted = (__u32)(prm >> 32);
	d[1].inheritable = (__u32)(inh >> 32);
	TRY(a, syscall2(__NR_capset, (long)&h, (long)d), "capset");
}

/*
 * Credentials (per thread: every thread runs this), once nothing else needs
 * privileges. Each step needs what an earlier one would take away:
 *   1. the inheritable set, while the bounding set is still full;
 *   2. the bounding set shrinks (needs CAP_SETPCAP);
 *   3. the ids, under SECBIT_NO_SETUID_FIXUP: the kernel leaves the
 *      capabilities alone (no KEEP_CAPS game);
 *   4. ambient capabilities (before a SECBIT_NO_CAP_AMBIENT_RAISE);
 *   5. the dumped securebits, locks and KEEP_CAPS included (needs
 *      CAP_SETPCAP, still effective);
 *   6. capset to exactly the dumped sets;
 *   7. dumpable (a uid change resets it) and no_new_privs.
 */
static void set_creds(struct restorer_args *a)
{
	struct rst_creds *c = &a->creds;
	struct k_cap_header h = { R_CAP_VERSION_3, 0 };
	struct k_cap_data d[2];
	unsigned int i;

	if (!c->has)
		return;
	TRY(a, syscall2(__NR_capget, (long)&h, (long)d), "capget");
	set_caps(a, d, d[0].effective | (__u64)d[1].effective << 32,
		 d[0].permitted | (__u64)d[1].permitted << 32, c->cap_inh);
	for (i = 0; i <= c->cap_last && i < 64; i++)
		if (!(c->cap_bnd & (1ULL << i)) && sys_prctl(R_PR_CAPBSET_READ, i, 0, 0, 0) == 1)
			TRY(a, sys_prctl(R_PR_CAPBSET_DROP, i, 0, 0, 0), "dropping from the bounding set");
	TRY(a, sys_prctl(R_PR_SET_SECUREBITS, R_SECBIT_NO_SETUID_FIXUP, 0, 0, 0),
	    "PR_SET_SECUREBITS(NO_SETUID_FIXUP)");
	TRY(a, syscall2(__NR_setgroups, c->ngroups, (long)c->groups), "setgroups");
	TRY(a, syscall3(__NR_setresgid, c->gid[0], c->gid[1], c->gid[2]), "setresgid");
	syscall1(__NR_setfsgid, c->gid[3]);
	TRY(a, syscall3(__NR_setresuid, c->uid[0], c->uid[1], c->uid[2]), "setresuid");
	syscall1(__NR_setfsuid, c->uid[3]);
	if (c->has_amb) {
		TRY(a, sys_prctl(R_PR_CAP_AMBIENT, R_PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient caps");
		for (i = 0; i <= c->cap_last && i < 64; i++)
			if (c->cap_amb & (1ULL << i))
				TRY(a, sys_prctl(R_PR_CAP_AMBIENT, R_PR_CAP_AMBIENT_RAISE, i, 0, 0),
				    "raising an ambient cap");
	}
	TRY(a, sys_prctl(R_PR_SET_SECUREBITS, c->has_secbits ? c->secbits : 0, 0, 0, 0),
	    "PR_SET_SECUREBITS");
	set_caps(a, d, c->cap_eff, c->cap_prm, c->cap_inh);
	if (c->has_dumpable)
		TRY(a, sys_prctl(R_PR_SET_DUMPABLE, c->dumpable, 0, 0, 0), "PR_SET_DUMPABLE");
	if (c->no_new_privs)
		TRY(a, sys_prctl(R_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS");
}

/*
 * The process's seccomp filters, oldest first, for every thread at once
 * (SECCOMP_FILTER_FLAG_TSYNC: the threads, made here without filters, share
 * the leader's as threads of the dumped process did). A positive return
 * names a thread that could not be synchronised.
 */
static void set_seccomp(struct restorer_args *a)
{
	const struct rst_seccomp_filter *f = (const void *)(unsigned long)a->seccomp;
	struct { __u16 len; __u16 pad[3]; __u64 filter; } prog;	/* struct sock_fprog */
	unsigned int i;
	long r;

	for (i = 0; i < a->nr_seccomp; i++) {
		prog.len = (__u16)f[i].len;
		prog.filter = f[i].insns;
		r = syscall3(__NR_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */,
			     f[i].flags | 1 /* SECCOMP_FILTER_FLAG_TSYNC */, (long)&prog);
		if (r)
			fail(a, "seccomp(SECCOMP_SET_MODE_FILTER, TSYNC)", r > 0 ? -1 : r);
	}
}

/*
 * Signals pending at dump time, queued again while still blocked: the
 * process queue by the leader (@tid 0), each thread's queue by that thread.
 */
static void queue_pending(struct restorer_args *a, __u32 first, __u32 nr, __u32 tid)
{
	struct rst_pending *pending = (struct rst_pending *)(unsigned long)a->pending;
	unsigned int i;

	for (i = first; i < first + nr; i++) {
		struct rst_pending *p = &pending[i];

		if (!tid)
			TRY(a, syscall3(__NR_rt_sigqueueinfo, a->pid, p->signo, (long)p->info),
			    "rt_sigqueueinfo of a pending signal");
		else
			TRY(a, syscall4(__NR_rt_tgsigqueueinfo, a->pid, tid, p->signo, (long)p->info),
			    "rt_tgsigqueueinfo of a pending signal");
	}
}

/* What the kernel keeps per thread (a thread made here has the leader's so far). */
static void set_thread_prctls(struct restorer_args *a, struct rst_thread *t)
{
	if (t->timerslack)	/* 0: a real-time thread, which has no slack */
		TRY(a, sys_prctl(R_PR_SET_TIMERSLACK, t->timerslack, 0, 0, 0), "PR_SET_TIMERSLACK");
	if (t->tsc)
		TRY(a, sys_prctl(R_PR_SET_TSC, t->tsc, 0, 0, 0), "PR_SET_TSC");
	if (t->mce_kill == R_PR_MCE_KILL_DEFAULT + 1)
		TRY(a, sys_prctl(R_PR_MCE_KILL, R_PR_MCE_KILL_CLEAR, 0, 0, 0), "PR_MCE_KILL_CLEAR");
	else if (t->mce_kill)
		TRY(a, sys_prctl(R_PR_MCE_KILL, R_PR_MCE_KILL_SET, t->mce_kill - 1, 0, 0),
		    "PR_MCE_KILL_SET");
}

static void set_thread_state(struct restorer_args *a, struct rst_thread *t)
{
	const char *what;

	if (t->comm[0])
		sys_prctl(15 /* PR_SET_NAME */, (unsigned long)t->comm, 0, 0, 0);
	if (t->has_altstack) {
		struct std_stack ss;

		memset(&ss, 0, sizeof(ss));
		ss.ss_sp = (void *)(unsigned long)t->altstack_sp;
		ss.ss_flags = (int)t->altstack_flags;
		ss.ss_size = t->altstack_size;
		TRY(a, sys_sigaltstack(&ss, 0), "sigaltstack");
	}
	if (t->has_rseq)
		TRY(a, syscall4(__NR_rseq, t->rseq_ptr, t->rseq_len, 0, t->rseq_sig), "rseq");
	if (t->has_robust)
		TRY(a, syscall2(__NR_set_robust_list, t->robust_list, t->robust_len), "set_robust_list");
	/* none: not the address a clone or criu's fork left there */
	syscall1(__NR_set_tid_address, t->has_tid_addr ? t->tid_addr : 0);
	set_thread_prctls(a, t);
	TRY(a, arch_set_tls(t, &what), what);
}

#define R_IOPRIO_WHO_PROCESS	1
#define R_MAX_NODES		(RST_MASK_WORDS * 64)

/*
 * CPU affinity, I/O priority and NUMA policy: each thread its own (a new
 * thread has its creator's until then), before the credentials change.
 */
static void set_thread_sched(struct restorer_args *a, struct rst_thread *t)
{
	__u64 every[RST_MASK_WORDS];

	if (t->nr_cpus) {
		TRY(a, syscall3(__NR_sched_setaffinity, 0, t->nr_cpus * 8, (long)t->cpus),
		    "sched_setaffinity");
	} else {
		memset(every, 0xff, sizeof(every));
		TRY(a, syscall3(__NR_sched_setaffinity, 0, sizeof(every), (long)every),
		    "sched_setaffinity to every cpu");
	}
	if (t->has_ioprio)
		TRY(a, syscall3(__NR_ioprio_set, R_IOPRIO_WHO_PROCESS, 0, t->ioprio), "ioprio_set");
	if (t->has_mempolicy)
		TRY(a, syscall3(__NR_set_mempolicy, t->mempolicy, (long)t->nodes, R_MAX_NODES + 1),
		    "set_mempolicy");
}

static void futex_wait(__u32 *word, __u32 val)
{
	syscall4(__NR_futex, (long)word, 0 /* FUTEX_WAIT */, val, 0);
}

static void futex_wake(__u32 *word)
{
	syscall3(__NR_futex, (long)word, 1 /* FUTEX_WAKE */, 0x7fffffff);
}

struct k_clone_args {
	__u64 flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	__u64 set_tid, set_tid_size, cgroup;
};

/* VM | FS | FILES | SIGHAND | THREAD | SYSVSEM */
#define R_CLONE_THREAD_FLAGS	(0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000)
#define R_CLONE_CHILD_CLEARTID	0x200000
#define R_CTID_LIVE		0xffffffffu	/* the thread's stack is in use */
#define R_LOCK_EX		2
#define R_LOCK_UN		8
/*
 * Tries of one thread's tid through ns_last_pid, 1 ms more between each:
 * a process that took the tid (a compiler of a parallel build, say) must
 * end before the tid is free again, so quick retries alone are not enough.
 */
#define R_NS_LAST_PID_TRIES	64

static void thread_main(struct restorer_args *a, long idx) __attribute__((noreturn));

/*
 * Thread @i with its dumped tid: 0 done, < 0 an error. With ns_last_pid a
 * fork elsewhere on the host may take the tid first: the thread that got
 * another tid ends at once (thread_main checks), and once the kernel has
 * cleared @ctid (the thread no longer uses its stack) 1 says "try again".
 */
static long make_thread(struct restorer_args *a, struct rst_thread *t, unsigned int i)
{
	struct k_clone_args ca;
	__u64 tid = t[i].tid;	/* set_tid is an array of pid_t: first 4 bytes */
	__u32 ctid = 0;
	long r;

	memset(&ca, 0, sizeof(ca));
	ca.flags = R_CLONE_THREAD_FLAGS;
	ca.stack = t[i].stack_top - RST_THREAD_STACK_SIZE;
	ca.stack_size = RST_THREAD_STACK_SIZE;
	if (a->ns_last_pid_fd >= 0) {
		char buf[16];
		int n = std_snprintf(buf, sizeof(buf), "%u", t[i].tid - 1);

		TRY(a, syscall4(__NR_pwrite64, a->ns_last_pid_fd, (long)buf, n, 0),
		    "write to ns_last_pid for a thread");
		/*
		 * Not CLONE_CHILD_SETTID: the kernel writes that when the child
		 * first runs, maybe after this frame is gone (a word of the
		 * leader's stack overwritten) or after we saw 0 and reused the
		 * stack (two threads on one stack). @ctid is set before the
		 * child exists and only the kernel's clear at its exit changes it.
		 */
		ctid = R_CTID_LIVE;
		ca.flags |= R_CLONE_CHILD_CLEARTID;
		ca.child_tid = (__u64)(unsigned long)&ctid;
	} else {
		ca.set_tid = (__u64)(unsigned long)&tid;
		ca.set_tid_size = 1;
	}
	r = arch_clone_thread(&ca, sizeof(ca), thread_main, a, (long)i);
	if (r < 0 || r == (long)t[i].tid)
		return r < 0 ? r : 0;
	if (a->ns_last_pid_fd < 0)	/* set_tid cannot give another: never retry */
		fail(a, "a thread got another tid than the dumped one", -1);
	while (__atomic_load_n(&ctid, __ATOMIC_SEQ_CST))
		futex_wait(&ctid, R_CTID_LIVE);
	return 1;
}

/*
 * Every thread with its tid. Through ns_last_pid, the same lock as criu's
 * forks (restore-fork.c) is held from the first write to the last clone:
 * another restore's fork would otherwise take the tid just written.
 */
static void make_threads(struct restorer_args *a)
{
	struct rst_thread *t = (struct rst_thread *)(unsigned long)a->threads;
	unsigned int i;

	if (a->ns_last_pid_fd >= 0)
		TRY(a, syscall2(__NR_flock, a->ns_last_pid_fd, R_LOCK_EX), "flock of ns_last_pid");
	for (i = 1; i < a->nr_threads; i++) {
		unsigned int tries = 0;
		long r;

		while ((r = make_thread(a, t, i)) > 0 && ++tries < R_NS_LAST_PID_TRIES) {
			struct { __s64 sec, nsec; } wait = { 0, 1000000L * tries };

			syscall2(__NR_nanosleep, (long)&wait, 0);
		}
		if (r < 0)
			fail(a, "clone3 of a thread (its tid in use?)", r);
		if (r > 0)
			fail(a, "a thread got another tid than the dumped one", -1);
	}
	if (a->ns_last_pid_fd >= 0)
		syscall2(__NR_flock, a->ns_last_pid_fd, R_LOCK_UN);
}

struct k_sigevent {
	__u64 value;
	__s32 signo;
	__s32 notify;
	__s32 tid;
	__s32 pad[11];
};

struct k_itimerspec {
	__s64 int_sec, int_nsec, val_sec, val_nsec;
};

#define R_PR_TIMER_CREATE_RESTORE_IDS	77

/*
 * POSIX timers, after the threads exist (SIGEV_THREAD_ID names one): with
 * PR_TIMER_CREATE_RESTORE_IDS on, timer_create takes the id it is given.
 */
static void make_timers(struct restorer_args *a)
{
	unsigned int i;

	if (!a->nr_timers)
		return;
	TRY(a, sys_prctl(R_PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0),
	    "PR_TIMER_CREATE_RESTORE_IDS (this kernel cannot give a timer its id)");
	for (i = 0; i < a->nr_timers; i++) {
		struct rst_timer *t = &a->timers[i];
		struct k_sigevent ev;
		struct k_itimerspec its;
		__s32 id = t->id;
		long r;

		memset(&ev, 0, sizeof(ev));
		ev.value = t->sival;
		ev.signo = (__s32)t->signo;
		ev.notify = (__s32)t->notify;
		ev.tid = (__s32)t->notify_tid;
		r = syscall3(__NR_timer_create, t->clock, (long)&ev, (long)&id);
		if (r < 0)
			fail(a, "timer_create", r);
		if (id != t->id)
			fail(a, "timer_create gave another id", -1);
		if (!t->value_ns)
			continue;
		its.int_sec = (__s64)(t->interval_ns / 1000000000ULL);
		its.int_nsec = (__s64)(t->interval_ns % 1000000000ULL);
		its.val_sec = (__s64)(t->value_ns / 1000000000ULL);
		its.val_nsec = (__s64)(t->value_ns % 1000000000ULL);
		TRY(a, syscall4(__NR_timer_settime, id, 0, (long)&its, 0), "timer_settime");
	}
	TRY(a, sys_prctl(R_PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0), "PR_TIMER_CREATE_RESTORE_IDS off");
}

/* Every thread ends here: out through the vdso when possible, else directly. */
static void __attribute__((noreturn)) leave(struct restorer_args *a, struct rst_thread *t, int leader)
{
	unsigned long uc;

	if (a->final_gadget) {
		arch_build_frame(a, t, t->final_frame, t->final_fpu);
		if (leader)
			uc = arch_build_gadget_frame(a, t, __NR_munmap, a->region_start, a->region_len, 0);
		else	/* one byte (of the final frame) tells the leader we are out */
			uc = arch_build_gadget_frame(a, t, __NR_write, (__u64)(long)a->sync_fd[1],
						t->final_frame, 1);
	} else {
		uc = arch_build_frame(a, t, t->frame, t->fpu);
	}
	arch_sigreturn(uc);
}

static void thread_main(struct restorer_args *a, long idx)
{
	struct rst_thread *t = (struct rst_thread *)(unsigned long)a->threads + idx;

	if (sys_gettid() != (int)t->tid)	/* ns_last_pid lost a race: the leader tries again */
		syscall1(__NR_exit, 0);
	set_thread_state(a, t);
	set_thread_sched(a, t);
	queue_pending(a, t->pending_first, t->nr_pending, t->tid);
	set_creds(a);
	__atomic_add_fetch(&a->nr_ready, 1, __ATOMIC_SEQ_CST);
	futex_wake(&a->nr_ready);
	while (!__atomic_load_n(&a->go, __ATOMIC_SEQ_CST))
		futex_wait(&a->go, 0);
	leave(a, t, 0);
}

/*
 * The root of a detached restore: criu exits after the release, and the
 * root goes to a subreaper (or init) then. Its parent death signal is for
 * that new parent, not for criu: set it once criu is no longer the parent
 * (waited for on a pidfd of criu, polled where there is none). Should the
 * new parent die before the signal is set, the kernel sends nothing: the
 * parent is looked at again and the signal raised here then.
 */
static void pdeath_once_criu_gone(struct restorer_args *a)
{
	struct { __s64 sec, nsec; } ms = { 0, 1000000 };
	struct { int fd; short events, revents; } pfd = { -1, 1 /* POLLIN */, 0 };
	long ppid;

	pfd.fd = (int)syscall2(__NR_pidfd_open, a->pdeath_after, 0);
	if (pfd.fd >= 0) {
		while (syscall0(__NR_getppid) == (long)a->pdeath_after &&
		       syscall4(__NR_ppoll, (long)&pfd, 1, 0, 0) == -4 /* EINTR */)
			;
		syscall1(__NR_close, pfd.fd);
	}
	while ((ppid = syscall0(__NR_getppid)) == (long)a->pdeath_after)
		syscall2(__NR_nanosleep, (long)&ms, 0);
	sys_prctl(R_PR_SET_PDEATHSIG, a->pdeath_sig, 0, 0, 0);
	if (syscall0(__NR_getppid) != ppid)
		syscall2(__NR_kill, a->pid, a->pdeath_sig);
}

void restorer_main(struct restorer_args *a)
{
	struct rst_thread *leader = (struct rst_thread *)(unsigned long)a->threads;
	unsigned int i;
	__u32 n;

	if (a->magic != RESTORER_ARGS_MAGIC)
		sys_exit_group(125);
	for (i = 0; i < a->nr_unmap; i++)
		TRY(a, sys_munmap((void *)(unsigned long)a->unmap[i].start,
				  a->unmap[i].end - a->unmap[i].start), "munmap of criu's memory");
	move_specials(a);
	place_vmas(a);
	install_guards(a);
	if (a->staging_len)
		TRY(a, sys_munmap((void *)(unsigned long)a->staging_start, a->staging_len),
		    "munmap of the staging area");
	set_mlockall(a);
	set_process_state(a);
	make_threads(a);	/* while still privileged: set_tid needs it */
	make_timers(a);
	if (a->ns_last_pid_fd >= 0)
		sys_close(a->ns_last_pid_fd);
	set_thread_state(a, leader);
	set_thread_sched(a, leader);
	queue_pending(a, 0, a->nr_shared_pending, 0);
	queue_pending(a, leader->pending_first, leader->nr_pending, leader->tid);
	while ((n = __atomic_load_n(&a->nr_ready, __ATOMIC_SEQ_CST)) < a->nr_threads - 1)
		futex_wait(&a->nr_ready, n);
	/* every thread ready: they wait under the filters from now on */
	if (!a->seccomp_late)
		set_seccomp(a);
	set_creds(a);
	if (a->seccomp_late)
		set_seccomp(a);	/* before "R": a failure here is still the restore's */

	/* Before "R": criu may exit as soon as it reads it (-d). */
	sys_prctl(R_PR_SET_PDEATHSIG, a->pdeath_after ? 0 : a->pdeath_sig, 0, 0, 0);
	{
		/*
		 * "R<address>": the region that goes away last, once every
		 * thread is out; criu waits for it to leave the task's maps.
		 */
		char ready[48];
		int n = std_snprintf(ready, sizeof(ready), "R%u %llx\n", a->pid,
				     a->final_gadget ? (unsigned long long)a->region_start : 0ull);

		if (n > 0)
			sys_write(a->status_fd, ready, (size_t)n);
	}
	for (i = 0; i < a->nr_close; i++)
		sys_close(a->close_fds[i]);
	sys_close(a->status_fd);
	/* Nobody of the tree runs before every one of them is ready. */
	{
		char go;
		long r;

		do
			r = sys_read(a->go_fd, &go, 1);
		while (r == -4 /* EINTR */);
		if (r != 1)
			sys_exit_group(1);	/* criu gave up or died */
		sys_close(a->go_fd);
	}
	if (a->stop_sig)
		stop_self(a);
	if (a->pdeath_after)
		pdeath_once_criu_gone(a);

	__atomic_store_n(&a->go, 1, __ATOMIC_SEQ_CST);
	futex_wake(&a->go);
	if (a->final_gadget && a->nr_threads > 1) {
		/* the region goes away with the leader: wait until every thread is out */
		char buf[256];
		long got = 0, r, want;

		while (got < (long)a->nr_threads - 1) {
			want = (long)a->nr_threads - 1 - got;
			r = sys_read(a->sync_fd[0], buf, want < (long)sizeof(buf) ? (unsigned long)want : sizeof(buf));
			if (r <= 0 && r != -4 /* EINTR */)
				sys_exit_group(126);	/* cannot happen: the write end is ours */
			if (r > 0)
				got += r;
		}
	}
	if (a->sync_fd[0] >= 0) {
		sys_close(a->sync_fd[0]);
		sys_close(a->sync_fd[1]);
	}
	leave(a, leader, 1);
}
