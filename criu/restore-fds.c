/*
 * Restore, in the task: put every descriptor at its number, then run the
 * kinds' post() steps (criu/include/files.h).
 *
 * criu opened one descriptor per object, in fd order, before the fork.
 * Each fd entry dup3()s its object's descriptor into its number; an object
 * whose descriptor sits on a number still to be filled is first moved above
 * every target number, and an object's descriptor is closed once its last
 * fd is in place. Opened in fd order, most objects land right above their
 * targets, so few moves are needed and no extra descriptor per object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "restore.h"
#include "restore-task.h"

struct install {
	const struct rst_image	*ri;
	struct rst_files	*f;
	int			floor;		/* above every target number */
	int			hi;		/* above every target and object fd */
	int			*occ;		/* [hi]: object index at that number, -1 */
	unsigned int		*left;		/* per object: fds still to install */
	char			*why;
	size_t			len;
};

static __attribute__((format(printf, 2, 3))) int fail(struct install *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->why, in->len, fmt, ap);
	va_end(ap);
	return -1;
}

static int move_up(struct install *in, int fd, int *out)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, in->hi);

	if (nfd < 0)
		return fail(in, "cannot move descriptor %d above %d: %s", fd, in->hi, strerror(errno));
	close(fd);
	*out = nfd;
	return 0;
}

static int plan(struct install *in, int *keep, int nr_keep)
{
	const struct rst_image *ri = in->ri;
	size_t k;
	int i;

	in->floor = 3;
	for (k = 0; k < ri->nr_fds; k++)
		if ((int)ri->fds[k]->fd >= in->floor)
			in->floor = (int)ri->fds[k]->fd + 1;
	in->hi = in->floor;
	for (k = 0; k < ri->fdr.nr_obj; k++)
		if (in->f->obj_fd[k] >= in->hi)
			in->hi = in->f->obj_fd[k] + 1;
	for (i = 0; i < nr_keep; i++)
		if (keep[i] >= 0 && move_up(in, keep[i], &keep[i]))
			return -1;
	in->occ = malloc((size_t)in->hi * sizeof(*in->occ));
	in->left = calloc(ri->fdr.nr_obj + 1, sizeof(*in->left));
	if (!in->occ || !in->left)
		return fail(in, "out of memory for %d descriptors", in->hi);
	for (i = 0; i < in->hi; i++)
		in->occ[i] = -1;
	for (k = 0; k < ri->fdr.nr_obj; k++) {
		in->left[k] = ri->fdr.obj[k].users;
		if (in->f->obj_fd[k] >= 0)
			in->occ[in->f->obj_fd[k]] = (int)k;
	}
	return 0;
}

static int install_one(struct install *in, const FdEntry *fe)
{
	const struct fd_obj *o = fd_rst_find(&in->ri->fdr, fe->id);
	size_t k = (size_t)(o - in->ri->fdr.obj);
	int *src = &in->f->obj_fd[k], t = (int)fe->fd, p = in->occ[t];

	if (*src == t) {
		/* already there: stays as the source of any other fd of the object */
		in->occ[t] = -1;
		if (fcntl(t, F_SETFD, fe->cloexec ? FD_CLOEXEC : 0))
			return fail(in, "fd %d: F_SETFD: %s", t, strerror(errno));
		in->left[k]--;
		return 0;
	}
	if (p >= 0) {
		if (move_up(in, t, &in->f->obj_fd[p]))
			return -1;
		in->occ[t] = -1;
	}
	if (dup3(*src, t, fe->cloexec ? O_CLOEXEC : 0) < 0)
		return fail(in, "cannot install fd %d: %s", t, strerror(errno));
	if (--in->left[k] == 0 && (*src >= in->floor || in->occ[*src] == (int)k)) {
		/* kept only if it is one of the object's own numbers (occ cleared) */
		if (*src < in->hi)
			in->occ[*src] = -1;
		close(*src);
		*src = -1;
	}
	return 0;
}

/* Close what is neither a target nor kept. */
static void close_rest(struct install *in, const int *keep, int nr_keep)
{
	const struct rst_image *ri = in->ri;
	char *target = calloc((size_t)in->floor, 1);
	int i, j, top = -1;
	size_t k;

	if (target)
		for (k = 0; k < ri->nr_fds; k++)
			target[ri->fds[k]->fd] = 1;
	for (i = 0; target && i < in->floor; i++)
		if (!target[i])
			close(i);
	free(target);
	for (i = 0; i < nr_keep; i++)
		top = top > keep[i] ? top : keep[i];
	for (i = in->floor; i <= top; i++) {
		bool kept = false;

		for (j = 0; j < nr_keep && !kept; j++)
			kept = keep[j] == i;
		if (!kept)
			close(i);
	}
	syscall(SYS_close_range, (unsigned int)(top < in->floor ? in->floor : top + 1), ~0U, 0);
}

