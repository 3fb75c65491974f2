/*
 * Import: the established images of the tree's network namespace (the
 * root's net_ns_id, when it is not the dumping criu's) into our netns.img:
 * netdev-ID.img, netns-ID.img and the raw streams ifaddr-ID.img,
 * route-ID.img, route6-ID.img. Their mirror is est-export-net.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#define LOG_PREFIX "est-import: "
#include "log.h"
#include "est-import-int.h"
#include "netns.h"
#include "est/netdev.pb-c.h"

#define ROUTE_SAVE_MAGIC	0x45311224u	/* `ip route save` */
#define ADDR_SAVE_MAGIC		0x47361222u	/* `ip addr save` */

static int conv_knobs(Est__SysctlEntry **s, size_t n, const struct netns_knobs *k, NetSysctl ***out,
		      size_t *nr, const char *img)
{
	NetSysctl **v;
	size_t i;

	if (n > k->nr) {
		pr_err("not supported yet: %s: %zu knobs in a list of %zu", img, n, k->nr);
		return -1;
	}
	v = imp_zalloc((n + 1) * sizeof(*v));
	if (!v)
		return -1;
	*out = v;
	for (i = 0; i < n; i++, *nr = i) {
		bool text = netns_knob_text(k->names[i]);

		v[i] = imp_zalloc(sizeof(*v[i]));
		if (!v[i])
			return -1;
		net_sysctl__init(v[i]);
		if (s[i]->type != (text ? EST__SYSCTL_TYPE__CTL_STR : EST__SYSCTL_TYPE__CTL_32)) {
			pr_err("%s: knob %s of type %d", img, k->names[i], s[i]->type);
			*nr = i + 1;
			return -1;
		}
		v[i]->has_iarg = !text && s[i]->has_iarg;
		v[i]->iarg = s[i]->iarg;
		if (text && s[i]->sarg && !(v[i]->sarg = strdup(s[i]->sarg))) {
			*nr = i + 1;
			return -1;
		}
	}
	*nr = n;
	return 0;
}

static int add_link(struct imp *im, const struct est_entry *en, void *ctx)
{
	const Est__NetDeviceEntry *d = (const Est__NetDeviceEntry *)en->msg;
	NetnsEntry *e = ctx;
	NetLink *l;

	(void)im;
	if (e->n_links == NETNS_MAX_LINKS || (d->type != EST__ND_TYPE__LOOPBACK && d->type != EST__ND_TYPE__VETH) ||
	    d->has_master || d->n_conf) {
		pr_err("not supported yet: netdev: link %.16s of type %d, enslaved, with old knob lists or one too many",
		       d->name, d->type);
		return -1;
	}
	l = imp_zalloc(sizeof(*l));
	if (!l)
		return -1;
	net_link__init(l);
	e->links[e->n_links++] = l;
	l->ifindex = d->ifindex;
	l->kind = d->type == EST__ND_TYPE__LOOPBACK ? NETNS_LINK_LO : NETNS_LINK_VETH;
	l->mtu = d->mtu;
	l->flags = d->flags;
	l->txqlen = 1000;	/* the format has no field: a new link's */
	l->has_peer_ifindex = d->has_peer_ifindex;
	l->peer_ifindex = d->peer_ifindex;
	l->has_peer_nsid = d->has_peer_nsid;
	l->peer_nsid = (int32_t)d->peer_nsid;
	l->name = strdup(d->name);
	if (!l->name)
		return -1;
	if (d->has_address) {
		l->has_address = true;
		l->address.len = d->address.len;
		l->address.data = malloc(d->address.len + 1);
		if (!l->address.data)
			return -1;
		memcpy(l->address.data, d->address.data, d->address.len);
	}
	return conv_knobs(d->conf4, d->n_conf4, &netns_conf4, &l->conf4, &l->n_conf4, "netdev") ||
	       conv_knobs(d->conf6, d->n_conf6, &netns_conf6, &l->conf6, &l->n_conf6, "netdev");
}

static int conv_netns(NetnsEntry *e, const Est__NetnsEntry *n, const char *img)
{
	if (n->n_def_conf || n->n_all_conf || n->ext_key) {
		pr_err("not supported yet: %s: old knob lists or an external namespace", img);
		return -1;
	}
	return conv_knobs(n->def_conf4, n->n_def_conf4, &netns_conf4, &e->def4, &e->n_def4, img) ||
	       conv_knobs(n->all_conf4, n->n_all_conf4, &netns_conf4, &e->all4, &e->n_all4, img) ||
	       conv_knobs(n->def_conf6, n->n_def_conf6, &netns_conf6, &e->def6, &e->n_def6, img) ||
	       conv_knobs(n->all_conf6, n->n_all_conf6, &netns_conf6, &e->all6, &e->n_all6, img) ||
	       conv_knobs(n->unix_conf, n->n_unix_conf, &netns_unix, &e->unix_conf, &e->n_unix_conf, img) ||
	       conv_knobs(n->ipv4_sysctl, n->n_ipv4_sysctl, &netns_ipv4, &e->ipv4_sysctl,
			  &e->n_ipv4_sysctl, img);
}

