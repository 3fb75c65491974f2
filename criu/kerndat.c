/*
 * Kernel feature probing. See kerndat.h for the interface and
 * Documentation/check.md for what each probe does and why.
 *
 * Rules every probe follows:
 *  - it tries the real thing (syscall, ioctl, ptrace request) and records
 *    which step failed with which errno;
 *  - it logs what it tried at debug level;
 *  - whatever it creates (fds, mappings, children) is gone when it returns.
 */
#define LOG_PREFIX "kerndat: "

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/inet_diag.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/userfaultfd.h>

#include "kernel-compat.h"
#include "compiler.h"
#include "log.h"
#include "proc_parse.h"
#include "kerndat.h"
#include "kerndat-probe.h"

struct kerndat kdat;

/* ---- small helpers --------------------------------------------------- */

int kd_fail(struct kd_status *st, const char *step, int err)
{
	st->step = step;
	st->err = err;
	return -1;
}

/* clone3's argument, version 2 (5.7): everything we may need. */
struct kd_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* fork-like clone3: returns 0 in the child, which runs on a stack copy. */
static pid_t kd_clone3(uint64_t flags, pid_t *set_tid, unsigned int nr)
{
	struct kd_clone_args a = {
		.flags = flags,
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)set_tid,
		.set_tid_size = nr,
	};

	return syscall(__NR_clone3, &a, sizeof(a));
}

static int kd_waitpid(pid_t pid, int *status)
{
	pid_t ret;

	do
		ret = waitpid(pid, status, __WALL);
	while (ret < 0 && errno == EINTR);
	return ret == pid ? 0 : -1;
}

/* Kill @pid and wait until it is gone; keeps errno. */
static void kd_reap(pid_t pid)
{
	int saved = errno, status;

	kill(pid, SIGKILL);
	while (kd_waitpid(pid, &status) == 0)
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
	errno = saved;
}

/*
 * A child that blocks every signal and sleeps until killed. Returns once
 * the child has its mask set, so signals sent to it stay queued.
 */
static pid_t kd_sleeper(void)
{
	sigset_t all;
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1) {
		kd_reap(pid);
		errno = ECHILD;
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* Seize @pid with @opts and bring it to a PTRACE_EVENT_STOP. */
static int kd_seize_stop(pid_t pid, long opts, struct kd_status *st)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)opts))
		return kd_fail(st, "PTRACE_SEIZE", errno);
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		return kd_fail(st, "PTRACE_INTERRUPT", errno);
	if (kd_waitpid(pid, &status))
		return kd_fail(st, "waitpid after PTRACE_INTERRUPT", errno);
	if (!WIFSTOPPED(status) || (status >> 16) != PTRACE_EVENT_STOP)
		return kd_fail(st, "PTRACE_INTERRUPT gave no event stop", 0);
	return 0;
}

/*
 * Run @fn in a child made by clone3(@flags) (fork when 0). The child reports
 * through a shared page: the failing step (a string literal, valid in both
 * processes) and errno. Child code uses raw syscalls only, as glibc's
 * per-thread state is stale after a raw clone3.
 */
static const char kd_newns_step[] = "clone3 into a new namespace (needs CAP_SYS_ADMIN)";

int kd_run_child(uint64_t flags, int (*fn)(struct kd_child_res *),
		 struct kd_child_res *out, struct kd_status *st)
{
	struct kd_child_res *r;
	int status;
	pid_t pid;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return kd_fail(st, "mmap for the probe child", errno);
	pid = flags ? kd_clone3(flags, NULL, 0) : fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(r) ? 1 : 0);
	}
	if (pid < 0) {
		munmap(r, sizeof(*r));
		return kd_fail(st, flags ? kd_newns_step : "fork", errno);
	}
	if (kd_waitpid(pid, &status))
		status = -1;
	*out = *r;
	munmap(r, sizeof(*r));
	if (status == -1 || !WIFEXITED(status))
		return kd_fail(st, "probe child died", 0);
	if (WEXITSTATUS(status))
		return kd_fail(st, out->st.step ? out->st.step : "probe child", out->st.err);
	return 0;
}

/* ---- privileges -------------------------------------------------------- */

