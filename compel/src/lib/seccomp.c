/*
 * Would the victim's seccomp filters let a syscall through?  Used to
 * decide whether a parasite that cures itself (the caller died, the
 * filters are back) may close its fds.  The filters are read with
 * PTRACE_SECCOMP_GET_FILTER and run here by a small classic-BPF
 * interpreter covering what seccomp accepts.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include "internal.h"

#define MAX_INSNS	4096	/* BPF_MAXINSNS */

/* Classic BPF over struct seccomp_data; returns the filter's action. */
static uint32_t run_filter(const struct sock_filter *f, int n,
			   const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[16] = { 0 };
	const uint8_t *data = (const uint8_t *)d;
	int pc;

	for (pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;

		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
		case BPF_LDX: {
			uint32_t v = 0;

			if (BPF_MODE(i->code) == BPF_ABS && i->k <= sizeof(*d) - 4)
				memcpy(&v, data + i->k, 4);
			else if (BPF_MODE(i->code) == BPF_IMM)
				v = i->k;
			else if (BPF_MODE(i->code) == BPF_MEM && i->k < 16)
				v = mem[i->k];
			else if (BPF_MODE(i->code) == BPF_LEN)
				v = sizeof(*d);
			else
				return SECCOMP_RET_KILL_PROCESS;
			if (BPF_CLASS(i->code) == BPF_LD)
				a = v;
			else
				x = v;
			break;
		}
		case BPF_ST:
		case BPF_STX:
			if (i->k >= 16)
				return SECCOMP_RET_KILL_PROCESS;
			mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_ADD: a += src; break;
			case BPF_SUB: a -= src; break;
			case BPF_MUL: a *= src; break;
			case BPF_DIV: a = src ? a / src : 0; break;
			case BPF_MOD: a = src ? a % src : 0; break;
			case BPF_OR: a |= src; break;
			case BPF_AND: a &= src; break;
			case BPF_XOR: a ^= src; break;
			case BPF_LSH: a = src < 32 ? a << src : 0; break;
			case BPF_RSH: a = src < 32 ? a >> src : 0; break;
			case BPF_NEG: a = -a; break;
			default: return SECCOMP_RET_KILL_PROCESS;
			}
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_JA) {
				pc += i->k;
				break;
			}
			switch (BPF_OP(i->code)) {
			case BPF_JEQ: pc += a == src ? i->jt : i->jf; break;
			case BPF_JGT: pc += a > src ? i->jt : i->jf; break;
			case BPF_JGE: pc += a >= src ? i->jt : i->jf; break;
			case BPF_JSET: pc += (a & src) ? i->jt : i->jf; break;
			default: return SECCOMP_RET_KILL_PROCESS;
			}
			break;
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? a : i->k;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		}
	}
	return SECCOMP_RET_KILL_PROCESS;	/* fell off the end */
}

/* Read the victim's filters (it must be stopped); 0, or -1 if unknown. */
int cpl_seccomp_load(struct compel_ctl *ctl)
{
	struct sock_filter buf[MAX_INSNS];
	struct bpf_prog_copy *p;
	long idx, n;

	for (idx = 0;; idx++) {
		n = ptrace(PTRACE_SECCOMP_GET_FILTER, ctl->pid, (void *)idx, buf);
		if (n < 0 && errno == ENOENT && idx > 0)
			return 0;
		if (n <= 0 || n > MAX_INSNS) {
			pr_warn("cannot read seccomp filter %ld of %d: %m", idx, ctl->pid);
			cpl_seccomp_free(ctl);
			return -1;
		}
		p = realloc(ctl->filters, (ctl->nr_filters + 1) * sizeof(*p));
		if (!p)
			return -1;
		ctl->filters = p;
		p[ctl->nr_filters].len = n;
		p[ctl->nr_filters].insns = malloc(n * sizeof(buf[0]));
		if (!p[ctl->nr_filters].insns)
			return -1;
		memcpy(p[ctl->nr_filters++].insns, buf, n * sizeof(buf[0]));
	}
}

void cpl_seccomp_free(struct compel_ctl *ctl)
{
	while (ctl->nr_filters > 0)
		free(ctl->filters[--ctl->nr_filters].insns);
	free(ctl->filters);
	ctl->filters = NULL;
}

/* 1: every filter allows it (or only logs it); 0: not, or not known. */
int cpl_seccomp_allows(struct compel_ctl *ctl, long nr, const uint64_t *args,
		       uint64_t ip)
{
	struct seccomp_data d = { .nr = (int)nr, .arch = CPL_AUDIT_ARCH,
				  .instruction_pointer = ip };
	int i;

	if (!ctl->nr_filters)
		return 0;
	memcpy(d.args, args, sizeof(d.args));
	for (i = 0; i < ctl->nr_filters; i++)
		if ((int32_t)(run_filter(ctl->filters[i].insns, ctl->filters[i].len, &d) &
			      SECCOMP_RET_ACTION_FULL) < (int32_t)SECCOMP_RET_LOG)
			return 0;
	return 1;
}

uint32_t compel_seccomp_action(const void *insns, int n, long nr, const uint64_t *args)
{
	struct seccomp_data d = { .nr = (int)nr, .arch = CPL_AUDIT_ARCH };

	if (n <= 0 || n > MAX_INSNS)
		return SECCOMP_RET_KILL_PROCESS;
	if (args)
		memcpy(d.args, args, sizeof(d.args));
	return run_filter(insns, n, &d) & SECCOMP_RET_ACTION_FULL;
}
