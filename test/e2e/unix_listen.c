/*
 * Named unix sockets come back under their names: a stream listener bound
 * to a path (mode 0640) and a seqpacket listener with an abstract name
 * accept new connections after restore (the process connects to itself);
 * a datagram socket bound to a path receives from a new sender; a datagram
 * socket connected one way to it still sends there; an unconnected,
 * unnamed stream socket can still be connected; a connection accepted
 * before the dump keeps the bytes queued both ways; datagrams queued on
 * the bound socket by a sender without a name are still there.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "e2e.h"

static int bound(int type, const char *name, bool abstract)
{
	struct sockaddr_un a;
	socklen_t len = e2e_unix_addr(&a, name, abstract);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len))
		e2e_fail("bind %s: %s", name, strerror(errno));
	return fd;
}

/* Connect a new client to @name, accept it on @lfd, exchange a word each way. */
static void talk(int lfd, int type, const char *name, bool abstract)
{
	struct sockaddr_un a, got;
	socklen_t len = e2e_unix_addr(&a, name, abstract), glen = sizeof(got);
	int c = socket(AF_UNIX, type, 0), s;
	char buf[8];

	if (c < 0 || connect(c, (struct sockaddr *)&a, len))
		e2e_fail("connect to %s after restore: %s", name, strerror(errno));
	s = accept(lfd, NULL, NULL);
	if (s < 0)
		e2e_fail("accept on %s: %s", name, strerror(errno));
	if (write(c, "ping", 4) != 4 || read(s, buf, 4) != 4 || memcmp(buf, "ping", 4) ||
	    write(s, "pong", 4) != 4 || read(c, buf, 4) != 4 || memcmp(buf, "pong", 4))
		e2e_fail("%s: no exchange over the new connection", name);
	if (getsockname(lfd, (struct sockaddr *)&got, &glen) || glen != len ||
	    memcmp(&got, &a, len))
		e2e_fail("%s: the listener's name changed", name);
	close(c);
	close(s);
}

int main(int argc, char **argv)
{
	char path[512], dpath[512], abs_name[64], buf[32];
	struct sockaddr_un a;
	int lst, lsp, dg, dgc, un, rcvbuf = 100000, before, cl, sv;
	struct stat st;
	socklen_t len;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "listen.sock");
	e2e_path(dpath, sizeof(dpath), "dgram.sock");
	snprintf(abs_name, sizeof(abs_name), "criu-e2e-unix-listen-%d", getpid());
	lst = bound(SOCK_STREAM, path, false);
	lsp = bound(SOCK_SEQPACKET, abs_name, true);
	if (listen(lst, 7) || listen(lsp, 3) || chmod(path, 0640))
		e2e_fail("listen: %s", strerror(errno));
	dg = bound(SOCK_DGRAM, dpath, false);
	if (setsockopt(dg, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		e2e_fail("SO_RCVBUF: %s", strerror(errno));
	len = sizeof(before);
	if (getsockopt(dg, SOL_SOCKET, SO_RCVBUF, &before, &len))
		e2e_fail("SO_RCVBUF: %s", strerror(errno));
	dgc = socket(AF_UNIX, SOCK_DGRAM, 0);
	len = e2e_unix_addr(&a, dpath, false);
	if (dgc < 0 || connect(dgc, (struct sockaddr *)&a, len))
		e2e_fail("dgram connect: %s", strerror(errno));
	un = socket(AF_UNIX, SOCK_STREAM, 0);
	cl = socket(AF_UNIX, SOCK_STREAM, 0);
	len = e2e_unix_addr(&a, path, false);
	if (cl < 0 || connect(cl, (struct sockaddr *)&a, len) || (sv = accept(lst, NULL, NULL)) < 0 ||
	    write(cl, "to server", 9) != 9 || write(sv, "to client", 9) != 9)
		e2e_fail("accepted connection: %s", strerror(errno));
	len = e2e_unix_addr(&a, dpath, false);
	/* queued for the bound datagram socket, from senders without names */
	if (send(dgc, "queued 1", 8, 0) != 8 || send(dgc, "queued 22", 9, 0) != 9)
		e2e_fail("queueing datagrams: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (stat(path, &st) || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0640)
		e2e_fail("%s: not a socket of mode 0640 (%o)", path, st.st_mode);
	{
		struct sockaddr_un got;
		socklen_t glen = sizeof(got);

		len = e2e_unix_addr(&a, path, false);
		if (getsockname(sv, (struct sockaddr *)&got, &glen) || glen != len ||
		    memcmp(&got, &a, len))
			e2e_fail("the accepted end lost the listener's name");
		glen = sizeof(got);
		if (getpeername(cl, (struct sockaddr *)&got, &glen) || glen != len ||
		    memcmp(&got, &a, len))
			e2e_fail("the connecting end lost its peer's name");
		len = e2e_unix_addr(&a, dpath, false);
	}
	e2e_read_all(sv, buf, 9, "accepted end");
	if (memcmp(buf, "to server", 9))
		e2e_fail("accepted end: got '%.9s'", buf);
	e2e_read_all(cl, buf, 9, "connecting end");
	if (memcmp(buf, "to client", 9) || write(cl, "more", 4) != 4 || read(sv, buf, 4) != 4)
		e2e_fail("connecting end: got '%.9s', or no new data", buf);
	talk(lst, SOCK_STREAM, path, false);
	talk(lsp, SOCK_SEQPACKET, abs_name, true);
	if (recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != 8 || memcmp(buf, "queued 1", 8) ||
	    recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != 9 || memcmp(buf, "queued 22", 9) ||
	    recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != -1)
		e2e_fail("the datagrams queued on %s are lost or out of order", dpath);
	if (send(dgc, "one way", 7, 0) != 7 || recv(dg, buf, sizeof(buf), 0) != 7 ||
	    memcmp(buf, "one way", 7))
		e2e_fail("the one-way datagram socket no longer reaches %s", dpath);
	if (sendto(un, "x", 1, 0, (struct sockaddr *)&a, len) != -1)
		e2e_fail("an unconnected stream socket could send");
	close(un);
	un = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sendto(un, "new sender", 10, 0, (struct sockaddr *)&a, len) != 10 ||
	    recv(dg, buf, sizeof(buf), 0) != 10)
		e2e_fail("%s does not receive from a new sender: %s", dpath, strerror(errno));
	len = sizeof(rcvbuf);
	if (getsockopt(dg, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) || rcvbuf != before)
		e2e_fail("SO_RCVBUF is %d, not %d", rcvbuf, before);
	unlink(path);
	unlink(dpath);
	e2e_pass();
}
