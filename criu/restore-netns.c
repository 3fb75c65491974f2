/*
 * Restore: the tree's own network namespace (Documentation/namespaces.md,
 * "Network namespace"; criu/include/netns.h). criu moves into a new
 * namespace right before it forks the root, builds it there (links with
 * their old indexes, knobs, addresses, links up, routes, neighbours) and
 * goes back once the root is forked: every task, and every socket a task
 * opens, is in the new namespace. A veth's outside end is made in criu's
 * namespace under the name --veth-pair or --external veth[] gives it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "action.h"
#include "image.h"
#include "netns.h"
#include "net-sysctl.h"
#include "options.h"

enum { S_ADDRS, S_ROUTES4, S_ROUTES6, S_NEIGHS, S_NR };

static struct {
	NetnsEntry *e;			/* checked */
	uint8_t *stream[S_NR];		/* aligned copies of its message streams */
	size_t len[S_NR];
	char (*outside)[IFNAMSIZ];	/* per link: a veth's outside name */
	char (*bridge)[IFNAMSIZ];	/* and the bridge it joins ("": none) */
	int criu_ns;			/* criu's namespace while in the new one */
	bool weak;			/* --weak-sysctls */
} rn = { .criu_ns = -1 };

/* The flags a request can set; the others (running, carrier...) are the link's state. */
#define SETTABLE_FLAGS (IFF_UP | IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI | IFF_MULTICAST | IFF_DEBUG | \
			IFF_AUTOMEDIA | IFF_DYNAMIC)

static int copy_streams(void)
{
	static const struct { int type; const char *what; } k[S_NR] = {
		[S_ADDRS] = { RTM_NEWADDR, "addrs" }, [S_ROUTES4] = { RTM_NEWROUTE, "routes4" },
		[S_ROUTES6] = { RTM_NEWROUTE, "routes6" }, [S_NEIGHS] = { RTM_NEWNEIGH, "neighs" },
	};
	const ProtobufCBinaryData *b[S_NR] = { &rn.e->addrs, &rn.e->routes4, &rn.e->routes6,
					       &rn.e->neighs };
	size_t i;

	for (i = 0; i < S_NR; i++) {
		rn.stream[i] = malloc(b[i]->len + 1);
		if (!rn.stream[i]) {
			pr_err("out of memory");
			return -1;
		}
		if (b[i]->len)
			memcpy(rn.stream[i], b[i]->data, b[i]->len);
		rn.len[i] = b[i]->len;
		if (netns_stream_check(rn.stream[i], rn.len[i], k[i].type, rn.e, k[i].what))
			return -1;
	}
	return 0;
}

static bool link_name(const char *s)
{
	return *s && strlen(s) < IFNAMSIZ && !strpbrk(s, "/:@ \t");
}

/* "OUT" or "OUT@BRIDGE" into @out and @bridge ("" for none). */
static int split_bridge(const char *in, char *spec, char *out, char *bridge)
{
	char *at = strchr(spec, '@');

	if (at)
		*at++ = '\0';
	if (!link_name(spec) || (at && !link_name(at))) {
		pr_err("veth %s: %s%s%s is not a link name (or NAME@BRIDGE)", in, spec, at ? "@" : "",
		       at ? at : "");
		return -1;
	}
	strcpy(out, spec);
	strcpy(bridge, at ? at : "");
	return 0;
}

static int outside_names(const struct cr_options *o)
{
	size_t i;

	rn.outside = calloc(rn.e->n_links, sizeof(*rn.outside));
	rn.bridge = calloc(rn.e->n_links, sizeof(*rn.bridge));
	if (!rn.outside || !rn.bridge)
		return -1;
	for (i = 0; i < rn.e->n_links && !o->empty_ns; i++) {
		const NetLink *l = rn.e->links[i];
		char buf[64];

		if (l->kind != NETNS_LINK_VETH)
			continue;
		if (!netns_veth_outside(o, l->name, buf, sizeof(buf))) {
			pr_err("veth %s: its outside end needs a name: --veth-pair %s=NAME or --external veth[%s]:NAME",
			       l->name, l->name, l->name);
			return -1;
		}
		if (split_bridge(l->name, buf, rn.outside[i], rn.bridge[i]))
			return -1;
	}
	return 0;
}

