/*
 * Infection: the shared region, starting the parasite, talking to it,
 * and curing.  The window-by-window kill-safety argument is in
 * Documentation/compel.md; compel_step() marks the boundaries.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

#define PAGE		4096UL
#define STACK_SIZE	(64 * 1024UL)
#define CONNECT_TIMEOUT_MS 10000

struct compel_ctl *compel_prepare(pid_t tid)
{
	struct compel_ctl *ctl = calloc(1, sizeof(*ctl));
	struct compel_creds cr;

	if (!ctl)
		return NULL;
	ctl->pid = tid;
	ctl->listen_fd = ctl->sock = ctl->log_rd = ctl->memfd = -1;
	if (cpl_thread_state_save(&ctl->st, tid))
		goto err;
	if (compel_task_creds(tid, &cr))
		goto err_st;
	ctl->seccomp = cr.seccomp;
	if (ctl->seccomp == 2)
		cpl_seccomp_load(ctl);	/* unknown filters: every call refused */
	if (cpl_rseq_clear(&ctl->st) || cpl_sa_restart_probe(ctl))
		goto err_st;
	compel_step("prepared");
	return ctl;
err_st:
	cpl_rseq_restore(&ctl->st);
	cpl_tramp_remove(ctl);
	cpl_thread_state_free(&ctl->st);
	cpl_seccomp_free(ctl);
err:
	if (ctl->memfd >= 0)
		close(ctl->memfd);
	free(ctl->wr);
	free(ctl);
	return NULL;
}

int compel_in_syscall(struct compel_ctl *ctl, long *nr)
{
	return cpl_arch_in_restartable_syscall(&ctl->st.regs, nr);
}

void *compel_args(struct compel_ctl *ctl)
{
	return ctl->r.local ? ctl->r.local + ctl->r.args_off : NULL;
}

unsigned long compel_args_remote(struct compel_ctl *ctl)
{
	return ctl->r.remote ? ctl->r.remote + ctl->r.args_off : 0;
}

size_t compel_args_size(struct compel_ctl *ctl)
{
	return ctl->r.args_size;
}

static void layout(struct compel_ctl *ctl, const struct compel_blob *b,
		   size_t args_size)
{
	struct region *r = &ctl->r;
	size_t off = PAGE;	/* struct compel_shared */

	r->blob_off = off;
	off += round_up(b->mem_size, PAGE);
	r->frame_size = cpl_arch_frame_size(ctl->st.fpu_len);
	r->dframe_off = off;
	off += r->frame_size;
	r->dstack_top = off + STACK_SIZE;
	r->slot_off = r->dstack_top;
	r->slot_size = r->frame_size + SLOT_STACK + SLOT_ARGS;
	r->args_off = r->slot_off + COMPEL_THREAD_SLOTS * r->slot_size;
	r->args_size = round_up(args_size ? args_size : PAGE, PAGE);
	r->size = r->args_off + r->args_size;
}

/* A socket in the victim's network namespace, so that it can connect. */
static int listen_socket(struct compel_ctl *ctl)
{
	static unsigned int seq;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[64];
	struct stat a, b;
	int own = -1, theirs = -1, fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", ctl->pid);
	if (stat("/proc/self/ns/net", &a) == 0 && stat(path, &b) == 0 &&
	    a.st_ino != b.st_ino) {
		own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		theirs = open(path, O_RDONLY | O_CLOEXEC);
		if (own < 0 || theirs < 0 || setns(theirs, CLONE_NEWNET)) {
			pr_perror("cannot enter the net namespace of %d", ctl->pid);
			goto out;
		}
	}
	ctl->addr_len = 1 + snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
				     "compel-%d-%d-%u-%ld", getpid(), ctl->pid,
				     seq++, (long)time(NULL));
	memcpy(ctl->addr, sun.sun_path, ctl->addr_len);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (void *)&sun, offsetof(struct sockaddr_un, sun_path) +
			   ctl->addr_len) || listen(fd, 1)) {
		pr_perror("control socket");
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (own >= 0 && setns(own, CLONE_NEWNET)) {
		pr_perror("cannot return to our net namespace");
		abort();	/* cannot go on in the wrong namespace */
	}
out:
	if (own >= 0)
		close(own);
	if (theirs >= 0)
		close(theirs);
	return fd;
}

