/*
 * Threads stopped inside blocking syscalls go on correctly after restore:
 * one waits in a futex until woken (the kernel restarts the wait), one
 * sleeps 2 s in nanosleep (it resumes with the time it had left and must
 * not return early), one waits in clock_nanosleep with an absolute
 * deadline (restarted as is), one reads a pipe until the main thread
 * writes to it after the restore (the read is restarted and gets exactly
 * that). Readiness: /proc says each thread is inside its syscall.
 */
#include <limits.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>

#include "e2e.h"

#define SLEEP_NS	2000000000ll
#define NTH		4

static int word;
static pid_t tids[NTH];
static char err[NTH][160];
static int pfd[2];
static struct timespec start;

static int64_t since_start_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start.tv_sec) * 1000000000ll + (now.tv_nsec - start.tv_nsec);
}

static void *futex_waiter(void *arg)
{
	long r;

	(void)arg;
	tids[0] = (pid_t)syscall(SYS_gettid);
	do {
		r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	} while (!__atomic_load_n(&word, __ATOMIC_SEQ_CST) &&
		 (r == 0 || errno == EAGAIN || errno == EINTR));
	if (!__atomic_load_n(&word, __ATOMIC_SEQ_CST))
		snprintf(err[0], sizeof(err[0]), "futex wait failed: %s", strerror(errno));
	return NULL;
}

static void *sleeper(void *arg)
{
	struct timespec req = { SLEEP_NS / 1000000000ll, 0 }, rem;

	(void)arg;
	tids[1] = (pid_t)syscall(SYS_gettid);
	/* one raw nanosleep (glibc's uses clock_nanosleep): the restart with
	 * the time left must happen inside it */
	if (syscall(SYS_nanosleep, &req, &rem))
		snprintf(err[1], sizeof(err[1]), "nanosleep: %s", strerror(errno));
	else if (since_start_ns() < SLEEP_NS)
		snprintf(err[1], sizeof(err[1]), "nanosleep returned after %lld ns",
			 (long long)since_start_ns());
	return NULL;
}

static void *abs_sleeper(void *arg)
{
	struct timespec until = start;
	int r;

	(void)arg;
	tids[2] = (pid_t)syscall(SYS_gettid);
	until.tv_sec += SLEEP_NS / 1000000000ll;
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	if (r)
		snprintf(err[2], sizeof(err[2]), "clock_nanosleep: %s", strerror(r));
	else if (since_start_ns() < SLEEP_NS)
		snprintf(err[2], sizeof(err[2]), "clock_nanosleep returned after %lld ns",
			 (long long)since_start_ns());
	return NULL;
}

static void *reader(void *arg)
{
	char buf[16];
	ssize_t n;

	(void)arg;
	tids[3] = (pid_t)syscall(SYS_gettid);
	n = read(pfd[0], buf, sizeof(buf));
	if (n != 5 || memcmp(buf, "after", 5))
		snprintf(err[3], sizeof(err[3]), "read gave %zd (%s)", n,
			 n < 0 ? strerror(errno) : "not the bytes written after the restore");
	return NULL;
}

static long in_syscall(pid_t tid)
{
	char path[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
	}
	return nr;
}

int main(int argc, char **argv)
{
	static void *(*const fn[NTH])(void *) = { futex_waiter, sleeper, abs_sleeper, reader };
	static const long want[NTH] = { SYS_futex, SYS_nanosleep, SYS_clock_nanosleep, SYS_read };
	pthread_t th[NTH];
	sigset_t term;
	int i;

	e2e_init(argc, argv);
	if (pipe(pfd))
		e2e_fail("pipe: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &start);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);	/* SIGTERM is the main thread's */
	for (i = 0; i < NTH; i++)
		if (pthread_create(&th[i], NULL, fn[i], NULL))
			e2e_fail("pthread_create failed");
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	for (i = 0; i < NTH; i++)
		while (!__atomic_load_n(&tids[i], __ATOMIC_SEQ_CST) || in_syscall(tids[i]) != want[i])
			usleep(1000);
	e2e_ready();
	e2e_wait_stop();
	__atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	if (write(pfd[1], "after", 5) != 5)
		e2e_fail("write: %s", strerror(errno));
	for (i = 0; i < NTH; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NTH; i++)
		if (err[i][0])
			e2e_fail("thread %d: %s", i, err[i]);
	e2e_pass();
}
