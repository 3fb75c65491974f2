/*
 * Restore: the process's own state from core-PID.img (mirrors
 * dump-core.c). Checked in criu before any process is made (threads:
 * restore-threads.c). Set in the task: umask, name, cwd, rlimits,
 * scheduling, oom score, subreaper, THP, dumpable, membarrier, the time
 * namespace for its children, the audit session and the root, after its
 * children are forked (they set their own). Handed to the restorer: the
 * signal handlers, interval and POSIX timers, credentials and personality.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "personality-known.h"
#include "kernel-compat.h"
#include "kerndat.h"
#include "parasite-proto.h"
#include "restore-task.h"
#include "sched-state.h"
#include "seccomp-rst.h"

/* ---- checks of core-PID.img (in criu, before any process is made) ------ */

/* SECBIT_* and their locks, up to SECBIT_EXEC_DENY_INTERACTIVE_LOCKED (6.14) */
#define SECUREBITS_KNOWN	0xfffu

/* Credentials: of a live task, or the ids a zombie's helper takes. */
static int check_creds(const struct rst_image *ri)
{
	const CredsEntry *cr = ri->core->creds;
	uint64_t known;

	if (!cr)
		return 0;
	kerndat_probe(KD_CAPS);
	known = kdat.cap_last_cap >= 63 ? ~0ULL : (1ULL << (kdat.cap_last_cap + 1)) - 1;
	if (cr->n_uid != 4 || cr->n_gid != 4 || cr->n_groups > RST_MAX_GROUPS_IMG) {
		pr_err("core-%d.img: credentials need 4 uids, 4 gids and at most %d groups",
		       ri->pid, RST_MAX_GROUPS_IMG);
		return -1;
	}
	if ((cr->cap_inh | cr->cap_prm | cr->cap_eff | cr->cap_amb) & ~known) {
		pr_err("core-%d.img: the task had capabilities this kernel does not know (last is %u)",
		       ri->pid, kdat.cap_last_cap);
		return -1;
	}
	if (cr->has_securebits && (cr->securebits & ~SECUREBITS_KNOWN)) {
		pr_err("core-%d.img: securebits %#x unknown", ri->pid, cr->securebits);
		return -1;
	}
	if ((cr->cap_eff & ~cr->cap_prm) || (cr->cap_amb & ~(cr->cap_prm & cr->cap_inh))) {
		pr_err("core-%d.img: effective or ambient capabilities outside the permitted set",
		       ri->pid);
		return -1;
	}
	return 0;
}

/*
 * A zombie: state 2, no threads, and a wait status the kernel can give
 * again: an exit code, or a fatal signal without a core dump.
 */
int rst_core_check_zombie(const struct rst_image *ri)
{
	const TaskCoreEntry *c = ri->core;
	uint32_t st = c->has_exit_code ? (uint32_t)c->exit_code : 0;
	unsigned int sig = st & 0x7f;

	if (c->state != 2 || ri->nr_threads) {
		pr_err("core-%d.img: pstree.img lists no threads but the task is not a zombie "
		       "(state %u, %zu threads)", ri->pid, c->state, ri->nr_threads);
		return -1;
	}
	if (strnlen(c->comm, 64) >= 64) {
		pr_err("core-%d.img: comm too long", ri->pid);
		return -1;
	}
	if (!c->has_exit_code || (sig == 0 && st > 0xff00) || (sig && (st & ~0xffu))) {
		pr_err("core-%d.img: zombie exit status %#x is not a wait status", ri->pid, st);
		return -1;
	}
	if (st & 0x80) {
		pr_err("core-%d.img: zombie killed by signal %u with a core dump: "
		       "not supported yet", ri->pid, sig);
		return -1;
	}
	if (sig == 0x7f || sig == SIGCHLD || sig == SIGCONT || sig == SIGURG ||
	    sig == SIGWINCH || sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	    sig == SIGTTOU || sig > 64) {
		pr_err("core-%d.img: zombie 'killed' by signal %u, which does not kill", ri->pid,
		       sig);
		return -1;
	}
	return check_creds(ri);
}

