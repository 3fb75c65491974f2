/*
 * Restore, step 1 for the tree: inventory.img and pstree.img, validated as
 * untrusted input, then every process's images (restore-images.c).
 *
 * pstree.img rules: 1..RST_MAX_TASKS entries, pids unique (threads too),
 * the root first with ppid 0 and the inventory's root pid, every other
 * ppid naming an earlier entry that is not a zombie. A live process has
 * 1..RST_MAX_THREADS_IMG threads, its pid first; a zombie has none.
 *
 * Sessions and groups are checked here against what the restore can build
 * (restore-children.c does it): a session is led by its process (setsid),
 * inherited from the parent, or one whose leader had exited: a helper with
 * that pid makes it and forks its first members (rst_tree.sess_helper),
 * which must share one parent; a group is led by its process, joined
 * (leader in the tree, same session), the root's outside group with
 * --shell-job, the group of an exited session leader held by a first
 * member, or one whose leader had exited: a helper with that pid creates
 * it (rst_tree.helper). Anything else is refused here, before a process
 * exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "image.h"
#include "inventory.h"
#include "restore.h"
#include "vma.h"
#include "files.h"
#include "sk-unix.pb-c.h"

#define PID_MAX_LIMIT	(1u << 22)

ssize_t rst_tree_find(const struct rst_tree *tr, pid_t pid)
{
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if (tr->ps[i]->pid == (uint32_t)pid)
			return (ssize_t)i;
	return -1;
}

static int id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* @id is a pid or tid of the tree (tr->ids: sorted, built by check_ids). */
static bool id_taken(const struct rst_tree *tr, uint32_t id)
{
	return bsearch(&id, tr->ids, tr->nr_ids, sizeof(*tr->ids), id_cmp) != NULL;
}

/* Every pid and tid of the tree once (a live entry's pid is its first thread). */
static int check_ids(struct rst_tree *tr)
{
	size_t i, k, n = 0;

	for (i = 0; i < tr->nr; i++)
		n += tr->ps[i]->n_threads ? tr->ps[i]->n_threads : 1;
	tr->ids = malloc(n * sizeof(*tr->ids));
	if (!tr->ids)
		return -1;
	for (i = 0; i < tr->nr; i++) {
		const PstreeEntry *e = tr->ps[i];

		for (k = 0; k < e->n_threads; k++)
			tr->ids[tr->nr_ids++] = e->threads[k];
		if (!e->n_threads)
			tr->ids[tr->nr_ids++] = e->pid;
	}
	qsort(tr->ids, tr->nr_ids, sizeof(*tr->ids), id_cmp);
	for (i = 1; i < tr->nr_ids; i++)
		if (tr->ids[i] == tr->ids[i - 1]) {
			pr_err("pstree.img: pid %u appears twice (as a process or a thread)",
			       tr->ids[i]);
			return -1;
		}
	return 0;
}

static int check_entry(const struct rst_tree *tr, size_t i)
{
	const PstreeEntry *e = tr->ps[i];
	size_t k;
	ssize_t p;

	/* pid 1: only the root of a pid namespace of its own */
	if ((e->pid < 2 && !(i == 0 && tr->pidns && e->pid == 1)) || e->pid >= PID_MAX_LIMIT ||
	    e->sid >= PID_MAX_LIMIT ||
	    e->pgid >= PID_MAX_LIMIT || !e->sid || !e->pgid) {
		pr_err("pstree.img: entry %zu: pid %u, group %u, session %u out of range", i,
		       e->pid, e->pgid, e->sid);
		return -1;
	}
	if (e->n_threads > RST_MAX_THREADS_IMG ||
	    (e->n_threads && e->threads[0] != e->pid)) {
		pr_err("pstree.img: pid %u: %zu threads (at most %d, the leader first)", e->pid,
		       e->n_threads, RST_MAX_THREADS_IMG);
		return -1;
	}
	for (k = 1; k < e->n_threads; k++)
		if (e->threads[k] < 2 || e->threads[k] >= PID_MAX_LIMIT) {
			pr_err("pstree.img: pid %u: thread %u out of range", e->pid, e->threads[k]);
			return -1;
		}
	if (i == 0) {
		if (e->ppid || !e->n_threads) {
			pr_err("pstree.img: the root %u must come first, alive, with ppid 0", e->pid);
			return -1;
		}
		if (tr->pidns && e->pid != 1) {
			pr_err("pstree.img: the root %u of a pid namespace of its own is not its pid 1",
			       e->pid);
			return -1;
		}
		if (tr->inv->has_root_pid && tr->inv->root_pid != e->pid) {
			pr_err("inventory root pid %u differs from pstree root %u", tr->inv->root_pid,
			       e->pid);
			return -1;
		}
		return 0;
	}
	p = rst_tree_find(tr, (pid_t)e->ppid);
	if (p < 0 || (size_t)p >= i || !tr->ps[p]->n_threads) {
		pr_err("pstree.img: the parent %u of %u is not an earlier live process of the tree",
		       e->ppid, e->pid);
		return -1;
	}
	return 0;
}

