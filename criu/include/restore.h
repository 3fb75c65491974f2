/*
 * criu restore: internal interfaces between cmd-restore.c and restore-*.c.
 *
 *   restore-images.c  reads every image of one process and runs each
 *                     object's checks (restore-core.c, -threads.c, -mem.c)
 *                     (nothing is created before this succeeds)
 *   restore-fork.c    creates the task with the dumped pid
 *   restore-task.c    runs in the new task: the order of its steps, then
 *                     the jump into the restorer blob; each object's steps
 *                     are in restore-<object>.c (restore-task.h)
 *
 * See Documentation/restore.md.
 */
#ifndef CRIU_RESTORE_H
#define CRIU_RESTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "proc_parse.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "files.h"
#include "files.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "inventory.pb-c.h"
#include "shmem.pb-c.h"
#include "utsipc.h"

#define RST_TASK_SIZE		0x7ffffffff000ULL	/* 47-bit user space */
#define RST_MAX_VMAS		65536
#define RST_MAX_FDS		65536
#define RST_MAX_REG_FILES	65536
#define RST_MAX_PAGE_RUNS	(1u << 20)
#define RST_MAX_FPU		(64 * 1024)	/* bytes of one thread's FPU image */
#define RST_MAX_PENDING_SIGS	256	/* per queue: the process's and each thread's */
#define RST_MAX_GROUPS_IMG	256	/* = RST_MAX_GROUPS */
#define RST_MAX_THREADS_IMG	8192	/* the restorer region grows with them */
#define RST_MAX_TIMERS_IMG	256	/* = RST_MAX_TIMERS */
#define RST_MAX_TASKS		512	/* processes in pstree.img (one pages fd each) */
#define RST_MAX_SHMEM		4096	/* shared memory objects per dump */
#define RST_MAX_SHMEM_SIZE	(1ULL << 40)	/* bytes per object */

/* One run of dumped pages, and where it sits in pages-PID.img. */
struct rst_pages {
	uint64_t	vaddr;
	uint64_t	nr_pages;
	uint64_t	file_off;
	unsigned int	vma;		/* index into mm->vmas */
};

struct cr_img;

struct rst_image {
	int		dirfd;		/* images directory (O_PATH|O_DIRECTORY) */
	InventoryEntry	*inv;
	PstreeEntry	*pstree;	/* this process's entry (the tree owns it) */
	pid_t		pid;
	bool		zombie;		/* no threads: only core-PID.img */

	TaskCoreEntry	*core;
	ThreadCoreEntry	**threads;	/* leader first */
	size_t		nr_threads;
	ThreadCoreEntry	*thread;	/* the leader: threads[0] */
	MmEntry		*mm;
	FdEntry		**fds;
	size_t		nr_fds;
	struct fd_rst	fdr;		/* every object of every fd kind */

	struct rst_pages *runs;
	size_t		nr_runs;
	/*
	 * PE_COW runs: pages shared with the parent process since fork(). A vma
	 * with any is inherited: per vma, the parent's vma index it comes from
	 * (-1: none; set and checked by rst_tree_read()). The child takes over
	 * the parent's staged copy, so those pages are shared again.
	 */
	struct rst_pages *cow;
	size_t		nr_cow;
	int32_t		*inherit;
	/* Per vma, where this process staged it (absolute; set before it forks). */
	uint64_t	*staged;
	uint64_t	pages_total;	/* pages in pages-PID.img */
	int		pages_fd;	/* raw page data, read-only */
	struct cr_img	*pages_img;

	/* What this kernel puts in (and accepts from) a signal frame's FPU state. */
	uint32_t	sig_fpu_size;
	uint64_t	sig_fpu_features;
};

/*
 * Files opened by the parent before the fork (so that a missing or changed
 * file fails the restore before anything exists); the task inherits them.
 */
struct rst_files {
	int		*obj_fd;	/* per ri->fdr.obj named by an fd, else -1 */
	int		*vma_fd;	/* per mm vma with a file, else -1 */
	int		exe_fd;		/* -1: none */
	int		cwd_fd;
	int		root_fd;
};

/*
 * Shared memory objects of the whole dump (restore-shmem.c). One table per
 * restore, owned by the criu process that forks the tree:
 *   1. rst_shmem_read(dirfd, &s)      - shmem.img and every object's runs,
 *                                       validated; absent shmem.img: no objects
 *   2. rst_shmem_check_mm(&s, mm, pid) - for every process: its shared vmas
 *                                       name known objects and fit inside them
 *   3. rst_shmem_create(&s)           - once, before the first fork: creates
 *                                       and fills every object; s.fd[i] is
 *                                       object s.e[i], CLOEXEC, inherited by
 *                                       every task forked afterwards
 *   4. rst_shmem_vma_fds(&s, mm, vma_fd) - in (or for) each process: a dup of
 *                                       the object's fd per shared vma, mapped
 *                                       by the restorer like a shared file
 *   5. rst_shmem_free(&s)
 * A write through one process's mapping is seen by every other: they all map
 * the same inode.
 */
