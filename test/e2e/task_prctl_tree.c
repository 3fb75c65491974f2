/*
 * Per-thread prctl values and real-time scheduling come back, in a tree:
 *   - the root's second thread has its own timer slack (222223 ns), TSC
 *     mode PR_TSC_SIGSEGV and machine-check policy "early" (all three are
 *     per thread in the kernel); the leader keeps what it inherited;
 *   - child F runs SCHED_FIFO priority 7 and has a parent death signal
 *     (SIGUSR2) for its parent, the root, which is in the tree: the value
 *     is kept and the signal must not fire;
 *   - child R runs SCHED_RR priority 3.
 * (The harness also compares /proc: policy, rt_priority, timerslack_ns.)
 */
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "e2e.h"

#define SLACK_THREAD	222223

static int ready_r = -1, ready_w = -1;
static int arrived, gate;
static volatile sig_atomic_t got_usr2;
static char thread_err[128];

static void on_usr2(int sig) { (void)sig; got_usr2 = 1; }

static int thread_check(long slack_want, int tsc_want, int mce_want, char *err, size_t len)
{
	long slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	int tsc = 0, mce = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);

	prctl(PR_GET_TSC, &tsc, 0, 0, 0);
	if (slack == slack_want && tsc == tsc_want && mce == mce_want)
		return 0;
	snprintf(err, len, "timer slack %ld (want %ld), tsc %d (want %d), mce %d (want %d)",
		 slack, slack_want, tsc, tsc_want, mce, mce_want);
	return -1;
}

static void *worker(void *arg)
{
	(void)arg;
	if (prctl(PR_SET_TIMERSLACK, SLACK_THREAD, 0, 0, 0) ||
	    prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) ||
	    prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0))
		snprintf(thread_err, sizeof(thread_err), "thread prctl: %s", strerror(errno));
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&gate, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &gate, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (!thread_err[0])
		thread_check(SLACK_THREAD, PR_TSC_SIGSEGV, PR_MCE_KILL_EARLY, thread_err,
			     sizeof(thread_err));
	return NULL;
}

static int rt_member(int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	int r;

	if (sched_setscheduler(0, policy, &sp))
		return 9;
	e2e_note_pid();
	close(ready_w);
	e2e_wait_stop();
	r = sched_getscheduler(0);
	if (r != policy || sched_getparam(0, &sp) || sp.sched_priority != prio)
		return 10;
	return 0;
}

static int child_fifo(void)
{
	int sig = 0, r;

	signal(SIGUSR2, on_usr2);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0))
		return 8;
	r = rt_member(SCHED_FIFO, 7);
	if (r)
		return r;
	prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
	if (sig != SIGUSR2)
		return 11;
	return got_usr2 ? 12 : 0;
}

static int child_rr(void)
{
	return rt_member(SCHED_RR, 3);
}

int main(int argc, char **argv)
{
	char err[128] = "";
	pthread_t th;
	pid_t f, r;
	long slack;
	int st;

	e2e_init(argc, argv);
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	e2e_note_pid();
	e2e_tree_pipe(&ready_r, &ready_w);
	f = e2e_spawn(child_fifo, &ready_r);
	r = e2e_spawn(child_rr, &ready_r);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_term_mask(SIG_BLOCK);
	if (pthread_create(&th, NULL, worker, NULL))
		e2e_fail("pthread_create");
	e2e_term_mask(SIG_UNBLOCK);
	e2e_wait_count(&arrived, 1);
	if (thread_err[0])
		e2e_fail("%s", thread_err);
	e2e_ready();
	e2e_wait_stop();
	e2e_open_gate(&gate);
	pthread_join(th, NULL);
	if (thread_err[0])
		e2e_fail("thread: %s", thread_err);
	if (thread_check(slack, PR_TSC_ENABLE, PR_MCE_KILL_DEFAULT, err, sizeof(err)))
		e2e_fail("leader: %s", err);
	st = e2e_reap(f, 0, 0);
	if (st)
		e2e_fail("SCHED_FIFO child with a parent death signal: check %d failed", st);
	st = e2e_reap(r, 0, 0);
	if (st)
		e2e_fail("SCHED_RR child: check %d failed", st);
	e2e_pass();
}
