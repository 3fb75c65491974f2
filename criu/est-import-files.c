/*
 * Established files.img, fdinfo-FILESID.img, pipes-data.img, sk-queues.img
 * -> our reg-files, pipes, eventfds, timerfds, unix-sks, pipes-data and
 * fds-PID images (plan §2.9-§2.14). Kinds converted here: REG, PIPE,
 * UNIXSK by hand, EVENTFD and TIMERFD through their FD_EST rows
 * (fd-kinds.def); the other FD_EST rows' kinds through est-import-fds.c;
 * any other is refused.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-import: "
#include "build-id.h"
#include "est-import-int.h"
#include "files.h"
#include "log.h"
#include "unix-sk.h"

#include "eventfd.pb-c.h"
#include "files.pb-c.h"
#include "pidfd.pb-c.h"
#include "pipe.pb-c.h"
#include "sk-opts.pb-c.h"
#include "sk-unix.pb-c.h"
#include "timerfd.pb-c.h"
#include "est/pipe-data.pb-c.h"
#include "est/sk-packet.pb-c.h"

#define MAX_QUEUED	(64u << 20)	/* bytes queued on unix sockets, all together */

struct skq {
	uint32_t id_for;
	ProtobufCBinaryData data;
	uint32_t *rights;	/* descriptors in flight (SCM_RIGHTS), object ids */
	size_t n_rights;
};

struct skqs {
	struct skq *v;
	size_t nr, cap;
	size_t bytes;
};

static int obj_cmp(const void *a, const void *b)
{
	uint32_t x = (*(Est__FileEntry *const *)a)->id, y = (*(Est__FileEntry *const *)b)->id;

	return x < y ? -1 : x > y;
}

const Est__FileEntry *imp_obj(const struct imp *im, uint32_t id)
{
	Est__FileEntry key = { .id = id }, *k = &key, **f;

	if (!im->nr_obj)
		return NULL;
	f = bsearch(&k, im->obj, im->nr_obj, sizeof(*im->obj), obj_cmp);
	return f ? *f : NULL;
}

/* The member of @f its type names, and its own id; NULL when they disagree. */
static const void *member(const Est__FileEntry *f)
{
	const void *m = NULL;
	uint32_t id = 0;
	const Est__FownEntry *fown = NULL;
	int set = !!f->reg + !!f->isk + !!f->efd + !!f->epfd + !!f->sgfd + !!f->tfd + !!f->ify +
		  !!f->ffy + !!f->usk + !!f->fifo + !!f->pipe + !!f->tty + !!f->memfd + !!f->nlsk +
		  !!f->pidfd + !!f->psk;

	switch (f->type) {
	case EST__FD_TYPES__REG:
		if (f->reg)
			m = f->reg, id = f->reg->id, fown = f->reg->fown;
		break;
	case EST__FD_TYPES__PIPE:
		if (f->pipe)
			m = f->pipe, id = f->pipe->id, fown = f->pipe->fown;
		break;
	case EST__FD_TYPES__UNIXSK:
		if (f->usk)
			m = f->usk, id = f->usk->id, fown = f->usk->fown;
		break;
	default: {
		const struct imp_fd_kind *k = imp_fd_kind(f->type, NULL);
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			&est__fd_types__descriptor, f->type);

		if (!k) {
			pr_err("not supported yet: files.img: object %u of type %s", f->id,
			       v ? v->name : "unknown");
			return NULL;
		}
		m = k->conv->member(f, &id, &fown);
	}
	}
	if (!m || set != 1 || id != f->id || (fown == NULL) != (f->type == EST__FD_TYPES__FIFO)) {
		pr_err("files.img: object %u: its type, member and ids disagree", f->id);
		return NULL;
	}
	return m;	/* its signal owner: imp_fowns_read() */
}

static int add_obj(struct imp *im, const struct est_entry *e, void *ctx)
{
	Est__FileEntry *f = (Est__FileEntry *)e->msg;

	(void)ctx;
	if (im->nr_obj == IMP_MAX_OBJECTS) {
		pr_err("not supported yet: files.img: more than %d objects", IMP_MAX_OBJECTS);
		return -1;
	}
	if (!member(f))
		return -1;
	im->obj[im->nr_obj++] = f;
	((struct est_entry *)e)->msg = NULL;
	return 0;
}

