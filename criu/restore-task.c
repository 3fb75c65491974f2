/*
 * Restore, step 3: runs in the new task (a fork of criu with the dumped
 * pid) and turns it into the dumped process, up to the jump into the
 * restorer blob, which finishes the job (criu/pie/restorer.c).
 *
 * Nothing here logs through criu's log: the task's descriptors are being
 * replaced. Messages go to the status pipe as lines: "E<text>" (fatal,
 * the task exits), "W<text>" (warning); the restorer ends with "R" when
 * the task is about to resume. The parent logs them.
 *
 * Memory staging: every private vma is mapped at a temporary address inside
 * one reservation that is free both in criu's layout and in the target's,
 * filled from pages-PID.img with preadv(), and moved into place by the
 * restorer once criu's own mappings are gone. The restorer code, its
 * arguments, stack, the xsave image and the signal frame live at the start
 * of the same reservation.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "compiler.h"
#include "kerndat.h"
#include "kernel-compat.h"
#include "proc_parse.h"
#include "restore.h"
#include "sched-state.h"
#include "vma.h"
#include "tty.h"
#include "parasite-proto.h"
#include "restorer-args.h"
#include "restorer-blob.h"

#define PAGE		4096ULL
#define MARGIN		(16ULL << 20)	/* kept free around the reservation */
#define LOW_LIMIT	(1ULL << 32)	/* never stage below 4 GiB */
#ifndef SS_AUTODISARM
# define SS_AUTODISARM	(1U << 31)	/* 4.7 */
#endif

static int status_fd = -1;
/* This task's files while it forks its children: what they inherit. */
static const struct rst_files *inherited_files;

static void say(char kind, const char *fmt, va_list ap)
{
	char buf[512];
	int n;

	int p;

	buf[0] = kind;
	p = snprintf(buf + 1, 32, "%d: ", getpid());
	n = p + vsnprintf(buf + 1 + p, sizeof(buf) - 2 - (size_t)p, fmt, ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	buf[n + 1] = '\n';
	if (write(status_fd, buf, (size_t)n + 2) < 0)
		return;	/* the parent is gone: nothing to tell */
}

static __printf(1, 2) __noreturn void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say('E', fmt, ap);
	va_end(ap);
	_exit(1);
}

static __printf(1, 2) void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say('W', fmt, ap);
	va_end(ap);
}

static bool staged(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_FILE_PRIVATE ||
	       v->kind == VMA_KIND__VMA_SHMEM_PRIVATE;
}

/* Mapped by the restorer from a descriptor: shared files and shmem objects. */
static bool mapped_from_fd(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_FILE_SHARED || v->kind == VMA_KIND__VMA_ANON_SHARED;
}

static bool special(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_VDSO || v->kind == VMA_KIND__VMA_VVAR ||
	       v->kind == VMA_KIND__VMA_VVAR_VCLOCK;
}

/* ---- process state ----------------------------------------------------- */

static int comm_set(const char *comm)
{
	char buf[16];

	strncpy(buf, comm, sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	return prctl(PR_SET_NAME, buf, 0, 0, 0);
}

static void restore_rlimits(const TaskCoreEntry *c)
{
	size_t i;

	for (i = 0; i < c->n_rlimits; i++) {
		const RlimitEntry *rl = c->rlimits[i];
		struct rlimit cur, want = { (rlim_t)rl->cur, (rlim_t)rl->max };

		if (getrlimit((int)rl->resource, &cur))
			continue;
		if (cur.rlim_cur == want.rlim_cur && cur.rlim_max == want.rlim_max)
			continue;
		if (!setrlimit((int)rl->resource, &want))
			continue;
		/* e.g. a hard limit above ours, without CAP_SYS_RESOURCE: exact or refused */
		die("rlimit %u: cannot set %llu/%llu (criu's is %llu/%llu): %s", rl->resource,
		    (unsigned long long)rl->cur, (unsigned long long)rl->max,
		    (unsigned long long)cur.rlim_cur, (unsigned long long)cur.rlim_max,
		    strerror(errno));
	}
}

/* Write @text whole into /proc/self/@name: 0, or -1 with errno. */
static int write_self(const char *name, const char *text)
{
	char path[64];
	int fd, n = (int)strlen(text), ret = 0;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)n) != n)
		ret = -1;
	close(fd);
	return ret;
}

/*
 * A task dumped outside any audit session leaves criu's, inherited by the
 * fork, for none (CAP_AUDIT_CONTROL, while criu's privileges last). Any
 * other case is criu's own session (rst_tree_read checked).
 */
static void leave_audit_session(const struct rst_tree *tr, const TaskCoreEntry *c)
{
	char unset[16];

	if (!c->has_loginuid || c->loginuid != PROC_AUDIT_UNSET || !tr->criu_audit.present ||
	    tr->criu_audit.loginuid == PROC_AUDIT_UNSET)
		return;
	snprintf(unset, sizeof(unset), "%u", PROC_AUDIT_UNSET);
	if (write_self("loginuid", unset))
		die("cannot leave criu's audit session %u (login uid %u) for none: %s",
		    tr->criu_audit.sessionid, tr->criu_audit.loginuid, strerror(errno));
}

/*
 * The time namespace the task had made for its children (and none had
 * entered): made the same way, after this task's children are forked (they
 * were in this task's own), with the same offsets, settable only now.
 */
static void restore_timens(const TaskCoreEntry *c)
{
	const TimensEntry *tn = c->timens_for_children;
	char text[96];

	if (!tn)
		return;
	if (unshare(CLONE_NEWTIME))
		die("unshare(CLONE_NEWTIME) for the children's time namespace: %s", strerror(errno));
	snprintf(text, sizeof(text), "monotonic %lld %u\nboottime %lld %u\n",
		 (long long)tn->monotonic_sec, tn->monotonic_nsec, (long long)tn->boottime_sec,
		 tn->boottime_nsec);
	if (write_self("timens_offsets", text))
		die("cannot set the offsets of the children's time namespace (%s): %s", text,
		    strerror(errno));
}

/*
 * membarrier(2) registrations belong to the mm and a fork passes them on:
 * made after this task's children are forked, each registers its own.
 */
static void restore_membarrier(const TaskCoreEntry *c)
{
	unsigned int bit;

	for (bit = 0; c->has_membarrier && bit < 32; bit++)
		if ((c->membarrier & (1U << bit)) && syscall(SYS_membarrier, 1U << bit, 0, 0))
			die("membarrier registration %#x: %s", 1U << bit, strerror(errno));
}

static void restore_misc(const struct rst_image *ri, const struct rst_files *f)
{
	const TaskCoreEntry *c = ri->core;

	umask((mode_t)(c->umask & 0777));
	if (comm_set(ri->thread->comm ? ri->thread->comm : c->comm))
		die("PR_SET_NAME: %s", strerror(errno));
	if (f->cwd_fd >= 0 && fchdir(f->cwd_fd))
		die("cannot change to the dumped cwd: %s", strerror(errno));
	restore_rlimits(c);
	if (c->has_sched_policy && c->sched_policy != SCHED_OTHER) {
		struct sched_param sp = { .sched_priority = (int)c->sched_prio };

		if (sched_setscheduler(0, (int)c->sched_policy, &sp))
			die("scheduler policy %u prio %u: %s", c->sched_policy, c->sched_prio,
			     strerror(errno));
	}
	if (c->has_nice && setpriority(PRIO_PROCESS, 0, c->nice))
		die("nice %d: %s", c->nice, strerror(errno));
	if (c->has_oom_score_adj) {
		char buf[16];

		snprintf(buf, sizeof(buf), "%d", c->oom_score_adj);
		if (write_self("oom_score_adj", buf))
			die("oom_score_adj %d: %s", c->oom_score_adj, strerror(errno));
	}
	if (c->has_child_subreaper && prctl(PR_SET_CHILD_SUBREAPER, c->child_subreaper, 0, 0, 0))
		die("child subreaper: %s", strerror(errno));
	if (ri->mm->has_thp_disabled && prctl(PR_SET_THP_DISABLE, ri->mm->thp_disabled, 0, 0, 0))
		die("THP disable: %s", strerror(errno));
	if (c->has_dumpable && prctl(PR_SET_DUMPABLE, c->dumpable, 0, 0, 0))
		die("dumpable %u: %s", c->dumpable, strerror(errno));
	restore_membarrier(c);
	restore_timens(c);
}

