/*
 * The receive queue of a UDP or UDP-Lite socket: read without taking it at
 * dump, each datagram sent again from its sender's address at restore
 * (criu/include/udp-queue.h).
 *
 * A datagram is sent again through a raw socket that writes its own IP
 * header (IPPROTO_RAW), bound to the loopback device: any source address
 * and port, one outside this host too, needs no port of anyone's (the
 * sender's may be taken by another socket, or by its own restored one) and
 * the packet never leaves the host. The kernel delivers it to the socket
 * as any UDP datagram: the receiver reads the same sender, the same bytes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>

#define LOG_PREFIX "udp-queue: "
#include "log.h"
#include "udp-queue.h"

#define DGRAM_BUF	65536			/* more than any datagram carries */
#define V4_PAYLOAD_MAX	(65535u - 20 - 8)	/* IPv4 total length, less the headers */
#define V6_PAYLOAD_MAX	(65535u - 8)		/* IPv6 payload length, less UDP's */
#define ARRIVE_TRIES	2000			/* 1 ms apart */

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int peek_off_get(int fd, uint32_t id, int *off)
{
	socklen_t len = sizeof(*off);

	if (!getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, off, &len))
		return 0;
	pr_perror("socket %u: SO_PEEK_OFF", id);
	return -1;
}

static int peek_off_set(int fd, uint32_t id, int off)
{
	if (!setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		return 0;
	pr_perror("socket %u: SO_PEEK_OFF %d", id, off);
	return -1;
}

/* The next datagram from the peek offset: its length, -2 none left, -1 failed (errno). */
static ssize_t peek(int fd, uint8_t *buf, struct sockaddr_storage *from, struct msghdr *m,
		    char *ctl, size_t ctl_len)
{
	struct iovec iov = { buf, DGRAM_BUF };	/* @m keeps no use of it after the call */
	ssize_t n;

	memset(m, 0, sizeof(*m));
	memset(from, 0, sizeof(*from));
	m->msg_name = from;
	m->msg_namelen = sizeof(*from);
	m->msg_iov = &iov;
	m->msg_iovlen = 1;
	m->msg_control = ctl;
	m->msg_controllen = ctl_len;
	n = recvmsg(fd, m, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -2;
	return n;
}

/* The sender's address as the image keeps it (4 or 16 bytes) and its port. */
static void sender_of(const struct sockaddr_storage *ss, const uint8_t **a, size_t *alen,
		      uint32_t *port)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6) {
		*a = in6->sin6_addr.s6_addr;
		*alen = 16;
		*port = ntohs(in6->sin6_port);
	} else {
		*a = (const uint8_t *)&in->sin_addr;
		*alen = 4;
		*port = ntohs(in->sin_port);
	}
}

/* ---- dump ------------------------------------------------------------------------ */

static int keep(InetSkEntry *e, const struct sockaddr_storage *from, const uint8_t *buf,
		size_t n)
{
	UdpDgram *d = malloc(sizeof(*d)), **v;
	const uint8_t *a;
	size_t alen;

	v = d ? realloc(e->rqueue, (e->n_rqueue + 1) * sizeof(*v)) : NULL;
	if (v)
		e->rqueue = v;
	if (d)
		udp_dgram__init(d);
	if (d && v) {
		sender_of(from, &a, &alen, &d->port);
		d->addr.data = malloc(alen);
		d->data.data = malloc(n ? n : 1);
	}
	if (!v || !d->addr.data || !d->data.data) {
		if (d)
			protobuf_c_message_free_unpacked(&d->base, NULL);
		pr_err("out of memory");
		return -1;
	}
	memcpy(d->addr.data, a, alen);
	d->addr.len = alen;
	memcpy(d->data.data, buf, n);
	d->data.len = n;
	e->rqueue[e->n_rqueue++] = d;
	return 0;
}

