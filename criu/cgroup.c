/*
 * Cgroups, what dump and restore share: the hierarchies' names and mounts,
 * the properties carried, and the checks of cgroup.img (include/cgroup.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "cgroup: "
#include "cgroup.h"
#include "log.h"
#include "options.h"
#include "proc_parse.h"

enum cg_mode cg_mode_of(const struct cr_options *o)
{
	static const char *const names[] = {
		[CG_IGNORE] = "ignore", [CG_NONE] = "none", [CG_PROPS] = "props",
		[CG_SOFT] = "soft", [CG_FULL] = "full", [CG_STRICT] = "strict",
	};
	size_t i;

	for (i = 0; o->manage_cgroups && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(o->manage_cgroups, names[i]))
			return i;
	return CG_SOFT;
}

const char *cg_hier_name(const struct proc_cgroup *c)
{
	return c->hier_id == 0 && !c->controllers[0] ? CG_V2_NAME : c->controllers;
}

/*
 * Properties per controller, in the order they are written: a limit the
 * kernel checks against another (cpu quota against its period, cpuset's
 * mems before tasks arrive) comes after what it depends on. The v2 list
 * ends with cgroup.subtree_control: the groups below need it. The v1 lists
 * hold what the established tool writes in its images too, so that its
 * dumps pass cg_image_check().
 */
static const char *const cpu_props[] = {
	"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.rt_period_us", "cpu.rt_runtime_us",
	"notify_on_release", NULL,
};
static const char *const memory_props[] = {
	"memory.use_hierarchy", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
	"memory.soft_limit_in_bytes", "notify_on_release", NULL,
};
static const char *const cpuset_props[] = {
	"cpuset.cpus", "cpuset.mems", "cpuset.memory_migrate", "cpuset.cpu_exclusive",
	"cpuset.mem_exclusive", "cpuset.mem_hardwall", "cpuset.memory_spread_page",
	"cpuset.memory_spread_slab", "cpuset.sched_load_balance", "cpuset.sched_relax_domain_level",
	"notify_on_release", NULL,
};
static const char *const pids_props[] = { "pids.max", "notify_on_release", NULL };
static const char *const blkio_props[] = { "blkio.weight", "notify_on_release", NULL };
static const char *const v2_props[] = {
	"cgroup.max.descendants", "cgroup.max.depth", "cpu.weight", "cpu.max", "cpuset.cpus",
	"cpuset.mems", "memory.min", "memory.low", "memory.high", "memory.max", "memory.swap.max",
	"pids.max", "io.weight", "cgroup.subtree_control", NULL,
};
static const char *const no_props[] = { NULL };

static const struct {
	const char *ctl;
	const char *const *props;
} prop_table[] = {
	{ "cpu", cpu_props }, { "memory", memory_props }, { "cpuset", cpuset_props },
	{ "pids", pids_props }, { "blkio", blkio_props }, { CG_V2_NAME, v2_props },
};

/* The first controller of @hier ("cpu,cpuacct") that has properties. */
const char *const *cg_props_of(const char *hier)
{
	char buf[256], *tok, *save = NULL;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", hier);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		for (i = 0; i < sizeof(prop_table) / sizeof(prop_table[0]); i++)
			if (!strcmp(tok, prop_table[i].ctl))
				return prop_table[i].props;
	return no_props;
}

/* Every controller of @want ("cpu,cpuacct") is among the mount's options. */
static bool has_all(const char *opts, const char *want)
{
	char w[256], o[1024], *tok, *s1 = NULL;

	snprintf(w, sizeof(w), "%s", want);
	for (tok = strtok_r(w, ",", &s1); tok; tok = strtok_r(NULL, ",", &s1)) {
		char *t, *s2 = NULL;
		bool found = false;

		snprintf(o, sizeof(o), "%s", opts);
		for (t = strtok_r(o, ",", &s2); t && !found; t = strtok_r(NULL, ",", &s2))
			found = !strcmp(t, tok);
		if (!found)
			return false;
	}
	return true;
}

