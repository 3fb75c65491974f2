/*
 * Restore, in the new task: the process's own state from core-PID.img
 * (mirrors dump-core.c). Set in the task: umask, name, cwd, rlimits,
 * scheduling, oom score, subreaper, THP, dumpable, membarrier, the time
 * namespace for its children, the audit session and the root, after its
 * children are forked (they set their own). Handed to the restorer: the
 * signal handlers, interval and POSIX timers, credentials and personality.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kerndat.h"
#include "parasite-proto.h"
#include "restore-task.h"

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
		rst_die("rlimit %u: cannot set %llu/%llu (criu's is %llu/%llu): %s", rl->resource,
		    (unsigned long long)rl->cur, (unsigned long long)rl->max,
		    (unsigned long long)cur.rlim_cur, (unsigned long long)cur.rlim_max,
		    strerror(errno));
	}
}

/* Write @text whole into /proc/self/@name: 0, or -1 with errno. */
int rst_write_self(const char *name, const char *text)
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
	if (rst_write_self("loginuid", unset))
		rst_die("cannot leave criu's audit session %u (login uid %u) for none: %s",
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
		rst_die("unshare(CLONE_NEWTIME) for the children's time namespace: %s", strerror(errno));
	snprintf(text, sizeof(text), "monotonic %lld %u\nboottime %lld %u\n",
		 (long long)tn->monotonic_sec, tn->monotonic_nsec, (long long)tn->boottime_sec,
		 tn->boottime_nsec);
	if (rst_write_self("timens_offsets", text))
		rst_die("cannot set the offsets of the children's time namespace (%s): %s", text,
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
			rst_die("membarrier registration %#x: %s", 1U << bit, strerror(errno));
}

static void restore_misc(const struct rst_image *ri, const struct rst_files *f)
{
	const TaskCoreEntry *c = ri->core;

	umask((mode_t)(c->umask & 0777));
	if (comm_set(ri->thread->comm ? ri->thread->comm : c->comm))
		rst_die("PR_SET_NAME: %s", strerror(errno));
	if (f->cwd_fd >= 0 && fchdir(f->cwd_fd))
		rst_die("cannot change to the dumped cwd: %s", strerror(errno));
	restore_rlimits(c);
	if (c->has_sched_policy && c->sched_policy != SCHED_OTHER) {
		struct sched_param sp = { .sched_priority = (int)c->sched_prio };

		if (sched_setscheduler(0, (int)c->sched_policy, &sp))
			rst_die("scheduler policy %u prio %u: %s", c->sched_policy, c->sched_prio,
			     strerror(errno));
	}
	if (c->has_nice && setpriority(PRIO_PROCESS, 0, c->nice))
		rst_die("nice %d: %s", c->nice, strerror(errno));
	if (c->has_oom_score_adj) {
		char buf[16];

		snprintf(buf, sizeof(buf), "%d", c->oom_score_adj);
		if (rst_write_self("oom_score_adj", buf))
			rst_die("oom_score_adj %d: %s", c->oom_score_adj, strerror(errno));
	}
	if (c->has_child_subreaper && prctl(PR_SET_CHILD_SUBREAPER, c->child_subreaper, 0, 0, 0))
		rst_die("child subreaper: %s", strerror(errno));
	if (ri->mm->has_thp_disabled && prctl(PR_SET_THP_DISABLE, ri->mm->thp_disabled, 0, 0, 0))
		rst_die("THP disable: %s", strerror(errno));
	if (c->has_dumpable && prctl(PR_SET_DUMPABLE, c->dumpable, 0, 0, 0))
		rst_die("dumpable %u: %s", c->dumpable, strerror(errno));
	restore_membarrier(c);
	restore_timens(c);
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
		rst_die("cannot enter the dumped root: %s", strerror(errno));
	close(f->root_fd);
	f->root_fd = -1;
}

/*
 * The task's own state, once its children are forked (they do not inherit
 * it) and its fds are in place; the root last, then the cwd's descriptor
 * goes.
 */
void rst_core_restore(const struct rst_tree *tr, size_t idx, struct rst_files *f)
{
	const struct rst_image *ri = &tr->ri[idx];

	restore_misc(ri, f);
	rst_sched_restore(tr, idx, ri->core);
	leave_audit_session(tr, ri->core);
	enter_root(f);
	if (f->cwd_fd >= 0) {
		close(f->cwd_fd);
		f->cwd_fd = -1;
	}
}

/* ---- restorer arguments ------------------------------------------------- */

static void fill_sigactions(const TaskCoreEntry *c, struct restorer_args *a)
{
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
}

static void fill_timers(const TaskCoreEntry *c, struct restorer_args *a)
{
	size_t i;

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
			rst_warn("posix timer %d: an overrun count of %u is not restored", pt->id, pt->overrun);
	}
}

static void fill_creds(const TaskCoreEntry *c, struct restorer_args *a)
{
	const CredsEntry *cr = c->creds;
	struct rst_creds *d = &a->creds;

	BUILD_BUG_ON(RST_MAX_GROUPS != RST_MAX_GROUPS_IMG);
	if (!cr)
		return;
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

/* What the restorer sets from core-PID.img (pending signals: restore-threads.c). */
void rst_core_fill_args(const struct rst_image *ri, struct restorer_args *a)
{
	const TaskCoreEntry *c = ri->core;

	fill_sigactions(c, a);
	fill_timers(c, a);
	fill_creds(c, a);
	/* READ_IMPLIES_EXEC would make every readable mapping executable */
	a->personality = c->personality;
	a->memory_merge = c->has_memory_merge && c->memory_merge;
}
