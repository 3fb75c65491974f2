/*
 * Commands in the context of other threads of an infected task, up to
 * COMPEL_THREAD_SLOTS at once.  Each thread gets its own rt_sigframe
 * (built from its own saved state, below its own stack) and a slot in
 * the region (stack and argument area), so that, should the caller die,
 * it returns home by itself exactly like the daemon does.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include "internal.h"

struct tjob {
	struct thread_state ts;
	int		slot;
	int		started;	/* PTRACE_CONT done */
	int		replied;
	int		ret;
	int		stop_sig;	/* faulted in parasite code */
	int		fd_user;	/* counted in hdr->fd_users */
};

/*
 * A thread that may run parasite code counts as a user of the daemon's
 * fds (see fd_users in protocol.h): from just before its registers
 * point into the blob until just after its own are back.  A caller
 * killed exactly between those and the count leaves the fds open.
 */
static void fd_user(struct compel_ctl *ctl, struct tjob *j, int on)
{
	if (j->fd_user == on)
		return;
	j->fd_user = on;
	if (on) {
		__atomic_add_fetch(&ctl->hdr->fd_users, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&ctl->hdr->users, 1, __ATOMIC_SEQ_CST);
	} else {
		__atomic_sub_fetch(&ctl->hdr->users, 1, __ATOMIC_SEQ_CST);
		__atomic_sub_fetch(&ctl->hdr->fd_users, 1, __ATOMIC_SEQ_CST);
	}
}

static size_t slot_base(struct compel_ctl *ctl, int i)
{
	return ctl->r.slot_off + i * ctl->r.slot_size;
}

static void fill_slot(struct compel_ctl *ctl, struct tjob *j, unsigned int cmd,
		      int main_args)
{
	struct compel_thread_slot *sl = &ctl->hdr->slot[j->slot];
	size_t base = slot_base(ctl, j->slot);
	size_t args = base + ctl->r.frame_size + SLOT_STACK;

	/* Its home frame below its own stack, as the daemon's (infect.c);
	 * if there is no room, nobody unmaps the region going home. */
	if (!ctl->hdr->tramp_home || !cpl_stack_frame(ctl, &j->ts, &sl->ci)) {
		ctl->hdr->tramp_home = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		cpl_arch_build_frame(&j->ts, ctl->r.local + base, ctl->r.remote + base,
				     &sl->ci);
	}
	sl->ci.rseq_cs_ptr = j->ts.rseq_cleared ? j->ts.rseq_cs_ptr : 0;
	sl->ci.rseq_cs_val = j->ts.rseq_cs_val;
	sl->cmd = cmd;
	sl->tid = j->ts.tid;
	if (main_args) {
		sl->args = ctl->r.remote + ctl->r.args_off;
		sl->args_size = ctl->r.args_size;
	} else {
		sl->args = ctl->r.remote + args;
		sl->args_size = SLOT_ARGS;
		memcpy(ctl->r.local + args, ctl->r.local + ctl->r.args_off,
		       min((size_t)SLOT_ARGS, ctl->r.args_size));
	}
}

static int start_thread(struct compel_ctl *ctl, struct tjob *j)
{
	size_t stack_top = slot_base(ctl, j->slot) + ctl->r.frame_size + SLOT_STACK;
	uint64_t block = ~0ULL;
	compel_regs_t r = j->ts.regs;
	pid_t tid = j->ts.tid;

	cpl_arch_regs_call(&r, ctl->r.remote + ctl->r.blob_off + ctl->thread_entry,
		       ctl->r.remote + stack_top, ctl->r.remote +
		       offsetof(struct compel_shared, slot[j->slot]));
	fd_user(ctl, j, 1);
	if (cpl_arch_set_regs(tid, &r)) {
		fd_user(ctl, j, 0);
		return -1;
	}
	compel_step("thread regs set");
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(block), &block)) {
		pr_perror("PTRACE_SETSIGMASK %d", tid);
		return -1;
	}
	compel_step("thread sigmask set");
	if (ptrace(PTRACE_CONT, tid, NULL, NULL)) {
		pr_perror("PTRACE_CONT %d", tid);
		return -1;
	}
	j->started = 1;
	compel_step("thread started");
	return 0;
}

static int prepare_job(struct compel_ctl *ctl, struct tjob *j, pid_t tid,
		       unsigned int cmd, int main_args)
{
	if (tid == ctl->pid) {
		pr_err("thread %d runs the daemon", tid);
		errno = EINVAL;
		return -1;
	}
	if (cpl_seccomp_check_thread(tid) || cpl_thread_state_save(&j->ts, tid))
		return -1;
	if (cpl_rseq_clear(&j->ts))
		return -1;
	fill_slot(ctl, j, cmd, main_args);
	compel_step("thread frame built");
	return start_thread(ctl, j);
}

