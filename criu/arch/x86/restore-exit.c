/*
 * x86_64 side of the restorer's clean exit and of the jump into it
 * (criu/include/arch.h; the plan is in restore-task.c): the instruction
 * bytes of a "syscall; ret" gadget and of an rt_sigreturn trampoline, where
 * a signal delivery would put the two frames and the xsave image on a
 * thread's stack, and the jump onto the restorer's stack.
 */
#include <string.h>

#include "arch.h"
#include "compiler.h"
#include "restorer-args.h"

#define RED_ZONE	128	/* below sp, the ABI leaves it to the function */

/* mov $15, %rax; syscall  and  mov $15, %eax; syscall */
static const unsigned char rt_a[] = { 0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05 };
static const unsigned char rt_b[] = { 0xb8, 0x0f, 0, 0, 0, 0x0f, 0x05 };

/*
 * "syscall", then only xors that zero a scratch register (the vdso's
 * speculation hygiene after its fallback syscalls), then "ret". The zeroed
 * registers do not matter: the final frame sets every register.
 */
bool arch_syscall_ret_at(const unsigned char *p, size_t len)
{
	size_t i = 2, steps;

	if (len < 3 || p[0] != 0x0f || p[1] != 0x05)
		return false;
	for (steps = 0; steps < 12 && i < len; steps++) {
		unsigned char m;

		if (p[i] == 0xc3)
			return true;
		if (p[i] == 0x31 && i + 1 < len) {
			m = p[i + 1];	/* xor r32, same r32: not esp/ebp */
			if ((m & 0xc0) != 0xc0 || ((m >> 3) & 7) != (m & 7) || (m & 7) == 4 || (m & 7) == 5)
				return false;
			i += 2;
		} else if ((p[i] == 0x45 || p[i] == 0x4d) && i + 2 < len && p[i + 1] == 0x31) {
			m = p[i + 2];	/* xor r8-r15, same */
			if ((m & 0xc0) != 0xc0 || ((m >> 3) & 7) != (m & 7))
				return false;
			i += 3;
		} else {
			return false;
		}
	}
	return false;
}

bool arch_sigreturn_at(const unsigned char *code, size_t len)
{
	if (len < sizeof(rt_a))
		return false;
	return !memcmp(code, rt_a, sizeof(rt_a)) || !memcmp(code, rt_b, sizeof(rt_b));
}

const unsigned char *arch_find_sigreturn(const unsigned char *code, size_t len)
{
	return memmem(code, len, rt_a, sizeof(rt_a));
}

/*
 * Below sp and its red zone: the xsave image (64-byte aligned, magic2
 * after it), then the final frame and the gadget's frame, each placed as a
 * handler's return address would be (16-byte aligned minus 8).
 */
int arch_final_frames(uint64_t sp, uint32_t fpu_size, uint64_t *fpu, uint64_t *final,
		      uint64_t *first)
{
	uint64_t xs, f2, f1;

	if ((xs = round_down(sp - RED_ZONE - (fpu_size + 4), 64)) > sp ||
	    (f2 = round_down(xs - RST_SIGFRAME_MAX, 16) - 8) > xs ||
	    (f1 = round_down(f2 - RST_SIGFRAME_MAX, 16) - 8) > f2)
		return -1;
	*fpu = xs;
	*final = f2;
	*first = f1;
	return 0;
}

void arch_jump(uint64_t sp, void *arg, uint64_t entry)
{
	__asm__ __volatile__(
		"movq	%0, %%rsp\n"
		"movq	%1, %%rdi\n"
		"jmpq	*%2\n"
		:
		: "r"(sp), "r"(arg), "r"(entry)
		: "memory");
	__builtin_unreachable();
}
