/*
 * Established core-TID.img (one per thread) -> our core-PID.img (the task
 * core, then one thread core per thread). Plan §2.6, §2.7, §3.3, §3.4.
 */
#include <linux/personality.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "est-seccomp.h"
#include "est-regs.h"
#include "log.h"
#include "personality-known.h"

#include "core.pb-c.h"

#define NSIG_EST	62	/* sigactions: 1..64 without SIGKILL, SIGSTOP */
#define NR_RLIMITS	16

struct core_out {
	TaskCoreEntry tc;
	CredsEntry creds;
	uint32_t ids[8];
	SigactionEntry sa[NSIG_EST], *sap[NSIG_EST];
	ItimerEntry it[3], *itp[3];
	PosixTimerEntry *pt, **ptp;
	RlimitEntry rl[NR_RLIMITS], *rlp[NR_RLIMITS];
	ProtobufCBinaryData *shared;
	size_t nr;			/* threads */
	ThreadCoreEntry *th;
	SigaltstackEntry *sas;
	RseqEntry *rseq;
	ProtobufCBinaryData **pending;
	Est__CoreEntry **in;
	struct imp_seccomp sc;
};

static void core_out_free(struct core_out *o)
{
	size_t i;

	for (i = 0; i < o->nr; i++) {
		if (o->th)
			arch_est_import_free(&o->th[i]);
		if (o->pending)
			free(o->pending[i]);
		if (o->in && o->in[i])
			protobuf_c_message_free_unpacked(&o->in[i]->base, NULL);
	}
	free(o->th);
	free(o->sas);
	free(o->rseq);
	free(o->pending);
	free(o->in);
	free(o->pt);
	free(o->ptp);
	free(o->shared);
	free(o->sc.e);
	free(o->sc.ep);
}

/* Signal queues: 128-byte siginfos, ours checks them further. */
static int queue(const Est__SignalQueueEntry *q, ProtobufCBinaryData **out, size_t *n,
		 const char *img)
{
	size_t i;

	*n = 0;
	if (!q || !q->n_signals)
		return 0;
	if (q->n_signals > 4096) {
		pr_err("%s: %zu queued signals", img, q->n_signals);
		return -1;
	}
	*out = imp_zalloc(q->n_signals * sizeof(**out));
	if (!*out)
		return -1;
	for (i = 0; i < q->n_signals; i++)
		(*out)[i] = q->signals[i]->siginfo;
	*n = q->n_signals;
	return 0;
}

/* ---- per thread ------------------------------------------------------------ */

static int check_thread_core(const Est__ThreadCoreEntry *t, const char *img)
{
	if ((t->has_blk_sigset_extended && t->blk_sigset_extended) ||
	    (t->rseq_entry && t->rseq_entry->has_rseq_cs_pointer && t->rseq_entry->rseq_cs_pointer)) {
		pr_err("not supported yet: %s: extended signal masks or an rseq critical section",
		       img);
		return -1;
	}
	if (t->creds && (t->creds->lsm_profile || t->creds->lsm_sockcreate ||
			 t->creds->has_apparmor_data)) {
		pr_err("not supported yet: %s: LSM labels", img);
		return -1;
	}
	return 0;
}

static int fill_thread(struct core_out *o, size_t k, uint32_t tid, const char *img)
{
	const Est__CoreEntry *c = o->in[k];
	const Est__ThreadCoreEntry *tc = c->thread_core;
	ThreadCoreEntry *t = &o->th[k];
	size_t np;

	if (arch_est_import_check(c, img) || check_thread_core(tc, img))
		return -1;
	thread_core_entry__init(t);
	t->tid = tid;
	if (arch_est_import_regs(c, t, img))
		return -1;
	if (k == 0) {
		t->blocked = c->tc->blk_sigset;
	} else {
		if (!tc->has_blk_sigset) {
			pr_err("%s: a thread without its signal mask", img);
			return -1;
		}
		t->blocked = tc->blk_sigset;
	}
	if (tc->sas) {
		sigaltstack_entry__init(&o->sas[k]);
		o->sas[k].sp = tc->sas->ss_sp;
		o->sas[k].size = tc->sas->ss_size;
		o->sas[k].flags = tc->sas->ss_flags;
		t->altstack = &o->sas[k];
	}
	if (tc->rseq_entry && tc->rseq_entry->rseq_abi_pointer) {
		rseq_entry__init(&o->rseq[k]);
		o->rseq[k].ptr = tc->rseq_entry->rseq_abi_pointer;
		o->rseq[k].len = tc->rseq_entry->rseq_abi_size;
		o->rseq[k].sig = tc->rseq_entry->signature;
		t->rseq = &o->rseq[k];
	}
	if (tc->futex_rla) {
		t->has_robust_list = t->has_robust_list_len = true;
		t->robust_list = tc->futex_rla;
		t->robust_list_len = tc->futex_rla_len;
	}
	t->comm = tc->comm;
	if (queue(tc->signals_p, &o->pending[k], &np, img))
		return -1;
	t->n_pending = np;
	t->pending = o->pending[k];
	return 0;
}