static int is_err(long ret)
{
	return ret < 0 && ret > -4096;
}

/*
 * Map MAP_SHARED|MAP_ANONYMOUS in the victim, then the same pages here.
 * The thread stays in the mmap's syscall-exit stop, the trampoline's
 * munmap armed, until the daemon starts (or the cure): should we die
 * in between, the region goes away with us.
 */
static int map_region(struct compel_ctl *ctl)
{
	unsigned long args[6] = { 0, ctl->r.size, PROT_READ | PROT_WRITE | PROT_EXEC,
				  MAP_SHARED | MAP_ANONYMOUS, -1UL, 0 };
	struct cpl_undo u = { { __NR_munmap, ARCH_NR_SIGRETURN },
			      { 0, 0 }, 1 };
	char path[96];
	long ret;
	void *p;
	int fd;

	if (cpl_rsys(ctl, __NR_mmap, &ret, args, &u, 1))
		return -1;
	if (is_err(ret)) {
		errno = ctl->r.map_err = (int)-ret;
		pr_perror("mmap in %d", ctl->pid);
		return -1;
	}
	ctl->r.remote = ret;
	compel_step("region mapped");
	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", ctl->pid,
		 ctl->r.remote, ctl->r.remote + ctl->r.size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("open %s", path);
		return -1;
	}
	p = mmap(NULL, ctl->r.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		pr_perror("mmap %s", path);
		return -1;
	}
	ctl->r.local = p;
	ctl->hdr = p;
	return 0;
}

static int unmap_region(struct compel_ctl *ctl)
{
	unsigned long args[6] = { ctl->r.remote, ctl->r.size };
	long ret = 0;

	if (ctl->r.local)
		munmap(ctl->r.local, ctl->r.size);
	ctl->r.local = NULL;
	ctl->hdr = NULL;
	if (ctl->region_gone)
		ctl->r.remote = 0;
	if (!ctl->r.remote)
		return 0;
	if (cpl_ptrace_syscall(ctl, __NR_munmap, &ret, args) || ret) {
		pr_err("munmap in %d: %ld", ctl->pid, ret);
		return -1;
	}
	ctl->r.remote = 0;
	compel_step("region unmapped");
	return 0;
}

static void fill_region(struct compel_ctl *ctl, const struct compel_blob *b)
{
	struct compel_shared *h = ctl->hdr;
	struct region *r = &ctl->r;
	uint8_t *blob = r->local + r->blob_off;
	unsigned int i;

	memcpy(blob, b->code, b->code_size);
	memset(blob + b->code_size, 0, b->mem_size - b->code_size);
	for (i = 0; i < b->nr_relocs; i++) {
		uint64_t v;

		memcpy(&v, blob + b->relocs[i], 8);
		v += r->remote + r->blob_off;
		memcpy(blob + b->relocs[i], &v, 8);
	}
	h->magic = COMPEL_SHARED_MAGIC;
	h->base = r->remote;
	h->size = r->size;
	h->args = r->remote + r->args_off;
	h->args_size = r->args_size;
	h->sock_fd = h->log_fd = -1;
	h->fd_users = 1;	/* the daemon; threads add themselves */
	h->log_level = compel_log_max;
	h->addr_len = ctl->addr_len;
	h->sun_family = AF_UNIX;
	memcpy(h->addr, ctl->addr, ctl->addr_len);
	h->users = 1;		/* the daemon */
	ctl->st.pending = cpl_read_pending(ctl->pid);	/* as late as possible */
	/* Home frame outside the region if we can: then the last thread
	 * out may unmap the region on its way home. */
	if (ctl->kept && cpl_stack_frame(ctl, &ctl->st, &h->daemon))
		h->tramp_home = ctl->tramp + ARCH_TRAMPOLINE_HOME;
	else
		cpl_arch_build_frame(&ctl->st, r->local + r->dframe_off,
				     r->remote + r->dframe_off, &h->daemon);
	if (ctl->st.rseq_cleared) {
		h->daemon.rseq_cs_ptr = ctl->st.rseq_cs_ptr;
		h->daemon.rseq_cs_val = ctl->st.rseq_cs_val;
	}
	for (i = 0; i < COMPEL_THREAD_SLOTS; i++)
		h->slot[i].shared = r->remote;
}