/* Ids unique and >= 0; a notification the restorer can set up, to a thread of the image. */
static int check_posix_timers(const struct rst_image *ri)
{
	const TaskCoreEntry *c = ri->core;
	size_t i, j;

	if (c->n_posix_timers > RST_MAX_TIMERS_IMG) {
		pr_err("core-%d.img: %zu posix timers, at most %d are supported", ri->pid,
		       c->n_posix_timers, RST_MAX_TIMERS_IMG);
		return -1;
	}
	for (i = 0; i < c->n_posix_timers; i++) {
		const PosixTimerEntry *t = c->posix_timers[i];
		bool tid_ok = false;

		for (j = 0; j < i; j++)
			if (c->posix_timers[j]->id == t->id) {
				pr_err("core-%d.img: posix timer id %d appears twice", ri->pid, t->id);
				return -1;
			}
		for (j = 0; j < ri->pstree->n_threads; j++)
			tid_ok |= t->has_notify_tid && t->notify_tid == ri->pstree->threads[j];
		if (t->id < 0 ||
		    (t->notify != 0 /* SIGNAL */ && t->notify != 1 /* NONE */ && t->notify != 4 /* THREAD_ID */) ||
		    (t->notify != 1 && (t->signo < 1 || t->signo > 64)) || (t->notify == 4 && !tid_ok)) {
			pr_err("core-%d.img: posix timer %d: notification %u (signal %u) that cannot be set up",
			       ri->pid, t->id, t->notify, t->signo);
			return -1;
		}
	}
	return 0;
}

static int check_seccomp(const struct rst_image *ri)
{
	char img[32];

	snprintf(img, sizeof(img), "core-%d.img", ri->pid);
	return rst_seccomp_check_filters(ri->core, img);
}

int rst_core_check(struct rst_image *ri)
{
	TaskCoreEntry *c = ri->core;
	size_t i;
	uint64_t seen = 0;

	if (c->state != 1 && c->state != 3) {
		pr_err("core-%d.img: task state %u (only alive and stopped tasks can be restored)",
		       ri->pid, c->state);
		return -1;
	}
	if (c->state == 3 && c->has_stop_signo && c->stop_signo != SIGSTOP &&
	    c->stop_signo != SIGTSTP && c->stop_signo != SIGTTIN && c->stop_signo != SIGTTOU) {
		pr_err("core-%d.img: stop signal %u is not a job-control stop signal", ri->pid,
		       c->stop_signo);
		return -1;
	}
	if (ri->nr_threads != ri->pstree->n_threads) {
		pr_err("core-%d.img: %zu threads, pstree.img lists %zu", ri->pid, ri->nr_threads,
		       ri->pstree->n_threads);
		return -1;
	}
	if (strnlen(c->comm, 64) >= 64) {
		pr_err("core-%d.img: comm too long", ri->pid);
		return -1;
	}
	for (i = 0; i < c->n_sigactions; i++) {
		uint32_t s = c->sigactions[i]->signo;

		if (s < 1 || s > 64 || s == SIGKILL || s == SIGSTOP || (seen & (1ULL << (s - 1)))) {
			pr_err("core-%d.img: bad or repeated sigaction signal %u", ri->pid, s);
			return -1;
		}
		seen |= 1ULL << (s - 1);
	}
	for (i = 0; i < c->n_itimers; i++)
		if (c->itimers[i]->which > 2) {
			pr_err("core-%d.img: bad itimer %u", ri->pid, c->itimers[i]->which);
			return -1;
		}
	for (i = 0; i < c->n_rlimits; i++)
		if (c->rlimits[i]->resource >= 16) {
			pr_err("core-%d.img: bad rlimit resource %u", ri->pid, c->rlimits[i]->resource);
			return -1;
		}
	if (check_posix_timers(ri) || rst_check_sched_image(ri))
		return -1;
	if (c->timens_for_children) {
		const TimensEntry *tn = c->timens_for_children;
		const int64_t max = 9223372036LL;	/* KTIME_SEC_MAX */

		if (tn->monotonic_nsec >= 1000000000u || tn->boottime_nsec >= 1000000000u ||
		    tn->monotonic_sec > max || tn->monotonic_sec < -max ||
		    tn->boottime_sec > max || tn->boottime_sec < -max) {
			pr_err("core-%d.img: time namespace offsets out of range", ri->pid);
			return -1;
		}
	}
	if (c->has_pdeath_sig && c->pdeath_sig > 64) {
		pr_err("core-%d.img: parent death signal %u is no signal", ri->pid, c->pdeath_sig);
		return -1;
	}
	if (c->personality & ~PERSONALITY_KNOWN) {
		pr_err("core-%d.img: personality %#x has bits no personality has", ri->pid,
		       c->personality);
		return -1;
	}
	if (c->has_membarrier && (c->membarrier & ~MEMBARRIER_REGISTRATIONS)) {
		pr_err("core-%d.img: membarrier registrations %#x: not registrations", ri->pid,
		       c->membarrier);
		return -1;
	}
	if (rst_check_pending(ri, c->shared_pending, c->n_shared_pending))
		return -1;
	if (c->has_memory_merge && c->memory_merge > 1) {
		pr_err("core-%d.img: memory merge %u is not 0 or 1", ri->pid, c->memory_merge);
		return -1;
	}
	if (check_creds(ri))
		return -1;
	return check_seccomp(ri) || rst_threads_check(ri);
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
