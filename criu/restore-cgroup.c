/*
 * Restore of cgroups (include/cgroup.h, Documentation/namespaces.md
 * "Cgroups"). criu, before the root is forked: the groups of cgroup.img are
 * found, made and given their properties as --manage-cgroups says, and each
 * set the tree uses becomes a list of cgroup.procs files. Each new task then
 * writes "0" (itself) into them before it does anything else, unless it is
 * in its parent's set already (it inherited the groups with the fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "restore-cgroup: "
#include "cgroup.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "restore.h"

struct rst_cg_set {
	uint32_t id;
	char **procs;		/* cgroup.procs of each group of the set */
	size_t nr;
	bool missing;		/* criu's set at dump, not all there: only the root may have it */
	bool cgns;		/* its groups are the roots of the tree's cgroup namespace */
};

/* The root's group per hierarchy, and where --cgroup-root moves it. */
struct cg_root {
	const char *hier, *from, *to;
};

static struct {
	bool active;
	enum cg_mode mode;
	struct rst_cg_set *set;
	size_t nr_sets;
	uint32_t cur;		/* the set this process is in; 0: criu's (inherited by forks) */
	bool in_cgns;		/* this process made the tree's cgroup namespace (or inherited it) */
	uint32_t stay;		/* the root stays in criu's groups when its set is this one */
	char **made;		/* groups criu made, parents first */
	size_t nr_made;
	struct cg_root root[CG_MAX_CTLS];
	size_t nr_root;
	const char *yard;
} cg;

static const char *mode_name(enum cg_mode m)
{
	static const char *const n[] = { "ignore", "none", "props", "soft", "full", "strict" };

	return n[m];
}

/* --cgroup-root [CTL:]PATH for hierarchy @hier: the one naming it, else the one without. */
static const char *root_opt(const struct cr_options *o, const char *hier)
{
	const char *any = NULL;
	unsigned int i;

	for (i = 0; i < o->cgroup_root.n; i++) {
		const char *v = o->cgroup_root.v[i], *c = strchr(v, ':');

		if (v[0] == '/')
			any = v;
		else if (c && (size_t)(c - v) == strlen(hier) && !strncmp(v, hier, c - v))
			return c + 1;
	}
	return any;
}

static int check_root_opts(const struct cr_options *o)
{
	unsigned int i;

	for (i = 0; i < o->cgroup_root.n; i++) {
		const char *v = o->cgroup_root.v[i], *p = v[0] == '/' ? v : strchr(v, ':');

		if (!p || !cg_path_ok(p[0] == ':' ? p + 1 : p)) {
			pr_err("--cgroup-root %s: not [CONTROLLER:]/PATH with a clean absolute path", v);
			return -1;
		}
	}
	return 0;
}

/* @p moved along with the root's group of @hier into its --cgroup-root. */
static int map_path(const char *hier, const char *p, char *out, size_t len)
{
	size_t i, l;

	for (i = 0; i < cg.nr_root; i++) {
		const struct cg_root *r = &cg.root[i];

		if (strcmp(r->hier, hier) || !r->to)
			continue;
		l = strcmp(r->from, "/") ? strlen(r->from) : 0;
		if (strncmp(p, r->from, l) || (p[l] && p[l] != '/'))
			break;
		if ((size_t)snprintf(out, len, "%s%s", strcmp(r->to, "/") ? r->to : "",
				     p[l] ? p + l : (strcmp(r->to, "/") ? "" : "/")) >= len)
			goto long_path;
		return 0;
	}
	if ((size_t)snprintf(out, len, "%s", p) >= len)
		goto long_path;
	return 0;
long_path:
	pr_err("cgroup path %.64s...: too long", p);
	return -1;
}

static int made(const char *dir)
{
	char **m = realloc(cg.made, (cg.nr_made + 1) * sizeof(*m));

	if (!m || !(m[cg.nr_made] = strdup(dir))) {
		pr_err("out of memory");
		if (m)
			cg.made = m;
		return -1;
	}
	cg.made = m;
	cg.nr_made++;
	return 0;
}

