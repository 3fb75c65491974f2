/*
 * Packet sockets (AF_PACKET):
 *   - a raw socket bound to lo for ethertype 0x88b5 with a classic filter
 *     that takes only frames carrying this process's mark, PACKET_VERSION,
 *     _RESERVE, _AUXDATA, _ORIGDEV, _LOSS, _TIMESTAMP, the copy threshold,
 *     SO_RCVBUF, and a multicast membership on lo (an address made from the
 *     pid) plus an allmulti one;
 *   - an unbound SOCK_DGRAM socket (protocol 0, O_NONBLOCK): the sender;
 *   - two raw sockets for ethertype 0x88b6 on lo in one fanout group
 *     (load balancing, id from the pid).
 * After restore every option reads back as before, sock_diag shows the same
 * copy threshold and memberships (with their counts), the address is on
 * lo's multicast list once, a frame without the mark is filtered out, one
 * with it is received, and a frame to 0x88b6 reaches one of the fanout pair.
 * Without "plain" the sockets also have what the established format has no
 * field for (--image-ext): the raw socket made with protocol 0 and bound to
 * 0x88b5 after, SO_LOCK_FILTER, PACKET_QDISC_BYPASS, the allmulti
 * membership added twice, fanout flag DEFRAG, PACKET_VNET_HDR on one member.
 */
#include <poll.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

#include "e2e.h"

#define ETH_RAW		0x88b5
#define ETH_FAN		0x88b6
#define NOPT		13

static const struct { int level, name; } opts[NOPT] = {
	{ SOL_SOCKET, SO_PROTOCOL }, { SOL_SOCKET, SO_TYPE }, { SOL_SOCKET, SO_RCVBUF },
	{ SOL_SOCKET, SO_LOCK_FILTER }, { SOL_PACKET, PACKET_VERSION },
	{ SOL_PACKET, PACKET_RESERVE }, { SOL_PACKET, PACKET_AUXDATA },
	{ SOL_PACKET, PACKET_ORIGDEV }, { SOL_PACKET, PACKET_LOSS },
	{ SOL_PACKET, PACKET_TIMESTAMP }, { SOL_PACKET, PACKET_QDISC_BYPASS },
	{ SOL_PACKET, PACKET_VNET_HDR }, { SOL_PACKET, PACKET_FANOUT },
};

struct pk_state {
	int		opt[NOPT];
	int		ifindex, proto, flags;
	socklen_t	filter;	/* instructions */
};

static int ifindex_lo;

static void setint(int fd, int level, int opt, int v)
{
	if (setsockopt(fd, level, opt, &v, sizeof(v)))
		e2e_fail("setsockopt(%d, %d, %d): %s", level, opt, v, strerror(errno));
}

static void state_of(int fd, struct pk_state *s)
{
	struct sockaddr_ll a;
	socklen_t len = sizeof(a);
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < NOPT; i++) {
		socklen_t l = sizeof(int);

		if (getsockopt(fd, opts[i].level, opts[i].name, &s->opt[i], &l))
			e2e_fail("getsockopt(%d, %d): %s", opts[i].level, opts[i].name,
				 strerror(errno));
	}
	if (getsockname(fd, (struct sockaddr *)&a, &len))
		e2e_fail("getsockname: %s", strerror(errno));
	s->ifindex = a.sll_ifindex;
	s->proto = a.sll_protocol;
	s->flags = fcntl(fd, F_GETFL);
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &s->filter))
		s->filter = 0;
}

static void same_state(int fd, const struct pk_state *was, const char *what)
{
	struct pk_state now;
	int i;

	state_of(fd, &now);
	for (i = 0; i < NOPT; i++)
		if (now.opt[i] != was->opt[i])
			e2e_fail("%s: option %d:%d reads %d, was %d", what, opts[i].level,
				 opts[i].name, now.opt[i], was->opt[i]);
	if (now.ifindex != was->ifindex || now.proto != was->proto || now.flags != was->flags ||
	    now.filter != was->filter)
		e2e_fail("%s: ifindex %d, protocol %#x, flags %#x, filter %u; were %d, %#x, %#x, %u",
			 what, now.ifindex, now.proto, now.flags, now.filter, was->ifindex,
			 was->proto, was->flags, was->filter);
}

static int pk(int type, int proto)
{
	int fd = socket(AF_PACKET, type, htons(proto));

	if (fd < 0)
		e2e_fail("socket(AF_PACKET, %d, %#x): %s", type, proto, strerror(errno));
	return fd;
}

static void pk_bind(int fd, int proto)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				 .sll_ifindex = ifindex_lo };

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		e2e_fail("bind to lo: %s", strerror(errno));
}

