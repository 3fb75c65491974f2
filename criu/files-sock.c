/*
 * What the socket kinds share: socket options (images/sk-opts.proto), the
 * file flags, and the last kind of the table, which owns every socket the
 * others leave (SOCK_PACKET, TCP/UDP of odd protocols, other families...) only to
 * refuse it by name.
 *
 * Options: one table (opt_defs) lists every option getsockopt() reads on
 * the kinds criu carries, with how it is read and set and whether it is
 * restored, refused or not an option at all. Each is read on criu's copy
 * of the descriptor and on a fresh socket of the same kind; only the ones
 * that differ are written, so restore sets only what the task set (a
 * buffer size left alone stays free to autotune), and a refused one that
 * differs fails the dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/icmp.h>
#include <linux/netlink.h>
#include <linux/net_tstamp.h>

#define LOG_PREFIX "socket: "
#include "log.h"
#include "compiler.h"
#include "files.h"
#include "kernel-compat.h"
#include "sk-filter.h"
#include "sockets.h"

#define OPT(level, name)	((uint32_t)(level) << 16 | (uint32_t)(name))

/*
 * How an option is read and written:
 *   INT     an int;
 *   BUF     SO_RCVBUF/SO_SNDBUF: getsockopt says twice what was asked, set
 *           again through SO_*BUFFORCE (CAP_NET_ADMIN), so above rmem_max too;
 *   TV      struct timeval, kept in microseconds;
 *   LINGER  struct linger, kept as l_onoff << 32 | l_linger (off, it still
 *           reads the seconds last set);
 *   U64     a 64-bit value (SO_MAX_PACING_RATE);
 *   BYTES   a small struct or key, kept as the bytes getsockopt gave;
 *   STR     a name (an interface, a congestion control), up to its NUL;
 *   FILTER  a classic filter: its number of instructions, the program kept
 *           as bytes (SO_GET_FILTER reads it back; eBPF: unreadable, -1).
 * What the dump does when it differs from a fresh socket of the same kind:
 *   SET     keep it; restore sets it again (table order);
 *   REFUSE  refuse the dump: "socket option X ...: not supported yet";
 *   NONE    nothing: read-only, an alias of another row, or state that is
 *           not an option (the why says which). Never read on the task's
 *           socket (reading SO_ERROR would clear it).
 * LATE rows are set after bind/listen/connect and after a unix socket's
 * queue is sent again (buffer sizes, SO_PASSCRED, which would autobind a
 * sender, the filter, which would sift the queue, and SO_LOCK_FILTER after
 * it); WITHBUF rows are kept whenever a buffer size is (SO_BUF_LOCK:
 * setting a size locks it, SO_BUF_LOCK then says what stays locked);
 * ALWAYS rows are kept even when equal to the default here: IPV6_V6ONLY,
 * whose default is a sysctl that decides what bind() takes, and the unix
 * SO_PASS* flags, which a socket accepted on restore takes from its
 * listener. Once all are set, each is read back and must be what the dump
 * saw, except MOVES rows, which the kernel changes on its own
 * (SO_INCOMING_CPU, on every packet). COUNTER rows start, on a UDP socket, a counter every send moves and no
 * getsockopt reads (SO_ZEROCOPY, SO_TIMESTAMPING's OPT_ID): refused there.
 */
enum opt_how { HOW_INT, HOW_BUF, HOW_TV, HOW_LINGER, HOW_U64, HOW_BYTES, HOW_STR, HOW_FILTER };
enum opt_act { ACT_SET, ACT_REFUSE, ACT_NONE };

#define OPT_LATE	1
#define OPT_WITHBUF	2
#define OPT_ALWAYS	4
#define OPT_MOVES	8
#define OPT_COUNTER	16
#define OPT_BYTES_MAX	64

struct opt_def {
	uint32_t	opt;
	uint8_t		how, act, flags;
	const char	*name;
	const char	*why;	/* NONE: why not; REFUSE: what it is */
};

#define SET(l, n, h)		{ OPT(l, n), HOW_##h, ACT_SET, 0, #n, NULL }
#define SETF(l, n, h, f)	{ OPT(l, n), HOW_##h, ACT_SET, f, #n, NULL }
#define SETW(l, n, h, f, w)	{ OPT(l, n), HOW_##h, ACT_SET, f, #n, w }
#define REFUSE(l, n, h, w)	{ OPT(l, n), HOW_##h, ACT_REFUSE, 0, #n, w }
#define NONE(l, n, w)		{ OPT(l, n), HOW_INT, ACT_NONE, 0, #n, w }

