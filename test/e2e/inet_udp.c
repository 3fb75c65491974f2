/*
 * UDP sockets in the states that sock_diag does not show whole, and
 * UDP-Lite ("inet_udp [lite|cscov]"):
 *   - a UDPv4 and a UDPv6 socket never bound stay unbound;
 *   - never bound and shut down for reading (POLLRDHUP), and both ways
 *     (POLLHUP), on IPv4 and IPv6;
 *   - bound and shut down for writing (send fails with EPIPE, reading
 *     still works), bound and connected, shut down for reading;
 *   - with "lite" or "cscov", a UDP-Lite pair over IPv4 and one over
 *     IPv6, bound and connected, exchange datagrams after restore; with
 *     "cscov" the IPv4 pair has UDPLITE_SEND_CSCOV and UDPLITE_RECV_CSCOV
 *     set (the established format has no field for them: --image-ext).
 */
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include "e2e.h"

#ifndef UDPLITE_SEND_CSCOV
#define UDPLITE_SEND_CSCOV	10	/* linux/udp.h, which glibc's headers clash with */
#define UDPLITE_RECV_CSCOV	11
#endif
#ifndef SOL_UDPLITE
#define SOL_UDPLITE		136
#endif

static int udp(int family, int proto, int shut)
{
	int fd = socket(family, SOCK_DGRAM, proto);

	if (fd < 0)
		e2e_fail("socket(%d, %d): %s", family, proto, strerror(errno));
	/* an unconnected socket answers ENOTCONN and is shut down all the same */
	if (shut >= 0 && shutdown(fd, shut) && errno != ENOTCONN)
		e2e_fail("shutdown: %s", strerror(errno));
	return fd;
}

static void bind_lo(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = e2e_loopback(&ss, family, 0);

	if (bind(fd, (struct sockaddr *)&ss, len))
		e2e_fail("bind: %s", strerror(errno));
}

static void connect_to(int fd, int family, int to)
{
	struct sockaddr_storage ss;
	socklen_t len = e2e_loopback(&ss, family, e2e_port_of(to));

	if (connect(fd, (struct sockaddr *)&ss, len))
		e2e_fail("connect: %s", strerror(errno));
}

static short events(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDHUP, 0 };

	if (poll(&p, 1, 0) < 0)
		e2e_fail("poll: %s", strerror(errno));
	return p.revents;
}

/* POLLRDHUP and POLLHUP as shutdown(@how) leaves them (-1: not shut down) */
static void check_shut(int fd, int how, const char *what)
{
	short want = how == SHUT_RD ? POLLRDHUP : how == SHUT_RDWR ? POLLRDHUP | POLLHUP : 0;
	short got = events(fd) & (POLLRDHUP | POLLHUP);

	if (got != want)
		e2e_fail("%s: poll says %#x, not %#x", what, got, want);
}

static int getint(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, level, opt, &v, &len))
		e2e_fail("getsockopt(%d, %d): %s", level, opt, strerror(errno));
	return v;
}

static void exchange(int a, int b, const char *what)
{
	char buf[32];

	if (send(a, what, strlen(what), 0) != (ssize_t)strlen(what) ||
	    recv(b, buf, sizeof(buf), 0) != (ssize_t)strlen(what) || memcmp(buf, what, strlen(what)))
		e2e_fail("%s: no datagram across: %s", what, strerror(errno));
}

