/*
 * The dump side, shared between cmd-dump.c and the dump-*.c helpers.
 *
 * One struct dump_task holds everything collected about the one process
 * being dumped, in the image structures it will be written as. Collection
 * happens while the task is seized; writing happens after the parasite is
 * cured, and inventory.img is committed last. See Documentation/dump.md.
 */
#ifndef CRIU_DUMP_H
#define CRIU_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "options.h"
#include "proc_parse.h"
#include "pagemap-chain.h"
#include "core.pb-c.h"
#include "arch-image.h"
#include "files.pb-c.h"
#include "mm.pb-c.h"
#include "shmem.pb-c.h"

struct compel_ctl;
struct cr_img;
struct dump_tree;
struct parasite_thread;

#define DUMP_MAX_PHASES		16

struct dump_stats {
	uint64_t freezing_us, frozen_us, memdump_us, memwrite_us;
	uint64_t pages_scanned, pages_skipped, pages_written;
	/* wall time per phase, for the log and --display-stats */
	struct { const char *name; uint64_t us; } phase[DUMP_MAX_PHASES];
	unsigned int nr_phases;
	uint64_t mark;		/* end of the previous phase */
};

/* One descriptor seen so far, to find open file descriptions shared by dup/fork. */
struct dump_fd_seen {
	uint64_t	dev, ino;	/* of the file: only equal ones are kcmp'ed */
	uint64_t	kind, key;	/* fd kind and its share_key(): must be equal too */
	pid_t		pid;
	int		fd;
	uint32_t	id;
};

/*
 * Every object of the dump (criu/include/files.h). The objects, the id
 * counter and the sharing tree belong to the whole dump: one for the
 * process tree (dump_tree.files), so that an open file description that
 * several processes hold is one object. reg-files.img entries (e) are
 * shared by fds, vmas, cwd/root and exe. A process's descriptors are its
 * own (dump_task.fds).
 */
struct dump_files {
	RegFileEntry	**e;
	size_t		nr, cap;
	uint32_t	next_id;
	void		*seen;		/* tsearch tree of struct dump_fd_seen */
	void		*priv[32];	/* FD_KIND_MAX: each kind's objects */
	char		**made_links;	/* --link-remap names this dump made */
	size_t		nr_made_links;
	void		*inflight;	/* descriptors in flight (dump-files.c) */
};

/* One thread's core entry and the storage its fields point into. */
struct dump_thread {
	ThreadCoreEntry		core;
	arch_regs_entry_t	regs;
	SigaltstackEntry	altstack;
	RseqEntry		rseq;
	uint8_t			*fpu;		/* FPU image the core entry points into */
	/* sched-state.h: storage of cpus_allowed and mempolicy_nodes */
	uint64_t		cpus[16];
	uint64_t		nodes[16];
	/* keyrings the parasite saw: serial, or -errno; key_child: see parasite-proto.h */
	int32_t			key_thread, key_process, key_session, key_user_session, key_child;
};

/*
 * Shared memory objects of the whole dump, one per shmem inode, whatever
 * the number of vmas and processes mapping it. The dump command owns one
 * table and points every task's @shm at it (dump-shmem.c).
 */
struct dump_shmem {
	dev_t		dev;
	ino_t		ino;
	int		fd;		/* /proc/PID/map_files/... of the first vma seen */
	ShmemEntry	e;		/* e.id = index + 1 */
};

struct dump_shmems {
	struct dump_shmem *v;
	size_t		nr, cap;
};

struct dump_task {
	pid_t			pid;
	pid_t			ppid;		/* 0 for the root */
	pid_t			vpid;		/* in the tree's pid namespace (dump-pidns.c) */
	pid_t			*vtids;		/* [nr_tids] likewise, or NULL: the same as tids */
	bool			zombie;		/* recorded from /proc only */
	int			stop_sig;	/* in group-stop: its stop signal, else 0 */
	pid_t			files_of;	/* shares the descriptor table of this parent, or 0 */
	bool			seized;
	bool			scanned;	/* children read since it was seized */
	const struct dump_tree	*tree;		/* the processes dumped before it */
	const struct cr_options	*o;
	int			dirfd;		/* the images directory */
	pid_t			*tids;		/* leader first, as compel seized them */
	int			nr_tids;
	struct dump_thread	*th;		/* [nr_tids], same order */
	struct compel_ctl	*ctl;		/* non-NULL while prepared/infected */

	struct proc_status	st;
	struct proc_stat	stat;
	struct proc_vmas	pvmas;		/* smaps as read before infection */

