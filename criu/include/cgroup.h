/*
 * Cgroups: membership of every task and the properties of the tree's
 * groups (Documentation/namespaces.md, "Cgroups").
 *
 * cgroup.img holds the established schema (images/est/cgroup.proto) in our
 * own images as in the established ones: sets (one per distinct membership,
 * ids from 1, criu's own at dump first: the inventory's root_cg_set), and
 * per hierarchy the groups of the tree with their properties.
 *
 * Dump (dump-cgroup.c): dump_cgroups() once the tree is collected, before
 * the images are written; it fills each task's core cg_set.
 * Restore (restore-cgroup.c):
 *   1. rst_cgroup_prepare() in criu, before the root is forked: reads and
 *      checks cgroup.img, creates groups and writes properties as the
 *      --manage-cgroups mode says, and resolves every set to its
 *      cgroup.procs files;
 *   2. rst_cgroup_enter() in each new task before it does anything else;
 *   3. rst_cgroup_undo() in criu when the restore failed (groups it made).
 */
#ifndef CRIU_CGROUP_H
#define CRIU_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est/cgroup.pb-c.h"

struct cr_options;
struct dump_tree;
struct proc_cgroup;

#define CG_V2_NAME	"unified"	/* our name of the v2 hierarchy ("0::" in /proc) */
#define CG_MAX_SETS	1024
#define CG_MAX_CTLS	32		/* hierarchies in one set */
#define CG_MAX_DIRS	4096		/* groups in one hierarchy */
#define CG_MAX_PROPS	32		/* properties of one group */
#define CG_MAX_DEPTH	64
#define CG_PATH_MAX	1024
#define CG_VALUE_MAX	4096

enum cg_mode { CG_IGNORE, CG_NONE, CG_PROPS, CG_SOFT, CG_FULL, CG_STRICT };

/* --manage-cgroups (absent: soft, the established default) */
enum cg_mode cg_mode_of(const struct cr_options *o);

/* The hierarchy's name in our images: /proc's controllers, "unified" for v2. */
const char *cg_hier_name(const struct proc_cgroup *c);

/*
 * The properties the dump carries for a hierarchy, in the order a restore
 * writes them; NULL-terminated, never NULL.
 */
const char *const *cg_props_of(const char *hier);

/*
 * Where hierarchy @name is mounted in criu's mount namespace (its root
 * mounted, not a subdirectory), or under @yard/@name when @yard is set.
 */
int cg_mount_of(const char *name, const char *yard, char *out, size_t len);

/* Control file @name of group dir @dir, its newline cut; 1: no such file. */
int cg_read_ctl(const char *dir, const char *name, char *out, size_t len);

/* A path of the image: absolute, no "." or ".." or empty component, bounded. */
bool cg_path_ok(const char *p);

/*
 * Checks of an untrusted cgroup.img entry: bounded counts and strings, sets
 * with unique ids from 1 and unique hierarchies, paths and names as
 * cg_path_ok() and single components below the top groups. Logs the first
 * problem.
 */
int cg_image_check(const Est__CgroupEntry *e);
/* The set of @id in @e, or NULL. */
const Est__CgSetEntry *cg_image_set(const Est__CgroupEntry *e, uint32_t id);
/*
 * A set whose groups are the roots of the tree's own cgroup namespace
 * (cgns_prefix on its members: the whole path, the only shape carried),
 * and whether an image has one (the root's set).
 */
bool cg_set_cgns(const Est__CgSetEntry *s);
bool cg_image_cgns(const Est__CgroupEntry *e);

/* est-cgroup.c: cgroup.img to the established format and back */
struct exp;
struct imp;
int exp_cgroup(struct exp *ex);
int imp_cgroup(struct imp *im, bool *have);

/* dump-cgroup.c */
int dump_cgroups(struct dump_tree *tr, uint32_t *root_cg_set);

/* restore-cgroup.c */
struct rst_tree;
int rst_cgroup_prepare(const struct cr_options *o, const struct rst_tree *tr);
/* In a new task: move itself into set @id (0: none), unless it is there by the fork. */
int rst_cgroup_enter(uint32_t id);
void rst_cgroup_undo(void);
void rst_cgroup_release(void);

#endif /* CRIU_CGROUP_H */
