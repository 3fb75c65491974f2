/*
 * x86_64 specifics of libcompel: registers, the xsave area, the
 * rt_sigframe that lets a parasite put its thread back by itself.
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <asm/unistd.h>
#include "internal.h"
#include "sigframe-abi.h"

#define FRAME_FP_OFF		1024	/* fpstate: 64-byte aligned */

BUILD_BUG_ON(sizeof(struct k_rt_sigframe) > FRAME_FP_OFF);

#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

/* CPUID traps to the hypervisor in a VM: ask once, remember. */
static struct {
	int		done;
	size_t		size;		/* xsave size for XCR0 features */
	uint32_t	end[64];	/* offset + size of each component */
} xs;

static void xsave_probe(void)
{
	unsigned int a, b, c, d, i;

	if (xs.done)
		return;
	xs.done = 1;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) ||
	    __get_cpuid_max(0, NULL) < 0xd)
		return;
	__cpuid_count(0xd, 0, a, b, c, d);
	xs.size = b;
	for (i = 2; i < 64; i++) {
		__cpuid_count(0xd, i, a, b, c, d);
		xs.end[i] = a ? a + b : 0;
	}
}

size_t compel_fpu_state_size(void)
{
	xsave_probe();
	return xs.size;
}

int cpl_arch_get_regs(pid_t tid, compel_regs_t *r)
{
	if (ptrace(PTRACE_GETREGS, tid, NULL, r)) {
		pr_perror("PTRACE_GETREGS %d", tid);
		return -1;
	}
	return 0;
}

int cpl_arch_set_regs(pid_t tid, const compel_regs_t *r)
{
	if (ptrace(PTRACE_SETREGS, tid, NULL, r)) {
		pr_perror("PTRACE_SETREGS %d", tid);
		return -1;
	}
	return 0;
}

int cpl_arch_get_fpu(pid_t tid, uint8_t **buf, size_t *len)
{
	size_t size = compel_fpu_state_size();
	struct iovec iov;

	*buf = NULL;
	*len = 0;
	if (!size)
		return 0;
	iov.iov_base = calloc(1, size);
	iov.iov_len = size;
	if (!iov.iov_base)
		return -1;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)K_NT_X86_XSTATE, &iov)) {
		pr_perror("PTRACE_GETREGSET NT_X86_XSTATE %d", tid);
		free(iov.iov_base);
		return -1;
	}
	*buf = iov.iov_base;
	*len = iov.iov_len;
	return 0;
}

int cpl_arch_set_fpu(pid_t tid, const uint8_t *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	if (!buf)
		return 0;
	if (ptrace(PTRACE_SETREGSET, tid, (void *)K_NT_X86_XSTATE, &iov)) {
		pr_perror("PTRACE_SETREGSET NT_X86_XSTATE %d", tid);
		return -1;
	}
	return 0;
}

size_t cpl_arch_frame_size(size_t fpu_len)
{
	return round_up(FRAME_FP_OFF + fpu_len + 4 + 64, 4096UL);
}

/* Bytes of a frame put below a task's stack (its start 64-byte aligned). */
size_t cpl_arch_frame_len(size_t fpu_len)
{
	return round_up(FRAME_FP_OFF + fpu_len + 4, (size_t)XSAVE_ALIGN);
}

unsigned long cpl_arch_regs_sp(const compel_regs_t *r)
{
	return r->rsp;
}

unsigned long cpl_arch_frame_addr(const compel_regs_t *r, size_t len)
{
	return (r->rsp - ARCH_RED_ZONE - len) & ~(XSAVE_ALIGN - 1UL);
}

/* The frame returns from its syscall with EINTR (a handler is to run). */
void cpl_arch_frame_eintr(void *local, const struct compel_cure_info *ci)
{
	struct k_rt_sigframe *f = local;

	f->uc.uc_mcontext.ax = (__u64)-4L;	/* EINTR */
	f->uc.uc_mcontext.ip = ci->eintr_ip;
}

int cpl_arch_in_restartable_syscall(const compel_regs_t *r, long *nr)
{
	if ((long)r->orig_rax < 0)
		return 0;
	switch (-(long)r->rax) {
	case ERESTARTSYS: case ERESTARTNOINTR:
	case ERESTARTNOHAND: case ERESTART_RESTARTBLOCK:
		if (nr)
			*nr = (long)r->orig_rax;
		return 1;
	}
	return 0;
}

long cpl_arch_regs_syscall_nr(const compel_regs_t *r)
{
	return (long)r->orig_rax;
}

/*
 * rt_sigreturn sets orig_rax to -1, so a frame cannot carry "restart
 * this syscall" the way a ptrace stop does: back up to the syscall
 * instruction instead, as the kernel does on resume with no handler to
 * run.  rt_sigreturn also resets the restart block, so a syscall that
 * asked for restart_syscall (-ERESTART_RESTARTBLOCK: nanosleep, futex
 * and poll timeouts...) is issued again with its original arguments;
 * its timeout starts over.  Only the self-cure path uses this frame; the
 * parasite switches it to -EINTR when a handler is about to run.
 */
static void restart_in_place(compel_regs_t *r)
{
	if (!cpl_arch_in_restartable_syscall(r, NULL))
		return;
	r->rax = r->orig_rax;
	r->rip -= 2;
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | ((uint64_t)hi << 32);
}