/* One datagram more into @e: 0 kept, 1 none left, -1 refused (logged). */
static int dump_one(int fd, int tfd, InetSkEntry *e, uint8_t *buf, size_t *total, bool goes_on)
{
	struct sockaddr_storage from;
	struct msghdr m;
	char ctl[256];
	ssize_t n = peek(fd, buf, &from, &m, ctl, sizeof(ctl));

	if (n == -2)
		return 1;
	if (n < 0) {
		pr_perror("fd %d: reading the queued datagrams", tfd);
		return -1;
	}
	if (m.msg_controllen || (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		const struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		pr_err("fd %d: UDP socket with datagrams queued that come with ancillary data the "
		       "receiver asked for (level %d type %d: IP_PKTINFO, a timestamp, a TTL...), "
		       "which a datagram sent again cannot carry: not supported yet", tfd,
		       c ? c->cmsg_level : -1, c ? c->cmsg_type : -1);
		return -1;
	}
	if (from.ss_family != e->family) {
		pr_err("fd %d: a queued datagram from an address of family %d", tfd,
		       from.ss_family);
		return -1;
	}
	if (e->n_rqueue == UDPQ_MAX_DGRAMS || *total + (size_t)n > UDPQ_MAX_BYTES) {
		pr_err("fd %d: UDP socket with more than %u datagrams or %u bytes queued: "
		       "not supported yet", tfd, UDPQ_MAX_DGRAMS, UDPQ_MAX_BYTES);
		return -1;
	}
	if (!n && goes_on) {
		pr_err("fd %d: an empty UDP datagram queued, in a tree that runs on after the dump: "
		       "reading it marked it peeked, and a peek at an offset (SO_PEEK_OFF) skips "
		       "it from now on, a later dump too: not supported yet", tfd);
		return -1;
	}
	*total += (size_t)n;
	return keep(e, &from, buf, (size_t)n);
}

static bool zero(const uint8_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* A multicast or broadcast address (v4-mapped too): no unicast datagram reaches it. */
static bool not_unicast(const uint8_t *a, size_t n)
{
	if (n == 16 && memcmp(a, mapped_prefix, 12))
		return a[0] == 0xff;
	a += n - 4;
	return (a[0] & 0xf0) == 0xe0 || (a[0] == 0xff && a[1] == 0xff && a[2] == 0xff &&
					  a[3] == 0xff);
}

/* Where a datagram sent again over loopback would not arrive. */
static int refuse_place(int tfd, const InetSkEntry *e)
{
	const uint32_t dev = (uint32_t)SOL_SOCKET << 16 | SO_BINDTODEVICE;
	size_t i;

	for (i = 0; i < e->n_opts; i++)
		if (e->opts[i]->opt == dev && e->opts[i]->data.len) {
			pr_err("fd %d: UDP socket bound to a device with datagrams queued (sent "
			       "again over loopback, it would not take them): not supported yet",
			       tfd);
			return -1;
		}
	if (!e->has_src_addr || !e->src_port || not_unicast(e->src_addr.data, e->src_addr.len)) {
		pr_err("fd %d: UDP socket with datagrams queued and no port, or bound to a "
		       "multicast or broadcast address: not supported yet", tfd);
		return -1;
	}
	return 0;
}

int udpq_dump(int fd, int tfd, InetSkEntry *e, bool goes_on)
{
	size_t total = 0;
	uint8_t *buf;
	int off, r;

	/* e->id is not given yet: messages name the task's fd */
	if (refuse_place(tfd, e) || peek_off_get(fd, (uint32_t)tfd, &off))
		return -1;
	buf = malloc(DGRAM_BUF);
	if (!buf) {
		pr_err("out of memory");
		return -1;
	}
	r = peek_off_set(fd, (uint32_t)tfd, 0);
	while (!r)
		r = dump_one(fd, tfd, e, buf, &total, goes_on);
	free(buf);
	/* the task's own peek offset back, as it was */
	if (peek_off_set(fd, (uint32_t)tfd, off) || r < 0)
		return -1;
	pr_info("fd %d: %zu datagrams queued, %zu bytes", tfd, e->n_rqueue, total);
	return 0;
}

/* ---- restore --------------------------------------------------------------------- */

static bool mapped(const ProtobufCBinaryData *a)
{
	return a->len == 16 && !memcmp(a->data, mapped_prefix, 12);
}

const char *udpq_check(const InetSkEntry *e)
{
	size_t alen = e->family == AF_INET6 ? 16 : 4, total = 0, i;

	if (!e->n_rqueue)
		return NULL;
	if (e->type != SOCK_DGRAM || (e->proto != IPPROTO_UDP && e->proto != IPPROTO_UDPLITE))
		return "a datagram queue on a socket not UDP";
	if (!e->has_src_addr || !e->has_src_port || !e->src_port ||
	    not_unicast(e->src_addr.data, e->src_addr.len))
		return "a datagram queue on a socket without a port or a unicast address";
	if (e->n_rqueue > UDPQ_MAX_DGRAMS)
		return "too many queued datagrams";
	for (i = 0; i < e->n_rqueue; i++) {
		const UdpDgram *d = e->rqueue[i];
		bool v4 = alen == 4 || mapped(&d->addr);

		if (d->addr.len != alen || d->port > 65535)
			return "a queued datagram's sender of the wrong size or port out of range";
		if (d->data.len > (v4 ? V4_PAYLOAD_MAX : V6_PAYLOAD_MAX))
			return "a queued datagram over the size IP carries";
		/* an IPv6 socket takes IPv4 datagrams bound to :: or a v4-mapped address */
		if (alen == 16 && !zero(e->src_addr.data, 16) && v4 != mapped(&e->src_addr))
			return "a queued datagram of the other IP version than the socket's address";
		total += d->data.len;
		if (total > UDPQ_MAX_BYTES)
			return "queued datagrams over the size limit";
	}
	return NULL;
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		s += (uint32_t)p[i] << 8 | p[i + 1];
		s = (s & 0xffff) + (s >> 16);
	}
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return (s & 0xffff) + (s >> 16);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The IP packet of datagram @d from @src to @dst:@dport (4 or 16 bytes
 * each): the IP header, the UDP header with its checksum (UDP-Lite: the
 * whole datagram covered), the bytes. Its length.
 */
static size_t build(uint8_t *pkt, const InetSkEntry *e, const UdpDgram *d, const uint8_t *src,
		    const uint8_t *dst, size_t alen, uint32_t dport)
{
	size_t hlen = alen == 4 ? 20 : 40, ulen = 8 + d->data.len;
	uint8_t *u = pkt + hlen, pseudo[4] = { 0, (uint8_t)e->proto, 0, 0 };
	uint32_t s;

	memset(pkt, 0, hlen + 8);
	if (alen == 4) {
		pkt[0] = 0x45;
		put16(pkt + 2, (uint32_t)(hlen + ulen));
		pkt[8] = 255;			/* above any IP_MINTTL */
		pkt[9] = (uint8_t)e->proto;
		memcpy(pkt + 12, src, 4);
		memcpy(pkt + 16, dst, 4);
	} else {
		pkt[0] = 0x60;
		put16(pkt + 4, (uint32_t)ulen);
		pkt[6] = (uint8_t)e->proto;
		pkt[7] = 255;
		memcpy(pkt + 8, src, 16);
		memcpy(pkt + 24, dst, 16);
	}
	put16(u, d->port);
	put16(u + 2, dport);
	put16(u + 4, e->proto == IPPROTO_UDPLITE ? 0 : (uint32_t)ulen);
	memcpy(u + 8, d->data.data, d->data.len);
	put16(pseudo + 2, (uint32_t)ulen);	/* both versions: length < 65536 */
	s = sum16(sum16(sum16(0, src, alen), dst, alen), pseudo, 4);
	s = (uint16_t)~sum16(s, u, ulen);
	put16(u + 6, s ? s : 0xffff);
	return hlen + ulen;
}

struct sender {
	int	fd[2];		/* raw IPv4, raw IPv6; -1 until needed */
	uint8_t	*pkt;
};

static int raw_fd(struct sender *s, bool v6, uint32_t id)
{
	int *fd = &s->fd[v6];

	if (*fd >= 0)
		return *fd;
	*fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (*fd < 0) {
		pr_perror("socket %u: a raw IPv%d socket to send the queue again", id, v6 ? 6 : 4);
		return -1;
	}
	if (setsockopt(*fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3)) {
		pr_perror("socket %u: binding the raw socket to lo", id);
		return -1;
	}
	return *fd;
}

/* Datagram @d again, from its sender to the socket's address (loopback for a wildcard). */
static int send_one(struct sender *s, const InetSkEntry *e, const UdpDgram *d)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	const uint8_t *bound = e->src_addr.data, *src = d->addr.data, *dst;
	bool v4 = e->family == AF_INET || mapped(&d->addr);
	struct sockaddr_storage to;
	size_t alen = v4 ? 4 : 16, len;
	int fd = raw_fd(s, !v4, e->id);

	if (fd < 0)
		return -1;
	if (e->family == AF_INET6 && v4) {
		src += 12;
		bound += 12;	/* v4-mapped, or :: (zero all the same) */
	}
	dst = zero(bound, alen) ? (v4 ? lo4 : lo6) : bound;
	len = build(s->pkt, e, d, src, dst, alen, e->src_port);
	memset(&to, 0, sizeof(to));
	to.ss_family = v4 ? AF_INET : AF_INET6;
	if (v4)
		memcpy(&((struct sockaddr_in *)&to)->sin_addr, dst, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&to)->sin6_addr, dst, 16);
	if (sendto(fd, s->pkt, len, 0, (struct sockaddr *)&to,
		   v4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) == (ssize_t)len)
		return 0;
	pr_perror("socket %u: sending a queued datagram again (%zu bytes)", e->id, d->data.len);
	return -1;
}

