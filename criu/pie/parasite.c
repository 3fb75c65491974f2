/*
 * criu's parasite: runs inside the dumped task (see parasite-proto.h for the
 * commands). It only reads state; the one exception is umask, which can only
 * be read by setting it, and is set back at once.
 */
#include <std/syscall.h>
#include <std/string.h>
#include <std/log.h>
#include <std/parasite.h>
#include "parasite-proto.h"
#include "kernel-compat.h"
#include "parasite-arch.h"

#define P_EPERM			1
#define P_EINVAL		22
#define P_ENOSYS		38
#define P_SIGKILL		9
#define P_SIGSTOP		19
#define P_PR_GET_PDEATHSIG	2
#define P_PR_GET_DUMPABLE	3
#define P_PR_GET_CHILD_SUBREAPER 37
#define P_PR_GET_TID_ADDRESS	40
#define P_PR_GET_THP_DISABLE	42
#define P_PR_GET_TSC		25
#define P_PR_GET_SECUREBITS	27
#define P_PR_GET_TIMERSLACK	30
#define P_PR_MCE_KILL_GET	34
#define P_PR_GET_SPECULATION_CTRL 52

struct k_itimerval {
	long	it_interval_sec, it_interval_usec;
	long	it_value_sec, it_value_usec;
};

struct k_itimerspec {
	long	it_interval_sec, it_interval_nsec;
	long	it_value_sec, it_value_nsec;
};

static int dump_pages(struct parasite_ctx *ctx)
{
	struct parasite_pages *p = ctx->args;
	struct std_iovec iov[64];
	unsigned int i = 0, n;
	__u64 done = 0, off = 0;	/* off: bytes of iov[i] already spliced */
	long ret;

	if (ctx->nfds != 1 || p->nr_iovs > PARASITE_MAX_IOVS)
		return -P_EINVAL;
	while (i < p->nr_iovs) {
		/* Batch up to 64 iovecs from where the last call stopped. */
		for (n = 0; n < 64 && i + n < p->nr_iovs; n++) {
			iov[n].iov_base = (void *)(unsigned long)p->iov[i + n].base;
			iov[n].iov_len = p->iov[i + n].len;
		}
		iov[0].iov_base = (char *)iov[0].iov_base + off;
		iov[0].iov_len -= off;
		ret = sys_vmsplice(ctx->fds[0], iov, n, 0);
		if (ret < 0) {
			pr_err("vmsplice at %lx: %ld", (unsigned long)iov[0].iov_base, ret);
			return (int)ret;
		}
		if (ret == 0)
			return -5;	/* EIO: the pipe went away */
		done += ret;
		/* Advance over what the kernel took. */
		ret += off;
		while (i < p->nr_iovs && (__u64)ret >= p->iov[i].len) {
			ret -= p->iov[i].len;
			i++;
		}
		off = ret;
	}
	return done == p->total ? 0 : -P_EINVAL;
}

