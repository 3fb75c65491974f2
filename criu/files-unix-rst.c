/*
 * Unix sockets, restore (images/sk-unix.proto; the dump is criu/files-unix.c).
 *
 * Every socket is made once, when the first fd naming it (or its peer) is
 * opened, and kept until its own open() hands it out; the sockets one
 * make() creates together are one group (unix_group()), which a process
 * tree opens in one process, before the forks hand them down:
 *   listening     socket, bind to its name, listen(backlog); then the
 *                 connections accepted from it are made (below), then
 *                 those not accepted yet connect again, in accept order
 *   accepted      a stream/seqpacket pair one of whose ends carries the
 *                 name of a listening socket of the dump: the other end
 *                 is connected to that listener again and the first is
 *                 accept()ed from it, so both report the names they had
 *   a pair        both ends in the dump, each the other's peer:
 *                 socketpair(); each end's queue is sent again from the
 *                 other end (one send per message: boundaries kept)
 *   one-way       a datagram socket connected to a named socket of the
 *                 dump that is not connected back: that one is made
 *                 first, then connect() to its name
 *   peer gone or  stream/seqpacket: one end of a new socketpair, its queue
 *   outside       sent from the other end, which is then closed: the
 *                 socket reads its data, then EOF, as after the peer's
 *                 close. Datagram: connected again to the outside peer's
 *                 name (--ext-unix-sk), unconnected if it had none
 *   unconnected   socket, bind to its name if it had one
 * then options, shutdown(), O_NONBLOCK. A datagram socket not in a pair
 * whose queue came from unnamed senders gets it sent again to its name
 * from an unnamed socket, before it is connected anywhere. An end of a
 * stream or seqpacket pair made by socketpair() gets its name only if it
 * was autobound (the dump refuses other names there).
 * A name in the file system is bound again where it was: a socket file
 * left there by the dumped task (same inode, or no one listening) is
 * replaced, anything else is refused; mode and owner are put back; a name
 * whose file was deleted is bound and unlinked again. A name relative to a
 * directory (the binder's cwd at bind time) is bound, and connected to,
 * from that directory (enter_dir()), so getsockname() shows it as it was.
 * A queued message goes out with its descriptors in flight (unix_scm) in
 * one sendmsg: a socket made already is used as it is (the receiver itself
 * too), any other object is opened then (fd_rst_open_id()), in the process
 * that makes this socket, which restore-tree.c made the opener of both.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#define LOG_PREFIX "unix: "
#include "log.h"
#include "files.h"
#include "image.h"
#include "sockets.h"
#include "unix-sk.h"

enum { MADE_NOT, MADE_BUSY, MADE_DONE };

struct rsk {
	const UnixSkEntry	*e;
	int			fd;	/* made and not handed out yet; -1 */
	int			made;
	size_t			up;	/* union-find parent: sockets made together */
	int			any;	/* its descriptor, handed out or not (-1: none):
					   all stay open in criu until the fork */
	struct rsk		*lst_of;	/* its connection waits in this
						   listener's accept queue */
};

struct unix_rst {
	struct fd_rst		*r;	/* its objects: descriptors in flight */
	ProtobufCMessage	**v;
	size_t			nr;
	struct rsk		*s;	/* sorted by id */
	struct rsk		**lst;	/* the listening ones */
	size_t			nr_lst;
};

/* ---- reading ------------------------------------------------------------------------- */

static int bad(const UnixSkEntry *e, const char *what)
{
	pr_err("unix-sks.img: object %u: %s", e->id, what);
	return -1;
}

/* An abstract name, or a path without a NUL: absolute, or relative if @rel. */
static int check_one_name(const UnixSkEntry *e, const ProtobufCBinaryData *n, bool rel)
{
	if (!n->len || n->len > SK_NAME_MAX)
		return bad(e, "name length out of range");
	if (n->data[0] == '\0')
		return rel ? bad(e, "an abstract name with a directory") : 0;
	if ((n->data[0] != '/') != rel || memchr(n->data, '\0', n->len))
		return bad(e, "path name with a NUL, or relative without a directory");
	return 0;
}

static int check_name(const UnixSkEntry *e)
{
	if (e->has_ext_peer_name && check_one_name(e, &e->ext_peer_name, false))
		return -1;
	if (e->name_dir && (e->name_dir[0] != '/' || strlen(e->name_dir) >= PATH_MAX))
		return bad(e, "the directory of a relative name is not an absolute path");
	if (!e->has_name)
		return e->state == USK_LISTEN || e->name_dir ?
		       bad(e, "listening, or a directory, without a name") : 0;
	return check_one_name(e, &e->name, e->name_dir != NULL);
}

