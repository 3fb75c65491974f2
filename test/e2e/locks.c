/*
 * File locks survive with --file-locks: an exclusive and a shared flock,
 * a POSIX write lock on bytes 10-19 and a read lock from 100 to EOF, and an
 * OFD write lock on bytes 0-49 (through a dup'ed fd). After restore each is
 * checked from a new open file description: flock(LOCK_NB) and
 * F_OFD_GETLK must see the restored locks (OFD locks conflict with this
 * process's own POSIX locks too).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include "e2e.h"

static int make(const char *name)
{
	char path[512];
	int fd;

	e2e_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		e2e_fail("%s: %s", name, strerror(errno));
	return fd;
}

static int again(const char *name)
{
	char path[512];
	int fd;

	e2e_path(path, sizeof(path), name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		e2e_fail("reopen %s: %s", name, strerror(errno));
	return fd;
}

static void range_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, cmd, &fl))
		e2e_fail("lock %d/%d at %lld: %s", cmd, type, (long long)start, strerror(errno));
}

/*
 * What blocks a write lock on [start, start+len) for @fd, another open file
 * description. (It stays open: closing any fd of a file drops this
 * process's POSIX locks on it.)
 */
static struct flock conflict(int fd, off_t start, off_t len)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, F_OFD_GETLK, &fl))
		e2e_fail("F_OFD_GETLK: %s", strerror(errno));
	return fl;
}

static void check_flock(const char *name, bool exclusive)
{
	int fd = again(name);

	if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		e2e_fail("%s: the flock is gone", name);
	if ((flock(fd, LOCK_SH | LOCK_NB) == 0) == exclusive)
		e2e_fail("%s: the flock is %s, not %s", name, exclusive ? "shared" : "exclusive",
			 exclusive ? "exclusive" : "shared");
	close(fd);
}

int main(int argc, char **argv)
{
	int ex, sh, posix, ofd, ofd_dup, posix2, ofd2;
	struct flock fl;

	e2e_init(argc, argv);
	ex = make("flock-ex");
	sh = make("flock-sh");
	posix = make("posix");
	ofd = make("ofd");
	if (flock(ex, LOCK_EX) || flock(sh, LOCK_SH))
		e2e_fail("flock: %s", strerror(errno));
	range_lock(posix, F_SETLK, F_WRLCK, 10, 10);
	range_lock(posix, F_SETLK, F_RDLCK, 100, 0);
	ofd_dup = dup(ofd);
	range_lock(ofd_dup, F_OFD_SETLK, F_WRLCK, 0, 50);

	e2e_ready();
	e2e_wait_stop();

	check_flock("flock-ex", true);
	check_flock("flock-sh", false);
	posix2 = again("posix");
	ofd2 = again("ofd");
	fl = conflict(posix2, 0, 15);
	if (fl.l_type != F_WRLCK || fl.l_start != 10 || fl.l_len != 10 || fl.l_pid != getpid())
		e2e_fail("POSIX write lock: type %d %lld+%lld pid %d", fl.l_type,
			 (long long)fl.l_start, (long long)fl.l_len, fl.l_pid);
	fl = conflict(posix2, 200, 1);
	if (fl.l_type != F_RDLCK || fl.l_start != 100 || fl.l_len != 0)
		e2e_fail("POSIX read lock to EOF: type %d %lld+%lld", fl.l_type,
			 (long long)fl.l_start, (long long)fl.l_len);
	if (conflict(posix2, 20, 80).l_type != F_UNLCK)
		e2e_fail("POSIX locks grew");
	fl = conflict(ofd2, 49, 1);
	if (fl.l_type != F_WRLCK || fl.l_start != 0 || fl.l_len != 50 || fl.l_pid != -1)
		e2e_fail("OFD lock: type %d %lld+%lld pid %d", fl.l_type, (long long)fl.l_start,
			 (long long)fl.l_len, fl.l_pid);
	close(ofd_dup);
	if (conflict(ofd2, 0, 1).l_type != F_WRLCK)
		e2e_fail("the OFD lock went with one of its fds");
	if (flock(ex, LOCK_UN))
		e2e_fail("unlock: %s", strerror(errno));
	e2e_pass();
}
