/*
 * criu restore, on images of a real dump, whole and doctored.
 *
 * A victim process we forked ourselves is dumped by the real `criu dump`
 * (which kills it, unless it is to keep its pid); the established images
 * it writes are converted to ours by the real importer (est_import), into
 * the victim's directory, where the cases read and doctor them with the
 * image API. The real `criu restore` then brings the victim back, or must
 * refuse the doctored images; a restored victim checks its own memory
 * checksum, callee-saved and vector registers, and its result file, and
 * exits 42 when all hold.
 *
 * This program is a child subreaper so that a task restored with -d is
 * reparented to it and can be reaped here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <grp.h>
#include <pthread.h>
#include <linux/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "est-image.h"
#include "est-import.h"
#include "est/stats.pb-c.h"
#include "unit.h"
#include "log.h"
#include "compiler.h"
#include "image.h"
#include "inventory.h"
#include "kernel-compat.h"
#include "proc_parse.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "files.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"

#define VICTIM_BUF	(4UL << 20)
#define RESULT_FD	7
#define PAGE		4096UL

struct victim_ctl {
	pid_t pid;
	uint64_t buf;		/* the victim's buffer, to find its vma */
	char dir[64];		/* its images, ours */
	char result[128];
	char maps[16384];	/* "start-end perms" of each line, before the dump */
	char tty[64];		/* the victim's terminal, "" for /dev/null */
};

/* ---- the victim --------------------------------------------------------- */

static volatile sig_atomic_t victim_go;
static bool victim_drop_creds;	/* the next victim becomes uid 1000 with a few caps */
static int victim_nr_threads;	/* extra threads of the next victim */
static bool victim_timers;	/* the next victim has two POSIX timers */
static int victim_timer_id[2];
static long victim_thread_bad[8];
/* Each thread's tid and clear-tid address (PR_GET_TID_ADDRESS), checked after the restore. */
static pid_t victim_tid[9];
static uint64_t victim_tid_addr[9];
static int victim_threads_started, victim_threads_done;

/* The credential lines of /proc/self/status, to compare before and after. */
static void creds_summary(char *out, size_t len)
{
	static const char *const keys[] = { "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:",
					    "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:" };
	char buf[4096], *p, *e;
	size_t used = 0, k;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		p = strstr(buf, keys[k]);
		e = p ? strchr(p, '\n') : NULL;
		if (e && used + (size_t)(e - p) + 2 < len) {
			memcpy(out + used, p, (size_t)(e - p) + 1);
			used += (size_t)(e - p) + 1;
			out[used] = '\0';
		}
	}
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1 && used + 12 < len)
		strcat(out, "undumpable\n");
}

struct k_caphdr { uint32_t version; int pid; };
struct k_capdata { uint32_t eff, prm, inh; };