/*
 * Descriptors in flight: messages in order, each once, with 1 to
 * SCM_MAX_FD ids (which must name objects: checked when they are sent).
 */
static int check_scm(const UnixSkEntry *e)
{
	size_t i, total = 0;

	for (i = 0; i < e->n_scm; i++) {
		const UnixScm *m = e->scm[i];

		if (m->msg >= e->n_queue || (i && m->msg <= e->scm[i - 1]->msg))
			return bad(e, "descriptors in flight for a message out of order or not queued");
		if (!m->n_rights || m->n_rights > USK_SCM_MAX)
			return bad(e, "descriptors in flight: none or more than 253 in one message");
		total += m->n_rights;
	}
	if (total > USK_MAX_RIGHTS)
		return bad(e, "too many descriptors in flight");
	return 0;
}

static int check_queue(const UnixSkEntry *e)
{
	size_t i, total = 0;

	if (e->n_queue > USK_MAX_MSGS)
		return bad(e, "too many queued messages");
	for (i = 0; i < e->n_queue; i++)
		total += e->queue[i].len;
	if (total > USK_MAX_QUEUE)
		return bad(e, "too many queued bytes");
	if (e->n_queue && e->state != USK_CONNECTED &&
	    !(e->type == SOCK_DGRAM && e->queue_unnamed && e->has_name))
		return bad(e, "data queued on a socket that is not connected");
	return check_scm(e);
}

static int check_entry(const ProtobufCMessage *m, void *ctx)
{
	const UnixSkEntry *e = (const UnixSkEntry *)m;

	if (e->type != SOCK_STREAM && e->type != SOCK_DGRAM && e->type != SOCK_SEQPACKET)
		return bad(e, "unknown type");
	if (e->state != USK_LISTEN && e->state != USK_CONNECTED && e->state != USK_CLOSE)
		return bad(e, "unknown state");
	if (e->state == USK_LISTEN && (e->type == SOCK_DGRAM || !e->has_backlog ||
				       e->backlog > USK_MAX_BACKLOG))
		return bad(e, "listening datagram socket or backlog out of range");
	if (e->n_pending && (e->state != USK_LISTEN || e->n_pending > (size_t)e->backlog + 1))
		return bad(e, "connections not accepted yet, more than the backlog or not listening");
	if ((e->flags & ~(uint32_t)O_NONBLOCK) || (e->has_shutdown && e->shutdown > 3))
		return bad(e, "bad flags or shutdown");
	if (e->has_peer && (e->state != USK_CONNECTED || e->peer == e->id || e->ext_peer))
		return bad(e, "a peer, but not connected (or its own peer)");
	if (e->has_ext_peer_name && (!e->ext_peer || e->type != SOCK_DGRAM))
		return bad(e, "a name of the outside peer, but none or not a datagram socket");
	if (e->has_gone_peer_name &&
	    (e->type != SOCK_DGRAM || e->has_peer || e->has_ext_peer_name ||
	     e->state != USK_CONNECTED || check_one_name(e, &e->gone_peer_name, false)))
		return bad(e, "a closed peer's name, but not on a connected datagram socket "
			      "without another peer, or a bad name");
	if (check_name(e) || check_queue(e) ||
	    sk_opts_check(e->opts, e->n_opts, "unix-sks.img", e->id))
		return -1;
	return fd_rst_add(ctx, FD_KIND__FD_UNIX_SK, e->id, m);
}

static int cmp_id(const void *a, const void *b)
{
	const struct rsk *x = a, *y = b;

	return x->e->id < y->e->id ? -1 : x->e->id > y->e->id;
}

static struct rsk *find(const struct unix_rst *ur, uint32_t id)
{
	UnixSkEntry ke = { .id = id };
	struct rsk key = { .e = &ke };

	return ur->nr ? bsearch(&key, ur->s, ur->nr, sizeof(*ur->s), cmp_id) : NULL;
}

