/*
 * Our core-PID.img (task core, then one thread core per thread) ->
 * established core-TID.img, one per thread (plan §2.6, §2.7, §3.3, §3.4):
 * registers and FPU state by the arch (est-regs.h), dense signal actions
 * and rlimits, and what ours keeps per process copied into every thread.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdint.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "est-seccomp.h"
#include "est-regs.h"
#include "log.h"

#include "est/core.pb-c.h"

#define NSIG_EST	62	/* sigactions: 1..64 without SIGKILL, SIGSTOP */
#define NR_RLIMITS	16

/* What all threads of a process share in the format's terms. */
struct task_out {
	Est__TaskCoreEntry tc;
	Est__TaskTimersEntry timers;
	Est__ItimerEntry it[3];
	Est__PosixTimerEntry *pt, **ptp;
	Est__TaskRlimitsEntry rl;
	Est__RlimitEntry r[NR_RLIMITS], *rp[NR_RLIMITS];
	Est__SaEntry sa[NSIG_EST], *sap[NSIG_EST];
	Est__SignalQueueEntry sq;
	Est__SiginfoEntry *si, **sip;
	Est__CredsEntry creds;
	uint32_t caps[5][2];
};

struct thread_out {
	Est__CoreEntry core;
	struct arch_est_thread arch;	/* thread_info and what it points to */
	Est__ThreadCoreEntry th;
	Est__ThreadSasEntry sas;
	Est__RseqEntry rseq;
	Est__SignalQueueEntry sq;
	Est__SiginfoEntry *si, **sip;
};

/* ---- per thread ------------------------------------------------------------------ */

static int wrap_queue(ProtobufCBinaryData *v, size_t n, Est__SignalQueueEntry *q,
		      Est__SiginfoEntry **si, Est__SiginfoEntry ***sip)
{
	size_t i;

	est__signal_queue_entry__init(q);
	if (!n)
		return 0;
	*si = exp_zalloc(n * sizeof(**si));
	*sip = exp_zalloc(n * sizeof(**sip));
	if (!*si || !*sip)
		return -1;
	for (i = 0; i < n; i++) {
		est__siginfo_entry__init(&(*si)[i]);
		(*si)[i].siginfo = v[i];
		(*sip)[i] = &(*si)[i];
	}
	q->n_signals = n;
	q->signals = *sip;
	return 0;
}

#define DEFAULT_TIMERSLACK_NS	50000	/* what a thread of the established restore has */

/* Every configured cpu in @m (bit N = cpu N, 64 a word)? */
static bool all_cpus(const uint64_t *m, size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF), c;

	for (c = 0; c < cpus; c++)
		if ((size_t)c / 64 >= n || !(m[c / 64] & (1ULL << (c % 64))))
			return false;
	return true;
}

/*
 * Per-thread state ours has and the format lacks: refused unless at the
 * value an established restore gives (its threads inherit its defaults).
 */
static int check_thread(const ThreadCoreEntry *th, const char *img)
{
	if ((th->has_tsc && th->tsc != 1) || (th->has_mce_kill && th->mce_kill != 2) ||
	    (th->has_mempolicy && th->mempolicy)) {
		if (exp_cannot(img, "thread %u has PR_SET_TSC, PR_MCE_KILL or a NUMA memory policy set",
			       th->tid))
			return -1;
	}
	/* a real-time thread reads 0: the kernel gives it no slack */
	if ((th->has_timerslack_ns && th->timerslack_ns && th->timerslack_ns != DEFAULT_TIMERSLACK_NS) ||
	    (th->has_ioprio && th->ioprio) ||
	    (th->n_cpus_allowed && !all_cpus(th->cpus_allowed, th->n_cpus_allowed))) {
		if (exp_cannot(img, "thread %u has a timer slack, an I/O priority or a CPU affinity of its own",
			       th->tid))
			return -1;
	}
	return 0;
}

