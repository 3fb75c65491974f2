/*
 * Socket options survive: a broad set of options that differ from a fresh
 * socket's is set on a unix stream socket (one end of a pair), a unix
 * datagram socket, a unix seqpacket socket, a unix listener and a socket
 * it accepted (SO_PASSCRED turned off again), a TCP listener on 127.0.0.1,
 * one on [::1], a closed TCP socket, a UDP socket bound and connected
 * (corked, with nothing pending), an unbound UDP socket and a UDP socket
 * on [::1]. Buffer sizes over rmem_max/wmem_max (SO_*BUFFORCE) are among
 * them, and SO_LINGER turned off after it was on (it reads { 0, 9 }).
 * Every value is read back before the dump and compared, byte for byte,
 * after the restore.
 */
#include <stddef.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/net_tstamp.h>

#include "e2e.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD	76
#endif
#ifndef SO_RCVPRIORITY
#define SO_RCVPRIORITY	82
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IPV6_FLOWINFO_SEND
#define IPV6_FLOWINFO_SEND 33
#endif
#ifndef IPV6_FLOWINFO
#define IPV6_FLOWINFO	11
#endif
#ifndef IPV6_PREFER_SRC_TMP
#define IPV6_PREFER_SRC_TMP 0x0001
#endif
#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS	44
#endif
#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US	45
#endif
#ifndef TCP_DELACK_MAX_US
#define TCP_DELACK_MAX_US 46
#endif

enum { US, UD, SQ, LU, AC, L4, L6, TC, UDP, U0, U6, NR_SK };
static const char *const sk_name[NR_SK] = { "unix stream", "unix dgram", "unix seqpacket",
					    "unix listener", "unix accepted",
					    "tcp4 listener", "tcp6 listener", "closed tcp", "udp",
					    "unbound udp", "udp6" };

struct opt {
	int		sk, level, name;	/* SO_*BUFFORCE: read as SO_*BUF */
	const char	*str;
	const void	*val;
	socklen_t	len;
	unsigned char	was[64];
	socklen_t	was_len;
};

static const int one = 1, zero = 0, two = 2, three = 3;
static const int v5 = 5, v7 = 7, v10 = 10, v17 = 17, v30 = 30, v33 = 33, v100 = 100;
static const int tos = 0x10, tclass = 0x20, rcvbuf = 100000, sndbuf = 65536;
static const int keep_idle = 100, keep_cnt = 3, clamp = 40000, lowat = 16384, mss = 1200;
static const int force = 4 << 20, prefs = IPV6_PREFER_SRC_TMP;
static const int uto = 5000, seg = 1000, rto_max = 60000, rto_min = 100000, delack = 100000;
static const uint64_t pacing = 1000000;
static const struct timeval tv = { 2, 500000 };
static const struct linger lg = { 1, 5 }, lg_on = { 1, 9 }, lg_off = { 0, 0 };
static const struct so_timestamping ts = { SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE, 0 };
static const uint32_t port_range = 40000u | 50000u << 16;
static int lo_index, lo_index_be;
static struct in_addr lo_addr;