static int add_skq(struct imp *im, const struct est_entry *e, void *ctx)
{
	const Est__SkPacketEntry *p = (const Est__SkPacketEntry *)e->msg;
	struct skqs *q = im->skq;
	const Est__FileEntry *f = imp_obj(im, p->id_for);

	(void)ctx;
	if (p->n_scm > 1 || (p->n_scm && p->scm[0]->type != SCM_RIGHTS)) {
		pr_err("not supported yet: sk-queues.img: a message carrying credentials or other control data");
		return -1;
	}
	if (p->n_scm && (!p->scm[0]->n_rights || p->scm[0]->n_rights > USK_SCM_MAX)) {
		pr_err("sk-queues.img: a message carrying no descriptors or more than %d", USK_SCM_MAX);
		return -1;
	}
	if (!f || !f->usk) {
		pr_err("sk-queues.img: message for object %u, which is no unix socket", p->id_for);
		return -1;
	}
	if (q->nr == IMP_MAX_OBJECTS || e->extra_len > MAX_QUEUED - q->bytes) {
		pr_err("sk-queues.img: too many queued messages or bytes");
		return -1;
	}
	if (q->nr == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		struct skq *n = realloc(q->v, cap * sizeof(*n));

		if (!n) {
			pr_err("out of memory");
			return -1;
		}
		q->v = n;
		q->cap = cap;
	}
	q->v[q->nr].id_for = p->id_for;
	q->v[q->nr].data.len = e->extra_len;
	q->v[q->nr].data.data = malloc(e->extra_len ? e->extra_len : 1);
	if (!q->v[q->nr].data.data) {
		pr_err("out of memory");
		return -1;
	}
	memcpy(q->v[q->nr].data.data, e->extra, e->extra_len);
	q->v[q->nr].rights = NULL;
	q->v[q->nr].n_rights = p->n_scm ? p->scm[0]->n_rights : 0;
	if (q->v[q->nr].n_rights) {
		q->v[q->nr].rights = malloc(q->v[q->nr].n_rights * sizeof(uint32_t));
		if (!q->v[q->nr].rights) {
			free(q->v[q->nr].data.data);
			pr_err("out of memory");
			return -1;
		}
		memcpy(q->v[q->nr].rights, p->scm[0]->rights, q->v[q->nr].n_rights * sizeof(uint32_t));
	}
	q->bytes += e->extra_len;
	q->nr++;
	return 0;
}

int imp_files_read(struct imp *im)
{
	size_t i;

	im->obj = imp_zalloc(IMP_MAX_OBJECTS * sizeof(*im->obj));
	im->skq = imp_zalloc(sizeof(struct skqs));
	if (!im->obj || !im->skq || imp_read_all(im, "files.img", false, add_obj, NULL))
		return -1;
	qsort(im->obj, im->nr_obj, sizeof(*im->obj), obj_cmp);
	for (i = 1; i < im->nr_obj; i++)
		if (im->obj[i]->id == im->obj[i - 1]->id) {
			pr_err("files.img: object id %u twice", im->obj[i]->id);
			return -1;
		}
	return imp_fowns_read(im) || imp_read_all(im, "sk-queues.img", true, add_skq, NULL);
}

void imp_files_free(struct imp *im)
{
	struct skqs *q = im->skq;
	size_t i;

	for (i = 0; i < im->nr_obj; i++)
		protobuf_c_message_free_unpacked(&im->obj[i]->base, NULL);
	free(im->obj);
	for (i = 0; q && i < q->nr; i++) {
		free(q->v[i].data.data);
		free(q->v[i].rights);
	}
	if (q)
		free(q->v);
	free(q);
	imp_fowns_free(im);
}

/* ---- writing ours -------------------------------------------------------------- */

struct out_list {
	ProtobufCMessage **m;
	size_t nr;
};

static int push(struct out_list *l, ProtobufCMessage *m)
{
	if (!m)
		return -1;
	l->m[l->nr++] = m;
	return 0;
}

