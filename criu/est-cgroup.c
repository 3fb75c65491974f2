/*
 * cgroup.img between our images and the established ones. Both hold the
 * established schema (images/est/cgroup.proto), so the entry goes over as
 * it is; the import checks it first (cg_image_check), since it is read from
 * the images dir.
 */
#include <fcntl.h>
#include <unistd.h>

#define LOG_PREFIX "est-cgroup: "
#include "cgroup.h"
#include "est-export-int.h"
#include "est-import-int.h"
#include "image.h"
#include "log.h"

int exp_cgroup(struct exp *ex)
{
	ProtobufCMessage *m = NULL;
	struct exp_img w;

	if (faccessat(ex->in, "cgroup.img", F_OK, 0))
		return 0;	/* --manage-cgroups=ignore */
	if (img_read_one(ex->in, IMG_CGROUP, 0, &m))
		return -1;
	exp_used(ex, "cgroup.img");
	exp_img_open(&w, "cgroup.img");
	exp_img_add(&w, m, NULL, 0);
	img_free_entry(m);
	return exp_img_close(ex, &w);
}

int imp_cgroup(struct imp *im, bool *have)
{
	ProtobufCMessage *m = NULL;
	int ret = -1;

	*have = false;
	if (faccessat(im->in, "cgroup.img", F_OK, AT_SYMLINK_NOFOLLOW))
		return 0;	/* none: the tree stays in criu's groups */
	m = imp_read_one(im, "cgroup.img");
	if (!m)
		goto out;
	if (cg_image_check((Est__CgroupEntry *)m))
		goto out;
	*have = true;
	ret = imp_write(im, IMG_CGROUP, 0, &m, 1);
out:
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	return ret;
}
