/*
 * Established TCP connections with both ends in the process (it connects
 * to its own listener), dumped with --tcp-established and restored. Before
 * the dump, bytes are left in flight both ways: a short message unread in
 * each receive queue, and on one side a block larger than the peer's
 * receive window, so that the sender keeps bytes unacknowledged and bytes
 * never sent. After the restore the process reads every byte back in
 * order, and the connection carries new data both ways.
 *
 * Modes (argv[1] before the result file):
 *   (none)   IPv4; also the case run without --tcp-established, which must
 *            be refused and leave the connection unharmed
 *   v6       IPv6 on ::1
 *   mapped   an IPv6 listener reached through ::ffff:127.0.0.1
 *   rdshut   one end shut down for reading (SHUT_RD): it reads what was
 *            queued, then end of file; the big block goes the other way
 *   close    restored with --tcp-close: both ends are sockets never
 *            connected, shut down both ways (read: end of file; write:
 *            EPIPE)
 *   refused  nothing is restored: the dump must be refused
 *   finwait  the connecting end shut down for writing (FIN_WAIT1 or 2, the
 *            other CLOSE_WAIT): refused by state name, both ends unharmed
 *   closefin the same half-closed connection with --tcp-close: restored
 *            closed, as in "close"
 *   oob      urgent data not read yet: refused after the connecting end
 *            was put in repair mode, which the refusal must undo
 *   inflight a second listener with a connection not accepted yet, dumped
 *            with --skip-in-flight: the listener comes back with nothing
 *            to accept, and the connecting end of the dropped connection
 *            is reset
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "e2e.h"

#define BIG	(8u << 20)	/* more than a window and a send buffer hold */
#define RCVBUF	65536		/* fixed: the window cannot grow to take BIG */

static const char *mode = "";

static socklen_t listen_addr(struct sockaddr_storage *ss, int *family)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!strcmp(mode, "v6") || !strcmp(mode, "mapped")) {
		*family = AF_INET6;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		if (!strcmp(mode, "mapped"))
			in6->sin6_addr = in6addr_any;
		return sizeof(*in6);
	}
	*family = AF_INET;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*in);
}

static void connect_pair(int *l, int *c, int *s)
{
	struct sockaddr_storage ss;
	int family, off = 0, rcv = RCVBUF;
	socklen_t len = listen_addr(&ss, &family);

	*l = socket(family, SOCK_STREAM, 0);
	*c = socket(family, SOCK_STREAM, 0);
	if (*l < 0 || *c < 0 ||
	    setsockopt(*l, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) ||
	    setsockopt(*c, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) ||
	    (family == AF_INET6 && setsockopt(*l, SOL_IPV6, IPV6_V6ONLY, &off, sizeof(off))) ||
	    bind(*l, (struct sockaddr *)&ss, len) || listen(*l, 4) ||
	    getsockname(*l, (struct sockaddr *)&ss, &len))
		e2e_fail("listener: %s", strerror(errno));
	if (!strcmp(mode, "mapped"))
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &((struct sockaddr_in6 *)&ss)->sin6_addr);
	if (connect(*c, (struct sockaddr *)&ss, len))
		e2e_fail("connect: %s", strerror(errno));
	*s = accept(*l, NULL, NULL);
	if (*s < 0)
		e2e_fail("accept: %s", strerror(errno));
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* Write the big block until the peer's window and our buffer are full. */
static size_t fill(int fd)
{
	static unsigned char buf[BIG];
	size_t i, done = 0;
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	for (i = 0; i < BIG; i++)
		buf[i] = pattern(i);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (done < BIG && (n = write(fd, buf + done, BIG - done)) > 0)
		done += (size_t)n;
	fcntl(fd, F_SETFL, fl);
	if (!done || done == BIG)
		e2e_fail("could not fill the window (%zu bytes written)", done);
	return done;
}

static void check_big(int fd, size_t len)
{
	static unsigned char buf[BIG];
	size_t i;

	e2e_read_all(fd, buf, len, "the big block");
	for (i = 0; i < len; i++)
		if (buf[i] != pattern(i))
			e2e_fail("the big block differs at byte %zu of %zu", i, len);
}

static void expect(int fd, const char *msg, const char *what)
{
	char buf[32] = "";

	e2e_read_all(fd, buf, strlen(msg), what);
	if (memcmp(buf, msg, strlen(msg)))
		e2e_fail("%s: read \"%.*s\", not \"%s\"", what, (int)strlen(msg), buf, msg);
}

static int outq(int fd)
{
	int n = -1;

	ioctl(fd, TIOCOUTQ, &n);
	return n;
}

