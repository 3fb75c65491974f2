/*
 * Known gaps (Documentation/audit.md, "Known gaps"): "task_gaps MODE RESULT"
 * sets one task attribute that the restore does not bring back yet, and
 * checks it after the restore like any case. Its CASES line has the "gap"
 * flow: the case must fail, naming what is lost, until the gap is closed;
 * then the line becomes a "once" (or "refused") case.
 *   affinity         sched_setaffinity to cpu 0 alone
 *   ioprio           ioprio_set best-effort level 5
 *   coredump_filter  0x7b written to /proc/self/coredump_filter
 *   timerslack       PR_SET_TIMERSLACK 123457 ns
 *   pdeathsig        PR_SET_PDEATHSIG on the tree's root (whose parent is outside)
 *   securebits       NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE, three locks
 *   keepcaps         PR_SET_KEEPCAPS 1
 *   tsc              PR_SET_TSC PR_TSC_SIGSEGV
 *   mce              PR_MCE_KILL_SET early
 *   read_implies_exec  personality READ_IMPLIES_EXEC (mappings made before it)
 *   keyring          a session keyring of its own (KEYCTL_JOIN_SESSION_KEYRING)
 *   process_keyring  a process keyring (KEY_SPEC_PROCESS_KEYRING, created)
 *   thread_keyring   a thread keyring (KEY_SPEC_THREAD_KEYRING, created)
 *   dnotify          F_NOTIFY on a directory (now refused at dump: the case
 *                    "dnotify_refused" checks the watch is still there after)
 *   exit_signal      a child made by clone() with SIGUSR1 as its exit signal
 *   mdwe             PR_SET_MDWE refuse-exec-gain (the dump refuses it)
 *   pid_for_children unshare(CLONE_NEWPID) without a child yet
 *   chroot           chroot into a directory (restored there)
 *   memory_merge     PR_SET_MEMORY_MERGE 1 (KSM for the whole process)
 *   autogroup        nice 5 written to /proc/self/autogroup (the session's group)
 *   mempolicy        set_mempolicy(MPOL_PREFERRED, node 0)
 *   mbind            mbind(MPOL_PREFERRED, node 0) of a mapping
 *   mbind_same       the same, and the task's own policy the same too (so
 *                    /proc/PID/numa_maps shows no difference)
 *   sud              syscall user dispatch on, its selector at "allow" (the
 *                    dump refuses it: the case "sud_refused")
 *   zombie_uid       a child that took uid/gid 1000 and groups 1000, 27, then
 *                    exited: a zombie whose si_uid the parent's waitid reads
 * Modes of gaps now closed stay, run by restored or refused cases.
 */
#include <sched.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <linux/securebits.h>

#include "e2e.h"

#define PR_SET_MDWE_NR		65
#define PR_GET_MDWE_NR		66
#define IOPRIO_BE_5		((2 << 13) | 5)
#define PR_SET_MEMORY_MERGE_NR	67
#define PR_GET_MEMORY_MERGE_NR	68
#define MPOL_PREFERRED_NR	1

static const char *mode;
static char dir[512];
static volatile sig_atomic_t got_io, got_usr2;
static pid_t kid;
static int real_root = -1;

static void on_io(int sig) { (void)sig; got_io = 1; }
static void on_usr2(int sig) { (void)sig; got_usr2 = 1; }

