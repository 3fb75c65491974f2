/*
 * The parasite's calls only this architecture has (criu/pie/include/
 * parasite-calls.h): x86's parasite reads per-thread state with
 * arch_prctl (arch/x86 parasite-arch.h).
 */
#ifndef CRIU_ARCH_PARASITE_CALLS_H
#define CRIU_ARCH_PARASITE_CALLS_H

#define ARCH_PARASITE_SYSCALLS(X)	X(arch_prctl)

#endif
