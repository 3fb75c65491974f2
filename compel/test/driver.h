/* The test driver: a process that infects a victim with compel. */
#ifndef COMPEL_TEST_DRIVER_H
#define COMPEL_TEST_DRIVER_H

#include <sys/types.h>
#include "victim.h"

struct dplan {
	pid_t		pid;
	int		nthreads;
	int		kill_at;	/* SIGKILL ourselves at this step (0: no) */
	long		expect_nr;	/* syscall the leader is stopped in, -1 any */
	int		full;		/* remote mmap, vmsplice, fds, log checks */
	int		eintr;		/* send SIGUSR1 while the victim is held */
	int		seccomp;	/* seize with PTRACE_O_SUSPEND_SECCOMP */
	int		refused;	/* compel_infect() must refuse (seccomp kill) */
	int		thread_refused;	/* a command in thread 1 must be refused */
	int		crash;		/* make the parasite fault, then cure */
	int		per_thread;	/* run a command in every other thread */
	int		hostile_rseq;	/* leader armed rseq_cs: check it is kept */
	int		batch;		/* per-thread commands in parallel */
	int		thread_crash;	/* a faulting command in the threads */
	int		pidns;		/* victim is init of its own pid namespace */
};

/* Runs in a child process; returns 0 on success, else fills vs->dwhy. */
int drive(struct vshared *vs, const struct dplan *p);

#endif