/* Set @fe's signal owner; a process of another branch may not be forked yet (10 s). */
static int set_owner(struct install *in, const FdEntry *fe)
{
	struct f_owner_ex own = { .type = (int)fe->fown->type, .pid = (pid_t)fe->fown->pid };
	int tries;

	for (tries = 0; fcntl((int)fe->fd, F_SETOWN_EX, &own); tries++) {
		if (errno != ESRCH || tries == 10000)
			return fail(in, "fd %u: F_SETOWN_EX %u of %d: %s", fe->fd, fe->fown->type,
				    own.pid, strerror(errno));
		usleep(1000);
	}
	return 0;
}

static int set_fown(struct install *in, const FdEntry *fe)
{
	const FownEntry *f = fe->fown;
	int fd = (int)fe->fd, fl;

	if (f->pid && set_owner(in, fe))
		return -1;
	if (f->signum && fcntl(fd, F_SETSIG, (int)f->signum))
		return fail(in, "fd %d: F_SETSIG %u: %s", fd, f->signum, strerror(errno));
	if (f->async && ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_ASYNC)))
		return fail(in, "fd %d: O_ASYNC: %s", fd, strerror(errno));
	return 0;
}

/*
 * Signal-driven I/O of every fd (fown_entry). With the owner the kernel
 * records the caller's real and effective uid, which decide later whether
 * the signal may be sent: the task takes its dumped ones meanwhile (the
 * saved uid stays 0, so it can come back; the restorer sets its creds).
 */
static int restore_fowns(struct install *in)
{
	const struct rst_image *ri = in->ri;
	const CredsEntry *cr = ri->core->creds;
	bool as_task = cr && cr->n_uid >= 2 && (cr->uid[0] || cr->uid[1]);
	int ret = 0;
	size_t k;

	for (k = 0; k < ri->nr_fds && !ri->fds[k]->fown; k++)
		;
	if (k == ri->nr_fds)
		return 0;
	if (as_task && syscall(SYS_setresuid, cr->uid[0], cr->uid[1], 0))
		return fail(in, "setresuid %u %u: %s", cr->uid[0], cr->uid[1], strerror(errno));
	for (; k < ri->nr_fds && !ret; k++)
		if (ri->fds[k]->fown)
			ret = set_fown(in, ri->fds[k]);
	if (as_task && syscall(SYS_setresuid, 0, 0, 0) && !ret)
		ret = fail(in, "setresuid back to 0: %s", strerror(errno));
	return ret;
}

/* The write-life hint of each description's inode (set through its first fd). */
static int restore_write_hints(struct install *in)
{
	const struct rst_image *ri = in->ri;
	size_t k;

	for (k = 0; k < ri->nr_fds; k++) {
		const FdEntry *fe = ri->fds[k];
		uint64_t hint = fe->write_hint;

		if (fe->has_write_hint && fcntl((int)fe->fd, F_SET_RW_HINT, &hint))
			return fail(in, "fd %u: F_SET_RW_HINT %llu: %s", fe->fd,
				    (unsigned long long)hint, strerror(errno));
	}
	return 0;
}

static int run_post(struct install *in)
{
	const struct rst_image *ri = in->ri;
	size_t k;

	for (k = 0; k < 2 * ri->nr_fds; k++) {
		const FdEntry *fe = ri->fds[k % ri->nr_fds];
		const struct fd_ops *ops = fd_ops(fe->kind);
		char why[256] = "";

		/* first the kinds that replace their descriptor, then the others */
		if (!ops->post || ops->post_first != (k < ri->nr_fds))
			continue;
		if (ops->post(&ri->fdr, fe, fd_rst_find(&ri->fdr, fe->id), why, sizeof(why)))
			return fail(in, "fd %u (%s): %s", fe->fd, ops->name, why);
	}
	return 0;
}

/* Moves go above every number in use, maybe past the task's RLIMIT_NOFILE. */
static bool lift_nofile(struct rlimit *nofile)
{
	struct rlimit more;

	if (getrlimit(RLIMIT_NOFILE, nofile) || nofile->rlim_cur >= nofile->rlim_max)
		return false;
	more = (struct rlimit){ nofile->rlim_max, nofile->rlim_max };
	return !setrlimit(RLIMIT_NOFILE, &more);
}

static int drop_nofile(struct install *in, const struct rlimit *nofile, int ret)
{
	if (setrlimit(RLIMIT_NOFILE, nofile) && !ret)
		ret = fail(in, "RLIMIT_NOFILE: cannot put the soft limit back to %llu: %s",
			   (unsigned long long)nofile->rlim_cur, strerror(errno));
	return ret;
}

