/*
 * x86_64 task features (criu/include/task-features.h): CPUID faulting,
 * the permission for AMX tile data and the LAM untag mask, read with
 * arch_prctl from criu itself (the parasite reads the task's) and compared.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <asm/prctl.h>

#include "task-features.h"
#include "sigframe-abi.h"

void arch_task_features_own(struct arch_task_features *f)
{
	unsigned long long perm = 0;
	unsigned long mask = ~0UL;

	f->cpuid = (int32_t)syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0);
	if (f->cpuid < 0)
		f->cpuid = -errno;
	if (syscall(SYS_arch_prctl, K_ARCH_GET_XCOMP_PERM, &perm))
		perm = 0;
	f->xcomp_perm = perm;
	if (syscall(SYS_arch_prctl, K_ARCH_GET_UNTAG_MASK, &mask))
		mask = ~0UL;
	f->untag_mask = mask;
}

int arch_task_features_diff(const struct arch_task_features *t,
			    const struct arch_task_features *own, char *buf, size_t len)
{
	if (t->cpuid != own->cpuid)
		snprintf(buf, len, "CPUID faulting (ARCH_SET_CPUID: %d, criu's %d)", t->cpuid,
			 own->cpuid);
	else if (t->xcomp_perm != own->xcomp_perm)
		snprintf(buf, len, "permission for extended state components such as AMX tile data (ARCH_REQ_XCOMP_PERM: %#llx, criu's %#llx)",
			 (unsigned long long)t->xcomp_perm, (unsigned long long)own->xcomp_perm);
	else if (t->untag_mask != own->untag_mask)
		snprintf(buf, len, "linear address masking (ARCH_ENABLE_TAGGED_ADDR: untag mask %#llx, criu's %#llx)",
			 (unsigned long long)t->untag_mask, (unsigned long long)own->untag_mask);
	else
		return 0;
	return 1;
}