static int fill_thread(struct thread_out *t, const ThreadCoreEntry *th, bool leader,
		       struct task_out *to, const CpuInfoEntry *cpu, const char *img)
{
	if (check_thread(th, img))
		return -1;
	est__core_entry__init(&t->core);
	est__thread_core_entry__init(&t->th);
	t->core.thread_core = &t->th;
	if (leader)
		t->core.tc = &to->tc;
	if (arch_est_export_regs(&t->arch, &t->core, th, cpu, img))
		return -1;
	t->th.futex_rla = th->has_robust_list ? th->robust_list : 0;
	t->th.futex_rla_len = th->has_robust_list ? (th->has_robust_list_len ? th->robust_list_len : 24) : 0;
	t->th.has_sched_nice = t->th.has_sched_policy = true;
	if (!leader) {
		t->th.has_blk_sigset = true;
		t->th.blk_sigset = th->blocked;
	}
	est__thread_sas_entry__init(&t->sas);
	if (th->altstack) {
		t->sas.ss_sp = th->altstack->sp;
		t->sas.ss_size = th->altstack->size;
		t->sas.ss_flags = th->altstack->flags;
	} else {
		t->sas.ss_flags = SS_DISABLE;
	}
	t->th.sas = &t->sas;
	if (wrap_queue(th->pending, th->n_pending, &t->sq, &t->si, &t->sip))
		return -1;
	t->th.signals_p = &t->sq;
	t->th.creds = &to->creds;
	t->th.comm = th->comm;
	if (th->rseq && th->rseq->ptr) {
		est__rseq_entry__init(&t->rseq);
		t->rseq.rseq_abi_pointer = th->rseq->ptr;
		t->rseq.rseq_abi_size = th->rseq->len;
		t->rseq.signature = th->rseq->sig;
		t->th.rseq_entry = &t->rseq;
	}
	return 0;
}

/* ---- per process ----------------------------------------------------------------- */

static void cap_words(uint32_t w[2], uint64_t v)
{
	w[0] = (uint32_t)v;
	w[1] = v >> 32;
}

static int fill_creds(struct task_out *o, const CredsEntry *c, const char *img)
{
	Est__CredsEntry *e = &o->creds;

	est__creds_entry__init(e);
	if (c->n_uid != 4 || c->n_gid != 4) {
		pr_err("%s: credentials of %zu uids, %zu gids", img, c->n_uid, c->n_gid);
		return -1;
	}
	e->uid = c->uid[0], e->euid = c->uid[1], e->suid = c->uid[2], e->fsuid = c->uid[3];
	e->gid = c->gid[0], e->egid = c->gid[1], e->sgid = c->gid[2], e->fsgid = c->gid[3];
	e->n_groups = c->n_groups;
	e->groups = c->groups;
	cap_words(o->caps[0], c->cap_inh);
	cap_words(o->caps[1], c->cap_prm);
	cap_words(o->caps[2], c->cap_eff);
	cap_words(o->caps[3], c->cap_bnd);
	e->n_cap_inh = e->n_cap_prm = e->n_cap_eff = e->n_cap_bnd = 2;
	e->cap_inh = o->caps[0], e->cap_prm = o->caps[1];
	e->cap_eff = o->caps[2], e->cap_bnd = o->caps[3];
	if (c->has_cap_amb && c->cap_amb) {	/* crit 3.17 does not know it: only when set */
		cap_words(o->caps[4], c->cap_amb);
		e->n_cap_amb = 2;
		e->cap_amb = o->caps[4];
	}
	e->secbits = c->has_securebits ? c->securebits : 0;
	if (c->has_no_new_privs && c->no_new_privs) {
		e->has_no_new_privs = true;
		e->no_new_privs = 1;
	}
	return 0;
}

static int fill_timers(struct task_out *o, const TaskCoreEntry *c, const char *img)
{
	Est__ItimerEntry *it[3] = { &o->it[0], &o->it[1], &o->it[2] };
	size_t i;

	est__task_timers_entry__init(&o->timers);
	for (i = 0; i < 3; i++)
		est__itimer_entry__init(it[i]);
	for (i = 0; i < c->n_itimers; i++) {
		const ItimerEntry *e = c->itimers[i];

		if (e->which > 2) {
			pr_err("%s: itimer %u", img, e->which);
			return -1;
		}
		it[e->which]->isec = e->interval_us / 1000000;
		it[e->which]->iusec = e->interval_us % 1000000;
		it[e->which]->vsec = e->value_us / 1000000;
		it[e->which]->vusec = e->value_us % 1000000;
	}
	o->timers.real = it[0], o->timers.virt = it[1], o->timers.prof = it[2];
	if (c->n_posix_timers) {
		o->pt = exp_zalloc(c->n_posix_timers * sizeof(*o->pt));
		o->ptp = exp_zalloc(c->n_posix_timers * sizeof(*o->ptp));
		if (!o->pt || !o->ptp)
			return -1;
	}
	for (i = 0; i < c->n_posix_timers; i++) {
		const PosixTimerEntry *e = c->posix_timers[i];
		Est__PosixTimerEntry *p = &o->pt[i];

		est__posix_timer_entry__init(p);
		p->it_id = (uint32_t)e->id;
		p->clock_id = e->clock;
		p->si_signo = e->signo;
		p->it_sigev_notify = e->notify;
		p->sival_ptr = e->sival;
		p->overrun = e->has_overrun ? e->overrun : 0;
		p->isec = e->interval_ns / 1000000000, p->insec = e->interval_ns % 1000000000;
		p->vsec = e->value_ns / 1000000000, p->vnsec = e->value_ns % 1000000000;
		if (e->has_notify_tid) {
			p->has_notify_thread_id = true;
			p->notify_thread_id = (int32_t)e->notify_tid;
		}
		o->ptp[i] = p;
	}
	o->timers.n_posix = c->n_posix_timers;
	o->timers.posix = o->ptp;
	o->tc.timers = &o->timers;
	return 0;
}

