/*
 * A tree that keeps forking, in a cgroup of its own: usage: freeze GROUP
 * RESULT (flow "freeze" of run.py, which dumps it with --freeze-cgroup
 * GROUP). The root and two workers fork and reap short-lived children all
 * the time; after the restore each worker must still be forking, and each
 * reports how its children ended.
 */
#include <sys/wait.h>

#include "e2e.h"

/* Fork, let the child exit with @code, reap it: -1 when anything differs. */
static int one_fork(int code)
{
	int status;
	pid_t c = fork();

	if (c == 0)
		_exit(code);
	if (c < 0)
		return -1;
	while (waitpid(c, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == code ? 0 : -1;
}

static int worker(void)
{
	unsigned long n = 0;

	e2e_note_pid();
	while (!e2e_stopped())
		if (one_fork(n++ % 200))
			return 1;
	return n > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	char path[512];
	pid_t w[2];
	unsigned long n = 0;
	int fd, i, status;

	if (argc != 3)
		return 2;
	e2e_init(argc - 1, argv + 1);
	e2e_note_pid();
	snprintf(path, sizeof(path), "%s/cgroup.procs", argv[1]);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		e2e_fail("cannot join %s: %s", path, strerror(errno));
	close(fd);
	for (i = 0; i < 2; i++) {
		w[i] = fork();
		if (w[i] == 0)
			_exit(worker());
		if (w[i] < 0)
			e2e_fail("fork: %s", strerror(errno));
	}
	e2e_ready();
	while (!e2e_stopped())
		if (one_fork(n++ % 100))
			e2e_fail("a child of the root ended otherwise than it exited");
	for (i = 0; i < 2; i++) {
		kill(w[i], SIGTERM);
		if (waitpid(w[i], &status, 0) != w[i] || !WIFEXITED(status) || WEXITSTATUS(status))
			e2e_fail("worker %d ended with %#x", w[i], status);
	}
	e2e_pass();
}
