/*
 * Our images of the kinds with an FD_EST row (fd-kinds.def) -> established
 * files.img entries, one entry at a time (plan §2.11, §2.12): signalfds,
 * epolls and FIFOs here, eventfds and timerfds in est-export-files.c,
 * inotifys and fanotifys in est-export-fsnotify.c. Their owners and O_ASYNC
 * come from est-export-fown.c.
 *
 * A FIFO is two entries in the format: the FIFO (its inode) and a REG entry
 * naming its path, with the open flags and the owner; the REG entry gets a
 * new object id, as in the reference. Its mode is the FIFO's at the path
 * now, once its inode and device are checked to be the dump's (ours keeps
 * no mode: our restore opens the FIFO that is there). Its queued data go to
 * fifo-data.img, not pipes-data.img (exp_fifo_ino()).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "est-fd.h"
#include "files.h"
#include "log.h"

#include "epoll.pb-c.h"
#include "pipe.pb-c.h"
#include "signalfd.pb-c.h"
#include "est/eventpoll.pb-c.h"
#include "est/fifo.pb-c.h"
#include "est/regfile.pb-c.h"
#include "est/signalfd.pb-c.h"

static int conv_signalfd(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const SignalfdEntry *s = (const SignalfdEntry *)m;
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__SignalfdEntry o = EST__SIGNALFD_ENTRY__INIT;

	o.id = s->id;
	o.flags = O_RDWR | s->flags;	/* the format keeps the whole f_flags */
	o.sigmask = s->sigmask;		/* bit N-1: signal N in both */
	f.type = EST__FD_TYPES__SIGNALFD;
	f.id = s->id;
	f.sgfd = &o;
	exp_file_add(ex, w, &f);
	return 0;
}

/*
 * Targets by fd number in both; the reference adds the target's dev, inode
 * and pos (optional), which ours does not keep: left out, a restore then
 * takes the file at that number, as ours does.
 */
static int conv_epoll(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const EpollEntry *e = (const EpollEntry *)m;
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__EventpollFileEntry o = EST__EVENTPOLL_FILE_ENTRY__INIT;
	Est__EventpollTfdEntry *t, **p;
	size_t i;

	if (((e->has_busy_poll_usecs && e->busy_poll_usecs) ||
	     (e->has_busy_poll_budget && e->busy_poll_budget) ||
	     (e->has_prefer_busy_poll && e->prefer_busy_poll)) &&
	    exp_cannot("epolls.img", "epoll %u has busy-poll parameters (EPIOCSPARAMS)", e->id))
		return -1;
	t = exp_zalloc(e->n_tfds * (sizeof(*t) + sizeof(*p)));
	if (!t)
		return -1;
	p = (Est__EventpollTfdEntry **)&t[e->n_tfds];
	for (i = 0; i < e->n_tfds; i++) {
		est__eventpoll_tfd_entry__init(&t[i]);
		t[i].id = e->id;
		t[i].tfd = e->tfds[i]->fd;
		t[i].events = e->tfds[i]->events;
		t[i].data = e->tfds[i]->data;
		p[i] = &t[i];
	}
	o.id = e->id;
	o.flags = O_RDWR | e->flags;
	o.n_tfd = e->n_tfds;
	o.tfd = p;
	f.type = EST__FD_TYPES__EVENTPOLL;
	f.id = e->id;
	f.epfd = &o;
	exp_file_add(ex, w, &f);
	free(t);
	return 0;
}

static int conv_fifo(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const FifoEntry *fi = (const FifoEntry *)m;
	Est__FileEntry f = EST__FILE_ENTRY__INIT, rf = EST__FILE_ENTRY__INIT;
	Est__FifoEntry o = EST__FIFO_ENTRY__INIT;
	Est__RegFileEntry r = EST__REG_FILE_ENTRY__INIT;
	uint64_t *ino;
	struct stat st;

	if (fi->pipe_id > UINT32_MAX) {
		pr_err("fifos.img: FIFO %u: inode %llu does not fit the format's 32 bits", fi->id,
		       (unsigned long long)fi->pipe_id);
		return -1;
	}
	if (stat(fi->path, &st) || !S_ISFIFO(st.st_mode) || st.st_ino != fi->pipe_id ||
	    st.st_dev != fi->dev) {
		pr_err("fifos.img: FIFO %u: %s is no longer the FIFO of the dump", fi->id, fi->path);
		return -1;
	}
	ino = realloc(ex->fifo_ino, (ex->nr_fifo_ino + 1) * sizeof(*ino));
	if (!ino) {
		pr_err("out of memory");
		return -1;
	}
	ex->fifo_ino = ino;
	ex->fifo_ino[ex->nr_fifo_ino++] = fi->pipe_id;
	r.id = exp_new_id(ex);
	r.flags = fi->flags | KERNEL_O_LARGEFILE;	/* as any open on x86-64 */
	r.fown = (Est__FownEntry *)exp_fown(ex, fi->id, &r.flags);
	r.name = fi->path;
	r.has_mode = true;
	r.mode = st.st_mode;
	rf.type = EST__FD_TYPES__REG;
	rf.id = r.id;
	rf.reg = &r;
	exp_img_add(w, &rf.base, NULL, 0);
	o.id = fi->id;
	o.pipe_id = fi->pipe_id;
	o.has_regf_id = true;
	o.regf_id = r.id;
	f.type = EST__FD_TYPES__FIFO;
	f.id = fi->id;
	f.fifo = &o;
	exp_img_add(w, &f.base, NULL, 0);
	return 0;
}

bool exp_fifo_ino(const struct exp *ex, uint64_t ino)
{
	size_t i;

	for (i = 0; i < ex->nr_fifo_ino; i++)
		if (ex->fifo_ino[i] == ino)
			return true;
	return false;
}

const struct est_fd_exp est_fd_signalfd_exp = { conv_signalfd };
const struct est_fd_exp est_fd_epoll_exp = { conv_epoll };
const struct est_fd_exp est_fd_fifo_exp = { conv_fifo };
/* exported with their other images: exp_shm_files(), exp_ttys(), exp_sockets() */
const struct est_fd_exp est_fd_memfd_exp = { NULL };
const struct est_fd_exp est_fd_pty_exp = { NULL };
const struct est_fd_exp est_fd_inet_sk_exp = { NULL };

/* Every FD_EST row of fd-kinds.def: our image and its converter. */
static const struct {
	enum img_kind img;
	const struct est_fd_exp *e;
} kinds[] = {
#define FD_EST(kind, img, conv) { IMG_##img, &conv##_exp },
#include "fd-kinds.def"
};

int exp_fd_kinds(struct exp *ex, struct exp_img *w)
{
	size_t k, i;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		ProtobufCMessage **m = NULL;
		size_t nr = 0;
		int ret = 0;

		if (!kinds[k].e->conv)
			continue;
		if (exp_read_optional(ex, kinds[k].img, img_desc(kinds[k].img)->fmt, &m, &nr))
			return -1;
		for (i = 0; i < nr && !ret; i++)
			ret = kinds[k].e->conv(ex, w, m[i]);
		img_free_all(m, nr);
		if (ret)
			return -1;
	}
	return 0;
}
