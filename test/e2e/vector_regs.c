/*
 * Vector registers hold known patterns across the checkpoint: zmm0-31 and
 * k0-7 with AVX-512, else ymm0-15 with AVX. One asm block loads the
 * patterns, reports readiness and closes the readiness pipe with raw
 * syscalls (no compiled code may run in between: it could use xmm
 * registers), spins without touching a vector register until SIGTERM sets
 * the flag, then stores every register for comparison. The kernel keeps
 * vector state across the SIGTERM handler, so only a bad checkpoint or
 * restore can change them.
 */
#include <cpuid.h>
#include <sys/syscall.h>

#include "e2e.h"

static unsigned char in[32 * 64] __attribute__((aligned(64)));
static unsigned char out[32 * 64] __attribute__((aligned(64)));
static uint64_t kin[8], kout[8];
static const char ready_byte = 'R';

static int cpu_has(int leaf, int reg, int bit)
{
	unsigned int r[4];

	__cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
	return (r[reg] >> bit) & 1;
}

static int os_enabled(uint64_t mask)
{
	unsigned int lo, hi;

	if (!cpu_has(1, 2, 27))		/* OSXSAVE */
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (((uint64_t)hi << 32 | lo) & mask) == mask;
}

/* write(fd, "R", 1); close(fd); then spin until *stop. Clobbers rax, rcx, r11, rdi, rsi, rdx. */
#define READY_AND_SPIN								\
	"movl $" __stringify(SYS_write) ", %%eax\n\t"				\
	"movl %[fd], %%edi\n\t"							\
	"movq %[rb], %%rsi\n\t"					\
	"movl $1, %%edx\n\t"							\
	"syscall\n\t"								\
	"movl $" __stringify(SYS_close) ", %%eax\n\t"				\
	"movl %[fd], %%edi\n\t"							\
	"syscall\n\t"								\
	"1: pause\n\t"								\
	"cmpl $0, (%[stop])\n\t"						\
	"je 1b\n\t"
#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)

#define Z(n)  "vmovdqu64 " #n "*64(%[i]), %%zmm" #n "\n\t"
#define ZS(n) "vmovdqu64 %%zmm" #n ", " #n "*64(%[o])\n\t"
#define K(n)  "kmovq " #n "*8(%[ki]), %%k" #n "\n\t"
#define KS(n) "kmovq %%k" #n ", " #n "*8(%[ko])\n\t"
#define Y(n)  "vmovdqu " #n "*32(%[i]), %%ymm" #n "\n\t"
#define YS(n) "vmovdqu %%ymm" #n ", " #n "*32(%[o])\n\t"

static void run_avx512(int fd)
{
	__asm__ volatile(
		Z(0) Z(1) Z(2) Z(3) Z(4) Z(5) Z(6) Z(7) Z(8) Z(9) Z(10) Z(11) Z(12) Z(13) Z(14)
		Z(15) Z(16) Z(17) Z(18) Z(19) Z(20) Z(21) Z(22) Z(23) Z(24) Z(25) Z(26) Z(27)
		Z(28) Z(29) Z(30) Z(31) K(0) K(1) K(2) K(3) K(4) K(5) K(6) K(7)
		READY_AND_SPIN
		ZS(0) ZS(1) ZS(2) ZS(3) ZS(4) ZS(5) ZS(6) ZS(7) ZS(8) ZS(9) ZS(10) ZS(11) ZS(12)
		ZS(13) ZS(14) ZS(15) ZS(16) ZS(17) ZS(18) ZS(19) ZS(20) ZS(21) ZS(22) ZS(23)
		ZS(24) ZS(25) ZS(26) ZS(27) ZS(28) ZS(29) ZS(30) ZS(31)
		KS(0) KS(1) KS(2) KS(3) KS(4) KS(5) KS(6) KS(7)
		:
		: [i] "r"(in), [o] "r"(out), [ki] "r"(kin), [ko] "r"(kout),
		  [stop] "r"(&e2e_stop), [fd] "m"(fd), [rb] "r"(&ready_byte)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "cc");
}

static void run_avx(int fd)
{
	__asm__ volatile(
		Y(0) Y(1) Y(2) Y(3) Y(4) Y(5) Y(6) Y(7) Y(8) Y(9) Y(10) Y(11) Y(12) Y(13) Y(14) Y(15)
		READY_AND_SPIN
		YS(0) YS(1) YS(2) YS(3) YS(4) YS(5) YS(6) YS(7) YS(8) YS(9) YS(10) YS(11) YS(12)
		YS(13) YS(14) YS(15)
		:
		: [i] "r"(in), [o] "r"(out), [stop] "r"(&e2e_stop), [fd] "m"(fd), [rb] "r"(&ready_byte)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "cc");
}

int main(int argc, char **argv)
{
	const char *s = getenv("E2E_READY_FD");
	int fd = s ? atoi(s) : -1, avx512;
	size_t i, len;

	e2e_init(argc, argv);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 13 + 7);
	for (i = 0; i < 8; i++)
		kin[i] = 0x0123456789abcdefull * (i + 1);
	avx512 = cpu_has(7, 1, 16) && os_enabled(0xe6);	/* opmask, ZMM_Hi256, Hi16_ZMM */
	if (avx512)
		run_avx512(fd);
	else if (cpu_has(1, 2, 28) && os_enabled(0x6))
		run_avx(fd);
	else
		e2e_fail("no AVX on this CPU: nothing to test");
	len = avx512 ? 32 * 64 : 16 * 32;
	for (i = 0; i < len; i++)
		if (out[i] != in[i])
			e2e_fail("%s%zu byte %zu: %#x, want %#x", avx512 ? "zmm" : "ymm",
				 i / (avx512 ? 64 : 32), i % (avx512 ? 64 : 32), out[i], in[i]);
	for (i = 0; avx512 && i < 8; i++)
		if (kout[i] != kin[i])
			e2e_fail("k%zu is %#lx", i, (unsigned long)kout[i]);
	e2e_pass();
}
