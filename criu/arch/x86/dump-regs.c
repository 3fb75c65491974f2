/*
 * x86_64 side of dumping a thread (criu/include/arch.h): the general
 * registers (PTRACE_GETREGS) and the xsave area (NT_X86_XSTATE) of a
 * seized, stopped thread into its core entry.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "arch.h"
#include "dump.h"
#include "sigframe-abi.h"

static void copy_regs(UserRegsX86Entry *d, const struct user_regs_struct *r)
{
	user_regs_x86_entry__init(d);
	d->r15 = r->r15;
	d->r14 = r->r14;
	d->r13 = r->r13;
	d->r12 = r->r12;
	d->bp = r->rbp;
	d->bx = r->rbx;
	d->r11 = r->r11;
	d->r10 = r->r10;
	d->r9 = r->r9;
	d->r8 = r->r8;
	d->ax = r->rax;
	d->cx = r->rcx;
	d->dx = r->rdx;
	d->si = r->rsi;
	d->di = r->rdi;
	d->orig_ax = r->orig_rax;
	d->ip = r->rip;
	d->cs = r->cs;
	d->flags = r->eflags;
	d->sp = r->rsp;
	d->ss = r->ss;
	d->fs_base = r->fs_base;
	d->gs_base = r->gs_base;
	d->ds = r->ds;
	d->es = r->es;
	d->fs = r->fs;
	d->gs = r->gs;
}

static int collect_xsave(struct dump_thread *th, pid_t tid, uint8_t *scratch)
{
	struct iovec iov = { .iov_base = scratch, .iov_len = ARCH_FPU_MAX };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)K_NT_X86_XSTATE, &iov)) {
		pr_perror("PTRACE_GETREGSET(NT_X86_XSTATE) on %d", tid);
		return -1;
	}
	th->fpu = malloc(iov.iov_len);
	if (!th->fpu)
		return -1;
	memcpy(th->fpu, scratch, iov.iov_len);
	th->core.xsave.data = th->fpu;
	th->core.xsave.len = iov.iov_len;
	return 0;
}

int arch_dump_regs(pid_t tid, struct dump_thread *th, uint8_t *scratch)
{
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &r)) {
		pr_perror("PTRACE_GETREGS on %d", tid);
		return -1;
	}
	copy_regs(&th->regs, &r);
	th->core.regs = &th->regs;
	pr_debug("%d: ip %lx sp %lx ax %ld orig_ax %ld", tid, (unsigned long)r.rip,
		 (unsigned long)r.rsp, (long)r.rax, (long)r.orig_rax);
	return collect_xsave(th, tid, scratch);
}