int cg_mount_of(const char *name, const char *yard, char *out, size_t len)
{
	struct proc_mounts m;
	bool v2 = !strcmp(name, CG_V2_NAME);
	size_t i;
	int ret = -1;

	if (yard) {
		if ((size_t)snprintf(out, len, "%s/%s", yard, name) >= len) {
			pr_err("--cgroup-yard %s: too long a path", yard);
			return -1;
		}
		return 0;
	}
	if (proc_read_mountinfo(getpid(), &m))
		return -1;
	for (i = 0; i < m.nr && ret; i++) {
		const struct proc_mount *p = &m.m[i];

		if (strcmp(p->root, "/") ||
		    (v2 ? strcmp(p->fstype, "cgroup2") :
			  strcmp(p->fstype, "cgroup") || !has_all(p->super_options, name)))
			continue;
		if ((size_t)snprintf(out, len, "%s", p->mountpoint) < len)
			ret = 0;
	}
	proc_mounts_free(&m);
	if (ret)
		pr_err("not supported yet: cgroup hierarchy %s is not mounted from its root here (--cgroup-yard names a directory with it)",
		       name);
	return ret;
}

/* A name of one path component: not empty, ".", ".." or holding '/'. */
static bool component_ok(const char *s, size_t n)
{
	return n && n < 256 && memchr(s, '/', n) == NULL && !(n == 1 && s[0] == '.') &&
	       !(n == 2 && s[0] == '.' && s[1] == '.');
}

bool cg_path_ok(const char *p)
{
	size_t len = strnlen(p, CG_PATH_MAX);
	const char *c = p + 1;

	if (len == CG_PATH_MAX || p[0] != '/' || strchr(p, '\n'))
		return false;
	if (!p[1])
		return true;
	while (*c) {
		const char *e = strchrnul(c, '/');

		if (!component_ok(c, e - c))
			return false;
		c = *e ? e + 1 : e;
		if (!*c && e[0] == '/')
			return false;	/* a trailing '/' */
	}
	return true;
}

static bool name_ok(const char *n)
{
	size_t l = strnlen(n, 256);

	return l && l < 256 && !strchr(n, '/') && !strchr(n, '\n');
}

static int check_set(const Est__CgSetEntry *s)
{
	size_t i, j;

	if (!s->id || s->n_ctls > CG_MAX_CTLS) {
		pr_err("cgroup.img: set %u: id 0 or more than %d hierarchies", s->id, CG_MAX_CTLS);
		return -1;
	}
	for (i = 0; i < s->n_ctls; i++) {
		const Est__CgMemberEntry *m = s->ctls[i];

		if (!name_ok(m->name) || !cg_path_ok(m->path)) {
			pr_err("cgroup.img: set %u: a bad hierarchy name or path (%.64s)", s->id, m->path);
			return -1;
		}
		if (m->has_cgns_prefix && m->cgns_prefix != strlen(m->path)) {
			pr_err("not supported yet: cgroup.img: set %u: a cgroup namespace rooted above its group %.64s (prefix %u)",
			       s->id, m->path, m->cgns_prefix);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(s->ctls[j]->name, m->name)) {
				pr_err("cgroup.img: set %u names hierarchy %s twice", s->id, m->name);
				return -1;
			}
	}
	return 0;
}

static bool known_prop(const char *const *props, const char *name)
{
	for (; *props; props++)
		if (!strcmp(*props, name))
			return true;
	return false;
}

