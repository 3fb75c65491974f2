/*
 * pidfds (pidfd_open of a child, of itself, of a child that has exited and
 * been reaped): not carried yet, the dump refuses them and leaves the tree
 * running. After the refusal the pidfds still work: the live child's takes
 * a signal, the dead one's says ESRCH and polls readable.
 */
#include <poll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include "e2e.h"

static int open_pidfd(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int send_sig(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static pid_t spawn(int code)
{
	pid_t p = fork();

	if (p < 0)
		e2e_fail("fork: %s", strerror(errno));
	if (p == 0) {
		e2e_child();
		if (code >= 0)
			_exit(code);
		e2e_note_pid();
		for (;;)
			pause();
	}
	return p;
}

int main(int argc, char **argv)
{
	struct pollfd pfd;
	pid_t live, dead;
	int self, child, gone, st;

	e2e_init(argc, argv);
	e2e_note_pid();
	live = spawn(-1);
	dead = spawn(0);
	self = open_pidfd(getpid(), 0);
	child = open_pidfd(live, PIDFD_NONBLOCK);
	gone = open_pidfd(dead, 0);
	if (self < 0 || child < 0 || gone < 0)
		e2e_fail("pidfd_open: %s", strerror(errno));
	if (waitpid(dead, &st, 0) != dead)
		e2e_fail("waitpid: %s", strerror(errno));
	e2e_ready();
	e2e_wait_stop();
	if (send_sig(gone, 0) == 0 || errno != ESRCH)
		e2e_fail("the dead pidfd: signal 0 gives %s", strerror(errno));
	pfd = (struct pollfd){ .fd = gone, .events = POLLIN };
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
		e2e_fail("the dead pidfd does not poll readable");
	if (send_sig(self, 0))
		e2e_fail("its own pidfd: %s", strerror(errno));
	if (send_sig(child, SIGKILL) || waitpid(live, &st, 0) != live ||
	    !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		e2e_fail("the child's pidfd: %s, status %#x", strerror(errno), st);
	e2e_pass();
}