int main(int argc, char **argv)
{
	int fresh4, fresh6, rd4, rdwr6, wr, crd, peer, l4[2], l6[2], i, cov = 20, rcov = 12;
	int cscov = argc > 2 && !strcmp(argv[1], "cscov");
	int lite = cscov || (argc > 2 && !strcmp(argv[1], "lite"));
	unsigned short pwr, pcrd, pl[2];
	char buf[8], *args[] = { argv[0], argv[argc - 1], NULL };

	e2e_init(2, args);
	fresh4 = udp(AF_INET, 0, -1);
	fresh6 = udp(AF_INET6, 0, -1);
	rd4 = udp(AF_INET, 0, SHUT_RD);
	rdwr6 = udp(AF_INET6, 0, SHUT_RDWR);
	wr = udp(AF_INET, 0, -1);
	bind_lo(wr, AF_INET);
	if (shutdown(wr, SHUT_WR) && errno != ENOTCONN)
		e2e_fail("shutdown: %s", strerror(errno));
	peer = udp(AF_INET, 0, -1);
	bind_lo(peer, AF_INET);
	crd = udp(AF_INET, 0, -1);
	connect_to(crd, AF_INET, peer);
	if (shutdown(crd, SHUT_RD))
		e2e_fail("shutdown of the connected one: %s", strerror(errno));
	for (i = 0; i < 2 * lite; i++) {
		l4[i] = udp(AF_INET, IPPROTO_UDPLITE, -1);
		l6[i] = udp(AF_INET6, IPPROTO_UDPLITE, -1);
		bind_lo(l4[i], AF_INET);
		bind_lo(l6[i], AF_INET6);
	}
	for (i = 0; i < 2 * lite; i++) {
		connect_to(l4[i], AF_INET, l4[!i]);
		connect_to(l6[i], AF_INET6, l6[!i]);
	}
	if (cscov && (setsockopt(l4[0], SOL_UDPLITE, UDPLITE_SEND_CSCOV, &cov, sizeof(cov)) ||
		      setsockopt(l4[1], SOL_UDPLITE, UDPLITE_RECV_CSCOV, &rcov, sizeof(rcov))))
		e2e_fail("UDPLITE_*_CSCOV: %s", strerror(errno));
	pwr = e2e_port_of(wr);
	pcrd = e2e_port_of(crd);
	pl[0] = lite ? e2e_port_of(l4[0]) : 0;
	pl[1] = lite ? e2e_port_of(l6[0]) : 0;

	e2e_ready();
	e2e_wait_stop();

	if (e2e_port_of(fresh4) || e2e_port_of(fresh6) || e2e_port_of(rd4) || e2e_port_of(rdwr6))
		e2e_fail("an unbound socket came back bound");
	if (e2e_port_of(wr) != pwr || e2e_port_of(crd) != pcrd ||
	    (lite && (e2e_port_of(l4[0]) != pl[0] || e2e_port_of(l6[0]) != pl[1])))
		e2e_fail("ports changed");
	check_shut(fresh4, -1, "unbound v4");
	check_shut(fresh6, -1, "unbound v6");
	check_shut(rd4, SHUT_RD, "unbound v4 shut down for reading");
	check_shut(rdwr6, SHUT_RDWR, "unbound v6 shut down both ways");
	check_shut(crd, SHUT_RD, "connected, shut down for reading");
	check_shut(wr, -1, "bound, shut down for writing");
	if (sendto(wr, "x", 1, MSG_NOSIGNAL, NULL, 0) != -1 || errno != EDESTADDRREQ)
		e2e_fail("bound, unconnected: sendto without address");
	connect_to(wr, AF_INET, peer);
	connect_to(peer, AF_INET, wr);
	if (send(wr, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		e2e_fail("bound, shut down for writing: send did not fail with EPIPE");
	if (send(peer, "to-wr", 5, 0) != 5 || recv(wr, buf, sizeof(buf), 0) != 5)
		e2e_fail("bound, shut down for writing: cannot receive");
	connect_to(peer, AF_INET, crd);
	if (send(crd, "from-crd", 8, 0) != 8 || recv(peer, buf, sizeof(buf), 0) != 8)
		e2e_fail("connected, shut down for reading: cannot send");
	if (!lite)
		e2e_pass();
	if (getint(l4[0], SOL_SOCKET, SO_PROTOCOL) != IPPROTO_UDPLITE ||
	    getint(l6[1], SOL_SOCKET, SO_PROTOCOL) != IPPROTO_UDPLITE)
		e2e_fail("UDP-Lite came back as another protocol");
	if (getint(l4[0], SOL_UDPLITE, UDPLITE_SEND_CSCOV) != (cscov ? cov : 0) ||
	    getint(l4[1], SOL_UDPLITE, UDPLITE_RECV_CSCOV) != (cscov ? rcov : 0) ||
	    getint(l4[1], SOL_UDPLITE, UDPLITE_SEND_CSCOV) != 0)
		e2e_fail("UDPLITE_*_CSCOV not kept");
	for (i = 0; i < 2; i++) {
		exchange(l4[i], l4[!i], "udplite4");
		exchange(l6[i], l6[!i], "udplite6");
	}
	e2e_pass();
}
