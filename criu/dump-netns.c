/*
 * Dump: the tree's own network namespace (Documentation/namespaces.md,
 * "Network namespace"; criu/include/netns.h). Every task and thread of the
 * tree is in the root's namespace, which is criu's or one of the tree's
 * own. Of its own one, the links (loopback; veth whose peer is outside),
 * addresses, routes of the main table, permanent neighbours and sysctls go
 * into netns.img; anything else it holds that is not carried is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <linux/fib_rules.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/pkt_sched.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "image.h"
#include "netns.h"
#include "net-sysctl.h"
#include "sockets.h"

static int tree_nsfd = -1;	/* the tree's namespace while a dump runs */

static int ns_stat(const char *path, struct stat *st)
{
	if (stat(path, st)) {
		pr_perror("cannot stat %s", path);
		return -1;
	}
	return 0;
}

/* Every thread of every live task in the namespace @root. */
static int same_ns_everywhere(const struct dump_tree *tr, const struct stat *root)
{
	char path[64];
	struct stat st;
	size_t i;
	int k;

	for (i = 0; i < tr->nr; i++) {
		const struct dump_task *t = tr->t[i];

		for (k = 0; !t->zombie && k < t->nr_tids; k++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/net", t->pid, t->tids[k]);
			if (ns_stat(path, &st))
				return -1;
			if (st.st_ino != root->st_ino || st.st_dev != root->st_dev) {
				pr_err("%d (thread %d) is in another network namespace than the tree's root %d: not supported yet",
				       t->pid, t->tids[k], tr->t[0]->pid);
				return -1;
			}
		}
	}
	return 0;
}

static int add_link(NetnsEntry *e, struct rtnl_link *l)
{
	const char *kind = rtnl_link_get_type(l), *name = rtnl_link_get_name(l);
	unsigned int flags = rtnl_link_get_flags(l);
	struct nl_addr *a = rtnl_link_get_addr(l);
	NetLink *n;
	int32_t nsid;

	if (rtnl_link_get_master(l)) {
		pr_err("link %s is enslaved to another link (a bridge or bond port): not supported yet", name);
		return -1;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -1;
	net_link__init(n);
	e->links[e->n_links++] = n;
	n->ifindex = (uint32_t)rtnl_link_get_ifindex(l);
	n->name = strdup(name);
	if (!n->name)
		return -1;
	if (!kind && (flags & IFF_LOOPBACK) && n->ifindex == 1) {
		n->kind = NETNS_LINK_LO;
	} else if (kind && !strcmp(kind, "veth") && !rtnl_link_get_link_netnsid(l, &nsid)) {
		n->kind = NETNS_LINK_VETH;
		n->has_peer_ifindex = n->has_peer_nsid = true;
		n->peer_ifindex = (uint32_t)rtnl_link_get_link(l);
		n->peer_nsid = nsid;
	} else {
		pr_err("link %s of kind %s%s: not supported yet", name, kind ? kind : "none",
		       kind && !strcmp(kind, "veth") ? " with its peer in the namespace too" : "");
		return -1;
	}
	n->mtu = rtnl_link_get_mtu(l);
	n->flags = flags;
	n->txqlen = rtnl_link_get_txqlen(l);
	if (a && nl_addr_get_len(a)) {
		n->has_address = true;
		n->address.len = nl_addr_get_len(a);
		n->address.data = malloc(n->address.len);
		if (!n->address.data)
			return -1;
		memcpy(n->address.data, nl_addr_get_binary_addr(a), n->address.len);
	}
	return netns_knobs_read(&netns_conf4, name, &n->conf4, &n->n_conf4) ||
	       netns_knobs_read(&netns_conf6, name, &n->conf6, &n->n_conf6);
}

static int collect_links(struct nl_sock *sk, NetnsEntry *e)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int err, ret = 0;

	err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (err < 0) {
		pr_err("cannot list the namespace's links: %s", nl_geterror(err));
		return -1;
	}
	if (nl_cache_nitems(cache) > NETNS_MAX_LINKS) {
		pr_err("%d links: more than %d are not supported yet", nl_cache_nitems(cache),
		       NETNS_MAX_LINKS);
		ret = -1;
	}
	e->links = calloc(NETNS_MAX_LINKS, sizeof(*e->links));
	if (!e->links)
		ret = -1;
	for (o = nl_cache_get_first(cache); !ret && o; o = nl_cache_get_next(o))
		ret = add_link(e, (struct rtnl_link *)o);
	nl_cache_free(cache);
	if (!ret && (!e->n_links || e->links[0]->kind != NETNS_LINK_LO)) {
		pr_err("the namespace's first link is not its loopback");
		ret = -1;
	}
	return ret;
}

