/*
 * Our reg-files, pipes, eventfds, timerfds, pipes-data and fds-PID images
 * -> established files.img, pipes-data.img and fdinfo-FILESID.img (plan
 * §2.9-§2.12). Kinds converted: regular files, directories, character
 * devices, O_PATH fds and terminals opened by path (all REG), pipes,
 * eventfds, timerfds, unnamed unix sockets (queues in sk-queues.img); ghosts
 * (est-export-ghost.c) and locks (est-export-locks.c) of REG entries; any
 * other is refused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "kernel-compat.h"
#include "log.h"

#include "files.pb-c.h"
#include "eventfd.pb-c.h"
#include "pipe.pb-c.h"
#include "sk-opts.pb-c.h"
#include "sk-unix.pb-c.h"
#include "timerfd.pb-c.h"
#include "est/eventfd.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/fown.pb-c.h"
#include "est/pipe.pb-c.h"
#include "est/pipe-data.pb-c.h"
#include "est/regfile.pb-c.h"
#include "est/sk-packet.pb-c.h"
#include "est/sk-unix.pb-c.h"
#include "est/timerfd.pb-c.h"

static Est__FownEntry no_fown = EST__FOWN_ENTRY__INIT;

struct ours {
	ProtobufCMessage **reg, **pipe, **efd, **tfd, **usk;
	size_t nr_reg, nr_pipe, nr_efd, nr_tfd, nr_usk;
};

static int conv_reg(struct exp_img *w, const RegFileEntry *r)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__RegFileEntry e = EST__REG_FILE_ENTRY__INIT;

	e.id = r->id;
	e.flags = r->flags;
	e.pos = r->pos;
	e.fown = &no_fown;
	e.name = r->path;
	e.has_mode = true;
	e.mode = r->mode;
	if (r->has_size) {
		e.has_size = true;
		e.size = r->size;
	}
	f.type = EST__FD_TYPES__REG;
	f.id = r->id;
	f.reg = &e;
	exp_img_add(w, &f.base, NULL, 0);
	return 0;
}

static int conv_pipe(struct exp_img *w, const PipeEntry *p)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__PipeEntry e = EST__PIPE_ENTRY__INIT;

	if (p->pipe_id > UINT32_MAX) {
		pr_err("pipes.img: pipe %u: inode %llu does not fit the format's 32 bits", p->id,
		       (unsigned long long)p->pipe_id);
		return -1;
	}
	e.id = p->id;
	e.pipe_id = p->pipe_id;
	e.flags = p->flags;
	e.fown = &no_fown;
	f.type = EST__FD_TYPES__PIPE;
	f.id = p->id;
	f.pipe = &e;
	exp_img_add(w, &f.base, NULL, 0);
	return 0;
}

/* The format keeps an eventfd's or timerfd's whole f_flags; ours the status flags. */
static uint32_t f_flags(uint32_t status)
{
	return O_RDWR | status;
}

static int conv_eventfd(struct exp_img *w, const EventfdEntry *e)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__EventfdFileEntry o = EST__EVENTFD_FILE_ENTRY__INIT;

	if (e->semaphore &&
	    exp_cannot("eventfds.img", "eventfd %u is EFD_SEMAPHORE (an established restore makes a plain eventfd)",
		       e->id))
		return -1;
	o.id = e->id;
	o.flags = f_flags(e->flags);
	o.fown = &no_fown;
	o.counter = e->counter;
	f.type = EST__FD_TYPES__EVENTFD;
	f.id = e->id;
	f.efd = &o;
	exp_img_add(w, &f.base, NULL, 0);
	return 0;
}

static int conv_timerfd(struct exp_img *w, const TimerfdEntry *t)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__TimerfdEntry o = EST__TIMERFD_ENTRY__INIT;

	o.id = t->id;
	o.flags = f_flags(t->flags);
	o.fown = &no_fown;
	o.clockid = t->clockid;
	o.ticks = t->ticks;
	o.settime_flags = t->settime_flags;
	o.vsec = t->value_sec;	/* time left, relative, in both */
	o.vnsec = t->value_nsec;
	o.isec = t->interval_sec;
	o.insec = t->interval_nsec;
	f.type = EST__FD_TYPES__TIMERFD;
	f.id = t->id;
	f.tfd = &o;
	exp_img_add(w, &f.base, NULL, 0);
	return 0;
}

/* ---- unix sockets ------------------------------------------------------------ */