/* ---- core dumps, autogroup, root (sched-state.h) ------------------------ */

/*
 * coredump_filter belongs to the mm: set after the children are forked.
 * The autogroup is the session's, made by its setsid(): every process of
 * the session writes the same nice value into it, except those that stay
 * in criu's session (a shell job's: checked equal to criu's).
 */
static void restore_sched(const struct rst_tree *tr, size_t idx, const TaskCoreEntry *c)
{
	char text[32];

	if (c->has_coredump_filter) {
		snprintf(text, sizeof(text), "%#x", c->coredump_filter);
		if (write_self("coredump_filter", text))
			die("cannot write '%s' to /proc/self/coredump_filter: %s", text,
			    strerror(errno));
	}
	if (c->has_autogroup_nice && c->autogroup_nice &&
	    !(tr->shell_job && tr->ps[idx]->sid == tr->ps[0]->sid)) {
		snprintf(text, sizeof(text), "%d", c->autogroup_nice);
		if (write_self("autogroup", text))
			die("cannot write '%s' to /proc/self/autogroup: %s", text, strerror(errno));
	}
}

/*
 * Another root (chroot): entered last among the steps that use paths, as
 * criu sees them; the cwd is set again from its descriptor.
 */
static void enter_root(struct rst_files *f)
{
	if (f->root_fd < 0)
		return;
	if (fchdir(f->root_fd) || chroot(".") ||
	    (f->cwd_fd >= 0 && fchdir(f->cwd_fd)))
		die("cannot enter the dumped root: %s", strerror(errno));
	close(f->root_fd);
	f->root_fd = -1;
}

/*
 * Sessions and groups, first part, right after the fork and before this
 * task forks its own children (they inherit both): setsid for a session
 * leader, setpgid(0, 0) for a group leader. Joining another group waits
 * until the children are forked (join_group): its leader may be one of them.
 */
static void start_session(const struct rst_tree *tr, size_t idx, const struct cr_options *o)
{
	const PstreeEntry *e = tr->ps[idx];
	pid_t pid = (pid_t)e->pid;

	if (idx == 0 && o->shell_job)
		return;		/* stays in criu's session and process group */
	if (e->sid == (uint32_t)pid) {
		if (setsid() < 0)
			die("setsid: %s", strerror(errno));
	} else if (idx == 0) {
		die("the task was in session %u, which is not its own: restore it with --shell-job",
		    e->sid);
	}
	if (e->pgid == (uint32_t)pid && getpgid(0) != pid && setpgid(0, 0))
		die("setpgid: %s", strerror(errno));
}

/*
 * A session leader whose controlling terminal was a pty of the dump takes
 * it once the pair's descriptors are there and before it forks: only the
 * children forked after it share it (criu/include/tty.h).
 */
static void take_ctty(const struct rst_tree *tr, size_t idx, const struct rst_image *ri,
		      const struct rst_files *f)
{
	char why[256];

	if ((idx == 0 && tr->shell_job) || tr->ps[idx]->sid != tr->ps[idx]->pid)
		return;
	if (rst_pty_set_ctty(&ri->fdr, f->obj_fd, ri->pid, why, sizeof(why)))
		die("%s", why);
}

/* In its final group: the foreground of its session's pty if it was. */
static void take_fg(const struct rst_tree *tr, size_t idx, const struct rst_image *ri,
		    const struct rst_files *f)
{
	char why[256];

	if (idx == 0 && tr->shell_job)
		return;
	if (tr->sharer[idx] && tr->ps[idx]->pgid != tr->ps[idx]->pid)
		return;	/* its parent's group: the parent made it the foreground if it was */
	if (rst_pty_set_fg(&ri->fdr, f->obj_fd, getsid(0), getpgid(0), why, sizeof(why)))
		die("%s", why);
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
static void join_group(const struct rst_tree *tr, size_t idx)
{
	pid_t pgid = target_pgid(tr, idx);
	int i;

	if (idx == 0 && tr->shell_job)
		return;
	for (i = 0; getpgid(0) != pgid; i++) {
		if (!setpgid(0, pgid))
			break;
		if (errno != EPERM || i == 20000)
			die("cannot join process group %d: %s", pgid, strerror(errno));
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
	die("cannot take the zombie's ids (uid %u, gid %u): %s", cr->uid[0], cr->gid[0],
	    strerror(errno));
}

/*
 * A zombie comes back as one: it ends the way the dumped one did and its
 * parent, which is being restored, never reaps it. No core dump for a
 * signal that would make one (the image has no core flag: checked).
 */
static __noreturn void become_zombie(const struct rst_image *ri)
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
	die("signal %d did not end the zombie", sig);
}

/*
 * CRIU_FAULT=restore-last-task: the last process of pstree.img fails, while
 * the others are at any point of their restore (tests the undo).
 */
static void fault_point(const struct rst_tree *tr, size_t idx)
{
	const char *f = getenv("CRIU_FAULT");

	if (f && !strcmp(f, "restore-last-task") && idx == tr->nr - 1)
		die("fault injected at restore-last-task");
}

/* A stand-in for an exited group leader: make the group and end (its parent reaps). */
static __noreturn void helper_main(void)
{
	if (setpgid(0, 0))
		die("helper: setpgid: %s", strerror(errno));
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
	pid_t pid = rst_fork_pid_as((pid_t)e->pid, 0, task_exit_signal(e));

	if (pid < 0)
		die("cannot create process %u", tr->ps[k]->pid);
	if (pid == 0)
		rst_task_main(tr, k, o, status_fd, go_fd);
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
		die("session helper %d: %s", sid, strerror(errno));
	for (k = 0; k < tr->nr; k++)
		if (tr->sess_helper[k] == sid)
			fork_task(tr, k, o, go_fd);
	_exit(0);
}

/*
 * The session helper's children: wait until it has exited and handed us
 * to our parent (the dumped one), before anything else.
 */
static void wait_adopted(pid_t helper)
{
	int i;

	for (i = 0; getppid() == helper; i++) {
		if (i == 20000)
			die("session helper %d did not exit", helper);
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
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	h = rst_fork_pid(sid);
	if (h < 0)
		die("cannot create the helper for session %d", sid);
	if (h == 0)
		session_helper_main(tr, sid, o, go_fd);
	if (waitpid(h, NULL, 0) != h)
		die("cannot reap the session helper %d: %s", h, strerror(errno));
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
			h = rst_fork_pid(tr->helper[k]);
			if (h < 0)
				die("cannot create the helper for group %d", tr->helper[k]);
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
			die("cannot put %d into group %d: %s", c, h, strerror(errno));
		}
		if (h && waitpid(h, NULL, 0) != h)
			die("cannot reap the helper %d: %s", h, strerror(errno));
	}
	/* restore_misc() sets the dumped value; until then, not one of ours */
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

/* ---- descriptors --------------------------------------------------------- */

/*
 * The descriptors a process sharing our table needs, as pointers: its
 * files @f (exe, cwd, root, file vmas) and its pages image (inherited from
 * criu like ours). At most n_vmas + 4.
 */
static size_t sharer_fds(struct rst_image *ri, struct rst_files *f, int **out)
{
	size_t n = 0, i;

	if (ri->pages_fd >= 0)
		out[n++] = &ri->pages_fd;
	for (i = 0; i < ri->mm->n_vmas; i++)
		if (f->vma_fd[i] >= 0)
			out[n++] = &f->vma_fd[i];
	if (f->exe_fd >= 0)
		out[n++] = &f->exe_fd;
	if (f->cwd_fd >= 0)
		out[n++] = &f->cwd_fd;
	if (f->root_fd >= 0)
		out[n++] = &f->root_fd;
	return n;
}

/*
 * Put every target descriptor at its number and run the kinds' post steps
 * (restore-fds.c). Helpers (the status pipe, the exe, shared file vmas, our
 * cwd and root until we enter them, the files opened for the children
 * sharing our table) end up above every target number; the restorer closes
 * ours. Anything else inherited from criu is closed.
 */
static void restore_fds(struct rst_tree *tr, size_t idx, struct rst_files *f, int *helpers,
			int nr_helpers)
{
	struct rst_image *ri = &tr->ri[idx];
	size_t n = (size_t)nr_helpers + 3, k, i, j, mine;
	int **theirs, *keep, ret;
	char why[512];

	for (k = idx + 1; k < tr->nr; k++)
		if (tr->sharer[k] && tr->ps[k]->ppid == (uint32_t)ri->pid)
			n += tr->ri[k].mm->n_vmas + 4;
	keep = malloc(n * sizeof(*keep));
	theirs = malloc(n * sizeof(*theirs));
	if (!keep || !theirs)
		die("out of memory");
	keep[0] = status_fd;
	for (i = 0; i < (size_t)nr_helpers; i++)
		keep[i + 1] = helpers[i];
	n = (size_t)nr_helpers + 1;
	j = 0;
	if (f->cwd_fd >= 0)
		theirs[j++] = &f->cwd_fd;
	if (f->root_fd >= 0)
		theirs[j++] = &f->root_fd;
	mine = j;
	for (k = idx + 1; k < tr->nr; k++)
		if (tr->sharer[k] && tr->ps[k]->ppid == (uint32_t)ri->pid)
			j += sharer_fds(&tr->ri[k], &tr->sharer_files[k], theirs + j);
	for (i = 0; i < j; i++)
		keep[n + i] = *theirs[i];
	if (tr->sharer[idx])
		ret = rst_fds_keep_above(&tr->ri[rst_tree_find(tr, (pid_t)ri->pstree->ppid)], keep,
					 (int)(n + mine), why, sizeof(why));
	else
		ret = rst_fds_install(ri, f, keep, (int)(n + j), why, sizeof(why));
	status_fd = keep[0];
	if (ret)
		die("%s", why);
	for (i = 0; i < (size_t)nr_helpers; i++)
		helpers[i] = keep[i + 1];
	for (i = 0; i < j; i++)
		*theirs[i] = keep[n + i];
	free(keep);
	free(theirs);
}

/*
 * The children sharing our descriptor table, now that its fds are in
 * place: forked with CLONE_FILES, each with its own copies of the status
 * and go pipes (ours are closed by our restorer) above every fd number.
 */
static void fork_sharers(struct rst_tree *tr, size_t idx, const struct cr_options *o, int go_fd)
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
		sfd = fcntl(status_fd, F_DUPFD_CLOEXEC, floor);
		gfd = fcntl(go_fd, F_DUPFD_CLOEXEC, floor);
		if (sfd < 0 || gfd < 0)
			die("cannot copy the status and go pipes for %u: %s", tr->ps[k]->pid,
			    strerror(errno));
		pid = rst_fork_pid_as((pid_t)tr->ps[k]->pid, CLONE_FILES, task_exit_signal(tr->ps[k]));
		if (pid < 0)
			die("cannot create process %u", tr->ps[k]->pid);
		if (pid == 0)
			rst_task_main(tr, k, o, sfd, gfd);
	}
}

