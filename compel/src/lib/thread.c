/*
 * One command in the context of another thread of an infected task.
 * The thread gets its own rt_sigframe (built from its own saved state)
 * so that, should the caller die, it returns home by itself exactly
 * like the daemon does.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include "internal.h"

static int start_thread(struct compel_ctl *ctl, struct thread_state *ts,
			int *started)
{
	uint64_t block = ~0ULL;
	compel_regs_t r = ts->regs;

	arch_regs_call(&r, ctl->r.remote + ctl->r.blob_off + ctl->thread_entry,
		       ctl->r.remote + ctl->r.tstack_top, ctl->r.remote);
	if (arch_set_regs(ts->tid, &r))
		return -1;
	compel_step("thread regs set");
	if (ptrace(PTRACE_SETSIGMASK, ts->tid, (void *)sizeof(block), &block)) {
		pr_perror("PTRACE_SETSIGMASK %d", ts->tid);
		return -1;
	}
	compel_step("thread sigmask set");
	if (ptrace(PTRACE_CONT, ts->tid, NULL, NULL)) {
		pr_perror("PTRACE_CONT %d", ts->tid);
		return -1;
	}
	*started = 1;
	compel_step("thread started");
	return 0;
}

/* Bring the thread back to an interrupt stop and restore it. */
static int take_back(struct compel_ctl *ctl, struct thread_state *ts, int started)
{
	int sig = ctl->thread_stop_sig;

	if (started) {
		if (sig)
			sig = interrupt_prepare(ts->tid) ? -1 : sig;
		else
			sig = interrupt_and_wait(ts->tid);
		if (sig < 0)
			return -1;
		if (sig > 0 && (ptrace(PTRACE_CONT, ts->tid, NULL, NULL) ||
				interrupt_wait(ts->tid)))
			return -1;
		ctl->thread_stop_sig = 0;
		compel_step("thread stopped");
	}
	if (thread_state_restore(ts))
		return -1;
	compel_step("thread restored");
	return rseq_restore(ts);
}

int compel_run_in_thread(struct compel_ctl *ctl, pid_t tid, unsigned int cmd,
			 int *ret)
{
	struct compel_shared *h = ctl->hdr;
	struct thread_state ts;
	struct compel_msg m;
	unsigned long uc;
	int started = 0, err = -1;

	if (!ctl->running || tid == ctl->pid) {
		pr_err("run in thread %d: no daemon, or daemon's own thread", tid);
		errno = EINVAL;
		return -1;
	}
	if (thread_state_save(&ts, tid))
		return -1;
	if (rseq_clear(&ts))
		goto out;
	arch_build_frame(&ts, ctl->r.local + ctl->r.tframe_off,
			 ctl->r.remote + ctl->r.tframe_off, &uc);
	h->thread.frame_uc = uc;
	h->thread.rseq_cs_ptr = ts.rseq_cleared ? ts.rseq_cs_ptr : 0;
	h->thread.rseq_cs_val = ts.rseq_cs_val;
	h->thread_cmd = cmd;
	h->thread_tid = tid;
	compel_step("thread frame built");
	if (start_thread(ctl, &ts, &started))
		goto out;
	if (rpc_recv(ctl, &m, NULL, 0, tid))
		goto out;
	if (m.cmd != COMPEL_MSG_REPLY || m.tid != tid) {
		pr_err("thread %d: unexpected message %#x from %d", tid, m.cmd, m.tid);
		goto out;
	}
	compel_step("thread replied");
	*ret = m.ret;
	err = 0;
out:
	drain_log(ctl);
	if (take_back(ctl, &ts, started))
		err = -1;
	thread_state_free(&ts);
	return err;
}
