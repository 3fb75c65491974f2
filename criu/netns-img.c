/*
 * The network namespace's image (criu/include/netns.h): the positional knob
 * tables and the checks of what a restore reads (untrusted input).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define LOG_PREFIX "netns: "
#include "log.h"
#include "netns.h"
#include "options.h"

/* The order of the established format's lists (a format fact: never reorder). */
static const char *const conf4[] = {
	"accept_local", "accept_redirects", "accept_source_route", "arp_accept",
	"arp_announce", "arp_filter", "arp_ignore", "arp_notify", "bootp_relay",
	"disable_policy", "disable_xfrm", "force_igmp_version", "forwarding",
	"igmpv2_unsolicited_report_interval", "igmpv3_unsolicited_report_interval",
	"log_martians", "medium_id", "promote_secondaries", "proxy_arp",
	"proxy_arp_pvlan", "route_localnet", "rp_filter", "secure_redirects",
	"send_redirects", "shared_media", "src_valid_mark", "tag",
	"ignore_routes_with_linkdown", "drop_gratuitous_arp", "drop_unicast_in_l2_multicast",
};
static const char *const conf6[] = {
	"accept_dad", "accept_ra", "accept_ra_defrtr", "accept_ra_from_local",
	"accept_ra_min_hop_limit", "accept_ra_mtu", "accept_ra_pinfo",
	"accept_ra_rt_info_max_plen", "accept_ra_rtr_pref", "accept_redirects",
	"accept_source_route", "autoconf", "dad_transmits", "disable_ipv6",
	"drop_unicast_in_l2_multicast", "drop_unsolicited_na", "force_mld_version",
	"force_tllao", "forwarding", "hop_limit", "ignore_routes_with_linkdown",
	"keep_addr_on_down", "max_addresses", "max_desync_factor",
	"mldv1_unsolicited_report_interval", "mldv2_unsolicited_report_interval", "mtu",
	"ndisc_notify", "optimistic_dad", "proxy_ndp", "regen_max_retry",
	"router_probe_interval", "router_solicitation_delay",
	"router_solicitation_interval", "router_solicitations", "stable_secret",
	"suppress_frag_ndisc", "temp_prefered_lft", "temp_valid_lft",
	"use_oif_addrs_only", "use_optimistic", "use_tempaddr",
};
static const char *const unix_knobs[] = { "max_dgram_qlen" };
static const char *const ipv4_knobs[] = { "ping_group_range" };

#define N(a) (sizeof(a) / sizeof((a)[0]))
const struct netns_knobs netns_conf4 = { conf4, N(conf4), "ipv4/conf/%s" };
const struct netns_knobs netns_conf6 = { conf6, N(conf6), "ipv6/conf/%s" };
const struct netns_knobs netns_unix = { unix_knobs, N(unix_knobs), "unix" };
const struct netns_knobs netns_ipv4 = { ipv4_knobs, N(ipv4_knobs), "ipv4" };

bool netns_knob_text(const char *name)
{
	return !strcmp(name, "stable_secret") || !strcmp(name, "ping_group_range");
}

static int check_knobs(NetSysctl **v, size_t n, const struct netns_knobs *k, const char *what)
{
	size_t i;

	if (n > k->nr) {
		pr_err("netns.img: %zu %s knobs, this criu knows %zu", n, what, k->nr);
		return -1;
	}
	for (i = 0; i < n; i++) {
		bool text = netns_knob_text(k->names[i]);

		if ((v[i]->sarg && !text) || (v[i]->has_iarg && text) ||
		    (v[i]->sarg && (strlen(v[i]->sarg) > NETNS_STR_MAX || strpbrk(v[i]->sarg, "\n")))) {
			pr_err("netns.img: %s knob %s: a value of the wrong kind or too long", what,
			       k->names[i]);
			return -1;
		}
	}
	return 0;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	return n && n < IFNAMSIZ && !strpbrk(s, "/: \t\n") && strcmp(s, ".") && strcmp(s, "..");
}

