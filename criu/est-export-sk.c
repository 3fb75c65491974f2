/*
 * Our unix-sks and inet-sks images -> established files.img entries UNIXSK
 * and INETSK, sk-queues.img, tcp-stream-<hex inode>.img of a connection
 * (plan §2.14, §2.16). Our sparse option list
 * becomes the format's fixed sk_opts_entry (plus ip_opts_entry and
 * tcp_opts_entry of an inet socket); an option the format has no field for
 * goes through exp_cannot(). A unix socket whose peer is outside the dump
 * (--ext-unix-sk) points at an extra UNIXSK entry flagged EST_USK_EXTERN that
 * stands for that peer, as the established dump writes one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/tcp.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "kernel-compat.h"
#include "log.h"
#include "sockets.h"
#include "tcp-repair.h"
#include "unix-sk.h"

#include "est-fd.h"
#include "sk-inet.pb-c.h"
#include "sk-netlink.pb-c.h"
#include "sk-packet.pb-c.h"
#include "sk-opts.pb-c.h"
#include "sk-unix.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/fown.pb-c.h"
#include "est/sk-inet.pb-c.h"
#include "est/packet-sock.pb-c.h"
#include "est/sk-netlink.pb-c.h"
#include "est/sk-packet.pb-c.h"
#include "est/sk-unix.pb-c.h"
#include "est/tcp-stream.pb-c.h"

#define EXT_PEERS_MAX	1024

static Est__FownEntry no_fown = EST__FOWN_ENTRY__INIT;

/* Every files.img entry of a socket: one place for what the file layer adds (owners). */

/* What one socket's options become; pointers into it are valid while it lives. */
struct opts_out {
	Est__SkOptsEntry s;
	Est__IpOptsEntry ip;
	Est__IpOptsRawEntry raw;
	bool has_icmp;
	uint32_t icmp[8];	/* a raw ICMP socket's type filter, 1 (v4) or 8 (v6) words */
	Est__TcpOptsEntry tcp;
	bool has_v6only, v6only;
	char dev[IFNAMSIZ];
	uint64_t filter[BPF_MAXINSNS];	/* so_filter: one struct sock_filter a word */
};

struct sk_ctx {
	const char *img;	/* our image, for exp_cannot() */
	uint32_t id;
	int family, type, proto;
};

static int no_field(const struct sk_ctx *c, const SkOpt *o)
{
	const char *n = sk_opt_name(o->opt >> 16, o->opt & 0xffff);

	if (!n) {
		pr_err("not supported yet: %s: socket %u: option %u:%u", c->img, c->id,
		       o->opt >> 16, o->opt & 0xffff);
		return -1;
	}
	if (o->has_data)
		return exp_cannot(c->img, "socket %u: option %s (%zu bytes) has no field in the format",
				  c->id, n, o->data.len);
	return exp_cannot(c->img, "socket %u: option %s (%lld) has no field in the format",
			  c->id, n, (long long)o->val);
}

/* The unix socket options ours always keeps, at the value a fresh socket has. */
static bool unix_default(const struct sk_ctx *c, unsigned int name, int64_t v)
{
	if (c->family != AF_UNIX)
		return false;
	return (name == SO_PEEK_OFF && v < 0) || (name == SO_PASSPIDFD && !v) ||
	       (name == SO_PASSRIGHTS && v == 1);
}

