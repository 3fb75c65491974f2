/*
 * TCP and UDP sockets without a connection: a TCP listener on 127.0.0.1
 * and one on [::1] (IPV6_V6ONLY, SO_REUSEADDR), both on ports the kernel
 * picked, accept new connections after restore; a UDP socket bound to
 * 127.0.0.1 receives, one connected to it sends; a TCP socket bound but
 * not listening keeps its port; a fresh TCP socket stays unbound; socket
 * options (SO_KEEPALIVE, SO_RCVTIMEO, SO_LINGER, SO_PRIORITY, TCP_NODELAY,
 * TCP_CONGESTION) are kept.
 */
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "e2e.h"

static int bound(int family, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = e2e_loopback(&ss, family, 0);
	int fd = socket(family, type, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (family == AF_INET6 && setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&ss, len))
		e2e_fail("bind: %s", strerror(errno));
	return fd;
}

static void talk(int lfd, int family, unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len = e2e_loopback(&ss, family, port);
	int c = socket(family, SOCK_STREAM, 0), s;
	char buf[8];

	if (c < 0 || connect(c, (struct sockaddr *)&ss, len))
		e2e_fail("connect to port %u after restore: %s", port, strerror(errno));
	s = accept(lfd, NULL, NULL);
	if (s < 0)
		e2e_fail("accept on port %u: %s", port, strerror(errno));
	if (write(c, "ping", 4) != 4 || read(s, buf, 4) != 4 || memcmp(buf, "ping", 4) ||
	    write(s, "pong", 4) != 4 || read(c, buf, 4) != 4 || memcmp(buf, "pong", 4))
		e2e_fail("port %u: no exchange over the new connection", port);
	close(c);
	close(s);
}

static int getint(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	getsockopt(fd, level, opt, &v, &len);
	return v;
}

int main(int argc, char **argv)
{
	struct timeval tv = { 3, 250000 }, got_tv, want_tv;
	struct linger lg = { 1, 7 }, got_lg;
	struct sockaddr_storage ss;
	int l4, l6, u, uc, closed, fresh, one = 1, prio = 5, backlog;
	unsigned short p4, p6, pu, pc;
	socklen_t len;
	char buf[32];

	e2e_init(argc, argv);
	l4 = bound(AF_INET, SOCK_STREAM);
	l6 = bound(AF_INET6, SOCK_STREAM);
	if (setsockopt(l4, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(l4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(l4, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    setsockopt(l4, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) ||
	    setsockopt(l4, SOL_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(l4, SOL_TCP, TCP_CONGESTION, "reno", 4))
		e2e_fail("setsockopt: %s", strerror(errno));
	len = sizeof(want_tv);
	getsockopt(l4, SOL_SOCKET, SO_RCVTIMEO, &want_tv, &len);	/* in jiffies: rounded */
	if (listen(l4, 17) || listen(l6, 5))
		e2e_fail("listen: %s", strerror(errno));
	fcntl(l6, F_SETFL, O_NONBLOCK);
	u = bound(AF_INET, SOCK_DGRAM);
	uc = socket(AF_INET, SOCK_DGRAM, 0);
	pu = e2e_port_of(u);
	len = e2e_loopback(&ss, AF_INET, pu);
	if (uc < 0 || connect(uc, (struct sockaddr *)&ss, len))
		e2e_fail("udp connect: %s", strerror(errno));
	closed = bound(AF_INET, SOCK_STREAM);
	fresh = socket(AF_INET6, SOCK_STREAM, 0);
	p4 = e2e_port_of(l4);
	p6 = e2e_port_of(l6);
	pc = e2e_port_of(closed);

	e2e_ready();
	e2e_wait_stop();

	if (e2e_port_of(l4) != p4 || e2e_port_of(l6) != p6 || e2e_port_of(u) != pu || e2e_port_of(closed) != pc)
		e2e_fail("ports changed");
	if (e2e_port_of(fresh) != 0)
		e2e_fail("the unbound socket is bound to %u", e2e_port_of(fresh));
	if (!(fcntl(l6, F_GETFL) & O_NONBLOCK) || (fcntl(l4, F_GETFL) & O_NONBLOCK))
		e2e_fail("O_NONBLOCK not kept");
	if (accept(l6, NULL, NULL) != -1 || errno != EAGAIN)
		e2e_fail("the v6 listener has a connection nobody made");
	fcntl(l6, F_SETFL, 0);
	talk(l4, AF_INET, p4);
	talk(l6, AF_INET6, p6);
	if (getint(l6, SOL_IPV6, IPV6_V6ONLY) != 1 || getint(l4, SOL_SOCKET, SO_REUSEADDR) != 1)
		e2e_fail("IPV6_V6ONLY or SO_REUSEADDR lost");
	if (getint(l4, SOL_SOCKET, SO_KEEPALIVE) != 1 || getint(l4, SOL_SOCKET, SO_PRIORITY) != 5 ||
	    getint(l4, SOL_TCP, TCP_NODELAY) != 1)
		e2e_fail("SO_KEEPALIVE, SO_PRIORITY or TCP_NODELAY lost");
	len = sizeof(buf);
	memset(buf, 0, sizeof(buf));
	if (getsockopt(l4, SOL_TCP, TCP_CONGESTION, buf, &len) || strcmp(buf, "reno"))
		e2e_fail("TCP_CONGESTION is '%s', not reno", buf);
	len = sizeof(got_tv);
	getsockopt(l4, SOL_SOCKET, SO_RCVTIMEO, &got_tv, &len);
	len = sizeof(got_lg);
	getsockopt(l4, SOL_SOCKET, SO_LINGER, &got_lg, &len);
	if (got_tv.tv_sec != want_tv.tv_sec || got_tv.tv_usec != want_tv.tv_usec || !got_lg.l_onoff ||
	    got_lg.l_linger != 7)
		e2e_fail("SO_RCVTIMEO (%ld.%06ld) or SO_LINGER (%d, %d) lost", (long)got_tv.tv_sec,
			 (long)got_tv.tv_usec, got_lg.l_onoff, got_lg.l_linger);
	if (send(uc, "datagram", 8, 0) != 8 || recv(u, buf, sizeof(buf), 0) != 8 ||
	    memcmp(buf, "datagram", 8))
		e2e_fail("udp: the connected socket does not reach the bound one");
	backlog = listen(closed, 3);
	if (backlog || e2e_port_of(closed) != pc)
		e2e_fail("the bound TCP socket cannot listen on its port");
	talk(closed, AF_INET, pc);
	e2e_pass();
}
