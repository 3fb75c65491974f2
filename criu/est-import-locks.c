/*
 * Established filelocks.img -> the locks of our reg_file_entry (plan
 * §2.10). The format names the file of a lock by (pid, fd): the fd of that
 * process whose open file holds it (flock, OFD) or through which the owner
 * took it (POSIX, pid = owner). Ours keeps each lock in the REG entry of
 * that open file, a POSIX lock with its owner's pid.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "log.h"

#include "est/file-lock.pb-c.h"

#define MAX_LOCKS	4096	/* in the dump */

/* established file_lock_entry.flag and .type */
#define FL_POSIX	1u
#define FL_FLOCK	2u
#define FL_OFD		4u
#define FL_LEASE	8u	/* a lease; type F_RDLCK/F_WRLCK, | 4 while being broken */
#define LK_RDLCK	0u
#define LK_WRLCK	1u

struct imp_lock {
	uint32_t id;		/* the REG object */
	FileLockEntry e;
};

struct imp_locks {
	struct imp_lock *v;
	size_t nr;
	FileLockEntry **out;	/* imp_locks_of()'s answers, one slice per REG entry */
	size_t used;
};

struct fd_find {
	uint32_t fd, id;
	bool found;
};

static int find_fd(struct imp *im, const struct est_entry *e, void *ctx)
{
	const Est__FdinfoEntry *d = (const Est__FdinfoEntry *)e->msg;
	struct fd_find *f = ctx;

	(void)im;
	if (d->fd == f->fd) {
		f->found = true;
		f->id = d->id;
	}
	return 0;
}

/* The object at fd @fd of process @pid; 0 (logged) when there is none. */
static uint32_t obj_at(struct imp *im, int32_t pid, int32_t fd)
{
	struct fd_find f = { .fd = (uint32_t)fd };
	char name[64];
	size_t i;

	for (i = 0; i < im->nr_procs; i++)
		if ((int64_t)im->procs[i].ps->pid == pid && im->procs[i].ids)
			break;
	if (i == im->nr_procs || fd < 0) {
		pr_err("filelocks.img: a lock held through fd %d of %d: %s", fd, pid,
		       fd < 0 ? "no fd (a lock not tied to an open file)" : "no live process of the dump");
		return 0;
	}
	snprintf(name, sizeof(name), "fdinfo-%u.img", im->procs[i].ids->files_id);
	if (imp_read_all(im, name, false, find_fd, &f))
		return 0;
	if (!f.found) {
		pr_err("filelocks.img: a lock held through fd %d of %d, which is not open", fd, pid);
		return 0;
	}
	return f.id;
}

static int add_lock(struct imp *im, const struct est_entry *e, void *ctx)
{
	const Est__FileLockEntry *l = (const Est__FileLockEntry *)e->msg;
	struct imp_locks *ls = ctx;
	const Est__FileEntry *f;
	struct imp_lock *o;
	uint32_t id;

	if (ls->nr == MAX_LOCKS) {
		pr_err("not supported yet: filelocks.img: more than %d locks", MAX_LOCKS);
		return -1;
	}
	if ((l->flag != FL_POSIX && l->flag != FL_FLOCK && l->flag != FL_OFD && l->flag != FL_LEASE) ||
	    (l->type != LK_RDLCK && l->type != LK_WRLCK) || l->start < 0 || l->len < 0 ||
	    l->len > INT64_MAX - l->start ||
	    ((l->flag == FL_FLOCK || l->flag == FL_LEASE) && (l->start || l->len)) ||
	    ((l->flag == FL_POSIX || l->flag == FL_LEASE) && l->pid <= 0)) {
		pr_err("not supported yet: filelocks.img: a lock of kind %#x, type %u, range %lld+%lld (a lease being broken, a mandatory lock?)",
		       l->flag, l->type, (long long)l->start, (long long)l->len);
		return -1;
	}
	id = obj_at(im, l->pid, l->fd);
	if (!id)
		return -1;
	f = imp_obj(im, id);
	if (!f || !f->reg || !f->reg->has_mode || (f->reg->flags & O_PATH) ||
	    (!S_ISREG(f->reg->mode) && !S_ISDIR(f->reg->mode))) {
		pr_err("not supported yet: filelocks.img: a lock through fd %d of %d, which is no open regular file or directory",
		       l->fd, l->pid);
		return -1;
	}
	o = &ls->v[ls->nr++];
	o->id = id;
	file_lock_entry__init(&o->e);
	o->e.kind = l->flag == FL_POSIX ? FILE_LOCK_KIND__LOCK_POSIX :
		    l->flag == FL_OFD ? FILE_LOCK_KIND__LOCK_OFD :
		    l->flag == FL_LEASE ? FILE_LOCK_KIND__LOCK_LEASE : FILE_LOCK_KIND__LOCK_FLOCK;
	o->e.write = l->type == LK_WRLCK;
	o->e.start = (uint64_t)l->start;
	o->e.len = (uint64_t)l->len;
	o->e.has_pid = l->flag == FL_POSIX || l->flag == FL_LEASE;
	o->e.pid = o->e.has_pid ? l->pid : 0;
	return 0;
}

int imp_locks_read(struct imp *im)
{
	struct imp_locks *ls = imp_zalloc(sizeof(*ls));

	im->locks = ls;
	if (!ls)
		return -1;
	ls->v = imp_zalloc(MAX_LOCKS * sizeof(*ls->v));
	ls->out = imp_zalloc(MAX_LOCKS * sizeof(*ls->out));
	if (!ls->v || !ls->out)
		return -1;
	return imp_read_all(im, "filelocks.img", true, add_lock, ls);
}

FileLockEntry **imp_locks_of(const struct imp *im, uint32_t id, size_t *n)
{
	struct imp_locks *ls = im->locks;
	FileLockEntry **out;
	size_t i;

	*n = 0;
	if (!ls || !ls->nr)
		return NULL;
	out = ls->out + ls->used;	/* each REG object is asked once: the slices add up to nr */
	for (i = 0; i < ls->nr && ls->used + *n < ls->nr; i++)
		if (ls->v[i].id == id)
			out[(*n)++] = &ls->v[i].e;
	ls->used += *n;
	return *n ? out : NULL;
}

void imp_locks_free(struct imp *im)
{
	struct imp_locks *ls = im->locks;

	if (!ls)
		return;
	free(ls->v);
	free(ls->out);
	free(ls);
	im->locks = NULL;
}