	/* images being built */
	TaskCoreEntry		core;
	MmEntry			mm;
	VmaEntry		*vmas;
	uint64_t		aio_tail_sum;	/* of its AIO rings' tails (dump-aio.c) */
	VmaEntry		**vma_ptrs;
	unsigned long		auxv[2 * PROC_AUXV_MAX];
	struct dump_files	*files;		/* the tree's objects */
	FdEntry			*fds;		/* this process's descriptors */
	size_t			nr_fds;
	struct dump_shmems	*shm;		/* the dump's table, shared by its tasks */

	/*
	 * The parent process in the tree, NULL for the root. Set before
	 * dump_pages(): pages still shared with it since fork() are not stored.
	 */
	const struct dump_task	*parent;

	/*
	 * rseq_cs word of the leader (the daemon's thread), cleared in memory
	 * while the pages are read; put back in the pages image. Other threads
	 * have theirs back once their command ran.
	 */
	uint64_t		rseq_cs_addr, rseq_cs_val;

	long			autogroup;	/* /proc/PID/autogroup id, -1: none */

	/* memory tracking (dump-track.c): our userfaultfd in the task, or -1 */
	int			track_fd;
	bool			track_fresh;	/* inherited from its parent: not its own */
	uint8_t			*track_st;	/* [n_vmas]: TRACK_* */
	struct pmc_map		track_parent;	/* the parent dump's pagemap of it */
	struct page_read	*rd;		/* --pre-dump-mode read: runs to copy, or NULL */

	struct dump_stats	stats;
};

/*
 * The dumped tree: every process, parents before children (pstree.img
 * order), the root first. dump-tree.c collects it.
 */
struct dump_tree {
	struct dump_task	**t;
	size_t			nr, cap;
	const struct cr_options	*o;
	int			dirfd;
	struct dump_shmems	shm;		/* shared memory objects of the tree */
	struct dump_files	files;		/* fd objects and reg-files of the tree */
	struct dump_stats	stats;		/* phases and totals of the tree */
	bool			pidns;		/* the root is the init of a pid namespace of its own */
	bool			netns;		/* a network namespace of its own (dump-netns.c) */
	uint32_t		root_cg_set;	/* criu's set in cgroup.img; 0: none written */
	unsigned int		seize_flags;	/* COMPEL_SEIZE_*: ADOPT after a v1 freeze */
	int			own_ns;		/* CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWTIME, CLONE_NEWCGROUP: the root's own (dump-utsipc.c) */
	char			cgns_view[4096];	/* the root's /proc/PID/cgroup seen from its cgroup namespace */
	bool			pre;		/* criu pre-dump: memory only, the tree runs on */
	int			prev_fd;	/* --prev-images-dir, or -1 */
};

/* dump-freeze.c: --freeze-cgroup around the seize (all 0 without it) */
struct dump_freeze {
	char	dir[4096];
	bool	v2, frozen;
	pid_t	guard;		/* thaws the group when guard_w's pipe ends */
	int	guard_w;
};
/* Freeze the group and check its tasks are the tree's; dump_thaw() on every path after. */
int dump_freeze(struct dump_tree *tr, struct dump_freeze *f);
void dump_thaw(struct dump_freeze *f);

/* dump-utsipc.c */
/* The root's uts and ipc namespaces: criu's, or its own (written as images) shared by all. */
int dump_utsipc(struct dump_tree *tr);
/* The tree has its own namespace of kind @link ("uts", "ipc"), checked by dump_utsipc(). */
bool dump_utsipc_own(const struct dump_tree *tr, const char *link);
/* dump-mntns.c: the tree's mount namespace (after dump_pidns_check), its images */
int dump_mntns_check(struct dump_tree *tr);
bool dump_in_mntns(void);
/* @path of the tree's namespace as criu reaches it (through the root's /proc root) */
const char *dump_mntns_path(const char *path, char *buf, size_t len);
int dump_mntns_write(const struct dump_tree *tr);
void dump_mntns_free(void);

/* dump-pidns.c */
/* Every pid and tid of the tree as seen in its pid namespace; refuse nested ones. */
int dump_pidns_check(struct dump_tree *tr);
/* The tree being dumped has a pid namespace of its own. */
bool dump_in_pidns(void);
/* @pid (criu's view) in the tree's namespace: 0 when it is no process of the tree. */
pid_t dump_vpid(const struct dump_tree *tr, pid_t pid);
/* @tid, a thread of @t (criu's view), in the tree's namespace; 0: not one of its threads. */
pid_t dump_vtid(const struct dump_task *t, pid_t tid);

