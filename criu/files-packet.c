/*
 * Packet sockets (AF_PACKET, SOCK_RAW and SOCK_DGRAM; images/sk-packet.proto):
 * the protocol it is hooked to (given to socket() or bind(); SO_PROTOCOL
 * reads 0 on every packet socket), the device it is bound to (by ifindex), the copy threshold, the memberships
 * (PACKET_ADD_MEMBERSHIP, each with its count), the fanout group and the
 * options (PACKET_VERSION, PACKET_AUXDATA, ..., the classic filter and
 * SO_LOCK_FILTER are rows of the option table in criu/files-sock.c).
 *
 * Dump: sock_diag's packet table (criu/sk-diag.c) for the socket's inode
 * gives device, copy threshold, memberships, rings and queued bytes;
 * getsockopt(PACKET_FANOUT) the group with its flags (sock_diag has none).
 * Restore, in criu before the fork: socket() (a drop-everything filter at
 * once, so nothing is queued before the socket is what it was), options,
 * bind, memberships, fanout, what slipped in meanwhile drained, the
 * dumped filter (or none), late options; device, protocol and fanout read
 * back.
 *
 * Rings (PACKET_RX_RING/TX_RING) never used yet, and their mapping (vma
 * kind VMA_PACKET_RING, made by the restorer from the socket's fd).
 * Refused ("not supported yet"): a ring used (the kernel's place in it is
 * shown nowhere), part of a ring mapped, frames queued in the receive queue or still being sent (the
 * kernel gives no way to put them back without consuming them), a socket
 * unhooked from its protocol (its device gone down), a fanout group with
 * a program (CBPF, EBPF) or made with PACKET_FANOUT_FLAG_UNIQUEID, more
 * than 16 memberships, SOCK_PACKET.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/packet_diag.h>

#define LOG_PREFIX "packet: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "sockets.h"
#include "sk-packet.pb-c.h"

#define PK_FANOUT_TYPE_MAX	PACKET_FANOUT_QM	/* the types without a program */
#define PK_FANOUT_FLAGS		0xff00	/* flags << 8 of PACKET_FANOUT's upper half */
#define PK_MR_MAX		3	/* PACKET_MR_UNICAST */
#define PK_MC_COUNT_MAX		4096	/* additions of one membership restored */

struct pk_dump {
	struct sk_diag		diag;
	struct sk_opt_cache	opts;
	struct fd_list		l;
};

static struct pk_dump *pk_state(struct dump_files *d)
{
	struct pk_dump *pd = d->priv[FD_KIND__FD_PACKET_SK];

	if (!pd) {
		pd = calloc(1, sizeof(*pd));
		if (!pd)
			pr_err("out of memory");
		d->priv[FD_KIND__FD_PACKET_SK] = pd;
	}
	return pd;
}

static bool pk_match(const struct fd_probe *p)
{
	int family;

	return S_ISSOCK(p->st.st_mode) && !sk_probe(p, &family, NULL, NULL) &&
	       family == AF_PACKET;
}

