/*
 * May a victim's seccomp filters harm a call compel or its parasite makes?
 *
 * The kernel runs the filters after the syscall-entry stop, and
 * PTRACE_O_SUSPEND_SECCOMP goes away with the tracer: whatever a victim's
 * thread calls from compel's hands is judged by its filters should the
 * caller die first.  A call answered with ERRNO, TRACE (no tracer left:
 * ENOSYS), LOG or ALLOW just fails or runs; KILL_PROCESS, KILL_THREAD,
 * TRAP, USER_NOTIF or a value seccomp does not know (which kills) harm
 * it.  compel refuses a victim whose filters may harm a call it makes.
 *
 * The filters are read with PTRACE_SECCOMP_GET_FILTER and run here by a
 * classic-BPF interpreter over struct seccomp_data in which a word may be
 * unknown (an argument the call does not fix, the instruction pointer):
 * arithmetic on an unknown value is unknown, and a conditional jump on
 * one takes both branches.  Jumps only go forward, so every path ends;
 * their number is bounded by a budget, past which the answer is "may
 * harm".
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include "internal.h"

#define MAX_INSNS	4096		/* BPF_MAXINSNS */
#define BUDGET		(1 << 18)	/* instructions run over all paths of a chain */
#define MAX_PENDING	256		/* branches not taken yet */
#define MAX_OUT		16		/* distinct actions of one filter */

struct aval {
	uint32_t	v;
	bool		known;
};

struct astate {
	int		pc;
	struct aval	a, x, mem[16];
};

/* What the call fixes: seccomp_data as 16 words, bit i set if word i is known. */
struct query {
	uint32_t	w[16];
	uint16_t	known;
};

/* The actions one filter may give; overflow: not all of them are known. */
struct outcomes {
	uint32_t	v[MAX_OUT];
	int		n;
	bool		overflow;
};

static void out_add(struct outcomes *o, uint32_t act)
{
	int i;

	act &= SECCOMP_RET_ACTION_FULL;
	for (i = 0; i < o->n; i++)
		if (o->v[i] == act)
			return;
	if (o->n == MAX_OUT)
		o->overflow = true;
	else
		o->v[o->n++] = act;
}

static struct aval known(uint32_t v)
{
	return (struct aval){ v, true };
}

static const struct aval unknown = { 0, false };

/* A load; false: a program seccomp would not have taken. */
static bool load(const struct sock_filter *i, const struct astate *s,
		 const struct query *q, struct aval *v)
{
	switch (BPF_MODE(i->code)) {
	case BPF_ABS:
		if (BPF_SIZE(i->code) != BPF_W || i->k >= sizeof(struct seccomp_data) ||
		    (i->k & 3))
			return false;
		*v = q->known & (1u << (i->k / 4)) ? known(q->w[i->k / 4]) : unknown;
		return true;
	case BPF_IMM:
		*v = known(i->k);
		return true;
	case BPF_MEM:
		if (i->k >= 16)
			return false;
		*v = s->mem[i->k];
		return true;
	case BPF_LEN:
		*v = known(sizeof(struct seccomp_data));
		return true;
	}
	return false;
}

/* A = A op src; -1: the program returns 0 here (division by zero), -2: bad. */
static int alu(uint16_t code, struct aval *a, struct aval src)
{
	uint32_t s = src.v;

	if (BPF_OP(code) == BPF_NEG) {
		a->v = -a->v;
		return 0;
	}
	if ((BPF_OP(code) == BPF_DIV || BPF_OP(code) == BPF_MOD) && src.known && !s)
		return -1;
	if (!a->known || !src.known) {
		*a = unknown;
		return 0;
	}
	switch (BPF_OP(code)) {
	case BPF_ADD: a->v += s; break;
	case BPF_SUB: a->v -= s; break;
	case BPF_MUL: a->v *= s; break;
	case BPF_DIV: a->v /= s; break;
	case BPF_MOD: a->v %= s; break;
	case BPF_OR: a->v |= s; break;
	case BPF_AND: a->v &= s; break;
	case BPF_XOR: a->v ^= s; break;
	case BPF_LSH: a->v <<= s & 31; break;	/* as the kernel's ALU32 shift */
	case BPF_RSH: a->v >>= s & 31; break;
	default: return -2;
	}
	return 0;
}