struct rst_shmem_runs {
	struct { uint64_t offset, nr_pages; } *v;
	size_t		nr, cap;
};

struct rst_shmems {
	ShmemEntry	**e;
	size_t		nr;
	struct rst_shmem_runs *runs;	/* per object */
	struct cr_img	**pages;	/* per object: shmem-pages-ID.img, open only while filled */
	int		*fd;		/* per object: -1 until created */
	int		dirfd;		/* the images directory */
};

int rst_shmem_read(int dirfd, struct rst_shmems *s);
int rst_shmem_check_mm(const struct rst_shmems *s, const MmEntry *mm, pid_t pid);
int rst_shmem_create(struct rst_shmems *s);
int rst_shmem_vma_fds(const struct rst_shmems *s, const MmEntry *mm, int *vma_fd);
void rst_shmem_free(struct rst_shmems *s);
/* Object @id (and its index into the table), or NULL. */
const ShmemEntry *rst_shmem_find(const struct rst_shmems *s, uint32_t id, size_t *idx);

/* Who opens an fd object in a tree, and as which fd kind (FD_TTY, FD_DIR...). */
struct rst_opener {
	size_t		proc;		/* index in pstree order; SIZE_MAX: nobody */
	int		kind;
};

/* Address ranges [r[i][0], r[i][1]). */
struct rst_range_list {
	uint64_t	(*r)[2];
	size_t		nr;
};

/*
 * The whole dump: pstree.img validated (restore-tree.c), and one rst_image
 * per process in pstree order (parents first, the root at 0).
 */
struct rst_tree {
	int		dirfd;
	InventoryEntry	*inv;
	PstreeEntry	**ps;
	size_t		nr;
	struct rst_image *ri;
	size_t		nr_live;	/* processes that are not zombies */
	/*
	 * Per process: the pid of a helper its parent creates right before it,
	 * to recreate a process group whose leader had exited (0: none).
	 */
	pid_t		*helper;
	/*
	 * Per process: the session (its leader had exited) whose helper forks
	 * it; the helper, forked by the process's parent, calls setsid, forks
	 * every such first member and exits (0: none).
	 */
	pid_t		*sess_helper;
	/* Every pid and tid of the tree, sorted. */
	uint32_t	*ids;
	size_t		nr_ids;
	/* Every live process's target vmas, sorted and merged: staging avoids them. */
	struct rst_range_list targets;
	/*
	 * Per fd object (index into every process's fdr.obj, the same in all):
	 * the process (index) that opens it, the nearest common ancestor of
	 * every process using it or another object of its group; the others
	 * get it through the forks. SIZE_MAX: nobody uses it.
	 */
	struct rst_opener *opener;
	size_t		nr_obj;
	/*
	 * Per process: it shares its parent's descriptor table (files_of):
	 * the parent opens its files for it and forks it with CLONE_FILES
	 * once its own fds are in place; its fds are the parent's.
	 */
	bool		*sharer;
	struct rst_files *sharer_files;	/* per process, filled by the parent */
	/* Shared memory objects, made in criu before the root is forked. */
	struct rst_shmems shm;
	/* criu's own: the parent of the root, and what a shell job gets */
	pid_t		criu_pid, criu_sid, criu_pgid;
	struct proc_audit criu_audit;	/* every process forked inherits it */
	bool		shell_job;
	/* the root is pid 1 of a pid namespace of its own (inventory root_pid_ns) */
	bool		pidns;
	pid_t		root_host;	/* criu's: the root's pid in criu's namespace */
	struct rst_utsipc utsipc;	/* the root's own uts and ipc namespaces */
};

/* restore-utsipc.c */
/* The tree's own uts and ipc namespace images of @dirfd into tr->utsipc: 0 or -1. */
int rst_utsipc_read(int dirfd, struct rst_tree *tr);
/* In the root, just forked with tr->utsipc.flags: set the namespaces up (dies on failure). */
void rst_utsipc_apply(const struct rst_tree *tr);
/*
 * restore-mntns.c: rst_mntns_read() (criu, before the first fork) reads and
 * checks mnts.img, if any; rst_mntns_build() (the root, first thing) makes
 * the namespace; rst_mntns_free() when criu is done.
 */
int rst_mntns_read(int dirfd, const struct cr_options *o);
void rst_mntns_build(void);
void rst_mntns_free(void);

/* restore-pidns.c */
/* Refuse what a pid namespace's init cannot be restored as. */
int rst_pidns_check(const struct rst_tree *tr, const struct cr_options *o);
/* criu forks the root: with the image's pid, or as pid 1 of a new pid namespace. */
pid_t rst_fork_root(const struct rst_tree *tr, const struct cr_options *o);
/* This process is in the restored tree's own pid namespace. */
bool rst_inside_pidns(void);
/* This process's pid in criu's /proc (getpid() unless inside a pid namespace); -1 failed. */
pid_t rst_proc_pid(void);
/* criu's: the pid in its own namespace of the tree's @inner; 0 not found (yet). */
pid_t rst_host_pid(const struct rst_tree *tr, pid_t inner);