/* ---- per process ------------------------------------------------------------ */

static int creds_u64(const uint32_t *w, size_t n, uint64_t *out, const char *img)
{
	if (n != 2) {
		pr_err("%s: a capability set of %zu words (want 2)", img, n);
		return -1;
	}
	*out = w[0] | (uint64_t)w[1] << 32;
	return 0;
}

static int fill_creds(struct core_out *o, const Est__CredsEntry *c, const char *img)
{
	CredsEntry *cr = &o->creds;

	creds_entry__init(cr);
	o->ids[0] = c->uid, o->ids[1] = c->euid, o->ids[2] = c->suid, o->ids[3] = c->fsuid;
	o->ids[4] = c->gid, o->ids[5] = c->egid, o->ids[6] = c->sgid, o->ids[7] = c->fsgid;
	cr->n_uid = cr->n_gid = 4;
	cr->uid = o->ids;
	cr->gid = o->ids + 4;
	cr->n_groups = c->n_groups;
	cr->groups = c->groups;
	if (creds_u64(c->cap_inh, c->n_cap_inh, &cr->cap_inh, img) ||
	    creds_u64(c->cap_prm, c->n_cap_prm, &cr->cap_prm, img) ||
	    creds_u64(c->cap_eff, c->n_cap_eff, &cr->cap_eff, img) ||
	    creds_u64(c->cap_bnd, c->n_cap_bnd, &cr->cap_bnd, img))
		return -1;
	if (c->n_cap_amb) {
		if (creds_u64(c->cap_amb, c->n_cap_amb, &cr->cap_amb, img))
			return -1;
		cr->has_cap_amb = true;
	}
	cr->has_securebits = true;
	cr->securebits = c->secbits;
	if (c->has_no_new_privs) {
		if (c->no_new_privs > 1) {
			pr_err("%s: no_new_privs %u", img, c->no_new_privs);
			return -1;
		}
		cr->has_no_new_privs = true;
		cr->no_new_privs = c->no_new_privs;
	}
	o->tc.creds = cr;
	return 0;
}

/* Ours keeps per process what the format keeps per thread: all threads must agree. */
static int same_per_thread(const struct core_out *o, const char *img)
{
	const Est__ThreadCoreEntry *l = o->in[0]->thread_core;
	size_t k;

	for (k = 1; k < o->nr; k++) {
		const Est__ThreadCoreEntry *t = o->in[k]->thread_core;
		size_t a = l->creds ? protobuf_c_message_get_packed_size(&l->creds->base) : 0;
		size_t b = t->creds ? protobuf_c_message_get_packed_size(&t->creds->base) : 0;
		uint8_t *pa, *pb;
		bool same = a == b;

		if (same && a) {
			pa = malloc(a);
			pb = malloc(b);
			same = pa && pb;
			if (same) {
				protobuf_c_message_pack(&l->creds->base, pa);
				protobuf_c_message_pack(&t->creds->base, pb);
				same = !memcmp(pa, pb, a);
			}
			free(pa);
			free(pb);
		}
		if (!same || l->sched_nice != t->sched_nice || l->sched_policy != t->sched_policy ||
		    l->sched_prio != t->sched_prio || l->pdeath_sig != t->pdeath_sig) {
			pr_err("not supported yet: %s: threads with different credentials, scheduling or parent-death signal",
			       img);
			return -1;
		}
	}
	return 0;
}

static int us(uint64_t sec, uint64_t usec, uint64_t *out, const char *img)
{
	if (sec > (1ULL << 40) || usec >= 1000000) {
		pr_err("%s: timer value out of range", img);
		return -1;
	}
	*out = sec * 1000000 + usec;
	return 0;
}

static int ns(uint64_t sec, uint64_t nsec, uint64_t *out, const char *img)
{
	if (sec > (1ULL << 33) || nsec >= 1000000000) {
		pr_err("%s: timer value out of range", img);
		return -1;
	}
	*out = sec * 1000000000 + nsec;
	return 0;
}