/*
 * Under seccomp, the filter is back if we die, and the daemon's own
 * socket()/connect() could then be what it forbids: make them here,
 * remote syscalls made while the filter is suspended.
 */
static int preconnect(struct compel_ctl *ctl)
{
	unsigned long a[6] = { AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0 };
	struct cpl_undo u = { { __NR_close, __NR_munmap },
			      { ctl->r.remote, ctl->r.size }, 1 };
	long fd, ret;

	if (cpl_rsys(ctl, __NR_socket, &fd, a, &u, 1) || is_err(fd)) {
		pr_err("remote socket in %d: %ld", ctl->pid, fd);
		return -1;
	}
	a[0] = fd;
	a[1] = ctl->r.remote + offsetof(struct compel_shared, sun_family);
	a[2] = 2 + ctl->addr_len;
	u.on_result = 0;	/* close(fd), fd being connect's first argument */
	if (cpl_rsys(ctl, __NR_connect, &ret, a, &u, 1) || ret) {
		pr_err("remote connect in %d: %ld", ctl->pid, ret);
		a[0] = fd;
		cpl_ptrace_syscall(ctl, __NR_close, &ret, a);
		return -1;
	}
	ctl->hdr->sock_fd = fd;
	compel_step("socket connected for the daemon");
	return 0;
}

/* Point the thread at the daemon entry; SETREGS before SETSIGMASK. */
static int start_daemon(struct compel_ctl *ctl, const struct compel_blob *b)
{
	uint64_t block = ~0ULL;
	compel_regs_t r = ctl->st.regs;

	cpl_arch_regs_call(&r, ctl->r.remote + ctl->r.blob_off + b->daemon_entry,
		       ctl->r.remote + ctl->r.dstack_top, ctl->r.remote);
	if (cpl_arch_set_regs(ctl->pid, &r))
		return -1;
	ctl->infected = 1;
	ctl->kept = 0;		/* the daemon's way home takes over */
	compel_step("daemon regs set");
	if (ptrace(PTRACE_SETSIGMASK, ctl->pid, (void *)sizeof(block), &block)) {
		pr_perror("PTRACE_SETSIGMASK %d", ctl->pid);
		return -1;
	}
	compel_step("daemon sigmask set");
	if (ptrace(PTRACE_CONT, ctl->pid, NULL, NULL)) {
		pr_perror("PTRACE_CONT %d", ctl->pid);
		return -1;
	}
	ctl->running = 1;
	compel_step("daemon started");
	return 0;
}

static int check_stopped(struct compel_ctl *ctl, pid_t tid);

/* Has a thread running parasite code stopped on its own (a fault)? */
static int check_watched(struct compel_ctl *ctl, pid_t watch)
{
	int i;

	if (watch)
		return check_stopped(ctl, watch);
	for (i = 0; i < ctl->nr_watch; i++)
		if (check_stopped(ctl, ctl->watch[i]))
			return -1;
	return 0;
}

static int check_stopped(struct compel_ctl *ctl, pid_t tid)
{
	int st;
	pid_t p = waitpid(tid, &st, WNOHANG | __WALL);

	if (p <= 0)
		return 0;
	if (WIFSTOPPED(st)) {
		if (tid == ctl->pid) {
			ctl->stop_sig = WSTOPSIG(st);
			ctl->running = 0;
		} else {
			ctl->thread_stop_sig = WSTOPSIG(st);
			ctl->crashed_tid = tid;
		}
		pr_err("thread %d stopped with signal %d in parasite code",
		       tid, WSTOPSIG(st));
	} else {
		pr_err("thread %d died (status 0x%x)", tid, st);
		ctl->running = 0;
		ctl->infected = 0;
	}
	errno = ECHILD;
	return -1;
}

static int wait_readable(struct compel_ctl *ctl, int fd, pid_t watch)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int waited = 0, ret;

	for (;;) {
		ret = poll(&p, 1, 100);
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR) {
			pr_perror("poll");
			return -1;
		}
		if (check_watched(ctl, watch))
			return -1;
		if (fd == ctl->listen_fd && (waited += 100) > CONNECT_TIMEOUT_MS) {
			pr_err("parasite in %d did not connect", ctl->pid);
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

static int send_msg(int sock, struct compel_msg *m, const int *fds, unsigned int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * COMPEL_MAX_FDS)] __aligned(8);
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n > COMPEL_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	m->nfds = n;
	if (n) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != sizeof(*m)) {
		pr_perror("sendmsg to parasite");
		return -1;
	}
	return 0;
}