/* files-pidfd.c */
/* Every pidfd's process in the tree's namespace; refuse one outside the tree. */
int dump_pidfds_check(const struct dump_tree *tr);
/* Object @id is a pidfd of a live process (opened by each holder at restore). */
bool dump_pidfd_live(const struct dump_tree *tr, uint32_t id);

/* dump-tree.c */
/* Seize @root and every descendant until a scan of all of them finds none new. */
int dump_tree_collect(struct dump_tree *tr, pid_t root);
/* Sessions and groups the restore can rebuild; refuse the rest. */
int dump_tree_check_ids(const struct dump_tree *tr);
/* Detach every seized task (they run on); returns -1 if one failed. */
int dump_tree_detach(struct dump_tree *tr);
/* PTRACE_O_EXITKILL on every seized thread: criu's death kills them all. */
void dump_tree_exitkill(struct dump_tree *tr);
/* SIGKILL every live task and wait until all are gone. */
int dump_tree_kill(struct dump_tree *tr);
/* SIGSTOP every live task, then detach. */
int dump_tree_stop(struct dump_tree *tr);
struct dump_task *dump_tree_find(const struct dump_tree *tr, pid_t pid);
void dump_tree_free(struct dump_tree *tr);

/* Fail with a logged error when CRIU_FAULT (o->fault) names @point. */
int dump_fault(const struct cr_options *o, const char *point);
/* SIGKILL criu itself when CRIU_FAULT is "die-" @point. */
void dump_fault_die(const struct cr_options *o, const char *point);

/* Microseconds of CLOCK_MONOTONIC. */
uint64_t dump_now_us(void);
/* Close phase @name: its time runs from the previous call (or the start). */
void dump_phase(struct dump_stats *s, const char *name);

/* dump-files.c: reg-files entries */
int dump_files_add(struct dump_files *f, const char *path, const struct stat *stb,
		   unsigned int flags, uint64_t pos, uint32_t *id);
/*
 * A reg-files entry for @path (@stb, @flags, offset 0) that is not an open
 * descriptor (a mapped file, cwd, root, exe): one the tree already has is
 * reused, so every process of a tree running one program names one entry.
 */
int dump_files_reuse(struct dump_files *f, const char *path, const struct stat *stb,
		     unsigned int flags, uint32_t *id);
/* Does @path (of a /proc link) still lead to @stb's file? -1 logged if not. */
int dump_check_path(const char *what, const char *path, const struct stat *stb);
/*
 * Processes sharing one descriptor table (clone(CLONE_FILES), kcmp
 * KCMP_FILES): a parent and children of it that have none of their own
 * are noted (files_of); any other shape is refused. -1 logged.
 */
int dump_check_fd_tables(struct dump_tree *tr);
int dump_collect_fds(struct dump_task *t);
int dump_packet_ring_vmas(struct dump_task *t);	/* files-packet.c, after the fds */
int dump_collect_fs(struct dump_task *t);	/* cwd, root, exe */
void dump_files_free(struct dump_files *f);
/*
 * Descriptors in flight: criu's copy @fd of a descriptor queued with a
 * message (SCM_RIGHTS) on the socket @carrier probes. It is kept open (so
 * kcmp can compare it) until dump_files_free(); before the kinds' resolve()
 * it becomes an object like any fd's (a new one, or the one a task holds)
 * and its id is written to *@id. Closes @fd and returns -1 (logged) when
 * there are too many.
 */
struct fd_probe;
int dump_inflight_add(struct dump_files *d, const struct fd_probe *carrier, int fd, uint32_t *id);
/* Every descriptor in flight given an object, including those in flight in them; -1 logged. */
int dump_inflight_resolve(struct dump_files *d);
/* The dump failed: the names it made for --link-remap are removed. */
void dump_files_unlink_made(struct dump_files *d);
int dump_write_fds(struct dump_task *t);
void dump_fds_free(struct dump_task *t);
/*
 * Objects used by several processes must be ones the restore can hand
 * down through the forks, and the owner of each file's signals (F_SETOWN)
 * a process or group the restore makes: -1 logged if not. Then every
 * kind's images.
 */
int dump_check_shared_fds(const struct dump_tree *tr);
int dump_write_fd_objects(struct dump_tree *tr);

/* dump-mem.c */
int dump_collect_vmas(struct dump_task *t);	/* before infection */
int dump_collect_mlockall(struct dump_task *t);	/* once infected */
int dump_pages(struct dump_task *t);		/* through the parasite */

