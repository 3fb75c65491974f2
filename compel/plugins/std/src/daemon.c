/*
 * The parasite's command loop and its way home.
 *
 * std_daemon_main() runs in the thread libcompel infected: it connects
 * to the caller, then serves commands until the caller stops it with
 * ptrace or the socket closes.  A closed socket means the caller died:
 * the daemon then puts the task back by itself with rt_sigreturn on the
 * frame libcompel built (registers, signal mask, FPU state).
 *
 * std_thread_main() runs one command in another thread, reports, then
 * parks in ppoll() on the socket: libcompel takes the thread back with
 * ptrace, or the socket hangs up and the thread returns by itself.
 */
#include <std/syscall.h>
#include <std/string.h>
#include <std/log.h>
#include <std/parasite.h>
#include "protocol.h"
#include "sigframe-abi.h"

#define UC_STACK_OFF	__builtin_offsetof(struct k_ucontext, uc_stack)
#define EINVAL		22
#define EPROTO		71

void std_sigreturn(unsigned long uc) __attribute__((noreturn));
void std_go_home(unsigned long uc, unsigned long home, __u32 *users,
		 unsigned long base, unsigned long size, const __u64 *rseq)
	__attribute__((noreturn));
long std_daemon_main(struct compel_shared *h);
long std_thread_main(struct compel_thread_slot *sl);

static int sock = -1;

/*
 * First thing a parasite thread does: block every signal (libcompel set
 * that mask too, but a caller killed half-way may not have) and note
 * what was pending, so that going home can drop a SIGPIPE we caused.
 */
static void enter(struct compel_cure_info *ci)
{
	__u64 all = ~0ULL;

	sys_rt_sigprocmask(STD_SIG_BLOCK, &all, 0);
	sys_rt_sigpending(&ci->pending);
}

#define SA_RESTART	0x10000000UL
#define ERESTARTSYS	512
#define ERESTARTNOINTR	513

struct k_sigaction {
	unsigned long	handler, flags, restorer;
	__u64		mask;
};

/*
 * rt_sigreturn cannot carry "restart pending", so the frame backs the
 * thread up to its syscall instruction.  If a signal with a handler is
 * about to be delivered, the kernel would have failed the syscall with
 * EINTR instead (as it does on resume): do the same in the frame.
 * `pending` includes what was pending when compel stopped the thread:
 * if the caller died before the parasite blocked signals, a handler may
 * already have run for it on our way in.
 */
static void restart_or_eintr(struct compel_cure_info *ci, __u64 pending)
{
	__u64 deliver = pending & ~ci->sigmask;
	struct k_sigaction ka;
	int sig, eintr = 0;

	if (!ci->restart || !deliver)
		return;
	for (sig = 1; sig <= 64; sig++) {
		if (!(deliver & (1ULL << (sig - 1))) ||
		    sys_rt_sigaction(sig, 0, &ka) || ka.handler <= 1 /* DFL, IGN */)
			continue;
		if (ci->restart == ERESTARTSYS)
			eintr = !(ka.flags & SA_RESTART);
		else
			eintr = ci->restart != ERESTARTNOINTR;
		break;	/* the first handled signal decides */
	}
	if (eintr) {
		*(volatile __u64 *)(unsigned long)ci->frame_ax = (__u64)-4L; /* EINTR */
		*(volatile __u64 *)(unsigned long)ci->frame_ip = ci->eintr_ip;
	}
}

/*
 * With a trampoline, the frame is outside the region: the trampoline's
 * HOME entry drops h->users and the last one out unmaps the region, all
 * from the vDSO, before rt_sigreturn.  Without, the region stays.
 */
static __attribute__((noreturn)) void go_home(struct compel_shared *h,
					      struct compel_cure_info *ci)
{
	__u64 pipe = 1ULL << (STD_SIGPIPE - 1), now = 0;
	struct std_timespec zero = { 0, 0 };
	char info[128];

	sys_rt_sigpending(&now);
	if ((now & pipe) && !(ci->pending & pipe)) {
		sys_rt_sigtimedwait(&pipe, info, &zero);
		now &= ~pipe;
	}
	restart_or_eintr(ci, now | ci->stop_pending);
	if (h->tramp_home)	/* puts rseq_cs back after the munmap */
		std_go_home(ci->frame_uc, h->tramp_home, &h->users, h->base, h->size,
			    &ci->rseq_cs_ptr);
	if (ci->rseq_cs_ptr)
		*(volatile __u64 *)(unsigned long)ci->rseq_cs_ptr = ci->rseq_cs_val;
	std_sigreturn(ci->frame_uc);
}

