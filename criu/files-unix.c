/*
 * Unix sockets (images/sk-unix.proto): stream, datagram and seqpacket;
 * unnamed, bound to a path or an abstract name; listening, connected or
 * not. One unix_sk_entry per socket, peers named by object id, so a pair
 * whose ends live in two processes of one dump is one pair again.
 *
 * Dump: sock_diag gives the peer's inode, state, pending connections,
 * shutdown and the bound file; criu's copy of the descriptor gives options
 * and the receive queue, read with MSG_PEEK at SO_PEEK_OFF offsets (put
 * back afterwards) so nothing is consumed. resolve(), once every task is
 * collected, turns peer inodes into object ids and refuses a peer outside
 * the dump unless --ext-unix-sk.
 *
 * Restore (criu/files-unix-rst.c): see there.
 *
 * Connections not accepted yet: a listener lists the connecting sockets of
 * the dump in accept order (collect_pending()); restore connects them again.
 *
 * Descriptors in flight (SCM_RIGHTS): a peek installs a copy of each in
 * criu; the dump keeps it and makes it an object like a task's fd
 * (dump_inflight_add()), whose id goes in the message's unix_scm entry.
 *
 * Refused ("not supported yet"): an out-of-band byte, connections not accepted yet from outside the dump or
 * with data sent on them, or on a listener whose file was deleted,
 * datagrams queued on a socket that is not one end of a pair in the dump
 * unless all came from unnamed senders to a named socket, names relative
 * to a directory that is neither the task's cwd nor its root any more (the
 * kernel keeps no binder's cwd: find_name_dir()), zero-length messages in a queue, a socket connected to
 * itself, more than 4 MiB or 65536 messages queued, a pending error
 * (ECONNRESET from a peer gone with data unread).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <search.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <linux/sockios.h>

#define LOG_PREFIX "unix: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "sockets.h"
#include "unix-sk.h"

/* One socket being dumped, with where it was seen for messages. */
struct usk {
	UnixSkEntry	*e;
	pid_t		pid;
	int		fd;
	const struct sk_unix_diag *u;	/* in unix_dump.diag */
	int		outq;		/* bytes sent not read yet (SIOCOUTQ) */
	bool		pending;	/* its connection is not accepted yet */
};

struct unix_dump {
	struct sk_diag	diag;
	struct sk_opt_cache opts;
	struct usk	*s;
	size_t		nr, cap;
	char		*buf;		/* USK_MAX_QUEUE bytes for peeking */
};

static struct unix_dump *unix_state(struct dump_files *d)
{
	struct unix_dump *ud = d->priv[FD_KIND__FD_UNIX_SK];

	if (ud)
		return ud;
	ud = calloc(1, sizeof(*ud));
	if (ud)
		ud->buf = malloc(USK_MAX_QUEUE);
	if (!ud || !ud->buf) {
		if (ud)
			free(ud);
		pr_err("out of memory");
		return NULL;
	}
	d->priv[FD_KIND__FD_UNIX_SK] = ud;
	return ud;
}

static bool unix_match(const struct fd_probe *p)
{
	int family = -1;

	return S_ISSOCK(p->st.st_mode) && !sk_probe(p, &family, NULL, NULL) && family == AF_UNIX;
}

/* ---- the receive queue, peeked ------------------------------------------------------- */

/* What one peek brought along: the descriptors in flight with the message. */
struct peeked {
	int	fds[USK_SCM_MAX];
	size_t	nr;
};

/* Room for SCM_MAX_FD descriptors, and for credentials and other control data. */
#define USK_CTL_SIZE	(CMSG_SPACE(USK_SCM_MAX * sizeof(int)) + 256)

/*
 * Take the descriptors a peek installed in criu (SCM_RIGHTS) into @pk, or
 * close them (@pk NULL); 1 if there were any.
 */
static int take_rights(struct msghdr *mh, struct peeked *pk)
{
	struct cmsghdr *c;
	int found = 0;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		int *fds = (int *)CMSG_DATA(c);
		size_t i, n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++)
			if (pk && pk->nr < USK_SCM_MAX)
				pk->fds[pk->nr++] = fds[i];
			else
				close(fds[i]);
		found = 1;
	}
	return found;
}

