/*
 * fanotify (images/fanotify.proto), notification class only: init flags,
 * event flags and every mark from fdinfo. Inode marks become checked paths
 * through their file handles, mount marks the task's mount point of that
 * mount id, file-system marks a mount point of that device. Restore:
 * fanotify_init, then fanotify_mark for each mask and ignore mask on the
 * same path (inode or device checked again).
 *
 * Refused: permission classes (events a process may be blocked on),
 * unread events, marks whose object no path leads to.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/fanotify.h>

#define LOG_PREFIX "fanotify: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "fsnotify.h"
#include "image.h"
#include "fanotify.pb-c.h"

#define FAN_MAX_MARKS		65536
#define FAN_INIT_KEEP		(FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS | FAN_ENABLE_AUDIT | \
				 FAN_REPORT_PIDFD | FAN_REPORT_TID | FAN_REPORT_FID | \
				 FAN_REPORT_DIR_FID | FAN_REPORT_NAME | FAN_REPORT_TARGET_FID)
/* glibc's O_LARGEFILE is 0 on 64-bit; the kernel reports its own bit */
#define FAN_EVENT_KEEP		(O_ACCMODE | KERNEL_O_LARGEFILE | O_CLOEXEC | O_APPEND | O_DSYNC | \
				 O_NOATIME | O_NONBLOCK | O_SYNC)
#define FAN_MFLAGS_KEEP		(FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE | FAN_MARK_IGNORE)

static bool fan_match(const struct fd_probe *p)
{
	return fd_probe_anon(p, "[fanotify]");
}

/* The path of one mark, checked; its device (and inode) into @me. */
static int mark_path(const struct fd_probe *p, const struct proc_fanotify_mark *m,
		     FanotifyMarkEntry *me)
{
	char what[48];
	dev_t dev = fsn_dev(m->sdev);

	snprintf(what, sizeof(what), "fd %d: fanotify mark", p->fd);
	switch (m->kind) {
	case PROC_FAN_MARK_INODE:
		me->kind = FANOTIFY_MARK_KIND__FAN_INODE;
		me->has_ino = true;
		me->ino = m->ino;
		me->path = fsn_handle_path(what, &m->fh, m->ino, dev);
		break;
	case PROC_FAN_MARK_MOUNT:
		me->kind = FANOTIFY_MARK_KIND__FAN_MOUNT;
		me->path = fsn_mnt_path(what, p->pid, m->mnt_id, &dev);
		break;
	case PROC_FAN_MARK_SB:
		me->kind = FANOTIFY_MARK_KIND__FAN_SB;
		me->path = fsn_dev_path(what, dev);
		break;
	}
	me->dev = dev;
	return me->path ? 0 : -1;
}

static int fill_marks(FanotifyEntry *e, const struct fd_probe *p, const struct proc_fanotify *fan)
{
	size_t i;

	if (fan->nr_marks > FAN_MAX_MARKS) {
		pr_err("fd %d: %zu fanotify marks: more than %d is not supported yet", p->fd,
		       fan->nr_marks, FAN_MAX_MARKS);
		return -1;
	}
	e->marks = calloc(fan->nr_marks + 1, sizeof(*e->marks));
	if (!e->marks)
		return -1;
	for (i = 0; i < fan->nr_marks; i++) {
		const struct proc_fanotify_mark *m = &fan->marks[i];
		FanotifyMarkEntry *me = malloc(sizeof(*me));

		if (!me)
			return -1;
		fanotify_mark_entry__init(me);
		e->marks[e->n_marks++] = me;
		me->mflags = m->mflags;
		me->mask = m->mask;
		me->ignored_mask = m->ignored_mask;
		if ((m->mflags & ~FAN_MFLAGS_KEEP) || mark_path(p, m, me)) {
			if (m->mflags & ~FAN_MFLAGS_KEEP)
				pr_err("fd %d: fanotify mark flags %#x: not supported yet", p->fd, m->mflags);
			return -1;
		}
	}
	return 0;
}

static int check_group(const struct fd_probe *p, const struct proc_fanotify *fan)
{
	unsigned int init = fan->flags & ~(FAN_CLOEXEC | FAN_NONBLOCK);

	if (init & FAN_ALL_CLASS_BITS) {
		pr_err("fd %d: fanotify permission class (flags %#x): not supported yet", p->fd,
		       fan->flags);
		return -1;
	}
	if ((init & ~FAN_INIT_KEEP) || (fan->event_flags & ~FAN_EVENT_KEEP)) {
		pr_err("fd %d: fanotify flags %#x, event flags %#x: not supported yet", p->fd,
		       fan->flags, fan->event_flags);
		return -1;
	}
	return 0;
}

