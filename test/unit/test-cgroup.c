/*
 * Cgroups (criu/cgroup.c): the hierarchies' names, the properties carried,
 * the checks of an untrusted cgroup.img, and what dump-cgroup.c makes of
 * this process's own /proc/self/cgroup.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "options.h"
#include "proc_parse.h"
#include "unit.h"

static int test_paths(void)
{
	static const char *const good[] = { "/", "/a", "/a/b", "/process_api/60ea", "/a.b/..c" };
	static const char *const bad[] = { "", "a", "//", "/a/", "/a//b", "/..", "/a/../b", "/.",
					   "/a/./b", "/a\nb" };
	char longp[CG_PATH_MAX + 2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		CHECK(cg_path_ok(good[i]));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(!cg_path_ok(bad[i]));
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	CHECK(!cg_path_ok(longp));
	return 0;
}

static bool has(const char *const *l, const char *p)
{
	for (; *l; l++)
		if (!strcmp(*l, p))
			return true;
	return false;
}

static int test_names_and_props(void)
{
	struct proc_cgroups c;
	struct cr_options o;

	CHECK(proc_parse_cgroup("0::/a\n4:cpu,cpuacct:/b\n3:name=systemd:/\n", 40, "t", &c) == 0);
	CHECK(c.nr == 3);
	CHECK_STR(cg_hier_name(&c.c[0]), "unified");
	CHECK_STR(cg_hier_name(&c.c[1]), "cpu,cpuacct");
	CHECK_STR(c.c[1].path, "/b");
	CHECK(has(cg_props_of("cpu,cpuacct"), "cpu.shares"));
	CHECK(has(cg_props_of("pids"), "pids.max"));
	CHECK(has(cg_props_of("unified"), "memory.max") && has(cg_props_of("unified"), "cpu.max"));
	CHECK(!cg_props_of("name=systemd")[0] && !cg_props_of("freezer")[0]);
	proc_cgroups_free(&c);
	memset(&o, 0, sizeof(o));
	CHECK(cg_mode_of(&o) == CG_SOFT);
	o.manage_cgroups = "strict";
	CHECK(cg_mode_of(&o) == CG_STRICT);
	o.manage_cgroups = "ignore";
	CHECK(cg_mode_of(&o) == CG_IGNORE);
	return 0;
}

/* A small valid image, pieces of which the cases below spoil. */
static Est__CgroupPerms perms;
static Est__CgroupPropEntry prop, *props[1] = { &prop };
static Est__CgroupDirEntry sub, *subs[1] = { &sub }, top, *tops[1] = { &top };
static char *cnames[1] = { "pids" };
static Est__CgControllerEntry ctl, *ctls[1] = { &ctl };
static Est__CgMemberEntry m1, m2, *members[2] = { &m1, &m2 };
static Est__CgSetEntry s1, s2, *sets[2] = { &s1, &s2 };
static Est__CgroupEntry img;

static void build(void)
{
	est__cgroup_perms__init(&perms);
	est__cgroup_prop_entry__init(&prop);
	prop.name = "pids.max", prop.value = "64";
	est__cgroup_dir_entry__init(&sub);
	sub.dir_name = "sub", sub.n_properties = 1, sub.properties = props;
	est__cgroup_dir_entry__init(&top);
	top.dir_name = "/t", top.n_children = 1, top.children = subs, top.dir_perms = &perms;
	est__cg_controller_entry__init(&ctl);
	ctl.n_cnames = 1, ctl.cnames = cnames, ctl.n_dirs = 1, ctl.dirs = tops;
	est__cg_member_entry__init(&m1);
	m1.name = "pids", m1.path = "/t";
	est__cg_member_entry__init(&m2);
	m2.name = "unified", m2.path = "/";
	est__cg_set_entry__init(&s1);
	s1.id = 1, s1.n_ctls = 2, s1.ctls = members;
	est__cg_set_entry__init(&s2);
	s2.id = 2, s2.n_ctls = 1, s2.ctls = members;
	est__cgroup_entry__init(&img);
	img.n_sets = 2, img.sets = sets, img.n_controllers = 1, img.controllers = ctls;
}

static int test_image_check(void)
{
	build();
	CHECK(cg_image_check(&img) == 0);
	CHECK(cg_image_set(&img, 2) == &s2 && !cg_image_set(&img, 3));
	s2.id = 1;		/* a set twice */
	CHECK(cg_image_check(&img) == -1);
	build();
	s1.id = 0;
	CHECK(cg_image_check(&img) == -1);
	build();
	m2.name = "pids";	/* one hierarchy twice in a set */
	CHECK(cg_image_check(&img) == -1);
	build();
	m1.path = "/t/../../etc";
	CHECK(cg_image_check(&img) == -1);
	build();
	m2.name = "a/b";
	CHECK(cg_image_check(&img) == -1);
	build();
	sub.dir_name = "..";	/* a child must be one component */
	CHECK(cg_image_check(&img) == -1);
	build();
	sub.dir_name = "a/b";
	CHECK(cg_image_check(&img) == -1);
	build();
	top.dir_name = "t";	/* a top group is an absolute path */
	CHECK(cg_image_check(&img) == -1);
	build();
	prop.name = "release_agent";	/* only the properties criu carries are written */
	CHECK(cg_image_check(&img) == -1);
	build();
	prop.name = "cgroup.procs";
	CHECK(cg_image_check(&img) == -1);
	build();
	prop.value = "1\n2";
	CHECK(cg_image_check(&img) == -1);
	build();
	cnames[0] = "cpu";	/* pids.max is no cpu property */
	CHECK(cg_image_check(&img) == -1);
	cnames[0] = "pids";
	build();
	sub.n_children = 1, sub.children = subs;	/* a group its own child: too deep */
	CHECK(cg_image_check(&img) == -1);
	return 0;
}

/* This process's groups as the dump reads them, and its hierarchies' mounts. */
static int test_live(void)
{
	struct proc_cgroups c;
	char mnt[CG_PATH_MAX];
	size_t i;

	CHECK(proc_read_cgroup(getpid(), &c) == 0);
	CHECK(c.nr > 0);
	for (i = 0; i < c.nr; i++) {
		CHECK(cg_path_ok(c.c[i].path));
		/* every hierarchy of a task is mounted somewhere on this machine */
		CHECK(cg_mount_of(cg_hier_name(&c.c[i]), NULL, mnt, sizeof(mnt)) == 0);
		CHECK(access(mnt, F_OK) == 0);
	}
	proc_cgroups_free(&c);
	CHECK(cg_mount_of("pids", "/y", mnt, sizeof(mnt)) == 0);
	CHECK_STR(mnt, "/y/pids");
	return 0;
}

static const struct unit_case cases[] = {
	{ "paths of the image", test_paths },
	{ "hierarchy names, properties, modes", test_names_and_props },
	{ "cgroup.img checks", test_image_check },
	{ "this process's groups and mounts", test_live },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, LOG_NONE);
	return unit_run(argv[0], cases, ARRAY_SIZE(cases));
}
