/*
 * Established sockets -> ours (plan §2.14, §2.16): the fixed socket options
 * of sk_opts_entry become our sparse list (only what differs from a fresh
 * socket of the kind, as our dump keeps them), the name of a unix socket,
 * and inet sockets (files.img INETSK): TCP listening, closed or
 * established (its tcp-stream-<hex inode>.img: the stream and both queues;
 * none: dumped with --tcp-close), UDP and UDP-Lite bound and/or connected,
 * shut down or not, raw sockets (protocols but TCP and UDP) and ping sockets
 * with their raw IP options. Everything else - other TCP states, raw IP
 * options on other sockets, socket filters over BPF_MAXINSNS, other
 * namespaces - is refused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/if_packet.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "log.h"

#include "tcp-repair.h"
#include "est-fd.h"
#include "sk-inet.pb-c.h"
#include "sk-netlink.pb-c.h"
#include "sk-packet.pb-c.h"
#include "sk-unix.pb-c.h"
#include "est/tcp-stream.pb-c.h"

#define ISK_CONNECTED	1	/* TCP_ESTABLISHED: a connected UDP socket */
#define ISK_CLOSE	7
#define ISK_LISTEN	10
#define EST_SHUT_READ	1	/* sk_shutdown */
/* tcp_info option bits the established dump may keep that restore nothing */
#define TCPI_INFO_ONLY	(TCPI_OPT_ECN_SEEN | TCPI_OPT_SYN_DATA)

static void add(struct imp_sk_opts *o, int level, int name, int64_t val)
{
	SkOpt *s = &o->opt[o->n];

	sk_opt__init(s);
	s->opt = (uint32_t)level << 16 | (uint32_t)name;
	s->val = val;
	o->p[o->n++] = s;
}

int imp_sk_opts(struct imp_sk_opts *o, const Est__SkOptsEntry *s, int family, int type,
		int proto, uint32_t id)
{
	uint64_t snd = s->so_snd_tmo_sec * 1000000 + s->so_snd_tmo_usec;
	uint64_t rcv = s->so_rcv_tmo_sec * 1000000 + s->so_rcv_tmo_usec;
	bool tcp = proto == IPPROTO_TCP;
	size_t bufs;

	o->n = 0;
	if (s->n_so_filter > BPF_MAXINSNS || (!tcp && (s->has_tcp_keepcnt || s->has_tcp_keepidle ||
							s->has_tcp_keepintvl)) ||
	    s->so_snd_tmo_sec > (1u << 31) || s->so_rcv_tmo_sec > (1u << 31) ||
	    s->so_snd_tmo_usec >= 1000000 || s->so_rcv_tmo_usec >= 1000000 ||
	    (s->so_bound_dev && (!*s->so_bound_dev || strlen(s->so_bound_dev) >= 16))) {
		pr_err("not supported yet: files.img: socket %u: a filter over BPF_MAXINSNS, TCP options on another protocol or an out-of-range option",
		       id);
		return -1;
	}
	if ((int)s->so_sndbuf != est_sk_default_buf(family, type, proto, SO_SNDBUF))
		add(o, SOL_SOCKET, SO_SNDBUF, s->so_sndbuf);
	if ((int)s->so_rcvbuf != est_sk_default_buf(family, type, proto, SO_RCVBUF))
		add(o, SOL_SOCKET, SO_RCVBUF, s->so_rcvbuf);
	bufs = o->n;
	if (s->n_so_filter) {	/* checked by the option list's reader */
		add(o, SOL_SOCKET, SO_GET_FILTER, (int64_t)s->n_so_filter);
		o->opt[o->n - 1].has_data = true;
		o->opt[o->n - 1].data.len = s->n_so_filter * sizeof(struct sock_filter);
		memcpy(o->filter, s->so_filter, o->opt[o->n - 1].data.len);
		o->opt[o->n - 1].data.data = (uint8_t *)o->filter;
	}
	if (snd)
		add(o, SOL_SOCKET, SO_SNDTIMEO_OLD, snd);
	if (rcv)
		add(o, SOL_SOCKET, SO_RCVTIMEO_OLD, rcv);
#define FLAG(f, level, name) if (s->has_##f && s->f) add(o, level, name, s->f)
	FLAG(reuseaddr, SOL_SOCKET, SO_REUSEADDR);
	FLAG(so_priority, SOL_SOCKET, SO_PRIORITY);
	FLAG(so_mark, SOL_SOCKET, SO_MARK);
	FLAG(so_passcred, SOL_SOCKET, SO_PASSCRED);
	FLAG(so_passsec, SOL_SOCKET, SO_PASSSEC);
	FLAG(so_dontroute, SOL_SOCKET, SO_DONTROUTE);
	FLAG(so_reuseport, SOL_SOCKET, SO_REUSEPORT);
	FLAG(so_broadcast, SOL_SOCKET, SO_BROADCAST);
	FLAG(so_keepalive, SOL_SOCKET, SO_KEEPALIVE);
	FLAG(so_oobinline, SOL_SOCKET, SO_OOBINLINE);
	FLAG(so_no_check, SOL_SOCKET, SO_NO_CHECK);
	FLAG(tcp_keepcnt, SOL_TCP, TCP_KEEPCNT);
	FLAG(tcp_keepidle, SOL_TCP, TCP_KEEPIDLE);
	FLAG(tcp_keepintvl, SOL_TCP, TCP_KEEPINTVL);
#undef FLAG
	/* setting a buffer size locks it: then what SO_BUF_LOCK says counts, 0 too */
	if (s->has_so_buf_lock && (s->so_buf_lock || bufs))
		add(o, SOL_SOCKET, SO_BUF_LOCK, s->so_buf_lock);
	if (s->has_so_rcvlowat && s->so_rcvlowat != 1)
		add(o, SOL_SOCKET, SO_RCVLOWAT, s->so_rcvlowat);
	if (s->has_so_linger)	/* present when on; ours: l_onoff << 32 | l_linger */
		add(o, SOL_SOCKET, SO_LINGER, (int64_t)1 << 32 | s->so_linger);
	if (s->so_bound_dev) {
		add(o, SOL_SOCKET, SO_BINDTODEVICE, 0);
		o->opt[o->n - 1].has_data = true;
		o->opt[o->n - 1].data.data = (uint8_t *)s->so_bound_dev;
		o->opt[o->n - 1].data.len = strlen(s->so_bound_dev);
	}
	return 0;
}