/* 1: taken, 0: not, -1: either. */
static int cond(uint16_t code, struct aval a, struct aval src)
{
	if (!a.known || !src.known)
		return -1;
	switch (BPF_OP(code)) {
	case BPF_JEQ: return a.v == src.v;
	case BPF_JGT: return a.v > src.v;
	case BPF_JGE: return a.v >= src.v;
	case BPF_JSET: return (a.v & src.v) != 0;
	}
	return -1;
}

struct walk {
	const struct sock_filter *f;
	int		n;
	const struct query *q;
	struct astate	pending[MAX_PENDING];
	int		nr_pending;
	long		budget;
	struct outcomes	*out;
};

/* Both ways of a jump on an unknown value: the jump taken is kept for later. */
static bool fork_jump(struct walk *w, struct astate *s, const struct sock_filter *i,
		      struct aval src)
{
	struct astate *t;

	if (w->nr_pending == MAX_PENDING)
		return false;
	t = &w->pending[w->nr_pending++];
	*t = *s;
	t->pc += 1 + i->jt;
	if (BPF_OP(i->code) == BPF_JEQ && src.known)
		t->a = src;	/* equal on that branch */
	s->pc += 1 + i->jf;
	return true;
}

/* Runs one path from @s to its return; false: the walk must give up. */
static bool run_path(struct walk *w, struct astate *s)
{
	while (s->pc >= 0 && s->pc < w->n) {
		const struct sock_filter *i = &w->f[s->pc];
		struct aval src = BPF_SRC(i->code) == BPF_X ? s->x : known(i->k), v;
		int c;

		if (--w->budget < 0)
			return false;
		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
		case BPF_LDX:
			if (!load(i, s, w->q, &v))
				return false;
			*(BPF_CLASS(i->code) == BPF_LD ? &s->a : &s->x) = v;
			break;
		case BPF_ST:
		case BPF_STX:
			if (i->k >= 16)
				return false;
			s->mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? s->a : s->x;
			break;
		case BPF_ALU:
			c = alu(i->code, &s->a, src);
			if (c == -2)
				return false;
			if (c == -1) {
				out_add(w->out, 0);	/* cBPF: return 0 */
				return true;
			}
			if (BPF_OP(i->code) == BPF_DIV || BPF_OP(i->code) == BPF_MOD)
				if (!src.known)
					out_add(w->out, 0);	/* may divide by zero */
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_JA) {
				s->pc += 1 + i->k;
				continue;
			}
			c = cond(i->code, s->a, src);
			if (c < 0 && !fork_jump(w, s, i, src))
				return false;
			if (c >= 0)
				s->pc += 1 + (c ? i->jt : i->jf);
			continue;
		case BPF_RET:
			if (BPF_RVAL(i->code) == BPF_A && !s->a.known)
				return false;	/* a computed action */
			out_add(w->out, BPF_RVAL(i->code) == BPF_A ? s->a.v : i->k);
			return true;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				s->x = s->a;
			else
				s->a = s->x;
			break;
		}
		s->pc++;
	}
	return false;	/* fell off the end: not a program seccomp takes */
}

/* Every action filter @f may give for @q. */
static void run_filter(const struct sock_filter *f, int n, const struct query *q,
		       struct outcomes *out, long *budget)
{
	struct walk *w = malloc(sizeof(*w));
	struct astate s;
	int i;

	memset(out, 0, sizeof(*out));
	if (!w || n <= 0 || n > MAX_INSNS) {
		out->overflow = true;
		free(w);
		return;
	}
	w->f = f;
	w->n = n;
	w->q = q;
	w->nr_pending = 0;
	w->budget = *budget;
	w->out = out;
	memset(&s, 0, sizeof(s));
	s.a = s.x = known(0);
	for (i = 0; i < 16; i++)
		s.mem[i] = known(0);
	for (;;) {
		if (!run_path(w, &s)) {
			out->overflow = true;
			break;
		}
		if (!w->nr_pending)
			break;
		s = w->pending[--w->nr_pending];
	}
	*budget = w->budget;
	free(w);
}

static bool harms(uint32_t act, bool must_run)
{
	switch (act) {
	case SECCOMP_RET_ALLOW:
	case SECCOMP_RET_LOG:
		return false;
	case SECCOMP_RET_ERRNO:
	case SECCOMP_RET_TRACE:
		return must_run;
	}
	return true;
}

