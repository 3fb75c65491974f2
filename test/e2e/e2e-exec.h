/*
 * fexecve() of a descriptor in a child, for the memfd e2e cases.
 */
#ifndef E2E_EXEC_H
#define E2E_EXEC_H

#include <sys/wait.h>

#include "e2e.h"

/*
 * Run @fd's program ("true") in a child: 0 when it ran and exited 0, else
 * the errno of execveat() or 1000 + the wait status.
 */
static inline int e2e_fexec(int fd)
{
	char *const args[] = { "true", NULL }, *const env[] = { NULL };
	int st, p[2], err = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return errno;
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		e2e_child();
		syscall(SYS_execveat, fd, "", args, env, AT_EMPTY_PATH);
		err = errno;
		if (write(p[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], &err, sizeof(err)) != sizeof(err))
		err = 0;
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		return errno;
	if (err)
		return err;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1000 + st;
}

#endif /* E2E_EXEC_H */