static void drop_peeked(struct peeked *pk)
{
	while (pk->nr)
		close(pk->fds[--pk->nr]);
}

static int add_msg(UnixSkEntry *e, const char *data, size_t len)
{
	ProtobufCBinaryData *n;

	if (e->n_queue >= USK_MAX_MSGS) {
		pr_err("socket %llu: more than %d messages queued: not supported yet",
		       (unsigned long long)e->ino, USK_MAX_MSGS);
		return -1;
	}
	n = realloc(e->queue, (e->n_queue + 1) * sizeof(*n));
	if (!n) {
		pr_err("out of memory");
		return -1;
	}
	e->queue = n;
	n[e->n_queue].len = len;
	n[e->n_queue].data = malloc(len ? len : 1);
	if (!n[e->n_queue].data) {
		pr_err("out of memory");
		return -1;
	}
	memcpy(n[e->n_queue].data, data, len);
	e->n_queue++;
	return 0;
}

/*
 * The descriptors of @pk go with the message just added: each is handed to
 * the dump (dump_inflight_add), which makes it an object and writes its id
 * into the entry's rights once every task is collected.
 */
static int add_scm(struct dump_files *d, const struct fd_probe *p, UnixSkEntry *e,
		   struct peeked *pk)
{
	UnixScm **v = realloc(e->scm, (e->n_scm + 1) * sizeof(*v)), *m;

	if (v)
		e->scm = v;
	m = v ? calloc(1, sizeof(*m)) : NULL;
	if (m) {
		unix_scm__init(m);
		e->scm[e->n_scm++] = m;
		m->rights = calloc(pk->nr, sizeof(*m->rights));
	}
	if (!m || !m->rights) {
		pr_err("out of memory");
		drop_peeked(pk);
		return -1;
	}
	m->msg = (uint32_t)(e->n_queue - 1);
	m->n_rights = pk->nr;
	while (pk->nr) {
		pk->nr--;
		if (dump_inflight_add(d, p, pk->fds[pk->nr], &m->rights[pk->nr])) {
			drop_peeked(pk);
			return -1;
		}
	}
	return 0;
}

/* One peek at the current offset: bytes, or -1 logged; *end at EAGAIN. */
static ssize_t peek_one(struct unix_dump *ud, const struct fd_probe *p, int fd, size_t room,
			bool *end, bool *named, struct peeked *pk)
{
	char ctl[USK_CTL_SIZE];
	struct sockaddr_un from;
	struct iovec iov = { ud->buf, room };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl), .msg_name = &from,
			     .msg_namelen = sizeof(from) };
	ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*end = false;
	if (n < 0 && errno == EAGAIN) {
		*end = true;
		return 0;
	}
	if (n < 0) {
		pr_perror("fd %d: peeking at the queue", p->fd);
		return -1;
	}
	take_rights(&mh, pk);
	if (mh.msg_flags & MSG_CTRUNC) {
		pr_err("fd %d: descriptors in flight (SCM_RIGHTS) that criu cannot take (control "
		       "data cut short: its RLIMIT_NOFILE?): not supported yet", p->fd);
		drop_peeked(pk);
		return -1;
	}
	if (mh.msg_flags & MSG_TRUNC || (size_t)n >= room) {
		pr_err("fd %d: more than %u bytes queued: not supported yet", p->fd, USK_MAX_QUEUE);
		drop_peeked(pk);
		return -1;
	}
	if (mh.msg_namelen > offsetof(struct sockaddr_un, sun_path))
		*named = true;	/* its sender had a name */
	return n;
}

/*
 * The @n bytes peeked, one message with the descriptors that came along.
 * A stream peek reads on through messages without descriptors up to the
 * first with some, and a 1-byte peek in any of them brings that one's
 * descriptors too (the kernel peeks on into the next message with nothing
 * left to copy): where they were attached cannot be read, so they go with
 * the whole run (files.md, "Known differences").
 */
static int add_peeked(struct dump_files *d, const struct fd_probe *p, UnixSkEntry *e,
		      const char *buf, size_t n, struct peeked *pk)
{
	if (add_msg(e, buf, n)) {
		drop_peeked(pk);
		return -1;
	}
	return pk->nr ? add_scm(d, p, e, pk) : 0;
}

