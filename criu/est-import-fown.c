/*
 * Signal owners (plan §2.10 fown_entry): the format keeps F_SETOWN_EX,
 * F_SETSIG and the uids the owner was set with in the fown_entry of each
 * files.img member (a FIFO's in its REG path entry), O_ASYNC in its flags;
 * ours keeps owner, signal and O_ASYNC with the first fd of the file in
 * the tree (fd_entry.fown), and sets the owner with the real and effective
 * uid of the process holding that fd. imp_fowns_read() moves them out of
 * the files.img entries (O_ASYNC stays in a REG entry's flags, as ours
 * keeps it there too); imp_fown_take() gives them to that first fd,
 * refusing an owner set with uids other than its process's.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "log.h"

#define OWNER_PGRP	2	/* F_OWNER_TID 0, F_OWNER_PID 1, F_OWNER_PGRP 2 in both */
#define MAX_SIGNUM	64

struct fown {
	uint32_t id;		/* the object its fds name */
	uint32_t uid, euid;
	bool given;
	FownEntry f;
};

struct fowns {
	struct fown *v;
	size_t nr;
};

/* The fown and flags of @f's member; a FIFO's are those of its REG path entry. */
static bool member_fown(struct imp *im, Est__FileEntry *f, Est__FownEntry **fown, uint32_t **flags)
{
	Est__FownEntry **p;

	if (f->type == EST__FD_TYPES__FIFO) {
		f = f->fifo->has_regf_id ? (Est__FileEntry *)imp_obj(im, f->fifo->regf_id) : NULL;
		if (!f || f->type != EST__FD_TYPES__REG)
			return false;	/* conv_fifo() says so */
	}
	if (!est_file_fown(f, &p, flags))
		return false;
	*fown = *p;
	return true;
}

static int note(struct imp *im, struct fowns *t, Est__FileEntry *f)
{
	Est__FownEntry *s;
	uint32_t *flags;
	struct fown *o;

	if (!member_fown(im, f, &s, &flags))
		return 0;
	if (!(*flags & O_ASYNC) && !s->pid && !s->signum)
		return 0;
	if (s->pid_type > OWNER_PGRP || s->signum > MAX_SIGNUM) {
		pr_err("files.img: object %u: signal owner type %u or signal %u", f->id, s->pid_type,
		       s->signum);
		return -1;
	}
	o = &t->v[t->nr++];
	memset(o, 0, sizeof(*o));
	fown_entry__init(&o->f);
	o->id = f->id;
	o->f.async = !!(*flags & O_ASYNC);
	o->f.signum = s->signum;
	if (s->pid) {
		o->f.type = s->pid_type;
		o->f.pid = s->pid;
		o->uid = s->uid;
		o->euid = s->euid;
	}
	memset(s, 0, sizeof(*s));
	est__fown_entry__init(s);
	if (f->type != EST__FD_TYPES__REG)
		*flags &= ~(uint32_t)O_ASYNC;	/* ours: O_ASYNC in fd_entry.fown only */
	return 0;
}

static int fown_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct fown *)a)->id, y = ((const struct fown *)b)->id;

	return x < y ? -1 : x > y;
}

int imp_fowns_read(struct imp *im)
{
	struct fowns *t = imp_zalloc(sizeof(*t));
	size_t i;

	if (!t)
		return -1;
	im->fowns = t;
	t->v = imp_zalloc((im->nr_obj + 1) * sizeof(*t->v));
	if (!t->v)
		return -1;
	/* FIFOs first: their REG path entries are theirs */
	for (i = 0; i < im->nr_obj; i++)
		if (im->obj[i]->type == EST__FD_TYPES__FIFO && note(im, t, im->obj[i]))
			return -1;
	for (i = 0; i < im->nr_obj; i++)
		if (im->obj[i]->type != EST__FD_TYPES__FIFO && note(im, t, im->obj[i]))
			return -1;
	qsort(t->v, t->nr, sizeof(*t->v), fown_cmp);
	return 0;
}

int imp_fown_take(struct imp *im, const struct imp_proc *p, FdEntry *fe, const char *img)
{
	struct fowns *t = im->fowns;
	struct fown key = { .id = fe->id }, *o;

	o = t && t->nr ? bsearch(&key, t->v, t->nr, sizeof(*t->v), fown_cmp) : NULL;
	if (!o || o->given)
		return 0;
	if (o->f.pid && (o->uid != p->uid || o->euid != p->euid)) {
		pr_err("not supported yet: %s: fd %u: its signal owner was set with uids %u/%u, its process runs with %u/%u",
		       img, fe->fd, o->uid, o->euid, p->uid, p->euid);
		return -1;
	}
	o->given = true;
	fe->fown = &o->f;
	return 0;
}

void imp_fowns_free(struct imp *im)
{
	struct fowns *t = im->fowns;

	if (t)
		free(t->v);
	free(t);
	im->fowns = NULL;
}