static int victim_creds(void)
{
	struct k_caphdr h = { 0x20080522, 0 };
	struct k_capdata d[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	gid_t groups[2] = { 1234, 5678 };

	d[0].eff = d[0].prm = (1u << 5 /* CAP_KILL */) | (1u << 10 /* CAP_NET_BIND_SERVICE */);
	d[0].inh = 1u << 5;
	if (prctl(PR_CAPBSET_DROP, 22 /* CAP_SYS_BOOT */, 0, 0, 0) || setgroups(2, groups) ||
	    setresgid(2000, 2001, 2002) || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ||
	    setresuid(1000, 1001, 1002) || syscall(SYS_capset, &h, d) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 5, 0, 0) ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -1;
	return 0;
}

static void victim_on_usr1(int sig)
{
	(void)sig;
	victim_go = 1;
}

static uint64_t checksum(const uint64_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/*
 * Sleep in raw nanosleep calls until the flag is set, with known values in
 * r12-r15 and ymm15 (its upper half lives in the AVX xsave component).
 * Returns the number of registers that changed.
 */
static long victim_wait(volatile sig_atomic_t *flag)
{
	static const struct timespec ts = { 0, 2000000 };
	long bad;

	__asm__ __volatile__(
		"movabs	$0x1122334455667788, %%r12\n"
		"movabs	$0x2233445566778899, %%r13\n"
		"movabs	$0x33445566778899aa, %%r14\n"
		"movabs	$0x445566778899aabb, %%r15\n"
		"vmovq	%%r14, %%xmm14\n"
		"vpinsrq $1, %%r15, %%xmm14, %%xmm14\n"
		"vinserti128 $1, %%xmm14, %%ymm14, %%ymm15\n"
		"1:\n"
		"movl	$35, %%eax\n"		/* nanosleep */
		"movq	%[ts], %%rdi\n"
		"xorl	%%esi, %%esi\n"
		"syscall\n"
		"cmpl	$0, (%[flag])\n"
		"je	1b\n"
		"xorl	%%eax, %%eax\n"
		"movabs	$0x1122334455667788, %%rdx\n"
		"cmpq	%%rdx, %%r12\n"
		"setne	%%cl\n"
		"movzbl	%%cl, %%ecx\n"
		"addq	%%rcx, %%rax\n"
		"movabs	$0x2233445566778899, %%rdx\n"
		"cmpq	%%rdx, %%r13\n"
		"setne	%%cl\n"
		"addq	%%rcx, %%rax\n"
		"vextracti128 $1, %%ymm15, %%xmm13\n"
		"vmovq	%%xmm13, %%rdx\n"
		"cmpq	%%rdx, %%r14\n"
		"setne	%%cl\n"
		"addq	%%rcx, %%rax\n"
		"vpextrq $1, %%xmm13, %%rdx\n"
		"cmpq	%%rdx, %%r15\n"
		"setne	%%cl\n"
		"addq	%%rcx, %%rax\n"
		"vzeroupper\n"
		: "=&a"(bad)
		: [ts] "r"(&ts), [flag] "b"(flag)
		: "rcx", "rdx", "rdi", "rsi", "r11", "r12", "r13", "r14", "r15", "memory",
		  "xmm13", "xmm14", "xmm15", "cc");
	return bad;
}

static long victim_wait(volatile sig_atomic_t *flag);

/* An extra thread: its own name, registers and wait; reports into victim_thread_bad. */
static void *victim_thread(void *arg)
{
	long idx = (long)arg, bad;
	char name[16], now[16] = "";

	uint64_t tid_addr = 0;

	snprintf(name, sizeof(name), "vthr-%ld", idx);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	victim_tid[idx + 1] = (pid_t)syscall(SYS_gettid);
	prctl(PR_GET_TID_ADDRESS, &victim_tid_addr[idx + 1], 0, 0, 0);
	__atomic_add_fetch(&victim_threads_started, 1, __ATOMIC_SEQ_CST);
	bad = victim_wait(&victim_go);
	prctl(PR_GET_NAME, now, 0, 0, 0);
	if (strcmp(now, name))
		bad += 10000;
	prctl(PR_GET_TID_ADDRESS, &tid_addr, 0, 0, 0);
	if (tid_addr != victim_tid_addr[idx + 1])
		bad += 20000;
	victim_thread_bad[idx] = bad;
	__atomic_add_fetch(&victim_threads_done, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

static __attribute__((noreturn)) void victim(int ready, const char *result, const char *tty)
{
	uint64_t *buf, want, x = 88172645463325252ULL;
	char msg[128];
	int fd, i, n;
	static char altstack[65536], creds_before[1024], creds_after[1024];
	uint64_t report;
	stack_t alt;
	long bad;

	setsid();
	fd = open(result, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, RESULT_FD) < 0)
		_exit(2);
	if (write(RESULT_FD, "before\n", 7) != 7)
		_exit(2);
	/* the highest fd its (lowered) soft limit allows: criu's helpers must still fit */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl))
			_exit(2);
		rl.rlim_cur = 1024;
		if (setrlimit(RLIMIT_NOFILE, &rl) || dup2(RESULT_FD, 1023) != 1023)
			_exit(2);
	}
	fd = open(tty[0] ? tty : "/dev/null", O_RDWR | O_NOCTTY);
	for (i = 0; i < 3; i++)
		dup2(fd, i);
	for (i = 3; i < 1024; i++)
		if (i != RESULT_FD && i != ready && i != 1023)
			close(i);
	buf = mmap(NULL, VICTIM_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		_exit(2);
	/* properties of the vma itself: a name (if the kernel has them) and lasting advice */
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, buf, VICTIM_BUF, "victim-buf");
	if (madvise(buf, VICTIM_BUF, MADV_DONTFORK) || madvise(buf, VICTIM_BUF, MADV_WIPEONFORK))
		_exit(2);
	for (i = 0; i < (int)(VICTIM_BUF / 8); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (i % 3) ? x : 0;	/* some zero words, like real memory */
	}
	want = checksum(buf, VICTIM_BUF / 8);
	if (victim_drop_creds && victim_creds())
		_exit(2);
	creds_summary(creds_before, sizeof(creds_before));
	alt.ss_sp = altstack;
	alt.ss_size = sizeof(altstack);
	alt.ss_flags = 0;
	if (sigaltstack(&alt, NULL))
		_exit(2);
	if (victim_timers) {
		struct sigevent sev;
		struct itimerspec its = { { 50, 0 }, { 100, 0 } };

		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_NONE;
		if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &victim_timer_id[0]) ||
		    syscall(SYS_timer_settime, victim_timer_id[0], 0, &its, NULL))
			_exit(2);
		sev.sigev_notify = SIGEV_SIGNAL;
		sev.sigev_signo = SIGRTMIN + 2;
		sev.sigev_value.sival_int = 77;
		if (syscall(SYS_timer_create, CLOCK_REALTIME, &sev, &victim_timer_id[1]))
			_exit(2);
	}
	victim_tid[0] = getpid();
	prctl(PR_GET_TID_ADDRESS, &victim_tid_addr[0], 0, 0, 0);
	for (i = 0; i < victim_nr_threads; i++) {
		pthread_t th;

		if (pthread_create(&th, NULL, victim_thread, (void *)(long)i))
			_exit(2);
	}
	while (__atomic_load_n(&victim_threads_started, __ATOMIC_SEQ_CST) < victim_nr_threads)
		usleep(1000);
	report = (uint64_t)(unsigned long)buf;	/* where the buffer is, to find its vma */
	if (write(ready, &report, sizeof(report)) != sizeof(report))
		_exit(2);
	close(ready);

	bad = victim_wait(&victim_go);
	/* rt_sigreturn sets the alternate stack from the frame: it must be ours */
	if (sigaltstack(NULL, &alt) || alt.ss_sp != altstack || alt.ss_size != sizeof(altstack) ||
	    alt.ss_flags)
		bad += 10;
	if (tty[0] && (!isatty(0) || !isatty(2)))
		bad += 100;	/* --shell-job: criu's terminal */
	{
		struct rlimit rl;

		if (fcntl(1023, F_GETFD) < 0 || getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur != 1024)
			bad += 400000;
	}
	{
		uint64_t now_addr = 0;

		prctl(PR_GET_TID_ADDRESS, &now_addr, 0, 0, 0);
		if (!now_addr || now_addr != victim_tid_addr[0])
			bad += 200000;	/* clear-tid address lost */
	}
	if (victim_timers) {
		struct itimerspec a, b;

		if (syscall(SYS_timer_gettime, victim_timer_id[0], &a) ||
		    syscall(SYS_timer_gettime, victim_timer_id[1], &b) ||
		    a.it_interval.tv_sec != 50 || a.it_value.tv_sec > 100 ||
		    (!a.it_value.tv_sec && !a.it_value.tv_nsec) || b.it_value.tv_sec || b.it_value.tv_nsec)
			bad += 300000;
	}
	for (i = 0; i < 5000 && __atomic_load_n(&victim_threads_done, __ATOMIC_SEQ_CST) < victim_nr_threads; i++)
		usleep(1000);
	if (i == 5000)
		bad += 100000;
	for (i = 0; i < victim_nr_threads; i++)
		bad += victim_thread_bad[i];
	creds_summary(creds_after, sizeof(creds_after));
	if (strcmp(creds_before, creds_after)) {
		bad += 1000;
		if (write(RESULT_FD, creds_before, strlen(creds_before)) < 0 ||
		    write(RESULT_FD, creds_after, strlen(creds_after)) < 0)
			_exit(3);
	}

	n = snprintf(msg, sizeof(msg), "pid %d regs %ld sum %s\n", getpid(), bad,
		     checksum(buf, VICTIM_BUF / 8) == want ? "ok" : "bad");
	if (write(RESULT_FD, msg, (size_t)n) != n)
		_exit(3);
	_exit(!bad && checksum(buf, VICTIM_BUF / 8) == want ? 42 : 1);
}

static int victim_start(struct victim_ctl *v)
{
	struct sigaction sa;
	uint64_t report;
	int p[2];
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = victim_on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) || pipe(p))
		return -1;
	v->pid = fork();
	if (v->pid == 0) {
		close(p[0]);
		victim(p[1], v->result, v->tty);
	}
	signal(SIGUSR1, SIG_DFL);
	close(p[1]);
	if (v->pid < 0) {
		close(p[0]);
		return -1;
	}
	n = read(p[0], &report, sizeof(report));
	/* ready once the victim closed its end too: the pipe must not be dumped */
	if (n == sizeof(report)) {
		char c;

		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
	}
	close(p[0]);
	v->buf = report;
	return n == sizeof(report) ? 0 : -1;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

/* ---- driving criu ---------------------------------------------------------- */

static char criu_path[PATH_MAX];
static const char *criu_stdin;	/* terminal to run criu on, NULL: inherited */