#define O(s, l, n, v) { s, l, n, #n, &(v), sizeof(v), { 0 }, 0 }
static struct opt opts[] = {
	O(US, SOL_SOCKET, SO_PASSCRED, one),
	O(US, SOL_SOCKET, SO_PEEK_OFF, zero),
	O(US, SOL_SOCKET, SO_RCVLOWAT, v5),
	O(US, SOL_SOCKET, SO_SNDBUF, sndbuf),
	O(US, SOL_SOCKET, SO_BUF_LOCK, two),		/* after SO_SNDBUF: its lock off */
	O(US, SOL_SOCKET, SO_PRIORITY, three),
	O(US, SOL_SOCKET, SO_MARK, v7),
	O(US, SOL_SOCKET, SO_NO_CHECK, one),
	O(US, SOL_SOCKET, SO_TIMESTAMPNS, one),
	O(US, SOL_SOCKET, SO_PASSPIDFD, one),
	O(US, SOL_SOCKET, SO_PASSRIGHTS, zero),
	O(US, SOL_SOCKET, SO_RCVTIMEO, tv),
	O(UD, SOL_SOCKET, SO_PASSSEC, one),
	O(UD, SOL_SOCKET, SO_SNDBUF, sndbuf),
	O(UD, SOL_SOCKET, SO_TIMESTAMP_NEW, one),
	O(UD, SOL_SOCKET, SO_RXQ_OVFL, one),
	O(UD, SOL_SOCKET, SO_RCVMARK, one),
	O(UD, SOL_SOCKET, SO_RCVPRIORITY, one),
	O(UD, SOL_SOCKET, SO_DEBUG, one),
	O(UD, SOL_SOCKET, SO_SNDTIMEO, tv),
	O(UD, SOL_SOCKET, SO_LINGER, lg_on),
	O(UD, SOL_SOCKET, SO_LINGER, lg_off),	/* off, and reads { 0, 9 } */
	O(SQ, SOL_SOCKET, SO_PASSCRED, one),
	O(SQ, SOL_SOCKET, SO_RCVBUFFORCE, force),
	O(SQ, SOL_SOCKET, SO_SNDBUFFORCE, force),
	O(SQ, SOL_SOCKET, SO_PEEK_OFF, v7),
	O(LU, SOL_SOCKET, SO_PASSSEC, one),
	O(AC, SOL_SOCKET, SO_PASSCRED, zero),	/* it came on from the listener */
	O(AC, SOL_SOCKET, SO_PASSSEC, zero),
	O(L4, SOL_TCP, TCP_CORK, one),
	O(L4, SOL_SOCKET, SO_NO_CHECK, one),
	O(L4, SOL_SOCKET, SO_RCVBUF, rcvbuf),
	O(L4, SOL_SOCKET, SO_BUF_LOCK, three),
	O(L4, SOL_SOCKET, SO_BINDTODEVICE, "lo"),
	O(L4, SOL_TCP, TCP_KEEPIDLE, keep_idle),
	O(L4, SOL_TCP, TCP_KEEPINTVL, v10),
	O(L4, SOL_TCP, TCP_KEEPCNT, keep_cnt),
	O(L4, SOL_TCP, TCP_SYNCNT, three),
	O(L4, SOL_TCP, TCP_LINGER2, v30),
	O(L4, SOL_TCP, TCP_WINDOW_CLAMP, clamp),
	O(L4, SOL_TCP, TCP_QUICKACK, zero),
	O(L4, SOL_TCP, TCP_FASTOPEN, v5),
	O(L4, SOL_TCP, TCP_NOTSENT_LOWAT, lowat),
	O(L4, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, one),
	O(L4, SOL_TCP, TCP_SAVE_SYN, one),
	O(L4, SOL_TCP, TCP_INQ, one),
	O(L4, SOL_TCP, TCP_TX_DELAY, v10),
	O(L4, SOL_TCP, TCP_MAXSEG, mss),
	O(L4, SOL_TCP, TCP_USER_TIMEOUT, uto),
	O(L4, SOL_TCP, TCP_FASTOPEN_NO_COOKIE, one),
	O(L4, SOL_TCP, TCP_RTO_MAX_MS, rto_max),
	O(L4, SOL_TCP, TCP_RTO_MIN_US, rto_min),
	O(L4, SOL_TCP, TCP_DELACK_MAX_US, delack),
	O(L4, SOL_TCP, TCP_CONGESTION, "reno"),
	O(L4, SOL_IP, IP_TOS, tos),
	O(L4, SOL_IP, IP_TTL, v33),
	O(L4, SOL_IP, IP_RECVERR, one),
	O(L4, SOL_IP, IP_FREEBIND, one),
	O(L4, SOL_IP, IP_TRANSPARENT, one),
	O(L4, SOL_IP, IP_BIND_ADDRESS_NO_PORT, one),
	O(L4, SOL_IP, IP_LOCAL_PORT_RANGE, port_range),
	O(L4, SOL_IP, IP_MINTTL, two),
	O(L4, SOL_IP, IP_MTU_DISCOVER, two),
	O(L4, SOL_SOCKET, SO_MAX_PACING_RATE, pacing),
	O(L4, SOL_SOCKET, SO_INCOMING_CPU, one),
	O(L4, SOL_SOCKET, SO_BUSY_POLL, v10),
	O(L4, SOL_SOCKET, SO_PREFER_BUSY_POLL, one),
	O(L4, SOL_SOCKET, SO_ZEROCOPY, one),
	O(L4, SOL_SOCKET, SO_TXREHASH, zero),
	O(L4, SOL_SOCKET, SO_SELECT_ERR_QUEUE, one),
	O(L4, SOL_SOCKET, SO_LOCK_FILTER, one),
	O(L4, SOL_SOCKET, SO_DONTROUTE, one),
	O(L4, SOL_SOCKET, SO_OOBINLINE, one),
	O(L4, SOL_SOCKET, SO_WIFI_STATUS, one),
	O(L4, SOL_SOCKET, SO_NOFCS, one),
	O(L4, SOL_SOCKET, SO_TIMESTAMPING, ts),
	O(L4, SOL_SOCKET, SO_PEEK_OFF, v5),
	O(L6, SOL_IPV6, IPV6_TCLASS, tclass),
	O(L6, SOL_IPV6, IPV6_UNICAST_HOPS, v17),
	O(L6, SOL_IPV6, IPV6_RECVPKTINFO, one),
	O(L6, SOL_IPV6, IPV6_FREEBIND, one),
	O(L6, SOL_IPV6, IPV6_TRANSPARENT, one),
	O(L6, SOL_IPV6, IPV6_AUTOFLOWLABEL, zero),
	O(L6, SOL_IPV6, IPV6_DONTFRAG, one),
	O(L6, SOL_IPV6, IPV6_RECVTCLASS, one),
	O(L6, SOL_IPV6, IPV6_MTU_DISCOVER, three),
	O(L6, SOL_IPV6, IPV6_MINHOPCOUNT, three),
	O(L6, SOL_IPV6, IPV6_FLOWINFO_SEND, one),
	O(L6, SOL_IPV6, IPV6_RECVERR, one),
	O(L6, SOL_IPV6, IPV6_RECVERR_RFC4884, one),
	O(L6, SOL_IP, IP_TOS, tos),
	O(L6, SOL_SOCKET, SO_NO_CHECK, one),
	O(TC, SOL_TCP, TCP_CORK, one),
	O(TC, SOL_TCP, TCP_FASTOPEN_CONNECT, one),
	O(TC, SOL_TCP, TCP_NODELAY, one),
	O(TC, SOL_SOCKET, SO_KEEPALIVE, one),
	O(TC, SOL_SOCKET, SO_REUSEPORT, one),
	O(TC, SOL_SOCKET, SO_LINGER, lg),
	O(UDP, SOL_UDP, UDP_CORK, one),
	O(UDP, SOL_UDP, UDP_SEGMENT, seg),
	O(UDP, SOL_UDP, UDP_GRO, one),
	O(UDP, SOL_UDP, UDP_NO_CHECK6_TX, one),
	O(UDP, SOL_UDP, UDP_NO_CHECK6_RX, one),
	O(UDP, SOL_SOCKET, SO_BROADCAST, one),
	O(UDP, SOL_SOCKET, SO_NO_CHECK, one),
	O(UDP, SOL_SOCKET, SO_TIMESTAMP, one),
	O(UDP, SOL_IP, IP_MULTICAST_TTL, v5),
	O(UDP, SOL_IP, IP_MULTICAST_LOOP, zero),
	O(UDP, SOL_IP, IP_MULTICAST_ALL, zero),
	O(UDP, SOL_IP, IP_MULTICAST_IF, lo_addr),
	O(UDP, SOL_IP, IP_UNICAST_IF, lo_index_be),
	O(UDP, SOL_IP, IP_PKTINFO, one),
	O(UDP, SOL_IP, IP_RECVTTL, one),
	O(UDP, SOL_IP, IP_RECVTOS, one),
	O(UDP, SOL_IP, IP_RECVOPTS, one),
	O(UDP, SOL_IP, IP_RETOPTS, one),
	O(UDP, SOL_IP, IP_CHECKSUM, one),
	O(UDP, SOL_IP, IP_RECVFRAGSIZE, one),
	O(UDP, SOL_IP, IP_RECVORIGDSTADDR, one),
	O(UDP, SOL_IP, IP_PASSSEC, one),
	O(UDP, SOL_SOCKET, SO_RCVTIMEO, tv),
	O(UDP, SOL_SOCKET, SO_INCOMING_CPU, v100),
	O(U0, SOL_SOCKET, SO_PRIORITY, two),
	O(U0, SOL_IP, IP_TTL, v17),
	O(U6, SOL_IPV6, IPV6_MULTICAST_HOPS, v7),
	O(U6, SOL_IPV6, IPV6_MULTICAST_LOOP, zero),
	O(U6, SOL_IPV6, IPV6_MULTICAST_ALL, zero),
	O(U6, SOL_IPV6, IPV6_MULTICAST_IF, lo_index),
	O(U6, SOL_IPV6, IPV6_UNICAST_IF, lo_index_be),
	O(U6, SOL_IPV6, IPV6_RECVHOPLIMIT, one),
	O(U6, SOL_IPV6, IPV6_RECVHOPOPTS, one),
	O(U6, SOL_IPV6, IPV6_RECVRTHDR, one),
	O(U6, SOL_IPV6, IPV6_RECVDSTOPTS, one),
	O(U6, SOL_IPV6, IPV6_RECVPATHMTU, one),
	O(U6, SOL_IPV6, IPV6_RECVFRAGSIZE, one),
	O(U6, SOL_IPV6, IPV6_RECVORIGDSTADDR, one),
	O(U6, SOL_IPV6, IPV6_2292PKTINFO, one),
	O(U6, SOL_IPV6, IPV6_2292HOPLIMIT, one),
	O(U6, SOL_IPV6, IPV6_2292HOPOPTS, one),
	O(U6, SOL_IPV6, IPV6_2292DSTOPTS, one),
	O(U6, SOL_IPV6, IPV6_2292RTHDR, one),
	O(U6, SOL_IPV6, IPV6_FLOWINFO, one),
	O(U6, SOL_IPV6, IPV6_ROUTER_ALERT_ISOLATE, one),
	O(U6, SOL_IPV6, IPV6_ADDR_PREFERENCES, prefs),
	O(U6, SOL_IPV6, IPV6_V6ONLY, one),
	O(U6, SOL_UDP, UDP_NO_CHECK6_RX, one),
	O(U6, SOL_SOCKET, SO_RCVBUFFORCE, force),
};

