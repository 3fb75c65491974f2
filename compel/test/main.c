/*
 * compel test runner: each case forks a victim and a driver (a separate
 * process, so that it can be SIGKILLed), then lets the victim finish and
 * collects its verdict.  Prints "PASS name", "FAIL name: why" or
 * "SKIP name: why" per case; exits 1 if any failed.
 *
 *   compel-test [case-name-prefix]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <compel/compel.h>
#include "driver.h"
#include "victim.h"

struct tcase {
	const char	*name;
	struct vconf	v;
	struct dplan	d;
	int		vfork;		/* victim starts as a vfork parent */
	int		pidns;		/* victim is init of a new pid namespace */
};

static int failed;

static int wait_pid(pid_t pid, int timeout_ms, int *status)
{
	int pfd = syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd < 0)
		return -1;
	if (poll(&p, 1, timeout_ms) <= 0) {
		close(pfd);
		return -1;
	}
	close(pfd);
	return waitpid(pid, status, __WALL) == pid ? 0 : -1;
}

static int read_ready(int fd, int n, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[VMAX_THREADS];
	ssize_t r;

	while (n > 0) {
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		r = read(fd, buf, n);
		if (r <= 0)
			return -1;
		n -= r;
	}
	return 0;
}

/* Syscall number a thread is blocked in (-1: running) and its arg 0. */
static long task_syscall(pid_t pid, const char *tid, unsigned long *arg0)
{
	char path[300], buf[128];
	long nr;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", pid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1;
	buf[n] = 0;
	*arg0 = 0;
	return sscanf(buf, "%ld %lx", &nr, arg0) >= 1 ? nr : -1;
}

/* Blocked where the runner releases it: read on our pipe, wait on our futex. */
static int releasable(const struct vshared *vs, long nr, unsigned long a0)
{
	return (nr == SYS_read && a0 == (unsigned long)vs->read_rd) ||
	       (nr == SYS_futex && a0 == (unsigned long)&vs->futex);
}

/*
 * Wait until at least n threads sit in syscall `only`, or (only == -1) in
 * any of the syscalls victims block in, or (only == -2) in one the
 * runner releases (other futex waits, in glibc say, do not count).
 */
static int wait_blocked(const struct vshared *vs, pid_t pid, int n, long only)
{
	char path[64];
	int tries, blocked;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	for (tries = 0; tries < 5000; tries++) {
		siginfo_t si = { .si_pid = 0 };

		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == pid)
			return -1;	/* dead already */
		d = opendir(path);
		if (!d)
			return -1;
		blocked = 0;
		while ((de = readdir(d))) {
			unsigned long a0 = 0;
			long nr;

			if (de->d_name[0] == '.')
				continue;
			nr = task_syscall(pid, de->d_name, &a0);
			if (only >= 0 ? nr == only : only == -2 ? releasable(vs, nr, a0) :
			    (releasable(vs, nr, a0) || nr == SYS_nanosleep))
				blocked++;
		}
		closedir(d);
		if (blocked >= n)
			return 0;
		usleep(1000);
	}
	return -1;
}

/* Threads that block until released: read and futex ones. */
static int released_waiters(const struct vconf *v)
{
	int n = v->nthreads - v->nthreads / 2;	/* even threads: futex */

	if (v->main_kind == VK_NANOSLEEP || v->eintr)
		n--;
	return n;
}

static void release(struct vshared *vs)
{
	if (write(vs->read_wr, "x", 1) != 1)
		perror("release");
	__atomic_store_n(&vs->futex, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &vs->futex, FUTEX_WAKE, 1 << 30, NULL, NULL, 0);
}