static int check_session(struct rst_tree *tr, size_t i)
{
	const PstreeEntry *e = tr->ps[i], *root = tr->ps[0];
	size_t k;

	if (e->sid == e->pid)
		return 0;
	if (i == 0) {
		if (tr->shell_job)
			return 0;
		pr_err("the task was in session %u, which is not its own: restore it with --shell-job",
		       e->sid);
		return -1;
	}
	if (tr->ps[rst_tree_find(tr, (pid_t)e->ppid)]->sid == e->sid) {
		if (e->sid == root->sid && root->sid != root->pid && !tr->shell_job) {
			pr_err("pstree.img: session %u is the root's outside session: needs --shell-job",
			       e->sid);
			return -1;
		}
		return 0;	/* inherited from the parent */
	}
	if (rst_tree_find(tr, (pid_t)e->sid) >= 0 || id_taken(tr, e->sid) ||
	    e->sid == root->sid) {
		pr_err("pstree.img: %u is in session %u, its parent %u in another: not supported yet",
		       e->pid, e->sid, e->ppid);
		return -1;
	}
	/*
	 * The session's leader had exited: a helper takes its pid, calls
	 * setsid and forks the session's first members, which its exit hands
	 * to their parent (a subreaper meanwhile). They need one parent.
	 */
	for (k = 0; k < i; k++)
		if (tr->sess_helper[k] == (pid_t)e->sid && tr->ps[k]->ppid != e->ppid) {
			pr_err("pstree.img: session %u (leader exited) has first members under %u and %u: "
			       "not supported yet", e->sid, tr->ps[k]->ppid, e->ppid);
			return -1;
		}
	tr->sess_helper[i] = (pid_t)e->sid;
	return 0;
}

/* A first member of session @sid (made by its helper) is in group @sid. */
static bool session_group_made(const struct rst_tree *tr, uint32_t sid)
{
	size_t k;

	for (k = 0; k < tr->nr; k++)
		if (tr->sess_helper[k] == (pid_t)sid && tr->ps[k]->pgid == sid)
			return true;
	return false;
}

/* The first process (pstree order) in group @pgid. */
static size_t first_member(const struct rst_tree *tr, uint32_t pgid)
{
	size_t i;

	for (i = 0; tr->ps[i]->pgid != pgid; i++)
		;
	return i;
}