/*
 * The format identifies an executable or mapped ELF file by its size and
 * build-id (ours by dev/ino/mtime, which it lacks): a file at the path
 * with another build-id is another file. A file that cannot be opened is
 * left to the restore, which says so.
 */
static int check_build_id(const struct imp *im, const Est__RegFileEntry *r)
{
	uint8_t want[BUILD_ID_MAX], got[BUILD_ID_MAX];
	size_t n = r->n_build_id * 4, have;
	struct stat st;
	int fd;

	if (!r->n_build_id || im->no_build_id)	/* --file-validation filesize: the size only */
		return 0;
	/* the path comes from the image: no FIFO to hang on, no tty to take */
	fd = open(r->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0;	/* the restore names a missing file itself */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		pr_err("%s: not the file of the dump: a build-id for a file that is not regular",
		       r->name);
		return -1;
	}
	memcpy(want, r->build_id, n);	/* the words hold the note's bytes in order */
	have = elf_build_id(fd, got, sizeof(got));
	close(fd);
	if (!have || (have + 3) / 4 != r->n_build_id || memcmp(got, want, have)) {
		pr_err("%s: not the file of the dump: its build-id differs", r->name);
		return -1;
	}
	return 0;
}

static ProtobufCMessage *conv_reg(const struct imp *im, const Est__RegFileEntry *r)
{
	RegFileEntry *o;

	if (!r->has_mode || (r->has_ext && r->ext) || r->has_checksum || r->name[0] != '/') {
		pr_err("not supported yet: files.img: file %u (%s): no mode, an external or checksummed file, or a relative path",
		       r->id, r->name);
		return NULL;
	}
	if (r->n_build_id > BUILD_ID_MAX / 4) {
		pr_err("files.img: file %u: a build-id of %zu words", r->id, r->n_build_id);
		return NULL;
	}
	/* a ghost's content is in the dump, another file may have its name now */
	if (!imp_ghost_of(im, r->id) && check_build_id(im, r))
		return NULL;
	o = imp_zalloc(sizeof(*o));
	if (!o)
		return NULL;
	reg_file_entry__init(o);
	o->id = r->id;
	o->path = r->name;
	o->flags = r->flags;
	o->pos = r->pos;
	o->mode = r->mode;
	o->locks = imp_locks_of(im, r->id, &o->n_locks);
	o->ghost_id = imp_ghost_of(im, r->id);
	o->has_ghost_id = o->ghost_id != 0;
	o->link_remap = (char *)imp_link_of(im, r->id);	/* into the files' buffers, as path */
	if (r->has_size) {
		o->has_size = true;
		o->size = r->size;
	}
	if (r->n_build_id) {
		o->has_build_id = true;
		o->build_id.len = r->n_build_id * 4;
		o->build_id.data = (uint8_t *)r->build_id;
	}
	return &o->base;
}

static ProtobufCMessage *conv_pipe(const Est__PipeEntry *p)
{
	PipeEntry *o = imp_zalloc(sizeof(*o));

	if (!o)
		return NULL;
	pipe_entry__init(o);
	o->id = p->id;
	o->pipe_id = p->pipe_id;
	o->flags = p->flags;
	return &o->base;
}

int imp_status_flags(uint32_t fl, uint32_t allowed, uint32_t id, uint32_t *out)
{
	if ((fl & O_ACCMODE) != O_RDWR || (fl & ~(uint32_t)(O_ACCMODE | allowed))) {
		pr_err("not supported yet: files.img: object %u: file flags %#x", id, fl);
		return -1;
	}
	*out = fl & allowed;
	return 0;
}

static const void *efd_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->efd)
		return NULL;
	*id = f->efd->id;
	*fown = f->efd->fown;
	return f->efd;
}

static ProtobufCMessage *conv_eventfd(struct imp *im, const Est__FileEntry *f)
{
	const Est__EventfdFileEntry *e = f->efd;
	EventfdEntry *o = imp_zalloc(sizeof(*o));

	(void)im;
	if (!o)
		return NULL;
	eventfd_entry__init(o);
	o->id = e->id;
	o->counter = e->counter;
	o->semaphore = false;	/* the format has no EFD_SEMAPHORE */
	if (imp_status_flags(e->flags, O_NONBLOCK, e->id, &o->flags)) {
		free(o);
		return NULL;
	}
	return &o->base;
}

