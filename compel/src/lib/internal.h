/* libcompel internals shared by its source files (global names: cpl_*). */
#ifndef COMPEL_INTERNAL_H
#define COMPEL_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>
#include "compel/compel.h"
#include "protocol.h"
#include "arch.h"
#include "compiler.h"

/* ---- logging (log.c) ---- */
void compel_print(enum compel_log_level lvl, const char *file, int line,
		  const char *fmt, ...) __printf(4, 5);
void compel_print_raw(enum compel_log_level lvl, const char *file, int line,
		      const char *msg);
#define pr_err(fmt, ...)   compel_print(COMPEL_LOG_ERROR, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  compel_print(COMPEL_LOG_WARN, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  compel_print(COMPEL_LOG_INFO, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) compel_print(COMPEL_LOG_DEBUG, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define pr_perror(fmt, ...) pr_err(fmt ": %m", ##__VA_ARGS__)
extern enum compel_log_level compel_log_max;

/* Step boundary for the kill-at-step tests. */
void compel_step(const char *what);

/* Saved per-thread state: everything compel may disturb in one thread. */
struct thread_state {
	pid_t		tid;
	compel_regs_t	regs;		/* as stopped, exact */
	uint8_t		*fpu;		/* FPU/vector state as the arch's regset has it, */
	size_t		fpu_len;	/* NULL if the CPU has none (x86: the xsave area) */
	uint64_t	sigmask;
	uint64_t	pending;	/* SigPnd | ShdPnd from /proc when saved */
	uint64_t	rseq_cs_ptr;	/* &rseq->rseq_cs, 0 if no rseq */
	uint64_t	rseq_cs_val;
	int		rseq_cleared;
};

struct region {
	uint8_t		*local;		/* caller's mapping */
	unsigned long	remote;		/* victim's mapping */
	size_t		size;
	size_t		blob_off, dframe_off, frame_size, dstack_top;
	size_t		slot_off, slot_size;	/* thread slots: frame, stack, args */
	size_t		args_off, args_size;
	int		map_err;	/* errno of the victim's mmap of it, 0: none */
};

/*
 * What the trampoline undoes if the caller dies during a remote syscall
 * (see arch.h): nr[0](result or the call's first argument, its second),
 * then nr[1](arg[0], arg[1]); ARCH_NR_SIGRETURN: nothing more.
 */
struct cpl_undo {
	long		nr[2];
	unsigned long	arg[2];
	int		on_result;
};

struct compel_ctl {
	pid_t		pid;
	struct thread_state st;
	unsigned long	gadget;		/* victim address of a syscall insn */
	unsigned long	zero_addr;	/* victim address of a NUL byte */
	int		memfd;		/* /proc/PID/mem, -1 until needed */
	unsigned long	tramp;		/* victim address of the trampoline, 0: none */
	uint8_t		tramp_orig[ARCH_TRAMPOLINE_LEN];
	int		tramp_state;	/* 0 not looked for, 1 usable, -1 none */
	int		tramp_in;	/* written into the vDSO */
	int		kept;		/* in a syscall-exit stop with an undo armed */
	int		region_gone;	/* the daemon unmapped it going home */
	unsigned long	*wr;		/* writable mappings: start, end pairs */
	unsigned int	nr_wr;
	uint64_t	caught;		/* signals with a handler (SigCgt) */
	uint64_t	sa_restart;	/* those of them with SA_RESTART */
	int		seccomp;
	int		infected;	/* parasite started */
	int		running;	/* parasite thread not ptrace-stopped */
	int		stop_sig;	/* signal it stopped with if it crashed */
	int		thread_stop_sig; /* same for a thread running a command */
	pid_t		crashed_tid;	/* which thread that was */
	const pid_t	*watch;		/* threads running commands */
	int		nr_watch;
	size_t		thread_entry;	/* blob offset */
	struct region	r;
	struct compel_shared *hdr;	/* r.local */
	int		listen_fd, sock, log_rd;
	char		addr[108];
	int		addr_len;
	struct compel_bpf *filters;	/* the victim's seccomp filters */
	int		nr_filters;
};

/* ---- ptrace.c ---- */
int compel_wait_stop(pid_t tid, int *event, int *sig);
int cpl_thread_state_save(struct thread_state *ts, pid_t tid);
int cpl_thread_state_restore(struct thread_state *ts);
void cpl_thread_state_free(struct thread_state *ts);
int cpl_rseq_clear(struct thread_state *ts);
uint64_t cpl_read_pending(pid_t tid);
uint64_t cpl_read_caught(pid_t tid);	/* SigCgt */
int cpl_rseq_restore(struct thread_state *ts);
int cpl_interrupt_and_wait(pid_t tid);
int cpl_exit_to_interrupt(pid_t tid);
int cpl_interrupt_prepare(pid_t tid);
int cpl_interrupt_wait(pid_t tid);
int cpl_interrupt_collect(pid_t tid);

