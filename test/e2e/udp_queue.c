/*
 * UDP datagrams received and not read, kept across dump and restore
 * (--image-ext: the established format has no UDP queue):
 *   A  IPv4, bound to 127.0.0.1: from a sender still open in the tree, an
 *      empty one, 40000 bytes from a sender closed before the dump, one
 *      from 10.99.0.1, an address this host does not have (IP_TRANSPARENT);
 *   B  IPv6 bound to [::]: from ::1 and from 127.0.0.1 (v4-mapped);
 *   C  a datagram from 127.0.0.3 queued before connect() to the sender
 *      in the tree, one from that sender after (still connected after);
 *   D  UDP-Lite over IPv4;
 *   E  SO_PEEK_OFF on, the first of two datagrams peeked: the next peek
 *      gives the second;
 *   F  a classic filter dropping datagrams that start with 'x', attached
 *      after one that starts with 'x' was queued: that one stays, a new
 *      one is dropped.
 * After restore every datagram is read in order with its sender's address
 * and port.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>

#include "e2e.h"

#define BIG	40000
#define NR	14

struct dgram {
	int		to;		/* index of the receiver */
	struct sockaddr_storage from;
	size_t		len;
	const char	*text;		/* NULL: BIG bytes of big[] */
};

static struct dgram q[NR];
static size_t nr;
static char big[BIG];

static socklen_t addr(struct sockaddr_storage *ss, int family, const char *ip, unsigned short port)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET6) {
		inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)ss)->sin6_addr);
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		return sizeof(struct sockaddr_in6);
	}
	inet_pton(AF_INET, ip, &((struct sockaddr_in *)ss)->sin_addr);
	((struct sockaddr_in *)ss)->sin_port = htons(port);
	return sizeof(struct sockaddr_in);
}

static int sock(int family, int proto, const char *ip)
{
	struct sockaddr_storage ss;
	int fd = socket(family, SOCK_DGRAM, proto), one = 1;

	if (fd < 0)
		e2e_fail("socket: %s", strerror(errno));
	if (ip && !strcmp(ip, "10.99.0.1") &&
	    setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)))
		e2e_fail("IP_TRANSPARENT: %s", strerror(errno));
	if (ip && bind(fd, (struct sockaddr *)&ss, addr(&ss, family, ip, 0)))
		e2e_fail("bind to %s: %s", ip, strerror(errno));
	return fd;
}

static unsigned int rmem(int fd)
{
	unsigned int mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		e2e_fail("SO_MEMINFO: %s", strerror(errno));
	return mem[SK_MEMINFO_RMEM_ALLOC];
}

/*
 * @from sends @text (NULL: big) to receiver @r at @ip, and waits until it
 * is there (the receiver's memory grows: loopback delivers a moment after
 * the send). Not by peeking: that would mark an empty datagram peeked.
 */
static void put(int from, int *rx, int r, int family, const char *ip, const char *text)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	struct sockaddr_storage ss;
	socklen_t len = addr(&ss, family, ip, e2e_port_of(rx[r]));
	size_t n = text ? strlen(text) : BIG;
	struct dgram *d = &q[nr++];
	socklen_t fl = sizeof(d->from);
	unsigned int before = rmem(rx[r]);
	int tries;

	if (sendto(from, text ? text : big, n, 0, (struct sockaddr *)&ss, len) != (ssize_t)n)
		e2e_fail("sendto: %s", strerror(errno));
	for (tries = 0; rmem(rx[r]) == before && tries < 5000; tries++)
		nanosleep(&tick, NULL);
	if (rmem(rx[r]) == before)
		e2e_fail("datagram %zu never arrived", nr - 1);
	d->to = r;
	d->len = n;
	d->text = text;
	if (getsockname(from, (struct sockaddr *)&d->from, &fl))
		e2e_fail("getsockname: %s", strerror(errno));
}

static bool same_sender(const struct dgram *d, const struct sockaddr_storage *got)
{
	if (got->ss_family == AF_INET6 && d->from.ss_family == AF_INET) {
		const struct sockaddr_in6 *g = (const struct sockaddr_in6 *)got;
		const struct sockaddr_in *w = (const struct sockaddr_in *)&d->from;

		return IN6_IS_ADDR_V4MAPPED(&g->sin6_addr) && g->sin6_port == w->sin_port &&
		       !memcmp(&g->sin6_addr.s6_addr[12], &w->sin_addr, 4);
	}
	if (got->ss_family != d->from.ss_family)
		return false;
	if (got->ss_family == AF_INET6)
		return !memcmp(got, &d->from, sizeof(struct sockaddr_in6));
	return ((const struct sockaddr_in *)got)->sin_port ==
		       ((const struct sockaddr_in *)&d->from)->sin_port &&
	       ((const struct sockaddr_in *)got)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)&d->from)->sin_addr.s_addr;
}

