/*
 * A POSIX timer that signals one thread (SIGEV_THREAD_ID to a worker, not
 * the leader) keeps doing so after the restore: the worker waits for the
 * timer's signal with sigwaitinfo() and counts ticks that carry the timer's
 * value; after the restore it must see new ticks, all of them its own.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

#include "e2e.h"

#define TICK_SIG	(SIGRTMIN + 3)
#define TIMER_VALUE	4242

static pid_t worker_tid;
static int ticks, bad;

static void *worker(void *arg)
{
	sigset_t s;
	siginfo_t si;

	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, TICK_SIG);
	__atomic_store_n(&worker_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	for (;;) {
		if (sigwaitinfo(&s, &si) != TICK_SIG)
			continue;
		if (si.si_code != SI_TIMER || si.si_value.sival_int != TIMER_VALUE)
			__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&ticks, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct itimerspec its = { { 0, 20 * 1000000 }, { 0, 20 * 1000000 } };
	struct sigevent sev;
	pthread_t th;
	timer_t timer;
	sigset_t s;
	int before;

	e2e_init(argc, argv);
	sigemptyset(&s);
	sigaddset(&s, TICK_SIG);
	pthread_sigmask(SIG_BLOCK, &s, NULL);	/* every thread: only sigwaitinfo takes it */
	/* SIGTERM must reach the main thread, the one waiting for it */
	e2e_term_mask(SIG_BLOCK);
	if (pthread_create(&th, NULL, worker, NULL))
		e2e_fail("pthread_create failed");
	e2e_term_mask(SIG_UNBLOCK);
	while (!__atomic_load_n(&worker_tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev._sigev_un._tid = worker_tid;
	sev.sigev_signo = TICK_SIG;
	sev.sigev_value.sival_int = TIMER_VALUE;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) || timer_settime(timer, 0, &its, NULL))
		e2e_fail("timer: %s", strerror(errno));
	while (__atomic_load_n(&ticks, __ATOMIC_SEQ_CST) < 3)
		usleep(1000);
	e2e_ready();
	e2e_wait_stop();
	before = __atomic_load_n(&ticks, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&ticks, __ATOMIC_SEQ_CST) < before + 3)
		usleep(1000);
	if (__atomic_load_n(&bad, __ATOMIC_SEQ_CST))
		e2e_fail("%d ticks were not the timer's", bad);
	sigpending(&s);
	if (sigismember(&s, TICK_SIG))
		e2e_fail("the tick is pending for the main thread or the process");
	e2e_pass();
}