static void victim_fork(struct vshared *vs, const struct tcase *tc, int vfpipe)
{
	char b;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (tc->vfork) {
		pid_t c = vfork();

		if (c == 0) {
			syscall(SYS_read, vfpipe, &b, 1);
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	victim_main(vs, &tc->v);
}

/*
 * Pid namespace case: this child unshares, forks the victim (pid 1
 * inside), publishes its outer pid, and exits with its status.
 */
static void pidns_parent(struct vshared *vs, const struct tcase *tc, int vfpipe)
{
	pid_t v;
	int st;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWPID))
		_exit(97);
	v = fork();
	if (v == 0)
		victim_fork(vs, tc, vfpipe);
	__atomic_store_n(&vs->global_pid, v, __ATOMIC_SEQ_CST);
	if (waitpid(v, &st, 0) != v)
		_exit(98);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static pid_t pidns_victim(struct vshared *vs)
{
	int i;

	for (i = 0; i < 5000; i++) {
		pid_t v = __atomic_load_n(&vs->global_pid, __ATOMIC_SEQ_CST);

		if (v > 0)
			return v;
		usleep(1000);
	}
	return -1;
}

/* The vfork case: seizing a vfork parent must fail cleanly first. */
static int vfork_check(pid_t pid, int vfwr, char *why, size_t n)
{
	int r;

	if (wait_blocked(NULL, pid, 1, SYS_vfork)) {
		snprintf(why, n, "victim never blocked in vfork");
		return -1;
	}
	r = compel_seize(pid, 0);
	if (r == 0 || errno != EAGAIN) {
		if (r == 0)
			compel_detach(pid);
		snprintf(why, n, "seizing a vfork parent: %d errno %d", r, errno);
		return -1;
	}
	return write(vfwr, "g", 1) == 1 ? 0 : -1;
}

static void describe(struct vshared *vs, int nthreads, int status, char *why, size_t n)
{
	int i;

	for (i = 0; i < nthreads; i++) {
		if (vs->t[i].status == 1) {
			snprintf(why, n, "victim thread %d: %s", i, vs->t[i].why);
			return;
		}
		if (vs->t[i].status == -1) {
			snprintf(why, n, "victim thread %d did not finish (status %#x)", i, status);
			return;
		}
	}
}

/*
 * What compel must leave as it was, whatever step it died at: no new
 * mapping (/proc/PID/maps; the victim may free its own meanwhile, and
 * mappings split and merge), and the bytes of every executable one.  In
 * the vDSO, only the trampoline may stay behind, in what was zero
 * padding.
 */
#define SNAP_MAX	64

struct snap {
	char	*maps;
	int	n;
	struct { unsigned long s, e; uint8_t *bytes; int vdso; } x[SNAP_MAX];
};

static char *slurp(const char *path)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), *b;
	ssize_t r;
	int fd = open(path, O_RDONLY);

	while (buf && fd >= 0 && (r = read(fd, buf + len, cap - len - 1)) > 0) {
		len += r;
		if (cap - len < 4096 && (b = realloc(buf, cap *= 2)))
			buf = b;
		else if (cap - len < 4096)
			break;
	}
	if (fd >= 0)
		close(fd);
	if (buf)
		buf[len] = 0;
	return buf;
}

static void snap_free(struct snap *sn)
{
	int i;

	for (i = 0; i < sn->n; i++)
		free(sn->x[i].bytes);
	free(sn->maps);
	memset(sn, 0, sizeof(*sn));
}

static int snap_take(pid_t pid, struct snap *sn)
{
	char path[64], *line, *end, perm[8];
	unsigned long s, e;
	int mem;

	memset(sn, 0, sizeof(*sn));
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	sn->maps = slurp(path);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY);
	if (sn->maps && !sn->maps[0] && mem < 0)
		return 0;	/* exited already: nothing left to compare */
	if (!sn->maps || mem < 0) {
		if (mem >= 0)
			close(mem);
		return -1;
	}
	for (line = sn->maps; *line && sn->n < SNAP_MAX; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break;
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perm) != 3 || perm[2] != 'x')
			continue;
		sn->x[sn->n].bytes = malloc(e - s);
		if (!sn->x[sn->n].bytes)
			break;
		if (pread(mem, sn->x[sn->n].bytes, e - s, s) != (ssize_t)(e - s)) {
			free(sn->x[sn->n].bytes);	/* [vsyscall] */
			continue;
		}
		sn->x[sn->n].s = s;
		sn->x[sn->n].e = e;
		sn->x[sn->n++].vdso = !strncmp(end - 7, " [vdso]", 7);
	}
	close(mem);
	return 0;
}

struct mline {
	unsigned long	s, e, ino;
	char		perm[8], dev[32], name[256];
};

static int parse_mline(const char *line, struct mline *m)
{
	size_t len;
	int pos = 0;

	if (sscanf(line, "%lx-%lx %7s %*s %31s %lu%n", &m->s, &m->e, m->perm, m->dev,
		   &m->ino, &pos) < 5 || !pos)
		return -1;
	line += pos;
	line += strspn(line, " ");
	len = strcspn(line, "\n");
	snprintf(m->name, sizeof(m->name), "%.*s", (int)len, line);
	return 0;
}

static int anon_private(const struct mline *m)
{
	return !m->ino && !m->name[0] && m->perm[3] == 'p';
}

/*
 * Inside one mapping of before of the same kind; an anonymous private
 * one (malloc arenas grow and shrink with mprotect) inside the union of
 * those of before.
 */