static void join(int fd, int type, const unsigned char *addr)
{
	struct packet_mreq mr = { .mr_ifindex = ifindex_lo, .mr_type = (unsigned short)type };

	if (addr) {
		mr.mr_alen = ETH_ALEN;
		memcpy(mr.mr_address, addr, ETH_ALEN);
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		e2e_fail("PACKET_ADD_MEMBERSHIP %d: %s", type, strerror(errno));
}

/* Accept the frame when the word after the Ethernet header is @mark. */
static void filter(int fd, uint32_t mark)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ETH_HLEN),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mark, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = 4, .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		e2e_fail("SO_ATTACH_FILTER: %s", strerror(errno));
}

static void send_frame(int tx, int proto, uint32_t mark)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				 .sll_ifindex = ifindex_lo, .sll_halen = ETH_ALEN };
	uint32_t body[8] = { htonl(mark) };

	if (sendto(tx, body, sizeof(body), 0, (struct sockaddr *)&a, sizeof(a)) != sizeof(body))
		e2e_fail("send to %#x on lo: %s", proto, strerror(errno));
}

/* The next frame on one of @fds (5 s at most; @skip: a virtio header first): its index. */
static int recv_frame(const int *fds, int n, uint32_t mark, const int *skip)
{
	struct pollfd p[2] = { { .fd = fds[0], .events = POLLIN }, { .fd = n > 1 ? fds[1] : -1,
								     .events = POLLIN } };
	unsigned char buf[256];
	uint32_t got;
	int i;

	if (poll(p, 2, 5000) <= 0)
		e2e_fail("no frame for mark %#x: %s", mark, strerror(errno));
	for (i = 0; i < n; i++) {
		if (!(p[i].revents & POLLIN))
			continue;
		if (recv(fds[i], buf, sizeof(buf), 0) < ETH_HLEN + skip[i] + 4)
			e2e_fail("short frame: %s", strerror(errno));
		memcpy(&got, buf + skip[i] + ETH_HLEN, sizeof(got));
		if (ntohl(got) != mark)
			e2e_fail("frame with mark %#x, not %#x: the filter let it through",
				 ntohl(got), mark);
		return i;
	}
	e2e_fail("poll without a frame");
}

/* sock_diag's copy threshold and memberships (type, count) of packet socket @fd. */
static void diag_of(int fd, uint32_t *thresh, uint32_t *mc, int nmc)
{
	struct {
		struct nlmsghdr		h;
		struct packet_diag_req	r;
	} req = { { sizeof(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 },
		  { .sdiag_family = AF_PACKET, .pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MCLIST } };
	static char buf[65536];
	struct stat st;
	int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), found = 0;

	if (nl < 0 || fstat(fd, &st) || send(nl, &req, sizeof(req), 0) != sizeof(req))
		e2e_fail("sock_diag: %s", strerror(errno));
	memset(mc, 0, (size_t)nmc * 2 * sizeof(*mc));
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n <= 0)
			e2e_fail("sock_diag answer: %s", strerror(errno));
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct packet_diag_msg *m = NLMSG_DATA(h);
			struct rtattr *a = (struct rtattr *)(m + 1);
			int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));

			if (h->nlmsg_type == NLMSG_DONE) {
				close(nl);
				if (!found)
					e2e_fail("sock_diag does not list the raw socket");
				return;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || m->pdiag_ino != st.st_ino)
				continue;
			found = 1;
			for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
				struct packet_diag_mclist *l = RTA_DATA(a);
				int i;

				if (a->rta_type == PACKET_DIAG_INFO)
					*thresh = ((struct packet_diag_info *)RTA_DATA(a))->pdi_copy_thresh;
				if (a->rta_type != PACKET_DIAG_MCLIST)
					continue;
				for (i = 0; i < nmc && (size_t)(i + 1) * sizeof(*l) <= RTA_PAYLOAD(a); i++) {
					mc[2 * i] = l[i].pdmc_type;
					mc[2 * i + 1] = l[i].pdmc_count;
				}
			}
		}
	}
}

/* lo's multicast list has @addr with one user. */
static void check_mcast(const unsigned char *addr)
{
	char want[13], line[256], name[32], hex[64];
	FILE *f = fopen("/proc/net/dev_mcast", "r");
	int idx, users, gl, found = 0;

	snprintf(want, sizeof(want), "%02x%02x%02x%02x%02x%02x", addr[0], addr[1], addr[2],
		 addr[3], addr[4], addr[5]);
	if (!f)
		e2e_fail("/proc/net/dev_mcast: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %31s %d %d %63s", &idx, name, &users, &gl, hex) == 5 &&
		    !strcmp(name, "lo") && !strcmp(hex, want))
			found = users;
	fclose(f);
	if (found != 1)
		e2e_fail("lo's multicast list has %s with %d users, not 1", want, found);
}