/* SOL_SOCKET: 1 mapped, 0 no field. */
static int sol_socket(struct opts_out *o, const SkOpt *p, bool *snd, bool *rcv)
{
	Est__SkOptsEntry *s = &o->s;
	uint64_t v = (uint64_t)p->val;

	switch (p->opt & 0xffff) {
	case SO_SNDBUF: s->so_sndbuf = v, *snd = true; return 1;
	case SO_RCVBUF: s->so_rcvbuf = v, *rcv = true; return 1;
	case SO_SNDTIMEO_OLD: s->so_snd_tmo_sec = v / 1000000, s->so_snd_tmo_usec = v % 1000000; return 1;
	case SO_RCVTIMEO_OLD: s->so_rcv_tmo_sec = v / 1000000, s->so_rcv_tmo_usec = v % 1000000; return 1;
	case SO_LINGER:		/* off, it still reads the seconds last set: not in the format */
		if (!(v >> 32))
			return 0;
		s->has_so_linger = true, s->so_linger = (uint32_t)v;
		return 1;
	case SO_GET_FILTER:	/* checked on reading: 1 to BPF_MAXINSNS instructions */
		s->n_so_filter = p->data.len / sizeof(struct sock_filter);
		memcpy(o->filter, p->data.data, s->n_so_filter * sizeof(struct sock_filter));
		s->so_filter = o->filter;
		return 1;
	case SO_BINDTODEVICE:
		if (!p->has_data || !p->data.len || p->data.len >= sizeof(o->dev) ||
		    memchr(p->data.data, 0, p->data.len))
			return 0;
		memcpy(o->dev, p->data.data, p->data.len);
		s->so_bound_dev = o->dev;
		return 1;
#define FLAG(name, f) case name: s->has_##f = true, s->f = v; return 1
	FLAG(SO_REUSEADDR, reuseaddr);
	FLAG(SO_PRIORITY, so_priority);
	FLAG(SO_RCVLOWAT, so_rcvlowat);
	FLAG(SO_MARK, so_mark);
	FLAG(SO_PASSCRED, so_passcred);
	FLAG(SO_PASSSEC, so_passsec);
	FLAG(SO_DONTROUTE, so_dontroute);
	FLAG(SO_NO_CHECK, so_no_check);
	FLAG(SO_REUSEPORT, so_reuseport);
	FLAG(SO_BROADCAST, so_broadcast);
	FLAG(SO_KEEPALIVE, so_keepalive);
	FLAG(SO_OOBINLINE, so_oobinline);
	FLAG(SO_BUF_LOCK, so_buf_lock);
#undef FLAG
	}
	return 0;
}

/* A raw socket's own: IP_HDRINCL, IP_NODEFRAG, the ICMP type filter. 1 mapped, 0 no field. */
static int sol_raw(struct opts_out *o, const struct sk_ctx *c, const SkOpt *p)
{
	unsigned int level = p->opt >> 16, name = p->opt & 0xffff;
	bool v6 = c->family == AF_INET6;

	if ((!v6 && level == SOL_IP && name == IP_HDRINCL) ||
	    (v6 && level == SOL_IPV6 && name == IPV6_HDRINCL)) {
		o->raw.has_hdrincl = true, o->raw.hdrincl = p->val;
		return 1;
	}
	if (!v6 && level == SOL_IP && name == IP_NODEFRAG) {
		o->raw.has_nodefrag = true, o->raw.nodefrag = p->val;
		return 1;
	}
	if (p->has_data && p->data.len == (v6 ? 32u : 4u) &&
	    ((!v6 && level == SOL_RAW && name == ICMP_FILTER && c->proto == IPPROTO_ICMP) ||
	     (v6 && level == SOL_ICMPV6 && name == ICMP6_FILTER && c->proto == IPPROTO_ICMPV6))) {
		o->has_icmp = true;
		memcpy(o->icmp, p->data.data, p->data.len);
		return 1;
	}
	return 0;
}

/* SOL_IP, SOL_IPV6, SOL_TCP: 1 mapped, 0 no field. */
static int sol_inet(struct opts_out *o, const struct sk_ctx *c, const SkOpt *p)
{
	unsigned int level = p->opt >> 16, name = p->opt & 0xffff;
	bool v4 = c->family == AF_INET, v6 = c->family == AF_INET6;
	uint32_t v = (uint32_t)p->val;

	if (c->type == SOCK_RAW && sol_raw(o, c, p))
		return 1;

	if (level == SOL_TCP && c->proto == IPPROTO_TCP) {
		switch (name) {
		case TCP_KEEPCNT: o->s.has_tcp_keepcnt = true, o->s.tcp_keepcnt = v; return 1;
		case TCP_KEEPIDLE: o->s.has_tcp_keepidle = true, o->s.tcp_keepidle = v; return 1;
		case TCP_KEEPINTVL: o->s.has_tcp_keepintvl = true, o->s.tcp_keepintvl = v; return 1;
		case TCP_NODELAY: o->tcp.has_nodelay = true, o->tcp.nodelay = v; return 1;
		case TCP_CORK: o->tcp.has_cork = true, o->tcp.cork = v; return 1;
		}
		return 0;
	}
	if (level == SOL_IPV6 && v6 && name == IPV6_V6ONLY) {
		o->has_v6only = true, o->v6only = v;
		return 1;
	}
	/* IP_FREEBIND and IPV6_FREEBIND are one flag of the socket */
	if ((level == SOL_IP && name == IP_FREEBIND && (v4 || v6)) ||
	    (level == SOL_IPV6 && name == IPV6_FREEBIND && v6)) {
		o->ip.has_freebind = true, o->ip.freebind = v;
		return 1;
	}
	if (level != SOL_IP || !v4)
		return 0;
	switch (name) {
	case IP_TOS: o->ip.has_tos = true, o->ip.tos = v; return 1;
	case IP_TTL: o->ip.has_ttl = true, o->ip.ttl = v; return 1;
	case IP_PKTINFO: o->ip.has_pktinfo = true, o->ip.pktinfo = v; return 1;
	}
	return 0;
}