struct usk_out {
	Est__FileEntry f;
	Est__UnixSkEntry e;
	Est__SkOptsEntry opts;
};

/* Our sparse options -> the format's fixed ones; buffers and timeouts are required. */
static int conv_opts(Est__SkOptsEntry *s, const UnixSkEntry *u)
{
	bool snd = false, rcv = false;
	size_t i;

	est__sk_opts_entry__init(s);
	for (i = 0; i < u->n_opts; i++) {
		const SkOpt *o = u->opts[i];
		uint64_t v = (uint64_t)o->val;

		if (o->opt >> 16 != SOL_SOCKET)
			goto unknown;
		switch (o->opt & 0xffff) {
		case SO_SNDBUF: s->so_sndbuf = v, snd = true; break;
		case SO_RCVBUF: s->so_rcvbuf = v, rcv = true; break;
		case SO_SNDTIMEO_OLD: s->so_snd_tmo_sec = v / 1000000, s->so_snd_tmo_usec = v % 1000000; break;
		case SO_RCVTIMEO_OLD: s->so_rcv_tmo_sec = v / 1000000, s->so_rcv_tmo_usec = v % 1000000; break;
#define FLAG(name, f) case name: s->has_##f = true, s->f = v; break
		FLAG(SO_REUSEADDR, reuseaddr);
		FLAG(SO_PRIORITY, so_priority);
		FLAG(SO_RCVLOWAT, so_rcvlowat);
		FLAG(SO_MARK, so_mark);
		FLAG(SO_PASSCRED, so_passcred);
		FLAG(SO_PASSSEC, so_passsec);
		FLAG(SO_DONTROUTE, so_dontroute);
		FLAG(SO_REUSEPORT, so_reuseport);
		FLAG(SO_BROADCAST, so_broadcast);
		FLAG(SO_KEEPALIVE, so_keepalive);
		FLAG(SO_OOBINLINE, so_oobinline);
		FLAG(SO_BUF_LOCK, so_buf_lock);
#undef FLAG
		/* options ours always records; the format has no field: only their default */
		case SO_PEEK_OFF:	/* off (-1), or recv returns other data */
			if (o->val < 0)
				break;
			goto cannot;
		case SO_PASSPIDFD:	/* off (0) */
			if (!o->val)
				break;
			goto cannot;
		case SO_PASSRIGHTS:	/* on (1) */
			if (o->val == 1)
				break;
			goto cannot;
		default:
			goto unknown;
		}
	}
	if (!snd)
		s->so_sndbuf = est_unix_default_buf(u->type, SO_SNDBUF);
	if (!rcv)
		s->so_rcvbuf = est_unix_default_buf(u->type, SO_RCVBUF);
	return 0;
cannot:
	i = u->opts[i]->opt & 0xffff;
	return exp_cannot("unix-sks.img", "socket %u: %s is not at its default", u->id,
			  i == SO_PEEK_OFF ? "SO_PEEK_OFF" : i == SO_PASSPIDFD ? "SO_PASSPIDFD" :
			  "SO_PASSRIGHTS");
unknown:
	pr_err("not supported yet: unix-sks.img: socket %u: option %u:%u", u->id,
	       u->opts[i]->opt >> 16, u->opts[i]->opt & 0xffff);
	return -1;
}