static const void *tfd_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->tfd)
		return NULL;
	*id = f->tfd->id;
	*fown = f->tfd->fown;
	return f->tfd;
}

static ProtobufCMessage *conv_timerfd(struct imp *im, const Est__FileEntry *f)
{
	const Est__TimerfdEntry *t = f->tfd;
	TimerfdEntry *o = imp_zalloc(sizeof(*o));

	(void)im;
	if (!o)
		return NULL;
	timerfd_entry__init(o);
	if (t->vnsec >= 1000000000 || t->insec >= 1000000000 ||
	    imp_status_flags(t->flags, O_NONBLOCK, t->id, &o->flags)) {
		pr_err("files.img: timerfd %u: bad flags or nanoseconds", t->id);
		free(o);
		return NULL;
	}
	o->id = t->id;
	o->clockid = t->clockid;
	o->settime_flags = t->settime_flags;
	o->ticks = t->ticks;
	o->value_sec = t->vsec;
	o->value_nsec = t->vnsec;
	o->interval_sec = t->isec;
	o->interval_nsec = t->insec;
	/*
	 * A periodic timer that expired and was not read: the established tool
	 * writes the time left fdinfo shows, 0 until a read moves the timer on,
	 * and the expiration in ticks. Arming it for 0 would disarm it: it runs
	 * again one interval from the restore (a disarmed timer has no ticks).
	 */
	if (!t->vsec && !t->vnsec && (t->isec || t->insec) && t->ticks) {
		o->value_sec = t->isec;
		o->value_nsec = t->insec;
	}
	return &o->base;
}

static const void *pidfd_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->pidfd)
		return NULL;
	*id = f->pidfd->id;
	*fown = f->pidfd->fown;
	return f->pidfd;
}

/* A reaped process (nspid -1) ends as the established restore's stand-in: SIGKILL. */
static ProtobufCMessage *conv_pidfd(struct imp *im, const Est__FileEntry *f)
{
	const Est__PidfdEntry *e = f->pidfd;
	PidfdEntry *o;

	(void)im;
	if ((e->flags & ~(uint32_t)(O_ACCMODE | O_NONBLOCK | O_CLOEXEC | KERNEL_O_LARGEFILE)) ||
	    !e->nspid || e->nspid < -1) {
		pr_err("not supported yet: files.img: pidfd %u: flags %#x, nspid %d", e->id,
		       e->flags, e->nspid);
		return NULL;
	}
	o = imp_zalloc(sizeof(*o));
	if (!o)
		return NULL;
	pidfd_entry__init(o);
	o->id = e->id;
	o->flags = e->flags & O_NONBLOCK;
	o->pid = e->nspid;
	o->ino = e->ino;
	o->has_exit_status = e->nspid == -1;
	o->exit_status = o->has_exit_status ? SIGKILL : 0;
	return &o->base;
}

const struct est_fd_imp est_fd_eventfd_imp = { efd_member, conv_eventfd };
const struct est_fd_imp est_fd_pidfd_imp = { pidfd_member, conv_pidfd };
const struct est_fd_imp est_fd_timerfd_imp = { tfd_member, conv_timerfd };

/* ---- unix sockets -------------------------------------------------------------- */

struct usk_out {
	UnixSkEntry e;
	struct imp_sk_opts o;
	ProtobufCBinaryData *queue;
	uint32_t *pending;
	UnixScm *scm;		/* descriptors in flight, and pointers to them */
	UnixScm **scmp;
};

static const Est__UnixSkEntry *usk_by_ino(const struct imp *im, uint32_t ino)
{
	size_t i;

	for (i = 0; i < im->nr_obj; i++)
		if (im->obj[i]->usk && im->obj[i]->usk->ino == ino)
			return im->obj[i]->usk;
	return NULL;
}

/*
 * The peer of @s: a socket of the dump, or the EST_USK_EXTERN entry standing
 * for one outside it (--ext-unix-sk), which carries a datagram peer's name.
 */
