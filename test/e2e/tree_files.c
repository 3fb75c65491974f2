/*
 * Regular-file state shared by a parent and its child, with --file-locks:
 * a deleted file mapped shared by both and opened once more by the child
 * (one ghost inode for all), a memfd the child reopened (one memfd), a
 * flock on their shared open file description, and each process's own
 * POSIX lock on one file. After restore the child writes through its
 * mapping and descriptions and checks both POSIX locks; the parent sees
 * the child's writes and still holds the flock.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "e2e.h"

static int ready_r = -1, ready_w = -1, ghost = -1, memfd = -1, flk = -1, posix = -1;
static char *map;

static int reopen(int fd, int flags)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return open(self, flags);
}

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* Who blocks a write lock on [start, start+len), seen from @probe. */
static pid_t holder(int probe, off_t start, off_t len)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(probe, F_OFD_GETLK, &fl) || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid;
}

static int child(void)
{
	int gc = reopen(ghost, O_RDWR), mc = reopen(memfd, O_RDWR), probe;
	struct e2e_ids me;

	if (gc < 0 || mc < 0 || lock(posix, F_SETLK, F_WRLCK, 20, 10))
		return 2;
	e2e_member_ready(&me, &ready_w);
	probe = reopen(posix, O_RDWR);	/* kept open: a close would drop our POSIX lock */
	if (probe < 0)
		return 3;
	if (holder(probe, 20, 10) != getpid() || holder(probe, 0, 10) != getppid())
		return 4;
	map[100] = 'C';
	if (pwrite(gc, "D", 1, 200) != 1 || pwrite(mc, "X", 1, 0) != 1)
		return 5;
	return 0;
}

int main(int argc, char **argv)
{
	char path[512], buf[2];
	struct stat st;
	pid_t c;
	int r, probe;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "ghost");
	ghost = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (ghost < 0 || ftruncate(ghost, 4096) || unlink(path))
		e2e_fail("ghost: %s", strerror(errno));
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ghost, 0);
	memfd = memfd_create("tree memfd", 0);
	e2e_path(path, sizeof(path), "flock");
	flk = open(path, O_RDWR | O_CREAT, 0600);
	e2e_path(path, sizeof(path), "posix");
	posix = open(path, O_RDWR | O_CREAT, 0600);
	if (map == MAP_FAILED || memfd < 0 || flk < 0 || posix < 0 || write(memfd, "memfd", 5) != 5 ||
	    flock(flk, LOCK_EX) || lock(posix, F_SETLK, F_WRLCK, 0, 10))
		e2e_fail("setup: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	c = e2e_spawn(child, &ready_r);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	r = e2e_reap(c, 0, 0);
	if (r)
		e2e_fail("child %d: code %d", c, r);
	if (map[100] != 'C' || pread(ghost, buf, 1, 200) != 1 || buf[0] != 'D')
		e2e_fail("the child's mapping or open of the deleted file is another file");
	if (fstat(ghost, &st) || st.st_nlink != 0)
		e2e_fail("the deleted file has a name again");
	if (pread(memfd, buf, 2, 0) != 2 || memcmp(buf, "Xe", 2))
		e2e_fail("the child's memfd is another memfd");
	probe = reopen(flk, O_RDWR);
	if (probe < 0 || flock(probe, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		e2e_fail("the shared flock is gone");
	probe = reopen(posix, O_RDWR);
	if (probe < 0 || holder(probe, 0, 10) != getpid() || holder(probe, 20, 10) != 0)
		e2e_fail("POSIX locks after the child's exit: wrong holders");
	e2e_pass();
}
