/*
 * seccomp filters of a process at restore (Documentation/restore.md,
 * "seccomp"): checked before anything is created, laid out in the restorer
 * region, installed by the restorer's leader for every thread at once.
 *
 * Once they are in, the restorer still makes a few calls (its credentials,
 * when it has to install the filters before them, then the report to criu,
 * the wait for the tree, the stop or parent death signal and its way out):
 * each filter must let every one of them through, or the restore would die
 * half way. That is checked here, at dump and at restore, with compel's
 * interpreter (arguments the table does not fix may be anything), so such
 * a process is refused by name instead. The same check refuses at dump a
 * process whose filters may harm a call of criu's parasite (dump-seccomp.c).
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <compel/compel.h>

#include "log.h"
#include "restorer-args.h"
#include "seccomp-rst.h"

#define CAP_SYS_ADMIN_BIT	21

#define ARG0(n, a0, nm)	{ .nr = __NR_##n, .name = nm, .known = 1, .args = { a0 }, .must_run = 1 }
#define ANY(n)		{ .nr = __NR_##n, .name = #n, .must_run = 1 }

/* Every process: from the report to criu to the sigreturn. */
static const struct compel_sc_call after_creds[] = {
	ARG0(prctl, PR_SET_PDEATHSIG, "prctl(PR_SET_PDEATHSIG)"),
	ANY(write), ANY(close), ANY(read), ANY(kill), ANY(rt_sigaction), ANY(rt_sigprocmask),
	ANY(pidfd_open), ANY(ppoll), ANY(getppid), ANY(nanosleep), ANY(futex), ANY(munmap),
	ANY(rt_sigreturn),
};

/* A process that must get its filters before its credentials: those calls too. */
static const struct compel_sc_call creds_calls[] = {
	ANY(capget), ANY(capset),
	ARG0(prctl, PR_CAPBSET_READ, "prctl(PR_CAPBSET_READ)"),
	ARG0(prctl, PR_CAPBSET_DROP, "prctl(PR_CAPBSET_DROP)"),
	ARG0(prctl, PR_SET_SECUREBITS, "prctl(PR_SET_SECUREBITS)"),
	ARG0(prctl, PR_CAP_AMBIENT, "prctl(PR_CAP_AMBIENT)"),
	ARG0(prctl, PR_SET_DUMPABLE, "prctl(PR_SET_DUMPABLE)"),
	ARG0(prctl, PR_SET_NO_NEW_PRIVS, "prctl(PR_SET_NO_NEW_PRIVS)"),
	ANY(setgroups), ANY(setresgid), ANY(setfsgid), ANY(setresuid), ANY(setfsuid),
};

#undef ARG0
#undef ANY

bool rst_seccomp_late(const TaskCoreEntry *c)
{
	const CredsEntry *cr = c->creds;

	return !cr || (cr->has_no_new_privs && cr->no_new_privs) ||
	       (cr->cap_eff & (1ULL << CAP_SYS_ADMIN_BIT));
}

/* What seccomp's own checker would refuse, roughly: jumps out, no return at the end. */
static int check_program(const struct sock_filter *f, size_t n, size_t idx, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned int cls = BPF_CLASS(f[i].code);
		size_t to = i + 1 + (BPF_OP(f[i].code) == BPF_JA ? f[i].k
				     : f[i].jt > f[i].jf ? f[i].jt : f[i].jf);

		if (cls == BPF_JMP && to >= n)
			goto bad;
		if ((cls == BPF_LD || cls == BPF_LDX) && BPF_MODE(f[i].code) == BPF_ABS &&
		    (f[i].k >= sizeof(struct seccomp_data) || (f[i].k & 3)))
			goto bad;
	}
	if (n && BPF_CLASS(f[n - 1].code) == BPF_RET)
		return 0;
bad:
	pr_err("%s: seccomp filter %zu is no program seccomp takes (instruction %zu)", what, idx, i);
	return -1;
}

