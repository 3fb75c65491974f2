/*
 * Support for end-to-end test programs (header only: each program is one
 * file). A program
 *   1. calls e2e_init(argc, argv) first,
 *   2. sets up the state it wants to survive a checkpoint,
 *   3. calls e2e_ready(): the harness may now dump it,
 *   4. works until e2e_stopped() turns true (the harness sends SIGTERM
 *      after the restore), or waits in a way that SIGTERM interrupts,
 *   5. checks its own state and ends with e2e_pass() or e2e_fail().
 * The result goes to the file named by argv[1], opened only at the end, so
 * no descriptor of the harness needs to survive the checkpoint.
 */
#ifndef E2E_H
#define E2E_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/futex.h>

static const char *e2e_result_path;
static volatile sig_atomic_t e2e_stop;

static void e2e_on_term(int sig)
{
	(void)sig;
	e2e_stop = 1;
}

static inline int e2e_stopped(void)
{
	return e2e_stop;
}

static inline void e2e_init(int argc, char **argv)
{
	struct sigaction sa;

	if (argc < 2) {
		fprintf(stderr, "usage: %s RESULT-FILE\n", argv[0]);
		exit(2);
	}
	e2e_result_path = argv[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = e2e_on_term;	/* no SA_RESTART: blocking calls see EINTR */
	sigaction(SIGTERM, &sa, NULL);
}

static inline void e2e_ready(void)
{
	const char *s = getenv("E2E_READY_FD");
	int fd = s ? atoi(s) : -1;

	if (fd < 0 || write(fd, "R", 1) != 1) {
		fprintf(stderr, "e2e: cannot report readiness\n");
		exit(2);
	}
	close(fd);
	unsetenv("E2E_READY_FD");	/* e2e_child() must not close what reuses the number */
}

static inline void e2e_result(const char *text)
{
	int fd = open(e2e_result_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			fprintf(stderr, "e2e: cannot write the result\n");
		close(fd);
	}
}

static inline __attribute__((noreturn)) void e2e_pass(void)
{
	e2e_result("PASS\n");
	exit(0);
}

static inline __attribute__((noreturn, format(printf, 1, 2))) void e2e_fail(const char *fmt, ...)
{
	char buf[512] = "FAIL ";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + 5, sizeof(buf) - 6, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	e2e_result(buf);
	exit(1);
}

/* Read exactly @len bytes of @fd, or fail the test naming @what. */
static inline void e2e_read_all(int fd, void *buf, size_t len, const char *what)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			e2e_fail("%s: read returned %zd after %zu of %zu bytes (%s)", what, n, got,
				 len, strerror(errno));
		got += (size_t)n;
	}
}

/*
 * Wait until SIGTERM has arrived. Not pause(): a task restored inside
 * pause() re-issues it, and a SIGTERM whose handler runs just before that
 * (between the restorer's sigreturn and the restarted call) would leave it
 * asleep for ever; a short sleep looks at the flag again.
 */
static inline void e2e_wait_stop(void)
{
	const struct timespec ts = { 0, 20 * 1000 * 1000 };

	while (!e2e_stop)
		nanosleep(&ts, NULL);
}

/*
 * Thread programs: the main thread blocks SIGTERM while it creates workers
 * (so SIGTERM stays the main thread's), waits until they all counted
 * themselves in, and after the restore opens the futex gate they wait on.
 */
static inline void e2e_term_mask(int how)
{
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(how, &term, NULL);
}

static inline void e2e_wait_count(int *arrived, int n)
{
	while (__atomic_load_n(arrived, __ATOMIC_SEQ_CST) < n)
		usleep(1000);
}