/* Per-thread prctl values: the kernel keeps them in each task, not the process. */
static long thread_prctls(struct parasite_thread *t)
{
	int v = 0;
	long ret;

	t->timerslack = (__u64)sys_prctl(P_PR_GET_TIMERSLACK, 0, 0, 0, 0);
	ret = sys_prctl(P_PR_GET_TSC, (unsigned long)&v, 0, 0, 0);
	if (ret)
		return ret;
	t->tsc = (__u32)v;
	ret = sys_prctl(P_PR_MCE_KILL_GET, 0, 0, 0, 0);
	if (ret < 0)
		return ret;
	t->mce_kill = (__u32)ret;
	ret = sys_prctl(P_PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (ret < 0)
		return ret;
	t->securebits = (__u32)ret;
	ret = sys_prctl(P_PR_GET_PDEATHSIG, (unsigned long)&v, 0, 0, 0);
	if (ret)
		return ret;
	t->pdeath_sig = (__u32)v;
	return 0;
}

/* What criu compares with its own (task-features.h); errors are values too. */
static void thread_features(struct parasite_thread *t)
{
	int i;

	for (i = 0; i < 3; i++)
		t->spec[i] = sys_prctl(P_PR_GET_SPECULATION_CTRL, i, 0, 0, 0);
	arch_thread_features(t);
}

#define P_KEY_SPEC_THREAD_KEYRING	(-1)
#define P_KEY_SPEC_PROCESS_KEYRING	(-2)
#define P_KEY_SPEC_SESSION_KEYRING	(-3)
#define P_KEY_SPEC_USER_SESSION_KEYRING	(-5)
#define P_KEYCTL_GET_KEYRING_ID		0
#define P_WALL				0x40000000

/*
 * Asking for the session keyring installs the user's session keyring in a
 * thread that has none: a child of the thread asks, with a copy of its
 * credentials, and what it installs dies with it. keyring_child tells the
 * dump when the child could not be made or did not end well.
 */
static void thread_session_keyrings(struct parasite_thread *t)
{
	int status = 0;
	long kid;

	kid = arch_clone_ask_session(&t->keyring_session, &t->keyring_user_session,
				     P_KEY_SPEC_SESSION_KEYRING, P_KEY_SPEC_USER_SESSION_KEYRING);
	if (kid < 0) {
		t->keyring_child = (__s32)kid;
		return;
	}
	if (syscall4(__NR_wait4, kid, (long)&status, P_WALL, 0) != kid)
		t->keyring_child = -P_EINVAL;
	else if (status)
		t->keyring_child = status;
}

/*
 * NUMA policy and keyrings of the calling thread. A keyring the kernel
 * cannot tell (no keys support: -ENOSYS) is left as the error. Without
 * create, the thread and process keyrings are only looked at.
 */
static long thread_mem_keys(struct parasite_thread *t)
{
	int mode = 0;
	long ret;

	ret = syscall5(__NR_get_mempolicy, (long)&mode, (long)t->mempolicy_nodes,
		       PARASITE_MAX_NODES, 0, 0);
	if (ret == -P_ENOSYS)
		mode = 0;	/* no NUMA in this kernel: the default policy */
	else if (ret)
		return ret;
	t->mempolicy = mode;
	t->keyring_thread = (__s32)syscall3(__NR_keyctl, P_KEYCTL_GET_KEYRING_ID,
					    P_KEY_SPEC_THREAD_KEYRING, 0);
	t->keyring_process = (__s32)syscall3(__NR_keyctl, P_KEYCTL_GET_KEYRING_ID,
					     P_KEY_SPEC_PROCESS_KEYRING, 0);
	thread_session_keyrings(t);
	return 0;
}

/* sigaltstack, clear-tid address, prctl values, NUMA policy and keyrings of the calling thread */
static long thread_state(struct parasite_thread *t)
{
	struct std_stack ss;
	unsigned long tid_addr = 0;
	long ret;

	memset(t, 0, sizeof(*t));
	ret = sys_sigaltstack(NULL, &ss);
	if (ret)
		return (int)ret;
	t->ss_sp = (unsigned long)ss.ss_sp;
	t->ss_size = ss.ss_size;
	t->ss_flags = ss.ss_flags;
	ret = sys_prctl(P_PR_GET_TID_ADDRESS, (unsigned long)&tid_addr, 0, 0, 0);
	if (ret)
		return (int)ret;
	t->clear_tid_addr = tid_addr;
	thread_features(t);
	ret = thread_prctls(t);
	return ret ? (int)ret : (int)thread_mem_keys(t);
}

static int dump_thread(struct parasite_ctx *ctx)
{
	return (int)thread_state(ctx->args);
}

/*
 * The process's membarrier registrations. Before 6.3 the kernel cannot list
 * them: each private kind is seen by issuing its command (a barrier, or
 * EPERM when not registered); a global expedited one cannot be seen at all.
 */
static int membarrier_state(struct parasite_misc *m)
{
	static const int reg[] = { MEMBARRIER_REGISTER_PRIVATE_EXPEDITED,
				   MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
				   MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_RSEQ };
	long ret = syscall3(__NR_membarrier, MEMBARRIER_GET_REGISTRATIONS, 0, 0);
	unsigned int i;

	if (ret >= 0 || ret == -P_ENOSYS) {
		m->membarrier = ret < 0 ? 0 : (__u32)ret;
		return 0;
	}
	if (ret != -P_EINVAL)
		return (int)ret;
	m->membarrier_unseen = MEMBARRIER_REGISTER_GLOBAL_EXPEDITED;
	for (i = 0; i < sizeof(reg) / sizeof(reg[0]); i++) {
		/* the command a registration allows is the bit below it */
		ret = syscall3(__NR_membarrier, reg[i] >> 1, 0, 0);
		if (!ret)
			m->membarrier |= reg[i];
		else if (ret != -P_EPERM && ret != -P_EINVAL)
			return (int)ret;
	}
	return 0;
}

static int dump_misc(struct parasite_ctx *ctx)
{
	struct parasite_misc *m = ctx->args;
	struct k_itimerval it;
	long ret;
	int sig, i;

	memset(m, 0, sizeof(*m));
	for (sig = 1; sig <= PARASITE_NSIG; sig++) {
		if (sig == P_SIGKILL || sig == P_SIGSTOP)
			continue;
		ret = syscall4(__NR_rt_sigaction, sig, 0, (long)&m->act[sig - 1], 8);
		if (ret)
			return (int)ret;
	}
	for (i = 0; i < 3; i++) {
		ret = sys_getitimer(i, &it);
		if (ret)
			return (int)ret;
		m->itimer[i].interval_sec = it.it_interval_sec;
		m->itimer[i].interval_usec = it.it_interval_usec;
		m->itimer[i].value_sec = it.it_value_sec;
		m->itimer[i].value_usec = it.it_value_usec;
	}
	ret = thread_state(&m->thread);
	if (ret)
		return (int)ret;

	/* umask(2) only reports the old mask by replacing it: put it back. */
	ret = syscall1(__NR_umask, 0);
	syscall1(__NR_umask, ret);
	m->umask = (__u32)ret;

	m->brk = syscall1(__NR_brk, 0);
	ret = syscall1(__NR_personality, 0xffffffffL);
	if (ret < 0)
		return (int)ret;
	m->personality = (__u32)ret;
	ret = sys_prctl(P_PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (ret < 0)
		return (int)ret;
	m->dumpable = (__u32)ret;
	/* EINVAL: a kernel without KSM (or before 6.4), where it cannot be on */
	ret = sys_prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0);
	if (ret < 0 && ret != -P_EINVAL)
		return (int)ret;
	m->memory_merge = ret < 0 ? ~0U : (__u32)ret;
	ret = sys_prctl(P_PR_GET_CHILD_SUBREAPER, (unsigned long)&sig, 0, 0, 0);
	if (ret)
		return (int)ret;
	m->child_subreaper = sig;
	ret = sys_prctl(P_PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (ret < 0)
		return (int)ret;
	m->thp_disabled = (__u32)ret;
	return membarrier_state(m);
}

static int dump_timers(struct parasite_ctx *ctx)
{
	struct parasite_timers *t = ctx->args;
	struct k_itimerspec its;
	unsigned int i;
	long ret;

	if (t->nr > PARASITE_MAX_TIMERS)
		return -P_EINVAL;
	for (i = 0; i < t->nr; i++) {
		ret = syscall2(__NR_timer_gettime, t->t[i].id, (long)&its);
		if (ret)
			return (int)ret;
		ret = syscall1(__NR_timer_getoverrun, t->t[i].id);
		if (ret < 0)
			return (int)ret;
		t->t[i].overrun = (__s32)ret;
		t->t[i].interval_sec = its.it_interval_sec;
		t->t[i].interval_nsec = its.it_interval_nsec;
		t->t[i].value_sec = its.it_value_sec;
		t->t[i].value_nsec = its.it_value_nsec;
	}
	return 0;
}

#define P_MPOL_F_ADDR	(1 << 1)

static int vma_policies(struct parasite_ctx *ctx)
{
	struct parasite_vma_policies *v = ctx->args;
	unsigned int i;

	if (v->nr > PARASITE_MAX_VMA_POLICIES)
		return -P_EINVAL;
	for (i = 0; i < v->nr; i++) {
		int mode = 0;
		long ret = syscall5(__NR_get_mempolicy, (long)&mode, 0, 0, v->addr[i], P_MPOL_F_ADDR);

		v->mode[i] = ret ? (__s32)ret : mode;
	}
	return 0;
}

#define P_O_CLOEXEC		02000000
#define P_O_NONBLOCK		04000
#define P_UFFD_USER_MODE_ONLY	1
#define P_UFFD_API		0xaa
#define P_UFFDIO_API		_IOWR(0xaa, 0x3f, struct p_uffdio_api)
#define P_UFFDIO_REGISTER	_IOWR(0xaa, 0x00, struct p_uffdio_register)
#define P_UFFDIO_REGISTER_MODE_WP 2

struct p_uffdio_api {
	__u64	api, features, ioctls;
};

struct p_uffdio_register {
	__u64	start, len, mode, ioctls;
};

/* A new userfaultfd at number @fd, with the asked features. */
static int track_create(const struct parasite_track *t)
{
	struct p_uffdio_api api = { .api = P_UFFD_API, .features = t->features };
	long u, ret;

	u = syscall1(__NR_userfaultfd, P_O_CLOEXEC | P_O_NONBLOCK | P_UFFD_USER_MODE_ONLY);
	if (u < 0)
		return (int)u;
	ret = syscall3(__NR_ioctl, u, P_UFFDIO_API, (long)&api);
	if (!ret && u != t->fd)
		ret = syscall3(__NR_dup3, u, t->fd, P_O_CLOEXEC);
	if (u != t->fd)
		sys_close((int)u);
	return ret < 0 ? (int)ret : 0;
}

static int track_mem(struct parasite_ctx *ctx)
{
	struct parasite_track *t = ctx->args;
	unsigned int i;
	int ret;

	if (t->nr > PARASITE_MAX_TRACK || t->fd < 0)
		return -P_EINVAL;
	if (t->create && (ret = track_create(t)) < 0)
		return ret;
	for (i = 0; i < t->nr; i++) {
		struct p_uffdio_register r = {
			.start = t->range[i].base, .len = t->range[i].len,
			.mode = P_UFFDIO_REGISTER_MODE_WP,
		};

		t->res[i] = (__s32)syscall3(__NR_ioctl, t->fd, P_UFFDIO_REGISTER, (long)&r);
	}
	return 0;
}

int parasite_cmd(unsigned int cmd, struct parasite_ctx *ctx)
{
	switch (cmd) {
	case PARASITE_CMD_DUMP_PAGES:
		return dump_pages(ctx);
	case PARASITE_CMD_DUMP_MISC:
		return dump_misc(ctx);
	case PARASITE_CMD_DUMP_TIMERS:
		return dump_timers(ctx);
	case PARASITE_CMD_DUMP_THREAD:
		return dump_thread(ctx);
	case PARASITE_CMD_VMA_POLICIES:
		return vma_policies(ctx);
	case PARASITE_CMD_TRACK_MEM:
		return track_mem(ctx);
	}
	return -P_EINVAL;
}