static pid_t run_criu(const char *dir, const char *const *extra, const char *pid_method)
{
	char log[PATH_MAX];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/restore.log", dir);
	pid = fork();
	if (pid == 0) {
		const char *argv[16] = { criu_path, "restore", "-D", dir, "-v4", "--pidfile", "restore.pid" };
		int n = 7, fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		while (extra && *extra && n < 15)
			argv[n++] = *extra++;
		argv[n] = NULL;
		dup2(fd, 2);
		dup2(fd, 1);
		if (criu_stdin) {
			int t = open(criu_stdin, O_RDWR | O_NOCTTY);

			if (t < 0 || dup2(t, 0) < 0)
				_exit(126);
		}
		setenv("CRIU_WIP", "1", 1);
		if (pid_method)
			setenv("CRIU_PID_METHOD", pid_method, 1);
		else
			unsetenv("CRIU_PID_METHOD");
		execv(criu_path, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static pid_t read_pidfile(const char *dir, int timeout_ms)
{
	char path[PATH_MAX], buf[32];
	int i;

	snprintf(path, sizeof(path), "%s/restore.pid", dir);
	for (i = 0; i < timeout_ms / 10; i++) {
		int fd = open(path, O_RDONLY);

		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);

			close(fd);
			if (n > 0) {
				buf[n] = '\0';
				return atoi(buf);
			}
		}
		usleep(10000);
	}
	return -1;
}

static bool log_has(const char *dir, const char *what)
{
	char path[PATH_MAX];
	static char buf[65536];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/restore.log", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

static bool result_ok(const struct victim_ctl *v)
{
	char buf[512], want[128];
	int fd = open(v->result, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "before\npid %d regs 0 sum ok\n", v->pid);
	return !strcmp(buf, want);
}

static void rm_dir(const char *dir)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' || (de->d_name[1] && strcmp(de->d_name, "..")))
			if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
				unlink(path);
	if (d)
		closedir(d);
	rmdir(dir);
}

static const char *victim_tty;	/* terminal for the next victim, NULL: /dev/null */

/* The address and permission columns of /proc/PID/maps (and anon names), one line each. */
static int maps_layout(pid_t pid, char *out, size_t len)
{
	char path[64], line[512];
	size_t used = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char range[64], perms[8], name[128] = "";
		int n;

		if (sscanf(line, "%63s %7s %*s %*s %*s %127s", range, perms, name) < 2)
			continue;
		if (strncmp(name, "[anon:", 6))
			name[0] = '\0';
		n = snprintf(out + used, len - used, "%s %s %s\n", range, perms, name);
		if (n < 0 || (size_t)n >= len - used) {
			fclose(f);
			return -1;
		}
		used += (size_t)n;
	}
	fclose(f);
	return 0;
}

/* The real `criu dump` of the victim into @dir (-R: it keeps running); criu's exit status. */
static int run_dump(const struct victim_ctl *v, const char *dir, bool keep)
{
	char tpid[16], out[PATH_MAX];
	pid_t pid;

	snprintf(tpid, sizeof(tpid), "%d", v->pid);
	snprintf(out, sizeof(out), "%s/dump.out", v->dir);
	pid = fork();
	if (pid == 0) {
		const char *argv[16] = { criu_path, "dump", "-t", tpid, "-D", dir, "-v4", "-o", "dump.log" };
		int n = 9, fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (v->tty[0])
			argv[n++] = "--shell-job";
		if (keep)
			argv[n++] = "-R";
		argv[n] = NULL;
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(criu_path, (char *const *)argv);
		_exit(127);
	}
	return pid < 0 ? -1 : wait_status(pid);
}