/*
 * The kernel only accepts a sigframe xsave area no bigger than the
 * task's own (AMX tile data is left out unless the task uses it) and
 * describes it in the software bytes of the fxsave area.
 */
static void fill_fpstate(const struct thread_state *ts, uint8_t *fp)
{
	struct k_fpx_sw_bytes sw = { .magic1 = FP_XSTATE_MAGIC1 };
	uint32_t magic2 = FP_XSTATE_MAGIC2, size = XSAVE_MIN_SIZE;
	uint64_t bv, feat = xgetbv0();
	unsigned int i;

	memcpy(&bv, ts->fpu + XSAVE_HDR_OFF, sizeof(bv));
	if (!(bv & XFEATURE_MASK_XTILE_DATA))
		feat &= ~XFEATURE_MASK_XTILE_DATA;
	xsave_probe();
	for (i = 2; i < 64; i++)
		if ((feat & (1ULL << i)) && xs.end[i] > size)
			size = xs.end[i];
	size = min(size, (uint32_t)ts->fpu_len);
	memcpy(fp, ts->fpu, size);
	sw.xfeatures = feat;
	sw.xstate_size = size;
	sw.extended_size = size + 4;
	memcpy(fp + XSAVE_SW_OFF, &sw, sizeof(sw));
	memcpy(fp + size, &magic2, 4);
}

/*
 * Fills the cure info of the thread too: the frame's address, and
 * where its rax/rip live so that a parasite going home can turn a
 * restart into -EINTR if a handler is about to run.
 */
int cpl_arch_build_frame(const struct thread_state *ts, void *local,
			 unsigned long remote, struct compel_cure_info *ci)
{
	struct k_rt_sigframe *f = local;
	struct k_sigcontext *mc = &f->uc.uc_mcontext;
	compel_regs_t r = ts->regs;
	unsigned long mc_remote = remote + offsetof(struct k_rt_sigframe, uc.uc_mcontext);

	memset(local, 0, FRAME_FP_OFF);
	ci->restart = cpl_arch_in_restartable_syscall(&r, NULL) ? -(long)r.rax : 0;
	ci->eintr_ip = r.rip;
	ci->sigmask = ts->sigmask;
	ci->stop_pending = ts->pending;
	ci->frame_ax = mc_remote + offsetof(struct k_sigcontext, ax);
	ci->frame_ip = mc_remote + offsetof(struct k_sigcontext, ip);
	restart_in_place(&r);
	mc->r8 = r.r8; mc->r9 = r.r9; mc->r10 = r.r10; mc->r11 = r.r11;
	mc->r12 = r.r12; mc->r13 = r.r13; mc->r14 = r.r14; mc->r15 = r.r15;
	mc->di = r.rdi; mc->si = r.rsi; mc->bp = r.rbp; mc->bx = r.rbx;
	mc->dx = r.rdx; mc->ax = r.rax; mc->cx = r.rcx; mc->sp = r.rsp;
	mc->ip = r.rip; mc->flags = r.eflags;
	mc->cs = r.cs; mc->ss = r.ss;
	f->uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f->uc.uc_sigmask = ts->sigmask;
	f->uc.uc_stack.ss_flags = K_SS_KEEP;	/* the parasite fills in the real one */
	if (ts->fpu) {
		fill_fpstate(ts, (uint8_t *)local + FRAME_FP_OFF);
		mc->fpstate = remote + FRAME_FP_OFF;
		f->uc.uc_flags |= UC_FP_XSTATE;
	}
	ci->frame_uc = remote + offsetof(struct k_rt_sigframe, uc);
	return 0;
}

/* At a syscall-entry stop: the call the kernel is about to make (ip,
 * already past the instruction, is left alone). */
void cpl_arch_regs_entry(compel_regs_t *r, long nr, const unsigned long *args)
{
	r->orig_rax = nr;
	r->rdi = args[0];
	r->rsi = args[1];
	r->rdx = args[2];
	r->r10 = args[3];
	r->r8 = args[4];
	r->r9 = args[5];
}

void cpl_arch_regs_syscall(compel_regs_t *r, unsigned long ip, long nr,
		       const unsigned long *args)
{
	cpl_arch_regs_entry(r, -1, args);	/* no restart fix-up when it resumes */
	r->rip = ip;
	r->rax = nr;
}

/* Entry CALL of the trampoline (arch.h), the frame at sp - 8. */
void cpl_arch_regs_tramp(compel_regs_t *r, unsigned long ip, unsigned long sp,
			 long nr, const unsigned long *args, const struct cpl_undo *u)
{
	cpl_arch_regs_syscall(r, ip, nr, args);
	r->rsp = sp;
	r->rbx = u->on_result;
	r->r12 = u->nr[0];
	r->r14 = u->nr[1];
	r->r13 = u->arg[0];
	r->r15 = u->arg[1];
	r->eflags &= ~((1UL << 10) | (1UL << 8));	/* DF, TF */
}

long cpl_arch_regs_result(const compel_regs_t *r)
{
	return (long)r->rax;
}

void cpl_arch_regs_call(compel_regs_t *r, unsigned long ip, unsigned long sp,
		    unsigned long arg)
{
	r->rip = ip;
	r->rsp = sp;
	r->rdi = arg;
	r->rax = 0;
	r->orig_rax = -1;
	r->eflags &= ~((1UL << 10) | (1UL << 8));	/* DF, TF */
}