/* What sock_diag shows that the restore cannot make again. */
static int pk_refused(const struct fd_probe *p, const struct sk_packet_diag *s)
{
	if (s->rmem || s->wmem) {
		pr_err("fd %d: packet socket with frames queued (%u bytes received and not read, "
		       "%u being sent): not supported yet (the kernel cannot give them back "
		       "without consuming them)", p->fd, s->rmem, s->wmem);
		return -1;
	}
	if (s->num && !(s->flags & PDI_RUNNING)) {
		pr_err("fd %d: packet socket unhooked from protocol %#x (its device down): "
		       "not supported yet", p->fd, s->num);
		return -1;
	}
	if (s->more_mc) {
		pr_err("fd %d: packet socket with more than %d memberships: not supported yet",
		       p->fd, SK_PACKET_MC_MAX);
		return -1;
	}
	return 0;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

/*
 * A fresh ring is zeroed pages; the kernel's place in it (the next frame or
 * block, not shown anywhere) is its start. A ring is carried only while it
 * is still so: no frame ever filled, sent, or written by the process. A
 * TPACKET_V3 RX ring's block 0 is opened when the ring is made: its header
 * says so (status kernel, no packets, sequence 1) and is written again.
 */
static const char *pk_ring_used(const unsigned char *m, const struct sk_packet_ring *r,
				bool v3_rx)
{
	size_t len = (size_t)r->block_size * r->block_nr, skip = 0;

	if (v3_rx) {
		const struct tpacket_block_desc *b = (const void *)m;

		if (b->hdr.bh1.block_status != TP_STATUS_KERNEL || b->hdr.bh1.num_pkts ||
		    b->hdr.bh1.seq_num != 1)
			return "its first block was filled";
		skip = sizeof(*b);
	}
	return all_zero(m + skip, len - skip) ? NULL : "frames were filled, sent or written in it";
}

static PacketRing *pk_ring_entry(const struct sk_packet_ring *r)
{
	PacketRing *o = malloc(sizeof(*o));

	if (!o) {
		pr_err("out of memory");
		return NULL;
	}
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

/* The rings, looked at through a mapping of criu's own copy of the socket. */
static int pk_rings(const struct fd_probe *p, const struct sk_packet_diag *s, PacketSkEntry *e)
{
	size_t rx = s->has_rx_ring ? (size_t)s->rx_ring.block_size * s->rx_ring.block_nr : 0;
	size_t tx = s->has_tx_ring ? (size_t)s->tx_ring.block_size * s->tx_ring.block_nr : 0;
	const char *why = NULL, *ring = "RX";
	unsigned char *m;

	if (!rx && !tx)
		return 0;
	m = mmap(NULL, rx + tx, PROT_READ, MAP_SHARED, p->local, 0);
	if (m == MAP_FAILED) {
		pr_perror("fd %d: mapping the packet ring (%zu bytes) to read it", p->fd, rx + tx);
		return -1;
	}
	if (rx)
		why = pk_ring_used(m, &s->rx_ring, s->version == TPACKET_V3);
	if (tx && !why) {
		ring = "TX";
		why = pk_ring_used(m + rx, &s->tx_ring, false);
	}
	munmap(m, rx + tx);
	if (why) {
		pr_err("fd %d: packet socket's %s ring: %s (the kernel's place in it cannot be "
		       "set again): not supported yet", p->fd, ring, why);
		return -1;
	}
	if ((rx && !(e->rx_ring = pk_ring_entry(&s->rx_ring))) ||
	    (tx && !(e->tx_ring = pk_ring_entry(&s->tx_ring))))
		return -1;
	return 0;
}

static int pk_mclist(const struct sk_packet_diag *s, PacketSkEntry *e)
{
	uint32_t i;

	if (!s->nr_mc)
		return 0;
	e->mclist = calloc(s->nr_mc, sizeof(*e->mclist));
	if (!e->mclist)
		goto oom;
	for (i = 0; i < s->nr_mc; i++) {
		PacketMc *m = malloc(sizeof(*m));

		if (!m)
			goto oom;
		packet_mc__init(m);
		e->mclist[e->n_mclist++] = m;
		m->ifindex = s->mc[i].ifindex;
		m->type = s->mc[i].type;
		m->count = s->mc[i].count;
		m->addr.len = s->mc[i].alen;
		m->addr.data = malloc(m->addr.len ? m->addr.len : 1);
		if (!m->addr.data)
			goto oom;
		memcpy(m->addr.data, s->mc[i].addr, m->addr.len);
	}
	return 0;
oom:
	pr_err("out of memory");
	return -1;
}

/* PACKET_FANOUT: id | type << 16 | flags << 24, what setsockopt takes again. */
static int pk_fanout(const struct fd_probe *p, PacketSkEntry *e)
{
	uint32_t v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(p->local, SOL_PACKET, PACKET_FANOUT, &v, &len)) {
		pr_perror("fd %d: getsockopt PACKET_FANOUT", p->fd);
		return -1;
	}
	if (!v)
		return 0;
	if (((v >> 16) & 0xff) > PK_FANOUT_TYPE_MAX) {
		pr_err("fd %d: packet fanout group %u of type %u (a program steers it): "
		       "not supported yet", p->fd, v & 0xffff, (v >> 16) & 0xff);
		return -1;
	}
	if ((v >> 16) & PACKET_FANOUT_FLAG_UNIQUEID) {
		pr_err("fd %d: packet fanout group %u made with PACKET_FANOUT_FLAG_UNIQUEID: "
		       "not supported yet (its id cannot be asked for again)", p->fd, v & 0xffff);
		return -1;
	}
	e->has_fanout = true;
	e->fanout = v;
	return 0;
}

static int pk_diag(struct pk_dump *pd, const struct fd_probe *p, PacketSkEntry *e)
{
	const struct sk_packet_diag *s;
	int err;

	s = sk_diag_packet(&pd->diag, p->st.st_ino, &err);
	if (err)
		return -1;
	if (!s || !s->has_info || !s->has_mem) {
		pr_err("fd %d: sock_diag does not list packet socket %llu with its state", p->fd,
		       (unsigned long long)p->st.st_ino);
		return -1;
	}
	if (pk_refused(p, s))
		return -1;
	e->protocol = htons(s->num);	/* sock_diag gives it in host order */
	e->ifindex = s->ifindex;
	e->copy_thresh = s->copy_thresh;
	return pk_rings(p, s, e) || pk_mclist(s, e) ? -1 : 0;
}

static int pk_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct pk_dump *pd = pk_state(d);
	int type, proto;
	PacketSkEntry *e;

	if (!pd || sk_probe(p, NULL, &type, &proto))
		return -1;
	if (type != SOCK_RAW && type != SOCK_DGRAM) {
		pr_err("fd %d: packet socket of type %d (SOCK_PACKET): not supported yet", p->fd,
		       type);
		return -1;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	packet_sk_entry__init(e);
	e->ino = p->st.st_ino;
	e->type = (uint32_t)type;
	e->flags = p->fi.flags & O_NONBLOCK;
	if (sk_check_error(p->local, p->fd) || pk_diag(pd, p, e) || pk_fanout(p, e) ||
	    sk_opts_dump(&pd->opts, p->local, p->fd, AF_PACKET, type, proto, &e->opts,
			 &e->n_opts)) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return -1;
	}
	e->id = *id = fd_obj_id(d);
	return fd_list_add(&pd->l, e);
}