static void check_closed(int c, int s)
{
	char b;

	if (read(c, &b, 1) != 0 || read(s, &b, 1) != 0)
		e2e_fail("--tcp-close: a connection end still reads (%s)", strerror(errno));
	if (send(c, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		e2e_fail("--tcp-close: a connection end still writes (%s)", strerror(errno));
	e2e_pass();
}

/* --skip-in-flight: the connection waiting in @l2 was dropped, @c2 is reset. */
static void check_inflight(int l2, int c2)
{
	struct pollfd pf = { .fd = c2, .events = POLLIN };
	char b;

	if (fcntl(l2, F_SETFL, O_NONBLOCK) || accept(l2, NULL, NULL) >= 0 || errno != EAGAIN)
		e2e_fail("the listener still has a connection to accept (%s)", strerror(errno));
	if (poll(&pf, 1, 10000) != 1 || read(c2, &b, 1) >= 0 || errno != ECONNRESET)
		e2e_fail("the dropped connection was not reset (%s)", strerror(errno));
}

/* The dump was refused: both ends work as before. */
static void check_refused(int c, int s)
{
	char b;

	expect(s, "before", "the refused dump's connection");
	if (!strcmp(mode, "oob")) {
		if (recv(s, &b, 1, MSG_OOB) != 1 || b != '!')
			e2e_fail("the urgent byte is lost");
		if (write(c, "more", 4) != 4)
			e2e_fail("the connecting end cannot write: %s", strerror(errno));
		expect(s, "more", "new bytes after the refused dump");
	}
	if (!strcmp(mode, "finwait") && read(s, &b, 1) != 0)
		e2e_fail("the end of the stream is lost");
	expect(c, "reply", "the other way");
	e2e_pass();
}

int main(int argc, char **argv)
{
	int l, c, s, one = 1, idle = 77;
	int l2 = -1, c2 = -1;
	struct sockaddr_storage ss;
	socklen_t len2 = sizeof(ss);
	size_t big;
	bool rd;
	socklen_t len = sizeof(one);
	char b;

	if (argc > 2) {
		mode = argv[1];
		argc--, argv++;
	}
	e2e_init(argc, argv);
	connect_pair(&l, &c, &s);
	if (setsockopt(c, SOL_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(s, SOL_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)))
		e2e_fail("options: %s", strerror(errno));
	if (write(c, "before", 6) != 6 || write(s, "reply", 5) != 5)
		e2e_fail("write: %s", strerror(errno));
	rd = !strcmp(mode, "rdshut");
	big = fill(rd ? c : s);
	if (rd && shutdown(c, SHUT_RD))
		e2e_fail("shutdown: %s", strerror(errno));
	if ((!strcmp(mode, "finwait") || !strcmp(mode, "closefin")) && shutdown(c, SHUT_WR))
		e2e_fail("shutdown: %s", strerror(errno));
	if (!strcmp(mode, "oob") && send(c, "!", 1, MSG_OOB) != 1)
		e2e_fail("send MSG_OOB: %s", strerror(errno));

	if (!strcmp(mode, "inflight")) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		l2 = socket(AF_INET, SOCK_STREAM, 0);
		c2 = socket(AF_INET, SOCK_STREAM, 0);
		if (l2 < 0 || c2 < 0 || bind(l2, (struct sockaddr *)&ss, sizeof(*in)) ||
		    listen(l2, 1) || getsockname(l2, (struct sockaddr *)&ss, &len2) ||
		    connect(c2, (struct sockaddr *)&ss, len2))
			e2e_fail("in-flight connection: %s", strerror(errno));
	}
	e2e_note_pid();
	e2e_ready();
	e2e_wait_stop();

	if (!strcmp(mode, "close") || !strcmp(mode, "closefin"))
		check_closed(c, s);
	if (!strcmp(mode, "inflight"))
		check_inflight(l2, c2);
	if (!strcmp(mode, "refused") || !strcmp(mode, "finwait") || !strcmp(mode, "oob"))
		check_refused(c, s);
	if (outq(rd ? c : s) <= 0)
		e2e_fail("the send queue is empty after the restore");
	expect(s, "before", "unread bytes of the accepted end");
	expect(c, "reply", "unread bytes of the connecting end");
	check_big(rd ? s : c, big);
	if (write(c, "after", 5) != 5)
		e2e_fail("write after the restore: %s", strerror(errno));
	expect(s, "after", "new bytes to the accepted end");
	if (rd) {
		if (read(c, &b, 1) != 0)
			e2e_fail("the end shut down for reading reads again");
	} else {
		if (write(s, "back", 4) != 4)
			e2e_fail("write after the restore: %s", strerror(errno));
		expect(c, "back", "new bytes to the connecting end");
	}
	if (getsockopt(c, SOL_TCP, TCP_NODELAY, &one, &len) || !one ||
	    getsockopt(s, SOL_TCP, TCP_KEEPIDLE, &idle, &len) || idle != 77)
		e2e_fail("TCP_NODELAY or TCP_KEEPIDLE lost");
	e2e_pass();
}