/* Peers exist, are unix sockets of the same type; stream peers point back. */
static int check_peers(const struct unix_rst *ur)
{
	size_t i;

	for (i = 0; i < ur->nr; i++) {
		const UnixSkEntry *e = ur->s[i].e;
		const struct rsk *p = e->has_peer ? find(ur, e->peer) : NULL;
		bool mutual = p && p->e->has_peer && p->e->peer == e->id;

		if (e->type == SOCK_DGRAM && e->n_queue && !mutual &&
		    !(e->queue_unnamed && e->has_name))
			return bad(e, "datagrams queued that neither a peer nor an unnamed sender "
				   "can send again");
		if (!e->has_peer)
			continue;
		if (!p || p->e->type != e->type)
			return bad(e, "its peer is no unix socket of the same type");
		if (e->type != SOCK_DGRAM && !mutual)
			return bad(e, "its stream peer is connected elsewhere");
		if (!mutual && !p->e->has_name)
			return bad(e, "connected one way to a socket without a name");
	}
	return 0;
}

/*
 * The sockets whose connections wait in a listener's accept queue: each
 * once, of its type, connected to nothing else and nothing queued (the
 * dump refuses data sent on them).
 */
static int link_pending(struct unix_rst *ur)
{
	size_t i, j;

	for (i = 0; i < ur->nr_lst; i++) {
		struct rsk *l = ur->lst[i];

		for (j = 0; j < l->e->n_pending; j++) {
			struct rsk *c = find(ur, l->e->pending[j]);

			if (!c || c->lst_of || c->e->type != l->e->type ||
			    c->e->state != USK_CONNECTED || c->e->has_peer || c->e->ext_peer ||
			    c->e->n_queue)
				return bad(l->e, "a connection not accepted yet from a socket that "
					   "is not one, of another type, listed twice or with data");
			c->lst_of = l;
		}
	}
	return 0;
}

static size_t root(const struct unix_rst *ur, size_t i)
{
	while (ur->s[i].up != i)
		i = ur->s[i].up;
	return i;
}

static void join(struct unix_rst *ur, size_t a, size_t b)
{
	a = root(ur, a);
	b = root(ur, b);
	if (a != b)
		ur->s[a > b ? a : b].up = a < b ? a : b;
}

static struct rsk *listener_of(struct unix_rst *ur, const UnixSkEntry *e);

/*
 * Sockets one make() creates together share a group (fd_ops.group), so
 * that in a process tree one process opens them all: a socket and its peer,
 * and an accepted socket and its listener.
 */
static void join_made_together(struct unix_rst *ur)
{
	size_t i;

	for (i = 0; i < ur->nr; i++) {
		const UnixSkEntry *e = ur->s[i].e;
		struct rsk *p = e->has_peer ? find(ur, e->peer) : NULL;
		struct rsk *l = listener_of(ur, e);

		if (p)
			join(ur, i, (size_t)(p - ur->s));
		if (l && p && p->e->has_peer && p->e->peer == e->id)
			join(ur, i, (size_t)(l - ur->s));
		if (ur->s[i].lst_of)
			join(ur, i, (size_t)(ur->s[i].lst_of - ur->s));
	}
}

int unix_read(struct fd_rst *r, int dirfd)
{
	struct unix_rst *ur = calloc(1, sizeof(*ur));
	size_t i;

	if (!ur) {
		pr_err("out of memory");
		return -1;
	}
	r->priv[FD_KIND__FD_UNIX_SK] = ur;
	ur->r = r;
	if (faccessat(dirfd, img_desc(IMG_UNIX_SKS)->fmt, F_OK, 0) && errno == ENOENT)
		return 0;
	if (img_read_all(dirfd, IMG_UNIX_SKS, 0, RST_MAX_OBJECTS, check_entry, r, &ur->v, &ur->nr))
		return -1;
	ur->s = calloc(ur->nr + 1, sizeof(*ur->s));
	if (!ur->s) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < ur->nr; i++)
		ur->s[i] = (struct rsk){ .e = (const UnixSkEntry *)ur->v[i], .fd = -1, .any = -1 };
	qsort(ur->s, ur->nr, sizeof(*ur->s), cmp_id);
	for (i = 0; i < ur->nr; i++)
		ur->s[i].up = i;
	for (i = 1; i < ur->nr; i++)
		if (ur->s[i].e->id == ur->s[i - 1].e->id)
			return bad(ur->s[i].e, "listed twice");
	ur->lst = calloc(ur->nr + 1, sizeof(*ur->lst));
	if (!ur->lst) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < ur->nr; i++)
		if (ur->s[i].e->state == USK_LISTEN)
			ur->lst[ur->nr_lst++] = &ur->s[i];
	if (check_peers(ur) || link_pending(ur))
		return -1;
	join_made_together(ur);
	return 0;
}