/* Is an out-of-band byte waiting (peeked, so it stays)? */
static bool has_oob(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) == 1;
}

/*
 * Everything queued, oldest first, leaving the queue and SO_PEEK_OFF as
 * they were. Stream and seqpacket: SIOCINQ says how many bytes; datagram:
 * until EAGAIN.
 */
static int peek_queue(struct dump_files *d, struct unix_dump *ud, const struct fd_probe *p, int fd,
		      UnixSkEntry *e)
{
	bool dgram = e->type == SOCK_DGRAM, end, named = false;
	int inq = 0, off, zero = 0, ret = -1;
	size_t got = 0;

	if (sk_getint(fd, SO_PEEK_OFF, &off))
		return -1;
	if (!dgram && ioctl(fd, SIOCINQ, &inq)) {
		pr_perror("fd %d: SIOCINQ", p->fd);
		return -1;
	}
	if (e->type == SOCK_STREAM && has_oob(fd)) {
		pr_err("fd %d: out-of-band data (MSG_OOB) queued: not supported yet", p->fd);
		return -1;
	}
	if (!dgram && inq <= 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero))) {
		pr_perror("fd %d: SO_PEEK_OFF", p->fd);
		return -1;
	}
	while (dgram || got < (size_t)inq) {
		struct peeked pk = { .nr = 0 };
		ssize_t n = peek_one(ud, p, fd, USK_MAX_QUEUE - got, &end, &named, &pk);

		if (n < 0)
			goto out;
		if (!pk.nr && (end || (n == 0 && e->type == SOCK_STREAM)))
			break;
		if (n == 0) {
			pr_err("fd %d: a zero-length message in the queue%s: not supported yet",
			       p->fd, pk.nr ? " (with descriptors only)" : "");
			drop_peeked(&pk);
			goto out;
		}
		if (add_peeked(d, p, e, ud->buf, (size_t)n, &pk))
			goto out;
		got += (size_t)n;
	}
	if (dgram && e->n_queue) {
		e->has_queue_unnamed = true;
		e->queue_unnamed = !named;
	}
	ret = 0;
out:
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off))) {
		pr_perror("fd %d: putting SO_PEEK_OFF back to %d", p->fd, off);
		ret = -1;
	}
	return ret;
}

/* ---- name and bound file -------------------------------------------------------------- */

/* A name as the image keeps it: a path up to its NUL (if bind() was given one). */
static int put_name(ProtobufCBinaryData *to, const char *name, size_t len)
{
	if (name[0])
		len = strnlen(name, len);
	to->data = malloc(len);
	if (!to->data) {
		pr_err("out of memory");
		return -1;
	}
	memcpy(to->data, name, len);
	to->len = len;
	return 0;
}

static bool same_file(const struct sk_unix_diag *u, const struct stat *st)
{
	/* sock_diag gives the kernel's dev_t: 12 bits major, 20 bits minor */
	return u->has_vfs && S_ISSOCK(st->st_mode) && st->st_ino == u->vfs_ino &&
	       st->st_dev == makedev(u->vfs_dev >> 20, u->vfs_dev & 0xfffff);
}

/* @dir/@name in @path (PATH_MAX bytes); false if it does not fit. */
static bool path_in(char *path, const char *dir, const char *name)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < PATH_MAX;
}

/*
 * A name relative to the binder's cwd at bind time, which the kernel does
 * not keep: the directory is the task's cwd or its root if the file that
 * the name finds there is the socket's (dev and inode from sock_diag), and
 * the same file is found from that directory's path in criu too.
 */
static int find_name_dir(const struct fd_probe *p, const struct sk_unix_diag *u,
			 const char *name, UnixSkEntry *e)
{
	static const char *const where[] = { "cwd", "root" };
	char link[64], path[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	ssize_t n;
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(link, sizeof(link), "/proc/%d/%s", p->pid, where[i]);
		if (!path_in(path, link, name) || stat(path, &st) || !same_file(u, &st))
			continue;
		n = readlink(link, dir, sizeof(dir) - 1);
		if (n <= 0)
			continue;
		dir[n] = '\0';
		if (dir[0] != '/' || !path_in(path, dir, name) || stat(path, &st) ||
		    !same_file(u, &st))
			continue;
		e->name_dir = strdup(dir);
		if (!e->name_dir) {
			pr_err("out of memory");
			return -1;
		}
		return 0;
	}
	pr_err("fd %d: bound to the relative path %s, whose socket file is found neither from "
	       "the cwd nor from the root of its task (deleted, or moved): not supported yet",
	       p->fd, name);
	return -1;
}