int rst_netns_read(int dirfd, const struct cr_options *o)
{
	ProtobufCMessage *m;

	if (netns_external_check(o, true))
		return -1;
	if (faccessat(dirfd, "netns.img", F_OK, 0)) {
		/* as the established tool: they shape a namespace this tree does not have */
		if (o->empty_ns || o->veth_pair.n || o->external.n)
			pr_info("--empty-ns, --veth-pair, --external veth[]: the dump has no network namespace of its own, nothing to do");
		return 0;
	}
	if (img_read_one(dirfd, IMG_NETNS, 0, &m))
		return -1;
	rn.e = (NetnsEntry *)m;
	rn.weak = o->weak_sysctls;
	if (netns_entry_check(rn.e) || copy_streams() || outside_names(o))
		return -1;
	pr_info("the tree has a network namespace of its own (%zu links)%s", rn.e->n_links,
		o->empty_ns ? ", restored empty (--empty-ns net)" : "");
	return 0;
}

static struct nl_addr *link_addr(const NetLink *l)
{
	if (!l->has_address || !l->address.len)
		return NULL;
	return nl_addr_build(AF_UNSPEC, l->address.data, l->address.len);
}

/* A veth with its old index, its peer in criu's namespace under its outside name. */
static int make_veth(struct nl_sock *sk, const NetLink *l, const char *outside)
{
	struct rtnl_link *v = rtnl_link_veth_alloc(), *peer;
	struct nl_addr *a = link_addr(l);
	int err = -NLE_NOMEM;

	if (v && a) {
		rtnl_link_set_name(v, l->name);
		rtnl_link_set_ifindex(v, (int)l->ifindex);
		rtnl_link_set_mtu(v, l->mtu);
		rtnl_link_set_txqlen(v, l->txqlen);
		rtnl_link_set_addr(v, a);
		peer = rtnl_link_veth_get_peer(v);
		rtnl_link_set_name(peer, outside);
		rtnl_link_set_ns_fd(peer, rn.criu_ns);
		rtnl_link_put(peer);
		err = rtnl_link_add(sk, v, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (err < 0)
		pr_err("cannot make veth %s (index %u) with %s outside: %s", l->name, l->ifindex, outside,
		       nl_geterror(err));
	if (a)
		nl_addr_put(a);
	if (v)
		rtnl_link_veth_release(v);
	return err < 0 ? -1 : 0;
}

/* In criu's namespace: the outside end @out joins @bridge and goes up (NAME@BRIDGE). */
static int join_bridge(const char *out, const char *bridge)
{
	struct nl_sock *sk = nl_route_socket(rn.criu_ns);
	struct rtnl_link *b = NULL, *end = NULL, *chg = rtnl_link_alloc();
	int err = -NLE_NOMEM;

	if (!sk || !chg)
		goto out;
	err = rtnl_link_get_kernel(sk, 0, bridge, &b);
	if (!err)
		err = rtnl_link_get_kernel(sk, 0, out, &end);
	if (!err) {
		rtnl_link_set_master(chg, rtnl_link_get_ifindex(b));
		rtnl_link_set_flags(chg, IFF_UP);
		err = rtnl_link_change(sk, end, chg, 0);
	}
out:
	if (err < 0)
		pr_err("cannot put the outside end %s into bridge %s: %s", out, bridge, nl_geterror(err));
	if (b)
		rtnl_link_put(b);
	if (end)
		rtnl_link_put(end);
	if (chg)
		rtnl_link_put(chg);
	if (sk)
		nl_socket_free(sk);
	return err < 0 ? -1 : 0;
}

/* Change link @l as @fill says (its mtu and queue, or its flags). */
static int change_link(struct nl_sock *sk, const NetLink *l, bool flags)
{
	struct rtnl_link *cur = NULL, *chg = rtnl_link_alloc();
	int err = chg ? rtnl_link_get_kernel(sk, (int)l->ifindex, NULL, &cur) : -NLE_NOMEM;

	if (!err) {
		if (flags) {
			rtnl_link_set_flags(chg, l->flags & SETTABLE_FLAGS);
			rtnl_link_unset_flags(chg, ~l->flags & SETTABLE_FLAGS);
		} else {
			rtnl_link_set_mtu(chg, l->mtu);
			rtnl_link_set_txqlen(chg, l->txqlen);
		}
		err = rtnl_link_change(sk, cur, chg, 0);
	}
	if (err < 0)
		pr_err("cannot set the %s of link %s: %s", flags ? "flags" : "mtu and queue length",
		       l->name, nl_geterror(err));
	if (cur)
		rtnl_link_put(cur);
	if (chg)
		rtnl_link_put(chg);
	return err < 0 ? -1 : 0;
}

static int make_links(struct nl_sock *sk)
{
	size_t i;

	for (i = 0; i < rn.e->n_links; i++) {
		const NetLink *l = rn.e->links[i];

		if (l->kind == NETNS_LINK_LO ? change_link(sk, l, false) : make_veth(sk, l, rn.outside[i]))
			return -1;
		if (l->kind == NETNS_LINK_VETH && rn.bridge[i][0] && join_bridge(rn.outside[i], rn.bridge[i]))
			return -1;
		if (netns_knobs_write(&netns_conf4, l->name, l->conf4, l->n_conf4, rn.weak) ||
		    netns_knobs_write(&netns_conf6, l->name, l->conf6, l->n_conf6, rn.weak))
			return -1;
	}
	return 0;
}

/* The table of a route message (RTA_TABLE when the number is above 255). */
static uint32_t route_table(const struct nlmsghdr *h)
{
	const struct rtmsg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len = (int)RTM_PAYLOAD(h);

	for (a = RTM_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) == 4)
			return *(const uint32_t *)RTA_DATA(a);
	return m->rtm_table;
}

/* Send each message of stream @s again; routes: only the main table's, not the kernel's own. */
static int replay(struct nl_sock *sk, int s, const char *what)
{
	size_t off = 0;

	while (off < rn.len[s]) {
		struct nlmsghdr *h = (struct nlmsghdr *)(rn.stream[s] + off);
		struct rtmsg *r = NLMSG_DATA(h);

		off += NLMSG_ALIGN(h->nlmsg_len);
		if (h->nlmsg_type == RTM_NEWROUTE &&
		    (r->rtm_protocol == RTPROT_KERNEL || route_table(h) != RT_TABLE_MAIN))
			continue;
		/* a dead or down next hop is the kernel's view, which a request may not state */
		if (h->nlmsg_type == RTM_NEWROUTE)
			r->rtm_flags &= RTNH_F_ONLINK | RTNH_F_PERVASIVE;
		if (nl_send_copy(sk, h, what))
			return -1;
	}
	return 0;
}

static int build(void)
{
	const NetnsEntry *e = rn.e;
	struct nl_sock *sk;
	size_t i;
	int ret = -1;

	/* "all" and "default" first: a link made afterwards starts from the defaults */
	if (netns_knobs_write(&netns_conf4, "all", e->all4, e->n_all4, rn.weak) ||
	    netns_knobs_write(&netns_conf6, "all", e->all6, e->n_all6, rn.weak) ||
	    netns_knobs_write(&netns_conf4, "default", e->def4, e->n_def4, rn.weak) ||
	    netns_knobs_write(&netns_conf6, "default", e->def6, e->n_def6, rn.weak) ||
	    netns_knobs_write(&netns_unix, NULL, e->unix_conf, e->n_unix_conf, rn.weak) ||
	    netns_knobs_write(&netns_ipv4, NULL, e->ipv4_sysctl, e->n_ipv4_sysctl, rn.weak))
		return -1;
	sk = nl_route_socket(-1);
	if (!sk)
		return -1;
	if (make_links(sk) || replay(sk, S_ADDRS, "an address"))
		goto out;
	for (i = 0; i < e->n_links; i++)
		if (change_link(sk, e->links[i], true))
			goto out;
	if (replay(sk, S_ROUTES4, "an IPv4 route") || replay(sk, S_ROUTES6, "an IPv6 route") ||
	    replay(sk, S_NEIGHS, "a neighbour"))
		goto out;
	ret = 0;
out:
	nl_socket_free(sk);
	return ret;
}

int rst_netns_enter(const struct cr_options *o)
{
	if (!rn.e)
		return 0;
	rn.criu_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (rn.criu_ns < 0 || unshare(CLONE_NEWNET)) {
		pr_perror("cannot make a network namespace for the tree");
		if (rn.criu_ns >= 0)
			close(rn.criu_ns);
		rn.criu_ns = -1;
		return -1;
	}
	pr_info("criu is in the tree's new network namespace");
	/* the runtime sets up an empty one by criu's pid, which is in it now */
	if ((!o->empty_ns && build()) || run_action(o, ACT_SETUP_NS, getpid())) {
		rst_netns_leave();
		return -1;
	}
	return 0;
}

int rst_netns_leave(void)
{
	int ret = 0;

	if (rn.criu_ns < 0)
		return 0;
	if (setns(rn.criu_ns, CLONE_NEWNET)) {
		pr_perror("cannot go back to criu's network namespace");
		ret = -1;
	}
	close(rn.criu_ns);
	rn.criu_ns = -1;
	return ret;
}

void rst_netns_release(void)
{
	size_t i;

	rst_netns_leave();
	for (i = 0; i < S_NR; i++) {
		free(rn.stream[i]);
		rn.stream[i] = NULL;
	}
	free(rn.outside);
	free(rn.bridge);
	rn.outside = NULL;
	rn.bridge = NULL;
	if (rn.e)
		img_free_entry(&rn.e->base);
	rn.e = NULL;
}
