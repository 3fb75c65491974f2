/*
 * criu restore, in the new task: the steps rst_task_main() (restore-task.c)
 * runs between the fork and the jump into the restorer blob. One file per
 * object, named as on the dump side; each owns what the task does with that
 * object and what it hands to the restorer (struct restorer_args):
 *
 *   restore-task.c      the order of the steps, the status pipe, the
 *                       restorer blob, the restorer's exit and the jump
 *   restore-children.c  session and group, the children (helpers for exited
 *                       leaders and sessions, zombies), the table sharers
 *   restore-mem.c       the staging reservation, private memory staged and
 *                       filled, vdso/vvar moves; vma and mm arguments
 *   restore-core.c      process state (name, rlimits, cwd, root, timens...);
 *                       signal handlers, timers and creds arguments
 *   restore-threads.c   registers and per-thread state, pending signals
 *   restore-sched.c     coredump_filter, autogroup (and the sched checks)
 *   restore-files.c     files of the children sharing our table
 *   restore-fds.c       every fd to its number, helpers kept above them
 *
 * Nothing here logs through criu's log (the task's descriptors are being
 * replaced): rst_die() and rst_warn() write to the status pipe.
 */
#ifndef CRIU_RESTORE_TASK_H
#define CRIU_RESTORE_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "restore.h"
#include "restorer-args.h"

#define RST_PAGE	4096ULL

/* "E<pid>: <message>" on the status pipe, and the task exits. */
__printf(1, 2) __noreturn void rst_die(const char *fmt, ...);
/* "W<pid>: <message>" on the status pipe. */
__printf(1, 2) void rst_warn(const char *fmt, ...);
/* The status pipe: moved above the target fds by rst_task_fds(). */
int rst_status_fd(void);
void rst_set_status_fd(int fd);

/*
 * The reservation of one task (restore-mem.c): the restorer region (blob,
 * arguments, per-thread state, stacks) at its start, then the scratch area
 * for the vdso/vvar moves, then every staged private vma.
 */
struct rst_staging {
	uint64_t start, len;		/* the whole reservation */
	uint64_t region_len;		/* restorer code, args, stacks... at start */
	uint64_t scratch, scratch_len;
	uint64_t args_off, vmas_off, guards_off, threads_off;
	uint64_t per_thread_off, per_thread;	/* xsave image and frame of thread i */
	uint64_t pending_off;		/* struct rst_pending[], see restorer_args */
	uint64_t seccomp_off;		/* rst_seccomp_fill() */
	uint64_t stacks_off;		/* the leader's stack, then the others' */
	uint64_t *tmp;			/* per vma: staged address, 0 if none */
};

/* Descriptors the restorer uses, moved above the target fds together. */
struct rst_helpers {
	int	fd[RST_MAX_CLOSE + 4];
	int	nr;
};

/* restore-aio.c */
void rst_aio_stage(const struct rst_image *ri, const uint64_t *tmp);

/* restore-guard.c */
size_t rst_guard_count(const MmEntry *mm);
void rst_guard_stage(const VmaEntry *v, void *at);
void rst_guard_fill(const MmEntry *mm, struct rst_guard *g, struct restorer_args *a);

/* restore-mem.c */
bool rst_vma_staged(const VmaEntry *v);
int rst_range_cmp(const void *a, const void *b);
const struct proc_vma *rst_self_special(const struct proc_vmas *self, enum proc_vma_kind k);
unsigned char *rst_mem_reserve(const struct rst_tree *tr, const struct rst_image *ri,
			       const struct proc_vmas *self, struct restorer_args *a,
			       struct rst_range *keep, size_t *nr_keep, struct rst_staging *st);
void rst_mem_stage(struct rst_tree *tr, size_t idx, const struct rst_files *f,
		   struct rst_staging *st);
void rst_mem_fill_vmas(const struct rst_image *ri, const struct rst_staging *st,
		       struct rst_files *f, struct restorer_args *a, struct rst_helpers *h);
void rst_mem_fill_args(const struct rst_image *ri, struct restorer_args *a);

/* restore-core.c */
int rst_write_self(const char *name, const char *text);
void rst_core_restore(const struct rst_tree *tr, size_t idx, struct rst_files *f);
void rst_core_fill_args(const struct rst_image *ri, struct restorer_args *a);

/* restore-threads.c */
void rst_threads_fill_args(const struct rst_image *ri, const struct rst_staging *st,
			   struct restorer_args *a, struct rst_thread *threads);
void rst_threads_helpers(const struct rst_image *ri, const struct cr_options *o,
			 struct rst_helpers *h, int *ns_slot, int *sync_slot);

/* restore-sched.c */
void rst_sched_restore(const struct rst_tree *tr, size_t idx, const TaskCoreEntry *c);

/* restore-children.c */
void rst_wait_adopted(pid_t helper);
void rst_start_session(const struct rst_tree *tr, size_t idx, const struct cr_options *o);
void rst_take_ctty(const struct rst_tree *tr, size_t idx, const struct rst_image *ri,
		   const struct rst_files *f);
void rst_take_fg(const struct rst_tree *tr, size_t idx, const struct rst_image *ri,
		 const struct rst_files *f);
void rst_join_group(const struct rst_tree *tr, size_t idx);
__noreturn void rst_become_zombie(const struct rst_image *ri);
/* Forks the children (not the sharers); drops the SIGCHLD of those that ended. */
void rst_fork_children(struct rst_tree *tr, size_t idx, const struct cr_options *o, int go_fd);
void rst_fork_sharers(struct rst_tree *tr, size_t idx, const struct cr_options *o, int go_fd);

/* restore-files.c */
void rst_open_sharer_files(struct rst_tree *tr, size_t idx, const struct cr_options *o);

/* restore-fds.c */
void rst_task_fds(struct rst_tree *tr, size_t idx, struct rst_files *f, struct rst_helpers *h);

#endif /* CRIU_RESTORE_TASK_H */