/* Every option getsockopt() reads on unix, TCP, UDP, raw, ping, netlink and packet sockets (6.18). */
static const struct opt_def opt_defs[] = {
	SET(SOL_SOCKET, SO_DEBUG, INT),
	SET(SOL_SOCKET, SO_REUSEADDR, INT),
	NONE(SOL_SOCKET, SO_TYPE, "read-only"),
	NONE(SOL_SOCKET, SO_ERROR, "reading clears it; a pending one is refused (sk_check_error)"),
	SET(SOL_SOCKET, SO_DONTROUTE, INT),
	SET(SOL_SOCKET, SO_BROADCAST, INT),
	SET(SOL_SOCKET, SO_KEEPALIVE, INT),
	SET(SOL_SOCKET, SO_OOBINLINE, INT),
	SET(SOL_SOCKET, SO_NO_CHECK, INT),
	SET(SOL_SOCKET, SO_PRIORITY, INT),
	SET(SOL_SOCKET, SO_LINGER, LINGER),
	NONE(SOL_SOCKET, SO_BSDCOMPAT, "obsolete: reads 0, setting does nothing"),
	SET(SOL_SOCKET, SO_REUSEPORT, INT),
	SETF(SOL_SOCKET, SO_PASSCRED, INT, OPT_LATE | OPT_ALWAYS),
	NONE(SOL_SOCKET, SO_PEERCRED, "the peer's, read-only"),
	NONE(SOL_SOCKET, SO_SNDLOWAT, "fixed at 1, cannot be set"),
	SET(SOL_SOCKET, SO_RCVTIMEO_OLD, TV),
	SET(SOL_SOCKET, SO_SNDTIMEO_OLD, TV),
	SET(SOL_SOCKET, SO_BINDTODEVICE, STR),
	SETW(SOL_SOCKET, SO_GET_FILTER, FILTER, OPT_LATE, "an eBPF socket filter (SO_ATTACH_BPF)"),
	NONE(SOL_SOCKET, SO_PEERNAME, "the peer's address, read-only"),
	SET(SOL_SOCKET, SO_TIMESTAMP_OLD, INT),
	NONE(SOL_SOCKET, SO_ACCEPTCONN, "read-only: listening"),
	NONE(SOL_SOCKET, SO_PEERSEC, "the peer's, read-only"),
	SETF(SOL_SOCKET, SO_PASSSEC, INT, OPT_ALWAYS),
	SET(SOL_SOCKET, SO_TIMESTAMPNS_OLD, INT),
	SET(SOL_SOCKET, SO_MARK, INT),
	SETW(SOL_SOCKET, SO_TIMESTAMPING_OLD, BYTES, OPT_COUNTER,
	     "SOF_TIMESTAMPING_OPT_ID on UDP: the key counter cannot be read"),
	NONE(SOL_SOCKET, SO_PROTOCOL, "read-only"),
	NONE(SOL_SOCKET, SO_DOMAIN, "read-only"),
	SET(SOL_SOCKET, SO_RXQ_OVFL, INT),
	SET(SOL_SOCKET, SO_WIFI_STATUS, INT),
	SET(SOL_SOCKET, SO_PEEK_OFF, INT),
	SET(SOL_SOCKET, SO_NOFCS, INT),
	SETF(SOL_SOCKET, SO_LOCK_FILTER, INT, OPT_LATE),	/* after the filter */
	SET(SOL_SOCKET, SO_SELECT_ERR_QUEUE, INT),
	SET(SOL_SOCKET, SO_BUSY_POLL, INT),
	SET(SOL_SOCKET, SO_MAX_PACING_RATE, U64),
	NONE(SOL_SOCKET, SO_BPF_EXTENSIONS, "read-only: what the kernel offers"),
	SETF(SOL_SOCKET, SO_INCOMING_CPU, INT, OPT_MOVES),
	NONE(SOL_SOCKET, SO_MEMINFO, "read-only: memory counters"),
	NONE(SOL_SOCKET, SO_INCOMING_NAPI_ID, "read-only: the last receiving queue"),
	NONE(SOL_SOCKET, SO_COOKIE, "identity: a new socket has a new cookie"),
	SETW(SOL_SOCKET, SO_ZEROCOPY, INT, OPT_COUNTER,
	     "on UDP: the notification counter cannot be read"),
	SET(SOL_SOCKET, SO_TXTIME, BYTES),
	NONE(SOL_SOCKET, SO_BINDTOIFINDEX, "the same as SO_BINDTODEVICE"),
	SET(SOL_SOCKET, SO_TIMESTAMP_NEW, INT),
	SET(SOL_SOCKET, SO_TIMESTAMPNS_NEW, INT),
	NONE(SOL_SOCKET, SO_TIMESTAMPING_NEW, "the same flags as SO_TIMESTAMPING_OLD"),
	NONE(SOL_SOCKET, SO_RCVTIMEO_NEW, "the same as SO_RCVTIMEO_OLD"),
	NONE(SOL_SOCKET, SO_SNDTIMEO_NEW, "the same as SO_SNDTIMEO_OLD"),
	SET(SOL_SOCKET, SO_PREFER_BUSY_POLL, INT),
	NONE(SOL_SOCKET, SO_NETNS_COOKIE, "identity of the namespace, read-only"),
	SET(SOL_SOCKET, SO_RESERVE_MEM, INT),
	SET(SOL_SOCKET, SO_TXREHASH, INT),
	SET(SOL_SOCKET, SO_RCVMARK, INT),
	SETF(SOL_SOCKET, SO_PASSPIDFD, INT, OPT_LATE | OPT_ALWAYS),
	NONE(SOL_SOCKET, SO_PEERPIDFD, "the peer's, read-only"),
	SET(SOL_SOCKET, SO_RCVPRIORITY, INT),
	SETF(SOL_SOCKET, SO_PASSRIGHTS, INT, OPT_ALWAYS),
	/* sizes last, then what depends on them */
	SETF(SOL_SOCKET, SO_SNDBUF, BUF, OPT_LATE),
	SETF(SOL_SOCKET, SO_RCVBUF, BUF, OPT_LATE),
	SETF(SOL_SOCKET, SO_RCVLOWAT, INT, OPT_LATE),
	SETF(SOL_SOCKET, SO_BUF_LOCK, INT, OPT_LATE | OPT_WITHBUF),

	SET(SOL_IP, IP_TOS, INT),
	SET(SOL_IP, IP_TTL, INT),
	SET(SOL_IP, IP_HDRINCL, INT),		/* raw sockets */
	REFUSE(SOL_IP, IP_OPTIONS, BYTES, "IP options"),
	SET(SOL_IP, IP_ROUTER_ALERT, INT),
	SET(SOL_IP, IP_RECVOPTS, INT),
	SET(SOL_IP, IP_RETOPTS, INT),
	SET(SOL_IP, IP_PKTINFO, INT),
	NONE(SOL_IP, IP_PKTOPTIONS, "read-only: the last packet's"),
	SET(SOL_IP, IP_MTU_DISCOVER, INT),
	SET(SOL_IP, IP_RECVERR, INT),
	SET(SOL_IP, IP_RECVTTL, INT),
	SET(SOL_IP, IP_RECVTOS, INT),
	NONE(SOL_IP, IP_MTU, "read-only: the route's"),
	SET(SOL_IP, IP_FREEBIND, INT),
	SET(SOL_IP, IP_PASSSEC, INT),
	SET(SOL_IP, IP_TRANSPARENT, INT),
	SET(SOL_IP, IP_RECVORIGDSTADDR, INT),
	SET(SOL_IP, IP_MINTTL, INT),
	SET(SOL_IP, IP_NODEFRAG, INT),
	SET(SOL_IP, IP_CHECKSUM, INT),
	SET(SOL_IP, IP_BIND_ADDRESS_NO_PORT, INT),
	SET(SOL_IP, IP_RECVFRAGSIZE, INT),
	SET(SOL_IP, IP_RECVERR_RFC4884, INT),
	SET(SOL_IP, IP_MULTICAST_IF, INT),
	SET(SOL_IP, IP_MULTICAST_TTL, INT),
	SET(SOL_IP, IP_MULTICAST_LOOP, INT),
	SET(SOL_IP, IP_MULTICAST_ALL, INT),
	SET(SOL_IP, IP_UNICAST_IF, INT),
	SET(SOL_IP, IP_LOCAL_PORT_RANGE, INT),
	NONE(SOL_IP, IP_PROTOCOL, "read-only"),

	NONE(SOL_IPV6, IPV6_ADDRFORM, "cannot be read"),
	SET(SOL_IPV6, IPV6_2292PKTINFO, INT),
	SET(SOL_IPV6, IPV6_2292HOPOPTS, INT),
	SET(SOL_IPV6, IPV6_2292DSTOPTS, INT),
	SET(SOL_IPV6, IPV6_2292RTHDR, INT),
	NONE(SOL_IPV6, IPV6_2292PKTOPTIONS, "read-only: the last packet's"),
	SET(SOL_IPV6, IPV6_2292HOPLIMIT, INT),
	SET(SOL_IPV6, IPV6_FLOWINFO, INT),
	SET(SOL_IPV6, IPV6_UNICAST_HOPS, INT),
	SET(SOL_IPV6, IPV6_MULTICAST_IF, INT),
	SET(SOL_IPV6, IPV6_MULTICAST_HOPS, INT),
	SET(SOL_IPV6, IPV6_MULTICAST_LOOP, INT),
	SET(SOL_IPV6, IPV6_ROUTER_ALERT, INT),
	SET(SOL_IPV6, IPV6_MTU_DISCOVER, INT),
	NONE(SOL_IPV6, IPV6_MTU, "reads the route's MTU; the value set cannot be read"),
	SET(SOL_IPV6, IPV6_RECVERR, INT),
	SETF(SOL_IPV6, IPV6_V6ONLY, INT, OPT_ALWAYS),
	SET(SOL_IPV6, IPV6_MULTICAST_ALL, INT),
	SET(SOL_IPV6, IPV6_ROUTER_ALERT_ISOLATE, INT),
	SET(SOL_IPV6, IPV6_RECVERR_RFC4884, INT),
	SET(SOL_IPV6, IPV6_FLOWINFO_SEND, INT),
	SET(SOL_IPV6, IPV6_RECVPKTINFO, INT),
	SET(SOL_IPV6, IPV6_RECVHOPLIMIT, INT),
	SET(SOL_IPV6, IPV6_RECVHOPOPTS, INT),
	REFUSE(SOL_IPV6, IPV6_HOPOPTS, BYTES, "an IPv6 hop-by-hop options header"),
	REFUSE(SOL_IPV6, IPV6_RTHDRDSTOPTS, BYTES, "an IPv6 destination options header"),
	SET(SOL_IPV6, IPV6_RECVRTHDR, INT),
	REFUSE(SOL_IPV6, IPV6_RTHDR, BYTES, "an IPv6 routing header"),
	SET(SOL_IPV6, IPV6_RECVDSTOPTS, INT),
	REFUSE(SOL_IPV6, IPV6_DSTOPTS, BYTES, "an IPv6 destination options header"),
	SET(SOL_IPV6, IPV6_RECVPATHMTU, INT),
	NONE(SOL_IPV6, IPV6_PATHMTU, "read-only: the route's"),
	SET(SOL_IPV6, IPV6_DONTFRAG, INT),
	SET(SOL_IPV6, IPV6_RECVTCLASS, INT),
	SET(SOL_IPV6, IPV6_TCLASS, INT),
	SET(SOL_IPV6, IPV6_AUTOFLOWLABEL, INT),
	SET(SOL_IPV6, IPV6_ADDR_PREFERENCES, INT),
	SET(SOL_IPV6, IPV6_MINHOPCOUNT, INT),
	SET(SOL_IPV6, IPV6_RECVORIGDSTADDR, INT),
	SET(SOL_IPV6, IPV6_TRANSPARENT, INT),
	SET(SOL_IPV6, IPV6_UNICAST_IF, INT),
	SET(SOL_IPV6, IPV6_RECVFRAGSIZE, INT),
	SET(SOL_IPV6, IPV6_FREEBIND, INT),
	SET(SOL_IPV6, IPV6_CHECKSUM, INT),	/* raw IPv6 sockets: -1 off, else the offset */
	SET(SOL_IPV6, IPV6_HDRINCL, INT),

	/* raw sockets: SOL_RAW answers IPv6's two again; the ICMP type filters */
	SET(SOL_RAW, ICMP_FILTER, BYTES),	/* IPv4, IPPROTO_ICMP: struct icmp_filter */
	NONE(SOL_RAW, IPV6_CHECKSUM, "the same as SOL_IPV6's"),
	NONE(SOL_RAW, IPV6_HDRINCL, "the same as SOL_IPV6's"),
	SET(SOL_ICMPV6, ICMP6_FILTER, BYTES),	/* IPv6, IPPROTO_ICMPV6: struct icmp6_filter */

	/* netlink sockets; their groups are the socket's state (criu/files-netlink.c) */
	SET(SOL_NETLINK, NETLINK_PKTINFO, INT),
	SET(SOL_NETLINK, NETLINK_BROADCAST_ERROR, INT),
	SET(SOL_NETLINK, NETLINK_NO_ENOBUFS, INT),
	SET(SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, INT),
	NONE(SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, "the bound groups: kept by the netlink kind"),
	SET(SOL_NETLINK, NETLINK_CAP_ACK, INT),
	SET(SOL_NETLINK, NETLINK_EXT_ACK, INT),
	SET(SOL_NETLINK, NETLINK_GET_STRICT_CHK, INT),

	/* packet sockets; device, memberships and fanout are the socket's state (files-packet.c) */
	NONE(SOL_PACKET, PACKET_COPY_THRESH, "kept by the packet kind (sock_diag's copy threshold)"),
	SET(SOL_PACKET, PACKET_AUXDATA, INT),
	SET(SOL_PACKET, PACKET_ORIGDEV, INT),
	SET(SOL_PACKET, PACKET_VERSION, INT),
	NONE(SOL_PACKET, PACKET_HDRLEN, "read-only: a version's header length"),
	SET(SOL_PACKET, PACKET_RESERVE, INT),
	SET(SOL_PACKET, PACKET_LOSS, INT),
	SET(SOL_PACKET, PACKET_VNET_HDR, INT),
	SET(SOL_PACKET, PACKET_VNET_HDR_SZ, INT),	/* after PACKET_VNET_HDR, which sets it */
	SET(SOL_PACKET, PACKET_TIMESTAMP, INT),
	NONE(SOL_PACKET, PACKET_STATISTICS, "counters that reading resets"),
	NONE(SOL_PACKET, PACKET_FANOUT, "the fanout group: kept by the packet kind"),
	SET(SOL_PACKET, PACKET_TX_HAS_OFF, INT),
	SET(SOL_PACKET, PACKET_QDISC_BYPASS, INT),
	NONE(SOL_PACKET, PACKET_ROLLOVER_STATS, "read-only: counters"),
	SET(SOL_PACKET, PACKET_IGNORE_OUTGOING, INT),

	SET(SOL_TCP, TCP_NODELAY, INT),
	SET(SOL_TCP, TCP_MAXSEG, INT),
	SET(SOL_TCP, TCP_CORK, INT),
	SET(SOL_TCP, TCP_KEEPIDLE, INT),
	SET(SOL_TCP, TCP_KEEPINTVL, INT),
	SET(SOL_TCP, TCP_KEEPCNT, INT),
	SET(SOL_TCP, TCP_SYNCNT, INT),
	SET(SOL_TCP, TCP_LINGER2, INT),
	SET(SOL_TCP, TCP_DEFER_ACCEPT, INT),
	NONE(SOL_TCP, TCP_INFO, "read-only: state and counters"),
	SET(SOL_TCP, TCP_QUICKACK, INT),
	SET(SOL_TCP, TCP_CONGESTION, STR),
	SET(SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, INT),
	NONE(SOL_TCP, TCP_THIN_DUPACK, "obsolete: reads 0, setting does nothing"),
	SET(SOL_TCP, TCP_USER_TIMEOUT, INT),
	REFUSE(SOL_TCP, TCP_REPAIR, INT, "TCP repair mode"),
	/* TCP_MD5SIG cannot be read: sock_diag tells of a listener's keys (files-inet.c) */
	SET(SOL_TCP, TCP_FASTOPEN, INT),
	NONE(SOL_TCP, TCP_TIMESTAMP, "a clock; its offset can be set only in repair mode"),
	SET(SOL_TCP, TCP_NOTSENT_LOWAT, INT),
	NONE(SOL_TCP, TCP_CC_INFO, "read-only: congestion control state"),
	SET(SOL_TCP, TCP_SAVE_SYN, INT),
	NONE(SOL_TCP, TCP_SAVED_SYN, "read-only: an accepted connection's SYN"),
	SET(SOL_TCP, TCP_FASTOPEN_CONNECT, INT),
	REFUSE(SOL_TCP, TCP_ULP, STR, "an upper layer protocol"),
	SET(SOL_TCP, TCP_FASTOPEN_KEY, BYTES),
	SET(SOL_TCP, TCP_FASTOPEN_NO_COOKIE, INT),
	NONE(SOL_TCP, TCP_ZEROCOPY_RECEIVE, "an operation, not a setting"),
	SET(SOL_TCP, TCP_INQ, INT),
	SET(SOL_TCP, TCP_TX_DELAY, INT),
	NONE(SOL_TCP, TCP_IS_MPTCP, "read-only"),
	SET(SOL_TCP, TCP_RTO_MAX_MS, INT),
	SET(SOL_TCP, TCP_RTO_MIN_US, INT),
	SET(SOL_TCP, TCP_DELACK_MAX_US, INT),
	SETF(SOL_TCP, TCP_WINDOW_CLAMP, INT, OPT_LATE),	/* after SO_RCVLOWAT, which moves it */

	SET(SOL_UDP, UDP_CORK, INT),
	SET(SOL_UDP, UDPLITE_SEND_CSCOV, INT),	/* UDP-Lite only: reads 0 on UDP */
	SET(SOL_UDP, UDPLITE_RECV_CSCOV, INT),
	REFUSE(SOL_UDP, UDP_ENCAP, INT, "UDP encapsulation"),
	SET(SOL_UDP, UDP_NO_CHECK6_TX, INT),
	SET(SOL_UDP, UDP_NO_CHECK6_RX, INT),
	SET(SOL_UDP, UDP_SEGMENT, INT),
	SET(SOL_UDP, UDP_GRO, INT),
};

