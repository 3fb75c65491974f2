/*
 * Private ABI between libcompel (hosted, in the caller) and the std
 * runtime (freestanding, inside the victim).  Both sides include this
 * file; it needs nothing but <linux/types.h>.
 *
 * The shared region that libcompel maps into the victim starts with a
 * struct compel_shared; see Documentation/compel.md for the full layout.
 */
#ifndef COMPEL_COMMON_PROTOCOL_H
#define COMPEL_COMMON_PROTOCOL_H

#include <linux/types.h>

#define COMPEL_SHARED_MAGIC	0x314c45504d4f43ULL	/* "COMPEL1" */

/* Command numbers at or above this are reserved for the runtime. */
#define COMPEL_CMD_BUILTIN	0x40000000u
#define COMPEL_CMD_INIT		(COMPEL_CMD_BUILTIN + 1)  /* carries log fd */
#define COMPEL_CMD_SYSCALL	(COMPEL_CMD_BUILTIN + 2)  /* hdr->sc */
#define COMPEL_CMD_PING		(COMPEL_CMD_BUILTIN + 3)
#define COMPEL_MSG_FDS		(COMPEL_CMD_BUILTIN + 4)  /* parasite -> caller fds */
#define COMPEL_MSG_REPLY	(COMPEL_CMD_BUILTIN + 5)  /* end of a command */
#define COMPEL_CMD_FINI		(COMPEL_CMD_BUILTIN + 6)  /* close fds, stop at
							     the marker syscall */

#define COMPEL_MAX_FDS		64	/* fds attached to one message */
#define COMPEL_THREAD_SLOTS	16	/* threads running commands at once */

/* One message on the control socket (SOCK_SEQPACKET), either way. */
struct compel_msg {
	__u32	cmd;		/* command, or COMPEL_MSG_* from the parasite */
	__s32	ret;		/* reply: handler result (>= 0 or -errno) */
	__s32	tid;		/* reply: gettid() of the thread (its pid ns) */
	__u32	nfds;		/* fds attached with SCM_RIGHTS */
	__s32	slot;		/* reply from a thread slot: its index, else -1 */
	__u32	__pad;
};

/* Remote syscall request, run by the daemon on COMPEL_CMD_SYSCALL. */
struct compel_sc {
	__s64	nr;
	__u64	arg[6];
	__s64	ret;
};

/* What a parasite needs to put a task back by itself (rt_sigreturn). */
struct compel_cure_info {
	__u64	frame_uc;	/* victim address of the ucontext in a frame */
	__u64	rseq_cs_ptr;	/* &rseq->rseq_cs in the victim, or 0 */
	__u64	rseq_cs_val;	/* value to put back there */
	__u64	pending;	/* written by the parasite: signals pending
				   when it started (SIGPIPE bookkeeping) */
	/* Stopped in a restartable syscall: how to turn it into EINTR. */
	__u64	sigmask;	/* the thread's own signal mask */
	__u64	frame_ax;	/* victim address of the frame's result reg */
	__u64	frame_ip;	/* victim address of the frame's ip */
	__u64	eintr_ip;	/* ip after the syscall instruction */
	__u32	restart;	/* 512, 513, 514, 516 (-ERESTART*) or 0 */
	__u32	__pad;
	__u64	stop_pending;	/* signals pending when compel stopped it
				   (a handler may have taken one since) */
};

struct compel_shared {
	__u64	magic;
	__u64	base;		/* victim address of the region */
	__u64	size;
	__u64	args;		/* victim address of the argument area */
	__u64	args_size;
	__s32	sock_fd;	/* written by the daemon */
	__s32	log_fd;		/* written by the daemon */
	__u32	log_level;	/* highest level the parasite should send */
	__u32	addr_len;	/* bytes of sun_path used (abstract name) */
	/*
	 * Who may still use sock_fd and log_fd by number: the daemon (1)
	 * plus each thread that runs or may run parasite code.  On
	 * self-cure the one that drops it to zero closes them, so that a
	 * parked thread never polls a number the victim has reused.
	 */
	__u32	fd_users;
	/*
	 * Threads in parasite code (the daemon and each thread slot in
	 * use): going home through the trampoline's HOME entry (at
	 * tramp_home, 0: none, then the region stays mapped) drops the
	 * count, and the last one out unmaps the region.
	 */
	__u32	users;
	__u64	tramp_home;
	__u16	__pad;
	__u16	sun_family;	/* AF_UNIX: with addr, a struct sockaddr_un */
	char	addr[108];	/* sun_path of the caller's listening socket */
	__u32	__pad2;
	struct compel_cure_info	daemon;	/* leader thread running the daemon */
	struct compel_sc	sc;
	struct compel_thread_slot {	/* threads running one command each */
		struct compel_cure_info ci;
		__u64	shared;		/* victim address of this header */
		__u64	args;		/* victim address of its argument area */
		__u64	args_size;
		__u32	cmd;
		__s32	tid;
	} slot[COMPEL_THREAD_SLOTS];
};

#endif /* COMPEL_COMMON_PROTOCOL_H */
