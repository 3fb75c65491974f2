/* x86_64 register set as ptrace sees it. */
#ifndef COMPEL_ARCH_X86_H
#define COMPEL_ARCH_X86_H

#include <sys/user.h>
#include <linux/audit.h>

typedef struct user_regs_struct compel_regs_t;

#define ARCH_SYSCALL_INSN	"\x0f\x05"
#define ARCH_SYSCALL_INSN_LEN	2
#define CPL_AUDIT_ARCH		AUDIT_ARCH_X86_64	/* seccomp_data.arch */

#endif
