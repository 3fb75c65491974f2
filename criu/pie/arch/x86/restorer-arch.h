/*
 * x86_64 pieces of the restorer (criu/pie/restorer.c), chosen by path
 * (-Icriu/pie/arch/ARCH). Freestanding; included once, by the restorer.
 *
 *   restorer_entry            the blob's entry (marked for criu): aligns
 *                             the stack, calls restorer_main(args)
 *   arch_sigreturn(uc)        rt_sigreturn through the frame whose
 *                             ucontext is at @uc
 *   arch_clone_thread()       clone3 for a thread, the child running
 *                             fn(arg, idx) on its own stack
 *   arch_set_tls()            the thread's TLS registers
 *   arch_build_frame()        the frame that restores a thread entirely
 *   arch_build_gadget_frame() the frame of the clean exit's last syscall
 */
#ifndef CRIU_PIE_X86_RESTORER_ARCH_H
#define CRIU_PIE_X86_RESTORER_ARCH_H

#include <std/syscall.h>
#include <std/string.h>
#include "restorer-args.h"
#include "sigframe-abi.h"

_Static_assert(sizeof(struct k_rt_sigframe) <= RST_SIGFRAME_MAX, "frame size");

/* hgen lays .text out in link order; criu finds the entry by this marker. */
__asm__(
	"	.text\n"
	"	.globl	restorer_entry_mark\n"
	"	.hidden	restorer_entry_mark\n"
	"restorer_entry_mark:\n"
	"	.ascii	\"" RESTORER_ENTRY_MARK "\"\n"
	"	.byte	0\n"
	"	.globl	restorer_entry\n"
	"	.hidden	restorer_entry\n"
	"restorer_entry:\n"
	"	andq	$-16, %rsp\n"
	"	xorl	%ebp, %ebp\n"
	"	call	restorer_main\n"
	"	ud2\n"
	/* rt_sigreturn with the frame's ucontext at rdi (the kernel reads rsp - 8) */
	"	.globl	arch_sigreturn\n"
	"	.hidden	arch_sigreturn\n"
	"arch_sigreturn:\n"
	"	movq	%rdi, %rsp\n"
	"	movl	$15, %eax\n"
	"	syscall\n"
	"	ud2\n");

void restorer_main(struct restorer_args *a) __attribute__((noreturn, used));
void arch_sigreturn(unsigned long uc) __attribute__((noreturn));

/* clone3 for a thread: the child runs fn(arg, idx) on the stack in @ca. */
long arch_clone_thread(void *ca, unsigned long size, void (*fn)(struct restorer_args *, long),
			   struct restorer_args *arg, long idx);
__asm__(
	"	.text\n"
	"	.globl	arch_clone_thread\n"
	"	.hidden	arch_clone_thread\n"
	"arch_clone_thread:\n"
	"	pushq	%r12\n"
	"	pushq	%r13\n"
	"	pushq	%r14\n"
	"	movq	%rdx, %r12\n"
	"	movq	%rcx, %r13\n"
	"	movq	%r8, %r14\n"
	"	movl	$435, %eax\n"		/* clone3 */
	"	syscall\n"
	"	testq	%rax, %rax\n"
	"	jz	1f\n"
	"	popq	%r14\n"
	"	popq	%r13\n"
	"	popq	%r12\n"
	"	ret\n"
	"1:	xorl	%ebp, %ebp\n"
	"	movq	%r13, %rdi\n"
	"	movq	%r14, %rsi\n"
	"	callq	*%r12\n"
	"	ud2\n");

/* fs and gs base; *@what names the step of a failure. */
static inline long arch_set_tls(const struct rst_thread *t, const char **what)
{
	long r;

	*what = "arch_prctl(ARCH_SET_FS)";
	r = syscall2(__NR_arch_prctl, K_ARCH_SET_FS, t->regs.fs_base);
	if (r < 0)
		return r;
	*what = "arch_prctl(ARCH_SET_GS)";
	return syscall2(__NR_arch_prctl, K_ARCH_SET_GS, t->regs.gs_base);
}

