/*
 * Per-thread state only arch_prctl reports, compared with criu's own
 * before a dump (criu/include/task-features.h). Plain C on
 * <linux/types.h>: the parasite fills it too (parasite-proto.h).
 */
#ifndef CRIU_ARCH_X86_FEATURES_H
#define CRIU_ARCH_X86_FEATURES_H

#include <linux/types.h>

struct arch_task_features {
	__s32	cpuid;		/* ARCH_GET_CPUID: 1, 0 (faulting) or -errno */
	__u32	pad;
	__u64	xcomp_perm;	/* ARCH_GET_XCOMP_PERM, 0 if it fails */
	__u64	untag_mask;	/* ARCH_GET_UNTAG_MASK, ~0 if it fails (no LAM) */
};

#endif