/*
 * Our options -> @o. The format requires the buffer sizes and timeouts:
 * those ours left out are a fresh socket's. SO_BUF_LOCK is written always,
 * as the established dump does on kernels that have it.
 */
static int conv_opts(struct opts_out *o, const struct sk_ctx *c, SkOpt *const *opts, size_t n)
{
	bool snd = false, rcv = false;
	size_t i;
	int r;

	memset(o, 0, sizeof(*o));
	est__sk_opts_entry__init(&o->s);
	est__ip_opts_entry__init(&o->ip);
	est__ip_opts_raw_entry__init(&o->raw);
	est__tcp_opts_entry__init(&o->tcp);
	o->s.has_so_buf_lock = true;
	for (i = 0; i < n; i++) {
		const SkOpt *p = opts[i];

		if (p->opt >> 16 == SOL_SOCKET) {
			if (unix_default(c, p->opt & 0xffff, p->val))
				continue;
			r = sol_socket(o, p, &snd, &rcv);
		} else {
			r = sol_inet(o, c, p);
		}
		if (!r && no_field(c, p))
			return -1;
	}
	if (!snd)
		o->s.so_sndbuf = est_sk_default_buf(c->family, c->type, c->proto, SO_SNDBUF);
	if (!rcv)
		o->s.so_rcvbuf = est_sk_default_buf(c->family, c->type, c->proto, SO_RCVBUF);
	return 0;
}

/* ---- unix sockets ------------------------------------------------------------ */

struct usk_out {
	Est__FileEntry f;
	Est__UnixSkEntry e;
	Est__FilePermsEntry perms;
	struct opts_out opts;
};

/* The outside peers met so far, by inode: each gets one EST_USK_EXTERN entry. */
struct ext_peers {
	uint64_t ino[EXT_PEERS_MAX];
	size_t nr;
};

static const UnixSkEntry *usk_by_id(const ProtobufCMessage *const *all, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((const UnixSkEntry *)all[i])->id == id)
			return (const UnixSkEntry *)all[i];
	return NULL;
}

/* The listener in whose accept queue @id's connection waits, or NULL. */
static const UnixSkEntry *unix_listener_of(const ProtobufCMessage *const *all, size_t n,
					   uint32_t id)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const UnixSkEntry *l = (const UnixSkEntry *)all[i];

		for (j = 0; j < l->n_pending; j++)
			if (l->pending[j] == id)
				return l;
	}
	return NULL;
}

/*
 * The format keeps the order of a listener's waiting connections only as
 * the order of their entries: ours must already be that order.
 */
static int unix_pending_order(const UnixSkEntry *l, const ProtobufCMessage *const *all, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j < l->n_pending; i++)
		if (((const UnixSkEntry *)all[i])->id == l->pending[j])
			j++;
	if (j == l->n_pending)
		return 0;
	return exp_cannot("unix-sks.img", "socket %u: the order of its %zu connections not accepted yet (the format keeps it only as the order of entries)",
			  l->id, l->n_pending);
}

/*
 * The entry standing for @u's peer outside the dump: ino the peer's, its
 * name (a datagram socket's, as ours keeps it), state LISTEN and the
 * socket's own type. Its id counts down from the top, far from ours.
 */
