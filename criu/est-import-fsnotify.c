/*
 * Established INOTIFY and FANOTIFY files.img entries -> ours (plan §2.12).
 * The format names a watched inode by its file handle, adding the path
 * when the dump could open the handle (f_handle.path, from the root); ours
 * keeps the path with the inode and device, checked on restore. So a watch
 * or mark converts when the format has its path: a handle alone is refused
 * (ours would have to open it here, on another mount table maybe). Devices
 * come in the kernel's encoding (major << 20 | minor). Fanotify mount marks
 * need their mount's path (me.path); superblock marks have no type in the
 * format and never arrive.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/sysmacros.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "est-fd.h"
#include "log.h"

#include "fanotify.pb-c.h"
#include "inotify.pb-c.h"

#define MAX_MARKS	65536		/* watches or marks of one group */
#define FMODE_NONOTIFY	0x4000000u	/* older kernels show it in a fanotify fd's flags */

static const void *ify_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->ify)
		return NULL;
	*id = f->ify->id;
	*fown = f->ify->fown;
	return f->ify;
}

static const void *ffy_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->ffy)
		return NULL;
	*id = f->ffy->id;
	*fown = f->ffy->fown;
	return f->ffy;
}

/* A group's fd: its access mode is the kind's own, O_NONBLOCK is the only choice. */
static int group_flags(uint32_t fl, uint32_t id, uint32_t *out)
{
	if (fl & ~(uint32_t)(O_ACCMODE | O_NONBLOCK | FMODE_NONOTIFY)) {
		pr_err("not supported yet: files.img: notification group %u: file flags %#x", id, fl);
		return -1;
	}
	*out = fl & O_NONBLOCK;
	return 0;
}

static const char *path_of(const Est__FhEntry *h, uint32_t id)
{
	if (!h || !h->path || h->path[0] != '/' || strnlen(h->path, PATH_MAX) >= PATH_MAX) {
		pr_err("not supported yet: files.img: notification group %u: a watched inode known by its file handle only (no absolute path)",
		       id);
		return NULL;
	}
	return h->path;
}

struct ify_out {
	InotifyEntry e;
	InotifyWdEntry w[];	/* then the n pointers of e.wds */
};

static int by_wd(const void *a, const void *b)
{
	int32_t x = (*(InotifyWdEntry *const *)a)->wd, y = (*(InotifyWdEntry *const *)b)->wd;

	return (x > y) - (x < y);
}

static ProtobufCMessage *conv_inotify(struct imp *im, const Est__FileEntry *f)
{
	const Est__InotifyFileEntry *s = f->ify;
	struct ify_out *o;
	InotifyWdEntry **p;
	size_t i;

	(void)im;
	if (s->n_wd > MAX_MARKS) {
		pr_err("not supported yet: files.img: inotify %u with %zu watches", s->id, s->n_wd);
		return NULL;
	}
	o = imp_zalloc(sizeof(*o) + s->n_wd * (sizeof(o->w[0]) + sizeof(*p)));
	if (!o)
		return NULL;
	p = (InotifyWdEntry **)&o->w[s->n_wd];
	inotify_entry__init(&o->e);
	o->e.id = s->id;
	if (group_flags(s->flags, s->id, &o->e.flags))
		goto err;
	for (i = 0; i < s->n_wd; i++) {
		const Est__InotifyWdEntry *w = s->wd[i];
		InotifyWdEntry *d = &o->w[i];

		inotify_wd_entry__init(d);
		/* the established tool leaves a watch's id 0; ours writes the group's */
		if ((w->id && w->id != s->id) || w->wd > INT32_MAX || w->ignored_mask) {
			pr_err("files.img: inotify %u: watch %zu of group %u, wd %u or an ignored mask",
			       s->id, i, w->id, w->wd);
			goto err;
		}
		d->path = (char *)path_of(w->f_handle, s->id);
		if (!d->path)
			goto err;
		d->wd = (int32_t)w->wd;
		d->mask = w->mask;
		d->ino = w->i_ino;
		d->dev = makedev(w->s_dev >> 20, w->s_dev & 0xfffff);
		p[i] = d;
	}
	/* ours keeps them by wd; the established tool as fdinfo lists them, newest first */
	qsort(p, s->n_wd, sizeof(*p), by_wd);
	for (i = 1; i < s->n_wd; i++)
		if (p[i]->wd == p[i - 1]->wd) {
			pr_err("files.img: inotify %u: wd %d twice", s->id, p[i]->wd);
			goto err;
		}
	o->e.n_wds = s->n_wd;
	o->e.wds = p;
	return &o->e.base;
err:
	free(o);
	return NULL;
}

struct ffy_out {
	FanotifyEntry e;
	FanotifyMarkEntry m[];	/* then the n pointers of e.marks */
};

static int conv_mark(const Est__FanotifyMarkEntry *s, uint32_t id, FanotifyMarkEntry *d)
{
	fanotify_mark_entry__init(d);
	if (s->id != id) {
		pr_err("files.img: fanotify %u: a mark of group %u", id, s->id);
		return -1;
	}
	d->mflags = s->mflags;
	d->mask = s->mask;
	d->ignored_mask = s->ignored_mask;
	d->dev = makedev(s->s_dev >> 20, s->s_dev & 0xfffff);
	if (s->type == EST__MARK_TYPE__INODE && s->ie) {
		d->kind = FANOTIFY_MARK_KIND__FAN_INODE;
		d->has_ino = true;
		d->ino = s->ie->i_ino;
		d->path = (char *)path_of(s->ie->f_handle, id);
		return d->path ? 0 : -1;
	}
	if (s->type == EST__MARK_TYPE__MOUNT && s->me && s->me->path && s->me->path[0] == '/' &&
	    strnlen(s->me->path, PATH_MAX) < PATH_MAX) {
		d->kind = FANOTIFY_MARK_KIND__FAN_MOUNT;
		d->path = s->me->path;
		return 0;
	}
	pr_err("not supported yet: files.img: fanotify %u: a mark of type %d without its inode or mount path",
	       id, s->type);
	return -1;
}

static ProtobufCMessage *conv_fanotify(struct imp *im, const Est__FileEntry *f)
{
	const Est__FanotifyFileEntry *s = f->ffy;
	struct ffy_out *o;
	FanotifyMarkEntry **p;
	size_t i;

	(void)im;
	if (s->n_mark > MAX_MARKS) {
		pr_err("not supported yet: files.img: fanotify %u with %zu marks", s->id, s->n_mark);
		return NULL;
	}
	o = imp_zalloc(sizeof(*o) + s->n_mark * (sizeof(o->m[0]) + sizeof(*p)));
	if (!o)
		return NULL;
	p = (FanotifyMarkEntry **)&o->m[s->n_mark];
	fanotify_entry__init(&o->e);
	o->e.id = s->id;
	if (group_flags(s->flags, s->id, &o->e.flags))
		goto err;
	o->e.init_flags = s->faflags & ~(uint32_t)FAN_NONBLOCK;	/* ours: in flags */
	o->e.event_flags = s->evflags;
	for (i = 0; i < s->n_mark; i++) {
		if (conv_mark(s->mark[i], s->id, &o->m[i]))
			goto err;
		p[i] = &o->m[i];
	}
	o->e.n_marks = s->n_mark;
	o->e.marks = p;
	return &o->e.base;
err:
	free(o);
	return NULL;
}

const struct est_fd_imp est_fd_inotify_imp = { ify_member, conv_inotify };
const struct est_fd_imp est_fd_fanotify_imp = { ffy_member, conv_fanotify };
