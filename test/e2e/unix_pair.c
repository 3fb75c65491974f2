/*
 * Unix socketpairs keep their queues, boundaries, shutdown and flags:
 * a stream pair with 150,000 bytes queued one way and a line the other,
 * a datagram pair with five messages of different sizes each way, a
 * seqpacket pair with three messages, a stream pair shut down for writing
 * on one side (data, then EOF), and a dup'ed end that still shares its
 * socket.
 */
#include <poll.h>
#include <sys/socket.h>

#include <sys/un.h>

#include "e2e.h"

#define BIG	150000

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 13 + i / 509);
}

static void send_msgs(int fd, const char *tag, int n)
{
	char buf[256];
	int i;

	for (i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof(buf), "%s message %d %.*s", tag, i, i * 30,
				   "..............................................................."
				   "...............................................................");

		if (send(fd, buf, (size_t)len, 0) != len)
			e2e_fail("send %s %d: %s", tag, i, strerror(errno));
	}
}

static void check_msgs(int fd, const char *tag, int n)
{
	char want[256], got[512];
	int i;

	for (i = 0; i < n; i++) {
		int len = snprintf(want, sizeof(want), "%s message %d %.*s", tag, i, i * 30,
				   "..............................................................."
				   "...............................................................");
		ssize_t r = recv(fd, got, sizeof(got), MSG_DONTWAIT);

		if (r != len || memcmp(got, want, (size_t)len))
			e2e_fail("%s message %d: got %zd bytes '%.*s', want %d", tag, i, r,
				 r > 0 ? (int)r : 0, got, len);
	}
	if (recv(fd, got, sizeof(got), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		e2e_fail("%s: more than %d messages queued", tag, n);
}

int main(int argc, char **argv)
{
	static unsigned char buf[BIG];
	int st[2], dg[2], sp[2], half[2], dup_fd, sndbuf = 1 << 20, one = 1, peek = 0, v, want;
	socklen_t len = sizeof(v), name_len, len2;
	struct sockaddr_un name, now;
	char line[64];
	size_t i;

	e2e_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) || socketpair(AF_UNIX, SOCK_STREAM, 0, half))
		e2e_fail("socketpair: %s", strerror(errno));
	if (setsockopt(st[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(sp[0], SOL_SOCKET, SO_PEEK_OFF, &peek, sizeof(peek)))
		e2e_fail("setsockopt: %s", strerror(errno));
	if (getsockopt(st[0], SOL_SOCKET, SO_SNDBUF, &want, &len))
		e2e_fail("SO_SNDBUF: %s", strerror(errno));
	for (i = 0; i < BIG; i++)
		buf[i] = pattern(i);
	if (write(st[0], buf, BIG) != BIG || write(st[1], "back the other way\n", 19) != 19)
		e2e_fail("stream write: %s", strerror(errno));
	fcntl(st[1], F_SETFL, O_NONBLOCK);
	send_msgs(dg[0], "dgram a->b", 5);
	send_msgs(dg[1], "dgram b->a", 5);
	send_msgs(sp[0], "seqpacket", 3);
	if (write(half[0], "last words", 10) != 10 || shutdown(half[0], SHUT_WR))
		e2e_fail("half: %s", strerror(errno));
	dup_fd = dup(st[1]);
	/* the send with SO_PASSCRED autobound sp[0]: an abstract name of its own */
	name_len = sizeof(name);
	if (getsockname(sp[0], (struct sockaddr *)&name, &name_len) || name_len <= sizeof(sa_family_t))
		e2e_fail("sp[0] is not autobound: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	len2 = sizeof(now);
	if (getsockname(sp[0], (struct sockaddr *)&now, &len2) || len2 != name_len ||
	    memcmp(&now, &name, name_len))
		e2e_fail("the autobound name of sp[0] is lost (%u bytes now, %u before)", len2,
			 name_len);

	if (!(fcntl(st[1], F_GETFL) & O_NONBLOCK) || (fcntl(st[0], F_GETFL) & O_NONBLOCK))
		e2e_fail("O_NONBLOCK not kept on the right end");
	memset(buf, 0, sizeof(buf));
	e2e_read_all(st[1], buf, BIG, "stream");
	for (i = 0; i < BIG; i++)
		if (buf[i] != pattern(i))
			e2e_fail("stream: byte %zu is %u, not %u", i, buf[i], pattern(i));
	if (read(st[1], buf, 1) != -1 || errno != EAGAIN)
		e2e_fail("stream: more than %d bytes queued, or it blocks", BIG);
	e2e_read_all(st[0], line, 19, "stream back");
	if (memcmp(line, "back the other way\n", 19))
		e2e_fail("stream back: got '%.19s'", line);
	if (write(dup_fd, "x", 1) != 1 || read(st[0], line, 1) != 1 || line[0] != 'x')
		e2e_fail("the dup'ed end does not reach the peer");
	check_msgs(dg[1], "dgram a->b", 5);
	check_msgs(dg[0], "dgram b->a", 5);
	check_msgs(sp[1], "seqpacket", 3);
	if (getsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &v, &len) || v != 1 ||
	    getsockopt(sp[0], SOL_SOCKET, SO_PEEK_OFF, &v, &len) || v != 0)
		e2e_fail("SO_PASSCRED or SO_PEEK_OFF lost");
	len = sizeof(v);
	if (getsockopt(st[0], SOL_SOCKET, SO_SNDBUF, &v, &len) || v != want)
		e2e_fail("SO_SNDBUF is %d, not %d", v, want);
	send_msgs(sp[1], "seqpacket new", 2);
	check_msgs(sp[0], "seqpacket new", 2);
	e2e_read_all(half[1], line, 10, "half");
	if (memcmp(line, "last words", 10) || read(half[1], line, 1) != 0)
		e2e_fail("half: data lost or no EOF");
	if (write(half[1], "reply", 5) != 5 || read(half[0], line, 5) != 5)
		e2e_fail("half: the other direction no longer works");
	e2e_pass();
}