static int dump_name(const struct fd_probe *p, const struct sk_unix_diag *u, UnixSkEntry *e)
{
	char path[PATH_MAX];
	struct stat st;

	if (!u->name_len)
		return 0;
	e->has_name = true;
	if (put_name(&e->name, u->name, u->name_len))
		return -1;
	if (u->name[0] == '\0')
		return 0;	/* abstract */
	memcpy(path, e->name.data, e->name.len);
	path[e->name.len] = '\0';
	if (path[0] != '/') {
		char rel[SK_NAME_MAX + 1];

		memcpy(rel, path, sizeof(rel));
		if (find_name_dir(p, u, rel, e) || !path_in(path, e->name_dir, rel))
			return -1;
	}
	e->has_vfs_ino = e->has_vfs_dev = u->has_vfs;
	e->vfs_ino = u->vfs_ino;
	e->vfs_dev = u->vfs_dev;
	if (stat(path, &st) || !same_file(u, &st)) {
		e->has_deleted = e->deleted = true;
		return 0;
	}
	e->has_mode = e->has_uid = e->has_gid = true;
	e->mode = st.st_mode;
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	return 0;
}

/*
 * Connected to a socket that has closed since: the kernel keeps the dead
 * peer (sock_diag names it, as inode 0; getpeername its name) until the
 * next send, which fails with ECONNREFUSED and disconnects. The name is
 * kept so that restore connects to a stand-in of that name and closes it.
 * (A bound socket others connected to is ESTABLISHED too, but names no
 * peer at all.)
 */
static int dump_gone_peer(const struct fd_probe *p, int fd, const struct sk_unix_diag *u,
			  UnixSkEntry *e)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	size_t n;

	if (u->type != SOCK_DGRAM || !u->peer_gone)
		return 0;
	if (getpeername(fd, (struct sockaddr *)&a, &len)) {
		pr_perror("fd %d: the name of the closed peer", p->fd);
		return -1;
	}
	n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
	if (!n || (a.sun_path[0] && a.sun_path[0] != '/')) {
		pr_err("fd %d: unix datagram socket connected to a socket that has closed, "
		       "whose name is %s: not supported yet", p->fd, n ? "relative" : "unknown");
		return -1;
	}
	e->has_gone_peer_name = true;
	return put_name(&e->gone_peer_name, a.sun_path, n);
}

/* ---- dump ---------------------------------------------------------------------------- */

static int check_diag(const struct fd_probe *p, const struct sk_unix_diag *u)
{
	if (u->type != SOCK_STREAM && u->type != SOCK_DGRAM && u->type != SOCK_SEQPACKET) {
		pr_err("fd %d: unix socket of type %u: not supported yet", p->fd, u->type);
		return -1;
	}
	if (u->state != USK_LISTEN && u->state != USK_CONNECTED && u->state != USK_CLOSE) {
		pr_err("fd %d: unix socket in state %u (connecting?): not supported yet", p->fd,
		       u->state);
		return -1;
	}
	if (u->state == USK_LISTEN && u->nr_icons != u->rqueue) {
		pr_err("fd %d: listening unix socket with %u connections queued but %u listed: "
		       "not supported yet", p->fd, u->rqueue, u->nr_icons);
		return -1;
	}
	return 0;
}

static UnixSkEntry *new_entry(const struct fd_probe *p, const struct sk_unix_diag *u)
{
	UnixSkEntry *e = calloc(1, sizeof(*e));

	if (!e) {
		pr_err("out of memory");
		return NULL;
	}
	unix_sk_entry__init(e);
	e->ino = u->ino;
	e->type = u->type;
	e->state = u->state;
	e->flags = p->fi.flags & O_NONBLOCK;
	if (u->peer) {
		e->has_peer_ino = true;
		e->peer_ino = u->peer;
	}
	if (u->state == USK_LISTEN) {
		e->has_backlog = true;
		e->backlog = u->wqueue;
	}
	if (u->shutdown) {
		e->has_shutdown = true;
		e->shutdown = u->shutdown & 3;
	}
	return e;
}

