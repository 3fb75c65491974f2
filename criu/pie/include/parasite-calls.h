/*
 * Every syscall the criu parasite makes in a task (parasite.c and
 * arch/<arch>/parasite-arch.h, besides compel's daemon: compel has its own
 * table), and those criu asks it to make with compel_syscall(). Should
 * criu die while the parasite serves a command, the task's seccomp filters
 * are back and judge these calls: a dump refuses a task whose filters may
 * harm one of them, with any arguments (criu/dump-seccomp.c). Kept in
 * alphabetical order; test/unit/test-seccomp fails if the
 * parasite's source calls one missing here.
 */
#ifndef CRIU_PARASITE_CALLS_H
#define CRIU_PARASITE_CALLS_H

#include "arch-parasite-calls.h"	/* ARCH_PARASITE_SYSCALLS: arch/<arch>/parasite-arch.h */

#define PARASITE_SYSCALLS(X)						\
	/* parasite.c, then arch/<arch>/parasite-arch.h */		\
	ARCH_PARASITE_SYSCALLS(X) X(brk) X(clone) X(close) X(dup3) X(exit)		\
	X(get_mempolicy) X(getitimer) X(ioctl) X(keyctl) X(membarrier)	\
	X(personality) X(prctl) X(rt_sigaction) X(sigaltstack)		\
	X(timer_getoverrun) X(timer_gettime) X(umask) X(userfaultfd)	\
	X(vmsplice) X(wait4)						\
	/* criu through compel_syscall() (criu/dump-core.c) */		\
	X(waitid)

#endif
