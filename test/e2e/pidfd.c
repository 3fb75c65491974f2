/*
 * pidfds: of a live child (PIDFD_NONBLOCK, watched by an epoll set made
 * before it), of itself (twice, dup'ed: one description), of a zombie child, two of one child that has
 * exited and been reaped (exit code 3; with "kill" SIGKILLed, which the
 * established format holds without --image-ext), and a pipe end taken from
 * the live child with pidfd_getfd (an ordinary fd). Before the dump each
 * pidfd is probed (pidfd_send_signal 0, poll, waitid WNOHANG|WNOWAIT, fdinfo
 * Pid, flags, PIDFD_GET_INFO's exit status); after the restore the probes
 * must say the same, then the zombie is reaped and the live child killed
 * through their pidfds.
 *
 * With "outside": a pidfd of the harness (our parent, outside the tree):
 * the dump refuses it and the pidfd still works afterwards.
 */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include "e2e.h"

#define GETFD_NR	100

struct pidfd_info0 {		/* PIDFD_GET_INFO (6.13), exit status (6.15) */
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define GET_INFO	_IOWR(0xFF, 11, struct pidfd_info0)
#define INFO_EXIT	(1ULL << 3)

struct probe {
	int sig0;		/* 0 or errno */
	short revents;
	int wait_err, wait_pid, wait_code, wait_status;
	long fdinfo_pid;
	int flags;
	int info_err, exit_code;
	ino_t ino;
};

static int open_pidfd(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int send_sig(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) ? errno : 0;
}

static long fdinfo_pid(int fd)
{
	char path[64], buf[1024];
	const char *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0 || (n = read(f, buf, sizeof(buf) - 1)) <= 0)
		e2e_fail("%s: %s", path, strerror(errno));
	close(f);
	buf[n] = '\0';
	p = strstr(buf, "\nPid:");
	if (!p)
		e2e_fail("%s: no Pid: line", path);
	return strtol(p + 5, NULL, 10);
}

static void probe(int fd, struct probe *pr)
{
	struct pidfd_info0 info = { .mask = INFO_EXIT };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	siginfo_t si;
	struct stat st;

	memset(pr, 0, sizeof(*pr));
	pr->sig0 = send_sig(fd, 0);
	if (poll(&pfd, 1, 0) < 0)
		e2e_fail("poll: %s", strerror(errno));
	pr->revents = pfd.revents;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG | WNOWAIT))
		pr->wait_err = errno;
	pr->wait_pid = si.si_pid;
	pr->wait_code = si.si_code;
	pr->wait_status = si.si_status;
	pr->fdinfo_pid = fdinfo_pid(fd);
	pr->flags = fcntl(fd, F_GETFL) & (O_NONBLOCK | O_ACCMODE);
	if (ioctl(fd, GET_INFO, &info))
		pr->info_err = errno;
	else
		pr->exit_code = info.mask & INFO_EXIT ? info.exit_code : -1;
	if (fstat(fd, &st))
		e2e_fail("fstat: %s", strerror(errno));
	pr->ino = st.st_ino;
}

static void same(const char *what, int fd, const struct probe *a)
{
	struct probe b;

	probe(fd, &b);
	if (a->sig0 != b.sig0 || a->revents != b.revents || a->wait_err != b.wait_err ||
	    a->wait_pid != b.wait_pid || a->wait_code != b.wait_code ||
	    a->wait_status != b.wait_status || a->fdinfo_pid != b.fdinfo_pid ||
	    a->flags != b.flags || a->info_err != b.info_err || a->exit_code != b.exit_code)
		e2e_fail("%s pidfd (fd %d): before sig0 %d poll %#x waitid %d/%d/%d/%d Pid %ld "
			 "flags %#x info %d/%d; after %d %#x %d/%d/%d/%d %ld %#x %d/%d", what, fd,
			 a->sig0, a->revents, a->wait_err, a->wait_pid, a->wait_code,
			 a->wait_status, a->fdinfo_pid, a->flags, a->info_err, a->exit_code,
			 b.sig0, b.revents, b.wait_err, b.wait_pid, b.wait_code, b.wait_status,
			 b.fdinfo_pid, b.flags, b.info_err, b.exit_code);
}

/* The live child: a pipe read end with "hello" in it at GETFD_NR, then waits. */
static pid_t spawn_live(void)
{
	int sync[2], p[2];
	pid_t c;
	char x;

	if (pipe(sync))
		e2e_fail("pipe: %s", strerror(errno));
	c = fork();
	if (c < 0)
		e2e_fail("fork: %s", strerror(errno));
	if (c == 0) {
		e2e_child();
		e2e_note_pid();
		if (pipe(p) || write(p[1], "hello", 5) != 5 || dup2(p[0], GETFD_NR) != GETFD_NR)
			_exit(2);
		close(p[0]);
		close(sync[0]);
		close(sync[1]);	/* set up */
		for (;;)
			pause();
	}
	close(sync[1]);
	if (read(sync[0], &x, 1) != 0)
		e2e_fail("the live child did not set up");
	close(sync[0]);
	return c;
}

static pid_t spawn_exit(int code)
{
	pid_t c = fork();

	if (c < 0)
		e2e_fail("fork: %s", strerror(errno));
	if (c == 0) {
		e2e_child();
		if (code < 0)
			for (;;)
				pause();	/* until SIGKILL */
		_exit(code);
	}
	return c;
}