static int probe_caps(struct kd_status *st)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	char buf[32];

	if (syscall(SYS_capget, &hdr, d))
		return kd_fail(st, "capget", errno);
	kdat.cap_eff = d[0].effective | (uint64_t)d[1].effective << 32;
	if (read_small_file("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) < 0)
		return kd_fail(st, "read /proc/sys/kernel/cap_last_cap", errno);
	kdat.cap_last_cap = atoi(buf);
	kdat.is_root = geteuid() == 0;
	kdat.has_cap_checkpoint_restore = kdat.cap_last_cap >= CAP_CHECKPOINT_RESTORE &&
		(kdat.cap_eff & (1ULL << CAP_CHECKPOINT_RESTORE));
	kdat.has_cap_sys_admin = kdat.cap_eff & (1ULL << CAP_SYS_ADMIN);
	pr_debug("capget: effective %#llx, cap_last_cap %u, euid %u",
		 (unsigned long long)kdat.cap_eff, kdat.cap_last_cap, geteuid());
	if (!(kdat.cap_eff & (1ULL << CAP_SYS_RESOURCE)))
		pr_debug("CAP_SYS_RESOURCE is not effective: rlimits can't be raised, "
			 "PR_SET_MM (not _MAP) would fail");
	if (kdat.has_cap_checkpoint_restore)
		return 0;
	if (kdat.is_root && kdat.has_cap_sys_admin)
		return 0;
	return kd_fail(st, "neither CAP_CHECKPOINT_RESTORE nor root with CAP_SYS_ADMIN", EPERM);
}

/* ---- ptrace ------------------------------------------------------------ */

/* Seize a sleeper with @opts, stop it, run @fn on it (if any), reap it. */
int kd_with_stopped_child(long opts, int (*fn)(pid_t, struct kd_status *),
			  struct kd_status *st)
{
	pid_t pid = kd_sleeper();
	int ret;

	if (pid < 0)
		return kd_fail(st, "fork", errno);
	ret = kd_seize_stop(pid, opts, st);
	pr_debug("PTRACE_SEIZE(options %#lx) + PTRACE_INTERRUPT on child %d: %s",
		 opts, pid, ret ? "failed" : "event stop");
	if (!ret && fn)
		ret = fn(pid, st);
	kd_reap(pid);
	return ret;
}

static int probe_ptrace_seize(struct kd_status *st)
{
	return kd_with_stopped_child(0, NULL, st);
}

static int probe_seccomp_suspend(struct kd_status *st)
{
	return kd_with_stopped_child(PTRACE_O_SUSPEND_SECCOMP, NULL, st);
}

/* Queue SIGUSR1 (blocked) in the stopped child and read it back. */
static int peek_one_signal(pid_t pid, struct kd_status *st)
{
	struct __ptrace_peeksiginfo_args a = {
		.off = 0, .flags = PTRACE_PEEKSIGINFO_SHARED, .nr = 1,
	};
	siginfo_t si;
	long n;

	if (kill(pid, SIGUSR1))
		return kd_fail(st, "kill(SIGUSR1)", errno);
	n = ptrace(PTRACE_PEEKSIGINFO, pid, &a, &si);
	pr_debug("PTRACE_PEEKSIGINFO(shared, nr 1) on child %d: %ld, signo %d",
		 pid, n, n == 1 ? si.si_signo : 0);
	if (n < 0)
		return kd_fail(st, "PTRACE_PEEKSIGINFO", errno);
	if (n != 1 || si.si_signo != SIGUSR1)
		return kd_fail(st, "PTRACE_PEEKSIGINFO did not return the queued SIGUSR1", 0);
	return 0;
}

static int probe_peeksiginfo(struct kd_status *st)
{
	return kd_with_stopped_child(0, peek_one_signal, st);
}

/* glibc >= 2.35 exports it; 0 or absent means glibc registered no rseq. */
extern const unsigned int __rseq_size __attribute__((weak));

/* The child inherited our rseq registration: read it through ptrace. */
static int get_rseq_conf(pid_t pid, struct kd_status *st)
{
	struct __ptrace_rseq_configuration c = {};
	long n;

	n = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, (void *)sizeof(c), &c);
	pr_debug("PTRACE_GET_RSEQ_CONFIGURATION on child %d: %ld (rseq at %#llx, size %u, sig %#x)",
		 pid, n, (unsigned long long)c.rseq_abi_pointer, c.rseq_abi_size, c.signature);
	if (n < 0)
		return kd_fail(st, "PTRACE_GET_RSEQ_CONFIGURATION", errno);
	if (n < (long)sizeof(c))
		return kd_fail(st, "PTRACE_GET_RSEQ_CONFIGURATION returned a short answer", 0);
	kdat.rseq_in_use = c.rseq_abi_pointer != 0;
	kdat.rseq_size = c.rseq_abi_size;
	kdat.rseq_sig = c.signature;
	return 0;
}

static int probe_rseq_conf(struct kd_status *st)
{
	kdat.rseq_in_use = &__rseq_size && __rseq_size > 0;	/* if ptrace can't tell */
	return kd_with_stopped_child(0, get_rseq_conf, st);
}

/* ---- process tree ------------------------------------------------------ */

