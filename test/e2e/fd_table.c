/*
 * Processes sharing one descriptor table (clone(CLONE_FILES) without
 * CLONE_VM), each opening files after the clone, and a shared anonymous
 * mapping. After the restore the table is still one (kcmp KCMP_FILES),
 * every descriptor from before is there for all, and a file either side
 * opens afterwards is seen by the other.
 *   (no argument) the parent and one such child;
 *   two           the parent and two such children;
 *   nested        the child has a child sharing the table too: refused;
 *   outside       a sibling made with CLONE_PARENT (the harness's child,
 *                 outside the tree) shares the table: refused, and it is
 *                 still shared afterwards;
 *   attrs         the child chroots into a directory; the parent then
 *                 lowers its own hard core-size limit and makes a time
 *                 namespace for its children: the child keeps its own
 *                 root, limit and time namespace.
 */
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <linux/kcmp.h>

#include "e2e.h"

static int to_child[2], to_parent[2], before;
static char dir[512], *shared;
static const char *mode = "";

static int open_marker(const char *name)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

/* Descriptor @fd is the file @name. */
static bool is_marker(int fd, const char *name)
{
	char path[600];
	struct stat a, b;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* The descriptor that is @name (a process learnt only its own numbers). */
static int find_marker(const char *name)
{
	int fd;

	for (fd = 0; fd < 1024; fd++)
		if (is_marker(fd, name))
			return fd;
	return -1;
}

static bool all_there(int nr_children)
{
	return is_marker(before, "before") && find_marker("parent") >= 0 &&
	       find_marker("child0") >= 0 && (nr_children < 2 || find_marker("child1") >= 0);
}

/* Which of fds 0..127 are open, as bits (the harness's readiness fd left out). */
static void open_fds(unsigned char *bits)
{
	const char *ready = getenv("E2E_READY_FD");
	int fd;

	memset(bits, 0, 16);
	for (fd = 0; fd < 128; fd++)
		if (fcntl(fd, F_GETFD) >= 0 && (!ready || fd != atoi(ready)))
			bits[fd / 8] |= (unsigned char)(1 << (fd % 8));
}

static bool same_table(pid_t a, pid_t b)
{
	return syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0) == 0;
}

/* Open @name, tell the other side its number; then check the one it opened. */
static int exchange(int out, int in, const char *name, const char *other)
{
	int fd = open_marker(name), got;

	if (fd < 0 || write(out, &fd, sizeof(fd)) != sizeof(fd))
		return 1;
	if (read(in, &got, sizeof(got)) != sizeof(got))
		return 2;
	return is_marker(got, other) ? 0 : 3;
}

static pid_t clone_files(void)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);

	if (pid < 0)
		e2e_fail("clone: %s", strerror(errno));
	return pid;
}

/* The attributes of @pid that attrs mode compares, as text. */
static void attrs_of(pid_t pid, char *buf, size_t len)
{
	char path[64], ns[64] = "";
	struct rlimit rl = { 0, 0 };
	struct stat st = { 0 };
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/time", pid);
	n = readlink(path, ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/root/", pid);
	stat(path, &st);
	prlimit(pid, RLIMIT_CORE, NULL, &rl);
	snprintf(buf, len, "%s root %lu core %llu/%llu", ns, (unsigned long)st.st_ino,
		 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
}

/* attrs mode, parent: make our own state differ from the child's. */
static void attrs_parent(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_CORE, &rl))
		e2e_fail("getrlimit: %s", strerror(errno));
	rl.rlim_max = rl.rlim_cur = rl.rlim_max == 4096 ? 2048 : 4096;
	if (setrlimit(RLIMIT_CORE, &rl) || unshare(CLONE_NEWTIME))
		e2e_fail("setrlimit, unshare: %s", strerror(errno));
}

static int grandchild(void)
{
	e2e_note_pid();
	__atomic_store_n(&shared[3], 'G', __ATOMIC_RELEASE);
	e2e_wait_stop();
	return 0;
}