static int conv_unix(struct exp_img *w, struct exp_img *q, const UnixSkEntry *u,
		     const ProtobufCMessage *const *all, size_t n)
{
	Est__SkPacketEntry pk;
	struct usk_out o;
	size_t i;

	/* an abstract name (autobind, SO_PASSCRED) is bound again as it was; a path is not yet */
	if ((u->name.len && u->name.data[0]) || (u->has_ext_peer && u->ext_peer) ||
	    u->ino > UINT32_MAX || (u->has_peer_ino && u->peer_ino > UINT32_MAX)) {
		pr_err("not supported yet: unix-sks.img: socket %u: a name in the file system or an outside peer",
		       u->id);
		return -1;
	}
	/* connected: the peer sent them, and sends them again at restore */
	if (u->type == SOCK_DGRAM && u->n_queue && !u->has_peer &&
	    !(u->has_queue_unnamed && u->queue_unnamed) &&
	    exp_cannot("unix-sks.img", "socket %u has queued datagrams from named senders (the format keeps no sender)",
		       u->id))
		return -1;
	memset(&o, 0, sizeof(o));
	est__file_entry__init(&o.f);
	est__unix_sk_entry__init(&o.e);
	if (conv_opts(&o.opts, u))
		return -1;
	o.e.id = u->id;
	o.e.ino = u->ino;
	o.e.type = u->type;
	o.e.state = u->state;
	o.e.flags = f_flags(u->flags);
	o.e.backlog = u->has_backlog ? u->backlog : 0;
	if (u->has_peer) {
		for (i = 0; i < n; i++)
			if (((const UnixSkEntry *)all[i])->id == u->peer)
				o.e.peer = ((const UnixSkEntry *)all[i])->ino;
		if (!o.e.peer) {
			pr_err("unix-sks.img: socket %u: peer %u is not in the dump", u->id, u->peer);
			return -1;
		}
	}
	o.e.fown = &no_fown;
	o.e.opts = &o.opts;
	o.e.name = u->name;
	if (u->has_shutdown && u->shutdown) {
		o.e.has_shutdown = true;
		o.e.shutdown = u->shutdown & 3;	/* 1 READ, 2 WRITE: the same bits */
	}
	o.e.has_ns_id = true;
	o.e.ns_id = 2;		/* criu's network namespace (root_ids) */
	o.f.type = EST__FD_TYPES__UNIXSK;
	o.f.id = u->id;
	o.f.usk = &o.e;
	exp_img_add(w, &o.f.base, NULL, 0);
	for (i = 0; i < u->n_queue; i++) {	/* this socket's receive queue, in order */
		est__sk_packet_entry__init(&pk);
		pk.id_for = u->id;
		pk.length = u->queue[i].len;
		exp_img_add(q, &pk.base, u->queue[i].data, u->queue[i].len);
	}
	return 0;
}

static int read_optional(struct exp *ex, enum img_kind kind, const char *name,
			 ProtobufCMessage ***m, size_t *nr)
{
	*m = NULL;
	*nr = 0;
	if (faccessat(ex->in, name, F_OK, 0))
		return 0;
	exp_used(ex, name);
	return img_read_all(ex->in, kind, 0, 0, NULL, NULL, m, nr);
}

static int write_pipes_data(struct exp *ex)
{
	Est__PipeDataEntry e;
	ProtobufCMessage **m;
	struct exp_img w;
	size_t nr, i;
	int ret = -1;

	if (read_optional(ex, IMG_PIPES_DATA, "pipes-data.img", &m, &nr))
		return -1;
	if (!m)
		return 0;
	exp_img_open(&w, "pipes-data.img");
	for (i = 0; i < nr; i++) {
		const PipeDataEntry *d = (const PipeDataEntry *)m[i];

		if (d->pipe_id > UINT32_MAX) {
			pr_err("pipes-data.img: pipe inode %llu does not fit 32 bits",
			       (unsigned long long)d->pipe_id);
			goto out;
		}
		est__pipe_data_entry__init(&e);
		e.pipe_id = d->pipe_id;
		e.bytes = d->has_data ? d->data.len : 0;
		e.has_size = true;
		e.size = d->size;
		exp_img_add(&w, &e.base, d->has_data ? d->data.data : NULL, e.bytes);
	}
	ret = exp_img_close(ex, &w);
out:
	if (ret && w.buf)
		free(w.buf);
	img_free_all(m, nr);
	return ret;
}