/* @dir made, with its missing parents; 1: it existed. */
static int make_dir(char *dir, size_t mnt_len)
{
	struct stat st;
	char *s;

	if (!stat(dir, &st))
		return S_ISDIR(st.st_mode) ? 1 : -1;
	for (s = dir + mnt_len + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (stat(dir, &st) && (mkdir(dir, 0755) || made(dir))) {
			pr_perror("cannot make cgroup %s", dir);
			*s = '/';
			return -1;
		}
		*s = '/';
	}
	if (mkdir(dir, 0755) || made(dir)) {
		pr_perror("cannot make cgroup %s", dir);
		return -1;
	}
	return 0;
}

static int write_ctl(const char *dir, const char *name, const char *value)
{
	char path[2 * CG_PATH_MAX], v[CG_VALUE_MAX + 64];
	const char *s = value;
	size_t l = 0;
	int fd, ret = -1;

	/* cgroup.subtree_control reads "a b" and takes "+a +b" */
	if (!strcmp(name, "cgroup.subtree_control")) {
		while (*s && l < sizeof(v) - 2) {
			v[l++] = '+';
			while (*s && *s != ' ' && l < sizeof(v) - 2)
				v[l++] = *s++;
			while (*s == ' ' && l < sizeof(v) - 2)
				v[l++] = *s++;
		}
		v[l] = 0;
		value = v;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, value, strlen(value)) == (ssize_t)strlen(value))
		ret = 0;
	if (ret)
		pr_perror("cannot write %s to %s", value, path);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* strict: an existing group must already have the image's properties. */
static int same_props(const Est__CgroupDirEntry *d, const char *dir)
{
	char v[CG_VALUE_MAX];
	size_t i;

	for (i = 0; i < d->n_properties; i++) {
		if (cg_read_ctl(dir, d->properties[i]->name, v, sizeof(v))) {
			pr_err("--manage-cgroups=strict: cgroup %s has no %s", dir, d->properties[i]->name);
			return -1;
		}
		if (strcmp(v, d->properties[i]->value)) {
			pr_err("--manage-cgroups=strict: cgroup %s exists with %s %s, the dump's is %s",
			       dir, d->properties[i]->name, v, d->properties[i]->value);
			return -1;
		}
	}
	return 0;
}

static int set_props(const Est__CgroupDirEntry *d, const char *dir, bool fresh)
{
	const Est__CgroupPerms *p = d->dir_perms;
	size_t i;

	if (fresh && p && (chown(dir, p->uid, p->gid) || chmod(dir, p->mode & 07777))) {
		pr_perror("cannot give cgroup %s its owner and mode", dir);
		return -1;
	}
	for (i = 0; i < d->n_properties; i++)
		if (write_ctl(dir, d->properties[i]->name, d->properties[i]->value))
			return -1;
	return 0;
}

/* One group (full path @dir, its mount @mnt_len long) per the mode, then those below. */
static int prepare_dir(const Est__CgroupDirEntry *d, char *dir, size_t mnt_len)
{
	size_t i, l = strlen(dir);
	struct stat st;
	int r;

	if ((cg.mode == CG_NONE || cg.mode == CG_PROPS) && stat(dir, &st)) {
		pr_perror("cgroup %s is not there: --manage-cgroups=%s does not make groups", dir,
			  mode_name(cg.mode));
		return -1;
	}
	r = make_dir(dir, mnt_len);
	if (r < 0)
		return -1;
	if (r == 1 && cg.mode == CG_STRICT && same_props(d, dir))
		return -1;
	if ((r == 0 || cg.mode == CG_PROPS || cg.mode == CG_FULL) && set_props(d, dir, r == 0))
		return -1;
	for (i = 0; i < d->n_children; i++) {
		if (l + 1 + strlen(d->children[i]->dir_name) >= 2 * CG_PATH_MAX) {
			pr_err("cgroup %s/%s: too long a path", dir, d->children[i]->dir_name);
			return -1;
		}
		snprintf(dir + l, 2 * CG_PATH_MAX - l, "/%s", d->children[i]->dir_name);
		if (prepare_dir(d->children[i], dir, mnt_len))
			return -1;
		dir[l] = 0;
	}
	return 0;
}