static int unix_peer(const struct imp *im, const Est__UnixSkEntry *s, UnixSkEntry *e)
{
	const Est__UnixSkEntry *p = usk_by_ino(im, s->peer);

	if (!p) {
		pr_err("not supported yet: files.img: unix socket %u: its peer (inode %u) is outside the dump",
		       s->id, s->peer);
		return -1;
	}
	if (p->state == 10 && !(p->uflags & EST_USK_EXTERN))
		return 0;	/* waits in p's accept queue: see unix_pending() */
	e->has_peer_ino = true;
	e->peer_ino = s->peer;
	if (!(p->uflags & EST_USK_EXTERN)) {
		e->has_peer = true;
		e->peer = p->id;
		return 0;
	}
	e->has_ext_peer = e->ext_peer = true;
	if (s->type == SOCK_DGRAM && p->name.len) {
		e->has_ext_peer_name = true;
		e->ext_peer_name.data = p->name.data;
		e->ext_peer_name.len = imp_unix_name_len(&p->name);
	}
	return 0;
}

/* An entry for a peer outside the dump: no socket of ours, only checked. */
static int check_extern(const struct imp *im, const Est__UnixSkEntry *s)
{
	const struct skqs *q = im->skq;
	size_t i;

	if (s->uflags != EST_USK_EXTERN || !s->ino || s->peer || s->name.len > 108) {
		pr_err("files.img: unix socket %u: an outside peer with other flags (%#x), a peer or a long name",
		       s->id, s->uflags);
		return -1;
	}
	for (i = 0; i < q->nr; i++)
		if (q->v[i].id_for == s->id) {
			pr_err("sk-queues.img: messages queued on outside peer %u", s->id);
			return -1;
		}
	return 0;
}

/*
 * A listener's connections not accepted yet: the sockets naming it as
 * their peer, in the order of files.img (the format keeps no other).
 */
static int unix_pending(const struct imp *im, const Est__UnixSkEntry *s, struct usk_out *u)
{
	size_t i, n = 0;

	for (i = 0; i < im->nr_obj; i++)
		n += im->obj[i]->usk && im->obj[i]->usk->peer == s->ino;
	if (!n)
		return 0;
	u->pending = imp_zalloc(n * sizeof(*u->pending));
	if (!u->pending)
		return -1;
	for (i = 0; i < im->nr_obj; i++)
		if (im->obj[i]->usk && im->obj[i]->usk->peer == s->ino)
			u->pending[u->e.n_pending++] = im->obj[i]->usk->id;
	u->e.pending = u->pending;
	return 0;
}

/* The descriptors in flight with socket @id's messages (the ids are ours already). */
static int unix_rights(const struct skqs *q, uint32_t id, struct usk_out *u)
{
	size_t i, n = 0, msg = 0;

	for (i = 0; i < q->nr; i++)
		n += q->v[i].id_for == id && q->v[i].n_rights;
	if (!n)
		return 0;
	u->scm = imp_zalloc(n * sizeof(*u->scm));
	u->scmp = imp_zalloc(n * sizeof(*u->scmp));
	if (!u->scm || !u->scmp)
		return -1;
	for (i = 0; i < q->nr; i++) {
		if (q->v[i].id_for != id)
			continue;
		if (q->v[i].n_rights) {
			UnixScm *m = &u->scm[u->e.n_scm];

			unix_scm__init(m);
			m->msg = (uint32_t)msg;
			m->rights = q->v[i].rights;
			m->n_rights = q->v[i].n_rights;
			u->scmp[u->e.n_scm++] = m;
		}
		msg++;
	}
	u->e.scm = u->scmp;
	return 0;
}