static const struct opt_def *opt_def(uint32_t opt)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opt_defs); i++)
		if (opt_defs[i].opt == opt)
			return &opt_defs[i];
	return NULL;
}

const char *sk_opt_name(int level, int name)
{
	const struct opt_def *d = opt_def(OPT(level, name));

	return d ? d->name : NULL;
}

const char *sk_type_str(unsigned int type)
{
	switch (type) {
	case SOCK_STREAM: return "stream";
	case SOCK_DGRAM: return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	case SOCK_RAW: return "raw";
	}
	return "unknown-type";
}

int sk_getint(int fd, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	if (getsockopt(fd, SOL_SOCKET, opt, val, &len)) {
		pr_perror("getsockopt(SOL_SOCKET, %d)", opt);
		return -1;
	}
	return 0;
}

int sk_probe(const struct fd_probe *p, int *family, int *type, int *proto)
{
	/* criu's copy is a cache the probe owns and its caller closes */
	int fd = fd_probe_local((struct fd_probe *)p);

	if (fd < 0 || (family && sk_getint(fd, SO_DOMAIN, family)) ||
	    (type && sk_getint(fd, SO_TYPE, type)) || (proto && sk_getint(fd, SO_PROTOCOL, proto)))
		return -1;
	return 0;
}

/* The option's value; -1 if this socket cannot read it. */
static int get_opt(int fd, const struct opt_def *d, struct sk_opt_val *v)
{
	int level = (int)(d->opt >> 16), name = (int)(d->opt & 0xffff);
	union { int i; uint64_t u; struct timeval tv; struct linger l; char b[OPT_BYTES_MAX]; } u;
	socklen_t len = sizeof(u);

	memset(v, 0, sizeof(*v));
	memset(&u, 0, sizeof(u));
	if (d->how == HOW_FILTER)
		return sk_filter_count(fd, &v->i);	/* an eBPF filter cannot be read: -1 */
	if (getsockopt(fd, level, name, &u, &len))
		return -1;
	switch (d->how) {
	case HOW_TV:
		v->i = (int64_t)u.tv.tv_sec * 1000000 + u.tv.tv_usec;
		break;
	case HOW_LINGER:
		v->i = (int64_t)!!u.l.l_onoff << 32 | (uint32_t)u.l.l_linger;
		break;
	case HOW_U64:
		v->i = (int64_t)u.u;
		break;
	case HOW_STR:
		len = (socklen_t)strnlen(u.b, len);
		/* fall through */
	case HOW_BYTES:
		v->len = len > OPT_BYTES_MAX ? OPT_BYTES_MAX : len;
		memcpy(v->b, u.b, v->len);
		break;
	default:
		v->i = u.i;
	}
	return 0;
}

