/*
 * Task features criu does not carry in its images yet. A restored thread
 * inherits each of them from criu (fork, then clone in the restorer), so
 * the dump compares every thread's with criu's own and refuses any that
 * differs ("... is not supported yet"):
 *
 *   speculation control  PR_GET_SPECULATION_CTRL of store bypass, indirect
 *                         branches, L1D flush (the parasite reads the task's)
 *   CPUID faulting        ARCH_GET_CPUID (parasite)
 *   AMX permission        ARCH_GET_XCOMP_PERM (parasite)
 *   LAM                   ARCH_GET_UNTAG_MASK (parasite; ~0 without LAM)
 *   core scheduling       PR_SCHED_CORE_GET cookie of the thread
 *   I/O flusher           PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE in
 *                         /proc/PID/task/TID/stat (PR_GET_IO_FLUSHER needs
 *                         CAP_SYS_RESOURCE, which criu may lack)
 *   utilization clamps    sched_getattr's sched_util_min/max
 *   LSM label             /proc/PID/task/TID/attr/current
 *
 * Syscall user dispatch is refused apart, before the parasite is injected:
 * with it on, the parasite's own syscalls could be diverted.
 *
 * Steps: 1. task_features_own() once; 2. per thread task_features_read()
 * after the parasite ran; 3. task_features_diff() names what differs.
 */
#ifndef CRIU_TASK_FEATURES_H
#define CRIU_TASK_FEATURES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch-features.h"

#define TASK_SPEC_NR		3	/* PR_SPEC_STORE_BYPASS .. PR_SPEC_L1D_FLUSH */
#define TASK_LSM_MAX		256

struct parasite_thread;

struct task_features {
	int32_t		spec[TASK_SPEC_NR];	/* the prctl's value, or -errno */
	struct arch_task_features arch;		/* the architecture's (arch-features.h) */
	uint64_t	core_cookie;		/* 0: none, or no core scheduling here */
	uint32_t	io_flusher;		/* those two PF_ bits of stat's flags */
	uint32_t	util_min, util_max;	/* 0, 0 without SCHED_FLAG_UTIL_CLAMP */
	char		lsm[TASK_LSM_MAX];	/* "" without an LSM */
};

int task_features_own(struct task_features *f);
int task_features_read(pid_t pid, pid_t tid, const struct parasite_thread *p,
		       struct task_features *f);
/* criu/arch/ARCH/features.c: criu's own, and the comparison as below. */
void arch_task_features_own(struct arch_task_features *f);
int arch_task_features_diff(const struct arch_task_features *t,
			    const struct arch_task_features *own, char *buf, size_t len);
/* 0 if the same; 1 with what differs (and both values) in @buf. */
int task_features_diff(const struct task_features *t, const struct task_features *own,
		       char *buf, size_t len);

#endif /* CRIU_TASK_FEATURES_H */
