/*
 * A TCP connection across the tree boundary: the process connects to a
 * peer the harness runs outside the tree (test/e2e/run.py, tcp_peer()) and
 * echoes every line. The peer sends numbered lines "N\n"; the process
 * checks that they come in order, without a gap or a repeat, whatever
 * happens to it (a dump with --leave-running, a dump and a restore), and
 * passes when the peer sends "end". The peer checks the echoes the same way
 * and that it never saw a reset.
 *
 * The socket has SO_REUSEADDR on (as sshd's accepted connections have it:
 * a listener re-bound while they live needs it): it must still be on at
 * the end (repair mode clears it on the way out).
 *
 * "prompt": TCP_NODELAY on, and every echo must leave the send queue within
 * 50 ms of its write. A process let run while its connection is still
 * locked fails this: its segment is dropped and waits for the probe timer
 * (1 s on a restored socket) or the peer's backed-off retransmission.
 *
 * Usage: tcp_peer [prompt] PORT RESULT-FILE
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#include "e2e.h"

#define PROMPT_NS	50000000LL	/* an echo's bound in the send queue */

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Waits for the send queue to hold no byte never sent; fails after PROMPT_NS. */
static void check_prompt(int fd, long line)
{
	long long end = now_ns() + PROMPT_NS;
	int unsent = 0;

	for (;;) {
		if (ioctl(fd, SIOCOUTQNSD, &unsent))
			e2e_fail("SIOCOUTQNSD: %s", strerror(errno));
		if (!unsent)
			return;
		if (now_ns() > end)
			e2e_fail("echo of line %ld: %d bytes still unsent after 50 ms", line, unsent);
		sched_yield();
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char line[32];
	long want = 0, got;
	size_t n = 0;
	int fd, one = 1, reuse = 0;
	socklen_t len = sizeof(reuse);
	bool prompt = argc == 4 && !strcmp(argv[1], "prompt");

	if (prompt)
		argc--, argv++;
	if (argc != 3) {
		fprintf(stderr, "usage: tcp_peer [prompt] PORT RESULT-FILE\n");
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	e2e_init(argc - 1, argv + 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		e2e_fail("connect: %s", strerror(errno));
	if (prompt && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		e2e_fail("TCP_NODELAY: %s", strerror(errno));
	e2e_note_pid();
	e2e_ready();
	for (;;) {
		ssize_t r = read(fd, line + n, 1);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			e2e_fail("read after line %ld: %zd (%s)", want - 1, r, strerror(errno));
		}
		if (line[n] != '\n' && ++n < sizeof(line))
			continue;
		if (n == sizeof(line))
			e2e_fail("a line longer than %zu bytes after line %ld", n, want - 1);
		line[n] = 0;
		if (!strcmp(line, "end")) {
			if (getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, &len) || reuse != 1)
				e2e_fail("SO_REUSEADDR is %d at the end, not 1", reuse);
			e2e_pass();
		}
		got = strtol(line, NULL, 10);
		if (got != want)
			e2e_fail("line %ld came where %ld belongs", got, want);
		line[n++] = '\n';
		if (write(fd, line, n) != (ssize_t)n)
			e2e_fail("echo of line %ld: %s", got, strerror(errno));
		if (prompt)
			check_prompt(fd, got);
		want++;
		n = 0;
	}
}