uint64_t unix_group(const struct fd_rst *r, const struct fd_obj *o)
{
	const struct unix_rst *ur = r->priv[FD_KIND__FD_UNIX_SK];
	const struct rsk *s = ur ? find(ur, o->id) : NULL;

	return s ? (uint64_t)root(ur, (size_t)(s - ur->s)) + 1 : 0;
}

void unix_rst_free(struct fd_rst *r)
{
	struct unix_rst *ur = r->priv[FD_KIND__FD_UNIX_SK];
	size_t i;

	if (!ur)
		return;
	for (i = 0; ur->s && i < ur->nr; i++)
		if (ur->s[i].fd >= 0)
			close(ur->s[i].fd);
	free(ur->s);
	free(ur->lst);
	img_free_all(ur->v, ur->nr);
	free(ur);
	r->priv[FD_KIND__FD_UNIX_SK] = NULL;
}

/* ---- names ---------------------------------------------------------------------------- */

static socklen_t make_addr(struct sockaddr_un *a, const ProtobufCBinaryData *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, name->data, name->len);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + name->len);
}

static const char *name_str(const ProtobufCBinaryData *name, char *buf)
{
	memcpy(buf, name->data, name->len);
	buf[name->len] = '\0';
	if (!buf[0])
		buf[0] = '@';
	return buf;
}

/*
 * Is the socket file at @path one nobody serves any more? Only a refused
 * connection says so: the same inode as the dumped socket's is no proof
 * (the dumped server may run on after --leave-running).
 */
static bool stale(const UnixSkEntry *e)
{
	struct sockaddr_un a;
	socklen_t len = make_addr(&a, &e->name);
	int fd, ret;

	fd = socket(AF_UNIX, (int)e->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	ret = connect(fd, (struct sockaddr *)&a, len);
	close(fd);
	return ret && errno == ECONNREFUSED;
}

static int put_file_attrs(const UnixSkEntry *e, const char *path)
{
	if (e->has_mode && chmod(path, e->mode & 07777)) {
		pr_perror("%s: chmod %#o", path, e->mode & 07777);
		return -1;
	}
	if (e->has_uid && e->has_gid && lchown(path, e->uid, e->gid)) {
		pr_perror("%s: chown %u:%u", path, e->uid, e->gid);
		return -1;
	}
	return 0;
}

/*
 * A name relative to a directory (name_dir) is used from there: criu's cwd
 * moves to it for the bind, connect or send, and back after (@back: -1
 * when the name needs no directory).
 */
static int enter_dir(const UnixSkEntry *e, int *back)
{
	*back = -1;
	if (!e->name_dir)
		return 0;
	*back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*back < 0) {
		pr_perror("unix socket %u: opening criu's cwd", e->id);
		return -1;
	}
	if (chdir(e->name_dir)) {
		pr_perror("unix socket %u: entering %s, where its name was bound", e->id,
			  e->name_dir);
		close(*back);
		return -1;
	}
	return 0;
}

/* Back to criu's cwd; errno as it was before (a failed call's, for its log line). */
static int leave_dir(int back)
{
	int err = errno, ret = 0;

	if (back < 0)
		return 0;
	if (fchdir(back)) {
		pr_perror("going back to criu's cwd");
		ret = -1;
	}
	close(back);
	errno = err;
	return ret;
}

/* connect(@fd) to the name of @to, from its directory if relative. */
static int connect_to(int fd, const UnixSkEntry *to)
{
	struct sockaddr_un a;
	socklen_t len = make_addr(&a, &to->name);
	int back, ret;

	if (enter_dir(to, &back))
		return -1;
	ret = connect(fd, (struct sockaddr *)&a, len);
	return leave_dir(back) ? -1 : ret;
}

static int bind_here(int fd, const UnixSkEntry *e)
{
	char path[SK_NAME_MAX + 1];
	struct sockaddr_un a;
	socklen_t len = make_addr(&a, &e->name);
	struct stat st;

	name_str(&e->name, path);
	if (e->name.data[0] && !lstat(path, &st)) {
		if (e->deleted || !S_ISSOCK(st.st_mode) || !stale(e)) {
			pr_err("unix socket %u: %s exists and is not the dumped socket's file: "
			       "not replaced", e->id, path);
			return -1;
		}
		if (unlink(path)) {
			pr_perror("unix socket %u: removing the stale socket file %s", e->id, path);
			return -1;
		}
	}
	if (bind(fd, (struct sockaddr *)&a, len)) {
		pr_perror("unix socket %u: bind to %s", e->id, path);
		return -1;
	}
	if (!e->name.data[0])
		return 0;
	if (e->deleted && unlink(path)) {
		pr_perror("unix socket %u: unlinking %s again", e->id, path);
		return -1;
	}
	return e->deleted ? 0 : put_file_attrs(e, path);
}