static inline unsigned long arch_build_frame(struct restorer_args *a, struct rst_thread *t, __u64 at, __u64 fpu)
{
	struct k_rt_sigframe *f = (struct k_rt_sigframe *)(unsigned long)at;
	struct k_sigcontext *sc = &f->uc.uc_mcontext;
	unsigned char *xs = (unsigned char *)(unsigned long)fpu;
	struct k_fpx_sw_bytes *sw = (struct k_fpx_sw_bytes *)(xs + XSAVE_SW_OFF);
	__u32 magic2 = FP_XSTATE_MAGIC2;

	if (fpu != t->fpu)
		memcpy(xs, (void *)(unsigned long)t->fpu, a->fpu_size);
	memset(f, 0, sizeof(*f));
	f->uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	/* rt_sigreturn applies uc_stack as the alternate stack: it must be the task's. */
	if (t->has_altstack) {
		f->uc.uc_stack.ss_sp = t->altstack_sp;
		f->uc.uc_stack.ss_size = t->altstack_size;
		f->uc.uc_stack.ss_flags = (__s32)t->altstack_flags;
	} else {
		f->uc.uc_stack.ss_flags = K_SS_DISABLE;
	}
	sc->r8 = t->regs.r8;
	sc->r9 = t->regs.r9;
	sc->r10 = t->regs.r10;
	sc->r11 = t->regs.r11;
	sc->r12 = t->regs.r12;
	sc->r13 = t->regs.r13;
	sc->r14 = t->regs.r14;
	sc->r15 = t->regs.r15;
	sc->di = t->regs.di;
	sc->si = t->regs.si;
	sc->bp = t->regs.bp;
	sc->bx = t->regs.bx;
	sc->dx = t->regs.dx;
	sc->ax = t->regs.ax;
	sc->cx = t->regs.cx;
	sc->sp = t->regs.sp;
	sc->ip = t->regs.ip;
	sc->flags = t->regs.flags;
	sc->cs = (__u16)t->regs.cs;
	sc->ss = (__u16)t->regs.ss;
	sc->fpstate = fpu;
	f->uc.uc_sigmask = t->blocked;

	/* Tell the kernel the area is a full xsave image, not a bare fxsave. */
	sw->magic1 = FP_XSTATE_MAGIC1;
	sw->xstate_size = a->fpu_size;
	sw->extended_size = a->fpu_size + 4;
	sw->xfeatures = a->fpu_features;
	memcpy(xs + a->fpu_size, &magic2, 4);
	return (unsigned long)&f->uc;
}

/*
 * A frame that resumes at the vdso's "syscall; ret" with @nr(@a0, @a1, @a2)
 * in the registers and rsp on the thread's final frame, whose first word
 * (pretcode) is the task's own rt_sigreturn trampoline: the syscall runs
 * outside the region (the leader's unmaps it), the ret enters the
 * trampoline and the second rt_sigreturn restores the thread.
 */
static inline unsigned long arch_build_gadget_frame(struct restorer_args *a, struct rst_thread *t,
						long nr, __u64 a0, __u64 a1, __u64 a2)
{
	struct k_rt_sigframe *f = (struct k_rt_sigframe *)(unsigned long)t->first_frame;
	struct k_rt_sigframe *last = (struct k_rt_sigframe *)(unsigned long)t->final_frame;
	struct k_sigcontext *sc = &f->uc.uc_mcontext;

	last->pretcode = a->final_trampoline;
	memset(f, 0, sizeof(*f));
	f->uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f->uc.uc_stack.ss_flags = K_SS_DISABLE;	/* the final frame sets the real one */
	sc->ip = a->final_gadget;
	sc->sp = t->final_frame;
	sc->ax = (__u64)nr;
	sc->di = a0;
	sc->si = a1;
	sc->dx = a2;
	sc->flags = 0x202;		/* IF */
	sc->cs = (__u16)t->regs.cs;
	sc->ss = (__u16)t->regs.ss;
	sc->fpstate = 0;		/* initial FPU state; the final frame restores it */
	f->uc.uc_sigmask = ~0ULL;	/* nothing delivered in between */
	return (unsigned long)&f->uc;
}

#endif
