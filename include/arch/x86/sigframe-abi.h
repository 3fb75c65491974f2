/*
 * The x86_64 kernel ABI of signal frames and the xsave area, the one copy
 * shared by compel (host library and std runtime), criu and its
 * freestanding blobs (criu/pie). Plain C on <linux/types.h>: no libc.
 *
 * Facts from the kernel's uapi (asm/sigcontext.h, asm/ucontext.h,
 * asm/prctl.h, linux/elf.h) and the SDM's xsave layout; the k_ prefix keeps
 * them apart from libc's ucontext_t and friends.
 *
 * A port provides the same names for its own frame (see
 * Documentation/porting.md): struct k_rt_sigframe with uc, k_ucontext with
 * uc_stack, uc_mcontext and uc_sigmask, and what its FPU state needs.
 */
#ifndef ARCH_X86_SIGFRAME_ABI_H
#define ARCH_X86_SIGFRAME_ABI_H

#include <linux/types.h>

/* ---- the frame rt_sigreturn reads (at sp - 8, i.e. from &frame->uc) ---- */

struct k_sigcontext {
	__u64	r8, r9, r10, r11, r12, r13, r14, r15;
	__u64	di, si, bp, bx, dx, ax, cx, sp, ip, flags;
	__u16	cs, gs, fs, ss;
	__u64	err, trapno, oldmask, cr2;
	__u64	fpstate;		/* address of the xsave image, 0: initial FPU state */
	__u64	reserved1[8];
};

struct k_stack {
	__u64	ss_sp;
	__s32	ss_flags;
	__s32	pad;
	__u64	ss_size;
};

struct k_ucontext {
	__u64			uc_flags;
	__u64			uc_link;
	struct k_stack		uc_stack;
	struct k_sigcontext	uc_mcontext;
	__u64			uc_sigmask;
};

struct k_rt_sigframe {
	__u64			pretcode;	/* return address of the handler */
	struct k_ucontext	uc;
	__u8			info[128];	/* siginfo */
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext layout");
_Static_assert(__builtin_offsetof(struct k_ucontext, uc_stack) == 16, "ucontext layout");
_Static_assert(__builtin_offsetof(struct k_ucontext, uc_mcontext) == 40, "ucontext layout");

/* uc_flags */
#define UC_FP_XSTATE		0x1	/* fpstate is an xsave image, not a bare fxsave */
#define UC_SIGCONTEXT_SS	0x2
#define UC_STRICT_RESTORE_SS	0x4

#define K_SS_DISABLE		2	/* uc_stack.ss_flags: no alternate stack */
/*
 * Not a valid mode: rt_sigreturn's sigaltstack() step fails with EINVAL,
 * which the kernel ignores, so the thread's alternate stack stays as it
 * is (compel's frames, whose builder cannot read it).
 */
#define K_SS_KEEP		3

/* ---- the xsave area (standard, not compacted, format) ------------------ */

#define XSAVE_MXCSR_OFF		24	/* u32 in the legacy (fxsave) region */
#define XSAVE_FIP_OFF		8	/* u64: last x87 instruction pointer */
#define XSAVE_SW_OFF		464	/* struct k_fpx_sw_bytes, software-defined */
#define XSAVE_LEGACY_SIZE	512
#define XSAVE_HDR_OFF		512	/* u64 xstate_bv, u64 xcomp_bv, 48 bytes zero */
#define XSAVE_HDR_SIZE		64
#define XSAVE_MIN_SIZE		(XSAVE_LEGACY_SIZE + XSAVE_HDR_SIZE)	/* 576 */
#define XSAVE_ALIGN		64

/* What the kernel puts in (and wants back in) the software bytes. */
struct k_fpx_sw_bytes {
	__u32	magic1;			/* FP_XSTATE_MAGIC1 */
	__u32	extended_size;		/* xstate_size + 4 (magic2 after the area) */
	__u64	xfeatures;
	__u32	xstate_size;
	__u32	padding[7];
};

#define FP_XSTATE_MAGIC1	0x46505853U
#define FP_XSTATE_MAGIC2	0x46505845U	/* u32 right after xstate_size bytes */

/* State components (xstate_bv bits) */
#define XFEATURE_XTILE_DATA	18	/* AMX tiles: a task must ask for them */
#define XFEATURE_MASK_XTILE_DATA	(1ULL << XFEATURE_XTILE_DATA)

/* ---- arch_prctl codes (asm/prctl.h) and the regset (linux/elf.h) ------ */

#define K_ARCH_SET_GS		0x1001
#define K_ARCH_SET_FS		0x1002
#define K_ARCH_GET_CPUID	0x1011
#define K_ARCH_GET_UNTAG_MASK	0x4001	/* 6.4, linear address masking */
#define K_ARCH_GET_XCOMP_PERM	0x1022
#define K_ARCH_REQ_XCOMP_PERM	0x1023
#define K_NT_X86_XSTATE		0x202

#endif
