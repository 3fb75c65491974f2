/*
 * Dump: the process tree. Starting from the root, every process is seized
 * (compel_seize_task) and its children are read from
 * /proc/PID/task/TID/children of each of its threads; a seized task cannot
 * fork any more, so once a scan of every seized task finds nobody new the
 * tree is complete (a child forked while its parent was being seized is
 * found by that last scan). Zombies cannot be seized: they are recorded
 * from /proc. --timeout bounds the whole collection.
 *
 * The order of the array is the order of pstree.img: the root first, a
 * parent always before its children.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <compel/compel.h>

#define LOG_PREFIX "dump: "
#include "kerndat.h"
#include "log.h"
#include "dump.h"
#include "tty.h"

#define DUMP_MAX_TASKS	(1u << 16)

struct dump_task *dump_tree_find(const struct dump_tree *tr, pid_t pid)
{
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if (tr->t[i]->pid == pid)
			return tr->t[i];
	return NULL;
}

static struct dump_task *tree_add(struct dump_tree *tr, pid_t pid, pid_t ppid)
{
	struct dump_task *t;

	if (tr->nr == DUMP_MAX_TASKS) {
		pr_err("more than %u processes in the tree", DUMP_MAX_TASKS);
		return NULL;
	}
	if (tr->nr == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 16;
		struct dump_task **n = realloc(tr->t, cap * sizeof(*n));

		if (!n)
			return NULL;
		tr->t = n;
		tr->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	task_core_entry__init(&t->core);
	mm_entry__init(&t->mm);
	t->o = tr->o;
	t->tree = tr;
	t->shm = &tr->shm;
	t->files = &tr->files;
	t->dirfd = tr->dirfd;
	t->pid = pid;
	t->ppid = ppid;
	t->track_fd = -1;
	t->track_parent.pages_fd = -1;
	tr->t[tr->nr++] = t;
	return t;
}

static void task_free(struct dump_task *t)
{
	dump_core_free(t);
	dump_mm_free(t);
	dump_track_free(t);
	dump_fds_free(t);
	proc_status_free(&t->st);
	free(t->tids);
	free(t->vtids);
	free(t);
}

void dump_tree_free(struct dump_tree *tr)
{
	size_t i;

	for (i = 0; i < tr->nr; i++)
		task_free(tr->t[i]);
	free(tr->t);
	tr->t = NULL;
	tr->nr = tr->cap = 0;
	dump_shmem_free(&tr->shm);
	dump_files_free(&tr->files);
}

/* Drop entry @i (a task that exited and was reaped before it was seized). */
static void tree_drop(struct dump_tree *tr, size_t i)
{
	task_free(tr->t[i]);
	memmove(&tr->t[i], &tr->t[i + 1], (tr->nr - i - 1) * sizeof(tr->t[0]));
	tr->nr--;
}

#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */

/* PTRACE_SEIZE said EPERM: say why, from what /proc tells. */
static void seize_eperm(const struct dump_task *t)
{
	struct proc_status st = { .tracerpid = 0 };
	struct proc_stat tracer;

	if (t->stat.flags & PF_KTHREAD) {
		pr_err("can't seize %d (%s): a kernel thread", t->pid, t->stat.comm);
		return;
	}
	if (!proc_read_status(t->pid, &st) && st.tracerpid > 0) {
		bool named = !proc_read_stat_or_gone(st.tracerpid, &tracer);

		pr_err("can't seize %d (%s): already traced by PID %d (%s)", t->pid, t->stat.comm,
		       st.tracerpid, named ? tracer.comm : "gone since");
	} else {
		pr_err("can't seize %d (%s): no permission to trace it (another user namespace, "
		       "a security module, or it is not dumpable by us)", t->pid, t->stat.comm);
	}
	proc_status_free(&st);
}