int main(int argc, char **argv)
{
	int plain = argc > 2 && !strcmp(argv[1], "plain");
	char *args[] = { argv[0], argv[argc - 1], NULL };
	uint32_t mark = 0x5a000000u | (uint32_t)getpid();
	unsigned char mc[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x7f, (unsigned char)(getpid() >> 8),
				       (unsigned char)getpid() };
	int fan_id = getpid() & 0xffff, fan = PACKET_FANOUT_LB | (plain ? 0 : PACKET_FANOUT_FLAG_DEFRAG);
	struct pk_state s_raw, s_tx, s_f0, s_f1;
	uint32_t thresh, mcl[8], thresh_now, mcl_now[8];
	int raw, tx, f[2], i, skip[2] = { 0, 0 };

	e2e_init(2, args);
	ifindex_lo = (int)if_nametoindex("lo");
	if (!ifindex_lo)
		e2e_fail("no lo: %s", strerror(errno));
	raw = pk(SOCK_RAW, plain ? ETH_RAW : 0);
	filter(raw, mark);
	setint(raw, SOL_PACKET, PACKET_VERSION, TPACKET_V2);
	setint(raw, SOL_PACKET, PACKET_RESERVE, 64);
	setint(raw, SOL_PACKET, PACKET_AUXDATA, 1);
	setint(raw, SOL_PACKET, PACKET_ORIGDEV, 1);
	setint(raw, SOL_PACKET, PACKET_LOSS, 1);
	setint(raw, SOL_PACKET, PACKET_TIMESTAMP, SOF_TIMESTAMPING_SOFTWARE);
	setint(raw, SOL_PACKET, PACKET_COPY_THRESH, 1);
	setint(raw, SOL_SOCKET, SO_RCVBUF, 1 << 18);
	pk_bind(raw, ETH_RAW);
	join(raw, PACKET_MR_MULTICAST, mc);
	join(raw, PACKET_MR_ALLMULTI, NULL);
	if (!plain) {
		join(raw, PACKET_MR_ALLMULTI, NULL);
		setint(raw, SOL_SOCKET, SO_LOCK_FILTER, 1);
		setint(raw, SOL_PACKET, PACKET_QDISC_BYPASS, 1);
	}
	tx = pk(SOCK_DGRAM, 0);
	fcntl(tx, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 2; i++) {
		f[i] = pk(SOCK_RAW, ETH_FAN);
		pk_bind(f[i], ETH_FAN);
		setint(f[i], SOL_PACKET, PACKET_FANOUT, fan_id | fan << 16);
	}
	if (!plain)
		setint(f[1], SOL_PACKET, PACKET_VNET_HDR, 1);
	state_of(raw, &s_raw);
	state_of(tx, &s_tx);
	state_of(f[0], &s_f0);
	state_of(f[1], &s_f1);
	diag_of(raw, &thresh, mcl, 4);
	if (thresh != 1 || !mcl[1] || !mcl[3])
		e2e_fail("setup: copy threshold %u, memberships %u x%u, %u x%u", thresh, mcl[0],
			 mcl[1], mcl[2], mcl[3]);

	e2e_ready();
	e2e_wait_stop();

	same_state(raw, &s_raw, "raw socket");
	same_state(tx, &s_tx, "dgram socket");
	same_state(f[0], &s_f0, "fanout member 0");
	same_state(f[1], &s_f1, "fanout member 1");
	check_mcast(mc);
	diag_of(raw, &thresh_now, mcl_now, 4);
	if (thresh_now != thresh || memcmp(mcl, mcl_now, sizeof(mcl)))
		e2e_fail("copy threshold %u (was %u) or memberships %u x%u, %u x%u (were %u x%u, "
			 "%u x%u) changed", thresh_now, thresh, mcl_now[0], mcl_now[1], mcl_now[2],
			 mcl_now[3], mcl[0], mcl[1], mcl[2], mcl[3]);
	send_frame(tx, ETH_RAW, mark ^ 1);	/* filtered out */
	send_frame(tx, ETH_RAW, mark);
	recv_frame(&raw, 1, mark, skip);
	send_frame(tx, ETH_FAN, mark);
	skip[1] = plain ? 0 : 10;	/* sizeof(struct virtio_net_hdr) */
	recv_frame(f, 2, mark, skip);
	e2e_pass();
}
