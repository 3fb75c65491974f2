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
 * interpreter, so such a process is refused by name instead.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <compel/compel.h>

#include "log.h"
#include "restorer-args.h"
#include "seccomp-rst.h"

#define CAP_SYS_ADMIN_BIT	21

struct call {
	long		nr;
	uint64_t	arg0;
	const char	*name;
};

/* Every process: from the report to criu to the sigreturn. */
static const struct call after_creds[] = {
	{ __NR_prctl, PR_SET_PDEATHSIG, "prctl(PR_SET_PDEATHSIG)" },
	{ __NR_write, 0, "write" }, { __NR_close, 0, "close" }, { __NR_read, 0, "read" },
	{ __NR_kill, 0, "kill" }, { __NR_rt_sigaction, 0, "rt_sigaction" },
	{ __NR_rt_sigprocmask, 0, "rt_sigprocmask" }, { __NR_pidfd_open, 0, "pidfd_open" },
	{ __NR_ppoll, 0, "ppoll" }, { __NR_getppid, 0, "getppid" },
	{ __NR_nanosleep, 0, "nanosleep" }, { __NR_futex, 0, "futex" },
	{ __NR_munmap, 0, "munmap" }, { __NR_rt_sigreturn, 0, "rt_sigreturn" },
};

/* A process that must get its filters before its credentials: those calls too. */
static const struct call creds_calls[] = {
	{ __NR_capget, 0, "capget" }, { __NR_capset, 0, "capset" },
	{ __NR_prctl, PR_CAPBSET_READ, "prctl(PR_CAPBSET_READ)" },
	{ __NR_prctl, PR_CAPBSET_DROP, "prctl(PR_CAPBSET_DROP)" },
	{ __NR_prctl, PR_SET_SECUREBITS, "prctl(PR_SET_SECUREBITS)" },
	{ __NR_prctl, PR_CAP_AMBIENT, "prctl(PR_CAP_AMBIENT)" },
	{ __NR_prctl, PR_SET_DUMPABLE, "prctl(PR_SET_DUMPABLE)" },
	{ __NR_prctl, PR_SET_NO_NEW_PRIVS, "prctl(PR_SET_NO_NEW_PRIVS)" },
	{ __NR_setgroups, 0, "setgroups" }, { __NR_setresgid, 0, "setresgid" },
	{ __NR_setfsgid, 0, "setfsgid" }, { __NR_setresuid, 0, "setresuid" },
	{ __NR_setfsuid, 0, "setfsuid" },
};

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

static int check_calls(const struct sock_filter *f, size_t n, size_t idx,
		       const struct call *calls, size_t nr, const char *what)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		uint64_t args[6] = { calls[i].arg0 };
		uint32_t act = compel_seccomp_action(f, (int)n, calls[i].nr, args);

		if ((int32_t)act < (int32_t)SECCOMP_RET_LOG) {
			pr_err("%s: seccomp filter %zu does not let %s through (action %#x), which the "
			       "restore calls once the filters are in: not supported yet", what, idx,
			       calls[i].name, act);
			return -1;
		}
	}
	return 0;
}

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
		if (check_program(f, n, i, what) ||
		    check_calls(f, n, i, after_creds, ARRAY_SIZE(after_creds), what) ||
		    (!rst_seccomp_late(c) &&
		     check_calls(f, n, i, creds_calls, ARRAY_SIZE(creds_calls), what)))
			return -1;
	}
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