static bool same_val(const struct sk_opt_val *a, const struct sk_opt_val *b)
{
	return a->i == b->i && a->len == b->len && !memcmp(a->b, b->b, a->len);
}

static int add_opt(SkOpt ***opts, size_t *nr, const struct opt_def *d, const struct sk_opt_val *v)
{
	SkOpt *o = malloc(sizeof(*o)), **n = realloc(*opts, (*nr + 2) * sizeof(*n));

	if (n)
		*opts = n;
	if (!o || !n) {
		free(o);
		pr_err("out of memory");
		return -1;
	}
	sk_opt__init(o);
	o->opt = d->opt;
	o->val = v->i;
	if (d->how == HOW_BYTES || d->how == HOW_STR) {
		o->val = 0;
		o->has_data = true;
		o->data.len = v->len;
		o->data.data = malloc(v->len ? v->len : 1);
		if (!o->data.data) {
			free(o);
			pr_err("out of memory");
			return -1;
		}
		memcpy(o->data.data, v->b, v->len);
	}
	(*opts)[(*nr)++] = o;
	return 0;
}

_Static_assert(ARRAY_SIZE(opt_defs) <= SK_OPTS_TABLE, "one bit per option in sk_defaults.have");

static bool have_bit(const struct sk_defaults *d, size_t i)
{
	return d->have[i / 64] & (1ull << (i % 64));
}

