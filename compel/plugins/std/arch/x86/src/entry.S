/*
 * Entry points of a parasite blob (x86_64).
 *
 * libcompel starts a thread here with rdi = victim address of the
 * struct compel_shared and rsp = top of a stack inside the region.
 */
	.text

	.globl	__compel_daemon_entry
	.type	__compel_daemon_entry, @function
__compel_daemon_entry:
	andq	$-16, %rsp
	xorl	%ebp, %ebp
	call	std_daemon_main
	ud2
	.size	__compel_daemon_entry, . - __compel_daemon_entry

	.globl	__compel_thread_entry
	.type	__compel_thread_entry, @function
__compel_thread_entry:
	andq	$-16, %rsp
	xorl	%ebp, %ebp
	call	std_thread_main
	ud2
	.size	__compel_thread_entry, . - __compel_thread_entry

/*
 * void std_sigreturn(unsigned long uc): rt_sigreturn with the frame that
 * libcompel built; the kernel finds the frame at rsp - 8.
 */
	.globl	std_sigreturn
	.hidden	std_sigreturn
	.type	std_sigreturn, @function
std_sigreturn:
	movq	%rdi, %rsp
	movl	$15, %eax		/* __NR_rt_sigreturn */
	syscall
	ud2
	.size	std_sigreturn, . - std_sigreturn

/*
 * void std_go_home(uc, home, users, base, size, rseq): to the
 * trampoline's HOME entry in the vDSO (rbx = users, rdi/rsi = the
 * region, r9/r8 = rseq[0]/rseq[1], i.e. &rseq_cs and its value, or the
 * frame's unused return-address slot if rseq[0] is 0), with the frame
 * at rsp - 8 as for std_sigreturn.  Nothing after the jump runs in the
 * region.
 */
	.globl	std_go_home
	.hidden	std_go_home
	.type	std_go_home, @function
std_go_home:
	movq	%rdi, %rsp
	movq	%rdx, %rbx
	movq	%rsi, %rax
	movq	%rcx, %rdi
	movq	%r8, %rsi
	movq	8(%r9), %r8
	movq	(%r9), %r9
	testq	%r9, %r9
	jnz	1f
	leaq	-8(%rsp), %r9
1:	jmp	*%rax
	.size	std_go_home, . - std_go_home

	.section .note.GNU-stack, "", @progbits