static int check_link(const NetLink *l, const NetnsEntry *e, size_t idx)
{
	size_t i;

	if (!valid_ifname(l->name) || !l->ifindex || l->ifindex > INT32_MAX ||
	    (l->kind != NETNS_LINK_LO && l->kind != NETNS_LINK_VETH) ||
	    (l->kind == NETNS_LINK_LO) != (l->ifindex == 1) ||
	    l->mtu < 68 || l->mtu > 65536 || l->txqlen > (1u << 20) || l->flags > 0x7ffff ||
	    (l->has_address && l->address.len > 32) ||
	    (l->kind == NETNS_LINK_VETH && (!l->has_address || l->address.len != 6))) {
		pr_err("netns.img: link %zu (%.16s): a name, index, kind, mtu, queue length, flags or address out of range",
		       idx, l->name);
		return -1;
	}
	for (i = 0; i < idx; i++)
		if (e->links[i]->ifindex == l->ifindex || !strcmp(e->links[i]->name, l->name)) {
			pr_err("netns.img: link %s: its name or index %u is used twice", l->name,
			       l->ifindex);
			return -1;
		}
	return check_knobs(l->conf4, l->n_conf4, &netns_conf4, l->name) ||
	       check_knobs(l->conf6, l->n_conf6, &netns_conf6, l->name);
}

int netns_entry_check(const NetnsEntry *e)
{
	const ProtobufCBinaryData *s[] = { &e->addrs, &e->routes4, &e->routes6, &e->neighs };
	size_t i;

	if (!e->n_links || e->n_links > NETNS_MAX_LINKS || e->links[0]->kind != NETNS_LINK_LO) {
		pr_err("netns.img: %zu links (1..%d, the loopback first)", e->n_links, NETNS_MAX_LINKS);
		return -1;
	}
	for (i = 0; i < e->n_links; i++)
		if (check_link(e->links[i], e, i))
			return -1;
	for (i = 0; i < N(s); i++)
		if (s[i]->len > NETNS_STREAM_MAX) {
			pr_err("netns.img: a message stream of %zu bytes (at most %u)", s[i]->len,
			       NETNS_STREAM_MAX);
			return -1;
		}
	return check_knobs(e->all4, e->n_all4, &netns_conf4, "all") ||
	       check_knobs(e->def4, e->n_def4, &netns_conf4, "default") ||
	       check_knobs(e->all6, e->n_all6, &netns_conf6, "all") ||
	       check_knobs(e->def6, e->n_def6, &netns_conf6, "default") ||
	       check_knobs(e->unix_conf, e->n_unix_conf, &netns_unix, "unix") ||
	       check_knobs(e->ipv4_sysctl, e->n_ipv4_sysctl, &netns_ipv4, "ipv4");
}

static bool known_link(const NetnsEntry *e, uint32_t ifindex)
{
	size_t i;

	for (i = 0; i < e->n_links; i++)
		if (e->links[i]->ifindex == ifindex)
			return true;
	return false;
}

