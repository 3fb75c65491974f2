/*
 * Sockets the dump must refuse, leaving the process and the socket as
 * they were ("sk_refuse MODE RESULT"):
 *   rights    an epoll set in flight (SCM_RIGHTS) in a unix queue: a kind not
 *             carried in flight
 *   pending   a unix listener with a connection not accepted yet, data sent on it
 *   tcp       a TCP listener with a connection not accepted yet
 *   udp       a UDP socket with a datagram queued
 *   udppktinfo a UDP socket with IP_PKTINFO on and a datagram queued (its
 *             ancillary data cannot be sent again)
 *   udpdisc   a UDP socket with a datagram queued, disconnected from the port
 *             connect() bound it to (in no table sock_diag walks)
 *   netlink   a netlink socket holding a message it has not read
 *   packet    a packet socket bound to lo holding a frame it has not read
 *   packetring a packet socket with a TPACKET_V3 RX ring, mapped, a frame in it
 *   sockpacket a SOCK_PACKET socket (the obsolete type), protocol 0
 *   rawq      a raw socket (protocol 253) holding a packet it has not read
 *   rawtcp    a raw socket of protocol TCP
 *   self      a unix datagram socket connected to itself
 *   oob       a unix stream socket with an out-of-band byte queued
 *   dgnamed   a datagram queued on a bound unix socket by a bound sender
 *   udpcork   a UDP socket corked (UDP_CORK) with a datagram not sent yet
 *   udpmore   a UDP socket holding data sent with MSG_MORE
 *   udperr    a connected UDP socket with an error pending (ECONNREFUSED)
 *   unixerr   a unix stream socket whose peer closed with data unread (ECONNRESET)
 *   unixdgerr a unix datagram pair, one end disconnected with a datagram unread
 *             (ECONNRESET on the other)
 *   dgpeergone a unix datagram socket connected to a bound socket closed since
 *             (its next send fails with ECONNREFUSED, later ones ENOTCONN)
 *   encap     a UDP socket with UDP_ENCAP set
 *   repair    a closed TCP socket in repair mode (TCP_REPAIR)
 *   ipopts    a UDP socket with IP options (IP_OPTIONS)
 *   v6hop     a UDPv6 socket with a sticky hop-by-hop options header
 *   filter    a UDP socket with an eBPF socket filter attached (SO_ATTACH_BPF)
 *   zerocopy  a UDP socket with SO_ZEROCOPY on (its counter is unreadable)
 *   tsoptid   a UDP socket with SO_TIMESTAMPING's OPT_ID (likewise)
 *   md5       a TCP listener with a TCP_MD5SIG key
 *   mcast     a UDP socket, member of the group 224.1.2.3 on lo
 *   mcast6    a UDP socket, member of the group ff05::1234 on lo
 * After the refused dump the process checks the state is intact.
 */
#include <poll.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/sockios.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <linux/netlink.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>

#include "e2e.h"

static int fds[4];

static void send_fd(int sock, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "f", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &mh, 0) != 1)
		e2e_fail("sendmsg: %s", strerror(errno));
}

static int recv_fd(int sock)
{
	char ctl[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &mh, MSG_DONTWAIT) != 1 || !(c = CMSG_FIRSTHDR(&mh)) ||
	    c->cmsg_type != SCM_RIGHTS)
		e2e_fail("the descriptor in flight is lost");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static socklen_t lo(struct sockaddr_in *a)
{
	*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return sizeof(*a);
}

#define ETH_QUEUED	0x88b7

