/*
 * Restore, in the new task: its session and group, and its children.
 *
 * Right after the fork, before anything is forked: setsid for a session
 * leader, setpgid(0, 0) for a group leader. Then, once the task's memory is
 * staged, its children in pstree order (helpers stand in for an exited
 * group or session leader; zombies end as dumped), and only then the join
 * of a group led by another process. The children sharing the task's
 * descriptor table come last, once its fds are in place.
 * See Documentation/restore.md, "The tree".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "restore-task.h"
#include "tty.h"

/*
 * Sessions and groups, first part, right after the fork and before this
 * task forks its own children (they inherit both): setsid for a session
 * leader, setpgid(0, 0) for a group leader. Joining another group waits
 * until the children are forked (join_group): its leader may be one of them.
 */
void rst_start_session(const struct rst_tree *tr, size_t idx, const struct cr_options *o)
{
	const PstreeEntry *e = tr->ps[idx];
	pid_t pid = (pid_t)e->pid;

	if (idx == 0 && o->shell_job)
		return;		/* stays in criu's session and process group */
	if (e->sid == (uint32_t)pid) {
		if (setsid() < 0)
			rst_die("setsid: %s", strerror(errno));
	} else if (idx == 0) {
		rst_die("the task was in session %u, which is not its own: restore it with --shell-job",
		    e->sid);
	}
	if (e->pgid == (uint32_t)pid && getpgid(0) != pid && setpgid(0, 0))
		rst_die("setpgid: %s", strerror(errno));
}

/*
 * A session leader whose controlling terminal was a pty of the dump takes
 * it once the pair's descriptors are there and before it forks: only the
 * children forked after it share it (criu/include/tty.h).
 */
void rst_take_ctty(const struct rst_tree *tr, size_t idx, const struct rst_image *ri,
		      const struct rst_files *f)
{
	char why[256];

	if ((idx == 0 && tr->shell_job) || tr->ps[idx]->sid != tr->ps[idx]->pid)
		return;
	if (rst_pty_set_ctty(&ri->fdr, f->obj_fd, ri->pid, why, sizeof(why)))
		rst_die("%s", why);
}

/* In its final group: the foreground of its session's pty if it was. */
void rst_take_fg(const struct rst_tree *tr, size_t idx, const struct rst_image *ri,
		    const struct rst_files *f)
{
	char why[256];

	if (idx == 0 && tr->shell_job)
		return;
	if (tr->sharer[idx] && tr->ps[idx]->pgid != tr->ps[idx]->pid)
		return;	/* its parent's group: the parent made it the foreground if it was */
	if (rst_pty_set_fg(&ri->fdr, f->obj_fd, getsid(0), getpgid(0), why, sizeof(why)))
		rst_die("%s", why);
}

/*
 * The group this task is to be in. A shell job's group, the root's (which
 * the root may lead or not), is criu's: the shell stops and continues the
 * job by criu's group (Ctrl-Z, fg), and the terminal's foreground is it.
 */
static pid_t target_pgid(const struct rst_tree *tr, size_t idx)
{
	const PstreeEntry *e = tr->ps[idx], *root = tr->ps[0];

	if (tr->shell_job && e->pgid == root->pgid)
		return tr->criu_pgid;
	return (pid_t)e->pgid;
}

/*
 * Join a group led by another process. Its leader (or the helper standing
 * in for an exited one) may not have made it yet: retry while the kernel
 * says the group does not exist (EPERM), bounded.
 */
void rst_join_group(const struct rst_tree *tr, size_t idx)
{
	pid_t pgid = target_pgid(tr, idx);
	int i;

	if (idx == 0 && tr->shell_job)
		return;
	for (i = 0; getpgid(0) != pgid; i++) {
		if (!setpgid(0, pgid))
			break;
		if (errno != EPERM || i == 20000)
			rst_die("cannot join process group %d: %s", pgid, strerror(errno));
		usleep(500);
	}
}

/*
 * The ids the zombie had (its parent's waitid and SIGCHLD tell its uid, its
 * status all of them): groups and gids while still root, then the uids;
 * setres[ug]id set the fs ids to the effective ones, so these come after.
 */