static int rmem_of(int fd, uint32_t id, uint32_t *v)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len)) {
		pr_perror("socket %u: SO_MEMINFO", id);
		return -1;
	}
	*v = mem[SK_MEMINFO_RMEM_ALLOC];
	return 0;
}

/*
 * Until datagram @i is in the queue: the queue's memory grows past @before.
 * Loopback delivers it a moment after the send, in order. Nothing is read:
 * a peek would mark an empty datagram peeked, which a peek at an offset
 * then skips (the task's own SO_PEEK_OFF, a later dump).
 */
static int wait_in(int fd, const InetSkEntry *e, size_t i, uint32_t before)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	uint32_t now = before;
	int k;

	for (k = 0; k < ARRIVE_TRIES; k++) {
		if (rmem_of(fd, e->id, &now))
			return -1;
		if (now > before)
			return 0;
		nanosleep(&tick, NULL);
	}
	pr_err("socket %u: queued datagram %zu of %zu, sent again, did not arrive in %d ms",
	       e->id, i + 1, e->n_rqueue, ARRIVE_TRIES);
	return -1;
}

static int getint(int fd, uint32_t id, int opt, const char *name, int *v)
{
	socklen_t len = sizeof(*v);

	if (!getsockopt(fd, SOL_SOCKET, opt, v, &len))
		return 0;
	pr_perror("socket %u: %s", id, name);
	return -1;
}