/* dump-track.c: memory tracking for incremental dumps (Documentation/predump.md) */
#define TRACK_FEATURES	(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)
enum { TRACK_NONE, TRACK_OLD, TRACK_NEW };	/* a vma: untracked, since the last run, from now */
int dump_track_find(struct dump_task *t);	/* smaps read, before the vmas are filled */
bool dump_track_vma_old(const struct dump_task *t, const struct proc_vma *pv);
int dump_track_begin(struct dump_task *t);	/* infected, before the pages */
int dump_track_parent(struct dump_task *t, int prev_fd);
void dump_track_free(struct dump_task *t);
void dump_mm_free(struct dump_task *t);

/* dump-cow.c: pages shared with the parent process since fork() */
int dump_open_pagemap(pid_t pid);
/* dump-guard.c: the guard pages of a vma with VmFlags "gu" into v->guards */
int dump_vma_guards(int pm, VmaEntry *v);
/* dump-aio.c: AIO rings */
bool dump_is_aio_ring(const struct dump_task *t, const struct proc_vma *pv);
int dump_aio_vma(struct dump_task *t, const struct proc_vma *pv, VmaEntry *v);
int dump_aio_owned(struct dump_task *t);
int dump_aio_recheck(struct dump_task *t);
/* @out[i] = 1 when page i of [start, end) is the same physical page in both. */
int cow_shared_map(int child_pm, int parent_pm, uint64_t start, uint64_t end, uint8_t *out);
/* The vma of @parent that @child's @v may have inherited (same range, kind, file), or NULL. */
const VmaEntry *cow_parent_vma(const struct dump_task *parent, const struct dump_task *child,
			       const VmaEntry *v);

/* dump-core.c */

/*
 * dump-shmem.c: shared memory objects.
 *   1. dump_shmem_is_object(pv): is this vma a shmem object mapping (SysV and
 *      named anonymous ones included, which dump_shmem_add refuses)?
 *   2. dump_shmem_add(): for each such vma while the task is seized; returns
 *      the object id (same inode, same id, across tasks)
 *   3. dump_shmem_write(): once, after every task's vmas are in, still frozen
 *   4. dump_shmem_free() at the end
 */
bool dump_shmem_is_object(const struct proc_vma *pv);
int dump_shmem_add(struct dump_shmems *s, pid_t pid, const struct proc_vma *pv, uint32_t *id);
int dump_shmem_write(struct dump_shmems *s, int dirfd);
void dump_shmem_free(struct dump_shmems *s);

/* dump-core.c: process-wide state */
int dump_collect_core_ptrace(struct dump_task *t);	/* seized, before prepare */
int dump_collect_core_parasite(struct dump_task *t);	/* infected */
int dump_check_mdwe(struct dump_task *t);		/* prepared, not infected yet */
/* @t infected, its sigactions collected: its stopped children among @all. */
int dump_check_stop_reports(struct dump_task *t, struct dump_task *const *all, size_t nr);
int dump_collect_core_proc(struct dump_task *t);
int dump_collect_creds(struct dump_task *t);		/* from t->st */

/* dump-features.c (task-features.h) */
struct parasite_thread;
int dump_check_sud(const struct dump_task *t);		/* seized, not infected */
int dump_check_features(const struct dump_task *t, pid_t tid, const struct parasite_thread *p);
void dump_core_free(struct dump_task *t);
/* dump-seccomp.c: the process's filters into its core (seized threads) */
int dump_collect_seccomp(struct dump_task *t);
/* Refuses a task whose seccomp filters may harm a call of the parasite (criu/pie/include/parasite-calls.h). */
int dump_seccomp_check_parasite(struct dump_task *t);
void dump_seccomp_free(TaskCoreEntry *c);

/* dump-threads.c: every thread's core entry, leader first */
int dump_check_threads(struct dump_task *t);		/* seized, after check_task */
int dump_collect_threads_ptrace(struct dump_task *t);	/* seized, before prepare */
int dump_collect_threads_parasite(struct dump_task *t);	/* infected, after the leader */
int dump_write_threads(struct dump_task *t, struct cr_img *img);
/* sigaltstack and clear-tid address the parasite read, into @th */
void dump_thread_state(struct dump_thread *th, const struct parasite_thread *p);
/* Every siginfo queued (the thread's queue, or the process's with flags 1). */
int dump_peek_signals(pid_t tid, uint32_t flags, ProtobufCBinaryData **out, size_t *nr);
void dump_free_signals(ProtobufCBinaryData *d, size_t nr);
void dump_threads_free(struct dump_task *t);

#endif /* CRIU_DUMP_H */