static void set_dnotify(void)
{
	int fd;

	e2e_path(dir, sizeof(dir), "watched");
	if (mkdir(dir, 0700) || (fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		e2e_fail("watched dir: %s", strerror(errno));
	signal(SIGIO, on_io);
	if (fcntl(fd, F_NOTIFY, DN_CREATE | DN_MULTISHOT))
		e2e_fail("F_NOTIFY: %s", strerror(errno));
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ? -1 : 0;

	if (fd >= 0)
		close(fd);
	return r;
}

/* A child that changes its ids and exits; left a zombie (waitid WNOWAIT). */
static int make_zombie_uid(void)
{
	gid_t groups[] = { 1000, 27 };
	siginfo_t si;

	e2e_note_pid();
	kid = fork();
	if (kid == 0) {
		e2e_note_pid();		/* the harness reaps it after the dump */
		if (setgroups(2, groups) || setresgid(1000, 1000, 1000) ||
		    setresuid(1000, 1000, 1000))
			_exit(1);
		_exit(3);
	}
	memset(&si, 0, sizeof(si));
	if (kid < 0 || waitid(P_PID, kid, &si, WEXITED | WNOWAIT))
		return -1;
	return si.si_status == 3 ? 0 : -1;
}

static int set_mode(void)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (!strcmp(mode, "affinity"))
		return sched_setaffinity(0, sizeof(cpus), &cpus);
	if (!strcmp(mode, "ioprio"))
		return (int)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, IOPRIO_BE_5);
	if (!strcmp(mode, "coredump_filter"))
		return write_file("/proc/self/coredump_filter", "0x7b");
	if (!strcmp(mode, "timerslack"))
		return prctl(PR_SET_TIMERSLACK, 123457, 0, 0, 0);
	if (!strcmp(mode, "pdeathsig")) {
		e2e_note_pid();		/* for the "stopped" flow */
		signal(SIGUSR2, on_usr2);
		return prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
	}
	if (!strcmp(mode, "securebits"))
		return prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			     SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS_LOCKED |
			     SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0);
	if (!strcmp(mode, "keepcaps"))
		return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	if (!strcmp(mode, "tsc"))
		return prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
	if (!strcmp(mode, "mce"))
		return prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	if (!strcmp(mode, "read_implies_exec"))
		return personality(PER_LINUX | READ_IMPLIES_EXEC) < 0 ? -1 : 0;
	if (!strcmp(mode, "keyring"))
		return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "e2e-task-gaps") < 0 ? -1 : 0;
	if (!strcmp(mode, "mdwe"))
		return prctl(PR_SET_MDWE_NR, 1, 0, 0, 0);
	if (!strcmp(mode, "process_keyring") || !strcmp(mode, "thread_keyring"))
		return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, mode[0] == 'p' ?
			       KEY_SPEC_PROCESS_KEYRING : KEY_SPEC_THREAD_KEYRING, 1) < 0 ? -1 : 0;
	if (!strcmp(mode, "dnotify")) {
		set_dnotify();
		return 0;
	}
	if (!strcmp(mode, "memory_merge"))
		return prctl(PR_SET_MEMORY_MERGE_NR, 1, 0, 0, 0);
	if (!strcmp(mode, "autogroup"))
		return write_file("/proc/self/autogroup", "5");
	if (!strcmp(mode, "mempolicy")) {
		unsigned long node0 = 1;

		return (int)syscall(SYS_set_mempolicy, MPOL_PREFERRED_NR, &node0, 64);
	}
	if (!strncmp(mode, "mbind", 5)) {
		unsigned long node0 = 1;
		void *p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (!strcmp(mode, "mbind_same") &&
		    syscall(SYS_set_mempolicy, MPOL_PREFERRED_NR, &node0, 64))
			return -1;
		return p == MAP_FAILED ? -1 :
		       (int)syscall(SYS_mbind, p, 1 << 16, MPOL_PREFERRED_NR, &node0, 64, 0);
	}
	if (!strcmp(mode, "pid_for_children"))
		return unshare(CLONE_NEWPID);
	if (!strcmp(mode, "chroot")) {
		e2e_path(dir, sizeof(dir), "root");
		real_root = open("/", O_PATH | O_DIRECTORY);
		if (mkdir(dir, 0700) || real_root < 0)
			return -1;
		return chroot(dir) || chdir("/") ? -1 : 0;
	}
	if (!strcmp(mode, "exit_signal")) {
		signal(SIGUSR1, SIG_IGN);	/* the child's end, after the restore */
		e2e_note_pid();
		kid = (pid_t)syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
		if (kid == 0) {
			e2e_note_pid();
			for (;;)
				pause();
		}
		return kid < 0 ? -1 : 0;
	}
	if (!strcmp(mode, "zombie_uid"))
		return make_zombie_uid();
	if (!strcmp(mode, "sud")) {
		static char selector;	/* SYSCALL_DISPATCH_FILTER_ALLOW: nothing diverted */

		return prctl(PR_SET_SYSCALL_USER_DISPATCH, 1 /* on */, 0, 0, &selector);
	}
	e2e_fail("unknown mode %s", mode);
}