static int remember(struct unix_dump *ud, UnixSkEntry *e, const struct fd_probe *p,
		    const struct sk_unix_diag *u, int fd)
{
	int outq = 0;

	if (e->state == USK_CONNECTED && e->type != SOCK_DGRAM && ioctl(fd, SIOCOUTQ, &outq)) {
		pr_perror("fd %d: SIOCOUTQ", p->fd);
		return -1;
	}
	if (ud->nr == ud->cap) {
		size_t cap = ud->cap ? 2 * ud->cap : 16;
		struct usk *n = realloc(ud->s, cap * sizeof(*n));

		if (!n) {
			pr_err("out of memory");
			return -1;
		}
		ud->s = n;
		ud->cap = cap;
	}
	ud->s[ud->nr++] = (struct usk){ e, p->pid, p->fd, u, outq, false };
	return 0;
}

static int unix_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct unix_dump *ud = unix_state(d);
	const struct sk_unix_diag *u;
	UnixSkEntry *e;
	int fd, err;
	size_t nr;

	if (!ud)
		return -1;
	fd = fd_probe_local(p);
	if (fd < 0)
		return -1;
	u = sk_diag_unix(&ud->diag, p->st.st_ino, &err);
	if (!u) {
		if (!err)
			pr_err("fd %d: sock_diag does not list unix socket %llu", p->fd,
			       (unsigned long long)p->st.st_ino);
		return -1;
	}
	if (check_diag(p, u) || sk_check_error(fd, p->fd))
		return -1;
	e = new_entry(p, u);
	if (!e)
		return -1;
	if (dump_name(p, u, e) || dump_gone_peer(p, fd, u, e) || (u->state != USK_LISTEN && peek_queue(d, ud, p, fd, e)) ||
	    sk_opts_dump(&ud->opts, fd, p->fd, AF_UNIX, (int)u->type, 0, &e->opts, &nr))
		goto err;
	e->n_opts = nr;
	e->id = *id = fd_obj_id(d);
	if (remember(ud, e, p, u, fd))
		goto err;
	return 0;
err:
	protobuf_c_message_free_unpacked(&e->base, NULL);
	return -1;
}

static int cmp_ino(const void *a, const void *b)
{
	const struct usk *x = a, *y = b;

	return x->e->ino < y->e->ino ? -1 : x->e->ino > y->e->ino;
}

/* A peer outside the dump: allowed with --ext-unix-sk (its name kept). */
static int external(struct unix_dump *ud, struct usk *s, const struct cr_options *o)
{
	const struct sk_unix_diag *pu;
	char name[SK_NAME_MAX + 1] = "";
	int err;

	pu = sk_diag_unix(&ud->diag, s->e->peer_ino, &err);
	if (err)
		return -1;
	if (pu && pu->name_len) {
		memcpy(name, pu->name, pu->name_len);
		name[pu->name_len] = '\0';
		if (!name[0])
			name[0] = '@';
	}
	if (!o->ext_unix_sk) {
		pr_err("fd %d of %d: unix %s socket connected to socket %llu%s%s outside the dump: "
		       "not supported without --ext-unix-sk", s->fd, s->pid,
		       sk_type_str(s->e->type), (unsigned long long)s->e->peer_ino,
		       name[0] ? " " : "", name);
		return -1;
	}
	s->e->has_ext_peer = s->e->ext_peer = true;
	if (s->e->type == SOCK_DGRAM && name[0] && pu->name[0] && pu->name[0] != '/')
		pr_warn("fd %d of %d: the outside peer's name %s is relative: restored unconnected",
			s->fd, s->pid, name);
	else if (s->e->type == SOCK_DGRAM && name[0] &&
		 put_name(&s->e->ext_peer_name, pu->name, pu->name_len))
		return -1;
	s->e->has_ext_peer_name = s->e->ext_peer_name.len > 0;
	pr_info("fd %d of %d: peer %llu%s%s is outside the dump (--ext-unix-sk)", s->fd, s->pid,
		(unsigned long long)s->e->peer_ino, name[0] ? " " : "", name);
	return 0;
}