static __attribute__((noreturn)) void outside(void)
{
	int fd = open_pidfd(getppid(), 0);

	if (fd < 0)
		e2e_fail("pidfd_open of the parent: %s", strerror(errno));
	e2e_ready();
	e2e_wait_stop();
	if (send_sig(fd, 0) || fdinfo_pid(fd) != getppid())
		e2e_fail("the parent's pidfd after the refusal: %s", strerror(errno));
	e2e_pass();
}

/* After the restore: the zombie reaped, the live child killed, through their pidfds. */
static void finish(int zfd, pid_t zombie, int lfd, pid_t live, int ep)
{
	struct epoll_event ev;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)zfd, &si, WEXITED | WNOHANG) || si.si_pid != zombie ||
	    si.si_code != CLD_EXITED || si.si_status != 7)
		e2e_fail("reaping the zombie: %s, pid %d code %d status %d", strerror(errno),
			 si.si_pid, si.si_code, si.si_status);
	if (waitid(P_PIDFD, (id_t)lfd, &si, WEXITED) == 0 || errno != EAGAIN)
		e2e_fail("waitid on the PIDFD_NONBLOCK pidfd of a live child: %s", strerror(errno));
	if (send_sig(lfd, SIGKILL))
		e2e_fail("killing the live child: %s", strerror(send_sig(lfd, SIGKILL)));
	if (epoll_wait(ep, &ev, 1, 10000) != 1 || ev.data.fd != lfd)
		e2e_fail("the epoll set did not report the live child's end");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)lfd, &si, WEXITED) || si.si_pid != live ||
	    si.si_code != CLD_KILLED || si.si_status != SIGKILL)
		e2e_fail("the live child's end: %s, pid %d code %d", strerror(errno), si.si_pid,
			 si.si_code);
}

int main(int argc, char **argv)
{
	struct probe p_self, p_live, p_zombie, p_dead, p_dead2;
	int self, self2, lfd, zfd, dfd, dfd2, got, ep, st, killed;
	struct epoll_event ev = { .events = EPOLLIN };
	pid_t live, zombie, dead;
	siginfo_t si;
	char buf[8];

	if (argc > 2 && !strcmp(argv[1], "outside")) {
		e2e_init(argc - 1, argv + 1);
		outside();
	}
	killed = argc > 2 && !strcmp(argv[1], "kill");
	e2e_init(argc - killed, argv + killed);
	live = spawn_live();
	zombie = spawn_exit(7);
	dead = spawn_exit(killed ? -1 : 3);
	ep = epoll_create1(EPOLL_CLOEXEC);	/* below the pidfds: restored before them */
	self = open_pidfd(getpid(), 0);
	self2 = dup(self);	/* one open file description at two numbers */
	lfd = open_pidfd(live, PIDFD_NONBLOCK);
	zfd = open_pidfd(zombie, 0);
	dfd = open_pidfd(dead, 0);
	dfd2 = open_pidfd(dead, PIDFD_NONBLOCK);
	if (ep < 0 || self < 0 || self2 < 0 || lfd < 0 || zfd < 0 || dfd < 0 || dfd2 < 0)
		e2e_fail("pidfd_open, epoll: %s", strerror(errno));
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		e2e_fail("EPOLL_CTL_ADD: %s", strerror(errno));
	got = (int)syscall(SYS_pidfd_getfd, lfd, GETFD_NR, 0);
	if (got < 0)
		e2e_fail("pidfd_getfd: %s", strerror(errno));
	if (killed && kill(dead, SIGKILL))
		e2e_fail("kill: %s", strerror(errno));
	if (waitpid(dead, &st, 0) != dead || waitid(P_PIDFD, (id_t)zfd, &si, WEXITED | WNOWAIT))
		e2e_fail("waiting for the children to end: %s", strerror(errno));
	probe(self, &p_self);
	probe(lfd, &p_live);
	probe(zfd, &p_zombie);
	probe(dfd, &p_dead);
	probe(dfd2, &p_dead2);
	if (p_dead.fdinfo_pid != -1 || p_dead.ino != p_dead2.ino || p_dead.sig0 != ESRCH)
		e2e_fail("the reaped child's pidfds: Pid %ld, signal %d", p_dead.fdinfo_pid, p_dead.sig0);
	e2e_ready();
	e2e_wait_stop();
	same("its own", self, &p_self);
	same("the live child's", lfd, &p_live);
	same("the zombie's", zfd, &p_zombie);
	same("the reaped child's", dfd, &p_dead);
	same("the reaped child's second", dfd2, &p_dead2);
	if (fcntl(self, F_SETFL, O_NONBLOCK) || !(fcntl(self2, F_GETFL) & O_NONBLOCK))
		e2e_fail("its own pidfd and its dup do not share their flags");
	probe(dfd, &p_dead);
	probe(dfd2, &p_dead2);
	probe(lfd, &p_live);
	if (p_dead.ino != p_dead2.ino || p_dead.ino == p_live.ino)
		e2e_fail("the reaped child's two pidfds have inodes %lu and %lu (the live one's %lu)",
			 (unsigned long)p_dead.ino, (unsigned long)p_dead2.ino, (unsigned long)p_live.ino);
	if (read(got, buf, sizeof(buf)) != 5 || memcmp(buf, "hello", 5))
		e2e_fail("the pipe end taken with pidfd_getfd lost its data");
	finish(zfd, zombie, lfd, live, ep);
	e2e_pass();
}