/* A unix listener with SO_PASSCRED and SO_PASSSEC on: what it accepts has them on too. */
static void unix_accepted(int *fd)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	socklen_t len;
	int cl;

	snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "criu-e2e-sk-opts-%d", getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1));
	fd[LU] = socket(AF_UNIX, SOCK_STREAM, 0);
	cl = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd[LU] < 0 || cl < 0 || setsockopt(fd[LU], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(fd[LU], SOL_SOCKET, SO_PASSSEC, &one, sizeof(one)) ||
	    bind(fd[LU], (struct sockaddr *)&un, len) || listen(fd[LU], 4) ||
	    connect(cl, (struct sockaddr *)&un, len))
		e2e_fail("unix listener: %s", strerror(errno));
	fd[AC] = accept(fd[LU], NULL, NULL);
	if (fd[AC] < 0)
		e2e_fail("accept: %s", strerror(errno));
}

static void make(int *fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		e2e_fail("socketpair: %s", strerror(errno));
	fd[US] = sv[0];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		e2e_fail("socketpair: %s", strerror(errno));
	fd[SQ] = sv[1];
	unix_accepted(fd);
	fd[UD] = socket(AF_UNIX, SOCK_DGRAM, 0);
	fd[L4] = socket(AF_INET, SOCK_STREAM, 0);
	fd[L6] = socket(AF_INET6, SOCK_STREAM, 0);
	fd[TC] = socket(AF_INET, SOCK_STREAM, 0);
	fd[UDP] = socket(AF_INET, SOCK_DGRAM, 0);
	fd[U0] = socket(AF_INET, SOCK_DGRAM, 0);
	fd[U6] = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd[UD] < 0 || fd[L4] < 0 || fd[L6] < 0 || fd[TC] < 0 || fd[UDP] < 0 || fd[U0] < 0 ||
	    fd[U6] < 0)
		e2e_fail("socket: %s", strerror(errno));
	len = e2e_loopback(&ss, AF_INET, 0);
	if (bind(fd[UDP], (struct sockaddr *)&ss, len) || getsockname(fd[UDP], (struct sockaddr *)&ss, &len) ||
	    connect(fd[UDP], (struct sockaddr *)&ss, len))
		e2e_fail("udp: %s", strerror(errno));
}