/* One message from the parasite; fds (up to max_fds) kept, extra closed. */
int cpl_rpc_recv(struct compel_ctl *ctl, struct compel_msg *m, int *fds,
	     unsigned int max_fds, pid_t watch)
{
	char cbuf[CMSG_SPACE(sizeof(int) * COMPEL_MAX_FDS)] __aligned(8);
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	unsigned int n = 0, i;
	int got[COMPEL_MAX_FDS];
	ssize_t ret;

	if (wait_readable(ctl, ctl->sock, watch))
		return -1;
	ret = recvmsg(ctl->sock, &mh, MSG_CMSG_CLOEXEC);
	if (ret != sizeof(*m)) {
		pr_err("parasite in %d hung up (%zd): %m", ctl->pid, ret);
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(got, CMSG_DATA(c), n * sizeof(int));
	}
	for (i = 0; i < n; i++) {
		if (i < max_fds)
			fds[i] = got[i];
		else
			close(got[i]);
	}
	m->nfds = n;
	return 0;
}

void cpl_drain_log(struct compel_ctl *ctl)
{
	char buf[512];
	ssize_t n;

	if (ctl->log_rd < 0)
		return;
	/* One datagram per record: level digit, text, newline. */
	while ((n = recv(ctl->log_rd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		if (buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		if (buf[0] >= '0' && buf[0] <= '3')
			compel_print_raw(buf[0] - '0', "parasite", 0, buf + 1);
	}
}

int compel_rpc_call(struct compel_ctl *ctl, unsigned int cmd, const int *fds,
		    unsigned int nfds)
{
	struct compel_msg m = { .cmd = cmd };

	if (!ctl->running || ctl->sock < 0) {
		pr_err("no parasite running in %d", ctl->pid);
		errno = EINVAL;
		return -1;
	}
	return send_msg(ctl->sock, &m, fds, nfds);
}

int compel_rpc_send_fds(struct compel_ctl *ctl, const int *fds, unsigned int n)
{
	struct compel_msg m = { .cmd = COMPEL_MSG_FDS };

	return send_msg(ctl->sock, &m, fds, n);
}

int compel_rpc_recv_fds(struct compel_ctl *ctl, int *fds, unsigned int nfds)
{
	struct compel_msg m;
	unsigned int i;

	if (cpl_rpc_recv(ctl, &m, fds, nfds, ctl->pid))
		return -1;
	if (m.cmd != COMPEL_MSG_FDS || m.nfds != nfds) {
		pr_err("expected %u fds, got message %#x with %u", nfds, m.cmd, m.nfds);
		for (i = 0; i < min(m.nfds, nfds); i++)
			close(fds[i]);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int compel_rpc_wait(struct compel_ctl *ctl, int *ret)
{
	struct compel_msg m;

	if (cpl_rpc_recv(ctl, &m, NULL, 0, ctl->pid))
		return -1;
	cpl_drain_log(ctl);
	if (m.cmd != COMPEL_MSG_REPLY) {
		pr_err("unexpected message %#x from parasite", m.cmd);
		errno = EPROTO;
		return -1;
	}
	if (ret)
		*ret = m.ret;
	return 0;
}

int compel_rpc_call_sync(struct compel_ctl *ctl, unsigned int cmd, int *ret)
{
	if (compel_rpc_call(ctl, cmd, NULL, 0))
		return -1;
	return compel_rpc_wait(ctl, ret);
}

static int connect_daemon(struct compel_ctl *ctl)
{
	int pfd[2], ret = -1;

	if (wait_readable(ctl, ctl->listen_fd, ctl->pid))
		return -1;
	ctl->sock = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	close(ctl->listen_fd);
	ctl->listen_fd = -1;
	if (ctl->sock < 0) {
		pr_perror("accept");
		return -1;
	}
	compel_step("daemon connected");
	/* Log records come as datagrams: the parasite can never block
	 * on them nor get SIGPIPE when we are gone. */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pfd)) {
		pr_perror("socketpair");
		return -1;
	}
	shutdown(pfd[0], SHUT_WR);
	ctl->log_rd = pfd[0];
	if (compel_rpc_call(ctl, COMPEL_CMD_INIT, &pfd[1], 1) == 0 &&
	    compel_rpc_wait(ctl, &ret) == 0 && ret != 0)
		pr_err("parasite init failed: %d", ret);
	close(pfd[1]);
	if (ret)
		return -1;
	compel_step("daemon ready");
	return 0;
}

int compel_infect(struct compel_ctl *ctl, const struct compel_blob *blob,
		  size_t args_size)
{
	if (ctl->infected || ctl->r.remote) {
		pr_err("%d is already infected", ctl->pid);
		return -1;
	}
	/* nothing is changed for a victim whose filter may harm a call of ours */
	if (cpl_seccomp_check_own(ctl))
		return -1;
	layout(ctl, blob, args_size);
	ctl->listen_fd = listen_socket(ctl);
	if (ctl->listen_fd < 0 || map_region(ctl))
		goto err;
	fill_region(ctl, blob);
	ctl->thread_entry = blob->thread_entry;
	if (ctl->seccomp && preconnect(ctl))
		goto err;
	if (start_daemon(ctl, blob) || connect_daemon(ctl))
		goto err;
	pr_info("parasite %s running in %d", blob->name, ctl->pid);
	return 0;
err:
	compel_cure(ctl);
	return -1;
}

int compel_map_error(const struct compel_ctl *ctl)
{
	return ctl->r.map_err;
}

int compel_syscall(struct compel_ctl *ctl, long nr, long *ret,
		   unsigned long a0, unsigned long a1, unsigned long a2,
		   unsigned long a3, unsigned long a4, unsigned long a5)
{
	unsigned long args[6] = { a0, a1, a2, a3, a4, a5 };
	int r;

	if (!ctl->running)
		return cpl_ptrace_syscall(ctl, nr, ret, args);
	ctl->hdr->sc.nr = nr;
	memcpy(ctl->hdr->sc.arg, args, sizeof(args));
	if (compel_rpc_call_sync(ctl, COMPEL_CMD_SYSCALL, &r))
		return -1;
	*ret = ctl->hdr->sc.ret;
	return 0;
}

/*
 * The exit of the daemon's last syscall: the munmap of the region from
 * the trampoline, or rt_sigreturn if it was not the last user (or had
 * nowhere to go home but in the region), or without a trampoline its
 * marker getppid.
 */
static int at_home(struct compel_ctl *ctl, long nr, uint64_t ip)
{
	unsigned long t = ctl->hdr->tramp_home ? ctl->tramp : 0;

	if (t && nr == __NR_munmap && ip >= t && ip < t + ARCH_TRAMPOLINE_LEN) {
		ctl->region_gone = 1;
		return 1;
	}
	if (nr == __NR_rt_sigreturn)
		return 1;
	return !t && nr == __NR_getppid && ip >= ctl->r.remote &&
	       ip < ctl->r.remote + ctl->r.size;
}

/*
 * Normal end of a daemon: interrupt it, ask it to finish, and follow
 * its syscalls (it closes its own fds and goes home) to the exit of its
 * last syscall (at_home()).  Returns 0 with the thread in that syscall-exit stop, 1 if
 * the daemon faulted (the fallback path takes over), -1 on error.
 */
static int fini_daemon(struct compel_ctl *ctl)
{
	struct compel_msg m = { .cmd = COMPEL_CMD_FINI };
	struct __ptrace_syscall_info si;
	int event, sig = cpl_interrupt_and_wait(ctl->pid);
	long last = -1;

	if (sig < 0)
		return -1;
	ctl->running = 0;
	if (sig > 0)
		goto crashed;
	compel_step("daemon stopped");
	if (send_msg(ctl->sock, &m, NULL, 0))
		return -1;
	compel_step("fini sent");
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, ctl->pid, NULL, NULL) ||
		    compel_wait_stop(ctl->pid, &event, &sig))
			return -1;
		if (sig != (SIGTRAP | 0x80))
			goto crashed;
		if (ptrace(PTRACE_GET_SYSCALL_INFO, ctl->pid, (void *)sizeof(si), &si) <= 0) {
			pr_perror("PTRACE_GET_SYSCALL_INFO %d", ctl->pid);
			return -1;
		}
		if (si.op == PTRACE_SYSCALL_INFO_ENTRY)
			last = si.entry.nr;
		else if (si.op == PTRACE_SYSCALL_INFO_EXIT && at_home(ctl, last,
								     si.instruction_pointer))
			break;
	}
	compel_step("daemon at its marker");
	return 0;
crashed:
	pr_err("daemon in %d stopped with signal %d", ctl->pid, sig);
	ctl->stop_sig = sig;
	return 1;
}