/* The attribute as the task sees it. */
static long get_mode(void)
{
	char buf[128] = "";
	cpu_set_t cpus;
	int v = 0;

	if (!strcmp(mode, "affinity"))
		return sched_getaffinity(0, sizeof(cpus), &cpus) ? -1 : CPU_COUNT(&cpus);
	if (!strcmp(mode, "ioprio"))
		return syscall(SYS_ioprio_get, 1, 0);
	if (!strcmp(mode, "timerslack"))
		return prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (!strcmp(mode, "pdeathsig"))
		return got_usr2 ? -1 : (prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0), v);
	if (!strcmp(mode, "securebits"))
		return prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (!strcmp(mode, "keepcaps"))
		return prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
	if (!strcmp(mode, "tsc"))
		return prctl(PR_GET_TSC, &v, 0, 0, 0) ? -1 : v;
	if (!strcmp(mode, "mce"))
		return prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	if (!strcmp(mode, "mdwe"))
		return prctl(PR_GET_MDWE_NR, 0, 0, 0, 0);
	if (!strcmp(mode, "memory_merge"))
		return prctl(PR_GET_MEMORY_MERGE_NR, 0, 0, 0, 0);
	if (!strcmp(mode, "mempolicy")) {
		unsigned long nodes = 0;

		return syscall(SYS_get_mempolicy, &v, &nodes, 64, 0, 0) ? -1 : v * 100 + (long)nodes;
	}
	if (!strcmp(mode, "autogroup")) {
		FILE *f = fopen("/proc/self/autogroup", "re");
		char *nice;

		if (!f || !fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		if (f)
			fclose(f);
		nice = strstr(buf, "nice ");
		return nice ? atol(nice + 5) : -100;
	}
	if (!strcmp(mode, "chroot")) {
		struct stat st;

		return stat("/", &st) ? -1 : (long)st.st_ino;
	}
	if (!strcmp(mode, "keyring")) {
		long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);

		syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, buf, sizeof(buf) - 1);
		return strstr(buf, "e2e-task-gaps") != NULL;
	}
	if (!strcmp(mode, "zombie_uid")) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, kid, &si, WEXITED | WNOWAIT))
			return -1;
		return si.si_uid * 1000L + si.si_status;
	}
	return 0;	/* seen in /proc by the harness, or checked by its effect */
}

static void check_dnotify(void)
{
	char path[600];
	int i;

	snprintf(path, sizeof(path), "%s/new", dir);
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	for (i = 0; i < 200 && !got_io; i++)
		usleep(5000);
	unlink(path);
	rmdir(dir);
	if (!got_io)
		e2e_fail("dnotify: no SIGIO for a file created after the restore");
}

int main(int argc, char **argv)
{
	long before, after;

	if (argc < 3) {
		fprintf(stderr, "usage: %s MODE RESULT-FILE\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	e2e_init(argc - 1, argv + 1);
	if (set_mode())
		e2e_fail("%s: %s", mode, strerror(errno));
	before = get_mode();
	e2e_ready();
	e2e_wait_stop();
	if (!strcmp(mode, "dnotify"))
		check_dnotify();
	after = get_mode();
	if (real_root >= 0 && (fchdir(real_root) || chroot(".") || rmdir(dir)))
		e2e_fail("chroot: cannot get out: %s", strerror(errno));
	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, __WALL);
	}
	if (!strcmp(mode, "pdeathsig") && got_usr2)
		e2e_fail("pdeathsig: the parent death signal fired after the restore");
	if (before != after)
		e2e_fail("%s: %ld (%#lx) before, %ld (%#lx) after", mode, before,
			 (unsigned long)before, after, (unsigned long)after);
	e2e_pass();
}
