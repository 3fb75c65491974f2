/*
 * File leases (dumped with --file-locks): a read lease on a file open
 * read-only and a write lease, with F_SETSIG, on a file open read-write.
 * After the restore F_GETLEASE reads them back, this process is still the
 * files' signal owner, and an open that breaks the write lease is refused
 * (O_NONBLOCK) and signals this process with the F_SETSIG signal.
 * "breaking" first: the write lease is being broken at the dump, which
 * must refuse it.
 */
#include <signal.h>
#include <sys/stat.h>

#include "e2e.h"

#define BREAK_SIG	(SIGRTMIN + 3)

static int leased(const char *name, int flags, int lease, char *path, size_t len)
{
	int c, fd;

	e2e_path(path, len, name);
	c = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (c < 0 || write(c, "x", 1) != 1 || close(c))
		e2e_fail("%s: %s", path, strerror(errno));
	fd = open(path, flags);	/* the only open left: a lease wants no other */
	if (fd < 0 || fcntl(fd, F_SETLEASE, lease))
		e2e_fail("F_SETLEASE %s: %s", path, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	char rpath[512], wpath[512];
	struct f_owner_ex own;
	struct timespec ts = { 10, 0 };
	siginfo_t si;
	sigset_t set;
	bool breaking = false;
	int rfd, wfd, fd;

	if (argc > 2 && !strcmp(argv[1], "breaking")) {
		breaking = true;
		argc--, argv++;
	}
	e2e_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, BREAK_SIG);
	sigprocmask(SIG_BLOCK, &set, NULL);
	rfd = leased("read-leased", O_RDONLY, F_RDLCK, rpath, sizeof(rpath));
	wfd = leased("write-leased", O_RDWR, F_WRLCK, wpath, sizeof(wpath));
	if (fcntl(wfd, F_SETSIG, BREAK_SIG))
		e2e_fail("F_SETSIG: %s", strerror(errno));

	if (breaking && (open(wpath, O_RDONLY | O_NONBLOCK) >= 0 || errno != EWOULDBLOCK))
		e2e_fail("the write lease was not broken");

	e2e_ready();
	e2e_wait_stop();
	if (breaking)
		e2e_pass();	/* refused: nothing was restored */

	if (fcntl(rfd, F_GETLEASE) != F_RDLCK || fcntl(wfd, F_GETLEASE) != F_WRLCK)
		e2e_fail("leases %d %d, not read and write", fcntl(rfd, F_GETLEASE),
			 fcntl(wfd, F_GETLEASE));
	if (fcntl(wfd, F_GETOWN_EX, &own) || own.type != F_OWNER_PID || own.pid != getpid())
		e2e_fail("signal owner %d:%d, not this process", own.type, own.pid);
	fd = open(wpath, O_RDONLY | O_NONBLOCK);
	if (fd >= 0 || errno != EWOULDBLOCK)
		e2e_fail("an open of the write-leased file did not wait for the lease (%s)",
			 fd >= 0 ? "opened" : strerror(errno));
	if (sigtimedwait(&set, &si, &ts) != BREAK_SIG || si.si_fd != wfd)
		e2e_fail("no lease-break signal for fd %d (%s)", wfd, strerror(errno));
	if (fcntl(wfd, F_SETLEASE, F_UNLCK) || fcntl(rfd, F_SETLEASE, F_UNLCK))
		e2e_fail("F_UNLCK: %s", strerror(errno));
	e2e_pass();
}
