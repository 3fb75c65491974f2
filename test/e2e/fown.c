/*
 * Signal-driven I/O survives: O_ASYNC with an owner and a signal on
 *   a pipe:       F_OWNER_TID (this thread), F_SETSIG SIGRTMIN+1;
 *   a socketpair: F_OWNER_PID of the child, F_SETSIG SIGRTMIN+2;
 *   a pipe:       F_OWNER_PGRP (our group), plain SIGIO;
 * and a socket owner without O_ASYNC (the SIGURG receiver) is kept.
 * After the restore a write delivers the right signal, with si_fd, to the
 * right process.
 * The child waits for a byte on a gate pipe. With "uid" it is uid 1001 and the parent sets every owner as uid
 * 1000: the kernel then sends the child nothing (the setter's uids decide),
 * and so after the restore.
 * With "outside" the owner of a pipe is the harness (our parent, outside the
 * tree): the dump refuses, and the owner is still there afterwards.
 */
#include <libgen.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include "e2e.h"

static int ready_r = -1, ready_w = -1, p1[2], p2[2], sk[2], urg[2], gate[2];
static bool other_uid;

static void set_async(int fd, int type, pid_t who, int sig)
{
	struct f_owner_ex o = { .type = type, .pid = who };
	int fl = fcntl(fd, F_GETFL);

	if (fcntl(fd, F_SETOWN_EX, &o) || fcntl(fd, F_SETSIG, sig) ||
	    fcntl(fd, F_SETFL, fl | O_ASYNC | O_NONBLOCK))
		e2e_fail("fd %d: async setup: %s", fd, strerror(errno));
}

static int check_owner(int fd, int type, pid_t who, int sig, bool async)
{
	struct f_owner_ex o;

	if (fcntl(fd, F_GETOWN_EX, &o) || (int)o.type != type || o.pid != who)
		return 1;
	if (fcntl(fd, F_GETSIG) != sig)
		return 2;
	if (!!(fcntl(fd, F_GETFL) & O_ASYNC) != async)
		return 3;
	return 0;
}

/* @sig arrives within 5 s, for @fd (si_fd is set only with F_SETSIG). */
static int wait_sig(int sig, int fd)
{
	struct timespec ts = { 5, 0 };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigtimedwait(&set, &si, &ts) != sig)
		return 1;
	return fd >= 0 && si.si_fd != fd ? 2 : 0;
}

static bool pending(int sig)
{
	sigset_t set;

	sigpending(&set);
	return sigismember(&set, sig);
}

static int child(void)
{
	char c;
	int r;

	if (other_uid && setresuid(1001, 1001, 1001))
		return 2;
	/* the parent may not signal us (another user): it opens a gate instead */
	e2e_note_pid();
	close(ready_w);
	if (read(gate[0], &c, 1) != 1)
		return 3;
	r = check_owner(sk[0], F_OWNER_PID, getpid(), SIGRTMIN + 2, true);
	if (r)
		return 10 + r;
	if (other_uid)	/* the writes came before the gate opened */
		return pending(SIGRTMIN + 2) || pending(SIGIO) ? 30 : 0;
	if (wait_sig(SIGRTMIN + 2, sk[0]))
		return 20;
	if (wait_sig(SIGIO, -1))	/* our group's pipe */
		return 21;
	return 0;
}

/* Parent and child of another user: the files they write must be theirs. */
static void become_users(const char *result)
{
	char dir[512], pids[600];
	int fd, pf;

	snprintf(dir, sizeof(dir), "%s", result);
	snprintf(pids, sizeof(pids), "%s/pids", dirname(dir));
	fd = open(result, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pf = open(pids, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0 || pf < 0 || fchown(fd, 1000, 1000) || fchmod(pf, 0666) || chmod(dir, 0711))
		e2e_fail("setup: %s", strerror(errno));
	close(fd);
	close(pf);
}

static __attribute__((noreturn)) void outside_owner(void)
{
	pid_t who = getppid();
	int p[2];

	if (pipe(p) || fcntl(p[0], F_SETOWN, who))
		e2e_fail("pipe, F_SETOWN %d: %s", who, strerror(errno));
	e2e_ready();
	e2e_wait_stop();
	if (fcntl(p[0], F_GETOWN) != who)
		e2e_fail("the owner is %d, not %d", fcntl(p[0], F_GETOWN), who);
	e2e_pass();
}

int main(int argc, char **argv)
{
	sigset_t block;
	pid_t c;
	int r;

	if (argc > 2 && !strcmp(argv[1], "outside")) {
		e2e_init(argc - 1, argv + 1);
		outside_owner();
	}
	e2e_init(argc, argv);
	other_uid = argc > 2 && !strcmp(argv[1], "uid");
	if (other_uid) {
		e2e_result_path = argv[2];
		become_users(argv[2]);
	}
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN + 1);
	sigaddset(&block, SIGRTMIN + 2);
	sigaddset(&block, SIGIO);
	sigaddset(&block, SIGURG);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (pipe(p1) || pipe(p2) || pipe(gate) || socketpair(AF_UNIX, SOCK_STREAM, 0, sk) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, urg))
		e2e_fail("setup: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	c = e2e_spawn(child, &ready_r);
	if (other_uid && setresuid(1000, 1000, 1000))
		e2e_fail("setresuid: %s", strerror(errno));
	set_async(p1[0], F_OWNER_TID, getpid(), SIGRTMIN + 1);
	set_async(sk[0], F_OWNER_PID, c, SIGRTMIN + 2);
	set_async(p2[0], F_OWNER_PGRP, getpgid(0), 0);
	if (fcntl(urg[0], F_SETOWN, getpid()))
		e2e_fail("F_SETOWN: %s", strerror(errno));
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();

	if ((r = check_owner(p1[0], F_OWNER_TID, getpid(), SIGRTMIN + 1, true)))
		e2e_fail("pipe 1: owner/signal/O_ASYNC lost (%d)", r);
	if ((r = check_owner(p2[0], F_OWNER_PGRP, getpgid(0), 0, true)))
		e2e_fail("pipe 2: owner/signal/O_ASYNC lost (%d)", r);
	if ((r = check_owner(urg[0], F_OWNER_PID, getpid(), 0, false)))
		e2e_fail("socket owner without O_ASYNC lost (%d)", r);
	if (pending(SIGRTMIN + 1) || pending(SIGIO))
		e2e_fail("a signal came before any write");
	if (write(p1[1], "a", 1) != 1 || write(sk[1], "b", 1) != 1 || write(p2[1], "c", 1) != 1)
		e2e_fail("write: %s", strerror(errno));
	if ((r = wait_sig(SIGRTMIN + 1, p1[0])))
		e2e_fail("pipe 1: no SIGRTMIN+1 for fd %d (%d)", p1[0], r);
	if ((r = wait_sig(SIGIO, -1)))
		e2e_fail("pipe 2: no SIGIO to our group (%d)", r);
	if (write(gate[1], "g", 1) != 1 || waitpid(c, &r, 0) != c || r)
		e2e_fail("child %d: status %#x", c, r);
	if (pending(SIGRTMIN + 2))
		e2e_fail("the socket's signal came to the parent, not its owner");
	e2e_pass();
}
