/*
 * Unit tests for the checks of netns.img (criu/netns-img.c): an entry with
 * links and knobs, message streams (whole, cut, of another kind, naming an
 * unknown link, misaligned), the outside names of veths, --external.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "netns.h"
#include "options.h"
#include "unit.h"

static NetLink lo, veth;
static NetLink *links[2];
static NetSysctl k_int, k_text;
static NetSysctl *knobs6[64];
static uint8_t mac[6] = { 2, 0, 0, 0x77, 0, 2 };

/* A good entry: lo and a veth, eth0's IPv6 knobs up to stable_secret. */
static void good(NetnsEntry *e)
{
	size_t i;

	netns_entry__init(e);
	net_link__init(&lo);
	lo.ifindex = 1, lo.name = "lo", lo.kind = NETNS_LINK_LO, lo.mtu = 65536, lo.txqlen = 1000;
	net_link__init(&veth);
	veth.ifindex = 5, veth.name = "eth0", veth.kind = NETNS_LINK_VETH, veth.mtu = 1400;
	veth.txqlen = 1000, veth.has_address = true, veth.address.len = 6, veth.address.data = mac;
	net_sysctl__init(&k_int);
	k_int.has_iarg = true, k_int.iarg = 33;
	net_sysctl__init(&k_text);
	k_text.sarg = "fd00::1";
	for (i = 0; i < netns_conf6.nr; i++)
		knobs6[i] = strcmp(netns_conf6.names[i], "stable_secret") ? &k_int : &k_text;
	veth.conf6 = knobs6, veth.n_conf6 = netns_conf6.nr;
	links[0] = &lo, links[1] = &veth;
	e->links = links, e->n_links = 2;
}

static int test_entry(void)
{
	NetnsEntry e;
	size_t i;

	good(&e);
	CHECK(netns_entry_check(&e) == 0);
	veth.name = "eth/0";
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	veth.name = "a-name-far-too-long";
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	veth.ifindex = 1;	/* a second link of index 1 */
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	veth.kind = 7;
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	veth.mtu = 10;
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	veth.address.len = 5;
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	links[0] = &veth, links[1] = &lo;	/* the loopback not first */
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	veth.n_conf6 = netns_conf6.nr + 1;	/* more knobs than names */
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	for (i = 0; i < netns_conf6.nr; i++)
		knobs6[i] = &k_text;	/* text where a number belongs */
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	k_text.sarg = "two\nlines";
	CHECK(netns_entry_check(&e) == -1);
	good(&e);
	e.addrs.len = NETNS_STREAM_MAX + 1;
	CHECK(netns_entry_check(&e) == -1);
	return 0;
}

/* An RTM_NEWADDR of @family on link @ifindex at @p; its aligned length. */
static size_t put_addr(uint8_t *p, int family, uint32_t ifindex)
{
	struct nlmsghdr *h = (struct nlmsghdr *)p;
	struct ifaddrmsg *m = NLMSG_DATA(h);
	struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(sizeof(*m)));
	size_t alen = family == AF_INET ? 4 : 16;

	memset(p, 0, NLMSG_SPACE(sizeof(*m)) + RTA_SPACE(alen));
	h->nlmsg_type = RTM_NEWADDR;
	h->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m)) + RTA_LENGTH(alen));
	m->ifa_family = family;
	m->ifa_prefixlen = family == AF_INET ? 24 : 64;
	m->ifa_index = ifindex;
	a->rta_type = IFA_ADDRESS;
	a->rta_len = RTA_LENGTH(alen);
	return NLMSG_ALIGN(h->nlmsg_len);
}

