/*
 * 64 threads, each with state of its own that must come back to it and to
 * no other thread: callee-saved and r8/r9 registers and ymm0-15 loaded
 * with its own patterns in one asm block (compiled code never runs while
 * they are live), its tid and a TLS value, its name, its sigaltstack, its
 * blocked mask and one signal queued to it alone (pthread_sigqueue while
 * blocked, with a value to recognise it by). Seven threads in eight wait
 * in a futex inside the asm block, every eighth spins (sched_yield), so
 * the dump catches threads both inside a syscall and in user code.
 *
 * After the restore, SIGTERM (blocked in every worker) reaches the main
 * thread, which releases the workers and joins them: the join itself
 * needs every thread's clear-child-tid address back.
 */
#include <cpuid.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/futex.h>

#include "e2e.h"

#define NR_THREADS	64
#define ALT_SIZE	(64 * 1024)

/* Layout known to the asm below: keep the offsets in step. */
struct regs_io {
	uint64_t	gin[7];			/* 0: rbx r8 r9 r12 r13 r14 r15 */
	uint32_t	spin;			/* 56 */
	uint32_t	pad;
	uint8_t		yin[16 * 32];		/* 64: ymm0-15 */
	uint64_t	gout[7];		/* 576 */
	uint64_t	pad2;
	uint8_t		yout[16 * 32];		/* 640 */
};
_Static_assert(offsetof(struct regs_io, spin) == 56, "asm offsets");
_Static_assert(offsetof(struct regs_io, yin) == 64, "asm offsets");
_Static_assert(offsetof(struct regs_io, gout) == 576, "asm offsets");
_Static_assert(offsetof(struct regs_io, yout) == 640, "asm offsets");

struct worker {
	pthread_t	th;
	int		idx;
	pid_t		tid;
	sigset_t	blocked;
	int		own_sig;
	void		*alt;
	struct regs_io	r __attribute__((aligned(64)));
	char		err[200];
};

static struct worker w[NR_THREADS];
static int nr_loaded;		/* workers with their patterns in the registers */
static int go;			/* set after the restore: leave the loop */
static __thread int tls_value;

#define Y(n)  "vmovdqu 64+" #n "*32(%%rax), %%ymm" #n "\n\t"
#define YS(n) "vmovdqu %%ymm" #n ", 640+" #n "*32(%%rax)\n\t"

static void hold_registers(struct regs_io *io)
{
	__asm__ volatile(
		"movq	%[io], %%rax\n\t"
		"movq	0(%%rax), %%rbx\n\t"
		"movq	8(%%rax), %%r8\n\t"
		"movq	16(%%rax), %%r9\n\t"
		"movq	24(%%rax), %%r12\n\t"
		"movq	32(%%rax), %%r13\n\t"
		"movq	40(%%rax), %%r14\n\t"
		"movq	48(%%rax), %%r15\n\t"
		Y(0) Y(1) Y(2) Y(3) Y(4) Y(5) Y(6) Y(7)
		Y(8) Y(9) Y(10) Y(11) Y(12) Y(13) Y(14) Y(15)
		"lock incl %[loaded]\n\t"
		"1:	movq	%[io], %%rax\n\t"
		"cmpl	$0, 56(%%rax)\n\t"
		"je	2f\n\t"
		"pause\n\t"
		"movl	$" "24" ", %%eax\n\t"		/* sched_yield */
		"syscall\n\t"
		"jmp	3f\n\t"
		"2:	movl	$202, %%eax\n\t"		/* futex(&go, WAIT_PRIVATE, 0, NULL) */
		"leaq	%[go], %%rdi\n\t"
		"movl	$128, %%esi\n\t"
		"xorl	%%edx, %%edx\n\t"
		"xorl	%%r10d, %%r10d\n\t"
		"syscall\n\t"
		"3:	cmpl	$0, %[go]\n\t"
		"je	1b\n\t"
		"movq	%[io], %%rax\n\t"
		"movq	%%rbx, 576(%%rax)\n\t"
		"movq	%%r8, 584(%%rax)\n\t"
		"movq	%%r9, 592(%%rax)\n\t"
		"movq	%%r12, 600(%%rax)\n\t"
		"movq	%%r13, 608(%%rax)\n\t"
		"movq	%%r14, 616(%%rax)\n\t"
		"movq	%%r15, 624(%%rax)\n\t"
		YS(0) YS(1) YS(2) YS(3) YS(4) YS(5) YS(6) YS(7)
		YS(8) YS(9) YS(10) YS(11) YS(12) YS(13) YS(14) YS(15)
		"vzeroupper\n\t"
		: [loaded] "+m"(nr_loaded), [go] "+m"(go)
		: [io] "m"(io)
		: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
		  "r13", "r14", "r15", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
		  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
		  "memory", "cc");
}

#define CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			snprintf(me->err, sizeof(me->err), __VA_ARGS__);	\
			return NULL;						\
		}								\
	} while (0)

