/*
 * sock_diag over plain netlink (NETLINK_SOCK_DIAG): every unix socket,
 * every TCP/UDP socket of one family, every netlink socket of one
 * protocol, or every packet socket, in one dump request; the answers are kept sorted by inode. See
 * criu/include/sockets.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#define LOG_PREFIX "sk-diag: "
#include "log.h"
#include "sockets.h"
#include "netns.h"

#define DIAG_BUF	(32 * 1024)
#define DIAG_MAX	(1u << 22)	/* sockets of one kind we index */

/* ---- parsers ------------------------------------------------------------------ */

static const struct rtattr *first_attr(const struct nlmsghdr *h, size_t hdr, int *len)
{
	size_t off = NLMSG_ALIGN(hdr);

	*len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(off);
	return (const struct rtattr *)((const char *)NLMSG_DATA(h) + off);
}

static int unix_attr(const struct rtattr *a, struct sk_unix_diag *u)
{
	size_t len = RTA_PAYLOAD(a);
	const void *p = RTA_DATA(a);

	switch (a->rta_type) {
	case UNIX_DIAG_NAME:
		if (len > SK_NAME_MAX)
			return -1;
		memcpy(u->name, p, len);
		u->name_len = len;
		break;
	case UNIX_DIAG_VFS:
		if (len < sizeof(struct unix_diag_vfs))
			return -1;
		u->has_vfs = true;
		u->vfs_ino = ((const struct unix_diag_vfs *)p)->udiag_vfs_ino;
		u->vfs_dev = ((const struct unix_diag_vfs *)p)->udiag_vfs_dev;
		break;
	case UNIX_DIAG_PEER:
		if (len < sizeof(uint32_t))
			return -1;
		u->peer = *(const uint32_t *)p;
		u->peer_gone = !u->peer;
		break;
	case UNIX_DIAG_ICONS:
		u->nr_icons = (uint32_t)(len / sizeof(uint32_t));
		break;
	case UNIX_DIAG_RQLEN:
		if (len < sizeof(struct unix_diag_rqlen))
			return -1;
		u->rqueue = ((const struct unix_diag_rqlen *)p)->udiag_rqueue;
		u->wqueue = ((const struct unix_diag_rqlen *)p)->udiag_wqueue;
		break;
	case UNIX_DIAG_SHUTDOWN:
		if (len < 1)
			return -1;
		u->shutdown = *(const uint8_t *)p;
		break;
	}
	return 0;
}

int sk_diag_parse_unix(const struct nlmsghdr *h, struct sk_unix_diag *u)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		pr_err("unix diag answer of %u bytes is too short", h->nlmsg_len);
		return -1;
	}
	if (m->udiag_family != AF_UNIX)
		return 1;
	memset(u, 0, sizeof(*u));
	u->ino = m->udiag_ino;
	u->type = m->udiag_type;
	u->state = m->udiag_state;
	for (a = first_attr(h, sizeof(*m), &len); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (unix_attr(a, u)) {
			pr_err("unix diag: socket %u: attribute %u of %u bytes is malformed",
			       m->udiag_ino, a->rta_type, a->rta_len);
			return -1;
		}
	return 0;
}

int sk_diag_parse_inet(const struct nlmsghdr *h, int proto, struct sk_inet_diag *s)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		pr_err("inet diag answer of %u bytes is too short", h->nlmsg_len);
		return -1;
	}
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return 1;
	memset(s, 0, sizeof(*s));
	s->ino = m->idiag_inode;
	s->family = m->idiag_family;
	s->proto = (uint8_t)proto;
	s->state = m->idiag_state;
	s->v6only = -1;
	s->sport = ntohs(m->id.idiag_sport);
	s->dport = ntohs(m->id.idiag_dport);
	memcpy(s->src, m->id.idiag_src, 16);
	memcpy(s->dst, m->id.idiag_dst, 16);
	s->rqueue = m->idiag_rqueue;
	s->wqueue = m->idiag_wqueue;
	for (a = first_attr(h, sizeof(*m), &len); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (RTA_PAYLOAD(a) < 1) {
			pr_err("inet diag: socket %u: empty attribute %u", m->idiag_inode, a->rta_type);
			return -1;
		}
		if (a->rta_type == INET_DIAG_SHUTDOWN)
			s->shutdown = *(const uint8_t *)RTA_DATA(a);
		else if (a->rta_type == INET_DIAG_SKV6ONLY)
			s->v6only = *(const uint8_t *)RTA_DATA(a) != 0;
		else if (a->rta_type == INET_DIAG_MD5SIG)
			s->md5 = true;
	}
	return 0;
}