/* What a fresh socket of this kind reports: read once per dump and kind. */
static const struct sk_defaults *defaults(struct sk_opt_cache *c, int family, int type, int proto)
{
	struct sk_defaults *d = &c->row[SK_DEFAULTS_ROWS - 1];	/* reused when all are taken */
	int fresh;
	size_t i;

	for (i = 0; i < SK_DEFAULTS_ROWS; i++) {
		if (c->row[i].family == family && c->row[i].type == type && c->row[i].proto == proto)
			return &c->row[i];
		if (!c->row[i].family) {
			d = &c->row[i];
			break;
		}
	}
	fresh = socket(family, type | SOCK_CLOEXEC, proto);
	if (fresh < 0) {
		pr_perror("a fresh %s socket of family %d to compare options with",
			  sk_type_str((unsigned int)type), family);
		return NULL;
	}
	memset(d, 0, sizeof(*d));
	d->family = family;
	d->type = type;
	d->proto = proto;
	for (i = 0; i < ARRAY_SIZE(opt_defs); i++)
		if (opt_defs[i].act != ACT_NONE && !get_opt(fresh, &opt_defs[i], &d->val[i]))
			d->have[i / 64] |= 1ull << (i % 64);	/* an option of this kind */
	close(fresh);
	return d;
}

