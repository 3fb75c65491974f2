/*
 * Restore: open every file the task needs, in the task, before it stages
 * its memory and forks its children.
 *
 * A file that is gone, replaced (dev/ino) or, for mapped files, changed
 * (size/mtime) fails the restore here. An open file the dump found shared
 * with the parent (same reg-files id) is not opened again: the task has
 * the parent's descriptor from the fork, and so shares its description
 * (offset, flags) as the dumped pair did. The task moves the descriptors
 * to their final numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "restore.h"

/* open(2) flags we reproduce; creation flags make no sense on restore. */
#define REOPEN_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | \
			 O_SYNC | O_DSYNC | O_LARGEFILE | O_DIRECTORY | O_PATH)

static int open_checked(const RegFileEntry *rf, int flags, bool content_matters)
{
	int fd = open(rf->path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		pr_perror("cannot open %s", rf->path);
		return -1;
	}
	if (rst_check_file_identity(rf, fd, content_matters)) {
		close(fd);
		return -1;
	}
	return fd;
}

int rst_files_open(const struct rst_image *ri, const struct cr_options *o, struct rst_files *f,
		   const struct rst_files *parent)
{
	size_t i, j;

	memset(f, 0, sizeof(*f));
	f->exe_fd = f->cwd_fd = f->root_fd = f->tty_fd = -1;
	f->reg_fd = malloc((ri->nr_reg + 1) * sizeof(int));
	f->vma_fd = malloc((ri->mm->n_vmas + 1) * sizeof(int));
	if (!f->reg_fd || !f->vma_fd) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < ri->nr_reg; i++)
		f->reg_fd[i] = -1;
	for (i = 0; i < ri->mm->n_vmas; i++)
		f->vma_fd[i] = -1;

	for (i = 0; i < ri->nr_fds; i++) {
		const FdEntry *fe = ri->fds[i];
		const RegFileEntry *rf = NULL;

		if (fe->kind == FD_KIND__FD_TTY) {
			if (!o->shell_job) {
				pr_err("fd %u is a terminal: restore with --shell-job to put the task on criu's terminal",
				       fe->fd);
				return -1;
			}
			if (f->tty_fd < 0) {
				f->tty_fd = isatty(STDIN_FILENO) ?
					fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3) :
					open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
				if (f->tty_fd < 0) {
					pr_perror("--shell-job: criu has no terminal for fd %u", fe->fd);
					return -1;
				}
			}
			continue;
		}
		for (j = 0; j < ri->nr_reg && ri->reg[j]->id != fe->id; j++)
			;
		rf = ri->reg[j];	/* exists: checked when the images were read */
		if (f->reg_fd[j] >= 0)
			continue;	/* one open file description shared by several fds */
		if (parent && parent->reg_fd && parent->reg_fd[j] >= 0 &&
		    (fe->kind == FD_KIND__FD_REG || fe->kind == FD_KIND__FD_DIR)) {
			/* the parent's: inherited with the fork, the description shared */
			f->reg_fd[j] = parent->reg_fd[j];
			continue;
		}
		f->reg_fd[j] = open_checked(rf, (int)(rf->flags & REOPEN_FLAGS), false);
		if (f->reg_fd[j] < 0)
			return -1;
		if (fe->kind == FD_KIND__FD_REG && !(rf->flags & O_PATH) &&
		    lseek(f->reg_fd[j], (off_t)rf->pos, SEEK_SET) != (off_t)rf->pos) {
			pr_perror("cannot seek %s to %llu", rf->path, (unsigned long long)rf->pos);
			return -1;
		}
	}

	for (i = 0; i < ri->mm->n_vmas; i++) {
		const VmaEntry *v = ri->mm->vmas[i];
		const RegFileEntry *rf;
		int acc = O_RDONLY;

		if (v->kind != VMA_KIND__VMA_FILE_PRIVATE && v->kind != VMA_KIND__VMA_FILE_SHARED)
			continue;
		rf = rst_reg_file(ri, v->file_id);
		if (v->kind == VMA_KIND__VMA_FILE_SHARED && (v->prot & PROT_WRITE))
			acc = O_RDWR;
		f->vma_fd[i] = open_checked(rf, acc, v->kind == VMA_KIND__VMA_FILE_PRIVATE);
		if (f->vma_fd[i] < 0)
			return -1;
	}
	if (ri->mm->has_exe_file_id) {
		f->exe_fd = open_checked(rst_reg_file(ri, ri->mm->exe_file_id), O_RDONLY, true);
		if (f->exe_fd < 0)
			return -1;
	}
	if (ri->core->has_cwd_id) {
		f->cwd_fd = open_checked(rst_reg_file(ri, ri->core->cwd_id), O_RDONLY | O_DIRECTORY, false);
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

	if (f->reg_fd)
		for (i = 0; i < ri->nr_reg; i++)
			if (f->reg_fd[i] >= 0)
				close(f->reg_fd[i]);
	if (f->vma_fd)
		for (i = 0; ri->mm && i < ri->mm->n_vmas; i++)
			if (f->vma_fd[i] >= 0)
				close(f->vma_fd[i]);
	if (f->exe_fd >= 0)
		close(f->exe_fd);
	if (f->cwd_fd >= 0)
		close(f->cwd_fd);
	if (f->tty_fd >= 0)
		close(f->tty_fd);
	free(f->reg_fd);
	free(f->vma_fd);
	memset(f, 0, sizeof(*f));
	f->exe_fd = f->cwd_fd = f->root_fd = f->tty_fd = -1;
}
