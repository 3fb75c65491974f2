/*
 * Stopped processes (job control):
 *
 *   R (the harness's child)
 *   +- A  own group, stopped by SIGTSTP, SIGUSR1 sent to it while stopped
 *   `- B  two threads, stopped by SIGSTOP
 *
 * R waits for both stops with WNOWAIT, so their reports are still to be
 * collected. After the restore R collects them (each with its signal), sees
 * every thread of B stopped, continues both and collects the continue
 * reports; A reports through the pipe that its pending SIGUSR1 came after
 * SIGCONT, B that its second thread runs again.
 *
 * "collected" (argv[1]): R collects A's stop before the dump: refused.
 * "root": R stops itself (SIGSTOP) once ready; the harness continues it
 * after the restore and R checks that it was continued.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/wait.h>
#include "e2e.h"

static volatile sig_atomic_t got_usr1, got_cont;
static int report_w = -1;
static int go;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void on_cont(int sig)
{
	(void)sig;
	got_cont = 1;
}

static int proc_a(void)
{
	char c;

	signal(SIGUSR1, on_usr1);
	setpgid(0, 0);	/* R's group is orphaned: SIGTSTP would not stop A there */
	e2e_note_pid();
	raise(SIGTSTP);
	c = got_usr1 ? 'A' : 'a';
	if (write(report_w, &c, 1) != 1)
		return 3;
	e2e_wait_stop();
	return 0;
}

static void *b_thread(void *arg)
{
	const struct timespec ts = { 0, 1000 * 1000 };
	char c = 't';

	(void)arg;
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		nanosleep(&ts, NULL);
	if (write(report_w, &c, 1) != 1)
		_exit(4);
	return NULL;
}

static int proc_b(void)
{
	pthread_t th;
	char c = 'B';

	e2e_note_pid();
	if (pthread_create(&th, NULL, b_thread, NULL))
		return 3;
	raise(SIGSTOP);
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	if (write(report_w, &c, 1) != 1 || pthread_join(th, NULL))
		return 4;
	e2e_wait_stop();
	return 0;
}

static pid_t spawn(int (*fn)(void))
{
	pid_t p = fork();

	if (p < 0)
		e2e_fail("fork: %s", strerror(errno));
	if (p == 0) {
		e2e_child();
		_exit(fn());
	}
	return p;
}

static void wait_stop_report(pid_t pid, int keep)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pid, &si, WSTOPPED | (keep ? WNOWAIT : 0)) || si.si_code != CLD_STOPPED)
		e2e_fail("waitid for the stop of %d: %s, code %d", pid, strerror(errno), si.si_code);
}

/* Every thread stopped, the stop to be collected (unless @collected) with @sig. */
static void check_stopped(pid_t pid, int sig, int nr_threads, int collected)
{
	char path[64], buf[512], *p;
	struct dirent *de;
	int st = 0, n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		e2e_fail("opendir %s: %s", path, strerror(errno));
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(buf, sizeof(buf), "/proc/%d/task/%s/stat", pid, de->d_name);
		f = fopen(buf, "r");
		if (!f || !fgets(buf, sizeof(buf), f))
			e2e_fail("reading the stat of %d/%s", pid, de->d_name);
		fclose(f);
		p = strrchr(buf, ')');
		if (!p || p[2] != 'T')
			e2e_fail("thread %s of %d is in state %c, not T", de->d_name, pid,
				 p ? p[2] : '?');
		n++;
	}
	closedir(d);
	if (n != nr_threads)
		e2e_fail("%d has %d threads, not %d", pid, n, nr_threads);
	if (collected)
		return;
	if (waitpid(pid, &st, WUNTRACED | WNOHANG) != pid || !WIFSTOPPED(st) ||
	    WSTOPSIG(st) != sig)
		e2e_fail("%d: wait status %#x, want stopped by %d", pid, st, sig);
	if (waitpid(pid, &st, WUNTRACED | WNOHANG) != 0)
		e2e_fail("%d: a second stop report (%#x)", pid, st);
}

static void check_continued(pid_t pid)
{
	int st = 0;

	if (kill(pid, SIGCONT) || waitpid(pid, &st, WCONTINUED) != pid || !WIFCONTINUED(st))
		e2e_fail("%d: after SIGCONT wait status %#x", pid, st);
}

static void root_stops(void)
{
	signal(SIGCONT, on_cont);
	e2e_note_pid();
	e2e_ready();
	raise(SIGSTOP);
	e2e_wait_stop();
	if (!got_cont)
		e2e_fail("the root was not continued");
	e2e_pass();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";
	char got[4] = "", want[4] = "ABt";
	int p[2], i, j;
	pid_t a, b;

	e2e_init(argc > 2 ? argc - 1 : argc, argc > 2 ? argv + 1 : argv);
	if (!strcmp(mode, "root"))
		root_stops();
	e2e_note_pid();
	if (pipe(p))
		e2e_fail("pipe: %s", strerror(errno));
	report_w = p[1];
	a = spawn(proc_a);
	b = spawn(proc_b);
	close(p[1]);
	wait_stop_report(a, strcmp(mode, "collected"));
	wait_stop_report(b, 1);
	if (kill(a, SIGUSR1))
		e2e_fail("kill: %s", strerror(errno));
	e2e_ready();
	e2e_wait_stop();
	check_stopped(a, SIGTSTP, 1, !strcmp(mode, "collected"));
	check_stopped(b, SIGSTOP, 2, 0);
	check_continued(a);
	check_continued(b);
	e2e_read_all(p[0], got, 3, "the reports");
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3 && want[j] != got[i]; j++)
			;
		if (j == 3)
			e2e_fail("reports %.3s, want A, B and t in any order", got);
		want[j] = '-';
	}
	if (e2e_reap(a, 0, 0) || e2e_reap(b, 0, 0))
		e2e_fail("a child did not end well");
	e2e_pass();
}
