/*
 * Dump: the pid namespace of the tree (Documentation/dump.md, "Pid namespace").
 *
 * A tree is either in criu's own pid namespace, or its root is the init
 * (pid 1) of a pid namespace one level below criu's and every other
 * process and thread of the tree is in that same namespace. The images
 * hold the pids as seen inside the tree's namespace (the last NSpid
 * field): pstree.img, the image names, thread ids. Nested pid namespaces
 * and a process in another namespace than its root are refused.
 *
 * criu reads everything else through its own /proc and ptrace, so pids
 * it collects are its own namespace's; those the images would carry
 * beyond the tree's (a signal owner, a POSIX lock owner, a terminal's
 * session, a timer's thread) are translated where the pid is the tree's,
 * refused otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"

static bool tree_pidns;		/* the dump being made has a pid namespace of its own */

static int pidns_stat(pid_t pid, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, st)) {
		pr_perror("cannot stat %s", path);
		return -1;
	}
	return 0;
}

static bool same_ns(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* The pid of @id (a process or thread) in the tree's namespace, from its NSpid; -1: failed. */
static pid_t inner_pid(pid_t id, unsigned int levels)
{
	struct proc_status st = { 0 };
	pid_t v = -1;

	if (proc_read_status(id, &st))
		return -1;
	if (st.nr_nspid == levels)
		v = st.nspid[levels - 1];
	else
		pr_err("%d has %u pid namespace levels where the tree's root has %u: "
		       "nested pid namespaces are not supported yet", id, st.nr_nspid, levels);
	proc_status_free(&st);
	return v;
}

/* @t: in the root's namespace, its pid and thread ids there. */
static int task_vpids(struct dump_task *t, const struct stat *ns, unsigned int levels)
{
	struct stat own;
	int k;

	/* a zombie's NSpid tells its namespace's depth; it has no threads */
	if (!t->zombie && pidns_stat(t->pid, &own))
		return -1;
	if (!t->zombie && !same_ns(&own, ns)) {
		pr_err("%d is in another pid namespace than the tree's root %d: nested pid namespaces are not supported yet",
		       t->pid, t->tree->t[0]->pid);
		return -1;
	}
	t->vpid = inner_pid(t->pid, levels);
	if (!t->tree->pidns)
		return t->vpid == t->pid ? 0 : -1;
	if (t->vpid <= 0)
		return -1;
	if (t->zombie || !t->nr_tids)
		return 0;
	t->vtids = calloc((size_t)t->nr_tids, sizeof(*t->vtids));
	if (!t->vtids)
		return -1;
	for (k = 0; k < t->nr_tids; k++) {
		t->vtids[k] = k ? inner_pid(t->tids[k], levels) : t->vpid;
		if (t->vtids[k] <= 0)
			return -1;
	}
	return 0;
}

/* Inside the namespace, a group or session led from outside it has no number. */
static int check_ids_inside(const struct dump_tree *tr)
{
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		const struct dump_task *t = tr->t[i];

		if (dump_vpid(tr, t->stat.pgrp) && dump_vpid(tr, t->stat.session))
			continue;
		pr_err("%d: its process group %d or session %d is not a process of the tree's pid namespace: not supported yet",
		       t->pid, t->stat.pgrp, t->stat.session);
		return -1;
	}
	return 0;
}

int dump_pidns_check(struct dump_tree *tr)
{
	struct stat self, root;
	struct proc_status st = { 0 };
	unsigned int levels, own_levels;
	size_t i;

	if (pidns_stat(getpid(), &self) || pidns_stat(tr->t[0]->pid, &root))
		return -1;
	if (proc_read_status(getpid(), &st))
		return -1;
	own_levels = st.nr_nspid;
	proc_status_free(&st);
	levels = own_levels;
	tr->pidns = tree_pidns = !same_ns(&self, &root);
	if (tr->pidns) {
		levels = own_levels + 1;
		if (proc_read_status(tr->t[0]->pid, &st))
			return -1;
		if (st.nr_nspid != levels || st.nspid[levels - 1] != 1) {
			pr_err("the root %d is in another pid namespace than criu without being its init (pid 1) one level below: not supported yet",
			       tr->t[0]->pid);
			proc_status_free(&st);
			return -1;
		}
		proc_status_free(&st);
		pr_info("the tree of %d is a pid namespace of its own", tr->t[0]->pid);
	}
	for (i = 0; i < tr->nr; i++)
		if (task_vpids(tr->t[i], &root, levels))
			return -1;
	return tr->pidns ? check_ids_inside(tr) : 0;
}

bool dump_in_pidns(void)
{
	return tree_pidns;
}

pid_t dump_vpid(const struct dump_tree *tr, pid_t pid)
{
	const struct dump_task *t;

	if (!tr->pidns)
		return pid;
	t = dump_tree_find(tr, pid);
	return t ? t->vpid : 0;
}

pid_t dump_vtid(const struct dump_task *t, pid_t tid)
{
	int k;

	if (!t->vtids)
		return tid;
	for (k = 0; k < t->nr_tids; k++)
		if (t->tids[k] == tid)
			return t->vtids[k];
	return 0;
}
