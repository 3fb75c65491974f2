/*
 * libFuzzer target for the architecture's checks of a thread's registers
 * and FPU image (criu/include/arch.h), what the restore runs before any
 * process is made: arch_rst_check_regs() on the thread entry, then
 * arch_fpu_check() against host facts taken from the input (size and
 * enabled components, as kdat would give them), and for an accepted
 * thread what follows on the restore: arch_rst_fill_thread() copies the
 * registers (syscall restart applied) and the FPU image into a slot of
 * the size restore-mem.c gives it, and arch_rst_fill_args(). Nothing may
 * crash, leak, trip a sanitizer or write past the slot.
 *
 * Input: u32 host FPU size, u64 host features (little-endian), then a
 * packed thread_core_entry of our own format (images/core.proto).
 *
 * Seeds (test/fuzz/corpus/fuzz-fpu): FUZZ_FPU_SEED=N fuzz-fpu > SEED writes
 * seed N (0..3) for this CPU: an idle thread, and one stopped in each kind
 * of restartable syscall (ERESTARTSYS, nanosleep and clock_nanosleep
 * through the restart block).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "arch.h"
#include "kerndat.h"
#include "log.h"
#include "restore-task.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Seed @n for this CPU's xsave area, packed after the host facts. */
static int write_seed(int n)
{
	static const int64_t nr[] = { -1, SYS_read, SYS_nanosleep, SYS_clock_nanosleep };
	static const int64_t ax[] = { 0, -512, -516, -516 };
	ThreadCoreEntry t = THREAD_CORE_ENTRY__INIT;
	UserRegsX86Entry r = USER_REGS_X86_ENTRY__INIT;
	uint8_t head[12], *buf, *x;
	uint32_t mxcsr = 0x1f80;
	uint64_t bv = 3;	/* x87 and SSE in use */
	size_t len;

	kerndat_probe(KD_FPU);
	if (n < 0 || n > 3 || !kdat.has_fpu)
		return 1;
	x = calloc(1, kdat.arch.xsave_size);
	memcpy(x + 24, &mxcsr, 4);
	memcpy(x + 512, &bv, 8);
	r.cs = 0x33, r.ss = 0x2b, r.ip = 0x401000, r.sp = 0x7ffe0000;
	r.orig_ax = (uint64_t)nr[n], r.ax = (uint64_t)ax[n];
	r.si = 0x7ffe1000, r.r10 = 0x7ffe2000;	/* rem of the sleeps */
	t.tid = 2, t.regs = &r, t.xsave.data = x, t.xsave.len = kdat.arch.xsave_size;
	len = thread_core_entry__get_packed_size(&t);
	buf = malloc(len);
	thread_core_entry__pack(&t, buf);
	memcpy(head, &kdat.arch.xsave_size, 4);
	memcpy(head + 4, &kdat.arch.xfeatures, 8);
	fwrite(head, 1, sizeof(head), stdout);
	fwrite(buf, 1, len, stdout);
	free(buf);
	free(x);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seed = getenv("FUZZ_FPU_SEED");

	(void)argc;
	(void)argv;
	log_init(NULL, NULL, getenv("FUZZ_LOG") ? LOG_DEBUG : LOG_NONE);
	if (seed)
		exit(write_seed(atoi(seed)));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arch_fpu_host host;
	struct rst_image ri = { .pid = 1 };
	struct restorer_args a = { 0 };
	struct rst_thread d = { 0 };
	ThreadCoreEntry *t;
	uint64_t used = 0;
	size_t slot;
	uint8_t *fpu;

	if (size < 12)
		return 0;
	host.size = (uint32_t)le(data, 4);
	host.features = le(data + 4, 8);
	if (host.size > RST_MAX_FPU)
		return 0;
	t = thread_core_entry__unpack(NULL, size - 12, data + 12);
	if (!t)
		return 0;
	if (arch_rst_check_regs(&ri, t) || arch_fpu_check(&t->xsave, &host, &used, "fuzz"))
		goto out;
	/* As restore-mem.c lays the slot out: the image, 64 bytes, a frame page. */
	slot = ((arch_rst_fpu_len(t) + 64 + 63) & ~63UL) + 4096;
	fpu = aligned_alloc(64, slot);
	if (fpu) {
		arch_rst_fill_thread(t, &d, (uint64_t)(unsigned long)fpu);
		ri.sig_fpu_size = host.size;
		ri.sig_fpu_features = host.features;
		arch_rst_fill_args(&ri, &a);
		free(fpu);
	}
out:
	thread_core_entry__free_unpacked(t, NULL);
	return 0;
}
