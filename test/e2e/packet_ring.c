/*
 * Packet sockets with rings, idle and mapped:
 *   - a TPACKET_V2 socket with an RX and a TX ring, mapped in one mapping
 *     (RX then TX), bound to lo for ethertype 0x88b8;
 *   - a TPACKET_V3 socket with an RX ring (retire timeout, private area,
 *     RXHASH feature), bound to lo for ethertype 0x88b9;
 *   - a SOCK_DGRAM packet socket, unbound: the sender.
 * No frame reaches a ring before the dump. After restore each mapping is at
 * the same address and maps the same socket, sock_diag shows the same ring
 * configurations, and a frame sent on lo lands in each RX ring (frame 0 of
 * the V2 ring, block 0 of the V3 one).
 */
#include <poll.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>

#include "e2e.h"

#define ETH_V2		0x88b8
#define ETH_V3		0x88b9
#define V2_LEN		(2 * 8192)	/* RX then TX, 2 blocks of 4096 each */
#define V3_LEN		(4 * 4096)

struct rings {
	struct packet_diag_ring	rx, tx;
	int			has_rx, has_tx;
};

static int ifindex_lo;

static int pk(int type, int version)
{
	int fd = socket(AF_PACKET, type, 0);

	if (fd < 0)
		e2e_fail("socket: %s", strerror(errno));
	if (version >= 0 &&
	    setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)))
		e2e_fail("PACKET_VERSION %d: %s", version, strerror(errno));
	return fd;
}

static void pk_bind(int fd, int proto)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				 .sll_ifindex = ifindex_lo };

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		e2e_fail("bind: %s", strerror(errno));
}

static void *map_ring(int fd, size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED)
		e2e_fail("mmap of the ring: %s", strerror(errno));
	return m;
}

static void ring_attr(const struct nlmsghdr *h, struct rings *r)
{
	const struct packet_diag_msg *m = NLMSG_DATA(h);
	const struct nlattr *a = (const void *)(m + 1);
	int left = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));

	while (left >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= left) {
		if (a->nla_type == PACKET_DIAG_RX_RING)
			r->has_rx = 1, memcpy(&r->rx, a + 1, sizeof(r->rx));
		if (a->nla_type == PACKET_DIAG_TX_RING)
			r->has_tx = 1, memcpy(&r->tx, a + 1, sizeof(r->tx));
		left -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

/* The rings of socket @fd as sock_diag shows them. */
static void rings_of(int fd, struct rings *r)
{
	struct {
		struct nlmsghdr		h;
		struct packet_diag_req	r;
	} q = { .h = { .nlmsg_len = sizeof(q), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_PACKET, .pdiag_show = PACKET_SHOW_RING_CFG } };
	static char buf[32768];
	struct stat st;
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), done = 0;

	memset(r, 0, sizeof(*r));
	if (nl < 0 || fstat(fd, &st) || send(nl, &q, sizeof(q), 0) < 0)
		e2e_fail("sock_diag: %s", strerror(errno));
	while (!done) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n <= 0)
			e2e_fail("sock_diag recv: %s", strerror(errno));
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (((struct packet_diag_msg *)NLMSG_DATA(h))->pdiag_ino == st.st_ino)
				ring_attr(h, r);
		}
	}
	close(nl);
}

/* The mapping at @m is still the one of socket @fd. */
static void same_map(const void *m, size_t len, int fd, const char *what)
{
	char link[80];
	struct stat a, b;

	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)m,
		 (unsigned long)m + len);
	if (stat(link, &a) || fstat(fd, &b))
		e2e_fail("%s: stat %s: %s", what, link, strerror(errno));
	if (a.st_ino != b.st_ino || strcmp(e2e_perms(m), "rw-s"))
		e2e_fail("%s: the mapping at %p is of inode %lu (%s), the socket is %lu", what, m,
			 (unsigned long)a.st_ino, e2e_perms(m), (unsigned long)b.st_ino);
}

static void send_frame(int tx, int proto, uint32_t mark)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				 .sll_ifindex = ifindex_lo, .sll_halen = ETH_ALEN };
	unsigned char payload[64] = { 0 };

	memcpy(payload, &mark, sizeof(mark));
	if (sendto(tx, payload, sizeof(payload), 0, (struct sockaddr *)&a, sizeof(a)) < 0)
		e2e_fail("sendto: %s", strerror(errno));
}

static void wait_in(int fd, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		e2e_fail("%s: no frame in the ring after 10 s", what);
}

static void check_v2(int fd, const unsigned char *m, uint32_t mark)
{
	const struct tpacket2_hdr *h = (const void *)m;
	uint32_t got;

	wait_in(fd, "V2 ring");
	if (!(h->tp_status & TP_STATUS_USER) || h->tp_snaplen < 64)
		e2e_fail("V2 ring: frame 0 has status %#x, %u bytes", h->tp_status, h->tp_snaplen);
	memcpy(&got, m + h->tp_mac + ETH_HLEN, sizeof(got));
	if (got != mark)
		e2e_fail("V2 ring: frame 0 carries %#x, sent %#x", got, mark);
}