/* A COUNTER row on UDP: SO_ZEROCOPY on, SO_TIMESTAMPING with OPT_ID. */
static bool udp_counter(const struct opt_def *o, int proto, const struct sk_opt_val *v)
{
	uint32_t tsflags = 0;

	if (!(o->flags & OPT_COUNTER) || (proto != IPPROTO_UDP && proto != IPPROTO_UDPLITE))
		return false;
	if (o->how != HOW_BYTES)
		return v->i != 0;
	if (v->len >= sizeof(tsflags))
		memcpy(&tsflags, v->b, sizeof(tsflags));	/* struct so_timestamping: flags first */
	return tsflags & SOF_TIMESTAMPING_OPT_ID;
}

static int refuse(int tfd, const struct opt_def *d, const struct sk_opt_val *mine,
		  const struct sk_opt_val *def)
{
	if (d->how == HOW_BYTES || d->how == HOW_STR)
		pr_err("fd %d: socket option %s (%s) is set (%u bytes): not supported yet", tfd,
		       d->name, d->why, mine->len);
	else
		pr_err("fd %d: socket option %s (%s) is %lld, a fresh socket has %lld: "
		       "not supported yet", tfd, d->name, d->why, (long long)mine->i,
		       (long long)def->i);
	return -1;
}

/* The classic filter of @n instructions as @o's bytes (an eBPF one, -1, is refused). */
static int get_filter(int fd, int64_t n, ProtobufCBinaryData *b)
{
	return sk_filter_read(fd, n, &b->data, &b->len);
}