static int covered(const char *before, const char *line)
{
	struct mline a, b;
	unsigned long cur;
	const char *l;

	if (parse_mline(line, &a))
		return 0;
	cur = a.s;
	for (l = before; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		if (parse_mline(l, &b))
			continue;
		if (b.s <= a.s && a.e <= b.e && !strcmp(a.perm, b.perm) &&
		    !strcmp(a.dev, b.dev) && a.ino == b.ino && !strcmp(a.name, b.name))
			return 1;
		if (anon_private(&a) && anon_private(&b) && b.s <= cur && cur < b.e)
			cur = b.e;	/* maps is sorted */
	}
	return anon_private(&a) && cur >= a.e;
}

/* The same bytes, but for up to 64 in a row that were zero in the vDSO. */
static int same_code(const uint8_t *a, const uint8_t *b, size_t len, int vdso,
		     char *why, size_t n)
{
	size_t i, first = 0, diff = 0;

	for (i = 0; i < len; i++) {
		if (a[i] == b[i])
			continue;
		if (!vdso || a[i] || (diff++ && i - first >= 64)) {
			snprintf(why, n, "code byte changed at +%#zx (%#x -> %#x)%s", i,
				 a[i], b[i], vdso ? " in the vDSO" : "");
			return -1;
		}
		if (diff == 1)
			first = i;
	}
	return 0;
}

static int snap_check(pid_t pid, const struct snap *before, char *why, size_t n)
{
	struct snap after;
	char *line, *end;
	int i, j, ret = -1;

	if (snap_take(pid, &after)) {
		snprintf(why, n, "cannot read the victim's mappings");
		goto out;
	}
	for (line = after.maps; (end = strchr(line, '\n')); line = end + 1) {
		if (!covered(before->maps, line)) {
			snprintf(why, n, "new mapping '%.*s'", (int)(end - line), line);
			goto out;
		}
	}
	for (i = 0; i < after.n; i++)
		for (j = 0; j < before->n; j++)
			if (after.x[i].s == before->x[j].s && after.x[i].e == before->x[j].e &&
			    same_code(before->x[j].bytes, after.x[i].bytes,
				      after.x[i].e - after.x[i].s, after.x[i].vdso, why, n))
				goto out;
	ret = 0;
out:
	snap_free(&after);
	return ret;
}

/*
 * Threads that were in parasite code go home on their own time (a
 * thread in nanosleep is not waited for): a leftover is only one if it
 * stays, so look again for up to 5 s.
 */
static int snap_settled(pid_t pid, const struct snap *before, char *why, size_t n)
{
	int tries;

	for (tries = 0; tries < 500; tries++) {
		if (!snap_check(pid, before, why, n)) {
			why[0] = 0;
			return 0;
		}
		usleep(10000);
	}
	return -1;
}

/* Returns 0 pass; fills why.  *steps gets the number of steps reached. */
static int run_case(const struct tcase *tc, int kill_at, int *steps, char *step_name,
		    char *why, size_t n)
{
	struct vshared *vs = mmap(NULL, sizeof(*vs), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int rp[2], ready[2], vf[2], st, ret = -1;
	struct snap before = { 0 };
	pid_t victim, driver, waiter;
	struct dplan d = tc->d;

	why[0] = 0;
	if (vs == MAP_FAILED || pipe(rp) || pipe(ready) || pipe(vf))
		return -1;
	vs->read_rd = rp[0];
	vs->read_wr = rp[1];
	vs->ready_wr = ready[1];
	waiter = victim = fork();
	if (victim == 0) {
		if (tc->pidns)
			pidns_parent(vs, tc, vf[0]);
		victim_fork(vs, tc, vf[0]);
	}
	if (tc->pidns && (victim = pidns_victim(vs)) <= 0) {
		snprintf(why, n, "no victim in a new pid namespace");
		victim = waiter;
		goto kill_victim;
	}
	if (tc->vfork && vfork_check(victim, vf[1], why, n))
		goto kill_victim;
	if (read_ready(ready[0], tc->v.nthreads, 10000) ||
	    wait_blocked(vs, victim, tc->v.nthreads, -1)) {
		snprintf(why, n, "victim not ready");
		goto kill_victim;
	}
	d.pid = victim;
	d.kill_at = kill_at;
	if (snap_take(victim, &before)) {
		snprintf(why, n, "cannot read the victim's mappings");
		goto kill_victim;
	}
	driver = fork();
	if (driver == 0)
		_exit(drive(vs, &d) ? 1 : 0);
	if (wait_pid(driver, 60000, &st)) {
		kill(driver, SIGKILL);
		waitpid(driver, &st, 0);
		snprintf(why, n, "driver hung at step %d", vs->steps);
		goto kill_victim;
	}
	*steps = vs->steps;
	snprintf(step_name, 64, "%s", vs->step_name);
	if (kill_at ? !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) :
		      !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		snprintf(why, n, "driver: %s (status %#x)", vs->dwhy, st);
		if (!kill_at)
			goto kill_victim;
	}
	/* Threads resume asynchronously: release them once they block again. */
	wait_blocked(vs, victim, released_waiters(&tc->v), -2);
	if (!why[0] && snap_settled(victim, &before, why, n))
		snprintf(why + strlen(why), n - strlen(why), " (after compel left)");
	release(vs);
	if (wait_pid(waiter, 20000, &st)) {
		snprintf(why, n, "victim hung after compel left");
		goto kill_victim;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		ret = why[0] ? -1 : 0;
	else if (!why[0]) {
		describe(vs, tc->v.nthreads, st, why, n);
		if (!why[0])
			snprintf(why, n, "victim died, status %#x", st);
	}
	goto out;
kill_victim:
	kill(victim, SIGKILL);
	waitpid(waiter, NULL, __WALL);
out:
	close(rp[0]); close(rp[1]); close(ready[0]); close(ready[1]);
	close(vf[0]); close(vf[1]);
	munmap(vs, sizeof(*vs));
	snap_free(&before);
	return ret;
}

#define V(kind, thr, ms, ...) { .main_kind = kind, .nthreads = thr, .sleep_ms = ms, \
				.buf_size = 256 << 10, __VA_ARGS__ }
