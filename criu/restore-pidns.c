/*
 * Restore: a tree whose root was the init of a pid namespace of its own
 * (inventory root_pid_ns; Documentation/restore.md, "Pid namespace").
 *
 * criu forks the root with CLONE_NEWPID: it is pid 1 of a new namespace,
 * its pid in criu's namespace is whatever the kernel gives (as with the
 * established tool). Every other process is forked inside by its parent
 * with the image's pid as set_tid at the innermost level, which is the
 * namespace's. The images' pids are the namespace's; criu, outside, finds
 * a process's pid in its own namespace from the NSpid of the root's
 * descendants. Processes inside see criu's /proc (the mount namespace is
 * criu's): they look at themselves through /proc/self, never /proc/getpid().
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "restore.h"

static bool inside;	/* this process is in the restored tree's own pid namespace */

bool rst_inside_pidns(void)
{
	return inside;
}

/*
 * An init ignores a stop signal from inside its namespace: the root stops
 * itself at the end of its restore, so it would not stop.
 */
int rst_pidns_check(const struct rst_tree *tr, const struct cr_options *o)
{
	if (!tr->pidns || tr->ri[0].zombie)
		return 0;
	if (o->leave_stopped || tr->ri[0].core->state == 3) {
		pr_err("the root is the init of a pid namespace and is to stay stopped (--leave-stopped, or stopped at dump): not supported yet");
		return -1;
	}
	return 0;
}

pid_t rst_fork_root(const struct rst_tree *tr, const struct cr_options *o)
{
	pid_t pid;

	if (!tr->pidns)
		return rst_fork_pid_as(o, tr->ri[0].pid, (unsigned long)tr->utsipc.flags, SIGCHLD);
	pr_info("creating the root as pid 1 of a new pid namespace");
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | tr->utsipc.flags | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		pr_perror("clone(CLONE_NEWPID)");
	if (pid == 0)
		inside = true;
	return pid;
}

pid_t rst_proc_pid(void)
{
	char buf[32];
	ssize_t n;

	if (!inside)
		return getpid();
	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

/* The last NSpid of @host: its pid in the innermost namespace; -1 gone. */
static pid_t inner_of(pid_t host)
{
	struct proc_status st = { 0 };
	pid_t v = -1;

	if (proc_read_status(host, &st))
		return -1;
	if (st.nr_nspid)
		v = st.nspid[st.nr_nspid - 1];
	proc_status_free(&st);
	return v;
}

/* Look for @inner among the descendants of @host (bounded by the tree's size). */
static pid_t find_below(pid_t host, pid_t inner, unsigned int depth)
{
	struct proc_pids tids = { 0 };
	pid_t found = 0;
	size_t i, k;

	if (depth > RST_MAX_TASKS || proc_read_tasks(host, &tids))
		return 0;	/* gone meanwhile */
	for (i = 0; !found && i < tids.nr; i++) {
		struct proc_pids kids = { 0 };

		if (proc_read_children(host, tids.pid[i], &kids))
			continue;
		for (k = 0; !found && k < kids.nr; k++)
			found = inner_of(kids.pid[k]) == inner ? kids.pid[k]
							       : find_below(kids.pid[k], inner, depth + 1);
		proc_pids_free(&kids);
	}
	proc_pids_free(&tids);
	return found;
}

pid_t rst_host_pid(const struct rst_tree *tr, pid_t inner)
{
	if (!tr->pidns)
		return inner;
	if (inner == tr->ri[0].pid)
		return tr->root_host;
	return tr->root_host > 0 ? find_below(tr->root_host, inner, 0) : 0;
}