static int fill_timers(struct core_out *o, const Est__TaskTimersEntry *t, const char *img)
{
	const Est__ItimerEntry *it[3] = { t->real, t->virt, t->prof };
	size_t i;

	for (i = 0; i < 3; i++) {
		itimer_entry__init(&o->it[i]);
		o->it[i].which = i;
		if (us(it[i]->isec, it[i]->iusec, &o->it[i].interval_us, img) ||
		    us(it[i]->vsec, it[i]->vusec, &o->it[i].value_us, img))
			return -1;
		o->itp[i] = &o->it[i];
	}
	o->tc.n_itimers = 3;
	o->tc.itimers = o->itp;
	if (!t->n_posix)
		return 0;
	if (t->n_posix > 4096) {
		pr_err("%s: %zu posix timers", img, t->n_posix);
		return -1;
	}
	o->pt = imp_zalloc(t->n_posix * sizeof(*o->pt));
	o->ptp = imp_zalloc(t->n_posix * sizeof(*o->ptp));
	if (!o->pt || !o->ptp)
		return -1;
	for (i = 0; i < t->n_posix; i++) {
		const Est__PosixTimerEntry *e = t->posix[i];
		PosixTimerEntry *p = &o->pt[i];

		posix_timer_entry__init(p);
		p->id = (int32_t)e->it_id;
		p->clock = e->clock_id;
		p->notify = e->it_sigev_notify;
		p->signo = e->si_signo;
		p->sival = e->sival_ptr;
		if (e->has_notify_thread_id) {
			p->has_notify_tid = true;
			p->notify_tid = (uint32_t)e->notify_thread_id;
		}
		p->has_overrun = true;
		p->overrun = e->overrun;
		if (ns(e->isec, e->insec, &p->interval_ns, img) ||
		    ns(e->vsec, e->vnsec, &p->value_ns, img))
			return -1;
		o->ptp[i] = p;
	}
	o->tc.n_posix_timers = t->n_posix;
	o->tc.posix_timers = o->ptp;
	return 0;
}


/*
 * The established tool stores atoi() of the hex text of /proc/PID/personality
 * (0x40000 becomes 40000, 0x9c40). Ours writes the true value, always a
 * personality: a value that is none but whose decimal digits read as hex are
 * one comes from that tool. A value below 10 reads the same either way.
 */
static int personality(uint32_t v, const char *img, uint32_t *out)
{
	uint32_t hex = 0, d = v, shift = 0;

	if (!(v & ~PERSONALITY_KNOWN)) {
		*out = v;
		return 0;
	}
	for (; d && shift < 32; d /= 10, shift += 4)
		hex |= (d % 10) << shift;
	if (d || (hex & ~PERSONALITY_KNOWN)) {
		pr_err("%s: personality %#x is none, nor the decimal digits of one", img, v);
		return -1;
	}
	pr_info("%s: personality %u stored as decimal digits: %#x", img, v, hex);
	*out = hex;
	return 0;
}

/* The signal actions: the format leaves SIGKILL and SIGSTOP out. */
static int fill_sigactions(struct core_out *o, const Est__TaskCoreEntry *c, const char *img)
{
	size_t i;
	int sig;

	if (c->n_sigactions && c->n_sigactions != NSIG_EST) {
		pr_err("%s: %zu signal actions (the format has %d)", img, c->n_sigactions, NSIG_EST);
		return -1;
	}
	for (i = 0, sig = 1; i < c->n_sigactions; i++, sig++) {
		const Est__SaEntry *s = c->sigactions[i];

		if (sig == SIGKILL || sig == SIGSTOP)
			sig++;
		if ((s->has_compat_sigaction && s->compat_sigaction) ||
		    (s->has_mask_extended && s->mask_extended)) {
			pr_err("not supported yet: %s: a 32-bit or extended signal action", img);
			return -1;
		}
		sigaction_entry__init(&o->sa[i]);
		o->sa[i].signo = sig;
		o->sa[i].handler = s->sigaction;
		o->sa[i].flags = s->flags;
		o->sa[i].restorer = s->restorer;
		o->sa[i].mask = s->mask;
		o->sap[i] = &o->sa[i];
	}
	o->tc.n_sigactions = c->n_sigactions;
	o->tc.sigactions = o->sap;
	return 0;
}

/* The resource limits, in the format's order (the index is the resource). */
static int fill_rlimits(struct core_out *o, const Est__TaskRlimitsEntry *r, const char *img)
{
	size_t i;

	if (r->n_rlimits > NR_RLIMITS) {
		pr_err("not supported yet: %s: %zu resource limits", img, r->n_rlimits);
		return -1;
	}
	for (i = 0; i < r->n_rlimits; i++) {
		rlimit_entry__init(&o->rl[i]);
		o->rl[i].resource = i;
		o->rl[i].cur = r->rlimits[i]->cur;
		o->rl[i].max = r->rlimits[i]->max;
		o->rlp[i] = &o->rl[i];
	}
	o->tc.n_rlimits = r->n_rlimits;
	o->tc.rlimits = o->rlp;
	return 0;
}