/* The attribute @type of message @h with header size @hdr, or NULL. */
static const struct rtattr *find_attr(const struct nlmsghdr *h, size_t hdr, int type)
{
	const struct rtattr *a = (const void *)((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr));
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(hdr));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == type)
			return a;
	return NULL;
}

#define FOR_EACH_MSG(h, buf, len) \
	for (h = (const struct nlmsghdr *)(buf); NLMSG_OK(h, (len) - ((const uint8_t *)h - (buf))); \
	     h = (const struct nlmsghdr *)((const uint8_t *)h + NLMSG_ALIGN(h->nlmsg_len)))

/* Addresses are carried with their flags; one that expires would not expire at the same time. */
static int check_addrs(const uint8_t *buf, size_t len)
{
	const struct nlmsghdr *h;

	FOR_EACH_MSG(h, buf, len) {
		const struct rtattr *a = find_attr(h, sizeof(struct ifaddrmsg), IFA_CACHEINFO);
		const struct ifa_cacheinfo *ci = a && RTA_PAYLOAD(a) >= sizeof(*ci) ? RTA_DATA(a) : NULL;

		if (ci && ci->ifa_valid != 0xffffffffu) {
			pr_err("an address of link %u with a limited lifetime (%u s left): not supported yet",
			       ((const struct ifaddrmsg *)NLMSG_DATA(h))->ifa_index, ci->ifa_valid);
			return -1;
		}
	}
	return 0;
}

/* The kernel's own routes come back with the addresses; the main table's others are carried. */
static int check_routes(const uint8_t *buf, size_t len)
{
	const struct nlmsghdr *h;

	FOR_EACH_MSG(h, buf, len) {
		const struct rtmsg *m = NLMSG_DATA(h);
		const struct rtattr *t = find_attr(h, sizeof(*m), RTA_TABLE);
		uint32_t table = t && RTA_PAYLOAD(t) == 4 ? *(const uint32_t *)RTA_DATA(t) : m->rtm_table;

		if (m->rtm_protocol == RTPROT_KERNEL)
			continue;
		if (table != RT_TABLE_MAIN || m->rtm_protocol == RTPROT_RA ||
		    m->rtm_protocol == RTPROT_REDIRECT || find_attr(h, sizeof(*m), RTA_EXPIRES) ||
		    find_attr(h, sizeof(*m), RTA_MULTIPATH) || find_attr(h, sizeof(*m), RTA_NH_ID)) {
			pr_err("a route in table %u (protocol %u, to /%u) that is not the main table's, expires, has several next hops or a nexthop object: not supported yet",
			       table, m->rtm_protocol, m->rtm_dst_len);
			return -1;
		}
	}
	return 0;
}