static size_t pk_ring_len(const PacketRing *r)
{
	return r ? (size_t)r->block_size * r->block_nr : 0;
}

static const PacketSkEntry *pk_by_ino(const struct pk_dump *pd, uint64_t ino)
{
	size_t i;

	for (i = 0; pd && i < pd->l.nr; i++)
		if (((const PacketSkEntry *)pd->l.v[i])->ino == ino)
			return (const PacketSkEntry *)pd->l.v[i];
	return NULL;
}

/*
 * The mappings dump-mem.c saw of a socket (VMA_PACKET_RING): the packet
 * socket of one of the tree's descriptors, mapped whole (both rings, from 0).
 */
int dump_packet_ring_vmas(struct dump_task *t)
{
	const struct pk_dump *pd = t->files->priv[FD_KIND__FD_PACKET_SK];
	size_t i;

	for (i = 0; i < t->mm.n_vmas; i++) {
		VmaEntry *v = &t->vmas[i];
		const char *path = t->pvmas.v[i].path;
		const PacketSkEntry *e;

		if (v->kind != VMA_KIND__VMA_PACKET_RING)
			continue;
		e = pk_by_ino(pd, strtoull(path + 8, NULL, 10));	/* "socket:[INO]" */
		if (!e) {
			pr_err("mapping %s at %llx-%llx of a socket no descriptor holds, or not a "
			       "packet socket: not supported yet", path,
			       (unsigned long long)v->start, (unsigned long long)v->end);
			return -1;
		}
		if (v->pgoff || v->end - v->start != pk_ring_len(e->rx_ring) + pk_ring_len(e->tx_ring)) {
			pr_err("mapping %s at %llx-%llx: part of a packet ring mapping (offset %llu, "
			       "rings of %zu bytes): not supported yet", path,
			       (unsigned long long)v->start, (unsigned long long)v->end,
			       (unsigned long long)v->pgoff,
			       pk_ring_len(e->rx_ring) + pk_ring_len(e->tx_ring));
			return -1;
		}
		v->has_file_id = true;
		v->file_id = e->id;
	}
	return 0;
}