static int ext_peer(struct exp *ex, struct exp_img *w, struct ext_peers *x, const UnixSkEntry *u)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__UnixSkEntry e = EST__UNIX_SK_ENTRY__INIT;
	Est__SkOptsEntry o = EST__SK_OPTS_ENTRY__INIT;
	size_t i;

	if (!u->has_peer_ino || !u->peer_ino || u->peer_ino > UINT32_MAX) {
		pr_err("not supported yet: unix-sks.img: socket %u: an outside peer without an inode",
		       u->id);
		return -1;
	}
	for (i = 0; i < x->nr; i++)
		if (x->ino[i] == u->peer_ino)
			return 0;
	if (x->nr == EXT_PEERS_MAX) {
		pr_err("not supported yet: unix-sks.img: more than %d outside peers", EXT_PEERS_MAX);
		return -1;
	}
	x->ino[x->nr++] = u->peer_ino;
	e.id = exp_new_id(ex);
	e.ino = u->peer_ino;
	e.type = u->type;
	e.state = USK_LISTEN;
	e.uflags = EST_USK_EXTERN;
	e.fown = &no_fown;
	e.opts = &o;
	if (u->has_ext_peer_name)
		e.name = u->ext_peer_name;
	f.type = EST__FD_TYPES__UNIXSK;
	f.id = e.id;
	f.usk = &e;
	exp_file_add(ex, w, &f);
	return 0;
}

/* The socket file of a name in the file system: its attributes, deleted or not. */
static void unix_name(struct usk_out *o, const UnixSkEntry *u)
{
	o->e.name = u->name;
	if (!u->name.len || !u->name.data[0])
		return;		/* unnamed or abstract */
	o->e.name_dir = u->name_dir;
	if (u->has_mode) {
		est__file_perms_entry__init(&o->perms);
		o->perms.mode = u->mode;
		o->perms.uid = u->uid;
		o->perms.gid = u->gid;
		o->e.file_perms = &o->perms;
	}
	if (u->has_deleted) {
		o->e.has_deleted = true;
		o->e.deleted = u->deleted;
	}
}

static int unix_peer(struct usk_out *o, const UnixSkEntry *u, const ProtobufCMessage *const *all,
		     size_t n)
{
	const UnixSkEntry *p;

	if (u->has_ext_peer && u->ext_peer) {
		o->e.peer = u->peer_ino;	/* the EST_USK_EXTERN entry */
		return 0;
	}
	p = unix_listener_of(all, n, u->id);
	if (p) {
		o->e.peer = p->ino;	/* waits in its accept queue: the format's way */
		return 0;
	}
	if (!u->has_peer)
		return 0;
	p = usk_by_id(all, n, u->peer);
	if (!p || !p->ino || p->ino > UINT32_MAX) {
		pr_err("unix-sks.img: socket %u: peer %u is not in the dump", u->id, u->peer);
		return -1;
	}
	o->e.peer = p->ino;
	return 0;
}

static void unix_queue(struct exp_img *q, const UnixSkEntry *u)
{
	Est__SkPacketEntry pk;
	Est__ScmEntry scm, *scmp = &scm;
	size_t i, k = 0;

	for (i = 0; i < u->n_queue; i++) {	/* this socket's receive queue, in order */
		est__sk_packet_entry__init(&pk);
		pk.id_for = u->id;
		pk.length = u->queue[i].len;
		if (k < u->n_scm && u->scm[k]->msg == i) {	/* descriptors in flight */
			est__scm_entry__init(&scm);
			scm.type = SCM_RIGHTS;
			scm.rights = u->scm[k]->rights;
			scm.n_rights = u->scm[k++]->n_rights;
			pk.scm = &scmp;
			pk.n_scm = 1;
		}
		exp_img_add(q, &pk.base, u->queue[i].data, u->queue[i].len);
	}
}