/* Only the rules a new namespace has: local, main (and default for IPv4). */
static int check_rules(struct nl_sock *sk, int family)
{
	const struct nlmsghdr *h;
	uint8_t *buf;
	size_t len;
	int ret = 0;

	if (nl_dump_raw(sk, RTM_GETRULE, family, &buf, &len))
		return -1;
	FOR_EACH_MSG(h, buf, len) {
		const struct fib_rule_hdr *r = NLMSG_DATA(h);
		const struct rtattr *p = find_attr(h, sizeof(*r), FRA_PRIORITY);
		uint32_t prio = p && RTA_PAYLOAD(p) == 4 ? *(const uint32_t *)RTA_DATA(p) : 0;
		bool dflt = r->action == FR_ACT_TO_TBL && !r->src_len && !r->dst_len && !r->tos &&
			    !r->flags && !find_attr(h, sizeof(*r), FRA_IIFNAME) &&
			    !find_attr(h, sizeof(*r), FRA_OIFNAME) && !find_attr(h, sizeof(*r), FRA_FWMARK) &&
			    ((prio == 0 && r->table == RT_TABLE_LOCAL) ||
			     (prio == 32766 && r->table == RT_TABLE_MAIN) ||
			     (prio == 32767 && r->table == RT_TABLE_DEFAULT && family == AF_INET));

		if (!dflt) {
			pr_err("a policy routing rule (priority %u, table %u): not supported yet", prio,
			       r->table);
			ret = -1;
			break;
		}
	}
	free(buf);
	return ret;
}

/* Permanent neighbours only: the rest is the kernel's cache. */
static void keep_permanent(uint8_t *buf, size_t *len)
{
	size_t off = 0, out = 0;

	while (*len - off >= NLMSG_HDRLEN) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);
		const struct ndmsg *m = NLMSG_DATA(h);
		size_t n = NLMSG_ALIGN(h->nlmsg_len);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || h->nlmsg_len > *len - off)
			break;
		if (n > *len - off)
			n = *len - off;
		if (m->ndm_state == NUD_PERMANENT) {
			memmove(buf + out, h, n);
			out += n;
		}
		off += n;
	}
	*len = out;
}

/* Traffic control: the links' own "noqueue" only. */
static int check_qdiscs(struct nl_sock *sk)
{
	const struct nlmsghdr *h;
	uint8_t *buf;
	size_t len;
	int ret = 0;

	if (nl_dump_raw(sk, RTM_GETQDISC, AF_UNSPEC, &buf, &len))
		return -1;
	FOR_EACH_MSG(h, buf, len) {
		const struct tcmsg *t = NLMSG_DATA(h);
		const struct rtattr *k = find_attr(h, sizeof(*t), TCA_KIND);
		const char *kind = k ? RTA_DATA(k) : "";

		if (!k || RTA_PAYLOAD(k) != sizeof("noqueue") || strcmp(kind, "noqueue")) {
			pr_err("a %.16s qdisc on link %d: traffic control is not supported yet",
			       k ? kind : "nameless", t->tcm_ifindex);
			ret = -1;
			break;
		}
	}
	free(buf);
	return ret;
}