/*
 * What restore could not make again: a socket connected to itself, one
 * connected one way to a socket without a name, datagrams queued that did
 * not come from the other end of a pair in the dump, unless they all came
 * from senders without a name to a socket with one (restore sends them
 * again from an unnamed socket).
 */
static int check_peer(const struct usk *s, const struct usk *peer)
{
	bool mutual = peer && peer->e->has_peer_ino && peer->e->peer_ino == s->e->ino;

	if (peer == s || (peer && !mutual && !peer->e->has_name)) {
		pr_err("fd %d of %d: unix socket connected to itself, or one way to a socket "
		       "without a name: not supported yet", s->fd, s->pid);
		return -1;
	}
	if (s->e->type != SOCK_DGRAM || !s->e->n_queue || mutual ||
	    (s->e->queue_unnamed && s->e->has_name))
		return 0;
	pr_err("fd %d of %d: %zu datagrams queued on a socket that is not one end of a pair "
	       "in the dump, from senders with names or to a socket without one (the senders "
	       "would be lost): not supported yet", s->fd, s->pid, s->e->n_queue);
	return -1;
}

static bool same_name(const UnixSkEntry *x, const UnixSkEntry *y)
{
	if (!x->has_name || !y->has_name || x->name.len != y->name.len ||
	    memcmp(x->name.data, y->name.data, x->name.len))
		return false;
	return !x->name.data[0] || (x->has_vfs_ino && y->has_vfs_ino && x->vfs_ino == y->vfs_ino &&
				    x->vfs_dev == y->vfs_dev);
}

static bool has_listener(const struct unix_dump *ud, const UnixSkEntry *e)
{
	size_t i;

	for (i = 0; i < ud->nr; i++)
		if (ud->s[i].e->state == USK_LISTEN && ud->s[i].e->type == e->type &&
		    same_name(ud->s[i].e, e))
			return true;
	return false;
}

/*
 * A connected stream or seqpacket socket keeps its name only as restore
 * makes it (criu/files-unix-rst.c): accepted again from a listener of the
 * dump that has its name, or bound before connecting to such a listener,
 * its peer being the accepted end, or autobound. Otherwise the name would
 * be lost (the pair comes back from socketpair()), so it is refused.
 */
static int check_conn_name(const struct unix_dump *ud, const struct usk *s, const struct usk *peer)
{
	const UnixSkEntry *e = s->e;
	char name[SK_NAME_MAX + 2] = "@";

	if (!e->has_name || e->type == SOCK_DGRAM || e->state == USK_LISTEN ||
	    e->state == USK_CLOSE || usk_autobind_name(e))
		return 0;
	if (peer && e->has_peer && peer->e->has_peer && peer->e->peer == e->id &&
	    (has_listener(ud, e) || has_listener(ud, peer->e)))
		return 0;
	memcpy(name + !e->name.data[0], e->name.data + !e->name.data[0],
	       e->name.len - !e->name.data[0]);
	pr_err("fd %d of %d: connected unix %s socket named %s whose listener is not in the dump "
	       "(accepted from a listener outside it or closed since, or bound before connecting): "
	       "restoring its name is not supported yet", s->fd, s->pid, sk_type_str(e->type), name);
	return -1;
}

/*
 * One connection waiting in @l's accept queue from the socket @icon
 * (sock_diag names the connecting end; the other, in no process yet, has
 * no inode, so the connecting end's peer reads 0): it must be in the
 * dump, and nothing sent on it yet (SIOCOUTQ counts every message it
 * queued; the accepted end's queue cannot be read without accepting it).
 * Restore connects it again (criu/files-unix-rst.c).
 */
static int pending_one(struct unix_dump *ud, struct usk *l, uint64_t icon)
{
	UnixSkEntry ke = { .ino = icon };
	struct usk key = { .e = &ke }, *c;
	uint32_t *n;

	c = icon ? bsearch(&key, ud->s, ud->nr, sizeof(*ud->s), cmp_ino) : NULL;
	if (!c || c->pending || c->e->type != l->e->type || c->e->state != USK_CONNECTED ||
	    c->e->has_peer_ino) {
		pr_err("fd %d of %d: a connection not accepted yet from a socket outside the dump "
		       "(or closed since): not supported yet", l->fd, l->pid);
		return -1;
	}
	if (c->outq || c->e->n_queue) {
		pr_err("fd %d of %d: data sent on a connection not accepted yet (fd %d of %d): "
		       "not supported yet", l->fd, l->pid, c->fd, c->pid);
		return -1;
	}
	n = realloc(l->e->pending, (l->e->n_pending + 1) * sizeof(*n));
	if (!n) {
		pr_err("out of memory");
		return -1;
	}
	l->e->pending = n;
	n[l->e->n_pending++] = c->e->id;
	c->pending = true;
	return 0;
}