/* Every file of directory @from copied into @to. */
static int copy_files(int from, int to)
{
	static char buf[1 << 16];
	struct dirent *de;
	int ret = 0, dup_from = dup(from);
	DIR *d = dup_from >= 0 ? fdopendir(dup_from) : NULL;

	if (!d)
		return -1;
	rewinddir(d);
	while (!ret && (de = readdir(d))) {
		int in, outfd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		in = openat(from, de->d_name, O_RDONLY | O_CLOEXEC);
		outfd = openat(to, de->d_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		while (in >= 0 && outfd >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(outfd, buf, (size_t)n) != n)
				break;
		ret = in < 0 || outfd < 0 || n != 0 ? -1 : 0;
		if (in >= 0)
			close(in);
		if (outfd >= 0)
			close(outfd);
	}
	closedir(d);
	return ret;
}

/* The established images of @est converted by the real importer into ours in v->dir. */
static int import_images(const struct victim_ctl *v, const char *est)
{
	struct est_import imp = { .dirfd = -1 };
	int from = open(est, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int to = open(v->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = -1;

	if (from >= 0 && to >= 0 && !est_import(from, &imp))
		ret = copy_files(imp.dirfd, to);
	est_import_release(&imp);
	if (from >= 0)
		close(from);
	if (to >= 0)
		close(to);
	return ret;
}

/*
 * A victim, dumped by the real criu into a fresh directory (killed, unless
 * @keep), its images ours in v->dir; the established ones are removed.
 */
static int prepare(struct victim_ctl *v, bool keep)
{
	char est[PATH_MAX];
	int rc;

	memset(v, 0, sizeof(*v));
	if (victim_tty)
		snprintf(v->tty, sizeof(v->tty), "%s", victim_tty);
	strcpy(v->dir, "/tmp/criu-test-restore.XXXXXX");
	if (!mkdtemp(v->dir))
		return -1;
	snprintf(v->result, sizeof(v->result), "%s/result", v->dir);
	snprintf(est, sizeof(est), "%s/est", v->dir);
	if (mkdir(est, 0700) || victim_start(v))
		return -1;
	rc = maps_layout(v->pid, v->maps, sizeof(v->maps));
	if (!rc && run_dump(v, est, keep)) {
		fprintf(stderr, "criu dump of %d failed: see %s/dump.log\n", v->pid, est);
		rc = -1;
	}
	if (rc || !keep)
		reap(v->pid);
	if (!rc && import_images(v, est)) {
		fprintf(stderr, "the images of %s did not convert\n", est);
		rc = -1;
	}
	if (!rc)
		rm_dir(est);
	return rc;
}

static bool pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* Restore, wake the task, expect it to pass its own checks and exit 42. */
static int roundtrip(const char *pid_method)
{
	struct victim_ctl v;
	pid_t criu, pid;
	int rc, st = 0;

	CHECK(prepare(&v, false) == 0);
	criu = run_criu(v.dir, NULL, pid_method);
	CHECK(criu > 0);
	pid = read_pidfile(v.dir, 10000);
	if (pid != v.pid) {
		reap(criu);
		snprintf(unit_why, sizeof(unit_why), "pidfile gave %d, want %d (see %s/restore.log)", pid,
			 v.pid, v.dir);
		return -1;
	}
	/* the same layout as before the dump: nothing of criu's is left */
	{
		static char now[16384];

		CHECK(maps_layout(pid, now, sizeof(now)) == 0);
		if (strcmp(now, v.maps)) {
			FILE *f;
			char path[160];

			snprintf(path, sizeof(path), "%s/maps.restored", v.dir);
			f = fopen(path, "w");
			if (f) {
				fprintf(f, "%s---- before the dump:\n%s", now, v.maps);
				fclose(f);
			}
			reap(pid);
			reap(criu);
			snprintf(unit_why, sizeof(unit_why), "layout differs after restore, see %s", path);
			return -1;
		}
	}
	{
		struct proc_vmas sm = { 0 };
		bool found = false;
		size_t k;

		CHECK(proc_read_smaps(pid, &sm) == 0);
		for (k = 0; k < sm.nr; k++)
			if (sm.v[k].start == v.buf)
				found = (sm.v[k].vmflags & PROC_VMF(DC)) && (sm.v[k].vmflags & PROC_VMF(WF));
		proc_vmas_free(&sm);
		if (!found) {
			reap(pid);
			reap(criu);
			snprintf(unit_why, sizeof(unit_why), "buffer vma lost its DONTFORK/WIPEONFORK advice");
			return -1;
		}
	}
	CHECK(kill(pid, SIGUSR1) == 0);
	for (rc = 0; rc < 1000 && waitpid(criu, &st, WNOHANG) == 0; rc++)
		usleep(10000);
	if (rc == 1000) {
		kill(pid, SIGKILL);	/* stuck: nothing may stay behind */
		rc = wait_status(criu);
	} else {
		rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	if (rc != 42 || !result_ok(&v)) {
		snprintf(unit_why, sizeof(unit_why), "criu exited %d (want 42); see %s", rc, v.dir);
		return -1;
	}
	rm_dir(v.dir);
	return 0;
}

/* pages_restored of @dir/stats-restore (the established format), or -1. */
static long long restored_pages(const char *dir)
{
	char path[PATH_MAX], buf[4096];
	struct est_parser p;
	struct est_entry e = { 0 };
	long long pages = -1;
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/stats-restore", dir);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n > 0 && !est_parse_init(&p, est_kind_by_name("stats-restore"), buf, n, path) &&
	    est_parse_next(&p, &e) == 1) {
		const Est__StatsEntry *s = (const Est__StatsEntry *)e.msg;

		if (s->restore && s->restore->has_pages_restored)
			pages = s->restore->pages_restored;
		est_entry_release(&e);
	}
	return pages;
}

static int test_roundtrip_clone3(void)
{
	return roundtrip("clone3");
}

static int test_roundtrip_ns_last_pid(void)
{
	return roundtrip("ns_last_pid");
}

static int test_detached(void)
{
	const char *extra[] = { "-d", NULL };
	struct victim_ctl v;
	pid_t criu, pid;
	int st;

	CHECK(prepare(&v, false) == 0);
	criu = run_criu(v.dir, extra, NULL);
	CHECK(criu > 0);
	CHECK(wait_status(criu) == 0);
	pid = read_pidfile(v.dir, 100);
	CHECK(pid == v.pid);
	/* reparented to us (a subreaper) */
	CHECK(kill(pid, SIGUSR1) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
	CHECK(result_ok(&v));
	CHECK(restored_pages(v.dir) >= (long long)(VICTIM_BUF / PAGE));
	rm_dir(v.dir);
	return 0;
}

/* criu restore (attached) exits with 128 + the signal that killed the task. */
static int test_exit_signal(void)
{
	struct victim_ctl v;
	pid_t criu, pid;

	CHECK(prepare(&v, false) == 0);
	criu = run_criu(v.dir, NULL, NULL);
	CHECK(criu > 0);
	pid = read_pidfile(v.dir, 10000);
	if (pid != v.pid) {
		reap(criu);
		return -1;
	}
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_status(criu) == 128 + SIGKILL);
	rm_dir(v.dir);
	return 0;
}

static int test_leave_stopped(void)
{
	const char *extra[] = { "-d", "--leave-stopped", NULL };
	struct victim_ctl v;
	pid_t criu, pid;
	struct proc_stat ps;
	int st;

	CHECK(prepare(&v, false) == 0);
	criu = run_criu(v.dir, extra, NULL);
	CHECK(criu > 0);
	CHECK(wait_status(criu) == 0);
	pid = read_pidfile(v.dir, 100);
	CHECK(pid == v.pid);
	CHECK(proc_read_stat(pid, &ps) == 0 && ps.state == 'T');
	kill(pid, SIGUSR1);
	kill(pid, SIGCONT);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
	rm_dir(v.dir);
	return 0;
}

/* A broken image: criu fails with @msg and leaves no process behind. */
static int broken(void (*spoil)(const struct victim_ctl *), const char *msg)
{
	struct victim_ctl v;
	pid_t criu;
	int rc, st = 0;

	CHECK(prepare(&v, false) == 0);
	spoil(&v);
	criu = run_criu(v.dir, NULL, NULL);
	CHECK(criu > 0);
	/* restored after all, it would wait for its SIGUSR1: bounded, then killed */
	for (rc = 0; rc < 1000 && waitpid(criu, &st, WNOHANG) == 0; rc++)
		usleep(10000);
	if (rc == 1000) {
		kill(v.pid, SIGKILL);
		rc = wait_status(criu);
	} else {
		rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	CHECK(rc == 1);
	if (!log_has(v.dir, msg)) {
		snprintf(unit_why, sizeof(unit_why), "no '%s' in %s/restore.log", msg, v.dir);
		return -1;
	}
	CHECK(!pid_alive(v.pid));
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
	rm_dir(v.dir);
	return 0;
}

static void truncate_file(const struct victim_ctl *v, const char *fmt, long cut)
{
	char path[160], name[64];
	struct stat st;

	snprintf(name, sizeof(name), fmt, v->pid);
	snprintf(path, sizeof(path), "%s/%s", v->dir, name);
	if (!stat(path, &st) && truncate(path, st.st_size - cut))
		return;
}

static void spoil_core_truncated(const struct victim_ctl *v)
{
	truncate_file(v, "core-%d.img", 100);
}

static void spoil_pages_truncated(const struct victim_ctl *v)
{
	truncate_file(v, "pages-%d.img", 4096);
}

static void spoil_core_garbage(const struct victim_ctl *v)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/core-%d.img", v->dir, v->pid);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (pwrite(fd, "\xff\xff\xff\xff\xff\xff\xff\xff", 8, 4) != 8)
			unlink(path);
		close(fd);
	}
}

static void spoil_no_inventory(const struct victim_ctl *v)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/inventory.img", v->dir);
	unlink(path);
}

/* Read every entry of an image, let @fn change entry @i, write it back. */
static void rewrite(const struct victim_ctl *v, enum img_kind kind, unsigned int id,
		    void (*fn)(unsigned int i, ProtobufCMessage *m))
{
	ProtobufCMessage *m[256];
	struct cr_img *img;
	unsigned int n = 0, i;
	int dfd = open(v->dir, O_RDONLY | O_DIRECTORY);

	img = img_open(dfd, kind, id);
	while (img && n < 256 && img_read_entry(img, &m[n]) == 1)
		n++;
	if (img)
		img_close(img);
	for (i = 0; i < n; i++)
		fn(i, m[i]);
	img = img_create(dfd, kind, id);
	for (i = 0; img && i < n; i++)
		if (img_write_entry(img, m[i]))
			break;
	if (img)
		img_commit(img);
	for (i = 0; i < n; i++)
		img_free_entry(m[i]);
	close(dfd);
}

static void mm_overlap(unsigned int i, ProtobufCMessage *m)
{
	MmEntry *mm = (MmEntry *)m;

	(void)i;
	if (mm->n_vmas > 1)
		mm->vmas[1]->start = mm->vmas[0]->start;
}

static void mm_shared_anon(unsigned int i, ProtobufCMessage *m)
{
	MmEntry *mm = (MmEntry *)m;

	(void)i;
	mm->vmas[0]->kind = VMA_KIND__VMA_ANON_SHARED;
}

static void mm_kernel_addr(unsigned int i, ProtobufCMessage *m)
{
	MmEntry *mm = (MmEntry *)m;

	(void)i;
	mm->vmas[mm->n_vmas - 2]->end = 0xffff800000000000ULL;
}

static void pagemap_outside(unsigned int i, ProtobufCMessage *m)
{
	if (i == 1)
		((PagemapEntry *)m)->vaddr = 0x1000;	/* below every vma */
}

/* No vma may ever be written: the pages the runs bring are impossible. */
static void mm_never_writable(unsigned int i, ProtobufCMessage *m)
{
	MmEntry *mm = (MmEntry *)m;
	size_t k;

	(void)i;
	for (k = 0; k < mm->n_vmas; k++) {
		mm->vmas[k]->prot &= ~PROT_WRITE;
		mm->vmas[k]->has_max_prot = true;
		mm->vmas[k]->max_prot = mm->vmas[k]->prot;
	}
}

static long cow_cut;

/* The first run becomes PE_COW (its data would not be in the page file). */
static void pagemap_cow(unsigned int i, ProtobufCMessage *m)
{
	if (i == 1) {
		((PagemapEntry *)m)->flags = 8;
		/* imported runs say where their data lies (off): a hole is no cut */
		cow_cut = ((PagemapEntry *)m)->has_off ? 0 : (long)((PagemapEntry *)m)->nr_pages * 4096;
	}
}

static void pagemap_flags(unsigned int i, ProtobufCMessage *m)
{
	if (i == 1)
		((PagemapEntry *)m)->flags = 16;
}

static void fds_repeat(unsigned int i, ProtobufCMessage *m)
{
	if (i == 1)
		((FdEntry *)m)->fd = 0;
	if (i == 0)
		((FdEntry *)m)->fd = 0;
}

/* fd 0 signals pid 1, which is no process of the restored tree; then its group. */
static void fds_owner_outside(unsigned int i, ProtobufCMessage *m)
{
	FdEntry *fe = (FdEntry *)m;
	FownEntry *own = calloc(1, sizeof(*own));

	if (i != 0 || !own) {
		free(own);
		return;
	}
	fown_entry__init(own);
	own->type = F_OWNER_PID;
	own->pid = 1;
	free(fe->fown);
	fe->fown = own;
}

static void fds_group_outside(unsigned int i, ProtobufCMessage *m)
{
	fds_owner_outside(i, m);
	if (i == 0 && ((FdEntry *)m)->fown)
		((FdEntry *)m)->fown->type = F_OWNER_PGRP;
}

/* The established format keeps a file's size, not its mtime: the size the dump saw differs. */
static void files_size(unsigned int i, ProtobufCMessage *m)
{
	RegFileEntry *rf = (RegFileEntry *)m;

	(void)i;
	if (S_ISREG(rf->mode) && rf->has_size)
		rf->size += 1;
}

static void core_xsave_short(unsigned int i, ProtobufCMessage *m)
{
	if (i == 1)
		((ThreadCoreEntry *)m)->xsave.len = 576;
}

static void core_bad_signo(unsigned int i, ProtobufCMessage *m)
{
	if (i == 0 && ((TaskCoreEntry *)m)->n_sigactions)
		((TaskCoreEntry *)m)->sigactions[0]->signo = SIGKILL;
}

static void spoil_mm_overlap(const struct victim_ctl *v) { rewrite(v, IMG_MM, (unsigned)v->pid, mm_overlap); }
static void spoil_mm_shared_anon(const struct victim_ctl *v) { rewrite(v, IMG_MM, (unsigned)v->pid, mm_shared_anon); }
static void spoil_mm_kernel_addr(const struct victim_ctl *v) { rewrite(v, IMG_MM, (unsigned)v->pid, mm_kernel_addr); }
static void spoil_pagemap_outside(const struct victim_ctl *v) { rewrite(v, IMG_PAGEMAP, (unsigned)v->pid, pagemap_outside); }
static void spoil_pagemap_cow(const struct victim_ctl *v)
{
	rewrite(v, IMG_PAGEMAP, (unsigned)v->pid, pagemap_cow);
	truncate_file(v, "pages-%d.img", cow_cut);
}
static void spoil_pagemap_flags(const struct victim_ctl *v) { rewrite(v, IMG_PAGEMAP, (unsigned)v->pid, pagemap_flags); }
static void spoil_fds_repeat(const struct victim_ctl *v) { rewrite(v, IMG_FDS, (unsigned)v->pid, fds_repeat); }
static void spoil_files_size(const struct victim_ctl *v) { rewrite(v, IMG_REG_FILES, 0, files_size); }
static void spoil_xsave_short(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_xsave_short); }
static void spoil_bad_signo(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_signo); }

