/*
 * Multicast group memberships, on lo (--image-ext: the established format
 * has none):
 *   an IPv4 UDP socket in 224.1.2.3 (IP_ADD_MEMBERSHIP, any source), in
 *   224.1.2.4 from 127.0.0.1 and 127.0.0.2 only (IP_ADD_SOURCE_MEMBERSHIP,
 *   the interface named by its address), in 224.1.2.5 but for 10.0.0.1
 *   (IP_BLOCK_SOURCE);
 *   an IPv6 UDP socket in ff05::1234 (IPV6_ADD_MEMBERSHIP), in ff05::99
 *   from ::1 only (MCAST_JOIN_SOURCE_GROUP) and in the IPv4 group
 *   224.1.2.6 (SOL_IP on an IPv6 socket).
 * After restore each membership reads back the same (MCAST_MSFILTER: mode
 * and sources, in order), and a group never joined is not joined.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "e2e.h"

#define MAXSRC	4

struct member {
	int		fd, level;
	const char	*group;
	uint32_t	mode;
	const char	*src[MAXSRC];
};

static void ss_of(struct sockaddr_storage *ss, const char *ip)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		ss->ss_family = AF_INET6;
		inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)ss)->sin6_addr);
	} else {
		ss->ss_family = AF_INET;
		inet_pton(AF_INET, ip, &((struct sockaddr_in *)ss)->sin_addr);
	}
}

/* The membership reads back as @m has it; -1: not joined (EADDRNOTAVAIL). */
static int check(const struct member *m, const char *what)
{
	union {
		struct group_filter gf;
		char b[GROUP_FILTER_SIZE(MAXSRC)];
	} u;
	socklen_t len = sizeof(u);
	struct sockaddr_storage want;
	uint32_t i, n = 0;

	while (n < MAXSRC && m->src[n])
		n++;
	memset(&u, 0, sizeof(u));
	u.gf.gf_interface = 1;
	ss_of(&u.gf.gf_group, m->group);
	u.gf.gf_numsrc = MAXSRC;
	if (getsockopt(m->fd, m->level, MCAST_MSFILTER, &u, &len)) {
		if (errno == EADDRNOTAVAIL)
			return -1;
		e2e_fail("%s: MCAST_MSFILTER %s: %s", what, m->group, strerror(errno));
	}
	if (u.gf.gf_fmode != m->mode || u.gf.gf_numsrc != n)
		e2e_fail("%s: %s: mode %u with %u sources, not %u with %u", what, m->group,
			 u.gf.gf_fmode, u.gf.gf_numsrc, m->mode, n);
	for (i = 0; i < n; i++) {
		ss_of(&want, m->src[i]);
		if (memcmp(&u.gf.gf_slist[i], &want, sizeof(want)))
			e2e_fail("%s: %s: source %u is not %s", what, m->group, i, m->src[i]);
	}
	return 0;
}

static void set(int fd, int level, int opt, const void *v, socklen_t len, const char *what)
{
	if (setsockopt(fd, level, opt, v, len))
		e2e_fail("%s: %s", what, strerror(errno));
}

int main(int argc, char **argv)
{
	int s4 = socket(AF_INET, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct ip_mreqn mr = { .imr_ifindex = 1 };
	struct ip_mreq_source ms;
	struct ipv6_mreq m6 = { .ipv6mr_interface = 1 };
	struct group_source_req gs = { .gsr_interface = 1 };
	struct group_req gr = { .gr_interface = 1 };
	struct member want[] = {
		{ s4, SOL_IP, "224.1.2.3", MCAST_EXCLUDE, { NULL } },
		{ s4, SOL_IP, "224.1.2.4", MCAST_INCLUDE, { "127.0.0.1", "127.0.0.2", NULL } },
		{ s4, SOL_IP, "224.1.2.5", MCAST_EXCLUDE, { "10.0.0.1", NULL } },
		{ s6, SOL_IPV6, "ff05::1234", MCAST_EXCLUDE, { NULL } },
		{ s6, SOL_IPV6, "ff05::99", MCAST_INCLUDE, { "::1", NULL } },
		{ s6, SOL_IP, "224.1.2.6", MCAST_EXCLUDE, { NULL } },
	};
	const struct member never = { s4, SOL_IP, "224.1.2.7", 0, { NULL } };
	size_t i;

	e2e_init(argc, argv);
	if (s4 < 0 || s6 < 0)
		e2e_fail("socket: %s", strerror(errno));
	inet_pton(AF_INET, "224.1.2.3", &mr.imr_multiaddr);
	set(s4, SOL_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr), "IP_ADD_MEMBERSHIP");
	memset(&ms, 0, sizeof(ms));
	inet_pton(AF_INET, "224.1.2.4", &ms.imr_multiaddr);
	inet_pton(AF_INET, "127.0.0.1", &ms.imr_interface);
	inet_pton(AF_INET, "127.0.0.1", &ms.imr_sourceaddr);
	set(s4, SOL_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof(ms), "IP_ADD_SOURCE_MEMBERSHIP");
	inet_pton(AF_INET, "127.0.0.2", &ms.imr_sourceaddr);
	set(s4, SOL_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof(ms), "IP_ADD_SOURCE_MEMBERSHIP 2");
	inet_pton(AF_INET, "224.1.2.5", &mr.imr_multiaddr);
	set(s4, SOL_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr), "IP_ADD_MEMBERSHIP 5");
	inet_pton(AF_INET, "224.1.2.5", &ms.imr_multiaddr);
	inet_pton(AF_INET, "10.0.0.1", &ms.imr_sourceaddr);
	set(s4, SOL_IP, IP_BLOCK_SOURCE, &ms, sizeof(ms), "IP_BLOCK_SOURCE");
	inet_pton(AF_INET6, "ff05::1234", &m6.ipv6mr_multiaddr);
	set(s6, SOL_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof(m6), "IPV6_ADD_MEMBERSHIP");
	ss_of(&gs.gsr_group, "ff05::99");
	ss_of(&gs.gsr_source, "::1");
	set(s6, SOL_IPV6, MCAST_JOIN_SOURCE_GROUP, &gs, sizeof(gs), "MCAST_JOIN_SOURCE_GROUP");
	ss_of(&gr.gr_group, "224.1.2.6");
	set(s6, SOL_IP, MCAST_JOIN_GROUP, &gr, sizeof(gr), "MCAST_JOIN_GROUP v4 on v6");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (check(&want[i], "before"))
			e2e_fail("before: %s not joined", want[i].group);

	e2e_ready();
	e2e_wait_stop();

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (check(&want[i], "after"))
			e2e_fail("after: %s not joined", want[i].group);
	if (check(&never, "after") != -1)
		e2e_fail("after: a group never joined is joined");
	e2e_pass();
}