/* Open the files of the children sharing our table, while ours are opened. */
static void open_sharer_files(struct rst_tree *tr, size_t idx, const struct cr_options *o)
{
	size_t k;

	for (k = idx + 1; k < tr->nr; k++) {
		struct rst_image *ri = &tr->ri[k];

		if (!tr->sharer[k] || tr->ps[k]->ppid != tr->ps[idx]->pid)
			continue;
		if (rst_files_open(ri, o, &tr->sharer_files[k], NULL, tr->opener, k) ||
		    rst_shmem_vma_fds(&tr->shm, ri->mm, tr->sharer_files[k].vma_fd))
			die("cannot open the files of %d (see the log)", ri->pid);
	}
}

/* ---- memory ---------------------------------------------------------------- */

struct range {
	uint64_t start, end;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Highest address range of @len bytes, with margins, free in criu's layout
 * (as this task has it: its parent's staging included) and in the target
 * layout of every process of the tree: a child forked after its parent
 * staged could then keep the parent's staged areas where they are.
 */
static uint64_t find_gap(const struct rst_tree *tr, const struct proc_vmas *self, uint64_t len)
{
	size_t n = 0, i, m = 0;
	struct range *r = calloc(self->nr + tr->targets.nr + 1, sizeof(*r));
	uint64_t top = RST_TASK_SIZE - MARGIN, hi;

	if (!r)
		die("out of memory");
	for (i = 0; i < self->nr; i++)
		if (self->v[i].kind != PROC_VMA_VSYSCALL)
			r[n++] = (struct range){ self->v[i].start, self->v[i].end };
	for (i = 0; i < tr->targets.nr; i++)
		r[n++] = (struct range){ tr->targets.r[i][0], tr->targets.r[i][1] };
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 0; i < n; i++) {		/* merge overlapping and touching ranges */
		if (m && r[i].start <= r[m - 1].end) {
			r[m - 1].end = max(r[m - 1].end, r[i].end);
			continue;
		}
		r[m++] = r[i];
	}
	/* Walk down from the top: the gap below range i is [end_{i-1}, start_i). */
	hi = top;
	for (i = m + 1; i-- > 0;) {
		uint64_t lo = i ? r[i - 1].end : LOW_LIMIT, h = i < m ? min(r[i].start, hi) : hi;

		lo = max(lo, (uint64_t)LOW_LIMIT);
		if (h > lo && h - lo >= len + 2 * MARGIN) {
			free(r);
			return round_down(h - MARGIN - len, PAGE);
		}
		if (i && r[i - 1].end <= LOW_LIMIT)
			break;
	}
	free(r);
	return 0;
}

struct staging {
	uint64_t start, len;		/* the whole reservation */
	uint64_t region_len;		/* restorer code, args, stacks... at start */
	uint64_t scratch, scratch_len;
	uint64_t args_off, vmas_off, threads_off;
	uint64_t per_thread_off, per_thread;	/* xsave image and frame of thread i */
	uint64_t pending_off;		/* struct rst_pending[], see restorer_args */
	uint64_t stacks_off;		/* the leader's stack, then the others' */
	uint64_t *tmp;			/* per vma: staged address, 0 if none */
};

static void stage_layout(const struct rst_image *ri, struct staging *st, uint64_t specials_len)
{
	uint64_t off = round_up((uint64_t)restorer_blob.mem_size, PAGE), xs_max = 0;
	uint64_t pending = ri->core->n_shared_pending;
	size_t i;

	for (i = 0; i < ri->nr_threads; i++) {
		xs_max = max(xs_max, (uint64_t)ri->threads[i]->xsave.len);
		pending += ri->threads[i]->n_pending;
	}
	st->args_off = off;
	off = round_up(off + sizeof(struct restorer_args), 64);
	st->vmas_off = off;
	off = round_up(off + ri->mm->n_vmas * sizeof(struct rst_vma), 64);
	st->threads_off = off;
	off = round_up(off + ri->nr_threads * sizeof(struct rst_thread), 64);
	st->per_thread_off = off;
	st->per_thread = round_up(xs_max + 64, 64) + 4096;
	off = round_up(off + ri->nr_threads * st->per_thread, 64);
	st->pending_off = off;
	off = round_up(off + pending * sizeof(struct rst_pending), PAGE);
	st->stacks_off = off;
	off += RST_STACK_SIZE + (ri->nr_threads - 1) * (uint64_t)RST_THREAD_STACK_SIZE;
	st->region_len = off;
	st->scratch = off;
	st->scratch_len = specials_len;
	off += specials_len + PAGE;
	st->tmp = calloc(ri->mm->n_vmas + 1, sizeof(*st->tmp));
	if (!st->tmp)
		die("out of memory");
	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];