static ProtobufCMessage *conv_unix(const struct imp *im, const Est__UnixSkEntry *s)
{
	struct usk_out *u = imp_zalloc(sizeof(*u));
	const struct skqs *q = im->skq;
	UnixSkEntry *e;
	size_t i;

	if (!u)
		return NULL;
	e = &u->e;
	unix_sk_entry__init(e);
	if (s->uflags || (s->has_shutdown && s->shutdown > 3) ||
	    (s->type != SOCK_STREAM && s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET)) {
		pr_err("not supported yet: files.img: unix socket %u: an outside peer or another special (flags %#x), shutdown or type %u",
		       s->id, s->uflags, s->type);
		goto err;
	}
	if (!imp_net_ns_ok(im, s->has_ns_id, s->ns_id)) {
		pr_err("not supported yet: files.img: unix socket %u of another network namespace",
		       s->id);
		goto err;
	}
	e->id = s->id;
	e->ino = s->ino;
	e->type = s->type;
	e->state = s->state;
	if (s->state == 10) {
		e->has_backlog = true;
		e->backlog = s->backlog;
		if (unix_pending(im, s, u))
			goto err;
	}
	if (imp_status_flags(s->flags, O_NONBLOCK, s->id, &e->flags))
		goto err;
	if (s->peer && unix_peer(im, s, e))
		goto err;
	if (s->has_shutdown && s->shutdown) {	/* the same bits: 1 read, 2 write */
		e->has_shutdown = true;
		e->shutdown = s->shutdown;
	}
	if (imp_unix_name(im, s, e) ||
	    imp_sk_opts(&u->o, s->opts, AF_UNIX, (int)s->type, 0, s->id))
		goto err;
	e->opts = u->o.p;
	e->n_opts = u->o.n;
	for (i = 0; i < q->nr; i++)
		if (q->v[i].id_for == s->id)
			e->n_queue++;
	if (e->n_queue) {
		u->queue = imp_zalloc(e->n_queue * sizeof(*u->queue));
		if (!u->queue)
			goto err;
		e->queue = u->queue;
		e->n_queue = 0;
		for (i = 0; i < q->nr; i++)
			if (q->v[i].id_for == s->id)
				u->queue[e->n_queue++] = q->v[i].data;
		if (unix_rights(q, s->id, u))
			goto err;
	}
	/* a datagram socket without a peer in the dump: queued by senders without a name */
	if (e->type == SOCK_DGRAM && e->n_queue) {
		e->has_queue_unnamed = true;
		e->queue_unnamed = !e->has_peer;
	}
	return &e->base;
err:
	free(u->queue);
	free(u->pending);
	free(u->scm);
	free(u->scmp);
	free(u);
	return NULL;
}

static void free_list(struct out_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		if (l->m[i]->descriptor == &unix_sk_entry__descriptor) {
			free(((struct usk_out *)l->m[i])->queue);
			free(((struct usk_out *)l->m[i])->pending);
			free(((struct usk_out *)l->m[i])->scm);
			free(((struct usk_out *)l->m[i])->scmp);
		}
		free(l->m[i]);
	}
	free(l->m);
}

struct pd_ctx {
	struct out_list l;
	PipeDataEntry *pd;
	bool fifo;		/* reading fifo-data.img, else pipes-data.img */
	const char *img;
};

static uint32_t obj_pipe_id(const Est__FileEntry *f, bool fifo)
{
	if (fifo)
		return f->fifo ? f->fifo->pipe_id : 0;
	return f->pipe ? f->pipe->pipe_id : 0;
}

/* Both files go into our pipes-data.img, keyed by inode (ours refuses one inode twice). */
static int add_pipe_data(struct imp *im, const struct est_entry *e, void *ctx)
{
	const Est__PipeDataEntry *p = (const Est__PipeDataEntry *)e->msg;
	struct pd_ctx *c = ctx;
	PipeDataEntry *o = &c->pd[c->l.nr];
	size_t i;

	for (i = 0; i < im->nr_obj; i++)
		if (obj_pipe_id(im->obj[i], c->fifo) == p->pipe_id && p->pipe_id)
			break;
	if (i == im->nr_obj || c->l.nr == im->nr_obj) {
		pr_err("%s: data for %u, which no %s of files.img is", c->img, p->pipe_id,
		       c->fifo ? "FIFO" : "pipe");
		return -1;
	}
	for (i = 0; i < c->l.nr; i++)
		if (c->pd[i].pipe_id == p->pipe_id) {
			pr_err("%s: pipe %u twice", c->img, p->pipe_id);
			return -1;
		}
	pipe_data_entry__init(o);
	o->pipe_id = p->pipe_id;
	/* ours needs the pipe's size; the format has it optional (its default: 16 pages) */
	o->size = p->has_size ? p->size : 65536;
	o->has_data = true;
	o->data.len = e->extra_len;
	o->data.data = (uint8_t *)e->extra;
	c->l.m[c->l.nr++] = &o->base;
	return 0;
}