/* Firewall rules: no nf_tables table, no legacy iptables table. */
static int check_firewall(void)
{
	static const char *const legacy[] = { "ip_tables_names", "ip6_tables_names", "arp_tables_names" };
	struct nl_sock *sk = nl_socket_proto(-1, NETLINK_NETFILTER);
	char path[64], c;
	uint8_t *buf = NULL;
	size_t len = 0, i;
	int fd, ret = -1;

	if (!sk || nl_dump_raw(sk, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETTABLE, AF_UNSPEC, &buf, &len))
		goto out;
	if (len) {
		pr_err("the namespace has nf_tables tables: firewall rules are not supported yet");
		goto out;
	}
	for (i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
		snprintf(path, sizeof(path), "/proc/thread-self/net/%s", legacy[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && read(fd, &c, 1) == 1) {
			pr_err("the namespace has legacy %s tables: firewall rules are not supported yet", legacy[i]);
			close(fd);
			goto out;
		}
		if (fd >= 0)
			close(fd);
	}
	ret = 0;
out:
	free(buf);
	if (sk)
		nl_socket_free(sk);
	return ret;
}

static int dump_stream(struct nl_sock *sk, int type, int family, ProtobufCBinaryData *b)
{
	b->data = NULL;
	b->len = 0;
	return nl_dump_raw(sk, type, family, &b->data, &b->len);
}

static int collect_tables(struct nl_sock *sk, NetnsEntry *e)
{
	e->has_addrs = e->has_routes4 = e->has_routes6 = e->has_neighs = true;
	if (dump_stream(sk, RTM_GETADDR, AF_UNSPEC, &e->addrs) || check_addrs(e->addrs.data, e->addrs.len) ||
	    dump_stream(sk, RTM_GETROUTE, AF_INET, &e->routes4) ||
	    check_routes(e->routes4.data, e->routes4.len) ||
	    dump_stream(sk, RTM_GETROUTE, AF_INET6, &e->routes6) ||
	    check_routes(e->routes6.data, e->routes6.len) ||
	    check_rules(sk, AF_INET) || check_rules(sk, AF_INET6) ||
	    dump_stream(sk, RTM_GETNEIGH, AF_UNSPEC, &e->neighs) || check_qdiscs(sk))
		return -1;
	keep_permanent(e->neighs.data, &e->neighs.len);
	return 0;
}

static int collect_knobs(NetnsEntry *e)
{
	const char *names[NETNS_MAX_LINKS];
	size_t i;

	if (netns_knobs_read(&netns_conf4, "all", &e->all4, &e->n_all4) ||
	    netns_knobs_read(&netns_conf4, "default", &e->def4, &e->n_def4) ||
	    netns_knobs_read(&netns_conf6, "all", &e->all6, &e->n_all6) ||
	    netns_knobs_read(&netns_conf6, "default", &e->def6, &e->n_def6) ||
	    netns_knobs_read(&netns_unix, NULL, &e->unix_conf, &e->n_unix_conf) ||
	    netns_knobs_read(&netns_ipv4, NULL, &e->ipv4_sysctl, &e->n_ipv4_sysctl))
		return -1;
	for (i = 0; i < e->n_links; i++)
		names[i] = e->links[i]->name;
	return netns_knobs_unchanged(names, e->n_links);
}

/* In the tree's namespace: everything it holds, or a refusal. */
static int collect(NetnsEntry *e)
{
	struct nl_sock *sk = nl_route_socket(-1);
	int ret;

	if (!sk)
		return -1;
	ret = collect_links(sk, e) || collect_tables(sk, e) || check_firewall() || collect_knobs(e);
	nl_socket_free(sk);
	return ret ? -1 : 0;
}

static int write_netns(const struct dump_tree *tr, const NetnsEntry *e)
{
	struct cr_img *img = img_create(tr->dirfd, IMG_NETNS, 0);

	if (!img)
		return -1;
	if (img_write_entry(img, &e->base)) {
		img_abort(img);
		return -1;
	}
	return img_commit(img);
}

int dump_netns_check(struct dump_tree *tr)
{
	struct stat self, root;
	NetnsEntry *e;
	char path[64];
	int saved = -1, ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", tr->t[0]->pid);
	if (ns_stat("/proc/thread-self/ns/net", &self) || ns_stat(path, &root) ||
	    same_ns_everywhere(tr, &root))
		return -1;
	if (self.st_ino == root.st_ino && self.st_dev == root.st_dev)
		return 0;
	tr->netns = true;
	pr_info("the tree of %d has a network namespace of its own", tr->t[0]->pid);
	tree_nsfd = open(path, O_RDONLY | O_CLOEXEC);
	e = calloc(1, sizeof(*e));
	if (tree_nsfd < 0 || !e) {
		pr_perror("cannot open %s", path);
		free(e);
		return -1;
	}
	netns_entry__init(e);
	if (!netns_switch(tree_nsfd, &saved)) {
		ret = collect(e);
		if (netns_back(&saved))
			ret = -1;
	}
	if (!ret)
		ret = write_netns(tr, e);
	netns_entry__free_unpacked(e, NULL);
	/* the tree's sockets are asked about in its namespace */
	if (!ret)
		sk_diag_netns(tree_nsfd);
	return ret;
}

void dump_netns_release(void)
{
	sk_diag_netns(-1);
	if (tree_nsfd >= 0)
		close(tree_nsfd);
	tree_nsfd = -1;
}
