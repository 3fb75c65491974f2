/*
 * Layer 1 of the parasite runtime: raw x86_64 system calls.
 * The kernel takes the number in rax, arguments in rdi, rsi, rdx, r10,
 * r8, r9, returns in rax and clobbers rcx and r11.
 */
#ifndef STD_ARCH_SYSCALL_ARCH_H
#define STD_ARCH_SYSCALL_ARCH_H

static inline long syscall0(long nr)
{
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr)
			     : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall1(long nr, long a0)
{
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a0)
			     : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall2(long nr, long a0, long a1)
{
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret)
			     : "a"(nr), "D"(a0), "S"(a1)
			     : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall3(long nr, long a0, long a1, long a2)
{
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret)
			     : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
			     : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall4(long nr, long a0, long a1, long a2, long a3)
{
	register long r10 __asm__("r10") = a3;
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret)
			     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
			     : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall5(long nr, long a0, long a1, long a2, long a3,
			    long a4)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret)
			     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10),
			       "r"(r8)
			     : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall6(long nr, long a0, long a1, long a2, long a3,
			    long a4, long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret)
			     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10),
			       "r"(r8), "r"(r9)
			     : "rcx", "r11", "memory");
	return ret;
}

#endif /* STD_ARCH_SYSCALL_ARCH_H */