static int check_group(struct rst_tree *tr, size_t i)
{
	const PstreeEntry *e = tr->ps[i], *root = tr->ps[0], *leader;
	ssize_t l;
	size_t f;

	if (tr->shell_job && e->pgid == root->pgid)
		return 0;	/* a shell job's group: criu's */
	if (e->pgid == e->pid)
		return 0;
	if (i == 0) {
		pr_err("the task was in process group %u, which is not its own: restore it with --shell-job",
		       e->pgid);
		return -1;
	}
	l = rst_tree_find(tr, (pid_t)e->pgid);
	if (l >= 0) {
		leader = tr->ps[l];
		if (leader->pgid != e->pgid || leader->sid != e->sid) {
			pr_err("pstree.img: group %u of %u: its leader is in group %u session %u: "
			       "not supported yet", e->pgid, e->pid, leader->pgid, leader->sid);
			return -1;
		}
		return 0;
	}
	if (e->pgid == e->sid && session_group_made(tr, e->sid))
		return 0;	/* the session helper's group, held by a first member */
	if (e->pgid == e->sid || id_taken(tr, e->pgid)) {
		pr_err("pstree.img: group %u of %u: its leader (the session's) is missing: "
		       "not supported yet", e->pgid, e->pid);
		return -1;
	}
	f = first_member(tr, e->pgid);
	if (tr->sess_helper[f]) {
		pr_err("pstree.img: group %u (leader exited) begins with %u, a first member of "
		       "session %u (leader exited): not supported yet", e->pgid, tr->ps[f]->pid,
		       e->sid);
		return -1;
	}
	if (tr->ps[f]->sid != e->sid) {
		pr_err("pstree.img: group %u spans sessions %u and %u", e->pgid, tr->ps[f]->sid,
		       e->sid);
		return -1;
	}
	tr->helper[f] = (pid_t)e->pgid;	/* the first member's parent creates it */
	return 0;
}

/*
 * A process sharing its parent's descriptor table (files_of): its parent
 * forks it with CLONE_FILES once its own fds are in place, so it must be a
 * live child without children, in its parent's session, in its parent's
 * group or its own (what the dump accepts).
 */
static int check_sharer(struct rst_tree *tr, size_t i)
{
	const PstreeEntry *e = tr->ps[i], *p;
	ssize_t pi;
	size_t k;

	if (!e->has_files_of)
		return 0;
	pi = rst_tree_find(tr, (pid_t)e->ppid);
	p = pi >= 0 ? tr->ps[pi] : NULL;
	for (k = i + 1; k < tr->nr && tr->ps[k]->ppid != e->pid; k++)
		;
	if (!p || e->files_of != e->ppid || !e->n_threads || tr->sharer[pi] || k < tr->nr ||
	    e->sid != p->sid || (e->pgid != p->pgid && e->pgid != e->pid) || tr->helper[i] ||
	    tr->sess_helper[i]) {
		pr_err("pstree.img: %u shares the descriptor table of %u: only a live child without "
		       "children, in its parent's session and group or its own, can", e->pid,
		       e->files_of);
		return -1;
	}
	tr->sharer[i] = true;
	return 0;
}

static int read_pstree(struct rst_tree *tr)
{
	size_t i;

	if (img_read_all(tr->dirfd, IMG_PSTREE, 0, RST_MAX_TASKS, NULL, NULL,
			 (ProtobufCMessage ***)&tr->ps, &tr->nr))
		return -1;
	if (!tr->nr) {
		pr_err("pstree.img: no process");
		return -1;
	}
	tr->helper = calloc(tr->nr, sizeof(*tr->helper));
	tr->sess_helper = calloc(tr->nr, sizeof(*tr->sess_helper));
	tr->ri = calloc(tr->nr, sizeof(*tr->ri));
	tr->sharer = calloc(tr->nr, sizeof(*tr->sharer));
	tr->sharer_files = calloc(tr->nr, sizeof(*tr->sharer_files));
	if (!tr->helper || !tr->sess_helper || !tr->ri || !tr->sharer || !tr->sharer_files)
		return -1;
	for (i = 0; i < tr->nr; i++)
		if (check_entry(tr, i))
			return -1;
	if (check_ids(tr))
		return -1;
	for (i = 0; i < tr->nr; i++)
		if (check_session(tr, i))
			return -1;
	for (i = 0; i < tr->nr; i++)
		if (check_group(tr, i))
			return -1;
	for (i = 0; i < tr->nr; i++)
		if (check_sharer(tr, i))
			return -1;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* The union of every live process's vmas, for the staging reservations. */
static int collect_targets(struct rst_tree *tr)
{
	size_t i, k, n = 0, total = 0;
	uint64_t (*r)[2];

	for (i = 0; i < tr->nr; i++)
		if (!tr->ri[i].zombie)
			total += tr->ri[i].mm->n_vmas;
	r = calloc(total + 1, sizeof(*r));
	if (!r)
		return -1;
	for (i = 0; i < tr->nr; i++)
		for (k = 0; !tr->ri[i].zombie && k < tr->ri[i].mm->n_vmas; k++) {
			const VmaEntry *v = tr->ri[i].mm->vmas[k];

			if (v->kind == VMA_KIND__VMA_VSYSCALL)
				continue;
			r[n][0] = v->start;
			r[n++][1] = v->end;
		}
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 0, k = 0; i < n; i++) {
		if (k && r[i][0] <= r[k - 1][1]) {
			if (r[i][1] > r[k - 1][1])
				r[k - 1][1] = r[i][1];
			continue;
		}
		r[k][0] = r[i][0];
		r[k++][1] = r[i][1];
	}
	tr->targets.r = r;
	tr->targets.nr = k;
	return 0;
}