static int netlink_attr(const struct rtattr *a, struct sk_netlink_diag *s)
{
	size_t len = RTA_PAYLOAD(a), i;
	const uint32_t *w = RTA_DATA(a);

	switch (a->rta_type) {
	case NETLINK_DIAG_GROUPS:	/* whole longs of bits */
		if (len % sizeof(uint32_t))
			return -1;
		for (i = 0; i < len / sizeof(uint32_t); i++) {
			if (i < SK_NL_GROUP_WORDS)
				s->groups[i] = w[i];
			else if (w[i])
				s->more_groups = true;
		}
		break;
	case NETLINK_DIAG_MEMINFO:
		if (len < (SK_MEMINFO_RMEM_ALLOC + 1) * sizeof(uint32_t))
			return -1;
		s->has_mem = true;
		s->rmem = w[SK_MEMINFO_RMEM_ALLOC];
		break;
	case NETLINK_DIAG_FLAGS:
		if (len < sizeof(uint32_t))
			return -1;
		s->has_flags = true;
		s->flags = w[0];
		break;
	}
	return 0;
}

int sk_diag_parse_netlink(const struct nlmsghdr *h, struct sk_netlink_diag *s)
{
	const struct netlink_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		pr_err("netlink diag answer of %u bytes is too short", h->nlmsg_len);
		return -1;
	}
	if (m->ndiag_family != AF_NETLINK)
		return 1;
	memset(s, 0, sizeof(*s));
	s->ino = m->ndiag_ino;
	s->proto = m->ndiag_protocol;
	s->state = m->ndiag_state;
	s->portid = m->ndiag_portid;
	s->dst_portid = m->ndiag_dst_portid;
	s->dst_group = m->ndiag_dst_group;
	for (a = first_attr(h, sizeof(*m), &len); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (netlink_attr(a, s)) {
			pr_err("netlink diag: socket %u: attribute %u of %u bytes is malformed",
			       m->ndiag_ino, a->rta_type, a->rta_len);
			return -1;
		}
	return 0;
}

static void packet_ring(const struct packet_diag_ring *r, struct sk_packet_ring *o)
{
	o->block_size = r->pdr_block_size;
	o->block_nr = r->pdr_block_nr;
	o->frame_size = r->pdr_frame_size;
	o->frame_nr = r->pdr_frame_nr;
	o->retire_tmo = r->pdr_retire_tmo;
	o->sizeof_priv = r->pdr_sizeof_priv;
	o->features = r->pdr_features;
}

static int packet_mclist(const struct rtattr *a, struct sk_packet_diag *s)
{
	const struct packet_diag_mclist *m = RTA_DATA(a);
	size_t i, n;

	if (RTA_PAYLOAD(a) % sizeof(*m))
		return -1;
	n = RTA_PAYLOAD(a) / sizeof(*m);
	for (i = 0; i < n; i++) {
		struct sk_packet_mc *c = &s->mc[s->nr_mc];

		if (m[i].pdmc_alen > SK_PACKET_ADDR_MAX || !m[i].pdmc_count)
			return -1;
		if (s->nr_mc == SK_PACKET_MC_MAX) {
			s->more_mc = true;
			continue;
		}
		c->ifindex = m[i].pdmc_index;
		c->count = m[i].pdmc_count;
		c->type = m[i].pdmc_type;
		c->alen = m[i].pdmc_alen;
		memcpy(c->addr, m[i].pdmc_addr, c->alen);
		s->nr_mc++;
	}
	return 0;
}

static int packet_attr(const struct rtattr *a, struct sk_packet_diag *s)
{
	size_t len = RTA_PAYLOAD(a);
	const void *p = RTA_DATA(a);

	switch (a->rta_type) {
	case PACKET_DIAG_INFO: {
		const struct packet_diag_info *i = p;

		if (len < sizeof(*i))
			return -1;
		s->has_info = true;
		s->ifindex = i->pdi_index;
		s->version = i->pdi_version;
		s->reserve = i->pdi_reserve;
		s->copy_thresh = i->pdi_copy_thresh;
		s->tstamp = i->pdi_tstamp;
		s->flags = i->pdi_flags;
		break;
	}
	case PACKET_DIAG_MCLIST:
		return packet_mclist(a, s);
	case PACKET_DIAG_RX_RING:
	case PACKET_DIAG_TX_RING:
		if (len < sizeof(struct packet_diag_ring))
			return -1;
		if (a->rta_type == PACKET_DIAG_RX_RING)
			s->has_rx_ring = true, packet_ring(p, &s->rx_ring);
		else
			s->has_tx_ring = true, packet_ring(p, &s->tx_ring);
		break;
	case PACKET_DIAG_FANOUT:
		if (len < sizeof(uint32_t))
			return -1;
		s->has_fanout = true;
		s->fanout = *(const uint32_t *)p;
		break;
	case PACKET_DIAG_MEMINFO:
		if (len < (SK_MEMINFO_WMEM_ALLOC + 1) * sizeof(uint32_t))
			return -1;
		s->has_mem = true;
		s->rmem = ((const uint32_t *)p)[SK_MEMINFO_RMEM_ALLOC];
		s->wmem = ((const uint32_t *)p)[SK_MEMINFO_WMEM_ALLOC];
		break;
	}
	return 0;
}

