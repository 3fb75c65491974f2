/*
 * What an architecture provides to criu (criu/arch/ARCH/), so that
 * generic code never names a register, an FPU layout or a signal frame.
 * Documentation/porting.md lists the whole port (compel, the restorer).
 *
 * Dump: arch_dump_regs() per seized thread: its registers and FPU state
 * into the thread's core entry (criu/arch/ARCH/include/arch-image.h names
 * the image types and ARCH_FPU_MAX, the size of @scratch).
 *
 * Restore, in the order cmd-restore.c and restore-threads.c call them:
 *   1. arch_rst_check_regs()    per thread, while the images are read:
 *                                register values and the FPU image's shape
 *   2. arch_rst_check_fpu()     once per process, in criu before any fork:
 *                                every thread's FPU image against this CPU,
 *                                and what this kernel's signal frames carry
 *   3. arch_rst_fpu_len()       sizes each thread's FPU slot in the region
 *   4. arch_rst_fill_thread()   registers (syscall restart applied) and the
 *                                FPU image into the restorer's thread block
 *      arch_rst_fill_args()     the signal-frame FPU size and features
 *
 * The restorer's clean exit (restore-task.c), in the new task:
 *   arch_syscall_ret_at()      a "syscall; ret" gadget at @p (in the vdso)
 *   arch_sigreturn_at()        an rt_sigreturn trampoline at @code
 *   arch_find_sigreturn()      the first one in @len bytes of code
 *   arch_final_frames()        the FPU image and two frames below a
 *                              thread's @sp: -1 if they wrap around
 *   arch_jump()                onto the restorer's stack, entry(@arg)
 *
 * arch_fpu_check() is step 2 for one image against given host facts, with
 * no probing: the fuzz target fuzz-fpu runs it (and step 4) on any bytes.
 */
#ifndef CRIU_ARCH_H
#define CRIU_ARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "core.pb-c.h"

struct dump_thread;
struct rst_image;
struct rst_thread;
struct restorer_args;

int arch_dump_regs(pid_t tid, struct dump_thread *th, uint8_t *scratch);

/* What the host accepts of an FPU image. */
struct arch_fpu_host {
	uint32_t	size;		/* bytes of this CPU's FPU state */
	uint64_t	features;	/* state components enabled on this CPU */
};

int arch_rst_check_regs(const struct rst_image *ri, const ThreadCoreEntry *t);
/* @who names the thread in messages; *used gets the components in use. */
int arch_fpu_check(const ProtobufCBinaryData *fpu, const struct arch_fpu_host *host,
		   uint64_t *used, const char *who);
int arch_rst_check_fpu(struct rst_image *ri);
size_t arch_rst_fpu_len(const ThreadCoreEntry *t);
/* @fpu_at: the thread's FPU slot (arch_rst_fpu_len() + 64 bytes, aligned). */
void arch_rst_fill_thread(const ThreadCoreEntry *t, struct rst_thread *d, uint64_t fpu_at);
void arch_rst_fill_args(const struct rst_image *ri, struct restorer_args *a);

bool arch_syscall_ret_at(const unsigned char *p, size_t len);
bool arch_sigreturn_at(const unsigned char *code, size_t len);
const unsigned char *arch_find_sigreturn(const unsigned char *code, size_t len);
int arch_final_frames(uint64_t sp, uint32_t fpu_size, uint64_t *fpu, uint64_t *final,
		      uint64_t *first);
void arch_jump(uint64_t sp, void *arg, uint64_t entry) __attribute__((noreturn));

#endif