static int bind_name(int fd, const UnixSkEntry *e)
{
	int back, ret;

	if (enter_dir(e, &back))
		return -1;
	ret = bind_here(fd, e);
	return leave_dir(back) ? -1 : ret;
}

/* ---- making sockets ------------------------------------------------------------------- */

/*
 * criu's descriptor of object @id, in flight with a message to @to: a unix
 * socket made already (maybe @to itself, or the one being made), else the
 * object opened now, in the process that opens @to (restore-tree.c plans
 * it so) and kept for its own fds; -1 logged.
 */
static int right_fd(struct unix_rst *ur, const UnixSkEntry *to, uint32_t id)
{
	const struct fd_obj *o = fd_rst_find(ur->r, id);
	const struct rsk *s;

	if (!o || !fd_inflight_kind(o->store)) {
		pr_err("unix-sks.img: object %u: descriptor in flight %u is no object of a kind "
		       "that may be in flight", to->id, id);
		return -1;
	}
	s = o->store == FD_KIND__FD_UNIX_SK ? find(ur, id) : NULL;
	if (s && s->any >= 0)
		return s->any;
	return fd_rst_open_id(ur->r, id);
}

/* The control message carrying @m's descriptors, in @ctl (USK_SCM_MAX ints of room). */
static int put_rights(struct unix_rst *ur, const UnixSkEntry *to, const UnixScm *m,
		      struct msghdr *mh, char *ctl)
{
	struct cmsghdr *c;
	int *fds;
	size_t i;

	mh->msg_control = ctl;
	mh->msg_controllen = CMSG_SPACE(m->n_rights * sizeof(int));
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(m->n_rights * sizeof(int));
	fds = (int *)CMSG_DATA(c);
	for (i = 0; i < m->n_rights; i++) {
		int fd = right_fd(ur, to, m->rights[i]);

		if (fd < 0)
			return -1;
		memcpy(&fds[i], &fd, sizeof(fd));
	}
	return 0;
}

/*
 * Message @i of @to's queue again, from @from (to the name @a if not NULL),
 * with its descriptors if it had some (*@scm: the next unix_scm entry).
 */