/* ---- unix socket names ------------------------------------------------------------ */

/*
 * The length of a name as ours keeps it. The kernel ends every path name
 * with a NUL, however bind() was called, and the established tool keeps
 * the bytes sock_diag gives; ours keeps the path without it (as our dump
 * does), which restores the same name. An abstract name is kept whole.
 */
size_t imp_unix_name_len(const ProtobufCBinaryData *n)
{
	if (n->len > 1 && n->data[0] && !n->data[n->len - 1])
		return n->len - 1;
	return n->len;
}

/*
 * Ours tells an accepted connection's listener by the name and the socket
 * file's inode, which the format lacks; it names the listener by the name
 * alone. So a path is given the inode of the one listening socket of the
 * dump bound to it (two of them: refused), or the socket's own.
 */
static int name_ino(const struct imp *im, const Est__UnixSkEntry *s, uint64_t *ino)
{
	const Est__UnixSkEntry *l = NULL;
	size_t i;

	for (i = 0; i < im->nr_obj; i++) {
		const Est__UnixSkEntry *o = im->obj[i]->usk;

		if (!o || o->state != ISK_LISTEN ||
		    imp_unix_name_len(&o->name) != imp_unix_name_len(&s->name) ||
		    memcmp(o->name.data, s->name.data, imp_unix_name_len(&s->name)) ||
		    !o->name_dir != !s->name_dir || (o->name_dir && strcmp(o->name_dir, s->name_dir)) ||
		    (o->has_deleted && o->deleted))
			continue;
		if (l) {
			pr_err("not supported yet: files.img: unix sockets %u and %u listen on one path",
			       l->id, o->id);
			return -1;
		}
		l = o;
	}
	*ino = l ? l->ino : s->ino;
	return 0;
}