/* The strictest action wins (compared as the kernel does, signed). */
static int32_t order(uint32_t act)
{
	return (int32_t)act;
}

static int32_t max_order(const struct outcomes *o)
{
	int32_t m = INT32_MIN;
	int i;

	if (o->overflow)
		return order(SECCOMP_RET_ALLOW);
	for (i = 0; i < o->n; i++)
		if (order(o->v[i]) > m)
			m = order(o->v[i]);
	return m;
}

static void make_query(struct query *q, const struct compel_sc_call *c)
{
	struct seccomp_data d = { .nr = (int)c->nr, .arch = CPL_AUDIT_ARCH };
	int i;

	memcpy(d.args, c->args, sizeof(d.args));
	memcpy(q->w, &d, sizeof(q->w));
	q->known = 0x3;		/* nr, arch */
	for (i = 0; i < 6; i++)
		if (c->known & (1u << i))
			q->known |= 3u << (4 + 2 * i);
	if (c->known & COMPEL_SC_IP)
		q->known |= 3u << 2;
	if (c->known & COMPEL_SC_IP) {
		q->w[2] = (uint32_t)c->ip;
		q->w[3] = (uint32_t)(c->ip >> 32);
	}
}

/*
 * A harmful action of filter @i can be the chain's if every other filter
 * may give one at least as lax (filters taken apart: sound, and exact when
 * each gives one action).
 */
static int chain_harm(const struct outcomes *o, int n, bool must_run, uint32_t *act)
{
	int i, j, k;

	for (i = 0; i < n; i++) {
		if (o[i].overflow) {
			*act = SECCOMP_RET_KILL_PROCESS;
			return 1;
		}
		for (k = 0; k < o[i].n; k++) {
			if (!harms(o[i].v[k], must_run))
				continue;
			for (j = 0; j < n; j++)
				if (j != i && max_order(&o[j]) < order(o[i].v[k]))
					break;
			if (j == n) {
				*act = o[i].v[k];
				return 1;
			}
		}
	}
	return 0;
}

int compel_seccomp_may_harm(const struct compel_bpf *f, int n,
			    const struct compel_sc_call *c, uint32_t *act)
{
	long budget = BUDGET;
	struct outcomes *o;
	struct query q;
	int i, ret;

	if (n <= 0)
		return 0;
	o = calloc(n, sizeof(*o));
	if (!o) {
		*act = SECCOMP_RET_KILL_PROCESS;
		return 1;
	}
	make_query(&q, c);
	for (i = 0; i < n; i++)
		run_filter(f[i].insns, f[i].len, &q, &o[i], &budget);
	ret = chain_harm(o, n, c->must_run, act);
	free(o);
	return ret;
}

const char *compel_seccomp_action_name(uint32_t act)
{
	switch (act & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS: return "SECCOMP_RET_KILL_PROCESS";
	case SECCOMP_RET_KILL_THREAD: return "SECCOMP_RET_KILL_THREAD";
	case SECCOMP_RET_TRAP: return "SECCOMP_RET_TRAP";
	case SECCOMP_RET_ERRNO: return "SECCOMP_RET_ERRNO";
	case SECCOMP_RET_USER_NOTIF: return "SECCOMP_RET_USER_NOTIF";
	case SECCOMP_RET_TRACE: return "SECCOMP_RET_TRACE";
	case SECCOMP_RET_LOG: return "SECCOMP_RET_LOG";
	case SECCOMP_RET_ALLOW: return "SECCOMP_RET_ALLOW";
	}
	return "an action seccomp does not know (it kills)";
}

/*
 * What compel's daemon (plugins/std/src/daemon.c, log.c), its trampoline's
 * undo and its way home call in a victim, with any arguments: a unit test
 * checks the plugin's sources against it.  rt_sigreturn must run.
 */
#define ANY(n)	{ .nr = __NR_##n, .name = #n }
static const struct compel_sc_call own_calls[] = {
	ANY(close), ANY(connect), ANY(getppid), ANY(gettid), ANY(ppoll), ANY(recvmsg),
	ANY(rt_sigaction), ANY(rt_sigpending), ANY(rt_sigprocmask), ANY(rt_sigtimedwait),
	ANY(sendmsg), ANY(sendto), ANY(sigaltstack), ANY(munmap),
	/* made by compel itself under seccomp, before the daemon starts */
	{ .nr = __NR_socket, .name = "socket", .known = 0x7,
	  .args = { AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0 } },
	{ .nr = __NR_rt_sigreturn, .name = "rt_sigreturn", .must_run = 1 },
};
#undef ANY

