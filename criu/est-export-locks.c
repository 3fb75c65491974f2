/*
 * The locks of our REG entries (--file-locks) -> established filelocks.img
 * (plan §2.10). The format names the open file of a lock by (pid, fd): a
 * POSIX lock by its owner and an fd of the owner on that open file, a
 * flock or OFD lock by the first process of the tree (and its first fd)
 * that has the open file. A lock whose file no such fd names cannot be
 * written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "log.h"

#include "files.pb-c.h"
#include "est/file-lock.pb-c.h"

/* established file_lock_entry.flag */
#define FL_POSIX	1u
#define FL_FLOCK	2u
#define FL_OFD		4u
#define FL_LEASE	8u	/* type F_RDLCK or F_WRLCK; with LEASE_BREAKING (4): being broken */

struct proc_fds {
	uint32_t pid;
	ProtobufCMessage **fds;
	size_t nr;
};

static void free_fds(struct proc_fds *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		img_free_all(v[i].fds, v[i].nr);
	free(v);
}

/* The fds of every live process, in tree order. */
static struct proc_fds *read_fds(struct exp *ex)
{
	struct proc_fds *v = exp_zalloc(ex->nr_procs * sizeof(*v));
	size_t i;

	for (i = 0; v && i < ex->nr_procs; i++) {
		const PstreeEntry *ps = ex->procs[i].ps;

		v[i].pid = ps->pid;
		if (ps->n_threads &&
		    img_read_all(ex->in, IMG_FDS, ps->pid, 0, NULL, NULL, &v[i].fds, &v[i].nr)) {
			free_fds(v, ex->nr_procs);
			return NULL;
		}
	}
	return v;
}

/* An fd of process @pid (any process: 0) on object @id, as *pid, *fd; -1 if none. */
static int holder(const struct proc_fds *v, size_t n, uint32_t id, int32_t *pid, int32_t *fd)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (*pid && v[i].pid != (uint32_t)*pid)
			continue;
		for (k = 0; k < v[i].nr; k++)
			if (((const FdEntry *)v[i].fds[k])->id == id) {
				*pid = (int32_t)v[i].pid;
				*fd = (int32_t)((const FdEntry *)v[i].fds[k])->fd;
				return 0;
			}
	}
	return -1;
}

static int conv_lock(struct exp_img *w, const RegFileEntry *r, const FileLockEntry *l,
		     const struct proc_fds *v, size_t n)
{
	Est__FileLockEntry e = EST__FILE_LOCK_ENTRY__INIT;

	if (l->start > INT64_MAX || l->len > INT64_MAX - l->start ||
	    (l->kind == FILE_LOCK_KIND__LOCK_POSIX || l->kind == FILE_LOCK_KIND__LOCK_LEASE) !=
		    (l->has_pid && l->pid > 0)) {
		pr_err("reg-files.img: file %u: a lock of kind %d over %llu+%llu", r->id, l->kind,
		       (unsigned long long)l->start, (unsigned long long)l->len);
		return -1;
	}
	e.flag = l->kind == FILE_LOCK_KIND__LOCK_POSIX ? FL_POSIX :
		 l->kind == FILE_LOCK_KIND__LOCK_OFD ? FL_OFD :
		 l->kind == FILE_LOCK_KIND__LOCK_LEASE ? FL_LEASE : FL_FLOCK;
	e.type = l->write ? 1 : 0;	/* F_WRLCK, F_RDLCK */
	e.pid = l->has_pid ? l->pid : 0;
	e.start = (int64_t)l->start;
	e.len = (int64_t)l->len;
	if (holder(v, n, r->id, &e.pid, &e.fd))
		return exp_cannot("reg-files.img", "a lock on %s is held through no fd of %s", r->path,
				  l->has_pid ? "its owner" : "the dump");
	exp_img_add(w, &e.base, NULL, 0);
	return 0;
}

int exp_locks(struct exp *ex, ProtobufCMessage **reg, size_t nr_reg)
{
	struct proc_fds *v = NULL;
	struct exp_img w;
	size_t i, k, nr = 0;
	int ret = -1;

	for (i = 0; i < nr_reg; i++)
		nr += ((const RegFileEntry *)reg[i])->n_locks;
	if (!nr)
		return 0;
	v = read_fds(ex);
	if (!v)
		return -1;
	exp_img_open(&w, "filelocks.img");
	for (i = 0; i < nr_reg; i++) {
		const RegFileEntry *r = (const RegFileEntry *)reg[i];

		for (k = 0; k < r->n_locks; k++)
			if (conv_lock(&w, r, r->locks[k], v, ex->nr_procs))
				goto drop;
	}
	ret = exp_img_close(ex, &w);
	goto out;
drop:
	free(w.buf);
out:
	free_fds(v, ex->nr_procs);
	return ret;
}