/* Our own text mapping's map_files link must name the file maps names. */
static int check_map_file(const struct proc_vma *v, struct kd_status *st)
{
	char link[64], target[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(link, sizeof(link), "/proc/self/map_files/%llx-%llx",
		 (unsigned long long)v->start, (unsigned long long)v->end);
	n = readlink(link, target, sizeof(target) - 1);
	pr_debug("readlink %s: %zd (maps says %s)", link, n, v->path);
	if (n < 0)
		return kd_fail(st, "readlink /proc/self/map_files/<our text>", errno);
	target[n] = '\0';
	/* maps drops a " (deleted)" suffix the link keeps */
	if (strncmp(target, v->path, strlen(v->path)))
		return kd_fail(st, "map_files link differs from the maps path", 0);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kd_fail(st, "open /proc/self/map_files/<our text>", errno);
	close(fd);
	return 0;
}

static int probe_map_files(struct kd_status *st)
{
	uintptr_t text = (uintptr_t)&probe_map_files;
	struct proc_vmas vmas;
	int ret = -1;
	size_t i;

	if (proc_read_maps(getpid(), &vmas))
		return kd_fail(st, "read /proc/self/maps", errno);
	for (i = 0; i < vmas.nr; i++)
		if (text >= vmas.v[i].start && text < vmas.v[i].end)
			ret = check_map_file(&vmas.v[i], st);
	proc_vmas_free(&vmas);
	return ret < 0 && !st->step ? kd_fail(st, "no mapping holds our text", 0) : ret;
}

static long kd_kcmp(int type, unsigned long a, unsigned long b)
{
	return syscall(SYS_kcmp, getpid(), getpid(), type, a, b);
}

static int probe_kcmp(struct kd_status *st)
{
	int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int b = a >= 0 ? fcntl(a, F_DUPFD_CLOEXEC, 0) : -1;
	int c = open("/dev/null", O_RDONLY | O_CLOEXEC);
	long same = -1, differ = -1, vm = -1;
	int err;

	if (a >= 0 && b >= 0 && c >= 0) {
		same = kd_kcmp(KCMP_FILE, a, b);
		differ = kd_kcmp(KCMP_FILE, a, c);
		vm = kd_kcmp(KCMP_VM, 0, 0);
	}
	err = errno;
	pr_debug("kcmp on self: FILE(dup) %ld, FILE(other open) %ld, VM %ld", same, differ, vm);
	close(a);
	close(b);
	close(c);
	if (same < 0 || differ < 0 || vm < 0)
		return kd_fail(st, "kcmp(KCMP_FILE/KCMP_VM) on self", err);
	if (same != 0 || differ == 0 || vm != 0)
		return kd_fail(st, "kcmp gave wrong answers", 0);
	return 0;
}

/* clone3 a child that exits at once, at pid @want; the pid it got. */
static pid_t spawn_at(pid_t want)
{
	pid_t got = kd_clone3(0, &want, 1);
	int status;

	if (got == 0)
		_exit(0);
	if (got > 0)
		waitpid(got, &status, __WALL);
	return got;
}

/* Runs as pid 1 of a fresh pid namespace: any other pid there is free. */
#define KD_NS_PROBE_PID	4242

static int child_set_tid(struct kd_child_res *r)
{
	r->val = spawn_at(KD_NS_PROBE_PID);
	if (r->val < 0)
		return kd_fail(&r->st, "clone3 with set_tid", errno);
	if (r->val != KD_NS_PROBE_PID)
		return kd_fail(&r->st, "clone3 ignored set_tid", 0);
	return 0;
}

/* Without CAP_SYS_ADMIN: try pids that look free in our namespace. */
static int set_tid_here(struct kd_status *st)
{
	pid_t want, got = -1;
	char buf[32];
	int i;

	if (read_small_file("/proc/sys/kernel/ns_last_pid", buf, sizeof(buf)) < 0)
		return kd_fail(st, "read ns_last_pid", errno);
	for (i = 0, want = atoi(buf) + 101; i < 8; i++, want += 101) {
		if (kill(want, 0) < 0 && errno == ESRCH &&
		    ((got = spawn_at(want)) >= 0 || errno != EEXIST))
			break;
	}
	pr_debug("clone3 set_tid %d in our pid namespace: %d", want, got);
	if (got < 0)
		return kd_fail(st, "clone3 with set_tid", errno);
	return got == want ? 0 : kd_fail(st, "clone3 ignored set_tid", 0);
}

static int probe_clone3_set_tid(struct kd_status *st)
{
	struct kd_child_res r = {};
	int ret;

	ret = kd_run_child(CLONE_NEWPID, child_set_tid, &r, st);
	pr_debug("clone3 set_tid %d inside a new pid namespace: %s (got %ld)",
		 KD_NS_PROBE_PID, ret ? "failed" : "ok", r.val);
	if (ret && st->err == EPERM && st->step == kd_newns_step)
		ret = set_tid_here(st);
	return ret;
}

/* pid 1 of a new pid namespace: set ns_last_pid, the next child gets +1. */
static int child_ns_last_pid(struct kd_child_res *r)
{
	static const char val[] = "4241";
	int fd, status;
	pid_t pid;

	fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return kd_fail(&r->st, "open ns_last_pid for writing", errno);
	if (write(fd, val, sizeof(val) - 1) != sizeof(val) - 1)
		return kd_fail(&r->st, "write ns_last_pid", errno);
	close(fd);
	pid = kd_clone3(0, NULL, 0);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return kd_fail(&r->st, "clone3 after writing ns_last_pid", errno);
	waitpid(pid, &status, 0);
	r->val = pid;
	if (pid != 4242)
		return kd_fail(&r->st, "the next pid ignored ns_last_pid", 0);
	return 0;
}

static int probe_ns_last_pid(struct kd_status *st)
{
	struct kd_child_res r = {};
	int ret;

	ret = kd_run_child(CLONE_NEWPID, child_ns_last_pid, &r, st);
	pr_debug("ns_last_pid=4241 in a new pid namespace, next pid %ld: %s",
		 r.val, ret ? "failed" : "ok");
	return ret;
}

static int probe_memfd(struct kd_status *st)
{
	int fd, seals, ret = 0;

	fd = memfd_create("criu-kerndat", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return kd_fail(st, "memfd_create", errno);
	if (ftruncate(fd, kdat.page_size))
		ret = kd_fail(st, "ftruncate memfd", errno);
	else if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		ret = kd_fail(st, "F_ADD_SEALS on memfd", errno);
	else if ((seals = fcntl(fd, F_GET_SEALS)) < 0)
		ret = kd_fail(st, "F_GET_SEALS on memfd", errno);
	else if (!(seals & F_SEAL_SHRINK) || ftruncate(fd, 0) == 0)
		ret = kd_fail(st, "memfd seals are not enforced", 0);
	pr_debug("memfd_create + seals: %s", ret ? "failed" : "ok");
	close(fd);
	return ret;
}

static int probe_pidfd_open(struct kd_status *st)
{
	char path[64], buf[512], want[32], *p;
	int fd;

	fd = syscall(__NR_pidfd_open, getpid(), 0);
	if (fd < 0)
		return kd_fail(st, "pidfd_open(self)", errno);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(want, sizeof(want), "Pid:\t%d\n", getpid());
	p = read_small_file(path, buf, sizeof(buf)) < 0 ? NULL : strstr(buf, want);
	close(fd);
	pr_debug("pidfd_open(self) -> fdinfo %s", p ? "names us" : "wrong");
	if (!p)
		return kd_fail(st, "pidfd fdinfo does not name our pid", 0);
	return 0;
}

static int probe_pidfd_getfd(struct kd_status *st)
{
	struct stat a, b;
	int pidfd, p[2], fd, ret = 0;

	pidfd = syscall(__NR_pidfd_open, getpid(), 0);
	if (pidfd < 0)
		return kd_fail(st, "pidfd_open(self)", errno);
	if (pipe2(p, O_CLOEXEC)) {
		close(pidfd);
		return kd_fail(st, "pipe", errno);
	}
	fd = syscall(__NR_pidfd_getfd, pidfd, p[0], 0);
	if (fd < 0)
		ret = kd_fail(st, "pidfd_getfd", errno);
	else if (fstat(fd, &a) || fstat(p[0], &b) || a.st_ino != b.st_ino)
		ret = kd_fail(st, "pidfd_getfd returned another file", 0);
	pr_debug("pidfd_getfd(self, pipe fd %d) -> %d", p[0], fd);
	if (fd >= 0)
		close(fd);
	close(p[0]);
	close(p[1]);
	close(pidfd);
	return ret;
}

/* ---- PR_SET_MM_MAP ------------------------------------------------------ */

/* In a forked child: set our own mm fields to the values they have. */
static int child_mm_map(struct kd_child_res *r)
{
	struct prctl_mm_map m = { .exe_fd = (__u32)-1 };
	struct proc_stat ps;
	unsigned int size = 0;

	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0))
		return kd_fail(&r->st, "PR_SET_MM_MAP_SIZE", errno);
	r->val = size;
	if (size != sizeof(m))
		return kd_fail(&r->st, "PR_SET_MM_MAP_SIZE gave an unknown size", 0);
	if (proc_read_stat(getpid(), &ps))
		return kd_fail(&r->st, "parse /proc/self/stat", errno);
	m.start_code = ps.start_code;
	m.end_code = ps.end_code;
	m.start_stack = ps.start_stack;
	m.start_data = ps.start_data;
	m.end_data = ps.end_data;
	m.start_brk = ps.start_brk;
	m.arg_start = ps.arg_start;
	m.arg_end = ps.arg_end;
	m.env_start = ps.env_start;
	m.env_end = ps.env_end;
	m.brk = syscall(SYS_brk, 0);
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&m, sizeof(m), 0))
		return kd_fail(&r->st, "PR_SET_MM_MAP", errno);
	return 0;
}