/*
 * What the format keeps per thread and ours per process, from the leader's
 * thread core once every thread agrees: creds, scheduling, pdeath signal.
 */
static int fill_from_leader(struct core_out *o, const char *img)
{
	const Est__ThreadCoreEntry *l = o->in[0]->thread_core;
	TaskCoreEntry *tc = &o->tc;

	if (same_per_thread(o, img))
		return -1;
	if (l->creds && fill_creds(o, l->creds, img))
		return -1;
	if (l->has_sched_policy) {
		tc->has_sched_policy = true;
		tc->sched_policy = l->sched_policy;
	}
	if (l->has_sched_nice) {
		tc->has_nice = true;
		tc->nice = l->sched_nice;
	}
	if (l->has_sched_prio) {
		tc->has_sched_prio = true;
		tc->sched_prio = l->sched_prio;
	}
	if (l->has_pdeath_sig) {
		tc->has_pdeath_sig = true;
		tc->pdeath_sig = l->pdeath_sig;
	}
	return 0;
}

/* Per-process values that are copied as they are (present or not). */
static void fill_plain(TaskCoreEntry *tc, const Est__TaskCoreEntry *c, const struct imp_proc *p)
{
	if (c->has_oom_score_adj) {
		tc->has_oom_score_adj = true;
		tc->oom_score_adj = c->oom_score_adj;
	}
	if (c->has_child_subreaper) {
		tc->has_child_subreaper = true;
		tc->child_subreaper = c->child_subreaper;
	}
	if (c->has_loginuid) {
		tc->has_loginuid = true;
		tc->loginuid = c->loginuid;
	}
	if (p->fs) {
		tc->umask = p->fs->has_umask ? p->fs->umask : 022;
		tc->has_cwd_id = tc->has_root_id = true;
		tc->cwd_id = p->fs->cwd_id;
		tc->root_id = p->fs->root_id;
	}
}

/* A stopped process: its stop signal, SIGSTOP when the image predates the field. */
static int import_stop_signo(const Est__TaskCoreEntry *c, TaskCoreEntry *tc, const char *img)
{
	uint32_t s = c->has_stop_signo ? c->stop_signo : SIGSTOP;

	if (s != SIGSTOP && s != SIGTSTP && s != SIGTTIN && s != SIGTTOU) {
		pr_err("%s: stop signal %u is not a job-control stop signal", img, s);
		return -1;
	}
	tc->has_stop_signo = true;
	tc->stop_signo = s;
	return 0;
}

static int fill_task(struct core_out *o, const struct imp_proc *p, const char *img)
{
	const Est__TaskCoreEntry *c = o->in[0]->tc;
	TaskCoreEntry *tc = &o->tc;
	size_t n;

	task_core_entry__init(tc);
	if ((c->has_old_seccomp_mode && c->old_seccomp_mode) || c->has_cg_set ||
	    (c->has_blk_sigset_extended && c->blk_sigset_extended) ||
	    (c->has_membarrier_registration_mask && c->membarrier_registration_mask)) {
		pr_err("not supported yet: %s: seccomp, a cgroup set, extended signal masks or membarrier registrations",
		       img);
		return -1;
	}
	tc->state = c->task_state;
	if (c->task_state == 3 && import_stop_signo(c, tc, img))
		return -1;
	if (c->task_state == 2) {
		tc->has_exit_code = true;
		tc->exit_code = (int32_t)c->exit_code;
	}
	tc->comm = c->comm;
	if (personality(c->personality, img, &tc->personality) || fill_sigactions(o, c, img) ||
	    (c->timers && fill_timers(o, c->timers, img)) ||
	    (c->rlimits && fill_rlimits(o, c->rlimits, img)))
		return -1;
	fill_plain(tc, c, p);
	if (queue(c->signals_s, &o->shared, &n, img))
		return -1;
	tc->n_shared_pending = n;
	tc->shared_pending = o->shared;
	if (!o->nr) {	/* a zombie: the ids it takes */
		const Est__ThreadCoreEntry *z = o->in[0]->thread_core;

		return !z || !z->creds ? 0 : check_thread_core(z, img) ? -1 : fill_creds(o, z->creds, img);
	}
	if (fill_from_leader(o, img))
		return -1;
	if (p->mm && p->mm->has_dumpable) {
		if (p->mm->dumpable < 0 || p->mm->dumpable > 2) {
			pr_err("mm-%u.img: dumpable %d", p->ps->pid, p->mm->dumpable);
			return -1;
		}
		tc->has_dumpable = true;
		tc->dumpable = p->mm->dumpable;
	}
	return 0;
}

