/*
 * Export: the tree's own uts, ipc and time namespaces (include/utsipc.h). Our
 * scratch dir holds them in the established format already, under the
 * tree's namespace ids: checked and copied, and every process's ids name
 * them (the dump checked that every process shares the root's).
 */
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "cgroup.h"
#include "image.h"
#include "log.h"
#include "utsipc.h"

#include "est/ids.pb-c.h"

static const struct {
	const char *img;
	int flag;
} imgs[] = {
	{ UTSIPC_UTS_IMG, CLONE_NEWUTS },
	{ UTSIPC_IPC_VAR_IMG, CLONE_NEWIPC },
	{ UTSIPC_IPC_SEM_IMG, CLONE_NEWIPC },	/* only with semaphore sets */
	{ UTSIPC_IPC_MSG_IMG, CLONE_NEWIPC },	/* only with message queues */
	{ UTSIPC_TIME_IMG, CLONE_NEWTIME },
};

/* The tree's own cgroup namespace: its root's groups carry cgns_prefix in cgroup.img. */
static int exp_cgns(struct exp *ex)
{
	ProtobufCMessage *m = NULL;

	if (faccessat(ex->in, "cgroup.img", F_OK, 0))
		return 0;
	if (img_read_one(ex->in, IMG_CGROUP, 0, &m))
		return -1;
	if (cg_image_cgns((const Est__CgroupEntry *)m))
		ex->own_ns |= CLONE_NEWCGROUP;
	img_free_entry(m);
	return 0;
}

int exp_utsipc(struct exp *ex)
{
	size_t i;

	for (i = 0; i < sizeof(imgs) / sizeof(imgs[0]); i++) {
		if (faccessat(ex->in, imgs[i].img, F_OK, 0))
			continue;
		if (utsipc_copy(ex->in, imgs[i].img, ex->out, imgs[i].img))
			return -1;
		exp_used(ex, imgs[i].img);
		ex->own_ns |= imgs[i].flag;
	}
	return exp_cgns(ex);
}

void exp_utsipc_ids(const struct exp *ex, Est__TaskKobjIdsEntry *ids)
{
	if (ex->own_ns & CLONE_NEWUTS)
		ids->uts_ns_id = UTSIPC_UTS_NS_ID;
	if (ex->own_ns & CLONE_NEWIPC)
		ids->ipc_ns_id = UTSIPC_IPC_NS_ID;
	if (ex->own_ns & CLONE_NEWTIME)
		ids->time_ns_id = UTSIPC_TIME_NS_ID;
	if (ex->own_ns & CLONE_NEWCGROUP)
		ids->cgroup_ns_id = UTSIPC_CGROUP_NS_ID;
}
