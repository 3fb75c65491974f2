/*
 * Restore: scheduling, memory placement and keyrings (sched-state.h).
 *
 * What the images say is checked here, before any process is made: the
 * values against what the kernel accepts, then the tree against this host
 * (cpus and NUMA nodes online) and this criu (the session keyring and, for
 * a shell job, the autogroup every restored process inherits). Each thread
 * then sets its own affinity, I/O priority and NUMA policy in the restorer;
 * the process's coredump_filter and autogroup nice are set here, in the
 * task, after its children are forked (rst_sched_restore).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "restore.h"
#include "restorer-args.h"
#include "restore-task.h"
#include "sched-state.h"

#define MPOL_MODES		7	/* DEFAULT .. WEIGHTED_INTERLEAVE (6.9) */
#define MPOL_FLAGS		((1u << 15) | (1u << 14) | (1u << 13))	/* STATIC, RELATIVE, BALANCING */

static int check_thread(const struct rst_image *ri, const ThreadCoreEntry *t)
{
	if (t->n_cpus_allowed > SCHED_MASK_WORDS || t->n_mempolicy_nodes > SCHED_MASK_WORDS) {
		pr_err("core-%d.img: thread %u: a cpu or node mask of more than %d bits", ri->pid,
		       t->tid, SCHED_MAX_CPUS);
		return -1;
	}
	if (t->has_mempolicy &&
	    ((t->mempolicy & ~MPOL_FLAGS) >= MPOL_MODES || (t->mempolicy & ~(MPOL_FLAGS | 0xff)))) {
		pr_err("core-%d.img: thread %u: NUMA policy %#x is not a policy", ri->pid, t->tid,
		       t->mempolicy);
		return -1;
	}
	if (t->has_ioprio && t->ioprio > 0xffff) {
		pr_err("core-%d.img: thread %u: I/O priority %#x is not one", ri->pid, t->tid,
		       t->ioprio);
		return -1;
	}
	return 0;
}

int rst_check_sched_image(const struct rst_image *ri)
{
	const TaskCoreEntry *c = ri->core;
	size_t i;

	if (c->has_autogroup_nice && (c->autogroup_nice < -20 || c->autogroup_nice > 19)) {
		pr_err("core-%d.img: autogroup nice %d out of range", ri->pid, c->autogroup_nice);
		return -1;
	}
	for (i = 0; i < ri->nr_threads; i++)
		if (check_thread(ri, ri->threads[i]))
			return -1;
	return 0;
}

static bool meets(const uint64_t *a, size_t n, const uint64_t *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] & b[i])
			return true;
	return false;
}

static bool within(const uint64_t *a, size_t n, const uint64_t *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] & ~b[i])
			return false;
	return true;
}

/* The cpus of @a (n words) not in @online, as "3,1000" (cut short with "..."). */
static void offline_list(const uint64_t *a, size_t n, const uint64_t *online, char *buf,
			 size_t len)
{
	size_t i, at = 0;
	unsigned int b;

	buf[0] = 0;
	for (i = 0; i < n; i++)
		for (b = 0; b < 64; b++) {
			if (!(a[i] & ~online[i] & (1ULL << b)))
				continue;
			if (at + 24 >= len) {
				snprintf(buf + at, len - at, "...");
				return;
			}
			at += (size_t)snprintf(buf + at, len - at, "%s%zu", at ? "," : "",
					       i * 64 + b);
		}
}

/* Affinity and NUMA nodes of every thread, against the cpus and nodes online here: exact or refused. */
static int check_placement(const struct rst_image *ri, const uint64_t *cpus, const uint64_t *nodes)
{
	size_t i;

	for (i = 0; i < ri->nr_threads; i++) {
		const ThreadCoreEntry *t = ri->threads[i];

		if (t->n_cpus_allowed && !meets(t->cpus_allowed, t->n_cpus_allowed, cpus)) {
			pr_err("thread %u of %d may run only on cpus none of which is online here: it cannot be restored on this host",
			       t->tid, ri->pid);
			return -1;
		}
		if (t->n_cpus_allowed && !within(t->cpus_allowed, t->n_cpus_allowed, cpus)) {
			char list[256];

			offline_list(t->cpus_allowed, t->n_cpus_allowed, cpus, list, sizeof(list));
			pr_err("thread %u of %d: cpus %s of its affinity are not online here: it cannot be restored exactly on this host",
			       t->tid, ri->pid, list);
			return -1;
		}
		if (!within(t->mempolicy_nodes, t->n_mempolicy_nodes, nodes)) {
			pr_err("thread %u of %d: its NUMA policy names nodes that are not online here: it cannot be restored on this host",
			       t->tid, ri->pid);
			return -1;
		}
	}
	return 0;
}

/* The restore hands every process criu's session keyring. */
static int check_keyring(const struct rst_image *ri, uint32_t own)
{
	const TaskCoreEntry *c = ri->core;

	if (!c->has_session_keyring || c->session_keyring == own)
		return 0;
	pr_err("%d was dumped with session keyring %u, this criu has %u: a task comes back into its session keyring only from a criu in it; anything else is not supported yet",
	       ri->pid, c->session_keyring, own);
	return -1;
}

