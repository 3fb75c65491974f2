/*
 * The table of descriptor kinds and what every kind shares: object ids,
 * criu's copy of a task's descriptor, the restore-side object index.
 * See criu/include/files.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define RST_MAX_PID	(1u << 22)	/* PID_MAX_LIMIT */

#define LOG_PREFIX "files: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"

/* Every kind's ops and their order on dump: the first match owns the fd. */
#define FD_KIND(name, value, ops, est) extern const struct fd_ops ops;
#include "fd-kinds.def"

static const struct fd_ops *const fd_kinds[] = {
#define FD_KIND(name, value, ops, est) &ops,
#include "fd-kinds.def"
};

/* Each row's value indexes the per-kind arrays (priv[]). */
#define FD_KIND(name, value, ops, est) \
	_Static_assert(value > 0 && value < FD_KIND_MAX, "FD_" #name ": value out of range");
#include "fd-kinds.def"

const struct fd_ops *fd_ops(FdKind kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd_kinds); i++)
		if (fd_kinds[i]->kind == kind)
			return fd_kinds[i];
	return NULL;
}

const struct fd_ops *fd_ops_match(const struct fd_probe *p)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd_kinds); i++)
		if (fd_kinds[i]->match && fd_kinds[i]->match(p))
			return fd_kinds[i];
	return NULL;
}

const char *fd_kind_str(FdKind kind)
{
	const struct fd_ops *ops = fd_ops(kind);

	return ops ? ops->name : "unknown";
}

static FdKind store_of(const struct fd_ops *ops)
{
	return ops->store ? ops->store : ops->kind;
}

bool fd_probe_anon(const struct fd_probe *p, const char *name)
{
	return !strncmp(p->link, "anon_inode:", 11) && !strcmp(p->link + 11, name);
}

/* ---- dump ------------------------------------------------------------------ */

int fd_probe_local(struct fd_probe *p)
{
	if (p->local >= 0)
		return p->local;
	p->local = (int)syscall(SYS_pidfd_getfd, p->pidfd, p->fd, 0);
	if (p->local < 0)
		pr_perror("fd %d of %d: pidfd_getfd (needed to read the object)", p->fd, p->pid);
	return p->local;
}

uint32_t fd_obj_id(struct dump_files *d)
{
	return ++d->next_id;
}

int fd_write_entries(int dirfd, int kind, ProtobufCMessage **v, size_t nr)
{
	struct cr_img *img;
	size_t i;

	if (!nr)
		return 0;
	img = img_create(dirfd, (enum img_kind)kind, 0);
	if (!img)
		return -1;
	for (i = 0; i < nr; i++)
		if (img_write_entry(img, v[i])) {
			img_abort(img);
			return -1;
		}
	return img_commit(img);
}

struct fd_list *fd_list(struct dump_files *d, FdKind kind)
{
	if ((unsigned int)kind >= FD_KIND_MAX)
		return NULL;
	if (!d->priv[kind]) {
		d->priv[kind] = calloc(1, sizeof(struct fd_list));
		if (!d->priv[kind])
			pr_err("out of memory");
	}
	return d->priv[kind];
}

int fd_list_add(struct fd_list *l, void *msg)
{
	if (l->nr == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		ProtobufCMessage **n = realloc(l->v, cap * sizeof(*n));

		if (!n) {
			protobuf_c_message_free_unpacked(msg, NULL);
			pr_err("out of memory");
			return -1;
		}
		l->v = n;
		l->cap = cap;
	}
	l->v[l->nr++] = msg;
	return 0;
}

void fd_list_free(struct fd_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nr; i++)
		protobuf_c_message_free_unpacked(l->v[i], NULL);
	free(l->v);
	free(l);
}

bool fd_inflight_kind(FdKind k)
{
	return k == FD_KIND__FD_PIPE || k == FD_KIND__FD_EVENTFD || k == FD_KIND__FD_UNIX_SK ||
	       k == FD_KIND__FD_REG;
}

int fd_rst_open_id(struct fd_rst *r, uint32_t id)
{
	const struct fd_obj *o = fd_rst_find(r, id);
	size_t k;

	if (!o || !r->obj_fd) {
		pr_err("fd object %u: not in the dump, or wanted outside a process's opening", id);
		return -1;
	}
	k = (size_t)(o - r->obj);
	if (r->obj_fd[k] < 0)
		r->obj_fd[k] = fd_ops(o->store)->open(r, o, r->opt);
	return r->obj_fd[k];
}

int fd_kinds_resolve(struct dump_files *d, const struct cr_options *o)
{
	size_t i;

	if (dump_inflight_resolve(d))
		return -1;	/* they become objects first: the kinds link them too */
	for (i = 0; i < ARRAY_SIZE(fd_kinds); i++)
		if (fd_kinds[i]->resolve && fd_kinds[i]->resolve(d, o))
			return -1;
	return 0;
}

int fd_kinds_write(struct dump_files *d, int dirfd)
{
	const struct fd_list *l;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd_kinds); i++) {
		const struct fd_ops *ops = fd_kinds[i];

		if (ops->write && ops->write(d, dirfd))
			return -1;
		l = ops->img && !ops->write ? d->priv[ops->kind] : NULL;
		if (l && fd_write_entries(dirfd, ops->img, l->v, l->nr))
			return -1;
	}
	return 0;
}

void fd_kinds_free(struct dump_files *d)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd_kinds); i++) {
		const struct fd_ops *ops = fd_kinds[i];

		if (ops->free)
			ops->free(d);
		else if (ops->img) {
			fd_list_free(d->priv[ops->kind]);
			d->priv[ops->kind] = NULL;
		}
	}
}