static int test_streams(void)
{
	uint32_t words[256];
	uint8_t *buf = (uint8_t *)words;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	NetnsEntry e;
	size_t n;

	good(&e);
	n = put_addr(buf, AF_INET, 5);
	n += put_addr(buf + n, AF_INET6, 1);
	CHECK(netns_stream_check(buf, n, RTM_NEWADDR, &e, "addrs") == 0);
	CHECK(netns_stream_check(buf, 0, RTM_NEWADDR, &e, "addrs") == 0);
	CHECK(netns_stream_check(buf, n - 1, RTM_NEWADDR, &e, "addrs") == -1);	/* cut */
	CHECK(netns_stream_check(buf, n, RTM_NEWROUTE, &e, "routes4") == -1);	/* another kind */
	CHECK(netns_stream_check(buf + 4, 8, RTM_NEWADDR, &e, "addrs") == -1);	/* a bare header */
	memmove(buf + 1, buf, n);
	CHECK(netns_stream_check(buf + 1, n, RTM_NEWADDR, &e, "addrs") == -1);	/* misaligned */
	n = put_addr(buf, AF_INET, 9);	/* no such link */
	CHECK(netns_stream_check(buf, n, RTM_NEWADDR, &e, "addrs") == -1);
	n = put_addr(buf, AF_INET, 5);
	((struct ifaddrmsg *)NLMSG_DATA(h))->ifa_prefixlen = 33;
	CHECK(netns_stream_check(buf, n, RTM_NEWADDR, &e, "addrs") == -1);
	n = put_addr(buf, AF_INET, 5);
	((struct rtattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct ifaddrmsg))))->rta_len = 200;
	CHECK(netns_stream_check(buf, n, RTM_NEWADDR, &e, "addrs") == -1);	/* attribute overruns */
	n = put_addr(buf, AF_INET, 5);
	h->nlmsg_len = 0x7fffffff;
	CHECK(netns_stream_check(buf, n, RTM_NEWADDR, &e, "addrs") == -1);
	return 0;
}

static int test_routes_neighs(void)
{
	uint32_t words[64] = { 0 };
	struct nlmsghdr *h = (struct nlmsghdr *)words;
	struct rtmsg *r = NLMSG_DATA(h);
	struct ndmsg *nd = NLMSG_DATA(h);
	struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(sizeof(*r)));
	NetnsEntry e;

	good(&e);
	h->nlmsg_type = RTM_NEWROUTE;
	h->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*r)) + RTA_LENGTH(4));
	r->rtm_family = AF_INET, r->rtm_dst_len = 16;
	a->rta_type = RTA_OIF, a->rta_len = RTA_LENGTH(4);
	*(uint32_t *)RTA_DATA(a) = 5;
	CHECK(netns_stream_check((uint8_t *)words, h->nlmsg_len, RTM_NEWROUTE, &e, "routes4") == 0);
	CHECK(netns_stream_check((uint8_t *)words, h->nlmsg_len, RTM_NEWROUTE, &e, "routes6") == -1);
	*(uint32_t *)RTA_DATA(a) = 6;	/* out through an unknown link */
	CHECK(netns_stream_check((uint8_t *)words, h->nlmsg_len, RTM_NEWROUTE, &e, "routes4") == -1);
	memset(words, 0, sizeof(words));
	h->nlmsg_type = RTM_NEWNEIGH;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*nd));
	nd->ndm_family = AF_INET, nd->ndm_ifindex = 5, nd->ndm_state = NUD_PERMANENT;
	CHECK(netns_stream_check((uint8_t *)words, h->nlmsg_len, RTM_NEWNEIGH, &e, "neighs") == 0);
	nd->ndm_state = NUD_REACHABLE;	/* the kernel's cache is never carried */
	CHECK(netns_stream_check((uint8_t *)words, h->nlmsg_len, RTM_NEWNEIGH, &e, "neighs") == -1);
	return 0;
}

static int test_outside(void)
{
	char *pairs[] = { "eth1=host1", "eth0=host0" }, *ext[] = { "veth[eth2]:host2", "veth[x]:" };
	struct cr_options o;
	char buf[32];

	memset(&o, 0, sizeof(o));
	o.veth_pair.v = pairs, o.veth_pair.n = 2;
	o.external.v = ext, o.external.n = 1;
	CHECK_STR(netns_veth_outside(&o, "eth0", buf, sizeof(buf)), "host0");
	CHECK_STR(netns_veth_outside(&o, "eth2", buf, sizeof(buf)), "host2");
	CHECK(netns_veth_outside(&o, "eth", buf, sizeof(buf)) == NULL);
	CHECK(netns_veth_outside(&o, "eth3", buf, sizeof(buf)) == NULL);
	CHECK(netns_external_check(&o, true) == 0);
	CHECK(netns_external_check(&o, false) == -1);	/* nothing external at dump */
	o.external.n = 2;
	CHECK(netns_external_check(&o, true) == -1);	/* no outside name */
	ext[1] = "mnt[a]:b";
	CHECK(netns_external_check(&o, true) == -1);
	return 0;
}

static int setup(void)
{
	log_init(NULL, NULL, LOG_NONE);
	return 0;
}

static const struct unit_case cases[] = {
	{ "quiet logging", setup },
	{ "netns.img: links and knobs", test_entry },
	{ "netns.img: address streams", test_streams },
	{ "netns.img: route and neighbour streams", test_routes_neighs },
	{ "veth outside names, --external", test_outside },
};

UNIT_MAIN(cases)