/* A raw stream file: its magic, then messages; a missing file is an empty stream. */
static int read_stream(struct imp *im, const char *fmt, uint32_t id, uint32_t magic,
		       ProtobufCBinaryData *b)
{
	char name[64];
	uint8_t *buf;
	size_t len;

	snprintf(name, sizeof(name), fmt, id);
	if (imp_load(im, name, true, &buf, &len))
		return -1;
	b->data = NULL;
	b->len = 0;
	if (!buf)
		return 0;
	if (len < 4 || est_le32(buf) != magic || len - 4 > NETNS_STREAM_MAX) {
		pr_err("%s: not a message stream of at most %u bytes after its magic %#x", name,
		       NETNS_STREAM_MAX, magic);
		free(buf);
		return -1;
	}
	memmove(buf, buf + 4, len - 4);	/* the start of a malloc'ed block: aligned */
	b->data = buf;
	b->len = len - 4;
	return 0;
}

static int check_streams(const NetnsEntry *e)
{
	return netns_entry_check(e) ||
	       netns_stream_check(e->addrs.data, e->addrs.len, RTM_NEWADDR, e, "addrs") ||
	       netns_stream_check(e->routes4.data, e->routes4.len, RTM_NEWROUTE, e, "routes4") ||
	       netns_stream_check(e->routes6.data, e->routes6.len, RTM_NEWROUTE, e, "routes6");
}

static int convert(struct imp *im, NetnsEntry *e, uint32_t id)
{
	Est__NetnsEntry *n;
	ProtobufCMessage *m = &e->base;
	char name[64];
	int ret;

	e->links = imp_zalloc(NETNS_MAX_LINKS * sizeof(*e->links));
	snprintf(name, sizeof(name), "netdev-%u.img", id);
	if (!e->links || imp_read_all(im, name, false, add_link, e))
		return -1;
	snprintf(name, sizeof(name), "netns-%u.img", id);
	n = (Est__NetnsEntry *)imp_read_one(im, name);
	if (!n)
		return -1;
	ret = conv_netns(e, n, name);
	protobuf_c_message_free_unpacked(&n->base, NULL);
	e->has_addrs = e->has_routes4 = e->has_routes6 = true;
	if (ret || read_stream(im, "ifaddr-%u.img", id, ADDR_SAVE_MAGIC, &e->addrs) ||
	    read_stream(im, "route-%u.img", id, ROUTE_SAVE_MAGIC, &e->routes4) ||
	    read_stream(im, "route6-%u.img", id, ROUTE_SAVE_MAGIC, &e->routes6) || check_streams(e))
		return -1;
	return imp_write(im, IMG_NETNS, 0, &m, 1);
}

int imp_netns(struct imp *im)
{
	const Est__TaskKobjIdsEntry *r = im->inv->root_ids;
	Est__TaskKobjIdsEntry *t;
	NetnsEntry *e;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "ids-%u.img", im->procs[0].ps->pid);
	im->tree_net_ns_id = r->net_ns_id;
	if (faccessat(im->in, name, F_OK, AT_SYMLINK_NOFOLLOW))
		return 0;	/* a zombie root: refused where its core is read */
	t = (Est__TaskKobjIdsEntry *)imp_read_one(im, name);
	if (!t)
		return -1;
	im->tree_net_ns_id = t->has_net_ns_id ? t->net_ns_id : r->net_ns_id;
	protobuf_c_message_free_unpacked(&t->base, NULL);
	if (!r->has_net_ns_id || im->tree_net_ns_id == r->net_ns_id)
		return 0;
	e = imp_zalloc(sizeof(*e));
	if (!e)
		return -1;
	netns_entry__init(e);
	ret = convert(im, e, im->tree_net_ns_id);
	protobuf_c_message_free_unpacked(&e->base, NULL);
	return ret;
}

bool imp_net_ns_ok(const struct imp *im, bool has, uint32_t id)
{
	return !has || (im->inv->root_ids->has_net_ns_id && id == im->tree_net_ns_id);
}