static inline void e2e_open_gate(int *word)
{
	__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Fails unless fd @fd's /proc/self/fd link reads @want. */
static inline void e2e_check_fd_link(int fd, const char *want)
{
	char link[64], target[512];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		e2e_fail("readlink %s: %s", link, strerror(errno));
	target[n] = '\0';
	if (strcmp(target, want))
		e2e_fail("fd %d is %s, want %s", fd, target, want);
}

/* A scratch file path next to the result file (the harness removes the dir). */
static inline void e2e_path(char *buf, size_t size, const char *name)
{
	const char *slash = strrchr(e2e_result_path, '/');
	int dirlen = slash ? (int)(slash - e2e_result_path) : 1;

	snprintf(buf, size, "%.*s/%s", dirlen, slash ? e2e_result_path : ".", name);
}

/*
 * Before a program drops root: the result file made now and given to
 * @uid:@gid, its directory searchable, so the program can still write it.
 */
static inline void e2e_result_for(uid_t uid, gid_t gid)
{
	char dir[PATH_MAX];
	int fd = open(e2e_result_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	e2e_path(dir, sizeof(dir), ".");
	if (fd < 0 || fchown(fd, uid, gid) || chmod(dir, 0711))
		e2e_fail("making the result file %s writable for %u: %s", e2e_result_path, uid,
			 strerror(errno));
	close(fd);
}

/* The permission column ("r-xp") of the mapping holding @addr, or "none". */
static inline const char *e2e_perms(const void *addr)
{
	static char perms[8];
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	strcpy(perms, "none");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && a >= lo && a < hi)
			break;
		else
			strcpy(perms, "none");
	if (f)
		fclose(f);
	return perms;
}

/* An fd on the object behind the mapping [@addr, @addr + @len), or e2e_fail(). */
static inline int e2e_map_fd(const void *addr, size_t len)
{
	char link[80];
	int fd;

	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)addr,
		 (unsigned long)addr + len);
	fd = open(link, O_RDONLY);
	if (fd < 0)
		e2e_fail("open %s: %s", link, strerror(errno));
	return fd;
}

/* FNV-1a over a buffer: cheap, deterministic checksums for memory checks. */
static inline uint64_t e2e_hash(const void *p, size_t len)
{
	const unsigned char *c = p;
	uint64_t h = 1469598103934665603ull;

	while (len--)
		h = (h ^ *c++) * 1099511628211ull;
	return h;
}

/* ---- process trees ------------------------------------------------------ */

#include <sys/wait.h>

/* What a process of a tree checks about itself after the restore. */
struct e2e_ids {
	pid_t pid, ppid, pgid, sid;
};

static inline void e2e_ids_get(struct e2e_ids *x)
{
	x->pid = getpid();
	x->ppid = getppid();
	x->pgid = getpgid(0);
	x->sid = getsid(0);
}

/* 0 when pid, ppid, group and session are what @x recorded, else which differs (1..4). */
static inline int e2e_ids_check(const struct e2e_ids *x)
{
	struct e2e_ids now;

	e2e_ids_get(&now);
	return now.pid != x->pid ? 1 : now.ppid != x->ppid ? 2 : now.pgid != x->pgid ? 3 :
	       now.sid != x->sid ? 4 : 0;
}

/*
 * Append this process's pid to "pids" next to the result file: the harness
 * checks at the end that every one of them is gone.
 */
static inline void e2e_note_pid(void)
{
	char path[512], line[32];
	int fd, n;

	e2e_path(path, sizeof(path), "pids");
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	n = snprintf(line, sizeof(line), "%d\n", getpid());
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		exit(3);
	close(fd);
}

/* The parent is a criu process (an attached restore waits for its root). */
static inline int e2e_parent_is_criu(void)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", getppid());
	f = fopen(path, "re");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	return !strcmp(comm, "criu\n");
}

/*
 * After the restore: @me's ids are unchanged (10 + which differs), the
 * process is in group @leader (15), the group is alive (16) and no process
 * @leader exists (17): the leader had exited before the dump.
 */
static inline int e2e_check_leaderless(const struct e2e_ids *me, pid_t leader)
{
	int r = e2e_ids_check(me);

	if (r)
		return 10 + r;
	if (getpgid(0) != leader)
		return 15;
	if (kill(-leader, 0))
		return 16;
	if (getpgid(leader) != -1 || errno != ESRCH)
		return 17;
	return 0;
}