int imp_unix_name(const struct imp *im, const Est__UnixSkEntry *s, UnixSkEntry *e)
{
	const uint8_t *n = s->name.data;
	size_t len = imp_unix_name_len(&s->name);

	if (!len) {
		if (s->file_perms || (s->has_deleted && s->deleted) || s->state == ISK_LISTEN) {
			pr_err("files.img: unix socket %u: no name, but listening, a file or deleted",
			       s->id);
			return -1;
		}
		return 0;
	}
	if (len > 108 || (n[0] && memchr(n, 0, len)) || (s->name_dir && (!n[0] || n[0] == '/')) ||
	    (n[0] && n[0] != '/' && (!s->name_dir || s->name_dir[0] != '/'))) {
		pr_err("files.img: unix socket %u: a name too long or with a NUL, or relative "
		       "without an absolute directory (name_dir), or one with a name not relative",
		       s->id);
		return -1;
	}
	e->has_name = true;
	e->name_dir = s->name_dir;
	e->name.data = s->name.data;
	e->name.len = len;
	if (!n[0])
		return 0;	/* abstract */
	if (s->file_perms) {
		e->has_mode = e->has_uid = e->has_gid = true;
		e->mode = s->file_perms->mode;
		e->uid = s->file_perms->uid;
		e->gid = s->file_perms->gid;
	}
	e->has_deleted = s->has_deleted;
	e->deleted = s->has_deleted && s->deleted;
	e->has_vfs_ino = true;
	return name_ino(im, s, &e->vfs_ino);
}

/* ---- inet sockets ----------------------------------------------------------------- */

const void *imp_isk_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->isk)
		return NULL;
	*id = f->isk->id;
	*fown = f->isk->fown;
	return f->isk;
}

struct inet_out {
	InetSkEntry e;
	struct imp_sk_opts o;
	uint32_t icmp[8];	/* a raw ICMP socket's type filter */
	uint8_t src[16], dst[16];
	TcpStream ts;
	uint8_t q[];		/* both queues of an established connection */
};

/* tcp-stream-<hex inode>.img, read whole: its entry and queue bytes (a copy). */
struct stream_in {
	Est__TcpStreamEntry *t;
	uint8_t *q;
	size_t len;
};

/* @n words of the format -> @len address bytes; all-zero words absent are fine. */
static int addr(const uint32_t *w, size_t n, size_t len, uint8_t *out, ProtobufCBinaryData *b)
{
	if (n != len / 4)
		return -1;
	memcpy(out, w, len);	/* the bytes in network order, as the words hold them */
	b->data = out;
	b->len = len;
	return 0;
}

static bool zero_words(const uint32_t *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i])
			return false;
	return true;
}

/*
 * The keepalive settings the established tool writes in tcp_opts of every
 * TCP socket (what getsockopt() read, set or not); our exporter writes them
 * in sk_opts, and only when set. Ours keeps what differs from a fresh
 * socket, as our dump would have: a value sk_opts has too must agree.
 */
static int tcp_keepalive(struct inet_out *o, const Est__InetSkEntry *s)
{
	const Est__TcpOptsEntry *t = s->tcp_opts;
	const struct {
		bool has;
		uint32_t val;
		int name;
	} k[] = {
		{ t->has_keepcnt, t->keepcnt, TCP_KEEPCNT },
		{ t->has_keepidle, t->keepidle, TCP_KEEPIDLE },
		{ t->has_keepintvl, t->keepintvl, TCP_KEEPINTVL },
	};
	size_t i, j, n = o->o.n;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		uint32_t opt = (uint32_t)SOL_TCP << 16 | (uint32_t)k[i].name;

		if (!k[i].has)
			continue;
		if (!k[i].val || k[i].val > INT32_MAX) {
			pr_err("files.img: inet socket %u: TCP keepalive option %d is %u", s->id,
			       k[i].name, k[i].val);
			return -1;
		}
		for (j = 0; j < n && o->o.opt[j].opt != opt; j++)
			;
		if (j < n && o->o.opt[j].val != k[i].val) {
			pr_err("files.img: inet socket %u: sk_opts and tcp_opts disagree on TCP keepalive option %d",
			       s->id, k[i].name);
			return -1;
		}
		if (j == n && (int64_t)k[i].val != est_sk_default_opt((int)s->family, SOCK_STREAM,
								 IPPROTO_TCP, SOL_TCP, k[i].name))
			add(&o->o, SOL_TCP, k[i].name, k[i].val);
	}
	return 0;
}

/*
 * A raw socket's header and no-defrag flags and ICMP type filter, where
 * not what a fresh socket has (ours keeps what differs).
 */
