/*
 * Established files.img, fdinfo-FILESID.img, pipes-data.img, sk-queues.img
 * -> our reg-files, pipes, pipes-data and fds-PID images (plan §2.9-§2.11).
 * Kinds converted: REG, PIPE; any other is refused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "log.h"

#include "files.pb-c.h"
#include "pipe.pb-c.h"
#include "est/pipe-data.pb-c.h"

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

static bool fown_set(const Est__FownEntry *f)
{
	return f && (f->uid || f->euid || f->signum || f->pid_type || f->pid);
}

/* The member of @f its type names, and its own id; NULL when they disagree. */
static const void *member(const Est__FileEntry *f)
{
	const void *m = NULL;
	uint32_t id = 0;
	const Est__FownEntry *fown = NULL;
	int set = !!f->reg + !!f->isk + !!f->efd + !!f->epfd + !!f->sgfd + !!f->tfd + !!f->ify +
		  !!f->ffy + !!f->usk + !!f->fifo + !!f->pipe + !!f->tty + !!f->memfd;

	switch (f->type) {
	case EST__FD_TYPES__REG:
		if (f->reg)
			m = f->reg, id = f->reg->id, fown = f->reg->fown;
		break;
	case EST__FD_TYPES__PIPE:
		if (f->pipe)
			m = f->pipe, id = f->pipe->id, fown = f->pipe->fown;
		break;
	default:
		pr_err("not supported yet: files.img: object %u of type %d", f->id, f->type);
		return NULL;
	}
	if (!m || set != 1 || id != f->id) {
		pr_err("files.img: object %u: its type, member and ids disagree", f->id);
		return NULL;
	}
	if (fown_set(fown)) {
		pr_err("not supported yet: files.img: object %u has a signal owner (F_SETOWN)", f->id);
		return NULL;
	}
	return m;
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

int imp_files_read(struct imp *im)
{
	size_t i;

	im->obj = imp_zalloc(IMP_MAX_OBJECTS * sizeof(*im->obj));
	if (!im->obj || imp_read_all(im, "files.img", false, add_obj, NULL))
		return -1;
	qsort(im->obj, im->nr_obj, sizeof(*im->obj), obj_cmp);
	for (i = 1; i < im->nr_obj; i++)
		if (im->obj[i]->id == im->obj[i - 1]->id) {
			pr_err("files.img: object id %u twice", im->obj[i]->id);
			return -1;
		}
	return 0;
}

void imp_files_free(struct imp *im)
{
	size_t i;

	for (i = 0; i < im->nr_obj; i++)
		protobuf_c_message_free_unpacked(&im->obj[i]->base, NULL);
	free(im->obj);
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

static ProtobufCMessage *conv_reg(const Est__RegFileEntry *r)
{
	RegFileEntry *o;

	if (!r->has_mode || (r->has_ext && r->ext) || r->has_checksum || r->name[0] != '/') {
		pr_err("not supported yet: files.img: file %u (%s): no mode, an external or checksummed file, or a relative path",
		       r->id, r->name);
		return NULL;
	}
	o = imp_zalloc(sizeof(*o));
	if (!o)
		return NULL;
	reg_file_entry__init(o);
	o->id = r->id;
	o->path = r->name;
	o->flags = r->flags;
	o->pos = r->pos;
	o->mode = r->mode;
	if (r->has_size) {
		o->has_size = true;
		o->size = r->size;
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

static void free_list(struct out_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		free(l->m[i]);
	free(l->m);
}

struct pd_ctx {
	struct out_list l;
	PipeDataEntry *pd;
};

static int add_pipe_data(struct imp *im, const struct est_entry *e, void *ctx)
{
	const Est__PipeDataEntry *p = (const Est__PipeDataEntry *)e->msg;
	struct pd_ctx *c = ctx;
	PipeDataEntry *o = &c->pd[c->l.nr];
	size_t i;

	for (i = 0; i < im->nr_obj; i++)
		if (im->obj[i]->pipe && im->obj[i]->pipe->pipe_id == p->pipe_id)
			break;
	if (i == im->nr_obj || c->l.nr == im->nr_obj) {
		pr_err("pipes-data.img: data for pipe %u, which no pipe of files.img is", p->pipe_id);
		return -1;
	}
	for (i = 0; i < c->l.nr; i++)
		if (c->pd[i].pipe_id == p->pipe_id) {
			pr_err("pipes-data.img: pipe %u twice", p->pipe_id);
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

/* Copies the extras out: they point into the parser's buffer, freed after each entry. */
static int write_pipes_data(struct imp *im)
{
	struct pd_ctx c = { { NULL, 0 }, NULL };
	uint8_t *buf;
	size_t len;
	int ret = -1;

	c.l.m = imp_zalloc((im->nr_obj + 1) * sizeof(*c.l.m));
	c.pd = imp_zalloc((im->nr_obj + 1) * sizeof(*c.pd));
	if (!c.l.m || !c.pd)
		goto out;
	/* read once to validate and count; the data is written from a second copy */
	if (imp_load(im, "pipes-data.img", true, &buf, &len))
		goto out;
	if (!buf) {
		ret = 0;
		goto out;
	}
	{
		struct est_parser p;
		struct est_entry e;
		int r = est_parse_init(&p, est_kind_by_name("pipes-data.img"), buf, len,
				       "pipes-data.img");

		while (!r && (r = est_parse_next(&p, &e)) == 1) {
			r = add_pipe_data(im, &e, &c);
			est_entry_release(&e);
		}
		if (r >= 0)
			ret = imp_write(im, IMG_PIPES_DATA, 0, c.l.m, c.l.nr);
	}
	free(buf);
out:
	free(c.l.m);
	free(c.pd);
	return ret;
}

int imp_files_write(struct imp *im)
{
	struct out_list reg = { 0 }, pipe = { 0 };
	struct out_list *all[] = { &reg, &pipe };
	size_t i;
	int ret = -1;

	for (i = 0; i < 2; i++) {
		all[i]->m = imp_zalloc((im->nr_obj + 1) * sizeof(*all[i]->m));
		if (!all[i]->m)
			goto out;
	}
	for (i = 0; i < im->nr_obj; i++) {
		const Est__FileEntry *f = im->obj[i];
		int r;

		switch (f->type) {
		case EST__FD_TYPES__REG: r = push(&reg, conv_reg(f->reg)); break;
		case EST__FD_TYPES__PIPE: r = push(&pipe, conv_pipe(f->pipe)); break;
		default: r = -1; break;
		}
		if (r)
			goto out;
	}
	if ((reg.nr && imp_write(im, IMG_REG_FILES, 0, reg.m, reg.nr)) ||
	    (pipe.nr && imp_write(im, IMG_PIPES, 0, pipe.m, pipe.nr)))
		goto out;
	ret = write_pipes_data(im);
out:
	for (i = 0; i < 2; i++)
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
	default:
		return 0;
	}
}

struct fd_ctx {
	struct out_list l;
	FdEntry *fe;
	size_t cap;
	const char *img;
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
	c->l.m[c->l.nr++] = &o->base;
	return 0;
}

int imp_fdinfo(struct imp *im, struct imp_proc *p)
{
	struct fd_ctx c = { .cap = 65536 };
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
