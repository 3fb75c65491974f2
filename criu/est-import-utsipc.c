/*
 * Import: the tree's own uts, ipc and time namespaces (include/utsipc.h).
 * The root's uts_ns_id, ipc_ns_id and time_ns_id are the tree's; every other process must
 * have the same. One that differs from the dumping criu's (root_ids) is a
 * namespace of the tree's own: its utsns-ID.img / ipcns-var-ID.img /
 * timens-ID.img (and
 * ipcns-sem-ID.img, ipcns-msg-ID.img) are checked and written into our dir under the ids
 * ours uses.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "est-import: "
#include "cgroup.h"
#include "est-import-int.h"
#include "log.h"
#include "utsipc.h"

static const struct {
	const char *field;	/* of task_kobj_ids_entry */
	const char *pattern;	/* the established image of such a namespace */
	const char *ours;
	const char *what;
} kinds[] = {
	{ "uts_ns_id", "utsns-%u.img", UTSIPC_UTS_IMG, "uts" },
	{ "ipc_ns_id", "ipcns-var-%u.img", UTSIPC_IPC_VAR_IMG, "ipc" },
	{ "time_ns_id", "timens-%u.img", UTSIPC_TIME_IMG, "time" },
	{ "cgroup_ns_id", NULL, NULL, "cgroup" },	/* cgroup.img's cgns_prefix */
};

int imp_utsipc_ns(struct imp *im, const char *field, bool has, uint32_t v, const char *img)
{
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(field, kinds[k].field))
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return 0;
	if (!has && k >= 2)
		return 0;	/* a kernel without such namespaces: compared with criu's as before */
	if (!has || !v) {
		pr_err("%s: no %s", img, field);
		return -1;
	}
	if (!im->tree_ns_id[k])
		im->tree_ns_id[k] = v;
	if (v == im->tree_ns_id[k])
		return 1;
	pr_err("not supported yet: %s: %s %u differs from the root's %u (a process in another %s namespace)",
	       img, field, v, im->tree_ns_id[k], kinds[k].what);
	return -1;
}

/* Whether the tree's namespace of kind @k is criu's (root_ids). */
static bool criu_own(const struct imp *im, size_t k)
{
	const Est__TaskKobjIdsEntry *r = im->inv->root_ids;
	const bool hs[] = { r->has_uts_ns_id, r->has_ipc_ns_id, r->has_time_ns_id,
			    r->has_cgroup_ns_id };
	const uint32_t vs[] = { r->uts_ns_id, r->ipc_ns_id, r->time_ns_id, r->cgroup_ns_id };
	bool has = hs[k];
	uint32_t v = vs[k];

	return !im->tree_ns_id[k] || (has && v == im->tree_ns_id[k]);
}

/*
 * The ipc namespace's semaphore sets, message queues or shared memory
 * segments, when there is such a file (the established tool writes one of
 * each, empty or not): any segment is refused (utsipc.c).
 */
static int objs(struct imp *im, const char *pattern, uint32_t id, const char *ours)
{
	char name[64];

	snprintf(name, sizeof(name), pattern, id);
	if (imp_mark(im, name))
		return 0;
	return utsipc_copy(im->in, name, im->out, ours);
}

/*
 * A cgroup namespace is its root's groups, which cgroup.img marks with
 * cgns_prefix: marked exactly when the ids say the tree has one.
 */
static int check_cgns(struct imp *im, bool own)
{
	ProtobufCMessage *m;
	bool marked;

	if (faccessat(im->in, "cgroup.img", F_OK, AT_SYMLINK_NOFOLLOW)) {
		if (!own)
			return 0;
		pr_err("not supported yet: the tree has a cgroup namespace of its own and no cgroup.img");
		return -1;
	}
	m = imp_read_one(im, "cgroup.img");
	if (!m)
		return -1;
	marked = cg_image_cgns((const Est__CgroupEntry *)m);
	protobuf_c_message_free_unpacked(m, NULL);
	if (marked == own)
		return 0;
	pr_err("not supported yet: cgroup.img %s cgroup namespace roots (cgns_prefix) while the ids say the tree's cgroup namespace is %s",
	       marked ? "has" : "has no", own ? "its own" : "criu's");
	return -1;
}

int imp_utsipc(struct imp *im)
{
	char name[64];
	size_t k;

	if (check_cgns(im, !criu_own(im, 3)))
		return -1;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (criu_own(im, k) || !kinds[k].pattern)
			continue;
		snprintf(name, sizeof(name), kinds[k].pattern, im->tree_ns_id[k]);
		if (utsipc_copy(im->in, name, im->out, kinds[k].ours) || imp_mark(im, name))
			return -1;
		if (k == 1 && (objs(im, "ipcns-sem-%u.img", im->tree_ns_id[k], UTSIPC_IPC_SEM_IMG) ||
			  objs(im, "ipcns-msg-%u.img", im->tree_ns_id[k], UTSIPC_IPC_MSG_IMG) ||
			  objs(im, "ipcns-shm-%u.img", im->tree_ns_id[k], UTSIPC_IPC_SHM_IMG)))
			return -1;
	}
	return 0;
}