/* Every listener's connections not accepted yet, in accept order. */
static int collect_pending(struct unix_dump *ud)
{
	size_t i, j;

	for (i = 0; i < ud->nr; i++) {
		struct usk *l = &ud->s[i];
		const uint32_t *icons;

		if (l->e->state != USK_LISTEN || !l->u->nr_icons)
			continue;
		if (l->e->has_deleted && l->e->deleted) {
			pr_err("fd %d of %d: connections not accepted yet on a listener whose file "
			       "was deleted: not supported yet", l->fd, l->pid);
			return -1;
		}
		icons = sk_diag_icons(&ud->diag, l->u);
		for (j = 0; j < l->u->nr_icons; j++)
			if (pending_one(ud, l, icons[j]))
				return -1;
	}
	return 0;
}

static int unix_resolve(struct dump_files *d, const struct cr_options *o)
{
	struct unix_dump *ud = d->priv[FD_KIND__FD_UNIX_SK];
	size_t i;

	if (!ud)
		return 0;
	qsort(ud->s, ud->nr, sizeof(*ud->s), cmp_ino);
	if (collect_pending(ud))
		return -1;
	for (i = 0; i < ud->nr; i++) {
		struct usk *s = &ud->s[i], *peer = NULL, key;
		UnixSkEntry ke = { .ino = s->e->peer_ino };

		if (s->e->has_peer_ino && !s->pending) {
			key.e = &ke;
			peer = bsearch(&key, ud->s, ud->nr, sizeof(*ud->s), cmp_ino);
			if (!peer && external(ud, s, o))
				return -1;
			if (peer) {
				s->e->has_peer = true;
				s->e->peer = peer->e->id;
			}
		}
		if (check_peer(s, peer))
			return -1;
	}
	for (i = 0; i < ud->nr; i++) {
		struct usk *s = &ud->s[i], *peer = NULL, key;
		UnixSkEntry ke = { .ino = s->e->peer_ino };

		key.e = &ke;
		if (s->e->has_peer)
			peer = bsearch(&key, ud->s, ud->nr, sizeof(*ud->s), cmp_ino);
		if (!s->pending && check_conn_name(ud, s, peer))
			return -1;
	}
	return 0;
}

static int unix_write(struct dump_files *d, int dirfd)
{
	struct unix_dump *ud = d->priv[FD_KIND__FD_UNIX_SK];
	ProtobufCMessage **v;
	size_t i;
	int ret;

	if (!ud || !ud->nr)
		return 0;
	v = malloc(ud->nr * sizeof(*v));
	if (!v) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < ud->nr; i++)
		v[i] = &ud->s[i].e->base;
	ret = fd_write_entries(dirfd, IMG_UNIX_SKS, v, ud->nr);
	free(v);
	return ret;
}

static void unix_free(struct dump_files *d)
{
	struct unix_dump *ud = d->priv[FD_KIND__FD_UNIX_SK];
	size_t i;

	if (!ud)
		return;
	for (i = 0; i < ud->nr; i++)
		protobuf_c_message_free_unpacked(&ud->s[i].e->base, NULL);
	free(ud->s);
	free(ud->buf);
	sk_diag_free(&ud->diag);
	free(ud);
	d->priv[FD_KIND__FD_UNIX_SK] = NULL;
}

const struct fd_ops fd_unix_sk_ops = {
	.kind = FD_KIND__FD_UNIX_SK, .name = "unix socket", .img = IMG_UNIX_SKS,
	.match = unix_match, .dump = unix_dump, .resolve = unix_resolve,
	.write = unix_write, .free = unix_free,
	.read = unix_read, .open = unix_open, .rst_free = unix_rst_free, .group = unix_group,
};