		if (!staged(v))
			continue;
		st->tmp[i] = off;	/* relative for now */
		off += v->end - v->start + PAGE;	/* a guard page between areas */
	}
	st->len = off;
}

static void fill_pages(const struct rst_image *ri, const struct staging *st)
{
	struct iovec iov[IOV_MAX];
	size_t i = 0;

	while (i < ri->nr_runs) {
		uint64_t off = ri->runs[i].file_off, want = 0;
		int n = 0;
		ssize_t got;

		/* one read per stretch of the file (an imported one has gaps) */
		for (; i < ri->nr_runs && n < IOV_MAX && ri->runs[i].file_off == off + want; i++, n++) {
			const struct rst_pages *p = &ri->runs[i];
			const VmaEntry *v = ri->mm->vmas[p->vma];

			iov[n].iov_base = (void *)(unsigned long)(st->tmp[p->vma] + (p->vaddr - v->start));
			iov[n].iov_len = p->nr_pages * PAGE;
			want += iov[n].iov_len;
		}
		while (want) {
			int k = 0;

			got = preadv(ri->pages_fd, iov, n, (off_t)off);
			if (got <= 0)
				die("pages-%d.img: read at offset %llu: %s", ri->pid,
				    (unsigned long long)off, got ? strerror(errno) : "unexpected end of file");
			off += (uint64_t)got;
			want -= (uint64_t)got;
			/* skip what was read */
			while (k < n && (size_t)got >= iov[k].iov_len)
				got -= (ssize_t)iov[k++].iov_len;
			if (k < n) {
				iov[k].iov_base = (char *)iov[k].iov_base + got;
				iov[k].iov_len -= (size_t)got;
			}
			memmove(iov, iov + k, (size_t)(n - k) * sizeof(*iov));
			n -= k;
		}
	}
}

/*
 * Per-vma advice and anonymous names, set on the staged copy: they live in
 * the vma and move with it. Only advice that is a lasting property of the
 * mapping is replayed; one-shot or destructive advice (DONTNEED, FREE,
 * REMOVE...) never is.
 */
#define STICKY_MADV	((1ULL << MADV_RANDOM) | (1ULL << MADV_SEQUENTIAL) | \
			 (1ULL << MADV_DONTFORK) | (1ULL << MADV_DOFORK) | \
			 (1ULL << MADV_MERGEABLE) | (1ULL << MADV_UNMERGEABLE) | \
			 (1ULL << MADV_HUGEPAGE) | (1ULL << MADV_NOHUGEPAGE) | \
			 (1ULL << MADV_DONTDUMP) | (1ULL << MADV_DODUMP) | \
			 (1ULL << MADV_WIPEONFORK) | (1ULL << MADV_KEEPONFORK))
#ifndef PR_SET_VMA
# define PR_SET_VMA		0x53564d41	/* 5.17 */
# define PR_SET_VMA_ANON_NAME	0
#endif

static void stage_vma_attrs(const struct rst_image *ri, const struct staging *st)
{
	size_t i;
	int adv;

	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		void *at = (void *)(unsigned long)st->tmp[i];
		size_t len = v->end - v->start;

		if (!staged(v))
			continue;
		if (v->has_madv && (v->madv & ~STICKY_MADV))
			warn("vma [%#llx, %#llx): advice bits %#llx are not replayed",
			     (unsigned long long)v->start, (unsigned long long)v->end,
			     (unsigned long long)(v->madv & ~STICKY_MADV));
		for (adv = 0; v->has_madv && adv < 64; adv++)
			if ((v->madv & STICKY_MADV & (1ULL << adv)) && madvise(at, len, adv))
				warn("vma [%#llx, %#llx): madvise %d: %s", (unsigned long long)v->start,
				     (unsigned long long)v->end, adv, strerror(errno));
		if (v->locked && mlock2(at, len, v->lock_on_fault ? MLOCK_ONFAULT : 0))
			die("vma [%#llx, %#llx): mlock: %s", (unsigned long long)v->start,
			    (unsigned long long)v->end, strerror(errno));
		if (v->name && v->kind == VMA_KIND__VMA_ANON_PRIVATE &&
		    prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)at, len, v->name))
			warn("vma [%#llx, %#llx): cannot name it '%.80s': %s", (unsigned long long)v->start,
			     (unsigned long long)v->end, v->name, strerror(errno));
	}
}

/*
 * An inherited vma: take over the parent's staged copy (moved, so the pages
 * stay shared with the parent), then drop every page that is not one of
 * the shared runs: what this process has of its own is read in after, the
 * rest is zero (anonymous) or the file's again (private file mapping).
 */
static void *take_over(const struct rst_image *ri, const struct rst_image *parent, size_t i,
		       uint64_t to, size_t *k)
{
	const VmaEntry *v = ri->mm->vmas[i];
	uint64_t from = parent->staged[ri->inherit[i]], pos = v->start, len = v->end - v->start;
	void *p = mremap((void *)(unsigned long)from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			 (void *)(unsigned long)to);

	if (p == MAP_FAILED)
		die("cannot take over the parent's vma [%#llx, %#llx) staged at %#llx: %s",
		    (unsigned long long)v->start, (unsigned long long)v->end,
		    (unsigned long long)from, strerror(errno));
	/* The runs are in address order: @k walks them once over all vmas. */
	while (*k < ri->nr_cow && ri->cow[*k].vma < i)
		(*k)++;
	for (;; (*k)++) {
		const struct rst_pages *c = *k < ri->nr_cow && ri->cow[*k].vma == i ? &ri->cow[*k] : NULL;
		uint64_t end = c ? c->vaddr : v->end;

		if (end > pos && madvise((char *)p + (pos - v->start), end - pos, MADV_DONTNEED))
			die("madvise DONTNEED in [%#llx, %#llx): %s", (unsigned long long)pos,
			    (unsigned long long)end, strerror(errno));
		if (!c)
			break;
		pos = c->vaddr + c->nr_pages * PAGE;
	}
	return p;
}

/* mmap flags of @v's staged copy: its type (private or droppable), growsdown, noreserve. */
static int stage_flags(const VmaEntry *v)
{
	int type = (v->flags & MAP_TYPE) == MAP_DROPPABLE ? MAP_DROPPABLE : MAP_PRIVATE;

	return type | MAP_FIXED | (int)(v->flags & (MAP_GROWSDOWN | MAP_NORESERVE));
}

/*
 * The staged copy's protection. Writable while pages are read in, or when
 * the vma was charged to the commit limit (VmFlags "ac": it was writable
 * once, mprotect to the final prot keeps the charge). Not otherwise: a big
 * reservation never written (PROT_NONE heaps of a JVM...) must not be
 * charged as writable memory it never was.
 */
static int stage_prot(const VmaEntry *v, bool filled)
{
	if (filled || (v->has_accounted && v->accounted))
		return PROT_READ | PROT_WRITE;
	return (int)v->prot;
}