static int pk_write(struct dump_files *d, int dirfd)
{
	struct pk_dump *pd = d->priv[FD_KIND__FD_PACKET_SK];

	return pd ? fd_write_entries(dirfd, IMG_PACKET_SKS, pd->l.v, pd->l.nr) : 0;
}

static void pk_free(struct dump_files *d)
{
	struct pk_dump *pd = d->priv[FD_KIND__FD_PACKET_SK];
	size_t i;

	if (!pd)
		return;
	for (i = 0; i < pd->l.nr; i++)
		protobuf_c_message_free_unpacked(pd->l.v[i], NULL);
	free(pd->l.v);
	sk_diag_free(&pd->diag);
	free(pd);
	d->priv[FD_KIND__FD_PACKET_SK] = NULL;
}

/* ---- restore ------------------------------------------------------------------------- */

static const char *pk_bad_mc(const PacketSkEntry *e)
{
	size_t i;

	if (e->n_mclist > SK_PACKET_MC_MAX)
		return "too many memberships";
	for (i = 0; i < e->n_mclist; i++) {
		const PacketMc *m = e->mclist[i];

		if (!m->ifindex || m->ifindex > INT32_MAX || m->type > PK_MR_MAX ||
		    m->addr.len > SK_PACKET_ADDR_MAX || !m->count || m->count > PK_MC_COUNT_MAX)
			return "a membership out of range";
	}
	return NULL;
}

#define PK_RING_MAX	(1ULL << 32)	/* bytes of one ring restored */

static bool pk_bad_ring(const PacketRing *r)
{
	return r && (!r->block_size || !r->block_nr || !r->frame_size || !r->frame_nr ||
		     (uint64_t)r->block_size * r->block_nr > PK_RING_MAX ||
		     r->features > TP_FT_REQ_FILL_RXHASH);
}

static int pk_validate(const ProtobufCMessage *msg, uint32_t *id)
{
	const PacketSkEntry *e = (const PacketSkEntry *)msg;
	const char *bad = NULL;
	uint32_t f = e->fanout;

	if (e->type != SOCK_RAW && e->type != SOCK_DGRAM)
		bad = "type out of range";
	else if (e->protocol > 0xffff || e->ifindex > INT32_MAX)
		bad = "protocol or device out of range";
	else if (e->flags & ~(uint32_t)O_NONBLOCK)
		bad = "flags out of range";
	else if (e->has_fanout && (!e->protocol || ((f >> 16) & 0xff) > PK_FANOUT_TYPE_MAX ||
				   ((f >> 16) & PACKET_FANOUT_FLAG_UNIQUEID)))
		bad = "fanout out of range, or of a socket hooked to no protocol";
	else if (pk_bad_ring(e->rx_ring) || pk_bad_ring(e->tx_ring))
		bad = "a ring out of range";
	else
		bad = pk_bad_mc(e);
	if (bad) {
		pr_err("packet-sks.img: object %u: %s", e->id, bad);
		return -1;
	}
	if (sk_opts_check(e->opts, e->n_opts, "packet-sks.img", e->id))
		return -1;
	*id = e->id;
	return 0;
}

