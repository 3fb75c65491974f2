/*
 * Restore: open every object and file the task needs, in the task, before
 * it stages its memory and forks its children.
 *
 * A file that is gone, replaced (dev/ino) or, for mapped files, changed
 * (size/mtime) fails the restore here. An object the parent has open (the
 * dump gave both the same id: one open file description, pipe end...) is
 * not opened again: the task has the parent's descriptor from the fork and
 * so shares it as the dumped pair did (the dump refuses sharing that the
 * forks cannot hand down). The task moves the descriptors to their final
 * numbers (restore-fds.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "restore.h"
#include "restore-task.h"
#include "vma.h"

/*
 * One descriptor per object some fd names, in fd order, so the task can
 * put most of them in place without moving any (see rst_task_fds).
 */
static int open_one(const struct rst_image *ri, const struct cr_options *o, struct rst_files *f,
		    size_t k, int kind)
{
	const struct fd_obj *obj = &ri->fdr.obj[k];

	f->obj_fd[k] = fd_ops((FdKind)kind)->open((struct fd_rst *)&ri->fdr, obj, o);
	return f->obj_fd[k] < 0 ? -1 : 0;
}

static int open_objects(const struct rst_image *ri, const struct cr_options *o, struct rst_files *f,
			const struct rst_files *parent, const struct rst_opener *opener, size_t self)
{
	struct fd_rst *r = (struct fd_rst *)&ri->fdr;
	size_t i, k;
	int ret = -1;

	for (k = 0; parent && parent->obj_fd && k < ri->fdr.nr_obj; k++)
		f->obj_fd[k] = parent->obj_fd[k];	/* inherited with the fork */
	/* descriptors in flight are opened with the socket whose queue holds them */
	r->obj_fd = f->obj_fd;
	r->opt = o;

	for (i = 0; i < ri->nr_fds; i++) {
		const FdEntry *fe = ri->fds[i];
		const struct fd_obj *obj = fd_rst_find(&ri->fdr, fe->id);
		size_t k = (size_t)(obj - ri->fdr.obj);	/* exists: checked on reading */

		if (f->obj_fd[k] >= 0)
			continue;	/* shared by several fds, or inherited */
		if (opener && opener[k].proc != self) {
			pr_err("fd %u: object %u was not handed down by process #%zu", fe->fd,
			       obj->id, opener[k].proc);
			goto out;
		}
		if (open_one(ri, o, f, k, fe->kind))
			goto out;
	}
	/* what this process opens for its descendants only */
	for (k = 0; opener && k < ri->fdr.nr_obj; k++)
		if (opener[k].proc == self && f->obj_fd[k] < 0 && open_one(ri, o, f, k, opener[k].kind))
			goto out;
	ret = 0;
out:
	r->obj_fd = NULL;
	return ret;
}

/*
 * criu holds one descriptor per object until the fork: lift its soft
 * RLIMIT_NOFILE to the hard one when they may not fit (the task sets its
 * own limits later).
 */
