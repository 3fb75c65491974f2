/*
 * nftables messages over NETLINK_NETFILTER, built by hand: one batch per
 * change (begin, the nf_tables messages, end), committed by the kernel as
 * one transaction. Only what the network lock needs: tables of family inet,
 * hash sets and their elements, base chains, rules of meta/payload/cmp/
 * lookup/immediate expressions, table deletion and a dump of the table
 * names. See criu/include/net-lock-nft.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#define LOG_PREFIX "net-lock: "
#include "log.h"
#include "net-lock-nft.h"

#define NFT_TYPE(cmd)	((NFNL_SUBSYS_NFTABLES << 8) | (cmd))
#define NL_TIMEOUT_S	5
#define NL_RCVBUF	16384	/* acks */
#define NL_DUMPBUF	(64 * 1024)	/* one dump answer */

/* ---- the message buffer ------------------------------------------------------------ */

/* Sequence numbers never repeat within a process: a late answer is never taken for a new one. */
static uint32_t nl_seq;

static void *nlb_room(struct nlb *b, size_t n)
{
	void *r;

	n = NLMSG_ALIGN(n);
	if (b->oom)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	r = b->p + b->len;
	memset(r, 0, n);
	b->len += n;
	return r;
}

static void nlb_close_msg(struct nlb *b)
{
	if (b->open && !b->oom)
		((struct nlmsghdr *)(b->p + b->msg))->nlmsg_len = (uint32_t)(b->len - b->msg);
	b->open = false;
}

static void nlb_msg(struct nlb *b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id)
{
	size_t off = b->len;
	struct nlmsghdr *h;
	struct nfgenmsg *g;

	nlb_close_msg(b);
	h = nlb_room(b, NLMSG_HDRLEN + sizeof(*g));
	if (!h)
		return;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = b->seq = ++nl_seq;
	g = NLMSG_DATA(h);
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	b->msg = off;
	b->open = true;
}

void nlb_attr(struct nlb *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = nlb_room(b, NLA_HDRLEN + len);

	if (!a)
		return;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
}

void nlb_be32(struct nlb *b, uint16_t type, uint32_t v)
{
	v = htonl(v);
	nlb_attr(b, type, &v, sizeof(v));
}

void nlb_str(struct nlb *b, uint16_t type, const char *s)
{
	nlb_attr(b, type, s, strlen(s) + 1);
}

size_t nlb_nest(struct nlb *b, uint16_t type)
{
	size_t off = b->len;
	struct nlattr *a = nlb_room(b, NLA_HDRLEN);

	if (a)
		a->nla_type = type | NLA_F_NESTED;
	return off;
}

void nlb_nest_end(struct nlb *b, size_t off)
{
	if (!b->oom)
		((struct nlattr *)(b->p + off))->nla_len = (uint16_t)(b->len - off);
}

