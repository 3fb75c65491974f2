/*
 * 1000 threads, each waiting in a futex with a signal queued to it alone
 * (1000 pending signals in all, each thread's queue its own); after the
 * restore every one checks its tid (gettid()), its TLS value, its name and
 * its signal's value, and the main thread joins them all (each thread's
 * clear-child-tid word at work).
 */
#include <limits.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/futex.h>

#include "e2e.h"

#define NR_THREADS	1000

struct worker {
	pthread_t	th;
	int		idx;
	pid_t		tid;
	int		bad;
};

static struct worker w[NR_THREADS];
static int nr_waiting, go;
static __thread unsigned int tls_value;

static void *worker_main(void *arg)
{
	struct worker *me = arg;
	char name[16], got[16];
	struct timespec zero = { 0, 0 };
	sigset_t own;
	siginfo_t si;

	me->tid = (pid_t)syscall(SYS_gettid);
	tls_value = 0x5a000000u + (unsigned int)me->idx;
	snprintf(name, sizeof(name), "many-%d", me->idx);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	sigemptyset(&own);
	sigaddset(&own, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &own, NULL);
	pthread_sigqueue(pthread_self(), SIGRTMIN, (union sigval){ .sival_int = me->idx });
	__atomic_add_fetch(&nr_waiting, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (syscall(SYS_gettid) != me->tid)
		me->bad = 1;
	else if (tls_value != 0x5a000000u + (unsigned int)me->idx)
		me->bad = 2;
	else if (prctl(PR_GET_NAME, got, 0, 0, 0) || strcmp(got, name))
		me->bad = 3;
	else if (sigtimedwait(&own, &si, &zero) != SIGRTMIN || si.si_value.sival_int != me->idx)
		me->bad = 4;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	sigset_t term;
	int i;

	e2e_init(argc, argv);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);	/* SIGTERM is the main thread's */
	for (i = 0; i < NR_THREADS; i++) {
		w[i].idx = i;
		if (pthread_create(&w[i].th, &attr, worker_main, &w[i]))
			e2e_fail("pthread_create %d failed", i);
	}
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	while (__atomic_load_n(&nr_waiting, __ATOMIC_SEQ_CST) < NR_THREADS)
		usleep(1000);
	e2e_ready();
	e2e_wait_stop();
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(w[i].th, NULL);
	for (i = 0; i < NR_THREADS; i++)
		if (w[i].bad)
			e2e_fail("thread %d (tid %d): check %d failed", i, w[i].tid, w[i].bad);
	e2e_pass();
}
