/*
 * Restore, step 2: create the task with the pid it had at dump time.
 *
 * clone3() with set_tid when the kernel honours it (kerndat), otherwise
 * /proc/sys/kernel/ns_last_pid: write pid - 1, fork, and check what came
 * out (another fork elsewhere may win the race; retry a few times).
 * CRIU_PID_METHOD=clone3|ns_last_pid (cr_options.pid_method) forces one
 * (tests use it); rst_pid_by_clone3() is the one place that chooses.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "kerndat.h"
#include "kernel-compat.h"
#include "restore.h"

#define NS_LAST_PID	"/proc/sys/kernel/ns_last_pid"
#define NS_LAST_PID_TRIES 8

/*
 * A pid held only by a zombie is about to be free: its reaper (often init,
 * which reaps lazily) has not got to it yet. Give it a moment.
 */
static void wait_zombie_gone(pid_t pid)
{
	struct proc_stat st;
	int i;

	for (i = 0; i < 200; i++) {
		if (proc_read_stat_or_gone(pid, &st) || st.state != 'Z')
			return;
		if (i == 0)
			pr_info("pid %d is a zombie not reaped yet; waiting for it", pid);
		usleep(10000);
	}
}

/*
 * clone3 says EEXIST also while the number is still a process group or
 * session id: the dumped group's members killed by the dump may be zombies
 * their reaper (init, lazily) has not collected yet. With no process of
 * that pid, wait for them a little (2 s at most).
 */
static bool held_by_zombies(pid_t pid, int *tries)
{
	int clone_errno = errno;	/* the caller reports clone3's errno, not kill's */
	bool gone = kill(pid, 0) < 0 && errno == ESRCH;

	errno = clone_errno;
	if (!gone || ++*tries > 200)
		return false;
	if (*tries == 1)
		pr_info("pid %d is still a group or session id of unreaped processes; waiting", pid);
	usleep(10000);
	return true;
}

static pid_t fork_clone3(pid_t pid, unsigned long flags, int exit_signal)
{
	struct clone_args ca;
	pid_t tid = pid;
	int tries = 0;
	long r;

	memset(&ca, 0, sizeof(ca));
	ca.flags = flags;
	ca.exit_signal = (uint64_t)exit_signal;
	ca.set_tid = (uint64_t)(unsigned long)&tid;
	ca.set_tid_size = 1;
	do
		r = syscall(__NR_clone3, &ca, sizeof(ca));
	while (r < 0 && errno == EEXIST && held_by_zombies(pid, &tries));
	if (r < 0) {
		if (errno == EEXIST && tries)
			pr_err("pid %d is in use as the process group or session of processes not reaped yet: cannot restore the task with it",
			       pid);
		else if (errno == EEXIST)
			pr_err("pid %d is in use: cannot restore the task with it", pid);
		else
			pr_perror("clone3 with set_tid %d", pid);
		return -1;
	}
	return (pid_t)r;
}

/*
 * fork(), or a bare clone when it takes @flags (CLONE_FILES) or the parent
 * is to get another signal than SIGCHLD when the child ends.
 */
static pid_t fork_as(unsigned long flags, int exit_signal)
{
	if (!flags && exit_signal == SIGCHLD)
		return fork();
	return (pid_t)syscall(SYS_clone, flags | (unsigned long)exit_signal, 0, 0, 0, 0);
}

/*
 * After a lost race (a fork elsewhere took @pid between our write and our
 * fork), the thief is usually short-lived (a compiler, a shell): wait for
 * it to end, 2 s at most, instead of calling the pid in use for good.
 */
static bool stolen_pid_gone(pid_t pid)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		if (i == 0)
			pr_info("pid %d was taken by a fork elsewhere; waiting for it to end", pid);
		usleep(10000);
	}
	pr_err("pid %d was taken by a fork elsewhere while restoring and is still in use", pid);
	return false;
}

static pid_t fork_ns_last_pid(pid_t pid, unsigned long flags, int exit_signal)
{
	char buf[32];
	int i, fd, len;

	fd = open(NS_LAST_PID, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("cannot open " NS_LAST_PID);
		return -1;
	}
	/* Serialise with other restores on this host that play the same game. */
	if (flock(fd, LOCK_EX)) {
		pr_perror("flock " NS_LAST_PID);
		close(fd);
		return -1;
	}
	for (i = 0; i < NS_LAST_PID_TRIES; i++) {
		pid_t got;

		if (i && !stolen_pid_gone(pid))
			break;
		if (kill(pid, 0) == 0 || errno != ESRCH) {
			pr_err("pid %d is in use: cannot restore the task with it", pid);
			break;
		}
		len = snprintf(buf, sizeof(buf), "%d", pid - 1);
		if (pwrite(fd, buf, (size_t)len, 0) != len) {
			pr_perror("cannot write %d to " NS_LAST_PID, pid - 1);
			break;
		}
		got = fork_as(flags, exit_signal);
		if (got < 0) {
			pr_perror("fork");
			break;
		}
		if (got == 0) {
			if (getpid() != pid)
				_exit(0);	/* lost the race: the parent retries */
			if (!(flags & CLONE_FILES))	/* shared: the parent closes it */
				close(fd);
			return 0;
		}
		if (got == pid) {
			close(fd);
			return got;
		}
		pr_warn("fork got pid %d instead of %d, retrying", got, pid);
		waitpid(got, NULL, __WALL);
	}
	if (i == NS_LAST_PID_TRIES)
		pr_err("could not get pid %d through " NS_LAST_PID " after %d tries", pid, i);
	close(fd);
	return -1;
}

int rst_pid_by_clone3(const struct cr_options *o)
{
	if (o->pid_method)
		return !strcmp(o->pid_method, "clone3");
	if (kerndat_probe(KD_CLONE3_SET_TID) == 0)
		return 1;
	if (kerndat_probe(KD_NS_LAST_PID) == 0)
		return 0;
	pr_err("neither clone3 with set_tid nor ns_last_pid works: cannot choose the pid");
	return -1;
}

pid_t rst_fork_pid(const struct cr_options *o, pid_t pid)
{
	return rst_fork_pid_as(o, pid, 0, SIGCHLD);
}

pid_t rst_fork_pid_as(const struct cr_options *o, pid_t pid, unsigned long flags,
		      int exit_signal)
{
	int use_clone3 = rst_pid_by_clone3(o);

	if (use_clone3 < 0)
		return -1;
	if (!rst_inside_pidns())
		wait_zombie_gone(pid);	/* criu's /proc: its pids are not those inside */
	pr_info("creating pid %d with %s", pid, use_clone3 ? "clone3(set_tid)" : "ns_last_pid");
	return use_clone3 ? fork_clone3(pid, flags, exit_signal)
			  : fork_ns_last_pid(pid, flags, exit_signal);
}
