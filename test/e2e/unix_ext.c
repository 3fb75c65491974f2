/*
 * A unix stream socket whose peer is held by a process outside the dumped
 * one (a grandchild, reparented away). Without --ext-unix-sk the dump must
 * fail and leave the process and its connection as they were; with it
 * ("unix_ext --ext RESULT"), the socket comes back as one whose peer has
 * closed: the queued bytes (300,000, more than a default send buffer
 * holds), then EOF.
 */
#include <poll.h>
#include <stdbool.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "e2e.h"

#define BIG	300000

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 31 + i / 1021);
}

static void outside(int fd)
{
	static unsigned char big[BIG];
	int sndbuf = 1 << 20;
	char buf[8];
	size_t i;

	/*
	 * The grandchild: out of the session, whose id is the dumped pid
	 * (a restore needs that pid free); say something, then wait for
	 * "bye" or EOF.
	 */
	for (i = 0; i < BIG; i++)
		big[i] = pattern(i);
	if (setsid() < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    write(fd, "from outside", 12) != 12 || write(fd, big, BIG) != BIG)
		_exit(1);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	bool ext = argc > 2 && !strcmp(argv[1], "--ext");
	char *args[] = { argv[0], argv[argc - 1], NULL };
	static unsigned char big[BIG];
	int sv[2], inq = 0, tries;
	char buf[16];
	pid_t kid;
	size_t i;

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
	for (tries = 0; tries < 10000 && inq < 12 + BIG; tries++) {
		struct timespec ms = { 0, 1000000 };

		if (ioctl(sv[0], FIONREAD, &inq))
			e2e_fail("FIONREAD: %s", strerror(errno));
		nanosleep(&ms, NULL);
	}
	if (inq != 12 + BIG)
		e2e_fail("the outside process wrote %d bytes, not %d", inq, 12 + BIG);

	e2e_ready();
	e2e_wait_stop();

	if (recv(sv[0], buf, 12, MSG_WAITALL) != 12 || memcmp(buf, "from outside", 12))
		e2e_fail("the queued bytes are lost");
	e2e_read_all(sv[0], big, BIG, "queued bytes");
	for (i = 0; i < BIG; i++)
		if (big[i] != pattern(i))
			e2e_fail("byte %zu is %u, not %u", i, big[i], pattern(i));
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