static int send_msg(int fd, struct compel_msg *m, const int *fds,
		    unsigned int nfds)
{
	char cbuf[STD_CMSG_SPACE(sizeof(int) * COMPEL_MAX_FDS)]
		__attribute__((aligned(8)));
	struct std_iovec iov = { m, sizeof(*m) };
	struct std_msghdr mh = { 0 };
	struct std_cmsghdr *c = (struct std_cmsghdr *)cbuf;

	if (nfds > COMPEL_MAX_FDS)
		return -EINVAL;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	m->nfds = nfds;
	if (nfds) {
		c->cmsg_len = STD_CMSG_LEN(sizeof(int) * nfds);
		c->cmsg_level = STD_SOL_SOCKET;
		c->cmsg_type = STD_SCM_RIGHTS;
		memcpy(STD_CMSG_DATA(c), fds, sizeof(int) * nfds);
		mh.msg_control = cbuf;
		mh.msg_controllen = STD_CMSG_SPACE(sizeof(int) * nfds);
	}
	return sys_sendmsg(fd, &mh, STD_MSG_NOSIGNAL) == sizeof(*m) ? 0 : -EPROTO;
}

/* Receive one message; fds land in fds[], *nfds of them.  <0: hang-up. */
static int recv_msg(int fd, struct compel_msg *m, int *fds, unsigned int *nfds)
{
	char cbuf[STD_CMSG_SPACE(sizeof(int) * COMPEL_MAX_FDS)]
		__attribute__((aligned(8)));
	struct std_iovec iov = { m, sizeof(*m) };
	struct std_msghdr mh = { 0 };
	struct std_cmsghdr *c = (struct std_cmsghdr *)cbuf;
	long ret;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	*nfds = 0;
	ret = sys_recvmsg(fd, &mh, STD_MSG_CMSG_CLOEXEC);
	if (ret != sizeof(*m))
		return -EPROTO;
	if (mh.msg_controllen >= sizeof(*c) && c->cmsg_level == STD_SOL_SOCKET &&
	    c->cmsg_type == STD_SCM_RIGHTS) {
		*nfds = (c->cmsg_len - STD_CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, STD_CMSG_DATA(c), sizeof(int) * *nfds);
	}
	return 0;
}

int std_send_fds(struct parasite_ctx *ctx, const int *fds, unsigned int n)
{
	struct compel_msg m = { COMPEL_MSG_FDS, 0, sys_gettid(), n, -1, 0 };

	return send_msg(ctx->sock, &m, fds, n);
}

int std_recv_fds(struct parasite_ctx *ctx, int *fds, unsigned int n)
{
	int got[COMPEL_MAX_FDS];
	struct compel_msg m;
	unsigned int i, nr;

	if (n > COMPEL_MAX_FDS || recv_msg(ctx->sock, &m, got, &nr) < 0)
		return -EPROTO;
	if (m.cmd != COMPEL_MSG_FDS || nr != n) {
		for (i = 0; i < nr; i++)
			sys_close(got[i]);
		return -EPROTO;
	}
	memcpy(fds, got, sizeof(int) * n);
	return 0;
}

static int builtin(struct compel_shared *h, struct compel_msg *m,
		   struct parasite_ctx *ctx)
{
	switch (m->cmd) {
	case COMPEL_CMD_INIT:
		if (ctx->nfds != 1)
			return -EINVAL;
		h->log_fd = ctx->fds[0];
		ctx->fds[0] = -1;
		std_log_set_fd(h->log_fd, h->log_level);
		pr_debug("daemon up in %d, socket %d", sys_gettid(), sock);
		return 0;
	case COMPEL_CMD_SYSCALL:
		h->sc.ret = sys_syscall6(h->sc.nr, h->sc.arg);
		return 0;
	case COMPEL_CMD_PING:
		return sys_gettid();
	}
	return -EINVAL;
}