/* packet: a frame to ETH_QUEUED on lo, received and not read; packetring: in a mapped ring. */
static void setup_packet(const char *mode)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_QUEUED),
				 .sll_ifindex = (int)if_nametoindex("lo"), .sll_halen = 6 };
	struct tpacket_req3 r = { .tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048,
				  .tp_frame_nr = 4, .tp_retire_blk_tov = 10 };
	struct pollfd p = { .events = POLLIN };
	int v3 = TPACKET_V3;

	if (!strcmp(mode, "sockpacket")) {
		fds[0] = socket(AF_PACKET, SOCK_PACKET, 0);
		if (fds[0] < 0)
			e2e_fail("setup: %s", strerror(errno));
		return;
	}
	if (!strcmp(mode, "packetring")) {
		fds[0] = socket(AF_PACKET, SOCK_RAW, 0);
		if (fds[0] < 0 || setsockopt(fds[0], SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) ||
		    setsockopt(fds[0], SOL_PACKET, PACKET_RX_RING, &r, sizeof(r)) ||
		    mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0) == MAP_FAILED)
			e2e_fail("setup: %s", strerror(errno));
	} else {
		fds[0] = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_QUEUED));
	}
	fds[1] = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (fds[0] < 0 || fds[1] < 0 || bind(fds[0], (struct sockaddr *)&a, sizeof(a)) ||
	    sendto(fds[1], "frame", 5, 0, (struct sockaddr *)&a, sizeof(a)) != 5)
		e2e_fail("setup: %s", strerror(errno));
	p.fd = fds[0];
	if (poll(&p, 1, 5000) != 1)
		e2e_fail("setup: the frame does not come back on lo");
}

