/* A signalfd keeps its mask: a blocked, queued SIGUSR1 is read through it. */
#include <signal.h>
#include <sys/signalfd.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct signalfd_siginfo si;
	sigset_t set, got;
	int fd;

	e2e_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 3);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK);
	if (fd < 0)
		e2e_fail("signalfd: %s", strerror(errno));
	kill(getpid(), SIGUSR1);

	e2e_ready();
	e2e_wait_stop();

	if (read(fd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR1)
		e2e_fail("queued SIGUSR1 not read through the signalfd");
	if (read(fd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		e2e_fail("signalfd not O_NONBLOCK or not empty");
	kill(getpid(), SIGRTMIN + 3);
	if (read(fd, &si, sizeof(si)) != sizeof(si) || (int)si.ssi_signo != SIGRTMIN + 3)
		e2e_fail("SIGRTMIN+3 not in the signalfd's mask any more");
	sigemptyset(&got);
	(void)got;
	e2e_pass();
}