/* Every attribute of @h after its @hdr-byte header lies inside it. */
static bool attrs_whole(const struct nlmsghdr *h, size_t hdr)
{
	const struct rtattr *a;
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(hdr));

	if (len < 0)
		return false;
	a = (const struct rtattr *)((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		;
	return len == 0;
}

static bool addr_ok(const struct nlmsghdr *h, const NetnsEntry *e)
{
	const struct ifaddrmsg *m = NLMSG_DATA(h);

	return attrs_whole(h, sizeof(*m)) && known_link(e, m->ifa_index) &&
	       ((m->ifa_family == AF_INET && m->ifa_prefixlen <= 32) ||
		(m->ifa_family == AF_INET6 && m->ifa_prefixlen <= 128));
}

static bool route_ok(const struct nlmsghdr *h, const NetnsEntry *e, int family)
{
	const struct rtmsg *m = NLMSG_DATA(h);
	unsigned int max = family == AF_INET ? 32 : 128;
	const struct rtattr *a;
	int len;

	if (!attrs_whole(h, sizeof(*m)) || m->rtm_family != family || m->rtm_dst_len > max ||
	    m->rtm_src_len > max)
		return false;
	len = (int)RTM_PAYLOAD(h);
	for (a = RTM_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTA_OIF &&
		    (RTA_PAYLOAD(a) != 4 || !known_link(e, *(const uint32_t *)RTA_DATA(a))))
			return false;
	return true;
}

static bool neigh_ok(const struct nlmsghdr *h, const NetnsEntry *e)
{
	const struct ndmsg *m = NLMSG_DATA(h);

	return attrs_whole(h, sizeof(*m)) && known_link(e, (uint32_t)m->ndm_ifindex) &&
	       (m->ndm_family == AF_INET || m->ndm_family == AF_INET6) &&
	       m->ndm_state == NUD_PERMANENT;
}

static bool msg_ok(const struct nlmsghdr *h, int type, const NetnsEntry *e, const char *what)
{
	size_t hdr = type == RTM_NEWADDR ? sizeof(struct ifaddrmsg) :
		     type == RTM_NEWNEIGH ? sizeof(struct ndmsg) : sizeof(struct rtmsg);

	if (h->nlmsg_type != type || h->nlmsg_len < NLMSG_LENGTH(hdr))
		return false;
	if (type == RTM_NEWADDR)
		return addr_ok(h, e);
	if (type == RTM_NEWNEIGH)
		return neigh_ok(h, e);
	return route_ok(h, e, !strcmp(what, "routes6") ? AF_INET6 : AF_INET);
}

int netns_stream_check(const uint8_t *buf, size_t len, int type, const NetnsEntry *e,
		       const char *what)
{
	size_t off = 0, n = 0;

	if (len > NETNS_STREAM_MAX || ((uintptr_t)buf & 3)) {
		pr_err("netns.img: %s: %zu bytes, or not aligned", what, len);
		return -1;
	}
	while (off < len) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);

		if (len - off < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN ||
		    h->nlmsg_len > len - off || ++n > NETNS_MAX_MSGS || !msg_ok(h, type, e, what)) {
			pr_err("netns.img: %s: message %zu (at byte %zu) is cut, of another kind or names an unknown link",
			       what, n, off);
			return -1;
		}
		off += NLMSG_ALIGN(h->nlmsg_len) < len - off ? NLMSG_ALIGN(h->nlmsg_len) : len - off;
	}
	return 0;
}

/* @spec is "IN=OUT" (sep '=') or "veth[IN]:OUT": the outside name of @in into @buf. */
static const char *outside_of(const char *spec, const char *in, char *buf, size_t size, bool ext)
{
	size_t n = strlen(in);
	const char *out;

	if (ext) {
		if (strncmp(spec, "veth[", 5) || strncmp(spec + 5, in, n) || strncmp(spec + 5 + n, "]:", 2))
			return NULL;
		out = spec + 5 + n + 2;
	} else {
		if (strncmp(spec, in, n) || spec[n] != '=')
			return NULL;
		out = spec + n + 1;
	}
	snprintf(buf, size, "%s", out);
	return buf;
}

const char *netns_veth_outside(const struct cr_options *o, const char *in, char *buf, size_t size)
{
	unsigned int i;

	for (i = 0; i < o->veth_pair.n; i++)
		if (outside_of(o->veth_pair.v[i], in, buf, size, false))
			return buf;
	for (i = 0; i < o->external.n; i++)
		if (outside_of(o->external.v[i], in, buf, size, true))
			return buf;
	return NULL;
}

int netns_external_check(const struct cr_options *o, bool restore)
{
	unsigned int i;

	for (i = 0; i < o->external.n; i++) {
		const char *v = o->external.v[i], *c = strstr(v, "]:");

		if (restore && !strncmp(v, "veth[", 5) && c && c > v + 5 && c[2])
			continue;
		pr_err("--external %s is not supported yet%s", v,
		       restore ? " (only veth[IN]:OUT)" : " at dump");
		return -1;
	}
	return 0;
}