static int test_mm_overlap(void) { return broken(spoil_mm_overlap, "ascending"); }
static int test_mm_shared_anon(void) { return broken(spoil_mm_shared_anon, "names no shared memory object"); }
static int test_mm_kernel_addr(void) { return broken(spoil_mm_kernel_addr, "user space"); }
static int test_pagemap_outside(void) { return broken(spoil_pagemap_outside, "not inside one private vma"); }
static void spoil_mm_never_writable(const struct victim_ctl *v) { rewrite(v, IMG_MM, (unsigned)v->pid, mm_never_writable); }
static int test_pagemap_unwritable(void) { return broken(spoil_mm_never_writable, "which could never be written"); }
static int test_pagemap_cow(void) { return broken(spoil_pagemap_cow, "not a live process of the tree"); }
static int test_pagemap_flags(void) { return broken(spoil_pagemap_flags, "neither PRESENT nor COW"); }
static int test_fds_repeat(void) { return broken(spoil_fds_repeat, "is repeated"); }
static void spoil_owner_outside(const struct victim_ctl *v) { rewrite(v, IMG_FDS, (unsigned)v->pid, fds_owner_outside); }
static void spoil_group_outside(const struct victim_ctl *v) { rewrite(v, IMG_FDS, (unsigned)v->pid, fds_group_outside); }
static int test_owner_outside(void) { return broken(spoil_owner_outside, "signal owner process 1 is not in the restored tree"); }
static int test_group_outside(void) { return broken(spoil_group_outside, "signal owner process group 1 is not in the restored tree"); }
static int test_files_size(void) { return broken(spoil_files_size, "size changed since the dump"); }
static int test_xsave_short(void) { return broken(spoil_xsave_short, "xsave area is 576 bytes"); }
static int test_bad_signo(void) { return broken(spoil_bad_signo, "bad or repeated sigaction signal 9"); }

static void mm_bad_code(unsigned int i, ProtobufCMessage *m)
{
	MmEntry *mm = (MmEntry *)m;

	(void)i;
	mm->start_code = mm->end_code + PAGE;	/* only the kernel checks these */
}

static void spoil_mm_bad_code(const struct victim_ctl *v) { rewrite(v, IMG_MM, (unsigned)v->pid, mm_bad_code); }

/* Fails inside the restorer, after criu's memory is gone: still reported and reaped. */
static int test_restorer_failure(void) { return broken(spoil_mm_bad_code, "prctl(PR_SET_MM_MAP) failed"); }

static void mm_bad_mlockall(unsigned int i, ProtobufCMessage *m)
{
	(void)i;
	((MmEntry *)m)->has_mlockall = true;
	((MmEntry *)m)->mlockall = MCL_CURRENT | MCL_FUTURE;	/* would lock every vma */
}

static void mm_sealed_private(unsigned int i, ProtobufCMessage *m)
{
	(void)i;
	((MmEntry *)m)->vmas[0]->has_sealed_shared = true;	/* a private vma */
	((MmEntry *)m)->vmas[0]->sealed_shared = true;
}

static void spoil_mm_sealed(const struct victim_ctl *v) { rewrite(v, IMG_MM, (unsigned)v->pid, mm_sealed_private); }
static int test_mm_sealed(void) { return broken(spoil_mm_sealed, "is sealed_shared but no read-only shared"); }
static void spoil_mm_mlockall(const struct victim_ctl *v) { rewrite(v, IMG_MM, (unsigned)v->pid, mm_bad_mlockall); }
static int test_mm_mlockall(void) { return broken(spoil_mm_mlockall, "are not MCL_FUTURE [| MCL_ONFAULT]"); }

static void pstree_extra_thread(unsigned int i, ProtobufCMessage *m)
{
	PstreeEntry *ps = (PstreeEntry *)m;
	uint32_t *two = malloc(2 * sizeof(*two));	/* protobuf-c frees with free() */

	(void)i;
	if (!two)
		return;
	two[0] = ps->threads[0];
	two[1] = ps->threads[0] + 1;
	free(ps->threads);
	ps->threads = two;
	ps->n_threads = 2;
}

