/*
 * The architecture's part of kdat (criu/include/kerndat.h): what the FPU
 * probe (probe_arch_fpu, KD_FPU) finds. x86: the xsave area.
 */
#ifndef CRIU_ARCH_X86_KDAT_H
#define CRIU_ARCH_X86_KDAT_H

#include <stdint.h>

struct arch_kdat {
	uint64_t xfeatures;		/* XCR0: enabled user state components */
	uint64_t xfeatures_cpu;		/* CPUID(0xD,0) EDX:EAX: supported ones */
	uint32_t xsave_size;		/* CPUID(0xD,0) EBX: size for XCR0 */
};

#endif
