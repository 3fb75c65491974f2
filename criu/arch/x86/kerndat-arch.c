/*
 * x86_64 kerndat probes (criu/include/kerndat-probe.h): the xsave area
 * (CPUID leaf 0xD, XCR0), 32-bit syscalls through int $0x80 (IA32
 * emulation) and arch_prctl(ARCH_MAP_VDSO_64).
 */
#include <cpuid.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <asm/prctl.h>

#define LOG_PREFIX "kerndat: "
#include "log.h"
#include "kerndat.h"
#include "kerndat-probe.h"

int probe_arch_fpu(struct kd_status *st)
{
	unsigned int a, b, c, d, lo, hi;

	if (__get_cpuid_max(0, NULL) < 0xd)
		return kd_fail(st, "CPUID has no leaf 0xD", 0);
	__cpuid(1, a, b, c, d);
	if (!(c & bit_XSAVE) || !(c & bit_OSXSAVE))
		return kd_fail(st, "CPUID.1: XSAVE or OSXSAVE not set", 0);
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	kdat.arch.xfeatures = (uint64_t)hi << 32 | lo;
	__cpuid_count(0xd, 0, a, b, c, d);
	kdat.arch.xfeatures_cpu = (uint64_t)d << 32 | a;
	kdat.arch.xsave_size = b;
	pr_debug("xsave: XCR0 %#llx, CPU supports %#llx, area %u bytes (max %u)",
		 (unsigned long long)kdat.arch.xfeatures,
		 (unsigned long long)kdat.arch.xfeatures_cpu, b, c);
	return 0;
}

void arch_kdat_log(void)
{
	pr_info("xsave area %u bytes, XCR0 %#llx", kdat.arch.xsave_size,
		(unsigned long long)kdat.arch.xfeatures);
}

/* In a child: the i386 getpid (20) through int $0x80 must answer our pid. */
static int child_compat(struct kd_child_res *r)
{
	long ret;

	asm volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	r->val = ret;
	return ret == getpid() ? 0 : kd_fail(&r->st, "int $0x80 getpid", ret < 0 ? -ret : 0);
}

int probe_compat(struct kd_status *st)
{
	struct kd_child_res r = {};

	if (kd_run_child(0, child_compat, &r, st) == 0)
		return 0;
	if (!st->err)	/* killed: the kernel refuses 32-bit syscalls */
		st->step = "int $0x80 killed the probe child (IA32 emulation off)";
	return -1;
}

/* In a child: unmap the vdso and its data pages, then map them anew. */
static int child_map_vdso(struct kd_child_res *r)
{
	unsigned int k;
	long ret;

	for (k = 0; k < KD_VMA_NR; k++)
		if (k != KD_VMA_VSYSCALL && kdat.vma[k].present)
			munmap((void *)kdat.vma[k].start, kdat.vma[k].size);
	ret = syscall(SYS_arch_prctl, ARCH_MAP_VDSO_64, kdat.vma[KD_VMA_VDSO].start);
	if (ret < 0)
		return kd_fail(&r->st, "arch_prctl(ARCH_MAP_VDSO_64)", errno);
	return 0;
}

int probe_map_vdso(struct kd_status *st)
{
	struct kd_child_res r = {};

	if (kerndat_probe(KD_VDSO))
		return kd_fail(st, "the vdso layout is unknown", 0);
	return kd_run_child(0, child_map_vdso, &r, st);
}