/* Every datagram of receiver @r, in order, with its sender. */
static void check(int *rx, int r, const char *what)
{
	static char buf[BIG + 1];
	struct sockaddr_storage got;
	size_t i;

	for (i = 0; i < nr; i++) {
		socklen_t len = sizeof(got);
		ssize_t n;

		if (q[i].to != r)
			continue;
		memset(&got, 0, sizeof(got));
		n = recvfrom(rx[r], buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&got, &len);
		if (n != (ssize_t)q[i].len || memcmp(buf, q[i].text ? q[i].text : big, q[i].len))
			e2e_fail("%s: datagram %zu: %zd bytes, not %zu as sent: %s", what, i, n,
				 q[i].len, n < 0 ? strerror(errno) : "other bytes");
		if (!same_sender(&q[i], &got))
			e2e_fail("%s: datagram %zu: from another sender", what, i);
	}
	if (recv(rx[r], buf, sizeof(buf), MSG_DONTWAIT) >= 0 || errno != EAGAIN)
		e2e_fail("%s: a datagram more than were sent", what);
}

/* drops a datagram whose first byte is 'x' (the filter sees the UDP header first) */
static struct sock_filter drop_x[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'x', 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
};

int main(int argc, char **argv)
{
	struct sock_fprog prog = { .len = sizeof(drop_x) / sizeof(drop_x[0]), .filter = drop_x };
	int rx[6], s1, s6, gone, far, s3, lite, zero = 0;
	struct sockaddr_storage ss;
	char buf[16];
	unsigned short port_c;

	e2e_init(argc, argv);
	memset(big, 'b', sizeof(big));
	big[0] = 'B';
	big[BIG - 1] = 'E';
	rx[0] = sock(AF_INET, 0, "127.0.0.1");
	rx[1] = sock(AF_INET6, 0, "::");
	rx[2] = sock(AF_INET, 0, "127.0.0.1");
	rx[3] = sock(AF_INET, IPPROTO_UDPLITE, "127.0.0.1");
	rx[4] = sock(AF_INET, 0, "127.0.0.1");
	rx[5] = sock(AF_INET, 0, "127.0.0.1");
	s1 = sock(AF_INET, 0, "127.0.0.1");
	s6 = sock(AF_INET6, 0, "::1");
	gone = sock(AF_INET, 0, "127.0.0.1");
	far = sock(AF_INET, 0, "10.99.0.1");
	s3 = sock(AF_INET, 0, "127.0.0.3");
	lite = sock(AF_INET, IPPROTO_UDPLITE, "127.0.0.1");

	put(s1, rx, 0, AF_INET, "127.0.0.1", "first");
	put(s1, rx, 0, AF_INET, "127.0.0.1", "");
	put(gone, rx, 0, AF_INET, "127.0.0.1", NULL);
	put(far, rx, 0, AF_INET, "127.0.0.1", "from afar");
	put(s6, rx, 1, AF_INET6, "::1", "over IPv6");
	put(s1, rx, 1, AF_INET, "127.0.0.1", "v4-mapped");
	put(s3, rx, 2, AF_INET, "127.0.0.1", "before connect");
	if (connect(rx[2], (struct sockaddr *)&ss, addr(&ss, AF_INET, "127.0.0.1", e2e_port_of(s1))))
		e2e_fail("connect: %s", strerror(errno));
	put(s1, rx, 2, AF_INET, "127.0.0.1", "after connect");
	put(lite, rx, 3, AF_INET, "127.0.0.1", "lite");
	put(s1, rx, 4, AF_INET, "127.0.0.1", "peeked");
	put(s1, rx, 4, AF_INET, "127.0.0.1", "second");
	put(s1, rx, 5, AF_INET, "127.0.0.1", "xqueued");
	close(gone);
	close(far);
	if (setsockopt(rx[4], SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) ||
	    recv(rx[4], buf, sizeof(buf), MSG_PEEK) != 6 ||
	    setsockopt(rx[5], SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		e2e_fail("setup: %s", strerror(errno));
	port_c = e2e_port_of(rx[2]);

	e2e_ready();
	e2e_wait_stop();

	if (recv(rx[4], buf, sizeof(buf), MSG_PEEK) != 6 || memcmp(buf, "second", 6))
		e2e_fail("E: the peek offset did not come back: the next peek is not the second");
	check(rx, 0, "A");
	check(rx, 1, "B");
	check(rx, 2, "C");
	check(rx, 3, "D");
	check(rx, 4, "E");
	check(rx, 5, "F");
	if (e2e_port_of(rx[2]) != port_c ||
	    send(rx[2], "to peer", 7, 0) != 7 || recv(s1, buf, sizeof(buf), 0) != 7)
		e2e_fail("C: no longer connected to its peer: %s", strerror(errno));
	if (sendto(s1, "xdropped", 8, 0, (struct sockaddr *)&ss,
		   addr(&ss, AF_INET, "127.0.0.1", e2e_port_of(rx[5]))) != 8 ||
	    sendto(s1, "kept", 4, 0, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) != 4 ||
	    recv(rx[5], buf, sizeof(buf), 0) != 4 || memcmp(buf, "kept", 4))
		e2e_fail("F: the filter no longer drops what it should");
	e2e_pass();
}
