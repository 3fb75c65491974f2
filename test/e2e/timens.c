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
 * A tree in a time namespace of its own: the program makes one for its
 * children with the offsets above, and its child (launched as in
 * e2e-ns.h) is the root of the dumped tree, with a child of its own.
 *   tree     the root in criu's pid namespace
 *   pidtree  the root is pid 1 of a pid namespace of its own too
 *            After the restore the root, its old child and a child forked
 *            then are in one time namespace, not the host's, and its
 *            CLOCK_MONOTONIC and CLOCK_BOOTTIME went on from where they
 *            were: not back (as in the host's namespace, a day behind)
 *            and not further than the wall clock went.
 *   nested   the root makes a time namespace for its children as well:
 *            the dump refuses
 */
#include <sched.h>
#include <sys/stat.h>

#include "e2e-ns.h"

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

static long long ns_of(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

/* What a child of the root reports: its time namespace and its CLOCK_MONOTONIC. */
struct report {
	ino_t ns;
	struct timespec mono;
};

static void report(int req, int rep)
{
	struct report r;
	char c;

	if (read(req, &c, 1) != 1)
		_exit(1);	/* the root failed: its result stands */
	r.ns = ns_ino("time");
	clock_gettime(CLOCK_MONOTONIC, &r.mono);
	if (write(rep, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

/* Ask the child behind @req/@rep, check it shares @ns and its clock is in [@lo, now]. */
static void check_child(pid_t kid, int req, int rep, ino_t ns, const struct timespec *lo,
			const char *who)
{
	struct timespec now;
	struct report r;
	int st;

	if (write(req, "?", 1) != 1)
		e2e_fail("asking %s: %s", who, strerror(errno));
	e2e_read_all(rep, &r, sizeof(r), who);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (waitpid(kid, &st, 0) != kid || st)
		e2e_fail("%s ended with %#x", who, st);
	if (r.ns != ns)
		e2e_fail("%s is in time namespace %lu, the root in %lu", who, (unsigned long)r.ns,
			 (unsigned long)ns);
	if (ns_of(lo, &r.mono) < 0 || ns_of(&r.mono, &now) < 0)
		e2e_fail("%s's monotonic clock %lld.%09ld is outside the root's", who,
			 (long long)r.mono.tv_sec, r.mono.tv_nsec);
}

static pid_t reporter(int *req, int *rep)
{
	int a[2], b[2];
	pid_t kid;

	if (pipe(a) || pipe(b))
		e2e_fail("pipe: %s", strerror(errno));
	kid = fork();
	if (kid < 0)
		e2e_fail("fork: %s", strerror(errno));
	if (kid == 0) {
		e2e_child();
		close(a[1]);
		close(b[0]);
		report(a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	*req = a[1];
	*rep = b[0];
	return kid;
}

static ino_t host_ns;	/* the launcher's own time namespace: criu's */

static int tree_root(void *arg)
{
	static const clockid_t ids[3] = { CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME };
	struct timespec t0[3], t1[3];
	int req, rep, i;
	ino_t ns = ns_ino("time");
	pid_t kid;

	if (ns == host_ns)
		e2e_fail("the root is not in a time namespace of its own");
	if (setsid() < 0)
		e2e_fail("setsid: %s", strerror(errno));
	kid = reporter(&req, &rep);
	if (!strcmp(arg, "nested") && unshare(CLONE_NEWTIME))
		e2e_fail("unshare(CLONE_NEWTIME): %s", strerror(errno));
	for (i = 0; i < 3; i++)
		clock_gettime(ids[i], &t0[i]);
	e2e_ready();
	e2e_wait_stop();
	for (i = 0; i < 3; i++)
		clock_gettime(ids[i], &t1[i]);
	ns = ns_ino("time");
	if (ns == host_ns)
		e2e_fail("the restored root is in the host's time namespace");
	if (strcmp(arg, "nested") && ns_ino("time_for_children") != ns)
		e2e_fail("the restored root's children go to another time namespace");
	for (i = 0; i < 2; i++) {
		long long moved = ns_of(&t0[i], &t1[i]), wall = ns_of(&t0[2], &t1[2]);

		if (moved < 0 || moved > wall + 50000000LL)
			e2e_fail("clock %d moved %lld ns while the wall clock moved %lld ns", ids[i],
				 moved, wall);
	}
	check_child(kid, req, rep, ns, &t1[0], "the root's child");
	if (!strcmp(arg, "nested"))
		e2e_pass();	/* refused: the namespace for its children is as it was */
	kid = reporter(&req, &rep);
	check_child(kid, req, rep, ns, &t1[0], "a child forked after the restore");
	e2e_pass();
}

int main(int argc, char **argv)
{
	char *args[] = { argv[0], argv[argc - 1], NULL };	/* MODE RESULT-FILE */
	const char *mode = argc > 2 ? argv[1] : "";
	char before[256], after[256];
	ino_t own, pending;
	long off;

	e2e_init(2, args);
	host_ns = ns_ino("time");
	if (unshare(CLONE_NEWTIME))
		e2e_fail("unshare(CLONE_NEWTIME): %s", strerror(errno));
	if (write_offsets(OFFSETS))
		e2e_fail("write timens_offsets: %s", strerror(errno));
	if (!strcmp(mode, "tree") || !strcmp(mode, "nested"))
		return e2e_ns_launch(0, tree_root, (void *)mode);
	if (!strcmp(mode, "pidtree"))
		return e2e_ns_launch(CLONE_NEWPID, tree_root, (void *)mode);
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