static int send_msg(struct unix_rst *ur, int from, const UnixSkEntry *to, size_t i,
		    size_t *scm, const struct sockaddr_un *a, socklen_t alen)
{
	char ctl[CMSG_SPACE(USK_SCM_MAX * sizeof(int))];
	const ProtobufCBinaryData *q = &to->queue[i];
	size_t off = 0;

	do {
		struct iovec iov = { q->data + off, q->len - off };
		struct msghdr mh = { .msg_name = (void *)a, .msg_namelen = a ? alen : 0,
				     .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		/* the descriptors go with the first piece */
		if (!off && *scm < to->n_scm && to->scm[*scm]->msg == i) {
			memset(ctl, 0, sizeof(ctl));
			if (put_rights(ur, to, to->scm[(*scm)++], &mh, ctl))
				return -1;
		}
		n = sendmsg(from, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 || (to->type != SOCK_STREAM && (size_t)n != q->len)) {
			pr_perror("unix socket %u: queueing message %zu (%zu bytes) again", to->id,
				  i, q->len);
			return -1;
		}
		off += (size_t)n;
	} while (off < q->len);
	return 0;
}

static int send_queue(struct unix_rst *ur, int from, const UnixSkEntry *to)
{
	size_t i, scm = 0;

	for (i = 0; i < to->n_queue; i++)
		if (send_msg(ur, from, to, i, &scm, NULL, 0))
			return -1;
	return 0;
}

static int finish(struct rsk *s)
{
	const UnixSkEntry *e = s->e;
	int how = e->has_shutdown ? (int)e->shutdown : 0;

	/* RCV_SHUTDOWN 1 -> SHUT_RD 0, SEND_SHUTDOWN 2 -> SHUT_WR 1, both -> SHUT_RDWR 2 */
	if (how && shutdown(s->fd, how - 1) && errno != ENOTCONN) {
		pr_perror("unix socket %u: shutdown(%d)", e->id, how - 1);
		return -1;
	}
	if (sk_opts_restore(s->fd, e->opts, e->n_opts, true) || sk_set_flags(s->fd, e->flags))
		return -1;
	s->made = MADE_DONE;
	return 0;
}

static int new_socket(struct rsk *s)
{
	s->fd = s->any = socket(AF_UNIX, (int)s->e->type | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		pr_perror("unix socket %u: socket", s->e->id);
		return -1;
	}
	return sk_opts_restore(s->fd, s->e->opts, s->e->n_opts, false);
}

/* The name of an end of a socketpair: any for a datagram socket, an autobound one else. */
static int bind_pair_name(const struct rsk *s)
{
	if (!s->e->has_name || (s->e->type != SOCK_DGRAM && !usk_autobind_name(s->e)))
		return 0;
	return bind_name(s->fd, s->e);
}

/* Both ends in the dump: one socketpair, each queue sent from the other end. */
static int make_pair(struct unix_rst *ur, struct rsk *a, struct rsk *b)
{
	int sv[2];

	if (socketpair(AF_UNIX, (int)a->e->type | SOCK_CLOEXEC, 0, sv)) {
		pr_perror("unix socket %u: socketpair", a->e->id);
		return -1;
	}
	a->fd = a->any = sv[0];
	b->fd = b->any = sv[1];
	b->made = MADE_BUSY;
	if (sk_opts_restore(a->fd, a->e->opts, a->e->n_opts, false) ||
	    sk_opts_restore(b->fd, b->e->opts, b->e->n_opts, false))
		return -1;
	if (bind_pair_name(a) || bind_pair_name(b))
		return -1;
	if (send_queue(ur, b->fd, a->e) || send_queue(ur, a->fd, b->e))
		return -1;
	return finish(a) || finish(b) ? -1 : 0;
}

/* The stand-in peer's send buffer, big enough for @to's queue whatever the real one had. */
static int room_for(int fd, const UnixSkEntry *to)
{
	size_t i, total = 0;
	int size;

	for (i = 0; i < to->n_queue; i++)
		total += to->queue[i].len + 1024;	/* bytes and per-buffer overhead */
	size = (int)(total + (256 << 10));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size))) {
		pr_perror("unix socket %u: SO_SNDBUFFORCE %d for its queue", to->id, size);
		return -1;
	}
	return 0;
}

/*
 * Datagrams from senders without a name, queued on a datagram socket that
 * has one: sent again to its name from an unnamed socket (before it is
 * connected anywhere, which would refuse them).
 */
static int requeue_unnamed(struct unix_rst *ur, const struct rsk *s)
{
	const UnixSkEntry *e = s->e;
	struct sockaddr_un a;
	socklen_t len;
	size_t i, scm = 0;
	int fd, ret, back = -1;

	if (e->type != SOCK_DGRAM || !e->n_queue || !e->queue_unnamed)
		return 0;
	len = make_addr(&a, &e->name);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || room_for(fd, e)) {
		pr_perror("unix socket %u: a sender for its queue", e->id);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ret = enter_dir(e, &back);
	for (i = 0; !ret && i < e->n_queue; i++)
		ret = send_msg(ur, fd, e, i, &scm, &a, len);
	if (leave_dir(back))
		ret = -1;
	close(fd);
	return ret;
}

/*
 * Connected to a socket closed since (gone_peer_name): connect to a
 * stand-in bound to its name, then close it, so the next send fails with
 * ECONNREFUSED (then ENOTCONN) and getpeername shows the name until then.
 * A file at the path (the closed socket's, left behind) is moved aside for
 * the while and put back.
 */
static int connect_gone(const UnixSkEntry *e, int fd)
{
	char path[SK_NAME_MAX + 1], aside[SK_NAME_MAX + 32];
	struct sockaddr_un a;
	socklen_t len = make_addr(&a, &e->gone_peer_name);
	bool moved = false, bound = false;
	struct stat st;
	int t, ret = -1;

	name_str(&e->gone_peer_name, path);
	snprintf(aside, sizeof(aside), "%s.criu-gone-%d", path, getpid());
	t = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (t < 0) {
		pr_perror("unix socket %u: a stand-in for its closed peer", e->id);
		return -1;
	}
	if (a.sun_path[0] && !lstat(path, &st)) {
		if (rename(path, aside)) {
			pr_perror("unix socket %u: moving %s aside", e->id, path);
			goto out;
		}
		moved = true;
	}
	bound = !bind(t, (struct sockaddr *)&a, len);
	if (!bound || connect(fd, (struct sockaddr *)&a, len))
		pr_perror("unix socket %u: connecting to a stand-in for its closed peer %s",
			  e->id, path);
	else
		ret = 0;
out:
	close(t);
	if (bound && a.sun_path[0] && unlink(path)) {
		pr_perror("unix socket %u: removing the stand-in %s", e->id, path);
		ret = -1;
	}
	if (moved && rename(aside, path)) {
		pr_perror("unix socket %u: putting %s back from %s", e->id, path, aside);
		ret = -1;
	}
	return ret;
}