void nlb_free(struct nlb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- batches ------------------------------------------------------------------------ */

void nft_batch_begin(struct nlb *b)
{
	nlb_msg(b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
}

/*
 * Only the last message asks for an ack: the kernel answers an error for a
 * message that failed, so one ack per rule would only fill the socket's
 * receive buffer.
 */
void nft_batch_end(struct nlb *b)
{
	if (b->last && !b->oom)
		((struct nlmsghdr *)(b->p + b->last_off))->nlmsg_flags |= NLM_F_ACK;
	nlb_msg(b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	nlb_close_msg(b);
}

void nft_msg(struct nlb *b, uint16_t cmd, uint16_t flags)
{
	size_t off = b->len;

	nlb_msg(b, NFT_TYPE(cmd), flags, NFPROTO_INET, 0);
	b->last = b->seq;
	b->last_off = off;
}

void nft_table(struct nlb *b, uint16_t cmd, const char *name, uint32_t flags)
{
	nft_msg(b, cmd, cmd == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	nlb_str(b, NFTA_TABLE_NAME, name);
	if (cmd == NFT_MSG_NEWTABLE)
		nlb_be32(b, NFTA_TABLE_FLAGS, flags);
}

void nft_chain(struct nlb *b, const char *table, const char *chain, uint32_t hook, int prio)
{
	size_t h;

	nft_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nlb_str(b, NFTA_CHAIN_TABLE, table);
	nlb_str(b, NFTA_CHAIN_NAME, chain);
	h = nlb_nest(b, NFTA_CHAIN_HOOK);
	nlb_be32(b, NFTA_HOOK_HOOKNUM, hook);
	nlb_be32(b, NFTA_HOOK_PRIORITY, (uint32_t)prio);
	nlb_nest_end(b, h);
	nlb_be32(b, NFTA_CHAIN_POLICY, NF_ACCEPT);
	nlb_str(b, NFTA_CHAIN_TYPE, "filter");
}

void nft_flush_chain(struct nlb *b, const char *table, const char *chain)
{
	nft_msg(b, NFT_MSG_DELRULE, 0);
	nlb_str(b, NFTA_RULE_TABLE, table);
	nlb_str(b, NFTA_RULE_CHAIN, chain);
}

/* ---- expressions -------------------------------------------------------------------- */

static size_t expr_begin(struct nlb *b, const char *name, size_t *data)
{
	size_t e = nlb_nest(b, NFTA_LIST_ELEM);

	nlb_str(b, NFTA_EXPR_NAME, name);
	*data = nlb_nest(b, NFTA_EXPR_DATA);
	return e;
}

static void expr_end(struct nlb *b, size_t e, size_t data)
{
	nlb_nest_end(b, data);
	nlb_nest_end(b, e);
}

static void expr_meta(struct nlb *b, uint32_t key)
{
	size_t d, e = expr_begin(b, "meta", &d);

	nlb_be32(b, NFTA_META_DREG, NFT_REG_1);
	nlb_be32(b, NFTA_META_KEY, key);
	expr_end(b, e, d);
}

static void expr_payload(struct nlb *b, uint32_t dreg, uint32_t base, uint32_t off, uint32_t len)
{
	size_t d, e = expr_begin(b, "payload", &d);

	nlb_be32(b, NFTA_PAYLOAD_DREG, dreg);
	nlb_be32(b, NFTA_PAYLOAD_BASE, base);
	nlb_be32(b, NFTA_PAYLOAD_OFFSET, off);
	nlb_be32(b, NFTA_PAYLOAD_LEN, len);
	expr_end(b, e, d);
}

static void expr_cmp_eq(struct nlb *b, const void *val, size_t len)
{
	size_t v, d, e = expr_begin(b, "cmp", &d);

	nlb_be32(b, NFTA_CMP_SREG, NFT_REG_1);
	nlb_be32(b, NFTA_CMP_OP, NFT_CMP_EQ);
	v = nlb_nest(b, NFTA_CMP_DATA);
	nlb_attr(b, NFTA_DATA_VALUE, val, len);
	nlb_nest_end(b, v);
	expr_end(b, e, d);
}

static void expr_lookup(struct nlb *b, const char *set, uint32_t set_id)
{
	size_t d, e = expr_begin(b, "lookup", &d);

	nlb_str(b, NFTA_LOOKUP_SET, set);
	nlb_be32(b, NFTA_LOOKUP_SET_ID, set_id);
	nlb_be32(b, NFTA_LOOKUP_SREG, NFT_REG_1);
	expr_end(b, e, d);
}

static void expr_drop(struct nlb *b)
{
	size_t v, verdict, d, e = expr_begin(b, "immediate", &d);

	nlb_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	v = nlb_nest(b, NFTA_IMMEDIATE_DATA);
	verdict = nlb_nest(b, NFTA_DATA_VERDICT);
	nlb_be32(b, NFTA_VERDICT_CODE, NF_DROP);
	nlb_nest_end(b, verdict);
	nlb_nest_end(b, v);
	expr_end(b, e, d);
}

/* ---- sets of connections --------------------------------------------------------------- */

void nft_set(struct nlb *b, const char *table, bool v6)
{
	nft_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	nlb_str(b, NFTA_SET_TABLE, table);
	nlb_str(b, NFTA_SET_NAME, v6 ? NFT_SET_V6 : NFT_SET_V4);
	nlb_be32(b, NFTA_SET_KEY_LEN, v6 ? NFT_KEY_V6 : NFT_KEY_V4);
	nlb_be32(b, NFTA_SET_ID, v6 ? 2 : 1);
}

void nft_flush_set(struct nlb *b, const char *table, bool v6)
{
	nft_msg(b, NFT_MSG_DELSETELEM, 0);
	nlb_str(b, NFTA_SET_ELEM_LIST_TABLE, table);
	nlb_str(b, NFTA_SET_ELEM_LIST_SET, v6 ? NFT_SET_V6 : NFT_SET_V4);
}

/* At most NFT_ELEMS_MSG keys per message: a nest's length is 16 bits. */
void nft_add_keys(struct nlb *b, const char *table, bool v6, const uint8_t *keys, size_t nr)
{
	size_t klen = v6 ? NFT_KEY_V6 : NFT_KEY_V4, i, list = 0;

	for (i = 0; i < nr; i++) {
		size_t el, k;

		if (i % NFT_ELEMS_MSG == 0) {
			if (i)
				nlb_nest_end(b, list);
			nft_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
			nlb_str(b, NFTA_SET_ELEM_LIST_TABLE, table);
			nlb_str(b, NFTA_SET_ELEM_LIST_SET, v6 ? NFT_SET_V6 : NFT_SET_V4);
			nlb_be32(b, NFTA_SET_ELEM_LIST_SET_ID, v6 ? 2 : 1);
			list = nlb_nest(b, NFTA_SET_ELEM_LIST_ELEMENTS);
		}
		el = nlb_nest(b, NFTA_LIST_ELEM);
		k = nlb_nest(b, NFTA_SET_ELEM_KEY);
		nlb_attr(b, NFTA_DATA_VALUE, keys + i * klen, klen);
		nlb_nest_end(b, k);
		nlb_nest_end(b, el);
	}
	if (nr)
		nlb_nest_end(b, list);
}

/*
 * "meta nfproto V meta l4proto tcp
 *  ip(6) saddr . ip(6) daddr . tcp sport,dport @SET drop": the key is the
 * two addresses (next to each other in both IP headers) and the two ports
 * (the first 4 bytes of the TCP header), loaded into consecutive registers
 * with no padding; see nft_conn_key().
 */
void nft_lookup_rule(struct nlb *b, const char *table, const char *chain, bool v6)
{
	uint8_t nfproto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4, tcp = IPPROTO_TCP;
	uint32_t alen = v6 ? 16 : 4;
	size_t l;

	nft_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nlb_str(b, NFTA_RULE_TABLE, table);
	nlb_str(b, NFTA_RULE_CHAIN, chain);
	l = nlb_nest(b, NFTA_RULE_EXPRESSIONS);
	expr_meta(b, NFT_META_NFPROTO);
	expr_cmp_eq(b, &nfproto, 1);
	expr_meta(b, NFT_META_L4PROTO);
	expr_cmp_eq(b, &tcp, 1);
	/* saddr is at 12 in struct iphdr, at 8 in struct ipv6hdr; daddr follows */
	expr_payload(b, NFT_REG_1, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, 2 * alen);
	expr_payload(b, NFT_REG32_00 + 2 * alen / 4, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4);
	expr_lookup(b, v6 ? NFT_SET_V6 : NFT_SET_V4, v6 ? 2 : 1);
	expr_drop(b);
	nlb_nest_end(b, l);
}

size_t nft_conn_key(uint8_t *key, bool v6, const uint8_t *from, const uint8_t *to,
		    uint16_t pfrom, uint16_t pto)
{
	size_t alen = v6 ? 16 : 4;
	uint16_t ports[2] = { htons(pfrom), htons(pto) };

	memcpy(key, from, alen);
	memcpy(key + alen, to, alen);
	memcpy(key + 2 * alen, ports, sizeof(ports));
	return 2 * alen + sizeof(ports);
}

/* ---- talking to the kernel ---------------------------------------------------------- */

int nft_socket(void)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	int fd, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* acks without a copy of the request: a small buffer holds them */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

/* 1: the answer to @last came, 0: read on, -1: an error (errno). */
static int walk_acks(const char *buf, size_t n, uint32_t last, int *err)
{
	const struct nlmsghdr *h;
	size_t off = 0;

	while (off + NLMSG_HDRLEN <= n) {
		h = (const struct nlmsghdr *)(buf + off);
		if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > n - off)
			break;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			int code = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : EPROTO;

			if (code && !*err)
				*err = code;
			if (code || h->nlmsg_seq == last)
				return 1;
		}
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	return 0;
}

int nft_commit_on(int fd, const struct nlb *b)
{
	char buf[NL_RCVBUF] __attribute__((aligned(8)));
	int err = 0, done = 0, sz;
	ssize_t n;

	if (b->oom) {
		errno = ENOMEM;
		return -1;
	}
	/* what an earlier failed batch left unread */
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	sz = (int)b->len * 2;
	if (b->len > 65536)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if (send(fd, b->p, b->len, 0) != (ssize_t)b->len)
		err = errno ? errno : EMSGSIZE;
	while (!err && !done) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			err = n < 0 ? errno : EPROTO;
			break;
		}
		done = walk_acks(buf, (size_t)n, b->last, &err);
	}
	errno = err;
	return err ? -1 : 0;
}

int nft_commit(const struct nlb *b)
{
	int fd = nft_socket(), ret, err;

	if (fd < 0)
		return -1;
	ret = nft_commit_on(fd, b);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

/* ---- listing tables ----------------------------------------------------------------- */

int nft_table_attrs(const struct nlmsghdr *h, char *name, size_t len, uint32_t *flags)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	bool named = false;

	*flags = 0;
	while (off + NLA_HDRLEN <= h->nlmsg_len) {
		const struct nlattr *a = (const void *)((const char *)h + off);
		const char *p = (const char *)a + NLA_HDRLEN;
		size_t alen = a->nla_len, plen = alen - NLA_HDRLEN, slen;

		if (alen < NLA_HDRLEN || alen > h->nlmsg_len - off)
			return -1;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NFTA_TABLE_NAME:
			slen = strnlen(p, plen);
			if (slen >= len)
				return -1;
			memcpy(name, p, slen);
			name[slen] = '\0';
			named = true;
			break;
		case NFTA_TABLE_FLAGS:
			if (plen < sizeof(*flags))
				return -1;
			memcpy(flags, p, sizeof(*flags));
			*flags = ntohl(*flags);
			break;
		}
		off += NLA_ALIGN(alen);
	}
	return named ? 0 : -1;
}