static int raw_ip_opts(struct inet_out *o, const Est__InetSkEntry *s)
{
	const Est__IpOptsRawEntry *r = s->ip_opts->raw;
	bool v6 = s->family == AF_INET6, icmp = s->proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	size_t words = v6 ? 8 : 1, i;
	bool none = true;

	if (s->type != SOCK_RAW || (r->n_icmpv_filter && (!icmp || r->n_icmpv_filter != words)) ||
	    (v6 && r->has_nodefrag && r->nodefrag) || r->has_checksum) {
		pr_err("not supported yet: files.img: inet socket %u: raw IP options on a socket that is not raw, an ICMP filter of %zu words, IPv6 no-defrag or a checksum flag",
		       s->id, r->n_icmpv_filter);
		return -1;
	}
	if ((int)(r->has_hdrincl && r->hdrincl) !=
	    est_sk_default_opt((int)s->family, SOCK_RAW, (int)s->proto, v6 ? SOL_IPV6 : SOL_IP,
			       v6 ? IPV6_HDRINCL : IP_HDRINCL))
		add(&o->o, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_HDRINCL : IP_HDRINCL,
		    r->has_hdrincl && r->hdrincl);
	if (r->has_nodefrag && r->nodefrag)
		add(&o->o, SOL_IP, IP_NODEFRAG, 1);
	for (i = 0; i < r->n_icmpv_filter; i++)
		none &= !r->icmpv_filter[i];
	if (none)
		return 0;
	memcpy(o->icmp, r->icmpv_filter, words * 4);
	add(&o->o, v6 ? SOL_ICMPV6 : SOL_RAW, v6 ? ICMP6_FILTER : ICMP_FILTER, 0);
	o->o.opt[o->o.n - 1].has_data = true;
	o->o.opt[o->o.n - 1].data.data = (uint8_t *)o->icmp;
	o->o.opt[o->o.n - 1].data.len = words * 4;
	return 0;
}

/* IP-level options and TCP_NODELAY/TCP_CORK, only when set (ours keeps what differs). */
static int ip_tcp_opts(struct inet_out *o, const Est__InetSkEntry *s)
{
	const Est__IpOptsEntry *ip = s->ip_opts;
	const Est__TcpOptsEntry *t = s->tcp_opts;
	bool v6 = s->family == AF_INET6;

	if (s->family == AF_INET6 || (s->has_v6only && s->v6only)) {
		if (!v6) {
			pr_err("files.img: inet socket %u: IPV6_V6ONLY on an IPv4 socket", s->id);
			return -1;
		}
		/* kept always: its default is a sysctl */
		add(&o->o, SOL_IPV6, IPV6_V6ONLY, s->has_v6only && s->v6only);
	}
	if (ip) {
		if (v6 && ((ip->has_tos && ip->tos) || (ip->has_ttl && ip->ttl) ||
			   (ip->has_pktinfo && ip->pktinfo))) {
			pr_err("not supported yet: files.img: inet socket %u: IPv4 TOS, TTL or PKTINFO on IPv6",
			       s->id);
			return -1;
		}
		if (ip->raw && raw_ip_opts(o, s))
			return -1;
		if (ip->has_freebind && ip->freebind)
			add(&o->o, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_FREEBIND : IP_FREEBIND, 1);
		if (ip->has_tos && ip->tos)
			add(&o->o, SOL_IP, IP_TOS, ip->tos);
		if (ip->has_ttl && ip->ttl)
			add(&o->o, SOL_IP, IP_TTL, ip->ttl);
		if (ip->has_pktinfo && ip->pktinfo)
			add(&o->o, SOL_IP, IP_PKTINFO, 1);
	}
	if (t && s->proto != IPPROTO_TCP) {	/* the established tool writes an empty one */
		if (t->has_nodelay || t->has_cork || t->has_keepcnt || t->has_keepidle ||
		    t->has_keepintvl) {
			pr_err("files.img: inet socket %u: TCP options on UDP", s->id);
			return -1;
		}
		return 0;
	}
	if (t) {
		if (t->has_nodelay && t->nodelay)
			add(&o->o, SOL_TCP, TCP_NODELAY, 1);
		if (t->has_cork && t->cork)
			add(&o->o, SOL_TCP, TCP_CORK, 1);
		return tcp_keepalive(o, s);
	}
	return 0;
}

