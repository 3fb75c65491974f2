/*
 * Exporting the tree's mount namespace (Documentation/namespaces.md, "Mount
 * namespace"): our mnts.img holds the established mnt_entry already, so its
 * entries go to mountpoints-ID.img as they are (ID: EXP_TREE_MNT_NS_ID, the
 * processes' mnt_ns_id); each fresh tmpfs's archive is moved to
 * tmpfs-dev-ROOT_DEV.tar.gz.img.
 */
#include <stdio.h>
#include <stdlib.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "log.h"
#include "mnt-entry.h"

static int move_tmpfs(struct exp *ex, uint32_t dev)
{
	char ours[64], name[64];

	snprintf(ours, sizeof(ours), "tmpfs-%u.tar.gz", dev);
	snprintf(name, sizeof(name), "tmpfs-dev-%u.tar.gz.img", dev);
	exp_used(ex, ours);
	if (renameat(ex->in, ours, ex->out, name)) {
		pr_perror("cannot move %s to %s", ours, name);
		return -1;
	}
	return 0;
}

int exp_mnt(struct exp *ex)
{
	ProtobufCMessage **m;
	enum mnt_how *how = NULL;
	struct exp_img w;
	char name[64];
	size_t n, i;
	int ret = -1;

	if (exp_read_optional(ex, IMG_MNTS, "mnts.img", &m, &n))
		return -1;
	if (!m)
		return 0;
	how = exp_zalloc(n * sizeof(*how));
	if (!how || mnt_check_entries((Est__MntEntry *const *)m, n, how))
		goto out;
	ex->mnt_ns_id = EXP_TREE_MNT_NS_ID;
	snprintf(name, sizeof(name), "mountpoints-%u.img", EXP_TREE_MNT_NS_ID);
	exp_img_open(&w, name);
	for (i = 0; i < n; i++)
		exp_img_add(&w, m[i], NULL, 0);
	if (exp_img_close(ex, &w))
		goto out;
	for (i = 0; i < n; i++) {
		const Est__MntEntry *e = (const Est__MntEntry *)m[i];

		if (how[i] == MNT_FRESH && e->fstype == EST__FSTYPE__TMPFS && move_tmpfs(ex, e->root_dev))
			goto out;
	}
	ret = 0;
out:
	free(how);
	img_free_all(m, n);
	return ret;
}