static int child(int i, int nr)
{
	char name[16], c = 'R';
	pid_t g = 0;
	int st;

	snprintf(name, sizeof(name), "child%d", i);
	if (!strcmp(mode, "attrs")) {
		char root[600];

		snprintf(root, sizeof(root), "%s/root", dir);
		if (open_marker(name) < 0 || chroot(root) || chdir("/") ||
		    write(to_parent[1], &c, 1) != 1)
			return 1;
		e2e_wait_stop();
		shared[1 + i] = 'C';
		return 10;
	}
	if (!strcmp(mode, "nested") && (g = clone_files()) == 0)
		_exit(grandchild());
	/* its e2e_note_pid() opens a descriptor of our table for a moment: not while the parent lists them */
	while (g && __atomic_load_n(&shared[3], __ATOMIC_ACQUIRE) != 'G')
		usleep(1000);
	if (open_marker(name) < 0 || write(to_parent[1], &c, 1) != 1)
		return 1;
	e2e_wait_stop();
	if (g) {
		kill(g, SIGTERM);
		waitpid(g, &st, 0);
	}
	if (!all_there(nr) || shared[0] != 'P')
		return 4;
	if (!same_table(getppid(), getpid()))
		return 5;
	shared[1 + i] = 'C';
	if (i)
		return 10;
	return 10 + exchange(to_parent[1], to_child[0], "child-after", "parent-after");
}

static __attribute__((noreturn)) void outside_sharer(void)
{
	pid_t s = (pid_t)syscall(SYS_clone, CLONE_FILES | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);

	if (s < 0)
		e2e_fail("clone: %s", strerror(errno));
	if (s == 0) {
		e2e_note_pid();	/* the harness ends it if we cannot */
		for (;;)
			pause();
	}
	e2e_ready();
	e2e_wait_stop();
	if (!same_table(getpid(), s))
		e2e_fail("the table is no longer shared with %d", s);
	kill(s, SIGKILL);	/* the harness, its parent, reaps it */
	e2e_pass();
}

int main(int argc, char **argv)
{
	unsigned char fds_before[16], fds_after[16];
	char attrs_before[256], attrs_after[256];
	int r, st, i, nr = 1;
	pid_t pid[2];
	char c;

	e2e_init(argc, argv);
	if (argc > 2) {
		mode = argv[1];
		e2e_result_path = argv[2];
	}
	if (!strcmp(mode, "outside"))
		outside_sharer();
	nr = !strcmp(mode, "two") ? 2 : 1;
	e2e_path(dir, sizeof(dir), ".");
	if (!strcmp(mode, "attrs")) {
		char root[600];

		snprintf(root, sizeof(root), "%s/root", dir);
		if (mkdir(root, 0700) && errno != EEXIST)
			e2e_fail("mkdir: %s", strerror(errno));
	}
	before = open_marker("before");
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (before < 0 || shared == MAP_FAILED || pipe(to_child) || pipe(to_parent))
		e2e_fail("setup: %s", strerror(errno));
	for (i = 0; i < nr; i++) {
		pid[i] = clone_files();
		if (pid[i] == 0) {
			e2e_note_pid();
			_exit(child(i, nr));
		}
	}
	shared[0] = 'P';
	if (open_marker("parent") < 0)
		e2e_fail("open: %s", strerror(errno));
	for (i = 0; i < nr; i++)
		if (read(to_parent[0], &c, 1) != 1)
			e2e_fail("a child did not start");
	if (!strcmp(mode, "attrs"))
		attrs_parent();
	attrs_of(pid[0], attrs_before, sizeof(attrs_before));
	open_fds(fds_before);
	e2e_root_ready();
	open_fds(fds_after);
	attrs_of(pid[0], attrs_after, sizeof(attrs_after));
	if (strcmp(attrs_before, attrs_after))
		e2e_fail("the child was %s, is %s", attrs_before, attrs_after);
	for (i = 0; i < 128; i++)
		if ((fds_before[i / 8] ^ fds_after[i / 8]) & (1 << (i % 8)))
			e2e_fail("fd %d is %s after the restore", i,
				 fds_after[i / 8] & (1 << (i % 8)) ? "open" : "closed");

	for (i = 0; i < nr; i++)
		if (!same_table(getpid(), pid[i]))
			e2e_fail("the descriptor table is not shared with %d any more", pid[i]);
	if (!all_there(nr))
		e2e_fail("a descriptor from before the dump is missing");
	for (i = 0; i < nr; i++)
		kill(pid[i], SIGTERM);
	r = strcmp(mode, "attrs") ? exchange(to_child[1], to_parent[0], "parent-after", "child-after") : 0;
	for (i = 0; i < nr; i++)
		if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 10)
			e2e_fail("child %d: status %#x", pid[i], st);
	if (r)
		e2e_fail("the child's new descriptor is not ours (%d)", r);
	if (shared[1] != 'C' || (nr > 1 && shared[2] != 'C'))
		e2e_fail("the shared mapping is not shared any more (%.3s)", shared);
	e2e_pass();
}
