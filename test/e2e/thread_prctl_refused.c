/*
 * "thread_prctl_refused MODE RESULT": a second thread sets, for itself
 * alone, what the image keeps once per process; the dump must refuse it
 * and leave the process running:
 *   securebits  PR_SET_SECUREBITS SECBIT_NOROOT (the leader has none)
 *   pdeathsig   PR_SET_PDEATHSIG SIGUSR2 (a thread other than the leader)
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <linux/securebits.h>

#include "e2e.h"

static const char *mode;
static int arrived, gate;
static long before, after;

static long get(void)
{
	int v = 0;

	if (!strcmp(mode, "securebits"))
		return prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0);
	return v;
}

static void *worker(void *arg)
{
	int r;

	(void)arg;
	if (!strcmp(mode, "securebits"))
		r = prctl(PR_SET_SECUREBITS, SECBIT_NOROOT, 0, 0, 0);
	else
		r = prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
	before = r ? -1 : get();
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&gate, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &gate, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	after = get();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	if (argc < 3) {
		fprintf(stderr, "usage: %s securebits|pdeathsig RESULT-FILE\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	e2e_init(argc - 1, argv + 1);
	signal(SIGUSR2, SIG_IGN);
	e2e_term_mask(SIG_BLOCK);
	if (pthread_create(&th, NULL, worker, NULL))
		e2e_fail("pthread_create");
	e2e_term_mask(SIG_UNBLOCK);
	e2e_wait_count(&arrived, 1);
	if (before <= 0 || get() != 0)
		e2e_fail("%s: thread %ld, leader %ld", mode, before, get());
	e2e_ready();
	e2e_wait_stop();
	e2e_open_gate(&gate);
	pthread_join(th, NULL);
	if (after != before)
		e2e_fail("%s of the thread: %ld before, %ld after", mode, before, after);
	e2e_pass();
}