/* Returns when the caller hangs up (0) or asks us to finish (1). */
static int serve(struct compel_shared *h)
{
	int fds[COMPEL_MAX_FDS];
	struct parasite_ctx ctx;
	struct compel_msg m;
	unsigned int i;
	int ret;

	for (;;) {
		if (recv_msg(sock, &m, fds, &ctx.nfds) < 0)
			return 0;
		ctx.args = (void *)(unsigned long)h->args;
		ctx.args_size = h->args_size;
		ctx.fds = fds;
		ctx.in_thread = 0;
		ctx.sock = sock;
		if (m.cmd == COMPEL_CMD_FINI)
			return 1;	/* no reply: libcompel follows our syscalls */
		if (m.cmd >= COMPEL_CMD_BUILTIN)
			ret = builtin(h, &m, &ctx);
		else
			ret = parasite_cmd(m.cmd, &ctx);
		for (i = 0; i < ctx.nfds; i++)
			if (fds[i] >= 0)
				sys_close(fds[i]);
		m.cmd = COMPEL_MSG_REPLY;
		m.ret = ret;
		m.tid = sys_gettid();
		m.slot = -1;
		if (send_msg(sock, &m, 0, 0) < 0)
			return 0;
	}
}

/* Close our fds; libcompel may have closed one already (slot = -1). */
static void close_fds(struct compel_shared *h)
{
	int fd = *(volatile __s32 *)&h->log_fd;

	*(volatile __s32 *)&h->log_fd = -1;
	if (fd >= 0)
		sys_close(fd);
	fd = *(volatile __s32 *)&h->sock_fd;
	*(volatile __s32 *)&h->sock_fd = -1;
	if (fd >= 0)
		sys_close(fd);
}

/*
 * Self-cure: the last user of the fds closes them (under a seccomp filter
 * that forbids close() without harm, they stay open).
 */
static void release_fds(struct compel_shared *h)
{
	if (__atomic_sub_fetch(&h->fd_users, 1, __ATOMIC_SEQ_CST) == 0)
		close_fds(h);
}

long std_daemon_main(struct compel_shared *h)
{
	int fini = 0;

	enter(&h->daemon);
	sys_sigaltstack(0, (struct std_stack *)(unsigned long)
			(h->daemon.frame_uc + UC_STACK_OFF));
	if (h->sock_fd >= 0) {
		/* Connected by libcompel already (victims under seccomp). */
		sock = h->sock_fd;
		fini = serve(h);
	} else {
		sock = sys_socket(STD_AF_UNIX, STD_SOCK_SEQPACKET | STD_SOCK_CLOEXEC, 0);
		if (sock >= 0) {
			h->sock_fd = sock;
			if (sys_connect(sock, &h->sun_family, 2 + h->addr_len) == 0)
				fini = serve(h);
		}
	}
	/*
	 * Asked to finish: close our fds and go home; libcompel, tracing our
	 * syscalls, takes the thread back at the exit of the last one (the
	 * munmap of the region, or without a trampoline the marker
	 * getppid).  If the caller is gone instead, close the fds and go
	 * home (libcompel refused a victim whose filter could harm that).
	 */
	if (fini)
		close_fds(h);
	else
		release_fds(h);
	if (fini && !h->tramp_home)
		sys_getppid();
	go_home(h, &h->daemon);
}

long std_thread_main(struct compel_thread_slot *sl)
{
	struct compel_shared *h = (struct compel_shared *)(unsigned long)sl->shared;
	struct compel_msg m = { COMPEL_MSG_REPLY, 0, 0, 0, (int)(sl - h->slot), 0 };
	struct std_pollfd pfd = { h->sock_fd, 0, 0 };
	struct parasite_ctx ctx = { 0 };
	long ret;

	enter(&sl->ci);
	sys_sigaltstack(0, (struct std_stack *)(unsigned long)
			(sl->ci.frame_uc + UC_STACK_OFF));
	ctx.args = (void *)(unsigned long)sl->args;
	ctx.args_size = sl->args_size;
	ctx.in_thread = 1;
	ctx.sock = h->sock_fd;
	m.ret = parasite_cmd(sl->cmd, &ctx);
	m.tid = sys_gettid();
	if (pfd.fd >= 0 && send_msg(h->sock_fd, &m, 0, 0) == 0) {
		/* Park until libcompel stops us or the caller hangs up. */
		do
			ret = sys_ppoll(&pfd, 1, 0);
		while (ret == 0 || ret == -4 /* EINTR */);
	}
	release_fds(h);
	go_home(h, &sl->ci);
}