/* 1 at the end of the dump, 0 read on, -1 with errno. */
static int walk_tables(const char *buf, size_t n, nft_table_fn fn, void *arg)
{
	char name[NFT_TABLE_MAXNAMELEN];
	uint32_t flags;
	size_t off = 0;

	while (off + NLMSG_HDRLEN <= n) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);

		if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > n - off)
			break;
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			errno = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : EPROTO;
			return -1;
		}
		if (h->nlmsg_type == NFT_TYPE(NFT_MSG_NEWTABLE) &&
		    !nft_table_attrs(h, name, sizeof(name), &flags) && fn(name, flags, arg))
			return -1;
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	return 0;
}

int nft_list_tables(nft_table_fn fn, void *arg)
{
	struct { struct nlmsghdr h; struct nfgenmsg g; } req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = NFT_TYPE(NFT_MSG_GETTABLE),
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.g = { .nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0 },
	};
	char *buf;
	int fd, ret = 0;
	ssize_t n;

	fd = nft_socket();
	if (fd < 0)
		return -1;
	buf = malloc(NL_DUMPBUF);
	if (!buf || send(fd, &req, sizeof(req), 0) != sizeof(req))
		ret = -1;
	while (!ret) {
		n = recv(fd, buf, NL_DUMPBUF, 0);
		if (n <= 0) {
			if (!n)
				errno = EPROTO;
			ret = -1;
			break;
		}
		ret = walk_tables(buf, (size_t)n, fn, arg);
	}
	free(buf);
	close(fd);
	return ret < 0 ? -1 : 0;
}