static int conv_unix(struct exp *ex, struct exp_img *w, struct exp_img *q, struct ext_peers *x,
		     const UnixSkEntry *u, const ProtobufCMessage *const *all, size_t n)
{
	struct sk_ctx c = { "unix-sks.img", u->id, AF_UNIX, (int)u->type, 0 };
	bool queue = true;
	struct usk_out o;

	if (u->ino > UINT32_MAX) {
		pr_err("unix-sks.img: socket %u: inode %llu does not fit the format's 32 bits",
		       u->id, (unsigned long long)u->ino);
		return -1;
	}
	/* connected: the peer sent them; else the format keeps no sender */
	if (u->type == SOCK_DGRAM && u->n_queue && !u->has_peer &&
	    !(u->has_queue_unnamed && u->queue_unnamed)) {
		if (exp_cannot(c.img, "socket %u has queued datagrams from named senders (the format keeps no sender)",
			       u->id))
			return -1;
		queue = false;
	}
	if (u->has_gone_peer_name &&
	    exp_cannot(c.img, "socket %u is connected to a socket that has closed (the format has "
		       "no such peer)", u->id))
		return -1;
	memset(&o, 0, sizeof(o));
	est__file_entry__init(&o.f);
	est__unix_sk_entry__init(&o.e);
	if (u->n_pending && unix_pending_order(u, all, n))
		return -1;
	if (conv_opts(&o.opts, &c, u->opts, u->n_opts) || unix_peer(&o, u, all, n) ||
	    (u->has_ext_peer && u->ext_peer && ext_peer(ex, w, x, u)))
		return -1;
	o.e.id = u->id;
	o.e.ino = u->ino;
	o.e.type = u->type;
	o.e.state = u->state;
	o.e.flags = O_RDWR | u->flags;
	o.e.backlog = u->has_backlog ? u->backlog : 0;
	o.e.fown = &no_fown;
	o.e.opts = &o.opts.s;
	unix_name(&o, u);
	if (u->has_shutdown && u->shutdown) {
		o.e.has_shutdown = true;
		o.e.shutdown = u->shutdown & 3;	/* 1 READ, 2 WRITE: the same bits */
	}
	o.e.has_ns_id = true;
	o.e.ns_id = ex->net_ns_id;	/* criu's (root_ids) or the tree's own */
	o.f.type = EST__FD_TYPES__UNIXSK;
	o.f.id = u->id;
	o.f.usk = &o.e;
	exp_file_add(ex, w, &o.f);
	if (queue)
		unix_queue(q, u);
	return 0;
}

/* ---- inet sockets ------------------------------------------------------------ */

struct isk_out {
	Est__FileEntry f;
	Est__InetSkEntry e;
	struct opts_out opts;
	uint32_t src[4], dst[4];
};

/* Address bytes -> the format's words (the bytes kept in network order); 0 bad. */
static size_t addr_words(const ProtobufCBinaryData *b, bool has, size_t len, uint32_t *w)
{
	memset(w, 0, 16);
	if (!has)
		return len / 4;		/* none: zeros, as the established dump writes */
	if (b->len != len)
		return 0;
	memcpy(w, b->data, len);
	return len / 4;
}

/*
 * tcp-stream-<hex inode>.img of a connection: the format's entry, then the
 * receive queue's bytes and the send queue's. TCP_NODELAY and TCP_CORK go
 * in it too (they are in tcp_opts_entry already).
 */
static int conv_stream(struct exp *ex, const InetSkEntry *s, const Est__TcpOptsEntry *tcp)
{
	Est__TcpStreamEntry t = EST__TCP_STREAM_ENTRY__INIT;
	const TcpStream *ts = s->stream;
	struct exp_img w;
	char name[64];
	uint8_t *q;

	t.inq_len = (uint32_t)ts->inq.len;
	t.inq_seq = ts->inq_seq;
	t.outq_len = (uint32_t)ts->outq.len;
	t.outq_seq = ts->outq_seq;
	t.opt_mask = ts->opt_mask;
	t.snd_wscale = ts->snd_wscale;
	t.mss_clamp = ts->mss_clamp;
	t.has_rcv_wscale = t.has_timestamp = t.has_unsq_len = true;
	t.rcv_wscale = ts->rcv_wscale;
	t.timestamp = ts->timestamp;
	t.unsq_len = ts->unsent_len;
	t.has_cork = t.has_nodelay = true;
	t.cork = tcp->has_cork && tcp->cork;
	t.nodelay = tcp->has_nodelay && tcp->nodelay;
	t.has_snd_wl1 = t.has_snd_wnd = t.has_max_window = t.has_rcv_wnd = t.has_rcv_wup = true;
	t.snd_wl1 = ts->snd_wl1;
	t.snd_wnd = ts->snd_wnd;
	t.max_window = ts->max_window;
	t.rcv_wnd = ts->rcv_wnd;
	t.rcv_wup = ts->rcv_wup;
	q = malloc(ts->inq.len + ts->outq.len + 1);
	if (!q) {
		pr_err("out of memory");
		return -1;
	}
	if (ts->inq.len)
		memcpy(q, ts->inq.data, ts->inq.len);
	if (ts->outq.len)
		memcpy(q + ts->inq.len, ts->outq.data, ts->outq.len);
	snprintf(name, sizeof(name), "tcp-stream-%llx.img", (unsigned long long)s->ino);
	exp_img_open(&w, name);
	exp_img_add(&w, &t.base, q, ts->inq.len + ts->outq.len);
	free(q);
	return exp_img_close(ex, &w);
}