static void stage_memory(const struct rst_image *ri, const struct rst_image *parent,
			 const struct rst_files *f, struct staging *st)
{
	size_t i, cow_k = 0;	/* cursor over ri->cow for take_over() */

	bool *filled = calloc(ri->mm->n_vmas + 1, sizeof(*filled));

	if (!filled)
		die("out of memory");
	for (i = 0; i < ri->nr_runs; i++)
		filled[ri->runs[i].vma] = true;
	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		int flags = stage_flags(v);
		int prot = stage_prot(v, filled[i]);
		void *p;

		if (!staged(v))
			continue;
		st->tmp[i] += st->start;
		if (ri->inherit && ri->inherit[i] >= 0) {
			p = take_over(ri, parent, i, st->tmp[i], &cow_k);
			if (mprotect(p, v->end - v->start, prot))
				die("mprotect of the inherited vma [%#llx, %#llx): %s",
				    (unsigned long long)v->start, (unsigned long long)v->end,
				    strerror(errno));
		} else if (v->kind == VMA_KIND__VMA_ANON_PRIVATE) {
			p = mmap((void *)(unsigned long)st->tmp[i], v->end - v->start,
				 prot, flags | MAP_ANONYMOUS, -1, 0);
		} else {
			p = mmap((void *)(unsigned long)st->tmp[i], v->end - v->start,
				 prot, flags, f->vma_fd[i], (off_t)v->pgoff);
		}
		if (p == MAP_FAILED)
			die("cannot stage vma [%#llx, %#llx): %s", (unsigned long long)v->start,
			    (unsigned long long)v->end, strerror(errno));
	}
	free(filled);
	fill_pages(ri, st);
	stage_vma_attrs(ri, st);
}

/* ---- the jump ------------------------------------------------------------- */

static const struct proc_vma *self_special(const struct proc_vmas *self, enum proc_vma_kind k)
{
	size_t i;

	for (i = 0; i < self->nr; i++)
		if (self->v[i].kind == k)
			return &self->v[i];
	return NULL;
}

static enum proc_vma_kind proc_kind(int vma_kind)
{
	switch (vma_kind) {
	case VMA_KIND__VMA_VDSO: return PROC_VMA_VDSO;
	case VMA_KIND__VMA_VVAR: return PROC_VMA_VVAR;
	default: return PROC_VMA_VVAR_VCLOCK;
	}
}

/*
 * Plan the moves of this kernel's vdso/vvar: each dumped special vma must
 * have a counterpart here of the same size, and their distances must be the
 * same (the vdso code finds its data relative to itself).
 */
static uint64_t plan_specials(const struct rst_image *ri, const struct proc_vmas *self,
			      struct restorer_args *a, struct range *keep, size_t *nr_keep)
{
	const struct proc_vma *base_here = NULL;
	const VmaEntry *base_there = NULL;
	uint64_t total = 0;
	size_t i, nr_there = 0, nr_here = 0;

	for (i = 0; i < self->nr; i++)
		if (self->v[i].kind == PROC_VMA_VDSO || self->v[i].kind == PROC_VMA_VVAR ||
		    self->v[i].kind == PROC_VMA_VVAR_VCLOCK)
			nr_here++;
	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		const struct proc_vma *h;
		struct rst_special *s;

		if (!special(v))
			continue;
		nr_there++;
		h = self_special(self, proc_kind(v->kind));
		if (!h || h->end - h->start != v->end - v->start)
			die("the dumped %s [%#llx, %#llx) has no counterpart of the same size on this kernel: vdso layouts differ",
			    v->kind == VMA_KIND__VMA_VDSO ? "[vdso]" : v->kind == VMA_KIND__VMA_VVAR ?
			    "[vvar]" : "[vvar_vclock]", (unsigned long long)v->start, (unsigned long long)v->end);
		if (!base_here) {
			base_here = h;
			base_there = v;
		} else if (h->start - base_here->start != v->start - base_there->start) {
			die("the vdso and vvar areas are laid out differently on this kernel");
		}
		if (a->nr_special >= RST_MAX_SPECIAL)
			die("too many vdso/vvar areas");
		s = &a->special[a->nr_special++];
		s->src = h->start;
		s->dst = v->start;
		s->len = v->end - v->start;
		s->scratch = total;	/* relative to the scratch area for now */
		total += s->len;
		keep[(*nr_keep)++] = (struct range){ h->start, h->end };
	}
	if (nr_there && nr_there != nr_here)
		die("the dump has %zu vdso/vvar areas, this kernel %zu: vdso layouts differ",
		    nr_there, nr_here);
	return total;
}

/*
 * The kernel finishes these calls through the thread's restart block, which
 * does not survive a checkpoint. A relative sleep is the common case, and
 * when the caller passed a buffer for the time left the kernel has already
 * written it there before stopping: issue the call again with that buffer
 * as the request, so the task sleeps what it had left. poll() always
 * stops this way; one without a timeout (negative) is simply issued again
 * with its arguments, still in their registers. Anything else returns
 * EINTR, as if a handled signal had arrived.
 */
static void restart_block(struct rst_regs *r, int64_t orig_ax)
{
	if (orig_ax == SYS_poll && (int32_t)r->dx < 0) {	/* (fds, nfds, timeout) */
		/* nothing to change: wait again, for ever */
	} else if (orig_ax == SYS_nanosleep && r->si) {		/* (req, rem) */
		r->di = r->si;
	} else if (orig_ax == SYS_clock_nanosleep && !(r->si & TIMER_ABSTIME) && r->r10) {
		r->dx = r->r10;					/* (clock, flags, req, rem) */
	} else {
		r->ax = (uint64_t)-EINTR;
		return;
	}
	r->ax = (uint64_t)orig_ax;
	r->ip -= 2;
}

static void adjust_for_restart(struct rst_regs *r, int64_t orig_ax)
{
	int64_t ax = (int64_t)r->ax;

	if (orig_ax < 0)
		return;
	if (ax == -512 || ax == -513 || ax == -514) {	/* ERESTARTSYS/NOINTR/NOHAND */
		r->ax = (uint64_t)orig_ax;
		r->ip -= 2;
	} else if (ax == -516) {			/* ERESTART_RESTARTBLOCK */
		restart_block(r, orig_ax);
	}
}

static void fill_thread(const struct rst_image *ri, const struct staging *st, size_t k,
			struct rst_thread *d)
{
	const ThreadCoreEntry *t = ri->threads[k];
	const UserRegsX86Entry *g = t->regs;
	uint64_t block = st->start + st->per_thread_off + k * st->per_thread;

	d->tid = t->tid;
	if (t->comm)
		strncpy(d->comm, t->comm, sizeof(d->comm) - 1);
	if (t->altstack && !(t->altstack->flags & SS_DISABLE)) {
		d->has_altstack = 1;
		d->altstack_sp = t->altstack->sp;
		d->altstack_size = t->altstack->size;
		d->altstack_flags = t->altstack->flags & SS_AUTODISARM;
	}
	if (t->rseq && t->rseq->ptr) {
		d->has_rseq = 1;
		d->rseq_ptr = t->rseq->ptr;
		d->rseq_len = t->rseq->len;
		d->rseq_sig = t->rseq->sig;
	}
	if (t->has_robust_list) {
		d->has_robust = 1;
		d->robust_list = t->robust_list;
		d->robust_len = t->has_robust_list_len ? t->robust_list_len : 24;
	}
	if (t->has_clear_tid_addr) {
		d->has_tid_addr = 1;
		d->tid_addr = t->clear_tid_addr;
	}
	d->timerslack = t->has_timerslack_ns ? t->timerslack_ns : 0;
	d->tsc = t->has_tsc ? t->tsc : 0;
	d->mce_kill = t->has_mce_kill ? t->mce_kill + 1 : 0;
	d->regs = (struct rst_regs){
		.r15 = g->r15, .r14 = g->r14, .r13 = g->r13, .r12 = g->r12, .bp = g->bp,
		.bx = g->bx, .r11 = g->r11, .r10 = g->r10, .r9 = g->r9, .r8 = g->r8,
		.ax = g->ax, .cx = g->cx, .dx = g->dx, .si = g->si, .di = g->di, .ip = g->ip,
		.cs = g->cs, .flags = g->flags, .sp = g->sp, .ss = g->ss,
		.fs_base = g->fs_base, .gs_base = g->gs_base,
	};
	adjust_for_restart(&d->regs, (int64_t)g->orig_ax);
	d->blocked = t->blocked & ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)));
	d->xsave = block;
	memcpy((void *)(unsigned long)d->xsave, t->xsave.data, t->xsave.len);
	d->frame = block + st->per_thread - 4096;
	d->stack_top = st->start + st->stacks_off + RST_STACK_SIZE + k * (uint64_t)RST_THREAD_STACK_SIZE;
	rst_fill_thread_sched(t, d);
}