static int criu_autogroup_nice(int *nice)
{
	char buf[128];
	long id;

	*nice = 0;
	if (read_small_file("/proc/self/autogroup", buf, sizeof(buf)) < 0) {
		if (errno == ENOENT)
			return 0;	/* no CONFIG_SCHED_AUTOGROUP */
		pr_perror("can't read /proc/self/autogroup");
		return -1;
	}
	if (sched_parse_autogroup(buf, &id, nice)) {
		pr_err("/proc/self/autogroup: unexpected '%.60s'", buf);
		return -1;
	}
	return 0;
}

/*
 * A shell job's processes of the root's session stay in criu's session,
 * and so in its autogroup, which the restore must not change.
 */
static int check_autogroup(const struct rst_tree *tr, size_t k, int criu_nice)
{
	const TaskCoreEntry *c = tr->ri[k].core;

	if (!tr->shell_job || tr->ps[k]->sid != tr->ps[0]->sid || !c->has_autogroup_nice ||
	    c->autogroup_nice == criu_nice)
		return 0;
	pr_err("%d stays in criu's session (shell job), whose autogroup has nice %d, not %d as dumped: not supported yet",
	       tr->ri[k].pid, criu_nice, c->autogroup_nice);
	return -1;
}

/* Children made through a session helper are reparented: the kernel makes their exit signal SIGCHLD. */
static int check_exit_signal(const struct rst_tree *tr, size_t k)
{
	const PstreeEntry *e = tr->ps[k];

	if (!e->has_exit_signal)
		return 0;
	if (!k || e->exit_signal > 64) {
		pr_err("pstree.img: %u: exit signal %u %s", e->pid, e->exit_signal,
		       k ? "is no signal" : "for the root");
		return -1;
	}
	if (tr->sess_helper[k] && e->exit_signal != SIGCHLD) {
		pr_err("%u has exit signal %u and a session whose leader had exited: not supported yet",
		       e->pid, e->exit_signal);
		return -1;
	}
	return 0;
}

int rst_check_sched_host(const struct rst_tree *tr)
{
	uint64_t cpus[SCHED_MASK_WORDS], nodes[SCHED_MASK_WORDS];
	uint32_t own;
	int criu_nice;
	size_t k;

	if (sched_own_session_keyring(&own) ||
	    sched_read_list("/sys/devices/system/cpu/online", cpus, SCHED_MASK_WORDS) ||
	    criu_autogroup_nice(&criu_nice))
		return -1;
	if (access("/sys/devices/system/node/online", F_OK)) {
		memset(nodes, 0, sizeof(nodes));
		nodes[0] = 1;	/* a kernel without NUMA: node 0 */
	} else if (sched_read_list("/sys/devices/system/node/online", nodes, SCHED_MASK_WORDS)) {
		return -1;
	}
	for (k = 0; k < tr->nr; k++) {
		const struct rst_image *ri = &tr->ri[k];

		if (check_exit_signal(tr, k))
			return -1;
		if (ri->zombie)
			continue;
		if (check_placement(ri, cpus, nodes) || check_keyring(ri, own) ||
		    check_autogroup(tr, k, criu_nice))
			return -1;
	}
	return 0;
}

void rst_fill_thread_sched(const ThreadCoreEntry *t, struct rst_thread *d)
{
	BUILD_BUG_ON(RST_MASK_WORDS != SCHED_MASK_WORDS);
	d->has_ioprio = t->has_ioprio;
	d->ioprio = t->ioprio;
	d->has_mempolicy = t->has_mempolicy;
	d->mempolicy = (int32_t)t->mempolicy;
	memcpy(d->nodes, t->mempolicy_nodes, t->n_mempolicy_nodes * sizeof(uint64_t));
	d->nr_cpus = (uint32_t)t->n_cpus_allowed;
	memcpy(d->cpus, t->cpus_allowed, t->n_cpus_allowed * sizeof(uint64_t));
}

/* ---- in the task ----------------------------------------------------------- */

/*
 * coredump_filter belongs to the mm: set after the children are forked.
 * The autogroup is the session's, made by its setsid(): every process of
 * the session writes the same nice value into it, except those that stay
 * in criu's session (a shell job's: checked equal to criu's).
 */
void rst_sched_restore(const struct rst_tree *tr, size_t idx, const TaskCoreEntry *c)
{
	char text[32];

	if (c->has_coredump_filter) {
		snprintf(text, sizeof(text), "%#x", c->coredump_filter);
		if (rst_write_self("coredump_filter", text))
			rst_die("cannot write '%s' to /proc/self/coredump_filter: %s", text,
			    strerror(errno));
	}
	if (c->has_autogroup_nice && c->autogroup_nice &&
	    !(tr->shell_job && tr->ps[idx]->sid == tr->ps[0]->sid)) {
		snprintf(text, sizeof(text), "%d", c->autogroup_nice);
		if (rst_write_self("autogroup", text))
			rst_die("cannot write '%s' to /proc/self/autogroup: %s", text, strerror(errno));
	}
}
