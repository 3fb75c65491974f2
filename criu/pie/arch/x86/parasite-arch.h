/*
 * x86_64 pieces of the dump parasite (criu/pie/parasite.c), chosen by path
 * (-Icriu/pie/arch/ARCH): static inline, freestanding.
 *
 *   arch_thread_features()    what arch_prctl tells of the thread
 *                             (task-features.h: CPUID faulting, AMX
 *                             permission, LAM untag mask)
 *   arch_clone_ask_session()  a register-only child that reads the
 *                             session keyrings and exits
 */
#ifndef CRIU_PIE_X86_PARASITE_ARCH_H
#define CRIU_PIE_X86_PARASITE_ARCH_H

#include <std/syscall.h>
#include "parasite-proto.h"
#include "sigframe-abi.h"

static inline void arch_thread_features(struct parasite_thread *t)
{
	t->arch.cpuid = (__s32)syscall2(__NR_arch_prctl, K_ARCH_GET_CPUID, 0);
	if (syscall2(__NR_arch_prctl, K_ARCH_GET_XCOMP_PERM, (unsigned long)&t->arch.xcomp_perm))
		t->arch.xcomp_perm = 0;
	if (syscall2(__NR_arch_prctl, K_ARCH_GET_UNTAG_MASK, (unsigned long)&t->arch.untag_mask))
		t->arch.untag_mask = ~0ULL;
}

/*
 * Run in a child of the thread: clone(CLONE_VM | CLONE_VFORK), no exit
 * signal. Its credentials are a copy of the thread's, as a fork's would be,
 * but it shares the memory instead of copying it: a fork copies every vma
 * and page table under the mmap lock, which cost milliseconds per thread in
 * a process of many threads and made them wait for each other. It shares
 * the stack too, so it runs no C: it asks in registers, stores the answers
 * (keyctl(KEYCTL_GET_KEYRING_ID, @ses_id / @user_id)) and exits; the thread
 * sleeps until it has. Returns the child's pid or -errno.
 */
static inline long arch_clone_ask_session(__s32 *session, __s32 *user_session, long ses_id,
					  long user_id)
{
	long ret;

	__asm__ __volatile__("syscall\n\t"
			     "test %%rax, %%rax\n\t"
			     "jnz 1f\n\t"
			     "mov %[keyctl], %%eax\n\t"
			     "xor %%edi, %%edi\n\t"
			     "mov %[ses], %%rsi\n\t"
			     "xor %%edx, %%edx\n\t"
			     "syscall\n\t"
			     "movl %%eax, (%[s])\n\t"
			     "mov %[keyctl], %%eax\n\t"
			     "xor %%edi, %%edi\n\t"
			     "mov %[user], %%rsi\n\t"
			     "xor %%edx, %%edx\n\t"
			     "syscall\n\t"
			     "movl %%eax, (%[u])\n\t"
			     "mov %[exit], %%eax\n\t"
			     "xor %%edi, %%edi\n\t"
			     "syscall\n\t"
			     "1:\n\t"
			     : "=a"(ret)
			     : "a"(__NR_clone), "D"(0x00000100L | 0x00004000L /* CLONE_VM | CLONE_VFORK */),
			       "S"(0L), "d"(0L), [s] "r"(session),
			       [u] "r"(user_session), [keyctl] "i"(__NR_keyctl),
			       [ses] "r"(ses_id),
			       [user] "r"(user_id), [exit] "i"(__NR_exit)
			     : "rcx", "r11", "memory");
	return ret;
}

#endif