static void *check_rest(struct worker *me)
{
	char name[16], want[16];
	stack_t ss;
	sigset_t mask, pend, one;
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	int i;

	CHECK(!memcmp(me->r.gin, me->r.gout, sizeof(me->r.gin)), "general registers changed");
	for (i = 0; i < 16; i++)
		CHECK(!memcmp(me->r.yin + 32 * i, me->r.yout + 32 * i, 32), "ymm%d changed", i);
	CHECK(syscall(SYS_gettid) == me->tid, "tid %ld, was %d", syscall(SYS_gettid), me->tid);
	CHECK(tls_value == me->idx * 3 + 1, "TLS value %d", tls_value);
	snprintf(want, sizeof(want), "worker-%d", me->idx % 100);
	CHECK(!prctl(PR_GET_NAME, name, 0, 0, 0) && !strcmp(name, want), "name '%s'", name);
	CHECK(!sigaltstack(NULL, &ss) && ss.ss_sp == me->alt && ss.ss_size == ALT_SIZE &&
	      ss.ss_flags == 0, "sigaltstack %p+%zu flags %d", ss.ss_sp, ss.ss_size, ss.ss_flags);
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	for (i = 1; i < 65; i++)
		CHECK(sigismember(&mask, i) == sigismember(&me->blocked, i),
		      "signal %d %sblocked", i, sigismember(&mask, i) ? "" : "not ");
	sigpending(&pend);
	for (i = 1; i < 65; i++)
		CHECK(sigismember(&pend, i) == (i == me->own_sig), "signal %d %spending", i,
		      sigismember(&pend, i) ? "" : "not ");
	sigemptyset(&one);
	sigaddset(&one, me->own_sig);
	CHECK(sigtimedwait(&one, &si, &zero) == me->own_sig && si.si_code == SI_QUEUE &&
	      si.si_value.sival_int == me->idx * 7 + 1, "own signal lost or changed (value %d)",
	      si.si_value.sival_int);
	CHECK(sigtimedwait(&one, &si, &zero) < 0, "own signal queued twice");
	return NULL;
}

static void *worker_main(void *arg)
{
	static const int extra[] = { SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGWINCH, SIGURG };
	struct worker *me = arg;
	char name[16];
	stack_t ss = { 0 };
	unsigned int k;

	me->tid = (pid_t)syscall(SYS_gettid);
	tls_value = me->idx * 3 + 1;
	snprintf(name, sizeof(name), "worker-%d", me->idx % 100);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	me->alt = malloc(ALT_SIZE);
	ss.ss_sp = me->alt;
	ss.ss_size = ALT_SIZE;
	if (!me->alt || sigaltstack(&ss, NULL))
		snprintf(me->err, sizeof(me->err), "sigaltstack: %s", strerror(errno));
	sigemptyset(&me->blocked);
	sigaddset(&me->blocked, SIGTERM);
	me->own_sig = SIGRTMIN + me->idx % (SIGRTMAX - SIGRTMIN + 1);
	sigaddset(&me->blocked, me->own_sig);
	for (k = 0; k < sizeof(extra) / sizeof(extra[0]); k++)
		if (me->idx & (1 << k))
			sigaddset(&me->blocked, extra[k]);
	pthread_sigmask(SIG_SETMASK, &me->blocked, NULL);
	pthread_sigqueue(pthread_self(), me->own_sig, (union sigval){ .sival_int = me->idx * 7 + 1 });
	hold_registers(&me->r);
	return check_rest(me);
}

static int has_avx(void)
{
	unsigned int a, b, c, d, lo, hi;

	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 27)) || !(c & (1u << 28)))	/* OSXSAVE, AVX */
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

int main(int argc, char **argv)
{
	sigset_t term;
	int i, j;

	e2e_init(argc, argv);
	if (!has_avx())
		e2e_fail("no AVX on this CPU: nothing to test");
	for (i = 0; i < NR_THREADS; i++) {
		w[i].idx = i;
		w[i].r.spin = i % 8 == 0;
		for (j = 0; j < 7; j++)
			w[i].r.gin[j] = 0x1111111111111111ull * (j + 1) ^ ((uint64_t)i << 40) ^ (uint64_t)i;
		for (j = 0; j < 16 * 32; j++)
			w[i].r.yin[j] = (uint8_t)(i * 31 + j * 7 + 1);
	}
	/* workers inherit SIGTERM blocked; the main thread unblocks it after */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	for (i = 0; i < NR_THREADS; i++)
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i]))
			e2e_fail("pthread_create %d failed", i);
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	while (__atomic_load_n(&nr_loaded, __ATOMIC_SEQ_CST) < NR_THREADS)
		usleep(1000);
	e2e_ready();
	e2e_wait_stop();
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(w[i].th, NULL);
	for (i = 0; i < NR_THREADS; i++)
		if (w[i].err[0])
			e2e_fail("thread %d: %s", i, w[i].err);
	e2e_pass();
}
