/* x86_64 register set as ptrace sees it. */
#ifndef COMPEL_ARCH_X86_H
#define COMPEL_ARCH_X86_H

#include <sys/user.h>
#include <linux/audit.h>

typedef struct user_regs_struct compel_regs_t;

#define ARCH_SYSCALL_INSN	"\x0f\x05"
#define ARCH_SYSCALL_INSN_LEN	2
#define CPL_AUDIT_ARCH		AUDIT_ARCH_X86_64	/* seccomp_data.arch */

/*
 * The trampoline compel writes into bytes of the vDSO that nothing runs
 * (see rsys.c).  Entry CALL: rax = nr, args as for a syscall, rsp =
 * frame + 8; after the call, undo 1 is r12(rbx ? result : rdi, rsi),
 * undo 2 is r14(r13, r15), then rt_sigreturn.  15 (rt_sigreturn) as an
 * undo number goes home at once.  Entry HOME: rbx = &users, rdi/rsi =
 * the region, r9/r8 = &rseq_cs and its value (r9: a harmless slot if
 * none); the last user out unmaps the region, then rseq_cs is put back
 * (no syscall may follow that inside a hostile critical section) and
 * rt_sigreturn.
 *
 *   0: syscall; test %rbx,%rbx; cmovnz %rax,%rdi; mov %r12,%rax; syscall
 *  14: mov %r13,%rdi; mov %r15,%rsi; mov %r14,%rax; syscall; jmp 42
 *  27: lock decl (%rbx); jnz 39; mov $11,%eax; syscall
 *  39: mov %r8,(%r9)
 *  42: mov $15,%eax; syscall; ud2
 */
#define ARCH_TRAMPOLINE \
	"\x0f\x05\x48\x85\xdb\x48\x0f\x45\xf8\x4c\x89\xe0" \
	"\x0f\x05\x4c\x89\xef\x4c\x89\xfe\x4c\x89\xf0\x0f" \
	"\x05\xeb\x0f\xf0\xff\x0b\x75\x07\xb8\x0b\x00\x00" \
	"\x00\x0f\x05\x4d\x89\x01\xb8\x0f\x00\x00\x00\x0f" \
	"\x05\x0f\x0b"
#define ARCH_TRAMPOLINE_LEN	51
#define ARCH_TRAMPOLINE_HOME	27	/* offset of entry HOME */
#define ARCH_RED_ZONE		128	/* below sp, the task's own */
#define ARCH_NR_SIGRETURN	15	/* undo "none" */

#endif
