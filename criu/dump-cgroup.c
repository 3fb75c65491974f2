/*
 * Dump of cgroups (include/cgroup.h, Documentation/namespaces.md "Cgroups"):
 * each process's membership from /proc/PID/task/TID/cgroup (every thread
 * must share its leader's), the sets written to cgroup.img with criu's own
 * first, and per hierarchy the groups at and below the root process's one
 * with their properties.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "dump-cgroup: "
#include "cgroup.h"
#include "dump.h"
#include "image.h"
#include "log.h"
#include "proc_parse.h"
#include "proc_parse_text.h"

struct cg_dump {
	struct proc_cgroups *set;	/* [nr]: set k has id k + 1 */
	bool *used;			/* by a process of the tree */
	size_t nr;
	const struct cr_options *o;
};

static int read_cg(pid_t pid, pid_t tid, struct proc_cgroups *out)
{
	char path[96], *buf;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	if (proc_read_file(path, 1 << 20, &buf, &len))
		return -1;
	ret = proc_parse_cgroup(buf, len, path, out);
	free(buf);
	return ret;
}

static bool same_cg(const struct proc_cgroups *a, const struct proc_cgroups *b)
{
	size_t i;

	if (a->nr != b->nr)
		return false;
	for (i = 0; i < a->nr; i++)
		if (strcmp(cg_hier_name(&a->c[i]), cg_hier_name(&b->c[i])) ||
		    strcmp(a->c[i].path, b->c[i].path))
			return false;
	return true;
}

/* The id of @cg's set, added when new (then @cg is the dump's). */
static int set_id(struct cg_dump *d, struct proc_cgroups *cg, uint32_t *id)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		if (same_cg(&d->set[i], cg)) {
			proc_cgroups_free(cg);
			*id = i + 1;
			return 0;
		}
	if (d->nr == CG_MAX_SETS || cg->nr > CG_MAX_CTLS) {
		pr_err("not supported yet: more than %d cgroup sets or %d hierarchies", CG_MAX_SETS, CG_MAX_CTLS);
		proc_cgroups_free(cg);
		return -1;
	}
	d->set[d->nr] = *cg;
	memset(cg, 0, sizeof(*cg));
	*id = ++d->nr;
	return 0;
}

/* A process's set; its threads must be in the same groups. */
static int task_set(struct cg_dump *d, struct dump_task *t)
{
	struct proc_cgroups lead, th;
	uint32_t id;
	int k;

	if (read_cg(t->pid, t->pid, &lead)) {
		if (t->zombie)
			return 0;	/* gone with its groups: it joins its parent's */
		return -1;
	}
	for (k = 0; !t->zombie && k < t->nr_tids; k++) {
		bool same;

		if (t->tids[k] == t->pid)
			continue;
		if (read_cg(t->pid, t->tids[k], &th)) {
			proc_cgroups_free(&lead);
			return -1;
		}
		same = same_cg(&lead, &th);
		proc_cgroups_free(&th);
		if (!same) {
			pr_err("thread %d of %d is in other cgroups than its process: per-thread cgroups are not supported yet",
			       t->tids[k], t->pid);
			proc_cgroups_free(&lead);
			return -1;
		}
	}
	if (set_id(d, &lead, &id))
		return -1;
	d->used[id - 1] = true;
	t->core.has_cg_set = true;
	t->core.cg_set = id;
	return 0;
}

static const char *path_in(const struct proc_cgroups *cg, const char *hier)
{
	size_t i;

	for (i = 0; i < cg->nr; i++)
		if (!strcmp(cg_hier_name(&cg->c[i]), hier))
			return cg->c[i].path;
	return NULL;
}

/* @p is @r or below it. */
static bool at_or_below(const char *p, const char *r)
{
	size_t l = strlen(r);

	return !strcmp(r, "/") || (!strncmp(p, r, l) && (!p[l] || p[l] == '/'));
}