/*
 * A raw socket's ip_opts_raw_entry as the established dump writes it: the
 * header flag always (ours keeps it only when not a fresh socket's), the
 * IPv4 no-defrag flag when on, the ICMP type filter of an ICMP socket (a
 * fresh one passes every type).
 */
static void raw_opts(struct opts_out *o, const InetSkEntry *s)
{
	bool v6 = s->family == AF_INET6;

	if (!o->raw.has_hdrincl)
		o->raw.hdrincl = est_sk_default_opt((int)s->family, SOCK_RAW, (int)s->proto,
						    v6 ? SOL_IPV6 : SOL_IP,
						    v6 ? IPV6_HDRINCL : IP_HDRINCL) == 1;
	o->raw.has_hdrincl = o->raw.hdrincl;
	o->raw.has_nodefrag = o->raw.nodefrag;
	if (s->proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		o->raw.n_icmpv_filter = v6 ? 8 : 1;
		o->raw.icmpv_filter = o->icmp;	/* zeros unless set */
	}
	o->ip.raw = &o->raw;
}

static int conv_inet(struct exp *ex, struct exp_img *w, const InetSkEntry *s)
{
	struct sk_ctx c = { "inet-sks.img", s->id, (int)s->family, (int)s->type, (int)s->proto };
	size_t alen = s->family == AF_INET6 ? 16 : 4;
	struct isk_out o;

	if ((s->family != AF_INET && s->family != AF_INET6) || s->ino > UINT32_MAX) {
		pr_err("inet-sks.img: socket %u: family %u or inode %llu out of the format's range",
		       s->id, s->family, (unsigned long long)s->ino);
		return -1;
	}
	if (s->n_rqueue &&
	    exp_cannot(c.img, "socket %u has %zu datagrams queued (the format has no UDP queue)",
		       s->id, s->n_rqueue))
		return -1;
	if (s->n_mcast &&
	    exp_cannot(c.img, "socket %u is a member of %zu multicast groups (the format has "
		       "no memberships)", s->id, s->n_mcast))
		return -1;
	memset(&o, 0, sizeof(o));
	est__file_entry__init(&o.f);
	est__inet_sk_entry__init(&o.e);
	if (conv_opts(&o.opts, &c, s->opts, s->n_opts))
		return -1;
	o.e.id = s->id;
	o.e.ino = s->ino;
	o.e.family = s->family;
	o.e.type = s->type;
	o.e.proto = s->proto;
	o.e.state = s->state;
	o.e.flags = O_RDWR | s->flags;
	o.e.src_port = s->has_src_port ? s->src_port : 0;
	o.e.dst_port = s->has_dst_port ? s->dst_port : 0;
	o.e.backlog = s->has_backlog ? s->backlog : 0;
	o.e.n_src_addr = addr_words(&s->src_addr, s->has_src_addr, alen, o.src);
	o.e.n_dst_addr = addr_words(&s->dst_addr, s->has_dst_addr, alen, o.dst);
	if (!o.e.n_src_addr || !o.e.n_dst_addr) {
		pr_err("inet-sks.img: socket %u: an address of the wrong size", s->id);
		return -1;
	}
	o.e.src_addr = o.src;
	o.e.dst_addr = o.dst;
	o.e.fown = &no_fown;
	o.e.opts = &o.opts.s;
	o.e.has_v6only = o.opts.has_v6only;
	o.e.v6only = o.opts.v6only;
	if (s->type == SOCK_RAW)
		raw_opts(&o.opts, s);
	if (o.opts.ip.has_freebind || o.opts.ip.has_tos || o.opts.ip.has_ttl ||
	    o.opts.ip.has_pktinfo || o.opts.ip.raw)
		o.e.ip_opts = &o.opts.ip;
	if (o.opts.tcp.has_nodelay || o.opts.tcp.has_cork)
		o.e.tcp_opts = &o.opts.tcp;
	if (s->has_shutdown && s->shutdown) {
		o.e.has_shutdown = true;
		o.e.shutdown = s->shutdown & 3;
	}
	o.e.has_ns_id = true;
	o.e.ns_id = ex->net_ns_id;	/* criu's (root_ids) or the tree's own */
	o.f.type = EST__FD_TYPES__INETSK;
	o.f.id = s->id;
	o.f.isk = &o.e;
	exp_file_add(ex, w, &o.f);
	if (s->proto == IPPROTO_TCP && tcp_conn_state(s->state) && !s->stream)
		ex->tcp_close = true;
	return s->stream ? conv_stream(ex, s, &o.opts.tcp) : 0;
}