static int prepare_hier(const Est__CgControllerEntry *c)
{
	char hier[256] = "", mnt[CG_PATH_MAX], dir[2 * CG_PATH_MAX], p[CG_PATH_MAX];
	size_t i, l = 0;

	for (i = 0; i < c->n_cnames; i++)
		l += snprintf(hier + l, sizeof(hier) - l, "%s%s", i ? "," : "", c->cnames[i]);
	if (cg_mount_of(hier, cg.yard, mnt, sizeof(mnt)))
		return -1;
	for (i = 0; i < c->n_dirs; i++) {
		if (map_path(hier, c->dirs[i]->dir_name, p, sizeof(p)))
			return -1;
		snprintf(dir, sizeof(dir), "%s%s", mnt, strcmp(p, "/") ? p : "");
		if (prepare_dir(c->dirs[i], dir, strlen(mnt)))
			return -1;
	}
	return 0;
}

/* Set @s as the cgroup.procs files a task of it writes itself into. */
static int resolve_set(const Est__CgSetEntry *s, struct rst_cg_set *out, bool quiet)
{
	char mnt[CG_PATH_MAX], p[CG_PATH_MAX], f[2 * CG_PATH_MAX + 16];
	struct stat st;
	size_t i;

	out->id = s->id;
	out->cgns = cg_set_cgns(s);
	out->procs = calloc(s->n_ctls ? s->n_ctls : 1, sizeof(*out->procs));
	if (!out->procs)
		return -1;
	for (i = 0; i < s->n_ctls; i++) {
		if (cg_mount_of(s->ctls[i]->name, cg.yard, mnt, sizeof(mnt)) ||
		    map_path(s->ctls[i]->name, s->ctls[i]->path, p, sizeof(p)))
			return -1;
		snprintf(f, sizeof(f), "%s%s/cgroup.procs", mnt, strcmp(p, "/") ? p : "");
		if (stat(f, &st) && quiet) {
			pr_info("cgroup %s%s of criu's set at dump is not here", mnt, p);
			out->missing = true;
			return 0;
		}
		if (stat(f, &st)) {
			pr_perror("cgroup %s%s (hierarchy %s) is not there", mnt, p, s->ctls[i]->name);
			return -1;
		}
		out->procs[out->nr] = strdup(f);
		if (!out->procs[out->nr++])
			return -1;
	}
	return 0;
}

/* The root's groups, and where --cgroup-root puts them. */
static int roots(const struct cr_options *o, const Est__CgSetEntry *rs)
{
	size_t i;

	if (check_root_opts(o))
		return -1;
	for (i = 0; i < rs->n_ctls; i++) {
		struct cg_root *r = &cg.root[cg.nr_root++];

		r->hier = rs->ctls[i]->name;
		r->from = rs->ctls[i]->path;
		r->to = root_opt(o, r->hier);
		if (r->to && strcmp(r->to, r->from))
			cg.stay = 0;	/* the root moves */
	}
	return 0;
}

static bool used(const struct rst_tree *tr, uint32_t id)
{
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if (tr->ri[i].core->has_cg_set && tr->ri[i].core->cg_set == id)
			return true;
	return false;
}

/* Every process's set is one of cgroup.img's. */
static int check_tasks(const struct rst_tree *tr, const Est__CgroupEntry *e)
{
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		const TaskCoreEntry *c = tr->ri[i].core;

		if (c->has_cg_set && !cg_image_set(e, c->cg_set)) {
			pr_err("core-%d.img: cgroup set %u is not in cgroup.img", tr->ri[i].pid, c->cg_set);
			return -1;
		}
	}
	return 0;
}

