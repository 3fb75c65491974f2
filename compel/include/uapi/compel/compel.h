/*
 * libcompel: run code inside another (stopped) Linux process.
 *
 * A caller goes through these steps, in order:
 *
 *   1. compel_log_init()           route compel's messages to your log
 *   2. compel_seize_task(pid)      PTRACE_SEIZE + PTRACE_INTERRUPT every
 *      (or compel_seize(tid))      thread and wait until each is stopped
 *   3. compel_prepare(pid)         save what will be disturbed: registers,
 *                                  fs/gs base, xsave area, signal mask,
 *                                  rseq_cs; returns a struct compel_ctl
 *   4. compel_syscall()            optional: any syscall in the victim,
 *                                  works before and after infection
 *   5. compel_infect(ctl, blob)    map the shared region, start the
 *                                  parasite, connect its control socket
 *   6. compel_args(ctl)            fill arguments (caller-side pointer)
 *      compel_rpc_call()           send a command (+ fds with SCM_RIGHTS)
 *      compel_rpc_recv_fds()       take fds the parasite sends back
 *      compel_rpc_wait()           wait for the command's result
 *      compel_run_in_thread()      one command in another thread's context
 *      compel_run_in_threads()     the same in many threads, in parallel
 *   7. compel_cure(ctl)            stop the parasite, restore everything,
 *                                  unmap the region
 *   8. compel_release(ctl)         free the handle
 *   9. compel_detach_task(pid)     PTRACE_DETACH every thread
 *
 * All calls return 0 on success and -1 on failure (with errno set where
 * a system call failed), and explain failures through the log callback.
 * Nothing is written to stdout/stderr by the library.  As ptrace wants,
 * every call for one victim must come from the thread that seized it.
 *
 * If the caller dies at any point, the victim goes on as before (a victim
 * without room for the trampoline aside: see Documentation/compel.md,
 * window by window). A victim whose seccomp filters could harm a call
 * compel makes once the caller is gone is refused (compel_seccomp_may_harm()).
 *
 * Parasite side: plugins/std/include/std/parasite.h.  A dump pulling
 * pages would do, with a command MY_VMSPLICE of its own parasite:
 *
 *	struct my_args *a = compel_args(ctl);
 *	a->addr = vma_start; a->len = len;	// victim addresses
 *	pipe(p);
 *	compel_rpc_call(ctl, MY_VMSPLICE, &p[1], 1);
 *	... read p[0] while the parasite vmsplices into p[1] ...
 *	compel_rpc_wait(ctl, &ret);
 *
 * and for file descriptors: compel_rpc_call(ctl, MY_SEND_FDS, NULL, 0),
 * then compel_rpc_recv_fds() per batch the parasite sends with
 * std_send_fds(), then compel_rpc_wait().  Pointers the parasite is to
 * use must be victim addresses: compel_args_remote() is the argument
 * area's.  compel_syscall(ctl, __NR_mmap, ...) etc. for the victim's mm.
 */
#ifndef COMPEL_UAPI_COMPEL_H
#define COMPEL_UAPI_COMPEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- logging ---------------------------------------------------------- */

enum compel_log_level {
	COMPEL_LOG_ERROR = 0,
	COMPEL_LOG_WARN  = 1,
	COMPEL_LOG_INFO  = 2,
	COMPEL_LOG_DEBUG = 3,
};

/*
 * Called for every message of level <= the level given to
 * compel_log_init().  file/line name the compel source (or "parasite"
 * and 0 for messages from parasite code).  msg has no trailing newline.
 */
typedef void (*compel_log_fn)(enum compel_log_level level, const char *file,
			      int line, const char *msg);

/* Install the callback (NULL: messages are dropped). */
void compel_log_init(compel_log_fn fn, enum compel_log_level max_level);

/*
 * Test hook: called at every step boundary of seize/prepare/infect/run/
 * cure with a running step number and a short name.  Used by the test
 * suite to SIGKILL the caller at each step.  NULL disables it.
 */
typedef void (*compel_step_fn)(int step, const char *what);
void compel_set_step_hook(compel_step_fn fn);

/* ---- seizing ------------------------------------------------------------ */

/* compel_seize*() flags */
#define COMPEL_SEIZE_SUSPEND_SECCOMP	0x1	/* PTRACE_O_SUSPEND_SECCOMP */
/*
 * A thread the caller has PTRACE_SEIZEd (PTRACE_O_TRACESYSGOOD) and
 * PTRACE_INTERRUPTed already, e.g. while it was frozen by a cgroup
 * freezer, is only waited for.
 */
#define COMPEL_SEIZE_ADOPT		0x2