/* A raw socket of a protocol but TCP and UDP, or an ICMP ("ping") socket. */
static bool raw_or_ping(const Est__InetSkEntry *s)
{
	if (s->type == SOCK_RAW)
		return s->proto >= 1 && s->proto <= 255 && s->proto != IPPROTO_TCP &&
		       s->proto != IPPROTO_UDP && s->proto != IPPROTO_UDPLITE;
	return s->type == SOCK_DGRAM &&
	       s->proto == (s->family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
}

static int inet_kind(const struct imp *im, const Est__InetSkEntry *s)
{
	bool tcp = s->type == SOCK_STREAM && s->proto == IPPROTO_TCP;
	bool udp = (s->type == SOCK_DGRAM &&
		    (s->proto == IPPROTO_UDP || s->proto == IPPROTO_UDPLITE)) || raw_or_ping(s);

	if ((s->family != AF_INET && s->family != AF_INET6) || (!tcp && !udp)) {
		pr_err("not supported yet: files.img: inet socket %u: family %u, type %u, protocol %u (TCP, UDP, UDP-Lite, raw and ping over IPv4 and IPv6 only)",
		       s->id, s->family, s->type, s->proto);
		return -1;
	}
	if (s->state != ISK_CLOSE && s->state != ISK_CONNECTED &&
	    !(tcp && (s->state == ISK_LISTEN || tcp_conn_state(s->state)))) {
		pr_err("not supported yet: files.img: inet socket %u: %s in state %u", s->id,
		       tcp ? "TCP" : "UDP", s->state);
		return -1;
	}
	/* a half-closed connection's shutdown: it is restored closed (--tcp-close) */
	if (s->has_shutdown && s->shutdown && !udp && !(tcp && s->state == ISK_CONNECTED &&
							 s->shutdown == EST_SHUT_READ) &&
	    !(tcp && s->state != ISK_CONNECTED && tcp_conn_state(s->state))) {
		pr_err("not supported yet: files.img: inet socket %u: shut down (%u) in state %u",
		       s->id, s->shutdown, s->state);
		return -1;
	}
	if (s->ifname || s->src_port > 65535 ||
	    s->dst_port > 65535 || (s->state == ISK_LISTEN && !s->src_port)) {
		pr_err("not supported yet: files.img: inet socket %u: an interface, a shutdown, or ports out of range",
		       s->id);
		return -1;
	}
	if (!imp_net_ns_ok(im, s->has_ns_id, s->ns_id)) {
		pr_err("not supported yet: files.img: inet socket %u of another network namespace",
		       s->id);
		return -1;
	}
	return 0;
}

static int take_stream(struct imp *im, const struct est_entry *e, void *ctx)
{
	struct stream_in *in = ctx;

	(void)im;
	in->q = malloc(e->extra_len + 1);
	if (!in->q) {
		pr_err("out of memory");
		return -1;
	}
	memcpy(in->q, e->extra, e->extra_len);
	in->len = e->extra_len;
	in->t = (Est__TcpStreamEntry *)e->msg;
	((struct est_entry *)e)->msg = NULL;	/* ours now */
	return 0;
}

/* The format's stream -> ours, its queues copied into @o. */
static int conv_stream(struct inet_out *o, const struct stream_in *in, uint32_t id)
{
	const Est__TcpStreamEntry *t = in->t;
	TcpStream *ts = &o->ts;
	const char *bad;

	tcp_stream__init(ts);
	if ((uint64_t)t->inq_len + t->outq_len != in->len ||
	    (t->has_unsq_len && t->unsq_len > t->outq_len) || (t->opt_mask & TCPI_OPT_ECN)) {
		pr_err("not supported yet: tcp-stream of inet socket %u: queue lengths that do not add up, or ECN",
		       id);
		return -1;
	}
	memcpy(o->q, in->q, in->len);
	ts->inq.data = o->q;
	ts->inq.len = t->inq_len;
	ts->outq.data = o->q + t->inq_len;
	ts->outq.len = t->outq_len;
	ts->inq_seq = t->inq_seq;
	ts->outq_seq = t->outq_seq;
	ts->unsent_len = t->has_unsq_len ? t->unsq_len : 0;
	ts->opt_mask = t->opt_mask & ~(uint32_t)TCPI_INFO_ONLY;
	ts->snd_wscale = t->snd_wscale;
	ts->rcv_wscale = t->has_rcv_wscale ? t->rcv_wscale : 0;
	ts->mss_clamp = t->mss_clamp;
	ts->timestamp = t->has_timestamp ? t->timestamp : 0;
	ts->snd_wl1 = t->snd_wl1;
	ts->snd_wnd = t->snd_wnd;
	ts->max_window = t->max_window;
	ts->rcv_wnd = t->rcv_wnd;
	ts->rcv_wup = t->rcv_wup;
	bad = tcp_stream_check(ts);
	if (bad || !t->has_snd_wl1 || !t->has_snd_wnd || !t->has_max_window || !t->has_rcv_wnd ||
	    !t->has_rcv_wup) {
		pr_err("not supported yet: tcp-stream of inet socket %u: %s", id,
		       bad ? bad : "no window (TCP_REPAIR_WINDOW)");
		return -1;
	}
	return 0;
}

/* An established connection's stream file, if there is one (none: --tcp-close). */
static int read_stream(struct imp *im, const Est__InetSkEntry *s, struct stream_in *in)
{
	char name[64];

	memset(in, 0, sizeof(*in));
	if (s->proto != IPPROTO_TCP || s->state != ISK_CONNECTED)
		return 0;
	snprintf(name, sizeof(name), "tcp-stream-%x.img", s->ino);
	if (imp_read_all(im, name, true, take_stream, in))
		return -1;
	return 0;
}

static void stream_free(struct stream_in *in)
{
	if (in->t)
		protobuf_c_message_free_unpacked(&in->t->base, NULL);
	free(in->q);
}

/* TCP_NODELAY, TCP_CORK: the stream has them too; they must agree. */
static int stream_opts(const struct stream_in *in, const Est__InetSkEntry *s)
{
	const Est__TcpOptsEntry *t = s->tcp_opts;
	bool nodelay = t && t->has_nodelay && t->nodelay, cork = t && t->has_cork && t->cork;

	if (!in->t)
		return 0;
	if ((in->t->has_nodelay && in->t->nodelay != nodelay) ||
	    (in->t->has_cork && in->t->cork != cork)) {
		pr_err("files.img: inet socket %u: tcp_opts and its tcp-stream disagree on TCP_NODELAY or TCP_CORK",
		       s->id);
		return -1;
	}
	return 0;
}

ProtobufCMessage *imp_conv_inet(struct imp *im, const Est__FileEntry *f)
{
	const Est__InetSkEntry *s = f->isk;
	size_t alen = s->family == AF_INET6 ? 16 : 4;
	struct inet_out *o;
	struct stream_in in;

	if (inet_kind(im, s) || read_stream(im, s, &in))
		return NULL;
	o = stream_opts(&in, s) ? NULL : imp_zalloc(sizeof(*o) + in.len);
	if (o && in.t && conv_stream(o, &in, s->id)) {
		free(o);
		o = NULL;
	}
	stream_free(&in);
	if (!o)
		return NULL;
	inet_sk_entry__init(&o->e);
	if (o->ts.base.descriptor)	/* a stream was converted */
		o->e.stream = &o->ts;
	o->e.id = s->id;
	o->e.ino = s->ino;
	o->e.family = s->family;
	o->e.type = s->type;
	o->e.proto = s->proto;
	o->e.state = s->state;
	if (imp_status_flags(s->flags, O_NONBLOCK, s->id, &o->e.flags))
		goto err;
	/* an unbound socket may come without address words */
	if (s->n_src_addr || s->src_port) {
		o->e.has_src_addr = o->e.has_src_port = true;
		o->e.src_port = s->src_port;
		if (addr(s->src_addr, s->n_src_addr, alen, o->src, &o->e.src_addr))
			goto bad_addr;
	}
	if (s->proto == IPPROTO_TCP ? tcp_conn_state(s->state) : s->state == ISK_CONNECTED) {
		o->e.has_dst_addr = o->e.has_dst_port = true;
		o->e.dst_port = s->dst_port;
		if (addr(s->dst_addr, s->n_dst_addr, alen, o->dst, &o->e.dst_addr))
			goto bad_addr;
	} else if (s->dst_port || !zero_words(s->dst_addr, s->n_dst_addr)) {
		goto bad_addr;
	}
	if (s->state == ISK_LISTEN) {
		o->e.has_backlog = true;
		o->e.backlog = s->backlog;
	}
	if (s->has_shutdown && s->shutdown && (s->state == ISK_CONNECTED || s->proto != IPPROTO_TCP)) {
		o->e.has_shutdown = true;
		o->e.shutdown = s->shutdown;
	}
	if (imp_sk_opts(&o->o, s->opts, (int)s->family, (int)s->type, (int)s->proto, s->id) ||
	    ip_tcp_opts(o, s))
		goto err;
	o->e.opts = o->o.p;
	o->e.n_opts = o->o.n;
	return &o->e.base;
bad_addr:
	pr_err("files.img: inet socket %u: addresses of the wrong size, or a peer while not connected",
	       s->id);
err:
	free(o);
	return NULL;
}

/* ---- netlink sockets -------------------------------------------------------------- */

static const void *nlsk_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->nlsk)
		return NULL;
	*id = f->nlsk->id;
	*fown = f->nlsk->fown;
	return f->nlsk;
}

