/*
 * The launcher of a tree that is pid 1 of namespaces of its own (pidns.c,
 * netns.c): after e2e_init(), e2e_ns_launch() clones the child with
 * @flags (CLONE_NEWPID and others), which runs @init(@arg) and reports
 * readiness itself; the launcher writes the child's pid to "pids" (the
 * harness dumps it), drops its copy of the readiness descriptor and waits
 * for the child, passing a SIGTERM on (a refused dump leaves it running).
 */
#ifndef E2E_NS_H
#define E2E_NS_H

#include "e2e.h"
#include <sys/wait.h>

static inline int e2e_ns_launch(unsigned long flags, int (*init)(void *), void *arg)
{
	pid_t child;
	char buf[32];
	int fd, n, st;

	child = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (child < 0) {
		perror("clone");
		return 2;
	}
	if (child == 0)
		return init(arg);
	/* before readiness ends (EOF on the fd) */
	fd = open("pids", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	n = snprintf(buf, sizeof(buf), "%d\n", child);
	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		return 2;
	close(fd);
	close(atoi(getenv("E2E_READY_FD")));
	/* the child ends with the dump (SIGKILL); the restored one is not this child */
	while (waitpid(child, &st, 0) != child)
		if (errno != EINTR || kill(child, SIGTERM))
			return 2;
	return 0;
}

#endif /* E2E_NS_H */