static void check_v3(int fd, const unsigned char *m, uint32_t mark)
{
	const struct tpacket_block_desc *b = (const void *)m;
	const struct tpacket3_hdr *h;
	uint32_t got;

	wait_in(fd, "V3 ring");
	if (!(b->hdr.bh1.block_status & TP_STATUS_USER) || !b->hdr.bh1.num_pkts)
		e2e_fail("V3 ring: block 0 has status %#x, %u packets", b->hdr.bh1.block_status,
			 b->hdr.bh1.num_pkts);
	h = (const void *)(m + b->hdr.bh1.offset_to_first_pkt);
	memcpy(&got, (const unsigned char *)h + h->tp_mac + ETH_HLEN, sizeof(got));
	if (got != mark)
		e2e_fail("V3 ring: block 0's first frame carries %#x, sent %#x", got, mark);
}

static void pristine(const unsigned char *m, size_t len, size_t skip, const char *what)
{
	size_t i;

	for (i = skip; i < len; i++)
		if (m[i])
			e2e_fail("setup: %s ring has byte %zu set: a frame came in", what, i);
}

int main(int argc, char **argv)
{
	struct tpacket_req r2 = { .tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048,
				  .tp_frame_nr = 4 };
	struct tpacket_req3 r3 = { .tp_block_size = 4096, .tp_block_nr = 4, .tp_frame_size = 2048,
				   .tp_frame_nr = 8, .tp_retire_blk_tov = 20, .tp_sizeof_priv = 16,
				   .tp_feature_req_word = TP_FT_REQ_FILL_RXHASH };
	uint32_t mark = 0x5b000000u | (uint32_t)getpid();
	struct rings g2, g3, now;
	unsigned char *m2, *m3;
	int v2, v3, tx;

	e2e_init(argc, argv);
	ifindex_lo = (int)if_nametoindex("lo");
	if (!ifindex_lo)
		e2e_fail("no lo: %s", strerror(errno));
	v2 = pk(SOCK_RAW, TPACKET_V2);
	if (setsockopt(v2, SOL_PACKET, PACKET_RX_RING, &r2, sizeof(r2)) ||
	    setsockopt(v2, SOL_PACKET, PACKET_TX_RING, &r2, sizeof(r2)))
		e2e_fail("V2 rings: %s", strerror(errno));
	m2 = map_ring(v2, V2_LEN);
	pk_bind(v2, ETH_V2);
	v3 = pk(SOCK_RAW, TPACKET_V3);
	if (setsockopt(v3, SOL_PACKET, PACKET_RX_RING, &r3, sizeof(r3)))
		e2e_fail("V3 ring: %s", strerror(errno));
	m3 = map_ring(v3, V3_LEN);
	pk_bind(v3, ETH_V3);
	tx = pk(SOCK_DGRAM, -1);
	rings_of(v2, &g2);
	rings_of(v3, &g3);
	if (!g2.has_rx || !g2.has_tx || !g3.has_rx || g3.has_tx || g3.rx.pdr_retire_tmo != 20 ||
	    g3.rx.pdr_sizeof_priv != 16 || g3.rx.pdr_features != TP_FT_REQ_FILL_RXHASH)
		e2e_fail("setup: sock_diag shows rings %d %d %d %d, V3 tmo %u priv %u features %u",
			 g2.has_rx, g2.has_tx, g3.has_rx, g3.has_tx, g3.rx.pdr_retire_tmo,
			 g3.rx.pdr_sizeof_priv, g3.rx.pdr_features);

	e2e_ready();
	e2e_wait_stop();

	pristine(m2, V2_LEN, 0, "V2");
	pristine(m3, V3_LEN, sizeof(struct tpacket_block_desc), "V3");
	same_map(m2, V2_LEN, v2, "V2 rings");
	same_map(m3, V3_LEN, v3, "V3 ring");
	rings_of(v2, &now);
	if (memcmp(&now, &g2, sizeof(now)))
		e2e_fail("V2 rings: RX %u x %u, TX %u x %u after restore, were %u x %u, %u x %u",
			 now.rx.pdr_frame_nr, now.rx.pdr_frame_size, now.tx.pdr_frame_nr,
			 now.tx.pdr_frame_size, g2.rx.pdr_frame_nr, g2.rx.pdr_frame_size,
			 g2.tx.pdr_frame_nr, g2.tx.pdr_frame_size);
	rings_of(v3, &now);
	if (memcmp(&now, &g3, sizeof(now)))
		e2e_fail("V3 ring: tmo %u priv %u features %u blocks %u after restore, were %u %u %u %u",
			 now.rx.pdr_retire_tmo, now.rx.pdr_sizeof_priv, now.rx.pdr_features,
			 now.rx.pdr_block_nr, g3.rx.pdr_retire_tmo, g3.rx.pdr_sizeof_priv,
			 g3.rx.pdr_features, g3.rx.pdr_block_nr);
	send_frame(tx, ETH_V2, mark);
	send_frame(tx, ETH_V3, mark);
	check_v2(v2, m2, mark);
	check_v3(v3, m3, mark);
	e2e_pass();
}
