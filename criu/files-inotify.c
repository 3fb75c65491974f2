/*
 * inotify (images/inotify.proto): each watch from fdinfo ("inotify wd:N
 * ino:X sdev:X mask:X ... f_handle:..."). The dump turns the file handle
 * into a path (open_by_handle_at on a mount of that device) and checks the
 * path leads to the inode. Restore adds the watches again in wd order,
 * each with its old number (INOTIFY_IOC_SETNEXTWD), on the same inodes.
 *
 * Refused: events queued and not read yet (the kernel gives no way to put
 * them back), watches without a file handle, inodes no path leads to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

#define LOG_PREFIX "inotify: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "fsnotify.h"
#include "kernel-compat.h"
#include "inotify.pb-c.h"

#define INOTIFY_MAX_WDS	65536
/* What inotify_add_watch takes back from the mask fdinfo shows. */
#define IN_USER_MASK	(IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)

static bool ino_match(const struct fd_probe *p)
{
	return fd_probe_anon(p, "inotify");
}

static int fill_wds(InotifyEntry *e, const struct fd_probe *p, const struct proc_inotify_wd *w,
		    size_t nr)
{
	size_t i;

	if (nr > INOTIFY_MAX_WDS) {
		pr_err("fd %d: %zu inotify watches: more than %d is not supported yet", p->fd,
		       nr, INOTIFY_MAX_WDS);
		return -1;
	}
	e->wds = calloc(nr + 1, sizeof(*e->wds));
	if (!e->wds)
		return -1;
	for (i = 0; i < nr; i++) {
		dev_t dev = fsn_dev(w[i].sdev);
		InotifyWdEntry *we = malloc(sizeof(*we));
		char what[48];

		if (!we)
			return -1;
		inotify_wd_entry__init(we);
		e->wds[e->n_wds++] = we;
		we->wd = w[i].wd;
		we->mask = w[i].mask & IN_USER_MASK;
		we->ino = w[i].ino;
		we->dev = dev;
		snprintf(what, sizeof(what), "fd %d: watch %d", p->fd, w[i].wd);
		we->path = fsn_handle_path(what, &w[i].fh, w[i].ino, dev);
		if (!we->path)
			return -1;
	}
	return 0;
}

static int wd_cmp(const void *a, const void *b)
{
	const struct proc_inotify_wd *x = a, *y = b;

	return x->wd < y->wd ? -1 : x->wd > y->wd;
}

static int ino_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct fd_list *l = fd_list(d, FD_KIND__FD_INOTIFY);
	struct proc_inotify_wd *w = NULL;
	size_t nr = 0;
	InotifyEntry *e;

	if (!l || fsn_no_queued_events(p, "inotify") || proc_fdinfo_inotify(&p->fi, &w, &nr) < 0)
		return -1;
	e = malloc(sizeof(*e));
	if (!e) {
		free(w);
		pr_err("out of memory");
		return -1;
	}
	inotify_entry__init(e);
	if (nr)
		qsort(w, nr, sizeof(*w), wd_cmp);	/* restored in this order */
	e->id = *id = fd_obj_id(d);
	e->flags = p->fi.flags & O_NONBLOCK;
	if (fill_wds(e, p, w, nr)) {
		free(w);
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return -1;
	}
	free(w);
	return fd_list_add(l, e);
}

static int ino_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const InotifyEntry *e = (const InotifyEntry *)m;
	size_t i;

	if ((e->flags & ~O_NONBLOCK) || e->n_wds > INOTIFY_MAX_WDS) {
		pr_err("inotifys.img: object %u: bad flags %#o or %zu watches", e->id, e->flags, e->n_wds);
		return -1;
	}
	for (i = 0; i < e->n_wds; i++) {
		const InotifyWdEntry *w = e->wds[i];

		if (w->wd < 1 || (w->mask & ~IN_USER_MASK) || !(w->mask & IN_ALL_EVENTS) ||
		    w->path[0] != '/' || strnlen(w->path, PATH_MAX) >= PATH_MAX ||
		    (i && w->wd <= e->wds[i - 1]->wd)) {
			pr_err("inotifys.img: object %u: watch %d is out of order or has a bad mask or path",
			       e->id, w->wd);
			return -1;
		}
	}
	*id = e->id;
	return 0;
}

static int add_watch(int fd, const InotifyWdEntry *w)
{
	int wd;

	if (fsn_check_path(w->path, w->ino, w->dev))
		return -1;
	if (ioctl(fd, INOTIFY_IOC_SETNEXTWD, w->wd)) {
		pr_perror("INOTIFY_IOC_SETNEXTWD %d: keeping watch numbers is not supported", w->wd);
		return -1;
	}
	wd = inotify_add_watch(fd, w->path, w->mask | IN_DONT_FOLLOW);
	if (wd < 0) {
		pr_perror("inotify_add_watch %s", w->path);
		return -1;
	}
	if (wd != w->wd) {
		pr_err("%s: watch got number %d, not %d", w->path, wd, w->wd);
		return -1;
	}
	return 0;
}

static int ino_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const InotifyEntry *e = (const InotifyEntry *)o->e;
	int fd = inotify_init1(IN_CLOEXEC | (e->flags & O_NONBLOCK ? IN_NONBLOCK : 0));
	size_t i;

	(void)r;
	(void)opt;
	if (fd < 0) {
		pr_perror("inotify_init1");
		return -1;
	}
	for (i = 0; i < e->n_wds; i++)
		if (add_watch(fd, e->wds[i])) {
			close(fd);
			return -1;
		}
	return fd;
}

const struct fd_ops fd_inotify_ops = {
	.kind = FD_KIND__FD_INOTIFY, .name = "inotify", .img = IMG_INOTIFYS,
	.match = ino_match, .dump = ino_dump,
	.validate = ino_validate, .open = ino_open,
};