static int fan_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct fd_list *l = fd_list(d, FD_KIND__FD_FANOTIFY);
	struct proc_fanotify fan;
	FanotifyEntry *e = NULL;
	int ret = -1;

	if (!l || fsn_no_queued_events(p, "fanotify"))
		return -1;
	if (proc_fdinfo_fanotify(&p->fi, &fan)) {
		pr_err("fd %d: no fanotify flags in its fdinfo", p->fd);
		return -1;
	}
	if (check_group(p, &fan))
		goto out;
	e = malloc(sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		goto out;
	}
	fanotify_entry__init(e);
	e->id = *id = fd_obj_id(d);
	e->flags = p->fi.flags & O_NONBLOCK;
	e->init_flags = fan.flags & ~FAN_NONBLOCK;	/* FAN_CLOEXEC: fdinfo shows it */
	e->event_flags = fan.event_flags;
	if (fill_marks(e, p, &fan)) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		e = NULL;
		goto out;
	}
	ret = fd_list_add(l, e);
	e = NULL;
out:
	free(e);
	free(fan.marks);
	return ret;
}

static int fan_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const FanotifyEntry *e = (const FanotifyEntry *)m;
	size_t i;

	if ((e->flags & ~O_NONBLOCK) || (e->init_flags & ~(FAN_INIT_KEEP | FAN_CLOEXEC)) ||
	    (e->event_flags & ~FAN_EVENT_KEEP) || e->n_marks > FAN_MAX_MARKS)
		goto bad;
	for (i = 0; i < e->n_marks; i++) {
		const FanotifyMarkEntry *me = e->marks[i];

		if ((me->mflags & ~FAN_MFLAGS_KEEP) || me->path[0] != '/' ||
		    strnlen(me->path, PATH_MAX) >= PATH_MAX ||
		    (me->kind == FANOTIFY_MARK_KIND__FAN_INODE && !me->has_ino))
			goto bad;
	}
	*id = e->id;
	return 0;
bad:
	pr_err("fanotifys.img: object %u: bad flags, mark or path", e->id);
	return -1;
}

static unsigned int mark_type(const FanotifyMarkEntry *me)
{
	switch (me->kind) {
	case FANOTIFY_MARK_KIND__FAN_MOUNT:	return FAN_MARK_MOUNT;
	case FANOTIFY_MARK_KIND__FAN_SB:	return FAN_MARK_FILESYSTEM;
	default:				return FAN_MARK_INODE;
	}
}

static int add_mark(int fd, const FanotifyMarkEntry *me)
{
	unsigned int type = mark_type(me) | FAN_MARK_DONT_FOLLOW;
	unsigned int keep = me->mflags & (FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE);
	unsigned int ign = me->mflags & FAN_MARK_IGNORE ? FAN_MARK_IGNORE : FAN_MARK_IGNORED_MASK;

	if (fsn_check_path(me->path, me->has_ino ? me->ino : 0, me->dev))
		return -1;
	if (me->mask && fanotify_mark(fd, FAN_MARK_ADD | type | keep, me->mask, AT_FDCWD, me->path)) {
		pr_perror("fanotify_mark %s mask %#x", me->path, me->mask);
		return -1;
	}
	if (me->ignored_mask && fanotify_mark(fd, FAN_MARK_ADD | type | keep | ign,
					      me->ignored_mask, AT_FDCWD, me->path)) {
		pr_perror("fanotify_mark %s ignore mask %#x", me->path, me->ignored_mask);
		return -1;
	}
	return 0;
}

/*
 * The group keeps its fanotify_init() flags, FAN_CLOEXEC too (fdinfo shows
 * it): made without it, criu's own descriptor is made close-on-exec at once.
 */
static int fan_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const FanotifyEntry *e = (const FanotifyEntry *)o->e;
	int fd = fanotify_init(e->init_flags | (e->flags & O_NONBLOCK ? FAN_NONBLOCK : 0),
			       e->event_flags);
	size_t i;

	(void)r;
	(void)opt;
	if (fd < 0) {
		pr_perror("fanotify_init %#x %#x", e->init_flags, e->event_flags);
		return -1;
	}
	if (!(e->init_flags & FAN_CLOEXEC) && fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		pr_perror("fanotify: close-on-exec");
		close(fd);
		return -1;
	}
	for (i = 0; i < e->n_marks; i++)
		if (add_mark(fd, e->marks[i])) {
			close(fd);
			return -1;
		}
	return fd;
}

const struct fd_ops fd_fanotify_ops = {
	.kind = FD_KIND__FD_FANOTIFY, .name = "fanotify", .img = IMG_FANOTIFYS,
	.match = fan_match, .dump = fan_dump,
	.validate = fan_validate, .open = fan_open,
};
