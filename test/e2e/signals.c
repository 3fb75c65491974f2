/*
 * Signal state: handlers with flags and masks, a blocked mask, and queued
 * real-time signals with values, delivered in order after restore.
 */
#include "e2e.h"

static volatile int got[8], order[8], nr_got;

static void rt_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (nr_got < 8) {
		got[nr_got] = si->si_value.sival_int;
		order[nr_got++] = sig;
	}
}

static void usr1(int sig) { (void)sig; }

int main(int argc, char **argv)
{
	struct sigaction sa, chk;
	sigset_t block, now;
	union sigval v;
	int i;

	e2e_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = rt_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sa.sa_handler = usr1;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGHUP, SIG_IGN);

	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN + 1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	for (i = 0; i < 3; i++) {
		v.sival_int = 100 + i;
		sigqueue(getpid(), SIGRTMIN + 1, v);
	}
	e2e_ready();
	e2e_wait_stop();

	sigprocmask(SIG_BLOCK, NULL, &now);
	if (!sigismember(&now, SIGUSR2) || !sigismember(&now, SIGRTMIN + 1) || sigismember(&now, SIGUSR1))
		e2e_fail("blocked mask changed");
	sigaction(SIGRTMIN + 1, NULL, &chk);
	if (chk.sa_sigaction != rt_handler || !(chk.sa_flags & SA_SIGINFO) ||
	    !(chk.sa_flags & SA_RESTART) || !sigismember(&chk.sa_mask, SIGUSR2))
		e2e_fail("SIGRTMIN+1 action changed");
	sigaction(SIGUSR1, NULL, &chk);
	if (chk.sa_handler != usr1 || !(chk.sa_flags & SA_NODEFER))
		e2e_fail("SIGUSR1 action changed");
	sigaction(SIGHUP, NULL, &chk);
	if (chk.sa_handler != SIG_IGN)
		e2e_fail("SIGHUP no longer ignored");
	if (nr_got)
		e2e_fail("a blocked signal was delivered");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	if (nr_got != 3)
		e2e_fail("%d of 3 queued signals delivered", nr_got);
	for (i = 0; i < 3; i++)
		if (got[i] != 100 + i || order[i] != SIGRTMIN + 1)
			e2e_fail("signal %d carried %d", i, got[i]);
	e2e_pass();
}