/*
 * PTRACE_SEIZE one thread, PTRACE_INTERRUPT it and wait for the stop.
 * Fails with errno EAGAIN (and leaves the thread untraced) when it is a
 * vfork parent waiting for its child, which cannot be stopped.
 * Fails with EBUSY for a task in group-stop (SIGSTOP'ed).
 */
int compel_seize(pid_t tid, unsigned int flags);

/*
 * Seize every thread of process pid, repeating until no new thread
 * shows up.  *tids (malloc'ed, caller frees) receives the thread ids,
 * leader first.  On failure, nothing stays seized.
 */
int compel_seize_task(pid_t pid, unsigned int flags, pid_t **tids, int *nr);

/*
 * The same, but a process in group-stop (SIGSTOP, SIGTSTP, SIGTTIN,
 * SIGTTOU) is seized too: *stop_sig receives its stop signal, 0 for a
 * running one. Released, it stays stopped.
 */
int compel_seize_task_stopped(pid_t pid, unsigned int flags, pid_t **tids, int *nr,
			      int *stop_sig);

/* PTRACE_DETACH a stopped thread (0 signal). */
int compel_detach(pid_t tid);
int compel_detach_task(const pid_t *tids, int nr);

/*
 * Credentials of a task, read by the caller from /proc/<pid>/status.
 * Never ask the parasite for what you must trust.
 */
struct compel_creds {
	uid_t		uid[4];		/* real, effective, saved, fs */
	gid_t		gid[4];
	uint64_t	cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int		seccomp;	/* 0 none, 1 strict, 2 filter */
	int		no_new_privs;
};
int compel_task_creds(pid_t pid, struct compel_creds *c);

/*
 * seccomp: should the caller die, PTRACE_O_SUSPEND_SECCOMP goes away with
 * it and the victim's filters judge every call its thread then makes (one
 * compel had set up, the parasite's, those of the way home).  A call the
 * filters answer with SECCOMP_RET_KILL_PROCESS, KILL_THREAD, TRAP,
 * USER_NOTIF or an action seccomp does not know is harmed; ERRNO, TRACE
 * (no tracer: ENOSYS), LOG and ALLOW just make it fail or run, except for
 * a call that must run (rt_sigreturn going home: only LOG and ALLOW).
 * compel_infect() refuses a victim whose filters may harm a call of its
 * own; a caller checks its parasite's calls with the same query.
 */
struct compel_bpf {
	const void	*insns;		/* struct sock_filter[len] */
	int		len;
};

#define COMPEL_SC_IP	(1u << 6)	/* in compel_sc_call.known: ip is fixed */

struct compel_sc_call {
	long		nr;		/* of this architecture */
	const char	*name;
	unsigned int	known;		/* bit i: args[i] is fixed; COMPEL_SC_IP */
	uint64_t	args[6];
	uint64_t	ip;
	int		must_run;	/* only LOG and ALLOW are harmless */
};

/*
 * 1 if the chain @f[0..n) (any order; the strictest action wins) may harm
 * call @c, with *act such an action (SECCOMP_RET_ACTION_FULL bits); 0 if
 * not.  What @c does not fix may be anything: a jump on it takes both
 * branches.  A program seccomp would not take, or too many paths to
 * follow, may harm.
 */
int compel_seccomp_may_harm(const struct compel_bpf *f, int n, const struct compel_sc_call *c,
			    uint32_t *act);
/* "SECCOMP_RET_KILL_PROCESS", ... */
const char *compel_seccomp_action_name(uint32_t act);
/* The calls compel's daemon, its trampoline and the way home make: *calls, their count. */
int compel_seccomp_own_calls(const struct compel_sc_call **calls);

/* ---- the parasite blob (generated by `compel hgen`) ------------------- */

/*
 * A parasite as produced by `compel hgen -i parasite.o -o blob.h -p NAME`:
 * the header defines `static const struct compel_blob NAME_blob`.
 * code[0..code_size) is copied to the region, then zeroes up to mem_size
 * (bss); each relocs[i] is the offset of a 64-bit word to which the
 * load address is added.
 */
struct compel_blob {
	const char		*name;
	const unsigned char	*code;
	size_t			code_size;
	size_t			mem_size;
	const uint32_t		*relocs;
	unsigned int		nr_relocs;
	size_t			daemon_entry;	/* offset of __compel_daemon_entry */
	size_t			thread_entry;	/* offset of __compel_thread_entry */
};

/* ---- infection ---------------------------------------------------------- */

struct compel_ctl;

/*
 * Save the state of the stopped thread `tid` (normally the leader)
 * that compel will disturb.  The thread must be stopped by
 * compel_seize*() and stay so until compel_release().
 */
struct compel_ctl *compel_prepare(pid_t tid);