/* ---- netlink sockets ---------------------------------------------------------- */

/*
 * One NETLINKSK entry: port, groups, peer as the established dump writes
 * them. The format has no type (its restore makes SOCK_RAW, the same
 * socket to the kernel but for SO_TYPE) and no field for the SOL_NETLINK
 * options.
 */
static int conv_netlink(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const NetlinkSkEntry *n = (const NetlinkSkEntry *)m;
	struct sk_ctx c = { "netlink-sks.img", n->id, AF_NETLINK, SOCK_RAW, (int)n->protocol };
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__NetlinkSkEntry e = EST__NETLINK_SK_ENTRY__INIT;
	struct opts_out *o;
	int ret = -1;

	if (n->ino > UINT32_MAX) {
		pr_err("netlink-sks.img: socket %u: inode %llu does not fit the format's 32 bits",
		       n->id, (unsigned long long)n->ino);
		return -1;
	}
	if (n->type != SOCK_RAW &&
	    exp_cannot(c.img, "socket %u is of type %s (the format has no type: SOCK_RAW)", n->id,
		       sk_type_str(n->type)))
		return -1;
	o = exp_zalloc(sizeof(*o));
	if (!o || conv_opts(o, &c, n->opts, n->n_opts))
		goto out;
	e.id = n->id;
	e.ino = (uint32_t)n->ino;
	e.protocol = n->protocol;
	e.state = n->has_dst_portid;	/* NETLINK_CONNECTED */
	e.flags = O_RDWR | n->flags;
	e.portid = n->has_portid ? n->portid : 0;
	e.n_groups = n->n_groups;
	e.groups = n->groups;
	e.dst_portid = n->has_dst_portid ? n->dst_portid : 0;
	e.dst_group = n->has_dst_group ? n->dst_group : 0;
	e.fown = &no_fown;
	e.opts = &o->s;
	e.has_ns_id = true;
	e.ns_id = 2;		/* criu's network namespace (root_ids) */
	f.type = EST__FD_TYPES__NETLINKSK;
	f.id = n->id;
	f.nlsk = &e;
	exp_file_add(ex, w, &f);
	ret = 0;
out:
	free(o);
	return ret;
}

const struct est_fd_exp est_fd_netlink_sk_exp = { conv_netlink };

/* ---- packet sockets ----------------------------------------------------------- */

/* A SOL_PACKET option the format has a field for: 1 taken, 0 none. */
static int packet_opt(Est__PacketSockEntry *e, const SkOpt *p)
{
	uint32_t v = (uint32_t)p->val;

	if (p->opt >> 16 != SOL_PACKET)
		return 0;
	switch (p->opt & 0xffff) {
	case PACKET_VERSION: e->version = v; return 1;
	case PACKET_RESERVE: e->reserve = v; return 1;
	case PACKET_TIMESTAMP: e->timestamp = v; return 1;
	case PACKET_AUXDATA: e->aux_data = v != 0; return v <= 1;
	case PACKET_ORIGDEV: e->orig_dev = v != 0; return v <= 1;
	case PACKET_VNET_HDR: e->vnet_hdr = v != 0; return v <= 1;
	case PACKET_LOSS: e->loss = v != 0; return v <= 1;
	}
	return 0;
}

struct psk_out {
	Est__FileEntry f;
	Est__PacketSockEntry e;
	Est__PacketRing rx, tx;
	struct opts_out o;
	SkOpt *rest[SK_OPTS_TABLE];
	Est__PacketMclist mc[SK_PACKET_MC_MAX], *pmc[SK_PACKET_MC_MAX];
};

static int packet_mc(struct psk_out *o, const struct sk_ctx *c, const PacketSkEntry *s)
{
	size_t i;

	for (i = 0; i < s->n_mclist && i < SK_PACKET_MC_MAX; i++) {	/* checked on reading */
		const PacketMc *m = s->mclist[i];

		if (m->count > 1 &&
		    exp_cannot(c->img, "socket %u: membership %u on ifindex %u added %u times "
			       "(the format keeps one)", c->id, m->type, m->ifindex, m->count))
			return -1;
		est__packet_mclist__init(&o->mc[i]);
		o->mc[i].index = m->ifindex;
		o->mc[i].type = m->type;
		o->mc[i].addr = m->addr;
		o->pmc[i] = &o->mc[i];
	}
	o->e.n_mclist = i;
	o->e.mclist = o->pmc;
	return 0;
}