static int parse_pipe_data(struct imp *im, struct pd_ctx *c, const uint8_t *buf, size_t len)
{
	struct est_parser p;
	struct est_entry e;
	int r = est_parse_init(&p, est_kind_by_name(c->img), buf, len, c->img);

	while (!r && (r = est_parse_next(&p, &e)) == 1) {
		r = add_pipe_data(im, &e, c);
		est_entry_release(&e);
	}
	return r < 0 ? -1 : 0;
}

/* The extras point into the files' buffers, kept until ours is written. */
static int write_pipes_data(struct imp *im)
{
	static const char *const names[] = { "pipes-data.img", "fifo-data.img" };
	struct pd_ctx c = { { NULL, 0 }, NULL, false, NULL };
	uint8_t *buf[2] = { NULL, NULL };
	size_t len, k;
	int ret = -1;

	c.l.m = imp_zalloc((im->nr_obj + 1) * sizeof(*c.l.m));
	c.pd = imp_zalloc((im->nr_obj + 1) * sizeof(*c.pd));
	if (!c.l.m || !c.pd)
		goto out;
	for (k = 0; k < 2; k++) {
		if (imp_load(im, names[k], true, &buf[k], &len))
			goto out;
		c.fifo = k == 1;
		c.img = names[k];
		if (buf[k] && parse_pipe_data(im, &c, buf[k], len))
			goto out;
	}
	ret = c.l.nr ? imp_write(im, IMG_PIPES_DATA, 0, c.l.m, c.l.nr) : 0;
out:
	free(buf[0]);
	free(buf[1]);
	free(c.l.m);
	free(c.pd);
	return ret;
}

/* The kinds of est-import-fds.c: each into its own image of ours. */
static int write_fd_kinds(struct imp *im)
{
	unsigned int nk, k;
	const struct imp_fd_kind *t = imp_fd_kind(0, &nk);
	struct out_list l = { imp_zalloc((im->nr_obj + 1) * sizeof(*l.m)), 0 };
	size_t i;
	int ret = 0;

	if (!l.m)
		return -1;
	for (k = 0; !ret && k < nk; k++) {
		for (i = 0; !ret && i < im->nr_obj; i++)
			if (im->obj[i]->type == est_fd_type(t[k].kind))
				ret = push(&l, t[k].conv->conv(im, im->obj[i]));
		if (!ret && l.nr)
			ret = imp_write(im, t[k].img, 0, l.m, l.nr);
		for (i = 0; i < l.nr; i++)
			free(l.m[i]);
		l.nr = 0;
	}
	free(l.m);
	return ret;
}

int imp_files_write(struct imp *im)
{
	struct out_list reg = { 0 }, pipe = { 0 }, usk = { 0 };
	struct out_list *all[] = { &reg, &pipe, &usk };
	size_t i;
	int ret = -1;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		all[i]->m = imp_zalloc((im->nr_obj + 1) * sizeof(*all[i]->m));
		if (!all[i]->m)
			goto out;
	}
	for (i = 0; i < im->nr_obj; i++) {
		const Est__FileEntry *f = im->obj[i];
		int r;

		switch (f->type) {
		case EST__FD_TYPES__REG:
			/* a FIFO's path: ours keeps it in the FIFO's entry */
			r = imp_reg_is_aux(im, f->id) ? 0 : push(&reg, conv_reg(im, f->reg));
			break;
		case EST__FD_TYPES__PIPE: r = push(&pipe, conv_pipe(f->pipe)); break;
		case EST__FD_TYPES__UNIXSK:
			r = f->usk->uflags & EST_USK_EXTERN ? check_extern(im, f->usk) :
							  push(&usk, conv_unix(im, f->usk));
			break;
		default: r = 0; break;	/* write_fd_kinds() */
		}
		if (r)
			goto out;
	}
	if ((reg.nr && imp_write(im, IMG_REG_FILES, 0, reg.m, reg.nr)) ||
	    (pipe.nr && imp_write(im, IMG_PIPES, 0, pipe.m, pipe.nr)) ||
	    (usk.nr && imp_write(im, IMG_UNIX_SKS, 0, usk.m, usk.nr)) || write_fd_kinds(im))
		goto out;
	ret = write_pipes_data(im);
