/*
 * Our inotifys and fanotifys images -> established files.img INOTIFY and
 * FANOTIFY entries (plan §2.12). The format names a watched inode by its
 * file handle and, when the dump could open it, its path (f_handle.path,
 * which a restore uses first); ours by path, inode and device. The handle
 * is taken here from the path, once the path is checked to still be the
 * dump's inode (as our restore checks): what the kernel shows in fdinfo,
 * the handle of the inode without its parent. Devices go in the kernel's
 * encoding (major << 20 | minor). A fanotify mount mark names its mount by
 * id (statx of the mount point) and path. Marks on a whole file system
 * (FAN_MARK_FILESYSTEM) have no type in the format: refused, or left out
 * with --image-ext (ours kept whole).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "est-fd.h"
#include "log.h"

#include "fanotify.pb-c.h"
#include "inotify.pb-c.h"
#include "est/fh.pb-c.h"
#include "est/fsnotify.pb-c.h"

#define FH_WORDS	16	/* fh_entry.handle: the handle bytes in 16 u64 words */

struct fh_out {
	Est__FhEntry fh;
	uint64_t words[FH_WORDS];
};

static int kdev(uint64_t dev, uint32_t *out, uint32_t id)
{
	if (major(dev) >= (1u << 12) || minor(dev) >= (1u << 20)) {
		pr_err("notification group %u: device %u:%u does not fit the kernel's encoding", id,
		       major(dev), minor(dev));
		return -1;
	}
	*out = major(dev) << 20 | minor(dev);
	return 0;
}

/* The handle of @path, which must be inode @ino of @dev (the link itself, or where it leads). */
static int fill_handle(struct fh_out *o, const char *path, uint64_t ino, uint64_t dev, uint32_t id)
{
	union {
		struct file_handle h;
		char b[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	struct stat st;
	int flags = 0, mnt;

	est__fh_entry__init(&o->fh);
	if (lstat(path, &st) || st.st_ino != ino || st.st_dev != dev) {
		flags = AT_SYMLINK_FOLLOW;
		if (stat(path, &st) || st.st_ino != ino || st.st_dev != dev) {
			pr_err("notification group %u: %s is no longer the watched inode", id, path);
			return -1;
		}
	}
	u.h.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, &u.h, &mnt, flags)) {
		if (errno != EOPNOTSUPP) {
			pr_perror("notification group %u: no file handle for %s", id, path);
			return -1;
		}
		u.h.handle_bytes = 0;	/* a file system without handles: the path only */
		u.h.handle_type = 0;
	}
	memset(o->words, 0, sizeof(o->words));
	memcpy(o->words, u.h.f_handle, u.h.handle_bytes);
	o->fh.bytes = u.h.handle_bytes;
	o->fh.type = (uint32_t)u.h.handle_type;
	o->fh.n_handle = FH_WORDS;
	o->fh.handle = o->words;
	o->fh.path = (char *)path;
	return 0;
}

struct wd_out {
	Est__InotifyWdEntry w;
	struct fh_out fh;
};

static int conv_inotify(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const InotifyEntry *e = (const InotifyEntry *)m;
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__InotifyFileEntry o = EST__INOTIFY_FILE_ENTRY__INIT;
	struct wd_out *t = exp_zalloc(e->n_wds * (sizeof(*t) + sizeof(Est__InotifyWdEntry *)));
	Est__InotifyWdEntry **p;
	int ret = -1;
	size_t i;

	if (!t)
		return -1;
	p = (Est__InotifyWdEntry **)&t[e->n_wds];
	for (i = 0; i < e->n_wds; i++) {
		const InotifyWdEntry *s = e->wds[i];
		Est__InotifyWdEntry *d = &t[i].w;

		est__inotify_wd_entry__init(d);
		d->id = e->id;
		d->i_ino = s->ino;
		d->mask = s->mask;
		d->wd = (uint32_t)s->wd;
		if (kdev(s->dev, &d->s_dev, e->id) ||
		    fill_handle(&t[i].fh, s->path, s->ino, s->dev, e->id))
			goto out;
		d->f_handle = &t[i].fh.fh;
		p[i] = d;
	}
	o.id = e->id;
	o.flags = O_RDONLY | e->flags;	/* the whole f_flags */
	o.n_wd = e->n_wds;
	o.wd = p;
	f.type = EST__FD_TYPES__INOTIFY;
	f.id = e->id;
	f.ify = &o;
	exp_file_add(ex, w, &f);
	ret = 0;
out:
	free(t);
	return ret;
}