/* ---- seccomp.c ---- */
int cpl_seccomp_load(struct compel_ctl *ctl);
void cpl_seccomp_free(struct compel_ctl *ctl);
/* 0: the filters cannot harm @c (none, or harmless); -1 (logged): they may. */
int cpl_seccomp_check(struct compel_ctl *ctl, const struct compel_sc_call *c);
/* The name of a syscall compel makes ("syscall N" in @buf otherwise). */
const char *cpl_sc_name(long nr, char *buf, size_t len);
/* The same for every call of compel's own table. */
int cpl_seccomp_check_own(struct compel_ctl *ctl);
/* The same with the filters of thread @tid (its own may differ). */
int cpl_seccomp_check_thread(pid_t tid);

/* ---- rsys.c ---- */
int cpl_find_gadget(struct compel_ctl *ctl);
int cpl_ptrace_syscall(struct compel_ctl *ctl, long nr, long *ret,
		   const unsigned long *args);
/* Same; keep: leave the thread in the syscall-exit stop, undo armed. */
int cpl_rsys(struct compel_ctl *ctl, long nr, long *ret,
	     const unsigned long *args, const struct cpl_undo *u, int keep);
/* The trampoline is in place (written on first use); 0 if none usable. */
unsigned long cpl_tramp(struct compel_ctl *ctl);
void cpl_tramp_remove(struct compel_ctl *ctl);
/* Write ts's home frame below its stack; its victim address, 0: cannot. */
unsigned long cpl_stack_frame(struct compel_ctl *ctl, const struct thread_state *ts,
			      struct compel_cure_info *ci);
int cpl_sa_restart_probe(struct compel_ctl *ctl);

/* ---- infect.c ---- */
#define SLOT_STACK	(32 * 1024UL)
#define SLOT_ARGS	COMPEL_THREAD_ARGS_SIZE
/* watch: thread to check for faults while waiting; 0: ctl->watch[]. */
int cpl_rpc_recv(struct compel_ctl *ctl, struct compel_msg *m, int *fds,
	     unsigned int max_fds, pid_t watch);
void cpl_drain_log(struct compel_ctl *ctl);

/*
 * ---- arch (arch/<arch>/src/lib): what a port provides ----
 * arch.h: compel_regs_t (the ptrace register set), ARCH_SYSCALL_INSN(_LEN)
 * (the bytes of the syscall instruction, searched in the vDSO) and
 * CPL_AUDIT_ARCH (seccomp_data.arch); the functions below.
 */
int cpl_arch_get_regs(pid_t tid, compel_regs_t *r);
int cpl_arch_set_regs(pid_t tid, const compel_regs_t *r);
/* The FPU/vector state: *buf malloc'ed, NULL and 0 if the CPU has none. */
int cpl_arch_get_fpu(pid_t tid, uint8_t **buf, size_t *len);
int cpl_arch_set_fpu(pid_t tid, const uint8_t *buf, size_t len);
/* Bytes a signal frame with that FPU state takes (page multiple). */
size_t cpl_arch_frame_size(size_t fpu_len);
size_t cpl_arch_frame_len(size_t fpu_len);	/* exact bytes, below a stack */
unsigned long cpl_arch_frame_addr(const compel_regs_t *r, size_t len);
unsigned long cpl_arch_regs_sp(const compel_regs_t *r);
void cpl_arch_frame_eintr(void *local, const struct compel_cure_info *ci);
void cpl_arch_regs_entry(compel_regs_t *r, long nr, const unsigned long *args);
void cpl_arch_regs_tramp(compel_regs_t *r, unsigned long ip, unsigned long sp,
			 long nr, const unsigned long *args, const struct cpl_undo *u);
/* Build an rt_sigframe at local/remote that returns to ts's state. */
int cpl_arch_build_frame(const struct thread_state *ts, void *local,
			 unsigned long remote, struct compel_cure_info *ci);
void cpl_arch_regs_syscall(compel_regs_t *r, unsigned long ip, long nr,
		       const unsigned long *args);
long cpl_arch_regs_result(const compel_regs_t *r);
void cpl_arch_regs_call(compel_regs_t *r, unsigned long ip, unsigned long sp,
		    unsigned long arg);
/* 1 and *nr if stopped in a syscall the kernel will restart. */
int cpl_arch_in_restartable_syscall(const compel_regs_t *r, long *nr);
long cpl_arch_regs_syscall_nr(const compel_regs_t *r);

#endif