int sk_diag_parse_packet(const struct nlmsghdr *h, struct sk_packet_diag *s)
{
	const struct packet_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		pr_err("packet diag answer of %u bytes is too short", h->nlmsg_len);
		return -1;
	}
	if (m->pdiag_family != AF_PACKET)
		return 1;
	memset(s, 0, sizeof(*s));
	s->ino = m->pdiag_ino;
	s->type = m->pdiag_type;
	s->num = m->pdiag_num;
	for (a = first_attr(h, sizeof(*m), &len); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (packet_attr(a, s)) {
			pr_err("packet diag: socket %u: attribute %u of %u bytes is malformed",
			       m->pdiag_ino, a->rta_type, a->rta_len);
			return -1;
		}
	return 0;
}

/* ---- the dump request ---------------------------------------------------------- */

struct collect {
	int	(*one)(const struct nlmsghdr *h, void *arg);
	void	*arg;
};

/* Hand every message of one datagram to c->one; 1 once NLMSG_DONE is seen. */
static int walk(const char *buf, size_t n, const struct collect *c)
{
	size_t off = 0;

	while (n - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);

		if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > n - off) {
			pr_err("sock_diag: a message of %u bytes in %zu left", h->nlmsg_len, n - off);
			return -1;
		}
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			errno = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : EIO;
			pr_perror("sock_diag refused the request");
			return -1;
		}
		if (c->one(h, c->arg))
			return -1;
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	return 0;
}

/* The network namespace whose sockets are asked about (-1: criu's), see netns.h. */
static int diag_nsfd = -1;

void sk_diag_netns(int nsfd)
{
	diag_nsfd = nsfd;
}

static int diag_request(const void *req, size_t len, const struct collect *c)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int fd, ret = -1, saved = -1;
	char *buf;

	if (diag_nsfd >= 0 && netns_switch(diag_nsfd, &saved))
		return -1;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (netns_back(&saved) && fd >= 0) {
		close(fd);
		return -1;
	}
	if (fd < 0) {
		pr_perror("NETLINK_SOCK_DIAG socket");
		return -1;
	}
	buf = malloc(DIAG_BUF);
	if (!buf) {
		pr_err("out of memory");
		goto out;
	}
	if (sendto(fd, req, len, 0, (struct sockaddr *)&nl, sizeof(nl)) != (ssize_t)len) {
		pr_perror("sock_diag request");
		goto out;
	}
	while (ret < 0) {
		ssize_t n = recv(fd, buf, DIAG_BUF, 0);
		int w;

		if (n <= 0) {
			pr_perror("sock_diag answer");
			break;
		}
		w = walk(buf, (size_t)n, c);
		if (w < 0)
			break;
		if (w)
			ret = 0;
	}
out:
	free(buf);
	close(fd);
	return ret;
}

