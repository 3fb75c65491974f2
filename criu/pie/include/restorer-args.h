/*
 * The argument block criu hands to the restorer blob (criu/pie/restorer.c).
 *
 * criu (the forked child that becomes the restored task) fills one
 * struct restorer_args inside the restorer region, then jumps to the
 * blob's entry with rdi = the block and rsp = the top of the region's
 * stack. From then on only the region, the staging areas and the
 * kernel's special mappings are left; everything else of criu is
 * unmapped by the restorer. Plain C over <linux/types.h>: this header is
 * compiled both into criu and into the freestanding blob.
 */
#ifndef CRIU_PIE_RESTORER_ARGS_H
#define CRIU_PIE_RESTORER_ARGS_H

#include <linux/types.h>
#include "arch-restorer.h"

#define RESTORER_ARGS_MAGIC	0x5253545241524753ULL	/* "SGRATSR" */
/* Marker placed right before the blob's entry; criu searches the code for it. */
#define RESTORER_ENTRY_MARK	"criu-rst-entry!"	/* 15 chars + NUL = 16 bytes */
#define RESTORER_ENTRY_MARK_LEN	16

#define RST_MAX_UNMAP		16
#define RST_MAX_SPECIAL		4
#define RST_MAX_AUXV		128	/* u64 words */
#define RST_MAX_SIG		64
#define RST_MAX_CLOSE		32
#define RST_MAX_FD_VMAS		(RST_MAX_CLOSE - 2)	/* vmas mapped from a descriptor */
#define RST_STACK_SIZE		(64 * 1024)	/* the leader's */
#define RST_THREAD_STACK_SIZE	(16 * 1024)	/* each other thread's */
#define RST_SIGFRAME_MAX	512	/* >= sizeof the kernel's x86_64 rt_sigframe */
#define RST_MAX_GROUPS		256
#define RST_MAX_TIMERS		256	/* = PARASITE_MAX_TIMERS: what a dump takes */
#define RST_MASK_WORDS		16	/* cpus and NUMA nodes: 1024 each */

/* A private area prepared at @tmp, moved to @start by the restorer. */
struct rst_vma {
	__u64	start;
	__u64	len;
	__u64	tmp;		/* 0: not staged (shared file vma: mapped from @fd) */
	__u64	pgoff;
	__u32	prot;
	__u32	flags;		/* MAP_* for shared file vmas */
	__s32	fd;		/* shared file vmas: descriptor to map, else -1 */
	__u32	kind;		/* vma_kind of mm.proto */
};

/*
 * Guard pages installed once every vma is in place (MADV_GUARD_INSTALL);
 * @remove: removed again at once, for a vma that had guards and has none
 * left (its VmFlags "gu" stays).
 */
struct rst_guard {
	__u64	start;
	__u64	end;
	__u32	remove;
	__u32	pad;
};

/* A kernel special mapping (vdso, vvar...) moved from @src to @dst via @scratch. */
struct rst_special {
	__u64	src;
	__u64	scratch;
	__u64	dst;
	__u64	len;
};

struct rst_range {
	__u64	start;
	__u64	end;
};

struct rst_sigaction {
	__u64	handler;
	__u64	flags;
	__u64	restorer;
	__u64	mask;
	__u32	present;
	__u32	pad;
};

/* As struct prctl_mm_map of <linux/prctl.h>; @auxv and @exe_fd filled by criu. */
struct rst_mm_map {
	__u64	start_code;
	__u64	end_code;
	__u64	start_data;
	__u64	end_data;
	__u64	start_brk;
	__u64	brk;
	__u64	start_stack;
	__u64	arg_start;
	__u64	arg_end;
	__u64	env_start;
	__u64	env_end;
	__u64	auxv;		/* pointer */
	__u32	auxv_size;	/* bytes */
	__u32	exe_fd;
};


/* A queued signal to queue again, as PTRACE_PEEKSIGINFO returned it. */
struct rst_pending {
	__u32	signo;
	__u32	tid;		/* 0: the process queue, else that thread's */
	__u8	info[128];
};

/* Credentials, applied last among the privileged steps. */
struct rst_creds {
	__u32	has;
	__u32	uid[4];		/* real, effective, saved, fs */
	__u32	gid[4];
	__u32	ngroups;
	__u32	groups[RST_MAX_GROUPS];
	__u64	cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	__u32	cap_last;	/* highest capability this kernel knows */
	__u32	has_amb;
	__u32	has_secbits;
	__u32	secbits;
	__u32	no_new_privs;
	__u32	has_dumpable;	/* a uid change resets it: set again after */
	__u32	dumpable;
	__u32	pad;
};

/* A POSIX timer, created again with its id (PR_TIMER_CREATE_RESTORE_IDS). */
struct rst_timer {
	__s32	id;
	__u32	clock;
	__u32	notify;		/* SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID */
	__u32	signo;
	__u64	sival;
	__u32	notify_tid;
	__u32	pad;
	__u64	interval_ns;
	__u64	value_ns;	/* 0: disarmed */
};

/* A seccomp filter to install (oldest first), its program in the region. */
struct rst_seccomp_filter {
	__u64	insns;		/* pointer to struct sock_filter[len] */
	__u32	len;
	__u32	flags;		/* SECCOMP_FILTER_FLAG_LOG or 0 */
};

struct restorer_args {
	__u64			magic;