static Est__CgroupDirEntry *new_dir(const char *name)
{
	Est__CgroupDirEntry *e = calloc(1, sizeof(*e));

	if (e) {
		est__cgroup_dir_entry__init(e);
		e->dir_name = strdup(name);
	}
	if (!e || !e->dir_name) {
		free(e);
		pr_err("out of memory");
		return NULL;
	}
	return e;
}

static void dir_free(Est__CgroupDirEntry *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n_children; i++)
		dir_free(e->children[i]);
	for (i = 0; i < e->n_properties; i++) {
		free(e->properties[i]->name);
		free(e->properties[i]->value);
		free(e->properties[i]);
	}
	free(e->children);
	free(e->properties);
	free(e->dir_perms);
	free(e->dir_name);
	free(e);
}

/* The child of @e named @name, added when new. */
static Est__CgroupDirEntry *child(Est__CgroupDirEntry *e, const char *name, size_t n)
{
	Est__CgroupDirEntry **c, *k;
	char buf[256];
	size_t i;

	snprintf(buf, sizeof(buf), "%.*s", (int)n, name);
	for (i = 0; i < e->n_children; i++)
		if (!strcmp(e->children[i]->dir_name, buf))
			return e->children[i];
	c = realloc(e->children, (e->n_children + 1) * sizeof(*c));
	if (!c)
		return NULL;
	e->children = c;
	k = new_dir(buf);
	if (k)
		e->children[e->n_children++] = k;
	return k;
}

/* Path @p (at or below @top's) into the tree of @top. */
static int add_path(Est__CgroupDirEntry *top, const char *p)
{
	const char *c = p + strlen(top->dir_name);

	while (*c == '/')
		c++;
	while (*c) {
		const char *e = strchrnul(c, '/');

		top = child(top, c, e - c);
		if (!top)
			return -1;
		c = *e ? e + 1 : e;
	}
	return 0;
}

static int add_prop(Est__CgroupDirEntry *e, const char *name, const char *value)
{
	Est__CgroupPropEntry **v = realloc(e->properties, (e->n_properties + 1) * sizeof(*v));
	Est__CgroupPropEntry *p = calloc(1, sizeof(*p));

	if (v)
		e->properties = v;
	if (!v || !p) {
		free(p);
		pr_err("out of memory");
		return -1;
	}
	est__cgroup_prop_entry__init(p);
	p->name = strdup(name);
	p->value = strdup(value);
	e->properties[e->n_properties++] = p;
	return p->name && p->value ? 0 : -1;
}

/* Properties and permissions of group @e at @dir (its full path), then below. */
static int read_dir(Est__CgroupDirEntry *e, const char *hier, const char *dir)
{
	const char *const *p;
	char v[CG_VALUE_MAX];
	struct stat st;
	size_t i;
	int r;

	if (stat(dir, &st)) {
		pr_perror("cannot stat cgroup %s", dir);
		return -1;
	}
	e->dir_perms = calloc(1, sizeof(*e->dir_perms));
	if (!e->dir_perms)
		return -1;
	est__cgroup_perms__init(e->dir_perms);
	e->dir_perms->mode = st.st_mode & 07777;
	e->dir_perms->uid = st.st_uid;
	e->dir_perms->gid = st.st_gid;
	if (!strcmp(hier, "devices") && (r = cg_read_ctl(dir, "devices.list", v, sizeof(v))) != 1 &&
	    (r || strcmp(v, "a *:* rwm"))) {
		pr_err("cgroup %s: device rules (devices.list) are not supported yet", dir);
		return -1;
	}
	for (p = cg_props_of(hier); *p; p++) {
		r = cg_read_ctl(dir, *p, v, sizeof(v));
		if (r < 0 || (!r && v[0] && add_prop(e, *p, v)))
			return -1;
	}
	for (i = 0; i < e->n_children; i++) {
		char sub[CG_PATH_MAX + 256];

		snprintf(sub, sizeof(sub), "%s/%s", dir, e->children[i]->dir_name);
		if (read_dir(e->children[i], hier, sub))
			return -1;
	}
	return 0;
}

