/*
 * nftables over NETLINK_NETFILTER, by hand (criu/net-lock-nft.c): what the
 * network lock (criu/net-lock.c) needs and nothing more.
 *   1. struct nlb b = { 0 }; nft_batch_begin(&b);
 *   2. nft_table(), nft_set(), nft_chain(), nft_lookup_rule(), nft_add_keys() ...
 *   3. nft_batch_end(&b); nft_commit(&b) (one transaction: all or nothing)
 *   4. nlb_free(&b)
 * A failed allocation is remembered in the buffer and reported by
 * nft_commit(). nft_commit() and nft_list_tables() return 0 or -1 with
 * errno and log nothing: the caller says what it was doing.
 */
#ifndef CRIU_NET_LOCK_NFT_H
#define CRIU_NET_LOCK_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlb {
	char		*p;
	size_t		len, cap;
	size_t		msg;		/* offset of the open message */
	size_t		last_off;	/* offset of the last nf_tables message */
	bool		open, oom;
	uint32_t	seq, last;	/* last: the message whose ack ends the batch */
};

/*
 * The table's two sets of connection keys: the addresses and ports of one
 * direction, IPv4 (12 bytes) or IPv6 (36 bytes), as nft_conn_key() writes
 * them. Keys per NFT_MSG_NEWSETELEM message: its element list is a nest
 * whose length must fit 16 bits.
 */
#define NFT_SET_V4	"v4"
#define NFT_SET_V6	"v6"
#define NFT_KEY_V4	12
#define NFT_KEY_V6	36
#define NFT_ELEMS_MSG	500

void nlb_attr(struct nlb *b, uint16_t type, const void *data, size_t len);
void nlb_be32(struct nlb *b, uint16_t type, uint32_t v);
void nlb_str(struct nlb *b, uint16_t type, const char *s);
size_t nlb_nest(struct nlb *b, uint16_t type);
void nlb_nest_end(struct nlb *b, size_t off);
void nlb_free(struct nlb *b);

void nft_batch_begin(struct nlb *b);
void nft_batch_end(struct nlb *b);
void nft_msg(struct nlb *b, uint16_t cmd, uint16_t flags);
/*
 * NFT_MSG_NEWTABLE (created if absent, with NFT_TABLE_F_* @flags) or
 * NFT_MSG_DELTABLE (@flags unused), family inet.
 */
void nft_table(struct nlb *b, uint16_t cmd, const char *name, uint32_t flags);
/* A filter base chain on @hook at @prio, policy accept (created if absent). */
void nft_chain(struct nlb *b, const char *table, const char *chain, uint32_t hook, int prio);
/* Remove every rule of a chain. */
void nft_flush_chain(struct nlb *b, const char *table, const char *chain);
/* The set of IPv4 (IPv6 if @v6) keys (created if absent), and its emptying. */
void nft_set(struct nlb *b, const char *table, bool v6);
void nft_flush_set(struct nlb *b, const char *table, bool v6);
/* Add @nr keys of the family's length, one after the other at @keys. */
void nft_add_keys(struct nlb *b, const char *table, bool v6, const uint8_t *keys, size_t nr);
/* Drop the TCP packets of the family whose key is in its set. */
void nft_lookup_rule(struct nlb *b, const char *table, const char *chain, bool v6);
/* The key of packets FROM:PFROM -> TO:PTO (ports host order); returns its length. */
size_t nft_conn_key(uint8_t *key, bool v6, const uint8_t *from, const uint8_t *to,
		    uint16_t pfrom, uint16_t pto);

/* A NETLINK_NETFILTER socket with a receive timeout; -1 with errno. */
int nft_socket(void);
/* On a fresh socket, or on @fd (the owner of an NFT_TABLE_F_OWNER table). */
int nft_commit(const struct nlb *b);
int nft_commit_on(int fd, const struct nlb *b);

/*
 * The name (required, shorter than @len) and flags (0 if absent) of one
 * NFT_MSG_NEWTABLE answer; -1 if malformed. Bounded by h->nlmsg_len, which
 * the caller has checked against what it received.
 */
struct nlmsghdr;
int nft_table_attrs(const struct nlmsghdr *h, char *name, size_t len, uint32_t *flags);

/* Call @fn for every inet table (NFT_TABLE_F_* @flags); a non-zero return stops it (-1). */
typedef int (*nft_table_fn)(const char *name, uint32_t flags, void *arg);
int nft_list_tables(nft_table_fn fn, void *arg);

#endif /* CRIU_NET_LOCK_NFT_H */