static void add_pending(struct restorer_args *a, const ProtobufCBinaryData *b, size_t n, uint32_t tid)
{
	struct rst_pending *pending = (struct rst_pending *)(unsigned long)a->pending;
	size_t i;

	for (i = 0; i < n; i++) {
		struct rst_pending *p = &pending[a->nr_pending++];
		int32_t signo;

		memcpy(&signo, b[i].data, 4);
		p->signo = (uint32_t)signo;
		p->tid = tid;
		memcpy(p->info, b[i].data, sizeof(p->info));
	}
}

static void fill_args(const struct rst_image *ri, const struct staging *st, struct restorer_args *a,
		      struct rst_thread *threads)
{
	const TaskCoreEntry *c = ri->core;
	const MmEntry *mm = ri->mm;
	size_t i;

	for (i = 0; i < c->n_sigactions; i++) {
		const SigactionEntry *s = c->sigactions[i];
		struct rst_sigaction *d = &a->sig[s->signo - 1];

		d->present = 1;
		d->handler = s->handler;
		d->flags = s->flags;
		d->restorer = s->restorer;
		d->mask = s->mask;
	}
	for (i = 0; i < c->n_itimers; i++) {
		const ItimerEntry *it = c->itimers[i];
		/*
		 * A periodic timer read exactly as it expired shows no time
		 * left (the kernel re-arms it an instant later): it is armed,
		 * its next expiry one interval away.
		 */
		uint64_t value = it->value_us ? it->value_us : it->interval_us;

		if (!value)
			continue;
		a->itimer_set[it->which] = 1;
		a->itimer[it->which][0] = it->interval_us / 1000000;
		a->itimer[it->which][1] = it->interval_us % 1000000;
		a->itimer[it->which][2] = value / 1000000;
		a->itimer[it->which][3] = value % 1000000;
	}
	BUILD_BUG_ON(RST_MAX_GROUPS != RST_MAX_GROUPS_IMG);
	BUILD_BUG_ON(RST_MAX_TIMERS != RST_MAX_TIMERS_IMG);
	BUILD_BUG_ON(RST_MAX_TIMERS != PARASITE_MAX_TIMERS);	/* every timer a dump takes */
	for (i = 0; i < c->n_posix_timers; i++) {
		const PosixTimerEntry *pt = c->posix_timers[i];
		struct rst_timer *t = &a->timers[a->nr_timers++];

		t->id = pt->id;
		t->clock = pt->clock;
		t->notify = pt->notify;
		t->signo = pt->signo;
		t->sival = pt->sival;
		t->notify_tid = pt->has_notify_tid ? pt->notify_tid : 0;
		t->interval_ns = pt->interval_ns;
		t->value_ns = pt->value_ns;
		if (pt->has_overrun && pt->overrun)
			warn("posix timer %d: an overrun count of %u is not restored", pt->id, pt->overrun);
	}
	a->pending = st->start + st->pending_off;
	add_pending(a, c->shared_pending, c->n_shared_pending, 0);
	a->nr_shared_pending = a->nr_pending;
	for (i = 0; i < ri->nr_threads; i++) {
		threads[i].pending_first = a->nr_pending;
		threads[i].nr_pending = (uint32_t)ri->threads[i]->n_pending;
		add_pending(a, ri->threads[i]->pending, ri->threads[i]->n_pending, ri->threads[i]->tid);
	}
	if (c->creds) {
		const CredsEntry *cr = c->creds;
		struct rst_creds *d = &a->creds;

		d->has = 1;
		memcpy(d->uid, cr->uid, sizeof(d->uid));
		memcpy(d->gid, cr->gid, sizeof(d->gid));
		d->ngroups = (uint32_t)cr->n_groups;
		memcpy(d->groups, cr->groups, cr->n_groups * sizeof(uint32_t));
		d->cap_inh = cr->cap_inh;
		d->cap_prm = cr->cap_prm;
		d->cap_eff = cr->cap_eff;
		d->cap_bnd = cr->cap_bnd;
		d->has_amb = cr->has_cap_amb;
		d->cap_amb = cr->cap_amb;
		d->has_secbits = cr->has_securebits;
		d->secbits = cr->securebits;
		d->no_new_privs = cr->has_no_new_privs && cr->no_new_privs;
		d->cap_last = kdat.cap_last_cap;
		d->has_dumpable = c->has_dumpable;
		d->dumpable = c->dumpable;
	}

	a->has_mm_map = 1;
	a->mm.start_code = mm->start_code;
	a->mm.end_code = mm->end_code;
	a->mm.start_data = mm->start_data;
	a->mm.end_data = mm->end_data;
	a->mm.start_brk = mm->start_brk;
	a->mm.brk = mm->brk;
	a->mm.start_stack = mm->start_stack;
	a->mm.arg_start = mm->arg_start;
	a->mm.arg_end = mm->arg_end;
	a->mm.env_start = mm->env_start;
	a->mm.env_end = mm->env_end;
	for (i = 0; i < mm->n_auxv; i++)
		a->auxv[i] = mm->auxv[i];
	a->mm.auxv_size = (uint32_t)(mm->n_auxv * sizeof(uint64_t));
	a->mlockall = mm->has_mlockall ? mm->mlockall : 0;

	/* READ_IMPLIES_EXEC would make every readable mapping executable */
	a->personality = c->personality;
	a->memory_merge = c->has_memory_merge && c->memory_merge;
	a->threads = (uint64_t)(unsigned long)threads;
	a->nr_threads = (uint32_t)ri->nr_threads;
	for (i = 0; i < ri->nr_threads; i++)
		fill_thread(ri, st, i, &threads[i]);
	a->xsave_size = ri->sig_xstate_size;
	a->xfeatures = ri->sig_xfeatures;
	a->sync_fd[0] = a->sync_fd[1] = -1;
	a->ns_last_pid_fd = -1;
}

/* The vma holding @addr (vmas are validated ascending, not overlapping): binary search,
 * as it runs once per thread. */
static const VmaEntry *vma_at(const struct rst_image *ri, uint64_t addr, size_t *idx)
{
	long i = vma_find(ri->mm, addr);

	if (i < 0)
		return NULL;
	*idx = (size_t)i;
	return ri->mm->vmas[i];
}

/*
 * "syscall", then only xors that zero a scratch register (the vdso's
 * speculation hygiene after its fallback syscalls), then "ret". The zeroed
 * registers do not matter: the final frame sets every register.
 */
static bool syscall_ret_gadget(const unsigned char *p, size_t len)
{
	size_t i = 2, steps;

	if (len < 3 || p[0] != 0x0f || p[1] != 0x05)
		return false;
	for (steps = 0; steps < 12 && i < len; steps++) {
		unsigned char m;

		if (p[i] == 0xc3)
			return true;
		if (p[i] == 0x31 && i + 1 < len) {
			m = p[i + 1];	/* xor r32, same r32: not esp/ebp */
			if ((m & 0xc0) != 0xc0 || ((m >> 3) & 7) != (m & 7) || (m & 7) == 4 || (m & 7) == 5)
				return false;
			i += 2;
		} else if ((p[i] == 0x45 || p[i] == 0x4d) && i + 2 < len && p[i + 1] == 0x31) {
			m = p[i + 2];	/* xor r8-r15, same */
			if ((m & 0xc0) != 0xc0 || ((m >> 3) & 7) != (m & 7))
				return false;
			i += 3;
		} else {
			return false;
		}
	}
	return false;
}