/* The peer is gone or outside the dump: the other end of a pair, closed. */
static int make_orphan(struct unix_rst *ur, struct rsk *s)
{
	const UnixSkEntry *e = s->e;
	struct sockaddr_un a;
	int sv[2], ret;

	if (e->type == SOCK_DGRAM) {
		if (new_socket(s) || (e->has_name && bind_name(s->fd, e)) || requeue_unnamed(ur, s))
			return -1;
		if (e->has_gone_peer_name)
			return connect_gone(e, s->fd) ? -1 : finish(s);
		if (!e->has_ext_peer_name)
			return finish(s);
		if (connect(s->fd, (struct sockaddr *)&a, make_addr(&a, &e->ext_peer_name))) {
			char buf[SK_NAME_MAX + 1];

			pr_perror("unix socket %u: connecting again to the outside peer %s", e->id,
				  name_str(&e->ext_peer_name, buf));
			return -1;
		}
		return finish(s);
	}
	if (socketpair(AF_UNIX, (int)e->type | SOCK_CLOEXEC, 0, sv)) {
		pr_perror("unix socket %u: socketpair", e->id);
		return -1;
	}
	s->fd = s->any = sv[0];
	ret = sk_opts_restore(s->fd, e->opts, e->n_opts, false) || bind_pair_name(s) ||
	      room_for(sv[1], e) || send_queue(ur, sv[1], e);
	close(sv[1]);
	return ret ? -1 : finish(s);
}

static int make(struct unix_rst *ur, struct rsk *s);

static bool same_name(const UnixSkEntry *x, const UnixSkEntry *y)
{
	if (!x->has_name || !y->has_name || x->name.len != y->name.len ||
	    memcmp(x->name.data, y->name.data, x->name.len))
		return false;
	/* a path may have been bound by two sockets in turn: the same file, then */
	return !x->name.data[0] || (x->has_vfs_ino && y->has_vfs_ino && x->vfs_ino == y->vfs_ino);
}

/* The listening socket of the dump whose name @e carries (accepted from it), or NULL. */
static struct rsk *listener_of(struct unix_rst *ur, const UnixSkEntry *e)
{
	size_t i;

	if (!e->has_name || e->type == SOCK_DGRAM)
		return NULL;
	for (i = 0; i < ur->nr_lst; i++)
		if (ur->lst[i]->e->type == e->type && same_name(ur->lst[i]->e, e))
			return ur->lst[i];
	return NULL;
}

/*
 * @a was accepted from listener @l and is connected to @b: connect a new
 * @b to @l and accept @a from it, so that both report the names they had.
 */
static int make_accepted(struct unix_rst *ur, struct rsk *a, struct rsk *b, struct rsk *l)
{
	if (l->made == MADE_BUSY) {
		pr_err("unix socket %u: its listener %u is being made", a->e->id, l->e->id);
		return -1;
	}
	if (l->made == MADE_NOT && make(ur, l))
		return -1;
	b->made = MADE_BUSY;
	if (new_socket(b) || (b->e->has_name && bind_name(b->fd, b->e)))
		return -1;
	if (connect_to(b->fd, l->e)) {
		pr_perror("unix socket %u: connect to its listener %u", b->e->id, l->e->id);
		return -1;
	}
	a->fd = accept4(l->any, NULL, NULL, SOCK_CLOEXEC);
	if (a->fd < 0) {
		pr_perror("unix socket %u: accept from its listener %u", a->e->id, l->e->id);
		return -1;
	}
	a->any = a->fd;
	if (sk_opts_restore(a->fd, a->e->opts, a->e->n_opts, false) ||
	    send_queue(ur, b->fd, a->e) || send_queue(ur, a->fd, b->e))
		return -1;
	return finish(a) || finish(b) ? -1 : 0;
}