int exp_files(struct exp *ex)
{
	struct ours o = { 0 };
	struct exp_img w, q = { .buf = NULL };
	size_t i;
	int ret = -1;

	if (read_optional(ex, IMG_REG_FILES, "reg-files.img", &o.reg, &o.nr_reg) ||
	    read_optional(ex, IMG_PIPES, "pipes.img", &o.pipe, &o.nr_pipe) ||
	    read_optional(ex, IMG_EVENTFDS, "eventfds.img", &o.efd, &o.nr_efd) ||
	    read_optional(ex, IMG_TIMERFDS, "timerfds.img", &o.tfd, &o.nr_tfd) ||
	    read_optional(ex, IMG_UNIX_SKS, "unix-sks.img", &o.usk, &o.nr_usk))
		goto out;
	exp_img_open(&w, "files.img");
	exp_img_open(&q, "sk-queues.img");
	for (i = 0; i < o.nr_reg; i++)
		if (conv_reg(&w, (const RegFileEntry *)o.reg[i]))
			goto drop;
	for (i = 0; i < o.nr_pipe; i++)
		if (conv_pipe(&w, (const PipeEntry *)o.pipe[i]))
			goto drop;
	for (i = 0; i < o.nr_efd; i++)
		if (conv_eventfd(&w, (const EventfdEntry *)o.efd[i]))
			goto drop;
	for (i = 0; i < o.nr_tfd; i++)
		if (conv_timerfd(&w, (const TimerfdEntry *)o.tfd[i]))
			goto drop;
	for (i = 0; i < o.nr_usk; i++)
		if (conv_unix(&w, &q, (const UnixSkEntry *)o.usk[i],
			      (const ProtobufCMessage *const *)o.usk, o.nr_usk))
			goto drop;
	if (exp_img_close(ex, &w)) {
		free(q.buf);
		goto out;
	}
	if (!o.nr_usk)
		free(q.buf);
	else if (exp_img_close(ex, &q))
		goto out;
	ret = write_pipes_data(ex) || exp_ghosts(ex, o.reg, o.nr_reg) ||
	      exp_locks(ex, o.reg, o.nr_reg) ? -1 : 0;
	goto out;
drop:
	free(w.buf);
	free(q.buf);
out:
	img_free_all(o.reg, o.nr_reg);
	img_free_all(o.usk, o.nr_usk);
	img_free_all(o.pipe, o.nr_pipe);
	img_free_all(o.efd, o.nr_efd);
	img_free_all(o.tfd, o.nr_tfd);
	return ret;
}

/* Our fd kind -> the format's fd type; 0: not converted. */
static Est__FdTypes fd_type(FdKind k)
{
	switch (k) {
	case FD_KIND__FD_REG:
	case FD_KIND__FD_DIR:
	case FD_KIND__FD_CHR:
	case FD_KIND__FD_TTY:
	case FD_KIND__FD_PATH:
		return EST__FD_TYPES__REG;
	case FD_KIND__FD_PIPE:
		return EST__FD_TYPES__PIPE;
	case FD_KIND__FD_EVENTFD:
		return EST__FD_TYPES__EVENTFD;
	case FD_KIND__FD_TIMERFD:
		return EST__FD_TYPES__TIMERFD;
	case FD_KIND__FD_UNIX_SK:
		return EST__FD_TYPES__UNIXSK;
	default:
		return EST__FD_TYPES__UND;
	}
}

int exp_fdinfo(struct exp *ex, struct exp_proc *p)
{
	Est__FdinfoEntry e;
	ProtobufCMessage **m = NULL;
	struct exp_img w;
	char img[64], name[64];
	size_t nr = 0, i;
	int ret = -1;

	snprintf(img, sizeof(img), "fds-%u.img", p->ps->pid);
	if (p->files_id != p->ids) {	/* its parent's table: fdinfo-FILESID.img is written */
		exp_used(ex, img);
		return 0;
	}
	if (img_read_all(ex->in, IMG_FDS, p->ps->pid, 0, NULL, NULL, &m, &nr))
		return -1;
	exp_used(ex, img);
	snprintf(name, sizeof(name), "fdinfo-%u.img", p->ids);
	exp_img_open(&w, name);
	for (i = 0; i < nr; i++) {
		const FdEntry *d = (const FdEntry *)m[i];

		est__fdinfo_entry__init(&e);
		e.id = d->id;
		e.fd = d->fd;
		e.flags = d->cloexec ? FD_CLOEXEC : 0;
		e.type = fd_type(d->kind);
		if (e.type == EST__FD_TYPES__UND) {
			const ProtobufCEnumValue *k =
				protobuf_c_enum_descriptor_get_value(&fd_kind__descriptor, d->kind);

			pr_err("not supported yet: %s: fd %u of kind %s", img, d->fd,
			       k ? k->name : "unknown");
			goto drop;
		}
		if (d->fown) {
			pr_err("not supported yet: %s: fd %u has an owner (F_SETOWN) or O_ASYNC", img,
			       d->fd);
			goto drop;
		}
		if (d->has_write_hint && d->write_hint &&
		    exp_cannot(img, "fd %u's file has a write-life hint (F_SET_RW_HINT)", d->fd))
			goto drop;
		exp_img_add(&w, &e.base, NULL, 0);
	}
	ret = exp_img_close(ex, &w);
	goto out;
drop:
	free(w.buf);
out:
	img_free_all(m, nr);
	return ret;
}
