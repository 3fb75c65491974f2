/*
 * Export: our netns.img into the established network namespace images of
 * namespace id EXP_TREE_NET_NS_ID: netdev-ID.img (links), netns-ID.img
 * (knobs), and the raw message streams the established tool keeps as
 * `ip ... save` writes them: ifaddr-ID.img, route-ID.img, route6-ID.img
 * (a magic word, then the kernel's messages).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "est-export: "
#include "log.h"
#include "est-export-int.h"
#include "netns.h"
#include "est/netdev.pb-c.h"

static int conv_knobs(NetSysctl **v, size_t n, const struct netns_knobs *k, Est__SysctlEntry ***out,
		      size_t *nr)
{
	Est__SysctlEntry **o = exp_zalloc(n * sizeof(*o) + 1), *e = exp_zalloc(n * sizeof(*e) + 1);
	size_t i;

	if (!o || !e) {
		free(o);
		free(e);
		return -1;
	}
	for (i = 0; i < n; i++) {
		est__sysctl_entry__init(&e[i]);
		o[i] = &e[i];
		e[i].type = netns_knob_text(k->names[i]) ? EST__SYSCTL_TYPE__CTL_STR : EST__SYSCTL_TYPE__CTL_32;
		e[i].has_iarg = v[i]->has_iarg;
		e[i].iarg = v[i]->iarg;
		e[i].sarg = v[i]->sarg;
	}
	*out = o;
	*nr = n;
	return 0;
}

static void free_knobs(Est__SysctlEntry **o)
{
	if (o)
		free(o[0]);
	free(o);
}

static int write_link(struct exp_img *w, const NetLink *l)
{
	Est__NetDeviceEntry d = EST__NET_DEVICE_ENTRY__INIT;
	int ret = 0;

	/* a new link of either kind has 1000; the format has no field for another */
	if (l->txqlen != 1000 &&
	    exp_cannot("netns.img", "link %s has a transmit queue length of %u", l->name, l->txqlen))
		return -1;
	d.type = l->kind == NETNS_LINK_LO ? EST__ND_TYPE__LOOPBACK : EST__ND_TYPE__VETH;
	d.ifindex = l->ifindex;
	d.mtu = l->mtu;
	d.flags = l->flags;
	d.name = l->name;
	d.has_address = l->has_address;
	d.address = l->address;
	d.has_peer_ifindex = l->has_peer_ifindex;
	d.peer_ifindex = l->peer_ifindex;
	d.has_peer_nsid = l->has_peer_nsid;
	d.peer_nsid = (uint32_t)l->peer_nsid;
	if (conv_knobs(l->conf4, l->n_conf4, &netns_conf4, &d.conf4, &d.n_conf4) ||
	    conv_knobs(l->conf6, l->n_conf6, &netns_conf6, &d.conf6, &d.n_conf6))
		ret = -1;
	else
		exp_img_add(w, &d.base, NULL, 0);
	free_knobs(d.conf4);
	free_knobs(d.conf6);
	return ret;
}

static int write_netns_knobs(struct exp *ex, const NetnsEntry *e, const char *name)
{
	Est__NetnsEntry n = EST__NETNS_ENTRY__INIT;
	struct exp_img w;
	int ret = -1;

	if (!conv_knobs(e->def4, e->n_def4, &netns_conf4, &n.def_conf4, &n.n_def_conf4) &&
	    !conv_knobs(e->all4, e->n_all4, &netns_conf4, &n.all_conf4, &n.n_all_conf4) &&
	    !conv_knobs(e->def6, e->n_def6, &netns_conf6, &n.def_conf6, &n.n_def_conf6) &&
	    !conv_knobs(e->all6, e->n_all6, &netns_conf6, &n.all_conf6, &n.n_all_conf6) &&
	    !conv_knobs(e->unix_conf, e->n_unix_conf, &netns_unix, &n.unix_conf, &n.n_unix_conf) &&
	    !conv_knobs(e->ipv4_sysctl, e->n_ipv4_sysctl, &netns_ipv4, &n.ipv4_sysctl, &n.n_ipv4_sysctl)) {
		exp_img_open(&w, name);
		exp_img_add(&w, &n.base, NULL, 0);
		ret = exp_img_close(ex, &w);
	}
	free_knobs(n.def_conf4);
	free_knobs(n.all_conf4);
	free_knobs(n.def_conf6);
	free_knobs(n.all_conf6);
	free_knobs(n.unix_conf);
	free_knobs(n.ipv4_sysctl);
	return ret;
}

/* A raw image: @magic (little-endian), then @b as it is. */
static int write_stream(struct exp *ex, const char *name, uint32_t magic, const ProtobufCBinaryData *b)
{
	uint8_t head[4] = { magic & 0xff, (magic >> 8) & 0xff, (magic >> 16) & 0xff, magic >> 24 };
	int fd = openat(ex->out, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t off = 0;
	int ret = -1;

	if (fd >= 0 && write(fd, head, 4) == 4) {
		while (off < b->len) {
			ssize_t n = write(fd, b->data + off, b->len - off);

			if (n <= 0)
				break;
			off += n;
		}
		ret = off == b->len ? 0 : -1;
	}
	if (fd >= 0 && close(fd))
		ret = -1;
	if (ret)
		pr_perror("cannot write %s", name);
	return ret;
}

static int convert(struct exp *ex, const NetnsEntry *e)
{
	char name[64];
	struct exp_img w;
	size_t i;

	if (netns_entry_check(e))
		return -1;
	if (e->neighs.len && exp_cannot("netns.img", "permanent neighbour entries"))
		return -1;
	snprintf(name, sizeof(name), "netdev-%u.img", EXP_TREE_NET_NS_ID);
	exp_img_open(&w, name);
	for (i = 0; i < e->n_links; i++)
		if (write_link(&w, e->links[i])) {
			free(w.buf);
			return -1;
		}
	if (exp_img_close(ex, &w))
		return -1;
	snprintf(name, sizeof(name), "netns-%u.img", EXP_TREE_NET_NS_ID);
	if (write_netns_knobs(ex, e, name))
		return -1;
	snprintf(name, sizeof(name), "ifaddr-%u.img", EXP_TREE_NET_NS_ID);
	if (write_stream(ex, name, EST_IFADDR_MAGIC, &e->addrs))
		return -1;
	snprintf(name, sizeof(name), "route-%u.img", EXP_TREE_NET_NS_ID);
	if (write_stream(ex, name, EST_ROUTE_MAGIC, &e->routes4))
		return -1;
	snprintf(name, sizeof(name), "route6-%u.img", EXP_TREE_NET_NS_ID);
	return write_stream(ex, name, EST_ROUTE_MAGIC, &e->routes6);
}

int exp_netns(struct exp *ex)
{
	ProtobufCMessage **m;
	size_t nr;
	int ret;

	ex->net_ns_id = EXP_CRIU_NET_NS_ID;
	if (exp_read_optional(ex, IMG_NETNS, "netns.img", &m, &nr))
		return -1;
	if (!nr)
		return 0;
	ex->net_ns_id = EXP_TREE_NET_NS_ID;
	ret = nr == 1 ? convert(ex, (const NetnsEntry *)m[0]) : -1;
	if (nr != 1)
		pr_err("netns.img: %zu entries", nr);
	img_free_all(m, nr);
	return ret;
}