static void core_bad_caps(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;

	if (i == 0 && c->creds)
		c->creds->cap_eff |= 1ULL << 62;	/* no kernel has 62 capabilities */
}

static void core_bad_timer(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;
	PosixTimerEntry *t, **ts;

	if (i != 0 || c->n_posix_timers)
		return;
	/* malloc'ed: img_free_entry frees them with free() */
	t = malloc(sizeof(*t));
	ts = malloc(sizeof(*ts));
	if (!t || !ts)
		return;
	posix_timer_entry__init(t);
	t->id = 3;
	t->notify = 4;		/* SIGEV_THREAD_ID ... */
	t->signo = SIGALRM;
	t->has_notify_tid = true;
	t->notify_tid = 1;	/* ... to a thread that is not one of ours */
	ts[0] = t;
	c->n_posix_timers = 1;
	c->posix_timers = ts;
}

/* Two timers with one id. */
static void core_timer_twice(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;
	PosixTimerEntry **ts;
	int k;

	if (i != 0 || c->n_posix_timers)
		return;
	ts = calloc(2, sizeof(*ts));	/* img_free_entry frees with free() */
	for (k = 0; ts && k < 2; k++) {
		ts[k] = malloc(sizeof(**ts));
		if (!ts[k])
			return;
		posix_timer_entry__init(ts[k]);
		ts[k]->id = 5;
		ts[k]->notify = 1;	/* SIGEV_NONE */
		c->n_posix_timers = (size_t)k + 1;
		c->posix_timers = ts;
	}
}

/* Task state the restore refuses: a membarrier command bit, time offsets, another audit session. */
static void core_bad_membarrier(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;

	if (i == 0) {
		c->has_membarrier = true;
		c->membarrier = 1u << 3;	/* a command, not a registration */
	}
}

static void core_bad_timens(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;
	TimensEntry *tn = malloc(sizeof(*tn));

	if (i != 0 || !tn) {
		free(tn);
		return;
	}
	timens_entry__init(tn);
	tn->boottime_nsec = 1000000000u;
	c->timens_for_children = tn;
}

static void core_foreign_audit(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;

	if (i == 0) {
		c->has_loginuid = c->has_audit_session = true;
		c->loginuid = 4242;
		c->audit_session = 4000000000u;	/* nobody's */
	}
}

/* 257 signals queued to the leader thread: one more than a queue may hold. */
static void core_many_pending(unsigned int i, ProtobufCMessage *m)
{
	ThreadCoreEntry *th = (ThreadCoreEntry *)m;
	ProtobufCBinaryData *d;
	size_t k;

	if (i != 1)
		return;
	d = calloc(257, sizeof(*d));	/* protobuf-c frees with free() */
	if (!d)
		return;
	for (k = 0; k < 257; k++) {
		int32_t signo = SIGRTMIN;

		d[k].data = calloc(1, 128);
		if (!d[k].data)
			return;
		memcpy(d[k].data, &signo, sizeof(signo));
		d[k].len = 128;
	}
	for (k = 0; k < th->n_pending; k++)
		free(th->pending[k].data);
	free(th->pending);
	th->pending = d;
	th->n_pending = 257;
}

/* Scheduling state the restore refuses (sched-state.h). */
static void core_bad_autogroup(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;

	if (i == 0) {
		c->has_autogroup_nice = true;
		c->autogroup_nice = 42;
	}
}

static void core_foreign_keyring(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;

	if (i == 0) {
		c->has_session_keyring = true;
		c->session_keyring = 0x7ffffff0u;	/* nobody's */
	}
}

static void core_bad_mempolicy(unsigned int i, ProtobufCMessage *m)
{
	ThreadCoreEntry *th = (ThreadCoreEntry *)m;

	if (i == 1) {
		th->has_mempolicy = true;
		th->mempolicy = 99;
	}
}

/* Only cpu 1000 (the last word of the mask): not online on this host. */
static void core_offline_cpus(unsigned int i, ProtobufCMessage *m)
{
	ThreadCoreEntry *th = (ThreadCoreEntry *)m;
	uint64_t *w = calloc(16, sizeof(*w));	/* protobuf-c frees with free() */

	if (i != 1 || !w) {
		free(w);
		return;
	}
	w[15] = 1ULL << (1000 % 64);
	free(th->cpus_allowed);
	th->cpus_allowed = w;
	th->n_cpus_allowed = 16;
}

/* cpu 0 (online) and cpu 1000 (not): the kernel would narrow the mask to cpu 0. */
static void core_some_cpus_offline(unsigned int i, ProtobufCMessage *m)
{
	ThreadCoreEntry *th = (ThreadCoreEntry *)m;

	core_offline_cpus(i, m);
	if (i == 1 && th->n_cpus_allowed == 16)
		th->cpus_allowed[0] = 1;
}

static void core_bad_pdeath(unsigned int i, ProtobufCMessage *m)
{
	TaskCoreEntry *c = (TaskCoreEntry *)m;

	if (i == 0) {
		c->has_pdeath_sig = true;
		c->pdeath_sig = 65;
	}
}

/* The query value ~0 and an unknown flag bit: no personality either. */
static void core_query_personality(unsigned int i, ProtobufCMessage *m)
{
	if (i == 0)
		((TaskCoreEntry *)m)->personality = ~0U;
}

static void core_bad_personality(unsigned int i, ProtobufCMessage *m)
{
	if (i == 0)
		((TaskCoreEntry *)m)->personality = 0x10000000;
}

static void spoil_some_cpus_offline(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_some_cpus_offline); }
static void spoil_bad_pdeath(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_pdeath); }
static void spoil_query_personality(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_query_personality); }
static void spoil_bad_personality(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_personality); }
static int test_some_cpus_offline(void) { return broken(spoil_some_cpus_offline, "cpus 1000 of its affinity are not online here"); }
static int test_bad_pdeath(void) { return broken(spoil_bad_pdeath, "parent death signal 65"); }
static int test_query_personality(void) { return broken(spoil_query_personality, "personality 0xffffffff"); }
static int test_bad_personality(void) { return broken(spoil_bad_personality, "personality 0x10000000"); }

static void spoil_bad_autogroup(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_autogroup); }
static void spoil_foreign_keyring(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_foreign_keyring); }
static void spoil_bad_mempolicy(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_mempolicy); }
static void spoil_offline_cpus(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_offline_cpus); }
static int test_bad_autogroup(void) { return broken(spoil_bad_autogroup, "autogroup nice 42 out of range"); }
static int test_foreign_keyring(void) { return broken(spoil_foreign_keyring, "only from a criu in it"); }
static int test_bad_mempolicy(void) { return broken(spoil_bad_mempolicy, "NUMA policy 0x63 is not a policy"); }
static int test_offline_cpus(void) { return broken(spoil_offline_cpus, "none of which is online here"); }

static void spoil_pstree_threads(const struct victim_ctl *v) { rewrite(v, IMG_PSTREE, 0, pstree_extra_thread); }
static void spoil_many_pending(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_many_pending); }
static void spoil_bad_caps(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_caps); }
static void spoil_bad_timer(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_timer); }
static void spoil_timer_twice(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_timer_twice); }
static void spoil_bad_membarrier(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_membarrier); }
static void spoil_bad_timens(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_bad_timens); }
static void spoil_foreign_audit(const struct victim_ctl *v) { rewrite(v, IMG_CORE, (unsigned)v->pid, core_foreign_audit); }