/*
 * Plan the restorer's exit without leftovers (see restorer-args.h): a
 * "syscall; ret" in the vdso, the task's own rt_sigreturn trampoline (from
 * a saved SA_RESTORER, checked byte for byte in the staged memory, else the
 * same instruction bytes found in the task's executable memory) and room
 * on the task's stack below sp and its red zone for two frames and the
 * xsave image, where a signal delivery would have put them anyway.
 * Anything missing: the region stays (the restore is still correct).
 */
static void plan_clean_exit(const struct rst_image *ri, const struct staging *st,
			    const struct proc_vmas *self, struct restorer_args *a,
			    struct rst_thread *threads)
{
	static const unsigned char rt_a[] = { 0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05 };
	static const unsigned char rt_b[] = { 0xb8, 0x0f, 0, 0, 0, 0x0f, 0x05 };
	const struct proc_vma *vd = self_special(self, PROC_VMA_VDSO);
	uint64_t gadget = 0, tramp = 0;
	const VmaEntry *v;
	size_t i, k;

	for (i = 0; i < ri->mm->n_vmas && vd; i++)
		if (ri->mm->vmas[i]->kind == VMA_KIND__VMA_VDSO)
			for (k = 0; k + 2 <= vd->end - vd->start && !gadget; k++)
				if (syscall_ret_gadget((const unsigned char *)(unsigned long)vd->start + k,
						       vd->end - vd->start - k))
					gadget = ri->mm->vmas[i]->start + k;
	for (i = 0; i < ri->core->n_sigactions && gadget && !tramp; i++) {
		const SigactionEntry *s = ri->core->sigactions[i];
		const unsigned char *code;

		if (!(s->flags & 0x04000000 /* SA_RESTORER */) || !s->restorer)
			continue;
		v = vma_at(ri, s->restorer, &k);
		/* the staged copy is readable only where the vma is (or has pages) */
		if (!v || !st->tmp[k] || (v->prot & (PROT_EXEC | PROT_READ)) != (PROT_EXEC | PROT_READ) ||
		    s->restorer + sizeof(rt_a) > v->end)
			continue;
		code = (const unsigned char *)(unsigned long)(st->tmp[k] + (s->restorer - v->start));
		if (!memcmp(code, rt_a, sizeof(rt_a)) || !memcmp(code, rt_b, sizeof(rt_b)))
			tramp = s->restorer;
	}
	/* No handler names one: glibc's trampoline is in libc's code anyway. */
	for (i = 0; i < ri->mm->n_vmas && gadget && !tramp; i++) {
		const unsigned char *code = (const unsigned char *)(unsigned long)st->tmp[i], *hit;
		size_t len = ri->mm->vmas[i]->end - ri->mm->vmas[i]->start;

		v = ri->mm->vmas[i];
		if (!code || (v->prot & (PROT_EXEC | PROT_READ)) != (PROT_EXEC | PROT_READ))
			continue;
		hit = memmem(code, len, rt_a, sizeof(rt_a));
		if (hit)
			tramp = v->start + (uint64_t)(hit - code);
	}
	if (!gadget || !tramp) {
		warn("the restorer region stays mapped in the task (%s)",
		     !gadget ? "no syscall;ret in the vdso" : "no rt_sigreturn trampoline in the task's code");
		return;
	}
	for (i = 0; i < a->nr_threads; i++) {
		struct rst_thread *t = &threads[i];
		uint64_t sp = t->regs.sp, xs, f2, f1;

		v = vma_at(ri, sp - 1, &k);
		if (!v || !st->tmp[k] || !(v->prot & PROT_WRITE) || sp < 4096 ||
		    (xs = round_down(sp - 128 - (a->xsave_size + 4), 64)) > sp ||
		    (f2 = round_down(xs - RST_SIGFRAME_MAX, 16) - 8) > xs ||
		    (f1 = round_down(f2 - RST_SIGFRAME_MAX, 16) - 8) < v->start + PAGE) {
			warn("the restorer region stays mapped in the task (no room on the stack of thread %u)",
			     t->tid);
			return;
		}
		t->final_xsave = xs;
		t->final_frame = f2;
		t->first_frame = f1;
	}
	a->final_gadget = gadget;
	a->final_trampoline = tramp;
	a->region_start = st->start;
	a->region_len = st->region_len;
}

/* glibc registered rseq for criu's thread; the kernel must forget it before
 * that memory goes away (the restorer registers the task's own). */
static void drop_own_rseq(void)
{
	void *area;
	unsigned int lens[2] = { 32, __rseq_size }, i;

	if (!__rseq_size)
		return;
	area = (char *)__builtin_thread_pointer() + __rseq_offset;
	for (i = 0; i < 2; i++)
		if (!syscall(SYS_rseq, area, lens[i], 1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG))
			return;
	die("cannot unregister criu's rseq area: %s", strerror(errno));
}

static size_t find_entry(void)
{
	size_t i, found = 0, n = 0;

	for (i = 0; i + RESTORER_ENTRY_MARK_LEN <= restorer_blob.code_size; i++)
		if (!memcmp(restorer_blob.code + i, RESTORER_ENTRY_MARK, RESTORER_ENTRY_MARK_LEN)) {
			found = i + RESTORER_ENTRY_MARK_LEN;
			n++;
		}
	if (n != 1)
		die("restorer blob: entry marker found %zu times", n);
	return found;
}

/*
 * The root's parent death signal was for its parent outside the tree. criu
 * stands in for that parent while it waits for the root (attached), but a
 * detached restore's exit is no parent's death: the root then sets the
 * signal only once criu has gone, and criu does not wait for it to leave
 * the restorer.
 */
bool rst_root_pdeath_deferred(const struct rst_tree *tr, const struct cr_options *o)
{
	const TaskCoreEntry *c = tr->ri[0].core;

	return o->restore_detached && !tr->ri[0].zombie && c->has_pdeath_sig && c->pdeath_sig;
}