static int fill_sigactions(struct task_out *o, const TaskCoreEntry *c, const char *img)
{
	size_t i;

	for (i = 0; i < NSIG_EST; i++) {
		est__sa_entry__init(&o->sa[i]);
		o->sa[i].has_compat_sigaction = true;	/* false, as the reference writes it */
		o->sap[i] = &o->sa[i];
	}
	for (i = 0; i < c->n_sigactions; i++) {
		const SigactionEntry *s = c->sigactions[i];
		unsigned int k = s->signo;

		if (!k || k > 64 || k == SIGKILL || k == SIGSTOP) {
			pr_err("%s: an action for signal %u", img, k);
			return -1;
		}
		k = k - 1 - (k > SIGKILL) - (k > SIGSTOP);
		o->sa[k].sigaction = s->handler;
		o->sa[k].flags = s->flags;
		o->sa[k].restorer = s->restorer;
		o->sa[k].mask = s->mask;
	}
	o->tc.n_sigactions = NSIG_EST;
	o->tc.sigactions = o->sap;
	return 0;
}

static int fill_rlimits(struct task_out *o, const TaskCoreEntry *c, const char *img)
{
	bool seen[NR_RLIMITS] = { false };
	size_t i;

	est__task_rlimits_entry__init(&o->rl);
	for (i = 0; i < c->n_rlimits; i++) {
		const RlimitEntry *r = c->rlimits[i];

		if (r->resource >= NR_RLIMITS || seen[r->resource]) {
			pr_err("%s: resource limit %u", img, r->resource);
			return -1;
		}
		seen[r->resource] = true;
		est__rlimit_entry__init(&o->r[r->resource]);
		o->r[r->resource].cur = r->cur;
		o->r[r->resource].max = r->max;
	}
	if (!c->n_rlimits)
		return 0;
	for (i = 0; i < NR_RLIMITS; i++) {
		if (!seen[i]) {
			pr_err("%s: resource limit %zu is missing (the format has all 16)", img, i);
			return -1;
		}
		o->rp[i] = &o->r[i];
	}
	o->rl.n_rlimits = NR_RLIMITS;
	o->rl.rlimits = o->rp;
	o->tc.rlimits = &o->rl;
	return 0;
}

/* Per-process state ours has and the format lacks. */
static int check_task(const TaskCoreEntry *c, const char *img)
{
	if ((c->has_membarrier && c->membarrier) || c->timens_for_children ||
	    (c->has_memory_merge && c->memory_merge) ||
	    (c->has_session_keyring && c->session_keyring)) {
		if (exp_cannot(img, "membarrier registrations, a time namespace for children, KSM (PR_SET_MEMORY_MERGE) or a session keyring of criu's"))
			return -1;
	}
	if ((c->has_autogroup_nice && c->autogroup_nice) ||
	    (c->has_coredump_filter && c->coredump_filter != 0x33) ||
	    (c->has_audit_session && c->audit_session != UINT32_MAX)) {
		if (exp_cannot(img, "an autogroup nice, a coredump_filter other than 0x33 or an audit session"))
			return -1;
	}
	return 0;
}

static int fill_task(struct task_out *o, const TaskCoreEntry *c, const ThreadCoreEntry *leader,
		     const char *img)
{
	Est__TaskCoreEntry *tc = &o->tc;

	if (check_task(c, img))
		return -1;
	est__task_core_entry__init(tc);
	tc->task_state = c->state;
	tc->exit_code = c->has_exit_code ? (uint32_t)c->exit_code : 0;
	tc->personality = c->personality;
	tc->flags = 0;	/* PF_* flags: informational, ours does not keep them */
	tc->comm = c->comm;
	if (c->state == 3 && c->has_stop_signo) {
		tc->has_stop_signo = true;
		tc->stop_signo = c->stop_signo;
	}
	if (!leader)
		return 0;	/* a zombie */
	tc->blk_sigset = leader->blocked;
	if (fill_timers(o, c, img) || fill_rlimits(o, c, img) || fill_sigactions(o, c, img))
		return -1;
	if (wrap_queue(c->shared_pending, c->n_shared_pending, &o->sq, &o->si, &o->sip))
		return -1;
	tc->signals_s = &o->sq;
	if (c->has_loginuid) {
		tc->has_loginuid = true;
		tc->loginuid = c->loginuid;
	}
	tc->has_oom_score_adj = true;
	tc->oom_score_adj = c->has_oom_score_adj ? c->oom_score_adj : 0;
	tc->has_child_subreaper = true;
	tc->child_subreaper = c->has_child_subreaper && c->child_subreaper;
	if (c->creds)
		return fill_creds(o, c->creds, img);
	return 0;
}