/* ---- restore ------------------------------------------------------------- */

int fd_rst_add(struct fd_rst *r, FdKind store, uint32_t id, const ProtobufCMessage *e)
{
	if (r->nr_obj == r->cap_obj) {
		size_t cap = r->cap_obj ? 2 * r->cap_obj : 64;
		struct fd_obj *n = realloc(r->obj, cap * sizeof(*n));

		if (!n) {
			pr_err("out of memory for %zu objects", cap);
			return -1;
		}
		r->obj = n;
		r->cap_obj = cap;
	}
	r->obj[r->nr_obj++] = (struct fd_obj){ .id = id, .store = store, .e = e };
	return 0;
}

static int obj_cmp(const void *a, const void *b)
{
	const struct fd_obj *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int fd_rst_index(struct fd_rst *r)
{
	size_t i;

	if (r->nr_obj)
		qsort(r->obj, r->nr_obj, sizeof(*r->obj), obj_cmp);
	for (i = 1; i < r->nr_obj; i++)
		if (r->obj[i].id == r->obj[i - 1].id) {
			pr_err("object id %u is used twice (by %s and %s images)", r->obj[i].id,
			       fd_kind_str(r->obj[i - 1].store), fd_kind_str(r->obj[i].store));
			return -1;
		}
	return 0;
}

struct fd_obj *fd_rst_find(const struct fd_rst *r, uint32_t id)
{
	struct fd_obj key = { .id = id };

	if (!r->nr_obj)
		return NULL;
	return bsearch(&key, r->obj, r->nr_obj, sizeof(*r->obj), obj_cmp);
}

struct simple_read {
	struct fd_rst		*r;
	const struct fd_ops	*ops;
	struct fd_list		*l;
};

static int simple_check(const ProtobufCMessage *m, void *ctx)
{
	struct simple_read *sr = ctx;
	uint32_t id;

	if (sr->l->nr >= RST_MAX_OBJECTS) {
		pr_err("%s image: more than %d entries", sr->ops->name, RST_MAX_OBJECTS);
		return -1;
	}
	if (sr->ops->validate(m, &id))
		return -1;
	return fd_rst_add(sr->r, sr->ops->kind, id, m);
}

/* The generic read() of a simple kind: its image, every entry validated. */
static int simple_read(struct fd_rst *r, const struct fd_ops *ops, int dirfd)
{
	struct simple_read sr = { .r = r, .ops = ops, .l = calloc(1, sizeof(*sr.l)) };
	char name[64];

	if (!sr.l) {
		pr_err("out of memory");
		return -1;
	}
	r->priv[ops->kind] = sr.l;
	snprintf(name, sizeof(name), img_desc(ops->img)->fmt, 0);
	if (faccessat(dirfd, name, F_OK, 0) && errno == ENOENT)
		return 0;	/* no object of this kind */
	return img_read_all(dirfd, ops->img, 0, 0, simple_check, &sr, &sr.l->v, &sr.l->nr);
}

const struct fd_list *fd_rst_list(const struct fd_rst *r, FdKind kind)
{
	return (unsigned int)kind < FD_KIND_MAX ? r->priv[kind] : NULL;
}

int fd_rst_read(struct fd_rst *r, int dirfd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd_kinds); i++) {
		const struct fd_ops *ops = fd_kinds[i];

		if (ops->read && ops->read(r, dirfd))
			return -1;
		if (!ops->read && ops->img && ops->validate && simple_read(r, ops, dirfd))
			return -1;
	}
	return fd_rst_index(r);
}

int fd_rst_check(const struct fd_rst *r, const FdEntry *fe, const char *img)
{
	const struct fd_ops *ops = fd_ops(fe->kind);
	struct fd_obj *o;

	if (!ops) {
		pr_err("%s: fd %u has the unknown kind %d", img, fe->fd, fe->kind);
		return -1;
	}
	if (fe->fown && (fe->fown->type > F_OWNER_PGRP || fe->fown->pid >= RST_MAX_PID ||
			 fe->fown->signum > 64)) {
		pr_err("%s: fd %u: signal owner type %u pid %u or signal %u out of range", img,
		       fe->fd, fe->fown->type, fe->fown->pid, fe->fown->signum);
		return -1;
	}
	if (fe->has_write_hint && (!fe->write_hint || fe->write_hint > RWH_WRITE_LIFE_EXTREME)) {
		pr_err("%s: fd %u: write-life hint %llu out of range", img, fe->fd,
		       (unsigned long long)fe->write_hint);
		return -1;
	}
	o = fd_rst_find(r, fe->id);
	if (!o || o->store != store_of(ops)) {
		pr_err("%s: fd %u (%s) names object %u, which is no %s object", img, fe->fd,
		       ops->name, fe->id, fd_kind_str(store_of(ops)));
		return -1;
	}
	if (ops->check && ops->check(r, fe, o))
		return -1;
	o->users++;
	return 0;
}

void fd_rst_free(struct fd_rst *r)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd_kinds); i++) {
		const struct fd_ops *ops = fd_kinds[i];
		struct fd_list *l;

		if (ops->rst_free) {
			ops->rst_free(r);
			continue;
		}
		l = ops->img && !ops->read ? r->priv[ops->kind] : NULL;
		if (l) {
			img_free_all(l->v, l->nr);
			free(l);
			r->priv[ops->kind] = NULL;
		}
	}
	free(r->obj);
	memset(r, 0, sizeof(*r));
}