static Est__PacketRing *packet_ring(Est__PacketRing *o, const PacketRing *r)
{
	if (!r)
		return NULL;
	est__packet_ring__init(o);
	o->block_size = r->block_size;
	o->block_nr = r->block_nr;
	o->frame_size = r->frame_size;
	o->frame_nr = r->frame_nr;
	o->retire_tmo = r->retire_tmo;
	o->sizeof_priv = r->sizeof_priv;
	o->features = r->features;
	return o;
}

/* What the format cannot say: fanout flags. */
static int packet_shape(const struct sk_ctx *c, const PacketSkEntry *s)
{
	if (s->has_fanout && (s->fanout >> 24) &&
	    exp_cannot(c->img, "socket %u: fanout flags %#x (the format keeps id and type)",
		       c->id, s->fanout >> 24))
		return -1;
	return 0;
}

static int conv_packet(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const PacketSkEntry *s = (const PacketSkEntry *)m;
	struct sk_ctx c = { "packet-sks.img", s->id, AF_PACKET, (int)s->type, 0 };	/* SO_PROTOCOL */
	struct psk_out *o;
	size_t i, n = 0;
	int ret = -1;

	o = exp_zalloc(sizeof(*o));
	if (!o || packet_shape(&c, s))
		goto out;
	est__file_entry__init(&o->f);
	est__packet_sock_entry__init(&o->e);
	for (i = 0; i < s->n_opts && n < SK_OPTS_TABLE; i++)
		if (!packet_opt(&o->e, s->opts[i]))
			o->rest[n++] = s->opts[i];
	if (conv_opts(&o->o, &c, o->rest, n) || packet_mc(o, &c, s))
		goto out;
	o->e.id = s->id;
	o->e.type = s->type;
	o->e.protocol = s->protocol;
	o->e.flags = O_RDWR | s->flags;
	o->e.ifindex = s->ifindex;
	o->e.copy_thresh = s->copy_thresh;
	o->e.has_fanout = s->has_fanout;
	o->e.fanout = s->has_fanout ? s->fanout & 0xffffff : 0xffffffff;
	o->e.fown = &no_fown;
	o->e.opts = &o->o.s;
	o->e.rx_ring = packet_ring(&o->rx, s->rx_ring);
	o->e.tx_ring = packet_ring(&o->tx, s->tx_ring);
	o->e.has_ns_id = true;
	o->e.ns_id = ex->net_ns_id;	/* criu's (root_ids) or the tree's own */
	o->f.type = EST__FD_TYPES__PACKETSK;
	o->f.id = s->id;
	o->f.psk = &o->e;
	exp_file_add(ex, w, &o->f);
	ret = 0;
out:
	free(o);
	return ret;
}

const struct est_fd_exp est_fd_packet_sk_exp = { conv_packet };

/* ---- both ------------------------------------------------------------------- */

static int write_unix(struct exp *ex, struct exp_img *w, ProtobufCMessage **m, size_t n)
{
	struct ext_peers *x;
	struct exp_img q;
	size_t i;

	if (!n)
		return 0;
	x = exp_zalloc(sizeof(*x));
	if (!x)
		return -1;
	exp_img_open(&q, "sk-queues.img");
	for (i = 0; i < n; i++)
		if (conv_unix(ex, w, &q, x, (const UnixSkEntry *)m[i],
			      (const ProtobufCMessage *const *)m, n))
			break;
	free(x);
	if (i < n) {
		free(q.buf);
		return -1;
	}
	return exp_img_close(ex, &q);
}

int exp_sockets(struct exp *ex, struct exp_img *w)
{
	ProtobufCMessage **usk = NULL, **isk = NULL;
	size_t nr_usk = 0, nr_isk = 0, i;
	int ret = -1;

	if (exp_read_optional(ex, IMG_UNIX_SKS, "unix-sks.img", &usk, &nr_usk) ||
	    exp_read_optional(ex, IMG_INET_SKS, "inet-sks.img", &isk, &nr_isk))
		goto out;
	for (i = 0; i < nr_isk; i++)
		if (conv_inet(ex, w, (const InetSkEntry *)isk[i]))
			goto out;
	ret = write_unix(ex, w, usk, nr_usk);
out:
	img_free_all(usk, nr_usk);
	img_free_all(isk, nr_isk);
	return ret;
}