struct netlink_out {
	NetlinkSkEntry e;
	struct imp_sk_opts o;
	uint32_t groups[];
};

static int netlink_kind(const struct imp *im, const Est__NetlinkSkEntry *s)
{
	if (s->protocol >= 32 || s->state > 1 || s->n_groups > 32 || s->dst_group > 32 ||
	    (s->state && !s->portid)) {
		pr_err("not supported yet: files.img: netlink socket %u: protocol %u, state %u, %zu group words or group %u out of range, or connected unbound",
		       s->id, s->protocol, s->state, s->n_groups, s->dst_group);
		return -1;
	}
	if (s->has_ns_id && (!im->inv->root_ids->has_net_ns_id ||
			     s->ns_id != im->inv->root_ids->net_ns_id)) {
		pr_err("not supported yet: files.img: netlink socket %u of another network namespace",
		       s->id);
		return -1;
	}
	return 0;
}

/* The established restore makes SOCK_RAW: so does ours. */
static ProtobufCMessage *conv_netlink(struct imp *im, const Est__FileEntry *f)
{
	const Est__NetlinkSkEntry *s = f->nlsk;
	struct netlink_out *o;
	size_t n = s->n_groups;

	if (netlink_kind(im, s))
		return NULL;
	while (n && !s->groups[n - 1])
		n--;
	o = imp_zalloc(sizeof(*o) + n * sizeof(*o->groups));
	if (!o)
		return NULL;
	netlink_sk_entry__init(&o->e);
	o->e.id = s->id;
	o->e.ino = s->ino;
	o->e.protocol = s->protocol;
	o->e.type = SOCK_RAW;
	if (imp_status_flags(s->flags, O_NONBLOCK, s->id, &o->e.flags) ||
	    imp_sk_opts(&o->o, s->opts, AF_NETLINK, SOCK_RAW, (int)s->protocol, s->id)) {
		free(o);
		return NULL;
	}
	o->e.has_portid = s->portid != 0;
	o->e.portid = s->portid;
	if (n)
		memcpy(o->groups, s->groups, n * sizeof(*o->groups));
	o->e.groups = o->groups;
	o->e.n_groups = n;
	if (s->state) {
		o->e.has_dst_portid = o->e.has_dst_group = true;
		o->e.dst_portid = s->dst_portid;
		o->e.dst_group = s->dst_group;
	}
	o->e.opts = o->o.p;
	o->e.n_opts = o->o.n;
	return &o->e.base;
}