out:
	for (i = 0; i < ARRAY_SIZE(all); i++)
		if (all[i]->m)
			free_list(all[i]);
	return ret;
}

/* ---- fdinfo -------------------------------------------------------------------- */

static FdKind fd_kind(const Est__FileEntry *f)
{
	const Est__RegFileEntry *r = f->reg;

	switch (f->type) {
	case EST__FD_TYPES__PIPE: return FD_KIND__FD_PIPE;
	case EST__FD_TYPES__UNIXSK: return FD_KIND__FD_UNIX_SK;
	case EST__FD_TYPES__REG:
		if (r->flags & O_PATH)
			return FD_KIND__FD_PATH;
		if (S_ISREG(r->mode))
			return FD_KIND__FD_REG;
		if (S_ISDIR(r->mode))
			return FD_KIND__FD_DIR;
		if (S_ISCHR(r->mode))
			return FD_KIND__FD_CHR;
		return 0;
	default: {
		const struct imp_fd_kind *k = imp_fd_kind(f->type, NULL);

		return k ? k->kind : 0;
	}
	}
}

struct fd_ctx {
	struct out_list l;
	FdEntry *fe;
	size_t cap;
	const char *img;
	const struct imp_proc *p;
};

static int add_fd(struct imp *im, const struct est_entry *e, void *ctx)
{
	const Est__FdinfoEntry *d = (const Est__FdinfoEntry *)e->msg;
	const Est__FileEntry *f = imp_obj(im, d->id);
	struct fd_ctx *c = ctx;
	FdEntry *o;

	if (c->l.nr == c->cap) {
		pr_err("not supported yet: %s: more than %zu descriptors", c->img, c->cap);
		return -1;
	}
	if (!f || f->type != d->type || (d->flags & ~1u) || d->xattr_security_selinux) {
		pr_err("%s: fd %u: object %u unknown or of another type, or flags %#x", c->img, d->fd,
		       d->id, d->flags);
		return -1;
	}
	if (f->reg && imp_reg_is_aux(im, f->id)) {
		pr_err("not supported yet: %s: fd %u opens the path of a FIFO or tty file as a file", c->img,
		       d->fd);
		return -1;
	}
	if (f->usk && (f->usk->uflags & EST_USK_EXTERN)) {
		pr_err("%s: fd %u opens unix socket %u, which stands for a peer outside the dump",
		       c->img, d->fd, d->id);
		return -1;
	}
	o = &c->fe[c->l.nr];
	fd_entry__init(o);
	o->fd = d->fd;
	o->id = d->id;
	o->cloexec = d->flags & 1;	/* FD_CLOEXEC */
	o->kind = fd_kind(f);
	if (!o->kind) {
		pr_err("not supported yet: %s: fd %u opens %s, neither file, directory nor character device",
		       c->img, d->fd, f->reg ? f->reg->name : "?");
		return -1;
	}
	if (imp_fown_take(im, c->p, o, c->img))
		return -1;
	c->l.m[c->l.nr++] = &o->base;
	return 0;
}

int imp_fdinfo(struct imp *im, struct imp_proc *p)
{
	struct fd_ctx c = { .cap = 65536, .p = p };
	char name[64];
	int ret = -1;

	snprintf(name, sizeof(name), "fdinfo-%u.img", p->ids->files_id);
	c.img = name;
	c.l.m = imp_zalloc(c.cap * sizeof(*c.l.m));
	c.fe = imp_zalloc(c.cap * sizeof(*c.fe));
	if (c.l.m && c.fe && !imp_read_all(im, name, false, add_fd, &c))
		ret = imp_write(im, IMG_FDS, p->ps->pid, c.l.m, c.l.nr);
	free(c.l.m);
	free(c.fe);
	return ret;
}
