/*
 * mlockall(MCL_FUTURE) survives: mappings made after the restore are
 * locked ("lo" in VmFlags), with MCL_ONFAULT also "lf", while a mapping
 * made before mlockall stays unlocked (MCL_FUTURE alone does not lock what
 * exists). Without mlockall ("none") a new mapping is not locked.
 * "limit": MCL_FUTURE without CAP_IPC_LOCK and a RLIMIT_MEMLOCK of 256 KiB:
 * the parasite's region cannot be mapped (locked), the dump refuses
 * and the task runs on, its new mappings still locked.
 * Usage: mlockall future|onfault|none|limit RESULT
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "e2e-vma.h"

#define PAGE	4096
#define LIMIT	(256 * 1024)	/* the parasite's region is larger (16 thread slots of 32 KiB stacks) */

/* VmFlags of a fresh one-page mapping, unmapped again. */
static void new_mapping_flags(char *out, size_t size)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	e2e_vmflags(p, out, size);
	munmap(p, PAGE);
}

static void expect(const char *when, const char *flags, bool lo, bool lf)
{
	if (e2e_has_vmflag(flags, "lo") != lo || e2e_has_vmflag(flags, "lf") != lf)
		e2e_fail("%s: a new mapping has VmFlags \"%s\", want%s lo%s", when, flags,
			 lo ? "" : " no", lf ? " and lf" : lo ? " without lf" : "");
}

/* Locked memory limited to LIMIT bytes, and no CAP_IPC_LOCK to go beyond. */
static void limit_locking(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit r = { LIMIT, LIMIT };

	if (setrlimit(RLIMIT_MEMLOCK, &r) || syscall(SYS_capget, &h, d))
		e2e_fail("limit: %s", strerror(errno));
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	if (syscall(SYS_capset, &h, d))
		e2e_fail("capset: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";
	bool limit = !strcmp(mode, "limit");
	bool lo = !strcmp(mode, "future") || !strcmp(mode, "onfault") || limit;
	bool lf = !strcmp(mode, "onfault");
	char flags[256];
	char *before;

	e2e_init(argc - 1, argv + 1);
	if (!lo && strcmp(mode, "none"))
		e2e_fail("usage: mlockall future|onfault|none|limit RESULT");
	if (limit)
		limit_locking();
	before = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (before == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	before[0] = 1;
	if (lo && mlockall(MCL_FUTURE | (lf ? MCL_ONFAULT : 0)))
		e2e_fail("mlockall: %s", strerror(errno));
	new_mapping_flags(flags, sizeof(flags));
	expect("before the dump", flags, lo, lf);

	e2e_ready();
	e2e_wait_stop();

	new_mapping_flags(flags, sizeof(flags));
	expect(limit ? "after the refused dump" : "after the restore", flags, lo, lf);
	e2e_vmflags(before, flags, sizeof(flags));
	if (e2e_has_vmflag(flags, "lo"))
		e2e_fail("the mapping made before mlockall is locked now (\"%s\")", flags);
	e2e_pass();
}