const struct est_fd_imp est_fd_netlink_sk_imp = { nlsk_member, conv_netlink };

/* ---- packet sockets --------------------------------------------------------------- */

static const void *psk_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->psk)
		return NULL;
	*id = f->psk->id;
	*fown = f->psk->fown;
	return f->psk;
}

#define PSK_MC_MAX	16	/* SK_PACKET_MC_MAX */
#define PSK_NO_FANOUT	0xffffffffu

struct packet_out {
	PacketSkEntry e;
	struct imp_sk_opts o;
	PacketMc mc[PSK_MC_MAX], *pmc[PSK_MC_MAX];
	PacketRing rx, tx;
};

static int packet_kind(const struct imp *im, const Est__PacketSockEntry *s)
{
	if ((s->type != SOCK_RAW && s->type != SOCK_DGRAM) || s->protocol > 0xffff ||
	    s->n_mclist > PSK_MC_MAX || s->ifindex > INT32_MAX) {
		pr_err("not supported yet: files.img: packet socket %u: type %u, protocol %#x, %zu memberships or ifindex %u out of range",
		       s->id, s->type, s->protocol, s->n_mclist, s->ifindex);
		return -1;
	}
	if (s->has_fanout && s->fanout != PSK_NO_FANOUT && (s->fanout >> 24 || !s->protocol)) {
		pr_err("not supported yet: files.img: packet socket %u: fanout %#x", s->id, s->fanout);
		return -1;
	}
	if (!imp_net_ns_ok(im, s->has_ns_id, s->ns_id)) {
		pr_err("not supported yet: files.img: packet socket %u of another network namespace",
		       s->id);
		return -1;
	}
	return 0;
}

