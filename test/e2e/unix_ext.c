/*
 * A unix stream socket whose peer is held by a process outside the dumped
 * one (a grandchild, reparented away). Without --ext-unix-sk the dump must
 * fail and leave the process and its connection as they were; with it
 * ("unix_ext --ext RESULT"), the socket comes back as one whose peer has
 * closed: the queued bytes, then EOF.
 */
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "e2e.h"

static void outside(int fd)
{
	char buf[8];

	/*
	 * The grandchild: out of the session, whose id is the dumped pid
	 * (a restore needs that pid free); say something, then wait for
	 * "bye" or EOF.
	 */
	if (setsid() < 0 || write(fd, "from outside", 12) != 12)
		_exit(1);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	bool ext = argc > 2 && !strcmp(argv[1], "--ext");
	char *args[] = { argv[0], argv[argc - 1], NULL };
	struct pollfd pfd;
	char buf[16];
	int sv[2];
	pid_t kid;

	e2e_init(2, args);
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		e2e_fail("socketpair: %s", strerror(errno));
	kid = fork();
	if (kid == 0) {
		close(sv[0]);
		if (fork() == 0)
			outside(sv[1]);
		_exit(0);
	}
	if (kid < 0 || waitpid(kid, NULL, 0) != kid)
		e2e_fail("fork: %s", strerror(errno));
	close(sv[1]);
	pfd = (struct pollfd){ .fd = sv[0], .events = POLLIN };
	if (poll(&pfd, 1, 10000) != 1)
		e2e_fail("the outside process never wrote");

	e2e_ready();
	e2e_wait_stop();

	if (recv(sv[0], buf, 12, MSG_WAITALL) != 12 || memcmp(buf, "from outside", 12))
		e2e_fail("the queued bytes are lost");
	if (!ext) {
		/* never dumped: the connection is as it was */
		if (write(sv[0], "bye", 3) != 3)
			e2e_fail("the connection to the outside is broken: %s", strerror(errno));
		e2e_pass();
	}
	if (read(sv[0], buf, 1) != 0)
		e2e_fail("no EOF after the queued bytes");
	if (write(sv[0], "x", 1) != -1 || errno != EPIPE)
		e2e_fail("writing to the closed peer did not fail with EPIPE");
	e2e_pass();
}
