/*
 * A time namespace made for the children (unshare(CLONE_NEWTIME)): the task
 * stays in its own time namespace, its children will enter the new one.
 *   pending  nobody entered it yet: after the restore it is still pending
 *            (time_for_children differs from time, time is as before), has
 *            the same clock offsets, they can still be changed, and a child
 *            forked now sees its clocks moved by them
 *   entered  a child entered it and exited: its offsets are frozen, which
 *            a new namespace would not be, so the dump must refuse (and
 *            leave the namespace as it was)
 */
#include <sched.h>
#include <sys/stat.h>

#include "e2e.h"

#define OFFSETS		"monotonic 86400 5\nboottime 1000 0\n"
#define MONO_OFFSET	86400

static ino_t ns_ino(const char *which)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", which);
	if (stat(path, &st))
		e2e_fail("stat %s: %s", path, strerror(errno));
	return st.st_ino;
}

static void read_offsets(char *buf, size_t size)
{
	int fd = open("/proc/self/timens_offsets", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (n < 0)
		e2e_fail("read timens_offsets: %s", strerror(errno));
	buf[n] = '\0';
	close(fd);
}

static int write_offsets(const char *text)
{
	int fd = open("/proc/self/timens_offsets", O_WRONLY);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;
	int err = errno;

	if (fd >= 0)
		close(fd);
	errno = err;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static bool readied;	/* the harness's readiness fd is closed (its number reused) */

/* A child forked now: its CLOCK_MONOTONIC minus ours, in whole seconds. */
static long child_offset(void)
{
	struct timespec mine, theirs;
	int p[2], st = -1;
	ssize_t n;
	pid_t c;

	if (pipe(p))
		e2e_fail("pipe: %s", strerror(errno));
	c = fork();
	if (c == 0) {
		if (!readied)
			e2e_child();
		clock_gettime(CLOCK_MONOTONIC, &theirs);
		_exit(write(p[1], &theirs, sizeof(theirs)) == sizeof(theirs) ? 0 : 1);
	}
	if (c < 0)
		e2e_fail("fork: %s", strerror(errno));
	close(p[1]);
	n = read(p[0], &theirs, sizeof(theirs));
	clock_gettime(CLOCK_MONOTONIC, &mine);
	close(p[0]);
	if (waitpid(c, &st, 0) != c || st || n != sizeof(theirs))
		e2e_fail("the child ended with %#x, its clock read %zd bytes", st, n);
	return (long)(theirs.tv_sec - mine.tv_sec);
}

int main(int argc, char **argv)
{
	char *args[] = { argv[0], argv[argc - 1], NULL };	/* MODE RESULT-FILE */
	const char *mode = argc > 2 ? argv[1] : "";
	char before[256], after[256];
	ino_t own, pending;
	long off;

	e2e_init(2, args);
	if (unshare(CLONE_NEWTIME))
		e2e_fail("unshare(CLONE_NEWTIME): %s", strerror(errno));
	if (write_offsets(OFFSETS))
		e2e_fail("write timens_offsets: %s", strerror(errno));
	if (!strcmp(mode, "entered"))
		child_offset();
	else if (strcmp(mode, "pending"))
		e2e_fail("unknown mode '%s'", mode);
	own = ns_ino("time");
	pending = ns_ino("time_for_children");
	if (own == pending)
		e2e_fail("unshare made no pending time namespace");
	read_offsets(before, sizeof(before));
	e2e_ready();
	readied = true;
	e2e_wait_stop();

	if (ns_ino("time") != own)
		e2e_fail("the task's own time namespace changed");
	if (ns_ino("time_for_children") == ns_ino("time"))
		e2e_fail("no pending time namespace for the children after the restore");
	read_offsets(after, sizeof(after));
	if (strcmp(before, after))
		e2e_fail("offsets were\n%s and are\n%s", before, after);
	if (!strcmp(mode, "entered")) {
		if (ns_ino("time_for_children") != pending)
			e2e_fail("the pending time namespace is another one");
		if (!write_offsets(OFFSETS) || errno != EACCES)
			e2e_fail("the offsets can be set after a child entered: %s", strerror(errno));
		e2e_pass();
	}
	if (write_offsets(OFFSETS))
		e2e_fail("the offsets cannot be set any more: %s", strerror(errno));
	off = child_offset();
	if (off < MONO_OFFSET - 1 || off > MONO_OFFSET + 1)
		e2e_fail("a child's monotonic clock is %ld s ahead, not %d", off, MONO_OFFSET);
	if (!write_offsets(OFFSETS) || errno != EACCES)
		e2e_fail("the offsets can be set after a child entered: %s", strerror(errno));
	e2e_pass();
}