/*
 * A member of a tree case, once set up: record its ids, list itself, close
 * its end of the tree's readiness pipe and wait for the restore and SIGTERM.
 */
static inline void e2e_member_ready(struct e2e_ids *me, int *ready_w)
{
	e2e_ids_get(me);
	e2e_note_pid();
	close(*ready_w);
	*ready_w = -1;
	e2e_wait_stop();
}

/*
 * The root of a tree case, once its tree is set up: list itself, report
 * ready, wait for the restore and SIGTERM, check its own ids (an attached
 * restore's criu is its parent now). Fails the case on a mismatch.
 */
static inline void e2e_root_ready(void)
{
	struct e2e_ids me;
	int r;

	e2e_note_pid();
	e2e_ids_get(&me);
	e2e_ready();
	e2e_wait_stop();
	if (getppid() != me.ppid && e2e_parent_is_criu())
		me.ppid = getppid();
	r = e2e_ids_check(&me);
	if (r)
		e2e_fail("root: ids changed (%d)", r);
}

/* In a forked child: the harness's readiness pipe is the parent's to close. */
static inline void e2e_child(void)
{
	const char *s = getenv("E2E_READY_FD");

	if (s)
		close(atoi(s));
}

/*
 * Readiness inside a tree: every process inherits the write end and closes
 * it once set up; end of file on the read end means all of them are.
 */
static inline void e2e_tree_pipe(int *r, int *w)
{
	int p[2];

	if (pipe(p))
		e2e_fail("pipe: %s", strerror(errno));
	*r = p[0];
	*w = p[1];
}

static inline void e2e_tree_wait(int *r, int *w)
{
	char c;
	ssize_t n;

	close(*w);
	while ((n = read(*r, &c, 1)) > 0 || (n < 0 && errno == EINTR))
		;
	close(*r);
	*r = *w = -1;
}

/*
 * Fork a child of the tree that runs @fn and exits with what it returns;
 * @closing (if >= 0) is a descriptor only the parent keeps (the read end of
 * a readiness pipe), set to -1 in the child.
 */
static inline pid_t e2e_spawn(int (*fn)(void), int *closing)
{
	pid_t p = fork();

	if (p < 0)
		exit(2);
	if (p == 0) {
		e2e_child();
		if (*closing >= 0)
			close(*closing);
		*closing = -1;
		_exit(fn());
	}
	return p;
}

/* Wait (without reaping) until child @pid has ended: it is a zombie now. */
static inline void e2e_wait_zombie(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) && errno == EINTR)
		;
}

/*
 * Stop child @pid (SIGTERM) unless it is @zombie, reap it and compare its
 * wait status with @want. Returns 0 or, for a child that failed its own
 * checks, its exit code.
 */
static inline int e2e_reap(pid_t pid, int zombie, int want)
{
	int st = -1;

	if (!zombie)
		kill(pid, SIGTERM);
	if (waitpid(pid, &st, zombie ? WNOHANG : 0) != pid)
		return 90;	/* a zombie must be there already */
	if (st == want)
		return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : 91;
}

/* ---- sockets ------------------------------------------------------------ */

#include <netinet/in.h>
#include <sys/socket.h>

/* The loopback address of @family (AF_INET or AF_INET6) with @port. */
static inline socklen_t e2e_loopback(struct sockaddr_storage *ss, int family, unsigned short port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	((struct sockaddr_in *)ss)->sin_port = htons(port);
	return sizeof(struct sockaddr_in);
}

/* The local port of an IPv4 or IPv6 socket (0: not bound). */
static inline unsigned short e2e_port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		e2e_fail("getsockname: %s", strerror(errno));
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						 ((struct sockaddr_in *)&ss)->sin_port);
}

#include <stddef.h>
#include <sys/un.h>

/* A unix socket address: a path, or an abstract @name (a NUL before it). */
static inline socklen_t e2e_unix_addr(struct sockaddr_un *a, const char *name, bool abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(a->sun_path + 1, name, strlen(name));
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	}
	strcpy(a->sun_path, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1);
}

#include <sched.h>

#endif /* E2E_H */
