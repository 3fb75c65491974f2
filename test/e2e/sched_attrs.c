/*
 * Scheduling and placement state, per thread and per process, and exit
 * signals of children, across a checkpoint:
 *   - the main thread on cpu 0, I/O priority best-effort 5, NUMA policy
 *     preferred node 0 (static nodes); a worker thread on the last cpu,
 *     I/O priority idle, NUMA policy bind to node 0;
 *   - coredump_filter 0x7b, autogroup nice 5;
 *   - a child made with SIGUSR1 as its exit signal, one with none, and a
 *     zombie made with SIGUSR2 (whose signal the parent already had).
 * After the restore each thread checks its own state; the parent kills the
 * children and must get SIGUSR1 for the first, nothing for the second, and
 * no second SIGUSR2. The session keyring (criu's, inherited) stays the same.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <linux/keyctl.h>

#include "e2e.h"

#define IOPRIO_BE_5		((2 << 13) | 5)
#define IOPRIO_IDLE		(3 << 13)
#define MPOL_PREFERRED_NR	1
#define MPOL_BIND_NR		2
#define MPOL_F_STATIC		(1 << 15)

struct sched_want {
	int	cpu, ioprio, mpol;
};

static const struct sched_want main_want = { 0, IOPRIO_BE_5, MPOL_PREFERRED_NR | MPOL_F_STATIC };
static struct sched_want worker_want = { 0, IOPRIO_IDLE, MPOL_BIND_NR };
static int arrived, gate;
static char worker_err[256];
static volatile sig_atomic_t got_usr1, got_usr2;

static void on_usr1(int sig) { (void)sig; got_usr1++; }
static void on_usr2(int sig) { (void)sig; got_usr2++; }

static int set_sched(const struct sched_want *w)
{
	unsigned long node0 = 1;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(w->cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) ||
	    syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, w->ioprio) ||
	    syscall(SYS_set_mempolicy, w->mpol, &node0, 64))
		return -1;
	return 0;
}

/* "" if the calling thread has @w, else what differs. */
static const char *check_sched(const struct sched_want *w, char *buf, size_t len)
{
	unsigned long nodes = 0;
	cpu_set_t cpus;
	int mode = -1;
	long prio;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) || CPU_COUNT(&cpus) != 1 ||
	    !CPU_ISSET(w->cpu, &cpus))
		snprintf(buf, len, "affinity: %d cpus, not cpu %d alone", CPU_COUNT(&cpus), w->cpu);
	else if ((prio = syscall(SYS_ioprio_get, 1, 0)) != w->ioprio)
		snprintf(buf, len, "ioprio: %#lx, not %#x", prio, w->ioprio);
	else if (syscall(SYS_get_mempolicy, &mode, &nodes, 64, 0, 0) || mode != w->mpol ||
		 nodes != 1)
		snprintf(buf, len, "mempolicy: %#x nodes %#lx, not %#x nodes 0x1", mode, nodes,
			 w->mpol);
	else
		buf[0] = '\0';
	return buf;
}

static void *worker(void *arg)
{
	(void)arg;
	if (set_sched(&worker_want))
		snprintf(worker_err, sizeof(worker_err), "worker setup: %s", strerror(errno));
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&gate, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &gate, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (!worker_err[0])
		check_sched(&worker_want, worker_err, sizeof(worker_err));
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int write_self(const char *name, const char *text)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	r = fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ? -1 : 0;
	if (fd >= 0)
		close(fd);
	return r;
}

static int autogroup_nice(void)
{
	char buf[128] = "", *nice;
	FILE *f = fopen("/proc/self/autogroup", "re");

	if (!f || !fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	if (f)
		fclose(f);
	nice = strstr(buf, "nice ");
	return nice ? atoi(nice + 5) : -100;
}

static pid_t child(int exit_signal, int live)
{
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)exit_signal, 0, 0, 0, 0);

	if (pid == 0) {
		e2e_note_pid();
		if (!live)
			_exit(7);
		for (;;)
			pause();
	}
	if (pid < 0)
		e2e_fail("clone with exit signal %d: %s", exit_signal, strerror(errno));
	return pid;
}

static void check_children(pid_t usr1, pid_t none, pid_t zombie)
{
	siginfo_t si;
	int i;

	kill(usr1, SIGKILL);
	for (i = 0; i < 400 && !got_usr1; i++)
		usleep(5000);
	if (!got_usr1)
		e2e_fail("exit signal: no SIGUSR1 from the child made with it");
	kill(none, SIGKILL);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)zombie, &si, WEXITED | __WALL) || si.si_status != 7)
		e2e_fail("the zombie: %s, status %d", strerror(errno), si.si_status);
	if (waitpid(usr1, NULL, __WALL) != usr1 || waitpid(none, NULL, __WALL) != none)
		e2e_fail("waitpid of the children: %s", strerror(errno));
	if (got_usr2 != 1)
		e2e_fail("exit signal: SIGUSR2 %d times, the zombie died once", (int)got_usr2);
}

int main(int argc, char **argv)
{
	pid_t usr1, none, zombie;
	long keyring;
	char err[256];
	pthread_t th;
	siginfo_t si;

	e2e_init(argc, argv);
	worker_want.cpu = get_nprocs_conf() > 1 ? 1 : 0;
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	if (set_sched(&main_want))
		e2e_fail("setup: %s", strerror(errno));
	if (write_self("coredump_filter", "0x7b") || write_self("autogroup", "5"))
		e2e_fail("coredump_filter or autogroup: %s", strerror(errno));
	e2e_term_mask(SIG_BLOCK);
	if (pthread_create(&th, NULL, worker, NULL))
		e2e_fail("pthread_create failed");
	e2e_term_mask(SIG_UNBLOCK);
	e2e_wait_count(&arrived, 1);
	if (worker_err[0])
		e2e_fail("%s", worker_err);
	usr1 = child(SIGUSR1, 1);
	none = child(0, 1);
	zombie = child(SIGUSR2, 0);
	/* the zombie is there, unreaped, and its signal came */
	if (waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT | __WALL))
		e2e_fail("waitid of the zombie: %s", strerror(errno));
	while (!got_usr2)
		usleep(1000);
	keyring = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	e2e_ready();
	e2e_wait_stop();
	if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) != keyring)
		e2e_fail("the session keyring is no longer %ld", keyring);
	e2e_open_gate(&gate);
	e2e_wait_count(&arrived, 2);
	if (worker_err[0])
		e2e_fail("worker: %s", worker_err);
	if (check_sched(&main_want, err, sizeof(err))[0])
		e2e_fail("main: %s", err);
	if (autogroup_nice() != 5)
		e2e_fail("autogroup: nice %d, not 5", autogroup_nice());
	check_children(usr1, none, zombie);
	e2e_pass();
}