/* Stop the daemon where it is; it is then in an interrupt stop. */
static int stop_daemon(struct compel_ctl *ctl)
{
	int sig = ctl->stop_sig;

	if (ctl->running) {
		sig = cpl_interrupt_and_wait(ctl->pid);
		if (sig < 0)
			return -1;
	} else if (sig && cpl_interrupt_prepare(ctl->pid)) {
		return -1;
	}
	if (sig > 0) {
		/* Signal-delivery-stop: drop the signal, reach the trap. */
		if (ptrace(PTRACE_CONT, ctl->pid, NULL, NULL) || cpl_interrupt_wait(ctl->pid))
			return -1;
	}
	ctl->running = 0;
	ctl->stop_sig = 0;
	compel_step("daemon stopped");
	return 0;
}

/* Close a parasite fd; the shared slot is cleared first so that a
 * parasite left to cure itself never closes a number reused since. */
static int close_remote_fd(struct compel_ctl *ctl, int32_t *slot)
{
	unsigned long args[6] = { (unsigned long)*slot };
	long ret;

	if (*slot < 0)
		return 0;
	*slot = -1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (cpl_ptrace_syscall(ctl, __NR_close, &ret, args))
		return -1;
	compel_step("parasite fd closed");
	return 0;
}

/* Normal path: returns 0 with the thread restored, 1 to fall back. */
static int cure_normal(struct compel_ctl *ctl)
{
	int ret = fini_daemon(ctl);

	if (ret)
		return ret;
	/* In the marker's syscall-exit stop: safe to restore here (a
	 * detach would still apply the restart fix-up). */
	cpl_drain_log(ctl);
	if (cpl_thread_state_restore(&ctl->st))
		return -1;
	ctl->infected = 0;
	compel_step("registers restored");
	return cpl_exit_to_interrupt(ctl->pid);
}

