/*
 * Established files.img kinds beyond REG, PIPE, UNIXSK (est-import-files.c)
 * -> ours: the kinds with an FD_EST row in fd-kinds.def (plan §2.11, §2.12).
 * Converted here: SIGNALFD, EVENTPOLL with its targets, FIFO with its REG
 * path entry (fifo-data.img is merged into our pipes-data.img by
 * est-import-files.c), and INETSK's row for est-import-sk.c; the others
 * register themselves next to their code: EVENTFD, TIMERFD
 * (est-import-files.c), INOTIFY, FANOTIFY (est-import-fsnotify.c), TTY
 * (est-import-tty.c), MEMFD (est-import-shmem.c).
 * Each converter returns ours in one allocation, so free() releases it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "files.h"
#include "log.h"

#include "epoll.pb-c.h"
#include "files.pb-c.h"
#include "pipe.pb-c.h"
#include "signalfd.pb-c.h"

#define MAX_TFDS	65536		/* targets of one epoll, as our restore takes */
#define MAX_FD		(1u << 20)

/* ---- signalfd ------------------------------------------------------------------- */

static const void *sgfd_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->sgfd)
		return NULL;
	*id = f->sgfd->id;
	*fown = f->sgfd->fown;
	return f->sgfd;
}

static ProtobufCMessage *conv_signalfd(struct imp *im, const Est__FileEntry *f)
{
	SignalfdEntry *o = imp_zalloc(sizeof(*o));

	(void)im;
	if (!o)
		return NULL;
	signalfd_entry__init(o);
	o->id = f->sgfd->id;
	o->sigmask = f->sgfd->sigmask;	/* bit N-1: signal N in both */
	if (imp_status_flags(f->sgfd->flags, O_NONBLOCK, o->id, &o->flags)) {
		free(o);
		return NULL;
	}
	return &o->base;
}

/* ---- epoll ---------------------------------------------------------------------- */

static const void *epfd_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->epfd)
		return NULL;
	*id = f->epfd->id;
	*fown = f->epfd->fown;
	return f->epfd;
}

struct ep_out {
	EpollEntry e;
	EpollTfdEntry t[];	/* then the n pointers of e.tfds */
};

/*
 * A target is the file open at its fd number in the epoll's process, in
 * both formats. The reference also keeps the target's dev/inode/pos, which
 * ours does not: our restore registers the file at that number (none there
 * fails the restore). One number registered twice (a file registered, its
 * fd closed, another file registered at the same number) is refused.
 */
static ProtobufCMessage *conv_epoll(struct imp *im, const Est__FileEntry *f)
{
	const Est__EventpollFileEntry *ep = f->epfd;
	struct ep_out *o;
	EpollTfdEntry **p;
	size_t i, k;

	(void)im;
	if (ep->n_tfd > MAX_TFDS) {
		pr_err("not supported yet: files.img: epoll %u with %zu targets (at most %u)", ep->id,
		       ep->n_tfd, MAX_TFDS);
		return NULL;
	}
	o = imp_zalloc(sizeof(*o) + ep->n_tfd * (sizeof(o->t[0]) + sizeof(*p)));
	if (!o)
		return NULL;
	p = (EpollTfdEntry **)&o->t[ep->n_tfd];
	epoll_entry__init(&o->e);
	o->e.id = ep->id;
	if (imp_status_flags(ep->flags, O_NONBLOCK, ep->id, &o->e.flags))
		goto err;
	for (i = 0; i < ep->n_tfd; i++) {
		const Est__EventpollTfdEntry *t = ep->tfd[i];

		/* the established tool leaves a target's id 0; ours writes the epoll's */
		if ((t->id && t->id != ep->id) || t->tfd >= MAX_FD) {
			pr_err("files.img: epoll %u: target %zu belongs to %u or has fd %u", ep->id, i,
			       t->id, t->tfd);
			goto err;
		}
		for (k = 0; k < i; k++)
			if (ep->tfd[k]->tfd == t->tfd) {
				pr_err("not supported yet: files.img: epoll %u: fd %u registered twice (dup'ed files)",
				       ep->id, t->tfd);
				goto err;
			}
		epoll_tfd_entry__init(&o->t[i]);
		o->t[i].fd = t->tfd;
		o->t[i].events = t->events;
		o->t[i].data = t->data;
		p[i] = &o->t[i];
	}
	o->e.n_tfds = ep->n_tfd;
	o->e.tfds = p;
	return &o->e.base;
err:
	free(o);
	return NULL;
}

/* ---- FIFO ----------------------------------------------------------------------- */