int seccomp_check_calls(SeccompFilterEntry *const *e, size_t n,
			const struct compel_sc_call *calls, size_t nr, const char *what,
			const char *when)
{
	struct compel_bpf *f = calloc(n ? n : 1, sizeof(*f));
	uint32_t act;
	size_t i;
	int ret = 0;

	if (!f) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		f[i].insns = e[i]->insns.data;
		f[i].len = (int)(e[i]->insns.len / sizeof(struct sock_filter));
	}
	for (i = 0; i < nr && !ret; i++) {
		if (!compel_seccomp_may_harm(f, (int)n, &calls[i], &act))
			continue;
		pr_err("%s: the seccomp filters may answer %s%s with %s, %s", what, calls[i].name,
		       strchr(calls[i].name, '(') ? "" : "()", compel_seccomp_action_name(act), when);
		ret = -1;
	}
	free(f);
	return ret;
}

#define RESTORE_CALLS	"which the restore calls once the filters are in: not supported yet"

int rst_seccomp_check_filters(const TaskCoreEntry *c, const char *what)
{
	size_t i, path = 0;

	if (!c->has_seccomp_mode || c->seccomp_mode == SECCOMP_MODE_DISABLED) {
		if (!c->n_seccomp_filters)
			return 0;
		pr_err("%s: seccomp filters without the filter mode", what);
		return -1;
	}
	if (c->seccomp_mode != SECCOMP_MODE_FILTER || !c->n_seccomp_filters ||
	    c->n_seccomp_filters > SECCOMP_MAX_FILTERS) {
		pr_err("%s: seccomp mode %u with %zu filters: not supported", what, c->seccomp_mode,
		       c->n_seccomp_filters);
		return -1;
	}
	for (i = 0; i < c->n_seccomp_filters; i++) {
		const SeccompFilterEntry *e = c->seccomp_filters[i];
		const struct sock_filter *f = (const struct sock_filter *)e->insns.data;
		size_t n = e->insns.len / sizeof(*f);

		path += n + 4;
		if (!n || e->insns.len % sizeof(*f) || n > SECCOMP_MAX_INSNS || path > SECCOMP_MAX_PATH ||
		    (e->flags & ~(uint32_t)SECCOMP_FILTER_FLAG_LOG)) {
			pr_err("%s: seccomp filter %zu: %zu bytes, flags %#x: not a filter seccomp takes",
			       what, i, e->insns.len, e->flags);
			return -1;
		}
		if (check_program(f, n, i, what))
			return -1;
	}
	if (seccomp_check_calls(c->seccomp_filters, c->n_seccomp_filters, after_creds,
				ARRAY_SIZE(after_creds), what, RESTORE_CALLS) ||
	    (!rst_seccomp_late(c) &&
	     seccomp_check_calls(c->seccomp_filters, c->n_seccomp_filters, creds_calls,
				 ARRAY_SIZE(creds_calls), what, RESTORE_CALLS)))
		return -1;
	return 0;
}

uint64_t rst_seccomp_len(const TaskCoreEntry *c)
{
	uint64_t len = c->n_seccomp_filters * sizeof(struct rst_seccomp_filter);
	size_t i;

	for (i = 0; i < c->n_seccomp_filters; i++)
		len += c->seccomp_filters[i]->insns.len;
	return len;
}

void rst_seccomp_fill(const TaskCoreEntry *c, uint64_t at, struct restorer_args *a)
{
	struct rst_seccomp_filter *f = (struct rst_seccomp_filter *)(unsigned long)at;
	unsigned char *prog = (unsigned char *)(f + c->n_seccomp_filters);
	size_t i;

	a->seccomp = at;
	a->nr_seccomp = (uint32_t)c->n_seccomp_filters;
	a->seccomp_late = rst_seccomp_late(c);
	for (i = 0; i < c->n_seccomp_filters; i++) {
		const ProtobufCBinaryData *b = &c->seccomp_filters[i]->insns;

		memcpy(prog, b->data, b->len);
		f[i].insns = (uint64_t)(unsigned long)prog;
		f[i].len = (uint32_t)(b->len / sizeof(struct sock_filter));
		f[i].flags = c->seccomp_filters[i]->flags;
		prog += b->len;
	}
}
