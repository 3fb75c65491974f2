/*
 * manythreads: the victim and the baseline of the threads benchmark
 * (scripts/bench.sh).
 *
 *   manythreads victim N READY_FD RESULT_FILE
 *	A process of N threads (the main one and N-1 started with 64 KiB
 *	stacks, each waiting in a futex). Writes "ready PID\n" to READY_FD
 *	once every thread waits, closes it and every other fd above 2, then
 *	waits. On SIGTERM (after a restore) it wakes the threads, which check
 *	their tid, and joins them; writes "PASS" or "FAIL ..." to RESULT_FILE.
 *	It leads its own session, as a dump without --shell-job wants.
 *   manythreads base N ROUNDS
 *	Prints the best, over ROUNDS, of the microseconds to create N-1 such
 *	threads (returning at once) and join them: the baseline.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_term;
static int go, nr_waiting;

struct worker {
	pthread_t	th;
	pid_t		tid;
	int		bad;
};

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void *wait_go(void *arg)
{
	struct worker *w = arg;

	w->tid = (pid_t)syscall(SYS_gettid);
	__atomic_add_fetch(&nr_waiting, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	w->bad = syscall(SYS_gettid) != w->tid;
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Create n threads running fn (64 KiB stacks); 0 on success. */
static int start_all(struct worker *w, int n, void *(*fn)(void *))
{
	pthread_attr_t attr;
	int i;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++)
		if (pthread_create(&w[i].th, &attr, fn, &w[i]))
			return -1;
	pthread_attr_destroy(&attr);
	return 0;
}

static int base(int n, int rounds)
{
	struct worker *w = calloc(n ? n : 1, sizeof(*w));
	uint64_t best = UINT64_MAX, t;
	int r, i;

	if (!w)
		return 1;
	for (r = 0; r < rounds; r++) {
		t = now_us();
		if (start_all(w, n, nothing))
			return 1;
		for (i = 0; i < n; i++)
			pthread_join(w[i].th, NULL);
		t = now_us() - t;
		if (t < best)
			best = t;
	}
	printf("%llu\n", (unsigned long long)best);
	return 0;
}

static int victim(int n, int ready_fd, const char *result)
{
	struct worker *w = calloc(n ? n : 1, sizeof(*w));
	struct sigaction sa;
	sigset_t term;
	FILE *f;
	int i, bad = 0;

	if (!w || setsid() < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);	/* SIGTERM is the main thread's */
	if (start_all(w, n, wait_go))
		return 1;
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	while (__atomic_load_n(&nr_waiting, __ATOMIC_SEQ_CST) < n)
		usleep(1000);
	if (dprintf(ready_fd, "ready %d\n", (int)getpid()) < 0)
		return 1;
	for (i = 3; i < 1024; i++)
		close(i);
	while (!got_term)
		pause();
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		bad += w[i].bad;
	}
	f = fopen(result, "w");
	if (!f)
		return 1;
	if (bad)
		fprintf(f, "FAIL %d threads lost their tid\n", bad);
	else
		fprintf(f, "PASS\n");
	return fclose(f) == 0 && !bad ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "base"))
		return base(atoi(argv[2]) - 1, atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "victim"))
		return victim(atoi(argv[2]) - 1, atoi(argv[3]), argv[4]);
	fprintf(stderr, "usage: %s victim N READY_FD RESULT | base N ROUNDS\n", argv[0]);
	return 2;
}