static const void *fifo_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->fifo)
		return NULL;
	*id = f->fifo->id;
	*fown = NULL;		/* the REG entry of its path has it */
	return f->fifo;
}

/* The REG entry naming a FIFO's path; NULL (logged) when there is none fit. */
static const Est__RegFileEntry *fifo_reg(const struct imp *im, const Est__FifoEntry *fi)
{
	const Est__FileEntry *r = fi->has_regf_id ? imp_obj(im, fi->regf_id) : NULL;

	if (!r || !r->reg || !r->reg->has_mode || !S_ISFIFO(r->reg->mode) ||
	    r->reg->name[0] != '/' || strnlen(r->reg->name, PATH_MAX) >= PATH_MAX) {
		pr_err("files.img: FIFO %u: no REG entry of a FIFO at an absolute path", fi->id);
		return NULL;
	}
	return r->reg;
}

bool imp_reg_is_aux(const struct imp *im, uint32_t id)
{
	size_t i;

	if (imp_tty_path(im, id) || imp_is_link(im, id))
		return true;
	for (i = 0; i < im->nr_obj; i++)
		if (im->obj[i]->fifo && im->obj[i]->fifo->has_regf_id &&
		    im->obj[i]->fifo->regf_id == id)
			return true;
	return false;
}

struct fifo_out {
	FifoEntry e;
	char path[];
};

/*
 * Ours checks on restore that the path is still the FIFO of the dump by
 * device and inode; the format keeps the inode (pipe_id) only. The device
 * is taken from the FIFO at the path now, after checking its inode: what
 * the reference's own restore checks, no less.
 */
static ProtobufCMessage *conv_fifo(struct imp *im, const Est__FileEntry *f)
{
	const Est__FifoEntry *fi = f->fifo;
	const Est__RegFileEntry *r = fifo_reg(im, fi);
	struct fifo_out *o;
	struct stat st;
	size_t i, l;

	if (!r)
		return NULL;
	for (i = 0; i < im->nr_obj; i++)
		if (im->obj[i]->pipe && im->obj[i]->pipe->pipe_id == fi->pipe_id) {
			pr_err("not supported yet: files.img: FIFO %u and pipe %u share inode number %u",
			       fi->id, im->obj[i]->id, fi->pipe_id);
			return NULL;
		}
	/* its signal owner and O_ASYNC went to its fd (imp_fowns_read()) */
	if (r->pos || (r->has_ext && r->ext)) {
		pr_err("not supported yet: files.img: FIFO %u: an offset or an external file", fi->id);
		return NULL;
	}
	if ((r->flags & ~(uint32_t)(O_ACCMODE | O_NONBLOCK | KERNEL_O_LARGEFILE)) ||
	    (r->flags & O_ACCMODE) == 3) {
		pr_err("not supported yet: files.img: FIFO %u: file flags %#x", fi->id, r->flags);
		return NULL;
	}
	if (stat(r->name, &st) || !S_ISFIFO(st.st_mode) || st.st_ino != fi->pipe_id) {
		pr_err("%s: not the FIFO of the dump (no FIFO of inode %u there)", r->name, fi->pipe_id);
		return NULL;
	}
	l = strlen(r->name);
	o = imp_zalloc(sizeof(*o) + l + 1);
	if (!o)
		return NULL;
	fifo_entry__init(&o->e);
	memcpy(o->path, r->name, l + 1);
	o->e.id = fi->id;
	o->e.pipe_id = fi->pipe_id;
	o->e.flags = r->flags & (O_ACCMODE | O_NONBLOCK);	/* O_LARGEFILE: set by any open */
	o->e.path = o->path;
	o->e.dev = st.st_dev;
	return &o->e.base;
}

const struct est_fd_imp est_fd_signalfd_imp = { sgfd_member, conv_signalfd };
const struct est_fd_imp est_fd_epoll_imp = { epfd_member, conv_epoll };
const struct est_fd_imp est_fd_fifo_imp = { fifo_member, conv_fifo };
const struct est_fd_imp est_fd_inet_sk_imp = { imp_isk_member, imp_conv_inet };

/* ---- the table ------------------------------------------------------------------ */

static const struct imp_fd_kind kinds[] = {
#define FD_EST(kind, img, conv) { FD_KIND__FD_##kind, IMG_##img, &conv##_imp },
#include "fd-kinds.def"
};

const struct imp_fd_kind *imp_fd_kind(int type, unsigned int *n)
{
	size_t i;

	if (n) {
		*n = sizeof(kinds) / sizeof(kinds[0]);
		return kinds;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if ((int)est_fd_type(kinds[i].kind) == type)
			return &kinds[i];
	return NULL;
}
