/*
 * Raw and ICMP ("ping") sockets, IPv4 and IPv6 (the harness opens
 * net.ipv4.ping_group_range to root for the case and puts it back):
 *   - a raw socket of protocol 253 connected to the loopback address (a
 *     peer without a port: getpeername() says ENOTCONN) and one bound to
 *     it with IP_NODEFRAG: after restore the first sends without an
 *     address and the second receives;
 *   - a raw ICMP socket with an ICMP_FILTER (IPv6: ICMP6_FILTER) letting
 *     only echo replies through, bound to the loopback address;
 *   - a ping socket bound (its ICMP id picked by the kernel) and connected:
 *     after restore it keeps its id, sends an echo request without an
 *     address and reads the reply, which the raw ICMP socket sees too.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>

#include "e2e.h"

#define PROTO_TEST	253	/* RFC 3692: for experiments */

struct fam {
	int		family, level, icmp;	/* the ICMP protocol and its filter's level */
	int		conn, bound, raw_icmp, ping;
	unsigned short	ident;
	unsigned char	filter[32];
	socklen_t	flen;
};

static int sock(int family, int type, int proto)
{
	int fd = socket(family, type, proto);

	if (fd < 0)
		e2e_fail("socket(%d, %d, %d): %s", family, type, proto, strerror(errno));
	return fd;
}

static void lo(int fd, int family, int connect_it)
{
	struct sockaddr_storage ss;
	socklen_t len = e2e_loopback(&ss, family, 0);

	if (connect_it ? connect(fd, (struct sockaddr *)&ss, len) : bind(fd, (struct sockaddr *)&ss, len))
		e2e_fail("%s: %s", connect_it ? "connect" : "bind", strerror(errno));
}

/* Lets only echo replies through (v4: a bit per type to block; v6: per type to block). */
static void set_filter(struct fam *f)
{
	memset(f->filter, 0xff, sizeof(f->filter));
	if (f->family == AF_INET) {
		f->flen = 4;
		f->filter[0] &= (unsigned char)~(1u << ICMP_ECHOREPLY);
		if (setsockopt(f->raw_icmp, SOL_RAW, 1 /* ICMP_FILTER */, f->filter, f->flen))
			e2e_fail("ICMP_FILTER: %s", strerror(errno));
		return;
	}
	f->flen = sizeof(struct icmp6_filter);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, (struct icmp6_filter *)f->filter);
	if (setsockopt(f->raw_icmp, SOL_ICMPV6, ICMP6_FILTER, f->filter, f->flen))
		e2e_fail("ICMP6_FILTER: %s", strerror(errno));
}

static void setup(struct fam *f, int family)
{
	int one = 1;

	f->family = family;
	f->icmp = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	f->conn = sock(family, SOCK_RAW, PROTO_TEST);
	f->bound = sock(family, SOCK_RAW, PROTO_TEST);
	f->raw_icmp = sock(family, SOCK_RAW, f->icmp);
	f->ping = sock(family, SOCK_DGRAM, f->icmp);
	lo(f->conn, family, 1);
	lo(f->bound, family, 0);
	lo(f->raw_icmp, family, 0);
	lo(f->ping, family, 0);
	lo(f->ping, family, 1);
	if (family == AF_INET && setsockopt(f->bound, SOL_IP, IP_NODEFRAG, &one, sizeof(one)))
		e2e_fail("IP_NODEFRAG: %s", strerror(errno));
	set_filter(f);
	f->ident = e2e_port_of(f->ping);
	if (!f->ident)
		e2e_fail("the ping socket has no ICMP id");
}

static void check_filter(const struct fam *f)
{
	unsigned char now[32];
	socklen_t len = sizeof(now);

	if (getsockopt(f->raw_icmp, f->family == AF_INET ? SOL_RAW : SOL_ICMPV6, 1, now, &len) ||
	    len != f->flen || memcmp(now, f->filter, len))
		e2e_fail("family %d: the ICMP filter changed", f->family);
}

/* The connected raw socket sends without an address; the bound one reads it. */
static void check_raw(const struct fam *f)
{
	char buf[256];
	size_t hdr = f->family == AF_INET ? sizeof(struct iphdr) : 0;	/* v4 gives the header */
	ssize_t n;
	int v = 0;
	socklen_t len = sizeof(v);

	if (f->family == AF_INET && (getsockopt(f->bound, SOL_IP, IP_NODEFRAG, &v, &len) || v != 1))
		e2e_fail("IP_NODEFRAG lost");
	if (send(f->conn, "raw-hello", 9, 0) != 9)
		e2e_fail("family %d: send on the connected raw socket: %s", f->family, strerror(errno));
	n = recv(f->bound, buf, sizeof(buf), 0);
	if (n != (ssize_t)(hdr + 9) || memcmp(buf + hdr, "raw-hello", 9))
		e2e_fail("family %d: the bound raw socket read %zd bytes", f->family, n);
}

/* An echo request through the ping socket: the reply to it, and the raw ICMP socket's copy. */
static void check_ping(const struct fam *f)
{
	unsigned char req[16] = { 0 }, buf[256];
	size_t hdr = f->family == AF_INET ? sizeof(struct iphdr) : 0;
	ssize_t n;

	if (e2e_port_of(f->ping) != f->ident)
		e2e_fail("family %d: the ping socket's ICMP id changed", f->family);
	req[0] = f->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	req[7] = 42;	/* sequence */
	memcpy(req + 8, "pingpong", 8);
	if (send(f->ping, req, sizeof(req), 0) != sizeof(req))
		e2e_fail("family %d: ping send: %s", f->family, strerror(errno));
	n = recv(f->ping, buf, sizeof(buf), 0);
	if (n != sizeof(req) || buf[0] != (f->family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) ||
	    ntohs(*(unsigned short *)(buf + 4)) != f->ident || buf[7] != 42 ||
	    memcmp(buf + 8, "pingpong", 8))
		e2e_fail("family %d: no echo reply on the ping socket (%zd bytes)", f->family, n);
	n = recv(f->raw_icmp, buf, sizeof(buf), 0);
	if (n != (ssize_t)(hdr + sizeof(req)) ||
	    buf[hdr] != (f->family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
		e2e_fail("family %d: the raw ICMP socket saw %zd bytes, type %u", f->family, n,
			 n > (ssize_t)hdr ? buf[hdr] : 0);
}

int main(int argc, char **argv)
{
	struct fam f4, f6;

	e2e_init(argc, argv);
	setup(&f4, AF_INET);
	setup(&f6, AF_INET6);

	e2e_ready();
	e2e_wait_stop();

	check_filter(&f4);
	check_filter(&f6);
	check_raw(&f4);
	check_raw(&f6);
	check_ping(&f4);
	check_ping(&f6);
	e2e_pass();
}