static int probe_prctl_mm_map(struct kd_status *st)
{
	struct kd_child_res r = {};
	int ret = kd_run_child(0, child_mm_map, &r, st);

	kdat.prctl_mm_map_size = r.val;
	pr_debug("PR_SET_MM_MAP (size %ld) with unchanged values in a child: %s",
		 r.val, ret ? "failed" : "ok");
	return ret;
}

/* ---- vdso and friends ---------------------------------------------------- */

static const char *const vma_names[KD_VMA_NR] = {
	[KD_VMA_VDSO]		= "[vdso]",
	[KD_VMA_VVAR]		= "[vvar]",
	[KD_VMA_VVAR_VCLOCK]	= "[vvar_vclock]",
	[KD_VMA_VSYSCALL]	= "[vsyscall]",
};

const char *kerndat_vma_name(enum kd_vma_kind k)
{
	return k < KD_VMA_NR ? vma_names[k] : "?";
}

/* Record a kernel-provided mapping; -1 for one we can't restore. */
static int note_special_vma(const struct proc_vma *v)
{
	static const struct { enum proc_vma_kind pk; enum kd_vma_kind k; } known[] = {
		{ PROC_VMA_VDSO, KD_VMA_VDSO },
		{ PROC_VMA_VVAR, KD_VMA_VVAR },
		{ PROC_VMA_VVAR_VCLOCK, KD_VMA_VVAR_VCLOCK },
		{ PROC_VMA_VSYSCALL, KD_VMA_VSYSCALL },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		if (v->kind != known[i].pk)
			continue;
		kdat.vma[known[i].k] = (struct kd_vma){ true, v->start, v->end - v->start };
		pr_debug("special vma %-14s %#llx, %llu bytes", vma_names[known[i].k],
			 (unsigned long long)v->start, (unsigned long long)(v->end - v->start));
		return 0;
	}
	if (v->kind == PROC_VMA_OTHER && v->path[0] == '[') {
		pr_debug("unknown special vma %s", v->path);
		return -1;
	}
	return 0;
}

static int probe_vdso(struct kd_status *st)
{
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
	struct proc_vmas vmas;
	int unknown = 0;
	size_t i;

	if (proc_read_maps(getpid(), &vmas))
		return kd_fail(st, "read /proc/self/maps", errno);
	for (i = 0; i < vmas.nr; i++)
		unknown += note_special_vma(&vmas.v[i]) ? 1 : 0;
	proc_vmas_free(&vmas);
	pr_debug("AT_SYSINFO_EHDR %#lx", ehdr);
	if (!kdat.vma[KD_VMA_VDSO].present)
		return kd_fail(st, "no [vdso] in /proc/self/maps", 0);
	if (ehdr != kdat.vma[KD_VMA_VDSO].start)
		return kd_fail(st, "AT_SYSINFO_EHDR is not the [vdso] start", 0);
	if (memcmp((void *)ehdr, "\177ELF", 4))
		return kd_fail(st, "[vdso] does not start with an ELF header", 0);
	if (unknown)
		return kd_fail(st, "unknown special mapping in /proc/self/maps", 0);
	return 0;
}