int compel_seccomp_own_calls(const struct compel_sc_call **calls)
{
	*calls = own_calls;
	return (int)ARRAY_SIZE(own_calls);
}

/* The name of a call compel makes ("syscall N" in @buf if it has none here). */
const char *cpl_sc_name(long nr, char *buf, size_t len)
{
	static const struct compel_sc_call more[] = {
		{ .nr = __NR_mmap, .name = "mmap" }, { .nr = __NR_getpid, .name = "getpid" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(own_calls); i++)
		if (own_calls[i].nr == nr)
			return own_calls[i].name;
	for (i = 0; i < ARRAY_SIZE(more); i++)
		if (more[i].nr == nr)
			return more[i].name;
	snprintf(buf, len, "syscall %ld", nr);
	return buf;
}

/* ---- the victim's filters ------------------------------------------------ */

/* Read the victim's filters (it must be stopped); 0, or -1 if unknown. */
int cpl_seccomp_load(struct compel_ctl *ctl)
{
	struct sock_filter buf[MAX_INSNS];
	struct compel_bpf *p;
	void *insns;
	long idx, n;

	for (idx = 0;; idx++) {
		n = ptrace(PTRACE_SECCOMP_GET_FILTER, ctl->pid, (void *)idx, buf);
		if (n < 0 && errno == ENOENT && idx > 0)
			return 0;
		if (n <= 0 || n > MAX_INSNS) {
			pr_err("cannot read seccomp filter %ld of %d: %m", idx, ctl->pid);
			goto err;
		}
		p = realloc(ctl->filters, (ctl->nr_filters + 1) * sizeof(*p));
		if (!p)
			goto err;
		ctl->filters = p;
		insns = malloc(n * sizeof(buf[0]));
		if (!insns)
			goto err;
		memcpy(insns, buf, n * sizeof(buf[0]));
		p[ctl->nr_filters].insns = insns;
		p[ctl->nr_filters++].len = (int)n;
	}
err:
	cpl_seccomp_free(ctl);
	return -1;
}

void cpl_seccomp_free(struct compel_ctl *ctl)
{
	while (ctl->nr_filters > 0)
		free((void *)ctl->filters[--ctl->nr_filters].insns);
	free(ctl->filters);
	ctl->filters = NULL;
}

/* 0: the victim's filters cannot harm @c; -1 (logged): they may, or are unknown. */
int cpl_seccomp_check(struct compel_ctl *ctl, const struct compel_sc_call *c)
{
	uint32_t act;

	if (!ctl->seccomp)
		return 0;
	if (ctl->seccomp != SECCOMP_MODE_FILTER || !ctl->nr_filters) {
		pr_err("%d is under seccomp mode %d with filters compel could not read: were the "
		       "caller killed mid-call it could die of %s(): not supported yet", ctl->pid,
		       ctl->seccomp, c->name);
		return -1;
	}
	if (!compel_seccomp_may_harm(ctl->filters, ctl->nr_filters, c, &act))
		return 0;
	pr_err("the seccomp filter of %d may answer %s() with %s: were the caller killed "
	       "mid-call the filter would apply; not supported yet", ctl->pid, c->name,
	       compel_seccomp_action_name(act));
	return -1;
}

/* Every call of compel's own table. */
int cpl_seccomp_check_own(struct compel_ctl *ctl)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(own_calls); i++)
		if (cpl_seccomp_check(ctl, &own_calls[i]))
			return -1;
	return 0;
}

/*
 * A thread about to run a command may have filters of its own: its
 * parasite code and way home are then judged by them.
 */
int cpl_seccomp_check_thread(pid_t tid)
{
	struct compel_creds cr;
	struct compel_ctl *t;
	int ret;

	if (compel_task_creds(tid, &cr))
		return -1;
	if (!cr.seccomp)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->pid = tid;
	t->seccomp = cr.seccomp;
	if (t->seccomp == SECCOMP_MODE_FILTER)
		cpl_seccomp_load(t);
	ret = cpl_seccomp_check_own(t);
	cpl_seccomp_free(t);
	free(t);
	return ret;
}
