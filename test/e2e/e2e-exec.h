/*
 * fexecve() of a descriptor in a child, for the memfd e2e cases; a copy of
 * the program's own ELF file.
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

/* Copy /proc/self/exe to @to (new, mode @mode). */
static inline void e2e_copy_self(const char *to, mode_t mode)
{
	static char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
	ssize_t n;

	if (in < 0 || out < 0)
		e2e_fail("copy: %s", strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			e2e_fail("copy: %s", strerror(errno));
	if (n < 0 || close(out))
		e2e_fail("copy: %s", strerror(errno));
	close(in);
}

#endif /* E2E_EXEC_H */