/* The format's fixed fields: ours keeps what differs from a fresh socket (all 0). */
static int packet_opts(struct packet_out *o, const Est__PacketSockEntry *s)
{
	if (imp_sk_opts(&o->o, s->opts, AF_PACKET, (int)s->type, 0, s->id))
		return -1;
	if (o->o.n + 7 > IMP_SK_OPTS) {
		pr_err("not supported yet: files.img: packet socket %u: too many options", s->id);
		return -1;
	}
#define PK(v, name) if (v) add(&o->o, SOL_PACKET, name, (int64_t)(v))
	PK(s->aux_data, PACKET_AUXDATA);
	PK(s->orig_dev, PACKET_ORIGDEV);
	PK(s->version, PACKET_VERSION);
	PK(s->reserve, PACKET_RESERVE);
	PK(s->loss, PACKET_LOSS);
	PK(s->vnet_hdr, PACKET_VNET_HDR);
	PK(s->timestamp, PACKET_TIMESTAMP);
#undef PK
	o->e.opts = o->o.p;
	o->e.n_opts = o->o.n;
	return 0;
}

static void packet_mc(struct packet_out *o, const Est__PacketSockEntry *s)
{
	size_t i;

	for (i = 0; i < s->n_mclist; i++) {
		packet_mc__init(&o->mc[i]);
		o->mc[i].ifindex = s->mclist[i]->index;
		o->mc[i].type = s->mclist[i]->type;
		o->mc[i].addr = s->mclist[i]->addr;
		o->mc[i].count = 1;
		o->pmc[i] = &o->mc[i];
	}
	o->e.mclist = o->pmc;
	o->e.n_mclist = s->n_mclist;
}

static PacketRing *packet_ring(PacketRing *o, const Est__PacketRing *r)
{
	if (!r)
		return NULL;
	packet_ring__init(o);
	o->block_size = r->block_size;
	o->block_nr = r->block_nr;
	o->frame_size = r->frame_size;
	o->frame_nr = r->frame_nr;
	o->retire_tmo = r->retire_tmo;
	o->sizeof_priv = r->sizeof_priv;
	o->features = r->features;
	return o;
}

/* The reader of our image checks the rest. */
static ProtobufCMessage *conv_packet(struct imp *im, const Est__FileEntry *f)
{
	const Est__PacketSockEntry *s = f->psk;
	struct packet_out *o;

	if (packet_kind(im, s))
		return NULL;
	o = imp_zalloc(sizeof(*o));
	if (!o)
		return NULL;
	packet_sk_entry__init(&o->e);
	o->e.id = s->id;
	o->e.type = s->type;
	o->e.protocol = s->protocol;
	o->e.ifindex = s->ifindex;
	o->e.copy_thresh = s->copy_thresh;
	if (s->has_fanout && s->fanout != PSK_NO_FANOUT) {
		o->e.has_fanout = true;
		o->e.fanout = s->fanout;
	}
	if (imp_status_flags(s->flags, O_NONBLOCK, s->id, &o->e.flags) || packet_opts(o, s)) {
		free(o);
		return NULL;
	}
	packet_mc(o, s);
	o->e.rx_ring = packet_ring(&o->rx, s->rx_ring);
	o->e.tx_ring = packet_ring(&o->tx, s->tx_ring);
	return &o->e.base;
}

const struct est_fd_imp est_fd_packet_sk_imp = { psk_member, conv_packet };