static int add_filter(int fd, int tfd, const struct opt_def *d, const struct sk_opt_val *v,
		      const struct sk_opt_val *def, SkOpt ***opts, size_t *nr)
{
	SkOpt *o;

	if (v->i < 1 || v->i > BPF_MAXINSNS)
		return refuse(tfd, d, v, def);
	if (add_opt(opts, nr, d, v))
		return -1;
	o = (*opts)[*nr - 1];
	o->has_data = true;
	return get_filter(fd, v->i, &o->data);
}

/* Reading SO_ERROR would clear a pending error: poll() tells without. */
int sk_check_error(int fd, int tfd)
{
	struct pollfd pfd = { .fd = fd };

	if (poll(&pfd, 1, 0) < 0) {
		pr_perror("fd %d: poll", tfd);
		return -1;
	}
	if (!(pfd.revents & POLLERR))
		return 0;
	pr_err("fd %d: a pending socket error (SO_ERROR) or error queue (MSG_ERRQUEUE): "
	       "not supported yet", tfd);
	return -1;
}

int sk_opts_dump(struct sk_opt_cache *c, int fd, int tfd, int family, int type, int proto,
		 SkOpt ***opts, size_t *nr)
{
	const struct sk_defaults *d;
	bool sizes = false;
	size_t i;

	*opts = NULL;
	*nr = 0;
	d = defaults(c, family, type, proto);
	if (!d)
		return -1;
	for (i = 0; i < ARRAY_SIZE(opt_defs); i++) {
		const struct opt_def *o = &opt_defs[i];
		struct sk_opt_val mine;
		bool dflt;

		/* an option this socket cannot read now (IP_MTU unconnected) is not kept */
		if (o->act == ACT_NONE || get_opt(fd, o, &mine))
			continue;
		dflt = have_bit(d, i) && same_val(&mine, &d->val[i]);
		if (dflt && !(o->flags & OPT_ALWAYS) && !((o->flags & OPT_WITHBUF) && sizes))
			continue;
		if (o->act == ACT_REFUSE || udp_counter(o, proto, &mine))
			return refuse(tfd, o, &mine, &d->val[i]);
		pr_debug("fd %d: %s = %lld (%u bytes)", tfd, o->name, (long long)mine.i, mine.len);
		sizes |= o->how == HOW_BUF;
		if (o->how == HOW_FILTER) {
			if (add_filter(fd, tfd, o, &mine, &d->val[i], opts, nr))
				return -1;
			continue;
		}
		if (add_opt(opts, nr, o, &mine))
			return -1;
	}
	return 0;
}

static bool opt_ok(const struct opt_def *d, const SkOpt *o)
{
	int64_t v = o->val;
	bool bytes = d->how == HOW_BYTES || d->how == HOW_STR;

	if (d->how == HOW_FILTER)
		return d->act == ACT_SET && o->has_data && sk_filter_valid(v, o->data.len);
	if (d->act != ACT_SET || bytes != o->has_data)
		return false;
	if (bytes)
		return o->data.len <= OPT_BYTES_MAX && (d->how != HOW_STR ||
		       (o->data.len < 16 && !memchr(o->data.data, 0, o->data.len)));
	switch (d->how) {
	case HOW_TV:
		return v >= 0 && v <= (int64_t)INT_MAX * 1000000;
	case HOW_LINGER:
		return v >= 0 && (v >> 32) <= 1 && (v & 0xffffffff) <= INT_MAX;
	case HOW_BUF:
		return v >= 0 && v <= INT_MAX;
	case HOW_U64:
		return true;
	default:
		return v >= INT_MIN && v <= INT_MAX;
	}
}

int sk_opts_check(SkOpt *const *opts, size_t nr, const char *img, uint32_t id)
{
	size_t i;

	if (nr > ARRAY_SIZE(opt_defs)) {	/* at most one of each */
		pr_err("%s: object %u: %zu socket options", img, id, nr);
		return -1;
	}
	for (i = 0; i < nr; i++) {
		const struct opt_def *d = opt_def(opts[i]->opt);

		if (!d || !opt_ok(d, opts[i])) {
			pr_err("%s: object %u: socket option %#x = %lld is unknown, not one restore "
			       "sets, or out of range", img, id, opts[i]->opt, (long long)opts[i]->val);
			return -1;
		}
	}
	return 0;
}