void rst_task_main(struct rst_tree *tr, size_t idx, const struct cr_options *o, int sfd, int go_fd)
{
	struct rst_image *ri = &tr->ri[idx];
	struct rst_files files, *f = &files;
	struct proc_vmas self = { 0 };
	struct range keep[RST_MAX_SPECIAL + 2];
	size_t nr_keep = 0, i, entry;
	struct restorer_args *a;
	struct rst_vma *rv;
	struct staging st = { 0 };
	uint64_t specials_len, at, prev;
	unsigned char *region;
	sigset_t all;
	int helpers[RST_MAX_CLOSE + 4], nr_helpers = 0, ns_slot = -1, sync_slot = -1, go_slot;
	struct rst_thread *threads;
	pid_t parent = idx ? (pid_t)ri->pstree->ppid : tr->criu_pid;
	void *p;

	status_fd = sfd;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (getpid() != ri->pid)
		die("got pid %d instead of %d", getpid(), ri->pid);
	if (tr->sess_helper[idx])
		wait_adopted(tr->sess_helper[idx]);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		die("PR_SET_PDEATHSIG: %s", strerror(errno));
	if (getppid() != parent)
		_exit(1);	/* the parent died before PDEATHSIG was armed: all is being undone */

	start_session(tr, idx, o);
	fault_point(tr, idx);
	if (ri->zombie) {
		join_group(tr, idx);
		become_zombie(ri);
	}
	if (tr->sharer[idx])
		f = &tr->sharer_files[idx];	/* opened by the parent */
	else if (rst_files_open(ri, o, f, idx ? inherited_files : NULL, tr->opener, idx) ||
		 rst_shmem_vma_fds(&tr->shm, ri->mm, f->vma_fd))
		die("cannot open the files of %d (see the log)", ri->pid);
	open_sharer_files(tr, idx, o);
	take_ctty(tr, idx, ri, f);
	entry = find_entry();

	/* ---- memory: reserve, stage, fill ---- */
	if (proc_read_maps(getpid(), &self))
		die("cannot read our own maps");
	a = calloc(1, sizeof(*a));	/* planned here, copied into the region below */
	if (!a)
		die("out of memory");
	specials_len = plan_specials(ri, &self, a, keep, &nr_keep);
	stage_layout(ri, &st, specials_len);
	at = find_gap(tr, &self, st.len);
	if (!at)
		die("no address range of %llu bytes is free in both criu's and the task's layouts",
		    (unsigned long long)st.len);
	p = mmap((void *)(unsigned long)at, st.len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(unsigned long)at)
		die("cannot reserve the staging area at %#llx: %s", (unsigned long long)at,
		    strerror(errno));
	st.start = at;
	region = p;
	if (mprotect(region, st.region_len, PROT_READ | PROT_WRITE | PROT_EXEC))
		die("mprotect of the restorer region: %s", strerror(errno));
	memcpy(region, restorer_blob.code, restorer_blob.code_size);
	memset(region + restorer_blob.code_size, 0, restorer_blob.mem_size - restorer_blob.code_size);
	for (i = 0; i < restorer_blob.nr_relocs; i++) {
		uint64_t w;

		if (restorer_blob.relocs[i] + 8 > restorer_blob.code_size)
			die("restorer blob: relocation out of the code");
		memcpy(&w, region + restorer_blob.relocs[i], 8);
		w += at;
		memcpy(region + restorer_blob.relocs[i], &w, 8);
	}
	stage_memory(ri, idx ? &tr->ri[rst_tree_find(tr, (pid_t)ri->pstree->ppid)] : NULL, f, &st);
	ri->staged = st.tmp;	/* where the children find what they share with us */
	if (tr->sharer[idx] && ri->pages_fd >= 0) {
		close(ri->pages_fd);	/* kept for us by our parent: nobody else closes it */
		ri->pages_fd = -1;
	}
	keep[nr_keep++] = (struct range){ st.start, st.start + st.len };

	/*
	 * The children, after the staging (a follow-up lets them share the
	 * parent's staged private memory copy-on-write; now each drops what it
	 * inherited with the rest of criu's memory), before anything of this
	 * task's own state that they would inherit.
	 */
	inherited_files = f;
	if (fork_children(tr, idx, o, go_fd))
		drain_sigchld(tr, idx);
	join_group(tr, idx);
	take_fg(tr, idx, ri, f);

	/* ---- arguments ---- */
	a = memcpy(region + st.args_off, a, sizeof(*a));
	a->magic = RESTORER_ARGS_MAGIC;
	a->pid = (uint32_t)ri->pid;
	a->leave_stopped = o->leave_stopped || ri->core->state == 3;
	a->pdeath_sig = ri->core->has_pdeath_sig ? ri->core->pdeath_sig : 0;	/* <= 64: checked */
	if (idx == 0 && rst_root_pdeath_deferred(tr, o))
		a->pdeath_after = (uint32_t)tr->criu_pid;
	for (i = 0; i < a->nr_special; i++)
		a->special[i].scratch += st.start + st.scratch;
	a->staging_start = st.start + st.region_len;
	a->staging_len = st.len - st.region_len;
	rv = (struct rst_vma *)(region + st.vmas_off);
	a->vmas = (uint64_t)(unsigned long)rv;
	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];

		if (!staged(v) && !mapped_from_fd(v))
			continue;
		rv[a->nr_vmas] = (struct rst_vma){
			.start = v->start, .len = v->end - v->start, .tmp = st.tmp[i],
			.pgoff = v->pgoff, .prot = v->prot, .flags = MAP_SHARED, .fd = -1,
			.kind = (uint32_t)v->kind,
		};
		if (mapped_from_fd(v)) {
			if (nr_helpers >= RST_MAX_FD_VMAS)
				die("more than %d shared mappings (files, shared memory) are not supported yet",
				    RST_MAX_FD_VMAS);
			rv[a->nr_vmas].fd = nr_helpers;	/* index until the fds are final */
			helpers[nr_helpers++] = f->vma_fd[i];
			f->vma_fd[i] = -1;
		}
		a->nr_vmas++;
	}
	threads = (struct rst_thread *)(region + st.threads_off);
	fill_args(ri, &st, a, threads);
	if (!getenv("CRIU_RESTORER_STAYS"))
		plan_clean_exit(ri, &st, &self, a, threads);
	if (ri->nr_threads > 1) {
		const char *method = getenv("CRIU_PID_METHOD");
		int sync[2];

		if ((method && !strcmp(method, "ns_last_pid")) ||
		    (!method && kerndat_probe(KD_CLONE3_SET_TID))) {
			ns_slot = nr_helpers;
			helpers[nr_helpers] = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
			if (helpers[nr_helpers++] < 0)
				die("cannot open ns_last_pid for the threads: %s", strerror(errno));
		}
		if (pipe2(sync, O_CLOEXEC))
			die("pipe: %s", strerror(errno));
		sync_slot = nr_helpers;
		helpers[nr_helpers++] = sync[0];
		helpers[nr_helpers++] = sync[1];
	}
	go_slot = nr_helpers;
	helpers[nr_helpers++] = go_fd;

	/* ---- everything that needs libc and criu's memory ---- */
	{
		int exe_slot = -1;

		if (f->exe_fd >= 0) {
			exe_slot = nr_helpers;
			helpers[nr_helpers++] = f->exe_fd;
			f->exe_fd = -1;
		}
		for (i = 0; i < ri->mm->n_vmas; i++)
			if (f->vma_fd[i] >= 0) {
				close(f->vma_fd[i]);
				f->vma_fd[i] = -1;
			}
		restore_fds(tr, idx, f, helpers, nr_helpers);
		for (i = 0; i < a->nr_vmas; i++)
			if (rv[i].fd >= 0)
				rv[i].fd = helpers[rv[i].fd];
		a->mm.exe_fd = exe_slot >= 0 ? (uint32_t)helpers[exe_slot] : (uint32_t)-1;
		if (ns_slot >= 0)
			a->ns_last_pid_fd = helpers[ns_slot];
		if (sync_slot >= 0) {
			a->sync_fd[0] = helpers[sync_slot];
			a->sync_fd[1] = helpers[sync_slot + 1];
		}
		a->go_fd = helpers[go_slot];
		a->nr_close = 0;
		fork_sharers(tr, idx, o, a->go_fd);
	}
	/* our own state, which the sharers forked just above do not inherit */
	restore_misc(ri, f);
	restore_sched(tr, idx, ri->core);
	leave_audit_session(tr, ri->core);
	enter_root(f);
	if (f->cwd_fd >= 0) {
		close(f->cwd_fd);
		f->cwd_fd = -1;
	}
	a->status_fd = status_fd;

	/* criu's memory goes: everything but the staging area and the specials */
	qsort(keep, nr_keep, sizeof(keep[0]), range_cmp);
	prev = PAGE;
	for (i = 0; i < nr_keep; i++) {
		if (keep[i].start > prev)
			a->unmap[a->nr_unmap++] = (struct rst_range){ prev, keep[i].start };
		prev = max(prev, keep[i].end);
	}
	if (prev < RST_TASK_SIZE)
		a->unmap[a->nr_unmap++] = (struct rst_range){ prev, RST_TASK_SIZE };

	drop_own_rseq();
	__asm__ __volatile__(
		"movq	%0, %%rsp\n"
		"movq	%1, %%rdi\n"
		"jmpq	*%2\n"
		:
		: "r"(st.start + st.stacks_off + RST_STACK_SIZE), "r"(a), "r"(st.start + entry)
		: "memory");
	__builtin_unreachable();
}