/* 1: seized, 0: a zombie (recorded), 2: gone, -1: error (logged). */
static int seize_one(struct dump_task *t)
{
	int err, r;

	r = proc_read_stat_or_gone(t->pid, &t->stat);
	if (r)
		return r > 0 ? 2 : -1;
	if (t->stat.state == 'Z' || t->stat.state == 'X') {
		t->zombie = true;
		return 0;
	}
	/*
	 * Under seccomp the parasite's calls must not meet the task's filters
	 * (a kill action would kill the task): suspended while criu traces it.
	 */
	if (!compel_seize_task_stopped(t->pid, t->tree->seize_flags |
				       (kerndat_probe(KD_SECCOMP_SUSPEND) == 0 && kdat.has_seccomp_suspend ?
					COMPEL_SEIZE_SUSPEND_SECCOMP : 0),
				       &t->tids, &t->nr_tids, &t->stop_sig)) {
		/*
		 * A child that exited and was reaped before this (its parent
		 * ignores SIGCHLD) may have left its pid to a stranger: what we
		 * hold now must still be the parent's child.
		 */
		if (t->ppid && (proc_read_stat_or_gone(t->pid, &t->stat) || t->stat.ppid != t->ppid)) {
			compel_detach_task(t->tids, t->nr_tids);
			free(t->tids);
			t->tids = NULL;
			t->nr_tids = 0;
			return 2;
		}
		t->seized = true;
		return 1;
	}
	err = errno;
	r = proc_read_stat_or_gone(t->pid, &t->stat);
	if (r > 0)
		return 2;
	if (!r && (t->stat.state == 'Z' || t->stat.state == 'X')) {
		t->zombie = true;
		return 0;
	}
	if (err == EPERM)
		seize_eperm(t);
	else if (err == EBUSY)
		pr_err("%d: a thread is stopped by a signal other than a job-control one "
		       "(not supported yet)", t->pid);
	else if (err == EAGAIN)
		pr_err("%d is a vfork parent waiting for its child (it shares its memory until the "
		       "child execs or exits): dumping it is not supported yet; retry later", t->pid);
	else
		pr_err("can't seize %d", t->pid);
	return -1;
}

/* Add the children of every thread of @t that the tree does not hold yet. */
static int scan_children(struct dump_tree *tr, struct dump_task *t, size_t *added)
{
	int k;

	for (k = 0; k < t->nr_tids; k++) {
		struct proc_pids kids;
		size_t i;

		if (proc_read_children(t->pid, t->tids[k], &kids))
			return -1;
		for (i = 0; i < kids.nr; i++) {
			if (dump_tree_find(tr, kids.pid[i]))
				continue;
			if (kids.pid[i] == getpid()) {
				pr_err("criu itself (%d) is in the tree of %d: cannot dump it",
				       getpid(), tr->t[0]->pid);
				proc_pids_free(&kids);
				return -1;
			}
			if (!tree_add(tr, kids.pid[i], t->pid)) {
				proc_pids_free(&kids);
				return -1;
			}
			(*added)++;
			pr_debug("%d: child %d", t->pid, kids.pid[i]);
		}
		proc_pids_free(&kids);
	}
	t->scanned = true;
	return 0;
}

/* One pass: seize who is not seized yet, then read the children of who was not scanned. */
static int collect_pass(struct dump_tree *tr, size_t *added)
{
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		struct dump_task *t = tr->t[i];
		int r;

		if (t->seized || t->zombie)
			continue;
		r = seize_one(t);
		if (r < 0)
			return -1;
		if (r == 2) {
			pr_info("%d exited before it was seized", t->pid);
			tree_drop(tr, i--);
		}
	}
	for (i = 0; i < tr->nr; i++)
		if (tr->t[i]->seized && !tr->t[i]->scanned && scan_children(tr, tr->t[i], added))
			return -1;
	return 0;
}

int dump_tree_collect(struct dump_tree *tr, pid_t root)
{
	unsigned int timeout = tr->o->timeout ? tr->o->timeout : DEFAULT_TIMEOUT;
	uint64_t until = dump_now_us() + timeout * 1000000ull;
	size_t added, i;

	if (!tree_add(tr, root, 0))
		return -1;
	for (;;) {
		if (dump_now_us() > until) {
			pr_err("the tree of %d did not hold still within %u s (--timeout)", root,
			       timeout);
			return -1;
		}
		added = 0;
		if (collect_pass(tr, &added))
			return -1;
		if (!tr->nr || tr->t[0]->pid != root) {
			pr_err("can't seize %d: it is gone", root);
			return -1;
		}
		if (tr->t[0]->zombie) {
			pr_err("%d is a zombie: nothing to dump", root);
			return -1;
		}
		if (added)
			continue;
		/* Everyone is stopped: one more look at all, for forks during the freeze. */
		for (i = 0; i < tr->nr; i++)
			tr->t[i]->scanned = false;
		if (collect_pass(tr, &added))
			return -1;
		if (!added)
			break;
	}
	pr_info("tree of %d: %zu processes", root, tr->nr);
	return 0;
}

