/*
 * compel benchmark (not a test): time to seize, infect, run one command,
 * cure and detach a single-thread victim and a 100-thread victim (one
 * command per thread), as a ratio to fork+exit+wait measured in the
 * same run.  Best of ROUNDS rounds of ITERS iterations each.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <compel/compel.h>
#include "test-proto.h"
#include "parasite-blob.h"

#define ROUNDS	7

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* A victim with n threads, all asleep; returns its pid once all exist. */
static pid_t spawn_victim(int n)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		exit(1);
	pid = fork();
	if (pid == 0) {
		pthread_t t;
		int i;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 1; i < n; i++)
			if (pthread_create(&t, NULL, idle_thread, NULL))
				_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		idle_thread(NULL);
	}
	if (read(p[0], &c, 1) != 1)
		exit(1);
	close(p[0]);
	close(p[1]);
	return pid;
}

/* Seize and detach only: the part of a cycle that is pure ptrace. */
static int seize_cycle(pid_t pid)
{
	pid_t *tids;
	int n, ret;

	if (compel_seize_task(pid, 0, &tids, &n))
		return -1;
	ret = compel_detach_task(tids, n);
	free(tids);
	return ret;
}

static int one_cycle(pid_t pid, int per_thread)
{
	struct compel_ctl *ctl;
	pid_t *tids;
	int n, i, ret = -1, r;

	if (compel_seize_task(pid, 0, &tids, &n))
		return -1;
	ctl = compel_prepare(pid);
	if (!ctl)
		goto out;
	if (compel_infect(ctl, &parasite_blob, 4096) ||
	    compel_rpc_call_sync(ctl, TCMD_NOP, &r))
		goto cure;
	if (per_thread == 1 && compel_run_in_threads(ctl, tids + 1, n - 1, TCMD_NOP,
						     NULL, NULL))
		goto cure;
	for (i = 1; per_thread == 2 && i < n; i++)
		if (compel_run_in_thread(ctl, tids[i], TCMD_NOP, &r))
			goto cure;
	ret = 0;
cure:
	if (compel_cure(ctl))
		ret = -1;
	compel_release(ctl);
out:
	compel_detach_task(tids, n);
	free(tids);
	return ret;
}

/* Average time of one call of fn(arg) over iters calls. */
static double timed(int (*fn)(pid_t, int), pid_t pid, int arg, int iters)
{
	double t = now_us();
	int i;

	for (i = 0; i < iters; i++)
		if (fn(pid, arg)) {
			fprintf(stderr, "bench: cycle failed\n");
			exit(1);
		}
	return (now_us() - t) / iters;
}

static int fork_once(pid_t unused, int unused2)
{
	pid_t p = fork();

	(void)unused;
	(void)unused2;
	if (p == 0)
		_exit(0);
	return waitpid(p, NULL, 0) == p ? 0 : -1;
}

static int seize_once(pid_t pid, int unused)
{
	(void)unused;
	return seize_cycle(pid);
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))

int main(void)
{
	double base, one, many, s1, s100, serial;
	int r;
	pid_t v1, v100;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	v1 = spawn_victim(1);
	v100 = spawn_victim(100);
	base = one = many = s1 = s100 = serial = 1e30;
	/* Interleave the measurements so that drift hits them all alike. */
	for (r = 0; r < ROUNDS; r++) {
		base = MIN(base, timed(fork_once, 0, 0, 200));
		one = MIN(one, timed(one_cycle, v1, 0, 50));
		s1 = MIN(s1, timed(seize_once, v1, 0, 50));
		many = MIN(many, timed(one_cycle, v100, 1, 3));
		serial = MIN(serial, timed(one_cycle, v100, 2, 3));
		s100 = MIN(s100, timed(seize_once, v100, 0, 3));
	}
	kill(v1, SIGKILL);
	kill(v100, SIGKILL);
	while (wait(NULL) > 0)
		;
	printf("compel bench (best of %d rounds)\n", ROUNDS);
	printf("  baseline fork+exit+wait:                      %9.1f us\n", base);
	printf("  1 thread: seize+infect+1 cmd+cure+detach:     %9.1f us  (%.1fx baseline)\n",
	       one, one / base);
	printf("  100 threads, 16 in parallel: ...+100 cmds...:   %7.1f us  (%.1fx baseline, "
	       "%.1f us/thread)\n", many, many / base, many / 100);
	printf("  100 threads, one thread at a time:              %7.1f us  (%.1fx baseline)\n",
	       serial, serial / base);
	printf("  of which seize+detach only: 1 thread %.1f us (%.1fx), 100 threads "
	       "%.1f us (%.1fx)\n", s1, s1 / base, s100, s100 / base);
	return 0;
}