/* A datagram socket connected to a named socket of the dump, not back. */
static int make_one_way(struct unix_rst *ur, struct rsk *s, struct rsk *p)
{
	if (p->made == MADE_BUSY) {
		pr_err("unix socket %u: a cycle of one-way connections", s->e->id);
		return -1;
	}
	if (p->made == MADE_NOT && make(ur, p))
		return -1;
	if (new_socket(s) || (s->e->has_name && bind_name(s->fd, s->e)) || requeue_unnamed(ur, s))
		return -1;
	if (connect_to(s->fd, p->e)) {
		pr_perror("unix socket %u: connect to socket %u", s->e->id, p->e->id);
		return -1;
	}
	return finish(s);
}

/* @c's connection waits in @l's accept queue again (nothing accepts it). */
static int connect_pending(struct rsk *c, struct rsk *l)
{
	c->made = MADE_BUSY;
	if (new_socket(c) || (c->e->has_name && bind_name(c->fd, c->e)))
		return -1;
	/* non-blocking: a full accept queue fails instead of hanging */
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) ||
	    connect_to(c->fd, l->e) ||
	    fcntl(c->fd, F_SETFL, 0)) {
		pr_perror("unix socket %u: connecting again to listener %u, not accepted",
			  c->e->id, l->e->id);
		return -1;
	}
	return finish(c);
}

/* The listener a socket is made with: it waits in its queue, or was accepted from it. */
static struct rsk *owner(struct unix_rst *ur, const struct rsk *s)
{
	const UnixSkEntry *e = s->e;
	struct rsk *p, *l;

	if (s->lst_of || e->state != USK_CONNECTED || !e->has_peer)
		return s->lst_of;
	p = find(ur, e->peer);
	if (!p->e->has_peer || p->e->peer != e->id)
		return NULL;
	l = listener_of(ur, e);
	return l ? l : listener_of(ur, p->e);
}

/*
 * A listener, then the connections accepted from it (each accept() takes
 * its own before the ones waiting are queued), then those waiting, in
 * their order.
 */
static int make_listener(struct unix_rst *ur, struct rsk *l)
{
	const UnixSkEntry *e = l->e;
	size_t i;

	if (new_socket(l) || bind_name(l->fd, e))
		return -1;
	if (listen(l->fd, (int)e->backlog)) {
		pr_perror("unix socket %u: listen(%u)", e->id, e->backlog);
		return -1;
	}
	if (finish(l))
		return -1;
	for (i = 0; i < ur->nr; i++) {
		struct rsk *x = &ur->s[i];

		if (x->made == MADE_NOT && !x->lst_of && owner(ur, x) == l && make(ur, x))
			return -1;
	}
	for (i = 0; i < e->n_pending; i++)
		if (connect_pending(find(ur, e->pending[i]), l))
			return -1;
	return 0;
}

static int make(struct unix_rst *ur, struct rsk *s)
{
	const UnixSkEntry *e = s->e;
	struct rsk *p, *l = owner(ur, s);

	if (l && l->made == MADE_NOT) {
		if (make(ur, l))
			return -1;
		if (s->made != MADE_NOT)
			return 0;
	}
	if (s->lst_of) {
		pr_err("unix socket %u: its listener %u is being made", e->id, l->e->id);
		return -1;
	}
	s->made = MADE_BUSY;
	if (e->state == USK_LISTEN)
		return make_listener(ur, s);
	if (e->state == USK_CLOSE) {
		if (new_socket(s) || (e->has_name && bind_name(s->fd, e)) || requeue_unnamed(ur, s))
			return -1;
		return finish(s);
	}
	if (!e->has_peer)
		return make_orphan(ur, s);
	p = find(ur, e->peer);
	if (p->e->has_peer && p->e->peer == e->id) {
		struct rsk *l = listener_of(ur, e);

		if (l)
			return make_accepted(ur, s, p, l);
		l = listener_of(ur, p->e);
		return l ? make_accepted(ur, p, s, l) : make_pair(ur, s, p);
	}
	return make_one_way(ur, s, p);
}

int unix_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	struct unix_rst *ur = r->priv[FD_KIND__FD_UNIX_SK];
	struct rsk *s = find(ur, o->id);
	int fd;

	(void)opt;
	if (s->made == MADE_NOT && make(ur, s))
		return -1;
	if (s->fd < 0) {
		pr_err("unix socket %u: opened twice", o->id);
		return -1;
	}
	fd = s->fd;
	s->fd = -1;
	return fd;
}