static void zombie_ids(const CredsEntry *cr)
{
	gid_t groups[RST_MAX_GROUPS_IMG];
	size_t i;

	if (!cr)
		return;		/* an image of an older criu */
	for (i = 0; i < cr->n_groups; i++)
		groups[i] = cr->groups[i];
	errno = 0;
	if (setgroups(cr->n_groups, groups) || setresgid(cr->gid[0], cr->gid[1], cr->gid[2]))
		goto fail;
	setfsgid(cr->gid[3]);
	if (setfsgid(-1) != (int)cr->gid[3] || setresuid(cr->uid[0], cr->uid[1], cr->uid[2]))
		goto fail;
	setfsuid(cr->uid[3]);
	if (setfsuid(-1) == (int)cr->uid[3])
		return;
fail:
	rst_die("cannot take the zombie's ids (uid %u, gid %u): %s", cr->uid[0], cr->gid[0],
	    strerror(errno));
}

/*
 * A zombie comes back as one: it ends the way the dumped one did and its
 * parent, which is being restored, never reaps it. No core dump for a
 * signal that would make one (the image has no core flag: checked).
 */
__noreturn void rst_become_zombie(const struct rst_image *ri)
{
	int st = ri->core->exit_code, sig = st & 0x7f;
	sigset_t set;

	prctl(PR_SET_NAME, ri->core->comm, 0, 0, 0);
	zombie_ids(ri->core->creds);
	if (!sig)
		_exit((st >> 8) & 0xff);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);
	rst_die("signal %d did not end the zombie", sig);
}

/* A stand-in for an exited group leader: make the group and end (its parent reaps). */
static __noreturn void helper_main(void)
{
	if (setpgid(0, 0))
		rst_die("helper: setpgid: %s", strerror(errno));
	_exit(0);
}

/* Wait until child @pid has ended, without reaping it. */
static void wait_dead(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | __WALL) && errno == EINTR)
		;
}

static int task_exit_signal(const PstreeEntry *e)
{
	return e->has_exit_signal ? (int)e->exit_signal : SIGCHLD;
}

static pid_t fork_task(struct rst_tree *tr, size_t k, const struct cr_options *o, int go_fd)
{
	const PstreeEntry *e = tr->ps[k];
	pid_t pid = rst_fork_pid_as(o, (pid_t)e->pid, 0, task_exit_signal(e));

	if (pid < 0)
		rst_die("cannot create process %u", tr->ps[k]->pid);
	if (pid == 0)
		rst_task_main(tr, k, o, rst_status_fd(), go_fd);
	return pid;
}

/*
 * A stand-in for an exited session leader: make the session (and its
 * group), fork every first member of it, and end. Its parent is a
 * subreaper meanwhile: the members become its children, as dumped.
 */
static __noreturn void session_helper_main(struct rst_tree *tr, pid_t sid,
					   const struct cr_options *o, int go_fd)
{
	size_t k;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || setsid() < 0)
		rst_die("session helper %d: %s", sid, strerror(errno));
	for (k = 0; k < tr->nr; k++)
		if (tr->sess_helper[k] == sid)
			fork_task(tr, k, o, go_fd);
	_exit(0);
}

/*
 * The session helper's children: wait until it has exited and handed us
 * to our parent (the dumped one), before anything else.
 */
void rst_wait_adopted(pid_t helper)
{
	int i;

	for (i = 0; getppid() == helper; i++) {
		if (i == 20000)
			rst_die("session helper %d did not exit", helper);
		usleep(500);
	}
}

/* Fork the session helper for first member @k (once per session), reap it. */
static void fork_session(struct rst_tree *tr, size_t k, const struct cr_options *o, int go_fd)
{
	pid_t sid = tr->sess_helper[k], h;
	size_t j;

	for (j = 0; j < k; j++)
		if (tr->sess_helper[j] == sid)
			return;		/* the helper made it with an earlier one */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		rst_die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	h = rst_fork_pid(o, sid);
	if (h < 0)
		rst_die("cannot create the helper for session %d", sid);
	if (h == 0)
		session_helper_main(tr, sid, o, go_fd);
	if (waitpid(h, NULL, 0) != h)
		rst_die("cannot reap the session helper %d: %s", h, strerror(errno));
	for (j = k; j < tr->nr; j++)
		if (tr->sess_helper[j] == sid && tr->ri[j].zombie)
			wait_dead((pid_t)tr->ps[j]->pid);
}