static int lift_nofile(size_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need + 256)
		return 0;
	if (rl.rlim_max < need + 256) {
		pr_err("%zu objects to open: RLIMIT_NOFILE's hard limit %llu is too low", need,
		       (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		pr_perror("setrlimit RLIMIT_NOFILE");
		return -1;
	}
	return 0;
}

/*
 * A file mapping may be made executable (VmFlags "me") unless its file is
 * on a noexec mount: the mount now must say the same as at dump.
 */
static int check_may_exec(const VmaEntry *v, int fd, const char *path)
{
	struct statvfs sv;
	bool may_exec;

	if (!v->has_max_prot)
		return 0;
	if (fstatvfs(fd, &sv)) {
		pr_perror("statvfs of %s", path);
		return -1;
	}
	may_exec = !(sv.f_flag & ST_NOEXEC);
	if (may_exec != !!(v->max_prot & PROT_EXEC)) {
		pr_err("mapping of %s at %#llx: its mount %s; a changed maximum protection is not supported yet",
		       path, (unsigned long long)v->start,
		       may_exec ? "allows exec now, was noexec at dump" : "is noexec now, was not at dump");
		return -1;
	}
	return 0;
}

/* A packet ring is mapped from the socket itself: one of this process's descriptors. */
static int ring_fd(const struct rst_image *ri, struct rst_files *f, size_t i)
{
	const struct fd_obj *obj = fd_rst_find(&ri->fdr, ri->mm->vmas[i]->file_id);
	size_t k = (size_t)(obj - ri->fdr.obj);	/* exists: rst_mem_check() */

	if (f->obj_fd[k] < 0) {
		pr_err("mm-%d.img: vma %zu maps packet socket %u, which none of the process's "
		       "descriptors holds", ri->pid, i, obj->id);
		return -1;
	}
	f->vma_fd[i] = fcntl(f->obj_fd[k], F_DUPFD_CLOEXEC, 0);
	if (f->vma_fd[i] < 0) {
		pr_perror("dup of packet socket %u", obj->id);
		return -1;
	}
	return 0;
}

int rst_files_open(const struct rst_image *ri, const struct cr_options *o, struct rst_files *f,
		   const struct rst_files *parent, const struct rst_opener *opener, size_t self)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	f->exe_fd = f->cwd_fd = f->root_fd = -1;
	f->obj_fd = malloc((ri->fdr.nr_obj + 1) * sizeof(int));
	f->vma_fd = malloc((ri->mm->n_vmas + 1) * sizeof(int));
	if (!f->obj_fd || !f->vma_fd) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < ri->fdr.nr_obj; i++)
		f->obj_fd[i] = -1;
	for (i = 0; i < ri->mm->n_vmas; i++)
		f->vma_fd[i] = -1;
	if (lift_nofile(ri->fdr.nr_obj + ri->mm->n_vmas) || open_objects(ri, o, f, parent, opener, self))
		return -1;

	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		const RegFileEntry *rf;
		int acc = O_RDONLY;

		if (v->kind == VMA_KIND__VMA_PACKET_RING) {
			if (ring_fd(ri, f, i))
				return -1;
			continue;
		}
		if (v->kind != VMA_KIND__VMA_FILE_PRIVATE && v->kind != VMA_KIND__VMA_FILE_SHARED)
			continue;
		rf = rst_reg_file(ri, v->file_id);
		if (v->kind == VMA_KIND__VMA_FILE_SHARED && (vma_max_prot(v) & PROT_WRITE))
			acc = O_RDWR;
		f->vma_fd[i] = rst_reg_open(&ri->fdr, rf, acc, v->kind == VMA_KIND__VMA_FILE_PRIVATE);
		if (f->vma_fd[i] < 0 || check_may_exec(v, f->vma_fd[i], rf->path))
			return -1;
	}
	if (ri->mm->has_exe_file_id) {
		f->exe_fd = rst_reg_open(&ri->fdr, rst_reg_file(ri, ri->mm->exe_file_id), O_RDONLY, true);
		if (f->exe_fd < 0)
			return -1;
	}
	if (ri->core->has_cwd_id) {
		f->cwd_fd = rst_reg_open(&ri->fdr, rst_reg_file(ri, ri->core->cwd_id), O_RDONLY | O_DIRECTORY, false);
		if (f->cwd_fd < 0)
			return -1;
	}
	if (ri->core->has_root_id) {
		const RegFileEntry *rf = rst_reg_file(ri, ri->core->root_id);

		/* another root (chroot): entered by restore-core.c, enter_root() */
		if (strcmp(rf->path, "/")) {
			f->root_fd = rst_reg_open(&ri->fdr, rf, O_RDONLY | O_DIRECTORY, false);
			if (f->root_fd < 0)
				return -1;
		}
	}
	return 0;
}

void rst_files_close(const struct rst_image *ri, struct rst_files *f)
{
	size_t i;

	if (f->obj_fd)
		for (i = 0; i < ri->fdr.nr_obj; i++)
			if (f->obj_fd[i] >= 0)
				close(f->obj_fd[i]);
	if (f->vma_fd)
		for (i = 0; ri->mm && i < ri->mm->n_vmas; i++)
			if (f->vma_fd[i] >= 0)
				close(f->vma_fd[i]);
	if (f->exe_fd >= 0)
		close(f->exe_fd);
	if (f->cwd_fd >= 0)
		close(f->cwd_fd);
	if (f->root_fd >= 0)
		close(f->root_fd);
	free(f->obj_fd);
	free(f->vma_fd);
	memset(f, 0, sizeof(*f));
	f->exe_fd = f->cwd_fd = f->root_fd = -1;
}

/* Open the files of the children sharing our table, while ours are opened. */
void rst_open_sharer_files(struct rst_tree *tr, size_t idx, const struct cr_options *o)
{
	size_t k;

	for (k = idx + 1; k < tr->nr; k++) {
		struct rst_image *ri = &tr->ri[k];

		if (!tr->sharer[k] || tr->ps[k]->ppid != tr->ps[idx]->pid)
			continue;
		if (rst_files_open(ri, o, &tr->sharer_files[k], NULL, tr->opener, k) ||
		    rst_shmem_vma_fds(&tr->shm, ri->mm, tr->sharer_files[k].vma_fd))
			rst_die("cannot open the files of %d (see the log)", ri->pid);
	}
}
