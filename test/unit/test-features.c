/*
 * Task features the images do not carry (criu/dump-features.c): a thread
 * whose value differs from criu's own is refused, naming the feature. Most
 * cannot be set on the test machine (no LAM, AMX, CPUID faulting, core
 * scheduling or LSM; the I/O flusher needs CAP_SYS_RESOURCE; speculation
 * control is fixed), so the comparison is checked here on made-up values,
 * and the readers on this process, which must equal itself.
 */
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "log.h"
#include "parasite-proto.h"
#include "task-features.h"
#include "unit.h"

static struct task_features own;
static char what[512];

static int setup(void)
{
	log_init(NULL, NULL, LOG_NONE);
	return task_features_own(&own) ? -1 : 0;
}

/* @f differs from criu's in one feature: refused, with @name in the message. */
static int refused(const struct task_features *f, const char *name)
{
	what[0] = '\0';
	if (task_features_diff(f, &own, what, sizeof(what)) != 1)
		return 0;
	return strstr(what, name) != NULL;
}

static int test_same(void)
{
	struct task_features f = own;

	CHECK(task_features_diff(&f, &own, what, sizeof(what)) == 0);
	return 0;
}

/* What the parasite reads in a thread of criu's, through task_features_read(). */
static int test_read_self(void)
{
	struct parasite_thread p;
	struct task_features f;
	int i;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < TASK_SPEC_NR; i++)
		p.spec[i] = own.spec[i];
	p.arch = own.arch;
	CHECK(task_features_read(getpid(), (pid_t)syscall(SYS_gettid), &p, &f) == 0);
	CHECK(task_features_diff(&f, &own, what, sizeof(what)) == 0);
	return 0;
}

static int test_speculation(void)
{
	struct task_features f = own;

	f.spec[1] = own.spec[1] ^ 0x4;		/* PR_SPEC_DISABLE */
	CHECK(refused(&f, "indirect branches (PR_SET_SPECULATION_CTRL)"));
	f = own;
	f.spec[0] = -22;			/* the kernel here or there does not know it */
	CHECK(own.spec[0] == -22 || refused(&f, "store bypass"));
	f = own;
	f.spec[2] = own.spec[2] ^ 0x8;		/* PR_SPEC_FORCE_DISABLE */
	CHECK(refused(&f, "L1D flush"));
	return 0;
}

static int test_io_flusher(void)
{
	struct task_features f = own;

	f.io_flusher = own.io_flusher ? 0 : 0x00180000;
	CHECK(refused(&f, "I/O flusher flag (PR_SET_IO_FLUSHER: "));
	return 0;
}

static int test_others(void)
{
	struct task_features f = own;

	f.arch.cpuid = own.arch.cpuid == 1 ? 0 : 1;	/* ARCH_SET_CPUID 0: CPUID faults */
	CHECK(refused(&f, "CPUID faulting (ARCH_SET_CPUID"));
	f = own;
	f.arch.xcomp_perm |= 1ULL << 18;		/* XFEATURE_XTILE_DATA */
	CHECK(own.arch.xcomp_perm & (1ULL << 18) || refused(&f, "AMX tile data (ARCH_REQ_XCOMP_PERM"));
	f = own;
	f.arch.untag_mask = ~0ULL >> 1;		/* LAM_U57: bits 57..62 ignored */
	CHECK(refused(&f, "linear address masking"));
	f = own;
	f.core_cookie = own.core_cookie + 1;
	CHECK(refused(&f, "core scheduling cookie (PR_SCHED_CORE"));
	f = own;
	f.util_min = own.util_min + 100;
	CHECK(refused(&f, "utilization clamps"));
	f = own;
	f.util_max = 512;
	CHECK(own.util_max == 512 || refused(&f, "utilization clamps"));
	return 0;
}

/* The LSM label: the same string passes, any other is refused (no LSM here). */
static int test_lsm(void)
{
	struct task_features f = own;

	strcpy(f.lsm, "unconfined_u:unconfined_r:unconfined_t:s0");
	CHECK(!strcmp(own.lsm, f.lsm) || refused(&f, "an LSM label (/proc/PID/attr/current"));
	strcpy(f.lsm, own.lsm);
	CHECK(task_features_diff(&f, &own, what, sizeof(what)) == 0);
	return 0;
}

static const struct unit_case cases[] = {
	{ "quiet logging, criu's own features", setup },
	{ "the same features pass", test_same },
	{ "this thread read as a dumped one is criu's", test_read_self },
	{ "speculation control differing is refused", test_speculation },
	{ "I/O flusher set is refused", test_io_flusher },
	{ "CPUID faulting, AMX permission, LAM, core cookie, clamps differing are refused",
	  test_others },
	{ "LSM label: equal passes, other refused", test_lsm },
};

UNIT_MAIN(cases)