int rst_fds_keep_above(const struct rst_image *owner, int *keep, int nr_keep, char *why,
		       size_t len)
{
	struct install in = { .ri = owner, .why = why, .len = len, .hi = 3 };
	struct rlimit nofile;
	bool lifted = lift_nofile(&nofile);
	int i, ret = 0;
	size_t k;

	for (k = 0; k < owner->nr_fds; k++)
		if ((int)owner->fds[k]->fd >= in.hi)
			in.hi = (int)owner->fds[k]->fd + 1;
	for (i = 0; i < nr_keep && !ret; i++)
		if (keep[i] >= 0 && keep[i] < in.hi)
			ret = move_up(&in, keep[i], &keep[i]);
	return lifted ? drop_nofile(&in, &nofile, ret) : ret;
}

int rst_fds_install(const struct rst_image *ri, struct rst_files *f, int *keep, int nr_keep,
		    char *why, size_t len)
{
	struct install in = { .ri = ri, .f = f, .why = why, .len = len };
	struct rlimit nofile;
	bool lifted = lift_nofile(&nofile);
	size_t k;
	int ret = -1;

	if (plan(&in, keep, nr_keep))
		goto out;
	for (k = 0; k < ri->nr_fds; k++)
		if (install_one(&in, ri->fds[k]))
			goto out;
	close_rest(&in, keep, nr_keep);
	for (k = 0; k < ri->fdr.nr_obj; k++)
		f->obj_fd[k] = -1;	/* closed, or now a target */
	ret = restore_write_hints(&in) || restore_fowns(&in) || run_post(&in) ? -1 : 0;
out:
	if (lifted)
		ret = drop_nofile(&in, &nofile, ret);
	free(in.occ);
	free(in.left);
	return ret;
}

/* ---- in the task ----------------------------------------------------------- */

/*
 * The descriptors a process sharing our table needs, as pointers: its
 * files @f (exe, cwd, root, file vmas) and its pages image (inherited from
 * criu like ours). At most n_vmas + 4.
 */
static size_t sharer_fds(struct rst_image *ri, struct rst_files *f, int **out)
{
	size_t n = 0, i;

	if (ri->pages_fd >= 0)
		out[n++] = &ri->pages_fd;
	for (i = 0; i < ri->mm->n_vmas; i++)
		if (f->vma_fd[i] >= 0)
			out[n++] = &f->vma_fd[i];
	if (f->exe_fd >= 0)
		out[n++] = &f->exe_fd;
	if (f->cwd_fd >= 0)
		out[n++] = &f->cwd_fd;
	if (f->root_fd >= 0)
		out[n++] = &f->root_fd;
	return n;
}

/*
 * In the task: put every target descriptor at its number and run the
 * kinds' post steps. Helpers (the status pipe, the exe, shared file vmas, our
 * cwd and root until we enter them, the files opened for the children
 * sharing our table) end up above every target number; the restorer closes
 * ours. Anything else inherited from criu is closed.
 */
void rst_task_fds(struct rst_tree *tr, size_t idx, struct rst_files *f, struct rst_helpers *h)
{
	struct rst_image *ri = &tr->ri[idx];
	size_t n = (size_t)h->nr + 3, k, i, j, mine;
	int **theirs, *keep, ret;
	char why[512];

	for (k = idx + 1; k < tr->nr; k++)
		if (tr->sharer[k] && tr->ps[k]->ppid == (uint32_t)ri->pid)
			n += tr->ri[k].mm->n_vmas + 4;
	keep = malloc(n * sizeof(*keep));
	theirs = malloc(n * sizeof(*theirs));
	if (!keep || !theirs)
		rst_die("out of memory");
	keep[0] = rst_status_fd();
	for (i = 0; i < (size_t)h->nr; i++)
		keep[i + 1] = h->fd[i];
	n = (size_t)h->nr + 1;
	j = 0;
	if (f->cwd_fd >= 0)
		theirs[j++] = &f->cwd_fd;
	if (f->root_fd >= 0)
		theirs[j++] = &f->root_fd;
	mine = j;
	for (k = idx + 1; k < tr->nr; k++)
		if (tr->sharer[k] && tr->ps[k]->ppid == (uint32_t)ri->pid)
			j += sharer_fds(&tr->ri[k], &tr->sharer_files[k], theirs + j);
	for (i = 0; i < j; i++)
		keep[n + i] = *theirs[i];
	if (tr->sharer[idx])
		ret = rst_fds_keep_above(&tr->ri[rst_tree_find(tr, (pid_t)ri->pstree->ppid)], keep,
					 (int)(n + mine), why, sizeof(why));
	else
		ret = rst_fds_install(ri, f, keep, (int)(n + j), why, sizeof(why));
	rst_set_status_fd(keep[0]);
	if (ret)
		rst_die("%s", why);
	for (i = 0; i < (size_t)h->nr; i++)
		h->fd[i] = keep[i + 1];
	for (i = 0; i < j; i++)
		*theirs[i] = keep[n + i];
	free(keep);
	free(theirs);
}