/* ---- memory tracking ----------------------------------------------------- */

static int open_uffd(void)
{
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == EPERM)	/* vm.unprivileged_userfaultfd = 0 */
		fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	return fd;
}

static int probe_uffd(struct kd_status *st)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = open_uffd();

	if (fd < 0)
		return kd_fail(st, "userfaultfd()", errno);
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return kd_fail(st, "UFFDIO_API", errno);
	}
	close(fd);
	kdat.uffd_features = api.features;
	pr_debug("userfaultfd + UFFDIO_API: features %#llx", (unsigned long long)api.features);
	return 0;
}

/* Is the one page at @addr reported as written since write-protected? */
static int page_written(int pm, void *addr, bool *written)
{
	struct page_region r = {};
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.start = (uintptr_t)addr,
		.end = (uintptr_t)addr + kdat.page_size,
		.vec = (uintptr_t)&r,
		.vec_len = 1,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	int n = ioctl(pm, PAGEMAP_SCAN, &a);

	*written = n == 1;
	return n < 0 ? -1 : 0;
}

/* Write-protect a page, write it, see the write tracked. */
static int uffd_wp_async_cycle(int fd, char *page, struct kd_status *st)
{
	struct uffdio_register reg = {
		.range = { (uintptr_t)page, kdat.page_size },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = { .range = reg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	bool before = true, after = false;
	int pm;

	page[0] = 1;
	if (ioctl(fd, UFFDIO_REGISTER, &reg))
		return kd_fail(st, "UFFDIO_REGISTER (WP)", errno);
	if (ioctl(fd, UFFDIO_WRITEPROTECT, &wp))
		return kd_fail(st, "UFFDIO_WRITEPROTECT", errno);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return kd_fail(st, "open /proc/self/pagemap", errno);
	if (page_written(pm, page, &before) == 0) {
		page[0] = 2;	/* resolved by the kernel: WP_ASYNC is on */
		page_written(pm, page, &after);
	}
	close(pm);
	pr_debug("uffd WP_ASYNC: written before %d, after a write %d", before, after);
	if (before || !after)
		return kd_fail(st, "PAGEMAP_SCAN did not see the tracked write", 0);
	return 0;
}

static int probe_uffd_wp_async(struct kd_status *st)
{
	struct uffdio_api api = { .api = UFFD_API };
	char *page;
	int fd, ret;

	if (kerndat_probe(KD_UFFD))
		return kd_fail(st, "userfaultfd is unavailable", 0);
	if (!(kdat.uffd_features & UFFD_FEATURE_WP_ASYNC))
		return kd_fail(st, "UFFDIO_API does not offer UFFD_FEATURE_WP_ASYNC", 0);
	if (kerndat_probe(KD_PAGEMAP_SCAN))
		return kd_fail(st, "PAGEMAP_SCAN is unavailable", 0);
	fd = open_uffd();
	if (fd < 0)
		return kd_fail(st, "userfaultfd()", errno);
	api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_PAGEFAULT_FLAG_WP;
	ret = ioctl(fd, UFFDIO_API, &api) ? kd_fail(st, "UFFDIO_API(WP_ASYNC)", errno) : 0;
	page = mmap(NULL, kdat.page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ret && page == MAP_FAILED)
		ret = kd_fail(st, "mmap", errno);
	if (!ret)
		ret = uffd_wp_async_cycle(fd, page, st);
	close(fd);
	if (page != MAP_FAILED)
		munmap(page, kdat.page_size);
	return ret;
}

/* Touch pages 0 and 1 of 4; PAGEMAP_SCAN must report exactly them present. */
static int probe_pagemap_scan(struct kd_status *st)
{
	unsigned long ps = kdat.page_size;
	struct page_region r[4] = {};
	struct pm_scan_arg a = { .size = sizeof(a), .vec = (uintptr_t)r, .vec_len = 4,
				 .category_mask = PAGE_IS_PRESENT, .return_mask = PAGE_IS_PRESENT };
	char *m;
	int pm, n;

	m = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return kd_fail(st, "mmap", errno);
	madvise(m, 4 * ps, MADV_NOHUGEPAGE);
	m[0] = m[ps] = 1;
	a.start = (uintptr_t)m;
	a.end = (uintptr_t)m + 4 * ps;
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	n = pm < 0 ? -1 : ioctl(pm, PAGEMAP_SCAN, &a);
	if (n < 0)
		kd_fail(st, pm < 0 ? "open /proc/self/pagemap" : "PAGEMAP_SCAN", errno);
	if (pm >= 0)
		close(pm);
	munmap(m, 4 * ps);
	pr_debug("PAGEMAP_SCAN over 4 pages, 2 touched: %d region(s), first %#llx-%#llx",
		 n, (unsigned long long)r[0].start, (unsigned long long)r[0].end);
	if (n < 0)
		return -1;
	if (n != 1 || r[0].start != (uintptr_t)m || r[0].end != (uintptr_t)m + 2 * ps)
		return kd_fail(st, "PAGEMAP_SCAN reported the wrong pages", 0);
	return 0;
}

#define PM_SOFT_DIRTY	(1ULL << 55)

static int pagemap_entry(int pm, void *addr, uint64_t *e)
{
	off_t off = (uintptr_t)addr / kdat.page_size * sizeof(*e);

	return pread(pm, e, sizeof(*e), off) == sizeof(*e) ? 0 : -1;
}

/* In a forked child, as clear_refs affects the whole process. */
static int child_soft_dirty(struct kd_child_res *r)
{
	volatile char *page = mmap(NULL, kdat.page_size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t before = 0, after = 0;
	int pm, cr;

	if (page == MAP_FAILED)		/* the child's exit unmaps it */
		return kd_fail(&r->st, "mmap", errno);
	page[0] = 1;
	cr = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (cr < 0 || write(cr, "4", 1) != 1)
		return kd_fail(&r->st, "write 4 to /proc/self/clear_refs", errno);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0 || pagemap_entry(pm, (void *)page, &before))
		return kd_fail(&r->st, "read /proc/self/pagemap", errno);
	page[0] = 2;
	if (pagemap_entry(pm, (void *)page, &after))
		return kd_fail(&r->st, "read /proc/self/pagemap", errno);
	r->val = (before & PM_SOFT_DIRTY ? 1 : 0) | (after & PM_SOFT_DIRTY ? 2 : 0);
	if (!(after & PM_SOFT_DIRTY))
		return kd_fail(&r->st, "no soft-dirty bit after a write (CONFIG_MEM_SOFT_DIRTY off?)", 0);
	if (before & PM_SOFT_DIRTY)
		return kd_fail(&r->st, "clear_refs did not clear the soft-dirty bit", 0);
	return 0;
}

static int probe_soft_dirty(struct kd_status *st)
{
	struct kd_child_res r = {};
	int ret = kd_run_child(0, child_soft_dirty, &r, st);

	pr_debug("clear_refs 4, write, pagemap bit 55 (bits before|after<<1 = %ld): %s",
		 r.val, ret ? "not tracked" : "tracked");
	return ret;
}

/* ---- network ------------------------------------------------------------ */

static int probe_tcp_repair(struct kd_status *st)
{
	int one = 1, q = TCP_SEND_QUEUE, ret = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return kd_fail(st, "socket(AF_INET, SOCK_STREAM)", errno);
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)))
		ret = kd_fail(st, "setsockopt(TCP_REPAIR)", errno);
	else if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)))
		ret = kd_fail(st, "setsockopt(TCP_REPAIR_QUEUE) in repair mode", errno);
	pr_debug("TCP_REPAIR + TCP_REPAIR_QUEUE on a fresh socket: %s", ret ? "refused" : "ok");
	close(fd);
	return ret;
}

