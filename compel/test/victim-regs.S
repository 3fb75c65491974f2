/*
 * long vsyscall_patterns(struct vregs *in, struct vregs *out, long nr,
 *			  long a0, long a1, long a2, long a3)
 *
 * Load every register the kernel must preserve across a syscall with
 * the patterns in *in (GPRs, vector registers per in->mode, mask
 * registers, MXCSR), make the syscall, and store what is there after
 * it into *out.  The victim then compares.
 *
 * struct vregs: u64 gpr[16] @0; u8 vec[32][64] @128; u64 k[8] @2176;
 *		 u32 mxcsr @2240; u32 mode @2244 (0 sse, 1 avx, 2 avx-512)
 * gpr order: rbx rbp r8 r9 r12 r13 r14 r15 | rdi rsi rdx r10 (stored)
 */
#define VEC	128
#define KREG	2176
#define MXCSR	2240
#define MODE	2244

	.text
	.globl	vsyscall_patterns
	.type	vsyscall_patterns, @function
vsyscall_patterns:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rsi			/* out */
	mov	%rdi, %r11		/* in */
	mov	%rdx, %rax		/* nr */
	mov	%rcx, %rdi		/* a0 */
	mov	%r8, %rsi		/* a1 */
	mov	%r9, %rdx		/* a2 */
	mov	64(%rsp), %r10		/* a3 */

	cmpl	$2, MODE(%r11)
	je	1f
	cmpl	$1, MODE(%r11)
	je	2f
	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	VEC+\i*64(%r11), %xmm\i
	.endr
	jmp	3f
2:	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	VEC+\i*64(%r11), %ymm\i
	.endr
	jmp	3f
1:	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 VEC+\i*64(%r11), %zmm\i
	.endr
	.irp i,0,1,2,3,4,5,6,7
	kmovq	KREG+\i*8(%r11), %k\i
	.endr
3:	ldmxcsr	MXCSR(%r11)
	mov	0(%r11), %rbx
	mov	8(%r11), %rbp
	mov	16(%r11), %r8
	mov	24(%r11), %r9
	mov	32(%r11), %r12
	mov	40(%r11), %r13
	mov	48(%r11), %r14
	mov	56(%r11), %r15

	syscall

	mov	(%rsp), %r11		/* out */
	mov	%rbx, 0(%r11)
	mov	%rbp, 8(%r11)
	mov	%r8, 16(%r11)
	mov	%r9, 24(%r11)
	mov	%r12, 32(%r11)
	mov	%r13, 40(%r11)
	mov	%r14, 48(%r11)
	mov	%r15, 56(%r11)
	mov	%rdi, 64(%r11)
	mov	%rsi, 72(%r11)
	mov	%rdx, 80(%r11)
	mov	%r10, 88(%r11)
	stmxcsr	MXCSR(%r11)
	cmpl	$2, MODE(%r11)
	je	1f
	cmpl	$1, MODE(%r11)
	je	2f
	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	%xmm\i, VEC+\i*64(%r11)
	.endr
	jmp	3f
2:	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	%ymm\i, VEC+\i*64(%r11)
	.endr
	vzeroupper
	jmp	3f
1:	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 %zmm\i, VEC+\i*64(%r11)
	.endr
	.irp i,0,1,2,3,4,5,6,7
	kmovq	%k\i, KREG+\i*8(%r11)
	.endr
	vzeroupper
3:	pop	%rsi
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret
	.size	vsyscall_patterns, . - vsyscall_patterns

	.section .note.GNU-stack, "", @progbits

/* rseq abort handler for the hostile-rseq victim: reaching it is a bug. */
	.text
	.long	0x53053053		/* RSEQ_SIG (x86) */
	.globl	vrseq_abort
	.type	vrseq_abort, @function
vrseq_abort:
	ud2
	.size	vrseq_abort, . - vrseq_abort
	.section .note.GNU-stack, "", @progbits
