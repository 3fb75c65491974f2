/*
 * The architecture's part of the established format's thread core
 * (criu/include/est-regs.h): the messages one exported thread points to,
 * and the machine type its core-TID.img carries. x86: thread_info_x86.
 */
#ifndef CRIU_ARCH_X86_EST_H
#define CRIU_ARCH_X86_EST_H

#include "est/core.pb-c.h"

#define ARCH_EST_MARCH	EST__CORE_ENTRY__MARCH__X86_64

struct arch_est_thread {
	Est__ThreadInfoX86 ti;
	Est__UserX86RegsEntry g;
	Est__UserX86FpregsEntry fp;
	Est__UserX86XsaveEntry xs;
	Est__UserDescT tls[3], *tlsp[3];
};

#endif
