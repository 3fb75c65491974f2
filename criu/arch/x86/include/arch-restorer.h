/*
 * The x86_64 registers criu hands the restorer (struct rst_thread in
 * criu/pie/include/restorer-args.h), already adjusted for syscall restart
 * by criu. Plain C on <linux/types.h>: the restorer includes it too.
 */
#ifndef CRIU_ARCH_X86_RESTORER_H
#define CRIU_ARCH_X86_RESTORER_H

#include <linux/types.h>

struct rst_regs {
	__u64	r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	__u64	ax, cx, dx, si, di, ip, cs, flags, sp, ss;
	__u64	fs_base, gs_base;
};

#endif