static void setup(const char *mode)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in a;
	socklen_t len = lo(&a);
	int sv[2], p[2];

	snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "criu-e2e-refuse-%d", getpid());
	if (!strcmp(mode, "rights")) {
		p[0] = epoll_create1(0);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || p[0] < 0)
			e2e_fail("setup: %s", strerror(errno));
		send_fd(sv[0], p[0]);
		close(p[0]);
		fds[0] = sv[1];
	} else if (!strcmp(mode, "pending") || !strcmp(mode, "acceptgone")) {
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1));
		fds[0] = socket(AF_UNIX, SOCK_STREAM, 0);
		fds[1] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(fds[0], (struct sockaddr *)&un, len) || listen(fds[0], 1) ||
		    connect(fds[1], (struct sockaddr *)&un, len))
			e2e_fail("setup: %s", strerror(errno));
		if (!strcmp(mode, "pending") && write(fds[1], "x", 1) != 1)
			e2e_fail("setup: %s", strerror(errno));
		if (!strcmp(mode, "acceptgone")) {
			/* accepted from a listener closed since: its name is no one's in the dump */
			p[0] = fds[0];
			fds[0] = accept(p[0], NULL, NULL);
			if (fds[0] < 0)
				e2e_fail("accept: %s", strerror(errno));
			close(p[0]);
		}
	} else if (!strcmp(mode, "dgpeergone")) {
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1));
		p[0] = socket(AF_UNIX, SOCK_DGRAM, 0);
		fds[0] = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (bind(p[0], (struct sockaddr *)&un, len) ||
		    connect(fds[0], (struct sockaddr *)&un, len))
			e2e_fail("setup: %s", strerror(errno));
		close(p[0]);
	} else if (!strcmp(mode, "tcp") || !strcmp(mode, "udp")) {
		int type = mode[0] == 't' ? SOCK_STREAM : SOCK_DGRAM;

		fds[0] = socket(AF_INET, type, 0);
		fds[1] = socket(AF_INET, type, 0);
		if (bind(fds[0], (struct sockaddr *)&a, len) || (type == SOCK_STREAM && listen(fds[0], 1)) ||
		    getsockname(fds[0], (struct sockaddr *)&a, &len) ||
		    connect(fds[1], (struct sockaddr *)&a, len) ||
		    (type == SOCK_DGRAM && send(fds[1], "dgram", 5, 0) != 5))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "udppktinfo")) {
		struct pollfd in = { .events = POLLIN };
		int one = 1;

		in.fd = fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		fds[1] = socket(AF_INET, SOCK_DGRAM, 0);
		if (setsockopt(fds[0], SOL_IP, IP_PKTINFO, &one, sizeof(one)) ||
		    bind(fds[0], (struct sockaddr *)&a, len) ||
		    getsockname(fds[0], (struct sockaddr *)&a, &len) ||
		    sendto(fds[1], "dgram", 5, 0, (struct sockaddr *)&a, len) != 5 ||
		    poll(&in, 1, 10000) != 1)
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "udpdisc")) {
		struct sockaddr unspec = { .sa_family = AF_UNSPEC };
		struct pollfd in = { .events = POLLIN };

		in.fd = fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		fds[1] = socket(AF_INET, SOCK_DGRAM, 0);
		if (bind(fds[1], (struct sockaddr *)&a, len) ||
		    getsockname(fds[1], (struct sockaddr *)&a, &len) ||
		    connect(fds[0], (struct sockaddr *)&a, len) ||
		    getsockname(fds[0], (struct sockaddr *)&a, &len) ||
		    sendto(fds[1], "dgram", 5, 0, (struct sockaddr *)&a, len) != 5 ||
		    poll(&in, 1, 10000) != 1 || connect(fds[0], &unspec, sizeof(unspec)))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "udpcork") || !strcmp(mode, "udpmore")) {
		int one = 1, cork = mode[3] == 'c';

		fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		if (bind(fds[0], (struct sockaddr *)&a, len) || getsockname(fds[0], (struct sockaddr *)&a, &len) ||
		    connect(fds[0], (struct sockaddr *)&a, len) ||
		    (cork && setsockopt(fds[0], SOL_UDP, UDP_CORK, &one, sizeof(one))) ||
		    send(fds[0], "corked", 6, cork ? 0 : MSG_MORE) != 6)
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "unixdgerr")) {
		struct sockaddr unspec = { .sa_family = AF_UNSPEC };

		/* the end that goes away had a datagram unread: the other is told */
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) || write(sv[1], "x", 1) != 1 ||
		    connect(sv[0], &unspec, sizeof(unspec)))
			e2e_fail("setup: %s", strerror(errno));
		fds[0] = sv[1];
	} else if (!strcmp(mode, "unixerr")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || write(sv[0], "unread", 6) != 6 ||
		    close(sv[1]))
			e2e_fail("setup: %s", strerror(errno));
		fds[0] = sv[0];
	} else if (!strcmp(mode, "udperr")) {
		struct pollfd pfd;
		int gone = socket(AF_INET, SOCK_DGRAM, 0);

		/* a port nobody listens on: the datagram comes back as ICMP unreachable */
		if (gone < 0 || bind(gone, (struct sockaddr *)&a, len) ||
		    getsockname(gone, (struct sockaddr *)&a, &len) || close(gone))
			e2e_fail("setup: %s", strerror(errno));
		fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		if (connect(fds[0], (struct sockaddr *)&a, len) || send(fds[0], "x", 1, 0) != 1)
			e2e_fail("setup: %s", strerror(errno));
		pfd = (struct pollfd){ .fd = fds[0] };
		if (poll(&pfd, 1, 5000) != 1 || !(pfd.revents & POLLERR))
			e2e_fail("setup: no error came back");
	} else if (!strcmp(mode, "encap") || !strcmp(mode, "ipopts")) {
		static const unsigned char nops[4] = { 1, 1, 1, 0 };
		int espinudp = 2;

		fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		if (mode[0] == 'e' ? setsockopt(fds[0], SOL_UDP, UDP_ENCAP, &espinudp, sizeof(espinudp)) :
				     setsockopt(fds[0], SOL_IP, IP_OPTIONS, nops, sizeof(nops)))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "mcast")) {
		struct ip_mreqn mr = { .imr_ifindex = 1 };

		mr.imr_multiaddr.s_addr = htonl(0xe0010203);
		fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		if (setsockopt(fds[0], SOL_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "mcast6")) {
		struct ipv6_mreq mr = { .ipv6mr_interface = 1 };

		inet_pton(AF_INET6, "ff05::1234", &mr.ipv6mr_multiaddr);
		fds[0] = socket(AF_INET6, SOCK_DGRAM, 0);
		if (setsockopt(fds[0], SOL_IPV6, IPV6_ADD_MEMBERSHIP, &mr, sizeof(mr)))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "md5")) {
		struct tcp_md5sig md5 = { .tcpm_keylen = 6 };

		memcpy(&md5.tcpm_addr, &a, sizeof(a));
		memcpy(md5.tcpm_key, "secret", 6);
		fds[0] = socket(AF_INET, SOCK_STREAM, 0);
		if (setsockopt(fds[0], SOL_TCP, TCP_MD5SIG, &md5, sizeof(md5)) ||
		    bind(fds[0], (struct sockaddr *)&a, len) || listen(fds[0], 1))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "v6hop")) {
		/* next header, length 0 (8 bytes), a PadN option of 4 bytes */
		static const unsigned char hop[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };

		fds[0] = socket(AF_INET6, SOCK_DGRAM, 0);
		if (setsockopt(fds[0], SOL_IPV6, IPV6_HOPOPTS, hop, sizeof(hop)))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "zerocopy") || !strcmp(mode, "tsoptid")) {
		struct so_timestamping ts = { SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_TX_SOFTWARE |
					      SOF_TIMESTAMPING_SOFTWARE, 0 };
		int one = 1;

		fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		if (mode[0] == 'z' ? setsockopt(fds[0], SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) :
				     setsockopt(fds[0], SOL_SOCKET, SO_TIMESTAMPING, &ts, sizeof(ts)))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "filter")) {
		/* r0 = 0xffff; exit: the whole packet, in eBPF */
		struct bpf_insn code[] = {
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0xffff },
			{ .code = BPF_JMP | BPF_EXIT },
		};
		union bpf_attr at = { .prog_type = BPF_PROG_TYPE_SOCKET_FILTER, .insn_cnt = 2,
				      .insns = (uintptr_t)code, .license = (uintptr_t)"GPL" };
		int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &at, sizeof(at));

		fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		if (prog < 0 || setsockopt(fds[0], SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog)))
			e2e_fail("setup: %s", strerror(errno));
		close(prog);
	} else if (!strcmp(mode, "repair")) {
		int one = 1;

		fds[0] = socket(AF_INET, SOCK_STREAM, 0);
		if (setsockopt(fds[0], SOL_TCP, TCP_REPAIR, &one, sizeof(one)))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "dgnamed")) {
		struct sockaddr_un me = un;

		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1));
		me.sun_path[1] ^= 1;	/* another abstract name */
		fds[0] = socket(AF_UNIX, SOCK_DGRAM, 0);
		fds[1] = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (bind(fds[0], (struct sockaddr *)&un, len) || bind(fds[1], (struct sockaddr *)&me, len) ||
		    sendto(fds[1], "named", 5, 0, (struct sockaddr *)&un, len) != 5)
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "oob")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || send(sv[0], "ab", 2, 0) != 2 ||
		    send(sv[0], "!", 1, MSG_OOB) != 1)
			e2e_fail("setup: %s", strerror(errno));
		fds[0] = sv[1];
	} else if (!strcmp(mode, "self")) {
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1));
		fds[0] = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (bind(fds[0], (struct sockaddr *)&un, len) ||
		    connect(fds[0], (struct sockaddr *)&un, len))
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strcmp(mode, "rawq")) {
		fds[0] = socket(AF_INET, SOCK_RAW, 253);
		fds[1] = socket(AF_INET, SOCK_RAW, 253);
		if (bind(fds[0], (struct sockaddr *)&a, len) ||
		    sendto(fds[1], "raw", 3, 0, (struct sockaddr *)&a, len) != 3)
			e2e_fail("setup: %s", strerror(errno));
	} else if (!strncmp(mode, "packet", 6) || !strcmp(mode, "sockpacket")) {
		setup_packet(mode);
	} else if (!strcmp(mode, "rawtcp")) {
		fds[0] = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
		if (fds[0] < 0)
			e2e_fail("setup: %s", strerror(errno));
	} else {
		struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
		socklen_t nlen = sizeof(nl);
		struct nlmsghdr h = { sizeof(h), NLMSG_MIN_TYPE, 0, 1, 0 };

		fds[0] = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
		fds[1] = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
		if (fds[0] < 0 || fds[1] < 0 || bind(fds[0], (struct sockaddr *)&nl, nlen) ||
		    getsockname(fds[0], (struct sockaddr *)&nl, &nlen) ||
		    sendto(fds[1], &h, sizeof(h), 0, (struct sockaddr *)&nl, nlen) != sizeof(h))
			e2e_fail("netlink: %s", strerror(errno));
	}
}

