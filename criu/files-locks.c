/*
 * File locks (--file-locks): flock(2), POSIX (F_SETLK) and OFD
 * (F_OFD_SETLK) locks and leases (F_SETLEASE), kept in the reg_file_entry
 * of the open file they were taken through (images/files.proto,
 * file_lock_entry).
 *
 * Dump: every descriptor's fdinfo "lock:" lines (the kernel lists there the
 * locks taken through that open file: flock and OFD locks of the open file
 * description, POSIX locks of this process). /proc/locks must show no more
 * POSIX locks of the task than the fdinfo lines did. Without -l a lock is
 * refused, as are leases being broken or of another process, locks on
 * other fd kinds, and POSIX locks on a file the task also maps (the
 * restorer closes its mapping descriptors, which would drop them).
 *
 * Restore: flock and OFD locks belong to the open file description, so
 * criu takes them right after opening it (rst_locks_take); POSIX locks
 * belong to the process, so the task takes them itself once its
 * descriptors are in place (rst_locks_posix, from the kind's post()); so
 * does a lease's owner, as F_SETLEASE makes the caller the file's signal
 * owner (and it fails while the file is open elsewhere). A
 * lock someone else holds by then fails the restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/sysmacros.h>

#define LOG_PREFIX "files: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "files-locks.h"

/* ---- dump ------------------------------------------------------------------ */

static RegFileEntry *entry_by_id(struct dump_files *d, uint32_t id)
{
	size_t i;

	for (i = d->nr; i-- > 0;)	/* a new entry is the last one */
		if (d->e[i]->id == id)
			return d->e[i];
	return NULL;
}

/* Does a file vma of the task map @st's inode? */
static bool task_maps(const struct dump_task *t, const struct stat *st)
{
	size_t i;

	for (i = 0; i < t->mm.n_vmas; i++) {
		const VmaEntry *v = t->mm.vmas[i];
		RegFileEntry *e;

		if (!v->has_file_id)
			continue;
		e = entry_by_id(t->files, v->file_id);
		if (e && e->dev == st->st_dev && e->ino == st->st_ino)
			return true;
	}
	return false;
}

static bool same_lock(const FileLockEntry *a, const FileLockEntry *b)
{
	return a->kind == b->kind && a->write == b->write && a->start == b->start &&
	       a->len == b->len && a->pid == b->pid;
}

static int add_lock(RegFileEntry *e, const struct proc_lock *l)
{
	FileLockEntry *fl, **v;
	size_t i;

	if (l->kind == PROC_LOCK_POSIX && dump_in_pidns()) {
		pr_err("a POSIX lock (held by %d) in a tree with a pid namespace of its own: not supported yet",
		       l->pid);
		return -1;
	}
	fl = malloc(sizeof(*fl));
	if (!fl) {
		pr_err("out of memory");
		return -1;
	}
	file_lock_entry__init(fl);
	fl->kind = l->kind == PROC_LOCK_POSIX ? FILE_LOCK_KIND__LOCK_POSIX :
		   l->kind == PROC_LOCK_OFD ? FILE_LOCK_KIND__LOCK_OFD :
		   l->kind == PROC_LOCK_LEASE ? FILE_LOCK_KIND__LOCK_LEASE : FILE_LOCK_KIND__LOCK_FLOCK;
	fl->write = l->write;
	fl->start = l->kind == PROC_LOCK_LEASE ? 0 : l->start;
	fl->len = l->end == UINT64_MAX || l->kind == PROC_LOCK_LEASE ? 0 : l->end - l->start + 1;
	fl->has_pid = l->kind == PROC_LOCK_POSIX || l->kind == PROC_LOCK_LEASE;
	fl->pid = fl->has_pid ? l->pid : 0;
	for (i = 0; i < e->n_locks; i++)
		if (same_lock(e->locks[i], fl)) {
			free(fl);	/* seen through another fd of the same file */
			return 0;
		}
	v = realloc(e->locks, (e->n_locks + 1) * sizeof(*v));
	if (!v) {
		free(fl);
		pr_err("out of memory");
		return -1;
	}
	e->locks = v;
	e->locks[e->n_locks++] = fl;
	return 0;
}