	/* status channel to the criu parent: "R\n" on success, "E..." on failure */
	__s32			status_fd;
	__u32			stop_sig;	/* stop with it once released, 0: run */
	__s32			close_fds[RST_MAX_CLOSE];	/* criu's helpers, closed at the end */
	__u32			nr_close;
	__u32			pid;
	__u32			pdeath_sig;	/* set last: until then criu's death kills us */
	/*
	 * Non-zero (criu's pid): set pdeath_sig only once criu has gone
	 * (the root of a detached restore, whose parent was outside the
	 * tree: criu's exit is not its parent's death).
	 */
	__u32			pdeath_after;
	/*
	 * The tree's barrier: after "R" the task reads one byte here; criu
	 * writes one per process once every one has reported. End of file
	 * (criu gone, or giving up) ends the task.
	 */
	__s32			go_fd;

	/* criu's memory to drop, then what to move in place */
	struct rst_range	unmap[RST_MAX_UNMAP];
	__u32			nr_unmap;
	__u32			nr_special;
	struct rst_special	special[RST_MAX_SPECIAL];
	__u64			staging_start;	/* unmapped once everything moved */
	__u64			staging_len;
	__u64			vmas;		/* pointer to struct rst_vma[nr_vmas] */
	__u32			nr_vmas;
	__u32			has_mm_map;
	__u32			mlockall;	/* MCL_FUTURE [| MCL_ONFAULT], 0: none */
	__u32			nr_guards;
	__u64			guards;		/* pointer to struct rst_guard[nr_guards] */

	struct rst_mm_map	mm;
	__u64			auxv[RST_MAX_AUXV];

	/* process-wide state */
	struct rst_sigaction	sig[RST_MAX_SIG];	/* index signo - 1 */
	__u64			itimer[3][4];		/* interval sec/usec, value sec/usec */
	__u32			itimer_set[3];
	__u32			personality;	/* set once the mappings are made */
	__u32			memory_merge;	/* 1: PR_SET_MEMORY_MERGE, likewise */

	__u32			nr_timers;
	__u32			pad1;
	struct rst_timer	timers[RST_MAX_TIMERS];
	struct rst_creds	creds;

	/*
	 * Pointer to struct rst_pending[nr_pending] in the region: the
	 * process queue's first (nr_shared_pending), then each thread's run
	 * (rst_thread.pending_first/nr_pending).
	 */
	__u64			pending;
	__u32			nr_pending;
	__u32			nr_shared_pending;

	/* the threads, leader first: struct rst_thread[nr_threads] */
	__u64			threads;
	__u32			nr_threads;
	__s32			ns_last_pid_fd;	/* >= 0: threads get their tid this way, not clone3 */
	__u32			fpu_size;	/* as this kernel's signal frames have it */
	__u32			pad2;
	__u64			fpu_features;

	/* threads report ready here and wait for go (futex words) */
	__u32			nr_ready;
	__u32			go;
	__u32			nr_failed;
	__s32			sync_fd[2];	/* threads write one byte each once out of the region */

	/*
	 * Leaving without a trace: when criu found a "syscall; ret" in the
	 * task's (moved) vdso and the task's own rt_sigreturn trampoline, each
	 * thread sigreturns first into the gadget (rsp = its final frame on its
	 * own stack, whose return address is the trampoline): threads with
	 * write(sync_fd[1]) in the registers, the leader, last, with munmap of
	 * the region. 0 in @final_gadget: the region stays mapped.
	 */
	__u64			final_gadget;
	__u64			final_trampoline;
	__u64			region_start;
	__u64			region_len;

	/*
	 * seccomp filters, installed by the leader for every thread (TSYNC)
	 * once every thread is ready: before the leader's credentials
	 * (@seccomp_late 0: it would lose the right to install them), or
	 * right after them (1: it keeps no_new_privs or CAP_SYS_ADMIN).
	 * struct rst_seccomp_filter[nr_seccomp].
	 */
	__u64			seccomp;
	__u32			nr_seccomp;
	__u32			seccomp_late;
};

struct rst_thread {
	__u32			tid;
	char			comm[16];
	__u32			has_altstack;
	__u64			altstack_sp;
	__u64			altstack_size;
	__u32			altstack_flags;
	__u32			has_rseq;
	__u64			rseq_ptr;
	__u32			rseq_len;
	__u32			rseq_sig;
	__u32			has_robust;
	__u32			has_tid_addr;
	__u64			robust_list;
	__u64			robust_len;
	__u64			tid_addr;
	__u32			pending_first;	/* this thread's queue in args->pending */
	__u32			nr_pending;
	__u64			timerslack;	/* PR_SET_TIMERSLACK; 0: leave */
	__u32			tsc;		/* PR_SET_TSC; 0: leave */
	__u32			mce_kill;	/* PR_MCE_KILL_GET value + 1; 0: leave */

	struct rst_regs		regs;		/* restart rules already applied */
	__u64			blocked;
	__u64			fpu;		/* pointer, 64-byte aligned, 64 bytes of room after */
	__u64			frame;		/* rt_sigframe in the region (no clean exit) */
	__u64			stack_top;	/* restorer stack of a non-leader thread */

	/* clean exit (see final_gadget) */
	__u64			final_frame;	/* rt_sigframe on the thread's own stack */
	__u64			final_fpu;
	__u64			first_frame;	/* the frame that runs the gadget */

	/* scheduling and memory placement, set by the thread itself */
	__u32			has_ioprio;
	__u32			ioprio;		/* ioprio_set(IOPRIO_WHO_PROCESS, 0, ...) */
	__u32			has_mempolicy;
	__s32			mempolicy;	/* set_mempolicy mode and flags */
	__u32			nr_cpus;	/* words of @cpus; 0: every cpu */
	__u32			pad_sched;
	__u64			cpus[RST_MASK_WORDS];
	__u64			nodes[RST_MASK_WORDS];	/* of the NUMA policy */
};

#endif /* CRIU_PIE_RESTORER_ARGS_H */