/* ---- sessions and process groups ----------------------------------------- */

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/*
 * @t is a first member of session @sid whose leader has exited: its
 * parent is in another session. The restore makes the session with a
 * helper that forks all first members, so they must share one parent.
 */
static bool first_of_session(const struct dump_tree *tr, const struct dump_task *t)
{
	const struct dump_task *parent = dump_tree_find(tr, t->ppid);

	return parent && parent->stat.session != t->stat.session;
}

static int check_exited_session(const struct dump_tree *tr, const struct dump_task *t)
{
	size_t i;

	if (!first_of_session(tr, t))
		return 0;
	for (i = 0; i < tr->nr; i++)
		if (tr->t[i]->stat.session == t->stat.session && first_of_session(tr, tr->t[i]) &&
		    tr->t[i]->ppid != t->ppid) {
			pr_err("session %d (its leader exited) has first members under %d and %d: "
			       "not supported yet", t->stat.session, t->ppid, tr->t[i]->ppid);
			return -1;
		}
	return 0;
}

/* The session of @t is one the restore can give it. */
static int check_sid(const struct dump_tree *tr, const struct dump_task *t)
{
	const struct dump_task *root = tr->t[0], *parent;
	pid_t sid = t->stat.session;

	if (sid == t->pid)
		return 0;
	if (t == root) {
		if (tr->o->shell_job)
			return 0;
		pr_err("%d is in session %d it does not lead: a shell job, needs --shell-job",
		       t->pid, sid);
		return -1;
	}
	if (!dump_tree_find(tr, sid) && !(tr->o->shell_job && sid == root->stat.session)) {
		if (!pid_alive(sid) && sid != root->stat.session)
			return check_exited_session(tr, t);
		pr_err("session %d of %d: its leader is outside the dumped tree; only sessions "
		       "led inside the tree (or, with --shell-job, the root's) are supported",
		       sid, t->pid);
		return -1;
	}
	parent = dump_tree_find(tr, t->ppid);
	if (!parent || parent->stat.session != sid) {
		pr_err("%d is in session %d but its parent %d is in session %d: "
		       "not supported yet", t->pid, sid, t->ppid, parent ? parent->stat.session : 0);
		return -1;
	}
	return 0;
}

/* The process group of @t is one the restore can give it. */
static int check_pgid(const struct dump_tree *tr, const struct dump_task *t)
{
	const struct dump_task *root = tr->t[0], *leader;
	pid_t pgid = t->stat.pgrp;

	if (pgid == t->pid)
		return 0;
	if (tr->o->shell_job && pgid == root->stat.pgrp && root->stat.pgrp != root->pid)
		return 0;	/* the root's group outside the tree: criu's on restore */
	if (t == root) {
		pr_err("process group %d of %d is led by another process: a shell job, "
		       "needs --shell-job", pgid, t->pid);
		return -1;
	}
	leader = dump_tree_find(tr, pgid);
	if (leader) {
		if (leader->stat.pgrp != pgid || leader->stat.session != t->stat.session) {
			pr_err("process group %d of %d: process %d left the group it made: "
			       "not supported yet", pgid, t->pid, pgid);
			return -1;
		}
		return 0;
	}
	if (pid_alive(pgid)) {
		pr_err("process group %d of %d is led by %d outside the dumped tree: "
		       "dump the tree that holds it", pgid, t->pid, pgid);
		return -1;
	}
	if (pgid == t->stat.session) {
		size_t i;

		/* the session helper makes the group: a first member must hold it */
		for (i = 0; i < tr->nr; i++)
			if (tr->t[i]->stat.session == pgid && tr->t[i]->stat.pgrp == pgid &&
			    first_of_session(tr, tr->t[i]))
				return 0;
		pr_err("process group %d of %d: its leader, the session leader, has exited and "
		       "no first member of the session is in it: not supported yet", pgid, t->pid);
		return -1;
	}
	{
		size_t i;

		for (i = 0; tr->t[i]->stat.pgrp != pgid; i++)
			;
		if (first_of_session(tr, tr->t[i]) && !dump_tree_find(tr, t->stat.session)) {
			pr_err("process group %d (leader exited) begins with %d, a first member of "
			       "session %d (leader exited): not supported yet", pgid, tr->t[i]->pid,
			       t->stat.session);
			return -1;
		}
	}
	pr_info("process group %d of %d: leader exited, restored with a helper", pgid, t->pid);
	return 0;
}