static int pk_has_dev(uint32_t id, uint32_t ifindex)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(ifindex, name))
		return 0;
	pr_perror("packet socket %u: no device of ifindex %u to bind to or join on", id,
		  ifindex);
	return -1;
}

/* sock_diag lists the newest first: joined oldest first, the list reads the same again. */
static int pk_join(int fd, const PacketSkEntry *e)
{
	size_t i;
	uint32_t n;

	for (i = e->n_mclist; i-- > 0;) {
		const PacketMc *m = e->mclist[i];
		struct {
			struct packet_mreq	mr;
			unsigned char		more[SK_PACKET_ADDR_MAX - 8];	/* packet_mreq_max */
		} r = { .mr = { .mr_ifindex = (int)m->ifindex, .mr_type = (unsigned short)m->type,
				.mr_alen = (unsigned short)m->addr.len } };
		socklen_t len = m->addr.len > sizeof(r.mr.mr_address) ? sizeof(r) : sizeof(r.mr);

		if (pk_has_dev(e->id, m->ifindex))
			return -1;
		memcpy(r.mr.mr_address, m->addr.data, m->addr.len);
		for (n = 0; n < m->count; n++)
			if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &r, len)) {
				pr_perror("packet socket %u: membership %u on ifindex %u", e->id,
					  m->type, m->ifindex);
				return -1;
			}
	}
	return 0;
}

/* One instruction, "return 0": every frame dropped until the socket is set up. */
static int pk_drop_all(int fd, bool on)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	int ret, zero = 0;

	if (on)
		ret = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	else
		ret = setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero));
	if (ret)
		pr_perror("packet socket: %s the drop-everything filter", on ? "attaching" : "detaching");
	return ret ? -1 : 0;
}

/* Frames that came in between socket() and the drop filter: gone, as during the downtime. */
static void pk_drain(int fd)
{
	char b;

	while (recv(fd, &b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
}

static bool pk_has_filter(const PacketSkEntry *e)
{
	size_t i;

	for (i = 0; i < e->n_opts; i++)
		if (e->opts[i]->opt == ((uint32_t)SOL_SOCKET << 16 | SO_GET_FILTER))
			return true;
	return false;
}

/* Device, protocol and fanout read back: what bind() and PACKET_FANOUT made is the dump's. */
static int pk_verify(int fd, const PacketSkEntry *e)
{
	struct sockaddr_ll a;
	socklen_t len = sizeof(a), flen = sizeof(uint32_t);
	uint32_t fanout = 0;

	if (getsockname(fd, (struct sockaddr *)&a, &len) ||
	    getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout, &flen)) {
		pr_perror("packet socket %u: reading device and fanout back", e->id);
		return -1;
	}
	if ((uint32_t)a.sll_ifindex != e->ifindex || a.sll_protocol != e->protocol ||
	    fanout != (e->has_fanout ? e->fanout : 0)) {
		pr_err("packet socket %u: ifindex %d, protocol %#x, fanout %#x after restore, the "
		       "dump had %u, %#x, %#x", e->id, a.sll_ifindex, a.sll_protocol, fanout,
		       e->ifindex, e->protocol, e->fanout);
		return -1;
	}
	return 0;
}

static int pk_bind(int fd, const PacketSkEntry *e)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = (uint16_t)e->protocol,
				 .sll_ifindex = (int)e->ifindex };

	if (!e->ifindex)
		return 0;
	if (pk_has_dev(e->id, e->ifindex))
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		pr_perror("packet socket %u: bind to ifindex %u, protocol %#x", e->id, e->ifindex,
			  e->protocol);
		return -1;
	}
	return 0;
}

