/*
 * Netlink sockets:
 *   - a NETLINK_USERSOCK socket bound (port picked by the kernel) to groups
 *     3 and 5 with NETLINK_PKTINFO set, and a second one bound and
 *     connected to group 5: after restore the second sends without an
 *     address and the first receives it, the group told by NETLINK_PKTINFO;
 *   - a NETLINK_ROUTE socket (SOCK_DGRAM) connected to the kernel, joined
 *     to a group below and one above 32 (ADD_MEMBERSHIP) with
 *     NETLINK_EXT_ACK set: after restore it keeps port, groups and option
 *     and a RTM_GETLINK dump sent without an address is answered whole.
 * The options and SOCK_DGRAM have no field in the established format
 * (--image-ext); with "plain" the sockets have none of them and the dump
 * goes through the established format alone.
 */
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "e2e.h"

#define GROUP_LOW	14	/* RTNLGRP_DECnet_ROUTE: nobody sends there */
#define GROUP_HIGH	34

struct nl_state {
	unsigned int	port;
	unsigned int	groups[4];
};

static int nl(int type, int proto)
{
	int fd = socket(AF_NETLINK, type, proto);

	if (fd < 0)
		e2e_fail("socket(AF_NETLINK, %d): %s", proto, strerror(errno));
	return fd;
}

static void nl_bind(int fd, unsigned int groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = groups };

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		e2e_fail("bind: %s", strerror(errno));
}

static void nl_connect(int fd, unsigned int groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = groups };

	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		e2e_fail("connect: %s", strerror(errno));
}

static void setint(int fd, int level, int opt, int v)
{
	if (setsockopt(fd, level, opt, &v, sizeof(v)))
		e2e_fail("setsockopt(%d, %d): %s", level, opt, strerror(errno));
}

static int getint(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, level, opt, &v, &len))
		e2e_fail("getsockopt(%d, %d): %s", level, opt, strerror(errno));
	return v;
}

static void state_of(int fd, struct nl_state *s)
{
	struct sockaddr_nl a;
	socklen_t len = sizeof(a), glen = sizeof(s->groups);

	memset(s, 0, sizeof(*s));
	if (getsockname(fd, (struct sockaddr *)&a, &len) ||
	    getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, s->groups, &glen))
		e2e_fail("port or groups: %s", strerror(errno));
	s->port = a.nl_pid;
}

static void same_state(int fd, const struct nl_state *was, const char *what)
{
	struct nl_state now;

	state_of(fd, &now);
	if (now.port != was->port || memcmp(now.groups, was->groups, sizeof(now.groups)))
		e2e_fail("%s: port %u (was %u) or groups %#x %#x (were %#x %#x) changed", what,
			 now.port, was->port, now.groups[0], now.groups[1], was->groups[0],
			 was->groups[1]);
}

/* The sender's message to group 5, through the receiver, with its group. */
static void check_multicast(int rx, int tx, int pktinfo)
{
	struct {
		struct nlmsghdr h;
		char		text[8];
	} m = { { sizeof(m), NLMSG_MIN_TYPE, 0, 1, 0 }, "to-five" }, got;
	char ctl[CMSG_SPACE(sizeof(struct nl_pktinfo))];
	struct iovec iov = { &got, sizeof(got) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;

	/* the group gets it; port 0, which the socket is connected to too, has no taker */
	if (send(tx, &m, sizeof(m), 0) != sizeof(m) && errno != ECONNREFUSED)
		e2e_fail("send to group 5: %s", strerror(errno));
	if (recvmsg(rx, &mh, 0) != sizeof(m) || memcmp(got.text, "to-five", 8))
		e2e_fail("no message from group 5: %s", strerror(errno));
	c = CMSG_FIRSTHDR(&mh);
	if (!pktinfo && !c)
		return;
	if (!c || c->cmsg_level != SOL_NETLINK || c->cmsg_type != NETLINK_PKTINFO ||
	    ((struct nl_pktinfo *)CMSG_DATA(c))->group != 5)
		e2e_fail("NETLINK_PKTINFO does not say group 5");
}

/* A link dump asked without an address: answered until NLMSG_DONE. */
static void check_route(int fd)
{
	struct {
		struct nlmsghdr	h;
		struct ifinfomsg i;
	} req = { { sizeof(req), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 7, 0 }, { 0 } };
	static char buf[65536];
	int links = 0;

	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		e2e_fail("RTM_GETLINK: %s", strerror(errno));
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n <= 0)
			e2e_fail("route answer: %s", strerror(errno));
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE && links)
				return;
			if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_seq != 7)
				e2e_fail("route answer of type %u", h->nlmsg_type);
			links++;
		}
	}
}

int main(int argc, char **argv)
{
	int plain = argc > 2 && !strcmp(argv[1], "plain");
	int rx, tx, rt, g = GROUP_HIGH;
	struct nl_state srx, stx, srt;
	char *args[] = { argv[0], argv[argc - 1], NULL };

	e2e_init(2, args);
	rx = nl(SOCK_RAW, NETLINK_USERSOCK);
	tx = nl(SOCK_RAW, NETLINK_USERSOCK);
	rt = nl(plain ? SOCK_RAW : SOCK_DGRAM, NETLINK_ROUTE);
	nl_bind(rx, 1u << 2 | 1u << 4);
	if (!plain)
		setint(rx, SOL_NETLINK, NETLINK_PKTINFO, 1);
	nl_bind(tx, 0);
	nl_connect(tx, 1u << 4);
	nl_connect(rt, 0);
	setint(rt, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, GROUP_LOW);
	setint(rt, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g);
	if (!plain)
		setint(rt, SOL_NETLINK, NETLINK_EXT_ACK, 1);
	state_of(rx, &srx);
	state_of(tx, &stx);
	state_of(rt, &srt);

	e2e_ready();
	e2e_wait_stop();

	same_state(rx, &srx, "receiver");
	same_state(tx, &stx, "sender");
	same_state(rt, &srt, "route socket");
	if (getint(rt, SOL_NETLINK, NETLINK_EXT_ACK) != !plain ||
	    getint(rt, SOL_SOCKET, SO_TYPE) != (plain ? SOCK_RAW : SOCK_DGRAM))
		e2e_fail("NETLINK_EXT_ACK or the type lost");
	if (getint(rx, SOL_NETLINK, NETLINK_PKTINFO) != !plain)
		e2e_fail("NETLINK_PKTINFO lost");
	check_multicast(rx, tx, !plain);
	check_route(rt);
	e2e_pass();
}