static int prepare(const struct cr_options *o, const struct rst_tree *tr, const Est__CgroupEntry *e)
{
	const TaskCoreEntry *rc = tr->ri[0].core;
	size_t i;

	cg.stay = tr->inv->has_root_cg_set ? tr->inv->root_cg_set : 0;
	if (rc->has_cg_set && roots(o, cg_image_set(e, rc->cg_set)))
		return -1;
	for (i = 0; i < e->n_controllers; i++)
		if (prepare_hier(e->controllers[i]))
			return -1;
	cg.set = calloc(e->n_sets ? e->n_sets : 1, sizeof(*cg.set));
	if (!cg.set)
		return -1;
	for (i = 0; i < e->n_sets; i++) {
		if (!used(tr, e->sets[i]->id))
			continue;
		if (resolve_set(e->sets[i], &cg.set[cg.nr_sets++], e->sets[i]->id == cg.stay))
			return -1;
	}
	cg.active = true;
	return 0;
}

int rst_cgroup_prepare(const struct cr_options *o, const struct rst_tree *tr)
{
	ProtobufCMessage *m = NULL;
	int ret = -1;

	memset(&cg, 0, sizeof(cg));
	cg.mode = cg_mode_of(o);
	cg.yard = o->cgroup_yard;
	if (!faccessat(tr->dirfd, "cgroup.img", F_OK, 0) &&
	    (img_read_one(tr->dirfd, IMG_CGROUP, 0, &m) || cg_image_check((Est__CgroupEntry *)m)))
		goto out;
	if (cg.mode == CG_IGNORE && m && cg_image_cgns((Est__CgroupEntry *)m)) {
		pr_err("the tree has a cgroup namespace of its own, rooted at its groups: not supported yet with --manage-cgroups=ignore");
		goto out;
	}
	if (cg.mode == CG_IGNORE) {
		ret = 0;
		goto out;
	}
	if (!m) {
		/* a dump with --manage-cgroups=ignore: its sets name no groups */
		pr_info("no cgroup.img: the tree stays in criu's groups");
		return 0;
	}
	if (check_tasks(tr, (Est__CgroupEntry *)m))
		goto out;
	ret = prepare(o, tr, (Est__CgroupEntry *)m);
	if (ret)
		rst_cgroup_undo();
out:
	if (m)
		img_free_entry(m);
	/* the names in cg.root pointed into the image */
	cg.nr_root = 0;
	return ret;
}

/* In the groups of @s: the tree's own cgroup namespace, rooted there, made once (by the root). */
static int enter_cgns(const struct rst_cg_set *s)
{
	if (!s || !s->cgns || cg.in_cgns)
		return 0;
	if (unshare(CLONE_NEWCGROUP)) {
		pr_perror("cannot make the tree's cgroup namespace");
		return -1;
	}
	cg.in_cgns = true;
	return 0;
}

int rst_cgroup_enter(uint32_t id)
{
	const struct rst_cg_set *s = NULL;
	size_t i;

	if (!cg.active || !id || id == cg.cur)
		return 0;
	for (i = 0; i < cg.nr_sets && !s; i++)
		if (cg.set[i].id == id)
			s = &cg.set[i];
	if (!cg.cur && id == cg.stay) {
		cg.cur = id;	/* the root in the set of criu at dump: criu's groups now */
		return enter_cgns(s);
	}
	if (s && s->missing) {
		pr_err("cgroup set %u (criu's at dump) is not all on this host", id);
		return -1;
	}
	for (i = 0; s && i < s->nr; i++) {
		int fd = open(s->procs[i], O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1) {
			pr_perror("cannot move into cgroup %s", s->procs[i]);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	cg.cur = id;
	return enter_cgns(s);
}

void rst_cgroup_undo(void)
{
	while (cg.nr_made) {
		char *d = cg.made[--cg.nr_made];

		if (rmdir(d))
			pr_warn("cannot remove cgroup %s that the failed restore made: %s", d, strerror(errno));
		free(d);
	}
}

void rst_cgroup_release(void)
{
	size_t i, k;

	for (i = 0; i < cg.nr_sets; i++) {
		for (k = 0; k < cg.set[i].nr; k++)
			free(cg.set[i].procs[k]);
		free(cg.set[i].procs);
	}
	free(cg.set);
	while (cg.nr_made)
		free(cg.made[--cg.nr_made]);
	free(cg.made);
	memset(&cg, 0, sizeof(cg));
}