/*
 * Send one SOCK_DIAG_BY_FAMILY dump request and read the answer up to
 * NLMSG_DONE. An unsupported family answers with an error (ENOENT).
 */
int kd_sock_diag_dump(const void *req, size_t len, const char *what,
		      struct kd_status *st)
{
	struct { struct nlmsghdr h; char body[64]; } msg = {};
	struct timeval tv = { .tv_sec = 5 };
	static char buf[32768] __aligned(8);
	struct nlmsghdr *h;
	int fd, err = 0, nr = 0, done = 0;
	ssize_t n;

	msg.h.nlmsg_len = NLMSG_LENGTH(len);
	msg.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.h.nlmsg_seq = 1;
	memcpy(NLMSG_DATA(&msg.h), req, len);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return kd_fail(st, "socket(NETLINK_SOCK_DIAG)", errno);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, &msg, msg.h.nlmsg_len, 0) < 0)
		err = errno;
	errno = 0;
	while (!err && !done && (n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					err = -*(int *)NLMSG_DATA(h);
				done = 1;
				break;
			}
			nr++;
		}
	}
	if (!err && !done)
		err = errno ? errno : EPIPE;
	close(fd);
	pr_debug("sock_diag %s dump: %d socket(s), %s", what, nr, err ? strerror(err) : "done");
	return err ? kd_fail(st, "SOCK_DIAG_BY_FAMILY dump request", err) : 0;
}

static int probe_sock_diag_unix(struct kd_status *st)
{
	struct unix_diag_req r = { .sdiag_family = AF_UNIX, .udiag_states = -1,
				   .udiag_show = UDIAG_SHOW_NAME };

	return kd_sock_diag_dump(&r, sizeof(r), "unix", st);
}

static int probe_sock_diag_inet(struct kd_status *st)
{
	struct inet_diag_req_v2 r = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP,
				      .idiag_states = -1 };

	return kd_sock_diag_dump(&r, sizeof(r), "inet (tcp)", st);
}

static int probe_sock_diag_netlink(struct kd_status *st)
{
	struct netlink_diag_req r = { .sdiag_family = AF_NETLINK,
				      .sdiag_protocol = NDIAG_PROTO_ALL };

	return kd_sock_diag_dump(&r, sizeof(r), "netlink", st);
}

static int probe_sock_diag_packet(struct kd_status *st)
{
	struct packet_diag_req r = { .sdiag_family = AF_PACKET };

	return kd_sock_diag_dump(&r, sizeof(r), "packet", st);
}

/* ---- namespaces and cgroups ---------------------------------------------- */