static int setint(int fd, uint32_t id, int opt, const char *name, int v)
{
	if (!setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)))
		return 0;
	pr_perror("socket %u: %s %d", id, name, v);
	return -1;
}

/* Room for the whole queue while it is sent again (a datagram's memory ~ twice its bytes). */
static int rcvbuf_raise(int fd, const InetSkEntry *e)
{
	uint64_t need = 0;
	size_t i;

	for (i = 0; i < e->n_rqueue; i++)
		need += 2 * e->rqueue[i]->data.len + 2048;
	if (need > INT32_MAX / 2)
		need = INT32_MAX / 2;
	return setint(fd, e->id, SO_RCVBUFFORCE, "SO_RCVBUFFORCE", (int)need);
}

int udpq_restore(int fd, const InetSkEntry *e)
{
	struct sender s = { { -1, -1 }, NULL };
	int rcvbuf, lock, ret = -1;
	size_t i;

	if (!e->n_rqueue)
		return 0;
	if (getint(fd, e->id, SO_RCVBUF, "SO_RCVBUF", &rcvbuf) ||
	    getint(fd, e->id, SO_BUF_LOCK, "SO_BUF_LOCK", &lock))
		return -1;
	s.pkt = malloc(40 + 8 + DGRAM_BUF);
	if (!s.pkt) {
		pr_err("out of memory");
		return -1;
	}
	if (rcvbuf_raise(fd, e))
		goto out;
	for (i = 0; i < e->n_rqueue; i++) {
		uint32_t before;

		if (rmem_of(fd, e->id, &before) || send_one(&s, e, e->rqueue[i]) ||
		    wait_in(fd, e, i, before))
			goto out;
	}
	/* the size and lock as they were: the late options set what the task set */
	if (setint(fd, e->id, SO_RCVBUFFORCE, "SO_RCVBUFFORCE", rcvbuf / 2) ||
	    setint(fd, e->id, SO_BUF_LOCK, "SO_BUF_LOCK", lock))
		goto out;
	pr_info("socket %u: %zu queued datagrams sent again", e->id, e->n_rqueue);
	ret = 0;
out:
	for (i = 0; i < 2; i++)
		if (s.fd[i] >= 0)
			close(s.fd[i]);
	free(s.pkt);
	return ret;
}