struct mark_out {
	Est__FanotifyMarkEntry m;
	Est__FanotifyInodeMarkEntry ie;
	Est__FanotifyMountMarkEntry me;
	struct fh_out fh;
};

static int mount_id(const FanotifyMarkEntry *s, uint32_t *out, uint32_t id)
{
	struct statx sx;

	if (statx(AT_FDCWD, s->path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &sx) ||
	    !(sx.stx_mask & STATX_MNT_ID) || makedev(sx.stx_dev_major, sx.stx_dev_minor) != s->dev) {
		pr_err("fanotify %u: %s is no longer the marked mount", id, s->path);
		return -1;
	}
	*out = (uint32_t)sx.stx_mnt_id;
	return 0;
}

/* 1: the mark is left out (--image-ext), 0: converted, -1: refused. */
static int conv_mark(struct mark_out *o, const FanotifyMarkEntry *s, uint32_t id)
{
	Est__FanotifyMarkEntry *d = &o->m;

	if (s->kind == FANOTIFY_MARK_KIND__FAN_SB)
		return exp_cannot("fanotifys.img", "fanotify %u marks a whole file system (FAN_MARK_FILESYSTEM)",
				  id) ? -1 : 1;
	est__fanotify_mark_entry__init(d);
	d->id = id;
	d->mflags = s->mflags;
	d->mask = s->mask;
	d->ignored_mask = s->ignored_mask;
	if (kdev(s->dev, &d->s_dev, id))
		return -1;
	if (s->kind == FANOTIFY_MARK_KIND__FAN_MOUNT) {
		est__fanotify_mount_mark_entry__init(&o->me);
		d->type = EST__MARK_TYPE__MOUNT;
		d->me = &o->me;
		o->me.path = s->path;
		return mount_id(s, &o->me.mnt_id, id);
	}
	if (!s->has_ino) {
		pr_err("fanotifys.img: fanotify %u: an inode mark without its inode", id);
		return -1;
	}
	est__fanotify_inode_mark_entry__init(&o->ie);
	d->type = EST__MARK_TYPE__INODE;
	d->ie = &o->ie;
	o->ie.i_ino = s->ino;
	o->ie.f_handle = &o->fh.fh;
	return fill_handle(&o->fh, s->path, s->ino, s->dev, id);
}

static int conv_fanotify(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const FanotifyEntry *e = (const FanotifyEntry *)m;
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__FanotifyFileEntry o = EST__FANOTIFY_FILE_ENTRY__INIT;
	struct mark_out *t = exp_zalloc(e->n_marks * (sizeof(*t) + sizeof(Est__FanotifyMarkEntry *)));
	Est__FanotifyMarkEntry **p;
	size_t i, n = 0;
	int ret = -1, r;

	if (!t)
		return -1;
	p = (Est__FanotifyMarkEntry **)&t[e->n_marks];
	for (i = 0; i < e->n_marks; i++) {
		r = conv_mark(&t[n], e->marks[i], e->id);
		if (r < 0)
			goto out;
		if (!r) {
			p[n] = &t[n].m;
			n++;
		}
	}
	o.id = e->id;
	o.flags = O_RDWR | e->flags;
	/* the init flags as fdinfo shows them: FAN_NONBLOCK (= O_NONBLOCK) included */
	o.faflags = e->init_flags | (e->flags & O_NONBLOCK ? FAN_NONBLOCK : 0);
	o.evflags = e->event_flags;
	o.n_mark = n;
	o.mark = p;
	f.type = EST__FD_TYPES__FANOTIFY;
	f.id = e->id;
	f.ffy = &o;
	exp_file_add(ex, w, &f);
	ret = 0;
out:
	free(t);
	return ret;
}

const struct est_fd_exp est_fd_inotify_exp = { conv_inotify };
const struct est_fd_exp est_fd_fanotify_exp = { conv_fanotify };