/*
 * A lease is taken again by its owner in its post() (F_SETLEASE makes the
 * caller the file's signal owner, which the dump keeps): the owner must be
 * this process, still the file's owner, and the lease not being broken.
 */
static int check_lease(const struct dump_task *t, struct fd_probe *p, const struct proc_lock *l)
{
	struct f_owner_ex own = { 0 };
	int fd;

	if (!l->lease_active) {
		pr_err("fd %d (%s): a lease being broken (or breaking one): not supported yet",
		       p->fd, p->link);
		return -1;
	}
	if (l->pid != t->pid) {
		pr_err("fd %d (%s): a lease taken by another process (%d): not supported yet", p->fd,
		       p->link, l->pid);
		return -1;
	}
	fd = fd_probe_local(p);
	if (fd < 0 || fcntl(fd, F_GETOWN_EX, &own)) {
		pr_perror("fd %d (%s): cannot read its signal owner", p->fd, p->link);
		return -1;
	}
	if (own.type != F_OWNER_PID || own.pid != t->pid) {
		pr_err("fd %d (%s): a leased file whose signal owner is not the lease holder "
		       "(type %d, %d): not supported yet", p->fd, p->link, own.type, own.pid);
		return -1;
	}
	return 0;
}

static int check_lock(const struct dump_task *t, struct fd_probe *p, const struct proc_lock *l)
{
	if (l->kind == PROC_LOCK_LEASE)
		return check_lease(t, p, l);
	if (l->kind == PROC_LOCK_OTHER) {
		pr_err("fd %d (%s) holds an unknown kind of lock (a delegation?): not supported yet",
		       p->fd, p->link);
		return -1;
	}
	if (l->kind == PROC_LOCK_POSIX && task_maps(t, &p->st)) {
		pr_err("fd %d: a POSIX lock on %s, which the task also maps: not supported yet",
		       p->fd, p->link);
		return -1;
	}
	return 0;
}

int dump_fd_locks(struct dump_task *t, struct fd_probe *p, FdKind kind, uint32_t id)
{
	struct proc_locks ls;
	RegFileEntry *e;
	size_t i;
	int ret = proc_fdinfo_locks(&p->fi, &ls);

	if (ret)
		return ret < 0 ? -1 : 0;
	ret = -1;
	if (!t->o->file_locks) {
		pr_err("fd %d (%s) holds %zu file lock(s): dump with -l/--file-locks to carry them",
		       p->fd, p->link, ls.nr);
		goto out;
	}
	e = kind == FD_KIND__FD_REG || kind == FD_KIND__FD_DIR ? entry_by_id(t->files, id) : NULL;
	if (!e) {
		pr_err("fd %d (%s): file locks on a %s are not supported yet", p->fd, p->link,
		       fd_kind_str(kind));
		goto out;
	}
	for (i = 0; i < ls.nr; i++)
		if (!ls.l[i].blocked && (check_lock(t, p, &ls.l[i]) || add_lock(e, &ls.l[i])))
			goto out;
	ret = 0;
out:
	proc_locks_free(&ls);
	return ret;
}

/* POSIX locks of @pid in /proc/locks, counted by (dev, ino, range). */
static size_t posix_in_proc(const struct proc_locks *ls, pid_t pid)
{
	size_t i, n = 0;

	for (i = 0; i < ls->nr; i++)
		n += !ls->l[i].blocked && ls->l[i].kind == PROC_LOCK_POSIX && ls->l[i].pid == pid;
	return n;
}

static size_t posix_in_images(const struct dump_files *d, pid_t pid)
{
	size_t i, k, n = 0;

	for (i = 0; i < d->nr; i++)
		for (k = 0; k < d->e[i]->n_locks; k++)
			n += d->e[i]->locks[k]->kind == FILE_LOCK_KIND__LOCK_POSIX &&
			     d->e[i]->locks[k]->pid == pid;
	return n;
}

int dump_check_locks(const struct dump_task *t)
{
	struct proc_locks ls;
	size_t held, seen;

	if (!t->o->file_locks)
		return 0;
	if (proc_read_locks(&ls))
		return -1;
	held = posix_in_proc(&ls, t->pid);
	proc_locks_free(&ls);
	seen = posix_in_images(t->files, t->pid);
	if (held > seen) {
		pr_err("/proc/locks shows %zu POSIX locks of %d, its descriptors only %zu: "
		       "locks not tied to an open file are not supported yet", held, t->pid, seen);
		return -1;
	}
	return 0;
}