/* A zombie's thread core: none, or one with the creds and nothing else. */
static bool zombie_thread_core(const Est__ThreadCoreEntry *t)
{
	return !t || (!t->futex_rla && !t->futex_rla_len && !t->has_sched_nice &&
		      !t->has_sched_policy && !t->has_sched_prio && !t->has_blk_sigset && !t->sas &&
		      !t->has_pdeath_sig && !t->signals_p && !t->has_seccomp_mode &&
		      !t->has_seccomp_filter && !t->comm && !t->has_blk_sigset_extended &&
		      !t->rseq_entry && !t->has_cg_set);
}

static int read_cores(struct core_out *o, struct imp *im, const struct imp_proc *p)
{
	size_t k;

	for (k = 0; k < o->nr; k++) {
		char img[64];
		const Est__CoreEntry *c;

		snprintf(img, sizeof(img), "core-%u.img", p->ps->threads[k]);
		o->in[k] = (Est__CoreEntry *)imp_read_one(im, img);
		if (!o->in[k])
			return -1;
		c = o->in[k];
		if (c->mtype != ARCH_EST_MARCH) {
			pr_err("not supported yet: %s: machine type %d", img, c->mtype);
			return -1;
		}
		if (!p->ids) {	/* a zombie: its task core (and its creds) only */
			if (!c->tc || c->thread_info || !zombie_thread_core(c->thread_core) ||
			    c->tc->task_state != 2) {
				pr_err("%s: a process without ids-%u.img must be a zombie", img,
				       p->ps->pid);
				return -1;
			}
			continue;
		}
		if (!c->thread_info || !c->thread_core || (k == 0) != !!c->tc) {
			pr_err("%s: thread state missing, or task state in a thread that does not lead",
			       img);
			return -1;
		}
		if (k == 0 && c->tc->task_state == 2) {
			pr_err("%s: a zombie with memory and files", img);
			return -1;
		}
	}
	return 0;
}

int imp_core(struct imp *im, struct imp_proc *p)
{
	struct core_out o;
	ProtobufCMessage **m = NULL;
	char img[64];
	size_t k, threads = p->ids ? p->ps->n_threads : 0;
	int ret = -1;

	memset(&o, 0, sizeof(o));
	o.nr = p->ps->n_threads;
	snprintf(img, sizeof(img), "core-%u.img", p->ps->pid);
	if (!p->ids && o.nr != 1) {
		pr_err("pstree.img: zombie %u lists %zu threads", p->ps->pid, o.nr);
		return -1;
	}
	if (threads && arch_est_import_host())
		return -1;
	o.th = imp_zalloc(o.nr * sizeof(*o.th));
	o.sas = imp_zalloc(o.nr * sizeof(*o.sas));
	o.rseq = imp_zalloc(o.nr * sizeof(*o.rseq));
	o.pending = imp_zalloc(o.nr * sizeof(*o.pending));
	o.in = imp_zalloc(o.nr * sizeof(*o.in));
	m = imp_zalloc((o.nr + 1) * sizeof(*m));
	if (!o.th || !o.sas || !o.rseq || !o.pending || !o.in || !m)
		goto out;
	if (read_cores(&o, im, p))
		goto out;
	if (threads && o.in[0]->thread_core && o.in[0]->thread_core->creds) {
		p->uid = o.in[0]->thread_core->creds->uid;	/* for the signal owners */
		p->euid = o.in[0]->thread_core->creds->euid;
	}
	if (p->ids && imp_mm_read(im, p))
		goto out;
	o.nr = threads;
	if (fill_task(&o, p, img) ||
	    (threads && imp_seccomp_task(im, o.in, threads, &o.sc, &o.tc, img)))
		goto out;
	m[0] = &o.tc.base;
	for (k = 0; k < threads; k++) {
		char t[64];

		snprintf(t, sizeof(t), "core-%u.img", p->ps->threads[k]);
		if (fill_thread(&o, k, p->ps->threads[k], t))
			goto out;
		m[k + 1] = &o.th[k].base;
	}
	ret = imp_write(im, IMG_CORE, p->ps->pid, m, threads + 1);
out:
	o.nr = p->ps->n_threads;
	core_out_free(&o);
	free(m);
	return ret;
}