int dump_tree_check_ids(const struct dump_tree *tr)
{
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		const struct dump_task *t = tr->t[i];

		/* a pts: the pty kind checks that its pair is in the dump */
		if (!tr->o->shell_job && t->stat.tty_nr && !tty_nr_is_pts(t->stat.tty_nr) &&
		    !t->zombie) {
			pr_err("%d has a controlling terminal: a shell job, needs --shell-job", t->pid);
			return -1;
		}
		if (check_sid(tr, t) || check_pgid(tr, t))
			return -1;
	}
	return 0;
}

/* ---- the end: detach, kill or stop every task ---------------------------- */

int dump_tree_detach(struct dump_tree *tr)
{
	int ret = 0;
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		struct dump_task *t = tr->t[i];

		if (!t->seized)
			continue;
		if (compel_detach_task(t->tids, t->nr_tids)) {
			pr_err("can't detach from %d", t->pid);
			ret = -1;
		}
		t->seized = false;
	}
	return ret;
}

int dump_tree_stop(struct dump_tree *tr)
{
	size_t i;

	int ret = 0;

	/* Every task is let go even if one cannot be stopped: none stays traced. */
	for (i = 0; i < tr->nr; i++)
		if (tr->t[i]->seized && kill(tr->t[i]->pid, SIGSTOP)) {
			pr_perror("can't stop %d", tr->t[i]->pid);
			ret = -1;
		}
	return dump_tree_detach(tr) ? -1 : ret;
}

/* /proc/PID/stat says the task is gone or a zombie (or the pid was reused). */
static bool task_gone(pid_t pid, uint64_t start_time)
{
	struct proc_stat st;
	int r = proc_read_stat_or_gone(pid, &st);

	if (r)
		return r > 0;
	return st.state == 'Z' || st.state == 'X' || st.start_time != start_time;
}

/*
 * Once the images are committed the tree is as good as dead: if criu dies
 * now, during the kill below or before it, the kernel SIGKILLs every
 * thread it traces. Each thread is in a ptrace stop here (frozen since
 * the seize), where options can be changed; the seize's options stay. A
 * thread that refuses is only warned about: the kill follows at once.
 */
void dump_tree_exitkill(struct dump_tree *tr)
{
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
	size_t i;
	int k;

	for (i = 0; i < tr->nr; i++) {
		struct dump_task *t = tr->t[i];

		for (k = 0; t->seized && k < t->nr_tids; k++)
			if (ptrace(PTRACE_SETOPTIONS, t->tids[k], NULL, (void *)opts))
				pr_pwarn("can't set PTRACE_O_EXITKILL on %d (the kill goes on)",
					 t->tids[k]);
	}
}

int dump_tree_kill(struct dump_tree *tr)
{
	unsigned int timeout = tr->o->timeout ? tr->o->timeout : DEFAULT_TIMEOUT;
	uint64_t until = dump_now_us() + timeout * 1000000ull;
	int status, ret = 0;
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if (tr->t[i]->seized && kill(tr->t[i]->pid, SIGKILL)) {
			pr_perror("can't kill %d", tr->t[i]->pid);
			ret = -1;
		} else if (tr->t[i]->seized) {
			dump_fault_die(tr->o, "during-kill");
		}
	/*
	 * We are the tracer of every thread: collect each exit, the other
	 * threads' first (a leader's is held back until they are gone), so
	 * that each parent can reap its child. Children first: the init of a
	 * pid namespace does not end before every other process in it has.
	 */
	for (i = tr->nr; i-- > 0;) {
		struct dump_task *t = tr->t[i];
		int k;

		for (k = t->seized ? t->nr_tids - 1 : -1; k >= 0; k--)
			while (waitpid(t->tids[k], &status, __WALL) == t->tids[k] &&
			       !WIFEXITED(status) && !WIFSIGNALED(status))
				;
		t->seized = false;
	}
	for (i = 0; i < tr->nr; i++) {
		const struct dump_task *t = tr->t[i];

		while (!t->zombie && !task_gone(t->pid, t->stat.start_time)) {
			if (dump_now_us() > until) {
				pr_err("%d did not die within %u s of SIGKILL", t->pid, timeout);
				return -1;
			}
			usleep(1000);
		}
	}
	return ret;
}