static void per_thread_sched(struct thread_out *t, const TaskCoreEntry *c)
{
	t->th.sched_policy = c->has_sched_policy ? c->sched_policy : 0;
	t->th.sched_nice = c->has_nice ? c->nice : 0;
	if (c->has_sched_prio && c->sched_prio) {
		t->th.has_sched_prio = true;
		t->th.sched_prio = c->sched_prio;
	}
	if (c->has_pdeath_sig && c->pdeath_sig) {
		t->th.has_pdeath_sig = true;
		t->th.pdeath_sig = c->pdeath_sig;
	}
	if (!c->creds)
		t->th.creds = NULL;
}

static int write_core(struct exp *ex, uint32_t tid, const Est__CoreEntry *c)
{
	struct exp_img w;
	char name[64];

	snprintf(name, sizeof(name), "core-%u.img", tid);
	exp_img_open(&w, name);
	exp_img_add(&w, &c->base, NULL, 0);
	return exp_img_close(ex, &w);
}

/*
 * A zombie: mtype and task core, as the reference writes, and its ids (the
 * restore gives them to it) in the creds of a thread core holding nothing
 * else, which a reference restore ignores for a zombie.
 */
static int write_zombie(struct exp *ex, struct exp_proc *p, struct task_out *to, const char *img)
{
	Est__CoreEntry c = EST__CORE_ENTRY__INIT;
	Est__ThreadCoreEntry th = EST__THREAD_CORE_ENTRY__INIT;

	if (p->tc->state != 2) {
		pr_err("%s: a process without threads that is no zombie", img);
		return -1;
	}
	c.mtype = ARCH_EST_MARCH;
	c.tc = &to->tc;
	if (p->tc->creds) {
		if (fill_creds(to, p->tc->creds, img))
			return -1;
		th.creds = &to->creds;
		c.thread_core = &th;
	}
	return write_core(ex, p->ps->pid, &c);
}

int exp_core(struct exp *ex, struct exp_proc *p)
{
	struct task_out *to = exp_zalloc(sizeof(*to));
	struct thread_out *t = NULL;
	ProtobufCMessage **m = NULL;
	size_t nr = 0, k;
	char img[64];
	int ret = -1;

	snprintf(img, sizeof(img), "core-%u.img", p->ps->pid);
	if (!to || img_read_all(ex->in, IMG_CORE, p->ps->pid, 0, NULL, NULL, &m, &nr))
		goto out;
	exp_used(ex, img);
	if (!nr || nr - 1 != p->ps->n_threads) {
		pr_err("%s: %zu thread entries, pstree.img lists %zu threads", img,
		       nr ? nr - 1 : 0, p->ps->n_threads);
		goto out;
	}
	p->tc = (TaskCoreEntry *)m[0];
	m[0] = NULL;
	if (fill_task(to, p->tc, nr > 1 ? (ThreadCoreEntry *)m[1] : NULL, img))
		goto out;
	if (nr == 1) {
		ret = write_zombie(ex, p, to, img);
		goto out;
	}
	t = exp_zalloc((nr - 1) * sizeof(*t));
	if (!t)
		goto out;
	for (k = 1; k < nr; k++) {
		const ThreadCoreEntry *th = (ThreadCoreEntry *)m[k];

		if (th->tid != p->ps->threads[k - 1]) {
			pr_err("%s: thread %u where pstree.img has %u", img, th->tid,
			       p->ps->threads[k - 1]);
			goto out;
		}
		if (fill_thread(&t[k - 1], th, k == 1, to, ex->inv->cpu, img))
			goto out;
		per_thread_sched(&t[k - 1], p->tc);
		if (exp_seccomp_thread(ex, p->tc, k == 1, &t[k - 1].th))
			goto out;
		if (write_core(ex, th->tid, &t[k - 1].core))
			goto out;
	}
	ret = 0;
out:
	for (k = 0; t && k + 1 < nr; k++) {
		free(t[k].si);
		free(t[k].sip);
	}
	free(t);
	if (to) {
		free(to->pt);
		free(to->ptp);
		free(to->si);
		free(to->sip);
	}
	free(to);
	img_free_all(m, nr);
	return ret;
}
