/*
 * Commands of criu's own parasite (criu/pie/parasite.c) and the layout of
 * the shared argument area for each. Included by the parasite (freestanding)
 * and by criu, so: plain C over <linux/types.h>, fixed-size fields only.
 *
 * The argument area is compel's; criu fills it before compel_rpc_call() and
 * reads the reply from it after compel_rpc_wait(). Every command returns 0
 * or -errno (the value of the first syscall that failed).
 */
#ifndef CRIU_PARASITE_PROTO_H
#define CRIU_PARASITE_PROTO_H

#include <linux/types.h>
#include "arch-features.h"

enum {
	/*
	 * fds[0]: write end of a pipe with room for every byte asked.
	 * args: struct parasite_pages. The parasite vmsplice()s the iovecs
	 * (its own memory, i.e. the task's) into the pipe, in order.
	 * Returns the number of bytes spliced (== total) or -errno.
	 */
	PARASITE_CMD_DUMP_PAGES = 1,
	/* args: struct parasite_misc (reply only). */
	PARASITE_CMD_DUMP_MISC,
	/* args: struct parasite_timers; ids in, values out. */
	PARASITE_CMD_DUMP_TIMERS,
	/*
	 * Run in each non-leader thread (compel_run_in_threads): what only
	 * the thread itself can ask. args: struct parasite_thread (reply only).
	 */
	PARASITE_CMD_DUMP_THREAD,
	/*
	 * args: struct parasite_vma_policies: addresses in, the mode of the
	 * NUMA policy of the mapping at each out (get_mempolicy MPOL_F_ADDR:
	 * MPOL_DEFAULT when the mapping has none of its own, -errno if none).
	 */
	PARASITE_CMD_VMA_POLICIES,
	/*
	 * args: struct parasite_track. Memory tracking for incremental dumps
	 * (Documentation/predump.md): with create, a new userfaultfd with
	 * UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED is put at number
	 * fd (dup3, O_CLOEXEC; an fd there is replaced); without, fd is the
	 * one an earlier pre-dump left. Each range is registered with
	 * UFFDIO_REGISTER_MODE_WP; res[i] is 0 or -errno.
	 */
	PARASITE_CMD_TRACK_MEM,
};

/* Room for iovecs per DUMP_PAGES command (vmsplice takes at most 1024). */
#define PARASITE_MAX_IOVS	1024

struct parasite_iov {
	__u64	base;
	__u64	len;
};

struct parasite_pages {
	__u32			nr_iovs;
	__u32			pad;
	__u64			total;		/* sum of the lengths */
	struct parasite_iov	iov[PARASITE_MAX_IOVS];
};

#define PARASITE_NSIG		64

/* What rt_sigaction(sig, NULL, &old) gives back (kernel layout). */
struct parasite_sigaction {
	__u64	handler;
	__u64	flags;
	__u64	restorer;
	__u64	mask;
};

struct parasite_itimer {
	__u64	interval_sec, interval_usec;
	__u64	value_sec, value_usec;
};

/* Nodes a NUMA policy's mask may name (the kernel's MAX_NUMNODES is at most 1024). */
#define PARASITE_MAX_NODES	1024

/* Per-thread state (fits compel's per-thread argument area). */
struct parasite_thread {
	__u64	ss_sp;			/* sigaltstack */
	__u64	ss_size;
	__s32	ss_flags;
	__u32	pad;
	__u64	clear_tid_addr;		/* PR_GET_TID_ADDRESS */
	__u64	timerslack;		/* PR_GET_TIMERSLACK */
	__u32	tsc;			/* PR_GET_TSC */
	__u32	mce_kill;		/* PR_MCE_KILL_GET */
	__u32	securebits;		/* PR_GET_SECUREBITS (credentials are per thread) */
	__u32	pdeath_sig;		/* PR_GET_PDEATHSIG (per thread too) */
	/* NUMA policy of the thread: get_mempolicy(mode, nodes, PARASITE_MAX_NODES) */
	__s32	mempolicy;
	/* keyrings (KEYCTL_GET_KEYRING_ID, no create): a serial, or -errno (-ENOKEY: none) */
	__s32	keyring_thread;
	__s32	keyring_process;
	__s32	keyring_session;
	__s32	keyring_user_session;	/* what the session one is when the task has none */
	__s32	keyring_child;	/* the child asking for the two above: 0, -errno, or its wait status */
	__u64	mempolicy_nodes[PARASITE_MAX_NODES / 64];
	/* compared with criu's own (task-features.h) */
	__s32	spec[3];		/* PR_GET_SPECULATION_CTRL 0..2, or -errno */
	__s32	pad_spec;
	struct arch_task_features arch;	/* arch-features.h */
};

struct parasite_misc {
	/* index sig - 1; SIGKILL and SIGSTOP are left zero */
	struct parasite_sigaction	act[PARASITE_NSIG];
	struct parasite_itimer		itimer[3];	/* REAL, VIRTUAL, PROF */
	struct parasite_thread		thread;		/* the leader's */
	__u32				umask;
	__u32				pad0;
	__u64				brk;		/* brk(0) */
	__u32				personality;	/* personality(0xffffffff) */
	__u32				dumpable;	/* PR_GET_DUMPABLE */
	__u32				memory_merge;	/* PR_GET_MEMORY_MERGE; ~0: no KSM */
	__u32				child_subreaper;
	__u32				thp_disabled;	/* PR_GET_THP_DISABLE */
	/* membarrier(2): the process's MEMBARRIER_CMD_REGISTER_* bits ... */
	__u32				membarrier;
	/* ... and those this kernel cannot tell (before 6.3: global expedited) */
	__u32				membarrier_unseen;
	__u32				pad;
};

#define PARASITE_MAX_VMA_POLICIES	512

struct parasite_vma_policies {
	__u32	nr;
	__u32	pad;
	__u64	addr[PARASITE_MAX_VMA_POLICIES];
	__s32	mode[PARASITE_MAX_VMA_POLICIES];
};

#define PARASITE_MAX_TRACK	512

struct parasite_track {
	__s32			fd;
	__u32			create;
	__u32			nr;
	__u32			pad;
	__u64			features;
	struct parasite_iov	range[PARASITE_MAX_TRACK];
	__s32			res[PARASITE_MAX_TRACK];
};

#define PARASITE_MAX_TIMERS	256

struct parasite_timer {
	__s32	id;		/* in: timer id from /proc/PID/timers */
	__s32	overrun;	/* out: timer_getoverrun() */
	__u64	interval_sec, interval_nsec;	/* out: timer_gettime() */
	__u64	value_sec, value_nsec;
};

struct parasite_timers {
	__u32			nr;
	__u32			pad;
	struct parasite_timer	t[PARASITE_MAX_TIMERS];
};

#endif /* CRIU_PARASITE_PROTO_H */
