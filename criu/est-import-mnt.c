/*
 * Importing the tree's mount namespace (Documentation/namespaces.md, "Mount
 * namespace"): every process's mnt_ns_id is criu's (root_ids) or one other
 * id common to the whole tree, whose mountpoints-ID.img becomes our
 * mnts.img (the same mnt_entry messages, checked) and whose fresh tmpfs
 * archives become our tmpfs-N.tar.gz (linked, or copied).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "log.h"
#include "mnt-entry.h"

int imp_mnt_ns(struct imp *im, const Est__TaskKobjIdsEntry *t, const char *img)
{
	const Est__TaskKobjIdsEntry *r = im->inv->root_ids;

	if (t->has_mnt_ns_id != r->has_mnt_ns_id || (t->has_mnt_ns_id && !t->mnt_ns_id)) {
		pr_err("%s: mnt_ns_id missing or 0", img);
		return -1;
	}
	if (!im->tree_mnt_ns_id)
		im->tree_mnt_ns_id = t->mnt_ns_id;
	if (t->mnt_ns_id == im->tree_mnt_ns_id)
		return 0;
	pr_err("not supported yet: %s: mnt_ns_id %u differs from the root's %u (nested/mixed mount namespaces)",
	       img, t->mnt_ns_id, im->tree_mnt_ns_id);
	return -1;
}

struct mnt_list {
	ProtobufCMessage **m;
	size_t n;
};

static int add_mnt(struct imp *im, const struct est_entry *e, void *ctx)
{
	struct mnt_list *l = ctx;

	(void)im;
	if (l->n >= MNT_MAX) {
		pr_err("more than %u mounts in one namespace", MNT_MAX);
		return -1;
	}
	l->m[l->n++] = e->msg;
	((struct est_entry *)e)->msg = NULL;	/* ours now */
	return 0;
}

/* Our tmpfs-@dev.tar.gz: a link to the established file, or a copy of it. */
static int take_tmpfs(struct imp *im, uint32_t dev)
{
	char name[64], target[PATH_MAX + 64], buf[65536];
	struct cr_img *img = NULL;
	struct stat st;
	ssize_t n = 0;
	int fd;

	snprintf(name, sizeof(name), "tmpfs-dev-%u.tar.gz.img", dev);
	fd = openat(im->in, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (imp_mark(im, name) || fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > MNT_MAX_TAR) {
		pr_err("%s: missing, not a regular file, or over %llu bytes", name,
		       (unsigned long long)MNT_MAX_TAR);
		goto fail;
	}
	if (im->in_path[0]) {
		close(fd);
		snprintf(target, sizeof(target), "%s/%s", im->in_path, name);
		snprintf(name, sizeof(name), "tmpfs-%u.tar.gz", dev);
		if (symlinkat(target, im->out, name)) {
			pr_perror("cannot link %s to %s", name, target);
			return -1;
		}
		return 0;
	}
	img = img_create(im->out, IMG_TMPFS, dev);
	while (img && (n = read(fd, buf, sizeof(buf))) > 0)
		if (write(img_raw_fd(img), buf, (size_t)n) != n)
			break;
	if (!img || n != 0) {
		pr_perror("cannot copy %s", name);
		goto fail;
	}
	close(fd);
	return img_commit(img);
fail:
	if (img)
		img_abort(img);
	if (fd >= 0)
		close(fd);
	return -1;
}

int imp_mnt(struct imp *im)
{
	struct mnt_list l = { 0 };
	enum mnt_how *how = NULL;
	char name[64];
	size_t i;
	int ret = -1;

	snprintf(name, sizeof(name), "mountpoints-%u.img", im->tree_mnt_ns_id);
	if (!im->tree_mnt_ns_id || im->tree_mnt_ns_id == im->inv->root_ids->mnt_ns_id) {
		/* criu's own namespace: the restore stays in criu's, whatever it lists */
		if (im->tree_mnt_ns_id && !imp_mark(im, name))
			pr_info("%s: the tree shares the dumping criu's mount namespace: not used", name);
		return 0;
	}
	l.m = imp_zalloc(MNT_MAX * sizeof(*l.m));
	how = imp_zalloc(MNT_MAX * sizeof(*how));
	if (!l.m || !how || imp_read_all(im, name, false, add_mnt, &l) ||
	    mnt_check_entries((Est__MntEntry *const *)l.m, l.n, how) ||
	    imp_write(im, IMG_MNTS, 0, l.m, l.n))
		goto out;
	for (i = 0; i < l.n; i++) {
		const Est__MntEntry *e = (const Est__MntEntry *)l.m[i];

		if (how[i] == MNT_FRESH && e->fstype == EST__FSTYPE__TMPFS && take_tmpfs(im, e->root_dev))
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < l.n; i++)
		protobuf_c_message_free_unpacked(l.m[i], NULL);
	free(l.m);
	free(how);
	return ret;
}