/*
 * The groups of hierarchy @hier to carry: at and below the root process's,
 * unless that one holds criu too (criu's own groups are not the tree's).
 */
static int hier_dirs(struct cg_dump *d, const char *hier, const char *root, Est__CgroupDirEntry **top)
{
	const char *mine = path_in(&d->set[0], hier);
	char mnt[CG_PATH_MAX], dir[2 * CG_PATH_MAX];
	size_t i;

	*top = NULL;
	if (!strcmp(root, "/") || (mine && at_or_below(mine, root)))
		return 0;
	if (d->o->cgroup_dump_controller && strcmp(d->o->cgroup_dump_controller, hier))
		return 0;
	*top = new_dir(root);
	if (!*top)
		return -1;
	for (i = 0; i < d->nr; i++) {
		const char *p = path_in(&d->set[i], hier);

		if (d->used[i] && p && at_or_below(p, root) && add_path(*top, p))
			return -1;
	}
	if (cg_mount_of(hier, NULL, mnt, sizeof(mnt)))
		return -1;
	snprintf(dir, sizeof(dir), "%s%s", mnt, root);
	return read_dir(*top, hier, dir);
}

static Est__CgControllerEntry *new_controller(const char *hier, Est__CgroupDirEntry *top)
{
	Est__CgControllerEntry *c = calloc(1, sizeof(*c));
	char *names = strdup(hier), *tok, *save = NULL;

	if (!c || !names)
		goto err;
	est__cg_controller_entry__init(c);
	c->cnames = calloc(CG_MAX_CTLS, sizeof(char *));
	c->dirs = calloc(1, sizeof(*c->dirs));
	if (!c->cnames || !c->dirs)
		goto err;
	for (tok = strtok_r(names, ",", &save); tok && c->n_cnames < CG_MAX_CTLS;
	     tok = strtok_r(NULL, ",", &save))
		if (!(c->cnames[c->n_cnames++] = strdup(tok)))
			goto err;
	c->dirs[0] = top;
	c->n_dirs = 1;
	free(names);
	return c;
err:
	pr_err("out of memory");
	free(names);
	if (c) {
		while (c->n_cnames)
			free(c->cnames[--c->n_cnames]);
		free(c->cnames);
		free(c->dirs);
	}
	free(c);
	return NULL;
}

static void image_free(Est__CgroupEntry *e)
{
	size_t i, k;

	for (i = 0; i < e->n_sets; i++) {
		for (k = 0; k < e->sets[i]->n_ctls; k++)
			free(e->sets[i]->ctls[k]);
		free(e->sets[i]->ctls);
		free(e->sets[i]);
	}
	for (i = 0; i < e->n_controllers; i++) {
		Est__CgControllerEntry *c = e->controllers[i];

		for (k = 0; k < c->n_cnames; k++)
			free(c->cnames[k]);
		dir_free(c->dirs[0]);
		free(c->cnames);
		free(c->dirs);
		free(c);
	}
	free(e->sets);
	free(e->controllers);
}

/*
 * The root's own cgroup namespace: each of its groups must be the
 * namespace's root (the root sees "/" in every hierarchy), the one shape
 * carried; its members get cgns_prefix, the whole path.
 */
static int mark_cgns(const struct dump_tree *tr, Est__CgSetEntry *s)
{
	struct proc_cgroups view;
	size_t k;
	int ret = -1;

	if (proc_parse_cgroup(tr->cgns_view, strlen(tr->cgns_view), "cgroup namespace view", &view))
		return -1;
	for (k = 0; k < s->n_ctls; k++) {
		const char *seen = path_in(&view, s->ctls[k]->name);

		if (!seen || strcmp(seen, "/")) {
			pr_err("%d sees its group %s of %s as %s in its cgroup namespace: a namespace rooted above its group is not supported yet",
			       tr->t[0]->pid, s->ctls[k]->path, s->ctls[k]->name, seen ? seen : "nothing");
			goto out;
		}
		s->ctls[k]->has_cgns_prefix = true;
		s->ctls[k]->cgns_prefix = (uint32_t)strlen(s->ctls[k]->path);
	}
	ret = 0;
out:
	proc_cgroups_free(&view);
	return ret;
}