/* ---- restore ----------------------------------------------------------------- */

#define RST_MAX_LOCKS	1024	/* per open file */

int rst_locks_check(const RegFileEntry *rf)
{
	size_t i;

	if (rf->n_locks > RST_MAX_LOCKS) {
		pr_err("reg-files.img: %s has %zu locks, more than %d", rf->path, rf->n_locks,
		       RST_MAX_LOCKS);
		return -1;
	}
	for (i = 0; i < rf->n_locks; i++) {
		const FileLockEntry *l = rf->locks[i];
		bool owned = l->kind == FILE_LOCK_KIND__LOCK_POSIX ||
			     l->kind == FILE_LOCK_KIND__LOCK_LEASE;

		if ((l->kind != FILE_LOCK_KIND__LOCK_FLOCK && !owned &&
		     l->kind != FILE_LOCK_KIND__LOCK_OFD) || owned != (l->has_pid && l->pid > 0) ||
		    l->start > INT64_MAX || l->len > INT64_MAX - l->start ||
		    ((l->kind == FILE_LOCK_KIND__LOCK_FLOCK || l->kind == FILE_LOCK_KIND__LOCK_LEASE) &&
		     (l->start || l->len))) {
			pr_err("reg-files.img: %s: lock %zu (kind %d, %llu+%llu, pid %d) is invalid",
			       rf->path, i, l->kind, (unsigned long long)l->start,
			       (unsigned long long)l->len, l->pid);
			return -1;
		}
	}
	return 0;
}

static struct flock to_flock(const FileLockEntry *l)
{
	return (struct flock){
		.l_type = l->write ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET,
		.l_start = (off_t)l->start, .l_len = (off_t)l->len,
	};
}

int rst_locks_take(const RegFileEntry *rf, int fd)
{
	size_t i;

	for (i = 0; i < rf->n_locks; i++) {
		const FileLockEntry *l = rf->locks[i];
		struct flock fl = to_flock(l);
		int r;

		if (l->kind == FILE_LOCK_KIND__LOCK_FLOCK)
			r = flock(fd, (l->write ? LOCK_EX : LOCK_SH) | LOCK_NB);
		else if (l->kind == FILE_LOCK_KIND__LOCK_OFD)
			r = fcntl(fd, F_OFD_SETLK, &fl);
		else
			continue;	/* POSIX, lease: the task's own, in rst_locks_posix */
		if (r) {
			pr_perror("%s: cannot take its %s lock again%s", rf->path,
				  l->kind == FILE_LOCK_KIND__LOCK_OFD ? "OFD" : "flock",
				  errno == EAGAIN || errno == EWOULDBLOCK ?
				  " (another process holds a conflicting one)" : "");
			return -1;
		}
	}
	return 0;
}

int rst_locks_posix(const RegFileEntry *rf, int fd, char *why, size_t len)
{
	pid_t me = getpid();
	size_t i;

	for (i = 0; i < rf->n_locks; i++) {
		const FileLockEntry *l = rf->locks[i];
		struct flock fl = to_flock(l);

		if ((l->kind != FILE_LOCK_KIND__LOCK_POSIX && l->kind != FILE_LOCK_KIND__LOCK_LEASE) ||
		    l->pid != me)
			continue;
		if (l->kind == FILE_LOCK_KIND__LOCK_LEASE) {
			/* makes this process the file's signal owner, as it was */
			if (fcntl(fd, F_SETLEASE, l->write ? F_WRLCK : F_RDLCK)) {
				snprintf(why, len, "%s: cannot take its %s lease again: %s%s", rf->path,
					 l->write ? "write" : "read", strerror(errno),
					 errno == EAGAIN ? " (the file is open elsewhere)" : "");
				return -1;
			}
			continue;
		}
		if (fcntl(fd, F_SETLK, &fl)) {
			snprintf(why, len, "%s: cannot take its POSIX lock (%llu+%llu) again: %s%s",
				 rf->path, (unsigned long long)l->start, (unsigned long long)l->len,
				 strerror(errno), errno == EAGAIN || errno == EACCES ?
				 " (another process holds a conflicting one)" : "");
			return -1;
		}
	}
	return 0;
}