/* Fallback: a daemon that faulted or never connected. */
static int cure_fallback(struct compel_ctl *ctl)
{
	if (stop_daemon(ctl))
		return -1;
	cpl_drain_log(ctl);
	/* Parasite fds first: a stopped daemon without them still finds
	 * its way home (recvmsg fails, it self-cures). */
	if (close_remote_fd(ctl, &ctl->hdr->log_fd) ||
	    close_remote_fd(ctl, &ctl->hdr->sock_fd) ||
	    cpl_thread_state_restore(&ctl->st))
		return -1;
	ctl->infected = 0;
	compel_step("registers restored");
	return 0;
}

int compel_cure(struct compel_ctl *ctl)
{
	int ret = 0;

	if (ctl->infected && ctl->running && ctl->sock >= 0 && cure_normal(ctl) < 0)
		return -1;
	if (ctl->infected && cure_fallback(ctl))
		return -1;
	ret |= unmap_region(ctl);
	if (ctl->kept && !ret) {
		/* Still in the trampoline (never started the daemon). */
		if (cpl_thread_state_restore(&ctl->st) || cpl_exit_to_interrupt(ctl->pid))
			ret = -1;
		else
			compel_step("registers restored");
		ctl->kept = 0;
	}
	ret |= cpl_rseq_restore(&ctl->st);
	cpl_tramp_remove(ctl);
	compel_step("cured");
	if (ctl->listen_fd >= 0)
		close(ctl->listen_fd);
	if (ctl->sock >= 0)
		close(ctl->sock);
	if (ctl->log_rd >= 0)
		close(ctl->log_rd);
	ctl->listen_fd = ctl->sock = ctl->log_rd = -1;
	return ret ? -1 : 0;
}

void compel_release(struct compel_ctl *ctl)
{
	if (!ctl)
		return;
	if (ctl->infected || ctl->r.remote || ctl->st.rseq_cleared || ctl->kept)
		compel_cure(ctl);
	cpl_tramp_remove(ctl);
	cpl_thread_state_free(&ctl->st);
	cpl_seccomp_free(ctl);
	if (ctl->memfd >= 0)
		close(ctl->memfd);
	free(ctl->wr);
	free(ctl);
}