/* In a forked child: a new time namespace for our children, with offsets. */
static int child_timens(struct kd_child_res *r)
{
	static const char off[] = "monotonic 1 0\n";
	int fd;

	if (unshare(CLONE_NEWTIME))
		return kd_fail(&r->st, "unshare(CLONE_NEWTIME)", errno);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return kd_fail(&r->st, "open /proc/self/timens_offsets", errno);
	if (write(fd, off, sizeof(off) - 1) != sizeof(off) - 1)
		return kd_fail(&r->st, "write /proc/self/timens_offsets", errno);
	close(fd);
	return 0;
}

static int probe_timens(struct kd_status *st)
{
	struct kd_child_res r = {};
	int ret = kd_run_child(0, child_timens, &r, st);

	pr_debug("unshare(CLONE_NEWTIME) + timens_offsets in a child: %s", ret ? "failed" : "ok");
	return ret;
}

static void cg_add_v1(const char *name)
{
	unsigned int i;

	for (i = 0; i < kdat.cg_v1_nr; i++)
		if (!strcmp(kdat.cg_v1[i], name))
			return;
	if (kdat.cg_v1_nr < KD_CG_MAX && strlen(name) < KD_CG_NAME_MAX)
		strcpy(kdat.cg_v1[kdat.cg_v1_nr++], name);
}

/* Controllers (and name=X hierarchies) among a v1 mount's super options. */
static void cg_parse_v1_opts(char *opts, const char *known)
{
	char *tok, *save, pat[KD_CG_NAME_MAX + 2];

	for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		snprintf(pat, sizeof(pat), "\n%s\t", tok);
		if (!strncmp(tok, "name=", 5) || strstr(known, pat))
			cg_add_v1(tok);
	}
}

static void cg_found_v2(const char *mnt)
{
	char path[PATH_MAX + 32];
	char *nl;

	if (kdat.cg_v2_mount[0])
		return;
	snprintf(kdat.cg_v2_mount, sizeof(kdat.cg_v2_mount), "%s", mnt);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
	if (read_small_file(path, kdat.cg_v2_controllers, sizeof(kdat.cg_v2_controllers)) < 0)
		kdat.cg_v2_controllers[0] = '\0';
	nl = strchr(kdat.cg_v2_controllers, '\n');
	if (nl)
		*nl = '\0';
}

static int probe_cgroup(struct kd_status *st)
{
	char known[4096] = "\n", line[1024], mnt[512], type[32], opts[512];
	unsigned int i;
	char *sep;
	FILE *f;

	if (read_small_file("/proc/cgroups", known + 1, sizeof(known) - 1) < 0)
		known[1] = '\0';
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return kd_fail(st, "open /proc/self/mountinfo", errno);
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(sep + 3, "%31s %*s %511s", type, opts) != 2)
			continue;
		if (!strcmp(type, "cgroup"))
			cg_parse_v1_opts(opts, known);
		else if (!strcmp(type, "cgroup2"))
			cg_found_v2(mnt);
	}
	fclose(f);
	for (i = 0; i < kdat.cg_v1_nr; i++)
		pr_debug("cgroup v1 controller %s", kdat.cg_v1[i]);
	pr_debug("cgroup v2 mount '%s', controllers '%s'", kdat.cg_v2_mount, kdat.cg_v2_controllers);
	if (!kdat.cg_v2_mount[0])
		return kd_fail(st, "no cgroup2 mount in /proc/self/mountinfo", 0);
	return 0;
}

/* ---- the probe table ------------------------------------------------------ */