/*
 * Fork the children of process @idx, in pstree order, each with its pid.
 * A group whose leader had exited is made first by a helper with the
 * leader's pid; it ends at once and its zombie holds the group until its
 * first member is in, then it is reaped. Returns whether any child ended
 * (a zombie, a helper): their SIGCHLD is not the task's.
 */
static bool fork_children(struct rst_tree *tr, size_t idx, const struct cr_options *o, int go_fd)
{
	bool ended = false, subreaper = false;
	size_t k;

	for (k = idx + 1; k < tr->nr; k++) {
		pid_t h = 0, c;

		if (tr->ps[k]->ppid != tr->ps[idx]->pid || tr->sharer[k])
			continue;	/* a sharer comes once our fds are in place */
		if (tr->sess_helper[k]) {
			fork_session(tr, k, o, go_fd);
			ended = subreaper = true;
			continue;
		}
		if (tr->helper[k]) {
			h = rst_fork_pid(o, tr->helper[k]);
			if (h < 0)
				rst_die("cannot create the helper for group %d", tr->helper[k]);
			if (h == 0)
				helper_main();
			wait_dead(h);
			ended = true;
		}
		c = fork_task(tr, k, o, go_fd);
		if (tr->ri[k].zombie) {
			wait_dead(c);
			ended = true;
		} else if (h && setpgid(c, h) && getpgid(c) != h) {
			rst_die("cannot put %d into group %d: %s", c, h, strerror(errno));
		}
		if (h && waitpid(h, NULL, 0) != h)
			rst_die("cannot reap the helper %d: %s", h, strerror(errno));
	}
	/* rst_core_restore() sets the dumped value; until then, not one of ours */
	if (subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	return ended;
}

/*
 * Drop the SIGCHLD that zombies and helpers sent while the task was being
 * made, and the other exit signals of zombies.
 */
static void drain_sigchld(const struct rst_tree *tr, size_t idx)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;
	size_t k;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (k = idx + 1; k < tr->nr; k++)
		if (tr->ps[k]->ppid == tr->ps[idx]->pid && tr->ri[k].zombie &&
		    tr->ps[k]->has_exit_signal && tr->ps[k]->exit_signal)
			sigaddset(&set, (int)tr->ps[k]->exit_signal);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

/* Fork the children of process @idx, then drop the signals of those that ended. */
void rst_fork_children(struct rst_tree *tr, size_t idx, const struct cr_options *o, int go_fd)
{
	if (fork_children(tr, idx, o, go_fd))
		drain_sigchld(tr, idx);
}

/*
 * The children sharing our descriptor table, now that its fds are in
 * place: forked with CLONE_FILES, each with its own copies of the status
 * and go pipes (ours are closed by our restorer) above every fd number.
 */
void rst_fork_sharers(struct rst_tree *tr, size_t idx, const struct cr_options *o, int go_fd)
{
	const struct rst_image *ri = &tr->ri[idx];
	int floor = 3, sfd, gfd;
	size_t k;

	for (k = 0; k < ri->nr_fds; k++)
		if ((int)ri->fds[k]->fd >= floor)
			floor = (int)ri->fds[k]->fd + 1;
	for (k = idx + 1; k < tr->nr; k++) {
		pid_t pid;

		if (!tr->sharer[k] || tr->ps[k]->ppid != (uint32_t)ri->pid)
			continue;
		sfd = fcntl(rst_status_fd(), F_DUPFD_CLOEXEC, floor);
		gfd = fcntl(go_fd, F_DUPFD_CLOEXEC, floor);
		if (sfd < 0 || gfd < 0)
			rst_die("cannot copy the status and go pipes for %u: %s", tr->ps[k]->pid,
			    strerror(errno));
		pid = rst_fork_pid_as(o, (pid_t)tr->ps[k]->pid, CLONE_FILES,
				      task_exit_signal(tr->ps[k]));
		if (pid < 0)
			rst_die("cannot create process %u", tr->ps[k]->pid);
		if (pid == 0)
			rst_task_main(tr, k, o, sfd, gfd);
	}
}