static void check(const char *mode)
{
	char buf[64];
	int fd;

	if (!strcmp(mode, "dgpeergone")) {
		if (send(fds[0], "x", 1, MSG_DONTWAIT) != -1 || errno != ECONNREFUSED)
			e2e_fail("first send after the peer closed: %s, not ECONNREFUSED",
				 strerror(errno));
		if (send(fds[0], "x", 1, MSG_DONTWAIT) != -1 || errno != ENOTCONN)
			e2e_fail("second send: %s, not ENOTCONN", strerror(errno));
	} else if (!strcmp(mode, "rights")) {
		struct epoll_event ev;

		fd = recv_fd(fds[0]);
		if (epoll_wait(fd, &ev, 1, 0) != 0)
			e2e_fail("the epoll set sent across is not one: %s", strerror(errno));
	} else if (!strcmp(mode, "pending") || !strcmp(mode, "tcp")) {
		fd = accept(fds[0], NULL, NULL);
		if (fd < 0 || write(fds[1], "x", 1) != 1 || read(fd, buf, 1) != 1)
			e2e_fail("the pending connection is lost: %s", strerror(errno));
	} else if (!strcmp(mode, "udp") || !strcmp(mode, "udpdisc")) {
		if (recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "dgram", 5))
			e2e_fail("the queued datagram is lost");
	} else if (!strcmp(mode, "udpcork") || !strcmp(mode, "udpmore")) {
		int zero = 0;

		if (ioctl(fds[0], SIOCOUTQ, &zero) || zero <= 0)
			e2e_fail("the corked data is gone");
		zero = 0;
		if (mode[3] == 'c')
			setsockopt(fds[0], SOL_UDP, UDP_CORK, &zero, sizeof(zero));
		else
			send(fds[0], "!", 1, 0);
		if (recv(fds[0], buf, sizeof(buf), 0) < 6 || memcmp(buf, "corked", 6))
			e2e_fail("the corked datagram did not arrive");
	} else if (!strcmp(mode, "unixerr") || !strcmp(mode, "unixdgerr")) {
		if (read(fds[0], buf, 1) != -1 || errno != ECONNRESET)
			e2e_fail("the pending ECONNRESET is lost");
	} else if (!strcmp(mode, "udperr")) {
		int err = 0;
		socklen_t elen = sizeof(err);

		if (getsockopt(fds[0], SOL_SOCKET, SO_ERROR, &err, &elen) || err != ECONNREFUSED)
			e2e_fail("the pending error is %d, not ECONNREFUSED", err);
	} else if (!strcmp(mode, "md5")) {
		struct tcp_md5sig md5 = { .tcpm_keylen = 0 };

		/* deleting the key for 127.0.0.1 fails if there is none */
		lo((struct sockaddr_in *)&md5.tcpm_addr);
		if (setsockopt(fds[0], SOL_TCP, TCP_MD5SIG, &md5, sizeof(md5)))
			e2e_fail("the TCP_MD5SIG key is gone: %s", strerror(errno));
	} else if (!strcmp(mode, "mcast")) {
		struct ip_mreqn mr = { .imr_ifindex = 1 };

		mr.imr_multiaddr.s_addr = htonl(0xe0010203);
		if (setsockopt(fds[0], SOL_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)))
			e2e_fail("the membership is gone: %s", strerror(errno));
	} else if (!strcmp(mode, "mcast6")) {
		struct ipv6_mreq mr = { .ipv6mr_interface = 1 };

		inet_pton(AF_INET6, "ff05::1234", &mr.ipv6mr_multiaddr);
		if (setsockopt(fds[0], SOL_IPV6, IPV6_DROP_MEMBERSHIP, &mr, sizeof(mr)))
			e2e_fail("the membership is gone: %s", strerror(errno));
	} else if (!strcmp(mode, "zerocopy") || !strcmp(mode, "tsoptid")) {
		int v[2] = { 0, 0 };
		socklen_t vlen = sizeof(v);

		if (getsockopt(fds[0], SOL_SOCKET, mode[0] == 'z' ? SO_ZEROCOPY : SO_TIMESTAMPING, v,
			       &vlen) || !v[0])
			e2e_fail("the option is gone");
	} else if (!strcmp(mode, "filter")) {
		socklen_t flen = 0;

		/* an eBPF filter has no classic program to give back */
		if (!getsockopt(fds[0], SOL_SOCKET, SO_GET_FILTER, NULL, &flen) || errno != EACCES)
			e2e_fail("the socket filter is gone");
	} else if (!strcmp(mode, "encap") || !strcmp(mode, "ipopts") || !strcmp(mode, "repair") ||
		   !strcmp(mode, "v6hop")) {
		int level = mode[0] == 'e' ? SOL_UDP : mode[0] == 'i' ? SOL_IP :
			    mode[0] == 'v' ? SOL_IPV6 : SOL_TCP;
		int name = mode[0] == 'e' ? UDP_ENCAP : mode[0] == 'i' ? IP_OPTIONS :
			   mode[0] == 'v' ? IPV6_HOPOPTS : TCP_REPAIR;
		char v[40] = { 0 };
		socklen_t vlen = sizeof(v);

		if (getsockopt(fds[0], level, name, v, &vlen) || !vlen || !(v[0] | v[2]))
			e2e_fail("the option is gone");
	} else if (!strcmp(mode, "dgnamed")) {
		if (recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "named", 5))
			e2e_fail("the queued datagram is lost");
	} else if (!strcmp(mode, "oob")) {
		if (recv(fds[0], buf, 1, MSG_OOB) != 1 || buf[0] != '!' || recv(fds[0], buf, 2, 0) != 2)
			e2e_fail("the out-of-band byte or the data is lost");
	} else if (!strcmp(mode, "acceptgone")) {
		struct sockaddr_un un;
		socklen_t len = sizeof(un);

		if (getsockname(fds[0], (struct sockaddr *)&un, &len) ||
		    len <= offsetof(struct sockaddr_un, sun_path) || write(fds[1], "x", 1) != 1 ||
		    read(fds[0], buf, 1) != 1)
			e2e_fail("the accepted socket lost its name or its peer: %s", strerror(errno));
	} else if (!strcmp(mode, "rawq")) {
		if (recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT) != 20 + 3 || memcmp(buf + 20, "raw", 3))
			e2e_fail("the raw socket lost its packet");
	} else if (!strcmp(mode, "self")) {
		if (send(fds[0], "me", 2, 0) != 2 || recv(fds[0], buf, sizeof(buf), 0) != 2)
			e2e_fail("the self-connected socket no longer talks to itself");
	} else if (!strcmp(mode, "packet")) {
		if (recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT) < 5 || memcmp(buf, "frame", 5))
			e2e_fail("the packet socket lost its frame");
	} else if (!strcmp(mode, "netlink")) {
		if (recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT) != sizeof(struct nlmsghdr))
			e2e_fail("the netlink socket lost its message");
	} else if (fcntl(fds[0], F_GETFD) < 0) {
		e2e_fail("the socket is gone");
	}
}

int main(int argc, char **argv)
{
	char *args[] = { argv[0], argv[argc - 1], NULL };
	const char *mode = argc > 2 ? argv[1] : "";

	e2e_init(2, args);
	setup(mode);
	e2e_ready();
	e2e_wait_stop();
	check(mode);
	e2e_pass();
}