static int test_pstree_threads(void) { return broken(spoil_pstree_threads, "pstree.img lists 2"); }
static int test_many_pending(void) { return broken(spoil_many_pending, "257 signals pending in one queue"); }
static int test_bad_caps(void) { return broken(spoil_bad_caps, "capabilities this kernel does not know"); }
static int test_bad_timer(void) { return broken(spoil_bad_timer, "posix timer 3"); }
static int test_timer_twice(void) { return broken(spoil_timer_twice, "posix timer id 5 appears twice"); }
static int test_bad_membarrier(void) { return broken(spoil_bad_membarrier, "not registrations"); }
static int test_bad_timens(void) { return broken(spoil_bad_timens, "time namespace offsets out of range"); }
static int test_foreign_audit(void) { return broken(spoil_foreign_audit, "only from within that session"); }

/* pstree.img: the dumped entry, then entries made up from @extra (pid 0: the root's + n). */
static PstreeEntry extra[2];
static size_t nr_extra;

static void pstree_append(const struct victim_ctl *v)
{
	ProtobufCMessage *root = NULL;
	struct cr_img *img;
	int dfd = open(v->dir, O_RDONLY | O_DIRECTORY);
	size_t i;

	img = img_open(dfd, IMG_PSTREE, 0);
	if (img && img_read_entry(img, &root) != 1)
		root = NULL;
	if (img)
		img_close(img);
	img = root ? img_create(dfd, IMG_PSTREE, 0) : NULL;
	if (img && !img_write_entry(img, root)) {
		for (i = 0; i < nr_extra; i++)
			if (img_write_entry(img, &extra[i].base))
				break;
		img_commit(img);
	}
	if (root)
		img_free_entry(root);
	close(dfd);
}

/* An entry for pid @pid (root + @pid when small) under @ppid, leading its group and session. */
static void extra_entry(size_t k, const struct victim_ctl *v, uint32_t pid, uint32_t ppid,
			uint32_t sid, bool zombie)
{
	static uint32_t tids[2];

	pstree_entry__init(&extra[k]);
	extra[k].pid = pid < 100 ? (uint32_t)v->pid + 1000 + pid : pid;
	extra[k].ppid = ppid;
	extra[k].pgid = extra[k].pid;
	extra[k].sid = sid ? sid : extra[k].pid;
	tids[k] = extra[k].pid;
	extra[k].n_threads = zombie ? 0 : 1;
	extra[k].threads = &tids[k];
	nr_extra = k + 1;
}

static void spoil_pstree_dup(const struct victim_ctl *v)
{
	extra_entry(0, v, (uint32_t)v->pid, (uint32_t)v->pid, 0, false);
	pstree_append(v);
}

static void spoil_pstree_orphan(const struct victim_ctl *v)
{
	extra_entry(0, v, 1, 1, 0, false);	/* parent: pid 1, not in the tree */
	pstree_append(v);
}

static void spoil_pstree_zombie_parent(const struct victim_ctl *v)
{
	extra_entry(0, v, 1, (uint32_t)v->pid, 0, true);
	extra_entry(1, v, 2, extra[0].pid, 0, false);
	pstree_append(v);
}

static void spoil_pstree_session(const struct victim_ctl *v)
{
	extra_entry(0, v, 1, (uint32_t)v->pid, 0, false);
	/* a sibling in the first one's session, which it neither leads nor inherited */
	extra_entry(1, v, 2, (uint32_t)v->pid, extra[0].pid, false);
	pstree_append(v);
}

static void spoil_pstree_sharer(const struct victim_ctl *v)
{
	/* shares the root's descriptor table, yet has a child of its own */
	extra_entry(0, v, 1, (uint32_t)v->pid, 0, false);
	extra[0].has_files_of = true;
	extra[0].files_of = (uint32_t)v->pid;
	extra_entry(1, v, 2, extra[0].pid, 0, false);
	pstree_append(v);
}

static int test_pstree_dup(void) { return broken(spoil_pstree_dup, "appears twice"); }
static int test_pstree_sharer(void)
{
	return broken(spoil_pstree_sharer, "shares the descriptor table of");
}
static int test_pstree_orphan(void) { return broken(spoil_pstree_orphan, "is not an earlier live process"); }
static int test_pstree_zombie_parent(void)
{
	return broken(spoil_pstree_zombie_parent, "is not an earlier live process");
}
static int test_pstree_session(void) { return broken(spoil_pstree_session, "its parent"); }