/* The sets, names and paths pointing into the parsed /proc text. */
static int fill_sets(struct cg_dump *d, const struct dump_tree *tr, Est__CgroupEntry *e)
{
	size_t i, k;

	e->sets = calloc(d->nr, sizeof(*e->sets));
	if (!e->sets)
		return -1;
	for (i = 0; i < d->nr; i++) {
		Est__CgSetEntry *s = calloc(1, sizeof(*s));

		if (!s)
			return -1;
		est__cg_set_entry__init(s);
		e->sets[e->n_sets++] = s;
		s->id = i + 1;
		s->ctls = calloc(d->set[i].nr, sizeof(*s->ctls));
		if (!s->ctls)
			return -1;
		for (k = 0; k < d->set[i].nr; k++) {
			Est__CgMemberEntry *m = calloc(1, sizeof(*m));

			if (!m)
				return -1;
			est__cg_member_entry__init(m);
			m->name = (char *)cg_hier_name(&d->set[i].c[k]);
			m->path = d->set[i].c[k].path;
			s->ctls[s->n_ctls++] = m;
		}
		if ((tr->own_ns & CLONE_NEWCGROUP) && s->id == tr->t[0]->core.cg_set &&
		    mark_cgns(tr, s))
			return -1;
	}
	return 0;
}

static int fill_controllers(struct cg_dump *d, const struct proc_cgroups *root, Est__CgroupEntry *e)
{
	size_t i;

	e->controllers = calloc(root->nr ? root->nr : 1, sizeof(*e->controllers));
	if (!e->controllers)
		return -1;
	for (i = 0; i < root->nr; i++) {
		const char *hier = cg_hier_name(&root->c[i]);
		Est__CgroupDirEntry *top;

		if (hier_dirs(d, hier, root->c[i].path, &top))
			return -1;
		if (!top)
			continue;
		e->controllers[e->n_controllers] = new_controller(hier, top);
		if (!e->controllers[e->n_controllers]) {
			dir_free(top);
			return -1;
		}
		e->n_controllers++;
	}
	return 0;
}

static int write_image(struct cg_dump *d, struct dump_tree *tr)
{
	Est__CgroupEntry e = EST__CGROUP_ENTRY__INIT;
	struct cr_img *img;
	int ret = -1;

	if (fill_sets(d, tr, &e) ||
	    fill_controllers(d, &d->set[tr->t[0]->core.cg_set - 1], &e))
		goto out;
	img = img_create(tr->dirfd, IMG_CGROUP, 0);
	if (!img)
		goto out;
	if (img_write_entry(img, &e.base)) {
		img_abort(img);
		goto out;
	}
	ret = img_commit(img);
out:
	image_free(&e);
	return ret;
}

int dump_cgroups(struct dump_tree *tr, uint32_t *root_cg_set)
{
	struct cg_dump d = { .o = tr->o };
	struct proc_cgroups self;
	uint32_t id;
	size_t i;
	int ret = -1;

	d.set = calloc(CG_MAX_SETS, sizeof(*d.set));
	d.used = calloc(CG_MAX_SETS, sizeof(*d.used));
	if (!d.set || !d.used || proc_read_cgroup(getpid(), &self) || set_id(&d, &self, &id))
		goto out;
	for (i = 0; i < tr->nr; i++)
		if (task_set(&d, tr->t[i]))
			goto out;
	if (!tr->t[0]->core.has_cg_set) {
		pr_err("the root %d has no cgroups to read", tr->t[0]->pid);
		goto out;
	}
	*root_cg_set = 1;
	ret = write_image(&d, tr);
out:
	for (i = 0; d.set && i < d.nr; i++)
		proc_cgroups_free(&d.set[i]);
	free(d.set);
	free(d.used);
	return ret;
}