static int check_dir(const Est__CgroupDirEntry *d, const char *const *props, bool top,
		     unsigned int depth, size_t *nr)
{
	size_t i;

	if (++*nr > CG_MAX_DIRS || depth > CG_MAX_DEPTH || d->n_properties > CG_MAX_PROPS) {
		pr_err("cgroup.img: more than %d groups, %d levels or %d properties of one group",
		       CG_MAX_DIRS, CG_MAX_DEPTH, CG_MAX_PROPS);
		return -1;
	}
	if (top ? !cg_path_ok(d->dir_name) : !component_ok(d->dir_name, strnlen(d->dir_name, 256))) {
		pr_err("cgroup.img: a bad group name %.64s", d->dir_name);
		return -1;
	}
	for (i = 0; i < d->n_properties; i++) {
		const Est__CgroupPropEntry *p = d->properties[i];

		if (!known_prop(props, p->name) || strnlen(p->value, CG_VALUE_MAX) == CG_VALUE_MAX ||
		    strchr(p->value, '\n')) {
			pr_err("cgroup.img: group %.64s: property %.64s is not one criu carries, or its value is bad",
			       d->dir_name, p->name);
			return -1;
		}
	}
	for (i = 0; i < d->n_children; i++)
		if (check_dir(d->children[i], props, false, depth + 1, nr))
			return -1;
	return 0;
}

static int check_controller(const Est__CgControllerEntry *c)
{
	char hier[256] = "";
	size_t i, nr = 0, l = 0;

	if (!c->n_cnames || c->n_cnames > CG_MAX_CTLS) {
		pr_err("cgroup.img: a hierarchy with %zu controller names", c->n_cnames);
		return -1;
	}
	for (i = 0; i < c->n_cnames; i++) {
		if (!name_ok(c->cnames[i]) || strchr(c->cnames[i], ',')) {
			pr_err("cgroup.img: a bad controller name");
			return -1;
		}
		l += snprintf(hier + l, sizeof(hier) - l, "%s%s", i ? "," : "", c->cnames[i]);
		if (l >= sizeof(hier)) {
			pr_err("cgroup.img: too long a hierarchy name");
			return -1;
		}
	}
	for (i = 0; i < c->n_dirs; i++)
		if (check_dir(c->dirs[i], cg_props_of(hier), true, 0, &nr))
			return -1;
	return 0;
}

int cg_image_check(const Est__CgroupEntry *e)
{
	size_t i, j;

	if (e->n_sets > CG_MAX_SETS || e->n_controllers > CG_MAX_CTLS) {
		pr_err("cgroup.img: more than %d sets or %d hierarchies", CG_MAX_SETS, CG_MAX_CTLS);
		return -1;
	}
	for (i = 0; i < e->n_sets; i++) {
		if (check_set(e->sets[i]))
			return -1;
		for (j = 0; j < i; j++)
			if (e->sets[j]->id == e->sets[i]->id) {
				pr_err("cgroup.img: set %u twice", e->sets[i]->id);
				return -1;
			}
	}
	for (i = 0; i < e->n_controllers; i++)
		if (check_controller(e->controllers[i]))
			return -1;
	return 0;
}

bool cg_set_cgns(const Est__CgSetEntry *s)
{
	size_t i;

	for (i = 0; s && i < s->n_ctls; i++)
		if (s->ctls[i]->has_cgns_prefix)
			return true;
	return false;
}

bool cg_image_cgns(const Est__CgroupEntry *e)
{
	size_t i;

	for (i = 0; i < e->n_sets; i++)
		if (cg_set_cgns(e->sets[i]))
			return true;
	return false;
}

const Est__CgSetEntry *cg_image_set(const Est__CgroupEntry *e, uint32_t id)
{
	size_t i;

	for (i = 0; i < e->n_sets; i++)
		if (e->sets[i]->id == id)
			return e->sets[i];
	return NULL;
}

int cg_read_ctl(const char *dir, const char *name, char *out, size_t len)
{
	char path[2 * CG_PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		pr_perror("cannot open %s", path);
		return -1;
	}
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0 || (size_t)n == len - 1) {
		pr_err("cannot read %s, or it holds more than %zu bytes", path, len - 2);
		return -1;
	}
	out[n] = 0;
	while (n && out[n - 1] == '\n')
		out[--n] = 0;
	return 0;
}