static int slurp(const char *path, char **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return -1;
	*len = (size_t)st.st_size;
	*buf = malloc(*len + 1);
	if (!*buf || read(fd, *buf, *len) != (ssize_t)*len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int spit(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	int ret = fd >= 0 && write(fd, buf, len) == (ssize_t)len ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Random byte changes (and cuts) in the protobuf images: criu must never die of a
 * signal, a refused restore leaves no task, and a restore that went through
 * with nonsense is the task's problem (it is killed here).
 */
static int test_random_corruption(void)
{
	static const char *const names[] = { "core-%d.img", "mm-%d.img", "pagemap-%d.img",
					     "fds-%d.img", "reg-files.img", "pstree.img" };
	const char *extra[] = { "-d", NULL };
	struct victim_ctl v;
	unsigned int seed = 12345, it, refused = 0;

	CHECK(prepare(&v, false) == 0);
	for (it = 0; it < 96; it++) {
		char path[160], name[64], *orig, *bad;
		size_t len, k;
		pid_t criu;
		int rc;

		snprintf(name, sizeof(name), names[it % 6], v.pid);
		snprintf(path, sizeof(path), "%s/%s", v.dir, name);
		CHECK(slurp(path, &orig, &len) == 0 && len > 8);
		bad = malloc(len);
		CHECK(bad);
		memcpy(bad, orig, len);
		for (k = 0; k < 1 + it % 4; k++)
			bad[4 + rand_r(&seed) % (len - 4)] ^= (char)(1 + rand_r(&seed) % 255);
		/* every fifth round: cut the file short instead */
		CHECK(spit(path, bad, it % 5 == 4 ? 4 + rand_r(&seed) % (len - 4) : len) == 0);
		snprintf(path, sizeof(path), "%s/restore.pid", v.dir);
		unlink(path);
		criu = run_criu(v.dir, extra, NULL);
		rc = wait_status(criu);
		snprintf(path, sizeof(path), "%s/%s", v.dir, name);
		CHECK(spit(path, orig, len) == 0);
		free(orig);
		free(bad);
		if (rc >= 128) {
			snprintf(unit_why, sizeof(unit_why), "criu died of signal %d on a corrupt %s",
				 rc - 128, name);
			return -1;
		}
		if (rc == 0) {
			reap(v.pid);	/* restored anyway: ours as subreaper */
		} else {
			refused++;
			CHECK(!pid_alive(v.pid));
		}
		CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
	}
	CHECK(refused > 0);
	rm_dir(v.dir);
	return 0;
}

static int test_core_truncated(void)
{
	return broken(spoil_core_truncated, "core-");
}

static int test_core_garbage(void)
{
	return broken(spoil_core_garbage, "core-");
}

static int test_pages_truncated(void)
{
	return broken(spoil_pages_truncated, "truncated or corrupt");
}

static int test_no_inventory(void)
{
	return broken(spoil_no_inventory, "incomplete");
}

static int pid_in_use(const char *method)
{
	struct victim_ctl v;
	char want[64];
	pid_t criu;
	int rc;

	CHECK(prepare(&v, true) == 0);	/* the victim keeps its pid */
	criu = run_criu(v.dir, NULL, method);
	rc = wait_status(criu);
	snprintf(want, sizeof(want), "pid %d is in use", v.pid);
	reap(v.pid);
	CHECK(rc == 1);
	if (!log_has(v.dir, want)) {
		snprintf(unit_why, sizeof(unit_why), "no '%s' in %s/restore.log", want, v.dir);
		return -1;
	}
	rm_dir(v.dir);
	return 0;
}

static int test_pid_in_use(void)
{
	return pid_in_use("clone3");
}

static int test_pid_in_use_ns_last_pid(void)
{
	return pid_in_use("ns_last_pid");
}

/*
 * A victim on a terminal: refused without --shell-job; with it, the task
 * gets criu's terminal, session and process group.
 */
static int test_shell_job(void)
{
	const char *extra[] = { "--shell-job", NULL };
	struct victim_ctl v;
	char name[64], link[64], path[64];
	pid_t criu, pid;
	ssize_t n;
	int m, rc;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0 && ptsname_r(m, name, sizeof(name)) == 0);
	victim_tty = name;
	rc = prepare(&v, false);
	victim_tty = NULL;
	CHECK(rc == 0);

	criu = run_criu(v.dir, NULL, NULL);
	CHECK(wait_status(criu) == 1);
	CHECK(log_has(v.dir, "--shell-job"));
	CHECK(!pid_alive(v.pid));

	criu_stdin = name;
	criu = run_criu(v.dir, extra, NULL);
	criu_stdin = NULL;
	pid = read_pidfile(v.dir, 10000);
	if (pid != v.pid) {
		reap(criu);
		close(m);
		snprintf(unit_why, sizeof(unit_why), "no restored pid; see %s", v.dir);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/0", pid);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	rc = getsid(pid) == getsid(0) && getpgid(pid) == getpgid(criu) && !strcmp(link, name);
	kill(pid, SIGUSR1);
	n = wait_status(criu);
	close(m);
	m = (int)n;
	CHECK(rc);
	if (m != 42) {
		snprintf(unit_why, sizeof(unit_why), "criu exited %d; see %s", m, v.dir);
		return -1;
	}
	rm_dir(v.dir);
	return 0;
}

/* A task with its own uids, gids, groups and capability sets gets them all back. */
static int test_creds(void)
{
	int rc;

	victim_drop_creds = true;
	rc = roundtrip(NULL);
	victim_drop_creds = false;
	return rc;
}

/* Three threads, each with its own registers, name, rseq area and TLS. */
static int threads_roundtrip(const char *method)
{
	int rc;

	victim_nr_threads = 2;
	rc = roundtrip(method);
	victim_nr_threads = 0;
	return rc;
}

static int test_threads(void)
{
	return threads_roundtrip(NULL);
}

static int test_threads_ns_last_pid(void)
{
	return threads_roundtrip("ns_last_pid");
}

/* Two POSIX timers come back with their ids, clocks, notification and times. */
static int test_posix_timers(void)
{
	int rc;

	if (prctl(77 /* PR_TIMER_CREATE_RESTORE_IDS */, 2, 0, 0, 0) < 0)
		return 0;	/* this kernel cannot: restore refuses, nothing to check */
	victim_timers = true;
	rc = roundtrip(NULL);
	victim_timers = false;
	return rc;
}

static int setup(void)
{
	char self[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(criu_path, sizeof(criu_path), "%s/../../criu/criu", self);
	log_init(NULL, NULL, 1);
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

static int test_setup(void)
{
	CHECK(setup() == 0);
	CHECK(access(criu_path, X_OK) == 0);
	return 0;
}

static const struct unit_case cases[] = {
	{ "setup", test_setup },
	{ "restore round trip (clone3 set_tid)", test_roundtrip_clone3 },
	{ "restore round trip (ns_last_pid forced)", test_roundtrip_ns_last_pid },
	{ "restore -d: task reparented, exits 42", test_detached },
	{ "restore --leave-stopped", test_leave_stopped },
	{ "attached restore exits 128+signal when the task is killed", test_exit_signal },
	{ "truncated core image refused, no leftover", test_core_truncated },
	{ "garbage in core image refused, no leftover", test_core_garbage },
	{ "truncated pages image refused, no leftover", test_pages_truncated },
	{ "missing inventory refused", test_no_inventory },
	{ "overlapping vmas refused", test_mm_overlap },
	{ "mlockall flags other than MCL_FUTURE [| MCL_ONFAULT] refused", test_mm_mlockall },
	{ "sealed_shared on a vma that is no shared memory mapping refused", test_mm_sealed },
	{ "shared anonymous vma without its object refused", test_mm_shared_anon },
	{ "vma in kernel space refused", test_mm_kernel_addr },
	{ "pagemap run outside its vma refused", test_pagemap_outside },
	{ "pagemap run in a vma no write can reach refused", test_pagemap_unwritable },
	{ "pages shared with a parent the root does not have refused", test_pagemap_cow },
	{ "pagemap run with unknown flags refused", test_pagemap_flags },
	{ "repeated fd number refused", test_fds_repeat },
	{ "signal owner outside the tree refused", test_owner_outside },
	{ "signal owner group outside the tree refused", test_group_outside },
	{ "file changed since the dump refused", test_files_size },
	{ "xsave of another size refused", test_xsave_short },
	{ "sigaction for SIGKILL refused", test_bad_signo },
	{ "pstree thread list not matching the core image refused", test_pstree_threads },
	{ "pstree: a pid twice refused", test_pstree_dup },
	{ "pstree: a parent outside the tree refused", test_pstree_orphan },
	{ "pstree: a child of a zombie refused", test_pstree_zombie_parent },
	{ "pstree: a session neither its own nor its parent's refused", test_pstree_session },
	{ "pstree: a descriptor table shared in a shape the restore cannot make refused",
	  test_pstree_sharer },
	{ "257 signals pending to one thread refused (256 per queue)", test_many_pending },
	{ "unknown capabilities refused", test_bad_caps },
	{ "timer notifying a foreign thread refused", test_bad_timer },
	{ "two timers with one id refused", test_timer_twice },
	{ "membarrier bits that are no registrations refused", test_bad_membarrier },
	{ "time namespace offsets out of range refused", test_bad_timens },
	{ "a task of another audit session refused", test_foreign_audit },
	{ "autogroup nice out of range refused", test_bad_autogroup },
	{ "a session keyring other than criu's refused", test_foreign_keyring },
	{ "a NUMA policy that is none refused", test_bad_mempolicy },
	{ "an affinity with no cpu online here refused", test_offline_cpus },
	{ "an affinity with some cpus offline here refused", test_some_cpus_offline },
	{ "a parent death signal above 64 refused", test_bad_pdeath },
	{ "personality ~0 (the query) refused", test_query_personality },
	{ "personality with an unknown bit refused", test_bad_personality },
	{ "failure inside the restorer reported, task reaped", test_restorer_failure },
	{ "random corruption: refused or restored, never a crash", test_random_corruption },
	{ "credentials: uids, gids, groups, capability sets", test_creds },
	{ "three threads (clone3 set_tid)", test_threads },
	{ "posix timers: ids, clocks, notification, time left", test_posix_timers },
	{ "three threads (ns_last_pid forced)", test_threads_ns_last_pid },
	{ "--shell-job: refused without, criu's terminal and session with", test_shell_job },
	{ "pid in use names the pid (clone3)", test_pid_in_use },
	{ "pid in use names the pid (ns_last_pid)", test_pid_in_use_ns_last_pid },
};

UNIT_MAIN(cases)