/* The same file behind the vmas of two processes (their reg-files ids may differ). */
static bool same_file(const struct rst_image *ra, const VmaEntry *a, const struct rst_image *rb,
		      const VmaEntry *b)
{
	return a->kind != VMA_KIND__VMA_FILE_PRIVATE ||
	       vma_same_file(rst_reg_file(ra, a->file_id), rst_reg_file(rb, b->file_id));
}

/*
 * Pages shared with the parent since fork() (PE_COW runs) are taken over
 * from the parent's staged copy: the parent must be a live process of the
 * tree with the very same vma (range, kind, offset, file).
 */
static int link_cow(struct rst_tree *tr, size_t k)
{
	struct rst_image *ri = &tr->ri[k];
	const struct rst_image *pr;
	ssize_t p = k ? rst_tree_find(tr, (pid_t)tr->ps[k]->ppid) : -1;
	size_t i;

	if (!ri->nr_cow)
		return 0;
	if (p < 0 || (size_t)p >= k || tr->ri[p].zombie) {
		pr_err("pagemap-%d.img: pages shared with the parent process, which is not a live process of the tree",
		       ri->pid);
		return -1;
	}
	pr = &tr->ri[p];
	ri->inherit = malloc(ri->mm->n_vmas * sizeof(*ri->inherit) + 1);
	if (!ri->inherit) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < ri->mm->n_vmas; i++)
		ri->inherit[i] = -1;
	for (i = 0; i < ri->nr_cow; i++) {
		const VmaEntry *v = ri->mm->vmas[ri->cow[i].vma];
		long j;

		if (ri->inherit[ri->cow[i].vma] >= 0)
			continue;
		j = vma_inherited_from(pr->mm, v);
		if (j < 0 || !same_file(ri, v, pr, pr->mm->vmas[j])) {
			pr_err("pagemap-%d.img: pages at %#llx shared with parent %d, which has no such vma",
			       ri->pid, (unsigned long long)ri->cow[i].vaddr, pr->pid);
			return -1;
		}
		ri->inherit[ri->cow[i].vma] = (int32_t)j;
	}
	return 0;
}

/*
 * A sharer's fds-PID.img must be its parent's (one table): then it is
 * dropped, the parent's fds are the table's, restored once.
 */
static int drop_sharer_fds(struct rst_tree *tr, size_t k)
{
	struct rst_image *ri = &tr->ri[k];
	const struct rst_image *p = &tr->ri[rst_tree_find(tr, (pid_t)tr->ps[k]->ppid)];
	size_t i;
	bool same = ri->nr_fds == p->nr_fds;

	for (i = 0; same && i < ri->nr_fds; i++)
		same = ri->fds[i]->fd == p->fds[i]->fd && ri->fds[i]->kind == p->fds[i]->kind &&
		       ri->fds[i]->id == p->fds[i]->id && ri->fds[i]->cloexec == p->fds[i]->cloexec;
	if (!same) {
		pr_err("fds-%d.img: %d shares the descriptor table of %d, but its fds differ",
		       ri->pid, ri->pid, p->pid);
		return -1;
	}
	for (i = 0; i < ri->nr_fds; i++)
		img_free_entry(&ri->fds[i]->base);
	ri->nr_fds = 0;
	return 0;
}

