/*
 * Restore: open every file the task needs, in the parent, before the fork.
 *
 * A file that is gone, replaced (dev/ino) or, for mapped files, changed
 * (size/mtime) fails the restore here, with nothing created yet. The task
 * inherits the descriptors and moves them to their final numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "restore.h"

/*
 * One descriptor per object some fd names, in fd order, so the task can
 * put most of them in place without moving any (see restore_fds).
 */
static int open_objects(const struct rst_image *ri, const struct cr_options *o, struct rst_files *f)
{
	size_t i;

	for (i = 0; i < ri->nr_fds; i++) {
		const FdEntry *fe = ri->fds[i];
		const struct fd_obj *obj = fd_rst_find(&ri->fdr, fe->id);
		size_t k = (size_t)(obj - ri->fdr.obj);	/* exists: checked on reading */

		if (f->obj_fd[k] >= 0)
			continue;	/* one open file description shared by several fds */
		f->obj_fd[k] = fd_ops(fe->kind)->open((struct fd_rst *)&ri->fdr, obj, o);
		if (f->obj_fd[k] < 0)
			return -1;
	}
	return 0;
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

int rst_files_open(const struct rst_image *ri, const struct cr_options *o, struct rst_files *f)
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
	if (lift_nofile(ri->fdr.nr_obj + ri->mm->n_vmas) || open_objects(ri, o, f))
		return -1;

	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		const RegFileEntry *rf;
		int acc = O_RDONLY;

		if (v->kind != VMA_KIND__VMA_FILE_PRIVATE && v->kind != VMA_KIND__VMA_FILE_SHARED)
			continue;
		rf = rst_reg_file(ri, v->file_id);
		if (v->kind == VMA_KIND__VMA_FILE_SHARED && (v->prot & PROT_WRITE))
			acc = O_RDWR;
		f->vma_fd[i] = rst_reg_open(rf, acc, v->kind == VMA_KIND__VMA_FILE_PRIVATE);
		if (f->vma_fd[i] < 0)
			return -1;
	}
	if (ri->mm->has_exe_file_id) {
		f->exe_fd = rst_reg_open(rst_reg_file(ri, ri->mm->exe_file_id), O_RDONLY, true);
		if (f->exe_fd < 0)
			return -1;
	}
	if (ri->core->has_cwd_id) {
		f->cwd_fd = rst_reg_open(rst_reg_file(ri, ri->core->cwd_id), O_RDONLY | O_DIRECTORY, false);
		if (f->cwd_fd < 0)
			return -1;
	}
	if (ri->core->has_root_id) {
		const RegFileEntry *rf = rst_reg_file(ri, ri->core->root_id);

		if (strcmp(rf->path, "/")) {
			pr_err("root %s: restoring a task into a different root is not supported yet",
			       rf->path);
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
	free(f->obj_fd);
	free(f->vma_fd);
	memset(f, 0, sizeof(*f));
	f->exe_fd = f->cwd_fd = f->root_fd = -1;
}