static void listen_on(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = e2e_loopback(&ss, family, 0);

	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 8))
		e2e_fail("%s listener: %s", family == AF_INET ? "v4" : "v6", strerror(errno));
}

static int readable(int name)
{
	return name == SO_RCVBUFFORCE ? SO_RCVBUF : name == SO_SNDBUFFORCE ? SO_SNDBUF : name;
}

int main(int argc, char **argv)
{
	char first[160], lost[300] = "";
	struct sockaddr_storage ss;
	socklen_t len;
	int fd[NR_SK], bad = 0;
	size_t i, n;

	e2e_init(argc, argv);
	lo_index = (int)if_nametoindex("lo");
	lo_index_be = (int)htonl((uint32_t)lo_index);
	lo_addr.s_addr = htonl(INADDR_LOOPBACK);
	make(fd);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct opt *o = &opts[i];
		len = o->len;
		if ((o->level == SOL_SOCKET && o->name == SO_BINDTODEVICE) ||
		    (o->level == SOL_TCP && o->name == TCP_CONGESTION))
			len = (socklen_t)strlen(o->val);
		if (setsockopt(fd[o->sk], o->level, o->name, o->val, len))
			e2e_fail("%s: setting %s: %s", sk_name[o->sk], o->str, strerror(errno));
	}
	listen_on(fd[L4], AF_INET);
	listen_on(fd[L6], AF_INET6);
	len = e2e_loopback(&ss, AF_INET6, 0);
	if (bind(fd[U6], (struct sockaddr *)&ss, len))
		e2e_fail("udp6: %s", strerror(errno));
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct opt *o = &opts[i];

		o->was_len = sizeof(o->was);
		if (getsockopt(fd[o->sk], o->level, readable(o->name), o->was, &o->was_len))
			e2e_fail("%s: reading %s: %s", sk_name[o->sk], o->str, strerror(errno));
	}

	e2e_ready();
	e2e_wait_stop();

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct opt *o = &opts[i];
		unsigned char now[64] = { 0 };

		len = sizeof(now);
		if (getsockopt(fd[o->sk], o->level, readable(o->name), now, &len))
			e2e_fail("%s: reading %s after restore: %s", sk_name[o->sk], o->str,
				 strerror(errno));
		if (len == o->was_len && !memcmp(now, o->was, len))
			continue;
		if (!bad++)
			snprintf(first, sizeof(first), "%s: %s was %d (%u bytes), is %d (%u bytes)",
				 sk_name[o->sk], o->str, *(int *)o->was, o->was_len, *(int *)now, len);
		n = strlen(lost);
		snprintf(lost + n, sizeof(lost) - n, " %s", o->str);
	}
	if (bad)
		e2e_fail("%d lost; first %s; all:%s", bad, first, lost);
	e2e_pass();
}