/* ---- who opens each fd object ------------------------------------------- */

/* Nearest common ancestor of processes @a and @b (indices; par/depth of the tree). */
static size_t common_ancestor(const size_t *par, const unsigned int *depth, size_t a, size_t b)
{
	while (depth[a] > depth[b])
		a = par[a];
	while (depth[b] > depth[a])
		b = par[b];
	while (a != b) {
		a = par[a];
		b = par[b];
	}
	return a;
}

static void add_user(struct rst_opener *op, const size_t *par, const unsigned int *depth,
		     size_t i, int kind)
{
	if (op->proc == SIZE_MAX) {
		op->proc = i;
		op->kind = kind;
	} else {
		op->proc = common_ancestor(par, depth, op->proc, i);
	}
}

struct grouped {
	int		store;
	uint64_t	group;
	size_t		k;
};

static int grouped_cmp(const void *a, const void *b)
{
	const struct grouped *x = a, *y = b;

	if (x->store != y->store)
		return x->store < y->store ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

/* Objects made together (a pipe's ends) get the common ancestor of all their users. */
static int join_groups(struct rst_tree *tr, const struct fd_rst *fdr, const size_t *par,
		       const unsigned int *depth)
{
	struct grouped *g = malloc((tr->nr_obj + 1) * sizeof(*g));
	size_t n = 0, i, j, k;

	if (!g)
		return -1;
	for (k = 0; k < tr->nr_obj; k++) {
		const struct fd_ops *ops = fd_ops(fdr->obj[k].store);
		uint64_t grp = ops && ops->group ? ops->group(fdr, &fdr->obj[k]) : 0;

		if (grp && tr->opener[k].proc != SIZE_MAX)
			g[n++] = (struct grouped){ (int)fdr->obj[k].store, grp, k };
	}
	qsort(g, n, sizeof(*g), grouped_cmp);
	for (i = 0; i < n; i = j) {
		size_t a = tr->opener[g[i].k].proc;

		for (j = i + 1; j < n && !grouped_cmp(&g[i], &g[j]); j++)
			a = common_ancestor(par, depth, a, tr->opener[g[j].k].proc);
		for (k = i; k < j; k++)
			tr->opener[g[k].k].proc = a;
	}
	free(g);
	return 0;
}

/*
 * A descriptor in flight is opened by the process that makes the socket
 * whose queue holds it (files-unix-rst.c sends it there): both get the
 * common ancestor of their users; 1 if an opener moved, -1 logged.
 */
static int carry_one(struct rst_tree *tr, const struct fd_rst *fdr, const size_t *par,
		     const unsigned int *depth, size_t k, uint32_t id)
{
	const struct fd_obj *o = fd_rst_find(fdr, id);
	struct rst_opener *c = &tr->opener[k], *m;
	size_t a;

	if (!o || !fd_inflight_kind(o->store)) {
		pr_err("unix-sks.img: object %u: descriptor in flight %u is no object of a kind "
		       "that may be in flight", fdr->obj[k].id, id);
		return -1;
	}
	m = &tr->opener[o - fdr->obj];
	if (m->proc == SIZE_MAX) {
		*m = (struct rst_opener){ c->proc, (int)o->store };
		return 1;
	}
	a = common_ancestor(par, depth, c->proc, m->proc);
	if (a == c->proc && a == m->proc)
		return 0;
	c->proc = m->proc = a;
	return 1;
}

static int carry_inflight(struct rst_tree *tr, const struct fd_rst *fdr, const size_t *par,
			  const unsigned int *depth)
{
	size_t k, i, j;
	int moved = 0, r;

	for (k = 0; k < tr->nr_obj; k++) {
		const UnixSkEntry *e = (const UnixSkEntry *)fdr->obj[k].e;

		if (fdr->obj[k].store != FD_KIND__FD_UNIX_SK || tr->opener[k].proc == SIZE_MAX)
			continue;
		for (i = 0; i < e->n_scm; i++)
			for (j = 0; j < e->scm[i]->n_rights; j++) {
				r = carry_one(tr, fdr, par, depth, k, e->scm[i]->rights[j]);
				if (r < 0)
					return -1;
				moved |= r;
			}
	}
	return moved;
}

/* Groups and descriptors in flight, until no opener moves (each only moves up). */
static int plan_groups(struct rst_tree *tr, const struct fd_rst *fdr, const size_t *par,
		       const unsigned int *depth)
{
	int r;

	do {
		if (join_groups(tr, fdr, par, depth))
			return -1;
		r = carry_inflight(tr, fdr, par, depth);
	} while (r > 0);
	return r;
}

/*
 * Every fd object is opened by one process, the nearest common ancestor of
 * all processes using it (or another object of its group), before it forks;
 * each process takes over its parent's open objects, so the object reaches
 * every user through the forks and is one open file description, one pipe,
 * as dumped. Every live process reads the same objects: same indices.
 */
static int plan_openers(struct rst_tree *tr)
{
	const struct fd_rst *fdr = &tr->ri[0].fdr;
	size_t *par = calloc(tr->nr, sizeof(*par)), i, j, k;
	unsigned int *depth = calloc(tr->nr, sizeof(*depth));
	int ret = -1;

	tr->nr_obj = fdr->nr_obj;
	tr->opener = malloc((tr->nr_obj + 1) * sizeof(*tr->opener));
	if (!par || !depth || !tr->opener)
		goto out;
	for (k = 0; k < tr->nr_obj; k++)
		tr->opener[k] = (struct rst_opener){ SIZE_MAX, 0 };
	for (i = 1; i < tr->nr; i++) {
		par[i] = (size_t)rst_tree_find(tr, (pid_t)tr->ps[i]->ppid);	/* earlier: checked */
		depth[i] = depth[par[i]] + 1;
	}
	for (i = 0; i < tr->nr; i++) {
		const struct rst_image *ri = &tr->ri[i];

		if (ri->zombie)
			continue;
		if (ri->fdr.nr_obj != tr->nr_obj) {
			pr_err("process %d read %zu fd objects, the root %zu", ri->pid,
			       ri->fdr.nr_obj, tr->nr_obj);
			goto out;
		}
		for (j = 0; j < ri->nr_fds; j++) {
			const struct fd_obj *o = fd_rst_find(&ri->fdr, ri->fds[j]->id);

			k = (size_t)(o - ri->fdr.obj);
			add_user(&tr->opener[k], par, depth, i, (int)ri->fds[j]->kind);
		}
	}
	ret = plan_groups(tr, fdr, par, depth);
out:
	free(par);
	free(depth);
	return ret;
}

/*
 * The kernel hands out a new audit session id whenever a login uid is set;
 * no id can be asked for. A restored task inherits criu's ids, and can
 * leave them for none (restore-core.c): a task that was in a session comes
 * back only from a restore that runs in that very session.
 */
static int check_audit(const struct rst_tree *tr, const struct rst_image *ri)
{
	const TaskCoreEntry *c = ri->core;
	const struct proc_audit *own = &tr->criu_audit;

	if (!c->has_loginuid || !c->has_audit_session)
		return 0;	/* dumped on a kernel without audit */
	if (c->loginuid == PROC_AUDIT_UNSET && c->audit_session == PROC_AUDIT_UNSET)
		return 0;
	if (own->present && c->loginuid == own->loginuid && c->audit_session == own->sessionid)
		return 0;
	pr_err("%d was in audit session %u (login uid %u), this criu runs in session %u: a task comes back into its audit session only from within that session; anywhere else it is not supported yet",
	       ri->pid, c->audit_session, c->loginuid, own->present ? own->sessionid : PROC_AUDIT_UNSET);
	return -1;
}

/*
 * Is @id a process (type 1), a process's main thread (0, the only threads
 * there are when owners are set) or a group (2) of the tree?
 */
static bool owner_in_tree(const struct rst_tree *tr, uint32_t type, uint32_t id)
{
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if ((type != F_OWNER_PGRP && tr->ps[i]->pid == id) ||
		    (type == F_OWNER_PGRP && tr->ps[i]->pgid == id))
			return true;
	return false;
}

/* A signal owner is a process or group of the restored tree (the dump refuses others). */
static int check_owners(const struct rst_tree *tr, const struct rst_image *ri)
{
	static const char *const what[] = { "thread", "process", "process group" };
	size_t k;

	for (k = 0; k < ri->nr_fds; k++) {
		const FownEntry *f = ri->fds[k]->fown;

		if (!f || !f->pid || owner_in_tree(tr, f->type, f->pid))
			continue;
		pr_err("fds-%d.img: fd %u: signal owner %s %u is not in the restored tree", ri->pid,
		       ri->fds[k]->fd, what[f->type], f->pid);
		return -1;
	}
	return 0;
}

int rst_tree_read(int dirfd, const struct cr_options *o, struct rst_tree *tr)
{
	ProtobufCMessage *m;
	size_t i;

	memset(tr, 0, sizeof(*tr));
	tr->dirfd = dirfd;
	tr->shell_job = o->shell_job;
	tr->criu_pid = getpid();
	tr->criu_sid = getsid(0);
	tr->criu_pgid = getpgid(0);
	if (proc_read_audit(tr->criu_pid, tr->criu_pid, &tr->criu_audit))
		return -1;
	if (img_read_one(dirfd, IMG_INVENTORY, 0, &m)) {
		pr_err("no usable inventory.img: the dump is missing or incomplete");
		return -1;
	}
	tr->inv = (InventoryEntry *)m;
	tr->pidns = tr->inv->has_root_pid_ns && tr->inv->root_pid_ns;
	if (inventory_check(tr->inv) || read_pstree(tr) ||
	    rst_shmem_read(dirfd, &tr->shm))
		return -1;
	for (i = 0; i < tr->nr; i++) {
		struct rst_image *ri = &tr->ri[i];

		ri->dirfd = dirfd;
		ri->inv = tr->inv;
		ri->pstree = tr->ps[i];
		ri->pid = (pid_t)tr->ps[i]->pid;
		if (rst_images_read(ri) ||
		    (!ri->zombie && (rst_shmem_check_mm(&tr->shm, ri->mm, ri->pid) ||
				     check_audit(tr, ri))))
			return -1;
		ri->fdr.shm = &tr->shm;	/* a mapped memfd's fds reopen its object */
		tr->nr_live += !ri->zombie;
	}
	for (i = 0; i < tr->nr; i++)
		if (check_owners(tr, &tr->ri[i]) || link_cow(tr, i) ||
		    (tr->sharer[i] && drop_sharer_fds(tr, i)))
			return -1;
	return plan_openers(tr) || collect_targets(tr);
}

void rst_tree_drop_pages(struct rst_tree *tr)
{
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		if (tr->ri[i].pages_img)
			img_close(tr->ri[i].pages_img);
		tr->ri[i].pages_img = NULL;
		tr->ri[i].pages_fd = -1;
	}
}

void rst_tree_free(struct rst_tree *tr)
{
	size_t i;

	for (i = 0; tr->ri && i < tr->nr; i++)
		rst_images_free(&tr->ri[i]);
	free(tr->ri);
	img_free_all((ProtobufCMessage **)tr->ps, tr->nr);
	if (tr->inv)
		img_free_entry(&tr->inv->base);
	free(tr->helper);
	free(tr->sess_helper);
	free(tr->ids);
	free(tr->opener);
	free(tr->sharer);
	free(tr->sharer_files);
	rst_shmem_free(&tr->shm);
	utsipc_file_release(&tr->utsipc.sems);
	utsipc_file_release(&tr->utsipc.msqs);
	free(tr->targets.r);
	memset(tr, 0, sizeof(*tr));
}