static int set_opt(int fd, const struct opt_def *d, const SkOpt *o)
{
	int level = (int)(d->opt >> 16), name = (int)(d->opt & 0xffff), i = (int)o->val;
	struct timeval tv = { .tv_sec = o->val / 1000000, .tv_usec = o->val % 1000000 };
	struct linger l = { .l_onoff = 1, .l_linger = (int)(o->val & 0xffffffff) };
	uint64_t u = (uint64_t)o->val;
	const void *p = &i;
	socklen_t len = sizeof(i);

	if (d->how == HOW_FILTER)	/* checked on reading: 1 to BPF_MAXINSNS instructions */
		return sk_filter_attach(fd, o->data.data, o->data.len);
	switch (d->how) {
	case HOW_BUF:
		/* getsockopt reported twice what was asked; FORCE passes rmem_max */
		name = name == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
		i = (int)(o->val / 2);
		break;
	case HOW_TV:
		p = &tv;
		len = sizeof(tv);
		break;
	case HOW_LINGER:
		/* the seconds are kept only when turned on: on first, then off */
		if (!(o->val >> 32) && l.l_linger && setsockopt(fd, level, name, &l, sizeof(l))) {
			pr_perror("setsockopt %s on for %d s", d->name, l.l_linger);
			return -1;
		}
		l.l_onoff = (int)(o->val >> 32);
		l.l_linger = l.l_onoff ? l.l_linger : 0;
		p = &l;
		len = sizeof(l);
		break;
	case HOW_U64:
		p = &u;
		len = sizeof(u);
		break;
	case HOW_BYTES:
	case HOW_STR:
		p = o->data.data;
		len = (socklen_t)o->data.len;
		break;
	}
	if (setsockopt(fd, level, name, p, len)) {
		pr_perror("setsockopt %s = %lld (%zu bytes)", d->name, (long long)o->val,
			  o->has_data ? o->data.len : 0);
		return -1;
	}
	return 0;
}

/* The option reads back as the image has it (after everything is set: order matters). */
static int verify_opt(int fd, const struct opt_def *d, const SkOpt *o)
{
	struct sk_opt_val now;
	bool same;

	ProtobufCBinaryData prog = { 0, NULL };

	if (d->flags & OPT_MOVES)
		return 0;
	if (get_opt(fd, d, &now)) {
		pr_perror("reading %s back", d->name);
		return -1;
	}
	if (d->how == HOW_FILTER) {
		same = now.i == o->val && !get_filter(fd, now.i, &prog) &&
		       !memcmp(prog.data, o->data.data, prog.len);
		free(prog.data);
	} else {
		same = o->has_data ? now.len == o->data.len &&
				     !memcmp(now.b, o->data.data, now.len) : now.i == o->val;
	}
	if (same)
		return 0;
	pr_err("socket option %s reads %lld (%u bytes) after restore, the dump had %lld "
	       "(%zu bytes)", d->name, (long long)now.i, now.len, (long long)o->val,
	       o->has_data ? o->data.len : 0);
	return -1;
}

int sk_opts_restore(int fd, SkOpt *const *opts, size_t nr, bool late)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		const struct opt_def *d = opt_def(opts[i]->opt);	/* checked on reading */

		if (!!(d->flags & OPT_LATE) == late && set_opt(fd, d, opts[i]))
			return -1;
	}
	for (i = 0; late && i < nr; i++)
		if (verify_opt(fd, opt_def(opts[i]->opt), opts[i]))
			return -1;
	return 0;
}

int sk_set_flags(int fd, uint32_t flags)
{
	if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK)) {
		pr_perror("socket: F_SETFL O_NONBLOCK");
		return -1;
	}
	return 0;
}

/* ---- the kind for every other socket: refused by name ------------------------------- */

static bool other_match(const struct fd_probe *p)
{
	return S_ISSOCK(p->st.st_mode);
}

static const char *family_str(int family)
{
	switch (family) {
	case AF_UNIX: return "unix";
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	case AF_NETLINK: return "netlink";
	case AF_PACKET: return "packet";
	}
	return "other";
}

static int other_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	int family = -1, type = -1, proto = -1;

	(void)d;
	(void)id;
	if (sk_probe(p, &family, &type, &proto))
		return -1;
	pr_err("fd %d: %s socket (family %d, %s, protocol %d): not supported yet", p->fd,
	       family_str(family), family, sk_type_str((unsigned int)type), proto);
	return -1;
}

const struct fd_ops fd_other_sk_ops = {
	.kind = FD_KIND__FD_OTHER_SK, .name = "socket",
	.match = other_match, .dump = other_dump,
};