static int pk_set_ring(int fd, const PacketSkEntry *e, const PacketRing *r, int opt)
{
	struct tpacket_req3 q;
	int version = 0;
	socklen_t len = sizeof(version);

	if (!r)
		return 0;
	q = (struct tpacket_req3){
		.tp_block_size = r->block_size, .tp_block_nr = r->block_nr,
		.tp_frame_size = r->frame_size, .tp_frame_nr = r->frame_nr,
		.tp_retire_blk_tov = r->retire_tmo, .tp_sizeof_priv = r->sizeof_priv,
		.tp_feature_req_word = r->features,
	};
	if (getsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, &len)) {
		pr_perror("packet socket %u: PACKET_VERSION", e->id);
		return -1;
	}
	if (version != TPACKET_V3 && (r->retire_tmo || r->sizeof_priv || r->features)) {
		pr_err("packet-sks.img: object %u: a TPACKET_V3 ring on a socket of version %d",
		       e->id, version);
		return -1;
	}
	len = version == TPACKET_V3 ? sizeof(q) : sizeof(struct tpacket_req);
	if (setsockopt(fd, SOL_PACKET, opt, &q, len)) {
		pr_perror("packet socket %u: %s of %u blocks of %u bytes, %u frames of %u", e->id,
			  opt == PACKET_RX_RING ? "PACKET_RX_RING" : "PACKET_TX_RING", r->block_nr,
			  r->block_size, r->frame_nr, r->frame_size);
		return -1;
	}
	return 0;
}

static int pk_setup(int fd, const PacketSkEntry *e)
{
	int thresh = (int)e->copy_thresh;
	bool hooked = e->protocol != 0;	/* receives from socket() on */

	if ((hooked && pk_drop_all(fd, true)) || sk_opts_restore(fd, e->opts, e->n_opts, false))
		return -1;
	if (thresh && setsockopt(fd, SOL_PACKET, PACKET_COPY_THRESH, &thresh, sizeof(thresh))) {
		pr_perror("packet socket %u: PACKET_COPY_THRESH", e->id);
		return -1;
	}
	if (pk_set_ring(fd, e, e->rx_ring, PACKET_RX_RING) ||
	    pk_set_ring(fd, e, e->tx_ring, PACKET_TX_RING) || pk_bind(fd, e) || pk_join(fd, e))
		return -1;
	if (e->has_fanout &&
	    setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &e->fanout, sizeof(e->fanout))) {
		pr_perror("packet socket %u: joining fanout group %u (type %u, flags %#x)", e->id,
			  e->fanout & 0xffff, (e->fanout >> 16) & 0xff, (e->fanout >> 16) & PK_FANOUT_FLAGS);
		return -1;
	}
	pk_drain(fd);
	if (hooked && !pk_has_filter(e) && pk_drop_all(fd, false))
		return -1;
	/* the dumped filter replaces the drop filter in one step */
	if (sk_opts_restore(fd, e->opts, e->n_opts, true) || pk_verify(fd, e))
		return -1;
	return sk_set_flags(fd, e->flags);
}

static int pk_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const PacketSkEntry *e = (const PacketSkEntry *)o->e;
	int fd;

	(void)r;
	(void)opt;
	fd = socket(AF_PACKET, (int)e->type | SOCK_CLOEXEC, (int)e->protocol);
	if (fd < 0) {
		pr_perror("packet socket %u: socket (%s, protocol %#x)", e->id,
			  sk_type_str(e->type), e->protocol);
		return -1;
	}
	if (pk_setup(fd, e)) {
		close(fd);
		return -1;
	}
	return fd;
}

const struct fd_ops fd_packet_sk_ops = {
	.kind = FD_KIND__FD_PACKET_SK, .name = "packet socket", .img = IMG_PACKET_SKS,
	.match = pk_match, .dump = pk_dump, .write = pk_write, .free = pk_free,
	.validate = pk_validate, .open = pk_open,
};