#define D(thr, nr, ...) { .nthreads = thr, .expect_nr = nr, __VA_ARGS__ }

static const struct tcase cases[] = {
	{ .name = "single-read", .v = V(VK_READ, 1, 1000),
	  .d = D(1, SYS_read, .full = 1) },
	{ .name = "single-nanosleep", .v = V(VK_NANOSLEEP, 1, 1000),
	  .d = D(1, SYS_nanosleep) },
	{ .name = "single-futex", .v = V(VK_FUTEX, 1, 1000), .d = D(1, SYS_futex) },
	{ .name = "read-eintr-pending-signal", .v = V(VK_READ, 1, 1000, .eintr = 1),
	  .d = D(1, SYS_read, .eintr = 1) },
	{ .name = "threads-16", .v = V(VK_READ, 16, 1000),
	  .d = D(16, SYS_read, .full = 1, .per_thread = 1) },
	{ .name = "threads-40-parallel", .v = V(VK_READ, 40, 1000),
	  .d = D(40, SYS_read, .batch = 1) },
	{ .name = "seccomp-filter", .v = V(VK_READ, 2, 1000, .seccomp = 1),
	  .d = D(2, SYS_read, .seccomp = 1, .per_thread = 1) },
	{ .name = "seccomp-kill-refused", .v = V(VK_READ, 2, 1000, .seccomp = 2),
	  .d = D(2, SYS_read, .seccomp = 1, .refused = 1) },
	{ .name = "seccomp-thread-filter-refused", .v = V(VK_READ, 2, 1000, .seccomp = 3),
	  .d = D(2, SYS_read, .seccomp = 1, .thread_refused = 1) },
	{ .name = "hostile-rseq-cs", .v = V(VK_READ, 2, 1000, .hostile_rseq = 1),
	  .d = D(2, SYS_read, .full = 1, .per_thread = 1, .hostile_rseq = 1) },
	{ .name = "parasite-crash", .v = V(VK_READ, 2, 1000),
	  .d = D(2, SYS_read, .crash = 1) },
	{ .name = "thread-command-crash", .v = V(VK_READ, 4, 1000),
	  .d = D(4, SYS_read, .thread_crash = 1) },
	{ .name = "pid-namespace-init", .v = V(VK_READ, 6, 1000),
	  .d = D(6, SYS_read, .full = 1, .batch = 1, .pidns = 1), .pidns = 1 },
	{ .name = "pid-namespace-init-serial", .v = V(VK_READ, 3, 1000),
	  .d = D(3, SYS_read, .per_thread = 1, .pidns = 1), .pidns = 1 },
	{ .name = "vfork-parent", .v = V(VK_READ, 1, 1000), .d = D(1, SYS_read),
	  .vfork = 1 },
};