/* @flag, when set, mirrors the outcome into the kdat field dump/restore read. */
static const struct {
	const char *name;
	int (*fn)(struct kd_status *st);
	bool *flag;
} probes[KD_NR_PROBES] = {
	[KD_CAPS] = { "caps", probe_caps, NULL },
	[KD_PTRACE_SEIZE] = { "ptrace_seize", probe_ptrace_seize, &kdat.has_ptrace_seize },
	[KD_PEEKSIGINFO] = { "peeksiginfo", probe_peeksiginfo, &kdat.has_peeksiginfo },
	[KD_RSEQ_CONF] = { "rseq_conf", probe_rseq_conf, &kdat.has_rseq_config },
	[KD_SECCOMP_SUSPEND] = { "seccomp_suspend", probe_seccomp_suspend, &kdat.has_seccomp_suspend },
	[KD_MAP_FILES] = { "map_files", probe_map_files, &kdat.has_map_files },
	[KD_KCMP] = { "kcmp", probe_kcmp, &kdat.has_kcmp },
	[KD_CLONE3_SET_TID] = { "clone3_set_tid", probe_clone3_set_tid, &kdat.has_clone3_set_tid },
	[KD_NS_LAST_PID] = { "ns_last_pid", probe_ns_last_pid, &kdat.has_ns_last_pid },
	[KD_MEMFD] = { "memfd", probe_memfd, &kdat.has_memfd },
	[KD_PIDFD_OPEN] = { "pidfd_open", probe_pidfd_open, &kdat.has_pidfd_open },
	[KD_PIDFD_GETFD] = { "pidfd_getfd", probe_pidfd_getfd, &kdat.has_pidfd_getfd },
	[KD_PRCTL_MM_MAP] = { "prctl_mm_map", probe_prctl_mm_map, &kdat.has_prctl_mm_map },
	[KD_VDSO] = { "vdso", probe_vdso, &kdat.vdso_layout_known },
	[KD_FPU] = { "fpu", probe_arch_fpu, &kdat.has_fpu },
	[KD_UFFD] = { "uffd", probe_uffd, &kdat.has_uffd },
	[KD_UFFD_WP_ASYNC] = { "uffd_wp_async", probe_uffd_wp_async, &kdat.has_uffd_wp_async },
	[KD_PAGEMAP_SCAN] = { "pagemap_scan", probe_pagemap_scan, &kdat.has_pagemap_scan },
	[KD_SOFT_DIRTY] = { "soft_dirty", probe_soft_dirty, &kdat.has_soft_dirty },
	[KD_TCP_REPAIR] = { "tcp_repair", probe_tcp_repair, &kdat.has_tcp_repair },
	[KD_SOCK_DIAG_UNIX] = { "sock_diag_unix", probe_sock_diag_unix, &kdat.has_sock_diag_unix },
	[KD_SOCK_DIAG_INET] = { "sock_diag_inet", probe_sock_diag_inet, &kdat.has_sock_diag_inet },
	[KD_SOCK_DIAG_NETLINK] = { "sock_diag_netlink", probe_sock_diag_netlink, &kdat.has_sock_diag_netlink },
	[KD_SOCK_DIAG_PACKET] = { "sock_diag_packet", probe_sock_diag_packet, &kdat.has_sock_diag_packet },
	[KD_TIMENS] = { "timens", probe_timens, &kdat.has_timens },
	[KD_CGROUP] = { "cgroup", probe_cgroup, NULL },
	[KD_MNT_ID] = { "mnt_id", probe_mnt_id, NULL },
	[KD_FDINFO_LOCK] = { "fdinfo_lock", probe_fdinfo_lock, NULL },
	[KD_TIMERFD] = { "timerfd", probe_timerfd, NULL },
	[KD_KCMP_EPOLL] = { "kcmp_epoll", probe_kcmp_epoll, NULL },
	[KD_AIO] = { "aio", probe_aio, NULL },
	[KD_TUN] = { "tun", probe_tun, NULL },
	[KD_TUN_NS] = { "tun_ns", probe_tun_ns, NULL },
	[KD_USERNS] = { "userns", probe_userns, NULL },
	[KD_CGROUPNS] = { "cgroupns", probe_cgroupns, NULL },
	[KD_NETNS] = { "netns", probe_netns, NULL },
	[KD_NS_PID] = { "ns_pid", probe_ns_pid, NULL },
	[KD_LOGINUID] = { "loginuid", probe_loginuid, NULL },
	[KD_AUTOFS] = { "autofs", probe_autofs, NULL },
	[KD_OVERLAYFS] = { "overlayfs", probe_overlayfs, NULL },
	[KD_APPARMOR] = { "apparmor", probe_apparmor, NULL },
	[KD_IPT_LEGACY] = { "iptables-legacy", probe_ipt_legacy, NULL },
	[KD_COMPAT] = { "compat", probe_compat, NULL },
	[KD_MAP_VDSO] = { "map_vdso", probe_map_vdso, NULL },
	[KD_SK_NS] = { "sk_ns", probe_sk_ns, NULL },
	[KD_SK_UNIX_FILE] = { "sk_unix_file", probe_sk_unix_file, NULL },
	[KD_DIAG_RAW] = { "sock_diag_raw", probe_diag_raw, NULL },
	[KD_NSID] = { "nsid", probe_nsid, NULL },
	[KD_MEMFD_HUGETLB] = { "memfd_hugetlb", probe_memfd_hugetlb, NULL },
	[KD_MOVE_MOUNT_GROUP] = { "move_mount_set_group", probe_move_mount_group, NULL },
	[KD_OPENAT2] = { "openat2", probe_openat2, NULL },
	[KD_SO_BUF_LOCK] = { "so_buf_lock", probe_so_buf_lock, NULL },
	[KD_IPV6_FREEBIND] = { "ipv6_freebind", probe_ipv6_freebind, NULL },
	[KD_TIMER_CR_IDS] = { "timer_cr_ids", probe_timer_cr_ids, NULL },
	[KD_BREAKPOINTS] = { "breakpoints", probe_breakpoints, NULL },
	[KD_GUARD_PAGES] = { "pagemap_scan_guard_pages", probe_guard_pages, NULL },
	[KD_SECCOMP_FILTERS] = { "seccomp_filters", probe_seccomp_filters, NULL },
	[KD_NFTABLES] = { "nftables", probe_nftables, NULL },
};

const char *kerndat_probe_name(enum kd_probe_id id)
{
	return id < KD_NR_PROBES ? probes[id].name : "?";
}

int kerndat_probe(enum kd_probe_id id)
{
	struct kd_status *st;

	if (id >= KD_NR_PROBES)
		return -1;
	st = &kdat.st[id];
	if (st->done)
		return st->ok ? 0 : -1;
	if (!kdat.page_size)
		kdat.page_size = sysconf(_SC_PAGESIZE);
	st->done = true;	/* before running: probes may call each other */
	st->ok = probes[id].fn(st) == 0;
	if (probes[id].flag)
		*probes[id].flag = st->ok;
	if (st->ok)
		pr_debug("%s: yes", probes[id].name);
	else
		pr_debug("%s: no (%s%s%s)", probes[id].name, st->step,
			 st->err ? ": " : "", st->err ? strerror(st->err) : "");
	return st->ok ? 0 : -1;
}

int kerndat_init(void)
{
	int id;

	for (id = 0; id < KD_NR_PROBES; id++)
		kerndat_probe(id);
	return 0;
}

void kerndat_reset(void)
{
	memset(&kdat, 0, sizeof(kdat));
}