static int cmp_u(const void *a, const void *b)
{
	const struct sk_unix_diag *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int cmp_in(const void *a, const void *b)
{
	const struct sk_inet_diag *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Room for one more element of @size in *@v (capacity *@cap); -1 if none. */
static int grow(void **v, size_t nr, size_t *cap, size_t size)
{
	void *n;

	if (nr < *cap)
		return 0;
	if (nr >= DIAG_MAX)
		return -1;
	n = realloc(*v, (nr ? 2 * nr : 64) * size);
	if (!n)
		return -1;
	*v = n;
	*cap = nr ? 2 * nr : 64;
	return 0;
}

/* A listener's pending connections (UNIX_DIAG_ICONS), appended to t->icons. */
static int keep_icons(const struct nlmsghdr *h, struct sk_diag *t, struct sk_unix_diag *u)
{
	const struct rtattr *a;
	uint32_t *n;
	int len;

	if (!u->nr_icons)
		return 0;
	for (a = first_attr(h, sizeof(struct unix_diag_msg), &len); RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if (a->rta_type == UNIX_DIAG_ICONS)
			break;
	if (!RTA_OK(a, len) || t->nr_icons + u->nr_icons > DIAG_MAX)
		return -1;
	n = realloc(t->icons, (t->nr_icons + u->nr_icons) * sizeof(*n));
	if (!n)
		return -1;
	t->icons = n;
	memcpy(n + t->nr_icons, RTA_DATA(a), u->nr_icons * sizeof(*n));
	u->icon_off = (uint32_t)t->nr_icons;
	t->nr_icons += u->nr_icons;
	return 0;
}

const uint32_t *sk_diag_icons(const struct sk_diag *t, const struct sk_unix_diag *u)
{
	return t->icons + u->icon_off;
}

static int one_unix(const struct nlmsghdr *h, void *arg)
{
	struct sk_diag *t = arg;
	int r;

	if (grow((void **)&t->u, t->nr_u, &t->cap_u, sizeof(*t->u))) {
		pr_err("more than %u unix sockets, or out of memory", DIAG_MAX);
		return -1;
	}
	r = sk_diag_parse_unix(h, &t->u[t->nr_u]);
	if (r < 0)
		return -1;
	if (!r && keep_icons(h, t, &t->u[t->nr_u])) {
		pr_err("more than %u pending unix connections, or out of memory", DIAG_MAX);
		return -1;
	}
	if (!r)
		t->nr_u++;
	return 0;
}

struct inet_arg {
	struct sk_diag	*t;
	int		proto;
};

static int one_inet(const struct nlmsghdr *h, void *arg)
{
	struct inet_arg *ia = arg;
	struct sk_diag *t = ia->t;
	int r;

	if (grow((void **)&t->in, t->nr_in, &t->cap_in, sizeof(*t->in))) {
		pr_err("more than %u inet sockets, or out of memory", DIAG_MAX);
		return -1;
	}
	r = sk_diag_parse_inet(h, ia->proto, &t->in[t->nr_in]);
	if (r < 0)
		return -1;
	if (!r)
		t->nr_in++;
	return 0;
}

static int cmp_nl(const void *a, const void *b)
{
	const struct sk_netlink_diag *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int one_netlink(const struct nlmsghdr *h, void *arg)
{
	struct sk_diag *t = arg;
	int r;

	if (grow((void **)&t->nl, t->nr_nl, &t->cap_nl, sizeof(*t->nl))) {
		pr_err("more than %u netlink sockets, or out of memory", DIAG_MAX);
		return -1;
	}
	r = sk_diag_parse_netlink(h, &t->nl[t->nr_nl]);
	if (r < 0)
		return -1;
	if (!r)
		t->nr_nl++;
	return 0;
}

static int collect_netlink(struct sk_diag *t, int proto)
{
	struct {
		struct nlmsghdr			h;
		struct netlink_diag_req		r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_NETLINK, .sdiag_protocol = (uint8_t)proto,
		       .ndiag_show = NDIAG_SHOW_GROUPS | NDIAG_SHOW_MEMINFO | NDIAG_SHOW_FLAGS },
	};
	struct collect c = { one_netlink, t };

	if (diag_request(&req, sizeof(req), &c))
		return -1;
	if (t->nr_nl)
		qsort(t->nl, t->nr_nl, sizeof(*t->nl), cmp_nl);
	t->have_nl |= 1u << proto;
	return 0;
}

const struct sk_netlink_diag *sk_diag_netlink(struct sk_diag *t, int proto, uint64_t ino,
					      int *err)
{
	struct sk_netlink_diag key = { .ino = ino }, *s;

	*err = 0;
	if (proto < 0 || proto >= 32) {
		pr_err("netlink protocol %d out of range", proto);
		*err = -1;
		return NULL;
	}
	if (!(t->have_nl & (1u << proto)) && collect_netlink(t, proto)) {
		*err = -1;
		return NULL;
	}
	s = t->nr_nl ? bsearch(&key, t->nl, t->nr_nl, sizeof(*t->nl), cmp_nl) : NULL;
	return s && s->proto == proto ? s : NULL;	/* one table for every protocol dumped */
}

static int cmp_pk(const void *a, const void *b)
{
	const struct sk_packet_diag *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int one_packet(const struct nlmsghdr *h, void *arg)
{
	struct sk_diag *t = arg;
	int r;

	if (grow((void **)&t->pk, t->nr_pk, &t->cap_pk, sizeof(*t->pk))) {
		pr_err("more than %u packet sockets, or out of memory", DIAG_MAX);
		return -1;
	}
	r = sk_diag_parse_packet(h, &t->pk[t->nr_pk]);
	if (r < 0)
		return -1;
	if (!r)
		t->nr_pk++;
	return 0;
}

static int collect_packet(struct sk_diag *t)
{
	struct {
		struct nlmsghdr			h;
		struct packet_diag_req		r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_PACKET,	/* protocol 0: the kernel wants no other */
		       .pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG |
				     PACKET_SHOW_FANOUT | PACKET_SHOW_MEMINFO | PACKET_SHOW_FILTER },
	};
	struct collect c = { one_packet, t };

	if (diag_request(&req, sizeof(req), &c))
		return -1;
	if (t->nr_pk)
		qsort(t->pk, t->nr_pk, sizeof(*t->pk), cmp_pk);
	t->have_pk = true;
	return 0;
}

const struct sk_packet_diag *sk_diag_packet(struct sk_diag *t, uint64_t ino, int *err)
{
	struct sk_packet_diag key = { .ino = ino };

	*err = 0;
	if (!t->have_pk && collect_packet(t)) {
		*err = -1;
		return NULL;
	}
	return t->nr_pk ? bsearch(&key, t->pk, t->nr_pk, sizeof(*t->pk), cmp_pk) : NULL;
}

static int collect_unix(struct sk_diag *t)
{
	struct {
		struct nlmsghdr		h;
		struct unix_diag_req	r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0u,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER |
				     UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN },
	};
	struct collect c = { one_unix, t };

	if (diag_request(&req, sizeof(req), &c))
		return -1;
	if (t->nr_u)
		qsort(t->u, t->nr_u, sizeof(*t->u), cmp_u);
	t->have_u = true;
	return 0;
}

static int collect_inet(struct sk_diag *t, int family, int proto)
{
	struct {
		struct nlmsghdr			h;
		struct inet_diag_req_v2		r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		/* INET_DIAG_INFO brings the protocol's extras: INET_DIAG_MD5SIG */
		.r = { .sdiag_family = (uint8_t)family, .sdiag_protocol = (uint8_t)proto,
		       .idiag_states = ~0u, .idiag_ext = 1 << (INET_DIAG_INFO - 1) },
	};
	struct inet_arg ia = { t, proto };
	struct collect c = { one_inet, &ia };

	if (diag_request(&req, sizeof(req), &c))
		return -1;
	if (t->nr_in)
		qsort(t->in, t->nr_in, sizeof(*t->in), cmp_in);
	return 0;
}

const struct sk_unix_diag *sk_diag_unix(struct sk_diag *t, uint64_t ino, int *err)
{
	struct sk_unix_diag key = { .ino = ino };

	*err = 0;
	if (!t->have_u && collect_unix(t)) {
		*err = -1;
		return NULL;
	}
	return t->nr_u ? bsearch(&key, t->u, t->nr_u, sizeof(*t->u), cmp_u) : NULL;
}

static unsigned int inet_bit(int family, int proto)
{
	return 1u << ((family == AF_INET6) * 3 + (proto == IPPROTO_UDP) +
		      2 * (proto == IPPROTO_UDPLITE));
}

const struct sk_inet_diag *sk_diag_inet(struct sk_diag *t, int family, int proto,
					uint64_t ino, int *err)
{
	struct sk_inet_diag key = { .ino = ino }, *s;
	size_t i;

	*err = 0;
	if (!(t->have_in & inet_bit(family, proto))) {
		if (collect_inet(t, family, proto)) {
			*err = -1;
			return NULL;
		}
		t->have_in |= inet_bit(family, proto);
	}
	s = t->nr_in ? bsearch(&key, t->in, t->nr_in, sizeof(*t->in), cmp_in) : NULL;
	if (!s)
		return NULL;
	/* an inode is one socket, but step over any twin of another protocol */
	i = (size_t)(s - t->in);
	while (i > 0 && t->in[i - 1].ino == ino)
		i--;
	for (; i < t->nr_in && t->in[i].ino == ino; i++)
		if (t->in[i].family == family && t->in[i].proto == proto)
			return &t->in[i];
	return NULL;
}

void sk_diag_free(struct sk_diag *t)
{
	free(t->u);
	free(t->in);
	free(t->icons);
	free(t->nl);
	free(t->pk);
	memset(t, 0, sizeof(*t));
}
