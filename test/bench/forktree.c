/*
 * forktree: the process-tree benchmark's victim and baseline (scripts/bench.sh).
 *
 *   forktree base N          print the best (of 5 batches) microseconds of one
 *                            fork + _exit + waitpid, averaged over N
 *   forktree tree N 3 RESULT_FILE
 *                            a subreaper holder starts a tree of N processes:
 *                            a root (session leader) with children of ten
 *                            children each, down to N in all; every process
 *                            waits in pause(). The root writes "ready PID\n"
 *                            to READY_FD, closes it and every process has
 *                            closed its pipes. The holder reaps whatever the
 *                            dump's kill orphans, and exits when it has no
 *                            child left.
 * After a restore, SIGTERM to the root stops the tree top down: every
 * process SIGTERMs its children, reaps them, and exits 0 if they all exited
 * 0 and its pid and parent are still the ones it had; the root writes
 * "PASS" or "FAIL" to RESULT_FILE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define FANOUT	10
#define MAX_N	4096

static volatile sig_atomic_t got_term;
static pid_t kids[FANOUT];
static int nr_kids, ready_w = -1;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int base(int n)
{
	long long best = -1;
	int b, i;

	for (b = 0; b < 5; b++) {
		long long t0 = now_us(), t;

		for (i = 0; i < n; i++) {
			pid_t p = fork();

			if (p < 0)
				return 1;
			if (p == 0)
				_exit(0);
			waitpid(p, NULL, 0);
		}
		t = now_us() - t0;
		if (best < 0 || t < best)
			best = t;
	}
	printf("%.2f\n", (double)best / n);
	return 0;
}

/*
 * Wait for SIGTERM, then stop the children; the exit code says whether all
 * went well. @ppid 0: the parent is not checked (the restored root's is
 * whoever adopted it).
 */
static int live(pid_t pid, pid_t ppid)
{
	int i, st, bad = 0;

	close(ready_w);
	while (!got_term)
		pause();
	for (i = 0; i < nr_kids; i++)
		kill(kids[i], SIGTERM);
	for (i = 0; i < nr_kids; i++)
		if (waitpid(kids[i], &st, 0) != kids[i] || st != 0)
			bad = 1;
	return bad || getpid() != pid || (ppid && getppid() != ppid);
}

/* Process number @idx of the tree (0 = root): its children are idx*FANOUT+1.. */
static int node(int idx, int n)
{
	pid_t me = getpid(), parent = getppid();
	int c;

	nr_kids = 0;
	for (c = idx * FANOUT + 1; c <= idx * FANOUT + FANOUT && c < n; c++) {
		pid_t p = fork();

		if (p < 0)
			return 2;
		if (p == 0)
			_exit(node(c, n));
		kids[nr_kids++] = p;
	}
	return live(me, parent);
}

static int root(int n, int ready_fd, const char *result)
{
	int p[2], r, fd;
	char c, buf[32];
	pid_t me = getpid();

	setsid();
	if (pipe(p))
		return 2;
	ready_w = p[1];
	nr_kids = 0;
	for (r = 1; r <= FANOUT && r < n; r++) {
		pid_t k = fork();

		if (k < 0)
			return 2;
		if (k == 0) {
			close(p[0]);
			close(ready_fd);
			_exit(node(r, n));
		}
		kids[nr_kids++] = k;
	}
	close(p[1]);
	while ((r = (int)read(p[0], &c, 1)) > 0 || (r < 0 && errno == EINTR))
		;
	close(p[0]);
	r = snprintf(buf, sizeof(buf), "ready %d\n", me);
	if (write(ready_fd, buf, (size_t)r) != r)
		return 2;
	close(ready_fd);
	ready_w = -1;
	r = live(me, 0);
	fd = open(result, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		if (write(fd, r ? "FAIL\n" : "PASS\n", 5) != 5)
			r = 1;
		close(fd);
	}
	return r;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int n;

	if (argc == 3 && !strcmp(argv[1], "base"))
		return base(atoi(argv[2]));
	if (argc != 5 || strcmp(argv[1], "tree")) {
		fprintf(stderr, "usage: forktree base N | forktree tree N READY_FD RESULT\n");
		return 2;
	}
	n = atoi(argv[2]);
	if (n < 1 || n > MAX_N || atoi(argv[3]) != 3)
		return 2;
	close_range(4, ~0U, 0);	/* whatever the caller leaked: the dump takes no pipes */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (fork() == 0)
		_exit(root(n, atoi(argv[3]), argv[4]));
	close(atoi(argv[3]));
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return 0;
}
