/*
 * A tree that is a pid namespace of its own (the "pidns" flow of run.py):
 *
 *   launcher (outside: not dumped; writes the host pid of I to "pids")
 *   `- I  pid 1 of a new pid namespace, session and group leader
 *      +- A   pid a
 *      |  `- A1  pid a1 (A tells I its pid through a pipe)
 *      `- B   pid b
 *
 * After the restore (SIGTERM to I from outside) I checks that it is pid 1
 * (getpid, and the last NSpid of /proc/self/status), then by inner pids:
 * B checks its pid and parent and sends SIGKILL to I, which an init ignores
 * from inside; A checks the same and exits without waiting for A1, which
 * the kernel gives to I; I then stops A1 by its inner pid and reaps it:
 * orphans go to the restored init. No /proc of the namespace is needed
 * (that is the mount namespace's part).
 *
 * "nested": I also has C, which unshared CLONE_NEWPID and forked C1, pid 1
 * of a namespace below I's: the dump must refuse it and leave all running.
 * "mntns": I is in a mount namespace of its own (unshare(CLONE_NEWNS), no
 * mount changed): refused too. The launcher passes SIGTERM on to I.
 */
#include "e2e-ns.h"
#include <sched.h>
#include <sys/syscall.h>

static pid_t me;	/* getpid() before the dump */

/* A child: drop the readiness descriptor, which only I reports on. */
static void child_start(void)
{
	const char *s = getenv("E2E_READY_FD");

	if (s)
		close(atoi(s));
	me = getpid();
}

/* A child's check after the restore: its own pid, its parent. */
static int child_check(pid_t parent)
{
	e2e_wait_stop();
	if (getpid() != me)
		return 10;
	if (getppid() != parent)
		return 11;
	return 0;
}

static int stop_and_reap(pid_t pid, const char *who)
{
	int st;

	if (kill(pid, SIGTERM)) {
		fprintf(stderr, "kill %s (%d): %m\n", who, pid);
		return -1;
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s (%d) ended with %#x\n", who, pid, st);
		return -1;
	}
	return 0;
}

static pid_t fork_a(int w)
{
	pid_t a = fork(), a1;

	if (a)
		return a;
	child_start();
	a1 = fork();
	if (a1 == 0) {
		child_start();
		close(w);
		_exit(child_check(1));	/* by then A has exited: I is its parent */
	}
	if (write(w, &a1, sizeof(a1)) != sizeof(a1))
		_exit(2);
	close(w);
	_exit(child_check(1));
}

static pid_t fork_b(void)
{
	pid_t b = fork();
	int r;

	if (b)
		return b;
	child_start();
	r = child_check(1);
	if (!r && kill(1, SIGKILL))	/* an init ignores it from inside */
		r = 12;
	_exit(r);
}

/* C: a pid namespace below I's, with its init C1. */
static pid_t fork_c(void)
{
	pid_t c = fork(), c1;

	if (c)
		return c;
	child_start();
	if (unshare(CLONE_NEWPID))
		_exit(20);
	c1 = fork();
	if (c1 == 0) {
		child_start();
		_exit(getpid() == 1 ? child_check(0) : 21);
	}
	if (c1 < 0 || child_check(1))
		_exit(22);
	_exit(stop_and_reap(c1, "C1") ? 23 : 0);
}

static int nsinit(const char *mode)
{
	bool nested = !strcmp(mode, "nested");
	pid_t c = 0;
	pid_t a, b, a1 = 0;
	char line[256];
	int p[2], last = 0;
	FILE *f;

	if (setsid() < 0 || pipe(p))
		e2e_fail("setsid or pipe: %m");
	if (!strcmp(mode, "mntns") && unshare(CLONE_NEWNS))
		e2e_fail("unshare(CLONE_NEWNS): %m");
	me = getpid();
	a = fork_a(p[1]);
	b = fork_b();
	if (nested)
		c = fork_c();
	close(p[1]);
	if (a < 0 || b < 0 || c < 0 || read(p[0], &a1, sizeof(a1)) != sizeof(a1))
		e2e_fail("fork or reading A1's pid: %m");
	close(p[0]);
	e2e_ready();
	e2e_wait_stop();
	if (getpid() != 1 || me != 1)
		e2e_fail("init is pid %d (was %d)", getpid(), me);
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6)) {
			char *s = strrchr(line, '\t');

			last = s ? atoi(s + 1) : 0;
		}
	if (f)
		fclose(f);
	if (last != 1)
		e2e_fail("NSpid of init ends with %d, not 1", last);
	if (c && stop_and_reap(c, "C"))
		e2e_fail("C (nested pid namespace) failed");
	if (stop_and_reap(b, "B"))
		e2e_fail("B failed");
	if (stop_and_reap(a, "A"))
		e2e_fail("A failed");
	if (stop_and_reap(a1, "A1 (orphan)"))
		e2e_fail("A1, the orphan adopted by init, failed");
	e2e_pass();
}

static int launch_init(void *mode)
{
	return nsinit(mode);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";

	e2e_init(argc - (argc > 2), argv + (argc > 2));
	return e2e_ns_launch(CLONE_NEWPID, launch_init, (void *)mode);
}