/* Victims for the kill-at-every-step sweeps. */
static const struct tcase kill_cases[] = {
	{ .name = "read", .v = V(VK_READ, 3, 400), .d = D(3, SYS_read, .per_thread = 1) },
	{ .name = "seccomp", .v = V(VK_READ, 2, 400, .seccomp = 1),
	  .d = D(2, SYS_read, .seccomp = 1, .batch = 1) },
	/* thread 1 sleeps 1 s: a refused run is short, the seize must find it */
	{ .name = "seccomp-kill", .v = V(VK_READ, 2, 1000, .seccomp = 2),
	  .d = D(2, SYS_read, .seccomp = 1, .refused = 1) },
	{ .name = "read-eintr", .v = V(VK_READ, 2, 400, .eintr = 1),
	  .d = D(2, SYS_read, .eintr = 1, .batch = 1) },
	{ .name = "nanosleep-rseq", .v = V(VK_NANOSLEEP, 3, 800, .hostile_rseq = 1),
	  .d = D(3, SYS_nanosleep, .batch = 1, .hostile_rseq = 1) },
};

/*
 * The host tool must refuse what cannot become a blob.  Runs
 * <dir>/../compel hgen on objects built by the Makefile.
 */
static int hgen_refuses(const char *obj, const char *msg, char *why, size_t n)
{
	char self[1024], cmd[3 * 1024 + 128], out[512] = "";
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *f;
	int st;

	if (len <= 0)
		return -1;
	self[len] = '\0';
	*strrchr(self, '/') = '\0';
	/* Output next to the objects: never a system file. */
	snprintf(cmd, sizeof(cmd), "'%s/../compel' hgen -i '%s/%s' -o '%s/refused.h' 2>&1",
		 self, self, obj, self);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len > 0 ? len : 0] = '\0';
	st = pclose(f);
	snprintf(cmd, sizeof(cmd), "%s/refused.h", self);
	if (access(cmd, F_OK) == 0) {
		unlink(cmd);
		snprintf(why, n, "hgen %s wrote an output file", obj);
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 1 || !strstr(out, msg)) {
		snprintf(why, n, "hgen %s: status %#x, output '%.200s'", obj, st, out);
		return -1;
	}
	return 0;
}

static void report(const char *name, int ret, const char *why)
{
	if (ret) {
		printf("FAIL %s: %s\n", name, why);
		failed = 1;
	} else {
		printf("PASS %s\n", name);
	}
	fflush(stdout);
}

static void kill_at_every_step(const struct tcase *tc)
{
	char why[512], name[160], sname[64];
	int steps = 0, k, s, survived = 0, ret, windows = 0;

	snprintf(name, sizeof(name), "kill-%s-reference-run", tc->name);
	ret = run_case(tc, 0, &steps, sname, why, sizeof(why));
	report(name, ret, why);
	if (ret || steps < 1)
		return;
	for (k = 1; k <= steps; k++) {
		if (getenv("COMPEL_TEST_STEP") && atoi(getenv("COMPEL_TEST_STEP")) != k)
			continue;
		ret = run_case(tc, k, &s, sname, why, sizeof(why));
		snprintf(name, sizeof(name), "kill-%s-at-step-%02d-%s", tc->name, k, sname);
		for (char *c = name; *c; c++)
			if (*c == ' ' || *c == ':')
				*c = '-';
		if (!strncmp(sname, "window:", 7)) {
			/* Inside a remote ptrace syscall: documented as unsafe. */
			printf("SKIP %s: no room for the trampoline: the documented "
			       "remote-syscall window (victim %s)\n", name,
			       ret ? "broken" : "survived");
			windows++;
			continue;
		}
		report(name, ret, why);
		survived += !ret;
	}
	fprintf(stderr, "kill-at-step %s: %d steps, %d in remote-syscall windows, "
		"%d of %d others survived\n", tc->name, steps, windows, survived,
		steps - windows);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "";
	char why[512], sname[64];
	unsigned int i;
	int steps;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!compel_fpu_state_size())
		fprintf(stderr, "note: no FPU state to save on this CPU\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strncmp(cases[i].name, only, strlen(only)))
			continue;
		report(cases[i].name, run_case(&cases[i], 0, &steps, sname, why,
					       sizeof(why)), why);
	}
	if (!strncmp("hgen", only, strlen(only))) {
		report("hgen-refuses-absolute-relocs",
		       hgen_refuses("bad-abs.o", "not position independent", why,
				    sizeof(why)), why);
		report("hgen-refuses-undefined-symbols",
		       hgen_refuses("bad-undef.o", "undefined symbol 'nowhere'", why,
				    sizeof(why)), why);
	}
	for (i = 0; i < sizeof(kill_cases) / sizeof(kill_cases[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "kill-%s", kill_cases[i].name);
		if (!strncmp(name, only, strlen(only)))
			kill_at_every_step(&kill_cases[i]);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return failed;
}