/* Read and validate inventory, pstree and every process's images. */
int rst_tree_read(int dirfd, const struct cr_options *o, struct rst_tree *tr);
void rst_tree_free(struct rst_tree *tr);
/* Close criu's copies of the pages images once the root has inherited them. */
void rst_tree_drop_pages(struct rst_tree *tr);
/* Index of @pid in the tree, or -1. */
ssize_t rst_tree_find(const struct rst_tree *tr, pid_t pid);

/*
 * @parent: the parent's files (inherited with the fork, all taken over), or
 * NULL for the root; @opener (NULL: open whatever the task uses): per
 * object, the process that opens it; @self: this process's index.
 */
int rst_files_open(const struct rst_image *ri, const struct cr_options *o, struct rst_files *f,
		   const struct rst_files *parent, const struct rst_opener *opener, size_t self);
void rst_files_close(const struct rst_image *ri, struct rst_files *f);

/*
 * In the task: every fd at its number (criu's @keep fds, e.g. the status
 * pipe, moved above them), the rest closed, then each kind's post().
 * -1 with the reason in @why.
 */
int rst_fds_install(const struct rst_image *ri, struct rst_files *f, int *keep, int nr_keep,
		    char *why, size_t len);
/*
 * In a process sharing the descriptor table of @owner (its parent, whose
 * fds are in place already): only move @keep above every number of
 * @owner's fds. -1 with the reason in @why.
 */
int rst_fds_keep_above(const struct rst_image *owner, int *keep, int nr_keep, char *why,
		       size_t len);

/* Read and validate the images of one process (restore-images.c). */
int rst_images_read(struct rst_image *ri);
void rst_images_free(struct rst_image *ri);
/*
 * Image @kind of @ri opened and its first entry read into *@m, or NULL
 * (logged: "@name-PID.img: @empty" when it has none).
 */
struct cr_img *rst_img_open_first(const struct rst_image *ri, int kind,
				  const char *name, const char *empty, ProtobufCMessage **m);
/* Each object's checks, called by rst_images_read(): 0 or -1 logged. */
int rst_core_check(struct rst_image *ri);			/* restore-core.c */
int rst_core_check_zombie(const struct rst_image *ri);
int rst_threads_check(const struct rst_image *ri);		/* restore-threads.c */
int rst_check_pending(const struct rst_image *ri, const ProtobufCBinaryData *b, size_t n);
int rst_mem_check(struct rst_image *ri);			/* restore-mem.c */
int rst_guard_check(const struct rst_image *ri, size_t i, const VmaEntry *v); /* restore-guard.c */
/* pagemap-PID.img into ri->runs and ri->cow, then pages-PID.img opened. */
int rst_mem_read_pagemap(struct rst_image *ri);
/* reg-files entry @id, or NULL. */
RegFileEntry *rst_reg_file(const struct rst_image *ri, uint32_t id);
/* Check that @path still is the file the dump saw (dev/ino/size/mtime). */
int rst_check_file_identity(const RegFileEntry *rf, int fd, bool content_matters);
/*
 * Open @rf's path with @flags (O_CLOEXEC added) and check its identity, or
 * reopen its ghost (a deleted file, created again once) from @r.
 */
int rst_reg_open(const struct fd_rst *r, const RegFileEntry *rf, int flags, bool content_matters);
/* criu's terminal for a task's terminal @what (--shell-job), else -1 logged. */
int rst_shell_tty_open(const char *what, const struct cr_options *opt);

/*
 * How tasks and threads get their pids: 1 clone3 with set_tid, 0 a write to
 * ns_last_pid, -1 when neither works (logged). o->pid_method
 * (CRIU_PID_METHOD) forces one, else the kernel is probed (kerndat).
 */
int rst_pid_by_clone3(const struct cr_options *o);
/*
 * Create a child with exactly @pid (method: rst_pid_by_clone3); returns 0 in
 * the child, the pid in the parent, -1 on error (logged, pid named).
 */
pid_t rst_fork_pid(const struct cr_options *o, pid_t pid);
/*
 * The same with clone @flags (CLONE_FILES for a process sharing its parent's
 * table), the parent to get @exit_signal (0: none) when the child ends.
 */
pid_t rst_fork_pid_as(const struct cr_options *o, pid_t pid, unsigned long flags,
		      int exit_signal);

/* The root sets its parent death signal only once criu has exited (-d). */
bool rst_root_pdeath_deferred(const struct rst_tree *tr, const struct cr_options *o);

/*
 * Run in the new task (process @idx of the tree): never returns. Failures
 * are written to @status_fd (shared by the tree) as "E<message>\n" and the
 * task exits; success is "R<pid> <region>\n" from the restorer, which then
 * waits for one byte on @go_fd (end of file: criu is gone, the task exits).
 */
void rst_task_main(struct rst_tree *tr, size_t idx, const struct cr_options *o,
		   int status_fd, int go_fd)
	__attribute__((noreturn));

#endif /* CRIU_RESTORE_H */