/*
 * 1 if the thread was stopped inside a syscall that the kernel will
 * restart or fail with EINTR on resume (rax is -ERESTART*); *nr is the
 * syscall number.  0 otherwise.
 */
int compel_in_syscall(struct compel_ctl *ctl, long *nr);

/*
 * Run syscall nr with up to six arguments in the victim and store its
 * raw result (-errno on failure) in *ret.  Before compel_infect() this
 * uses ptrace (a `syscall` instruction found in the vDSO, stopped with
 * PTRACE_SYSCALL); once infected the parasite runs it.  Returns -1 only
 * if the syscall could not be run.
 */
int compel_syscall(struct compel_ctl *ctl, long nr, long *ret,
		   unsigned long a0, unsigned long a1, unsigned long a2,
		   unsigned long a3, unsigned long a4, unsigned long a5);

/*
 * Map the shared region (blob + frames + stacks + args_size bytes of
 * argument area) into the victim and the caller, start the blob's
 * daemon with all signals blocked, and connect to it.
 */
int compel_infect(struct compel_ctl *ctl, const struct compel_blob *blob,
		  size_t args_size);
/*
 * After a failed compel_infect(): the errno of the victim's own mmap of the
 * region, 0 if that mmap did not fail. EAGAIN there means the victim's
 * locked-memory limit: under mlockall(MCL_FUTURE) every new mapping is
 * locked, the region too.
 */
int compel_map_error(const struct compel_ctl *ctl);

/* Caller-side address of the argument area, and its victim address. */
void *compel_args(struct compel_ctl *ctl);
unsigned long compel_args_remote(struct compel_ctl *ctl);
size_t compel_args_size(struct compel_ctl *ctl);

/*
 * Send command cmd (< 0x40000000) to the daemon, with nfds (<= 64) file
 * descriptors attached (e.g. pipes to vmsplice into).  The parasite's
 * parasite_cmd() runs it.  Then, in order: compel_rpc_recv_fds() for
 * every batch of fds the command sends back, and compel_rpc_wait().
 */
int compel_rpc_call(struct compel_ctl *ctl, unsigned int cmd,
		    const int *fds, unsigned int nfds);
/* More fds for a running command, taken by std_recv_fds() (n <= 64). */
int compel_rpc_send_fds(struct compel_ctl *ctl, const int *fds, unsigned int n);
/* Receive exactly nfds fds sent by std_send_fds() in the parasite. */
int compel_rpc_recv_fds(struct compel_ctl *ctl, int *fds, unsigned int nfds);
/* Wait for the reply; *ret gets parasite_cmd()'s return value. */
int compel_rpc_wait(struct compel_ctl *ctl, int *ret);
/* call + wait, no fds. */
int compel_rpc_call_sync(struct compel_ctl *ctl, unsigned int cmd, int *ret);

/*
 * Run cmd once in the context of thread tid (seized and stopped, not
 * the daemon's thread), using the same argument area.  The thread's
 * registers, xsave area, signal mask and rseq_cs are saved and put back;
 * it is left stopped.  *ret gets parasite_cmd()'s return value.
 */
int compel_run_in_thread(struct compel_ctl *ctl, pid_t tid,
			 unsigned int cmd, int *ret);

/*
 * Run cmd in each of the n threads tids[] (seized, stopped, not the
 * daemon's), up to 16 at a time in parallel.  Each thread gets its own
 * COMPEL_THREAD_ARGS_SIZE-byte argument area, filled with the first
 * bytes of compel_args() before it starts; when it has replied,
 * done(priv, tid, ret, area) is called (caller-side pointer to that
 * area, valid during the call).  A non-zero return from done stops the
 * batch.  Every thread is restored and left stopped, whatever happens.
 */
#define COMPEL_THREAD_ARGS_SIZE	4096
typedef int (*compel_thread_done_fn)(void *priv, pid_t tid, int ret, void *args);
int compel_run_in_threads(struct compel_ctl *ctl, const pid_t *tids, int n,
			  unsigned int cmd, compel_thread_done_fn done, void *priv);

/*
 * Stop the parasite, restore registers, xsave area, signal mask and
 * rseq_cs, close the parasite's fds and unmap the region.  The thread
 * stays stopped.  Also puts back a victim whose compel_infect() failed
 * half-way or whose parasite crashed.
 */
int compel_cure(struct compel_ctl *ctl);

/* Free ctl (cures first if still infected). */
void compel_release(struct compel_ctl *ctl);

/*
 * Size in bytes of the FPU/vector state compel saves per thread (x86: the
 * xsave area, CPUID leaf 0xD), 0 if the CPU has none.
 */
size_t compel_fpu_state_size(void);

#ifdef __cplusplus
}
#endif

#endif /* COMPEL_UAPI_COMPEL_H */
