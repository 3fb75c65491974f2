/*
 * A unix stream socket whose peer is held by a process outside the dumped
 * one (a grandchild, reparented away). Without --ext-unix-sk the dump must
 * fail and leave the process and its connection as they were; with it
 * ("unix_ext --ext RESULT"), the socket comes back as one whose peer has
 * closed: the queued bytes (300,000, more than a default send buffer
 * holds), then EOF. A datagram socket connected to the outside process's
 * socket file is connected to it again (both ways: it answers).
 */
#include <poll.h>
#include <stdbool.h>
#include <time.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "e2e.h"

#define BIG	300000

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 31 + i / 1021);
}

static socklen_t un_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s", path);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

/* The outside datagram socket: answer "again" with "ack", for up to 30 s. */
static void answer(int dg)
{
	struct sockaddr_un from;
	socklen_t len = sizeof(from);
	struct pollfd pfd = { .fd = dg, .events = POLLIN };
	char buf[8];

	if (poll(&pfd, 1, 30000) == 1 &&
	    recvfrom(dg, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) == 5 &&
	    !memcmp(buf, "again", 5))
		sendto(dg, "ack", 3, 0, (struct sockaddr *)&from, len);
}

static void outside(int fd, int dg)
{
	static unsigned char big[BIG];
	int sndbuf = 1 << 20;
	char buf[8];
	size_t i;

	/*
	 * The grandchild: out of the session, whose id is the dumped pid
	 * (a restore needs that pid free); say something, then wait for
	 * "bye" or EOF, then answer one datagram.
	 */
	for (i = 0; i < BIG; i++)
		big[i] = pattern(i);
	if (setsid() < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    write(fd, "from outside", 12) != 12 || write(fd, big, BIG) != BIG)
		_exit(1);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	answer(dg);
	_exit(0);
}

/* Talk to the outside datagram socket: "again", then "ack" within 10 s. */
static void dgram_talk(int dg)
{
	struct pollfd pfd = { .fd = dg, .events = POLLIN };
	char buf[8];

	if (send(dg, "again", 5, 0) != 5)
		e2e_fail("dgram send to the outside peer: %s", strerror(errno));
	if (poll(&pfd, 1, 10000) != 1 || recv(dg, buf, sizeof(buf), 0) != 3 || memcmp(buf, "ack", 3))
		e2e_fail("no answer from the outside peer's datagram socket");
}

int main(int argc, char **argv)
{
	bool ext = argc > 2 && !strcmp(argv[1], "--ext");
	char *args[] = { argv[0], argv[argc - 1], NULL };
	static unsigned char big[BIG];
	int sv[2], inq = 0, tries, odg, dg;
	struct sockaddr_un a;
	char path[512], mine[520];
	char buf[16];
	pid_t kid;
	size_t i;

	e2e_init(2, args);
	signal(SIGPIPE, SIG_IGN);
	e2e_path(path, sizeof(path), "outside.sock");
	odg = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || odg < 0 ||
	    bind(odg, (struct sockaddr *)&a, un_addr(&a, path)))
		e2e_fail("socketpair: %s", strerror(errno));
	kid = fork();
	if (kid == 0) {
		close(sv[0]);
		if (fork() == 0)
			outside(sv[1], odg);
		_exit(0);
	}
	if (kid < 0 || waitpid(kid, NULL, 0) != kid)
		e2e_fail("fork: %s", strerror(errno));
	close(sv[1]);
	close(odg);
	/* bound (the outside answers to its name) and connected to the outside socket */
	snprintf(mine, sizeof(mine), "%s.me", path);
	dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (dg < 0 || bind(dg, (struct sockaddr *)&a, un_addr(&a, mine)) ||
	    connect(dg, (struct sockaddr *)&a, un_addr(&a, path)))
		e2e_fail("dgram: %s", strerror(errno));
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
		close(sv[0]);
		dgram_talk(dg);
		e2e_pass();
	}
	if (read(sv[0], buf, 1) != 0)
		e2e_fail("no EOF after the queued bytes");
	if (write(sv[0], "x", 1) != -1 || errno != EPIPE)
		e2e_fail("writing to the closed peer did not fail with EPIPE");
	dgram_talk(dg);
	e2e_pass();
}