/* Wait for the replies of every started thread. */
static int collect(struct compel_ctl *ctl, struct tjob *jobs, int n,
		   compel_thread_done_fn done, void *priv)
{
	size_t base;
	struct compel_msg m;
	int i, left = 0, err = 0;

	for (i = 0; i < n; i++)
		left += jobs[i].started;
	while (left > 0) {
		if (cpl_rpc_recv(ctl, &m, NULL, 0, 0))
			return -1;
		/* Slots, not tids: the victim may see other pids (pid ns). */
		i = m.slot;
		if (m.cmd != COMPEL_MSG_REPLY || i < 0 || i >= n || !jobs[i].started ||
		    jobs[i].replied) {
			pr_err("unexpected message %#x from slot %d", m.cmd, m.slot);
			return -1;
		}
		jobs[i].replied = 1;
		jobs[i].ret = m.ret;
		left--;
		base = slot_base(ctl, jobs[i].slot) + ctl->r.frame_size + SLOT_STACK;
		if (done && !err && done(priv, jobs[i].ts.tid, m.ret, ctl->r.local + base))
			err = -1;
	}
	compel_step("threads replied");
	return err;
}

/* Bring every started thread back to an interrupt stop; restore all. */
static int take_back(struct compel_ctl *ctl, struct tjob *jobs, int n)
{
	int i, sig, err = 0;

	for (i = 0; i < n; i++) {
		if (ctl->thread_stop_sig && ctl->crashed_tid == jobs[i].ts.tid) {
			jobs[i].stop_sig = ctl->thread_stop_sig;
			ctl->thread_stop_sig = 0;
		}
		if (jobs[i].started && cpl_interrupt_prepare(jobs[i].ts.tid))
			return -1;
	}
	for (i = 0; i < n; i++) {
		struct tjob *j = &jobs[i];

		if (j->started) {
			sig = j->stop_sig ? j->stop_sig : cpl_interrupt_collect(j->ts.tid);
			if (sig < 0)
				return -1;
			/* A fault: drop the signal, reach the pending trap. */
			if (sig > 0 && (ptrace(PTRACE_CONT, j->ts.tid, NULL, NULL) ||
					cpl_interrupt_wait(j->ts.tid)))
				return -1;
			j->started = 0;
			compel_step("thread stopped");
		}
		if (j->ts.tid && cpl_thread_state_restore(&j->ts)) {
			err = -1;
			continue;
		}
		fd_user(ctl, j, 0);
		if (j->ts.tid && cpl_rseq_restore(&j->ts))
			err = -1;
		else if (j->ts.tid)
			compel_step("thread restored");
	}
	return err;
}

static int run_batch(struct compel_ctl *ctl, const pid_t *tids, int n,
		     unsigned int cmd, int main_args, compel_thread_done_fn done,
		     void *priv)
{
	struct tjob jobs[COMPEL_THREAD_SLOTS];
	int i, k, err = 0;

	if (!ctl->running) {
		pr_err("no daemon running in %d", ctl->pid);
		errno = EINVAL;
		return -1;
	}
	for (k = 0; k < n && !err; k += COMPEL_THREAD_SLOTS) {
		int nr = min(n - k, COMPEL_THREAD_SLOTS);

		memset(jobs, 0, sizeof(jobs));
		for (i = 0; i < nr && !err; i++) {
			jobs[i].slot = i;
			err = prepare_job(ctl, &jobs[i], tids[k + i], cmd, main_args);
		}
		ctl->watch = tids + k;
		ctl->nr_watch = nr;
		if (!err)
			err = collect(ctl, jobs, nr, done, priv);
		cpl_drain_log(ctl);
		if (take_back(ctl, jobs, nr))
			err = -1;
		ctl->nr_watch = 0;
		for (i = 0; i < nr; i++)
			cpl_thread_state_free(&jobs[i].ts);
	}
	return err ? -1 : 0;
}

static int store_ret(void *priv, pid_t tid, int ret, void *args)
{
	(void)tid;
	(void)args;
	*(int *)priv = ret;
	return 0;
}

int compel_run_in_thread(struct compel_ctl *ctl, pid_t tid, unsigned int cmd,
			 int *ret)
{
	return run_batch(ctl, &tid, 1, cmd, 1, store_ret, ret);
}

int compel_run_in_threads(struct compel_ctl *ctl, const pid_t *tids, int n,
			  unsigned int cmd, compel_thread_done_fn done, void *priv)
{
	return run_batch(ctl, tids, n, cmd, 0, done, priv);
}
